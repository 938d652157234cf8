// SPDX-License-Identifier: GPL-2.0
/*
 * YAML tree -> struct nbp_policy, with validation. Every error names the
 * file, line and column of the offending node; parsing goes on after an
 * error so that one run reports as many problems as possible.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/internal.h"

struct pctx {
	struct nbp_policy *p;
	struct nbp_diag *diag;
	const char *file;
	unsigned int errs;
};

static void __attribute__((format(printf, 3, 4)))
perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	c->errs++;
	va_start(ap, fmt);
	nbp_diag_vadd(c->diag, NBP_SEV_ERROR, c->file, n ? n->line : 0,
		      n ? n->col : 0, fmt, ap);
	va_end(ap);
}

static const char *type_name(const struct ynode *n)
{
	return n->type == Y_SCALAR ? "a scalar" :
	       n->type == Y_SEQ ? "a list" : "a mapping";
}

static struct nbp_loc loc_of(const struct ynode *n)
{
	struct nbp_loc l = { n->line, n->col };

	return l;
}

/*
 * Check a mapping's keys against @allowed (NULL-terminated): unknown keys
 * (typos) and duplicate keys are errors. Returns false if @n is not a map.
 */
static bool check_map(struct pctx *c, const struct ynode *n, const char *what,
		      const char *const *allowed)
{
	size_t i, j, k;

	if (n->type != Y_MAP) {
		perr(c, n, "%s must be a mapping, not %s", what, type_name(n));
		return false;
	}
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *key = n->kids[i];

		if (key->type != Y_SCALAR) {
			perr(c, key, "keys in %s must be scalars", what);
			continue;
		}
		for (k = 0; allowed[k]; k++)
			if (!strcmp(key->val, allowed[k]))
				break;
		if (!allowed[k]) {
			char list[256] = "";

			for (k = 0; allowed[k]; k++) {
				if (k)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, allowed[k], sizeof(list) - strlen(list) - 1);
			}
			perr(c, key, "unknown key '%.64s' in %s (expected one of: %s)",
			     key->val, what, list);
			continue;
		}
		for (j = 0; j < i; j += 2)
			if (n->kids[j]->type == Y_SCALAR &&
			    !strcmp(n->kids[j]->val, key->val)) {
				perr(c, key, "duplicate key '%s' in %s (first at line %u)",
				     key->val, what, n->kids[j]->line);
				break;
			}
	}
	return true;
}

static const struct ynode *map_get(const struct ynode *n, const char *key)
{
	size_t i;

	if (n->type != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < n->n; i += 2)
		if (n->kids[i]->type == Y_SCALAR && !strcmp(n->kids[i]->val, key))
			return n->kids[i + 1];
	return NULL;
}

static const char *get_str(struct pctx *c, const struct ynode *n,
			   const char *what)
{
	if (n->type != Y_SCALAR) {
		perr(c, n, "%s must be a string, not %s", what, type_name(n));
		return NULL;
	}
	if (strlen(n->val) != n->len) {
		perr(c, n, "%s contains a NUL character", what);
		return NULL;
	}
	return n->val;
}

static bool valid_name(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len > NBP_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return false;
	}
	return true;
}

static const char *get_name(struct pctx *c, const struct ynode *n,
			    const char *what)
{
	const char *s = get_str(c, n, what);

	if (s && !valid_name(s)) {
		perr(c, n, "invalid %s '%.64s': use 1-%d characters of A-Z a-z 0-9 . _ -",
		     what, s, NBP_MAX_NAME);
		return NULL;
	}
	return s;
}

static int get_bool(struct pctx *c, const struct ynode *n, const char *what)
{
	if (n->type == Y_SCALAR && n->plain) {
		if (!strcmp(n->val, "true"))
			return 1;
		if (!strcmp(n->val, "false"))
			return 0;
	}
	perr(c, n, "%s must be true or false", what);
	return -1;
}

/*
 * A list of scalars; a single scalar is accepted as a list of one, which
 * keeps `sources: "*"` and `groups: ops` short. Returns the count and sets
 * *items (pointing into the node); -1 on a type error.
 */
