// SPDX-License-Identifier: GPL-2.0
/* nbctl flush: install an empty ruleset (only the defaults then apply). */
#include <stdio.h>
#include "commands.h"
#include "nbctl_util.h"

int cmd_flush(int argc, char **argv)
{
	struct nbg_status st;
	struct nbg_nl *nl;
	int ret;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s flush\n", PROG_NAME);
		return 1;
	}
	nl = nbctl_open();
	if (!nl)
		return 1;
	ret = nbg_nl_flush(nl);
	if (ret) {
		nbctl_nl_error(nl, "flush", ret);
	} else if (!nbg_nl_get_status(nl, &st)) {
		printf("generation %llu\n", (unsigned long long)st.generation);
	}
	nbg_nl_close(nl);
	return ret ? 1 : 0;
}
