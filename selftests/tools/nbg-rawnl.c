// SPDX-License-Identifier: GPL-2.0
/*
 * nbg-rawnl: send deliberately malformed or oversized requests to the
 * nbguard generic netlink family and print, for each, the errno and the
 * kernel's extack message. Used by the VM tests to check that the module
 * rejects bad input with a clear message and changes nothing.
 *
 * Usage: nbg-rawnl CASE...     (or "all": every case but txn)
 *
 *   badattr      attributes of the wrong length or out of range:
 *                DEFAULT_IN as u32; DEFAULT_IN = 7; an unknown top-level
 *                attribute (type 200); TXN_BEGIN GENERATION as u32;
 *                DEV_ADD with an unknown flag bit; a rule with action 3;
 *                EVENT_RATE above 1000000.
 *   oversize     values beyond the limits, inside a transaction: identity
 *                name of 70 characters; 65 port ranges (max 64); IPv4
 *                prefix length 33; prefix 10.0.0.1/24 (host bits set);
 *                257 prefixes on one identity (max 256); a rule with
 *                ports but no protocol.
 *   unknown-txn  TXN_ADD, TXN_COMMIT and TXN_ABORT on a transaction id
 *                that was never begun.
 *   huge         one TXN_ADD of about 240 KiB (3000 valid identities and a
 *                rule selecting 4097 identities, above NBG_MAX_SEL_ITEMS);
 *                rejected by TXN_ADD or at the latest by TXN_COMMIT.
 *   truncated    hand-built messages whose last attribute claims more
 *                bytes than the message holds (top level and nested).
 *   cont         rule continuations (NBG_RULE_A_CONT) that are wrong:
 *                with no rule before them, naming another rule than the
 *                last one, carrying ACTION, adding to a selector sent as
 *                ANY, pushing a selector past NBG_MAX_SEL_ITEMS.
 *   txn          transaction ownership and lifetime, with a second socket:
 *                another socket adding to, committing or aborting a
 *                transaction it did not begin (EPERM); a commit whose base
 *                generation is stale, implicit and explicit (ESTALE); a
 *                fifth open transaction (EBUSY); closing the owning socket
 *                aborts its transactions (their slots free); a commit that
 *                fails validation (unknown identity) frees the transaction.
 *                Starts by loading a small ruleset of its own.
 *
 * For every request the tool also checks that the running generation did
 * not change. Output: one line per request,
 *   CASE/REQUEST: rejected: -22 (Invalid argument): <extack>
 * Exit status 0 iff every request of the chosen cases was rejected with an
 * extack message and left the generation alone; 1 otherwise; 2 on usage or
 * setup errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include "lib/nbgnl.h"

static struct nbg_nl *nl;
static int failures;
/* The extack of the request being judged (status reads clear the socket's). */
static char ext[600];

static int snap(int err)
{
	snprintf(ext, sizeof(ext), "%s", nbg_nl_extack(nl));
	return err;
}

static u64 generation(void)
{
	struct nbg_status st;

	if (nbg_nl_get_status(nl, &st)) {
		fprintf(stderr, "nbg-rawnl: cannot read the status: %s\n",
			nbg_nl_strerror(nl, -EIO));
		exit(2);
	}
	return st.generation;
}

/* Judge one request's outcome. */
static void report(const char *c, const char *what, int err, u64 gen_before)
{
	const char *extack = ext;
	u64 gen_after;
	bool ok;

	gen_after = generation();
	ok = err < 0 && extack[0] && gen_after == gen_before;
	if (err < 0)
		printf("%s/%s: rejected: %d (%s): %s\n", c, what, err, strerror(-err),
		       extack[0] ? extack : "(no extack message)");
	else
		printf("%s/%s: ACCEPTED\n", c, what);
	if (gen_after != gen_before)
		printf("%s/%s: generation changed %llu -> %llu\n", c, what,
		       (unsigned long long)gen_before, (unsigned long long)gen_after);
	if (!ok) {
		printf("%s/%s: FAIL\n", c, what);
		failures++;
	}
	fflush(stdout);
}

