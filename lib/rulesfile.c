// SPDX-License-Identifier: GPL-2.0
/*
 * Parser and printer for the low-level ruleset file
 * (Documentation/ruleset-format.md).
 *
 * The parser reads the whole input, splits it into statements (one per
 * line; a trailing backslash continues a statement on the next line),
 * and keeps the line and column of every token so that each error points
 * at the exact word. Checks that need the whole file (duplicate ids,
 * references to identities) run at the end from side tables that remember
 * where each id was written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "lib/rulesfile.h"

struct tok {
	const char *s;		/* NUL-terminated copy */
	unsigned int line, col;
};

/* Where an id was defined or referenced, for whole-file checks. */
struct idpos {
	u32 id;
	unsigned int line, col;
};

struct idpos_vec {
	struct idpos *v;
	size_t n, cap;
};

/* An identity's prefix and where it was written (duplicate claims). */
struct pfxpos {
	struct nbg_prefix p;
	u32 owner;
	unsigned int line, col;
};

struct parser {
	const char *name;
	char *err;
	size_t errlen;
	struct nbg_ruleset_desc *d;
	struct nbg_defaults *defs;
	struct idpos_vec ident_ids, rule_ids, ident_refs;
	unsigned int def_line[__NBG_DIR_MAX];
	struct pfxpos *pfx;
	size_t n_pfx, cap_pfx;
	/* current statement */
	struct tok *toks;
	size_t ntoks, captoks;
	size_t pos;
};

static int perr(struct parser *p, const struct tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%u:%u: ", p->name, t->line, t->col);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int enomem(struct parser *p)
{
	snprintf(p->err, p->errlen, "%s: %s", p->name, strerror(ENOMEM));
	return -ENOMEM;
}

static int idpos_push(struct idpos_vec *v, u32 id, const struct tok *t)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct idpos *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n].id = id;
	v->v[v->n].line = t->line;
	v->v[v->n].col = t->col;
	v->n++;
	return 0;
}

/* Token helpers. The past-the-end token carries the position just after
 * the last real one, so "expected X" points where X should have been. */
static struct tok *peek(struct parser *p)
{
	return &p->toks[p->pos];
}

static bool at_end(struct parser *p)
{
	return p->pos >= p->ntoks;
}

static struct tok *next(struct parser *p)
{
	struct tok *t = &p->toks[p->pos];

	if (p->pos < p->ntoks)
		p->pos++;
	return t;
}

static int parse_u32_tok(struct parser *p, const struct tok *t, const char *what,
			 bool nonzero, u32 *out)
{
	unsigned long long v = 0;
	const char *s = t->s;

	if (!*s)
		return perr(p, t, "expected %s", what);
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return perr(p, t, "invalid %s '%s': not a decimal number",
				    what, t->s);
		v = v * 10 + (*s - '0');
		if (v > UINT32_MAX)
			return perr(p, t, "invalid %s '%s': above 4294967295",
				    what, t->s);
	}
	if (nonzero && !v)
		return perr(p, t, "%s must not be 0", what);
	*out = v;
	return 0;
}

static int expect_u32(struct parser *p, const char *what, bool nonzero, u32 *out)
{
	if (at_end(p))
		return perr(p, peek(p), "expected %s", what);
	return parse_u32_tok(p, next(p), what, nonzero, out);
}

static int expect_prefix(struct parser *p, struct nbg_prefix *pf)
{
	const char *msg;
	struct tok *t;

	if (at_end(p))
		return perr(p, peek(p), "expected an address prefix after 'prefix'");
	t = next(p);
	if (nbg_prefix_parse(t->s, pf, &msg))
		return perr(p, t, "invalid prefix '%s': %s", t->s, msg);
	return 0;
}

static int pfx_push(struct parser *p, const struct nbg_prefix *pf, u32 owner,
		    const struct tok *t)
{
	if (p->n_pfx == p->cap_pfx) {
		size_t cap = p->cap_pfx ? p->cap_pfx * 2 : 64;
		struct pfxpos *n = realloc(p->pfx, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->pfx = n;
		p->cap_pfx = cap;
	}
	p->pfx[p->n_pfx].p = *pf;
	p->pfx[p->n_pfx].owner = owner;
	p->pfx[p->n_pfx].line = t->line;
	p->pfx[p->n_pfx].col = t->col;
	p->n_pfx++;
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	}
	return n > 0 && n < NBG_NAME_MAX;
}

