// SPDX-License-Identifier: GPL-2.0-only
/* Operator input parsers; see parse.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "parse.h"

#define FAIL(msg) do { if (why) *why = (msg); return -EINVAL; } while (0)

int irc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		  const char **why)
{
	unsigned long long v;
	char *end;

	if (!s || !*s)
		FAIL("empty number");
	if (!isdigit((unsigned char)*s))
		FAIL("not a number");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		FAIL("not a number");
	if (errno == ERANGE || v < min || v > max) {
		if (why)
			*why = "out of range";
		return -ERANGE;
	}
	*out = v;
	return 0;
}

static unsigned int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* 1 if bit @i (0 = most significant) of @a is set. */
static int bit_at(const uint8_t *a, unsigned int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

int irc_parse_cidr(const char *s, bool allow_zero, struct irc_cidr *out,
		   const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	struct irc_cidr c = {};
	unsigned int i, bits;
	size_t alen;

	if (!s || !*s)
		FAIL("empty address");
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		FAIL("not an IPv4 or IPv6 address");
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = AF_INET6;
	else
		FAIL("not an IPv4 or IPv6 address");
	bits = family_bits(c.family);

	c.plen = bits;
	if (slash) {
		uint64_t plen;
		int err = irc_parse_u64(slash + 1, 0, bits, &plen, NULL);

		if (err) {
			if (why)
				*why = c.family == AF_INET ?
				       "prefix length must be 0-32" :
				       "prefix length must be 0-128";
			return err;	/* -EINVAL malformed, -ERANGE too long */
		}
		c.plen = plen;
	}
	if (c.plen == 0 && !allow_zero) {
		if (why)
			*why = "a /0 prefix covers every address (use 'isolate on')";
		return -ERANGE;
	}
	for (i = c.plen; i < bits; i++)
		if (bit_at(c.addr, i))
			FAIL("host bits set below the prefix length");
	*out = c;
	return 0;
}

static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

/* ::ffff:a.b.c.d/P (P >= 96) -> a.b.c.d/(P - 96), in place. */
static void unmap_v4(struct irc_cidr *c)
{
	if (c->family != AF_INET6 || c->plen < 96 || memcmp(c->addr, v4mapped, 12))
		return;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->family = AF_INET;
	c->plen -= 96;
}

int irc_parse_target(const char *s, bool allow_zero, struct irc_cidr *out,
		     const char **why)
{
	struct irc_cidr c;
	int err = irc_parse_cidr(s, allow_zero, &c, why);

	if (err)
		return err;
	unmap_v4(&c);
	if (c.plen == 0 && !allow_zero) {
		if (why)
			*why = "a /0 prefix covers every address (use 'isolate on')";
		return -ERANGE;
	}
	*out = c;
	return 0;
}

int irc_cidr_format(const struct irc_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		return -EINVAL;
	if (irc_cidr_is_host(c))
		n = snprintf(buf, len, "%s", a);
	else
		n = snprintf(buf, len, "%s/%u", a, c->plen);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

bool irc_cidr_is_host(const struct irc_cidr *c)
{
	return c->plen == family_bits(c->family);
}

bool irc_cidr_contains(const struct irc_cidr *outer,
		       const struct irc_cidr *inner)
{
	unsigned int i;

	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	for (i = 0; i < outer->plen; i++)
		if (bit_at(outer->addr, i) != bit_at(inner->addr, i))
			return false;
	return true;
}

bool irc_cidr_overlap(const struct irc_cidr *a, const struct irc_cidr *b)
{
	return irc_cidr_contains(a, b) || irc_cidr_contains(b, a);
}

int irc_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *bytes,
		   const char **why)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		FAIL("expected a size such as 512M or 1G");
	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default:
		FAIL("unknown unit (use K, M, G or T)");
	}
	if (*end && end[1])
		FAIL("unknown unit (use K, M, G or T)");
	if (errno == ERANGE || v > (max >> shift) || (v << shift) < min)
		FAIL("out of range");
	*bytes = (uint64_t)v << shift;
	return 0;
}

int irc_parse_duration(const char *s, uint64_t *sec, const char **why)
{
	uint64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		FAIL("empty duration");
	while (*p) {
		unsigned long long v, unit;
		char *end;

		if (!isdigit((unsigned char)*p))
			FAIL("expected a number such as 30s, 15m, 2h, 7d");
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno == ERANGE || v > IRC_MAX_TTL_SEC)
			goto range;
		switch (*end) {
		case '\0':
			/* A bare number is seconds, only on its own. */
			if (p != s)
				FAIL("missing unit after the last number");
			unit = 1;
			end--;
			break;
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default:
			FAIL("unknown unit (use s, m, h, d or w)");
		}
		total += v * unit;
		if (total > IRC_MAX_TTL_SEC)
			goto range;
		p = end + 1;
	}
	if (total == 0)
		FAIL("duration must be longer than zero");
	*sec = total;
	return 0;