static long get_list(struct pctx *c, const struct ynode *n, const char *what,
		     const struct ynode *const **items)
{
	size_t i;

	if (n->type == Y_SCALAR) {
		*items = (const struct ynode *const *)&n->self;
		return 1;
	}
	if (n->type != Y_SEQ) {
		perr(c, n, "%s must be a list, not %s", what, type_name(n));
		return -1;
	}
	for (i = 0; i < n->n; i++)
		if (n->kids[i]->type != Y_SCALAR) {
			perr(c, n->kids[i], "items of %s must be scalars, not %s",
			     what, type_name(n->kids[i]));
			return -1;
		}
	*items = (const struct ynode *const *)n->kids;
	return n->n;
}

/* ---- groups and tags ------------------------------------------------ */

static void parse_groups(struct pctx *c, const struct ynode *n)
{
	static const char *const keys[] = { "name", "description", NULL };
	struct nbp_policy *p = c->p;
	size_t i;

	if (n->type != Y_SEQ) {
		perr(c, n, "groups must be a list, not %s", type_name(n));
		return;
	}
	p->groups = calloc(n->n ? n->n : 1, sizeof(*p->groups));
	if (!p->groups) {
		perr(c, n, "out of memory");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *g = n->kids[i], *nm = g, *d;
		struct nbp_group *grp;
		const char *name;
		int prev;

		if (g->type == Y_MAP) {
			if (!check_map(c, g, "group", keys))
				continue;
			nm = map_get(g, "name");
			if (!nm) {
				perr(c, g, "group has no name");
				continue;
			}
		}
		name = get_name(c, nm, "group name");
		if (!name)
			continue;
		prev = nbp_index_get(&p->group_ix, name);
		if (prev >= 0) {
			perr(c, nm, "duplicate group '%s' (first defined at line %u column %u)",
			     name, p->groups[prev].loc.line, p->groups[prev].loc.col);
			continue;
		}
		grp = &p->groups[p->n_groups];
		grp->name = strdup(name);
		grp->loc = loc_of(nm);
		d = g->type == Y_MAP ? map_get(g, "description") : NULL;
		if (d && get_str(c, d, "description"))
			grp->desc = strdup(d->val);
		if (!grp->name || nbp_index_put(&p->group_ix, grp->name,
						p->n_groups) < 0) {
			perr(c, nm, "out of memory");
			free(grp->name);
			continue;
		}
		p->n_groups++;
	}
}

static void parse_tags(struct pctx *c, const struct ynode *n)
{
	const struct ynode *const *items;
	long cnt = get_list(c, n, "tags", &items), i;

	for (i = 0; i < cnt; i++) {
		const char *name = get_name(c, items[i], "tag name");

		if (name && nbp_tag_get(c->p, name, loc_of(items[i])) < 0)
			perr(c, items[i], "out of memory");
	}
}

/* ---- peers ---------------------------------------------------------- */

struct addr_seen {
	struct nbp_index ix;	/* canonical address string -> peer */
	size_t n, cap;
	char **strs;
};

static int parse_peer_addrs(struct pctx *c, struct nbp_peer *peer, int pi,
			    const struct ynode *n, struct addr_seen *seen)
{
	const struct ynode *const *items;
	long cnt = get_list(c, n, "addresses", &items), i;

	if (cnt < 0)
		return -1;
	if (cnt > 256) {
		perr(c, n, "too many addresses (limit 256)");
		return -1;
	}
	peer->addrs = calloc(cnt ? cnt : 1, sizeof(*peer->addrs));
	if (!peer->addrs)
		return -1;
	for (i = 0; i < cnt; i++) {
		const char *s = get_str(c, items[i], "address");
		struct nbp_addr a;
		char buf[64], *key;
		int rc, prev;

		if (!s)
			continue;
		rc = nbp_addr_parse(s, &a);
		if (rc) {
			perr(c, items[i], "bad address '%.64s'%s", s,
			     rc == -2 ? ": host bits set after the prefix length" :
			     ": expected an IPv4 or IPv6 address");
			continue;
		}
		if (!nbp_addr_host(&a)) {
			perr(c, items[i], "bad address '%.64s': a peer address is one address (/32 or /128)",
			     s);
			continue;
		}
		nbp_addr_str(&a, buf, sizeof(buf));
		prev = nbp_index_get(&seen->ix, buf);
		if (prev >= 0) {
			perr(c, items[i], "duplicate address %s (already used by peer '%s')",
			     s, c->p->peers[prev].name);
			continue;
		}
		if (seen->n == seen->cap) {
			size_t cap = seen->cap ? seen->cap * 2 : 64;
			char **strs = realloc(seen->strs, cap * sizeof(*strs));

			if (!strs)
				return -1;
			seen->strs = strs;
			seen->cap = cap;
		}
		key = strdup(buf);
		if (!key)
			return -1;
		seen->strs[seen->n++] = key;
		if (nbp_index_put(&seen->ix, key, pi) < 0)
			return -1;
		peer->addrs[peer->n_addrs++] = a;
	}
	return 0;
}

