// SPDX-License-Identifier: GPL-2.0
/*
 * nbctl: configure the nbguard module. One file per subcommand group, as
 * in wireguard-tools; this file only dispatches.
 */
#include <stdio.h>
#include <string.h>
#include "commands.h"

const char *PROG_NAME = "nbctl";
bool json_output;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "show", cmd_show, "show                                generation, counts, defaults, devices" },
	{ "dev", cmd_dev, "dev add|del IFNAME, dev show        guarded interfaces" },
	{ "rules", cmd_rules, "rules load FILE|-, rules dump       replace or print the ruleset" },
	{ "stats", cmd_stats, "stats [--nonzero|--reset] [--policy F] per-rule counters, rule names" },
	{ "monitor", cmd_monitor, "monitor [--count N] [--timeout S]   print deny events (--policy F: names)" },
	{ "flush", cmd_flush, "flush                               install an empty ruleset" },
	{ "config", cmd_config, "config set KEY VALUE                default-in, default-out, event-rate" },
	{ "trace", cmd_trace, "trace SRC DST PROTO [DPORT] [--out] which rule decides a packet" },
	{ "policy", cmd_policy, "policy ...                          YAML policies (nbctl policy help)" },
	{ "status", cmd_status, "status ...                          control-plane status" },
};

static void show_usage(FILE *f)
{
	size_t k;

	fprintf(f, "Usage: %s [--json] <command> [<args>]\n\nCommands:\n", PROG_NAME);
	for (k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]); k++)
		fprintf(f, "  %s\n", subcommands[k].help);
	fprintf(f, "  help                                this text\n\n"
		   "--json makes read commands (show, dev show, rules dump, stats,\n"
		   "monitor, trace) print JSON. See Documentation/nbctl.md.\n");
}

/* The policy and status groups live in files other engineers own; these
 * defaults keep nbctl linking before (or without) them. */
__attribute__((weak)) int cmd_policy(int argc, char **argv)
{
	fprintf(stderr, "%s: policy: not built into this nbctl\n", PROG_NAME);
	return 1;
}

__attribute__((weak)) int cmd_status(int argc, char **argv)
{
	fprintf(stderr, "%s: status: not built into this nbctl\n", PROG_NAME);
	return 1;
}

/* Remove "--json" from argv[1..] (our own groups accept it anywhere). */
static int strip_json(int argc, char **argv)
{
	int i, o = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json_output = true;
		else
			argv[o++] = argv[i];
	}
	argv[o] = NULL;
	return o;
}

int main(int argc, char **argv)
{
	size_t k;

	argv++, argc--;
	while (argc > 0 && !strcmp(argv[0], "--json")) {
		json_output = true;
		argv++, argc--;
	}
	if (argc < 1) {
		show_usage(stderr);
		return 1;
	}
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "-h")) {
		show_usage(stdout);
		return 0;
	}
	for (k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]); k++) {
		if (strcmp(argv[0], subcommands[k].name))
			continue;
		if (subcommands[k].fn != cmd_policy && subcommands[k].fn != cmd_status)
			argc = strip_json(argc, argv);
		return subcommands[k].fn(argc, argv);
	}
	fprintf(stderr, "%s: invalid command '%s'\n", PROG_NAME, argv[0]);
	show_usage(stderr);
	return 1;
}
