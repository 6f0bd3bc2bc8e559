// SPDX-License-Identifier: GPL-2.0-only
/* Context, error reporting, clocks, actor and privilege checks. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include <linux/types.h>

#include "ircontain/abi.h"
#include "irc.h"
#include "parse.h"

struct irc_ctx irc;

const char *irc_shown(const char *s)
{
	static __thread char buf[4][160];
	static __thread unsigned int next;
	char *out = buf[next++ % 4];

	irc_escape(s ?: "", 48, out, sizeof(buf[0]));
	return out;
}

static void vreport(const char *fmt, va_list ap, bool json)
{
	char raw[1024], msg[4096];

	/*
	 * Whatever a bad value held, an error is one line of valid UTF-8
	 * that shows what is there (and a JSON error object can hold it).
	 */
	vsnprintf(raw, sizeof(raw), fmt, ap);
	irc_escape(raw, sizeof(raw), msg, sizeof(msg));
	fprintf(stderr, "ircontain: %s\n", msg);
	if (json)
		irc_json_print(json_pack("{s:s}", "error", msg));
}

void irc_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, irc.json);
	va_end(ap);
}

int irc_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, irc.json);
	va_end(ap);
	return IRC_EXIT_USAGE;
}

void irc_info(const char *fmt, ...)
{
	va_list ap;

	if (!irc.verbose)
		return;
	va_start(ap, fmt);
	fputs("ircontain: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void irc_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ircontain: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void irc_json_print(json_t *obj)
{
	if (!obj)
		return;
	json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(obj);
}

int irc_exit_from(int err)
{
	if (err == 0)
		return IRC_EXIT_OK;
	return err == -EINVAL ? IRC_EXIT_USAGE : IRC_EXIT_FAIL;
}

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t irc_now_real_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

uint64_t irc_now_boot_ns(void)
{
	return now_ns(CLOCK_BOOTTIME);
}

void irc_fmt_utc(uint64_t real_ns, char *buf, size_t len)
{
	time_t t = real_ns / 1000000000ULL;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint32_t irc_actor_uid(void)
{
	const char *s = getenv("SUDO_UID");
	uint64_t v;

	/* SUDO_UID is only believed from a root process sudo started. */
	if (getuid() == 0 && s && !irc_parse_u64(s, 0, UINT32_MAX - 1, &v, NULL))
		return v;
	return getuid();
}

void irc_actor_name(uint32_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (!getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "uid %u", uid);
}

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

int irc_require_privileges(const char *action)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	if (geteuid() == 0)
		return 0;
	if (!syscall(SYS_capget, &hdr, data) &&
	    (has_cap(data, CAP_BPF) || has_cap(data, CAP_SYS_ADMIN)) &&
	    has_cap(data, CAP_NET_ADMIN))
		return 0;
	irc_err("%s: permission denied: needs root, or CAP_BPF and CAP_NET_ADMIN (try sudo)",
		action);
	return -EPERM;
}

static const char *const stat_names[IRC_STAT__MAX] = {
	[IRC_STAT_RX_PASS]	= "rx_pass",
	[IRC_STAT_RX_ALLOW]	= "rx_allow",
	[IRC_STAT_RX_DROP_QUAR]	= "rx_drop_quarantine",
	[IRC_STAT_RX_DROP_ISO]	= "rx_drop_isolate",
	[IRC_STAT_TX_PASS]	= "tx_pass",
	[IRC_STAT_TX_ALLOW]	= "tx_allow",
	[IRC_STAT_TX_DROP_QUAR]	= "tx_drop_quarantine",
	[IRC_STAT_TX_DROP_ISO]	= "tx_drop_isolate",
	[IRC_STAT_NON_IP]	= "non_ip",
	[IRC_STAT_MALFORMED]	= "malformed",
	[IRC_STAT_EXPIRED]	= "expired",
	[IRC_STAT_PROC_DENY]	= "proc_denied",
	[IRC_STAT_PROC_DROP]	= "proc_dropped",
};
_Static_assert(IRC_STAT__MAX == 13, "name every counter in stat_names");

const char *irc_stat_name(unsigned int i)
{
	return i < IRC_STAT__MAX ? stat_names[i] : "unknown";
}
