// SPDX-License-Identifier: GPL-2.0
/*
 * YAML -> a small tree of scalars, sequences and mappings, built from
 * libyaml's event stream so that we control the limits: nesting depth,
 * number of nodes and input size are bounded, and anchors/aliases (the
 * "billion laughs" expansion) are refused. Every node keeps its line and
 * column for messages.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "policy/internal.h"

void ytree_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		ytree_free(n->kids[i]);
	free(n->kids);
	free(n->val);
	free(n);
}

static struct ynode *ynode_new(enum ynode_type t, const yaml_mark_t *m)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = t;
	n->self = n;
	n->line = m->line + 1;
	n->col = m->column + 1;
	return n;
}

static int ynode_append(struct ynode *parent, struct ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct ynode **k = realloc(parent->kids, cap * sizeof(*k));

		if (!k)
			return -1;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

struct ybuild {
	const char *name;
	struct nbp_diag *diag;
	struct ynode *stack[NBP_MAX_DEPTH + 1];
	int depth;
	struct ynode *root;
	size_t nodes;
};

static int yerr(struct ybuild *b, const yaml_mark_t *m, const char *msg)
{
	nbp_diag_add(b->diag, NBP_SEV_ERROR, b->name, m->line + 1,
		     m->column + 1, "%s", msg);
	return -1;
}

/* Attach a finished or newly opened node to its parent (or as root). */
static int yattach(struct ybuild *b, struct ynode *n, const yaml_mark_t *m)
{
	if (++b->nodes > NBP_MAX_NODES) {
		ytree_free(n);
		return yerr(b, m, "too many YAML nodes");
	}
	if (b->depth == 0) {
		if (b->root) {
			ytree_free(n);
			return yerr(b, m, "only one YAML document is allowed");
		}
		b->root = n;
		return 0;
	}
	if (ynode_append(b->stack[b->depth - 1], n)) {
		ytree_free(n);
		return yerr(b, m, "out of memory");
	}
	return 0;
}

static int yevent(struct ybuild *b, yaml_event_t *ev)
{
	struct ynode *n;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return yerr(b, &ev->start_mark,
			    "YAML aliases are not supported");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return yerr(b, &ev->start_mark,
				    "YAML anchors are not supported");
		n = ynode_new(Y_SCALAR, &ev->start_mark);
		if (!n)
			return yerr(b, &ev->start_mark, "out of memory");
		n->len = ev->data.scalar.length;
		n->val = malloc(n->len + 1);
		if (!n->val) {
			free(n);
			return yerr(b, &ev->start_mark, "out of memory");
		}
		memcpy(n->val, ev->data.scalar.value, n->len);
		n->val[n->len] = 0;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return yattach(b, n, &ev->start_mark);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((ev->type == YAML_SEQUENCE_START_EVENT &&
		     ev->data.sequence_start.anchor) ||
		    (ev->type == YAML_MAPPING_START_EVENT &&
		     ev->data.mapping_start.anchor))
			return yerr(b, &ev->start_mark,
				    "YAML anchors are not supported");
		if (b->depth >= NBP_MAX_DEPTH)
			return yerr(b, &ev->start_mark,
				    "YAML nested too deeply");
		n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ?
			      Y_SEQ : Y_MAP, &ev->start_mark);
		if (!n)
			return yerr(b, &ev->start_mark, "out of memory");
		if (yattach(b, n, &ev->start_mark))
			return -1;
		b->stack[b->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	default:
		return 0;
	}
}

struct ynode *ytree_parse(const char *name, const char *buf, size_t len,
			  struct nbp_diag *diag)
{
	struct ybuild b = { .name = name, .diag = diag };
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, rc = 0;

	if (len > NBP_MAX_INPUT) {
		nbp_diag_add(diag, NBP_SEV_ERROR, name, 0, 0,
			     "input too large (%zu bytes, limit %u)", len,
			     NBP_MAX_INPUT);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		nbp_diag_add(diag, NBP_SEV_ERROR, name, 0, 0, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			const yaml_mark_t *m = parser.problem ?
				&parser.problem_mark : &parser.context_mark;

			nbp_diag_add(diag, NBP_SEV_ERROR, name, m->line + 1,
				     m->column + 1, "invalid YAML: %s%s%s",
				     parser.problem ? parser.problem : "error",
				     parser.context ? " " : "",
				     parser.context ? parser.context : "");
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = yevent(&b, &ev);
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&parser);
	if (rc) {
		ytree_free(b.root);
		return NULL;
	}
	if (!b.root) {
		/* An empty file is an empty policy. */
		yaml_mark_t m = { 0 };

		b.root = ynode_new(Y_MAP, &m);
	}
	return b.root;
}
