// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: netfilter hooks that classify every packet against the
 * namespace's current table. It takes no lock: the table is read under the
 * RCU read lock netfilter already holds, and counters are per CPU.
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/kmod.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_log.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

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

static const char *const kfw_hook_dirs[] = {
	[KFW_DIR_IN] = "in",
	[KFW_DIR_OUT] = "out",
};

static const char *const kfw_hook_actions[] = {
	[KFW_VERDICT_ACCEPT] = "accept",
	[KFW_VERDICT_DROP] = "drop",
	[KFW_VERDICT_REJECT] = "reject",
};

/*
 * The generic cell rate algorithm: one atomic timestamp per rule, no lock.
 * A line is allowed while the theoretical arrival time of the next one is
 * no more than the burst ahead of now.
 */
static bool kfw_hook_log_allowed(struct kfw_rule *rule)
{
	u64 now = ktime_get_mono_fast_ns(), tat, next;
	u64 cost = div_u64(60 * NSEC_PER_SEC, rule->log_rate);
	u64 tolerance = cost * (rule->log_burst - 1);

	tat = atomic64_read(&rule->log_tat);
	do {
		next = max(tat, now);
		if (next - now > tolerance)
			return false;
	} while (!atomic64_try_cmpxchg(&rule->log_tat, &tat,
				       next + cost));
	return true;
}

/*
 * Log lines go through netfilter's logging core, as iptables' LOG target's
 * do: to the logger the namespace chose (nf_log_syslog by default, or
 * nfnetlink_log for ulogd), and from a namespace other than the first only
 * if net.netfilter.nf_log_all_netns allows it, so that an unprivileged user
 * namespace cannot write to the host's kernel log.
 */
static void kfw_hook_log(struct kfw_net *kn, struct kfw_rule *rule, u8 dir,
			 struct sk_buff *skb, const struct nf_hook_state *state)
{
	if (!kfw_hook_log_allowed(rule)) {
		this_cpu_inc(kn->hook_counters->log_suppressed);
		return;
	}
	nf_log_packet(state->net, state->pf, state->hook, skb, state->in,
		      state->out, NULL, "kfw: rule %llu %s %s ", rule->handle,
		      kfw_hook_dirs[dir], kfw_hook_actions[rule->action]);
}

/*
 * A log rule holds the syslog logger's module, as iptables' LOG does: the
 * namespace's default logger is then there to write its lines.
 */
int kfw_hooks_logger_get(void)
{
	if (nf_logger_find_get(NFPROTO_INET, NF_LOG_TYPE_LOG)) {
		request_module("nf_log_syslog");
		return nf_logger_find_get(NFPROTO_INET, NF_LOG_TYPE_LOG);
	}
	return 0;
}

void kfw_hooks_logger_put(void)
{
	nf_logger_put(NFPROTO_INET, NF_LOG_TYPE_LOG);
}

