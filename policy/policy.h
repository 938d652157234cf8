/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbguard policy library: parse and validate a YAML policy
 * (Documentation/policy.md), compile it for one node into the module's
 * ruleset description (struct nbg_ruleset_desc, kmod/classifier.h),
 * evaluate packets against the source policy (the reference evaluator),
 * and run the policy's own tests.
 *
 * Link: build/libnbpolicy.a -lyaml. Include with -I<top of tree>.
 *
 * Stable ids (documented in Documentation/policy.md, "Ids"):
 *   group id    = 1 + index of the group in `groups:` (file order)
 *   identity id = 1 + index of the peer in `peers:` (file order; peers
 *                 added with nbp_add_peer() come after, in call order)
 *   rule id     = 2 * index + 1 for a rule (index in `rules:`, file order,
 *                 disabled rules count too so ids do not move when a rule
 *                 is toggled), 2 * index + 2 for the reverse half of a
 *                 bidirectional rule.
 * so a rule id maps back to its rule with nbp_rule_name()/nbp_rule_index().
 *
 * Peers enrolled after the policy was written: a policy may declare a peer
 * without addresses (the control plane fills them in with
 * nbp_set_peers_addresses(), which also overrides addresses the file
 * gives), or the control plane may add a peer that the
 * file does not name at all with nbp_add_peer() (e.g. joined groups from a
 * setup key), and add groups to a peer either way with
 * nbp_peer_add_groups(). A peer without addresses can never match a packet and is not
 * emitted as an identity.
 *
 * Not thread-safe per policy object; distinct objects are independent.
 */
#ifndef _NBP_POLICY_H
#define _NBP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct nbg_ruleset_desc;	/* kmod/classifier.h */
struct nbp_policy;

/* ---- diagnostics ---------------------------------------------------- */

enum nbp_severity {
	NBP_SEV_ERROR,
	NBP_SEV_WARNING,
};

struct nbp_msg {
	enum nbp_severity sev;
	char *file;		/* name given to nbp_load_*() */
	unsigned int line, col;	/* 1-based; 0 when not tied to a place */
	char *text;		/* what is wrong, without the location */
};

struct nbp_diag {
	size_t n, cap;
	unsigned int n_errors, n_warnings;
	struct nbp_msg *msgs;
};

void nbp_diag_init(struct nbp_diag *d);
void nbp_diag_free(struct nbp_diag *d);
/* Prints "file:line:col: error: text" lines (gcc style). */
void nbp_diag_print(const struct nbp_diag *d, FILE *f);

/* ---- loading -------------------------------------------------------- */

/* Limits that keep hostile input bounded (errors, not crashes). */
#define NBP_MAX_INPUT		(64u << 20)	/* bytes of YAML */
#define NBP_MAX_DEPTH		16		/* nesting of YAML collections */
#define NBP_MAX_NAME		63		/* peer/group/rule/... names */

/*
 * Parse and validate. Returns NULL if there is any error (all errors found
 * are in @diag); warnings do not fail the load. @diag may be NULL.
 */
struct nbp_policy *nbp_load_file(const char *path, struct nbp_diag *diag);
struct nbp_policy *nbp_load_buffer(const char *name, const char *buf,
				   size_t len, struct nbp_diag *diag);
void nbp_free(struct nbp_policy *p);

/* ---- addresses, peers, groups, rules --------------------------------- */

struct nbp_addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* prefix length */
	uint8_t addr[16];	/* network order; v4 in the first 4 bytes */
};

/* Parse "100.64.0.1", "fd00::1", "10.0.0.0/8"; 0 or -1. */
int nbp_addr_parse(const char *s, struct nbp_addr *a);
/* Format as "addr/len" into buf (at least 64 bytes). */
const char *nbp_addr_str(const struct nbp_addr *a, char *buf, size_t n);

/* "tcp", "udp", "icmp", "icmpv6", "sctp", "udplite", "0".."255" -> number;
 * "all"/"any" -> *any. 0 or -1. */
int nbp_proto_parse(const char *s, bool *any, uint8_t *proto);

size_t nbp_peer_count(const struct nbp_policy *p);
/* -1 if no such peer. */
int nbp_peer_find(const struct nbp_policy *p, const char *name);
const char *nbp_peer_name(const struct nbp_policy *p, size_t i);
uint32_t nbp_peer_ident_id(const struct nbp_policy *p, size_t i);
size_t nbp_peer_addrs(const struct nbp_policy *p, size_t i,
		      const struct nbp_addr **addrs);
/* Peer owning an address (host addresses only, exact match), or -1. */
int nbp_peer_by_addr(const struct nbp_policy *p, const struct nbp_addr *a);

/*
 * Replace the addresses of a peer (host addresses: /32 or /128 or no
 * length). Returns 0, or -1 with a message in @diag (unknown peer, bad
 * or duplicate address); nothing is changed then. The same as
 * nbp_set_peers_addresses() with one peer and no flags.
 */
int nbp_set_peer_addresses(struct nbp_policy *p, const char *name,
			   const char *const *addrs, size_t n,
			   struct nbp_diag *diag);

/*
 * Replace the addresses of many peers in one step, e.g. every enrolled
 * node's addresses from the control plane's registry. All or nothing:
 * uniqueness is checked on the final state only, so addresses may move
 * between listed peers (a gets b's old address while b gets a new one),
 * which setting peers one at a time would refuse halfway.
 *
 * Errors (-1, nothing changed, every problem in @diag): an unknown peer,
 * a peer listed twice, a bad address, an address given to two listed
 * peers, and, without NBP_ADDRS_OVERRIDE, an address that a peer not in
 * @set holds.
 *
 * NBP_ADDRS_OVERRIDE: @set is the source of truth for addresses. A peer
 * not in @set loses the addresses @set gives to others and keeps the rest
 * (one warning per lost address, at the peer's place in the file); a
 * listed peer whose earlier addresses (e.g. written in the file) differ
 * gets one warning naming what was replaced. Returns 0 on success.
 */
