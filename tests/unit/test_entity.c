// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for entities as text (userspace/common/entity.c): what every
 * record, incident and replay names ("host:", "pid:", "cgroup:", "list:"),
 * built and taken apart in one place.  Table-driven: a case is one line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "entity.h"
#include "parse.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Built from an operator's target, as `quarantine host` records it. */
static void test_host_from_target(void **state)
{
	static const struct { const char *in, *want; } rows[] = {
		{ "10.0.0.1", "host:10.0.0.1" },
		{ "10.0.0.0/8", "host:10.0.0.0/8" },
		{ "2001:db8::1", "host:2001:db8::1" },
		{ "2001:db8::/32", "host:2001:db8::/32" },
		{ "::ffff:192.0.2.7", "host:192.0.2.7" },	/* the form packets match */
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120",
		  "host:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120" },	/* the longest */
	};
	char buf[IRC_ENTITY_LEN];
	struct irc_cidr c;
	const char *why;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		assert_int_equal(irc_parse_target(rows[i].in, false, &c, &why), 0);
		EXPECT(bad, irc_entity_host(buf, sizeof(buf), &c) == 0 &&
		       !strcmp(buf, rows[i].want), "%s: got '%s', want '%s'", rows[i].in, buf,
		       rows[i].want);
		EXPECT(bad, irc_entity_parse(buf, NULL) == IRC_ENT_HOST &&
		       !strcmp(irc_entity_host_of(buf), rows[i].want + 5),
		       "%s: does not parse back", buf);
	}
	assert_int_equal(bad, 0);
}

static void test_builders(void **state)
{
	char buf[IRC_ENTITY_LEN], small[8], path[300];

	(void)state;
	assert_int_equal(irc_entity_addr(buf, sizeof(buf), "198.51.100.7"), 0);
	assert_string_equal(buf, "host:198.51.100.7");
	assert_int_equal(irc_entity_pid(buf, sizeof(buf), 4242), 0);
	assert_string_equal(buf, "pid:4242");
	assert_int_equal(irc_entity_pid(buf, sizeof(buf), 4294967295ULL), 0);
	assert_string_equal(buf, "pid:4294967295");
	assert_int_equal(irc_entity_cgroup(buf, sizeof(buf), "/sys/fs/cgroup/x"), 0);
	assert_string_equal(buf, "cgroup:/sys/fs/cgroup/x");
	assert_int_equal(irc_entity_list(buf, sizeof(buf), "ab12"), 0);
	assert_string_equal(buf, "list:sha256:ab12");
	/* A cgroup path longer than IRC_PATH_LEN still fits the one size. */
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(irc_entity_cgroup(buf, sizeof(buf), path), 0);
	assert_int_equal(strlen(buf), strlen("cgroup:") + strlen(path));
	/* Too short a buffer: said, and cut as snprintf cuts. */
	assert_int_equal(irc_entity_pid(small, sizeof(small), 1234567), -ENAMETOOLONG);
	assert_string_equal(small, "pid:123");
	assert_int_equal(irc_entity_pid(small, sizeof(small), 123), 0);
}

static void test_parse(void **state)
{
	static const struct {
		const char *in;
		enum irc_entity_kind kind;
		const char *rest;
		int pid;
		const char *host;
	} rows[] = {
		{ "host:10.0.0.1", IRC_ENT_HOST, "10.0.0.1", 0, "10.0.0.1" },
		{ "host:", IRC_ENT_HOST, "", 0, NULL },		/* no address */
		{ "pid:42", IRC_ENT_PID, "42", 42, NULL },
		{ "pid:2147483647", IRC_ENT_PID, "2147483647", 2147483647, NULL },
		{ "pid:2147483648", IRC_ENT_PID, "2147483648", 0, NULL },	/* no such pid */
		{ "pid:0", IRC_ENT_PID, "0", 0, NULL },
		{ "pid:", IRC_ENT_PID, "", 0, NULL },
		{ "pid:12x", IRC_ENT_PID, "12x", 0, NULL },
		{ "pid:-3", IRC_ENT_PID, "-3", 0, NULL },
		{ "cgroup:/sys/fs/cgroup/x", IRC_ENT_CGROUP, "/sys/fs/cgroup/x", 0, NULL },
		{ "list:sha256:ab", IRC_ENT_LIST, "sha256:ab", 0, NULL },
		{ "allow:10.0.0.1", IRC_ENT_UNKNOWN, NULL, 0, NULL },
		{ "", IRC_ENT_UNKNOWN, NULL, 0, NULL },
		{ "Host:10.0.0.1", IRC_ENT_UNKNOWN, NULL, 0, NULL },	/* case counts */
	};
	const char *rest;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		enum irc_entity_kind k = irc_entity_parse(rows[i].in, &rest);
		const char *h = irc_entity_host_of(rows[i].in);

		EXPECT(bad, k == rows[i].kind, "'%s': kind %d, want %d", rows[i].in, k,
		       rows[i].kind);
		EXPECT(bad, rows[i].rest ? rest && !strcmp(rest, rows[i].rest) : !rest,
		       "'%s': rest '%s', want '%s'", rows[i].in, rest ?: "(null)",
		       rows[i].rest ?: "(null)");
		EXPECT(bad, irc_entity_pid_of(rows[i].in) == rows[i].pid, "'%s': pid %d, want %d",
		       rows[i].in, irc_entity_pid_of(rows[i].in), rows[i].pid);
		EXPECT(bad, rows[i].host ? h && !strcmp(h, rows[i].host) : !h,
		       "'%s': host '%s', want '%s'", rows[i].in, h ?: "(null)",
		       rows[i].host ?: "(null)");
	}
	assert_int_equal(irc_entity_parse(NULL, &rest), IRC_ENT_UNKNOWN);
	assert_null(rest);
	assert_int_equal(irc_entity_pid_of(NULL), 0);
	assert_null(irc_entity_host_of(NULL));
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_from_target),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
