// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the containment snapshot (userspace/snapshot.c), on fake
 * /proc trees built in a temporary directory: identity and start time,
 * executable path and SHA-256 (a deleted binary too), cmdline, uid/gid,
 * cgroup, ancestry up to PID 1, open files, sockets resolved through the
 * net tables (TCP, TCP6, UDP, unix, and one that no table knows), the
 * memory map list, every IRC_SNAP_* bound with its "truncated" flag, the
 * executable's hash bounded (a sparse binary past the cap: no "sha256",
 * the hash of its first bytes, its whole size), and text that is not UTF-8.  One test reads the real /proc/self to hold the
 * address decoding to what the kernel really prints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "irc.h"
#include "snapshot.h"

/* sha256("abc") */
#define SHA_ABC	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define BTIME	1700000000ULL
#define TICKS	12345ULL	/* start time, in clock ticks after boot */

struct fake {
	char root[64];
};

static void put_str(const char *root, const char *rel, const char *s)
{
	tu_put_file(root, rel, s, strlen(s));
}

/* A stat line with @comm, @state, @ppid and TICKS as field 22. */
static void put_stat(const char *root, int pid, const char *comm, char state, int ppid)
{
	char rel[64], line[512];

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(line, sizeof(line),
		 "%d (%s) %c %d %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %llu"
		 " 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		 pid, comm, state, ppid, pid, pid, TICKS);
	put_str(root, rel, line);
}

static void put_proc(const char *root, int pid, const char *comm, int ppid,
		     const char *exe)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "%d", pid);
	tu_put_dir(root, rel);
	put_stat(root, pid, comm, 'S', ppid);
	if (exe) {
		snprintf(rel, sizeof(rel), "%d/exe", pid);
		tu_put_link(root, rel, exe);
	}
}

/* "0A4D0101:1F90" as the kernel prints 10.77.1.1:8080 (host-order words). */
static void hex4(const char *addr, unsigned int port, char *out, size_t len)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	snprintf(out, len, "%08X:%04X", a.s_addr, port);
}

static void hex6(const char *addr, unsigned int port, char *out, size_t len)
{
	struct in6_addr a;
	uint32_t w[4];

	assert_int_equal(inet_pton(AF_INET6, addr, &a), 1);
	memcpy(w, &a, sizeof(w));
	snprintf(out, len, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3], port);
}

static void inet_line(char *buf, size_t len, int sl, const char *l, const char *r,
		      unsigned int st, unsigned long inode)
{
	snprintf(buf, len, "%4d: %s %s %02X 00000000:00000000 00:00000000 00000000  1000"
		 "        0 %lu 1 0000000000000000 20 4 30 10 -1\n", sl, l, r, st, inode);
}

#define TCP_HDR	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define UNIX_HDR "Num       RefCount Protocol Flags    Type St Inode Path\n"

/*
 * PID 100 "evil prog" (comm with a space), child of 50 (bash), child of
 * 1 (systemd); its binary holds "abc".
 */
