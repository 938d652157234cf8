// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test: random policies (written as YAML, so the parser is in
 * the loop) are compiled for each of their peers, the ruleset is built by
 * the kernel classifier itself (kmod/classifier.c via lib/kshim.h), and
 * random packets arriving at that peer must get the same verdict and the
 * same rule id from the classifier as from the reference evaluator
 * (nbp_eval) on the source policy. Packets to addresses that are not the
 * node's own must be left to the default (the node does not route).
 * nbp_connected_peers must never leave out a peer nbp_eval lets a packet
 * pass to or from (deny rules only prune pairs they refuse entirely).
 *
 * NBP_DIFF_ITERS (default 400) policies, NBP_DIFF_SEED to reproduce.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "kmod/classifier.h"
#include "policy/policy.h"
#include "selftests/ktap.h"
#include "lib/desc.h"

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: reproducible across libcs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32) % n;
}

struct gen {
	char *buf;
	size_t len;
	FILE *f;
	int n_peers, n_groups, n_tags, n_nets;
};

static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", "all", "47", "6" };

static void gen_sel(struct gen *g)
{
	switch (rnd(9)) {
	case 0:
		fprintf(g->f, "'*'");
		break;
	case 1:
	case 2:
		fprintf(g->f, "peer:p%u", rnd(g->n_peers));
		break;
	case 3:
	case 4:
		fprintf(g->f, "group:g%u", rnd(g->n_groups));
		break;
	case 5:
		fprintf(g->f, "tag:t%u", rnd(g->n_tags));
		break;
	case 6:
		fprintf(g->f, "network:n%u", rnd(g->n_nets));
		break;
	case 7:
		fprintf(g->f, "10.0.0.%u/%u", rnd(4) * 4, 30 + rnd(3));
		break;
	default:
		fprintf(g->f, "'fd00::%x/%u'", rnd(4) * 4, 126 + rnd(3));
		break;
	}
}

static void gen_policy(struct gen *g)
{
	int i, j, n_rules = 1 + rnd(10);

	g->f = open_memstream(&g->buf, &g->len);
	g->n_peers = 2 + rnd(7);
	g->n_groups = 1 + rnd(4);
	g->n_tags = 1 + rnd(2);
	g->n_nets = 1 + rnd(2);
	fprintf(g->f, "groups: [");
	for (i = 0; i < g->n_groups; i++)
		fprintf(g->f, "%sg%d", i ? ", " : "", i);
	fprintf(g->f, "]\ntags: [");
	for (i = 0; i < g->n_tags; i++)
		fprintf(g->f, "%st%d", i ? ", " : "", i);
	fprintf(g->f, "]\npeers:\n");
	for (i = 0; i < g->n_peers; i++) {
		fprintf(g->f, "  - name: p%d\n    addresses: [", i);
		/* Some peers are v4 only, some v6 only, some have none. */
		j = rnd(8);
		if (j != 7 && j != 6)
			fprintf(g->f, "10.0.0.%d", i + 1);
		if (j >= 3 && j != 7)
			fprintf(g->f, "%s'fd00::%x'", j != 6 ? ", " : "", i + 1);
		fprintf(g->f, "]\n    groups: [");
		for (j = 0; j < g->n_groups; j++)
			if (rnd(3) == 0)
				fprintf(g->f, "g%d, ", j);
		fprintf(g->f, "]\n    tags: [");
		for (j = 0; j < g->n_tags; j++)
			if (rnd(3) == 0)
				fprintf(g->f, "t%d, ", j);
		fprintf(g->f, "]\n");
	}
	fprintf(g->f, "networks:\n");
	for (i = 0; i < g->n_nets; i++)
		fprintf(g->f, "  - {name: n%d, prefixes: [10.0.0.%u/%u, 'fd00::%x/%u']}\n",
			i, rnd(4) * 4, 30 + rnd(3), rnd(4) * 4, 126 + rnd(3));
	fprintf(g->f, "rules:\n");
	for (i = 0; i < n_rules; i++) {
		const char *proto = protos[rnd(7)];
		bool ports = (!strcmp(proto, "tcp") || !strcmp(proto, "udp") ||
			      !strcmp(proto, "6")) && rnd(3);

		fprintf(g->f, "  - name: r%d\n    action: %s\n    sources: [", i,
			rnd(3) ? "allow" : "deny");
		for (j = 0, n_rules += 0; j < 1 + (int)rnd(2); j++) {
			fprintf(g->f, j ? ", " : "");
			gen_sel(g);
		}
		fprintf(g->f, "]\n    destinations: [");
		for (j = 0; j < 1 + (int)rnd(2); j++) {
			fprintf(g->f, j ? ", " : "");
			gen_sel(g);
		}
		fprintf(g->f, "]\n    protocol: %s\n", proto);
		if (ports) {
			unsigned int lo = 1 + rnd(8);

			fprintf(g->f, "    ports: [%u", lo);
			if (rnd(2))
				fprintf(g->f, ", %u-%u", lo + 1, lo + 1 + rnd(4));
			fprintf(g->f, "]\n");
		}
		if (rnd(3) == 0)
			fprintf(g->f, "    bidirectional: true\n");
		if (rnd(8) == 0)
			fprintf(g->f, "    enabled: false\n");
	}
	fclose(g->f);
}

