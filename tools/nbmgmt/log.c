// SPDX-License-Identifier: GPL-2.0
/* Leveled logging to stderr ("nbmgmt: warning: ..."), one line per call. */
#include <stdarg.h>
#include <stdio.h>
#include "nbmgmt.h"

int log_level = LOG_INFO;

void logm(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	char line[2048];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent output does not interleave. */
	fprintf(stderr, PROG ": %s: %s\n", names[level], line);
	fflush(stderr);
}
