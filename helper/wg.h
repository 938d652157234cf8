/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBH_WG_H
#define NBH_WG_H

#include <stdint.h>
#include <time.h>

#include "keys.h"
#include "nl.h"
#include "types.h"

#define WG_MAX_ALLOWED	16	/* allowed IPs per peer we manage */

/* One peer change for wg_set_device(). */
struct wg_peer_set {
	uint8_t pubkey[WG_KEY_LEN];
	uint32_t flags;		/* WGPEER_F_* */
	union nbh_sockaddr endpoint;	/* AF_UNSPEC: leave unchanged */
	int set_keepalive;
	uint16_t keepalive;
	int set_allowed;	/* with WGPEER_F_REPLACE_ALLOWEDIPS */
	uint32_t n_allowed;
	const struct nbh_prefix *allowed;
};

struct wg_peer_info {
	uint8_t pubkey[WG_KEY_LEN];
	union nbh_sockaddr endpoint;
	uint16_t keepalive;
	struct timespec last_handshake;
	uint64_t rx_bytes, tx_bytes;
	uint32_t n_allowed;
	struct nbh_prefix allowed[WG_MAX_ALLOWED];
};

struct wg_dev_info {
	int ifindex;
	uint16_t listen_port;
	int has_private;
	uint8_t pubkey[WG_KEY_LEN];
	uint32_t n_peers, cap;
	struct wg_peer_info *peers;
};

struct wg {
	struct nl rt;		/* NETLINK_ROUTE */
	struct nl gn;		/* NETLINK_GENERIC */
	uint16_t family;	/* "wireguard" */
};

int wg_open(struct wg *wg);
void wg_close(struct wg *wg);

/* rtnetlink: the link, its addresses and the routes to peers */
int wg_link_ensure(struct wg *wg, const char *ifname, int *ifindex,
		   int *created);
int wg_link_delete(struct wg *wg, const char *ifname);
int wg_link_up(struct wg *wg, int ifindex);
int wg_addr(struct wg *wg, int ifindex, const struct nbh_prefix *p, int add);
int wg_route(struct wg *wg, int ifindex, const struct nbh_prefix *p, int add);

/* Our static routes through the link (to drop stale ones). */
int wg_route_list(struct wg *wg, int ifindex, struct nbh_prefix *out, int max);
/* Addresses configured on the link (to drop stale ones). */
int wg_addr_list(struct wg *wg, int ifindex, struct nbh_prefix *out,
		 int max);

/*
 * Local addresses usable as endpoints: global or private unicast on
 * interfaces that are up, except loopback and @skip_ifindex.
 */
int local_addrs(struct wg *wg, int skip_ifindex, struct nbh_prefix *out,
		int max);

/* generic netlink "wireguard" */
int wg_set_device(struct wg *wg, const char *ifname,
		  const uint8_t *private_key, int listen_port,
		  int replace_peers, const struct wg_peer_set *peers,
		  uint32_t n_peers);
int wg_get_device(struct wg *wg, const char *ifname, struct wg_dev_info *d);
void wg_dev_info_free(struct wg_dev_info *d);
struct wg_peer_info *wg_dev_find_peer(struct wg_dev_info *d,
				      const uint8_t pubkey[WG_KEY_LEN]);

#endif
