// SPDX-License-Identifier: GPL-2.0
/*
 * The rule table: a header of policies and counts, replaced under the
 * namespace's lock and published with RCU at every change, over a list of
 * rules and classifiers that an add or a delete changes in place.
 */

#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>

#include "carry.h"
#include "hooks.h"
#include "more.h"
#include "netns.h"
#include "payload.h"
#include "table.h"
#include "timed.h"

unsigned int kfw_max_rules __read_mostly = 500000;

/*
 * "Unlimited" (4294967295) is a natural value to try, and slot numbers for
 * a full table and its replacement must fit an int: refuse what the
 * counters cannot address, at insmod, rather than crash at the first rule.
 */
static int kfw_max_rules_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint_minmax(val, kp, 1, KFW_MAX_RULES_LIMIT);

	if (err)
		pr_err("max_rules must be between 1 and %lu\n", KFW_MAX_RULES_LIMIT);
	return err;
}

static const struct kernel_param_ops kfw_max_rules_ops = {
	.set = kfw_max_rules_set,
	.get = param_get_uint,
};

module_param_cb(max_rules, &kfw_max_rules_ops, &kfw_max_rules, 0444);
MODULE_PARM_DESC(max_rules, "Maximum number of rules per network namespace (1-16777216)");

static struct workqueue_struct *kfw_table_wq;

int kfw_table_module_init(void)
{
	kfw_table_wq = alloc_workqueue("kfw_table", 0, 0);
	return kfw_table_wq ? 0 : -ENOMEM;
}

void kfw_table_module_exit(void)
{
	destroy_workqueue(kfw_table_wq);
}

/* Waits until every replaced table, and its dead rules, has been freed. */
void kfw_table_drain(void)
{
	rcu_barrier();
	flush_workqueue(kfw_table_wq);
}

struct kfw_table *kfw_table_locked(struct kfw_net *kn)
{
	return rcu_dereference_protected(kn->table, lockdep_is_held(&kn->lock));
}

/* Frees what a spec still owns. */
void kfw_rule_spec_release(struct kfw_rule_spec *spec)
{
	if (spec->log)
		kfw_hooks_logger_put();
	spec->log = false;
	kfw_payload_destroy((struct kfw_payload *)spec->match.payload);
	spec->match.payload = NULL;
	kfw_more_free(spec->match.more);
	spec->match.more = NULL;
	spec->match.fields &= ~KFW_MATCH_MORE;
	kfree(spec->comment);
	spec->comment = NULL;
	kfw_limit_destroy(spec->over);
	spec->over = NULL;
}

/*
 * The list of @match that the classifier indexes element by element: one
 * that is not negated (a negated list matches outside its elements, which no
 * key can say), addresses first, as they single out the fewest packets.
 */
static int kfw_rule_indexed_list(const struct kfw_match *match)
{
	static const u8 order[] = {
		KFW_LIST_DST, KFW_LIST_SRC, KFW_LIST_DPORT, KFW_LIST_PROTO,
		KFW_LIST_SPORT,
	};
	unsigned int i;

	/* A list field below KFW_LIST_PROTO is negated by the bit of its index. */
	BUILD_BUG_ON(BIT(KFW_LIST_SRC) != KFW_NEGATE_SRC ||
		     BIT(KFW_LIST_DST) != KFW_NEGATE_DST ||
		     BIT(KFW_LIST_SPORT) != KFW_NEGATE_SPORT ||
		     BIT(KFW_LIST_DPORT) != KFW_NEGATE_DPORT);
	for (i = 0; i < ARRAY_SIZE(order); i++)
		if ((match->listed & BIT(order[i])) &&
		    (order[i] == KFW_LIST_PROTO || !(match->negate & BIT(order[i]))))
			return order[i];
	return -1;
}

/*
 * One classifier entry per element of a list, so that a list of n values
 * costs a lookup what n rules of one value each would: each entry is the
 * rule's match with one element as its single value.
 */
