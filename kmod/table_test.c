// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_table: building, publishing and replacing rule tables.
 *
 * The single-threaded cases check what each change publishes: positions,
 * the per-direction index, generations, policies, limits, counter slots and
 * the chunked replace transaction. The concurrent case runs readers on
 * every CPU that walk the published table under RCU in a tight loop while
 * the test inserts, deletes, flushes and replaces; every table a reader
 * sees must be whole (see kfw_table_check()), and with KASAN a table or
 * rule freed while a reader still holds it would be reported as a
 * use-after-free.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/slab.h>

#include "replace.h"
#include "table.h"
#include "test_util.h"

/* --- Helpers -------------------------------------------------------------- */

/*
 * Rules of these tests match every packet in state NEW; they are told apart
 * by a tag in the source port range, which takes no part in matching without
 * KFW_MATCH_SPORT. Every third tag's rules ask for the state, and tables
 * with them make the namespace track connections.
 */
static struct kfw_rule *kfw_table_rule(struct kfw_net *kn, u8 dir, u16 tag)
{
	struct kfw_match m = { .sport = { tag, tag }, .states = KFW_STATE_NEW };

	if (!(tag % 3))
		m.fields |= KFW_MATCH_STATE;
	return kfw_test_rule_alloc(kn, dir, KFW_VERDICT_ACCEPT, &m);
}

static u16 kfw_table_tag(const struct kfw_rule *rule)
{
	return rule->match.sport.first;
}

static int kfw_table_insert_tag(struct kunit *test, struct kfw_net *kn, u8 dir,
				u16 tag, unsigned int index)
{
	struct kfw_rule *rule;
	int err;

	mutex_lock(&kn->lock);
	rule = kfw_table_rule(kn, dir, tag);
	err = rule ? kfw_table_insert(kn, rule, index) : -ENOMEM;
	mutex_unlock(&kn->lock);
	return err;
}

/* Stages a rule in @owner's transaction; with the lock held. */
static int kfw_table_stage(struct kfw_net *kn, u64 owner, u8 dir, u16 tag,
			   struct netlink_ext_ack *extack)
{
	struct kfw_rule *rule = kfw_table_rule(kn, dir, tag);
	int err;

	if (!rule)
		return -ENOMEM;
	err = kfw_replace_append(kn, owner, rule, extack);
	if (err)
		kfw_rule_destroy(kn, rule);
	return err;
}

/* Policies for kfw_replace_begin() that keep the current ones. */
static const u8 kfw_table_keep[KFW_DIR_MAX + 1] = {
	KFW_VERDICT_MAX + 1, KFW_VERDICT_MAX + 1
};

static const struct kfw_table *kfw_table_now(struct kfw_net *kn)
{
	return rcu_dereference_protected(kn->table, true);
}

/*
 * Is @t whole? Its counts add up, and its list holds rules of known
 * directions. A reader can check this of any table it sees: the list
 * changes in place, so its length need not be @t->nr_rules. Return: NULL,
 * or what is wrong.
 */
static const char *kfw_table_check(const struct kfw_table *t)
{
	const struct kfw_rule *rule;

	if (!t)
		return "no table";
	if (t->nr_dir[KFW_DIR_IN] + t->nr_dir[KFW_DIR_OUT] != t->nr_rules)
		return "nr_dir[in] + nr_dir[out] != nr_rules";
	if (!t->generation)
		return "generation 0";
	if (t->policy[KFW_DIR_IN] > KFW_VERDICT_MAX || t->policy[KFW_DIR_OUT] > KFW_VERDICT_MAX)
		return "bad policy";
	list_for_each_entry_rcu(rule, &t->list->head, list)
		if (rule->dir > KFW_DIR_MAX)
			return "bad direction";
	return NULL;
}

/*
 * What only the writer can check of the list: it is as long as the table
 * says, its counts are right, its priorities follow list order, and its
 * handle index finds each of its rules and nothing else.
 */
static const char *kfw_table_check_list(const struct kfw_table *t)
{
	unsigned int nr = 0, nr_state = 0, indexed = 0;
	unsigned int seen[KFW_DIR_MAX + 1] = {};
	const struct kfw_rule *rule, *prev = NULL;
	unsigned long handle;
	void *entry;

	list_for_each_entry(rule, &t->list->head, list) {
		if (!rule->prio || (prev && rule->prio <= prev->prio))
			return "priorities out of list order";
		if (xa_load(&t->list->by_handle, rule->handle) != rule)
			return "the handle index does not find a rule";
		seen[rule->dir]++;
		nr_state += !!(rule->match.fields & KFW_MATCH_STATE);
		prev = rule;
		nr++;
	}
	xa_for_each(&t->list->by_handle, handle, entry)
		indexed++;
	if (nr != t->nr_rules)
		return "the list is not nr_rules long";
	if (indexed != nr)
		return "the handle index holds rules not in the list";
	if (nr_state != t->nr_state)
		return "nr_state is not the number of state matches";
	if (seen[KFW_DIR_IN] != t->nr_dir[KFW_DIR_IN])
		return "nr_dir is not the number of rules of a direction";
	return NULL;
}

