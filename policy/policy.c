// SPDX-License-Identifier: GPL-2.0
/* The policy object: accessors and the control plane's runtime updates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "policy/internal.h"

void nbp_free(struct nbp_policy *p)
{
	size_t i, j;

	if (!p)
		return;
	for (i = 0; i < p->n_groups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].desc);
		free(p->groups[i].members);
	}
	for (i = 0; i < p->n_tags; i++) {
		free(p->tags[i].name);
		free(p->tags[i].members);
	}
	for (i = 0; i < p->n_peers; i++) {
		free(p->peers[i].name);
		free(p->peers[i].addrs);
		free(p->peers[i].groups);
		free(p->peers[i].tags);
	}
	for (i = 0; i < p->n_nets; i++) {
		free(p->nets[i].name);
		free(p->nets[i].prefixes);
	}
	for (i = 0; i < p->n_rules; i++) {
		free(p->rules[i].name);
		free(p->rules[i].desc);
		free(p->rules[i].src);
		free(p->rules[i].dst);
		free(p->rules[i].ports);
	}
	for (i = 0; i < p->n_tests; i++) {
		for (j = 0; j < p->tests[i].n; j++)
			free(p->tests[i].exp[j].text);
		free(p->tests[i].exp);
		free(p->tests[i].text);
	}
	free(p->groups);
	free(p->tags);
	free(p->peers);
	free(p->nets);
	free(p->rules);
	free(p->tests);
	free(p->addrmap);
	nbp_index_free(&p->group_ix);
	nbp_index_free(&p->peer_ix);
	nbp_index_free(&p->net_ix);
	nbp_index_free(&p->tag_ix);
	nbp_index_free(&p->rule_ix);
	free(p->file);
	free(p);
}

static int add_sorted(int **arr, size_t *n, size_t *cap, int v)
{
	size_t i;

	for (i = *n; i > 0 && (*arr)[i - 1] >= v; i--)
		if ((*arr)[i - 1] == v)
			return 0;
	if (cap && *n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		int *a = realloc(*arr, nc * sizeof(*a));

		if (!a)
			return -1;
		*arr = a;
		*cap = nc;
	} else if (!cap) {
		int *a = realloc(*arr, (*n + 1) * sizeof(*a));

		if (!a)
			return -1;
		*arr = a;
	}
	memmove(&(*arr)[i + 1], &(*arr)[i], (*n - i) * sizeof(int));
	(*arr)[i] = v;
	(*n)++;
	return 0;
}

int nbp_peer_join_group(struct nbp_policy *p, int peer, int group)
{
	struct nbp_peer *pr = &p->peers[peer];
	struct nbp_group *g = &p->groups[group];

	if (add_sorted(&pr->groups, &pr->n_groups, NULL, group))
		return -1;
	return add_sorted(&g->members, &g->n_members, &g->cap_members, peer);
}

int nbp_peer_add_tag(struct nbp_policy *p, int peer, int tag)
{
	struct nbp_peer *pr = &p->peers[peer];
	struct nbp_tag *t = &p->tags[tag];

	if (add_sorted(&pr->tags, &pr->n_tags, NULL, tag))
		return -1;
	return add_sorted(&t->members, &t->n_members, &t->cap_members, peer);
}

/* Index of tag @name, created if new; -1 on ENOMEM. */
int nbp_tag_get(struct nbp_policy *p, const char *name, struct nbp_loc loc)
{
	int ti = nbp_index_get(&p->tag_ix, name);
	struct nbp_tag *t;

	if (ti >= 0)
		return ti;
	if (p->n_tags == p->cap_tags) {
		size_t cap = p->cap_tags ? p->cap_tags * 2 : 8;
		struct nbp_tag *tags = realloc(p->tags, cap * sizeof(*tags));

		if (!tags)
			return -1;
		p->tags = tags;
		p->cap_tags = cap;
	}
	t = &p->tags[p->n_tags];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	t->loc = loc;
	if (!t->name || nbp_index_put(&p->tag_ix, t->name, p->n_tags) < 0) {
		free(t->name);
		return -1;
	}
	return p->n_tags++;
}

