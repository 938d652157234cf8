// SPDX-License-Identifier: GPL-2.0
/*
 * Ruleset description helpers: growing, freeing, sorting, comparing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "lib/desc.h"

size_t nbg_desc_cap(size_t n)
{
	size_t c = 4;

	if (!n)
		return 0;
	while (c < n)
		c <<= 1;
	return c;
}

/* Make room for one more element in an array of *n elements of @size. */
static int grow(void **arr, u32 n, size_t size)
{
	size_t cap = nbg_desc_cap(n);
	void *p;

	if (n < cap)
		return 0;
	if (n >= UINT32_MAX)
		return -ENOMEM;
	cap = cap ? cap * 2 : 4;
	p = realloc(*arr, cap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

void nbg_desc_init(struct nbg_ruleset_desc *d)
{
	memset(d, 0, sizeof(*d));
}

void nbg_selector_free(struct nbg_selector *s)
{
	free(s->idents);
	free(s->groups);
	free(s->prefixes);
	s->idents = s->groups = NULL;
	s->prefixes = NULL;
	s->n_idents = s->n_groups = s->n_prefixes = 0;
}

void nbg_ident_free(struct nbg_ident_desc *i)
{
	free(i->groups);
	free(i->prefixes);
	i->groups = NULL;
	i->prefixes = NULL;
	i->n_groups = i->n_prefixes = 0;
}

void nbg_rule_free(struct nbg_rule_desc *r)
{
	nbg_selector_free(&r->src);
	nbg_selector_free(&r->dst);
	free(r->ports);
	r->ports = NULL;
	r->n_ports = 0;
}

void nbg_desc_free(struct nbg_ruleset_desc *d)
{
	u32 k;

	for (k = 0; k < d->n_idents; k++)
		nbg_ident_free(&d->idents[k]);
	for (k = 0; k < d->n_rules; k++)
		nbg_rule_free(&d->rules[k]);
	free(d->idents);
	free(d->rules);
	nbg_desc_init(d);
}

struct nbg_ident_desc *nbg_desc_add_ident(struct nbg_ruleset_desc *d)
{
	struct nbg_ident_desc *i;

	if (grow((void **)&d->idents, d->n_idents, sizeof(*d->idents)))
		return NULL;
	i = &d->idents[d->n_idents++];
	memset(i, 0, sizeof(*i));
	return i;
}

struct nbg_rule_desc *nbg_desc_add_rule(struct nbg_ruleset_desc *d)
{
	struct nbg_rule_desc *r;

	if (grow((void **)&d->rules, d->n_rules, sizeof(*d->rules)))
		return NULL;
	r = &d->rules[d->n_rules++];
	memset(r, 0, sizeof(*r));
	r->action = NBG_ACTION_ALLOW;
	r->direction = NBG_DIR_IN;
	r->proto_any = true;
	r->src.any = true;
	r->dst.any = true;
	return r;
}

int nbg_ident_add_prefix(struct nbg_ident_desc *i, const struct nbg_prefix *p)
{
	if (grow((void **)&i->prefixes, i->n_prefixes, sizeof(*p)))
		return -ENOMEM;
	i->prefixes[i->n_prefixes++] = *p;
	return 0;
}

int nbg_ident_add_group(struct nbg_ident_desc *i, u32 gid)
{
	if (grow((void **)&i->groups, i->n_groups, sizeof(gid)))
		return -ENOMEM;
	i->groups[i->n_groups++] = gid;
	return 0;
}

/*
 * A fresh selector is any=true with no items ("absent means any"). The
 * first item turns it into a union of items, unless it was explicitly set
 * to any, which we recognise by any=true together with ... nothing: so we
 * keep "explicit any" as a separate state in the parser instead, and here
 * an item simply makes the selector specific.
 */
static void sel_specific(struct nbg_selector *s)
{
	s->any = false;
}

int nbg_sel_add_ident(struct nbg_selector *s, u32 id)
{
	if (grow((void **)&s->idents, s->n_idents, sizeof(id)))
		return -ENOMEM;
	s->idents[s->n_idents++] = id;
	sel_specific(s);
	return 0;
}

int nbg_sel_add_group(struct nbg_selector *s, u32 gid)
{
	if (grow((void **)&s->groups, s->n_groups, sizeof(gid)))
		return -ENOMEM;
	s->groups[s->n_groups++] = gid;
	sel_specific(s);
	return 0;
}

int nbg_sel_add_prefix(struct nbg_selector *s, const struct nbg_prefix *p)
{
	if (grow((void **)&s->prefixes, s->n_prefixes, sizeof(*p)))
		return -ENOMEM;
	s->prefixes[s->n_prefixes++] = *p;
	sel_specific(s);
	return 0;
}

void nbg_selector_set_any(struct nbg_selector *s)
{
	nbg_selector_free(s);
	s->any = true;
}

bool nbg_selector_is_any(const struct nbg_selector *s)
{
	return s->any || (!s->n_idents && !s->n_groups && !s->n_prefixes);
}

int nbg_rule_add_ports(struct nbg_rule_desc *r, u16 lo, u16 hi)
{
	if (grow((void **)&r->ports, r->n_ports, sizeof(*r->ports)))
		return -ENOMEM;
	r->ports[r->n_ports].lo = lo;
	r->ports[r->n_ports].hi = hi;
	r->n_ports++;
	return 0;
}

/* Duplicate an array with the capacity the growers expect. */
static int dup_array(void **dst, const void *src, u32 n, size_t size)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = malloc(nbg_desc_cap(n) * size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	return 0;
}

static int sel_copy(struct nbg_selector *dst, const struct nbg_selector *src)
{
	*dst = *src;
	dst->idents = dst->groups = NULL;
	dst->prefixes = NULL;
	if (dup_array((void **)&dst->idents, src->idents, src->n_idents, sizeof(u32)) ||
	    dup_array((void **)&dst->groups, src->groups, src->n_groups, sizeof(u32)) ||
	    dup_array((void **)&dst->prefixes, src->prefixes, src->n_prefixes,
		      sizeof(struct nbg_prefix)))
		return -ENOMEM;
	return 0;
}

int nbg_desc_copy(struct nbg_ruleset_desc *dst, const struct nbg_ruleset_desc *src)
{
	u32 k;

	nbg_desc_init(dst);
	for (k = 0; k < src->n_idents; k++) {
		const struct nbg_ident_desc *s = &src->idents[k];
		struct nbg_ident_desc *i = nbg_desc_add_ident(dst);

		if (!i)
			goto err;
		*i = *s;
		i->groups = NULL;
		i->prefixes = NULL;
		if (dup_array((void **)&i->groups, s->groups, s->n_groups, sizeof(u32)) ||
		    dup_array((void **)&i->prefixes, s->prefixes, s->n_prefixes,
			      sizeof(struct nbg_prefix)))
			goto err;
	}
	for (k = 0; k < src->n_rules; k++) {
		const struct nbg_rule_desc *s = &src->rules[k];
		struct nbg_rule_desc *r = nbg_desc_add_rule(dst);

		if (!r)
			goto err;
		*r = *s;
		r->src.idents = r->src.groups = r->dst.idents = r->dst.groups = NULL;
		r->src.prefixes = r->dst.prefixes = NULL;
		r->ports = NULL;
		if (sel_copy(&r->src, &s->src) || sel_copy(&r->dst, &s->dst) ||
		    dup_array((void **)&r->ports, s->ports, s->n_ports,
			      sizeof(struct nbg_port_range)))
			goto err;
	}
	return 0;
err:
	nbg_desc_free(dst);
	return -ENOMEM;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_ident_id(const void *a, const void *b)
{
	return cmp_u32(&((const struct nbg_ident_desc *)a)->id,
		       &((const struct nbg_ident_desc *)b)->id);
}

static int cmp_rule_id(const void *a, const void *b)
{
	return cmp_u32(&((const struct nbg_rule_desc *)a)->id,
		       &((const struct nbg_rule_desc *)b)->id);
}

void nbg_desc_sort(struct nbg_ruleset_desc *d)
{
	/* ids are unique in a valid desc, so qsort's instability is moot;
	 * for invalid ones (duplicates) order among equals does not matter
	 * to any caller. */
	if (d->n_idents > 1)
		qsort(d->idents, d->n_idents, sizeof(*d->idents), cmp_ident_id);
	if (d->n_rules > 1)
		qsort(d->rules, d->n_rules, sizeof(*d->rules), cmp_rule_id);
}

int nbg_prefix_cmp(const struct nbg_prefix *a, const struct nbg_prefix *b)
{
	size_t alen;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	alen = a->family == AF_INET ? 4 : 16;
	c = memcmp(a->addr.raw, b->addr.raw, alen);
	if (c)
		return c < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

static int cmp_prefix_v(const void *a, const void *b)
{
	return nbg_prefix_cmp(a, b);
}

static int cmp_port_range(const void *a, const void *b)
{
	const struct nbg_port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sort and drop duplicates; returns the new count. */
static u32 sort_uniq(void *arr, u32 n, size_t size,
		     int (*cmp)(const void *, const void *))
{
	char *p = arr;
	u32 k, out = 0;

	if (n < 2)
		return n;
	qsort(arr, n, size, cmp);
	for (k = 1; k < n; k++) {
		if (cmp(p + out * size, p + k * size))
			memmove(p + ++out * size, p + k * size, size);
	}
	return out + 1;
}

static void sel_canonicalize(struct nbg_selector *s)
{
	if (nbg_selector_is_any(s)) {
		nbg_selector_set_any(s);
		return;
	}
	s->n_idents = sort_uniq(s->idents, s->n_idents, sizeof(u32), cmp_u32);
	s->n_groups = sort_uniq(s->groups, s->n_groups, sizeof(u32), cmp_u32);
	s->n_prefixes = sort_uniq(s->prefixes, s->n_prefixes,
				  sizeof(struct nbg_prefix), cmp_prefix_v);
}

void nbg_desc_canonicalize(struct nbg_ruleset_desc *d)
{
	u32 k;

	nbg_desc_sort(d);
	for (k = 0; k < d->n_idents; k++) {
		struct nbg_ident_desc *i = &d->idents[k];

		i->n_groups = sort_uniq(i->groups, i->n_groups, sizeof(u32), cmp_u32);
		i->n_prefixes = sort_uniq(i->prefixes, i->n_prefixes,
					  sizeof(struct nbg_prefix), cmp_prefix_v);
	}
	for (k = 0; k < d->n_rules; k++) {
		struct nbg_rule_desc *r = &d->rules[k];

		sel_canonicalize(&r->src);
		sel_canonicalize(&r->dst);
		r->n_ports = sort_uniq(r->ports, r->n_ports,
				       sizeof(struct nbg_port_range), cmp_port_range);
		if (r->proto_any)
			r->proto = 0;
	}
}

static bool sorted_idents(const struct nbg_ruleset_desc *d)
{
	u32 k;

	for (k = 1; k < d->n_idents; k++)
		if (d->idents[k - 1].id >= d->idents[k].id)
			return false;
	return true;
}

static bool sorted_rules(const struct nbg_ruleset_desc *d)
{
	u32 k;

	for (k = 1; k < d->n_rules; k++)
		if (d->rules[k - 1].id >= d->rules[k].id)
			return false;
	return true;
}

const struct nbg_ident_desc *nbg_desc_find_ident(const struct nbg_ruleset_desc *d, u32 id)
{
	struct nbg_ident_desc key = { .id = id };
	u32 k;

	if (sorted_idents(d))
		return bsearch(&key, d->idents, d->n_idents, sizeof(key), cmp_ident_id);
	for (k = 0; k < d->n_idents; k++)
		if (d->idents[k].id == id)
			return &d->idents[k];
	return NULL;
}

const struct nbg_rule_desc *nbg_desc_find_rule(const struct nbg_ruleset_desc *d, u32 id)
{
	struct nbg_rule_desc key = { .id = id };
	u32 k;

	if (sorted_rules(d))
		return bsearch(&key, d->rules, d->n_rules, sizeof(key), cmp_rule_id);
	for (k = 0; k < d->n_rules; k++)
		if (d->rules[k].id == id)
			return &d->rules[k];
	return NULL;
}

static int cmp_n(u32 a, u32 b)
{
	return a < b ? -1 : a > b;
}

static int cmp_u32_arrays(const u32 *a, u32 na, const u32 *b, u32 nb)
{
	u32 k;

	if (na != nb)
		return cmp_n(na, nb);
	for (k = 0; k < na; k++)
		if (a[k] != b[k])
			return cmp_n(a[k], b[k]);
	return 0;
}

static int cmp_prefix_arrays(const struct nbg_prefix *a, u32 na,
			     const struct nbg_prefix *b, u32 nb)
{
	u32 k;
	int c;

	if (na != nb)
		return cmp_n(na, nb);
	for (k = 0; k < na; k++) {
		c = nbg_prefix_cmp(&a[k], &b[k]);
		if (c)
			return c;
	}
	return 0;
}

static int sel_cmp(const struct nbg_selector *a, const struct nbg_selector *b)
{
	bool aa = nbg_selector_is_any(a), ba = nbg_selector_is_any(b);
	int c;

	if (aa || ba)
		return aa == ba ? 0 : aa ? -1 : 1;
	c = cmp_u32_arrays(a->idents, a->n_idents, b->idents, b->n_idents);
	if (!c)
		c = cmp_u32_arrays(a->groups, a->n_groups, b->groups, b->n_groups);
	if (!c)
		c = cmp_prefix_arrays(a->prefixes, a->n_prefixes,
				      b->prefixes, b->n_prefixes);
	return c;
}

int nbg_ident_cmp(const struct nbg_ident_desc *a, const struct nbg_ident_desc *b)
{
	int c;

	if (a->id != b->id)
		return cmp_n(a->id, b->id);
	c = strncmp(a->name, b->name, NBG_NAME_MAX);
	if (c)
		return c < 0 ? -1 : 1;
	c = cmp_prefix_arrays(a->prefixes, a->n_prefixes, b->prefixes, b->n_prefixes);
	if (!c)
		c = cmp_u32_arrays(a->groups, a->n_groups, b->groups, b->n_groups);
	return c;
}

int nbg_rule_cmp(const struct nbg_rule_desc *a, const struct nbg_rule_desc *b)
{
	u32 k;
	int c;

	if (a->id != b->id)
		return cmp_n(a->id, b->id);
	if (a->action != b->action)
		return cmp_n(a->action, b->action);
	if (a->direction != b->direction)
		return cmp_n(a->direction, b->direction);
	if (a->proto_any != b->proto_any)
		return a->proto_any ? -1 : 1;
	if (!a->proto_any && a->proto != b->proto)
		return cmp_n(a->proto, b->proto);
	c = sel_cmp(&a->src, &b->src);
	if (!c)
		c = sel_cmp(&a->dst, &b->dst);
	if (c)
		return c;
	if (a->n_ports != b->n_ports)
		return cmp_n(a->n_ports, b->n_ports);
	for (k = 0; k < a->n_ports; k++) {
		c = cmp_port_range(&a->ports[k], &b->ports[k]);
		if (c)
			return c;
	}
	return 0;
}

int nbg_desc_cmp(const struct nbg_ruleset_desc *a, const struct nbg_ruleset_desc *b)
{
	u32 k;
	int c;

	if (a->n_idents != b->n_idents)
		return cmp_n(a->n_idents, b->n_idents);
	if (a->n_rules != b->n_rules)
		return cmp_n(a->n_rules, b->n_rules);
	for (k = 0; k < a->n_idents; k++) {
		c = nbg_ident_cmp(&a->idents[k], &b->idents[k]);
		if (c)
			return c;
	}
	for (k = 0; k < a->n_rules; k++) {
		c = nbg_rule_cmp(&a->rules[k], &b->rules[k]);
		if (c)
			return c;
	}
	return 0;
}

/*
 * Walk two sorted copies in id order and report each difference to @fn.
 * kind: 'i' identity or 'r' rule; op: '+', '-', '~'.
 */
typedef void (*diff_fn)(char kind, char op, u32 id, void *arg);

static int diff_walk(const struct nbg_ruleset_desc *old,
		     const struct nbg_ruleset_desc *new_, diff_fn fn, void *arg)
{
	struct nbg_ruleset_desc a, b;
	u32 i, j;

	if (nbg_desc_copy(&a, old))
		return -ENOMEM;
	if (nbg_desc_copy(&b, new_)) {
		nbg_desc_free(&a);
		return -ENOMEM;
	}
	nbg_desc_canonicalize(&a);
	nbg_desc_canonicalize(&b);
	for (i = j = 0; i < a.n_idents || j < b.n_idents;) {
		if (j == b.n_idents || (i < a.n_idents && a.idents[i].id < b.idents[j].id)) {
			fn('i', '-', a.idents[i++].id, arg);
		} else if (i == a.n_idents || b.idents[j].id < a.idents[i].id) {
			fn('i', '+', b.idents[j++].id, arg);
		} else {
			if (nbg_ident_cmp(&a.idents[i], &b.idents[j]))
				fn('i', '~', a.idents[i].id, arg);
			i++, j++;
		}
	}
	for (i = j = 0; i < a.n_rules || j < b.n_rules;) {
		if (j == b.n_rules || (i < a.n_rules && a.rules[i].id < b.rules[j].id)) {
			fn('r', '-', a.rules[i++].id, arg);
		} else if (i == a.n_rules || b.rules[j].id < a.rules[i].id) {
			fn('r', '+', b.rules[j++].id, arg);
		} else {
			if (nbg_rule_cmp(&a.rules[i], &b.rules[j]))
				fn('r', '~', a.rules[i].id, arg);
			i++, j++;
		}
	}
	nbg_desc_free(&a);
	nbg_desc_free(&b);
	return 0;
}

static void diff_count(char kind, char op, u32 id, void *arg)
{
	struct nbg_desc_diff *d = arg;

	u32 *n;

	if (kind == 'i')
		n = op == '+' ? &d->idents_added : op == '-' ? &d->idents_removed :
		    &d->idents_changed;
	else
		n = op == '+' ? &d->rules_added : op == '-' ? &d->rules_removed :
		    &d->rules_changed;
	(*n)++;
}

int nbg_desc_diff(const struct nbg_ruleset_desc *old,
		  const struct nbg_ruleset_desc *new_, struct nbg_desc_diff *diff)
{
	memset(diff, 0, sizeof(*diff));
	return diff_walk(old, new_, diff_count, diff);
}

static void diff_print(char kind, char op, u32 id, void *arg)
{
	fprintf(arg, "%c %s %u\n", op, kind == 'i' ? "identity" : "rule", id);
}

int nbg_desc_diff_print(FILE *f, const struct nbg_ruleset_desc *old,
			const struct nbg_ruleset_desc *new_)
{
	return diff_walk(old, new_, diff_print, f);
}

bool nbg_prefix_canonical(const struct nbg_prefix *p)
{
	unsigned int alen = p->family == AF_INET ? 4 : 16, k;

	if (p->len > alen * 8)
		return false;
	for (k = 0; k < alen; k++) {
		unsigned int bit0 = k * 8;
		u8 mask;

		if (p->len >= bit0 + 8)
			continue;
		mask = p->len <= bit0 ? 0 : (u8)(0xff << (8 - (p->len - bit0)));
		if (p->addr.raw[k] & ~mask)
			return false;
	}
	return true;
}

int nbg_prefix_parse(const char *s, struct nbg_prefix *p, const char **err)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long len;
	unsigned int max;

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf)) {
		*err = "invalid address";
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr.raw) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr.raw) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		*err = "invalid address";
		return -EINVAL;
	}
	len = max;
	if (slash) {
		errno = 0;
		if (!slash[1] || slash[1] < '0' || slash[1] > '9') {
			*err = "invalid prefix length";
			return -EINVAL;
		}
		len = strtoul(slash + 1, &end, 10);
		if (*end || errno) {
			*err = "invalid prefix length";
			return -EINVAL;
		}
	}
	if (len > max) {
		*err = p->family == AF_INET ? "prefix length above 32" :
					      "prefix length above 128";
		return -EINVAL;
	}
	p->len = len;
	if (!nbg_prefix_canonical(p)) {
		*err = "host bits set beyond the prefix length";
		return -EINVAL;
	}
	return 0;
}

const char *nbg_prefix_format(const struct nbg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == AF_INET ? AF_INET : AF_INET6, p->addr.raw,
		       a, sizeof(a)))
		strcpy(a, "?");
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

static const struct {
	const char *name;
	u8 num;
} protos[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 },
	{ "sctp", 132 }, { "udplite", 136 },
};

int nbg_proto_parse(const char *s, u8 *proto)
{
	unsigned long v;
	char *end;
	size_t k;

	for (k = 0; k < sizeof(protos) / sizeof(protos[0]); k++) {
		if (!strcmp(s, protos[k].name)) {
			*proto = protos[k].num;
			return 0;
		}
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > 255)
		return -EINVAL;
	*proto = v;
	return 0;
}

const char *nbg_proto_name(u8 proto)
{
	size_t k;

	for (k = 0; k < sizeof(protos) / sizeof(protos[0]); k++)
		if (protos[k].num == proto)
			return protos[k].name;
	return NULL;
}

bool nbg_proto_has_ports(u8 proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}
