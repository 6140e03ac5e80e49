/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_COUNTERS_H
#define _KFW_COUNTERS_H

#include <linux/idr.h>
#include <linux/percpu.h>
#include <linux/types.h>

/*
 * 64-bit counters are bumped with this_cpu_add() and summed from other CPUs
 * without a seqcount; that is only tear-free where a u64 is one machine word.
 */
#if BITS_PER_LONG != 64
#error "kfw needs a 64-bit kernel"
#endif

struct kfw_counter {
	u64 packets;
	u64 bytes;
};

#define KFW_COUNTERS_PER_CHUNK 1024

/**
 * struct kfw_counters - per-CPU packet and byte counters, addressed by slot
 * @slots: allocator of slot numbers
 * @nr_chunks: capacity of @chunks
 * @chunks: per-CPU arrays of KFW_COUNTERS_PER_CHUNK counters, allocated on
 *	first use and kept until kfw_counters_destroy()
 *
 * Rules outlive the tables that publish them, so their counters cannot live
 * inside a table. Allocating one per-CPU object per rule would make a 100k
 * rule restore pay for 100k per-CPU allocations; slots in chunks cost one
 * allocation per 1024 rules. Chunks never move, so the packet path reaches a
 * counter without any lock.
 */
struct kfw_counters {
	struct ida slots;
	unsigned int nr_chunks;
	struct kfw_counter __percpu **chunks;
};

int kfw_counters_init(struct kfw_counters *counters, u64 max_slots);
void kfw_counters_destroy(struct kfw_counters *counters);
int kfw_counters_alloc(struct kfw_counters *counters);
void kfw_counters_free(struct kfw_counters *counters, unsigned int slot);
void kfw_counters_read(const struct kfw_counters *counters, unsigned int slot,
		       struct kfw_counter *sum);

static inline void kfw_counters_add(struct kfw_counters *counters,
				    unsigned int slot, unsigned int bytes)
{
	struct kfw_counter __percpu *chunk;

	chunk = READ_ONCE(counters->chunks[slot / KFW_COUNTERS_PER_CHUNK]);
	chunk += slot % KFW_COUNTERS_PER_CHUNK;
	this_cpu_inc(chunk->packets);
	this_cpu_add(chunk->bytes, bytes);
}

#endif /* _KFW_COUNTERS_H */
