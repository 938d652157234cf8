/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * nbguard: generic netlink ABI between nbguard.ko and userspace
 * (nbctl, nbhelper, the policy compiler).
 *
 * Family "nbguard", version NBG_GENL_VERSION. All state is per network
 * namespace: a socket talks to the module instance of its own namespace.
 * Every write needs CAP_NET_ADMIN in the namespace's user namespace.
 * Machine-readable description: Documentation/netlink/specs/nbguard.yaml.
 *
 * Model
 * -----
 * A ruleset is a set of identities and rules.
 *
 *  identity: id (u32, unique, != 0), name, overlay prefixes (v4/v6),
 *            group ids (u32). On a guarded WireGuard interface the inner
 *            source address of an inbound packet *is* the peer's identity
 *            (WireGuard enforces allowed-ips), so the module maps
 *            address -> identity (longest prefix) -> groups.
 *
 *  rule:     id (u32, unique, != 0), action allow|deny, direction in|out,
 *            protocol (absent = any), destination port ranges (absent =
 *            any; only for tcp/udp/sctp/udplite), and two selectors:
 *              direction in:  src selects the remote peer (identities,
 *                             groups, prefixes or any); dst selects the
 *                             local destination address (prefixes or any).
 *              direction out: dst selects the remote peer; src selects
 *                             the local source address.
 *
 * Verdict for a packet: if any matching rule denies, the packet is dropped
 * and attributed to the lowest-id matching deny rule; else if any matching
 * rule allows, it is accepted and attributed to the lowest-id matching
 * allow rule; else the namespace's default verdict for that direction
 * applies (attributed to rule id 0). Defaults: inbound drop, outbound
 * accept.
 *
 * Rulesets are replaced in transactions: TXN_BEGIN (optionally with
 * NBG_A_GENERATION = the generation the writer based its work on),
 * TXN_ADD in batches of identities and rules, then TXN_COMMIT, which
 * checks the ruleset, compiles it and swaps it in atomically, bumping the
 * generation; or TXN_ABORT. A commit fails with -ESTALE if the running
 * generation is no longer the one the transaction began from, so two
 * writers cannot silently overwrite each other. A failed or aborted
 * transaction changes nothing. A transaction is owned by the socket that
 * began it and is aborted when that socket closes.
 *
 * Per-rule and default counters carry across a commit for every rule id
 * the new ruleset keeps; STATS_RESET zeroes them.
 */
#ifndef _UAPI_LINUX_NBGUARD_H
#define _UAPI_LINUX_NBGUARD_H

#include <linux/types.h>

#define NBG_GENL_NAME		"nbguard"
#define NBG_GENL_VERSION	1
#define NBG_MCGRP_EVENTS	"events"

#define NBG_NAME_MAX		64	/* identity name, incl. NUL */

/* Hard limits per namespace (the module may be built with lower ones). */
#define NBG_MAX_IDENTITIES	(1U << 20)
#define NBG_MAX_RULES		(1U << 20)
#define NBG_MAX_PREFIXES	256	/* per identity or selector */
#define NBG_MAX_GROUPS		256	/* per identity */
#define NBG_MAX_SEL_ITEMS	4096	/* identities/groups per selector */
#define NBG_MAX_PORT_RANGES	64	/* per rule */
#define NBG_MAX_TXNS		4	/* open transactions per namespace */

enum nbg_action {
	NBG_ACTION_NONE,	/* no rule matched (classifier result only) */
	NBG_ACTION_ALLOW,
	NBG_ACTION_DENY,
	__NBG_ACTION_MAX
};

enum nbg_direction {
	NBG_DIR_IN,		/* arriving on a guarded interface */
	NBG_DIR_OUT,		/* leaving through a guarded interface */
	__NBG_DIR_MAX
};

/* NBG_A_DEV_FLAGS */
enum nbg_dev_flags {
	NBG_DEV_F_ANY_KIND	= 1U << 0, /* allow a non-wireguard link */
	NBG_DEV_F_OUTBOUND	= 1U << 1, /* also check outbound traffic */
};

