// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the control-plane wire codec (proto/wire.c):
 * round trips of every message, framing over a byte stream, and refusal
 * of every kind of malformed input the protocol document lists. KTAP.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/wire.h"
#include "selftests/ktap.h"

/* The reason goes before the failing line, as a KTAP comment. */
static void result(bool ok, const char *name, const char *why)
{
	if (!ok)
		ktap_diag("%s: %s", name, why ? why : "");
	ktap_ok(ok, "%s", name);
}

#define CHECK(cond) do { if (!(cond)) { snprintf(why, sizeof(why), \
	"line %d: %s", __LINE__, #cond); return false; } } while (0)

static char why[2048];
static char err[1024];

static void fill_node(struct nbw_node *n, const char *name, int i)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->has_pubkey = true;
	memset(n->pubkey, 0x40 + i, sizeof(n->pubkey));
	n->n_addrs = 2;
	nbw_addr_parse("100.64.0.7/16", &n->addrs[0]);
	n->addrs[0].addr[3] = (uint8_t)i;
	nbw_addr_parse("fd00:6e62::7/64", &n->addrs[1]);
	n->n_endpoints = 2;
	nbw_endpoint_parse("192.0.2.1:51820", &n->endpoints[0]);
	nbw_endpoint_parse("[2001:db8::1]:51821", &n->endpoints[1]);
}

static bool node_eq(const struct nbw_node *a, const struct nbw_node *b)
{
	return !strcmp(a->name, b->name) && a->has_pubkey == b->has_pubkey &&
	       !memcmp(a->pubkey, b->pubkey, sizeof(a->pubkey)) &&
	       a->n_addrs == b->n_addrs && a->n_endpoints == b->n_endpoints &&
	       !memcmp(a->addrs, b->addrs, a->n_addrs * sizeof(a->addrs[0])) &&
	       !memcmp(a->endpoints, b->endpoints,
		       a->n_endpoints * sizeof(a->endpoints[0]));
}

/* Encode m, decode it into out; false on any failure. */
static bool roundtrip(const struct nbw_msg *m, struct nbw_msg *out)
{
	struct nbw_buf b = { 0 };
	size_t fl = 0;
	int r;

	if (nbw_msg_encode(m, &b, err, sizeof(err))) {
		snprintf(why, sizeof(why), "encode: %s", err);
		return false;
	}
	r = nbw_frame_check(b.data, b.len, &fl, err, sizeof(err));
	if (r != 1 || fl != b.len) {
		snprintf(why, sizeof(why), "frame_check %d %zu/%zu %s", r, fl,
			 b.len, err);
		nbw_buf_free(&b);
		return false;
	}
	r = nbw_msg_decode(b.data, b.len, out, err, sizeof(err));
	nbw_buf_free(&b);
	if (r) {
		snprintf(why, sizeof(why), "decode: %s", err);
		return false;
	}
	return out->type == m->type;
}

static bool t_hello(void)
{
	struct nbw_msg m, o;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_HELLO);
	m.version = 1;
	m.keepalive = 25;
	strcpy(m.software, "nbhelper 0.1");
	ok = roundtrip(&m, &o) && o.version == 1 && o.keepalive == 25 &&
	     !strcmp(o.software, "nbhelper 0.1");
	nbw_msg_free(&o);
	return ok;
}

static bool t_error(void)
{
	struct nbw_msg m, o;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_ERROR);
	m.err_code = NBW_E_KEY_EXPIRED;
	strcpy(m.err_msg, "setup key expired");
	ok = roundtrip(&m, &o) && o.err_code == NBW_E_KEY_EXPIRED &&
	     !strcmp(o.err_msg, "setup key expired");
	nbw_msg_free(&o);
	return ok;
}

