// SPDX-License-Identifier: GPL-2.0
/*
 * nbguard: the list of guarded devices of a namespace. Writers hold RTNL
 * (so a device cannot be unregistered under them) and the namespace lock;
 * the hooks read a small copy-on-write array under RCU. The netfilter
 * hooks are registered only while at least one device is guarded.
 */
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/rtnetlink.h>

#include "nbguard.h"

static struct nbg_devtab *nbg_devtab_get(struct nbg_net *nn)
{
	return rcu_dereference_protected(nn->devtab,
					 lockdep_is_held(&nn->lock));
}

static int nbg_devtab_find(const struct nbg_devtab *tab,
			   const struct net_device *dev)
{
	u32 i;

	for (i = 0; tab && i < tab->n; i++)
		if (tab->d[i].dev == dev)
			return i;
	return -1;
}

u32 nbg_dev_count(struct nbg_net *nn)
{
	struct nbg_devtab *tab;
	u32 n;

	rcu_read_lock();
	tab = rcu_dereference(nn->devtab);
	n = tab ? tab->n : 0;
	rcu_read_unlock();
	return n;
}

/*
 * Replace the table by a copy with entry @skip removed and, if @add, one
 * entry added. Hooks follow the table: on for the first device, off after
 * the last.
 */
static int nbg_devtab_replace(struct nbg_net *nn, int skip,
			      const struct nbg_dev_entry *add,
			      struct netlink_ext_ack *extack)
{
	struct nbg_devtab *old = nbg_devtab_get(nn), *tab = NULL;
	u32 n = 0, i;
	int ret;

	if (old)
		n = old->n - (skip >= 0);
	if (add)
		n++;
	if (n) {
		tab = kzalloc(struct_size(tab, d, n), GFP_KERNEL_ACCOUNT);
		if (!tab) {
			NL_SET_ERR_MSG(extack, "out of memory");
			return -ENOMEM;
		}
		for (i = 0; old && i < old->n; i++)
			if ((int)i != skip)
				tab->d[tab->n++] = old->d[i];
		if (add)
			tab->d[tab->n++] = *add;
	}
	if (n && !nn->hooks_on) {
		ret = nbg_hooks_register(nn);
		if (ret) {
			NL_SET_ERR_MSG(extack, "cannot register netfilter hooks");
			kfree(tab);
			return ret;
		}
	}
	rcu_assign_pointer(nn->devtab, tab);
	if (old)
		kfree_rcu(old, rcu);
	if (!n && nn->hooks_on)
		nbg_hooks_unregister(nn);
	return 0;
}

static bool nbg_dev_is_wireguard(const struct net_device *dev)
{
	return dev->rtnl_link_ops && dev->rtnl_link_ops->kind &&
	       !strcmp(dev->rtnl_link_ops->kind, "wireguard");
}

int nbg_dev_add(struct nbg_net *nn, struct net_device *dev, u32 flags,
		bool excl, struct netlink_ext_ack *extack)
{
	struct nbg_dev_entry e = {
		.dev = dev, .ifindex = dev->ifindex, .flags = flags,
	};
	struct nbg_devtab *tab;
	int idx;

	ASSERT_RTNL();
	lockdep_assert_held(&nn->lock);
	if (!(flags & NBG_DEV_F_ANY_KIND) && !nbg_dev_is_wireguard(dev)) {
		NL_SET_ERR_MSG(extack, "not a wireguard interface (set NBG_DEV_F_ANY_KIND to guard it anyway)");
		return -EOPNOTSUPP;
	}
	if (dev->reg_state != NETREG_REGISTERED) {
		NL_SET_ERR_MSG(extack, "interface is going away");
		return -ENODEV;
	}
	tab = nbg_devtab_get(nn);
	idx = nbg_devtab_find(tab, dev);
	if (idx >= 0) {
		if (excl) {
			NL_SET_ERR_MSG(extack, "interface is already guarded");
			return -EEXIST;
		}
		if (tab->d[idx].flags == flags)
			return 0;
	} else if (tab && tab->n >= NBG_MAX_DEVICES) {
		NL_SET_ERR_MSG(extack, "too many guarded interfaces");
		return -ENOSPC;
	}
	return nbg_devtab_replace(nn, idx, &e, extack);
}

int nbg_dev_del(struct nbg_net *nn, struct net_device *dev,
		struct netlink_ext_ack *extack)
{
	int idx;

	ASSERT_RTNL();
	lockdep_assert_held(&nn->lock);
	idx = nbg_devtab_find(nbg_devtab_get(nn), dev);
	if (idx < 0) {
		NL_SET_ERR_MSG(extack, "interface is not guarded");
		return -ENOENT;
	}
	return nbg_devtab_replace(nn, idx, NULL, extack);
}

/* Namespace exit: devices are gone by now, but leave nothing behind. */
void nbg_dev_cleanup_net(struct nbg_net *nn)
{
	struct nbg_devtab *old = nbg_devtab_get(nn);

	RCU_INIT_POINTER(nn->devtab, NULL);
	if (old)
		kfree_rcu(old, rcu);
	if (nn->hooks_on)
		nbg_hooks_unregister(nn);
}

/*
 * An unregistered device, including one moved to another namespace
 * (which unregisters it from the old one first), stops being guarded.
 */
static int nbg_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct nbg_net *nn;
	int idx;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	nn = nbg_net(dev_net(dev));
	if (!rcu_access_pointer(nn->devtab))
		return NOTIFY_DONE;
	mutex_lock(&nn->lock);
	idx = nbg_devtab_find(nbg_devtab_get(nn), dev);
	/* Removal cannot fail for want of memory: it only shrinks. If the
	 * copy cannot be allocated, drop the whole table rather than keep a
	 * pointer to a device that is going away.
	 */
	if (idx >= 0 && nbg_devtab_replace(nn, idx, NULL, NULL))
		nbg_dev_cleanup_net(nn);
	mutex_unlock(&nn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block nbg_netdev_nb = {
	.notifier_call = nbg_netdev_event,
};

int nbg_device_init(void)
{
	return register_netdevice_notifier(&nbg_netdev_nb);
}

void nbg_device_exit(void)
{
	unregister_netdevice_notifier(&nbg_netdev_nb);
}
