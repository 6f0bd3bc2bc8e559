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
 *   - a socket cookie: not 0, fresh for every run, taken from the kernel's
 *     global cookie counter.  It cannot be read, but it can be bracketed:
 *     the cookie of a socket made just before (SO_COOKIE) is smaller, and
 *     the counter only grows.  Cases that need "the run's socket is a cut
 *     socket" put a window of cookies after that one in irc_qsock; cases
 *     that expect a pass in that setting are followed by a control run in
 *     the same window that must drop (its cookie is larger than the first
 *     run's and still in the window, so the first run's was too);
 *   - cgroup ancestors: those of this process's cgroup v2.
 * Each case checks the verdict, the change of every irc_stats counter
 * (summed over CPUs) and of the denied field of the entries involved.
 *
 * The socket-call hooks (cgroup/sock_create, cgroup/connect4 and the other
 * sock_addr hooks) and the tp_btf fork/exit programs are probed, in one
 * test each group: where the kernel has a test run for the program type,
 * table cases run (the calling process's own tgid is the one the hooks
 * look up); where it does not (6.18: ENOTSUPP for cgroup/sock_create and
 * sock_addr, EFAULT for tp_btf), a "#" line says so, and those paths are
 * covered by tests/e2e (test_process.sh and test_proc_*.sh).
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

static void map_clear(int fd, size_t ksz)
{
	char key[64];

	assert_true(ksz <= sizeof(key));
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
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
	/*
	 * One CPU: the cookie counter is global today, but were it batched
	 * per CPU the window would still follow this CPU's batch.
	 */
	cpu = sched_getcpu();
	if (cpu >= 0) {
		CPU_ZERO(&cpus);
		CPU_SET(cpu, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
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

static void skb_case_run(struct fx *f, const struct skb_case *c)
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
		return;

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
	if (v != V_DROP)
		fail_msg("%s: control run in the same cookie window: verdict %d, expected %d (drop)",
			 c->name, v, V_DROP);
}

static void test_skb_case(void **state)
{
	skb_case_run(&fx, *state);
	maps_reset(&fx);
}

/* Nothing of the skeleton is pinned, so no test touches a real pin dir. */
static void test_maps_not_pinned(void **state)
{
	struct bpf_map *map;

	(void)state;
	bpf_object__for_each_map(map, fx.skel->obj) {
		assert_null(bpf_map__pin_path(map));
		assert_false(bpf_map__is_pinned(map));
	}
}

/* ------------------------------------------------------------------ */
/* Socket-call hooks and tracepoints: test runs where the kernel has them */
/* ------------------------------------------------------------------ */

/*
 * Test run errors that mean "this program type has no test run": the
 * kernel's ENOTSUPP (cgroup/sock_create, the sock_addr hooks, tracepoints)
 * and, for tp_btf, EFAULT (bpf_prog_test_run_tracing runs fentry, fexit
 * and fmod_ret only, and fails any other attach type before running it).
 */
static bool no_test_run(int err, enum bpf_prog_type type)
{
	return err == T_ENOTSUPP || err == EOPNOTSUPP ||
	       (type == BPF_PROG_TYPE_TRACING && err == EFAULT);
}

struct hook {
	const char *name;
	int family;		/* the context's family: AF_INET, AF_INET6, AF_UNIX */
};

static struct bpf_program *hook_prog(const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(fx.skel->obj, name);

	if (!p)
		fail_msg("no program %s in the irc_proc skeleton", name);
	return p;
}

/* One test run of a socket-call hook; the verdict or -errno. */
static int hook_run(struct bpf_program *p, int family)
{
	union {
		struct bpf_sock sk;
		struct bpf_sock_addr sa;
	} ctx;
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &ctx);

	memset(&ctx, 0, sizeof(ctx));
	if (bpf_program__type(p) == BPF_PROG_TYPE_CGROUP_SOCK) {
		ctx.sk.family = family;
		ctx.sk.type = SOCK_STREAM;
		o.ctx_size_in = sizeof(ctx.sk);
	} else {
		ctx.sa.user_family = family;
		ctx.sa.family = family;
		ctx.sa.user_port = htons(7);
		if (family == AF_INET)
			ctx.sa.user_ip4 = htonl(0x0a4d0102);
		else
			ctx.sa.user_ip6[0] = htonl(0xfd770001);
		o.ctx_size_in = sizeof(ctx.sa);
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(p), &o))
		return -errno;
	return o.retval;
}

