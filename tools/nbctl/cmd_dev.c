// SPDX-License-Identifier: GPL-2.0
/* nbctl dev add|del|show: which interfaces nbguard guards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"

static void usage(void)
{
	fprintf(stderr,
		"Usage: %s dev add IFNAME [--any-kind] [--outbound]\n"
		"       %s dev del IFNAME\n"
		"       %s [--json] dev show\n", PROG_NAME, PROG_NAME, PROG_NAME);
}

static int dev_show(struct nbg_nl *nl)
{
	struct nbg_dev *devs;
	struct json j;
	size_t n, k;
	int ret;

	ret = nbg_nl_dev_list(nl, &devs, &n);
	if (ret) {
		nbctl_nl_error(nl, "dev show", ret);
		return 1;
	}
	if (json_output) {
		json_init(&j, stdout);
		json_arr_begin(&j, NULL);
		for (k = 0; k < n; k++)
			nbctl_json_dev(&j, &devs[k]);
		json_arr_end(&j);
		json_finish(&j);
	} else {
		for (k = 0; k < n; k++) {
			printf("%s ifindex %u kind %s%s%s\n", devs[k].ifname, devs[k].ifindex,
			       devs[k].kind[0] ? devs[k].kind : "?",
			       devs[k].flags & NBG_DEV_F_OUTBOUND ? " outbound" : "",
			       devs[k].flags & NBG_DEV_F_ANY_KIND ? " any-kind" : "");
		}
	}
	free(devs);
	return 0;
}

int cmd_dev(int argc, char **argv)
{
	struct nbg_nl *nl;
	u32 flags = 0;
	int i, ret = 0;
	char what[64];

	if (argc < 2 || (!strcmp(argv[1], "show") && argc != 2) ||
	    (strcmp(argv[1], "show") && argc < 3)) {
		usage();
		return 1;
	}
	if (!strcmp(argv[1], "add")) {
		for (i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--any-kind"))
				flags |= NBG_DEV_F_ANY_KIND;
			else if (!strcmp(argv[i], "--outbound"))
				flags |= NBG_DEV_F_OUTBOUND;
			else {
				fprintf(stderr, "%s: dev add: unknown option '%s'\n",
					PROG_NAME, argv[i]);
				usage();
				return 1;
			}
		}
	} else if (!strcmp(argv[1], "del")) {
		if (argc != 3) {
			usage();
			return 1;
		}
	} else if (strcmp(argv[1], "show")) {
		fprintf(stderr, "%s: dev: unknown subcommand '%s'\n", PROG_NAME, argv[1]);
		usage();
		return 1;
	}
	if (argc > 2 && strlen(argv[2]) >= IF_NAMESIZE) {
		fprintf(stderr, "%s: dev %s: interface name '%s' is too long\n",
			PROG_NAME, argv[1], argv[2]);
		return 1;
	}
	nl = nbctl_open();
	if (!nl)
		return 1;
	if (!strcmp(argv[1], "show")) {
		ret = dev_show(nl);
		nbg_nl_close(nl);
		return ret;
	}
	if (!strcmp(argv[1], "add"))
		ret = nbg_nl_dev_add(nl, argv[2], flags);
	else
		ret = nbg_nl_dev_del(nl, argv[2]);
	if (ret) {
		snprintf(what, sizeof(what), "dev %s %s", argv[1], argv[2]);
		nbctl_nl_error(nl, what, ret);
	}
	nbg_nl_close(nl);
	return ret ? 1 : 0;
}
