/* SPDX-License-Identifier: GPL-2.0 */
/* Internal structures of the policy library; not a public API. */
#ifndef _NBP_INTERNAL_H
#define _NBP_INTERNAL_H

#include <stdarg.h>
#include "policy/policy.h"
#include "kmod/uapi/nbguard.h"

#define NBP_MAX_SELECTORS	NBG_MAX_SEL_ITEMS	/* per rule side */
#define NBP_MAX_RULES		100000

/* ---- YAML tree (yaml.c) --------------------------------------------- */

enum ynode_type { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ynode_type type;
	unsigned int line, col;
	bool plain;		/* unquoted scalar (may be a number/bool) */
	char *val;		/* scalar text, NUL-terminated */
	size_t len;		/* scalar length (may contain NUL) */
	struct ynode *self;	/* == this node: lets a scalar act as a list */
	size_t n, cap;		/* children; a map stores key, value, ... */
	struct ynode **kids;
};

#define NBP_MAX_NODES (4u << 20)

/* Parse a single YAML document; NULL with an error in diag. */
struct ynode *ytree_parse(const char *name, const char *buf, size_t len,
			  struct nbp_diag *diag);
void ytree_free(struct ynode *n);

/* ---- diagnostics (diag.c) ------------------------------------------- */

void nbp_diag_add(struct nbp_diag *d, enum nbp_severity sev,
		  const char *file, unsigned int line, unsigned int col,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void nbp_diag_vadd(struct nbp_diag *d, enum nbp_severity sev,
		   const char *file, unsigned int line, unsigned int col,
		   const char *fmt, va_list ap);

/* ---- name index (diag.c): string -> int, open addressing ------------ */

struct nbp_index {
	size_t cap, n;
	const char **keys;
	int *vals;
};

int nbp_index_put(struct nbp_index *ix, const char *key, int val);
int nbp_index_get(const struct nbp_index *ix, const char *key);
void nbp_index_free(struct nbp_index *ix);

/* ---- the policy ----------------------------------------------------- */

struct nbp_loc {
	unsigned int line, col;
};

enum sel_kind { SEL_ANY, SEL_PEER, SEL_GROUP, SEL_TAG, SEL_NET, SEL_PREFIX };

struct nbp_sel {
	enum sel_kind kind;
	int idx;		/* peer/group/tag/network index */
	struct nbp_addr pfx;	/* SEL_PREFIX */
	struct nbp_loc loc;
};

struct nbp_portrange {
	uint16_t lo, hi;
	struct nbp_loc loc;
};

struct nbp_rule {
	char *name;
	char *desc;
	struct nbp_loc loc;
	bool allow, bidir, enabled;
	bool proto_any;
	uint8_t proto;
	size_t n_src, n_dst, n_ports;
	struct nbp_sel *src, *dst;
	struct nbp_portrange *ports;
};

struct nbp_group {
	char *name;
	char *desc;
	struct nbp_loc loc;
	size_t n_members, cap_members;
	int *members;		/* peer indices, ascending */
};

struct nbp_tag {
	char *name;
	struct nbp_loc loc;
	size_t n_members, cap_members;
	int *members;
};

struct nbp_peer {
	char *name;
	struct nbp_loc loc;
	size_t n_addrs, n_groups, n_tags;
	struct nbp_addr *addrs;
	int *groups;		/* group indices, ascending, unique */
	int *tags;		/* tag indices, ascending, unique */
};

struct nbp_net {
	char *name;
	struct nbp_loc loc;
	size_t n_prefixes;
	struct nbp_addr *prefixes;
};

struct nbp_expect {
	bool accept;
	struct nbp_loc loc;
	char *text;		/* as written, for messages */
	int peer;		/* destination peer, or -1 */
	struct nbp_addr addr;	/* destination address when peer < 0 */
	uint8_t proto;
	uint16_t port;
};

struct nbp_test {
	struct nbp_loc loc;
	int peer;		/* source peer, or -1 */
	struct nbp_addr addr;
	char *text;
	size_t n;
	struct nbp_expect *exp;
};

/* Address -> peer, sorted for binary search. */
struct nbp_addrent {
	struct nbp_addr a;
	int peer;
};

struct nbp_policy {
	char *file;
	size_t n_groups, n_peers, n_nets, n_rules, n_tags, n_tests;
	size_t cap_peers, cap_tags;
	struct nbp_group *groups;
	struct nbp_peer *peers;
	struct nbp_net *nets;
	struct nbp_rule *rules;
	struct nbp_tag *tags;
	struct nbp_test *tests;
	struct nbp_index group_ix, peer_ix, net_ix, tag_ix, rule_ix;
	size_t n_addrmap;
	struct nbp_addrent *addrmap;
};

/* addr helpers (diag.c) */
bool nbp_addr_contains(const struct nbp_addr *pfx, const struct nbp_addr *a);
bool nbp_addr_host(const struct nbp_addr *a);
int nbp_addr_cmp(const struct nbp_addr *a, const struct nbp_addr *b);
bool nbp_proto_has_ports(uint8_t proto);
const char *nbp_proto_name(uint8_t proto);

/* policy.c */
int nbp_build_addrmap(struct nbp_policy *p, struct nbp_diag *diag);
int nbp_tag_get(struct nbp_policy *p, const char *name, struct nbp_loc loc);
int nbp_peer_join_group(struct nbp_policy *p, int peer, int group);
int nbp_peer_add_tag(struct nbp_policy *p, int peer, int tag);

/* eval.c: does a selector list match address @a owned by peer @owner? */
bool nbp_sel_match(const struct nbp_policy *p, const struct nbp_sel *s,
		   size_t n, const struct nbp_addr *a, int owner);
bool nbp_peer_in_sel(const struct nbp_policy *p, const struct nbp_sel *s,
		     size_t n, int peer);

/* lint.c: warnings for rules that never match or are shadowed */
void nbp_lint(const struct nbp_policy *p, struct nbp_diag *diag);

#endif /* _NBP_INTERNAL_H */
