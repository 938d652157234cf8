// SPDX-License-Identifier: GPL-2.0
/*
 * nbg-bench-load: the small load generator of the data-plane benchmark.
 *
 *   nbg-bench-load server [-p PORT]
 *       UDP and TCP on PORT. UDP: datagrams starting with 'R' are echoed
 *       (request-response), 'B' datagrams are counted, 'Q' is answered
 *       with the count since the last 'Z' (which resets it). TCP: every
 *       connection is accepted and reset at once (no TIME_WAIT pile-up).
 *   nbg-bench-load udp-rate   -a ADDR [-p PORT] [-t SECS] [-s SIZE]
 *       one flow, made established by a request-response first, then
 *       blasted; prints datagrams per second the server received.
 *   nbg-bench-load udp-rr     -a ADDR [-p PORT] [-t SECS]
 *       request-response on one flow; prints transactions per second and
 *       the median round trip in microseconds.
 *   nbg-bench-load udp-flows  -a ADDR [-p PORT] [-t SECS]
 *       request-response, every request from a fresh source port (a new
 *       conntrack flow), 16 in flight; prints answered flows per second.
 *   nbg-bench-load tcp-crr    -a ADDR [-p PORT] [-t SECS]
 *       connect, wait for the server's reset, repeat; prints connections
 *       per second.
 *
 * Output is one line of key=value pairs so scripts can parse it. A
 * measure that saw no traffic at all fails (exit 1): a blocked path must
 * not look like a fast one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "nbg-bench-load";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	return fd;
}

static void set_timeout(int fd, double secs)
{
	struct timeval tv = { .tv_sec = (time_t)secs,
			      .tv_usec = (secs - (time_t)secs) * 1e6 };

	/* SO_SNDTIMEO bounds a TCP connect too. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO");
}

static void __attribute__((noreturn)) server(struct sockaddr_in *sa)
{
	int one = 1, u = udp_socket();
	int t = socket(AF_INET, SOCK_STREAM, 0);
	uint64_t count = 0;
	struct pollfd pfd[2];

	if (t < 0)
		die("socket");
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(u, (void *)sa, sizeof(*sa)) || bind(t, (void *)sa, sizeof(*sa)))
		die("bind");
	if (listen(t, 4096))
		die("listen");
	pfd[0] = (struct pollfd){ .fd = u, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = t, .events = POLLIN };
	for (;;) {
		char buf[2048];
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents & POLLIN) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			int c = accept(t, NULL, NULL);

			if (c >= 0) {
				setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
				close(c);
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		/* Drain what is queued before polling again. */
		while ((n = recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT,
				     (void *)&peer, &plen)) > 0) {
			switch (buf[0]) {
			case 'B':
				count++;
				break;
			case 'R':
				buf[0] = 'r';
				sendto(u, buf, n, 0, (void *)&peer, plen);
				break;
			case 'Z':
				count = 0;
				sendto(u, "z", 1, 0, (void *)&peer, plen);
				break;
			case 'Q':
				n = snprintf(buf, sizeof(buf), "q%llu",
					     (unsigned long long)count);
				sendto(u, buf, n, 0, (void *)&peer, plen);
				break;
			}
			plen = sizeof(peer);
		}
	}
}

/*
 * Send a one-byte op on a connected UDP socket until the answer (the op in
 * lower case) comes back. Waits 1, 2, 4, 8 and 16 s between tries: a
 * flow's first packet may take seconds through 100,000 linear rules under
 * emulation, and resending quickly would only queue more walks. Fills
 * buf with the answer; returns its length, or -1.
 */
static ssize_t ask(int fd, char op, char *buf, size_t len)
{
	for (double wait = 1; wait <= 16; wait *= 2) {
		double until = now() + wait;
		ssize_t n;

		if (send(fd, &op, 1, 0) < 0 && errno != ECONNREFUSED)
			die("send");
		while (now() < until) {
			set_timeout(fd, until - now() + 0.001);
			n = recv(fd, buf, len - 1, 0);
			if (n > 0 && buf[0] == (op | 0x20)) {
				buf[n] = 0;
				return n;
			}
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNREFUSED && errno != EINTR)
				die("recv");
		}
	}
	return -1;
}

static int udp_connect(struct sockaddr_in *sa)
{
	int fd = udp_socket();

	if (connect(fd, (void *)sa, sizeof(*sa)))
		die("connect");
	return fd;
}

