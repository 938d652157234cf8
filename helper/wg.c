// SPDX-License-Identifier: GPL-2.0
/*
 * The WireGuard interface over netlink (libmnl): rtnetlink for the link,
 * addresses and routes, generic netlink "wireguard" for keys and peers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/wireguard.h>

#include "log.h"
#include "wg.h"

int wg_open(struct wg *wg)
{
	int ret;

	memset(wg, 0, sizeof(*wg));
	ret = nl_open(&wg->rt, NETLINK_ROUTE);
	if (ret)
		return ret;
	ret = nl_open(&wg->gn, NETLINK_GENERIC);
	if (ret)
		goto err_rt;
	/* loading wireguard.ko on demand is the kernel's job: a link of kind
	 * wireguard is created before the family is resolved */
	return 0;
err_rt:
	nl_close(&wg->rt);
	return ret;
}

void wg_close(struct wg *wg)
{
	nl_close(&wg->rt);
	nl_close(&wg->gn);
}

static int wg_family(struct wg *wg)
{
	if (wg->family)
		return 0;
	if (genl_family(&wg->gn, WG_GENL_NAME, &wg->family)) {
		log_err("generic netlink family '%s' not found (is wireguard.ko loaded?)",
			WG_GENL_NAME);
		return -ENOENT;
	}
	return 0;
}

/* --- rtnetlink ---------------------------------------------------------- */

int wg_link_ensure(struct wg *wg, const char *ifname, int *ifindex,
		   int *created)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *info;
	int ret;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "wireguard");
	mnl_attr_nest_end(nlh, info);
	ret = nl_talk(&wg->rt, nlh, NULL, NULL, "create link");
	*created = !ret;
	/* an existing link is kept as it is: its peers keep working across
	 * a helper restart */
	if (ret && ret != -EEXIST) {
		log_err("create wireguard link %s: %s", ifname, strerror(-ret));
		return ret;
	}
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex)
		return -errno;
	return wg_family(wg);
}

int wg_link_delete(struct wg *wg, const char *ifname)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nl_talk(&wg->rt, nlh, NULL, NULL, "delete link");
}

int wg_link_up(struct wg *wg, int ifindex)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	return nl_talk(&wg->rt, nlh, NULL, NULL, "link up");
}

int wg_addr(struct wg *wg, int ifindex, const struct nbh_prefix *p, int add)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	size_t alen = p->family == AF_INET ? 4 : 16;
	int ret;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (add)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* no duplicate address detection on a point-to-point overlay */
	ifa->ifa_flags = p->family == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(nlh, IFA_LOCAL, alen, &p->a);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, &p->a);
	ret = nl_talk(&wg->rt, nlh, NULL, NULL, add ? "add address" : "del address");
	if (!add && (ret == -EADDRNOTAVAIL || ret == -ENOENT))
		ret = 0;
	return ret;
}

int wg_route(struct wg *wg, int ifindex, const struct nbh_prefix *p, int add)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int ret;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (add)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->family;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, p->family == AF_INET ? 4 : 16, &p->a);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	ret = nl_talk(&wg->rt, nlh, NULL, NULL, add ? "add route" : "del route");
	if (!add && (ret == -ESRCH || ret == -ENOENT))
		ret = 0;
	return ret;
}

struct addr_dump {
	int ifindex;		/* > 0: only this link; < 0: all but -ifindex */
	struct nbh_prefix *out;
	int n, max;
	int local_only;		/* skip loopback, link-local, down links */
};

