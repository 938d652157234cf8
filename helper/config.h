/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBH_CONFIG_H
#define NBH_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdint.h>

#define NBH_DEFAULT_CONFIG	"/etc/nbguard/helper.yaml"
#define NBH_DEFAULT_STATE_DIR	"/var/lib/nbhelper"
#define NBH_DEFAULT_IFNAME	"nbg0"
#define NBH_DEFAULT_PORT	51820
#define NBH_NAME_MAX		64

struct nbh_config {
	char path[PATH_MAX];
	char server[256];		/* host:port of nbmgmt */
	char ca_file[PATH_MAX];		/* CA that signed the server's cert */
	char server_name[256];		/* name to verify in the server cert */
	char ifname[IFNAMSIZ];
	uint16_t listen_port;
	char setup_key[128];		/* only needed until enrolled */
	char state_dir[PATH_MAX];
	char name[NBH_NAME_MAX];	/* requested node name, default hostname */
	unsigned int rotate_interval;	/* seconds, 0 = never */
	unsigned int keepalive;		/* persistent keepalive, seconds */
	unsigned int backoff_max;	/* reconnect backoff cap, seconds */
	int log_level;
	int outbound;			/* guard outbound traffic too */
};

/*
 * Load @path into @c (defaults for keys that are absent). On error returns
 * -1 and prints "file:line:col: message" to stderr.
 */
int config_load(struct nbh_config *c, const char *path);
void config_defaults(struct nbh_config *c);

#endif
