// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: the "nbguard" generic netlink family. Strict policies for
 * every attribute and nest, an extack message on every rejection,
 * CAP_NET_ADMIN (in the namespace's user namespace) for every write, and
 * dumps with cursors that flag a ruleset swap with NLM_F_DUMP_INTR.
 */
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>
#include <net/sock.h>

#include "nbguard.h"

/* Policies ------------------------------------------------------------- */

static const struct nla_policy nbg_prefix_policy[NBG_PREFIX_A_MAX + 1] = {
	[NBG_PREFIX_A_FAMILY]	= { .type = NLA_U8 },
	[NBG_PREFIX_A_ADDR]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[NBG_PREFIX_A_LEN]	= NLA_POLICY_MAX(NLA_U8, 128),
};

static const struct nla_policy nbg_ident_policy[NBG_IDENT_A_MAX + 1] = {
	[NBG_IDENT_A_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[NBG_IDENT_A_NAME]	= { .type = NLA_NUL_STRING,
				    .len = NBG_NAME_MAX - 1 },
	[NBG_IDENT_A_PREFIX]	= NLA_POLICY_NESTED(nbg_prefix_policy),
	[NBG_IDENT_A_GROUP]	= { .type = NLA_U32 },
};

static const struct nla_policy nbg_sel_policy[NBG_SEL_A_MAX + 1] = {
	[NBG_SEL_A_ANY]		= { .type = NLA_FLAG },
	[NBG_SEL_A_IDENT]	= NLA_POLICY_MIN(NLA_U32, 1),
	[NBG_SEL_A_GROUP]	= { .type = NLA_U32 },
	[NBG_SEL_A_PREFIX]	= NLA_POLICY_NESTED(nbg_prefix_policy),
};

static const struct nla_policy nbg_ports_policy[NBG_PORTS_A_MAX + 1] = {
	[NBG_PORTS_A_LO]	= { .type = NLA_U16 },
	[NBG_PORTS_A_HI]	= { .type = NLA_U16 },
};

static const struct nla_policy nbg_rule_policy[NBG_RULE_A_MAX + 1] = {
	[NBG_RULE_A_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[NBG_RULE_A_ACTION]	= NLA_POLICY_RANGE(NLA_U8, NBG_ACTION_ALLOW,
						   NBG_ACTION_DENY),
	[NBG_RULE_A_DIRECTION]	= NLA_POLICY_MAX(NLA_U8, NBG_DIR_OUT),
	[NBG_RULE_A_PROTO]	= { .type = NLA_U8 },
	[NBG_RULE_A_SRC]	= NLA_POLICY_NESTED(nbg_sel_policy),
	[NBG_RULE_A_DST]	= NLA_POLICY_NESTED(nbg_sel_policy),
	[NBG_RULE_A_PORTS]	= NLA_POLICY_NESTED(nbg_ports_policy),
	[NBG_RULE_A_CONT]	= { .type = NLA_FLAG },
};

/* TRACE packets: IFINDEX is only ever sent by the module, in events. */
static const struct nla_policy nbg_pkt_policy[NBG_PKT_A_MAX + 1] = {
	[NBG_PKT_A_FAMILY]	= { .type = NLA_U8 },
	[NBG_PKT_A_SADDR]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[NBG_PKT_A_DADDR]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[NBG_PKT_A_PROTO]	= { .type = NLA_U8 },
	[NBG_PKT_A_SPORT]	= { .type = NLA_U16 },
	[NBG_PKT_A_DPORT]	= { .type = NLA_U16 },
	[NBG_PKT_A_DIRECTION]	= NLA_POLICY_MAX(NLA_U8, NBG_DIR_OUT),
};

static struct netlink_range_validation nbg_event_range __ro_after_init = {
	.min = 0, .max = 1000000,
};

static const struct nla_policy nbg_config_policy[NBG_A_MAX + 1] = {
	[NBG_A_DEFAULT_IN]	= NLA_POLICY_RANGE(NLA_U8, NBG_ACTION_ALLOW,
						   NBG_ACTION_DENY),
	[NBG_A_DEFAULT_OUT]	= NLA_POLICY_RANGE(NLA_U8, NBG_ACTION_ALLOW,
						   NBG_ACTION_DENY),
	[NBG_A_EVENT_RATE]	= NLA_POLICY_FULL_RANGE(NLA_U32, &nbg_event_range),
	[NBG_A_EVENT_BURST]	= NLA_POLICY_FULL_RANGE(NLA_U32, &nbg_event_range),
};

static const struct nla_policy nbg_dev_policy[NBG_A_MAX + 1] = {
	[NBG_A_IFINDEX]		= NLA_POLICY_MIN(NLA_U32, 1),
	[NBG_A_IFNAME]		= { .type = NLA_NUL_STRING,
				    .len = IFNAMSIZ - 1 },
	[NBG_A_DEV_FLAGS]	= NLA_POLICY_MASK(NLA_U32, NBG_DEV_F_ANY_KIND |
						  NBG_DEV_F_OUTBOUND),
};

static const struct nla_policy nbg_begin_policy[NBG_A_MAX + 1] = {
	[NBG_A_GENERATION]	= { .type = NLA_U64 },
};

static const struct nla_policy nbg_txn_policy[NBG_A_MAX + 1] = {
	[NBG_A_TXN_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy nbg_add_policy[NBG_A_MAX + 1] = {
	[NBG_A_TXN_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[NBG_A_IDENTITY]	= NLA_POLICY_NESTED(nbg_ident_policy),
	[NBG_A_RULE]		= NLA_POLICY_NESTED(nbg_rule_policy),
};

static const struct nla_policy nbg_trace_policy[NBG_A_MAX + 1] = {
	[NBG_A_TRACE]		= NLA_POLICY_NESTED(nbg_pkt_policy),
};

/* Attribute helpers ---------------------------------------------------- */

static int nbg_addr_len(u8 family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int nbg_put_prefix(struct sk_buff *skb, int attr,
			  const struct nbg_prefix *pfx)
{
	struct nlattr *nest = nla_nest_start(skb, attr);

	if (!nest ||
	    nla_put_u8(skb, NBG_PREFIX_A_FAMILY, pfx->family) ||
	    nla_put(skb, NBG_PREFIX_A_ADDR, nbg_addr_len(pfx->family),
		    pfx->addr.raw) ||
	    nla_put_u8(skb, NBG_PREFIX_A_LEN, pfx->len))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

int nbg_put_pkt(struct sk_buff *skb, int attr, const struct nbg_pkt *p,
		int ifindex)
{
	struct nlattr *nest = nla_nest_start(skb, attr);
	int alen = nbg_addr_len(p->family);

	if (!nest ||
	    nla_put_u8(skb, NBG_PKT_A_FAMILY, p->family) ||
	    nla_put(skb, NBG_PKT_A_SADDR, alen, p->saddr.raw) ||
	    nla_put(skb, NBG_PKT_A_DADDR, alen, p->daddr.raw) ||
	    nla_put_u8(skb, NBG_PKT_A_PROTO, p->proto) ||
	    nla_put_u16(skb, NBG_PKT_A_SPORT, p->sport) ||
	    nla_put_u16(skb, NBG_PKT_A_DPORT, p->dport) ||
	    nla_put_u8(skb, NBG_PKT_A_DIRECTION, p->direction) ||
	    (ifindex && nla_put_u32(skb, NBG_PKT_A_IFINDEX, ifindex)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

int nbg_put_verdict(struct sk_buff *skb, int attr,
		    const struct nbg_verdict *v, u8 action)
{
	struct nlattr *nest = nla_nest_start(skb, attr);

	if (!nest ||
	    nla_put_u8(skb, NBG_VERDICT_A_ACTION, action) ||
	    nla_put_u32(skb, NBG_VERDICT_A_RULE_ID, v->rule_id) ||
	    nla_put_u32(skb, NBG_VERDICT_A_IDENT_ID, v->ident_id))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Parse a prefix nest (already validated against nbg_prefix_policy). */
static int nbg_parse_prefix(const struct nlattr *attr, struct nbg_prefix *pfx,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NBG_PREFIX_A_MAX + 1];
	int ret, alen;

	ret = nla_parse_nested(tb, NBG_PREFIX_A_MAX, attr, nbg_prefix_policy,
			       extack);
	if (ret)
		return ret;
	if (!tb[NBG_PREFIX_A_FAMILY] || !tb[NBG_PREFIX_A_ADDR] ||
	    !tb[NBG_PREFIX_A_LEN]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "prefix needs FAMILY, ADDR and LEN");
		return -EINVAL;
	}
	pfx->family = nla_get_u8(tb[NBG_PREFIX_A_FAMILY]);
	alen = nbg_addr_len(pfx->family);
	if (!alen) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NBG_PREFIX_A_FAMILY],
				    "prefix family must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	if (nla_len(tb[NBG_PREFIX_A_ADDR]) != alen) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NBG_PREFIX_A_ADDR],
				    "prefix address length does not match family");
		return -EINVAL;
	}
	pfx->len = nla_get_u8(tb[NBG_PREFIX_A_LEN]);
	if (pfx->len > alen * 8) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NBG_PREFIX_A_LEN],
				    "prefix length too long for family");
		return -EINVAL;
	}
	memset(&pfx->addr, 0, sizeof(pfx->addr));
	nla_memcpy(pfx->addr.raw, tb[NBG_PREFIX_A_ADDR], alen);
	return 0;
}

static u32 nbg_count_nested(const struct nlattr *nest, int type)
{
	const struct nlattr *a;
	u32 n = 0;
	int rem;

	nla_for_each_nested(a, nest, rem)
		n += nla_type(a) == type;
	return n;
}

/* Allocate and fill an array of the u32 attributes of @type in @nest. */
static int nbg_parse_u32s(struct nbg_txn *txn, const struct nlattr *nest,
			  int type, u32 max, u32 **out, u32 *n,
			  struct netlink_ext_ack *extack)
{
	const struct nlattr *a;
	u32 count = nbg_count_nested(nest, type), i = 0;
	u32 *arr;
	int rem;

	if (count > max) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "too many ids in one nest");
		return -E2BIG;
	}
	arr = nbg_txn_alloc(txn, count, sizeof(*arr), extack);
	if (IS_ERR(arr))
		return PTR_ERR(arr);
	*out = arr;
	*n = count;
	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) == type)
			arr[i++] = nla_get_u32(a);
	return 0;
}

