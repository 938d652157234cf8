// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: the running ruleset of a namespace. A compiled classifier, the
 * description it came from (for dumps) and per-CPU counters, published
 * with RCU and freed in process context after a grace period.
 */
#include <linux/bsearch.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "nbguard.h"

static void nbg_sel_free(struct nbg_selector *s)
{
	kvfree(s->idents);
	kvfree(s->groups);
	kvfree(s->prefixes);
}

void nbg_desc_free(struct nbg_ruleset_desc *d)
{
	u32 i;

	for (i = 0; i < d->n_idents; i++) {
		kvfree(d->idents[i].groups);
		kvfree(d->idents[i].prefixes);
	}
	for (i = 0; i < d->n_rules; i++) {
		nbg_sel_free(&d->rules[i].src);
		nbg_sel_free(&d->rules[i].dst);
		kvfree(d->rules[i].ports);
	}
	kvfree(d->idents);
	kvfree(d->rules);
	memset(d, 0, sizeof(*d));
}

static size_t nbg_counters_size(u32 n_rules)
{
	/* n_rules fits in u32 and is bounded by max_rules, so no overflow. */
	return struct_size((struct nbg_pcpu_counters *)NULL, c,
			   (size_t)n_rules + 2);
}

static void nbg_counters_free(struct nbg_pcpu_counters * __percpu *ctrs)
{
	int cpu;

	if (!ctrs)
		return;
	for_each_possible_cpu(cpu)
		kvfree(*per_cpu_ptr(ctrs, cpu));
	free_percpu(ctrs);
}

/*
 * The per-CPU counter block can be megabytes for large rulesets, beyond
 * what the percpu allocator serves, so each CPU gets its own kvmalloc'd
 * block on its node and the percpu area holds only the pointer.
 */
static struct nbg_pcpu_counters * __percpu *nbg_counters_alloc(u32 n_rules)
{
	struct nbg_pcpu_counters * __percpu *ctrs;
	struct nbg_pcpu_counters *pc;
	size_t size = nbg_counters_size(n_rules);
	int cpu;

	ctrs = alloc_percpu_gfp(struct nbg_pcpu_counters *,
				GFP_KERNEL_ACCOUNT);
	if (!ctrs)
		return NULL;
	for_each_possible_cpu(cpu) {
		pc = kvzalloc_node(size, GFP_KERNEL_ACCOUNT, cpu_to_node(cpu));
		if (!pc) {
			nbg_counters_free(ctrs);
			return NULL;
		}
		u64_stats_init(&pc->syncp);
		*per_cpu_ptr(ctrs, cpu) = pc;
	}
	return ctrs;
}

static void nbg_ruleset_free_work(struct work_struct *work)
{
	struct nbg_ruleset *rs = container_of(to_rcu_work(work),
					      struct nbg_ruleset, free_work);

	nbg_ruleset_destroy(rs);
}

/*
 * Build a ruleset from @desc. On success the ruleset owns the contents of
 * @desc (and @desc is zeroed); on failure @desc is left to the caller.
 */
struct nbg_ruleset *nbg_ruleset_create(struct nbg_ruleset_desc *desc,
				       size_t desc_bytes, u64 generation,
				       const char **err)
{
	struct nbg_ruleset *rs;

	*err = NULL;
	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs)
		goto err_nomem;
	rs->cls = nbg_classifier_build(desc, err);
	if (!rs->cls)
		goto err_free;
	rs->counters = nbg_counters_alloc(desc->n_rules);
	if (!rs->counters)
		goto err_cls;
	rs->generation = generation;
	rs->n_idents = desc->n_idents;
	rs->n_rules = desc->n_rules;
	rs->desc = *desc;
	rs->desc_bytes = desc_bytes;
	memset(desc, 0, sizeof(*desc));
	INIT_RCU_WORK(&rs->free_work, nbg_ruleset_free_work);
	return rs;

err_cls:
	nbg_classifier_free(rs->cls);
err_free:
	kfree(rs);
err_nomem:
	if (!*err)
		*err = "out of memory building the ruleset";
	return NULL;
}

void nbg_ruleset_destroy(struct nbg_ruleset *rs)
{
	if (!rs)
		return;
	nbg_counters_free(rs->counters);
	nbg_classifier_free(rs->cls);
	nbg_desc_free(&rs->desc);
	kfree(rs);
}

struct nbg_id_index {
	u32 id, index;
};

static int nbg_id_cmp(const void *a, const void *b)
{
	u32 x = ((const struct nbg_id_index *)a)->id;
	u32 y = ((const struct nbg_id_index *)b)->id;

	return x < y ? -1 : x > y;
}

/* Add counter @from of @src into counter @to of @dst on every CPU. */
static void nbg_counter_carry(struct nbg_ruleset *dst, u32 to,
			      const struct nbg_ruleset *src, u32 from)
{
	const struct nbg_pcpu_counters *s;
	struct nbg_pcpu_counters *d;
	int cpu;

	for_each_possible_cpu(cpu) {
		s = *per_cpu_ptr(src->counters, cpu);
		d = *per_cpu_ptr(dst->counters, cpu);
		u64_stats_add(&d->c[to].packets,
			      u64_stats_read(&s->c[from].packets));
		u64_stats_add(&d->c[to].bytes, u64_stats_read(&s->c[from].bytes));
	}
}

