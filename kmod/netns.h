/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_NETNS_H
#define _KFW_NETNS_H

#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/netfilter.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "counters.h"
#include "uapi/kfw.h"

struct kfw_table;
struct kfw_replace;

struct kfw_hook_counter {
	u64 seen;
	u64 accepted;
	u64 dropped;
};

/* Counters of every hook (one per direction and address family), and of log lines not written. */
struct kfw_hook_counters {
	struct kfw_hook_counter hook[KFW_DIR_MAX + 1][KFW_FAMILY_MAX + 1];
	u64 log_suppressed;
};

#define KFW_NR_HOOKS ((KFW_DIR_MAX + 1) * (KFW_FAMILY_MAX + 1))

/**
 * struct kfw_net - kfw's state in one network namespace
 * @net: the namespace
 * @table: the published table, read under RCU
 * @lock: serializes every change to the state below
 * @next_handle: handle of the next rule
 * @counters: rule counters
 * @hook_counters: per-CPU hook counters
 * @hook_zeroed: hook counts at the last zero, subtracted when read
 * @conntrack: the namespace tracks connections for kfw (nf_ct_netns_get)
 * @replace: the open atomic replacement, if any
 * @replace_portid: the port of @replace's socket, 0 without one, read
 *	without the lock when any generic netlink socket closes
 * @replace_expiry: drops @replace when it stays idle
 * @kept: the table a restore on trial replaced, put back by
 *	@confirm_expiry unless confirmed by @confirm_deadline
 * @confirm_deadline: in jiffies, or 0 when no restore is on trial; read
 *	without the lock to say how long is left
 * @confirm_expiry: puts @kept back
 * @expire_timer: wakes @expire_work at the first deadline (expire.c)
 * @expire_work: deletes timed rules when their time runs out
 * @expire_stopped: the namespace goes: nothing arms @expire_timer again
 * @hook_ops: this namespace's copy of the hooks, with priv pointing here:
 *	those of the in direction (IPv4, IPv6), then those of out
 * @hooked: the hooks of a direction are registered (kfw_hooks_want())
 */
struct kfw_net {
	struct net *net;
	struct kfw_table __rcu *table;
	struct mutex lock; /* serializes changes to everything here */
	u64 next_handle;
	struct kfw_counters counters;
	struct kfw_hook_counters __percpu *hook_counters;
	struct kfw_hook_counters hook_zeroed;
	bool conntrack;
	struct kfw_replace *replace;
	u32 replace_portid;
	struct delayed_work replace_expiry;
	struct kfw_table *kept;
	unsigned long confirm_deadline;
	struct delayed_work confirm_expiry;
	struct hrtimer expire_timer;
	struct work_struct expire_work;
	bool expire_stopped;
	struct nf_hook_ops hook_ops[KFW_NR_HOOKS];
	bool hooked[KFW_DIR_MAX + 1];
};

extern unsigned int kfw_net_id;

static inline struct kfw_net *kfw_net(const struct net *net)
{
	return net_generic(net, kfw_net_id);
}

void kfw_net_read_hook(struct kfw_net *kn, u8 dir, u8 family,
		       struct kfw_hook_counter *sum);
u64 kfw_net_read_log_suppressed(struct kfw_net *kn);
void kfw_net_zero(struct kfw_net *kn);

int kfw_netns_init(void);
void kfw_netns_exit(void);

#endif /* _KFW_NETNS_H */