static int kfw_rule_index_elements(struct kfw_rule *rule)
{
	const struct kfw_match_more *more = rule->match.more;
	int f = kfw_rule_indexed_list(&rule->match);
	struct kfw_rule_elem *elem;
	unsigned int i;

	if (!(rule->match.fields & KFW_MATCH_MORE) || f < 0)
		return 0;
	rule->elems = kvcalloc(more->len[f], sizeof(*rule->elems), GFP_KERNEL_ACCOUNT);
	if (!rule->elems)
		return -ENOMEM;
	rule->nr_elems = more->len[f];
	for (i = 0; i < rule->nr_elems; i++) {
		elem = &rule->elems[i];
		elem->rule = rule;
		elem->match = rule->match;
		elem->match.listed &= ~BIT(f);
		kfw_more_set_single(&elem->match, f, i);
		if (!elem->match.listed && !more->has_uid && !more->has_gid)
			elem->match.fields &= ~KFW_MATCH_MORE;
		elem->match.fields |= KFW_MATCH_ELEMENT;
	}
	return 0;
}

/**
 * kfw_rule_alloc() - make a rule, not yet in any table
 * @kn: the namespace, locked
 * @spec: what the rule is made of; its comment, payload and lists move to
 *	the rule, unless it fails
 *
 * Return: the rule, or NULL without memory or counter slots.
 */
struct kfw_rule *kfw_rule_alloc(struct kfw_net *kn, struct kfw_rule_spec *spec)
{
	struct kfw_rule *rule;
	int slot;

	lockdep_assert_held(&kn->lock);

	/* Handles index an xarray; 2^32 of them take years on 32-bit. */
	if (kn->next_handle > ULONG_MAX)
		return NULL;
	rule = kzalloc(sizeof(*rule), GFP_KERNEL_ACCOUNT);
	if (!rule)
		return NULL;
	slot = kfw_counters_alloc(&kn->counters);
	if (slot == -ENOSPC) {
		/* Slots of replaced rules may still wait for a grace period. */
		kfw_table_drain();
		slot = kfw_counters_alloc(&kn->counters);
	}
	if (slot < 0) {
		kfree(rule);
		return NULL;
	}
	rule->counter = slot;
	rule->handle = kn->next_handle++;
	rule->dir = spec->dir;
	rule->action = spec->action;
	rule->log = spec->log;
	rule->log_rate = spec->log_rate;
	rule->log_burst = spec->log_burst;
	atomic64_set(&rule->log_tat, 0);
	rule->expires = spec->timeout ? kfw_timed_deadline(spec->timeout) : 0;
	rule->comment = spec->comment;
	rule->over = spec->over;
	rule->match = spec->match;
	if (kfw_rule_index_elements(rule)) {
		kfw_counters_free(&kn->counters, slot);
		kfree(rule);
		return NULL;
	}
	spec->comment = NULL;
	spec->over = NULL;
	spec->match.payload = NULL;
	spec->match.more = NULL;
	spec->log = false;
	return rule;
}

static void kfw_rule_free(struct kfw_counters *counters, struct kfw_rule *rule)
{
	if (rule->log)
		kfw_hooks_logger_put();
	kfw_payload_destroy((struct kfw_payload *)rule->match.payload);
	kfw_more_free(rule->match.more);
	kvfree(rule->elems);
	kfree(rule->comment);
	kfw_limit_destroy(rule->over);
	kfw_counters_free(counters, rule->counter);
	kfree(rule);
}

/* Frees a rule that no reader can see: never published, or past a grace period. */
void kfw_rule_destroy(struct kfw_net *kn, struct kfw_rule *rule)
{
	kfw_rule_free(&kn->counters, rule);
}

void kfw_rule_read_counters(struct kfw_net *kn, const struct kfw_rule *rule,
			    struct kfw_counter *sum)
{
	kfw_counters_read(&kn->counters, rule->counter, sum);
	sum->packets -= READ_ONCE(rule->zeroed.packets);
	sum->bytes -= READ_ONCE(rule->zeroed.bytes);
}

/**
 * kfw_table_classify_over() - kfw_table_classify(), rules with `over` and all
 * @table: current table, under rcu_read_lock()
 * @dir: enum kfw_dir
 * @pkt: the packet
 * @spend: a real packet, which spends from the allowance of every `over`
 *	rule it is within the rate of; false for a what-if, which spends
 *	nothing and is within every rate
 * @now: the time for the rates, as kfw_limit_over() takes it
 *
 * A rule with `over` decides on a packet only once it matched: the rate is
 * checked here, after the classifier picked the rule, and not in
 * kfw_match_packet(), which the classifier also calls for rules that a
 * better one then beats. A packet within the rate goes on to the first
 * rule after it in list order that matches, by the priorities of the
 * classifier itself (rule->prio is the writers'). Rules with `over` are
 * few, so the loop is short.
 *
 * Return: the rule, or NULL when the direction's policy applies.
 */
