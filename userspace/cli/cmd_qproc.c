// SPDX-License-Identifier: GPL-2.0-only
/*
 * quarantine pid|cgroup, release pid|cgroup.
 *
 * Order matters for a quarantine to be tight: the entry goes in first (from
 * then on the kernel refuses new sockets, connects, sends and binds, and
 * every fork inherits it), then the existing descendants are found and
 * entered, then the sockets they already hold are cut by cookie, and only
 * then are signals sent.  Nothing moves processes between cgroups.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include "ircontain/abi.h"
#include "cgroup.h"
#include "cmd.h"
#include "entity.h"
#include "entries.h"
#include "irc.h"
#include "loader.h"
#include "parse.h"
#include "proc.h"
#include "qopts.h"
#include "qproc.h"
#include "policy.h"
#include "snapshot.h"
#include "store.h"


/* The process hooks must be attached (checked in the kernel); returns their cgroup root. */
static int hooks_root(const struct irc_maps *m, const char *what,
		      struct irc_config *cfg)
{
	int err = irc_require_enforced(m, what, IRC_ENF_PROC);

	return err ? err : irc_config_read(m, cfg);
}

/* ---- quarantine pid ---------------------------------------------------- */

/* Refusals that need no map: exit 2 and nothing changed. */
static int check_target_pid(const char *arg, int pid, bool force,
			    struct irc_proc *p)
{
	const char *what = "quarantine pid";
	int err;

	if (pid == 1)
		return irc_usage_err("%s %s: refused: PID 1 is init; cutting it cuts the host (use 'isolate on')",
				     what, arg);
	if (pid == getpid())
		return irc_usage_err("%s %s: refused: that is this ircontain process", what, arg);
	err = irc_proc_read(pid, p);
	if (err == -ESRCH)
		return irc_usage_err("%s %s: no such process", what, arg);
	if (err) {
		irc_err("%s %s: read /proc/%d/stat: %s", what, arg, pid, strerror(-err));
		return IRC_EXIT_FAIL;
	}
	if (p->kthread)
		return irc_usage_err("%s %s: refused: %s is a kernel thread", what, arg, p->comm);
	if (p->state == 'Z')
		return irc_usage_err("%s %s: refused: %s is a zombie (it has exited)", what, arg, p->comm);
	if (irc_proc_is_ancestor(pid, getppid()) && !force)
		return irc_usage_err("%s %s: refused: %s is an ancestor of this shell, so this would cut your own session; add --force if you mean it",
				     what, arg, p->comm);
	return 0;
}

static void signal_tree(const int *pids, size_t n, int sig)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] != getpid())
			kill(pids[i], sig);
}

/*
 * --action stop: the stopped tree frozen by the cgroup v2 freezer, then
 * continued (SIGCONT: frozen, it does not run), so that no stopped job is
 * left for the kernel's orphaned-process-group rule to hang up and
 * continue, and no SIGCONT by anyone resumes it.  Returns how many were
 * frozen; one that could not be stays stopped by SIGSTOP, with a warning.
 */
/* 1 if quarantine root @root still has its entry (freeze cgroups kept). */
static int root_live(unsigned int root, void *ctx)
{
	struct irc_pentry e;
	__u32 key = root;

	return !bpf_map_lookup_elem(*(int *)ctx, &key, &e);
}

static size_t freeze_tree(const char *what, const char *arg, const int *pids, size_t n,
			  __u32 root, int qpid_fd)
{
	char fpath[PATH_MAX], cgs[8][PATH_MAX];
	size_t i, j, ncgs = 0, frozen = 0, gone = 0;
	int err, first = 0;
	int *ok = calloc(n, sizeof(*ok));

	if (!ok)
		return 0;
	for (i = 0; i < n; i++) {
		if (pids[i] == getpid())
			continue;
		err = irc_cgroup_freeze_pid(pids[i], root, fpath, sizeof(fpath));
		if (err == -ESRCH) {
			gone++;		/* exited since it was listed: nothing to freeze */
			continue;
		}
		if (err) {
			first = first ?: err;
			continue;
		}
		ok[i] = 1;
		frozen++;
		/* A tree spread over more cgroups than this is waited for in part. */
		for (j = 0; j < ncgs && strcmp(cgs[j], fpath); j++)
			;
		if (j == ncgs && ncgs < sizeof(cgs) / sizeof(cgs[0]))
			snprintf(cgs[ncgs++], sizeof(cgs[0]), "%s", fpath);
	}
	for (i = 0; i < n; i++)
		if (ok[i])
			kill(pids[i], SIGCONT);
	for (j = 0; j < ncgs; j++) {
		if (irc_cgroup_frozen_wait(cgs[j], IRC_FREEZE_WAIT_MS))
			irc_warn("%s %s: the cgroup freezer did not report %s frozen within %d ms",
				 what, arg, cgs[j], IRC_FREEZE_WAIT_MS);
		irc_cgroup_freeze_gc(cgs[j], root_live, &qpid_fd);
	}
	if (first)
		irc_warn("%s %s: %zu of %zu processes not frozen (%s): stopped by SIGSTOP only, which the kernel undoes if their process group is orphaned",
			 what, arg, n - frozen - gone, n, strerror(-first));
	free(ok);
	return frozen;
}

