/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_TABLE_H
#define _KFW_TABLE_H

#include <linux/rculist.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "classify.h"
#include "counters.h"
#include "limit.h"
#include "match.h"
#include "uapi/kfw.h"

struct kfw_net;

/**
 * struct kfw_rule - one rule; what readers see of it never changes
 * @handle: unique in its namespace, never reused
 * @prio: orders the rules of a table for its classifiers: list order, with
 *	gaps; only writers read it, as a renumbering changes it
 * @dir: enum kfw_dir
 * @action: enum kfw_verdict
 * @log: log the packets the rule decides on
 * @counter: slot of the rule's counters in the namespace's kfw_counters
 * @log_rate: log lines per minute
 * @log_burst: log lines allowed at once
 * @log_tat: theoretical arrival time of the next line (GCRA), in ns
 * @zeroed: counts at the last zero, subtracted when read (under the lock)
 * @expires: when a timed rule expires, in ns of CLOCK_BOOTTIME (timed.c);
 *	0 for none
 * @list: links the rules of a table in list order (struct kfw_rule_list)
 * @timed: links a timed rule into its list's @timed; only writers use it
 * @comment: the user's comment, or NULL
 * @elems: the rule's entries in its classifier when it has a list that is
 *	indexed element by element, NULL otherwise (then @match is the entry)
 * @nr_elems: the number of @elems
 * @over: the rate the rule matches packets over (limit.c), or NULL
 * @match: what the rule matches
 */
struct kfw_rule {
	u64 handle;
	u64 prio;
	u8 dir;
	u8 action;
	bool log;
	unsigned int counter;
	u32 log_rate;
	u32 log_burst;
	atomic64_t log_tat;
	struct kfw_counter zeroed;
	u64 expires;
	struct list_head list;
	struct list_head timed;
	const char *comment;
	struct kfw_rule_elem *elems;
	unsigned int nr_elems;
	struct kfw_limit *over;
	struct kfw_match match;
};

/**
 * struct kfw_rule_elem - one element of a list, as the classifier knows it
 * @match: the rule's match with the element as a single value
 *	(KFW_MATCH_ELEMENT), which the classifier indexes
 * @rule: the rule it stands for
 */
struct kfw_rule_elem {
	struct kfw_match match;
	struct kfw_rule *rule;
};

/**
 * struct kfw_rule_spec - everything a new rule is made of, as parsed
 * @dir: enum kfw_dir
 * @action: enum kfw_verdict
 * @log: log matched packets
 * @log_rate: lines per minute
 * @log_burst: lines at once
 * @timeout: milliseconds the rule lives from when it is made, 0 for ever
 * @comment: comment or NULL; owned by the rule once made
 * @over: the rate of `over`, or NULL; owned by the rule once made
 * @match: the match; @match.payload is owned by the rule once made
 */
struct kfw_rule_spec {
	u8 dir;
	u8 action;
	bool log;
	u32 log_rate;
	u32 log_burst;
	u64 timeout;
	char *comment;
	struct kfw_limit *over;
	struct kfw_match match;
};

/**
 * struct kfw_rule_list - the rules of a namespace, in list order
 * @head: the rules, through kfw_rule.list; readers walk it under RCU
 * @by_handle: every rule of @head by its handle, for the writer
 * @timed: the rules of @head that have a timeout, the soonest to expire
 *	first (timed.c), for the writer
 *
 * An add or a delete links or unlinks one rule in place, so neither costs
 * more at 100 000 rules than at 10. A restore or a flush makes a new list.
 */
struct kfw_rule_list {
	struct list_head head;
	struct xarray by_handle;
	struct list_head timed;
};

/**
 * struct kfw_table - what the packet path needs of a namespace's rules
 * @free_work: frees the table, and @dead, a grace period after replacement
 * @counters: where @dead rules give back their counter slots
 * @dead: the rule removed by the change that replaced this table, if any
 * @cls: the classifier of each direction, which the packet path asks
 * @list: the rules in list order
 * @owns_cls: @cls goes with this table; a change that keeps the classifiers
 *	passes them on to the next table
 * @owns_list: @list goes with this table, in the same way, and its rules
 *	with it: a restore or a flush replaced them all
 * @generation: bumped by every change, never 0 (for dump consistency checks)
 * @policy: default verdict of each direction
 * @nr_rules: length of @list
 * @nr_state: number of rules with a state match
 * @nr_dir: number of rules of each direction
 *
 * Readers find the current table with rcu_dereference(). Its policies and
 * counts never change: writers make a new table under the namespace's lock
 * and swap it in, and the old one is freed after a grace period. The
 * classifiers and the list are not copied: an add or a delete changes them
 * in place (see classify.c for how readers stay safe), so a change costs
 * the same at 100 000 rules as at 10. A restore or a flush builds new ones.
 */
struct kfw_table {
	struct rcu_work free_work;
	struct kfw_counters *counters;
	struct kfw_rule *dead;
	struct kfw_cls *cls[KFW_DIR_MAX + 1];
	struct kfw_rule_list *list;
	bool owns_cls;
	bool owns_list;
	u32 generation;
	u8 policy[KFW_DIR_MAX + 1];
	unsigned int nr_rules;
	unsigned int nr_state;
	unsigned int nr_dir[KFW_DIR_MAX + 1];
};