static void rand_addr(int family, uint8_t *a, const struct nbp_policy *p)
{
	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = 10;
		a[3] = rnd(16);	/* peers, networks and strangers */
		if (rnd(10) == 0)
			a[0] = 192;
	} else {
		a[0] = 0xfd;
		a[15] = rnd(16);
	}
}

struct stats {
	unsigned long policies, packets, mismatches, allows, denies;
	unsigned long compile_errors;
};

static int check_node(const struct nbp_policy *p, size_t node,
		      const char *yaml, struct stats *st)
{
	struct nbg_ruleset_desc desc;
	struct nbg_classifier *c;
	const struct nbp_addr *addrs;
	struct nbp_diag d;
	const char *err = NULL;
	size_t n_addrs = nbp_peer_addrs(p, node, &addrs);
	int i, bad = 0;

	nbp_diag_init(&d);
	if (nbp_compile(p, nbp_peer_name(p, node), &desc, &d)) {
		nbp_diag_print(&d, stdout);
		nbp_diag_free(&d);
		st->compile_errors++;
		return 1;
	}
	nbp_diag_free(&d);
	if (nbg_desc_validate(&desc, &err)) {
		printf("# compiled ruleset rejected by the classifier: %s\n", err);
		nbp_desc_print(p, &desc, stdout);
		nbp_desc_free(&desc);
		st->compile_errors++;
		return 1;
	}
	c = nbg_classifier_build(&desc, &err);
	if (!c) {
		printf("# classifier build failed: %s\n", err);
		nbp_desc_free(&desc);
		return 1;
	}
	for (i = 0; i < 200 && !bad; i++) {
		static const uint8_t pr[] = { 6, 17, 1, 58, 47, 132 };
		struct nbg_pkt kp = { 0 };
		struct nbp_packet pp = { 0 };
		struct nbg_verdict v;
		struct nbp_result r;
		bool to_node = n_addrs && rnd(8);
		int fam;

		if (to_node) {
			const struct nbp_addr *a = &addrs[rnd(n_addrs)];

			fam = a->family;
			memcpy(pp.daddr, a->addr, 16);
		} else {
			fam = rnd(2) ? AF_INET : AF_INET6;
			rand_addr(fam, pp.daddr, p);
		}
		rand_addr(fam, pp.saddr, p);
		pp.family = fam;
		pp.proto = pr[rnd(6)];
		pp.dport = (pp.proto == 6 || pp.proto == 17 || pp.proto == 132) ?
			   1 + rnd(14) : 0;
		kp.family = fam;
		kp.proto = pp.proto;
		kp.dport = pp.dport;
		kp.sport = 40000;
		kp.direction = NBG_DIR_IN;
		memcpy(kp.saddr.raw, pp.saddr, 16);
		memcpy(kp.daddr.raw, pp.daddr, 16);
		nbg_classify(c, &kp, &v);
		nbp_eval(p, &pp, &r);
		/* Is the destination one of the node's addresses? */
		{
			struct nbp_addr da = { .family = fam,
					       .len = fam == AF_INET ? 32 : 128 };
			size_t k;

			memcpy(da.addr, pp.daddr, 16);
			to_node = false;
			for (k = 0; k < n_addrs; k++)
				if (!memcmp(&addrs[k], &da, sizeof(da)))
					to_node = true;
		}
		st->packets++;
		if (to_node) {
			uint8_t kact = v.action == NBG_ACTION_NONE ?
				       NBG_ACTION_DENY : v.action;

			if (kact == r.action && v.rule_id == r.rule_id) {
				if (r.action == NBG_ACTION_ALLOW)
					st->allows++;
				else
					st->denies++;
				continue;
			}
		} else if (v.action == NBG_ACTION_NONE) {
			continue;
		}
		bad = 1;
		st->mismatches++;
		printf("# MISMATCH node %s packet fam %d proto %u dport %u src %02x..%02x dst ..%02x: kernel action %u rule %u, policy action %u rule %u%s\n",
		       nbp_peer_name(p, node), fam, pp.proto, pp.dport,
		       pp.saddr[0], fam == AF_INET ? pp.saddr[3] : pp.saddr[15],
		       fam == AF_INET ? pp.daddr[3] : pp.daddr[15], v.action,
		       v.rule_id, r.action, r.rule_id,
		       to_node ? "" : " (not addressed to the node)");
		printf("# policy:\n");
		{
			char *line = strdup(yaml), *save = NULL, *l;

			for (l = strtok_r(line, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save))
				printf("#   %s\n", l);
			free(line);
		}
		printf("# compiled:\n");
		nbp_desc_print(p, &desc, stdout);
	}
	nbg_classifier_free(c);
	nbp_desc_free(&desc);
	return bad;
}

