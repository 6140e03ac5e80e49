/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_CLASSIFY_ENV_H
#define _KFW_CLASSIFY_ENV_H

/*
 * The seam between the classifier and its surroundings. classify.c calls
 * nothing of the kernel's but what is named here; the host harness in
 * tests/classifier/ provides the same names in kfw_host_env.h, so the very
 * same classify.c (and match.c, its reference) runs in a benchmark and a
 * fuzzer on the host.
 *
 * Besides these, classify.c uses the RCU pointer accessors, READ_ONCE(),
 * WRITE_ONCE(), struct rcu_head, memcpy(), ntohl() and the u8-u64 types.
 */

#ifdef __KERNEL__

#include <linux/bitops.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

/*
 * A vector of 200 000 rules with nothing to index them by is 8 MB: past
 * what kmalloc() gives without a warning, so large ones come from vmalloc.
 */
static inline void *kfw_cls_zalloc(size_t size)
{
	return kvzalloc(size, GFP_KERNEL_ACCOUNT);
}

static inline void kfw_cls_free(const void *ptr)
{
	kvfree(ptr);
}

/* Frees @ptr, whose struct rcu_head is @field, once no reader can see it. */
#define kfw_cls_free_rcu(ptr, field) kvfree_rcu(ptr, field)

static inline unsigned int kfw_cls_popcount16(u16 word)
{
	return hweight16(word);
}

#else

#include <kfw_host_env.h>

#endif

#endif /* _KFW_CLASSIFY_ENV_H */
