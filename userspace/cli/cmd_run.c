// SPDX-License-Identifier: GPL-2.0-only
/*
 * run: the controller daemon, in the foreground.
 *
 * Reads the ring buffer, gives each record its process context and writes
 * it as one JSON line, and into the evidence store (runstore.c), where
 * findings open or join incidents.  Findings come on a ring of their own,
 * read first: before each poll and every FINDINGS_EVERY records of the
 * event ring, so a storm of ordinary events never holds a finding (and
 * the socket cut or snapshot it asks for) behind its backlog, nor crowds
 * it out of a full ring.  It is never in the enforcement path: if it dies, nothing is
 * released, and the kernel keeps counting what it could not deliver.
 * Every record carries its CPU's sequence number (findings their own), so
 * a record a ring had no room for shows as a gap; the daemon writes a
 * marker event for each gap and keeps totals that `status` shows.
 *
 * Signals: SIGTERM/SIGINT stop the reading within one poll interval
 * (100 ms), read what is left in the rings for at most a second more,
 * commit what was read and exit 0; SIGHUP re-reads and applies the policy
 * file (an invalid one is refused and the running one stays) and releases
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "cgroup.h"
#include "cmd.h"
#include "evjson.h"
#include "agent.h"
#include "fleet.h"
#include "irc.h"
#include "loader.h"
#include "metrics.h"
#include "netif.h"
#include "parse.h"
#include "pins.h"
#include "policy.h"
#include "proc.h"
#include "ptable.h"
#include "ctk.h"
#include "revshell.h"
#include "run.h"
#include "sensid.h"
#include "runstore.h"
#include "store.h"
#include "watch.h"

#define POLL_MS		100
#define DET_READ_NS	(100 * 1000000ULL)
#define DRAIN_MS	1000	/* reading what the rings held at a stop, at most */
#define FINDINGS_EVERY	64	/* event records between two reads of the findings */
#define CATCH_UP_MS	250	/* event records read before a finding, at most */
#define MAX_CPUS	1024
/*
 * After a round that emptied the ring, the reader waits this long before
 * it polls again.  The kernel wakes a reader only for the first record
 * after it caught up, so under a storm this turns one wake-up per record
 * or so into one per interval, and the records come in batches.  Only
 * the events file and the store wait: enforcement is the kernel's.
 */
#define BATCH_MS	5
/* The events file is written once per round, or when this much waits. */
#define OUT_FLUSH_BYTES	(1U << 20)

static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

struct daemon {
	struct irc_evctx ev;
	struct irc_ptable pt;
	int out_fd;			/* the events file, or 1 for "-" */
	struct irc_jbuf obuf;		/* its lines not written yet */
	uint64_t obuf_lines;
	const char *out_path;
	const char *policy;
	uint64_t share_ttl_s;		/* the policy's fleet: share_findings, 0: off */
	uint64_t last_seq[MAX_CPUS];
	uint64_t last_fseq[MAX_CPUS];	/* the findings ring's own sequence */
	int ev_fd, find_fd;		/* the event and findings rings */
	struct ring_buffer *rb;		/* both, polled together */
	struct ring_buffer *rb_ev;	/* the event ring alone */
	struct ring_buffer *rb_find;	/* the findings ring alone */
	unsigned int burst;		/* event records since the findings were read */
	uint64_t catch_ts;		/* catching up to this record time, or 0 */
	bool caught;			/* ... and there */
	uint64_t catch_end;		/* ... until then at most (CLOCK_BOOTTIME) */
	struct irc_run_stats st;
	struct irc_runstore *rs;
	uint64_t turn_ns;		/* CLOCK_BOOTTIME the poll loop last came round */
	int qsock_fd;
	int qpid_fd;
	struct irc_ctk ctk;		/* contain-then-kill */
	int detcfg_fd;
	struct irc_detcfg det;		/* the kernel's, re-read every DET_READ_NS */
	uint64_t det_read_ns;
	struct irc_rsh *rsh;		/* reverse shells by behaviour */
	enum irc_rs_events store_events;
	struct irc_watch *watch;
	/* The store's bounds: the policy's, or the defaults, then the options'. */
	struct irc_store_policy bounds;
	int64_t opt_max_bytes, opt_max_age;	/* -1: not given */
	/* With --fleet: the agent (fleet/agent.c) and its endpoints. */
	struct irc_agent *agent;
	struct irc_etcd_cfg fleet_cfg;
	/* With --metrics: the server (controller/metrics.c) and what it reports. */
	const char *metrics_addr;
	struct irc_metrics *metrics;
	uint64_t findings[IRC_DET__MAX];
};

/* The counters the metrics server shows, once a second. */
static void metrics_update(struct daemon *d)
{
	struct irc_metrics_snap s = { .st = d->st };

	if (!d->metrics)
		return;
	memcpy(s.findings, d->findings, sizeof(s.findings));
	s.fleet = d->agent ? irc_agent_json(d->agent) : NULL;
	irc_metrics_update(d->metrics, &s);
}

/* The store's bounds as they stand, to the writer. */
static void bounds_apply(struct daemon *d)
{
	struct irc_prune_limits l = {
		.max_bytes = d->opt_max_bytes >= 0 ? d->opt_max_bytes : (int64_t)d->bounds.max_bytes,
		.max_age_s = d->opt_max_age >= 0 ? d->opt_max_age : (int64_t)d->bounds.max_age_s,
		.keep_unexported = d->bounds.keep_unexported,
	};

	irc_rs_set_prune(d->rs, &l);
}

/* "off", or a size / duration for --store-max-size / --store-max-age. */
static int bound_arg(const char *opt, const char *arg, int64_t *out)
{
	const char *why;
	uint64_t v;

	if (!strcmp(arg, "off")) {
		*out = 0;
		return 0;
	}
	if (opt[12] == 's' ? irc_parse_size(arg, IRC_STORE_SIZE_MIN, IRC_STORE_SIZE_MAX, &v, &why)
			   : irc_parse_duration(arg, &v, &why))
		return irc_usage_err("run: bad %s '%s': %s (%s, or off)", opt, arg, why,
				     opt[12] == 's' ? "1M to 1T, such as 512M or 1G" :
				     "such as 30d or 12w");
	*out = (int64_t)v;
	return 0;
}

