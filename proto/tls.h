/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS helpers shared by nbmgmt and nbhelper (OpenSSL 3, TLS 1.3 only).
 *
 * The control plane has its own CA (created by `nbmgmt init`). A node
 * trusts only that CA and checks the server name (SSL_set1_host, or the
 * IP address SAN when connecting to an address). Enrollment runs without
 * a client certificate; the node sends a CSR for a key it generated and
 * gets back a certificate whose CN is its node name. Every later
 * connection uses that certificate (mutual TLS).
 *
 * nbw_conn is a simple blocking client connection with timeouts, used by
 * nbhelper and the tests. All functions return 0 / a pointer on success
 * and -1 / NULL with a message in err on failure.
 */
#ifndef NBW_TLS_H
#define NBW_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "proto/wire.h"

/*
 * Server context: certificate chain + key, and the CA used to verify
 * client certificates (requested, not required: enrollment has none).
 */
SSL_CTX *nbw_tls_server_ctx(const char *cert_file, const char *key_file,
			    const char *ca_file, char *err, size_t errlen);
/*
 * Client context trusting only ca_file. cert_file/key_file may be NULL
 * (enrollment); otherwise they are the node's client certificate and key.
 */
SSL_CTX *nbw_tls_client_ctx(const char *ca_file, const char *cert_file,
			    const char *key_file, char *err, size_t errlen);

/*
 * Generate a private key (EC P-256) and a CSR with CN = cn. Both are
 * returned as malloc'd PEM strings.
 */
int nbw_tls_gen_key_csr(const char *cn, char **key_pem, char **csr_pem,
			char *err, size_t errlen);

/* Write a file atomically (tmp + rename) with mode. */
int nbw_write_file(const char *path, const void *data, size_t len,
		   unsigned int mode, char *err, size_t errlen);
/* Read a whole file (NUL-terminated, malloc'd); max bytes. */
char *nbw_read_file(const char *path, size_t max, size_t *len,
		    char *err, size_t errlen);

/* SHA-256 of the DER form of a certificate, as 64 lowercase hex + NUL. */
int nbw_cert_fingerprint(X509 *cert, char out[65]);

/* ---- blocking client connection --------------------------------------- */

struct nbw_conn;

/*
 * Connect to host:port (a name or an address), handshake and verify the
 * server certificate against the context's CA and host. timeout_ms bounds
 * connect + handshake.
 */
struct nbw_conn *nbw_conn_open(SSL_CTX *ctx, const char *host,
			       const char *port, int timeout_ms,
			       char *err, size_t errlen);
/*
 * The same, but verify the server certificate against @name (a DNS name
 * or an address) instead of the dialled @host: for dialling an address
 * while checking the server's DNS name. @name NULL = @host.
 */
struct nbw_conn *nbw_conn_open_name(SSL_CTX *ctx, const char *host,
				    const char *port, const char *name,
				    int timeout_ms, char *err, size_t errlen);
void nbw_conn_close(struct nbw_conn *c);
int nbw_conn_fd(const struct nbw_conn *c);

/* Encode and send one message. */
int nbw_conn_send(struct nbw_conn *c, const struct nbw_msg *m,
		  char *err, size_t errlen);
/* Send raw bytes (tests: garbage, oversized frames). */
int nbw_conn_send_raw(struct nbw_conn *c, const void *buf, size_t len,
		      char *err, size_t errlen);
/*
 * Receive one message: 1 = got one (nbw_msg_free it), 0 = timeout
 * (timeout_ms < 0 waits forever), -1 = error or closed (err set).
 * A received ERROR message is returned as a message, not as -1.
 */
int nbw_conn_recv(struct nbw_conn *c, struct nbw_msg *m, int timeout_ms,
		  char *err, size_t errlen);
/*
 * True if bytes are buffered (decrypted or in the TLS layer), so poll()
 * on the fd alone may not wake up for them: call nbw_conn_recv first.
 */
int nbw_conn_pending(const struct nbw_conn *c);

/*
 * The whole client handshake: HELLO -> HELLO. On success *keepalive gets
 * the server's PING interval in seconds.
 */
int nbw_conn_hello(struct nbw_conn *c, const char *software,
		   uint32_t *keepalive, int timeout_ms, char *err,
		   size_t errlen);

#endif /* NBW_TLS_H */
