// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the policy parser (policy.c) on any bytes.  A policy
 * it refuses must give at least one error, each with a message and a line
 * inside the text (or the line after its end).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct irc_policy p;
	struct irc_policy_errors e;
	size_t lines = 1, i;
	int err;

	if (size > IRC_POLICY_MAX_BYTES)
		return 0;
	err = irc_policy_parse((const char *)data, size, &p, &e);
	if (err && err != -EINVAL && err != -ENOMEM)
		abort();
	if (err == -EINVAL && e.n == 0)
		abort();
	/* YAML breaks lines at \n, \r, NEL (U+0085), LS and PS (U+2028/9): at most these. */
	for (i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 ||
			 data[i] == 0xa8 || data[i] == 0xa9;
	for (i = 0; i < (size_t)e.n; i++)
		if (e.line[i] < 0 || (size_t)e.line[i] > lines + 1 || !e.msg[i][0])
			abort();
	return 0;
}