/*
 * The lines waiting, to the events file in one write.  A line that could
 * not be written is counted, never silently gone.
 */
static void out_flush(struct daemon *d)
{
	size_t off = 0;
	ssize_t n;

	while (off < d->obuf.len) {
		n = write(d->out_fd, d->obuf.p + off, d->obuf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off < d->obuf.len)
		d->st.write_errors += d->obuf_lines;
	else
		d->st.written += d->obuf_lines;
	d->obuf.len = 0;
	d->obuf.oom = false;
	d->obuf_lines = 0;
}

/* The line just appended to obuf is complete. */
static void line_end(struct daemon *d)
{
	if (irc_jb_reserve(&d->obuf, 1)) {
		d->st.write_errors++;
		return;
	}
	d->obuf.p[d->obuf.len++] = '\n';
	d->obuf_lines++;
	if (d->obuf.len >= OUT_FLUSH_BYTES)
		out_flush(d);
}

/* One JSON line for the events file; @o stays the caller's. */
static void emit(struct daemon *d, json_t *o)
{
	size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (!n || irc_jb_reserve(&d->obuf, n) ||
	    json_dumpb(o, d->obuf.p + d->obuf.len, n, JSON_COMPACT | JSON_PRESERVE_ORDER) != n) {
		d->st.write_errors++;
		return;
	}
	d->obuf.len += n;
	line_end(d);
}

/*
 * Sequence bookkeeping per CPU.  A jump forward is a gap (records the ring
 * had no room for); a record from behind is a late one the gap had
 * already counted (two programs interleaved on one CPU).
 */
static void check_seq(struct daemon *d, const struct irc_ev_hdr *h, bool finding)
{
	uint64_t *last;

	if (h->cpu >= MAX_CPUS)
		return;
	last = finding ? &d->last_fseq[h->cpu] : &d->last_seq[h->cpu];
	if (*last && h->seq > *last + 1) {
		uint64_t missing = h->seq - *last - 1;
		size_t start = d->obuf.len;

		d->st.gaps++;
		d->st.missing += missing;
		if (irc_gap_line(&d->ev, h->cpu, *last, missing, finding, &d->obuf)) {
			d->st.write_errors++;
		} else {
			irc_rs_gap(d->rs, d->obuf.p + start, d->obuf.len - start);
			line_end(d);
		}
	} else if (*last && h->seq <= *last) {
		if (d->st.missing)
			d->st.missing--;
		d->st.late++;
		return;
	}
	*last = h->seq;
}

/*
 * The controller acts through the kernel's programs: it does not start
 * over rules that nothing enforces (an interface gone, hooks refused).
 * Without cgroup v2 at load the process hooks never were: said, not fatal.
 */
static int run_enforced(void)
{
	struct irc_config cfg;
	struct irc_maps m;
	int err;

	err = irc_maps_open("run", &m);
	if (err)
		return err;
	err = irc_require_enforced(&m, "run", IRC_ENF_NET);
	if (!err)
		err = irc_config_read(&m, &cfg);
	if (!err && cfg.cgroup_root[0])
		err = irc_require_enforced(&m, "run", IRC_ENF_PROC);
	else if (!err)
		irc_warn("run: no process hooks (no cgroup v2 when ircontain was loaded): process quarantine and host detectors are not enforced");
	irc_maps_close(&m);
	return err;
}

/*
 * The kernel put a process in quarantine on its own: new network use is
 * already refused; what it cannot do from a tracepoint is find the sockets
 * the process holds.  That part is done here.
 */
static void finish_finding(struct daemon *d, const struct irc_ev_finding *f)
{
	struct irc_sock_cut c = { .fd = d->qsock_fd, .v = {
		.tgid = f->h.tgid, .root = f->h.tgid,
		.expires_ns = f->ttl_ns ? f->h.ts_ns + f->ttl_ns : 0 } };
	int n;

	/* Its snapshot is taken (irc_rs_record): now the kill. */
	if (f->enforced && f->action == IRC_ACT_CONTAIN_KILL && !f->hold &&
	    !irc_ctk_kill(&d->ctk, f->h.tgid))
		fprintf(stderr, "ircontain: run: %s: pid %u stopped and cut off by the kernel, snapshot taken: killed\n",
			irc_detector_name(f->detector), f->h.tgid);
	if (!f->enforced || f->action != IRC_ACT_QUAR_PROC || d->qsock_fd < 0)
		return;
	n = irc_proc_sockets(f->h.tgid, irc_sock_cut_add, &c);
	if (n > 0)
		fprintf(stderr, "ircontain: run: %s: cut %d open socket%s of pid %u\n",
			irc_detector_name(f->detector), n, n == 1 ? "" : "s", f->h.tgid);
}

/* --- reverse shells by behaviour (revshell.c finds them; here they are acted on) --- */

static const struct irc_det *det_get(struct daemon *d, bool fresh)
{
	uint32_t zero = 0;

	if (d->detcfg_fd >= 0 && (fresh || irc_now_boot_ns() - d->det_read_ns > DET_READ_NS) &&
	    !bpf_map_lookup_elem(d->detcfg_fd, &zero, &d->det)) {
		d->det_read_ns = irc_now_boot_ns();
		if (d->rsh)
			irc_rsh_allow(d->rsh, d->det.rsh_allowed, IRC_RSH_ALLOWED);
	}
	return &d->det.det[IRC_DET_REVSHELL];
}

static int pidfd_signal(int fd, int sig)
{
	return fd >= 0 && !syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) ? 0 : -1;
}

