// SPDX-License-Identifier: GPL-2.0-only
/*
 * Records read back: every row of a selection in sequence order, the
 * entities an incident involves, the chain's tip.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "irc.h"
#include "store.h"
#include "store_int.h"

static void row_from(sqlite3_stmt *st, struct irc_row *r)
{
	r->kind = sqlite3_column_int(st, 0);
	r->seq = sqlite3_column_int64(st, 1);
	r->incident = sqlite3_column_int64(st, 2);
	r->ts_ns = sqlite3_column_int64(st, 3);
	r->type = (const char *)sqlite3_column_text(st, 4) ?: "";
	r->actor = (const char *)sqlite3_column_text(st, 5) ?: "";
	r->target = (const char *)sqlite3_column_text(st, 6) ?: "";
	r->peer = (const char *)sqlite3_column_text(st, 7) ?: "";
	r->body = (const char *)sqlite3_column_text(st, 8) ?: "";
	r->data = sqlite3_column_blob(st, 9);
	r->data_len = sqlite3_column_bytes(st, 9);
	r->mac = sqlite3_column_bytes(st, 10) == IRC_MAC_LEN ? sqlite3_column_blob(st, 10) : NULL;
}

struct rows_call {
	irc_row_fn fn;
	void *ctx;
};

static int rows_row(sqlite3_stmt *st, void *p)
{
	struct rows_call *c = p;
	struct irc_row r;

	row_from(st, &r);
	return c->fn(&r, c->ctx);
}

#define ROW_COLS "seq, incident, ts_ns, type, actor, target, peer, body, data, mac"
#define MAX_ENTITIES	500

int irc_store_rows(struct irc_store *s, int64_t incident, unsigned int kinds,
		   int64_t from_ns, int64_t to_ns, const char *const *entities,
		   irc_row_fn fn, void *ctx)
{
	struct rows_call c = { fn, ctx };
	char *sql = NULL, *cond = NULL;
	size_t nent = 0, i, len;
	sqlite3_stmt *st;
	int k, rc, nb = 0;

	while (entities && entities[nent])
		nent++;
	if (nent > MAX_ENTITIES)
		return irc_st_fail(-E2BIG, "%zu entities (at most %d)", nent, MAX_ENTITIES);
	/* ?1 incident, ?2 from, ?3 to, ?4... entities */
	len = 256 + nent * 12;
	cond = malloc(len);
	sql = malloc(3 * (len + 160));
	if (!cond || !sql) {
		free(cond);
		free(sql);
		return irc_st_fail(-ENOMEM, "out of memory");
	}
	snprintf(cond, len, "(?1 = 0 OR incident = ?1");
	if (nent) {
		/*
		 * Numbered: a bare "?" after ?1 would be ?2 (one more than the
		 * largest so far), the time bound, not the entity.
		 */
		strcat(cond, " OR target IN (");
		for (i = 0; i < nent; i++)
			sprintf(cond + strlen(cond), "%s?%zu", i ? "," : "", 4 + i);
		strcat(cond, ") OR peer IN (");
		for (i = 0; i < nent; i++)
			sprintf(cond + strlen(cond), "%s?%zu", i ? "," : "", 4 + i);
		strcat(cond, ")");
	}
	strcat(cond, ") AND (?2 = 0 OR ts_ns >= ?2) AND (?3 = 0 OR ts_ns <= ?3)");
	sql[0] = '\0';
	for (k = IRC_REC_ACTION; k <= IRC_REC_EVIDENCE; k++) {
		if (!(kinds & (1u << k)))
			continue;
		if (nb++)
			strcat(sql, " UNION ALL ");
		sprintf(sql + strlen(sql), "SELECT %d, " ROW_COLS " FROM %s WHERE %s",
			k, irc_st_tables[k], cond);
	}
	free(cond);
	if (!nb) {
		free(sql);
		return 0;
	}
	strcat(sql, " ORDER BY 2");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return irc_st_dbfail(s, "query records");
	sqlite3_bind_int64(st, 1, incident);
	sqlite3_bind_int64(st, 2, from_ns);
	sqlite3_bind_int64(st, 3, to_ns);
	for (i = 0; i < nent; i++)
		sqlite3_bind_text(st, 4 + i, entities[i], -1, SQLITE_STATIC);
	return irc_st_each(s, st, rows_row, &c, "read records");
}

/* ?1 incident (0: any), ?2 after, ?3 up to, ?4 limit (-1: none). */
static void bind_rows(sqlite3_stmt *st, int64_t incident, int64_t after, int64_t upto,
		      size_t limit)
{
	sqlite3_bind_int64(st, 1, incident);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, upto);
	sqlite3_bind_int64(st, 4, limit ? (int64_t)limit : -1);
}