static bool t_enroll(void)
{
	struct nbw_msg m, o;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_ENROLL);
	strcpy(m.setup_key, "nbk_abc");
	strcpy(m.hostname, "web-1.example");
	m.has_pubkey = true;
	memset(m.pubkey, 7, 32);
	m.csr = strdup("-----BEGIN CERTIFICATE REQUEST-----\nxx\n");
	ok = roundtrip(&m, &o) && !strcmp(o.setup_key, "nbk_abc") &&
	     !strcmp(o.hostname, "web-1.example") && o.has_pubkey &&
	     !memcmp(o.pubkey, m.pubkey, 32) && !strcmp(o.csr, m.csr);
	nbw_msg_free(&o);
	nbw_msg_free(&m);
	return ok;
}

static bool t_enrolled(void)
{
	struct nbw_msg m, o;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_ENROLLED);
	fill_node(&m.self, "laptop", 3);
	m.self.has_pubkey = false;
	memset(m.self.pubkey, 0, sizeof(m.self.pubkey));
	m.self.n_endpoints = 0;
	m.cert = strdup("CERT");
	m.ca_cert = strdup("CA");
	ok = roundtrip(&m, &o) && node_eq(&m.self, &o.self) &&
	     !strcmp(o.cert, "CERT") && !strcmp(o.ca_cert, "CA");
	nbw_msg_free(&o);
	nbw_msg_free(&m);
	return ok;
}

static bool t_login_endpoint(void)
{
	struct nbw_msg m, o;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_LOGIN);
	m.has_pubkey = true;
	memset(m.pubkey, 9, 32);
	m.has_listen_port = true;
	m.listen_port = 51820;
	m.n_endpoints = 1;
	nbw_endpoint_parse("10.1.2.3:51820", &m.endpoints[0]);
	ok = roundtrip(&m, &o) && o.listen_port == 51820 &&
	     o.n_endpoints == 1 &&
	     !memcmp(&o.endpoints[0], &m.endpoints[0], sizeof(m.endpoints[0]));
	nbw_msg_free(&o);
	if (!ok)
		return false;
	m.type = NBW_MSG_ENDPOINT;
	m.has_pubkey = false;
	m.has_listen_port = false;
	ok = roundtrip(&m, &o) && !o.has_listen_port && o.n_endpoints == 1;
	nbw_msg_free(&o);
	return ok;
}

static bool t_netmap(void)
{
	struct nbw_msg m, o;
	unsigned int i;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_NETMAP);
	m.serial = 0x0102030405060708ull;
	fill_node(&m.self, "self", 1);
	m.n_peers = 100;
	m.peers = calloc(m.n_peers, sizeof(*m.peers));
	for (i = 0; i < m.n_peers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "peer%u", i);
		fill_node(&m.peers[i], name, (int)i);
	}
	m.ruleset = strdup("identity 1 a prefix 100.64.0.1/32\n");
	ok = roundtrip(&m, &o) && o.serial == m.serial &&
	     node_eq(&o.self, &m.self) && o.n_peers == 100 &&
	     !strcmp(o.ruleset, m.ruleset);
	for (i = 0; ok && i < m.n_peers; i++)
		ok = node_eq(&o.peers[i], &m.peers[i]);
	nbw_msg_free(&o);
	nbw_msg_free(&m);
	return ok;
}

static bool t_ping_keyrotate(void)
{
	struct nbw_msg m, o;
	bool ok;

	nbw_msg_init(&m, NBW_MSG_PING);
	m.cookie = ~0ull;
	ok = roundtrip(&m, &o) && o.cookie == ~0ull;
	nbw_msg_free(&o);
	m.type = NBW_MSG_PONG;
	ok = ok && roundtrip(&m, &o) && o.cookie == ~0ull;
	nbw_msg_free(&o);
	nbw_msg_init(&m, NBW_MSG_KEY_ROTATE);
	m.has_pubkey = true;
	memset(m.pubkey, 0xaa, 32);
	ok = ok && roundtrip(&m, &o) && o.pubkey[31] == 0xaa;
	nbw_msg_free(&o);
	return ok;
}