static int nbg_parse_prefixes(struct nbg_txn *txn, const struct nlattr *nest,
			      int type, struct nbg_prefix **out, u32 *n,
			      struct netlink_ext_ack *extack)
{
	u32 count = nbg_count_nested(nest, type), i = 0;
	const struct nlattr *a;
	struct nbg_prefix *arr;
	int rem, ret;

	if (count > NBG_MAX_PREFIXES) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "too many prefixes in one nest");
		return -E2BIG;
	}
	arr = nbg_txn_alloc(txn, count, sizeof(*arr), extack);
	if (IS_ERR(arr))
		return PTR_ERR(arr);
	*out = arr;
	*n = count;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != type)
			continue;
		ret = nbg_parse_prefix(a, &arr[i++], extack);
		if (ret)
			return ret;
	}
	return 0;
}

/* TXN_ADD parsing ------------------------------------------------------ */

static int nbg_parse_ident(struct nbg_txn *txn, const struct nlattr *attr,
			   struct nbg_ident_desc *id,
			   struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NBG_IDENT_A_MAX + 1];
	int ret;

	ret = nla_parse_nested(tb, NBG_IDENT_A_MAX, attr, nbg_ident_policy,
			       extack);
	if (ret)
		return ret;
	if (!tb[NBG_IDENT_A_ID]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "identity needs an ID");
		return -EINVAL;
	}
	id->id = nla_get_u32(tb[NBG_IDENT_A_ID]);
	if (tb[NBG_IDENT_A_NAME])
		nla_strscpy(id->name, tb[NBG_IDENT_A_NAME], sizeof(id->name));
	ret = nbg_parse_prefixes(txn, attr, NBG_IDENT_A_PREFIX, &id->prefixes,
				 &id->n_prefixes, extack);
	if (ret)
		return ret;
	return nbg_parse_u32s(txn, attr, NBG_IDENT_A_GROUP, NBG_MAX_GROUPS,
			      &id->groups, &id->n_groups, extack);
}

