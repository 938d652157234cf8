/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small client for the "nbguard" generic netlink family (libnl-3).
 *
 * Every function returns 0 or a negative errno. When the kernel rejected a
 * request, the extended ack message it sent (if any) is kept until the next
 * request: nbg_nl_extack() returns it ("" if none) and nbg_nl_strerror()
 * formats "Invalid argument: <extack text>" for messages such as
 *   nbctl: rules load: Invalid argument: rule 7: port range reversed
 */
#ifndef NBG_LIB_NBGNL_H
#define NBG_LIB_NBGNL_H

#include <stddef.h>
#include <stdbool.h>
#include <net/if.h>
#include "lib/desc.h"

struct nbg_nl;

/* Open a socket, resolve the family and its "events" group. */
int nbg_nl_open(struct nbg_nl **out);
void nbg_nl_close(struct nbg_nl *nl);
/* The kernel's extack text from the last failed request, or "". */
const char *nbg_nl_extack(const struct nbg_nl *nl);
/* "strerror(-err)" or "strerror(-err): extack"; valid until the next call. */
const char *nbg_nl_strerror(struct nbg_nl *nl, int err);
/* Family id and events multicast group id (for tools crafting messages). */
int nbg_nl_family(const struct nbg_nl *nl);
int nbg_nl_events_group(const struct nbg_nl *nl);
/* The underlying libnl socket (struct nl_sock *), for nbg-rawnl. */
void *nbg_nl_sock(struct nbg_nl *nl);
/*
 * For tools that craft requests (selftests/tools/nbg-rawnl): a new
 * struct nl_msg * with the nbguard genl header for @cmd (@size bytes, 0 =
 * libnl default); send one and wait for the ack or error (consumes msg);
 * or send a raw buffer starting with a struct nlmsghdr whose type, flags
 * and length the caller set (seq, port, REQUEST and ACK are filled in).
 */
void *nbg_nl_new_msg(struct nbg_nl *nl, u8 cmd, size_t size);
int nbg_nl_send_msg(struct nbg_nl *nl, void *msg);
int nbg_nl_send_raw(struct nbg_nl *nl, void *buf, size_t len);

struct nbg_status {
	u64 generation;
	u8 default_in, default_out;	/* NBG_ACTION_ALLOW / DENY */
	u32 event_rate, event_burst;
	u32 n_identities, n_rules, n_devices;
	u32 max_identities, max_rules;
	u64 mem_bytes;
	u64 events_dropped;
};
int nbg_nl_get_status(struct nbg_nl *nl, struct nbg_status *st);

/* Which fields of struct nbg_config to send. */
enum {
	NBG_CFG_DEFAULT_IN	= 1U << 0,
	NBG_CFG_DEFAULT_OUT	= 1U << 1,
	NBG_CFG_EVENT_RATE	= 1U << 2,
	NBG_CFG_EVENT_BURST	= 1U << 3,
};
struct nbg_config {
	unsigned int mask;
	u8 default_in, default_out;
	u32 event_rate, event_burst;
};
int nbg_nl_set_config(struct nbg_nl *nl, const struct nbg_config *cfg);

struct nbg_dev {
	u32 ifindex;
	char ifname[IF_NAMESIZE];
	u32 flags;		/* enum nbg_dev_flags */
	char kind[32];		/* link kind, "" if not reported */
};
int nbg_nl_dev_add(struct nbg_nl *nl, const char *ifname, u32 flags);
int nbg_nl_dev_del(struct nbg_nl *nl, const char *ifname);
/* *devs is malloc'd (free() it), *n entries. */
int nbg_nl_dev_list(struct nbg_nl *nl, struct nbg_dev **devs, size_t *n);

/*
 * Load a ruleset as one transaction: TXN_BEGIN (with @expect_gen if not
 * NULL), TXN_ADD in batches of about @batch_bytes of attributes (0 = the
 * default, 32 KiB), TXN_COMMIT. On any error the transaction is aborted
 * and the first error (with its extack) is returned. *new_gen (may be
 * NULL) receives the generation now running.
 */
struct nbg_load_opts {
	const u64 *expect_gen;
	size_t batch_bytes;
};
int nbg_nl_load(struct nbg_nl *nl, const struct nbg_ruleset_desc *d,
		const struct nbg_load_opts *opts, u64 *new_gen);
/* The individual steps, for tools and tests. */
int nbg_nl_txn_begin(struct nbg_nl *nl, const u64 *expect_gen, u32 *txn_id,
		     u64 *gen);
/* Adds idents[0..n_idents) and rules[0..n_rules) in one message. */
int nbg_nl_txn_add(struct nbg_nl *nl, u32 txn_id,
		   const struct nbg_ident_desc *idents, u32 n_idents,
		   const struct nbg_rule_desc *rules, u32 n_rules);
int nbg_nl_txn_commit(struct nbg_nl *nl, u32 txn_id, u64 *new_gen);
int nbg_nl_txn_abort(struct nbg_nl *nl, u32 txn_id);

/*
 * Dump the running ruleset (identities and rules) into @d (initialised,
 * emptied first). Retries when the dump was interrupted by a change
 * (NLM_F_DUMP_INTR) or the two dumps saw different generations. The
 * result is sorted by id. *gen (may be NULL) gets its generation.
 */
int nbg_nl_dump_ruleset(struct nbg_nl *nl, struct nbg_ruleset_desc *d,
			u64 *gen);

struct nbg_stat {
	u32 rule_id;		/* 0 = default verdict for @direction */
	u8 direction;
	u64 packets, bytes;
};
/* *st is malloc'd (free() it). Sorted: rule 0 (in, out) first, then by id. */
int nbg_nl_stats_get(struct nbg_nl *nl, struct nbg_stat **st, size_t *n);
int nbg_nl_stats_reset(struct nbg_nl *nl);
int nbg_nl_flush(struct nbg_nl *nl);

/* Ask the kernel which rule decides a synthetic packet. */
int nbg_nl_trace(struct nbg_nl *nl, const struct nbg_pkt *p,
		 struct nbg_verdict *v);

struct nbg_event {
	struct nbg_pkt pkt;
	u32 ifindex;
	struct nbg_verdict verdict;
	u64 dropped;		/* events suppressed before this one */
};
/* Return non-zero to stop monitoring (nbg_nl_monitor then returns 0). */
typedef int (*nbg_event_cb)(const struct nbg_event *ev, void *arg);
/*
 * Subscribe to deny events (on a second socket) and call @cb for each one
 * until it returns non-zero or @timeout_ms (< 0: none) passes.
 */
int nbg_nl_monitor(struct nbg_nl *nl, int timeout_ms, nbg_event_cb cb,
		   void *arg);

#endif /* NBG_LIB_NBGNL_H */
