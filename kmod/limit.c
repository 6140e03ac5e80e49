// SPDX-License-Identifier: GPL-2.0
/*
 * Rates over a limit: the state behind a rule's `over RATE [burst N]
 * [per-src]`, which matches only the packets that exceed RATE among those
 * its other fields match.
 *
 * The rate is the generic cell rate algorithm (GCRA), as the log rate of
 * hooks.c: a packet costs one interval (the period divided by the rate),
 * and the state is the theoretical arrival time (TAT) of the next packet. A
 * packet is within the rate while the TAT is at most (burst - 1) intervals
 * ahead of now; it then moves the TAT one interval on from the later of the
 * TAT and now. A packet over the rate changes nothing, so a sender that
 * keeps trying gets through again at the rate, as with iptables' hashlimit
 * --hashlimit-above. The state is one word, changed by compare-and-swap:
 * no lock, and a TAT in the past is as good as a new one.
 *
 * With per-src the rate is counted per source address, /32 or /128, in a
 * table made with the rule (in process context, charged to the memory
 * cgroup of the process that made it) and freed with it, a grace period
 * after the last reader. Its size is the over_sources module parameter, at
 * the rule's creation. The table is set-associative: a keyed hash of the
 * address (siphash, with a random key for each rule, so that nobody can
 * aim addresses at one bucket) picks a bucket of KFW_LIMIT_WAYS cells, and
 * a cell holds a source's whole hash and its TAT. A new source takes the
 * cell of its bucket with the earliest TAT: an empty one, or one whose
 * source has its whole burst back (which loses nothing, as its state is
 * that of a new source), or else the source that has sent least lately for
 * its rate, the least recently used one. A source still over its rate is
 * never forgotten while its bucket holds one that is not.
 *
 * The packet path takes no lock, so some races are allowed, each benign:
 *  - a packet of a source being replaced, on another CPU, may spend one
 *    interval of the new source's allowance;
 *  - a packet of the new source that finds its cell before the old TAT is
 *    cleared is judged on the old source's TAT, which is in the past unless
 *    every source of the bucket is over its rate;
 *  - two CPUs that bring the same new source at once may take two cells:
 *    it is found in the first from then on, and the other is forgotten
 *    like any idle one; the source may so get one burst more, once;
 *  - when other CPUs take the cells of a bucket three times running, the
 *    packet is let through as within the rate, without a cell;
 *  - two sources whose 64-bit keyed hashes are equal share a cell.
 */

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "limit.h"

unsigned int kfw_limit_sources_param __read_mostly = 65536;

static int kfw_limit_sources_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint_minmax(val, kp, KFW_LIMIT_SOURCES_MIN,
					KFW_LIMIT_SOURCES_MAX);

	if (err)
		pr_err("over_sources must be between %u and %lu\n",
		       KFW_LIMIT_SOURCES_MIN, KFW_LIMIT_SOURCES_MAX);
	return err;
}

static const struct kernel_param_ops kfw_limit_sources_ops = {
	.set = kfw_limit_sources_set,
	.get = param_get_uint,
};

module_param_cb(over_sources, &kfw_limit_sources_ops, &kfw_limit_sources_param,
		0644);
MODULE_PARM_DESC(over_sources,
		 "Sources an `over ... per-src` rule tracks, for rules made from now on (4-4194304)");

/**
 * kfw_limit_create() - the state of a new rule's `over`
 * @conf: the rate, checked by the caller: rate, period and burst not 0
 * @sources: with per_src, the cells of its table (rounded up to a power
 *	of two, at least KFW_LIMIT_WAYS); 0 takes the over_sources parameter
 *
 * Sleeps: in process context only.
 *
 * Return: the state, or NULL without memory.
 */
struct kfw_limit *kfw_limit_create(const struct kfw_limit_conf *conf,
				   unsigned int sources)
{
	struct kfw_limit *limit;

	limit = kzalloc(sizeof(*limit), GFP_KERNEL_ACCOUNT);
	if (!limit)
		return NULL;
	limit->conf = *conf;
	limit->interval = div_u64((u64)conf->period * NSEC_PER_SEC, conf->rate);
	limit->tolerance = limit->interval * (conf->burst - 1);
	atomic64_set(&limit->tat, 0);
	if (!conf->per_src)
		return limit;

	sources = sources ?: READ_ONCE(kfw_limit_sources_param);
	sources = roundup_pow_of_two(clamp_t(unsigned int, sources,
					     KFW_LIMIT_SOURCES_MIN,
					     KFW_LIMIT_SOURCES_MAX));
	limit->mask = sources / KFW_LIMIT_WAYS - 1;
	get_random_bytes(&limit->key, sizeof(limit->key));
	/* Zeroed cells are empty: key 0, and a TAT long past. */
	limit->cells = kvcalloc(sources, sizeof(*limit->cells), GFP_KERNEL_ACCOUNT);
	if (!limit->cells) {
		kfree(limit);
		return NULL;
	}
	return limit;
}