static int addrent_cmp(const void *a, const void *b)
{
	const struct nbp_addrent *x = a, *y = b;

	return nbp_addr_cmp(&x->a, &y->a);
}

/* Sorted address -> peer map; duplicate addresses are an error. */
int nbp_build_addrmap(struct nbp_policy *p, struct nbp_diag *diag)
{
	size_t i, j, n = 0;
	struct nbp_addrent *m;

	for (i = 0; i < p->n_peers; i++)
		n += p->peers[i].n_addrs;
	m = calloc(n ? n : 1, sizeof(*m));
	if (!m)
		return -1;
	n = 0;
	for (i = 0; i < p->n_peers; i++)
		for (j = 0; j < p->peers[i].n_addrs; j++) {
			m[n].a = p->peers[i].addrs[j];
			m[n++].peer = i;
		}
	qsort(m, n, sizeof(*m), addrent_cmp);
	for (i = 1; i < n; i++)
		if (!nbp_addr_cmp(&m[i - 1].a, &m[i].a)) {
			char buf[64];

			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "address %s belongs to both '%s' and '%s'",
				     nbp_addr_str(&m[i].a, buf, sizeof(buf)),
				     p->peers[m[i - 1].peer].name,
				     p->peers[m[i].peer].name);
			free(m);
			return -1;
		}
	free(p->addrmap);
	p->addrmap = m;
	p->n_addrmap = n;
	return 0;
}

int nbp_peer_by_addr(const struct nbp_policy *p, const struct nbp_addr *a)
{
	struct nbp_addrent key = { .a = *a };
	const struct nbp_addrent *e;

	key.a.len = a->family == AF_INET ? 32 : 128;
	if (!p->n_addrmap)
		return -1;
	e = bsearch(&key, p->addrmap, p->n_addrmap, sizeof(key), addrent_cmp);
	return e ? e->peer : -1;
}

size_t nbp_peer_count(const struct nbp_policy *p)
{
	return p->n_peers;
}

int nbp_peer_find(const struct nbp_policy *p, const char *name)
{
	return nbp_index_get(&p->peer_ix, name);
}

const char *nbp_peer_name(const struct nbp_policy *p, size_t i)
{
	return i < p->n_peers ? p->peers[i].name : NULL;
}

uint32_t nbp_peer_ident_id(const struct nbp_policy *p, size_t i)
{
	return i + 1;
}

size_t nbp_peer_addrs(const struct nbp_policy *p, size_t i,
		      const struct nbp_addr **addrs)
{
	if (i >= p->n_peers) {
		*addrs = NULL;
		return 0;
	}
	*addrs = p->peers[i].addrs;
	return p->peers[i].n_addrs;
}

size_t nbp_group_count(const struct nbp_policy *p)
{
	return p->n_groups;
}

const char *nbp_group_name(const struct nbp_policy *p, size_t i)
{
	return i < p->n_groups ? p->groups[i].name : NULL;
}

int nbp_group_find(const struct nbp_policy *p, const char *name)
{
	return nbp_index_get(&p->group_ix, name);
}

uint32_t nbp_group_id(const struct nbp_policy *p, size_t i)
{
	return i + 1;
}

size_t nbp_rule_count(const struct nbp_policy *p)
{
	return p->n_rules;
}

const char *nbp_rule_name_at(const struct nbp_policy *p, size_t i)
{
	return i < p->n_rules ? p->rules[i].name : NULL;
}

int nbp_rule_index(const struct nbp_policy *p, uint32_t rule_id,
		   bool *reverse)
{
	size_t idx;

	if (!rule_id)
		return -1;
	idx = (rule_id - 1) / 2;
	if (idx >= p->n_rules)
		return -1;
	if (!(rule_id & 1) && !p->rules[idx].bidir)
		return -1;
	if (reverse)
		*reverse = !(rule_id & 1);
	return idx;
}

