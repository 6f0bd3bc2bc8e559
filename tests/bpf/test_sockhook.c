// SPDX-License-Identifier: GPL-2.0-only
/*
 * The socket-call hooks of bpf/irc_proc.bpf.c (cgroup/sock_create,
 * connect4/6, sendmsg4/6, bind4/6) as a table of real system calls.
 *
 * These hooks have no BPF_PROG_TEST_RUN, so the programs are attached, to a
 * throwaway cgroup of this test's own (irtPID under the cgroup v2 mount,
 * with children q/ and free/; never the root), and a child process makes
 * each row's call from inside it.  A row: the call, where the quarantine
 * is (the child's pid, its cgroup, a sibling cgroup, none), the entry's
 * state, and the errno the call must end with, EPERM or 0, plus the change
 * of the entry's denied counter.  The child makes the socket a row needs
 * before the entry is put (a quarantined process cannot make one), then
 * waits for the parent's word to make the call.
 *
 * The skeleton's maps are unpinned: the real pin dir is neither read nor
 * written.  Its links are the test's own and go with it; the cgroups are
 * removed on every exit path the test controls (a crash leaves irtPID,
 * which tests/e2e/lib.sh's sweep removes once this PID is gone).
 *
 * Needs root.  IRC_TEST_VERBOSE=1 shows libbpf's log.
 */
#include <linux/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "cgroup.h"
#include "irc_proc.skel.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The calls, each on a socket of its own kind. */
enum op {
	OP_SOCKET_TCP4,		/* socket(AF_INET, SOCK_STREAM) */
	OP_SOCKET_UDP6,		/* socket(AF_INET6, SOCK_DGRAM) */
	OP_SOCKET_UNIX,		/* socket(AF_UNIX, SOCK_STREAM): not the hooks' */
	OP_CONNECT4,		/* TCP connect to 127.0.0.1, a listener there */
	OP_CONNECT6,		/* TCP connect to ::1, a listener there */
	OP_SENDTO4,		/* UDP sendto 127.0.0.1 */
	OP_SENDTO6,		/* UDP sendto ::1 */
	OP_BIND4,		/* bind 127.0.0.1:0 */
	OP_BIND6,		/* bind [::1]:0 */
};

/* Where the entry is, relative to the calling child. */
enum where {
	Q_NONE,			/* no entry at all */
	Q_PID,			/* irc_qpid[child's tgid] */
	Q_CGROUP,		/* irc_qcgrp[q/], the child in q/ */
	Q_SIBLING,		/* irc_qcgrp[q/], the child in free/ */
};

enum state { S_LIVE, S_EXPIRED, S_FUTURE };

struct row {
	const char *name;
	enum op op;
	enum where where;
	enum state state;
	bool flag;		/* IRC_CFG_HAS_CGROUPS */
	int want;		/* the call's errno: 0 or EPERM */
	__u64 denied;		/* the entry's denied counter change */
};