/* Undoes freeze_tree() for one process, then continues it. */
static void resume(int pid)
{
	irc_cgroup_thaw_pid(pid);
	kill(pid, SIGCONT);
}

/*
 * Snapshots of the processes about to be contained, in two halves so the
 * containment never waits for a hash: snaps_take() reads each process as
 * it is (before anything changes it) and holds its executable open;
 * snaps_store(), after the containment, hashes those executables (the
 * same files, even if the process is dead or the file deleted by then)
 * and stores everything in one short transaction, after no lock was held
 * while reading.  The first store error ends the appends.
 */
struct snapset {
	size_t n;
	int pids[IRC_SNAP_MAX_PROCS];
	int exe_fd[IRC_SNAP_MAX_PROCS];
	json_t *snaps[IRC_SNAP_MAX_PROCS];
	int first_err;
};

static void snaps_take(struct snapset *ss, const char *what, const char *arg,
		       const int *pids, size_t n)
{
	size_t i;
	int err;

	memset(ss, 0, sizeof(*ss));
	if (n > IRC_SNAP_MAX_PROCS)
		irc_warn("%s %s: %zu processes, snapshots of the first %d only", what, arg,
			 n, IRC_SNAP_MAX_PROCS);
	ss->n = n < IRC_SNAP_MAX_PROCS ? n : IRC_SNAP_MAX_PROCS;
	for (i = 0; i < ss->n; i++) {
		ss->pids[i] = pids[i];
		err = irc_snapshot_begin(pids[i], "/proc", &ss->snaps[i], &ss->exe_fd[i]);
		if (err && err != -ESRCH) {
			irc_warn("%s %s: snapshot of PID %d not taken: %s", what, arg,
				 pids[i], strerror(-err));
			ss->first_err = ss->first_err ?: err;
		}
	}
}

/* Returns how many were stored, or -errno after a warning. */
static int snaps_store(struct snapset *ss, const char *what, const char *arg,
		       int64_t incident)
{
	struct irc_store *s = NULL;
	char actor[64];
	int err, stored = 0;
	size_t i;

	for (i = 0; i < ss->n; i++) {
		if (ss->snaps[i])
			irc_snapshot_hash(ss->snaps[i], ss->exe_fd[i], IRC_SNAP_HASH_MAX);
		else if (ss->exe_fd[i] >= 0)
			close(ss->exe_fd[i]);
	}
	irc_actor(actor, sizeof(actor));
	err = irc_store_open(&s, irc.state_dir, true);
	if (!err)
		err = irc_store_begin(s);
	for (i = 0; !err && i < ss->n; i++) {
		if (!ss->snaps[i])
			continue;
		err = irc_snapshot_append(s, incident, ss->pids[i], ss->snaps[i], actor);
		stored += !err;
	}
	if (!err)
		err = irc_store_commit(s);
	else if (s)
		irc_store_rollback(s);
	if (err) {
		irc_warn("%s %s: snapshots not stored: %s", what, arg, irc_store_errmsg());
		stored = 0;
	}
	irc_store_close(s);
	for (i = 0; i < ss->n; i++)
		json_decref(ss->snaps[i]);
	ss->n = 0;
	return err ?: ss->first_err ?: stored;
}

/* What a quarantine pid did: printed, then recorded. */
struct qpid_result {
	int pid;
	struct irc_proc p;
	bool existed;
	int *tree;		/* the root, then the descendants entered */
	size_t ntree, frozen;
	int socks;
};

/* snaps_take() of @pid and, with @children, of its descendants as they are now. */
static void snaps_take_tree(struct snapset *ss, const char *what, const char *arg, int pid,
			    bool children)
{
	int pids[IRC_SNAP_MAX_PROCS], *desc = NULL;
	size_t n = 0, i;

	if (children && irc_proc_descendants(pid, &desc, &n))
		n = 0;
	pids[0] = pid;
	for (i = 0; i < n && i + 1 < IRC_SNAP_MAX_PROCS; i++)
		pids[i + 1] = desc[i];
	snaps_take(ss, what, arg, pids, n + 1);
	free(desc);
}

