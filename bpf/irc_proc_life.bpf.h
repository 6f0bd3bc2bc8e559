/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Process lifecycle: fork (a quarantine is inherited), exit (the entry
 * goes, so a reused PID is never quarantined by mistake) and exec, each
 * also an event for the controller.
 *
 * Part of irc_proc.bpf.c, included there (in this order: enforce, detect,
 * life, conn), never on its own.
 */
#ifndef IRC_PROC_LIFE_BPF_H
#define IRC_PROC_LIFE_BPF_H

SEC("tp_btf/sched_process_fork")
int BPF_PROG(irc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct irc_pentry *e, n;
	struct irc_ev_fork *ev;
	int inherited = 0;

	/* A new thread shares the entry of its process already. */
	if (ptgid == ctgid)
		return 0;
	e = irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &ptgid));
	if (e && (e->flags & IRC_PF_CHILDREN)) {
		__builtin_memcpy(&n, e, sizeof(n));
		n.flags |= IRC_PF_INHERITED;
		n.denied = 0;
		inherited = !bpf_map_update_elem(&IRC_MAP_QPID, &ctgid, &n, BPF_NOEXIST);
	}

	ev = IRC_EV_RESERVE(struct irc_ev_fork, IRC_EV_FORK);
	if (!ev)
		return 0;
	irc_ev_task(&ev->h, parent);
	ev->child_tgid = ctgid;
	ev->inherited = inherited;
	ev->child_start_ns = BPF_CORE_READ(child, start_boottime);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(irc_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct irc_ev_exit *ev;

	/*
	 * The process ends with its last thread, not with its leader:
	 * signal->live is decremented before this tracepoint.  Its PID is
	 * then free for reuse, and a new process must not inherit the entry.
	 */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&IRC_MAP_QPID, &tgid);
	if (!bpf_map_delete_elem(&IRC_MAP_PKILL, &tgid)) {
		__u32 zero = 0;
		struct irc_detstate *ds = bpf_map_lookup_elem(&IRC_MAP_DETSTATE, &zero);

		if (ds)
			__sync_fetch_and_sub(&ds->pkill_pending, 1);
	}

	ev = IRC_EV_RESERVE(struct irc_ev_exit, IRC_EV_EXIT);
	if (!ev)
		return 0;
	irc_ev_task(&ev->h, p);
	ev->exit_code = BPF_CORE_READ(p, exit_code);
	ev->pad = 0;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(irc_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct irc_ev_exec *ev;
	unsigned long start, end;
	__u64 len;

	ev = IRC_EV_RESERVE(struct irc_ev_exec, IRC_EV_EXEC);
	if (!ev) {
		irc_exec_detect(p, bprm);
		return 0;
	}
	irc_ev_task(&ev->h, p);
	if (bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename),
				      BPF_CORE_READ(bprm, filename)) < 0)
		ev->filename[0] = '\0';
	/* argv as the new image sees it: NUL-separated, bounded. */
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	ev->args_trunc = len > IRC_ARGS_LEN;
	if (len > IRC_ARGS_LEN)
		len = IRC_ARGS_LEN;
	asm volatile("%[l] &= 0x3ff" : [l] "+r"(len));
	if (len > IRC_ARGS_LEN || bpf_probe_read_user(ev->args, len, (void *)start))
		len = 0;
	ev->args_len = len;
	bpf_ringbuf_submit(ev, 0);
	/*
	 * After the exec record: a finding about the new image must reach
	 * the daemon after the record that describes that image.
	 */
	irc_exec_detect(p, bprm);
	return 0;
}

#endif
