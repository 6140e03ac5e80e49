// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/kfw/: the rules with their counters, and the hook counters, for
 * anyone to read. Lines follow fwctl's own syntax so that scripts need one
 * parser.
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/ndisc.h>

#include "netns.h"
#include "payload.h"
#include "proc.h"
#include "table.h"
#include "timed.h"

static const char *const kfw_dir_names[] = {
	[KFW_DIR_IN] = "in",
	[KFW_DIR_OUT] = "out",
};

static const char *const kfw_verdict_names[] = {
	[KFW_VERDICT_ACCEPT] = "accept",
	[KFW_VERDICT_DROP] = "drop",
	[KFW_VERDICT_REJECT] = "reject",
};

/* In KFW_STATE_* bit order. */
static const char *const kfw_state_names[] = {
	"new", "established", "related", "invalid",
};

struct kfw_icmp_name {
	u8 type;
	const char *name;
};

static const struct kfw_icmp_name kfw_icmp_names[] = {
	{ ICMP_ECHOREPLY, "echo-reply" },
	{ ICMP_DEST_UNREACH, "destination-unreachable" },
	{ ICMP_ECHO, "echo-request" },
	{ ICMP_TIME_EXCEEDED, "time-exceeded" },
};

static const struct kfw_icmp_name kfw_icmpv6_names[] = {
	{ ICMPV6_DEST_UNREACH, "destination-unreachable" },
	{ ICMPV6_TIME_EXCEED, "time-exceeded" },
	{ ICMPV6_ECHO_REQUEST, "echo-request" },
	{ ICMPV6_ECHO_REPLY, "echo-reply" },
	{ NDISC_NEIGHBOUR_SOLICITATION, "neighbour-solicitation" },
	{ NDISC_NEIGHBOUR_ADVERTISEMENT, "neighbour-advertisement" },
};

static const char *const kfw_family_names[] = {
	[KFW_FAMILY_IPV4] = "ipv4",
	[KFW_FAMILY_IPV6] = "ipv6",
};

/* @sep is what comes before the value: " KEY ", " KEY != " or ",". */
static void kfw_proc_show_addr(struct seq_file *seq, const char *sep, u8 family,
			       const union nf_inet_addr *addr, u8 prefix)
{
	if (family == NFPROTO_IPV4)
		seq_printf(seq, "%s%pI4/%u", sep, &addr->ip, prefix);
	else
		seq_printf(seq, "%s%pI6c/%u", sep, &addr->in6, prefix);
}

static void kfw_proc_show_ports(struct seq_file *seq, const char *sep,
				const struct kfw_port_range *range)
{
	if (range->first == range->last)
		seq_printf(seq, "%s%u", sep, range->first);
	else
		seq_printf(seq, "%s%u-%u", sep, range->first, range->last);
}

static void kfw_proc_show_proto(struct seq_file *seq, const char *sep, u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		seq_printf(seq, "%stcp", sep);
		break;
	case IPPROTO_UDP:
		seq_printf(seq, "%sudp", sep);
		break;
	case IPPROTO_ICMP:
		seq_printf(seq, "%sicmp", sep);
		break;
	case IPPROTO_ICMPV6:
		seq_printf(seq, "%sicmpv6", sep);
		break;
	default:
		seq_printf(seq, "%s%u", sep, proto);
	}
}

/* A field of struct kfw_match_more: " KEY [!= ]ELEM,ELEM...". */
static void kfw_proc_show_list(struct seq_file *seq, const struct kfw_match *m,
			       enum kfw_list_field f, const char *key)
{
	const struct kfw_match_more *more = m->more;
	bool negated = f != KFW_LIST_PROTO && (m->negate & BIT(f));
	u8 i;

	seq_printf(seq, " %s%s ", key, negated ? " !=" : "");
	for (i = 0; i < more->len[f]; i++) {
		const char *sep = i ? "," : "";

		switch (f) {
		case KFW_LIST_SRC:
		case KFW_LIST_DST:
			kfw_proc_show_addr(seq, sep, m->family, &more->addr[f][i].net,
					   more->addr[f][i].prefix);
			break;
		case KFW_LIST_SPORT:
		case KFW_LIST_DPORT:
			kfw_proc_show_ports(seq, sep, &more->port[f - KFW_LIST_SPORT][i]);
			break;
		default:
			kfw_proc_show_proto(seq, sep, more->proto[i]);
		}
	}
}

static void kfw_proc_show_owner(struct seq_file *seq, const char *key, u32 first,
				u32 last, bool gid)
{
	struct user_namespace *ns = seq_user_ns(seq);

	if (gid) {
		first = from_kgid_munged(ns, KGIDT_INIT(first));
		last = from_kgid_munged(ns, KGIDT_INIT(last));
	} else {
		first = from_kuid_munged(ns, KUIDT_INIT(first));
		last = from_kuid_munged(ns, KUIDT_INIT(last));
	}
	if (first == last)
		seq_printf(seq, " %s %u", key, first);
	else
		seq_printf(seq, " %s %u-%u", key, first, last);
}