static int nbg_parse_sel(struct nbg_txn *txn, const struct nlattr *attr,
			 struct nbg_selector *sel,
			 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NBG_SEL_A_MAX + 1];
	int ret;

	if (!attr) {
		sel->any = true;
		return 0;
	}
	ret = nla_parse_nested(tb, NBG_SEL_A_MAX, attr, nbg_sel_policy,
			       extack);
	if (ret)
		return ret;
	if (tb[NBG_SEL_A_ANY]) {
		if (tb[NBG_SEL_A_IDENT] || tb[NBG_SEL_A_GROUP] ||
		    tb[NBG_SEL_A_PREFIX]) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "selector ANY excludes other items");
			return -EINVAL;
		}
		sel->any = true;
		return 0;
	}
	if (!tb[NBG_SEL_A_IDENT] && !tb[NBG_SEL_A_GROUP] &&
	    !tb[NBG_SEL_A_PREFIX]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "empty selector (use ANY or omit it)");
		return -EINVAL;
	}
	ret = nbg_parse_u32s(txn, attr, NBG_SEL_A_IDENT, NBG_MAX_SEL_ITEMS,
			     &sel->idents, &sel->n_idents, extack);
	if (ret)
		return ret;
	ret = nbg_parse_u32s(txn, attr, NBG_SEL_A_GROUP, NBG_MAX_SEL_ITEMS,
			     &sel->groups, &sel->n_groups, extack);
	if (ret)
		return ret;
	return nbg_parse_prefixes(txn, attr, NBG_SEL_A_PREFIX, &sel->prefixes,
				  &sel->n_prefixes, extack);
}

static int nbg_parse_ports(struct nbg_txn *txn, const struct nlattr *attr,
			   struct nbg_rule_desc *r,
			   struct netlink_ext_ack *extack)
{
	u32 count = nbg_count_nested(attr, NBG_RULE_A_PORTS), i = 0;
	struct nlattr *tb[NBG_PORTS_A_MAX + 1];
	const struct nlattr *a;
	int rem, ret;

	if (count > NBG_MAX_PORT_RANGES) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "too many port ranges in one rule");
		return -E2BIG;
	}
	r->ports = nbg_txn_alloc(txn, count, sizeof(*r->ports), extack);
	if (IS_ERR(r->ports)) {
		ret = PTR_ERR(r->ports);
		r->ports = NULL;
		return ret;
	}
	r->n_ports = count;
	nla_for_each_nested(a, attr, rem) {
		struct nbg_port_range *pr = &r->ports[i];

		if (nla_type(a) != NBG_RULE_A_PORTS)
			continue;
		i++;
		ret = nla_parse_nested(tb, NBG_PORTS_A_MAX, a,
				       nbg_ports_policy, extack);
		if (ret)
			return ret;
		if (!tb[NBG_PORTS_A_LO]) {
			NL_SET_ERR_MSG_ATTR(extack, a, "port range needs LO");
			return -EINVAL;
		}
		pr->lo = nla_get_u16(tb[NBG_PORTS_A_LO]);
		pr->hi = tb[NBG_PORTS_A_HI] ? nla_get_u16(tb[NBG_PORTS_A_HI]) :
					      pr->lo;
		if (pr->hi < pr->lo) {
			NL_SET_ERR_MSG_ATTR(extack, a, "port range HI below LO");
			return -EINVAL;
		}
	}
	return 0;
}

static bool nbg_sel_explicit_any(const struct nlattr *attr)
{
	return attr && nla_find_nested(attr, NBG_SEL_A_ANY);
}

static int nbg_parse_rule(struct nbg_txn *txn, const struct nlattr *attr,
			  struct nlattr **tb, struct nbg_rule_desc *r,
			  struct netlink_ext_ack *extack)
{
	int ret;

	if (!tb[NBG_RULE_A_ID] || !tb[NBG_RULE_A_ACTION]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "rule needs ID and ACTION");
		return -EINVAL;
	}
	r->id = nla_get_u32(tb[NBG_RULE_A_ID]);
	r->action = nla_get_u8(tb[NBG_RULE_A_ACTION]);
	r->direction = tb[NBG_RULE_A_DIRECTION] ?
		       nla_get_u8(tb[NBG_RULE_A_DIRECTION]) : NBG_DIR_IN;
	r->proto_any = !tb[NBG_RULE_A_PROTO];
	if (!r->proto_any)
		r->proto = nla_get_u8(tb[NBG_RULE_A_PROTO]);
	txn->last_any = nbg_sel_explicit_any(tb[NBG_RULE_A_SRC]) |
			nbg_sel_explicit_any(tb[NBG_RULE_A_DST]) << 1;
	ret = nbg_parse_sel(txn, tb[NBG_RULE_A_SRC], &r->src, extack);
	if (ret)
		return ret;
	ret = nbg_parse_sel(txn, tb[NBG_RULE_A_DST], &r->dst, extack);
	if (ret)
		return ret;
	return nbg_parse_ports(txn, attr, r, extack);
}

/*
 * Append @n_add items at *@add to the array *@arr of *@n items, both
 * charged to @txn; *@add is consumed either way.
 */
static int nbg_append(struct nbg_txn *txn, void **arr, u32 *n, void **add,
		      u32 n_add, size_t size, u32 max,
		      struct netlink_ext_ack *extack)
{
	void *p;

	if (!n_add)
		return 0;
	if (n_add > max - min(*n, max)) {
		NL_SET_ERR_MSG(extack, "rule continuation exceeds a per-rule limit");
		p = ERR_PTR(-E2BIG);
		goto out;
	}
	p = nbg_txn_alloc(txn, *n + n_add, size, extack);
	if (IS_ERR(p))
		goto out;
	if (*n)
		memcpy(p, *arr, (size_t)*n * size);
	memcpy(p + (size_t)*n * size, *add, (size_t)n_add * size);
	kvfree(*arr);
	txn->bytes -= min_t(size_t, txn->bytes, (size_t)*n * size);
	*arr = p;
	*n += n_add;
out:
	kvfree(*add);
	txn->bytes -= min_t(size_t, txn->bytes, (size_t)n_add * size);
	*add = NULL;
	return PTR_ERR_OR_ZERO(p);
}

static int nbg_append_sel(struct nbg_txn *txn, struct nbg_selector *to,
			  struct nbg_selector *from,
			  struct netlink_ext_ack *extack)
{
	int ret;

	ret = nbg_append(txn, (void **)&to->idents, &to->n_idents,
			 (void **)&from->idents, from->n_idents,
			 sizeof(u32), NBG_MAX_SEL_ITEMS, extack);
	ret = ret ?: nbg_append(txn, (void **)&to->groups, &to->n_groups,
				(void **)&from->groups, from->n_groups,
				sizeof(u32), NBG_MAX_SEL_ITEMS, extack);
	ret = ret ?: nbg_append(txn, (void **)&to->prefixes, &to->n_prefixes,
				(void **)&from->prefixes, from->n_prefixes,
				sizeof(struct nbg_prefix), NBG_MAX_PREFIXES,
				extack);
	to->any = false;
	return ret;
}

