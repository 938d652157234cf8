// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy library: every validation error with its exact
 * line and column, warnings, the evaluator, the compiler's output and
 * determinism, rule id mapping, runtime peers, connected peers, and the
 * tests section. Prints KTAP.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "policy/policy.h"
#include "selftests/ktap.h"
#include "lib/desc.h"
#include "lib/rulesfile.h"

/* Common head: lines 1-9. */
#define HEAD \
	"groups: [dev, prod]\n"				/* 1 */ \
	"peers:\n"					/* 2 */ \
	"  - name: alice\n"				/* 3 */ \
	"    addresses: [100.64.0.1, fd00::1]\n"	/* 4 */ \
	"    groups: [dev]\n"				/* 5 */ \
	"    tags: [laptop]\n"				/* 6 */ \
	"  - name: db1\n"				/* 7 */ \
	"    addresses: [100.64.1.1]\n"			/* 8 */ \
	"    groups: [prod]\n"				/* 9 */

/* A rule at lines 10-16 with one field replaced by the test. */
#define RULE(src, dst, extra) \
	"rules:\n"					/* 10 */ \
	"  - name: r1\n"				/* 11 */ \
	"    action: allow\n"				/* 12 */ \
	"    sources: " src "\n"			/* 13 */ \
	"    destinations: " dst "\n"			/* 14 */ \
	extra

static char *first_error(const char *yaml, unsigned int *n_errors)
{
	struct nbp_diag d;
	struct nbp_policy *p;
	char *out = NULL;
	size_t i;

	nbp_diag_init(&d);
	p = nbp_load_buffer("t.yaml", yaml, strlen(yaml), &d);
	if (p)
		nbp_run_tests(p, &d, NULL);
	for (i = 0; i < d.n && !out; i++)
		if (d.msgs[i].sev == NBP_SEV_ERROR &&
		    asprintf(&out, "%u:%u: %s", d.msgs[i].line, d.msgs[i].col,
			     d.msgs[i].text) < 0)
			out = NULL;
	if (n_errors)
		*n_errors = d.n_errors;
	nbp_diag_free(&d);
	nbp_free(p);
	return out;
}

/* The first error must start with "LINE:COL: " and contain @text. */
static void expect_error(const char *name, const char *yaml, const char *where,
			 const char *text)
{
	char *e = first_error(yaml, NULL);
	bool ok = e && !strncmp(e, where, strlen(where)) &&
		  e[strlen(where)] == ':' && strstr(e, text);

	if (!ktap_ok(ok, "error: %s", name))
		printf("# expected %s: ...%s..., got %s\n", where, text,
		       e ? e : "(no error)");
	free(e);
}

