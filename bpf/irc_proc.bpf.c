// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Process and cgroup quarantine, on cgroup v2 hooks attached at the
 * configured cgroup root, and tracepoints for inheritance.
 *
 * - New network use by a quarantined process (its tgid in irc_qpid) or by
 *   any process in a quarantined cgroup (any ancestor in irc_qcgrp) fails
 *   with EPERM: socket(), connect(), sendmsg()/sendto(), bind().
 * - Sockets that existed before the quarantine are cut: userspace puts
 *   their cookies in irc_qsock, and cgroup_skb drops their packets both
 *   ways; a quarantined cgroup's sockets are found by their cgroup.
 * - A child forked by a quarantined process inherits the entry
 *   (sched_process_fork); an exiting process drops its entry, so a reused
 *   PID is never quarantined by mistake.
 *
 * Per call: one hash lookup by tgid, and, only while some cgroup is
 * quarantined, at most IRC_CGROUP_MAX_DEPTH lookups by cgroup id.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "irc_maps.bpf.h"
#include "irc_common.bpf.h"

#define AF_INET		2
#define AF_INET6	10

#define SK_DROP_V	0
#define SK_PASS_V	1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline struct irc_pentry *irc_plive(struct irc_pentry *e)
{
	if (e && e->expires_ns && e->expires_ns <= bpf_ktime_get_boot_ns())
		return NULL;
	return e;
}

/* The entry that quarantines the calling process, if any. */
static __always_inline struct irc_pentry *irc_current_entry(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct irc_pentry *e;
	int i;

	e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &tgid));
	if (e || !(irc_cfg_flags() & IRC_CFG_HAS_CGROUPS))
		return e;
	for (i = 0; i < IRC_CGROUP_MAX_DEPTH; i++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(i);

		if (!id)
			break;
		e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QCGRP, &id));
		if (e)
			return e;
	}
	return NULL;
}

/* 1 to allow the call, 0 to refuse it with EPERM. */
static __always_inline int irc_sock_verdict(void)
{
	struct irc_pentry *e = irc_current_entry();

	if (!e)
		return SK_PASS_V;
	__sync_fetch_and_add(&e->denied, 1);
	irc_count(IRC_STAT_PROC_DENY);
	return SK_DROP_V;
}

SEC("cgroup/sock_create")
int irc_sock_create(struct bpf_sock *sk)
{
	if (sk->family != AF_INET && sk->family != AF_INET6)
		return SK_PASS_V;
	return irc_sock_verdict();
}

SEC("cgroup/connect4")
int irc_connect4(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict();
}

SEC("cgroup/connect6")
int irc_connect6(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict();
}

SEC("cgroup/sendmsg4")
int irc_sendmsg4(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict();
}

SEC("cgroup/sendmsg6")
int irc_sendmsg6(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict();
}

SEC("cgroup/bind4")
int irc_bind4(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict();
}

SEC("cgroup/bind6")
int irc_bind6(struct bpf_sock_addr *ctx)
{
	return irc_sock_verdict();
}

/*
 * Packets of existing sockets.  The socket, not the current task, tells
 * whose packet it is: ingress runs in softirq context.
 */
static __always_inline int irc_skb_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct irc_qsock *qs;
	struct irc_pentry *e = NULL;
	int i;

	qs = bpf_map_lookup_elem(&IRC_MAP_QSOCK, &cookie);
	if (qs)
		e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &qs->tgid));
	if (!e && (irc_cfg_flags() & IRC_CFG_HAS_CGROUPS)) {
		for (i = 0; i < IRC_CGROUP_MAX_DEPTH; i++) {
			__u64 id = bpf_skb_ancestor_cgroup_id(skb, i);

			if (!id)
				break;
			e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QCGRP, &id));
			if (e)
				break;
		}
	}
	if (!e)
		return SK_PASS_V;
	__sync_fetch_and_add(&e->denied, 1);
	irc_count(IRC_STAT_PROC_DROP);
	return SK_DROP_V;
}

SEC("cgroup_skb/ingress")
int irc_skb_ingress(struct __sk_buff *skb)
{
	return irc_skb_verdict(skb);
}

SEC("cgroup_skb/egress")
int irc_skb_egress(struct __sk_buff *skb)
{
	return irc_skb_verdict(skb);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(irc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct irc_pentry *e, n;

	/* A new thread shares the entry of its process already. */
	if (ptgid == ctgid)
		return 0;
	e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &ptgid));
	if (!e || !(e->flags & IRC_PF_CHILDREN))
		return 0;
	__builtin_memcpy(&n, e, sizeof(n));
	n.flags |= IRC_PF_INHERITED;
	n.denied = 0;
	bpf_map_update_elem(&IRC_MAP_QPID, &ctgid, &n, BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(irc_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	/* The leader's exit ends the process: free its PID for reuse. */
	if (BPF_CORE_READ(p, pid) == tgid)
		bpf_map_delete_elem(&IRC_MAP_QPID, &tgid);
	return 0;
}