static void parse_peer(struct pctx *c, const struct ynode *n,
		       struct addr_seen *seen)
{
	static const char *const keys[] = {
		"name", "addresses", "groups", "tags", "description", NULL
	};
	struct nbp_policy *p = c->p;
	const struct ynode *nm, *v, *const *items;
	struct nbp_peer *peer;
	const char *name;
	long cnt, i;
	int pi, prev;

	if (!check_map(c, n, "peer", keys))
		return;
	nm = map_get(n, "name");
	if (!nm) {
		perr(c, n, "peer has no name");
		return;
	}
	name = get_name(c, nm, "peer name");
	if (!name)
		return;
	prev = nbp_index_get(&p->peer_ix, name);
	if (prev >= 0) {
		perr(c, nm, "duplicate peer '%s' (first defined at line %u column %u)",
		     name, p->peers[prev].loc.line, p->peers[prev].loc.col);
		return;
	}
	pi = p->n_peers;
	peer = &p->peers[pi];
	peer->name = strdup(name);
	peer->loc = loc_of(nm);
	if (!peer->name || nbp_index_put(&p->peer_ix, peer->name, pi) < 0) {
		perr(c, nm, "out of memory");
		free(peer->name);
		peer->name = NULL;
		return;
	}
	p->n_peers++;
	v = map_get(n, "description");
	if (v)
		get_str(c, v, "description");
	v = map_get(n, "addresses");
	if (v && parse_peer_addrs(c, peer, pi, v, seen))
		perr(c, v, "invalid addresses");
	v = map_get(n, "groups");
	if (v) {
		cnt = get_list(c, v, "groups", &items);
		for (i = 0; i < cnt; i++) {
			const char *g = get_str(c, items[i], "group");
			int gi;

			if (!g)
				continue;
			gi = nbp_index_get(&p->group_ix, g);
			if (gi < 0) {
				perr(c, items[i], "unknown group '%.64s'", g);
				continue;
			}
			if (nbp_peer_join_group(p, pi, gi))
				perr(c, items[i], "out of memory");
		}
	}
	v = map_get(n, "tags");
	if (v) {
		cnt = get_list(c, v, "tags", &items);
		for (i = 0; i < cnt; i++) {
			const char *t = get_name(c, items[i], "tag");
			int ti;

			if (!t)
				continue;
			ti = nbp_tag_get(p, t, loc_of(items[i]));
			if (ti < 0 || nbp_peer_add_tag(p, pi, ti))
				perr(c, items[i], "out of memory");
		}
	}
}

static void parse_peers(struct pctx *c, const struct ynode *n)
{
	struct addr_seen seen;
	size_t i;

	memset(&seen, 0, sizeof(seen));

	if (n->type != Y_SEQ) {
		perr(c, n, "peers must be a list, not %s", type_name(n));
		return;
	}
	c->p->cap_peers = n->n ? n->n : 1;
	c->p->peers = calloc(c->p->cap_peers, sizeof(*c->p->peers));
	if (!c->p->peers) {
		perr(c, n, "out of memory");
		return;
	}
	for (i = 0; i < n->n; i++)
		parse_peer(c, n->kids[i], &seen);
	for (i = 0; i < seen.n; i++)
		free(seen.strs[i]);
	free(seen.strs);
	nbp_index_free(&seen.ix);
}

/* ---- networks ------------------------------------------------------- */