static struct nl_msg *msg_new(u8 cmd, size_t size)
{
	struct nl_msg *m = nbg_nl_new_msg(nl, cmd, size);

	if (!m) {
		fprintf(stderr, "nbg-rawnl: out of memory\n");
		exit(2);
	}
	return m;
}

static int send_msg(struct nl_msg *m)
{
	return nbg_nl_send_msg(nl, m);
}

/* ---- badattr ---- */

static void case_badattr(void)
{
	struct nl_msg *m;
	struct nlattr *r;
	u64 g = generation();

	m = msg_new(NBG_CMD_SET_CONFIG, 0);
	nla_put_u32(m, NBG_A_DEFAULT_IN, NBG_ACTION_DENY);
	report("badattr", "default-in-as-u32", snap(send_msg(m)), g);

	m = msg_new(NBG_CMD_SET_CONFIG, 0);
	nla_put_u8(m, NBG_A_DEFAULT_IN, 7);
	report("badattr", "default-in-7", snap(send_msg(m)), g);

	m = msg_new(NBG_CMD_SET_CONFIG, 0);
	nla_put_u32(m, 200, 1);
	report("badattr", "unknown-attribute", snap(send_msg(m)), g);

	m = msg_new(NBG_CMD_SET_CONFIG, 0);
	nla_put_u32(m, NBG_A_EVENT_RATE, 2000000);
	report("badattr", "event-rate-too-high", snap(send_msg(m)), g);

	m = msg_new(NBG_CMD_TXN_BEGIN, 0);
	nla_put_u32(m, NBG_A_GENERATION, 1);
	report("badattr", "generation-as-u32", snap(send_msg(m)), g);

	m = msg_new(NBG_CMD_DEV_ADD, 0);
	nla_put_string(m, NBG_A_IFNAME, "lo");
	nla_put_u32(m, NBG_A_DEV_FLAGS, 0x80);
	report("badattr", "dev-unknown-flag", snap(send_msg(m)), g);

	m = msg_new(NBG_CMD_TXN_ADD, 0);
	nla_put_u32(m, NBG_A_TXN_ID, 1);
	r = nla_nest_start(m, NBG_A_RULE | NLA_F_NESTED);
	nla_put_u32(m, NBG_RULE_A_ID, 1);
	nla_put_u8(m, NBG_RULE_A_ACTION, 3);
	nla_nest_end(m, r);
	report("badattr", "rule-action-3", snap(send_msg(m)), g);
}

/* ---- oversize (each inside its own transaction) ---- */

static void put_prefix(struct nl_msg *m, int type, u8 fam, const char *addr, u8 len)
{
	struct nlattr *n = nla_nest_start(m, type | NLA_F_NESTED);
	u8 raw[16] = { 0 };

	inet_pton(fam, addr, raw);
	nla_put_u8(m, NBG_PREFIX_A_FAMILY, fam);
	nla_put(m, NBG_PREFIX_A_ADDR, fam == AF_INET ? 4 : 16, raw);
	nla_put_u8(m, NBG_PREFIX_A_LEN, len);
	nla_nest_end(m, n);
}

/* Begin a transaction, send @m as its TXN_ADD (txn id filled in), commit
 * if the add was accepted, abort whatever is left. Returns the first error. */
typedef void (*fill_fn)(struct nl_msg *m);

static int in_txn(fill_fn fill, size_t size)
{
	struct nl_msg *m;
	u32 txn;
	int ret;

	ret = nbg_nl_txn_begin(nl, NULL, &txn, NULL);
	if (ret) {
		fprintf(stderr, "nbg-rawnl: TXN_BEGIN: %s\n", nbg_nl_strerror(nl, ret));
		exit(2);
	}
	m = msg_new(NBG_CMD_TXN_ADD, size);
	nla_put_u32(m, NBG_A_TXN_ID, txn);
	fill(m);
	ret = snap(send_msg(m));
	if (!ret)
		ret = snap(nbg_nl_txn_commit(nl, txn, NULL));
	if (ret)
		nbg_nl_txn_abort(nl, txn);	/* may already be gone */
	return ret;
}

