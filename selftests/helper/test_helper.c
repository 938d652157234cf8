// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests for nbhelper's pure parts: the config file (errors at
 * file:line:column, unknown keys, values), WireGuard key encoding (checked
 * against `wg pubkey` known answers), prefixes and endpoints, and the
 * state directory's modes. Prints KTAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper/config.h"
#include "helper/keys.h"
#include "helper/log.h"
#include "helper/types.h"
#include "selftests/ktap.h"

static void ok(int cond, const char *name)
{
	ktap_ok(cond, "%s", name);
}

static char dir[] = "/tmp/nbh-test-XXXXXX";

/* Load a config from text; returns config_load's result and what it
 * printed to stderr in err. */
static int load_text(const char *text, struct nbh_config *c, char *err,
		     size_t n)
{
	char path[256], epath[256];
	FILE *f;
	int saved, ret;
	size_t len;

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	snprintf(epath, sizeof(epath), "%s/err", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	fflush(stderr);
	saved = dup(2);
	freopen(epath, "w", stderr);
	ret = config_load(c, path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(epath, "r");
	len = fread(err, 1, n - 1, f);
	err[len] = 0;
	fclose(f);
	return ret;
}

static int err_is(const char *err, const char *where, const char *what)
{
	char want[128];

	snprintf(want, sizeof(want), "%s/c.yaml:%s: ", dir, where);
	return !strncmp(err, want, strlen(want)) && strstr(err, what);
}

static void test_config(void)
{
	struct nbh_config c;
	char err[512];

	ok(!load_text("server: mgmt.example:7411\nca_file: /etc/ca.crt\n"
		      "rotate_interval: 12h\nlisten_port: 51000\noutbound: yes\n",
		      &c, err, sizeof(err)) &&
	   !strcmp(c.server_name, "mgmt.example") && c.rotate_interval == 43200 &&
	   c.listen_port == 51000 && c.outbound && !strcmp(c.ifname, "nbg0") &&
	   c.keepalive == 25, "config: valid file, defaults, server_name from server");
	ok(load_text("server: a:1\nca_file: /x\nbogus: 1\n", &c, err, sizeof(err)) &&
	   err_is(err, "3:1", "unknown key 'bogus'"), "config: unknown key at line:col");
	ok(load_text("server: a:1\nca_file: /x\nlisten_port: 65536\n", &c, err, sizeof(err)) &&
	   err_is(err, "3:14", "not a port"), "config: port out of range at the value");
	ok(load_text("server: a:1\nca_file: /x\nrotate_interval: 5w\n", &c, err, sizeof(err)) &&
	   err_is(err, "3:18", "bad duration"), "config: bad duration");
	ok(load_text("server: a:1\nca_file: /x\ninterface: way-too-long-name0\n", &c, err, sizeof(err)) &&
	   err_is(err, "3:12", "invalid interface"), "config: interface name too long");
	ok(load_text("server: [a, b]\n", &c, err, sizeof(err)) &&
	   err_is(err, "1:9", "not a list"), "config: list where a scalar belongs");
	ok(load_text("ca_file: /x\n", &c, err, sizeof(err)) &&
	   strstr(err, "missing required key 'server'"), "config: missing server");
	ok(load_text("server: a:1\n  ca_file: x\n", &c, err, sizeof(err)) &&
	   strstr(err, "c.yaml:2:"), "config: YAML syntax error with position");
	ok(load_text("server: a:1\nca_file: /x\nname: bad/name\n", &c, err, sizeof(err)) &&
	   err_is(err, "3:7", "invalid node name"), "config: bad node name");
}

static void test_keys(void)
{
	/* known answer from wireguard-tools: wg pubkey of this private key */
	const char *priv_b64 = "YJ4KNyGSYWUk0wdW3RaklFlmYxV/D0qQKD3Z3vdyE2s=";
	const char *pub_b64 = "Gxo1hI8c9aoLlWYzxMVXzPdQci6/364bH4OZDED3218=";
	uint8_t priv[32], pub[32], k2[32];
	char out[WG_KEY_B64_LEN];
	struct stat st;
	char path[300];

	ok(!wgkey_from_b64(priv_b64, priv) && !wgkey_public(priv, pub), "keys: decode + public");
	wgkey_to_b64(pub, out);
	ok(!strcmp(out, pub_b64), "keys: public key matches wg pubkey");
	ok(wgkey_from_b64("Wiix6PMy/u9ugH8nLtDfQAVXlhakhyf0KtxXBtFvGg8", k2) &&
	   wgkey_from_b64("Wiix6PMy/u9ugH8nLtDfQAVXlhakhyf0KtxXBtFvGg==", k2) &&
	   wgkey_from_b64("!iix6PMy/u9ugH8nLtDfQAVXlhakhyf0KtxXBtFvGg8=", k2),
	   "keys: bad base64 refused");
	ok(!wgkey_generate(k2) && (k2[0] & 7) == 0 && (k2[31] & 0xc0) == 0x40,
	   "keys: generated key is clamped like Curve25519");
	snprintf(path, sizeof(path), "%s/state", dir);
	ok(!state_dir_prepare(path) && !stat(path, &st) && (st.st_mode & 0777) == 0700,
	   "state dir: 0700");
	ok(!wgkey_load_or_create(path, priv) && !wgkey_load_or_create(path, k2) &&
	   !memcmp(priv, k2, 32), "state dir: key created once, then loaded");
	snprintf(path, sizeof(path), "%s/state/wg.key", dir);
	ok(!stat(path, &st) && (st.st_mode & 0777) == 0600, "state dir: wg.key 0600");
}

static void test_addrs(void)
{
	struct nbh_prefix p;
	union nbh_sockaddr sa;
	char buf[80];

	ok(!prefix_parse("100.64.0.0/10", &p) && p.len == 10 &&
	   !strcmp(prefix_fmt(&p, buf, sizeof(buf)), "100.64.0.0/10"), "prefix: v4");
	ok(prefix_parse("100.64.0.1/10", &p), "prefix: host bits refused");
	ok(!prefix_parse("fd00::1", &p) && p.len == 128, "prefix: v6 host");
	ok(!sockaddr_parse("[fd00::1]:51820", &sa) &&
	   !strcmp(sockaddr_fmt(&sa, buf, sizeof(buf)), "[fd00::1]:51820"), "endpoint: v6");
	ok(sockaddr_parse("1.2.3.4:0", &sa) && sockaddr_parse("1.2.3.4", &sa),
	   "endpoint: port required");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	log_init("test", LOG_ERR, 0);
	ktap_plan(21);
	test_config();
	test_keys();
	test_addrs();
	return ktap_done();
}