/* Reset ('Z') or read ('Q') the server's count on one control flow that
 * stays established, so control costs no rule walk after the first. */
static uint64_t control(struct sockaddr_in *sa, char op)
{
	static int fd = -1;
	char buf[64];

	if (fd < 0)
		fd = udp_connect(sa);
	if (ask(fd, op, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "%s: server at %s:%u does not answer\n", prog,
			inet_ntoa(sa->sin_addr), ntohs(sa->sin_port));
		exit(1);
	}
	return strtoull(buf + 1, NULL, 10);
}

/* Make a flow established (a reply seen) before it is measured. */
static int establish(int fd)
{
	char buf[64];

	return ask(fd, 'R', buf, sizeof(buf)) < 0 ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int udp_rr(struct sockaddr_in *sa, double secs)
{
	size_t cap = 1 << 16, n = 0;
	double *rtt = malloc(cap * sizeof(*rtt));
	double start, end, t;
	int fd = udp_connect(sa);
	unsigned long lost = 0;
	unsigned int seq = 0;

	if (!rtt)
		die("malloc");
	if (establish(fd)) {
		fprintf(stderr, "%s: udp-rr: no answer at all\n", prog);
		return 1;
	}
	start = now();
	end = start + secs;
	set_timeout(fd, 1.0);
	while ((t = now()) < end) {
		char buf[64], want[64];
		ssize_t r;

		snprintf(want, sizeof(want), "R%u", ++seq);
		if (send(fd, want, strlen(want), 0) < 0)
			die("send");
		want[0] = 'r';
		/* Skip late answers to earlier requests. */
		while ((r = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[r] = 0;
			if (!strcmp(buf, want))
				break;
		}
		if (r <= 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNREFUSED && errno != EINTR)
				die("recv");
			lost++;
			continue;
		}
		if (n == cap) {
			cap *= 2;
			rtt = realloc(rtt, cap * sizeof(*rtt));
			if (!rtt)
				die("realloc");
		}
		rtt[n++] = now() - t;
	}
	close(fd);
	if (!n) {
		fprintf(stderr, "%s: udp-rr: no answer at all\n", prog);
		return 1;
	}
	qsort(rtt, n, sizeof(*rtt), cmp_double);
	printf("udp_rr_tps=%.1f udp_rr_us=%.1f lost=%lu\n",
	       n / (now() - start), rtt[n / 2] * 1e6, lost);
	free(rtt);
	return 0;
}

static int udp_rate(struct sockaddr_in *sa, double secs, int size)
{
	char buf[2048];
	struct mmsghdr msgs[64];
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	unsigned long long sent = 0, got, prev;
	double start, elapsed, until;
	int fd = udp_connect(sa);

	memset(buf, 'B', sizeof(buf));
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 64; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* A reply makes the flow established, as real traffic is. */
	if (establish(fd)) {
		fprintf(stderr, "%s: udp-rate: no answer at all\n", prog);
		return 1;
	}
	control(sa, 'Z');
	start = now();
	while (now() - start < secs) {
		int n = sendmmsg(fd, msgs, 64, 0);

		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN ||
			    errno == ECONNREFUSED)
				continue;
			die("sendmmsg");
		}
		sent += n;
	}
	elapsed = now() - start;
	/* Wait until the queues are drained (the count stops moving), so
	 * what is still in flight counts and does not load the next run. */
	got = control(sa, 'Q');
	until = now() + 30;
	do {
		prev = got;
		usleep(200000);
		got = control(sa, 'Q');
	} while (got != prev && now() < until);
	close(fd);
	if (!got) {
		fprintf(stderr, "%s: udp-rate: server received nothing\n", prog);
		return 1;
	}
	printf("udp_pps=%.1f sent_pps=%.1f\n", got / elapsed, sent / elapsed);
	return 0;
}

/*
 * New flows: request-response where every request comes from a fresh
 * source port, WINDOW of them in flight. A closed loop, so a filter that
 * is slow on a flow's first packet slows the rate instead of piling up
 * datagrams in the receive backlog; flows still in flight when time is up
 * are waited for (and counted in the time), so none loads the next run.
 */
#define WINDOW		4
#define FLOW_TIMEOUT	30.0

