// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic driver for fuzz_wire.c (run by `make check`): random
 * buffers, then mutations (bit flips, byte and length-field changes,
 * truncation, splicing) of valid frames of every message type, with a
 * fixed seed so a failure reproduces. KTAP output.
 *
 *   fuzz_wire [ITERATIONS] [SEED]   or   fuzz_wire FILE...  (replay)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/wire.h"
#include "selftests/ktap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: small, deterministic, good enough for mutation */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static struct nbw_buf seeds[16];
static size_t n_seeds;

static void add_seed(struct nbw_msg *m)
{
	char err[256];

	if (nbw_msg_encode(m, &seeds[n_seeds], err, sizeof(err))) {
		fprintf(stderr, "seed %s: %s\n", nbw_msg_name(m->type), err);
		exit(2);
	}
	n_seeds++;
}

static void node(struct nbw_node *n, const char *name, int i)
{
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->has_pubkey = true;
	memset(n->pubkey, i, 32);
	n->n_addrs = 2;
	nbw_addr_parse("100.64.0.2/16", &n->addrs[0]);
	nbw_addr_parse("fd00::2/64", &n->addrs[1]);
	n->n_endpoints = 2;
	nbw_endpoint_parse("192.0.2.1:51820", &n->endpoints[0]);
	nbw_endpoint_parse("[2001:db8::1]:1", &n->endpoints[1]);
}

static void make_seeds(void)
{
	struct nbw_msg m;

	nbw_msg_init(&m, NBW_MSG_HELLO);
	m.version = 1;
	m.keepalive = 25;
	strcpy(m.software, "x");
	add_seed(&m);
	nbw_msg_init(&m, NBW_MSG_ERROR);
	m.err_code = 3;
	strcpy(m.err_msg, "bad key");
	add_seed(&m);
	nbw_msg_init(&m, NBW_MSG_ENROLL);
	strcpy(m.setup_key, "key");
	strcpy(m.hostname, "host");
	m.has_pubkey = true;
	m.csr = strdup("CSR");
	add_seed(&m);
	nbw_msg_free(&m);
	nbw_msg_init(&m, NBW_MSG_ENROLLED);
	node(&m.self, "me", 1);
	m.cert = strdup("C");
	m.ca_cert = strdup("CA");
	add_seed(&m);
	nbw_msg_free(&m);
	nbw_msg_init(&m, NBW_MSG_LOGIN);
	m.has_pubkey = m.has_listen_port = true;
	m.listen_port = 51820;
	m.n_endpoints = 1;
	nbw_endpoint_parse("10.0.0.1:51820", &m.endpoints[0]);
	add_seed(&m);
	m.type = NBW_MSG_ENDPOINT;
	add_seed(&m);
	nbw_msg_init(&m, NBW_MSG_NETMAP);
	m.serial = 5;
	node(&m.self, "me", 1);
	m.n_peers = 3;
	m.peers = calloc(3, sizeof(*m.peers));
	node(&m.peers[0], "a", 2);
	node(&m.peers[1], "b", 3);
	node(&m.peers[2], "c", 4);
	m.ruleset = strdup("rule 1 allow in\n");
	add_seed(&m);
	nbw_msg_free(&m);
	nbw_msg_init(&m, NBW_MSG_KEY_ROTATE);
	m.has_pubkey = true;
	add_seed(&m);
	nbw_msg_init(&m, NBW_MSG_PING);
	add_seed(&m);
	m.type = NBW_MSG_PONG;
	add_seed(&m);
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	unsigned int k, n = 1 + rnd() % 4;

	for (k = 0; k < n && len; k++) {
		size_t at = rnd() % len;

		switch (rnd() % 7) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			buf[at] = (uint8_t)rnd();
			break;
		case 2:	/* interesting values in a 32-bit length field */
			if (at + 4 <= len) {
				static const uint32_t v[] = { 0, 1, 7, 8, 0xff,
					0x100000, 0x100001, 0x7fffffff,
					0xffffffff, 0xfffffff8 };
				uint32_t x = v[rnd() % 10];

				buf[at] = (uint8_t)(x >> 24);
				buf[at + 1] = (uint8_t)(x >> 16);
				buf[at + 2] = (uint8_t)(x >> 8);
				buf[at + 3] = (uint8_t)x;
			}
			break;
		case 3:
			len = at;	/* truncate */
			break;
		case 4:	/* duplicate a slice at the end */
			if (len + (len - at) <= cap) {
				memcpy(buf + len, buf + at, len - at);
				len += len - at;
			}
			break;
		case 5:	/* splice in another seed */
		{
			struct nbw_buf *s = &seeds[rnd() % n_seeds];
			size_t take = s->len < cap - at ? s->len : cap - at;

			memcpy(buf + at, s->data, take);
			if (at + take > len)
				len = at + take;
			break;
		}
		case 6:	/* fix the frame length to the buffer */
			if (len >= 8) {
				uint32_t x = (uint32_t)(len - 8);

				buf[0] = (uint8_t)(x >> 24);
				buf[1] = (uint8_t)(x >> 16);
				buf[2] = (uint8_t)(x >> 8);
				buf[3] = (uint8_t)x;
			}
			break;
		}
	}
	return len;
}

