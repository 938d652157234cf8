/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBH_LOG_H
#define NBH_LOG_H

#include <syslog.h>

/* Levels are syslog's, so --syslog passes them through unchanged. */
void log_init(const char *ident, int level, int use_syslog);
void log_set_level(int level);
int log_level_parse(const char *s);
int log_level_enabled(int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
