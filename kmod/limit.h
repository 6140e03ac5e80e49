/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_LIMIT_H
#define _KFW_LIMIT_H

#include <linux/atomic.h>
#include <linux/siphash.h>
#include <linux/types.h>

#include "match.h"

/*
 * The rate of a rule's `over`: which packets exceed it. The algorithm and
 * the per-source table are in limit.c.
 */

/* Cells of a per-source table's bucket: four 16-byte cells, one cache line. */
#define KFW_LIMIT_WAYS		4
/* Bounds of the over_sources module parameter. */
#define KFW_LIMIT_SOURCES_MIN	KFW_LIMIT_WAYS
#define KFW_LIMIT_SOURCES_MAX	BIT(22)

/**
 * struct kfw_limit_conf - an `over` as the user gave it
 * @rate: packets per @period
 * @period: seconds: 1, 60 or 3600
 * @burst: packets allowed at once
 * @per_src: count the rate per source address
 */
struct kfw_limit_conf {
	u32 rate;
	u32 period;
	u32 burst;
	bool per_src;
};

/**
 * struct kfw_limit_cell - the rate state of one source
 * @key: the source's keyed hash, never 0; 0 for a cell never used
 * @tat: theoretical arrival time of the source's next packet, in ns
 */
struct kfw_limit_cell {
	atomic64_t key;
	atomic64_t tat;
};

/**
 * struct kfw_limit - the rate state of one rule's `over`
 * @conf: the rate
 * @interval: ns a packet costs: @conf.period / @conf.rate
 * @tolerance: how far ahead of now the theoretical arrival time may be for
 *	a packet to be within the rate: (@conf.burst - 1) intervals
 * @tat: theoretical arrival time of the next packet, in ns, without per_src
 * @key: the key of the sources' hash, random for each rule
 * @mask: buckets of @cells, less one (a power of two, less one)
 * @cells: per_src: KFW_LIMIT_WAYS cells a bucket; else NULL
 */
struct kfw_limit {
	struct kfw_limit_conf conf;
	u64 interval;
	u64 tolerance;
	atomic64_t tat;
	siphash_key_t key;
	u32 mask;
	struct kfw_limit_cell *cells;
};

extern unsigned int kfw_limit_sources_param;

struct kfw_limit *kfw_limit_create(const struct kfw_limit_conf *conf,
				   unsigned int sources);
void kfw_limit_destroy(struct kfw_limit *limit);
bool kfw_limit_over(struct kfw_limit *limit, const struct kfw_packet *pkt,
		    u64 now);
unsigned int kfw_limit_sources(const struct kfw_limit *limit, u64 now);
bool kfw_limit_equal(const struct kfw_limit *a, const struct kfw_limit *b);

#endif /* _KFW_LIMIT_H */
