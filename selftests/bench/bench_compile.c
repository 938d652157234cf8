// SPDX-License-Identifier: GPL-2.0
/*
 * nbg-bench-compile: control-plane compile time through the policy
 * library (policy/policy.h), as the control plane uses it.
 *
 *   nbg-bench-compile FILE.yaml [REPS]
 *
 * Prints key=value lines: the time to parse and validate FILE, to compile
 * it for one node (the median of REPS), and to compile it for every peer
 * of the fleet, one after another (what a control plane does when the
 * policy changes), with the identities and rules that produced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kmod/classifier.h"
#include "policy/policy.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int compile_one(const struct nbp_policy *p, const char *node,
		       unsigned long *idents, unsigned long *rules)
{
	struct nbg_ruleset_desc d;
	struct nbp_diag diag;

	nbp_diag_init(&diag);
	if (nbp_compile(p, node, &d, &diag)) {
		nbp_diag_print(&diag, stderr);
		nbp_diag_free(&diag);
		return -1;
	}
	*idents += d.n_idents;
	*rules += d.n_rules;
	nbp_desc_free(&d);
	nbp_diag_free(&diag);
	return 0;
}

int main(int argc, char **argv)
{
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	unsigned long idents = 0, rules = 0;
	struct nbp_policy *p;
	struct nbp_diag diag;
	double t0, c0, t_load, t_all, c_all, *t_one;
	size_t n, i;

	if (argc < 2 || reps < 1) {
		fprintf(stderr, "usage: nbg-bench-compile FILE.yaml [REPS]\n");
		return 2;
	}
	nbp_diag_init(&diag);
	t0 = now();
	p = nbp_load_file(argv[1], &diag);
	t_load = now() - t0;
	if (!p) {
		nbp_diag_print(&diag, stderr);
		return 1;
	}
	n = nbp_peer_count(p);
	if (!n) {
		fprintf(stderr, "nbg-bench-compile: %s has no peers\n", argv[1]);
		return 1;
	}
	t_one = calloc(reps, sizeof(*t_one));
	if (!t_one)
		return 1;
	for (int r = 0; r < reps; r++) {
		unsigned long a = 0, b = 0;

		t0 = now();
		if (compile_one(p, nbp_peer_name(p, 0), &a, &b))
			return 1;
		t_one[r] = now() - t0;
		idents = a;
		rules = b;
	}
	qsort(t_one, reps, sizeof(*t_one), cmp_double);
	printf("BENCH compile peers=%zu groups=%zu rules=%zu load_s=%.4f one_node_s=%.6f one_node_idents=%lu one_node_rules=%lu\n",
	       n, nbp_group_count(p), nbp_rule_count(p), t_load,
	       t_one[reps / 2], idents, rules);
	idents = rules = 0;
	/* CPU time too: on a shared host wall time includes waiting. */
	t0 = now();
	c0 = cpu();
	for (i = 0; i < n; i++)
		if (compile_one(p, nbp_peer_name(p, i), &idents, &rules))
			return 1;
	t_all = now() - t0;
	c_all = cpu() - c0;
	printf("BENCH compile_all nodes=%zu all_nodes_s=%.4f all_nodes_cpu_s=%.4f total_idents=%lu total_rules=%lu\n",
	       n, t_all, c_all, idents, rules);
	free(t_one);
	nbp_free(p);
	nbp_diag_free(&diag);
	return 0;
}
