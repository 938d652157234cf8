// SPDX-License-Identifier: GPL-2.0
/*
 * Applying a network map to the WireGuard device as a diff against what
 * the kernel has: only peers that were added, removed or changed are
 * touched (WGPEER_F_REMOVE_ME, WGPEER_F_REPLACE_ALLOWEDIPS,
 * WGPEER_F_UPDATE_ONLY), so sessions with unaffected peers carry on.
 * Also the overlay addresses, the routes to peers, endpoint selection
 * (signalling) and persisting the map for the next start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/wireguard.h>

#include "helper.h"
#include "log.h"

/* WireGuard rekeys every 120 s and gives up on a session after 180 s. */
#define HANDSHAKE_FRESH		180
/* Handshake retransmits go out every 5 s: after 2 tries, try the next. */
#define EP_CANDIDATE_TIME	11

static void addr_to_prefix(const struct nbw_addr *a, struct nbh_prefix *p,
			   int host)
{
	memset(p, 0, sizeof(*p));
	p->family = a->family;
	p->len = host ? (a->family == AF_INET ? 32 : 128) : a->plen;
	memcpy(&p->a, a->addr, a->family == AF_INET ? 4 : 16);
}

static void ep_to_sockaddr(const struct nbw_endpoint *e,
			   union nbh_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (e->family == AF_INET) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(e->port);
		memcpy(&sa->in.sin_addr, e->addr, 4);
	} else {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(e->port);
		memcpy(&sa->in6.sin6_addr, e->addr, 16);
	}
}

static struct ep_track *track_get(struct helper *h, const uint8_t *key)
{
	struct ep_track *t;

	for (unsigned int i = 0; i < h->n_track; i++)
		if (!memcmp(h->track[i].pubkey, key, WG_KEY_LEN))
			return &h->track[i];
	t = realloc(h->track, (h->n_track + 1) * sizeof(*t));
	if (!t)
		return NULL;
	h->track = t;
	t = &h->track[h->n_track++];
	memset(t, 0, sizeof(*t));
	memcpy(t->pubkey, key, WG_KEY_LEN);
	return t;
}

static int handshake_fresh(const struct wg_peer_info *p)
{
	return p && p->last_handshake.tv_sec &&
	       time(NULL) - p->last_handshake.tv_sec < HANDSHAKE_FRESH;
}

/*
 * The endpoint to set for a peer, or AF_UNSPEC to leave it. A peer with a
 * live session keeps whatever endpoint WireGuard uses (it roams to where
 * authenticated packets come from); otherwise we walk the candidates the
 * server relayed, one at a time.
 */
static void choose_endpoint(struct helper *h, const struct nbw_node *n,
			    const struct wg_peer_info *cur,
			    union nbh_sockaddr *out, int advance)
{
	struct ep_track *t = track_get(h, n->pubkey);
	union nbh_sockaddr sa;
	time_t now = now_mono();

	memset(out, 0, sizeof(*out));
	if (!t || !n->n_endpoints)
		return;
	if (handshake_fresh(cur)) {
		t->connected = 1;
		return;
	}
	t->connected = 0;
	if (advance && t->since && now - t->since >= EP_CANDIDATE_TIME) {
		t->cand++;
		t->since = 0;
	}
	ep_to_sockaddr(&n->endpoints[t->cand % n->n_endpoints], &sa);
	if (cur && sockaddr_eq(&cur->endpoint, &sa)) {
		if (!t->since)
			t->since = now;
		return;
	}
	*out = sa;
	t->since = now;
}

static int allowed_equal(const struct wg_peer_info *cur,
			 const struct nbh_prefix *want, uint32_t n)
{
	if (cur->n_allowed != n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j;

		for (j = 0; j < cur->n_allowed; j++)
			if (prefix_eq(&cur->allowed[j], &want[i]))
				break;
		if (j == cur->n_allowed)
			return 0;
	}
	return 1;
}

static const struct nbw_node *map_find_peer(const struct nbw_msg *m,
					    const uint8_t *key)
{
	if (!m)
		return NULL;
	for (uint32_t i = 0; i < m->n_peers; i++)
		if (!memcmp(m->peers[i].pubkey, key, WG_KEY_LEN))
			return &m->peers[i];
	return NULL;
}