/* The first rule of a direction in list order, or NULL. */
static struct kfw_rule *kfw_table_first(const struct kfw_table *t, u8 dir)
{
	struct kfw_rule *rule;

	list_for_each_entry(rule, &t->list->head, list)
		if (rule->dir == dir)
			return rule;
	return NULL;
}

/*
 * What the writer checks of the current table, besides kfw_table_check():
 * it owns its classifiers, each holds exactly its direction's rules, and,
 * when every rule matches every packet, each picks its direction's first.
 */
static const char *kfw_table_check_current(const struct kfw_table *t,
					   bool match_all)
{
	static const struct kfw_packet pkt = {
		.family = NFPROTO_IPV4, .state = KFW_STATE_NEW,
	};
	struct kfw_cls_stats stats;
	const char *why;
	unsigned int dir;

	why = kfw_table_check(t) ?: kfw_table_check_list(t);
	if (why)
		return why;
	if (!t->owns_cls || !t->owns_list)
		return "the current table does not own its classifiers and list";
	for (dir = 0; dir <= KFW_DIR_MAX; dir++) {
		kfw_cls_stats(t->cls[dir], &stats);
		if (stats.rules != t->nr_dir[dir])
			return "a classifier does not hold its direction's rules";
		if (match_all && kfw_test_classify(t, dir, &pkt) != kfw_table_first(t, dir))
			return "kfw_table_classify did not pick the first rule";
	}
	return NULL;
}

/* The handles of the table, in order, must be @want. */
static void kfw_table_expect(struct kunit *test, struct kfw_net *kn,
			     const u16 *tags, unsigned int nr)
{
	const struct kfw_table *t = kfw_table_now(kn);
	unsigned int i;

	KUNIT_EXPECT_NULL(test, kfw_table_check_current(t, true));
	/* The namespace tracks connections exactly while rules ask for states. */
	KUNIT_EXPECT_EQ(test, kn->conntrack, !!t->nr_state);
	KUNIT_ASSERT_EQ(test, t->nr_rules, nr);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, kfw_table_tag(kfw_table_rule_at(t, i)), tags[i],
				    "rule %u", i);
}

/* --- Single-threaded ------------------------------------------------------ */

static void kfw_table_test_insert(struct kunit *test)
{
	static const u16 want[] = { 3, 1, 4, 2 };
	struct kfw_net *kn = test->priv;
	const struct kfw_table *t;
	struct kfw_rule *rule;
	u32 generation = kfw_table_now(kn)->generation;

	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_rules, 0);
	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_OUT, 2, 1), 0);
	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_OUT, 3, 0), 0);
	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 4, 2), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 5, 5), -ERANGE);
	kfw_table_expect(test, kn, want, ARRAY_SIZE(want));

	t = kfw_table_now(kn);
	KUNIT_EXPECT_EQ(test, t->generation, generation + 4);
	KUNIT_ASSERT_EQ(test, t->nr_dir[KFW_DIR_IN], 2);
	KUNIT_ASSERT_EQ(test, t->nr_dir[KFW_DIR_OUT], 2);
	KUNIT_EXPECT_EQ(test, kfw_table_tag(kfw_table_first(t, KFW_DIR_IN)), 1);
	KUNIT_EXPECT_EQ(test, kfw_table_tag(kfw_table_first(t, KFW_DIR_OUT)), 3);

	/* Handles are unique and grow. */
	rule = kfw_table_rule_at(t, 0);
	KUNIT_EXPECT_GT(test, rule->handle, kfw_table_rule_at(t, 3)->handle);
	KUNIT_EXPECT_LT(test, kfw_table_rule_at(t, 1)->handle,
			kfw_table_rule_at(t, 3)->handle);
	KUNIT_EXPECT_NULL(test, kfw_table_rule_at(t, 4));
}

static void kfw_table_test_delete_flush_policy(struct kunit *test)
{
	static const u16 after_delete[] = { 1, 3 };
	struct kfw_net *kn = test->priv;
	const struct kfw_table *t;
	u64 handle;
	u16 tag;

	for (tag = 1; tag <= 3; tag++)
		KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, tag % 2, tag, tag - 1), 0);
	handle = kfw_table_rule_at(kfw_table_now(kn), 1)->handle;

	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_table_delete(kn, handle), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_delete(kn, handle), -ENOENT);
	KUNIT_EXPECT_EQ(test, kfw_table_delete(kn, 0), -ENOENT);
	mutex_unlock(&kn->lock);
	kfw_table_expect(test, kn, after_delete, ARRAY_SIZE(after_delete));

	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_table_set_policy(kn, KFW_DIR_OUT, KFW_VERDICT_DROP), 0);
	mutex_unlock(&kn->lock);
	t = kfw_table_now(kn);
	KUNIT_EXPECT_EQ(test, t->policy[KFW_DIR_OUT], KFW_VERDICT_DROP);
	KUNIT_EXPECT_EQ(test, t->policy[KFW_DIR_IN], KFW_VERDICT_ACCEPT);
	kfw_table_expect(test, kn, after_delete, ARRAY_SIZE(after_delete));

	/* A flush keeps the policies. */
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_table_flush(kn), 0);
	mutex_unlock(&kn->lock);
	t = kfw_table_now(kn);
	kfw_table_expect(test, kn, NULL, 0);
	KUNIT_EXPECT_EQ(test, t->policy[KFW_DIR_OUT], KFW_VERDICT_DROP);
}

