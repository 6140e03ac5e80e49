// SPDX-License-Identifier: GPL-2.0
/*
 * The rule table: immutable snapshots, replaced whole under the namespace's
 * lock and published with RCU. The packet path only ever reads a snapshot.
 */

#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>

#include "hooks.h"
#include "netns.h"
#include "payload.h"
#include "table.h"

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
	kfree(spec->comment);
	spec->comment = NULL;
}

/**
 * kfw_rule_alloc() - make a rule, not yet in any table
 * @kn: the namespace, locked
 * @spec: what the rule is made of; its comment and payload move to the rule
 *
 * Return: the rule, or NULL without memory or counter slots.
 */
struct kfw_rule *kfw_rule_alloc(struct kfw_net *kn, struct kfw_rule_spec *spec)
{
	struct kfw_rule *rule;
	int slot;

	lockdep_assert_held(&kn->lock);

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
	rule->log_cost = div_u64(60 * NSEC_PER_SEC, spec->log_rate);
	atomic64_set(&rule->log_tat, 0);
	rule->comment = spec->comment;
	rule->match = spec->match;
	spec->comment = NULL;
	spec->match.payload = NULL;
	spec->log = false;
	return rule;
}

static void kfw_rule_free(struct kfw_counters *counters, struct kfw_rule *rule)
{
	if (rule->log)
		kfw_hooks_logger_put();
	kfw_payload_destroy((struct kfw_payload *)rule->match.payload);
	kfree(rule->comment);
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

static void kfw_table_free_work(struct work_struct *work)
{
	struct kfw_table *table;
	struct kfw_rule *rule;
	unsigned int dir;

	table = container_of(to_rcu_work(work), struct kfw_table, free_work);
	if (table->owns_cls)
		for (dir = 0; dir <= KFW_DIR_MAX; dir++)
			kfw_cls_destroy(table->cls[dir]);
	while (table->dead) {
		rule = table->dead;
		table->dead = rule->next_dead;
		kfw_rule_free(table->counters, rule);
		cond_resched();
	}
	kvfree(table);
}

/*
 * A table of @nr rules with @old's policies, counts and classifiers (not yet
 * its own); the caller fills @rules and adjusts the rest. Only the header is
 * zeroed: the caller writes every rule pointer.
 */
static struct kfw_table *kfw_table_alloc(struct kfw_net *kn, unsigned int nr,
					 const struct kfw_table *old)
{
	struct kfw_table *table;

	table = kvmalloc(size_add(struct_size(table, rules, nr),
				  array_size(nr, sizeof(*table->handles))),
			 GFP_KERNEL_ACCOUNT);
	if (!table)
		return NULL;
	memset(table, 0, sizeof(*table));
	INIT_RCU_WORK(&table->free_work, kfw_table_free_work);
	table->counters = &kn->counters;
	table->nr_rules = nr;
	table->handles = (u64 *)(table->rules + nr);
	table->generation = 1;
	if (old) {
		table->generation = old->generation + 1 ?: 1;
		memcpy(table->policy, old->policy, sizeof(table->policy));
		memcpy(table->cls, old->cls, sizeof(table->cls));
		memcpy(table->nr_dir, old->nr_dir, sizeof(table->nr_dir));
		table->nr_state = old->nr_state;
	}
	return table;
}

/* Copies @nr rules, and their handles, from @old at @from to @table at @to. */
static void kfw_table_copy(struct kfw_table *table, unsigned int to,
			   const struct kfw_table *old, unsigned int from,
			   unsigned int nr)
{
	memcpy(table->rules + to, old->rules + from, nr * sizeof(*old->rules));
	memcpy(table->handles + to, old->handles + from,
	       nr * sizeof(*old->handles));
}

/* Priorities leave room for 32 insertions between any two rules. */
#define KFW_PRIO_GAP	BIT_ULL(32)
/* and for 2^30 insertions in front. */
#define KFW_PRIO_FIRST	BIT_ULL(62)

static u64 kfw_prio_of_index(unsigned int index)
{
	return KFW_PRIO_FIRST + index * KFW_PRIO_GAP;
}

/*
 * Gives @table new classifiers holding its rules, with priorities from its
 * list order, and counts its rules. The rules themselves are not touched:
 * some are still in the published table, whose classifiers know them by
 * their current priorities. kfw_table_publish_built() renumbers them once
 * nothing can fail any more.
 */
static int kfw_table_build(struct kfw_table *table)
{
	struct kfw_rule *rule;
	unsigned int i, dir;
	int err = -ENOMEM;

	memset(table->cls, 0, sizeof(table->cls));
	memset(table->nr_dir, 0, sizeof(table->nr_dir));
	table->nr_state = 0;
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		table->cls[dir] = kfw_cls_create();
		if (!table->cls[dir])
			goto fail;
	}
	for (i = 0; i < table->nr_rules; i++) {
		rule = table->rules[i];
		err = kfw_cls_insert(table->cls[rule->dir], &rule->match,
				     kfw_prio_of_index(i));
		if (err)
			goto fail;
		table->nr_dir[rule->dir]++;
		table->nr_state += !!(rule->match.fields & KFW_MATCH_STATE);
		if (!(i % 1024))
			cond_resched();
	}
	table->owns_cls = true;
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

static void kfw_table_needs_put(struct kfw_net *kn)
{
	const struct kfw_table *table = kfw_table_locked(kn);
	u8 dir;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		if (!kfw_table_hooks_dir(table, dir))
			kfw_hooks_drop(kn, dir);
	if (!table->nr_state && kn->conntrack) {
		nf_ct_netns_put(kn->net, NFPROTO_INET);
		kn->conntrack = false;
	}
}

/*
 * Swaps @table in; the old table and @dead go after a grace period, and the
 * classifiers with it unless @table took them over. Cannot fail.
 */
static void kfw_table_swap(struct kfw_net *kn, struct kfw_table *table,
			   struct kfw_rule *dead)
{
	struct kfw_table *old;
	unsigned int dir;

	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		kfw_cls_publish(table->cls[dir]);
	old = rcu_replace_pointer(kn->table, table, lockdep_is_held(&kn->lock));
	if (table->cls[0] == old->cls[0])
		old->owns_cls = false;
	old->dead = dead;
	queue_rcu_work(kfw_table_wq, &old->free_work);
	kfw_table_needs_put(kn);
}

/*
 * Publishes a table whose classifiers kfw_table_build() made. On error the
 * table is freed and nothing changed.
 */
static int kfw_table_publish_built(struct kfw_net *kn, struct kfw_table *table,
				   struct kfw_rule *dead)
{
	unsigned int i;
	int err;

	err = kfw_table_needs_get(kn, table);
	if (err) {
		for (i = 0; i <= KFW_DIR_MAX; i++)
			kfw_cls_destroy(table->cls[i]);
		kvfree(table);
		return err;
	}
	/* Only writers read rule->prio, and they hold the lock. */
	for (i = 0; i < table->nr_rules; i++)
		table->rules[i]->prio = kfw_prio_of_index(i);
	kfw_table_swap(kn, table, dead);
	return 0;
}

/*
 * Frees @table, never published, and @rule after a grace period: a failed
 * insertion into a live classifier may have shown the rule to readers
 * before it took it out again.
 */
static void kfw_table_discard_shown(struct kfw_table *table,
				    struct kfw_rule *rule)
{
	table->owns_cls = false;
	rule->next_dead = NULL;
	table->dead = rule;
	queue_rcu_work(kfw_table_wq, &table->free_work);
}

/* Publishes a table that shares the current classifiers, as they are now. */
static void kfw_table_publish_shared(struct kfw_net *kn,
				     struct kfw_table *table,
				     struct kfw_rule *dead)
{
	table->owns_cls = true;
	kfw_table_swap(kn, table, dead);
}

/* Links every rule of @table into a dead list. */
static struct kfw_rule *kfw_table_all_dead(const struct kfw_table *table)
{
	struct kfw_rule *dead = NULL;
	unsigned int i;

	for (i = 0; i < table->nr_rules; i++) {
		table->rules[i]->next_dead = dead;
		dead = table->rules[i];
	}
	return dead;
}

int kfw_table_init(struct kfw_net *kn)
{
	struct kfw_table *table = kfw_table_alloc(kn, 0, NULL);

	if (!table)
		return -ENOMEM;
	if (kfw_table_build(table)) {
		kvfree(table);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(kn->table, table);
	return 0;
}

/* For namespace exit: the hooks are gone, so nobody reads the table. */
void kfw_table_destroy(struct kfw_net *kn)
{
	struct kfw_table *table = rcu_dereference_protected(kn->table, true);
	unsigned int i;

	for (i = 0; i <= KFW_DIR_MAX; i++)
		kfw_cls_destroy(table->cls[i]);
	for (i = 0; i < table->nr_rules; i++)
		kfw_rule_destroy(kn, table->rules[i]);
	kvfree(table);
	RCU_INIT_POINTER(kn->table, NULL);
}

/*
 * A priority between the rules around @index, or 0 if there is no room and
 * the table must be renumbered. Priorities are never 0.
 */
static u64 kfw_table_prio_at(const struct kfw_table *table, unsigned int index)
{
	u64 before, after;

	if (!table->nr_rules)
		return KFW_PRIO_FIRST;
	if (index == table->nr_rules) {
		before = table->rules[index - 1]->prio;
		return before <= U64_MAX - KFW_PRIO_GAP ? before + KFW_PRIO_GAP : 0;
	}
	after = table->rules[index]->prio;
	before = index ? table->rules[index - 1]->prio : 0;
	if (!index && after > KFW_PRIO_GAP)
		return after - KFW_PRIO_GAP;
	return after - before >= 2 ? before + (after - before) / 2 : 0;
}

/**
 * kfw_table_insert() - publish a table with one more rule
 * @kn: the namespace, locked
 * @rule: from kfw_rule_alloc(); the table's from now on, even on error
 * @index: 0-based position in the list, at most the number of rules
 *
 * The rule joins the current classifiers in place, unless its neighbours'
 * priorities leave no room: then the whole table is renumbered and rebuilt,
 * once every 32 insertions at the same place at worst.
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
	int err;

	err = old->nr_rules >= kfw_max_rules ? -ENOSPC :
	      index > old->nr_rules ? -ERANGE : 0;
	table = err ? NULL : kfw_table_alloc(kn, old->nr_rules + 1, old);
	if (!table) {
		kfw_rule_destroy(kn, rule);
		return err ?: -ENOMEM;
	}
	kfw_table_copy(table, 0, old, 0, index);
	table->rules[index] = rule;
	table->handles[index] = rule->handle;
	kfw_table_copy(table, index + 1, old, index, old->nr_rules - index);

	rule->prio = kfw_table_prio_at(old, index);
	if (!rule->prio) {
		/* New classifiers, seen by no reader until published. */
		err = kfw_table_build(table);
		if (!err)
			err = kfw_table_publish_built(kn, table, NULL);
		else
			kvfree(table);
		if (err)
			kfw_rule_destroy(kn, rule);
		return err;
	}

	table->nr_dir[rule->dir]++;
	table->nr_state += !!(rule->match.fields & KFW_MATCH_STATE);
	err = kfw_table_needs_get(kn, table);
	if (err) {
		kvfree(table);
		kfw_rule_destroy(kn, rule);
		return err;
	}
	err = kfw_cls_insert(table->cls[rule->dir], &rule->match, rule->prio);
	if (err) {
		kfw_table_needs_put(kn);
		kfw_table_discard_shown(table, rule);
		return err;
	}
	kfw_table_publish_shared(kn, table, NULL);
	return 0;
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
	unsigned int index;

	for (index = 0; index < old->nr_rules; index++)
		if (old->handles[index] == handle)
			break;
	if (index == old->nr_rules)
		return -ENOENT;

	table = kfw_table_alloc(kn, old->nr_rules - 1, old);
	if (!table)
		return -ENOMEM;
	rule = old->rules[index];
	kfw_table_copy(table, 0, old, 0, index);
	kfw_table_copy(table, index, old, index + 1, old->nr_rules - index - 1);
	table->nr_dir[rule->dir]--;
	table->nr_state -= !!(rule->match.fields & KFW_MATCH_STATE);
	kfw_cls_remove(table->cls[rule->dir], &rule->match, rule->prio);
	rule->next_dead = NULL;
	kfw_table_publish_shared(kn, table, rule);
	return 0;
}

