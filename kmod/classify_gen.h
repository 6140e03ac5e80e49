/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_CLASSIFY_GEN_H
#define _KFW_CLASSIFY_GEN_H

/*
 * Random rules and packets for testing and measuring the classifier, shared
 * by the KUnit suite kfw_classify (classify_test.c) and the host harness
 * (tests/classifier/): like classify.c it uses nothing but classify_env.h
 * and match.h, and its random numbers come from its own generator, so that a
 * seed gives the same rules in the kernel and on the host.
 *
 * A struct kfw_gen_set is a rule list kept in priority order, with the
 * linear reference lookup the classifier is compared with. Its matches stay
 * where they are while inserted, as kfw_cls_insert() requires.
 */

#include "classify_env.h"
#include "match.h"

/**
 * struct kfw_gen - a random number generator (splitmix64)
 * @state: advances by a constant each draw
 */
struct kfw_gen {
	u64 state;
};

void kfw_gen_seed(struct kfw_gen *gen, u64 seed);
u64 kfw_gen_u64(struct kfw_gen *gen);
u32 kfw_gen_below(struct kfw_gen *gen, u32 n);

/* Rules and packets of every shape, clustered so that rules overlap. */
void kfw_gen_rule(struct kfw_gen *gen, struct kfw_match *match);
void kfw_gen_packet(struct kfw_gen *gen, const struct kfw_match *near,
		    struct kfw_packet *pkt);

/**
 * struct kfw_gen_bench - the benchmark's rule set, in 198.18.0.0/15
 * @gen: its random numbers
 * @used: source networks handed out so far, by prefix length
 */
struct kfw_gen_bench {
	struct kfw_gen gen;
	u32 used[33];
};

void kfw_gen_bench_init(struct kfw_gen_bench *bench, u64 seed);
void kfw_gen_bench_rule(struct kfw_gen_bench *bench, struct kfw_match *match);
void kfw_gen_bench_probe(struct kfw_gen *gen, struct kfw_packet *pkt);
void kfw_gen_bench_packet(struct kfw_gen *gen, const struct kfw_match *rule,
			  struct kfw_packet *pkt);

/**
 * struct kfw_gen_set - rules in list order, and the linear reference
 * @match: the rules, by slot; a slot's match stays put while it is in use
 * @prio: priority of each slot in use
 * @order: the slots in use, by priority
 * @free: the slots not in use
 * @nr: rules in the set
 * @cap: slots
 */
struct kfw_gen_set {
	struct kfw_match *match;
	u64 *prio;
	u32 *order;
	u32 *free;
	u32 nr;
	u32 cap;
};

size_t kfw_gen_set_bytes(u32 cap);
void kfw_gen_set_init(struct kfw_gen_set *set, void *mem, u32 cap);
struct kfw_match *kfw_gen_set_add(struct kfw_gen_set *set,
				  const struct kfw_match *match, u64 prio);
void kfw_gen_set_del(struct kfw_gen_set *set, u32 pos);
u64 kfw_gen_set_new_prio(struct kfw_gen *gen, const struct kfw_gen_set *set);
const struct kfw_match *kfw_gen_set_any(struct kfw_gen *gen,
					const struct kfw_gen_set *set);
const struct kfw_match *kfw_gen_set_lookup(const struct kfw_gen_set *set,
					   const struct kfw_packet *pkt);

/* The set's rule at list position @pos. */
static inline struct kfw_match *kfw_gen_set_at(const struct kfw_gen_set *set,
					       u32 pos)
{
	return &set->match[set->order[pos]];
}

/* The priority of the rule at list position @pos. */
static inline u64 kfw_gen_set_prio(const struct kfw_gen_set *set, u32 pos)
{
	return set->prio[set->order[pos]];
}

#endif /* _KFW_CLASSIFY_GEN_H */
