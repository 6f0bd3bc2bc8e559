// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-packet cost of ircontain's XDP and tc programs beside anchors, in
 * the same run, on the same packets:
 *   bare     a program that only returns (XDP_DROP / TC_ACT_OK): the floor
 *   ref      one hash lookup of the address and a drop on a hit
 *            (scripts/bench/bench_ref.bpf.c): the least such a filter does
 *   xdp-filter  Debian's xdp-tools object xdpfilt_alw_ip.o (libxdp1), whose
 *            map holds at most 10,000 addresses
 * for N = 1 ... 1M quarantined hosts, hit (source quarantined: dropped) and
 * miss (passed), with one hot address (BPF_PROG_TEST_RUN repeating one
 * packet HOT_REPEAT times) and with rotating addresses (ROT_REPEAT runs,
 * each with the next of 2^20 random addresses among the N, written into
 * the frame by a wrapper that tail-calls the program under test: the
 * lookups miss the CPU caches as under a real flood from many sources,
 * while the programs' own state stays warm).  The bare programs carry the
 * same wrapper in the rotating columns, so their figure is the floor of
 * each column.  Mechanisms run interleaved, round after round; each figure
 * is the median of the rounds (-r).  Ratios are of the cost above the floor
 * ((x - bare) / (anchor - bare)).  Nothing is attached, nothing pinned.
 *
 *   bench_packet [-n N] [-r ROUNDS] [DATAFILE]
 *     -n N       only N quarantined hosts (1 to IRC_MAX_HOSTS), not the list
 *     -r ROUNDS  interleaved rounds per figure (default 5, at most 64): more
 *                for a steadier median when comparing two builds
 *     DATAFILE   also writes the medians for the plot
 */
#include <unistd.h>

#include "bench.h"
#include "bench_ref.skel.h"

#define HOT_REPEAT	200000
#define ROT_REPEAT	(1 << 18)
#define ROT_ADDRS	(1U << 20)	/* as in bench_ref.bpf.c */
#define ROUNDS		5	/* default of -r */
#define MAX_ROUNDS	64
#define XF_OBJ		"/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_ip.o"
#define XF_MAX		10000		/* its filter_ipv4's max_entries */
#define XF_SRC_DST	3		/* its MAP_FLAG_SRC | MAP_FLAG_DST */
#define OTHER		0xc0000201u	/* 192.0.2.1, never in a table */

enum mech { M_BARE, M_REF, M_XF, M_IRC, M_TBARE, M_TREF, M_TIRC, M__N };
enum kase { HOT_HIT, HOT_MISS, ROT_HIT, ROT_MISS, K__N };

static const char *const mech_name[M__N] = {
	"XDP bare drop", "XDP ref hash", "XDP xdp-filter", "XDP ircontain",
	"tc bare pass", "tc ref hash", "tc ircontain",
};

struct mech_def {
	int fd;
	int tc;			/* address is the destination */
	int hit, miss;		/* verdicts */
};

static struct mech_def mech[M__N];
static struct bench_ref_bpf *ref;
static int rot_xdp_fd, rot_tc_fd, rot_xdp_map, rot_tc_map, rot_addrs_map;

static void die(const char *what)
{
	fprintf(stderr, "bench_packet: %s\n", what);
	exit(1);
}

static double run_hot(const struct mech_def *m, __u32 addr, int miss)
{
	struct tl_pkt4 p;
	__u32 ns;
	int v;

	if (m->tc)
		tl_pkt4(&p, htonl(OTHER), addr);
	else
		tl_pkt4(&p, addr, htonl(OTHER));
	v = tl_run(m->fd, &p, sizeof(p), HOT_REPEAT, &ns);
	if (v != (miss ? m->miss : m->hit))
		die("unexpected verdict (hot)");
	return ns;
}

/*
 * Rotating addresses: the wrapper rot_xdp/rot_tc writes the next address
 * of the hit or miss set into the frame and tail-calls @m's program.
 */
static double run_rot(const struct mech_def *m, int miss)
{
	int slot = 0, fd = m->tc ? rot_tc_map : rot_xdp_map;
	struct tl_pkt4 p;
	__u32 ns;
	int v;

	if (bpf_map_update_elem(fd, &slot, &m->fd, BPF_ANY))
		die("set the tail call failed");
	ref->bss->rot_base = miss ? ROT_ADDRS : 0;
	tl_pkt4(&p, htonl(OTHER), htonl(OTHER));
	v = tl_run(m->tc ? rot_tc_fd : rot_xdp_fd, &p, sizeof(p), ROT_REPEAT, &ns);
	if (v != (miss ? m->miss : m->hit))
		die("unexpected verdict (rotating)");
	return ns;
}

/* Random addresses among the @n quarantined (hit) and outside them (miss). */
static void make_rot(__u32 n)
{
	static __u32 keys[2 * ROT_ADDRS], vals[2 * ROT_ADDRS];
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 i, cnt = 2 * ROT_ADDRS;

	for (i = 0; i < ROT_ADDRS; i++) {
		keys[i] = i;
		vals[i] = tl_addr4((__u32)random() % n);
		keys[ROT_ADDRS + i] = ROT_ADDRS + i;
		vals[ROT_ADDRS + i] = htonl(0x0b000000u + ((__u32)random() & 0xffffff));
	}
	if (bpf_map_update_batch(rot_addrs_map, keys, vals, &cnt, &bo))
		die("fill the rotating addresses failed");
}

static int fill_xf(int fd, __u32 from, __u32 to, int ncpu)
{
	__u64 *v = calloc(ncpu, sizeof(*v));
	int i, err = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < ncpu; i++)
		v[i] = XF_SRC_DST;
	for (; from < to && !err; from++) {
		__u32 k = tl_addr4(from);

		if (bpf_map_update_elem(fd, &k, v, BPF_ANY))
			err = -errno;
	}
	free(v);
	return err;
}