/* A continuation (NBG_RULE_A_CONT): more items for the last rule added. */
static int nbg_parse_rule_cont(struct nbg_txn *txn, const struct nlattr *attr,
			       struct nlattr **tb,
			       struct netlink_ext_ack *extack)
{
	struct nbg_rule_desc *r, part = {};
	int ret = 0, i;

	if (tb[NBG_RULE_A_ACTION] || tb[NBG_RULE_A_DIRECTION] ||
	    tb[NBG_RULE_A_PROTO]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "a rule continuation carries only ID, SRC, DST and PORTS");
		return -EINVAL;
	}
	if (!tb[NBG_RULE_A_ID] || !txn->desc.n_rules ||
	    txn->desc.rules[txn->desc.n_rules - 1].id !=
	    nla_get_u32(tb[NBG_RULE_A_ID])) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "rule continuation does not follow its rule");
		return -EINVAL;
	}
	r = &txn->desc.rules[txn->desc.n_rules - 1];
	for (i = 0; i < 2; i++) {
		const struct nlattr *sa = tb[i ? NBG_RULE_A_DST : NBG_RULE_A_SRC];
		struct nbg_selector *to = i ? &r->dst : &r->src;
		struct nbg_selector *from = i ? &part.dst : &part.src;

		if (!sa)
			continue;
		if ((txn->last_any & (1 << i)) || nla_find_nested(sa, NBG_SEL_A_ANY)) {
			NL_SET_ERR_MSG_ATTR(extack, sa, "selector ANY excludes other items");
			ret = -EINVAL;
			break;
		}
		ret = nbg_parse_sel(txn, sa, from, extack);
		if (ret)
			break;
		ret = nbg_append_sel(txn, to, from, extack);
		if (ret)
			break;
	}
	ret = ret ?: nbg_parse_ports(txn, attr, &part, extack);
	ret = ret ?: nbg_append(txn, (void **)&r->ports, &r->n_ports,
				(void **)&part.ports, part.n_ports,
				sizeof(*part.ports), NBG_MAX_PORT_RANGES,
				extack);
	/* What a failed parse left in @part is in no desc; the failure
	 * aborts the transaction, so its byte count no longer matters.
	 */
	kvfree(part.src.idents);
	kvfree(part.src.groups);
	kvfree(part.src.prefixes);
	kvfree(part.dst.idents);
	kvfree(part.dst.groups);
	kvfree(part.dst.prefixes);
	kvfree(part.ports);
	return ret;
}

static int nbg_add_rule(struct nbg_txn *txn, const struct nlattr *attr,
			struct netlink_ext_ack *extack)
{
	struct nlattr *tb[NBG_RULE_A_MAX + 1];
	int ret;

	ret = nla_parse_nested(tb, NBG_RULE_A_MAX, attr, nbg_rule_policy,
			       extack);
	if (ret)
		return ret;
	if (tb[NBG_RULE_A_CONT])
		return nbg_parse_rule_cont(txn, attr, tb, extack);
	/* Count the entry before filling it, so that a failure half-way
	 * frees what was allocated for it.
	 */
	return nbg_parse_rule(txn, attr, tb,
			      &txn->desc.rules[txn->desc.n_rules++], extack);
}