static int parse_prefix(struct pctx *c, const struct ynode *n,
			struct nbp_addr *a)
{
	const char *s = get_str(c, n, "prefix");
	int rc;

	if (!s)
		return -1;
	rc = nbp_addr_parse(s, a);
	if (rc) {
		perr(c, n, "bad prefix '%.64s'%s", s,
		     rc == -2 ? ": host bits set after the prefix length" :
		     ": expected ADDRESS[/LENGTH]");
		return -1;
	}
	return 0;
}

static void parse_networks(struct pctx *c, const struct ynode *n)
{
	static const char *const keys[] = {
		"name", "prefixes", "description", NULL
	};
	struct nbp_policy *p = c->p;
	size_t i;

	if (n->type != Y_SEQ) {
		perr(c, n, "networks must be a list, not %s", type_name(n));
		return;
	}
	p->nets = calloc(n->n ? n->n : 1, sizeof(*p->nets));
	if (!p->nets) {
		perr(c, n, "out of memory");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *e = n->kids[i], *nm, *v, *const *items;
		struct nbp_net *net;
		const char *name;
		long cnt, j;
		int prev;

		if (!check_map(c, e, "network", keys))
			continue;
		nm = map_get(e, "name");
		if (!nm) {
			perr(c, e, "network has no name");
			continue;
		}
		name = get_name(c, nm, "network name");
		if (!name)
			continue;
		prev = nbp_index_get(&p->net_ix, name);
		if (prev >= 0) {
			perr(c, nm, "duplicate network '%s' (first defined at line %u column %u)",
			     name, p->nets[prev].loc.line, p->nets[prev].loc.col);
			continue;
		}
		v = map_get(e, "description");
		if (v)
			get_str(c, v, "description");
		v = map_get(e, "prefixes");
		if (!v) {
			perr(c, e, "network '%s' has no prefixes", name);
			continue;
		}
		cnt = get_list(c, v, "prefixes", &items);
		if (cnt < 0)
			continue;
		if (cnt > 256) {
			perr(c, v, "too many prefixes (limit 256)");
			continue;
		}
		net = &p->nets[p->n_nets];
		net->name = strdup(name);
		net->loc = loc_of(nm);
		net->prefixes = calloc(cnt ? cnt : 1, sizeof(*net->prefixes));
		if (!net->name || !net->prefixes ||
		    nbp_index_put(&p->net_ix, net->name, p->n_nets) < 0) {
			free(net->name);
			free(net->prefixes);
			perr(c, nm, "out of memory");
			continue;
		}
		p->n_nets++;
		for (j = 0; j < cnt; j++)
			if (!parse_prefix(c, items[j],
					  &net->prefixes[net->n_prefixes]))
				net->n_prefixes++;
	}
}

/* ---- rules ---------------------------------------------------------- */

