// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard classifier: validation of a ruleset description and the
 * compiled lookup structure used on every packet.
 *
 * The semantics are those of uapi/nbguard.h; in addition a selector with
 * no items at all means "any" (like an absent netlink nest), and two
 * identities may not claim the same prefix (the address -> identity map
 * must be a function). The design of the compiled form is described
 * above nbg_classify().
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

/*
 * Charged to the caller; a ruleset too big to allocate fails the commit
 * with -ENOMEM rather than warning (sizes come from userspace).
 */
#define NBG_GFP		(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)

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
/* Compiled form                                                          */
/* ---------------------------------------------------------------------- */

/*
 * How a packet is classified (nbg_classify):
 *
 *  1. The remote address is looked up in a longest-prefix-match table of
 *     "nodes": every distinct identity prefix and every prefix used in a
 *     remote selector. One hash probe per distinct prefix length present,
 *     longest first. Prefixes nest, so the longest node containing the
 *     address fixes everything else: the identity (the longest identity
 *     prefix among the node's ancestors) and which selector prefixes
 *     contain the address (the node's selector ancestors).
 *  2. The node names, per direction, two compiled classes: the rules that
 *     reach it through groups and prefixes (shared by every node with the
 *     same group set and selector ancestors, so 10,000 peers in 100 groups
 *     make ~100 classes), and the rules that name its identity directly
 *     (usually a handful). Rules whose remote selector is "any" are copied
 *     into every group class when that stays cheap (wildcards x classes <=
 *     4 x rules + 4096), else kept in one wildcard class per direction
 *     consulted for every packet. An address in no node sees only the
 *     wildcard class.
 *  3. Rules are ranked once: all denies before all allows, by id within
 *     each. The verdict is the smallest rank over matching rules, so
 *     classes merge with min(), and a class whose best possible rank is
 *     not below the best found so far is skipped without a look.
 *  4. A class of at most NBG_TINY_MAX port ranges and no local selectors
 *     is a list scanned in rank order (first match wins). Otherwise it is
 *     a subtable for its local-any rules plus one per distinct local
 *     selector (rare, out of line, sorted by best rank so the scan stops
 *     early). A subtable holds, per protocol, sorted disjoint port
 *     intervals with the best rank on each, its protocol-any rules folded
 *     in (one interval for portless protocols). The tcp and udp tables
 *     sit in the subtable and always exist, so the common packet follows
 *     no index to reach them; other protocols' tables are scanned. A
 *     table is entered through a bucket index over its own port span
 *     (about one bucket per interval), then searched: binary steps while
 *     more than NBG_SCAN_MAX intervals remain, then a forward scan.
 *
 * Build cost is O(total selector items x log) plus one class compile per
 * distinct rule set; classify cost is O(distinct prefix lengths) hash
 * probes plus O(log rules of one class). Under callgrind a lookup costs
 * 120-140 instructions with 10 to 100,000 rules over 10,000 identities
 * (selftests/bench/classifier.sh).
 *
 * Nothing here allocates, locks or sleeps; the structure is read-only
 * after nbg_classifier_build() and does not point into the description.
 */

#define NBG_NONE	U32_MAX
#define NBG_ANY_PROTO	256U

/*
 * One prefix length present in a table. Key words are the address bytes
 * as they are in memory (network order), so a lookup loads them as they
 * come and only masks them; the hash seed per length is precomputed.
 */
struct nbg_lpm_len {
	u64 seed;
	u32 mask[4];
	u32 len;
};

struct nbg_lpm {
	u32 *slots;		/* stride kw + 2: masked key words, len, node */
	u32 mask;		/* number of slots - 1 */
	u32 kw;			/* key words: 1 (IPv4) or 4 (IPv6) */
	u32 n_lens;
	struct nbg_lpm_len lens[129];	/* longest first */
};

struct nbg_node {
	u32 ident;			/* index in idents[], or NBG_NONE */
	u32 ident_id;			/* its id, or 0 */
	u32 cls[__NBG_DIR_MAX];		/* rules via groups and prefixes */
	u32 dcls[__NBG_DIR_MAX];	/* rules naming the identity */
};

struct nbg_ident {
	u32 id;
	u32 groups, n_groups;	/* sorted group ids in u32s[] */
};

/* A local selector (dst for in, src for out) other than "any". */
struct nbg_lsel {
	u32 idents, n_idents;	/* sorted identity ids in u32s[] */
	u32 groups, n_groups;	/* sorted group ids in u32s[] */
	u32 pfx, n_pfx;		/* in pfx[] */
};

/* What a lookup needs of a port table (see nbg_ptab_rank()). */
struct nbg_pt {
	u32 lo;			/* where the second interval starts */
	u32 shift;		/* (port - lo) >> shift is the bucket */
	u32 nb;			/* number of buckets */
	u32 bkt;		/* nb + 1 entries in iv_bkt[] */
};

/*
 * The port tables of tcp and udp sit in the subtable itself, and always
 * exist (one interval when no rule names the protocol), so the common
 * lookup follows no index and tests nothing; the rare other protocols'
 * tables are scanned. Every table already includes the protocol-any
 * rules, so any_rank only answers for protocols without a table.
 */
struct nbg_sub {
	u32 min_rank;		/* best rank this subtable can give */
	u32 lsel;		/* index in lsels[], or NBG_NONE for any */
	u32 any_rank;		/* best protocol-any rule */
	struct nbg_pt tcp, udp;
	u32 ptabs, n_ptabs;	/* tables of other protocols */
};

/* A rule's port range in a small class; classes of a few rules are scanned. */
struct nbg_tiny {
	u32 rank;
	u32 proto;		/* or NBG_ANY_PROTO */
	u16 lo, hi;
};

/* Thresholds; the tests build with other values to reach every path. */
#ifndef NBG_TINY_MAX
#define NBG_TINY_MAX	8
#endif

struct nbg_class {
	u32 min_rank;
	u32 tiny, n_tiny;	/* if n_tiny: the whole class, by rank */
	u32 subs, n_subs;	/* subtables with a local selector */
	u32 subs_min;		/* best rank of those, or NBG_NONE */
	struct nbg_sub any;	/* the subtable of local-any rules */
};

/* A port table of a protocol other than tcp and udp. */
struct nbg_ptab {
	u32 proto;
	struct nbg_pt pt;
};

/*
 * A port interval: where it starts and the best rank on it, side by side
 * so the search's last probe has already loaded the answer. Each table's
 * intervals end with a sentinel starting past every port, so the final
 * steps of a search scan forward without a bound.
 */
struct nbg_iv {
	u32 start;
	u32 rank;
};

#define NBG_IV_END	0x10000U

/* Binary search down to this many intervals, then a scan (cheaper). */
#ifndef NBG_SCAN_MAX
#define NBG_SCAN_MAX	4
#endif

/*
 * Every table has a bucket index over the ports from where its second
 * interval starts (lo) to where its last one does: bucket h covers
 * 1 << shift ports from lo + (h << shift), and iv_bkt[bkt + h] is the
 * index in ivs[] of the interval holding its first port, except that
 * bucket 0 also takes the ports below lo and the last bucket those past
 * the end; one more entry ends the last bucket. The shift is the smallest
 * giving at most NBG_BKT_MUL buckets per interval, so rules' ports
 * clustered anywhere still spread over the buckets and the binary search
 * usually covers an interval or two; the index costs at most 4 bytes per
 * bucket, less than the intervals themselves.
 */
#ifndef NBG_BKT_MUL
#define NBG_BKT_MUL	1
#endif

struct nbg_rank {
	u32 index;		/* in the description's rules[] */
	u32 id;
	u32 action;
};

struct nbg_classifier {
	struct nbg_lpm lpm[2];	/* IPv4, IPv6 */
	u32 wild[__NBG_DIR_MAX];	/* remote-any rules alone */
	u32 wild_sep[__NBG_DIR_MAX];	/* same, or 0 if merged into classes */
	const struct nbg_node *nodes;
	const struct nbg_ident *idents;
	const u32 *u32s;
	const struct nbg_prefix *pfx;
	const struct nbg_lsel *lsels;
	const struct nbg_class *classes;
	const struct nbg_sub *subs;
	const struct nbg_tiny *tiny;
	const struct nbg_ptab *ptabs;
	const struct nbg_iv *ivs;
	const u32 *iv_bkt;
	const struct nbg_rank *ranks;
	size_t mem;
};

/* ---- lookup ---- */

/* Address bytes as key words: a plain load, no byte swapping. */
static __always_inline void nbg_words(const u8 *a, u32 kw, u32 *w)
{
	memcpy(w, a, kw * sizeof(u32));
}

