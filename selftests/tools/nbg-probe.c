// SPDX-License-Identifier: GPL-2.0
/*
 * nbg-probe: small, deterministic traffic tool for the namespace tests.
 *
 *   nbg-probe serve tcp|udp [-6] PORT...     echo servers (forks to background
 *                                            once all ports are bound)
 *   nbg-probe tcp ADDR PORT [-t MS]          connect, send, expect the echo
 *   nbg-probe udp ADDR PORT [-t MS]          send a datagram, expect the echo
 *   nbg-probe stream ADDR PORT --secs N      one TCP connection, a message
 *                                            every 10 ms; reports when the
 *                                            echoes stopped
 *   nbg-probe flood udp ADDR PORT --count N  N datagrams on one flow, with
 *                                            echo; reports sent/received
 *                                            (SIGINT/SIGTERM: stop early)
 *
 * Exit status: 0 success; 1 no answer (timeout: dropped, or EPERM from a
 * local netfilter drop); 2 refused or reset (an ICMP error or a TCP RST
 * came back); 3 usage or local error.
 * tcp/udp print one word on stdout: "ok", "timeout" or "refused".
 * A PORT may be a range LO-HI for serve.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_TIMEOUT	1
#define EXIT_REFUSED	2
#define EXIT_USAGE	3
#define MAX_PORTS	4096

static void usage(void)
{
	fprintf(stderr,
		"usage: nbg-probe serve tcp|udp [-6] PORT[-PORT]...\n"
		"       nbg-probe tcp|udp ADDR PORT [-t MS]\n"
		"       nbg-probe stream ADDR PORT --secs N\n"
		"       nbg-probe flood udp ADDR PORT --count N [-t MS]\n");
	exit(EXIT_USAGE);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535) {
		fprintf(stderr, "nbg-probe: bad port '%s'\n", s);
		exit(EXIT_USAGE);
	}
	return (int)v;
}

static long parse_num(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "nbg-probe: bad %s '%s'\n", what, s);
		exit(EXIT_USAGE);
	}
	return v;
}

static int parse_addr(const char *host, int port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	fprintf(stderr, "nbg-probe: bad address '%s'\n", host);
	exit(EXIT_USAGE);
}

/* Errors that mean "someone answered no" rather than "nobody answered".
 * EPERM/EACCES are not among them: they are what a local netfilter drop
 * returns to the sender, so they count as a drop.
 */
static bool is_refusal(int err)
{
	return err == ECONNREFUSED || err == ECONNRESET || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == EPROTO || err == ENOPROTOOPT;
}

static int verdict(int code, const char *detail)
{
	static const char *const words[] = { "ok", "timeout", "refused" };

	if (detail)
		printf("%s (%s)\n", words[code], detail);
	else
		printf("%s\n", words[code]);
	fflush(stdout);
	return code;
}

/* ----------------------------------------------------------- servers */

static int bind_one(int type, int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	parse_addr(family == AF_INET ? "0.0.0.0" : "::", port, &ss, &len);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		fprintf(stderr, "nbg-probe: bind port %d: %s\n", port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A TCP echo connection is served by a child so a stream never blocks
 * the listeners.
 */
static void tcp_echo_child(int fd)
{
	char buf[4096];
	ssize_t n;

	if (fork() != 0) {
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			break;
	_exit(0);
}

static void udp_echo(int fd)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	char buf[65536];
	ssize_t n;
	int i;

	/* Drain a burst, but give other sockets a turn. */
	for (i = 0; i < 64; i++) {
		plen = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
			     &plen);
		if (n < 0)
			return;
		sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen);
	}
}

