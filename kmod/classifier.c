// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard classifier: validation of a ruleset description and the
 * compiled lookup structure used on every packet.
 *
 * This first version is a plain linear scan over a private copy of the
 * rules; it is the executable statement of the semantics in
 * uapi/nbguard.h.
 */

#ifdef __KERNEL__
#include <linux/bsearch.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sort.h>
#include <linux/string.h>
#endif

#include "classifier.h"

#define NBG_GFP		GFP_KERNEL_ACCOUNT

/* ---------------------------------------------------------------------- */
/* Validation                                                             */
/* ---------------------------------------------------------------------- */

static bool nbg_proto_has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static int nbg_prefix_check(const struct nbg_prefix *p, const char **err)
{
	unsigned int max, i;

	if (p->family == AF_INET)
		max = 32;
	else if (p->family == AF_INET6)
		max = 128;
	else {
		*err = "prefix family must be AF_INET or AF_INET6";
		return -EINVAL;
	}
	if (p->len > max) {
		*err = "prefix length too long for its family";
		return -EINVAL;
	}
	for (i = p->len; i < max; i++) {
		if (p->addr.raw[i / 8] & (0x80 >> (i % 8))) {
			*err = "prefix has host bits set";
			return -EINVAL;
		}
	}
	return 0;
}

static int nbg_u32_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Sorted copy of ids; -EINVAL if one is 0 or repeated. */
static int nbg_ids_sorted(u32 *ids, u32 n)
{
	u32 i;

	sort(ids, n, sizeof(*ids), nbg_u32_cmp, NULL);
	for (i = 0; i < n; i++)
		if (!ids[i] || (i && ids[i] == ids[i - 1]))
			return -EINVAL;
	return 0;
}

