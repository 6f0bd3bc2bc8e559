// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pruning: ranges of the chain cut under the policy's limits (all but the
 * records of incidents kept), sealed by a record that lists every range
 * gone; and the store's size and range (status).
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

/* The one integer @sql gives with ?1 = @a and ?2 = @b (NULL is 0). */
static int q_int(struct irc_store *s, const char *sql, int64_t a, int64_t b, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "query the store");
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "query the store");
}

#define ALL_ROWS(cols) \
	"SELECT " cols " FROM actions UNION ALL SELECT " cols " FROM events" \
	" UNION ALL SELECT " cols " FROM evidence"
/* Each table's @agg(seq) over seq @cond, combined by @outer: primary-key reads. */
#define EACH(outer, agg, cond) \
	"SELECT " outer "(x) FROM (SELECT " agg "(seq) x FROM actions WHERE seq " cond \
	" UNION ALL SELECT " agg "(seq) FROM events WHERE seq " cond \
	" UNION ALL SELECT " agg "(seq) FROM evidence WHERE seq " cond ")"

static bool mac_parse(const char *hex, uint8_t mac[IRC_MAC_LEN])
{
	return hex && strlen(hex) == 2 * IRC_MAC_LEN &&
	       !sodium_hex2bin(mac, IRC_MAC_LEN, hex, strlen(hex), NULL, NULL, NULL);
}

void irc_st_seal_free(struct seal *se)
{
	free(se->gaps);
	se->gaps = NULL;
	se->ngaps = 0;
}

/*
 * The seal's ranges: its "gaps" (every range pruned so far), or for a seal
 * written before there were ranges, one: #1 to its last, at its time.  In
 * order, apart, and all before the seal, or the seal is bad.
 */
static void seal_gaps(struct seal *se, json_t *b)
{
	json_t *arr = json_object_get(b, "gaps"), *g;
	struct gap *p;
	size_t i;

	se->ngaps = arr ? json_array_size(arr) : 1;
	se->gaps = calloc(se->ngaps ?: 1, sizeof(*se->gaps));
	if (!se->gaps) {
		se->bad = true;
		return;
	}
	if (!arr) {
		se->gaps[0] = (struct gap){ .first = 1, .last = se->last, .ts_ns = se->ts_ns };
		se->bad = !mac_parse(json_string_value(json_object_get(b, "cut_mac")), se->gaps[0].mac);
	}
	for (i = 0; arr && i < se->ngaps; i++) {
		g = json_array_get(arr, i);
		p = &se->gaps[i];
		p->first = json_integer_value(json_object_get(g, "first"));
		p->last = json_integer_value(json_object_get(g, "last"));
		p->ts_ns = json_integer_value(json_object_get(g, "at"));
		if (!mac_parse(json_string_value(json_object_get(g, "cut_mac")), p->mac))
			se->bad = true;
	}
	for (i = 0; i < se->ngaps; i++) {
		p = &se->gaps[i];
		if (p->first < 1 || p->last < p->first || p->last >= se->seq ||
		    (i && p->first <= p[-1].last + 1))
			se->bad = true;
	}
}

int irc_st_seal_read(struct irc_store *s, struct seal *se)
{
	sqlite3_stmt *st;
	json_t *b;
	int rc;

	memset(se, 0, sizeof(*se));
	if (sqlite3_prepare_v2(s->db, "SELECT body, ts_ns, seq FROM actions WHERE type = 'store.prune'"
			       " ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read the last prune");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		b = json_loads((const char *)sqlite3_column_text(st, 0) ?: "", 0, NULL);
		se->found = true;
		se->last = json_integer_value(json_object_get(b, "last"));
		se->total = json_integer_value(json_object_get(b, "total"));
		se->ts_ns = sqlite3_column_int64(st, 1);
		se->seq = sqlite3_column_int64(st, 2);
		snprintf(se->reason, sizeof(se->reason), "%s",
			 json_string_value(json_object_get(b, "reason")) ?: "");
		seal_gaps(se, b);	/* verify says a bad one is unusable */
		json_decref(b);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "read the last prune");
}

