// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the policy parser (userspace/policy.c).
 *
 * The error cases are one table of {name, YAML text, expected return,
 * expected error count, expected line and message substring of the first
 * error (and of the following ones, where a row expects several)}.  A table
 * test reports every failing row before it fails, so one run shows the
 * whole picture.  Every row is also held to the contract of policy.h: an
 * invalid policy returns -EINVAL, each error has a non-empty message, and
 * its line is a line of the text (from 1).
 *
 * The other tests: the documented default policy (docs/policy.yaml, read
 * from the source tree) parses, and is exactly the built-in defaults; a
 * valid policy sets every field of struct irc_policy exactly; the
 * allowlist, files and allowed limits at and over their bounds; the error
 * cap; input that is not NUL-terminated; loading from a file, and the
 * "FILE:LINE: message" rendering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "store_defs.h"
#include "policy.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define SEC		1000000000ULL
#define MAX_ERRS	8

/* Collects every mismatch of a table test; see the header comment. */

struct want_err {
	int line;
	const char *msg;	/* substring of the message */
};

struct row {
	const char *name;
	const char *yaml;
	int ret;
	int nerr;
	int line;		/* of the first error */
	const char *msg;	/* substring of the first message */
};

/* Several errors at once: every one, in order. */
struct multi_row {
	const char *name;
	const char *yaml;
	int nerr;
	struct want_err errs[MAX_ERRS];
};

/* Lines of @s as an editor counts them; an empty text has one, empty. */
static int count_lines(const char *s)
{
	size_t len = strlen(s);
	int n = 0;

	for (const char *p = s; *p; p++)
		n += *p == '\n';
	if (len && s[len - 1] != '\n')
		n++;
	return n ? n : 1;
}

static void show_errors(const struct irc_policy_errors *e)
{
	for (int i = 0; i < e->n; i++)
		print_error("      error %d: line %d: %s\n", i, e->line[i], e->msg[i]);
}

/* 0 or the number of mismatches of one row, each printed. */
static int check_row(const struct row *r)
{
	struct irc_policy p;
	struct irc_policy_errors e;
	int bad = 0, ret, i, maxl = count_lines(r->yaml);

	memset(&e, 0xa5, sizeof(e));
	ret = irc_policy_parse(r->yaml, strlen(r->yaml), &p, &e);
	EXPECT(bad, ret == r->ret, "%s: returned %d, expected %d", r->name, ret, r->ret);
	EXPECT(bad, e.n == r->nerr, "%s: %d errors, expected %d", r->name, e.n, r->nerr);
	if (e.n < 0 || e.n > IRC_POLICY_MAX_ERRORS) {
		print_error("%s: error count %d out of bounds\n", r->name, e.n);
		return bad + 1;
	}
	/* policy.h: line numbers from 1, every error says something. */
	for (i = 0; i < e.n; i++) {
		EXPECT(bad, e.line[i] >= 1 && e.line[i] <= maxl,
		       "%s: error %d at line %d, not a line of the %d-line text", r->name, i,
		       e.line[i], maxl);
		EXPECT(bad, memchr(e.msg[i], '\0', sizeof(e.msg[i])) && e.msg[i][0],
		       "%s: error %d has no message", r->name, i);
	}
	EXPECT(bad, (ret == 0) == (e.n == 0), "%s: return %d with %d errors", r->name, ret, e.n);
	if (r->nerr > 0 && e.n > 0) {
		EXPECT(bad, e.line[0] == r->line, "%s: first error at line %d, expected %d",
		       r->name, e.line[0], r->line);
		EXPECT(bad, strstr(e.msg[0], r->msg), "%s: first message '%s' lacks '%s'",
		       r->name, e.msg[0], r->msg);
	}
	if (bad)
		show_errors(&e);
	return bad;
}

static void run_rows(const struct row *rows, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += check_row(&rows[i]);
	if (bad)
		fail_msg("%d mismatch(es) in the table above", bad);
}

#define E	-EINVAL

/* ---- every error, with its line -------------------------------------- */

