// SPDX-License-Identifier: GPL-2.0
/*
 * The session with nbmgmt (Documentation/protocol.md): enrollment with the
 * setup key once, then mutual-TLS logins; network maps as they are pushed;
 * pings; endpoint reports; key rotation. Reconnects with exponential
 * backoff. While disconnected nothing is torn down: the WireGuard peers
 * and the kernel ruleset stay as they were.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "helper.h"
#include "log.h"

#define SOFTWARE	"nbhelper/1"
#define IO_TIMEOUT_MS	5000
#define ROTATE_TIMEOUT	15

static void split_server(const char *server, char *host, size_t hlen,
			 char *port, size_t plen)
{
	const char *colon;

	if (server[0] == '[') {
		const char *end = strchr(server, ']');

		if (end) {
			snprintf(host, hlen, "%.*s", (int)(end - server - 1),
				 server + 1);
			snprintf(port, plen, "%s",
				 end[1] == ':' ? end + 2 : NBW_DEFAULT_PORT);
			return;
		}
	}
	colon = strrchr(server, ':');
	if (colon && strchr(server, ':') == colon) {
		snprintf(host, hlen, "%.*s", (int)(colon - server), server);
		snprintf(port, plen, "%s", colon + 1);
	} else {
		snprintf(host, hlen, "%s", server);
		snprintf(port, plen, "%s", NBW_DEFAULT_PORT);
	}
}

static void __attribute__((format(printf, 2, 3)))
set_error(struct helper *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->last_error, sizeof(h->last_error), fmt, ap);
	va_end(ap);
	log_err("%s", h->last_error);
}

static void schedule_reconnect(struct helper *h)
{
	unsigned int jitter;

	h->state = CONN_IDLE;
	/* a little jitter so that nodes cut off together do not all
	 * come back in the same second */
	RAND_bytes((unsigned char *)&jitter, sizeof(jitter));
	h->next_connect = now_mono() + h->backoff + (h->backoff > 2 ? jitter % 2 : 0);
	log_info("reconnecting in %us", h->backoff);
	h->backoff = h->backoff ? h->backoff * 2 : 1;
	if (h->backoff > h->cfg.backoff_max)
		h->backoff = h->cfg.backoff_max;
	status_write(h);
}

void session_close(struct helper *h, const char *why)
{
	if (h->conn) {
		log_warn("disconnected from %s: %s (keeping the last policy)",
			 h->cfg.server, why);
		nbw_conn_close(h->conn);
		h->conn = NULL;
	}
	if (h->rotating) {
		log_warn("key rotation abandoned: connection lost");
		h->rotating = 0;
		ctl_rotation_done(h, 0, "connection lost");
		OPENSSL_cleanse(h->new_priv, sizeof(h->new_priv));
	}
	schedule_reconnect(h);
}

static struct nbw_conn *open_conn(struct helper *h, SSL_CTX *ctx)
{
	char host[256], port[16], err[512];
	struct nbw_conn *c;

	split_server(h->cfg.server, host, sizeof(host), port, sizeof(port));
	/* the name to verify may differ from the address we dial */
	/* dial the configured address, verify the configured name */
	c = nbw_conn_open_name(ctx, host, port, h->cfg.server_name,
			       IO_TIMEOUT_MS, err, sizeof(err));
	if (!c) {
		set_error(h, "connect %s: %s", h->cfg.server, err);
		return NULL;
	}
	if (nbw_conn_hello(c, SOFTWARE, &h->keepalive, IO_TIMEOUT_MS, err,
			   sizeof(err))) {
		set_error(h, "hello %s: %s", h->cfg.server, err);
		nbw_conn_close(c);
		return NULL;
	}
	if (!h->keepalive)
		h->keepalive = 25;
	return c;
}

static void server_error(struct helper *h, const struct nbw_msg *m)
{
	char what[64];

	snprintf(what, sizeof(what), "%s", nbw_err_name(m->err_code));
	set_error(h, "server refused: %s: %s", what, m->err_msg);
}

