/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The evidence store: SQLite in WAL mode under the state dir.
 *
 * Incidents are a mutable summary.  What happened is in three append-only
 * tables, actions, events and evidence, whose rows share one sequence and
 * form a keyed hash chain: each row's MAC is HMAC-SHA256(host key, previous
 * MAC || the row), and a signed head names the last row.  A row changed,
 * deleted, reordered or cut off the tail no longer verifies.  Every change
 * to an incident is itself an action, so verify can replay the chain and
 * check the incidents table against it.
 */
#ifndef IRC_STORE_H
#define IRC_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "store_defs.h"

struct irc_store;

enum irc_rec_kind {
	IRC_REC_ACTION		= 1,
	IRC_REC_EVENT		= 2,
	IRC_REC_EVIDENCE	= 3,
};
#define IRC_REC_ALL	((1u << IRC_REC_ACTION) | (1u << IRC_REC_EVENT) | \
			 (1u << IRC_REC_EVIDENCE))

/*
 * One chained record.  Entities are written "host:203.0.113.7",
 * "host:10.0.0.0/8", "pid:4242", "cgroup:/sys/fs/cgroup/x": @target is what
 * the record is about, @peer a second entity (the other end, the parent).
 */
struct irc_rec {
	enum irc_rec_kind kind;
	int64_t incident;	/* 0: none */
	int64_t ts_ns;		/* CLOCK_REALTIME; 0: now */
	const char *type;	/* "quarantine", "exec", "snapshot", "packet"... */
	const char *actor;	/* user or detector; NULL: "" */
	const char *target;	/* NULL: "" */
	const char *peer;	/* NULL: "" */
	json_t *body;		/* the record itself (stored compact) */
	const void *data;	/* evidence bytes (packet, file), or NULL */
	size_t data_len;
};

/* A record read back.  Strings and data live until the callback returns. */
struct irc_row {
	int64_t seq;
	enum irc_rec_kind kind;
	int64_t incident;
	int64_t ts_ns;
	const char *type, *actor, *target, *peer;
	const char *body;	/* JSON text */
	const void *data;
	size_t data_len;
	const void *mac;	/* IRC_MAC_LEN bytes, NULL if missing */
};
typedef int (*irc_row_fn)(const struct irc_row *r, void *ctx);

/* Incident lifecycle, in order. */
enum irc_istatus {
	IRC_IS_DETECTED, IRC_IS_TRIAGED, IRC_IS_CONTAINED, IRC_IS_ERADICATED,
	IRC_IS_RECOVERED, IRC_IS_CLOSED, IRC_IS__MAX,
};
const char *irc_istatus_name(int st);
int irc_istatus_parse(const char *s);		/* -EINVAL if unknown */

struct irc_incident {
	int64_t id;
	char title[IRC_TITLE_MAX + 1];
	int severity;		/* enum irc_severity */
	int status;		/* enum irc_istatus */
	char summary[IRC_TEXT_MAX + 1];
	char opened_by[64];
	int64_t created_ns, updated_ns, closed_ns;	/* CLOCK_REALTIME */
};

/*
 * Opens (creating if needed: dir 0700, db and keys 0600) the store under
 * @state_dir, applying migrations.  @create false refuses a missing store
 * with -ENOENT.  Returns 0 or -errno, with the reason in irc_store_errmsg().
 */
int irc_store_open(struct irc_store **sp, const char *state_dir, bool create);
void irc_store_close(struct irc_store *s);
/* What the last failing call on @s (or the last open) found wrong. */
const char *irc_store_errmsg(void);
const char *irc_store_path(const struct irc_store *s);

/*
 * Appends @r to the chain; *@seq gets its sequence number.  Outside a
 * batch it is its own transaction, committed (fsync'd) on return.
 */
int irc_store_append(struct irc_store *s, const struct irc_rec *r, int64_t *seq);
/* A batch: many appends, one commit (the controller's events). */
int irc_store_begin(struct irc_store *s);
int irc_store_commit(struct irc_store *s);
int irc_store_rollback(struct irc_store *s);
/*
 * Checkpoint the WAL whole and truncate it, waiting at most @wait_ms for
 * the readers still in it (new readers read the backfilled database file).
 * With CLI readers always active SQLite's own passive checkpoints never
 * restart the WAL, and it grows without bound.  The wait also ends when
 * @go_on (if not NULL) returns false.  0, -EBUSY (readers stayed: what was
 * copied stays copied, try again later) or -errno.  @wal_frames, if not
 * NULL, gets the frames left in the WAL.
 */