/* Packets that must never be answered: ICMP errors, non-unicast. */
static bool kfw_hook_may_answer(const struct sk_buff *skb,
				const struct kfw_packet *pkt)
{
	bool v4 = pkt->family == NFPROTO_IPV4;

	if (skb->pkt_type != PACKET_HOST)
		return false;
	if (v4 ? ipv4_is_multicast(pkt->dst.ip) || ipv4_is_lbcast(pkt->dst.ip) :
		 ipv6_addr_is_multicast(&pkt->dst.in6))
		return false;
	if (pkt->proto == (v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return pkt->has_icmp && !(v4 ? icmp_is_err(pkt->icmp_type) :
					       icmpv6_is_err(pkt->icmp_type));
	return true;
}

/* TCP gets a reset, everything else port unreachable; nf_send_reset skips RSTs. */
static void kfw_hook_reject(struct sk_buff *skb,
			    const struct nf_hook_state *state,
			    const struct kfw_packet *pkt)
{
	if (!kfw_hook_may_answer(skb, pkt))
		return;
	if (pkt->family == NFPROTO_IPV4) {
		if (pkt->proto == IPPROTO_TCP && pkt->has_ports)
			nf_send_reset(state->net, state->sk, skb, state->hook);
		else
			nf_send_unreach(skb, ICMP_PORT_UNREACH, state->hook);
	} else {
		if (pkt->proto == IPPROTO_TCP && pkt->has_ports)
			nf_send_reset6(state->net, state->sk, skb, state->hook);
		else
			nf_send_unreach6(state->net, skb, ICMPV6_PORT_UNREACH,
					 state->hook);
	}
}

static unsigned int kfw_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct kfw_net *kn = priv;
	const struct net_device *dev;
	const struct kfw_table *table;
	struct kfw_hook_counter __percpu *hook;
	struct kfw_rule *rule;
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

	/*
	 * A direction without rules needs nothing of the packet, unless its
	 * policy rejects it and must answer. (Such a direction has no hooks,
	 * except for a moment while a change adds or removes them.)
	 */
	table = rcu_dereference(kn->table);
	rule = NULL;
	if (table->nr_dir[dir] || table->policy[dir] == KFW_VERDICT_REJECT) {
		kfw_packet_parse(skb, state->pf, table->nr_state, &pkt);
		pkt.iface = dev ? dev->name : NULL;
		rule = kfw_table_classify(table, dir, &pkt);
	}
	if (rule) {
		kfw_counters_add(&kn->counters, rule->counter, skb->len);
		if (rule->log)
			kfw_hook_log(kn, rule, dir, skb, state);
		verdict = rule->action;
	} else {
		verdict = table->policy[dir];
	}

	hook = &kn->hook_counters->hook[dir][family];
	this_cpu_inc(hook->seen);
	if (verdict == KFW_VERDICT_ACCEPT) {
		this_cpu_inc(hook->accepted);
		return NF_ACCEPT;
	}
	if (verdict == KFW_VERDICT_REJECT)
		kfw_hook_reject(skb, state, &pkt);
	this_cpu_inc(hook->dropped);
	return NF_DROP;
}

/* By direction, then family: a direction's two hooks are side by side. */
#define KFW_HOOKS_PER_DIR	(KFW_NR_HOOKS / (KFW_DIR_MAX + 1))

static const struct nf_hook_ops kfw_hook_ops[KFW_NR_HOOKS] = {
	{
		.hook		= kfw_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
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
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= KFW_HOOK_PRIORITY,
	},
	{
		.hook		= kfw_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= KFW_HOOK_PRIORITY,
	},
};

static_assert(KFW_DIR_IN == 0 && KFW_DIR_OUT == 1);

/* The namespace's copy of the hooks, registered by kfw_hooks_want(). */
void kfw_hooks_init(struct kfw_net *kn)
{
	unsigned int i;

	memcpy(kn->hook_ops, kfw_hook_ops, sizeof(kn->hook_ops));
	for (i = 0; i < ARRAY_SIZE(kn->hook_ops); i++)
		kn->hook_ops[i].priv = kn;
}

/*
 * A namespace has the hooks of a direction only while its table has rules
 * there or a policy other than accept: an idle direction costs its packets
 * nothing, not even a call. The lock is held, or the namespace is going.
 * State that kfw_hooks_init() did not set up (KUnit's, attached to no
 * namespace of its own) has no hooks to register.
 */
int kfw_hooks_want(struct kfw_net *kn, u8 dir)
{
	int err;

	if (kn->hooked[dir] || !kn->hook_ops[0].hook)
		return 0;
	err = nf_register_net_hooks(kn->net, &kn->hook_ops[dir * KFW_HOOKS_PER_DIR],
				    KFW_HOOKS_PER_DIR);
	if (!err)
		kn->hooked[dir] = true;
	return err;
}

/*
 * Unregistering does not wait for CPUs inside kfw_hook(): they hold no
 * more than the table, which is freed after a grace period anyway, and the
 * namespace, which outlives them.
 */
void kfw_hooks_drop(struct kfw_net *kn, u8 dir)
{
	if (!kn->hooked[dir])
		return;
	nf_unregister_net_hooks(kn->net, &kn->hook_ops[dir * KFW_HOOKS_PER_DIR],
				KFW_HOOKS_PER_DIR);
	kn->hooked[dir] = false;
}