range:
	if (why)
		*why = "longer than the 366-day maximum";
	return -ERANGE;
}

int irc_format_duration(uint64_t sec, char *buf, size_t len)
{
	static const struct { uint64_t s; char c; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t off = 0, i;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (sec == 0)
		return snprintf(buf, len, "0s") >= (int)len ? -ENOSPC : 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = sec / units[i].s;
		int w;

		if (!n)
			continue;
		sec %= units[i].s;
		w = snprintf(buf + off, len - off, "%llu%c",
			     (unsigned long long)n, units[i].c);
		if (w < 0 || (size_t)w >= len - off)
			return -ENOSPC;
		off += w;
	}
	return 0;
}

int irc_parse_ifname(const char *s, const char **why)
{
	size_t n;

	if (!s || !*s)
		FAIL("empty interface name");
	n = strlen(s);
	if (n >= IRC_IFNAME_LEN)
		FAIL("interface names are at most 15 characters");
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		FAIL("not a valid interface name");
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			FAIL("interface names cannot contain '/', ':' or spaces");
	return 0;
}

int irc_parse_direction(const char *s, uint32_t *dir, const char **why)
{
	if (s && !strcmp(s, "in"))
		*dir = IRC_DIR_IN;
	else if (s && !strcmp(s, "out"))
		*dir = IRC_DIR_OUT;
	else if (s && !strcmp(s, "both"))
		*dir = IRC_DIR_BOTH;
	else
		FAIL("direction must be in, out or both");
	return 0;
}

const char *irc_dir_name(uint32_t dir)
{
	switch (dir & IRC_DIR_BOTH) {
	case IRC_DIR_IN: return "in";
	case IRC_DIR_OUT: return "out";
	case IRC_DIR_BOTH: return "both";
	default: return "none";
	}
}

size_t irc_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len, i;

	if (!n)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and past U+10FFFF are not UTF-8. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/* Characters that make text show as something it is not. */
static bool text_lies(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

int irc_parse_text(const char *s, size_t max, const char **why)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, len;
	uint32_t c;

	if (!s)
		FAIL("missing text");
	n = strlen(s);
	if (n > max)
		FAIL("too long");
	while (n) {
		len = irc_utf8_next(p, n, &c);
		if (!len)
			FAIL("not valid UTF-8");
		if (c < 0x20 || c == 0x7f)
			FAIL("contains a control character");
		if (text_lies(c))
			FAIL("contains a C1 control or bidirectional override character");
		p += len;
		n -= len;
	}
	return 0;
}

void irc_escape(const char *s, size_t cap, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), left = n < cap ? n : cap, o = 0, l;
	uint32_t c;

	if (!len)
		return;
	/* Room kept for the longest escape and the "...(N bytes)" tail. */
	while (left && o + 12 + 24 < len) {
		l = irc_utf8_next(p, left, &c);
		if (!l)
			o += snprintf(out + o, len - o, "\\x%02x", *p), l = 1;
		else if (text_lies(c))
			o += snprintf(out + o, len - o, c < 0x100 ? "\\x%02x" : "\\u{%x}", c);
		else
			memcpy(out + o, p, l), o += l;
		p += l;
		left -= l;
	}
	out[o] = '\0';
	if ((const char *)p < s + n)
		snprintf(out + o, len - o, "...(%zu bytes)", n);
}

int irc_parse_reason(const char *s, const char **why)
{
	if (!s)
		FAIL("empty reason");
	if (strlen(s) >= IRC_REASON_LEN)
		FAIL("reason is longer than 63 bytes");
	return irc_parse_text(s, IRC_REASON_LEN - 1, why);
}

int irc_parse_ssh_peer(const char *s, struct irc_cidr *out)
{
	char ip[INET6_ADDRSTRLEN];
	size_t n;

	if (!s || !*s)
		return -ENOENT;
	/* sshd writes link-local peers as fe80::1%eth0: drop the zone. */
	n = strcspn(s, " %");
	/* One host, never a prefix: it is allowlisted as it stands. */
	if (n == 0 || n >= sizeof(ip) || memchr(s, '/', n))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	return irc_parse_target(ip, false, out, NULL) ? -EINVAL : 0;
}