static int cb_addr(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_dump *d = data;
	const struct nlattr *a, *addr = NULL, *local = NULL;
	struct nbh_prefix p;
	size_t alen;

	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (d->ifindex > 0 && (int)ifa->ifa_index != d->ifindex)
		return MNL_CB_OK;
	if (d->ifindex < 0 && (int)ifa->ifa_index == -d->ifindex)
		return MNL_CB_OK;
	if (d->local_only && ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	if (d->local_only && (ifa->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_ADDRESS)
			addr = a;
		else if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
	}
	if (local)
		addr = local;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	if (!addr || mnl_attr_get_payload_len(addr) != alen)
		return MNL_CB_OK;
	if (d->n >= d->max)
		return MNL_CB_OK;
	memset(&p, 0, sizeof(p));
	p.family = ifa->ifa_family;
	p.len = d->local_only ? alen * 8 : ifa->ifa_prefixlen;
	memcpy(&p.a, mnl_attr_get_payload(addr), alen);
	d->out[d->n++] = p;
	return MNL_CB_OK;
}

static int addr_dump(struct wg *wg, struct addr_dump *d)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	ret = nl_talk(&wg->rt, nlh, cb_addr, d, "dump addresses");
	return ret ? ret : d->n;
}

int wg_addr_list(struct wg *wg, int ifindex, struct nbh_prefix *out, int max)
{
	struct addr_dump d = { .ifindex = ifindex, .out = out, .max = max };

	return addr_dump(wg, &d);
}

int local_addrs(struct wg *wg, int skip_ifindex, struct nbh_prefix *out,
		int max)
{
	struct addr_dump d = {
		.ifindex = -skip_ifindex, .out = out, .max = max,
		.local_only = 1,
	};

	/* RT_SCOPE_UNIVERSE already excludes 127/8, ::1 and fe80::/10 */
	return addr_dump(wg, &d);
}

struct route_dump {
	int ifindex;
	struct nbh_prefix *out;
	int n, max;
};

static int cb_route(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_dump *d = data;
	const struct nlattr *a, *dst = NULL;
	struct nbh_prefix p;
	int oif = 0;

	if (rtm->rtm_protocol != RTPROT_STATIC || rtm->rtm_table != RT_TABLE_MAIN ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(a) == RTA_DST)
			dst = a;
		else if (mnl_attr_get_type(a) == RTA_OIF &&
			 !mnl_attr_validate(a, MNL_TYPE_U32))
			oif = mnl_attr_get_u32(a);
	}
	if (oif != d->ifindex || !dst || d->n >= d->max ||
	    mnl_attr_get_payload_len(dst) != (rtm->rtm_family == AF_INET ? 4u : 16u))
		return MNL_CB_OK;
	memset(&p, 0, sizeof(p));
	p.family = rtm->rtm_family;
	p.len = rtm->rtm_dst_len;
	memcpy(&p.a, mnl_attr_get_payload(dst), mnl_attr_get_payload_len(dst));
	d->out[d->n++] = p;
	return MNL_CB_OK;
}

int wg_route_list(struct wg *wg, int ifindex, struct nbh_prefix *out, int max)
{
	struct route_dump d = { .ifindex = ifindex, .out = out, .max = max };
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int ret;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_UNSPEC;
	ret = nl_talk(&wg->rt, nlh, cb_route, &d, "dump routes");
	return ret ? ret : d.n;
}

/* --- generic netlink "wireguard" ---------------------------------------- */

static struct nlmsghdr *wg_msg(struct wg *wg, char *buf, int cmd, int flags,
			       const char *ifname)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = wg->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	return nlh;
}

/* Upper bound of the bytes one peer takes in a SET_DEVICE message. */
static size_t peer_size(const struct wg_peer_set *p)
{
	return 128 + p->n_allowed * 48;
}

static void put_peer(struct nlmsghdr *nlh, const struct wg_peer_set *p)
{
	struct nlattr *peer, *ips, *ip;

	peer = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, p->pubkey);
	if (p->flags)
		mnl_attr_put_u32(nlh, WGPEER_A_FLAGS, p->flags);
	if (p->flags & WGPEER_F_REMOVE_ME)
		goto done;
	if (p->endpoint.sa.sa_family == AF_INET ||
	    p->endpoint.sa.sa_family == AF_INET6)
		mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sockaddr_len(&p->endpoint),
			     &p->endpoint);
	if (p->set_keepalive)
		mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
				 p->keepalive);
	if (p->set_allowed) {
		ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
		for (uint32_t i = 0; i < p->n_allowed; i++) {
			const struct nbh_prefix *a = &p->allowed[i];

			ip = mnl_attr_nest_start(nlh, 0);
			mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, a->family);
			mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR,
				     a->family == AF_INET ? 4 : 16, &a->a);
			mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, a->len);
			mnl_attr_nest_end(nlh, ip);
		}
		mnl_attr_nest_end(nlh, ips);
	}
