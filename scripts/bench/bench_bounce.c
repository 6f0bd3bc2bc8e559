// SPDX-License-Identifier: GPL-2.0-only
/*
 * One quarantined source flooding on every CPU at once: the cost per drop
 * of the XDP program when all CPUs drop packets of the same host, one in
 * the front tier and one in the big map, beside the same on one CPU.  Such
 * a host soon has IRC_DROPRUN_AFTER drops on its entry, and from then on
 * each CPU counts its drops in its own run (struct irc_droprun) instead of
 * the entry's atomic, which would move the entry's cache line between the
 * CPUs on every drop.  One thread per CPU, pinned, each BPF_PROG_TEST_RUN
 * repeating the same packet; the figure is the kernel's time per run, the
 * mean of the threads, the median of the rounds.  Every round also checks
 * that no drop went uncounted: the entry's count plus every CPU's run
 * equals the packets sent.
 *
 *   bench_bounce [-r ROUNDS]
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "bench.h"

#define REPEAT		1000000
#define ROUNDS		7	/* default of -r */
#define MAX_ROUNDS	64
#define OTHER		0xc0000201u	/* 192.0.2.1, never in a table */

struct worker {
	pthread_t tid;
	int cpu, prog_fd, ok;
	struct tl_pkt4 pkt;
	pthread_barrier_t *start;
	__u32 ns;
};

static void die(const char *what)
{
	fprintf(stderr, "bench_bounce: %s\n", what);
	exit(1);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(w->cpu, &one);
	w->ok = !pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	pthread_barrier_wait(w->start);
	if (w->ok)
		w->ok = tl_run(w->prog_fd, &w->pkt, sizeof(w->pkt), REPEAT, &w->ns) == XDP_DROP;
	return NULL;
}

/* The drops of host @addr's entry in @map: its count plus every CPU's run. */
static __u64 host_drops(struct irc_net_bpf *irc, struct bpf_map *map, __u32 addr, int ncpu)
{
	struct irc_droprun *runs = aligned_alloc(_Alignof(struct irc_droprun),
						 sizeof(*runs) * ncpu);
	struct irc_qentry e;
	__u32 zero = 0;
	__u64 sum;
	int c;

	if (!runs || bpf_map__lookup_elem(map, &addr, sizeof(addr), &e, sizeof(e), 0) ||
	    bpf_map__lookup_elem(irc->maps.irc_droprun, &zero, sizeof(zero), runs,
				 sizeof(*runs) * ncpu, 0))
		die("read the entry and the runs failed");
	sum = e.drops;
	for (c = 0; c < ncpu; c++)
		if (runs[c].family == 4 && runs[c].addr[0] == addr &&
		    runs[c].created_ns == e.created_ns)
			sum += runs[c].count;
	free(runs);
	return sum;
}

/* One round of @nthreads threads flooding from @addr: ns per drop. */
static double flood(struct irc_net_bpf *irc, struct bpf_map *map, __u32 addr,
		    int nthreads, int ncpu)
{
	struct worker w[CPU_SETSIZE];
	pthread_barrier_t start;
	__u64 before = host_drops(irc, map, addr, ncpu), after;
	double sum = 0;
	int i;

	pthread_barrier_init(&start, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .cpu = i, .start = &start,
					.prog_fd = bpf_program__fd(irc->progs.irc_xdp_ingress) };
		tl_pkt4(&w[i].pkt, addr, htonl(OTHER));
		if (pthread_create(&w[i].tid, NULL, work, &w[i]))
			die("start a thread failed");
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(w[i].tid, NULL);
		if (!w[i].ok)
			die("a thread's test run failed or did not drop");
		sum += w[i].ns;
	}
	pthread_barrier_destroy(&start);
	after = host_drops(irc, map, addr, ncpu);
	if (after - before != (__u64)nthreads * REPEAT) {
		fprintf(stderr, "bench_bounce: %llu drops counted, %llu sent\n",
			(unsigned long long)(after - before),
			(unsigned long long)nthreads * REPEAT);
		exit(1);
	}
	return sum / nthreads;
}

int main(int argc, char **argv)
{
	static const char *const tier[2] = { "front tier", "big map" };
	int ncpu = libbpf_num_possible_cpus(), nonline = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int opt, rounds = ROUNDS, t, r, n, nth[2];
	struct irc_net_bpf *irc;
	struct bpf_map *map[2];
	double res[MAX_ROUNDS], med[2][2];
	__u32 addr[2];

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r') {
			fprintf(stderr, "usage: bench_bounce [-r ROUNDS]\n");
			return 2;
		}
		rounds = (int)bench_arg_num("bench_bounce", optarg, 1, MAX_ROUNDS, "-r");
	}
	if (optind < argc) {
		fprintf(stderr, "bench_bounce: '%s': no arguments besides -r\n", argv[optind]);
		return 2;
	}
	if (ncpu <= 0 || nonline < 2)
		die("needs 2 CPUs or more online");
	if (nonline > CPU_SETSIZE)
		nonline = CPU_SETSIZE;
	irc = tl_load();
	if (!irc)
		die("load ircontain's skeleton failed (root needed)");
	/* Host 0 in the front tier; host IRC_MAX_FRONT_HOSTS, the next, in the big map. */
	if (tl_fill_hosts(irc, AF_INET, 0, IRC_MAX_FRONT_HOSTS + 1))
		die("fill the host maps failed");
	addr[0] = tl_addr4(0);
	addr[1] = tl_addr4(IRC_MAX_FRONT_HOSTS);
	map[0] = irc->maps.irc_q4_front;
	map[1] = irc->maps.irc_q4_host;
	for (t = 0; t < 2; t++) {
		struct irc_qentry e;

		if (bpf_map__lookup_elem(map[t], &addr[t], sizeof(addr[t]), &e, sizeof(e), 0))
			die("a host is not in the tier it should be in");
	}
	nth[0] = 1;
	nth[1] = nonline;
	for (t = 0; t < 2; t++)
		for (n = 0; n < 2; n++) {
			for (r = 0; r < rounds; r++)
				res[r] = flood(irc, map[t], addr[t], nth[n], ncpu);
			med[t][n] = bench_median(res, rounds);
		}
	printf("One quarantined source, XDP hot hit, ns per drop (BPF_PROG_TEST_RUN, %d runs per\n"
	       "thread, median of %d rounds; load %.2f); every drop counted (checked)\n\n",
	       REPEAT, rounds, bench_loadavg());
	printf("| host in | 1 CPU | %d CPUs at once |\n|---|---:|---:|\n", nonline);
	for (t = 0; t < 2; t++)
		printf("| %s | %.1f | %.1f |\n", tier[t], med[t][0], med[t][1]);
	irc_net_bpf__destroy(irc);
	return 0;
}
