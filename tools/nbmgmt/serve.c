// SPDX-License-Identifier: GPL-2.0
/*
 * `nbmgmt serve`: one poll() loop, non-blocking sockets, bounded buffers
 * and a deadline per connection, so a slow, silent or hostile client only
 * ever costs its own connection. The admin socket (DIR/nbmgmt.sock, mode
 * 0600) takes one-line commands from the CLI: reload, sync, status.
 * SIGHUP reloads the policy; SIGTERM/SIGINT stop the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include "nbmgmt.h"
#include "proto/tls.h"

#define MAX_CONNS	4096
#define HANDSHAKE_MS	10000	/* TLS + HELLO + ENROLL/LOGIN each */
#define CLOSE_MS	2000	/* to flush a final ERROR/ENROLLED */
#define MAX_OUT		(8u << 20)	/* queued bytes before "too slow" */

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void conn_send(struct conn *c, const struct nbw_msg *m)
{
	char e[256];

	if (c->dead)
		return;
	if (nbw_msg_encode(m, &c->out, e, sizeof(e))) {
		err("%s: cannot send %s: %s", c->peer, nbw_msg_name(m->type), e);
		c->dead = true;
	}
}

void conn_fail(struct conn *c, uint32_t code, const char *fmt, ...)
{
	struct nbw_msg m;
	va_list ap;

	if (c->dead || c->state == C_CLOSING)
		return;
	nbw_msg_init(&m, NBW_MSG_ERROR);
	m.err_code = code;
	va_start(ap, fmt);
	vsnprintf(m.err_msg, sizeof(m.err_msg), fmt, ap);
	va_end(ap);
	warn("%s%s%s: closing: %s: %s", c->peer, c->node ? " " : "",
	     c->node ? c->node->db.name : "", nbw_err_name(code), m.err_msg);
	/* Nothing more is read; the ERROR is flushed, then we close. */
	if (c->state != C_TLS)
		conn_send(c, &m);
	else
		c->dead = true;
	c->state = C_CLOSING;
	c->deadline = now_ms() + CLOSE_MS;
}

/* ---- connections ------------------------------------------------------------ */

static void sa_str(const struct sockaddr_storage *sa, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, n, "%s:%u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, n, "[%s]:%u", a, ntohs(s->sin6_port));
	}
}

static void accept_conns(struct server *s, int lfd)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		struct conn *c;
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				warn("accept: %s", strerror(errno));
			return;
		}
		if (s->n_conns >= MAX_CONNS) {
			warn("connection limit (%d) reached; refusing", MAX_CONNS);
			close(fd);
			continue;
		}
		if (s->n_conns == s->cap_conns) {
			size_t cap = s->cap_conns ? s->cap_conns * 2 : 64;
			struct conn **cc = realloc(s->conns, cap * sizeof(*cc));

			if (!cc) {
				close(fd);
				continue;
			}
			s->conns = cc;
			s->cap_conns = cap;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->ssl = SSL_new(s->ctx)) || !SSL_set_fd(c->ssl, fd)) {
			if (c)
				SSL_free(c->ssl);
			free(c);
			close(fd);
			ERR_clear_error();
			continue;
		}
		c->fd = fd;
		c->sa = sa;
		sa_str(&sa, c->peer, sizeof(c->peer));
		c->state = C_TLS;
		c->deadline = now_ms() + HANDSHAKE_MS;
		SSL_set_accept_state(c->ssl);
		s->conns[s->n_conns++] = c;
		dbg("%s: connected", c->peer);
	}
}

