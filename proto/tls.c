// SPDX-License-Identifier: GPL-2.0
/*
 * TLS helpers for the control plane: contexts (TLS 1.3 only, our own CA),
 * node key + CSR generation, and a small blocking client connection with
 * timeouts that speaks framed messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "proto/tls.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* Append OpenSSL's queued reason to a message, then clear the queue. */
static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
	ERR_clear_error();
}

static SSL_CTX *ctx_common(const SSL_METHOD *method, const char *ca_file,
			   char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx) {
		ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
		ssl_err(err, errlen, "TLS 1.3");
		goto fail;
	}
	if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		ssl_err(err, errlen, ca_file);
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int load_cert_key(SSL_CTX *ctx, const char *cert_file,
			 const char *key_file, char *err, size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_err(err, errlen, cert_file);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, key_file);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "certificate and key do not match");
		return -1;
	}
	return 0;
}

SSL_CTX *nbw_tls_server_ctx(const char *cert_file, const char *key_file,
			    const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_common(TLS_server_method(), ca_file, err, errlen);
	STACK_OF(X509_NAME) *names;

	if (!ctx)
		return NULL;
	if (load_cert_key(ctx, cert_file, key_file, err, errlen))
		goto fail;
	names = SSL_load_client_CA_file(ca_file);
	if (!names) {
		ssl_err(err, errlen, ca_file);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	/*
	 * Ask for a client certificate but do not require one: enrollment
	 * has none. The session code decides what each message needs.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 2);
	/* No resumption: each connection proves its certificate afresh. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *nbw_tls_client_ctx(const char *ca_file, const char *cert_file,
			    const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (!ca_file) {
		snprintf(err, errlen, "a CA file is required");
		return NULL;
	}
	ctx = ctx_common(TLS_client_method(), ca_file, err, errlen);
	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert_file && load_cert_key(ctx, cert_file, key_file, err, errlen)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static char *bio_to_string(BIO *b)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	s = malloc((size_t)n + 1);
	if (s) {
		memcpy(s, data, (size_t)n);
		s[n] = 0;
	}
	return s;
}

int nbw_tls_gen_key_csr(const char *cn, char **key_pem, char **csr_pem,
			char *err, size_t errlen)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509_REQ *req = NULL;
	X509_NAME *name;
	BIO *kb = NULL, *rb = NULL;
	int ret = -1;

	*key_pem = *csr_pem = NULL;
	if (!pkey) {
		ssl_err(err, errlen, "generating key");
		return -1;
	}
	req = X509_REQ_new();
	kb = BIO_new(BIO_s_mem());
	rb = BIO_new(BIO_s_mem());
	if (!req || !kb || !rb)
		goto ossl;
	name = X509_REQ_get_subject_name(req);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_pubkey(req, pkey) ||
	    !X509_REQ_sign(req, pkey, EVP_sha256()) ||
	    !PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509_REQ(rb, req))
		goto ossl;
	*key_pem = bio_to_string(kb);
	*csr_pem = bio_to_string(rb);
	if (!*key_pem || !*csr_pem) {
		free(*key_pem);
		free(*csr_pem);
		*key_pem = *csr_pem = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = 0;
	goto out;
ossl:
	ssl_err(err, errlen, "making CSR");
out:
	BIO_free(kb);
	BIO_free(rb);
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	return ret;
}

int nbw_write_file(const char *path, const void *data, size_t len,
		   unsigned int mode, char *err, size_t errlen)
{
	char tmp[4096];
	int fd;
	ssize_t w;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ERR("%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return ERR("%s: %s", tmp, strerror(errno));
	fchmod(fd, mode);
	while (off < len) {
		w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) || close(fd)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

char *nbw_read_file(const char *path, size_t max, size_t *lenp, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? strerror(errno) : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	if (lenp)
		*lenp = n;
	return buf;
}

int nbw_cert_fingerprint(X509 *cert, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (!X509_digest(cert, EVP_sha256(), md, &n) || n != 32)
		return -1;
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = 0;
	return 0;
}

/* ---- client connection ------------------------------------------------- */

struct nbw_conn {
	int fd;
	SSL *ssl;
	struct nbw_buf in;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remaining ms until deadline (-1 = forever). */
static int remaining(long long deadline)
{
	long long r;

	if (deadline < 0)
		return -1;
	r = deadline - now_ms();
	return r < 0 ? 0 : (int)r;
}

static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, remaining(deadline));
	while (r < 0 && errno == EINTR);
	return r;	/* 1 ready, 0 timeout, -1 error */
}

static int tcp_connect(const char *host, const char *port, long long deadline,
		       char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, r, soerr;
	socklen_t sl;

	r = getaddrinfo(host, port, &hints, &res);
	if (r)
		return ERR("%s:%s: %s", host, port, gai_strerror(r));
	snprintf(err, errlen, "%s:%s: no address", host, port);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			r = wait_fd(fd, POLLOUT, deadline);
			sl = sizeof(soerr);
			if (r == 1 && !getsockopt(fd, SOL_SOCKET, SO_ERROR,
						  &soerr, &sl) && !soerr)
				break;
			snprintf(err, errlen, "%s:%s: %s", host, port,
				 r == 0 ? "connect timed out" :
				 strerror(r < 0 ? errno : soerr));
		} else {
			snprintf(err, errlen, "%s:%s: %s", host, port,
				 strerror(errno));
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Drive a non-blocking SSL call: wait as OpenSSL asks until deadline. */
static int ssl_wait(struct nbw_conn *c, int r, long long deadline,
		    const char *what, char *err, size_t errlen)
{
	int e = SSL_get_error(c->ssl, r), w;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    deadline);
		if (w > 0)
			return 1;	/* retry */
		if (w == 0) {
			snprintf(err, errlen, "%s: timed out", what);
			return 0;
		}
		return ERR("%s: poll: %s", what, strerror(errno));
	}
	if (e == SSL_ERROR_ZERO_RETURN) {
		snprintf(err, errlen, "%s: connection closed by peer", what);
		return -1;
	}
	if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
		snprintf(err, errlen, "%s: %s", what,
			 errno ? strerror(errno) : "connection closed");
		return -1;
	}
	{
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK) {
			ERR_clear_error();
			return ERR("%s: certificate verification failed: %s",
				   what, X509_verify_cert_error_string(v));
		}
	}
	ssl_err(err, errlen, what);
	return -1;
}

