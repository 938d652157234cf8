// SPDX-License-Identifier: GPL-2.0
/*
 * Codec for the control-plane wire protocol (Documentation/protocol.md).
 * Decoding is table driven: for each message type a table says which
 * attributes may appear, which are required and how often, so every
 * message is checked the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/wire.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)
#define ERRN(e, ...) (snprintf(err, errlen, __VA_ARGS__), (e))

static const char *const msg_names[__NBW_MSG_MAX] = {
	[NBW_MSG_HELLO] = "HELLO", [NBW_MSG_ERROR] = "ERROR",
	[NBW_MSG_ENROLL] = "ENROLL", [NBW_MSG_ENROLLED] = "ENROLLED",
	[NBW_MSG_LOGIN] = "LOGIN", [NBW_MSG_NETMAP] = "NETMAP",
	[NBW_MSG_ENDPOINT] = "ENDPOINT", [NBW_MSG_KEY_ROTATE] = "KEY_ROTATE",
	[NBW_MSG_PING] = "PING", [NBW_MSG_PONG] = "PONG",
};

static const char *const attr_names[__NBW_A_MAX] = {
	[NBW_A_VERSION] = "VERSION", [NBW_A_SOFTWARE] = "SOFTWARE",
	[NBW_A_ERR_CODE] = "ERR_CODE", [NBW_A_ERR_MSG] = "ERR_MSG",
	[NBW_A_SETUP_KEY] = "SETUP_KEY", [NBW_A_WG_PUBKEY] = "WG_PUBKEY",
	[NBW_A_HOSTNAME] = "HOSTNAME", [NBW_A_CSR] = "CSR",
	[NBW_A_NAME] = "NAME", [NBW_A_ADDR] = "ADDR", [NBW_A_CERT] = "CERT",
	[NBW_A_CA_CERT] = "CA_CERT", [NBW_A_LISTEN_PORT] = "LISTEN_PORT",
	[NBW_A_ENDPOINT] = "ENDPOINT", [NBW_A_SERIAL] = "SERIAL",
	[NBW_A_SELF] = "SELF", [NBW_A_PEER] = "PEER",
	[NBW_A_RULESET] = "RULESET", [NBW_A_COOKIE] = "COOKIE",
	[NBW_A_KEEPALIVE] = "KEEPALIVE",
};

static const char *const err_names[__NBW_E_MAX] = {
	[NBW_E_NONE] = "NONE", [NBW_E_PROTOCOL] = "PROTOCOL",
	[NBW_E_VERSION] = "VERSION", [NBW_E_KEY_INVALID] = "KEY_INVALID",
	[NBW_E_KEY_EXPIRED] = "KEY_EXPIRED",
	[NBW_E_KEY_EXHAUSTED] = "KEY_EXHAUSTED",
	[NBW_E_KEY_REVOKED] = "KEY_REVOKED",
	[NBW_E_NOT_ENROLLED] = "NOT_ENROLLED",
	[NBW_E_CERT_REQUIRED] = "CERT_REQUIRED",
	[NBW_E_INTERNAL] = "INTERNAL",
	[NBW_E_ADDR_EXHAUSTED] = "ADDR_EXHAUSTED",
	[NBW_E_BAD_CSR] = "BAD_CSR", [NBW_E_PUBKEY_IN_USE] = "PUBKEY_IN_USE",
	[NBW_E_POLICY] = "POLICY",
};

const char *nbw_msg_name(uint16_t t)
{
	return t < __NBW_MSG_MAX && msg_names[t] ? msg_names[t] : "?";
}

const char *nbw_attr_name(uint16_t t)
{
	return t < __NBW_A_MAX && attr_names[t] ? attr_names[t] : "?";
}

const char *nbw_err_name(uint32_t c)
{
	return c < __NBW_E_MAX && err_names[c] ? err_names[c] : "?";
}

/* ---- buffers ----------------------------------------------------------- */