static int parse_identity(struct parser *p)
{
	struct nbg_ident_desc *i;
	struct nbg_prefix pf;
	struct tok *t;
	u32 id, gid;
	int ret;

	t = peek(p);
	ret = expect_u32(p, "identity id", true, &id);
	if (ret)
		return ret;
	if (idpos_push(&p->ident_ids, id, t))
		return enomem(p);
	if (at_end(p))
		return perr(p, peek(p), "expected identity name");
	t = next(p);
	if (!valid_name(t->s))
		return perr(p, t, "invalid name '%s': use 1 to %d of A-Z a-z 0-9 . _ -",
			    t->s, NBG_NAME_MAX - 1);
	if (p->d->n_idents >= NBG_MAX_IDENTITIES)
		return perr(p, t, "too many identities (at most %u)", NBG_MAX_IDENTITIES);
	i = nbg_desc_add_ident(p->d);
	if (!i)
		return enomem(p);
	i->id = id;
	strcpy(i->name, t->s);
	while (!at_end(p)) {
		t = next(p);
		if (!strcmp(t->s, "prefix")) {
			struct tok *pt = peek(p);

			ret = expect_prefix(p, &pf);
			if (ret)
				return ret;
			if (pfx_push(p, &pf, id, pt))
				return enomem(p);
			if (i->n_prefixes >= NBG_MAX_PREFIXES)
				return perr(p, t, "too many prefixes (at most %d)",
					    NBG_MAX_PREFIXES);
			if (nbg_ident_add_prefix(i, &pf))
				return enomem(p);
		} else if (!strcmp(t->s, "group")) {
			ret = expect_u32(p, "group id", false, &gid);
			if (ret)
				return ret;
			if (i->n_groups >= NBG_MAX_GROUPS)
				return perr(p, t, "too many groups (at most %d)",
					    NBG_MAX_GROUPS);
			if (nbg_ident_add_group(i, gid))
				return enomem(p);
		} else {
			return perr(p, t, "unexpected '%s': expected 'prefix' or 'group'",
				    t->s);
		}
	}
	return 0;
}

/* One selector item after "src"/"dst"; @any_set tracks an explicit "any". */
static int parse_sel_item(struct parser *p, struct tok *kw, struct nbg_selector *s,
			  bool *any_set)
{
	struct nbg_prefix pf;
	struct tok *t;
	u32 v;
	int ret;

	if (at_end(p))
		return perr(p, peek(p),
			    "expected 'any', 'ident', 'group' or 'prefix' after '%s'",
			    kw->s);
	t = next(p);
	if (!strcmp(t->s, "any")) {
		*any_set = true;
		nbg_selector_set_any(s);
		return 0;
	}
	if (s->n_idents + s->n_groups >= NBG_MAX_SEL_ITEMS &&
	    (!strcmp(t->s, "ident") || !strcmp(t->s, "group")))
		return perr(p, t, "too many identities and groups in '%s' (at most %d)",
			    kw->s, NBG_MAX_SEL_ITEMS);
	if (!strcmp(t->s, "ident")) {
		struct tok *idt = peek(p);

		ret = expect_u32(p, "identity id", true, &v);
		if (ret)
			return ret;
		if (idpos_push(&p->ident_refs, v, idt))
			return enomem(p);
		if (!*any_set && nbg_sel_add_ident(s, v))
			return enomem(p);
	} else if (!strcmp(t->s, "group")) {
		ret = expect_u32(p, "group id", false, &v);
		if (ret)
			return ret;
		if (!*any_set && nbg_sel_add_group(s, v))
			return enomem(p);
	} else if (!strcmp(t->s, "prefix")) {
		ret = expect_prefix(p, &pf);
		if (ret)
			return ret;
		if (s->n_prefixes >= NBG_MAX_PREFIXES)
			return perr(p, t, "too many prefixes in '%s' (at most %d)",
				    kw->s, NBG_MAX_PREFIXES);
		if (!*any_set && nbg_sel_add_prefix(s, &pf))
			return enomem(p);
	} else {
		return perr(p, t, "unexpected '%s': expected 'any', 'ident', 'group' or 'prefix'",
			    t->s);
	}
	return 0;
}