/* Fills @r->pid and @r->p from the operand (a thread stands for its process); exit code. */
static int pid_target(const char *what, const struct irc_qopts *o, struct qpid_result *r)
{
	uint64_t pid;
	int ret;

	if (irc_parse_u64(o->operand, 1, IRC_PID_MAX, &pid, NULL))
		return irc_usage_err("%s: bad PID '%s': a number from 1 to %d", what,
				     o->operand, IRC_PID_MAX);
	ret = check_target_pid(o->operand, pid, o->force, &r->p);
	if (ret)
		return ret;
	/* A thread id stands for its process: the kernel keys on the tgid. */
	if (r->p.tgid != (int)pid) {
		irc_warn("%s %s: %s is a thread of process %d: quarantining the process",
			 what, o->operand, r->p.comm, r->p.tgid);
		pid = r->p.tgid;
		ret = check_target_pid(o->operand, pid, o->force, &r->p);
	}
	r->pid = pid;
	return ret;
}

/* @pid must be under the hooks' cgroup root @root; exit code. */
static int pid_in_scope(const char *what, const char *arg, int pid, const char *root)
{
	char cgpath[PATH_MAX];
	int err = irc_proc_cgroup_path(pid, cgpath, sizeof(cgpath));

	if (err)
		return irc_usage_err("%s %s: refused: cannot tell its cgroup (%s)", what,
				     arg, strerror(-err));
	if (!irc_path_under(cgpath, root))
		return irc_usage_err("%s %s: refused: it is in cgroup %s, outside %s where the hooks are attached",
				     what, arg, cgpath, root);
	return 0;
}

/* The entry in @map (-errno, said). */
static int entry_put(struct irc_maps *m, int map, const void *key, const struct irc_pentry *e,
		     const char *what, const char *arg)
{
	char full[128];
	int err = irc_map_update_gc(m, map, key, e, BPF_ANY);

	if (err)
		irc_err("%s %s: %s", what, arg, IRC_ERR_FULL(err) ?
			irc_map_full_msg(m, map, full, sizeof(full)) : strerror(-err));
	return err;
}

/*
 * The root's entry, then its existing descendants'.  Forks after the
 * root's entry went in are caught by the kernel; a second pass catches
 * those forked by a descendant while the first pass was entering it.
 * Fills @r->existed, @r->tree and @r->ntree (the root, then the
 * descendants entered).  -errno, said.
 */
static int enter_tree(struct irc_maps *m, const char *what, const struct irc_qopts *o,
		      const char *root, struct irc_pentry *e, struct qpid_result *r)
{
	char cgpath[PATH_MAX];
	struct irc_pentry old;
	__u32 key = r->pid;
	int *desc = NULL, pass, err;
	size_t ndesc = 0, i;

	r->existed = bpf_map_lookup_elem(m->fd[IRC_M_QPID], &key, &old) == 0;
	e->denied = r->existed ? old.denied : 0;
	err = entry_put(m, IRC_M_QPID, &key, e, what, o->operand);
	if (err)
		return err;
	e->flags |= IRC_PF_INHERITED;
	e->denied = 0;
	for (pass = 0; o->children && pass < 2; pass++) {
		free(desc);
		desc = NULL;
		if (irc_proc_descendants(r->pid, &desc, &ndesc))
			break;
		for (i = 0; i < ndesc; i++) {
			/*
			 * A descendant outside the hooks' cgroup root (moved by
			 * pam_systemd, say) is out of scope: no entry, no signal.
			 */
			if (irc_proc_cgroup_path(desc[i], cgpath, sizeof(cgpath)) ||
			    !irc_path_under(cgpath, root)) {
				desc[i] = 0;
				continue;
			}
			key = desc[i];
			bpf_map_update_elem(m->fd[IRC_M_QPID], &key, e, BPF_NOEXIST);
		}
	}
	if (!o->children)
		ndesc = 0;
	r->tree = malloc((ndesc + 1) * sizeof(*r->tree));
	if (!r->tree) {
		free(desc);
		irc_err("%s %s: out of memory", what, o->operand);
		return -ENOMEM;
	}
	r->ntree = 1;
	r->tree[0] = r->pid;
	for (i = 0; i < ndesc; i++)
		if (desc[i])
			r->tree[r->ntree++] = desc[i];
	free(desc);
	return 0;
}

/* Cuts the sockets the tree already holds, in both directions; how many. */
static int cut_sockets(const struct irc_maps *m, const struct qpid_result *r, __u64 expires_ns)
{
	struct irc_sock_cut sc = { .fd = m->fd[IRC_M_QSOCK] };
	int socks = 0, err;
	size_t i;

	sc.v.root = r->pid;
	sc.v.expires_ns = expires_ns;
	for (i = 0; i < r->ntree; i++) {
		sc.v.tgid = r->tree[i];
		err = irc_proc_sockets(r->tree[i], irc_sock_cut_add, &sc);
		if (err > 0)
			socks += err;
		else if (err < 0 && err != -ESRCH)
			irc_warn("sockets of PID %d not all cut: %s", r->tree[i], strerror(-err));
	}
	if (sc.full)
		irc_warn("the socket table (%u) is full: some open sockets are not cut",
			 IRC_MAX_SOCKS);
	return socks;
}