done:
	mnl_attr_nest_end(nlh, peer);
}

#define WG_MSG_SIZE	(16 * 1024)

/*
 * Device settings go in the first message; peers are spread over as many
 * messages as needed, like wireguard-tools does. Only the first message
 * may carry WGDEVICE_F_REPLACE_PEERS.
 */
int wg_set_device(struct wg *wg, const char *ifname,
		  const uint8_t *private_key, int listen_port,
		  int replace_peers, const struct wg_peer_set *peers,
		  uint32_t n_peers)
{
	char *buf;
	struct nlmsghdr *nlh;
	struct nlattr *nest = NULL;
	uint32_t i = 0;
	int ret = 0, first = 1;

	if ((ret = wg_family(wg)))
		return ret;
	buf = malloc(WG_MSG_SIZE);
	if (!buf)
		return -ENOMEM;
	do {
		nlh = wg_msg(wg, buf, WG_CMD_SET_DEVICE, 0, ifname);
		if (first) {
			if (private_key)
				mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY,
					     WG_KEY_LEN, private_key);
			if (listen_port >= 0)
				mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT,
						 listen_port);
			if (replace_peers)
				mnl_attr_put_u32(nlh, WGDEVICE_A_FLAGS,
						 WGDEVICE_F_REPLACE_PEERS);
		}
		if (i < n_peers) {
			nest = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
			while (i < n_peers &&
			       nlh->nlmsg_len + peer_size(&peers[i]) < WG_MSG_SIZE)
				put_peer(nlh, &peers[i++]);
			mnl_attr_nest_end(nlh, nest);
		}
		ret = nl_talk(&wg->gn, nlh, NULL, NULL, "wireguard set device");
		if (ret) {
			log_err("wireguard set %s: %s", ifname, strerror(-ret));
			break;
		}
		first = 0;
	} while (i < n_peers);
	memset(buf, 0, WG_MSG_SIZE);	/* may hold the private key */
	free(buf);
	return ret;
}

static int parse_allowed(const struct nlattr *nest, struct wg_peer_info *p)
{
	const struct nlattr *ip, *a;

	mnl_attr_for_each_nested(ip, nest) {
		struct nbh_prefix pf = { 0 };
		int have_addr = 0, have_mask = 0;

		mnl_attr_for_each_nested(a, ip) {
			switch (mnl_attr_get_type(a)) {
			case WGALLOWEDIP_A_FAMILY:
				pf.family = mnl_attr_get_u16(a);
				break;
			case WGALLOWEDIP_A_IPADDR:
				if (mnl_attr_get_payload_len(a) > 16)
					return -1;
				memcpy(&pf.a, mnl_attr_get_payload(a),
				       mnl_attr_get_payload_len(a));
				have_addr = 1;
				break;
			case WGALLOWEDIP_A_CIDR_MASK:
				pf.len = mnl_attr_get_u8(a);
				have_mask = 1;
				break;
			}
		}
		if (have_addr && have_mask && p->n_allowed < WG_MAX_ALLOWED)
			p->allowed[p->n_allowed++] = pf;
	}
	return 0;
}

static struct wg_peer_info *peer_slot(struct wg_dev_info *d,
				      const uint8_t *key)
{
	struct wg_peer_info *p;

	/* a peer with many allowed IPs continues in the next message */
	if (d->n_peers &&
	    !memcmp(d->peers[d->n_peers - 1].pubkey, key, WG_KEY_LEN))
		return &d->peers[d->n_peers - 1];
	if (d->n_peers == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;

		p = realloc(d->peers, cap * sizeof(*p));
		if (!p)
			return NULL;
		d->peers = p;
		d->cap = cap;
	}
	p = &d->peers[d->n_peers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->pubkey, key, WG_KEY_LEN);
	return p;
}

