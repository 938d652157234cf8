/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the few kernel types and helpers that
 * kmod/classifier.{h,c} use, so that the very same source file is unit
 * tested, fuzzed and benchmarked on the host. Only what the classifier
 * needs lives here; it is not a general kernel emulation layer.
 */
#ifndef _NBG_KSHIM_H
#define _NBG_KSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;

#ifndef U16_MAX
#define U16_MAX		((u16)~0U)
#endif
#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif
#ifndef U64_MAX
#define U64_MAX		((u64)~0ULL)
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
/*
 * glibc's <sys/cdefs.h> (pulled in by the headers above) defines
 * __always_inline, and so may <linux/stddef.h>; keep theirs.
 */
#ifndef __always_inline
#define __always_inline	inline __attribute__((__always_inline__))
#endif
#ifndef noinline
#define noinline	__attribute__((__noinline__))
#endif
#ifndef fallthrough
#define fallthrough	__attribute__((__fallthrough__))
#endif

/* Like the kernel's: each argument is evaluated once. */
#define min(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
			   _a < _b ? _a : _b; })
#define max(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
			   _a > _b ? _a : _b; })
#define min_t(t, a, b)	min((t)(a), (t)(b))

/*
 * Allocation: the flags are accepted and ignored. Tests set
 * nbg_kshim_fail_at = N to make the Nth allocation from then on fail,
 * to walk every error path.
 */
typedef unsigned int gfp_t;
#define GFP_KERNEL		0u
#define GFP_KERNEL_ACCOUNT	0u
#define __GFP_NOWARN		0u

__attribute__((weak)) unsigned long nbg_kshim_fail_at;

static inline bool nbg_kshim_fail(void)
{
	return nbg_kshim_fail_at && !--nbg_kshim_fail_at;
}

static inline void *kvmalloc(size_t size, gfp_t flags)
{
	(void)flags;
	return nbg_kshim_fail() ? NULL : malloc(size ? size : 1);
}

static inline void *kvzalloc(size_t size, gfp_t flags)
{
	(void)flags;
	return nbg_kshim_fail() ? NULL : calloc(1, size ? size : 1);
}

/* No product in a condition: -Wint-in-bool-context stays quiet. */
static inline void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	(void)flags;
	if (__builtin_mul_overflow(n, size, &bytes) || nbg_kshim_fail())
		return NULL;
	return malloc(bytes ? bytes : 1);
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	(void)flags;
	return nbg_kshim_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

/* Build time yields the CPU in the kernel; nothing to do here. */
static inline void cond_resched(void)
{
}

/* linux/sort.h: the swap function is ignored (qsort swaps itself). */
typedef int (*cmp_func_t)(const void *a, const void *b);
static inline void sort(void *base, size_t num, size_t size, cmp_func_t cmp,
			void *swap_func)
{
	(void)swap_func;
	if (num > 1)
		qsort(base, num, size, cmp);
}

/* bsearch(3) has the same argument order as the kernel's. */

#endif /* _NBG_KSHIM_H */