const char *nbp_rule_name(const struct nbp_policy *p, uint32_t rule_id)
{
	int i = nbp_rule_index(p, rule_id, NULL);

	return i < 0 ? NULL : p->rules[i].name;
}

/* Addresses one nbp_set_peers_addresses() call gives out, sorted. */
struct setent {
	struct nbp_addr a;
	int peer;
};

static int setent_cmp(const void *a, const void *b)
{
	const struct setent *x = a, *y = b;

	return nbp_addr_cmp(&x->a, &y->a);
}

static void addr_error(struct nbp_policy *p, struct nbp_diag *diag,
		       const struct nbp_addr *a, int p1, int p2)
{
	char buf[64];

	nbp_addr_str(a, buf, sizeof(buf));
	if (p1 == p2)
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
			     "address %s given twice to peer '%s'", buf,
			     p->peers[p1].name);
	else
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
			     "address %s belongs to both '%s' and '%s'", buf,
			     p->peers[p1].name, p->peers[p2].name);
}

/* "a/32, b/128" into buf; "none" for no addresses. */
static const char *addrs_text(const struct nbp_addr *a, size_t n, char *buf,
			      size_t len)
{
	size_t off = 0;
	char one[64];

	snprintf(buf, len, "none");
	for (size_t i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				nbp_addr_str(&a[i], one, sizeof(one)));
	return buf;
}

static bool same_addrs(const struct nbp_addr *a, size_t na,
		       const struct nbp_addr *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && nbp_addr_cmp(&a[i], &b[j]); j++)
			;
		if (j == nb)
			return false;
	}
	return true;
}

/* The addresses each peer will have; set only for peers that change. */
struct newaddrs {
	bool change;
	size_t n;
	struct nbp_addr *a;
};

/* Parse the listed peers' addresses into nw[]; sorted entries into *out. */
static int parse_set(struct nbp_policy *p, const struct nbp_peer_addrs *set,
		     size_t n, struct newaddrs *nw, struct setent **out,
		     size_t *n_out, struct nbp_diag *diag)
{
	size_t i, j, total = 0, k = 0;
	struct setent *e;
	int err = 0;

	for (i = 0; i < n; i++) {
		int pi = nbp_index_get(&p->peer_ix, set[i].name);

		if (pi < 0) {
			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "unknown peer '%s'", set[i].name);
			err = -1;
		} else if (nw[pi].change) {
			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "peer '%s' listed twice", set[i].name);
			err = -1;
		} else if (set[i].n > 256) {
			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "too many addresses for peer '%s'",
				     set[i].name);
			err = -1;
		} else {
			nw[pi].change = true;
			nw[pi].a = calloc(set[i].n ? set[i].n : 1,
					  sizeof(*nw[pi].a));
			if (!nw[pi].a)
				return -1;
			for (j = 0; j < set[i].n; j++) {
				struct nbp_addr *a = &nw[pi].a[nw[pi].n];

				if (nbp_addr_parse(set[i].addrs[j], a) ||
				    !nbp_addr_host(a)) {
					nbp_diag_add(diag, NBP_SEV_ERROR,
						     p->file, 0, 0,
						     "bad address '%s' for peer '%s'",
						     set[i].addrs[j], set[i].name);
					err = -1;
					continue;
				}
				nw[pi].n++;
			}
			total += nw[pi].n;
		}
	}
	/* Go on after errors: duplicates among the good ones are news too. */
	e = calloc(total ? total : 1, sizeof(*e));
	if (!e)
		return -1;
	for (i = 0; i < p->n_peers; i++)
		for (j = 0; nw[i].change && j < nw[i].n; j++) {
			e[k].a = nw[i].a[j];
			e[k++].peer = i;
		}
	qsort(e, k, sizeof(*e), setent_cmp);
	for (i = 1; i < k; i++)
		if (!nbp_addr_cmp(&e[i - 1].a, &e[i].a)) {
			addr_error(p, diag, &e[i].a, e[i - 1].peer, e[i].peer);
			err = -1;
		}
	if (err) {
		free(e);
		return err;
	}
	*out = e;
	*n_out = k;
	return 0;
}