static json_t *qpid_json(const struct irc_qopts *o, const struct qpid_result *r)
{
	char target[24];

	snprintf(target, sizeof(target), "%d", r->pid);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:b,s:o,s:s}",
			 "action", "quarantine", "kind", "pid", "target", target,
			 "result", r->existed ? "updated" : "added",
			 "process_action", irc_pact_name(o->action),
			 "processes", (json_int_t)r->ntree, "frozen", (json_int_t)r->frozen,
			 "sockets_cut", r->socks,
			 "children", o->children,
			 "ttl", o->ttl ? json_integer(o->ttl) : json_null(),
			 "reason", o->reason);
}

static void qpid_text(const struct irc_qopts *o, const struct qpid_result *r)
{
	printf("%s PID %d (%s): %zu process%s, %d open socket%s cut, action %s, ttl %s%s%s%s\n",
	       r->existed ? "updated quarantine of" : "quarantined", r->pid, r->p.comm,
	       r->ntree, r->ntree == 1 ? "" : "es", r->socks, r->socks == 1 ? "" : "s",
	       irc_pact_name(o->action), o->ttl_text,
	       *o->reason ? ", reason \"" : "", o->reason, *o->reason ? "\"" : "");
}

/* Contained (or failed): the slow half of the evidence, then the record. */
static int qpid_record(int ret, int kerr, const struct irc_qopts *o, struct snapset *ss,
		       const struct qpid_result *r)
{
	char entity[32];
	int snaps = snaps_store(ss, "quarantine pid", o->operand, o->incident);

	if (snaps < 0 && ret == IRC_EXIT_OK)
		ret = IRC_EXIT_FAIL;
	irc_entity_pid(entity, sizeof(entity), r->pid);
	return irc_qrecord(ret, o->incident, o->action == IRC_PACT_KILL ? "kill" :
			   o->action == IRC_PACT_STOP ? "stop" : "quarantine", entity,
			   o->reason, kerr, json_pack("{s:o,s:s,s:b,s:I,s:I,s:i,s:i,s:s,s:s,s:b}",
				"ttl", o->ttl ? json_integer(o->ttl) : json_null(),
				"action", irc_pact_name(o->action), "children", o->children,
				"processes", (json_int_t)(kerr ? 0 : r->ntree),
				"frozen", (json_int_t)r->frozen,
				"sockets_cut", r->socks, "snapshots", snaps > 0 ? snaps : 0,
				"comm", r->p.comm,
				"change", kerr ? "none" : r->existed ? "updated" : "added",
				"force", o->force));
}

int do_quarantine_pid(int argc, char **argv)
{
	const char *what = "quarantine pid";
	struct qpid_result r = { 0 };
	struct irc_pentry e = {};
	struct irc_config cfg;
	struct irc_qopts o;
	struct irc_maps m;
	struct snapset ss = { 0 };
	int ret, kerr;

	ret = irc_qopts_parse(argc, argv, IRC_QO_TTL | IRC_QO_REASON | IRC_QO_FORCE |
			      IRC_QO_ACTION | IRC_QO_CHILDREN | IRC_QO_INCIDENT, what, "PID", &o);
	if (ret)
		return ret;
	ret = pid_target(what, &o, &r);
	if (ret)
		return ret;
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	ret = hooks_root(&m, what, &cfg) ? IRC_EXIT_FAIL :
	      pid_in_scope(what, o.operand, r.pid, cfg.cgroup_root);
	if (ret) {
		irc_maps_close(&m);
		return ret;
	}

	/* The evidence first: the processes as they were before anything changed. */
	snaps_take_tree(&ss, what, o.operand, r.pid, o.children);

	e.expires_ns = irc_qopts_expiry(&o);
	e.created_ns = irc_now_real_ns();
	e.root = r.pid;
	e.flags = o.children ? IRC_PF_CHILDREN : 0;
	e.action = o.action;
	e.actor_uid = irc_actor_uid();
	e.origin = IRC_ORIGIN_OPERATOR;
	snprintf(e.reason, sizeof(e.reason), "%s", o.reason);
	kerr = enter_tree(&m, what, &o, cfg.cgroup_root, &e, &r);
	if (!kerr) {
		r.socks = cut_sockets(&m, &r, e.expires_ns);
		if (o.action != IRC_PACT_DENY) {
			/* Stop everything first so nothing forks past the kill. */
			signal_tree(r.tree, r.ntree, SIGSTOP);
			if (o.action == IRC_PACT_KILL)
				signal_tree(r.tree, r.ntree, SIGKILL);
			else
				r.frozen = freeze_tree(what, o.operand, r.tree, r.ntree, r.pid,
						       m.fd[IRC_M_QPID]);
		}
		irc.json ? irc_json_print(qpid_json(&o, &r)) : qpid_text(&o, &r);
	}
	ret = kerr ? IRC_EXIT_FAIL : IRC_EXIT_OK;
	free(r.tree);
	irc_maps_close(&m);
	return qpid_record(ret, kerr, &o, &ss, &r);
}

