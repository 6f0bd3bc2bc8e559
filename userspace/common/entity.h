/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entities: what a record, an incident or a replayed action is about, as
 * text.  Built and taken apart here only:
 *
 *   host:ADDR[/PLEN]   an address or prefix, as irc_cidr_format() writes it
 *   pid:N              a process (its thread group id)
 *   cgroup:PATH        a cgroup v2 directory, by absolute path
 *   list:sha256:HEX    a blocklist applied by one command
 *
 * IRC_ENTITY_LEN holds any of them.  The builders return 0, or
 * -ENAMETOOLONG when @len was too short (the text is then cut, as
 * snprintf() cuts it).
 */
#ifndef IRC_ENTITY_H
#define IRC_ENTITY_H

#include <limits.h>
#include <stddef.h>

#include "parse.h"

#define IRC_ENTITY_LEN	(sizeof("cgroup:") + PATH_MAX)

enum irc_entity_kind {
	IRC_ENT_UNKNOWN,
	IRC_ENT_HOST,
	IRC_ENT_PID,
	IRC_ENT_CGROUP,
	IRC_ENT_LIST,
};

int irc_entity_host(char *buf, size_t len, const struct irc_cidr *c);
/* "host:" and an address already in text (as inet_ntop or a record wrote it). */
int irc_entity_addr(char *buf, size_t len, const char *addr);
int irc_entity_pid(char *buf, size_t len, unsigned long long pid);
int irc_entity_cgroup(char *buf, size_t len, const char *path);
int irc_entity_list(char *buf, size_t len, const char *sha256_hex);

/* The kind of @e, and in *@rest (when not NULL) what follows its prefix. */
enum irc_entity_kind irc_entity_parse(const char *e, const char **rest);
/* "pid:42" -> 42; 0 for anything else, a pid out of 1..INT_MAX included. */
int irc_entity_pid_of(const char *e);
/* "host:a.b.c.d" -> "a.b.c.d"; NULL for anything else or an empty address. */
const char *irc_entity_host_of(const char *e);

#endif /* IRC_ENTITY_H */
