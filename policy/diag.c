// SPDX-License-Identifier: GPL-2.0
/* Diagnostics, a string index, and address/protocol helpers. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "policy/internal.h"

void nbp_diag_init(struct nbp_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void nbp_diag_free(struct nbp_diag *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->msgs[i].file);
		free(d->msgs[i].text);
	}
	free(d->msgs);
	nbp_diag_init(d);
}

void nbp_diag_vadd(struct nbp_diag *d, enum nbp_severity sev,
		   const char *file, unsigned int line, unsigned int col,
		   const char *fmt, va_list ap)
{
	struct nbp_msg *m;

	if (!d)
		return;
	if (sev == NBP_SEV_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	/* Bound the list: a hostile file must not make us store millions. */
	if (d->n >= 1000)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct nbp_msg *msgs = realloc(d->msgs, cap * sizeof(*msgs));

		if (!msgs)
			return;
		d->msgs = msgs;
		d->cap = cap;
	}
	m = &d->msgs[d->n];
	m->sev = sev;
	m->file = strdup(file ? file : "");
	m->line = line;
	m->col = col;
	if (vasprintf(&m->text, fmt, ap) < 0)
		m->text = NULL;
	if (!m->file || !m->text) {
		free(m->file);
		free(m->text);
		return;
	}
	d->n++;
}

void nbp_diag_add(struct nbp_diag *d, enum nbp_severity sev,
		  const char *file, unsigned int line, unsigned int col,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nbp_diag_vadd(d, sev, file, line, col, fmt, ap);
	va_end(ap);
}

void nbp_diag_print(const struct nbp_diag *d, FILE *f)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct nbp_msg *m = &d->msgs[i];
		const char *sev = m->sev == NBP_SEV_ERROR ? "error" : "warning";

		if (m->line)
			fprintf(f, "%s:%u:%u: %s: %s\n", m->file, m->line,
				m->col, sev, m->text);
		else
			fprintf(f, "%s: %s: %s\n", m->file, sev, m->text);
	}
	if (d->n_errors + d->n_warnings > d->n)
		fprintf(f, "(%zu more messages not shown)\n",
			(size_t)(d->n_errors + d->n_warnings) - d->n);
}

/* ---- string index --------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int index_grow(struct nbp_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64, i;
	const char **keys = calloc(cap, sizeof(*keys));
	int *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (i = 0; i < ix->cap; i++) {
		size_t j;

		if (!ix->keys[i])
			continue;
		j = hash_str(ix->keys[i]) & (cap - 1);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = ix->keys[i];
		vals[j] = ix->vals[i];
	}
	free(ix->keys);
	free(ix->vals);
	ix->keys = keys;
	ix->vals = vals;
	ix->cap = cap;
	return 0;
}

/* Returns 0, 1 if the key already exists (not replaced), -1 on ENOMEM. */
int nbp_index_put(struct nbp_index *ix, const char *key, int val)
{
	size_t j;

	if (nbp_index_get(ix, key) >= 0)
		return 1;
	if ((ix->n + 1) * 2 > ix->cap && index_grow(ix))
		return -1;
	j = hash_str(key) & (ix->cap - 1);
	while (ix->keys[j])
		j = (j + 1) & (ix->cap - 1);
	ix->keys[j] = key;
	ix->vals[j] = val;
	ix->n++;
	return 0;
}

int nbp_index_get(const struct nbp_index *ix, const char *key)
{
	size_t j;

	if (!ix->cap)
		return -1;
	j = hash_str(key) & (ix->cap - 1);
	while (ix->keys[j]) {
		if (!strcmp(ix->keys[j], key))
			return ix->vals[j];
		j = (j + 1) & (ix->cap - 1);
	}
	return -1;
}

void nbp_index_free(struct nbp_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	memset(ix, 0, sizeof(*ix));
}

/* ---- addresses ------------------------------------------------------ */

int nbp_addr_parse(const char *s, struct nbp_addr *a)
{
	char buf[64], *slash, *end;
	unsigned long len;
	unsigned int max, i;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(a, 0, sizeof(*a));
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	if (slash) {
		if (*slash < '0' || *slash > '9')
			return -1;
		len = strtoul(slash, &end, 10);
		if (*end || len > max || end - slash > 3)
			return -1;
	} else {
		len = max;
	}
	a->len = len;
	/* Host bits must be zero: "10.0.0.1/8" is almost always a typo. */
	for (i = len; i < max; i++)
		if (a->addr[i / 8] & (0x80 >> (i % 8)))
			return -2;
	return 0;
}

const char *nbp_addr_str(const struct nbp_addr *a, char *buf, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, tmp, sizeof(tmp)))
		strcpy(tmp, "?");
	snprintf(buf, n, "%s/%u", tmp, a->len);
	return buf;
}

bool nbp_addr_contains(const struct nbp_addr *pfx, const struct nbp_addr *a)
{
	unsigned int full, rem;

	if (pfx->family != a->family || a->len < pfx->len)
		return false;
	full = pfx->len / 8;
	rem = pfx->len % 8;
	if (memcmp(pfx->addr, a->addr, full))
		return false;
	if (rem) {
		uint8_t mask = 0xff << (8 - rem);

		if ((pfx->addr[full] & mask) != (a->addr[full] & mask))
			return false;
	}
	return true;
}

bool nbp_addr_host(const struct nbp_addr *a)
{
	return a->len == (a->family == AF_INET ? 32 : 128);
}

int nbp_addr_cmp(const struct nbp_addr *a, const struct nbp_addr *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, 16);
	if (c)
		return c;
	return (int)a->len - (int)b->len;
}

static const struct {
	const char *name;
	uint8_t num;
} protos[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 },
	{ "sctp", 132 }, { "udplite", 136 },
};

bool nbp_proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

/* 0, or -1 for an unknown name / number out of range. */
int nbp_proto_parse(const char *s, bool *any, uint8_t *proto)
{
	size_t i;
	char *end;
	unsigned long v;

	*any = false;
	if (!strcmp(s, "all") || !strcmp(s, "any")) {
		*any = true;
		return 0;
	}
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(s, protos[i].name)) {
			*proto = protos[i].num;
			return 0;
		}
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > 255 || end - s > 3)
		return -1;
	*proto = v;
	return 0;
}

const char *nbp_proto_name(uint8_t proto)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return NULL;
}