/* ---- release pid ------------------------------------------------------- */

/*
 * Removes the entries of the tree rooted at @root (or the single entry
 * @root when it is an inherited one) and the socket cookies that answer
 * to them; resumes stopped processes.  Returns the number removed.
 */
static long release_tree(const struct irc_maps *m, __u32 root, bool single)
{
	__u32 key, next, *prev = NULL;
	struct irc_pentry e;
	__u32 *del = NULL;
	size_t n = 0, cap = 0, i;
	__u64 ck, cnext, *cprev = NULL;
	struct irc_qsock qs;

	while (bpf_map_get_next_key(m->fd[IRC_M_QPID], prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->fd[IRC_M_QPID], &key, &e))
			continue;
		if (single ? key != root : e.root != root)
			continue;
		if (n == cap) {
			void *t = realloc(del, (cap = cap ? cap * 2 : 64) * sizeof(*del));

			if (!t)
				break;
			del = t;
		}
		/* Bit 31 marks a stopped one: it is resumed once released. */
		del[n++] = key | (e.action == IRC_PACT_STOP ? 1U << 31 : 0);
	}
	for (i = 0; i < n; i++) {
		key = del[i] & ~(1U << 31);
		bpf_map_delete_elem(m->fd[IRC_M_QPID], &key);
	}
	/* Only now, with every entry gone, may a stopped process run on. */
	for (i = 0; i < n; i++) {
		if (del[i] & (1U << 31))
			resume(del[i] & ~(1U << 31));
		del[i] &= ~(1U << 31);
	}
	/* Cookies of released processes: their sockets carry data again. */
	while (n && bpf_map_get_next_key(m->fd[IRC_M_QSOCK], cprev, &cnext) == 0) {
		ck = cnext;
		cprev = &ck;
		if (bpf_map_lookup_elem(m->fd[IRC_M_QSOCK], &ck, &qs))
			continue;
		/* A tree takes its sockets along; a single process its own. */
		if (single ? qs.tgid == root : qs.root == root)
			bpf_map_delete_elem(m->fd[IRC_M_QSOCK], &ck);
	}
	free(del);
	return n;
}

int do_release_pid(int argc, char **argv)
{
	const char *what = "release pid";
	char entity[IRC_ENTITY_LEN];
	struct irc_qopts o;
	struct irc_proc p;
	struct irc_pentry e;
	struct irc_maps m;
	uint64_t pid;
	long n = 0;
	__u32 key;
	int ret, err = 0;

	ret = irc_qopts_parse(argc, argv, IRC_QO_RELEASE, what, "PID", &o);
	if (ret)
		return ret;
	if (irc_parse_u64(o.operand, 1, IRC_PID_MAX, &pid, NULL))
		return irc_usage_err("%s: bad PID '%s': a number from 1 to %d", what,
				     o.operand, IRC_PID_MAX);
	/* A thread id stands for its process, as in quarantine pid. */
	if (irc_proc_read(pid, &p) == 0 && p.tgid != (int)pid)
		pid = p.tgid;
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	key = pid;
	if (bpf_map_lookup_elem(m.fd[IRC_M_QPID], &key, &e)) {
		err = -ENOENT;
		irc_err("%s %s: not quarantined", what, o.operand);
		ret = IRC_EXIT_FAIL;
	} else {
		/* An inherited entry goes alone; a root takes its whole tree. */
		n = release_tree(&m, key, e.root != key);
	}
	irc_maps_close(&m);
	if (!err)
		irc_release_print(&(struct irc_released){ .kind = "pid", .target = o.operand,
							  .n = n });
	irc_entity_pid(entity, sizeof(entity), key);
	return irc_qrecord(ret, o.incident, "release", entity, o.reason, err,
			   json_pack("{s:s,s:I}", "kind", "pid", "processes", (json_int_t)n));
}

/* ---- quarantine cgroup ------------------------------------------------- */

