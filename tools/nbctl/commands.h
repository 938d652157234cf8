/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nbctl subcommands: one file per group, each an int cmd_X(argc, argv)
 * where argv[0] is the subcommand name. Return 0 on success, 1 on failure.
 */
#ifndef NBCTL_COMMANDS_H
#define NBCTL_COMMANDS_H

#include <stdbool.h>

extern const char *PROG_NAME;
/* Global --json: read commands print JSON instead of text. */
extern bool json_output;

int cmd_show(int argc, char **argv);
int cmd_dev(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_trace(int argc, char **argv);
/* Written by the policy and control-plane engineers (weak stubs in nbctl.c). */
int cmd_policy(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif /* NBCTL_COMMANDS_H */