static void conn_free(struct server *s, struct conn *c)
{
	session_closed(s, c);
	if (c->ssl) {
		/* close_notify, best effort: never wait for a peer here */
		SSL_set_quiet_shutdown(c->ssl, 0);
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	nbw_buf_free(&c->in);
	nbw_buf_free(&c->out);
	free(c);
}

/* Returns true if the SSL call only needs to wait. */
static bool ssl_retry(struct conn *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);
	unsigned long oe;

	if (e == SSL_ERROR_WANT_READ)
		return true;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = true;
		return true;
	}
	oe = ERR_peek_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !oe)) {
		if (c->state != C_CLOSING)
			info("%s%s%s: connection closed", c->peer,
			     c->node ? " " : "", c->node ? c->node->db.name : "");
	} else {
		warn("%s: %s failed: %s", c->peer, what,
		     oe ? ERR_reason_error_string(oe) : strerror(errno));
	}
	ERR_clear_error();
	c->dead = true;
	return false;
}

static void handshake_done(struct server *s, struct conn *c)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);

	/* The handshake already failed for certificates not from our CA. */
	if (cert && SSL_get_verify_result(c->ssl) == X509_V_OK &&
	    !nbw_cert_fingerprint(cert, c->fp))
		c->has_cert = true;
	c->state = C_HELLO;
	c->deadline = now_ms() + HANDSHAKE_MS;
	dbg("%s: TLS up (%s), client certificate: %s", c->peer,
	    SSL_get_version(c->ssl), c->has_cert ? c->fp : "none");
}

static void process_input(struct server *s, struct conn *c)
{
	struct nbw_msg m;
	char e[512];
	size_t fl;
	int r;

	while (!c->dead && c->state != C_CLOSING) {
		r = nbw_frame_check(c->in.data, c->in.len, &fl, e, sizeof(e));
		if (r < 0) {
			conn_fail(c, NBW_E_PROTOCOL, "%s", e);
			return;
		}
		if (r == 0)
			return;
		r = nbw_msg_decode(c->in.data, fl, &m, e, sizeof(e));
		nbw_buf_consume(&c->in, fl);
		if (r) {
			conn_fail(c, NBW_E_PROTOCOL, "%s", e);
		} else {
			dbg("%s: got %s", c->peer, nbw_msg_name(m.type));
			if (c->state == C_ACTIVE)
				c->deadline = now_ms() + 3000LL * s->keepalive;
			session_msg(s, c, &m);
		}
		nbw_msg_free(&m);
	}
}

static void conn_io(struct server *s, struct conn *c)
{
	uint8_t buf[16384];
	size_t n;
	int r;

	c->want_write = false;
	if (c->state == C_TLS) {
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			ssl_retry(c, r, "TLS handshake");
			return;
		}
		handshake_done(s, c);
	}
	/* At most ~1 MiB per turn, so a flooding client cannot starve others. */
	for (int reads = 0; reads < 64 && !c->dead && c->state != C_CLOSING;
	     reads++) {
		r = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
		if (r != 1) {
			ssl_retry(c, r, "read");
			break;
		}
		if (nbw_buf_put(&c->in, buf, n)) {
			c->dead = true;
			break;
		}
		process_input(s, c);
	}
	while (!c->dead && c->out.len) {
		r = SSL_write_ex(c->ssl, c->out.data, c->out.len, &n);
		if (r != 1) {
			ssl_retry(c, r, "write");
			break;
		}
		nbw_buf_consume(&c->out, n);
	}
	if (c->out.len > MAX_OUT)
		conn_fail(c, NBW_E_PROTOCOL, "not reading (%zu bytes queued)",
			  c->out.len), c->dead = true;
	if (c->state == C_CLOSING && !c->out.len)
		c->dead = true;
}

/* ---- admin socket ------------------------------------------------------------ */

static void admin_reply(int fd, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(fd, buf, (size_t)n) < 0)
		dbg("admin reply: %s", strerror(errno));
}