/* Absolute, canonical cgroup path for @arg (relative = under the mount). */
static int resolve_cgroup(const char *what, const char *arg, char *out,
			  size_t len)
{
	char mnt[PATH_MAX], joined[PATH_MAX * 2];
	const char *why;
	int err;

	/* The path goes into records and reports: it must show as it is. */
	if (irc_parse_text(arg, PATH_MAX - 1, &why))
		return irc_usage_err("%s: bad cgroup '%s': %s", what, irc_shown(arg), why);
	if (arg[0] != '/') {
		if (irc_cgroup2_mount(mnt, sizeof(mnt)))
			return irc_usage_err("%s: bad cgroup '%s': no cgroup v2 mount", what, irc_shown(arg));
		snprintf(joined, sizeof(joined), "%s/%s", mnt, arg);
		arg = joined;
	}
	if (strlen(arg) >= PATH_MAX || !realpath(arg, out))
		return irc_usage_err("%s: bad cgroup '%s': %s", what, irc_shown(arg),
				     strlen(arg) >= PATH_MAX ? "path too long" : strerror(errno));
	err = irc_cgroup_check(out);
	if (err)
		return irc_usage_err("%s: bad cgroup '%s': not a cgroup v2 directory", what, irc_shown(arg));
	if (strlen(out) >= len)
		return irc_usage_err("%s: bad cgroup '%s': path too long", what, irc_shown(arg));
	return 0;
}

/*
 * The processes of the cgroup at @path and below, at most @max (more is
 * counted in *@more).  Bounded in depth as the snapshots are in number.
 */
