// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard generic netlink client on libnl-3.
 *
 * Each request goes through transact(): send, then receive until the ack,
 * the error or the end of a dump, with our own callbacks so that the
 * kernel's errno and its extended ack message are captured (libnl 3.7 does
 * not surface extack). NETLINK_CAP_ACK keeps error replies small even for
 * large TXN_ADD batches.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include "lib/nbgnl.h"

#define EXTACK_MAX 512
/* Largest message we build; a single rule at the UAPI limits fits. */
#define MSG_MAX (256 * 1024)
#define BATCH_DEFAULT (32 * 1024)
#define DUMP_RETRIES 16

struct nbg_nl {
	struct nl_sock *sk;
	int family;
	int mcgrp;
	char extack[EXTACK_MAX];
	char errbuf[EXTACK_MAX + 128];
};

/* State of one request/response exchange. */
struct req {
	struct nbg_nl *nl;
	int (*fn)(struct nlattr **tb, void *arg);
	void *arg;
	bool done, intr;
	int err;		/* negative errno: kernel error or parse error */
};

static int nlerr_to_errno(int e)
{
	switch (e < 0 ? -e : e) {
	case NLE_NOMEM: return ENOMEM;
	case NLE_MSGSIZE: return EMSGSIZE;
	case NLE_AGAIN: return EAGAIN;
	case NLE_INTR: return EINTR;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_PERM: return EPERM;
	case NLE_NOACCESS: return EACCES;
	case NLE_INVAL: return EINVAL;
	case NLE_RANGE: return ERANGE;
	case NLE_BUSY: return EBUSY;
	case NLE_EXIST: return EEXIST;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_DUMP_INTR: return EAGAIN;
	default: return EIO;
	}
}

const char *nbg_nl_extack(const struct nbg_nl *nl)
{
	return nl->extack;
}

const char *nbg_nl_strerror(struct nbg_nl *nl, int err)
{
	const char *s = strerror(err < 0 ? -err : err);

	if (nl && nl->extack[0])
		snprintf(nl->errbuf, sizeof(nl->errbuf), "%s: %s", s, nl->extack);
	else if (nl)
		snprintf(nl->errbuf, sizeof(nl->errbuf), "%s", s);
	else
		return s;
	return nl->errbuf;
}

int nbg_nl_family(const struct nbg_nl *nl)
{
	return nl->family;
}

int nbg_nl_events_group(const struct nbg_nl *nl)
{
	return nl->mcgrp;
}

void *nbg_nl_sock(struct nbg_nl *nl)
{
	return nl->sk;
}

/* Pull NLMSGERR_ATTR_MSG (and, failing that, the missing attribute) out of
 * an error or ack message. libnl hands us the payload; the header sits
 * right before it. */
static void parse_extack(struct nbg_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	int len;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= NLMSG_HDRLEN)
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)h->nlmsg_len - NLMSG_HDRLEN - (int)NLMSG_ALIGN(off);
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)e + NLMSG_ALIGN(off)), len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0)
		snprintf(nl->extack, sizeof(nl->extack), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
		 nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) >= 4)
		snprintf(nl->extack, sizeof(nl->extack),
			 "missing attribute %u", nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

static int cb_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct req *r = arg;

	r->err = e->error < 0 ? e->error : -EIO;
	parse_extack(r->nl, e);
	r->done = true;
	return NL_STOP;
}

static int cb_ack(struct nl_msg *msg, void *arg)
{
	((struct req *)arg)->done = true;
	return NL_STOP;
}

static int cb_intr(struct nl_msg *msg, void *arg)
{
	((struct req *)arg)->intr = true;
	return NL_OK;
}

static int cb_valid(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;
	struct nlattr *tb[NBG_A_MAX + 1];
	int ret;

	if (!r->fn || r->err)
		return NL_OK;
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, NBG_A_MAX, NULL);
	if (ret < 0) {
		r->err = -EPROTO;
		return NL_OK;
	}
	ret = r->fn(tb, r->arg);
	if (ret < 0)
		r->err = ret;
	return NL_OK;
}

static struct nl_msg *new_msg(struct nbg_nl *nl, u8 cmd, int flags, size_t size)
{
	struct nl_msg *msg = size ? nlmsg_alloc_size(size) : nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
			 NBG_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send @msg (consumed) and process replies until done. @fn is called with
 * the parsed top-level attributes of each reply message. Returns 0, a
 * negative errno, or -EAGAIN if a dump was interrupted by a change.
 */
static int transact_cb(struct nbg_nl *nl, struct nl_msg *msg, const void *raw,
		       size_t raw_len, int (*fn)(struct nlattr **tb, void *arg),
		       void *arg)
{
	struct req r = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int ret;

	nl->extack[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cb_valid, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cb_ack, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cb_ack, &r);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, cb_intr, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, cb_err, &r);

	if (msg) {
		ret = nl_send_auto(nl->sk, msg);
		nlmsg_free(msg);
	} else {
		ret = nl_sendto(nl->sk, (void *)raw, raw_len);
	}
	if (ret < 0) {
		nl_cb_put(cb);
		/* nl_sendto reports errno-derived codes; keep EMSGSIZE etc. */
		return -nlerr_to_errno(ret);
	}
	while (!r.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && ret != -NLE_DUMP_INTR) {
			if (!r.err) {
				r.err = -nlerr_to_errno(ret);
				snprintf(nl->extack, sizeof(nl->extack), "libnl: %s",
					 nl_geterror(ret));
			}
			break;
		}
	}
	nl_cb_put(cb);
	if (r.err)
		return r.err;
	return r.intr ? -EAGAIN : 0;
}

