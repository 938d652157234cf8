/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbhelper: the per-node daemon. One process, one poll() loop: the TLS
 * session to nbmgmt, the control socket, and timers (ping, reconnect,
 * endpoint probing, key rotation, status file).
 */
#ifndef NBH_HELPER_H
#define NBH_HELPER_H

#include <stdint.h>
#include <time.h>
#include <openssl/ssl.h>

#include "proto/wire.h"
#include "proto/tls.h"
#include "config.h"
#include "keys.h"
#include "types.h"
#include "wg.h"

struct nbg_nl;

enum conn_state {
	CONN_IDLE,		/* waiting for the next (re)connect */
	CONN_UP,		/* logged in, receiving maps */
};

/* Which endpoint candidate we are trying for a peer (signalling). */
struct ep_track {
	uint8_t pubkey[WG_KEY_LEN];
	unsigned int cand;	/* index into the peer's ENDPOINT list */
	time_t since;		/* when we set it */
	int connected;		/* saw a handshake on it */
};

struct helper {
	struct nbh_config cfg;
	struct wg wg;
	int ifindex;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct nbg_nl *nbg;

	/* the last network map applied (also in <state>/netmap) */
	struct nbw_msg map;
	int have_map;
	uint64_t ruleset_gen;		/* kernel generation we committed */
	char *ruleset_text;		/* ruleset we committed */
	uint32_t n_rules, n_idents;

	/* session */
	SSL_CTX *ctx;
	struct nbw_conn *conn;
	enum conn_state state;
	char last_error[256];
	time_t connected_since, last_update, next_connect;
	unsigned int backoff;
	uint32_t keepalive;
	time_t next_ping, last_rx;
	uint64_t ping_cookie;

	/* key rotation in flight */
	int rotating;
	uint8_t new_priv[WG_KEY_LEN], new_pub[WG_KEY_LEN];
	time_t rotate_started, next_rotate, last_rotate;
	struct timespec rotate_t0;
	unsigned int rotations;

	/* signalling */
	struct nbw_endpoint local_eps[NBW_MAX_ENDPOINTS];
	unsigned int n_local_eps;
	time_t next_ep_check;
	struct ep_track *track;
	unsigned int n_track;

	int ctl_fd;
	int ctl_wait_fd;		/* client waiting for rotate-key */
	struct timespec t_start;
	int first_packet_logged;
	volatile int stop;
};

/* netmap.c */
int netmap_apply(struct helper *h, const struct nbw_msg *old,
		 const struct nbw_msg *new_map);
void netmap_tick(struct helper *h);
int netmap_store(struct helper *h, const struct nbw_msg *m);
int netmap_load(struct helper *h, struct nbw_msg *m);

/* policy.c */
int policy_check(const char *ruleset);
int policy_commit(struct helper *h, const char *ruleset, int force);
int policy_guard(struct helper *h);

/* session.c */
int session_prepare(struct helper *h);
void session_connect(struct helper *h);
void session_input(struct helper *h);
void session_tick(struct helper *h);
void session_close(struct helper *h, const char *why);
int session_rotate_key(struct helper *h, char *msg, size_t len);
void session_report_endpoints(struct helper *h, int force);

/* ctl.c */
int ctl_listen(struct helper *h);
void ctl_accept(struct helper *h);
int ctl_client(const char *state_dir, const char *cmd);
void ctl_rotation_done(struct helper *h, int ok, const char *msg);

/* status.c */
int status_write(struct helper *h);

static inline time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static inline double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

#endif