struct kfw_rule *kfw_table_classify_over(const struct kfw_table *table, u8 dir,
					 const struct kfw_packet *pkt,
					 bool spend, u64 now)
{
	const struct kfw_match *match;
	struct kfw_rule *rule;
	u64 from = 0, prio;
	unsigned int elem;

	for (;;) {
		match = kfw_cls_lookup_from(table->cls[dir], pkt, from, &prio);
		if (!match)
			return NULL;
		rule = kfw_rule_of(match, &elem);
		if (!rule->over || (spend && kfw_limit_over(rule->over, pkt, now)))
			return rule;
		/*
		 * On past the rule's priorities, all of them: another of its
		 * elements must not spend from its allowance again.
		 */
		from = prio - elem + KFW_PRIO_SPAN;
	}
}

/* Frees a list, but not its rules. */
static void kfw_rule_list_free(struct kfw_rule_list *list)
{
	if (!list)
		return;
	xa_destroy(&list->by_handle);
	kfree(list);
}

static void kfw_table_free_work(struct work_struct *work)
{
	struct kfw_rule *rule, *next;
	struct kfw_table *table;
	unsigned int dir;

	table = container_of(to_rcu_work(work), struct kfw_table, free_work);
	if (table->owns_cls)
		for (dir = 0; dir <= KFW_DIR_MAX; dir++)
			kfw_cls_destroy(table->cls[dir]);
	if (table->owns_list) {
		list_for_each_entry_safe(rule, next, &table->list->head, list) {
			kfw_rule_free(table->counters, rule);
			cond_resched();
		}
		kfw_rule_list_free(table->list);
	}
	if (table->dead)
		kfw_rule_free(table->counters, table->dead);
	kfree(table);
}

/*
 * A list, not yet seen by readers, that takes over the rules linked in
 * @rules; or NULL, and they stay there.
 */
static struct kfw_rule_list *kfw_rule_list_make(struct list_head *rules)
{
	struct kfw_rule_list *list;
	struct kfw_rule *rule;
	unsigned int i = 0;

	list = kmalloc(sizeof(*list), GFP_KERNEL_ACCOUNT);
	if (!list)
		return NULL;
	INIT_LIST_HEAD(&list->head);
	INIT_LIST_HEAD(&list->timed);
	xa_init(&list->by_handle);
	list_for_each_entry(rule, rules, list) {
		if (xa_insert(&list->by_handle, rule->handle, rule,
			      GFP_KERNEL_ACCOUNT)) {
			kfw_rule_list_free(list);
			return NULL;
		}
		if (rule->expires)
			list_add_tail(&rule->timed, &list->timed);
		if (!(++i % 1024))
			cond_resched();
	}
	kfw_timed_sort(&list->timed);
	list_splice_init(rules, &list->head);
	return list;
}

/*
 * A table with @old's policies, counts, classifiers and list (not yet its
 * own); the caller adjusts them.
 */
static struct kfw_table *kfw_table_alloc(struct kfw_net *kn,
					 const struct kfw_table *old)
{
	struct kfw_table *table;

	table = kzalloc(sizeof(*table), GFP_KERNEL_ACCOUNT);
	if (!table)
		return NULL;
	INIT_RCU_WORK(&table->free_work, kfw_table_free_work);
	table->counters = &kn->counters;
	table->generation = 1;
	if (old) {
		table->generation = old->generation + 1 ?: 1;
		memcpy(table->policy, old->policy, sizeof(table->policy));
		memcpy(table->cls, old->cls, sizeof(table->cls));
		memcpy(table->nr_dir, old->nr_dir, sizeof(table->nr_dir));
		table->nr_state = old->nr_state;
		table->nr_rules = old->nr_rules;
		table->list = old->list;
	}
	return table;
}

/*
 * A table with @old's policies and a list of its own, which takes over the
 * @nr rules of @rules; or NULL, and they stay there. kfw_table_build()
 * gives it classifiers.
 */
