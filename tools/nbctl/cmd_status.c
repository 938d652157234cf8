// SPDX-License-Identifier: GPL-2.0
/*
 * nbctl status [--state-dir DIR] [--json]
 *
 * Shows the control-plane state of this node as nbhelper last wrote it to
 * <state_dir>/status (written atomically, see helper/status.c): connection
 * state, network map serial, last update, peers with their handshakes.
 * DIR defaults to $NBHELPER_STATE_DIR or /var/lib/nbhelper.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "commands.h"
#include "json.h"

#define MAX_PEERS_SHOWN	100000

struct st_peer {
	char name[64], key[64], endpoint[80], addrs[160];
	long long handshake;
	unsigned long long rx, tx;
};

struct st {
	char state[32], server[256], name[64], ifname[32], pubkey[64];
	char addrs[256], last_error[1024];
	long long pid, written, last_update, connected_since, last_rotation;
	unsigned long long serial, generation;
	unsigned int port, idents, rules, rotations;
	size_t n_peers;
	struct st_peer *peers;
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

static int parse_line(struct st *s, char *line, const char *path, int lineno)
{
	char *val = strchr(line, ' ');
	struct st_peer *p;

	if (!val)
		val = line + strlen(line);
	else
		*val++ = 0;
	if (!strcmp(line, "nbhelper-status")) {
		if (strcmp(val, "1")) {
			fprintf(stderr, "%s: %s:%d: unknown status format %s\n",
				PROG_NAME, path, lineno, val);
			return -1;
		}
	}
#define S(k, f) else if (!strcmp(line, k)) copy(s->f, sizeof(s->f), val)
#define N(k, f) else if (!strcmp(line, k)) s->f = strtoll(val, NULL, 10)
#define U(k, f) else if (!strcmp(line, k)) s->f = strtoull(val, NULL, 10)
	S("state", state);
	S("server", server);
	S("name", name);
	S("interface", ifname);
	S("public_key", pubkey);
	S("addresses", addrs);
	S("last_error", last_error);
	N("pid", pid);
	N("written", written);
	N("last_update", last_update);
	N("connected_since", connected_since);
	N("last_rotation", last_rotation);
	U("serial", serial);
	U("ruleset_generation", generation);
	U("listen_port", port);
	U("identities", idents);
	U("rules", rules);
	U("rotations", rotations);
#undef S
#undef N
#undef U
	else if (!strcmp(line, "peer")) {
		if (s->n_peers >= MAX_PEERS_SHOWN)
			return 0;
		p = realloc(s->peers, (s->n_peers + 1) * sizeof(*p));
		if (!p)
			return -1;
		s->peers = p;
		p = &s->peers[s->n_peers];
		memset(p, 0, sizeof(*p));
		if (sscanf(val, "%63s %63s %79s %lld %llu %llu %159s", p->name,
			   p->key, p->endpoint, &p->handshake, &p->rx, &p->tx,
			   p->addrs) != 7) {
			fprintf(stderr, "%s: %s:%d: malformed peer line\n",
				PROG_NAME, path, lineno);
			return -1;
		}
		s->n_peers++;
	}
	/* unknown keys: a newer helper, ignore them */
	return 0;
}

/*
 * Ask the running daemon first (its answer is current: it refreshes the
 * handshakes and counters); fall back to the file it last wrote.
 */
static FILE *open_status(const char *dir, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	char chunk[4096];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/nbhelper.sock",
			     dir) >= sizeof(sun.sun_path))
		goto file;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto file;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    write(fd, "status\n", 7) != 7) {
		close(fd);
		goto file;
	}
	mem = open_memstream(&buf, &len);
	while (mem && (n = read(fd, chunk, sizeof(chunk))) > 0)
		fwrite(chunk, 1, n, mem);
	close(fd);
	if (mem)
		fclose(mem);
	if (len && !strncmp(buf, "nbhelper-status", 15)) {
		FILE *f = fmemopen(NULL, len, "w+");

		if (f) {
			fwrite(buf, 1, len, f);
			rewind(f);
			free(buf);
			return f;
		}
	}
	free(buf);
file:
	return fopen(path, "r");
}

