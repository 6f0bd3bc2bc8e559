// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the commands' option tables (userspace/cli/cmd.c): one
 * table gives both getopt's options and the usage line.  Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static const struct irc_opt load_opts[] = {
	{ "iface", 'i', "IF|PATTERN", IRC_OPT_REQUIRED | IRC_OPT_REPEAT },
	{ "xdp-mode", 'm', "auto|native|generic", 0 },
	{ "fail-open", 'o', NULL, 0 },
	{ 0 }
};
static const struct irc_opt run_opts[] = {
	{ "iface", 'i', "IF|PATTERN", IRC_OPT_REPEAT },
	{ "policy", 'p', "FILE", 0 },
	{ 0 }
};
static const struct irc_opt export_opts[] = {
	{ "output", 'o', "FILE.tar.gz", IRC_OPT_REQUIRED | IRC_OPT_SHORT },
	{ "force", 'f', NULL, 0 },
	{ 0 }
};
static const struct irc_opt unload_opts[] = {
	{ "emergency", 'E', NULL, 0 },
	{ "iface", 'i', "PATTERN", IRC_OPT_REPEAT, .with = 'E' },
	{ 0 }
};
static const struct irc_opt nested_req_opts[] = {
	{ "iface", 'i', "IF", IRC_OPT_REQUIRED | IRC_OPT_REPEAT },
	{ "mode", 'm', "M", 0, .with = 'i' },
	{ "fast", 'f', NULL, 0 },
	{ 0 }
};
static const struct irc_opt no_opts[] = { { 0 } };

/* Every kind of option as the usage line shows it. */
static void test_usage(void **state)
{
	static const struct {
		const struct irc_opt *t;
		const char *cmd, *head, *want;
	} rows[] = {
		{ load_opts, "load", NULL, "load --iface IF|PATTERN [--iface ...] "
		  "[--xdp-mode auto|native|generic] [--fail-open]" },
		{ run_opts, "run", NULL, "run [--iface IF|PATTERN ...] [--policy FILE]" },
		{ export_opts, "export", "ID", "export ID --output FILE.tar.gz [--force]" },
		{ unload_opts, "unload", NULL, "unload [--emergency [--iface PATTERN ...]]" },
		{ nested_req_opts, "x", "OP", "x OP --iface IF [--mode M] [--iface ...] [--fast]" },
		{ no_opts, "allow list", NULL, "allow list" },
	};
	char buf[160], small[12];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++)
		assert_string_equal(irc_opts_usage(rows[i].t, rows[i].cmd, rows[i].head, buf,
						   sizeof(buf)), rows[i].want);
	/* Cut, never past the buffer. */
	irc_opts_usage(load_opts, "load", NULL, small, sizeof(small));
	assert_string_equal(small, "load --ifac");
}

/* The keys irc_opts_getopt() returns for @args, at most @max; *@value: the last --output's. */
static int parse(const struct irc_opt *t, const char **args, int *keys, int max, const char **value)
{
	char *argv[16];
	int argc = 0, c, n = 0;

	while (args[argc])
		argv[argc] = (char *)args[argc], argc++;
	argv[argc] = NULL;
	optind = 0;
	while ((c = irc_opts_getopt(argc, argv, t, "test")) != -1 && n < max)
		if ((keys[n++] = c) == 'o')
			*value = optarg;
	return n;
}

/* Long options, the short form where the table gives one, and refusals. */
static void test_getopt(void **state)
{
	const char *a1[] = { "export", "--output", "x.tgz", "-f", "7", NULL };
	const char *a2[] = { "export", "7", "-o", "y.tgz", "--force", NULL };
	const char *a3[] = { "export", "--bogus", NULL };
	const char *a4[] = { "run", "-i", "eth0", NULL };
	const char *a5[] = { "export", "-o", NULL };
	const char *out = NULL;
	int keys[8], n;

	(void)state;
	n = parse(export_opts, a1, keys, 8, &out);
	assert_int_equal(n, 2);
	assert_int_equal(keys[0], 'o');
	assert_int_equal(keys[1], IRC_OPT_BAD);	/* -f: no short form for --force */
	assert_string_equal(out, "x.tgz");
	n = parse(export_opts, a2, keys, 8, &out);
	assert_int_equal(n, 2);
	assert_int_equal(keys[0], 'o');
	assert_string_equal(out, "y.tgz");
	assert_int_equal(keys[1], 'f');
	n = parse(export_opts, a3, keys, 8, &out);
	assert_int_equal(n, 1);
	assert_int_equal(keys[0], IRC_OPT_BAD);
	n = parse(run_opts, a4, keys, 8, &out);	/* run has no -i */
	assert_int_equal(n, 1);
	assert_int_equal(keys[0], IRC_OPT_BAD);
	n = parse(export_opts, a5, keys, 8, &out);	/* -o needs its value */
	assert_int_equal(n, 1);
	assert_int_equal(keys[0], IRC_OPT_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_getopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