static int udp_flows(struct sockaddr_in *sa, double secs)
{
	struct pollfd pfd[WINDOW];
	double sent_at[WINDOW], start = now(), t;
	unsigned long long done = 0, lost = 0;
	/* Walk the port range from a time-dependent start so repeated runs
	 * rarely reuse a tuple conntrack still remembers. */
	unsigned int port = 20000 + (unsigned int)(start * 1000) % 40000;
	int open_slots;

	for (int i = 0; i < WINDOW; i++)
		pfd[i].fd = -1;
	do {
		int more = (t = now()) < start + secs;

		open_slots = 0;
		for (int i = 0; i < WINDOW; i++) {
			struct sockaddr_in me = { .sin_family = AF_INET };

			if (pfd[i].fd >= 0) {
				if (t - sent_at[i] < FLOW_TIMEOUT) {
					open_slots++;
					continue;
				}
				lost++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
			if (!more)
				continue;
			pfd[i].fd = udp_socket();
			pfd[i].events = POLLIN;
			do {
				me.sin_port = htons(port);
				port = port >= 59999 ? 20000 : port + 1;
			} while (bind(pfd[i].fd, (void *)&me, sizeof(me)) && errno == EADDRINUSE);
			if (sendto(pfd[i].fd, "R", 1, 0, (void *)sa, sizeof(*sa)) != 1)
				die("sendto");
			sent_at[i] = now();
			open_slots++;
		}
		if (poll(pfd, WINDOW, 100) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < WINDOW; i++) {
			char c;

			if (pfd[i].fd < 0 || !(pfd[i].revents & POLLIN))
				continue;
			if (recv(pfd[i].fd, &c, 1, MSG_DONTWAIT) == 1)
				done++;
			close(pfd[i].fd);
			pfd[i].fd = -1;
		}
	} while (open_slots);
	if (!done) {
		fprintf(stderr, "%s: udp-flows: no answer at all\n", prog);
		return 1;
	}
	printf("udp_flows_ps=%.2f lost=%llu\n", done / (now() - start), lost);
	return 0;
}

static int tcp_crr(struct sockaddr_in *sa, double secs)
{
	unsigned long long ok = 0, failed = 0;
	double start = now(), elapsed;

	while (now() - start < secs) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		char c;

		if (fd < 0)
			die("socket");
		/* Reset on close, like the server, so ports are reused at once. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		set_timeout(fd, 30.0);
		if (connect(fd, (void *)sa, sizeof(*sa)) == 0) {
			/* Wait for the server's reset: the connection completed. */
			ssize_t r = recv(fd, &c, 1, 0);

			if (r == 0 || (r < 0 && errno == ECONNRESET))
				ok++;
			else
				failed++;
		} else {
			failed++;
		}
		close(fd);
	}
	elapsed = now() - start;
	if (!ok) {
		fprintf(stderr, "%s: tcp-crr: no connection completed\n", prog);
		return 1;
	}
	printf("tcp_cps=%.1f failed=%llu\n", ok / elapsed, failed);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s server [-p PORT]\n"
		"       %s udp-rate|udp-rr|udp-flows|tcp-crr -a ADDR [-p PORT] [-t SECS] [-s SIZE]\n",
		prog, prog);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5202) };
	const char *mode, *a = NULL;
	double secs = 2;
	int c, size = 64;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "a:p:t:s:")) != -1) {
		switch (c) {
		case 'a': a = optarg; break;
		case 'p': sa.sin_port = htons(atoi(optarg)); break;
		case 't': secs = atof(optarg); break;
		case 's': size = atoi(optarg); break;
		default: usage(stderr); return 2;
		}
	}
	if (size < 1 || size > 1400 || secs <= 0) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(mode, "server"))
		server(&sa);
	if (!a || inet_pton(AF_INET, a, &sa.sin_addr) != 1) {
		fprintf(stderr, "%s: need -a IPv4ADDR\n", prog);
		return 2;
	}
	if (!strcmp(mode, "udp-rr"))
		return udp_rr(&sa, secs);
	if (!strcmp(mode, "udp-rate"))
		return udp_rate(&sa, secs, size);
	if (!strcmp(mode, "udp-flows"))
		return udp_flows(&sa, secs);
	if (!strcmp(mode, "tcp-crr"))
		return tcp_crr(&sa, secs);
	usage(stderr);
	return 2;
}
