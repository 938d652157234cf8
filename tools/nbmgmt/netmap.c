// SPDX-License-Identifier: GPL-2.0
/*
 * The in-memory registry and the policy: which peers each node may know
 * about and which ruleset it enforces. Changes mark only the nodes they
 * affect (the node itself and the peers the policy connects it to) as
 * dirty; reg_flush() recomputes just those maps once per event-loop turn
 * and pushes the ones that actually changed, each with a new serial.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "nbmgmt.h"
#include "policy/policy.h"
#include "kmod/classifier.h"

static void log_diag(const struct nbp_diag *d, int level)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct nbp_msg *m = &d->msgs[i];

		logm(m->sev == NBP_SEV_ERROR ? level : LOG_WARN,
		     "%s:%u:%u: %s", m->file ? m->file : "policy", m->line,
		     m->col, m->text);
	}
}

static char *diag_text(const struct nbp_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	nbp_diag_print(d, f);
	fclose(f);
	return buf;
}

/* Split the node's comma separated groups into the ones the policy has. */
static size_t node_groups(const struct nbp_policy *p, struct node *n,
			  char *buf, size_t len, const char **out, size_t max)
{
	size_t k = 0;
	char *save = NULL, *g;

	snprintf(buf, len, "%s", n->db.groups);
	for (g = strtok_r(buf, ",", &save); g && k < max;
	     g = strtok_r(NULL, ",", &save)) {
		if (nbp_group_find(p, g) < 0) {
			warn("node %s: setup key group '%s' is not in the policy;"
			     " ignored", n->db.name, g);
			continue;
		}
		out[k++] = g;
	}
	return k;
}

/* Put the node into the policy with its groups (addresses: set_addresses). */
static void apply_node(struct nbp_policy *p, struct node *n)
{
	const char *groups[64];
	char gbuf[1024];
	struct nbp_diag d;
	size_t ng;

	nbp_diag_init(&d);
	ng = node_groups(p, n, gbuf, sizeof(gbuf), groups, 64);
	if (nbp_peer_find(p, n->db.name) < 0) {
		if (nbp_add_peer(p, n->db.name, groups, ng, NULL, 0, &d))
			log_diag(&d, LOG_WARN);
	} else if (ng && nbp_peer_add_groups(p, n->db.name, groups, ng, &d)) {
		/* Named in the file: its groups there plus the key's. */
		log_diag(&d, LOG_WARN);
	}
	nbp_diag_free(&d);
}

/*
 * Give @nodes their registry addresses in one step. The registry is the
 * source of truth for an enrolled node's address: addresses the file
 * writes for it are replaced, and a peer not enrolled loses a file
 * address the registry handed to a node (both with a warning). One call
 * for all of them, because setting them one at a time fails whenever a
 * node's new address is still another peer's old one, and the node then
 * kept its file address in every ruleset. Node names are unique in the
 * registry and addresses are unique by construction, so this fails only
 * on out of memory (nothing changed then).
 */
static int set_addresses(struct nbp_policy *p, struct node *const *nodes,
			 size_t n)
{
	struct nbp_peer_addrs *set = calloc(n ? n : 1, sizeof(*set));
	char (*bufs)[2][64] = calloc(n ? n : 1, sizeof(*bufs));
	const char *(*addrs)[2] = calloc(n ? n : 1, sizeof(*addrs));
	struct nbp_diag d;
	size_t k = 0;
	int ret = -1;

	nbp_diag_init(&d);
	if (!set || !bufs || !addrs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (nbp_peer_find(p, nodes[i]->db.name) < 0)
			continue;	/* add_peer failed; warned already */
		addrs[k][0] = nbw_addr_host_str(&nodes[i]->a4, bufs[k][0], 64);
		addrs[k][1] = nbw_addr_host_str(&nodes[i]->a6, bufs[k][1], 64);
		set[k].name = nodes[i]->db.name;
		set[k].addrs = addrs[k];
		set[k].n = 2;
		k++;
	}
	ret = nbp_set_peers_addresses(p, set, k, NBP_ADDRS_OVERRIDE, &d);
	log_diag(&d, LOG_ERR);
	if (ret)
		err("cannot give %zu nodes their registry addresses", k);
out:
	nbp_diag_free(&d);
	free(set);
	free(bufs);
	free(addrs);
	return ret;
}

