// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the nbctl subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"

struct nbg_nl *nbctl_open(void)
{
	struct nbg_nl *nl;
	int ret = nbg_nl_open(&nl);

	if (ret == -ENOENT) {
		fprintf(stderr, "%s: the nbguard generic netlink family is not available (is nbguard.ko loaded?)\n",
			PROG_NAME);
		return NULL;
	}
	if (ret) {
		fprintf(stderr, "%s: cannot open the nbguard netlink socket: %s\n",
			PROG_NAME, strerror(-ret));
		return NULL;
	}
	return nl;
}

void nbctl_nl_error(struct nbg_nl *nl, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG_NAME, what, nbg_nl_strerror(nl, err));
}

bool nbctl_parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !*end && !errno;
}

bool nbctl_parse_u32(const char *s, unsigned int *out)
{
	unsigned long long v;

	if (!nbctl_parse_u64(s, &v) || v > 0xffffffffULL)
		return false;
	*out = v;
	return true;
}

const char *nbctl_action_name(unsigned int action)
{
	switch (action) {
	case NBG_ACTION_ALLOW: return "allow";
	case NBG_ACTION_DENY: return "deny";
	default: return "none";
	}
}

void nbctl_json_dev(struct json *j, const struct nbg_dev *d)
{
	json_obj_begin(j, NULL);
	json_str(j, "ifname", d->ifname);
	json_u64(j, "ifindex", d->ifindex);
	json_str(j, "kind", d->kind);
	json_bool(j, "outbound", d->flags & NBG_DEV_F_OUTBOUND);
	json_bool(j, "any_kind", d->flags & NBG_DEV_F_ANY_KIND);
	json_obj_end(j);
}