static void test_errors(void)
{
	expect_error("unknown group in peer",
		     "groups: [dev]\npeers:\n  - name: a\n    groups: [dev, ops]\n",
		     "4:19", "unknown group 'ops'");
	expect_error("unknown group in rule",
		     HEAD RULE("[group:devs]", "[db1]", ""), "13:15",
		     "unknown group 'devs'");
	expect_error("unknown peer in rule",
		     HEAD RULE("[alice]", "[peer:db2]", ""), "14:20",
		     "unknown peer 'db2'");
	expect_error("unknown bare name",
		     HEAD RULE("[carol]", "[db1]", ""), "13:15",
		     "unknown peer, group or network 'carol'");
	expect_error("unknown tag",
		     HEAD RULE("[tag:server]", "[db1]", ""), "13:15",
		     "unknown tag 'server'");
	expect_error("unknown network",
		     HEAD RULE("[network:lan]", "[db1]", ""), "13:15",
		     "unknown network 'lan'");
	expect_error("duplicate peer",
		     "peers:\n  - name: a\n  - name: b\n  - name: a\n", "4:11",
		     "duplicate peer 'a' (first defined at line 2 column 11)");
	expect_error("duplicate group",
		     "groups:\n  - dev\n  - name: dev\n", "3:11",
		     "duplicate group 'dev'");
	expect_error("duplicate rule",
		     HEAD RULE("[alice]", "[db1]", "  - name: r1\n"), "15:11",
		     "duplicate rule 'r1'");
	expect_error("duplicate key",
		     "peers:\n  - name: a\n    name: b\n", "3:5",
		     "duplicate key 'name'");
	expect_error("bad address",
		     "peers:\n  - name: a\n    addresses: [100.64.0.300]\n",
		     "3:17", "bad address '100.64.0.300'");
	expect_error("peer address is a prefix",
		     "peers:\n  - name: a\n    addresses: [10.0.0.0/8]\n",
		     "3:17", "a peer address is one address");
	expect_error("duplicate address",
		     "peers:\n  - name: a\n    addresses: [fd00::1]\n"
		     "  - name: b\n    addresses: [\"fd00:0::1\"]\n",
		     "5:17", "duplicate address");
	expect_error("prefix with host bits",
		     HEAD RULE("[10.1.2.3/8]", "[db1]", ""), "13:15",
		     "host bits set");
	expect_error("port out of range",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: tcp\n    ports: [22, 70000]\n"),
		     "16:17", "port 70000 out of range (1-65535)");
	expect_error("port zero",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: udp\n    ports: [0]\n"),
		     "16:13", "port 0 out of range");
	expect_error("reversed range",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: tcp\n    ports: [9000-8000]\n"),
		     "16:13", "reversed port range 9000-8000");
	expect_error("bad port syntax",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: tcp\n    ports: [ssh]\n"),
		     "16:13", "bad port 'ssh'");
	expect_error("unknown protocol",
		     HEAD RULE("[alice]", "[db1]", "    protocol: tpc\n"),
		     "15:15", "unknown protocol 'tpc'");
	expect_error("protocol number out of range",
		     HEAD RULE("[alice]", "[db1]", "    protocol: 256\n"),
		     "15:15", "unknown protocol '256'");
	expect_error("ports on icmp",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: icmp\n    ports: [22]\n"),
		     "16:12", "ports given for protocol icmp, which has no ports");
	expect_error("ports without protocol",
		     HEAD RULE("[alice]", "[db1]", "    ports: [22]\n"),
		     "15:12", "ports need protocol tcp, udp, sctp or udplite");
	expect_error("unknown key (typo)",
		     HEAD RULE("[alice]", "[db1]", "    protcol: tcp\n"),
		     "15:5", "unknown key 'protcol' in rule");
	expect_error("unknown top-level key",
		     "groups: []\npeer: []\n", "2:1", "unknown key 'peer' in policy");
	expect_error("wrong type: sources mapping",
		     HEAD RULE("{a: b}", "[db1]", ""), "13:14",
		     "sources must be a list, not a mapping");
	expect_error("wrong type: bool",
		     HEAD RULE("[alice]", "[db1]", "    enabled: yes\n"),
		     "15:14", "enabled must be true or false");
	expect_error("wrong type: peers scalar",
		     "peers: alice\n", "1:8", "peers must be a list, not a scalar");
	expect_error("wrong type: top level list",
		     "- a\n- b\n", "1:1", "a policy must be a mapping");
	expect_error("duplicate key in rule",
		     HEAD RULE("[alice]", "[db1]", "    action: deny\n"),
		     "15:5", "duplicate key 'action' in rule (first at line 12)");
	expect_error("unknown action",
		     "rules:\n  - name: r\n    action: permit\n"
		     "    sources: ['*']\n    destinations: ['*']\n",
		     "3:13", "unknown action 'permit'");
	expect_error("missing action",
		     "rules:\n  - name: r\n    sources: ['*']\n    destinations: ['*']\n",
		     "2:5", "has no action");
	expect_error("bad name",
		     "peers:\n  - name: 'a b'\n", "2:11", "invalid peer name 'a b'");
	expect_error("ambiguous name",
		     "groups: [x]\npeers:\n  - name: x\nrules:\n  - name: r\n"
		     "    action: allow\n    sources: [x]\n    destinations: ['*']\n",
		     "7:15", "'x' is ambiguous");
	expect_error("empty sources",
		     HEAD RULE("[]", "[db1]", ""), "13:14", "sources is empty");
	expect_error("test fails",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: tcp\n    ports: [22]\n"
			       "tests:\n  - from: alice\n"
			       "    accept: [db1:22/tcp, db1:80/tcp]\n"),
		     "19:26", "test failed: alice -> db1:80/tcp (IPv4) expected accept, got deny by the default");
	expect_error("test deny fails",
		     HEAD RULE("[alice]", "[db1]",
			       "    protocol: tcp\n    ports: [22]\n"
			       "tests:\n  - from: alice\n"
			       "    deny: [db1:22/tcp]\n"),
		     "19:12", "expected deny, got accept by rule r1");
	expect_error("test unknown peer",
		     HEAD "tests:\n  - from: alice\n    accept: [db9:22/tcp]\n",
		     "12:14", "unknown peer 'db9'");
	expect_error("test port on icmp",
		     HEAD "tests:\n  - from: alice\n    accept: [db1:22/icmp]\n",
		     "12:14", "port given in test");
	expect_error("malformed YAML",
		     "peers:\n  - name: [a\n", "3:1", "invalid YAML");
	expect_error("tab indentation",
		     "peers:\n\t- name: a\n", "2:1", "invalid YAML");
	expect_error("alias refused",
		     "groups: &g [a]\n", "1:9", "anchors are not supported");
	expect_error("unsupported version",
		     "version: 2\n", "1:10", "unsupported policy version");
	expect_error("NUL in scalar",
		     "peers:\n  - name: \"a\\0b\"\n", "2:11", "contains a NUL");
}

static struct nbp_policy *load(const char *yaml, struct nbp_diag *d)
{
	nbp_diag_init(d);
	return nbp_load_buffer("t.yaml", yaml, strlen(yaml), d);
}

static bool has_warning(const struct nbp_diag *d, unsigned int line,
			const char *text)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->msgs[i].sev == NBP_SEV_WARNING &&
		    d->msgs[i].line == line && strstr(d->msgs[i].text, text))
			return true;
	return false;
}