static int used_bytes(struct irc_store *s, int64_t *used)
{
	int64_t pages, freep, psize;
	int err;

	err = q_int(s, "PRAGMA page_count", 0, 0, &pages);
	if (!err)
		err = q_int(s, "PRAGMA freelist_count", 0, 0, &freep);
	if (!err)
		err = q_int(s, "PRAGMA page_size", 0, 0, &psize);
	*used = err ? 0 : (pages - freep) * psize;
	return err;
}

/* The time of the first record at or after @seq (0 if there is none). */
static int ts_at(struct irc_store *s, int64_t seq, int64_t *ts)
{
	int err = q_int(s, EACH("min", "min", ">= ?1"), seq, 0, &seq);

	if (!err)
		err = q_int(s, "SELECT coalesce((SELECT ts_ns FROM actions WHERE seq = ?1),"
			    " (SELECT ts_ns FROM events WHERE seq = ?1),"
			    " (SELECT ts_ns FROM evidence WHERE seq = ?1), 0)", seq, 0, ts);
	return err;
}

/* What a prune cuts: ranges of records, oldest first. */
struct cut {
	const struct irc_prune_limits *l;
	const struct seal *se;	/* the gaps there are */
	int64_t lo;		/* the oldest record */
	int64_t age_to;		/* every record up to this one goes (age), 0: none */
	int64_t want;		/* and this many at least (size) */
	int64_t rows;		/* records in the ranges so far */
	size_t added;		/* gaps they add (not joined to one there is) */
	int64_t held;		/* an incident whose records stay among them */
	struct gap *r;
	size_t n;
	bool done;
};

/* Is @seq in a gap there is (pruned)?  Bisection: the gaps are in order. */
static bool in_gap(const struct seal *se, int64_t seq)
{
	size_t lo = 0, hi = se->ngaps, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (se->gaps[mid].last < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < se->ngaps && se->gaps[lo].first <= seq;
}

/*
 * The records in [@a0, @b] that the cut takes, as one range (or none): all
 * up to age_to, then as many as the size wants, at most max_rows in all.
 * @b + 1 is a record kept (or the newest record).
 */
static int cut_range(struct irc_store *s, struct cut *c, int64_t a0, int64_t b)
{
	int64_t a, end, rows, max = c->l->max_rows > 0 ? c->l->max_rows : INT64_MAX;
	struct gap *n;
	int err;

	if (c->rows >= max) {
		c->done = true;
		return 0;
	}
	/* A short run right after a record kept (below): no query for it. */
	if (a0 != c->lo && b - a0 + 1 < IRC_STORE_PRUNE_MIN_RUN && !in_gap(c->se, a0))
		return 0;
	err = q_int(s, EACH("min", "min", ">= ?1"), a0, 0, &a);
	if (err || !a || a > b)
		return err;
	if (a > c->age_to && c->rows >= c->want) {
		c->done = true;
		return 0;
	}
	/* Seqs, not records: a range holds at most as many records as seqs. */
	end = b;
	if (b > c->age_to) {
		end = a + (c->want - c->rows) - 1;
		if (end < c->age_to)
			end = c->age_to;
	}
	if (end > b)
		end = b;
	if (end - a + 1 > max - c->rows)
		end = a + (max - c->rows) - 1;
	err = q_int(s, EACH("max", "max", "BETWEEN ?1 AND ?2"), a, end, &end);
	if (!err)
		err = q_int(s, EACH("sum", "count", "BETWEEN ?1 AND ?2"), a, end, &rows);
	if (err)
		return err;
	/*
	 * A short run between two records kept would be a gap of its own:
	 * it waits (gaps are listed in every seal).  One that joins the gap
	 * before it, or the oldest, goes.
	 */
	if (rows < IRC_STORE_PRUNE_MIN_RUN && a == a0 && a0 != c->lo && end == b)
		return 0;
	/* A gap more than IRC_STORE_PRUNE_GAPS: this range and the newer ones wait. */
	if (!in_gap(c->se, a - 1) && !in_gap(c->se, end + 1)) {
		if (c->se->ngaps + c->added >= IRC_STORE_PRUNE_GAPS) {
			c->done = true;
			return 0;
		}
		c->added++;
	}
	n = realloc(c->r, (c->n + 1) * sizeof(*n));
	if (!n)
		return irc_st_fail(-ENOMEM, "out of memory");
	c->r = n;
	c->r[c->n++] = (struct gap){ .first = a, .last = end };
	c->rows += rows;
	return 0;
}

/* The keep rule: incidents not closed, and closed ones never exported when the policy says so. */
#define KEEP "SELECT id FROM incidents WHERE status != ?3 OR (?4 AND NOT EXISTS" \
	" (SELECT 1 FROM actions a WHERE a.incident = incidents.id AND a.type = 'export'))"

/*
 * The ranges: the records from the oldest on, up to what the limits want,
 * but those of an incident kept, and those of its entities from the first
 * record of an incident kept on (what the cut kept before there were
 * ranges, and what an export of it takes), and the newest containment
 * action of each target unless it is a release (what verify looks for
 * when the kernel enforces it), in order.  A record
 * with no incident row (a closed incident whose opening record an earlier
 * prune cut: its row went then) is not kept.
 */
static int cut_find(struct irc_store *s, struct cut *c, int64_t last)
{
	sqlite3_stmt *st;
	int64_t start = c->lo, k, inc;
	int rc, err = 0;

	if (sqlite3_prepare_v2(s->db,
			"WITH keep(id) AS (" KEEP "),"
			" ents(e) AS (SELECT target FROM (" ALL_ROWS("incident, target") ")"
			"  WHERE incident IN keep AND target != ''"
			"  UNION SELECT peer FROM (" ALL_ROWS("incident, peer") ")"
			"  WHERE incident IN keep AND peer != ''),"
			" since(seq) AS (SELECT min(seq) FROM (" ALL_ROWS("seq, incident") ")"
			"  WHERE incident IN keep),"
			" moves(seq, type) AS (SELECT max(seq), type FROM actions"
			"  WHERE type IN ('quarantine', 'kill', 'stop', 'release') GROUP BY target)"
			" SELECT seq, incident FROM (" ALL_ROWS("seq, incident, target, peer") ")"
			" WHERE seq BETWEEN ?1 AND ?2 AND (incident IN keep OR"
			"  ((target IN ents OR peer IN ents) AND seq >= (SELECT seq FROM since)) OR"
			"  seq IN (SELECT seq FROM moves WHERE type != 'release'))"
			" ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read the records kept");
	sqlite3_bind_int64(st, 1, c->lo);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_int(st, 3, IRC_IS_CLOSED);
	sqlite3_bind_int(st, 4, c->l->keep_unexported);
	while (!err && !c->done) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			err = irc_st_dbfail(s, "read the records kept");
			break;
		}
		k = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : last + 1;
		inc = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
		if (k > start)
			err = cut_range(s, c, start, k - 1);
		if (rc == SQLITE_DONE)
			break;
		if (!err && !c->done && !c->held)
			c->held = inc;
		start = k + 1;
	}
	sqlite3_finalize(st);
	return err;
}

