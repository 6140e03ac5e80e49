// SPDX-License-Identifier: GPL-2.0
/*
 * Counters that survive a restore. Reloading a rules file that changed one
 * line must not zero the counters of the thousand lines it left alone:
 * monitoring reads them as running totals. A new rule takes over the counts
 * of an old one when both have the same direction, action, match and rate
 * (`over`), and the rules so paired are in the same order in both lists.
 * Comments and log settings may differ. The state of a rate is not carried:
 * the new rule starts with its whole allowance and no sources.
 *
 * Pairing walks the new list once, taking for each rule the first
 * unpaired old rule that is equal to it and comes after the last one
 * paired: a greedy common subsequence, found through a hash of the old
 * rules whose chains are in list order. Old rules that never counted a
 * packet have nothing to give and stay out of the hash, so replacing a
 * table whose rules never matched costs one counter read per old rule.
 *
 * The counts are those read here, under the namespace's lock, before the
 * new table is published: a packet that an old rule counts while the swap
 * is in flight, within one grace period, is not carried over.
 */

#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "carry.h"

#define KFW_CARRY_NONE	U32_MAX

/**
 * struct kfw_carry_entry - an old rule that has counts to give
 * @rule: the rule
 * @next: the next entry of the same hash bucket, in list order
 * @count: its counts
 */
struct kfw_carry_entry {
	const struct kfw_rule *rule;
	u32 next;
	struct kfw_counter count;
};

/*
 * A hash of the fields most rules differ in, among those kfw_match_equal()
 * compares: equal matches hash alike, and the rest is left to it.
 */
static u32 kfw_carry_match_hash(const struct kfw_match *match, u32 seed)
{
	u32 ports = 0, hash;

	if (match->fields & KFW_MATCH_DPORT)
		ports = match->dport.first << 16 | match->dport.last;
	if (match->fields & KFW_MATCH_SPORT)
		ports ^= match->sport.first << 8 | match->sport.last;
	hash = jhash_3words(match->fields, match->family << 8 |
			    (match->fields & KFW_MATCH_PROTO ? match->proto : 0),
			    ports, seed);
	if (match->fields & KFW_MATCH_SRC)
		hash = jhash2(match->src.all, ARRAY_SIZE(match->src.all),
			      hash ^ match->src_prefix);
	if (match->fields & KFW_MATCH_DST)
		hash = jhash2(match->dst.all, ARRAY_SIZE(match->dst.all),
			      hash ^ match->dst_prefix);
	return hash;
}

static u32 kfw_carry_hash(const struct kfw_rule *rule)
{
	return kfw_carry_match_hash(&rule->match, rule->dir << 8 | rule->action);
}

static bool kfw_carry_equal(const struct kfw_rule *a, const struct kfw_rule *b)
{
	return a->dir == b->dir && a->action == b->action &&
	       kfw_match_equal(&a->match, &b->match) &&
	       kfw_limit_equal(a->over, b->over);
}

/*
 * Pairs each rule of @to with an old one of @entry, as above, and gives it
 * the old rule's counts; @bucket holds the chains of @entry.
 */
static void kfw_carry_pair(struct kfw_carry_entry *entry, u32 *bucket,
			   u32 mask, struct list_head *to)
{
	u32 first_free = 0, *head, i;
	struct kfw_rule *rule;

	list_for_each_entry(rule, to, list) {
		head = &bucket[kfw_carry_hash(rule) & mask];
		/* Entries before the last pairing can never pair again. */
		while (*head != KFW_CARRY_NONE && *head < first_free)
			*head = entry[*head].next;
		for (i = *head; i != KFW_CARRY_NONE; i = entry[i].next) {
			if (i < first_free || !kfw_carry_equal(entry[i].rule, rule))
				continue;
			/* The new rule's slot starts at 0: it reads the old counts. */
			rule->zeroed.packets = -entry[i].count.packets;
			rule->zeroed.bytes = -entry[i].count.bytes;
			first_free = i + 1;
			break;
		}
	}
}

/**
 * kfw_carry_counters() - give unchanged rules their old counts
 * @kn: the namespace, locked
 * @from: the rules being replaced, in list order
 * @nr: how many; 0 saves a look at an empty list
 * @to: the new rules, in list order, not yet published
 *
 * Return: 0, or -ENOMEM and nothing carried.
 */
int kfw_carry_counters(struct kfw_net *kn, const struct list_head *from,
		       unsigned int nr, struct list_head *to)
{
	u32 nr_entries = 0, counted = 0, seen = 0, *bucket, mask, i;
	struct kfw_carry_entry *entry;
	const struct kfw_rule *rule;
	struct kfw_counter count;

	lockdep_assert_held(&kn->lock);
	if (!nr || list_empty(to))
		return 0;
	/* Most tables replaced whole never matched much: size for those that did. */
	list_for_each_entry(rule, from, list) {
		kfw_rule_read_counters(kn, rule, &count);
		counted += !!count.packets;
		if (!(++seen % 1024))
			cond_resched();
	}
	if (!counted)
		return 0;
	entry = kvmalloc_array(counted, sizeof(*entry), GFP_KERNEL_ACCOUNT);
	if (!entry)
		return -ENOMEM;
	list_for_each_entry(rule, from, list) {
		/* Under traffic a rule may count its first packet just now. */
		if (nr_entries == counted)
			break;
		kfw_rule_read_counters(kn, rule, &entry[nr_entries].count);
		if (entry[nr_entries].count.packets)
			entry[nr_entries++].rule = rule;
	}

	mask = roundup_pow_of_two(nr_entries) * 2 - 1;
	bucket = kvmalloc_array(mask + 1, sizeof(*bucket), GFP_KERNEL_ACCOUNT);
	if (!bucket) {
		kvfree(entry);
		return -ENOMEM;
	}
	memset(bucket, 0xff, (mask + 1) * sizeof(*bucket));
	/* Pushed from the last, so that each chain is in list order. */
	for (i = nr_entries; i-- > 0;) {
		u32 *head = &bucket[kfw_carry_hash(entry[i].rule) & mask];

		entry[i].next = *head;
		*head = i;
	}
	kfw_carry_pair(entry, bucket, mask, to);
	kvfree(bucket);
	kvfree(entry);
	return 0;
}
