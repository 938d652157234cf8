/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference matcher for the classifier tests: a linear scan written
 * straight from the semantics in uapi/nbguard.h, sharing no code with
 * kmod/classifier.c.
 */
#ifndef _NBG_REFMATCH_H
#define _NBG_REFMATCH_H

#include "kmod/classifier.h"

void ref_classify(const struct nbg_ruleset_desc *d, const struct nbg_pkt *p,
		  struct nbg_verdict *v);

#endif /* _NBG_REFMATCH_H */
