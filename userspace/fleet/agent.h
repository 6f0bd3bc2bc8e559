/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fleet agent inside `ircontain run --fleet ...`.
 *
 * A thread of its own follows etcd: on every (re)connection it reads the
 * whole prefix at the current revision, then watches from the next one;
 * a compacted revision or a lost connection starts that over (with
 * backoff while etcd does not answer).  Another thread keeps the agent's
 * heartbeat on a lease.  Neither touches the kernel: the controller's
 * thread calls irc_agent_tick() once a poll, which applies what came in
 * through the same code path as `quarantine host` (irc_hostq_apply: the
 * anti-lockout rules hold) and records each change with the fleet actor
 * and the etcd revision.  Losing etcd changes nothing in the kernel; an
 * entry leaves only by a signed release or its wall-clock expiry.
 */
#ifndef IRC_AGENT_H
#define IRC_AGENT_H

#include <stdint.h>
#include <jansson.h>

#include "etcd.h"
#include "parse.h"
#include "policy.h"

struct irc_agent;

struct irc_agent_ops {
	void *ctx;
	/*
	 * One change or refusal: a JSON line and a store record (@kind enum
	 * irc_rec_kind, @type static, @actor interned: lives as long as the
	 * process; @body taken).
	 */
	void (*record)(void *ctx, int kind, const char *type, const char *actor,
		       const char *target, json_t *body);
	/* A fleet policy, valid, to put in force as `run --policy` would; 0 or -errno. */
	int (*policy)(void *ctx, const struct irc_policy *p);
};

/* What the controller knows that the heartbeat tells. */
struct irc_agent_local {
	uint64_t events_lost;
	uint64_t store_errors;
};

/* Starts the threads; 0 or -errno after printing. */
int irc_agent_start(struct irc_agent **ap, const struct irc_etcd_cfg *cfg,
		    const struct irc_agent_ops *ops);
/* The controller's thread: applies what came in. */
void irc_agent_tick(struct irc_agent *a, const struct irc_agent_local *l);
/*
 * The controller's thread: @src, a verified source a network detector
 * quarantined here, to publish as a fleet quarantine for @ttl_s
 * (`fleet: share_findings` in the policy).  Queued (a few; more are
 * counted and dropped): the heartbeat thread signs it with this host's
 * signing.key and puts it, never the controller's thread.
 */
void irc_agent_share(struct irc_agent *a, const struct irc_cidr *src, const char *detector,
		     uint64_t ttl_s);
/* The agent's state for run.json and metrics; a new reference. */
json_t *irc_agent_json(struct irc_agent *a);
void irc_agent_stop(struct irc_agent *a);

#endif /* IRC_AGENT_H */
