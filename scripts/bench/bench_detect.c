// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-packet cost of the network detectors in the XDP program, measured by
 * the kernel with BPF_PROG_TEST_RUN: a TCP SYN and an ACK with the
 * detectors off and on, from a source already watched, from a new source
 * each packet (an LRU insert), and the rare SYN that fires (trust lookups,
 * quarantine insert, offence history, finding).  Nothing is attached and
 * nothing is pinned.
 */
#include <stdlib.h>
#include <time.h>

#include "testlib.h"

#define REPEAT	1000000
#define ROUNDS	5
#define FRESH	20000	/* packets from distinct sources, one run each */
#define NS	1000000000ULL

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static __u32 median_ns(int prog, void *pkt, size_t len)
{
	__u32 ns[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		if (tl_run(prog, pkt, len, REPEAT, &ns[i]) < 0) {
			fprintf(stderr, "bench: test run failed\n");
			exit(1);
		}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u32);
	return ns[ROUNDS / 2];
}

/* Mean over FRESH packets, each from its own source (base + i). */
static __u32 fresh_ns(int prog, __u32 base)
{
	struct tl_pkt4 p;
	__u64 sum = 0;
	__u32 ns = 0, i;

	for (i = 0; i < FRESH; i++) {
		tl_pkt4(&p, tl_addr4(base + i), htonl(0xc0000201));
		if (tl_run(prog, &p, sizeof(p), 1, &ns) < 0) {
			fprintf(stderr, "bench: test run failed\n");
			exit(1);
		}
		sum += ns;
	}
	return (__u32)(sum / FRESH);
}

static void set_detectors(int fd, int on, __u32 threshold)
{
	struct irc_detcfg c = { .enforce = 1, .port_key = { 0x1234567890abcdefULL, 42 } };
	__u32 zero = 0, i;

	for (i = IRC_DET_PORTSCAN; i <= IRC_DET_SYNFLOOD; i++)
		c.det[i] = (struct irc_det){ .enabled = on, .action = IRC_ACT_QUAR_HOST,
			.severity = IRC_SEV_HIGH, .threshold = threshold, .window_ns = 10 * NS,
			.ttl_ns = 600 * NS, .factor = 2, .max_ttl_ns = 86400 * NS,
			.slow_threshold = threshold, .slow_window_ns = 600 * NS,
			.unverified_ttl_ns = 60 * NS };
	if (bpf_map_update_elem(fd, &zero, &c, BPF_ANY)) {
		fprintf(stderr, "bench: set detector config failed\n");
		exit(1);
	}
}

int main(void)
{
	struct irc_net_bpf *skel = tl_load();
	struct tl_pkt4 syn, ack;
	__u32 i;
	__u64 seen;
	struct irc_in6 k = { .addr = { [10] = 0xff, [11] = 0xff } };
	int xdp, cfg, ver;
	struct timespec ts;

	if (!skel) {
		fprintf(stderr, "bench: load skeleton failed (root needed)\n");
		return 1;
	}
	xdp = bpf_program__fd(skel->progs.irc_xdp_ingress);
	cfg = bpf_map__fd(skel->maps.IRC_MAP_DETCFG);
	ver = bpf_map__fd(skel->maps.IRC_MAP_VERIFIED);
	tl_pkt4(&syn, tl_addr4(7), htonl(0xc0000201));
	ack = syn;
	ack.tcp.ack = 1;
	ack.tcp.syn = 0;

	printf("Network detector cost per packet, ns (kernel-measured, BPF_PROG_TEST_RUN)\n\n");
	printf("| packet | detectors off | detectors on |\n|---|---:|---:|\n");
	set_detectors(cfg, 0, 1000000);
	printf("| ACK (established traffic) | %u | ", median_ns(xdp, &ack, sizeof(ack)));
	set_detectors(cfg, 1, 1000000);
	printf("%u |\n", median_ns(xdp, &ack, sizeof(ack)));
	set_detectors(cfg, 0, 1000000);
	printf("| SYN, source already watched | %u | ", median_ns(xdp, &syn, sizeof(syn)));
	set_detectors(cfg, 1, 1000000);
	printf("%u |\n", median_ns(xdp, &syn, sizeof(syn)));
	set_detectors(cfg, 0, 1000000);
	printf("| SYN, a new source each (LRU insert) | %u | ", fresh_ns(xdp, 100000));
	set_detectors(cfg, 1, 1000000);
	printf("%u |\n", fresh_ns(xdp, 200000));

	/* Threshold 1: every new source fires.  Verified, so it is quarantined. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	seen = (__u64)ts.tv_sec * NS + ts.tv_nsec;
	for (i = 0; i < FRESH; i++) {
		__u32 a = tl_addr4(300000 + i);

		memcpy(&k.addr[12], &a, 4);
		bpf_map_update_elem(ver, &k, &seen, BPF_ANY);
	}
	set_detectors(cfg, 1, 1);
	printf("| SYN that fires (verified source: quarantine, history, finding) | - | %u |\n",
	       fresh_ns(xdp, 300000));
	printf("\n(%d runs per row, median of %d; new-source rows: mean of %d single runs.)\n",
	       REPEAT, ROUNDS, FRESH);
	irc_net_bpf__destroy(skel);
	return 0;
}
