// SPDX-License-Identifier: GPL-2.0
/* nbctl monitor: one line per deny event from the "events" group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include "commands.h"
#include "json.h"
#include "nbctl_util.h"
#include "policy/policy.h"

struct mon {
	struct nbg_nl *nl;
	struct nbg_ruleset_desc d;	/* for identity names */
	struct nbp_policy *policy;	/* for rule names (--policy) */
	time_t last_refresh;
	unsigned long count, seen;
};

static void usage(void)
{
	fprintf(stderr, "Usage: %s [--json] monitor [--count N] [--timeout SECS] [--policy FILE]\n",
		PROG_NAME);
}

static const struct nbg_ident_desc *lookup(struct mon *m, u32 id)
{
	const struct nbg_ident_desc *i;
	time_t now;

	if (!id)
		return NULL;
	i = nbg_desc_find_ident(&m->d, id);
	if (i)
		return i;
	/* The ruleset may have changed since we started: refresh, but at
	 * most once a second so a flood of events stays cheap. */
	now = time(NULL);
	if (now == m->last_refresh)
		return NULL;
	m->last_refresh = now;
	if (nbg_nl_dump_ruleset(m->nl, &m->d, NULL))
		return NULL;
	return nbg_desc_find_ident(&m->d, id);
}

static int on_event(const struct nbg_event *ev, void *arg)
{
	const struct nbg_pkt *p = &ev->pkt;
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	char ifn[IF_NAMESIZE] = "?", tbuf[32], pbuf[8];
	const struct nbg_ident_desc *ident;
	const char *proto = nbg_proto_name(p->proto);
	struct mon *m = arg;
	const char *rule;
	bool rev = false;
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tbuf + strlen(tbuf), sizeof(tbuf) - strlen(tbuf), ".%03ld",
		 ts.tv_nsec / 1000000);
	inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->saddr.raw, src, sizeof(src));
	inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->daddr.raw, dst, sizeof(dst));
	if (!ev->ifindex || !if_indextoname(ev->ifindex, ifn))
		snprintf(ifn, sizeof(ifn), "if%u", ev->ifindex);
	if (!proto) {
		snprintf(pbuf, sizeof(pbuf), "%u", p->proto);
		proto = pbuf;
	}
	ident = lookup(m, ev->verdict.ident_id);
	rule = nbctl_rule_label(m->policy, ev->verdict.rule_id, &rev);

	if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "time", tbuf);
		json_str(&j, "dev", ifn);
		json_str(&j, "direction", p->direction == NBG_DIR_OUT ? "out" : "in");
		json_str(&j, "src", src);
		json_str(&j, "dst", dst);
		json_str(&j, "proto", proto);
		json_u64(&j, "sport", p->sport);
		json_u64(&j, "dport", p->dport);
		json_u64(&j, "identity", ev->verdict.ident_id);
		if (ident)
			json_str(&j, "identity_name", ident->name);
		if (ev->verdict.rule_id)
			json_u64(&j, "rule", ev->verdict.rule_id);
		else
			json_str(&j, "rule", "default");
		nbctl_json_rule_name(&j, m->policy, ev->verdict.rule_id);
		json_u64(&j, "suppressed_before", ev->dropped);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("%s %s %s %s -> %s %s", tbuf, ifn,
		       p->direction == NBG_DIR_OUT ? "out" : "in", src, dst, proto);
		if (nbg_proto_has_ports(p->proto))
			printf(" %u->%u", p->sport, p->dport);
		if (ev->verdict.ident_id)
			printf(" identity %u%s%s", ev->verdict.ident_id,
			       ident ? " " : "", ident ? ident->name : "");
		else
			printf(" identity none");
		if (rule)
			printf(" rule %u %s%s", ev->verdict.rule_id, rule,
			       rev ? " (reverse)" : "");
		else if (ev->verdict.rule_id)
			printf(" rule %u", ev->verdict.rule_id);
		else
			printf(" default");
		if (ev->dropped)
			printf(" (%llu events suppressed before)",
			       (unsigned long long)ev->dropped);
		printf("\n");
		fflush(stdout);
	}
	m->seen++;
	return m->count && m->seen >= m->count;
}

int cmd_monitor(int argc, char **argv)
{
	struct mon m = { 0 };
	unsigned int v;
	int timeout_ms = -1, i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc &&
		    nbctl_parse_u32(argv[i + 1], &v) && v) {
			m.count = v;
			i++;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc &&
			   nbctl_parse_u32(argv[i + 1], &v) && v <= 2000000) {
			timeout_ms = v * 1000;
			i++;
		} else if (!strcmp(argv[i], "--policy") && i + 1 < argc &&
			   !m.policy) {
			m.policy = nbctl_load_policy(argv[++i]);
			if (!m.policy)
				return 1;
		} else {
			usage();
			nbp_free(m.policy);
			return 1;
		}
	}
	m.nl = nbctl_open();
	if (!m.nl) {
		nbp_free(m.policy);
		return 1;
	}
	nbg_desc_init(&m.d);
	nbg_nl_dump_ruleset(m.nl, &m.d, NULL);
	m.last_refresh = time(NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = nbg_nl_monitor(m.nl, timeout_ms, on_event, &m);
	if (ret)
		nbctl_nl_error(m.nl, "monitor", ret);
	else if (m.count && m.seen < m.count) {
		fprintf(stderr, "%s: monitor: timed out after %lu of %lu events\n",
			PROG_NAME, m.seen, m.count);
		ret = 1;
	}
	nbg_desc_free(&m.d);
	nbp_free(m.policy);
	nbg_nl_close(m.nl);
	return ret ? 1 : 0;
}