static int nbg_sel_check(const struct nbg_selector *s, const u32 *ident_ids,
			 u32 n_idents, const char **err)
{
	u32 i;
	int ret;

	if (s->n_idents > NBG_MAX_SEL_ITEMS || s->n_groups > NBG_MAX_SEL_ITEMS) {
		*err = "too many identities or groups in a selector";
		return -EINVAL;
	}
	if (s->n_prefixes > NBG_MAX_PREFIXES) {
		*err = "too many prefixes in a selector";
		return -EINVAL;
	}
	if ((s->n_idents && !s->idents) || (s->n_groups && !s->groups) ||
	    (s->n_prefixes && !s->prefixes)) {
		*err = "selector array missing";
		return -EINVAL;
	}
	for (i = 0; i < s->n_idents; i++) {
		if (!bsearch(&s->idents[i], ident_ids, n_idents,
			     sizeof(*ident_ids), nbg_u32_cmp)) {
			*err = "selector references an unknown identity";
			return -EINVAL;
		}
	}
	for (i = 0; i < s->n_prefixes; i++) {
		ret = nbg_prefix_check(&s->prefixes[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

static int nbg_rule_check(const struct nbg_rule_desc *r, const u32 *ident_ids,
			  u32 n_idents, const char **err)
{
	u32 i;
	int ret;

	if (!r->id) {
		*err = "rule id must not be 0";
		return -EINVAL;
	}
	if (r->action != NBG_ACTION_ALLOW && r->action != NBG_ACTION_DENY) {
		*err = "rule action must be allow or deny";
		return -EINVAL;
	}
	if (r->direction >= __NBG_DIR_MAX) {
		*err = "rule direction must be in or out";
		return -EINVAL;
	}
	if (r->n_ports > NBG_MAX_PORT_RANGES) {
		*err = "too many port ranges in a rule";
		return -EINVAL;
	}
	if (r->n_ports && !r->ports) {
		*err = "rule port array missing";
		return -EINVAL;
	}
	if (r->n_ports && (r->proto_any || !nbg_proto_has_ports(r->proto))) {
		*err = "ports need protocol tcp, udp, sctp or udplite";
		return -EINVAL;
	}
	for (i = 0; i < r->n_ports; i++) {
		if (r->ports[i].lo > r->ports[i].hi) {
			*err = "port range has low above high";
			return -EINVAL;
		}
	}
	ret = nbg_sel_check(&r->src, ident_ids, n_idents, err);
	if (ret)
		return ret;
	return nbg_sel_check(&r->dst, ident_ids, n_idents, err);
}

static int nbg_ident_check(const struct nbg_ident_desc *id, const char **err)
{
	u32 i;
	int ret;

	if (!id->id) {
		*err = "identity id must not be 0";
		return -EINVAL;
	}
	if (!memchr(id->name, 0, sizeof(id->name))) {
		*err = "identity name too long";
		return -EINVAL;
	}
	if (id->n_groups > NBG_MAX_GROUPS) {
		*err = "too many groups in an identity";
		return -EINVAL;
	}
	if (id->n_prefixes > NBG_MAX_PREFIXES) {
		*err = "too many prefixes in an identity";
		return -EINVAL;
	}
	if ((id->n_groups && !id->groups) ||
	    (id->n_prefixes && !id->prefixes)) {
		*err = "identity array missing";
		return -EINVAL;
	}
	for (i = 0; i < id->n_prefixes; i++) {
		ret = nbg_prefix_check(&id->prefixes[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

/* An identity prefix and who owns it, to find prefixes claimed twice. */
struct nbg_owned_prefix {
	struct nbg_prefix p;
	u32 owner;
};

static int nbg_owned_prefix_cmp(const void *a, const void *b)
{
	const struct nbg_owned_prefix *x = a, *y = b;
	int c;

	if (x->p.family != y->p.family)
		return x->p.family < y->p.family ? -1 : 1;
	if (x->p.len != y->p.len)
		return x->p.len < y->p.len ? -1 : 1;
	c = memcmp(x->p.addr.raw, y->p.addr.raw, sizeof(x->p.addr.raw));
	if (c)
		return c;
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

/*
 * The address -> identity map must be a function: two identities may not
 * claim the same prefix (nested prefixes are fine, the longest wins).
 */
static int nbg_ident_prefixes_unique(const struct nbg_ruleset_desc *d,
				     const char **err)
{
	struct nbg_owned_prefix *all;
	size_t n = 0, i;
	u32 j, k;
	int ret = 0;

	for (j = 0; j < d->n_idents; j++)
		n += d->idents[j].n_prefixes;
	if (!n)
		return 0;
	all = kvmalloc_array(n, sizeof(*all), NBG_GFP);
	if (!all) {
		*err = "out of memory";
		return -ENOMEM;
	}
	n = 0;
	for (j = 0; j < d->n_idents; j++) {
		for (k = 0; k < d->idents[j].n_prefixes; k++) {
			memset(&all[n], 0, sizeof(all[n]));
			all[n].p.family = d->idents[j].prefixes[k].family;
			all[n].p.len = d->idents[j].prefixes[k].len;
			memcpy(all[n].p.addr.raw,
			       d->idents[j].prefixes[k].addr.raw,
			       d->idents[j].prefixes[k].family == AF_INET ?
			       4 : 16);
			all[n].owner = j;
			n++;
		}
	}
	sort(all, n, sizeof(*all), nbg_owned_prefix_cmp, NULL);
	for (i = 1; i < n; i++) {
		if (all[i].owner != all[i - 1].owner &&
		    all[i].p.family == all[i - 1].p.family &&
		    all[i].p.len == all[i - 1].p.len &&
		    !memcmp(all[i].p.addr.raw, all[i - 1].p.addr.raw,
			    sizeof(all[i].p.addr.raw))) {
			*err = "two identities claim the same prefix";
			ret = -EINVAL;
			break;
		}
	}
	kvfree(all);
	return ret;
}

int nbg_desc_validate(const struct nbg_ruleset_desc *d, const char **err)
{
	u32 *ids = NULL, i, n;
	int ret;

	*err = NULL;
	if (d->n_idents > NBG_MAX_IDENTITIES) {
		*err = "too many identities";
		return -EINVAL;
	}
	if (d->n_rules > NBG_MAX_RULES) {
		*err = "too many rules";
		return -EINVAL;
	}
	if ((d->n_idents && !d->idents) || (d->n_rules && !d->rules)) {
		*err = "ruleset array missing";
		return -EINVAL;
	}
	for (i = 0; i < d->n_idents; i++) {
		ret = nbg_ident_check(&d->idents[i], err);
		if (ret)
			return ret;
	}
	n = max(d->n_idents, d->n_rules);
	if (n) {
		ids = kvmalloc_array(n, sizeof(*ids), NBG_GFP);
		if (!ids) {
			*err = "out of memory";
			return -ENOMEM;
		}
	}
	for (i = 0; i < d->n_rules; i++)
		ids[i] = d->rules[i].id;
	if (nbg_ids_sorted(ids, d->n_rules)) {
		*err = "rule ids must be unique and non-zero";
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < d->n_idents; i++)
		ids[i] = d->idents[i].id;
	if (nbg_ids_sorted(ids, d->n_idents)) {
		*err = "identity ids must be unique and non-zero";
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < d->n_rules; i++) {
		ret = nbg_rule_check(&d->rules[i], ids, d->n_idents, err);
		if (ret)
			goto out;
		if (!(i & 1023))
			cond_resched();
	}
	ret = nbg_ident_prefixes_unique(d, err);
out:
	kvfree(ids);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Linear classifier                                                      */
/* ---------------------------------------------------------------------- */

struct nbg_classifier {
	struct nbg_ruleset_desc d;	/* private deep copy */
	size_t mem;
};

static size_t nbg_sel_size(const struct nbg_selector *s)
{
	return (s->n_idents + s->n_groups) * sizeof(u32) +
	       s->n_prefixes * sizeof(struct nbg_prefix);
}

/* Carve @n bytes from the copy's pool; everything is 4-aligned. */
static void *nbg_carve(u8 **pool, size_t n, const void *src)
{
	void *p = *pool;

	if (n)
		memcpy(p, src, n);
	*pool += n;
	return p;
}

static void nbg_sel_copy(struct nbg_selector *dst,
			 const struct nbg_selector *src, u8 **pool)
{
	*dst = *src;
	dst->idents = nbg_carve(pool, src->n_idents * sizeof(u32), src->idents);
	dst->groups = nbg_carve(pool, src->n_groups * sizeof(u32), src->groups);
	dst->prefixes = nbg_carve(pool, src->n_prefixes *
				  sizeof(struct nbg_prefix), src->prefixes);
}

struct nbg_classifier *nbg_classifier_build(const struct nbg_ruleset_desc *d,
					    const char **err)
{
	struct nbg_classifier *c;
	size_t size = sizeof(*c);
	u8 *pool;
	u32 i;

	size += d->n_idents * sizeof(struct nbg_ident_desc);
	size += d->n_rules * sizeof(struct nbg_rule_desc);
	for (i = 0; i < d->n_idents; i++)
		size += d->idents[i].n_groups * sizeof(u32) +
			d->idents[i].n_prefixes * sizeof(struct nbg_prefix);
	for (i = 0; i < d->n_rules; i++)
		size += nbg_sel_size(&d->rules[i].src) +
			nbg_sel_size(&d->rules[i].dst) +
			d->rules[i].n_ports * sizeof(struct nbg_port_range);

	c = kvzalloc(size, NBG_GFP);
	if (!c) {
		*err = "out of memory";
		return NULL;
	}
	c->mem = size;
	pool = (u8 *)(c + 1);
	c->d.n_idents = d->n_idents;
	c->d.n_rules = d->n_rules;
	c->d.idents = nbg_carve(&pool, d->n_idents * sizeof(*d->idents),
				d->idents);
	c->d.rules = nbg_carve(&pool, d->n_rules * sizeof(*d->rules), d->rules);
	for (i = 0; i < d->n_idents; i++) {
		struct nbg_ident_desc *id = &c->d.idents[i];

		id->groups = nbg_carve(&pool, id->n_groups * sizeof(u32),
				       d->idents[i].groups);
		id->prefixes = nbg_carve(&pool, id->n_prefixes *
					 sizeof(struct nbg_prefix),
					 d->idents[i].prefixes);
	}
	for (i = 0; i < d->n_rules; i++) {
		struct nbg_rule_desc *r = &c->d.rules[i];

		nbg_sel_copy(&r->src, &d->rules[i].src, &pool);
		nbg_sel_copy(&r->dst, &d->rules[i].dst, &pool);
		r->ports = nbg_carve(&pool, r->n_ports *
				     sizeof(struct nbg_port_range),
				     d->rules[i].ports);
	}
	return c;
}

void nbg_classifier_free(struct nbg_classifier *c)
{
	kvfree(c);
}

size_t nbg_classifier_mem(const struct nbg_classifier *c)
{
	return c ? c->mem : 0;
}

static bool nbg_prefix_has(const struct nbg_prefix *p, u8 family,
			   const u8 *addr)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr.raw, addr, full))
		return false;
	return !rest || !((p->addr.raw[full] ^ addr[full]) &
			  (u8)(0xff00 >> rest));
}

/* Index of the identity owning @addr (longest prefix), or -1. */
static long nbg_linear_ident(const struct nbg_ruleset_desc *d, u8 family,
			     const u8 *addr)
{
	long best = -1;
	int best_len = -1;
	u32 i, j;

	for (i = 0; i < d->n_idents; i++) {
		const struct nbg_ident_desc *id = &d->idents[i];

		for (j = 0; j < id->n_prefixes; j++) {
			if (id->prefixes[j].len > best_len &&
			    nbg_prefix_has(&id->prefixes[j], family, addr)) {
				best = i;
				best_len = id->prefixes[j].len;
			}
		}
	}
	return best;
}

/* A selector without items means "any", as an absent netlink nest does. */
static bool nbg_sel_is_any(const struct nbg_selector *s)
{
	return s->any || !(s->n_idents + s->n_groups + s->n_prefixes);
}

static bool nbg_sel_has(const struct nbg_selector *s,
			const struct nbg_ident_desc *id, u8 family,
			const u8 *addr)
{
	u32 i, j;

	if (nbg_sel_is_any(s))
		return true;
	for (i = 0; i < s->n_prefixes; i++)
		if (nbg_prefix_has(&s->prefixes[i], family, addr))
			return true;
	if (!id)
		return false;
	for (i = 0; i < s->n_idents; i++)
		if (s->idents[i] == id->id)
			return true;
	for (i = 0; i < s->n_groups; i++)
		for (j = 0; j < id->n_groups; j++)
			if (s->groups[i] == id->groups[j])
				return true;
	return false;
}

static bool nbg_rule_has(const struct nbg_rule_desc *r,
			 const struct nbg_pkt *p,
			 const struct nbg_ident_desc *sid,
			 const struct nbg_ident_desc *did)
{
	u32 i;

	if (r->direction != p->direction)
		return false;
	if (!r->proto_any && r->proto != p->proto)
		return false;
	if (r->n_ports) {
		if (!nbg_proto_has_ports(p->proto))
			return false;
		for (i = 0; i < r->n_ports; i++)
			if (p->dport >= r->ports[i].lo &&
			    p->dport <= r->ports[i].hi)
				break;
		if (i == r->n_ports)
			return false;
	}
	return nbg_sel_has(&r->src, sid, p->family, p->saddr.raw) &&
	       nbg_sel_has(&r->dst, did, p->family, p->daddr.raw);
}

void nbg_classify(const struct nbg_classifier *c, const struct nbg_pkt *p,
		  struct nbg_verdict *v)
{
	const struct nbg_ruleset_desc *d = &c->d;
	const struct nbg_ident_desc *sid = NULL, *did = NULL;
	const struct nbg_rule_desc *best = NULL;
	long si, di;
	u32 i;

	memset(v, 0, sizeof(*v));
	if (p->family != AF_INET && p->family != AF_INET6)
		return;
	si = nbg_linear_ident(d, p->family, p->saddr.raw);
	di = nbg_linear_ident(d, p->family, p->daddr.raw);
	if (si >= 0)
		sid = &d->idents[si];
	if (di >= 0)
		did = &d->idents[di];
	if (p->direction == NBG_DIR_IN)
		v->ident_id = sid ? sid->id : 0;
	else
		v->ident_id = did ? did->id : 0;

	for (i = 0; i < d->n_rules; i++) {
		const struct nbg_rule_desc *r = &d->rules[i];

		if (best && (best->action > r->action ||
			     (best->action == r->action && best->id < r->id)))
			continue;
		if (!nbg_rule_has(r, p, sid, did))
			continue;
		best = r;
		v->rule_index = i;
	}
	if (best) {
		v->action = best->action;
		v->rule_id = best->id;
	}
}