static int parse_port(struct parser *p, struct nbg_rule_desc *r)
{
	unsigned long lo, hi;
	struct tok *t;
	char *end;

	if (at_end(p))
		return perr(p, peek(p), "expected a port or port range after 'port'");
	t = next(p);
	if (t->s[0] < '0' || t->s[0] > '9')
		goto bad;
	lo = strtoul(t->s, &end, 10);
	hi = lo;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			goto bad;
		hi = strtoul(end + 1, &end, 10);
	}
	if (*end)
		goto bad;
	if (lo > 65535 || hi > 65535)
		return perr(p, t, "port '%s' above 65535", t->s);
	if (lo > hi)
		return perr(p, t, "port range '%s' is reversed", t->s);
	if (r->n_ports >= NBG_MAX_PORT_RANGES)
		return perr(p, t, "too many ports (at most %d)", NBG_MAX_PORT_RANGES);
	if (nbg_rule_add_ports(r, lo, hi))
		return enomem(p);
	return 0;
bad:
	return perr(p, t, "invalid port '%s': expected <n> or <lo>-<hi>", t->s);
}

static int parse_rule(struct parser *p)
{
	struct tok *t, *dir_tok = NULL, *proto_tok = NULL, *port_tok = NULL;
	bool src_any = false, dst_any = false, src_seen = false, dst_seen = false;
	struct nbg_rule_desc *r;
	u32 id;
	int ret;

	t = peek(p);
	ret = expect_u32(p, "rule id", true, &id);
	if (ret)
		return ret;
	if (idpos_push(&p->rule_ids, id, t))
		return enomem(p);
	if (p->d->n_rules >= NBG_MAX_RULES)
		return perr(p, t, "too many rules (at most %u)", NBG_MAX_RULES);
	r = nbg_desc_add_rule(p->d);
	if (!r)
		return enomem(p);
	r->id = id;
	if (at_end(p))
		return perr(p, peek(p), "expected 'allow' or 'deny'");
	t = next(p);
	if (!strcmp(t->s, "allow"))
		r->action = NBG_ACTION_ALLOW;
	else if (!strcmp(t->s, "deny"))
		r->action = NBG_ACTION_DENY;
	else
		return perr(p, t, "unexpected '%s': expected 'allow' or 'deny'", t->s);

	while (!at_end(p)) {
		t = next(p);
		if (!strcmp(t->s, "in") || !strcmp(t->s, "out")) {
			if (dir_tok)
				return perr(p, t, "direction given twice (first at column %u)",
					    dir_tok->col);
			dir_tok = t;
			r->direction = t->s[0] == 'i' ? NBG_DIR_IN : NBG_DIR_OUT;
		} else if (!strcmp(t->s, "proto")) {
			struct tok *v;

			if (proto_tok)
				return perr(p, t, "proto given twice (first at column %u)",
					    proto_tok->col);
			proto_tok = t;
			if (at_end(p))
				return perr(p, peek(p), "expected a protocol after 'proto'");
			v = next(p);
			if (nbg_proto_parse(v->s, &r->proto))
				return perr(p, v,
					    "unknown protocol '%s': use tcp, udp, icmp, icmpv6, sctp, udplite or 0-255",
					    v->s);
			r->proto_any = false;
		} else if (!strcmp(t->s, "src")) {
			if (!src_seen)
				nbg_selector_free(&r->src);
			src_seen = true;
			ret = parse_sel_item(p, t, &r->src, &src_any);
			if (ret)
				return ret;
		} else if (!strcmp(t->s, "dst")) {
			if (!dst_seen)
				nbg_selector_free(&r->dst);
			dst_seen = true;
			ret = parse_sel_item(p, t, &r->dst, &dst_any);
			if (ret)
				return ret;
		} else if (!strcmp(t->s, "port")) {
			if (!port_tok)
				port_tok = t;
			ret = parse_port(p, r);
			if (ret)
				return ret;
		} else {
			return perr(p, t,
				    "unexpected '%s': expected in, out, proto, src, dst or port",
				    t->s);
		}
	}
	if (port_tok && (r->proto_any || !nbg_proto_has_ports(r->proto)))
		return perr(p, port_tok,
			    "ports need proto tcp, udp, sctp or udplite");
	/* Absent means any; items-with-any collapsed to any already. */
	r->src.any = nbg_selector_is_any(&r->src);
	r->dst.any = nbg_selector_is_any(&r->dst);
	return 0;
}