static void flags_cb(const struct nbp_policy *p, size_t peer,
		     unsigned int flags, void *ctx)
{
	((unsigned int *)ctx)[peer] = flags;
}

/* Can any packet from @from reach @to under nbp_eval? Ports 0-14 and
 * 65535 cover every port range the generator writes. */
static bool any_allowed(const struct nbp_policy *p, size_t from, size_t to)
{
	static const uint8_t pr[] = { 6, 17, 1, 58, 47, 132 };
	const struct nbp_addr *fa, *ta;
	size_t nf = nbp_peer_addrs(p, from, &fa), nt = nbp_peer_addrs(p, to, &ta);
	size_t i, j, k;
	unsigned int port;

	for (i = 0; i < nf; i++)
		for (j = 0; j < nt; j++) {
			if (fa[i].family != ta[j].family)
				continue;
			for (k = 0; k < sizeof(pr); k++)
				for (port = 0; port <= 15; port++) {
					struct nbp_packet pp = {
						.family = fa[i].family,
						.proto = pr[k],
					};
					struct nbp_result r;

					if (pr[k] == 6 || pr[k] == 17 || pr[k] == 132)
						pp.dport = port == 15 ? 65535 : port;
					else if (port)
						break;
					memcpy(pp.saddr, fa[i].addr, 16);
					memcpy(pp.daddr, ta[j].addr, 16);
					nbp_eval(p, &pp, &r);
					if (r.action == NBG_ACTION_ALLOW)
						return true;
				}
		}
	return false;
}

/*
 * nbp_connected_peers may leave out only peers no packet can pass between
 * (the control plane does not tell a node about the others): a peer that
 * can reach @node must be flagged IN, one @node can reach OUT.
 */
static int check_connected(const struct nbp_policy *p, size_t node,
			   const char *yaml, unsigned long *pruned)
{
	size_t n = nbp_peer_count(p), x;
	unsigned int *flags = calloc(n, sizeof(*flags));
	int bad = 0;

	nbp_connected_peers(p, nbp_peer_name(p, node), flags_cb, flags);
	for (x = 0; x < n && !bad; x++) {
		bool in, out;

		if (x == node)
			continue;
		in = any_allowed(p, x, node);
		out = any_allowed(p, node, x);
		if ((in && !(flags[x] & NBP_CONN_IN)) ||
		    (out && !(flags[x] & NBP_CONN_OUT))) {
			printf("# node %s: peer %s flags %u but in=%d out=%d\n# policy:\n%s",
			       nbp_peer_name(p, node), nbp_peer_name(p, x),
			       flags[x], in, out, yaml);
			bad = 1;
		}
		if (!flags[x] && !in && !out)
			(*pruned)++;
	}
	free(flags);
	return bad;
}

int main(void)
{
	const char *s = getenv("NBP_DIFF_ITERS");
	unsigned long iters = s ? strtoul(s, NULL, 10) : 400, it;
	struct stats st = { 0 };
	unsigned long load_fail = 0, node_fail = 0, conn_fail = 0, pruned = 0;
	uint64_t seed;

	s = getenv("NBP_DIFF_SEED");
	seed = s ? strtoull(s, NULL, 0) : 0x6e626775617264ull;
	rng_state = seed ? seed : 1;
	ktap_header();
	printf("# seed 0x%llx, %lu policies\n", (unsigned long long)seed, iters);
	for (it = 0; it < iters; it++) {
		struct gen g = { 0 };
		struct nbp_diag d;
		struct nbp_policy *p;
		size_t n;

		gen_policy(&g);
		nbp_diag_init(&d);
		p = nbp_load_buffer("gen.yaml", g.buf, g.len, &d);
		if (!p) {
			if (load_fail++ < 3) {
				printf("# generated policy failed to load:\n");
				nbp_diag_print(&d, stdout);
				printf("%s", g.buf);
			}
		} else {
			st.policies++;
			for (n = 0; n < nbp_peer_count(p); n++) {
				node_fail += check_node(p, n, g.buf, &st);
				if (conn_fail < 3)
					conn_fail += check_connected(p, n, g.buf,
								     &pruned);
			}
		}
		nbp_diag_free(&d);
		nbp_free(p);
		free(g.buf);
		if (node_fail > 3)
			break;
	}
	printf("# %lu policies, %lu packets (%lu allowed, %lu denied at the node)\n",
	       st.policies, st.packets, st.allows, st.denies);
	ktap_ok(load_fail == 0, "every generated policy loads");
	ktap_ok(st.compile_errors == 0, "every compiled ruleset passes nbg_desc_validate");
	ktap_ok(st.mismatches == 0 && node_fail == 0,
		"classifier agrees with the reference evaluator on every packet");
	ktap_ok(conn_fail == 0 && pruned > 0,
		"connected peers include every peer a packet can pass to or from (%lu pairs left out)",
		pruned);
	/* The test must exercise both outcomes, or it proves nothing. */
	ktap_ok(st.allows > st.packets / 50 && st.denies > st.packets / 50,
		"both verdicts were exercised");
	return ktap_done();
}