static int enroll(struct helper *h)
{
	char err[512], *key_pem = NULL, *csr_pem = NULL;
	struct nbw_msg m, r;
	struct nbw_conn *c;
	SSL_CTX *ctx;
	int ret = -1;

	if (!h->cfg.setup_key[0]) {
		set_error(h, "%s", "not enrolled and no setup_key in the configuration");
		return -1;
	}
	ctx = nbw_tls_client_ctx(h->cfg.ca_file, NULL, NULL, err, sizeof(err));
	if (!ctx) {
		set_error(h, "TLS: %s", err);
		return -1;
	}
	c = open_conn(h, ctx);
	if (!c)
		goto out_ctx;
	if (nbw_tls_gen_key_csr(h->cfg.name, &key_pem, &csr_pem, err,
				sizeof(err))) {
		set_error(h, "CSR: %s", err);
		goto out_conn;
	}
	nbw_msg_init(&m, NBW_MSG_ENROLL);
	snprintf(m.setup_key, sizeof(m.setup_key), "%s", h->cfg.setup_key);
	snprintf(m.hostname, sizeof(m.hostname), "%s", h->cfg.name);
	m.has_pubkey = true;
	memcpy(m.pubkey, h->pub, WG_KEY_LEN);
	m.csr = csr_pem;
	csr_pem = NULL;
	ret = nbw_conn_send(c, &m, err, sizeof(err));
	nbw_msg_free(&m);
	if (ret) {
		set_error(h, "enroll: %s", err);
		goto out_conn;
	}
	ret = -1;
	nbw_msg_init(&r, 0);
	if (nbw_conn_recv(c, &r, IO_TIMEOUT_MS * 2, err, sizeof(err)) != 1) {
		set_error(h, "enroll: no answer: %s", err);
		goto out_msg;
	}
	if (r.type == NBW_MSG_ERROR) {
		server_error(h, &r);
		goto out_msg;
	}
	if (r.type != NBW_MSG_ENROLLED) {
		set_error(h, "enroll: unexpected %s", nbw_msg_name(r.type));
		goto out_msg;
	}
	/* key first: a certificate without its key would be useless */
	if (state_write_file(h->cfg.state_dir, "tls.key", key_pem, strlen(key_pem)) ||
	    state_write_file(h->cfg.state_dir, "tls.crt", r.cert, strlen(r.cert)) ||
	    state_write_file(h->cfg.state_dir, "server-ca.crt", r.ca_cert,
			     strlen(r.ca_cert)) ||
	    state_write_file(h->cfg.state_dir, "name", r.self.name,
			     strlen(r.self.name)))
		goto out_msg;
	log_info("enrolled as '%s' with %s", r.self.name, h->cfg.server);
	ret = 0;
out_msg:
	nbw_msg_free(&r);
out_conn:
	nbw_conn_close(c);
out_ctx:
	SSL_CTX_free(ctx);
	if (key_pem) {
		OPENSSL_cleanse(key_pem, strlen(key_pem));
		free(key_pem);
	}
	free(csr_pem);
	return ret;
}

/* Local endpoints: every usable local address with our listen port. */
static unsigned int gather_endpoints(struct helper *h,
				     struct nbw_endpoint *eps)
{
	struct nbh_prefix a[32];
	struct wg_dev_info dev;
	uint16_t port = h->cfg.listen_port;
	unsigned int n = 0;
	int na;

	if (!wg_get_device(&h->wg, h->cfg.ifname, &dev)) {
		port = dev.listen_port;
		wg_dev_info_free(&dev);
	}
	na = local_addrs(&h->wg, h->ifindex, a, 32);
	for (int i = 0; i < na && n < 8; i++) {
		memset(&eps[n], 0, sizeof(eps[n]));
		eps[n].family = a[i].family;
		eps[n].port = port;
		memcpy(eps[n].addr, &a[i].a, a[i].family == AF_INET ? 4 : 16);
		n++;
	}
	return n;
}

