// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for lib/rulesfile.c and lib/desc.c: the ruleset file
 * parser (every error, with its line and column), the printer (canonical,
 * re-loadable), and the desc helpers. Prints KTAP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "lib/rulesfile.h"
#include "selftests/ktap.h"

/* The reason goes before the failing line, as a KTAP comment. */
static void result(bool ok, const char *name, const char *diag)
{
	if (!ok && diag && *diag)
		ktap_diag("%s", diag);
	ktap_ok(ok, "%s", name);
}

static int parse(const char *text, struct nbg_ruleset_desc *d,
		 struct nbg_defaults *defs, char *err)
{
	nbg_desc_init(d);
	return nbg_rules_parse_string(text, strlen(text), "t.rules", d, defs, err,
				      NBG_ERR_MAX);
}

static char *print(const struct nbg_ruleset_desc *d, const struct nbg_defaults *defs)
{
	char *s = NULL;
	size_t n;
	FILE *f = open_memstream(&s, &n);

	if (nbg_rules_print(f, d, defs)) {
		fclose(f);
		free(s);
		return NULL;
	}
	fclose(f);
	return s;
}

/* An input with an error: the message must be exactly @want. */
struct err_case {
	const char *name, *text, *want;
};

static const struct err_case err_cases[] = {
	{ "unknown statement", "identity 1 a\nfoo 1\n",
	  "t.rules:2:1: unknown statement 'foo': expected identity, rule or default" },
	{ "identity id missing", "identity\n", "t.rules:1:10: expected identity id" },
	{ "identity id not a number", "identity x1 a\n",
	  "t.rules:1:10: invalid identity id 'x1': not a decimal number" },
	{ "identity id zero", "identity 0 a\n", "t.rules:1:10: identity id must not be 0" },
	{ "identity id too big", "identity 4294967296 a\n",
	  "t.rules:1:10: invalid identity id '4294967296': above 4294967295" },
	{ "identity name missing", "identity 1\n", "t.rules:1:12: expected identity name" },
	{ "identity bad name", "identity 1 a/b\n",
	  "t.rules:1:12: invalid name 'a/b': use 1 to 63 of A-Z a-z 0-9 . _ -" },
	{ "identity name too long",
	  "identity 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "t.rules:1:12: invalid name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': use 1 to 63 of A-Z a-z 0-9 . _ -" },
	{ "identity bad keyword", "identity 1 a prefix 10.0.0.1/32 groups 3\n",
	  "t.rules:1:33: unexpected 'groups': expected 'prefix' or 'group'" },
	{ "identity prefix missing", "identity 1 a prefix\n",
	  "t.rules:1:21: expected an address prefix after 'prefix'" },
	{ "identity prefix bad address", "identity 1 a prefix 10.0.0.256/32\n",
	  "t.rules:1:21: invalid prefix '10.0.0.256/32': invalid address" },
	{ "identity prefix len > 32", "identity 1 a prefix 10.0.0.0/33\n",
	  "t.rules:1:21: invalid prefix '10.0.0.0/33': prefix length above 32" },
	{ "identity prefix len > 128", "identity 1 a prefix fd00::/129\n",
	  "t.rules:1:21: invalid prefix 'fd00::/129': prefix length above 128" },
	{ "identity prefix host bits", "identity 1 a prefix 10.0.0.1/24\n",
	  "t.rules:1:21: invalid prefix '10.0.0.1/24': host bits set beyond the prefix length" },
	{ "identity prefix host bits v6", "identity 1 a prefix fd00::1/64\n",
	  "t.rules:1:21: invalid prefix 'fd00::1/64': host bits set beyond the prefix length" },
	{ "identity prefix bad len", "identity 1 a prefix 10.0.0.0/x\n",
	  "t.rules:1:21: invalid prefix '10.0.0.0/x': invalid prefix length" },
	{ "identity group bad", "identity 1 a group -1\n",
	  "t.rules:1:20: invalid group id '-1': not a decimal number" },
	{ "duplicate identity", "identity 1 a\nidentity 2 b\nidentity 1 c\n",
	  "t.rules:3:10: duplicate identity id 1 (first on line 1)" },
	{ "rule id missing", "rule\n", "t.rules:1:6: expected rule id" },
	{ "rule action missing", "rule 5\n", "t.rules:1:8: expected 'allow' or 'deny'" },
	{ "rule action bad", "rule 5 permit\n",
	  "t.rules:1:8: unexpected 'permit': expected 'allow' or 'deny'" },
	{ "rule unknown word", "rule 5 allow in sport 3\n",
	  "t.rules:1:17: unexpected 'sport': expected in, out, proto, src, dst or port" },
	{ "rule direction twice", "rule 5 allow in out\n",
	  "t.rules:1:17: direction given twice (first at column 14)" },
	{ "rule proto missing", "rule 5 allow proto\n",
	  "t.rules:1:20: expected a protocol after 'proto'" },
	{ "rule proto unknown", "rule 5 allow proto tpc\n",
	  "t.rules:1:20: unknown protocol 'tpc': use tcp, udp, icmp, icmpv6, sctp, udplite or 0-255" },
	{ "rule proto 256", "rule 5 allow proto 256\n",
	  "t.rules:1:20: unknown protocol '256': use tcp, udp, icmp, icmpv6, sctp, udplite or 0-255" },
	{ "rule proto twice", "rule 5 allow proto tcp proto udp\n",
	  "t.rules:1:24: proto given twice (first at column 14)" },
	{ "rule src missing", "rule 5 allow src\n",
	  "t.rules:1:18: expected 'any', 'ident', 'group' or 'prefix' after 'src'" },
	{ "rule src bad", "rule 5 allow dst peer 3\n",
	  "t.rules:1:18: unexpected 'peer': expected 'any', 'ident', 'group' or 'prefix'" },
	{ "rule src ident zero", "rule 5 allow src ident 0\n",
	  "t.rules:1:24: identity id must not be 0" },
	{ "rule unknown ident", "identity 1 a\nrule 5 allow src ident 1\nrule 6 allow src ident 2\n",
	  "t.rules:3:24: unknown identity 2" },
	{ "rule port without proto", "rule 5 allow port 22\n",
	  "t.rules:1:14: ports need proto tcp, udp, sctp or udplite" },
	{ "rule port with icmp", "rule 5 allow proto icmp port 22\n",
	  "t.rules:1:25: ports need proto tcp, udp, sctp or udplite" },
	{ "rule port reversed", "rule 5 allow proto tcp port 90-80\n",
	  "t.rules:1:29: port range '90-80' is reversed" },
	{ "rule port too big", "rule 5 allow proto tcp port 65536\n",
	  "t.rules:1:29: port '65536' above 65535" },
	{ "rule port garbage", "rule 5 allow proto tcp port 1-\n",
	  "t.rules:1:29: invalid port '1-': expected <n> or <lo>-<hi>" },
	{ "rule port missing", "rule 5 allow proto tcp port\n",
	  "t.rules:1:29: expected a port or port range after 'port'" },
	{ "duplicate rule", "rule 5 allow\n\n# c\nrule 5 deny\n",
	  "t.rules:4:6: duplicate rule id 5 (first on line 1)" },
	{ "prefix claimed twice", "identity 1 a prefix 10.0.0.1/32 prefix 10.0.0.1\n"
	  "identity 2 b prefix fd00::/64\nidentity 3 c prefix 10.0.0.1/32\n"
	  "identity 4 d prefix fd00::/64\n",
	  "t.rules:3:21: prefix 10.0.0.1/32 is already claimed by identity 1 (line 1)" },
	{ "default bad dir", "default up allow\n",
	  "t.rules:1:9: unexpected 'up': expected 'in' or 'out'" },
	{ "default bad action", "default in drop\n",
	  "t.rules:1:12: unexpected 'drop': expected 'allow' or 'deny'" },
	{ "default trailing", "default in deny now\n",
	  "t.rules:1:17: unexpected 'now' after the default" },
	{ "default twice", "default in deny\ndefault in allow\n",
	  "t.rules:2:1: default in given twice (first on line 1)" },
	{ "continuation keeps positions", "rule 5 allow proto tcp \\\n   port 80 port x\n",
	  "t.rules:2:17: invalid port 'x': expected <n> or <lo>-<hi>" },
	{ "tab columns", "rule\t5 allow\tproto tcp\tfoo\n",
	  "t.rules:1:24: unexpected 'foo': expected in, out, proto, src, dst or port" },
};

static void test_errors(void)
{
	char err[NBG_ERR_MAX], diag[3 * NBG_ERR_MAX];
	struct nbg_ruleset_desc d;
	struct nbg_defaults defs;
	size_t k;
	int ret;

	for (k = 0; k < sizeof(err_cases) / sizeof(err_cases[0]); k++) {
		const struct err_case *c = &err_cases[k];
		char name[160];

		ret = parse(c->text, &d, &defs, err);
		snprintf(diag, sizeof(diag), "got %d '%s', want '%s'", ret, err, c->want);
		snprintf(name, sizeof(name), "error: %s", c->name);
		result(ret == -EINVAL && !strcmp(err, c->want) && !d.n_idents &&
		       !d.n_rules && !defs.has_in && !defs.has_out, name, diag);
		nbg_desc_free(&d);
	}
}

static const char *example =
	"# example from Documentation/ruleset-format.md\n"
	"identity 1 laptop prefix 100.64.0.1/32 prefix fd00::1/128 group 10\n"
	"identity 2 web1 prefix 100.64.0.2/32 group 20\n"
	"rule 100 allow in proto tcp src group 10 port 22\n"
	"rule 101 allow in proto tcp src any port 80 port 443\n"
	"rule 102 deny in proto tcp src ident 2 port 22\n"
	"rule 103 allow in proto icmp src group 10\n";

static void test_example(void)
{
	struct nbg_ruleset_desc d;
	struct nbg_defaults defs;
	char err[NBG_ERR_MAX];
	const struct nbg_rule_desc *r;
	const struct nbg_ident_desc *i;
	bool ok;

	ok = !parse(example, &d, &defs, err) && d.n_idents == 2 && d.n_rules == 4;
	result(ok, "example parses", err);
	if (!ok)
		return;
	i = nbg_desc_find_ident(&d, 1);
	result(i && !strcmp(i->name, "laptop") && i->n_prefixes == 2 &&
	       i->prefixes[0].family == AF_INET && i->prefixes[0].len == 32 &&
	       i->prefixes[0].addr.raw[0] == 100 && i->prefixes[0].addr.raw[3] == 1 &&
	       i->prefixes[1].family == AF_INET6 && i->prefixes[1].len == 128 &&
	       i->n_groups == 1 && i->groups[0] == 10, "identity fields", NULL);
	r = nbg_desc_find_rule(&d, 100);
	result(r && r->action == NBG_ACTION_ALLOW && r->direction == NBG_DIR_IN &&
	       !r->proto_any && r->proto == 6 && !r->src.any && r->src.n_groups == 1 &&
	       r->src.groups[0] == 10 && r->dst.any && r->n_ports == 1 &&
	       r->ports[0].lo == 22 && r->ports[0].hi == 22, "rule fields", NULL);
	r = nbg_desc_find_rule(&d, 101);
	result(r && r->src.any && r->n_ports == 2, "src any", NULL);
	r = nbg_desc_find_rule(&d, 102);
	result(r && r->action == NBG_ACTION_DENY && r->src.n_idents == 1 &&
	       r->src.idents[0] == 2, "deny rule with ident", NULL);
	result(!defs.has_in && !defs.has_out, "no defaults", NULL);
	nbg_desc_free(&d);
}

static const char *messy =
	"rule 9 deny out proto 47 dst prefix 10.1.0.0/16 src prefix fd00::/8 dst group 4 dst ident 3\n"
	"default out deny\n"
	"   identity 3 c.d_e-f group 2 group 1 prefix 10.0.0.3   # trailing comment\n"
	"rule 2 allow proto udp port 1000-2000 port 53 port 53\n"
	"rule 1 allow in proto tcp src any src ident 3 \\\n"
	"  dst prefix 0.0.0.0/0\n"
	"default in allow\n";

static const char *messy_canon =
	"default in allow\n"
	"default out deny\n"
	"identity 3 c.d_e-f prefix 10.0.0.3/32 group 1 group 2\n"
	"rule 1 allow in proto tcp dst prefix 0.0.0.0/0\n"
	"rule 2 allow in proto udp port 53 port 1000-2000\n"
	"rule 9 deny out proto 47 src prefix fd00::/8 dst ident 3 dst group 4 dst prefix 10.1.0.0/16\n";

static void test_round_trip(void)
{
	struct nbg_ruleset_desc d, d2;
	struct nbg_defaults defs, defs2;
	char err[NBG_ERR_MAX], *out, *out2;
	char diag[2048];

	if (parse(messy, &d, &defs, err)) {
		result(false, "canonical print", err);
		return;
	}
	out = print(&d, &defs);
	snprintf(diag, sizeof(diag), "got:\n%s", out ? out : "(null)");
	result(out && !strcmp(out, messy_canon), "canonical print", diag);
	result(!parse(out, &d2, &defs2, err), "printed output parses", err);
	out2 = print(&d2, &defs2);
	result(out2 && !strcmp(out, out2), "print is a fixed point", NULL);
	nbg_desc_canonicalize(&d);
	nbg_desc_canonicalize(&d2);
	result(!nbg_desc_cmp(&d, &d2) && defs.in == defs2.in && defs.out == defs2.out &&
	       defs2.has_in && defs2.has_out, "round trip gives an equal desc", NULL);
	free(out);
	free(out2);
	nbg_desc_free(&d);
	nbg_desc_free(&d2);
}

static void test_no_defaults_allowed(void)
{
	struct nbg_ruleset_desc d;
	char err[NBG_ERR_MAX];
	int ret;

	nbg_desc_init(&d);
	ret = nbg_rules_parse_string("default in deny\n", 16, "x", &d, NULL, err,
				     sizeof(err));
	result(ret == -EINVAL && !strcmp(err, "x:1:1: 'default' lines are not accepted here"),
	       "default rejected without defs", err);
}

static void test_big(void)
{
	struct nbg_ruleset_desc d, d2;
	char err[NBG_ERR_MAX], *text = NULL, *out;
	size_t n;
	FILE *f = open_memstream(&text, &n);
	u32 k;
	bool ok;

	for (k = 1; k <= 1000; k++)
		fprintf(f, "identity %u peer%u prefix 10.%u.%u.%u/32 group %u\n", k, k,
			(k >> 16) & 255, (k >> 8) & 255, k & 255, k % 7);
	for (k = 100000; k >= 1; k--)
		fprintf(f, "rule %u %s in proto tcp src ident %u port %u\n", k,
			k % 3 ? "allow" : "deny", k % 1000 + 1, k % 65535 + 1);
	fclose(f);
	ok = !parse(text, &d, NULL, err) && d.n_rules == 100000 && d.n_idents == 1000;
	result(ok, "100000 rules parse", err);
	out = print(&d, NULL);
	ok = out && !parse(out, &d2, NULL, err);
	nbg_desc_sort(&d);
	result(ok && !nbg_desc_cmp(&d, &d2) && d2.rules[0].id == 1, "100000 rules round trip",
	       err);
	free(out);
	free(text);
	nbg_desc_free(&d);
	nbg_desc_free(&d2);
}

static void test_desc_helpers(void)
{
	struct nbg_ruleset_desc a, b, c;
	struct nbg_desc_diff diff;
	struct nbg_prefix p;
	const char *msg;
	char err[NBG_ERR_MAX], buf[NBG_PREFIX_STRLEN];

	parse("identity 1 a prefix 10.0.0.1/32\nidentity 2 b\nrule 1 allow\nrule 2 deny\nrule 3 allow\n",
	      &a, NULL, err);
	parse("identity 2 b\nidentity 1 a prefix 10.0.0.2/32\nidentity 3 c\nrule 3 allow\nrule 1 allow\nrule 4 deny\n",
	      &b, NULL, err);
	nbg_desc_diff(&a, &b, &diff);
	result(diff.idents_added == 1 && diff.idents_removed == 0 && diff.idents_changed == 1 &&
	       diff.rules_added == 1 && diff.rules_removed == 1 && diff.rules_changed == 0,
	       "diff counts", NULL);
	nbg_desc_copy(&c, &b);
	result(!nbg_desc_cmp(&b, &c), "copy compares equal", NULL);
	nbg_desc_sort(&c);
	result(nbg_desc_cmp(&b, &c) && c.idents[0].id == 1 && c.rules[2].id == 4,
	       "sort orders by id", NULL);
	nbg_desc_free(&a);
	nbg_desc_free(&b);
	nbg_desc_free(&c);
	result(!a.n_rules && !a.rules, "free empties", NULL);

	result(!nbg_prefix_parse("fd00:1::/32", &p, &msg) && p.len == 32 &&
	       !strcmp(nbg_prefix_format(&p, buf, sizeof(buf)), "fd00:1::/32"),
	       "v6 prefix parse/format", NULL);
	result(!nbg_prefix_parse("0.0.0.0/0", &p, &msg) && p.len == 0,
	       "default route prefix", NULL);
}

int main(void)
{
	ktap_plan(sizeof(err_cases) / sizeof(err_cases[0]) + 6 + 4 + 1 + 2 + 6);
	test_errors();
	test_example();
	test_round_trip();
	test_no_defaults_allowed();
	test_big();
	test_desc_helpers();
	return ktap_done();
}
