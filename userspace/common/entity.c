// SPDX-License-Identifier: GPL-2.0-only
/* Entities as text: "host:", "pid:", "cgroup:", "list:" (entity.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"

static const struct {
	const char *prefix;
	size_t len;
	enum irc_entity_kind kind;
} kinds[] = {
	{ "host:", 5, IRC_ENT_HOST },
	{ "pid:", 4, IRC_ENT_PID },
	{ "cgroup:", 7, IRC_ENT_CGROUP },
	{ "list:", 5, IRC_ENT_LIST },
};

__attribute__((format(printf, 3, 4)))
static int put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int irc_entity_host(char *buf, size_t len, const struct irc_cidr *c)
{
	char norm[IRC_CIDR_STRLEN];

	irc_cidr_format(c, norm, sizeof(norm));
	return irc_entity_addr(buf, len, norm);
}

int irc_entity_addr(char *buf, size_t len, const char *addr)
{
	return put(buf, len, "host:%s", addr);
}

int irc_entity_pid(char *buf, size_t len, unsigned long long pid)
{
	return put(buf, len, "pid:%llu", pid);
}

int irc_entity_cgroup(char *buf, size_t len, const char *path)
{
	return put(buf, len, "cgroup:%s", path);
}

int irc_entity_list(char *buf, size_t len, const char *sha256_hex)
{
	return put(buf, len, "list:sha256:%s", sha256_hex);
}

enum irc_entity_kind irc_entity_parse(const char *e, const char **rest)
{
	size_t i;

	for (i = 0; e && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(e, kinds[i].prefix, kinds[i].len)) {
			if (rest)
				*rest = e + kinds[i].len;
			return kinds[i].kind;
		}
	if (rest)
		*rest = NULL;
	return IRC_ENT_UNKNOWN;
}

int irc_entity_pid_of(const char *e)
{
	const char *p;
	char *end;
	long v;

	if (irc_entity_parse(e, &p) != IRC_ENT_PID)
		return 0;
	v = strtol(p, &end, 10);
	return end == p || *end || v <= 0 || v > 0x7fffffff ? 0 : (int)v;
}

const char *irc_entity_host_of(const char *e)
{
	const char *p;

	return irc_entity_parse(e, &p) == IRC_ENT_HOST && *p ? p : NULL;
}
