// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Anchors for `make bench`: the least a packet filter keyed by address can
 * do.  ref_xdp_hash looks the IPv4 source up in a hash and drops on a hit;
 * ref_tc_hash does the same with the destination on tc egress; ref_xdp_drop
 * drops everything (the cost of running a program at all).  The hash has
 * the same flags, key and capacity as ircontain's exact-host map, with the
 * smallest useful value (a u64 counter), so the ratio against it is the
 * cost of everything ircontain does beyond one lookup.
 *
 * rot_xdp and rot_tc make rotating traffic inside one BPF_PROG_TEST_RUN:
 * each run writes the next address of rot_addrs into the frame (source for
 * XDP, destination for tc) and tail-calls the program under test, so the
 * lookups walk many entries while the programs' own state stays as warm as
 * under a real flood.  Their cost, the same for every program, is measured
 * with ref_xdp_drop / ref_tc_pass as the target.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "ircontain/abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_HOSTS);
	__type(key, __u32);
	__type(value, __u64);
} ref_hosts SEC(".maps");

#define ROT_ADDRS	(1U << 20)	/* per set; hit set, then miss set */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * ROT_ADDRS);
	__type(key, __u32);
	__type(value, __u32);
} rot_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rot_xdp_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rot_tc_prog SEC(".maps");

__u32 rot_next;		/* index of the next address */
__u32 rot_base;		/* 0: hit set, ROT_ADDRS: miss set */

static __always_inline int rot_write(void *data, void *end, int src)
{
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 k = rot_base + (rot_next++ & (ROT_ADDRS - 1)), *a;

	if ((void *)(ip + 1) > end)
		return -1;
	a = bpf_map_lookup_elem(&rot_addrs, &k);
	if (!a)
		return -1;
	if (src)
		ip->saddr = *a;
	else
		ip->daddr = *a;
	return 0;
}

SEC("xdp")
int rot_xdp(struct xdp_md *ctx)
{
	if (rot_write((void *)(long)ctx->data, (void *)(long)ctx->data_end, 1))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &rot_xdp_prog, 0);
	return XDP_ABORTED;
}

SEC("tc")
int rot_tc(struct __sk_buff *skb)
{
	if (rot_write((void *)(long)skb->data, (void *)(long)skb->data_end, 0))
		return -1;
	bpf_tail_call(skb, &rot_tc_prog, 0);
	return -1;
}

static __always_inline __u64 *ref_lookup(void *data, void *end, int src)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(0x0800))
		return 0;
	return bpf_map_lookup_elem(&ref_hosts, src ? &ip->saddr : &ip->daddr);
}

SEC("xdp")
int ref_xdp_hash(struct xdp_md *ctx)
{
	return ref_lookup((void *)(long)ctx->data, (void *)(long)ctx->data_end, 1) ?
	       XDP_DROP : XDP_PASS;
}

SEC("tc")
int ref_tc_hash(struct __sk_buff *skb)
{
	return ref_lookup((void *)(long)skb->data, (void *)(long)skb->data_end, 0) ?
	       2 /* TC_ACT_SHOT */ : 0;
}

SEC("xdp")
int ref_xdp_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("tc")
int ref_tc_pass(struct __sk_buff *skb)
{
	(void)skb;
	return 0;	/* TC_ACT_OK */
}
