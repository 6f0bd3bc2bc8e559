// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet-path tests for bpf/irc_net.bpf.c (irc_xdp_ingress, irc_tc_egress).
 *
 * The skeleton is loaded with every map's pin path cleared, so nothing is
 * pinned and the real pin dir is neither read nor written; nothing is
 * attached to any interface either: every packet goes through
 * BPF_PROG_TEST_RUN.  Each line of cases[] is one self-contained case: a
 * crafted frame, the map contents, the hook, and what must come out of it
 * (verdict, the change of every irc_stats counter summed over all CPUs,
 * the drops field of every quarantine entry).  The maps are emptied before
 * and after each case.
 *
 * Needs root (CAP_BPF + CAP_NET_ADMIN).  IRC_TEST_VERBOSE=1 shows libbpf's
 * log and the frame of every failing case.
 */
#include <linux/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "irc.h"
#include "entries.h"
#include "pins.h"
#include "irc_net.skel.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define T_ETH_HLEN	14
#define T_ETH_P_IP	0x0800
#define T_ETH_P_ARP	0x0806
#define T_ETH_P_IPV6	0x86DD
#define T_ETH_P_8021Q	0x8100
#define T_ETH_P_8021AD	0x88A8
#define T_TC_ACT_OK	0
#define T_TC_ACT_SHOT	2
#define PKT_MAX		512

/* ------------------------------------------------------------------ */
/* Table vocabulary                                                    */
/* ------------------------------------------------------------------ */

enum hook { XDP = 1, TC };
enum verdict { PASS = 1, DROP };
enum l3kind { L3_V4 = 1, L3_V6, L3_ARP };
enum frag { FRAG_NONE, FRAG_FIRST, FRAG_LATER };

/*
 * Quarantine entry expiry, CLOCK_BOOTTIME: none, 1 ns after boot, a second
 * ago, an hour from now.
 */
enum ttl { TTL_NONE, TTL_PAST, TTL_AGO, TTL_FUTURE };

struct pkt {
	enum l3kind l3;
	const char *src, *dst;
	__u8 proto;		/* IPPROTO_* */
	__u16 sport, dport;	/* TCP/UDP; ICMP and ICMPv6: sport = type */
	__u8 tcpflags;		/* TCP flags, 0 = a bare SYN */
	__u8 vlans;		/* 1 = 802.1Q, 2 = QinQ (802.1ad outer), 3 */
	__u8 optwords;		/* IPv4 options in 32-bit words */
	__u8 ihl;		/* IPv4 ihl override, 0 = computed */
	enum frag frag;		/* IPv4 fragment */
	/* IPv6 extension headers in order: H hop-by-hop (16 bytes),
	 * D dest opts, R routing, F first fragment, f later fragment (8 bytes
	 * each), A AH (24 bytes). */
	const char *ext;
	__u16 l3len;		/* keep only this many bytes from the L3 header */
	__u16 framelen;		/* keep only this many bytes of the frame */
	/* XDP only, set with LINEAR(n): the program sees the first n bytes,
	 * the rest of the frame sits in a fragment. */
	bool split;
	__u16 linear;
};

#define MAX_Q	6
#define MAX_A	2

struct qspec {
	const char *target;	/* "ADDR" = exact host (hash), "ADDR/N" = LPM */
	__u32 dir;
	enum ttl ttl;
	__u64 drops;		/* expected entry drops after the run */
};

struct aspec {
	const char *target;	/* "ADDR" (= /32, /128) or "ADDR/N" */
	__u32 flags;
};

struct tcase {
	const char *name;
	enum hook hook;
	struct pkt pkt;
	struct qspec q[MAX_Q];
	struct aspec a[MAX_A];
	__u32 cfg;		/* irc_config.flags */
	enum verdict want;
	__u64 st[IRC_STAT__MAX];	/* expected counter deltas */
	__u32 runs;		/* test-run repeat, 0 = 1 */
};

/* Shorthands for the table. */
#define P_TCP	IPPROTO_TCP
#define P_UDP	IPPROTO_UDP
#define P_ICMP	IPPROTO_ICMP
#define P_ICMP6	IPPROTO_ICMPV6

#define D_IN	IRC_DIR_IN
#define D_OUT	IRC_DIR_OUT
#define D_BOTH	IRC_DIR_BOTH

#define C_ISO	IRC_CFG_ISOLATE
#define C_DNS	IRC_CFG_ISO_DNS
#define C_DHCP	IRC_CFG_ISO_DHCP

#define A_ALWAYS	IRC_ALLOW_ALWAYS
#define A_ISO		IRC_ALLOW_ISOLATE

#define RXP	IRC_STAT_RX_PASS
#define RXA	IRC_STAT_RX_ALLOW
#define RXQ	IRC_STAT_RX_DROP_QUAR
#define RXI	IRC_STAT_RX_DROP_ISO
#define TXP	IRC_STAT_TX_PASS
#define TXA	IRC_STAT_TX_ALLOW
#define TXQ	IRC_STAT_TX_DROP_QUAR
#define TXI	IRC_STAT_TX_DROP_ISO
#define NONIP	IRC_STAT_NON_IP
#define BAD	IRC_STAT_MALFORMED
#define EXP	IRC_STAT_EXPIRED

/* This host and its peers. */
#define US4	"192.0.2.10"
#define US6	"2001:db8:ffff::10"
#define P4	"10.0.0.1"
#define P4B	"10.0.0.2"
#define P6	"2001:db8:1::1"
#define P6B	"2001:db8:1::2"

/* Any direction, then ingress (peer to us) and egress (us to peer). */
#define V4(s, d, pr, sp, dp, ...) { .l3 = L3_V4, .src = (s), .dst = (d), \
	.proto = (pr), .sport = (sp), .dport = (dp), __VA_ARGS__ }
#define V6(s, d, pr, sp, dp, ...) { .l3 = L3_V6, .src = (s), .dst = (d), \
	.proto = (pr), .sport = (sp), .dport = (dp), __VA_ARGS__ }
#define RX4(peer, ...)	V4((peer), US4, __VA_ARGS__)
#define TX4(peer, ...)	V4(US4, (peer), __VA_ARGS__)
#define RX6(peer, ...)	V6((peer), US6, __VA_ARGS__)
#define TX6(peer, ...)	V6(US6, (peer), __VA_ARGS__)
#define ARP(...) { .l3 = L3_ARP, __VA_ARGS__ }
#define LINEAR(n)	.split = true, .linear = (n)

#define Q(t, d, ...)	{ .target = (t), .dir = (d), __VA_ARGS__ }
#define AL(t, f)	{ .target = (t), .flags = (f) }

/* ------------------------------------------------------------------ */
/* The cases                                                           */
/* ------------------------------------------------------------------ */

static const struct tcase cases[] = {
/* --- nothing configured: every protocol passes and is counted once --- */
{ .name = "base_v4_tcp_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v4_udp_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 40000, 123), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v4_icmp_xdp", .hook = XDP, .pkt = RX4(P4, P_ICMP, 8, 0), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v4_tcp_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 443), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "base_v4_udp_tc", .hook = TC, .pkt = TX4(P4, P_UDP, 40000, 123), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "base_v4_icmp_tc", .hook = TC, .pkt = TX4(P4, P_ICMP, 0, 0), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "base_v6_tcp_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v6_udp_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 40000, 123), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v6_icmp6_echo_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 128, 0), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v6_ns_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 135, 0), .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v6_tcp_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 443), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "base_v6_udp_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 123), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "base_v6_icmp6_tc", .hook = TC, .pkt = TX6(P6, P_ICMP6, 129, 0), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "base_v4_other_host_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4B, D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "base_v6_other_host_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6B, D_BOTH) }, .want = PASS, .st = { [TXP] = 1 } },

