// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the operator-input parsers (userspace/parse.c).
 *
 * Every parser is driven by a table of {input, expected return, expected
 * output} rows, so a new case is one line.  A table test reports every
 * failing row before it fails, so one run shows the whole picture rather
 * than the first mismatch only.
 *
 * Several rows pin down behaviour that is a policy choice rather than an
 * accident (leading zeros, "0s", an empty reason, v4-mapped addresses); the
 * comment next to them says why, so a deliberate change updates the row
 * instead of wondering whether it broke something.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "parse.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * A byte pattern no parser produces, written into outputs before a call so
 * that "left untouched on failure" is checkable with memcmp.
 */
#define POISON		0xa5
#define POISON_U64	0xa5a5a5a5a5a5a5a5ULL
#define POISON_U32	0xa5a5a5a5U

/* Collects every mismatch of a table test; see the header comment. */

/*
 * Printable rendering of a test input.  Many inputs carry control bytes or
 * are kilobytes long, and a raw print would garble or flood the report.
 * Four rotating buffers so one message can show more than one input.
 */
static const char *show(const char *s)
{
	static char bufs[4][96];
	static unsigned int next;
	char *b = bufs[next++ % 4], *p = b;

	if (!s)
		return "NULL";
	*p++ = '"';
	for (; *s && p < b + sizeof(bufs[0]) - 8; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			p += sprintf(p, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			p += sprintf(p, "\\x%02x", ch);
		else
			*p++ = (char)ch;
	}
	if (*s)
		p += sprintf(p, "...");
	*p++ = '"';
	*p = '\0';
	return b;
}

/* A failure must always say why: the CLI prints *why verbatim. */
static bool why_ok(const char *why)
{
	return why && *why;
}

static void poison_cidr(struct irc_cidr *c)
{
	memset(c, POISON, sizeof(*c));
}

static bool is_poisoned(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != POISON)
			return false;
	return true;
}

/* A string of @n copies of @ch after @prefix and before @suffix. */
static char *make_str(const char *prefix, char ch, size_t n,
		      const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	assert_non_null(s);
	memcpy(s, prefix, lp);
	memset(s + lp, ch, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

/*
 * Checks a parsed prefix against the expected family, address text and
 * prefix length.  The address text goes through inet_pton so rows stay
 * readable; test_cidr_bytes checks raw bytes without libc in the loop.
 */
static bool cidr_is(const struct irc_cidr *c, int family, const char *addr,
		    unsigned int plen)
{
	uint8_t want[16] = { 0 };

	if (inet_pton(family, addr, want) != 1)
		fail_msg("bad expected address %s in the table", show(addr));
	/* IPv4 must leave the unused tail zeroed: it is hashed and compared. */
	return c->family == family && c->plen == plen &&
	       memcmp(c->addr, want, sizeof(want)) == 0;
}

/* ---------------------------------------------------------------- u64 -- */

struct u64_case {
	const char *in;
	uint64_t min, max;
	int ret;
	uint64_t out;
};

static const struct u64_case u64_cases[] = {
	{ "0",				0, 10,		0,	0 },
	{ "10",				0, 10,		0,	10 },
	{ "5",				5, 5,		0,	5 },
	{ "007",			0, 10,		0,	7 },	/* base 10, not octal */
	{ "0000000000000000000000000001", 0, 1,	0,	1 },
	{ "18446744073709551615",	0, UINT64_MAX,	0,	UINT64_MAX },
	{ "11",				0, 10,		-ERANGE, 0 },
	{ "4",				5, 10,		-ERANGE, 0 },
	{ "5",				10, 0,		-ERANGE, 0 },	/* empty range */
	{ "18446744073709551616",	0, UINT64_MAX,	-ERANGE, 0 },
	{ "99999999999999999999999999",	0, UINT64_MAX,	-ERANGE, 0 },
	/* strtoull() would turn "-1" into UINT64_MAX: it must not get that far. */
	{ "-1",				0, UINT64_MAX,	-EINVAL, 0 },
	{ "-0",				0, 10,		-EINVAL, 0 },
	{ "+1",				0, 10,		-EINVAL, 0 },
	{ " 1",				0, 10,		-EINVAL, 0 },
	{ "1 ",				0, 10,		-EINVAL, 0 },
	{ "1\n",			0, 10,		-EINVAL, 0 },
	{ "0x10",			0, 100,		-EINVAL, 0 },
	{ "1e3",			0, 10000,	-EINVAL, 0 },
	{ "1.0",			0, 10,		-EINVAL, 0 },
	{ "1a",				0, 10,		-EINVAL, 0 },
	{ "abc",			0, 10,		-EINVAL, 0 },
	{ "",				0, 10,		-EINVAL, 0 },
	{ NULL,				0, 10,		-EINVAL, 0 },
};

static void test_u64_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(u64_cases); i++) {
		const struct u64_case *t = &u64_cases[i];
		uint64_t out = POISON_U64;
		const char *why = NULL;
		int r;

		r = irc_parse_u64(t->in, t->min, t->max, &out, &why);
		EXPECT(bad, r == t->ret, "u64 %s [%llu,%llu]: returned %d, want %d",
		       show(t->in), (unsigned long long)t->min,
		       (unsigned long long)t->max, r, t->ret);
		if (t->ret == 0) {
			EXPECT(bad, out == t->out, "u64 %s: got %llu, want %llu",
			       show(t->in), (unsigned long long)out,
			       (unsigned long long)t->out);
			continue;
		}
		EXPECT(bad, why_ok(why), "u64 %s: failed without a reason",
		       show(t->in));
		EXPECT(bad, out == POISON_U64, "u64 %s: output written on failure",
		       show(t->in));
		/* irc_parse_cidr() passes why = NULL; that must be safe. */
		r = irc_parse_u64(t->in, t->min, t->max, &out, NULL);
		EXPECT(bad, r == t->ret, "u64 %s (why NULL): returned %d, want %d",
		       show(t->in), r, t->ret);
	}
	assert_int_equal(bad, 0);
}

/* --------------------------------------------------------------- cidr -- */

struct cidr_case {
	const char *in;
	bool allow_zero;
	int ret;
	int family;		/* on success */
	const char *addr;	/* on success: the address, as text */
	unsigned int plen;	/* on success */
};

#define C_OK(s, f, a, p)	{ (s), false, 0, (f), (a), (p) }
#define C_OKZ(s, f, a, p)	{ (s), true, 0, (f), (a), (p) }
#define C_BAD(s, e)		{ (s), false, (e), 0, NULL, 0 }
#define C_BADZ(s, e)		{ (s), true, (e), 0, NULL, 0 }