static const struct row error_rows[] = {
	/* mode */
	{ "bad mode", "mode: enforcing\n", E, 1, 1, "'mode' must be monitor or enforce, not 'enforcing'" },
	/* YAML keeps the last of two equal keys: the policy refuses them. */
	{ "duplicate top-level key", "mode: monitor\nmode: enforce\n", E, 1, 2,
	  "key 'mode' given twice (first at line 1)" },
	{ "duplicate detector key", "detectors:\n  portscan:\n    ttl: 1m\n    ttl: 2m\n", E, 1, 4,
	  "key 'ttl' given twice (first at line 3)" },
	{ "a second document", "mode: monitor\n---\nmode: enforce\n", E, 1, 3,
	  "a second YAML document" },
	/* Broken after the first document: once accepted as valid. */
	{ "a broken second document", "mode: monitor\n---\nmode: [enforce\n", E, 1, 3,
	  "not valid YAML after the first document" },
	{ "mode is case-sensitive", "# policy\n\nmode: Enforce\n", E, 1, 3, "not 'Enforce'" },
	{ "mode empty", "mode:\n", E, 1, 1, "'mode' must be monitor or enforce, not ''" },

	/* unknown names */
	{ "unknown top-level key", "mode: monitor\nmodes: enforce\n", E, 1, 2,
	  "unknown key 'modes' (mode, allowlist, detectors, store, fleet)" },
	{ "unknown top-level key, flow", "{mode: monitor, allow: []}\n", E, 1, 1, "unknown key 'allow'" },
	{ "fleet: unknown key", "fleet:\n  share: 5m\n", E, 1, 2,
	  "unknown key 'share' in fleet (share_findings)" },
	{ "fleet: share_findings zero", "fleet:\n  share_findings: 0\n", E, 1, 2,
	  "bad duration '0': duration must be longer than zero" },
	{ "fleet: share_findings not a duration", "fleet:\n  share_findings: soon\n", E, 1, 2,
	  "'share_findings': bad duration 'soon'" },
	{ "fleet: not a mapping", "fleet: on\n", E, 1, 1, "'fleet' must be a mapping" },
	{ "unknown detector", "detectors:\n  portscan: {}\n  portscan2:\n    enabled: true\n", E, 1, 3,
	  "unknown detector 'portscan2'" },
	{ "detector names are case-sensitive", "detectors:\n  PortScan: {enabled: true}\n", E, 1, 2,
	  "unknown detector 'PortScan'" },
	{ "unknown key in a network detector", "detectors:\n  synflood:\n    syns: 100\n    ports: 10\n",
	  E, 1, 4, "unknown key 'ports' in detector 'synflood'" },
	{ "unknown key in a host detector", "detectors:\n  exec_tmp:\n    enabled: true\n    window: 10s\n",
	  E, 1, 4, "unknown key 'window' in detector 'exec_tmp'" },
	{ "files belongs to sensitive_read only", "detectors:\n  ptrace: {files: [/etc/shadow]}\n", E, 1, 2,
	  "unknown key 'files' in detector 'ptrace'" },
	{ "no escalation for a host detector", "detectors:\n  fileless:\n    escalation: {factor: 2}\n",
	  E, 1, 3, "unknown key 'escalation' in detector 'fileless'" },
	{ "no threshold for a host detector", "detectors:\n  module_load:\n    syns: 5\n", E, 1, 3,
	  "unknown key 'syns' in detector 'module_load'" },
	{ "unknown key in escalation",
	  "detectors:\n  portscan:\n    escalation:\n      factor: 2\n      max: 1h\n", E, 1, 5,
	  "unknown key 'max' in escalation" },

	/* wrong types */
	{ "list where a scalar is expected (mode)", "mode: [enforce]\n", E, 1, 1, "'mode' must be a single value" },
	{ "list where a scalar is expected (ports)", "detectors:\n  portscan:\n    ports:\n      - 10\n",
	  E, 1, 4, "'ports' must be a single value" },
	{ "mapping where a scalar is expected (severity)",
	  "detectors:\n  ptrace: {severity: {level: high}}\n", E, 1, 2, "'severity' must be a single value" },
	{ "list where a scalar is expected (enabled)", "detectors:\n  ptrace:\n    enabled: [true]\n",
	  E, 1, 3, "'enabled' must be a single value" },
	{ "mapping where a list is expected (allowlist)", "allowlist:\n  10.0.0.1: yes\n", E, 1, 2,
	  "'allowlist' must be a list" },
	{ "mapping where a list is expected (files)",
	  "detectors:\n  sensitive_read:\n    files: {path: /etc/shadow}\n", E, 1, 3, "'files' must be a list" },
	{ "scalar where a list is expected (allowed)",
	  "detectors:\n  sensitive_read:\n    allowed: sshd\n", E, 1, 3, "'allowed' must be a list" },
	{ "detectors is a list", "mode: monitor\ndetectors:\n  - portscan\n", E, 1, 3,
	  "'detectors' must be a mapping" },
	{ "a detector that is not a mapping", "detectors:\n  portscan: true\n", E, 1, 2,
	  "detector 'portscan' must be a mapping" },
	{ "escalation that is not a mapping", "detectors:\n  synflood:\n    escalation: 2\n", E, 1, 3,
	  "'escalation' must be a mapping" },
	{ "the policy is a list", "- mode: monitor\n", E, 1, 1, "the policy must be a mapping" },
	{ "the policy is a scalar", "\nenforce\n", E, 1, 2, "the policy must be a mapping" },

	/* thresholds */
	{ "ports 1 (below 2)", "detectors:\n  portscan:\n    ports: 1\n", E, 1, 3,
	  "'ports' must be a whole number from 2 to 256, not '1'" },
	{ "ports 257 (over the 256-bit map)", "detectors:\n  portscan:\n    ports: 257\n", E, 1, 3,
	  "'ports' must be a whole number from 2 to 256, not '257'" },
	{ "ports negative", "detectors:\n  portscan: {ports: -5}\n", E, 1, 2, "not '-5'" },
	{ "ports with a unit", "detectors:\n  portscan: {ports: 10x}\n", E, 1, 2, "not '10x'" },
	{ "syns 1", "detectors:\n  synflood: {syns: 1}\n", E, 1, 2,
	  "'syns' must be a whole number from 2 to 10000000, not '1'" },
	{ "syns over 10000000", "detectors:\n  synflood: {syns: 10000001}\n", E, 1, 2, "not '10000001'" },
	{ "syns far over (no wrap)", "detectors:\n  synflood: {syns: 4294967298}\n", E, 1, 2,
	  "not '4294967298'" },

	/* durations */
	{ "bad duration (words)", "detectors:\n  portscan:\n    window: 10 seconds\n", E, 1, 3,
	  "'window': bad duration '10 seconds'" },
	{ "bad duration (unit)", "detectors:\n  synflood:\n    ttl: 5x\n", E, 1, 3,
	  "'ttl': bad duration '5x': unknown unit" },
	{ "zero duration", "detectors:\n  exec_tmp: {ttl: 0s}\n", E, 1, 2, "longer than zero" },
	{ "negative duration", "detectors:\n  exec_tmp: {ttl: -1m}\n", E, 1, 2, "'ttl': bad duration '-1m'" },
	{ "ttl over 366 days", "detectors:\n  portscan:\n    ttl: 367d\n", E, 1, 3,
	  "366-day maximum" },
	{ "window over 1h", "detectors:\n  portscan:\n    window: 61m\n", E, 1, 3,
	  "'window': 61m is longer than the 3600s maximum" },
	{ "window 1h1s", "detectors:\n  synflood: {window: 1h1s}\n", E, 1, 2, "longer than the 3600s maximum" },
	/* store: the evidence store's bounds */
	{ "store: size without a unit it knows", "store:\n  max_size: 5Q\n", E, 1, 2,
	  "'max_size': bad size '5Q': unknown unit" },
	{ "store: size under 1M", "store:\n  max_size: 1K\n", E, 1, 2, "bad size '1K': out of range" },
	{ "store: bad age", "store:\n  max_age: soon\n", E, 1, 2, "'max_age': bad duration 'soon'" },
	{ "store: unknown key", "store: {max_rows: 5}\n", E, 1, 1,
	  "unknown key 'max_rows' in store (max_size, max_age, keep_until_exported)" },
	{ "store: not a mapping", "store: 1G\n", E, 1, 1, "'store' must be a mapping" },
	{ "store: keep_until_exported not a bool", "store:\n  keep_until_exported: maybe\n", E, 1, 2,
	  "'keep_until_exported' must be true or false" },
	{ "max_ttl over 366 days", "detectors:\n  synflood:\n    escalation: {max_ttl: 53w}\n", E, 1, 3,
	  "'max_ttl': bad duration '53w'" },

	/* ttl and escalation */
	{ "ttl > max_ttl (at the ttl)",
	  "detectors:\n  portscan:\n    enabled: true\n    ttl: 2h\n    escalation:\n      max_ttl: 1h\n",
	  E, 1, 4, "detector 'portscan': ttl is longer than escalation.max_ttl" },
	{ "ttl > max_ttl, flow", "detectors:\n  synflood: {ttl: 25h}\n", E, 1, 2,
	  "detector 'synflood': ttl is longer than escalation.max_ttl" },
	{ "default ttl (10m) > max_ttl (at the max_ttl)",
	  "detectors:\n  synflood:\n    severity: low\n    escalation:\n      factor: 2\n      max_ttl: 5m\n",
	  E, 1, 6, "ttl is longer than escalation.max_ttl" },
	{ "factor 0", "detectors:\n  portscan:\n    escalation:\n      factor: 0\n", E, 1, 4,
	  "'factor' must be a whole number from 1 to 16, not '0'" },
	{ "factor 17", "detectors:\n  synflood:\n    escalation: {factor: 17}\n", E, 1, 3,
	  "'factor' must be a whole number from 1 to 16, not '17'" },

	/* actions, severities, switches */
	{ "kill for portscan", "detectors:\n  portscan:\n    action: kill\n", E, 1, 3,
	  "action 'kill' is not available for portscan: use alert or quarantine-host" },
	{ "quarantine-process for synflood", "detectors:\n  synflood: {action: quarantine-process}\n", E, 1, 2,
	  "action 'quarantine-process' is not available for synflood" },
	{ "quarantine-host for reverse_shell", "detectors:\n  reverse_shell:\n    action: quarantine-host\n",
	  E, 1, 3,
	  "action 'quarantine-host' is not available for reverse_shell: use alert, quarantine-process, kill or contain-then-kill" },
	{ "quarantine-host for sensitive_read", "detectors:\n  sensitive_read: {action: quarantine-host}\n",
	  E, 1, 2, "not available for sensitive_read" },
	{ "unknown action", "detectors:\n  exec_tmp: {action: block}\n", E, 1, 2,
	  "'action' must be alert, quarantine-host, quarantine-process, kill or contain-then-kill, not 'block'" },
	{ "contain-then-kill for portscan", "detectors:\n  portscan: {action: contain-then-kill}\n", E, 1, 2,
	  "action 'contain-then-kill' is not available for portscan: use alert or quarantine-host" },
	{ "bad severity", "detectors:\n  ptrace:\n    severity: urgent\n", E, 1, 3,
	  "'severity' must be low, medium, high or critical, not 'urgent'" },
	{ "severity is case-sensitive", "detectors:\n  ptrace: {severity: High}\n", E, 1, 2, "not 'High'" },
	{ "bad enabled", "detectors:\n  fileless:\n    enabled: maybe\n", E, 1, 3,
	  "'enabled' must be true or false, not 'maybe'" },

	/* allowlist */
	{ "bad allowlist address", "allowlist:\n  - 10.0.0.1\n  - 10.0.0.256\n", E, 1, 3,
	  "allowlist: bad address '10.0.0.256': not an IPv4 or IPv6 address" },
	{ "bad allowlist address (IPv6)", "allowlist: [2001:db8:ops::/48]\n", E, 1, 1,
	  "bad address '2001:db8:ops::/48'" },
	{ "allowlist prefix too long", "allowlist:\n  - 10.0.0.0/33\n", E, 1, 2, "prefix length must be 0-32" },
	{ "allowlist host bits", "allowlist:\n  - 10.0.0.1/8\n", E, 1, 2, "host bits set" },
	{ "/0 in allowlist (IPv4)", "allowlist:\n  - 0.0.0.0/0\n", E, 1, 2,
	  "allowlist: bad address '0.0.0.0/0': a /0 prefix covers every address" },
	{ "/0 in allowlist (IPv6)", "mode: monitor\nallowlist: [\"::/0\"]\n", E, 1, 2, "a /0 prefix" },
	{ "allowlist entry that is a mapping", "allowlist:\n  - {addr: 10.0.0.1}\n", E, 1, 2,
	  "allowlist entries must be addresses or prefixes" },
	{ "allowlist entry empty", "allowlist:\n  - \"\"\n", E, 1, 2, "bad address ''" },

	/* sensitive_read files and allowed */
	{ "'*' in the middle of a path",
	  "detectors:\n  sensitive_read:\n    files:\n      - /etc/shadow\n      - /root/*/id_rsa\n", E, 1, 5,
	  "'files' entry '/root/*/id_rsa': '*' is only allowed at the end" },
	{ "two '*' at the end", "detectors:\n  sensitive_read:\n    files: [\"/etc/**\"]\n", E, 1, 3,
	  "only allowed at the end" },
	{ "relative path in files", "detectors:\n  sensitive_read:\n    files: [etc/shadow]\n", E, 1, 3,
	  "'files' entry 'etc/shadow' must be an absolute path" },
	{ "'*' alone in files", "detectors:\n  sensitive_read:\n    files: [\"*\"]\n", E, 1, 3,
	  "must be an absolute path" },
	{ "files entry of 64 characters",
	  "detectors:\n  sensitive_read:\n    files:\n"
	  "      - /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", E, 1, 4,
	  "is longer than 63 characters" },
	{ "allowed by name, not path",
	  "detectors:\n  sensitive_read:\n    allowed: [/usr/sbin/sshd, sshd]\n", E, 1, 3,
	  "'allowed' entry 'sshd' must be an absolute path (a program is allowed by its executable's path, not its name)" },
	{ "file name of 31 characters in allowed",
	  "detectors:\n  sensitive_read:\n    allowed: [/usr/bin/abcdefghijklmnopqrstuvwxyz01234]\n", E, 1, 3,
	  "its file name is longer than 30 characters" },
	{ "file name of 31 characters in files",
	  "detectors:\n  sensitive_read:\n    files: [/etc/abcdefghijklmnopqrstuvwxyz01234]\n", E, 1, 3,
	  "its file name is longer than 30 characters" },
	{ "'*' in a program's path", "detectors:\n  sensitive_read:\n    allowed: [\"/usr/bin/*\"]\n",
	  E, 1, 3, "no '*' in a program's path" },
	{ "a directory, not a file", "detectors:\n  sensitive_read:\n    files: [/etc/]\n", E, 1, 3,
	  "must name a file" },
	{ "'..' in a path", "detectors:\n  sensitive_read:\n    allowed: [/usr/bin/../sbin/sshd]\n", E, 1, 3,
	  "must name a file" },
	{ "empty allowed name", "detectors:\n  sensitive_read:\n    allowed:\n      - \"\"\n", E, 1, 4,
	  "'allowed' entries must be non-empty strings" },
	{ "more than 8 files",
	  "detectors:\n  sensitive_read:\n    files:\n      - /f1\n      - /f2\n      - /f3\n      - /f4\n"
	  "      - /f5\n      - /f6\n      - /f7\n      - /f8\n      - /f9\n", E, 1, 12,
	  "'files' has more than 8 entries" },
	{ "more than 16 allowed",
	  "detectors:\n  sensitive_read:\n    allowed: [/a1, /a2, /a3, /a4, /a5, /a6, /a7, /a8, /a9, /a10, /a11, /a12,\n"
	  "      /a13, /a14, /a15, /a16, /a17]\n", E, 1, 4, "'allowed' has more than 16 entries" },

	/* not YAML, or nothing */
	{ "unclosed bracket (at the bracket)",
	  "mode: monitor\nallowlist: [10.0.0.1,\n  10.0.0.2\ndetectors: {}\n", E, 1, 2, "not valid YAML" },
	{ "unclosed brace (at the brace)", "mode: monitor\ndetectors: {portscan: {ports: 3}\n", E, 1, 2,
	  "not valid YAML" },
	{ "tab indentation", "mode: monitor\n\tallowlist: []\n", E, 1, 2, "not valid YAML" },
	{ "bad indentation", "mode: monitor\n  detectors: {}\n", E, 1, 2, "not valid YAML" },
	{ "unterminated quote", "mode: monitor\nallowlist: [\"10.0.0.1]\n", E, 1, 2, "not valid YAML" },
	{ "empty document", "", E, 1, 1, "the policy is empty" },
	{ "comments only", "# nothing here\n\n# at all\n", E, 1, 1, "the policy is empty" },

};