static struct kfw_table *kfw_table_alloc_list(struct kfw_net *kn,
					      const struct kfw_table *old,
					      struct list_head *rules,
					      unsigned int nr)
{
	struct kfw_table *table = kfw_table_alloc(kn, old);

	if (!table)
		return NULL;
	table->list = kfw_rule_list_make(rules);
	if (!table->list) {
		kfree(table);
		return NULL;
	}
	table->nr_rules = nr;
	return table;
}

/*
 * Frees a table with a list of its own that no reader has seen, and gives
 * the list's rules back to @rules. Their timed links are left pointing at
 * the freed list: only kfw_rule_list_make() uses them again, and it sets
 * them anew.
 */
static void kfw_table_free_unseen(struct kfw_table *table,
				  struct list_head *rules)
{
	list_splice_init(&table->list->head, rules);
	kfw_rule_list_free(table->list);
	kfree(table);
}

/*
 * Priorities leave room for 26 insertions between any two rules, each rule
 * taking KFW_PRIO_SPAN of them,
 */
#define KFW_PRIO_GAP	BIT_ULL(32)
/* and for 2^30 insertions in front. */
#define KFW_PRIO_FIRST	BIT_ULL(62)

static u64 kfw_prio_of_index(unsigned int index)
{
	return KFW_PRIO_FIRST + index * KFW_PRIO_GAP;
}

/* Puts @rule, or each of its elements, into a classifier at priority @prio. */
static int kfw_rule_cls_insert(struct kfw_cls *cls, struct kfw_rule *rule, u64 prio)
{
	unsigned int i;
	int err;

	if (!rule->elems)
		return kfw_cls_insert(cls, &rule->match, prio);
	for (i = 0; i < rule->nr_elems; i++) {
		err = kfw_cls_insert(cls, &rule->elems[i].match, prio + i);
		if (err) {
			while (i--)
				kfw_cls_remove(cls, &rule->elems[i].match, prio + i);
			return err;
		}
	}
	return 0;
}

static void kfw_rule_cls_remove(struct kfw_cls *cls, struct kfw_rule *rule)
{
	unsigned int i;

	if (!rule->elems) {
		kfw_cls_remove(cls, &rule->match, rule->prio);
		return;
	}
	for (i = 0; i < rule->nr_elems; i++)
		kfw_cls_remove(cls, &rule->elems[i].match, rule->prio + i);
}

/* Puts @rule into @table's classifiers at @index of the list, and counts it. */
static int kfw_table_build_one(struct kfw_table *table, struct kfw_rule *rule,
			       unsigned int index)
{
	int err = kfw_rule_cls_insert(table->cls[rule->dir], rule,
				      kfw_prio_of_index(index));

	if (err)
		return err;
	table->nr_dir[rule->dir]++;
	table->nr_state += !!(rule->match.fields & KFW_MATCH_STATE);
	if (!(index % 1024))
		cond_resched();
	return 0;
}

/*
 * Gives @table new classifiers holding the rules of its list, and @extra in
 * front of @before (at the end if NULL), with priorities from list order,
 * and counts them. The rules themselves are not touched: some are still in
 * the published table, whose classifiers know them by their current
 * priorities. kfw_table_publish_built() renumbers them once nothing can
 * fail any more.
 */
static int kfw_table_build(struct kfw_table *table, struct kfw_rule *extra,
			   const struct kfw_rule *before)
{
	unsigned int index = 0, dir;
	struct kfw_rule *rule;
	int err = -ENOMEM;

	memset(table->cls, 0, sizeof(table->cls));
	memset(table->nr_dir, 0, sizeof(table->nr_dir));
	table->nr_state = 0;
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		table->cls[dir] = kfw_cls_create();
		if (!table->cls[dir])
			goto fail;
	}
	list_for_each_entry(rule, &table->list->head, list) {
		if (rule == before) {
			err = kfw_table_build_one(table, extra, index++);
			if (err)
				goto fail;
		}
		err = kfw_table_build_one(table, rule, index++);
		if (err)
			goto fail;
	}
	if (extra && !before) {
		err = kfw_table_build_one(table, extra, index);
		if (err)
			goto fail;
	}
	return 0;

fail:
	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		kfw_cls_destroy(table->cls[dir]);
	return err;
}

