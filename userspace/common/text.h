/* SPDX-License-Identifier: GPL-2.0-only */
/* Text encodings every part writes: timestamps, UTF-8 checks, base64. */
#ifndef IRC_TEXT_H
#define IRC_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-30T03:00:00.123Z" for a CLOCK_REALTIME ns value. */
void irc_fmt_ts(int64_t real_ns, char *buf, size_t len);

/* Length of the valid UTF-8 sequence at @s (of @n bytes), 0 if invalid. */
size_t irc_utf8_len(const unsigned char *s, size_t n);
/* Standard base64 of @n bytes; returns 0 or -ENOSPC. */
int irc_b64(const uint8_t *in, size_t n, char *out, size_t outlen);

#endif /* IRC_TEXT_H */
