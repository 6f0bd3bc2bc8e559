// SPDX-License-Identifier: GPL-2.0-only
/*
 * irc_connstorm: a paced storm of real TCP connects on this host's own
 * addresses, for the daemon's benchmark and soak test.
 *
 *   irc_connstorm ADDR RATE SECONDS [THREADS] [accept|refused|filtered]
 *
 * THREADS connectors (default 2) connect() to ADDR at RATE connects a
 * second in all, for SECONDS.  Three kinds of storm:
 *
 *   accept   (default) to a listener of its own, while one thread accepts:
 *            a connect and an accept event each.  Each connection is
 *            closed at once with an RST (SO_LINGER 0), so no port waits in
 *            TIME_WAIT.
 *   refused  to a port of ADDR that is bound but not listening, so the
 *            kernel answers each SYN with an RST: one (failed) connect
 *            event each, as a scanner's storm makes.  A refused socket may
 *            connect again, so each thread keeps one socket and a connect
 *            costs one system call: the storm's own CPU stays small beside
 *            the daemon's on a machine of two cores.
 *   filtered to port 9 of ADDR, a host that never answers (the caller routes
 *            it to a link that drops it: a filtered port, to a scanner),
 *            and each connect is given up at once: one (failed) connect
 *            event each, SYN_SENT then CLOSE, as the refused storm, but
 *            without loopback's softirq work on both ends (a SYN and an
 *            RST), the cost that held the refused storm near 40,000 a
 *            second here.  Each thread keeps one non-blocking socket: a
 *            connect() sends the SYN, a connect(AF_UNSPEC) aborts it.
 *
 * Bounded: RATE <= 200000, SECONDS <= 600.  Prints "connects N failed N
 * seconds S rate R cpu_ms C" (C: this process's user and system CPU; the
 * kernel's softirq work on loopback is not in it) and exits 0, or 1 if no
 * connect went as expected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS	1000000LL	/* connects are paced per millisecond */

static struct sockaddr_in dst;
static enum { ACCEPT, REFUSED, FILTERED } mode;
static long rate_per_thread;
static long long end_ns;
static atomic_long done, failed;
static atomic_int stop;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *acceptor(void *arg)
{
	int lfd = *(int *)arg, c;

	while (!atomic_load(&stop)) {
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			close(c);
	}
	return NULL;
}

/* One connect: true if it went as this kind of storm expects. */
static bool connect_accept(void)
{
	static const struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	ok = connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0;
	close(fd);
	return ok;
}

static bool connect_refused(int *fd)
{
	if (*fd < 0 && (*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	if (connect(*fd, (struct sockaddr *)&dst, sizeof(dst)) && errno == ECONNREFUSED)
		return true;
	/* Anything else (connected?) leaves a socket that is not reusable. */
	close(*fd);
	*fd = -1;
	return false;
}

static bool connect_filtered(int *fd)
{
	static const struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	if (*fd < 0 &&
	    (*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return false;
	if (connect(*fd, (struct sockaddr *)&dst, sizeof(dst)) && errno == EINPROGRESS &&
	    !connect(*fd, &unspec, sizeof(unspec)))
		return true;
	close(*fd);
	*fd = -1;
	return false;
}

static bool connect_one(int *fd)
{
	switch (mode) {
	case REFUSED:
		return connect_refused(fd);
	case FILTERED:
		return connect_filtered(fd);
	default:
		return connect_accept();
	}
}

static void *connector(void *arg)
{
	long long t0 = now_ns(), slice, due;
	long sent = 0, ok = 0, bad = 0;
	struct timespec ts;
	int fd = -1;

	(void)arg;
	for (slice = 0;; slice++) {
		due = t0 + slice * SLICE_NS;
		if (due >= end_ns)
			break;
		ts.tv_sec = due / 1000000000LL;
		ts.tv_nsec = due % 1000000000LL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		/* The connects this thread owes by the end of this slice. */
		for (; sent < rate_per_thread * (slice + 1) / 1000; sent++) {
			/* Behind schedule (the CPUs are saturated): the time bound still holds. */
			if (!(sent & 63) && now_ns() >= end_ns)
				goto out;
			if (connect_one(&fd))
				ok++;
			else
				bad++;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	atomic_fetch_add(&done, ok);
	atomic_fetch_add(&failed, bad);
	return NULL;
}

static int parse(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno || end == s || *end || *v < lo || *v > hi ? -1 : 0;
}

int main(int argc, char **argv)
{
	pthread_t acc, th[16];
	long rate, secs, nth = 2, i;
	socklen_t len = sizeof(dst);
	struct rusage ru;
	long long t0;
	double took;
	int lfd;

	if (argc == 6 && !strcmp(argv[5], "refused"))
		mode = REFUSED;
	else if (argc == 6 && !strcmp(argv[5], "filtered"))
		mode = FILTERED;
	else if (argc == 6 && strcmp(argv[5], "accept"))
		argc = 0;
	if (argc < 4 || argc > 6 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    parse(argv[2], 1, 200000, &rate) || parse(argv[3], 1, 600, &secs) ||
	    (argc >= 5 && parse(argv[4], 1, 16, &nth))) {
		fprintf(stderr, "usage: irc_connstorm ADDR RATE(1-200000) SECONDS(1-600) "
			"[THREADS(1-16)] [accept|refused|filtered]\n");
		return 2;
	}
	dst.sin_family = AF_INET;
	if (mode == FILTERED) {
		dst.sin_port = htons(9);
		lfd = -1;
	} else {
		/* Bound but (when refused) not listening: nothing else can take the port. */
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&dst, sizeof(dst)) ||
		    (mode == ACCEPT && listen(lfd, 4096)) ||
		    getsockname(lfd, (struct sockaddr *)&dst, &len)) {
			fprintf(stderr, "irc_connstorm: %s on %s: %s\n",
				mode == ACCEPT ? "listen" : "bind", argv[1], strerror(errno));
			return 1;
		}
	}
	rate_per_thread = rate / nth;
	t0 = now_ns();
	end_ns = t0 + secs * 1000000000LL;
	if (mode == ACCEPT)
		pthread_create(&acc, NULL, acceptor, &lfd);
	for (i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, connector, NULL);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	took = (now_ns() - t0) / 1e9;
	if (mode == ACCEPT) {
		atomic_store(&stop, 1);
		/* Wakes the acceptor: one last connection of our own. */
		connect_accept();
		pthread_join(acc, NULL);
	}
	if (lfd >= 0)
		close(lfd);
	getrusage(RUSAGE_SELF, &ru);
	printf("connects %ld failed %ld seconds %.2f rate %.0f cpu_ms %ld\n", atomic_load(&done),
	       atomic_load(&failed), took, atomic_load(&done) / took,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return atomic_load(&done) ? 0 : 1;
}
