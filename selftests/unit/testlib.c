// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for the classifier host tests: a tiny reader for the ruleset text
 * format (KTAP output is selftests/ktap.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

void *tl_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

/* Append one element to a malloc'd array, growing by doubling. */
static void *push(void *arr, u32 n, size_t sz)
{
	if (!(n & (n - 1)) || !n) {
		arr = realloc(arr, (n ? 2 * n : 1) * sz);
		if (!arr) {
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
	}
	memset((char *)arr + n * sz, 0, sz);
	return arr;
}

struct nbg_ident_desc *tl_add_ident(struct nbg_ruleset_desc *d, u32 id)
{
	struct nbg_ident_desc *i;

	d->idents = push(d->idents, d->n_idents, sizeof(*d->idents));
	i = &d->idents[d->n_idents++];
	i->id = id;
	snprintf(i->name, sizeof(i->name), "id%u", id);
	return i;
}

struct nbg_rule_desc *tl_add_rule(struct nbg_ruleset_desc *d, u32 id,
				  u8 action, u8 dir)
{
	struct nbg_rule_desc *r;

	d->rules = push(d->rules, d->n_rules, sizeof(*d->rules));
	r = &d->rules[d->n_rules++];
	r->id = id;
	r->action = action;
	r->direction = dir;
	r->proto_any = true;
	r->src.any = true;
	r->dst.any = true;
	return r;
}

void tl_sel_add_ident(struct nbg_selector *s, u32 id)
{
	s->idents = push(s->idents, s->n_idents, sizeof(u32));
	s->idents[s->n_idents++] = id;
	s->any = false;
}

void tl_sel_add_group(struct nbg_selector *s, u32 gid)
{
	s->groups = push(s->groups, s->n_groups, sizeof(u32));
	s->groups[s->n_groups++] = gid;
	s->any = false;
}

void tl_sel_add_prefix(struct nbg_selector *s, const struct nbg_prefix *p)
{
	s->prefixes = push(s->prefixes, s->n_prefixes, sizeof(*p));
	s->prefixes[s->n_prefixes++] = *p;
	s->any = false;
}

void tl_ident_add_group(struct nbg_ident_desc *i, u32 gid)
{
	i->groups = push(i->groups, i->n_groups, sizeof(u32));
	i->groups[i->n_groups++] = gid;
}

void tl_ident_add_prefix(struct nbg_ident_desc *i, const struct nbg_prefix *p)
{
	i->prefixes = push(i->prefixes, i->n_prefixes, sizeof(*p));
	i->prefixes[i->n_prefixes++] = *p;
}

void tl_rule_add_ports(struct nbg_rule_desc *r, u16 lo, u16 hi)
{
	r->ports = push(r->ports, r->n_ports, sizeof(*r->ports));
	r->ports[r->n_ports].lo = lo;
	r->ports[r->n_ports].hi = hi;
	r->n_ports++;
}

/* Does not check canonical form: tests want to feed bad prefixes too. */
int tl_prefix(struct nbg_prefix *p, const char *s)
{
	char buf[128], *slash;
	long len;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, p->addr.raw) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr.raw) == 1)
		p->family = AF_INET6;
	else
		return -1;
	len = slash ? strtol(slash, NULL, 10) : (p->family == AF_INET ? 32 : 128);
	p->len = (u8)len;
	return 0;
}

static int proto_num(const char *s)
{
	static const struct { const char *n; int v; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
		{ "sctp", IPPROTO_SCTP }, { "udplite", IPPROTO_UDPLITE },
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].n))
			return names[i].v;
	return atoi(s);
}

static int parse_sel(struct nbg_selector *s, char **save)
{
	char *kind = strtok_r(NULL, " \t", save), *val;
	struct nbg_prefix p;

	if (!kind)
		return -1;
	if (!strcmp(kind, "any")) {
		s->any = true;
		return 0;
	}
	/* no items at all: tests that an empty selector means any */
	if (!strcmp(kind, "empty"))
		return 0;
	val = strtok_r(NULL, " \t", save);
	if (!val)
		return -1;
	if (!strcmp(kind, "ident"))
		tl_sel_add_ident(s, strtoul(val, NULL, 10));
	else if (!strcmp(kind, "group"))
		tl_sel_add_group(s, strtoul(val, NULL, 10));
	else if (!strcmp(kind, "prefix") && !tl_prefix(&p, val))
		tl_sel_add_prefix(s, &p);
	else
		return -1;
	return 0;
}

/*
 * A selector starts as "any"; the first src/dst item replaces that with
 * the item (an explicit "src any" keeps it any).
 */
static void sel_start(struct nbg_selector *s, bool *seen)
{
	if (!*seen) {
		s->any = false;
		*seen = true;
	}
}