static int apply_addrs(struct helper *h, const struct nbw_node *self)
{
	struct nbh_prefix cur[32], want[NBW_MAX_ADDRS];
	int n_cur, ret = 0;
	unsigned int i;
	int j;

	for (i = 0; i < self->n_addrs; i++)
		addr_to_prefix(&self->addrs[i], &want[i], 0);
	n_cur = wg_addr_list(&h->wg, h->ifindex, cur, 32);
	if (n_cur < 0)
		return n_cur;
	for (j = 0; j < n_cur; j++) {
		for (i = 0; i < self->n_addrs; i++)
			if (prefix_eq(&cur[j], &want[i]))
				break;
		if (i == self->n_addrs) {
			char b[64];

			log_info("removing stale address %s", prefix_fmt(&cur[j], b, sizeof(b)));
			wg_addr(&h->wg, h->ifindex, &cur[j], 0);
		}
	}
	for (i = 0; i < self->n_addrs; i++) {
		for (j = 0; j < n_cur; j++)
			if (prefix_eq(&cur[j], &want[i]))
				break;
		if (j < n_cur)
			continue;
		ret = wg_addr(&h->wg, h->ifindex, &want[i], 1);
		if (ret) {
			char b[64];

			log_err("add address %s: %s", prefix_fmt(&want[i], b, sizeof(b)),
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int node_has_addr(const struct nbw_node *n, const struct nbw_addr *a)
{
	for (unsigned int i = 0; i < n->n_addrs; i++)
		if (n->addrs[i].family == a->family &&
		    !memcmp(n->addrs[i].addr, a->addr, a->family == AF_INET ? 4 : 16))
			return 1;
	return 0;
}

static int map_has_addr(const struct nbw_msg *m, const struct nbw_addr *a)
{
	for (uint32_t i = 0; i < m->n_peers; i++)
		if (node_has_addr(&m->peers[i], a))
			return 1;
	return 0;
}

/*
 * A host route per peer address. The overlay prefix route that comes with
 * our own address already keeps overlay traffic off the underlay; these
 * make the routing table say which peers exist, and carry peers whose
 * addresses lie outside our prefix.
 */
static void apply_routes(struct helper *h, const struct nbw_msg *old,
			 const struct nbw_msg *new_map)
{
	struct nbh_prefix p;

	if (!old) {
		/* first map since start: whatever we routed before and the
		 * map no longer has goes (the map may have changed while we
		 * were not running) */
		struct nbh_prefix *cur = calloc(4096, sizeof(*cur));
		int n = cur ? wg_route_list(&h->wg, h->ifindex, cur, 4096) : -1;

		for (int i = 0; i < n; i++) {
			struct nbw_addr a = { .family = cur[i].family };

			if (cur[i].len != (cur[i].family == AF_INET ? 32 : 128))
				continue;
			memcpy(a.addr, &cur[i].a, cur[i].family == AF_INET ? 4 : 16);
			if (!map_has_addr(new_map, &a))
				wg_route(&h->wg, h->ifindex, &cur[i], 0);
		}
		free(cur);
	}
	if (old) {
		for (uint32_t i = 0; i < old->n_peers; i++)
			for (unsigned int k = 0; k < old->peers[i].n_addrs; k++) {
				const struct nbw_addr *a = &old->peers[i].addrs[k];

				if (map_has_addr(new_map, a))
					continue;
				addr_to_prefix(a, &p, 1);
				wg_route(&h->wg, h->ifindex, &p, 0);
			}
	}
	for (uint32_t i = 0; i < new_map->n_peers; i++)
		for (unsigned int k = 0; k < new_map->peers[i].n_addrs; k++) {
			const struct nbw_addr *a = &new_map->peers[i].addrs[k];
			int ret;

			if (old && map_has_addr(old, a))
				continue;
			addr_to_prefix(a, &p, 1);
			ret = wg_route(&h->wg, h->ifindex, &p, 1);
			if (ret) {
				char b[64];

				log_warn("route %s: %s", prefix_fmt(&p, b, sizeof(b)),
					 strerror(-ret));
			}
		}
}

static int apply_peers(struct helper *h, const struct nbw_msg *m)
{
	struct wg_dev_info dev;
	struct wg_peer_set *set;
	struct nbh_prefix (*allowed)[NBW_MAX_ADDRS];
	uint32_t n = 0, added = 0, removed = 0, changed = 0;
	int ret;

	ret = wg_get_device(&h->wg, h->cfg.ifname, &dev);
	if (ret)
		return ret;
	set = calloc(dev.n_peers + m->n_peers + 1, sizeof(*set));
	allowed = calloc(m->n_peers + 1, sizeof(*allowed));
	if (!set || !allowed) {
		ret = -ENOMEM;
		goto out;
	}
	/* removals first: a peer whose key changed frees its addresses */
	for (uint32_t i = 0; i < dev.n_peers; i++) {
		if (map_find_peer(m, dev.peers[i].pubkey))
			continue;
		memcpy(set[n].pubkey, dev.peers[i].pubkey, WG_KEY_LEN);
		set[n++].flags = WGPEER_F_REMOVE_ME;
		removed++;
	}
	for (uint32_t i = 0; i < m->n_peers; i++) {
		const struct nbw_node *p = &m->peers[i];
		struct wg_peer_info *cur = wg_dev_find_peer(&dev, p->pubkey);
		struct wg_peer_set *s = &set[n];
		int dirty = 0;

		for (unsigned int k = 0; k < p->n_addrs; k++)
			addr_to_prefix(&p->addrs[k], &allowed[i][k], 1);
		memcpy(s->pubkey, p->pubkey, WG_KEY_LEN);
		choose_endpoint(h, p, cur, &s->endpoint, 0);
		if (s->endpoint.sa.sa_family)
			dirty = 1;
		if (!cur || !allowed_equal(cur, allowed[i], p->n_addrs)) {
			s->flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
			s->set_allowed = 1;
			s->n_allowed = p->n_addrs;
			s->allowed = allowed[i];
			dirty = 1;
		}
		if (!cur || cur->keepalive != h->cfg.keepalive) {
			s->set_keepalive = 1;
			s->keepalive = h->cfg.keepalive;
			dirty = 1;
		}
		if (!dirty)
			continue;
		if (cur) {
			/* never re-create a peer that vanished meanwhile */
			s->flags |= WGPEER_F_UPDATE_ONLY;
			changed++;
		} else {
			added++;
		}
		n++;
	}
	if (n)
		ret = wg_set_device(&h->wg, h->cfg.ifname, NULL, -1, 0, set, n);
	if (!ret && (added || removed || changed))
		log_info("peers: %u added, %u removed, %u updated, %u unchanged",
			 added, removed, changed,
			 m->n_peers - added - changed);
out:
	free(set);
	free(allowed);
	wg_dev_info_free(&dev);
	return ret;
}

int netmap_apply(struct helper *h, const struct nbw_msg *old,
		 const struct nbw_msg *m)
{
	const char *rs = m->ruleset ? m->ruleset : "";
	int ret;

	/* refuse a map with a bad ruleset before touching anything */
	ret = policy_check(rs);
	if (ret)
		return ret;
	ret = apply_addrs(h, &m->self);
	if (ret)
		return ret;
	ret = apply_peers(h, m);
	if (ret)
		return ret;
	apply_routes(h, old, m);
	/* forget endpoint probing state of peers that are gone */
	for (unsigned int i = 0; i < h->n_track;) {
		if (!map_find_peer(m, h->track[i].pubkey))
			h->track[i] = h->track[--h->n_track];
		else
			i++;
	}
	/* peers first: a new peer is denied by default until its rules
	 * land, and a removed one is gone before its rules are */
	return policy_commit(h, rs, 0);
}

/*
 * Every few seconds: peers without a live session move on to their next
 * endpoint candidate; and note the first handshake after start (the
 * "helper start to first packet" figure).
 */
void netmap_tick(struct helper *h)
{
	struct wg_dev_info dev;
	struct wg_peer_set *set;
	uint32_t n = 0;

	if (!h->have_map || wg_get_device(&h->wg, h->cfg.ifname, &dev))
		return;
	set = calloc(h->map.n_peers + 1, sizeof(*set));
	if (!set)
		goto out;
	for (uint32_t i = 0; i < h->map.n_peers; i++) {
		const struct nbw_node *p = &h->map.peers[i];
		struct wg_peer_info *cur = wg_dev_find_peer(&dev, p->pubkey);

		if (!cur)
			continue;
		if (!h->first_packet_logged && handshake_fresh(cur) &&
		    cur->rx_bytes) {
			h->first_packet_logged = 1;
			log_info("first handshake (with %s) %.0f ms after start",
				 p->name, ms_since(&h->t_start));
		}
		choose_endpoint(h, p, cur, &set[n].endpoint, 1);
		if (!set[n].endpoint.sa.sa_family)
			continue;
		if (log_level_enabled(LOG_DEBUG)) {
			char b[80];

			log_debug("peer %s: trying endpoint %s", p->name,
				  sockaddr_fmt(&set[n].endpoint, b, sizeof(b)));
		}
		memcpy(set[n].pubkey, p->pubkey, WG_KEY_LEN);
		set[n++].flags = WGPEER_F_UPDATE_ONLY;
	}
	if (n)
		wg_set_device(&h->wg, h->cfg.ifname, NULL, -1, 0, set, n);
	free(set);
out:
	wg_dev_info_free(&dev);
}

int netmap_store(struct helper *h, const struct nbw_msg *m)
{
	struct nbw_buf b = { 0 };
	char err[256];
	int ret;

	if (nbw_msg_encode(m, &b, err, sizeof(err))) {
		log_err("cannot encode network map: %s", err);
		return -1;
	}
	ret = state_write_file(h->cfg.state_dir, "netmap", b.data, b.len);
	nbw_buf_free(&b);
	return ret;
}

/* The stored map is the server's own NETMAP frame, decoded as strictly. */
int netmap_load(struct helper *h, struct nbw_msg *m)
{
	char *buf, err[256] = "";
	size_t len, flen = 0;
	int ret;

	ret = state_read_file(h->cfg.state_dir, "netmap", &buf, &len);
	if (ret)
		return ret == -ENOENT ? 1 : ret;
	if (nbw_frame_check((uint8_t *)buf, len, &flen, err, sizeof(err)) != 1 ||
	    flen != len ||
	    nbw_msg_decode((uint8_t *)buf, len, m, err, sizeof(err)) ||
	    m->type != NBW_MSG_NETMAP) {
		log_err("%s/netmap: unusable (%s), ignoring it", h->cfg.state_dir,
			flen != len ? "truncated" : err);
		nbw_msg_free(m);
		free(buf);
		return 1;
	}
	free(buf);
	return 0;
}
