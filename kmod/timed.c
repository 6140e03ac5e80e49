// SPDX-License-Identifier: GPL-2.0
/*
 * The clock of timed rules, and the order they expire in.
 *
 * A rule's deadline is a time of CLOCK_BOOTTIME, in nanoseconds. It never
 * jumps when the wall clock is set, and it goes on while the machine is
 * suspended: a ban of an hour ends an hour later by the clock on the wall,
 * as a user who measures it expects. jiffies_64 would be cheaper, but it
 * stands still in suspend, and a kernel with a periodic tick counts it by
 * ticks, which an overloaded virtual machine loses: in our debug VM it fell
 * 3 s behind in 15. The work that deletes expired rules (expire.c) is
 * woken by an hrtimer on the same clock, exact to the tick, where the timer
 * wheel of a delayed work would round a long delay up by an eighth.
 *
 * Each rule list keeps its timed rules on a second list, writers' only,
 * soonest first. Timed rules mostly come with the same few timeouts (a
 * fail2ban-style ban of an hour, again and again), so a new rule expires
 * after every one before it: an insertion looks from the end, and costs a
 * step. A restore sorts its timed rules once, in O(n log n).
 */

#include <linux/ktime.h>
#include <linux/list_sort.h>
#include <linux/math64.h>

#include "table.h"
#include "timed.h"

/* Now, on the clock of deadlines. */
u64 kfw_timed_now(void)
{
	return ktime_get_boottime_ns();
}

/**
 * kfw_timed_deadline() - when a rule that lives @ms from now expires
 * @ms: 1 to KFW_TIMEOUT_MAX_MS
 *
 * Return: the deadline; never 0.
 */
u64 kfw_timed_deadline(u64 ms)
{
	return kfw_timed_now() + ms * NSEC_PER_MSEC;
}

/**
 * kfw_timed_left_ms() - what replies say of a timed rule
 * @expires: its deadline
 *
 * Return: the milliseconds it has left, rounded up and at least 1: a rule
 * whose time ran out lives on until the work deletes it, and a reply of 0
 * would read as no timeout at all.
 */
u64 kfw_timed_left_ms(u64 expires)
{
	u64 now = kfw_timed_now();

	if (now >= expires)
		return 1;
	return DIV_ROUND_UP_ULL(expires - now, NSEC_PER_MSEC);
}

/**
 * kfw_timed_add() - put a timed rule in its place among the others
 * @timed: a list's timed rules, soonest first
 * @rule: the rule, with a deadline
 *
 * It goes after every rule that expires no later, so rules of equal
 * deadlines expire in the order they came.
 */
void kfw_timed_add(struct list_head *timed, struct kfw_rule *rule)
{
	struct kfw_rule *prev;

	list_for_each_entry_reverse(prev, timed, timed) {
		if (prev->expires <= rule->expires) {
			list_add(&rule->timed, &prev->timed);
			return;
		}
	}
	list_add(&rule->timed, timed);
}

static int kfw_timed_cmp(void *priv, const struct list_head *a,
			 const struct list_head *b)
{
	const struct kfw_rule *ra = list_entry(a, struct kfw_rule, timed);
	const struct kfw_rule *rb = list_entry(b, struct kfw_rule, timed);

	return ra->expires > rb->expires;
}

/* The timed rule of @timed that expires first, or NULL. */
struct kfw_rule *kfw_timed_first(struct list_head *timed)
{
	return list_first_entry_or_null(timed, struct kfw_rule, timed);
}

/* Sorts timed rules soonest first; equal deadlines keep their order. */
void kfw_timed_sort(struct list_head *timed)
{
	list_sort(NULL, timed, kfw_timed_cmp);
}