/* Append every IDENTITY and RULE of the message to the transaction. */
static int nbg_txn_add_attrs(struct nbg_txn *txn, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	const struct nlattr *a, *head = genlmsg_data(info->genlhdr);
	int len = genlmsg_len(info->genlhdr), rem, ret;
	u32 n_idents = 0, n_rules = 0;

	nla_for_each_attr(a, head, len, rem) {
		n_idents += nla_type(a) == NBG_A_IDENTITY;
		n_rules += nla_type(a) == NBG_A_RULE;
	}
	ret = nbg_txn_grow_idents(txn, n_idents, extack);
	if (ret)
		return ret;
	ret = nbg_txn_grow_rules(txn, n_rules, extack);
	if (ret)
		return ret;
	nla_for_each_attr(a, head, len, rem) {
		/* Count each entry before filling it, so that a failure
		 * half-way frees what was allocated for it.
		 */
		if (nla_type(a) == NBG_A_IDENTITY)
			ret = nbg_parse_ident(txn, a,
				&txn->desc.idents[txn->desc.n_idents++],
				extack);
		else if (nla_type(a) == NBG_A_RULE)
			ret = nbg_add_rule(txn, a, extack);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/* Commands ------------------------------------------------------------- */

static struct sk_buff *nbg_reply_new(struct genl_info *info, u8 cmd,
				     void **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put_reply(skb, info, &nbg_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static int nbg_reply_gen(struct genl_info *info, u8 cmd, u64 gen,
			 u32 txn_id)
{
	struct sk_buff *skb;
	void *hdr;

	skb = nbg_reply_new(info, cmd, &hdr);
	if (!skb)
		return -ENOMEM;
	if (nla_put_u64_64bit(skb, NBG_A_GENERATION, gen, NBG_A_PAD) ||
	    (txn_id && nla_put_u32(skb, NBG_A_TXN_ID, txn_id))) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

static u32 nbg_lim_idents(void)
{
	return min_t(u32, nbg_max_identities, NBG_MAX_IDENTITIES);
}

static u32 nbg_lim_rules(void)
{
	return min_t(u32, nbg_max_rules, NBG_MAX_RULES);
}

static int nbg_cmd_get_status(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	const struct nbg_ruleset *rs;
	struct sk_buff *skb;
	void *hdr;
	int ret;

	skb = nbg_reply_new(info, NBG_CMD_GET_STATUS, &hdr);
	if (!skb)
		return -ENOMEM;
	rcu_read_lock();
	rs = rcu_dereference(nn->ruleset);
	ret = nla_put_u64_64bit(skb, NBG_A_GENERATION, rs->generation,
				NBG_A_PAD) ||
	      nla_put_u32(skb, NBG_A_N_IDENTITIES, rs->n_idents) ||
	      nla_put_u32(skb, NBG_A_N_RULES, rs->n_rules) ||
	      nla_put_u64_64bit(skb, NBG_A_MEM_BYTES, nbg_ruleset_mem(rs),
				NBG_A_PAD);
	rcu_read_unlock();
	if (ret ||
	    nla_put_u32(skb, NBG_A_N_DEVICES, nbg_dev_count(nn)) ||
	    nla_put_u8(skb, NBG_A_DEFAULT_IN, READ_ONCE(nn->default_in)) ||
	    nla_put_u8(skb, NBG_A_DEFAULT_OUT, READ_ONCE(nn->default_out)) ||
	    nla_put_u32(skb, NBG_A_EVENT_RATE, READ_ONCE(nn->ev_rate)) ||
	    nla_put_u32(skb, NBG_A_EVENT_BURST, READ_ONCE(nn->ev_burst)) ||
	    nla_put_u32(skb, NBG_A_MAX_IDENTITIES, nbg_lim_idents()) ||
	    nla_put_u32(skb, NBG_A_MAX_RULES, nbg_lim_rules()) ||
	    nla_put_u64_64bit(skb, NBG_A_EVENTS_DROPPED,
			      atomic64_read(&nn->ev_dropped_total),
			      NBG_A_PAD)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

static int nbg_cmd_set_config(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	struct nlattr **tb = info->attrs;
	u32 rate, burst;

	if (!tb[NBG_A_DEFAULT_IN] && !tb[NBG_A_DEFAULT_OUT] &&
	    !tb[NBG_A_EVENT_RATE] && !tb[NBG_A_EVENT_BURST]) {
		NL_SET_ERR_MSG(info->extack, "nothing to set");
		return -EINVAL;
	}
	mutex_lock(&nn->lock);
	if (tb[NBG_A_DEFAULT_IN])
		WRITE_ONCE(nn->default_in, nla_get_u8(tb[NBG_A_DEFAULT_IN]));
	if (tb[NBG_A_DEFAULT_OUT])
		WRITE_ONCE(nn->default_out, nla_get_u8(tb[NBG_A_DEFAULT_OUT]));
	if (tb[NBG_A_EVENT_RATE] || tb[NBG_A_EVENT_BURST]) {
		rate = tb[NBG_A_EVENT_RATE] ?
		       nla_get_u32(tb[NBG_A_EVENT_RATE]) : nn->ev_rate;
		burst = tb[NBG_A_EVENT_BURST] ?
			nla_get_u32(tb[NBG_A_EVENT_BURST]) : nn->ev_burst;
		nbg_events_set(nn, rate, burst);
	}
	mutex_unlock(&nn->lock);
	return 0;
}

/* Find the device named by IFINDEX and/or IFNAME; RTNL held. */
static struct net_device *nbg_dev_lookup(struct net *net,
					 struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct net_device *dev = NULL, *byname;

	if (!tb[NBG_A_IFINDEX] && !tb[NBG_A_IFNAME]) {
		NL_SET_ERR_MSG(info->extack, "IFINDEX or IFNAME required");
		return ERR_PTR(-EINVAL);
	}
	if (tb[NBG_A_IFINDEX]) {
		dev = __dev_get_by_index(net, nla_get_u32(tb[NBG_A_IFINDEX]));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[NBG_A_IFINDEX],
					    "no such interface");
			return ERR_PTR(-ENODEV);
		}
	}
	if (tb[NBG_A_IFNAME]) {
		byname = __dev_get_by_name(net, nla_data(tb[NBG_A_IFNAME]));
		if (!byname) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[NBG_A_IFNAME],
					    "no such interface");
			return ERR_PTR(-ENODEV);
		}
		if (dev && dev != byname) {
			NL_SET_ERR_MSG(info->extack, "IFINDEX and IFNAME name different interfaces");
			return ERR_PTR(-EINVAL);
		}
		dev = byname;
	}
	return dev;
}

static int nbg_cmd_dev_change(struct genl_info *info, bool add)
{
	struct net *net = genl_info_net(info);
	struct nbg_net *nn = nbg_net(net);
	struct net_device *dev;
	u32 flags = 0;
	int ret;

	if (info->attrs[NBG_A_DEV_FLAGS])
		flags = nla_get_u32(info->attrs[NBG_A_DEV_FLAGS]);
	/* RTNL first: the device notifier runs under it and takes our lock. */
	rtnl_lock();
	dev = nbg_dev_lookup(net, info);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto out;
	}
	mutex_lock(&nn->lock);
	if (add)
		ret = nbg_dev_add(nn, dev, flags,
				  info->nlhdr->nlmsg_flags & NLM_F_EXCL,
				  info->extack);
	else
		ret = nbg_dev_del(nn, dev, info->extack);
	mutex_unlock(&nn->lock);
out:
	rtnl_unlock();
	return ret;
}

static int nbg_cmd_dev_add(struct sk_buff *in, struct genl_info *info)
{
	return nbg_cmd_dev_change(info, true);
}

static int nbg_cmd_dev_del(struct sk_buff *in, struct genl_info *info)
{
	if (info->attrs[NBG_A_DEV_FLAGS]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[NBG_A_DEV_FLAGS],
				    "DEV_FLAGS makes no sense for DEV_DEL");
		return -EINVAL;
	}
	return nbg_cmd_dev_change(info, false);
}

static int nbg_dump_dev(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nbg_net *nn = nbg_net(sock_net(skb->sk));
	const struct nbg_devtab *tab;
	const struct net_device *dev;
	u32 i = cb->args[0];
	void *hdr;

	rcu_read_lock();
	tab = rcu_dereference(nn->devtab);
	for (; tab && i < tab->n; i++) {
		dev = tab->d[i].dev;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &nbg_genl_family,
				  NLM_F_MULTI, NBG_CMD_DEV_GET);
		if (!hdr)
			break;
		if (nla_put_u32(skb, NBG_A_IFINDEX, dev->ifindex) ||
		    nla_put_string(skb, NBG_A_IFNAME, dev->name) ||
		    nla_put_u32(skb, NBG_A_DEV_FLAGS, tab->d[i].flags) ||
		    (dev->rtnl_link_ops && dev->rtnl_link_ops->kind &&
		     nla_put_string(skb, NBG_A_DEV_KIND,
				    dev->rtnl_link_ops->kind))) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	rcu_read_unlock();
	cb->args[0] = i;
	return skb->len;
}

static int nbg_cmd_txn_begin(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	struct nlattr *gen_attr = info->attrs[NBG_A_GENERATION];
	struct nbg_txn *txn;
	u64 base;
	u32 id;
	int ret;

	mutex_lock(&nn->lock);
	base = gen_attr ? nla_get_u64(gen_attr) :
	       rcu_dereference_protected(nn->ruleset,
					 lockdep_is_held(&nn->lock))->generation;
	txn = nbg_txn_begin(nn, info->snd_portid, base, info->extack);
	mutex_unlock(&nn->lock);
	if (IS_ERR(txn))
		return PTR_ERR(txn);
	id = txn->id;
	ret = nbg_reply_gen(info, NBG_CMD_TXN_BEGIN, base, id);
	if (ret) {
		/* The caller never learnt the id: do not leave it open. */
		mutex_lock(&nn->lock);
		txn = nbg_txn_find(nn, id, info->snd_portid, NULL, &ret);
		if (txn)
			nbg_txn_abort(nn, txn);
		mutex_unlock(&nn->lock);
		ret = -ENOMEM;
	}
	return ret;
}

/* The open transaction a request names; NULL with *ret set if none. */
static struct nbg_txn *nbg_txn_of_request(struct nbg_net *nn,
					  struct genl_info *info, int *ret)
{
	lockdep_assert_held(&nn->lock);
	if (!info->attrs[NBG_A_TXN_ID]) {
		NL_SET_ERR_MSG(info->extack, "TXN_ID required");
		*ret = -EINVAL;
		return NULL;
	}
	return nbg_txn_find(nn, nla_get_u32(info->attrs[NBG_A_TXN_ID]),
			    info->snd_portid, info->extack, ret);
}

static int nbg_cmd_txn_add(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	struct nbg_txn *txn;
	int ret = 0;

	mutex_lock(&nn->lock);
	txn = nbg_txn_of_request(nn, info, &ret);
	if (txn) {
		ret = nbg_txn_add_attrs(txn, info);
		/* A failed batch poisons the transaction: abort it all. */
		if (ret)
			nbg_txn_abort(nn, txn);
	}
	mutex_unlock(&nn->lock);
	return ret;
}

static int nbg_cmd_txn_commit(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	struct nbg_txn *txn;
	u64 gen = 0;
	int ret = 0;

	mutex_lock(&nn->lock);
	txn = nbg_txn_of_request(nn, info, &ret);
	if (txn)
		ret = nbg_txn_commit(nn, txn, info->extack);
	if (!ret)
		gen = rcu_dereference_protected(nn->ruleset,
				lockdep_is_held(&nn->lock))->generation;
	mutex_unlock(&nn->lock);
	if (ret)
		return ret;
	return nbg_reply_gen(info, NBG_CMD_TXN_COMMIT, gen, 0);
}

static int nbg_cmd_txn_abort(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	struct nbg_txn *txn;
	int ret = 0;

	mutex_lock(&nn->lock);
	txn = nbg_txn_of_request(nn, info, &ret);
	if (txn)
		nbg_txn_abort(nn, txn);
	mutex_unlock(&nn->lock);
	return ret;
}

static int nbg_cmd_flush(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	const char *err = NULL;
	u64 gen = 0;
	int ret;

	mutex_lock(&nn->lock);
	ret = nbg_ruleset_flush(nn, &err);
	if (!ret)
		gen = rcu_dereference_protected(nn->ruleset,
				lockdep_is_held(&nn->lock))->generation;
	mutex_unlock(&nn->lock);
	if (ret) {
		nbg_set_err(info->extack, err);
		return ret;
	}
	return nbg_reply_gen(info, NBG_CMD_FLUSH, gen, 0);
}

static int nbg_cmd_stats_reset(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));

	/* Swaps need the lock, so the ruleset cannot be freed under us. */
	mutex_lock(&nn->lock);
	nbg_ruleset_reset_counters(rcu_dereference_protected(nn->ruleset,
				   lockdep_is_held(&nn->lock)));
	mutex_unlock(&nn->lock);
	return 0;
}