static int parse_sel(struct pctx *c, const struct ynode *n, struct nbp_sel *s)
{
	static const struct {
		const char *prefix;
		enum sel_kind kind;
		const char *what;
	} kinds[] = {
		{ "peer:", SEL_PEER, "peer" },
		{ "group:", SEL_GROUP, "group" },
		{ "tag:", SEL_TAG, "tag" },
		{ "network:", SEL_NET, "network" },
	};
	struct nbp_policy *p = c->p;
	const char *str = get_str(c, n, "selector");
	int pi, gi, ni, rc, found;
	size_t k;

	if (!str)
		return -1;
	memset(s, 0, sizeof(*s));
	s->loc = loc_of(n);
	if (!strcmp(str, "*")) {
		s->kind = SEL_ANY;
		return 0;
	}
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct nbp_index *ix;
		const char *name;

		if (strncmp(str, kinds[k].prefix, strlen(kinds[k].prefix)))
			continue;
		name = str + strlen(kinds[k].prefix);
		ix = kinds[k].kind == SEL_PEER ? &p->peer_ix :
		     kinds[k].kind == SEL_GROUP ? &p->group_ix :
		     kinds[k].kind == SEL_TAG ? &p->tag_ix : &p->net_ix;
		s->kind = kinds[k].kind;
		s->idx = nbp_index_get(ix, name);
		if (s->idx < 0) {
			perr(c, n, "unknown %s '%.64s'", kinds[k].what, name);
			return -1;
		}
		return 0;
	}
	rc = nbp_addr_parse(str, &s->pfx);
	if (rc == 0) {
		s->kind = SEL_PREFIX;
		return 0;
	}
	if (rc == -2) {
		perr(c, n, "bad prefix '%.64s': host bits set after the prefix length",
		     str);
		return -1;
	}
	if (!valid_name(str)) {
		perr(c, n, "bad selector '%.64s': expected *, a name, peer:NAME, group:NAME, tag:NAME, network:NAME or an address/prefix",
		     str);
		return -1;
	}
	pi = nbp_index_get(&p->peer_ix, str);
	gi = nbp_index_get(&p->group_ix, str);
	ni = nbp_index_get(&p->net_ix, str);
	found = (pi >= 0) + (gi >= 0) + (ni >= 0);
	if (found > 1) {
		perr(c, n, "'%s' is ambiguous (%s%s%s): write peer:, group: or network:",
		     str, pi >= 0 ? "a peer " : "", gi >= 0 ? "a group " : "",
		     ni >= 0 ? "a network" : "");
		return -1;
	}
	if (!found) {
		perr(c, n, "unknown peer, group or network '%.64s'", str);
		return -1;
	}
	s->kind = pi >= 0 ? SEL_PEER : gi >= 0 ? SEL_GROUP : SEL_NET;
	s->idx = pi >= 0 ? pi : gi >= 0 ? gi : ni;
	return 0;
}

static long parse_sels(struct pctx *c, const struct ynode *n, const char *what,
		       struct nbp_sel **out)
{
	const struct ynode *const *items;
	long cnt = get_list(c, n, what, &items), i, m = 0;

	if (cnt < 0)
		return -1;
	if (cnt == 0) {
		perr(c, n, "%s is empty (use \"*\" for everyone)", what);
		return -1;
	}
	if (cnt > NBP_MAX_SELECTORS) {
		perr(c, n, "too many %s (limit %d)", what, NBP_MAX_SELECTORS);
		return -1;
	}
	*out = calloc(cnt, sizeof(**out));
	if (!*out)
		return -1;
	for (i = 0; i < cnt; i++)
		if (!parse_sel(c, items[i], &(*out)[m]))
			m++;
	return m;
}

static bool parse_u16(const char *s, const char *end, unsigned long *v)
{
	const char *q;

	if (s == end || end - s > 6)
		return false;
	for (q = s; q < end; q++)
		if (*q < '0' || *q > '9')
			return false;
	*v = strtoul(s, NULL, 10);
	return true;
}

static int parse_ports(struct pctx *c, const struct ynode *n,
		       struct nbp_rule *r)
{
	const struct ynode *const *items;
	long cnt = get_list(c, n, "ports", &items), i;

	if (cnt < 0)
		return -1;
	if (cnt > NBG_MAX_PORT_RANGES) {
		perr(c, n, "too many port entries (limit %d)", NBG_MAX_PORT_RANGES);
		return -1;
	}
	if (cnt == 0) {
		perr(c, n, "ports is empty (leave it out for any port)");
		return -1;
	}
	r->ports = calloc(cnt, sizeof(*r->ports));
	if (!r->ports)
		return -1;
	for (i = 0; i < cnt; i++) {
		const char *s = get_str(c, items[i], "port"), *dash;
		unsigned long lo, hi;

		if (!s)
			continue;
		dash = strchr(s, '-');
		if (!parse_u16(s, dash ? dash : s + strlen(s), &lo) ||
		    (dash && !parse_u16(dash + 1, s + strlen(s), &hi))) {
			perr(c, items[i], "bad port '%.64s': expected PORT or LOW-HIGH",
			     s);
			continue;
		}
		if (!dash)
			hi = lo;
		if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
			perr(c, items[i], "port %lu out of range (1-65535)",
			     (lo < 1 || lo > 65535) ? lo : hi);
			continue;
		}
		if (lo > hi) {
			perr(c, items[i], "reversed port range %lu-%lu", lo, hi);
			continue;
		}
		r->ports[r->n_ports].lo = lo;
		r->ports[r->n_ports].hi = hi;
		r->ports[r->n_ports].loc = loc_of(items[i]);
		r->n_ports++;
	}
	return 0;
}

