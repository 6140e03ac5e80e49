// SPDX-License-Identifier: GPL-2.0
/*
 * Atomic replacement of a namespace's whole table. A netlink attribute holds
 * at most 64 KiB, so a large rule set arrives in chunks: the rules are staged
 * here, owned by the socket that opened the transaction, and published in one
 * swap at commit. Nothing is visible to packets before that.
 */

#include <linux/slab.h>

#include "replace.h"

/**
 * struct kfw_replace - an open transaction
 * @portid: netlink port of the socket that owns it
 * @policy: the policies to install
 * @nr: rules staged so far
 * @size: capacity of @rules
 * @rules: the staged rules, in list order
 */
struct kfw_replace {
	u32 portid;
	u8 policy[KFW_DIR_MAX + 1];
	unsigned int nr;
	unsigned int size;
	struct kfw_rule **rules;
};

/* Drops the open transaction and every rule staged in it. */
void kfw_replace_release(struct kfw_net *kn)
{
	struct kfw_replace *replace = kn->replace;
	unsigned int i;

	lockdep_assert_held(&kn->lock);
	if (!replace)
		return;
	for (i = 0; i < replace->nr; i++)
		kfw_rule_destroy(kn, replace->rules[i]);
	kvfree(replace->rules);
	kfree(replace);
	kn->replace = NULL;
}

static struct kfw_replace *kfw_replace_owned(struct kfw_net *kn, u32 portid,
					     struct netlink_ext_ack *extack)
{
	if (!kn->replace || kn->replace->portid != portid) {
		NL_SET_ERR_MSG(extack, "no replace transaction is open on this socket");
		return NULL;
	}
	return kn->replace;
}

/**
 * kfw_replace_begin() - open a transaction
 * @kn: the namespace, locked
 * @portid: the socket that will own it
 * @policy: policies to install; KFW_VERDICT_MAX + 1 keeps a direction's own
 * @extack: for the error message
 *
 * A transaction left open by the same socket is discarded first.
 *
 * Return: 0, -EBUSY if another socket has one open, -ENOMEM.
 */
int kfw_replace_begin(struct kfw_net *kn, u32 portid, const u8 *policy,
		      struct netlink_ext_ack *extack)
{
	struct kfw_replace *replace;

	lockdep_assert_held(&kn->lock);
	if (kn->replace && kn->replace->portid != portid) {
		NL_SET_ERR_MSG(extack, "another replace transaction is in progress");
		return -EBUSY;
	}
	kfw_replace_release(kn);

	replace = kzalloc(sizeof(*replace), GFP_KERNEL_ACCOUNT);
	if (!replace)
		return -ENOMEM;
	replace->portid = portid;
	memcpy(replace->policy, policy, sizeof(replace->policy));
	kn->replace = replace;
	return 0;
}

/**
 * kfw_replace_append() - stage one more rule
 * @kn: the namespace, locked
 * @portid: the socket that owns the transaction
 * @rule: from kfw_rule_alloc(); owned by the transaction on success
 * @extack: for the error message
 *
 * Return: 0, -ENOENT without a transaction, -ENOSPC past kfw_max_rules,
 * -ENOMEM.
 */
int kfw_replace_append(struct kfw_net *kn, u32 portid, struct kfw_rule *rule,
		       struct netlink_ext_ack *extack)
{
	struct kfw_replace *replace = kfw_replace_owned(kn, portid, extack);
	struct kfw_rule **rules;
	unsigned int size;

	if (!replace)
		return -ENOENT;
	if (replace->nr >= kfw_max_rules) {
		NL_SET_ERR_MSG(extack, "rule limit reached (max_rules)");
		return -ENOSPC;
	}
	if (replace->nr == replace->size) {
		size = max(64U, replace->size * 2);
		rules = kvmalloc_array(size, sizeof(*rules), GFP_KERNEL_ACCOUNT);
		if (!rules)
			return -ENOMEM;
		memcpy(rules, replace->rules, replace->nr * sizeof(*rules));
		kvfree(replace->rules);
		replace->rules = rules;
		replace->size = size;
	}
	replace->rules[replace->nr++] = rule;
	return 0;
}

/**
 * kfw_replace_commit() - publish the staged rules and policies
 * @kn: the namespace, locked
 * @portid: the socket that owns the transaction
 * @extack: for the error message
 *
 * Return: 0, -ENOENT without a transaction, -ENOMEM (the transaction stays
 * open).
 */
int kfw_replace_commit(struct kfw_net *kn, u32 portid,
		       struct netlink_ext_ack *extack)
{
	struct kfw_replace *replace = kfw_replace_owned(kn, portid, extack);
	struct kfw_table *table = kfw_table_locked(kn);
	u8 policy[KFW_DIR_MAX + 1];
	unsigned int dir;
	int err;

	if (!replace)
		return -ENOENT;
	for (dir = 0; dir <= KFW_DIR_MAX; dir++)
		policy[dir] = replace->policy[dir] <= KFW_VERDICT_MAX ?
			      replace->policy[dir] : table->policy[dir];
	err = kfw_table_replace(kn, replace->rules, replace->nr, policy);
	if (err)
		return err;
	replace->nr = 0;
	kfw_replace_release(kn);
	return 0;
}

/* Drops the transaction of @portid, if it has one open. */
void kfw_replace_drop(struct kfw_net *kn, u32 portid)
{
	lockdep_assert_held(&kn->lock);
	if (kn->replace && kn->replace->portid == portid)
		kfw_replace_release(kn);
}

int kfw_replace_abort(struct kfw_net *kn, u32 portid,
		      struct netlink_ext_ack *extack)
{
	if (!kfw_replace_owned(kn, portid, extack))
		return -ENOENT;
	kfw_replace_release(kn);
	return 0;
}