/*
 * An unlisted peer holding an address the set gives out: an error, or
 * with NBP_ADDRS_OVERRIDE it keeps only its other addresses.
 */
static int check_unlisted(struct nbp_policy *p, struct newaddrs *nw,
			  const struct setent *e, size_t n_e,
			  unsigned int flags, struct nbp_diag *diag)
{
	int err = 0;

	for (size_t i = 0; i < p->n_peers; i++) {
		const struct nbp_peer *pr = &p->peers[i];
		size_t keep = 0;

		if (nw[i].change)
			continue;
		for (size_t j = 0; j < pr->n_addrs; j++) {
			struct setent key = { .a = pr->addrs[j] };
			const struct setent *hit;

			hit = n_e ? bsearch(&key, e, n_e, sizeof(key), setent_cmp) : NULL;
			if (!hit)
				continue;
			if (!(flags & NBP_ADDRS_OVERRIDE)) {
				addr_error(p, diag, &hit->a, i, hit->peer);
				err = -1;
				continue;
			}
			if (!nw[i].change) {
				nw[i].change = true;
				nw[i].a = calloc(pr->n_addrs, sizeof(*nw[i].a));
				if (!nw[i].a)
					return -1;
				for (size_t k = 0; k < pr->n_addrs; k++) {
					key.a = pr->addrs[k];
					if (!bsearch(&key, e, n_e, sizeof(key), setent_cmp))
						nw[i].a[keep++] = pr->addrs[k];
				}
				nw[i].n = keep;
			}
		}
	}
	return err;
}

/* After a successful swap: say what the set overrode. */
static void warn_overrides(struct nbp_policy *p, const struct newaddrs *old,
			   const bool *listed, struct nbp_diag *diag)
{
	char was[512], now[512];

	for (size_t i = 0; i < p->n_peers; i++) {
		const struct nbp_peer *pr = &p->peers[i];

		if (!old[i].change || !old[i].n ||
		    same_addrs(old[i].a, old[i].n, pr->addrs, pr->n_addrs))
			continue;
		addrs_text(old[i].a, old[i].n, was, sizeof(was));
		addrs_text(pr->addrs, pr->n_addrs, now, sizeof(now));
		if (listed[i]) {
			nbp_diag_add(diag, NBP_SEV_WARNING, p->file,
				     pr->loc.line, pr->loc.col,
				     "peer '%s': addresses %s replaced by %s",
				     pr->name, was, now);
			continue;
		}
		for (size_t j = 0; j < old[i].n; j++) {
			int owner = nbp_peer_by_addr(p, &old[i].a[j]);

			if (owner < 0 || (size_t)owner == i)
				continue;
			nbp_diag_add(diag, NBP_SEV_WARNING, p->file,
				     pr->loc.line, pr->loc.col,
				     "peer '%s': address %s dropped; it belongs to '%s'",
				     pr->name, nbp_addr_str(&old[i].a[j], was, sizeof(was)),
				     p->peers[owner].name);
		}
	}
}