static void parse_rule(struct pctx *c, const struct ynode *n)
{
	static const char *const keys[] = {
		"name", "description", "action", "sources", "destinations",
		"protocol", "ports", "bidirectional", "enabled", NULL
	};
	struct nbp_policy *p = c->p;
	const struct ynode *nm, *v, *pv;
	struct nbp_rule *r;
	const char *name, *s;
	long cnt;
	int prev, b;

	if (!check_map(c, n, "rule", keys))
		return;
	nm = map_get(n, "name");
	if (!nm) {
		perr(c, n, "rule has no name");
		return;
	}
	name = get_name(c, nm, "rule name");
	if (!name)
		return;
	prev = nbp_index_get(&p->rule_ix, name);
	if (prev >= 0) {
		perr(c, nm, "duplicate rule '%s' (first defined at line %u column %u)",
		     name, p->rules[prev].loc.line, p->rules[prev].loc.col);
		return;
	}
	r = &p->rules[p->n_rules];
	r->name = strdup(name);
	r->loc = loc_of(nm);
	r->enabled = true;
	r->proto_any = true;
	if (!r->name || nbp_index_put(&p->rule_ix, r->name, p->n_rules) < 0) {
		perr(c, nm, "out of memory");
		free(r->name);
		r->name = NULL;
		return;
	}
	p->n_rules++;

	v = map_get(n, "description");
	if (v && get_str(c, v, "description"))
		r->desc = strdup(v->val);
	v = map_get(n, "action");
	if (!v) {
		perr(c, n, "rule '%s' has no action (allow or deny)", name);
	} else if ((s = get_str(c, v, "action"))) {
		if (!strcmp(s, "allow"))
			r->allow = true;
		else if (strcmp(s, "deny"))
			perr(c, v, "unknown action '%.64s' (expected allow or deny)", s);
	}
	v = map_get(n, "sources");
	if (!v) {
		perr(c, n, "rule '%s' has no sources", name);
	} else {
		cnt = parse_sels(c, v, "sources", &r->src);
		r->n_src = cnt > 0 ? cnt : 0;
	}
	v = map_get(n, "destinations");
	if (!v) {
		perr(c, n, "rule '%s' has no destinations", name);
	} else {
		cnt = parse_sels(c, v, "destinations", &r->dst);
		r->n_dst = cnt > 0 ? cnt : 0;
	}
	pv = map_get(n, "protocol");
	if (pv && (s = get_str(c, pv, "protocol")) &&
	    nbp_proto_parse(s, &r->proto_any, &r->proto))
		perr(c, pv, "unknown protocol '%.64s' (expected tcp, udp, icmp, icmpv6, sctp, udplite, all or 0-255)",
		     s);
	v = map_get(n, "ports");
	if (v) {
		if (r->proto_any)
			perr(c, v, "ports need protocol tcp, udp, sctp or udplite (rule '%s' has protocol all)",
			     name);
		else if (!nbp_proto_has_ports(r->proto))
			perr(c, v, "ports given for protocol %s, which has no ports",
			     pv ? pv->val : "?");
		/* Parsed either way, so that range errors show up too. */
		parse_ports(c, v, r);
	}
	v = map_get(n, "bidirectional");
	if (v && (b = get_bool(c, v, "bidirectional")) >= 0)
		r->bidir = b;
	v = map_get(n, "enabled");
	if (v && (b = get_bool(c, v, "enabled")) >= 0)
		r->enabled = b;
}

static void parse_rules(struct pctx *c, const struct ynode *n)
{
	size_t i;

	if (n->type != Y_SEQ) {
		perr(c, n, "rules must be a list, not %s", type_name(n));
		return;
	}
	if (n->n > NBP_MAX_RULES) {
		perr(c, n, "too many rules (limit %d)", NBP_MAX_RULES);
		return;
	}
	c->p->rules = calloc(n->n ? n->n : 1, sizeof(*c->p->rules));
	if (!c->p->rules) {
		perr(c, n, "out of memory");
		return;
	}
	for (i = 0; i < n->n; i++)
		parse_rule(c, n->kids[i]);
}

