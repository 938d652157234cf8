// SPDX-License-Identifier: GPL-2.0
/*
 * nbg-swap: load two rulesets alternately, N times in all, from one process
 * (one netlink socket), as fast as the module takes them. Used by the
 * atomic swap test while traffic runs; forking nbctl thousands of times
 * under software emulation would take minutes.
 *
 *   nbg-swap FILE_A FILE_B COUNT
 *
 * Prints "swaps N generation G ms T"; exit 0 if every load committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "lib/desc.h"
#include "lib/nbgnl.h"
#include "lib/rulesfile.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int parse(const char *path, struct nbg_ruleset_desc *d)
{
	char err[512];

	nbg_desc_init(d);
	if (nbg_rules_parse_file(path, d, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "nbg-swap: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct nbg_ruleset_desc d[2];
	struct nbg_nl *nl;
	long count, i, start;
	u64 gen = 0;
	int err;

	if (argc != 4 || (count = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: nbg-swap FILE_A FILE_B COUNT\n");
		return 2;
	}
	if (parse(argv[1], &d[0]) || parse(argv[2], &d[1]))
		return 2;
	err = nbg_nl_open(&nl);
	if (err) {
		fprintf(stderr, "nbg-swap: %s\n", nbg_nl_strerror(nl, err));
		return 2;
	}
	start = now_ms();
	for (i = 0; i < count; i++) {
		err = nbg_nl_load(nl, &d[i & 1], NULL, &gen);
		if (err) {
			fprintf(stderr, "nbg-swap: load %ld: %s\n", i,
				nbg_nl_strerror(nl, err));
			break;
		}
	}
	printf("swaps %ld generation %llu ms %ld\n", i,
	       (unsigned long long)gen, now_ms() - start);
	nbg_nl_close(nl);
	nbg_desc_free(&d[0]);
	nbg_desc_free(&d[1]);
	return i == count ? 0 : 1;
}
