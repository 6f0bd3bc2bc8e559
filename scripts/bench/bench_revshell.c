// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reverse-shell finder's cost per exec (revshell.c), on real processes
 * of this one: what `run` spends on each exec record before it goes on.
 *
 *   - a program that is no shell (sleep): the common case, one stat of
 *     /proc/PID/exe and a cache probe;
 *   - a renamed copy of bash seen for the first time (a new inode): its ELF
 *     build-id read and compared, once per binary;
 *   - a shell reading stdin from a pipe whose writer holds no network
 *     socket (dash, fed by this process): the whole look around its tree;
 *   - the same with this process also holding a TCP connection on
 *     loopback and reading the shell's output: a reverse shell, found.
 *
 * Nothing is acted on: the finder reports to a counter.  Wall time per
 * call, on whatever else the machine runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "revshell.h"

#define COPIES	20

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int hits;

static bool on_hit(void *ctx, const struct irc_rsh_hit *h)
{
	(void)ctx;
	(void)h;
	hits++;
	return true;
}

/* A child running @path with @argv; stdin from @in, stdout to @out (-1: as ours). */
static pid_t spawn(const char *path, char *const argv[], int in, int out)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (in >= 0)
			dup2(in, 0);
		if (out >= 0)
			dup2(out, 1);
		execv(path, argv);
		_exit(127);
	}
	/* Exec'd before it is looked at. */
	usleep(100000);
	return pid;
}

static void rec(struct irc_ev_exec *ev, pid_t pid, const char *args, size_t n)
{
	memset(ev, 0, sizeof(*ev));
	ev->h.type = IRC_EV_EXEC;
	ev->h.size = sizeof(*ev);
	ev->h.tgid = ev->h.pid = (__u32)pid;
	memcpy(ev->args, args, n);
	ev->args_len = (__u32)n;
}

/* ns per call of irc_rsh_exec for @ev, @n times. */
static double per_call(struct irc_rsh *r, const struct irc_ev_exec *ev, int n)
{
	struct irc_rsh_hit hit;
	uint64_t t0 = now_ns();
	int i;

	for (i = 0; i < n; i++)
		irc_rsh_exec(r, ev, &hit);
	return (double)(now_ns() - t0) / n;
}

int main(void)
{
	char *sleep_argv[] = { "sleep", "30", NULL }, *sh_argv[] = { "sh", NULL };
	char *copy_argv[] = { "kworker", "-c", "sleep 30", NULL };
	char dir[] = "/tmp/irc-bench-rsh.XXXXXX", path[COPIES][96];
	int p1[2], p2[2], lfd, cfd, afd, i, found;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct irc_ev_exec ev;
	struct irc_rsh *r;
	pid_t other, sh1, sh2, relay, copies[COPIES];
	int rp[2];
	double first = 0;

	if (irc_rsh_open(&r, "/proc", NULL, "") || !mkdtemp(dir) || pipe(rp)) {
		fprintf(stderr, "bench_revshell: setup failed\n");
		return 1;
	}
	irc_rsh_set_cb(r, on_hit, NULL);
	printf("%-58s %10s %12s\n", "exec of", "calls", "us/call");

	other = spawn("/bin/sleep", sleep_argv, -1, -1);
	rec(&ev, other, "sleep\0" "30", 9);
	per_call(r, &ev, 1);
	printf("%-58s %10d %12.2f\n", "a program that is no shell (cached)", 20000,
	       per_call(r, &ev, 20000) / 1000);

	for (i = 0; i < COPIES; i++) {
		char cmd[256];

		snprintf(path[i], sizeof(path[i]), "%s/kworker%d", dir, i);
		snprintf(cmd, sizeof(cmd), "cp /bin/bash %.95s", path[i]);
		if (system(cmd))
			return 1;
		copies[i] = spawn(path[i], copy_argv, -1, -1);
	}
	for (i = 0; i < COPIES; i++) {
		rec(&ev, copies[i], "kworker\0-c\0sleep 30", 20);
		first += per_call(r, &ev, 1);
	}
	printf("%-58s %10d %12.2f\n", "a renamed bash, first seen (build-id read)", COPIES,
	       first / COPIES / 1000);
	printf("%-58s %10d %12.2f\n", "the same, seen again (cached; -c: no look around)", 20000,
	       per_call(r, &ev, 20000) / 1000);

	/* A shell fed by a pipe from this process, its output to another pipe. */
	if (pipe(p1) || pipe(p2))
		return 1;
	sh1 = spawn("/bin/sh", sh_argv, p1[0], p2[1]);
	close(p1[0]);
	close(p2[1]);
	rec(&ev, sh1, "sh", 3);
	printf("%-58s %10d %12.2f\n", "a shell reading a pipe, no socket in its tree", 2000,
	       per_call(r, &ev, 2000) / 1000);

	/*
	 * A relay (a child: the finder never looks at its own process) holds a
	 * TCP connection on loopback and both pipes of a shell it started.
	 */
	relay = fork();
	if (relay == 0) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		cfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || cfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sa, &sl) ||
		    connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    (afd = accept(lfd, NULL, NULL)) < 0 || pipe(p1) || pipe(p2))
			_exit(1);
		sh2 = spawn("/bin/sh", sh_argv, p1[0], p2[1]);
		close(p1[0]);
		close(p2[1]);
		if (write(rp[1], &sh2, sizeof(sh2)) != sizeof(sh2))
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(rp[0], &sh2, sizeof(sh2)) != sizeof(sh2))
		return 1;
	rec(&ev, sh2, "sh", 3);
	hits = 0;
	printf("%-58s %10d %12.2f\n", "a reverse shell (pipes to a process with a TCP socket)", 2000,
	       per_call(r, &ev, 2000) / 1000);
	found = hits;
	printf("# found: %d of 2000; the host has %d shells and interpreters\n", found,
	       irc_rsh_known(r));

	kill(other, SIGKILL);
	kill(sh1, SIGKILL);
	kill(sh2, SIGKILL);
	kill(relay, SIGKILL);
	for (i = 0; i < COPIES; i++) {
		kill(copies[i], SIGKILL);
		unlink(path[i]);
	}
	while (wait(NULL) > 0)
		;
	rmdir(dir);
	irc_rsh_close(r);
	return found == 2000 ? 0 : 1;
}
