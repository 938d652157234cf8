// SPDX-License-Identifier: GPL-2.0
/*
 * Thin libmnl helpers shared by the rtnetlink and WireGuard code: one
 * request, all its replies, and the kernel's extended ack message on error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "log.h"
#include "nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

int nl_open(struct nl *nl, int bus)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->buf = malloc(NL_BUF_SIZE);
	if (!nl->buf)
		return -ENOMEM;
	nl->sk = mnl_socket_open(bus);
	if (!nl->sk)
		goto err;
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	/* best effort: older kernels simply do not send the extras */
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = time(NULL);
	return 0;
err:
	if (nl->sk)
		mnl_socket_close(nl->sk);
	free(nl->buf);
	nl->sk = NULL;
	nl->buf = NULL;
	return -errno;
}

void nl_close(struct nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	free(nl->buf);
	nl->sk = NULL;
	nl->buf = NULL;
}

struct talk_ctx {
	struct nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int cb_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct talk_ctx *ctx = data;
	const struct nlattr *attr;
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		off = MNL_ALIGN(off);
		mnl_attr_for_each_payload((const struct nlattr *)((const char *)e + off),
					  mnl_nlmsg_get_payload_len(nlh) - off) {
			if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
			    !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
				snprintf(ctx->nl->ext_msg,
					 sizeof(ctx->nl->ext_msg), "%s",
					 mnl_attr_get_str(attr));
		}
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int cb_noop(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_OK;
}

static int cb_done(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_STOP;
}

static int cb_data(const struct nlmsghdr *nlh, void *data)
{
	struct talk_ctx *ctx = data;

	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
	    const char *what)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = cb_noop,
		[NLMSG_ERROR] = cb_error,
		[NLMSG_DONE] = cb_done,
		[NLMSG_OVERRUN] = cb_noop,
	};
	struct talk_ctx ctx = { .nl = nl, .cb = cb, .data = data };
	uint32_t seq;
	ssize_t n;
	int ret;

	nl->ext_msg[0] = 0;
	seq = nlh->nlmsg_seq = ++nl->seq;
	/* NLM_F_DUMP is two bits, one of them shared with NLM_F_EXCL */
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sk, nl->buf, NL_BUF_SIZE);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(nl->buf, n, seq, nl->portid, cb_data, &ctx,
				  ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret == MNL_CB_ERROR)
			break;
	}
	ret = errno ? -errno : -EIO;
	if (what && nl->ext_msg[0])
		log_err("%s: %s: %s", what, strerror(-ret), nl->ext_msg);
	return ret;
}

static int cb_family(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    !mnl_attr_validate(a, MNL_TYPE_U16))
			*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

int genl_family(struct nl *nl, const char *name, uint16_t *id)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	*id = 0;
	if (nl_talk(nl, nlh, cb_family, id, NULL) || !*id)
		return -ENOENT;
	return 0;
}