static void test_warnings(void)
{
	static const char *yaml =
		"groups: [dev, empty]\n"				/* 1 */
		"peers:\n"						/* 2 */
		"  - {name: a, addresses: [10.0.0.1], groups: [dev]}\n"/* 3 */
		"  - {name: b, addresses: [10.0.0.2]}\n"		/* 4 */
		"rules:\n"						/* 5 */
		"  - {name: wide, action: allow, sources: ['*'], destinations: [b], protocol: tcp}\n"
		"  - {name: narrow, action: allow, sources: [a], destinations: [b], protocol: tcp, ports: [22]}\n"
		"  - {name: nobody, action: allow, sources: [group:empty], destinations: [b]}\n"
		"  - {name: blocked, action: allow, sources: [a], destinations: [b], protocol: udp, ports: [53]}\n"
		"  - {name: no-udp, action: deny, sources: [10.0.0.0/8], destinations: ['*'], protocol: udp}\n"
		"  - {name: fine, action: allow, sources: [dev], destinations: [b], protocol: icmp}\n";
	struct nbp_diag d;
	struct nbp_policy *p = load(yaml, &d);

	ktap_ok(p != NULL, "warnings do not fail the load");
	ktap_ok(has_warning(&d, 7, "rule 'narrow' is shadowed by allow rule 'wide'"),
		"warning: shadowed by an earlier allow");
	ktap_ok(has_warning(&d, 8, "rule 'nobody' can never match"),
		"warning: rule can never match");
	ktap_ok(has_warning(&d, 9, "rule 'blocked' is shadowed by deny rule 'no-udp'"),
		"warning: allow shadowed by a later deny");
	ktap_ok(d.n_warnings == 3, "no spurious warnings (%u)", d.n_warnings);
	if (d.n_warnings != 3)
		nbp_diag_print(&d, stdout);
	nbp_diag_free(&d);
	nbp_free(p);
}

static void pkt4(struct nbp_packet *k, const char *s, const char *dst,
		 uint8_t proto, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	inet_pton(AF_INET, s, k->saddr);
	inet_pton(AF_INET, dst, k->daddr);
	k->proto = proto;
	k->dport = port;
}

static void test_eval(void)
{
	static const char *yaml =
		"groups: [dev, prod]\n"
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1], groups: [dev]}\n"
		"  - {name: b, addresses: [10.0.0.2], groups: [prod]}\n"
		"  - {name: c, addresses: [10.0.0.3], groups: [prod], tags: [x]}\n"
		"rules:\n"
		"  - {name: ssh, action: allow, sources: [group:dev], destinations: [group:prod], protocol: tcp, ports: [22, 8000-8099]}\n"
		"  - {name: no-c, action: deny, sources: ['*'], destinations: [tag:x], protocol: tcp, ports: [8080]}\n"
		"  - {name: both, action: allow, sources: [b], destinations: [c], protocol: udp, bidirectional: true}\n"
		"  - {name: off, action: allow, sources: ['*'], destinations: ['*'], enabled: false}\n";
	struct nbp_diag d;
	struct nbp_policy *p = load(yaml, &d);
	struct nbp_packet k;
	struct nbp_result r;

	if (!ktap_ok(p != NULL, "eval policy loads")) {
		nbp_diag_print(&d, stdout);
		return;
	}
	pkt4(&k, "10.0.0.1", "10.0.0.2", 6, 22);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_ALLOW && r.rule_id == 1,
		"eval: allow by first rule (id 1)");
	pkt4(&k, "10.0.0.1", "10.0.0.2", 6, 23);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_DENY && r.rule_id == 0 && r.rule_index == -1,
		"eval: default deny");
	pkt4(&k, "10.0.0.1", "10.0.0.3", 6, 8080);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_DENY && r.rule_id == 3,
		"eval: later deny wins over earlier allow");
	pkt4(&k, "10.0.0.1", "10.0.0.3", 6, 8081);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_ALLOW, "eval: port range");
	pkt4(&k, "10.0.0.2", "10.0.0.1", 6, 22);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_DENY, "eval: one-way rule does not allow the reverse");
	pkt4(&k, "10.0.0.3", "10.0.0.2", 17, 53);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_ALLOW && r.rule_id == 6 && r.reverse,
		"eval: bidirectional reverse half (id 6)");
	ktap_ok(!strcmp(nbp_rule_name(p, 6), "both") &&
		!strcmp(nbp_rule_name(p, 5), "both") &&
		!strcmp(nbp_rule_name(p, 3), "no-c") &&
		nbp_rule_name(p, 4) == NULL && nbp_rule_name(p, 0) == NULL &&
		nbp_rule_name(p, 99) == NULL,
		"rule id -> name mapping");
	pkt4(&k, "10.0.0.9", "10.0.0.2", 6, 22);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_DENY, "eval: unknown source address denied");
	nbp_diag_free(&d);
	nbp_free(p);
}

static char *compile_text(const struct nbp_policy *p, const char *node)
{
	struct nbg_ruleset_desc desc;
	struct nbp_diag d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	nbp_diag_init(&d);
	if (nbp_compile(p, node, &desc, &d)) {
		nbp_diag_free(&d);
		return NULL;
	}
	nbp_diag_free(&d);
	f = open_memstream(&buf, &len);
	nbp_desc_print(p, &desc, f);
	fclose(f);
	nbp_desc_free(&desc);
	return buf;
}

