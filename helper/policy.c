// SPDX-License-Identifier: GPL-2.0
/*
 * Committing this node's policy slice to nbguard.ko. The server sends the
 * slice already compiled, as ruleset text (Documentation/ruleset-format.md);
 * it is parsed and checked here, then loaded as one transaction based on
 * the generation the kernel runs, so the kernel swaps from the old ruleset
 * to the new one atomically and never runs an empty one in between.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "lib/nbgnl.h"
#include "lib/rulesfile.h"
#include "log.h"

int policy_check(const char *text)
{
	struct nbg_ruleset_desc d;
	struct nbg_defaults defs = { 0 };
	char err[NBG_ERR_MAX];
	int ret;

	nbg_desc_init(&d);
	ret = nbg_rules_parse_string(text, strlen(text), "ruleset", &d, &defs,
				     err, sizeof(err));
	if (ret)
		log_err("server sent an invalid ruleset: %s", err);
	nbg_desc_free(&d);
	return ret;
}

/* Does the kernel run @d at generation @gen right now? */
static int kernel_has(struct helper *h, const struct nbg_ruleset_desc *d,
		      u64 gen)
{
	struct nbg_ruleset_desc cur, want;
	u64 cur_gen = 0;
	int same = 0;

	nbg_desc_init(&cur);
	nbg_desc_init(&want);
	if (nbg_nl_dump_ruleset(h->nbg, &cur, &cur_gen) || cur_gen != gen ||
	    nbg_desc_copy(&want, d))
		goto out;
	nbg_desc_canonicalize(&cur);
	nbg_desc_canonicalize(&want);
	same = !nbg_desc_cmp(&cur, &want);
out:
	nbg_desc_free(&cur);
	nbg_desc_free(&want);
	return same;
}

static int set_defaults(struct helper *h, const struct nbg_defaults *defs)
{
	struct nbg_config cfg = { 0 };
	int ret;

	if (defs->has_in) {
		cfg.mask |= NBG_CFG_DEFAULT_IN;
		cfg.default_in = defs->in;
	}
	if (defs->has_out) {
		cfg.mask |= NBG_CFG_DEFAULT_OUT;
		cfg.default_out = defs->out;
	}
	if (!cfg.mask)
		return 0;
	ret = nbg_nl_set_config(h->nbg, &cfg);
	if (ret)
		log_err("nbguard set defaults: %s", nbg_nl_strerror(h->nbg, ret));
	return ret;
}

int policy_commit(struct helper *h, const char *text, int force)
{
	struct nbg_ruleset_desc d;
	struct nbg_defaults defs = { 0 };
	struct nbg_status st;
	struct nbg_load_opts opts = { 0 };
	struct timespec t0;
	char err[NBG_ERR_MAX];
	u64 gen = 0;
	int ret, tries = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = nbg_nl_get_status(h->nbg, &st);
	if (ret) {
		log_err("nbguard status: %s", nbg_nl_strerror(h->nbg, ret));
		return ret;
	}
	/* unchanged text and nobody else touched the kernel: nothing to do */
	if (!force && h->ruleset_text && !strcmp(h->ruleset_text, text) &&
	    st.generation == h->ruleset_gen)
		return 0;

	nbg_desc_init(&d);
	ret = nbg_rules_parse_string(text, strlen(text), "ruleset", &d, &defs,
				     err, sizeof(err));
	if (ret) {
		log_err("server sent an invalid ruleset: %s", err);
		goto out;
	}
	if (!h->ruleset_text && kernel_has(h, &d, st.generation)) {
		/* restart: the kernel still enforces exactly this ruleset */
		log_info("kernel already enforces this ruleset (generation %llu), kept",
			 (unsigned long long)st.generation);
		gen = st.generation;
		goto adopt;
	}
	do {
		/* based on what runs now: a concurrent writer makes us
		 * retry on top of its result instead of silently racing */
		opts.expect_gen = &st.generation;
		ret = nbg_nl_load(h->nbg, &d, &opts, &gen);
		if (ret != -ESTALE)
			break;
		ret = nbg_nl_get_status(h->nbg, &st);
	} while (!ret && ++tries < 3);
	if (ret) {
		log_err("nbguard commit: %s", nbg_nl_strerror(h->nbg, ret));
		goto out;
	}
adopt:
	ret = set_defaults(h, &defs);
	free(h->ruleset_text);
	h->ruleset_text = strdup(text);
	h->ruleset_gen = gen;
	h->n_idents = d.n_idents;
	h->n_rules = d.n_rules;
	if (gen != st.generation)
		log_info("ruleset committed: %u identities, %u rules, generation %llu (%.1f ms)",
			 d.n_idents, d.n_rules, (unsigned long long)gen, ms_since(&t0));
out:
	nbg_desc_free(&d);
	return ret;
}

/* Put the interface under nbguard: from now on inbound is default deny. */
int policy_guard(struct helper *h)
{
	int ret = nbg_nl_dev_add(h->nbg, h->cfg.ifname,
				 h->cfg.outbound ? NBG_DEV_F_OUTBOUND : 0);

	if (ret == -EEXIST)
		return 0;
	if (ret)
		log_err("nbguard dev add %s: %s", h->cfg.ifname,
			nbg_nl_strerror(h->nbg, ret));
	else
		log_info("%s is guarded by nbguard", h->cfg.ifname);
	return ret;
}
