// SPDX-License-Identifier: GPL-2.0
/*
 * Hand-written classifier cases: one ruleset and a few packets each, with
 * the verdict uapi/nbguard.h says they must get; then nbg_desc_validate()
 * on broken descriptions. Built from kmod/classifier.c itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

struct expect {
	const char *pkt;	/* tl_pkt() spec */
	char action;		/* 'A'llow, 'D'eny, 'N'one */
	u32 rule_id;
	u32 ident_id;
};

struct vcase {
	const char *name;
	const char *rules;
	struct expect e[12];
};

#define IDENTS \
	"identity 1 prefix 100.64.0.1/32 prefix fd00::1/128 group 10;" \
	"identity 2 prefix 100.64.0.2/32 group 20;" \
	"identity 3 prefix 100.64.1.0/24 group 10 group 30;" \
	"identity 4 prefix 100.64.1.7/32;" \
	"identity 5 prefix fd00:1::/64 group 20;" \
	"identity 7 prefix 10.9.0.1/32 prefix fd09::1/128 group 70;"

static const struct vcase cases[] = {
	{ "empty ruleset gives no verdict", IDENTS, {
		{ "in tcp 100.64.0.1 10.9.0.1 22", 'N', 0, 1 },
		{ "out tcp 10.9.0.1 100.64.0.2 22", 'N', 0, 2 },
		{ "in udp 1.2.3.4 10.9.0.1 53", 'N', 0, 0 } } },
	{ "deny beats allow", IDENTS
	  "rule 1 allow in;"
	  "rule 50 deny in proto tcp port 22;", {
		{ "in tcp 100.64.0.1 10.9.0.1 22", 'D', 50, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 23", 'A', 1, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 22", 'A', 1, 1 } } },
	{ "lowest id allow wins", IDENTS
	  "rule 7 allow in;"
	  "rule 3 allow in proto tcp;"
	  "rule 5 allow in proto tcp port 80;", {
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'A', 3, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 80", 'A', 7, 1 } } },
	{ "lowest id deny wins over lower allow", IDENTS
	  "rule 9 deny in proto tcp;"
	  "rule 4 deny in src group 10;"
	  "rule 1 allow in;", {
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'D', 4, 1 },
		{ "in tcp 100.64.0.2 10.9.0.1 80", 'D', 9, 2 },
		{ "in udp 100.64.0.2 10.9.0.1 80", 'A', 1, 2 } } },
	{ "no match leaves the default", IDENTS
	  "rule 1 allow in proto udp;", {
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'N', 0, 1 },
		{ "in icmp 100.64.0.1 10.9.0.1", 'N', 0, 1 } } },
	{ "rules match only their direction", IDENTS
	  "rule 1 allow out proto tcp;"
	  "rule 2 deny in proto udp;", {
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'N', 0, 1 },
		{ "out tcp 10.9.0.1 100.64.0.1 80", 'A', 1, 1 },
		{ "out udp 10.9.0.1 100.64.0.1 80", 'N', 0, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 80", 'D', 2, 1 } } },
	{ "identity is the remote address", IDENTS, {
		{ "in tcp 100.64.0.2 100.64.0.1 80", 'N', 0, 2 },
		{ "out tcp 100.64.0.2 100.64.0.1 80", 'N', 0, 1 },
		{ "in tcp 8.8.8.8 100.64.0.1 80", 'N', 0, 0 },
		{ "in tcp fd00::1 fd09::1 80", 'N', 0, 1 },
		{ "in tcp fd00:1::ffff fd09::1 80", 'N', 0, 5 },
		{ "in tcp fd00:2:: fd09::1 80", 'N', 0, 0 } } },
	{ "longest prefix picks the identity", IDENTS
	  "rule 1 allow in src ident 3;"
	  "rule 2 deny in src ident 4 proto udp;", {
		{ "in tcp 100.64.1.7 10.9.0.1 80", 'N', 0, 4 },
		{ "in udp 100.64.1.7 10.9.0.1 80", 'D', 2, 4 },
		{ "in tcp 100.64.1.8 10.9.0.1 80", 'A', 1, 3 },
		{ "in tcp 100.64.1.0 10.9.0.1 80", 'A', 1, 3 },
		{ "in tcp 100.64.1.255 10.9.0.1 80", 'A', 1, 3 },
		{ "in tcp 100.64.2.0 10.9.0.1 80", 'N', 0, 0 },
		{ "in tcp 100.64.0.255 10.9.0.1 80", 'N', 0, 0 } } },
	{ "groups select identities", IDENTS
	  "rule 1 allow in src group 10;"
	  "rule 2 deny in src group 30 proto udp;"
	  "rule 3 allow in src group 99;", {
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'A', 1, 1 },
		{ "in tcp 100.64.0.2 10.9.0.1 80", 'N', 0, 2 },
		{ "in tcp 100.64.1.9 10.9.0.1 80", 'A', 1, 3 },
		{ "in udp 100.64.1.9 10.9.0.1 80", 'D', 2, 3 },
		{ "in udp 100.64.0.1 10.9.0.1 80", 'A', 1, 1 },
		{ "in tcp fd00:1::5 fd09::1 80", 'N', 0, 5 },
		{ "in tcp fd00::1 fd09::1 80", 'A', 1, 1 } } },
	{ "ident and group items form a union", IDENTS
	  "rule 1 allow in src ident 2 src group 30 src prefix 8.8.8.0/24;", {
		{ "in tcp 100.64.0.2 10.9.0.1 80", 'A', 1, 2 },
		{ "in tcp 100.64.1.1 10.9.0.1 80", 'A', 1, 3 },
		{ "in tcp 8.8.8.8 10.9.0.1 80", 'A', 1, 0 },
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'N', 0, 1 },
		{ "in tcp 100.64.1.7 10.9.0.1 80", 'N', 0, 4 } } },
	{ "remote prefixes match any address in them", IDENTS
	  "rule 1 allow in src prefix 100.64.0.0/30;"
	  "rule 2 deny in src prefix 100.64.0.2/32;", {
		{ "in tcp 100.64.0.0 10.9.0.1 80", 'A', 1, 0 },
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'A', 1, 1 },
		{ "in tcp 100.64.0.2 10.9.0.1 80", 'D', 2, 2 },
		{ "in tcp 100.64.0.3 10.9.0.1 80", 'A', 1, 0 },
		{ "in tcp 100.64.0.4 10.9.0.1 80", 'N', 0, 0 },
		{ "in tcp 100.63.255.255 10.9.0.1 80", 'N', 0, 0 } } },
	{ "prefix family must match the packet", IDENTS
	  "rule 1 allow in src prefix 0.0.0.0/0;"
	  "rule 2 deny in src prefix ::/0 proto udp;", {
		{ "in tcp 1.2.3.4 10.9.0.1 80", 'A', 1, 0 },
		{ "in tcp ::1 fd09::1 80", 'N', 0, 0 },
		{ "in udp ::1 fd09::1 80", 'D', 2, 0 },
		{ "in udp 1.2.3.4 10.9.0.1 80", 'A', 1, 0 } } },
	{ "ipv6 prefixes", IDENTS
	  "rule 1 allow in src ident 5;"
	  "rule 2 allow in src prefix fd00:8000::/17;", {
		{ "in tcp fd00:1::1234 fd09::1 80", 'A', 1, 5 },
		{ "in tcp fd00:1:0:1:: fd09::1 80", 'N', 0, 0 },
		{ "in tcp fd00:8000:: fd09::1 80", 'A', 2, 0 },
		{ "in tcp fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff fd09::1 80", 'A', 2, 0 },
		{ "in tcp fd00:7fff:: fd09::1 80", 'N', 0, 0 },
		{ "in tcp fd01:: fd09::1 80", 'N', 0, 0 } } },
	{ "port ranges include both ends", IDENTS
	  "rule 1 allow in proto tcp port 1000-2000 port 3000;"
	  "rule 2 allow in proto tcp port 65535;"
	  "rule 3 allow in proto udp port 0;", {
		{ "in tcp 100.64.0.1 10.9.0.1 999", 'N', 0, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 1000", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 2000", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 2001", 'N', 0, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 3000", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 3001", 'N', 0, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 65535", 'A', 2, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 0", 'N', 0, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 0", 'A', 3, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 1", 'N', 0, 1 } } },
	{ "ports belong to the rule's protocol", IDENTS
	  "rule 1 allow in proto tcp port 22;"
	  "rule 2 allow in proto sctp port 22;"
	  "rule 3 allow in proto udplite port 22;", {
		{ "in tcp 100.64.0.1 10.9.0.1 22", 'A', 1, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 22", 'N', 0, 1 },
		{ "in sctp 100.64.0.1 10.9.0.1 22", 'A', 2, 1 },
		{ "in udplite 100.64.0.1 10.9.0.1 22", 'A', 3, 1 },
		{ "in icmp 100.64.0.1 10.9.0.1 22", 'N', 0, 1 } } },
	{ "protocol any matches every protocol and port", IDENTS
	  "rule 5 allow in src group 10;"
	  "rule 6 deny in proto tcp port 5-6;", {
		{ "in icmp 100.64.0.1 10.9.0.1", 'A', 5, 1 },
		{ "in 47 100.64.0.1 10.9.0.1", 'A', 5, 1 },
		{ "in 0 100.64.0.1 10.9.0.1", 'A', 5, 1 },
		{ "in 255 100.64.0.1 10.9.0.1", 'A', 5, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 4", 'A', 5, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 6", 'D', 6, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 6", 'A', 5, 1 } } },
	{ "a protocol without ports matches every port", IDENTS
	  "rule 1 allow in proto tcp;"
	  "rule 2 allow in proto icmp;", {
		{ "in tcp 100.64.0.1 10.9.0.1 0", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 65535", 'A', 1, 1 },
		{ "in icmp 100.64.0.1 10.9.0.1 0", 'A', 2, 1 },
		{ "in udp 100.64.0.1 10.9.0.1 0", 'N', 0, 1 } } },
	{ "local prefix selector for inbound", IDENTS
	  "rule 1 allow in dst prefix 10.1.0.0/16;"
	  "rule 2 deny in dst prefix 10.1.2.3/32 proto tcp port 22;", {
		{ "in tcp 100.64.0.1 10.1.2.3 80", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.1.2.3 22", 'D', 2, 1 },
		{ "in tcp 100.64.0.1 10.1.2.4 22", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.2.0.1 80", 'N', 0, 1 },
		{ "in tcp fd00::1 fd09::1 80", 'N', 0, 1 } } },
	{ "local identity and group selectors", IDENTS
	  "rule 1 allow in dst group 70;"
	  "rule 2 allow in dst ident 2 proto udp;", {
		{ "in tcp 100.64.0.1 10.9.0.1 80", 'A', 1, 1 },
		{ "in tcp fd00::1 fd09::1 80", 'A', 1, 1 },
		{ "in tcp 100.64.0.1 10.9.0.2 80", 'N', 0, 1 },
		{ "in udp 100.64.0.1 100.64.0.2 80", 'A', 2, 1 },
		{ "in udp 100.64.0.2 100.64.0.1 80", 'N', 0, 2 } } },
	{ "outbound mirrors the selectors", IDENTS
	  "rule 1 allow out dst group 10 src prefix 10.9.0.0/24;"
	  "rule 2 deny out dst ident 2;"
	  "rule 3 allow in src group 10 dst prefix 10.9.0.0/24;", {
		{ "out tcp 10.9.0.1 100.64.0.1 80", 'A', 1, 1 },
		{ "out tcp 10.8.0.1 100.64.0.1 80", 'N', 0, 1 },
		{ "out tcp 10.9.0.1 100.64.0.2 80", 'D', 2, 2 },
		{ "out tcp 100.64.0.2 10.9.0.1 80", 'N', 0, 7 },
		{ "in tcp 100.64.0.1 10.9.0.9 80", 'A', 3, 1 },
		{ "in tcp 10.9.0.9 100.64.0.1 80", 'N', 0, 0 } } },
	{ "an empty selector means any", IDENTS
	  "rule 1 allow in src empty dst empty;"
	  "rule 2 deny in proto udp;", {
		{ "in tcp 1.1.1.1 2.2.2.2 80", 'A', 1, 0 },
		{ "in udp 1.1.1.1 2.2.2.2 80", 'D', 2, 0 },
		{ "in tcp ::1 ::2 80", 'A', 1, 0 } } },
	{ "deny by prefix beats allow by group", IDENTS
	  "rule 1 allow in src group 10;"
	  "rule 900 deny in src prefix 100.64.1.0/25 proto tcp port 443;", {
		{ "in tcp 100.64.1.9 10.9.0.1 443", 'D', 900, 3 },
		{ "in tcp 100.64.1.7 10.9.0.1 443", 'D', 900, 4 },
		{ "in tcp 100.64.1.200 10.9.0.1 443", 'A', 1, 3 },
		{ "in tcp 100.64.0.1 10.9.0.1 443", 'A', 1, 1 } } },
	{ "overlapping port ranges and lowest ids", IDENTS
	  "rule 30 allow in proto tcp port 10-20;"
	  "rule 20 allow in proto tcp port 15-25;"
	  "rule 10 allow in proto tcp port 18;"
	  "rule 40 deny in proto tcp port 25-30;"
	  "rule 35 deny in proto tcp port 30-30;", {
		{ "in tcp 100.64.0.1 10.9.0.1 10", 'A', 30, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 15", 'A', 20, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 18", 'A', 10, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 19", 'A', 20, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 25", 'D', 40, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 30", 'D', 35, 1 },
		{ "in tcp 100.64.0.1 10.9.0.1 31", 'N', 0, 1 } } },
	{ "packets of another family match no prefix", IDENTS
	  "rule 1 allow in src prefix 0.0.0.0/0 dst prefix ::/0;", {
		{ "in tcp 1.1.1.1 2.2.2.2 80", 'N', 0, 0 },
		{ "in tcp ::1 ::2 80", 'N', 0, 0 } } },
};

static void pkt_str(const struct nbg_pkt *p, char *buf, size_t len)
{
	snprintf(buf, len, "dir %u fam %u proto %u dport %u", p->direction,
		 p->family, p->proto, p->dport);
}

/*
 * Build from one copy of the ruleset and destroy it before classifying:
 * the classifier must not point into the description it was built from.
 */
static bool run_case(const struct vcase *vc)
{
	struct nbg_ruleset_desc d = { 0 }, ref = { 0 };
	struct nbg_classifier *c;
	const char *err = NULL;
	bool ok = true;
	unsigned int i;

	if (tl_desc_parse(&d, vc->rules) || tl_desc_parse(&ref, vc->rules))
		return false;
	if (nbg_desc_validate(&d, &err)) {
		ktap_diag("validate: %s", err);
		return false;
	}
	c = nbg_classifier_build(&d, &err);
	if (!c) {
		ktap_diag("build: %s", err);
		return false;
	}
	for (i = 0; i < d.n_rules; i++)
		if (d.rules[i].n_ports)
			memset(d.rules[i].ports, 0xee, d.rules[i].n_ports *
			       sizeof(*d.rules[i].ports));
	tl_desc_free(&d);

	for (i = 0; i < sizeof(vc->e) / sizeof(vc->e[0]) && vc->e[i].pkt; i++) {
		const struct expect *e = &vc->e[i];
		struct nbg_verdict v;
		struct nbg_pkt p;
		u8 want = e->action == 'A' ? NBG_ACTION_ALLOW :
			  e->action == 'D' ? NBG_ACTION_DENY : NBG_ACTION_NONE;
		char buf[80];

		tl_pkt(&p, e->pkt);
		memset(&v, 0x5a, sizeof(v));
		nbg_classify(c, &p, &v);
		if (v.action != want || v.rule_id != e->rule_id ||
		    v.ident_id != e->ident_id ||
		    (want && (v.rule_index >= ref.n_rules ||
			      ref.rules[v.rule_index].id != v.rule_id))) {
			pkt_str(&p, buf, sizeof(buf));
			ktap_diag("\"%s\" (%s): got action %u rule %u index %u ident %u, want %c rule %u ident %u",
				  e->pkt, buf, v.action, v.rule_id,
				  v.rule_index, v.ident_id, e->action,
				  e->rule_id, e->ident_id);
			ok = false;
		}
	}
	if (!nbg_classifier_mem(c)) {
		ktap_diag("nbg_classifier_mem() is 0");
		ok = false;
	}
	nbg_classifier_free(c);
	tl_desc_free(&ref);
	return ok;
}

/* Descriptions nbg_desc_validate() must refuse, and why. */
struct bad {
	const char *name;
	const char *rules;
	const char *err;	/* substring of the message */
	void (*mangle)(struct nbg_ruleset_desc *d);
};

static void bad_family(struct nbg_ruleset_desc *d)
{
	d->idents[0].prefixes[0].family = 3;
}

static void bad_rule_family(struct nbg_ruleset_desc *d)
{
	d->rules[0].dst.prefixes[0].family = 0;
}

static void long_name(struct nbg_ruleset_desc *d)
{
	memset(d->idents[0].name, 'x', sizeof(d->idents[0].name));
}

static void many_ports(struct nbg_ruleset_desc *d)
{
	unsigned int i;

	for (i = 0; i < NBG_MAX_PORT_RANGES; i++)
		tl_rule_add_ports(&d->rules[0], i, i);
}

static void many_groups(struct nbg_ruleset_desc *d)
{
	unsigned int i;

	for (i = 0; i < NBG_MAX_GROUPS; i++)
		tl_ident_add_group(&d->idents[0], i + 100);
}

static void many_ident_prefixes(struct nbg_ruleset_desc *d)
{
	struct nbg_prefix p;
	unsigned int i;

	for (i = 0; i < NBG_MAX_PREFIXES; i++) {
		tl_prefix(&p, "10.0.0.0/32");
		p.addr.raw[2] = i / 256;
		p.addr.raw[3] = i % 256;
		tl_ident_add_prefix(&d->idents[0], &p);
	}
}

static void many_sel_prefixes(struct nbg_ruleset_desc *d)
{
	struct nbg_prefix p;
	unsigned int i;

	for (i = 0; i < NBG_MAX_PREFIXES; i++) {
		tl_prefix(&p, "10.0.0.0/32");
		p.addr.raw[3] = i % 256;
		tl_sel_add_prefix(&d->rules[0].src, &p);
	}
}

static void many_sel_groups(struct nbg_ruleset_desc *d)
{
	unsigned int i;

	for (i = 0; i < NBG_MAX_SEL_ITEMS; i++)
		tl_sel_add_group(&d->rules[0].dst, i);
}

static void null_array(struct nbg_ruleset_desc *d)
{
	d->rules[0].src.n_groups = 3;
}

static void many_rules(struct nbg_ruleset_desc *d)
{
	d->n_rules = NBG_MAX_RULES + 1;
}

static const struct bad bads[] = {
	{ "rule id 0", "rule 0 allow", "rule id", NULL },
	{ "duplicate rule ids", "rule 5 allow; rule 6 deny; rule 5 deny",
	  "rule ids", NULL },
	{ "identity id 0", "identity 0 prefix 10.0.0.1/32", "identity id", NULL },
	{ "duplicate identity ids", "identity 3; identity 3", "identity ids", NULL },
	{ "unknown identity in src", "identity 1; rule 1 allow in src ident 2",
	  "unknown identity", NULL },
	{ "unknown identity in dst", "identity 1; rule 1 allow out dst ident 7",
	  "unknown identity", NULL },
	{ "host bits in a selector prefix",
	  "rule 1 allow in src prefix 10.0.0.1/24", "host bits", NULL },
	{ "host bits in an identity prefix",
	  "identity 1 prefix fd00::1/64", "host bits", NULL },
	{ "v4 prefix longer than 32", "rule 1 allow in dst prefix 10.0.0.0/33",
	  "too long", NULL },
	{ "v6 prefix longer than 128", "identity 1 prefix fd00::/129",
	  "too long", NULL },
	{ "bad identity prefix family", "identity 1 prefix 10.0.0.0/8",
	  "family", bad_family },
	{ "bad selector prefix family",
	  "rule 1 allow in dst prefix 10.0.0.0/8", "family", bad_rule_family },
	{ "ports with icmp", "rule 1 allow in proto icmp port 7", "ports need", NULL },
	{ "ports with any protocol", "rule 1 allow in port 7", "ports need", NULL },
	{ "port range upside down", "rule 1 allow in proto tcp port 9-8",
	  "low above high", NULL },
	{ "action none", "rule 1 0", "action", NULL },
	{ "action 3", "rule 1 3", "action", NULL },
	{ "direction 2", "rule 1 allow dir 2", "direction", NULL },
	{ "too many port ranges", "rule 1 allow in proto udp port 1",
	  "port ranges", many_ports },
	{ "too many groups in an identity", "identity 1 group 1", "groups",
	  many_groups },
	{ "too many prefixes in an identity", "identity 1 prefix 10.1.0.0/16",
	  "prefixes", many_ident_prefixes },
	{ "too many prefixes in a selector",
	  "rule 1 allow in src prefix 10.1.0.0/16", "prefixes",
	  many_sel_prefixes },
	{ "too many groups in a selector", "rule 1 allow in dst group 1",
	  "selector", many_sel_groups },
	{ "two identities claim one prefix",
	  "identity 1 prefix 10.0.0.0/8; identity 2 prefix 10.0.0.0/8",
	  "same prefix", NULL },
	{ "identity name not terminated", "identity 1", "name", long_name },
	{ "selector count without array", "rule 1 allow in", "missing",
	  null_array },
	{ "too many rules", "rule 1 allow", "too many rules", many_rules },
};

static bool run_bad(const struct bad *b)
{
	struct nbg_ruleset_desc d = { 0 };
	const char *err = NULL;
	u32 saved_rules;
	int ret;

	if (tl_desc_parse(&d, b->rules))
		return false;
	saved_rules = d.n_rules;
	if (b->mangle)
		b->mangle(&d);
	ret = nbg_desc_validate(&d, &err);
	d.n_rules = saved_rules;
	tl_desc_free(&d);
	if (ret != -EINVAL || !err || !strstr(err, b->err)) {
		ktap_diag("got %d \"%s\", want -EINVAL \"%s\"", ret,
			  err ? err : "(null)", b->err);
		return false;
	}
	return true;
}

/* Nested prefixes of two identities and undeclared groups are fine. */
static bool run_good_edge(void)
{
	struct nbg_ruleset_desc d = { 0 };
	const char *err = NULL;
	int ret;

	tl_desc_parse(&d, "identity 1 prefix 10.0.0.0/8 prefix 10.0.0.0/8;"
		      "identity 2 prefix 10.0.0.0/9 prefix 0.0.0.0/0 group 4;"
		      "rule 1 allow in src group 12345 dst prefix ::/0;"
		      "rule 2 deny out proto udplite port 0-65535;");
	ret = nbg_desc_validate(&d, &err);
	tl_desc_free(&d);
	if (ret)
		ktap_diag("validate: %s", err);
	return !ret;
}

/*
 * Large port tables: ranges clustered in one corner and spread over the
 * rest, allow and deny, overlapping, so that tables get many buckets and
 * buckets several intervals. Every port of tcp and udp must get the rule
 * a direct computation finds (denies first, then the smallest id).
 */
#define PT_RULES	300

static u32 pt_expect(const struct nbg_ruleset_desc *d, u8 proto, u32 port)
{
	u32 i, best = 0;
	bool best_deny = false;

	for (i = 0; i < d->n_rules; i++) {
		const struct nbg_rule_desc *r = &d->rules[i];
		bool deny = r->action == NBG_ACTION_DENY;

		if (r->proto != proto || port < r->ports[0].lo ||
		    port > r->ports[0].hi)
			continue;
		if (!best || (deny && !best_deny) ||
		    (deny == best_deny && r->id < best)) {
			best = r->id;
			best_deny = deny;
		}
	}
	return best;
}

static bool run_port_tables(void)
{
	struct nbg_ruleset_desc d = { 0 };
	struct nbg_classifier *c;
	struct nbg_rule_desc *r;
	const char *err = NULL;
	struct nbg_verdict v;
	struct nbg_pkt p;
	u32 i, lo, hi, port, want, bad = 0;
	u8 proto;

	for (i = 0; i < PT_RULES; i++) {
		if (i % 3 == 0) {		/* clustered single ports */
			lo = 1000 + (i * 7) % 200;
			hi = lo;
		} else if (i % 3 == 1) {	/* spread, short ranges */
			lo = (i * 40503u) % 65536;
			hi = min(lo + i % 50, 65535U);
		} else {			/* a few wide ones */
			lo = (i * 2654435761u) % 65536;
			hi = min(lo + (i % 7) * 3000, 65535U);
		}
		r = tl_add_rule(&d, 1 + (i * 37) % 1000,
				i % 11 == 0 ? NBG_ACTION_DENY :
					      NBG_ACTION_ALLOW, NBG_DIR_IN);
		r->proto_any = false;
		r->proto = i % 4 == 3 ? IPPROTO_UDP : IPPROTO_TCP;
		tl_rule_add_ports(r, lo, hi);
	}
	if (nbg_desc_validate(&d, &err)) {
		ktap_diag("validate: %s", err);
		tl_desc_free(&d);
		return false;
	}
	c = nbg_classifier_build(&d, &err);
	if (!c) {
		ktap_diag("build: %s", err);
		tl_desc_free(&d);
		return false;
	}
	tl_pkt(&p, "in tcp 100.64.1.9 10.9.0.1 0");
	for (proto = 0; proto < 2; proto++) {
		p.proto = proto ? IPPROTO_UDP : IPPROTO_TCP;
		for (port = 0; port <= 65535; port++) {
			p.dport = port;
			nbg_classify(c, &p, &v);
			want = pt_expect(&d, p.proto, port);
			if (v.rule_id != want && bad++ < 5)
				ktap_diag("proto %u port %u: rule %u, want %u",
					  p.proto, port, v.rule_id, want);
		}
	}
	nbg_classifier_free(c);
	tl_desc_free(&d);
	return !bad;
}

extern unsigned long nbg_kshim_fail_at;

/*
 * Fail the 1st, 2nd, ... allocation of validate + build in turn: each
 * must fail cleanly (no crash; ASan/valgrind see no leak) until enough
 * succeed, and the result must then classify correctly.
 */
static bool run_alloc_failures(void)
{
	struct nbg_ruleset_desc d = { 0 };
	struct nbg_classifier *c = NULL;
	const char *err;
	struct nbg_verdict v;
	struct nbg_pkt p;
	unsigned long at;
	bool ok = true;
	int ret;

	tl_desc_parse(&d, IDENTS
		      "rule 1 allow in src group 10 proto tcp port 22;"
		      "rule 2 deny in src prefix 100.64.1.0/25 proto udp;"
		      "rule 3 allow in dst group 70 proto icmp;"
		      "rule 4 allow out dst ident 2;"
		      "rule 5 allow in proto tcp port 1-1000 port 2000-3000;");
	for (at = 1; at < 10000 && !c; at++) {
		err = NULL;
		nbg_kshim_fail_at = at;
		ret = nbg_desc_validate(&d, &err);
		if (!ret)
			c = nbg_classifier_build(&d, &err);
		if (!c && (!err || strcmp(err, "out of memory") ||
			   (ret && ret != -ENOMEM))) {
			ktap_diag("failure %lu: ret %d err %s", at, ret,
				  err ? err : "(null)");
			ok = false;
		}
	}
	nbg_kshim_fail_at = 0;
	if (!c) {
		ktap_diag("never built");
		tl_desc_free(&d);
		return false;
	}
	ktap_diag("%lu allocation failure points survived", at - 1);
	tl_pkt(&p, "in udp 100.64.1.9 10.9.0.1 53");
	nbg_classify(c, &p, &v);
	ok &= v.action == NBG_ACTION_DENY && v.rule_id == 2;
	nbg_classifier_free(c);
	tl_desc_free(&d);
	return ok && at > 10;
}

int main(void)
{
	unsigned int i, n = ARRAY_SIZE(cases) + ARRAY_SIZE(bads) + 3;

	ktap_plan(n);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		ktap_ok(run_case(&cases[i]), "%s", cases[i].name);
	for (i = 0; i < ARRAY_SIZE(bads); i++)
		ktap_ok(run_bad(&bads[i]), "validate rejects %s",
			bads[i].name);
	ktap_ok(run_good_edge(), "validate accepts nested and undeclared");
	ktap_ok(run_alloc_failures(), "every allocation failure is clean");
	ktap_ok(run_port_tables(), "large port tables agree on every port");
	return ktap_done();
}