static void test_error_table(void **state)
{
	(void)state;
	run_rows(error_rows, ARRAY_LEN(error_rows));
}

/* ---- several errors at once: all of them, in order, each with its line -- */

static const struct multi_row multi_rows[] = {
	{ "several errors at once",
	  "mode: enforced\n"			/* 1 */
	  "allowlist:\n"			/* 2 */
	  "  - 10.0.0.1\n"			/* 3 */
	  "  - 0.0.0.0/0\n"			/* 4 */
	  "detectors:\n"			/* 5 */
	  "  portscan: {ports: 1, action: kill}\n"	/* 6 */
	  "  bogus: {}\n"			/* 7 */
	  "  exec_tmp:\n"			/* 8 */
	  "    ports: 3\n"			/* 9 */
	  "    severity: huge\n"		/* 10 */
	  "  sensitive_read:\n"			/* 11 */
	  "    files: [relative]\n"		/* 12 */
	  "foo: 1\n",				/* 13 */
	  9, { { 1, "'mode' must be monitor or enforce" }, { 4, "a /0 prefix" },
	       { 6, "'ports' must be" }, { 6, "action 'kill' is not available" },
	       { 7, "unknown detector 'bogus'" },
	       { 9, "unknown key 'ports' in detector 'exec_tmp'" }, { 10, "'severity' must be" },
	       { 12, "must be an absolute path" } } },
	{ "several errors: the last two",
	  "detectors:\n  sensitive_read:\n    files: [relative]\nfoo: 1\n", 2,
	  { { 3, "must be an absolute path" }, { 4, "unknown key 'foo'" } } },
	{ "several errors in one list", "allowlist: [1.2.3.4/0, nope, 10.0.0.1, \"::/0\"]\n", 3,
	  { { 1, "'1.2.3.4/0'" }, { 1, "'nope'" }, { 1, "'::/0'" } } },
	{ "several errors in one detector",
	  "detectors:\n  synflood:\n    syns: 1\n    window: 2h\n    severity: x\n"
	  "    action: kill\n    escalation: {factor: 0}\n", 5,
	  { { 3, "'syns'" }, { 4, "'window'" }, { 5, "'severity'" }, { 6, "action 'kill'" },
	    { 7, "'factor'" } } },
};

