// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/kfw/: the rules with their counters, and the hook counters, for
 * anyone to read. Lines follow fwctl's own syntax so that scripts need one
 * parser.
 */

#include <linux/in.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "netns.h"
#include "proc.h"
#include "table.h"

static const char *const kfw_dir_names[] = {
	[KFW_DIR_IN] = "in",
	[KFW_DIR_OUT] = "out",
};

static const char *const kfw_verdict_names[] = {
	[KFW_VERDICT_ACCEPT] = "accept",
	[KFW_VERDICT_DROP] = "drop",
};

static const char *const kfw_family_names[] = {
	[KFW_FAMILY_IPV4] = "ipv4",
	[KFW_FAMILY_IPV6] = "ipv6",
};

struct kfw_proc_iter {
	struct seq_net_private p;
	const struct kfw_table *table;
};

static void kfw_proc_show_addr(struct seq_file *seq, const char *key, u8 family,
			       const union nf_inet_addr *addr, u8 prefix)
{
	if (family == NFPROTO_IPV4)
		seq_printf(seq, " %s %pI4/%u", key, &addr->ip, prefix);
	else
		seq_printf(seq, " %s %pI6c/%u", key, &addr->in6, prefix);
}

static void kfw_proc_show_ports(struct seq_file *seq, const char *key,
				const struct kfw_port_range *range)
{
	if (range->first == range->last)
		seq_printf(seq, " %s %u", key, range->first);
	else
		seq_printf(seq, " %s %u-%u", key, range->first, range->last);
}

static void kfw_proc_show_match(struct seq_file *seq, const struct kfw_match *m)
{
	if (m->fields & KFW_MATCH_PROTO) {
		switch (m->proto) {
		case IPPROTO_TCP:
			seq_puts(seq, " proto tcp");
			break;
		case IPPROTO_UDP:
			seq_puts(seq, " proto udp");
			break;
		case IPPROTO_ICMP:
			seq_puts(seq, " proto icmp");
			break;
		case IPPROTO_ICMPV6:
			seq_puts(seq, " proto icmpv6");
			break;
		default:
			seq_printf(seq, " proto %u", m->proto);
		}
	}
	if (m->fields & KFW_MATCH_SRC)
		kfw_proc_show_addr(seq, "src", m->family, &m->src, m->src_prefix);
	if (m->fields & KFW_MATCH_DST)
		kfw_proc_show_addr(seq, "dst", m->family, &m->dst, m->dst_prefix);
	if (m->fields & KFW_MATCH_SPORT)
		kfw_proc_show_ports(seq, "sport", &m->sport);
	if (m->fields & KFW_MATCH_DPORT)
		kfw_proc_show_ports(seq, "dport", &m->dport);
	if (m->fields & KFW_MATCH_IFACE)
		seq_printf(seq, " iface %s", m->iface);
}

static void *kfw_proc_rules_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	struct kfw_proc_iter *iter = seq->private;
	struct kfw_net *kn = kfw_net(seq_file_net(seq));

	rcu_read_lock();
	iter->table = rcu_dereference(kn->table);
	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (*pos > iter->table->nr_rules)
		return NULL;
	return iter->table->rules[*pos - 1];
}

static void *kfw_proc_rules_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct kfw_proc_iter *iter = seq->private;

	++*pos;
	if (*pos > iter->table->nr_rules)
		return NULL;
	return iter->table->rules[*pos - 1];
}

static void kfw_proc_rules_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static int kfw_proc_rules_show(struct seq_file *seq, void *v)
{
	struct kfw_net *kn = kfw_net(seq_file_net(seq));
	const struct kfw_rule *rule = v;
	struct kfw_counter sum;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "handle dir action packets bytes match\n");
		return 0;
	}
	kfw_rule_read_counters(kn, rule, &sum);
	seq_printf(seq, "%llu %s %s %llu %llu", rule->handle,
		   kfw_dir_names[rule->dir], kfw_verdict_names[rule->action],
		   sum.packets, sum.bytes);
	kfw_proc_show_match(seq, &rule->match);
	seq_putc(seq, '\n');
	return 0;
}

static const struct seq_operations kfw_proc_rules_ops = {
	.start	= kfw_proc_rules_start,
	.next	= kfw_proc_rules_next,
	.stop	= kfw_proc_rules_stop,
	.show	= kfw_proc_rules_show,
};

static int kfw_proc_stats_show(struct seq_file *seq, void *v)
{
	struct kfw_net *kn = kfw_net(seq_file_single_net(seq));
	struct kfw_hook_counter sum;
	unsigned int nr_rules;
	u8 dir, family;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		for (family = 0; family <= KFW_FAMILY_MAX; family++) {
			const char *d = kfw_dir_names[dir];
			const char *f = kfw_family_names[family];

			kfw_net_read_hook(kn, dir, family, &sum);
			seq_printf(seq, "%s_%s_seen %llu\n", d, f, sum.seen);
			seq_printf(seq, "%s_%s_accepted %llu\n", d, f, sum.accepted);
			seq_printf(seq, "%s_%s_dropped %llu\n", d, f, sum.dropped);
		}
	}
	rcu_read_lock();
	nr_rules = rcu_dereference(kn->table)->nr_rules;
	rcu_read_unlock();
	seq_printf(seq, "rules %u\n", nr_rules);
	seq_printf(seq, "rule_limit %u\n", kfw_max_rules);
	return 0;
}

int kfw_proc_init(struct net *net)
{
	struct proc_dir_entry *dir;

	dir = proc_net_mkdir(net, "kfw", net->proc_net);
	if (!dir)
		return -ENOMEM;
	if (!proc_create_net("rules", 0444, dir, &kfw_proc_rules_ops,
			     sizeof(struct kfw_proc_iter)) ||
	    !proc_create_net_single("stats", 0444, dir, kfw_proc_stats_show,
				    NULL)) {
		remove_proc_subtree("kfw", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void kfw_proc_exit(struct net *net)
{
	remove_proc_subtree("kfw", net->proc_net);
}
