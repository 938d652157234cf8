// SPDX-License-Identifier: GPL-2.0
/*
 * nbctl policy: check, compile, test, load, trace and diff YAML policies
 * (Documentation/policy.md). The work is done by the policy library
 * (policy/policy.h); this file is argument handling and output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "policy/policy.h"
#include "lib/desc.h"
#include "lib/nbgnl.h"
#include "lib/rulesfile.h"
#include "tools/nbctl/commands.h"
#include "tools/nbctl/json.h"
#include "tools/nbctl/nbctl_util.h"

static void policy_usage(FILE *f)
{
	fprintf(f,
		"usage: nbctl policy check FILE\n"
		"       nbctl policy compile FILE --as NODE\n"
		"       nbctl policy test FILE\n"
		"       nbctl policy load FILE --as NODE [--expect-generation GEN]\n"
		"       nbctl policy trace FILE SRC DST PROTO [PORT]\n"
		"       nbctl policy trace --live [FILE] SRC DST PROTO [PORT]\n"
		"       nbctl policy diff OLD NEW --as NODE\n"
		"       nbctl policy peers FILE --as NODE\n"
		"SRC and DST are peer names (with FILE) or addresses; PROTO is\n"
		"tcp, udp, icmp, icmpv6, sctp, udplite or a number.\n"
		"--json (before or after the subcommand) prints JSON.\n");
}

struct popts {
	const char *node;
	const char *expect_gen;
	bool live;
	int argc;
	char **argv;		/* positional arguments */
};

/* Options may come anywhere after the subcommand name. */
static int parse_opts(int argc, char **argv, struct popts *o)
{
	static const struct option longopts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ "expect-generation", required_argument, NULL, 'g' },
		{ "live", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->node = optarg;
			break;
		case 'g':
			o->expect_gen = optarg;
			break;
		case 'l':
			o->live = true;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			policy_usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "%s: policy %s: option %s needs an argument\n",
				PROG_NAME, argv[0], argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "%s: policy %s: unknown option %s\n",
				PROG_NAME, argv[0], argv[optind - 1]);
			return -1;
		}
		/* "+" stops at the first non-option; keep scanning past it. */
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

/* getopt with "+" stops at positionals: move options to the front first. */
static char **reorder(int argc, char **argv)
{
	char **v = calloc(argc + 1, sizeof(*v));
	int i, n = 1, k;

	if (!v)
		return NULL;
	v[0] = argv[0];
	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || !argv[i][1])
			continue;
		if (!strcmp(argv[i], "--"))
			break;
		v[n++] = argv[i];
		if ((!strcmp(argv[i], "--as") ||
		     !strcmp(argv[i], "--expect-generation")) && i + 1 < argc)
			v[n++] = argv[++i];
	}
	for (i = 1, k = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			for (i++; i < argc; i++)
				v[n++] = argv[i];
			break;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			if ((!strcmp(argv[i], "--as") ||
			     !strcmp(argv[i], "--expect-generation")) && i + 1 < argc)
				i++;
			continue;
		}
		v[n++] = argv[i];
		k++;
	}
	(void)k;
	v[n] = NULL;
	return v;
}

