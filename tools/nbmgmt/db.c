// SPDX-License-Identifier: GPL-2.0
/*
 * The registry in SQLite: nodes, setup keys, and meta (overlay ranges,
 * map serial). WAL mode and one transaction per change keep it consistent
 * across crashes, and let the CLI read it while the server runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "nbmgmt.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS setup_keys("
	" id INTEGER PRIMARY KEY, hash TEXT UNIQUE NOT NULL,"
	" prefix TEXT NOT NULL, reusable INT NOT NULL,"
	" uses_left INT NOT NULL, used INT NOT NULL DEFAULT 0,"
	" expires INT NOT NULL, revoked INT NOT NULL DEFAULT 0,"
	" groups TEXT NOT NULL, created INT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS nodes("
	" id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	" pubkey BLOB UNIQUE NOT NULL, addr_index INT UNIQUE NOT NULL,"
	" fp TEXT UNIQUE NOT NULL, groups TEXT NOT NULL,"
	" listen_port INT NOT NULL DEFAULT 0,"
	" endpoints TEXT NOT NULL DEFAULT '', created INT NOT NULL,"
	" last_seen INT NOT NULL DEFAULT 0);";

static void db_err(sqlite3 *db, const char *what)
{
	err("database: %s: %s", what, sqlite3_errmsg(db));
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err("database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3 *db_open(const char *path, bool create)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		err("%s: %s%s", path, db ? sqlite3_errmsg(db) : "cannot open",
		    create ? "" : " (run `" PROG " init`?)");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	/*
	 * WAL with synchronous=NORMAL never corrupts and loses nothing when
	 * the process crashes; only a power loss can drop the newest commits.
	 * Logins and endpoint updates (frequent, in the event loop) use it;
	 * enrollment switches to FULL (db_begin_durable) because it hands out
	 * a certificate that must stay registered.
	 */
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		    "PRAGMA foreign_keys=ON;") || db_exec(db, schema)) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int db_begin(sqlite3 *db) { return db_exec(db, "BEGIN IMMEDIATE"); }
int db_commit(sqlite3 *db) { return db_exec(db, "COMMIT"); }
void db_rollback(sqlite3 *db) { sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); }

int db_begin_durable(sqlite3 *db)
{
	if (db_exec(db, "PRAGMA synchronous=FULL"))
		return -1;
	if (db_begin(db)) {
		db_exec(db, "PRAGMA synchronous=NORMAL");
		return -1;
	}
	return 0;
}

int db_commit_durable(sqlite3 *db)
{
	int r = db_commit(db);

	db_exec(db, "PRAGMA synchronous=NORMAL");
	return r;
}

void db_rollback_durable(sqlite3 *db)
{
	db_rollback(db);
	db_exec(db, "PRAGMA synchronous=NORMAL");
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(db, sql);
		return NULL;
	}
	return st;
}

/* Step a statement that returns no rows; 0 or -1. Finalizes it. */
static int run(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		db_err(db, what);
		return -1;
	}
	return 0;
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

int db_meta_get(sqlite3 *db, const char *k, char *v, size_t n)
{
	sqlite3_stmt *st = prep(db, "SELECT v FROM meta WHERE k = ?");
	int r = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		col_text(st, 0, v, n);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int db_meta_set(sqlite3 *db, const char *k, const char *v)
{
	sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
	return run(db, st, "meta");
}

/* ---- setup keys ------------------------------------------------------------ */

void key_hash(const char *key, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = 0;
}

int db_key_add(sqlite3 *db, const struct db_key *k)
{
	sqlite3_stmt *st = prep(db,
		"INSERT INTO setup_keys(hash, prefix, reusable, uses_left,"
		" expires, groups, created) VALUES(?, ?, ?, ?, ?, ?, ?)");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, k->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, k->reusable);
	sqlite3_bind_int64(st, 4, k->uses_left);
	sqlite3_bind_int64(st, 5, k->expires);
	sqlite3_bind_text(st, 6, k->groups, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, k->created);
	return run(db, st, "adding setup key");
}

#define KEY_COLS "id, hash, prefix, reusable, uses_left, used, expires," \
		 " revoked, groups, created"

static void key_row(sqlite3_stmt *st, struct db_key *k)
{
	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, k->hash, sizeof(k->hash));
	col_text(st, 2, k->prefix, sizeof(k->prefix));
	k->reusable = sqlite3_column_int(st, 3);
	k->uses_left = sqlite3_column_int64(st, 4);
	k->used = sqlite3_column_int64(st, 5);
	k->expires = sqlite3_column_int64(st, 6);
	k->revoked = sqlite3_column_int(st, 7);
	col_text(st, 8, k->groups, sizeof(k->groups));
	k->created = sqlite3_column_int64(st, 9);
}