static void kfw_proc_show_icmp_type(struct seq_file *seq, const struct kfw_match *m)
{
	const struct kfw_icmp_name *names = kfw_icmp_names;
	unsigned int i, nr = ARRAY_SIZE(kfw_icmp_names);

	if (m->proto == IPPROTO_ICMPV6) {
		names = kfw_icmpv6_names;
		nr = ARRAY_SIZE(kfw_icmpv6_names);
	}
	for (i = 0; i < nr; i++) {
		if (names[i].type == m->icmp_type) {
			seq_printf(seq, " icmp-type %s", names[i].name);
			return;
		}
	}
	seq_printf(seq, " icmp-type %u", m->icmp_type);
}

static void kfw_proc_show_states(struct seq_file *seq, u8 states)
{
	const char *sep = " state ";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kfw_state_names); i++) {
		if (states & BIT(i)) {
			seq_printf(seq, "%s%s", sep, kfw_state_names[i]);
			sep = ",";
		}
	}
}

/* As fwctl prints it: quoted when every byte can be, in hex otherwise. */
static void kfw_proc_show_payload(struct seq_file *seq,
				  const struct kfw_payload *payload)
{
	unsigned int i;
	bool text = true;

	for (i = 0; i < payload->len; i++) {
		u8 c = payload->pattern[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			text = false;
	}
	if (text) {
		seq_printf(seq, " payload \"%.*s\"", payload->len, payload->pattern);
	} else {
		/* %ph stops at 64 bytes, patterns go to KFW_PAYLOAD_MAX. */
		seq_puts(seq, " payload-hex ");
		for (i = 0; i < payload->len; i++)
			seq_printf(seq, "%02x", payload->pattern[i]);
	}
	if (payload->within)
		seq_printf(seq, " payload-within %u", payload->within);
}

static void kfw_proc_show_log(struct seq_file *seq, const struct kfw_rule *rule)
{
	seq_puts(seq, " log");
	if (rule->log_rate != KFW_LOG_RATE_DEFAULT) {
		if (rule->log_rate % 60)
			seq_printf(seq, " log-rate %u/m", rule->log_rate);
		else
			seq_printf(seq, " log-rate %u/s", rule->log_rate / 60);
	}
	if (rule->log_burst != KFW_LOG_BURST_DEFAULT)
		seq_printf(seq, " log-burst %u", rule->log_burst);
}

/*
 * As fwctl prints it: the burst only when it is not the rate's own, and
 * the sources a per-src rule tracks now, which is not part of the rule.
 */
static void kfw_proc_show_over(struct seq_file *seq, const struct kfw_limit *over)
{
	const struct kfw_limit_conf *c = &over->conf;

	seq_printf(seq, " over %u/%c", c->rate,
		   c->period == 1 ? 's' : c->period == 60 ? 'm' : 'h');
	if (c->burst != c->rate)
		seq_printf(seq, " burst %u", c->burst);
	if (c->per_src)
		seq_printf(seq, " per-src sources %u",
			   kfw_limit_sources(over, ktime_get_mono_fast_ns()));
}

/*
 * As fwctl prints the time left: whole seconds, rounded up so that a rule
 * about to go never shows 0, in the largest unit that divides them.
 */
static void kfw_proc_show_timeout(struct seq_file *seq, u64 ms)
{
	static const struct {
		u32 seconds;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	u64 s = div_u64(ms + MSEC_PER_SEC - 1, MSEC_PER_SEC), n;
	unsigned int i;
	u32 rem;

	for (i = 0; i < ARRAY_SIZE(units); i++) {
		n = div_u64_rem(s, units[i].seconds, &rem);
		if (!rem) {
			seq_printf(seq, " timeout %llu%c", n, units[i].unit);
			return;
		}
	}
	seq_printf(seq, " timeout %llus", s);
}

static void kfw_proc_show_rule(struct seq_file *seq, const struct kfw_rule *rule)
{
	const struct kfw_match *m = &rule->match;
	const struct kfw_match_more *more = m->more;

	if (m->fields & KFW_MATCH_PROTO)
		kfw_proc_show_proto(seq, " proto ", m->proto);
	if (m->listed & BIT(KFW_LIST_PROTO))
		kfw_proc_show_list(seq, m, KFW_LIST_PROTO, "proto");
	if (m->fields & KFW_MATCH_SRC)
		kfw_proc_show_addr(seq, " src ", m->family, &m->src, m->src_prefix);
	if (m->listed & BIT(KFW_LIST_SRC))
		kfw_proc_show_list(seq, m, KFW_LIST_SRC, "src");
	if (m->fields & KFW_MATCH_DST)
		kfw_proc_show_addr(seq, " dst ", m->family, &m->dst, m->dst_prefix);
	if (m->listed & BIT(KFW_LIST_DST))
		kfw_proc_show_list(seq, m, KFW_LIST_DST, "dst");
	if (m->fields & KFW_MATCH_SPORT)
		kfw_proc_show_ports(seq, " sport ", &m->sport);
	if (m->listed & BIT(KFW_LIST_SPORT))
		kfw_proc_show_list(seq, m, KFW_LIST_SPORT, "sport");
	if (m->fields & KFW_MATCH_DPORT)
		kfw_proc_show_ports(seq, " dport ", &m->dport);
	if (m->listed & BIT(KFW_LIST_DPORT))
		kfw_proc_show_list(seq, m, KFW_LIST_DPORT, "dport");
	if (m->fields & KFW_MATCH_ICMP_TYPE)
		kfw_proc_show_icmp_type(seq, m);
	if (m->fields & KFW_MATCH_ICMP_CODE)
		seq_printf(seq, " icmp-code %u", m->icmp_code);
	if (m->fields & KFW_MATCH_IFACE)
		seq_printf(seq, " iface %s%s",
			   m->negate & KFW_NEGATE_IFACE ? "!= " : "", m->iface);
	if (more && more->has_uid)
		kfw_proc_show_owner(seq, "uid", more->uid_first, more->uid_last, false);
	if (more && more->has_gid)
		kfw_proc_show_owner(seq, "gid", more->gid_first, more->gid_last, true);
	if (m->fields & KFW_MATCH_STATE)
		kfw_proc_show_states(seq, m->states);
	if (m->fields & KFW_MATCH_PAYLOAD)
		kfw_proc_show_payload(seq, m->payload);
	if (rule->over)
		kfw_proc_show_over(seq, rule->over);
	if (rule->log)
		kfw_proc_show_log(seq, rule);
	if (rule->expires)
		kfw_proc_show_timeout(seq, kfw_timed_left_ms(rule->expires));
	if (rule->comment)
		seq_printf(seq, " comment \"%s\"", rule->comment);
}

/*
 * The whole table in one go, from one walk of the list: seq_file keeps what
 * one call of a single_open() show wrote and hands it out over as many read()
 * calls as the reader makes, so no line is lost or repeated when the table
 * changes between them. The buffer grows until the table fits, charged to
 * the reader's memory cgroup.
 */
static int kfw_proc_rules_show(struct seq_file *seq, void *v)
{
	struct kfw_net *kn = kfw_net(seq_file_single_net(seq));
	const struct kfw_table *table;
	const struct kfw_rule *rule;
	struct kfw_counter sum;

	seq_puts(seq, "handle dir action packets bytes match\n");
	rcu_read_lock();
	table = rcu_dereference(kn->table);
	list_for_each_entry_rcu(rule, &table->list->head, list) {
		if (seq_has_overflowed(seq))
			break;
		kfw_rule_read_counters(kn, rule, &sum);
		seq_printf(seq, "%llu %s %s %llu %llu", rule->handle,
			   kfw_dir_names[rule->dir], kfw_verdict_names[rule->action],
			   sum.packets, sum.bytes);
		kfw_proc_show_rule(seq, rule);
		seq_putc(seq, '\n');
	}
	rcu_read_unlock();
	return 0;
}

static int kfw_proc_stats_show(struct seq_file *seq, void *v)
{
	struct kfw_net *kn = kfw_net(seq_file_single_net(seq));
	struct kfw_cls_stats cls, total = {};
	const struct kfw_table *table;
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
	/* The classifiers change in place, so their sizes are read under the lock. */
	mutex_lock(&kn->lock);
	table = kfw_table_locked(kn);
	nr_rules = table->nr_rules;
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		kfw_cls_stats(table->cls[dir], &cls);
		total.entries += cls.entries;
		total.nodes += cls.nodes;
		total.bytes += cls.bytes;
	}
	mutex_unlock(&kn->lock);
	seq_printf(seq, "rules %u\n", nr_rules);
	seq_printf(seq, "rule_limit %u\n", kfw_max_rules);
	seq_printf(seq, "log_suppressed %llu\n", kfw_net_read_log_suppressed(kn));
	seq_printf(seq, "classifier_entries %lu\n", total.entries);
	seq_printf(seq, "classifier_nodes %lu\n", total.nodes);
	seq_printf(seq, "classifier_bytes %lu\n", total.bytes);
	return 0;
}

int kfw_proc_init(struct net *net)
{
	struct proc_dir_entry *dir;

	dir = proc_net_mkdir(net, "kfw", net->proc_net);
	if (!dir)
		return -ENOMEM;
	if (!proc_create_net_single("rules", 0444, dir, kfw_proc_rules_show,
				    NULL) ||
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