static void print_diag_json(struct json *j, const struct nbp_diag *d)
{
	size_t i;

	json_arr_begin(j, "messages");
	for (i = 0; i < d->n; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "file", d->msgs[i].file);
		json_u64(j, "line", d->msgs[i].line);
		json_u64(j, "column", d->msgs[i].col);
		json_str(j, "severity", d->msgs[i].sev == NBP_SEV_ERROR ?
			 "error" : "warning");
		json_str(j, "message", d->msgs[i].text);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static struct nbp_policy *load(const char *path, struct nbp_diag *d)
{
	struct nbp_policy *p = nbp_load_file(path, d);

	if (!json_output)
		nbp_diag_print(d, stderr);
	return p;
}

static int need_args(const struct popts *o, int min, int max, const char *cmd)
{
	if (o->argc < min || o->argc > max) {
		fprintf(stderr, "%s: policy %s: wrong number of arguments\n",
			PROG_NAME, cmd);
		policy_usage(stderr);
		return -1;
	}
	return 0;
}

static int need_node(const struct popts *o, const char *cmd)
{
	if (!o->node) {
		fprintf(stderr, "%s: policy %s: --as NODE is required\n",
			PROG_NAME, cmd);
		return -1;
	}
	return 0;
}

/* check FILE: validate, warn, and run the tests section. */
static int do_check(struct popts *o, bool tests_only)
{
	const char *cmd = tests_only ? "test" : "check";
	struct nbp_diag d, td;
	struct nbp_policy *p;
	unsigned int n_run = 0;
	int fails = 0;
	struct json j;

	if (need_args(o, 1, 1, cmd))
		return 1;
	nbp_diag_init(&d);
	nbp_diag_init(&td);
	p = load(o->argv[0], &d);
	if (p) {
		fails = nbp_run_tests(p, &td, &n_run);
		if (!json_output)
			nbp_diag_print(&td, stderr);
	}
	if (json_output) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "file", o->argv[0]);
		json_bool(&j, "valid", p != NULL);
		json_u64(&j, "errors", d.n_errors);
		json_u64(&j, "warnings", d.n_warnings);
		json_u64(&j, "tests_run", n_run);
		json_u64(&j, "tests_failed", fails);
		print_diag_json(&j, &d);
		json_arr_begin(&j, "test_failures");
		for (size_t i = 0; i < td.n; i++) {
			json_obj_begin(&j, NULL);
			json_u64(&j, "line", td.msgs[i].line);
			json_u64(&j, "column", td.msgs[i].col);
			json_str(&j, "message", td.msgs[i].text);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else if (p) {
		if (tests_only || n_run || fails)
			printf("%s: %u test checks, %d failed\n",
			       o->argv[0], n_run, fails);
		if (!tests_only)
			printf("%s: ok: %zu peers, %zu groups, %zu rules, %u warnings\n",
			       o->argv[0], nbp_peer_count(p), nbp_group_count(p),
			       nbp_rule_count(p), d.n_warnings);
	}
	nbp_diag_free(&d);
	nbp_diag_free(&td);
	nbp_free(p);
	return p && !fails ? 0 : 1;
}

static int compile_for(const char *path, const char *node,
		       struct nbp_policy **pp, struct nbg_ruleset_desc *desc)
{
	struct nbp_diag d;
	int rc = -1;

	nbp_diag_init(&d);
	*pp = nbp_load_file(path, &d);
	if (*pp && !nbp_compile(*pp, node, desc, &d))
		rc = 0;
	/* Lint warnings belong to `check`; here only what stops us. */
	if (rc || d.n_errors) {
		nbp_diag_print(&d, stderr);
	} else {
		size_t i;

		for (i = 0; i < d.n; i++)
			if (d.msgs[i].line == 0 || strstr(d.msgs[i].text, "node"))
				fprintf(stderr, "%s: warning: %s\n",
					d.msgs[i].file, d.msgs[i].text);
	}
	nbp_diag_free(&d);
	if (rc) {
		nbp_free(*pp);
		*pp = NULL;
	}
	return rc;
}

static int do_compile(struct popts *o)
{
	struct nbg_ruleset_desc desc;
	struct nbp_policy *p;

	if (need_args(o, 1, 1, "compile") || need_node(o, "compile"))
		return 1;
	if (compile_for(o->argv[0], o->node, &p, &desc))
		return 1;
	printf("# nbguard ruleset compiled from %s for %s: %u identities, %u rules\n",
	       o->argv[0], o->node, desc.n_idents, desc.n_rules);
	nbp_desc_print(p, &desc, stdout);
	nbp_desc_free(&desc);
	nbp_free(p);
	return 0;
}

static int do_load(struct popts *o)
{
	struct nbg_load_opts lo = { 0 };
	struct nbg_ruleset_desc desc;
	unsigned long long eg;
	struct nbp_policy *p;
	struct nbg_nl *nl;
	u64 gen = 0, expect;
	int err;

	if (need_args(o, 1, 1, "load") || need_node(o, "load"))
		return 1;
	if (o->expect_gen) {
		if (!nbctl_parse_u64(o->expect_gen, &eg)) {
			fprintf(stderr, "%s: policy load: bad generation '%s'\n",
				PROG_NAME, o->expect_gen);
			return 1;
		}
		expect = eg;
		lo.expect_gen = &expect;
	}
	if (compile_for(o->argv[0], o->node, &p, &desc))
		return 1;
	nl = nbctl_open();
	if (!nl) {
		err = 1;
		goto out;
	}
	err = nbg_nl_load(nl, &desc, &lo, &gen);
	if (err) {
		nbctl_nl_error(nl, "policy load", err);
	} else if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "node", o->node);
		json_u64(&j, "identities", desc.n_idents);
		json_u64(&j, "rules", desc.n_rules);
		json_u64(&j, "generation", gen);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("loaded %s for %s: %u identities, %u rules, generation %llu\n",
		       o->argv[0], o->node, desc.n_idents, desc.n_rules,
		       (unsigned long long)gen);
	}
	nbg_nl_close(nl);
