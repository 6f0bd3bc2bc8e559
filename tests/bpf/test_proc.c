// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process-path tests for bpf/irc_proc.bpf.c through BPF_PROG_TEST_RUN.
 *
 * The irc_proc skeleton is loaded with every map's pin path cleared, so
 * nothing is pinned, the real pin dir is neither read nor written, and
 * nothing is attached: programs only run through BPF_PROG_TEST_RUN.  The
 * maps are emptied around every case.
 *
 * cgroup_skb (irc_skb_ingress, irc_skb_egress).  The kernel builds the
 * test skb with a socket of its own (a dummy struct sock allocated for the
 * run, in the calling task's context), so the program sees
 *   - a socket cookie: not 0, fresh for every run.  It cannot be read, but
 *     it can be bracketed.  The kernel hands cookies out per CPU, in
 *     batches of 4096 taken from a global counter (include/linux/cookie.h,
 *     5.12 and later): on one CPU they only grow, across CPUs they are not
 *     ordered, and when this CPU's batch runs out its next one starts
 *     wherever the other CPUs have left the counter.  So the test stays on
 *     one CPU, takes the cookie of a socket made just before the run
 *     (SO_COOKIE) and of one made just after it: the run's lies between.
 *     Cases that need "the run's socket is a cut socket" put a window of
 *     COOKIE_WINDOW cookies after the first in irc_qsock; when the second
 *     is past the window (more cookies were made on this CPU meanwhile,
 *     or a new batch began), the run proved nothing and the case is run
 *     again (see skb_case_try).  Cases that expect a pass in that setting
 *     are followed by a control run in the same window that must drop
 *     (its cookie is larger than the first run's and still in the window,
 *     so the first run's was too);
 *   - cgroup ancestors: those of this process's cgroup v2.
 * Each case checks the verdict, the change of every irc_stats counter
 * (summed over CPUs) and of the denied field of the entries involved.
 *
 * The socket-call hooks (cgroup/sock_create, the sock_addr hooks) and the
 * tp_btf fork/exit programs have no BPF_PROG_TEST_RUN on this kernel
 * (ENOTSUPP, EFAULT): a test here could only pass without running them.
 * The socket-call hooks are tested as a table of real system calls in a
 * throwaway cgroup in test_sockhook.c; all of them, fork and exit too,
 * with real processes in tests/e2e (test_process.sh and test_proc_*.sh).
 *
 * Needs root (CAP_BPF + CAP_NET_ADMIN).  IRC_TEST_VERBOSE=1 shows libbpf's
 * log.
 */
#include <linux/types.h>

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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "irc_proc.skel.h"
#include "cgroup.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define V_DROP		0
#define V_PASS		1
#define T_ENOTSUPP	524	/* the kernel's internal "not supported" */
#define COOKIE_WINDOW	4096	/* cookies put in irc_qsock after SO_COOKIE */
#define QTGID		424242	/* the tgid the cut sockets answer to */
#define OTHER_CGID	0x7ffffff0ULL	/* a cgroup id no cgroup has here */

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

struct fx {
	struct irc_proc_bpf *skel;
	int qpid, qcgrp, qsock, config, stats;
	__u64 root_cgid;	/* level 0: the cgroup2 root */
	__u64 own_cgid;		/* this process's cgroup */
	int ncpu;
};

static struct irc_proc_bpf *load_proc_skel(void)
{
	struct irc_proc_bpf *skel;
	struct bpf_map *map;

	libbpf_set_print(tl_quiet);
	skel = irc_proc_bpf__open();
	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (irc_proc_bpf__load(skel)) {
		irc_proc_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * Empties a hash map in batches (a cookie window is 4096 entries: one by
 * one, a case cost 8192 bpf() calls to clear it), then checks it is empty.
 */
static void map_clear(int fd, size_t ksz)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info), n;
	__u64 token, *in = NULL;
	char key[64], *keys, *vals;
	int err;

	assert_true(ksz <= sizeof(key));
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &ilen), 0);
	assert_int_equal(info.key_size, ksz);
	keys = malloc((size_t)info.key_size * COOKIE_WINDOW);
	vals = malloc((size_t)info.value_size * COOKIE_WINDOW);
	assert_true(keys && vals);
	do {
		n = COOKIE_WINDOW;
		err = bpf_map_lookup_and_delete_batch(fd, in, &token, keys, vals, &n, NULL);
		/* ENOENT: the last batch (its n entries are deleted too). */
		if (err && errno != ENOENT)
			fail_msg("clear map %u: lookup_and_delete_batch: %s", info.id, strerror(errno));
		in = &token;
	} while (!err);
	free(keys);
	free(vals);
	assert_int_not_equal(bpf_map_get_next_key(fd, NULL, key), 0);
	assert_int_equal(errno, ENOENT);
}