static int cmd_serve(int argc, char **argv)
{
	static struct pollfd pfd[MAX_PORTS];
	int type, family = AF_INET, nfd = 0, i;

	if (argc < 2)
		usage();
	if (!strcmp(argv[0], "tcp"))
		type = SOCK_STREAM;
	else if (!strcmp(argv[0], "udp"))
		type = SOCK_DGRAM;
	else
		usage();
	for (i = 1; i < argc; i++) {
		char *dash;
		int lo, hi, p;

		if (!strcmp(argv[i], "-6")) {
			family = AF_INET6;
			continue;
		}
		dash = strchr(argv[i], '-');
		if (dash) {
			*dash = '\0';
			lo = parse_port(argv[i]);
			hi = parse_port(dash + 1);
		} else {
			lo = hi = parse_port(argv[i]);
		}
		for (p = lo; p <= hi; p++) {
			int fd;

			if (nfd == MAX_PORTS) {
				fprintf(stderr, "nbg-probe: too many ports\n");
				return EXIT_USAGE;
			}
			fd = bind_one(type, family, p);
			if (fd < 0)
				return EXIT_USAGE;
			pfd[nfd].fd = fd;
			pfd[nfd].events = POLLIN;
			nfd++;
		}
	}
	if (!nfd)
		usage();

	/* All ports are bound: the caller may probe as soon as we return. */
	signal(SIGCHLD, SIG_IGN);
	if (fork() != 0)
		return 0;
	setsid();
	/* Let go of the caller's pipes, or $(...) around us never ends. */
	if (!freopen("/dev/null", "r", stdin) ||
	    !freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		_exit(EXIT_USAGE);

	for (;;) {
		if (poll(pfd, nfd, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(EXIT_USAGE);
		}
		for (i = 0; i < nfd; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (type == SOCK_DGRAM) {
				udp_echo(pfd[i].fd);
			} else {
				int c = accept4(pfd[i].fd, NULL, NULL,
						SOCK_CLOEXEC);

				if (c >= 0)
					tcp_echo_child(c);
			}
		}
	}
}

/* ----------------------------------------------------------- clients */

/* Waits for fd to be readable; returns 1 ready, 0 timeout. */
static int wait_in(int fd, int events, long ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	long deadline = now_ms() + ms;
	int r;

	for (;;) {
		long left = deadline - now_ms();

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return 0;
	}
}

static int tcp_connect(const char *host, int port, long ms, int *fdp)
{
	struct sockaddr_storage ss;
	socklen_t len, elen = sizeof(int);
	int family, fd, err = 0;

	family = parse_addr(host, port, &ss, &len);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("nbg-probe: socket");
		exit(EXIT_USAGE);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			close(fd);
			return is_refusal(err) ? -err : -ETIMEDOUT;
		}
		if (!wait_in(fd, POLLOUT, ms)) {
			close(fd);
			return -ETIMEDOUT;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err) {
			close(fd);
			return is_refusal(err) ? -err : -ETIMEDOUT;
		}
	}
	*fdp = fd;
	return 0;
}

static int cmd_tcp(const char *host, int port, long ms)
{
	static const char msg[] = "nbg-probe\n";
	char buf[sizeof(msg)];
	long deadline = now_ms() + ms;
	size_t got = 0;
	int fd, r;

	r = tcp_connect(host, port, ms, &fd);
	if (r == -ETIMEDOUT)
		return verdict(EXIT_TIMEOUT, "connect");
	if (r < 0)
		return verdict(EXIT_REFUSED, strerror(-r));
	if (write(fd, msg, sizeof(msg) - 1) != sizeof(msg) - 1)
		return verdict(EXIT_REFUSED, strerror(errno));
	while (got < sizeof(msg) - 1) {
		ssize_t n;

		if (!wait_in(fd, POLLIN, deadline - now_ms()))
			return verdict(EXIT_TIMEOUT, "echo");
		n = read(fd, buf + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return verdict(is_refusal(errno) ? EXIT_REFUSED :
				       EXIT_TIMEOUT, strerror(errno));
		if (n == 0)
			return verdict(EXIT_REFUSED, "closed");
		got += n;
	}
	close(fd);
	if (memcmp(buf, msg, sizeof(msg) - 1))
		return verdict(EXIT_REFUSED, "bad echo");
	return verdict(0, NULL);
}

static int udp_socket(const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family, fd;

	family = parse_addr(host, port, &ss, &len);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* A connected UDP socket reports ICMP port unreachable as ECONNREFUSED. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("nbg-probe: udp socket");
		exit(EXIT_USAGE);
	}
	return fd;
}

static int cmd_udp(const char *host, int port, long ms)
{
	char msg[32], buf[64];
	long deadline = now_ms() + ms;
	int fd = udp_socket(host, port), tries = 0;
	ssize_t n;

	snprintf(msg, sizeof(msg), "nbg-probe %d", getpid());
	/* Resend a few times inside the timeout: the first datagram may
	 * wait on a WireGuard handshake.
	 */
	while (now_ms() < deadline) {
		long slice = (deadline - now_ms());

		if (slice > 500)
			slice = 500;
		if (send(fd, msg, strlen(msg), 0) < 0) {
			if (is_refusal(errno))
				return verdict(EXIT_REFUSED, strerror(errno));
			if (errno == EPERM || errno == EACCES)
				return verdict(EXIT_TIMEOUT, strerror(errno));
		}
		tries++;
		while (wait_in(fd, POLLIN, slice)) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0)
				return verdict(is_refusal(errno) ?
					       EXIT_REFUSED : EXIT_TIMEOUT,
					       strerror(errno));
			if ((size_t)n == strlen(msg) && !memcmp(buf, msg, n))
				return verdict(0, NULL);
		}
	}
	return verdict(EXIT_TIMEOUT, tries > 1 ? "no echo" : "no echo, 1 try");
}

/* One TCP connection; an 8-byte message every 10 ms, echoed back. Runs for
 * secs, or until no echo came for a second, then stops sending and drains
 * for up to 2 s: the echoes stopped for good only if some of what was sent
 * never came back (a stall of the emulated machine delays echoes but loses
 * none). Prints the longest gap between echoes and, if echoes stopped,
 * lost_at_ms: the time from start of the last echo. Exit 0 if everything
 * sent was echoed, 1 if not.
 */