static int rebuild_by_peer(struct registry *r)
{
	size_t np = nbp_peer_count(r->policy);
	struct node **bp = calloc(np ? np : 1, sizeof(*bp));

	if (!bp)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_nodes; i++) {
		int idx = nbp_peer_find(r->policy, r->nodes[i]->db.name);

		if (idx >= 0 && (size_t)idx < np)
			bp[idx] = r->nodes[i];
	}
	free(r->by_peer);
	r->by_peer = bp;
	r->n_by_peer = np;
	return 0;
}

static void mark(struct registry *r, struct node *n, bool rules_too)
{
	if (rules_too) {
		free(n->ruleset);
		n->ruleset = NULL;
	}
	if (!n->dirty) {
		n->dirty = true;
		r->n_dirty++;
	}
}

struct touch_ctx {
	struct registry *r;
	bool rules_too;
};

static void touch_cb(const struct nbp_policy *p, size_t peer,
		     unsigned int flags, void *ctx)
{
	struct touch_ctx *t = ctx;

	if (peer < t->r->n_by_peer && t->r->by_peer[peer])
		mark(t->r, t->r->by_peer[peer], t->rules_too);
}

void reg_touch(struct registry *r, struct node *n, bool rules_too)
{
	struct touch_ctx t = { r, rules_too };

	mark(r, n, rules_too);
	nbp_connected_peers(r->policy, n->db.name, touch_cb, &t);
}

static void parse_endpoints(struct node *n)
{
	char buf[1024], *save = NULL, *e;

	n->n_eps = 0;
	snprintf(buf, sizeof(buf), "%s", n->db.endpoints);
	for (e = strtok_r(buf, ",", &save); e && n->n_eps < NBW_MAX_ENDPOINTS;
	     e = strtok_r(NULL, ",", &save))
		if (!nbw_endpoint_parse(e, &n->eps[n->n_eps]))
			n->n_eps++;
}

/*
 * Would giving @n its registry addresses take addresses away from a peer
 * (its own file addresses, or another peer's that the file wrote inside
 * the registry's range)? Rulesets anywhere may name those addresses as
 * that peer's identity, also ones reg_touch() does not reach (deny-only
 * rules), and a stale one would treat @n's packets as the other peer's:
 * then every ruleset is recomputed; unchanged maps are not sent.
 */
static bool addresses_move(const struct nbp_policy *p, const struct node *n)
{
	const struct nbw_addr *mine[2] = { &n->a4, &n->a6 };
	int idx = nbp_peer_find(p, n->db.name);
	const struct nbp_addr *a;
	struct nbp_addr x;
	char buf[64];

	if (idx < 0 || nbp_peer_addrs(p, idx, &a))
		return true;
	for (int i = 0; i < 2; i++)
		if (!nbp_addr_parse(nbw_addr_host_str(mine[i], buf, sizeof(buf)), &x) &&
		    nbp_peer_by_addr(p, &x) >= 0)
			return true;
	return false;
}

struct node *reg_add(struct registry *r, const struct db_node *dbn)
{
	struct node *n;

	if (r->n_nodes == r->cap_nodes) {
		size_t cap = r->cap_nodes ? r->cap_nodes * 2 : 64;
		struct node **nn = realloc(r->nodes, cap * sizeof(*nn));

		if (!nn)
			return NULL;
		r->nodes = nn;
		r->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->db = *dbn;
	ranges_addr(&r->ranges, dbn->addr_index, &n->a4, &n->a6);
	parse_endpoints(n);
	r->nodes[r->n_nodes++] = n;
	if (r->policy) {
		bool moved;

		apply_node(r->policy, n);
		moved = addresses_move(r->policy, n);
		/* The others have theirs already: one node is the whole set. */
		set_addresses(r->policy, &n, 1);
		rebuild_by_peer(r);
		reg_touch(r, n, true);
		for (size_t i = 0; moved && i < r->n_nodes; i++)
			mark(r, r->nodes[i], true);
	}
	return n;
}

struct node *reg_find_fp(struct registry *r, const char *fp)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!strcmp(r->nodes[i]->db.fp, fp))
			return r->nodes[i];
	return NULL;
}