/* Two frames arriving one byte at a time are found one after the other. */
static bool t_stream(void)
{
	struct nbw_buf b = { 0 }, in = { 0 };
	struct nbw_msg m, o;
	size_t i, fl, got = 0;
	bool ok = true;

	nbw_msg_init(&m, NBW_MSG_PING);
	m.cookie = 1;
	nbw_msg_encode(&m, &b, err, sizeof(err));
	m.cookie = 2;
	nbw_msg_encode(&m, &b, err, sizeof(err));
	for (i = 0; i < b.len && ok; i++) {
		int r;

		nbw_buf_put(&in, b.data + i, 1);
		r = nbw_frame_check(in.data, in.len, &fl, err, sizeof(err));
		if (r < 0)
			ok = false;
		if (r == 1) {
			ok = !nbw_msg_decode(in.data, fl, &o, err, sizeof(err)) &&
			     o.cookie == ++got;
			nbw_buf_consume(&in, fl);
		}
	}
	ok = ok && got == 2 && in.len == 0;
	nbw_buf_free(&b);
	nbw_buf_free(&in);
	return ok;
}

/* ---- malformed input ----------------------------------------------------- */

struct raw {
	uint8_t b[4096];
	size_t len;
};

static void raw_hdr(struct raw *r, uint16_t type)
{
	memset(r, 0, sizeof(*r));
	r->b[5] = (uint8_t)type;
	r->b[4] = (uint8_t)(type >> 8);
	r->b[6] = NBW_WIRE_VERSION;
	r->len = NBW_HDR_LEN;
}

static size_t raw_attr(struct raw *r, uint16_t type, uint16_t flags,
		       const void *v, uint32_t len)
{
	size_t off = r->len;
	uint8_t *p = r->b + r->len;

	p[0] = type >> 8; p[1] = (uint8_t)type;
	p[2] = flags >> 8; p[3] = (uint8_t)flags;
	p[4] = len >> 24; p[5] = (uint8_t)(len >> 16);
	p[6] = (uint8_t)(len >> 8); p[7] = (uint8_t)len;
	if (v)
		memcpy(p + 8, v, len);
	r->len += 8 + len;
	return off;
}

static void raw_fix(struct raw *r)
{
	uint32_t n = (uint32_t)(r->len - NBW_HDR_LEN);

	r->b[0] = n >> 24; r->b[1] = (uint8_t)(n >> 16);
	r->b[2] = (uint8_t)(n >> 8); r->b[3] = (uint8_t)n;
}

static bool rejects(struct raw *r, const char *expect)
{
	struct nbw_msg m;
	int ret;

	raw_fix(r);
	ret = nbw_msg_decode(r->b, r->len, &m, err, sizeof(err));
	nbw_msg_free(&m);
	if (ret == 0) {
		snprintf(why, sizeof(why), "accepted (expected '%s')", expect);
		return false;
	}
	if (!strstr(err, expect)) {
		snprintf(why, sizeof(why), "error '%s' lacks '%s'", err, expect);
		return false;
	}
	return true;
}

static const uint8_t v1[4] = { 0, 0, 0, 1 };
static const uint8_t cookie[8];