int nbp_set_peers_addresses(struct nbp_policy *p,
			    const struct nbp_peer_addrs *set, size_t n,
			    unsigned int flags, struct nbp_diag *diag)
{
	struct newaddrs *nw = calloc(p->n_peers ? p->n_peers : 1, sizeof(*nw));
	bool *listed = calloc(p->n_peers ? p->n_peers : 1, sizeof(*listed));
	struct setent *e = NULL;
	size_t i, n_e = 0;
	int ret = -1;

	if (!nw || !listed)
		goto out;
	if (parse_set(p, set, n, nw, &e, &n_e, diag))
		goto out;
	for (i = 0; i < p->n_peers; i++)
		listed[i] = nw[i].change;
	if (check_unlisted(p, nw, e, n_e, flags, diag))
		goto out;
	/* Swap in; nw[] then holds the old addresses, to free or restore. */
	for (i = 0; i < p->n_peers; i++) {
		struct nbp_addr *a = p->peers[i].addrs;
		size_t na = p->peers[i].n_addrs;

		if (!nw[i].change)
			continue;
		p->peers[i].addrs = nw[i].a;
		p->peers[i].n_addrs = nw[i].n;
		nw[i].a = a;
		nw[i].n = na;
	}
	if (nbp_build_addrmap(p, diag)) {
		/* Out of memory: the final state was checked for duplicates. */
		for (i = 0; i < p->n_peers; i++) {
			struct nbp_addr *a = p->peers[i].addrs;
			size_t na = p->peers[i].n_addrs;

			if (!nw[i].change)
				continue;
			p->peers[i].addrs = nw[i].a;
			p->peers[i].n_addrs = nw[i].n;
			nw[i].a = a;
			nw[i].n = na;
		}
		goto out;
	}
	if (flags & NBP_ADDRS_OVERRIDE)
		warn_overrides(p, nw, listed, diag);
	ret = 0;
out:
	for (i = 0; nw && i < p->n_peers; i++)
		free(nw[i].a);
	free(nw);
	free(listed);
	free(e);
	return ret;
}

int nbp_set_peer_addresses(struct nbp_policy *p, const char *name,
			   const char *const *addrs, size_t n,
			   struct nbp_diag *diag)
{
	struct nbp_peer_addrs one = { name, addrs, n };

	return nbp_set_peers_addresses(p, &one, 1, 0, diag);
}

int nbp_add_peer(struct nbp_policy *p, const char *name,
		 const char *const *groups, size_t n_groups,
		 const char *const *tags, size_t n_tags,
		 struct nbp_diag *diag)
{
	struct nbp_loc none = { 0, 0 };
	struct nbp_peer *pr;
	size_t i;
	int pi, gi, ti;

	if (nbp_index_get(&p->peer_ix, name) >= 0) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
			     "duplicate peer '%s'", name);
		return -1;
	}
	if (strlen(name) > NBP_MAX_NAME || !*name ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name)) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
			     "invalid peer name '%.64s'", name);
		return -1;
	}
	for (i = 0; i < n_groups; i++)
		if (nbp_index_get(&p->group_ix, groups[i]) < 0) {
			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "unknown group '%s'", groups[i]);
			return -1;
		}
	if (p->n_peers == p->cap_peers) {
		size_t cap = p->cap_peers ? p->cap_peers * 2 : 16;
		struct nbp_peer *np = realloc(p->peers, cap * sizeof(*np));

		if (!np)
			return -1;
		p->peers = np;
		p->cap_peers = cap;
	}
	pi = p->n_peers;
	pr = &p->peers[pi];
	memset(pr, 0, sizeof(*pr));
	pr->name = strdup(name);
	if (!pr->name)
		return -1;
	/* Index keys point at the names; they survive the realloc above. */
	if (nbp_index_put(&p->peer_ix, pr->name, pi) < 0) {
		free(pr->name);
		return -1;
	}
	p->n_peers++;
	for (i = 0; i < n_groups; i++) {
		gi = nbp_index_get(&p->group_ix, groups[i]);
		if (nbp_peer_join_group(p, pi, gi))
			return -1;
	}
	for (i = 0; i < n_tags; i++) {
		ti = nbp_tag_get(p, tags[i], none);
		if (ti < 0 || nbp_peer_add_tag(p, pi, ti))
			return -1;
	}
	return 0;
}