/**
 * kfw_limit_destroy() - free the state, which no reader can see any more
 * @limit: the state, or NULL
 */
void kfw_limit_destroy(struct kfw_limit *limit)
{
	if (!limit)
		return;
	kvfree(limit->cells);
	kfree(limit);
}

/* Whether a packet at @now is within the rate of @tat; if so it spends. */
static bool kfw_limit_spend(const struct kfw_limit *limit, atomic64_t *tat,
			    u64 now)
{
	s64 old = atomic64_read(tat);
	u64 next;

	do {
		next = max_t(u64, old, now);
		if (next - now > limit->tolerance)
			return false;
	} while (!atomic64_try_cmpxchg(tat, &old, next + limit->interval));
	return true;
}

/* The source's hash: never 0, which marks an empty cell. */
static u64 kfw_limit_hash(const struct kfw_limit *limit,
			  const struct kfw_packet *pkt)
{
	u64 hash;

	if (pkt->family == NFPROTO_IPV4)
		hash = siphash_1u32((__force u32)pkt->src.ip, &limit->key);
	else
		hash = siphash(&pkt->src.in6, sizeof(pkt->src.in6), &limit->key);
	return hash ?: 1;
}

/* How many times a packet tries to take a cell that other CPUs take first. */
#define KFW_LIMIT_TRIES	3

/* The cell of the packet's source, taken if need be; NULL if others won. */
static struct kfw_limit_cell *kfw_limit_cell(struct kfw_limit *limit,
					     const struct kfw_packet *pkt)
{
	u64 hash = kfw_limit_hash(limit, pkt);
	struct kfw_limit_cell *bucket, *victim;
	unsigned int i, tries;
	s64 key, victim_key, victim_tat, tat;

	bucket = &limit->cells[(hash & limit->mask) * KFW_LIMIT_WAYS];
	for (tries = 0; tries < KFW_LIMIT_TRIES; tries++) {
		victim = NULL;
		victim_key = 0;
		victim_tat = 0;
		for (i = 0; i < KFW_LIMIT_WAYS; i++) {
			key = atomic64_read(&bucket[i].key);
			if ((u64)key == hash)
				return &bucket[i];
			tat = key ? atomic64_read(&bucket[i].tat) : 0;
			if (!victim || (u64)tat < (u64)victim_tat) {
				victim = &bucket[i];
				victim_key = key;
				victim_tat = tat;
			}
		}
		if (!atomic64_try_cmpxchg(&victim->key, &victim_key, hash)) {
			if ((u64)victim_key == hash)
				return victim;
			continue;
		}
		/*
		 * The new source starts afresh, unless a packet already spent
		 * from the cell since: then the cell is the new source's.
		 */
		if (victim_tat)
			atomic64_cmpxchg(&victim->tat, victim_tat, 0);
		return victim;
	}
	return NULL;
}

/**
 * kfw_limit_over() - whether a packet exceeds the rate
 * @limit: the rule's state
 * @pkt: the packet, which matches the rule's other fields
 * @now: the time, in ns of a clock that never goes back
 *	(ktime_get_mono_fast_ns() on the packet path)
 *
 * A packet within the rate spends from the allowance: call this only for
 * packets the rule decides on if they exceed it.
 *
 * Return: true if the packet exceeds the rate, so the rule matches it.
 */
bool kfw_limit_over(struct kfw_limit *limit, const struct kfw_packet *pkt,
		    u64 now)
{
	struct kfw_limit_cell *cell;

	if (!limit->cells)
		return !kfw_limit_spend(limit, &limit->tat, now);
	cell = kfw_limit_cell(limit, pkt);
	return cell && !kfw_limit_spend(limit, &cell->tat, now);
}

/**
 * kfw_limit_sources() - the sources a per-src rate tracks now
 * @limit: the rule's state
 * @now: the time, as for kfw_limit_over()
 *
 * The sources whose allowance is not whole again: the others are as good
 * as forgotten. Reads every cell, so it is for dumps, not packets.
 *
 * Return: how many; 0 without per_src.
 */
unsigned int kfw_limit_sources(const struct kfw_limit *limit, u64 now)
{
	unsigned int i, n = 0;

	if (!limit->cells)
		return 0;
	for (i = 0; i < (limit->mask + 1) * KFW_LIMIT_WAYS; i++)
		n += atomic64_read(&limit->cells[i].key) &&
		     (u64)atomic64_read(&limit->cells[i].tat) > now;
	return n;
}

/**
 * kfw_limit_equal() - whether two rules have the same `over`
 * @a: a rule's state, or NULL for none
 * @b: another
 *
 * Return: true if both have none, or both the same rate, burst and per_src.
 */
bool kfw_limit_equal(const struct kfw_limit *a, const struct kfw_limit *b)
{
	if (!a || !b)
		return a == b;
	return a->conf.rate == b->conf.rate && a->conf.period == b->conf.period &&
	       a->conf.burst == b->conf.burst &&
	       a->conf.per_src == b->conf.per_src;
}
