// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"

int prefix_parse(const char *s, struct nbh_prefix *p)
{
	char buf[64], *slash, *end;
	unsigned long len;
	int max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(p, 0, sizeof(*p));
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, &p->a.v4) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, &p->a.v6) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	len = max;
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || !slash[1] || *end || len > (unsigned long)max)
			return -1;
	}
	p->len = len;
	/* canonical: host bits must be zero */
	for (int bit = len; bit < max; bit++)
		if (p->a.raw[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	return 0;
}

const char *prefix_fmt(const struct nbh_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, &p->a, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->len);
	return buf;
}

int prefix_eq(const struct nbh_prefix *a, const struct nbh_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(&a->a, &b->a, a->family == AF_INET ? 4 : 16);
}

int sockaddr_parse(const char *s, union nbh_sockaddr *sa)
{
	char buf[80], *host, *port, *end;
	unsigned long n;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(sa, 0, sizeof(*sa));
	if (buf[0] == '[') {
		host = buf + 1;
		port = strchr(host, ']');
		if (!port || port[1] != ':')
			return -1;
		*port = 0;
		port += 2;
	} else {
		host = buf;
		port = strrchr(buf, ':');
		if (!port)
			return -1;
		*port++ = 0;
	}
	errno = 0;
	n = strtoul(port, &end, 10);
	if (errno || !*port || *end || !n || n > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(n);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(n);
		return 0;
	}
	return -1;
}

const char *sockaddr_fmt(const union nbh_sockaddr *sa, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sa->in.sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(sa->in.sin_port));
	} else if (sa->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->in6.sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(sa->in6.sin6_port));
	} else {
		snprintf(buf, size, "(none)");
	}
	return buf;
}

int sockaddr_eq(const union nbh_sockaddr *a, const union nbh_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	return 1;
}

socklen_t sockaddr_len(const union nbh_sockaddr *sa)
{
	return sa->sa.sa_family == AF_INET6 ? sizeof(sa->in6) : sizeof(sa->in);
}
