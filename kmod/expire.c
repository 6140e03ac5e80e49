// SPDX-License-Identifier: GPL-2.0
/*
 * Timed rules go by themselves, with no daemon in userspace: per namespace,
 * an hrtimer set to the first deadline of the current table (timed.c keeps
 * them in order) queues a work, which deletes every rule whose time ran out
 * through kfw_table_delete(), as KFW_CMD_DEL_RULE does (the namespace's
 * lock, a new generation, the classifier's removal, the free after a grace
 * period), and sets the timer to the next deadline. The work does what
 * needs the lock; the timer only says when, on the clock of the deadlines.
 *
 * Whoever changes the first deadline sets the timer again: an added rule,
 * a restore, and the revert of a restore on trial. A deleted rule or a
 * flush leaves it set, and the work wakes to find nothing to do. The rules
 * of a table kept for a revert do not expire while it is kept; when it
 * comes back, those whose time ran out go at once, before the lock is
 * dropped.
 */

#include "expire.h"
#include "table.h"
#include "timed.h"

/*
 * kfw_table_delete() fails only without memory for a table header: the
 * work tries again this much later.
 */
#define KFW_EXPIRE_RETRY_NS	NSEC_PER_SEC

static void kfw_expire_set(struct kfw_net *kn, u64 when)
{
	if (!kn->expire_stopped)
		hrtimer_start(&kn->expire_timer, ns_to_ktime(when),
			      HRTIMER_MODE_ABS);
}

/**
 * kfw_expire_arm() - set the timer to the first deadline
 * @kn: the namespace, locked
 *
 * Without timed rules the timer stops, unless it is firing: then the work
 * finds nothing to do.
 */
void kfw_expire_arm(struct kfw_net *kn)
{
	struct kfw_rule *first;

	lockdep_assert_held(&kn->lock);
	first = kfw_timed_first(&kfw_table_locked(kn)->list->timed);
	if (first)
		kfw_expire_set(kn, first->expires);
	else
		hrtimer_try_to_cancel(&kn->expire_timer);
}

/**
 * kfw_expire_run() - delete every rule whose time ran out, and arm again
 * @kn: the namespace, locked
 */
void kfw_expire_run(struct kfw_net *kn)
{
	u64 now = kfw_timed_now();
	struct kfw_rule *rule;

	lockdep_assert_held(&kn->lock);
	for (;;) {
		rule = kfw_timed_first(&kfw_table_locked(kn)->list->timed);
		if (!rule || rule->expires > now)
			break;
		if (kfw_table_delete(kn, rule->handle)) {
			kfw_expire_set(kn, now + KFW_EXPIRE_RETRY_NS);
			return;
		}
		cond_resched();
	}
	kfw_expire_arm(kn);
}

static void kfw_expire_work(struct work_struct *work)
{
	struct kfw_net *kn = container_of(work, struct kfw_net, expire_work);

	mutex_lock(&kn->lock);
	kfw_expire_run(kn);
	mutex_unlock(&kn->lock);
}

/* In hard interrupt context: the deleting needs the lock, so a work does it. */
static enum hrtimer_restart kfw_expire_timer(struct hrtimer *timer)
{
	struct kfw_net *kn = container_of(timer, struct kfw_net, expire_timer);

	queue_work(system_wq, &kn->expire_work);
	return HRTIMER_NORESTART;
}

void kfw_expire_init(struct kfw_net *kn)
{
	hrtimer_init(&kn->expire_timer, CLOCK_BOOTTIME, HRTIMER_MODE_ABS);
	kn->expire_timer.function = kfw_expire_timer;
	INIT_WORK(&kn->expire_work, kfw_expire_work);
	kn->expire_stopped = false;
}

/*
 * For namespace exit and module unload. Once stopped under the lock, no
 * work or change sets the timer again; then the timer goes, and the work
 * it may have queued.
 */
void kfw_expire_exit(struct kfw_net *kn)
{
	mutex_lock(&kn->lock);
	kn->expire_stopped = true;
	mutex_unlock(&kn->lock);
	hrtimer_cancel(&kn->expire_timer);
	cancel_work_sync(&kn->expire_work);
}