void nbw_buf_free(struct nbw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int nbw_buf_put(struct nbw_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void nbw_buf_consume(struct nbw_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* ---- messages ------------------------------------------------------------ */

void nbw_msg_init(struct nbw_msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
}

void nbw_msg_free(struct nbw_msg *m)
{
	uint16_t type = m->type;

	free(m->csr);
	free(m->cert);
	free(m->ca_cert);
	free(m->peers);
	free(m->ruleset);
	nbw_msg_init(m, type);
}

bool nbw_name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n >= 1 && n < NBW_NAME_MAX;
}

/* ---- encoding -------------------------------------------------------------- */

struct enc {
	struct nbw_buf *b;
	int err;
};

static void put_attr(struct enc *e, uint16_t type, uint16_t flags,
		     const void *v, size_t len)
{
	uint8_t h[NBW_ATTR_HDR_LEN];

	put16(h, type);
	put16(h + 2, flags);
	put32(h + 4, (uint32_t)len);
	if (!e->err)
		e->err = nbw_buf_put(e->b, h, sizeof(h));
	if (!e->err)
		e->err = nbw_buf_put(e->b, v, len);
}

static void put_u16(struct enc *e, uint16_t t, uint16_t v)
{
	uint8_t b[2];

	put16(b, v);
	put_attr(e, t, 0, b, 2);
}

static void put_u32(struct enc *e, uint16_t t, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	put_attr(e, t, 0, b, 4);
}

static void put_u64(struct enc *e, uint16_t t, uint64_t v)
{
	uint8_t b[8];

	put32(b, v >> 32);
	put32(b + 4, (uint32_t)v);
	put_attr(e, t, 0, b, 8);
}

static void put_str(struct enc *e, uint16_t t, const char *s)
{
	put_attr(e, t, 0, s, strlen(s));
}

static size_t alen(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static void put_addr(struct enc *e, const struct nbw_addr *a)
{
	uint8_t b[18];

	b[0] = a->family == AF_INET ? 4 : 6;
	b[1] = a->plen;
	memcpy(b + 2, a->addr, alen(a->family));
	put_attr(e, NBW_A_ADDR, 0, b, 2 + alen(a->family));
}

static void put_endpoint(struct enc *e, const struct nbw_endpoint *ep)
{
	uint8_t b[20];

	b[0] = ep->family == AF_INET ? 4 : 6;
	b[1] = 0;
	put16(b + 2, ep->port);
	memcpy(b + 4, ep->addr, alen(ep->family));
	put_attr(e, NBW_A_ENDPOINT, 0, b, 4 + alen(ep->family));
}

/* Start a nest: returns the offset of its header, patched by nest_end. */
static size_t nest_start(struct enc *e, uint16_t type)
{
	size_t off = e->b->len;

	put_attr(e, type, NBW_AF_NESTED, NULL, 0);
	return off;
}

static void nest_end(struct enc *e, size_t off)
{
	if (!e->err)
		put32(e->b->data + off + 4,
		      (uint32_t)(e->b->len - off - NBW_ATTR_HDR_LEN));
}

static int check_addr(const struct nbw_addr *a, char *err, size_t errlen)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return ERR("ADDR: bad family %u", a->family);
	if (a->plen > (a->family == AF_INET ? 32 : 128))
		return ERR("ADDR: prefix length %u too long", a->plen);
	return 0;
}

static int check_endpoint(const struct nbw_endpoint *ep, char *err,
			  size_t errlen)
{
	if (ep->family != AF_INET && ep->family != AF_INET6)
		return ERR("ENDPOINT: bad family %u", ep->family);
	if (!ep->port)
		return ERR("ENDPOINT: port 0");
	return 0;
}

static int put_node(struct enc *e, uint16_t type, const struct nbw_node *n,
		    bool need_key, char *err, size_t errlen)
{
	size_t off;
	unsigned int i;

	if (!nbw_name_valid(n->name))
		return ERR("node name '%.63s' invalid", n->name);
	if (need_key && !n->has_pubkey)
		return ERR("node %s: no public key", n->name);
	if (n->n_addrs > NBW_MAX_ADDRS || n->n_endpoints > NBW_MAX_ENDPOINTS)
		return ERR("node %s: too many addresses/endpoints", n->name);
	off = nest_start(e, type);
	put_str(e, NBW_A_NAME, n->name);
	if (n->has_pubkey)
		put_attr(e, NBW_A_WG_PUBKEY, 0, n->pubkey, NBW_KEY_LEN);
	for (i = 0; i < n->n_addrs; i++) {
		if (check_addr(&n->addrs[i], err, errlen))
			return -1;
		put_addr(e, &n->addrs[i]);
	}
	for (i = 0; i < n->n_endpoints; i++) {
		if (check_endpoint(&n->endpoints[i], err, errlen))
			return -1;
		put_endpoint(e, &n->endpoints[i]);
	}
	nest_end(e, off);
	return 0;
}

static int check_str(const char *what, const char *s, size_t max, char *err,
		     size_t errlen)
{
	if (!s)
		return ERR("%s missing", what);
	if (strlen(s) > max)
		return ERR("%s longer than %zu bytes", what, max);
	return 0;
}

static int encode_body(struct enc *e, const struct nbw_msg *m, char *err,
		       size_t errlen)
{
	unsigned int i;

	switch (m->type) {
	case NBW_MSG_HELLO:
		put_u32(e, NBW_A_VERSION, m->version);
		if (m->software[0])
			put_str(e, NBW_A_SOFTWARE, m->software);
		if (m->keepalive)
			put_u32(e, NBW_A_KEEPALIVE, m->keepalive);
		return 0;
	case NBW_MSG_ERROR:
		put_u32(e, NBW_A_ERR_CODE, m->err_code);
		put_str(e, NBW_A_ERR_MSG, m->err_msg);
		return 0;
	case NBW_MSG_ENROLL:
		if (!m->setup_key[0] || !m->has_pubkey ||
		    !nbw_name_valid(m->hostname))
			return ERR("ENROLL: setup key, public key and a valid hostname are required");
		if (check_str("CSR", m->csr, NBW_PEM_MAX, err, errlen))
			return -1;
		put_str(e, NBW_A_SETUP_KEY, m->setup_key);
		put_attr(e, NBW_A_WG_PUBKEY, 0, m->pubkey, NBW_KEY_LEN);
		put_str(e, NBW_A_HOSTNAME, m->hostname);
		put_str(e, NBW_A_CSR, m->csr);
		return 0;
	case NBW_MSG_ENROLLED:
		if (check_str("CERT", m->cert, NBW_PEM_MAX, err, errlen) ||
		    check_str("CA_CERT", m->ca_cert, NBW_PEM_MAX, err, errlen) ||
		    put_node(e, NBW_A_SELF, &m->self, false, err, errlen))
			return -1;
		put_str(e, NBW_A_CERT, m->cert);
		put_str(e, NBW_A_CA_CERT, m->ca_cert);
		return 0;
	case NBW_MSG_LOGIN:
	case NBW_MSG_ENDPOINT:
		if (m->type == NBW_MSG_LOGIN) {
			if (!m->has_pubkey || !m->has_listen_port)
				return ERR("LOGIN: public key and listen port are required");
			put_attr(e, NBW_A_WG_PUBKEY, 0, m->pubkey, NBW_KEY_LEN);
		}
		if (m->has_listen_port) {
			if (!m->listen_port)
				return ERR("LISTEN_PORT 0");
			put_u16(e, NBW_A_LISTEN_PORT, m->listen_port);
		}
		if (m->n_endpoints > NBW_MAX_ENDPOINTS)
			return ERR("too many endpoints");
		for (i = 0; i < m->n_endpoints; i++) {
			if (check_endpoint(&m->endpoints[i], err, errlen))
				return -1;
			put_endpoint(e, &m->endpoints[i]);
		}
		return 0;
	case NBW_MSG_NETMAP:
		if (m->n_peers > NBW_MAX_PEERS)
			return ERR("NETMAP: %u peers, at most %u", m->n_peers,
				   NBW_MAX_PEERS);
		if (check_str("RULESET", m->ruleset ? m->ruleset : "",
			      NBW_RULESET_MAX, err, errlen))
			return -1;
		put_u64(e, NBW_A_SERIAL, m->serial);
		if (put_node(e, NBW_A_SELF, &m->self, false, err, errlen))
			return -1;
		for (i = 0; i < m->n_peers; i++)
			if (put_node(e, NBW_A_PEER, &m->peers[i], true, err,
				     errlen))
				return -1;
		put_str(e, NBW_A_RULESET, m->ruleset ? m->ruleset : "");
		return 0;
	case NBW_MSG_KEY_ROTATE:
		if (!m->has_pubkey)
			return ERR("KEY_ROTATE: public key required");
		put_attr(e, NBW_A_WG_PUBKEY, 0, m->pubkey, NBW_KEY_LEN);
		return 0;
	case NBW_MSG_PING:
	case NBW_MSG_PONG:
		put_u64(e, NBW_A_COOKIE, m->cookie);
		return 0;
	}
	return ERR("unknown message type %u", m->type);
}

int nbw_msg_encode(const struct nbw_msg *m, struct nbw_buf *out, char *err,
		   size_t errlen)
{
	struct enc e = { .b = out };
	size_t start = out->len, plen;
	uint8_t h[NBW_HDR_LEN] = { 0 };

	if (nbw_buf_put(out, h, sizeof(h)))
		return ERRN(-ENOMEM, "out of memory");
	if (encode_body(&e, m, err, errlen)) {
		out->len = start;
		return -EINVAL;
	}
	if (e.err) {
		out->len = start;
		return ERRN(-ENOMEM, "out of memory");
	}
	plen = out->len - start - NBW_HDR_LEN;
	if (plen > NBW_MAX_FRAME) {
		out->len = start;
		return ERRN(-E2BIG, "%s: %zu bytes, more than the %u byte frame limit",
			    nbw_msg_name(m->type), plen, NBW_MAX_FRAME);
	}
	put32(out->data + start, (uint32_t)plen);
	put16(out->data + start + 4, m->type);
	out->data[start + 6] = NBW_WIRE_VERSION;
	out->data[start + 7] = 0;
	return 0;
}

/* ---- decoding -------------------------------------------------------------- */

int nbw_frame_check(const uint8_t *buf, size_t len, size_t *frame_len,
		    char *err, size_t errlen)
{
	uint32_t plen;
	uint16_t type;

	if (len < NBW_HDR_LEN)
		return 0;
	plen = get32(buf);
	type = get16(buf + 4);
	if (buf[6] != NBW_WIRE_VERSION)
		return ERR("frame: wire version %u, expected %u", buf[6],
			   NBW_WIRE_VERSION);
	if (buf[7])
		return ERR("frame: flags 0x%x, expected 0", buf[7]);
	if (!type || type >= __NBW_MSG_MAX)
		return ERR("frame: unknown message type %u", type);
	if (plen > NBW_MAX_FRAME)
		return ERR("frame: %u byte payload, limit %u", plen,
			   NBW_MAX_FRAME);
	if (len < NBW_HDR_LEN + (size_t)plen)
		return 0;
	*frame_len = NBW_HDR_LEN + (size_t)plen;
	return 1;
}

int nbw_attr_next(const uint8_t **p, size_t *left, struct nbw_attr *a,
		  char *err, size_t errlen)
{
	if (!*left)
		return 0;
	if (*left < NBW_ATTR_HDR_LEN)
		return ERR("truncated attribute header (%zu bytes)", *left);
	a->type = get16(*p);
	a->flags = get16(*p + 2);
	a->len = get32(*p + 4);
	if (a->len > *left - NBW_ATTR_HDR_LEN)
		return ERR("attribute %s (%u): length %u exceeds the %zu bytes left",
			   nbw_attr_name(a->type), a->type, a->len,
			   *left - NBW_ATTR_HDR_LEN);
	a->data = *p + NBW_ATTR_HDR_LEN;
	*p += NBW_ATTR_HDR_LEN + a->len;
	*left -= NBW_ATTR_HDR_LEN + a->len;
	return 1;
}

/* Which attributes a message (or a node nest) may hold. */
enum { OPT = 1, REQ = 2, MULTI = 4 };

static const uint8_t node_policy[__NBW_A_MAX] = {
	[NBW_A_NAME] = REQ, [NBW_A_WG_PUBKEY] = OPT,
	[NBW_A_ADDR] = MULTI, [NBW_A_ENDPOINT] = MULTI,
};

static const uint8_t msg_policy[__NBW_MSG_MAX][__NBW_A_MAX] = {
	[NBW_MSG_HELLO] = { [NBW_A_VERSION] = REQ, [NBW_A_SOFTWARE] = OPT,
			    [NBW_A_KEEPALIVE] = OPT },
	[NBW_MSG_ERROR] = { [NBW_A_ERR_CODE] = REQ, [NBW_A_ERR_MSG] = REQ },
	[NBW_MSG_ENROLL] = { [NBW_A_SETUP_KEY] = REQ,
			     [NBW_A_WG_PUBKEY] = REQ,
			     [NBW_A_HOSTNAME] = REQ, [NBW_A_CSR] = REQ },
	[NBW_MSG_ENROLLED] = { [NBW_A_SELF] = REQ, [NBW_A_CERT] = REQ,
			       [NBW_A_CA_CERT] = REQ },
	[NBW_MSG_LOGIN] = { [NBW_A_WG_PUBKEY] = REQ,
			    [NBW_A_LISTEN_PORT] = REQ,
			    [NBW_A_ENDPOINT] = MULTI },
	[NBW_MSG_NETMAP] = { [NBW_A_SERIAL] = REQ, [NBW_A_SELF] = REQ,
			     [NBW_A_PEER] = MULTI, [NBW_A_RULESET] = REQ },
	[NBW_MSG_ENDPOINT] = { [NBW_A_LISTEN_PORT] = OPT,
			       [NBW_A_ENDPOINT] = MULTI },
	[NBW_MSG_KEY_ROTATE] = { [NBW_A_WG_PUBKEY] = REQ },
	[NBW_MSG_PING] = { [NBW_A_COOKIE] = REQ },
	[NBW_MSG_PONG] = { [NBW_A_COOKIE] = REQ },
};

static const bool attr_nested[__NBW_A_MAX] = {
	[NBW_A_SELF] = true, [NBW_A_PEER] = true,
};

struct dec {
	struct nbw_msg *m;
	char *err;
	size_t errlen;
};

#define DERR(d, ...) (snprintf((d)->err, (d)->errlen, __VA_ARGS__), -1)

static int want_len(struct dec *d, const struct nbw_attr *a, uint32_t len)
{
	if (a->len != len)
		return DERR(d, "attribute %s: length %u, expected %u",
			    nbw_attr_name(a->type), a->len, len);
	return 0;
}

/* Copy a string attribute into dst[cap] (cap includes the NUL). */
static int get_str(struct dec *d, const struct nbw_attr *a, char *dst,
		   size_t cap)
{
	if (a->len >= cap)
		return DERR(d, "attribute %s: %u bytes, at most %zu",
			    nbw_attr_name(a->type), a->len, cap - 1);
	if (memchr(a->data, 0, a->len))
		return DERR(d, "attribute %s: contains a NUL byte",
			    nbw_attr_name(a->type));
	memcpy(dst, a->data, a->len);
	dst[a->len] = 0;
	return 0;
}

static int get_dup(struct dec *d, const struct nbw_attr *a, char **dst,
		   size_t max)
{
	if (a->len > max)
		return DERR(d, "attribute %s: %u bytes, at most %zu",
			    nbw_attr_name(a->type), a->len, max);
	*dst = malloc(a->len + 1);
	if (!*dst)
		return DERR(d, "out of memory");
	return get_str(d, a, *dst, a->len + 1);
}

static int get_name(struct dec *d, const struct nbw_attr *a, char *dst)
{
	if (get_str(d, a, dst, NBW_NAME_MAX))
		return -1;
	if (!nbw_name_valid(dst))
		return DERR(d, "attribute %s: '%s' is not a valid name",
			    nbw_attr_name(a->type), dst);
	return 0;
}

static int get_family(struct dec *d, const struct nbw_attr *a, size_t hdr,
		      uint8_t *family)
{
	if (a->len < hdr)
		return DERR(d, "attribute %s: too short",
			    nbw_attr_name(a->type));
	if (a->data[0] == 4 && a->len == hdr + 4)
		*family = AF_INET;
	else if (a->data[0] == 6 && a->len == hdr + 16)
		*family = AF_INET6;
	else
		return DERR(d, "attribute %s: family %u with %u bytes",
			    nbw_attr_name(a->type), a->data[0], a->len);
	return 0;
}

static int get_addr(struct dec *d, const struct nbw_attr *a,
		    struct nbw_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (get_family(d, a, 2, &out->family))
		return -1;
	out->plen = a->data[1];
	if (out->plen > (out->family == AF_INET ? 32 : 128))
		return DERR(d, "ADDR: prefix length %u too long", out->plen);
	memcpy(out->addr, a->data + 2, a->len - 2);
	return 0;
}

static int get_endpoint(struct dec *d, const struct nbw_attr *a,
			struct nbw_endpoint *out)
{
	memset(out, 0, sizeof(*out));
	if (get_family(d, a, 4, &out->family))
		return -1;
	if (a->data[1])
		return DERR(d, "ENDPOINT: reserved byte is %u", a->data[1]);
	out->port = get16(a->data + 2);
	if (!out->port)
		return DERR(d, "ENDPOINT: port 0");
	memcpy(out->addr, a->data + 4, a->len - 4);
	return 0;
}

/*
 * Walk one level of attributes, checking them against policy[] (counts,
 * nesting); for each attribute call fn.
 */
typedef int (*attr_fn)(struct dec *d, const struct nbw_attr *a, void *ctx);

static int walk(struct dec *d, const uint8_t *p, size_t len,
		const uint8_t *policy, const char *where, attr_fn fn,
		void *ctx)
{
	unsigned int seen[__NBW_A_MAX] = { 0 }, n = 0, t;
	struct nbw_attr a;
	int r;

	while ((r = nbw_attr_next(&p, &len, &a, d->err, d->errlen)) > 0) {
		if (++n > NBW_MAX_ATTRS)
			return DERR(d, "%s: more than %u attributes", where,
				    NBW_MAX_ATTRS);
		if (a.type >= __NBW_A_MAX || !policy[a.type])
			return DERR(d, "%s: unexpected attribute %s (%u)",
				    where, nbw_attr_name(a.type), a.type);
		if (a.flags & ~NBW_AF_NESTED)
			return DERR(d, "%s: attribute %s: unknown flags 0x%x",
				    where, nbw_attr_name(a.type), a.flags);
		if (!!(a.flags & NBW_AF_NESTED) != attr_nested[a.type])
			return DERR(d, "%s: attribute %s: nested flag %s",
				    where, nbw_attr_name(a.type),
				    attr_nested[a.type] ? "missing" :
				    "not allowed");
		if (seen[a.type]++ && !(policy[a.type] & MULTI))
			return DERR(d, "%s: duplicate attribute %s", where,
				    nbw_attr_name(a.type));
		if (fn(d, &a, ctx))
			return -1;
	}
	if (r < 0)
		return -1;
	for (t = 0; t < __NBW_A_MAX; t++)
		if ((policy[t] & REQ) && !seen[t])
			return DERR(d, "%s: missing attribute %s", where,
				    nbw_attr_name(t));
	return 0;
}

static int node_attr(struct dec *d, const struct nbw_attr *a, void *ctx)
{
	struct nbw_node *n = ctx;

	switch (a->type) {
	case NBW_A_NAME:
		return get_name(d, a, n->name);
	case NBW_A_WG_PUBKEY:
		if (want_len(d, a, NBW_KEY_LEN))
			return -1;
		memcpy(n->pubkey, a->data, NBW_KEY_LEN);
		n->has_pubkey = true;
		return 0;
	case NBW_A_ADDR:
		if (n->n_addrs >= NBW_MAX_ADDRS)
			return DERR(d, "node: more than %u ADDR",
				    NBW_MAX_ADDRS);
		return get_addr(d, a, &n->addrs[n->n_addrs++]);
	case NBW_A_ENDPOINT:
		if (n->n_endpoints >= NBW_MAX_ENDPOINTS)
			return DERR(d, "node: more than %u ENDPOINT",
				    NBW_MAX_ENDPOINTS);
		return get_endpoint(d, a, &n->endpoints[n->n_endpoints++]);
	}
	return DERR(d, "node: unexpected attribute %u", a->type);
}

static int get_node(struct dec *d, const struct nbw_attr *a,
		    struct nbw_node *n, bool need_key)
{
	memset(n, 0, sizeof(*n));
	if (walk(d, a->data, a->len, node_policy, nbw_attr_name(a->type),
		 node_attr, n))
		return -1;
	if (need_key && !n->has_pubkey)
		return DERR(d, "%s %s: missing WG_PUBKEY",
			    nbw_attr_name(a->type), n->name);
	return 0;
}

/* Count PEER nests first so the array is sized by what the input holds. */
static int count_peers(const uint8_t *p, size_t len, uint32_t *n)
{
	struct nbw_attr a;
	char e[8];

	*n = 0;
	while (nbw_attr_next(&p, &len, &a, e, sizeof(e)) > 0)
		if (a.type == NBW_A_PEER)
			++*n;
	return 0;
}

static int msg_attr(struct dec *d, const struct nbw_attr *a, void *ctx)
{
	struct nbw_msg *m = d->m;
	uint32_t *peer_cap = ctx;

	switch (a->type) {
	case NBW_A_VERSION:
		if (want_len(d, a, 4))
			return -1;
		m->version = get32(a->data);
		return 0;
	case NBW_A_KEEPALIVE:
		if (want_len(d, a, 4))
			return -1;
		m->keepalive = get32(a->data);
		if (!m->keepalive)
			return DERR(d, "KEEPALIVE: 0");
		return 0;
	case NBW_A_SOFTWARE:
		return get_str(d, a, m->software, sizeof(m->software));
	case NBW_A_ERR_CODE:
		if (want_len(d, a, 4))
			return -1;
		m->err_code = get32(a->data);
		return 0;
	case NBW_A_ERR_MSG:
		return get_str(d, a, m->err_msg, sizeof(m->err_msg));
	case NBW_A_SETUP_KEY:
		if (!a->len)
			return DERR(d, "SETUP_KEY: empty");
		return get_str(d, a, m->setup_key, sizeof(m->setup_key));
	case NBW_A_WG_PUBKEY:
		if (want_len(d, a, NBW_KEY_LEN))
			return -1;
		memcpy(m->pubkey, a->data, NBW_KEY_LEN);
		m->has_pubkey = true;
		return 0;
	case NBW_A_HOSTNAME:
		return get_name(d, a, m->hostname);
	case NBW_A_CSR:
		return get_dup(d, a, &m->csr, NBW_PEM_MAX);
	case NBW_A_CERT:
		return get_dup(d, a, &m->cert, NBW_PEM_MAX);
	case NBW_A_CA_CERT:
		return get_dup(d, a, &m->ca_cert, NBW_PEM_MAX);
	case NBW_A_RULESET:
		return get_dup(d, a, &m->ruleset, NBW_RULESET_MAX);
	case NBW_A_LISTEN_PORT:
		if (want_len(d, a, 2))
			return -1;
		m->listen_port = get16(a->data);
		if (!m->listen_port)
			return DERR(d, "LISTEN_PORT: 0");
		m->has_listen_port = true;
		return 0;
	case NBW_A_ENDPOINT:
		if (m->n_endpoints >= NBW_MAX_ENDPOINTS)
			return DERR(d, "more than %u ENDPOINT",
				    NBW_MAX_ENDPOINTS);
		return get_endpoint(d, a, &m->endpoints[m->n_endpoints++]);
	case NBW_A_SERIAL:
		if (want_len(d, a, 8))
			return -1;
		m->serial = get64(a->data);
		return 0;
	case NBW_A_COOKIE:
		if (want_len(d, a, 8))
			return -1;
		m->cookie = get64(a->data);
		return 0;
	case NBW_A_SELF:
		return get_node(d, a, &m->self, false);
	case NBW_A_PEER:
		if (m->n_peers >= *peer_cap)
			return DERR(d, "more than %u PEER", *peer_cap);
		return get_node(d, a, &m->peers[m->n_peers++], true);
	}
	return DERR(d, "unexpected attribute %u", a->type);
}

int nbw_msg_decode(const uint8_t *frame, size_t len, struct nbw_msg *m,
		   char *err, size_t errlen)
{
	struct dec d = { .m = m, .err = err, .errlen = errlen };
	size_t flen;
	uint32_t peer_cap = 0;
	const char *name;
	int r;

	nbw_msg_init(m, 0);
	r = nbw_frame_check(frame, len, &flen, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0 || flen != len)
		return ERR("frame: %zu bytes, not one whole frame", len);
	m->type = get16(frame + 4);
	name = nbw_msg_name(m->type);
	frame += NBW_HDR_LEN;
	len -= NBW_HDR_LEN;
	if (m->type == NBW_MSG_NETMAP) {
		count_peers(frame, len, &peer_cap);
		if (peer_cap > NBW_MAX_PEERS)
			return ERR("NETMAP: %u PEER, at most %u", peer_cap,
				   NBW_MAX_PEERS);
		if (peer_cap) {
			m->peers = calloc(peer_cap, sizeof(*m->peers));
			if (!m->peers)
				return ERR("out of memory");
		}
	}
	if (walk(&d, frame, len, msg_policy[m->type], name, msg_attr,
		 &peer_cap))
		return -1;
	if (m->type == NBW_MSG_NETMAP && !m->ruleset)
		return ERR("NETMAP: no RULESET");
	return 0;
}

/* ---- text forms ------------------------------------------------------------ */

int nbw_endpoint_parse(const char *s, struct nbw_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ep, 0, sizeof(*ep));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		s++;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port == 0 || port > 65535)
		return -1;
	ep->port = (uint16_t)port;
	if (inet_pton(AF_INET, host, ep->addr) == 1)
		ep->family = AF_INET;
	else if (inet_pton(AF_INET6, host, ep->addr) == 1)
		ep->family = AF_INET6;
	else
		return -1;
	return 0;
}

