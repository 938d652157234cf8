/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbguard control-plane wire protocol (nbmgmt <-> nbhelper), version 1.
 * The format is specified in Documentation/protocol.md; this is its codec.
 *
 * A frame is an 8-byte header (u32 payload length, u16 message type,
 * u8 wire version, u8 flags; all big endian) followed by the payload, a
 * sequence of attributes (u16 type, u16 flags, u32 length, value). A
 * nested attribute (NBW_AF_NESTED) holds attributes itself; nests do not
 * nest further. Everything is bounded (NBW_MAX_*): a decoder never reads
 * past its input, never allocates more than the input justifies, and
 * rejects unknown, duplicate, missing, oversized or misplaced attributes
 * with a message.
 *
 * Link: build/libnbproto.a -lssl -lcrypto. Prefix nbw_ (nbp_ is policy/).
 */
#ifndef NBW_WIRE_H
#define NBW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBW_PROTO_VERSION	1	/* in HELLO */
#define NBW_WIRE_VERSION	1	/* in every frame header */
#define NBW_HDR_LEN		8
#define NBW_ATTR_HDR_LEN	8
#define NBW_DEFAULT_PORT	"7411"

/* Bounds (also the protocol's: a peer exceeding them is cut off). */
#define NBW_MAX_FRAME		(1u << 20)	/* payload bytes */
#define NBW_MAX_ATTRS		8192	/* attributes per level */
#define NBW_MAX_PEERS		4096	/* PEER nests in a NETMAP */
#define NBW_MAX_ADDRS		4	/* ADDR per node */
#define NBW_MAX_ENDPOINTS	16	/* ENDPOINT per node / message */
#define NBW_NAME_MAX		64	/* node name / hostname, incl. NUL */
#define NBW_SETUP_KEY_MAX	128	/* incl. NUL */
#define NBW_SOFTWARE_MAX	128	/* incl. NUL */
#define NBW_ERRMSG_MAX		1024	/* incl. NUL */
#define NBW_PEM_MAX		16384	/* CSR / certificate, excl. NUL */
#define NBW_RULESET_MAX		(NBW_MAX_FRAME - 4096)
#define NBW_KEY_LEN		32	/* WireGuard public key */

enum nbw_msg_type {
	NBW_MSG_HELLO = 1,	/* both ways, first message: VERSION ... */
	NBW_MSG_ERROR,		/* server -> node, then close */
	NBW_MSG_ENROLL,		/* node -> server (no client cert) */
	NBW_MSG_ENROLLED,	/* server -> node, then close */
	NBW_MSG_LOGIN,		/* node -> server (client cert) */
	NBW_MSG_NETMAP,		/* server -> node, full map, serial grows */
	NBW_MSG_ENDPOINT,	/* node -> server: endpoints seen locally */
	NBW_MSG_KEY_ROTATE,	/* node -> server: new WireGuard key */
	NBW_MSG_PING,		/* node -> server */
	NBW_MSG_PONG,		/* server -> node */
	__NBW_MSG_MAX
};

enum nbw_attr_type {
	NBW_A_UNSPEC,
	NBW_A_VERSION,		/* u32 */
	NBW_A_SOFTWARE,		/* string */
	NBW_A_ERR_CODE,		/* u32, enum nbw_err */
	NBW_A_ERR_MSG,		/* string */
	NBW_A_SETUP_KEY,	/* string */
	NBW_A_WG_PUBKEY,	/* 32 bytes */
	NBW_A_HOSTNAME,		/* string, [A-Za-z0-9._-]{1,63} */
	NBW_A_CSR,		/* string, PEM certificate request */
	NBW_A_NAME,		/* string, [A-Za-z0-9._-]{1,63} */
	NBW_A_ADDR,		/* u8 family(4|6), u8 prefix len, 4|16 bytes */
	NBW_A_CERT,		/* string, PEM certificate */
	NBW_A_CA_CERT,		/* string, PEM certificate */
	NBW_A_LISTEN_PORT,	/* u16 */
	NBW_A_ENDPOINT,		/* u8 family(4|6), u8 0, u16 port, 4|16 bytes */
	NBW_A_SERIAL,		/* u64 */
	NBW_A_SELF,		/* nest: NAME, WG_PUBKEY, ADDR*, ENDPOINT* */
	NBW_A_PEER,		/* nest: NAME, WG_PUBKEY, ADDR*, ENDPOINT* */
	NBW_A_RULESET,		/* string, Documentation/ruleset-format.md */
	NBW_A_COOKIE,		/* u64 */
	NBW_A_KEEPALIVE,	/* u32, seconds between node PINGs */
	__NBW_A_MAX
};

#define NBW_AF_NESTED		0x0001	/* attribute flag */

enum nbw_err {
	NBW_E_NONE,
	NBW_E_PROTOCOL,		/* malformed or unexpected message */
	NBW_E_VERSION,		/* unsupported protocol version */
	NBW_E_KEY_INVALID,	/* unknown setup key */
	NBW_E_KEY_EXPIRED,
	NBW_E_KEY_EXHAUSTED,	/* usage limit reached */
	NBW_E_KEY_REVOKED,
	NBW_E_NOT_ENROLLED,	/* client certificate unknown or node removed */
	NBW_E_CERT_REQUIRED,	/* LOGIN without a client certificate */
	NBW_E_INTERNAL,
	NBW_E_ADDR_EXHAUSTED,	/* no free overlay address */
	NBW_E_BAD_CSR,
	NBW_E_PUBKEY_IN_USE,	/* WireGuard key belongs to another node */
	NBW_E_POLICY,		/* server has no policy for this node */
	__NBW_E_MAX
};

