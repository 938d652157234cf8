// SPDX-License-Identifier: GPL-2.0
/*
 * Compile a policy for one node into the module's ruleset description.
 *
 * A node enforces what arrives at it: for every enabled rule (and the
 * reverse half of a bidirectional one) whose destinations include one of
 * the node's addresses, an inbound rule with
 *   src = the rule's sources: peers -> identity ids, groups -> group ids,
 *         tags -> tag ids (group ids with bit 31 set), networks and
 *         prefixes -> prefixes, "*" -> any;
 *   dst = the node's addresses that the destinations include (so traffic
 *         through the node to other addresses stays denied by default).
 * Identities are the peers those sources can match (each once, with its
 * addresses and the group/tag ids the compiled rules use). A source that
 * can match no address (e.g. a group whose peers have no addresses yet)
 * makes the rule unmatchable, and it is left out.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "policy/internal.h"
#include "lib/desc.h"
#include "lib/rulesfile.h"

#define TAG_ID_BIT 0x80000000u

struct cctx {
	const struct nbp_policy *p;
	struct nbp_diag *diag;
	struct nbg_ruleset_desc *d;
	uint8_t *peer_used;	/* referenced as peer */
	uint8_t *group_used, *tag_used;
};

static void to_prefix(const struct nbp_addr *a, struct nbg_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	out->len = a->len;
	memcpy(out->addr.raw, a->addr, a->family == AF_INET ? 4 : 16);
}

static bool group_has_addrs(const struct nbp_policy *p, const int *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p->peers[m[i]].n_addrs)
			return true;
	return false;
}

/* Fill @sel from a rule side's selectors; -1 on ENOMEM. */
static int compile_src(struct cctx *c, const struct nbp_sel *s, size_t n,
		       struct nbg_selector *sel)
{
	const struct nbp_policy *p = c->p;
	struct nbg_prefix pf;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		switch (s[i].kind) {
		case SEL_ANY:
			nbg_selector_set_any(sel);
			return 0;
		case SEL_PEER:
			if (!p->peers[s[i].idx].n_addrs)
				break;
			c->peer_used[s[i].idx] = 1;
			rc = nbg_sel_add_ident(sel, s[i].idx + 1);
			break;
		case SEL_GROUP:
			if (!group_has_addrs(p, p->groups[s[i].idx].members,
					     p->groups[s[i].idx].n_members))
				break;
			c->group_used[s[i].idx] = 1;
			rc = nbg_sel_add_group(sel, s[i].idx + 1);
			break;
		case SEL_TAG:
			if (!group_has_addrs(p, p->tags[s[i].idx].members,
					     p->tags[s[i].idx].n_members))
				break;
			c->tag_used[s[i].idx] = 1;
			rc = nbg_sel_add_group(sel, TAG_ID_BIT | (s[i].idx + 1));
			break;
		case SEL_NET:
			for (j = 0; j < p->nets[s[i].idx].n_prefixes && !rc; j++) {
				to_prefix(&p->nets[s[i].idx].prefixes[j], &pf);
				rc = nbg_sel_add_prefix(sel, &pf);
			}
			break;
		case SEL_PREFIX:
			to_prefix(&s[i].pfx, &pf);
			rc = nbg_sel_add_prefix(sel, &pf);
			break;
		}
	}
	return rc ? -1 : 0;
}