static void test_multi_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t r = 0; r < ARRAY_LEN(multi_rows); r++) {
		const struct multi_row *m = &multi_rows[r];
		struct row first = { m->name, m->yaml, -EINVAL, m->nerr, m->errs[0].line,
				     m->errs[0].msg };
		struct irc_policy p;
		struct irc_policy_errors e;
		int rbad = check_row(&first);

		irc_policy_parse(m->yaml, strlen(m->yaml), &p, &e);
		for (int i = 1; i < m->nerr && i < MAX_ERRS; i++) {
			if (i >= e.n) {
				EXPECT(rbad, false, "%s: no error %d (expected line %d, '%s')",
				       m->name, i, m->errs[i].line, m->errs[i].msg);
				continue;
			}
			EXPECT(rbad, e.line[i] == m->errs[i].line, "%s: error %d at line %d, expected %d",
			       m->name, i, e.line[i], m->errs[i].line);
			EXPECT(rbad, strstr(e.msg[i], m->errs[i].msg),
			       "%s: error %d message '%s' lacks '%s'", m->name, i, e.msg[i],
			       m->errs[i].msg);
		}
		if (rbad)
			show_errors(&e);
		bad += rbad;
	}
	if (bad)
		fail_msg("%d mismatch(es) in the table above", bad);
}