static void kfw_table_test_replace(struct kunit *test)
{
	static const u16 want[] = { 10, 11, 12 };
	u8 policy[KFW_DIR_MAX + 1] = { KFW_VERDICT_DROP, KFW_VERDICT_DROP };
	struct kfw_net *kn = test->priv;
	struct kfw_rule *rules[3];
	unsigned int i;
	int err = 0;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	mutex_lock(&kn->lock);
	for (i = 0; i < ARRAY_SIZE(rules) && !err; i++) {
		rules[i] = kfw_table_rule(kn, i % 2, want[i]);
		if (!rules[i])
			err = -ENOMEM;
	}
	if (!err)
		err = kfw_test_replace(kn, rules, ARRAY_SIZE(rules), policy, 0);
	if (err)
		while (i--)
			if (rules[i])
				kfw_rule_destroy(kn, rules[i]);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	kfw_table_expect(test, kn, want, ARRAY_SIZE(want));
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->policy[KFW_DIR_IN], KFW_VERDICT_DROP);
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_dir[KFW_DIR_IN], 2);
}

/* The generation skips 0, which dumps use for "no table seen yet". */
static void kfw_table_test_generation_wraps(struct kunit *test)
{
	struct kfw_net *kn = test->priv;

	mutex_lock(&kn->lock);
	kfw_table_locked(kn)->generation = U32_MAX;
	KUNIT_EXPECT_EQ(test, kfw_table_set_policy(kn, KFW_DIR_IN, KFW_VERDICT_DROP), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_locked(kn)->generation, 1);
	mutex_unlock(&kn->lock);
}

static void kfw_table_test_max_rules(struct kunit *test)
{
	unsigned int saved = kfw_max_rules, staged = 0;
	struct kfw_net *kn = test->priv;
	int err;

	kfw_max_rules = 2;
	KUNIT_EXPECT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 3, 0), -ENOSPC);

	/* A replacement has the same limit. */
	mutex_lock(&kn->lock);
	err = kfw_replace_begin(kn, 1, 1, kfw_table_keep, NULL);
	while (!err && staged++ < 10)
		err = kfw_table_stage(kn, 1, KFW_DIR_OUT, 9, NULL);
	KUNIT_EXPECT_EQ(test, err, -ENOSPC);
	KUNIT_EXPECT_EQ(test, staged, 3);
	kfw_replace_release(kn);
	mutex_unlock(&kn->lock);
	kfw_max_rules = saved;
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_rules, 2);
}

/*
 * Every change frees the replaced rules' counter slots only after a grace
 * period; with more changes than slots, allocation has to wait for them.
 */
static void kfw_table_test_counter_slots(struct kunit *test)
{
	struct kfw_net *kn = test->priv;
	unsigned int slots = kn->counters.nr_chunks * KFW_COUNTERS_PER_CHUNK, i;
	int err = 0;

	for (i = 0; i < slots + slots / 2 && !err; i++) {
		err = kfw_table_insert_tag(test, kn, KFW_DIR_IN, i, 0);
		if (err)
			break;
		mutex_lock(&kn->lock);
		err = kfw_table_delete(kn, kfw_table_rule_at(kfw_table_locked(kn), 0)->handle);
		mutex_unlock(&kn->lock);
	}
	KUNIT_EXPECT_EQ_MSG(test, err, 0, "change %u", i);
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_rules, 0);
}

static void kfw_table_test_zero(struct kunit *test)
{
	struct kfw_net *kn = test->priv;
	struct kfw_counter sum;
	struct kfw_rule *rule;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	rule = kfw_table_rule_at(kfw_table_now(kn), 0);
	kfw_counters_add(&kn->counters, rule->counter, 100);
	kfw_counters_add(&kn->counters, rule->counter, 50);
	kfw_rule_read_counters(kn, rule, &sum);
	KUNIT_EXPECT_EQ(test, sum.packets, 2);
	KUNIT_EXPECT_EQ(test, sum.bytes, 150);

	mutex_lock(&kn->lock);
	kfw_table_zero(kn);
	mutex_unlock(&kn->lock);
	kfw_rule_read_counters(kn, rule, &sum);
	KUNIT_EXPECT_EQ(test, sum.packets, 0);
	KUNIT_EXPECT_EQ(test, sum.bytes, 0);

	kfw_counters_add(&kn->counters, rule->counter, 7);
	kfw_rule_read_counters(kn, rule, &sum);
	KUNIT_EXPECT_EQ(test, sum.packets, 1);
	KUNIT_EXPECT_EQ(test, sum.bytes, 7);
}

