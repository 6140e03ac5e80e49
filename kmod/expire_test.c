// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite kfw_expire: timed rules (timed.c) and the work that deletes
 * them (expire.c).
 *
 * The cases run the namespace's real work. Under emulation a millisecond
 * rule may be gone before a case can look at it, so most rules live ten
 * minutes (KFW_EXPIRE_SHORT) or an hour or more, and kfw_expire_run_out()
 * moves the deadlines of the short ones to now, as if the minutes had
 * passed; kfw_expire_flush() then runs the work at once instead of at
 * its time. One case waits for real time and the timer. Rules are told
 * apart by a tag in the source port range, which takes no part in matching
 * without KFW_MATCH_SPORT.
 */

#include <kunit/test.h>
#include <linux/delay.h>

#include "expire.h"
#include "replace.h"
#include "table.h"
#include "test_util.h"
#include "timed.h"

#define KFW_EXPIRE_SHORT	(10 * 60 * 1000)
#define KFW_EXPIRE_HOUR		(60 * 60 * 1000)

/* A rule that lives @ms (0: for ever); with the lock held. */
static struct kfw_rule *kfw_expire_rule(struct kfw_net *kn, u16 tag, u64 ms)
{
	struct kfw_rule_spec spec = {
		.dir = KFW_DIR_IN,
		.action = KFW_VERDICT_DROP,
		.log_rate = KFW_LOG_RATE_DEFAULT,
		.log_burst = KFW_LOG_BURST_DEFAULT,
		.timeout = ms,
		.match = { .sport = { tag, tag } },
	};

	return kfw_rule_alloc(kn, &spec);
}

