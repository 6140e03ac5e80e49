// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: netfilter hooks that classify every packet against the
 * namespace's current table. It takes no lock: the table is read under the
 * RCU read lock netfilter already holds, and counters are per CPU.
 */

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>

#include "hooks.h"
#include "packet.h"
#include "table.h"

/*
 * Both directions run just after connection tracking (-200), so a later
 * stateful match knows each packet's state, and after defragmentation
 * (-400), so that when conntrack is loaded rules see whole datagrams. They
 * run before mangle (-150) and NAT (-100 for DNAT), so rules see addresses
 * as they were on the wire (in) or as the socket chose them (out).
 */
#define KFW_HOOK_PRIORITY (NF_IP_PRI_CONNTRACK + 10)

static_assert((int)NF_IP_PRI_CONNTRACK == (int)NF_IP6_PRI_CONNTRACK);

static unsigned int kfw_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct kfw_net *kn = priv;
	const struct net_device *dev;
	const struct kfw_table *table;
	struct kfw_hook_counter __percpu *hook;
	const struct kfw_rule *rule;
	struct kfw_packet pkt;
	u8 dir, family, verdict;

	if (state->hook == NF_INET_PRE_ROUTING) {
		dir = KFW_DIR_IN;
		dev = state->in;
	} else {
		dir = KFW_DIR_OUT;
		dev = state->out;
	}
	family = state->pf == NFPROTO_IPV4 ? KFW_FAMILY_IPV4 : KFW_FAMILY_IPV6;

	kfw_packet_parse(skb, state->pf, &pkt);
	pkt.iface = dev ? dev->name : NULL;

	table = rcu_dereference(kn->table);
	rule = kfw_table_classify(table, dir, &pkt);
	if (rule) {
		kfw_counters_add(&kn->counters, rule->counter, skb->len);
		verdict = rule->action;
	} else {
		verdict = table->policy[dir];
	}

	hook = &kn->hook_counters->hook[dir][family];
	this_cpu_inc(hook->seen);
	if (verdict == KFW_VERDICT_DROP) {
		this_cpu_inc(hook->dropped);
		return NF_DROP;
	}
	this_cpu_inc(hook->accepted);
	return NF_ACCEPT;
}

static const struct nf_hook_ops kfw_hook_ops[KFW_NR_HOOKS] = {
	{
		.hook		= kfw_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= KFW_HOOK_PRIORITY,
	},
	{
		.hook		= kfw_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= KFW_HOOK_PRIORITY,
	},
	{
		.hook		= kfw_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= KFW_HOOK_PRIORITY,
	},
	{
		.hook		= kfw_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= KFW_HOOK_PRIORITY,
	},
};

int kfw_hooks_register(struct net *net, struct kfw_net *kn)
{
	unsigned int i;

	memcpy(kn->hook_ops, kfw_hook_ops, sizeof(kn->hook_ops));
	for (i = 0; i < ARRAY_SIZE(kn->hook_ops); i++)
		kn->hook_ops[i].priv = kn;
	return nf_register_net_hooks(net, kn->hook_ops, ARRAY_SIZE(kn->hook_ops));
}

void kfw_hooks_unregister(struct net *net, struct kfw_net *kn)
{
	nf_unregister_net_hooks(net, kn->hook_ops, ARRAY_SIZE(kn->hook_ops));
}
