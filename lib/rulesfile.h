/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The low-level ruleset text file (Documentation/ruleset-format.md):
 * parse into a struct nbg_ruleset_desc, print one back out.
 */
#ifndef NBG_LIB_RULESFILE_H
#define NBG_LIB_RULESFILE_H

#include <stdio.h>
#include <stdbool.h>
#include "lib/desc.h"

/* Optional `default in|out allow|deny` lines. Actions are NBG_ACTION_*. */
struct nbg_defaults {
	bool has_in, has_out;
	u8 in, out;
};

#define NBG_ERR_MAX 512

/*
 * Parse a ruleset. On error returns a negative errno (-EINVAL for bad
 * content, -ENOMEM, or the I/O error) and writes "FILE:LINE:COL: message"
 * (or "FILE: strerror" for I/O errors) into err; @d is then left empty.
 * @d must be initialised (nbg_desc_init) and is appended to; @defs may be
 * NULL, in which case `default` lines are an error. Besides the syntax the
 * parser checks: ids non-zero and unique, names, prefixes canonical (no
 * host bits), port ranges ordered, ports only with tcp/udp/sctp/udplite,
 * and that every `ident <id>` refers to an identity in the file.
 */
int nbg_rules_parse_file(const char *path, struct nbg_ruleset_desc *d,
			 struct nbg_defaults *defs, char *err, size_t errlen);
/* @name is used in messages; "-" for path means stdin in parse_file. */
int nbg_rules_parse_stream(FILE *f, const char *name,
			   struct nbg_ruleset_desc *d, struct nbg_defaults *defs,
			   char *err, size_t errlen);
int nbg_rules_parse_string(const char *buf, size_t len, const char *name,
			   struct nbg_ruleset_desc *d, struct nbg_defaults *defs,
			   char *err, size_t errlen);

/*
 * Print @d (and @defs if not NULL) in canonical form: default lines first,
 * then identities and rules sorted by id, each on one line in the order
 * the format documents, protocol names where known, `in`/`out` always
 * written, selectors that match anything omitted. The output parses back
 * into an equal desc. Returns 0 or -errno from the stream.
 */
int nbg_rules_print(FILE *f, const struct nbg_ruleset_desc *d,
		    const struct nbg_defaults *defs);
/* One line (no newline) into a malloc'd string; NULL on ENOMEM. */
char *nbg_rule_to_string(const struct nbg_rule_desc *r);
char *nbg_ident_to_string(const struct nbg_ident_desc *i);

#endif /* NBG_LIB_RULESFILE_H */