out:
	nbp_desc_free(&desc);
	nbp_free(p);
	return err ? 1 : 0;
}

/* Resolve SRC and DST (peer names need the policy) to one family. */
static int resolve_pair(const struct nbp_policy *p, const char *s,
			const char *d, struct nbp_addr *sa, struct nbp_addr *da)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	int k;

	for (k = 0; k < 2; k++) {
		if (p) {
			if (nbp_resolve(p, s, fams[k], sa) ||
			    nbp_resolve(p, d, fams[k], da))
				continue;
		} else {
			if (nbp_addr_parse(s, sa) || nbp_addr_parse(d, da) ||
			    sa->family != fams[k] || da->family != fams[k])
				continue;
		}
		return 0;
	}
	fprintf(stderr, "%s: policy trace: cannot resolve '%s' and '%s' to addresses of one family%s\n",
		PROG_NAME, s, d, p ? "" : " (peer names need the policy file)");
	return -1;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

static void print_trace(const struct nbp_policy *p, const char *how,
			const char *s, const char *d, const char *proto,
			unsigned int port, u8 action, u32 rule_id, u32 ident)
{
	const char *name = p && rule_id ? nbp_rule_name(p, rule_id) : NULL;
	bool rev = false;

	if (p && rule_id)
		nbp_rule_index(p, rule_id, &rev);
	if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "source", s);
		json_str(&j, "destination", d);
		json_str(&j, "protocol", proto);
		json_u64(&j, "port", port);
		json_str(&j, "evaluator", how);
		json_str(&j, "verdict", action == NBG_ACTION_ALLOW ? "allow" : "deny");
		json_u64(&j, "rule_id", rule_id);
		if (name)
			json_str(&j, "rule", name);
		else
			json_null(&j, "rule");
		json_bool(&j, "reverse", rev);
		if (ident)
			json_u64(&j, "identity", ident);
		json_obj_end(&j);
		json_finish(&j);
		return;
	}
	printf("%s %s -> %s %s", action == NBG_ACTION_ALLOW ? "allow" : "deny",
	       s, d, proto);
	if (port)
		printf(" port %u", port);
	if (!rule_id)
		printf(": default (no rule matched)");
	else if (name)
		printf(": rule %s (id %u%s)", name, rule_id, rev ? ", reverse" : "");
	else
		printf(": rule id %u", rule_id);
	printf(" [%s]\n", how);
}