static void test_compile(void)
{
	static const char *yaml =
		"groups: [dev, prod]\n"
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1, 'fd00::1'], groups: [dev]}\n"
		"  - {name: b, addresses: [10.0.0.2], groups: [prod]}\n"
		"  - {name: c, addresses: [10.0.0.3], groups: [prod], tags: [x]}\n"
		"  - {name: d, groups: [dev]}\n"
		"networks:\n"
		"  - {name: lan, prefixes: [192.168.0.0/16]}\n"
		"rules:\n"
		"  - {name: ssh, action: allow, sources: [group:dev], destinations: [group:prod], protocol: tcp, ports: [22]}\n"
		"  - {name: lan-web, action: allow, sources: [lan, c], destinations: [b], protocol: tcp, ports: [80, 443]}\n"
		"  - {name: both, action: deny, sources: [tag:x], destinations: [b], bidirectional: true}\n"
		"  - {name: to-a, action: allow, sources: ['*'], destinations: [a], protocol: icmp}\n";
	static const char *want_b =
		"# group 1 = dev\n"
		"# group 2147483649 = tag:x\n"
		"identity 1 a prefix 10.0.0.1/32 prefix fd00::1/128 group 1\n"
		"identity 3 c prefix 10.0.0.3/32 group 2147483649\n"
		"# rule 1 = ssh\n"
		"rule 1 allow in proto tcp src group 1 dst prefix 10.0.0.2/32 port 22\n"
		"# rule 3 = lan-web\n"
		"rule 3 allow in proto tcp src ident 3 src prefix 192.168.0.0/16 dst prefix 10.0.0.2/32 port 80 port 443\n"
		"# rule 5 = both\n"
		"rule 5 deny in src group 2147483649 dst prefix 10.0.0.2/32\n";
	static const char *want_c =
		"# rule 6 = both (reverse)\n"
		"rule 6 deny in src ident 2 dst prefix 10.0.0.3/32\n";
	struct nbp_diag d;
	struct nbp_policy *p = load(yaml, &d);
	char *t1, *t2;

	if (!ktap_ok(p != NULL, "compile policy loads")) {
		nbp_diag_print(&d, stdout);
		return;
	}
	t1 = compile_text(p, "b");
	t2 = compile_text(p, "b");
	if (!ktap_ok(t1 && !strcmp(t1, want_b), "compile for b: exact output"))
		printf("# got:\n%s", t1 ? t1 : "(null)\n");
	ktap_ok(t1 && t2 && !strcmp(t1, t2), "compile is deterministic");
	free(t1);
	free(t2);
	t1 = compile_text(p, "c");
	if (!ktap_ok(t1 && strstr(t1, want_c), "compile for c: reverse half of bidirectional rule"))
		printf("# got:\n%s", t1 ? t1 : "(null)\n");
	ktap_ok(t1 && strstr(t1, "rule 1 ") && !strstr(t1, "rule 3 "), "compile for c: rules for others left out");
	free(t1);
	t1 = compile_text(p, "a");
	ktap_ok(t1 && strstr(t1, "rule 7 allow in proto icmp dst prefix 10.0.0.1/32 dst prefix fd00::1/128\n"),
		"compile: '*' source is any, dst is the node's addresses");
	free(t1);
	ktap_ok(compile_text(p, "nosuch") == NULL, "compile: unknown node is an error");

	/* Runtime peers: d gets addresses, e is enrolled into prod. */
	{
		const char *addrs[] = { "10.0.0.4" }, *grp[] = { "dev" };
		const char *bad[] = { "10.0.0.2" };
		struct nbp_diag d2;

		nbp_diag_init(&d2);
		ktap_ok(nbp_set_peer_addresses(p, "d", addrs, 1, &d2) == 0,
			"set_peer_addresses");
		ktap_ok(nbp_set_peer_addresses(p, "d", bad, 1, &d2) < 0 &&
			d2.n_errors == 1, "set_peer_addresses refuses a taken address");
		ktap_ok(nbp_add_peer(p, "e", grp, 1, NULL, 0, &d2) == 0 &&
			nbp_set_peer_addresses(p, "e", (const char *[]){ "10.0.0.5" }, 1, &d2) == 0,
			"add_peer + addresses");
		ktap_ok(nbp_add_peer(p, "f", (const char *[]){ "nope" }, 1, NULL, 0, &d2) < 0,
			"add_peer with an unknown group fails");
		nbp_diag_free(&d2);
		t1 = compile_text(p, "b");
		ktap_ok(t1 && strstr(t1, "identity 4 d prefix 10.0.0.4/32 group 1\n") &&
			strstr(t1, "identity 5 e prefix 10.0.0.5/32 group 1\n"),
			"runtime peers compiled as identities");
		free(t1);
	}
	nbp_diag_free(&d);
	nbp_free(p);
}

struct conn {
	char buf[256];
};

static void conn_cb(const struct nbp_policy *p, size_t i, unsigned int flags,
		    void *ctx)
{
	struct conn *c = ctx;
	size_t l = strlen(c->buf);

	snprintf(c->buf + l, sizeof(c->buf) - l, "%s:%u ", nbp_peer_name(p, i),
		 flags);
}