static void admin_conn(struct server *s, int afd)
{
	struct timeval tv = { .tv_sec = 1 };
	char line[256];
	ssize_t n;
	size_t connected = 0;
	int fd = accept4(afd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* Local and owner-only: a short blocking read is fine here. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = read(fd, line, sizeof(line) - 1);
	if (n <= 0) {
		close(fd);
		return;
	}
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (!strcmp(line, "reload")) {
		char *msg = NULL;

		info("policy reload requested");
		if (reg_reload_policy(&s->reg, &msg))
			admin_reply(fd, "error: policy %s rejected; the previous"
				    " policy stays in force\n%s",
				    s->reg.policy_path, msg ? msg : "");
		else
			admin_reply(fd, "ok: policy %s reloaded\n",
				    s->reg.policy_path);
		free(msg);
	} else if (!strcmp(line, "sync")) {
		if (reg_sync(&s->reg))
			admin_reply(fd, "error: registry sync failed\n");
		else
			admin_reply(fd, "ok: registry synced\n");
	} else if (!strcmp(line, "status")) {
		for (size_t i = 0; i < s->reg.n_nodes; i++)
			connected += s->reg.nodes[i]->conn != NULL;
		admin_reply(fd, "ok: %zu nodes, %zu connected, %zu connections,"
			    " serial %llu\n", s->reg.n_nodes, connected,
			    s->n_conns, (unsigned long long)s->reg.serial);
	} else {
		admin_reply(fd, "error: unknown command '%.64s'\n", line);
	}
	close(fd);
}

static int admin_listen(const struct paths *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(p->sock) >= sizeof(sa.sun_path)) {
		err("%s: path too long for a unix socket", p->sock);
		return -1;
	}
	strcpy(sa.sun_path, p->sock);
	/* A socket file left by a crashed server: only if nobody answers. */
	if (admin_request(p, "status", true) == 0) {
		err("another server is running on %s", p->dir);
		return -1;
	}
	unlink(p->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(p->sock, 0600) || listen(fd, 16)) {
		err("%s: %s", p->sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* ---- listening ---------------------------------------------------------------- */

static int tcp_listen(const char *spec, char *shown, size_t n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char host[128];
	const char *port, *colon;
	struct addrinfo *ai;
	int fd, one = 1, zero = 0, r;

	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (!colon)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec - 1),
			 spec + 1);
		port = colon + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	}
	r = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (r) {
		err("--listen %s: %s", spec, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)	/* [::] takes IPv4 too */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		err("--listen %s: %s", spec, strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	sa_str(&sa, shown, n);
	return fd;
bad:
	err("--listen %s: want ADDR:PORT or [ADDR]:PORT", spec);
	return -1;
}

static int serve_loop(struct server *s, int lfd, int afd, int sfd)
{
	struct pollfd *pfd = NULL;
	size_t cap = 0;
	bool stop = false;

	while (!stop) {
		size_t n = 3, i;
		long long now = now_ms(), next = now + 1000;
		int r;

		if (cap < s->n_conns + 3) {
			cap = (s->n_conns + 3) * 2;
			free(pfd);
			pfd = calloc(cap, sizeof(*pfd));
			if (!pfd)
				return -1;
		}
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = afd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (i = 0; i < s->n_conns; i++) {
			struct conn *c = s->conns[i];

			pfd[n++] = (struct pollfd){ .fd = c->fd,
				.events = POLLIN | (c->out.len || c->want_write ?
						    POLLOUT : 0) };
			if (c->deadline < next)
				next = c->deadline;
			/* Decrypted or buffered input poll() cannot see. */
			if (SSL_has_pending(c->ssl) && c->state != C_CLOSING)
				next = now;
		}
		r = poll(pfd, n, next > now ? (int)(next - now) : 0);
		if (r < 0 && errno != EINTR) {
			err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					char *msg = NULL;

					info("SIGHUP: reloading the policy");
					reg_reload_policy(&s->reg, &msg);
					free(msg);
				} else {
					info("signal %u: shutting down", si.ssi_signo);
					stop = true;
				}
			}
		}
		/* Existing connections first: pfd[] indexes match conns[]. */
		now = now_ms();
		for (i = 0; i < s->n_conns; i++) {
			struct conn *c = s->conns[i];

			if (pfd[3 + i].revents || SSL_has_pending(c->ssl) ||
			    c->out.len)
				conn_io(s, c);
			if (!c->dead && now >= c->deadline) {
				if (c->state == C_CLOSING) {
					c->dead = true;
				} else {
					conn_fail(c, NBW_E_PROTOCOL, "%s",
						  c->state == C_ACTIVE ?
						  "no PING within 3 keepalive intervals" :
						  "handshake timed out");
					conn_io(s, c);
				}
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_conns(s, lfd);
		if (pfd[1].revents & POLLIN)
			admin_conn(s, afd);
		/* Push the maps this turn's events changed, then flush them. */
		reg_flush(&s->reg);
		for (i = 0; i < s->n_conns; i++)
			if (s->conns[i]->out.len && !s->conns[i]->dead)
				conn_io(s, s->conns[i]);
		for (i = 0; i < s->n_conns;) {
			if (s->conns[i]->dead) {
				conn_free(s, s->conns[i]);
				s->conns[i] = s->conns[--s->n_conns];
			} else {
				i++;
			}
		}
	}
	free(pfd);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "policy", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 }
	};
	const char *dir = NULL, *policy = NULL, *listen_spec = "[::]:" NBW_DEFAULT_PORT;
	struct server s = { .keepalive = 25 };
	char e[512], shown[128], policy_abs[PATH_MAX];
	int c, lfd = -1, afd = -1, sfd = -1, ret = 1;
	struct paths p;
	sigset_t mask;
	sqlite3 *db;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vq", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': policy = optarg; break;
		case 'l': listen_spec = optarg; break;
		case 'k':
			s.keepalive = (uint32_t)atoi(optarg);
			if (s.keepalive < 1 || s.keepalive > 3600) {
				err("--keepalive: 1..3600 seconds");
				return 2;
			}
			break;
		case 'v': log_level = LOG_DEBUG; break;
		case 'q': log_level = LOG_WARN; break;
		default: return 2;
		}
	}
	if (!dir || !policy || optind != argc) {
		fprintf(stderr, "usage: " PROG " serve --dir DIR --policy FILE"
			" [--listen ADDR:PORT] [--keepalive SECS] [-v|-q]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Reloads must find the same file whatever the cwd is then. */
	if (!realpath(policy, policy_abs)) {
		err("%s: %s", policy, strerror(errno));
		return 1;
	}
	policy = policy_abs;
	paths_init(&p, dir);
	db = db_open(p.db, false);
	if (!db)
		return 1;
	s.ca = ca_load(&p);
	if (!s.ca)
		goto out;
	s.ctx = nbw_tls_server_ctx(p.srv_crt, p.srv_key, p.ca_crt, e, sizeof(e));
	if (!s.ctx) {
		err("%s", e);
		goto out;
	}
	if (reg_open(&s.reg, db, policy))
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	afd = admin_listen(&p);
	lfd = tcp_listen(listen_spec, shown, sizeof(shown));
	if (sfd < 0 || afd < 0 || lfd < 0)
		goto out;
	info("%zu nodes registered, map serial %llu", s.reg.n_nodes,
	     (unsigned long long)s.reg.serial);
	/* Always printed, even with -q: scripts wait for this line. */
	if (log_level < LOG_INFO)
		fprintf(stderr, PROG ": info: listening on %s\n", shown);
	else
		info("listening on %s", shown);
	ret = serve_loop(&s, lfd, afd, sfd) ? 1 : 0;
	while (s.n_conns)
		conn_free(&s, s.conns[--s.n_conns]);
	unlink(p.sock);
out:
	free(s.conns);
	if (lfd >= 0)
		close(lfd);
	if (afd >= 0)
		close(afd);
	if (sfd >= 0)
		close(sfd);
	reg_close(&s.reg);
	SSL_CTX_free(s.ctx);
	ca_free(s.ca);
	sqlite3_close(db);
	return ret;
}