static void config_set(struct fx *f, __u32 flags)
{
	struct irc_config c = { .flags = flags };
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(f->config, &zero, &c, BPF_ANY), 0);
}

static void stats_read(struct fx *f, __u64 *sum)
{
	struct irc_stats *v = calloc(f->ncpu, sizeof(*v));
	__u32 zero = 0;
	int c, i;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(f->stats, &zero, v), 0);
	memset(sum, 0, sizeof(__u64) * IRC_STAT__MAX);
	for (c = 0; c < f->ncpu; c++)
		for (i = 0; i < IRC_STAT__MAX; i++)
			sum[i] += v[c].cnt[i];
	free(v);
}

static void stats_reset(struct fx *f)
{
	struct irc_stats *v = calloc(f->ncpu, sizeof(*v));
	__u32 zero = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_update_elem(f->stats, &zero, v, BPF_ANY), 0);
	free(v);
}

static void maps_reset(struct fx *f)
{
	map_clear(f->qpid, sizeof(__u32));
	map_clear(f->qcgrp, sizeof(__u64));
	map_clear(f->qsock, sizeof(__u64));
	config_set(f, 0);
	stats_reset(f);
}

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct fx fx;

/* Loads the skeleton and learns the cgroup ids; 0 or -1 (said why). */
static int fx_init(struct fx *f)
{
	char mnt[4096], own[4096];
	uint64_t id;
	cpu_set_t cpus;
	int cpu;

	f->skel = load_proc_skel();
	if (!f->skel) {
		fprintf(stderr, "test_proc:FAIL: load the irc_proc skeleton (root needed; IRC_TEST_VERBOSE=1 shows the log)\n");
		return -1;
	}
	f->qpid = bpf_map__fd(f->skel->maps.IRC_MAP_QPID);
	f->qcgrp = bpf_map__fd(f->skel->maps.IRC_MAP_QCGRP);
	f->qsock = bpf_map__fd(f->skel->maps.IRC_MAP_QSOCK);
	f->config = bpf_map__fd(f->skel->maps.IRC_MAP_CONFIG);
	f->stats = bpf_map__fd(f->skel->maps.IRC_MAP_STATS);
	f->ncpu = libbpf_num_possible_cpus();
	if (f->ncpu <= 0 || irc_cgroup2_mount(mnt, sizeof(mnt)) ||
	    irc_cgroup_id(mnt, &id)) {
		fprintf(stderr, "test_proc:FAIL: no cgroup v2 mount, or no possible-CPU count\n");
		return -1;
	}
	f->root_cgid = id;
	if (irc_proc_cgroup_path(getpid(), own, sizeof(own)) || irc_cgroup_id(own, &id)) {
		fprintf(stderr, "test_proc:FAIL: the cgroup v2 of this process\n");
		return -1;
	}
	f->own_cgid = id;
	/* One CPU: socket cookies are ordered only on one CPU (see above). */
	cpu = sched_getcpu();
	if (cpu < 0) {
		fprintf(stderr, "test_proc:FAIL: sched_getcpu: %s\n", strerror(errno));
		return -1;
	}
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		fprintf(stderr, "test_proc:FAIL: pin to CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* cgroup_skb                                                          */
/* ------------------------------------------------------------------ */

/* irc_qsock content; QS_WINDOW_EXPIRED: the cookies' own expiry passed. */
enum qsk { QS_NONE, QS_WINDOW, QS_ZERO, QS_WINDOW_EXPIRED };
enum ent { E_NONE, E_LIVE, E_EXPIRED, E_FUTURE };	/* an entry and its expiry */
enum cgk { CG_ROOT = 1, CG_OWN, CG_OTHER };	/* which cgroup id is in irc_qcgrp */

struct skb_case {
	const char *name;
	int l3;			/* 4 or 6 */
	bool egress;
	enum qsk qsock;		/* cookies answering to QTGID */
	enum ent pid;		/* irc_qpid[QTGID] */
	enum cgk cg;		/* irc_qcgrp key, 0 = none */
	enum ent cgent;		/* irc_qcgrp entry */
	bool flag;		/* IRC_CFG_HAS_CGROUPS */
	int repeat;		/* test runs (same skb, same socket); 0 = 1 */
	int verdict;
	__u64 drops;		/* IRC_STAT_PROC_DROP change; nothing else changes */
	__u64 pid_denied;	/* irc_qpid[QTGID].denied change */
	__u64 cg_denied;	/* irc_qcgrp entry's denied change */
	bool control;		/* follow with a control run in the same window */
};

static const struct skb_case skb_cases[] = {
	/* Nothing quarantined: everything passes, nothing is counted. */
	{ "empty maps, v4 ingress", 4, false, QS_NONE, E_NONE, 0, E_NONE, false, 0, V_PASS, 0, 0, 0, false },
	{ "empty maps, v4 egress", 4, true, QS_NONE, E_NONE, 0, E_NONE, false, 0, V_PASS, 0, 0, 0, false },
	{ "empty maps, v6 ingress", 6, false, QS_NONE, E_NONE, 0, E_NONE, false, 0, V_PASS, 0, 0, 0, false },
	{ "empty maps, v6 egress", 6, true, QS_NONE, E_NONE, 0, E_NONE, false, 0, V_PASS, 0, 0, 0, false },
	{ "empty maps, cgroup flag set", 4, false, QS_NONE, E_NONE, 0, E_NONE, true, 0, V_PASS, 0, 0, 0, false },
	/* A cut socket whose process is quarantined: dropped both ways. */
	{ "cut socket, live entry, v4 ingress", 4, false, QS_WINDOW, E_LIVE, 0, E_NONE, false, 0, V_DROP, 1, 1, 0, false },
	{ "cut socket, live entry, v4 egress", 4, true, QS_WINDOW, E_LIVE, 0, E_NONE, false, 0, V_DROP, 1, 1, 0, false },
	{ "cut socket, live entry, v6 ingress", 6, false, QS_WINDOW, E_LIVE, 0, E_NONE, false, 0, V_DROP, 1, 1, 0, false },
	{ "cut socket, live entry, v6 egress", 6, true, QS_WINDOW, E_LIVE, 0, E_NONE, false, 0, V_DROP, 1, 1, 0, false },
	{ "cut socket, entry expiring in an hour", 4, true, QS_WINDOW, E_FUTURE, 0, E_NONE, false, 0, V_DROP, 1, 1, 0, false },
	{ "cut socket, 5 runs: counted 5 times", 4, true, QS_WINDOW, E_LIVE, 0, E_NONE, false, 5, V_DROP, 5, 5, 0, false },
	/*
	 * A cut socket stays cut while its cookie entry lives, whichever
	 * holder's process entry is gone (exited) or expired; only release
	 * or the cookie's own expiry lets it carry data again.
	 */
	{ "cut socket, holder's entry gone (exited): still cut", 4, false, QS_WINDOW, E_NONE, 0, E_NONE, false, 0, V_DROP, 1, 0, 0, false },
	{ "cut socket, holder's entry expired: still cut", 4, true, QS_WINDOW, E_EXPIRED, 0, E_NONE, false, 0, V_DROP, 1, 0, 0, false },
	{ "cut socket, its own expiry passed", 4, true, QS_WINDOW_EXPIRED, E_LIVE, 0, E_NONE, false, 0, V_PASS, 0, 0, 0, true },
	/* Cookie 0 means "no socket": an entry for it never matches a socket. */
	{ "irc_qsock[0] with a live entry: not this socket", 4, true, QS_ZERO, E_LIVE, 0, E_NONE, false, 0, V_PASS, 0, 0, 0, true },
	/* Quarantined cgroups: the socket's cgroup or an ancestor. */
	{ "cgroup root quarantined, flag set", 4, false, QS_NONE, E_NONE, CG_ROOT, E_LIVE, true, 0, V_DROP, 1, 0, 1, false },
	{ "own cgroup quarantined, flag set, egress", 6, true, QS_NONE, E_NONE, CG_OWN, E_LIVE, true, 0, V_DROP, 1, 0, 1, false },
	{ "own cgroup, expiring in an hour", 4, true, QS_NONE, E_NONE, CG_OWN, E_FUTURE, true, 0, V_DROP, 1, 0, 1, false },
	{ "cgroup quarantined, flag clear: not looked at", 4, false, QS_NONE, E_NONE, CG_ROOT, E_LIVE, false, 0, V_PASS, 0, 0, 0, false },
	{ "own cgroup, expired", 4, false, QS_NONE, E_NONE, CG_OWN, E_EXPIRED, true, 0, V_PASS, 0, 0, 0, false },
	{ "unrelated cgroup quarantined", 4, true, QS_NONE, E_NONE, CG_OTHER, E_LIVE, true, 0, V_PASS, 0, 0, 0, false },
	/* Both: the socket's process entry is found first and counts. */
	{ "cut socket and cgroup: the process entry counts", 4, true, QS_WINDOW, E_LIVE, CG_ROOT, E_LIVE, true, 0, V_DROP, 1, 1, 0, false },
	/* Socket entry dead, cgroup live: the cgroup still drops. */
	{ "cut socket expired, cgroup live", 4, false, QS_WINDOW_EXPIRED, E_EXPIRED, CG_OWN, E_LIVE, true, 0, V_DROP, 1, 0, 1, false },
};

static void entry_put(int fd, const void *key, enum ent e, __u32 root)
{
	struct irc_pentry v = { .root = root, .flags = IRC_PF_CHILDREN };
	__u64 now = boot_ns();

	if (e == E_NONE)
		return;
	v.expires_ns = e == E_LIVE ? 0 : e == E_EXPIRED ? now - 1000000000ULL :
		       now + 3600ULL * 1000000000ULL;
	v.denied = 100;		/* a count already there: only the change matters */
	snprintf(v.reason, sizeof(v.reason), "test");
	assert_int_equal(bpf_map_update_elem(fd, key, &v, BPF_ANY), 0);
}

static __u64 denied_of(int fd, const void *key)
{
	struct irc_pentry v;

	if (bpf_map_lookup_elem(fd, key, &v))
		return 0;
	return v.denied;
}

static __u64 sock_cookie_now(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	__u64 c = 0;
	socklen_t len = sizeof(c);

	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len), 0);
	close(fd);
	assert_true(c != 0);
	return c;
}

