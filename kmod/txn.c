// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: ruleset transactions. A transaction stages a ruleset
 * description in batches; commit validates, compiles and swaps it in
 * atomically. Everything is charged to the caller and bounded by the
 * module parameters; any failure frees the whole transaction.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "nbguard.h"

static u32 nbg_limit_idents(void)
{
	return min_t(u32, nbg_max_identities, NBG_MAX_IDENTITIES);
}

static u32 nbg_limit_rules(void)
{
	return min_t(u32, nbg_max_rules, NBG_MAX_RULES);
}

static u64 nbg_running_gen(struct nbg_net *nn)
{
	struct nbg_ruleset *rs;

	rs = rcu_dereference_protected(nn->ruleset,
				       lockdep_is_held(&nn->lock));
	return rs ? rs->generation : 0;
}

struct nbg_txn *nbg_txn_begin(struct nbg_net *nn, u32 portid, u64 base,
			      struct netlink_ext_ack *extack)
{
	struct nbg_txn *txn;
	int i;

	lockdep_assert_held(&nn->lock);
	for (i = 0; i < NBG_MAX_TXNS; i++)
		if (!nn->txns[i])
			break;
	if (i == NBG_MAX_TXNS) {
		NL_SET_ERR_MSG(extack, "too many open transactions in this namespace");
		return ERR_PTR(-EBUSY);
	}
	txn = kzalloc(sizeof(*txn), GFP_KERNEL_ACCOUNT);
	if (!txn) {
		NL_SET_ERR_MSG(extack, "out of memory");
		return ERR_PTR(-ENOMEM);
	}
	do {
		txn->id = ++nn->next_txn_id;
	} while (!txn->id);
	txn->portid = portid;
	txn->base_gen = base;
	nn->txns[i] = txn;
	return txn;
}

struct nbg_txn *nbg_txn_find(struct nbg_net *nn, u32 id, u32 portid,
			     struct netlink_ext_ack *extack, int *err)
{
	int i;

	lockdep_assert_held(&nn->lock);
	for (i = 0; i < NBG_MAX_TXNS; i++) {
		struct nbg_txn *txn = nn->txns[i];

		if (!txn || txn->id != id)
			continue;
		if (txn->portid != portid) {
			NL_SET_ERR_MSG(extack, "transaction belongs to another socket");
			*err = -EPERM;
			return NULL;
		}
		return txn;
	}
	NL_SET_ERR_MSG(extack, "no such transaction (unknown, committed or aborted)");
	*err = -ENOENT;
	return NULL;
}

void nbg_txn_abort(struct nbg_net *nn, struct nbg_txn *txn)
{
	int i;

	lockdep_assert_held(&nn->lock);
	for (i = 0; i < NBG_MAX_TXNS; i++)
		if (nn->txns[i] == txn)
			nn->txns[i] = NULL;
	nbg_desc_free(&txn->desc);
	kfree(txn);
}

/* Account @n * @size bytes to @txn and allocate them zeroed. */
void *nbg_txn_alloc(struct nbg_txn *txn, size_t n, size_t size,
		    struct netlink_ext_ack *extack)
{
	size_t bytes;
	void *p;

	if (check_mul_overflow(n, size, &bytes) ||
	    bytes > nbg_max_txn_bytes - min(txn->bytes, nbg_max_txn_bytes)) {
		NL_SET_ERR_MSG(extack, "transaction exceeds max_txn_bytes");
		return ERR_PTR(-E2BIG);
	}
	if (!bytes)
		return NULL;
	p = kvzalloc(bytes, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p) {
		NL_SET_ERR_MSG(extack, "out of memory");
		return ERR_PTR(-ENOMEM);
	}
	txn->bytes += bytes;
	return p;
}

/* Grow @arr (capacity *cap, @used in use) to hold @used + @more items. */
static int nbg_grow(struct nbg_txn *txn, void **arr, u32 *cap, u32 used,
		    u32 more, size_t size, struct netlink_ext_ack *extack)
{
	u32 want = used + more, ncap;
	void *p;

	if (want <= *cap)
		return 0;
	ncap = max3(want, *cap * 2, 64U);
	p = nbg_txn_alloc(txn, ncap, size, extack);
	if (IS_ERR(p))
		return PTR_ERR(p);
	if (used)
		memcpy(p, *arr, (size_t)used * size);
	kvfree(*arr);
	txn->bytes -= min_t(size_t, txn->bytes, (size_t)*cap * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

int nbg_txn_grow_idents(struct nbg_txn *txn, u32 more,
			struct netlink_ext_ack *extack)
{
	if (more > nbg_limit_idents() - txn->desc.n_idents) {
		NL_SET_ERR_MSG(extack, "too many identities (module parameter max_identities)");
		return -E2BIG;
	}
	return nbg_grow(txn, (void **)&txn->desc.idents, &txn->cap_idents,
			txn->desc.n_idents, more, sizeof(*txn->desc.idents),
			extack);
}

int nbg_txn_grow_rules(struct nbg_txn *txn, u32 more,
		       struct netlink_ext_ack *extack)
{
	if (more > nbg_limit_rules() - txn->desc.n_rules) {
		NL_SET_ERR_MSG(extack, "too many rules (module parameter max_rules)");
		return -E2BIG;
	}
	return nbg_grow(txn, (void **)&txn->desc.rules, &txn->cap_rules,
			txn->desc.n_rules, more, sizeof(*txn->desc.rules),
			extack);
}

/* Validate, compile and swap in; the transaction is gone afterwards. */
int nbg_txn_commit(struct nbg_net *nn, struct nbg_txn *txn,
		   struct netlink_ext_ack *extack)
{
	struct nbg_ruleset *rs;
	const char *err = NULL;
	u64 gen;
	int ret;

	lockdep_assert_held(&nn->lock);
	gen = nbg_running_gen(nn);
	if (gen != txn->base_gen) {
		NL_SET_ERR_MSG(extack, "ruleset changed since transaction began");
		ret = -ESTALE;
		goto out;
	}
	ret = nbg_desc_validate(&txn->desc, &err);
	if (ret) {
		nbg_set_err(extack, err ?: "invalid ruleset");
		goto out;
	}
	rs = nbg_ruleset_create(&txn->desc, txn->bytes, gen + 1, &err);
	if (!rs) {
		nbg_set_err(extack, err);
		ret = -ENOMEM;
		goto out;
	}
	nbg_ruleset_swap(nn, rs);
out:
	nbg_txn_abort(nn, txn);
	return ret;
}

/* The socket that owned these transactions is gone. */
void nbg_txn_release_portid(struct net *net, u32 portid)
{
	struct nbg_net *nn = nbg_net(net);
	int i;

	mutex_lock(&nn->lock);
	for (i = 0; i < NBG_MAX_TXNS; i++)
		if (nn->txns[i] && nn->txns[i]->portid == portid)
			nbg_txn_abort(nn, nn->txns[i]);
	mutex_unlock(&nn->lock);
}

void nbg_txn_cleanup_net(struct nbg_net *nn)
{
	int i;

	lockdep_assert_held(&nn->lock);
	for (i = 0; i < NBG_MAX_TXNS; i++)
		if (nn->txns[i])
			nbg_txn_abort(nn, nn->txns[i]);
}