/* A detector's process quarantine entry for @pid, and its open sockets cut. */
static int rsh_quarantine(struct daemon *d, int pid, const struct irc_det *det)
{
	uint64_t now = irc_now_boot_ns();
	struct irc_pentry e = {
		.expires_ns = det->ttl_ns ? now + det->ttl_ns : 0,
		.created_ns = irc_now_real_ns(), .root = (uint32_t)pid,
		.flags = IRC_PF_CHILDREN, .action = IRC_PACT_DENY,
		.actor_uid = IRC_DET_REVSHELL, .origin = IRC_ORIGIN_DETECTOR,
	};
	struct irc_sock_cut c = { .fd = d->qsock_fd, .v = { .tgid = (uint32_t)pid,
		.root = (uint32_t)pid, .expires_ns = e.expires_ns } };
	uint32_t key = (uint32_t)pid;

	snprintf(e.reason, sizeof(e.reason), "reverse shell");
	if (d->qpid_fd < 0 || bpf_map_update_elem(d->qpid_fd, &key, &e, BPF_NOEXIST))
		return -1;
	if (d->qsock_fd >= 0)
		irc_proc_sockets(pid, irc_sock_cut_add, &c);
	return 0;
}

/* The record's message, as text whatever bytes the names hold. */
static void rsh_message(json_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rsh_message(json_t *o, const char *fmt, ...)
{
	char m[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	for (i = 0; m[i]; i++)
		if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] > 0x7e)
			m[i] = '?';
	json_object_set_new(o, "message", json_string(m));
}

/*
 * A reverse shell: contained first (both stopped, or both in process
 * quarantine), then on record (the finding, and the shell's snapshot taken
 * while it is stopped), then killed.  Returns false, doing nothing, when
 * the relay is allowed: the finder checked the list it had, which is up
 * to DET_READ_NS old, and a policy applied since may allow it (det_get()
 * has just read the kernel's).
 */
static bool rsh_found(void *ctx, const struct irc_rsh_hit *hit)
{
	struct daemon *d = ctx;
	const struct irc_det *det = det_get(d, true);
	/* contain-then-kill is what the controller does for kill anyway: stop, record, kill. */
	bool kill = d->det.enforce &&
		    (det->action == IRC_ACT_KILL || det->action == IRC_ACT_CONTAIN_KILL);
	bool quar = d->det.enforce && det->action == IRC_ACT_QUAR_PROC;
	bool same = hit->relay == hit->shell;
	struct irc_pt_entry *pe = irc_pt_get(&d->pt, hit->shell);
	struct irc_ev_finding f = { 0 };
	/* The relay first (the attacker's end goes quiet), the shell, other holders. */
	int pid[6] = { hit->relay, same ? 0 : hit->shell }, pfd[6], n = 2, i, done = 0;
	uint64_t start[6] = { hit->relay_start, hit->shell_start }, t;
	char what[48], *txt;
	json_t *o, *fo;

	if (irc_rsh_allowed(d->rsh, hit->relay_exe))
		return false;
	for (i = 0; i < 4 && hit->others[i]; i++, n++) {
		pid[n] = hit->others[i];
		start[n] = hit->others_start[i];
	}
	for (i = 0; i < n; i++) {
		pfd[i] = -1;
		if (!pid[i])
			continue;
		if (kill) {
			pfd[i] = irc_rsh_pidfd(d->rsh, pid[i], start[i]);
			done += !pidfd_signal(pfd[i], SIGSTOP);
		} else if (quar) {
			done += !rsh_quarantine(d, pid[i], det);
		}
	}
	t = irc_now_boot_ns();
	f.h.type = IRC_EV_FINDING;
	f.h.size = sizeof(f);
	f.h.cpu = UINT16_MAX;	/* the controller's, not a CPU's: no sequence */
	f.h.ts_ns = t;
	f.h.pid = f.h.tgid = (uint32_t)hit->shell;
	if (pe) {
		f.h.ppid = (uint32_t)pe->ppid;
		f.h.uid = pe->uid;
		f.h.cgroup_id = pe->cgroup_id;
	}
	f.h.start_ns = hit->shell_start * d->ev.tick_ns;
	memcpy(f.h.comm, hit->shell_comm, sizeof(f.h.comm));
	f.detector = IRC_DET_REVSHELL;
	f.action = det->action;
	f.severity = det->severity;
	/* Enforced when the relay and the shell were: another holder may have exited. */
	f.enforced = (kill || quar) && done >= (same ? 1 : 2);
	f.count = 1;
	f.offences = 1;
	f.ttl_ns = quar ? det->ttl_ns : 0;
	f.target_pid = same ? 0 : (uint32_t)hit->relay;
	snprintf(f.path, sizeof(f.path), "%.*s", (int)sizeof(f.path) - 1, hit->shell_exe);
	o = irc_ev_json(&d->ev, &f, sizeof(f));
	fo = json_object_get(json_object_get(o, "ircontain"), "finding");
	if (fo) {
		json_object_set_new(fo, "shell", json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}",
			"pid", (json_int_t)hit->shell, "name", hit->shell_comm, "exe", hit->shell_exe,
			"identity", hit->ident, "identified_by", hit->ident_by, "stdin", hit->via_in));
		json_object_set_new(fo, "relay", json_pack("{s:I,s:s,s:s,s:s,s:s}",
			"pid", (json_int_t)hit->relay, "name", hit->relay_comm, "exe", hit->relay_exe,
			"protocol", hit->proto, "remote", hit->remote));
		json_object_set_new(fo, "trigger", json_string(hit->trigger));
		/* From the event that showed it (the exec, or the relay's connect) to containment. */
		json_object_set_new(fo, "latency_us",
			json_integer((json_int_t)((t - hit->trigger_ns) / 1000)));
		json_object_set_new(fo, "since_exec_us",
			json_integer((json_int_t)((t - hit->exec_ns) / 1000)));
		if (n > 2) {
			json_t *a = json_array();

			for (i = 2; i < n; i++)
				json_array_append_new(a, json_integer(pid[i]));
			json_object_set_new(json_object_get(fo, "relay"), "also_held_by", a);
		}
	}
	snprintf(what, sizeof(what), "%s", kill ? "stopped, then killed" :
		 quar ? "both in process quarantine" : "");
	if (same)
		rsh_message(o, "reverse_shell: %s (pid %d, %s by %s) has its stdin and stdout on a %s socket to %s: %s%s",
			hit->shell_comm, hit->shell, hit->ident, hit->ident_by, hit->proto,
			hit->remote[0] ? hit->remote : "?", f.enforced ? "" : "not ",
			f.enforced ? (kill ? "killed" : "in process quarantine") :
			irc_action_name(det->action));
	else
		rsh_message(o, "reverse_shell: %s (pid %d, %s by %s) reads commands through %s from %s (pid %d), which holds a %s socket to %s: %s%s",
			hit->shell_comm, hit->shell, hit->ident, hit->ident_by, hit->via_in,
			hit->relay_comm, hit->relay, hit->proto, hit->remote[0] ? hit->remote : "?",
			f.enforced ? "" : "not acted on, would ",
			f.enforced ? what : irc_action_name(det->action));
	/* The events file's line and the store's record, as on_record makes them. */
	txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	emit(d, o);
	if (txt)
		irc_rs_record(d->rs, &f, sizeof(f), txt, strlen(txt));
	free(txt);
	if (!same && f.enforced) {
		char target[32];

		/* The relay's own action: it is an attacker of the shell's incident. */
		snprintf(target, sizeof(target), "pid:%d", hit->relay);
		irc_rs_append(d->rs, IRC_REC_ACTION, kill ? "kill" : "quarantine",
			      irc_detector_name(IRC_DET_REVSHELL), target, json_pack(
			      "{s:s,s:I,s:s,s:s,s:s}", "reason", "reverse shell relay",
			      "pid", (json_int_t)hit->relay, "name", hit->relay_comm,
			      "result", "ok", "origin", "detector"));
	}
	json_decref(o);
	for (i = 0; i < n; i++) {
		if (kill)
			pidfd_signal(pfd[i], SIGKILL);
		if (pfd[i] >= 0)
			close(pfd[i]);
	}
	fprintf(stderr, "ircontain: run: reverse shell: %s (pid %d) through %s (pid %d) to %s: %s, %llu us after the %s\n",
		hit->shell_comm, hit->shell, hit->relay_comm, hit->relay, hit->remote,
		f.enforced ? what : "reported", (unsigned long long)((t - hit->trigger_ns) / 1000),
		hit->trigger);
	return true;
}