/* Cookies (after, after + COOKIE_WINDOW] answer to QTGID. */
static void window_fill(struct fx *f, __u64 after, __u64 expires_ns)
{
	static __u64 keys[COOKIE_WINDOW];
	static struct irc_qsock vals[COOKIE_WINDOW];
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .flags = BPF_ANY);
	__u32 n = COOKIE_WINDOW, i;

	for (i = 0; i < COOKIE_WINDOW; i++) {
		keys[i] = after + 1 + i;
		vals[i].tgid = QTGID;
		vals[i].root = QTGID;
		vals[i].expires_ns = expires_ns;
	}
	assert_int_equal(bpf_map_update_batch(f->qsock, keys, vals, &n, &bo), 0);
	assert_int_equal(n, COOKIE_WINDOW);
}

static int skb_run(int prog, int l3, int repeat)
{
	struct tl_pkt4 p4;
	struct tl_pkt6 p6;
	struct in6_addr a = IN6ADDR_LOOPBACK_INIT, b = IN6ADDR_LOOPBACK_INIT;
	char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out),
		    .repeat = repeat);

	if (l3 == 4) {
		tl_pkt4(&p4, htonl(0x0a4d0102), htonl(0x0a4d0101));
		o.data_in = &p4;
		o.data_size_in = sizeof(p4);
	} else {
		b.s6_addr[0] = 0xfd;
		tl_pkt6(&p6, &a, &b);
		o.data_in = &p6;
		o.data_size_in = sizeof(p6);
	}
	if (bpf_prog_test_run_opts(prog, &o))
		return -errno;
	return o.retval;
}

