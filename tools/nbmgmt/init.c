// SPDX-License-Identifier: GPL-2.0
/*
 * `nbmgmt init --dir DIR`: create the CA, the server certificate, the
 * database with the overlay ranges, and a first (admin) setup key.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "nbmgmt.h"

int key_create(sqlite3 *db, bool reusable, int64_t uses, int64_t expires,
	       const char *groups, char *out, size_t n);

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "range4", required_argument, NULL, '4' },
		{ "range6", required_argument, NULL, '6' },
		{ 0 }
	};
	const char *dir = NULL, *r4 = "100.64.0.0/16", *r6 = "fd00:6e62::/64";
	char *hosts[40], host[256], e[512], key[128];
	int n_hosts = 0, c, i;
	struct ranges rg;
	struct paths p;
	sqlite3 *db;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'H':
			if (n_hosts >= 32) {
				err("too many --hostname");
				return 2;
			}
			hosts[n_hosts++] = optarg;
			break;
		case '4': r4 = optarg; break;
		case '6': r6 = optarg; break;
		default: return 2;
		}
	}
	if (!dir || optind != argc) {
		fprintf(stderr, "usage: " PROG " init --dir DIR [--hostname H]..."
			" [--range4 CIDR] [--range6 CIDR]\n");
		return 2;
	}
	if (ranges_parse(r4, r6, &rg, e, sizeof(e))) {
		err("%s", e);
		return 1;
	}
	if (!n_hosts && !gethostname(host, sizeof(host)))
		hosts[n_hosts++] = host;
	/* Local names too, so tests and a local nbhelper can connect. */
	hosts[n_hosts++] = "localhost";
	hosts[n_hosts++] = "127.0.0.1";
	hosts[n_hosts++] = "::1";

	paths_init(&p, dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err("%s: %s", dir, strerror(errno));
		return 1;
	}
	if (!access(p.ca_key, F_OK) || !access(p.db, F_OK)) {
		err("%s is already initialised (found %s)", dir,
		    !access(p.ca_key, F_OK) ? p.ca_key : p.db);
		return 1;
	}
	if (ca_create(&p, hosts, n_hosts))
		return 1;
	db = db_open(p.db, true);
	if (!db)
		return 1;
	if (db_begin(db) || db_meta_set(db, "range4", r4) ||
	    db_meta_set(db, "range6", r6) || db_meta_set(db, "serial", "0") ||
	    key_create(db, true, -1, 0, "", key, sizeof(key)) ||
	    db_commit(db)) {
		db_rollback(db);
		sqlite3_close(db);
		return 1;
	}
	sqlite3_close(db);
	printf("initialised %s\n", dir);
	printf("  CA certificate: %s (install it on every node)\n", p.ca_crt);
	printf("  server names:  ");
	for (i = 0; i < n_hosts; i++)
		printf(" %s", hosts[i]);
	printf("\n  overlay ranges: %s %s (%u nodes)\n", r4, r6, rg.max_index);
	printf("admin setup key (reusable, never expires; revoke with"
	       " `" PROG " setup-key revoke`):\n%s\n", key);
	return 0;
}