int nbp_peer_add_groups(struct nbp_policy *p, const char *name,
			const char *const *groups, size_t n,
			struct nbp_diag *diag)
{
	int pi = nbp_index_get(&p->peer_ix, name);
	size_t i;

	if (pi < 0) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
			     "unknown peer '%s'", name);
		return -1;
	}
	/* Check every name first so a bad list changes nothing. */
	for (i = 0; i < n; i++)
		if (nbp_index_get(&p->group_ix, groups[i]) < 0) {
			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "unknown group '%s'", groups[i]);
			return -1;
		}
	for (i = 0; i < n; i++)
		if (nbp_peer_join_group(p, pi,
					nbp_index_get(&p->group_ix, groups[i]))) {
			nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
				     "out of memory adding peer '%s' to groups",
				     name);
			return -1;
		}
	return 0;
}

/*
 * Connected peers and deny rules. A pair counts as connected in one
 * direction if some enabled allow rule (half) lets the sender reach the
 * receiver and that rule's traffic is not entirely refused by deny rules
 * for the pair. A deny refuses traffic of a pair only if it selects
 * *every* address of both peers (a prefix holding one of two addresses
 * leaves the other family open); deny rules together cover an allow rule
 * if one has protocol all, or one has the allow rule's protocol and no
 * ports, or the ports of those with its protocol cover all of its ports
 * (0-65535 when it has none). Anything less leaves the pair connected.
 */
struct deny_half {
	const struct nbp_rule *r;
	const struct nbp_sel *remote;	/* the other end's side */
	size_t n_remote;
};

/* Every address of @peer (or the peer itself if it has none) selected? */
static bool peer_all_in_sel(const struct nbp_policy *p,
			    const struct nbp_sel *s, size_t n, int peer)
{
	const struct nbp_peer *pr = &p->peers[peer];
	size_t i;

	if (!pr->n_addrs)
		return nbp_peer_in_sel(p, s, n, peer);
	for (i = 0; i < pr->n_addrs; i++)
		if (!nbp_sel_match(p, s, n, &pr->addrs[i], peer))
			return false;
	return true;
}

