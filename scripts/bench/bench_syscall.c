// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-call cost of the syscalls ircontain hooks: socket()+close() (cgroup
 * sock_create), connect() to a closed local port (cgroup connect4),
 * openat()+close() of /etc/hostname (sensitive_read at the open's return:
 * /etc holds sensitive files, so the directory matches and the name is
 * compared) and getppid() (any system call: contain-then-kill's guard).
 * Prints ns per call, median of rounds.  bench_syscall.sh runs it inside
 * and outside the hooked cgroup.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N	20000
#define ROUNDS	7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double (*fn)(void))
{
	double r[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		r[i] = fn();
	qsort(r, ROUNDS, sizeof(r[0]), cmp);
	return r[ROUNDS / 2];
}

static double b_socket(void)
{
	double t = now_ns();
	int i;

	for (i = 0; i < N; i++)
		close(socket(AF_INET, SOCK_DGRAM, 0));
	return (now_ns() - t) / N;
}

static double b_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i;
	double t;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t = now_ns();
	/* UDP connect: no packet, only the hook and the route lookup. */
	for (i = 0; i < N; i++)
		connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	t = (now_ns() - t) / N;
	close(fd);
	return t;
}

static double b_openat(void)
{
	double t = now_ns();
	int i;

	for (i = 0; i < N; i++)
		close(openat(AT_FDCWD, "/etc/hostname", O_RDONLY));
	return (now_ns() - t) / N;
}

static double b_getppid(void)
{
	double t = now_ns();
	int i;

	for (i = 0; i < N; i++)
		syscall(SYS_getppid);
	return (now_ns() - t) / N;
}

int main(int argc, char **argv)
{
	printf("%s %.0f %.0f %.0f %.0f\n", argc > 1 ? argv[1] : "run", median(b_socket),
	       median(b_connect), median(b_openat), median(b_getppid));
	return 0;
}
