// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator: decides a packet from the source policy
 * directly, with no compilation. It is deliberately simple (a loop over
 * rules) because it is the oracle the compiled kernel ruleset is checked
 * against.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "policy/internal.h"

static bool in_sorted(const int *a, size_t n, int v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a[mid] == v)
			return true;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool net_contains(const struct nbp_net *net, const struct nbp_addr *a)
{
	size_t i;

	for (i = 0; i < net->n_prefixes; i++)
		if (nbp_addr_contains(&net->prefixes[i], a))
			return true;
	return false;
}

/* Selector list vs. an address owned by peer @owner (-1: no peer). */
bool nbp_sel_match(const struct nbp_policy *p, const struct nbp_sel *s,
		   size_t n, const struct nbp_addr *a, int owner)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i].kind) {
		case SEL_ANY:
			return true;
		case SEL_PEER:
			if (owner == s[i].idx)
				return true;
			break;
		case SEL_GROUP:
			if (owner >= 0 &&
			    in_sorted(p->peers[owner].groups,
				      p->peers[owner].n_groups, s[i].idx))
				return true;
			break;
		case SEL_TAG:
			if (owner >= 0 &&
			    in_sorted(p->peers[owner].tags,
				      p->peers[owner].n_tags, s[i].idx))
				return true;
			break;
		case SEL_NET:
			if (net_contains(&p->nets[s[i].idx], a))
				return true;
			break;
		case SEL_PREFIX:
			if (nbp_addr_contains(&s[i].pfx, a))
				return true;
			break;
		}
	}
	return false;
}

/* Does the selector list name peer @peer (by name, group, tag, or one of
 * its addresses lying in a prefix/network)? */
bool nbp_peer_in_sel(const struct nbp_policy *p, const struct nbp_sel *s,
		     size_t n, int peer)
{
	const struct nbp_peer *pr = &p->peers[peer];
	size_t i, j;

	for (i = 0; i < n; i++) {
		switch (s[i].kind) {
		case SEL_ANY:
			return true;
		case SEL_PEER:
			if (peer == s[i].idx)
				return true;
			break;
		case SEL_GROUP:
			if (in_sorted(pr->groups, pr->n_groups, s[i].idx))
				return true;
			break;
		case SEL_TAG:
			if (in_sorted(pr->tags, pr->n_tags, s[i].idx))
				return true;
			break;
		case SEL_NET:
		case SEL_PREFIX:
			for (j = 0; j < pr->n_addrs; j++)
				if (nbp_sel_match(p, &s[i], 1, &pr->addrs[j], peer))
					return true;
			break;
		}
	}
	return false;
}

static bool rule_matches(const struct nbp_policy *p, const struct nbp_rule *r,
			 bool reverse, const struct nbp_packet *pkt,
			 const struct nbp_addr *sa, int so,
			 const struct nbp_addr *da, int dof)
{
	const struct nbp_sel *src = reverse ? r->dst : r->src;
	const struct nbp_sel *dst = reverse ? r->src : r->dst;
	size_t ns = reverse ? r->n_dst : r->n_src;
	size_t nd = reverse ? r->n_src : r->n_dst;
	size_t i;

	if (!r->proto_any && r->proto != pkt->proto)
		return false;
	if (r->n_ports) {
		for (i = 0; i < r->n_ports; i++)
			if (pkt->dport >= r->ports[i].lo &&
			    pkt->dport <= r->ports[i].hi)
				break;
		if (i == r->n_ports)
			return false;
	}
	return nbp_sel_match(p, src, ns, sa, so) &&
	       nbp_sel_match(p, dst, nd, da, dof);
}

void nbp_eval(const struct nbp_policy *p, const struct nbp_packet *pkt,
	      struct nbp_result *res)
{
	struct nbp_addr sa = { .family = pkt->family }, da = sa;
	uint32_t best_allow = 0, best_deny = 0;
	size_t i;
	int so, dof, half;