static int parse_default(struct parser *p, struct tok *kw)
{
	struct tok *dt, *at;
	int dir;
	u8 act;

	if (!p->defs)
		return perr(p, kw, "'default' lines are not accepted here");
	if (at_end(p))
		return perr(p, peek(p), "expected 'in' or 'out'");
	dt = next(p);
	if (!strcmp(dt->s, "in"))
		dir = NBG_DIR_IN;
	else if (!strcmp(dt->s, "out"))
		dir = NBG_DIR_OUT;
	else
		return perr(p, dt, "unexpected '%s': expected 'in' or 'out'", dt->s);
	if (at_end(p))
		return perr(p, peek(p), "expected 'allow' or 'deny'");
	at = next(p);
	if (!strcmp(at->s, "allow"))
		act = NBG_ACTION_ALLOW;
	else if (!strcmp(at->s, "deny"))
		act = NBG_ACTION_DENY;
	else
		return perr(p, at, "unexpected '%s': expected 'allow' or 'deny'", at->s);
	if (!at_end(p))
		return perr(p, peek(p), "unexpected '%s' after the default", peek(p)->s);
	if (p->def_line[dir])
		return perr(p, kw, "default %s given twice (first on line %u)",
			    dt->s, p->def_line[dir]);
	p->def_line[dir] = kw->line;
	if (dir == NBG_DIR_IN) {
		p->defs->has_in = true;
		p->defs->in = act;
	} else {
		p->defs->has_out = true;
		p->defs->out = act;
	}
	return 0;
}

static int parse_statement(struct parser *p)
{
	struct tok *kw;

	p->pos = 0;
	kw = next(p);
	if (!strcmp(kw->s, "identity"))
		return parse_identity(p);
	if (!strcmp(kw->s, "rule"))
		return parse_rule(p);
	if (!strcmp(kw->s, "default"))
		return parse_default(p, kw);
	return perr(p, kw, "unknown statement '%s': expected identity, rule or default",
		    kw->s);
}