/* A direction is hooked while it has rules or a policy other than accept. */
static bool kfw_table_hooks_dir(const struct kfw_table *table, u8 dir)
{
	return table->nr_dir[dir] || table->policy[dir] != KFW_VERDICT_ACCEPT;
}

/*
 * What a table needs of the namespace: the hooks of the directions it
 * filters, and connection tracking exactly while it has state matches.
 * Both cost every packet, so they are not there for nothing.
 * kfw_table_needs_get() provides them before a table that needs them is
 * published, and on error takes back what it provided; kfw_table_needs_put()
 * lets go of what the published table no longer needs.
 */
static int kfw_table_needs_get(struct kfw_net *kn,
			       const struct kfw_table *table)
{
	bool hooked[KFW_DIR_MAX + 1];
	int err = 0;
	u8 dir;

	memcpy(hooked, kn->hooked, sizeof(hooked));
	for (dir = 0; dir <= KFW_DIR_MAX && !err; dir++)
		if (kfw_table_hooks_dir(table, dir))
			err = kfw_hooks_want(kn, dir);
	if (!err && table->nr_state && !kn->conntrack) {
		err = nf_ct_netns_get(kn->net, NFPROTO_INET);
		kn->conntrack = !err;
	}
	if (err)
		for (dir = 0; dir <= KFW_DIR_MAX; dir++)
			if (!hooked[dir])
				kfw_hooks_drop(kn, dir);
	return err;
}

/*
 * A table kept for kfw_table_revert() keeps its needs too, so that going
 * back to it cannot fail.
 */
static void kfw_table_needs_put(struct kfw_net *kn)
{
	const struct kfw_table *table = kfw_table_locked(kn);
	const struct kfw_table *kept = kn->kept;
	u8 dir;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		if (!kfw_table_hooks_dir(table, dir) &&
		    !(kept && kfw_table_hooks_dir(kept, dir)))
			kfw_hooks_drop(kn, dir);
	if (!table->nr_state && !(kept && kept->nr_state) && kn->conntrack) {
		nf_ct_netns_put(kn->net, NFPROTO_INET);
		kn->conntrack = false;
	}
}

/*
 * Swaps @table in; the old table and @dead go after a grace period, with
 * the classifiers and the list (and its rules) unless @table took them
 * over or the namespace keeps them for kfw_table_revert(). Cannot fail.
 */
static void kfw_table_swap(struct kfw_net *kn, struct kfw_table *table,
			   struct kfw_rule *dead)
{
	const struct kfw_table *kept = kn->kept;
	struct kfw_table *old;
	unsigned int dir;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		kfw_cls_publish(table->cls[dir]);
	table->owns_cls = true;
	table->owns_list = true;
	old = rcu_replace_pointer(kn->table, table, lockdep_is_held(&kn->lock));
	old->owns_cls = table->cls[0] != old->cls[0] &&
			!(kept && kept->cls[0] == old->cls[0]);
	old->owns_list = table->list != old->list &&
			 !(kept && kept->list == old->list);
	old->dead = dead;
	queue_rcu_work(kfw_table_wq, &old->free_work);
	kfw_table_needs_put(kn);
}

/*
 * Publishes a table whose classifiers kfw_table_build() made, with @extra
 * linked in front of @before. A table with a list of its own replaces every
 * rule. On error the classifiers are destroyed, the caller frees the table,
 * and nothing changed.
 */
static int kfw_table_publish_built(struct kfw_net *kn, struct kfw_table *table,
				   struct kfw_rule *extra, struct kfw_rule *before)
{
	unsigned int index = 0;
	struct kfw_rule *rule;
	int err;

	err = kfw_table_needs_get(kn, table);
	if (err) {
		for (index = 0; index <= KFW_DIR_MAX; index++)
			kfw_cls_destroy(table->cls[index]);
		return err;
	}
	if (extra)
		list_add_tail_rcu(&extra->list,
				  before ? &before->list : &table->list->head);
	/* Only writers read rule->prio, and they hold the lock. */
	list_for_each_entry(rule, &table->list->head, list)
		rule->prio = kfw_prio_of_index(index++);
	kfw_table_swap(kn, table, NULL);
	return 0;
}

/*
 * Frees @table, never published, and @rule after a grace period: a failed
 * insertion into a live classifier may have shown the rule to readers
 * before it took it out again. The table owns neither classifiers nor list.
 */
