// SPDX-License-Identifier: GPL-2.0
/*
 * `nbmgmt peers list`, `nbmgmt peer remove NAME`, `nbmgmt policy reload`,
 * `nbmgmt status`.
 * They work on the database; a running server is told over its admin
 * socket (DIR/nbmgmt.sock) so it acts at once (drops a removed node,
 * pushes new maps, reloads the policy and reports errors back).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "nbmgmt.h"

int admin_request(const struct paths *p, const char *cmd, bool quiet_if_down)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	int fd, ok;

	if (strlen(p->sock) >= sizeof(sa.sun_path)) {
		err("%s: path too long", p->sock);
		return -1;
	}
	strcpy(sa.sun_path, p->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		if (quiet_if_down)
			return 1;
		err("no running server at %s: %s", p->sock, strerror(errno));
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	if (write(fd, buf, strlen(buf)) < 0) {
		err("%s: %s", p->sock, strerror(errno));
		close(fd);
		return -1;
	}
	while (total < sizeof(buf) - 1 &&
	       (n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
		total += (size_t)n;
	buf[total] = 0;
	close(fd);
	ok = !strncmp(buf, "ok", 2);
	fputs(buf, ok ? stdout : stderr);
	return ok ? 0 : -1;
}

struct list_ctx {
	struct ranges rg;
};

static void print_node(const struct db_node *n, void *ctx)
{
	struct list_ctx *l = ctx;
	struct nbw_addr a4, a6;
	char b4[64], b6[64], key[NBW_KEY_B64_LEN], seen[32] = "never";

	ranges_addr(&l->rg, n->addr_index, &a4, &a6);
	nbw_key_to_base64(key, n->pubkey);
	if (n->last_seen) {
		time_t t = (time_t)n->last_seen;

		strftime(seen, sizeof(seen), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	}
	printf("%-16s %-15s %-20s %s %-20s %-5u %-12s %s\n", n->name,
	       nbw_addr_host_str(&a4, b4, sizeof(b4)),
	       nbw_addr_host_str(&a6, b6, sizeof(b6)), key, seen,
	       n->listen_port, n->groups[0] ? n->groups : "-",
	       n->endpoints[0] ? n->endpoints : "-");
}

int cmd_peers(int argc, char **argv)
{
	const char *dir = opt_dir(argc, argv);
	struct list_ctx l;
	struct paths p;
	sqlite3 *db;
	int r;

	if (argc < 2 || strcmp(argv[1], "list") || !dir) {
		fprintf(stderr, "usage: " PROG " peers list --dir DIR\n");
		return 2;
	}
	paths_init(&p, dir);
	db = db_open(p.db, false);
	if (!db)
		return 1;
	if (ranges_load(db, &l.rg)) {
		sqlite3_close(db);
		return 1;
	}
	printf("%-16s %-15s %-20s %-44s %-20s %-5s %-12s %s\n", "NAME", "IPV4",
	       "IPV6", "PUBLIC KEY", "LAST SEEN", "PORT", "KEY GROUPS",
	       "ENDPOINTS");
	r = db_node_list(db, print_node, &l);
	sqlite3_close(db);
	return r ? 1 : 0;
}

int cmd_peer(int argc, char **argv)
{
	const char *dir = opt_dir(argc, argv), *name = NULL;
	struct paths p;
	sqlite3 *db;
	int r;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--dir")) {
			i++;
			continue;
		}
		name = argv[i];
	}
	if (argc < 3 || strcmp(argv[1], "remove") || !dir || !name) {
		fprintf(stderr, "usage: " PROG " peer remove NAME --dir DIR\n");
		return 2;
	}
	paths_init(&p, dir);
	db = db_open(p.db, false);
	if (!db)
		return 1;
	r = db_node_remove(db, name);
	sqlite3_close(db);
	if (r < 0)
		return 1;
	if (r == 0) {
		err("no peer named '%s'", name);
		return 1;
	}
	printf("removed %s\n", name);
	/* The server drops the node's session and updates its peers. */
	return admin_request(&p, "sync", true) < 0 ? 1 : 0;
}

int cmd_policy(int argc, char **argv)
{
	const char *dir = opt_dir(argc, argv);
	struct paths p;

	if (argc < 2 || strcmp(argv[1], "reload") || !dir) {
		fprintf(stderr, "usage: " PROG " policy reload --dir DIR\n");
		return 2;
	}
	paths_init(&p, dir);
	return admin_request(&p, "reload", false) ? 1 : 0;
}

int cmd_status(int argc, char **argv)
{
	const char *dir = opt_dir(argc, argv);
	struct paths p;

	if (!dir) {
		fprintf(stderr, "usage: " PROG " status --dir DIR\n");
		return 2;
	}
	paths_init(&p, dir);
	return admin_request(&p, "status", false) ? 1 : 0;
}