struct nbw_addr {		/* an overlay address with its prefix len */
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];	/* network order; v4 in the first 4 bytes */
};

struct nbw_endpoint {		/* a WireGuard UDP endpoint */
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint16_t port;		/* host order */
	uint8_t addr[16];
};

struct nbw_node {		/* self or a peer in ENROLLED / NETMAP */
	char name[NBW_NAME_MAX];
	bool has_pubkey;
	uint8_t pubkey[NBW_KEY_LEN];
	unsigned int n_addrs, n_endpoints;
	struct nbw_addr addrs[NBW_MAX_ADDRS];
	struct nbw_endpoint endpoints[NBW_MAX_ENDPOINTS];
};

/*
 * One decoded message. Which fields a type uses (and which are required)
 * is in Documentation/protocol.md; others are zero. Pointers are owned by
 * the message (nbw_msg_free).
 */
struct nbw_msg {
	uint16_t type;
	uint32_t version;			/* HELLO */
	uint32_t keepalive;			/* HELLO from server, 0 = absent */
	char software[NBW_SOFTWARE_MAX];	/* HELLO, optional */
	uint32_t err_code;			/* ERROR */
	char err_msg[NBW_ERRMSG_MAX];		/* ERROR */
	char setup_key[NBW_SETUP_KEY_MAX];	/* ENROLL */
	char hostname[NBW_NAME_MAX];		/* ENROLL */
	bool has_pubkey;			/* ENROLL, LOGIN, KEY_ROTATE */
	uint8_t pubkey[NBW_KEY_LEN];
	char *csr;				/* ENROLL */
	char *cert, *ca_cert;			/* ENROLLED */
	struct nbw_node self;			/* ENROLLED, NETMAP */
	bool has_listen_port;			/* LOGIN, ENDPOINT */
	uint16_t listen_port;
	unsigned int n_endpoints;		/* LOGIN, ENDPOINT */
	struct nbw_endpoint endpoints[NBW_MAX_ENDPOINTS];
	uint64_t serial;			/* NETMAP */
	uint32_t n_peers;			/* NETMAP */
	struct nbw_node *peers;
	char *ruleset;				/* NETMAP, may be "" */
	uint64_t cookie;			/* PING, PONG */
};

/* A growable byte buffer. */
struct nbw_buf {
	uint8_t *data;
	size_t len, cap;
};

void nbw_buf_free(struct nbw_buf *b);
int nbw_buf_put(struct nbw_buf *b, const void *p, size_t n);	/* 0/-ENOMEM */
/* Drop the first n bytes. */
void nbw_buf_consume(struct nbw_buf *b, size_t n);

void nbw_msg_init(struct nbw_msg *m, uint16_t type);
void nbw_msg_free(struct nbw_msg *m);	/* frees owned pointers, re-inits */

/*
 * Append m as one whole frame to out. Checks the same bounds the decoder
 * does (so we never send what the other side must refuse). Returns 0 or
 * -errno with a message in err.
 */
int nbw_msg_encode(const struct nbw_msg *m, struct nbw_buf *out,
		   char *err, size_t errlen);

/*
 * Look at the start of a byte stream: returns 0 if more bytes are needed,
 * 1 if a whole frame is there (*frame_len = header + payload), -1 if the
 * header is bad (oversize, wrong version, flags, unknown type; err set).
 */
int nbw_frame_check(const uint8_t *buf, size_t len, size_t *frame_len,
		    char *err, size_t errlen);

/*
 * Decode one whole frame (header included) into m (nbw_msg_free it after
 * use, also on failure). Returns 0 or -1 with a message in err.
 */
int nbw_msg_decode(const uint8_t *frame, size_t len, struct nbw_msg *m,
		   char *err, size_t errlen);

/* Low level: one attribute. */
struct nbw_attr {
	uint16_t type, flags;
	uint32_t len;
	const uint8_t *data;
};
/*
 * Take the next attribute from [*p, *p + *left): 1 and advances, 0 at the
 * end, -1 if truncated (err set).
 */
int nbw_attr_next(const uint8_t **p, size_t *left, struct nbw_attr *a,
		  char *err, size_t errlen);

const char *nbw_msg_name(uint16_t type);	/* "HELLO", "?" if unknown */
const char *nbw_attr_name(uint16_t type);
const char *nbw_err_name(uint32_t code);	/* "KEY_EXPIRED" ... */

/* Names: [A-Za-z0-9._-]{1,63}, what policy/ and the ruleset file accept. */
bool nbw_name_valid(const char *s);

/* "1.2.3.4:51820", "[fd00::1]:51820". Parse: 0 or -1. */
int nbw_endpoint_parse(const char *s, struct nbw_endpoint *ep);
const char *nbw_endpoint_str(const struct nbw_endpoint *ep, char *buf,
			     size_t n);	/* n >= 64 */
/* "100.64.0.1/16"; parse: 0 or -1 (len optional = full length). */
int nbw_addr_parse(const char *s, struct nbw_addr *a);
const char *nbw_addr_str(const struct nbw_addr *a, char *buf, size_t n);
/* Address only, no "/len" */
const char *nbw_addr_host_str(const struct nbw_addr *a, char *buf, size_t n);

/* WireGuard keys as base64 (44 chars + NUL). */
#define NBW_KEY_B64_LEN 45
void nbw_key_to_base64(char out[NBW_KEY_B64_LEN],
		       const uint8_t key[NBW_KEY_LEN]);
int nbw_key_from_base64(uint8_t key[NBW_KEY_LEN], const char *s); /* 0/-1 */

#endif /* NBW_WIRE_H */