int irc_store_wal_trim(struct irc_store *s, int wait_ms, bool (*go_on)(void *), void *arg,
		       int *wal_frames);

/*
 * Rows of @incident (0: all) of the kinds in @kinds (1 << kind bits), in
 * chain order, with ts_ns in [@from_ns, @to_ns] (0: unbounded).  With
 * @entities (NULL-terminated), rows whose target or peer is one of them
 * are included whatever their incident.  Stops at the first non-zero
 * return of @fn and returns it.
 */
int irc_store_rows(struct irc_store *s, int64_t incident, unsigned int kinds,
		   int64_t from_ns, int64_t to_ns, const char *const *entities,
		   irc_row_fn fn, void *ctx);

/* Incidents.  Each change is also an action row by @actor. */
int irc_incident_open(struct irc_store *s, const char *title, int severity,
		      const char *actor, const char *entity, int64_t *id);
int irc_incident_get(struct irc_store *s, int64_t id, struct irc_incident *out);
/* -ENOENT if no such incident, -EALREADY if it is closed. */
int irc_incident_check_open(struct irc_store *s, int64_t id);
int irc_incident_set_status(struct irc_store *s, int64_t id, int status,
			    const char *actor, const char *text);
/* @fn gets each incident, newest first; @status -1 for all. */
int irc_incident_list(struct irc_store *s, int status,
		      int (*fn)(const struct irc_incident *in, void *ctx), void *ctx);
/*
 * The open incident that @entity appeared in within @window_s seconds of
 * @now_ns, or 0 in *@id.
 */
int irc_incident_find(struct irc_store *s, const char *entity, int64_t now_ns,
		      int64_t window_s, int64_t *id);
/*
 * The distinct targets and peers of @incident's records (actions' targets
 * and peers, events' and evidence's targets), at most
 * IRC_EXPORT_MAX_ENTITIES.
 */
int irc_incident_entities(struct irc_store *s, int64_t id, char ***list, size_t *n);
/*
 * The same as (incident, entity) pairs, for the records with seq in
 * (@after, @upto] that belong to @incident (0: to any incident), at most
 * @limit of them (0: all).
 */
int irc_store_entity_rows(struct irc_store *s, int64_t incident, int64_t after,
			  int64_t upto, size_t limit,
			  void (*fn)(int64_t incident, const char *entity, void *ctx), void *ctx);
/*
 * An incident's attackers, as (incident, entity, ts) for the rows with seq
 * in (@after, @upto] of @incident (0: any incident), at most @limit (0:
 * all): the targets of its findings and actions, the peers of its actions,
 * the children its processes forked, and a reverse shell's relay.  Not
 * the other ends of its events (the server that accepted, the host): a
 * finding joins an incident only through these.
 */
int irc_store_key_rows(struct irc_store *s, int64_t incident, int64_t after, int64_t upto,
		       size_t limit, void (*fn)(int64_t incident, const char *entity,
						int64_t ts_ns, void *ctx), void *ctx);
/*
 * Raises @id's severity to @severity if it is lower (an incident is as
 * severe as its worst finding), with an incident.severity action.
 */
int irc_incident_raise(struct irc_store *s, int64_t id, int severity, const char *actor,
		       const char *why);
/* The chain's last record and the newest incident id (0 if none). */
int irc_store_tip(struct irc_store *s, int64_t *last_seq, int64_t *max_incident);
/* Up to @max incidents not closed, newest first. */
int irc_incident_open_ids(struct irc_store *s, int64_t *ids, size_t max, size_t *n);
/* One read snapshot across several calls; not inside a batch (-EBUSY). */
int irc_store_read_begin(struct irc_store *s);
void irc_store_read_end(struct irc_store *s);
void irc_strv_free(char **v, size_t n);

/*
 * Bounded growth.  The oldest records go when the store uses more than
 * @max_bytes (down to 90% of it) or when they are older than @max_age_s
 * (0: no such limit), at most @max_rows at a time.  What stays: the
 * records of an incident that is not closed, or (with @keep_unexported)
 * of one never exported; from the first of those on, the records of
 * their entities (any record whose target or peer is one); and the newest
 * containment action (quarantine, kill, stop) of each target not released
 * since, which verify looks for while the kernel enforces it.  The records
 * between go, in ranges: the chain gets a gap per range (a range shorter
 * than IRC_STORE_PRUNE_MIN_RUN between two records kept waits; at most
 * IRC_STORE_PRUNE_GAPS gaps).  A closed incident whose opening record went
 * leaves the incidents table.  A "store.prune" action appended in the
 * same transaction seals the cut: the first and last record it removed,
 * how many, the MAC of the last, and every range pruned so far with the
 * MAC at its end and its time, from which verify proves the chain across
 * each gap.
 */