/*
 * The gaps once @c's ranges are cut: the seal's and the new ones, joined
 * where they touch; a gap's MAC is its last record's, its time the newest
 * prune's that cut any of it.
 */
static struct gap *gaps_join(const struct seal *se, const struct cut *c, int64_t now, size_t *np)
{
	struct gap *out = malloc((se->ngaps + c->n + 1) * sizeof(*out)), g;
	size_t i = 0, j = 0, n = 0;

	if (!out)
		return NULL;
	while (i < se->ngaps || j < c->n) {
		if (j >= c->n || (i < se->ngaps && se->gaps[i].first < c->r[j].first)) {
			g = se->gaps[i++];
		} else {
			g = c->r[j++];
			g.ts_ns = now;
		}
		if (n && g.first <= out[n - 1].last + 1) {
			if (g.last > out[n - 1].last) {
				out[n - 1].last = g.last;
				memcpy(out[n - 1].mac, g.mac, IRC_MAC_LEN);
			}
			if (g.ts_ns > out[n - 1].ts_ns)
				out[n - 1].ts_ns = g.ts_ns;
		} else {
			out[n++] = g;
		}
	}
	*np = n;
	return out;
}

/* The MAC of record @seq into @mac: -EBADMSG if it is missing. */
static int mac_at(struct irc_store *s, int64_t seq, uint8_t mac[IRC_MAC_LEN])
{
	int err = irc_st_record_mac(s, seq, mac);

	return err != -ENOENT ? err : irc_st_fail(-EBADMSG, "%s: record #%" PRId64 " at the cut is missing:"
						 " not pruned", s->path, seq);
}