static void rsh_record(struct daemon *d, const void *data, size_t len)
{
	const struct irc_ev_hdr *h = data;
	struct irc_rsh_hit hit;

	if (!d->rsh || !det_get(d, false)->enabled)
		return;
	switch (h->type) {
	case IRC_EV_EXEC:
		if (len >= sizeof(struct irc_ev_exec))
			irc_rsh_exec(d->rsh, data, &hit);
		break;
	case IRC_EV_CONNECT:
	case IRC_EV_ACCEPT:
		if (len >= sizeof(struct irc_ev_conn) &&
		    ((const struct irc_ev_conn *)data)->established)
			irc_rsh_conn(d->rsh, (int)h->tgid, (int)h->ppid, h->ts_ns, &hit);
		break;
	case IRC_EV_EXIT:
		irc_rsh_exit(d->rsh, (int)h->tgid);
		break;
	case IRC_EV_FINDING:
		if (len >= sizeof(struct irc_ev_finding) &&
		    ((const struct irc_ev_finding *)data)->detector == IRC_DET_REVSHELL)
			irc_rsh_kernel_found(d->rsh, (int)h->tgid);
		break;
	}
}

/*
 * The reverse-shell finder watches what the host detectors watch: the
 * processes below the cgroup root the hooks are attached to.
 */
static int rsh_open(struct daemon *d)
{
	char path[IRC_PATH_LEN + 64];
	const char *scope = "";
	struct irc_config cfg;
	struct irc_maps m;
	size_t n;
	int err;

	if (!irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_DETCFG)))
		d->detcfg_fd = bpf_obj_get(path);
	if (d->detcfg_fd < 0 || irc_maps_open("run", &m))
		return 0;
	err = irc_config_read(&m, &cfg);
	irc_maps_close(&m);
	if (err || !cfg.cgroup_root[0])
		return 0;	/* no process hooks: said by run_enforced() */
	n = strlen(d->ev.cgroup_mount);
	if (n && !strncmp(cfg.cgroup_root, d->ev.cgroup_mount, n))
		scope = cfg.cgroup_root + n;
	err = irc_rsh_open(&d->rsh, "/proc", d->ev.cgroup_mount, scope);
	if (err) {
		irc_err("run: reverse shell finder: %s", strerror(-err));
		return err;
	}
	irc_rsh_set_cb(d->rsh, rsh_found, d);
	det_get(d, true);
	fprintf(stderr, "ircontain: run: reverse shells: %d shells and interpreters known on this host, watching %s\n",
		irc_rsh_known(d->rsh), scope[0] ? scope : "the whole host");
	return 0;
}

static void rsh_stats(struct daemon *d)
{
	const struct irc_rsh_stats *r;

	if (!d->rsh)
		return;
	r = irc_rsh_stats(d->rsh);
	d->st.rsh_execs = r->execs;
	d->st.rsh_in_scope = r->in_scope;
	d->st.rsh_shells = r->shells;
	d->st.rsh_ident_reads = r->ident_reads;
	d->st.rsh_exec_ns_total = r->exec_ns_total;
	d->st.rsh_exec_ns_max = r->exec_ns_max;
	d->st.rsh_rechecks = r->rechecks;
	d->st.rsh_found = r->found;
}

static int record(struct daemon *d, void *data, size_t len, bool finding_ring)
{
	const struct irc_ev_hdr *h = data;
	size_t start;
	int err;

	if (len < sizeof(*h)) {
		d->st.malformed++;
		return 0;
	}
	check_seq(d, h, finding_ring);
	d->st.events++;
	start = d->obuf.len;
	err = irc_ev_line(&d->ev, data, len, &d->obuf);
	if (!err) {
		/* A process finding's snapshot is taken here, before its sockets are cut. */
		irc_rs_record(d->rs, data, len, d->obuf.p + start, d->obuf.len - start);
		line_end(d);
	} else if (err == -ENOMEM) {
		d->st.write_errors++;
	}
	if (h->type == IRC_EV_FINDING && len >= sizeof(struct irc_ev_finding)) {
		const struct irc_ev_finding *f = data;

		if (f->detector < IRC_DET__MAX)
			d->findings[f->detector]++;
		finish_finding(d, data);
		/* Opt-in: a source proved and quarantined here is quarantined fleet-wide. */
		if (d->agent && d->share_ttl_s && f->enforced && f->action == IRC_ACT_QUAR_HOST &&
		    f->trust == IRC_SRC_VERIFIED && (f->family == 4 || f->family == 6)) {
			struct irc_cidr src = { .family = f->family == 4 ? AF_INET : AF_INET6,
						.plen = f->family == 4 ? 32 : 128 };

			memcpy(src.addr, f->addr, f->family == 4 ? 4 : 16);
			irc_agent_share(d->agent, &src, irc_detector_name(f->detector), d->share_ttl_s);
		}
	}
	rsh_record(d, data, len);
	return 0;
}