static int nbg_parse_trace(struct genl_info *info, struct nbg_pkt *p)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *attr = info->attrs[NBG_A_TRACE];
	struct nlattr *tb[NBG_PKT_A_MAX + 1];
	int ret, alen;

	if (!attr) {
		NL_SET_ERR_MSG(extack, "TRACE required");
		return -EINVAL;
	}
	ret = nla_parse_nested(tb, NBG_PKT_A_MAX, attr, nbg_pkt_policy, extack);
	if (ret)
		return ret;
	if (!tb[NBG_PKT_A_FAMILY] || !tb[NBG_PKT_A_SADDR] ||
	    !tb[NBG_PKT_A_DADDR]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "TRACE needs FAMILY, SADDR and DADDR");
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->family = nla_get_u8(tb[NBG_PKT_A_FAMILY]);
	alen = nbg_addr_len(p->family);
	if (!alen) {
		NL_SET_ERR_MSG_ATTR(extack, tb[NBG_PKT_A_FAMILY],
				    "family must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	if (nla_len(tb[NBG_PKT_A_SADDR]) != alen ||
	    nla_len(tb[NBG_PKT_A_DADDR]) != alen) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "address length does not match family");
		return -EINVAL;
	}
	nla_memcpy(p->saddr.raw, tb[NBG_PKT_A_SADDR], alen);
	nla_memcpy(p->daddr.raw, tb[NBG_PKT_A_DADDR], alen);
	if (tb[NBG_PKT_A_PROTO])
		p->proto = nla_get_u8(tb[NBG_PKT_A_PROTO]);
	if (tb[NBG_PKT_A_DIRECTION])
		p->direction = nla_get_u8(tb[NBG_PKT_A_DIRECTION]);
	/* As on the wire: only these protocols have ports. */
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
	    p->proto == IPPROTO_SCTP || p->proto == IPPROTO_UDPLITE) {
		if (tb[NBG_PKT_A_SPORT])
			p->sport = nla_get_u16(tb[NBG_PKT_A_SPORT]);
		if (tb[NBG_PKT_A_DPORT])
			p->dport = nla_get_u16(tb[NBG_PKT_A_DPORT]);
	}
	return 0;
}

