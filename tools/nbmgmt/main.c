// SPDX-License-Identifier: GPL-2.0
/* nbmgmt: command dispatch (one file per group of subcommands). */
#include <stdio.h>
#include <string.h>
#include "nbmgmt.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "init", cmd_init, "--dir DIR [--hostname H]... [--range4 CIDR] [--range6 CIDR]" },
	{ "serve", cmd_serve, "--dir DIR --policy FILE [--listen ADDR:PORT] [--keepalive SECS] [-v]" },
	{ "setup-key", cmd_setup_key, "create|list|revoke --dir DIR ..." },
	{ "peers", cmd_peers, "list --dir DIR" },
	{ "peer", cmd_peer, "remove NAME --dir DIR" },
	{ "policy", cmd_policy, "reload --dir DIR" },
	{ "status", cmd_status, "--dir DIR   (of the running server)" },
};

void paths_init(struct paths *p, const char *dir)
{
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	snprintf(p->ca_key, sizeof(p->ca_key), "%s/ca.key", dir);
	snprintf(p->ca_crt, sizeof(p->ca_crt), "%s/ca.crt", dir);
	snprintf(p->srv_key, sizeof(p->srv_key), "%s/server.key", dir);
	snprintf(p->srv_crt, sizeof(p->srv_crt), "%s/server.crt", dir);
	snprintf(p->db, sizeof(p->db), "%s/nbmgmt.db", dir);
	snprintf(p->sock, sizeof(p->sock), "%s/nbmgmt.sock", dir);
}

const char *opt_dir(int argc, char **argv)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--dir"))
			return argv[i + 1];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  " PROG " %s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
