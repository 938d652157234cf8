// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol state machine of one connection (Documentation/protocol.md):
 * HELLO, then ENROLL (no client certificate) or LOGIN (client
 * certificate), then PING/ENDPOINT/KEY_ROTATE while the server pushes
 * NETMAPs. Anything out of order ends the connection with an ERROR.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nbmgmt.h"

static void hello(struct server *s, struct conn *c, const struct nbw_msg *m)
{
	struct nbw_msg r;

	if (m->type != NBW_MSG_HELLO) {
		conn_fail(c, NBW_E_PROTOCOL, "expected HELLO, got %s",
			  nbw_msg_name(m->type));
		return;
	}
	if (m->version != NBW_PROTO_VERSION) {
		conn_fail(c, NBW_E_VERSION, "protocol version %u not supported"
			  " (this server speaks %u)", m->version,
			  NBW_PROTO_VERSION);
		return;
	}
	nbw_msg_init(&r, NBW_MSG_HELLO);
	r.version = NBW_PROTO_VERSION;
	r.keepalive = s->keepalive;
	snprintf(r.software, sizeof(r.software), SOFTWARE);
	conn_send(c, &r);
	c->state = C_AUTH;
	c->deadline = now_ms() + 10000;	/* ENROLL or LOGIN next */
	dbg("%s: HELLO from '%s'", c->peer, m->software);
}

/* Check a setup key inside the enrollment transaction. */
static uint32_t check_key(struct conn *c, sqlite3 *db, const char *key,
			  struct db_key *k, const char **why)
{
	int r = db_key_find(db, key, k);

	if (r < 0) {
		*why = "database error";
		return NBW_E_INTERNAL;
	}
	/* Only the full key enrolls; the short id is for admins. */
	if (r == 0 || strlen(key) < 20) {
		*why = "unknown setup key";
		return NBW_E_KEY_INVALID;
	}
	if (k->revoked) {
		*why = "setup key has been revoked";
		return NBW_E_KEY_REVOKED;
	}
	if (k->expires && time(NULL) >= k->expires) {
		*why = "setup key has expired";
		return NBW_E_KEY_EXPIRED;
	}
	if (k->uses_left == 0) {
		*why = "setup key has no uses left";
		return NBW_E_KEY_EXHAUSTED;
	}
	return NBW_E_NONE;
}

/* hostname, or hostname-2, -3, ... if an enrolled node has it. */
static int pick_name(sqlite3 *db, const char *host, char *out)
{
	for (int i = 1; i < 10000; i++) {
		int t;

		if (i == 1)
			snprintf(out, NBW_NAME_MAX, "%s", host);
		else
			snprintf(out, NBW_NAME_MAX, "%.*s-%d",
				 NBW_NAME_MAX - 7, host, i);
		t = db_node_name_taken(db, out);
		if (t <= 0)
			return t;
	}
	return -1;
}