static const struct cidr_case cidr_cases[] = {
	/* IPv4 hosts: a bare address and /32 mean the same thing. */
	C_OK("192.0.2.1",		AF_INET, "192.0.2.1", 32),
	C_OK("192.0.2.1/32",		AF_INET, "192.0.2.1", 32),
	C_OK("0.0.0.0",			AF_INET, "0.0.0.0", 32),
	C_OK("255.255.255.255",		AF_INET, "255.255.255.255", 32),
	C_OK("127.0.0.1",		AF_INET, "127.0.0.1", 32),

	/* IPv4 prefixes, at and around the interesting lengths. */
	C_OK("128.0.0.0/1",		AF_INET, "128.0.0.0", 1),
	C_OK("0.0.0.0/1",		AF_INET, "0.0.0.0", 1),
	C_OK("10.0.0.0/8",		AF_INET, "10.0.0.0", 8),
	C_OK("10.0.0.0/7",		AF_INET, "10.0.0.0", 7),
	C_OK("172.16.0.0/12",		AF_INET, "172.16.0.0", 12),
	C_OK("192.0.2.0/24",		AF_INET, "192.0.2.0", 24),
	C_OK("192.0.2.128/25",		AF_INET, "192.0.2.128", 25),
	C_OK("10.0.0.0/31",		AF_INET, "10.0.0.0", 31),
	C_OK("10.0.0.2/31",		AF_INET, "10.0.0.2", 31),
	C_OK("255.255.255.254/31",	AF_INET, "255.255.255.254", 31),
	/* Base 10 always, so a zero-padded length cannot turn octal. */
	C_OK("10.0.0.0/08",		AF_INET, "10.0.0.0", 8),
	C_OK("10.0.0.0/0000000000000000000000000000024", AF_INET, "10.0.0.0", 24),

	/* /0 covers everything: refused unless the caller asks for it. */
	C_BAD("0.0.0.0/0",		-ERANGE),
	C_BAD("0.0.0.0/00",		-ERANGE),
	C_OKZ("0.0.0.0/0",		AF_INET, "0.0.0.0", 0),
	C_OKZ("0.0.0.0/00",		AF_INET, "0.0.0.0", 0),
	C_OKZ("10.0.0.0/8",		AF_INET, "10.0.0.0", 8),
	/* The /0 refusal is checked first, so the message is about /0. */
	C_BAD("1.2.3.4/0",		-ERANGE),
	C_BADZ("1.2.3.4/0",		-EINVAL),

	/* Host bits below the prefix: a typo that would shift the block. */
	C_BAD("10.1.0.0/8",		-EINVAL),
	C_BAD("10.0.0.1/8",		-EINVAL),
	C_BAD("192.0.0.0/1",		-EINVAL),
	C_BAD("10.0.0.1/31",		-EINVAL),
	C_BAD("192.0.2.1/24",		-EINVAL),
	C_BAD("11.0.0.0/7",		-EINVAL),

	/* Prefix longer than the family allows. */
	C_BAD("10.0.0.0/33",		-ERANGE),
	C_BAD("10.0.0.0/128",		-ERANGE),
	C_BAD("10.0.0.0/4294967328",	-ERANGE),	/* 2^32 + 32 */
	C_BAD("10.0.0.0/18446744073709551648", -ERANGE), /* > 2^64 */
	C_BADZ("10.0.0.0/33",		-ERANGE),

	/* A prefix length that is not a plain decimal number is malformed. */
	C_BAD("10.0.0.0/",		-EINVAL),
	C_BAD("10.0.0.0/-8",		-EINVAL),
	C_BAD("10.0.0.0/+8",		-EINVAL),
	C_BAD("10.0.0.0/ 8",		-EINVAL),
	C_BAD("10.0.0.0/8 ",		-EINVAL),
	C_BAD("10.0.0.0/8\n",		-EINVAL),
	C_BAD("10.0.0.0/8x",		-EINVAL),
	C_BAD("10.0.0.0/0x8",		-EINVAL),
	C_BAD("10.0.0.0/8.0",		-EINVAL),
	C_BAD("10.0.0.0//8",		-EINVAL),
	C_BAD("10.0.0.0/8/8",		-EINVAL),
	C_BAD("10.0.0.0/255.0.0.0",	-EINVAL),	/* no netmask syntax */
	C_BAD("10.0.0.0/-0",		-EINVAL),
	C_BADZ("10.0.0.0/",		-EINVAL),

	/* Malformed IPv4 addresses. */
	C_BAD(NULL,			-EINVAL),
	C_BAD("",			-EINVAL),
	C_BAD("/",			-EINVAL),
	C_BAD("/8",			-EINVAL),
	C_BAD("//",			-EINVAL),
	C_BAD(" 192.0.2.1",		-EINVAL),
	C_BAD("192.0.2.1 ",		-EINVAL),
	C_BAD("192.0.2.1 /32",		-EINVAL),
	C_BAD("192.0.2.1\n",		-EINVAL),
	C_BAD("\t192.0.2.1",		-EINVAL),
	C_BAD("192.0.2",		-EINVAL),
	C_BAD("192.0.2.1.5",		-EINVAL),
	C_BAD("192.0.2.",		-EINVAL),
	C_BAD(".192.0.2.1",		-EINVAL),
	C_BAD("192..2.1",		-EINVAL),
	C_BAD("256.0.0.0",		-EINVAL),
	C_BAD("192.0.2.-1",		-EINVAL),
	C_BAD("+192.0.2.1",		-EINVAL),
	C_BAD("-192.0.2.1",		-EINVAL),
	/* inet_aton() would read 010 as octal 8; refusing is the safe side. */
	C_BAD("010.0.0.0/8",		-EINVAL),
	C_BAD("192.0.2.01",		-EINVAL),
	C_BAD("0x0a.0.0.1",		-EINVAL),
	C_BAD("3221225985",		-EINVAL),	/* 192.0.2.1 as one integer */
	C_BAD("192.0.2.1x",		-EINVAL),
	C_BAD("localhost",		-EINVAL),
	C_BAD("example.com",		-EINVAL),
	C_BAD("x",			-EINVAL),
	C_BAD("1.2.3.4:80",		-EINVAL),
	C_BAD("192.0.2.1-192.0.2.9",	-EINVAL),
	C_BAD("192.0.2.1,192.0.2.2",	-EINVAL),

	/* IPv6 hosts, full and compressed. */
	C_OK("2001:db8::1",		AF_INET6, "2001:db8::1", 128),
	C_OK("2001:db8::1/128",		AF_INET6, "2001:db8::1", 128),
	C_OK("2001:0db8:0000:0000:0000:0000:0000:0001", AF_INET6, "2001:db8::1", 128),
	C_OK("2001:DB8::A",		AF_INET6, "2001:db8::a", 128),
	C_OK("::",			AF_INET6, "::", 128),
	C_OK("::1",			AF_INET6, "::1", 128),
	C_OK("1::",			AF_INET6, "1::", 128),
	C_OK("1:2:3:4:5:6:7:8",		AF_INET6, "1:2:3:4:5:6:7:8", 128),
	C_OK("1:2:3:4:5:6:7::",		AF_INET6, "1:2:3:4:5:6:7:0", 128),
	C_OK("::2:3:4:5:6:7:8",		AF_INET6, "0:2:3:4:5:6:7:8", 128),
	C_OK("1:0:0:2::3",		AF_INET6, "1:0:0:2:0:0:0:3", 128),
	C_OK("1:2:3:4:5:6:1.2.3.4",	AF_INET6, "1:2:3:4:5:6:102:304", 128),
	C_OK("fe80::1",			AF_INET6, "fe80::1", 128),
	C_OK("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6,
	     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128),

	/*
	 * v4-mapped and v4-compatible addresses stay IPv6 here: only the
	 * SSH peer parser folds them, because only there does the kernel
	 * hand us a mapped form of what is really IPv4 traffic.
	 */
	C_OK("::ffff:192.0.2.1",	AF_INET6, "::ffff:c000:201", 128),
	C_OK("::FFFF:192.0.2.1",	AF_INET6, "::ffff:c000:201", 128),
	C_OK("::ffff:c000:201",		AF_INET6, "::ffff:192.0.2.1", 128),
	C_OK("::ffff:10.0.0.0/104",	AF_INET6, "::ffff:10.0.0.0", 104),
	C_OK("::ffff:0.0.0.0/96",	AF_INET6, "::ffff:0.0.0.0", 96),
	C_OK("::192.0.2.1",		AF_INET6, "::c000:201", 128),
	/* The longest legal address text must fit the parser's buffer. */
	C_OK("0000:0000:0000:0000:0000:ffff:255.255.255.255", AF_INET6,
	     "::ffff:255.255.255.255", 128),
	C_BAD("::ffff:192.0.2.01",	-EINVAL),
	C_BAD("::ffff:192.0.2.1/120",	-EINVAL),	/* host bits */

	/* IPv6 prefixes. */
	C_OK("8000::/1",		AF_INET6, "8000::", 1),
	C_OK("::/1",			AF_INET6, "::", 1),
	C_OK("2000::/3",		AF_INET6, "2000::", 3),
	C_OK("fe80::/10",		AF_INET6, "fe80::", 10),
	C_OK("2001:db8::/32",		AF_INET6, "2001:db8::", 32),
	C_OK("2001:db8:1::/48",		AF_INET6, "2001:db8:1::", 48),
	C_OK("2001:db8:1:2::/64",	AF_INET6, "2001:db8:1:2::", 64),
	C_OK("2001:db8::/127",		AF_INET6, "2001:db8::", 127),
	C_OK("2001:db8::2/127",		AF_INET6, "2001:db8::2", 127),
	C_OK("2001:db8::1/0128",	AF_INET6, "2001:db8::1", 128),
	C_BAD("::/0",			-ERANGE),
	C_OKZ("::/0",			AF_INET6, "::", 0),
	C_BAD("2001:db8::1/0",		-ERANGE),
	C_BADZ("2001:db8::1/0",		-EINVAL),
	C_BAD("c000::/1",		-EINVAL),
	C_BAD("2001:db8::/16",		-EINVAL),
	C_BAD("2001:db8::1/64",		-EINVAL),
	C_BAD("2001:db8:0:0:8000::/64",	-EINVAL),
	C_BAD("2001:db8::1/127",	-EINVAL),
	C_BAD("fec0::/9",		-EINVAL),
	C_BAD("2001:db8::/129",		-ERANGE),
	C_BAD("2001:db8::/256",		-ERANGE),
	C_BAD("2001:db8::/",		-EINVAL),
	C_BAD("2001:db8::/-64",		-EINVAL),
	C_BAD("2001:db8::/64 ",		-EINVAL),
	C_BAD("2001:db8::/64x",		-EINVAL),

	/* Malformed IPv6 addresses. */
	C_BAD(":",			-EINVAL),
	C_BAD(":::",			-EINVAL),
	C_BAD("1::2::3",		-EINVAL),
	C_BAD("2001:db8:::1",		-EINVAL),
	C_BAD("1:2:3:4:5:6:7:8:9",	-EINVAL),
	C_BAD("1:2:3:4:5:6:7:8::",	-EINVAL),
	C_BAD("1:2:3:4:5:6:7",		-EINVAL),
	C_BAD("12345::",		-EINVAL),
	C_BAD("2001:00db8::1",		-EINVAL),
	C_BAD("g::1",			-EINVAL),
	C_BAD("[2001:db8::1]",		-EINVAL),
	C_BAD("[2001:db8::1]/64",	-EINVAL),
	/* Scope ids name an interface, not an address to quarantine. */
	C_BAD("fe80::1%eth0",		-EINVAL),
	C_BAD(" ::1",			-EINVAL),
	C_BAD("::1 ",			-EINVAL),
	C_BAD("1.2.3.4::",		-EINVAL),
	C_BAD("::1.2.3",		-EINVAL),
	C_BAD("::ffff:256.0.0.1",	-EINVAL),
};

