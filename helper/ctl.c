// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket <state_dir>/nbhelper.sock (mode 0600, root only):
 * one request line, one or more answer lines, then close.
 *
 *   status       -> the status file's contents
 *   rotate-key   -> "ok rotated <new public key>" once the server has the
 *                   key and the device uses it, or "error <why>"
 *   reconnect    -> "ok" (drops the session and reconnects now)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"

#define CTL_SOCK	"nbhelper.sock"

static int sock_path(const char *dir, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s",
			     dir, CTL_SOCK) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int ctl_listen(struct helper *h)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (sock_path(h->cfg.state_dir, &sun))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(sun.sun_path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 8)) {
		umask(old);
		log_err("control socket %s: %s", sun.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	h->ctl_fd = fd;
	h->ctl_wait_fd = -1;
	return 0;
}

static void reply(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= n;
	}
}

/* Called when a rotation ends (either way): answer the waiting client. */
void ctl_rotation_done(struct helper *h, int ok, const char *msg)
{
	char line[256];

	if (h->ctl_wait_fd < 0)
		return;
	snprintf(line, sizeof(line), "%s %s\n", ok ? "ok" : "error", msg);
	reply(h->ctl_wait_fd, line);
	close(h->ctl_wait_fd);
	h->ctl_wait_fd = -1;
}

void ctl_accept(struct helper *h)
{
	char line[128], msg[256];
	struct timeval tv = { .tv_sec = 1 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	ssize_t n;
	int fd;

	fd = accept4(h->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* the socket is 0600 already; this also covers a chmod by mistake */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    cred.uid != 0) {
		reply(fd, "error permission denied\n");
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(fd, line, sizeof(line) - 1);
	if (n <= 0) {
		close(fd);
		return;
	}
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (!strcmp(line, "status")) {
		char *buf;

		status_write(h);
		if (!state_read_file(h->cfg.state_dir, "status", &buf, NULL)) {
			reply(fd, buf);
			free(buf);
		}
	} else if (!strcmp(line, "rotate-key")) {
		if (h->ctl_wait_fd >= 0) {
			reply(fd, "error a rotation is already in progress\n");
		} else if (session_rotate_key(h, msg, sizeof(msg))) {
			snprintf(line, sizeof(line), "error %.100s\n", msg);
			reply(fd, line);
		} else {
			h->ctl_wait_fd = fd;	/* answered when it is done */
			return;
		}
	} else if (!strcmp(line, "reconnect")) {
		if (h->conn)
			session_close(h, "reconnect requested");
		h->next_connect = 0;
		h->backoff = 1;
		reply(fd, "ok\n");
	} else {
		reply(fd, "error unknown command (status, rotate-key, reconnect)\n");
	}
	close(fd);
}

/* The client side, for `nbhelper rotate-key` and friends. */
int ctl_client(const char *state_dir, const char *cmd)
{
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd, ok = -1, first = 1;

	if (sock_path(state_dir, &sun))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "nbhelper: cannot reach the daemon at %s: %s\n",
			sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	reply(fd, buf);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first)
			ok = strncmp(buf, "error", 5) ? 0 : -1;
		first = 0;
		fwrite(buf, 1, n, stdout);
	}
	close(fd);
	return ok;
}