static int replay(int argc, char **argv)
{
	int i;

	ktap_plan(argc - 1);
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		static uint8_t buf[NBW_MAX_FRAME + 64];
		size_t n;

		if (!ktap_ok(f != NULL, "%s", argv[i]))
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	ktap_done();
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long iters = 200000, i, accepted = 0;
	static uint8_t buf[65536];
	size_t len, s;

	if (argc > 1 && strchr(argv[1], '/'))
		return replay(argc, argv);
	if (argc > 1)
		iters = strtoul(argv[1], NULL, 0);
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x6e62677561726421ull;
	make_seeds();
	ktap_plan(3);

	/* Every seed passes the invariants as is. */
	for (s = 0; s < n_seeds; s++)
		LLVMFuzzerTestOneInput(seeds[s].data, seeds[s].len);
	/* reaching here is the test: the invariants abort on a violation */
	ktap_ok(true, "valid frames of all %zu message types", n_seeds);

	for (i = 0; i < iters / 4; i++) {
		len = rnd() % 256;
		for (s = 0; s < len; s++)
			buf[s] = (uint8_t)rnd();
		/* half of them get a plausible header */
		if (len >= 8 && (i & 1)) {
			buf[0] = buf[1] = 0;
			buf[4] = 0;
			buf[5] = (uint8_t)(1 + rnd() % 10);
			buf[6] = 1;
			buf[7] = 0;
			mutate(buf, len, sizeof(buf));
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	/* text forms: random strings over their alphabets */
	for (i = 0; i < iters / 4; i++) {
		static const char alpha[] = "0123456789abcdefABCDEF:.[]/=+xyz";
		len = rnd() % 48;
		for (s = 0; s < len; s++)
			buf[s] = (uint8_t)alpha[rnd() % (sizeof(alpha) - 1)];
		LLVMFuzzerTestOneInput(buf, len);
	}
	ktap_ok(true, "%lu random inputs", iters / 2);

	for (i = 0; i < iters; i++) {
		struct nbw_buf *sd = &seeds[rnd() % n_seeds];
		struct nbw_msg m;
		char err[256];

		memcpy(buf, sd->data, sd->len);
		len = mutate(buf, sd->len, sizeof(buf));
		LLVMFuzzerTestOneInput(buf, len);
		if (!nbw_msg_decode(buf, len, &m, err, sizeof(err)))
			accepted++;
		nbw_msg_free(&m);
	}
	/* Some mutants must still be valid, or the mutator tests nothing. */
	ktap_diag("%lu of %lu mutants decoded", accepted, iters);
	ktap_ok(accepted, "%lu mutated frames", iters);
	for (s = 0; s < n_seeds; s++)
		nbw_buf_free(&seeds[s]);
	return ktap_done();
}