static int parse_peer(const struct nlattr *nest, struct wg_dev_info *d)
{
	const struct nlattr *a, *key = NULL;
	struct wg_peer_info *p;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == WGPEER_A_PUBLIC_KEY &&
		    mnl_attr_get_payload_len(a) == WG_KEY_LEN)
			key = a;
	if (!key)
		return -1;
	p = peer_slot(d, mnl_attr_get_payload(key));
	if (!p)
		return -1;
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case WGPEER_A_ENDPOINT:
			if (mnl_attr_get_payload_len(a) <= sizeof(p->endpoint))
				memcpy(&p->endpoint, mnl_attr_get_payload(a),
				       mnl_attr_get_payload_len(a));
			break;
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			p->keepalive = mnl_attr_get_u16(a);
			break;
		case WGPEER_A_LAST_HANDSHAKE_TIME: {
			const struct { int64_t s, ns; } *ts = mnl_attr_get_payload(a);

			if (mnl_attr_get_payload_len(a) == 16) {
				p->last_handshake.tv_sec = ts->s;
				p->last_handshake.tv_nsec = ts->ns;
			}
			break;
		}
		case WGPEER_A_RX_BYTES:
			p->rx_bytes = mnl_attr_get_u64(a);
			break;
		case WGPEER_A_TX_BYTES:
			p->tx_bytes = mnl_attr_get_u64(a);
			break;
		case WGPEER_A_ALLOWEDIPS:
			if (parse_allowed(a, p))
				return -1;
			break;
		}
	}
	return 0;
}

static int cb_device(const struct nlmsghdr *nlh, void *data)
{
	struct wg_dev_info *d = data;
	const struct nlattr *a, *peer;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case WGDEVICE_A_IFINDEX:
			d->ifindex = mnl_attr_get_u32(a);
			break;
		case WGDEVICE_A_LISTEN_PORT:
			d->listen_port = mnl_attr_get_u16(a);
			break;
		case WGDEVICE_A_PRIVATE_KEY:
			d->has_private = 1;
			break;
		case WGDEVICE_A_PUBLIC_KEY:
			if (mnl_attr_get_payload_len(a) == WG_KEY_LEN)
				memcpy(d->pubkey, mnl_attr_get_payload(a),
				       WG_KEY_LEN);
			break;
		case WGDEVICE_A_PEERS:
			mnl_attr_for_each_nested(peer, a)
				if (parse_peer(peer, d))
					return MNL_CB_ERROR;
			break;
		}
	}
	return MNL_CB_OK;
}

int wg_get_device(struct wg *wg, const char *ifname, struct wg_dev_info *d)
{
	char buf[256];
	struct nlmsghdr *nlh;
	int ret;

	memset(d, 0, sizeof(*d));
	if ((ret = wg_family(wg)))
		return ret;
	nlh = wg_msg(wg, buf, WG_CMD_GET_DEVICE, NLM_F_DUMP, ifname);
	ret = nl_talk(&wg->gn, nlh, cb_device, d, "wireguard get device");
	if (ret)
		wg_dev_info_free(d);
	return ret;
}

void wg_dev_info_free(struct wg_dev_info *d)
{
	free(d->peers);
	d->peers = NULL;
	d->n_peers = d->cap = 0;
}

struct wg_peer_info *wg_dev_find_peer(struct wg_dev_info *d,
				      const uint8_t pubkey[WG_KEY_LEN])
{
	for (uint32_t i = 0; i < d->n_peers; i++)
		if (!memcmp(d->peers[i].pubkey, pubkey, WG_KEY_LEN))
			return &d->peers[i];
	return NULL;
}
