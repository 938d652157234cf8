/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBH_NL_H
#define NBH_NL_H

#include <libmnl/libmnl.h>
#include <stdint.h>

/* Big enough for a full dump skb from the kernel (it sizes dumps after
 * the receive buffer we offer), small enough for the stack of nobody. */
#define NL_BUF_SIZE	(64 * 1024)

struct nl {
	struct mnl_socket *sk;
	unsigned int portid;
	uint32_t seq;
	char *buf;
	char ext_msg[256];	/* extack message of the last error */
};

int nl_open(struct nl *nl, int bus);
void nl_close(struct nl *nl);
/*
 * Send @nlh (sequence number filled in) and run @cb over every reply until
 * the final ACK / NLMSG_DONE. Returns 0 or -errno; kernel error messages
 * (extack) are logged together with @what.
 */
int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
	    const char *what);
/* Resolve a generic netlink family id. */
int genl_family(struct nl *nl, const char *name, uint16_t *id);

#endif