/* The run just before had a cookie in the window after base (see the top). */
static bool window_held(__u64 base)
{
	return sock_cookie_now() - base <= COOKIE_WINDOW;
}

/*
 * One attempt at a case: true when it was decided (and passed: a failed
 * check does not return), false when a run's cookie may have missed the
 * window, before anything was checked.
 */
static bool skb_case_try(struct fx *f, const struct skb_case *c)
{
	int prog = bpf_program__fd(c->egress ? f->skel->progs.irc_skb_egress :
				   f->skel->progs.irc_skb_ingress);
	__u64 before[IRC_STAT__MAX], after[IRC_STAT__MAX];
	__u32 qtgid = QTGID;
	__u64 cgid = 0, zero = 0, pd0, cd0, base;
	int i, v;

	maps_reset(f);
	if (c->cg)
		cgid = c->cg == CG_ROOT ? f->root_cgid : c->cg == CG_OWN ? f->own_cgid : OTHER_CGID;
	if (c->cg == CG_OWN && !f->own_cgid)
		fail_msg("%s: this process's cgroup id is unknown", c->name);
	/* The run's socket gets a cookie above this one. */
	base = sock_cookie_now();
	if (c->qsock == QS_WINDOW)
		window_fill(f, base, 0);
	if (c->qsock == QS_WINDOW_EXPIRED)
		window_fill(f, base, 1);
	if (c->qsock == QS_ZERO) {
		struct irc_qsock q = { .tgid = QTGID };

		assert_int_equal(bpf_map_update_elem(f->qsock, &zero, &q, BPF_ANY), 0);
	}
	entry_put(f->qpid, &qtgid, c->pid, QTGID);
	if (c->cg)
		entry_put(f->qcgrp, &cgid, c->cgent, 0);
	config_set(f, c->flag ? IRC_CFG_HAS_CGROUPS : 0);
	pd0 = denied_of(f->qpid, &qtgid);
	cd0 = c->cg ? denied_of(f->qcgrp, &cgid) : 0;
	stats_read(f, before);

	v = skb_run(prog, c->l3, c->repeat ? c->repeat : 1);
	if ((c->qsock == QS_WINDOW || c->qsock == QS_WINDOW_EXPIRED) && !window_held(base))
		return false;
	if (v != c->verdict)
		fail_msg("%s: verdict %d, expected %d", c->name, v, c->verdict);
	stats_read(f, after);
	for (i = 0; i < IRC_STAT__MAX; i++) {
		__u64 want = before[i] + (i == IRC_STAT_PROC_DROP ? c->drops : 0);

		if (after[i] != want)
			fail_msg("%s: counter %d went from %llu to %llu, expected %llu", c->name,
				 i, (unsigned long long)before[i], (unsigned long long)after[i],
				 (unsigned long long)want);
	}
	if (denied_of(f->qpid, &qtgid) - pd0 != c->pid_denied)
		fail_msg("%s: irc_qpid denied +%llu, expected +%llu", c->name,
			 (unsigned long long)(denied_of(f->qpid, &qtgid) - pd0),
			 (unsigned long long)c->pid_denied);
	if (c->cg && denied_of(f->qcgrp, &cgid) - cd0 != c->cg_denied)
		fail_msg("%s: irc_qcgrp denied +%llu, expected +%llu", c->name,
			 (unsigned long long)(denied_of(f->qcgrp, &cgid) - cd0),
			 (unsigned long long)c->cg_denied);
	if (!c->control)
		return true;

	/*
	 * Control: the window (base, base + COOKIE_WINDOW] answering to a live
	 * QTGID, nothing else.  The next run's cookie is larger than this
	 * run's; if the next run drops, its cookie is in the window, so this
	 * run's was too (and was not 0): the pass above came from the entry,
	 * not from a cookie the window missed.
	 */
	map_clear(f->qsock, sizeof(__u64));
	map_clear(f->qpid, sizeof(__u32));
	map_clear(f->qcgrp, sizeof(__u64));
	config_set(f, 0);
	window_fill(f, base, 0);
	entry_put(f->qpid, &qtgid, E_LIVE, QTGID);
	v = skb_run(prog, c->l3, 1);
	if (!window_held(base))
		return false;
	if (v != V_DROP)
		fail_msg("%s: control run in the same cookie window: verdict %d, expected %d (drop)",
			 c->name, v, V_DROP);
	return true;
}