static void test_cidr_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cidr_cases); i++) {
		const struct cidr_case *t = &cidr_cases[i];
		struct irc_cidr out;
		const char *why = NULL;
		int r;

		poison_cidr(&out);
		r = irc_parse_cidr(t->in, t->allow_zero, &out, &why);
		EXPECT(bad, r == t->ret, "cidr %s%s: returned %d, want %d (%s)",
		       show(t->in), t->allow_zero ? " allow_zero" : "", r,
		       t->ret, why ? why : "no reason");
		if (t->ret == 0) {
			if (r == 0)
				EXPECT(bad, cidr_is(&out, t->family, t->addr,
						    t->plen),
				       "cidr %s: wrong result (family %d plen %u)",
				       show(t->in), out.family, out.plen);
			continue;
		}
		EXPECT(bad, why_ok(why), "cidr %s: failed without a reason",
		       show(t->in));
		EXPECT(bad, is_poisoned(&out, sizeof(out)),
		       "cidr %s: output written on failure", show(t->in));
		r = irc_parse_cidr(t->in, t->allow_zero, &out, NULL);
		EXPECT(bad, r == t->ret, "cidr %s (why NULL): returned %d, want %d",
		       show(t->in), r, t->ret);
	}
	assert_int_equal(bad, 0);
}

/* Raw bytes, so the table above is not only checked against inet_pton. */
static void test_cidr_bytes(void **state)
{
	static const uint8_t net10[16] = { 10 };
	static const uint8_t host4[16] = { 192, 0, 2, 1 };
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t mapped[16] = {
		[10] = 0xff, [11] = 0xff, 192, 0, 2, 1,
	};
	struct irc_cidr c;

	(void)state;
	poison_cidr(&c);
	assert_int_equal(irc_parse_cidr("10.0.0.0/8", false, &c, NULL), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.plen, 8);
	assert_memory_equal(c.addr, net10, 16);

	poison_cidr(&c);
	assert_int_equal(irc_parse_cidr("192.0.2.1", false, &c, NULL), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.plen, 32);
	assert_memory_equal(c.addr, host4, 16);

	poison_cidr(&c);
	assert_int_equal(irc_parse_cidr("2001:db8::/32", false, &c, NULL), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.plen, 32);
	assert_memory_equal(c.addr, db8, 16);

	poison_cidr(&c);
	assert_int_equal(irc_parse_cidr("::ffff:192.0.2.1", false, &c, NULL), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.plen, 128);
	assert_memory_equal(c.addr, mapped, 16);
}

/* The message must name the limit of the family the operator typed. */
static void test_cidr_why_names_family_limit(void **state)
{
	struct irc_cidr c;
	const char *why = NULL;

	(void)state;
	assert_int_equal(irc_parse_cidr("10.0.0.0/33", false, &c, &why), -ERANGE);
	assert_non_null(why);
	assert_non_null(strstr(why, "32"));
	why = NULL;
	assert_int_equal(irc_parse_cidr("::/129", false, &c, &why), -ERANGE);
	assert_non_null(why);
	assert_non_null(strstr(why, "128"));
}

/*
 * Generated inputs too long for a table row: they probe the fixed-size
 * copy of the address part and strtoull() on long digit runs.
 */
static void test_cidr_long_inputs(void **state)
{
	static const struct {
		const char *prefix;
		char fill;
		size_t n;
		const char *suffix;
		int ret;
	} rows[] = {
		{ "", 'A', 10000, "", -EINVAL },
		{ "", '1', 10000, "", -EINVAL },
		{ "", ':', 10000, "", -EINVAL },
		{ "", '1', 10000, "/8", -EINVAL },
		{ "192.0.2.1", ' ', 10000, "", -EINVAL },
		{ "192.0.2.1", '0', 10000, "", -EINVAL },
		{ "::", '0', 10000, "1", -EINVAL },
		/* Just past the longest legal address text. */
		{ "0000:0000:0000:0000:0000:ffff:255.255.255.255", ' ', 1, "", -EINVAL },
		{ "", '0', 60, "", -EINVAL },
		{ "", '0', 53, "/8", -EINVAL },
		{ "", '0', 54, "/8", -EINVAL },
		{ "10.0.0.0/", '0', 10000, "8", 0 },
		{ "10.0.0.0/", '0', 10000, "", -ERANGE },	/* a long /0 */
		{ "10.0.0.0/", '9', 10000, "", -ERANGE },
		{ "::/", '9', 10000, "", -ERANGE },
		{ "10.0.0.0/8", 'x', 10000, "", -EINVAL },
		{ "10.0.0.0/8", '/', 10000, "", -EINVAL },
	};
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		char *s = make_str(rows[i].prefix, rows[i].fill, rows[i].n,
				   rows[i].suffix);
		struct irc_cidr out;
		const char *why = NULL;
		int r;

		poison_cidr(&out);
		r = irc_parse_cidr(s, false, &out, &why);
		EXPECT(bad, r == rows[i].ret, "cidr long row %zu %s: returned %d, want %d",
		       i, show(s), r, rows[i].ret);
		if (rows[i].ret) {
			EXPECT(bad, why_ok(why), "cidr long row %zu: no reason", i);
			EXPECT(bad, is_poisoned(&out, sizeof(out)),
			       "cidr long row %zu: output written on failure", i);
		}
		free(s);
	}
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------- format -- */

struct fmt_case {
	const char *in;
	bool allow_zero;
	const char *out;
};