static void test_connected(void)
{
	static const char *yaml =
		"groups: [dev, prod]\n"
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1], groups: [dev]}\n"
		"  - {name: b, addresses: [10.0.0.2], groups: [prod]}\n"
		"  - {name: c, addresses: [10.0.0.3], groups: [prod]}\n"
		"  - {name: z, addresses: [10.0.0.9]}\n"
		"rules:\n"
		"  - {name: ssh, action: allow, sources: [dev], destinations: [prod], protocol: tcp, ports: [22]}\n"
		"  - {name: bc, action: allow, sources: [b], destinations: [c], bidirectional: true}\n"
		"  - {name: deny-z, action: deny, sources: [z], destinations: ['*']}\n";
	struct nbp_diag d;
	struct nbp_policy *p = load(yaml, &d);
	struct conn c = { "" };
	int n;

	n = nbp_connected_peers(p, "b", conn_cb, &c);
	ktap_ok(n == 2 && !strcmp(c.buf, "a:1 c:3 "), "connected peers of b (%s)", c.buf);
	c.buf[0] = 0;
	n = nbp_connected_peers(p, "a", conn_cb, &c);
	ktap_ok(n == 2 && !strcmp(c.buf, "b:2 c:2 "), "connected peers of a (%s)", c.buf);
	n = nbp_connected_peers(p, "z", NULL, NULL);
	ktap_ok(n == 0, "z is connected to nobody");
	ktap_ok(nbp_connected_peers(p, "nope", NULL, NULL) < 0, "unknown node");
	nbp_diag_free(&d);
	nbp_free(p);
}

/* A pair reachable only through rules that deny rules refuse entirely is
 * not connected; anything left open (a port, an address family) is. */
static void test_connected_denies(void)
{
	static const char *yaml =
		"groups: [dev, prod]\n"
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1, 'fd00::1'], groups: [dev]}\n"
		"  - {name: b, addresses: [10.0.0.2], groups: [prod]}\n"
		"  - {name: c, addresses: [10.0.0.3, 'fd00::3'], groups: [prod]}\n"
		"  - {name: d, addresses: [10.0.0.4], groups: [dev]}\n"
		"  - {name: e, addresses: [10.0.0.5], groups: [prod]}\n"
		"rules:\n"
		"  - {name: web, action: allow, sources: [dev], destinations: [prod], protocol: tcp, ports: [22, 80-90]}\n"
		"  - {name: ab1, action: deny, sources: [a], destinations: [b], protocol: tcp, ports: [22, 80-85]}\n"
		"  - {name: ab2, action: deny, sources: [a], destinations: [b], protocol: tcp, ports: [86-90]}\n"
		"  - {name: ae, action: deny, sources: [a], destinations: [e], protocol: tcp, ports: [22, 80-89]}\n"
		"  - {name: ac4, action: deny, sources: [10.0.0.1/32], destinations: [c], protocol: all}\n"
		"  - {name: d-udp, action: deny, sources: [d], destinations: ['*'], protocol: udp}\n"
		"  - {name: ce, action: allow, sources: [c], destinations: [e], bidirectional: true}\n"
		"  - {name: no-ec, action: deny, sources: [c], destinations: [e], protocol: all}\n";
	struct nbp_diag d;
	struct nbp_policy *p = load(yaml, &d);
	struct conn c = { "" };
	int n;

	if (!ktap_ok(p != NULL, "connected/denies policy loads")) {
		nbp_diag_print(&d, stdout);
		nbp_diag_free(&d);
		return;
	}
	n = nbp_connected_peers(p, "b", conn_cb, &c);
	ktap_ok(n == 1 && !strcmp(c.buf, "d:1 "),
		"denies covering all of an allow's ports together disconnect (%s)", c.buf);
	c.buf[0] = 0;
	n = nbp_connected_peers(p, "e", conn_cb, &c);
	ktap_ok(n == 3 && !strcmp(c.buf, "a:1 c:2 d:1 "),
		"a deny leaving a port open keeps the pair; a deny of one half of a bidirectional allow keeps the other (%s)",
		c.buf);
	c.buf[0] = 0;
	n = nbp_connected_peers(p, "c", conn_cb, &c);
	ktap_ok(n == 3 && !strcmp(c.buf, "a:1 d:1 e:1 "),
		"a deny of one address family keeps the pair; a deny of another protocol too (%s)",
		c.buf);
	c.buf[0] = 0;
	n = nbp_connected_peers(p, "a", conn_cb, &c);
	ktap_ok(n == 2 && !strcmp(c.buf, "c:2 e:2 "), "connected peers of a (%s)", c.buf);
	nbp_diag_free(&d);
	nbp_free(p);
}

/* The tests: section counts checks (expectation x address family), one
 * error per failed check; icmp is checked over IPv4 only, icmpv6 over
 * IPv6 only. */
