/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsers for everything an operator types: addresses and prefixes,
 * durations, interface names, numbers.  Pure functions, no I/O, so they are
 * unit-tested without root.  Each returns 0 or -EINVAL/-ERANGE and, on
 * failure, points *why at a static phrase that says what is wrong.
 */
#ifndef IRC_PARSE_H
#define IRC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct irc_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; IPv4 uses the first 4 */
	unsigned int plen;	/* 0..32 or 0..128 */
};

/* Longest text irc_cidr_format() writes, NUL included. */
#define IRC_CIDR_STRLEN	(46 + 4)

/*
 * "ADDR" or "ADDR/PLEN", IPv4 or IPv6.  A bare address is a host (/32 or
 * /128).  Host bits set below the prefix are refused (a typo would widen
 * or shift the quarantine); so is /0 unless @allow_zero.
 */
int irc_parse_cidr(const char *s, bool allow_zero, struct irc_cidr *out,
		   const char **why);

/*
 * A target an operator names (quarantine, release, allowlist): as
 * irc_parse_cidr, and an IPv4-mapped IPv6 address or prefix
 * (::ffff:a.b.c.d[/96-128]) becomes the IPv4 one, the only form packets
 * are matched in.
 */
int irc_parse_target(const char *s, bool allow_zero, struct irc_cidr *out,
		     const char **why);

/* Writes "ADDR" for a host, "ADDR/PLEN" otherwise.  Returns 0 or -ENOSPC. */
int irc_cidr_format(const struct irc_cidr *c, char *buf, size_t len);

bool irc_cidr_is_host(const struct irc_cidr *c);

/* True if @outer contains every address of @inner (same family). */
bool irc_cidr_contains(const struct irc_cidr *outer,
		       const struct irc_cidr *inner);

/* True if the two prefixes share any address. */
bool irc_cidr_overlap(const struct irc_cidr *a, const struct irc_cidr *b);

/*
 * Duration: "90", "90s", "15m", "2h", "7d", "1w", or a sum such as
 * "1h30m".  A bare number is seconds.  Must be > 0 and <= IRC_MAX_TTL_SEC.
 */
int irc_parse_duration(const char *s, uint64_t *sec, const char **why);

/*
 * Size in bytes: "1048576", "512K", "100M", "1G", "1T" (powers of 1024),
 * from @min to @max.
 */
int irc_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *bytes,
		   const char **why);

/* Writes e.g. "1h30m", "2s", "7d"; 0 is written as "0s". */
int irc_format_duration(uint64_t sec, char *buf, size_t len);

/* Interface name as the kernel accepts it (dev_valid_name()). */
int irc_parse_ifname(const char *s, const char **why);

/* Unsigned decimal in [min, max]; no sign, no trailing text. */
int irc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		  const char **why);

/* "in", "out" or "both" -> enum irc_dir bits. */
int irc_parse_direction(const char *s, uint32_t *dir, const char **why);
/* And back: "in", "out", "both" for enum irc_dir bits. */
const char *irc_dir_name(uint32_t dir);

/* Free text for --reason: as irc_parse_text, shorter than IRC_REASON_LEN. */
int irc_parse_reason(const char *s, const char **why);

/*
 * Text an operator gives that ends up in records, reports and terminals
 * (reason, title, note, summary, cgroup path): at most @max bytes of valid
 * UTF-8 (no overlong forms, no surrogates), without C0 or C1 control
 * characters (tab and newline included) or the bidirectional overrides
 * and isolates (U+202A-U+202E, U+2066-U+2069) that make a terminal or a
 * browser show text in another order than it is stored.  Empty is legal.
 */
int irc_parse_text(const char *s, size_t max, const char **why);

/*
 * Length of the valid UTF-8 sequence at @s (at most @n bytes) with its
 * code point in *@cp, or 0 if @s does not start one.
 */
size_t irc_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * @s as one safe line for a message: printable text kept, anything
 * irc_parse_text refuses written as \xNN (bytes) or \u{N} (characters),
 * and past @cap bytes of input cut with "...(N bytes)".  Always
 * NUL-terminated within @len.
 */
void irc_escape(const char *s, size_t cap, char *out, size_t len);

/*
 * The client address of an SSH session from $SSH_CONNECTION
 * ("CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT").  A v4-mapped IPv6
 * address is returned as IPv4.  -ENOENT when @s is NULL or empty.
 */
int irc_parse_ssh_peer(const char *s, struct irc_cidr *out);

#endif /* IRC_PARSE_H */