/* --- exact host quarantine: ingress matches the source, egress the destination --- */
{ .name = "quar_v4_host_src_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "quar_v4_host_udp_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "quar_v4_host_icmp_xdp", .hook = XDP, .pkt = RX4(P4, P_ICMP, 8, 0), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "quar_v4_host_dst_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 443), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "quar_v4_host_icmp_tc", .hook = TC, .pkt = TX4(P4, P_ICMP, 8, 0), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "quar_v6_host_src_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "quar_v6_host_icmp6_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 128, 0), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "quar_v6_host_dst_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 123), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "quar_v4_xdp_ignores_dst", .hook = XDP, .pkt = V4(US4, P4, P_TCP, 1, 2), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "quar_v4_tc_ignores_src", .hook = TC, .pkt = V4(P4, US4, P_TCP, 1, 2), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "quar_v6_xdp_ignores_dst", .hook = XDP, .pkt = V6(US6, P6, P_TCP, 1, 2), .q = { Q(P6, D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "quar_v6_tc_ignores_src", .hook = TC, .pkt = V6(P6, US6, P_TCP, 1, 2), .q = { Q(P6, D_BOTH) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "quar_v4_host_3_runs_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 3) }, .want = DROP, .st = { [RXQ] = 3 }, .runs = 3 },
{ .name = "quar_v6_host_3_runs_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH, .drops = 3) }, .want = DROP, .st = { [TXQ] = 3 }, .runs = 3 },

/* --- direction --- */
{ .name = "dir_v4_in_only_xdp_drops", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_IN, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "dir_v4_in_only_tc_passes", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_IN) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "dir_v4_out_only_xdp_passes", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_OUT) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "dir_v4_out_only_tc_drops", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_OUT, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "dir_v6_in_only_xdp_drops", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_IN, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "dir_v6_in_only_tc_passes", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_IN) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "dir_v6_out_only_xdp_passes", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_OUT) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "dir_v6_out_only_tc_drops", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_OUT, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "dir_v4_pfx_in_only_tc_passes", .hook = TC, .pkt = TX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_IN) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "dir_v6_pfx_out_only_xdp_passes", .hook = XDP, .pkt = RX6("2001:db8:1:2::3", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_OUT) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "dir_v4_host_out_falls_to_pfx_in_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.3", D_OUT), Q("10.1.2.0/24", D_IN, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "dir_v4_pfx24_out_inside_pfx16_in_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_OUT), Q("10.1.0.0/16", D_IN, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "dir_v6_pfx64_in_inside_pfx48_out_tc", .hook = TC, .pkt = TX6("2001:db8:1:2::3", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_IN), Q("2001:db8:1::/48", D_OUT, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },

/* --- prefixes --- */
{ .name = "pfx_v4_24_covers_host_xdp", .hook = XDP, .pkt = RX4("10.1.2.77", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "pfx_v4_24_covers_first_addr_xdp", .hook = XDP, .pkt = RX4("10.1.2.0", P_UDP, 1, 2), .q = { Q("10.1.2.0/24", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "pfx_v4_24_covers_last_addr_tc", .hook = TC, .pkt = TX4("10.1.2.255", P_UDP, 1, 2), .q = { Q("10.1.2.0/24", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "pfx_v4_24_covers_host_tc", .hook = TC, .pkt = TX4("10.1.2.77", P_TCP, 40000, 443), .q = { Q("10.1.2.0/24", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "pfx_v4_24_not_next_net_xdp", .hook = XDP, .pkt = RX4("10.1.3.1", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "pfx_v4_24_not_prev_net_tc", .hook = TC, .pkt = TX4("10.1.1.255", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "pfx_v4_32_in_lpm_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4 "/32", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "pfx_v4_nested_longest_counts_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.0.0/16", D_BOTH), Q("10.1.2.0/24", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "pfx_v4_host_before_pfx_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.3", D_BOTH, .drops = 1), Q("10.1.2.0/24", D_BOTH) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "pfx_v6_64_covers_host_xdp", .hook = XDP, .pkt = RX6("2001:db8:1:2:aaaa::99", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "pfx_v6_64_covers_last_addr_tc", .hook = TC, .pkt = TX6("2001:db8:1:2:ffff:ffff:ffff:ffff", P_UDP, 1, 2), .q = { Q("2001:db8:1:2::/64", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "pfx_v6_64_covers_host_tc", .hook = TC, .pkt = TX6("2001:db8:1:2::5", P_TCP, 40000, 443), .q = { Q("2001:db8:1:2::/64", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "pfx_v6_64_not_next_net_xdp", .hook = XDP, .pkt = RX6("2001:db8:1:3::1", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "pfx_v6_64_not_next_net_tc", .hook = TC, .pkt = TX6("2001:db8:1:3::1", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_BOTH) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "pfx_v6_128_in_lpm_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6 "/128", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },

/* --- expiry (CLOCK_BOOTTIME) and the LPM retry on shorter prefixes --- */
{ .name = "ttl_v4_host_expired_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .ttl = TTL_PAST) }, .want = PASS, .st = { [RXP] = 1, [EXP] = 1 } },
{ .name = "ttl_v4_host_expired_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .ttl = TTL_PAST) }, .want = PASS, .st = { [TXP] = 1, [EXP] = 1 } },
{ .name = "ttl_v4_host_expired_1s_ago_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .ttl = TTL_AGO) }, .want = PASS, .st = { [RXP] = 1, [EXP] = 1 } },
{ .name = "ttl_v6_host_expired_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH, .ttl = TTL_AGO) }, .want = PASS, .st = { [RXP] = 1, [EXP] = 1 } },
{ .name = "ttl_v6_pfx_expired_tc", .hook = TC, .pkt = TX6("2001:db8:1:2::5", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_BOTH, .ttl = TTL_PAST) }, .want = PASS, .st = { [TXP] = 1, [EXP] = 1 } },
{ .name = "ttl_v4_host_future_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .ttl = TTL_FUTURE, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "ttl_v4_pfx_future_tc", .hook = TC, .pkt = TX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH, .ttl = TTL_FUTURE, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "ttl_v6_host_future_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH, .ttl = TTL_FUTURE, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "ttl_v4_expired_in_wrong_dir_not_counted_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_IN, .ttl = TTL_PAST) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "ttl_v4_expired_host_inside_live_pfx_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.3", D_BOTH, .ttl = TTL_PAST), Q("10.1.2.0/24", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1, [EXP] = 1 } },
{ .name = "ttl_v4_expired_24_inside_live_16_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH, .ttl = TTL_PAST), Q("10.1.0.0/16", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1, [EXP] = 1 } },
{ .name = "ttl_v4_expired_24_inside_live_16_tc", .hook = TC, .pkt = TX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH, .ttl = TTL_AGO), Q("10.1.0.0/16", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1, [EXP] = 1 } },
{ .name = "ttl_v6_expired_64_inside_live_48_xdp", .hook = XDP, .pkt = RX6("2001:db8:1:2::5", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_BOTH, .ttl = TTL_PAST), Q("2001:db8:1::/48", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1, [EXP] = 1 } },
{ .name = "ttl_v6_expired_64_inside_live_48_tc", .hook = TC, .pkt = TX6("2001:db8:1:2::5", P_TCP, 40000, 22), .q = { Q("2001:db8:1:2::/64", D_BOTH, .ttl = TTL_PAST), Q("2001:db8:1::/48", D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1, [EXP] = 1 } },
{ .name = "ttl_v4_expired_24_inside_expired_16_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH, .ttl = TTL_PAST), Q("10.1.0.0/16", D_BOTH, .ttl = TTL_PAST) }, .want = PASS, .st = { [RXP] = 1, [EXP] = 2 } },
{ .name = "ttl_v4_live_24_inside_expired_16_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH, .drops = 1), Q("10.1.0.0/16", D_BOTH, .ttl = TTL_PAST) }, .want = DROP, .st = { [RXQ] = 1 } },
/* IRC_LPM_RETRIES (4) retries after the first lookup, no more. */
{ .name = "ttl_v4_4_stale_prefixes_then_live_8_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22),
  .q = { Q("10.1.2.3/32", D_BOTH, .ttl = TTL_PAST), Q("10.1.2.0/28", D_BOTH, .ttl = TTL_PAST), Q("10.1.2.0/24", D_BOTH, .ttl = TTL_PAST),
	 Q("10.1.0.0/20", D_BOTH, .ttl = TTL_PAST), Q("10.0.0.0/8", D_BOTH, .drops = 1) },
  .want = DROP, .st = { [RXQ] = 1, [EXP] = 4 } },
{ .name = "ttl_v4_5_stale_prefixes_gives_up_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22),
  .q = { Q("10.1.2.3/32", D_BOTH, .ttl = TTL_PAST), Q("10.1.2.0/30", D_BOTH, .ttl = TTL_PAST), Q("10.1.2.0/28", D_BOTH, .ttl = TTL_PAST),
	 Q("10.1.2.0/24", D_BOTH, .ttl = TTL_PAST), Q("10.1.0.0/20", D_BOTH, .ttl = TTL_PAST), Q("10.0.0.0/8", D_BOTH) },
  .want = PASS, .st = { [RXP] = 1, [EXP] = 5 } },
{ .name = "ttl_v6_4_stale_prefixes_then_live_32_tc", .hook = TC, .pkt = TX6("2001:db8:1:2::5", P_TCP, 40000, 22),
  .q = { Q("2001:db8:1:2::5/128", D_BOTH, .ttl = TTL_PAST), Q("2001:db8:1:2::/64", D_BOTH, .ttl = TTL_PAST), Q("2001:db8:1::/56", D_BOTH, .ttl = TTL_PAST),
	 Q("2001:db8:1::/48", D_BOTH, .ttl = TTL_PAST), Q("2001:db8::/32", D_BOTH, .drops = 1) },
  .want = DROP, .st = { [TXQ] = 1, [EXP] = 4 } },

/* --- allowlist --- */
{ .name = "allow_v4_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH) }, .a = { AL(P4, A_ALWAYS) }, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "allow_v4_quarantined_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH) }, .a = { AL(P4, A_ALWAYS) }, .want = PASS, .st = { [TXA] = 1 } },
{ .name = "allow_v6_quarantined_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH) }, .a = { AL(P6, A_ALWAYS) }, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "allow_v6_pfx_covers_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH) }, .a = { AL("2001:db8:1::/64", A_ALWAYS) }, .want = PASS, .st = { [TXA] = 1 } },
{ .name = "allow_v4_pfx_covers_quarantined_pfx_xdp", .hook = XDP, .pkt = RX4("10.1.2.3", P_TCP, 40000, 22), .q = { Q("10.1.2.0/24", D_BOTH) }, .a = { AL("10.1.0.0/16", A_ALWAYS) }, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "allow_v4_other_host_no_effect_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .a = { AL(P4B, A_ALWAYS) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "allow_v4_unquarantined_counts_allow_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .a = { AL(P4, A_ALWAYS) }, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "allow_v4_tc_matches_dst_not_src", .hook = TC, .pkt = V4(P4, P4B, P_TCP, 1, 2), .q = { Q(P4B, D_BOTH, .drops = 1) }, .a = { AL(P4, A_ALWAYS) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "allow_iso_flag_not_isolated_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .a = { AL(P4, A_ISO) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "allow_iso_flag_not_isolated_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH, .drops = 1) }, .a = { AL(P6, A_ISO) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "allow_iso_flag_not_isolated_plain_pass_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .a = { AL(P4, A_ISO) }, .want = PASS, .st = { [RXP] = 1 } },

/* --- isolation --- */
{ .name = "iso_v4_tcp_xdp_drops", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_icmp_xdp_drops", .hook = XDP, .pkt = RX4(P4, P_ICMP, 8, 0), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_udp_tc_drops", .hook = TC, .pkt = TX4(P4, P_UDP, 40000, 123), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "iso_v6_tcp_xdp_drops", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v6_tcp_tc_drops", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "iso_v4_allow_always_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .a = { AL(P4, A_ALWAYS) }, .cfg = C_ISO, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "iso_v6_allow_always_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .a = { AL("2001:db8:1::/48", A_ALWAYS) }, .cfg = C_ISO, .want = PASS, .st = { [TXA] = 1 } },
{ .name = "iso_v4_allow_always_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH) }, .a = { AL(P4, A_ALWAYS) }, .cfg = C_ISO, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "iso_v4_allow_iso_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .a = { AL(P4, A_ISO) }, .cfg = C_ISO, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "iso_v4_allow_iso_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22), .a = { AL("10.0.0.0/24", A_ISO) }, .cfg = C_ISO, .want = PASS, .st = { [TXA] = 1 } },
{ .name = "iso_v6_allow_iso_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22), .a = { AL(P6, A_ISO) }, .cfg = C_ISO, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "iso_v4_allow_no_flags_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .a = { AL(P4, 0) }, .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
/* An isolation-only /32 inside an always /24: the /24 still applies (LPM walk). */
{ .name = "allow_iso_host_inside_always_pfx_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH) }, .a = { AL(P4, A_ISO), AL("10.0.0.0/24", A_ALWAYS) }, .want = PASS, .st = { [RXA] = 1 } },
{ .name = "allow_iso_host_inside_always_pfx_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q(P6, D_BOTH) }, .a = { AL(P6, A_ISO), AL("2001:db8:1::/64", A_ALWAYS) }, .want = PASS, .st = { [TXA] = 1 } },
{ .name = "allow_iso_host_inside_iso_pfx_not_isolated_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .a = { AL(P4, A_ISO), AL("10.0.0.0/24", A_ISO) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "iso_v4_allow_iso_other_host_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .a = { AL(P4B, A_ISO) }, .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
/* "exempt from isolation only": isolating must not lift a quarantine. */
{ .name = "iso_v4_allow_iso_quarantined_still_dropped_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .a = { AL(P4, A_ISO) }, .cfg = C_ISO, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "iso_v6_allow_iso_quarantined_still_dropped_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22), .q = { Q("2001:db8:1::/64", D_BOTH, .drops = 1) }, .a = { AL(P6, A_ISO) }, .cfg = C_ISO, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "iso_v4_quarantined_counts_quar_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .cfg = C_ISO, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "iso_v4_expired_entry_then_iso_drop_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .q = { Q(P4, D_BOTH, .ttl = TTL_PAST) }, .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1, [EXP] = 1 } },

/* --- isolation: DNS exemption --- */
{ .name = "iso_v4_dns_reply_no_flag_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dns_query_no_flag_drops_tc", .hook = TC, .pkt = TX4(P4, P_UDP, 40000, 53), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "iso_v4_dns_reply_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v4_dns_query_tc", .hook = TC, .pkt = TX4(P4, P_UDP, 40000, 53), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v4_dns_tcp_reply_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 53, 40000, .tcpflags = 0x10), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
/* --allow-dns is for answers: a SYN from port 53 is a connection attempt. */
{ .name = "iso_v4_dns_syn_from_53_dropped_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 53, 40000), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dns_udp_from_53_to_low_port_dropped_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 22), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dns_tcp_query_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 53), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v6_dns_reply_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v6_dns_query_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v6_dns_reply_no_flag_drops_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000), .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dns_inbound_query_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 40000, 53), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dns_outbound_reply_drops_tc", .hook = TC, .pkt = TX4(P4, P_UDP, 53, 40000), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "iso_v4_dns_quarantined_server_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000), .q = { Q(P4, D_BOTH, .drops = 1) }, .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "iso_v6_dns_quarantined_server_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53), .q = { Q(P6, D_BOTH, .drops = 1) }, .cfg = C_ISO | C_DNS, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "noiso_v4_dns_flag_alone_passes_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22), .cfg = C_DNS | C_DHCP, .want = PASS, .st = { [RXP] = 1 } },

/* --- isolation: DHCP exemption --- */
{ .name = "iso_v4_dhcp_offer_no_flag_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 67, 68), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dhcp_offer_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 67, 68), .cfg = C_ISO | C_DHCP, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v4_dhcp_discover_tc", .hook = TC, .pkt = V4("0.0.0.0", "255.255.255.255", P_UDP, 68, 67), .cfg = C_ISO | C_DHCP, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v4_dhcp_discover_no_flag_drops_tc", .hook = TC, .pkt = V4("0.0.0.0", "255.255.255.255", P_UDP, 68, 67), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "iso_v4_dhcp_client_to_us_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 68, 67), .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dhcp_tcp_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 67, 68), .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dhcp_wrong_own_port_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 67, 40000), .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v6_dhcp6_advertise_xdp", .hook = XDP, .pkt = RX6("fe80::1", P_UDP, 547, 546), .cfg = C_ISO | C_DHCP, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v6_dhcp6_solicit_tc", .hook = TC, .pkt = TX6("ff02::1:2", P_UDP, 546, 547), .cfg = C_ISO | C_DHCP, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v6_dhcp6_no_flag_drops_xdp", .hook = XDP, .pkt = RX6("fe80::1", P_UDP, 547, 546), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v6_dhcp_v4_ports_drops_xdp", .hook = XDP, .pkt = RX6("fe80::1", P_UDP, 67, 68), .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dhcp_v6_ports_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 547, 546), .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_dhcp_quarantined_server_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 67, 68), .q = { Q(P4, D_BOTH, .drops = 1) }, .cfg = C_ISO | C_DHCP, .want = DROP, .st = { [RXQ] = 1 } },

/* --- isolation: IPv6 neighbour discovery (133-137) always passes --- */
{ .name = "iso_v6_rs_133_tc", .hook = TC, .pkt = TX6("ff02::2", P_ICMP6, 133, 0), .cfg = C_ISO, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v6_ra_134_xdp", .hook = XDP, .pkt = RX6("fe80::1", P_ICMP6, 134, 0), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v6_ns_135_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 135, 0), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v6_ns_135_tc", .hook = TC, .pkt = TX6("ff02::1:ff00:1", P_ICMP6, 135, 0), .cfg = C_ISO, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v6_na_136_tc", .hook = TC, .pkt = TX6(P6, P_ICMP6, 136, 0), .cfg = C_ISO, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "iso_v6_redirect_137_xdp", .hook = XDP, .pkt = RX6("fe80::1", P_ICMP6, 137, 0), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "iso_v6_icmp6_132_drops_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 132, 0), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v6_icmp6_138_drops_tc", .hook = TC, .pkt = TX6(P6, P_ICMP6, 138, 0), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "iso_v6_echo_128_drops_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 128, 0), .cfg = C_ISO | C_DNS | C_DHCP, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_icmp_type_135_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_ICMP, 135, 0), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v4_proto58_type_135_drops_xdp", .hook = XDP, .pkt = RX4(P4, P_ICMP6, 135, 0), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "iso_v6_ns_quarantined_src_drops_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 135, 0), .q = { Q(P6, D_BOTH, .drops = 1) }, .cfg = C_ISO, .want = DROP, .st = { [RXQ] = 1 } },

/* --- non-IP and malformed frames --- */
{ .name = "nonip_arp_xdp", .hook = XDP, .pkt = ARP(), .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_arp_tc", .hook = TC, .pkt = ARP(), .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_arp_isolated_xdp", .hook = XDP, .pkt = ARP(), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_arp_isolated_tc", .hook = TC, .pkt = ARP(), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_arp_vlan_isolated_xdp", .hook = XDP, .pkt = ARP(.vlans = 1), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
/* Under 14 bytes: test runs refuse such frames, so the program is shown
 * only the first bytes of a full one (the rest in an XDP fragment). */
{ .name = "nonip_short_eth_13_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, LINEAR(13)), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_short_eth_6_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, LINEAR(6)), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_short_eth_0_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 1, 2, LINEAR(0)), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_truncated_vlan_tag_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .vlans = 1, .framelen = 16), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
{ .name = "nonip_truncated_vlan_tag_isolated_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 1, 2, .vlans = 2, .framelen = 20), .cfg = C_ISO, .want = PASS, .st = { [NONIP] = 1 } },
/* More VLAN tags than the parser skips: the sender is unknown, so malformed: dropped only while isolated. */
{ .name = "three_vlan_tags_isolated_dropped_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .vlans = 3), .q = { Q(P4, D_BOTH) }, .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v4_trunc_hdr_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .l3len = 10), .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_trunc_hdr_19_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .l3len = 19), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_trunc_hdr_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .l3len = 10), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
/* tc: test runs refuse an untagged IPv4/IPv6 frame shorter than its IP
 * header, so the truncated headers go behind a VLAN tag. */
{ .name = "bad_v4_vlan_trunc_hdr_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 1, 2, .vlans = 1, .l3len = 10), .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_vlan_trunc_hdr_isolated_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 1, 2, .vlans = 1, .l3len = 10), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v4_qinq_trunc_hdr_19_quarantined_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 1, 2, .vlans = 2, .l3len = 19), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_ip_hdr_split_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, LINEAR(14 + 12)), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v6_ip_hdr_split_quarantined_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 1, 2, LINEAR(14 + 39)), .q = { Q(P6, D_BOTH) }, .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_empty_l3_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .framelen = 14), .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_ihl_4_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .ihl = 4), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_ihl_4_isolated_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 1, 2, .ihl = 4), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v4_opts_past_end_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .optwords = 10, .l3len = 40), .q = { Q(P4, D_BOTH) }, .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v4_opts_past_end_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .optwords = 10, .l3len = 40), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v4_vlan_trunc_hdr_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 1, 2, .vlans = 1, .l3len = 8), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v6_trunc_hdr_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 1, 2, .l3len = 30), .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v6_vlan_trunc_hdr_39_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 1, 2, .vlans = 1, .l3len = 39), .q = { Q(P6, D_BOTH) }, .want = PASS, .st = { [BAD] = 1 } },
{ .name = "bad_v6_trunc_hdr_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 1, 2, .l3len = 30), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v6_vlan_trunc_hdr_isolated_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 1, 2, .vlans = 1, .l3len = 8), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
{ .name = "bad_v6_qinq_trunc_hdr_isolated_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 1, 2, .vlans = 2, .l3len = 20), .cfg = C_ISO, .want = DROP, .st = { [BAD] = 1 } },
/* Addresses are there, only the L4 header is cut: still judged by address. */
{ .name = "v4_trunc_l4_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .l3len = 22), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "v4_ports_in_frag_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, LINEAR(14 + 20 + 3)), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "v4_ports_in_linear_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, LINEAR(14 + 20 + 4)), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "v4_trunc_l4_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .l3len = 22), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "v6_trunc_ext_quarantined_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "H", .l3len = 44), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "v6_trunc_ext_isolated_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53, .ext = "H", .l3len = 44), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [TXI] = 1 } },

/* --- loopback passes even isolated or quarantined --- */
{ .name = "lo_v4_isolated_xdp", .hook = XDP, .pkt = V4("127.0.0.1", "127.0.0.1", P_TCP, 40000, 22), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "lo_v4_quarantined_xdp", .hook = XDP, .pkt = RX4("127.0.0.1", P_TCP, 40000, 22), .q = { Q("127.0.0.1", D_BOTH) }, .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "lo_v4_pfx8_quarantined_tc", .hook = TC, .pkt = TX4("127.1.2.3", P_TCP, 40000, 22), .q = { Q("127.0.0.0/8", D_BOTH) }, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "lo_v4_isolated_tc", .hook = TC, .pkt = TX4("127.0.0.1", P_UDP, 40000, 9999), .cfg = C_ISO, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "lo_v6_isolated_xdp", .hook = XDP, .pkt = V6("::1", "::1", P_TCP, 40000, 22), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "lo_v6_quarantined_isolated_tc", .hook = TC, .pkt = TX6("::1", P_TCP, 40000, 22), .q = { Q("::1", D_BOTH) }, .cfg = C_ISO, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "lo_v6_quarantined_xdp", .hook = XDP, .pkt = RX6("::1", P_UDP, 40000, 22), .q = { Q("::1/128", D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "lo_v6_not_loopback_2_isolated_xdp", .hook = XDP, .pkt = RX6("::2", P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "lo_v6_not_loopback_100_1_isolated_tc", .hook = TC, .pkt = TX6("100::1", P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "lo_v6_not_loopback_1_0_1_isolated_xdp", .hook = XDP, .pkt = RX6("::1:0:0:1", P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "lo_v4_not_loopback_126_isolated_tc", .hook = TC, .pkt = TX4("126.255.255.255", P_TCP, 40000, 22), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },

/* --- VLAN: 802.1Q, QinQ --- */
{ .name = "vlan_v4_quarantined_src_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22, .vlans = 1), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "qinq_v4_quarantined_src_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22, .vlans = 2), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "vlan_v6_quarantined_src_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22, .vlans = 1), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "qinq_v6_quarantined_pfx_src_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22, .vlans = 2), .q = { Q("2001:db8:1::/64", D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "vlan_v4_quarantined_dst_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22, .vlans = 1), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "qinq_v6_quarantined_dst_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22, .vlans = 2), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "vlan_v4_unrelated_passes_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22, .vlans = 1), .q = { Q(P4B, D_BOTH) }, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "qinq_v6_unrelated_passes_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 22, .vlans = 2), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "qinq_v4_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .vlans = 2), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "vlan_v6_ns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 135, 0, .vlans = 1), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "vlan_v4_isolated_drops_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22, .vlans = 1), .cfg = C_ISO, .want = DROP, .st = { [TXI] = 1 } },

/* --- IPv4 options --- */
{ .name = "opts_v4_ihl7_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22, .optwords = 2), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "opts_v4_ihl15_quarantined_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22, .optwords = 10), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "opts_v4_ihl7_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .optwords = 2), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "opts_v4_ihl15_dhcp_isolated_tc", .hook = TC, .pkt = TX4(P4, P_UDP, 68, 67, .optwords = 10), .cfg = C_ISO | C_DHCP, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "opts_v4_ihl6_unrelated_passes_xdp", .hook = XDP, .pkt = RX4(P4, P_TCP, 40000, 22, .optwords = 1), .want = PASS, .st = { [RXP] = 1 } },

/* --- IPv4 fragments: only the first carries ports --- */
{ .name = "frag_v4_first_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .frag = FRAG_FIRST), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "frag_v4_later_dns_isolated_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .frag = FRAG_LATER), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "frag_v4_later_dns_isolated_tc", .hook = TC, .pkt = TX4(P4, P_UDP, 40000, 53, .frag = FRAG_LATER), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [TXI] = 1 } },
{ .name = "frag_v4_first_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .frag = FRAG_FIRST), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "frag_v4_later_quarantined_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .frag = FRAG_LATER), .q = { Q(P4, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "frag_v4_later_quarantined_tc", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 22, .frag = FRAG_LATER), .q = { Q("10.0.0.0/24", D_OUT, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "frag_v4_later_unrelated_passes_xdp", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000, .frag = FRAG_LATER), .want = PASS, .st = { [RXP] = 1 } },

/* --- IPv6 extension headers --- */
{ .name = "ext_v6_frag_first_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "F"), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "ext_v6_frag_later_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "f"), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "ext_v6_frag_later_ns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 135, 0, .ext = "f"), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "ext_v6_frag_first_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53, .ext = "F"), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "ext_v6_frag_later_quarantined_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "f"), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "ext_v6_frag_later_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53, .ext = "f"), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "ext_v6_frag_later_unrelated_passes_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53, .ext = "f"), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "ext_v6_hbh_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "H"), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "ext_v6_hbh_dns_isolated_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53, .ext = "H"), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "ext_v6_hbh_ns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 135, 0, .ext = "H"), .cfg = C_ISO, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "ext_v6_hbh_echo_isolated_drops_xdp", .hook = XDP, .pkt = RX6(P6, P_ICMP6, 128, 0, .ext = "H"), .cfg = C_ISO, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "ext_v6_hbh_quarantined_xdp", .hook = XDP, .pkt = RX6(P6, P_TCP, 40000, 22, .ext = "H"), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
{ .name = "ext_v6_hbh_unrelated_passes_tc", .hook = TC, .pkt = TX6(P6, P_TCP, 40000, 22, .ext = "H"), .want = PASS, .st = { [TXP] = 1 } },
{ .name = "ext_v6_hbh_dst_rt_frag_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "HDRF"), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "ext_v6_ah_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "A"), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "ext_v6_hbh_ah_dhcp6_isolated_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 546, 547, .ext = "HA"), .cfg = C_ISO | C_DHCP, .want = PASS, .st = { [TXP] = 1 } },
{ .name = "ext_v6_six_ext_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "HDDDDD"), .cfg = C_ISO | C_DNS, .want = PASS, .st = { [RXP] = 1 } },
{ .name = "ext_v6_seven_ext_dns_isolated_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .ext = "HDDDDDD"), .cfg = C_ISO | C_DNS, .want = DROP, .st = { [RXI] = 1 } },
{ .name = "ext_v6_seven_ext_quarantined_tc", .hook = TC, .pkt = TX6(P6, P_UDP, 40000, 53, .ext = "HDDDDDD"), .q = { Q(P6, D_BOTH, .drops = 1) }, .want = DROP, .st = { [TXQ] = 1 } },
{ .name = "ext_v6_vlan_hbh_frag_quarantined_xdp", .hook = XDP, .pkt = RX6(P6, P_UDP, 53, 40000, .vlans = 1, .ext = "Hf"), .q = { Q(P6, D_IN, .drops = 1) }, .want = DROP, .st = { [RXQ] = 1 } },
};

/* ------------------------------------------------------------------ */
/* State, logging, assertions                                          */
/* ------------------------------------------------------------------ */

static struct irc_net_bpf *skel;
static bool verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (!verbose)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/* Selftest-style failure lines: "<case>:FAIL:<what> ..." */
static bool check_ok(const char *name, int line, const char *what, int err)
{
	if (!err)
		return true;
	fprintf(stderr, "%s:FAIL:%d %s: error %d (%s)\n", name, line, what,
		err, strerror(err < 0 ? -err : err));
	return false;
}

static bool check_eq(const char *name, int line, const char *what, __u64 got,
		     __u64 want)
{
	if (got == want)
		return true;
	fprintf(stderr, "%s:FAIL:%d %s: actual %llu != expected %llu\n", name,
		line, what, (unsigned long long)got, (unsigned long long)want);
	return false;
}

#define ASSERT_OK(err, name, what)	check_ok(name, __LINE__, what, err)
#define ASSERT_EQ(got, want, name, what) \
	check_eq(name, __LINE__, what, (__u64)(got), (__u64)(want))

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

struct wbuf {
	__u8 *b;
	size_t len, cap;
	bool overflow;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->overflow = true;
		return;
	}
	if (p)
		memcpy(w->b + w->len, p, n);
	else
		memset(w->b + w->len, 0, n);
	w->len += n;
}

static void put8(struct wbuf *w, __u8 v)
{
	put(w, &v, 1);
}

static void put16(struct wbuf *w, __u16 v)
{
	__u8 b[2] = { v >> 8, v & 0xff };

	put(w, b, 2);
}

static void put32(struct wbuf *w, __u32 v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static __u16 csum16(const __u8 *p, size_t n)
{
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static __u8 ext_proto(char c)
{
	switch (c) {
	case 'H': return IPPROTO_HOPOPTS;
	case 'D': return IPPROTO_DSTOPTS;
	case 'R': return IPPROTO_ROUTING;
	case 'F':
	case 'f': return IPPROTO_FRAGMENT;
	case 'A': return IPPROTO_AH;
	default:  return 255;
	}
}

/* The L4 header and a little payload. */
static void put_l4(struct wbuf *w, const struct pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
		put16(w, p->sport);
		put16(w, p->dport);
		put32(w, 1);			/* seq */
		put32(w, 0);			/* ack */
		put8(w, 5 << 4);		/* doff */
		put8(w, p->tcpflags ? p->tcpflags : 0x02);	/* SYN by default */
		put16(w, 65535);		/* window */
		put32(w, 0);			/* csum, urg */
		break;
	case IPPROTO_UDP:
		put16(w, p->sport);
		put16(w, p->dport);
		put16(w, 16);
		put16(w, 0);
		put(w, "payload!", 8);
		break;
	case IPPROTO_ICMP:
		put8(w, p->sport);		/* type */
		put8(w, 0);
		put16(w, 0);
		put32(w, 0x12340001);		/* id, seq */
		break;
	case IPPROTO_ICMPV6:
		put8(w, p->sport);		/* type */
		put8(w, 0);
		put16(w, 0);
		put32(w, 0);			/* reserved / flags */
		put(w, NULL, 16);		/* target address */
		break;
	default:
		put(w, NULL, 8);
	}
}

static bool parse_addr(const char *s, int *family, __u8 addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

/* Builds the frame described by @p; returns its length, 0 on a bad spec. */
static size_t build_frame(const struct pkt *p, __u8 *buf, size_t cap)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	__u8 l4b[64], src[16], dst[16];
	struct wbuf w = { .b = buf, .cap = cap };
	struct wbuf l4 = { .b = l4b, .cap = sizeof(l4b) };
	int sfam = 0, dfam = 0, i;
	size_t l3off, len;
	__u16 ethertype;

	switch (p->l3) {
	case L3_V4:
		ethertype = T_ETH_P_IP;
		break;
	case L3_V6:
		ethertype = T_ETH_P_IPV6;
		break;
	case L3_ARP:
		ethertype = T_ETH_P_ARP;
		break;
	default:
		return 0;
	}
	if (p->l3 != L3_ARP) {
		if (!p->src || !p->dst || !parse_addr(p->src, &sfam, src) ||
		    !parse_addr(p->dst, &dfam, dst) || sfam != dfam ||
		    sfam != (p->l3 == L3_V4 ? 4 : 6))
			return 0;
	}

	put(&w, dmac, 6);
	put(&w, smac, 6);
	for (i = 0; i < p->vlans; i++) {
		put16(&w, i == 0 && p->vlans > 1 ? T_ETH_P_8021AD : T_ETH_P_8021Q);
		put16(&w, 100 + i);		/* TCI: VID */
	}
	put16(&w, ethertype);
	l3off = w.len;

	put_l4(&l4, p);

	if (p->l3 == L3_ARP) {
		put16(&w, 1);			/* Ethernet */
		put16(&w, T_ETH_P_IP);
		put8(&w, 6);
		put8(&w, 4);
		put16(&w, 1);			/* request */
		put(&w, smac, 6);
		put32(&w, 0xc000020a);		/* 192.0.2.10 */
		put(&w, NULL, 6);
		put32(&w, 0x0a000001);		/* 10.0.0.1 */
	} else if (p->l3 == L3_V4) {
		__u8 ihl = p->ihl ? p->ihl : 5 + p->optwords;
		size_t hl = (5 + (size_t)p->optwords) * 4;
		__u16 frag = p->frag == FRAG_FIRST ? 0x2000 :
			     p->frag == FRAG_LATER ? 185 : 0;

		if (hl > 60)
			return 0;
		put8(&w, 0x40 | (ihl & 0xf));
		put8(&w, 0);
		put16(&w, hl + l4.len);
		put16(&w, 0x1c0e);		/* id */
		put16(&w, frag);
		put8(&w, 64);
		put8(&w, p->proto);
		put16(&w, 0);			/* csum, below */
		put(&w, src, 4);
		put(&w, dst, 4);
		for (i = 0; i < p->optwords * 4; i++)
			put8(&w, 1);		/* NOP */
		if (!w.overflow) {
			__u16 c = csum16(buf + l3off, hl);

			buf[l3off + 10] = c >> 8;
			buf[l3off + 11] = c & 0xff;
		}
		put(&w, l4b, l4.len);
	} else {
		const char *ext = p->ext ? p->ext : "";
		size_t n = strlen(ext), extlen = 0;

		for (i = 0; i < (int)n; i++) {
			if (ext_proto(ext[i]) == 255)
				return 0;
			extlen += ext[i] == 'H' ? 16 : ext[i] == 'A' ? 24 : 8;
		}
		put32(&w, 0x60000000);
		put16(&w, extlen + l4.len);
		put8(&w, n ? ext_proto(ext[0]) : p->proto);
		put8(&w, 64);
		put(&w, src, 16);
		put(&w, dst, 16);
		for (i = 0; i < (int)n; i++) {
			__u8 next = i + 1 < (int)n ? ext_proto(ext[i + 1]) :
						     p->proto;

			put8(&w, next);
			switch (ext[i]) {
			case 'H':		/* 16 bytes: PadN of 12 */
				put8(&w, 1);
				put8(&w, 1);
				put8(&w, 12);
				put(&w, NULL, 12);
				break;
			case 'D':		/* 8 bytes: PadN of 4 */
				put8(&w, 0);
				put8(&w, 1);
				put8(&w, 4);
				put(&w, NULL, 4);
				break;
			case 'R':		/* type 0, segments left 0 */
				put8(&w, 0);
				put(&w, NULL, 6);
				break;
			case 'F':		/* offset 0, M=1 */
				put8(&w, 0);
				put16(&w, 0x0001);
				put32(&w, 0xc0e);
				break;
			case 'f':		/* offset 185 (1480 B), M=0 */
				put8(&w, 0);
				put16(&w, 185 << 3);
				put32(&w, 0xc0e);
				break;
			case 'A':		/* payload len 4: 24 bytes */
				put8(&w, 4);
				put16(&w, 0);
				put32(&w, 0x100);	/* SPI */
				put32(&w, 1);		/* seq */
				put(&w, NULL, 12);	/* ICV */
				break;
			}
		}
		put(&w, l4b, l4.len);
	}
	if (w.overflow || l4.overflow)
		return 0;

	len = w.len;
	if (p->l3len && l3off + p->l3len < len)
		len = l3off + p->l3len;
	if (p->framelen && p->framelen < len)
		len = p->framelen;
	return len;
}

static void hexdump(const char *name, const __u8 *b, size_t n)
{
	size_t i;

	fprintf(stderr, "%s: frame (%zu bytes):", name, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", b[i]);
	fprintf(stderr, "\n");
}

/* ------------------------------------------------------------------ */
/* Maps                                                                */
/* ------------------------------------------------------------------ */

union anykey {
	__u32 v4;
	struct irc_in6 v6;
	struct irc_lpm4 l4;
	struct irc_lpm6 l6;
	__u8 raw[32];
};

struct target {
	struct bpf_map *map;
	union anykey key;
	size_t key_sz;
	__u32 plen;
};

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * "ADDR" -> exact host map (hash); "ADDR/N" -> the prefix map (LPM).  With
 * @allow, the allowlist LPM maps, "ADDR" meaning /32 or /128.
 */
static bool resolve(const char *s, bool allow, struct target *t)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	__u8 addr[16];
	int family;
	bool prefix = slash != NULL || allow;
	unsigned long plen;
	char *end;

	memset(t, 0, sizeof(*t));
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	if (slash)
		buf[slash - s] = '\0';
	if (!parse_addr(buf, &family, addr))
		return false;
	plen = family == 4 ? 32 : 128;
	if (slash) {
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 ||
		    plen > (family == 4 ? 32UL : 128UL))
			return false;
	}
	t->plen = plen;

	if (!prefix) {
		/* Where a new host goes (IRC_MAX_FRONT_HOSTS); test_host_tiers: the big map. */
		t->map = family == 4 ? skel->maps.irc_q4_front :
				       skel->maps.irc_q6_front;
		memcpy(t->key.raw, addr, family == 4 ? 4 : 16);
		t->key_sz = family == 4 ? sizeof(__u32) : sizeof(struct irc_in6);
		return true;
	}
	if (family == 4) {
		t->map = allow ? skel->maps.irc_allow4 : skel->maps.irc_q4_pfx;
		t->key.l4.prefixlen = plen;
		memcpy(t->key.l4.addr, addr, 4);
		t->key_sz = sizeof(struct irc_lpm4);
	} else {
		t->map = allow ? skel->maps.irc_allow6 : skel->maps.irc_q6_pfx;
		t->key.l6.prefixlen = plen;
		memcpy(t->key.l6.addr, addr, 16);
		t->key_sz = sizeof(struct irc_lpm6);
	}
	return true;
}

static struct bpf_map *entry_map(size_t i)
{
	switch (i) {
	case 0: return skel->maps.irc_q4_host;
	case 1: return skel->maps.irc_q6_host;
	case 2: return skel->maps.irc_q4_pfx;
	case 3: return skel->maps.irc_q6_pfx;
	case 4: return skel->maps.irc_allow4;
	case 5: return skel->maps.irc_allow6;
	case 6: return skel->maps.irc_q4_front;
	case 7: return skel->maps.irc_q6_front;
	default: return NULL;
	}
}

/* Empties every entry map and zeroes the config; 0 or -errno. */
static int runs_io(struct irc_droprun *v, int ncpu);

/* Every irc_qbloom byte of family @idx to @v. */
static int qbloom_all(__u32 idx, int v)
{
	static __u8 b[IRC_QBLOOM_SLOTS];

	memset(b, v, sizeof(b));
	return bpf_map__update_elem(skel->maps.irc_qbloom, &idx, sizeof(idx), b, sizeof(b),
				    BPF_ANY);
}

static int reset_maps(void)
{
	struct irc_config cfg = { .flags = 0 };
	struct bpf_map *map;
	union anykey key;
	__u32 zero = 0;
	size_t i;
	int n, fd, err;

	for (i = 0; (map = entry_map(i)); i++) {
		fd = bpf_map__fd(map);
		for (n = 0; n < 64; n++) {
			if (bpf_map_get_next_key(fd, NULL, &key))
				break;
			if (bpf_map_delete_elem(fd, &key))
				return -errno;
		}
		if (!bpf_map_get_next_key(fd, NULL, &key))
			return -ENOTEMPTY;
		if (errno != ENOENT)
			return -errno;
	}
	err = bpf_map__update_elem(skel->maps.irc_config, &zero, sizeof(zero),
				   &cfg, sizeof(cfg), BPF_ANY);
	if (err)
		return -errno;
	/*
	 * The maps are empty: the big maps' flags may start over (only here),
	 * and the table's host entries, written straight into the front
	 * tiers, are looked up whatever their irc_qbloom slot (test_host_tiers
	 * clears it to use the writers').
	 */
	for (i = 0; i < 2; i++) {
		__u32 idx = (__u32)i;

		if (bpf_map__update_elem(skel->maps.irc_qtier, &idx, sizeof(idx), &zero,
					 sizeof(zero), BPF_ANY) || qbloom_all(idx, 1))
			return -errno;
	}
	/* A run of an earlier case's host must not count for this one. */
	n = libbpf_num_possible_cpus();
	return n > 0 ? runs_io(NULL, n) : -EINVAL;
}

static __u64 ttl_value(enum ttl ttl)
{
	switch (ttl) {
	case TTL_PAST:
		return 1;
	case TTL_AGO:
		return clock_ns(CLOCK_BOOTTIME) - 1000000000ULL;
	case TTL_FUTURE:
		return clock_ns(CLOCK_BOOTTIME) + 3600ULL * 1000000000ULL;
	default:
		return 0;
	}
}

static bool setup_maps(const struct tcase *tc)
{
	const char *name = tc->name;
	__u32 zero = 0;
	size_t i;
	int err;

	for (i = 0; i < MAX_Q && tc->q[i].target; i++) {
		const struct qspec *q = &tc->q[i];
		struct irc_qentry e = {
			.expires_ns = ttl_value(q->ttl),
			.created_ns = clock_ns(CLOCK_REALTIME),
			.dir = q->dir,
			.actor_uid = 0,
			.origin = IRC_ORIGIN_OPERATOR,
			.incident = 7,
		};
		struct target t;

		if (!ASSERT_EQ(resolve(q->target, false, &t), true, name,
			       q->target))
			return false;
		e.plen = t.plen;
		snprintf(e.reason, sizeof(e.reason), "test %s", name);
		err = bpf_map__update_elem(t.map, &t.key, t.key_sz, &e,
					   sizeof(e), BPF_NOEXIST);
		if (!ASSERT_OK(err ? -errno : 0, name, "add quarantine entry"))
			return false;
	}
	for (i = 0; i < MAX_A && tc->a[i].target; i++) {
		struct irc_allow a = {
			.flags = tc->a[i].flags,
			.created_ns = clock_ns(CLOCK_REALTIME),
		};
		struct target t;

		if (!ASSERT_EQ(resolve(tc->a[i].target, true, &t), true, name,
			       tc->a[i].target))
			return false;
		a.plen = t.plen;
		err = bpf_map__update_elem(t.map, &t.key, t.key_sz, &a,
					   sizeof(a), BPF_NOEXIST);
		if (!ASSERT_OK(err ? -errno : 0, name, "add allowlist entry"))
			return false;
	}
	if (tc->cfg) {
		struct irc_config cfg = {
			.flags = tc->cfg,
			.isolate_since_ns = tc->cfg & IRC_CFG_ISOLATE ?
					    clock_ns(CLOCK_REALTIME) : 0,
		};

		err = bpf_map__update_elem(skel->maps.irc_config, &zero,
					   sizeof(zero), &cfg, sizeof(cfg),
					   BPF_ANY);
		if (!ASSERT_OK(err ? -errno : 0, name, "set config"))
			return false;
	}
	return true;
}

/*
 * Every CPU's run of drops (struct irc_droprun): read into @v (@ncpu of
 * them), or cleared when @v is NULL.
 */
static int runs_io(struct irc_droprun *v, int ncpu)
{
	struct irc_droprun *buf = v;
	__u32 zero = 0;
	int err;

	if (!buf) {
		buf = aligned_alloc(_Alignof(struct irc_droprun), sizeof(*buf) * ncpu);
		if (!buf)
			return -ENOMEM;
		memset(buf, 0, sizeof(*buf) * ncpu);
		err = bpf_map__update_elem(skel->maps.irc_droprun, &zero, sizeof(zero),
					   buf, sizeof(*buf) * ncpu, BPF_ANY);
		free(buf);
	} else {
		err = bpf_map__lookup_elem(skel->maps.irc_droprun, &zero, sizeof(zero),
					   buf, sizeof(*buf) * ncpu, 0);
	}
	return err ? -errno : 0;
}

/* The drops of entry @e of @t: its own and every CPU's run of it. */
static int entry_drops(const struct target *t, const struct irc_qentry *e, __u64 *drops)
{
	int ncpu = libbpf_num_possible_cpus(), c, err;
	bool v4 = t->key_sz == sizeof(__u32);
	struct irc_droprun *v;

	*drops = e->drops;
	if (t->plen != (v4 ? 32 : 128))
		return 0;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = aligned_alloc(_Alignof(struct irc_droprun), sizeof(*v) * ncpu);
	if (!v)
		return -ENOMEM;
	err = runs_io(v, ncpu);
	for (c = 0; !err && c < ncpu; c++)
		if (v[c].count && v[c].family == (v4 ? 4U : 6U) &&
		    v[c].created_ns == e->created_ns && !memcmp(v[c].addr, &t->key, t->key_sz))
			*drops += v[c].count;
	free(v);
	return err;
}

/* Sums the per-CPU counters. */
static int read_stats(__u64 sum[IRC_STAT__MAX])
{
	int ncpu = libbpf_num_possible_cpus(), c, i, err;
	struct irc_stats *v;
	__u32 zero = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/* struct irc_stats is cache-line aligned; calloc() does not promise it. */
	v = aligned_alloc(_Alignof(struct irc_stats), sizeof(*v) * ncpu);
	if (!v)
		return -ENOMEM;
	memset(v, 0, sizeof(*v) * ncpu);
	err = bpf_map__lookup_elem(skel->maps.irc_stats, &zero, sizeof(zero),
				   v, sizeof(*v) * ncpu, 0);
	if (err) {
		err = -errno;
		goto out;
	}
	memset(sum, 0, sizeof(__u64) * IRC_STAT__MAX);
	for (c = 0; c < ncpu; c++)
		for (i = 0; i < IRC_STAT__MAX; i++)
			sum[i] += v[c].cnt[i];
out:
	free(v);
	return err;
}

/* ------------------------------------------------------------------ */
/* Running a case                                                      */
/* ------------------------------------------------------------------ */

/*
 * Runs @frame through the case's hook.  Test runs refuse frames shorter
 * than an Ethernet header; with LINEAR(n) an XDP program is shown only the
 * first n bytes (data_end of the context), the rest goes in a fragment.
 * Non-linear skbs (tc) are refused by this kernel's test run.
 */
static bool run_prog(const struct tcase *tc, const __u8 *frame, size_t len,
		     __u32 *retval)
{
	struct xdp_md xctx = { .data = 0 };
	struct bpf_program *prog;
	__u8 out[PKT_MAX + 64];
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (!ASSERT_EQ(len >= T_ETH_HLEN, true, tc->name,
		       "frame of at least 14 bytes (shorter: LINEAR(n))"))
		return false;
	if (tc->pkt.split) {
		if (!ASSERT_EQ(tc->hook, XDP, tc->name, "LINEAR() is XDP only") ||
		    !ASSERT_EQ(tc->pkt.linear < len, true, tc->name,
			       "LINEAR() shorter than the frame"))
			return false;
		xctx.data_end = tc->pkt.linear;
		opts.ctx_in = &xctx;
		opts.ctx_size_in = sizeof(xctx);
	}
	opts.data_in = frame;
	opts.data_size_in = len;
	opts.data_out = out;
	opts.data_size_out = sizeof(out);
	opts.repeat = tc->runs ? tc->runs : 1;

	prog = tc->hook == XDP ? skel->progs.irc_xdp_ingress :
				 skel->progs.irc_tc_egress;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (!ASSERT_OK(err ? -errno : 0, tc->name, "bpf_prog_test_run_opts"))
		return false;
	*retval = opts.retval;
	/* Neither program rewrites the packet. */
	if (!ASSERT_EQ(opts.data_size_out, len, tc->name, "data_size_out"))
		return false;
	return ASSERT_EQ(memcmp(frame, out, len), 0, tc->name,
			 "packet unchanged");
}

static __u32 verdict_code(enum hook hook, enum verdict v)
{
	if (hook == XDP)
		return v == DROP ? XDP_DROP : XDP_PASS;
	return v == DROP ? T_TC_ACT_SHOT : T_TC_ACT_OK;
}

static bool run_case(const struct tcase *tc)
{
	__u64 before[IRC_STAT__MAX], after[IRC_STAT__MAX];
	const char *name = tc->name;
	char what[96];
	__u8 frame[PKT_MAX];
	__u32 retval = ~0U;
	bool ok = false;
	size_t len = 0, i;

	if (!ASSERT_OK(reset_maps(), name, "reset maps before"))
		goto out;
	if (!ASSERT_EQ(tc->hook == XDP || tc->hook == TC, true, name, "hook") ||
	    !ASSERT_EQ(tc->want == PASS || tc->want == DROP, true, name,
		       "expected verdict"))
		goto out;
	len = build_frame(&tc->pkt, frame, sizeof(frame));
	if (!ASSERT_EQ(len > 0, true, name, "build frame"))
		goto out;
	if (!setup_maps(tc))
		goto out;
	if (!ASSERT_OK(read_stats(before), name, "read stats before"))
		goto out;
	if (!run_prog(tc, frame, len, &retval))
		goto out;

	ok = ASSERT_EQ(retval, verdict_code(tc->hook, tc->want), name,
		       tc->want == DROP ? "verdict (want drop)" :
					  "verdict (want pass)");
	if (!ASSERT_OK(read_stats(after), name, "read stats after")) {
		ok = false;
		goto out;
	}
	for (i = 0; i < IRC_STAT__MAX; i++) {
		snprintf(what, sizeof(what), "counter %s delta", irc_stat_name(i));
		ok &= ASSERT_EQ(after[i] - before[i], tc->st[i], name, what);
	}
	for (i = 0; i < MAX_Q && tc->q[i].target; i++) {
		const struct qspec *q = &tc->q[i];
		struct irc_qentry e;
		struct target t;
		__u64 drops;
		int err;

		if (!resolve(q->target, false, &t)) {
			ok = false;
			continue;
		}
		err = bpf_map__lookup_elem(t.map, &t.key, t.key_sz, &e,
					   sizeof(e), 0);
		snprintf(what, sizeof(what), "lookup entry %s", q->target);
		if (!ASSERT_OK(err ? -errno : 0, name, what)) {
			ok = false;
			continue;
		}
		snprintf(what, sizeof(what), "drops of entry %s", q->target);
		if (!ASSERT_OK(entry_drops(&t, &e, &drops), name, what))
			ok = false;
		else
			ok &= ASSERT_EQ(drops, q->drops, name, what);
		snprintf(what, sizeof(what), "dir of entry %s kept", q->target);
		ok &= ASSERT_EQ(e.dir, q->dir, name, what);
		snprintf(what, sizeof(what), "plen of entry %s kept", q->target);
		ok &= ASSERT_EQ(e.plen, t.plen, name, what);
	}
out:
	if (!ok && verbose && len > 0 && len <= sizeof(frame))
		hexdump(name, frame, len);
	if (!ASSERT_OK(reset_maps(), name, "reset maps after"))
		ok = false;
	return ok;
}

static void test_case(void **state)
{
	const struct tcase *tc = *state;

	if (!run_case(tc))
		fail_msg("case %s failed", tc->name);
}

/* ------------------------------------------------------------------ */
/* Checks on the harness itself                                        */
/* ------------------------------------------------------------------ */

static void test_case_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (j = i + 1; j < ARRAY_SIZE(cases); j++)
			if (!strcmp(cases[i].name, cases[j].name))
				fail_msg("case_table:FAIL: duplicate case name %s",
					 cases[i].name);
		if (cases[i].hook != XDP && cases[i].hook != TC)
			fail_msg("case_table:FAIL: %s: no hook", cases[i].name);
		if (cases[i].want != PASS && cases[i].want != DROP)
			fail_msg("case_table:FAIL: %s: no verdict",
				 cases[i].name);
	}
}

/* The frames are what the table says they are. */
static void test_frame_builder(void **state)
{
	static const struct pkt v4 = RX4(P4, P_UDP, 53, 68, .vlans = 2, .optwords = 1);
	static const struct pkt v6 = RX6(P6, P_ICMP6, 135, 0, .ext = "HF");
	__u8 b[PKT_MAX];
	size_t n;

	(void)state;
	n = build_frame(&v4, b, sizeof(b));
	/* 14 + 2 tags + 24 IPv4 + 8 UDP + 8 payload */
	assert_int_equal(n, 14 + 8 + 24 + 16);
	assert_int_equal(b[12] << 8 | b[13], T_ETH_P_8021AD);
	assert_int_equal(b[16] << 8 | b[17], T_ETH_P_8021Q);
	assert_int_equal(b[20] << 8 | b[21], T_ETH_P_IP);
	assert_int_equal(b[22], 0x46);
	assert_int_equal(csum16(b + 22, 24), 0);
	assert_int_equal(b[22 + 24] << 8 | b[22 + 25], 53);
	assert_int_equal(b[22 + 26] << 8 | b[22 + 27], 68);

	n = build_frame(&v6, b, sizeof(b));
	assert_int_equal(n, 14 + 40 + 16 + 8 + 24);
	assert_int_equal(b[14 + 6], IPPROTO_HOPOPTS);
	assert_int_equal(b[14 + 40], IPPROTO_FRAGMENT);
	assert_int_equal(b[14 + 56], IPPROTO_ICMPV6);
	assert_int_equal(b[14 + 64], 135);
	assert_int_equal(b[14 + 4] << 8 | b[14 + 5], 16 + 8 + 24);
}

/* @t's entry: added with @created (0: deleted), or its drops read into *@drops. */
static void host_entry(const struct target *t, __u64 created, __u64 *drops)
{
	struct irc_qentry e = { .created_ns = created, .dir = IRC_DIR_BOTH,
				.plen = t->plen, .origin = IRC_ORIGIN_OPERATOR };

	if (drops) {
		assert_int_equal(bpf_map__lookup_elem(t->map, &t->key, t->key_sz, &e,
						      sizeof(e), 0), 0);
		assert_int_equal(entry_drops(t, &e, drops), 0);
	} else if (created) {
		assert_int_equal(bpf_map__update_elem(t->map, &t->key, t->key_sz, &e,
						      sizeof(e), BPF_ANY), 0);
	} else {
		assert_int_equal(bpf_map__delete_elem(t->map, &t->key, t->key_sz, 0), 0);
	}
}

/* @runs drops of @frame by the XDP program. */
static void drop_runs(const struct tcase *tc, const __u8 *frame, size_t len)
{
	__u32 retval;

	assert_true(run_prog(tc, frame, len, &retval));
	assert_int_equal(retval, XDP_DROP);
}

/*
 * Keeps the calling thread on the CPU it runs on (to undo: *@old).  The
 * runs are per CPU: if the scheduler moved the test between two
 * BPF_PROG_TEST_RUNs, the second would start a run of its own on another
 * CPU, and the hand-over under test would not happen (a CI failure on a
 * machine with more CPUs).
 */
static void pin_cpu(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	assert_true(cpu >= 0);
	assert_int_equal(sched_getaffinity(0, sizeof(*old), old), 0);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
}

/*
 * Exact host @t's entry of @created that has counted @drops already (with
 * IRC_DROPRUN_AFTER or more, a heavy hitter).
 */
static void counted_entry(const struct target *t, __u64 created, __u64 drops)
{
	struct irc_qentry e = { .created_ns = created, .drops = drops, .dir = IRC_DIR_BOTH,
				.plen = t->plen, .origin = IRC_ORIGIN_OPERATOR };

	assert_int_equal(bpf_map__update_elem(t->map, &t->key, t->key_sz, &e, sizeof(e),
					      BPF_ANY), 0);
}

/* Every CPU's run (struct irc_droprun), into a buffer the caller frees. */
static struct irc_droprun *runs_snapshot(int ncpu)
{
	struct irc_droprun *v = aligned_alloc(_Alignof(struct irc_droprun), sizeof(*v) * ncpu);

	assert_non_null(v);
	assert_int_equal(runs_io(v, ncpu), 0);
	return v;
}

/*
 * Drops counted per CPU (struct irc_droprun), for hosts whose entries have
 * counted IRC_DROPRUN_AFTER drops (H below): a run of one host, other
 * hosts' drops beside it, the hand-over after IRC_DROPRUN_PATIENCE of
 * them (the run's count reaches its entry), and a released and re-added
 * host that does not inherit the count of a run of its old entry.  Below
 * H a drop is the entry's at once and leaves every run as it was, in the
 * front tier and the big map; the H-th drop is the last one so counted.
 */
static void test_drop_runs(void **state)
{
	struct tcase a = { .name = "droprun_a", .hook = XDP, .pkt = RX4(P4, P_UDP, 53, 40000) };
	struct tcase b = { .name = "droprun_b", .hook = XDP, .pkt = RX4(P4B, P_UDP, 53, 40000) };
	const __u64 H = IRC_DROPRUN_AFTER;
	int ncpu = libbpf_num_possible_cpus();
	struct irc_droprun *before, *after;
	__u8 fa[PKT_MAX], fb[PKT_MAX];
	__u32 idx = IRC_QTIER_V4, one = 1;
	struct target ta, tb, big;
	struct irc_qentry e;
	size_t la, lb;
	cpu_set_t cpus;
	__u64 d;
	int i;

	(void)state;
	assert_true(ncpu > 0);
	pin_cpu(&cpus);
	assert_int_equal(reset_maps(), 0);
	la = build_frame(&a.pkt, fa, sizeof(fa));
	lb = build_frame(&b.pkt, fb, sizeof(fb));
	assert_true(la > 0 && lb > 0);
	assert_true(resolve(P4, false, &ta));
	assert_true(resolve(P4B, false, &tb));
	counted_entry(&ta, 100, H);
	counted_entry(&tb, 200, H);

	a.runs = 5;
	drop_runs(&a, fa, la);
	host_entry(&ta, 0, &d);
	assert_int_equal(d, H + 5);
	/* The run starts empty: its first drop is on the entry, four in the run. */
	assert_int_equal(bpf_map__lookup_elem(ta.map, &ta.key, ta.key_sz, &e, sizeof(e), 0), 0);
	assert_int_equal(e.drops, H + 1);
	/* B's drops, fewer than the patience: on its entry, the run stays A's. */
	b.runs = IRC_DROPRUN_PATIENCE - 1;
	drop_runs(&b, fb, lb);
	assert_int_equal(bpf_map__lookup_elem(tb.map, &tb.key, tb.key_sz, &e, sizeof(e), 0), 0);
	assert_int_equal(e.drops, H + IRC_DROPRUN_PATIENCE - 1);
	host_entry(&ta, 0, &d);
	assert_int_equal(d, H + 5);
	/* One more: the run goes to B, A's five to A's entry. */
	b.runs = 1;
	drop_runs(&b, fb, lb);
	assert_int_equal(bpf_map__lookup_elem(ta.map, &ta.key, ta.key_sz, &e, sizeof(e), 0), 0);
	assert_int_equal(e.drops, H + 5);
	host_entry(&tb, 0, &d);
	assert_int_equal(d, H + IRC_DROPRUN_PATIENCE);
	b.runs = 10;
	drop_runs(&b, fb, lb);
	host_entry(&tb, 0, &d);
	assert_int_equal(d, H + IRC_DROPRUN_PATIENCE + 10);
	/* B released and quarantined again: a new entry, none of the run's count. */
	host_entry(&tb, 0, NULL);
	counted_entry(&tb, 300, H);
	host_entry(&tb, 0, &d);
	assert_int_equal(d, H);
	b.runs = 2;
	drop_runs(&b, fb, lb);
	host_entry(&tb, 0, &d);
	assert_int_equal(d, H + 2);

	/*
	 * A new entry (no drops yet), in the front tier, then in the big map:
	 * each drop on it at once, every run as it was.
	 */
	big = tb;
	big.map = skel->maps.irc_q4_host;
	assert_int_equal(bpf_map__update_elem(skel->maps.irc_qtier, &idx, sizeof(idx),
					      &one, sizeof(one), BPF_ANY), 0);
	before = runs_snapshot(ncpu);
	for (i = 0; i < 2; i++) {
		const struct target *t = i ? &big : &tb;

		host_entry(&tb, 0, NULL);
		host_entry(t, 400 + i, NULL);
		b.runs = IRC_DROPRUN_PATIENCE + 3;
		drop_runs(&b, fb, lb);
		assert_int_equal(bpf_map__lookup_elem(t->map, &t->key, t->key_sz, &e, sizeof(e),
						      0), 0);
		assert_int_equal(e.drops, IRC_DROPRUN_PATIENCE + 3);
		after = runs_snapshot(ncpu);
		assert_memory_equal(before, after, sizeof(*before) * ncpu);
		free(after);
	}
	/* One drop short of H: that drop is the entry's; the next one goes by the runs. */
	counted_entry(&big, 401, H - 1);
	b.runs = 1;
	drop_runs(&b, fb, lb);
	after = runs_snapshot(ncpu);
	assert_memory_equal(before, after, sizeof(*before) * ncpu);
	free(after);
	drop_runs(&b, fb, lb);
	after = runs_snapshot(ncpu);
	assert_memory_not_equal(before, after, sizeof(*before) * ncpu);
	host_entry(&big, 0, &d);
	assert_int_equal(d, H + 1);
	free(after);
	free(before);
	assert_int_equal(reset_maps(), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
}

static __u32 tier_flag(__u32 idx)
{
	__u32 v = 7;

	assert_int_equal(bpf_map__lookup_elem(skel->maps.irc_qtier, &idx, sizeof(idx), &v,
					      sizeof(v), 0), 0);
	return v;
}

/* Fills front tier @fd with IRC_MAX_FRONT_HOSTS hosts outside the table's. */
static void fill_front(int fd, int v4)
{
	struct irc_qentry e = { .dir = IRC_DIR_BOTH, .plen = v4 ? 32 : 128 };
	struct irc_in6 k = { .addr = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02 } };
	__u32 i, a;

	for (i = 0; i < IRC_MAX_FRONT_HOSTS; i++) {
		a = htonl(0x0a010000u + i);	/* 10.1.0.0 + i */
		k.addr[14] = i >> 8;
		k.addr[15] = i & 0xff;
		assert_int_equal(bpf_map_update_elem(fd, v4 ? (void *)&a : (void *)&k, &e,
						     BPF_NOEXIST), 0);
	}
}

/* The verdict of the XDP program on @tc's packet (one run). */
static __u32 verdict(struct tcase *tc)
{
	__u8 f[PKT_MAX];
	size_t len = build_frame(&tc->pkt, f, sizeof(f));
	__u32 retval;

	assert_true(len > 0);
	tc->runs = 1;
	assert_true(run_prog(tc, f, len, &retval));
	return retval;
}

/* What irc_qrecs_stream() gave: how many records, and the last. */
struct streamed {
	size_t n;
	struct irc_qrec last;
};

static int stream_count(const struct irc_qrec *r, void *ctx)
{
	struct streamed *s = ctx;

	s->n++;
	s->last = *r;
	return 0;
}

static void gc_count(void *ctx, int map, const struct irc_cidr *target, const void *key,
		     const void *val)
{
	(void)map, (void)target, (void)key, (void)val;
	++*(int *)ctx;
}

/*
 * The expiry sweep of a host in both tiers (@front, @big: @k's, both
 * empty): reported once when both copies expired, whichever tier is swept
 * first, and not at all while one copy is live; the expired copy goes.
 * @live[t]: whether tier t's copy (0 front, 1 big) is live.
 */
static void twins_expire(const struct irc_maps *m, const struct irc_key *k, int front, int big)
{
	static const struct { bool live[2]; int first; } c[] = {
		{ { false, true }, 0 }, { { false, true }, 1 }, { { true, false }, 0 },
		{ { true, false }, 1 }, { { false, false }, 0 }, { { false, false }, 1 },
	};
	const struct irc_qfam *f = irc_qfam_of(k->map);
	int fds[2] = { front, big }, tier[2] = { f->front, f->big };
	struct irc_qentry e = { .dir = IRC_DIR_BOTH }, got;
	size_t i;
	int t;

	e.plen = k->map == IRC_M_Q4_HOST ? 32 : 128;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int reported = 0, left = c[i].live[0] || c[i].live[1];

		for (t = 0; t < 2; t++) {
			e.expires_ns = c[i].live[t] ? 5000 : 1000;
			assert_int_equal(bpf_map_update_elem(fds[t], &k->k, &e, BPF_NOEXIST), 0);
		}
		/* At 2000: the expired copies are due, the live ones not. */
		for (t = 0; t < 2; t++)
			assert_true(irc_gc_map(m, tier[(c[i].first + t) % 2], 2000, gc_count,
					       &reported) >= 0);
		assert_int_equal(reported, !left);
		for (t = 0; t < 2; t++)
			assert_int_equal(!bpf_map_lookup_elem(fds[t], &k->k, &got), c[i].live[t]);
		if (left)
			assert_int_equal(irc_q_delete(m, k), 0);
	}
}

/*
 * A host that two racing writers put in both tiers (made here by writing
 * both maps): listed (collected and streamed) once, with its front entry,
 * which the packet path reads first; counted once; released from both
 * tiers once, one host or all; expired once (twins_expire).  @front, @big:
 * @k's tiers, both empty.
 */
static void host_twins(const struct irc_maps *m, const struct irc_key *k, int front, int big)
{
	struct irc_qentry in_front = { .dir = IRC_DIR_OUT, .origin = IRC_ORIGIN_OPERATOR },
			  in_big = { .dir = IRC_DIR_BOTH, .origin = IRC_ORIGIN_DETECTOR }, got;
	struct streamed st = { 0 };
	struct irc_qrec *recs;
	size_t n;
	int i;

	in_front.plen = in_big.plen = k->map == IRC_M_Q4_HOST ? 32 : 128;
	for (i = 0; i < 2; i++) {
		assert_int_equal(bpf_map_update_elem(front, &k->k, &in_front, BPF_NOEXIST), 0);
		assert_int_equal(bpf_map_update_elem(big, &k->k, &in_big, BPF_NOEXIST), 0);
		assert_int_equal(irc_q_entries(m, k->map), 1);
		if (i) {
			/* release --all: each host once. */
			assert_int_equal(irc_q_clear(m, k->map), 1);
			break;
		}
		assert_int_equal(irc_qrecs_collect(m, &recs, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(recs[0].val.dir, IRC_DIR_OUT);
		free(recs);
		assert_int_equal(irc_qrecs_stream(m, stream_count, &st), 0);
		assert_int_equal(st.n, 1);
		assert_int_equal(st.last.val.dir, IRC_DIR_OUT);
		assert_int_equal(irc_q_where(m, k, &got), irc_qfam_of(k->map)->front);
		/* release host: from both tiers, once. */
		assert_int_equal(irc_q_delete(m, k), 0);
		assert_int_equal(irc_q_delete(m, k), -ENOENT);
	}
	assert_int_not_equal(bpf_map_lookup_elem(front, &k->k, &got), 0);
	assert_int_not_equal(bpf_map_lookup_elem(big, &k->k, &got), 0);
	assert_int_equal(irc_q_entries(m, k->map), 0);
	twins_expire(m, k, front, big);
}

/*
 * The exact-host tiers (IRC_MAX_FRONT_HOSTS), through the userspace
 * writers (irc_q_update / irc_q_delete) and the XDP program: an entry in
 * the front tier is looked up only with its irc_qbloom byte set, which the
 * writer sets, and drops; one in the big map drops once the flag is set
 * (and is not looked up before, which is why every writer sets it first);
 * with the front tier full the next host goes to the big map with the
 * flag set, is dropped, updated in place and released; the flag stays.
 * A host in both tiers is read, counted and released once (host_twins).
 * Both families.
 */
static void test_host_tiers(void **state)
{
	static const struct { const char *a, *b; int fam; } f[] = {
		{ P4, P4B, 4 }, { P6, P6B, 6 },
	};
	struct irc_qentry e = { .dir = IRC_DIR_BOTH, .origin = IRC_ORIGIN_OPERATOR }, got;
	struct irc_cidr ca, cb;
	struct irc_key ka, kb;
	struct irc_maps m;
	const char *why;
	size_t i;

	(void)state;
	/* The skeleton's maps as the userspace writers see them. */
	assert_int_equal(irc_maps_of_obj(skel->obj, &m), 0);
	for (i = 0; i < 2; i++) {
		struct tcase ta = { .name = "tiers_a", .hook = XDP }, tb = ta;
		int v4 = f[i].fam == 4, front, big;
		__u32 idx = v4 ? IRC_QTIER_V4 : IRC_QTIER_V6, one = 1;

		ta.pkt = v4 ? (struct pkt)RX4(P4, P_UDP, 53, 40000) :
			      (struct pkt)RX6(f[i].a, P_UDP, 53, 40000);
		tb.pkt = v4 ? (struct pkt)RX4(P4B, P_UDP, 53, 40000) :
			      (struct pkt)RX6(f[i].b, P_UDP, 53, 40000);
		assert_int_equal(reset_maps(), 0);
		assert_int_equal(irc_parse_target(f[i].a, false, &ca, &why), 0);
		assert_int_equal(irc_parse_target(f[i].b, false, &cb, &why), 0);
		irc_qkey(&ca, &ka);
		irc_qkey(&cb, &kb);
		front = m.fd[irc_qfam_of(ka.map)->front];
		big = m.fd[ka.map];
		e.plen = v4 ? 32 : 128;

		/* In the front tier but not in irc_qbloom: not looked up (so writers set it first). */
		assert_int_equal(qbloom_all(idx, 0), 0);
		assert_int_equal(bpf_map_update_elem(front, &ka.k, &e, BPF_NOEXIST), 0);
		assert_int_equal(verdict(&ta), XDP_PASS);
		assert_int_equal(bpf_map_delete_elem(front, &ka.k), 0);
		/* A new host goes to the front tier (its byte set), and drops; the flag stays clear. */
		assert_int_equal(irc_q_update(&m, &ka, &e, BPF_ANY), 0);
		assert_int_equal(bpf_map_lookup_elem(front, &ka.k, &got), 0);
		assert_int_not_equal(bpf_map_lookup_elem(big, &ka.k, &got), 0);
		assert_int_equal(tier_flag(idx), 0);
		assert_int_equal(verdict(&ta), XDP_DROP);
		assert_int_equal(verdict(&tb), XDP_PASS);

		/* In the big map: looked up once the flag is set. */
		assert_int_equal(bpf_map_update_elem(big, &kb.k, &e, BPF_NOEXIST), 0);
		assert_int_equal(verdict(&tb), XDP_PASS);
		assert_int_equal(bpf_map__update_elem(skel->maps.irc_qtier, &idx, sizeof(idx),
						      &one, sizeof(one), BPF_ANY), 0);
		assert_int_equal(verdict(&tb), XDP_DROP);
		assert_int_equal(irc_q_lookup(&m, &kb, &got), 0);
		/* Its drop counted on the entry at once (no per-CPU run). */
		assert_int_equal(got.drops, 1);
		assert_int_equal(irc_q_delete(&m, &kb), 0);
		assert_int_equal(irc_q_delete(&m, &kb), -ENOENT);
		assert_int_equal(verdict(&tb), XDP_PASS);

		/* The front tier full (the flag clear again): the next one overflows. */
		assert_int_equal(reset_maps(), 0);
		fill_front(front, v4);
		assert_int_equal(irc_q_update(&m, &kb, &e, BPF_ANY), 0);
		assert_int_equal(tier_flag(idx), 1);
		assert_int_equal(bpf_map_lookup_elem(big, &kb.k, &got), 0);
		assert_int_not_equal(bpf_map_lookup_elem(front, &kb.k, &got), 0);
		assert_int_equal(verdict(&tb), XDP_DROP);
		assert_int_equal(irc_q_entries(&m, kb.map), IRC_MAX_FRONT_HOSTS + 1);
		/* Updated where it is: still one entry, in the big map. */
		e.dir = IRC_DIR_OUT;
		assert_int_equal(irc_q_update(&m, &kb, &e, BPF_ANY), 0);
		assert_int_equal(bpf_map_lookup_elem(big, &kb.k, &got), 0);
		assert_int_equal(got.dir, IRC_DIR_OUT);
		assert_int_equal(irc_q_entries(&m, kb.map), IRC_MAX_FRONT_HOSTS + 1);
		assert_int_equal(verdict(&tb), XDP_PASS);	/* inbound: not this direction */
		e.dir = IRC_DIR_BOTH;
		assert_int_equal(irc_q_update(&m, &kb, &e, BPF_EXIST), 0);
		assert_int_equal(verdict(&tb), XDP_DROP);
		/* Released: gone from the big map, passes; the flag is sticky. */
		assert_int_equal(irc_q_delete(&m, &kb), 0);
		assert_int_not_equal(irc_q_lookup(&m, &kb, &got), 0);
		assert_int_equal(verdict(&tb), XDP_PASS);
		assert_int_equal(tier_flag(idx), 1);
		/* Cleared: both tiers. */
		assert_int_equal(irc_q_update(&m, &kb, &e, BPF_ANY), 0);
		assert_int_equal(irc_q_clear(&m, kb.map), IRC_MAX_FRONT_HOSTS + 1);
		assert_int_equal(irc_q_entries(&m, kb.map), 0);
		assert_int_equal(tier_flag(idx), 1);
		host_twins(&m, &kb, front, big);
	}
	irc_maps_unmap_qbloom(&m);
	assert_int_equal(reset_maps(), 0);
}

/* Sums over CPUs of irc_evstat's samples attempted (seq) and held back. */
static void evstat_sum(__u64 *seq, __u64 *unsampled)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct irc_evstat *v;
	__u32 zero = 0;

	assert_true(ncpu > 0);
	v = aligned_alloc(_Alignof(struct irc_evstat), sizeof(*v) * ncpu);
	assert_non_null(v);
	assert_int_equal(bpf_map__lookup_elem(skel->maps.irc_evstat, &zero, sizeof(zero),
					      v, sizeof(*v) * ncpu, 0), 0);
	*seq = *unsampled = 0;
	for (c = 0; c < ncpu; c++) {
		*seq += v[c].seq;
		*unsampled += v[c].unsampled;
	}
	free(v);
}

/*
 * Drop samples under a flood: every drop is either sampled (a record
 * attempted) or counted as held back, none is lost from the count, and
 * no more are sampled than the per-CPU limiter allows (a burst of
 * IRC_SAMPLE_RATE, then IRC_SAMPLE_RATE a second, however long the runs
 * took).  The limiter is per CPU, so the test keeps to one.
 */
static void test_drop_samples(void **state)
{
	enum { RUNS = 2000 };
	struct tcase a = { .name = "drop_samples", .hook = XDP, .runs = RUNS,
			   .pkt = RX4(P4, P_UDP, 53, 40000) };
	__u64 seq0, un0, seq1, un1, t0, secs;
	__u8 fa[PKT_MAX];
	struct target ta;
	cpu_set_t cpus;
	size_t la;

	(void)state;
	pin_cpu(&cpus);
	assert_int_equal(reset_maps(), 0);
	la = build_frame(&a.pkt, fa, sizeof(fa));
	assert_true(la > 0);
	assert_true(resolve(P4, false, &ta));
	host_entry(&ta, 100, NULL);
	evstat_sum(&seq0, &un0);
	t0 = clock_ns(CLOCK_BOOTTIME);
	drop_runs(&a, fa, la);
	secs = (clock_ns(CLOCK_BOOTTIME) - t0) / 1000000000ULL + 1;
	evstat_sum(&seq1, &un1);
	assert_int_equal((seq1 - seq0) + (un1 - un0), RUNS);
	assert_true(seq1 - seq0 <= IRC_SAMPLE_RATE * (1 + secs));
	assert_int_equal(reset_maps(), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
}

static int tc_sample_cb(void *ctx, void *data, size_t size)
{
	const struct irc_ev_hdr *h = data;

	if (size >= sizeof(struct irc_ev_drop) && h->type == IRC_EV_DROP)
		memcpy(ctx, data, sizeof(struct irc_ev_drop));
	return 0;
}

/*
 * The sample of a tc drop (struct irc_ev_drop): the first IRC_SAMPLE_LEN
 * bytes of a longer frame, read from the skb (the tc program copies them
 * with bpf_skb_load_bytes, as it pulls nothing into the linear part when
 * the headers are there).  The limiter starts empty on this CPU, so the
 * one drop is sampled.
 */
static void test_tc_sample(void **state)
{
	struct tcase a = { .name = "tc_sample", .hook = TC, .pkt = TX4(P4, P_TCP, 40000, 443) };
	int ncpu = libbpf_num_possible_cpus();
	struct irc_ev_drop ev = { .h.type = 0 };
	__u8 frame[PKT_MAX];
	struct ring_buffer *rb;
	struct irc_evstat *v;
	struct target ta;
	cpu_set_t cpus;
	__u32 retval, zero = 0;
	size_t len, i;

	(void)state;
	assert_true(ncpu > 0);
	pin_cpu(&cpus);
	assert_int_equal(reset_maps(), 0);
	len = build_frame(&a.pkt, frame, sizeof(frame));
	assert_true(len > 0 && len < 200);
	for (i = len; i < 200; i++)
		frame[i] = (__u8)i;
	len = 200;
	assert_true(resolve(P4, false, &ta));
	host_entry(&ta, 100, NULL);
	v = aligned_alloc(_Alignof(struct irc_evstat), sizeof(*v) * ncpu);
	assert_non_null(v);
	memset(v, 0, sizeof(*v) * ncpu);
	assert_int_equal(bpf_map__update_elem(skel->maps.irc_evstat, &zero, sizeof(zero),
					      v, sizeof(*v) * ncpu, BPF_ANY), 0);
	free(v);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.irc_events), tc_sample_cb, &ev, NULL);
	assert_non_null(rb);
	assert_true(ring_buffer__consume(rb) >= 0);
	ev.h.type = 0;
	assert_true(run_prog(&a, frame, len, &retval));
	assert_int_equal(retval, T_TC_ACT_SHOT);
	assert_true(ring_buffer__consume(rb) >= 1);
	ring_buffer__free(rb);
	assert_int_equal(ev.h.type, IRC_EV_DROP);
	assert_int_equal(ev.dir, IRC_DIR_OUT);
	assert_int_equal(ev.pkt_len, len);
	assert_int_equal(ev.cap_len, IRC_SAMPLE_LEN);
	assert_memory_equal(ev.data, frame, IRC_SAMPLE_LEN);
	assert_int_equal(reset_maps(), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
}

/*
 * Every CPU's drops per interface (struct irc_ifdrops): zeroed when @v is
 * NULL, else summed into @v for ifindex @ifindex (the 'other' slot when
 * 0, every slot when ALL_IF): v[0] ingress, v[1] egress, per rule.
 */
#define ALL_IF	(~0U)

static void ifdrops_io(__u32 ifindex, __u64 v[2][IRC_IFDROP_RULES], __u32 fill_slot_ifindex)
{
	int ncpu = libbpf_num_possible_cpus(), c, i, d, k;
	struct irc_ifdrops *buf;
	__u32 zero = 0;

	assert_true(ncpu > 0);
	buf = calloc(ncpu, sizeof(*buf));
	assert_non_null(buf);
	if (!v) {
		/* @fill_slot_ifindex: every CPU's slot 1 held by that interface. */
		for (c = 0; c < ncpu; c++)
			buf[c].slot[1].ifindex = fill_slot_ifindex;
		assert_int_equal(bpf_map__update_elem(skel->maps.irc_ifdrops, &zero, sizeof(zero),
						      buf, sizeof(*buf) * ncpu, BPF_ANY), 0);
		free(buf);
		return;
	}
	assert_int_equal(bpf_map__lookup_elem(skel->maps.irc_ifdrops, &zero, sizeof(zero),
					      buf, sizeof(*buf) * ncpu, 0), 0);
	memset(v, 0, sizeof(__u64) * 2 * IRC_IFDROP_RULES);
	for (c = 0; c < ncpu; c++)
		for (i = 0; i <= IRC_IFDROP_SLOTS; i++) {
			const struct irc_ifdrop *s = i < IRC_IFDROP_SLOTS ? &buf[c].slot[i] :
								       &buf[c].other;
			bool mine = ifindex == ALL_IF ||
				    (i < IRC_IFDROP_SLOTS ? s->ifindex == ifindex && ifindex : !ifindex);

			for (d = 0; mine && d < 2; d++)
				for (k = 0; k < IRC_IFDROP_RULES; k++)
					v[d][k] += s->drops[d][k];
		}
	free(buf);
}

/* @runs of @frame through XDP as received on interface @ifindex. */
static __u32 xdp_on(__u32 ifindex, const __u8 *frame, size_t len, __u32 runs)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	__u8 out[PKT_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = runs,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.irc_xdp_ingress),
						&opts), 0);
	return opts.retval;
}

/*
 * Drops per interface (struct irc_ifdrops): XDP drops on lo (ifindex 1,
 * in every network namespace) in its slot, ingress, per rule; a pass
 * counts nothing; tc drops (the test run's skb is on lo) egress; an
 * interface whose slot another holds counts in 'other', never in that
 * one's.  Sums over all CPUs: any CPU count, no pinning.
 */
static void test_ifdrops(void **state)
{
	struct pkt quar = RX4(P4, P_UDP, 53, 40000), pass = RX4(P4B, P_UDP, 53, 40000);
	struct tcase tx = { .name = "ifdrops_tc", .hook = TC, .runs = 2,
			    .pkt = TX4(P4, P_UDP, 40000, 53) };
	struct irc_config iso = { .flags = IRC_CFG_ISOLATE };
	__u64 lo[2][IRC_IFDROP_RULES], other[2][IRC_IFDROP_RULES];
	__u8 fq[PKT_MAX], fp[PKT_MAX], ft[PKT_MAX];
	size_t lq, lp, lt;
	struct target ta;
	__u32 zero = 0, retval;

	(void)state;
	assert_int_equal(reset_maps(), 0);
	ifdrops_io(0, NULL, 0);
	lq = build_frame(&quar, fq, sizeof(fq));
	lp = build_frame(&pass, fp, sizeof(fp));
	lt = build_frame(&tx.pkt, ft, sizeof(ft));
	assert_true(lq > 0 && lp > 0 && lt > 0);
	assert_true(resolve(P4, false, &ta));
	host_entry(&ta, 100, NULL);

	/* Passes count nothing, anywhere. */
	assert_int_equal(xdp_on(1, fp, lp, 5), XDP_PASS);
	ifdrops_io(ALL_IF, lo, 0);
	assert_int_equal(lo[0][0] + lo[0][1] + lo[0][2] + lo[1][0] + lo[1][1] + lo[1][2], 0);
	assert_int_equal(xdp_on(1, fq, lq, 3), XDP_DROP);
	assert_int_equal(xdp_on(1, fp, lp, 5), XDP_PASS);
	ifdrops_io(ALL_IF, other, 0);
	assert_int_equal(other[0][0] + other[0][1] + other[0][2] +
			 other[1][0] + other[1][1] + other[1][2], 3);
	ifdrops_io(1, lo, 0);
	assert_int_equal(lo[0][IRC_RULE_QUARANTINE - 1], 3);
	assert_int_equal(lo[0][IRC_RULE_ISOLATE - 1] + lo[0][IRC_RULE_MALFORMED - 1], 0);
	assert_int_equal(lo[1][0] + lo[1][1] + lo[1][2], 0);

	assert_true(run_prog(&tx, ft, lt, &retval));
	assert_int_equal(retval, T_TC_ACT_SHOT);
	ifdrops_io(1, lo, 0);
	assert_int_equal(lo[1][IRC_RULE_QUARANTINE - 1], 2);
	assert_int_equal(lo[0][IRC_RULE_QUARANTINE - 1], 3);

	/* Isolation drops what no quarantine does: its own rule. */
	assert_int_equal(bpf_map__update_elem(skel->maps.irc_config, &zero, sizeof(zero),
					      &iso, sizeof(iso), BPF_ANY), 0);
	assert_int_equal(xdp_on(1, fp, lp, 4), XDP_DROP);
	ifdrops_io(1, lo, 0);
	assert_int_equal(lo[0][IRC_RULE_ISOLATE - 1], 4);
	ifdrops_io(0, other, 0);
	assert_int_equal(other[0][0] + other[0][1] + other[0][2] +
			 other[1][0] + other[1][1] + other[1][2], 0);

	/* Slot 1 held by ifindex 1 + IRC_IFDROP_SLOTS on every CPU: lo's drops go to 'other'. */
	ifdrops_io(0, NULL, 1 + IRC_IFDROP_SLOTS);
	assert_int_equal(xdp_on(1, fq, lq, 6), XDP_DROP);
	ifdrops_io(0, other, 0);
	assert_int_equal(other[0][IRC_RULE_QUARANTINE - 1], 6);
	ifdrops_io(1 + IRC_IFDROP_SLOTS, lo, 0);
	assert_int_equal(lo[0][0] + lo[0][1] + lo[0][2], 0);
	ifdrops_io(1, lo, 0);
	assert_int_equal(lo[0][0] + lo[0][1] + lo[0][2], 0);

	ifdrops_io(0, NULL, 0);
	assert_int_equal(reset_maps(), 0);
}

/* ------------------------------------------------------------------ */

int main(void)
{
	struct CMUnitTest *tests = NULL;
	struct bpf_map *map;
	size_t i, n = 0;
	int err, rc = 1;

	verbose = getenv("IRC_TEST_VERBOSE") != NULL;
	libbpf_set_print(libbpf_log);

	skel = irc_net_bpf__open();
	if (!skel) {
		fprintf(stderr, "test_net:FAIL: open skeleton: %s\n",
			strerror(errno));
		goto out;
	}
	/* Keep off the real pin dir: pin nothing, reuse nothing. */
	bpf_object__for_each_map(map, skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			fprintf(stderr, "test_net:FAIL: unpin %s: %s\n",
				bpf_map__name(map), strerror(-err));
			goto out;
		}
	}
	err = irc_net_bpf__load(skel);
	if (err) {
		fprintf(stderr, "test_net:FAIL: load skeleton: %s%s\n",
			strerror(-err),
			verbose ? "" : " (IRC_TEST_VERBOSE=1 shows the log)");
		goto out;
	}

	tests = calloc(ARRAY_SIZE(cases) + 7, sizeof(*tests));
	if (!tests)
		goto out;
	tests[n++] = (struct CMUnitTest){ .name = "case_table",
					  .test_func = test_case_table };
	tests[n++] = (struct CMUnitTest){ .name = "drop_runs",
					  .test_func = test_drop_runs };
	tests[n++] = (struct CMUnitTest){ .name = "host_tiers",
					  .test_func = test_host_tiers };
	tests[n++] = (struct CMUnitTest){ .name = "drop_samples",
					  .test_func = test_drop_samples };
	tests[n++] = (struct CMUnitTest){ .name = "tc_sample",
					  .test_func = test_tc_sample };
	tests[n++] = (struct CMUnitTest){ .name = "ifdrops",
					  .test_func = test_ifdrops };
	tests[n++] = (struct CMUnitTest){ .name = "frame_builder",
					  .test_func = test_frame_builder };
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = test_case,
			.initial_state = (void *)&cases[i],
		};

	rc = _cmocka_run_group_tests("bpf_net", tests, n, NULL, NULL) ? 1 : 0;
out:
	free(tests);
	irc_net_bpf__destroy(skel);
	return rc;
}