static void test_run_tests(void)
{
	static const char *yaml =
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1, 'fd00::1']}\n"
		"  - {name: b, addresses: [10.0.0.2, 'fd00::2']}\n"
		"  - {name: v4, addresses: [10.0.0.4]}\n"
		"rules:\n"
		"  - {name: ssh, action: allow, sources: [a], destinations: [b], protocol: tcp, ports: [22]}\n"
		"  - {name: b4, action: allow, sources: [a], destinations: [10.0.0.2/32], protocol: icmp}\n"
		"  - {name: b6, action: allow, sources: [a], destinations: ['fd00::2/128'], protocol: icmpv6}\n"
		"tests:\n"
		"  - from: a\n"
		"    accept: [b:22/tcp, b/icmp, b/icmpv6]\n"
		"    deny: [b:22/tcp]\n";
	static const char *nofam =
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1]}\n"
		"  - {name: b, addresses: [10.0.0.2]}\n"
		"tests:\n"
		"  - from: a\n"
		"    deny: [b/icmpv6, b/icmp]\n";
	struct nbp_diag d, td;
	struct nbp_policy *p = load(yaml, &d);
	unsigned int n = 0;
	int fails;

	if (!ktap_ok(p != NULL, "run_tests policy loads")) {
		nbp_diag_print(&d, stdout);
		nbp_diag_free(&d);
		return;
	}
	nbp_diag_init(&td);
	fails = nbp_run_tests(p, &td, &n);
	/* 2 (tcp, both families) + 1 (icmp) + 1 (icmpv6) + 2 (deny) */
	if (!ktap_ok(n == 6 && fails == 2 && td.n_errors == 2 &&
		     strstr(td.msgs[0].text, "(IPv4) expected deny") &&
		     strstr(td.msgs[1].text, "(IPv6) expected deny"),
		     "run_tests: one failed check and one error per family (%u checks, %d failed)",
		     n, fails))
		nbp_diag_print(&td, stdout);
	nbp_diag_free(&td);
	nbp_diag_free(&d);
	nbp_free(p);

	p = load(nofam, &d);
	nbp_diag_init(&td);
	n = 0;
	fails = p ? nbp_run_tests(p, &td, &n) : -1;
	if (!ktap_ok(n == 2 && fails == 1 && td.n_errors == 1 &&
		     strstr(td.msgs[0].text, "no address family in common for icmpv6"),
		     "run_tests: icmpv6 between IPv4-only peers is one failed check, icmp passes"))
		nbp_diag_print(&td, stdout);
	nbp_diag_free(&td);
	nbp_diag_free(&d);
	nbp_free(p);
}

/* Setup-key groups for a peer the file names: they add to its own. */
/* Address of peer @name as "a, b" (sorted as stored) for comparisons. */
static void peer_addrs_text(const struct nbp_policy *p, const char *name,
			    char *buf, size_t len)
{
	const struct nbp_addr *a;
	size_t n = nbp_peer_addrs(p, nbp_peer_find(p, name), &a), off = 0;
	char one[64];

	buf[0] = 0;
	for (size_t i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "",
				nbp_addr_str(&a[i], one, sizeof(one)));
}

static bool peer_has(const struct nbp_policy *p, const char *name,
		     const char *want)
{
	char buf[512];

	peer_addrs_text(p, name, buf, sizeof(buf));
	return !strcmp(buf, want);
}

static int owner_of(const struct nbp_policy *p, const char *addr)
{
	struct nbp_addr a;

	if (nbp_addr_parse(addr, &a))
		return -2;
	return nbp_peer_by_addr(p, &a);
}

static bool unchanged(const struct nbp_policy *p)
{
	return peer_has(p, "a", "10.0.0.1/32 fd00::1/128") &&
	       peer_has(p, "b", "10.0.0.2/32") &&
	       peer_has(p, "c", "10.0.0.3/32") && peer_has(p, "d", "") &&
	       owner_of(p, "10.0.0.1") == 0 && owner_of(p, "10.0.0.2") == 1 &&
	       owner_of(p, "10.0.0.3") == 2;
}

