// SPDX-License-Identifier: GPL-2.0
/*
 * Warnings: rules that can never match, and rules that never decide a
 * packet because another rule covers them (an earlier rule with the same
 * action, or any deny rule for an allow rule, since deny wins). Coverage
 * is checked conservatively: a warning means the rule really is dead, but
 * not every dead rule is found.
 */
#include "policy/internal.h"

static bool sel_empty(const struct nbp_policy *p, const struct nbp_sel *s)
{
	switch (s->kind) {
	case SEL_GROUP:
		return !p->groups[s->idx].n_members;
	case SEL_TAG:
		return !p->tags[s->idx].n_members;
	default:
		return false;
	}
}

static bool side_empty(const struct nbp_policy *p, const struct nbp_sel *s,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!sel_empty(p, &s[i]))
			return false;
	return true;
}

static bool prefix_in(const struct nbp_policy *p, const struct nbp_sel *a,
		      const struct nbp_addr *x)
{
	size_t i;

	if (a->kind == SEL_PREFIX)
		return nbp_addr_contains(&a->pfx, x);
	if (a->kind == SEL_NET)
		for (i = 0; i < p->nets[a->idx].n_prefixes; i++)
			if (nbp_addr_contains(&p->nets[a->idx].prefixes[i], x))
				return true;
	return false;
}

static bool covers_one(const struct nbp_policy *p, const struct nbp_sel *a,
		       const struct nbp_sel *b)
{
	const struct nbp_peer *pr;
	size_t i;

	if (a->kind == SEL_ANY)
		return true;
	if (a->kind == b->kind && a->kind != SEL_PREFIX && a->idx == b->idx)
		return true;
	switch (b->kind) {
	case SEL_PEER:
		pr = &p->peers[b->idx];
		if (a->kind == SEL_GROUP || a->kind == SEL_TAG)
			return nbp_peer_in_sel(p, a, 1, b->idx);
		if (!pr->n_addrs)
			return false;
		for (i = 0; i < pr->n_addrs; i++)
			if (!prefix_in(p, a, &pr->addrs[i]))
				return false;
		return true;
	case SEL_PREFIX:
		return prefix_in(p, a, &b->pfx);
	case SEL_NET:
		for (i = 0; i < p->nets[b->idx].n_prefixes; i++)
			if (!prefix_in(p, a, &p->nets[b->idx].prefixes[i]))
				return false;
		return true;
	default:
		return false;
	}
}

static bool covers_side(const struct nbp_policy *p, const struct nbp_sel *a,
			size_t na, const struct nbp_sel *b, size_t nb)
{
	size_t i, j;

	for (j = 0; j < nb; j++) {
		for (i = 0; i < na; i++)
			if (covers_one(p, &a[i], &b[j]))
				break;
		if (i == na)
			return false;
	}
	return true;
}

static bool covers_half(const struct nbp_policy *p, const struct nbp_rule *a,
			int ha, const struct nbp_rule *b, int hb)
{
	size_t i, j;

	if (!a->proto_any && (b->proto_any || a->proto != b->proto))
		return false;
	if (a->n_ports) {
		if (!b->n_ports)
			return false;
		for (j = 0; j < b->n_ports; j++) {
			for (i = 0; i < a->n_ports; i++)
				if (a->ports[i].lo <= b->ports[j].lo &&
				    a->ports[i].hi >= b->ports[j].hi)
					break;
			if (i == a->n_ports)
				return false;
		}
	}
	return covers_side(p, ha ? a->dst : a->src, ha ? a->n_dst : a->n_src,
			   hb ? b->dst : b->src, hb ? b->n_dst : b->n_src) &&
	       covers_side(p, ha ? a->src : a->dst, ha ? a->n_src : a->n_dst,
			   hb ? b->src : b->dst, hb ? b->n_src : b->n_dst);
}

/* Does rule a cover every half of rule b? */
static bool covers(const struct nbp_policy *p, const struct nbp_rule *a,
		   const struct nbp_rule *b)
{
	int hb, ha;

	for (hb = 0; hb < (b->bidir ? 2 : 1); hb++) {
		for (ha = 0; ha < (a->bidir ? 2 : 1); ha++)
			if (covers_half(p, a, ha, b, hb))
				break;
		if (ha == (a->bidir ? 2 : 1))
			return false;
	}
	return true;
}

void nbp_lint(const struct nbp_policy *p, struct nbp_diag *diag)
{
	size_t i, j;

	for (j = 0; j < p->n_rules; j++) {
		const struct nbp_rule *b = &p->rules[j];

		if (!b->enabled)
			continue;
		if (side_empty(p, b->src, b->n_src) ||
		    side_empty(p, b->dst, b->n_dst)) {
			nbp_diag_add(diag, NBP_SEV_WARNING, p->file, b->loc.line,
				     b->loc.col,
				     "rule '%s' can never match: its %s select no peer",
				     b->name, side_empty(p, b->src, b->n_src) ?
				     "sources" : "destinations");
			continue;
		}
		/* Quadratic: skip on huge policies rather than stall. */
		if (p->n_rules > 5000)
			continue;
		for (i = 0; i < p->n_rules; i++) {
			const struct nbp_rule *a = &p->rules[i];

			if (i == j || !a->enabled)
				continue;
			if (a->allow == b->allow && i > j)
				continue;
			if (a->allow && !b->allow)
				continue;
			if (!covers(p, a, b))
				continue;
			nbp_diag_add(diag, NBP_SEV_WARNING, p->file, b->loc.line,
				     b->loc.col,
				     "rule '%s' is shadowed by %s rule '%s' (line %u) and never decides a packet",
				     b->name, a->allow ? "allow" : "deny",
				     a->name, a->loc.line);
			break;
		}
	}
}