enum who { W_NONE, W_SELF, W_OTHER, W_CGROOT };

struct hook_case {
	const char *what;
	enum who who;		/* whose entry is in the maps */
	enum ent ent;
	bool flag;
	int verdict;		/* for AF_INET / AF_INET6 */
};

static const struct hook_case hook_cases[] = {
	{ "nothing quarantined", W_NONE, E_NONE, false, V_PASS },
	{ "this process quarantined", W_SELF, E_LIVE, false, V_DROP },
	{ "this process, expiring in an hour", W_SELF, E_FUTURE, false, V_DROP },
	{ "this process, expired", W_SELF, E_EXPIRED, false, V_PASS },
	{ "another process quarantined", W_OTHER, E_LIVE, false, V_PASS },
	{ "cgroup root quarantined, flag set", W_CGROOT, E_LIVE, true, V_DROP },
	{ "cgroup root quarantined, flag clear", W_CGROOT, E_LIVE, false, V_PASS },
};

static void hook_cases_run(struct bpf_program *p, int family)
{
	__u64 before[IRC_STAT__MAX], after[IRC_STAT__MAX], d0;
	__u32 self = getpid(), other = 1;
	size_t i;
	int v, k;

	for (i = 0; i < ARRAY_SIZE(hook_cases); i++) {
		const struct hook_case *c = &hook_cases[i];
		/* AF_UNIX sockets are never refused (sock_create only). */
		int want = family == AF_UNIX ? V_PASS : c->verdict;
		int fd = c->who == W_CGROOT ? fx.qcgrp : fx.qpid;
		const void *key = c->who == W_CGROOT ? (const void *)&fx.root_cgid :
				  c->who == W_OTHER ? (const void *)&other : (const void *)&self;

		maps_reset(&fx);
		if (c->who != W_NONE)
			entry_put(fd, key, c->ent, c->who == W_CGROOT ? 0 : *(const __u32 *)key);
		config_set(&fx, c->flag ? IRC_CFG_HAS_CGROUPS : 0);
		d0 = denied_of(fd, key);
		stats_read(&fx, before);
		v = hook_run(p, family);
		stats_read(&fx, after);
		if (v != want)
			fail_msg("%s, family %d, %s: verdict %d, expected %d",
				 bpf_program__name(p), family, c->what, v, want);
		for (k = 0; k < IRC_STAT__MAX; k++) {
			__u64 w = before[k] + (k == IRC_STAT_PROC_DENY && want == V_DROP);

			if (after[k] != w)
				fail_msg("%s, %s: counter %d %llu -> %llu, expected %llu",
					 bpf_program__name(p), c->what, k,
					 (unsigned long long)before[k],
					 (unsigned long long)after[k], (unsigned long long)w);
		}
		if (c->who != W_NONE && denied_of(fd, key) - d0 != (want == V_DROP))
			fail_msg("%s, %s: denied +%llu", bpf_program__name(p), c->what,
				 (unsigned long long)(denied_of(fd, key) - d0));
	}
	maps_reset(&fx);
}

static const struct hook hooks[] = {
	{ "irc_sock_create", AF_INET },
	{ "irc_sock_create", AF_INET6 },
	{ "irc_sock_create", AF_UNIX },
	{ "irc_connect4", AF_INET },
	{ "irc_connect6", AF_INET6 },
	{ "irc_sendmsg4", AF_INET },
	{ "irc_sendmsg6", AF_INET6 },
	{ "irc_bind4", AF_INET },
	{ "irc_bind6", AF_INET6 },
};

