// SPDX-License-Identifier: GPL-2.0
/*
 * --policy FILE for the commands that print rule ids (stats, monitor):
 * the ids a policy compiles to map back to its rule names. The names are
 * right only if the loaded ruleset was compiled from that same file.
 */
#include <stdio.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"
#include "policy/policy.h"

struct nbp_policy *nbctl_load_policy(const char *path)
{
	struct nbp_policy *p;
	struct nbp_diag d;

	nbp_diag_init(&d);
	p = nbp_load_file(path, &d);
	/* Errors at file:line:col; warnings do not matter for names. */
	if (!p) {
		nbp_diag_print(&d, stderr);
		fprintf(stderr, "%s: cannot use policy %s for rule names\n",
			PROG_NAME, path);
	}
	nbp_diag_free(&d);
	return p;
}

const char *nbctl_rule_label(const struct nbp_policy *p, u32 rule_id,
			     bool *reverse)
{
	bool rev = false;

	if (!p || !rule_id || nbp_rule_index(p, rule_id, &rev) < 0)
		return NULL;
	if (reverse)
		*reverse = rev;
	return nbp_rule_name(p, rule_id);
}

/* "rule_name" and "reverse" members, only when the policy names the id. */
void nbctl_json_rule_name(struct json *j, const struct nbp_policy *p,
			  u32 rule_id)
{
	bool rev = false;
	const char *name = nbctl_rule_label(p, rule_id, &rev);

	if (!name)
		return;
	json_str(j, "rule_name", name);
	json_bool(j, "reverse", rev);
}