static int do_trace(struct popts *o)
{
	struct nbp_policy *p = NULL;
	struct nbp_addr sa, da;
	struct nbp_diag d;
	unsigned long port = 0;
	const char *file = NULL, *proto_s, *s, *dd;
	char **a = o->argv;
	int n = o->argc, rc = 1;
	bool any;
	u8 proto;

	if (!o->live || (n >= 1 && is_file(a[0]) && n >= 4)) {
		if (n < 1) {
			policy_usage(stderr);
			return 1;
		}
		file = a[0];
		a++;
		n--;
	}
	if (n < 3 || n > 4) {
		fprintf(stderr, "%s: policy trace: need SRC DST PROTO [PORT]\n",
			PROG_NAME);
		return 1;
	}
	s = a[0];
	dd = a[1];
	proto_s = a[2];
	if (nbp_proto_parse(proto_s, &any, &proto) || any) {
		fprintf(stderr, "%s: policy trace: unknown protocol '%s'\n",
			PROG_NAME, proto_s);
		return 1;
	}
	if (n == 4) {
		char *end;

		port = strtoul(a[3], &end, 10);
		if (*end || port < 1 || port > 65535) {
			fprintf(stderr, "%s: policy trace: bad port '%s'\n",
				PROG_NAME, a[3]);
			return 1;
		}
	}
	nbp_diag_init(&d);
	if (file) {
		p = load(file, &d);
		if (!p)
			goto out;
	}
	if (resolve_pair(p, s, dd, &sa, &da))
		goto out;
	if (o->live) {
		struct nbg_pkt pkt = { 0 };
		struct nbg_verdict v;
		struct nbg_nl *nl = nbctl_open();
		int err;

		if (!nl)
			goto out;
		pkt.family = sa.family;
		pkt.proto = proto;
		pkt.direction = NBG_DIR_IN;
		pkt.dport = port;
		memcpy(pkt.saddr.raw, sa.addr, 16);
		memcpy(pkt.daddr.raw, da.addr, 16);
		err = nbg_nl_trace(nl, &pkt, &v);
		if (err) {
			nbctl_nl_error(nl, "policy trace", err);
			nbg_nl_close(nl);
			goto out;
		}
		nbg_nl_close(nl);
		print_trace(p, "kernel", s, dd, proto_s, port, v.action,
			    v.rule_id, v.ident_id);
	} else {
		struct nbp_packet pkt = { 0 };
		struct nbp_result r;

		pkt.family = sa.family;
		pkt.proto = proto;
		pkt.dport = port;
		memcpy(pkt.saddr, sa.addr, 16);
		memcpy(pkt.daddr, da.addr, 16);
		nbp_eval(p, &pkt, &r);
		print_trace(p, "policy", s, dd, proto_s, port, r.action,
			    r.rule_id, 0);
	}
	rc = 0;
out:
	nbp_diag_free(&d);
	nbp_free(p);
	return rc;
}

/* Line-level diff of two sorted descriptions, rules named from their policy. */
static void diff_line(char sign, char *line, const struct nbp_policy *p, u32 rule_id)
{
	const char *name = rule_id ? nbp_rule_name(p, rule_id) : NULL;

	if (name)
		printf("%c %s    # %s\n", sign, line ? line : "?", name);
	else
		printf("%c %s\n", sign, line ? line : "?");
	free(line);
}

static void print_diff(const struct nbp_policy *pa, const struct nbg_ruleset_desc *a,
		       const struct nbp_policy *pb, const struct nbg_ruleset_desc *b)
{
	u32 i = 0, j = 0;

	while (i < a->n_idents || j < b->n_idents) {
		const struct nbg_ident_desc *x = i < a->n_idents ? &a->idents[i] : NULL;
		const struct nbg_ident_desc *y = j < b->n_idents ? &b->idents[j] : NULL;

		if (x && (!y || x->id < y->id)) {
			diff_line('-', nbg_ident_to_string(x), pa, 0);
			i++;
		} else if (y && (!x || y->id < x->id)) {
			diff_line('+', nbg_ident_to_string(y), pb, 0);
			j++;
		} else {
			if (nbg_ident_cmp(x, y)) {
				diff_line('-', nbg_ident_to_string(x), pa, 0);
				diff_line('+', nbg_ident_to_string(y), pb, 0);
			}
			i++;
			j++;
		}
	}
	i = j = 0;
	while (i < a->n_rules || j < b->n_rules) {
		const struct nbg_rule_desc *x = i < a->n_rules ? &a->rules[i] : NULL;
		const struct nbg_rule_desc *y = j < b->n_rules ? &b->rules[j] : NULL;

		if (x && (!y || x->id < y->id)) {
			diff_line('-', nbg_rule_to_string(x), pa, x->id);
			i++;
		} else if (y && (!x || y->id < x->id)) {
			diff_line('+', nbg_rule_to_string(y), pb, y->id);
			j++;
		} else {
			if (nbg_rule_cmp(x, y)) {
				diff_line('-', nbg_rule_to_string(x), pa, x->id);
				diff_line('+', nbg_rule_to_string(y), pb, y->id);
			}
			i++;
			j++;
		}
	}
}

