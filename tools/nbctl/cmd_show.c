// SPDX-License-Identifier: GPL-2.0
/* nbctl show: the state of this namespace's nbguard instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"

static void print_dev_flags(FILE *f, const struct nbg_dev *d)
{
	if (d->flags & NBG_DEV_F_OUTBOUND)
		fputs(" outbound", f);
	if (d->flags & NBG_DEV_F_ANY_KIND)
		fputs(" any-kind", f);
}

static void show_json(const struct nbg_status *st, const struct nbg_dev *devs, size_t n)
{
	struct json j;
	size_t k;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_u64(&j, "generation", st->generation);
	json_str(&j, "default_in", nbctl_action_name(st->default_in));
	json_str(&j, "default_out", nbctl_action_name(st->default_out));
	json_u64(&j, "identities", st->n_identities);
	json_u64(&j, "max_identities", st->max_identities);
	json_u64(&j, "rules", st->n_rules);
	json_u64(&j, "max_rules", st->max_rules);
	json_u64(&j, "mem_bytes", st->mem_bytes);
	json_u64(&j, "event_rate", st->event_rate);
	json_u64(&j, "event_burst", st->event_burst);
	json_u64(&j, "events_dropped", st->events_dropped);
	json_arr_begin(&j, "devices");
	for (k = 0; k < n; k++)
		nbctl_json_dev(&j, &devs[k]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static void show_text(const struct nbg_status *st, const struct nbg_dev *devs, size_t n)
{
	size_t k;

	printf("generation:     %llu\n", (unsigned long long)st->generation);
	printf("default:        in %s, out %s\n", nbctl_action_name(st->default_in),
	       nbctl_action_name(st->default_out));
	printf("identities:     %u (max %u)\n", st->n_identities, st->max_identities);
	printf("rules:          %u (max %u)\n", st->n_rules, st->max_rules);
	printf("memory:         %llu bytes\n", (unsigned long long)st->mem_bytes);
	if (st->event_rate)
		printf("deny events:    %u/s, burst %u\n", st->event_rate, st->event_burst);
	else
		printf("deny events:    off\n");
	printf("events dropped: %llu\n", (unsigned long long)st->events_dropped);
	printf("devices:       ");
	if (!n)
		printf(" (none)");
	for (k = 0; k < n; k++) {
		printf(" %s", devs[k].ifname);
		if (devs[k].kind[0] || devs[k].flags) {
			printf(" (%s", devs[k].kind[0] ? devs[k].kind : "?");
			print_dev_flags(stdout, &devs[k]);
			printf(")");
		}
		if (k + 1 < n)
			printf(",");
	}
	printf("\n");
}

int cmd_show(int argc, char **argv)
{
	struct nbg_dev *devs = NULL;
	struct nbg_status st;
	struct nbg_nl *nl;
	size_t n = 0;
	int ret;

	if (argc != 1) {
		fprintf(stderr, "Usage: %s [--json] show\n", PROG_NAME);
		return 1;
	}
	nl = nbctl_open();
	if (!nl)
		return 1;
	ret = nbg_nl_get_status(nl, &st);
	if (ret) {
		nbctl_nl_error(nl, "show", ret);
		goto out;
	}
	ret = nbg_nl_dev_list(nl, &devs, &n);
	if (ret) {
		nbctl_nl_error(nl, "show: devices", ret);
		goto out;
	}
	if (json_output)
		show_json(&st, devs, n);
	else
		show_text(&st, devs, n);
out:
	free(devs);
	nbg_nl_close(nl);
	return ret ? 1 : 0;
}
