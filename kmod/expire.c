// SPDX-License-Identifier: GPL-2.0
/*
 * Timed rules go by themselves, with no daemon in userspace: one delayed
 * work per namespace sleeps until the first deadline of the current table
 * (timed.c keeps them in order), deletes every rule whose time ran out
 * through kfw_table_delete(), as KFW_CMD_DEL_RULE does (the namespace's
 * lock, a new generation, the classifier's removal, the free after a grace
 * period), and sleeps again until the next.
 *
 * Whoever changes the first deadline arms the work again: an added rule,
 * a restore, and the revert of a restore on trial. A deleted rule or a
 * flush leaves it armed, and it wakes to find nothing to do. The rules of a
 * table kept for a revert do not expire while it is kept; when it comes
 * back, those whose time ran out go at once, before the lock is dropped.
 */

#include "expire.h"
#include "table.h"
#include "timed.h"

/*
 * kfw_table_delete() fails only without memory for a table header: the
 * work tries again this much later (in jiffies).
 */
#define KFW_EXPIRE_RETRY	HZ

/**
 * kfw_expire_arm() - wake the work in time for the first deadline
 * @kn: the namespace, locked
 *
 * Without timed rules a pending work stays as it is: it finds nothing.
 */
void kfw_expire_arm(struct kfw_net *kn)
{
	struct kfw_rule *first;

	lockdep_assert_held(&kn->lock);
	first = kfw_timed_first(&kfw_table_locked(kn)->list->timed);
	if (first)
		mod_delayed_work(system_wq, &kn->expire_work,
				 kfw_timed_delay(first->expires));
}

/**
 * kfw_expire_run() - delete every rule whose time ran out, and arm again
 * @kn: the namespace, locked
 */
void kfw_expire_run(struct kfw_net *kn)
{
	u64 now = get_jiffies_64();
	struct kfw_rule *rule;

	lockdep_assert_held(&kn->lock);
	for (;;) {
		rule = kfw_timed_first(&kfw_table_locked(kn)->list->timed);
		if (!rule || time_before64(now, rule->expires))
			break;
		if (kfw_table_delete(kn, rule->handle)) {
			mod_delayed_work(system_wq, &kn->expire_work,
					 KFW_EXPIRE_RETRY);
			return;
		}
		cond_resched();
	}
	kfw_expire_arm(kn);
}

static void kfw_expire_work(struct work_struct *work)
{
	struct kfw_net *kn = container_of(to_delayed_work(work), struct kfw_net,
					  expire_work);

	mutex_lock(&kn->lock);
	kfw_expire_run(kn);
	mutex_unlock(&kn->lock);
}

void kfw_expire_init(struct kfw_net *kn)
{
	INIT_DELAYED_WORK(&kn->expire_work, kfw_expire_work);
}

/*
 * For namespace exit and module unload, once nothing else can arm the
 * work: the _sync cancel also stops a run that arms itself again.
 */
void kfw_expire_exit(struct kfw_net *kn)
{
	cancel_delayed_work_sync(&kn->expire_work);
}
