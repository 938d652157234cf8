// SPDX-License-Identifier: GPL-2.0
/*
 * Classifier benchmark, built from kmod/classifier.c itself.
 *
 * Policies of 10 .. 100,000 rules over 10,000 identities in 100 groups:
 * rule k (id k+1) allows tcp (udp past 60,000 rules) to a port of its own
 * from group k % 100, or every tenth rule from one identity; every 50th
 * rule and the last one deny; two wildcard rules (icmp from anyone, and a
 * deny for tcp/23). Measured packets:
 *   hit   matches the last allow rule, the one a linear chain tries last
 *   miss  an identity's packet no rule matches (the default applies)
 *   deny  matches the last deny rule
 * Every verdict is checked before it is timed.
 *
 *   classifier_bench [--smoke] [--sizes N,N,..]   table: build time, memory,
 *                                                 ns per lookup
 *   classifier_bench --lookups SIZE KIND COUNT    COUNT lookups for callgrind
 *                                                 (selftests/bench/classifier.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "selftests/unit/testlib.h"

#ifndef N_IDENTS
#define N_IDENTS	10000
#endif
#define N_GROUPS	100
#define N_PKTS		256	/* packets per kind, cycled */

enum kind { HIT, MISS, DENY, N_KINDS };
static const char *const kind_names[] = { "hit", "miss", "deny" };

static void ident_addr(u32 i, u8 *a)
{
	memset(a, 0, 16);
	a[0] = 100;
	a[1] = 64 + (i >> 16);
	a[2] = i >> 8;
	a[3] = i;
}

static u8 rule_proto(u32 k)
{
	return k < 60000 ? IPPROTO_TCP : IPPROTO_UDP;
}

static u16 rule_port(u32 k)
{
	return 1024 + k % 60000;
}

static bool rule_deny(u32 k, u32 n)
{
	return k % 50 == 49 || k == n - 1;
}

/* Identity index (0-based) a rule names, or -1 for a group rule. */
static int rule_ident(u32 k)
{
	return k % 10 == 9 ? (int)((k * 7919u) % N_IDENTS) : -1;
}

static void gen(struct nbg_ruleset_desc *d, u32 n_rules)
{
	struct nbg_prefix p;
	struct nbg_rule_desc *r;
	u32 i, k;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < N_IDENTS; i++) {
		struct nbg_ident_desc *id = tl_add_ident(d, i + 1);

		memset(&p, 0, sizeof(p));
		p.family = AF_INET;
		p.len = 32;
		ident_addr(i, p.addr.raw);
		tl_ident_add_prefix(id, &p);
		p.family = AF_INET6;
		p.len = 128;
		p.addr.raw[0] = 0xfd;
		p.addr.raw[12] = i >> 24;
		p.addr.raw[13] = i >> 16;
		p.addr.raw[14] = i >> 8;
		p.addr.raw[15] = i;
		tl_ident_add_prefix(id, &p);
		tl_ident_add_group(id, 1 + i % N_GROUPS);
	}
	for (k = 0; k < n_rules; k++) {
		r = tl_add_rule(d, k + 1, rule_deny(k, n_rules) ?
				NBG_ACTION_DENY : NBG_ACTION_ALLOW, NBG_DIR_IN);
		r->proto_any = false;
		r->proto = rule_proto(k);
		tl_rule_add_ports(r, rule_port(k), rule_port(k));
		if (rule_ident(k) >= 0)
			tl_sel_add_ident(&r->src, rule_ident(k) + 1);
		else
			tl_sel_add_group(&r->src, 1 + k % N_GROUPS);
	}
	r = tl_add_rule(d, 2000000, NBG_ACTION_ALLOW, NBG_DIR_IN);
	r->proto_any = false;
	r->proto = IPPROTO_ICMP;
	r = tl_add_rule(d, 2000001, NBG_ACTION_DENY, NBG_DIR_IN);
	r->proto_any = false;
	r->proto = IPPROTO_TCP;
	tl_rule_add_ports(r, 23, 23);
}