/*
 * Send @msg (consumed) and process replies until done. @fn is called with
 * the parsed top-level attributes of each reply message. Returns 0, a
 * negative errno, or -EAGAIN if a dump was interrupted by a change.
 */
static int transact(struct nbg_nl *nl, struct nl_msg *msg,
		    int (*fn)(struct nlattr **tb, void *arg), void *arg)
{
	return transact_cb(nl, msg, NULL, 0, fn, arg);
}

int nbg_nl_send_msg(struct nbg_nl *nl, void *msg)
{
	return transact(nl, msg, NULL, NULL);
}

int nbg_nl_send_raw(struct nbg_nl *nl, void *buf, size_t len)
{
	struct nlmsghdr *h = buf;

	if (len < NLMSG_HDRLEN)
		return -EINVAL;
	/* Keep libnl's sequence bookkeeping: one number per request. */
	h->nlmsg_seq = nl_socket_use_seq(nl->sk);
	h->nlmsg_pid = nl_socket_get_local_port(nl->sk);
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	return transact_cb(nl, NULL, buf, len, NULL, NULL);
}

void *nbg_nl_new_msg(struct nbg_nl *nl, u8 cmd, size_t size)
{
	return new_msg(nl, cmd, 0, size);
}

/* A request without reply attributes: just the command and an ack. */
static int simple(struct nbg_nl *nl, u8 cmd)
{
	struct nl_msg *msg = new_msg(nl, cmd, 0, 0);

	if (!msg)
		return -ENOMEM;
	return transact(nl, msg, NULL, NULL);
}

int nbg_nl_open(struct nbg_nl **out)
{
	struct nbg_nl *nl;
	int one = 1, ret;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = -nlerr_to_errno(ret);
		goto err;
	}
	/* Ask for error strings, and do not echo our (maybe huge) request. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_set_buffer_size(nl->sk, 1 << 20, 1 << 20);
	nl_socket_enable_msg_peek(nl->sk);
	nl->family = genl_ctrl_resolve(nl->sk, NBG_GENL_NAME);
	if (nl->family < 0) {
		ret = nl->family == -NLE_OBJ_NOTFOUND ? -ENOENT : -nlerr_to_errno(nl->family);
		goto err;
	}
	nl->mcgrp = genl_ctrl_resolve_grp(nl->sk, NBG_GENL_NAME, NBG_MCGRP_EVENTS);
	if (nl->mcgrp < 0) {
		ret = -ENOENT;
		goto err;
	}
	*out = nl;
	return 0;
err:
	nl_socket_free(nl->sk);
	free(nl);
	return ret;
}

void nbg_nl_close(struct nbg_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

/* Attribute getters that check the length (we parse without a policy). */
static u8 get_u8(struct nlattr *a, u8 def)
{
	return a && nla_len(a) >= 1 ? nla_get_u8(a) : def;
}

static u16 get_u16(struct nlattr *a, u16 def)
{
	return a && nla_len(a) >= 2 ? nla_get_u16(a) : def;
}

static u32 get_u32(struct nlattr *a, u32 def)
{
	return a && nla_len(a) >= 4 ? nla_get_u32(a) : def;
}

static u64 get_u64(struct nlattr *a, u64 def)
{
	return a && nla_len(a) >= 8 ? nla_get_u64(a) : def;
}

static void get_str(struct nlattr *a, char *buf, size_t len)
{
	if (!a || !len)
		return;
	snprintf(buf, len, "%.*s", (int)strnlen(nla_data(a), nla_len(a)),
		 (char *)nla_data(a));
}

/* ---- status and config ---- */

static int status_cb(struct nlattr **tb, void *arg)
{
	struct nbg_status *st = arg;

	st->generation = get_u64(tb[NBG_A_GENERATION], 0);
	st->default_in = get_u8(tb[NBG_A_DEFAULT_IN], NBG_ACTION_DENY);
	st->default_out = get_u8(tb[NBG_A_DEFAULT_OUT], NBG_ACTION_ALLOW);
	st->event_rate = get_u32(tb[NBG_A_EVENT_RATE], 0);
	st->event_burst = get_u32(tb[NBG_A_EVENT_BURST], 0);
	st->n_identities = get_u32(tb[NBG_A_N_IDENTITIES], 0);
	st->n_rules = get_u32(tb[NBG_A_N_RULES], 0);
	st->n_devices = get_u32(tb[NBG_A_N_DEVICES], 0);
	st->max_identities = get_u32(tb[NBG_A_MAX_IDENTITIES], 0);
	st->max_rules = get_u32(tb[NBG_A_MAX_RULES], 0);
	st->mem_bytes = get_u64(tb[NBG_A_MEM_BYTES], 0);
	st->events_dropped = get_u64(tb[NBG_A_EVENTS_DROPPED], 0);
	return 0;
}

int nbg_nl_get_status(struct nbg_nl *nl, struct nbg_status *st)
{
	struct nl_msg *msg = new_msg(nl, NBG_CMD_GET_STATUS, 0, 0);

	memset(st, 0, sizeof(*st));
	if (!msg)
		return -ENOMEM;
	return transact(nl, msg, status_cb, st);
}

