// SPDX-License-Identifier: GPL-2.0
/* nbctl config set: default verdicts and the deny event rate limit. */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "nbctl_util.h"

static void usage(void)
{
	fprintf(stderr,
		"Usage: %s config set default-in|default-out allow|deny\n"
		"       %s config set event-rate N [burst M]\n", PROG_NAME, PROG_NAME);
}

static bool parse_action(const char *s, u8 *a)
{
	if (!strcmp(s, "allow"))
		*a = NBG_ACTION_ALLOW;
	else if (!strcmp(s, "deny"))
		*a = NBG_ACTION_DENY;
	else
		return false;
	return true;
}

int cmd_config(int argc, char **argv)
{
	struct nbg_config cfg = { 0 };
	struct nbg_nl *nl;
	unsigned int v;
	int ret;

	if (argc < 4 || strcmp(argv[1], "set")) {
		usage();
		return 1;
	}
	if (!strcmp(argv[2], "default-in") || !strcmp(argv[2], "default-out")) {
		bool in = !strcmp(argv[2], "default-in");

		if (argc != 4 || !parse_action(argv[3], in ? &cfg.default_in : &cfg.default_out)) {
			fprintf(stderr, "%s: config set %s: expected 'allow' or 'deny'\n",
				PROG_NAME, argv[2]);
			return 1;
		}
		cfg.mask = in ? NBG_CFG_DEFAULT_IN : NBG_CFG_DEFAULT_OUT;
	} else if (!strcmp(argv[2], "event-rate")) {
		if (!nbctl_parse_u32(argv[3], &v)) {
			fprintf(stderr, "%s: config set event-rate: '%s' is not a number\n",
				PROG_NAME, argv[3]);
			return 1;
		}
		cfg.mask = NBG_CFG_EVENT_RATE;
		cfg.event_rate = v;
		if (argc == 6 && !strcmp(argv[4], "burst")) {
			if (!nbctl_parse_u32(argv[5], &v)) {
				fprintf(stderr, "%s: config set event-rate: burst '%s' is not a number\n",
					PROG_NAME, argv[5]);
				return 1;
			}
			cfg.mask |= NBG_CFG_EVENT_BURST;
			cfg.event_burst = v;
		} else if (argc != 4) {
			usage();
			return 1;
		}
	} else {
		fprintf(stderr, "%s: config set: unknown key '%s'\n", PROG_NAME, argv[2]);
		usage();
		return 1;
	}
	nl = nbctl_open();
	if (!nl)
		return 1;
	ret = nbg_nl_set_config(nl, &cfg);
	if (ret)
		nbctl_nl_error(nl, "config set", ret);
	nbg_nl_close(nl);
	return ret ? 1 : 0;
}
