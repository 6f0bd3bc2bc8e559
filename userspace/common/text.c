// SPDX-License-Identifier: GPL-2.0-only
/* Text encodings every part writes: timestamps, UTF-8 checks, base64. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "text.h"

int irc_b64(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	if (outlen < 4 * ((n + 2) / 3) + 1)
		return -ENOSPC;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

void irc_fmt_ts(int64_t real_ns, char *buf, size_t len)
{
	time_t t = real_ns / 1000000000LL;
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(real_ns / 1000000 % 1000));
}

/* Length of the valid UTF-8 sequence at @s (RFC 3629), 0 if invalid. */
size_t irc_utf8_len(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], need, cp, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	if (n <= need)
		return 0;
	cp = c & (0x3f >> need);
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need + 1;
}