static void fill_long_name(struct nl_msg *m)
{
	struct nlattr *n = nla_nest_start(m, NBG_A_IDENTITY | NLA_F_NESTED);
	char name[71];

	memset(name, 'a', 70);
	name[70] = '\0';
	nla_put_u32(m, NBG_IDENT_A_ID, 1);
	nla_put_string(m, NBG_IDENT_A_NAME, name);
	nla_nest_end(m, n);
}

static void fill_many_ports(struct nl_msg *m)
{
	struct nlattr *n = nla_nest_start(m, NBG_A_RULE | NLA_F_NESTED), *p;
	int k;

	nla_put_u32(m, NBG_RULE_A_ID, 1);
	nla_put_u8(m, NBG_RULE_A_ACTION, NBG_ACTION_ALLOW);
	nla_put_u8(m, NBG_RULE_A_PROTO, 6);
	for (k = 0; k < NBG_MAX_PORT_RANGES + 1; k++) {
		p = nla_nest_start(m, NBG_RULE_A_PORTS | NLA_F_NESTED);
		nla_put_u16(m, NBG_PORTS_A_LO, 1000 + 2 * k);
		nla_put_u16(m, NBG_PORTS_A_HI, 1000 + 2 * k);
		nla_nest_end(m, p);
	}
	nla_nest_end(m, n);
}

static void ident_with_prefix(struct nl_msg *m, const char *addr, u8 len)
{
	struct nlattr *n = nla_nest_start(m, NBG_A_IDENTITY | NLA_F_NESTED);

	nla_put_u32(m, NBG_IDENT_A_ID, 1);
	nla_put_string(m, NBG_IDENT_A_NAME, "p");
	put_prefix(m, NBG_IDENT_A_PREFIX, AF_INET, addr, len);
	nla_nest_end(m, n);
}

static void fill_len33(struct nl_msg *m)
{
	ident_with_prefix(m, "10.0.0.1", 33);
}

static void fill_host_bits(struct nl_msg *m)
{
	ident_with_prefix(m, "10.0.0.1", 24);
}

static void fill_many_prefixes(struct nl_msg *m)
{
	struct nlattr *n = nla_nest_start(m, NBG_A_IDENTITY | NLA_F_NESTED);
	char a[32];
	int k;

	nla_put_u32(m, NBG_IDENT_A_ID, 1);
	nla_put_string(m, NBG_IDENT_A_NAME, "p");
	for (k = 0; k < NBG_MAX_PREFIXES + 1; k++) {
		snprintf(a, sizeof(a), "10.0.%d.%d", k / 256, k % 256);
		put_prefix(m, NBG_IDENT_A_PREFIX, AF_INET, a, 32);
	}
	nla_nest_end(m, n);
}

static void fill_ports_no_proto(struct nl_msg *m)
{
	struct nlattr *n = nla_nest_start(m, NBG_A_RULE | NLA_F_NESTED), *p;

	nla_put_u32(m, NBG_RULE_A_ID, 1);
	nla_put_u8(m, NBG_RULE_A_ACTION, NBG_ACTION_ALLOW);
	p = nla_nest_start(m, NBG_RULE_A_PORTS | NLA_F_NESTED);
	nla_put_u16(m, NBG_PORTS_A_LO, 22);
	nla_put_u16(m, NBG_PORTS_A_HI, 22);
	nla_nest_end(m, p);
	nla_nest_end(m, n);
}