int nbg_nl_set_config(struct nbg_nl *nl, const struct nbg_config *cfg)
{
	struct nl_msg *msg = new_msg(nl, NBG_CMD_SET_CONFIG, 0, 0);

	if (!msg)
		return -ENOMEM;
	if (((cfg->mask & NBG_CFG_DEFAULT_IN) &&
	     nla_put_u8(msg, NBG_A_DEFAULT_IN, cfg->default_in)) ||
	    ((cfg->mask & NBG_CFG_DEFAULT_OUT) &&
	     nla_put_u8(msg, NBG_A_DEFAULT_OUT, cfg->default_out)) ||
	    ((cfg->mask & NBG_CFG_EVENT_RATE) &&
	     nla_put_u32(msg, NBG_A_EVENT_RATE, cfg->event_rate)) ||
	    ((cfg->mask & NBG_CFG_EVENT_BURST) &&
	     nla_put_u32(msg, NBG_A_EVENT_BURST, cfg->event_burst))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return transact(nl, msg, NULL, NULL);
}

/* ---- devices ---- */

static int dev_req(struct nbg_nl *nl, u8 cmd, const char *ifname, u32 flags,
		   bool with_flags)
{
	struct nl_msg *msg;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	msg = new_msg(nl, cmd, 0, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, NBG_A_IFNAME, ifname) ||
	    (with_flags && nla_put_u32(msg, NBG_A_DEV_FLAGS, flags))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return transact(nl, msg, NULL, NULL);
}

int nbg_nl_dev_add(struct nbg_nl *nl, const char *ifname, u32 flags)
{
	return dev_req(nl, NBG_CMD_DEV_ADD, ifname, flags, true);
}

int nbg_nl_dev_del(struct nbg_nl *nl, const char *ifname)
{
	return dev_req(nl, NBG_CMD_DEV_DEL, ifname, 0, false);
}

struct dev_vec {
	struct nbg_dev *v;
	size_t n, cap;
};

static int dev_cb(struct nlattr **tb, void *arg)
{
	struct dev_vec *dv = arg;
	struct nbg_dev *d;

	if (!tb[NBG_A_IFINDEX] && !tb[NBG_A_IFNAME])
		return 0;
	if (dv->n == dv->cap) {
		size_t cap = dv->cap ? dv->cap * 2 : 8;
		struct nbg_dev *n = realloc(dv->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		dv->v = n;
		dv->cap = cap;
	}
	d = &dv->v[dv->n++];
	memset(d, 0, sizeof(*d));
	d->ifindex = get_u32(tb[NBG_A_IFINDEX], 0);
	d->flags = get_u32(tb[NBG_A_DEV_FLAGS], 0);
	get_str(tb[NBG_A_IFNAME], d->ifname, sizeof(d->ifname));
	get_str(tb[NBG_A_DEV_KIND], d->kind, sizeof(d->kind));
	return 0;
}

int nbg_nl_dev_list(struct nbg_nl *nl, struct nbg_dev **devs, size_t *n)
{
	struct dev_vec dv = { 0 };
	struct nl_msg *msg;
	int ret, tries = 0;

	do {
		free(dv.v);
		memset(&dv, 0, sizeof(dv));
		msg = new_msg(nl, NBG_CMD_DEV_GET, NLM_F_DUMP, 0);
		if (!msg)
			return -ENOMEM;
		ret = transact(nl, msg, dev_cb, &dv);
	} while (ret == -EAGAIN && ++tries < DUMP_RETRIES);
	if (ret) {
		free(dv.v);
		return ret;
	}
	*devs = dv.v;
	*n = dv.n;
	return 0;
}

/* ---- building identity and rule attributes ---- */

static int put_prefix(struct nl_msg *msg, int type, const struct nbg_prefix *p)
{
	struct nlattr *nest = nla_nest_start(msg, type | NLA_F_NESTED);

	if (!nest ||
	    nla_put_u8(msg, NBG_PREFIX_A_FAMILY, p->family) ||
	    nla_put(msg, NBG_PREFIX_A_ADDR, p->family == AF_INET ? 4 : 16, p->addr.raw) ||
	    nla_put_u8(msg, NBG_PREFIX_A_LEN, p->len))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_ident(struct nl_msg *msg, const struct nbg_ident_desc *i)
{
	struct nlattr *nest = nla_nest_start(msg, NBG_A_IDENTITY | NLA_F_NESTED);
	u32 k;

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(msg, NBG_IDENT_A_ID, i->id) ||
	    nla_put_string(msg, NBG_IDENT_A_NAME, i->name))
		goto err;
	for (k = 0; k < i->n_prefixes; k++)
		if (put_prefix(msg, NBG_IDENT_A_PREFIX, &i->prefixes[k]))
			goto err;
	for (k = 0; k < i->n_groups; k++)
		if (nla_put_u32(msg, NBG_IDENT_A_GROUP, i->groups[k]))
			goto err;
	nla_nest_end(msg, nest);
	return 0;
err:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/*
 * A rule travels in parts (NBG_RULE_A_CONT in kmod/uapi/nbguard.h): a
 * head with the rule's fields and up to PART_ITEMS selector and port
 * items, then continuations with the next items. An item takes at most 40
 * bytes, so a part stays far below a netlink attribute's 64 KiB. Items
 * in order: src idents, groups, prefixes, dst idents, groups, prefixes,
 * ports. Absent selector = any; only specific selectors are sent.
 */
#define PART_ITEMS 1024

static u32 section_len(const struct nbg_rule_desc *r, int s)
{
	const struct nbg_selector *sel = s < 3 ? &r->src : &r->dst;

	if (s == 6)
		return r->n_ports;
	if (nbg_selector_is_any(sel))
		return 0;
	return s % 3 == 0 ? sel->n_idents : s % 3 == 1 ? sel->n_groups :
	       sel->n_prefixes;
}

static int put_item(struct nl_msg *msg, const struct nbg_rule_desc *r, int s,
		    u32 j)
{
	const struct nbg_selector *sel = s < 3 ? &r->src : &r->dst;
	struct nlattr *pn;

	switch (s == 6 ? 3 : s % 3) {
	case 0:
		return nla_put_u32(msg, NBG_SEL_A_IDENT, sel->idents[j]);
	case 1:
		return nla_put_u32(msg, NBG_SEL_A_GROUP, sel->groups[j]);
	case 2:
		return put_prefix(msg, NBG_SEL_A_PREFIX, &sel->prefixes[j]);
	}
	pn = nla_nest_start(msg, NBG_RULE_A_PORTS | NLA_F_NESTED);
	if (!pn || nla_put_u16(msg, NBG_PORTS_A_LO, r->ports[j].lo) ||
	    nla_put_u16(msg, NBG_PORTS_A_HI, r->ports[j].hi))
		return -EMSGSIZE;
	return nla_nest_end(msg, pn) ? -EMSGSIZE : 0;
}

/*
 * Put the part of @r that starts at item *@off. Returns 0 when the rule
 * is complete, 1 when more parts follow (*@off names the next item), or
 * -EMSGSIZE when the part does not fit in @msg (nothing added).
 */
static int put_rule_part(struct nl_msg *msg, const struct nbg_rule_desc *r,
			 u32 *off)
{
	struct nlattr *nest = nla_nest_start(msg, NBG_A_RULE | NLA_F_NESTED);
	struct nlattr *sn = NULL;
	u32 base = 0, j, len, o = *off, end = *off + PART_ITEMS;
	int s, cur = -1;

	if (!nest || nla_put_u32(msg, NBG_RULE_A_ID, r->id))
		goto err;
	if (o && nla_put_flag(msg, NBG_RULE_A_CONT))
		goto err;
	if (!o &&
	    (nla_put_u8(msg, NBG_RULE_A_ACTION, r->action) ||
	     nla_put_u8(msg, NBG_RULE_A_DIRECTION, r->direction) ||
	     (!r->proto_any && nla_put_u8(msg, NBG_RULE_A_PROTO, r->proto))))
		goto err;
	for (s = 0; s < 7 && o < end; s++, base += len) {
		len = section_len(r, s);
		for (j = o - base; o >= base && j < len && o < end; j++, o++) {
			if (s < 6 && cur != s / 3) {
				if (sn && nla_nest_end(msg, sn))
					goto err;
				cur = s / 3;
				sn = nla_nest_start(msg, (cur ? NBG_RULE_A_DST :
							  NBG_RULE_A_SRC) | NLA_F_NESTED);
				if (!sn)
					goto err;
			} else if (s == 6 && sn) {
				if (nla_nest_end(msg, sn))
					goto err;
				sn = NULL;
			}
			if (put_item(msg, r, s, j))
				goto err;
		}
	}
	if ((sn && nla_nest_end(msg, sn)) || nla_nest_end(msg, nest))
		goto err;
	*off = o;
	/* More parts follow if any section still has items. */
	for (len = 0; s < 7; s++)
		len += section_len(r, s);
	return base + len > o ? 1 : 0;
err:
	if (nest)
		nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/* The whole rule, in as many parts as it needs, into one message. */
static int put_rule(struct nl_msg *msg, const struct nbg_rule_desc *r)
{
	u32 off = 0;
	int ret;

	while ((ret = put_rule_part(msg, r, &off)) == 1)
		;
	return ret;
}

/* ---- transactions ---- */

struct begin_reply {
	u32 txn_id;
	u64 gen;
	bool got_id;
};

static int begin_cb(struct nlattr **tb, void *arg)
{
	struct begin_reply *b = arg;

	if (tb[NBG_A_TXN_ID]) {
		b->txn_id = get_u32(tb[NBG_A_TXN_ID], 0);
		b->got_id = true;
	}
	b->gen = get_u64(tb[NBG_A_GENERATION], 0);
	return 0;
}

int nbg_nl_txn_begin(struct nbg_nl *nl, const u64 *expect_gen, u32 *txn_id, u64 *gen)
{
	struct begin_reply b = { 0 };
	struct nl_msg *msg = new_msg(nl, NBG_CMD_TXN_BEGIN, 0, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (expect_gen && nla_put_u64(msg, NBG_A_GENERATION, *expect_gen)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = transact(nl, msg, begin_cb, &b);
	if (ret)
		return ret;
	if (!b.got_id) {
		snprintf(nl->extack, sizeof(nl->extack), "TXN_BEGIN reply without a transaction id");
		return -EPROTO;
	}
	*txn_id = b.txn_id;
	if (gen)
		*gen = b.gen;
	return 0;
}

int nbg_nl_txn_add(struct nbg_nl *nl, u32 txn_id,
		   const struct nbg_ident_desc *idents, u32 n_idents,
		   const struct nbg_rule_desc *rules, u32 n_rules)
{
	struct nl_msg *msg = new_msg(nl, NBG_CMD_TXN_ADD, 0, MSG_MAX);
	u32 k;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, NBG_A_TXN_ID, txn_id))
		goto toobig;
	for (k = 0; k < n_idents; k++)
		if (put_ident(msg, &idents[k]))
			goto toobig;
	for (k = 0; k < n_rules; k++)
		if (put_rule(msg, &rules[k]))
			goto toobig;
	return transact(nl, msg, NULL, NULL);
toobig:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int gen_cb(struct nlattr **tb, void *arg)
{
	if (tb[NBG_A_GENERATION])
		*(u64 *)arg = get_u64(tb[NBG_A_GENERATION], 0);
	return 0;
}

int nbg_nl_txn_commit(struct nbg_nl *nl, u32 txn_id, u64 *new_gen)
{
	struct nl_msg *msg = new_msg(nl, NBG_CMD_TXN_COMMIT, 0, 0);
	u64 gen = 0;
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, NBG_A_TXN_ID, txn_id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = transact(nl, msg, gen_cb, &gen);
	if (!ret && new_gen)
		*new_gen = gen;
	return ret;
}

int nbg_nl_txn_abort(struct nbg_nl *nl, u32 txn_id)
{
	struct nl_msg *msg = new_msg(nl, NBG_CMD_TXN_ABORT, 0, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, NBG_A_TXN_ID, txn_id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return transact(nl, msg, NULL, NULL);
}

/*
 * Send everything in batches: fill a message until it holds about
 * @batch bytes of attributes, send it, start the next one. An item that
 * does not fit in an otherwise empty message is an error (-EMSGSIZE).
 */
static int load_batches(struct nbg_nl *nl, u32 txn_id,
			const struct nbg_ruleset_desc *d, size_t batch)
{
	u32 total = d->n_idents + d->n_rules, k = 0, items = 0, roff = 0;
	struct nl_msg *msg = NULL;
	bool done = false;
	int ret;

	while (k < total) {
		if (!msg) {
			msg = new_msg(nl, NBG_CMD_TXN_ADD, 0, MSG_MAX);
			if (!msg || nla_put_u32(msg, NBG_A_TXN_ID, txn_id)) {
				nlmsg_free(msg);
				return -ENOMEM;
			}
			items = 0;
		}
		if (k < d->n_idents) {
			ret = put_ident(msg, &d->idents[k]);
			done = true;
		} else {
			/* A large rule goes in parts, maybe over messages. */
			ret = put_rule_part(msg, &d->rules[k - d->n_idents], &roff);
			done = !ret;
			ret = ret < 0 ? ret : 0;
		}
		if (ret && !items) {
			nlmsg_free(msg);
			snprintf(nl->extack, sizeof(nl->extack),
				 "%s %u does not fit in one netlink message",
				 k < d->n_idents ? "identity" : "rule",
				 k < d->n_idents ? d->idents[k].id :
						   d->rules[k - d->n_idents].id);
			return -EMSGSIZE;
		}
		if (!ret) {
			items++;
			if (done) {
				k++;
				roff = 0;
			}
		}
		if (ret || genlmsg_attrlen(nlmsg_data(nlmsg_hdr(msg)), 0) >= (int)batch ||
		    k == total) {
			ret = transact(nl, msg, NULL, NULL);
			msg = NULL;
			if (ret)
				return ret;
		}
	}
	return 0;
}

int nbg_nl_load(struct nbg_nl *nl, const struct nbg_ruleset_desc *d,
		const struct nbg_load_opts *opts, u64 *new_gen)
{
	size_t batch = opts && opts->batch_bytes ? opts->batch_bytes : BATCH_DEFAULT;
	char saved[EXTACK_MAX];
	u32 txn_id;
	int ret;

	ret = nbg_nl_txn_begin(nl, opts ? opts->expect_gen : NULL, &txn_id, NULL);
	if (ret)
		return ret;
	ret = load_batches(nl, txn_id, d, batch);
	if (!ret)
		ret = nbg_nl_txn_commit(nl, txn_id, new_gen);
	if (ret) {
		/* Abort (a failed commit may already have ended the
		 * transaction: then this fails harmlessly) but report the
		 * first error and its message. */
		memcpy(saved, nl->extack, sizeof(saved));
		nbg_nl_txn_abort(nl, txn_id);
		memcpy(nl->extack, saved, sizeof(saved));
	}
	return ret;
}

/* ---- dumping the ruleset back ---- */

static void parse_prefix(struct nlattr *a, struct nbg_prefix *p)
{
	struct nlattr *tb[NBG_PREFIX_A_MAX + 1];

	memset(p, 0, sizeof(*p));
	if (nla_parse_nested(tb, NBG_PREFIX_A_MAX, a, NULL))
		return;
	p->family = get_u8(tb[NBG_PREFIX_A_FAMILY], 0);
	p->len = get_u8(tb[NBG_PREFIX_A_LEN], 0);
	if (tb[NBG_PREFIX_A_ADDR]) {
		int n = nla_len(tb[NBG_PREFIX_A_ADDR]);

		memcpy(p->addr.raw, nla_data(tb[NBG_PREFIX_A_ADDR]), n > 16 ? 16 : n);
	}
}

struct dump_state {
	struct nbg_ruleset_desc *d;
	u64 gen;
	bool gen_seen, gen_mismatch;
};

static void note_gen(struct dump_state *s, struct nlattr **tb)
{
	u64 g;

	if (!tb[NBG_A_GENERATION])
		return;
	g = get_u64(tb[NBG_A_GENERATION], 0);
	if (s->gen_seen && g != s->gen)
		s->gen_mismatch = true;
	s->gen = g;
	s->gen_seen = true;
}

static int ident_cb(struct nlattr **tb, void *arg)
{
	struct dump_state *s = arg;
	struct nbg_ident_desc *i;
	struct nlattr *a;
	struct nbg_prefix p;
	int rem;

	note_gen(s, tb);
	if (!tb[NBG_A_IDENTITY])
		return 0;
	i = nbg_desc_add_ident(s->d);
	if (!i)
		return -ENOMEM;
	nla_for_each_nested(a, tb[NBG_A_IDENTITY], rem) {
		switch (nla_type(a)) {
		case NBG_IDENT_A_ID:
			i->id = get_u32(a, 0);
			break;
		case NBG_IDENT_A_NAME:
			get_str(a, i->name, sizeof(i->name));
			break;
		case NBG_IDENT_A_PREFIX:
			parse_prefix(a, &p);
			if (nbg_ident_add_prefix(i, &p))
				return -ENOMEM;
			break;
		case NBG_IDENT_A_GROUP:
			if (nbg_ident_add_group(i, get_u32(a, 0)))
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

static int parse_sel(struct nlattr *nest, struct nbg_selector *s)
{
	struct nbg_prefix p;
	struct nlattr *a;
	bool any = false;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case NBG_SEL_A_ANY:
			any = true;
			break;
		case NBG_SEL_A_IDENT:
			if (nbg_sel_add_ident(s, get_u32(a, 0)))
				return -ENOMEM;
			break;
		case NBG_SEL_A_GROUP:
			if (nbg_sel_add_group(s, get_u32(a, 0)))
				return -ENOMEM;
			break;
		case NBG_SEL_A_PREFIX:
			parse_prefix(a, &p);
			if (nbg_sel_add_prefix(s, &p))
				return -ENOMEM;
			break;
		}
	}
	if (any || nbg_selector_is_any(s))
		nbg_selector_set_any(s);
	return 0;
}

static int rule_cb(struct nlattr **tb, void *arg)
{
	struct dump_state *s = arg;
	struct nbg_rule_desc *r;
	struct nlattr *a, *pt[NBG_PORTS_A_MAX + 1];
	int rem;

	note_gen(s, tb);
	if (!tb[NBG_A_RULE])
		return 0;
	if (nla_find(nla_data(tb[NBG_A_RULE]), nla_len(tb[NBG_A_RULE]),
		     NBG_RULE_A_CONT)) {
		/* More items for the rule of the previous message. */
		a = nla_find(nla_data(tb[NBG_A_RULE]), nla_len(tb[NBG_A_RULE]),
			     NBG_RULE_A_ID);
		if (!a)
			return -EPROTO;
		/* The kernel resumes a split rule by index: after a swap
		 * (NLM_F_DUMP_INTR) that may be another rule. Start over. */
		if (!s->d->n_rules ||
		    s->d->rules[s->d->n_rules - 1].id != get_u32(a, 0))
			return -EAGAIN;
		r = &s->d->rules[s->d->n_rules - 1];
	} else {
		r = nbg_desc_add_rule(s->d);
	}
	if (!r)
		return -ENOMEM;
	nla_for_each_nested(a, tb[NBG_A_RULE], rem) {
		switch (nla_type(a)) {
		case NBG_RULE_A_ID:
			r->id = get_u32(a, 0);
			break;
		case NBG_RULE_A_ACTION:
			r->action = get_u8(a, 0);
			break;
		case NBG_RULE_A_DIRECTION:
			r->direction = get_u8(a, NBG_DIR_IN);
			break;
		case NBG_RULE_A_PROTO:
			r->proto_any = false;
			r->proto = get_u8(a, 0);
			break;
		case NBG_RULE_A_SRC:
			if (parse_sel(a, &r->src))
				return -ENOMEM;
			break;
		case NBG_RULE_A_DST:
			if (parse_sel(a, &r->dst))
				return -ENOMEM;
			break;
		case NBG_RULE_A_PORTS:
			if (nla_parse_nested(pt, NBG_PORTS_A_MAX, a, NULL))
				return -EPROTO;
			if (nbg_rule_add_ports(r, get_u16(pt[NBG_PORTS_A_LO], 0),
					       get_u16(pt[NBG_PORTS_A_HI], 0)))
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

static int dump_once(struct nbg_nl *nl, struct nbg_ruleset_desc *d, u64 *gen)
{
	struct dump_state s = { .d = d };
	struct nl_msg *msg;
	int ret;

	msg = new_msg(nl, NBG_CMD_IDENT_GET, NLM_F_DUMP, 0);
	if (!msg)
		return -ENOMEM;
	ret = transact(nl, msg, ident_cb, &s);
	if (ret)
		return ret;
	msg = new_msg(nl, NBG_CMD_RULE_GET, NLM_F_DUMP, 0);
	if (!msg)
		return -ENOMEM;
	ret = transact(nl, msg, rule_cb, &s);
	if (ret)
		return ret;
	if (s.gen_mismatch)
		return -EAGAIN;
	if (!s.gen_seen) {
		/* An empty ruleset: no message carried the generation. */
		struct nbg_status st;

		ret = nbg_nl_get_status(nl, &st);
		if (ret)
			return ret;
		s.gen = st.generation;
	}
	*gen = s.gen;
	return 0;
}

int nbg_nl_dump_ruleset(struct nbg_nl *nl, struct nbg_ruleset_desc *d, u64 *gen)
{
	int ret, tries = 0;
	u64 g = 0;

	do {
		nbg_desc_free(d);
		ret = dump_once(nl, d, &g);
	} while (ret == -EAGAIN && ++tries < DUMP_RETRIES);
	/* Tests set NBG_NL_DEBUG to see that the retry path was taken. */
	if (tries && getenv("NBG_NL_DEBUG"))
		fprintf(stderr, "nbgnl: ruleset dump restarted %d time(s)\n", tries);
	if (ret) {
		nbg_desc_free(d);
		if (ret == -EAGAIN)
			snprintf(nl->extack, sizeof(nl->extack),
				 "ruleset kept changing during %d dumps", DUMP_RETRIES);
		return ret;
	}
	nbg_desc_sort(d);
	if (gen)
		*gen = g;
	return 0;
}

/* ---- stats, flush ---- */

struct stat_vec {
	struct nbg_stat *v;
	size_t n, cap;
};

static int stats_cb(struct nlattr **tb, void *arg)
{
	struct nlattr *st[NBG_STATS_A_MAX + 1];
	struct stat_vec *sv = arg;
	struct nbg_stat *s;

	if (!tb[NBG_A_STATS])
		return 0;
	if (nla_parse_nested(st, NBG_STATS_A_MAX, tb[NBG_A_STATS], NULL))
		return -EPROTO;
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 64;
		struct nbg_stat *n = realloc(sv->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		sv->v = n;
		sv->cap = cap;
	}
	s = &sv->v[sv->n++];
	s->rule_id = get_u32(st[NBG_STATS_A_RULE_ID], 0);
	s->direction = get_u8(st[NBG_STATS_A_DIRECTION], NBG_DIR_IN);
	s->packets = get_u64(st[NBG_STATS_A_PACKETS], 0);
	s->bytes = get_u64(st[NBG_STATS_A_BYTES], 0);
	return 0;
}

static int cmp_stat(const void *a, const void *b)
{
	const struct nbg_stat *x = a, *y = b;

	if (x->rule_id != y->rule_id)
		return x->rule_id < y->rule_id ? -1 : 1;
	return x->direction < y->direction ? -1 : x->direction > y->direction;
}

int nbg_nl_stats_get(struct nbg_nl *nl, struct nbg_stat **st, size_t *n)
{
	struct stat_vec sv = { 0 };
	struct nl_msg *msg;
	int ret, tries = 0;

	do {
		free(sv.v);
		memset(&sv, 0, sizeof(sv));
		msg = new_msg(nl, NBG_CMD_STATS_GET, NLM_F_DUMP, 0);
		if (!msg)
			return -ENOMEM;
		ret = transact(nl, msg, stats_cb, &sv);
	} while (ret == -EAGAIN && ++tries < DUMP_RETRIES);
	if (ret) {
		free(sv.v);
		return ret;
	}
	if (sv.n > 1)
		qsort(sv.v, sv.n, sizeof(*sv.v), cmp_stat);
	*st = sv.v;
	*n = sv.n;
	return 0;
}

int nbg_nl_stats_reset(struct nbg_nl *nl)
{
	return simple(nl, NBG_CMD_STATS_RESET);
}

int nbg_nl_flush(struct nbg_nl *nl)
{
	return simple(nl, NBG_CMD_FLUSH);
}

/* ---- trace and events ---- */

static int put_pkt(struct nl_msg *msg, int type, const struct nbg_pkt *p)
{
	struct nlattr *nest = nla_nest_start(msg, type | NLA_F_NESTED);
	int alen = p->family == AF_INET ? 4 : 16;

	if (!nest ||
	    nla_put_u8(msg, NBG_PKT_A_FAMILY, p->family) ||
	    nla_put(msg, NBG_PKT_A_SADDR, alen, p->saddr.raw) ||
	    nla_put(msg, NBG_PKT_A_DADDR, alen, p->daddr.raw) ||
	    nla_put_u8(msg, NBG_PKT_A_PROTO, p->proto) ||
	    nla_put_u16(msg, NBG_PKT_A_SPORT, p->sport) ||
	    nla_put_u16(msg, NBG_PKT_A_DPORT, p->dport) ||
	    nla_put_u8(msg, NBG_PKT_A_DIRECTION, p->direction))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static void parse_verdict(struct nlattr *a, struct nbg_verdict *v)
{
	struct nlattr *tb[NBG_VERDICT_A_MAX + 1];

	memset(v, 0, sizeof(*v));
	if (!a || nla_parse_nested(tb, NBG_VERDICT_A_MAX, a, NULL))
		return;
	v->action = get_u8(tb[NBG_VERDICT_A_ACTION], NBG_ACTION_NONE);
	v->rule_id = get_u32(tb[NBG_VERDICT_A_RULE_ID], 0);
	v->ident_id = get_u32(tb[NBG_VERDICT_A_IDENT_ID], 0);
}

static void parse_pkt(struct nlattr *a, struct nbg_pkt *p, u32 *ifindex)
{
	struct nlattr *tb[NBG_PKT_A_MAX + 1];
	int n;

	memset(p, 0, sizeof(*p));
	if (!a || nla_parse_nested(tb, NBG_PKT_A_MAX, a, NULL))
		return;
	p->family = get_u8(tb[NBG_PKT_A_FAMILY], 0);
	p->proto = get_u8(tb[NBG_PKT_A_PROTO], 0);
	p->direction = get_u8(tb[NBG_PKT_A_DIRECTION], NBG_DIR_IN);
	p->sport = get_u16(tb[NBG_PKT_A_SPORT], 0);
	p->dport = get_u16(tb[NBG_PKT_A_DPORT], 0);
	if (tb[NBG_PKT_A_SADDR]) {
		n = nla_len(tb[NBG_PKT_A_SADDR]);
		memcpy(p->saddr.raw, nla_data(tb[NBG_PKT_A_SADDR]), n > 16 ? 16 : n);
	}
	if (tb[NBG_PKT_A_DADDR]) {
		n = nla_len(tb[NBG_PKT_A_DADDR]);
		memcpy(p->daddr.raw, nla_data(tb[NBG_PKT_A_DADDR]), n > 16 ? 16 : n);
	}
	if (ifindex)
		*ifindex = get_u32(tb[NBG_PKT_A_IFINDEX], 0);
}

struct trace_reply {
	struct nbg_verdict *v;
	bool got;
};

static int trace_cb(struct nlattr **tb, void *arg)
{
	struct trace_reply *t = arg;

	if (tb[NBG_A_VERDICT]) {
		parse_verdict(tb[NBG_A_VERDICT], t->v);
		t->got = true;
	}
	return 0;
}

int nbg_nl_trace(struct nbg_nl *nl, const struct nbg_pkt *p, struct nbg_verdict *v)
{
	struct trace_reply t = { .v = v };
	struct nl_msg *msg = new_msg(nl, NBG_CMD_TRACE, 0, 0);
	int ret;

	memset(v, 0, sizeof(*v));
	if (!msg)
		return -ENOMEM;
	if (put_pkt(msg, NBG_A_TRACE, p)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = transact(nl, msg, trace_cb, &t);
	if (!ret && !t.got) {
		snprintf(nl->extack, sizeof(nl->extack), "TRACE reply without a verdict");
		return -EPROTO;
	}
	return ret;
}

struct mon_state {
	nbg_event_cb cb;
	void *arg;
	bool stop;
	int err;
};

static int mon_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NBG_A_MAX + 1], *et[NBG_EVENT_A_MAX + 1];
	struct genlmsghdr *g = genlmsg_hdr(nlmsg_hdr(msg));
	struct mon_state *m = arg;
	struct nbg_event ev;

	if (m->stop || g->cmd != NBG_CMD_DENY_EVENT)
		return NL_OK;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NBG_A_MAX, NULL) || !tb[NBG_A_EVENT])
		return NL_OK;
	if (nla_parse_nested(et, NBG_EVENT_A_MAX, tb[NBG_A_EVENT], NULL))
		return NL_OK;
	memset(&ev, 0, sizeof(ev));
	parse_pkt(et[NBG_EVENT_A_PKT], &ev.pkt, &ev.ifindex);
	parse_verdict(et[NBG_EVENT_A_VERDICT], &ev.verdict);
	ev.dropped = get_u64(tb[NBG_A_EVENTS_DROPPED], 0);
	if (m->cb(&ev, m->arg))
		m->stop = true;
	return NL_OK;
}

static int cb_noop(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int nbg_nl_monitor(struct nbg_nl *nl, int timeout_ms, nbg_event_cb cb, void *arg)
{
	struct mon_state m = { .cb = cb, .arg = arg };
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	struct nl_sock *sk;
	struct nl_cb *ncb;
	int ret;

	sk = nl_socket_alloc();
	ncb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!sk || !ncb) {
		ret = -ENOMEM;
		goto out;
	}
	nl_socket_disable_seq_check(sk);
	ret = genl_connect(sk);
	if (ret < 0) {
		ret = -nlerr_to_errno(ret);
		goto out;
	}
	nl_socket_set_buffer_size(sk, 1 << 20, 0);
	ret = nl_socket_add_membership(sk, nl->mcgrp);
	if (ret < 0) {
		ret = -nlerr_to_errno(ret);
		goto out;
	}
	nl_socket_set_nonblocking(sk);
	/* Events are not replies: no sequence numbers to check (the cb is
	 * ours, so nl_socket_disable_seq_check() would not reach it). */
	nl_cb_set(ncb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, cb_noop, NULL);
	nl_cb_set(ncb, NL_CB_VALID, NL_CB_CUSTOM, mon_valid, &m);
	ret = 0;
	while (!m.stop) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
		int wait = -1, r;

		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				break;
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		r = poll(&pfd, 1, wait);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!r)
			continue;
		r = nl_recvmsgs(sk, ncb);
		/* ENOBUFS (we fell behind) is reported by libnl as NOMEM:
		 * events were lost, keep going. */
		if (r < 0 && r != -NLE_AGAIN && r != -NLE_NOMEM) {
			snprintf(nl->extack, sizeof(nl->extack), "libnl: %s", nl_geterror(r));
			ret = -nlerr_to_errno(r);
			break;
		}
	}
out:
	if (ncb)
		nl_cb_put(ncb);
	if (sk)
		nl_socket_free(sk);
	return ret;
}