/* The seal's body: this prune, the running total, and every range gone. */
static json_t *seal_body(const struct cut *c, const struct gap *g, size_t ng, int64_t count,
			 int64_t incs, const char *reason, int64_t total, int64_t used)
{
	char hex[2 * IRC_MAC_LEN + 1];
	json_t *b, *arr = json_array();
	size_t i;

	for (i = 0; arr && i < ng; i++) {
		irc_hex(g[i].mac, IRC_MAC_LEN, hex);
		if (json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:I}", "first", (json_int_t)g[i].first,
							 "last", (json_int_t)g[i].last, "cut_mac", hex,
							 "at", (json_int_t)g[i].ts_ns))) {
			json_decref(arr);
			return NULL;
		}
	}
	irc_hex(c->r[c->n - 1].mac, IRC_MAC_LEN, hex);
	b = json_pack("{s:I,s:I,s:I,s:s,s:I,s:s,s:I,s:I,s:s,s:o}",
		"first", (json_int_t)c->r[0].first, "last", (json_int_t)c->r[c->n - 1].last,
		"count", (json_int_t)count, "cut_mac", hex, "incidents", (json_int_t)incs,
		"reason", reason, "total", (json_int_t)total, "used_bytes", (json_int_t)used,
		"result", "ok", "gaps", arr);
	return b;
}

static int prune_locked(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
			struct irc_prune_result *res, struct seal *se, struct cut *c)
{
	int64_t first, last, nrec, n, incs = 0, count = 0, now = (int64_t)irc_now_real_ns();
	uint8_t mac[IRC_MAC_LEN];
	char reason[64] = "", sql[64];
	struct gap *g = NULL;
	sqlite3_stmt *st;
	struct irc_rec r;
	size_t ng = 0, i;
	bool found;
	int k, err;

	err = q_int(s, "SELECT min(seq) FROM (" ALL_ROWS("seq") ")", 0, 0, &first);
	if (!err)
		err = irc_st_head_read(s, &last, mac, NULL, &found);
	if (!err)
		err = used_bytes(s, &res->used_bytes);
	if (!err)
		err = irc_st_seal_read(s, se);
	if (err || !first)
		return err;
	if (se->found && se->bad)
		return irc_st_fail(-EBADMSG, "%s: the last prune's seal (record #%" PRId64 ") is unusable: not pruned",
				   s->path, se->seq);
	c->l = l;
	c->se = se;
	c->lo = first;
	if (l->max_age_s > 0) {
		int64_t keep_from = now - l->max_age_s * 1000000000LL;
		int64_t lo = first, hi = last, mid, ts;

		/*
		 * The last record older than that, by bisection over the
		 * sequence (records are in time order but for a few ms; a
		 * pruned seq reads as the record after it): a handful of
		 * primary-key reads, never a scan.
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
			c->age_to = lo;
			snprintf(reason, sizeof(reason), "older than %lld s", (long long)l->max_age_s);
		}
	}
	if (!err && l->max_bytes > 0 && res->used_bytes > l->max_bytes) {
		/* The records there are: the seqs less the gaps after the oldest. */
		nrec = last - first + 1;
		for (i = 0; i < se->ngaps; i++)
			if (se->gaps[i].first > first)
				nrec -= se->gaps[i].last - se->gaps[i].first + 1;
		if (nrec > 0) {
			/* Down to 90%, at the store's average bytes per record. */
			n = (res->used_bytes - l->max_bytes / 10 * 9) / (res->used_bytes / nrec + 1) + 1;
			c->want = n;
			if (!c->age_to || first + n - 1 > c->age_to)
				snprintf(reason, sizeof(reason), "over %lld bytes", (long long)l->max_bytes);
		}
	}
	if (err || (!c->age_to && !c->want))
		return err;
	err = cut_find(s, c, last);
	res->held_by = c->held;
	/*
	 * Over the size with all the rest kept: the last seal alone would go,
	 * for the next one, every time.
	 */
	if (c->rows == 1 && c->r[0].first == se->seq)
		c->n = 0;
	/*
	 * At most IRC_STORE_PRUNE_GAPS gaps: the newest ranges wait (each
	 * one left out takes at most one gap away).
	 */
	while (!err && c->n) {
		free(g);
		g = gaps_join(se, c, now, &ng);
		if (!g)
			return irc_st_fail(-ENOMEM, "out of memory");
		if (ng <= IRC_STORE_PRUNE_GAPS)
			break;
		c->n -= ng - IRC_STORE_PRUNE_GAPS < c->n ? ng - IRC_STORE_PRUNE_GAPS : c->n;
	}
	if (err || !c->n) {
		free(g);
		return err;
	}
	/* The seal: the MAC of each range's last record, read before it goes. */
	for (i = 0; !err && i < c->n; i++)
		err = mac_at(s, c->r[i].last, c->r[i].mac);
	free(g);
	g = err ? NULL : gaps_join(se, c, now, &ng);
	if (!err && !g)
		err = irc_st_fail(-ENOMEM, "out of memory");
	for (k = IRC_REC_ACTION; !err && k <= IRC_REC_EVIDENCE; k++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE seq BETWEEN ?1 AND ?2", irc_st_tables[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
			err = irc_st_dbfail(s, "prune records");
			break;
		}
		for (i = 0; !err && i < c->n; i++) {
			sqlite3_bind_int64(st, 1, c->r[i].first);
			sqlite3_bind_int64(st, 2, c->r[i].last);
			err = sqlite3_step(st) == SQLITE_DONE ? 0 : irc_st_dbfail(s, "prune records");
			count += sqlite3_changes(s->db);
			sqlite3_reset(st);
		}
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
				       -1, &st, NULL) != SQLITE_OK) {
			free(g);
			return irc_st_dbfail(s, "prune incidents");
		}
		sqlite3_bind_int(st, 1, IRC_IS_CLOSED);
		err = irc_st_step_done(s, st, "prune incidents");
		incs = sqlite3_changes(s->db);
	}
	if (err) {
		free(g);
		return err;
	}
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .type = "store.prune", .actor = actor,
		.body = seal_body(c, g, ng, count, incs, reason, se->total + count, res->used_bytes) };
	free(g);
	if (!r.body)
		return irc_st_fail(-ENOMEM, "out of memory");
	err = irc_st_append(s, &r, NULL);
	json_decref(r.body);
	if (!err) {
		res->first = c->r[0].first;
		res->last = c->r[c->n - 1].last;
		res->count = count;
		res->incidents = incs;
	}
	return err;
}