static int login(struct helper *h)
{
	char crt[PATH_MAX + 16], key[PATH_MAX + 16], err[512];
	struct nbw_msg m;

	snprintf(crt, sizeof(crt), "%s/tls.crt", h->cfg.state_dir);
	snprintf(key, sizeof(key), "%s/tls.key", h->cfg.state_dir);
	if (!h->ctx) {
		h->ctx = nbw_tls_client_ctx(h->cfg.ca_file, crt, key, err,
					    sizeof(err));
		if (!h->ctx) {
			set_error(h, "TLS: %s", err);
			return -1;
		}
	}
	h->conn = open_conn(h, h->ctx);
	if (!h->conn)
		return -1;
	nbw_msg_init(&m, NBW_MSG_LOGIN);
	m.has_pubkey = true;
	memcpy(m.pubkey, h->pub, WG_KEY_LEN);
	m.has_listen_port = true;
	m.listen_port = h->cfg.listen_port;
	h->n_local_eps = gather_endpoints(h, h->local_eps);
	m.n_endpoints = h->n_local_eps;
	memcpy(m.endpoints, h->local_eps, sizeof(m.endpoints[0]) * m.n_endpoints);
	if (nbw_conn_send(h->conn, &m, err, sizeof(err))) {
		set_error(h, "login: %s", err);
		nbw_conn_close(h->conn);
		h->conn = NULL;
		return -1;
	}
	h->state = CONN_UP;
	h->connected_since = time(NULL);
	h->last_rx = now_mono();
	h->next_ping = now_mono() + h->keepalive;
	h->next_ep_check = now_mono() + 10;
	h->last_error[0] = 0;
	log_info("connected to %s (%u local endpoints reported)", h->cfg.server,
		 h->n_local_eps);
	return 0;
}

int session_prepare(struct helper *h)
{
	h->backoff = 1;
	h->state = CONN_IDLE;
	h->next_connect = 0;
	return 0;
}

void session_connect(struct helper *h)
{
	if (!state_file_exists(h->cfg.state_dir, "tls.crt") && enroll(h)) {
		schedule_reconnect(h);
		return;
	}
	if (login(h)) {
		schedule_reconnect(h);
		return;
	}
	status_write(h);
}

static void finish_rotation(struct helper *h)
{
	char b64[WG_KEY_B64_LEN];
	int ret;

	ret = wg_set_device(&h->wg, h->cfg.ifname, h->new_priv, -1, 0, NULL, 0);
	if (ret || wgkey_store(h->cfg.state_dir, "wg.key", h->new_priv)) {
		log_err("key rotation: cannot switch to the new key");
		h->rotating = 0;
		ctl_rotation_done(h, 0, "cannot switch the device to the new key");
		return;
	}
	memcpy(h->priv, h->new_priv, WG_KEY_LEN);
	memcpy(h->pub, h->new_pub, WG_KEY_LEN);
	OPENSSL_cleanse(h->new_priv, sizeof(h->new_priv));
	h->rotating = 0;
	h->rotations++;
	h->last_rotate = time(NULL);
	wgkey_to_b64(h->pub, b64);
	log_info("key rotated: new public key %s (%.0f ms after the request)",
		 b64, ms_since(&h->rotate_t0));
	ctl_rotation_done(h, 1, b64);
}

static void on_netmap(struct helper *h, struct nbw_msg *m)
{
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (h->have_map && m->serial <= h->map.serial) {
		log_debug("ignoring network map %llu (have %llu)",
			  (unsigned long long)m->serial,
			  (unsigned long long)h->map.serial);
		return;
	}
	/* the server acknowledges our new key by sending it back */
	if (h->rotating && m->self.has_pubkey &&
	    !memcmp(m->self.pubkey, h->new_pub, WG_KEY_LEN))
		finish_rotation(h);
	ret = netmap_apply(h, h->have_map ? &h->map : NULL, m);
	if (ret) {
		log_err("network map %llu not applied: %s",
			(unsigned long long)m->serial, strerror(-ret));
		return;
	}
	netmap_store(h, m);
	log_info("network map %llu applied: %u peers (%.1f ms)",
		 (unsigned long long)m->serial, m->n_peers, ms_since(&t0));
	if (h->have_map)
		nbw_msg_free(&h->map);
	h->map = *m;
	h->have_map = 1;
	nbw_msg_init(m, 0);	/* ownership moved to h->map */
	h->last_update = time(NULL);
	h->backoff = 1;		/* a working session resets the backoff */
	status_write(h);
}

void session_input(struct helper *h)
{
	struct nbw_msg m;
	char err[512];
	int ret;

	do {
		nbw_msg_init(&m, 0);
		ret = nbw_conn_recv(h->conn, &m, 0, err, sizeof(err));
		if (ret < 0) {
			nbw_msg_free(&m);
			session_close(h, err);
			return;
		}
		if (!ret) {
			nbw_msg_free(&m);
			return;
		}
		h->last_rx = now_mono();
		switch (m.type) {
		case NBW_MSG_NETMAP:
			on_netmap(h, &m);
			break;
		case NBW_MSG_PONG:
			break;
		case NBW_MSG_ERROR:
			server_error(h, &m);
			nbw_msg_free(&m);
			session_close(h, h->last_error);
			return;
		default:
			log_warn("unexpected %s from the server", nbw_msg_name(m.type));
			nbw_msg_free(&m);
			session_close(h, "protocol error");
			return;
		}
		nbw_msg_free(&m);
	} while (h->conn && nbw_conn_pending(h->conn));
}