static const struct fmt_case fmt_cases[] = {
	/* Hosts print without /plen: that is how operators type them. */
	{ "192.0.2.1",				false, "192.0.2.1" },
	{ "192.0.2.1/32",			false, "192.0.2.1" },
	{ "0.0.0.0",				false, "0.0.0.0" },
	{ "255.255.255.255",			false, "255.255.255.255" },
	{ "10.0.0.0/8",				false, "10.0.0.0/8" },
	{ "10.0.0.0/008",			false, "10.0.0.0/8" },
	{ "128.0.0.0/1",			false, "128.0.0.0/1" },
	{ "255.255.255.254/31",			false, "255.255.255.254/31" },
	{ "0.0.0.0/0",				true,  "0.0.0.0/0" },
	{ "::",					false, "::" },
	{ "::/0",				true,  "::/0" },
	{ "::1/128",				false, "::1" },
	{ "2001:0DB8:0000:0000:0000:0000:0000:0001", false, "2001:db8::1" },
	{ "2001:db8::/32",			false, "2001:db8::/32" },
	{ "2001:db8:1:2::/64",			false, "2001:db8:1:2::/64" },
	{ "2001:db8::/127",			false, "2001:db8::/127" },
	{ "fe80::/10",				false, "fe80::/10" },
	{ "8000::/1",				false, "8000::/1" },
	{ "::ffff:192.0.2.1",			false, "::ffff:192.0.2.1" },
	{ "::ffff:c000:201",			false, "::ffff:192.0.2.1" },
	{ "::ffff:10.0.0.0/104",		false, "::ffff:10.0.0.0/104" },
	/* Longest text a parsed prefix formats to. */
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", false,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

static void test_cidr_format_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(fmt_cases); i++) {
		const struct fmt_case *t = &fmt_cases[i];
		struct irc_cidr c, back;
		char buf[IRC_CIDR_STRLEN];
		size_t n = strlen(t->out);
		int r;

		assert_true(n < IRC_CIDR_STRLEN);
		if (irc_parse_cidr(t->in, t->allow_zero, &c, NULL)) {
			EXPECT(bad, false, "format %s: does not parse", show(t->in));
			continue;
		}
		memset(buf, POISON, sizeof(buf));
		r = irc_cidr_format(&c, buf, sizeof(buf));
		EXPECT(bad, r == 0 && !strcmp(buf, t->out),
		       "format %s: returned %d %s, want %s", show(t->in), r,
		       r == 0 ? show(buf) : "-", show(t->out));

		/* What we print must read back as the same prefix. */
		poison_cidr(&back);
		r = irc_parse_cidr(buf, t->allow_zero, &back, NULL);
		EXPECT(bad, r == 0 && back.family == c.family &&
			    back.plen == c.plen &&
			    !memcmp(back.addr, c.addr, sizeof(c.addr)),
		       "format %s: %s does not parse back", show(t->in),
		       show(buf));

		/* Exactly enough room, then one byte short. */
		r = irc_cidr_format(&c, buf, n + 1);
		EXPECT(bad, r == 0 && !strcmp(buf, t->out),
		       "format %s: len %zu returned %d", show(t->in), n + 1, r);
		r = irc_cidr_format(&c, buf, n);
		EXPECT(bad, r == -ENOSPC, "format %s: len %zu returned %d, want -ENOSPC",
		       show(t->in), n, r);
		r = irc_cidr_format(&c, buf, 1);
		EXPECT(bad, r == -ENOSPC, "format %s: len 1 returned %d, want -ENOSPC",
		       show(t->in), r);
	}
	assert_int_equal(bad, 0);
}

static void test_cidr_format_edges(void **state)
{
	struct irc_cidr c = { .family = AF_INET, .addr = { 192, 0, 2, 1 },
			      .plen = 32 };
	char buf[4];

	(void)state;
	/* Callers size with IRC_CIDR_STRLEN; a short buffer must not overflow. */
	memset(buf, POISON, sizeof(buf));
	assert_int_equal(irc_cidr_format(&c, buf, 4), -ENOSPC);
	assert_int_equal(buf[3], '\0');
	assert_int_equal(irc_cidr_format(&c, NULL, 0), -ENOSPC);

	/* A corrupted record must not print as some valid-looking address. */
	c.family = AF_UNSPEC;
	assert_int_equal(irc_cidr_format(&c, buf, sizeof(buf)), -EINVAL);
}

/* ------------------------------------------------- is_host / contains -- */

struct host_case {
	const char *in;
	bool allow_zero;
	bool host;
};

static const struct host_case host_cases[] = {
	{ "192.0.2.1",		false, true },
	{ "192.0.2.1/32",	false, true },
	{ "192.0.2.0/31",	false, false },
	{ "10.0.0.0/8",		false, false },
	{ "0.0.0.0/0",		true,  false },
	{ "::1",		false, true },
	{ "::1/128",		false, true },
	{ "2001:db8::/127",	false, false },
	{ "::/0",		true,  false },
	/* /32 is a host only for IPv4; for IPv6 it is a big allocation. */
	{ "2001:db8::/32",	false, false },
	{ "::ffff:192.0.2.1",	false, true },
	{ "::ffff:192.0.2.0/120", false, false },
};

static void test_cidr_is_host_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(host_cases); i++) {
		const struct host_case *t = &host_cases[i];
		struct irc_cidr c;

		assert_int_equal(irc_parse_cidr(t->in, t->allow_zero, &c, NULL), 0);
		EXPECT(bad, irc_cidr_is_host(&c) == t->host,
		       "is_host %s: got %d, want %d", show(t->in),
		       irc_cidr_is_host(&c), t->host);
	}
	assert_int_equal(bad, 0);
}

struct rel_case {
	const char *a, *b;
	bool a_has_b, b_has_a;	/* overlap is expected iff either holds */
};

static const struct rel_case rel_cases[] = {
	{ "10.0.0.0/8",		"10.1.2.3",		true,  false },
	{ "10.0.0.0/8",		"10.255.255.255",	true,  false },
	{ "10.0.0.0/8",		"10.0.0.0/8",		true,  true },
	{ "10.0.0.0/8",		"10.0.0.0/16",		true,  false },
	{ "10.0.0.0/7",		"10.0.0.0/8",		true,  false },
	{ "10.0.0.0/7",		"11.0.0.0/8",		true,  false },
	{ "10.0.0.0/8",		"11.0.0.0/8",		false, false },
	{ "10.0.0.0/8",		"9.255.255.255",	false, false },
	{ "10.0.0.0/8",		"11.0.0.0",		false, false },
	{ "192.0.2.0/24",	"192.0.2.128/25",	true,  false },
	{ "192.0.2.0/25",	"192.0.2.128/25",	false, false },	/* adjacent */
	{ "192.0.2.0/31",	"192.0.2.1",		true,  false },
	{ "192.0.2.0/31",	"192.0.2.2",		false, false },
	{ "192.0.2.1",		"192.0.2.1",		true,  true },
	{ "192.0.2.1",		"192.0.2.2",		false, false },
	{ "128.0.0.0/1",	"0.0.0.0/1",		false, false },
	{ "128.0.0.0/1",	"255.255.255.255",	true,  false },
	{ "0.0.0.0/1",		"127.255.255.255",	true,  false },
	{ "0.0.0.0/0",		"192.0.2.1",		true,  false },
	{ "0.0.0.0/0",		"0.0.0.0/0",		true,  true },
	{ "2001:db8::/32",	"2001:db8:ffff:ffff::/64", true, false },
	{ "2001:db8::/32",	"2001:db9::/32",	false, false },
	{ "2001:db8::/32",	"2001:db8::1",		true,  false },
	{ "2001:db8::/127",	"2001:db8::1",		true,  false },
	{ "2001:db8::/127",	"2001:db8::2",		false, false },
	{ "2001:db8::1",	"2001:db8::1",		true,  true },
	{ "2001:db8::",		"2001:db8::1",		false, false },
	{ "fe80::/10",		"febf:ffff::1",		true,  false },
	{ "fe80::/10",		"fec0::1",		false, false },
	{ "::/0",		"2001:db8::1",		true,  false },
	{ "::/0",		"::/0",			true,  true },
	/* Families never mix, even when the bytes look alike. */
	{ "0.0.0.0/0",		"::/0",			false, false },
	{ "0.0.0.0/0",		"2001:db8::1",		false, false },
	{ "::/0",		"192.0.2.1",		false, false },
	{ "0.0.0.0",		"::",			false, false },
	{ "192.0.2.1",		"::192.0.2.1",		false, false },
	{ "::ffff:10.0.0.0/104", "10.1.2.3",		false, false },
	{ "10.0.0.0/8",		"::ffff:10.1.2.3",	false, false },
};