static void build_tree(struct fake *f)
{
	char rel[128], path[192], buf[4096], l[64], r[64];
	size_t n;

	snprintf(f->root, sizeof(f->root), "/tmp/irc-snap.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	put_str(f->root, "stat", "cpu  1 2 3 4\nintr 5\nbtime 1700000000\nprocesses 9\n");
	tu_put_dir(f->root, "bin");
	put_str(f->root, "bin/evil", "abc");
	snprintf(path, sizeof(path), "%s/bin/evil", f->root);
	put_proc(f->root, 100, "evil prog", 50, path);
	put_proc(f->root, 50, "bash", 1, "/usr/bin/bash");
	put_proc(f->root, 1, "systemd", 0, "/usr/lib/systemd/systemd");

	/* (split: "\0" then "2" would read as the octal escape "\02") */
	tu_put_file(f->root, "100/cmdline", "./evil\0--c2\0" "203.0.113.7:443\0",
		    sizeof("./evil\0--c2\0" "203.0.113.7:443\0") - 1);
	put_str(f->root, "100/status", "Name:\tevil prog\nState:\tS (sleeping)\nTgid:\t100\n"
		"Uid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\nGroups:\t\n");
	put_str(f->root, "100/cgroup", "0::/system.slice/web.service\n");

	tu_put_dir(f->root, "100/fd");
	tu_put_link(f->root, "100/fd/0", "/dev/null");
	tu_put_link(f->root, "100/fd/1", "pipe:[77]");
	tu_put_link(f->root, "100/fd/3", "socket:[1111]");
	tu_put_link(f->root, "100/fd/4", "socket:[2222]");
	tu_put_link(f->root, "100/fd/5", "socket:[3333]");
	tu_put_link(f->root, "100/fd/6", "socket:[9999]");
	tu_put_link(f->root, "100/fd/7", "socket:[1111]");	/* dup() of 3 */
	tu_put_link(f->root, "100/fd/10", "socket:[4444]");
	tu_put_link(f->root, "100/fd/11", "/var/log/x.log (deleted)");

	tu_put_dir(f->root, "100/net");
	n = snprintf(buf, sizeof(buf), TCP_HDR);
	hex4("10.0.0.5", 40000, l, sizeof(l));
	hex4("203.0.113.7", 443, r, sizeof(r));
	inet_line(buf + n, sizeof(buf) - n, 0, l, r, 0x01, 1111);
	n = strlen(buf);
	hex4("0.0.0.0", 22, l, sizeof(l));
	hex4("0.0.0.0", 0, r, sizeof(r));
	inet_line(buf + n, sizeof(buf) - n, 1, l, r, 0x0A, 5555);	/* not ours */
	put_str(f->root, "100/net/tcp", buf);

	n = snprintf(buf, sizeof(buf), TCP_HDR);
	hex6("2001:db8::5", 8443, l, sizeof(l));
	hex6("2001:db8::1", 51000, r, sizeof(r));
	inet_line(buf + n, sizeof(buf) - n, 0, l, r, 0x08, 2222);
	put_str(f->root, "100/net/tcp6", buf);

	n = snprintf(buf, sizeof(buf), TCP_HDR);
	hex4("10.0.0.5", 5353, l, sizeof(l));
	hex4("0.0.0.0", 0, r, sizeof(r));
	inet_line(buf + n, sizeof(buf) - n, 0, l, r, 0x07, 4444);
	put_str(f->root, "100/net/udp", buf);
	put_str(f->root, "100/net/udp6", TCP_HDR);

	put_str(f->root, "100/net/unix", UNIX_HDR
		"0000000000000000: 00000002 00000000 00010000 0001 01 8888 /run/other.sock\n"
		"0000000000000000: 00000003 00000000 00000000 0001 03 3333 /run/c2 relay.sock\n");

	snprintf(rel, sizeof(rel), "%s/bin/evil", f->root);
	snprintf(buf, sizeof(buf),
		 "55d0a0000000-55d0a0001000 r--p 00000000 08:01 123 %s\n"
		 "55d0a0001000-55d0a0002000 r-xp 00001000 08:01 123 %s\n"
		 "55d0a0002000-55d0a0003000 r-xp 00002000 08:01 123 %s\n"
		 "55d0a1000000-55d0a1021000 rw-p 00000000 00:00 0          [heap]\n"
		 "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
		 "7f0000001000-7f0000002000 r-xp 00000000 00:01 9    /memfd:stage2 (deleted)\n"
		 "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n",
		 rel, rel, rel);
	put_str(f->root, "100/maps", buf);
}

static json_t *snap_ok(const struct fake *f, int pid)
{
	json_t *o = NULL;

	assert_int_equal(irc_snapshot_proc(pid, f->root, &o), 0);
	assert_non_null(o);
	return o;
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long iget(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static json_t *sock_fd(json_t *socks, int fd)
{
	size_t i;
	json_t *s;

	json_array_foreach(socks, i, s)
		if (iget(s, "fd") == fd)
			return s;
	return NULL;
}

static void test_identity(void **state)
{
	struct fake f;
	json_t *o, *a;
	char when[40];
	long hz = sysconf(_SC_CLK_TCK);
	int bad = 0;

	(void)state;
	build_tree(&f);
	o = snap_ok(&f, 100);
	EXPECT(bad, iget(o, "pid") == 100, "pid %lld", iget(o, "pid"));
	EXPECT(bad, !strcmp(sget(o, "comm") ?: "", "evil prog"), "comm '%s'", sget(o, "comm"));
	EXPECT(bad, !strcmp(sget(o, "state") ?: "", "S"), "state '%s'", sget(o, "state"));
	EXPECT(bad, iget(o, "ppid") == 50, "ppid %lld", iget(o, "ppid"));
	irc_fmt_utc((BTIME + TICKS / hz) * 1000000000ULL + (TICKS % hz) * (1000000000ULL / hz),
		    when, sizeof(when));
	EXPECT(bad, !strcmp(sget(o, "start_time") ?: "", when), "start_time '%s', expected '%s'",
	       sget(o, "start_time"), when);
	EXPECT(bad, sget(o, "taken") != NULL, "no 'taken'");
	a = json_object_get(o, "uid");
	EXPECT(bad, iget(a, "real") == 1000 && iget(a, "effective") == 1001 &&
	       iget(a, "saved") == 1002 && iget(a, "fs") == 1003, "uid wrong");
	a = json_object_get(o, "gid");
	EXPECT(bad, iget(a, "real") == 2000 && iget(a, "effective") == 2001, "gid wrong");
	EXPECT(bad, !strcmp(sget(o, "cgroup") ?: "", "/system.slice/web.service"),
	       "cgroup '%s'", sget(o, "cgroup"));
	EXPECT(bad, json_array_size(json_object_get(o, "cgroups")) == 1, "cgroups");
	EXPECT(bad, json_is_false(json_object_get(o, "truncated")), "truncated");
	EXPECT(bad, json_array_size(json_object_get(o, "errors")) == 0, "errors");
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

static void test_exe_and_cmdline(void **state)
{
	char path[192];
	struct fake f;
	json_t *o, *c;
	int bad = 0;

	(void)state;
	build_tree(&f);
	o = snap_ok(&f, 100);
	snprintf(path, sizeof(path), "%s/bin/evil", f.root);
	EXPECT(bad, !strcmp(sget(o, "exe") ?: "", path), "exe '%s'", sget(o, "exe"));
	EXPECT(bad, json_is_false(json_object_get(o, "exe_deleted")), "exe_deleted");
	EXPECT(bad, !strcmp(sget(o, "sha256") ?: "", SHA_ABC), "sha256 '%s'", sget(o, "sha256"));
	EXPECT(bad, iget(o, "exe_size") == 3, "exe_size %lld", iget(o, "exe_size"));
	c = json_object_get(o, "cmdline");
	EXPECT(bad, json_array_size(c) == 3 &&
	       !strcmp(json_string_value(json_array_get(c, 0)), "./evil") &&
	       !strcmp(json_string_value(json_array_get(c, 1)), "--c2") &&
	       !strcmp(json_string_value(json_array_get(c, 2)), "203.0.113.7:443"),
	       "cmdline has %zu args", json_array_size(c));
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

/* The binary was deleted: the link says so, and it still hashes. */
static void test_deleted_exe(void **state)
{
	char path[192];
	struct fake f;
	json_t *o;
	int bad = 0;

	(void)state;
	build_tree(&f);
	put_str(f.root, "bin/gone (deleted)", "abc");
	snprintf(path, sizeof(path), "%s/bin/gone (deleted)", f.root);
	assert_int_equal(unlink(strcat(strcpy(path, f.root), "/100/exe")), 0);
	snprintf(path, sizeof(path), "%s/bin/gone (deleted)", f.root);
	tu_put_link(f.root, "100/exe", path);
	o = snap_ok(&f, 100);
	EXPECT(bad, json_is_true(json_object_get(o, "exe_deleted")), "exe_deleted");
	EXPECT(bad, !strcmp(sget(o, "sha256") ?: "", SHA_ABC), "sha256 '%s'", sget(o, "sha256"));
	json_decref(o);

	/* No binary at all (a kernel thread, an exited one): null, and said why. */
	snprintf(path, sizeof(path), "%s/100/exe", f.root);
	assert_int_equal(unlink(path), 0);
	o = snap_ok(&f, 100);
	EXPECT(bad, json_is_null(json_object_get(o, "exe")), "exe not null");
	EXPECT(bad, json_is_null(json_object_get(o, "sha256")), "sha256 not null");
	EXPECT(bad, json_array_size(json_object_get(o, "errors")) == 2, "errors: %zu",
	       json_array_size(json_object_get(o, "errors")));
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

static void test_ancestry(void **state)
{
	struct fake f;
	json_t *o, *a, *e;
	int bad = 0;

	(void)state;
	build_tree(&f);
	o = snap_ok(&f, 100);
	a = json_object_get(o, "ancestry");
	EXPECT(bad, json_array_size(a) == 2, "ancestry has %zu entries", json_array_size(a));
	e = json_array_get(a, 0);
	EXPECT(bad, iget(e, "pid") == 50 && !strcmp(sget(e, "comm") ?: "", "bash") &&
	       !strcmp(sget(e, "exe") ?: "", "/usr/bin/bash"), "parent wrong");
	e = json_array_get(a, 1);
	EXPECT(bad, iget(e, "pid") == 1 && !strcmp(sget(e, "comm") ?: "", "systemd"),
	       "init wrong");
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

static void test_files_and_sockets(void **state)
{
	struct fake f;
	json_t *o, *files, *socks, *s;
	int bad = 0;

	(void)state;
	build_tree(&f);
	o = snap_ok(&f, 100);
	files = json_object_get(o, "files");
	socks = json_object_get(o, "sockets");
	EXPECT(bad, json_array_size(files) == 3, "%zu files", json_array_size(files));
	EXPECT(bad, json_array_size(socks) == 6, "%zu sockets", json_array_size(socks));
	EXPECT(bad, iget(json_array_get(files, 0), "fd") == 0 &&
	       !strcmp(sget(json_array_get(files, 0), "path") ?: "", "/dev/null"), "fd 0");
	EXPECT(bad, iget(json_array_get(files, 2), "fd") == 11, "files in fd order");

	s = sock_fd(socks, 3);
	EXPECT(bad, s && !strcmp(sget(s, "protocol") ?: "", "tcp") &&
	       !strcmp(sget(s, "local") ?: "", "10.0.0.5:40000") &&
	       !strcmp(sget(s, "remote") ?: "", "203.0.113.7:443") &&
	       !strcmp(sget(s, "state") ?: "", "ESTABLISHED") && iget(s, "inode") == 1111,
	       "fd 3: %s", s ? json_dumps(s, JSON_COMPACT) : "missing");
	s = sock_fd(socks, 7);
	EXPECT(bad, s && !strcmp(sget(s, "remote") ?: "", "203.0.113.7:443"),
	       "fd 7 (dup of 3) not resolved");
	s = sock_fd(socks, 4);
	EXPECT(bad, s && !strcmp(sget(s, "protocol") ?: "", "tcp6") &&
	       !strcmp(sget(s, "local") ?: "", "[2001:db8::5]:8443") &&
	       !strcmp(sget(s, "remote") ?: "", "[2001:db8::1]:51000") &&
	       !strcmp(sget(s, "state") ?: "", "CLOSE_WAIT"),
	       "fd 4: %s", s ? json_dumps(s, JSON_COMPACT) : "missing");
	s = sock_fd(socks, 10);
	EXPECT(bad, s && !strcmp(sget(s, "protocol") ?: "", "udp") &&
	       !strcmp(sget(s, "local") ?: "", "10.0.0.5:5353") &&
	       !strcmp(sget(s, "state") ?: "", "UNCONN"),
	       "fd 10: %s", s ? json_dumps(s, JSON_COMPACT) : "missing");
	s = sock_fd(socks, 5);
	EXPECT(bad, s && !strcmp(sget(s, "protocol") ?: "", "unix") &&
	       !strcmp(sget(s, "type") ?: "", "stream") &&
	       !strcmp(sget(s, "state") ?: "", "CONNECTED") &&
	       !strcmp(sget(s, "path") ?: "", "/run/c2 relay.sock"),
	       "fd 5: %s", s ? json_dumps(s, JSON_COMPACT) : "missing");
	s = sock_fd(socks, 6);
	EXPECT(bad, s && !strcmp(sget(s, "protocol") ?: "", "unknown") && iget(s, "inode") == 9999,
	       "fd 6: %s", s ? json_dumps(s, JSON_COMPACT) : "missing");
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

static void test_maps(void **state)
{
	struct fake f;
	json_t *o, *m, *e, *p;
	int bad = 0;

	(void)state;
	build_tree(&f);
	o = snap_ok(&f, 100);
	m = json_object_get(o, "maps");
	/* evil, [heap], memfd, [stack]: the anonymous mapping has no name. */
	EXPECT(bad, json_array_size(m) == 4, "%zu maps", json_array_size(m));
	e = json_array_get(m, 0);
	p = json_object_get(e, "perms");
	EXPECT(bad, json_array_size(p) == 2 &&
	       !strcmp(json_string_value(json_array_get(p, 0)), "r--p") &&
	       !strcmp(json_string_value(json_array_get(p, 1)), "r-xp"),
	       "perms of the binary: %zu", json_array_size(p));
	EXPECT(bad, !strcmp(sget(json_array_get(m, 2), "path") ?: "", "/memfd:stage2 (deleted)"),
	       "memfd mapping '%s'", sget(json_array_get(m, 2), "path"));
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

static void test_gone(void **state)
{
	struct fake f;
	json_t *o = (json_t *)1;

	(void)state;
	build_tree(&f);
	assert_int_equal(irc_snapshot_proc(4242, f.root, &o), -ESRCH);
	assert_null(o);
	/* A zombie (killed, not reaped): gone too. */
	put_stat(f.root, 100, "zomb", 'Z', 1);
	put_str(f.root, "100/status", "Name:\tzomb\nThreads:\t1\n");
	assert_int_equal(irc_snapshot_proc(100, f.root, &o), -ESRCH);
	/* Exiting (PF_EXITING in the flags, field 9), not a zombie yet: gone. */
	put_str(f.root, "100/stat", "100 (zomb) R 1 100 100 0 -1 4194564 100 0 0 0 5 3 0 0 20 0 1 0"
		" 12345 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
	assert_int_equal(irc_snapshot_proc(100, f.root, &o), -ESRCH);
	put_stat(f.root, 100, "zomb", 'Z', 1);
	/* A "Z" leader whose other threads run: still there. */
	put_str(f.root, "100/status", "Name:\tzomb\nThreads:\t3\n");
	assert_int_equal(irc_snapshot_proc(100, f.root, &o), 0);
	json_decref(o);
	tu_rm_tree(f.root);
}

/* Every list stops at its limit and says so. */
static void test_bounds(void **state)
{
	char rel[64], tgt[64], *buf;
	struct fake f;
	json_t *o, *t;
	size_t i, n;
	int bad = 0;

	(void)state;
	build_tree(&f);
	/* Open files beyond the limit. */
	for (i = 20; i < 20 + IRC_SNAP_MAX_FDS; i++) {
		snprintf(rel, sizeof(rel), "100/fd/%zu", i);
		snprintf(tgt, sizeof(tgt), "/tmp/f%zu", i);
		tu_put_link(f.root, rel, tgt);
	}
	/* A command line longer than the limit, in one argument. */
	buf = malloc(IRC_SNAP_CMDLINE_MAX + 100);
	assert_non_null(buf);
	memset(buf, 'a', IRC_SNAP_CMDLINE_MAX + 100);
	tu_put_file(f.root, "100/cmdline", buf, IRC_SNAP_CMDLINE_MAX + 100);
	free(buf);
	/* More mapped files than the limit. */
	buf = malloc((IRC_SNAP_MAX_MAPS + 10) * 80);
	assert_non_null(buf);
	for (n = 0, i = 0; i < IRC_SNAP_MAX_MAPS + 10; i++)
		n += sprintf(buf + n, "%012zx-%012zx r--p 00000000 08:01 1 /lib/l%zu.so\n",
			     i << 12, (i + 1) << 12, i);
	tu_put_file(f.root, "100/maps", buf, n);
	free(buf);
	/* An ancestry deeper than the limit: 100 -> 200 -> 201 -> ... */
	snprintf(rel, sizeof(rel), "100/stat");
	remove(strcat(strcpy(tgt, f.root), "/100/stat"));
	put_stat(f.root, 100, "evil", 'S', 200);
	for (i = 200; i < 200 + IRC_SNAP_MAX_ANCESTRY + 5; i++)
		put_proc(f.root, i, "sh", i + 1, NULL);

	o = snap_ok(&f, 100);
	n = json_array_size(json_object_get(o, "files")) +
	    json_array_size(json_object_get(o, "sockets"));
	EXPECT(bad, n == IRC_SNAP_MAX_FDS, "%zu fds, limit %d", n, IRC_SNAP_MAX_FDS);
	n = json_array_size(json_object_get(o, "cmdline"));
	EXPECT(bad, n == 1 && strlen(json_string_value(json_array_get(json_object_get(o, "cmdline"), 0))) ==
	       IRC_SNAP_CMDLINE_MAX, "cmdline cut wrong");
	n = json_array_size(json_object_get(o, "maps"));
	EXPECT(bad, n == IRC_SNAP_MAX_MAPS, "%zu maps, limit %d", n, IRC_SNAP_MAX_MAPS);
	n = json_array_size(json_object_get(o, "ancestry"));
	EXPECT(bad, n == IRC_SNAP_MAX_ANCESTRY, "%zu ancestors, limit %d", n, IRC_SNAP_MAX_ANCESTRY);
	EXPECT(bad, json_is_true(json_object_get(o, "truncated")), "not truncated");
	t = json_object_get(o, "truncated_parts");
	EXPECT(bad, json_array_size(t) == 4, "truncated parts: %s", json_dumps(t, JSON_COMPACT));
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

/* Bytes that are not UTF-8 are kept visible, and the JSON stays valid. */
static void test_not_utf8(void **state)
{
	struct fake f;
	json_t *o, *c;
	char *dump;
	int bad = 0;

	(void)state;
	build_tree(&f);
	tu_put_file(f.root, "100/cmdline", "x\xff\xfey\0", 5);
	o = snap_ok(&f, 100);
	c = json_object_get(o, "cmdline");
	EXPECT(bad, json_array_size(c) == 1 &&
	       !strcmp(json_string_value(json_array_get(c, 0)), "x\\xff\\xfey"),
	       "cmdline[0] '%s'", json_string_value(json_array_get(c, 0)));
	dump = json_dumps(o, JSON_COMPACT);
	EXPECT(bad, dump != NULL, "snapshot does not serialise");
	free(dump);
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

/* This process, from the real /proc: a listening TCP socket decodes right. */
static void test_real_self(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char want[32];
	json_t *o = NULL, *socks, *s;
	size_t i;
	int fd, found = 0;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(irc_snapshot_proc(getpid(), "/proc", &o), 0);
	socks = json_object_get(o, "sockets");
	json_array_foreach(socks, i, s)
		if (iget(s, "fd") == fd)
			found = !strcmp(sget(s, "local") ?: "", want) &&
				!strcmp(sget(s, "state") ?: "", "LISTEN") &&
				!strcmp(sget(s, "protocol") ?: "", "tcp");
	if (!found)
		print_error("fd %d not seen as %s LISTEN: %s\n", fd, want,
			    json_dumps(socks, JSON_COMPACT));
	assert_true(found);
	assert_true(json_string_value(json_object_get(o, "sha256")) != NULL);
	close(fd);
	json_decref(o);
}

/* A sparse file of @size bytes starting with "abc". */
static void put_sparse(const char *path, long long size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/*
 * The binary is hashed up to a cap, in the daemon's ring-buffer callback:
 * past it "sha256" is null (a hash of part of a file must not pass for
 * the file's), "sha256_partial" the hash of the first bytes, "exe_size"
 * the whole size.
 */
static void test_hash_cap(void **state)
{
	char path[128];
	struct fake f;
	json_t *o;
	int bad = 0;

	(void)state;
	snprintf(f.root, sizeof(f.root), "/tmp/irc-snap.XXXXXX");
	assert_non_null(mkdtemp(f.root));
	tu_put_dir(f.root, "bin");
	snprintf(path, sizeof(path), "%s/bin/padded", f.root);
	put_sparse(path, (1LL << 30) + 7);	/* 1 GiB: nothing on disk */
	put_proc(f.root, 300, "padded", 1, path);

	/* A 3-byte cap: the first 3 bytes are "abc". */
	assert_int_equal(irc_snapshot_take(300, f.root, 3, &o), 0);
	EXPECT(bad, json_is_null(json_object_get(o, "sha256")), "sha256 not null");
	EXPECT(bad, !strcmp(sget(o, "sha256_partial") ?: "", SHA_ABC), "partial '%s'",
	       sget(o, "sha256_partial"));
	EXPECT(bad, iget(o, "exe_size") == (1LL << 30) + 7, "exe_size %lld", iget(o, "exe_size"));
	EXPECT(bad, json_is_true(json_object_get(o, "hash_truncated")), "hash_truncated");
	EXPECT(bad, iget(o, "hash_bytes") == 3, "hash_bytes %lld", iget(o, "hash_bytes"));
	json_decref(o);

	/* The default cap: the 1 GiB file is read up to IRC_SNAP_HASH_MAX only. */
	assert_int_equal(irc_snapshot_proc(300, f.root, &o), 0);
	EXPECT(bad, json_is_null(json_object_get(o, "sha256")), "default: sha256 not null");
	EXPECT(bad, json_is_true(json_object_get(o, "hash_truncated")), "default: truncated");
	EXPECT(bad, iget(o, "hash_bytes") == (long long)IRC_SNAP_HASH_MAX, "default: hash_bytes %lld",
	       iget(o, "hash_bytes"));
	EXPECT(bad, iget(o, "exe_size") == (1LL << 30) + 7, "default: exe_size");
	json_decref(o);

	/* Exactly at the cap: the whole file, a real hash. */
	put_sparse(path, 3);
	assert_int_equal(irc_snapshot_take(300, f.root, 3, &o), 0);
	EXPECT(bad, !strcmp(sget(o, "sha256") ?: "", SHA_ABC), "at cap: sha256 '%s'",
	       sget(o, "sha256"));
	EXPECT(bad, json_is_false(json_object_get(o, "hash_truncated")), "at cap: truncated");
	EXPECT(bad, !json_object_get(o, "sha256_partial"), "at cap: partial");
	EXPECT(bad, iget(o, "exe_size") == 3, "at cap: exe_size");
	json_decref(o);
	tu_rm_tree(f.root);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_exe_and_cmdline),
		cmocka_unit_test(test_deleted_exe),
		cmocka_unit_test(test_ancestry),
		cmocka_unit_test(test_files_and_sockets),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_real_self),
		cmocka_unit_test(test_hash_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
