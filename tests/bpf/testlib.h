/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the BPF capacity test and the benchmarks: load the packet-path
 * skeleton with no pinning at all (nothing is written to bpffs, nothing is
 * attached), and build minimal Ethernet/IPv4/IPv6 TCP frames.
 */
#ifndef IRC_TESTLIB_H
#define IRC_TESTLIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "irc_net.skel.h"

static int tl_quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	if (!getenv("IRC_TEST_VERBOSE"))
		return 0;
	return vfprintf(stderr, f, ap);
}

/* Opens and loads the skeleton with every map private (unpinned). */
static inline struct irc_net_bpf *tl_load(void)
{
	struct irc_net_bpf *skel;
	struct bpf_map *map;

	libbpf_set_print(tl_quiet);
	skel = irc_net_bpf__open();
	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (irc_net_bpf__load(skel)) {
		irc_net_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct tl_pkt4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

struct tl_pkt6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

/* TCP SYN from @src to @dst (IPv4, network order), ports 40000 -> 80. */
static inline void tl_pkt4(struct tl_pkt4 *p, __u32 src, __u32 dst)
{
	memset(p, 0, sizeof(*p));
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.tot_len = htons(sizeof(p->ip) + sizeof(p->tcp));
	p->ip.saddr = src;
	p->ip.daddr = dst;
	p->tcp.source = htons(40000);
	p->tcp.dest = htons(80);
	p->tcp.doff = 5;
	p->tcp.syn = 1;
}

static inline void tl_pkt6(struct tl_pkt6 *p, const void *src, const void *dst)
{
	memset(p, 0, sizeof(*p));
	p->eth.h_proto = htons(ETH_P_IPV6);
	p->ip.version = 6;
	p->ip.nexthdr = IPPROTO_TCP;
	p->ip.hop_limit = 64;
	p->ip.payload_len = htons(sizeof(p->tcp));
	memcpy(&p->ip.saddr, src, 16);
	memcpy(&p->ip.daddr, dst, 16);
	p->tcp.source = htons(40000);
	p->tcp.dest = htons(80);
	p->tcp.doff = 5;
	p->tcp.syn = 1;
}

/*
 * Runs @prog_fd over @pkt @repeat times.  Returns the verdict (>= 0) or
 * -errno; *ns_per gets the kernel's average time per run.
 */
static inline int tl_run(int prog_fd, void *pkt, size_t len, int repeat,
			 __u32 *ns_per)
{
	char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	if (err)
		return -errno;
	if (ns_per)
		*ns_per = o.duration;
	return o.retval;
}

/* The i-th IPv4 test address, 10.0.0.0/8 and up, network order. */
static inline __u32 tl_addr4(__u32 i)
{
	return htonl(0x0a000000u + i);
}

/* The i-th IPv6 test address, 2001:db8::/96 + i. */
static inline void tl_addr6(__u32 i, struct irc_in6 *a)
{
	memset(a, 0, sizeof(*a));
	a->addr[0] = 0x20;
	a->addr[1] = 0x01;
	a->addr[2] = 0x0d;
	a->addr[3] = 0xb8;
	a->addr[12] = i >> 24;
	a->addr[13] = i >> 16;
	a->addr[14] = i >> 8;
	a->addr[15] = i;
}

/*
 * Puts hosts [from, to) of @family into hash @fd in batches; *@done: how
 * many went in (all of them, or those before the error returned).
 * Returns 0 or -errno (-E2BIG when the map is full).
 */
static inline int tl_fill_n(int fd, int family, __u32 from, __u32 to, __u32 *done)
{
	enum { BATCH = 8192 };
	static __u32 k4[BATCH];
	static struct irc_in6 k6[BATCH];
	static struct irc_qentry v[BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .flags = BPF_ANY);
	__u32 i, n;
	int err = 0;

	*done = 0;
	for (i = 0; i < BATCH; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].dir = IRC_DIR_BOTH;
		v[i].plen = family == AF_INET ? 32 : 128;
	}
	while (from < to && !err) {
		n = to - from < BATCH ? to - from : BATCH;
		for (i = 0; i < n; i++) {
			if (family == AF_INET)
				k4[i] = tl_addr4(from + i);
			else
				tl_addr6(from + i, &k6[i]);
		}
		if (bpf_map_update_batch(fd, family == AF_INET ? (void *)k4 : (void *)k6,
					 v, &n, &bo))
			err = -errno;
		from += n;
		*done += n;
	}
	return err;
}

/* tl_fill_n() without the count. */
static inline int tl_fill(int fd, int family, __u32 from, __u32 to)
{
	__u32 done;

	return tl_fill_n(fd, family, from, to, &done);
}

/*
 * Sets the irc_qbloom bytes of hosts [from, to) of @family, after setting
 * every byte of the family's element to @all (-1: leaving them).  Tests run
 * alone: a read and a write of the whole element (the writers set single
 * bytes instead).
 */
static inline int tl_qbloom(struct irc_net_bpf *skel, int family, __u32 from, __u32 to, int all)
{
	static __u8 v[IRC_QBLOOM_SLOTS];
	__u32 idx = family == AF_INET ? IRC_QTIER_V4 : IRC_QTIER_V6, a4;
	int fd = bpf_map__fd(skel->maps.IRC_MAP_QBLOOM);
	struct irc_in6 a6;

	if (bpf_map_lookup_elem(fd, &idx, v))
		return -errno;
	if (all >= 0)
		memset(v, all, sizeof(v));
	for (; from < to; from++) {
		if (family == AF_INET) {
			a4 = tl_addr4(from);
			v[irc_qbloom_slot(&a4, 0)] = 1;
		} else {
			tl_addr6(from, &a6);
			v[irc_qbloom_slot(&a6, 1)] = 1;
		}
	}
	return bpf_map_update_elem(fd, &idx, v, BPF_ANY) ? -errno : 0;
}

/*
 * Hosts [from, to) of @family as the writers put them (IRC_MAX_FRONT_HOSTS):
 * the front tier until it is full (with their irc_qbloom bytes), then the
 * family's flag, then the big map.
 */
static inline int tl_fill_hosts(struct irc_net_bpf *skel, int family, __u32 from, __u32 to)
{
	int v4 = family == AF_INET;
	int front = bpf_map__fd(v4 ? skel->maps.IRC_MAP_Q4_FRONT : skel->maps.IRC_MAP_Q6_FRONT);
	int big = bpf_map__fd(v4 ? skel->maps.IRC_MAP_Q4_HOST : skel->maps.IRC_MAP_Q6_HOST);
	__u32 idx = v4 ? IRC_QTIER_V4 : IRC_QTIER_V6, one = 1, done;
	int err = tl_fill_n(front, family, from, to, &done);

	if ((!err || err == -E2BIG) && tl_qbloom(skel, family, from, from + done, -1))
		return -EIO;
	if (err != -E2BIG)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.IRC_MAP_QTIER), &idx, &one, BPF_ANY))
		return -errno;
	return tl_fill(big, family, from + done, to);
}

#endif /* IRC_TESTLIB_H */