static void case_oversize(void)
{
	u64 g = generation();

	report("oversize", "name-70-chars", in_txn(fill_long_name, 0), g);
	report("oversize", "65-port-ranges", in_txn(fill_many_ports, 0), g);
	report("oversize", "prefix-len-33", in_txn(fill_len33, 0), g);
	report("oversize", "host-bits-set", in_txn(fill_host_bits, 0), g);
	report("oversize", "257-prefixes", in_txn(fill_many_prefixes, 64 * 1024), g);
	report("oversize", "ports-without-proto", in_txn(fill_ports_no_proto, 0), g);
}

/* ---- unknown-txn ---- */

static void case_unknown_txn(void)
{
	const u32 bogus = 0x7ffffff1;
	struct nl_msg *m;
	u64 g = generation();

	m = msg_new(NBG_CMD_TXN_ADD, 0);
	nla_put_u32(m, NBG_A_TXN_ID, bogus);
	fill_ports_no_proto(m);
	report("unknown-txn", "add", snap(send_msg(m)), g);
	report("unknown-txn", "commit", snap(nbg_nl_txn_commit(nl, bogus, NULL)), g);
	report("unknown-txn", "abort", snap(nbg_nl_txn_abort(nl, bogus)), g);
}

/* ---- huge ---- */

static void fill_huge(struct nl_msg *m)
{
	struct nlattr *n, *s;
	char name[16], a[32];
	u32 k;

	for (k = 1; k <= 3000; k++) {
		n = nla_nest_start(m, NBG_A_IDENTITY | NLA_F_NESTED);
		snprintf(name, sizeof(name), "peer%u", k);
		snprintf(a, sizeof(a), "100.64.%u.%u", k / 256, k % 256);
		nla_put_u32(m, NBG_IDENT_A_ID, k);
		nla_put_string(m, NBG_IDENT_A_NAME, name);
		put_prefix(m, NBG_IDENT_A_PREFIX, AF_INET, a, 32);
		nla_put_u32(m, NBG_IDENT_A_GROUP, k % 10);
		nla_nest_end(m, n);
	}
	n = nla_nest_start(m, NBG_A_RULE | NLA_F_NESTED);
	nla_put_u32(m, NBG_RULE_A_ID, 1);
	nla_put_u8(m, NBG_RULE_A_ACTION, NBG_ACTION_ALLOW);
	s = nla_nest_start(m, NBG_RULE_A_SRC | NLA_F_NESTED);
	for (k = 1; k <= NBG_MAX_SEL_ITEMS + 1; k++)
		nla_put_u32(m, NBG_SEL_A_IDENT, (k - 1) % 3000 + 1);
	nla_nest_end(m, s);
	nla_nest_end(m, n);
	printf("huge: TXN_ADD of %d bytes\n", nlmsg_hdr(m)->nlmsg_len);
}

static void case_huge(void)
{
	u64 g = generation();

	report("huge", "4097-selector-items", in_txn(fill_huge, 300 * 1024), g);
}

/* ---- truncated ---- */

static void case_truncated(void)
{
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
		unsigned char attrs[64];
	} __attribute__((packed)) b;
	struct nlattr *a;
	u64 gen = generation();

	/* TXN_BEGIN whose GENERATION attribute says 12 bytes, 4 present. */
	memset(&b, 0, sizeof(b));
	b.h.nlmsg_type = nbg_nl_family(nl);
	b.g.cmd = NBG_CMD_TXN_BEGIN;
	b.g.version = NBG_GENL_VERSION;
	a = (struct nlattr *)b.attrs;
	a->nla_len = NLA_HDRLEN + 8;
	a->nla_type = NBG_A_GENERATION;
	b.h.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 4;
	report("truncated", "top-level-attribute", snap(nbg_nl_send_raw(nl, &b, b.h.nlmsg_len)), gen);

	/* TXN_ADD with a rule nest whose inner ID runs past the nest. */
	memset(&b, 0, sizeof(b));
	b.h.nlmsg_type = nbg_nl_family(nl);
	b.g.cmd = NBG_CMD_TXN_ADD;
	b.g.version = NBG_GENL_VERSION;
	a = (struct nlattr *)b.attrs;
	a->nla_len = NLA_HDRLEN + 4;
	a->nla_type = NBG_A_TXN_ID;
	*(u32 *)(b.attrs + NLA_HDRLEN) = 1;
	a = (struct nlattr *)(b.attrs + 8);
	a->nla_len = NLA_HDRLEN + 8;		/* the nest: 8 bytes of content */
	a->nla_type = NBG_A_RULE | NLA_F_NESTED;
	a = (struct nlattr *)(b.attrs + 12);
	a->nla_len = NLA_HDRLEN + 8;		/* inner ID claims 8, has 4 */
	a->nla_type = NBG_RULE_A_ID;
	b.h.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + 8 + 12;
	report("truncated", "nested-attribute", snap(nbg_nl_send_raw(nl, &b, b.h.nlmsg_len)), gen);
}

