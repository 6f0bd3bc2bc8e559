// SPDX-License-Identifier: GPL-2.0-only
/*
 * Containment latency, driven by scripts/bench/bench_contain.sh inside its
 * lab: from the moment `ircontain quarantine host ADDR` is started to the
 * moment ADDR is in the kernel's map (seen by polling the pinned map from
 * this process every ~50 us), and to the command's exit; beside it `ipset add SET ADDR`
 * from start to exit (when it exits, the set holds the address).  Rounds
 * alternate A B A B, each with a fresh address.
 *
 *   bench_contain IRCONTAIN SET ROUNDS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include "ircontain/abi.h"
#include "bench.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_dbl);
	printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", what, v[n / 2],
	       v[(n * 9) / 10], v[n - 1 - n / 100], v[n - 1]);
}

int main(int argc, char **argv)
{
	char path[512], addr[32];
	const char *pin = getenv("IRCONTAIN_PIN_DIR");
	double *to_map, *to_exit, *ipset, load0;
	int rounds, fd, i, st;

	if (argc != 4 || !pin || (rounds = atoi(argv[3])) < 1 || rounds > (int)IRC_MAX_FRONT_HOSTS) {
		fprintf(stderr, "usage: IRCONTAIN_PIN_DIR=DIR bench_contain IRCONTAIN SET ROUNDS\n");
		return 2;
	}
	/* Where a new host goes (the front tier: fewer rounds than it holds). */
	snprintf(path, sizeof(path), "%s/%s", pin, IRC_STR(IRC_MAP_Q4_FRONT));
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "bench_contain: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	to_map = calloc(rounds, sizeof(double));
	to_exit = calloc(rounds, sizeof(double));
	ipset = calloc(rounds, sizeof(double));
	if (!to_map || !to_exit || !ipset)
		return 1;
	load0 = bench_loadavg();
	for (i = 0; i < rounds; i++) {
		__u32 key;
		struct irc_qentry v;
		double t0;
		pid_t pid;

		snprintf(addr, sizeof(addr), "10.200.%d.%d", i / 250, i % 250 + 1);
		inet_pton(AF_INET, addr, &key);
		{
			char *av[] = { argv[1], "quarantine", "host", addr, NULL };

			t0 = now_ms();
			pid = spawn(av);
			to_map[i] = -1;
			for (;;) {
				if (bpf_map_lookup_elem(fd, &key, &v) == 0) {
					to_map[i] = now_ms() - t0;
					break;
				}
				/*
				 * Poll every ~50 us, asleep in between: a busy poller
				 * would take a CPU from the command it times.
				 */
				nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
				if (waitpid(pid, &st, WNOHANG) == pid) {
					/* Exited between two polls: its exit bounds the write. */
					if (bpf_map_lookup_elem(fd, &key, &v) == 0)
						to_map[i] = now_ms() - t0;
					pid = 0;
					break;
				}
			}
			if (pid)
				waitpid(pid, &st, 0);
			to_exit[i] = now_ms() - t0;
			if (to_map[i] < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "bench_contain: quarantine host %s failed (status %#x)\n",
					addr, st);
				return 1;
			}
		}
		{
			char *av[] = { "/usr/sbin/ipset", "add", argv[2], addr, NULL };

			t0 = now_ms();
			pid = spawn(av);
			waitpid(pid, &st, 0);
			ipset[i] = now_ms() - t0;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "bench_contain: ipset add %s failed\n", addr);
				return 1;
			}
		}
	}
	printf("Load average (1 min) %.2f at the start, %.2f at the end; %ld CPUs.\n\n",
	       load0, bench_loadavg(), sysconf(_SC_NPROCESSORS_ONLN));
	printf("| %d rounds, ms | median | p90 | p99 | max |\n|---|---:|---:|---:|---:|\n", rounds);
	report("`ircontain quarantine host`: start to map write", to_map, rounds);
	report("`ircontain quarantine host`: start to exit", to_exit, rounds);
	report("`ipset add`: start to exit", ipset, rounds);
	return 0;
}