struct nbp_peer_addrs {
	const char *name;
	const char *const *addrs;
	size_t n;
};
#define NBP_ADDRS_OVERRIDE	1u
int nbp_set_peers_addresses(struct nbp_policy *p,
			    const struct nbp_peer_addrs *set, size_t n,
			    unsigned int flags, struct nbp_diag *diag);
/* Add a peer not named in the file, member of existing @groups. */
int nbp_add_peer(struct nbp_policy *p, const char *name,
		 const char *const *groups, size_t n_groups,
		 const char *const *tags, size_t n_tags,
		 struct nbp_diag *diag);

/*
 * Make an existing peer (named in the file or added) also a member of
 * @groups, e.g. the groups of the setup key a peer the file names enrolled
 * with. Groups it already has are skipped, so calling this again with the
 * same list is harmless. Returns 0, or -1 with a message in @diag (unknown
 * peer or group; nothing is changed then, except on out of memory, which
 * may leave some of the groups joined).
 */
int nbp_peer_add_groups(struct nbp_policy *p, const char *name,
			const char *const *groups, size_t n,
			struct nbp_diag *diag);

size_t nbp_group_count(const struct nbp_policy *p);
const char *nbp_group_name(const struct nbp_policy *p, size_t i);
int nbp_group_find(const struct nbp_policy *p, const char *name);
uint32_t nbp_group_id(const struct nbp_policy *p, size_t i);

size_t nbp_rule_count(const struct nbp_policy *p);
const char *nbp_rule_name_at(const struct nbp_policy *p, size_t i);
/* Rule index for a compiled rule id, -1 if none; *reverse set if the id
 * is the reverse half of a bidirectional rule. */
int nbp_rule_index(const struct nbp_policy *p, uint32_t rule_id,
		   bool *reverse);
/* Name of the rule a compiled rule id came from; NULL if none. */
const char *nbp_rule_name(const struct nbp_policy *p, uint32_t rule_id);

/*
 * Peers the policy connects @node to: for each peer X != node such that
 * an enabled allow rule lets X reach node (NBP_CONN_IN) or node reach X
 * (NBP_CONN_OUT), call cb once, in peer order. A direction is left out
 * only if deny rules refuse all of its allowed traffic: the denies select
 * every address of both peers, and have protocol all, or the allow
 * rule's protocol and no ports, or ports that together cover the allow
 * rule's ports (all of 0-65535 if it has none). A partial deny (some
 * ports, one address family, another protocol) leaves the peer in. The
 * control plane tells a node only about these peers. Returns the number
 * of peers, or -1 if @node is unknown (or out of memory).
 */
#define NBP_CONN_IN	1u
#define NBP_CONN_OUT	2u
typedef void (*nbp_peer_cb)(const struct nbp_policy *p, size_t peer,
			    unsigned int flags, void *ctx);
int nbp_connected_peers(const struct nbp_policy *p, const char *node,
			nbp_peer_cb cb, void *ctx);

/* ---- compiling ------------------------------------------------------ */

/*
 * Compile what @node enforces (its inbound rules) into @out, which the
 * caller frees with nbp_desc_free(). Deterministic. Returns 0, or -1
 * with an error in @diag (unknown node, limits).
 */
int nbp_compile(const struct nbp_policy *p, const char *node,
		struct nbg_ruleset_desc *out, struct nbp_diag *diag);
void nbp_desc_free(struct nbg_ruleset_desc *d);

/*
 * Print a compiled description in the text format of
 * Documentation/ruleset-format.md, with comments naming the policy rule
 * (and half) each rule id came from. @p may be NULL (no names).
 */
void nbp_desc_print(const struct nbp_policy *p,
		    const struct nbg_ruleset_desc *d, FILE *f);

/* ---- reference evaluator -------------------------------------------- */

struct nbp_packet {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* IP protocol number */
	uint16_t dport;		/* host order, 0 if the protocol has none */
	uint8_t saddr[16], daddr[16];
};

struct nbp_result {
	uint8_t action;		/* NBG_ACTION_ALLOW or NBG_ACTION_DENY */
	uint32_t rule_id;	/* 0 = default (deny) */
	int rule_index;		/* -1 = default */
	bool reverse;		/* matched the reverse half */
};

/*
 * Evaluate a packet against the source policy (no compilation): deny wins
 * over allow, the lowest matching rule id is reported, default deny.
 */
void nbp_eval(const struct nbp_policy *p, const struct nbp_packet *pkt,
	      struct nbp_result *r);

/*
 * Resolve "peer-name" or an address into an address of @family (0 = the
 * peer's first address). Returns 0 or -1.
 */
int nbp_resolve(const struct nbp_policy *p, const char *what, int family,
		struct nbp_addr *out);

/* ---- policy tests ---------------------------------------------------- */

/*
 * Run the `tests:` section. An expectation is checked once per address
 * family both ends have (icmp: IPv4 only, icmpv6: IPv6 only); each failed
 * check is one error in @diag at the expectation's line and column, and an
 * expectation with no family to check is one failed check. Returns the
 * number of failed checks; *n_run (may be NULL) gets the number of checks
 * made, so the return value is at most *n_run.
 */
int nbp_run_tests(const struct nbp_policy *p, struct nbp_diag *diag,
		  unsigned int *n_run);

#endif /* _NBP_POLICY_H */
