// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU rule counters, allocated in chunks and handed out by slot.
 */

#include <linux/slab.h>

#include "counters.h"

/* Slot numbers are ints (the IDA's): @max_slots may be at most INT_MAX + 1. */
int kfw_counters_init(struct kfw_counters *counters, u64 max_slots)
{
	ida_init(&counters->slots);
	counters->chunks = NULL;
	counters->nr_chunks = 0;
	if (!max_slots || max_slots - 1 > INT_MAX)
		return -EINVAL;
	counters->nr_chunks = DIV_ROUND_UP_ULL(max_slots, KFW_COUNTERS_PER_CHUNK);
	counters->chunks = kvcalloc(counters->nr_chunks,
				    sizeof(*counters->chunks), GFP_KERNEL_ACCOUNT);
	return counters->chunks ? 0 : -ENOMEM;
}

void kfw_counters_destroy(struct kfw_counters *counters)
{
	unsigned int i;

	for (i = 0; i < counters->nr_chunks; i++)
		free_percpu(counters->chunks[i]);
	kvfree(counters->chunks);
	ida_destroy(&counters->slots);
}

/*
 * Callers serialize allocations (the namespace's config mutex); frees may
 * come from any context.
 */
int kfw_counters_alloc(struct kfw_counters *counters)
{
	struct kfw_counter __percpu *chunk;
	unsigned int max = min_t(u64, (u64)counters->nr_chunks * KFW_COUNTERS_PER_CHUNK - 1,
				 INT_MAX);
	int slot, cpu;

	slot = ida_alloc_max(&counters->slots, max, GFP_KERNEL_ACCOUNT);
	if (slot < 0)
		return slot;

	chunk = counters->chunks[slot / KFW_COUNTERS_PER_CHUNK];
	if (!chunk) {
		chunk = __alloc_percpu_gfp(sizeof(*chunk) * KFW_COUNTERS_PER_CHUNK,
					   __alignof__(*chunk), GFP_KERNEL_ACCOUNT);
		if (!chunk) {
			ida_free(&counters->slots, slot);
			return -ENOMEM;
		}
		/* Readers find the chunk through a rule published later. */
		WRITE_ONCE(counters->chunks[slot / KFW_COUNTERS_PER_CHUNK], chunk);
		return slot;
	}

	/* A reused slot: its last owner is past a grace period, so quiet. */
	chunk += slot % KFW_COUNTERS_PER_CHUNK;
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(chunk, cpu), 0, sizeof(*chunk));
	return slot;
}

void kfw_counters_free(struct kfw_counters *counters, unsigned int slot)
{
	ida_free(&counters->slots, slot);
}

void kfw_counters_read(const struct kfw_counters *counters, unsigned int slot,
		       struct kfw_counter *sum)
{
	struct kfw_counter __percpu *chunk;
	int cpu;

	chunk = READ_ONCE(counters->chunks[slot / KFW_COUNTERS_PER_CHUNK]);
	chunk += slot % KFW_COUNTERS_PER_CHUNK;
	sum->packets = 0;
	sum->bytes = 0;
	for_each_possible_cpu(cpu) {
		const struct kfw_counter *c = per_cpu_ptr(chunk, cpu);

		sum->packets += READ_ONCE(c->packets);
		sum->bytes += READ_ONCE(c->bytes);
	}
}
