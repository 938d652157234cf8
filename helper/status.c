// SPDX-License-Identifier: GPL-2.0
/*
 * <state_dir>/status: what `nbctl status` shows. Written atomically
 * (tmp + rename) on every change and every few seconds, one "key value"
 * per line, then one "peer" line per peer:
 *
 *   peer <name> <public key> <endpoint|-> <last handshake, unix s|0>
 *        <rx bytes> <tx bytes> <addr>[,<addr>...]
 *
 * Format version in the first line: "nbhelper-status 1".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"

int status_write(struct helper *h)
{
	struct wg_dev_info dev = { 0 };
	char *buf = NULL, b64[WG_KEY_B64_LEN], tmp[128];
	size_t len = 0;
	FILE *f;
	int have_dev, ret;

	f = open_memstream(&buf, &len);
	if (!f)
		return -1;
	have_dev = !wg_get_device(&h->wg, h->cfg.ifname, &dev);
	wgkey_to_b64(h->pub, b64);
	fprintf(f, "nbhelper-status 1\n");
	fprintf(f, "pid %d\n", getpid());
	fprintf(f, "written %lld\n", (long long)time(NULL));
	fprintf(f, "state %s\n", h->state == CONN_UP ? "connected" : "disconnected");
	fprintf(f, "server %s\n", h->cfg.server);
	fprintf(f, "name %s\n", h->have_map ? h->map.self.name : h->cfg.name);
	fprintf(f, "interface %s\n", h->cfg.ifname);
	fprintf(f, "public_key %s\n", b64);
	fprintf(f, "listen_port %u\n", have_dev ? dev.listen_port : h->cfg.listen_port);
	fprintf(f, "addresses");
	if (h->have_map)
		for (unsigned int i = 0; i < h->map.self.n_addrs; i++)
			fprintf(f, " %s", nbw_addr_str(&h->map.self.addrs[i], tmp, sizeof(tmp)));
	fprintf(f, "\n");
	fprintf(f, "serial %llu\n", h->have_map ? (unsigned long long)h->map.serial : 0ULL);
	fprintf(f, "last_update %lld\n", (long long)h->last_update);
	fprintf(f, "connected_since %lld\n",
		(long long)(h->state == CONN_UP ? h->connected_since : 0));
	fprintf(f, "last_error %s\n", h->last_error[0] ? h->last_error : "-");
	fprintf(f, "ruleset_generation %llu\n", (unsigned long long)h->ruleset_gen);
	fprintf(f, "identities %u\n", h->n_idents);
	fprintf(f, "rules %u\n", h->n_rules);
	fprintf(f, "rotations %u\n", h->rotations);
	fprintf(f, "last_rotation %lld\n", (long long)h->last_rotate);
	for (uint32_t i = 0; h->have_map && i < h->map.n_peers; i++) {
		const struct nbw_node *p = &h->map.peers[i];
		struct wg_peer_info *w = have_dev ? wg_dev_find_peer(&dev, p->pubkey) : NULL;

		wgkey_to_b64(p->pubkey, b64);
		fprintf(f, "peer %s %s ", p->name, b64);
		if (w && w->endpoint.sa.sa_family)
			fprintf(f, "%s", sockaddr_fmt(&w->endpoint, tmp, sizeof(tmp)));
		else
			fprintf(f, "-");
		fprintf(f, " %lld %llu %llu ",
			w ? (long long)w->last_handshake.tv_sec : 0LL,
			w ? (unsigned long long)w->rx_bytes : 0ULL,
			w ? (unsigned long long)w->tx_bytes : 0ULL);
		for (unsigned int k = 0; k < p->n_addrs; k++)
			fprintf(f, "%s%s", k ? "," : "",
				nbw_addr_host_str(&p->addrs[k], tmp, sizeof(tmp)));
		if (!p->n_addrs)
			fprintf(f, "-");
		fprintf(f, "\n");
	}
	fclose(f);
	if (have_dev)
		wg_dev_info_free(&dev);
	ret = state_write_file(h->cfg.state_dir, "status", buf, len);
	free(buf);
	return ret;
}