int reg_reload_policy(struct registry *r, char **msg)
{
	struct nbp_policy *p;
	struct nbp_diag d;

	*msg = NULL;
	nbp_diag_init(&d);
	p = nbp_load_file(r->policy_path, &d);
	if (!p) {
		log_diag(&d, LOG_ERR);
		*msg = diag_text(&d);
		nbp_diag_free(&d);
		err("policy %s rejected; %s", r->policy_path,
		    r->policy ? "keeping the previous policy" : "no policy");
		return -1;
	}
	log_diag(&d, LOG_WARN);
	nbp_diag_free(&d);
	for (size_t i = 0; i < r->n_nodes; i++)
		apply_node(p, r->nodes[i]);
	if (set_addresses(p, r->nodes, r->n_nodes)) {
		nbp_free(p);
		*msg = strdup("cannot give the nodes their registry addresses");
		err("policy %s not loaded; %s", r->policy_path,
		    r->policy ? "keeping the previous policy" : "no policy");
		return -1;
	}
	nbp_free(r->policy);
	r->policy = p;
	if (rebuild_by_peer(r))
		return -1;
	/* A new policy can change every map; unchanged ones are not sent. */
	for (size_t i = 0; i < r->n_nodes; i++)
		mark(r, r->nodes[i], true);
	info("policy %s loaded: %zu peers, %zu groups, %zu rules",
	     r->policy_path, nbp_peer_count(p), nbp_group_count(p),
	     nbp_rule_count(p));
	return 0;
}

static void load_cb(const struct db_node *dbn, void *ctx)
{
	struct registry *r = ctx;

	if (!reg_add(r, dbn))
		err("out of memory loading node %s", dbn->name);
}

int reg_open(struct registry *r, sqlite3 *db, const char *policy_path)
{
	char s[32], *msg;

	memset(r, 0, sizeof(*r));
	r->db = db;
	snprintf(r->policy_path, sizeof(r->policy_path), "%s", policy_path);
	if (ranges_load(db, &r->ranges))
		return -1;
	if (!db_meta_get(db, "serial", s, sizeof(s)))
		r->serial = strtoull(s, NULL, 10);
	if (db_node_list(db, load_cb, r))
		return -1;
	if (reg_reload_policy(r, &msg)) {
		free(msg);
		return -1;
	}
	return 0;
}

static void node_free(struct node *n)
{
	free(n->ruleset);
	free(n);
}

void reg_close(struct registry *r)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		node_free(r->nodes[i]);
	free(r->nodes);
	free(r->by_peer);
	nbp_free(r->policy);
	memset(r, 0, sizeof(*r));
}

struct seen_ctx {
	int64_t *ids;
	size_t n, cap;
};

static void seen_cb(const struct db_node *dbn, void *ctx)
{
	struct seen_ctx *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int64_t *ids = realloc(s->ids, cap * sizeof(*ids));

		if (!ids)
			return;
		s->ids = ids;
		s->cap = cap;
	}
	s->ids[s->n++] = dbn->id;
}