static int cmd_stream(const char *host, int port, long secs)
{
	long start, end, last_echo, next_send, drain_end, max_gap = 0;
	unsigned long sent = 0, echoed = 0;
	char buf[4096];
	bool dead = false;
	int fd, r;

	r = tcp_connect(host, port, 3000, &fd);
	if (r == -ETIMEDOUT)
		return verdict(EXIT_TIMEOUT, "connect");
	if (r < 0)
		return verdict(EXIT_REFUSED, strerror(-r));
	printf("connected\n");
	fflush(stdout);
	start = now_ms();
	end = start + secs * 1000;
	last_echo = start;
	next_send = start;
	drain_end = 0;
	for (;;) {
		long t = now_ms(), wait;
		ssize_t n;

		if (!drain_end && (t >= end || t - last_echo >= 1000))
			drain_end = t + 2000;
		/* Caught up before the end: it was a stall, keep going. */
		if (drain_end && echoed >= sent && t < end &&
		    t - last_echo < 1000) {
			drain_end = 0;
			next_send = t;
		}
		if (drain_end && (t >= drain_end || echoed >= sent))
			break;
		if (!drain_end && t >= next_send) {
			char m[16];
			int l = snprintf(m, sizeof(m), "%08lu", sent % 100000000);

			/* A full send buffer means the path is dead too. */
			if (write(fd, m, l) == l)
				sent += l;
			next_send += 10;
		}
		wait = drain_end ? drain_end - t : next_send - now_ms();
		if (!wait_in(fd, POLLIN, wait > 0 ? wait : 0))
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			t = now_ms();
			if (t - last_echo > max_gap)
				max_gap = t - last_echo;
			echoed += n;
			last_echo = t;
		} else if (n == 0 || errno != EAGAIN) {
			dead = true;
			break;
		}
	}
	close(fd);
	if (dead || echoed < sent) {
		printf("sent %lu echoed %lu max_gap_ms %ld lost_at_ms %ld\n",
		       sent / 8, echoed / 8, max_gap, last_echo - start);
		return EXIT_TIMEOUT;
	}
	printf("sent %lu echoed %lu max_gap_ms %ld lost_at_ms -1\n", sent / 8,
	       echoed / 8, max_gap);
	return 0;
}

static volatile sig_atomic_t stop_flood;

static void on_stop(int sig)
{
	stop_flood = 1;
}

/* N datagrams on one flow, paced in windows so the receiver's socket
 * buffer never overflows (loss must mean the filter, not the buffer).
 */
static int cmd_flood(const char *host, int port, long count, long ms)
{
	unsigned long sent = 0, received = 0, refused = 0;
	const long window = 32;
	char m[32], buf[64];
	int fd = udp_socket(host, port);

	/* SIGINT/SIGTERM end the flood after the current window. */
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	while ((long)sent < count && !stop_flood) {
		long w, got = 0;

		for (w = 0; w < window && (long)sent < count; w++) {
			int l = snprintf(m, sizeof(m), "%lu", sent);

			if (send(fd, m, l, 0) < 0 && is_refusal(errno))
				refused++;
			sent++;
		}
		/* Wait for this window's echoes (or give up after ms). */
		while (got < w && wait_in(fd, POLLIN, ms)) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n > 0) {
				got++;
			} else if (n < 0 && errno != EAGAIN) {
				if (is_refusal(errno))
					refused++;
			}
		}
		received += got;
	}
	close(fd);
	printf("sent %lu received %lu lost %lu refused %lu\n", sent, received,
	       sent - received, refused);
	return received == sent ? 0 : EXIT_TIMEOUT;
}

int main(int argc, char **argv)
{
	long ms = 2000, secs = 0, count = 0;
	const char *pos[3] = { 0 };
	int npos = 0, i;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 2, argv + 2);

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			ms = parse_num(argv[++i], "timeout");
		else if (!strcmp(argv[i], "--secs") && i + 1 < argc)
			secs = parse_num(argv[++i], "seconds");
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = parse_num(argv[++i], "count");
		else if (argv[i][0] == '-' && argv[i][1] && !strchr(argv[i], ':') &&
			 !(argv[i][1] >= '0' && argv[i][1] <= '9'))
			usage();
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
			usage();
	}

	if (!strcmp(argv[1], "tcp") && npos == 2)
		return cmd_tcp(pos[0], parse_port(pos[1]), ms);
	if (!strcmp(argv[1], "udp") && npos == 2)
		return cmd_udp(pos[0], parse_port(pos[1]), ms);
	if (!strcmp(argv[1], "stream") && npos == 2 && secs > 0)
		return cmd_stream(pos[0], parse_port(pos[1]), secs);
	if (!strcmp(argv[1], "flood") && npos == 3 && !strcmp(pos[0], "udp") &&
	    count > 0)
		return cmd_flood(pos[1], parse_port(pos[2]), count,
				 ms == 2000 ? 1000 : ms);
	usage();
	return EXIT_USAGE;
}