static void kfw_table_discard_shown(struct kfw_table *table,
				    struct kfw_rule *rule)
{
	table->dead = rule;
	queue_rcu_work(kfw_table_wq, &table->free_work);
}

int kfw_table_init(struct kfw_net *kn)
{
	LIST_HEAD(none);
	struct kfw_table *table = kfw_table_alloc_list(kn, NULL, &none, 0);

	if (!table)
		return -ENOMEM;
	if (kfw_table_build(table, NULL, NULL)) {
		kfw_table_free_unseen(table, &none);
		return -ENOMEM;
	}
	table->owns_cls = true;
	table->owns_list = true;
	RCU_INIT_POINTER(kn->table, table);
	return 0;
}

/* Frees a table with its classifiers and list, which no reader can see. */
static void kfw_table_destroy_one(struct kfw_net *kn, struct kfw_table *table)
{
	struct kfw_rule *rule, *next;
	unsigned int i;

	for (i = 0; i <= KFW_DIR_MAX; i++)
		kfw_cls_destroy(table->cls[i]);
	list_for_each_entry_safe(rule, next, &table->list->head, list)
		kfw_rule_destroy(kn, rule);
	kfw_rule_list_free(table->list);
	kfree(table);
}

/* For namespace exit: the hooks are gone, so nobody reads the tables. */
void kfw_table_destroy(struct kfw_net *kn)
{
	if (kn->kept)
		kfw_table_destroy_one(kn, kn->kept);
	kn->kept = NULL;
	kfw_table_destroy_one(kn, rcu_dereference_protected(kn->table, true));
	RCU_INIT_POINTER(kn->table, NULL);
}

/**
 * kfw_table_rule_at() - the rule at a position of the list, for writers
 * @table: the current table, locked
 * @index: 0-based position
 *
 * Walks from the nearer end: an insertion near the top or the bottom, the
 * usual places, costs a few steps at any size.
 *
 * Return: the rule, or NULL past the end.
 */
struct kfw_rule *kfw_table_rule_at(const struct kfw_table *table,
				   unsigned int index)
{
	const struct list_head *pos, *head = &table->list->head;
	unsigned int i;

	if (index >= table->nr_rules)
		return NULL;
	if (index < table->nr_rules / 2) {
		for (pos = head->next, i = 0; i < index; i++)
			pos = pos->next;
	} else {
		for (pos = head->prev, i = table->nr_rules - 1; i > index; i--)
			pos = pos->prev;
	}
	return list_entry(pos, struct kfw_rule, list);
}

/*
 * A priority between @next and the rule before it (the last rule if @next
 * is NULL), or 0 if there is no room and the table must be renumbered.
 * Priorities are never 0.
 */
static u64 kfw_table_prio_before(const struct kfw_rule_list *list,
				 const struct kfw_rule *next)
{
	const struct list_head *prev = next ? next->list.prev : list->head.prev;
	u64 before, after;

	/* The last priority the rule before may take, or 0. */
	before = prev == &list->head ? 0 :
		 list_entry(prev, struct kfw_rule, list)->prio + KFW_PRIO_SPAN - 1;
	if (!next) {
		if (!before)
			return KFW_PRIO_FIRST;
		return before <= U64_MAX - KFW_PRIO_GAP ? before + KFW_PRIO_GAP : 0;
	}
	after = next->prio;
	if (!before && after > KFW_PRIO_GAP)
		return after - KFW_PRIO_GAP;
	/* The new rule takes [prio, prio + KFW_PRIO_SPAN), between the two. */
	if (after - before <= KFW_PRIO_SPAN)
		return 0;
	return before + 1 + (after - before - 1 - KFW_PRIO_SPAN) / 2;
}

/**
 * kfw_table_insert() - publish a table with one more rule
 * @kn: the namespace, locked
 * @rule: from kfw_rule_alloc(); the table's from now on, even on error
 * @index: 0-based position in the list, at most the number of rules
 *
 * The rule joins the current classifiers and list in place, unless its
 * neighbours' priorities leave no room: then the whole table is renumbered
 * and its classifiers rebuilt, once every 32 insertions at the same place
 * at worst.
 *
 * On error the rule is freed: at once if no reader could have seen it, after
 * a grace period if the classifier showed it before the error.
 *
 * Return: 0, -ENOSPC past kfw_max_rules, -ERANGE for a bad @index, -ENOMEM.
 */