static __always_inline u64 nbg_lpm_seed(u32 len)
{
	return (len + 1) * 0x9E3779B97F4A7C15ULL;
}

static __always_inline u32 nbg_hash(const u32 *w, u32 kw, u64 seed)
{
	u64 h = seed;
	u32 i;

	for (i = 0; i < kw; i++)
		h = (h ^ w[i]) * 0xff51afd7ed558ccdULL;
	return h >> 32;
}

/*
 * Does slot @s hold prefix @key/@len? An empty slot's length (U32_MAX)
 * matches no prefix length. @kw is a constant at every call site, so
 * each family gets its own code.
 */
static __always_inline bool nbg_slot_is(const u32 *s, const u32 *key,
					u32 len, u32 kw)
{
	return s[kw] == len && s[0] == key[0] &&
	       (kw == 1 || (s[1] == key[1] && s[2] == key[2] &&
			    s[3] == key[3]));
}

/* The node of exactly @key/@len, or NBG_NONE. */
static __always_inline u32 nbg_lpm_probe(const struct nbg_lpm *t,
					 const u32 *key, u32 len, u64 seed,
					 u32 kw)
{
	u32 h = nbg_hash(key, kw, seed) & t->mask;
	const u32 *s;

	for (;; h = (h + 1) & t->mask) {
		s = t->slots + (size_t)h * (kw + 2);
		if (nbg_slot_is(s, key, len, kw))
			return s[kw + 1];
		if (s[kw + 1] == NBG_NONE)
			return NBG_NONE;
	}
}

/* A match returns from inside the probe loop: nothing to test after. */
static __always_inline u32 nbg_lpm_find_kw(const struct nbg_lpm *t,
					   const u32 *w, u32 kw)
{
	const struct nbg_lpm_len *l = t->lens, *end = l + t->n_lens;
	u32 key[4], j, h;
	const u32 *s;

	for (; l < end; l++) {
		for (j = 0; j < kw; j++)
			key[j] = w[j] & l->mask[j];
		h = nbg_hash(key, kw, l->seed) & t->mask;
		for (;; h = (h + 1) & t->mask) {
			s = t->slots + (size_t)h * (kw + 2);
			if (nbg_slot_is(s, key, l->len, kw))
				return s[kw + 1];
			if (s[kw + 1] == NBG_NONE)
				break;
		}
	}
	return NBG_NONE;
}

/* The node with the longest prefix containing @w, or NBG_NONE. */
static u32 nbg_lpm_find(const struct nbg_lpm *t, const u32 *w)
{
	return t->kw == 1 ? nbg_lpm_find_kw(t, w, 1) : nbg_lpm_find_kw(t, w, 4);
}

static __always_inline u32 nbg_lpm_v4(const struct nbg_classifier *c,
				      const u8 *a)
{
	u32 w[1];

	nbg_words(a, 1, w);
	return nbg_lpm_find_kw(&c->lpm[0], w, 1);
}

static __always_inline u32 nbg_lpm_v6(const struct nbg_classifier *c,
				      const u8 *a)
{
	u32 w[4];

	nbg_words(a, 4, w);
	return nbg_lpm_find_kw(&c->lpm[1], w, 4);
}

