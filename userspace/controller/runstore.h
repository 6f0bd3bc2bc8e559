/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The controller's side of the evidence store.  Every record the daemon
 * reads from the ring buffer also goes into the store, in batches (one
 * commit, one fsync, per IRC_STORE_BATCH records or IRC_STORE_BATCH_MS);
 * findings open or join incidents; the daemon's start and clean stop are
 * actions, so verify can tell a session that ended without one.  A store
 * error is counted and reported, never fatal: the daemon goes on.
 */
#ifndef IRC_RUNSTORE_H
#define IRC_RUNSTORE_H
#include <stddef.h>
#include <jansson.h>

#include "evjson.h"
#include "run.h"

struct irc_runstore;

/*
 * Opens the store under @state_dir.  @ev gives the clock offset, @st the
 * counters it adds to.  Returns 0 or -errno, with the reason in
 * irc_store_errmsg().
 */
int irc_rs_open(struct irc_runstore **rsp, const char *state_dir,
		const struct irc_evctx *ev, struct irc_run_stats *st);

/*
 * Which events the store keeps.  ALL: every record (the default of
 * irc_rs_open).  RELATED: ordinary events (exec, fork, exit, connect,
 * accept) only when they touch an open incident's entity or a process in
 * quarantine (@qpid_fd, the pinned irc_qpid, or -1); the rest stay in the
 * events file alone.  Findings, actions, evidence, drops, denials and
 * gaps are always kept.
 */
enum irc_rs_events { IRC_RS_EVENTS_ALL, IRC_RS_EVENTS_RELATED };
void irc_rs_set_events(struct irc_runstore *rs, enum irc_rs_events events, int qpid_fd);

/*
 * From now on the store is written by a thread of its own: the caller's
 * irc_rs_record() and irc_rs_gap() only queue (IRC_STORE_QUEUE records at
 * most; beyond that a record is counted in queue_lost and a gap record
 * says how many), so a slow commit never stalls the reader.  The store
 * counters in the caller's stats are brought up to date by irc_rs_tick().
 * A thread of its own fdatasyncs @sync_fd (the events file; -1: none) once
 * a second, and once more at the stop.  Returns 0 or -errno.
 */
int irc_rs_async(struct irc_runstore *rs, int sync_fd);

/*
 * The store's bounds: the writer thread prunes by them (irc_store_prune)
 * once every IRC_STORE_PRUNE_S, at most IRC_STORE_PRUNE_ROWS at a time.
 */
struct irc_prune_limits;
void irc_rs_set_prune(struct irc_runstore *rs, const struct irc_prune_limits *l);

/* Appends the "run.start" action (committed on return). */
int irc_rs_start(struct irc_runstore *rs, const char *boot_id);

/*
 * One ring-buffer record and its JSON line (@n bytes at @line, borrowed:
 * the events file's line, irc_ev_line()).  An ordinary event keeps the
 * text and is parsed only if it is stored.  For a process finding it
 * takes the snapshot of the process now, before the caller changes
 * anything about it.
 */
void irc_rs_record(struct irc_runstore *rs, const void *rec, size_t len, const char *line,
		   size_t n);

/*
 * The snapshot of process @tgid, which detector @detector had the kernel
 * stop for contain-then-kill, as its finding's would be (a finding the
 * controller never read: ring buffer loss, a controller restart).
 */
void irc_rs_snapshot(struct irc_runstore *rs, __u32 tgid, __u32 detector);

/* A gap marker (its line, borrowed). */
void irc_rs_gap(struct irc_runstore *rs, const char *line, size_t n);

struct irc_policy;
/*
 * The daemon applied (or was refused) the policy file @path, at start or
 * on SIGHUP (@trigger): a "policy.apply" action by the daemon, after what
 * is pending.  @p is the parsed policy, NULL if it did not parse.
 */
void irc_rs_policy(struct irc_runstore *rs, const char *path, const struct irc_policy *p,
		   int err, const char *trigger);

/*
 * One record of the daemon's own (@kind: enum irc_rec_kind) by @actor (NULL:
 * the daemon), after what is pending; @body is taken.  @type and @actor
 * must be static strings: with a writer thread the record is queued.
 */
void irc_rs_append(struct irc_runstore *rs, int kind, const char *type, const char *actor,
		   const char *target, json_t *body);

/*
 * The store connection, everything pending committed first, for reading;
 * NULL once a writer thread owns it (irc_rs_async).
 */
struct irc_store;
struct irc_store *irc_rs_store(struct irc_runstore *rs);

/*
 * Once per poll: commits a batch that is old enough, refreshes the cache;
 * with a writer thread, takes its counters.
 */
void irc_rs_tick(struct irc_runstore *rs);

/*
 * Commits what is pending; with @why (a clean stop: "signal", "error")
 * appends the "run.stop" action with the counters; closes.
 */
void irc_rs_close(struct irc_runstore *rs, const char *why);

#endif /* IRC_RUNSTORE_H */