/* ---- cont ---- */

/* A RULE nest: a head (action allow) or a continuation (@cont). */
static void rule_part(struct nl_msg *m, u32 id, bool cont, int sel_attr,
		      bool any, u32 first_group, u32 n_groups)
{
	struct nlattr *r = nla_nest_start(m, NBG_A_RULE | NLA_F_NESTED), *sn;
	u32 k;

	nla_put_u32(m, NBG_RULE_A_ID, id);
	if (cont)
		nla_put_flag(m, NBG_RULE_A_CONT);
	else
		nla_put_u8(m, NBG_RULE_A_ACTION, NBG_ACTION_ALLOW);
	if (sel_attr) {
		sn = nla_nest_start(m, sel_attr | NLA_F_NESTED);
		if (any)
			nla_put_flag(m, NBG_SEL_A_ANY);
		for (k = 0; k < n_groups; k++)
			nla_put_u32(m, NBG_SEL_A_GROUP, first_group + k);
		nla_nest_end(m, sn);
	}
	nla_nest_end(m, r);
}

static void fill_cont_first(struct nl_msg *m)
{
	rule_part(m, 5, true, NBG_RULE_A_SRC, false, 1, 1);
}

static void fill_cont_other_id(struct nl_msg *m)
{
	rule_part(m, 1, false, NBG_RULE_A_SRC, false, 1, 1);
	rule_part(m, 2, true, NBG_RULE_A_SRC, false, 2, 1);
}

static void fill_cont_action(struct nl_msg *m)
{
	struct nlattr *r;

	rule_part(m, 1, false, NBG_RULE_A_SRC, false, 1, 1);
	r = nla_nest_start(m, NBG_A_RULE | NLA_F_NESTED);
	nla_put_u32(m, NBG_RULE_A_ID, 1);
	nla_put_flag(m, NBG_RULE_A_CONT);
	nla_put_u8(m, NBG_RULE_A_ACTION, NBG_ACTION_DENY);
	nla_nest_end(m, r);
}

static void fill_cont_any(struct nl_msg *m)
{
	rule_part(m, 1, false, NBG_RULE_A_SRC, true, 0, 0);
	rule_part(m, 1, true, NBG_RULE_A_SRC, false, 1, 1);
}

static void fill_cont_over_limit(struct nl_msg *m)
{
	rule_part(m, 1, false, NBG_RULE_A_DST, false, 1, 4000);
	rule_part(m, 1, true, NBG_RULE_A_DST, false, 5000, 97);
}

static void case_cont(void)
{
	u64 g = generation();

	report("cont", "first-in-transaction", in_txn(fill_cont_first, 0), g);
	report("cont", "other-rule-id", in_txn(fill_cont_other_id, 0), g);
	report("cont", "carries-action", in_txn(fill_cont_action, 0), g);
	report("cont", "after-any", in_txn(fill_cont_any, 0), g);
	report("cont", "4097-groups", in_txn(fill_cont_over_limit, 128 * 1024), g);
}