	sa.len = da.len = pkt->family == AF_INET ? 32 : 128;
	memcpy(sa.addr, pkt->saddr, 16);
	memcpy(da.addr, pkt->daddr, 16);
	if (pkt->family == AF_INET) {
		memset(sa.addr + 4, 0, 12);
		memset(da.addr + 4, 0, 12);
	}
	so = nbp_peer_by_addr(p, &sa);
	dof = nbp_peer_by_addr(p, &da);
	/* Rule ids grow with the file order, so the first match of each
	 * action is the lowest id, as in the kernel. */
	for (i = 0; i < p->n_rules && !best_deny; i++) {
		const struct nbp_rule *r = &p->rules[i];

		if (!r->enabled || (!r->allow && best_deny) ||
		    (r->allow && best_allow))
			continue;
		for (half = 0; half < (r->bidir ? 2 : 1); half++) {
			uint32_t id = 2 * i + 1 + half;

			if (!rule_matches(p, r, half, pkt, &sa, so, &da, dof))
				continue;
			if (r->allow && !best_allow)
				best_allow = id;
			else if (!r->allow && !best_deny)
				best_deny = id;
			break;
		}
	}
	res->rule_id = best_deny ? best_deny : best_allow;
	res->action = best_deny ? NBG_ACTION_DENY :
		      best_allow ? NBG_ACTION_ALLOW : NBG_ACTION_DENY;
	res->rule_index = res->rule_id ? (int)((res->rule_id - 1) / 2) : -1;
	res->reverse = res->rule_id && !(res->rule_id & 1);
}

int nbp_resolve(const struct nbp_policy *p, const char *what, int family,
		struct nbp_addr *out)
{
	int pi = nbp_index_get(&p->peer_ix, what);
	size_t i;

	if (pi < 0) {
		if (nbp_addr_parse(what, out) || !nbp_addr_host(out))
			return -1;
		return family && out->family != family ? -1 : 0;
	}
	for (i = 0; i < p->peers[pi].n_addrs; i++)
		if (!family || p->peers[pi].addrs[i].family == family) {
			*out = p->peers[pi].addrs[i];
			return 0;
		}
	return -1;
}

static int endpoint_addr(const struct nbp_policy *p, int peer,
			 const struct nbp_addr *a, int family,
			 struct nbp_addr *out)
{
	size_t i;

	if (peer < 0) {
		*out = *a;
		return a->family == family ? 0 : -1;
	}
	for (i = 0; i < p->peers[peer].n_addrs; i++)
		if (p->peers[peer].addrs[i].family == family) {
			*out = p->peers[peer].addrs[i];
			return 0;
		}
	return -1;
}

/*
 * One expectation, checked for every address family both ends have (one
 * check each): icmp only over IPv4 and icmpv6 only over IPv6, as those
 * are the families the protocols exist in. Returns the failed checks,
 * each an error in @diag; *n_run grows by the checks made. No family in
 * common is one failed check.
 */
static int run_expect(const struct nbp_policy *p, const struct nbp_test *t,
		      const struct nbp_expect *e, struct nbp_diag *diag,
		      unsigned int *n_run)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	int k, tried = 0, fails = 0;

	for (k = 0; k < 2; k++) {
		struct nbp_addr sa, da;
		struct nbp_packet pkt = { 0 };
		struct nbp_result r;

		if ((e->proto == 1 && fams[k] != AF_INET) ||
		    (e->proto == 58 && fams[k] != AF_INET6))
			continue;
		if (endpoint_addr(p, t->peer, &t->addr, fams[k], &sa) ||
		    endpoint_addr(p, e->peer, &e->addr, fams[k], &da))
			continue;
		tried++;
		pkt.family = fams[k];
		pkt.proto = e->proto;
		pkt.dport = e->port;
		memcpy(pkt.saddr, sa.addr, 16);
		memcpy(pkt.daddr, da.addr, 16);
		nbp_eval(p, &pkt, &r);
		if ((r.action == NBG_ACTION_ALLOW) == e->accept)
			continue;
		fails++;
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, e->loc.line,
			     e->loc.col,
			     "test failed: %s -> %s (%s) expected %s, got %s by %s%s%s",
			     t->text, e->text, fams[k] == AF_INET ? "IPv4" : "IPv6",
			     e->accept ? "accept" : "deny",
			     r.action == NBG_ACTION_ALLOW ? "accept" : "deny",
			     r.rule_id ? "rule " : "the default",
			     r.rule_id ? p->rules[r.rule_index].name : "",
			     r.reverse ? " (reverse)" : "");
	}
	if (!tried) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, e->loc.line,
			     e->loc.col,
			     "test %s -> %s: no address family in common%s (or a peer has no addresses)",
			     t->text, e->text,
			     e->proto == 1 ? " for icmp (IPv4 only)" :
			     e->proto == 58 ? " for icmpv6 (IPv6 only)" : "");
		tried = fails = 1;
	}
	if (n_run)
		*n_run += tried;
	return fails;
}

int nbp_run_tests(const struct nbp_policy *p, struct nbp_diag *diag,
		  unsigned int *n_run)
{
	size_t i, j;
	int fails = 0;

	if (n_run)
		*n_run = 0;
	for (i = 0; i < p->n_tests; i++)
		for (j = 0; j < p->tests[i].n; j++)
			fails += run_expect(p, &p->tests[i], &p->tests[i].exp[j],
					    diag, n_run);
	return fails;
}
