// SPDX-License-Identifier: GPL-2.0
/* nbctl stats: per-rule counters, and those of the default verdicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"
#include "policy/policy.h"

static void usage(void)
{
	fprintf(stderr, "Usage: %s [--json] stats [--nonzero] [--policy FILE]\n"
			"       %s stats --reset\n", PROG_NAME, PROG_NAME);
}

/* "rule 3", or "rule 3 ssh" / "rule 4 ssh (reverse)" with a policy. */
static const char *stat_name(const struct nbp_policy *p,
			     const struct nbg_stat *s, char *buf, size_t len)
{
	const char *name;
	bool rev = false;

	name = nbctl_rule_label(p, s->rule_id, &rev);
	if (name)
		snprintf(buf, len, "rule %u %s%s", s->rule_id, name,
			 rev ? " (reverse)" : "");
	else if (s->rule_id)
		snprintf(buf, len, "rule %u", s->rule_id);
	else
		snprintf(buf, len, "default %s", s->direction == NBG_DIR_OUT ? "out" : "in");
	return buf;
}

int cmd_stats(int argc, char **argv)
{
	bool nonzero = false, reset = false;
	const char *policy = NULL;
	struct nbp_policy *p = NULL;
	struct nbg_stat *st = NULL;
	struct nbg_nl *nl;
	struct json j;
	size_t n = 0, k;
	char name[128];
	int i, ret, width = 16;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--nonzero"))
			nonzero = true;
		else if (!strcmp(argv[i], "--reset"))
			reset = true;
		else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			policy = argv[++i];
		else {
			usage();
			return 1;
		}
	}
	if (reset && (nonzero || policy)) {
		usage();
		return 1;
	}
	if (policy) {
		p = nbctl_load_policy(policy);
		if (!p)
			return 1;
	}
	nl = nbctl_open();
	if (!nl) {
		nbp_free(p);
		return 1;
	}
	if (reset) {
		ret = nbg_nl_stats_reset(nl);
		if (ret)
			nbctl_nl_error(nl, "stats reset", ret);
		goto out;
	}
	ret = nbg_nl_stats_get(nl, &st, &n);
	if (ret) {
		nbctl_nl_error(nl, "stats", ret);
		goto out;
	}
	if (json_output) {
		json_init(&j, stdout);
		json_arr_begin(&j, NULL);
	} else {
		/* Widen the first column for the longest rule name. */
		for (k = 0; p && k < n; k++) {
			int w = strlen(stat_name(p, &st[k], name, sizeof(name)));

			if (w > width)
				width = w;
		}
		printf("%-*s %14s %16s\n", width, "rule", "packets", "bytes");
	}
	for (k = 0; k < n; k++) {
		if (nonzero && !st[k].packets && !st[k].bytes)
			continue;
		if (json_output) {
			json_obj_begin(&j, NULL);
			if (st[k].rule_id)
				json_u64(&j, "rule", st[k].rule_id);
			else
				json_str(&j, "rule", "default");
			if (!st[k].rule_id)
				json_str(&j, "direction",
					 st[k].direction == NBG_DIR_OUT ? "out" : "in");
			nbctl_json_rule_name(&j, p, st[k].rule_id);
			json_u64(&j, "packets", st[k].packets);
			json_u64(&j, "bytes", st[k].bytes);
			json_obj_end(&j);
		} else {
			printf("%-*s %14llu %16llu\n", width,
			       stat_name(p, &st[k], name, sizeof(name)),
			       (unsigned long long)st[k].packets,
			       (unsigned long long)st[k].bytes);
		}
	}
	if (json_output) {
		json_arr_end(&j);
		json_finish(&j);
	}
out:
	free(st);
	nbp_free(p);
	nbg_nl_close(nl);
	return ret ? 1 : 0;
}
