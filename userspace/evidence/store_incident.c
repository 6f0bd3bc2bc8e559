// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incidents: a mutable summary row each, every change to it an action in
 * the chain (which verify replays against the row).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "irc.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"

static const char *const istatus_names[IRC_IS__MAX] = {
	"detected", "triaged", "contained", "eradicated", "recovered", "closed",
};

const char *irc_istatus_name(int st)
{
	return st >= 0 && st < IRC_IS__MAX ? istatus_names[st] : "unknown";
}

int irc_istatus_parse(const char *s)
{
	int i;

	for (i = 0; i < IRC_IS__MAX; i++)
		if (!strcmp(s, istatus_names[i]))
			return i;
	return -EINVAL;
}

int irc_st_incident_row(sqlite3_stmt *st, struct irc_incident *in)
{
	memset(in, 0, sizeof(*in));
	in->id = sqlite3_column_int64(st, 0);
	snprintf(in->title, sizeof(in->title), "%s", sqlite3_column_text(st, 1) ?: (const uint8_t *)"");
	in->severity = sqlite3_column_int(st, 2);
	in->status = sqlite3_column_int(st, 3);
	snprintf(in->summary, sizeof(in->summary), "%s", sqlite3_column_text(st, 4) ?: (const uint8_t *)"");
	snprintf(in->opened_by, sizeof(in->opened_by), "%s", sqlite3_column_text(st, 5) ?: (const uint8_t *)"");
	in->created_ns = sqlite3_column_int64(st, 6);
	in->updated_ns = sqlite3_column_int64(st, 7);
	in->closed_ns = sqlite3_column_int64(st, 8);
	return 0;
}

int irc_incident_get(struct irc_store *s, int64_t id, struct irc_incident *out)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT " INC_COLS " FROM incidents WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read incident");
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		irc_st_incident_row(st, out);
	else if (rc == SQLITE_DONE)
		err = irc_st_fail(-ENOENT, "no incident %" PRId64 " in %s", id, s->path);
	else
		err = irc_st_dbfail(s, "read incident");
	sqlite3_finalize(st);
	return err;
}

int irc_incident_check_open(struct irc_store *s, int64_t id)
{
	struct irc_incident in;
	int err = irc_incident_get(s, id, &in);

	if (!err && in.status == IRC_IS_CLOSED)
		err = irc_st_fail(-EALREADY, "incident %" PRId64 " is closed", id);
	return err;
}

struct list_call {
	int (*fn)(const struct irc_incident *in, void *ctx);
	void *ctx;
};

static int list_row(sqlite3_stmt *st, void *p)
{
	struct list_call *c = p;
	struct irc_incident in;

	irc_st_incident_row(st, &in);
	return c->fn(&in, c->ctx);
}

int irc_incident_list(struct irc_store *s, int status,
		      int (*fn)(const struct irc_incident *in, void *ctx), void *ctx)
{
	struct list_call c = { fn, ctx };
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, "SELECT " INC_COLS " FROM incidents"
			       " WHERE ?1 < 0 OR status = ?1 ORDER BY id DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "list incidents");
	sqlite3_bind_int(st, 1, status);
	return irc_st_each(s, st, list_row, &c, "list incidents");
}

/* The incident's record of a change; its body NULL: out of memory. */
static int append_body(struct irc_store *s, struct irc_rec *r)
{
	int err = r->body ? irc_st_append(s, r, NULL) : irc_st_fail(-ENOMEM, "out of memory");

	json_decref(r->body);
	return err;
}

/* The transaction a change began for itself: committed, or rolled back after @err. */
static int end_own(struct irc_store *s, int err)
{
	return err ? irc_store_rollback(s), err : irc_store_commit(s);
}

int irc_incident_open(struct irc_store *s, const char *title, int severity,
		      const char *actor, const char *entity, int64_t *id)
{
	int64_t now = irc_now_real_ns();
	struct irc_rec r;
	sqlite3_stmt *st;
	bool own = !s->in_batch;
	int err;

	if (own && (err = irc_store_begin(s)))
		return err;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO incidents(title, severity, status, opened_by,"
			       " created_ns, updated_ns) VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		err = irc_st_dbfail(s, "prepare incident");
		goto out;
	}
	sqlite3_bind_text(st, 1, title, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, severity);
	sqlite3_bind_int(st, 3, IRC_IS_DETECTED);
	sqlite3_bind_text(st, 4, actor ?: "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	err = irc_st_step_done(s, st, "insert incident");
	if (err)
		goto out;
	*id = sqlite3_last_insert_rowid(s->db);
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = *id, .ts_ns = now,
		.type = "incident.open", .actor = actor, .target = entity,
		.body = json_pack("{s:s, s:s, s:s}", "title", title,
				  "severity", irc_severity_name(severity),
				  "status", irc_istatus_name(IRC_IS_DETECTED)) };
	/* Its body is what verify replays: never stored empty. */
	err = append_body(s, &r);
out:
	return own ? end_own(s, err) : err;
}

