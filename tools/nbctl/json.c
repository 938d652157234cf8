// SPDX-License-Identifier: GPL-2.0
/* Minimal streaming JSON writer for nbctl --json. */
#include <inttypes.h>
#include "json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
}

static void put_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void key_prefix(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key) {
		put_escaped(j->f, key);
		fputc(':', j->f);
	}
}

void json_obj_begin(struct json *j, const char *key)
{
	key_prefix(j, key);
	fputc('{', j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

void json_obj_end(struct json *j)
{
	fputc('}', j->f);
	if (j->depth)
		j->depth--;
}

void json_arr_begin(struct json *j, const char *key)
{
	key_prefix(j, key);
	fputc('[', j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

void json_arr_end(struct json *j)
{
	fputc(']', j->f);
	if (j->depth)
		j->depth--;
}

void json_str(struct json *j, const char *key, const char *val)
{
	key_prefix(j, key);
	put_escaped(j->f, val ? val : "");
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	key_prefix(j, key);
	fprintf(j->f, "%" PRIu64, val);
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	key_prefix(j, key);
	fprintf(j->f, "%" PRId64, val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	key_prefix(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	key_prefix(j, key);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	j->depth = 0;
	j->first[0] = true;
}
