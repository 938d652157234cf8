// SPDX-License-Identifier: GPL-2.0
/*
 * nbmgmt-client: a small node-side client built only from proto/, used by
 * the nbmgmt integration test (and handy for poking a server by hand).
 *
 * Common options: -s HOST:PORT, --ca CA, --verify-name NAME (check the
 * server certificate for NAME instead of HOST).
 *
 *   nbmgmt-client -s HOST:PORT --ca CA enroll --key KEY --hostname H --out DIR
 *   nbmgmt-client -s HOST:PORT --ca CA login --state DIR [--port N]
 *         [--endpoint IP:PORT]... [--maps N] [--stay SECS] [--rotate]
 *         [--early]   (with --stay: stop as soon as N maps arrived)
 *         [--endpoint-update IP:PORT]  (send ENDPOINT after the first map)
 *   nbmgmt-client -s HOST:PORT --ca CA raw garbage|oversize|badversion|
 *         nohello|login-nocert|badcsr [--key KEY]
 *
 * Prints one line per event ("enrolled NAME ...", "netmap SERIAL ...",
 * "peer NAME ...", "rule ..." lines, "error CODE: message") and exits 0
 * on success, 1 on an ERROR or failure.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "proto/tls.h"

static const char *server = "127.0.0.1:" NBW_DEFAULT_PORT, *ca, *vname;
static char host[256], port[16];
static const char *setup_key;
static char err[1024];

static void split_server(void)
{
	const char *c = strrchr(server, ':');

	if (server[0] == '[') {
		const char *rb = strchr(server, ']');

		snprintf(host, sizeof(host), "%.*s", (int)(rb - server - 1),
			 server + 1);
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)(c - server), server);
	}
	snprintf(port, sizeof(port), "%s", c + 1);
}

static struct nbw_conn *dial(const char *cert, const char *key)
{
	SSL_CTX *ctx = nbw_tls_client_ctx(ca, cert, key, err, sizeof(err));
	struct nbw_conn *c;

	if (!ctx) {
		printf("failed: %s\n", err);
		return NULL;
	}
	c = nbw_conn_open_name(ctx, host, port, vname, 5000, err, sizeof(err));
	SSL_CTX_free(ctx);	/* the connection holds its own reference */
	if (!c)
		printf("failed: %s\n", err);
	return c;
}

/* Print an ERROR; returns 1 so callers can `return show_error(...)`. */
static int show_error(const struct nbw_msg *m)
{
	printf("error %s: %s\n", nbw_err_name(m->err_code), m->err_msg);
	return 1;
}

static int recv_one(struct nbw_conn *c, struct nbw_msg *m, int ms)
{
	int r = nbw_conn_recv(c, m, ms, err, sizeof(err));

	if (r == 0)
		printf("failed: timeout\n");
	if (r < 0)
		printf("failed: %s\n", err);
	return r == 1 ? 0 : -1;
}

static void node_line(const char *what, const struct nbw_node *n)
{
	char b[64], key[NBW_KEY_B64_LEN] = "-";
	unsigned int i;

	if (n->has_pubkey)
		nbw_key_to_base64(key, n->pubkey);
	printf("%s %s %s", what, n->name, key);
	for (i = 0; i < n->n_addrs; i++)
		printf(" %s", nbw_addr_str(&n->addrs[i], b, sizeof(b)));
	for (i = 0; i < n->n_endpoints; i++)
		printf(" ep=%s", nbw_endpoint_str(&n->endpoints[i], b, sizeof(b)));
	printf("\n");
}

static void random_key(uint8_t key[32])
{
	RAND_bytes(key, 32);
}

static int write_state(const char *dir, const char *name, const char *data,
		       unsigned int mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (nbw_write_file(path, data, strlen(data), mode, err, sizeof(err))) {
		printf("failed: %s\n", err);
		return -1;
	}
	return 0;
}

