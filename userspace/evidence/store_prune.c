// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pruning: a prefix of the chain cut under the policy's limits, sealed by
 * a record; and the store's size and range (status).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>
#include <sqlite3.h>

#include "irc.h"
#include "store.h"
#include "store_int.h"

/* The one integer @sql gives with ?1 = @a (NULL is 0). */
static int q_int(struct irc_store *s, const char *sql, int64_t a, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "query the store");
	if (sqlite3_bind_parameter_count(st))
		sqlite3_bind_int64(st, 1, a);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "query the store");
}

#define ALL_ROWS(cols) \
	"SELECT " cols " FROM actions UNION ALL SELECT " cols " FROM events" \
	" UNION ALL SELECT " cols " FROM evidence"

int irc_st_seal_read(struct irc_store *s, struct seal *se)
{
	sqlite3_stmt *st;
	const char *hex;
	json_t *b;
	int rc;

	memset(se, 0, sizeof(*se));
	if (sqlite3_prepare_v2(s->db, "SELECT body, ts_ns FROM actions WHERE type = 'store.prune'"
			       " ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read the last prune");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		b = json_loads((const char *)sqlite3_column_text(st, 0) ?: "", 0, NULL);
		hex = json_string_value(json_object_get(b, "cut_mac")) ?: "";
		se->found = true;
		se->last = json_integer_value(json_object_get(b, "last"));
		se->total = json_integer_value(json_object_get(b, "total"));
		se->ts_ns = sqlite3_column_int64(st, 1);
		snprintf(se->reason, sizeof(se->reason), "%s",
			 json_string_value(json_object_get(b, "reason")) ?: "");
		if (strlen(hex) != 2 * IRC_MAC_LEN ||
		    sodium_hex2bin(se->mac, IRC_MAC_LEN, hex, strlen(hex), NULL, NULL, NULL))
			se->last = -1;	/* verify says it is unusable */
		json_decref(b);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "read the last prune");
}

