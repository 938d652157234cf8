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

#endif /* NBCTL_UTIL_H */