/* The chunked transaction of replace.c: nothing shows before the commit. */
static void kfw_table_test_transaction(struct kunit *test)
{
	static const u16 old[] = { 1 }, new[] = { 20, 21, 22 }, restarted[] = { 31 };
	static const u8 drop_out[] = { KFW_VERDICT_MAX + 1, KFW_VERDICT_DROP };
	struct kfw_net *kn = test->priv;
	struct netlink_ext_ack extack;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 100, drop_out, NULL), 0);
	for (i = 0; i < ARRAY_SIZE(new); i++)
		KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_OUT, new[i], NULL), 0);
	mutex_unlock(&kn->lock);
	kfw_table_expect(test, kn, old, ARRAY_SIZE(old));

	mutex_lock(&kn->lock);
	/* Another socket can neither open, add to, commit nor abort it. */
	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 200, 200, kfw_table_keep, &extack), -EBUSY);
	KUNIT_EXPECT_NOT_NULL(test, extack._msg);
	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 200, KFW_DIR_IN, 5, &extack), -ENOENT);
	KUNIT_EXPECT_NOT_NULL(test, extack._msg);
	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 200, 0, 0, &extack), -ENOENT);
	KUNIT_EXPECT_NOT_NULL(test, extack._msg);
	memset(&extack, 0, sizeof(extack));
	KUNIT_EXPECT_EQ(test, kfw_replace_abort(kn, 200, &extack), -ENOENT);
	KUNIT_EXPECT_NOT_NULL(test, extack._msg);
	kfw_replace_drop(kn, 200);
	KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 100, 0, 0, NULL), 0);
	KUNIT_EXPECT_NULL(test, kn->replace);
	mutex_unlock(&kn->lock);
	kfw_table_expect(test, kn, new, ARRAY_SIZE(new));
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->policy[KFW_DIR_IN], KFW_VERDICT_ACCEPT);
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->policy[KFW_DIR_OUT], KFW_VERDICT_DROP);

	/* A restarted transaction starts empty. */
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 100, 0, 0, NULL), -ENOENT);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 100, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 30, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 100, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 31, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 100, 0, 0, NULL), 0);
	mutex_unlock(&kn->lock);
	kfw_table_expect(test, kn, restarted, ARRAY_SIZE(restarted));

	/* Aborted or dropped transactions leave the table alone. */
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 100, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 32, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_replace_abort(kn, 100, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 300, 300, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 300, KFW_DIR_IN, 33, NULL), 0);
	kfw_replace_drop(kn, 300);
	KUNIT_EXPECT_NULL(test, kn->replace);
	mutex_unlock(&kn->lock);
	kfw_table_expect(test, kn, restarted, ARRAY_SIZE(restarted));
}

/*
 * A socket's port id passes to a new socket as soon as the old one is
 * unhashed, before its release drops the transaction: the new socket must
 * not take the transaction over. Only the release of the owner's port
 * drops it, and the release of any other port takes no lock.
 */
static void kfw_table_test_transaction_owner(struct kunit *test)
{
	static const u16 old[] = { 1 };
	struct kfw_net *kn = test->priv;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 7, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 2, NULL), 0);
	/* Another socket, bound to the same port. */
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 101, KFW_DIR_IN, 3, NULL), -ENOENT);
	KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 101, 0, 0, NULL), -ENOENT);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 101, 7, kfw_table_keep, NULL), -EBUSY);
	mutex_unlock(&kn->lock);

	kfw_replace_released(kn, 8);
	KUNIT_EXPECT_NOT_NULL(test, kn->replace);
	KUNIT_EXPECT_EQ(test, READ_ONCE(kn->replace_portid), 7);
	kfw_replace_released(kn, 7);
	KUNIT_EXPECT_NULL(test, kn->replace);
	KUNIT_EXPECT_EQ(test, READ_ONCE(kn->replace_portid), 0);
	kfw_table_expect(test, kn, old, ARRAY_SIZE(old));
}

/*
 * A transaction nobody feeds is dropped with what it staged, and another
 * socket may then open one: a client that stops half-way pins nothing.
 */
static void kfw_table_test_transaction_expiry(struct kunit *test)
{
	unsigned long idle = kfw_replace_idle;
	struct kfw_net *kn = test->priv;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	kfw_replace_idle = 1;
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 7, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 2, NULL), 0);
	mutex_unlock(&kn->lock);
	kfw_replace_idle = idle;

	msleep(20);
	flush_delayed_work(&kn->replace_expiry);
	KUNIT_EXPECT_NULL(test, kn->replace);
	KUNIT_EXPECT_EQ(test, READ_ONCE(kn->replace_portid), 0);
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 101, 8, kfw_table_keep, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 101, 0, 0, NULL), 0);
	mutex_unlock(&kn->lock);
	/* The new transaction held none of the expired one's rules. */
	kfw_table_expect(test, kn, NULL, 0);
}