/*
 * A record of the event ring.  libbpf consumes for as long as records
 * keep coming; this hands control back every FINDINGS_EVERY records, so
 * that the findings are read between (read_rings()).  While catching up
 * before a finding, it stops at the first record as recent as the finding,
 * or when the catch-up's time is spent.
 */
static int on_event(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;
	const struct irc_ev_hdr *h = data;

	record(d, data, len, false);
	if (d->catch_ts) {
		d->caught = len >= sizeof(*h) && h->ts_ns >= d->catch_ts;
		return d->caught || irc_now_boot_ns() > d->catch_end ? -EAGAIN : 0;
	}
	if (++d->burst < FINDINGS_EVERY)
		return 0;
	d->burst = 0;
	return -EAGAIN;
}

/*
 * Reads the event ring up to its first record made at @ts or later
 * (CLOCK_BOOTTIME), for @ms at most.  True if it got there or the ring
 * ran dry.
 */
static bool catch_up(struct daemon *d, uint64_t ts, unsigned int ms)
{
	int r;

	d->catch_ts = ts ? ts : 1;
	d->catch_end = irc_now_boot_ns() + ms * 1000000ULL;
	d->caught = false;
	do
		r = ring_buffer__consume(d->rb_ev);
	while (r == -EAGAIN && !d->caught && irc_now_boot_ns() <= d->catch_end);
	d->catch_ts = 0;
	return r != -EAGAIN || d->caught;
}

/*
 * A finding.  First the event records made before it, for a little while
 * at most: the exec and fork records that give its process a path, argv
 * and ancestry (in the normal case a few records).  Under a storm the
 * finding does not wait for the whole backlog: its process is read from
 * /proc as it is now (the records behind say the same when they come),
 * and the finding goes out with that, its snapshot taken now.
 */
static int on_finding(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;
	const struct irc_ev_finding *f = data;

	if (len >= sizeof(f->h) && !d->catch_ts && !catch_up(d, f->h.ts_ns, CATCH_UP_MS) &&
	    len >= sizeof(*f) && !f->family)
		irc_pt_seed_one(&d->pt, "/proc", f->h.tgid);
	return record(d, data, len, true);
}

/*
 * Reads both rings for a poll interval at most: the findings first, then
 * the event ring, the findings again every FINDINGS_EVERY records.  The
 * records of the last poll when it emptied the rings (> 0), 0 when nothing
 * came or records still wait, or the first error.
 */
static int read_rings(struct daemon *d, struct ring_buffer *rb)
{
	int err;

	d->turn_ns = irc_now_boot_ns();
	for (;;) {
		ring_buffer__consume(d->rb_find);
		err = ring_buffer__poll(rb, POLL_MS);
		if (err != -EAGAIN)
			return err;
		if (got_term || irc_now_boot_ns() - d->turn_ns > POLL_MS * 1000000ULL)
			return 0;
	}
}

/*
 * What the watch did (a tamper, a re-attach, an interface that came or
 * went): one JSON line for the SIEM, one record in the store.
 */
static void watch_record(void *ctx, int kind, const char *type, const char *actor,
			 const char *target, json_t *body)
{
	struct daemon *d = ctx;
	json_t *o = json_deep_copy(body);
	char ts[40];

	irc_fmt_utc(irc_now_real_ns(), ts, sizeof(ts));
	json_object_set_new(o, "@timestamp", json_string(ts));
	json_object_set_new(o, "datetime", json_string(ts));
	json_object_set_new(o, "timestamp_desc", json_string("Controller"));
	json_object_set_new(o, "event", json_pack("{s:s,s:s,s:[s]}",
		"kind", kind == IRC_REC_EVENT ? "alert" : "event", "action", type,
		"category", "host"));
	if (!json_object_get(o, "message"))
		json_object_set_new(o, "message", json_sprintf("%s %s: %s", type, target,
			json_string_value(json_object_get(body, "result")) ?: ""));
	emit(d, o);
	json_decref(o);
	irc_rs_append(d->rs, kind, type, actor, target, body);
}

static struct irc_store *watch_store(void *ctx)
{
	struct daemon *d = ctx;

	return irc_rs_store(d->rs);
}

/* systemd Type=notify, without libsystemd: one datagram to NOTIFY_SOCKET. */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
	       offsetof(struct sockaddr_un, sun_path) + strlen(path));
	close(fd);
}

/* A valid policy into the kernel and the controller's settings; 0 or -errno. */
static int policy_use(struct daemon *d, const struct irc_policy *p)
{
	struct irc_sens_report rep;
	struct irc_maps m;
	int err;

	err = irc_maps_open("run", &m);
	if (err)
		return err;
	err = irc_policy_apply(&m, p, &rep);
	irc_maps_close(&m);
	if (err)
		return err;
	irc_sens_warn("run: policy", &p->det, &rep);
	d->bounds = p->store;
	d->share_ttl_s = p->fleet_share_ttl_s;
	bounds_apply(d);
	return 0;
}

/*
 * Loads and applies the policy.  An invalid one is refused whole and the
 * one running stays; nothing is released either way.  Both are on record.
 */