int irc_incident_set_status(struct irc_store *s, int64_t id, int status,
			    const char *actor, const char *text)
{
	int64_t now = irc_now_real_ns();
	struct irc_incident in;
	struct irc_rec r;
	sqlite3_stmt *st;
	bool own = !s->in_batch;
	int err;

	if (status < 0 || status >= IRC_IS__MAX)
		return irc_st_fail(-EINVAL, "bad incident status %d", status);
	if (own && (err = irc_store_begin(s)))
		return err;
	err = irc_incident_get(s, id, &in);
	if (err)
		goto out;
	if (in.status == IRC_IS_CLOSED) {
		err = irc_st_fail(-EALREADY, "incident %" PRId64 " is closed", id);
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "UPDATE incidents SET status = ?, updated_ns = ?,"
			       " closed_ns = ?, summary = CASE WHEN ? THEN ? ELSE summary END"
			       " WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		err = irc_st_dbfail(s, "prepare incident update");
		goto out;
	}
	sqlite3_bind_int(st, 1, status);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, status == IRC_IS_CLOSED ? now : 0);
	sqlite3_bind_int(st, 4, status == IRC_IS_CLOSED);
	sqlite3_bind_text(st, 5, text ?: "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, id);
	err = irc_st_step_done(s, st, "update incident");
	if (err)
		goto out;
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = id, .ts_ns = now,
		.type = status == IRC_IS_CLOSED ? "incident.close" : "incident.status",
		.actor = actor,
		.body = json_pack("{s:s, s:s, s:s}", "from", irc_istatus_name(in.status),
				  "to", irc_istatus_name(status), "text", text ?: "") };
	err = append_body(s, &r);
out:
	return own ? end_own(s, err) : err;
}

int irc_incident_raise(struct irc_store *s, int64_t id, int severity, const char *actor,
		       const char *why)
{
	struct irc_incident in;
	struct irc_rec r;
	sqlite3_stmt *st;
	bool own = !s->in_batch;
	int err;

	if (severity < IRC_SEV_LOW || severity > IRC_SEV_CRITICAL)
		return irc_st_fail(-EINVAL, "bad severity %d", severity);
	if (own && (err = irc_store_begin(s)))
		return err;
	err = irc_incident_get(s, id, &in);
	if (err || in.severity >= severity)
		goto out;
	if (sqlite3_prepare_v2(s->db, "UPDATE incidents SET severity = ?, updated_ns = ?"
			       " WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		err = irc_st_dbfail(s, "prepare incident severity");
		goto out;
	}
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = id,
		.ts_ns = (int64_t)irc_now_real_ns(), .type = "incident.severity", .actor = actor };
	sqlite3_bind_int(st, 1, severity);
	sqlite3_bind_int64(st, 2, r.ts_ns);
	sqlite3_bind_int64(st, 3, id);
	err = irc_st_step_done(s, st, "raise incident severity");
	if (err)
		goto out;
	r.body = json_pack("{s:s,s:s,s:s}", "from", irc_severity_name(in.severity),
			   "to", irc_severity_name(severity), "reason", why ?: "");
	err = append_body(s, &r);
out:
	return own ? end_own(s, err) : err;
}

int irc_incident_find(struct irc_store *s, const char *entity, int64_t now_ns,
		      int64_t window_s, int64_t *id)
{
	/*
	 * The entity's newest row that belongs to an incident, one index
	 * probe per table and column; it joins that incident if it is still
	 * open and the row is recent.  (A closed incident is not reopened: a
	 * new finding then opens a new one.)
	 */
#define NEWEST(t, c) "SELECT * FROM (SELECT seq, incident, ts_ns FROM " t \
	" WHERE incident > 0 AND " c " = ?1 ORDER BY seq DESC LIMIT 1)"
	static const char sql[] =
		"SELECT r.incident, r.ts_ns, i.status FROM ("
		NEWEST("actions", "target") " UNION ALL " NEWEST("actions", "peer")
		" UNION ALL " NEWEST("events", "target") " UNION ALL " NEWEST("events", "peer")
		" UNION ALL " NEWEST("evidence", "target") " UNION ALL " NEWEST("evidence", "peer")
		") r JOIN incidents i ON i.id = r.incident ORDER BY r.seq DESC LIMIT 1";
#undef NEWEST
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "find incident");
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 2) != IRC_IS_CLOSED &&
	    sqlite3_column_int64(st, 1) >= now_ns - window_s * 1000000000LL)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "find incident");
}

int irc_incident_open_ids(struct irc_store *s, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id FROM incidents WHERE status != ?1"
			       " ORDER BY id DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "list open incidents");
	sqlite3_bind_int(st, 1, IRC_IS_CLOSED);
	sqlite3_bind_int64(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : irc_st_dbfail(s, "list open incidents");
}