static int enroll(const char *key, const char *hostname, const char *out)
{
	struct nbw_conn *c = dial(NULL, NULL);
	char *kpem, *csr, b64[NBW_KEY_B64_LEN];
	struct nbw_msg m;
	int r = 1;

	if (!c)
		return 1;
	if (nbw_conn_hello(c, "nbmgmt-client", NULL, 5000, err, sizeof(err))) {
		printf("failed: %s\n", err);
		goto out;
	}
	if (nbw_tls_gen_key_csr(hostname, &kpem, &csr, err, sizeof(err))) {
		printf("failed: %s\n", err);
		goto out;
	}
	nbw_msg_init(&m, NBW_MSG_ENROLL);
	snprintf(m.setup_key, sizeof(m.setup_key), "%s", key);
	snprintf(m.hostname, sizeof(m.hostname), "%s", hostname);
	m.has_pubkey = true;
	random_key(m.pubkey);
	nbw_key_to_base64(b64, m.pubkey);
	m.csr = csr;
	if (nbw_conn_send(c, &m, err, sizeof(err))) {
		printf("failed: %s\n", err);
		nbw_msg_free(&m);
		free(kpem);
		goto out;
	}
	nbw_msg_free(&m);
	if (recv_one(c, &m, 10000)) {
		free(kpem);
		goto out;
	}
	if (m.type == NBW_MSG_ERROR) {
		r = show_error(&m);
	} else if (m.type == NBW_MSG_ENROLLED) {
		mkdir(out, 0700);
		if (!write_state(out, "node.key", kpem, 0600) &&
		    !write_state(out, "node.crt", m.cert, 0644) &&
		    !write_state(out, "ca.crt", m.ca_cert, 0644) &&
		    !write_state(out, "wg.pub", b64, 0644)) {
			node_line("enrolled", &m.self);
			r = 0;
		}
	} else {
		printf("failed: unexpected %s\n", nbw_msg_name(m.type));
	}
	free(kpem);
	nbw_msg_free(&m);
out:
	nbw_conn_close(c);
	return r;
}