static int nbg_cmd_trace(struct sk_buff *in, struct genl_info *info)
{
	struct nbg_net *nn = nbg_net(genl_info_net(info));
	const struct nbg_ruleset *rs;
	struct nbg_verdict v;
	struct sk_buff *skb;
	struct nbg_pkt p;
	u64 gen;
	void *hdr;
	int ret;

	ret = nbg_parse_trace(info, &p);
	if (ret)
		return ret;
	rcu_read_lock();
	rs = rcu_dereference(nn->ruleset);
	nbg_classify_full(nn, rs, &p, &v);
	gen = rs->generation;
	rcu_read_unlock();

	skb = nbg_reply_new(info, NBG_CMD_TRACE, &hdr);
	if (!skb)
		return -ENOMEM;
	if (nbg_put_verdict(skb, NBG_A_VERDICT, &v, v.action) ||
	    nla_put_u64_64bit(skb, NBG_A_GENERATION, gen, NBG_A_PAD)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

/* Ruleset dumps -------------------------------------------------------- */

static int nbg_put_ident(struct sk_buff *skb, const struct nbg_ident_desc *id)
{
	struct nlattr *nest = nla_nest_start(skb, NBG_A_IDENTITY);
	u32 i;

	if (!nest || nla_put_u32(skb, NBG_IDENT_A_ID, id->id) ||
	    nla_put_string(skb, NBG_IDENT_A_NAME, id->name))
		return -EMSGSIZE;
	for (i = 0; i < id->n_prefixes; i++)
		if (nbg_put_prefix(skb, NBG_IDENT_A_PREFIX, &id->prefixes[i]))
			return -EMSGSIZE;
	for (i = 0; i < id->n_groups; i++)
		if (nla_put_u32(skb, NBG_IDENT_A_GROUP, id->groups[i]))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * A rule's items in dump order: src idents, groups, prefixes, dst idents,
 * groups, prefixes, then port ranges. A rule that does not fit in one
 * message is sent in parts (NBG_RULE_A_CONT), each resuming at an item.
 */
enum { NBG_ITEM_SECTIONS = 7 };

static u32 nbg_section_len(const struct nbg_rule_desc *r, int s)
{
	const struct nbg_selector *sel = s < 3 ? &r->src : &r->dst;

	if (s == 6)
		return r->n_ports;
	if (sel->any)
		return 0;
	return s % 3 == 0 ? sel->n_idents : s % 3 == 1 ? sel->n_groups :
	       sel->n_prefixes;
}

static int nbg_put_item(struct sk_buff *skb, const struct nbg_rule_desc *r,
			int s, u32 j)
{
	const struct nbg_selector *sel = s < 3 ? &r->src : &r->dst;
	struct nlattr *pn;

	switch (s == 6 ? 3 : s % 3) {
	case 0:
		return nla_put_u32(skb, NBG_SEL_A_IDENT, sel->idents[j]);
	case 1:
		return nla_put_u32(skb, NBG_SEL_A_GROUP, sel->groups[j]);
	case 2:
		return nbg_put_prefix(skb, NBG_SEL_A_PREFIX, &sel->prefixes[j]);
	}
	pn = nla_nest_start(skb, NBG_RULE_A_PORTS);
	if (!pn || nla_put_u16(skb, NBG_PORTS_A_LO, r->ports[j].lo) ||
	    nla_put_u16(skb, NBG_PORTS_A_HI, r->ports[j].hi))
		return -EMSGSIZE;
	nla_nest_end(skb, pn);
	return 0;
}

/* Keep every part well inside a netlink attribute's 16-bit length. */
#define NBG_PART_MAX	(U16_MAX - 1024)

/*
 * Put the part of rule @r that starts at item *@off. Returns 0 when the
 * rule is complete, 1 when only some items fitted (*@off then names the
 * next one; only if @partial), -EMSGSIZE when not even the part's first
 * item fitted (or, without @partial, not all of them).
 */
static int nbg_put_rule(struct sk_buff *skb, const struct nbg_rule_desc *r,
			u32 *off, bool partial)
{
	struct nlattr *nest = nla_nest_start(skb, NBG_A_RULE), *sn = NULL;
	u32 base = 0, j, start = *off, len;
	int s, cur = -1;
	void *mark;

	if (!nest || nla_put_u32(skb, NBG_RULE_A_ID, r->id))
		return -EMSGSIZE;
	if (start && nla_put_flag(skb, NBG_RULE_A_CONT))
		return -EMSGSIZE;
	if (!start &&
	    (nla_put_u8(skb, NBG_RULE_A_ACTION, r->action) ||
	     nla_put_u8(skb, NBG_RULE_A_DIRECTION, r->direction) ||
	     (!r->proto_any && nla_put_u8(skb, NBG_RULE_A_PROTO, r->proto))))
		return -EMSGSIZE;
	for (s = 0; s < NBG_ITEM_SECTIONS; s++, base += len) {
		len = nbg_section_len(r, s);
		for (j = *off - base; *off >= base && j < len; j++) {
			/* Selector items sit in a SRC or DST nest. */
			if (s < 6 && cur != s / 3) {
				if (sn)
					nla_nest_end(skb, sn);
				cur = s / 3;
				sn = nla_nest_start(skb, cur ? NBG_RULE_A_DST :
							       NBG_RULE_A_SRC);
				if (!sn)
					goto full;
			} else if (s == 6 && sn) {
				nla_nest_end(skb, sn);
				sn = NULL;
			}
			mark = skb_tail_pointer(skb);
			if ((void *)mark - (void *)nest > NBG_PART_MAX ||
			    nbg_put_item(skb, r, s, j)) {
				nlmsg_trim(skb, mark);
				goto full;
			}
			(*off)++;
		}
	}
	if (sn)
		nla_nest_end(skb, sn);
	nla_nest_end(skb, nest);
	return 0;
full:
	/* An empty selector nest would read as an error: drop it. */
	if (sn && (void *)skb_tail_pointer(skb) == nla_data(sn))
		nla_nest_cancel(skb, sn);
	else if (sn)
		nla_nest_end(skb, sn);
	if (!partial || *off == start) {
		*off = start;
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 1;
}

static int nbg_put_stats(struct sk_buff *skb, const struct nbg_ruleset *rs,
			 u32 index)
{
	struct nlattr *nest = nla_nest_start(skb, NBG_A_STATS);
	bool dflt = index >= rs->n_rules;
	u64 packets, bytes;

	nbg_ruleset_read_counter(rs, index, &packets, &bytes);
	if (!nest ||
	    nla_put_u32(skb, NBG_STATS_A_RULE_ID,
			dflt ? 0 : rs->desc.rules[index].id) ||
	    (dflt && nla_put_u8(skb, NBG_STATS_A_DIRECTION,
				index == rs->n_rules ? NBG_DIR_IN :
						       NBG_DIR_OUT)) ||
	    nla_put_u64_64bit(skb, NBG_STATS_A_PACKETS, packets,
			      NBG_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, NBG_STATS_A_BYTES, bytes, NBG_STATS_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

enum nbg_dump_kind { NBG_DUMP_IDENT, NBG_DUMP_RULE, NBG_DUMP_STATS };

/*
 * One entry per message; a rule too large for one message continues in
 * the next (NBG_RULE_A_CONT). cb->args[0] is the next index, cb->args[1]
 * the next item of a split rule; cb->seq follows
 * the generation so that a dump spanning a commit is flagged
 * NLM_F_DUMP_INTR and the reader can start over.
 */
static int nbg_dump_ruleset(struct sk_buff *skb, struct netlink_callback *cb,
			    enum nbg_dump_kind kind, u8 cmd)
{
	struct nbg_net *nn = nbg_net(sock_net(skb->sk));
	const struct nbg_ruleset *rs;
	unsigned long i = cb->args[0];
	u32 off = cb->args[1];
	unsigned long n;
	bool first;
	int ret = 0;
	void *hdr;

	rcu_read_lock();
	rs = rcu_dereference(nn->ruleset);
	cb->seq = (u32)rs->generation + 1;
	n = kind == NBG_DUMP_IDENT ? rs->n_idents :
	    kind == NBG_DUMP_RULE ? rs->n_rules : rs->n_rules + 2UL;
	for (; i < n; i++, off = 0) {
		first = !skb->len;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &nbg_genl_family,
				  NLM_F_MULTI, cmd);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (nla_put_u64_64bit(skb, NBG_A_GENERATION, rs->generation,
				      NBG_A_PAD))
			ret = -EMSGSIZE;
		else if (kind == NBG_DUMP_IDENT)
			ret = nbg_put_ident(skb, &rs->desc.idents[i]);
		else if (kind == NBG_DUMP_RULE)
			/* Only a rule that fills a message on its own is
			 * split; the others start in the next message.
			 */
			ret = nbg_put_rule(skb, &rs->desc.rules[i], &off,
					   first);
		else
			ret = nbg_put_stats(skb, rs, i);
		if (ret < 0) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		if (ret > 0)
			break;	/* the rest of rule i goes in the next skb */
	}
	rcu_read_unlock();
	/* An entry that does not fit even an empty message is an error. */
	if (ret < 0 && !skb->len)
		return ret;
	cb->args[0] = i;
	cb->args[1] = off;
	return skb->len;
}

static int nbg_dump_ident(struct sk_buff *skb, struct netlink_callback *cb)
{
	return nbg_dump_ruleset(skb, cb, NBG_DUMP_IDENT, NBG_CMD_IDENT_GET);
}

static int nbg_dump_rule(struct sk_buff *skb, struct netlink_callback *cb)
{
	return nbg_dump_ruleset(skb, cb, NBG_DUMP_RULE, NBG_CMD_RULE_GET);
}

static int nbg_dump_stats(struct sk_buff *skb, struct netlink_callback *cb)
{
	return nbg_dump_ruleset(skb, cb, NBG_DUMP_STATS, NBG_CMD_STATS_GET);
}

/* Family --------------------------------------------------------------- */

/* Commands without a policy take no attributes: the core rejects any. */
#define NBG_DO0(_cmd, _fn, _flags) {					\
	.cmd = (_cmd), .doit = (_fn), .flags = (_flags),		\
}
#define NBG_DO(_cmd, _fn, _pol, _flags) {				\
	.cmd = (_cmd), .doit = (_fn), .flags = (_flags),		\
	.policy = (_pol), .maxattr = NBG_A_MAX,				\
}
#define NBG_DUMP(_cmd, _fn) { .cmd = (_cmd), .dumpit = (_fn) }

static const struct genl_ops nbg_genl_ops[] = {
	NBG_DO0(NBG_CMD_GET_STATUS, nbg_cmd_get_status, 0),
	NBG_DO(NBG_CMD_SET_CONFIG, nbg_cmd_set_config, nbg_config_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DO(NBG_CMD_DEV_ADD, nbg_cmd_dev_add, nbg_dev_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DO(NBG_CMD_DEV_DEL, nbg_cmd_dev_del, nbg_dev_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DUMP(NBG_CMD_DEV_GET, nbg_dump_dev),
	NBG_DO(NBG_CMD_TXN_BEGIN, nbg_cmd_txn_begin, nbg_begin_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DO(NBG_CMD_TXN_ADD, nbg_cmd_txn_add, nbg_add_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DO(NBG_CMD_TXN_COMMIT, nbg_cmd_txn_commit, nbg_txn_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DO(NBG_CMD_TXN_ABORT, nbg_cmd_txn_abort, nbg_txn_policy,
	       GENL_UNS_ADMIN_PERM),
	NBG_DUMP(NBG_CMD_IDENT_GET, nbg_dump_ident),
	NBG_DUMP(NBG_CMD_RULE_GET, nbg_dump_rule),
	NBG_DUMP(NBG_CMD_STATS_GET, nbg_dump_stats),
	NBG_DO0(NBG_CMD_STATS_RESET, nbg_cmd_stats_reset, GENL_UNS_ADMIN_PERM),
	NBG_DO0(NBG_CMD_FLUSH, nbg_cmd_flush, GENL_UNS_ADMIN_PERM),
	NBG_DO(NBG_CMD_TRACE, nbg_cmd_trace, nbg_trace_policy, 0),
};

static const struct genl_multicast_group nbg_mcgrps[] = {
	{ .name = NBG_MCGRP_EVENTS },
};

struct genl_family nbg_genl_family __ro_after_init = {
	.name = NBG_GENL_NAME,
	.version = NBG_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,	/* writers serialise on the namespace lock */
	.module = THIS_MODULE,
	.ops = nbg_genl_ops,
	.n_ops = ARRAY_SIZE(nbg_genl_ops),
	.mcgrps = nbg_mcgrps,
	.n_mcgrps = ARRAY_SIZE(nbg_mcgrps),
};

/* A socket that owned transactions is gone: abort them. */
static int nbg_netlink_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		nbg_txn_release_portid(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block nbg_netlink_nb = {
	.notifier_call = nbg_netlink_event,
};

int nbg_genl_init(void)
{
	int ret;

	ret = netlink_register_notifier(&nbg_netlink_nb);
	if (ret)
		return ret;
	ret = genl_register_family(&nbg_genl_family);
	if (ret)
		netlink_unregister_notifier(&nbg_netlink_nb);
	return ret;
}

void nbg_genl_exit(void)
{
	genl_unregister_family(&nbg_genl_family);
	netlink_unregister_notifier(&nbg_netlink_nb);
}
