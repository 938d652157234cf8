/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal KTAP output for the policy library's host tests. */
#ifndef _NBP_KTAP_H
#define _NBP_KTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned int ktap_n, ktap_fail;

static inline void ktap_header(void)
{
	printf("KTAP version 1\n");
}

static inline bool __attribute__((format(printf, 2, 3)))
ktap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u ", cond ? "" : "not ", ++ktap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		ktap_fail++;
	fflush(stdout);
	return cond;
}

static inline int ktap_done(void)
{
	printf("1..%u\n", ktap_n);
	printf("%u passed, %u failed\n", ktap_n - ktap_fail, ktap_fail);
	return ktap_fail ? 1 : 0;
}

#endif
