/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP output for the host test programs, one copy for all of them.
 * Header-only (static state per program) so each test links nothing extra.
 *
 *   ktap_plan(n) or ktap_header()   then   ktap_ok(cond, "name", ...)
 *   ... ktap_diag("why", ...) ...   then   return ktap_done();
 *
 * ktap_done() prints the "1..N" plan if none was printed up front, then the
 * plain "N passed, N failed" line selftests/run-host.sh expects, and returns
 * the exit status.
 */
#ifndef _NBG_SELFTESTS_KTAP_H
#define _NBG_SELFTESTS_KTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned int ktap_n, ktap_fail;
static bool ktap_planned;

static inline void ktap_header(void)
{
	printf("KTAP version 1\n");
}

/* Header and plan together, for programs that know their count. */
static inline void ktap_plan(unsigned int n)
{
	printf("KTAP version 1\n1..%u\n", n);
	ktap_planned = true;
}

/* Prints "ok N name" or "not ok N name"; returns @cond. */
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
	/* a crash later must not lose results already reached */
	fflush(stdout);
	return cond;
}

/* One "# ..." comment line (@fmt without the newline). */
static inline void __attribute__((format(printf, 1, 2)))
ktap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int ktap_done(void)
{
	if (!ktap_planned)
		printf("1..%u\n", ktap_n);
	printf("%u passed, %u failed\n", ktap_n - ktap_fail, ktap_fail);
	fflush(stdout);
	return ktap_fail ? 1 : 0;
}

#endif /* _NBG_SELFTESTS_KTAP_H */