static void enroll(struct server *s, struct conn *c, const struct nbw_msg *m)
{
	sqlite3 *db = s->reg.db;
	struct db_node dbn = { 0 };
	struct nbw_msg r;
	struct db_key k;
	struct node *n;
	const char *why = "";
	char *cert = NULL, e[256];
	uint32_t code;
	int t;

	if (c->has_cert) {
		conn_fail(c, NBW_E_PROTOCOL, "ENROLL on a connection with a"
			  " client certificate; log in instead");
		return;
	}
	if (db_begin_durable(db)) {
		conn_fail(c, NBW_E_INTERNAL, "database busy");
		return;
	}
	code = check_key(c, db, m->setup_key, &k, &why);
	if (code)
		goto fail;
	t = db_node_key_owner(db, m->pubkey, 0);
	if (t) {
		code = t < 0 ? NBW_E_INTERNAL : NBW_E_PUBKEY_IN_USE;
		why = "WireGuard public key belongs to another node";
		goto fail;
	}
	if (pick_name(db, m->hostname, dbn.name)) {
		code = NBW_E_INTERNAL;
		why = "cannot pick a node name";
		goto fail;
	}
	dbn.addr_index = db_node_free_index(db, s->reg.ranges.max_index);
	if (!dbn.addr_index) {
		code = NBW_E_ADDR_EXHAUSTED;
		why = "no free overlay address";
		goto fail;
	}
	cert = ca_sign_csr(s->ca, m->csr, dbn.name, dbn.fp, e, sizeof(e));
	if (!cert) {
		code = NBW_E_BAD_CSR;
		why = e;
		goto fail;
	}
	memcpy(dbn.pubkey, m->pubkey, NBW_KEY_LEN);
	snprintf(dbn.groups, sizeof(dbn.groups), "%s", k.groups);
	dbn.created = time(NULL);
	if (db_node_add(db, &dbn) || db_key_use(db, k.id) ||
	    db_commit_durable(db)) {
		code = NBW_E_INTERNAL;
		why = "database error";
		goto fail;
	}
	n = reg_add(&s->reg, &dbn);
	if (!n) {
		free(cert);
		conn_fail(c, NBW_E_INTERNAL, "out of memory");
		return;
	}
	nbw_msg_init(&r, NBW_MSG_ENROLLED);
	snprintf(r.self.name, sizeof(r.self.name), "%s", dbn.name);
	r.self.addrs[0] = n->a4;
	r.self.addrs[1] = n->a6;
	r.self.n_addrs = 2;
	r.cert = cert;
	r.ca_cert = strdup(ca_cert_pem(s->ca));
	if (!r.ca_cert)
		c->dead = true;
	else
		conn_send(c, &r);
	{
		char b4[64], b6[64];

		info("%s: enrolled node %s (%s, %s) with setup key %s%s%s",
		     c->peer, dbn.name, nbw_addr_str(&n->a4, b4, sizeof(b4)),
		     nbw_addr_str(&n->a6, b6, sizeof(b6)), k.prefix,
		     k.groups[0] ? ", groups " : "", k.groups);
	}
	nbw_msg_free(&r);
	/* The node reconnects with its certificate to log in. */
	c->state = C_CLOSING;
	c->deadline = now_ms() + 2000;
	return;
fail:
	db_rollback_durable(db);
	free(cert);
	conn_fail(c, code, "%s", why);
}

static bool is_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr)[0] == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/*
 * The node's endpoints: what it reported, plus the address we see its TCP
 * connection come from with its WireGuard port (finds peers behind NAT
 * that keeps ports). Loopback is useless to other hosts and is left out.
 */
static void set_endpoints(struct conn *c, struct node *n,
			  const struct nbw_msg *m)
{
	struct nbw_endpoint obs = { 0 };
	char buf[64];
	size_t len = 0;
	unsigned int i;

	n->n_eps = 0;
	for (i = 0; i < m->n_endpoints && n->n_eps < NBW_MAX_ENDPOINTS; i++)
		n->eps[n->n_eps++] = m->endpoints[i];
	if (n->db.listen_port && !is_loopback(&c->sa)) {
		if (c->sa.ss_family == AF_INET) {
			obs.family = AF_INET;
			memcpy(obs.addr, &((struct sockaddr_in *)&c->sa)->sin_addr, 4);
		} else {
			const struct in6_addr *a =
				&((struct sockaddr_in6 *)&c->sa)->sin6_addr;

			/* v4-mapped: the node really came over IPv4 */
			if (IN6_IS_ADDR_V4MAPPED(a)) {
				obs.family = AF_INET;
				memcpy(obs.addr, a->s6_addr + 12, 4);
			} else {
				obs.family = AF_INET6;
				memcpy(obs.addr, a, 16);
			}
		}
		obs.port = n->db.listen_port;
		for (i = 0; i < n->n_eps; i++)
			if (!memcmp(&n->eps[i], &obs, sizeof(obs)))
				break;
		if (i == n->n_eps && n->n_eps < NBW_MAX_ENDPOINTS)
			n->eps[n->n_eps++] = obs;
	}
	n->db.endpoints[0] = 0;
	for (i = 0; i < n->n_eps; i++) {
		nbw_endpoint_str(&n->eps[i], buf, sizeof(buf));
		if (len + strlen(buf) + 2 > sizeof(n->db.endpoints))
			break;
		len += (size_t)snprintf(n->db.endpoints + len,
					sizeof(n->db.endpoints) - len, "%s%s",
					len ? "," : "", buf);
	}
}