static void test_set_many(void)
{
	static const char *yaml =
		"groups: [dev, prod]\n"
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1, 'fd00::1'], groups: [dev]}\n"
		"  - {name: b, addresses: [10.0.0.2], groups: [dev]}\n"
		"  - {name: c, addresses: [10.0.0.3], groups: [prod]}\n"
		"  - {name: d, groups: [prod]}\n"
		"rules:\n"
		"  - {name: ssh, action: allow, sources: [dev], destinations: [prod], protocol: tcp, ports: [22]}\n";
	const char *to_b[] = { "10.0.0.2" }, *to_a[] = { "10.0.0.1" };
	const char *a_new[] = { "10.0.0.2", "fd00::9" }, *b_new[] = { "10.0.0.1" };
	struct nbp_peer_addrs swap[] = { { "a", a_new, 2 }, { "b", b_new, 1 } };
	struct nbp_diag d, d2;
	struct nbp_policy *p = load(yaml, &d);
	char *t;

	if (!ktap_ok(p != NULL, "set_many policy loads")) {
		nbp_diag_print(&d, stdout);
		nbp_diag_free(&d);
		return;
	}
	nbp_diag_init(&d2);
	/* One at a time, the first step of a swap clashes and is refused. */
	ktap_ok(nbp_set_peer_addresses(p, "a", to_b, 1, &d2) < 0 &&
		unchanged(p), "set_peer_addresses: one step of a swap is refused");
	nbp_diag_free(&d2);

	nbp_diag_init(&d2);
	{
		struct nbp_peer_addrs bad[] = {
			{ "nosuch", to_a, 1 },
			{ "a", (const char *[]){ "10.0.0.0/8" }, 1 },
			{ "b", to_a, 1 },
			{ "b", to_b, 1 },
			{ "d", (const char *[]){ "10.0.0.7", "10.0.0.7" }, 2 },
		};

		ktap_ok(nbp_set_peers_addresses(p, bad, 5, NBP_ADDRS_OVERRIDE, &d2) < 0 &&
			d2.n_errors == 4 && d2.n_warnings == 0 && unchanged(p),
			"set_peers_addresses: unknown peer, bad address, peer twice, address twice; all reported, nothing changed");
	}
	nbp_diag_free(&d2);

	nbp_diag_init(&d2);
	{
		struct nbp_peer_addrs two[] = { { "c", to_a, 1 }, { "d", to_a, 1 } };

		ktap_ok(nbp_set_peers_addresses(p, two, 2, NBP_ADDRS_OVERRIDE, &d2) < 0 &&
			d2.n_errors == 1 && strstr(d2.msgs[0].text, "10.0.0.1/32 belongs to both 'c' and 'd'") &&
			unchanged(p),
			"set_peers_addresses: one address for two listed peers is refused, even with OVERRIDE");
	}
	nbp_diag_free(&d2);

	nbp_diag_init(&d2);
	ktap_ok(nbp_set_peers_addresses(p, &(struct nbp_peer_addrs){ "d", to_a, 1 }, 1, 0, &d2) < 0 &&
		d2.n_errors == 1 && strstr(d2.msgs[0].text, "10.0.0.1/32 belongs to both 'a' and 'd'") &&
		unchanged(p),
		"set_peers_addresses: without OVERRIDE, an unlisted peer's address is refused");
	nbp_diag_free(&d2);

	nbp_diag_init(&d2);
	ktap_ok(nbp_set_peers_addresses(p, swap, 2, 0, &d2) == 0 && d2.n == 0 &&
		peer_has(p, "a", "10.0.0.2/32 fd00::9/128") &&
		peer_has(p, "b", "10.0.0.1/32") &&
		owner_of(p, "10.0.0.1") == 1 && owner_of(p, "10.0.0.2") == 0 &&
		owner_of(p, "fd00::9") == 0 && owner_of(p, "fd00::1") == -1,
		"set_peers_addresses: a swap in one step (uniqueness of the final state)");
	nbp_diag_free(&d2);

	/* d is enrolled with c's file address: c keeps nothing, d gets it. */
	nbp_diag_init(&d2);
	{
		struct nbp_peer_addrs en[] = {
			{ "d", (const char *[]){ "10.0.0.3" }, 1 },
			{ "a", (const char *[]){ "10.0.0.2", "fd00::9" }, 2 },
		};

		ktap_ok(nbp_set_peers_addresses(p, en, 2, NBP_ADDRS_OVERRIDE, &d2) == 0 &&
			d2.n_errors == 0 && d2.n_warnings == 1 &&
			d2.msgs[0].line == 5 && d2.msgs[0].col == 12 &&
			strstr(d2.msgs[0].text, "peer 'c': address 10.0.0.3/32 dropped; it belongs to 'd'") &&
			peer_has(p, "c", "") && peer_has(p, "d", "10.0.0.3/32") &&
			owner_of(p, "10.0.0.3") == 3,
			"OVERRIDE: an unlisted peer loses the address, with a warning at its line; an unchanged peer is not reported");
	}
	nbp_diag_free(&d2);
	t = compile_text(p, "d");
	ktap_ok(t && strstr(t, "identity 1 a prefix 10.0.0.2/32 prefix fd00::9/128 group 1\n") &&
		strstr(t, "identity 2 b prefix 10.0.0.1/32 group 1\n") &&
		!strstr(t, " c prefix") &&
		strstr(t, "dst prefix 10.0.0.3/32 port 22\n"),
		"OVERRIDE: compiled identities and destinations use the new addresses");
	free(t);

	nbp_diag_init(&d2);
	ktap_ok(nbp_set_peers_addresses(p, &(struct nbp_peer_addrs){ "b", (const char *[]){ "10.0.0.8", "fd00::8" }, 2 }, 1,
					NBP_ADDRS_OVERRIDE, &d2) == 0 &&
		d2.n_warnings == 1 && d2.msgs[0].line == 4 &&
		strstr(d2.msgs[0].text, "peer 'b': addresses 10.0.0.1/32 replaced by 10.0.0.8/32, fd00::8/128"),
		"OVERRIDE: a listed peer's replaced addresses are reported at its line");
	nbp_diag_free(&d2);

	nbp_diag_init(&d2);
	ktap_ok(nbp_set_peers_addresses(p, NULL, 0, 0, &d2) == 0 && d2.n == 0 &&
		peer_has(p, "b", "10.0.0.8/32 fd00::8/128"),
		"set_peers_addresses: an empty set changes nothing");
	nbp_diag_free(&d2);
	nbp_diag_free(&d);
	nbp_free(p);
}

