/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbguard: internal structures shared by the module's files.
 */
#ifndef _NBG_NBGUARD_H
#define _NBG_NBGUARD_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "uapi/nbguard.h"
#include "classifier.h"

#define NBG_MAX_DEVICES		64	/* guarded devices per namespace */

/* Module parameters (main.c). */
extern unsigned int nbg_max_identities;
extern unsigned int nbg_max_rules;
extern unsigned long nbg_max_txn_bytes;

extern unsigned int nbg_net_id;
extern struct workqueue_struct *nbg_wq;

struct nbg_counter {
	u64_stats_t packets;
	u64_stats_t bytes;
};

/*
 * One CPU's counters of a ruleset: rules[0..n_rules-1] by rule index, then
 * the default verdict in and out. Only the owning CPU writes.
 */
struct nbg_pcpu_counters {
	struct u64_stats_sync syncp;
	struct nbg_counter c[];
};

/* The running ruleset: read-only once published, freed after RCU. */
struct nbg_ruleset {
	struct nbg_classifier *cls;
	u64 generation;
	u32 n_idents, n_rules;
	/* The description it was built from, kept for IDENT_GET/RULE_GET. */
	struct nbg_ruleset_desc desc;
	size_t desc_bytes;
	struct nbg_pcpu_counters * __percpu *counters;
	struct rcu_work free_work;
};

static inline u32 nbg_default_index(const struct nbg_ruleset *rs, u8 dir)
{
	return rs->n_rules + (dir == NBG_DIR_OUT);
}

struct nbg_dev_entry {
	struct net_device *dev;	/* no reference: dropped on NETDEV_UNREGISTER */
	int ifindex;
	u32 flags;
};

/* Guarded devices: a small copy-on-write array read by the hooks. */
struct nbg_devtab {
	struct rcu_head rcu;
	u32 n;
	struct nbg_dev_entry d[];
};

/* A transaction: a ruleset description being staged by one socket. */
struct nbg_txn {
	u32 id;
	u32 portid;
	u64 base_gen;
	struct nbg_ruleset_desc desc;
	u32 cap_idents, cap_rules;
	size_t bytes;		/* memory charged to this transaction */
	/* The last rule's selectors with an explicit ANY (bit 0 src, 1 dst)
	 * cannot take items from a continuation (NBG_RULE_A_CONT).
	 */
	u8 last_any;
};

struct nbg_net {
	struct net *net;
	/* Serialises all writers: devices, hooks, transactions, swaps. */
	struct mutex lock;

	struct nbg_ruleset __rcu *ruleset;
	struct nbg_devtab __rcu *devtab;
	bool hooks_on;

	u8 default_in, default_out;	/* enum nbg_action; READ_ONCE */

	struct nbg_txn *txns[NBG_MAX_TXNS];
	u32 next_txn_id;

	/* Deny events: GCRA token bucket, lock-free. */
	u32 ev_rate, ev_burst;
	u64 ev_interval_ns, ev_tau_ns;
	atomic64_t ev_tat;
	atomic64_t ev_dropped_total;
	atomic64_t ev_dropped_pending;
};

static inline struct nbg_net *nbg_net(const struct net *net)
{
	return net_generic(net, nbg_net_id);
}

/* Store a message with static storage duration in the extack. */
static inline void nbg_set_err(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack && msg)
		extack->_msg = msg;
}

/* ruleset.c */
struct nbg_ruleset *nbg_ruleset_create(struct nbg_ruleset_desc *desc,
				       size_t desc_bytes, u64 generation,
				       const char **err);
void nbg_ruleset_destroy(struct nbg_ruleset *rs);
void nbg_ruleset_swap(struct nbg_net *nn, struct nbg_ruleset *rs);
void nbg_ruleset_count(const struct nbg_ruleset *rs, u32 index,
		       unsigned int len);
void nbg_ruleset_read_counter(const struct nbg_ruleset *rs, u32 index,
			      u64 *packets, u64 *bytes);
void nbg_ruleset_reset_counters(const struct nbg_ruleset *rs);
size_t nbg_ruleset_mem(const struct nbg_ruleset *rs);
int nbg_ruleset_flush(struct nbg_net *nn, const char **err);
void nbg_desc_free(struct nbg_ruleset_desc *d);
void nbg_classify_full(const struct nbg_net *nn, const struct nbg_ruleset *rs,
		       const struct nbg_pkt *p, struct nbg_verdict *v);

/* txn.c */
struct nbg_txn *nbg_txn_begin(struct nbg_net *nn, u32 portid, u64 base,
			      struct netlink_ext_ack *extack);
struct nbg_txn *nbg_txn_find(struct nbg_net *nn, u32 id, u32 portid,
			     struct netlink_ext_ack *extack, int *err);
void nbg_txn_abort(struct nbg_net *nn, struct nbg_txn *txn);
int nbg_txn_commit(struct nbg_net *nn, struct nbg_txn *txn,
		   struct netlink_ext_ack *extack);
int nbg_txn_grow_idents(struct nbg_txn *txn, u32 more,
			struct netlink_ext_ack *extack);
int nbg_txn_grow_rules(struct nbg_txn *txn, u32 more,
		       struct netlink_ext_ack *extack);
void *nbg_txn_alloc(struct nbg_txn *txn, size_t n, size_t size,
		    struct netlink_ext_ack *extack);
void nbg_txn_release_portid(struct net *net, u32 portid);
void nbg_txn_cleanup_net(struct nbg_net *nn);

/* device.c */
int nbg_dev_add(struct nbg_net *nn, struct net_device *dev, u32 flags,
		bool excl, struct netlink_ext_ack *extack);
int nbg_dev_del(struct nbg_net *nn, struct net_device *dev,
		struct netlink_ext_ack *extack);
u32 nbg_dev_count(struct nbg_net *nn);
void nbg_dev_cleanup_net(struct nbg_net *nn);
int nbg_device_init(void);
void nbg_device_exit(void);

/* hooks.c */
int nbg_hooks_register(struct nbg_net *nn);
void nbg_hooks_unregister(struct nbg_net *nn);

/* events.c */
void nbg_events_init_net(struct nbg_net *nn);
void nbg_events_set(struct nbg_net *nn, u32 rate, u32 burst);
void nbg_event_deny(struct nbg_net *nn, const struct nbg_pkt *p,
		    const struct nbg_verdict *v, int ifindex);

/* netlink.c */
extern struct genl_family nbg_genl_family;
int nbg_genl_init(void);
void nbg_genl_exit(void);
int nbg_put_verdict(struct sk_buff *skb, int attr,
		    const struct nbg_verdict *v, u8 action);
int nbg_put_pkt(struct sk_buff *skb, int attr, const struct nbg_pkt *p,
		int ifindex);

#endif /* _NBG_NBGUARD_H */