struct nbw_conn *nbw_conn_open(SSL_CTX *ctx, const char *host,
			       const char *port, int timeout_ms, char *err,
			       size_t errlen)
{
	return nbw_conn_open_name(ctx, host, port, NULL, timeout_ms, err,
				  errlen);
}

struct nbw_conn *nbw_conn_open_name(SSL_CTX *ctx, const char *host,
				    const char *port, const char *name,
				    int timeout_ms, char *err, size_t errlen)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct nbw_conn *c = calloc(1, sizeof(*c));
	unsigned char tmp[16];
	int r;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = tcp_connect(host, port, deadline, err, errlen);
	if (c->fd < 0)
		goto fail;
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		ssl_err(err, errlen, "SSL_new");
		goto fail;
	}
	/* Verify the name: an IP SAN for addresses, else a DNS name. */
	if (!name)
		name = host;
	if (inet_pton(AF_INET, name, tmp) == 1 ||
	    inet_pton(AF_INET6, name, tmp) == 1) {
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
						   name)) {
			ssl_err(err, errlen, "set IP to verify");
			goto fail;
		}
	} else if (!SSL_set1_host(c->ssl, name) ||
		   !SSL_set_tlsext_host_name(c->ssl, name)) {
		ssl_err(err, errlen, "set host to verify");
		goto fail;
	}
	while ((r = SSL_connect(c->ssl)) != 1) {
		r = ssl_wait(c, r, deadline, "TLS handshake", err, errlen);
		if (r <= 0)
			goto fail;
	}
	return c;
