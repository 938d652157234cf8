/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbguard classifier: the ruleset description (what userspace sends, what
 * the policy compiler produces) and the compiled, read-only lookup
 * structure built from it.
 *
 * This header and classifier.c build unchanged in the kernel and in
 * userspace (selftests/unit, policy/ differential tests, benchmarks); in
 * userspace lib/kshim.h supplies the few kernel types and helpers used.
 */
#ifndef _NBG_CLASSIFIER_H
#define _NBG_CLASSIFIER_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/in6.h>
#else
#include "../lib/kshim.h"
#endif
#include "uapi/nbguard.h"

/* An address prefix. Addresses are in network byte order; host bits are 0. */
struct nbg_prefix {
	u8 family;		/* AF_INET or AF_INET6 */
	u8 len;			/* 0..32 or 0..128 */
	union {
		__be32 v4;
		struct in6_addr v6;
		u8 raw[16];
	} addr;
};

struct nbg_port_range {
	u16 lo, hi;		/* host order, inclusive */
};

struct nbg_selector {
	bool any;
	u32 n_idents, n_groups, n_prefixes;
	u32 *idents;
	u32 *groups;
	struct nbg_prefix *prefixes;
};

struct nbg_rule_desc {
	u32 id;			/* unique, != 0 */
	u8 action;		/* NBG_ACTION_ALLOW or NBG_ACTION_DENY */
	u8 direction;		/* NBG_DIR_IN or NBG_DIR_OUT */
	bool proto_any;
	u8 proto;		/* when !proto_any */
	struct nbg_selector src, dst;
	u32 n_ports;		/* 0 = any port */
	struct nbg_port_range *ports;
};

struct nbg_ident_desc {
	u32 id;			/* unique, != 0 */
	char name[NBG_NAME_MAX];
	u32 n_groups, n_prefixes;
	u32 *groups;
	struct nbg_prefix *prefixes;
};

struct nbg_ruleset_desc {
	u32 n_idents, n_rules;
	struct nbg_ident_desc *idents;
	struct nbg_rule_desc *rules;
};

/* A packet as the classifier sees it. Ports in host order, 0 if none. */
struct nbg_pkt {
	u8 family;
	u8 proto;
	u8 direction;
	u16 sport, dport;
	union {
		__be32 v4;
		struct in6_addr v6;
		u8 raw[16];
	} saddr, daddr;
};

struct nbg_verdict {
	u8 action;		/* NBG_ACTION_NONE if no rule matched */
	u32 rule_id;		/* 0 when NBG_ACTION_NONE */
	u32 rule_index;		/* index into the desc's rules[] (counters) */
	u32 ident_id;		/* identity of the remote address, 0 if none */
};

struct nbg_classifier;

/*
 * Check a description (ids unique and non-zero, references resolve,
 * prefixes canonical, ports only with tcp/udp/sctp/udplite, ranges
 * ordered, limits). Returns 0 or -EINVAL with a static message in *err.
 */
int nbg_desc_validate(const struct nbg_ruleset_desc *d, const char **err);

/*
 * Compile a validated description. The result does not point into @d.
 * Returns NULL on allocation failure (with *err set). Memory is charged
 * to the caller (GFP_KERNEL_ACCOUNT) in the kernel.
 */
struct nbg_classifier *nbg_classifier_build(const struct nbg_ruleset_desc *d,
					    const char **err);
void nbg_classifier_free(struct nbg_classifier *c);
size_t nbg_classifier_mem(const struct nbg_classifier *c);

/* Classify one packet. Lock-free, read-only, no allocation. */
void nbg_classify(const struct nbg_classifier *c, const struct nbg_pkt *p,
		  struct nbg_verdict *v);

#endif /* _NBG_CLASSIFIER_H */