static int policy_reload(struct daemon *d, const char *trigger)
{
	const char *path = d->policy;
	struct irc_policy_errors errs;
	struct irc_policy p;
	int err;

	if (!path)
		return 0;
	err = irc_policy_load(path, &p, &errs);
	if (err == -EINVAL) {
		irc_policy_print_errors(stderr, path, &errs);
		irc_err("run: policy %s refused whole (%d error%s); the previous one stays",
			path, errs.n, errs.n == 1 ? "" : "s");
		irc_rs_policy(d->rs, path, NULL, err, trigger);
		return err;
	}
	if (err) {
		irc_err("run: policy %s: %s", path, strerror(-err));
		irc_rs_policy(d->rs, path, NULL, err, trigger);
		return err;
	}
	err = policy_use(d, &p);
	if (err)
		irc_err("run: apply policy %s: %s", path, strerror(-err));
	irc_rs_policy(d->rs, path, &p, err, trigger);
	return err;
}

/* A fleet policy (the agent checked it and records it). */
static int fleet_policy(void *ctx, const struct irc_policy *p)
{
	int err = policy_use(ctx, p);

	if (err)
		irc_err("run: apply the fleet's policy: %s", strerror(-err));
	else
		fprintf(stderr, "ircontain: run: the fleet's policy is in force (mode %s)\n",
			p->det.enforce ? "enforce" : "monitor");
	return err;
}

static int open_out(const char *path)
{
	if (!strcmp(path, "-"))
		return STDOUT_FILENO;
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static int read_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return 0;
}

/* run's --iface options: the interfaces for a load (if none was done) and for the watch. */
struct run_ifaces {
	struct irc_netif nifs[IRC_MAX_IFACES];
	int n;
	char *pats[IRC_MAX_IFPATTERNS], *args[IRC_MAX_IFPATTERNS];
	int npats, nargs;
};

/* The options into @d and @a: 0, or the exit code of a bad one (said). */
static int run_parse(int argc, char **argv, struct daemon *d, struct run_ifaces *a)
{
	static const struct irc_opt opts[] = {
		{ "iface", 'i', "IF|PATTERN", IRC_OPT_REPEAT },
		{ "policy", 'p', "FILE", 0 },
		{ "events-file", 'e', "FILE|-", 0 },
		{ "store-events", 'E', "all|related", 0 },
		{ "store-max-size", 'S', "SIZE|off", 0 },
		{ "store-max-age", 'A', "AGE|off", 0 },
		{ "metrics", 'M', "ADDR:PORT", 0 },
		{ 0 }
	};
	char usage[256];
	int c, err, ret;

	while ((c = irc_opts_getopt(argc, argv, opts, "run")) != -1) {
		switch (c) {
		case 'p':
			d->policy = optarg;
			break;
		case 'e':
			d->out_path = optarg;
			break;
		case 'S':
		case 'A':
			if (bound_arg(c == 'S' ? "--store-max-size" : "--store-max-age", optarg,
				      c == 'S' ? &d->opt_max_bytes : &d->opt_max_age))
				return IRC_EXIT_USAGE;
			break;
		case 'M': {
			struct sockaddr_in6 maddr;
			unsigned int salen;
			const char *why;

			if (irc_metrics_parse_addr(optarg, &maddr, &salen, &why))
				return irc_usage_err("run: bad --metrics '%s': %s", irc_shown(optarg), why);
			d->metrics_addr = optarg;
			break;
		}
		case 'E':
			if (!strcmp(optarg, "all"))
				d->store_events = IRC_RS_EVENTS_ALL;
			else if (strcmp(optarg, "related"))
				return irc_usage_err("run: bad --store-events '%s': all or related",
						     optarg);
			break;
		case 'i':
			if (a->nargs == IRC_MAX_IFPATTERNS || !(a->args[a->nargs] = strdup(optarg)))
				return irc_usage_err("run: too many --iface options");
			ret = irc_iface_args("run", a->args[a->nargs++], a->pats, &a->npats,
					     a->nifs, &a->n);
			if (ret)
				return ret;
			break;
		default:
			return IRC_EXIT_USAGE;
		}
	}
	if (!irc_operands(argc, argv, 0, "run", irc_opts_usage(opts, "run", NULL, usage, sizeof(usage))))
		return IRC_EXIT_USAGE;
	if (d->policy) {
		struct stat st;

		/* A FIFO or a device would hang or spin the daemon: regular files only. */
		err = stat(d->policy, &st) ? errno : !S_ISREG(st.st_mode) ? EBADF :
		      st.st_size > IRC_POLICY_MAX_BYTES ? EFBIG : access(d->policy, R_OK) ? errno : 0;
		if (err)
			return irc_usage_err("run: bad --policy '%s': %s", irc_shown(d->policy),
					     err == EBADF ? "not a regular file" :
					     err == EFBIG ? "larger than 1 MiB" : strerror(err));
	}
	return 0;
}

/* Loads the module if it is not there yet: that needs interfaces.  -1 said. */
static int run_load(struct run_ifaces *a)
{
	struct irc_attach_result res[IRC_MAX_IFACES];
	char root[IRC_PATH_LEN];
	char *globs[IRC_MAX_IFPATTERNS];
	int i, ng = 0;

	if (!irc_pins_loaded())
		return 0;
	for (i = 0; i < a->npats; i++)
		if (irc_ifpattern_is_glob(a->pats[i]))
			globs[ng++] = a->pats[i];
	if (!a->n && ng) {
		a->n = irc_netif_match(globs, ng, a->nifs, IRC_MAX_IFACES);
		a->n = a->n < 0 ? 0 : a->n;
	}
	if (!a->n) {
		irc_err("run: ircontain is not loaded; give --iface IF (or run 'ircontain load' first)");
		return -1;
	}
	if (irc_load(a->nifs, a->n, IRC_XDP_REQ_AUTO, res,
		     irc_cgroup_root(root, sizeof(root)) ? NULL : root, 0, NULL, NULL))
		return -1;
	fprintf(stderr, "ircontain: loaded on %d interface%s\n", a->n, a->n == 1 ? "" : "s");
	return 0;
}

/* One controller per pin dir (a second would split the ring buffer): 0, or an exit code (said). */
static int run_lock_take(int *run_lock)
{
	long holder;

	*run_lock = irc_run_lock(&holder);
	if (*run_lock == -EWOULDBLOCK) {
		char who[32] = "";

		if (holder)
			snprintf(who, sizeof(who), " (pid %ld)", holder);
		return irc_usage_err("run: another controller%s already runs on %s: one controller "
				     "per pin dir; stop it first", who, irc.pin_dir);
	}
	if (*run_lock < 0) {
		irc_err("run: lock the pin dir %s: %s", irc.pin_dir, strerror(-*run_lock));
		return IRC_EXIT_FAIL;
	}
	return 0;
}

