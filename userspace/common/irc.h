/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared userspace context, exit codes, error reporting and clocks.
 */
#ifndef IRC_H
#define IRC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/* Exit codes of the ircontain binary. */
enum {
	IRC_EXIT_OK	= 0,
	IRC_EXIT_FAIL	= 1,	/* the command could not be carried out */
	IRC_EXIT_USAGE	= 2,	/* bad usage or a bad value: nothing changed */
	IRC_EXIT_DEGRADED = 3,	/* status: loaded, but a part is not attached */
};

struct irc_ctx {
	const char *pin_dir;
	const char *state_dir;
	const char *cgroup_root;
	bool json;
	int verbose;
};

extern struct irc_ctx irc;

/*
 * One line on stderr, "ircontain: <what>"; under --json also
 * {"error": "<what>"} on stdout so a caller parsing stdout sees it.
 */
void irc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like irc_err, returns IRC_EXIT_USAGE: for bad values and options. */
int irc_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A value an operator gave, made fit for a message: escaped and cut
 * (irc_escape(), 48 bytes).  Four calls may share one message.
 */
const char *irc_shown(const char *s);
/* Informational line on stderr (-v only). */
void irc_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning line on stderr, always. */
void irc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints @obj as one JSON line on stdout and drops the reference. */
void irc_json_print(json_t *obj);

/* The name of counter @i (enum irc_stat), as status prints it. */
const char *irc_stat_name(unsigned int i);

/* Maps a -errno from an internal call to an exit code. */
int irc_exit_from(int err);

/* Clocks, in ns. */
uint64_t irc_now_real_ns(void);
uint64_t irc_now_boot_ns(void);

/* "2026-11-30T03:00:00Z" for a CLOCK_REALTIME ns value. */
void irc_fmt_utc(uint64_t real_ns, char *buf, size_t len);

/*
 * The person behind this invocation: SUDO_UID when root runs under sudo,
 * otherwise the real uid.  irc_actor_name() gives the user name or "uid N".
 */
uint32_t irc_actor_uid(void);
void irc_actor_name(uint32_t uid, char *buf, size_t len);

/*
 * Refuses early, with one clear line, when the caller lacks the privileges
 * for @action (root, or CAP_BPF and CAP_NET_ADMIN).  Returns 0 or -EPERM.
 */
int irc_require_privileges(const char *action);

#endif /* IRC_H */