static void test_cidr_contains_overlap_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rel_cases); i++) {
		const struct rel_case *t = &rel_cases[i];
		bool overlap = t->a_has_b || t->b_has_a;
		struct irc_cidr a, b;

		assert_int_equal(irc_parse_cidr(t->a, true, &a, NULL), 0);
		assert_int_equal(irc_parse_cidr(t->b, true, &b, NULL), 0);
		EXPECT(bad, irc_cidr_contains(&a, &b) == t->a_has_b,
		       "contains(%s, %s) != %d", show(t->a), show(t->b), t->a_has_b);
		EXPECT(bad, irc_cidr_contains(&b, &a) == t->b_has_a,
		       "contains(%s, %s) != %d", show(t->b), show(t->a), t->b_has_a);
		/* Overlap is symmetric whichever way it is asked. */
		EXPECT(bad, irc_cidr_overlap(&a, &b) == overlap,
		       "overlap(%s, %s) != %d", show(t->a), show(t->b), overlap);
		EXPECT(bad, irc_cidr_overlap(&b, &a) == overlap,
		       "overlap(%s, %s) != %d", show(t->b), show(t->a), overlap);
		/* Everything contains and overlaps itself. */
		EXPECT(bad, irc_cidr_contains(&a, &a) && irc_cidr_overlap(&a, &a),
		       "%s does not contain itself", show(t->a));
	}
	assert_int_equal(bad, 0);
}

/* ----------------------------------------------------------- duration -- */

#define DAY	86400ULL
#define WEEK	(7 * DAY)

struct dur_case {
	const char *in;
	int ret;
	uint64_t sec;
};

static const struct dur_case dur_cases[] = {
	{ "90",			0,	90 },	/* a bare number is seconds */
	{ "90s",		0,	90 },
	{ "1",			0,	1 },
	{ "1s",			0,	1 },
	{ "15m",		0,	900 },
	{ "2h",			0,	7200 },
	{ "7d",			0,	7 * DAY },
	{ "1w",			0,	WEEK },
	{ "1h30m",		0,	5400 },
	{ "30m1h",		0,	5400 },	/* order is free */
	{ "1h1h",		0,	7200 },	/* repeats add up */
	{ "1w2d3h4m5s",		0,	WEEK + 2 * DAY + 3 * 3600 + 4 * 60 + 5 },
	{ "0h5m",		0,	300 },	/* a zero term is fine if the sum is not */
	{ "007m",		0,	420 },
	{ "3600s",		0,	3600 },
	{ "120m",		0,	7200 },
	/* The maximum, reached every way an operator might write it. */
	{ "31622400",		0,	IRC_MAX_TTL_SEC },
	{ "31622400s",		0,	IRC_MAX_TTL_SEC },
	{ "527040m",		0,	IRC_MAX_TTL_SEC },
	{ "8784h",		0,	IRC_MAX_TTL_SEC },
	{ "366d",		0,	IRC_MAX_TTL_SEC },
	{ "52w2d",		0,	IRC_MAX_TTL_SEC },
	{ "366d0s",		0,	IRC_MAX_TTL_SEC },
	{ "365d23h59m59s",	0,	IRC_MAX_TTL_SEC - 1 },
	/* Zero would mean "expire at once", which is never what was meant. */
	{ "0",			-EINVAL, 0 },
	{ "0s",			-EINVAL, 0 },
	{ "0w0d0h0m0s",		-EINVAL, 0 },
	{ "00",			-EINVAL, 0 },
	{ NULL,			-EINVAL, 0 },
	{ "",			-EINVAL, 0 },
	{ "1x",			-EINVAL, 0 },
	{ "1H",			-EINVAL, 0 },
	{ "1ms",		-EINVAL, 0 },
	{ "1y",			-EINVAL, 0 },
	{ "h",			-EINVAL, 0 },
	{ "s",			-EINVAL, 0 },
	{ "m5",			-EINVAL, 0 },
	/* "1h30" is ambiguous (30s? 30m?), so a trailing bare number is refused. */
	{ "1h30",		-EINVAL, 0 },
	{ "1d1h30",		-EINVAL, 0 },
	{ "1hh",		-EINVAL, 0 },
	{ "1h-30m",		-EINVAL, 0 },
	{ "-5",			-EINVAL, 0 },
	{ "+5",			-EINVAL, 0 },
	{ " 5",			-EINVAL, 0 },
	{ "5 ",			-EINVAL, 0 },
	{ "5\n",		-EINVAL, 0 },
	{ "1 h",		-EINVAL, 0 },
	{ "1h 30m",		-EINVAL, 0 },
	{ "1.5h",		-EINVAL, 0 },
	{ "1e3",		-EINVAL, 0 },
	{ "0x10",		-EINVAL, 0 },
	{ "1,5h",		-EINVAL, 0 },
	{ "forever",		-EINVAL, 0 },
	{ "31622401",		-ERANGE, 0 },
	{ "31622401s",		-ERANGE, 0 },
	{ "366d1s",		-ERANGE, 0 },
	{ "1s366d",		-ERANGE, 0 },
	{ "367d",		-ERANGE, 0 },
	{ "53w",		-ERANGE, 0 },
	{ "52w3d",		-ERANGE, 0 },
	{ "8785h",		-ERANGE, 0 },
	{ "366d366d",		-ERANGE, 0 },
	{ "31622400w",		-ERANGE, 0 },
	{ "31622401w",		-ERANGE, 0 },
	/* Must not wrap around to something small and be accepted. */
	{ "18446744073709551615",	-ERANGE, 0 },
	{ "18446744073709551616s",	-ERANGE, 0 },
	{ "99999999999999999999",	-ERANGE, 0 },
	{ "99999999999999999999h",	-ERANGE, 0 },
	{ "30500568904944w",	-ERANGE, 0 },	/* 2^64 / 604800, rounded up */
};

static void test_duration_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(dur_cases); i++) {
		const struct dur_case *t = &dur_cases[i];
		uint64_t sec = POISON_U64;
		const char *why = NULL;
		int r;

		r = irc_parse_duration(t->in, &sec, &why);
		EXPECT(bad, r == t->ret, "duration %s: returned %d, want %d (%s)",
		       show(t->in), r, t->ret, why ? why : "no reason");
		if (t->ret == 0) {
			EXPECT(bad, sec == t->sec, "duration %s: got %llu, want %llu",
			       show(t->in), (unsigned long long)sec,
			       (unsigned long long)t->sec);
			continue;
		}
		EXPECT(bad, why_ok(why), "duration %s: failed without a reason",
		       show(t->in));
		EXPECT(bad, sec == POISON_U64, "duration %s: output written on failure",
		       show(t->in));
		r = irc_parse_duration(t->in, &sec, NULL);
		EXPECT(bad, r == t->ret, "duration %s (why NULL): returned %d, want %d",
		       show(t->in), r, t->ret);
	}
	assert_int_equal(bad, 0);
}

static void test_duration_long_inputs(void **state)
{
	static const struct {
		const char *prefix;
		char fill;
		size_t n;
		const char *suffix;
		int ret;
		uint64_t sec;
	} rows[] = {
		/* Leading zeros are harmless and must not overflow strtoull(). */
		{ "", '0', 10000, "1s", 0, 1 },
		{ "", '0', 10000, "", -EINVAL, 0 },
		{ "", '9', 10000, "", -ERANGE, 0 },
		{ "", '9', 10000, "s", -ERANGE, 0 },
		{ "1", 's', 10000, "", -EINVAL, 0 },
		{ "1h", ' ', 10000, "", -EINVAL, 0 },
	};
	unsigned int bad = 0;
	size_t i;
	char *s;
	uint64_t sec;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		const char *why = NULL;
		int r;

		s = make_str(rows[i].prefix, rows[i].fill, rows[i].n,
			     rows[i].suffix);
		sec = POISON_U64;
		r = irc_parse_duration(s, &sec, &why);
		EXPECT(bad, r == rows[i].ret, "duration long row %zu %s: returned %d, want %d",
		       i, show(s), r, rows[i].ret);
		EXPECT(bad, rows[i].ret ? why_ok(why) && sec == POISON_U64
					: sec == rows[i].sec,
		       "duration long row %zu: wrong output or reason", i);
		free(s);
	}

	/* Thousands of small terms: the running sum is bounded each step. */
	{
		size_t n = 31622400 / 60 + 1, k;	/* one minute too many */

		s = malloc(n * 2 + 1);
		assert_non_null(s);
		for (k = 0; k < n; k++)
			memcpy(s + 2 * k, "1m", 2);
		s[2 * (n - 1)] = '\0';
		assert_int_equal(irc_parse_duration(s, &sec, NULL), 0);
		assert_int_equal(sec, IRC_MAX_TTL_SEC);
		s[2 * (n - 1)] = '1';
		s[2 * n] = '\0';
		assert_int_equal(irc_parse_duration(s, &sec, NULL), -ERANGE);
		free(s);
	}
	assert_int_equal(bad, 0);
}