static struct bpf_object *load_xf(int *prog_fd, int *map_fd)
{
	struct bpf_object *obj = bpf_object__open_file(XF_OBJ, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;

	if (!obj)
		return NULL;
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	if (bpf_object__load(obj)) {
		bpf_object__close(obj);
		return NULL;
	}
	prog = bpf_object__find_program_by_name(obj, "xdpfilt_alw_ip");
	map = bpf_object__find_map_by_name(obj, "filter_ipv4");
	if (!prog || !map) {
		bpf_object__close(obj);
		return NULL;
	}
	*prog_fd = bpf_program__fd(prog);
	*map_fd = bpf_map__fd(map);
	return obj;
}

static double net(double x, double floor_ns)
{
	return x > floor_ns ? x - floor_ns : 0.1;
}

int main(int argc, char **argv)
{
	static __u32 ns_list[] = { 1, 1000, 10000, 100000, IRC_MAX_HOSTS };
	static double res[MAX_ROUNDS][M__N][K__N];
	size_t ni, n_ns = sizeof(ns_list) / sizeof(ns_list[0]);
	int xf_map = -1, ref_map, ncpu = libbpf_num_possible_cpus();
	int r, m, k, floor_m, opt, rounds = ROUNDS;
	double med[M__N][K__N];
	struct irc_net_bpf *irc;
	struct bpf_object *xf;
	FILE *data = NULL;
	__u32 have = 0;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		switch (opt) {
		case 'n':
			ns_list[0] = (__u32)bench_arg_num("bench_packet", optarg, 1,
							  IRC_MAX_HOSTS, "-n");
			n_ns = 1;
			break;
		case 'r':
			rounds = (int)bench_arg_num("bench_packet", optarg, 1, MAX_ROUNDS, "-r");
			break;
		default:
			fprintf(stderr, "usage: bench_packet [-n N] [-r ROUNDS] [DATAFILE]\n");
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "bench_packet: '%s': one DATAFILE at most\n", argv[optind + 1]);
		return 2;
	}
	irc = tl_load();
	if (!irc)
		die("load ircontain's skeleton failed (root needed)");
	ref = bench_ref_bpf__open_and_load();
	if (!ref)
		die("load the reference programs failed");
	xf = load_xf(&mech[M_XF].fd, &xf_map);
	if (!xf)
		fprintf(stderr, "bench_packet: %s not loadable (install xdp-tools): its rows are left out\n",
			XF_OBJ);
	if (optind < argc && !(data = fopen(argv[optind], "w")))
		die("open the data file failed");
	mech[M_BARE] = (struct mech_def){ bpf_program__fd(ref->progs.ref_xdp_drop), 0, 1, 1 };
	mech[M_REF] = (struct mech_def){ bpf_program__fd(ref->progs.ref_xdp_hash), 0, 1, 2 };
	mech[M_XF].hit = 1;
	mech[M_XF].miss = 2;
	mech[M_IRC] = (struct mech_def){ bpf_program__fd(irc->progs.irc_xdp_ingress), 0, 1, 2 };
	mech[M_TBARE] = (struct mech_def){ bpf_program__fd(ref->progs.ref_tc_pass), 1, 0, 0 };
	mech[M_TREF] = (struct mech_def){ bpf_program__fd(ref->progs.ref_tc_hash), 1, 2, 0 };
	mech[M_TIRC] = (struct mech_def){ bpf_program__fd(irc->progs.irc_tc_egress), 1, 2, 0 };
	rot_xdp_fd = bpf_program__fd(ref->progs.rot_xdp);
	rot_tc_fd = bpf_program__fd(ref->progs.rot_tc);
	rot_xdp_map = bpf_map__fd(ref->maps.rot_xdp_prog);
	rot_tc_map = bpf_map__fd(ref->maps.rot_tc_prog);
	rot_addrs_map = bpf_map__fd(ref->maps.rot_addrs);
	ref_map = bpf_map__fd(ref->maps.ref_hosts);
	srandom(17);

