/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Host detectors on tracepoints: reverse shell (dup onto fds 0-2), exec
 * from writable places or memfd, sensitive-file reads by identity, ptrace
 * attach, module loads; their in-kernel containment (quarantine self,
 * contain-then-kill and its guard).
 *
 * Part of irc_proc.bpf.c, included there (in this order: enforce, detect,
 * life, conn), never on its own.
 */
#ifndef IRC_PROC_DETECT_BPF_H
#define IRC_PROC_DETECT_BPF_H

static __always_inline struct irc_detcfg *irc_detcfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&IRC_MAP_DETCFG, &zero);
}

/*
 * The current process's network is cut: a quarantine entry made by a
 * detector (its children inherit it), unless a live one is there.
 */
static __always_inline int irc_quarantine_self(const struct irc_detcfg *cfg,
					       const struct irc_det *d, __u32 det, __u32 action)
{
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct irc_pentry e = {
		.expires_ns = d->ttl_ns && action == IRC_PACT_DENY ? now + d->ttl_ns : 0,
		.created_ns = now + cfg->boot_to_real_ns,
		.root = tgid,
		.flags = IRC_PF_CHILDREN,
		.action = action,
		.actor_uid = det,
		.origin = IRC_ORIGIN_DETECTOR,
	};
	int ok;

	if (action == IRC_PACT_DENY)
		__builtin_memcpy(e.reason, "detector finding", 17);
	else
		__builtin_memcpy(e.reason, "contain-then-kill", 18);
	ok = !bpf_map_update_elem(&IRC_MAP_QPID, &tgid, &e, BPF_NOEXIST);
	/* An expired entry may be replaced; a live one is left alone. */
	if (!ok && !irc_plive(bpf_map_lookup_elem(&IRC_MAP_QPID, &tgid)))
		ok = !bpf_map_update_elem(&IRC_MAP_QPID, &tgid, &e, BPF_EXIST);
	return ok;
}

/*
 * contain-then-kill: with a controller running (a fresh heartbeat), the
 * process is stopped (it stops before it returns to userspace), its
 * network cut, and it is entered in irc_pkill for the controller to
 * snapshot and kill.  With none, nothing would ever snapshot it: killed
 * at once (*@hold says so).  Returns 1 if done.
 */
static __always_inline int irc_contain_then_kill(const struct irc_detcfg *cfg,
						 const struct irc_det *d, __u32 det,
						 struct task_struct *t, __u8 *hold)
{
	__u32 zero = 0, tgid = bpf_get_current_pid_tgid() >> 32;
	struct irc_ctl *ctl = bpf_map_lookup_elem(&IRC_MAP_CTL, &zero);
	__u64 now = bpf_ktime_get_boot_ns();
	struct irc_detstate *ds;
	struct irc_pkill pk = {
		.deadline_ns = now + IRC_CTK_DEADLINE_MS * 1000000ULL,
		.start_ns = BPF_CORE_READ(t, group_leader, start_boottime),
		.detector = det,
	};

	int added;

	if (!ctl || !ctl->beat_ns || now - ctl->beat_ns > IRC_CTL_FRESH_MS * 1000000ULL) {
		*hold = IRC_HOLD_NOCTL;
		return !bpf_send_signal(SIGKILL);
	}
	/*
	 * Without its entry the controller would never kill it: then killed
	 * now.  One there already (a second finding, another thread): pending.
	 */
	added = !bpf_map_update_elem(&IRC_MAP_PKILL, &tgid, &pk, BPF_NOEXIST);
	if (!added && !bpf_map_lookup_elem(&IRC_MAP_PKILL, &tgid)) {
		*hold = IRC_HOLD_NOCTL;
		return !bpf_send_signal(SIGKILL);
	}
	ds = bpf_map_lookup_elem(&IRC_MAP_DETSTATE, &zero);
	if (added && ds)
		__sync_fetch_and_add(&ds->pkill_pending, 1);
	irc_quarantine_self(cfg, d, det, IRC_PACT_STOP);
	if (bpf_send_signal(SIGSTOP)) {
		*hold = IRC_HOLD_NOCTL;
		return !bpf_send_signal(SIGKILL);
	}
	return 1;
}

