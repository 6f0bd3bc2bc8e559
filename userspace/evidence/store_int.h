/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the evidence store (evidence/ only; callers use store.h): the
 * handle, and what its files share.
 *   store.c           open and close, the schema, the write lock, the chain
 *                     (MACs, head, anchor), transactions, appends
 *   store_keys.c      host keys and hashing
 *   store_read.c      records read back: rows, entities, the tip
 *   store_incident.c  the incidents table and its records
 *   store_prune.c     pruning and the store's size and range
 *   store_verify.c    verification: the chain walked, incidents replayed
 */
#ifndef IRC_STORE_INT_H
#define IRC_STORE_INT_H
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

struct irc_store {
	sqlite3 *db;
	uint8_t key[IRC_MAC_LEN];
	bool in_batch;
	/*
	 * The chain head as this transaction sees it: read once when the
	 * transaction starts appending, written back once at commit.
	 */
	bool head_valid, head_dirty;
	int64_t head_seq;
	uint8_t head_mac[IRC_MAC_LEN];
	sqlite3_stmt *ins[IRC_REC_EVIDENCE + 1];	/* INSERT per table, kept */
	int dirfd;		/* the state dir, checked (owned.h); its flock is the write lock */
	bool locked;		/* we hold it */
	bool accepting;		/* irc_store_accept_rollback(): the anchor is being moved back */
	bool anchor_new;	/* this transaction makes the first anchor */
	char dir[PATH_MAX];
	char path[PATH_MAX];
};

/* irc_store_errmsg()'s text. */
#define IRC_ST_ERRMSG_LEN	600
extern char irc_st_errmsg[IRC_ST_ERRMSG_LEN];
/* Keeps the message and returns @err. */
int irc_st_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An SQLite failure as -errno, its text kept for the caller. */
int irc_st_dbfail(struct irc_store *s, const char *what);
int irc_st_exec(struct irc_store *s, const char *sql, const char *what);
/* Steps @st once expecting no row, and finalizes it. */
int irc_st_step_done(struct irc_store *s, sqlite3_stmt *st, const char *what);
/*
 * Steps @st through its rows, each given to @row until one returns non-zero
 * (returned), and finalizes it; a failed step is irc_st_dbfail(@what).
 */
int irc_st_each(struct irc_store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx),
		void *ctx, const char *what);

/* The table of each record kind. */
extern const char *const irc_st_tables[IRC_REC_EVIDENCE + 1];

/* The chain (store.c). */
void irc_st_row_mac(const uint8_t *key, const uint8_t prev[IRC_MAC_LEN],
		    const struct irc_row *r, uint8_t out[IRC_MAC_LEN]);
void irc_st_head_sig(const uint8_t *key, int64_t seq, const uint8_t mac[IRC_MAC_LEN],
		     uint8_t out[IRC_MAC_LEN]);
int irc_st_head_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
		     uint8_t sig[IRC_MAC_LEN], bool *found);
int irc_st_head_load(struct irc_store *s);
/* Reads the record @seq's MAC; -ENOENT if no table holds it. */
int irc_st_record_mac(struct irc_store *s, int64_t seq, uint8_t mac[IRC_MAC_LEN]);
/* Inside a transaction (irc_store_begin): one row, chained to the head. */
int irc_st_append(struct irc_store *s, const struct irc_rec *r, int64_t *seqp);

/* The anchor as read: err is 0 or what made it unreadable. */
struct anchor {
	int err;
	int64_t seq;
	uint8_t mac[IRC_MAC_LEN], sig[IRC_MAC_LEN];
};

int irc_st_anchor_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
		       uint8_t sig[IRC_MAC_LEN]);
int irc_st_anchor_check(struct irc_store *s, const struct anchor *a, int64_t head_seq,
			char *problem, size_t len, int64_t *bad_seq);

/* Host keys (store_keys.c). */
int irc_st_key_load(const char *dir, const char *name, uint8_t *key, size_t len,
		    bool create, void (*gen)(uint8_t *key));
void irc_st_gen_hmac_key(uint8_t *key);

/* Incidents (store_incident.c). */
#define INC_COLS "id, title, severity, status, summary, opened_by, created_ns, updated_ns, closed_ns"
int irc_st_incident_row(sqlite3_stmt *st, struct irc_incident *in);

/* Pruning (store_prune.c). */
/* A range of records pruned: @mac is the MAC of its last, @ts_ns when it was cut. */
struct gap {
	int64_t first, last, ts_ns;
	uint8_t mac[IRC_MAC_LEN];
};
/*
 * The last prune's seal, as its record (#@seq) says; verify proves the
 * record.  @gaps: every range pruned so far, in order (a seal written
 * before ranges existed names one: #1 to its last).  @bad: unusable.
 */
struct seal {
	int64_t seq, last, total, ts_ns;
	char reason[64];
	bool found, bad;
	struct gap *gaps;
	size_t ngaps;
};

int irc_st_seal_read(struct irc_store *s, struct seal *se);
void irc_st_seal_free(struct seal *se);

#endif
