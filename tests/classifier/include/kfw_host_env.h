/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_HOST_ENV_H
#define _KFW_HOST_ENV_H

/*
 * The kernel, as much of it as classify.c, match.c and classify_gen.c use,
 * for building them on the host (see ../Makefile). The host is
 * single-threaded: RCU is plain pointer access, and what the kernel frees
 * after a grace period is freed at once, so that ASan sees any reader that
 * would still hold it.
 *
 * Included first (classify_env.h, or -include for match.c), before any
 * header of the kernel's uapi: glibc's <netinet/in.h> must come before
 * <linux/in.h> for the two to agree.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define U8_MAX		((u8)~0U)
#define U16_MAX		((u16)~0U)
#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)
#define S64_MAX		((s64)(U64_MAX >> 1))

#define BITS_PER_LONG	(8 * (int)sizeof(long))
#define BIT(nr)		(1UL << (nr))
#define BIT_ULL(nr)	(1ULL << (nr))
#define GENMASK(h, l)	(((~0UL) - (1UL << (l)) + 1) & \
			 (~0UL >> (BITS_PER_LONG - 1 - (h))))

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ALIGN(x, a)	(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

#define __aligned(x)	__attribute__((aligned(x)))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#ifndef __always_inline
#define __always_inline	inline __attribute__((__always_inline__))
#endif
#define __maybe_unused	__attribute__((__unused__))
#define __must_check	__attribute__((__warn_unused_result__))
#define __packed	__attribute__((__packed__))
#define noinline	__attribute__((__noinline__))
#define __read_mostly
#define __rcu
#define __force
#define fallthrough	__attribute__((__fallthrough__))

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define struct_size(p, member, n) \
	(sizeof(*(p)) + sizeof(*(p)->member) * (size_t)(n))
#define flex_array_size(p, member, n) (sizeof(*(p)->member) * (size_t)(n))
#define array_size(a, b)	((size_t)(a) * (size_t)(b))

/* The kernel's min() and max() refuse mixed types; so does this, by a warning. */
#define __kfw_cmp(op, x, y) ({						\
	__typeof__(x) __x = (x);					\
	__typeof__(y) __y = (y);					\
	(void)(&__x == &__y);						\
	__x op __y ? __x : __y; })
#define min(x, y)	__kfw_cmp(<, x, y)
#define max(x, y)	__kfw_cmp(>, x, y)
#define min_t(t, x, y)	__kfw_cmp(<, (t)(x), (t)(y))
#define max_t(t, x, y)	__kfw_cmp(>, (t)(x), (t)(y))
#define clamp(v, lo, hi) min(max(v, lo), hi)
#define swap(a, b) do {							\
	__typeof__(a) __tmp = (a);					\
	(a) = (b);							\
	(b) = __tmp;							\
} while (0)

#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), "BUILD_BUG_ON: " #cond)

/* Warnings are bugs on the host: stop where they happen. */
#define WARN_ON(cond) ({						\
	bool __c = !!(cond);						\
	if (__c)							\
		abort();						\
	__c; })
#define WARN_ON_ONCE(cond)	WARN_ON(cond)
#define BUG_ON(cond)	do { if (cond) abort(); } while (0)
#define BUG()		abort()
#define might_sleep()	do { } while (0)
#define cond_resched()	do { } while (0)
#define lockdep_assert_held(l) do { (void)(l); } while (0)

#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) do { *(volatile __typeof__(x) *)&(x) = (v); } while (0)
#define smp_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)

/* RCU with one thread: readers never overlap writers. */
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

#define rcu_read_lock()			do { } while (0)
#define rcu_read_unlock()		do { } while (0)
#define synchronize_rcu()		do { } while (0)
#define rcu_dereference(p)		READ_ONCE(p)
#define rcu_dereference_raw(p)		READ_ONCE(p)
#define rcu_dereference_check(p, c)	({ (void)(c); READ_ONCE(p); })
#define rcu_dereference_protected(p, c)	({ (void)(c); (p); })
#define rcu_access_pointer(p)		READ_ONCE(p)
#define rcu_assign_pointer(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v)		WRITE_ONCE(p, v)
#define rcu_replace_pointer(p, v, c) ({					\
	__typeof__(p) __old = rcu_dereference_protected(p, c);		\
	rcu_assign_pointer(p, v);					\
	__old; })

#define hweight8(w)	((unsigned int)__builtin_popcount((u8)(w)))
#define hweight16(w)	((unsigned int)__builtin_popcount((u16)(w)))
#define hweight32(w)	((unsigned int)__builtin_popcount((u32)(w)))
#define hweight64(w)	((unsigned int)__builtin_popcountll((u64)(w)))

/* Last (most significant) set bit, 1-based; 0 for 0, as in the kernel. */
static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static inline unsigned long __ffs(unsigned long x)
{
	return __builtin_ctzl(x);
}

static inline unsigned long __ffs64(u64 x)
{
	return __builtin_ctzll(x);
}

static inline unsigned long __fls(unsigned long x)
{
	return BITS_PER_LONG - 1 - __builtin_clzl(x);
}

/* --- The seam of classify_env.h -------------------------------------------- */

/* When not 0, the number of allocations that succeed before one fails. */
extern unsigned long kfw_host_alloc_fails_after;

/* Aligned as the kernel's kmalloc() aligns a power of two, to 64 at least. */
static inline void *kfw_cls_zalloc(size_t size)
{
	void *ptr;

	if (kfw_host_alloc_fails_after && !--kfw_host_alloc_fails_after)
		return NULL;
	if (posix_memalign(&ptr, 64, size))
		return NULL;
	return memset(ptr, 0, size);
}

static inline void kfw_cls_free(const void *ptr)
{
	free((void *)ptr);
}

/*
 * No reader outlives a call on the host: free at once, but first tell the
 * harness, which may check that no new reader could still reach @ptr.
 */
extern void (*kfw_host_retire_hook)(const void *ptr);

#define kfw_cls_free_rcu(ptr, field) do {				\
	(void)&(ptr)->field;						\
	if (kfw_host_retire_hook)					\
		kfw_host_retire_hook(ptr);				\
	kfw_cls_free(ptr);						\
} while (0)

static inline unsigned int kfw_cls_popcount16(u16 word)
{
	return __builtin_popcount(word);
}

#endif /* _KFW_HOST_ENV_H */