struct fdur_case {
	uint64_t sec;
	const char *out;
};

static const struct fdur_case fdur_cases[] = {
	{ 0,			"0s" },
	{ 1,			"1s" },
	{ 59,			"59s" },
	{ 60,			"1m" },
	{ 61,			"1m1s" },
	{ 90,			"1m30s" },
	{ 3599,			"59m59s" },
	{ 3600,			"1h" },
	{ 3601,			"1h1s" },
	{ 5400,			"1h30m" },
	{ 86399,		"23h59m59s" },
	{ 86400,		"1d" },
	{ 86401,		"1d1s" },
	{ 90061,		"1d1h1m1s" },
	/* Weeks are accepted on input but printed as days: easier to compare. */
	{ 7 * 86400,		"7d" },
	{ 14 * 86400 + 60,	"14d1m" },
	{ IRC_MAX_TTL_SEC,	"366d" },
	{ IRC_MAX_TTL_SEC + 1,	"366d1s" },
	{ UINT64_MAX,		"213503982334601d7h15s" },
};

static void test_format_duration_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(fdur_cases); i++) {
		const struct fdur_case *t = &fdur_cases[i];
		size_t n = strlen(t->out);
		char buf[64];
		int r;

		memset(buf, POISON, sizeof(buf));
		r = irc_format_duration(t->sec, buf, sizeof(buf));
		EXPECT(bad, r == 0 && !strcmp(buf, t->out),
		       "format_duration %llu: returned %d %s, want %s",
		       (unsigned long long)t->sec, r, r ? "-" : show(buf),
		       show(t->out));

		r = irc_format_duration(t->sec, buf, n + 1);
		EXPECT(bad, r == 0 && !strcmp(buf, t->out),
		       "format_duration %llu: len %zu returned %d",
		       (unsigned long long)t->sec, n + 1, r);
		memset(buf, POISON, sizeof(buf));
		r = irc_format_duration(t->sec, buf, n);
		EXPECT(bad, r == -ENOSPC,
		       "format_duration %llu: len %zu returned %d, want -ENOSPC",
		       (unsigned long long)t->sec, n, r);
		/* Even a refused write leaves a terminated string behind. */
		EXPECT(bad, memchr(buf, '\0', n) != NULL,
		       "format_duration %llu: len %zu left no NUL",
		       (unsigned long long)t->sec, n);
		EXPECT(bad, (unsigned char)buf[n] == POISON,
		       "format_duration %llu: len %zu wrote past the end",
		       (unsigned long long)t->sec, n);
		r = irc_format_duration(t->sec, NULL, 0);
		EXPECT(bad, r == -ENOSPC,
		       "format_duration %llu: len 0 returned %d, want -ENOSPC",
		       (unsigned long long)t->sec, r);
	}
	assert_int_equal(bad, 0);
}

/*
 * What 'list' prints must be accepted back by 'add --ttl', for every legal
 * TTL.  All small values, then a geometric walk up to the maximum.
 */
static void test_duration_round_trip(void **state)
{
	unsigned int bad = 0;
	uint64_t v, sec;
	char buf[32];

	(void)state;
	for (v = 1; v <= IRC_MAX_TTL_SEC; v = v < 5000 ? v + 1 : v + v / 7 + 13) {
		int r = irc_format_duration(v, buf, sizeof(buf));

		if (r) {
			EXPECT(bad, false, "format_duration %llu returned %d",
			       (unsigned long long)v, r);
			continue;
		}
		sec = POISON_U64;
		r = irc_parse_duration(buf, &sec, NULL);
		EXPECT(bad, r == 0 && sec == v, "round trip %llu -> %s -> %d %llu",
		       (unsigned long long)v, show(buf), r, (unsigned long long)sec);
	}
	assert_int_equal(irc_format_duration(IRC_MAX_TTL_SEC, buf, sizeof(buf)), 0);
	assert_int_equal(irc_parse_duration(buf, &sec, NULL), 0);
	assert_int_equal(sec, IRC_MAX_TTL_SEC);
	assert_int_equal(irc_format_duration(IRC_MAX_TTL_SEC + 1, buf, sizeof(buf)), 0);
	assert_int_equal(irc_parse_duration(buf, &sec, NULL), -ERANGE);
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------- ifname -- */

struct str_case {
	const char *in;
	int ret;
};

static const struct str_case ifname_cases[] = {
	{ "veth0",		0 },
	{ "eth0",		0 },
	{ "lo",			0 },
	{ "a",			0 },
	{ "eth0.100",		0 },	/* VLAN devices */
	{ "br-0123abcd4567",	0 },	/* docker bridges */
	{ "enp0s31f6",		0 },
	{ "wg-ir_1@x",		0 },
	{ "123456789012345",	0 },	/* 15 bytes: IFNAMSIZ - 1 */
	{ "...",		0 },	/* only "." and ".." are reserved */
	{ ".a",			0 },
	{ "1234567890123456",	-EINVAL },	/* 16 bytes: no room for NUL */
	{ "12345678901234567890", -EINVAL },
	{ NULL,			-EINVAL },
	{ "",			-EINVAL },
	{ ".",			-EINVAL },
	{ "..",			-EINVAL },
	{ "a/b",		-EINVAL },
	{ "/",			-EINVAL },
	{ "../eth0",		-EINVAL },
	{ "a:b",		-EINVAL },
	{ "eth0:1",		-EINVAL },	/* old alias syntax, not a device */
	{ "a b",		-EINVAL },
	{ " eth0",		-EINVAL },
	{ "eth0 ",		-EINVAL },
	{ "a\tb",		-EINVAL },
	{ "\t",			-EINVAL },
	{ "eth0\n",		-EINVAL },
	{ "a\vb",		-EINVAL },
	{ "a\fb",		-EINVAL },
	{ "a\rb",		-EINVAL },
	{ "a\x01" "b",		-EINVAL },
	{ "\x1b[0m",		-EINVAL },
	{ "a\x7f",		-EINVAL },
	{ "caf\xc3\xa9",	-EINVAL },	/* stricter than the kernel: unprintable in logs */
	{ "\xff",		-EINVAL },
};

/* -------------------------------------------------------------- reason -- */

static const struct str_case reason_cases[] = {
	{ "phishing C2 beacon, ticket IR-1234", 0 },
	{ "a",			0 },
	{ " ",			0 },
	{ "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", 0 },
	/* An empty reason is legal: --reason is optional. */
	{ "",			0 },
	/* UTF-8 is passed through; control characters are refused. */
	{ "caf\xc3\xa9",	0 },
	{ "\xe6\x97\xa5\xf0\x9f\x94\xa5",	0 },	/* 3- and 4-byte forms */
	{ "<script>&amp;'\"", 0 },
	{ "caf\xe9",		-EINVAL },	/* Latin-1, not UTF-8 */
	{ "\xc2\x9b" "31m",	-EINVAL },	/* C1 CSI: a terminal escape */
	{ "\xc2\x85",		-EINVAL },	/* C1 NEL */
	{ "\xc0\xaf",		-EINVAL },	/* overlong '/' */
	{ "\xed\xa0\x80",	-EINVAL },	/* a UTF-16 surrogate */
	{ "\xf4\x90\x80\x80",	-EINVAL },	/* past U+10FFFF */
	{ "\xe2\x80",		-EINVAL },	/* cut short */
	{ "ab\xe2\x80\xae" "cba",	-EINVAL },	/* U+202E right-to-left override */
	{ "\xe2\x81\xa6x",	-EINVAL },	/* U+2066 isolate */
	{ NULL,			-EINVAL },
	{ "a\tb",		-EINVAL },
	{ "line\nbreak",	-EINVAL },
	{ "\r",			-EINVAL },
	{ "trailing newline\n",	-EINVAL },
	{ "\x1b[31mred",	-EINVAL },	/* terminal escapes in 'list' output */
	{ "a\x7f",		-EINVAL },
	{ "\x01",		-EINVAL },
	{ "\x1f",		-EINVAL },
};

static void run_str_table(const char *name, const struct str_case *cases,
			  size_t n, int (*parse)(const char *, const char **))
{
	unsigned int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *why = NULL;
		int r = parse(cases[i].in, &why);

		EXPECT(bad, r == cases[i].ret, "%s %s: returned %d, want %d (%s)",
		       name, show(cases[i].in), r, cases[i].ret,
		       why ? why : "no reason");
		if (cases[i].ret == 0)
			continue;
		EXPECT(bad, why_ok(why), "%s %s: failed without a reason", name,
		       show(cases[i].in));
		r = parse(cases[i].in, NULL);
		EXPECT(bad, r == cases[i].ret, "%s %s (why NULL): returned %d, want %d",
		       name, show(cases[i].in), r, cases[i].ret);
	}
	assert_int_equal(bad, 0);
}

