// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: netfilter hooks. Inbound traffic from a guarded device is
 * checked at LOCAL_IN and FORWARD; outbound traffic to a guarded device
 * with NBG_DEV_F_OUTBOUND at POST_ROUTING. Replies to flows this side
 * started pass on conntrack state; every other packet is classified, so
 * revoking a rule also stops connections that are already open.
 *
 * The hooks run after conntrack and the filter tables, do not allocate or
 * lock, and read the ruleset in the caller's RCU read section.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>

#include "nbguard.h"

static const struct nbg_dev_entry *
nbg_guarded(const struct nbg_net *nn, const struct net_device *dev)
{
	const struct nbg_devtab *tab;
	u32 i;

	if (!dev)
		return NULL;
	tab = rcu_dereference(nn->devtab);
	for (i = 0; tab && i < tab->n; i++)
		if (tab->d[i].dev == dev)
			return &tab->d[i];
	return NULL;
}

/* Replies to a flow this side started pass; untracked packets do not. */
static bool nbg_is_reply(const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	return ct && ctinfo != IP_CT_UNTRACKED &&
	       CTINFO2DIR(ctinfo) == IP_CT_DIR_REPLY;
}

static bool nbg_proto_has_ports(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

/* Source and destination port are the first four bytes of all four. */
static void nbg_parse_ports(const struct sk_buff *skb, int off,
			    struct nbg_pkt *p)
{
	__be16 buf[2];
	const __be16 *ports;

	if (!nbg_proto_has_ports(p->proto))
		return;
	ports = skb_header_pointer(skb, off, sizeof(buf), buf);
	if (!ports)
		return;
	p->sport = ntohs(ports[0]);
	p->dport = ntohs(ports[1]);
}

static bool nbg_parse_v4(const struct sk_buff *skb, struct nbg_pkt *p)
{
	const struct iphdr *iph = ip_hdr(skb);

	p->family = AF_INET;
	p->proto = iph->protocol;
	p->saddr.v4 = iph->saddr;
	p->daddr.v4 = iph->daddr;
	/* Non-first fragments carry no ports. */
	if (!(iph->frag_off & htons(IP_OFFSET)))
		nbg_parse_ports(skb, skb_network_offset(skb) + ip_hdrlen(skb),
				p);
	return true;
}

static bool nbg_parse_v6(const struct sk_buff *skb, struct nbg_pkt *p)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	u8 nexthdr = ip6h->nexthdr;
	__be16 frag_off;
	int off;

	p->family = AF_INET6;
	p->saddr.v6 = ip6h->saddr;
	p->daddr.v6 = ip6h->daddr;
	off = ipv6_skip_exthdr(skb, skb_network_offset(skb) + sizeof(*ip6h),
			       &nexthdr, &frag_off);
	if (off < 0) {
		/* Malformed extension header chain: no protocol, no ports. */
		p->proto = NEXTHDR_NONE;
		return true;
	}
	p->proto = nexthdr;
	if (!(frag_off & htons(~0x7)))
		nbg_parse_ports(skb, off, p);
	return true;
}

static unsigned int nbg_check(struct nbg_net *nn, struct sk_buff *skb,
			      const struct nf_hook_state *state, u8 dir,
			      const struct net_device *dev)
{
	const struct nbg_ruleset *rs;
	struct nbg_verdict v;
	struct nbg_pkt p = { .direction = dir };

	if (state->pf == NFPROTO_IPV4)
		nbg_parse_v4(skb, &p);
	else
		nbg_parse_v6(skb, &p);

	rs = rcu_dereference(nn->ruleset);
	if (unlikely(!rs))
		return NF_ACCEPT;
	nbg_classify_full(nn, rs, &p, &v);
	nbg_ruleset_count(rs, v.rule_index, skb->len);
	if (v.action == NBG_ACTION_ALLOW)
		return NF_ACCEPT;
	nbg_event_deny(nn, &p, &v, dev->ifindex);
	return NF_DROP;
}

static unsigned int nbg_hook_in(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct nbg_net *nn = nbg_net(state->net);

	if (!nbg_guarded(nn, state->in) || nbg_is_reply(skb))
		return NF_ACCEPT;
	return nbg_check(nn, skb, state, NBG_DIR_IN, state->in);
}

static unsigned int nbg_hook_out(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct nbg_net *nn = nbg_net(state->net);
	const struct nbg_dev_entry *e = nbg_guarded(nn, state->out);

	if (!e || !(e->flags & NBG_DEV_F_OUTBOUND) || nbg_is_reply(skb))
		return NF_ACCEPT;
	return nbg_check(nn, skb, state, NBG_DIR_OUT, state->out);
}

static const struct nf_hook_ops nbg_nf_ops[] = {
	{
		.hook = nbg_hook_in,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP_PRI_FILTER + 1,
	},
	{
		.hook = nbg_hook_in,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_FORWARD,
		.priority = NF_IP_PRI_FILTER + 1,
	},
	{
		.hook = nbg_hook_out,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP_PRI_FILTER + 1,
	},
	{
		.hook = nbg_hook_in,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP6_PRI_FILTER + 1,
	},
	{
		.hook = nbg_hook_in,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_FORWARD,
		.priority = NF_IP6_PRI_FILTER + 1,
	},
	{
		.hook = nbg_hook_out,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP6_PRI_FILTER + 1,
	},
};

int nbg_hooks_register(struct nbg_net *nn)
{
	int ret;

	lockdep_assert_held(&nn->lock);
	ret = nf_ct_netns_get(nn->net, NFPROTO_INET);
	if (ret)
		return ret;
	ret = nf_register_net_hooks(nn->net, nbg_nf_ops,
				    ARRAY_SIZE(nbg_nf_ops));
	if (ret) {
		nf_ct_netns_put(nn->net, NFPROTO_INET);
		return ret;
	}
	nn->hooks_on = true;
	return 0;
}

void nbg_hooks_unregister(struct nbg_net *nn)
{
	lockdep_assert_held(&nn->lock);
	nf_unregister_net_hooks(nn->net, nbg_nf_ops, ARRAY_SIZE(nbg_nf_ops));
	nf_ct_netns_put(nn->net, NFPROTO_INET);
	nn->hooks_on = false;
}
