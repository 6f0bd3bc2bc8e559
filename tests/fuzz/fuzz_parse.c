// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the operator input parsers (parse.c): addresses and
 * prefixes, targets, durations, numbers, interface names, directions,
 * reasons and free text, and the escaping of bad values for messages.
 * Each parse that succeeds must format back to something that parses to
 * the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[IRC_CIDR_STRLEN], esc[256];
	struct irc_cidr c, c2;
	const char *why;
	uint64_t v;
	uint32_t dir;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!irc_parse_cidr(s, true, &c, &why)) {
		if (irc_cidr_format(&c, buf, sizeof(buf)) || irc_parse_cidr(buf, true, &c2, &why) ||
		    c2.family != c.family || c2.plen != c.plen || memcmp(c2.addr, c.addr, 16))
			abort();
		if (!irc_cidr_contains(&c, &c) || !irc_cidr_overlap(&c, &c))
			abort();
	}
	if (!irc_parse_target(s, false, &c, &why) && c.family != AF_INET && c.family != AF_INET6)
		abort();
	if (!irc_parse_duration(s, &v, &why)) {
		uint64_t v2;

		if (irc_format_duration(v, buf, sizeof(buf)) || irc_parse_duration(buf, &v2, &why) ||
		    v2 != v)
			abort();
	}
	irc_parse_u64(s, 0, UINT64_MAX, &v, &why);
	irc_parse_ifname(s, &why);
	irc_parse_direction(s, &dir, &why);
	irc_parse_reason(s, &why);
	irc_parse_text(s, size, &why);
	irc_parse_ssh_peer(s, &c);
	irc_escape(s, 48, esc, sizeof(esc));
	if (strlen(esc) >= sizeof(esc))
		abort();
	/* What a message shows of a value always passes the text check. */
	if (irc_parse_text(esc, sizeof(esc), &why))
		abort();
	free(s);
	return 0;
}
