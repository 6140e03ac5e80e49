/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_CLASSIFY_H
#define _KFW_CLASSIFY_H

/*
 * The classifier of one direction of one table: which rule, first in list
 * order, matches a packet. The algorithm is in classify.c; this is its whole
 * interface. It builds in the kernel and, through classify_env.h, in the host
 * harness under tests/classifier/.
 *
 * Rules are known to the classifier by their struct kfw_match and a priority:
 * a smaller priority comes first in the list. The caller keeps priorities
 * unique, and keeps each match alive and unchanged while it is inserted and
 * for a grace period after it is removed.
 *
 * Writers are serialised by the caller. Readers run under rcu_read_lock()
 * (in the kernel) while writers change the classifier in place: a reader sees
 * each insert or remove either wholly done or not at all.
 */

#include "classify_env.h"
#include "match.h"

struct kfw_cls;

/**
 * struct kfw_cls_stats - what a classifier holds, for /proc and benchmarks
 * @rules: rules inserted
 * @entries: places rules occupy (one each, two for a rule that a split cut
 *	short left in two tables)
 * @nodes: keys of the hash tables
 * @bytes: memory of the structure itself, rules not included
 */
struct kfw_cls_stats {
	unsigned long rules;
	unsigned long entries;
	unsigned long nodes;
	unsigned long bytes;
};

struct kfw_cls *kfw_cls_create(void);
void kfw_cls_destroy(struct kfw_cls *cls);
void kfw_cls_publish(struct kfw_cls *cls);
int kfw_cls_insert(struct kfw_cls *cls, const struct kfw_match *match,
		   u64 prio);
void kfw_cls_remove(struct kfw_cls *cls, const struct kfw_match *match,
		    u64 prio);
const struct kfw_match *kfw_cls_lookup(const struct kfw_cls *cls,
				       const struct kfw_packet *pkt);
const struct kfw_match *kfw_cls_lookup_from(const struct kfw_cls *cls,
					    const struct kfw_packet *pkt,
					    u64 from, u64 *prio);
void kfw_cls_stats(const struct kfw_cls *cls, struct kfw_cls_stats *stats);
#ifndef __KERNEL__
bool kfw_cls_reaches(const struct kfw_cls *cls, const void *ptr);
#endif

#endif /* _KFW_CLASSIFY_H */
