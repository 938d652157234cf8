// SPDX-License-Identifier: GPL-2.0
/* nbctl rules load|dump: replace or print the running ruleset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"
#include "lib/rulesfile.h"

static void usage(void)
{
	fprintf(stderr,
		"Usage: %s rules load FILE|- [--expect-generation N]\n"
		"       %s [--json] rules dump\n", PROG_NAME, PROG_NAME);
}

static int rules_load(int argc, char **argv)
{
	struct nbg_load_opts opts = { 0 };
	struct nbg_ruleset_desc d;
	struct nbg_defaults defs;
	unsigned long long expect;
	char err[NBG_ERR_MAX];
	const char *path = NULL;
	struct nbg_nl *nl;
	u64 gen = 0, eg;
	int i, ret;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-generation")) {
			if (++i >= argc || !nbctl_parse_u64(argv[i], &expect)) {
				fprintf(stderr, "%s: rules load: --expect-generation needs a number\n",
					PROG_NAME);
				return 1;
			}
			eg = expect;
			opts.expect_gen = &eg;
		} else if (!path && (strcmp(argv[i], "-") == 0 || argv[i][0] != '-')) {
			path = argv[i];
		} else {
			usage();
			return 1;
		}
	}
	if (!path) {
		usage();
		return 1;
	}
	nbg_desc_init(&d);
	ret = nbg_rules_parse_file(path, &d, &defs, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: %s\n", PROG_NAME, err);
		return 1;
	}
	nl = nbctl_open();
	if (!nl) {
		nbg_desc_free(&d);
		return 1;
	}
	ret = nbg_nl_load(nl, &d, &opts, &gen);
	if (ret) {
		nbctl_nl_error(nl, "rules load", ret);
		goto out;
	}
	/* The defaults are namespace settings, not part of the ruleset
	 * transaction: apply them once the ruleset is in. */
	if (defs.has_in || defs.has_out) {
		struct nbg_config cfg = {
			.mask = (defs.has_in ? NBG_CFG_DEFAULT_IN : 0) |
				(defs.has_out ? NBG_CFG_DEFAULT_OUT : 0),
			.default_in = defs.in,
			.default_out = defs.out,
		};

		ret = nbg_nl_set_config(nl, &cfg);
		if (ret) {
			nbctl_nl_error(nl, "rules load: setting the defaults", ret);
			goto out;
		}
	}
	printf("generation %llu\n", (unsigned long long)gen);
out:
	nbg_nl_close(nl);
	nbg_desc_free(&d);
	return ret ? 1 : 0;
}

static void json_sel(struct json *j, const char *key, const struct nbg_selector *s)
{
	char buf[NBG_PREFIX_STRLEN];
	u32 k;

	if (nbg_selector_is_any(s)) {
		json_str(j, key, "any");
		return;
	}
	json_obj_begin(j, key);
	json_arr_begin(j, "idents");
	for (k = 0; k < s->n_idents; k++)
		json_u64(j, NULL, s->idents[k]);
	json_arr_end(j);
	json_arr_begin(j, "groups");
	for (k = 0; k < s->n_groups; k++)
		json_u64(j, NULL, s->groups[k]);
	json_arr_end(j);
	json_arr_begin(j, "prefixes");
	for (k = 0; k < s->n_prefixes; k++)
		json_str(j, NULL, nbg_prefix_format(&s->prefixes[k], buf, sizeof(buf)));
	json_arr_end(j);
	json_obj_end(j);
}

static void dump_json(const struct nbg_ruleset_desc *d, u64 gen,
		      const struct nbg_status *st)
{
	char buf[NBG_PREFIX_STRLEN];
	struct json j;
	u32 n, k;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_u64(&j, "generation", gen);
	json_str(&j, "default_in", nbctl_action_name(st->default_in));
	json_str(&j, "default_out", nbctl_action_name(st->default_out));
	json_arr_begin(&j, "identities");
	for (n = 0; n < d->n_idents; n++) {
		const struct nbg_ident_desc *i = &d->idents[n];

		json_obj_begin(&j, NULL);
		json_u64(&j, "id", i->id);
		json_str(&j, "name", i->name);
		json_arr_begin(&j, "prefixes");
		for (k = 0; k < i->n_prefixes; k++)
			json_str(&j, NULL, nbg_prefix_format(&i->prefixes[k], buf, sizeof(buf)));
		json_arr_end(&j);
		json_arr_begin(&j, "groups");
		for (k = 0; k < i->n_groups; k++)
			json_u64(&j, NULL, i->groups[k]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "rules");
	for (n = 0; n < d->n_rules; n++) {
		const struct nbg_rule_desc *r = &d->rules[n];
		const char *pn;

		json_obj_begin(&j, NULL);
		json_u64(&j, "id", r->id);
		json_str(&j, "action", nbctl_action_name(r->action));
		json_str(&j, "direction", r->direction == NBG_DIR_OUT ? "out" : "in");
		if (r->proto_any) {
			json_null(&j, "proto");
		} else {
			pn = nbg_proto_name(r->proto);
			if (pn)
				json_str(&j, "proto", pn);
			else
				json_u64(&j, "proto", r->proto);
		}
		json_sel(&j, "src", &r->src);
		json_sel(&j, "dst", &r->dst);
		json_arr_begin(&j, "ports");
		for (k = 0; k < r->n_ports; k++) {
			json_obj_begin(&j, NULL);
			json_u64(&j, "lo", r->ports[k].lo);
			json_u64(&j, "hi", r->ports[k].hi);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static int rules_dump(int argc, char **argv)
{
	struct nbg_ruleset_desc d;
	struct nbg_status st;
	struct nbg_nl *nl;
	u64 gen = 0;
	int ret;

	if (argc != 2) {
		usage();
		return 1;
	}
	nl = nbctl_open();
	if (!nl)
		return 1;
	nbg_desc_init(&d);
	ret = nbg_nl_dump_ruleset(nl, &d, &gen);
	if (ret) {
		nbctl_nl_error(nl, "rules dump", ret);
		goto out;
	}
	ret = nbg_nl_get_status(nl, &st);
	if (ret) {
		nbctl_nl_error(nl, "rules dump: status", ret);
		goto out;
	}
	if (json_output) {
		nbg_desc_canonicalize(&d);
		dump_json(&d, gen, &st);
	} else {
		struct nbg_defaults defs = {
			.has_in = true, .has_out = true,
			.in = st.default_in, .out = st.default_out,
		};

		printf("# nbguard ruleset, generation %llu\n", (unsigned long long)gen);
		ret = nbg_rules_print(stdout, &d, &defs);
		if (ret)
			fprintf(stderr, "%s: rules dump: %s\n", PROG_NAME, strerror(-ret));
	}
out:
	nbg_desc_free(&d);
	nbg_nl_close(nl);
	return ret ? 1 : 0;
}

int cmd_rules(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return rules_load(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "dump"))
		return rules_dump(argc, argv);
	usage();
	return 1;
}
