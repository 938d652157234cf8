// SPDX-License-Identifier: GPL-2.0
/* Host unit test for nbctl's JSON writer (tools/nbctl/json.c). KTAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/nbctl/json.h"
#include "selftests/ktap.h"

/* One comment line per line of @s: the output is one JSON value a line. */
static void diag_lines(const char *what, const char *s)
{
	size_t len;

	for (; *s; s += len + (s[len] == '\n')) {
		len = strcspn(s, "\n");
		ktap_diag("%s %.*s", what, (int)len, s);
	}
}

static void expect(const char *got, const char *want, const char *name)
{
	if (strcmp(got, want)) {
		diag_lines("got ", got);
		diag_lines("want", want);
	}
	ktap_ok(!strcmp(got, want), "%s", name);
}

int main(void)
{
	struct json j;
	char *buf;
	size_t len;
	FILE *f;

	ktap_plan(3);

	f = open_memstream(&buf, &len);
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "a", 18446744073709551615ULL);
	json_arr_begin(&j, "b");
	json_obj_begin(&j, NULL);
	json_bool(&j, "t", true);
	json_null(&j, "n");
	json_obj_end(&j);
	json_i64(&j, NULL, -5);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_str(&j, "s", "x");
	json_obj_end(&j);
	json_finish(&j);
	fclose(f);
	expect(buf, "{\"a\":18446744073709551615,\"b\":[{\"t\":true,\"n\":null},-5,[]],\"s\":\"x\"}\n",
	       "nesting and commas");
	free(buf);

	f = open_memstream(&buf, &len);
	json_init(&j, f);
	json_str(&j, NULL, "q\"b\\s\n\t\x01z");
	json_finish(&j);
	fclose(f);
	expect(buf, "\"q\\\"b\\\\s\\n\\t\\u0001z\"\n", "string escapes");
	free(buf);

	/* A writer is reusable after json_finish (monitor: one object a line). */
	f = open_memstream(&buf, &len);
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "i", 1);
	json_obj_end(&j);
	json_finish(&j);
	json_obj_begin(&j, NULL);
	json_u64(&j, "i", 2);
	json_obj_end(&j);
	json_finish(&j);
	fclose(f);
	expect(buf, "{\"i\":1}\n{\"i\":2}\n", "one object per line");
	free(buf);

	return ktap_done();
}