static int parse_rule(struct nbg_ruleset_desc *d, char **save)
{
	char *tok = strtok_r(NULL, " \t", save);
	struct nbg_rule_desc *r;
	bool src_seen = false, dst_seen = false;
	u8 action;

	if (!tok)
		return -1;
	r = tl_add_rule(d, strtoul(tok, NULL, 10), 0, NBG_DIR_IN);
	tok = strtok_r(NULL, " \t", save);
	if (!tok)
		return -1;
	action = !strcmp(tok, "allow") ? NBG_ACTION_ALLOW :
		 !strcmp(tok, "deny") ? NBG_ACTION_DENY : (u8)atoi(tok);
	r->action = action;
	while ((tok = strtok_r(NULL, " \t", save))) {
		if (!strcmp(tok, "in")) {
			r->direction = NBG_DIR_IN;
		} else if (!strcmp(tok, "out")) {
			r->direction = NBG_DIR_OUT;
		} else if (!strcmp(tok, "dir")) {
			tok = strtok_r(NULL, " \t", save);
			if (!tok)
				return -1;
			r->direction = atoi(tok);
		} else if (!strcmp(tok, "proto")) {
			tok = strtok_r(NULL, " \t", save);
			if (!tok)
				return -1;
			r->proto_any = false;
			r->proto = proto_num(tok);
		} else if (!strcmp(tok, "src")) {
			sel_start(&r->src, &src_seen);
			if (parse_sel(&r->src, save))
				return -1;
		} else if (!strcmp(tok, "dst")) {
			sel_start(&r->dst, &dst_seen);
			if (parse_sel(&r->dst, save))
				return -1;
		} else if (!strcmp(tok, "port")) {
			char *dash;
			long lo, hi;

			tok = strtok_r(NULL, " \t", save);
			if (!tok)
				return -1;
			lo = strtol(tok, &dash, 10);
			hi = *dash == '-' ? strtol(dash + 1, NULL, 10) : lo;
			tl_rule_add_ports(r, lo, hi);
		} else {
			return -1;
		}
	}
	return 0;
}

static int parse_ident(struct nbg_ruleset_desc *d, char **save)
{
	char *tok = strtok_r(NULL, " \t", save);
	struct nbg_ident_desc *i;
	struct nbg_prefix p;

	if (!tok)
		return -1;
	i = tl_add_ident(d, strtoul(tok, NULL, 10));
	while ((tok = strtok_r(NULL, " \t", save))) {
		if (!strcmp(tok, "prefix")) {
			tok = strtok_r(NULL, " \t", save);
			if (!tok || tl_prefix(&p, tok))
				return -1;
			tl_ident_add_prefix(i, &p);
		} else if (!strcmp(tok, "group")) {
			tok = strtok_r(NULL, " \t", save);
			if (!tok)
				return -1;
			tl_ident_add_group(i, strtoul(tok, NULL, 10));
		} else if (!strcmp(tok, "name")) {
			tok = strtok_r(NULL, " \t", save);
			if (!tok)
				return -1;
			snprintf(i->name, sizeof(i->name), "%s", tok);
		} else {
			return -1;
		}
	}
	return 0;
}

int tl_desc_parse(struct nbg_ruleset_desc *d, const char *text)
{
	char *copy = strdup(text), *line, *lsave, *save, *tok;
	int ret = 0;

	for (line = strtok_r(copy, ";\n", &lsave); line && !ret;
	     line = strtok_r(NULL, ";\n", &lsave)) {
		char *l = strdup(line);

		tok = strtok_r(l, " \t", &save);
		if (!tok || tok[0] == '#')
			ret = 0;
		else if (!strcmp(tok, "identity"))
			ret = parse_ident(d, &save);
		else if (!strcmp(tok, "rule"))
			ret = parse_rule(d, &save);
		else
			ret = -1;
		if (ret)
			fprintf(stderr, "tl_desc_parse: bad line: %s\n", line);
		free(l);
	}
	free(copy);
	return ret;
}

static void sel_free(struct nbg_selector *s)
{
	free(s->idents);
	free(s->groups);
	free(s->prefixes);
}

void tl_desc_free(struct nbg_ruleset_desc *d)
{
	u32 i;

	for (i = 0; i < d->n_idents; i++) {
		free(d->idents[i].groups);
		free(d->idents[i].prefixes);
	}
	for (i = 0; i < d->n_rules; i++) {
		sel_free(&d->rules[i].src);
		sel_free(&d->rules[i].dst);
		free(d->rules[i].ports);
	}
	free(d->idents);
	free(d->rules);
	memset(d, 0, sizeof(*d));
}

void tl_pkt(struct nbg_pkt *p, const char *spec)
{
	char dir[8], proto[16], s[64], dst[64];
	struct nbg_prefix a, b;
	unsigned int port = 0;

	memset(p, 0, sizeof(*p));
	if (sscanf(spec, "%7s %15s %63s %63s %u", dir, proto, s, dst, &port) < 4 ||
	    tl_prefix(&a, s) || tl_prefix(&b, dst)) {
		fprintf(stderr, "tl_pkt: bad spec: %s\n", spec);
		exit(2);
	}
	p->direction = !strcmp(dir, "out") ? NBG_DIR_OUT : NBG_DIR_IN;
	p->proto = proto_num(proto);
	p->family = a.family;
	memcpy(p->saddr.raw, a.addr.raw, 16);
	memcpy(p->daddr.raw, b.addr.raw, 16);
	p->dport = port;
	p->sport = 40000;
}