static int send_msg(struct helper *h, struct nbw_msg *m)
{
	char err[512];

	if (nbw_conn_send(h->conn, m, err, sizeof(err))) {
		session_close(h, err);
		return -1;
	}
	return 0;
}

void session_report_endpoints(struct helper *h, int force)
{
	struct nbw_endpoint eps[NBW_MAX_ENDPOINTS];
	unsigned int n;
	struct nbw_msg m;

	if (h->state != CONN_UP)
		return;
	n = gather_endpoints(h, eps);
	if (!force && n == h->n_local_eps &&
	    !memcmp(eps, h->local_eps, n * sizeof(eps[0])))
		return;
	memcpy(h->local_eps, eps, sizeof(eps));
	h->n_local_eps = n;
	nbw_msg_init(&m, NBW_MSG_ENDPOINT);
	m.has_listen_port = true;
	m.listen_port = h->cfg.listen_port;
	m.n_endpoints = n;
	memcpy(m.endpoints, eps, n * sizeof(eps[0]));
	log_info("local endpoints changed: reporting %u", n);
	send_msg(h, &m);
	nbw_msg_free(&m);
}

int session_rotate_key(struct helper *h, char *msg, size_t len)
{
	char b64[WG_KEY_B64_LEN];
	struct nbw_msg m;

	if (h->state != CONN_UP) {
		snprintf(msg, len, "not connected to the server: rotate later");
		return -1;
	}
	if (h->rotating) {
		snprintf(msg, len, "a rotation is already in progress");
		return -1;
	}
	if (wgkey_generate(h->new_priv) || wgkey_public(h->new_priv, h->new_pub)) {
		snprintf(msg, len, "key generation failed");
		return -1;
	}
	/* the device switches when the server echoes the key in our map:
	 * peers get it in the same round of maps */
	nbw_msg_init(&m, NBW_MSG_KEY_ROTATE);
	m.has_pubkey = true;
	memcpy(m.pubkey, h->new_pub, WG_KEY_LEN);
	h->rotating = 1;
	h->rotate_started = now_mono();
	clock_gettime(CLOCK_MONOTONIC, &h->rotate_t0);
	if (send_msg(h, &m)) {
		nbw_msg_free(&m);
		snprintf(msg, len, "lost the connection while rotating");
		return -1;
	}
	nbw_msg_free(&m);
	wgkey_to_b64(h->new_pub, b64);
	snprintf(msg, len, "rotating to public key %s", b64);
	log_info("%s", msg);
	return 0;
}

void session_tick(struct helper *h)
{
	time_t now = now_mono();
	char msg[128];

	if (h->state == CONN_IDLE) {
		if (now >= h->next_connect)
			session_connect(h);
		return;
	}
	if (now - h->last_rx > 3 * (time_t)h->keepalive) {
		session_close(h, "server silent for 3 keepalive intervals");
		return;
	}
	if (now >= h->next_ping) {
		struct nbw_msg m;

		nbw_msg_init(&m, NBW_MSG_PING);
		m.cookie = ++h->ping_cookie;
		h->next_ping = now + h->keepalive;
		if (send_msg(h, &m)) {
			nbw_msg_free(&m);
			return;
		}
		nbw_msg_free(&m);
	}
	if (h->rotating && now - h->rotate_started > ROTATE_TIMEOUT) {
		log_warn("key rotation: the server did not confirm the new key in %ds; keeping the old one",
			 ROTATE_TIMEOUT);
		h->rotating = 0;
		ctl_rotation_done(h, 0, "server did not confirm the new key");
		OPENSSL_cleanse(h->new_priv, sizeof(h->new_priv));
	}
	if (h->cfg.rotate_interval && !h->rotating && now >= h->next_rotate) {
		if (h->next_rotate && session_rotate_key(h, msg, sizeof(msg)))
			log_warn("scheduled key rotation: %s", msg);
		h->next_rotate = now + h->cfg.rotate_interval;
	}
	if (h->state == CONN_UP && now >= h->next_ep_check) {
		h->next_ep_check = now + 10;
		session_report_endpoints(h, 0);
	}
}
