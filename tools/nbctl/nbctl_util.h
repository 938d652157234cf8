/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by nbctl subcommands. */
#ifndef NBCTL_UTIL_H
#define NBCTL_UTIL_H

#include "lib/nbgnl.h"

/* Open the nbguard socket, printing "nbctl: ..." and returning NULL on error. */
struct nbg_nl *nbctl_open(void);
/* Print "nbctl: <what>: <strerror>[: <extack>]" to stderr. */
void nbctl_nl_error(struct nbg_nl *nl, const char *what, int err);
/* Parse a decimal u32/u64 with range checks; false if invalid. */
bool nbctl_parse_u32(const char *s, unsigned int *out);
bool nbctl_parse_u64(const char *s, unsigned long long *out);
const char *nbctl_action_name(unsigned int action);

/* --policy FILE (rulenames.c): load it, printing errors; NULL on error. */
struct nbp_policy;
struct nbp_policy *nbctl_load_policy(const char *path);
/* Name of the policy rule a rule id came from, NULL if none (or no
 * policy); *reverse (may be NULL) says if it is the reverse half. */
const char *nbctl_rule_label(const struct nbp_policy *p, u32 rule_id,
			     bool *reverse);
struct json;
void nbctl_json_rule_name(struct json *j, const struct nbp_policy *p,
			  u32 rule_id);

/* One guarded device as a JSON object (dev show, show). */
void nbctl_json_dev(struct json *j, const struct nbg_dev *d);

#endif /* NBCTL_UTIL_H */