/*
 * Detector @det fired on the current task.  In enforce mode the action is
 * taken here: SIGKILL, a process quarantine entry (the daemon then cuts
 * the sockets the process already holds), or contain-then-kill's stop.
 * Always a finding, rate-limited.
 */
static __always_inline void irc_host_fire(const struct irc_detcfg *cfg, __u32 det,
					  const char *path, __u32 target, __u32 fd)
{
	const struct irc_det *d = &cfg->det[det < IRC_DET__MAX ? det : 0];
	struct task_struct *t = bpf_get_current_task_btf();
	struct irc_ev_finding *ev;
	int enforced = 0;
	__u8 hold = 0;

	if (cfg->enforce && d->action == IRC_ACT_KILL)
		enforced = !bpf_send_signal(SIGKILL);
	else if (cfg->enforce && d->action == IRC_ACT_QUAR_PROC)
		enforced = irc_quarantine_self(cfg, d, det, IRC_PACT_DENY);
	else if (cfg->enforce && d->action == IRC_ACT_CONTAIN_KILL)
		enforced = irc_contain_then_kill(cfg, d, det, t, &hold);
	if (!irc_rate_ok(1))
		return;
	ev = IRC_EV_RESERVE(struct irc_ev_finding, IRC_EV_FINDING);
	if (!ev)
		return;
	irc_ev_task(&ev->h, t);
	ev->detector = det;
	ev->action = d->action;
	ev->severity = d->severity;
	ev->enforced = enforced;
	ev->count = 1;
	ev->offences = 1;
	ev->window_ns = 0;
	ev->ttl_ns = d->action == IRC_ACT_QUAR_PROC ? d->ttl_ns : 0;
	ev->family = 0;
	ev->trust = 0;
	ev->hold = hold;
	ev->slow = 0;
	ev->protect = 0;
	__builtin_memset(ev->addr, 0, sizeof(ev->addr));
	ev->target_pid = target;
	ev->fd = fd;
	__builtin_memset(ev->path, 0, sizeof(ev->path));
	if (path)
		__builtin_memcpy(ev->path, path, IRC_FIND_PATH_LEN);
	bpf_ringbuf_submit(ev, 0);
}

/* 1 if @s starts with the @n bytes of @pfx. */
static __always_inline int irc_prefix(const char *s, const char *pfx, int n)
{
	int i;

	for (i = 0; i < n && i < IRC_FIND_PATH_LEN; i++)
		if (s[i] != pfx[i])
			return 0;
	return 1;
}

/*
 * 1 if the task's descriptor @fd is a network (IPv4/IPv6) socket.  Unix
 * sockets are everyday stdio (journald, socat EXEC) and do not count.
 */
