/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers for the classifier's host tests and benchmark: a tiny
 * ruleset text reader, deliberately independent of lib/ so the tests do not
 * share code (or bugs) with what they check. KTAP output is
 * selftests/ktap.h, included here for the tests' convenience.
 */
#ifndef _NBG_TESTLIB_H
#define _NBG_TESTLIB_H

#include <stdio.h>
#include "kmod/classifier.h"
#include "selftests/ktap.h"

/*
 * Reads lines of the ruleset file format (Documentation/ruleset-format.md;
 * names optional, ';' also ends a line) into @d, appending. Returns 0, or
 * -1 after printing the offending line. Only what tests need; no default
 * lines.
 */
int tl_desc_parse(struct nbg_ruleset_desc *d, const char *text);
void tl_desc_free(struct nbg_ruleset_desc *d);

/* Append helpers used by generators. */
struct nbg_ident_desc *tl_add_ident(struct nbg_ruleset_desc *d, u32 id);
struct nbg_rule_desc *tl_add_rule(struct nbg_ruleset_desc *d, u32 id,
				  u8 action, u8 dir);
void tl_sel_add_ident(struct nbg_selector *s, u32 id);
void tl_sel_add_group(struct nbg_selector *s, u32 gid);
void tl_sel_add_prefix(struct nbg_selector *s, const struct nbg_prefix *p);
void tl_ident_add_group(struct nbg_ident_desc *i, u32 gid);
void tl_ident_add_prefix(struct nbg_ident_desc *i, const struct nbg_prefix *p);
void tl_rule_add_ports(struct nbg_rule_desc *r, u16 lo, u16 hi);

/* "10.0.0.0/8", "fd00::1" (full length): 0 or -1. */
int tl_prefix(struct nbg_prefix *p, const char *s);

/* "in|out PROTO SADDR DADDR [DPORT]": PROTO is a name or number. */
void tl_pkt(struct nbg_pkt *p, const char *spec);

/* malloc that aborts: tests have nothing sensible to do without memory */
void *tl_alloc(size_t n);

#endif /* _NBG_TESTLIB_H */