static int load(struct st *s, const char *dir, const char *path)
{
	char line[2048];
	int lineno = 0, ret = 0;
	FILE *f = open_status(dir, path);

	if (!f) {
		fprintf(stderr, "%s: status: %s: %s (is nbhelper running? --state-dir?)\n",
			PROG_NAME, path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (parse_line(s, line, path, lineno)) {
			ret = -1;
			break;
		}
	}
	fclose(f);
	if (!ret && lineno == 0) {
		fprintf(stderr, "%s: status: %s is empty\n", PROG_NAME, path);
		ret = -1;
	}
	return ret;
}

static const char *fmt_time(long long t, char *buf, size_t n)
{
	struct tm tm;
	time_t tt = t;

	if (!t)
		return "never";
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static const char *fmt_ago(long long t, char *buf, size_t n)
{
	long long d = time(NULL) - t;

	if (!t)
		return "never";
	if (d < 120)
		snprintf(buf, n, "%llds ago", d);
	else if (d < 7200)
		snprintf(buf, n, "%lldm ago", d / 60);
	else
		snprintf(buf, n, "%lldh ago", d / 3600);
	return buf;
}

static int daemon_alive(const struct st *s)
{
	return s->pid > 0 && (kill(s->pid, 0) == 0 || errno == EPERM);
}

static void print_json(const struct st *s, int alive)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_bool(&j, "running", alive);
	json_i64(&j, "pid", s->pid);
	json_str(&j, "state", alive ? s->state : "stopped");
	json_str(&j, "server", s->server);
	json_str(&j, "name", s->name);
	json_str(&j, "interface", s->ifname);
	json_str(&j, "public_key", s->pubkey);
	json_u64(&j, "listen_port", s->port);
	json_str(&j, "addresses", s->addrs);
	json_u64(&j, "serial", s->serial);
	json_i64(&j, "last_update", s->last_update);
	json_i64(&j, "connected_since", s->connected_since);
	if (strcmp(s->last_error, "-"))
		json_str(&j, "last_error", s->last_error);
	else
		json_null(&j, "last_error");
	json_u64(&j, "ruleset_generation", s->generation);
	json_u64(&j, "identities", s->idents);
	json_u64(&j, "rules", s->rules);
	json_u64(&j, "rotations", s->rotations);
	json_i64(&j, "last_rotation", s->last_rotation);
	json_i64(&j, "written", s->written);
	json_arr_begin(&j, "peers");
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct st_peer *p = &s->peers[i];

		json_obj_begin(&j, NULL);
		json_str(&j, "name", p->name);
		json_str(&j, "public_key", p->key);
		json_str(&j, "addresses", p->addrs);
		if (strcmp(p->endpoint, "-"))
			json_str(&j, "endpoint", p->endpoint);
		else
			json_null(&j, "endpoint");
		json_i64(&j, "last_handshake", p->handshake);
		json_u64(&j, "rx_bytes", p->rx);
		json_u64(&j, "tx_bytes", p->tx);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static void print_text(const struct st *s, int alive)
{
	char t1[64], t2[64];

	if (!alive)
		printf("nbhelper:   not running (last pid %lld); the kernel keeps enforcing the last policy\n",
		       s->pid);
	else
		printf("nbhelper:   running (pid %lld), %s %s\n", s->pid,
		       s->state, s->server);
	if (alive && !strcmp(s->state, "connected"))
		printf("connected:  since %s\n", fmt_time(s->connected_since, t1, sizeof(t1)));
	if (strcmp(s->last_error, "-"))
		printf("last error: %s\n", s->last_error);
	printf("node:       %s on %s, port %u, addresses %s\n", s->name,
	       s->ifname, s->port, *s->addrs ? s->addrs : "(none yet)");
	printf("public key: %s\n", s->pubkey);
	printf("serial:     %llu, last update %s (%s)\n", s->serial,
	       fmt_time(s->last_update, t1, sizeof(t1)),
	       fmt_ago(s->last_update, t2, sizeof(t2)));
	printf("ruleset:    generation %llu, %u identities, %u rules\n",
	       s->generation, s->idents, s->rules);
	printf("rotations:  %u, last %s\n", s->rotations,
	       fmt_time(s->last_rotation, t1, sizeof(t1)));
	printf("peers:      %zu\n", s->n_peers);
	if (!s->n_peers)
		return;
	printf("  %-16s %-28s %-24s %-12s %10s %10s\n", "NAME", "ADDRESSES",
	       "ENDPOINT", "HANDSHAKE", "RX", "TX");
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct st_peer *p = &s->peers[i];

		printf("  %-16s %-28s %-24s %-12s %10llu %10llu\n", p->name,
		       p->addrs, p->endpoint,
		       fmt_ago(p->handshake, t1, sizeof(t1)), p->rx, p->tx);
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *dir = getenv("NBHELPER_STATE_DIR");
	char path[PATH_MAX];
	struct st s;
	int c, alive;

	if (!dir || !*dir)
		dir = "/var/lib/nbhelper";
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': dir = optarg; break;
		case 'j': json_output = true; break;
		case 'h':
			printf("usage: %s status [--state-dir DIR] [--json]\n", PROG_NAME);
			return 0;
		default:
			fprintf(stderr, "usage: %s status [--state-dir DIR] [--json]\n", PROG_NAME);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: status: unexpected argument '%s'\n", PROG_NAME, argv[optind]);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/status", dir);
	memset(&s, 0, sizeof(s));
	if (load(&s, dir, path)) {
		free(s.peers);
		return 1;
	}
	alive = daemon_alive(&s);
	if (json_output)
		print_json(&s, alive);
	else
		print_text(&s, alive);
	free(s.peers);
	return 0;
}
