/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBH_TYPES_H
#define NBH_TYPES_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address prefix, address in network order, host bits zero. */
struct nbh_prefix {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t raw[16];
	} a;
};

union nbh_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

int prefix_parse(const char *s, struct nbh_prefix *p);
/* buf of at least 52 bytes */
const char *prefix_fmt(const struct nbh_prefix *p, char *buf, size_t size);
int prefix_eq(const struct nbh_prefix *a, const struct nbh_prefix *b);

/* "1.2.3.4:51820" or "[fd00::1]:51820" */
int sockaddr_parse(const char *s, union nbh_sockaddr *sa);
const char *sockaddr_fmt(const union nbh_sockaddr *sa, char *buf, size_t size);
int sockaddr_eq(const union nbh_sockaddr *a, const union nbh_sockaddr *b);
socklen_t sockaddr_len(const union nbh_sockaddr *sa);

#endif