/*
 * Rules staged after the expiry work was queued move the expiry on: the
 * work, when it runs, waits again instead of dropping a transaction still
 * being fed.
 */
static void kfw_table_test_transaction_fed(struct kunit *test)
{
	unsigned long idle = kfw_replace_idle, staged;
	struct kfw_net *kn = test->priv;

	kfw_replace_idle = HZ;
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 7, kfw_table_keep, NULL), 0);
	mutex_unlock(&kn->lock);

	msleep(600);
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 1, NULL), 0);
	staged = jiffies;
	mutex_unlock(&kn->lock);
	/* Past the first expiry, short of the one the rule moved it to. */
	msleep(700);
	if (time_before(jiffies, staged + HZ)) {
		mutex_lock(&kn->lock);
		KUNIT_EXPECT_NOT_NULL(test, kn->replace);
		mutex_unlock(&kn->lock);
	}
	msleep(1000);
	flush_delayed_work(&kn->replace_expiry);
	KUNIT_EXPECT_NULL(test, kn->replace);
	kfw_replace_idle = idle;
}

/* --- Restores checked, on trial, and counters carried ---------------------- */

/* A UDP rule told apart from others by its source port, which it matches. */
static struct kfw_rule *kfw_table_port_rule(struct kfw_net *kn, u16 port)
{
	struct kfw_match m = {
		.fields = KFW_MATCH_PROTO | KFW_MATCH_SPORT,
		.proto = IPPROTO_UDP,
		.sport = { port, port },
	};

	return kfw_test_rule_alloc(kn, KFW_DIR_IN, KFW_VERDICT_DROP, &m);
}

/* Replaces the table with rules of @ports; with the lock held. */
static int kfw_table_replace_ports(struct kfw_net *kn, const u16 *ports,
				   unsigned int nr, unsigned int flags)
{
	u8 policy[KFW_DIR_MAX + 1] = { KFW_VERDICT_ACCEPT, KFW_VERDICT_ACCEPT };
	struct kfw_rule *rules[8];
	unsigned int i;
	int err = 0;

	if (WARN_ON(nr > ARRAY_SIZE(rules)))
		return -EINVAL;
	for (i = 0; i < nr && !err; i++) {
		rules[i] = kfw_table_port_rule(kn, ports[i]);
		if (!rules[i])
			err = -ENOMEM;
	}
	if (!err)
		err = kfw_test_replace(kn, rules, nr, policy, flags);
	/* A check, like a failure, leaves the rules to the caller. */
	if (err || (flags & KFW_REPLACE_CHECK))
		while (i--)
			if (rules[i])
				kfw_rule_destroy(kn, rules[i]);
	return err;
}

static u64 kfw_table_packets_at(struct kfw_net *kn, unsigned int index)
{
	struct kfw_counter sum;

	kfw_rule_read_counters(kn, kfw_table_rule_at(kfw_table_now(kn), index), &sum);
	return sum.packets;
}

/*
 * Each new rule takes the counts of the first equal old rule after the
 * last one taken; old rules without counts give nothing.
 */
static void kfw_table_test_carry(struct kunit *test)
{
	static const u16 before[] = { 1, 2, 3, 2, 5 }, after[] = { 9, 3, 2, 2, 1, 5 };
	static const u64 want[] = { 0, 3, 4, 0, 0, 0 };
	struct kfw_net *kn = test->priv;
	struct kfw_counter sum;
	unsigned int i, n;
	int err;

	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, before, ARRAY_SIZE(before), 0);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	/* Rule i counts i + 1 packets of 10 bytes, but the last none. */
	for (i = 0; i + 1 < ARRAY_SIZE(before); i++)
		for (n = 0; n <= i; n++)
			kfw_counters_add(&kn->counters,
					 kfw_table_rule_at(kfw_table_now(kn), i)->counter, 10);

	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, after, ARRAY_SIZE(after), 0);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	for (i = 0; i < ARRAY_SIZE(after); i++) {
		kfw_rule_read_counters(kn, kfw_table_rule_at(kfw_table_now(kn), i), &sum);
		KUNIT_EXPECT_EQ_MSG(test, sum.packets, want[i], "rule %u", i);
		KUNIT_EXPECT_EQ_MSG(test, sum.bytes, want[i] * 10, "rule %u", i);
	}
	/* A carried count goes on counting. */
	kfw_counters_add(&kn->counters, kfw_table_rule_at(kfw_table_now(kn), 1)->counter, 10);
	KUNIT_EXPECT_EQ(test, kfw_table_packets_at(kn, 1), 4);

	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, after, ARRAY_SIZE(after), KFW_REPLACE_ZERO);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	for (i = 0; i < ARRAY_SIZE(after); i++)
		KUNIT_EXPECT_EQ_MSG(test, kfw_table_packets_at(kn, i), 0, "rule %u", i);
}