	printf("Per-packet cost, ns (BPF_PROG_TEST_RUN, 64-byte IPv4 TCP frames; hot: %d runs of one packet;\n"
	       "rotating: %d runs, each with the next of 2^20 random addresses; median of %d\n"
	       "interleaved rounds)\n\n",
	       HOT_REPEAT, ROT_REPEAT, rounds);
	printf("| N hosts | mechanism | hot hit | hot miss | rotating hit | rotating miss |\n");
	printf("|---:|---|---:|---:|---:|---:|\n");
	if (data)
		fprintf(data, "# N mechanism hot_hit hot_miss rot_hit rot_miss (ns)\n");
	for (ni = 0; ni < n_ns; ni++) {
		__u32 n = ns_list[ni];
		int xf_ok = xf && n <= XF_MAX;

		if (tl_fill_hosts(irc, AF_INET, have, n) || bench_fill_ref(ref_map, have, n) ||
		    (xf_ok && fill_xf(xf_map, have, n, ncpu)))
			die("fill the maps failed");
		have = n;
		make_rot(n);
		for (r = 0; r < rounds; r++)
			for (m = 0; m < M__N; m++) {
				/* A different order each round: no mechanism always goes first. */
				int mm = (m + r) % M__N;
				const struct mech_def *d = &mech[mm];
				__u32 a = tl_addr4(n - 1);

				if (mm == M_XF && !xf_ok)
					continue;
				res[r][mm][HOT_HIT] = run_hot(d, a, 0);
				res[r][mm][HOT_MISS] = run_hot(d, htonl(0x0b000001), 1);
				res[r][mm][ROT_HIT] = run_rot(d, 0);
				res[r][mm][ROT_MISS] = run_rot(d, 1);
			}
		for (m = 0; m < M__N; m++) {
			if (m == M_XF && !xf_ok)
				continue;
			for (k = 0; k < K__N; k++) {
				double v[MAX_ROUNDS];

				for (r = 0; r < rounds; r++)
					v[r] = res[r][m][k];
				med[m][k] = bench_median(v, rounds);
			}
			printf("| %u | %s | %.1f | %.1f | %.1f | %.1f |\n", n, mech_name[m],
			       med[m][0], med[m][1], med[m][2], med[m][3]);
			if (data)
				fprintf(data, "%u \"%s\" %.1f %.1f %.1f %.1f\n", n, mech_name[m],
					med[m][0], med[m][1], med[m][2], med[m][3]);
		}
		printf("| %u | **ratios** (cost above bare) | | | | |\n", n);
		for (m = 0; m < 3; m++) {
			int a = m == 0 ? M_XF : m == 1 ? M_REF : M_TREF;
			int x = m == 2 ? M_TIRC : M_IRC;

			if (a == M_XF && !xf_ok)
				continue;
			floor_m = m == 2 ? M_TBARE : M_BARE;
			printf("| %u | %s ÷ %s |", n, mech_name[x], mech_name[a]);
			for (k = 0; k < K__N; k++)
				printf(" %.2f× |", net(med[x][k], med[floor_m][k]) /
				       net(med[a][k], med[floor_m][k]));
			printf("\n");
		}
		fflush(stdout);
	}
	if (data)
		fclose(data);
	if (xf)
		bpf_object__close(xf);
	bench_ref_bpf__destroy(ref);
	irc_net_bpf__destroy(irc);
	return 0;
}