int irc_store_prune(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
		    struct irc_prune_result *res)
{
	struct seal se = { 0 };
	struct cut c = { 0 };
	int err;

	memset(res, 0, sizeof(*res));
	if (s->in_batch)
		return irc_st_fail(-EBUSY, "%s: prune inside a batch", s->path);
	err = irc_store_begin(s);
	if (err)
		return err;
	err = s->head_valid ? 0 : irc_st_head_load(s);
	if (!err)
		err = prune_locked(s, l, actor, res, &se, &c);
	irc_st_seal_free(&se);
	free(c.r);
	if (err || !res->count) {
		irc_store_rollback(s);
		return err;
	}
	return irc_store_commit(s);
}

int irc_store_info(struct irc_store *s, struct irc_store_info *in)
{
	char side[PATH_MAX + 8];
	struct seal se = { 0 };
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
		err = q_int(s, "SELECT count(*) FROM (" ALL_ROWS("seq") ")", 0, 0, &in->records);
	if (!err)
		err = q_int(s, "SELECT coalesce(min(seq), 0) FROM (" ALL_ROWS("seq") ")", 0, 0,
			    &in->first_seq);
	if (!err)
		err = q_int(s, "SELECT coalesce(max(seq), 0) FROM (" ALL_ROWS("seq") ")", 0, 0,
			    &in->last_seq);
	if (!err && in->first_seq)
		err = q_int(s, "SELECT min(ts_ns) FROM (" ALL_ROWS("seq, ts_ns") ") WHERE seq = ?1",
			    in->first_seq, 0, &in->oldest_ns);
	if (!err)
		err = irc_st_seal_read(s, &se);
	if (!err && se.found) {
		in->pruned_total = se.total;
		in->pruned_last = se.last;
		in->pruned_ns = se.ts_ns;
		in->pruned_ranges = (int64_t)se.ngaps;
		snprintf(in->pruned_reason, sizeof(in->pruned_reason), "%s", se.reason);
	}
	irc_st_seal_free(&se);
	irc_store_read_end(s);
	return err;
}
