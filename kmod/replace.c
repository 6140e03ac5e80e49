// SPDX-License-Identifier: GPL-2.0
/*
 * Atomic replacement of a namespace's whole table. A netlink attribute holds
 * at most 64 KiB, so a large rule set arrives in chunks: the rules are staged
 * here, owned by the socket that opened the transaction, and published in one
 * swap at commit. Nothing is visible to packets before that.
 *
 * A commit may instead only check the transaction, building the new table
 * and throwing it away, or install it on trial: the replaced table is kept,
 * and unless a confirmation comes within the given time the kernel itself
 * puts it back. The admin whose new rules cut off their own SSH session
 * cannot confirm, and needs no running program to get back in.
 */

#include <linux/slab.h>

#include "expire.h"
#include "replace.h"

/*
 * A transaction nobody adds to for this long (in jiffies) is dropped, with
 * what it staged: fwctl sends its chunks back to back, and a client that
 * stops half-way must not pin the namespace's only transaction and its
 * memory. Only KUnit changes it.
 */
unsigned long kfw_replace_idle = 60 * HZ;

/**
 * struct kfw_replace - an open transaction
 * @owner: the socket that owns it, compared and never dereferenced: a
 *	port id alone can pass to a new socket before the old one's release
 *	has dropped the transaction
 * @portid: that socket's netlink port, for the release notifier
 * @expires: when it is dropped if nothing more arrives
 * @policy: the policies to install
 * @nr: rules staged so far
 * @rules: the staged rules, in list order
 */
struct kfw_replace {
	u64 owner;
	u32 portid;
	unsigned long expires;
	u8 policy[KFW_DIR_MAX + 1];
	unsigned int nr;
	struct list_head rules;
};

/* Drops the open transaction and every rule staged in it. */
void kfw_replace_release(struct kfw_net *kn)
{
	struct kfw_replace *replace = kn->replace;
	struct kfw_rule *rule, *next;

	lockdep_assert_held(&kn->lock);
	if (!replace)
		return;
	list_for_each_entry_safe(rule, next, &replace->rules, list)
		kfw_rule_destroy(kn, rule);
	kfree(replace);
	kn->replace = NULL;
	WRITE_ONCE(kn->replace_portid, 0);
}

static void kfw_replace_expire(struct work_struct *work)
{
	struct kfw_net *kn = container_of(to_delayed_work(work), struct kfw_net,
					  replace_expiry);

	mutex_lock(&kn->lock);
	/* Rules that came in meanwhile moved the expiry on: wait for it. */
	if (kn->replace && time_after_eq(jiffies, kn->replace->expires))
		kfw_replace_release(kn);
	else if (kn->replace)
		queue_delayed_work(system_wq, &kn->replace_expiry,
				   kn->replace->expires - jiffies);
	mutex_unlock(&kn->lock);
}

/*
 * Moves the expiry on. Only the time is stored: rearming the timer for
 * each of 100 000 rules cost a restore about 46 ms of its 1 s.
 */
static void kfw_replace_touch(struct kfw_net *kn)
{
	kn->replace->expires = jiffies + kfw_replace_idle;
}

/* Puts back the table of a restore nobody confirmed in time. */
static void kfw_replace_confirm_expire(struct work_struct *work)
{
	struct kfw_net *kn = container_of(to_delayed_work(work), struct kfw_net,
					  confirm_expiry);
	unsigned long deadline;

	mutex_lock(&kn->lock);
	deadline = kn->confirm_deadline;
	/* A confirmation, and then a new trial, may have come meanwhile. */
	if (kn->kept && time_after_eq(jiffies, deadline)) {
		kfw_table_revert(kn);
		/* Timed rules that ran out while kept must not live on. */
		kfw_expire_run(kn);
		WRITE_ONCE(kn->confirm_deadline, 0);
		pr_notice_ratelimited("a restore was not confirmed in time: the previous rules are back\n");
	} else if (kn->kept) {
		queue_delayed_work(system_wq, &kn->confirm_expiry,
				   deadline - jiffies);
	}
	mutex_unlock(&kn->lock);
}

void kfw_replace_init(struct kfw_net *kn)
{
	INIT_DELAYED_WORK(&kn->replace_expiry, kfw_replace_expire);
	INIT_DELAYED_WORK(&kn->confirm_expiry, kfw_replace_confirm_expire);
}

/* For namespace exit: no transaction is left, and no expiry runs. */
void kfw_replace_exit(struct kfw_net *kn)
{
	cancel_delayed_work_sync(&kn->replace_expiry);
	cancel_delayed_work_sync(&kn->confirm_expiry);
	mutex_lock(&kn->lock);
	kfw_replace_release(kn);
	mutex_unlock(&kn->lock);
}

static struct kfw_replace *kfw_replace_owned(struct kfw_net *kn, u64 owner,
					     struct netlink_ext_ack *extack)
{
	if (!kn->replace || kn->replace->owner != owner) {
		NL_SET_ERR_MSG(extack, "no replace transaction is open on this socket");
		return NULL;
	}
	return kn->replace;
}

/**
 * kfw_replace_begin() - open a transaction
 * @kn: the namespace, locked
 * @owner: the socket that will own it
 * @portid: its netlink port
 * @policy: policies to install; KFW_VERDICT_MAX + 1 keeps a direction's own
 * @extack: for the error message
 *
 * A transaction left open by the same socket is discarded first.
 *
 * Return: 0, -EBUSY if another socket has one open, -ENOMEM.
 */