/* Where the cut may go: before the first record of any incident it must keep. */
static int prune_hold(struct irc_store *s, bool keep_unexported, int64_t *cut, int64_t *held)
{
	sqlite3_stmt *st;
	struct span { int64_t id, first, last; bool keep; } *sp = NULL, *n;
	size_t i, ns = 0;
	bool moved;
	int rc, err = 0;

	if (sqlite3_prepare_v2(s->db,
			"SELECT r.incident, min(r.seq), max(r.seq), coalesce(i.status, -1),"
			" EXISTS (SELECT 1 FROM actions a WHERE a.incident = r.incident AND a.type = 'export')"
			" FROM (" ALL_ROWS("incident, seq") ") r LEFT JOIN incidents i ON i.id = r.incident"
			" WHERE r.incident > 0 GROUP BY r.incident", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read the incidents' records");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = realloc(sp, (ns + 1) * sizeof(*sp));
		if (!n) {
			err = irc_st_fail(-ENOMEM, "out of memory");
			break;
		}
		sp = n;
		sp[ns].id = sqlite3_column_int64(st, 0);
		sp[ns].first = sqlite3_column_int64(st, 1);
		sp[ns].last = sqlite3_column_int64(st, 2);
		/*
		 * No row: a closed incident whose opening record an earlier
		 * prune cut (its row went then); the rest of it holds nothing.
		 */
		sp[ns].keep = sqlite3_column_int(st, 3) != -1 &&
			      (sqlite3_column_int(st, 3) != IRC_IS_CLOSED ||
			       (keep_unexported && !sqlite3_column_int(st, 4)));
		ns++;
	}
	if (!err && rc != SQLITE_DONE)
		err = irc_st_dbfail(s, "read the incidents' records");
	sqlite3_finalize(st);
	/*
	 * A closed incident may be cut in two (incidents overlap in time: a
	 * rule against splitting would hold every prune at the oldest one);
	 * one that must be kept holds the cut at its first record.
	 */
	do {
		moved = false;
		for (i = 0; !err && i < ns; i++)
			if (sp[i].first <= *cut && sp[i].keep) {
				*cut = sp[i].first - 1;
				*held = sp[i].id;
				moved = true;
			}
	} while (moved);
	free(sp);
	return err;
}

static int used_bytes(struct irc_store *s, int64_t *used)
{
	int64_t pages, freep, psize;
	int err;

	err = q_int(s, "PRAGMA page_count", 0, &pages);
	if (!err)
		err = q_int(s, "PRAGMA freelist_count", 0, &freep);
	if (!err)
		err = q_int(s, "PRAGMA page_size", 0, &psize);
	*used = err ? 0 : (pages - freep) * psize;
	return err;
}

/* The time of record @seq (0 if it is missing). */
static int ts_at(struct irc_store *s, int64_t seq, int64_t *ts)
{
	int64_t v;
	int err = q_int(s, "SELECT coalesce((SELECT ts_ns FROM actions WHERE seq = ?1),"
			" (SELECT ts_ns FROM events WHERE seq = ?1),"
			" (SELECT ts_ns FROM evidence WHERE seq = ?1), 0)", seq, &v);

	*ts = v;
	return err;
}

static int prune_locked(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
			struct irc_prune_result *res)
{
	int64_t first, last, count = 0, nrec, cut = 0, n, incs = 0;
	uint8_t mac[IRC_MAC_LEN];
	char hex[2 * IRC_MAC_LEN + 1], reason[64] = "", sql[160];
	struct seal se;
	sqlite3_stmt *st;
	struct irc_rec r;
	bool found;
	int k, err;

	err = q_int(s, "SELECT min(seq) FROM (" ALL_ROWS("seq") ")", 0, &first);
	if (!err)
		err = irc_st_head_read(s, &last, mac, NULL, &found);
	if (!err)
		err = used_bytes(s, &res->used_bytes);
	if (err || !first)
		return err;
	if (l->max_age_s > 0) {
		int64_t keep_from = (int64_t)irc_now_real_ns() - l->max_age_s * 1000000000LL;
		int64_t lo = first, hi = last, mid, ts;

		/*
		 * The last record older than that, by bisection over the
		 * sequence (records are in time order but for a few ms): a
		 * handful of primary-key reads, never a scan.
		 */
		err = ts_at(s, first, &ts);
		if (!err && ts < keep_from) {
			while (!err && lo < hi) {
				mid = lo + (hi - lo + 1) / 2;
				err = ts_at(s, mid, &ts);
				if (ts < keep_from)
					lo = mid;
				else
					hi = mid - 1;
			}
			cut = lo;
			snprintf(reason, sizeof(reason), "older than %lld s", (long long)l->max_age_s);
		}
	}
	if (!err && l->max_bytes > 0 && res->used_bytes > l->max_bytes) {
		nrec = last - first + 1;	/* a prefix is all that is ever cut */
		if (nrec > 0) {
			/* Down to 90%, at the store's average bytes per record. */
			n = (res->used_bytes - l->max_bytes / 10 * 9) / (res->used_bytes / nrec + 1) + 1;
			if (first + n - 1 > cut) {
				cut = first + n - 1;
				snprintf(reason, sizeof(reason), "over %lld bytes", (long long)l->max_bytes);
			}
		}
	}
	if (err || !cut)
		return err;
	if (cut > last)
		cut = last;
	if (l->max_rows > 0 && cut - first + 1 > l->max_rows)
		cut = first + l->max_rows - 1;
	err = prune_hold(s, l->keep_unexported, &cut, &res->held_by);
	if (err || cut < first)
		return err;
	/* The seal: the MAC of the last record removed. */
	for (k = IRC_REC_ACTION, found = false; !found && k <= IRC_REC_EVIDENCE; k++) {
		snprintf(sql, sizeof(sql), "SELECT mac FROM %s WHERE seq = ?", irc_st_tables[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return irc_st_dbfail(s, "read the record at the cut");
		sqlite3_bind_int64(st, 1, cut);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == IRC_MAC_LEN) {
			memcpy(mac, sqlite3_column_blob(st, 0), IRC_MAC_LEN);
			found = true;
		}
		sqlite3_finalize(st);
	}
	if (!found)
		return irc_st_fail(-EBADMSG, "%s: record #%" PRId64 " at the cut is missing: not pruned",
			    s->path, cut);
	err = irc_st_seal_read(s, &se);
	for (k = IRC_REC_ACTION; !err && k <= IRC_REC_EVIDENCE; k++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE seq <= ?", irc_st_tables[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return irc_st_dbfail(s, "prune records");
		sqlite3_bind_int64(st, 1, cut);
		err = sqlite3_step(st) == SQLITE_DONE ? 0 : irc_st_dbfail(s, "prune records");
		count += sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	/*
	 * Closed incidents whose opening record went: verify could no longer
	 * check their row against the chain, and their evidence is in the
	 * bundles exported.  What is left of their records stays, unattached.
	 */
	if (!err) {
		if (sqlite3_prepare_v2(s->db, "DELETE FROM incidents WHERE status = ?"
				       " AND id NOT IN (SELECT incident FROM actions WHERE type = 'incident.open')",
				       -1, &st, NULL) != SQLITE_OK)
			return irc_st_dbfail(s, "prune incidents");
		sqlite3_bind_int(st, 1, IRC_IS_CLOSED);
		err = irc_st_step_done(s, st, "prune incidents");
		incs = sqlite3_changes(s->db);
	}
	if (err)
		return err;
	irc_hex(mac, IRC_MAC_LEN, hex);
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .type = "store.prune", .actor = actor,
		.body = json_pack("{s:I,s:I,s:I,s:s,s:I,s:s,s:I,s:I,s:s}",
			"first", (json_int_t)first, "last", (json_int_t)cut,
			"count", (json_int_t)count, "cut_mac", hex,
			"incidents", (json_int_t)incs, "reason", reason,
			"total", (json_int_t)(se.total + count),
			"used_bytes", (json_int_t)res->used_bytes, "result", "ok") };
	if (!r.body)
		return irc_st_fail(-ENOMEM, "out of memory");
	err = irc_st_append(s, &r, NULL);
	json_decref(r.body);
	if (!err) {
		res->first = first;
		res->last = cut;
		res->count = count;
		res->incidents = incs;
	}
	return err;
}

int irc_store_prune(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
		    struct irc_prune_result *res)
{
	int err;

	memset(res, 0, sizeof(*res));
	if (s->in_batch)
		return irc_st_fail(-EBUSY, "%s: prune inside a batch", s->path);
	err = irc_store_begin(s);
	if (err)
		return err;
	err = s->head_valid ? 0 : irc_st_head_load(s);
	if (!err)
		err = prune_locked(s, l, actor, res);
	if (err || !res->count) {
		irc_store_rollback(s);
		return err;
	}
	return irc_store_commit(s);
}

int irc_store_info(struct irc_store *s, struct irc_store_info *in)
{
	char side[PATH_MAX + 8];
	struct seal se;
	struct stat st;
	int err;

	memset(in, 0, sizeof(*in));
	if (!stat(s->path, &st))
		in->file_bytes = st.st_size;
	snprintf(side, sizeof(side), "%s-wal", s->path);
	if (!stat(side, &st))
		in->file_bytes += st.st_size;
	err = irc_store_read_begin(s);
	if (err)
		return err;
	err = used_bytes(s, &in->used_bytes);
	if (!err)
		err = q_int(s, "SELECT count(*) FROM (" ALL_ROWS("seq") ")", 0, &in->records);
	if (!err)
		err = q_int(s, "SELECT coalesce(min(seq), 0) FROM (" ALL_ROWS("seq") ")", 0,
			    &in->first_seq);
	if (!err)
		err = q_int(s, "SELECT coalesce(max(seq), 0) FROM (" ALL_ROWS("seq") ")", 0,
			    &in->last_seq);
	if (!err && in->first_seq)
		err = q_int(s, "SELECT min(ts_ns) FROM (" ALL_ROWS("seq, ts_ns") ") WHERE seq = ?1",
			    in->first_seq, &in->oldest_ns);
	if (!err)
		err = irc_st_seal_read(s, &se);
	if (!err && se.found) {
		in->pruned_total = se.total;
		in->pruned_last = se.last;
		in->pruned_ns = se.ts_ns;
		snprintf(in->pruned_reason, sizeof(in->pruned_reason), "%s", se.reason);
	}
	irc_store_read_end(s);
	return err;
}