enum nbg_cmd {
	NBG_CMD_UNSPEC,
	NBG_CMD_GET_STATUS,	/* do: generation, counts, defaults, limits */
	NBG_CMD_SET_CONFIG,	/* do: DEFAULT_IN/OUT, EVENT_RATE/BURST */
	NBG_CMD_DEV_ADD,	/* do: IFNAME or IFINDEX, [DEV_FLAGS] */
	NBG_CMD_DEV_DEL,	/* do: IFNAME or IFINDEX */
	NBG_CMD_DEV_GET,	/* dump: one message per guarded device */
	NBG_CMD_TXN_BEGIN,	/* do: [GENERATION] -> TXN_ID, GENERATION */
	NBG_CMD_TXN_ADD,	/* do: TXN_ID, IDENTITY*, RULE* */
	NBG_CMD_TXN_COMMIT,	/* do: TXN_ID -> GENERATION */
	NBG_CMD_TXN_ABORT,	/* do: TXN_ID */
	NBG_CMD_IDENT_GET,	/* dump: one IDENTITY per message + GENERATION */
	NBG_CMD_RULE_GET,	/* dump: one RULE per message + GENERATION */
	NBG_CMD_STATS_GET,	/* dump: one STATS per message (rule 0 = defaults) */
	NBG_CMD_STATS_RESET,	/* do */
	NBG_CMD_FLUSH,		/* do: install an empty ruleset */
	NBG_CMD_TRACE,		/* do: TRACE -> VERDICT (classify a synthetic packet) */
	NBG_CMD_DENY_EVENT,	/* multicast on "events": EVENT */
	__NBG_CMD_MAX
};
#define NBG_CMD_MAX (__NBG_CMD_MAX - 1)

/* Top-level attributes */
enum nbg_attr {
	NBG_A_UNSPEC,
	NBG_A_PAD,
	NBG_A_GENERATION,	/* u64 */
	NBG_A_TXN_ID,		/* u32 */
	NBG_A_IFINDEX,		/* u32 */
	NBG_A_IFNAME,		/* string, < IFNAMSIZ */
	NBG_A_DEV_FLAGS,	/* u32, enum nbg_dev_flags */
	NBG_A_DEFAULT_IN,	/* u8, enum nbg_action (ALLOW or DENY) */
	NBG_A_DEFAULT_OUT,	/* u8, enum nbg_action (ALLOW or DENY) */
	NBG_A_EVENT_RATE,	/* u32, deny events per second (0 = off) */
	NBG_A_EVENT_BURST,	/* u32 */
	NBG_A_N_IDENTITIES,	/* u32 */
	NBG_A_N_RULES,		/* u32 */
	NBG_A_N_DEVICES,	/* u32 */
	NBG_A_MAX_IDENTITIES,	/* u32 */
	NBG_A_MAX_RULES,	/* u32 */
	NBG_A_MEM_BYTES,	/* u64, memory used by the running ruleset */
	NBG_A_EVENTS_DROPPED,	/* u64, deny events suppressed by rate limit */
	NBG_A_IDENTITY,		/* nest, enum nbg_ident_attr; multi in TXN_ADD */
	NBG_A_RULE,		/* nest, enum nbg_rule_attr; multi in TXN_ADD */
	NBG_A_STATS,		/* nest, enum nbg_stats_attr */
	NBG_A_TRACE,		/* nest, enum nbg_pkt_attr */
	NBG_A_VERDICT,		/* nest, enum nbg_verdict_attr */
	NBG_A_EVENT,		/* nest, enum nbg_event_attr */
	NBG_A_DEV_KIND,		/* string, link kind of a guarded device */
	__NBG_A_MAX
};
#define NBG_A_MAX (__NBG_A_MAX - 1)

/* An address prefix: nested in identities and selectors */
enum nbg_prefix_attr {
	NBG_PREFIX_A_UNSPEC,
	NBG_PREFIX_A_FAMILY,	/* u8: AF_INET or AF_INET6 */
	NBG_PREFIX_A_ADDR,	/* binary: 4 or 16 bytes, network order */
	NBG_PREFIX_A_LEN,	/* u8: 0..32 or 0..128; host bits must be 0 */
	__NBG_PREFIX_A_MAX
};
#define NBG_PREFIX_A_MAX (__NBG_PREFIX_A_MAX - 1)

enum nbg_ident_attr {
	NBG_IDENT_A_UNSPEC,
	NBG_IDENT_A_ID,		/* u32, != 0 */
	NBG_IDENT_A_NAME,	/* string, < NBG_NAME_MAX */
	NBG_IDENT_A_PREFIX,	/* nest, enum nbg_prefix_attr; multi */
	NBG_IDENT_A_GROUP,	/* u32; multi */
	__NBG_IDENT_A_MAX
};
#define NBG_IDENT_A_MAX (__NBG_IDENT_A_MAX - 1)

/* A selector: any, or a union of identities, groups and prefixes */
enum nbg_sel_attr {
	NBG_SEL_A_UNSPEC,
	NBG_SEL_A_ANY,		/* flag */
	NBG_SEL_A_IDENT,	/* u32 identity id; multi */
	NBG_SEL_A_GROUP,	/* u32 group id; multi */
	NBG_SEL_A_PREFIX,	/* nest, enum nbg_prefix_attr; multi */
	__NBG_SEL_A_MAX
};
#define NBG_SEL_A_MAX (__NBG_SEL_A_MAX - 1)