static __always_inline int irc_fd_is_socket(struct task_struct *t, long fd)
{
	struct file **fds, *f;
	struct socket *sock;
	umode_t mode;
	__u16 family;

	if (fd < 0 || fd >= BPF_CORE_READ(t, files, fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6;
}

/* Shells by their command name. */
static __always_inline int irc_is_shell(const char *c)
{
	if (c[0] == 's' && c[1] == 'h' && !c[2])
		return 1;
	if (c[0] == 'b' && c[1] == 'a' && c[2] == 's' && c[3] == 'h' && !c[4])
		return 1;
	if (c[1] == 's' && c[2] == 'h' && !c[3] &&
	    (c[0] == 'z' || c[0] == 'k' || c[0] == 'c'))
		return 1;
	if (c[0] == 'd' && c[1] == 'a' && c[2] == 's' && c[3] == 'h' && !c[4])
		return 1;
	if (c[0] == 'a' && c[1] == 's' && c[2] == 'h' && !c[3])
		return 1;
	return 0;
}

/*
 * Host detectors watch the processes below the cgroup root the hooks are
 * attached to, as the process hooks do: at the cgroup2 root that is the
 * whole host; below it (a test, a demo) nothing outside is touched.
 */
static __always_inline int irc_in_scope(void)
{
	struct irc_config *c = irc_config_get();

	if (!c || !c->cgroup_root_id)
		return 0;
	return bpf_get_current_ancestor_cgroup_id(c->cgroup_root_level) ==
	       c->cgroup_root_id;
}

/* Detectors that look at a new image: where it came from, what it holds. */
static __always_inline void irc_exec_detect(struct task_struct *p,
					    struct linux_binprm *bprm)
{
	struct irc_detcfg *cfg = irc_detcfg_get();
	char fn[IRC_FIND_PATH_LEN] = {}, dn[8] = {}, comm[IRC_COMM_LEN] = {};

	if (!cfg || !irc_in_scope())
		return;
	bpf_probe_read_kernel_str(fn, sizeof(fn), BPF_CORE_READ(bprm, filename));
	if (cfg->det[IRC_DET_EXEC_TMP].enabled &&
	    (irc_prefix(fn, "/tmp/", 5) || irc_prefix(fn, "/var/tmp/", 9) ||
	     irc_prefix(fn, "/dev/shm/", 9)))
		irc_host_fire(cfg, IRC_DET_EXEC_TMP, fn, 0, 0);
	if (cfg->det[IRC_DET_FILELESS].enabled) {
		bpf_probe_read_kernel_str(dn, sizeof(dn),
			BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name));
		if (irc_prefix(dn, "memfd:", 6))
			irc_host_fire(cfg, IRC_DET_FILELESS, fn, 0, 0);
	}
	/*
	 * The fast path for the commonest form: a shell (by name here; by
	 * binary identity, relays and ptys in the controller, revshell.c)
	 * whose stdin and stdout are network sockets.  One way only is no
	 * remote shell: a CI runner's `head <&3 >job` or its `>&3` log.
	 */
	if (cfg->det[IRC_DET_REVSHELL].enabled) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (irc_is_shell(comm) && irc_fd_is_socket(p, 0) && irc_fd_is_socket(p, 1))
			irc_host_fire(cfg, IRC_DET_REVSHELL, fn, 0, 0);
	}
}

/*
 * dup2/dup3 of a socket onto stdin or stdout by a shell whose other one
 * is a socket already: `bash -i >& /dev/tcp/... 0>&1`, `exec 0<&3 1>&3`.
 */
static __always_inline int irc_dup_detect(long oldfd, long newfd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct irc_detcfg *cfg;
	char comm[IRC_COMM_LEN] = {};

	if (newfd != 0 && newfd != 1)
		return 0;
	cfg = irc_detcfg_get();
	if (!cfg || !cfg->det[IRC_DET_REVSHELL].enabled || !irc_in_scope())
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	if (irc_is_shell(comm) && irc_fd_is_socket(t, oldfd) && irc_fd_is_socket(t, 1 - newfd))
		irc_host_fire(cfg, IRC_DET_REVSHELL, NULL, 0, newfd);
	return 0;
}