static int compile_half(struct cctx *c, const struct nbp_rule *r, size_t idx,
			int half, int node)
{
	const struct nbp_policy *p = c->p;
	const struct nbp_peer *np = &p->peers[node];
	const struct nbp_sel *src = half ? r->dst : r->src;
	const struct nbp_sel *dst = half ? r->src : r->dst;
	size_t ns = half ? r->n_dst : r->n_src;
	size_t nd = half ? r->n_src : r->n_dst;
	struct nbg_rule_desc *rd;
	struct nbg_selector srcsel = { 0 };
	struct nbg_prefix pf;
	size_t i;
	bool covered = false;

	for (i = 0; i < np->n_addrs && !covered; i++)
		covered = nbp_sel_match(p, dst, nd, &np->addrs[i], node);
	if (!covered)
		return 0;
	if (compile_src(c, src, ns, &srcsel))
		goto nomem;
	if (!nbg_selector_is_any(&srcsel) || srcsel.any) {
		/* ok: has items, or is explicitly any */
	} else {
		return 0;	/* matches nobody (yet) */
	}
	if (srcsel.n_idents > NBG_MAX_SEL_ITEMS ||
	    srcsel.n_prefixes > NBG_MAX_PREFIXES) {
		nbp_diag_add(c->diag, NBP_SEV_ERROR, p->file, r->loc.line,
			     r->loc.col,
			     "rule '%s': too many peers or prefixes in sources for the module (limits %u, %u)",
			     r->name, NBG_MAX_SEL_ITEMS, NBG_MAX_PREFIXES);
		nbg_selector_free(&srcsel);
		return -1;
	}
	rd = nbg_desc_add_rule(c->d);
	if (!rd)
		goto nomem;
	rd->id = 2 * idx + 1 + half;
	rd->action = r->allow ? NBG_ACTION_ALLOW : NBG_ACTION_DENY;
	rd->direction = NBG_DIR_IN;
	rd->proto_any = r->proto_any;
	rd->proto = r->proto_any ? 0 : r->proto;
	rd->src = srcsel;
	for (i = 0; i < r->n_ports; i++)
		if (nbg_rule_add_ports(rd, r->ports[i].lo, r->ports[i].hi))
			goto nomem;
	for (i = 0; i < np->n_addrs; i++) {
		if (!nbp_sel_match(p, dst, nd, &np->addrs[i], node))
			continue;
		to_prefix(&np->addrs[i], &pf);
		if (nbg_sel_add_prefix(&rd->dst, &pf))
			goto nomem;
	}
	return 0;
nomem:
	nbp_diag_add(c->diag, NBP_SEV_ERROR, p->file, 0, 0, "out of memory");
	return -1;
}

static bool peer_needed(const struct cctx *c, size_t i)
{
	const struct nbp_peer *pr = &c->p->peers[i];
	size_t j;

	if (!pr->n_addrs)
		return false;
	if (c->peer_used[i])
		return true;
	for (j = 0; j < pr->n_groups; j++)
		if (c->group_used[pr->groups[j]])
			return true;
	for (j = 0; j < pr->n_tags; j++)
		if (c->tag_used[pr->tags[j]])
			return true;
	return false;
}

static int emit_identities(struct cctx *c)
{
	const struct nbp_policy *p = c->p;
	struct nbg_ident_desc *id;
	struct nbg_prefix pf;
	size_t i, j;

	for (i = 0; i < p->n_peers; i++) {
		const struct nbp_peer *pr = &p->peers[i];

		if (!peer_needed(c, i))
			continue;
		id = nbg_desc_add_ident(c->d);
		if (!id)
			return -1;
		id->id = i + 1;
		snprintf(id->name, sizeof(id->name), "%s", pr->name);
		for (j = 0; j < pr->n_addrs; j++) {
			to_prefix(&pr->addrs[j], &pf);
			if (nbg_ident_add_prefix(id, &pf))
				return -1;
		}
		for (j = 0; j < pr->n_groups; j++)
			if (c->group_used[pr->groups[j]] &&
			    nbg_ident_add_group(id, pr->groups[j] + 1))
				return -1;
		for (j = 0; j < pr->n_tags; j++)
			if (c->tag_used[pr->tags[j]] &&
			    nbg_ident_add_group(id, TAG_ID_BIT | (pr->tags[j] + 1)))
				return -1;
	}
	return 0;
}