enum nbg_ports_attr {
	NBG_PORTS_A_UNSPEC,
	NBG_PORTS_A_LO,		/* u16, host order */
	NBG_PORTS_A_HI,		/* u16, host order, >= LO */
	__NBG_PORTS_A_MAX
};
#define NBG_PORTS_A_MAX (__NBG_PORTS_A_MAX - 1)

/*
 * A rule may be larger than one netlink attribute (64 KiB) or one dump
 * message: 4096 group ids alone take 32 KiB. Such a rule travels as a head
 * RULE nest (ID, ACTION, DIRECTION, PROTO and some items) followed by
 * continuation RULE nests that carry ID, CONT and more SRC, DST and PORTS
 * items; the items are appended to the rule's. In TXN_ADD a continuation
 * must name the rule added last to the transaction (it may come in a later
 * message); dumps send a continuation in the message right after the part
 * it continues. A selector or port list is "any" only if no part carries
 * an item for it; a selector with the ANY flag cannot be continued.
 */
enum nbg_rule_attr {
	NBG_RULE_A_UNSPEC,
	NBG_RULE_A_ID,		/* u32, != 0 */
	NBG_RULE_A_ACTION,	/* u8, ALLOW or DENY */
	NBG_RULE_A_DIRECTION,	/* u8, enum nbg_direction; default IN */
	NBG_RULE_A_PROTO,	/* u8 IP protocol number; absent = any */
	NBG_RULE_A_SRC,		/* nest, enum nbg_sel_attr; absent = any */
	NBG_RULE_A_DST,		/* nest, enum nbg_sel_attr; absent = any */
	NBG_RULE_A_PORTS,	/* nest, enum nbg_ports_attr; multi; absent = any */
	NBG_RULE_A_CONT,	/* flag: continues the previous rule (above) */
	__NBG_RULE_A_MAX
};
#define NBG_RULE_A_MAX (__NBG_RULE_A_MAX - 1)

enum nbg_stats_attr {
	NBG_STATS_A_UNSPEC,
	NBG_STATS_A_PAD,
	NBG_STATS_A_RULE_ID,	/* u32; 0 = default verdict */
	NBG_STATS_A_DIRECTION,	/* u8; only for rule 0 */
	NBG_STATS_A_PACKETS,	/* u64 */
	NBG_STATS_A_BYTES,	/* u64 */
	__NBG_STATS_A_MAX
};
#define NBG_STATS_A_MAX (__NBG_STATS_A_MAX - 1)

/* A packet's header fields: for TRACE requests and in deny events */
enum nbg_pkt_attr {
	NBG_PKT_A_UNSPEC,
	NBG_PKT_A_FAMILY,	/* u8 */
	NBG_PKT_A_SADDR,	/* binary 4/16 */
	NBG_PKT_A_DADDR,	/* binary 4/16 */
	NBG_PKT_A_PROTO,	/* u8 */
	NBG_PKT_A_SPORT,	/* u16, host order */
	NBG_PKT_A_DPORT,	/* u16, host order */
	NBG_PKT_A_DIRECTION,	/* u8 */
	NBG_PKT_A_IFINDEX,	/* u32 (events only) */
	__NBG_PKT_A_MAX
};
#define NBG_PKT_A_MAX (__NBG_PKT_A_MAX - 1)

enum nbg_verdict_attr {
	NBG_VERDICT_A_UNSPEC,
	NBG_VERDICT_A_ACTION,	/* u8: ALLOW or DENY (after default) */
	NBG_VERDICT_A_RULE_ID,	/* u32; 0 = default verdict */
	NBG_VERDICT_A_IDENT_ID,	/* u32; 0 = address is no identity */
	__NBG_VERDICT_A_MAX
};
#define NBG_VERDICT_A_MAX (__NBG_VERDICT_A_MAX - 1)

/* NBG_CMD_DENY_EVENT carries NBG_A_EVENT = { PKT, VERDICT } and
 * NBG_A_EVENTS_DROPPED (events suppressed since the previous one).
 */
enum nbg_event_attr {
	NBG_EVENT_A_UNSPEC,
	NBG_EVENT_A_PKT,	/* nest, enum nbg_pkt_attr */
	NBG_EVENT_A_VERDICT,	/* nest, enum nbg_verdict_attr */
	__NBG_EVENT_A_MAX
};
#define NBG_EVENT_A_MAX (__NBG_EVENT_A_MAX - 1)

#endif /* _UAPI_LINUX_NBGUARD_H */
