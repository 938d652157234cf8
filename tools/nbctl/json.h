/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny streaming JSON writer shared by nbctl's --json outputs. It keeps
 * track of commas and nesting; strings are escaped.
 *
 *   struct json j; json_init(&j, stdout);
 *   json_obj_begin(&j, NULL); json_u64(&j, "generation", 3);
 *   json_arr_begin(&j, "rules"); ... json_arr_end(&j); json_obj_end(&j);
 *   json_finish(&j);   (newline)
 */
#ifndef NBCTL_JSON_H
#define NBCTL_JSON_H

#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
/* key is NULL inside arrays and for the top-level value. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
void json_finish(struct json *j);

#endif /* NBCTL_JSON_H */