int kfw_replace_begin(struct kfw_net *kn, u64 owner, u32 portid,
		      const u8 *policy, struct netlink_ext_ack *extack)
{
	struct kfw_replace *replace;

	lockdep_assert_held(&kn->lock);
	if (kn->replace && kn->replace->owner != owner) {
		NL_SET_ERR_MSG(extack, "another replace transaction is in progress");
		return -EBUSY;
	}
	if (kn->kept) {
		NL_SET_ERR_MSG(extack,
			       "a restore awaits confirmation: confirm it, or wait for it to revert");
		return -EBUSY;
	}
	kfw_replace_release(kn);

	replace = kzalloc(sizeof(*replace), GFP_KERNEL_ACCOUNT);
	if (!replace)
		return -ENOMEM;
	replace->owner = owner;
	replace->portid = portid;
	INIT_LIST_HEAD(&replace->rules);
	memcpy(replace->policy, policy, sizeof(replace->policy));
	kn->replace = replace;
	WRITE_ONCE(kn->replace_portid, portid);
	kfw_replace_touch(kn);
	mod_delayed_work(system_wq, &kn->replace_expiry, kfw_replace_idle);
	return 0;
}

/**
 * kfw_replace_append() - stage one more rule
 * @kn: the namespace, locked
 * @owner: the socket that owns the transaction
 * @rule: from kfw_rule_alloc(); owned by the transaction on success
 * @extack: for the error message
 *
 * Return: 0, -ENOENT without a transaction, -ENOSPC past kfw_max_rules.
 */
int kfw_replace_append(struct kfw_net *kn, u64 owner, struct kfw_rule *rule,
		       struct netlink_ext_ack *extack)
{
	struct kfw_replace *replace = kfw_replace_owned(kn, owner, extack);

	if (!replace)
		return -ENOENT;
	if (replace->nr >= kfw_max_rules) {
		NL_SET_ERR_MSG(extack, "rule limit reached (max_rules)");
		return -ENOSPC;
	}
	list_add_tail(&rule->list, &replace->rules);
	replace->nr++;
	kfw_replace_touch(kn);
	return 0;
}

/**
 * kfw_replace_commit() - publish the staged rules and policies
 * @kn: the namespace, locked
 * @owner: the socket that owns the transaction
 * @flags: KFW_REPLACE_CHECK to build the table and discard it, or
 *	KFW_REPLACE_ZERO for new counters throughout
 * @confirm: seconds the new table has to be confirmed in, or 0 to make it
 *	final at once
 * @extack: for the error message
 *
 * A successful commit, or check, ends the transaction.
 *
 * Return: 0, -ENOENT without a transaction, -ENOMEM (the transaction stays
 * open).
 */
int kfw_replace_commit(struct kfw_net *kn, u64 owner, unsigned int flags,
		       unsigned int confirm, struct netlink_ext_ack *extack)
{
	struct kfw_replace *replace = kfw_replace_owned(kn, owner, extack);
	struct kfw_table *table = kfw_table_locked(kn);
	unsigned long deadline;
	u8 policy[KFW_DIR_MAX + 1];
	unsigned int dir;
	int err;

	if (!replace)
		return -ENOENT;
	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		policy[dir] = replace->policy[dir] <= KFW_VERDICT_MAX ?
			      replace->policy[dir] : table->policy[dir];
	if (confirm)
		flags |= KFW_REPLACE_KEEP;
	err = kfw_table_replace(kn, &replace->rules, replace->nr, policy, flags);
	if (err)
		return err;
	kfw_expire_arm(kn);
	if (confirm) {
		/* 0 means that nothing awaits confirmation. */
		deadline = jiffies + confirm * HZ ?: 1;
		WRITE_ONCE(kn->confirm_deadline, deadline);
		mod_delayed_work(system_wq, &kn->confirm_expiry, confirm * HZ);
	}
	kfw_replace_release(kn);
	return 0;
}

/**
 * kfw_replace_confirm() - make a restore on trial final
 * @kn: the namespace, locked
 * @extack: for the error message
 *
 * Return: 0, or -ENOENT when no restore awaits confirmation.
 */
int kfw_replace_confirm(struct kfw_net *kn, struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&kn->lock);
	if (!kn->kept) {
		NL_SET_ERR_MSG(extack, "no restore awaits confirmation");
		return -ENOENT;
	}
	/* Not _sync: the expiry may be waiting for the lock held here. */
	cancel_delayed_work(&kn->confirm_expiry);
	WRITE_ONCE(kn->confirm_deadline, 0);
	kfw_table_forget_kept(kn);
	return 0;
}

/* Milliseconds left to confirm a restore in, or 0 if none awaits it. */
unsigned int kfw_replace_confirm_left(const struct kfw_net *kn)
{
	unsigned long deadline = READ_ONCE(kn->confirm_deadline);

	if (!deadline)
		return 0;
	if (time_after_eq(jiffies, deadline))
		return 1;
	return jiffies_to_msecs(deadline - jiffies);
}

/* Drops the transaction of @owner, if it has one open. */
void kfw_replace_drop(struct kfw_net *kn, u64 owner)
{
	lockdep_assert_held(&kn->lock);
	if (kn->replace && kn->replace->owner == owner)
		kfw_replace_release(kn);
}

/*
 * For the release of any generic netlink socket of the namespace, @portid's:
 * drops its transaction, if it owns one. Every other socket passes without
 * the lock.
 */
void kfw_replace_released(struct kfw_net *kn, u32 portid)
{
	if (!portid || READ_ONCE(kn->replace_portid) != portid)
		return;
	mutex_lock(&kn->lock);
	if (kn->replace && kn->replace->portid == portid)
		kfw_replace_release(kn);
	mutex_unlock(&kn->lock);
}

int kfw_replace_abort(struct kfw_net *kn, u64 owner,
		      struct netlink_ext_ack *extack)
{
	if (!kfw_replace_owned(kn, owner, extack))
		return -ENOENT;
	kfw_replace_release(kn);
	return 0;
}