const char *nbw_endpoint_str(const struct nbw_endpoint *ep, char *buf,
			     size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ep->family, ep->addr, a, sizeof(a));
	if (ep->family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", a, ep->port);
	else
		snprintf(buf, n, "%s:%u", a, ep->port);
	return buf;
}

int nbw_addr_parse(const char *s, struct nbw_addr *a)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;
	char *end;

	memset(a, 0, sizeof(*a));
	if (!hl || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -1;
	a->plen = a->family == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || *end || !slash[1] || plen > a->plen)
			return -1;
		a->plen = (uint8_t)plen;
	}
	return 0;
}

const char *nbw_addr_host_str(const struct nbw_addr *a, char *buf, size_t n)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

const char *nbw_addr_str(const struct nbw_addr *a, char *buf, size_t n)
{
	char h[INET6_ADDRSTRLEN];

	snprintf(buf, n, "%s/%u", nbw_addr_host_str(a, h, sizeof(h)), a->plen);
	return buf;
}

/* ---- base64 keys (same alphabet and padding as wg(8)) ---------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void nbw_key_to_base64(char out[NBW_KEY_B64_LEN],
		       const uint8_t key[NBW_KEY_LEN])
{
	unsigned int i, o = 0;

	for (i = 0; i + 3 <= NBW_KEY_LEN; i += 3) {
		uint32_t v = key[i] << 16 | key[i + 1] << 8 | key[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	/* 32 = 10 * 3 + 2: two bytes left, one '=' */
	{
		uint32_t v = key[30] << 16 | key[31] << 8;

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = 0;
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int nbw_key_from_base64(uint8_t key[NBW_KEY_LEN], const char *s)
{
	unsigned int i, o = 0;

	if (strlen(s) != NBW_KEY_B64_LEN - 1 || s[43] != '=')
		return -1;
	for (i = 0; i < 43; i += 4) {
		int v0 = b64val(s[i]), v1 = b64val(s[i + 1]);
		int v2 = b64val(s[i + 2]), v3 = i + 3 < 43 ? b64val(s[i + 3]) : 0;
		uint32_t v;

		if (v0 < 0 || v1 < 0 || v2 < 0 || v3 < 0)
			return -1;
		v = (uint32_t)(v0 << 18 | v1 << 12 | v2 << 6 | v3);
		key[o++] = v >> 16;
		key[o++] = v >> 8;
		if (o < NBW_KEY_LEN)
			key[o++] = v;
		else if (v & 0xff)
			return -1;	/* non-canonical trailing bits */
	}
	return 0;
}
