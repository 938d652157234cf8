// SPDX-License-Identifier: GPL-2.0
/*
 * `nbmgmt setup-key create|list|revoke`: setup keys authorise enrollment.
 * One-off (default) or reusable, optionally with a usage limit, an expiry
 * and groups the enrolling node joins. Only a hash of a key is stored; the
 * key is printed once, at creation.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>
#include "nbmgmt.h"

int key_create(sqlite3 *db, bool reusable, int64_t uses, int64_t expires,
	       const char *groups, char *out, size_t n);

int key_create(sqlite3 *db, bool reusable, int64_t uses, int64_t expires,
	       const char *groups, char *out, size_t n)
{
	unsigned char rnd[20];
	struct db_key k = { 0 };
	int i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		err("no randomness for a setup key");
		return -1;
	}
	i = snprintf(out, n, "nbk_");
	for (size_t j = 0; j < sizeof(rnd); j++)
		i += snprintf(out + i, n - (size_t)i, "%02x", rnd[j]);
	key_hash(out, k.hash);
	/* The id shown by `list` and accepted by `revoke`: not a secret. */
	snprintf(k.prefix, sizeof(k.prefix), "%.12s", out);
	k.reusable = reusable;
	k.uses_left = uses;
	k.expires = expires;
	k.created = time(NULL);
	snprintf(k.groups, sizeof(k.groups), "%s", groups);
	return db_key_add(db, &k);
}

static sqlite3 *open_dir(const char *dir)
{
	struct paths p;

	if (!dir) {
		err("--dir DIR is required");
		return NULL;
	}
	paths_init(&p, dir);
	return db_open(p.db, false);
}

static int create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "reusable", no_argument, NULL, 'r' },
		{ "uses", required_argument, NULL, 'u' },
		{ "expires", required_argument, NULL, 'e' },
		{ "group", required_argument, NULL, 'g' },
		{ 0 }
	};
	const char *dir = NULL;
	char groups[1024] = "", key[128], *end;
	long long uses = 0, expires = 0;
	bool reusable = false;
	sqlite3 *db;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': reusable = true; break;
		case 'u':
			uses = strtoll(optarg, &end, 10);
			if (*end || uses < 1 || uses > 1000000000) {
				err("--uses: '%s' is not a count >= 1", optarg);
				return 2;
			}
			break;
		case 'e':
			expires = strtoll(optarg, &end, 10);
			if (*end || expires < 1 || expires > 100LL * 365 * 86400) {
				err("--expires: '%s' is not a number of seconds",
				    optarg);
				return 2;
			}
			break;
		case 'g':
			if (!nbw_name_valid(optarg)) {
				err("--group: '%s' is not a valid name", optarg);
				return 2;
			}
			if (strlen(groups) + strlen(optarg) + 2 > sizeof(groups)) {
				err("too many groups");
				return 2;
			}
			if (groups[0])
				strcat(groups, ",");
			strcat(groups, optarg);
			break;
		default: return 2;
		}
	}
	if (optind != argc) {
		err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	db = open_dir(dir);
	if (!db)
		return 1;
	/* --uses N alone means "N enrollments", i.e. reusable up to N. */
	r = key_create(db, reusable || uses > 1, uses ? uses : reusable ? -1 : 1,
		       expires ? time(NULL) + expires : 0, groups, key,
		       sizeof(key));
	sqlite3_close(db);
	if (r)
		return 1;
	printf("%s\n", key);
	return 0;
}

static void print_key(const struct db_key *k, void *ctx)
{
	time_t now = time(NULL);
	char uses[48], exp[32];
	const char *state = "valid";

	if (k->uses_left < 0)
		snprintf(uses, sizeof(uses), "%lld/unlimited", (long long)k->used);
	else
		snprintf(uses, sizeof(uses), "%lld/%lld", (long long)k->used,
			 (long long)(k->used + k->uses_left));
	if (k->expires) {
		time_t t = (time_t)k->expires;

		strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	} else {
		snprintf(exp, sizeof(exp), "never");
	}
	if (k->revoked)
		state = "revoked";
	else if (k->expires && now >= k->expires)
		state = "expired";
	else if (!k->uses_left)
		state = "exhausted";
	printf("%-12s  %-8s  %-13s  %-20s  %-9s  %s\n", k->prefix,
	       k->reusable ? "reusable" : "one-off", uses, exp, state,
	       k->groups[0] ? k->groups : "-");
}

static int list(int argc, char **argv)
{
	sqlite3 *db = open_dir(opt_dir(argc, argv));
	int r;

	if (!db)
		return 1;
	printf("%-12s  %-8s  %-13s  %-20s  %-9s  %s\n", "ID", "TYPE", "USED",
	       "EXPIRES", "STATE", "GROUPS");
	r = db_key_list(db, print_key, NULL);
	sqlite3_close(db);
	return r ? 1 : 0;
}

static int revoke(int argc, char **argv)
{
	const char *dir = opt_dir(argc, argv), *which = NULL;
	struct db_key k;
	sqlite3 *db;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir")) {
			i++;
			continue;
		}
		which = argv[i];
	}
	if (!which) {
		err("usage: " PROG " setup-key revoke KEY|ID --dir DIR");
		return 2;
	}
	db = open_dir(dir);
	if (!db)
		return 1;
	r = db_key_find(db, which, &k);
	if (r == 1)
		r = db_key_revoke(db, k.id) ? -1 : 1;
	sqlite3_close(db);
	if (r == 0) {
		err("no setup key '%s' (or the id is ambiguous)", which);
		return 1;
	}
	if (r < 0)
		return 1;
	printf("revoked %s\n", k.prefix);
	return 0;
}

int cmd_setup_key(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "create"))
		return create(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "revoke"))
		return revoke(argc - 1, argv + 1);
	fprintf(stderr, "usage: " PROG " setup-key create --dir DIR [--reusable]"
		" [--uses N] [--expires SECS] [--group G]...\n"
		"       " PROG " setup-key list --dir DIR\n"
		"       " PROG " setup-key revoke KEY|ID --dir DIR\n");
	return 2;
}