static void print_netmap(const struct nbw_msg *m)
{
	const char *p = m->ruleset, *nl;

	printf("netmap %llu peers=%u\n", (unsigned long long)m->serial,
	       m->n_peers);
	node_line("self", &m->self);
	for (uint32_t i = 0; i < m->n_peers; i++)
		node_line("peer", &m->peers[i]);
	while (p && *p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p)
			printf("%s %.*s\n", *p == '#' ? "comment" : "ruleset",
			       (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct login_opts {
	const char *state;
	uint16_t port;
	struct nbw_endpoint eps[NBW_MAX_ENDPOINTS];
	unsigned int n_eps;
	int maps, stay;
	bool rotate, early, has_upd;
	struct nbw_endpoint upd;
};

static int login(struct login_opts *o)
{
	char cert[4096], key[4096], path[4096], *b64;
	long long end, next_ping;
	uint64_t serial = 0, cookie = 0, pongs = 0;
	struct nbw_conn *c;
	struct nbw_msg m;
	int maps = 0, r = 1;

	snprintf(cert, sizeof(cert), "%s/node.crt", o->state);
	snprintf(key, sizeof(key), "%s/node.key", o->state);
	snprintf(path, sizeof(path), "%s/wg.pub", o->state);
	c = dial(cert, key);
	if (!c)
		return 1;
	if (nbw_conn_hello(c, "nbmgmt-client", NULL, 5000, err, sizeof(err))) {
		printf("failed: %s\n", err);
		goto out;
	}
	nbw_msg_init(&m, NBW_MSG_LOGIN);
	b64 = nbw_read_file(path, 100, NULL, err, sizeof(err));
	if (!b64 || nbw_key_from_base64(m.pubkey, b64)) {
		printf("failed: no key in %s\n", path);
		free(b64);
		goto out;
	}
	free(b64);
	m.has_pubkey = m.has_listen_port = true;
	m.listen_port = o->port;
	m.n_endpoints = o->n_eps;
	memcpy(m.endpoints, o->eps, sizeof(o->eps));
	if (nbw_conn_send(c, &m, err, sizeof(err))) {
		printf("failed: %s\n", err);
		goto out;
	}
	end = now_ms() + (o->stay ? o->stay * 1000LL : 10000);
	next_ping = now_ms() + 500;
	for (;;) {
		long long now = now_ms();
		int wait = (int)((next_ping < end ? next_ping : end) - now);

		if (now >= end)
			break;
		if (o->stay && now >= next_ping) {
			/* PINGs go every 0.3 s; a server stalled ~2 s fails. */
			if (cookie > pongs + 6) {
				printf("failed: PONGs stopped (%llu sent, %llu back)\n",
				       (unsigned long long)cookie,
				       (unsigned long long)pongs);
				goto out;
			}
			nbw_msg_init(&m, NBW_MSG_PING);
			m.cookie = ++cookie;
			if (nbw_conn_send(c, &m, err, sizeof(err))) {
				printf("failed: %s\n", err);
				goto out;
			}
			next_ping = now + 300;
			continue;
		}
		r = nbw_conn_recv(c, &m, wait < 0 ? 0 : wait, err, sizeof(err));
		if (r < 0) {
			printf("failed: %s\n", err);
			r = 1;
			goto out;
		}
		if (r == 0)	/* timed out: time to PING or to stop */
			continue;
		r = 1;
		if (m.type == NBW_MSG_ERROR) {
			show_error(&m);
			nbw_msg_free(&m);
			goto out;
		}
		if (m.type == NBW_MSG_PONG) {
			pongs = m.cookie > pongs ? m.cookie : pongs;
		} else if (m.type == NBW_MSG_NETMAP) {
			if (m.serial <= serial) {
				printf("failed: serial went from %llu to %llu\n",
				       (unsigned long long)serial,
				       (unsigned long long)m.serial);
				nbw_msg_free(&m);
				goto out;
			}
			serial = m.serial;
			print_netmap(&m);
			maps++;
			if (o->rotate && maps == 1) {
				struct nbw_msg k;
				char b[NBW_KEY_B64_LEN];

				nbw_msg_init(&k, NBW_MSG_KEY_ROTATE);
				k.has_pubkey = true;
				random_key(k.pubkey);
				nbw_key_to_base64(b, k.pubkey);
				if (write_state(o->state, "wg.pub", b, 0644) ||
				    nbw_conn_send(c, &k, err, sizeof(err)))
					goto out;
				printf("rotated %s\n", b);
			}
			if (o->has_upd && maps == 1) {
				struct nbw_msg u;

				nbw_msg_init(&u, NBW_MSG_ENDPOINT);
				u.n_endpoints = 1;
				u.endpoints[0] = o->upd;
				if (nbw_conn_send(c, &u, err, sizeof(err)))
					goto out;
				printf("sent ENDPOINT\n");
			}
			if (o->maps && maps >= o->maps && (!o->stay || o->early)) {
				nbw_msg_free(&m);
				r = 0;
				goto out;
			}
		}
		nbw_msg_free(&m);
	}
	if (o->stay) {
		printf("stayed %ds: %llu pings, %llu pongs, %d maps\n", o->stay,
		       (unsigned long long)cookie, (unsigned long long)pongs,
		       maps);
		r = pongs + 6 >= cookie && maps >= (o->maps ? o->maps : 1) ? 0 : 1;
	} else {
		printf("failed: got %d of %d maps\n", maps, o->maps);
	}
out:
	fflush(stdout);
	nbw_conn_close(c);
	return r;
}

/* Misbehaving clients: each must be answered with an ERROR and a close. */
static int raw(const char *what)
{
	struct nbw_conn *c = dial(NULL, NULL);
	uint8_t buf[4096];
	struct nbw_msg m;
	int r = 1;

	if (!c)
		return 1;
	if (strcmp(what, "nohello") && strcmp(what, "garbage") &&
	    strcmp(what, "oversize") && strcmp(what, "badversion") &&
	    nbw_conn_hello(c, "raw", NULL, 5000, err, sizeof(err))) {
		printf("failed: %s\n", err);
		goto out;
	}
	if (!strcmp(what, "garbage")) {
		RAND_bytes(buf, sizeof(buf));
		buf[6] = 1;	/* pass the version check, fail later */
		nbw_conn_send_raw(c, buf, sizeof(buf), err, sizeof(err));
	} else if (!strcmp(what, "oversize")) {
		static const uint8_t h[8] = { 0, 0x20, 0, 0, 0, 1, 1, 0 };

		nbw_conn_send_raw(c, h, sizeof(h), err, sizeof(err));
	} else if (!strcmp(what, "badversion")) {
		nbw_msg_init(&m, NBW_MSG_HELLO);
		m.version = 99;
		nbw_conn_send(c, &m, err, sizeof(err));
	} else if (!strcmp(what, "nohello")) {
		nbw_msg_init(&m, NBW_MSG_PING);
		nbw_conn_send(c, &m, err, sizeof(err));
	} else if (!strcmp(what, "badcsr")) {
		nbw_msg_init(&m, NBW_MSG_ENROLL);
		snprintf(m.setup_key, sizeof(m.setup_key), "%s",
			 setup_key ? setup_key : "none");
		snprintf(m.hostname, sizeof(m.hostname), "badcsr");
		m.has_pubkey = true;
		random_key(m.pubkey);
		m.csr = strdup("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
			       "-----END CERTIFICATE REQUEST-----\n");
		nbw_conn_send(c, &m, err, sizeof(err));
		nbw_msg_free(&m);
	} else if (!strcmp(what, "login-nocert")) {
		nbw_msg_init(&m, NBW_MSG_LOGIN);
		m.has_pubkey = m.has_listen_port = true;
		m.listen_port = 1;
		nbw_conn_send(c, &m, err, sizeof(err));
	} else {
		printf("failed: unknown raw test '%s'\n", what);
		goto out;
	}
	if (recv_one(c, &m, 5000))
		goto out;
	if (m.type == NBW_MSG_ERROR)
		show_error(&m);
	else
		printf("failed: got %s\n", nbw_msg_name(m.type));
	nbw_msg_free(&m);
	/* ... and then the server closes the connection. */
	if (nbw_conn_recv(c, &m, 3000, err, sizeof(err)) < 0) {
		printf("closed\n");
		r = 0;
	} else {
		printf("failed: connection stayed open\n");
	}
out:
	nbw_conn_close(c);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'c' },
		{ "verify-name", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "out", required_argument, NULL, 'o' },
		{ "state", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'p' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "maps", required_argument, NULL, 'm' },
		{ "stay", required_argument, NULL, 't' },
		{ "rotate", no_argument, NULL, 'r' },
		{ "early", no_argument, NULL, 'E' },
		{ "endpoint-update", required_argument, NULL, 'U' },
		{ 0 }
	};
	struct login_opts lo = { .port = 51820, .maps = 1 };
	const char *key = NULL, *hostname = NULL, *out = NULL, *cmd;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'c': ca = optarg; break;
		case 'n': vname = optarg; break;
		case 'k': key = setup_key = optarg; break;
		case 'H': hostname = optarg; break;
		case 'o': out = optarg; break;
		case 'S': lo.state = optarg; break;
		case 'p': lo.port = (uint16_t)atoi(optarg); break;
		case 'e':
			if (lo.n_eps >= NBW_MAX_ENDPOINTS ||
			    nbw_endpoint_parse(optarg, &lo.eps[lo.n_eps++])) {
				fprintf(stderr, "bad --endpoint %s\n", optarg);
				return 2;
			}
			break;
		case 'm': lo.maps = atoi(optarg); break;
		case 't': lo.stay = atoi(optarg); break;
		case 'r': lo.rotate = true; break;
		case 'E': lo.early = true; break;
		case 'U':
			if (nbw_endpoint_parse(optarg, &lo.upd)) {
				fprintf(stderr, "bad --endpoint-update %s\n", optarg);
				return 2;
			}
			lo.has_upd = true;
			break;
		default: return 2;
		}
	}
	if (optind >= argc || !ca) {
		fprintf(stderr, "usage: see the comment at the top of client.c\n");
		return 2;
	}
	split_server();
	cmd = argv[optind];
	if (!strcmp(cmd, "enroll") && key && hostname && out)
		return enroll(key, hostname, out);
	if (!strcmp(cmd, "login") && lo.state)
		return login(&lo);
	if (!strcmp(cmd, "raw") && optind + 1 < argc)
		return raw(argv[optind + 1]);
	fprintf(stderr, "bad command line\n");
	return 2;
}
