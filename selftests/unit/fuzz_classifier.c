// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the classifier: bytes -> description (often invalid:
 * bad families, lengths, host bits, reversed port ranges, unknown
 * references, duplicate ids) -> nbg_desc_validate(); when it accepts,
 * nbg_classifier_build() and packets (also from the bytes) classified by
 * nbg_classify() and by the reference matcher, which must agree.
 *
 * With -DNBG_LIBFUZZER it is a libFuzzer target (make fuzz-classifier);
 * otherwise main() feeds it seeded random buffers and prints KTAP:
 *   fuzz_classifier [ITERATIONS] [SEED]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refmatch.h"
#include "testlib.h"

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static u16 word(struct input *in)
{
	return byte(in) | byte(in) << 8;
}

static void mask_prefix(struct nbg_prefix *p)
{
	unsigned int i, max = p->family == AF_INET ? 32 : 128;

	for (i = p->len; i < max && i < 128; i++)
		p->addr.raw[i / 8] &= ~(0x80 >> (i % 8));
}

/* Mostly valid prefixes from a small address space; sometimes not. */
static void get_prefix(struct input *in, struct nbg_prefix *p)
{
	uint8_t f = byte(in), l = byte(in), a = byte(in), b = byte(in);

	memset(p, 0, sizeof(*p));
	p->family = f == 0xff ? 7 : (f & 1) ? AF_INET6 : AF_INET;
	if (p->family == AF_INET6) {
		p->addr.raw[0] = 0xfd;
		p->addr.raw[14] = a;
		p->addr.raw[15] = b;
		p->len = (l & 0x80) ? l % 129 : 112 + l % 17;
	} else {
		p->addr.raw[0] = 10;
		p->addr.raw[2] = a;
		p->addr.raw[3] = b;
		p->len = (l & 0x80) ? l % 33 : 16 + l % 17;
	}
	if (f != 0xfe)		/* 0xfe: keep the host bits */
		mask_prefix(p);
	if (l == 0xff)		/* too long for the family */
		p->len = p->family == AF_INET ? 33 : 129;
}

static void get_sel(struct input *in, struct nbg_selector *s,
		    const struct nbg_ruleset_desc *d)
{
	uint8_t k = byte(in), i, n = k & 3;
	struct nbg_prefix p;

	s->any = k & 4;
	for (i = 0; i < n; i++) {
		uint8_t what = byte(in);

		if (what % 3 == 0) {
			/* usually a declared identity, sometimes not */
			u32 id = d->n_idents && what != 0xff ?
				 d->idents[byte(in) % d->n_idents].id : byte(in);
			tl_sel_add_ident(s, id);
		} else if (what % 3 == 1) {
			tl_sel_add_group(s, byte(in) % 8);
		} else {
			get_prefix(in, &p);
			tl_sel_add_prefix(s, &p);
		}
	}
	if (k & 8)
		s->any = true;
}

static void get_desc(struct input *in, struct nbg_ruleset_desc *d)
{
	uint8_t ni = byte(in) % 12, nr = byte(in) % 24, i, j;
	struct nbg_prefix p;

	for (i = 0; i < ni; i++) {
		uint8_t k = byte(in);
		struct nbg_ident_desc *id = tl_add_ident(d, k == 0xff ? 0 :
							 k == 0xfe ? 1 : i + 1);

		for (j = 0; j < (k & 3); j++) {
			get_prefix(in, &p);
			tl_ident_add_prefix(id, &p);
		}
		for (j = 0; j < ((k >> 2) & 3); j++)
			tl_ident_add_group(id, byte(in) % 8);
	}
	for (i = 0; i < nr; i++) {
		uint8_t k = byte(in), pr = byte(in);
		struct nbg_rule_desc *r;

		r = tl_add_rule(d, k == 0xff ? 0 : k == 0xfe ? 1 : 300 - i * 7,
				(k & 1) ? NBG_ACTION_DENY : NBG_ACTION_ALLOW,
				(k >> 1) & 1);
		if (k == 0xfd)
			r->action = 3;
		if (k == 0xfc)
			r->direction = 2;
		r->proto_any = pr < 64;
		if (!r->proto_any) {
			static const u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP,
						     IPPROTO_ICMP, IPPROTO_SCTP,
						     IPPROTO_UDPLITE, 47 };

			r->proto = protos[pr % 6];
		}
		/* ports mostly only where allowed */
		for (j = 0; j < ((k >> 2) & 3) &&
			    (r->proto_any ? pr == 0 :
			     (r->proto != IPPROTO_ICMP && r->proto != 47) ||
			     pr == 0xff); j++) {
			u16 lo = word(in) % 64, hi = lo + byte(in) % 8;

			if (k & 0x40)
				hi = 65535;
			if (byte(in) == 0xff)
				hi = lo - 1;	/* reversed */
			tl_rule_add_ports(r, lo, hi);
		}
		get_sel(in, &r->src, d);
		get_sel(in, &r->dst, d);
	}
}

