/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kfw's KUnit suites share: module parameters for the randomized tests,
 * a private namespace state to build tables in, and address parsing.
 */
#ifndef _KFW_TEST_UTIL_H
#define _KFW_TEST_UTIL_H

#include <kunit/test.h>
#include <linux/prandom.h>

#include "match.h"
#include "netns.h"
#include "table.h"

extern unsigned long kfw_test_seed;
extern unsigned int kfw_test_rounds;
extern unsigned int kfw_test_rules;
extern unsigned int kfw_test_packets;
extern unsigned int kfw_test_ops;

int kfw_test_suite_init(struct kunit_suite *suite);
void kfw_test_suite_exit(struct kunit_suite *suite);

struct kfw_net *kfw_test_net_new(struct kunit *test);
void kfw_test_net_free(struct kfw_net *kn);
struct kfw_rule *kfw_test_rule_alloc(struct kfw_net *kn, u8 dir, u8 action,
				     const struct kfw_match *match);
int kfw_test_replace(struct kfw_net *kn, struct kfw_rule **rules,
		     unsigned int nr, const u8 *policy, unsigned int flags);

/* kfw_table_classify() as the packet path calls it, in a read-side section. */
static inline struct kfw_rule *kfw_test_classify(const struct kfw_table *table,
						 u8 dir,
						 const struct kfw_packet *pkt)
{
	struct kfw_rule *rule;

	rcu_read_lock();
	rule = kfw_table_classify(table, dir, pkt);
	rcu_read_unlock();
	return rule;
}

void kfw_test_rnd_init(struct kunit *test, struct rnd_state *rnd, u32 salt);

/* A number in [0, n): n is small, so the modulo bias does not matter. */
static inline u32 kfw_test_rnd(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

u8 kfw_test_addr(struct kunit *test, const char *text,
		 union nf_inet_addr *addr);
u8 kfw_test_prefix(struct kunit *test, const char *text,
		   union nf_inet_addr *addr, u8 *prefix);
void kfw_test_mask(union nf_inet_addr *mask, u8 family, u8 prefix);
void kfw_test_ports(struct kunit *test, const char *text,
		    struct kfw_port_range *range);

#endif /* _KFW_TEST_UTIL_H */