static bool t_bad_header(void)
{
	struct raw r;
	size_t fl;

	raw_hdr(&r, NBW_MSG_PING);
	CHECK(nbw_frame_check(r.b, 7, &fl, err, sizeof(err)) == 0);
	r.b[0] = 0x00; r.b[1] = 0x10; r.b[2] = 0; r.b[3] = 1; /* 1 MiB + 1 */
	CHECK(nbw_frame_check(r.b, 8, &fl, err, sizeof(err)) == -1);
	CHECK(strstr(err, "limit"));
	r.b[1] = 0; r.b[3] = 4;
	CHECK(nbw_frame_check(r.b, 8, &fl, err, sizeof(err)) == 0);
	r.b[6] = 2;
	CHECK(nbw_frame_check(r.b, 8, &fl, err, sizeof(err)) == -1);
	r.b[6] = 1; r.b[7] = 1;
	CHECK(nbw_frame_check(r.b, 8, &fl, err, sizeof(err)) == -1);
	r.b[7] = 0; r.b[5] = 0;
	CHECK(nbw_frame_check(r.b, 8, &fl, err, sizeof(err)) == -1);
	r.b[5] = __NBW_MSG_MAX;
	CHECK(nbw_frame_check(r.b, 8, &fl, err, sizeof(err)) == -1);
	/* decode insists on exactly one frame */
	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, NBW_A_COOKIE, 0, cookie, 8);
	raw_fix(&r);
	{
		struct nbw_msg m;

		CHECK(nbw_msg_decode(r.b, r.len, &m, err, sizeof(err)) == 0);
		CHECK(nbw_msg_decode(r.b, r.len - 1, &m, err, sizeof(err)) < 0);
		CHECK(nbw_msg_decode(r.b, r.len + 1, &m, err, sizeof(err)) < 0);
	}
	return true;
}