static int range_cmp(const void *a, const void *b)
{
	const struct nbp_portrange *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Do the sorted ranges @r cover lo..hi? */
static bool ranges_cover(const struct nbp_portrange *r, size_t n,
			 unsigned int lo, unsigned int hi)
{
	unsigned int next = lo;	/* first port not yet covered */
	size_t i;

	for (i = 0; i < n && next <= hi; i++) {
		if (r[i].lo > next)
			return false;
		if (r[i].hi + 1u > next)
			next = r[i].hi + 1u;
	}
	return next > hi;
}

/* Is allow rule @a refused for @peer (at the remote end) by @dh? */
static bool allow_denied(const struct nbp_policy *p, const struct nbp_rule *a,
			 const struct deny_half *dh, size_t n_dh, int peer,
			 struct nbp_portrange *buf)
{
	size_t k, j, nr = 0;

	for (k = 0; k < n_dh; k++) {
		const struct nbp_rule *r = dh[k].r;

		if (!r->proto_any && (a->proto_any || r->proto != a->proto))
			continue;
		if (!peer_all_in_sel(p, dh[k].remote, dh[k].n_remote, peer))
			continue;
		if (r->proto_any || !r->n_ports)
			return true;
		for (j = 0; j < r->n_ports; j++)
			buf[nr++] = r->ports[j];
	}
	if (!nr)
		return false;
	qsort(buf, nr, sizeof(*buf), range_cmp);
	if (!a->n_ports)
		return ranges_cover(buf, nr, 0, 65535);
	for (j = 0; j < a->n_ports; j++)
		if (!ranges_cover(buf, nr, a->ports[j].lo, a->ports[j].hi))
			return false;
	return true;
}

/*
 * Deny halves where the node is, fully, the receiver (@in) or the sender:
 * dh[] gets them, *n_ports their ports in total.
 */
static size_t node_denies(const struct nbp_policy *p, int ni, bool in,
			  struct deny_half *dh, size_t *n_ports)
{
	size_t r, n = 0;
	int half;

	for (r = 0; r < p->n_rules; r++) {
		const struct nbp_rule *ru = &p->rules[r];

		if (!ru->enabled || ru->allow)
			continue;
		for (half = 0; half < (ru->bidir ? 2 : 1); half++) {
			/* half 1 is the rule with its sides swapped */
			bool node_is_dst = in != (half == 1);
			const struct nbp_sel *mine = node_is_dst ? ru->dst : ru->src;
			size_t n_mine = node_is_dst ? ru->n_dst : ru->n_src;

			if (!peer_all_in_sel(p, mine, n_mine, ni))
				continue;
			dh[n].r = ru;
			dh[n].remote = node_is_dst ? ru->src : ru->dst;
			dh[n].n_remote = node_is_dst ? ru->n_src : ru->n_dst;
			*n_ports += ru->n_ports;
			n++;
		}
	}
	return n;
}

int nbp_connected_peers(const struct nbp_policy *p, const char *node,
			nbp_peer_cb cb, void *ctx)
{
	int ni = nbp_index_get(&p->peer_ix, node);
	struct deny_half *dh_in = NULL, *dh_out = NULL;
	struct nbp_portrange *ports = NULL;
	size_t i, r, n_in, n_out, n_ports = 0;
	unsigned int *flags;
	int count = 0;

	if (ni < 0)
		return -1;
	flags = calloc(p->n_peers ? p->n_peers : 1, sizeof(*flags));
	/* At most two halves per rule, for each direction. */
	dh_in = calloc(2 * p->n_rules + 1, sizeof(*dh_in));
	dh_out = calloc(2 * p->n_rules + 1, sizeof(*dh_out));
	if (!flags || !dh_in || !dh_out)
		goto fail;
	n_in = node_denies(p, ni, true, dh_in, &n_ports);
	n_out = node_denies(p, ni, false, dh_out, &n_ports);
	ports = calloc(n_ports + 1, sizeof(*ports));
	if (!ports)
		goto fail;
	for (r = 0; r < p->n_rules; r++) {
		const struct nbp_rule *ru = &p->rules[r];
		bool n_src, n_dst;

		if (!ru->enabled || !ru->allow)
			continue;
		n_src = nbp_peer_in_sel(p, ru->src, ru->n_src, ni);
		n_dst = nbp_peer_in_sel(p, ru->dst, ru->n_dst, ni);
		if (!n_src && !n_dst)
			continue;
		for (i = 0; i < p->n_peers; i++) {
			unsigned int in = 0, out = 0;

			if ((int)i == ni)
				continue;
			/* i -> node through the rule, or its reverse half */
			if ((n_dst && nbp_peer_in_sel(p, ru->src, ru->n_src, i)) ||
			    (ru->bidir && n_src &&
			     nbp_peer_in_sel(p, ru->dst, ru->n_dst, i)))
				in = NBP_CONN_IN;
			if ((n_src && nbp_peer_in_sel(p, ru->dst, ru->n_dst, i)) ||
			    (ru->bidir && n_dst &&
			     nbp_peer_in_sel(p, ru->src, ru->n_src, i)))
				out = NBP_CONN_OUT;
			in &= ~flags[i];
			out &= ~flags[i];
			if (in && allow_denied(p, ru, dh_in, n_in, i, ports))
				in = 0;
			if (out && allow_denied(p, ru, dh_out, n_out, i, ports))
				out = 0;
			flags[i] |= in | out;
		}
	}
	for (i = 0; i < p->n_peers; i++)
		if (flags[i]) {
			count++;
			if (cb)
				cb(p, i, flags[i], ctx);
		}
out:
	free(ports);
	free(dh_in);
	free(dh_out);
	free(flags);
	return count;
fail:
	count = -1;
	goto out;
}