/* ---- valid variants --------------------------------------------------- */

static const struct row valid_rows[] = {
	{ "mode only", "mode: enforce\n", 0, 0, 0, NULL },
	{ "empty mapping", "{}\n", 0, 0, 0, NULL },
	{ "document start and end markers", "---\nmode: monitor\n...\n", 0, 0, 0, NULL },
	{ "flow style throughout",
	  "{mode: enforce, allowlist: [10.0.0.0/8], detectors: {portscan: {ports: 2, window: 1h}}}\n",
	  0, 0, 0, NULL },
	{ "bounds: ports 2 and 256, window 1h, factor 1 and 16",
	  "detectors:\n  portscan: {ports: 256, window: 1h, escalation: {factor: 16}}\n"
	  "  synflood: {syns: 2, window: 1s, escalation: {factor: 1}}\n", 0, 0, 0, NULL },
	{ "ttl equal to max_ttl", "detectors:\n  portscan: {ttl: 1h, escalation: {max_ttl: 1h}}\n",
	  0, 0, 0, NULL },
	{ "ttl 366d with max_ttl 366d",
	  "detectors:\n  synflood: {ttl: 366d, escalation: {max_ttl: 366d}}\n", 0, 0, 0, NULL },
	{ "every action where it is available",
	  "detectors:\n  portscan: {action: alert}\n  synflood: {action: quarantine-host}\n"
	  "  exec_tmp: {action: quarantine-process}\n  fileless: {action: kill}\n"
	  "  reverse_shell: {action: alert}\n  sensitive_read: {action: quarantine-process}\n"
	  "  ptrace: {action: kill}\n  module_load: {action: quarantine-process}\n", 0, 0, 0, NULL },
	{ "yes/no/on/off", "detectors:\n  ptrace: {enabled: no}\n  module_load: {enabled: on}\n", 0, 0, 0, NULL },
	{ "empty lists", "allowlist: []\ndetectors:\n  sensitive_read: {files: [], allowed: []}\n",
	  0, 0, 0, NULL },
	{ "anchors and aliases", "detectors:\n  exec_tmp: &d {severity: low, action: alert}\n  ptrace: *d\n",
	  0, 0, 0, NULL },
	{ "8 files and a 30-character file name",
	  "detectors:\n  sensitive_read:\n    files: [/f1, /f2, /f3, /f4, /f5, /f6, /f7, \"/f8*\"]\n"
	  "    allowed: [/usr/bin/abcdefghijklmnopqrstuvwxyz0123]\n", 0, 0, 0, NULL },
	{ "63-character path",
	  "detectors:\n  sensitive_read:\n    files:\n"
	  "      - /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", 0, 0, 0, NULL },
};

static void test_valid_table(void **state)
{
	(void)state;
	run_rows(valid_rows, ARRAY_LEN(valid_rows));
}

/* ---- the documented default policy ------------------------------------- */

/*
 * docs/policy.yaml next to this source file (the path from __FILE__), or
 * from the repository root, which is where tests/run.sh runs the tests.
 */
static void docs_path(char *buf, size_t len)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 0;

	snprintf(buf, len, "%.*s%s../../docs/policy.yaml", dir, __FILE__, slash ? "/" : "");
	if (access(buf, R_OK) != 0)
		snprintf(buf, len, "docs/policy.yaml");
}

static void test_docs_policy(void **state)
{
	struct irc_policy p, d;
	struct irc_policy_errors e;
	char path[PATH_MAX];
	int ret;

	(void)state;
	docs_path(path, sizeof(path));
	ret = irc_policy_load(path, &p, &e);
	if (ret == -ENOENT)
		fail_msg("%s: not found (run from the repository root, as tests/run.sh does)", path);
	if (ret || e.n) {
		print_error("%s: returned %d (%s)\n", path, ret, strerror(-ret));
		show_errors(&e);
		fail_msg("the documented default policy %s does not parse", path);
	}
	/* What it says, explicitly. */
	assert_int_equal(p.det.enforce, 0);
	assert_int_equal(p.nallow, 0);
	assert_int_equal(p.det.det[IRC_DET_PORTSCAN].threshold, 20);
	assert_int_equal(p.det.det[IRC_DET_PORTSCAN].window_ns, 10 * SEC);
	assert_int_equal(p.det.det[IRC_DET_PORTSCAN].action, IRC_ACT_QUAR_HOST);
	assert_int_equal(p.det.det[IRC_DET_SYNFLOOD].threshold, 500);
	assert_int_equal(p.det.det[IRC_DET_SYNFLOOD].ttl_ns, 600 * SEC);
	assert_int_equal(p.det.det[IRC_DET_SYNFLOOD].max_ttl_ns, 86400 * SEC);
	assert_int_equal(p.det.det[IRC_DET_FILELESS].action, IRC_ACT_CONTAIN_KILL);
	assert_int_equal(p.det.det[IRC_DET_REVSHELL].action, IRC_ACT_CONTAIN_KILL);
	assert_int_equal(p.det.det[IRC_DET_REVSHELL].severity, IRC_SEV_CRITICAL);
	assert_string_equal(p.det.sens_files[2], "/root/.ssh/id_*");
	assert_string_equal(p.det.sens_allowed[10], "/usr/sbin/cron");
	for (int i = 0; i < IRC_DET__MAX; i++)
		assert_int_equal(p.det.det[i].enabled, 1);
	/* And the documented policy is exactly the built-in defaults. */
	irc_policy_defaults(&d);
	for (int i = 0; i < IRC_DET__MAX; i++)
		if (memcmp(&p.det.det[i], &d.det.det[i], sizeof(d.det.det[i])))
			fail_msg("detector %s: docs/policy.yaml and the built-in defaults differ",
				 irc_detector_name(i));
	assert_memory_equal(p.det.sens_files, d.det.sens_files, sizeof(d.det.sens_files));
	assert_memory_equal(p.det.sens_allowed, d.det.sens_allowed, sizeof(d.det.sens_allowed));
	assert_memory_equal(&p, &d, sizeof(p));
}