/* A check builds the table and throws it away: nothing changes. */
static void kfw_table_test_check(struct kunit *test)
{
	static const u16 ports[] = { 7, 8 };
	struct kfw_net *kn = test->priv;
	const struct kfw_table *t;
	int err;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	t = kfw_table_now(kn);
	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, ports, ARRAY_SIZE(ports), KFW_REPLACE_CHECK);
	mutex_unlock(&kn->lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_PTR_EQ(test, kfw_table_now(kn), t);
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_rules, 1);
	KUNIT_EXPECT_NULL(test, kn->kept);
}

/*
 * A table on trial: the replaced one is kept, with what it needs of the
 * namespace (here connection tracking, for tag 3's state match), and comes
 * back whole, over changes made meanwhile; or, confirmed, goes.
 */
static void kfw_table_test_trial(struct kunit *test)
{
	static const u16 ports[] = { 7, 8 }, old[] = { 1, 3 };
	struct kfw_net *kn = test->priv;
	struct kfw_rule *rule;
	u32 generation;
	int err;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_OUT, 3, 1), 0);
	KUNIT_ASSERT_TRUE(test, kn->conntrack);
	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, ports, ARRAY_SIZE(ports), KFW_REPLACE_KEEP);
	rule = err ? NULL : kfw_table_port_rule(kn, 9);
	if (rule)
		err = kfw_table_insert(kn, rule, 0);
	KUNIT_EXPECT_EQ(test, kfw_table_replace_ports(kn, ports, ARRAY_SIZE(ports),
						      KFW_REPLACE_KEEP), -EBUSY);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_rules, 3);
	KUNIT_EXPECT_NOT_NULL(test, kn->kept);
	KUNIT_EXPECT_TRUE(test, kn->conntrack);

	generation = kfw_table_now(kn)->generation;
	mutex_lock(&kn->lock);
	kfw_table_revert(kn);
	mutex_unlock(&kn->lock);
	kfw_table_expect(test, kn, old, ARRAY_SIZE(old));
	KUNIT_EXPECT_GT(test, kfw_table_now(kn)->generation, generation);
	KUNIT_EXPECT_NULL(test, kn->kept);

	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, ports, ARRAY_SIZE(ports), KFW_REPLACE_KEEP);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_TRUE(test, kn->conntrack);
	mutex_lock(&kn->lock);
	kfw_table_forget_kept(kn);
	mutex_unlock(&kn->lock);
	KUNIT_EXPECT_NULL(test, kn->kept);
	KUNIT_EXPECT_FALSE(test, kn->conntrack);
	KUNIT_EXPECT_EQ(test, kfw_table_now(kn)->nr_rules, 2);
	/* With a trial pending at the end, kfw_test_net_free() frees both. */
	mutex_lock(&kn->lock);
	err = kfw_table_replace_ports(kn, old, ARRAY_SIZE(old), KFW_REPLACE_KEEP);
	mutex_unlock(&kn->lock);
	KUNIT_EXPECT_EQ(test, err, 0);
}

/*
 * replace.c's side of a trial: a commit with a confirmation time keeps the
 * old table, BEGIN is refused meanwhile, the expiry puts the old table
 * back, and a confirmation makes the new one final.
 */
static void kfw_table_test_confirm(struct kunit *test)
{
	static const u16 want_old[] = { 1 }, want_new[] = { 2 };
	struct kfw_net *kn = test->priv;
	int round;

	KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, 1, 0), 0);
	for (round = 0; round < 2; round++) {
		mutex_lock(&kn->lock);
		KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 7, kfw_table_keep, NULL), 0);
		KUNIT_EXPECT_EQ(test, kfw_table_stage(kn, 100, KFW_DIR_IN, 2, NULL), 0);
		KUNIT_EXPECT_EQ(test, kfw_replace_commit(kn, 100, 0, 60, NULL), 0);
		KUNIT_EXPECT_EQ(test, kfw_replace_begin(kn, 100, 7, kfw_table_keep, NULL), -EBUSY);
		mutex_unlock(&kn->lock);
		kfw_table_expect(test, kn, want_new, ARRAY_SIZE(want_new));
		KUNIT_EXPECT_GT(test, kfw_replace_confirm_left(kn), 59000);
		if (round)
			break;
		/* The expiry before its time waits on; at its time, reverts. */
		flush_delayed_work(&kn->confirm_expiry);
		KUNIT_EXPECT_NOT_NULL(test, kn->kept);
		mutex_lock(&kn->lock);
		kn->confirm_deadline = jiffies;
		mutex_unlock(&kn->lock);
		flush_delayed_work(&kn->confirm_expiry);
		KUNIT_EXPECT_NULL(test, kn->kept);
		KUNIT_EXPECT_EQ(test, kfw_replace_confirm_left(kn), 0);
		kfw_table_expect(test, kn, want_old, ARRAY_SIZE(want_old));
	}
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_confirm(kn, NULL), 0);
	KUNIT_EXPECT_EQ(test, kfw_replace_confirm(kn, NULL), -ENOENT);
	mutex_unlock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_confirm_left(kn), 0);
	flush_delayed_work(&kn->confirm_expiry);
	kfw_table_expect(test, kn, want_new, ARRAY_SIZE(want_new));
}

