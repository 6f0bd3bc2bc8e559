// SPDX-License-Identifier: GPL-2.0-only
/*
 * The driver of scripts/bench/bench_tc.sh: the tc egress program's cost on
 * real traffic, beside the anchors.  BPF_PROG_TEST_RUN (bench_packet) hands
 * a program one linear skb; on a real egress path a TCP segment is a clone
 * whose payload is paged, often a GSO packet of many segments, and the
 * caches hold the stack's state too.  Run in the sender's network
 * namespace, this attaches in turn to IFACE's tc egress
 *   ircontain  irc_tc_egress (its own skeleton, nothing pinned), NHOSTS
 *              hosts quarantined, none of them the destination: it passes
 *   bare pass  ref_tc_pass, which only returns (the floor)
 *   ref hash   ref_tc_hash: one lookup of the destination among the same
 *              NHOSTS (scripts/bench/bench_ref.bpf.c)
 * runs CMD (a transfer bounded in bytes and time) once under each, in a
 * different order each round, and divides the program's run time by its
 * run count, both the kernel's own (struct bpf_prog_info).  The kernel
 * keeps them only while statistics are enabled: BPF_ENABLE_STATS turns
 * them on for as long as this process lives, and the kernel turns them
 * off again when it ends, whichever way (kernel.bpf_stats_enabled itself
 * is never written).  Prints a table; not a test.
 *
 *   bench_tc IFACE ROUNDS NHOSTS CMD...
 */
#include <net/if.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bench_ref.skel.h"

#define MAX_ROUNDS	99

enum mech { T_IRC, T_BARE, T_REF, T__N };

static const char *const mech_name[T__N] = { "ircontain", "bare pass", "ref hash" };