/* The largest max_rules: 2^24 rules, and as many again for a replacement. */
#define KFW_MAX_RULES_LIMIT	BIT(24)

extern unsigned int kfw_max_rules;

int kfw_table_module_init(void);
void kfw_table_module_exit(void);
void kfw_table_drain(void);

int kfw_table_init(struct kfw_net *kn);
void kfw_table_destroy(struct kfw_net *kn);

struct kfw_rule *kfw_rule_alloc(struct kfw_net *kn, struct kfw_rule_spec *spec);
void kfw_rule_spec_release(struct kfw_rule_spec *spec);
void kfw_rule_destroy(struct kfw_net *kn, struct kfw_rule *rule);
void kfw_rule_read_counters(struct kfw_net *kn, const struct kfw_rule *rule,
			    struct kfw_counter *sum);

struct kfw_table *kfw_table_locked(struct kfw_net *kn);
struct kfw_rule *kfw_table_rule_at(const struct kfw_table *table,
				   unsigned int index);
int kfw_table_insert(struct kfw_net *kn, struct kfw_rule *rule,
		     unsigned int index);
int kfw_table_delete(struct kfw_net *kn, u64 handle);
int kfw_table_flush(struct kfw_net *kn);
int kfw_table_set_policy(struct kfw_net *kn, u8 dir, u8 verdict);

/* Flags of kfw_table_replace(). */
#define KFW_REPLACE_CHECK	BIT(0)	/* build the new table, then discard it */
#define KFW_REPLACE_KEEP	BIT(1)	/* keep the replaced table for a revert */
#define KFW_REPLACE_ZERO	BIT(2)	/* unchanged rules start from zero too */

int kfw_table_replace(struct kfw_net *kn, struct list_head *rules,
		      unsigned int nr, const u8 *policy, unsigned int flags);
void kfw_table_revert(struct kfw_net *kn);
void kfw_table_forget_kept(struct kfw_net *kn);
void kfw_table_zero(struct kfw_net *kn);

struct kfw_rule *kfw_table_classify_over(const struct kfw_table *table, u8 dir,
					 const struct kfw_packet *pkt,
					 bool spend, u64 now);

/*
 * A rule takes the priorities from its own to KFW_PRIO_SPAN - 1 after it,
 * one for each element of a list indexed element by element.
 */
#define KFW_PRIO_SPAN	KFW_LIST_MAX

/**
 * kfw_rule_of() - the rule a classifier entry stands for
 * @match: the entry's match: a rule's, or one element's of a list rule
 * @elem: set to the element's index (its priority's offset from the
 *	rule's), 0 for a rule's own match; may be NULL
 *
 * Return: the rule.
 */
static inline struct kfw_rule *kfw_rule_of(const struct kfw_match *match,
					   unsigned int *elem)
{
	const struct kfw_rule_elem *e;

	if (likely(!(match->fields & KFW_MATCH_ELEMENT))) {
		if (elem)
			*elem = 0;
		return container_of(match, struct kfw_rule, match);
	}
	e = container_of(match, struct kfw_rule_elem, match);
	if (elem)
		*elem = e - e->rule->elems;
	return e->rule;
}

/**
 * kfw_table_classify() - the first rule of a direction that matches a packet
 * @table: current table, under rcu_read_lock()
 * @dir: enum kfw_dir
 * @pkt: the packet
 *
 * A rule with `over` matches only when the packet exceeds its rate; a
 * packet within it spends from the rule's allowance and goes on to the
 * rules after it (kfw_table_classify_over()).
 *
 * Return: the rule, or NULL when the direction's policy applies.
 */
static inline struct kfw_rule *kfw_table_classify(const struct kfw_table *table,
						  u8 dir,
						  const struct kfw_packet *pkt)
{
	const struct kfw_match *match = kfw_cls_lookup(table->cls[dir], pkt);
	struct kfw_rule *rule;

	if (!match)
		return NULL;
	rule = kfw_rule_of(match, NULL);
	if (unlikely(rule->over))
		return kfw_table_classify_over(table, dir, pkt, true,
					       ktime_get_mono_fast_ns());
	return rule;
}

/**
 * kfw_table_what_if() - kfw_table_classify() for a what-if (KFW_CMD_TEST)
 * @table: current table, under rcu_read_lock()
 * @dir: enum kfw_dir
 * @pkt: the test packet
 *
 * The same lookup, but the packet spends nothing and is within the rate of
 * every rule with `over`, which so never matches it.
 *
 * Return: the rule, or NULL when the direction's policy applies.
 */
static inline struct kfw_rule *kfw_table_what_if(const struct kfw_table *table,
						 u8 dir,
						 const struct kfw_packet *pkt)
{
	return kfw_table_classify_over(table, dir, pkt, false, 0);
}

#endif /* _KFW_TABLE_H */
