// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-packet cost of the XDP and tc programs against the number of
 * quarantined hosts and prefixes, measured by the kernel with
 * BPF_PROG_TEST_RUN (average ns per run over REPEAT runs; median of ROUNDS).
 * Nothing is attached and nothing is pinned.
 */
#include <stdlib.h>

#include "testlib.h"

#define REPEAT	1000000
#define ROUNDS	5

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static __u32 median_ns(int prog, void *pkt, size_t len, int want)
{
	__u32 ns[ROUNDS];
	int i, v;

	for (i = 0; i < ROUNDS; i++) {
		v = tl_run(prog, pkt, len, REPEAT, &ns[i]);
		if (v != want) {
			fprintf(stderr, "bench: verdict %d, expected %d\n", v, want);
			exit(1);
		}
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u32);
	return ns[ROUNDS / 2];
}

/* Adds @n /24 prefixes 100.64.0.0/24 and up (outside the host range). */
static int fill_prefixes(int fd, __u32 n)
{
	struct irc_qentry v = { .dir = IRC_DIR_BOTH, .plen = 24 };
	struct irc_lpm4 k = { .prefixlen = 24 };
	__u32 i, a;

	for (i = 0; i < n; i++) {
		a = htonl(0x64400000u + (i << 8));
		memcpy(k.addr, &a, 4);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

int main(void)
{
	static const __u32 hosts[] = { 0, 1, 1000, 100000, IRC_MAX_HOSTS };
	static const __u32 pfxs[] = { 0, 1000, IRC_MAX_PREFIXES };
	struct irc_net_bpf *skel = tl_load();
	__u32 have = 0, have_p = 0, other = htonl(0xc0000201);
	struct tl_pkt4 miss, hit, out_hit;
	int xdp, tc, q4, p4;
	size_t i, j;

	if (!skel) {
		fprintf(stderr, "bench: load skeleton failed (root needed)\n");
		return 1;
	}
	xdp = bpf_program__fd(skel->progs.irc_xdp_ingress);
	tc = bpf_program__fd(skel->progs.irc_tc_egress);
	q4 = bpf_map__fd(skel->maps.IRC_MAP_Q4_HOST);
	p4 = bpf_map__fd(skel->maps.IRC_MAP_Q4_PFX);

	printf("Per-packet cost, ns (kernel-measured, BPF_PROG_TEST_RUN, %d runs, median of %d)\n\n",
	       REPEAT, ROUNDS);
	printf("| exact hosts | prefixes | XDP pass (no match) | XDP drop (host hit) | tc pass | tc drop |\n");
	printf("|---:|---:|---:|---:|---:|---:|\n");
	for (j = 0; j < sizeof(pfxs) / sizeof(pfxs[0]); j++) {
		if (fill_prefixes(p4, pfxs[j]) < 0) {
			fprintf(stderr, "bench: fill prefixes failed\n");
			return 1;
		}
		have_p = pfxs[j];
		for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
			if (j && hosts[i] != 0 && hosts[i] != IRC_MAX_HOSTS)
				continue;
			if (hosts[i] > have && tl_fill(q4, AF_INET, have, hosts[i])) {
				fprintf(stderr, "bench: fill hosts failed\n");
				return 1;
			}
			if (hosts[i] > have)
				have = hosts[i];
			tl_pkt4(&miss, other, htonl(0xc0000202));
			tl_pkt4(&hit, tl_addr4(hosts[i] ? hosts[i] - 1 : 0), other);
			tl_pkt4(&out_hit, other, tl_addr4(hosts[i] ? hosts[i] - 1 : 0));
			printf("| %u | %u | %u | ", hosts[i], have_p,
			       median_ns(xdp, &miss, sizeof(miss), 2));
			if (hosts[i])
				printf("%u | ", median_ns(xdp, &hit, sizeof(hit), 1));
			else
				printf("- | ");
			printf("%u | ", median_ns(tc, &miss, sizeof(miss), 0));
			if (hosts[i])
				printf("%u |\n", median_ns(tc, &out_hit, sizeof(out_hit), 2));
			else
				printf("- |\n");
			fflush(stdout);
			/* Restart from an empty host table for the next prefix row. */
		}
		if (j + 1 < sizeof(pfxs) / sizeof(pfxs[0])) {
			long n;

			for (n = 0; bpf_map_get_next_key(q4, NULL, &other) == 0 && n < (long)IRC_MAX_HOSTS; n++)
				bpf_map_delete_elem(q4, &other);
			other = htonl(0xc0000201);
			have = 0;
		}
	}
	irc_net_bpf__destroy(skel);
	return 0;
}