/* ---- tests ---------------------------------------------------------- */

/* "name", "100.64.0.1", "fd00::1" -> peer index or address. */
static int parse_endpoint(struct pctx *c, const struct ynode *n,
			  const char *s, int *peer, struct nbp_addr *a)
{
	*peer = nbp_index_get(&c->p->peer_ix, s);
	if (*peer >= 0)
		return 0;
	if (nbp_addr_parse(s, a) == 0 && nbp_addr_host(a))
		return 0;
	perr(c, n, "unknown peer '%.64s' (expected a peer name or an address)",
	     s);
	return -1;
}

/* TARGET[:PORT][/PROTO], TARGET = name | v4 | [v6] | v6 (no port) */
static int parse_expect(struct pctx *c, const struct ynode *n,
			struct nbp_expect *e)
{
	const char *s = get_str(c, n, "test destination");
	char buf[128], *slash, *port = NULL, *target = buf, *colon;
	bool any = false, has_proto = false;
	unsigned long pv;

	if (!s)
		return -1;
	if (strlen(s) >= sizeof(buf)) {
		perr(c, n, "test destination too long");
		return -1;
	}
	strcpy(buf, s);
	e->text = strdup(s);
	e->loc = loc_of(n);
	e->proto = 6;
	slash = strrchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		if (nbp_proto_parse(slash, &any, &e->proto) || any) {
			perr(c, n, "unknown protocol '%.32s' in test '%.64s'",
			     slash, s);
			return -1;
		}
		has_proto = true;
	}
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] && close[1] != ':')) {
			perr(c, n, "bad test destination '%.64s': expected [IPv6]:PORT",
			     s);
			return -1;
		}
		*close = 0;
		target = buf + 1;
		if (close[1] == ':')
			port = close + 2;
	} else if ((colon = strchr(buf, ':')) && !strchr(colon + 1, ':')) {
		*colon = 0;
		port = colon + 1;
	}
	if (parse_endpoint(c, n, target, &e->peer, &e->addr))
		return -1;
	if (port) {
		if (!parse_u16(port, port + strlen(port), &pv) || pv < 1 ||
		    pv > 65535) {
			perr(c, n, "bad port '%.16s' in test '%.64s' (1-65535)",
			     port, s);
			return -1;
		}
		e->port = pv;
	}
	if (!port && !has_proto) {
		perr(c, n, "test '%.64s' needs a port and/or a protocol (e.g. db1:22/tcp, db1/icmp)",
		     s);
		return -1;
	}
	if (port && !nbp_proto_has_ports(e->proto)) {
		perr(c, n, "port given in test '%.64s' for a protocol without ports",
		     s);
		return -1;
	}
	if (!port && nbp_proto_has_ports(e->proto)) {
		perr(c, n, "test '%.64s' needs a port for this protocol", s);
		return -1;
	}
	return 0;
}

static void parse_test(struct pctx *c, const struct ynode *n)
{
	static const char *const keys[] = {
		"from", "accept", "deny", "description", NULL
	};
	struct nbp_policy *p = c->p;
	const struct ynode *from, *lists[2];
	struct nbp_test *t;
	const char *s;
	size_t total = 0;
	int k;

	if (!check_map(c, n, "test", keys))
		return;
	from = map_get(n, "from");
	if (!from) {
		perr(c, n, "test has no 'from'");
		return;
	}
	s = get_str(c, from, "from");
	if (!s)
		return;
	t = &p->tests[p->n_tests];
	t->loc = loc_of(from);
	if (parse_endpoint(c, from, s, &t->peer, &t->addr))
		return;
	t->text = strdup(s);
	p->n_tests++;
	lists[0] = map_get(n, "accept");
	lists[1] = map_get(n, "deny");
	for (k = 0; k < 2; k++) {
		const struct ynode *const *items;
		long cnt;

		if (!lists[k])
			continue;
		cnt = get_list(c, lists[k], k ? "deny" : "accept", &items);
		if (cnt > 0)
			total += cnt;
	}
	if (total > 100000) {
		perr(c, n, "too many test expectations");
		return;
	}
	t->exp = calloc(total ? total : 1, sizeof(*t->exp));
	if (!t->exp)
		return;
	for (k = 0; k < 2; k++) {
		const struct ynode *const *items;
		long cnt, i;

		if (!lists[k])
			continue;
		cnt = get_list(c, lists[k], k ? "deny" : "accept", &items);
		for (i = 0; i < cnt; i++) {
			struct nbp_expect *e = &t->exp[t->n];

			e->accept = !k;
			if (parse_expect(c, items[i], e)) {
				free(e->text);
				e->text = NULL;
				continue;
			}
			t->n++;
		}
	}
}

