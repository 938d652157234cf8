/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbmgmt: the nbguard control server. One file per concern:
 *   main.c     command dispatch          log.c      leveled stderr logging
 *   init.c     `init`                    ca.c       CA, server cert, CSR signing
 *   db.c       SQLite registry           keys.c     `setup-key ...`
 *   peers.c    `peers list`, `peer remove`, `policy reload`
 *   serve.c    poll loop, TLS connections, admin socket
 *   session.c  protocol state machine per connection
 *   netmap.c   policy + registry -> per-node network maps, pushes
 */
#ifndef NBMGMT_H
#define NBMGMT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <sqlite3.h>
#include "proto/wire.h"

#define PROG "nbmgmt"
#define SOFTWARE "nbmgmt 0.1"

/* ---- log.c ---------------------------------------------------------------- */
enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int log_level;
void logm(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define err(...) logm(LOG_ERR, __VA_ARGS__)
#define warn(...) logm(LOG_WARN, __VA_ARGS__)
#define info(...) logm(LOG_INFO, __VA_ARGS__)
#define dbg(...) logm(LOG_DEBUG, __VA_ARGS__)

/* Paths inside the state directory. */
struct paths {
	char dir[3072];
	char ca_key[4096], ca_crt[4096], srv_key[4096], srv_crt[4096];
	char db[4096], sock[4096];
};
void paths_init(struct paths *p, const char *dir);

/* ---- ca.c ----------------------------------------------------------------- */
int ca_create(const struct paths *p, char **hosts, int n_hosts);
struct ca;
struct ca *ca_load(const struct paths *p);
void ca_free(struct ca *ca);
/*
 * Sign a node CSR: checks its signature, issues a client certificate with
 * CN = name. Returns malloc'd PEM and the certificate fingerprint.
 */
char *ca_sign_csr(struct ca *ca, const char *csr_pem, const char *name,
		  char fp[65], char *errbuf, size_t errlen);
const char *ca_cert_pem(const struct ca *ca);

/* ---- db.c ----------------------------------------------------------------- */
struct db_node {
	int64_t id;
	char name[NBW_NAME_MAX];
	uint8_t pubkey[NBW_KEY_LEN];
	uint32_t addr_index;
	char fp[65];
	char groups[1024];		/* comma separated */
	uint16_t listen_port;
	char endpoints[1024];		/* comma separated ip:port */
	int64_t created, last_seen;
};

struct db_key {
	int64_t id;
	char hash[65], prefix[16];
	bool reusable, revoked;
	int64_t uses_left;		/* -1 = unlimited */
	int64_t used, expires, created;	/* expires 0 = never */
	char groups[1024];
};

sqlite3 *db_open(const char *path, bool create);
int db_exec(sqlite3 *db, const char *sql);
int db_meta_get(sqlite3 *db, const char *k, char *v, size_t n);
int db_meta_set(sqlite3 *db, const char *k, const char *v);
int db_begin(sqlite3 *db);	/* BEGIN IMMEDIATE */
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);
/* The same with synchronous=FULL for the transaction (enrollment). */
int db_begin_durable(sqlite3 *db);
int db_commit_durable(sqlite3 *db);
void db_rollback_durable(sqlite3 *db);

/* Setup keys. The key itself is never stored, only its SHA-256. */
void key_hash(const char *key, char out[65]);
int db_key_add(sqlite3 *db, const struct db_key *k);
/* Find by the full key (hash) or by the printed id prefix. 1 found, 0 no. */
int db_key_find(sqlite3 *db, const char *key_or_prefix, struct db_key *k);
int db_key_use(sqlite3 *db, int64_t id);
int db_key_revoke(sqlite3 *db, int64_t id);
typedef void (*db_key_cb)(const struct db_key *k, void *ctx);
int db_key_list(sqlite3 *db, db_key_cb cb, void *ctx);

/* Nodes */
typedef void (*db_node_cb)(const struct db_node *n, void *ctx);
int db_node_list(sqlite3 *db, db_node_cb cb, void *ctx);
int db_node_add(sqlite3 *db, struct db_node *n);	/* sets n->id */
int db_node_remove(sqlite3 *db, const char *name);	/* 1 removed, 0 none */
int db_node_update(sqlite3 *db, const struct db_node *n);
/* 1 if a node has the name / key, other than id skip. */
int db_node_name_taken(sqlite3 *db, const char *name);
int db_node_key_owner(sqlite3 *db, const uint8_t key[32], int64_t skip);
/* A free address index in 1..max (never used ones first); 0 if none. */
uint32_t db_node_free_index(sqlite3 *db, uint32_t max);

