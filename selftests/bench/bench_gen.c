// SPDX-License-Identifier: GPL-2.0
/*
 * nbg-bench-gen: write one benchmark policy in the forms the data-plane
 * benchmark loads, so every configuration enforces exactly the same thing:
 *
 *   nbctl     ruleset text for `nbctl rules load` (Documentation/ruleset-format.md)
 *   nft       an `nft -f` script in the shape NetBird generates on Linux:
 *             a table whose input chain jumps on iifname, `ct state
 *             established,related accept`, one rule per (protocol, port,
 *             action) selector matching `ip saddr @set`, default drop
 *   iptables  an iptables-restore file with linear rules, one per source
 *             address and port (NetBird's fallback without ipset)
 *   yaml      a policy for the policy compiler (peers, groups, rules)
 *   addr      the traffic source's address (one line)
 *
 * The policy: I identities with /32 addresses 100.64.0.0 + k in G groups
 * (identity k is in group k % G + 1), and N rules. The last 2*S rules
 * allow the S traffic sources, identities I, I-1, .. I-S+1, to tcp and
 * udp ports PORT..PORT+1 (source 0, identity I, owns the very last two);
 * every rule before them allows one other identity (round robin) to a
 * distinct (protocol, port). So measured traffic is allowed, and a linear
 * chain tries (nearly) every other rule before the one that matches: the
 * worst case. Several sources let one server namespace serve several
 * clients (one per topology) with one loaded policy.
 * Rules name single identities so the linear iptables form has exactly
 * one rule per source address and port; groups are carried by identities.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_PORT	10000	/* filler ports: BASE_PORT + i/2, away from PORT */

struct gen {
	unsigned long n_rules, n_idents, n_groups;
	unsigned int port;	/* first measured port */
	unsigned long n_src;	/* traffic sources */
	const char *iface;	/* comma-separated guarded interfaces */
	int ct;			/* emit the conntrack shortcut */
};