int kfw_table_flush(struct kfw_net *kn)
{
	struct kfw_table *old = kfw_table_locked(kn), *table;
	int err;

	table = kfw_table_alloc(kn, 0, old);
	if (!table)
		return -ENOMEM;
	err = kfw_table_build(table);
	if (err) {
		kvfree(table);
		return err;
	}
	return kfw_table_publish_built(kn, table, kfw_table_all_dead(old));
}

int kfw_table_set_policy(struct kfw_net *kn, u8 dir, u8 verdict)
{
	struct kfw_table *old = kfw_table_locked(kn), *table;
	int err;

	table = kfw_table_alloc(kn, old->nr_rules, old);
	if (!table)
		return -ENOMEM;
	kfw_table_copy(table, 0, old, 0, old->nr_rules);
	table->policy[dir] = verdict;
	err = kfw_table_needs_get(kn, table);
	if (err) {
		kvfree(table);
		return err;
	}
	kfw_table_publish_shared(kn, table, NULL);
	return 0;
}

/**
 * kfw_table_replace() - publish a whole new list of rules and policies
 * @kn: the namespace, locked
 * @rules: the new rules, from kfw_rule_alloc(); owned by the table on success
 * @nr: how many
 * @policy: the new policies
 *
 * The new classifiers are built aside, while the packet path still uses the
 * old ones, and the new table replaces the old one with one pointer store.
 *
 * Return: 0 or -ENOMEM; on error nothing changed.
 */
