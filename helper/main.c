// SPDX-License-Identifier: GPL-2.0
/*
 * nbhelper: the nbguard node daemon.
 *
 *   nbhelper [run] [-c CONFIG] [--syslog] [-v] [--log-level LEVEL]
 *   nbhelper rotate-key | status | reconnect [-c CONFIG]
 *   nbhelper check-config [-c CONFIG]
 *   nbhelper down [-c CONFIG]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "helper.h"
#include "lib/nbgnl.h"
#include "log.h"

static struct helper helper;
static volatile sig_atomic_t sig_stop, sig_rotate, sig_reconnect;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_rotate = 1;
	else if (sig == SIGHUP)
		sig_reconnect = 1;
	else
		sig_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nbhelper [run] [-c CONFIG] [--syslog] [-v] [--log-level LEVEL]\n"
		"       nbhelper rotate-key|status|reconnect [-c CONFIG]\n"
		"       nbhelper check-config [-c CONFIG]\n"
		"       nbhelper down [-c CONFIG]\n"
		"\n"
		"The nbguard node daemon: enrolls with nbmgmt, keeps the WireGuard\n"
		"interface and the nbguard ruleset in step with the network map.\n"
		"CONFIG defaults to %s.\n", NBH_DEFAULT_CONFIG);
}

/*
 * Bring up what can be brought up without the server: key, link, guard,
 * and the last network map (so a restart never opens a gap).
 */
static int startup(struct helper *h)
{
	char b64[WG_KEY_B64_LEN];
	int created, ret;

	clock_gettime(CLOCK_MONOTONIC, &h->t_start);
	if (state_dir_prepare(h->cfg.state_dir))
		return -1;
	if (wgkey_load_or_create(h->cfg.state_dir, h->priv) ||
	    wgkey_public(h->priv, h->pub))
		return -1;
	wgkey_to_b64(h->pub, b64);
	ret = wg_open(&h->wg);
	if (ret) {
		log_err("netlink: %s", strerror(-ret));
		return -1;
	}
	ret = wg_link_ensure(&h->wg, h->cfg.ifname, &h->ifindex, &created);
	if (ret)
		return -1;
	log_info("%s %s (ifindex %d), public key %s", created ? "created" : "reusing",
		 h->cfg.ifname, h->ifindex, b64);
	ret = nbg_nl_open(&h->nbg);
	if (ret) {
		log_err("nbguard: %s (is nbguard.ko loaded?)", strerror(-ret));
		return -1;
	}
	/* guarded before any peer exists: inbound is default deny */
	if (policy_guard(h))
		return -1;
	ret = netmap_load(h, &h->map);
	if (ret < 0)
		return -1;
	/*
	 * Without a stored map, peers already on a reused interface belong to
	 * no map of ours (another identity, a wiped state dir): drop them, or
	 * they would keep talking with whatever key we now hold.
	 */
	if (wg_set_device(&h->wg, h->cfg.ifname, h->priv, h->cfg.listen_port,
			  ret != 0, NULL, 0) ||
	    wg_link_up(&h->wg, h->ifindex))
		return -1;
	if (!ret) {
		log_info("re-applying stored network map %llu (%u peers)",
			 (unsigned long long)h->map.serial, h->map.n_peers);
		h->have_map = 1;
		if (netmap_apply(h, NULL, &h->map))
			log_warn("stored network map could not be fully applied");
	}
	return 0;
}

static void run_loop(struct helper *h)
{
	time_t next_tick = 0, next_status = 0;

	while (!sig_stop) {
		struct pollfd pfd[3];
		int n = 0, conn_i = -1, timeout = 1000;
		time_t now;

		if (sig_rotate) {
			char msg[160];

			sig_rotate = 0;
			if (session_rotate_key(h, msg, sizeof(msg)))
				log_warn("rotate-key (SIGUSR1): %s", msg);
		}
		if (sig_reconnect) {
			sig_reconnect = 0;
			if (h->conn)
				session_close(h, "SIGHUP");
			h->next_connect = 0;
			h->backoff = 1;
		}
		pfd[n].fd = h->ctl_fd;
		pfd[n++].events = POLLIN;
		if (h->conn) {
			if (nbw_conn_pending(h->conn))
				timeout = 0;
			conn_i = n;
			pfd[n].fd = nbw_conn_fd(h->conn);
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			ctl_accept(h);
		if (h->conn && conn_i >= 0 &&
		    (pfd[conn_i].revents || nbw_conn_pending(h->conn)))
			session_input(h);
		session_tick(h);
		now = now_mono();
		if (now >= next_tick) {
			netmap_tick(h);
			next_tick = now + 2;
		}
		if (now >= next_status) {
			status_write(h);
			next_status = now + 5;
		}
	}
}

static int cmd_run(const char *config, int use_syslog, int level)
{
	struct helper *h = &helper;
	struct sigaction sa = { .sa_handler = on_signal };

	if (config_load(&h->cfg, config))
		return 1;
	log_init("nbhelper", level >= 0 ? level : h->cfg.log_level, use_syslog);
	h->ctl_fd = h->ctl_wait_fd = -1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (startup(h))
		return 1;
	if (ctl_listen(h))
		return 1;
	session_prepare(h);
	status_write(h);
	log_info("running; server %s, state in %s", h->cfg.server, h->cfg.state_dir);
	run_loop(h);
	/* the interface, its peers and the kernel ruleset stay: enforcement
	 * continues while we are gone, and the next start picks up */
	if (h->conn)
		nbw_conn_close(h->conn);
	h->conn = NULL;
	h->state = CONN_IDLE;
	snprintf(h->last_error, sizeof(h->last_error), "nbhelper stopped");
	status_write(h);
	log_info("stopped (interface and policy left in place)");
	OPENSSL_cleanse(h->priv, sizeof(h->priv));
	return 0;
}

static int cmd_down(const char *config)
{
	struct nbh_config c;
	struct wg wg;
	int ret;

	if (config_load(&c, config))
		return 1;
	if (wg_open(&wg))
		return 1;
	ret = wg_link_delete(&wg, c.ifname);
	wg_close(&wg);
	if (ret) {
		fprintf(stderr, "nbhelper: delete %s: %s\n", c.ifname, strerror(-ret));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "syslog", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *config = NBH_DEFAULT_CONFIG, *cmd = "run";
	int c, use_syslog = 0, level = -1;
	struct nbh_config cfg;

	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, "c:svl:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': use_syslog = 1; break;
		case 'v': level = LOG_DEBUG; break;
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "nbhelper: unknown log level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(config, use_syslog, level);
	if (!strcmp(cmd, "down"))
		return cmd_down(config);
	if (config_load(&cfg, config))
		return 1;
	if (!strcmp(cmd, "check-config")) {
		printf("%s: ok (server %s, verify %s, interface %s, state %s)\n",
		       config, cfg.server, cfg.server_name, cfg.ifname, cfg.state_dir);
		return 0;
	}
	if (!strcmp(cmd, "rotate-key") || !strcmp(cmd, "status") ||
	    !strcmp(cmd, "reconnect"))
		return ctl_client(cfg.state_dir, cmd) ? 1 : 0;
	fprintf(stderr, "nbhelper: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
