/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map definitions shared by every ircontain BPF object.  Each map is pinned
 * by name under the pin dir, so a second object (or a second load) that
 * declares the same map reuses the pinned one and its entries.
 */
#ifndef IRC_MAPS_BPF_H
#define IRC_MAPS_BPF_H

#include "ircontain/abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_HOSTS);
	__type(key, __u32);			/* IPv4, network order */
	__type(value, struct irc_qentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_Q4_HOST SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_HOSTS);
	__type(key, struct irc_in6);
	__type(value, struct irc_qentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_Q6_HOST SEC(".maps");

/* The front tiers and the flag of their overflow (see IRC_MAX_FRONT_HOSTS). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_FRONT_HOSTS);
	__type(key, __u32);			/* IPv4, network order */
	__type(value, struct irc_qentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_Q4_FRONT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_FRONT_HOSTS);
	__type(key, struct irc_in6);
	__type(value, struct irc_qentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_Q6_FRONT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);			/* IRC_QTIER_V4, IRC_QTIER_V6 */
	__type(key, __u32);
	__type(value, __u32);			/* 1: the big map may hold entries */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_QTIER SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);	/* userspace sets single bytes */
	__uint(max_entries, 2);			/* IRC_QTIER_V4, IRC_QTIER_V6 */
	__type(key, __u32);
	__type(value, struct irc_qbloom_v);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_QBLOOM SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_PREFIXES);
	__type(key, struct irc_lpm4);
	__type(value, struct irc_qentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_Q4_PFX SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_PREFIXES);
	__type(key, struct irc_lpm6);
	__type(value, struct irc_qentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_Q6_PFX SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_ALLOW);
	__type(key, struct irc_lpm4);
	__type(value, struct irc_allow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_ALLOW4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_ALLOW);
	__type(key, struct irc_lpm6);
	__type(value, struct irc_allow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_ALLOW6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_STATS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IRC_MAX_IFACES);
	__type(key, __u32);			/* ifindex */
	__type(value, struct irc_iface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_IFACES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_PIDS);
	__type(key, __u32);			/* tgid */
	__type(value, struct irc_pentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_QPID SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IRC_MAX_CGROUPS);
	__type(key, __u64);			/* cgroup id */
	__type(value, struct irc_pentry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_QCGRP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_SOCKS);
	__type(key, __u64);			/* socket cookie */
	__type(value, struct irc_qsock);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_QSOCK SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, IRC_RINGBUF_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_EVENTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, IRC_FINDRING_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_FINDINGS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_evstat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_EVSTAT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_droprun);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_DROPRUN SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_ifdrops);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_IFDROPS SEC(".maps");

/* Userspace only: see struct irc_ifname. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IRC_MAX_IFNAMES);
	__type(key, __u32);			/* ifindex */
	__type(value, struct irc_ifname);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_IFNAMES SEC(".maps");

/* The connecting task, kept from SYN_SENT until the handshake resolves. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IRC_MAX_CONNPEND);
	__type(key, __u64);			/* struct sock * */
	__type(value, struct irc_ev_hdr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_CONNPEND SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_detcfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_DETCFG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IRC_MAX_NETSTATE);
	__type(key, struct irc_in6);
	__type(value, struct irc_netstate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_NETSTATE SEC(".maps");

/* Filled by userspace; read only when a detector fires. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IRC_MAX_PROTECT);
	__type(key, struct irc_in6);		/* v4-mapped for IPv4 */
	__type(value, __u32);			/* enum irc_protect_why */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_PROTECT SEC(".maps");

/* Written when a TCP handshake completes, read when a detector fires. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IRC_MAX_VERIFIED);
	__type(key, struct irc_in6);
	__type(value, __u64);			/* CLOCK_BOOTTIME of the handshake */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_VERIFIED SEC(".maps");

/*
 * Not an LRU: a flood of new sources cannot evict an offender's history,
 * and only verified sources enter it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IRC_MAX_OFFENDERS);
	__type(key, struct irc_in6);
	__type(value, struct irc_offence);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_OFFENCE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IRC_MAX_DSTSTATE);
	__type(key, struct irc_in6);
	__type(value, struct irc_dststate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_DSTSTATE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_detstate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_DETSTATE SEC(".maps");

/*
 * sensitive_read's identities (files and the directories they and the
 * allowed programs live in): filled by userspace at policy apply and by
 * the controller, read at every open below the hooks' cgroup while the
 * detector is on.  Preallocated: the kernel adds to it from a syscall
 * tracepoint.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IRC_MAX_SENSID);
	__type(key, struct irc_fid);
	__type(value, struct irc_sensid);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_SENSID SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irc_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_CTL SEC(".maps");

/* Preallocated: the kernel adds to it from a syscall tracepoint. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IRC_MAX_PKILL);
	__type(key, __u32);			/* tgid */
	__type(value, struct irc_pkill);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} IRC_MAP_PKILL SEC(".maps");

/*
 * Every map of IRC_MAP_LIST is declared above: an entry there without a
 * declaration here does not compile (the reverse is tests/bpf/test_layout.c).
 */
#define IRC_MAP_DECLARED(id)	(void)&IRC_MAP_##id;
static __always_inline void irc_maps_all_declared(void)
{
	IRC_MAP_LIST(IRC_MAP_DECLARED)
}
#undef IRC_MAP_DECLARED

#endif /* IRC_MAPS_BPF_H */