/* One line on stderr, "bench_tc: <action> <object>: <reason>", and exit 1. */
static void __attribute__((format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_tc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The program's run time and count so far (kernel statistics). */
static void prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("read the statistics of program %d: %s", fd, strerror(errno));
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

/* Runs @argv to its end: its exit status (128 + signal), or -errno. */
static int run_cmd(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * One transfer with @fd attached to the hook's egress: *ns_per gets the
 * program's ns per run, *runs the number of runs (egress skbs).
 */
static void measure(const struct bpf_tc_hook *hook, int fd, const char *name,
		    char *const argv[], double *ns_per, __u64 *runs)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = fd);
	__u64 ns0, cnt0, ns1, cnt1;
	int err;

	err = bpf_tc_attach(hook, &o);
	if (err)
		die("attach %s to tc egress: %s", name, strerror(-err));
	prog_stats(fd, &ns0, &cnt0);
	err = run_cmd(argv);
	prog_stats(fd, &ns1, &cnt1);
	o.prog_fd = o.prog_id = o.flags = 0;
	bpf_tc_detach(hook, &o);
	if (err < 0)
		die("run the transfer under %s: %s", name, strerror(-err));
	if (err)
		die("the transfer under %s: %s exited %d", name, argv[0], err);
	/* A program that never ran measured nothing: say so, print nothing. */
	if (cnt1 == cnt0)
		die("%s: run_cnt 0 after the transfer: the program was not hit", name);
	*runs = cnt1 - cnt0;
	*ns_per = (double)(ns1 - ns0) / (double)*runs;
}

/* (x - floor) / (ref - floor), or a dash when the reference is at the floor. */
static void print_ratio(double x, double ref, double floor_ns)
{
	if (ref > floor_ns)
		printf(" %.2f× |", (x - floor_ns) / (ref - floor_ns));
	else
		printf(" – |");
}

int main(int argc, char **argv)
{
	static double res[T__N][MAX_ROUNDS], ratio[MAX_ROUNDS], net[MAX_ROUNDS];
	static __u64 runs[T__N][MAX_ROUNDS];
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	struct irc_net_bpf *irc;
	struct bench_ref_bpf *ref;
	double load0, med[T__N];
	int fd[T__N], stats_fd, rounds, nnet = 0, r, m, err;
	__u32 nhosts;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_tc IFACE ROUNDS NHOSTS CMD...\n");
		return 2;
	}
	rounds = (int)bench_arg_num("bench_tc", argv[2], 1, MAX_ROUNDS, "rounds");
	nhosts = (__u32)bench_arg_num("bench_tc", argv[3], 0, IRC_MAX_HOSTS, "hosts");
	hook.ifindex = (int)if_nametoindex(argv[1]);
	if (!hook.ifindex)
		die("find interface %s: %s", argv[1], strerror(errno));
	load0 = bench_loadavg();

	irc = tl_load();
	if (!irc)
		die("load ircontain's skeleton: %s (root needed)", strerror(errno));
	ref = bench_ref_bpf__open_and_load();
	if (!ref)
		die("load the reference programs: %s", strerror(errno));
	err = tl_fill_hosts(irc, AF_INET, 0, nhosts);
	if (!err)
		err = bench_fill_ref(bpf_map__fd(ref->maps.ref_hosts), 0, nhosts);
	if (err)
		die("fill the host maps: %s", strerror(-err));
	fd[T_IRC] = bpf_program__fd(irc->progs.irc_tc_egress);
	fd[T_BARE] = bpf_program__fd(ref->progs.ref_tc_pass);
	fd[T_REF] = bpf_program__fd(ref->progs.ref_tc_hash);

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		die("enable BPF run-time statistics: %s", strerror(errno));
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		die("create the clsact qdisc on %s: %s", argv[1], strerror(-err));

	for (r = 0; r < rounds; r++) {
		for (m = 0; m < T__N; m++) {
			/* A different order each round: no program always goes first. */
			int mm = (m + r) % T__N;

			measure(&hook, fd[mm], mech_name[mm], argv + 4, &res[mm][r], &runs[mm][r]);
		}
		ratio[r] = res[T_IRC][r] / res[T_REF][r];
		if (res[T_REF][r] > res[T_BARE][r])
			net[nnet++] = (res[T_IRC][r] - res[T_BARE][r]) /
				      (res[T_REF][r] - res[T_BARE][r]);
	}
	close(stats_fd);

	printf("tc egress on real traffic: ns per egress skb (the kernel's run_time_ns / run_cnt per\n"
	       "program), %u hosts quarantined (not the destination: every skb passes), %d interleaved\n"
	       "rounds (ratios: the median of the rounds' own); load average %.2f at start, %.2f at\n"
	       "end (%ld CPUs)\n\n",
	       nhosts, rounds, load0, bench_loadavg(), sysconf(_SC_NPROCESSORS_ONLN));
	printf("| round | ircontain | bare pass | ref hash | ircontain ÷ ref hash | "
	       "(ircontain − bare) ÷ (ref − bare) | skbs (ircontain / bare / ref) |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (r = 0; r < rounds; r++) {
		printf("| %d | %.0f | %.0f | %.0f | %.2f× |", r + 1, res[T_IRC][r], res[T_BARE][r],
		       res[T_REF][r], ratio[r]);
		print_ratio(res[T_IRC][r], res[T_REF][r], res[T_BARE][r]);
		printf(" %llu / %llu / %llu |\n", (unsigned long long)runs[T_IRC][r],
		       (unsigned long long)runs[T_BARE][r], (unsigned long long)runs[T_REF][r]);
	}
	for (m = 0; m < T__N; m++)
		med[m] = bench_median(res[m], rounds);
	printf("| median | %.0f | %.0f | %.0f | %.2f× |", med[T_IRC], med[T_BARE], med[T_REF],
	       bench_median(ratio, rounds));
	if (nnet)
		printf(" %.2f× | |\n", bench_median(net, nnet));
	else
		printf(" – | |\n");

	bpf_tc_hook_destroy(&hook);
	bench_ref_bpf__destroy(ref);
	irc_net_bpf__destroy(irc);
	return 0;
}