/* Record a (possibly new) WireGuard key: false if another node has it. */
static bool set_pubkey(struct server *s, struct conn *c, struct node *n,
		       const uint8_t *key)
{
	char b64[NBW_KEY_B64_LEN];
	int t;

	if (!memcmp(n->db.pubkey, key, NBW_KEY_LEN))
		return true;
	t = db_node_key_owner(s->reg.db, key, n->db.id);
	if (t) {
		conn_fail(c, t < 0 ? NBW_E_INTERNAL : NBW_E_PUBKEY_IN_USE,
			  "WireGuard public key belongs to another node");
		return false;
	}
	memcpy(n->db.pubkey, key, NBW_KEY_LEN);
	nbw_key_to_base64(b64, key);
	info("node %s: new WireGuard key %s", n->db.name, b64);
	return true;
}

static void login(struct server *s, struct conn *c, const struct nbw_msg *m)
{
	struct node *n;

	if (!c->has_cert) {
		conn_fail(c, NBW_E_CERT_REQUIRED, "LOGIN needs the client"
			  " certificate issued at enrollment");
		return;
	}
	n = reg_find_fp(&s->reg, c->fp);
	if (!n) {
		conn_fail(c, NBW_E_NOT_ENROLLED, "certificate is not (or no"
			  " longer) registered");
		return;
	}
	if (!set_pubkey(s, c, n, m->pubkey))
		return;
	if (n->conn) {
		/* The node reconnected: its new session wins. */
		n->conn->node = NULL;
		conn_fail(n->conn, NBW_E_PROTOCOL, "replaced by a new session"
			  " of %s", n->db.name);
	}
	n->db.listen_port = m->listen_port;
	set_endpoints(c, n, m);
	n->db.last_seen = time(NULL);
	if (db_node_update(s->reg.db, &n->db)) {
		conn_fail(c, NBW_E_INTERNAL, "database error");
		return;
	}
	n->conn = c;
	n->sent = false;
	c->node = n;
	c->state = C_ACTIVE;
	c->deadline = now_ms() + 3000LL * s->keepalive;
	info("%s: node %s logged in (%u endpoints)", c->peer, n->db.name,
	     n->n_eps);
	/* Its peers learn the endpoints and key; it gets its map. */
	reg_touch(&s->reg, n, false);
}

static void active(struct server *s, struct conn *c, const struct nbw_msg *m)
{
	struct node *n = c->node;
	struct nbw_msg r;

	switch (m->type) {
	case NBW_MSG_PING:
		nbw_msg_init(&r, NBW_MSG_PONG);
		r.cookie = m->cookie;
		conn_send(c, &r);
		return;
	case NBW_MSG_ENDPOINT:
		if (m->has_listen_port)
			n->db.listen_port = m->listen_port;
		set_endpoints(c, n, m);
		break;
	case NBW_MSG_KEY_ROTATE:
		if (!set_pubkey(s, c, n, m->pubkey))
			return;
		break;
	default:
		conn_fail(c, NBW_E_PROTOCOL, "unexpected %s",
			  nbw_msg_name(m->type));
		return;
	}
	if (db_node_update(s->reg.db, &n->db)) {
		conn_fail(c, NBW_E_INTERNAL, "database error");
		return;
	}
	dbg("node %s: %s (%u endpoints)", n->db.name, nbw_msg_name(m->type),
	    n->n_eps);
	reg_touch(&s->reg, n, false);
}

void session_msg(struct server *s, struct conn *c, struct nbw_msg *m)
{
	switch (c->state) {
	case C_HELLO:
		hello(s, c, m);
		return;
	case C_AUTH:
		if (m->type == NBW_MSG_ENROLL)
			enroll(s, c, m);
		else if (m->type == NBW_MSG_LOGIN)
			login(s, c, m);
		else
			conn_fail(c, NBW_E_PROTOCOL, "expected ENROLL or LOGIN,"
				  " got %s", nbw_msg_name(m->type));
		return;
	case C_ACTIVE:
		if (c->node)
			active(s, c, m);
		return;
	default:
		return;
	}
}

void session_closed(struct server *s, struct conn *c)
{
	if (c->node) {
		info("node %s disconnected", c->node->db.name);
		c->node->conn = NULL;
		c->node = NULL;
	}
}