int db_key_find(sqlite3 *db, const char *key, struct db_key *k)
{
	sqlite3_stmt *st;
	char hash[65];
	int r = 0, rows = 0;

	key_hash(key, hash);
	st = prep(db, "SELECT " KEY_COLS " FROM setup_keys"
		  " WHERE hash = ?1 OR prefix = ?2");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		key_row(st, k);
		rows++;
		/* An exact key always wins over a prefix match. */
		if (!strcmp(k->hash, hash)) {
			rows = 1;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rows == 1)
		r = 1;
	return r;
}

int db_key_use(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = prep(db, "UPDATE setup_keys SET used = used + 1,"
				" uses_left = CASE WHEN uses_left > 0 THEN"
				" uses_left - 1 ELSE uses_left END WHERE id = ?");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return run(db, st, "using setup key");
}

int db_key_revoke(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = prep(db, "UPDATE setup_keys SET revoked = 1 WHERE id = ?");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return run(db, st, "revoking setup key");
}

int db_key_list(sqlite3 *db, db_key_cb cb, void *ctx)
{
	sqlite3_stmt *st = prep(db, "SELECT " KEY_COLS " FROM setup_keys ORDER BY id");
	struct db_key k;

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		key_row(st, &k);
		cb(&k, ctx);
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- nodes ----------------------------------------------------------------- */

#define NODE_COLS "id, name, pubkey, addr_index, fp, groups, listen_port," \
		  " endpoints, created, last_seen"

static void node_row(sqlite3_stmt *st, struct db_node *n)
{
	const void *pk = sqlite3_column_blob(st, 2);

	memset(n, 0, sizeof(*n));
	n->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, n->name, sizeof(n->name));
	if (pk && sqlite3_column_bytes(st, 2) == NBW_KEY_LEN)
		memcpy(n->pubkey, pk, NBW_KEY_LEN);
	n->addr_index = (uint32_t)sqlite3_column_int64(st, 3);
	col_text(st, 4, n->fp, sizeof(n->fp));
	col_text(st, 5, n->groups, sizeof(n->groups));
	n->listen_port = (uint16_t)sqlite3_column_int(st, 6);
	col_text(st, 7, n->endpoints, sizeof(n->endpoints));
	n->created = sqlite3_column_int64(st, 8);
	n->last_seen = sqlite3_column_int64(st, 9);
}

int db_node_list(sqlite3 *db, db_node_cb cb, void *ctx)
{
	sqlite3_stmt *st = prep(db, "SELECT " NODE_COLS " FROM nodes ORDER BY id");
	struct db_node n;
	int r;

	if (!st)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		node_row(st, &n);
		cb(&n, ctx);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		db_err(db, "listing nodes");
		return -1;
	}
	return 0;
}

static void bind_node(sqlite3_stmt *st, const struct db_node *n)
{
	sqlite3_bind_text(st, 1, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, n->pubkey, NBW_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, n->addr_index);
	sqlite3_bind_text(st, 4, n->fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->groups, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, n->listen_port);
	sqlite3_bind_text(st, 7, n->endpoints, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, n->created);
	sqlite3_bind_int64(st, 9, n->last_seen);
}

int db_node_add(sqlite3 *db, struct db_node *n)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO nodes(name, pubkey, addr_index,"
				" fp, groups, listen_port, endpoints, created,"
				" last_seen) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (!st)
		return -1;
	bind_node(st, n);
	if (run(db, st, "adding node"))
		return -1;
	n->id = sqlite3_last_insert_rowid(db);
	return 0;
}

int db_node_update(sqlite3 *db, const struct db_node *n)
{
	sqlite3_stmt *st = prep(db, "UPDATE nodes SET name = ?1, pubkey = ?2,"
				" addr_index = ?3, fp = ?4, groups = ?5,"
				" listen_port = ?6, endpoints = ?7,"
				" created = ?8, last_seen = ?9 WHERE id = ?10");

	if (!st)
		return -1;
	bind_node(st, n);
	sqlite3_bind_int64(st, 10, n->id);
	return run(db, st, "updating node");
}

int db_node_remove(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = prep(db, "DELETE FROM nodes WHERE name = ?");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (run(db, st, "removing node"))
		return -1;
	return sqlite3_changes(db) > 0;
}