static void get_pkt(struct input *in, struct nbg_pkt *p)
{
	struct nbg_prefix a, b;
	uint8_t k = byte(in);

	get_prefix(in, &a);
	get_prefix(in, &b);
	memset(p, 0, sizeof(*p));
	p->family = (k & 1) ? AF_INET6 : AF_INET;
	p->direction = (k >> 1) & 1;
	p->proto = (k & 4) ? IPPROTO_TCP : (k & 8) ? IPPROTO_UDP : byte(in);
	p->dport = word(in) % 72;
	if (k & 0x10)
		p->dport = 65535 - p->dport % 2;
	memcpy(p->saddr.raw, a.addr.raw, 16);
	memcpy(p->daddr.raw, b.addr.raw, 16);
	/* the low bits the prefix masked away */
	p->saddr.raw[p->family == AF_INET ? 3 : 15] |= byte(in) & 7;
	p->daddr.raw[p->family == AF_INET ? 3 : 15] |= byte(in) & 7;
}

static unsigned long n_valid, n_pkts;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct nbg_ruleset_desc d = { 0 };
	struct nbg_classifier *c;
	const char *err = NULL;

	get_desc(&in, &d);
	if (nbg_desc_validate(&d, &err)) {
		if (!err)
			abort();	/* a rejection must say why */
		tl_desc_free(&d);
		return 0;
	}
	n_valid++;
	c = nbg_classifier_build(&d, &err);
	if (!c)
		abort();
	while (in.n) {
		struct nbg_verdict want, got;
		struct nbg_pkt p;

		get_pkt(&in, &p);
		ref_classify(&d, &p, &want);
		nbg_classify(c, &p, &got);
		n_pkts++;
		if (want.action != got.action || want.rule_id != got.rule_id ||
		    want.ident_id != got.ident_id ||
		    (want.action && want.rule_index != got.rule_index)) {
			fprintf(stderr, "mismatch: want %u/%u/%u got %u/%u/%u\n",
				want.action, want.rule_id, want.ident_id,
				got.action, got.rule_id, got.ident_id);
			abort();
		}
	}
	nbg_classifier_free(c);
	tl_desc_free(&d);
	return 0;
}

#ifndef NBG_LIBFUZZER
static u64 rng_state;

static uint8_t rnd8(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545F4914F6CDD1DULL) >> 56;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000, i;
	u64 seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x66757a7aULL;
	static uint8_t buf[4096];
	size_t n, j;

	ktap_plan(1);
	ktap_diag("seed %llu, %lu inputs (fuzz_classifier [ITERATIONS] [SEED])",
		  (unsigned long long)seed, iters);
	rng_state = seed | 1;
	for (i = 0; i < iters; i++) {
		n = 64 + rnd8() * 8;
		for (j = 0; j < n; j++)
			buf[j] = rnd8();
		LLVMFuzzerTestOneInput(buf, n);
	}
	/* crashes and mismatches abort(); reaching here means none */
	ktap_ok(n_valid > iters / 20 && n_pkts > 0,
		"%lu inputs, %lu valid rulesets, %lu packets agree",
		iters, n_valid, n_pkts);
	return ktap_done();
}
#endif
