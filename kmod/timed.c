// SPDX-License-Identifier: GPL-2.0
/*
 * The clock of timed rules, and the order they expire in.
 *
 * A rule's deadline is a value of jiffies_64: the clock the delayed work
 * that deletes expired rules (expire.c) counts in, so the deadlines and the
 * timer cannot drift apart. It never jumps when the wall clock is set, and
 * its 64 bits do not wrap. Like nftables' set timeouts, it stands still
 * while the machine is suspended: a ban of an hour is an hour of the
 * machine's own time. Its resolution is a jiffy (4 ms at HZ=250).
 *
 * Each rule list keeps its timed rules on a second list, writers' only,
 * soonest first. Timed rules mostly come with the same few timeouts (a
 * fail2ban-style ban of an hour, again and again), so a new rule expires
 * after every one before it: an insertion looks from the end, and costs a
 * step. A restore sorts its timed rules once, in O(n log n).
 */

#include <linux/jiffies.h>
#include <linux/list_sort.h>

#include "table.h"
#include "timed.h"

/**
 * kfw_timed_deadline() - when a rule that lives @ms from now expires
 * @ms: 1 to KFW_TIMEOUT_MAX_MS
 *
 * Rounded up, and one jiffy more for the part of the current jiffy already
 * gone: a rule never expires before its time.
 *
 * Return: the deadline, in jiffies_64; never 0.
 */
u64 kfw_timed_deadline(u64 ms)
{
	return get_jiffies_64() + div_u64(ms * HZ + MSEC_PER_SEC - 1,
					  MSEC_PER_SEC) + 1;
}

/**
 * kfw_timed_left_ms() - what replies say of a timed rule
 * @expires: its deadline
 *
 * Return: the milliseconds it has left, at least 1: a rule whose time ran
 * out lives on until the work deletes it, and a reply of 0 would read as
 * no timeout at all.
 */
u64 kfw_timed_left_ms(u64 expires)
{
	u64 now = get_jiffies_64();

	if (time_after_eq64(now, expires))
		return 1;
	return max_t(u64, jiffies64_to_msecs(expires - now), 1);
}

/**
 * kfw_timed_delay() - how long the work sleeps before looking again
 * @expires: the first deadline
 *
 * The timer wheel fires a timer up to an eighth of its delay late: it
 * rounds expiries up to its coarser levels, by about two minutes for an
 * hour. So beyond 63 jiffies, which it keeps exact, the work wakes after
 * three quarters of the time left, and again until the rest is short: a
 * few wakeups more for an hour, and the rule goes within a jiffy of its
 * deadline.
 *
 * Return: the delay, in jiffies.
 */
unsigned long kfw_timed_delay(u64 expires)
{
	u64 now = get_jiffies_64(), delay;

	if (time_after_eq64(now, expires))
		return 0;
	delay = expires - now;
	if (delay >= 64)
		delay -= delay / 4;
	return min_t(u64, delay, MAX_JIFFY_OFFSET);
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
		if (!time_after64(prev->expires, rule->expires)) {
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

	return time_after64(ra->expires, rb->expires);
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