int kfw_table_replace(struct kfw_net *kn, struct kfw_rule **rules,
		      unsigned int nr, const u8 *policy)
{
	struct kfw_table *old = kfw_table_locked(kn), *table;
	unsigned int i;
	int err;

	table = kfw_table_alloc(kn, nr, old);
	if (!table)
		return -ENOMEM;
	memcpy(table->rules, rules, nr * sizeof(*rules));
	for (i = 0; i < nr; i++)
		table->handles[i] = rules[i]->handle;
	memcpy(table->policy, policy, sizeof(table->policy));
	err = kfw_table_build(table);
	if (err) {
		kvfree(table);
		return err;
	}
	return kfw_table_publish_built(kn, table, kfw_table_all_dead(old));
}

/* Counters are zeroed by remembering their current sums, not by writing to other CPUs. */
void kfw_table_zero(struct kfw_net *kn)
{
	struct kfw_table *table = kfw_table_locked(kn);
	struct kfw_counter sum;
	unsigned int i;

	for (i = 0; i < table->nr_rules; i++) {
		struct kfw_rule *rule = table->rules[i];

		kfw_counters_read(&kn->counters, rule->counter, &sum);
		WRITE_ONCE(rule->zeroed.packets, sum.packets);
		WRITE_ONCE(rule->zeroed.bytes, sum.bytes);
	}
}