static const struct row rows[] = {
	/* Nothing quarantined: every call goes through. */
	{ "no entry: socket tcp4", OP_SOCKET_TCP4, Q_NONE, S_LIVE, true, 0, 0 },
	{ "no entry: connect4", OP_CONNECT4, Q_NONE, S_LIVE, true, 0, 0 },
	{ "no entry: sendto6", OP_SENDTO6, Q_NONE, S_LIVE, true, 0, 0 },
	{ "no entry: bind4", OP_BIND4, Q_NONE, S_LIVE, true, 0, 0 },
	/* A quarantined process: every IP socket call refused, each counted. */
	{ "pid: socket tcp4", OP_SOCKET_TCP4, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: socket udp6", OP_SOCKET_UDP6, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: connect4", OP_CONNECT4, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: connect6", OP_CONNECT6, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: sendto4", OP_SENDTO4, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: sendto6", OP_SENDTO6, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: bind4", OP_BIND4, Q_PID, S_LIVE, false, EPERM, 1 },
	{ "pid: bind6", OP_BIND6, Q_PID, S_LIVE, false, EPERM, 1 },
	/* Local IPC is not the network: a Unix socket is left alone. */
	{ "pid: socket unix", OP_SOCKET_UNIX, Q_PID, S_LIVE, false, 0, 0 },
	/* The entry's expiry: passed lets the call through, to come does not. */
	{ "pid, expired: connect4", OP_CONNECT4, Q_PID, S_EXPIRED, false, 0, 0 },
	{ "pid, expiring in an hour: connect4", OP_CONNECT4, Q_PID, S_FUTURE, false, EPERM, 1 },
	/* A quarantined cgroup: its processes refused, its sibling's not. */
	{ "cgroup: socket tcp4", OP_SOCKET_TCP4, Q_CGROUP, S_LIVE, true, EPERM, 1 },
	{ "cgroup: connect6", OP_CONNECT6, Q_CGROUP, S_LIVE, true, EPERM, 1 },
	{ "cgroup: sendto4", OP_SENDTO4, Q_CGROUP, S_LIVE, true, EPERM, 1 },
	{ "cgroup: bind6", OP_BIND6, Q_CGROUP, S_LIVE, true, EPERM, 1 },
	{ "cgroup, expired: connect4", OP_CONNECT4, Q_CGROUP, S_EXPIRED, true, 0, 0 },
	{ "cgroup, flag clear: not looked at", OP_CONNECT4, Q_CGROUP, S_LIVE, false, 0, 0 },
	{ "sibling cgroup quarantined: connect4", OP_CONNECT4, Q_SIBLING, S_LIVE, true, 0, 0 },
};