static bool t_bad_attrs(void)
{
	static const uint8_t key[32], ep0[8] = { 4, 0, 0, 0, 1, 2, 3, 4 };
	static const uint8_t addr33[6] = { 4, 33, 1, 2, 3, 4 };
	struct raw r;
	size_t off;

	raw_hdr(&r, NBW_MSG_PING);
	CHECK(rejects(&r, "missing attribute COOKIE"));
	raw_attr(&r, NBW_A_COOKIE, 0, cookie, 8);
	raw_attr(&r, NBW_A_COOKIE, 0, cookie, 8);
	CHECK(rejects(&r, "duplicate"));

	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, NBW_A_COOKIE, 0, cookie, 4);
	CHECK(rejects(&r, "length 4, expected 8"));

	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, 999, 0, cookie, 8);
	CHECK(rejects(&r, "unexpected attribute"));

	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, NBW_A_VERSION, 0, v1, 4);	/* known, wrong message */
	CHECK(rejects(&r, "unexpected attribute VERSION"));

	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, NBW_A_COOKIE, 2, cookie, 8);
	CHECK(rejects(&r, "unknown flags"));

	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, NBW_A_COOKIE, NBW_AF_NESTED, cookie, 8);
	CHECK(rejects(&r, "nested flag not allowed"));

	raw_hdr(&r, NBW_MSG_PING);
	off = raw_attr(&r, NBW_A_COOKIE, 0, cookie, 8);
	r.b[off + 7] = 9;	/* attribute longer than the frame */
	CHECK(rejects(&r, "exceeds"));

	raw_hdr(&r, NBW_MSG_PING);
	raw_attr(&r, NBW_A_COOKIE, 0, cookie, 8);
	r.len += 3;		/* trailing garbage shorter than a header */
	CHECK(rejects(&r, "truncated"));

	raw_hdr(&r, NBW_MSG_HELLO);
	raw_attr(&r, NBW_A_VERSION, 0, v1, 4);
	raw_attr(&r, NBW_A_SOFTWARE, 0, "a\0b", 3);
	CHECK(rejects(&r, "NUL"));

	raw_hdr(&r, NBW_MSG_ENROLL);
	raw_attr(&r, NBW_A_SETUP_KEY, 0, "k", 1);
	raw_attr(&r, NBW_A_WG_PUBKEY, 0, key, 32);
	raw_attr(&r, NBW_A_HOSTNAME, 0, "bad name", 8);
	raw_attr(&r, NBW_A_CSR, 0, "x", 1);
	CHECK(rejects(&r, "not a valid name"));

	raw_hdr(&r, NBW_MSG_LOGIN);
	raw_attr(&r, NBW_A_WG_PUBKEY, 0, key, 32);
	raw_attr(&r, NBW_A_LISTEN_PORT, 0, "\x01\x00", 2);
	raw_attr(&r, NBW_A_ENDPOINT, 0, ep0, 8);
	CHECK(rejects(&r, "port 0"));

	raw_hdr(&r, NBW_MSG_LOGIN);
	raw_attr(&r, NBW_A_WG_PUBKEY, 0, key, 32);
	raw_attr(&r, NBW_A_LISTEN_PORT, 0, "\x01\x00", 2);
	for (int i = 0; i <= NBW_MAX_ENDPOINTS; i++)
		raw_attr(&r, NBW_A_ENDPOINT, 0,
			 "\x04\x00\x01\x00\x01\x02\x03\x04", 8);
	CHECK(rejects(&r, "more than 16 ENDPOINT"));

	raw_hdr(&r, NBW_MSG_LOGIN);
	raw_attr(&r, NBW_A_WG_PUBKEY, 0, key, 32);
	raw_attr(&r, NBW_A_LISTEN_PORT, 0, "\x01\x00", 2);
	raw_attr(&r, NBW_A_ENDPOINT, 0, "\x06\x00\x01\x00\x01\x02\x03\x04", 8);
	CHECK(rejects(&r, "family 6 with 8 bytes"));

	/* NETMAP: nest contents are checked too */
	raw_hdr(&r, NBW_MSG_NETMAP);
	raw_attr(&r, NBW_A_SERIAL, 0, cookie, 8);
	off = r.len;
	raw_attr(&r, NBW_A_SELF, NBW_AF_NESTED, NULL, 0);
	raw_attr(&r, NBW_A_NAME, 0, "me", 2);
	raw_attr(&r, NBW_A_ADDR, 0, addr33, 6);
	{
		uint32_t n = (uint32_t)(r.len - off - 8);

		r.b[off + 6] = (uint8_t)(n >> 8);
		r.b[off + 7] = (uint8_t)n;
	}
	raw_attr(&r, NBW_A_RULESET, 0, "", 0);
	CHECK(rejects(&r, "prefix length 33"));

	raw_hdr(&r, NBW_MSG_NETMAP);
	raw_attr(&r, NBW_A_SERIAL, 0, cookie, 8);
	raw_attr(&r, NBW_A_SELF, 0, NULL, 0);
	raw_attr(&r, NBW_A_RULESET, 0, "", 0);
	CHECK(rejects(&r, "nested flag missing"));

	raw_hdr(&r, NBW_MSG_NETMAP);
	raw_attr(&r, NBW_A_SERIAL, 0, cookie, 8);
	off = r.len;
	raw_attr(&r, NBW_A_SELF, NBW_AF_NESTED, NULL, 0);
	raw_attr(&r, NBW_A_NAME, 0, "me", 2);
	r.b[off + 7] = 10;
	raw_attr(&r, NBW_A_PEER, NBW_AF_NESTED, NULL, 0); /* empty: no NAME */
	raw_attr(&r, NBW_A_RULESET, 0, "", 0);
	CHECK(rejects(&r, "PEER: missing attribute NAME"));
	return true;
}

static bool t_encode_bounds(void)
{
	struct nbw_buf b = { 0 };
	struct nbw_msg m;
	int r;

	nbw_msg_init(&m, NBW_MSG_NETMAP);
	strcpy(m.self.name, "me");
	m.ruleset = malloc(NBW_MAX_FRAME + 1);
	memset(m.ruleset, 'x', NBW_MAX_FRAME);
	m.ruleset[NBW_MAX_FRAME] = 0;
	r = nbw_msg_encode(&m, &b, err, sizeof(err));
	nbw_msg_free(&m);
	CHECK(r < 0 && b.len == 0);

	nbw_msg_init(&m, NBW_MSG_ENROLL);
	strcpy(m.setup_key, "k");
	m.has_pubkey = true;
	strcpy(m.hostname, "no/slash");
	m.csr = strdup("x");
	r = nbw_msg_encode(&m, &b, err, sizeof(err));
	nbw_msg_free(&m);
	CHECK(r < 0 && b.len == 0);

	nbw_msg_init(&m, NBW_MSG_NETMAP);
	strcpy(m.self.name, "me");
	m.n_peers = 1;
	m.peers = calloc(1, sizeof(*m.peers));
	strcpy(m.peers[0].name, "nokey");	/* peers need a key */
	r = nbw_msg_encode(&m, &b, err, sizeof(err));
	nbw_msg_free(&m);
	CHECK(r < 0 && b.len == 0);
	nbw_buf_free(&b);
	return true;
}