/*
 * One test for all the socket-call hooks: each is probed; where the kernel
 * has a test run for its program type the table runs, otherwise a "#"
 * line says so.  (One test, not one per hook, so that hooks the kernel
 * cannot run do not count as passed tests.)
 */
static void test_sock_hooks(void **state)
{
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		const struct hook *h = &hooks[i];
		struct bpf_program *p = hook_prog(h->name);

		maps_reset(&fx);
		v = hook_run(p, h->family);
		if (v < 0 && no_test_run(-v, bpf_program__type(p))) {
			printf("# %s (%s, family %d): no BPF_PROG_TEST_RUN for this program type on this kernel (errno %d): covered by tests/e2e\n",
			       h->name, bpf_program__section_name(p), h->family, -v);
			continue;
		}
		if (v < 0)
			fail_msg("%s: test run: %s", h->name, strerror(-v));
		hook_cases_run(p, h->family);
		printf("# %s (family %d): %zu cases run\n", h->name, h->family,
		       ARRAY_SIZE(hook_cases));
	}
	maps_reset(&fx);
}

/*
 * The tp_btf programs take kernel pointers (struct task_struct *): no
 * context a test can craft means anything to them.  Probed only: if the
 * kernel runs them at all, a run on a zeroed context must change nothing.
 */
static void test_tracing(void **state)
{
	static const char *const names[] = { "irc_fork", "irc_exit" };
	__u32 key, self = getpid();
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct bpf_program *p = hook_prog(names[i]);
		__u64 ctx[4] = {};
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));

		maps_reset(&fx);
		entry_put(fx.qpid, &self, E_LIVE, self);
		if (bpf_prog_test_run_opts(bpf_program__fd(p), &o)) {
			int err = errno;

			if (!no_test_run(err, bpf_program__type(p)))
				fail_msg("%s: test run: %s", names[i], strerror(err));
			printf("# %s (%s): no BPF_PROG_TEST_RUN for this attach type on this kernel (errno %d): covered by tests/e2e\n",
			       names[i], bpf_program__section_name(p), err);
		} else {
			assert_int_equal(o.retval, 0);
		}
		/* Either way, the map holds exactly the entry put there. */
		assert_int_equal(bpf_map_get_next_key(fx.qpid, NULL, &key), 0);
		assert_int_equal(key, self);
		assert_int_not_equal(bpf_map_get_next_key(fx.qpid, &key, &key), 0);
	}
	maps_reset(&fx);
}

int main(void)
{
	struct CMUnitTest *tests;
	size_t i, n = 0;
	int rc = 1;

	tests = calloc(3 + ARRAY_SIZE(skb_cases), sizeof(*tests));
	if (!tests || fx_init(&fx))
		goto out;
	tests[n++] = (struct CMUnitTest){ .name = "maps_not_pinned",
					  .test_func = test_maps_not_pinned };
	for (i = 0; i < ARRAY_SIZE(skb_cases); i++)
		tests[n++] = (struct CMUnitTest){
			.name = skb_cases[i].name,
			.test_func = test_skb_case,
			.initial_state = (void *)&skb_cases[i],
		};
	tests[n++] = (struct CMUnitTest){ .name = "socket-call hooks (test runs where the kernel has them)",
					  .test_func = test_sock_hooks };
	tests[n++] = (struct CMUnitTest){ .name = "fork and exit tracepoints (probed)",
					  .test_func = test_tracing };
	rc = _cmocka_run_group_tests("bpf_proc", tests, n, NULL, NULL) ? 1 : 0;
out:
	free(tests);
	if (fx.skel)
		irc_proc_bpf__destroy(fx.skel);
	return rc;
}
