// SPDX-License-Identifier: GPL-2.0
/*
 * The reference matcher: every rule checked against the packet, in the
 * plainest possible way (bit by bit prefixes, nested loops), to be
 * obviously right rather than fast.
 */
#include <string.h>

#include "refmatch.h"

static bool ref_bit(const u8 *a, unsigned int i)
{
	return a[i / 8] >> (7 - i % 8) & 1;
}

static bool ref_in_prefix(const struct nbg_prefix *p, u8 family,
			  const u8 *addr)
{
	unsigned int i;

	if (p->family != family)
		return false;
	for (i = 0; i < p->len; i++)
		if (ref_bit(p->addr.raw, i) != ref_bit(addr, i))
			return false;
	return true;
}

/* The identity owning an address: the one with the longest prefix. */
static const struct nbg_ident_desc *ref_ident(const struct nbg_ruleset_desc *d,
					      u8 family, const u8 *addr)
{
	const struct nbg_ident_desc *best = NULL;
	int best_len = -1;
	u32 i, j;

	for (i = 0; i < d->n_idents; i++)
		for (j = 0; j < d->idents[i].n_prefixes; j++) {
			const struct nbg_prefix *p = &d->idents[i].prefixes[j];

			if (ref_in_prefix(p, family, addr) && p->len > best_len) {
				best = &d->idents[i];
				best_len = p->len;
			}
		}
	return best;
}

static bool ref_sel(const struct nbg_selector *s,
		    const struct nbg_ident_desc *id, u8 family, const u8 *addr)
{
	u32 i, j;

	if (s->any || !(s->n_idents || s->n_groups || s->n_prefixes))
		return true;
	for (i = 0; i < s->n_prefixes; i++)
		if (ref_in_prefix(&s->prefixes[i], family, addr))
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

static bool ref_rule(const struct nbg_rule_desc *r, const struct nbg_pkt *p,
		     const struct nbg_ident_desc *sid,
		     const struct nbg_ident_desc *did)
{
	bool port_ok = !r->n_ports;
	u32 i;

	if (r->direction != p->direction)
		return false;
	if (!r->proto_any && r->proto != p->proto)
		return false;
	if (r->n_ports && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
			   p->proto == IPPROTO_SCTP ||
			   p->proto == IPPROTO_UDPLITE))
		for (i = 0; i < r->n_ports; i++)
			if (r->ports[i].lo <= p->dport &&
			    p->dport <= r->ports[i].hi)
				port_ok = true;
	return port_ok && ref_sel(&r->src, sid, p->family, p->saddr.raw) &&
	       ref_sel(&r->dst, did, p->family, p->daddr.raw);
}

void ref_classify(const struct nbg_ruleset_desc *d, const struct nbg_pkt *p,
		  struct nbg_verdict *v)
{
	const struct nbg_ident_desc *sid, *did, *remote;
	const struct nbg_rule_desc *deny = NULL, *allow = NULL;
	u32 i, deny_i = 0, allow_i = 0;

	sid = ref_ident(d, p->family, p->saddr.raw);
	did = ref_ident(d, p->family, p->daddr.raw);
	remote = p->direction == NBG_DIR_IN ? sid : did;
	memset(v, 0, sizeof(*v));
	v->ident_id = remote ? remote->id : 0;
	for (i = 0; i < d->n_rules; i++) {
		const struct nbg_rule_desc *r = &d->rules[i];

		if (!ref_rule(r, p, sid, did))
			continue;
		if (r->action == NBG_ACTION_DENY && (!deny || r->id < deny->id)) {
			deny = r;
			deny_i = i;
		}
		if (r->action == NBG_ACTION_ALLOW &&
		    (!allow || r->id < allow->id)) {
			allow = r;
			allow_i = i;
		}
	}
	if (deny) {
		v->action = NBG_ACTION_DENY;
		v->rule_id = deny->id;
		v->rule_index = deny_i;
	} else if (allow) {
		v->action = NBG_ACTION_ALLOW;
		v->rule_id = allow->id;
		v->rule_index = allow_i;
	}
}