/* The node of a packet address (4 or 16 bytes, network order). */
static __always_inline u32 nbg_lpm_addr(const struct nbg_classifier *c,
					u8 family, const u8 *a)
{
	return family == AF_INET ? nbg_lpm_v4(c, a) : nbg_lpm_v6(c, a);
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

static bool nbg_u32_in(const u32 *a, u32 n, u32 x)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (a[mid] == x)
			return true;
		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Does the packet's local address (dst in, src out) match local selector
 * @li? Out of line: rare, and it would bloat the hot path's register use.
 */
static noinline bool nbg_lsel_has(const struct nbg_classifier *c, u32 li,
				  const struct nbg_pkt *p)
{
	const struct nbg_lsel *ls = &c->lsels[li];
	const u8 *local = p->direction == NBG_DIR_IN ? p->daddr.raw :
						      p->saddr.raw;
	const struct nbg_ident *id;
	u32 i, node;

	for (i = 0; i < ls->n_pfx; i++)
		if (nbg_prefix_has(&c->pfx[ls->pfx + i], p->family, local))
			return true;
	if (!ls->n_idents && !ls->n_groups)
		return false;
	node = nbg_lpm_addr(c, p->family, local);
	if (node == NBG_NONE || c->nodes[node].ident == NBG_NONE)
		return false;
	id = &c->idents[c->nodes[node].ident];
	if (nbg_u32_in(c->u32s + ls->idents, ls->n_idents, id->id))
		return true;
	for (i = 0; i < id->n_groups; i++)
		if (nbg_u32_in(c->u32s + ls->groups, ls->n_groups,
			       c->u32s[id->groups + i]))
			return true;
	return false;
}

/* Best rank on the interval holding @port (the first starts at 0). */
static __always_inline u32 nbg_ptab_rank(const struct nbg_classifier *c,
					 const struct nbg_pt *pt, u32 port)
{
	u32 h = (port - pt->lo) >> pt->shift, n, half;
	const struct nbg_iv *base;
	const u32 *b;

	if (unlikely(h >= pt->nb))
		h = port < pt->lo ? 0 : pt->nb - 1;
	b = c->iv_bkt + pt->bkt + h;
	base = c->ivs + b[0];
	n = b[1] - b[0] + 1;

	while (n > NBG_SCAN_MAX) {
		half = n / 2;
		base = base[half].start <= port ? base + half : base;
		n -= half;
	}
	while (base[1].start <= port)
		base++;
	return base->rank;
}

/* Protocols other than tcp and udp: rare, kept out of line. */
static noinline u32 nbg_sub_rank_other(const struct nbg_classifier *c,
				       const struct nbg_sub *sub,
				       const struct nbg_pkt *p)
{
	const struct nbg_ptab *pt = c->ptabs + sub->ptabs;
	const struct nbg_ptab *end = pt + sub->n_ptabs;

	for (; pt < end; pt++)
		if (pt->proto == p->proto)
			return nbg_ptab_rank(c, &pt->pt, p->dport);
	return sub->any_rank;
}

static __always_inline u32 nbg_sub_rank(const struct nbg_classifier *c,
					const struct nbg_sub *sub,
					const struct nbg_pkt *p)
{
	if (p->proto == IPPROTO_TCP)
		return nbg_ptab_rank(c, &sub->tcp, p->dport);
	if (p->proto == IPPROTO_UDP)
		return nbg_ptab_rank(c, &sub->udp, p->dport);
	return nbg_sub_rank_other(c, sub, p);
}

/* Subtables of rules with a local selector: rare, kept out of line. */
static noinline u32 nbg_lsel_subs_rank(const struct nbg_classifier *c,
				       const struct nbg_class *cl,
				       const struct nbg_pkt *p, u32 best)
{
	const struct nbg_sub *sub = c->subs + cl->subs;
	const struct nbg_sub *end = sub + cl->n_subs;

	for (; sub < end && sub->min_rank < best; sub++)
		if (nbg_lsel_has(c, sub->lsel, p))
			best = min(best, nbg_sub_rank(c, sub, p));
	return best;
}

static __always_inline u32 nbg_class_rank(const struct nbg_classifier *c,
					  const struct nbg_class *cl,
					  const struct nbg_pkt *p, u32 best)
{
	const struct nbg_tiny *t, *end;

	if (cl->n_tiny) {
		/* by rank: the first match is the best */
		t = c->tiny + cl->tiny;
		for (end = t + cl->n_tiny; t < end && t->rank < best; t++)
			if ((t->proto == p->proto ||
			     t->proto == NBG_ANY_PROTO) &&
			    t->lo <= p->dport && p->dport <= t->hi)
				return t->rank;
		return best;
	}
	if (cl->any.min_rank < best)
		best = min(best, nbg_sub_rank(c, &cl->any, p));
	if (cl->subs_min < best)
		best = nbg_lsel_subs_rank(c, cl, p, best);
	return best;
}

/*
 * Most classes cannot beat what is found. Class 0 is empty: its min_rank
 * is NBG_NONE, so the test of the index itself is only a shortcut, for
 * the places where class 0 is the common case (@maybe_empty, a constant).
 */
static __always_inline u32 nbg_class_best(const struct nbg_classifier *c,
					  u32 ci, const struct nbg_pkt *p,
					  u32 best, bool maybe_empty)
{
	const struct nbg_class *cl = &c->classes[ci];

	if ((maybe_empty && !ci) || cl->min_rank >= best)
		return best;
	return nbg_class_rank(c, cl, p, best);
}

void nbg_classify(const struct nbg_classifier *c, const struct nbg_pkt *p,
		  struct nbg_verdict *v)
{
	const struct nbg_node *node;
	u32 ni, best, dir = p->direction;
	const struct nbg_rank *rk;
	const u8 *remote;

	if (unlikely(dir >= __NBG_DIR_MAX))
		goto bad;
	remote = dir == NBG_DIR_IN ? p->saddr.raw : p->daddr.raw;
	if (likely(p->family == AF_INET))
		ni = nbg_lpm_v4(c, remote);
	else if (p->family == AF_INET6)
		ni = nbg_lpm_v6(c, remote);
	else
		goto bad;
	if (likely(ni != NBG_NONE)) {
		node = &c->nodes[ni];
		v->ident_id = node->ident_id;
		/*
		 * Rules naming the identity first: few, usually a tiny scan,
		 * and a deny found there spares the larger class. wild_sep
		 * is the empty class when wildcards were merged.
		 */
		best = nbg_class_best(c, node->dcls[dir], p, NBG_NONE, true);
		best = nbg_class_best(c, node->cls[dir], p, best, false);
		best = nbg_class_best(c, c->wild_sep[dir], p, best, true);
	} else {
		v->ident_id = 0;
		best = nbg_class_best(c, c->wild[dir], p, NBG_NONE, false);
	}
	if (best == NBG_NONE) {
		v->action = NBG_ACTION_NONE;
		v->rule_id = 0;
		v->rule_index = 0;
		return;
	}
	rk = &c->ranks[best];
	v->action = rk->action;
	v->rule_id = rk->id;
	v->rule_index = rk->index;
	return;
bad:
	memset(v, 0, sizeof(*v));
}

size_t nbg_classifier_mem(const struct nbg_classifier *c)
{
	return c ? c->mem : 0;
}

void nbg_classifier_free(struct nbg_classifier *c)
{
	if (!c)
		return;
	kvfree(c->lpm[0].slots);
	kvfree(c->lpm[1].slots);
	kvfree(c->nodes);
	kvfree(c->idents);
	kvfree(c->u32s);
	kvfree(c->pfx);
	kvfree(c->lsels);
	kvfree(c->classes);
	kvfree(c->subs);
	kvfree(c->tiny);
	kvfree(c->ptabs);
	kvfree(c->ivs);
	kvfree(c->iv_bkt);
	kvfree(c->ranks);
	kvfree(c);
}

/* ---------------------------------------------------------------------- */
/* Build                                                                  */
/* ---------------------------------------------------------------------- */

/*
 * A growable array; build-time only. The capacity is in bytes, so a
 * scratch vector may be reused for another element type after n = 0.
 */
struct nbg_vec {
	void *p;
	u32 n;
	size_t capb;
};

static void *nbg_vec_add(struct nbg_vec *v, size_t elsz, u32 count)
{
	size_t need = ((size_t)v->n + count) * elsz, capb;
	void *np;

	if ((u64)v->n + count > U32_MAX / 2)
		return NULL;
	if (need > v->capb || !v->p) {
		capb = max(max(v->capb * 2, need), (size_t)64);
		np = kvmalloc(capb, NBG_GFP);
		if (!np)
			return NULL;
		if (v->n)
			memcpy(np, v->p, (size_t)v->n * elsz);
		kvfree(v->p);
		v->p = np;
		v->capb = capb;
	}
	np = (u8 *)v->p + (size_t)v->n * elsz;
	v->n += count;
	return np;
}

#define VEC(v, type)	((type *)(v).p)

/*
 * An open-addressing set of u32 values keyed by a 32-bit hash; equality is
 * decided by the caller's callback, so one implementation deduplicates
 * classes, group lists and local selectors.
 */
struct nbg_map {
	u32 *val, *hash;
	u32 mask, n;
};

struct nbg_build;
typedef bool (*nbg_eq_t)(struct nbg_build *b, const void *key, u32 val);

static int nbg_map_init(struct nbg_map *m, u32 want)
{
	u32 size = 16;

	m->val = NULL;
	m->hash = NULL;
	if (want > (1U << 29))
		return -ENOMEM;
	while (size < 2 * want)
		size *= 2;
	m->val = kvmalloc_array(size, sizeof(u32), NBG_GFP);
	m->hash = kvmalloc_array(size, sizeof(u32), NBG_GFP);
	if (!m->val || !m->hash)
		return -ENOMEM;
	memset(m->val, 0xff, size * sizeof(u32));
	m->mask = size - 1;
	m->n = 0;
	return 0;
}

static void nbg_map_free(struct nbg_map *m)
{
	kvfree(m->val);
	kvfree(m->hash);
}

static u32 nbg_map_find(struct nbg_build *b, const struct nbg_map *m, u32 h,
			nbg_eq_t eq, const void *key)
{
	u32 i;

	for (i = h & m->mask; m->val[i] != NBG_NONE; i = (i + 1) & m->mask)
		if (m->hash[i] == h && eq(b, key, m->val[i]))
			return m->val[i];
	return NBG_NONE;
}

static void nbg_map_put(struct nbg_map *m, u32 h, u32 val)
{
	u32 i;

	for (i = h & m->mask; m->val[i] != NBG_NONE; i = (i + 1) & m->mask)
		;
	m->val[i] = val;
	m->hash[i] = h;
	m->n++;
}

static int nbg_map_add(struct nbg_map *m, u32 h, u32 val)
{
	if (2 * (m->n + 1) > m->mask + 1) {
		struct nbg_map bigger;
		u32 i;

		if (nbg_map_init(&bigger, m->mask + 1)) {
			nbg_map_free(&bigger);
			return -ENOMEM;
		}
		for (i = 0; i <= m->mask; i++)
			if (m->val[i] != NBG_NONE)
				nbg_map_put(&bigger, m->hash[i], m->val[i]);
		nbg_map_free(m);
		*m = bigger;
	}
	nbg_map_put(m, h, val);
	return 0;
}

static u32 nbg_hash_u32s(const u32 *a, u32 n, u32 seed)
{
	u64 h = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ n;
	u32 i;

	for (i = 0; i < n; i++)
		h = (h ^ a[i]) * 0xff51afd7ed558ccdULL;
	return h >> 32;
}

static int nbg_u32_sort_unique(u32 *a, u32 n)
{
	u32 i, k = 0;

	sort(a, n, sizeof(*a), nbg_u32_cmp, NULL);
	for (i = 0; i < n; i++)
		if (!k || a[i] != a[k - 1])
			a[k++] = a[i];
	return k;
}

/* A rule reaching remote addresses through an identity, group or node. */
enum { NBG_VIA_IDENT, NBG_VIA_GROUP, NBG_VIA_NODE, NBG_VIA_ANY };

struct nbg_via {
	u32 dir_kind;		/* dir * 4 + kind */
	u32 key;		/* identity index, group id or node index */
	u32 rank;
};

static int nbg_via_cmp(const void *a, const void *b)
{
	const struct nbg_via *x = a, *y = b;

	if (x->dir_kind != y->dir_kind)
		return x->dir_kind < y->dir_kind ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* A prefix becoming a node: an identity's, a remote selector's, or both. */
struct nbg_pent {
	u8 fi, len;		/* family index, prefix length */
	bool sel;		/* used by a remote selector */
	u32 w[4];		/* address words, host order */
	u32 ident;		/* owning identity index or NBG_NONE */
};

static int nbg_pent_cmp(const void *a, const void *b)
{
	const struct nbg_pent *x = a, *y = b;
	u32 i;

	if (x->fi != y->fi)
		return x->fi < y->fi ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	for (i = 0; i < 4; i++)
		if (x->w[i] != y->w[i])
			return x->w[i] < y->w[i] ? -1 : 1;
	return 0;
}

struct nbg_idmap {
	u32 id, index;
};

static int nbg_idmap_cmp(const void *a, const void *b)
{
	return nbg_u32_cmp(a, b);	/* id is the first member */
}

struct nbg_build {
	const struct nbg_ruleset_desc *d;
	struct nbg_classifier *c;
	const char *err;

	/* what becomes the classifier's arrays */
	struct nbg_vec nodes, idents, u32s, pfx, lsels, classes, subs, tiny,
		       ptabs, ivs, iv_bkt;

	u32 *rank_of;			/* rank of rules[i] */
	struct nbg_rank *ranks;
	u32 *rank_lsel;			/* local selector of a rank */
	struct nbg_idmap *idmap;	/* identity id -> index, by id */
	struct nbg_via *via;
	u32 n_via;
	u32 *parent, *psel;		/* per node, build-time */
	u32 *ident_dcls;		/* per identity and direction */
	u32 *ident_glist;		/* identity with the same group list */

	struct nbg_map glist_map, lsel_map, memo_map, class_map;
	struct nbg_vec memo;		/* u32 triples: dir, glist, psel */
	struct nbg_vec class_ranks;	/* u32: every class's rank list */
	struct nbg_vec class_roff;	/* u32 pairs: offset, count */
	struct nbg_vec tmp, tmp2, tmp3;	/* scratch */
};

static u32 *nbg_words_vec(struct nbg_vec *v, const u32 *src, u32 n)
{
	u32 *p = nbg_vec_add(v, sizeof(u32), n);

	if (p && n)
		memcpy(p, src, n * sizeof(u32));
	return p;
}

/* ---- ranks ---- */

/* Sort key of a rule: denies first, then by id. */
struct nbg_rkey {
	u32 allow, id, index;
};

static int nbg_rkey_cmp(const void *a, const void *b)
{
	const struct nbg_rkey *x = a, *y = b;

	if (x->allow != y->allow)
		return x->allow < y->allow ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int nbg_build_ranks(struct nbg_build *b)
{
	const struct nbg_ruleset_desc *d = b->d;
	u32 i, n = d->n_rules;
	struct nbg_rkey *k;

	b->ranks = kvmalloc_array(max(n, 1U), sizeof(*b->ranks), NBG_GFP);
	b->rank_of = kvmalloc_array(max(n, 1U), sizeof(u32), NBG_GFP);
	b->rank_lsel = kvmalloc_array(max(n, 1U), sizeof(u32), NBG_GFP);
	k = kvmalloc_array(max(n, 1U), sizeof(*k), NBG_GFP);
	if (!b->ranks || !b->rank_of || !b->rank_lsel || !k) {
		kvfree(k);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		k[i].allow = d->rules[i].action != NBG_ACTION_DENY;
		k[i].id = d->rules[i].id;
		k[i].index = i;
	}
	sort(k, n, sizeof(*k), nbg_rkey_cmp, NULL);
	for (i = 0; i < n; i++) {
		b->ranks[i].index = k[i].index;
		b->ranks[i].id = k[i].id;
		b->ranks[i].action = k[i].allow ? NBG_ACTION_ALLOW :
						  NBG_ACTION_DENY;
		b->rank_of[k[i].index] = i;
	}
	kvfree(k);
	return 0;
}

/* ---- identities ---- */

static bool nbg_glist_eq(struct nbg_build *b, const void *key, u32 val)
{
	const struct nbg_ident *a = key, *o = &VEC(b->idents, struct nbg_ident)[val];

	return a->n_groups == o->n_groups &&
	       !memcmp(VEC(b->u32s, u32) + a->groups,
		       VEC(b->u32s, u32) + o->groups, a->n_groups * sizeof(u32));
}

/* Identities with equal group sets share one stored list. */
static int nbg_build_idents(struct nbg_build *b)
{
	const struct nbg_ruleset_desc *d = b->d;
	struct nbg_ident *id;
	u32 i, n, h, same;
	u32 *g;

	b->idmap = kvmalloc_array(max(d->n_idents, 1U), sizeof(*b->idmap),
				  NBG_GFP);
	b->ident_glist = kvmalloc_array(max(d->n_idents, 1U), sizeof(u32),
					NBG_GFP);
	b->ident_dcls = kvmalloc_array(max(d->n_idents, 1U) * 2, sizeof(u32),
				       NBG_GFP);
	if (!b->idmap || !b->ident_glist || !b->ident_dcls ||
	    nbg_map_init(&b->glist_map, 64) ||
	    !nbg_vec_add(&b->idents, sizeof(*id), d->n_idents))
		return -ENOMEM;
	memset(b->ident_dcls, 0xff, max(d->n_idents, 1U) * 2 * sizeof(u32));
	for (i = 0; i < d->n_idents; i++) {
		const struct nbg_ident_desc *src = &d->idents[i];

		b->idmap[i].id = src->id;
		b->idmap[i].index = i;
		g = nbg_words_vec(&b->u32s, src->groups, src->n_groups);
		if (!g)
			return -ENOMEM;
		n = nbg_u32_sort_unique(g, src->n_groups);
		id = &VEC(b->idents, struct nbg_ident)[i];
		id->id = src->id;
		id->groups = b->u32s.n - src->n_groups;
		id->n_groups = n;
		h = nbg_hash_u32s(g, n, 0);
		same = nbg_map_find(b, &b->glist_map, h, nbg_glist_eq, id);
		if (same != NBG_NONE) {
			b->u32s.n -= src->n_groups;
			id->groups = VEC(b->idents, struct nbg_ident)[same].groups;
			b->ident_glist[i] = same;
			continue;
		}
		b->u32s.n -= src->n_groups - n;
		b->ident_glist[i] = i;
		if (nbg_map_add(&b->glist_map, h, i))
			return -ENOMEM;
		if (!(i & 1023))
			cond_resched();
	}
	sort(b->idmap, d->n_idents, sizeof(*b->idmap), nbg_idmap_cmp, NULL);
	return 0;
}

static u32 nbg_ident_index(struct nbg_build *b, u32 id)
{
	struct nbg_idmap key = { .id = id }, *m;

	m = bsearch(&key, b->idmap, b->d->n_idents, sizeof(*m),
		    nbg_idmap_cmp);
	return m ? m->index : NBG_NONE;
}

/* ---- nodes and the prefix tables ---- */

static bool nbg_sel_is_any(const struct nbg_selector *s)
{
	return s->any || !(s->n_idents + s->n_groups + s->n_prefixes);
}

static const struct nbg_selector *nbg_remote_sel(const struct nbg_rule_desc *r)
{
	return r->direction == NBG_DIR_IN ? &r->src : &r->dst;
}

static const struct nbg_selector *nbg_local_sel(const struct nbg_rule_desc *r)
{
	return r->direction == NBG_DIR_IN ? &r->dst : &r->src;
}

static void nbg_pent_set(struct nbg_pent *e, const struct nbg_prefix *p,
			 u32 ident)
{
	memset(e, 0, sizeof(*e));
	e->fi = p->family == AF_INET6;
	e->len = p->len;
	nbg_words(p->addr.raw, e->fi ? 4 : 1, e->w);
	e->ident = ident;
	e->sel = ident == NBG_NONE;
}

static void nbg_lpm_add_len(struct nbg_lpm *t, u8 len)
{
	struct nbg_lpm_len *l;
	u8 mask[16];
	u32 i;

	for (i = 0; i < t->n_lens && t->lens[i].len > len; i++)
		;
	if (i < t->n_lens && t->lens[i].len == len)
		return;
	memmove(&t->lens[i + 1], &t->lens[i],
		(t->n_lens - i) * sizeof(t->lens[0]));
	l = &t->lens[i];
	memset(mask, 0, sizeof(mask));
	memset(mask, 0xff, len / 8);
	if (len % 8)
		mask[len / 8] = 0xff00 >> (len % 8);
	memcpy(l->mask, mask, sizeof(l->mask));
	l->len = len;
	l->seed = nbg_lpm_seed(len);
	t->n_lens++;
}

static void nbg_lpm_insert(struct nbg_lpm *t, const struct nbg_pent *e,
			   u32 node)
{
	u32 stride = t->kw + 2;
	u32 h = nbg_hash(e->w, t->kw, nbg_lpm_seed(e->len)) & t->mask;
	u32 *s;

	for (;; h = (h + 1) & t->mask) {
		s = t->slots + (size_t)h * stride;
		if (s[t->kw + 1] == NBG_NONE)
			break;
	}
	memcpy(s, e->w, t->kw * sizeof(u32));
	s[t->kw] = e->len;
	s[t->kw + 1] = node;
	nbg_lpm_add_len(t, e->len);
}

static int nbg_lpm_alloc(struct nbg_classifier *c, u32 fi, u32 n)
{
	struct nbg_lpm *t = &c->lpm[fi];
	u32 size = 4;

	if (n > (1U << 29))
		return -ENOMEM;
	while (size < 2 * n)
		size *= 2;
	t->kw = fi ? 4 : 1;
	t->mask = size - 1;
	t->slots = kvmalloc_array(size, (t->kw + 2) * sizeof(u32), NBG_GFP);
	if (!t->slots)
		return -ENOMEM;
	memset(t->slots, 0xff, (size_t)size * (t->kw + 2) * sizeof(u32));
	c->mem += (size_t)size * (t->kw + 2) * sizeof(u32);
	return 0;
}

/* Collect identity and remote-selector prefixes, one node per distinct one. */
static int nbg_build_nodes(struct nbg_build *b)
{
	const struct nbg_ruleset_desc *d = b->d;
	struct nbg_classifier *c = b->c;
	struct nbg_pent *e;
	u32 i, j, k, n = 0, per_fam[2] = { 0, 0 };

	b->tmp.n = 0;
	for (i = 0; i < d->n_idents; i++) {
		for (j = 0; j < d->idents[i].n_prefixes; j++) {
			e = nbg_vec_add(&b->tmp, sizeof(*e), 1);
			if (!e)
				return -ENOMEM;
			nbg_pent_set(e, &d->idents[i].prefixes[j], i);
		}
	}
	for (i = 0; i < d->n_rules; i++) {
		const struct nbg_selector *s = nbg_remote_sel(&d->rules[i]);

		if (nbg_sel_is_any(s))
			continue;
		for (j = 0; j < s->n_prefixes; j++) {
			e = nbg_vec_add(&b->tmp, sizeof(*e), 1);
			if (!e)
				return -ENOMEM;
			nbg_pent_set(e, &s->prefixes[j], NBG_NONE);
		}
	}
	e = b->tmp.p;
	sort(e, b->tmp.n, sizeof(*e), nbg_pent_cmp, NULL);
	/* merge equal prefixes: validation ensured one identity at most */
	for (i = 0; i < b->tmp.n; i++) {
		if (n && !nbg_pent_cmp(&e[n - 1], &e[i])) {
			e[n - 1].sel |= e[i].sel;
			if (e[i].ident != NBG_NONE)
				e[n - 1].ident = e[i].ident;
			continue;
		}
		e[n++] = e[i];
		per_fam[e[i].fi]++;
	}
	b->tmp.n = n;
	for (k = 0; k < 2; k++)
		if (nbg_lpm_alloc(c, k, per_fam[k]))
			return -ENOMEM;
	b->parent = kvmalloc_array(max(n, 1U), sizeof(u32), NBG_GFP);
	b->psel = kvmalloc_array(max(n, 1U), sizeof(u32), NBG_GFP);
	if (!b->parent || !b->psel ||
	    !nbg_vec_add(&b->nodes, sizeof(struct nbg_node), n))
		return -ENOMEM;
	/*
	 * Sorted by length, so every ancestor of a node is inserted before
	 * it: the longest match at that moment is its parent.
	 */
	for (i = 0; i < n; i++) {
		struct nbg_node *node = &VEC(b->nodes, struct nbg_node)[i];
		struct nbg_lpm *t = &c->lpm[e[i].fi];
		u32 p = nbg_lpm_find(t, e[i].w);

		b->parent[i] = p;
		node->ident = e[i].ident;
		if (node->ident == NBG_NONE && p != NBG_NONE)
			node->ident = VEC(b->nodes, struct nbg_node)[p].ident;
		node->ident_id = node->ident == NBG_NONE ? 0 :
				 d->idents[node->ident].id;
		b->psel[i] = e[i].sel ? i : p != NBG_NONE ? b->psel[p] : NBG_NONE;
		nbg_lpm_insert(t, &e[i], i);
		if (!(i & 1023))
			cond_resched();
	}
	return 0;
}

static u32 nbg_node_of(struct nbg_build *b, const struct nbg_prefix *p)
{
	const struct nbg_lpm *t = &b->c->lpm[p->family == AF_INET6];
	struct nbg_pent e;

	nbg_pent_set(&e, p, NBG_NONE);
	return e.fi ? nbg_lpm_probe(t, e.w, e.len, nbg_lpm_seed(e.len), 4) :
		      nbg_lpm_probe(t, e.w, e.len, nbg_lpm_seed(e.len), 1);
}

/* ---- local selectors ---- */

static int nbg_prefix_cmp(const void *a, const void *b)
{
	const struct nbg_prefix *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->addr.raw, y->addr.raw, 16);
}

static bool nbg_lsel_eq(struct nbg_build *b, const void *key, u32 val)
{
	const struct nbg_lsel *a = key, *o = &VEC(b->lsels, struct nbg_lsel)[val];
	const u32 *w = b->u32s.p;

	return a->n_idents == o->n_idents && a->n_groups == o->n_groups &&
	       a->n_pfx == o->n_pfx &&
	       !memcmp(w + a->idents, w + o->idents, a->n_idents * 4) &&
	       !memcmp(w + a->groups, w + o->groups, a->n_groups * 4) &&
	       !memcmp(VEC(b->pfx, struct nbg_prefix) + a->pfx,
		       VEC(b->pfx, struct nbg_prefix) + o->pfx,
		       a->n_pfx * sizeof(struct nbg_prefix));
}

/* Canonical copy of a rule's local selector, shared with equal ones. */
static int nbg_build_lsel(struct nbg_build *b, const struct nbg_selector *s,
			  u32 *out)
{
	struct nbg_lsel ls;
	struct nbg_prefix *p;
	u32 *w, h, i, k, found, u32s_n = b->u32s.n, pfx_n = b->pfx.n;

	if (nbg_sel_is_any(s)) {
		*out = NBG_NONE;
		return 0;
	}
	w = nbg_words_vec(&b->u32s, s->idents, s->n_idents);
	if (!w)
		return -ENOMEM;
	ls.idents = u32s_n;
	ls.n_idents = nbg_u32_sort_unique(w, s->n_idents);
	b->u32s.n = ls.idents + ls.n_idents;
	w = nbg_words_vec(&b->u32s, s->groups, s->n_groups);
	if (!w)
		return -ENOMEM;
	ls.groups = b->u32s.n - s->n_groups;
	ls.n_groups = nbg_u32_sort_unique(w, s->n_groups);
	b->u32s.n = ls.groups + ls.n_groups;
	p = nbg_vec_add(&b->pfx, sizeof(*p), s->n_prefixes);
	if (!p)
		return -ENOMEM;
	for (i = 0; i < s->n_prefixes; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].family = s->prefixes[i].family;
		p[i].len = s->prefixes[i].len;
		memcpy(p[i].addr.raw, s->prefixes[i].addr.raw,
		       p[i].family == AF_INET ? 4 : 16);
	}
	sort(p, s->n_prefixes, sizeof(*p), nbg_prefix_cmp, NULL);
	for (i = 0, k = 0; i < s->n_prefixes; i++)
		if (!k || nbg_prefix_cmp(&p[k - 1], &p[i]))
			p[k++] = p[i];
	ls.pfx = pfx_n;
	ls.n_pfx = k;
	b->pfx.n = pfx_n + k;

	h = nbg_hash_u32s(VEC(b->u32s, u32) + u32s_n, b->u32s.n - u32s_n,
			  ls.n_idents * 31 + ls.n_pfx);
	for (i = 0; i < k; i++)
		h = nbg_hash_u32s((const u32 *)&p[i], sizeof(p[i]) / 4, h);
	found = nbg_map_find(b, &b->lsel_map, h, nbg_lsel_eq, &ls);
	if (found != NBG_NONE) {
		b->u32s.n = u32s_n;
		b->pfx.n = pfx_n;
		*out = found;
		return 0;
	}
	*out = b->lsels.n;
	if (!nbg_vec_add(&b->lsels, sizeof(ls), 1) ||
	    nbg_map_add(&b->lsel_map, h, *out))
		return -ENOMEM;
	VEC(b->lsels, struct nbg_lsel)[*out] = ls;
	return 0;
}

/* ---- which rules reach which remote addresses ---- */

static int nbg_add_via(struct nbg_build *b, u32 dir, u32 kind, u32 key,
		       u32 rank)
{
	struct nbg_via *v = nbg_vec_add(&b->tmp, sizeof(*v), 1);

	if (!v)
		return -ENOMEM;
	v->dir_kind = dir * 4 + kind;
	v->key = key;
	v->rank = rank;
	return 0;
}

static int nbg_build_via(struct nbg_build *b)
{
	const struct nbg_ruleset_desc *d = b->d;
	u32 i, j, rank, dir;
	int ret;

	b->tmp.n = 0;
	if (nbg_map_init(&b->lsel_map, 64))
		return -ENOMEM;
	for (i = 0; i < d->n_rules; i++) {
		const struct nbg_rule_desc *r = &d->rules[i];
		const struct nbg_selector *s = nbg_remote_sel(r);

		rank = b->rank_of[i];
		dir = r->direction;
		ret = nbg_build_lsel(b, nbg_local_sel(r), &b->rank_lsel[rank]);
		if (ret)
			return ret;
		if (nbg_sel_is_any(s)) {
			ret = nbg_add_via(b, dir, NBG_VIA_ANY, 0, rank);
			if (ret)
				return ret;
			continue;
		}
		for (j = 0; j < s->n_idents; j++) {
			ret = nbg_add_via(b, dir, NBG_VIA_IDENT,
					  nbg_ident_index(b, s->idents[j]), rank);
			if (ret)
				return ret;
		}
		for (j = 0; j < s->n_groups; j++) {
			ret = nbg_add_via(b, dir, NBG_VIA_GROUP, s->groups[j],
					  rank);
			if (ret)
				return ret;
		}
		for (j = 0; j < s->n_prefixes; j++) {
			ret = nbg_add_via(b, dir, NBG_VIA_NODE,
					  nbg_node_of(b, &s->prefixes[j]), rank);
			if (ret)
				return ret;
		}
		if (!(i & 1023))
			cond_resched();
	}
	sort(b->tmp.p, b->tmp.n, sizeof(struct nbg_via), nbg_via_cmp, NULL);
	b->via = b->tmp.p;
	b->n_via = b->tmp.n;
	b->tmp.p = NULL;
	b->tmp.n = 0;
	b->tmp.capb = 0;
	return 0;
}

/* Append the ranks of rules reaching (dir, kind, key) to tmp. */
static int nbg_via_ranks(struct nbg_build *b, u32 dir, u32 kind, u32 key)
{
	struct nbg_via k = { dir * 4 + kind, key, 0 };
	u32 lo = 0, hi = b->n_via, *out;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (nbg_via_cmp(&b->via[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < b->n_via && b->via[lo].dir_kind == k.dir_kind &&
	       b->via[lo].key == key; lo++) {
		out = nbg_vec_add(&b->tmp, sizeof(u32), 1);
		if (!out)
			return -ENOMEM;
		*out = b->via[lo].rank;
	}
	return 0;
}

/* ---- compiling a class ---- */

/* Rule of a rank, as the subtable compiler sorts them. */
struct nbg_crule {
	u32 lsel, proto, rank;
};

/* tcp, then udp, then the rest by number: the scan finds them first */
static u32 nbg_proto_order(u32 proto)
{
	return proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 :
	       proto + 2;
}

static int nbg_crule_cmp(const void *a, const void *b)
{
	const struct nbg_crule *x = a, *y = b;

	if (x->lsel != y->lsel)
		return x->lsel < y->lsel ? -1 : 1;
	if (x->proto != y->proto)
		return nbg_proto_order(x->proto) < nbg_proto_order(y->proto) ?
		       -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int nbg_sub_cmp(const void *a, const void *b)
{
	const struct nbg_sub *x = a, *y = b;

	return x->min_rank < y->min_rank ? -1 : x->min_rank > y->min_rank;
}

static u32 nbg_find_start(const u32 *s, u32 n, u32 x)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (s[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static u32 nbg_dsu_find(u32 *next, u32 i)
{
	while (next[i] != i) {
		next[i] = next[next[i]];
		i = next[i];
	}
	return i;
}

static int nbg_build_bkt(struct nbg_build *b, struct nbg_pt *pt, u32 iv,
			 u32 n_iv)
{
	const struct nbg_iv *s = VEC(b->ivs, struct nbg_iv) + iv;
	u32 h, i = 0, span, *bkt;

	pt->lo = n_iv > 1 ? s[1].start : 0;
	span = n_iv > 1 ? s[n_iv - 1].start - pt->lo : 0;
	for (pt->shift = 0; pt->shift < 16 &&
	     (span >> pt->shift) + 1 > max(NBG_BKT_MUL * n_iv, 1U);
	     pt->shift++)
		;
	pt->nb = (span >> pt->shift) + 1;
	bkt = nbg_vec_add(&b->iv_bkt, sizeof(u32), pt->nb + 1);
	if (!bkt)
		return -ENOMEM;
	pt->bkt = b->iv_bkt.n - (pt->nb + 1);
	bkt[0] = iv;
	for (h = 1; h < pt->nb; h++) {
		while (i + 1 < n_iv && s[i + 1].start <= pt->lo + (h << pt->shift))
			i++;
		bkt[h] = iv + i;
	}
	bkt[pt->nb] = iv + n_iv - 1;
	return 0;
}

/*
 * Port intervals for rules @cr[0..n) of one protocol, best rank first
 * (none: one interval of any_rank). Each rule paints the still unpainted
 * elementary intervals it covers; a union-find "next unpainted" pointer
 * makes that near-linear.
 */
static int nbg_build_ptab(struct nbg_build *b, const struct nbg_crule *cr,
			  u32 n, u32 any_rank, struct nbg_pt *pt)
{
	const struct nbg_rule_desc *r;
	u32 i, j, k, ne, *starts, *paint, *next, lo, end, first, n_iv;
	struct nbg_iv *iv;

	/* rules after one covering all ports can never win */
	for (i = 0; i < n; i++)
		if (!b->d->rules[b->ranks[cr[i].rank].index].n_ports) {
			n = i + 1;
			break;
		}
	b->tmp2.n = 0;
	if (!nbg_vec_add(&b->tmp2, sizeof(u32), 1))
		return -ENOMEM;
	VEC(b->tmp2, u32)[0] = 0;
	for (i = 0; i < n; i++) {
		r = &b->d->rules[b->ranks[cr[i].rank].index];
		for (j = 0; j < r->n_ports; j++) {
			u32 *s = nbg_vec_add(&b->tmp2, sizeof(u32), 2);

			if (!s)
				return -ENOMEM;
			s[0] = r->ports[j].lo;
			s[1] = r->ports[j].hi + 1U;
		}
	}
	starts = b->tmp2.p;
	ne = nbg_u32_sort_unique(starts, b->tmp2.n);
	if (starts[ne - 1] == 65536)
		ne--;
	b->tmp2.n = ne;
	b->tmp3.n = 0;
	paint = nbg_vec_add(&b->tmp3, sizeof(u32), 2 * ne + 1);
	if (!paint)
		return -ENOMEM;
	starts = b->tmp2.p;
	next = paint + ne;
	for (i = 0; i < ne; i++) {
		paint[i] = NBG_NONE;
		next[i] = i;
	}
	next[ne] = ne;
	for (i = 0; i < n; i++) {
		struct nbg_port_range all = { 0, 65535 };
		const struct nbg_port_range *pr;
		u32 np;

		r = &b->d->rules[b->ranks[cr[i].rank].index];
		pr = r->n_ports ? r->ports : &all;
		np = r->n_ports ? r->n_ports : 1;
		for (j = 0; j < np; j++) {
			lo = nbg_find_start(starts, ne, pr[j].lo);
			end = nbg_find_start(starts, ne, pr[j].hi + 1U);
			for (k = nbg_dsu_find(next, lo); k < end;
			     k = nbg_dsu_find(next, k)) {
				paint[k] = cr[i].rank;
				next[k] = k + 1;
			}
		}
	}
	/* protocol-any rules cover every port: fold them in */
	for (i = 0; i < ne; i++)
		paint[i] = min(paint[i], any_rank);
	/* merge neighbours with the same best rule */
	first = b->ivs.n;
	n_iv = 0;
	for (i = 0; i < ne; i++) {
		if (i && paint[i] == paint[i - 1])
			continue;
		iv = nbg_vec_add(&b->ivs, sizeof(*iv), 1);
		if (!iv)
			return -ENOMEM;
		iv->start = starts[i];
		iv->rank = paint[i];
		n_iv++;
	}
	iv = nbg_vec_add(&b->ivs, sizeof(*iv), 1);
	if (!iv)
		return -ENOMEM;
	iv->start = NBG_IV_END;
	iv->rank = NBG_NONE;
	return nbg_build_bkt(b, pt, first, n_iv);
}

/* One subtable: rules @cr[0..n) sharing a local selector. */
static int nbg_build_sub(struct nbg_build *b, const struct nbg_crule *cr,
			 u32 n, struct nbg_sub *sub)
{
	bool tcp = false, udp = false;
	struct nbg_ptab *pt;
	u32 i, j;
	int ret;

	sub->lsel = cr[0].lsel;
	sub->min_rank = NBG_NONE;
	sub->any_rank = NBG_NONE;
	sub->ptabs = 0;
	sub->n_ptabs = 0;
	/* protocol-any rules sort last; each table needs their best rank */
	for (i = 0; i < n; i++) {
		sub->min_rank = min(sub->min_rank, cr[i].rank);
		if (cr[i].proto == NBG_ANY_PROTO)
			sub->any_rank = min(sub->any_rank, cr[i].rank);
	}
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && cr[j].proto == cr[i].proto; j++)
			;
		if (cr[i].proto == NBG_ANY_PROTO)
			continue;
		if (cr[i].proto == IPPROTO_TCP) {
			tcp = true;
			ret = nbg_build_ptab(b, cr + i, j - i, sub->any_rank,
					     &sub->tcp);
		} else if (cr[i].proto == IPPROTO_UDP) {
			udp = true;
			ret = nbg_build_ptab(b, cr + i, j - i, sub->any_rank,
					     &sub->udp);
		} else {
			if (!sub->n_ptabs++)
				sub->ptabs = b->ptabs.n;
			pt = nbg_vec_add(&b->ptabs, sizeof(*pt), 1);
			if (!pt)
				return -ENOMEM;
			pt->proto = cr[i].proto;
			ret = nbg_build_ptab(b, cr + i, j - i, sub->any_rank,
					     &pt->pt);
		}
		if (ret)
			return ret;
	}
	if (!tcp) {
		ret = nbg_build_ptab(b, NULL, 0, sub->any_rank, &sub->tcp);
		if (ret)
			return ret;
	}
	if (!udp)
		return nbg_build_ptab(b, NULL, 0, sub->any_rank, &sub->udp);
	return 0;
}

/* Few port ranges and no local selectors: a list scanned by rank. */
static bool nbg_class_is_tiny(struct nbg_build *b, const u32 *key)
{
	u32 i, entries = 0;

	for (i = 0; i < key[0]; i++) {
		const struct nbg_rule_desc *r =
			&b->d->rules[b->ranks[key[1 + i]].index];

		if (b->rank_lsel[key[1 + i]] != NBG_NONE)
			return false;
		entries += max(r->n_ports, 1U);
		if (entries > NBG_TINY_MAX)
			return false;
	}
	return true;
}

static int nbg_build_tiny(struct nbg_build *b, const u32 *key,
			  struct nbg_class *cl)
{
	struct nbg_tiny *t;
	u32 i, j;

	cl->tiny = b->tiny.n;
	for (i = 0; i < key[0]; i++) {
		const struct nbg_rule_desc *r =
			&b->d->rules[b->ranks[key[1 + i]].index];

		for (j = 0; j < max(r->n_ports, 1U); j++) {
			t = nbg_vec_add(&b->tiny, sizeof(*t), 1);
			if (!t)
				return -ENOMEM;
			t->rank = key[1 + i];
			t->proto = r->proto_any ? NBG_ANY_PROTO : r->proto;
			t->lo = r->n_ports ? r->ports[j].lo : 0;
			t->hi = r->n_ports ? r->ports[j].hi : 65535;
			cl->n_tiny++;
		}
	}
	return 0;
}

static bool nbg_class_eq(struct nbg_build *b, const void *key, u32 val)
{
	const u32 *k = key, *off = VEC(b->class_roff, u32) + 2 * val;

	return k[0] == off[1] &&
	       !memcmp(k + 1, VEC(b->class_ranks, u32) + off[0],
		       k[0] * sizeof(u32));
}

/*
 * The class for a sorted, duplicate-free rank list (in a scratch buffer
 * laid out as count, ranks...); equal lists share one class.
 */
static int nbg_class_get(struct nbg_build *b, const u32 *key, u32 *out)
{
	u32 n = key[0], h = nbg_hash_u32s(key + 1, n, 7), ci, i, j, *w;
	struct nbg_sub *sub, sub_any;
	struct nbg_crule *cr;
	struct nbg_class *cl;
	int ret;

	ci = nbg_map_find(b, &b->class_map, h, nbg_class_eq, key);
	if (ci != NBG_NONE) {
		*out = ci;
		return 0;
	}
	ci = b->classes.n;
	w = nbg_vec_add(&b->class_roff, sizeof(u32), 2);
	if (!w || !nbg_vec_add(&b->classes, sizeof(*cl), 1))
		return -ENOMEM;
	w[0] = b->class_ranks.n;
	w[1] = n;
	if (!nbg_words_vec(&b->class_ranks, key + 1, n) ||
	    nbg_map_add(&b->class_map, h, ci))
		return -ENOMEM;
	*out = ci;

	cl = &VEC(b->classes, struct nbg_class)[ci];
	memset(cl, 0, sizeof(*cl));
	cl->min_rank = n ? key[1] : NBG_NONE;
	cl->subs_min = NBG_NONE;
	cl->any.min_rank = NBG_NONE;
	cl->any.lsel = NBG_NONE;
	cl->any.any_rank = NBG_NONE;
	if (nbg_class_is_tiny(b, key))
		return nbg_build_tiny(b, key, cl) ? -ENOMEM : 0;

	cr = kvmalloc_array(max(n, 1U), sizeof(*cr), NBG_GFP);
	if (!cr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct nbg_rule_desc *r =
			&b->d->rules[b->ranks[key[1 + i]].index];

		cr[i].rank = key[1 + i];
		cr[i].lsel = b->rank_lsel[cr[i].rank];
		cr[i].proto = r->proto_any ? NBG_ANY_PROTO : r->proto;
	}
	sort(cr, n, sizeof(*cr), nbg_crule_cmp, NULL);
	cl->subs = b->subs.n;
	ret = 0;
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && cr[j].lsel == cr[i].lsel; j++)
			;
		if (cr[i].lsel == NBG_NONE) {
			ret = nbg_build_sub(b, cr + i, j - i, &sub_any);
			if (ret)
				break;
			VEC(b->classes, struct nbg_class)[ci].any = sub_any;
			continue;
		}
		sub = nbg_vec_add(&b->subs, sizeof(*sub), 1);
		if (!sub) {
			ret = -ENOMEM;
			break;
		}
		ret = nbg_build_sub(b, cr + i, j - i, sub);
		if (ret)
			break;
		VEC(b->classes, struct nbg_class)[ci].n_subs++;
	}
	kvfree(cr);
	if (ret)
		return ret;
	cl = &VEC(b->classes, struct nbg_class)[ci];
	sort(VEC(b->subs, struct nbg_sub) + cl->subs, cl->n_subs,
	     sizeof(struct nbg_sub), nbg_sub_cmp, NULL);
	if (cl->n_subs)
		cl->subs_min = VEC(b->subs, struct nbg_sub)[cl->subs].min_rank;
	*out = ci;
	return 0;
}

/* Turn tmp (ranks, any order, repeats) into a class. */
static int nbg_class_from_tmp(struct nbg_build *b, u32 *out)
{
	u32 n, *key;

	key = nbg_vec_add(&b->tmp, sizeof(u32), 1);
	if (!key)
		return -ENOMEM;
	/* rotate: the count goes first */
	key = b->tmp.p;
	n = b->tmp.n - 1;
	memmove(key + 1, key, n * sizeof(u32));
	key[0] = nbg_u32_sort_unique(key + 1, n);
	return nbg_class_get(b, key, out);
}

/* ---- classes per node ---- */

static bool nbg_memo_eq(struct nbg_build *b, const void *key, u32 val)
{
	return !memcmp(key, VEC(b->memo, u32) + 4 * val, 3 * sizeof(u32));
}

/*
 * Nodes with the same identity group list and the same selector-prefix
 * ancestors reach the same rules: one memo entry (dir, glist, psel, class)
 * each.
 */
static int nbg_node_memo(struct nbg_build *b, u32 ni, u32 dir, u32 *out)
{
	const struct nbg_node *node = &VEC(b->nodes, struct nbg_node)[ni];
	u32 key[3], h, *m;

	key[0] = dir;
	key[1] = node->ident == NBG_NONE ? NBG_NONE :
		 b->ident_glist[node->ident];
	key[2] = b->psel[ni];
	h = nbg_hash_u32s(key, 3, 3);
	*out = nbg_map_find(b, &b->memo_map, h, nbg_memo_eq, key);
	if (*out != NBG_NONE)
		return 0;
	m = nbg_vec_add(&b->memo, sizeof(u32), 4);
	if (!m)
		return -ENOMEM;
	memcpy(m, key, sizeof(key));
	m[3] = NBG_NONE;
	*out = b->memo.n / 4 - 1;
	return nbg_map_add(&b->memo_map, h, *out);
}

/* The class of a memo entry: its groups' rules, its prefixes' rules. */
static int nbg_memo_class(struct nbg_build *b, u32 mi, bool with_wild)
{
	u32 dir = VEC(b->memo, u32)[4 * mi], glist = VEC(b->memo, u32)[4 * mi + 1];
	u32 i, p = VEC(b->memo, u32)[4 * mi + 2];
	const struct nbg_ident *id;
	int ret;

	b->tmp.n = 0;
	if (glist != NBG_NONE) {
		id = &VEC(b->idents, struct nbg_ident)[glist];
		for (i = 0; i < id->n_groups; i++) {
			ret = nbg_via_ranks(b, dir, NBG_VIA_GROUP,
					    VEC(b->u32s, u32)[id->groups + i]);
			if (ret)
				return ret;
		}
	}
	for (; p != NBG_NONE;
	     p = b->parent[p] == NBG_NONE ? NBG_NONE : b->psel[b->parent[p]]) {
		ret = nbg_via_ranks(b, dir, NBG_VIA_NODE, p);
		if (ret)
			return ret;
	}
	if (with_wild) {
		ret = nbg_via_ranks(b, dir, NBG_VIA_ANY, 0);
		if (ret)
			return ret;
	}
	return nbg_class_from_tmp(b, &VEC(b->memo, u32)[4 * mi + 3]);
}

#ifndef NBG_WILD_MERGE_MAX
#define NBG_WILD_MERGE_MAX(n_rules)	(4 * (u64)(n_rules) + 4096)
#endif

static int nbg_build_classes(struct nbg_build *b)
{
	struct nbg_classifier *c = b->c;
	u32 i, dir, *dc, n_memo[__NBG_DIR_MAX] = { 0 }, n_wild[__NBG_DIR_MAX];
	bool merge[__NBG_DIR_MAX];
	struct nbg_node *node;
	u32 empty[2] = { 0, 0 };	/* count 0; the size quiets -O3 -Warray-bounds */
	int ret;

	if (nbg_map_init(&b->class_map, 256) ||
	    nbg_map_init(&b->memo_map, 256))
		return -ENOMEM;
	/* class 0: no rules */
	ret = nbg_class_get(b, empty, &i);
	if (ret)
		return ret;
	for (dir = 0; dir < __NBG_DIR_MAX; dir++) {
		b->tmp.n = 0;
		ret = nbg_via_ranks(b, dir, NBG_VIA_ANY, 0);
		n_wild[dir] = b->tmp.n;
		if (!ret)
			ret = nbg_class_from_tmp(b, &c->wild[dir]);
		if (ret)
			return ret;
	}
	for (i = 0; i < b->nodes.n; i++) {
		for (dir = 0; dir < __NBG_DIR_MAX; dir++) {
			node = &VEC(b->nodes, struct nbg_node)[i];
			ret = nbg_node_memo(b, i, dir, &node->cls[dir]);
			if (ret)
				return ret;
		}
	}
	for (i = 0; i < b->memo.n / 4; i++)
		n_memo[VEC(b->memo, u32)[4 * i]]++;
	/*
	 * Copying the remote-any rules into every class saves a lookup per
	 * packet; do it unless that would multiply memory.
	 */
	for (dir = 0; dir < __NBG_DIR_MAX; dir++) {
		merge[dir] = (u64)n_wild[dir] * n_memo[dir] <=
			     NBG_WILD_MERGE_MAX(b->d->n_rules);
		c->wild_sep[dir] = merge[dir] ? 0 : c->wild[dir];
	}
	for (i = 0; i < b->memo.n / 4; i++) {
		ret = nbg_memo_class(b, i, merge[VEC(b->memo, u32)[4 * i]]);
		if (ret)
			return ret;
		if (!(i & 255))
			cond_resched();
	}
	for (i = 0; i < b->nodes.n; i++) {
		for (dir = 0; dir < __NBG_DIR_MAX; dir++) {
			node = &VEC(b->nodes, struct nbg_node)[i];
			node->cls[dir] = VEC(b->memo, u32)[4 * node->cls[dir] + 3];
			node->dcls[dir] = 0;
			if (node->ident == NBG_NONE)
				continue;
			dc = &b->ident_dcls[2 * node->ident + dir];
			if (*dc == NBG_NONE) {
				b->tmp.n = 0;
				ret = nbg_via_ranks(b, dir, NBG_VIA_IDENT,
						    node->ident);
				if (!ret)
					ret = nbg_class_from_tmp(b, dc);
				if (ret)
					return ret;
			}
			VEC(b->nodes, struct nbg_node)[i].dcls[dir] = *dc;
		}
		if (!(i & 1023))
			cond_resched();
	}
	return 0;
}

/* ---- putting it together ---- */

/*
 * Hand a vector over to the classifier. Vectors grow by doubling, so one
 * with much spare room is copied to its exact size; if that copy cannot
 * be had, the vector is kept as it is (only memory is at stake).
 */
static const void *nbg_take(struct nbg_classifier *c, struct nbg_vec *v,
			    size_t elsz)
{
	size_t need = (size_t)v->n * elsz;
	void *p = v->p, *np;

	if (p && v->capb - need > v->capb / 8) {
		np = kvmalloc(max(need, (size_t)1), NBG_GFP);
		if (np) {
			memcpy(np, p, need);
			kvfree(p);
			p = np;
			v->capb = need;
		}
	}
	c->mem += v->capb;
	v->p = NULL;
	return p;
}

static void nbg_build_free(struct nbg_build *b)
{
	struct nbg_vec *vecs[] = {
		&b->nodes, &b->idents, &b->u32s, &b->pfx, &b->lsels,
		&b->classes, &b->subs, &b->tiny, &b->ptabs, &b->ivs, &b->iv_bkt,
		&b->memo, &b->class_ranks, &b->class_roff, &b->tmp, &b->tmp2,
		&b->tmp3,
	};
	u32 i;

	for (i = 0; i < ARRAY_SIZE(vecs); i++)
		kvfree(vecs[i]->p);
	kvfree(b->rank_of);
	kvfree(b->ranks);
	kvfree(b->rank_lsel);
	kvfree(b->idmap);
	kvfree(b->via);
	kvfree(b->parent);
	kvfree(b->psel);
	kvfree(b->ident_dcls);
	kvfree(b->ident_glist);
	nbg_map_free(&b->glist_map);
	nbg_map_free(&b->lsel_map);
	nbg_map_free(&b->memo_map);
	nbg_map_free(&b->class_map);
}

struct nbg_classifier *nbg_classifier_build(const struct nbg_ruleset_desc *d,
					    const char **err)
{
	struct nbg_build b;
	struct nbg_classifier *c;
	int ret;

	memset(&b, 0, sizeof(b));
	c = kvzalloc(sizeof(*c), NBG_GFP);
	if (!c) {
		*err = "out of memory";
		return NULL;
	}
	b.d = d;
	b.c = c;
	c->mem = sizeof(*c);
	ret = nbg_build_ranks(&b);
	if (!ret)
		ret = nbg_build_idents(&b);
	if (!ret)
		ret = nbg_build_nodes(&b);
	if (!ret)
		ret = nbg_build_via(&b);
	if (!ret)
		ret = nbg_build_classes(&b);
	if (ret) {
		nbg_build_free(&b);
		nbg_classifier_free(c);
		*err = "out of memory";
		return NULL;
	}
	c->nodes = nbg_take(c, &b.nodes, sizeof(*c->nodes));
	c->idents = nbg_take(c, &b.idents, sizeof(*c->idents));
	c->u32s = nbg_take(c, &b.u32s, sizeof(*c->u32s));
	c->pfx = nbg_take(c, &b.pfx, sizeof(*c->pfx));
	c->lsels = nbg_take(c, &b.lsels, sizeof(*c->lsels));
	c->classes = nbg_take(c, &b.classes, sizeof(*c->classes));
	c->subs = nbg_take(c, &b.subs, sizeof(*c->subs));
	c->tiny = nbg_take(c, &b.tiny, sizeof(*c->tiny));
	c->ptabs = nbg_take(c, &b.ptabs, sizeof(*c->ptabs));
	c->ivs = nbg_take(c, &b.ivs, sizeof(*c->ivs));
	c->iv_bkt = nbg_take(c, &b.iv_bkt, sizeof(*c->iv_bkt));
	c->ranks = b.ranks;
	c->mem += (size_t)max(d->n_rules, 1U) * sizeof(*b.ranks);
	b.ranks = NULL;
	nbg_build_free(&b);
	return c;
}