/* The policy, the events file, the process table and the detectors' state.  -1 said. */
static int run_prepare(struct daemon *d, char *boot_id, size_t len)
{
	int err;

	if (policy_reload(d, "start"))
		return -1;
	/* The state dir holds run.json (and by default the events). */
	if (mkdir(irc.state_dir, 0700) && errno != EEXIST) {
		irc_err("run: create state dir %s: %s", irc.state_dir, strerror(errno));
		return -1;
	}
	d->out_fd = open_out(d->out_path);
	if (d->out_fd < 0) {
		irc_err("run: open events file %s: %s", d->out_path, strerror(errno));
		return -1;
	}
	read_boot_id(boot_id, len);
	if (irc_pt_init(&d->pt, boot_id)) {
		irc_err("run: out of memory for the process table");
		return -1;
	}
	irc_evctx_init(&d->ev, &d->pt);
	err = irc_pt_seed(&d->pt, "/proc");
	if (err < 0)
		irc_warn("run: seed the process table from /proc: %s", strerror(-err));
	return rsh_open(d) ? -1 : 0;
}

/* The rings (events, findings) and the maps the daemon writes.  -1 said. */
static int run_open_rings(struct daemon *d)
{
	char path[4096];

	if (irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_EVENTS)) ||
	    (d->ev_fd = bpf_obj_get(path)) < 0) {
		irc_err("run: open ring buffer %s: %s", path, strerror(errno));
		return -1;
	}
	if (!irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_QSOCK)))
		d->qsock_fd = bpf_obj_get(path);
	if (!irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_QPID)))
		d->qpid_fd = bpf_obj_get(path);
	irc_rs_set_events(d->rs, d->store_events, d->qpid_fd);
	irc_ctk_open(&d->ctk);
	bounds_apply(d);
	if (irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_EVENTS)))
		return -1;
	d->rb = ring_buffer__new(d->ev_fd, on_event, d, NULL);
	d->rb_ev = ring_buffer__new(d->ev_fd, on_event, d, NULL);
	if (!d->rb || !d->rb_ev) {
		irc_err("run: ring buffer %s: %s", path, strerror(errno));
		return -1;
	}
	/* The findings ring: in the poll with the event ring, and read on its own first. */
	if (irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_FINDINGS)) ||
	    (d->find_fd = bpf_obj_get(path)) < 0 ||
	    ring_buffer__add(d->rb, d->find_fd, on_finding, d) ||
	    !(d->rb_find = ring_buffer__new(d->find_fd, on_finding, d, NULL))) {
		irc_err("run: findings ring buffer %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The session on record, then what runs beside the reader: the watch, the
 * store's writer, the metrics server, the fleet agent.  0; -1 said, before
 * anything runs; or 1 with *@stop_why, to stop what runs.
 */
static int run_start(struct daemon *d, struct run_ifaces *a, const char *boot_id,
		     const char **stop_why)
{
	struct irc_watch_ops wops = { .ctx = d, .record = watch_record, .store = watch_store };
	int err;

	err = irc_rs_start(d->rs, boot_id);
	if (err) {
		irc_err("run: record the start in the evidence store: %s", irc_store_errmsg());
		return -1;
	}
	if (irc_watch_open(&d->watch, a->pats, a->npats, &wops)) {
		irc_err("run: cannot watch the interfaces and maps");
		*stop_why = "watch";
		return 1;
	}
	/* From here the store has a thread of its own: the ring is never kept waiting on it. */
	err = irc_rs_async(d->rs, d->out_fd != STDOUT_FILENO ? d->out_fd : -1);
	if (err) {
		irc_err("run: start the evidence store's writer: %s", strerror(-err));
		return -1;
	}
	if (d->metrics_addr && irc_metrics_start(&d->metrics, d->metrics_addr)) {
		*stop_why = "metrics";
		return 1;
	}
	if (irc_fleet.urls) {
		struct irc_agent_ops ops = { .ctx = d, .record = watch_record, .policy = fleet_policy };

		if (irc_fleet_cfg("run", &d->fleet_cfg) ||
		    irc_agent_start(&d->agent, &d->fleet_cfg, &ops)) {
			*stop_why = "fleet";
			return 1;
		}
	}
	return 0;
}

/* The reading, until a signal or an error: why it stopped. */
static const char *run_loop(struct daemon *d)
{
	struct sigaction sa = { .sa_handler = on_signal };
	const char *stop_why = "signal";
	uint64_t last_stats = 0;
	int err;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* From now on the kernel leaves contain-then-kill's kill to us. */
	irc_ctk_beat(&d->ctk, false);
	/* Processes stopped for a controller that did not come back to them. */
	irc_ctk_sweep(&d->ctk, d->rs, true);
	fprintf(stderr, "ircontain: run: events to %s and to the evidence store %s/%s, "
		"%zu processes known, pid %d\n", d->out_path, irc.state_dir, IRC_STORE_DB,
		d->pt.count, getpid());
	sd_notify_msg("READY=1");
	irc_run_stats_write(&d->st, getpid());

	while (!got_term) {
		err = read_rings(d, d->rb);
		if (err < 0 && err != -EINTR) {
			irc_err("run: poll ring buffer: %s", strerror(-err));
			stop_why = "error";
			break;
		}
		out_flush(d);
		/* The ring is empty: let the next records gather (not when behind: -EAGAIN). */
		if (err > 0)
			nanosleep(&(struct timespec){ .tv_nsec = BATCH_MS * 1000000L }, NULL);
		irc_watch_tick(d->watch);
		if (d->agent) {
			struct irc_agent_local l = {
				.events_lost = d->st.missing + d->st.queue_lost,
				.store_errors = d->st.store_errors };

			irc_agent_tick(d->agent, &l);
		}
		irc_ctk_beat(&d->ctk, false);
		irc_ctk_sweep(&d->ctk, d->rs, false);
		if (d->rsh) {
			struct irc_rsh_hit hit;

			irc_rsh_flush(d->rsh);
			if (det_get(d, false)->enabled)
				irc_rsh_tick(d->rsh, &hit);
		}
		irc_rs_tick(d->rs);
		if (got_hup) {
			got_hup = 0;
			sd_notify_msg("RELOADING=1");
			/* A reload never releases anything: quarantines stay. */
			if (policy_reload(d, "SIGHUP") == 0)
				fprintf(stderr, "ircontain: run: policy %s reloaded; quarantines unchanged\n",
					d->policy ? d->policy : "(none)");
			d->st.reloads++;
			sd_notify_msg("READY=1");
		}
		if (irc_now_boot_ns() - last_stats > 1000000000ULL) {
			last_stats = irc_now_boot_ns();
			rsh_stats(d);
			irc_run_stats_write(&d->st, getpid());
			metrics_update(d);
		}
	}
	return stop_why;
}

/* Drains what is already in the rings, then says goodbye, in bounded time: the exit code. */
static int run_stop(struct daemon *d, const char *stop_why)
{
	sd_notify_msg("STOPPING=1");
	/* No heartbeat: the kernel kills at once from here on, no snapshot coming. */
	irc_ctk_beat(&d->ctk, true);
	irc_store_hurry();
	/* The watch and the agent stop first: what they did goes on record with the rest. */
	irc_watch_close(d->watch);
	d->watch = NULL;
	irc_metrics_stop(d->metrics);
	d->metrics = NULL;
	irc_agent_stop(d->agent);
	d->agent = NULL;
	/*
	 * What the rings held when the stop came, findings first; bounded: a
	 * storm that goes on does not hold the exit up for more than a second.
	 */
	ring_buffer__consume(d->rb_find);
	catch_up(d, irc_now_boot_ns(), DRAIN_MS);
	ring_buffer__consume(d->rb_find);
	if (d->rsh)
		irc_rsh_flush(d->rsh);
	out_flush(d);
	/* Everything read is committed, then the clean stop is on record. */
	irc_rs_close(d->rs, stop_why);
	d->rs = NULL;
	rsh_stats(d);
	irc_run_stats_write(&d->st, 0);
	fprintf(stderr, "ircontain: run: exiting: %llu events, %llu gaps (%llu records lost), "
		"%llu stored (%llu store errors)\n",
		(unsigned long long)d->st.events, (unsigned long long)d->st.gaps,
		(unsigned long long)d->st.missing, (unsigned long long)d->st.stored,
		(unsigned long long)d->st.store_errors);
	return strcmp(stop_why, "watch") && strcmp(stop_why, "fleet") &&
	       strcmp(stop_why, "metrics") ? IRC_EXIT_OK : IRC_EXIT_FAIL;
}

/* Everything do_run() set up, closed (what runs was stopped by run_stop()). */
static void run_free(struct daemon *d, struct run_ifaces *a)
{
	irc_watch_close(d->watch);
	irc_metrics_stop(d->metrics);
	irc_agent_stop(d->agent);
	irc_fleet_cfg_free(&d->fleet_cfg);
	while (a->nargs > 0)
		free(a->args[--a->nargs]);
	/* A start that failed: nothing of this session is on record to stop. */
	irc_rs_close(d->rs, NULL);
	ring_buffer__free(d->rb_find);
	ring_buffer__free(d->rb_ev);
	ring_buffer__free(d->rb);
	if (d->find_fd >= 0)
		close(d->find_fd);
	if (d->ev_fd >= 0)
		close(d->ev_fd);
	if (d->qsock_fd >= 0)
		close(d->qsock_fd);
	if (d->qpid_fd >= 0)
		close(d->qpid_fd);
	irc_ctk_close(&d->ctk);
	if (d->out_fd > STDOUT_FILENO)
		close(d->out_fd);
	irc_jb_free(&d->obuf);
	irc_pt_free(&d->pt);
	irc_rsh_close(d->rsh);
	if (d->detcfg_fd >= 0)
		close(d->detcfg_fd);
	free(d);
}

int do_run(int argc, char **argv)
{
	char boot_id[64], events_default[4096];
	const char *stop_why = "signal";
	struct run_ifaces a = { 0 };
	struct daemon *d;
	int err, ret, run_lock = -1;

	d = calloc(1, sizeof(*d));
	if (!d) {
		irc_err("run: out of memory");
		return IRC_EXIT_FAIL;
	}
	d->qsock_fd = d->qpid_fd = d->out_fd = d->detcfg_fd = d->ev_fd = d->find_fd = -1;
	d->ctk.ctl_fd = d->ctk.pkill_fd = d->ctk.detstate_fd = -1;
	d->store_events = IRC_RS_EVENTS_RELATED;
	d->bounds = (struct irc_store_policy){ .max_bytes = IRC_STORE_MAX_SIZE,
		.max_age_s = IRC_STORE_MAX_AGE, .keep_unexported = 1 };
	d->opt_max_bytes = d->opt_max_age = -1;
	snprintf(events_default, sizeof(events_default), "%s/events.jsonl", irc.state_dir);
	d->out_path = events_default;
	ret = run_parse(argc, argv, d, &a);
	if (ret)
		goto out;
	ret = IRC_EXIT_FAIL;
	if (irc_require_privileges("run"))
		goto out;
	/* Before anything is loaded: a daemon that cannot keep evidence does not start. */
	err = irc_rs_open(&d->rs, irc.state_dir, &d->ev, &d->st);
	if (err) {
		irc_err("run: open the evidence store: %s",
			err == -ENOMEM ? strerror(ENOMEM) : irc_store_errmsg());
		goto out;
	}
	if (run_load(&a) || run_enforced())
		goto out;
	ret = run_lock_take(&run_lock);
	if (ret)
		goto out;
	ret = IRC_EXIT_FAIL;
	if (run_prepare(d, boot_id, sizeof(boot_id)) || run_open_rings(d))
		goto out;
	err = run_start(d, &a, boot_id, &stop_why);
	if (err < 0)
		goto out;
	if (!err)
		stop_why = run_loop(d);
	ret = run_stop(d, stop_why);
out:
	run_free(d, &a);
	if (run_lock >= 0)
		close(run_lock);
	return ret;
}