/*
 * A window is missed when more than COOKIE_WINDOW cookies were made on this
 * CPU during a case, or when this CPU's batch ran out then (once in 4096
 * cookies at most); never many times in a row.
 */
#define CASE_TRIES	20

static void test_skb_case(void **state)
{
	const struct skb_case *c = *state;
	int n;

	for (n = 1; !skb_case_try(&fx, c); n++) {
		if (n == CASE_TRIES)
			fail_msg("%s: the run's socket cookie missed the cookie window in %d attempts "
				 "(more than %d cookies made on this CPU during each)",
				 c->name, n, COOKIE_WINDOW);
		fprintf(stderr, "note: %s: the run's socket cookie may be past the cookie window "
			"(a new per-CPU batch began, or other sockets took cookies): run again\n",
			c->name);
	}
	maps_reset(&fx);
}

int main(void)
{
	struct CMUnitTest *tests;
	size_t i, n = 0;
	int rc = 1;

	tests = calloc(ARRAY_SIZE(skb_cases), sizeof(*tests));
	if (!tests || fx_init(&fx))
		goto out;
	for (i = 0; i < ARRAY_SIZE(skb_cases); i++)
		tests[n++] = (struct CMUnitTest){
			.name = skb_cases[i].name,
			.test_func = test_skb_case,
			.initial_state = (void *)&skb_cases[i],
		};
	rc = _cmocka_run_group_tests("bpf_proc", tests, n, NULL, NULL) ? 1 : 0;
out:
	free(tests);
	if (fx.skel)
		irc_proc_bpf__destroy(fx.skel);
	return rc;
}