/* Overlay ranges, from meta */
struct ranges {
	struct nbw_addr r4, r6;		/* network address + prefix length */
	uint32_t max_index;		/* usable host indexes 1..max_index */
};
int ranges_load(sqlite3 *db, struct ranges *r);
int ranges_parse(const char *r4, const char *r6, struct ranges *r,
		 char *errbuf, size_t errlen);
void ranges_addr(const struct ranges *r, uint32_t index, struct nbw_addr *a4,
		 struct nbw_addr *a6);

/* ---- netmap.c: the in-memory registry + policy -------------------------- */
struct conn;

struct node {
	struct db_node db;
	struct nbw_addr a4, a6;
	struct nbw_endpoint eps[NBW_MAX_ENDPOINTS];
	unsigned int n_eps;
	struct conn *conn;		/* logged-in connection, or NULL */
	char *ruleset;			/* cached compiled slice, NULL = stale */
	uint8_t map_hash[32];		/* of the last map sent (serial 0) */
	bool sent, dirty;
};

struct registry {
	sqlite3 *db;
	struct ranges ranges;
	char policy_path[4096];
	struct nbp_policy *policy;
	struct node **nodes;
	size_t n_nodes, cap_nodes;
	struct node **by_peer;		/* policy peer index -> node */
	size_t n_by_peer;
	struct node **dirty;		/* nodes whose map must be recomputed */
	size_t n_dirty, cap_dirty;
	uint64_t serial;
};

int reg_open(struct registry *r, sqlite3 *db, const char *policy_path);
void reg_close(struct registry *r);
/*
 * Load the policy file and apply the registry to it. On error the old
 * policy stays; the diagnostics (file:line:col) go to msg (malloc'd).
 */
int reg_reload_policy(struct registry *r, char **msg);
/* Re-read nodes from the DB (after `peer remove`): drops vanished ones. */
int reg_sync(struct registry *r);
struct node *reg_add(struct registry *r, const struct db_node *dbn);
struct node *reg_find_fp(struct registry *r, const char *fp);
/* Mark a node and every node the policy connects it to as needing a map. */
void reg_touch(struct registry *r, struct node *n, bool rules_too);
/* Build the node's NETMAP (serial not set). 0 or -1. */
int reg_netmap(struct registry *r, struct node *n, struct nbw_msg *m);
/* Recompute dirty maps and queue them on connected nodes. */
void reg_flush(struct registry *r);

/* ---- serve.c / session.c -------------------------------------------------- */
enum conn_state {
	C_TLS,		/* handshake */
	C_HELLO,	/* waiting for HELLO */
	C_AUTH,		/* waiting for ENROLL or LOGIN */
	C_ACTIVE,	/* logged in */
	C_CLOSING,	/* flush output, then close */
};

struct conn {
	int fd;
	SSL *ssl;
	enum conn_state state;
	struct nbw_buf in, out;
	long long deadline;	/* ms, monotonic */
	char peer[80];		/* "addr:port" for logs */
	struct sockaddr_storage sa;
	bool has_cert, want_write;
	char fp[65];
	struct node *node;
	bool dead;
};

struct server {
	struct registry reg;
	struct ca *ca;
	SSL_CTX *ctx;
	uint32_t keepalive;	/* seconds */
	struct conn **conns;
	size_t n_conns, cap_conns;
};

long long now_ms(void);
/* Queue a message; on failure marks the connection dead. */
void conn_send(struct conn *c, const struct nbw_msg *m);
/* Send ERROR and close after flushing; logs the reason. */
void conn_fail(struct conn *c, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Handle one decoded message. */
void session_msg(struct server *s, struct conn *c, struct nbw_msg *m);
void session_closed(struct server *s, struct conn *c);

/* Commands */
int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_setup_key(int argc, char **argv);
int cmd_peers(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Ask a running server (admin socket) to do cmd; prints its reply. */
int admin_request(const struct paths *p, const char *cmd, bool quiet_if_down);
/* Parse "--dir DIR" style common options. */
const char *opt_dir(int argc, char **argv);

#endif /* NBMGMT_H */