/* ---- txn ---- */

static int snap_on(struct nbg_nl *n, int err)
{
	snprintf(ext, sizeof(ext), "%s", nbg_nl_extack(n));
	return err;
}

/* A step that must succeed; anything else is a setup failure. */
static void must(const char *what, int err, struct nbg_nl *n)
{
	if (err) {
		printf("txn/%s: FAIL: %d (%s): %s\n", what, err, strerror(-err),
		       nbg_nl_extack(n));
		failures++;
		fflush(stdout);
		return;
	}
	printf("txn/%s: ok\n", what);
	fflush(stdout);
}

static u32 rule_count(void)
{
	struct nbg_status st;

	if (nbg_nl_get_status(nl, &st))
		exit(2);
	return st.n_rules;
}

/* A ruleset of one identity and @n_rules allow rules on it (ids 1..n). */
static void small_ruleset(struct nbg_ruleset_desc *d, u32 n_rules, u32 ref)
{
	static struct nbg_ident_desc id;
	static struct nbg_rule_desc r[8];
	static u32 ident_ref[8];
	u32 k;

	memset(&id, 0, sizeof(id));
	id.id = 1;
	snprintf(id.name, sizeof(id.name), "txnpeer");
	memset(r, 0, sizeof(r));
	for (k = 0; k < n_rules && k < 8; k++) {
		ident_ref[k] = ref;
		r[k].id = k + 1;
		r[k].action = NBG_ACTION_ALLOW;
		r[k].direction = NBG_DIR_IN;
		r[k].proto_any = true;
		r[k].src.n_idents = 1;
		r[k].src.idents = &ident_ref[k];
		r[k].dst.any = true;
	}
	d->n_idents = 1;
	d->idents = &id;
	d->n_rules = n_rules;
	d->rules = r;
}