static bool t_text_forms(void)
{
	struct nbw_endpoint ep;
	struct nbw_addr a;
	uint8_t key[32], k2[32];
	char buf[64], b64[NBW_KEY_B64_LEN];
	int i;

	CHECK(!nbw_endpoint_parse("1.2.3.4:51820", &ep) && ep.port == 51820);
	CHECK(!strcmp(nbw_endpoint_str(&ep, buf, sizeof(buf)), "1.2.3.4:51820"));
	CHECK(!nbw_endpoint_parse("[fd00::1]:7", &ep) && ep.family == AF_INET6);
	CHECK(!strcmp(nbw_endpoint_str(&ep, buf, sizeof(buf)), "[fd00::1]:7"));
	CHECK(nbw_endpoint_parse("1.2.3.4", &ep) < 0);
	CHECK(nbw_endpoint_parse("1.2.3.4:0", &ep) < 0);
	CHECK(nbw_endpoint_parse("1.2.3.4:65536", &ep) < 0);
	CHECK(nbw_endpoint_parse("[fd00::1]7", &ep) < 0);
	CHECK(nbw_endpoint_parse("host:80", &ep) < 0);
	CHECK(!nbw_addr_parse("100.64.0.1/16", &a) && a.plen == 16);
	CHECK(!strcmp(nbw_addr_str(&a, buf, sizeof(buf)), "100.64.0.1/16"));
	CHECK(!nbw_addr_parse("fd00::2", &a) && a.plen == 128);
	CHECK(nbw_addr_parse("1.2.3.4/33", &a) < 0);
	CHECK(nbw_name_valid("web-1.example_2") && !nbw_name_valid("") &&
	      !nbw_name_valid("a b") && !nbw_name_valid(
	      "0123456789012345678901234567890123456789012345678901234567890123"));
	/* wg(8) base64: 32 zero bytes and a known key */
	memset(key, 0, 32);
	nbw_key_to_base64(b64, key);
	CHECK(!strcmp(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	nbw_key_to_base64(b64, key);
	CHECK(!strcmp(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
	CHECK(!nbw_key_from_base64(k2, b64) && !memcmp(k2, key, 32));
	CHECK(nbw_key_from_base64(k2, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=") < 0);
	CHECK(nbw_key_from_base64(k2, "short=") < 0);
	CHECK(nbw_key_from_base64(k2, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8=") < 0);
	return true;
}

#define T(fn) do { why[0] = 0; result(fn(), #fn, why); } while (0)

int main(void)
{
	ktap_plan(13);
	T(t_hello);
	T(t_error);
	T(t_enroll);
	T(t_enrolled);
	T(t_login_endpoint);
	T(t_netmap);
	T(t_ping_keyrotate);
	T(t_stream);
	T(t_bad_header);
	T(t_bad_attrs);
	T(t_encode_bounds);
	T(t_text_forms);
	{
		/* every message and error has a name */
		bool ok = true;

		for (int i = 1; i < __NBW_MSG_MAX; i++)
			ok = ok && strcmp(nbw_msg_name((uint16_t)i), "?");
		for (int i = 0; i < __NBW_E_MAX; i++)
			ok = ok && strcmp(nbw_err_name((uint32_t)i), "?");
		result(ok, "t_names", "a message or error has no name");
	}
	return ktap_done();
}
