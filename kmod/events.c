// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: deny events. Every dropped packet may raise an event on the
 * "events" multicast group, if someone listens, rate limited per
 * namespace. The limiter is a lock-free GCRA token bucket (one cmpxchg
 * on a theoretical arrival time), so the drop path takes no lock.
 * Suppressed events are counted and reported with the next event.
 */
#include <linux/ktime.h>
#include <net/genetlink.h>

#include "nbguard.h"

#define NBG_EVENT_RATE_DEFAULT	100
#define NBG_EVENT_BURST_DEFAULT	200

void nbg_events_set(struct nbg_net *nn, u32 rate, u32 burst)
{
	u64 interval = rate ? NSEC_PER_SEC / rate : 0;

	WRITE_ONCE(nn->ev_burst, burst);
	WRITE_ONCE(nn->ev_interval_ns, interval);
	/* A burst of n lets n events through back to back. */
	WRITE_ONCE(nn->ev_tau_ns, interval * (burst ? burst - 1 : 0));
	atomic64_set(&nn->ev_tat, 0);
	WRITE_ONCE(nn->ev_rate, rate);
}

void nbg_events_init_net(struct nbg_net *nn)
{
	atomic64_set(&nn->ev_dropped_total, 0);
	atomic64_set(&nn->ev_dropped_pending, 0);
	nbg_events_set(nn, NBG_EVENT_RATE_DEFAULT, NBG_EVENT_BURST_DEFAULT);
}

static bool nbg_event_allow(struct nbg_net *nn)
{
	u64 interval = READ_ONCE(nn->ev_interval_ns);
	u64 tau = READ_ONCE(nn->ev_tau_ns);
	s64 now = ktime_get_mono_fast_ns();
	s64 tat = atomic64_read(&nn->ev_tat), base;

	do {
		base = max(tat, now);
		if ((u64)(base - now) > tau)
			return false;
	} while (!atomic64_try_cmpxchg(&nn->ev_tat, &tat, base + interval));
	return true;
}

static void nbg_event_suppressed(struct nbg_net *nn, u64 n)
{
	atomic64_add(n, &nn->ev_dropped_total);
	atomic64_add(n, &nn->ev_dropped_pending);
}

void nbg_event_deny(struct nbg_net *nn, const struct nbg_pkt *p,
		    const struct nbg_verdict *v, int ifindex)
{
	struct net *net = nn->net;
	struct sk_buff *skb;
	struct nlattr *nest;
	u64 dropped;
	void *hdr;

	if (!READ_ONCE(nn->ev_rate) ||
	    !genl_has_listeners(&nbg_genl_family, net, 0))
		return;
	if (!nbg_event_allow(nn)) {
		nbg_event_suppressed(nn, 1);
		return;
	}
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!skb)
		goto err_count;
	hdr = genlmsg_put(skb, 0, 0, &nbg_genl_family, 0, NBG_CMD_DENY_EVENT);
	if (!hdr)
		goto err_free;
	nest = nla_nest_start(skb, NBG_A_EVENT);
	if (!nest ||
	    nbg_put_pkt(skb, NBG_EVENT_A_PKT, p, ifindex) ||
	    nbg_put_verdict(skb, NBG_EVENT_A_VERDICT, v, v->action))
		goto err_free;
	nla_nest_end(skb, nest);
	dropped = atomic64_xchg(&nn->ev_dropped_pending, 0);
	if (nla_put_u64_64bit(skb, NBG_A_EVENTS_DROPPED, dropped, NBG_A_PAD)) {
		atomic64_add(dropped, &nn->ev_dropped_pending);
		goto err_free;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&nbg_genl_family, net, skb, 0, 0, GFP_ATOMIC);
	return;

err_free:
	nlmsg_free(skb);
err_count:
	nbg_event_suppressed(nn, 1);
}