/* ---- a valid policy sets every field exactly ------------------------------ */

static const char full_policy[] =
	"mode: enforce\n"
	"allowlist:\n"
	"  - 192.0.2.10\n"
	"  - 2001:db8:1::/48\n"
	"  - 10.1.0.0/16\n"
	"  - fd00::7\n"
	"detectors:\n"
	"  portscan:\n"
	"    enabled: true\n"
	"    ports: 256\n"
	"    window: 1h\n"
	"    severity: low\n"
	"    action: alert\n"
	"    ttl: 90s\n"
	"    escalation: {factor: 16, max_ttl: 1h30m}\n"
	"    slow_ports: 100\n"
	"    slow_window: 2h\n"
	"    unverified_ttl: 30s\n"
	"  synflood: {enabled: false, syns: 10000000, window: 1s, severity: critical,\n"
	"             action: quarantine-host, ttl: 1d, escalation: {factor: 1, max_ttl: 366d}}\n"
	"  exec_tmp: {enabled: false, severity: low, action: kill, ttl: 1m}\n"
	"  fileless: {enabled: true, severity: critical, action: quarantine-process}\n"
	"  reverse_shell: {enabled: true, severity: medium, action: alert}\n"
	"  sensitive_read:\n"
	"    enabled: yes\n"
	"    severity: critical\n"
	"    action: quarantine-process\n"
	"    files: [/etc/shadow, \"/root/.ssh/*\", /var/lib/secret.key]\n"
	"    allowed: [/usr/sbin/sshd, /opt/x/abcdefghijklmno]\n"
	"  ptrace: {enabled: off, severity: high, action: kill}\n"
	"  module_load: {enabled: on, severity: low, action: quarantine-process, ttl: 2h}\n";

static void expect_det(const struct irc_det *d, const struct irc_det *want, const char *name)
{
	if (memcmp(d, want, sizeof(*d)) == 0)
		return;
	print_error("%s: enabled %u action %u severity %u threshold %u window %llu ttl %llu "
		    "factor %u max_ttl %llu slow %u/%llu unverified_ttl %llu\n", name, d->enabled,
		    d->action, d->severity, d->threshold, (unsigned long long)d->window_ns,
		    (unsigned long long)d->ttl_ns, d->factor, (unsigned long long)d->max_ttl_ns,
		    d->slow_threshold, (unsigned long long)d->slow_window_ns,
		    (unsigned long long)d->unverified_ttl_ns);
	print_error("%s: expected enabled %u action %u severity %u threshold %u window %llu "
		    "ttl %llu factor %u max_ttl %llu\n", name, want->enabled, want->action,
		    want->severity, want->threshold, (unsigned long long)want->window_ns,
		    (unsigned long long)want->ttl_ns, want->factor,
		    (unsigned long long)want->max_ttl_ns);
	fail_msg("detector %s: fields differ", name);
}

static void expect_cidr(const struct irc_cidr *c, int family, const char *addr,
			unsigned int plen)
{
	uint8_t a[16] = {};

	assert_int_equal(inet_pton(family, addr, a), 1);
	assert_int_equal(c->family, family);
	assert_memory_equal(c->addr, a, 16);
	assert_int_equal(c->plen, plen);
}

static void test_full_policy_fields(void **state)
{
	static const char zero_path[IRC_SENS_PATH_LEN];
	struct irc_policy p;
	struct irc_policy_errors e;
	const struct irc_det want[IRC_DET__MAX] = {
		[IRC_DET_PORTSCAN] = { .enabled = 1, .action = IRC_ACT_ALERT,
			.severity = IRC_SEV_LOW, .threshold = 256, .window_ns = 3600 * SEC,
			.ttl_ns = 90 * SEC, .factor = 16, .max_ttl_ns = 5400 * SEC,
			.slow_threshold = 100, .slow_window_ns = 7200 * SEC,
			.unverified_ttl_ns = 30 * SEC },
		[IRC_DET_SYNFLOOD] = { .enabled = 0, .action = IRC_ACT_QUAR_HOST,
			.severity = IRC_SEV_CRITICAL, .threshold = 10000000, .window_ns = SEC,
			.ttl_ns = 86400 * SEC, .factor = 1, .max_ttl_ns = 366 * 86400 * SEC },
		[IRC_DET_EXEC_TMP] = { .enabled = 0, .action = IRC_ACT_KILL,
			.severity = IRC_SEV_LOW, .ttl_ns = 60 * SEC },
		[IRC_DET_FILELESS] = { .enabled = 1, .action = IRC_ACT_QUAR_PROC,
			.severity = IRC_SEV_CRITICAL },
		[IRC_DET_REVSHELL] = { .enabled = 1, .action = IRC_ACT_ALERT,
			.severity = IRC_SEV_MEDIUM },
		[IRC_DET_SENSITIVE] = { .enabled = 1, .action = IRC_ACT_QUAR_PROC,
			.severity = IRC_SEV_CRITICAL },
		[IRC_DET_PTRACE] = { .enabled = 0, .action = IRC_ACT_KILL,
			.severity = IRC_SEV_HIGH },
		[IRC_DET_MODULE] = { .enabled = 1, .action = IRC_ACT_QUAR_PROC,
			.severity = IRC_SEV_LOW, .ttl_ns = 7200 * SEC },
	};
	int ret, i;

	(void)state;
	ret = irc_policy_parse(full_policy, strlen(full_policy), &p, &e);
	if (ret || e.n) {
		show_errors(&e);
		fail_msg("the full policy does not parse (%d)", ret);
	}
	assert_int_equal(p.det.enforce, 1);
	assert_int_equal(p.det.netns_ino, 0);		/* set by load, not here */
	assert_int_equal(p.det.boot_to_real_ns, 0);	/* set by apply, not here */
	for (i = 0; i < IRC_DET__MAX; i++)
		expect_det(&p.det.det[i], &want[i], irc_detector_name(i));

	/* The lists replace the defaults whole: nothing of them is left. */
	assert_string_equal(p.det.sens_files[0], "/etc/shadow");
	assert_string_equal(p.det.sens_files[1], "/root/.ssh/*");
	assert_string_equal(p.det.sens_files[2], "/var/lib/secret.key");
	for (i = 3; i < IRC_SENS_FILES; i++)
		assert_memory_equal(p.det.sens_files[i], zero_path, IRC_SENS_PATH_LEN);
	for (i = 0; i < 3; i++)	/* no stray bytes after the NUL either */
		assert_memory_equal(p.det.sens_files[i] + strlen(p.det.sens_files[i]), zero_path,
				    IRC_SENS_PATH_LEN - strlen(p.det.sens_files[i]));
	assert_string_equal(p.det.sens_allowed[0], "/usr/sbin/sshd");
	assert_string_equal(p.det.sens_allowed[1], "/opt/x/abcdefghijklmno");
	for (i = 2; i < IRC_SENS_ALLOWED; i++)
		assert_memory_equal(p.det.sens_allowed[i], zero_path, IRC_SENS_PATH_LEN);

	assert_int_equal(p.nallow, 4);
	expect_cidr(&p.allow[0], AF_INET, "192.0.2.10", 32);
	expect_cidr(&p.allow[1], AF_INET6, "2001:db8:1::", 48);
	expect_cidr(&p.allow[2], AF_INET, "10.1.0.0", 16);
	expect_cidr(&p.allow[3], AF_INET6, "fd00::7", 128);
}

