// SPDX-License-Identifier: GPL-2.0
/* nbctl trace: ask the module which rule decides a packet (NBG_CMD_TRACE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"
#include "lib/rulesfile.h"

static void usage(void)
{
	fprintf(stderr,
		"Usage: %s [--json] trace SRC DST PROTO [DPORT] [--sport N] [--out]\n"
		"  in (default): SRC is the remote peer, DST a local address;\n"
		"  --out:        SRC is a local address, DST the remote peer.\n",
		PROG_NAME);
}

static bool parse_addr(const char *s, u8 *family, u8 *raw)
{
	if (inet_pton(AF_INET, s, raw) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, raw) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static bool parse_port(const char *s, u16 *port)
{
	unsigned int v;

	if (!nbctl_parse_u32(s, &v) || v > 65535)
		return false;
	*port = v;
	return true;
}

int cmd_trace(int argc, char **argv)
{
	const struct nbg_ident_desc *ident = NULL;
	const struct nbg_rule_desc *rule = NULL;
	const char *pos[4] = { 0 };
	struct nbg_ruleset_desc d;
	struct nbg_pkt p = { 0 };
	struct nbg_verdict v;
	struct nbg_nl *nl;
	char *rule_text = NULL;
	int i, npos = 0, ret;
	u8 fam2;

	p.direction = NBG_DIR_IN;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out")) {
			p.direction = NBG_DIR_OUT;
		} else if (!strcmp(argv[i], "--sport")) {
			if (++i >= argc || !parse_port(argv[i], &p.sport)) {
				fprintf(stderr, "%s: trace: --sport needs a port number\n", PROG_NAME);
				return 1;
			}
		} else if (npos < 4) {
			pos[npos++] = argv[i];
		} else {
			usage();
			return 1;
		}
	}
	if (npos < 3) {
		usage();
		return 1;
	}
	if (!parse_addr(pos[0], &p.family, p.saddr.raw) ||
	    !parse_addr(pos[1], &fam2, p.daddr.raw)) {
		fprintf(stderr, "%s: trace: invalid address '%s'\n", PROG_NAME,
			parse_addr(pos[0], &p.family, p.saddr.raw) ? pos[1] : pos[0]);
		return 1;
	}
	if (fam2 != p.family) {
		fprintf(stderr, "%s: trace: SRC and DST must both be IPv4 or both IPv6\n",
			PROG_NAME);
		return 1;
	}
	if (nbg_proto_parse(pos[2], &p.proto)) {
		fprintf(stderr, "%s: trace: unknown protocol '%s'\n", PROG_NAME, pos[2]);
		return 1;
	}
	if (pos[3] && !parse_port(pos[3], &p.dport)) {
		fprintf(stderr, "%s: trace: invalid port '%s'\n", PROG_NAME, pos[3]);
		return 1;
	}
	nl = nbctl_open();
	if (!nl)
		return 1;
	ret = nbg_nl_trace(nl, &p, &v);
	if (ret) {
		nbctl_nl_error(nl, "trace", ret);
		nbg_nl_close(nl);
		return 1;
	}
	/* Names and the rule text make the answer readable; the verdict
	 * itself came from the kernel, so failing here is not fatal. */
	nbg_desc_init(&d);
	if (!nbg_nl_dump_ruleset(nl, &d, NULL)) {
		ident = v.ident_id ? nbg_desc_find_ident(&d, v.ident_id) : NULL;
		rule = v.rule_id ? nbg_desc_find_rule(&d, v.rule_id) : NULL;
		if (rule)
			rule_text = nbg_rule_to_string(rule);
	}
	if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "verdict", nbctl_action_name(v.action));
		if (v.rule_id)
			json_u64(&j, "rule", v.rule_id);
		else
			json_str(&j, "rule", "default");
		if (rule_text)
			json_str(&j, "rule_text", rule_text);
		json_u64(&j, "identity", v.ident_id);
		if (ident)
			json_str(&j, "identity_name", ident->name);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("verdict:  %s\n", nbctl_action_name(v.action));
		if (v.rule_id)
			printf("rule:     %u%s%s%s\n", v.rule_id, rule_text ? " (" : "",
			       rule_text ? rule_text : "", rule_text ? ")" : "");
		else
			printf("rule:     default %s\n", p.direction == NBG_DIR_OUT ? "out" : "in");
		if (v.ident_id)
			printf("identity: %u%s%s%s\n", v.ident_id, ident ? " (" : "",
			       ident ? ident->name : "", ident ? ")" : "");
		else
			printf("identity: none\n");
	}
	free(rule_text);
	nbg_desc_free(&d);
	nbg_nl_close(nl);
	return 0;
}