int kfw_table_insert(struct kfw_net *kn, struct kfw_rule *rule,
		     unsigned int index)
{
	struct kfw_table *old = kfw_table_locked(kn), *table;
	struct xarray *by_handle = &old->list->by_handle;
	struct kfw_rule *next;
	int err;

	err = old->nr_rules >= kfw_max_rules ? -ENOSPC :
	      index > old->nr_rules ? -ERANGE : 0;
	table = err ? NULL : kfw_table_alloc(kn, old);
	if (!table) {
		kfw_rule_destroy(kn, rule);
		return err ?: -ENOMEM;
	}
	err = xa_insert(by_handle, rule->handle, rule, GFP_KERNEL_ACCOUNT);
	if (err)
		goto fail;
	next = kfw_table_rule_at(old, index);
	table->nr_rules++;

	rule->prio = kfw_table_prio_before(old->list, next);
	if (!rule->prio) {
		/* New classifiers, seen by no reader until published. */
		err = kfw_table_build(table, rule, next);
		if (!err)
			err = kfw_table_publish_built(kn, table, rule, next);
		if (err)
			goto fail_stored;
		goto timed;
	}

	table->nr_dir[rule->dir]++;
	table->nr_state += !!(rule->match.fields & KFW_MATCH_STATE);
	err = kfw_table_needs_get(kn, table);
	if (err)
		goto fail_stored;
	err = kfw_rule_cls_insert(table->cls[rule->dir], rule, rule->prio);
	if (err) {
		xa_erase(by_handle, rule->handle);
		kfw_table_needs_put(kn);
		kfw_table_discard_shown(table, rule);
		return err;
	}
	list_add_tail_rcu(&rule->list, next ? &next->list : &old->list->head);
	kfw_table_swap(kn, table, NULL);
timed:
	/* The list is the same old one, which the new table took over. */
	if (rule->expires)
		kfw_timed_add(&old->list->timed, rule);
	return 0;

fail_stored:
	xa_erase(by_handle, rule->handle);
fail:
	kfree(table);
	kfw_rule_destroy(kn, rule);
	return err;
}

/**
 * kfw_table_delete() - publish a table without the rule of a handle
 * @kn: the namespace, locked
 * @handle: the rule's handle
 *
 * Return: 0, -ENOENT if no rule has @handle, -ENOMEM.
 */
int kfw_table_delete(struct kfw_net *kn, u64 handle)
{
	struct kfw_table *old = kfw_table_locked(kn), *table;
	struct kfw_rule *rule;

	rule = handle <= ULONG_MAX ? xa_load(&old->list->by_handle, handle) : NULL;
	if (!rule)
		return -ENOENT;
	table = kfw_table_alloc(kn, old);
	if (!table)
		return -ENOMEM;
	table->nr_rules--;
	table->nr_dir[rule->dir]--;
	table->nr_state -= !!(rule->match.fields & KFW_MATCH_STATE);
	kfw_rule_cls_remove(table->cls[rule->dir], rule);
	xa_erase(&old->list->by_handle, handle);
	list_del_rcu(&rule->list);
	if (rule->expires)
		list_del(&rule->timed);
	kfw_table_swap(kn, table, rule);
	return 0;
}

int kfw_table_flush(struct kfw_net *kn)
{
	LIST_HEAD(none);

	return kfw_table_replace(kn, &none, 0, kfw_table_locked(kn)->policy,
				 KFW_REPLACE_ZERO);
}

int kfw_table_set_policy(struct kfw_net *kn, u8 dir, u8 verdict)
{
	struct kfw_table *old = kfw_table_locked(kn), *table;
	int err;

	table = kfw_table_alloc(kn, old);
	if (!table)
		return -ENOMEM;
	table->policy[dir] = verdict;
	err = kfw_table_needs_get(kn, table);
	if (err) {
		kfree(table);
		return err;
	}
	kfw_table_swap(kn, table, NULL);
	return 0;
}

/* Destroys the classifiers of a table that was never published. */
static void kfw_table_destroy_cls(struct kfw_table *table)
{
	unsigned int dir;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		kfw_cls_destroy(table->cls[dir]);
}

