// SPDX-License-Identifier: GPL-2.0
/*
 * nbh-mkmap: write a NETMAP frame (Documentation/protocol.md) from a small
 * text description, as nbhelper stores it in <state_dir>/netmap. Tests use
 * it to start nbhelper from a known map without a server.
 *
 *   serial N
 *   self NAME PUBKEY|- ADDR/PLEN...
 *   peer NAME PUBKEY ADDR/PLEN... [ep ADDR:PORT]...
 *   ruleset FILE
 *
 * Usage: nbh-mkmap < description > netmap
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/wire.h"

static int node_words(struct nbw_node *n, char *rest, int lineno, int peer)
{
	char *w, *save = NULL;
	int i = 0, ep = 0;

	for (w = strtok_r(rest, " \t", &save); w; w = strtok_r(NULL, " \t", &save), i++) {
		if (i == 0) {
			snprintf(n->name, sizeof(n->name), "%s", w);
		} else if (i == 1) {
			if (!strcmp(w, "-") && !peer)
				continue;
			if (nbw_key_from_base64(n->pubkey, w))
				goto bad;
			n->has_pubkey = true;
		} else if (!strcmp(w, "ep")) {
			ep = 1;
		} else if (ep) {
			if (n->n_endpoints >= NBW_MAX_ENDPOINTS ||
			    nbw_endpoint_parse(w, &n->endpoints[n->n_endpoints++]))
				goto bad;
			ep = 0;
		} else {
			if (n->n_addrs >= NBW_MAX_ADDRS ||
			    nbw_addr_parse(w, &n->addrs[n->n_addrs++]))
				goto bad;
		}
	}
	return 0;
bad:
	fprintf(stderr, "nbh-mkmap: line %d: bad word '%s'\n", lineno, w);
	return -1;
}

int main(void)
{
	struct nbw_msg m;
	struct nbw_buf out = { 0 };
	char line[4096], err[256];
	int lineno = 0;

	nbw_msg_init(&m, NBW_MSG_NETMAP);
	m.ruleset = strdup("");
	while (fgets(line, sizeof(line), stdin)) {
		char *rest;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		rest = strchr(line, ' ');
		if (!rest)
			goto bad;
		*rest++ = 0;
		if (!strcmp(line, "serial")) {
			m.serial = strtoull(rest, NULL, 10);
		} else if (!strcmp(line, "self")) {
			if (node_words(&m.self, rest, lineno, 0))
				return 1;
		} else if (!strcmp(line, "peer")) {
			struct nbw_node *p = realloc(m.peers, (m.n_peers + 1) * sizeof(*p));

			if (!p)
				return 1;
			m.peers = p;
			memset(&p[m.n_peers], 0, sizeof(*p));
			if (node_words(&p[m.n_peers++], rest, lineno, 1))
				return 1;
		} else if (!strcmp(line, "ruleset")) {
			FILE *f = fopen(rest, "r");
			size_t n;

			if (!f) {
				perror(rest);
				return 1;
			}
			free(m.ruleset);
			m.ruleset = calloc(1, NBW_RULESET_MAX + 1);
			n = fread(m.ruleset, 1, NBW_RULESET_MAX, f);
			m.ruleset[n] = 0;
			fclose(f);
		} else {
			goto bad;
		}
	}
	if (nbw_msg_encode(&m, &out, err, sizeof(err))) {
		fprintf(stderr, "nbh-mkmap: %s\n", err);
		return 1;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len)
		return 1;
	nbw_buf_free(&out);
	nbw_msg_free(&m);
	return 0;
bad:
	fprintf(stderr, "nbh-mkmap: line %d: unknown line\n", lineno);
	return 1;
}