static bool in_db(const struct seen_ctx *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

int reg_sync(struct registry *r)
{
	struct seen_ctx s = { 0 };
	size_t i = 0;

	if (db_node_list(r->db, seen_cb, &s)) {
		free(s.ids);
		return -1;
	}
	while (i < r->n_nodes) {
		struct node *n = r->nodes[i];
		struct nbp_diag d;

		if (in_db(&s, n->db.id)) {
			i++;
			continue;
		}
		info("node %s removed from the registry", n->db.name);
		reg_touch(r, n, true);
		if (n->dirty)
			r->n_dirty--;
		if (n->conn) {
			n->conn->node = NULL;
			conn_fail(n->conn, NBW_E_NOT_ENROLLED,
				  "node %s was removed", n->db.name);
		}
		/* It keeps its name in the policy but can match nothing. */
		nbp_diag_init(&d);
		nbp_set_peer_addresses(r->policy, n->db.name, NULL, 0, &d);
		nbp_diag_free(&d);
		r->nodes[i] = r->nodes[--r->n_nodes];
		node_free(n);
	}
	free(s.ids);
	return rebuild_by_peer(r);
}

/* ---- building maps ----------------------------------------------------------- */

static void fill_node(const struct node *n, struct nbw_node *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", n->db.name);
	out->has_pubkey = true;
	memcpy(out->pubkey, n->db.pubkey, NBW_KEY_LEN);
	out->addrs[0] = n->a4;
	out->addrs[1] = n->a6;
	out->n_addrs = 2;
	out->n_endpoints = n->n_eps;
	memcpy(out->endpoints, n->eps, n->n_eps * sizeof(n->eps[0]));
}

struct peers_ctx {
	struct registry *r;
	struct node *self;
	struct nbw_msg *m;
	size_t cap;
};

static void peers_cb(const struct nbp_policy *p, size_t peer,
		     unsigned int flags, void *ctx)
{
	struct peers_ctx *c = ctx;
	struct node *n = peer < c->r->n_by_peer ? c->r->by_peer[peer] : NULL;

	/* Only enrolled peers: a name in the policy is not a node yet. */
	if (!n || n == c->self || c->m->n_peers >= c->cap)
		return;
	fill_node(n, &c->m->peers[c->m->n_peers++]);
}

static char *compile_ruleset(struct registry *r, struct node *n)
{
	struct nbg_ruleset_desc d = { 0 };
	struct nbp_diag diag;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	nbp_diag_init(&diag);
	if (nbp_compile(r->policy, n->db.name, &d, &diag)) {
		/* Fail closed: an empty ruleset is the module's default deny. */
		err("compiling the policy for %s failed; sending an empty ruleset",
		    n->db.name);
		log_diag(&diag, LOG_ERR);
		nbp_diag_free(&diag);
		return strdup("");
	}
	nbp_diag_free(&diag);
	f = open_memstream(&buf, &len);
	if (f) {
		fprintf(f, "# nbguard ruleset for %s, from %s\n", n->db.name,
			r->policy_path);
		nbp_desc_print(r->policy, &d, f);
		fclose(f);
	}
	nbp_desc_free(&d);
	return buf;
}

int reg_netmap(struct registry *r, struct node *n, struct nbw_msg *m)
{
	struct peers_ctx c = { r, n, m, 0 };
	int np;

	nbw_msg_init(m, NBW_MSG_NETMAP);
	fill_node(n, &m->self);
	np = nbp_connected_peers(r->policy, n->db.name, NULL, NULL);
	if (np < 0)
		np = 0;
	c.cap = (size_t)np < NBW_MAX_PEERS ? (size_t)np : NBW_MAX_PEERS;
	if (c.cap) {
		m->peers = calloc(c.cap, sizeof(*m->peers));
		if (!m->peers)
			return -1;
		nbp_connected_peers(r->policy, n->db.name, peers_cb, &c);
	}
	if (!n->ruleset)
		n->ruleset = compile_ruleset(r, n);
	if (!n->ruleset)
		return -1;
	m->ruleset = strdup(n->ruleset);
	return m->ruleset ? 0 : -1;
}

/* Offset of the SERIAL value: it is the first attribute of a NETMAP. */
#define SERIAL_OFF (NBW_HDR_LEN + NBW_ATTR_HDR_LEN)

static void push(struct registry *r, struct node *n)
{
	struct nbw_buf b = { 0 };
	struct nbw_msg m;
	uint8_t md[32];
	unsigned int mdlen;
	char e[256];

	if (reg_netmap(r, n, &m) || nbw_msg_encode(&m, &b, e, sizeof(e))) {
		conn_fail(n->conn, NBW_E_INTERNAL, "cannot build the map for %s",
			  n->db.name);
		goto out;
	}
	EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
	if (n->sent && !memcmp(md, n->map_hash, sizeof(md))) {
		dbg("map for %s unchanged", n->db.name);
		goto out;
	}
	r->serial++;
	for (int i = 0; i < 8; i++)
		b.data[SERIAL_OFF + i] = (uint8_t)(r->serial >> (56 - 8 * i));
	if (nbw_buf_put(&n->conn->out, b.data, b.len)) {
		conn_fail(n->conn, NBW_E_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(n->map_hash, md, sizeof(md));
	n->sent = true;
	info("map %llu -> %s: %u peers, %zu byte ruleset",
	     (unsigned long long)r->serial, n->db.name, m.n_peers,
	     strlen(m.ruleset));
out:
	nbw_msg_free(&m);
	nbw_buf_free(&b);
}

void reg_flush(struct registry *r)
{
	uint64_t before = r->serial;
	char s[32];

	if (!r->n_dirty)
		return;
	for (size_t i = 0; i < r->n_nodes && r->n_dirty; i++) {
		struct node *n = r->nodes[i];

		if (!n->dirty)
			continue;
		n->dirty = false;
		r->n_dirty--;
		if (n->conn && n->conn->state == C_ACTIVE)
			push(r, n);
	}
	r->n_dirty = 0;
	if (r->serial != before) {
		snprintf(s, sizeof(s), "%llu", (unsigned long long)r->serial);
		db_meta_set(r->db, "serial", s);
	}
}
