/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One host or prefix quarantine into the kernel: the anti-lockout checks,
 * the map write, and the check that something enforces it.  The one code
 * path of `quarantine host` and of the fleet agent.
 */
#ifndef IRC_HOSTQ_H
#define IRC_HOSTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "parse.h"

struct irc_maps;

struct irc_hostq {
	struct irc_cidr target;
	const char *arg;		/* as the operator wrote it, for messages */
	uint64_t expires_ns;		/* CLOCK_BOOTTIME, 0: none */
	/*
	 * CLOCK_REALTIME of the decision (a fleet entry's signing time), kept
	 * in the entry; 0: the existing entry's, or now.
	 */
	uint64_t created_ns;
	uint32_t dir;			/* enum irc_dir */
	uint32_t origin;		/* enum irc_origin */
	uint32_t actor_uid;
	const char *reason;
	bool force;			/* past the SSH-session and allowlist checks */
	bool protect;			/* also refuse the host's own addresses, gateways,
					   resolvers and operators' sessions (irc_protect) */
	/*
	 * Called right after the map write (@err its result): what the
	 * caller keeps off the containment path.  A non-zero return undoes
	 * a successful write (IRC_HQ_FAILED, *err -ECANCELED; the callback
	 * has said why).  NULL: nothing.
	 */
	int (*after_write)(void *ctx, int err);
	void *ctx;
};

enum irc_hostq_result {
	IRC_HQ_ADDED,
	IRC_HQ_UPDATED,
	IRC_HQ_UNCHANGED,		/* the same entry was there: nothing written */
	IRC_HQ_REFUSED,			/* an anti-lockout rule: *@why says which */
	IRC_HQ_FAILED,			/* *@err and *@why say why */
};

/*
 * Applies @q.  @m needs the map of @q's target, the allowlist, irc_ifaces
 * and, with @q->protect, irc_protect.  With @same_ok an entry equal in origin, direction, reason
 * and expiry (to the second) is left as it is (IRC_HQ_UNCHANGED).  @why
 * gets one line for the operator.  Warnings (--force past a rule) are
 * printed.
 */
int irc_hostq_apply(const struct irc_maps *m, const struct irc_hostq *q, bool same_ok,
		    int *err, char *why, size_t len);

/*
 * Removes the entry for @t if its origin is @origin (any origin if
 * @origin < 0) and, with @decided_ns, if it was decided no later than
 * that: a release never lifts a quarantine decided after it (a replayed
 * one).  0, -ENOENT (none), -EPERM (another origin's), -ESTALE (decided
 * later) or -errno.
 */
int irc_hostq_release(const struct irc_maps *m, const struct irc_cidr *t, int origin,
		      uint64_t decided_ns);

#endif /* IRC_HOSTQ_H */
