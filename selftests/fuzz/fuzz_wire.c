// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for every parser of the control-plane wire format:
 * nbw_frame_check (stream framing), nbw_attr_next (attributes) and
 * nbw_msg_decode (messages, nests). Invariants checked on every input:
 *  - parsers never read outside their input (ASan/valgrind find it),
 *  - a decoded message re-encodes, and the re-encoding decodes to a
 *    message that encodes to the same bytes (decode and encode agree),
 *  - a frame the decoder accepts is one nbw_frame_check accepts,
 *  - the text forms (endpoints, addresses, base64 keys) print back to
 *    what parses to the same value.
 *
 * Build with clang -fsanitize=fuzzer,address -DNBW_LIBFUZZER for
 * libFuzzer; without it, fuzz_wire_main.c drives it deterministically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const uint8_t *frame, size_t len,
			    const struct nbw_msg *m)
{
	struct nbw_buf a = { 0 }, b = { 0 };
	struct nbw_msg m2;
	char err[512];

	if (nbw_msg_encode(m, &a, err, sizeof(err))) {
		fprintf(stderr, "decoded %s does not re-encode: %s\n",
			nbw_msg_name(m->type), err);
		abort();
	}
	if (nbw_msg_decode(a.data, a.len, &m2, err, sizeof(err))) {
		fprintf(stderr, "re-encoded %s does not decode: %s\n",
			nbw_msg_name(m->type), err);
		abort();
	}
	if (nbw_msg_encode(&m2, &b, err, sizeof(err)) || a.len != b.len ||
	    memcmp(a.data, b.data, a.len)) {
		fprintf(stderr, "%s: encode/decode disagree\n",
			nbw_msg_name(m->type));
		abort();
	}
	/* The canonical encoding never grows (no padding is added). */
	if (a.len > len) {
		fprintf(stderr, "%s: re-encoding grew %zu -> %zu\n",
			nbw_msg_name(m->type), len, a.len);
		abort();
	}
	nbw_msg_free(&m2);
	nbw_buf_free(&a);
	nbw_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *q;
	size_t left = size, fl, n;
	struct nbw_attr a;
	struct nbw_msg m;
	char err[512];
	int r;

	/* Framing over a stream: take frames until the input runs out. */
	while ((r = nbw_frame_check(p, left, &fl, err, sizeof(err))) == 1) {
		if (fl < NBW_HDR_LEN || fl > left)
			abort();
		if (!nbw_msg_decode(p, fl, &m, err, sizeof(err)))
			check_roundtrip(p, fl, &m);
		nbw_msg_free(&m);
		p += fl;
		left -= fl;
	}
	/* The decoder on the raw input (any length) must agree with framing. */
	if (!nbw_msg_decode(data, size, &m, err, sizeof(err))) {
		if (nbw_frame_check(data, size, &fl, err, sizeof(err)) != 1 ||
		    fl != size)
			abort();
	}
	nbw_msg_free(&m);
	/* The text forms (node configs, CLI): parse, print, parse again. */
	{
		char txt[128], back[128];
		struct nbw_endpoint ep, ep2;
		struct nbw_addr ad, ad2;
		uint8_t key[NBW_KEY_LEN];
		char b64[NBW_KEY_B64_LEN];
		size_t tl = size < sizeof(txt) - 1 ? size : sizeof(txt) - 1;

		memcpy(txt, data, tl);
		txt[tl] = 0;
		if (!nbw_endpoint_parse(txt, &ep) &&
		    (nbw_endpoint_parse(nbw_endpoint_str(&ep, back, sizeof(back)),
					&ep2) || memcmp(&ep, &ep2, sizeof(ep))))
			abort();
		if (!nbw_addr_parse(txt, &ad) &&
		    (nbw_addr_parse(nbw_addr_str(&ad, back, sizeof(back)), &ad2) ||
		     memcmp(&ad, &ad2, sizeof(ad))))
			abort();
		if (!nbw_key_from_base64(key, txt)) {
			nbw_key_to_base64(b64, key);
			if (strcmp(b64, txt))
				abort();	/* only canonical keys parse */
		}
		(void)nbw_name_valid(txt);
	}
	/* Attributes straight from the bytes. */
	q = data;
	n = size;
	while (nbw_attr_next(&q, &n, &a, err, sizeof(err)) > 0)
		if (a.data < data || a.data + a.len > data + size)
			abort();
	return 0;
}