fail:
	nbw_conn_close(c);
	return NULL;
}

void nbw_conn_close(struct nbw_conn *c)
{
	if (!c)
		return;
	if (c->ssl) {
		SSL_shutdown(c->ssl);	/* best effort close_notify */
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	nbw_buf_free(&c->in);
	free(c);
	ERR_clear_error();
}

int nbw_conn_fd(const struct nbw_conn *c)
{
	return c->fd;
}

int nbw_conn_pending(const struct nbw_conn *c)
{
	size_t fl;
	char e[8];

	return SSL_pending(c->ssl) > 0 || SSL_has_pending(c->ssl) ||
	       (c->in.len && nbw_frame_check(c->in.data, c->in.len, &fl, e,
					     sizeof(e)) != 0);
}

int nbw_conn_send_raw(struct nbw_conn *c, const void *buf, size_t len,
		      char *err, size_t errlen)
{
	long long deadline = now_ms() + 10000;
	size_t off = 0, n;
	int r;

	while (off < len) {
		r = SSL_write_ex(c->ssl, (const char *)buf + off, len - off,
				 &n);
		if (r == 1) {
			off += n;
			continue;
		}
		if (ssl_wait(c, r, deadline, "send", err, errlen) <= 0)
			return -1;
	}
	return 0;
}

int nbw_conn_send(struct nbw_conn *c, const struct nbw_msg *m, char *err,
		  size_t errlen)
{
	struct nbw_buf b = { 0 };
	int r;

	if (nbw_msg_encode(m, &b, err, errlen)) {
		nbw_buf_free(&b);
		return -1;
	}
	r = nbw_conn_send_raw(c, b.data, b.len, err, errlen);
	nbw_buf_free(&b);
	return r;
}

int nbw_conn_recv(struct nbw_conn *c, struct nbw_msg *m, int timeout_ms,
		  char *err, size_t errlen)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t buf[16384];
	size_t fl, n;
	int r;

	for (;;) {
		r = nbw_frame_check(c->in.data, c->in.len, &fl, err, errlen);
		if (r < 0)
			return -1;
		if (r == 1) {
			r = nbw_msg_decode(c->in.data, fl, m, err, errlen);
			nbw_buf_consume(&c->in, fl);
			return r ? -1 : 1;
		}
		r = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
		if (r == 1) {
			if (nbw_buf_put(&c->in, buf, n))
				return ERR("out of memory");
			continue;
		}
		r = ssl_wait(c, r, deadline, "receive", err, errlen);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
}

int nbw_conn_hello(struct nbw_conn *c, const char *software,
		   uint32_t *keepalive, int timeout_ms, char *err,
		   size_t errlen)
{
	struct nbw_msg m;
	int r;

	nbw_msg_init(&m, NBW_MSG_HELLO);
	m.version = NBW_PROTO_VERSION;
	snprintf(m.software, sizeof(m.software), "%s", software ? software : "");
	if (nbw_conn_send(c, &m, err, errlen))
		return -1;
	r = nbw_conn_recv(c, &m, timeout_ms, err, errlen);
	if (r == 0)
		snprintf(err, errlen, "no HELLO from server");
	if (r <= 0)
		return -1;
	if (m.type == NBW_MSG_ERROR) {
		snprintf(err, errlen, "server: %s: %s", nbw_err_name(m.err_code),
			 m.err_msg);
		r = -1;
	} else if (m.type != NBW_MSG_HELLO) {
		snprintf(err, errlen, "expected HELLO, got %s",
			 nbw_msg_name(m.type));
		r = -1;
	} else if (m.version != NBW_PROTO_VERSION) {
		snprintf(err, errlen, "server speaks protocol %u, we speak %u",
			 m.version, NBW_PROTO_VERSION);
		r = -1;
	} else {
		if (keepalive)
			*keepalive = m.keepalive ? m.keepalive : 25;
		r = 0;
	}
	nbw_msg_free(&m);
	return r;
}