static struct {
	struct irc_proc_bpf *skel;
	struct bpf_link *links[8];
	int nlinks;
	char top[PATH_MAX + 32], q[PATH_MAX + 64], free_cg[PATH_MAX + 64];
	uint64_t q_id;
	__u32 level;		/* of top, below the cgroup v2 mount */
	int lis4, lis6;		/* listeners the connects reach */
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
} t = { .lis4 = -1, .lis6 = -1 };

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	if (!getenv("IRC_TEST_VERBOSE"))
		return 0;
	return vfprintf(stderr, f, ap);
}

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int listener(int family, void *addr, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, addr, len) || listen(fd, 64) ||
	    getsockname(fd, addr, &len)) {
		fprintf(stderr, "test_sockhook: listener (family %d): %s\n", family, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void cgroups_remove(void)
{
	if (t.q[0])
		rmdir(t.q);
	if (t.free_cg[0])
		rmdir(t.free_cg);
	if (t.top[0])
		rmdir(t.top);
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < t.nlinks; i++)
		bpf_link__destroy(t.links[i]);
	t.nlinks = 0;
	irc_proc_bpf__destroy(t.skel);
	t.skel = NULL;
	cgroups_remove();
	t.top[0] = t.q[0] = t.free_cg[0] = '\0';
	if (t.lis4 >= 0)
		close(t.lis4);
	if (t.lis6 >= 0)
		close(t.lis6);
	t.lis4 = t.lis6 = -1;
	return 0;
}

static int setup(void **state)
{
	struct bpf_program *progs[8];
	char mnt[PATH_MAX];
	const char *p;
	struct bpf_map *map;
	int cg, i, n;

	(void)state;
	libbpf_set_print(quiet);
	if (irc_cgroup2_mount(mnt, sizeof(mnt))) {
		fprintf(stderr, "test_sockhook: no cgroup v2 mount\n");
		return -1;
	}
	snprintf(t.top, sizeof(t.top), "%s/irt%d", mnt, (int)getpid());
	if (mkdir(t.top, 0755)) {
		fprintf(stderr, "test_sockhook: mkdir %s: %s\n", t.top, strerror(errno));
		t.top[0] = '\0';
		return -1;
	}
	snprintf(t.q, sizeof(t.q), "%s/q", t.top);
	snprintf(t.free_cg, sizeof(t.free_cg), "%s/free", t.top);
	if (mkdir(t.q, 0755) || mkdir(t.free_cg, 0755) || irc_cgroup_id(t.q, &t.q_id)) {
		fprintf(stderr, "test_sockhook: cgroups under %s: %s\n", t.top, strerror(errno));
		goto fail;
	}
	for (p = t.top + strlen(mnt); *p; p++)
		if (*p == '/' && p[1])
			t.level++;

	t.skel = irc_proc_bpf__open();
	if (!t.skel)
		goto fail;
	bpf_object__for_each_map(map, t.skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (irc_proc_bpf__load(t.skel)) {
		fprintf(stderr, "test_sockhook: load the irc_proc skeleton (root needed; IRC_TEST_VERBOSE=1 shows the log)\n");
		goto fail;
	}
	cg = open(t.top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		goto fail;
	n = 0;
	progs[n++] = t.skel->progs.irc_sock_create;
	progs[n++] = t.skel->progs.irc_connect4;
	progs[n++] = t.skel->progs.irc_connect6;
	progs[n++] = t.skel->progs.irc_sendmsg4;
	progs[n++] = t.skel->progs.irc_sendmsg6;
	progs[n++] = t.skel->progs.irc_bind4;
	progs[n++] = t.skel->progs.irc_bind6;
	for (i = 0; i < n; i++) {
		t.links[i] = bpf_program__attach_cgroup(progs[i], cg);
		if (libbpf_get_error(t.links[i])) {
			fprintf(stderr, "test_sockhook: attach %s to %s: %s\n",
				bpf_program__name(progs[i]), t.top, strerror(errno));
			t.links[i] = NULL;
			close(cg);
			goto fail;
		}
		t.nlinks++;
	}
	close(cg);

	t.a4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	t.a6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	t.lis4 = listener(AF_INET, &t.a4, sizeof(t.a4));
	t.lis6 = listener(AF_INET6, &t.a6, sizeof(t.a6));
	if (t.lis4 < 0 || t.lis6 < 0)
		goto fail;
	return 0;
fail:
	teardown(NULL);
	return -1;
}

/* The socket a row's call is made on, made before any entry exists. */
static int prepare(enum op op)
{
	switch (op) {
	case OP_CONNECT4:
		return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	case OP_CONNECT6:
		return socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	case OP_SENDTO4:
	case OP_BIND4:
		return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	case OP_SENDTO6:
	case OP_BIND6:
		return socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	default:
		return -2;	/* the call makes its own */
	}
}

/* The call; its errno, 0 if it succeeded. */
static int call(enum op op, int fd)
{
	struct sockaddr_in b4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 b6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	static const char msg[] = "x";
	int r;

	switch (op) {
	case OP_SOCKET_TCP4:
		r = socket(AF_INET, SOCK_STREAM, 0);
		break;
	case OP_SOCKET_UDP6:
		r = socket(AF_INET6, SOCK_DGRAM, 0);
		break;
	case OP_SOCKET_UNIX:
		r = socket(AF_UNIX, SOCK_STREAM, 0);
		break;
	case OP_CONNECT4:
		r = connect(fd, (struct sockaddr *)&t.a4, sizeof(t.a4));
		break;
	case OP_CONNECT6:
		r = connect(fd, (struct sockaddr *)&t.a6, sizeof(t.a6));
		break;
	case OP_SENDTO4:
		r = sendto(fd, msg, 1, 0, (struct sockaddr *)&t.a4, sizeof(t.a4));
		break;
	case OP_SENDTO6:
		r = sendto(fd, msg, 1, 0, (struct sockaddr *)&t.a6, sizeof(t.a6));
		break;
	case OP_BIND4:
		r = bind(fd, (struct sockaddr *)&b4, sizeof(b4));
		break;
	case OP_BIND6:
		r = bind(fd, (struct sockaddr *)&b6, sizeof(b6));
		break;
	default:
		r = -1;
		errno = EINVAL;
	}
	return r < 0 ? errno : 0;
}

/*
 * The child: joins @cg, makes the row's socket, says "ready", waits for
 * "go", makes the call and writes its errno.  -1 (in *@err) when a step
 * before the call failed.
 */
static void child(const char *cg, enum op op, int rd, int wr)
{
	char path[PATH_MAX + 96], pid[16], c;
	int fd, n, e;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, n) != n)
		_exit(10);
	close(fd);
	fd = prepare(op);
	if (fd == -1)
		_exit(11);
	if (write(wr, "r", 1) != 1 || read(rd, &c, 1) != 1)
		_exit(12);
	e = call(op, fd);
	_exit(write(wr, &e, sizeof(e)) == sizeof(e) ? 0 : 13);
}

static void entry_put(int fd, const void *key, enum state s, __u32 root)
{
	struct irc_pentry v = { .root = root };
	__u64 now = boot_ns();

	v.expires_ns = s == S_LIVE ? 0 : s == S_EXPIRED ? now - 1000000000ULL :
		       now + 3600ULL * 1000000000ULL;
	snprintf(v.reason, sizeof(v.reason), "test_sockhook");
	assert_int_equal(bpf_map_update_elem(fd, key, &v, BPF_ANY), 0);
}

static __u64 denied_of(int fd, const void *key)
{
	struct irc_pentry v;

	return bpf_map_lookup_elem(fd, key, &v) ? 0 : v.denied;
}

/* Empties a map (a failed row returns before its own cleanup). */
static void map_clear(int fd, void *key)
{
	while (!bpf_map_get_next_key(fd, NULL, key))
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
}

static void run_row(void **state)
{
	const struct row *r = *state;
	int qpid = bpf_map__fd(t.skel->maps.IRC_MAP_QPID);
	int qcgrp = bpf_map__fd(t.skel->maps.IRC_MAP_QCGRP);
	int config = bpf_map__fd(t.skel->maps.IRC_MAP_CONFIG);
	struct irc_config cfg = { .flags = r->flag ? IRC_CFG_HAS_CGROUPS : 0,
				  .cgroup_root_level = t.level };
	int p2c[2], c2p[2], got = -1, status = 0;
	__u32 zero = 0, tgid;
	__u64 cgkey;
	char c;
	pid_t pid;

	map_clear(qpid, &tgid);
	map_clear(qcgrp, &cgkey);
	assert_int_equal(bpf_map_update_elem(config, &zero, &cfg, BPF_ANY), 0);
	assert_int_equal(pipe2(p2c, O_CLOEXEC), 0);
	assert_int_equal(pipe2(c2p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(p2c[1]);
		close(c2p[0]);
		child(r->where == Q_CGROUP ? t.q : t.free_cg, r->op, p2c[0], c2p[1]);
	}
	close(p2c[0]);
	close(c2p[1]);
	tgid = (__u32)pid;
	if (read(c2p[0], &c, 1) == 1) {
		if (r->where == Q_PID)
			entry_put(qpid, &tgid, r->state, tgid);
		else if (r->where == Q_CGROUP || r->where == Q_SIBLING)
			entry_put(qcgrp, &t.q_id, r->state, 0);
		if (write(p2c[1], "g", 1) != 1 || read(c2p[0], &got, sizeof(got)) != sizeof(got))
			got = -1;
	}
	close(p2c[1]);
	close(c2p[0]);
	waitpid(pid, &status, 0);
	if (got == -1)
		fail_msg("%s: the child did not get to the call (exit %d)", r->name,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (got != r->want)
		fail_msg("%s: errno %d (%s), expected %d (%s)", r->name, got, strerror(got),
			 r->want, strerror(r->want));
	if (r->where == Q_PID)
		assert_int_equal(denied_of(qpid, &tgid), r->denied);
	else if (r->where != Q_NONE)
		assert_int_equal(denied_of(qcgrp, &t.q_id), r->denied);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(rows)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		tests[i] = (struct CMUnitTest){ .name = rows[i].name, .test_func = run_row,
						.initial_state = (void *)&rows[i] };
	signal(SIGPIPE, SIG_IGN);
	return _cmocka_run_group_tests("test_sockhook", tests, ARRAY_SIZE(rows), setup, teardown);
}