static int exists(sqlite3 *db, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return 1;
	if (r == SQLITE_DONE)
		return 0;
	db_err(db, "lookup");
	return -1;
}

int db_node_name_taken(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = prep(db, "SELECT 1 FROM nodes WHERE name = ?");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return exists(db, st);
}

int db_node_key_owner(sqlite3 *db, const uint8_t key[32], int64_t skip)
{
	sqlite3_stmt *st = prep(db, "SELECT 1 FROM nodes WHERE pubkey = ? AND id != ?");

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, key, NBW_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, skip);
	return exists(db, st);
}

uint32_t db_node_free_index(sqlite3 *db, uint32_t max)
{
	sqlite3_stmt *st;
	uint32_t want = 1;
	char v[32];

	/*
	 * Hand out never-used addresses first (a high-water mark in meta), so
	 * a removed node's address is not someone else's while peers may still
	 * hold maps naming the old owner; reuse gaps only when the range is
	 * used up. Runs inside the enrollment transaction.
	 */
	if (!db_meta_get(db, "next_index", v, sizeof(v)))
		want = (uint32_t)strtoul(v, NULL, 10);
	if (want >= 1 && want <= max) {
		snprintf(v, sizeof(v), "%u", want + 1);
		if (db_meta_set(db, "next_index", v))
			return 0;
		return want;
	}
	want = 1;
	st = prep(db, "SELECT addr_index FROM nodes ORDER BY addr_index");
	if (!st)
		return 0;
	/* First gap in the sorted indexes. */
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint32_t have = (uint32_t)sqlite3_column_int64(st, 0);

		if (have > want)
			break;
		if (have == want)
			want++;
	}
	sqlite3_finalize(st);
	return want <= max ? want : 0;
}

/* ---- overlay ranges -------------------------------------------------------- */

static bool host_bits_zero(const struct nbw_addr *a)
{
	unsigned int bits = a->family == AF_INET ? 32 : 128, i;

	for (i = a->plen; i < bits; i++)
		if (a->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

int ranges_parse(const char *r4, const char *r6, struct ranges *r,
		 char *errbuf, size_t errlen)
{
	uint64_t n4, n6;

	memset(r, 0, sizeof(*r));
	if (nbw_addr_parse(r4, &r->r4) || r->r4.family != AF_INET ||
	    !strchr(r4, '/') || r->r4.plen > 30 || r->r4.plen < 8 ||
	    !host_bits_zero(&r->r4)) {
		snprintf(errbuf, errlen, "bad IPv4 range '%s' (want a network"
			 " like 100.64.0.0/16, /8 to /30)", r4);
		return -1;
	}
	if (nbw_addr_parse(r6, &r->r6) || r->r6.family != AF_INET6 ||
	    !strchr(r6, '/') || r->r6.plen > 120 || r->r6.plen < 8 ||
	    !host_bits_zero(&r->r6)) {
		snprintf(errbuf, errlen, "bad IPv6 range '%s' (want a network"
			 " like fd00:6e62::/64, /8 to /120)", r6);
		return -1;
	}
	/* v4: skip network and broadcast; v6: index lives in the low bits. */
	n4 = (1ull << (32 - r->r4.plen)) - 2;
	n6 = r->r6.plen <= 96 ? (1ull << 32) - 1 : (1ull << (128 - r->r6.plen)) - 1;
	r->max_index = (uint32_t)(n4 < n6 ? n4 : n6);
	if (r->max_index > (1u << 24))
		r->max_index = 1u << 24;
	return 0;
}

int ranges_load(sqlite3 *db, struct ranges *r)
{
	char r4[64], r6[64], e[256];

	if (db_meta_get(db, "range4", r4, sizeof(r4)) ||
	    db_meta_get(db, "range6", r6, sizeof(r6))) {
		err("database has no overlay ranges (run `" PROG " init`)");
		return -1;
	}
	if (ranges_parse(r4, r6, r, e, sizeof(e))) {
		err("%s", e);
		return -1;
	}
	return 0;
}

void ranges_addr(const struct ranges *r, uint32_t index, struct nbw_addr *a4,
		 struct nbw_addr *a6)
{
	uint32_t v;

	*a4 = r->r4;
	memcpy(&v, a4->addr, 4);
	v = htonl(ntohl(v) + index);
	memcpy(a4->addr, &v, 4);
	*a6 = r->r6;
	memcpy(&v, a6->addr + 12, 4);
	v = htonl(ntohl(v) + index);
	memcpy(a6->addr + 12, &v, 4);
}