/* --- Concurrent readers --------------------------------------------------- */

struct kfw_table_reader {
	struct kfw_net *kn;
	struct task_struct *task;
	unsigned long reads;
	unsigned long rules_seen;
	unsigned long bad;
	const char *first_bad;
	u32 bad_generation;
};

/*
 * One look at the published table: it must be whole (kfw_table_check()),
 * no older than the last one seen, and the rules of its list must all carry
 * one tag. The writer tags the rules of each replacement anew and adds
 * single rules with the current tag, so a list mixing tags would be half of
 * one replacement and half of another.
 */
static const char *kfw_table_read_once(struct kfw_table_reader *r, u32 *last_generation)
{
	static const struct kfw_packet pkt = {
		.family = NFPROTO_IPV4, .state = KFW_STATE_NEW,
	};
	const struct kfw_rule *rule, *first = NULL;
	const struct kfw_table *t;
	unsigned int nr = 0, dir;
	const char *why;

	rcu_read_lock();
	t = rcu_dereference(r->kn->table);
	why = kfw_table_check(t);
	if (!why && t->generation < *last_generation)
		why = "an older table after a newer one";
	if (!why) {
		list_for_each_entry_rcu(rule, &t->list->head, list) {
			first = first ?: rule;
			if (kfw_table_tag(rule) != kfw_table_tag(first))
				why = "rules of two replacements in one list";
			nr++;
		}
	}
	/*
	 * Every rule matches everything. The classifiers and the list change
	 * in place, so a reader may meet a rule inserted after its table was
	 * published, but only one of the same direction and the same
	 * replacement.
	 */
	for (dir = 0; !why && dir <= KFW_DIR_MAX; dir++) {
		const struct kfw_rule *got = kfw_table_classify(t, dir, &pkt);

		if (got && (got->dir != dir ||
			    (first && kfw_table_tag(got) != kfw_table_tag(first))))
			why = "kfw_table_classify picked a rule of another direction or table";
	}
	if (why)
		r->bad_generation = t ? t->generation : 0;
	else
		*last_generation = t->generation;
	r->rules_seen += nr;
	rcu_read_unlock();
	return why;
}

static int kfw_table_reader_fn(void *data)
{
	struct kfw_table_reader *r = data;
	u32 last_generation = 0;
	const char *why;

	while (!kthread_should_stop()) {
		why = kfw_table_read_once(r, &last_generation);
		if (why && !r->bad++)
			WRITE_ONCE(r->first_bad, why);
		WRITE_ONCE(r->reads, r->reads + 1);
		cond_resched();
	}
	return 0;
}

static void kfw_table_test_concurrent(struct kunit *test)
{
	unsigned int nr_readers = clamp(num_online_cpus(), 2U, 8U), i, op;
	unsigned int counts[5] = {};
	struct kfw_net *kn = test->priv;
	struct kfw_table_reader *readers;
	struct kfw_rule **rules;
	struct rnd_state rnd;
	u16 tag = 1;
	int err = 0;

	readers = kunit_kcalloc(test, nr_readers, sizeof(*readers), GFP_KERNEL);
	rules = kunit_kcalloc(test, 64, sizeof(*rules), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, readers);
	KUNIT_ASSERT_NOT_NULL(test, rules);
	kfw_test_rnd_init(test, &rnd, 3);

	for (i = 0; i < nr_readers; i++) {
		readers[i].kn = kn;
		readers[i].task = kthread_run(kfw_table_reader_fn, &readers[i],
					      "kfw_reader/%u", i);
		if (IS_ERR(readers[i].task)) {
			err = PTR_ERR(readers[i].task);
			readers[i].task = NULL;
			break;
		}
	}
	/* Start changing once every reader is reading. */
	for (i = 0; !err && i < nr_readers; i++)
		while (!READ_ONCE(readers[i].reads))
			usleep_range(100, 200);

	for (op = 0; !err && op < kfw_test_ops; op++) {
		const struct kfw_table *t;
		struct kfw_rule *rule;
		unsigned int what = kfw_test_rnd(&rnd, 100), n;
		u8 policy[KFW_DIR_MAX + 1];

		mutex_lock(&kn->lock);
		t = kfw_table_locked(kn);
		if (what < 20) {
			/* A whole new table, with a new tag. */
			tag++;
			n = kfw_test_rnd(&rnd, 65);
			for (i = 0; i < n && !err; i++) {
				rules[i] = kfw_table_rule(kn, kfw_test_rnd(&rnd, 2), tag);
				if (!rules[i])
					err = -ENOMEM;
			}
			policy[KFW_DIR_IN] = kfw_test_rnd(&rnd, 2);
			policy[KFW_DIR_OUT] = kfw_test_rnd(&rnd, 2);
			if (!err)
				err = kfw_test_replace(kn, rules, n, policy, 0);
			if (err)
				while (i--)
					if (rules[i])
						kfw_rule_destroy(kn, rules[i]);
			counts[0]++;
		} else if (what < 60 && t->nr_rules < 200) {
			n = kfw_test_rnd(&rnd, t->nr_rules + 1);
			rule = kfw_table_rule(kn, kfw_test_rnd(&rnd, 2), tag);
			err = rule ? kfw_table_insert(kn, rule, n) : -ENOMEM;
			counts[1]++;
		} else if (what < 90 && t->nr_rules) {
			rule = kfw_table_rule_at(t, kfw_test_rnd(&rnd, t->nr_rules));
			err = kfw_table_delete(kn, rule->handle);
			counts[2]++;
		} else if (what < 95) {
			err = kfw_table_set_policy(kn, kfw_test_rnd(&rnd, 2),
						   kfw_test_rnd(&rnd, 2));
			counts[3]++;
		} else {
			err = kfw_table_flush(kn);
			counts[4]++;
		}
		t = kfw_table_locked(kn);
		if (!err && (kfw_table_check_current(t, true) ||
			     kn->conntrack != !!t->nr_state))
			err = -EUCLEAN;
		mutex_unlock(&kn->lock);
		if (!(op % 64))
			cond_resched();
	}
	KUNIT_EXPECT_EQ_MSG(test, err, 0, "change %u", op);

	for (i = 0; i < nr_readers && readers[i].task; i++) {
		kthread_stop(readers[i].task);
		KUNIT_EXPECT_EQ_MSG(test, readers[i].bad, 0,
				    "reader %u: %s (generation %u)", i,
				    readers[i].first_bad ?: "", readers[i].bad_generation);
		KUNIT_EXPECT_GT(test, readers[i].reads, 0);
		kunit_info(test, "reader %u: %lu reads, %lu rules\n", i,
			   readers[i].reads, readers[i].rules_seen);
	}
	kunit_info(test, "%u changes: %u replaces, %u inserts, %u deletes, %u policies, %u flushes\n",
		   op, counts[0], counts[1], counts[2], counts[3], counts[4]);
}

