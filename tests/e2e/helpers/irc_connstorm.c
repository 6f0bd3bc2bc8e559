// SPDX-License-Identifier: GPL-2.0-only
/*
 * irc_connstorm: a paced storm of real TCP connects to a listener of its
 * own, for the daemon's benchmark and soak test.
 *
 *   irc_connstorm ADDR RATE SECONDS [THREADS]
 *
 * Listens on ADDR (an IPv4 address of this network namespace, port chosen
 * by the kernel), then THREADS connectors (default 2) connect() to it at
 * RATE connects a second in all, for SECONDS, while one thread accepts.
 * Each connection is closed at once with an RST (SO_LINGER 0), so no port
 * waits in TIME_WAIT.  Bounded: RATE <= 200000, SECONDS <= 600.  Prints
 * "connects N failed N seconds S rate R" and exits 0, or 1 if nothing
 * could connect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS	1000000LL	/* connects are paced per millisecond */

static struct sockaddr_in dst;
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

static void *connector(void *arg)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	long long t0 = now_ns(), slice, due;
	long sent = 0;
	struct timespec ts;
	int fd;

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
				return NULL;
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				atomic_fetch_add(&failed, 1);
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
				atomic_fetch_add(&failed, 1);
			else
				atomic_fetch_add(&done, 1);
			close(fd);
		}
	}
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
	long long t0;
	double took;
	int lfd;

	if ((argc != 4 && argc != 5) || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    parse(argv[2], 1, 200000, &rate) || parse(argv[3], 1, 600, &secs) ||
	    (argc == 5 && parse(argv[4], 1, 16, &nth))) {
		fprintf(stderr, "usage: irc_connstorm ADDR RATE(1-200000) SECONDS(1-600) [THREADS(1-16)]\n");
		return 2;
	}
	dst.sin_family = AF_INET;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&dst, sizeof(dst)) || listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&dst, &len)) {
		fprintf(stderr, "irc_connstorm: listen on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	rate_per_thread = rate / nth;
	t0 = now_ns();
	end_ns = t0 + secs * 1000000000LL;
	pthread_create(&acc, NULL, acceptor, &lfd);
	for (i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, connector, NULL);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	took = (now_ns() - t0) / 1e9;
	atomic_store(&stop, 1);
	/* Wakes the acceptor: one last connection of our own. */
	i = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (i >= 0) {
		connect(i, (struct sockaddr *)&dst, sizeof(dst));
		close(i);
	}
	pthread_join(acc, NULL);
	close(lfd);
	printf("connects %ld failed %ld seconds %.2f rate %.0f\n", atomic_load(&done),
	       atomic_load(&failed), took, atomic_load(&done) / took);
	return atomic_load(&done) ? 0 : 1;
}