int irc_store_key_rows(struct irc_store *s, int64_t incident, int64_t after, int64_t upto,
		       size_t limit, void (*fn)(int64_t incident, const char *entity,
						int64_t ts_ns, void *ctx), void *ctx)
{
	/* ?1 incident (0: any), ?2 after, ?3 up to, ?4 limit (-1: none) */
#define KEY_ROWS(t, col, cond) "SELECT incident, " col ", ts_ns FROM " t " WHERE " col " != ''" \
	" AND seq > ?2 AND seq <= ?3 AND (?1 = 0 AND incident > 0 OR incident = ?1)" cond
	static const char sql[] =
		KEY_ROWS("actions", "target", "") " UNION ALL " KEY_ROWS("actions", "peer", "")
		" UNION ALL " KEY_ROWS("events", "target", " AND type = 'finding'")
		" UNION ALL " KEY_ROWS("events", "peer", " AND (type = 'fork' OR"
				       " (type = 'finding' AND actor = 'reverse_shell'))")
		" LIMIT ?4";
#undef KEY_ROWS
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read incident attackers");
	bind_rows(st, incident, after, upto, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   sqlite3_column_int64(st, 2), ctx);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "read incident attackers");
}

void irc_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int irc_store_entity_rows(struct irc_store *s, int64_t incident, int64_t after,
			  int64_t upto, size_t limit,
			  void (*fn)(int64_t incident, const char *entity, void *ctx), void *ctx)
{
	/* ?1 incident (0: any), ?2 after, ?3 up to, ?4 limit (-1: none) */
#define ENT_ROWS(t, col) "SELECT incident, " col " FROM " t " WHERE " col " != ''" \
	" AND seq > ?2 AND seq <= ?3 AND (?1 = 0 AND incident > 0 OR incident = ?1)"
	static const char sql[] =
		ENT_ROWS("actions", "target") " UNION " ENT_ROWS("actions", "peer")
		" UNION " ENT_ROWS("events", "target") " UNION " ENT_ROWS("evidence", "target")
		" LIMIT ?4";
#undef ENT_ROWS
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read incident entities");
	bind_rows(st, incident, after, upto, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), ctx);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "read incident entities");
}

struct strv {
	char **v;
	size_t n;
	bool oom;
};

static void strv_add(int64_t incident, const char *e, void *ctx)
{
	struct strv *sv = ctx;
	char **nv;

	(void)incident;
	if (sv->oom || !(nv = realloc(sv->v, (sv->n + 2) * sizeof(*nv)))) {
		sv->oom = true;
		return;
	}
	sv->v = nv;
	sv->v[sv->n] = strdup(e);
	if (!sv->v[sv->n]) {
		sv->oom = true;
		return;
	}
	sv->v[++sv->n] = NULL;
}

int irc_incident_entities(struct irc_store *s, int64_t id, char ***list, size_t *n)
{
	struct strv sv = { 0 };
	int err;

	*list = NULL;
	*n = 0;
	err = irc_store_entity_rows(s, id, 0, INT64_MAX, IRC_EXPORT_MAX_ENTITIES, strv_add, &sv);
	if (!err && sv.oom)
		err = irc_st_fail(-ENOMEM, "out of memory");
	if (err) {
		irc_strv_free(sv.v, sv.n);
		return err;
	}
	*list = sv.v;
	*n = sv.n;
	return 0;
}

int irc_store_tip(struct irc_store *s, int64_t *last_seq, int64_t *max_incident)
{
	sqlite3_stmt *st;
	int rc;

	*last_seq = *max_incident = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce((SELECT seq FROM chain WHERE id = 1), 0),"
			       " coalesce((SELECT max(id) FROM incidents), 0)", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read the chain head");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*last_seq = sqlite3_column_int64(st, 0);
		*max_incident = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : irc_st_dbfail(s, "read the chain head");
}

int irc_store_last_action(struct irc_store *s, const char *target, const char *const *types,
			  char *type, size_t len)
{
	sqlite3_stmt *st;
	int rc, err = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT type FROM actions WHERE target = ?"
			       " ORDER BY seq DESC", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read actions");
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	while (err == -ENOENT && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0) ?: "";
		size_t i;

		for (i = 0; types[i]; i++)
			if (!strcmp(t, types[i])) {
				snprintf(type, len, "%s", t);
				err = 0;
			}
	}
	sqlite3_finalize(st);
	return err;
}
