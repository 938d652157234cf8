// SPDX-License-Identifier: GPL-2.0
/* Host unit test for nbctl's JSON writer (tools/nbctl/json.c). KTAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/nbctl/json.h"

static int n_test, n_fail;

static void expect(const char *got, const char *want, const char *name)
{
	n_test++;
	if (strcmp(got, want)) {
		n_fail++;
		printf("# got  %s# want %s", got, want);
	}
	printf("%sok %d %s\n", strcmp(got, want) ? "not " : "", n_test, name);
}

int main(void)
{
	struct json j;
	char *buf;
	size_t len;
	FILE *f;

	printf("KTAP version 1\n1..3\n");

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

	printf("# %d passed, %d failed\n", n_test - n_fail, n_fail);
	return n_fail ? 1 : 0;
}
