// SPDX-License-Identifier: GPL-2.0
/*
 * kfw's life in each network namespace: its table, counters, hooks and /proc
 * files are made when the namespace is and go with it.
 */

#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>

#include "expire.h"
#include "hooks.h"
#include "netns.h"
#include "proc.h"
#include "replace.h"
#include "table.h"

unsigned int kfw_net_id __read_mostly;

void kfw_net_read_hook(struct kfw_net *kn, u8 dir, u8 family,
		       struct kfw_hook_counter *sum)
{
	const struct kfw_hook_counter *zeroed = &kn->hook_zeroed.hook[dir][family];
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct kfw_hook_counter *c;

		c = &per_cpu_ptr(kn->hook_counters, cpu)->hook[dir][family];
		sum->seen += READ_ONCE(c->seen);
		sum->accepted += READ_ONCE(c->accepted);
		sum->dropped += READ_ONCE(c->dropped);
	}
	sum->seen -= READ_ONCE(zeroed->seen);
	sum->accepted -= READ_ONCE(zeroed->accepted);
	sum->dropped -= READ_ONCE(zeroed->dropped);
}

u64 kfw_net_read_log_suppressed(struct kfw_net *kn)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(kn->hook_counters, cpu)->log_suppressed);
	return sum - READ_ONCE(kn->hook_zeroed.log_suppressed);
}

/* Zeroes the namespace's counters, the lock held, by remembering their sums. */
void kfw_net_zero(struct kfw_net *kn)
{
	struct kfw_hook_counters *zeroed = &kn->hook_zeroed;
	struct kfw_hook_counter sum, *hook;
	u8 dir, family;

	lockdep_assert_held(&kn->lock);
	kfw_table_zero(kn);
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		for (family = 0; family <= KFW_FAMILY_MAX; family++) {
			hook = &zeroed->hook[dir][family];
			kfw_net_read_hook(kn, dir, family, &sum);
			WRITE_ONCE(hook->seen, hook->seen + sum.seen);
			WRITE_ONCE(hook->accepted, hook->accepted + sum.accepted);
			WRITE_ONCE(hook->dropped, hook->dropped + sum.dropped);
		}
	}
	WRITE_ONCE(zeroed->log_suppressed,
		   zeroed->log_suppressed + kfw_net_read_log_suppressed(kn));
}

static void kfw_net_free(struct kfw_net *kn)
{
	free_percpu(kn->hook_counters);
	kfw_counters_destroy(&kn->counters);
}

static int __net_init kfw_net_init(struct net *net)
{
	struct kfw_net *kn = kfw_net(net);
	int err;

	kn->net = net;
	mutex_init(&kn->lock);
	kfw_replace_init(kn);
	kfw_expire_init(kn);
	kn->next_handle = 1;
	/* Room for a full table and a full replacement of it. */
	err = kfw_counters_init(&kn->counters, 2ULL * kfw_max_rules + 1);
	if (err)
		return err;
	kn->hook_counters = alloc_percpu_gfp(struct kfw_hook_counters,
					     GFP_KERNEL_ACCOUNT);
	if (!kn->hook_counters) {
		err = -ENOMEM;
		goto err_free;
	}
	err = kfw_table_init(kn);
	if (err)
		goto err_free;
	err = kfw_proc_init(net);
	if (err)
		goto err_table;
	/* An empty table with accept policies: no hooks until it needs them. */
	kfw_hooks_init(kn);
	return 0;

err_table:
	kfw_table_destroy(kn);
err_free:
	kfw_net_free(kn);
	return err;
}

/*
 * nf_unregister_net_hooks() does not wait for CPUs already inside kfw_hook(),
 * which read the table and its rules. The core runs a grace period between
 * every .pre_exit and the first .exit, for unloads and namespace deaths alike,
 * so by the time kfw_net_exit() frees the table no packet holds it.
 */
static void __net_exit kfw_net_pre_exit(struct net *net)
{
	struct kfw_net *kn = kfw_net(net);
	u8 dir;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		kfw_hooks_drop(kn, dir);
}

static void __net_exit kfw_net_exit(struct net *net)
{
	struct kfw_net *kn = kfw_net(net);

	kfw_proc_exit(net);
	kfw_replace_exit(kn);
	/* After the confirmation's expiry, whose revert arms it. */
	kfw_expire_exit(kn);
	kfw_table_destroy(kn);
	if (kn->conntrack)
		nf_ct_netns_put(net, NFPROTO_INET);
}

static void __net_exit kfw_net_exit_batch(struct list_head *net_list)
{
	struct net *net;

	/* Replaced tables still to be freed give slots back to the counters. */
	kfw_table_drain();
	list_for_each_entry(net, net_list, exit_list)
		kfw_net_free(kfw_net(net));
}

static struct pernet_operations kfw_net_ops = {
	.init		= kfw_net_init,
	.pre_exit	= kfw_net_pre_exit,
	.exit		= kfw_net_exit,
	.exit_batch	= kfw_net_exit_batch,
	.id		= &kfw_net_id,
	.size		= sizeof(struct kfw_net),
};

int kfw_netns_init(void)
{
	return register_pernet_subsys(&kfw_net_ops);
}

void kfw_netns_exit(void)
{
	unregister_pernet_subsys(&kfw_net_ops);
}