/* Only the keys given change; the rest keeps the built-in default. */
static void test_partial_policy_keeps_defaults(void **state)
{
	static const char y[] = "detectors:\n  portscan: {ports: 7}\n  sensitive_read: {files: [/x]}\n";
	struct irc_policy p, d;
	struct irc_policy_errors e;

	(void)state;
	assert_int_equal(irc_policy_parse(y, strlen(y), &p, &e), 0);
	irc_policy_defaults(&d);
	assert_int_equal(p.det.det[IRC_DET_PORTSCAN].threshold, 7);
	d.det.det[IRC_DET_PORTSCAN].threshold = 7;
	assert_memory_equal(p.det.det, d.det.det, sizeof(d.det.det));
	assert_int_equal(p.det.enforce, 0);
	assert_string_equal(p.det.sens_files[0], "/x");
	assert_int_equal(p.det.sens_files[1][0], 0);	/* /etc/gshadow is gone */
	assert_int_equal(p.det.sens_files[2][0], 0);
	assert_memory_equal(p.det.sens_allowed, d.det.sens_allowed, sizeof(d.det.sens_allowed));
	/* The store's bounds: defaults, then what is given. */
	assert_int_equal(p.store.max_bytes, IRC_STORE_MAX_SIZE);
	assert_int_equal(p.store.max_age_s, IRC_STORE_MAX_AGE);
	assert_int_equal(p.store.keep_unexported, 1);
	assert_int_equal(irc_policy_parse("store: {max_size: 512M, max_age: off}\n", 37, &p, &e), 0);
	assert_int_equal(p.store.max_bytes, 512ULL << 20);
	assert_int_equal(p.store.max_age_s, 0);
	assert_int_equal(p.store.keep_unexported, 1);
	/* Sharing findings with the fleet: off unless given. */
	assert_int_equal(p.fleet_share_ttl_s, 0);
	assert_int_equal(irc_policy_parse("fleet: {share_findings: 10m}\n", 29, &p, &e), 0);
	assert_int_equal(p.fleet_share_ttl_s, 600);
	assert_int_equal(irc_policy_parse("fleet: {share_findings: off}\n", 29, &p, &e), 0);
	assert_int_equal(p.fleet_share_ttl_s, 0);
}

/* ---- limits -------------------------------------------------------------- */

/* "allowlist:\n" and @n entries 10.0.X.Y, one a line (line 2 on). */
static char *allowlist_text(int n)
{
	size_t len = 16 + (size_t)n * 20;
	char *s = malloc(len), *w = s;

	assert_non_null(s);
	w += sprintf(w, "allowlist:\n");
	for (int i = 0; i < n; i++)
		w += sprintf(w, "  - 10.0.%d.%d\n", i / 256, i % 256);
	return s;
}

static void test_allowlist_limit(void **state)
{
	struct irc_policy *p = malloc(sizeof(*p));
	struct irc_policy_errors *e = malloc(sizeof(*e));
	char *s;

	(void)state;
	assert_non_null(p);
	assert_non_null(e);
	/* 256 entries: every one kept, in order. */
	s = allowlist_text(IRC_POLICY_MAX_ALLOW);
	assert_int_equal(irc_policy_parse(s, strlen(s), p, e), 0);
	assert_int_equal(e->n, 0);
	assert_int_equal(p->nallow, IRC_POLICY_MAX_ALLOW);
	expect_cidr(&p->allow[0], AF_INET, "10.0.0.0", 32);
	expect_cidr(&p->allow[255], AF_INET, "10.0.0.255", 32);
	free(s);
	/* 257: refused, at the 257th entry's line (258), and only once. */
	s = allowlist_text(IRC_POLICY_MAX_ALLOW + 1);
	assert_int_equal(irc_policy_parse(s, strlen(s), p, e), -EINVAL);
	assert_int_equal(e->n, 1);
	assert_int_equal(e->line[0], IRC_POLICY_MAX_ALLOW + 2);
	assert_non_null(strstr(e->msg[0], "more than 256 allowlist entries"));
	free(s);
	/* 300: still one error, at the first one over. */
	s = allowlist_text(300);
	assert_int_equal(irc_policy_parse(s, strlen(s), p, e), -EINVAL);
	assert_int_equal(e->n, 1);
	assert_int_equal(e->line[0], IRC_POLICY_MAX_ALLOW + 2);
	free(s);
	free(p);
	free(e);
}