/* Appends a rule as KFW_CMD_ADD_RULE does, and arms the work. */
static struct kfw_rule *kfw_expire_add(struct kunit *test, struct kfw_net *kn,
				       u16 tag, u64 ms)
{
	struct kfw_rule *rule;
	int err = -ENOMEM;

	mutex_lock(&kn->lock);
	rule = kfw_expire_rule(kn, tag, ms);
	if (rule)
		err = kfw_table_insert(kn, rule, kfw_table_locked(kn)->nr_rules);
	if (!err)
		kfw_expire_arm(kn);
	mutex_unlock(&kn->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	return rule;
}

/* Stages rules of @tags and @ms in a new transaction, and commits it. */
static int kfw_expire_restore(struct kfw_net *kn, const u16 *tags,
			      const u64 *ms, unsigned int nr,
			      unsigned int confirm)
{
	static const u8 keep[KFW_DIR_MAX + 1] = {
		KFW_VERDICT_MAX + 1, KFW_VERDICT_MAX + 1
	};
	struct kfw_rule *rule;
	unsigned int i;
	int err;

	mutex_lock(&kn->lock);
	err = kfw_replace_begin(kn, 100, 7, keep, NULL);
	for (i = 0; i < nr && !err; i++) {
		rule = kfw_expire_rule(kn, tags[i], ms[i]);
		err = rule ? kfw_replace_append(kn, 100, rule, NULL) : -ENOMEM;
		if (err && rule)
			kfw_rule_destroy(kn, rule);
	}
	if (!err)
		err = kfw_replace_commit(kn, 100, 0, confirm, NULL);
	kfw_replace_drop(kn, 100);
	mutex_unlock(&kn->lock);
	return err;
}

static const struct kfw_table *kfw_expire_now(struct kfw_net *kn)
{
	return rcu_dereference_protected(kn->table, true);
}

/*
 * Ten minutes pass for the rules of @table (the current one if NULL): the
 * short ones run out. They come first in the timed list, which stays in
 * order.
 */
static void kfw_expire_run_out(struct kfw_net *kn, struct kfw_table *table)
{
	u64 now = kfw_timed_now(), soon = now + (KFW_EXPIRE_SHORT + 1000) * NSEC_PER_MSEC;
	struct kfw_rule *rule;

	mutex_lock(&kn->lock);
	if (!table)
		table = kfw_table_locked(kn);
	list_for_each_entry(rule, &table->list->timed, timed) {
		if (rule->expires > soon)
			break;
		rule->expires = now;
	}
	mutex_unlock(&kn->lock);
}

/* The table holds the rules of @tags, in this order, and nothing else. */
static void kfw_expire_expect(struct kunit *test, struct kfw_net *kn,
			      const u16 *tags, unsigned int nr)
{
	const struct kfw_table *t = kfw_expire_now(kn);
	const struct kfw_rule *rule;
	unsigned int i = 0;

	KUNIT_ASSERT_EQ(test, t->nr_rules, nr);
	list_for_each_entry(rule, &t->list->head, list) {
		KUNIT_EXPECT_EQ_MSG(test, rule->match.sport.first, tags[i],
				    "rule %u", i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, t->nr_dir[KFW_DIR_IN], nr);
}

/* Runs the work now, as the timer would at its time, and waits for it. */
static void kfw_expire_flush(struct kfw_net *kn)
{
	queue_work(system_wq, &kn->expire_work);
	flush_work(&kn->expire_work);
}

static bool kfw_expire_pending(struct kfw_net *kn)
{
	return hrtimer_is_queued(&kn->expire_timer) || work_pending(&kn->expire_work);
}

/* The timer is set to @rule's deadline, exactly. */
static void kfw_expire_expect_armed(struct kunit *test, struct kfw_net *kn,
				    const struct kfw_rule *rule)
{
	KUNIT_EXPECT_TRUE(test, hrtimer_is_queued(&kn->expire_timer));
	KUNIT_EXPECT_EQ(test, ktime_to_ns(hrtimer_get_expires(&kn->expire_timer)),
			rule->expires);
}

static int kfw_expire_test_init(struct kunit *test)
{
	test->priv = kfw_test_net_new(test);
	return 0;
}

static void kfw_expire_test_exit(struct kunit *test)
{
	kfw_test_net_free(test->priv);
}

/* The clock: deadlines are never early, and the time left never reads 0. */
static void kfw_expire_test_clock(struct kunit *test)
{
	u64 now = kfw_timed_now(), deadline = kfw_timed_deadline(1000), max;

	KUNIT_EXPECT_GE(test, deadline, now + 1000 * NSEC_PER_MSEC);
	KUNIT_EXPECT_LE(test, deadline, kfw_timed_now() + 1000 * NSEC_PER_MSEC);
	KUNIT_EXPECT_LE(test, kfw_timed_left_ms(deadline), 1000);
	KUNIT_EXPECT_GE(test, kfw_timed_left_ms(deadline), 500);
	KUNIT_EXPECT_EQ(test, kfw_timed_left_ms(now - 1), 1);
	/* A nanosecond left is a millisecond, rounded up. */
	KUNIT_EXPECT_EQ(test, kfw_timed_left_ms(kfw_timed_now() + 1), 1);
	/* The longest timeout, a year, in nanoseconds, far from overflowing. */
	max = kfw_timed_left_ms(kfw_timed_deadline(KFW_TIMEOUT_MAX_MS));
	KUNIT_EXPECT_LE(test, max, KFW_TIMEOUT_MAX_MS);
	KUNIT_EXPECT_GE(test, max, KFW_TIMEOUT_MAX_MS - 1000);
}

/*
 * A rule whose time ran out is gone after the work runs, through a change
 * like any other (a new generation); untimed rules and rules with time
 * left stay, and the work is armed for the next.
 */
static void kfw_expire_test_expiry(struct kunit *test)
{
	static const u16 before[] = { 1, 2, 3, 4 }, after[] = { 1, 3 };
	struct kfw_net *kn = test->priv;
	struct kfw_rule *hour;
	u32 generation;

	kfw_expire_add(test, kn, 1, 0);
	kfw_expire_add(test, kn, 2, KFW_EXPIRE_SHORT);
	hour = kfw_expire_add(test, kn, 3, KFW_EXPIRE_HOUR);
	kfw_expire_add(test, kn, 4, KFW_EXPIRE_SHORT);
	kfw_expire_expect(test, kn, before, ARRAY_SIZE(before));
	KUNIT_EXPECT_TRUE(test, kfw_expire_pending(kn));
	/* Before its time, the work deletes nothing. */
	kfw_expire_flush(kn);
	kfw_expire_expect(test, kn, before, ARRAY_SIZE(before));

	kfw_expire_run_out(kn, NULL);
	generation = kfw_expire_now(kn)->generation;
	kfw_expire_flush(kn);
	kfw_expire_expect(test, kn, after, ARRAY_SIZE(after));
	KUNIT_EXPECT_EQ(test, kfw_expire_now(kn)->generation, generation + 2);
	kfw_expire_expect_armed(test, kn, hour);
	KUNIT_EXPECT_PTR_EQ(test, kfw_timed_first(&kfw_expire_now(kn)->list->timed),
			    hour);
}

/* In real time: the timer wakes the work, which deletes the rule. */
static void kfw_expire_test_timer(struct kunit *test)
{
	struct kfw_net *kn = test->priv;
	unsigned int waited;

	kfw_expire_add(test, kn, 1, 0);
	kfw_expire_add(test, kn, 2, 500);
	KUNIT_EXPECT_EQ(test, kfw_expire_now(kn)->nr_rules, 2);
	for (waited = 0; waited < 10000; waited += 20) {
		if (kfw_expire_now(kn)->nr_rules == 1)
			break;
		msleep(20);
	}
	kfw_expire_expect(test, kn, (const u16[]){ 1 }, 1);
	KUNIT_EXPECT_FALSE(test, kfw_expire_pending(kn));
	kunit_info(test, "a rule of 500 ms went after %u ms of sleep\n", waited);
}

/*
 * The earliest deadline drives the timer, whatever order the rules came
 * in: a rule that expires sooner than the others moves the timer forward.
 * Deleting it leaves the timer early; the work then finds nothing to do,
 * and sleeps until the next deadline.
 */
static void kfw_expire_test_earliest(struct kunit *test)
{
	static const u16 left[] = { 1, 3, 4 };
	struct kfw_rule *hour, *minute, *hour2, *first;
	struct kfw_net *kn = test->priv;

	hour = kfw_expire_add(test, kn, 1, KFW_EXPIRE_HOUR);
	kfw_expire_expect_armed(test, kn, hour);
	minute = kfw_expire_add(test, kn, 2, 60 * 1000);
	kfw_expire_expect_armed(test, kn, minute);
	hour2 = kfw_expire_add(test, kn, 3, KFW_EXPIRE_HOUR);
	kfw_expire_add(test, kn, 4, 0);
	kfw_expire_expect_armed(test, kn, minute);

	/* Soonest first, and equal deadlines in the order they came. */
	mutex_lock(&kn->lock);
	first = kfw_timed_first(&kfw_table_locked(kn)->list->timed);
	KUNIT_EXPECT_PTR_EQ(test, first, minute);
	KUNIT_EXPECT_PTR_EQ(test, list_next_entry(first, timed), hour);
	KUNIT_EXPECT_PTR_EQ(test, list_last_entry(&kfw_table_locked(kn)->list->timed,
						  struct kfw_rule, timed), hour2);
	KUNIT_EXPECT_EQ(test, kfw_table_delete(kn, minute->handle), 0);
	mutex_unlock(&kn->lock);

	kfw_expire_flush(kn);
	kfw_expire_expect(test, kn, left, ARRAY_SIZE(left));
	kfw_expire_expect_armed(test, kn, hour);
}

/*
 * A restore makes its own order of deadlines, which need not be the list's,
 * and arms the work; a flush leaves nothing to expire, and the work that
 * wakes for nothing does not arm itself again.
 */
static void kfw_expire_test_restore(struct kunit *test)
{
	static const u16 tags[] = { 1, 2, 3, 4 }, left[] = { 1, 3 };
	static const u64 ms[] = {
		KFW_EXPIRE_HOUR, KFW_EXPIRE_SHORT, 0, KFW_EXPIRE_SHORT - 1000
	};
	struct kfw_net *kn = test->priv;
	struct kfw_rule *first;

	KUNIT_ASSERT_EQ(test, kfw_expire_restore(kn, tags, ms, ARRAY_SIZE(tags), 0), 0);
	kfw_expire_expect(test, kn, tags, ARRAY_SIZE(tags));
	first = kfw_timed_first(&kfw_expire_now(kn)->list->timed);
	KUNIT_ASSERT_NOT_NULL(test, first);
	KUNIT_EXPECT_EQ(test, first->match.sport.first, 4);
	kfw_expire_expect_armed(test, kn, first);

	kfw_expire_run_out(kn, NULL);
	kfw_expire_flush(kn);
	kfw_expire_expect(test, kn, left, ARRAY_SIZE(left));

	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_table_flush(kn), 0);
	mutex_unlock(&kn->lock);
	kfw_expire_flush(kn);
	KUNIT_EXPECT_EQ(test, kfw_expire_now(kn)->nr_rules, 0);
	KUNIT_EXPECT_FALSE(test, kfw_expire_pending(kn));
}

/*
 * A restore of the same rule with another timeout keeps its counters: the
 * timeout is no part of what carry.c compares.
 */
static void kfw_expire_test_carry(struct kunit *test)
{
	static const u16 tags[] = { 5 };
	static const u64 hour[] = { KFW_EXPIRE_HOUR }, day[] = { 86400 * 1000 };
	struct kfw_net *kn = test->priv;
	struct kfw_counter sum;
	struct kfw_rule *rule;

	KUNIT_ASSERT_EQ(test, kfw_expire_restore(kn, tags, hour, 1, 0), 0);
	rule = list_first_entry(&kfw_expire_now(kn)->list->head, struct kfw_rule, list);
	kfw_counters_add(&kn->counters, rule->counter, 100);
	kfw_counters_add(&kn->counters, rule->counter, 100);
	KUNIT_ASSERT_EQ(test, kfw_expire_restore(kn, tags, day, 1, 0), 0);
	rule = list_first_entry(&kfw_expire_now(kn)->list->head, struct kfw_rule, list);
	kfw_rule_read_counters(kn, rule, &sum);
	KUNIT_EXPECT_EQ(test, sum.packets, 2);
	KUNIT_EXPECT_EQ(test, sum.bytes, 200);
	KUNIT_EXPECT_GT(test, kfw_timed_left_ms(rule->expires), KFW_EXPIRE_HOUR);
}

/*
 * A restore on trial: the kept table's timed rules do not expire while it
 * is kept, and the new table's do. When the trial is not confirmed and the
 * kept table comes back, its rules whose time ran out meanwhile go at once,
 * and the work is armed for the rest.
 */
static void kfw_expire_test_revert(struct kunit *test)
{
	static const u16 tags[] = { 7, 8 }, new_left[] = { 8 }, old_left[] = { 1, 3 };
	static const u64 ms[] = { KFW_EXPIRE_SHORT, 0 };
	struct kfw_net *kn = test->priv;
	struct kfw_rule *hour;

	kfw_expire_add(test, kn, 1, 0);
	kfw_expire_add(test, kn, 2, KFW_EXPIRE_SHORT);
	hour = kfw_expire_add(test, kn, 3, KFW_EXPIRE_HOUR);
	KUNIT_ASSERT_EQ(test, kfw_expire_restore(kn, tags, ms, ARRAY_SIZE(tags), 60), 0);
	KUNIT_ASSERT_NOT_NULL(test, kn->kept);

	/* Ten minutes pass for both tables; only the current one expires. */
	kfw_expire_run_out(kn, NULL);
	kfw_expire_run_out(kn, kn->kept);
	kfw_expire_flush(kn);
	kfw_expire_expect(test, kn, new_left, ARRAY_SIZE(new_left));
	KUNIT_EXPECT_EQ(test, kn->kept->nr_rules, 3);

	/* Not confirmed in time: the kept table is back, without rule 2. */
	mutex_lock(&kn->lock);
	kn->confirm_deadline = jiffies;
	mutex_unlock(&kn->lock);
	flush_delayed_work(&kn->confirm_expiry);
	KUNIT_ASSERT_NULL(test, kn->kept);
	kfw_expire_expect(test, kn, old_left, ARRAY_SIZE(old_left));
	kfw_expire_expect_armed(test, kn, hour);
}

/*
 * A confirmed trial keeps the new table's deadlines armed; a trial whose
 * kept table has timed rules, left pending, is freed with the namespace
 * (kfw_test_net_free() cancels the work first).
 */
static void kfw_expire_test_confirm(struct kunit *test)
{
	static const u16 tags[] = { 7 };
	static const u64 ms[] = { KFW_EXPIRE_SHORT };
	struct kfw_net *kn = test->priv;

	kfw_expire_add(test, kn, 1, KFW_EXPIRE_HOUR);
	KUNIT_ASSERT_EQ(test, kfw_expire_restore(kn, tags, ms, 1, 60), 0);
	mutex_lock(&kn->lock);
	KUNIT_EXPECT_EQ(test, kfw_replace_confirm(kn, NULL), 0);
	mutex_unlock(&kn->lock);
	KUNIT_EXPECT_TRUE(test, kfw_expire_pending(kn));
	kfw_expire_run_out(kn, NULL);
	kfw_expire_flush(kn);
	KUNIT_EXPECT_EQ(test, kfw_expire_now(kn)->nr_rules, 0);

	kfw_expire_add(test, kn, 2, KFW_EXPIRE_HOUR);
	KUNIT_ASSERT_EQ(test, kfw_expire_restore(kn, tags, ms, 1, 60), 0);
	KUNIT_EXPECT_TRUE(test, kfw_expire_pending(kn));
}

static struct kunit_case kfw_expire_test_cases[] = {
	KUNIT_CASE(kfw_expire_test_clock),
	KUNIT_CASE(kfw_expire_test_expiry),
	KUNIT_CASE(kfw_expire_test_timer),
	KUNIT_CASE(kfw_expire_test_earliest),
	KUNIT_CASE(kfw_expire_test_restore),
	KUNIT_CASE(kfw_expire_test_carry),
	KUNIT_CASE(kfw_expire_test_revert),
	KUNIT_CASE(kfw_expire_test_confirm),
	{}
};

static struct kunit_suite kfw_expire_test_suite = {
	.suite_init = kfw_test_suite_init,
	.suite_exit = kfw_test_suite_exit,
	.name = "kfw_expire",
	.init = kfw_expire_test_init,
	.exit = kfw_expire_test_exit,
	.test_cases = kfw_expire_test_cases,
};

kunit_test_suite(kfw_expire_test_suite);