/*
 * A rule that keeps its id across a commit keeps its counters, and so do
 * the defaults: a control plane that reloads the policy on every change
 * must not wipe what `nbctl stats` shows. @rs is not published yet, so
 * nothing else writes its counters. Packets the old ruleset counts after
 * this copy and before the swap are not carried (a window of one swap).
 * Without memory for the id index, only the defaults are carried.
 */
static void nbg_counters_carry(struct nbg_ruleset *rs,
			       const struct nbg_ruleset *old)
{
	struct nbg_id_index *idx, key, *hit;
	u32 i, d;

	for (d = NBG_DIR_IN; d <= NBG_DIR_OUT; d++)
		nbg_counter_carry(rs, nbg_default_index(rs, d), old,
				  nbg_default_index(old, d));
	if (!old->n_rules || !rs->n_rules)
		return;
	idx = kvmalloc_array(old->n_rules, sizeof(*idx),
			     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!idx)
		return;
	for (i = 0; i < old->n_rules; i++) {
		idx[i].id = old->desc.rules[i].id;
		idx[i].index = i;
	}
	sort(idx, old->n_rules, sizeof(*idx), nbg_id_cmp, NULL);
	for (i = 0; i < rs->n_rules; i++) {
		key.id = rs->desc.rules[i].id;
		hit = bsearch(&key, idx, old->n_rules, sizeof(*idx), nbg_id_cmp);
		if (hit)
			nbg_counter_carry(rs, i, old, hit->index);
		if (!(i & 1023))
			cond_resched();
	}
	kvfree(idx);
}

/* Publish @rs; the old ruleset is freed once no packet can still see it. */
void nbg_ruleset_swap(struct nbg_net *nn, struct nbg_ruleset *rs)
{
	struct nbg_ruleset *old;

	old = rcu_dereference_protected(nn->ruleset,
					lockdep_is_held(&nn->lock));
	if (old)
		nbg_counters_carry(rs, old);
	old = rcu_replace_pointer(nn->ruleset, rs, lockdep_is_held(&nn->lock));
	if (old)
		queue_rcu_work(nbg_wq, &old->free_work);
}

int nbg_ruleset_flush(struct nbg_net *nn, const char **err)
{
	struct nbg_ruleset_desc empty = {};
	struct nbg_ruleset *old, *rs;

	old = rcu_dereference_protected(nn->ruleset,
					lockdep_is_held(&nn->lock));
	rs = nbg_ruleset_create(&empty, 0, old ? old->generation + 1 : 0, err);
	if (!rs)
		return -ENOMEM;
	nbg_ruleset_swap(nn, rs);
	return 0;
}

size_t nbg_ruleset_mem(const struct nbg_ruleset *rs)
{
	return sizeof(*rs) + nbg_classifier_mem(rs->cls) + rs->desc_bytes +
	       num_possible_cpus() * nbg_counters_size(rs->n_rules);
}

/* Packet path: the caller is in an RCU read section. */
void nbg_ruleset_count(const struct nbg_ruleset *rs, u32 index,
		       unsigned int len)
{
	struct nbg_pcpu_counters *pc;
	unsigned long flags;

	/* Output hooks may run preemptible; stay on one CPU's block. */
	preempt_disable();
	pc = this_cpu_read(*rs->counters);
	flags = u64_stats_update_begin_irqsave(&pc->syncp);
	u64_stats_inc(&pc->c[index].packets);
	u64_stats_add(&pc->c[index].bytes, len);
	u64_stats_update_end_irqrestore(&pc->syncp, flags);
	preempt_enable();
}

void nbg_ruleset_read_counter(const struct nbg_ruleset *rs, u32 index,
			      u64 *packets, u64 *bytes)
{
	const struct nbg_pcpu_counters *pc;
	unsigned int start;
	u64 p, b;
	int cpu;

	*packets = 0;
	*bytes = 0;
	for_each_possible_cpu(cpu) {
		pc = *per_cpu_ptr(rs->counters, cpu);
		do {
			start = u64_stats_fetch_begin(&pc->syncp);
			p = u64_stats_read(&pc->c[index].packets);
			b = u64_stats_read(&pc->c[index].bytes);
		} while (u64_stats_fetch_retry(&pc->syncp, start));
		*packets += p;
		*bytes += b;
	}
}

void nbg_ruleset_reset_counters(const struct nbg_ruleset *rs)
{
	struct nbg_pcpu_counters *pc;
	u32 i, n = rs->n_rules + 2;
	int cpu;

	for_each_possible_cpu(cpu) {
		pc = *per_cpu_ptr(rs->counters, cpu);
		for (i = 0; i < n; i++) {
			u64_stats_set(&pc->c[i].packets, 0);
			u64_stats_set(&pc->c[i].bytes, 0);
		}
		cond_resched();
	}
}

/* Classify and apply the namespace default when no rule matched. */
void nbg_classify_full(const struct nbg_net *nn, const struct nbg_ruleset *rs,
		       const struct nbg_pkt *p, struct nbg_verdict *v)
{
	nbg_classify(rs->cls, p, v);
	if (v->action != NBG_ACTION_NONE)
		return;
	v->action = p->direction == NBG_DIR_OUT ? READ_ONCE(nn->default_out) :
						  READ_ONCE(nn->default_in);
	v->rule_id = 0;
	v->rule_index = nbg_default_index(rs, p->direction);
}