/* More errors than the array holds: the first 64, no overflow. */
static void test_error_cap(void **state)
{
	int n = IRC_POLICY_MAX_ERRORS + 36;
	char *s = malloc((size_t)n * 16 + 1), *w = s;
	struct irc_policy p;
	struct irc_policy_errors e;

	(void)state;
	assert_non_null(s);
	for (int i = 0; i < n; i++)
		w += sprintf(w, "bogus%d: 1\n", i);
	assert_int_equal(irc_policy_parse(s, strlen(s), &p, &e), -EINVAL);
	assert_int_equal(e.n, IRC_POLICY_MAX_ERRORS);
	assert_int_equal(e.line[0], 1);
	assert_int_equal(e.line[IRC_POLICY_MAX_ERRORS - 1], IRC_POLICY_MAX_ERRORS);
	assert_non_null(strstr(e.msg[IRC_POLICY_MAX_ERRORS - 1], "unknown key 'bogus63'"));
	free(s);
}

/* A message longer than the slot is cut, NUL-terminated. */
static void test_long_message(void **state)
{
	char y[600];
	struct irc_policy p;
	struct irc_policy_errors e;

	(void)state;
	snprintf(y, sizeof(y), "mode: %0500d\n", 7);
	assert_int_equal(irc_policy_parse(y, strlen(y), &p, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(memchr(e.msg[0], '\0', sizeof(e.msg[0])));
	assert_int_equal(strlen(e.msg[0]), sizeof(e.msg[0]) - 1);
}

/* The length is the length: nothing past it is read. */
static void test_not_nul_terminated(void **state)
{
	static const char y[] = "mode: enforce\nfoo: 1\n";
	size_t n = strlen("mode: enforce\n");
	char *exact = malloc(n);
	struct irc_policy p;
	struct irc_policy_errors e;

	(void)state;
	assert_non_null(exact);
	memcpy(exact, y, n);	/* no NUL: ASan sees any read past it */
	assert_int_equal(irc_policy_parse(exact, n, &p, &e), 0);
	assert_int_equal(p.det.enforce, 1);
	free(exact);
	/* The whole text, with the unknown key. */
	assert_int_equal(irc_policy_parse(y, strlen(y), &p, &e), -EINVAL);
	assert_int_equal(e.line[0], 2);
}

/* ---- files and the error rendering ------------------------------------- */

/* The temporary policy file: removed by the teardown, however the test ends. */
static char tmp_path[64];

static int remove_tmp(void **state)
{
	(void)state;
	if (tmp_path[0])
		unlink(tmp_path);
	tmp_path[0] = '\0';
	return 0;
}

static void test_load_and_print(void **state)
{
	char *path = tmp_path, *out = NULL, want[256];
	struct irc_policy p;
	struct irc_policy_errors e;
	size_t outlen = 0;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(irc_policy_load("/nonexistent/ircontain/policy.yaml", &p, &e), -ENOENT);
	assert_int_equal(e.n, 0);

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/irc-test-policy-XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0)
		tmp_path[0] = '\0';
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("mode: monitor\ndetectors:\n  portscan: {ports: 1}\nfoo: bar\n", f);
	fclose(f);
	assert_int_equal(irc_policy_load(path, &p, &e), -EINVAL);
	assert_int_equal(e.n, 2);

	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	irc_policy_print_errors(f, path, &e);
	fclose(f);
	snprintf(want, sizeof(want),
		 "%s:3: 'ports' must be a whole number from 2 to 256, not '1'\n"
		 "%s:4: unknown key 'foo' (mode, allowlist, detectors, store, fleet)\n", path, path);
	assert_string_equal(out, want);
	free(out);

	/* The same file, fixed, loads. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("mode: enforce\n", f);
	fclose(f);
	assert_int_equal(irc_policy_load(path, &p, &e), 0);
	assert_int_equal(p.det.enforce, 1);
}

/* Only regular files: a FIFO, a device or a huge file is refused at once. */
static void test_load_not_regular(void **state)
{
	struct irc_policy p;
	struct irc_policy_errors e;
	char fifo[64];
	FILE *f;
	int fd;

	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/irc-test-fifo-%d", getpid());
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* No writer: opening it for reading would block for ever. */
	assert_int_equal(irc_policy_load(fifo, &p, &e), -EBADF);
	unlink(fifo);
	assert_int_equal(irc_policy_load("/dev/zero", &p, &e), -EBADF);
	assert_int_equal(irc_policy_load("/tmp", &p, &e), -EBADF);

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/irc-test-policy-XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, IRC_POLICY_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(irc_policy_load(tmp_path, &p, &e), -EFBIG);
	f = fopen(tmp_path, "w");
	assert_non_null(f);
	fputs("mode: monitor\n", f);
	fclose(f);
	assert_int_equal(irc_policy_load(tmp_path, &p, &e), 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(irc_detector_name(IRC_DET_REVSHELL), "reverse_shell");
	assert_string_equal(irc_detector_name(IRC_DET__MAX), "unknown");
	assert_string_equal(irc_action_name(IRC_ACT_QUAR_PROC), "quarantine-process");
	assert_string_equal(irc_action_name(99), "unknown");
	assert_string_equal(irc_severity_name(IRC_SEV_CRITICAL), "critical");
	assert_string_equal(irc_severity_name(0), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_multi_table),
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_docs_policy),
		cmocka_unit_test(test_full_policy_fields),
		cmocka_unit_test(test_partial_policy_keeps_defaults),
		cmocka_unit_test(test_allowlist_limit),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_long_message),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test_teardown(test_load_and_print, remove_tmp),
		cmocka_unit_test_teardown(test_load_not_regular, remove_tmp),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