SEC("tp/syscalls/sys_enter_dup2")
int irc_dup2(struct trace_event_raw_sys_enter *ctx)
{
	return irc_dup_detect(ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_dup3")
int irc_dup3(struct trace_event_raw_sys_enter *ctx)
{
	return irc_dup_detect(ctx->args[0], ctx->args[1]);
}

/*
 * sensitive_read, by identity.  At the exit of an open that returned a
 * descriptor, the file behind it is what counts, not the path string:
 *
 *   1. its (dev, inode) is in irc_sensid as a sensitive file (the policy's
 *      files, resolved by userspace): a symlink, a hard link, a bind mount
 *      or /proc/self/fd/N all reach the same identity;
 *   2. else its directory's identity is in irc_sensid and its name there is
 *      one of the policy's (or starts with a prefix pattern's): a file
 *      created or renamed into place after the last resolve (passwd writes
 *      shadow+ and renames it over /etc/shadow).  The kernel then adds the
 *      new file's identity, so a hard link made to it later is covered too.
 *
 * The program is allowed by where its executable is: the directory of
 * mm->exe_file (by identity) and its name there, as the policy's path
 * resolved.  A copy of cat named sshd, a symlink to sshd elsewhere, or
 * sshd hard-linked or moved to another path is not allowed; an upgrade
 * that replaces the binary in place still is.
 *
 * A process killed here (action kill) never returns to userspace with the
 * descriptor: it cannot read a byte.  Names are compared as four words,
 * fully unrolled (no loop for 6.1's verifier to refuse).
 */
#define IRC_NAME_WORDS	(IRC_SENS_NAME_LEN / 8)
_Static_assert(IRC_SENS_NAME_LEN % 8 == 0, "word compares");
_Static_assert((IRC_SENS_FILES & (IRC_SENS_FILES - 1)) == 0, "index mask");
_Static_assert(IRC_FIND_PATH_LEN == IRC_SENS_PATH_LEN, "the finding carries the policy path");

/* Bytes of word @w of a name that a pattern of @n compared bytes covers. */
static __always_inline __u64 irc_name_mask(__u32 n, int w)
{
	int c = (int)n - 8 * w;

	if (c >= 8)
		return ~0ULL;
	if (c <= 0)
		return 0;
	return (1ULL << (c * 8)) - 1;
}

/* 1 if the first @n bytes of @name and @pat are equal (both NUL padded). */
static __always_inline int irc_name_is(const __u64 *name, const char *pat, __u32 n)
{
	const __u64 *p = (const __u64 *)pat;
	__u64 diff = 0;
	int w;

#pragma unroll
	for (w = 0; w < IRC_NAME_WORDS; w++)
		diff |= (name[w] ^ p[w]) & irc_name_mask(n, w);
	return !diff;
}

/* The policy entry that file @f is, or -1.  @name: a scratch buffer. */
static __always_inline int irc_sens_file(const struct irc_detcfg *cfg, struct file *f,
					 __u64 *name)
{
	struct irc_sensid *s, learn = { .kind = IRC_SID_FILE | IRC_SID_LEARNED };
	struct irc_fid id = {}, dir = {};
	__u32 bits;
	int i;

	if (irc_file_fid(f, &id))
		return -1;
	s = bpf_map_lookup_elem(&IRC_MAP_SENSID, &id);
	if (s && (s->kind & IRC_SID_FILE))
		return s->file & (IRC_SENS_FILES - 1);
	if (irc_file_dir_fid(f, &dir))
		return -1;
	s = bpf_map_lookup_elem(&IRC_MAP_SENSID, &dir);
	if (!s || !(s->kind & IRC_SID_DIR) || !s->files)
		return -1;
	bits = s->files;
	if (irc_file_name(f, (char *)name))
		return -1;
#pragma unroll
	for (i = 0; i < IRC_SENS_FILES; i++) {
		if (!(bits & (1U << i)) || !irc_name_is(name, cfg->sens_names[i], cfg->sens_nplen[i]))
			continue;
		learn.file = i;
		bpf_map_update_elem(&IRC_MAP_SENSID, &id, &learn, BPF_NOEXIST);
		return i;
	}
	return -1;
}

/* 1 if the running program is one of the policy's allowed executables. */
static __always_inline int irc_exe_allowed(const struct irc_detcfg *cfg, __u64 *name)
{
	struct file *exe = irc_exe_file(bpf_get_current_task_btf());
	struct irc_fid dir = {};
	struct irc_sensid *s;
	__u32 bits;
	int i;

	if (!exe || irc_file_dir_fid(exe, &dir))
		return 0;
	s = bpf_map_lookup_elem(&IRC_MAP_SENSID, &dir);
	if (!s || !(s->kind & IRC_SID_DIR) || !s->exes)
		return 0;
	bits = s->exes;
	__builtin_memset(name, 0, IRC_SENS_NAME_LEN);
	if (irc_file_name(exe, (char *)name))
		return 0;
#pragma unroll
	for (i = 0; i < IRC_SENS_ALLOWED; i++)
		if ((bits & (1U << i)) &&
		    irc_name_is(name, cfg->sens_exe_names[i], IRC_SENS_NAME_LEN))
			return 1;
	return 0;
}

static __always_inline int irc_open_detect(long fd)
{
	__u64 name[IRC_NAME_WORDS] = {};
	struct irc_detcfg *cfg;
	struct file *f;
	int i;

	/*
	 * The cost of every open on the host: one array lookup when off,
	 * and a cgroup check before any kernel object is read when on.
	 */
	if (fd < 0)
		return 0;
	cfg = irc_detcfg_get();
	if (!cfg || !cfg->det[IRC_DET_SENSITIVE].enabled || !irc_in_scope())
		return 0;
	f = irc_fd_file(bpf_get_current_task_btf(), fd);
	/* A file's content: not an O_PATH handle, not a directory listing. */
	if (!f || (BPF_CORE_READ(f, f_flags) & IRC_O_PATH) ||
	    (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFREG)
		return 0;
	i = irc_sens_file(cfg, f, name);
	if (i < 0 || irc_exe_allowed(cfg, name))
		return 0;
	irc_host_fire(cfg, IRC_DET_SENSITIVE, cfg->sens_files[i & (IRC_SENS_FILES - 1)], 0, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int irc_openat(struct trace_event_raw_sys_exit *ctx)
{
	return irc_open_detect(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int irc_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return irc_open_detect(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open")
int irc_open(struct trace_event_raw_sys_exit *ctx)
{
	return irc_open_detect(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open_by_handle_at")
int irc_open_by_handle(struct trace_event_raw_sys_exit *ctx)
{
	return irc_open_detect(ctx->ret);
}

SEC("tp/syscalls/sys_enter_ptrace")
int irc_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	struct irc_detcfg *cfg = irc_detcfg_get();
	long req = ctx->args[0];

	if (!cfg || !cfg->det[IRC_DET_PTRACE].enabled ||
	    (req != PTRACE_ATTACH && req != PTRACE_SEIZE) || !irc_in_scope())
		return 0;
	irc_host_fire(cfg, IRC_DET_PTRACE, NULL, ctx->args[1], 0);
	return 0;
}

static __always_inline int irc_module_detect(void)
{
	struct irc_detcfg *cfg = irc_detcfg_get();

	if (cfg && cfg->det[IRC_DET_MODULE].enabled && irc_in_scope())
		irc_host_fire(cfg, IRC_DET_MODULE, NULL, 0, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_init_module")
int irc_init_module(struct trace_event_raw_sys_enter *ctx)
{
	return irc_module_detect();
}

SEC("tp/syscalls/sys_enter_finit_module")
int irc_finit_module(struct trace_event_raw_sys_enter *ctx)
{
	return irc_module_detect();
}

/*
 * contain-then-kill's guard.  A process stopped for its controller does
 * not make system calls; one that does was resumed (a SIGCONT, the
 * orphaned-process-group rule): before its deadline it is stopped again,
 * after it killed, the controller's snapshot or not.  The cost of every
 * system call on the host: one array lookup while no process awaits its
 * kill.
 */
SEC("raw_tp/sys_enter")
int irc_pkill_guard(void *ctx)
{
	__u32 zero = 0, tgid;
	struct irc_detstate *ds = bpf_map_lookup_elem(&IRC_MAP_DETSTATE, &zero);
	struct irc_pkill *pk;

	if (!ds || !ds->pkill_pending)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	pk = bpf_map_lookup_elem(&IRC_MAP_PKILL, &tgid);
	if (!pk)
		return 0;
	bpf_send_signal(bpf_ktime_get_boot_ns() >= pk->deadline_ns ? SIGKILL : SIGSTOP);
	return 0;
}

#endif