static void case_txn(void)
{
	struct nbg_ruleset_desc d;
	struct nbg_nl *nl2, *nl3;
	u32 t, t2, busy[NBG_MAX_TXNS], k;
	u64 g, stale;

	if (nbg_nl_open(&nl2) || nbg_nl_open(&nl3)) {
		fprintf(stderr, "nbg-rawnl: cannot open more sockets\n");
		exit(2);
	}
	small_ruleset(&d, 2, 1);
	must("load-base", nbg_nl_load(nl, &d, NULL, NULL), nl);
	g = generation();

	/* Only the socket that began a transaction may use it. */
	must("begin", nbg_nl_txn_begin(nl, NULL, &t, NULL), nl);
	report("txn", "add-from-other-socket",
	       snap_on(nl2, nbg_nl_txn_add(nl2, t, d.idents, 1, NULL, 0)), g);
	report("txn", "commit-from-other-socket",
	       snap_on(nl2, nbg_nl_txn_commit(nl2, t, NULL)), g);
	report("txn", "abort-from-other-socket",
	       snap_on(nl2, nbg_nl_txn_abort(nl2, t)), g);
	/* ... and it is still intact for its owner. */
	must("owner-add-after-intruders", nbg_nl_txn_add(nl, t, d.idents, 1,
							 d.rules, 1), nl);

	/* Stale base: another writer commits first. */
	small_ruleset(&d, 3, 1);
	must("other-writer-commits", nbg_nl_load(nl2, &d, NULL, NULL), nl2);
	g = generation();
	report("txn", "commit-stale-implicit",
	       snap(nbg_nl_txn_commit(nl, t, NULL)), g);
	if (rule_count() != 3) {
		printf("txn/commit-stale-implicit: FAIL: running ruleset has %u rules, not 3\n",
		       rule_count());
		failures++;
	}
	report("txn", "stale-txn-is-gone", snap(nbg_nl_txn_abort(nl, t)), g);

	stale = g - 1;
	must("begin-explicit-old-generation",
	     nbg_nl_txn_begin(nl, &stale, &t, NULL), nl);
	small_ruleset(&d, 1, 1);
	must("add", nbg_nl_txn_add(nl, t, d.idents, 1, d.rules, 1), nl);
	report("txn", "commit-stale-explicit",
	       snap(nbg_nl_txn_commit(nl, t, NULL)), g);
	if (rule_count() != 3) {
		printf("txn/commit-stale-explicit: FAIL: running ruleset has %u rules, not 3\n",
		       rule_count());
		failures++;
	}

	/* At most NBG_MAX_TXNS open transactions per namespace. */
	for (k = 0; k < NBG_MAX_TXNS; k++)
		must("begin-on-second-socket",
		     nbg_nl_txn_begin(nl2, NULL, &busy[k], NULL), nl2);
	report("txn", "fifth-transaction", snap(nbg_nl_txn_begin(nl, NULL, &t, NULL)), g);

	/* Closing the owner aborts its transactions and frees the slots. */
	nbg_nl_close(nl2);
	for (k = 0; k < NBG_MAX_TXNS; k++)
		must("begin-after-owner-closed",
		     nbg_nl_txn_begin(nl3, NULL, &busy[k], NULL), nl3);
	for (k = 0; k < NBG_MAX_TXNS; k++)
		must("abort", nbg_nl_txn_abort(nl3, busy[k]), nl3);

	/* A commit that fails validation frees the transaction. */
	must("begin", nbg_nl_txn_begin(nl, NULL, &t, NULL), nl);
	small_ruleset(&d, 1, 999);
	must("add-rule-with-unknown-identity",
	     nbg_nl_txn_add(nl, t, d.idents, 1, d.rules, 1), nl);
	report("txn", "commit-unknown-identity",
	       snap(nbg_nl_txn_commit(nl, t, NULL)), g);
	report("txn", "failed-txn-is-gone", snap(nbg_nl_txn_abort(nl, t)), g);
	if (rule_count() != 3) {
		printf("txn/commit-unknown-identity: FAIL: running ruleset has %u rules, not 3\n",
		       rule_count());
		failures++;
	}
	for (k = 0; k < NBG_MAX_TXNS; k++)
		must("slot-free-after-failed-commit",
		     nbg_nl_txn_begin(nl3, NULL, &busy[k], NULL), nl3);
	report("txn", "fifth-transaction-again",
	       snap(nbg_nl_txn_begin(nl, NULL, &t2, NULL)), g);
	nbg_nl_close(nl3);
	must("begin-after-close", nbg_nl_txn_begin(nl, NULL, &t, NULL), nl);
	must("abort", nbg_nl_txn_abort(nl, t), nl);
	fflush(stdout);
}

static const struct {
	const char *name;
	void (*fn)(void);
	bool in_all;	/* "all" = the cases that leave the ruleset alone */
} cases[] = {
	{ "badattr", case_badattr, true },
	{ "oversize", case_oversize, true },
	{ "unknown-txn", case_unknown_txn, true },
	{ "huge", case_huge, true },
	{ "truncated", case_truncated, true },
	{ "cont", case_cont, true },
	{ "txn", case_txn, false },
};

int main(int argc, char **argv)
{
	size_t k;
	int i, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: nbg-rawnl CASE... | all\ncases:");
		for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			fprintf(stderr, " %s", cases[k].name);
		fprintf(stderr, "\n");
		return 2;
	}
	ret = nbg_nl_open(&nl);
	if (ret) {
		fprintf(stderr, "nbg-rawnl: cannot open the nbguard family: %s\n",
			strerror(-ret));
		return 2;
	}
	for (i = 1; i < argc; i++) {
		bool found = false;

		for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			if ((!strcmp(argv[i], "all") && cases[k].in_all) ||
			    !strcmp(argv[i], cases[k].name)) {
				cases[k].fn();
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "nbg-rawnl: unknown case '%s'\n", argv[i]);
			return 2;
		}
	}
	nbg_nl_close(nl);
	return failures ? 1 : 0;
}