struct irc_prune_limits {
	int64_t max_bytes, max_age_s, max_rows;
	bool keep_unexported;
};
struct irc_prune_result {
	int64_t first, last, count;	/* records removed; count 0: none */
	int64_t incidents;		/* closed incidents removed with them */
	int64_t held_by;		/* an incident whose records the cut kept, or 0 */
	int64_t used_bytes;		/* the store's used size before */
};
int irc_store_prune(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
		    struct irc_prune_result *res);

/* The store as it is: for status. */
struct irc_store_info {
	int64_t file_bytes;		/* the database and its WAL */
	int64_t used_bytes;		/* pages in use */
	int64_t records, first_seq, last_seq;
	int64_t oldest_ns;		/* the oldest record's time, 0 if none */
	int64_t pruned_total, pruned_last, pruned_ns;	/* from the last prune, 0 if none */
	int64_t pruned_ranges;		/* the gaps in the chain */
	char pruned_reason[64];
};
int irc_store_info(struct irc_store *s, struct irc_store_info *info);

/*
 * The type of the newest action on @target among @types (NULL-terminated)
 * into @type; -ENOENT if there is none.
 */
int irc_store_last_action(struct irc_store *s, const char *target, const char *const *types,
			  char *type, size_t len);

/* What verify found. */
struct irc_verify {
	int64_t records;		/* rows checked */
	int64_t actions, events, evidence;
	int64_t head_seq;		/* the signed head's record */
	char head_mac[2 * IRC_MAC_LEN + 1];	/* its MAC, hex: the state to compare later */
	int64_t bad_seq;		/* first broken record, 0 if none */
	char problem[512];		/* what is wrong, "" if intact */
	int64_t incidents;		/* incident rows checked against the chain */
	/*
	 * Pruned: @pruned_total records in all, the last prune at @pruned_ns
	 * up to #@pruned_last; the chain proven across each range gone, the
	 * first IRC_VERIFY_RANGES of them in @ranges.
	 */
	int64_t pruned_total, pruned_last, pruned_ns;
	char pruned_reason[64];
	size_t pruned_ranges;
	struct irc_pruned_range { int64_t first, last, ts_ns; } ranges[IRC_VERIFY_RANGES];
	/* Controller sessions that ended without a clean stop. */
	int unclean;
	char unclean_note[512];
};
/* 0 intact, -EBADMSG with @v->problem set, or another -errno. */
int irc_store_verify(struct irc_store *s, struct irc_verify *v);

/*
 * The host's signing keys, made with a new store; a missing signing.key
 * is -ENOENT unless @create.  @pk is 32 bytes, @sk 64.
 */
int irc_store_sign_keys(const char *state_dir, bool create, uint8_t pk[32], uint8_t sk[64]);

/*
 * The anchor (STATE_DIR/chain.head) names the last committed record
 * outside the database; a write refuses to extend a chain that does not
 * hold it (rolled back, cut, rewritten) or when it is missing or
 * unreadable while records exist.  This records the operator's acceptance
 * of the chain as it is, @problem being what verify found, and moves the
 * anchor onto it.
 */
int irc_store_accept_rollback(struct irc_store *s, const char *actor, const char *problem);
/*
 * True once a commit in this process could not update the anchor: the
 * records are stored, but the command must not report success.
 */
bool irc_store_anchor_failed(void);
/* From now on, wait at most IRC_STORE_STOP_MS for another writer. */
void irc_store_hurry(void);

/* Hex of @n bytes into @out (2n+1). */
void irc_hex(const uint8_t *in, size_t n, char *out);
/*
 * SHA-256 of the file at @path in hex, and its size (@size may be NULL).
 * Read through its descriptor: /proc/PID/exe hashes the binary a process
 * runs even once it was deleted.  Returns 0 or -errno.
 */
int irc_sha256_file(const char *path, char hex[65], long long *size);
/* The same as a JSON string, or JSON null if the file cannot be read. */
json_t *irc_sha256_json(const char *path);
/*
 * The CLI's record of what it did, in its own transaction: opens the store
 * under irc.state_dir, appends an action by the invoking user, closes it.
 * @err is the command's result (0 or -errno).  Returns 0 or -errno after
 * printing a warning naming the store.
 */
int irc_record_action(int64_t incident, const char *type, const char *target,
		      const char *reason, int err, json_t *detail);
/* The invoking user, as actions name it ("alice", "uid 1001"). */
void irc_actor(char *buf, size_t len);
#endif /* IRC_STORE_H */
