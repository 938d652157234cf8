// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: module init/exit and per-namespace state.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "nbguard.h"

unsigned int nbg_max_identities = 262144;
module_param_named(max_identities, nbg_max_identities, uint, 0644);
MODULE_PARM_DESC(max_identities, "maximum identities in one ruleset");

unsigned int nbg_max_rules = 262144;
module_param_named(max_rules, nbg_max_rules, uint, 0644);
MODULE_PARM_DESC(max_rules, "maximum rules in one ruleset");

unsigned long nbg_max_txn_bytes = 256UL << 20;
module_param_named(max_txn_bytes, nbg_max_txn_bytes, ulong, 0644);
MODULE_PARM_DESC(max_txn_bytes, "maximum memory staged by one transaction");

unsigned int nbg_net_id __read_mostly;
struct workqueue_struct *nbg_wq;

static int __net_init nbg_net_init(struct net *net)
{
	struct nbg_net *nn = nbg_net(net);
	struct nbg_ruleset_desc empty = {};
	struct nbg_ruleset *rs;
	const char *err;

	nn->net = net;
	mutex_init(&nn->lock);
	nn->default_in = NBG_ACTION_DENY;
	nn->default_out = NBG_ACTION_ALLOW;
	nbg_events_init_net(nn);
	/* Always have a ruleset, so the packet path needs no NULL case. */
	rs = nbg_ruleset_create(&empty, 0, 0, &err);
	if (!rs)
		return -ENOMEM;
	RCU_INIT_POINTER(nn->ruleset, rs);
	return 0;
}

static void __net_exit nbg_net_exit(struct net *net)
{
	struct nbg_net *nn = nbg_net(net);
	struct nbg_ruleset *rs;

	mutex_lock(&nn->lock);
	nbg_txn_cleanup_net(nn);
	nbg_dev_cleanup_net(nn);
	rs = rcu_replace_pointer(nn->ruleset, NULL, lockdep_is_held(&nn->lock));
	if (rs)
		queue_rcu_work(nbg_wq, &rs->free_work);
	mutex_unlock(&nn->lock);
	mutex_destroy(&nn->lock);
}

static struct pernet_operations nbg_net_ops = {
	.init = nbg_net_init,
	.exit = nbg_net_exit,
	.id = &nbg_net_id,
	.size = sizeof(struct nbg_net),
};

static int __init nbg_init(void)
{
	int ret;

	nbg_wq = alloc_workqueue("nbguard", 0, 0);
	if (!nbg_wq)
		return -ENOMEM;
	ret = register_pernet_subsys(&nbg_net_ops);
	if (ret)
		goto err_wq;
	ret = nbg_device_init();
	if (ret)
		goto err_pernet;
	ret = nbg_genl_init();
	if (ret)
		goto err_device;
	pr_info("nbguard loaded\n");
	return 0;

err_device:
	nbg_device_exit();
err_pernet:
	unregister_pernet_subsys(&nbg_net_ops);
err_wq:
	rcu_barrier();
	destroy_workqueue(nbg_wq);
	return ret;
}

static void __exit nbg_exit(void)
{
	/* No new requests; then no devices, hooks or namespaces. */
	nbg_genl_exit();
	nbg_device_exit();
	unregister_pernet_subsys(&nbg_net_ops);
	/* Wait for queued ruleset frees and kfree_rcu of device tables. */
	rcu_barrier();
	destroy_workqueue(nbg_wq);
	pr_info("nbguard unloaded\n");
}

module_init(nbg_init);
module_exit(nbg_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nbguard: identity policy enforcement on WireGuard interfaces");
MODULE_AUTHOR("nbguard developers");
MODULE_ALIAS_GENL_FAMILY(NBG_GENL_NAME);