/* Packets of one kind from identities the target rule admits. */
static void make_pkts(struct nbg_pkt *pk, enum kind kind, u32 n_rules,
		      u32 *want_rule)
{
	u32 k = n_rules - 1, i, ident;

	if (kind == HIT)
		for (k = n_rules - 1; k > 0 && rule_deny(k, n_rules); k--)
			;
	*want_rule = kind == MISS ? 0 : k + 1;
	for (i = 0; i < N_PKTS; i++) {
		struct nbg_pkt *p = &pk[i];

		memset(p, 0, sizeof(*p));
		p->family = AF_INET;
		p->direction = NBG_DIR_IN;
		p->proto = kind == MISS ? IPPROTO_TCP : rule_proto(k);
		p->dport = kind == MISS ? 65000 : rule_port(k);
		p->sport = 40000 + i;
		if (kind == MISS || rule_ident(k) < 0)
			ident = (k % N_GROUPS + i * N_GROUPS) % N_IDENTS;
		else
			ident = rule_ident(k);
		ident_addr(ident, p->saddr.raw);
		p->daddr.raw[0] = 10;
		p->daddr.raw[3] = 1;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct nbg_classifier *build(u32 n_rules, double *secs)
{
	struct nbg_ruleset_desc d;
	struct nbg_classifier *c;
	const char *err = NULL;
	double t;

	gen(&d, n_rules);
	if (nbg_desc_validate(&d, &err)) {
		fprintf(stderr, "validate: %s\n", err);
		exit(1);
	}
	t = now();
	c = nbg_classifier_build(&d, &err);
	*secs = now() - t;
	tl_desc_free(&d);
	if (!c) {
		fprintf(stderr, "build: %s\n", err);
		exit(1);
	}
	return c;
}

static bool check(const struct nbg_classifier *c, const struct nbg_pkt *pk,
		  enum kind kind, u32 want_rule)
{
	struct nbg_verdict v;
	u8 want = kind == HIT ? NBG_ACTION_ALLOW :
		  kind == DENY ? NBG_ACTION_DENY : NBG_ACTION_NONE;
	u32 i;

	for (i = 0; i < N_PKTS; i++) {
		nbg_classify(c, &pk[i], &v);
		if (v.action != want || v.rule_id != want_rule || !v.ident_id) {
			fprintf(stderr, "%s packet %u: got action %u rule %u ident %u, want action %u rule %u\n",
				kind_names[kind], i, v.action, v.rule_id,
				v.ident_id, want, want_rule);
			return false;
		}
	}
	return true;
}

static u32 sink;

static double ns_per_lookup(const struct nbg_classifier *c,
			    const struct nbg_pkt *pk, u32 iters)
{
	struct nbg_verdict v;
	double t = now();
	u32 i;

	for (i = 0; i < iters; i++) {
		nbg_classify(c, &pk[i % N_PKTS], &v);
		sink += v.rule_id;
	}
	return (now() - t) * 1e9 / iters;
}

static int table(const u32 *sizes, u32 n_sizes, u32 iters)
{
	static struct nbg_pkt pk[N_KINDS][N_PKTS];
	u32 s, k, want[N_KINDS];
	int ret = 0;

	printf("%8s %10s %12s %9s %9s %9s\n", "rules", "build_ms", "mem_KiB",
	       "hit_ns", "miss_ns", "deny_ns");
	for (s = 0; s < n_sizes; s++) {
		struct nbg_classifier *c;
		double secs, ns[N_KINDS];

		c = build(sizes[s], &secs);
		for (k = 0; k < N_KINDS; k++) {
			make_pkts(pk[k], k, sizes[s], &want[k]);
			if (!check(c, pk[k], k, want[k]))
				ret = 1;
			ns[k] = ns_per_lookup(c, pk[k], iters);
		}
		printf("%8u %10.1f %12.1f %9.1f %9.1f %9.1f\n", sizes[s],
		       secs * 1e3, nbg_classifier_mem(c) / 1024.0, ns[HIT],
		       ns[MISS], ns[DENY]);
		nbg_classifier_free(c);
	}
	return ret;
}

/* COUNT lookups with callgrind instrumentation on only around them. */
static int lookups(u32 size, const char *kind_name, u32 count)
{
	static struct nbg_pkt pk[N_PKTS];
	struct nbg_classifier *c;
	struct nbg_verdict v;
	u32 k, i, want;
	double secs;

	for (k = 0; k < N_KINDS && strcmp(kind_name, kind_names[k]); k++)
		;
	if (k == N_KINDS) {
		fprintf(stderr, "unknown kind %s\n", kind_name);
		return 2;
	}
	c = build(size, &secs);
	make_pkts(pk, k, size, &want);
	if (!check(c, pk, k, want))
		return 1;
	CALLGRIND_START_INSTRUMENTATION;
	for (i = 0; i < count; i++) {
		nbg_classify(c, &pk[i % N_PKTS], &v);
		sink += v.rule_id;
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	printf("%u lookups\n", count);
	nbg_classifier_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	static const u32 all[] = { 10, 1000, 10000, 100000 };
	u32 sizes[16], n = 0;
	char *s, *tok;

	if (argc == 5 && !strcmp(argv[1], "--lookups"))
		return lookups(strtoul(argv[2], NULL, 10), argv[3],
			       strtoul(argv[4], NULL, 10));
	if (argc == 2 && !strcmp(argv[1], "--smoke")) {
		/* a small run as a host test: verdicts are checked */
		static const u32 smoke[] = { 10, 1000 };
		ktap_plan(1);
		ktap_ok(!table(smoke, 2, 1000), "classifier_bench smoke");
		return ktap_done();
	}
	if (argc == 3 && !strcmp(argv[1], "--sizes")) {
		for (s = argv[2]; (tok = strtok(s, ",")) && n < 16; s = NULL)
			sizes[n++] = strtoul(tok, NULL, 10);
		return table(sizes, n, 2000000);
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--smoke | --sizes N,N.. | --lookups SIZE hit|miss|deny COUNT]\n",
			argv[0]);
		return 2;
	}
	return table(all, 4, 2000000);
}