static void test_ifname_table(void **state)
{
	(void)state;
	run_str_table("ifname", ifname_cases, ARRAY_LEN(ifname_cases),
		      irc_parse_ifname);
}

static void test_reason_table(void **state)
{
	(void)state;
	run_str_table("reason", reason_cases, ARRAY_LEN(reason_cases),
		      irc_parse_reason);
}

/* What a message shows of a bad value: one line, escaped, cut. */
static void test_escape(void **state)
{
	static const struct { const char *in; size_t cap; const char *out; } rows[] = {
		{ "plain", 48, "plain" },
		{ "caf\xc3\xa9", 48, "caf\xc3\xa9" },
		{ "a\nb\x1b[0m", 48, "a\\x0a" "b\\x1b[0m" },
		{ "caf\xe9!", 48, "caf\\xe9!" },
		{ "\xc2\x9bx", 48, "\\x9bx" },
		{ "a\xe2\x80\xae" "b", 48, "a\\u{202e}b" },
		{ "back\\slash", 48, "back\\slash" },
		{ "0123456789abcdef", 10, "0123456789...(16 bytes)" },
	};
	char out[160], big[8192];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		irc_escape(rows[i].in, rows[i].cap, out, sizeof(out));
		assert_string_equal(out, rows[i].out);
	}
	/* A long hostile value is never echoed whole, whatever the buffer. */
	memset(big, '\x01', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	irc_escape(big, 48, out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, "...(8191 bytes)"));
	irc_escape(big, sizeof(big), out, 16);
	assert_true(strlen(out) < 16);
	assert_int_equal(irc_parse_text(big, sizeof(big), NULL), -EINVAL);
	assert_int_equal(irc_parse_text("x", 0, NULL), -EINVAL);
	assert_int_equal(irc_parse_text("", 0, NULL), 0);
}

/* The limits are bytes of the map value, not characters. */
static void test_reason_length(void **state)
{
	static const struct {
		const char *fill;	/* repeated unit */
		size_t reps;
		const char *tail;
		int ret;
	} rows[] = {
		{ "x", IRC_REASON_LEN - 1, "", 0 },		/* 63 bytes */
		{ "x", IRC_REASON_LEN, "", -EINVAL },		/* 64 bytes */
		{ "x", IRC_REASON_LEN + 1, "", -EINVAL },
		{ "x", 10000, "", -EINVAL },
		{ "\xc3\xa9", 31, "x", 0 },			/* 31 chars, 63 bytes */
		{ "\xc3\xa9", 32, "", -EINVAL },		/* 32 chars, 64 bytes */
		{ "x", IRC_REASON_LEN - 2, "\n", -EINVAL },	/* short but bad */
	};
	unsigned int bad = 0;
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		size_t u = strlen(rows[i].fill), tl = strlen(rows[i].tail);
		char *s = malloc(u * rows[i].reps + tl + 1);
		const char *why = NULL;
		int r;

		assert_non_null(s);
		for (k = 0; k < rows[i].reps; k++)
			memcpy(s + k * u, rows[i].fill, u);
		memcpy(s + k * u, rows[i].tail, tl + 1);
		r = irc_parse_reason(s, &why);
		EXPECT(bad, r == rows[i].ret, "reason row %zu (%zu bytes): returned %d, want %d",
		       i, strlen(s), r, rows[i].ret);
		EXPECT(bad, r == 0 || why_ok(why), "reason row %zu: no reason", i);
		free(s);
	}
	assert_int_equal(bad, 0);
}

static void test_ifname_length(void **state)
{
	unsigned int bad = 0;
	size_t n;

	(void)state;
	/* Every length from 1 up to well past IFNAMSIZ, at the boundary too. */
	for (n = 1; n <= 2 * IRC_IFNAME_LEN; n++) {
		char *s = make_str("", 'e', n, "");
		int want = n < IRC_IFNAME_LEN ? 0 : -EINVAL;
		int r = irc_parse_ifname(s, NULL);

		EXPECT(bad, r == want, "ifname of %zu bytes: returned %d, want %d",
		       n, r, want);
		free(s);
	}
	assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------- direction -- */

struct dir_case {
	const char *in;
	int ret;
	uint32_t dir;
};

static const struct dir_case dir_cases[] = {
	{ "in",		0,	IRC_DIR_IN },
	{ "out",	0,	IRC_DIR_OUT },
	{ "both",	0,	IRC_DIR_BOTH },
	{ NULL,		-EINVAL, 0 },
	{ "",		-EINVAL, 0 },
	{ "IN",		-EINVAL, 0 },
	{ "Out",	-EINVAL, 0 },
	{ "in ",	-EINVAL, 0 },
	{ " in",	-EINVAL, 0 },
	{ "in\n",	-EINVAL, 0 },
	{ "i",		-EINVAL, 0 },
	{ "inn",	-EINVAL, 0 },
	{ "inout",	-EINVAL, 0 },
	{ "in,out",	-EINVAL, 0 },
	{ "bothx",	-EINVAL, 0 },
	{ "none",	-EINVAL, 0 },
	{ "ingress",	-EINVAL, 0 },
	{ "1",		-EINVAL, 0 },
	{ "3",		-EINVAL, 0 },
};

static void test_direction_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	/* The bits the BPF side tests: both must be exactly in | out. */
	assert_int_equal(IRC_DIR_BOTH, IRC_DIR_IN | IRC_DIR_OUT);
	for (i = 0; i < ARRAY_LEN(dir_cases); i++) {
		const struct dir_case *t = &dir_cases[i];
		uint32_t dir = POISON_U32;
		const char *why = NULL;
		int r = irc_parse_direction(t->in, &dir, &why);

		EXPECT(bad, r == t->ret, "direction %s: returned %d, want %d",
		       show(t->in), r, t->ret);
		if (t->ret == 0) {
			EXPECT(bad, dir == t->dir, "direction %s: got %#x, want %#x",
			       show(t->in), dir, t->dir);
			continue;
		}
		EXPECT(bad, why_ok(why), "direction %s: failed without a reason",
		       show(t->in));
		EXPECT(bad, dir == POISON_U32, "direction %s: output written on failure",
		       show(t->in));
		r = irc_parse_direction(t->in, &dir, NULL);
		EXPECT(bad, r == t->ret, "direction %s (why NULL): returned %d, want %d",
		       show(t->in), r, t->ret);
	}
	assert_int_equal(bad, 0);
}

/* ----------------------------------------------------------- ssh peer -- */

struct ssh_case {
	const char *in;
	int ret;
	int family;		/* on success */
	const char *addr;	/* on success */
	unsigned int plen;	/* on success */
};

#define S_OK(s, f, a, p)	{ (s), 0, (f), (a), (p) }
#define S_BAD(s, e)		{ (s), (e), 0, NULL, 0 }