int nbp_compile(const struct nbp_policy *p, const char *node,
		struct nbg_ruleset_desc *out, struct nbp_diag *diag)
{
	struct cctx c = { .p = p, .diag = diag, .d = out };
	int ni = nbp_index_get(&p->peer_ix, node);
	size_t i;
	int half, rc = -1;

	nbg_desc_init(out);
	if (ni < 0) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0,
			     "unknown node '%s' (not a peer of the policy)", node);
		return -1;
	}
	if (!p->peers[ni].n_addrs)
		nbp_diag_add(diag, NBP_SEV_WARNING, p->file, p->peers[ni].loc.line,
			     p->peers[ni].loc.col,
			     "node '%s' has no addresses: nothing can reach it", node);
	c.peer_used = calloc(p->n_peers + 1, 1);
	c.group_used = calloc(p->n_groups + 1, 1);
	c.tag_used = calloc(p->n_tags + 1, 1);
	if (!c.peer_used || !c.group_used || !c.tag_used) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < p->n_rules; i++) {
		const struct nbp_rule *r = &p->rules[i];

		if (!r->enabled)
			continue;
		for (half = 0; half < (r->bidir ? 2 : 1); half++)
			if (compile_half(&c, r, i, half, ni))
				goto out;
	}
	if (emit_identities(&c)) {
		nbp_diag_add(diag, NBP_SEV_ERROR, p->file, 0, 0, "out of memory");
		goto out;
	}
	/* Sorted, de-duplicated items: the same policy gives the same bytes. */
	nbg_desc_canonicalize(out);
	rc = 0;
out:
	if (rc)
		nbg_desc_free(out);
	free(c.peer_used);
	free(c.group_used);
	free(c.tag_used);
	return rc;
}

void nbp_desc_free(struct nbg_ruleset_desc *d)
{
	nbg_desc_free(d);
}

static void print_group_ids(const struct nbp_policy *p,
			    const struct nbg_ruleset_desc *d, FILE *f)
{
	uint8_t *seen_g = calloc(p->n_groups + 1, 1);
	uint8_t *seen_t = calloc(p->n_tags + 1, 1);
	size_t i, j;

	if (!seen_g || !seen_t)
		goto out;
	for (i = 0; i < d->n_idents; i++)
		for (j = 0; j < d->idents[i].n_groups; j++) {
			uint32_t g = d->idents[i].groups[j];

			if (g & TAG_ID_BIT) {
				g &= ~TAG_ID_BIT;
				if (g && g <= p->n_tags)
					seen_t[g - 1] = 1;
			} else if (g && g <= p->n_groups) {
				seen_g[g - 1] = 1;
			}
		}
	for (i = 0; i < p->n_groups; i++)
		if (seen_g[i])
			fprintf(f, "# group %zu = %s\n", i + 1, p->groups[i].name);
	for (i = 0; i < p->n_tags; i++)
		if (seen_t[i])
			fprintf(f, "# group %u = tag:%s\n",
				(unsigned int)(TAG_ID_BIT | (i + 1)),
				p->tags[i].name);
out:
	free(seen_g);
	free(seen_t);
}

void nbp_desc_print(const struct nbp_policy *p,
		    const struct nbg_ruleset_desc *d, FILE *f)
{
	size_t i;

	if (p)
		print_group_ids(p, d, f);
	for (i = 0; i < d->n_idents; i++) {
		char *s = nbg_ident_to_string(&d->idents[i]);

		fprintf(f, "%s\n", s ? s : "# out of memory");
		free(s);
	}
	for (i = 0; i < d->n_rules; i++) {
		char *s = nbg_rule_to_string(&d->rules[i]);
		bool rev = false;
		int ri = p ? nbp_rule_index(p, d->rules[i].id, &rev) : -1;

		if (ri >= 0)
			fprintf(f, "# rule %u = %s%s\n", d->rules[i].id,
				p->rules[ri].name, rev ? " (reverse)" : "");
		fprintf(f, "%s\n", s ? s : "# out of memory");
		free(s);
	}
}
