/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers around struct nbg_ruleset_desc (kmod/classifier.h) for userspace:
 * building one incrementally, deep freeing, sorting, comparing, diffing.
 *
 * Arrays inside a desc built with these helpers grow by doubling: an array
 * holding n elements has room for nbg_desc_cap(n). Code that fills a desc
 * itself and then appends with these helpers must malloc its arrays with at
 * least that capacity (or leave them NULL with n = 0). nbg_desc_free() frees
 * every array with free().
 */
#ifndef NBG_LIB_DESC_H
#define NBG_LIB_DESC_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include "kmod/classifier.h"

void nbg_desc_init(struct nbg_ruleset_desc *d);
/* Frees everything the desc owns and re-initialises it to empty. */
void nbg_desc_free(struct nbg_ruleset_desc *d);
void nbg_ident_free(struct nbg_ident_desc *i);
void nbg_rule_free(struct nbg_rule_desc *r);
void nbg_selector_free(struct nbg_selector *s);

/* Capacity an array of n elements has (0, then powers of two >= 4). */
size_t nbg_desc_cap(size_t n);

/*
 * Append a zeroed identity / rule and return it (NULL on ENOMEM). A new rule
 * is "allow in, any proto, src any, dst any, any port" with id 0; set id.
 * The returned pointer is valid until the next append to the same desc.
 */
struct nbg_ident_desc *nbg_desc_add_ident(struct nbg_ruleset_desc *d);
struct nbg_rule_desc *nbg_desc_add_rule(struct nbg_ruleset_desc *d);

/* Appenders for the inner arrays: 0 or -ENOMEM. */
int nbg_ident_add_prefix(struct nbg_ident_desc *i, const struct nbg_prefix *p);
int nbg_ident_add_group(struct nbg_ident_desc *i, u32 gid);
/* Adding an item to a selector clears its "any" flag, unless it was
 * explicitly marked any by nbg_selector_set_any (any wins in a union). */
int nbg_sel_add_ident(struct nbg_selector *s, u32 id);
int nbg_sel_add_group(struct nbg_selector *s, u32 gid);
int nbg_sel_add_prefix(struct nbg_selector *s, const struct nbg_prefix *p);
/* Mark "any": drops the items (a union with any is any). */
void nbg_selector_set_any(struct nbg_selector *s);
/* True if the selector matches everything (any, or no items at all). */
bool nbg_selector_is_any(const struct nbg_selector *s);
int nbg_rule_add_ports(struct nbg_rule_desc *r, u16 lo, u16 hi);

/* Deep copy: 0 or -ENOMEM (dst is left empty on failure). */
int nbg_desc_copy(struct nbg_ruleset_desc *dst,
		  const struct nbg_ruleset_desc *src);

/* Sort identities and rules by id (stable, deterministic). */
void nbg_desc_sort(struct nbg_ruleset_desc *d);
/*
 * Canonical form: nbg_desc_sort() plus, inside each identity/selector/rule,
 * items sorted and duplicates removed, empty selectors marked any. Two
 * descs meaning the same ruleset compare equal after this.
 */
void nbg_desc_canonicalize(struct nbg_ruleset_desc *d);

/* Lookup by id; binary search if sorted, else linear. NULL if absent. */
const struct nbg_ident_desc *nbg_desc_find_ident(const struct nbg_ruleset_desc *d, u32 id);
const struct nbg_rule_desc *nbg_desc_find_rule(const struct nbg_ruleset_desc *d, u32 id);

/* Exact structural comparison (element order matters): 0 if equal. */
int nbg_prefix_cmp(const struct nbg_prefix *a, const struct nbg_prefix *b);
int nbg_ident_cmp(const struct nbg_ident_desc *a, const struct nbg_ident_desc *b);
int nbg_rule_cmp(const struct nbg_rule_desc *a, const struct nbg_rule_desc *b);
int nbg_desc_cmp(const struct nbg_ruleset_desc *a, const struct nbg_ruleset_desc *b);

/* What changed from @old to @new, by id (both are sorted on a copy). */
struct nbg_desc_diff {
	u32 idents_added, idents_removed, idents_changed;
	u32 rules_added, rules_removed, rules_changed;
};
int nbg_desc_diff(const struct nbg_ruleset_desc *old,
		  const struct nbg_ruleset_desc *new_,
		  struct nbg_desc_diff *diff);
/* Print one line per changed id ("+ rule 5", "- identity 2", "~ rule 7"). */
int nbg_desc_diff_print(FILE *f, const struct nbg_ruleset_desc *old,
			const struct nbg_ruleset_desc *new_);

/* Prefixes: "a.b.c.d/len" or "v6addr/len" (len optional: full length). */
int nbg_prefix_parse(const char *s, struct nbg_prefix *p, const char **err);
/* Writes into buf (>= NBG_PREFIX_STRLEN), returns buf. */
#define NBG_PREFIX_STRLEN 64
const char *nbg_prefix_format(const struct nbg_prefix *p, char *buf, size_t len);
/* True if no bit beyond len is set. */
bool nbg_prefix_canonical(const struct nbg_prefix *p);

/* Protocols: "tcp" -> 6 etc; names of known numbers, NULL if none. */
int nbg_proto_parse(const char *s, u8 *proto);
const char *nbg_proto_name(u8 proto);
/* tcp, udp, sctp, udplite: the protocols that have ports */
bool nbg_proto_has_ports(u8 proto);

#endif /* NBG_LIB_DESC_H */
