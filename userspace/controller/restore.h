/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The desired state, replayed from the evidence store, and its restore
 * into the kernel maps.
 *
 * The store is the source of truth for what should be contained: every
 * quarantine, release, allowlist change and isolation switch is an action
 * row in the hash chain.  Replaying the actions in chain order gives what
 * is in force now (no separate table that could disagree with the chain).
 * `load` restores it after a reboot or an unload, with TTLs measured on the
 * wall clock; the controller applies cgroup quarantines whose cgroup did
 * not exist yet when it appears.  Every restored entry is itself an action,
 * by the actor "restore".
 */
#ifndef IRC_RESTORE_H
#define IRC_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>

#include "ircontain/abi.h"
#include "parse.h"
#include "pins.h"

#define IRC_RESTORE_ACTOR	"restore"

/* What one wanted entry is about. */
enum irc_want_kind {
	IRC_WANT_HOST,		/* host or prefix quarantine */
	IRC_WANT_CGROUP,	/* cgroup quarantine, by path */
	IRC_WANT_PID,		/* process quarantine: cannot outlive its process */
	IRC_WANT_ALLOW,		/* allowlist entry ('allow add') */
};

struct irc_want_ent {
	int kind;		/* enum irc_want_kind */
	bool live;		/* false once released */
	char *entity;		/* "host:...", "cgroup:...", "pid:N"; owned (a cgroup path
				 * may be as long as PATH_MAX: a fixed field cut it
				 * and its release then matched nothing) */
	struct irc_cidr cidr;	/* HOST, ALLOW */
	int64_t set_ns;		/* CLOCK_REALTIME of the action that set it */
	int64_t created_ns;	/* first set (the kernel entry's created_ns) */
	int64_t expires_ns;	/* CLOCK_REALTIME; 0 = no expiry */
	int64_t incident;
	__u32 dir;		/* HOST: enum irc_dir */
	__u32 uid;
	__u32 origin;		/* enum irc_origin */
	__u32 detector;		/* origin detector: enum irc_detector */
	char reason[IRC_REASON_LEN];
	char actor[64];
};

struct irc_want {
	struct irc_want_ent *ent;
	size_t n, cap;
	/* Open-addressing index: entity -> ent[], so replay is O(actions). */
	int32_t *idx;
	size_t idx_cap;
	/* Isolation. */
	bool isolate;
	__u32 iso_flags;	/* IRC_CFG_ISO_DNS | IRC_CFG_ISO_DHCP */
	int64_t iso_since_ns;
	int64_t iso_incident;
	struct irc_cidr *iso_allow;
	size_t n_iso_allow;
	int64_t actions;	/* action rows replayed */
};

struct irc_store;
/* Replays every action of @s in chain order.  0 or -errno. */
int irc_want_collect(struct irc_store *s, struct irc_want *w);
void irc_want_free(struct irc_want *w);

/* Counts of what a restore did, for the report. */
struct irc_restore_report {
	int hosts, allows, cgroups, isolate;	/* restored */
	int expired;		/* not restored: expired while not loaded */
	int pending;		/* cgroups that do not exist yet */
	int ended;		/* process quarantines ended */
	int present;		/* already in the kernel: left as they are */
	int failed;		/* could not be written (table full...) */
	int record_errors;	/* restored but not recorded */
};

/*
 * Where the restore's own records go: an action by "restore" each.
 * @record returns 0 or -errno; @body is the callee's.
 */
struct irc_restore_sink {
	void *ctx;
	int (*record)(void *ctx, const char *type, const char *target, int64_t incident,
		      json_t *body);
};

/*
 * Writes into the maps @m everything @w wants that the kernel lacks, and
 * records an action for each through @sink (NULL: none).  Prints one line
 * per entry (stdout, or stderr under --json) unless @quiet.  With
 * @only_cgroups only the cgroup quarantines are considered (the controller,
 * when a cgroup appears).  Returns 0 or the first -errno of a kernel write.
 */
int irc_restore(const struct irc_maps *m, const struct irc_restore_sink *sink,
		const struct irc_want *w, bool only_cgroups, bool quiet,
		struct irc_restore_report *rep);

/*
 * Fail closed: isolation on, nothing exempt but the allowlist already in
 * the maps.  @why goes into the log.  0 or -errno.
 */
int irc_restore_fail_closed(const struct irc_maps *m, const char *why);

/* Cgroup quarantines of @w still waiting for their cgroup. */
size_t irc_want_pending_cgroups(const struct irc_want *w, const struct irc_maps *m);

#endif /* IRC_RESTORE_H */