static void test_add_groups(void)
{
	static const char *yaml =
		"groups: [dev, prod, ops]\n"
		"peers:\n"
		"  - {name: a, addresses: [10.0.0.1], groups: [ops]}\n"
		"  - {name: b, addresses: [10.0.0.2], groups: [prod]}\n"
		"rules:\n"
		"  - {name: ssh, action: allow, sources: [dev], destinations: [prod], protocol: tcp, ports: [22]}\n";
	const char *dev[] = { "dev", "ops" }, *bad[] = { "dev", "nope" };
	struct nbp_diag d, d2;
	struct nbp_policy *p = load(yaml, &d);
	struct nbp_packet k;
	struct nbp_result r;
	char *t;

	if (!ktap_ok(p != NULL, "add_groups policy loads")) {
		nbp_diag_print(&d, stdout);
		nbp_diag_free(&d);
		return;
	}
	nbp_diag_init(&d2);
	ktap_ok(nbp_connected_peers(p, "a", NULL, NULL) == 0,
		"add_groups: a connected to nobody before");
	ktap_ok(nbp_add_peer(p, "a", dev, 1, NULL, 0, &d2) < 0 &&
		d2.n_errors == 1 && strstr(d2.msgs[0].text, "duplicate peer"),
		"add_peer refuses a peer the file names");
	ktap_ok(nbp_peer_add_groups(p, "a", bad, 2, &d2) < 0 &&
		d2.n_errors == 2 && strstr(d2.msgs[1].text, "unknown group 'nope'") &&
		nbp_connected_peers(p, "a", NULL, NULL) == 0,
		"add_groups: an unknown group fails and changes nothing");
	ktap_ok(nbp_peer_add_groups(p, "nosuch", dev, 1, &d2) < 0 &&
		d2.n_errors == 3, "add_groups: unknown peer fails");
	ktap_ok(nbp_peer_add_groups(p, "a", dev, 2, &d2) == 0 &&
		nbp_peer_add_groups(p, "a", dev, 2, &d2) == 0 && d2.n_errors == 3,
		"add_groups: adds, and again is harmless");
	pkt4(&k, "10.0.0.1", "10.0.0.2", 6, 22);
	nbp_eval(p, &k, &r);
	ktap_ok(r.action == NBG_ACTION_ALLOW && r.rule_id == 1,
		"add_groups: the added group's rule allows a -> b:22");
	ktap_ok(nbp_connected_peers(p, "a", NULL, NULL) == 1 &&
		nbp_connected_peers(p, "b", NULL, NULL) == 1,
		"add_groups: a and b are now connected");
	t = compile_text(p, "b");
	if (!ktap_ok(t && strstr(t, "identity 1 a prefix 10.0.0.1/32 group 1\n"),
		     "add_groups: compiled identity carries the added group"))
		printf("# got:\n%s", t ? t : "(null)\n");
	free(t);
	nbp_diag_free(&d2);
	nbp_diag_free(&d);
	nbp_free(p);
}

static void test_example(void)
{
	struct nbp_diag d;
	struct nbp_policy *p;
	unsigned int n = 0;
	int fails;

	nbp_diag_init(&d);
	p = nbp_load_file("policy/examples/production.yaml", &d);
	if (!ktap_ok(p && d.n == 0, "example production.yaml is valid without warnings")) {
		nbp_diag_print(&d, stdout);
		nbp_diag_free(&d);
		nbp_free(p);
		return;
	}
	fails = nbp_run_tests(p, &d, &n);
	ktap_ok(fails == 0 && n >= 30, "example tests pass (%u checks)", n);
	nbp_diag_free(&d);
	nbp_free(p);
	nbp_diag_init(&d);
	p = nbp_load_file("policy/examples/nosuchfile.yaml", &d);
	ktap_ok(!p && d.n_errors == 1, "missing file is an error");
	nbp_diag_free(&d);
}

/* The printed form is the ruleset file format: lib/rulesfile parses it
 * back into the very same description. */
static void test_roundtrip(void)
{
	struct nbg_ruleset_desc desc, back;
	struct nbp_diag d;
	struct nbp_policy *p;
	char err[NBG_ERR_MAX], *buf = NULL;
	size_t len = 0, i;
	bool ok = true;
	FILE *f;

	nbp_diag_init(&d);
	p = nbp_load_file("policy/examples/production.yaml", &d);
	for (i = 0; p && i < nbp_peer_count(p); i++) {
		if (nbp_compile(p, nbp_peer_name(p, i), &desc, &d)) {
			ok = false;
			break;
		}
		f = open_memstream(&buf, &len);
		nbp_desc_print(p, &desc, f);
		fclose(f);
		nbg_desc_init(&back);
		if (nbg_rules_parse_string(buf, len, "compiled", &back, NULL,
					   err, sizeof(err))) {
			printf("# %s\n", err);
			ok = false;
		} else {
			nbg_desc_canonicalize(&back);
			if (nbg_desc_cmp(&desc, &back)) {
				printf("# round trip differs for %s\n",
				       nbp_peer_name(p, i));
				ok = false;
			}
		}
		nbg_desc_free(&back);
		nbp_desc_free(&desc);
		free(buf);
		buf = NULL;
	}
	ktap_ok(p && ok, "compiled text parses back (lib/rulesfile) into the same ruleset");
	nbp_diag_free(&d);
	nbp_free(p);
}

int main(void)
{
	ktap_header();
	test_errors();
	test_warnings();
	test_eval();
	test_compile();
	test_connected();
	test_add_groups();
	test_set_many();
	test_run_tests();
	test_connected_denies();
	test_example();
	test_roundtrip();
	return ktap_done();
}