static int do_diff(struct popts *o)
{
	struct nbg_ruleset_desc a, b;
	struct nbp_policy *pa, *pb;
	struct nbg_desc_diff df;
	int rc = 1;

	if (need_args(o, 2, 2, "diff") || need_node(o, "diff"))
		return 1;
	if (compile_for(o->argv[0], o->node, &pa, &a))
		return 1;
	if (compile_for(o->argv[1], o->node, &pb, &b)) {
		nbp_desc_free(&a);
		nbp_free(pa);
		return 1;
	}
	if (nbg_desc_diff(&a, &b, &df))
		goto out;
	if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "node", o->node);
		json_u64(&j, "identities_added", df.idents_added);
		json_u64(&j, "identities_removed", df.idents_removed);
		json_u64(&j, "identities_changed", df.idents_changed);
		json_u64(&j, "rules_added", df.rules_added);
		json_u64(&j, "rules_removed", df.rules_removed);
		json_u64(&j, "rules_changed", df.rules_changed);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		size_t i;

		printf("# %s -> %s for %s: identities +%u -%u ~%u, rules +%u -%u ~%u\n",
		       o->argv[0], o->argv[1], o->node, df.idents_added,
		       df.idents_removed, df.idents_changed, df.rules_added,
		       df.rules_removed, df.rules_changed);
		/* Rule names from both sides, for the ids the diff prints. */
		for (i = 0; i < nbp_rule_count(pa) || i < nbp_rule_count(pb); i++) {
			const char *na = nbp_rule_name_at(pa, i);
			const char *nb = nbp_rule_name_at(pb, i);

			if (na && nb && strcmp(na, nb))
				printf("# rule ids %zu/%zu: %s -> %s\n",
				       2 * i + 1, 2 * i + 2, na, nb);
		}
		print_diff(pa, &a, pb, &b);
	}
	rc = 0;
out:
	nbp_desc_free(&a);
	nbp_desc_free(&b);
	nbp_free(pa);
	nbp_free(pb);
	return rc;
}

static void peer_cb(const struct nbp_policy *p, size_t i, unsigned int flags,
		    void *ctx)
{
	struct json *j = ctx;
	const char *dir = flags == (NBP_CONN_IN | NBP_CONN_OUT) ? "both" :
			  flags & NBP_CONN_IN ? "in" : "out";

	if (j) {
		json_obj_begin(j, NULL);
		json_str(j, "peer", nbp_peer_name(p, i));
		json_str(j, "direction", dir);
		json_obj_end(j);
	} else {
		printf("%s %s\n", nbp_peer_name(p, i), dir);
	}
}

static int do_peers(struct popts *o)
{
	struct nbp_policy *p;
	struct nbp_diag d;
	struct json j;
	int n;

	if (need_args(o, 1, 1, "peers") || need_node(o, "peers"))
		return 1;
	nbp_diag_init(&d);
	p = nbp_load_file(o->argv[0], &d);
	if (!p) {
		nbp_diag_print(&d, stderr);
		nbp_diag_free(&d);
		return 1;
	}
	nbp_diag_free(&d);
	if (json_output) {
		json_init(&j, stdout);
		json_arr_begin(&j, NULL);
	}
	n = nbp_connected_peers(p, o->node, peer_cb, json_output ? &j : NULL);
	if (json_output) {
		json_arr_end(&j);
		json_finish(&j);
	}
	if (n < 0)
		fprintf(stderr, "%s: policy peers: unknown node '%s'\n",
			PROG_NAME, o->node);
	nbp_free(p);
	return n < 0;
}

int cmd_policy(int argc, char **argv)
{
	struct popts o;
	char **v;
	int rc;

	while (argc >= 2 && !strcmp(argv[1], "--json")) {
		json_output = true;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		policy_usage(argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	v = reorder(argc - 1, argv + 1);
	if (!v)
		return 1;
	if (parse_opts(argc - 1, v, &o)) {
		free(v);
		return 1;
	}
	if (!strcmp(argv[1], "check"))
		rc = do_check(&o, false);
	else if (!strcmp(argv[1], "test"))
		rc = do_check(&o, true);
	else if (!strcmp(argv[1], "compile"))
		rc = do_compile(&o);
	else if (!strcmp(argv[1], "load"))
		rc = do_load(&o);
	else if (!strcmp(argv[1], "trace"))
		rc = do_trace(&o);
	else if (!strcmp(argv[1], "diff"))
		rc = do_diff(&o);
	else if (!strcmp(argv[1], "peers"))
		rc = do_peers(&o);
	else {
		fprintf(stderr, "%s: policy: unknown subcommand '%s'\n",
			PROG_NAME, argv[1]);
		policy_usage(stderr);
		rc = 1;
	}
	free(v);
	return rc;
}
