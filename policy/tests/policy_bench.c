// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark: load a policy of 10,000 peers in 100 groups with 1,000 rules
 * and compile it for a few nodes; prints the times (CPU and wall).
 *   build/policy_bench [PEERS GROUPS RULES]
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "policy/policy.h"
#include "lib/desc.h"

static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned int n_peers = argc > 3 ? atoi(argv[1]) : 10000;
	unsigned int n_groups = argc > 3 ? atoi(argv[2]) : 100;
	unsigned int n_rules = argc > 3 ? atoi(argv[3]) : 1000, i;
	struct nbg_ruleset_desc desc;
	struct nbp_policy *p;
	struct nbp_diag d;
	char *buf = NULL, *node;
	size_t len = 0;
	double t0, t_load, t_compile = 0, t_max = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned long idents = 0, rules = 0;

	srand(1);
	fprintf(f, "groups:\n");
	for (i = 0; i < n_groups; i++)
		fprintf(f, "  - g%u\n", i);
	fprintf(f, "peers:\n");
	for (i = 0; i < n_peers; i++)
		fprintf(f, "  - {name: p%u, addresses: [10.%u.%u.%u, 'fd00::%x'], groups: [g%u, g%u]}\n",
			i, (i >> 16) & 255, (i >> 8) & 255, i & 255, i + 1,
			i % n_groups, rand() % n_groups);
	fprintf(f, "rules:\n");
	for (i = 0; i < n_rules; i++)
		fprintf(f, "  - {name: r%u, action: %s, sources: [group:g%u, p%u], destinations: [group:g%u], protocol: tcp, ports: [%u, %u-%u]}\n",
			i, rand() % 10 ? "allow" : "deny", rand() % n_groups,
			rand() % n_peers, rand() % n_groups, 1 + rand() % 1000,
			2000 + i, 2100 + i);
	fclose(f);
	nbp_diag_init(&d);
	t0 = cpu();
	p = nbp_load_buffer("bench.yaml", buf, len, &d);
	t_load = cpu() - t0;
	if (!p) {
		nbp_diag_print(&d, stderr);
		return 1;
	}
	for (i = 0; i < 10; i++) {
		double t;

		node = (char *)nbp_peer_name(p, (i * 997) % n_peers);
		t0 = cpu();
		if (nbp_compile(p, node, &desc, &d)) {
			nbp_diag_print(&d, stderr);
			return 1;
		}
		t = cpu() - t0;
		t_compile += t;
		if (t > t_max)
			t_max = t;
		idents += desc.n_idents;
		rules += desc.n_rules;
		nbp_desc_free(&desc);
	}
	printf("policy_bench: %u peers, %u groups, %u rules (%zu bytes of YAML)\n",
	       n_peers, n_groups, n_rules, len);
	printf("  load+validate: %.1f ms CPU\n", t_load * 1e3);
	printf("  compile for one node: %.2f ms CPU on average, %.2f ms max (%lu identities, %lu rules on average)\n",
	       t_compile * 100, t_max * 1e3, idents / 10, rules / 10);
	nbp_diag_free(&d);
	nbp_free(p);
	free(buf);
	return 0;
}