static int push_tok(struct parser *p, const char *s, size_t len,
		    unsigned int line, unsigned int col)
{
	char *c;

	if (p->ntoks + 1 >= p->captoks) {
		size_t cap = p->captoks ? p->captoks * 2 : 32;
		struct tok *n = realloc(p->toks, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->toks = n;
		p->captoks = cap;
	}
	c = strndup(s, len);
	if (!c)
		return -ENOMEM;
	p->toks[p->ntoks].s = c;
	p->toks[p->ntoks].line = line;
	p->toks[p->ntoks].col = col;
	p->ntoks++;
	/* sentinel past the end: empty, positioned after the last token */
	p->toks[p->ntoks].s = "";
	p->toks[p->ntoks].line = line;
	p->toks[p->ntoks].col = col + len + 1;
	return 0;
}

static void clear_toks(struct parser *p)
{
	size_t k;

	for (k = 0; k < p->ntoks; k++)
		free((char *)p->toks[k].s);
	p->ntoks = 0;
}

static int cmp_idpos_id(const void *a, const void *b)
{
	const struct idpos *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static bool pos_before(const struct idpos *a, const struct idpos *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* Report the duplicate id whose second occurrence comes first in the file. */
static int check_dups(struct parser *p, struct idpos_vec *v, const char *what)
{
	const struct idpos *bad = NULL, *first = NULL;
	size_t k;

	qsort(v->v, v->n, sizeof(*v->v), cmp_idpos_id);
	for (k = 1; k < v->n; k++) {
		if (v->v[k].id != v->v[k - 1].id)
			continue;
		if (!bad || pos_before(&v->v[k], bad)) {
			bad = &v->v[k];
			first = &v->v[k - 1];
		}
	}
	if (bad) {
		struct tok t = { .line = bad->line, .col = bad->col };

		return perr(p, &t, "duplicate %s id %u (first on line %u)",
			    what, bad->id, first->line);
	}
	return 0;
}

static int cmp_pfxpos(const void *a, const void *b)
{
	const struct pfxpos *x = a, *y = b;
	int c = nbg_prefix_cmp(&x->p, &y->p);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/* The module maps a source address to one identity: two identities may
 * not claim the same prefix (one identity repeating it is harmless). */
static int check_prefix_owners(struct parser *p)
{
	const struct pfxpos *bad = NULL, *first = NULL;
	size_t k, j;

	qsort(p->pfx, p->n_pfx, sizeof(*p->pfx), cmp_pfxpos);
	for (k = 1; k < p->n_pfx; k = j) {
		/* [k-1, j) is a run of equal prefixes, in file order */
		for (j = k; j < p->n_pfx && !nbg_prefix_cmp(&p->pfx[j].p, &p->pfx[k - 1].p); j++)
			;
		for (size_t m = k; m < j; m++) {
			if (p->pfx[m].owner == p->pfx[k - 1].owner)
				continue;
			if (!bad || (p->pfx[m].line < bad->line ||
				     (p->pfx[m].line == bad->line && p->pfx[m].col < bad->col))) {
				bad = &p->pfx[m];
				first = &p->pfx[k - 1];
			}
			break;
		}
		if (j == k)
			j++;
	}
	if (bad) {
		char buf[NBG_PREFIX_STRLEN];
		struct tok t = { .line = bad->line, .col = bad->col };

		return perr(p, &t, "prefix %s is already claimed by identity %u (line %u)",
			    nbg_prefix_format(&bad->p, buf, sizeof(buf)), first->owner,
			    first->line);
	}
	return 0;
}

static int check_refs(struct parser *p)
{
	const struct idpos *bad = NULL;
	size_t k;

	/* ident_ids is sorted by check_dups() */
	for (k = 0; k < p->ident_refs.n; k++) {
		struct idpos key = { .id = p->ident_refs.v[k].id }, *hit;
		size_t lo = 0, hi = p->ident_ids.n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (p->ident_ids.v[mid].id < key.id)
				lo = mid + 1;
			else
				hi = mid;
		}
		hit = lo < p->ident_ids.n && p->ident_ids.v[lo].id == key.id ?
		      &p->ident_ids.v[lo] : NULL;
		if (!hit && (!bad || pos_before(&p->ident_refs.v[k], bad)))
			bad = &p->ident_refs.v[k];
	}
	if (bad) {
		struct tok t = { .line = bad->line, .col = bad->col };

		return perr(p, &t, "unknown identity %u", bad->id);
	}
	return 0;
}

static int parse_all(struct parser *p, const char *buf, size_t len)
{
	unsigned int line = 1, col = 1;
	bool cont = false;
	size_t k = 0;
	int ret = 0;

	while (k <= len && !ret) {
		char c = k < len ? buf[k] : '\n';

		if (k < len && c == '\0') {
			struct tok t = { .line = line, .col = col };

			return perr(p, &t, "NUL byte in input");
		}
		if (c == '#') {
			while (k < len && buf[k] != '\n')
				k++, col++;
			continue;
		}
		if (c == '\n') {
			if (p->ntoks && !strcmp(p->toks[p->ntoks - 1].s, "\\")) {
				free((char *)p->toks[--p->ntoks].s);
				cont = true;
			} else {
				cont = false;
			}
			if (!cont && p->ntoks) {
				ret = parse_statement(p);
				clear_toks(p);
			}
			line++;
			col = 1;
			k++;
			if (k > len)
				break;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			k++, col++;
			continue;
		}
		{
			size_t start = k;
			unsigned int scol = col;

			while (k < len && buf[k] != ' ' && buf[k] != '\t' &&
			       buf[k] != '\r' && buf[k] != '\n' && buf[k] != '#' &&
			       buf[k] != '\0')
				k++, col++;
			if (push_tok(p, buf + start, k - start, line, scol))
				return enomem(p);
		}
	}
	if (ret)
		return ret;
	ret = check_dups(p, &p->ident_ids, "identity");
	if (!ret)
		ret = check_dups(p, &p->rule_ids, "rule");
	if (!ret)
		ret = check_refs(p);
	if (!ret)
		ret = check_prefix_owners(p);
	return ret;
}

int nbg_rules_parse_string(const char *buf, size_t len, const char *name,
			   struct nbg_ruleset_desc *d, struct nbg_defaults *defs,
			   char *err, size_t errlen)
{
	struct parser p = {
		.name = name, .err = err, .errlen = errlen, .d = d, .defs = defs,
	};
	int ret;

	if (errlen)
		err[0] = '\0';
	if (defs)
		memset(defs, 0, sizeof(*defs));
	ret = parse_all(&p, buf, len);
	clear_toks(&p);
	free(p.toks);
	free(p.ident_ids.v);
	free(p.rule_ids.v);
	free(p.ident_refs.v);
	free(p.pfx);
	if (ret) {
		nbg_desc_free(d);
		if (defs)
			memset(defs, 0, sizeof(*defs));
	}
	return ret;
}

int nbg_rules_parse_stream(FILE *f, const char *name, struct nbg_ruleset_desc *d,
			   struct nbg_defaults *defs, char *err, size_t errlen)
{
	size_t len = 0, cap = 0, n;
	char *buf = NULL;
	int ret;

	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536 * 2);

			if (!nb) {
				free(buf);
				snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", name, strerror(-ret));
		free(buf);
		return ret;
	}
	ret = nbg_rules_parse_string(buf, len, name, d, defs, err, errlen);
	free(buf);
	return ret;
}

int nbg_rules_parse_file(const char *path, struct nbg_ruleset_desc *d,
			 struct nbg_defaults *defs, char *err, size_t errlen)
{
	FILE *f;
	int ret;

	if (!strcmp(path, "-"))
		return nbg_rules_parse_stream(stdin, "<stdin>", d, defs, err, errlen);
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	ret = nbg_rules_parse_stream(f, path, d, defs, err, errlen);
	fclose(f);
	return ret;
}

/* Printing: build each line in a memstream so lines can also be returned. */
static void print_sel(FILE *f, const char *kw, const struct nbg_selector *s)
{
	char buf[NBG_PREFIX_STRLEN];
	u32 k;

	if (nbg_selector_is_any(s))
		return;
	for (k = 0; k < s->n_idents; k++)
		fprintf(f, " %s ident %u", kw, s->idents[k]);
	for (k = 0; k < s->n_groups; k++)
		fprintf(f, " %s group %u", kw, s->groups[k]);
	for (k = 0; k < s->n_prefixes; k++)
		fprintf(f, " %s prefix %s", kw,
			nbg_prefix_format(&s->prefixes[k], buf, sizeof(buf)));
}

static void print_rule(FILE *f, const struct nbg_rule_desc *r)
{
	const char *pn;
	u32 k;

	fprintf(f, "rule %u %s %s", r->id,
		r->action == NBG_ACTION_DENY ? "deny" : "allow",
		r->direction == NBG_DIR_OUT ? "out" : "in");
	if (!r->proto_any) {
		pn = nbg_proto_name(r->proto);
		if (pn)
			fprintf(f, " proto %s", pn);
		else
			fprintf(f, " proto %u", r->proto);
	}
	print_sel(f, "src", &r->src);
	print_sel(f, "dst", &r->dst);
	for (k = 0; k < r->n_ports; k++) {
		if (r->ports[k].lo == r->ports[k].hi)
			fprintf(f, " port %u", r->ports[k].lo);
		else
			fprintf(f, " port %u-%u", r->ports[k].lo, r->ports[k].hi);
	}
}

static void print_ident(FILE *f, const struct nbg_ident_desc *i)
{
	char buf[NBG_PREFIX_STRLEN];
	u32 k;

	/* An unnamed identity (possible from other producers) prints as "-",
	 * a valid name, so the output still loads. */
	fprintf(f, "identity %u %.*s", i->id, NBG_NAME_MAX - 1,
		i->name[0] ? i->name : "-");
	for (k = 0; k < i->n_prefixes; k++)
		fprintf(f, " prefix %s",
			nbg_prefix_format(&i->prefixes[k], buf, sizeof(buf)));
	for (k = 0; k < i->n_groups; k++)
		fprintf(f, " group %u", i->groups[k]);
}

int nbg_rules_print(FILE *f, const struct nbg_ruleset_desc *d,
		    const struct nbg_defaults *defs)
{
	struct nbg_ruleset_desc c;
	u32 k;

	if (nbg_desc_copy(&c, d))
		return -ENOMEM;
	nbg_desc_canonicalize(&c);
	if (defs && defs->has_in)
		fprintf(f, "default in %s\n", defs->in == NBG_ACTION_ALLOW ? "allow" : "deny");
	if (defs && defs->has_out)
		fprintf(f, "default out %s\n", defs->out == NBG_ACTION_ALLOW ? "allow" : "deny");
	for (k = 0; k < c.n_idents; k++) {
		print_ident(f, &c.idents[k]);
		fputc('\n', f);
	}
	for (k = 0; k < c.n_rules; k++) {
		print_rule(f, &c.rules[k]);
		fputc('\n', f);
	}
	nbg_desc_free(&c);
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

char *nbg_rule_to_string(const struct nbg_rule_desc *r)
{
	char *s = NULL;
	size_t n;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	print_rule(f, r);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

char *nbg_ident_to_string(const struct nbg_ident_desc *i)
{
	char *s = NULL;
	size_t n;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	print_ident(f, i);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}