static void addr(unsigned long k, char *buf, size_t len)
{
	unsigned long a = (100UL << 24) | (64UL << 16);

	a += k;
	snprintf(buf, len, "%lu.%lu.%lu.%lu", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

/* The rule at index i (0-based): source identity, protocol, port range. */
static void rule_at(const struct gen *g, unsigned long i, unsigned long *ident,
		    const char **proto, unsigned int *lo, unsigned int *hi)
{
	unsigned long tail = g->n_rules - 2 * g->n_src;

	if (i >= tail) {
		*ident = g->n_idents - (g->n_src - 1 - (i - tail) / 2);
		*proto = ((i - tail) & 1) ? "udp" : "tcp";
		*lo = g->port;
		*hi = g->port + 1;
		return;
	}
	*ident = i % (g->n_idents - g->n_src) + 1;
	*proto = (i & 1) ? "udp" : "tcp";
	*lo = *hi = BASE_PORT + i / 2;
}

static void gen_nbctl(const struct gen *g, FILE *f)
{
	char a[32];

	fprintf(f, "# nbg-bench-gen: %lu identities, %lu groups, %lu rules\n",
		g->n_idents, g->n_groups, g->n_rules);
	for (unsigned long k = 1; k <= g->n_idents; k++) {
		addr(k, a, sizeof(a));
		fprintf(f, "identity %lu id%lu prefix %s/32 group %lu\n", k, k,
			a, k % g->n_groups + 1);
	}
	for (unsigned long i = 0; i < g->n_rules; i++) {
		unsigned long id;
		const char *p;
		unsigned int lo, hi;

		rule_at(g, i, &id, &p, &lo, &hi);
		if (lo == hi)
			fprintf(f, "rule %lu allow in proto %s src ident %lu port %u\n",
				i + 1, p, id, lo);
		else
			fprintf(f, "rule %lu allow in proto %s src ident %lu port %u-%u\n",
				i + 1, p, id, lo, hi);
	}
	fprintf(f, "default in deny\n");
}

/*
 * NetBird names an ipset after its content, so rules with the same source
 * share a set: one set per identity that some rule names.
 */
static void gen_nft(const struct gen *g, FILE *f)
{
	unsigned long tail = g->n_rules - 2 * g->n_src;
	unsigned long used = tail < g->n_idents - g->n_src ?
			     tail : g->n_idents - g->n_src;
	char a[32], ifs[256], *ifn, *save;

	fprintf(f, "#!/usr/sbin/nft -f\n# nbg-bench-gen: %lu rules\n",
		g->n_rules);
	fprintf(f, "table ip netbird\ndelete table ip netbird\n");
	fprintf(f, "table ip netbird {\n");
	for (unsigned long k = 1; k <= used; k++) {
		addr(k, a, sizeof(a));
		fprintf(f, "\tset nb%lu {\n\t\ttype ipv4_addr\n\t\telements = { %s }\n\t}\n",
			k, a);
	}
	for (unsigned long k = g->n_idents - g->n_src + 1; k <= g->n_idents; k++) {
		addr(k, a, sizeof(a));
		fprintf(f, "\tset nb%lu {\n\t\ttype ipv4_addr\n\t\telements = { %s }\n\t}\n",
			k, a);
	}
	fprintf(f, "\tchain netbird-acl-input-rules {\n");
	if (g->ct)
		fprintf(f, "\t\tct state established,related counter accept\n");
	for (unsigned long i = 0; i < g->n_rules; i++) {
		unsigned long id;
		const char *p;
		unsigned int lo, hi;
		/* Only the measured rules count, so the others cost what
		 * NetBird's cost. */
		const char *cnt = i >= tail ? "counter " : "";

		rule_at(g, i, &id, &p, &lo, &hi);
		if (lo == hi)
			fprintf(f, "\t\tip saddr @nb%lu %s dport %u %saccept\n",
				id, p, lo, cnt);
		else
			fprintf(f, "\t\tip saddr @nb%lu %s dport %u-%u %saccept\n",
				id, p, lo, hi, cnt);
	}
	fprintf(f, "\t\tcounter drop\n\t}\n");
	fprintf(f, "\tchain netbird-acl-input-filter {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n");
	snprintf(ifs, sizeof(ifs), "%s", g->iface);
	for (ifn = strtok_r(ifs, ",", &save); ifn; ifn = strtok_r(NULL, ",", &save))
		fprintf(f, "\t\tiifname \"%s\" jump netbird-acl-input-rules\n", ifn);
	fprintf(f, "\t}\n}\n");
}

static void gen_iptables(const struct gen *g, FILE *f)
{
	char a[32], ifs[256], *ifn, *save;

	fprintf(f, "# nbg-bench-gen: %lu rules\n*filter\n:INPUT ACCEPT [0:0]\n"
		":NETBIRD-ACL-INPUT - [0:0]\n", g->n_rules);
	snprintf(ifs, sizeof(ifs), "%s", g->iface);
	for (ifn = strtok_r(ifs, ",", &save); ifn; ifn = strtok_r(NULL, ",", &save))
		fprintf(f, "-A INPUT -i %s -j NETBIRD-ACL-INPUT\n", ifn);
	if (g->ct)
		fprintf(f, "-A NETBIRD-ACL-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
	for (unsigned long i = 0; i < g->n_rules; i++) {
		unsigned long id;
		const char *p;
		unsigned int lo, hi;

		rule_at(g, i, &id, &p, &lo, &hi);
		addr(id, a, sizeof(a));
		if (lo == hi)
			fprintf(f, "-A NETBIRD-ACL-INPUT -s %s/32 -p %s -m %s --dport %u -j ACCEPT\n",
				a, p, p, lo);
		else
			fprintf(f, "-A NETBIRD-ACL-INPUT -s %s/32 -p %s -m %s --dport %u:%u -j ACCEPT\n",
				a, p, p, lo, hi);
	}
	fprintf(f, "-A NETBIRD-ACL-INPUT -j DROP\nCOMMIT\n");
}

/*
 * The policy compiler's input: the same fleet as peers in groups. Rules
 * here are group to group (that is what a fleet's policy looks like); the
 * compile benchmark measures the compiler, not the data plane.
 */
static void gen_yaml(const struct gen *g, FILE *f)
{
	char a[32];

	fprintf(f, "# nbg-bench-gen: %lu peers, %lu groups, %lu rules\n"
		"version: 1\ngroups:\n", g->n_idents, g->n_groups, g->n_rules);
	for (unsigned long j = 1; j <= g->n_groups; j++)
		fprintf(f, "  - g%lu\n", j);
	fprintf(f, "peers:\n");
	for (unsigned long k = 1; k <= g->n_idents; k++) {
		addr(k, a, sizeof(a));
		fprintf(f, "  - {name: p%lu, addresses: [%s], groups: [g%lu]}\n",
			k, a, k % g->n_groups + 1);
	}
	fprintf(f, "rules:\n");
	for (unsigned long i = 0; i < g->n_rules; i++)
		fprintf(f, "  - {name: r%lu, action: allow, sources: [group:g%lu], "
			"destinations: [group:g%lu], protocol: %s, ports: [%lu]}\n",
			i + 1, i % g->n_groups + 1, (i * 7 + 3) % g->n_groups + 1,
			(i & 1) ? "udp" : "tcp", BASE_PORT + i / 2);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nbg-bench-gen [-n RULES] [-i IDENTITIES] [-g GROUPS] [-p PORT]\n"
		"                     [-s SOURCES] [-I IFACE[,IFACE..]] [--no-ct]\n"
		"                     nbctl|nft|iptables|yaml|addr\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-ct", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct gen g = { .n_rules = 10, .n_idents = 10000, .n_groups = 100,
			 .port = 5201, .n_src = 1, .iface = "wg0", .ct = 1 };
	const char *fmt;
	char a[32];
	int c;

	while ((c = getopt_long(argc, argv, "n:i:g:p:s:I:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': g.n_rules = strtoul(optarg, NULL, 0); break;
		case 'i': g.n_idents = strtoul(optarg, NULL, 0); break;
		case 'g': g.n_groups = strtoul(optarg, NULL, 0); break;
		case 'p': g.port = strtoul(optarg, NULL, 0); break;
		case 's': g.n_src = strtoul(optarg, NULL, 0); break;
		case 'I': g.iface = optarg; break;
		case 'C': g.ct = 0; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (g.n_src < 1 || g.n_rules < 2 * g.n_src || g.n_idents <= g.n_src ||
	    g.n_groups < 1 ||
	    g.n_idents > (1UL << 22) - 2 || g.port < 1 || g.port > 9998 ||
	    g.n_rules / 2 + BASE_PORT > 65535) {
		fprintf(stderr, "nbg-bench-gen: need 2*SOURCES <= RULES <= %u, SOURCES < IDENTITIES < 2^22, GROUPS >= 1, 1 <= PORT < 9999\n",
			(65535 - BASE_PORT) * 2);
		return 2;
	}
	fmt = argv[optind];
	if (!strcmp(fmt, "nbctl"))
		gen_nbctl(&g, stdout);
	else if (!strcmp(fmt, "nft"))
		gen_nft(&g, stdout);
	else if (!strcmp(fmt, "iptables"))
		gen_iptables(&g, stdout);
	else if (!strcmp(fmt, "yaml"))
		gen_yaml(&g, stdout);
	else if (!strcmp(fmt, "addr")) {
		/* One line per source, source 0 first. */
		for (unsigned long k = 0; k < g.n_src; k++) {
			addr(g.n_idents - k, a, sizeof(a));
			printf("%s\n", a);
		}
	} else {
		usage(stderr);
		return 2;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "nbg-bench-gen: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
