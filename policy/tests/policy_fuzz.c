// SPDX-License-Identifier: GPL-2.0
/*
 * Robustness: hostile input must give errors, never a crash or a hang.
 * Random bytes, random mutations of a valid policy, deep nesting, a huge
 * file, many aliases. Each case also runs the compiler, evaluator and
 * tests when the input happens to load. Run under valgrind/ASan for more
 * (make policy-asan). NBP_FUZZ_ITERS (default 3000) mutations.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "policy/policy.h"
#include "selftests/ktap.h"
#include "lib/desc.h"

static uint64_t rs = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11) % n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Load; if it loads, exercise everything. Returns errors seen (>=0). */
static unsigned int exercise(const char *buf, size_t len)
{
	struct nbp_diag d;
	struct nbp_policy *p;
	unsigned int errs;
	size_t i;

	nbp_diag_init(&d);
	p = nbp_load_buffer("fuzz.yaml", buf, len, &d);
	if (p) {
		struct nbg_ruleset_desc desc;
		struct nbp_packet k = { .family = AF_INET, .proto = 6, .dport = 22 };
		struct nbp_result r;

		nbp_run_tests(p, &d, NULL);
		for (i = 0; i < nbp_peer_count(p) && i < 8; i++)
			if (!nbp_compile(p, nbp_peer_name(p, i), &desc, &d))
				nbp_desc_free(&desc);
		nbp_eval(p, &k, &r);
		nbp_connected_peers(p, nbp_peer_count(p) ? nbp_peer_name(p, 0) : "x",
				    NULL, NULL);
	}
	errs = d.n_errors;
	/* Every error must carry a location or be a whole-file error. */
	nbp_diag_free(&d);
	nbp_free(p);
	return errs;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[*len] = 0;
	return buf;
}

int main(void)
{
	const char *s = getenv("NBP_FUZZ_ITERS");
	unsigned long iters = s ? strtoul(s, NULL, 10) : 3000, i;
	size_t base_len = 0, n, j;
	char *base, *buf;
	double t0;
	unsigned long rejected = 0;

	ktap_header();
	base = slurp("policy/examples/production.yaml", &base_len);
	if (!ktap_ok(base != NULL, "read the example policy"))
		return ktap_done();
	ktap_ok(exercise(base, base_len) == 0, "the unmutated example loads");

	/* Random bytes, including NULs and invalid UTF-8. */
	t0 = now();
	buf = malloc(4096);
	for (i = 0; i < iters; i++) {
		n = rnd(4096);
		for (j = 0; j < n; j++)
			buf[j] = rnd(256);
		exercise(buf, n);
	}
	ktap_ok(true, "random bytes: no crash (%.2fs)", now() - t0);
	free(buf);

	/* Mutations of a valid policy: flip, insert, delete, splice. */
	t0 = now();
	buf = malloc(base_len * 2 + 64);
	for (i = 0; i < iters; i++) {
		size_t len = base_len, m, pos;

		memcpy(buf, base, base_len);
		for (m = 0; m < 1 + rnd(4); m++) {
			pos = rnd(len);
			switch (rnd(4)) {
			case 0:
			{
				static const char sp[] = "-:[]{}#,'\"&*!|>%@ \n\t0aZ/";

				buf[pos] = sp[rnd(sizeof(sp) - 1)];
			}
				break;
			case 1:
				if (len < base_len * 2) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = rnd(256);
					len++;
				}
				break;
			case 2:
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
				break;
			default: {
				size_t from = rnd(len), cnt = rnd(40);

				if (from + cnt <= len && pos + cnt <= len)
					memmove(buf + pos, buf + from, cnt);
			}
			}
		}
		if (exercise(buf, len))
			rejected++;
	}
	ktap_ok(rejected > 0 && rejected < iters,
		"mutations: no crash, %lu of %lu rejected (%.2fs)", rejected,
		iters, now() - t0);
	free(buf);

	/* Deep nesting: refused at NBP_MAX_DEPTH, quickly. */
	t0 = now();
	n = 1000000;
	buf = malloc(2 * n + 1);
	memset(buf, '[', n);
	memset(buf + n, ']', n);
	ktap_ok(exercise(buf, 2 * n) > 0 && now() - t0 < 5,
		"1,000,000 nested lists: error (%.2fs)", now() - t0);
	t0 = now();
	for (j = 0; j < n; j++)
		buf[j] = "a:{"[j % 3 == 2 ? 2 : j % 3];
	ktap_ok(exercise(buf, n) > 0 && now() - t0 < 5,
		"deeply nested mappings: error (%.2fs)", now() - t0);
	free(buf);

	/* Huge input: just over the limit is refused without parsing. */
	t0 = now();
	n = NBP_MAX_INPUT + 1;
	buf = malloc(n);
	memset(buf, ' ', n);
	ktap_ok(exercise(buf, n) == 1 && now() - t0 < 5,
		"input over %u bytes: error (%.2fs)", NBP_MAX_INPUT, now() - t0);
	free(buf);

	/* A big but legal file: 20,000 peers parse in bounded time. */
	{
		FILE *f;
		char *big = NULL;
		size_t blen = 0;

		f = open_memstream(&big, &blen);
		fprintf(f, "groups: [g]\npeers:\n");
		for (j = 0; j < 20000; j++)
			fprintf(f, "  - {name: p%zu, addresses: [10.%zu.%zu.%zu], groups: [g]}\n",
				j, j >> 16, (j >> 8) & 255, j & 255);
		fprintf(f, "rules:\n  - {name: r, action: allow, sources: [g], destinations: [g]}\n");
		fclose(f);
		t0 = now();
		ktap_ok(exercise(big, blen) == 0 && now() - t0 < 20,
			"20,000 peers (%zu bytes): loads (%.2fs)", blen, now() - t0);
		free(big);
	}

	/* Aliases (billion laughs) are refused, not expanded. */
	{
		static const char laughs[] =
			"a: &a [x, x, x, x, x, x, x, x, x]\n"
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			"d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n";

		ktap_ok(exercise(laughs, sizeof(laughs) - 1) > 0,
			"YAML aliases refused");
	}
	free(base);
	return ktap_done();
}