/**
 * kfw_table_replace() - publish a whole new list of rules and policies
 * @kn: the namespace, locked
 * @rules: the new rules, from kfw_rule_alloc(), linked in list order
 *	through kfw_rule.list; the table takes them over on success, and
 *	they stay in @rules on error or with KFW_REPLACE_CHECK
 * @nr: how many
 * @policy: the new policies
 * @flags: KFW_REPLACE_* bits
 *
 * The new classifiers are built aside, while the packet path still uses the
 * old ones, and the new table replaces the old one with one pointer store.
 * Rules that the new list leaves unchanged keep their counts (carry.c)
 * unless @flags has KFW_REPLACE_ZERO. With KFW_REPLACE_KEEP the replaced
 * table is kept, whole, for kfw_table_revert() or kfw_table_forget_kept().
 *
 * Return: 0, -ENOMEM, or -EBUSY when a table is already kept; on error, and
 * with KFW_REPLACE_CHECK, nothing changed.
 */
int kfw_table_replace(struct kfw_net *kn, struct list_head *rules,
		      unsigned int nr, const u8 *policy, unsigned int flags)
{
	struct kfw_table *old = kfw_table_locked(kn), *table, *kept = NULL;
	int err;

	if ((flags & KFW_REPLACE_KEEP) && kn->kept)
		return -EBUSY;
	table = kfw_table_alloc_list(kn, old, rules, nr);
	if (!table)
		return -ENOMEM;
	memcpy(table->policy, policy, sizeof(table->policy));
	err = kfw_table_build(table, NULL, NULL);
	if (err)
		goto free;
	if (flags & KFW_REPLACE_CHECK)
		goto destroy_cls;
	if (!(flags & KFW_REPLACE_ZERO)) {
		err = kfw_carry_counters(kn, &old->list->head, old->nr_rules,
					 &table->list->head);
		if (err)
			goto destroy_cls;
	}
	if (flags & KFW_REPLACE_KEEP) {
		err = -ENOMEM;
		kept = kfw_table_alloc(kn, old);
		if (!kept)
			goto destroy_cls;
		kn->kept = kept;
	}
	err = kfw_table_publish_built(kn, table, NULL, NULL);
	if (!err)
		return 0;
	kn->kept = NULL;
	kfree(kept);
	goto free;

destroy_cls:
	kfw_table_destroy_cls(table);
free:
	kfw_table_free_unseen(table, rules);
	return err;
}

/**
 * kfw_table_revert() - publish the table that kfw_table_replace() kept
 * @kn: the namespace, locked, with a kept table
 *
 * The current table goes, with every rule made since. Cannot fail: the
 * kept table's header was made when it was kept, and its hooks and
 * connection tracking stayed.
 */
void kfw_table_revert(struct kfw_net *kn)
{
	struct kfw_table *table = kn->kept;

	kn->kept = NULL;
	table->generation = kfw_table_locked(kn)->generation + 1 ?: 1;
	kfw_table_swap(kn, table, NULL);
}

/**
 * kfw_table_forget_kept() - let the kept table go
 * @kn: the namespace, locked, with a kept table
 *
 * It is freed, with its rules, after a grace period: a packet may still be
 * on its way through its classifiers.
 */
void kfw_table_forget_kept(struct kfw_net *kn)
{
	struct kfw_table *table = kn->kept;

	kn->kept = NULL;
	table->owns_cls = true;
	table->owns_list = true;
	queue_rcu_work(kfw_table_wq, &table->free_work);
	kfw_table_needs_put(kn);
}

static void kfw_table_zero_list(struct kfw_net *kn, struct kfw_rule_list *list)
{
	struct kfw_counter sum;
	struct kfw_rule *rule;

	list_for_each_entry(rule, &list->head, list) {
		kfw_counters_read(&kn->counters, rule->counter, &sum);
		WRITE_ONCE(rule->zeroed.packets, sum.packets);
		WRITE_ONCE(rule->zeroed.bytes, sum.bytes);
	}
}

/*
 * Counters are zeroed by remembering their current sums, not by writing to
 * other CPUs; those of a kept table too, which may come back.
 */
void kfw_table_zero(struct kfw_net *kn)
{
	kfw_table_zero_list(kn, kfw_table_locked(kn)->list);
	if (kn->kept)
		kfw_table_zero_list(kn, kn->kept->list);
}