static void cgroup_procs(const char *path, int depth, int *pids, size_t max,
			 size_t *n, size_t *more)
{
	char sub[PATH_MAX];
	struct dirent *de;
	FILE *f;
	DIR *d;
	int pid;

	snprintf(sub, sizeof(sub), "%s/cgroup.procs", path);
	f = fopen(sub, "re");
	if (f) {
		while (fscanf(f, "%d", &pid) == 1) {
			if (*n < max)
				pids[(*n)++] = pid;
			else
				(*more)++;
		}
		fclose(f);
	}
	if (depth >= 32 || !(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < (int)sizeof(sub))
			cgroup_procs(sub, depth + 1, pids, max, n, more);
	closedir(d);
}

int do_quarantine_cgroup(int argc, char **argv)
{
	const char *what = "quarantine cgroup";
	char path[PATH_MAX], own[PATH_MAX], entity[PATH_MAX + 8];
	int pids[IRC_SNAP_MAX_PROCS];
	size_t npids = 0, more = 0;
	struct irc_pentry e = {};
	struct irc_config cfg;
	struct irc_qopts o;
	struct irc_maps m;
	uint64_t id;
	bool existed = false, acted = false;
	int ret, kerr = 0, snaps = 0;
	struct snapset ss = { 0 };

	ret = irc_qopts_parse(argc, argv, IRC_QO_TTL | IRC_QO_REASON | IRC_QO_FORCE |
			      IRC_QO_INCIDENT, what, "PATH", &o);
	if (ret)
		return ret;
	/* Any path the kernel takes: the records and their restore keep it whole. */
	ret = resolve_cgroup(what, o.operand, path, sizeof(path));
	if (ret)
		return ret;
	if (irc_proc_cgroup_path(getpid(), own, sizeof(own)) == 0 &&
	    irc_path_under(own, path) && !o.force)
		return irc_usage_err("%s %s: refused: this shell runs in %s, inside it, so this would cut your own session; add --force if you mean it",
				     what, o.operand, own);
	if (irc_cgroup_id(path, &id)) {
		irc_err("%s %s: cgroup id of %s: %s", what, o.operand, path, strerror(errno));
		return IRC_EXIT_FAIL;
	}
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	ret = IRC_EXIT_FAIL;
	if (hooks_root(&m, what, &cfg))
		goto out;
	if (!irc_path_under(path, cfg.cgroup_root)) {
		ret = irc_usage_err("%s %s: refused: %s is outside %s where the hooks are attached",
				    what, o.operand, path, cfg.cgroup_root);
		goto out;
	}
	/* The evidence first: each process as it was before anything changed. */
	acted = true;
	cgroup_procs(path, 0, pids, IRC_SNAP_MAX_PROCS, &npids, &more);
	if (more)
		irc_warn("%s %s: %zu processes, snapshots of the first %d only", what,
			 o.operand, npids + more, IRC_SNAP_MAX_PROCS);
	snaps_take(&ss, what, o.operand, pids, npids);

	existed = bpf_map_lookup_elem(m.fd[IRC_M_QCGRP], &id, &e) == 0;
	e.expires_ns = irc_qopts_expiry(&o);
	if (!existed) {
		e.created_ns = irc_now_real_ns();
		e.denied = 0;
	}
	e.root = 0;
	e.flags = IRC_PF_CHILDREN;
	e.action = IRC_PACT_DENY;
	e.actor_uid = irc_actor_uid();
	e.origin = IRC_ORIGIN_OPERATOR;
	snprintf(e.reason, sizeof(e.reason), "%s", o.reason);
	kerr = entry_put(&m, IRC_M_QCGRP, &id, &e, what, o.operand);
	if (kerr)
		goto out;
	irc_qproc_sync_cgroup_flag(&m);
	irc_qopts_print(&o, "cgroup", path, existed);
	ret = IRC_EXIT_OK;
out:
	irc_maps_close(&m);
	if (!acted)
		return ret;
	/* Contained (or failed): now the slow half of the evidence. */
	snaps = snaps_store(&ss, what, o.operand, o.incident);
	if (snaps < 0 && ret == IRC_EXIT_OK)
		ret = IRC_EXIT_FAIL;
	irc_entity_cgroup(entity, sizeof(entity), path);
	return irc_qrecord(ret, o.incident, "quarantine", entity, o.reason, kerr,
			   json_pack("{s:o,s:I,s:i,s:s,s:b}",
				"ttl", o.ttl ? json_integer(o.ttl) : json_null(),
				"processes", (json_int_t)(npids + more),
				"snapshots", snaps > 0 ? snaps : 0,
				"change", kerr ? "none" : existed ? "updated" : "added",
				"force", o.force));
}

int do_release_cgroup(int argc, char **argv)
{
	const char *what = "release cgroup";
	char path[PATH_MAX], entity[PATH_MAX + 8];
	struct irc_qopts o;
	struct irc_maps m;
	uint64_t id;
	int ret, err = 0;

	ret = irc_qopts_parse(argc, argv, IRC_QO_RELEASE, what, "PATH", &o);
	if (ret)
		return ret;
	ret = resolve_cgroup(what, o.operand, path, sizeof(path));
	if (ret)
		return ret;
	if (irc_cgroup_id(path, &id)) {
		irc_err("%s %s: cgroup id: %s", what, o.operand, strerror(errno));
		return IRC_EXIT_FAIL;
	}
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	if (bpf_map_delete_elem(m.fd[IRC_M_QCGRP], &id)) {
		err = -errno;
		irc_err("%s %s: not quarantined", what, o.operand);
		ret = IRC_EXIT_FAIL;
	} else {
		irc_qproc_sync_cgroup_flag(&m);
		irc_release_print(&(struct irc_released){ .kind = "cgroup", .target = path });
	}
	irc_maps_close(&m);
	irc_entity_cgroup(entity, sizeof(entity), path);
	return irc_qrecord(ret, o.incident, "release", entity, o.reason, err,
			   json_pack("{s:s}", "kind", "cgroup"));
}

long irc_qproc_release_all(const struct irc_maps *m)
{
	__u32 key, *stopped = NULL;
	size_t nstopped = 0, cap = 0, i;
	struct irc_pentry e;
	long n = 0;
	__u64 id;
	int err = 0;

	while (bpf_map_get_next_key(m->fd[IRC_M_QPID], NULL, &key) == 0) {
		if (!bpf_map_lookup_elem(m->fd[IRC_M_QPID], &key, &e) &&
		    e.action == IRC_PACT_STOP) {
			if (nstopped == cap) {
				void *t = realloc(stopped, (cap = cap ? cap * 2 : 64) * sizeof(*stopped));

				if (!t) {
					err = -ENOMEM;
					break;
				}
				stopped = t;
			}
			stopped[nstopped++] = key;
		}
		if (bpf_map_delete_elem(m->fd[IRC_M_QPID], &key)) {
			err = -errno;
			break;
		}
		n++;
	}
	while (!err && bpf_map_get_next_key(m->fd[IRC_M_QCGRP], NULL, &id) == 0) {
		if (bpf_map_delete_elem(m->fd[IRC_M_QCGRP], &id)) {
			err = -errno;
			break;
		}
		n++;
	}
	while (!err && bpf_map_get_next_key(m->fd[IRC_M_QSOCK], NULL, &id) == 0)
		if (bpf_map_delete_elem(m->fd[IRC_M_QSOCK], &id))
			err = -errno;
	irc_qproc_sync_cgroup_flag(m);
	/*
	 * Resume the stopped ones last, with every process and cgroup entry
	 * gone: their first call after SIGCONT must not be refused.
	 */
	for (i = 0; i < nstopped; i++)
		resume(stopped[i]);
	free(stopped);
	return err ? err : n;
}

/* ---- list -------------------------------------------------------------- */

/* What both forms of a row show, worked out once. */
struct prow_view {
	char created[32], actor[64];
	bool expired;
	int64_t left;		/* seconds; -1: no expiry */
};

static void prow_view(const struct irc_prow *r, uint64_t now_boot, struct prow_view *v)
{
	const struct irc_pentry *e = r->e;

	v->expired = e->expires_ns && e->expires_ns <= now_boot;
	v->left = !e->expires_ns ? -1 : v->expired ? 0 :
		  (int64_t)((e->expires_ns - now_boot + 999999999ULL) / 1000000000ULL);
	irc_fmt_utc(e->created_ns, v->created, sizeof(v->created));
	if (e->origin == IRC_ORIGIN_DETECTOR)
		snprintf(v->actor, sizeof(v->actor), "detector:%s",
			 irc_detector_name(e->actor_uid));
	else
		irc_actor_name(e->actor_uid, v->actor, sizeof(v->actor));
}

json_t *irc_qproc_row_json(const struct irc_prow *r, uint64_t now_boot)
{
	const struct irc_pentry *e = r->e;
	struct prow_view v;

	prow_view(r, now_boot, &v);
	return json_pack("{s:s,s:s,s:s,s:o,s:b,s:s,s:s,s:o,s:b,s:I,s:s,s:s}",
		"kind", r->kind, "target", r->target,
		"process_action", irc_pact_name(e->action),
		"processes", r->procs >= 0 ? json_integer(r->procs) : json_null(),
		"children", !!(e->flags & IRC_PF_CHILDREN),
		"reason", e->reason, "created", v.created,
		"ttl_remaining", v.left >= 0 ? json_integer(v.left) : json_null(),
		"expired", v.expired, "denied", (json_int_t)r->denied,
		"actor", v.actor,
		"origin", e->origin == IRC_ORIGIN_DETECTOR ? "detector" : "operator");
}

void irc_qproc_row_text(const struct irc_prow *r, uint64_t now_boot, bool first)
{
	char ttl[32] = "-", nprocs[24];
	struct prow_view v;

	prow_view(r, now_boot, &v);
	if (v.expired)
		snprintf(ttl, sizeof(ttl), "expired");
	else if (v.left >= 0)
		irc_format_duration(v.left, ttl, sizeof(ttl));
	snprintf(nprocs, sizeof(nprocs), r->procs >= 0 ? "%ld" : "-", r->procs);
	if (first)
		printf("%-6s %-40s %-5s %5s %-8s %10s  %-20s  %-12s %s\n", "KIND",
		       "TARGET", "ACT", "PROCS", "TTL", "DENIED", "CREATED (UTC)",
		       "ACTOR", "REASON");
	printf("%-6s %-40s %-5s %5s %-8s %10llu  %-20s  %-12s %s\n", r->kind, r->target,
	       irc_pact_name(r->e->action), nprocs, ttl, (unsigned long long)r->denied,
	       v.created, v.actor, r->e->reason);
}

void irc_qproc_rows(const struct irc_maps *m,
		    void (*fn)(const struct irc_prow *r, void *ctx), void *ctx)
{
	__u32 key, next, *prev = NULL, rkey;
	struct irc_pentry e, r;
	struct irc_config cfg;
	__u64 id, idn, *iprev = NULL;
	char target[PATH_MAX];

	/* Process trees: one row per root, its descendants summed in. */
	while (bpf_map_get_next_key(m->fd[IRC_M_QPID], prev, &next) == 0) {
		__u32 k2, n2, *p2 = NULL;
		long procs;
		__u64 denied;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->fd[IRC_M_QPID], &key, &e))
			continue;
		/* Rows are roots, or orphans whose root has exited. */
		rkey = e.root;
		if (e.root != key && bpf_map_lookup_elem(m->fd[IRC_M_QPID], &rkey, &r) == 0)
			continue;
		/* A root counts its tree; an orphan counts itself. */
		procs = 1;
		denied = e.denied;
		while (e.root == key &&
		       bpf_map_get_next_key(m->fd[IRC_M_QPID], p2, &n2) == 0) {
			struct irc_pentry x;

			k2 = n2;
			p2 = &k2;
			if (k2 == key || bpf_map_lookup_elem(m->fd[IRC_M_QPID], &k2, &x) ||
			    x.root != key)
				continue;
			procs++;
			denied += x.denied;
		}
		snprintf(target, sizeof(target), "%u", key);
		fn(&(struct irc_prow){ "pid", target, &e, procs, denied }, ctx);
	}
	if (irc_config_read(m, &cfg))
		cfg.cgroup_root[0] = '\0';
	while (bpf_map_get_next_key(m->fd[IRC_M_QCGRP], iprev, &idn) == 0) {
		id = idn;
		iprev = &id;
		if (bpf_map_lookup_elem(m->fd[IRC_M_QCGRP], &id, &e))
			continue;
		if (irc_cgroup_path_by_id(cfg.cgroup_root[0] ? cfg.cgroup_root : "/sys/fs/cgroup",
					  id, target, sizeof(target)))
			snprintf(target, sizeof(target), "cgroup id %llu (removed)",
				 (unsigned long long)id);
		fn(&(struct irc_prow){ "cgroup", target, &e, -1, e.denied }, ctx);
	}
}
