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
 *
 * The same object emits the process events the controller reads: exec,
 * fork, exit, TCP connect and accept, denials and process packet drops.
 *
 * One object, in parts by job (Tetragon's bpf/process/ split):
 *   irc_proc_enforce.bpf.h  the socket hooks and cgroup_skb: the quarantine
 *   irc_proc_detect.bpf.h   host detectors and their in-kernel containment
 *   irc_proc_life.bpf.h     fork, exit, exec
 *   irc_proc_conn.bpf.h     TCP connections as events
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "irc_maps.bpf.h"
#include "irc_common.bpf.h"
#include "irc_events.bpf.h"
#include "irc_ident.bpf.h"

#define AF_INET		2
#define AF_INET6	10

#define SK_DROP_V	0
#define SK_PASS_V	1

#define TCP_ESTABLISHED	1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3

#define SIGKILL		9
#define SIGSTOP		19
#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFREG		0100000
#define PTRACE_ATTACH	16
#define PTRACE_SEIZE	0x4206

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Process identity from the task itself (tracing programs only). */
static __always_inline void irc_ev_task(struct irc_ev_hdr *h,
					struct task_struct *t)
{
	irc_ev_current(h);
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->start_ns = BPF_CORE_READ(t, group_leader, start_boottime);
}

#include "irc_proc_enforce.bpf.h"
#include "irc_proc_detect.bpf.h"
#include "irc_proc_life.bpf.h"
#include "irc_proc_conn.bpf.h"
