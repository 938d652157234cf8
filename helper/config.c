// SPDX-License-Identifier: GPL-2.0
/*
 * nbhelper configuration: a flat YAML mapping of scalar keys. Unknown keys
 * and bad values are errors naming file:line:column, so a typo never turns
 * into a silently ignored setting.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "log.h"

struct cfg_ctx {
	const char *file;
	yaml_mark_t mark;
	yaml_mark_t key_mark;
};

static int cfg_err(const struct cfg_ctx *x, const char *fmt, const char *a)
{
	fprintf(stderr, "%s:%zu:%zu: ", x->file, x->mark.line + 1,
		x->mark.column + 1);
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return -1;
}

static int set_str(const struct cfg_ctx *x, char *dst, size_t size,
		   const char *v, const char *key)
{
	if (strlen(v) >= size)
		return cfg_err(x, "value of '%s' is too long", key);
	strcpy(dst, v);
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	if (!*v || *v == '-')
		return -1;
	*out = strtoul(v, &end, 10);
	if (errno || *end || *out > max)
		return -1;
	return 0;
}

/* "90", "90s", "15m", "12h", "7d" */
static int parse_duration(const char *v, unsigned int *out)
{
	unsigned long n, mult = 1;
	char buf[32], *end;
	size_t len = strlen(v);

	if (!len || len >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	switch (buf[len - 1]) {
	case 's': mult = 1; buf[len - 1] = 0; break;
	case 'm': mult = 60; buf[len - 1] = 0; break;
	case 'h': mult = 3600; buf[len - 1] = 0; break;
	case 'd': mult = 86400; buf[len - 1] = 0; break;
	}
	errno = 0;
	if (!buf[0] || buf[0] == '-')
		return -1;
	n = strtoul(buf, &end, 10);
	if (errno || *end || n > 365UL * 86400 / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int set_key(struct nbh_config *c, const struct cfg_ctx *x,
		   const char *k, const char *v)
{
	unsigned long n;

#define STR(key, field) \
	if (!strcmp(k, key)) \
		return set_str(x, c->field, sizeof(c->field), v, key)
	STR("server", server);
	STR("ca_file", ca_file);
	STR("server_name", server_name);
	STR("setup_key", setup_key);
	STR("state_dir", state_dir);
#undef STR
	if (!strcmp(k, "interface")) {
		if (!*v || strlen(v) >= IFNAMSIZ || strchr(v, '/') ||
		    strchr(v, ' '))
			return cfg_err(x, "invalid interface name '%s'", v);
		strcpy(c->ifname, v);
		return 0;
	}
	if (!strcmp(k, "name")) {
		for (const char *p = v; *p; p++)
			if (!(isalnum((unsigned char)*p) || *p == '-' ||
			      *p == '_' || *p == '.'))
				return cfg_err(x, "invalid node name '%s'", v);
		if (!*v || strlen(v) >= sizeof(c->name))
			return cfg_err(x, "invalid node name '%s'", v);
		strcpy(c->name, v);
		return 0;
	}
	if (!strcmp(k, "listen_port")) {
		if (parse_uint(v, 65535, &n))
			return cfg_err(x, "listen_port: '%s' is not a port", v);
		c->listen_port = n;
		return 0;
	}
	if (!strcmp(k, "persistent_keepalive")) {
		if (parse_uint(v, 65535, &n))
			return cfg_err(x, "persistent_keepalive: bad value '%s'", v);
		c->keepalive = n;
		return 0;
	}
	if (!strcmp(k, "rotate_interval")) {
		if (parse_duration(v, &c->rotate_interval))
			return cfg_err(x, "rotate_interval: bad duration '%s' (e.g. 3600, 90m, 12h, 7d)", v);
		return 0;
	}
	if (!strcmp(k, "reconnect_max")) {
		if (parse_duration(v, &c->backoff_max) || !c->backoff_max)
			return cfg_err(x, "reconnect_max: bad duration '%s'", v);
		return 0;
	}
	if (!strcmp(k, "log_level")) {
		c->log_level = log_level_parse(v);
		if (c->log_level < 0)
			return cfg_err(x, "log_level: unknown level '%s' (error, warn, info, debug)", v);
		return 0;
	}
	if (!strcmp(k, "outbound")) {
		if (parse_bool(v, &c->outbound))
			return cfg_err(x, "outbound: '%s' is not a boolean", v);
		return 0;
	}
	{
		struct cfg_ctx kx = *x;

		kx.mark = x->key_mark;
		return cfg_err(&kx, "unknown key '%s'", k);
	}
}

void config_defaults(struct nbh_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ifname, NBH_DEFAULT_IFNAME);
	strcpy(c->state_dir, NBH_DEFAULT_STATE_DIR);
	c->listen_port = NBH_DEFAULT_PORT;
	c->keepalive = 25;
	c->backoff_max = 30;
	c->log_level = LOG_INFO;
	if (gethostname(c->name, sizeof(c->name) - 1))
		strcpy(c->name, "node");
	c->name[strcspn(c->name, ".")] = 0;
}

static int walk(struct nbh_config *c, yaml_parser_t *p, struct cfg_ctx *x)
{
	yaml_event_t ev;
	char key[64];
	int depth = 0, have_key = 0, ret = -1, seen_map = 0;

	for (;;) {
		if (!yaml_parser_parse(p, &ev)) {
			x->mark = p->problem_mark;
			return cfg_err(x, "%s", p->problem ? p->problem : "syntax error");
		}
		x->mark = ev.start_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth || seen_map || have_key) {
				cfg_err(x, "%s", "nested mappings are not allowed here");
				goto out;
			}
			depth = seen_map = 1;
			break;
		case YAML_MAPPING_END_EVENT:
			depth = 0;
			break;
		case YAML_SCALAR_EVENT:
			if (!depth) {
				cfg_err(x, "%s", "expected a mapping of settings");
				goto out;
			}
			if (!have_key) {
				if (ev.data.scalar.length >= sizeof(key)) {
					cfg_err(x, "unknown key '%s'", (char *)ev.data.scalar.value);
					goto out;
				}
				strcpy(key, (char *)ev.data.scalar.value);
				x->key_mark = ev.start_mark;
				have_key = 1;
			} else {
				if (set_key(c, x, key, (char *)ev.data.scalar.value))
					goto out;
				have_key = 0;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			cfg_err(x, "'%s' must be a scalar, not a list", have_key ? key : "?");
			goto out;
		default:
			cfg_err(x, "%s", "unsupported YAML construct (aliases are not allowed)");
			goto out;
		}
		yaml_event_delete(&ev);
	}
out:
	yaml_event_delete(&ev);
	return ret;
}

int config_load(struct nbh_config *c, const char *path)
{
	struct cfg_ctx x = { .file = path };
	yaml_parser_t p;
	FILE *f;
	int ret;

	config_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	ret = walk(c, &p, &x);
	yaml_parser_delete(&p);
	fclose(f);
	if (ret)
		return ret;
	x.mark.line = x.mark.column = 0;
	if (!c->server[0])
		return cfg_err(&x, "%s", "missing required key 'server'");
	if (!c->ca_file[0])
		return cfg_err(&x, "%s", "missing required key 'ca_file'");
	if (!c->server_name[0]) {
		/* default: the host part of server */
		char *colon;

		snprintf(c->server_name, sizeof(c->server_name), "%s", c->server);
		colon = strrchr(c->server_name, ':');
		if (colon && c->server_name[0] != '[')
			*colon = 0;
	}
	return 0;
}