static void parse_tests(struct pctx *c, const struct ynode *n)
{
	size_t i;

	if (n->type != Y_SEQ) {
		perr(c, n, "tests must be a list, not %s", type_name(n));
		return;
	}
	c->p->tests = calloc(n->n ? n->n : 1, sizeof(*c->p->tests));
	if (!c->p->tests) {
		perr(c, n, "out of memory");
		return;
	}
	for (i = 0; i < n->n; i++)
		parse_test(c, n->kids[i]);
}

/* ---- entry points --------------------------------------------------- */

struct nbp_policy *nbp_load_buffer(const char *name, const char *buf,
				   size_t len, struct nbp_diag *diag)
{
	static const char *const keys[] = {
		"version", "groups", "tags", "peers", "networks", "rules",
		"tests", NULL
	};
	struct pctx c = { .diag = diag, .file = name };
	struct ynode *root;
	const struct ynode *v;
	unsigned int errs_before = diag ? diag->n_errors : 0;

	root = ytree_parse(name, buf, len, diag);
	if (!root)
		return NULL;
	c.p = calloc(1, sizeof(*c.p));
	if (!c.p) {
		ytree_free(root);
		return NULL;
	}
	c.p->file = strdup(name);
	if (root->type != Y_MAP) {
		perr(&c, root, "a policy must be a mapping with groups, peers, networks, rules and tests, not %s",
		     type_name(root));
		goto out;
	}
	check_map(&c, root, "policy", keys);
	v = map_get(root, "version");
	if (v && (v->type != Y_SCALAR || strcmp(v->val, "1")))
		perr(&c, v, "unsupported policy version (this is version 1)");
	if ((v = map_get(root, "groups")))
		parse_groups(&c, v);
	if ((v = map_get(root, "tags")))
		parse_tags(&c, v);
	if ((v = map_get(root, "peers")))
		parse_peers(&c, v);
	if ((v = map_get(root, "networks")))
		parse_networks(&c, v);
	if ((v = map_get(root, "rules")))
		parse_rules(&c, v);
	if ((v = map_get(root, "tests")))
		parse_tests(&c, v);
	if (!c.errs && nbp_build_addrmap(c.p, diag))
		c.errs++;
	if (!c.errs)
		nbp_lint(c.p, diag);
out:
	ytree_free(root);
	if (c.errs || (diag && diag->n_errors != errs_before)) {
		nbp_free(c.p);
		return NULL;
	}
	return c.p;
}

struct nbp_policy *nbp_load_file(const char *path, struct nbp_diag *diag)
{
	struct nbp_policy *p = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		nbp_diag_add(diag, NBP_SEV_ERROR, path, 0, 0, "%s",
			     strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > NBP_MAX_INPUT) {
		nbp_diag_add(diag, NBP_SEV_ERROR, path, 0, 0,
			     "input too large (limit %u bytes)", NBP_MAX_INPUT);
		goto out;
	}
	/* Read in chunks so pipes work and the size limit holds for both. */
	buf = malloc(65536);
	if (!buf)
		goto out;
	for (;;) {
		char *nb;

		r = read(fd, buf + len, 65536);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			nbp_diag_add(diag, NBP_SEV_ERROR, path, 0, 0, "%s",
				     strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += r;
		if (len > NBP_MAX_INPUT) {
			nbp_diag_add(diag, NBP_SEV_ERROR, path, 0, 0,
				     "input too large (limit %u bytes)",
				     NBP_MAX_INPUT);
			goto out;
		}
		nb = realloc(buf, len + 65536);
		if (!nb)
			goto out;
		buf = nb;
	}
	p = nbp_load_buffer(path, buf, len, diag);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return p;
}