static int kfw_table_test_init(struct kunit *test)
{
	test->priv = kfw_test_net_new(test);
	return 0;
}

static void kfw_table_test_exit(struct kunit *test)
{
	kfw_test_net_free(test->priv);
}

/*
 * Inserting again and again at one place halves the gap between two
 * priorities each time, until the table must be renumbered and rebuilt;
 * the list order must survive that, at the front, in the middle and at
 * the end.
 */
static void kfw_table_test_renumber(struct kunit *test)
{
	/* Where each phase inserts: after the first rule, in front, at the end. */
	static const int places[] = { 1, 0, -1 };
	unsigned int phase, round, at, nr = 0;
	struct kfw_net *kn = test->priv;
	u16 *want, tag = 1;

	want = kunit_kcalloc(test, 2 + 3 * 40, sizeof(*want), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	for (; nr < 2; nr++, tag++) {
		KUNIT_ASSERT_EQ(test, kfw_table_insert_tag(test, kn, KFW_DIR_IN, tag, nr), 0);
		want[nr] = tag;
	}
	for (phase = 0; phase < ARRAY_SIZE(places); phase++) {
		for (round = 0; round < 40; round++, tag++, nr++) {
			at = places[phase] < 0 ? nr : places[phase];
			KUNIT_ASSERT_EQ(test,
					kfw_table_insert_tag(test, kn, KFW_DIR_IN, tag, at), 0);
			memmove(want + at + 1, want + at, (nr - at) * sizeof(*want));
			want[at] = tag;
		}
		kfw_table_expect(test, kn, want, nr);
	}
}

static struct kunit_case kfw_table_test_cases[] = {
	KUNIT_CASE(kfw_table_test_insert),
	KUNIT_CASE(kfw_table_test_renumber),
	KUNIT_CASE(kfw_table_test_delete_flush_policy),
	KUNIT_CASE(kfw_table_test_replace),
	KUNIT_CASE(kfw_table_test_generation_wraps),
	KUNIT_CASE(kfw_table_test_max_rules),
	KUNIT_CASE(kfw_table_test_counter_slots),
	KUNIT_CASE(kfw_table_test_zero),
	KUNIT_CASE(kfw_table_test_transaction),
	KUNIT_CASE(kfw_table_test_transaction_owner),
	KUNIT_CASE(kfw_table_test_transaction_expiry),
	KUNIT_CASE(kfw_table_test_transaction_fed),
	KUNIT_CASE(kfw_table_test_carry),
	KUNIT_CASE(kfw_table_test_check),
	KUNIT_CASE(kfw_table_test_trial),
	KUNIT_CASE(kfw_table_test_confirm),
	KUNIT_CASE(kfw_table_test_concurrent),
	{}
};

static struct kunit_suite kfw_table_test_suite = {
	.suite_init = kfw_test_suite_init,
	.suite_exit = kfw_test_suite_exit,
	.name = "kfw_table",
	.init = kfw_table_test_init,
	.exit = kfw_table_test_exit,
	.test_cases = kfw_table_test_cases,
};

kunit_test_suite(kfw_table_test_suite);