static const struct ssh_case ssh_cases[] = {
	S_OK("192.0.2.10 51234 192.0.2.1 22",	AF_INET, "192.0.2.10", 32),
	S_OK("192.0.2.10 51234 2001:db8::1 22",	AF_INET, "192.0.2.10", 32),
	S_OK("192.0.2.10",			AF_INET, "192.0.2.10", 32),
	S_OK("192.0.2.10 ",			AF_INET, "192.0.2.10", 32),
	S_OK("2001:db8::10 51234 2001:db8::1 22", AF_INET6, "2001:db8::10", 128),
	S_OK("::1 40000 ::1 22",		AF_INET6, "::1", 128),
	/* sshd on a dual-stack socket reports IPv4 clients in mapped form. */
	S_OK("::ffff:192.0.2.10 51234 ::ffff:192.0.2.1 22", AF_INET, "192.0.2.10", 32),
	S_OK("::FFFF:192.0.2.10 51234 ::1 22",	AF_INET, "192.0.2.10", 32),
	S_OK("::ffff:c000:20a 51234 ::1 22",	AF_INET, "192.0.2.10", 32),
	S_OK("::ffff:0.0.0.0 1 ::1 22",		AF_INET, "0.0.0.0", 32),
	/* Only ::ffff:0:0/96 is folded; the other look-alikes stay IPv6. */
	S_OK("::192.0.2.10 51234 ::1 22",	AF_INET6, "::c000:20a", 128),
	S_OK("::fffe:192.0.2.10 1 ::1 22",	AF_INET6, "::fffe:c000:20a", 128),
	S_OK("64:ff9b::192.0.2.10 1 ::1 22",	AF_INET6, "64:ff9b::c000:20a", 128),
	S_OK("1::ffff:192.0.2.10 1 ::1 22",	AF_INET6, "1::ffff:c000:20a", 128),
	S_BAD(NULL,				-ENOENT),
	S_BAD("",				-ENOENT),
	S_BAD(" ",				-EINVAL),
	S_BAD(" 192.0.2.10 51234 192.0.2.1 22",	-EINVAL),
	S_BAD("garbage 51234 192.0.2.1 22",	-EINVAL),
	S_BAD("garbage",			-EINVAL),
	S_BAD("192.0.2.10\t51234 192.0.2.1 22",	-EINVAL),
	S_BAD("192.0.2.10:51234 192.0.2.1 22",	-EINVAL),
	S_BAD("[2001:db8::10] 51234 ::1 22",	-EINVAL),
	S_BAD("192.0.2.256 51234 192.0.2.1 22",	-EINVAL),
	/* The peer is one host; a prefix here would allowlist a whole block. */
	S_BAD("192.0.2.10/24 1 192.0.2.1 22",	-EINVAL),
	S_BAD("10.0.0.0/8 1 192.0.2.1 22",	-EINVAL),
	S_BAD("0.0.0.0/1 1 192.0.2.1 22",	-EINVAL),
	S_BAD("192.0.2.10/32 1 192.0.2.1 22",	-EINVAL),
	S_BAD("2001:db8::/32 1 ::1 22",		-EINVAL),
	S_BAD("::ffff:0.0.0.0/96 1 ::1 22",	-EINVAL),
	S_BAD("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000 1 ::1 22", -EINVAL),
};

static void test_ssh_peer_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ssh_cases); i++) {
		const struct ssh_case *t = &ssh_cases[i];
		struct irc_cidr out;
		int r;

		poison_cidr(&out);
		r = irc_parse_ssh_peer(t->in, &out);
		EXPECT(bad, r == t->ret, "ssh_peer %s: returned %d, want %d",
		       show(t->in), r, t->ret);
		if (t->ret == 0) {
			if (r == 0)
				EXPECT(bad, cidr_is(&out, t->family, t->addr, t->plen),
				       "ssh_peer %s: wrong result (family %d plen %u)",
				       show(t->in), out.family, out.plen);
			continue;
		}
		EXPECT(bad, is_poisoned(&out, sizeof(out)),
		       "ssh_peer %s: output written on failure", show(t->in));
	}
	assert_int_equal(bad, 0);
}

/* The folded address must be a clean IPv4 record, tail bytes zeroed. */
static void test_ssh_peer_mapped_bytes(void **state)
{
	static const uint8_t want[16] = { 192, 0, 2, 10 };
	struct irc_cidr c;
	char buf[IRC_CIDR_STRLEN];

	(void)state;
	poison_cidr(&c);
	assert_int_equal(irc_parse_ssh_peer("::ffff:192.0.2.10 51234 ::1 22", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.plen, 32);
	assert_memory_equal(c.addr, want, 16);
	assert_true(irc_cidr_is_host(&c));
	assert_int_equal(irc_cidr_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.0.2.10");
}

static void test_ssh_peer_long_input(void **state)
{
	char *s = make_str("", '1', 10000, " 22 192.0.2.1 22");
	struct irc_cidr c;

	(void)state;
	poison_cidr(&c);
	assert_int_equal(irc_parse_ssh_peer(s, &c), -EINVAL);
	assert_true(is_poisoned(&c, sizeof(c)));
	free(s);
}

/*
 * Targets an operator names: an IPv4-mapped IPv6 address or prefix is the
 * IPv4 one (packets are matched as IPv4), never a silent no-op entry.
 */
static void test_target_table(void **state)
{
	static const struct {
		const char *in;
		int ret, family;
		const char *out;
		unsigned int plen;
	} rows[] = {
		{ "::ffff:192.0.2.1", 0, AF_INET, "192.0.2.1", 32 },
		{ "::FFFF:c000:201", 0, AF_INET, "192.0.2.1", 32 },
		{ "::ffff:10.0.0.0/104", 0, AF_INET, "10.0.0.0", 8 },
		{ "::ffff:10.1.2.0/120", 0, AF_INET, "10.1.2.0", 24 },
		{ "::ffff:0.0.0.0/96", -ERANGE, 0, NULL, 0 },	/* all of IPv4: /0 */
		{ "2001:db8::/96", 0, AF_INET6, "2001:db8::", 96 },	/* not mapped */
		{ "2001:db8::1", 0, AF_INET6, "2001:db8::1", 128 },
		{ "10.0.0.1", 0, AF_INET, "10.0.0.1", 32 },
		{ "::ffff:192.0.2.1/120", -EINVAL, 0, NULL, 0 },	/* host bits */
	};
	char ip[INET6_ADDRSTRLEN];
	struct irc_cidr c;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = NULL;
		int r = irc_parse_target(rows[i].in, false, &c, &why);

		EXPECT(bad, r == rows[i].ret, "%s: returned %d, want %d", rows[i].in, r, rows[i].ret);
		if (r || rows[i].ret)
			continue;
		inet_ntop(c.family, c.addr, ip, sizeof(ip));
		EXPECT(bad, c.family == rows[i].family && c.plen == rows[i].plen,
		       "%s: family %d /%u, want %d /%u", rows[i].in, c.family, c.plen,
		       rows[i].family, rows[i].plen);
		EXPECT(bad, !strcmp(ip, rows[i].out), "%s: address %s, want %s", rows[i].in,
		       ip, rows[i].out);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_table),
		cmocka_unit_test(test_u64_table),
		cmocka_unit_test(test_cidr_table),
		cmocka_unit_test(test_cidr_bytes),
		cmocka_unit_test(test_cidr_why_names_family_limit),
		cmocka_unit_test(test_cidr_long_inputs),
		cmocka_unit_test(test_cidr_format_table),
		cmocka_unit_test(test_cidr_format_edges),
		cmocka_unit_test(test_cidr_is_host_table),
		cmocka_unit_test(test_cidr_contains_overlap_table),
		cmocka_unit_test(test_duration_table),
		cmocka_unit_test(test_duration_long_inputs),
		cmocka_unit_test(test_format_duration_table),
		cmocka_unit_test(test_duration_round_trip),
		cmocka_unit_test(test_ifname_table),
		cmocka_unit_test(test_ifname_length),
		cmocka_unit_test(test_reason_table),
		cmocka_unit_test(test_reason_length),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_direction_table),
		cmocka_unit_test(test_ssh_peer_table),
		cmocka_unit_test(test_ssh_peer_mapped_bytes),
		cmocka_unit_test(test_ssh_peer_long_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
