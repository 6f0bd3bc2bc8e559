// SPDX-License-Identifier: GPL-2.0-only
/*
 * incident list|show|open|note|status|close.
 *
 * Every value is checked before the store is opened for writing: a bad
 * or unknown id, state, severity or text exits 2 with nothing changed.
 * Only `open` creates the store; the other verbs need an incident, so a
 * missing store just means there is none.
 */
#include <errno.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "evjson.h"
#include "irc.h"
#include "owned.h"
#include "parse.h"
#include "policy.h"
#include "store.h"

/* ---- values ------------------------------------------------------------- */

static int parse_id(const char *what, const char *s, int64_t *id)
{
	uint64_t v;

	if (irc_parse_u64(s, 1, INT64_MAX, &v, NULL))
		return irc_usage_err("%s: bad incident id '%s'", what, irc_shown(s));
	*id = v;
	return 0;
}

static void state_names(char *buf, size_t len, bool with_closed)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < IRC_IS__MAX; i++) {
		if (i == IRC_IS_CLOSED && !with_closed)
			continue;
		if (buf[0])
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, irc_istatus_name(i), len - strlen(buf) - 1);
	}
}

static int parse_state(const char *what, const char *s, bool allow_closed, int *st)
{
	char names[128];

	*st = irc_istatus_parse(s);
	if (*st < 0) {
		state_names(names, sizeof(names), true);
		return irc_usage_err("%s: unknown state '%s' (one of: %s)", what, s, names);
	}
	if (*st == IRC_IS_CLOSED && !allow_closed)
		return irc_usage_err("%s: an incident is closed with 'incident close ID --summary TEXT'",
				     what);
	return 0;
}

/*
 * Free text: not empty, at most @max bytes, and text that shows as what
 * it is (irc_parse_text()); a bad one is named escaped and cut.
 */
static int check_text(const char *what, const char *name, const char *s, size_t max)
{
	const char *why;

	if (!*s)
		return irc_usage_err("%s: %s is empty", what, name);
	if (strlen(s) > max)
		return irc_usage_err("%s: %s is %zu bytes long (at most %zu): '%s'", what, name,
				     strlen(s), max, irc_shown(s));
	if (irc_parse_text(s, max, &why))
		return irc_usage_err("%s: bad %s '%s': %s", what, name, irc_shown(s), why);
	return 0;
}

/* ---- the store ---------------------------------------------------------- */

/*
 * Opens the existing store.  Returns 0, with *@s NULL when there is none
 * yet (nothing is created), or an exit code after printing (a store that
 * cannot be opened is a failure, never "no incidents").
 */
static int store_existing(const char *what, struct irc_store **s)
{
	char db[4096], anchor[4096], msg[600];
	struct stat st;
	int fd;

	*s = NULL;
	/* Even to find nothing, the state dir must be ours (owned.h). */
	fd = irc_owned_dir(irc.state_dir, "state dir", false, 0700, msg, sizeof(msg));
	if (fd == -ENOENT)
		return IRC_EXIT_OK;
	if (fd < 0) {
		irc_err("%s: %s", what, msg);
		return IRC_EXIT_FAIL;
	}
	close(fd);
	snprintf(db, sizeof(db), "%s/%s", irc.state_dir, IRC_STORE_DB);
	snprintf(anchor, sizeof(anchor), "%s/%s", irc.state_dir, IRC_STORE_ANCHOR);
	/* Never a store: none yet.  A store that is gone is a failure, not "no incidents". */
	if (stat(db, &st) && errno == ENOENT && stat(anchor, &st) && errno == ENOENT)
		return IRC_EXIT_OK;
	if (irc_store_open(s, irc.state_dir, false)) {
		irc_err("%s: %s", what, irc_store_errmsg());
		return IRC_EXIT_FAIL;
	}
	return 0;
}

/* A store failure on incident @id: exit 1. */
static int fail(const char *what, int64_t id)
{
	irc_err("%s %" PRId64 ": %s", what, id, irc_store_errmsg());
	return IRC_EXIT_FAIL;
}

/*
 * After a write to incident @id (@err its result): closes @s; 0, or the
 * exit code after saying why (closed meanwhile: a usage error).
 */
static int written(const char *what, int64_t id, struct irc_store *s, int err)
{
	int ret = 0;

	if (err == -EALREADY)
		ret = irc_usage_err("incident %" PRId64 " is closed", id);
	else if (err)
		ret = fail(what, id);
	irc_store_close(s);
	return ret;
}

/* The store and incident @id, which must exist (and be open if @open). */
static int incident_get(const char *what, int64_t id, bool open, struct irc_store **s,
			struct irc_incident *in)
{
	int ret = store_existing(what, s), err;

	if (!ret && !*s)
		return irc_usage_err("%s: no incident %" PRId64 " (there is no evidence store yet)",
				     what, id);
	if (ret)
		return ret;
	err = irc_incident_get(*s, id, in);
	if (!err && open && in->status == IRC_IS_CLOSED)
		ret = irc_usage_err("incident %" PRId64 " is closed", id);
	else if (err == -ENOENT)
		ret = irc_usage_err("%s: no incident %" PRId64, what, id);
	else if (err)
		ret = fail(what, id);
	if (ret) {
		irc_store_close(*s);
		*s = NULL;
	}
	return ret;
}

static json_t *incident_json(const struct irc_incident *in)
{
	char opened[40], updated[40], closed[40];

	irc_fmt_utc(in->created_ns, opened, sizeof(opened));
	irc_fmt_utc(in->updated_ns, updated, sizeof(updated));
	irc_fmt_utc(in->closed_ns, closed, sizeof(closed));
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}",
		"id", (json_int_t)in->id, "title", in->title,
		"severity", irc_severity_name(in->severity),
		"status", irc_istatus_name(in->status), "summary", in->summary,
		"opened_by", in->opened_by, "opened", opened, "updated", updated,
		"closed", in->closed_ns ? json_string(closed) : json_null());
}

/* Text on one line: control characters (a note's newlines) as spaces. */
static void put_line(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* ---- list --------------------------------------------------------------- */

static int list_json(const struct irc_incident *in, void *ctx)
{
	(void)ctx;
	irc_json_print(incident_json(in));
	return 0;
}

static int list_text(const struct irc_incident *in, void *ctx)
{
	char opened[40];

	if (!(*(int *)ctx)++)
		printf("%-6s %-10s %-8s %-20s  %s\n", "ID", "STATUS", "SEVERITY",
		       "OPENED (UTC)", "TITLE");
	irc_fmt_utc(in->created_ns, opened, sizeof(opened));
	printf("%-6" PRId64 " %-10s %-8s %-20s  ", in->id, irc_istatus_name(in->status),
	       irc_severity_name(in->severity), opened);
	put_line(in->title);
	putchar('\n');
	return 0;
}

static int do_incident_list(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "status", 's', "STATE", 0 },
		{ 0 }
	};
	char usage[64];
	const char *what = "incident list";
	struct irc_store *s = NULL;
	int c, ret, err, status = -1, rows = 0;

	while ((c = irc_opts_getopt(argc, argv, opts, what)) != -1) {
		if (c != 's')
			return IRC_EXIT_USAGE;
		ret = parse_state(what, optarg, true, &status);
		if (ret)
			return ret;
	}
	if (!irc_operands(argc, argv, 0, what, irc_opts_usage(opts, what, NULL, usage, sizeof(usage))))
		return IRC_EXIT_USAGE;
	ret = store_existing(what, &s);
	if (!ret && !s) {
		if (!irc.json)
			printf("no incidents\n");
		return IRC_EXIT_OK;
	}
	if (ret)
		return ret;
	err = irc_incident_list(s, status, irc.json ? list_json : list_text, &rows);
	if (err) {
		irc_err("%s: %s", what, irc_store_errmsg());
		irc_store_close(s);
		return IRC_EXIT_FAIL;
	}
	irc_store_close(s);
	if (!rows && !irc.json)
		printf("no incidents%s%s\n", status >= 0 ? " with status " : "",
		       status >= 0 ? irc_istatus_name(status) : "");
	return IRC_EXIT_OK;
}

/* ---- show --------------------------------------------------------------- */

static const char *kind_name(int kind)
{
	return kind == IRC_REC_ACTION ? "action" : kind == IRC_REC_EVENT ? "event" :
	       "evidence";
}

static const char *jget(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The one-line summary of a record for the timeline. */
static void row_text(const struct irc_row *r, json_t *body, char *buf, size_t len)
{
	const char *reason = jget(body, "reason"), *text = jget(body, "text");
	const char *msg = jget(body, "message");

	buf[0] = '\0';
	if (r->kind == IRC_REC_ACTION) {
		if (!strcmp(r->type, "incident.open"))
			snprintf(buf, len, "opened \"%s\", severity %s", jget(body, "title") ?: "",
				 jget(body, "severity") ?: "?");
		else if (!strcmp(r->type, "incident.status") || !strcmp(r->type, "incident.close"))
			snprintf(buf, len, "%s -> %s%s%s", jget(body, "from") ?: "?",
				 jget(body, "to") ?: "?", text && *text ? ": " : "", text ?: "");
		else if (text)
			snprintf(buf, len, "%s", text);
		else
			snprintf(buf, len, "%s%s%s%s", jget(body, "result") ?: "",
				 reason && *reason ? ", reason \"" : "", reason ?: "",
				 reason && *reason ? "\"" : "");
	} else if (r->kind == IRC_REC_EVENT) {
		snprintf(buf, len, "%s", msg ?: r->type);
	} else if (!strcmp(r->type, "snapshot")) {
		snprintf(buf, len, "%s exe %s sha256 %s", jget(body, "comm") ?: "?",
			 jget(body, "exe") ?: "?", jget(body, "sha256") ?: "?");
	} else if (!strcmp(r->type, "packet")) {
		snprintf(buf, len, "packet, %zu bytes%s%s", r->data_len, msg ? ": " : "",
			 msg ?: "");
	} else {
		snprintf(buf, len, "%s%s%zu bytes", msg ?: "", msg ? ", " : "", r->data_len);
	}
}

/* What both forms of a timeline row show, worked out once. */
struct tl_row {
	json_t *body;		/* the record's body parsed; NULL if it does not parse */
	char when[48], text[1024];
};

static void tl_row(const struct irc_row *r, struct tl_row *t)
{
	t->body = json_loads(r->body, 0, NULL);
	irc_fmt_ts(r->ts_ns, t->when, sizeof(t->when));	/* ms: records a few ms apart stay apart */
	row_text(r, t->body, t->text, sizeof(t->text));
}

/* Appends the row to the JSON array @ctx. */
static int timeline_json(const struct irc_row *r, void *ctx)
{
	struct tl_row t;

	tl_row(r, &t);
	json_array_append_new(ctx, json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:I}",
		"seq", (json_int_t)r->seq, "time", t.when, "ts_ns", (json_int_t)r->ts_ns,
		"kind", kind_name(r->kind), "type", r->type, "actor", r->actor,
		"target", r->target, "peer", r->peer, "incident", (json_int_t)r->incident,
		"text", t.text, "body", t.body ? json_incref(t.body) : json_object(),
		"data_len", (json_int_t)r->data_len));
	json_decref(t.body);
	return 0;
}

static int timeline_text(const struct irc_row *r, void *ctx)
{
	struct tl_row t;

	(void)ctx;
	tl_row(r, &t);
	printf("  %-24s %-8s %-18s %-12s %-24s ", t.when, kind_name(r->kind), r->type,
	       *r->actor ? r->actor : "-", *r->target ? r->target : "-");
	put_line(t.text);
	putchar('\n');
	json_decref(t.body);
	return 0;
}

static void show_header(const struct irc_incident *in)
{
	char t[40];

	printf("incident %" PRId64 ": ", in->id);
	put_line(in->title);
	printf("\n  severity:  %s\n  status:    %s\n", irc_severity_name(in->severity),
	       irc_istatus_name(in->status));
	irc_fmt_utc(in->created_ns, t, sizeof(t));
	printf("  opened:    %s by %s\n", t, in->opened_by[0] ? in->opened_by : "-");
	irc_fmt_utc(in->updated_ns, t, sizeof(t));
	printf("  updated:   %s\n", t);
	if (in->closed_ns) {
		irc_fmt_utc(in->closed_ns, t, sizeof(t));
		printf("  closed:    %s\n", t);
	}
	printf("  summary:   ");
	put_line(in->summary[0] ? in->summary : "-");
	printf("\ntimeline:\n");
}

static int do_incident_show(int argc, char **argv)
{
	const char *what = "incident show";
	struct irc_incident in;
	struct irc_store *s;
	json_t *arr = NULL;
	char **ents = NULL, **ops;
	size_t nents = 0;
	/* As export does: from a while before it was opened. */
	int64_t lookback = IRC_EXPORT_LOOKBACK_S * 1000000000LL, id = 0, to;
	int ret, err;

	ops = irc_args(argc, argv, 1, what, "incident show ID");
	if (!ops)
		return IRC_EXIT_USAGE;
	ret = parse_id(what, ops[0], &id);
	if (!ret)
		ret = incident_get(what, id, false, &s, &in);
	if (ret)
		return ret;
	/* Its own records, and those of every entity its actions named. */
	err = irc_incident_entities(s, id, &ents, &nents);
	if (!err) {
		to = in.closed_ns ? in.closed_ns : (int64_t)irc_now_real_ns();
		if (irc.json)
			arr = json_array();
		else
			show_header(&in);
		err = irc_store_rows(s, id, IRC_REC_ALL, in.created_ns - lookback, to,
				     (const char *const *)ents, arr ? timeline_json : timeline_text, arr);
	}
	irc_strv_free(ents, nents);
	if (err) {
		irc_err("%s %" PRId64 ": %s", what, id, irc_store_errmsg());
		json_decref(arr);
		irc_store_close(s);
		return IRC_EXIT_FAIL;
	}
	irc_store_close(s);
	if (arr)
		irc_json_print(json_pack("{s:o,s:o}", "incident", incident_json(&in),
					 "timeline", arr));
	return IRC_EXIT_OK;
}

/* ---- open --------------------------------------------------------------- */

static int do_incident_open(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "title", 't', "TEXT", IRC_OPT_REQUIRED },
		{ "severity", 's', "low|medium|high|critical", IRC_OPT_REQUIRED },
		{ 0 }
	};
	char usage[96];
	const char *what = "incident open", *title = NULL;
	struct irc_incident in;
	struct irc_store *s;
	char actor[64];
	int c, ret, sev = -1;
	int64_t id = 0;

	while ((c = irc_opts_getopt(argc, argv, opts, what)) != -1) {
		switch (c) {
		case 't':
			title = optarg;
			break;
		case 's':
			sev = irc_severity_parse(optarg);
			if (sev < 0)
				return irc_usage_err("%s: unknown severity '%s' (one of: low, medium, high, critical)",
						     what, optarg);
			break;
		default:
			return IRC_EXIT_USAGE;
		}
	}
	if (!irc_operands(argc, argv, 0, what, irc_opts_usage(opts, what, NULL, usage, sizeof(usage))))
		return IRC_EXIT_USAGE;
	if (!title)
		return irc_usage_err("%s: --title is required", what);
	if (sev < 0)
		return irc_usage_err("%s: --severity is required (low, medium, high or critical)",
				     what);
	ret = check_text(what, "--title", title, IRC_TITLE_MAX);
	if (ret)
		return ret;
	if (irc_store_open(&s, irc.state_dir, true)) {
		irc_err("%s: %s", what, irc_store_errmsg());
		return IRC_EXIT_FAIL;
	}
	irc_actor(actor, sizeof(actor));
	if (irc_incident_open(s, title, sev, actor, NULL, &id) ||
	    irc_incident_get(s, id, &in)) {
		irc_err("%s: %s", what, irc_store_errmsg());
		irc_store_close(s);
		return IRC_EXIT_FAIL;
	}
	irc_store_close(s);
	irc.json ? irc_json_print(incident_json(&in)) : (void)printf("%" PRId64 "\n", id);
	return IRC_EXIT_OK;
}

/* ---- note --------------------------------------------------------------- */

/* What a note did: built by do_incident_note(), then printed once. */
struct note_done {
	int64_t id, seq;
	const char *actor;
};

static json_t *note_json(const struct note_done *d)
{
	return json_pack("{s:I,s:s,s:I,s:s}", "id", (json_int_t)d->id,
			 "action", "incident.note", "seq", (json_int_t)d->seq,
			 "actor", d->actor);
}

static void note_text(const struct note_done *d)
{
	printf("noted on incident %" PRId64 "\n", d->id);
}

static int do_incident_note(int argc, char **argv)
{
	const char *what = "incident note";
	struct irc_incident in;
	struct irc_store *s;
	struct note_done d;
	struct irc_rec r;
	char actor[64], **ops;
	int64_t id = 0, seq = 0;
	int ret, err;

	ops = irc_args(argc, argv, 2, what, "incident note ID TEXT");
	if (!ops)
		return IRC_EXIT_USAGE;
	ret = parse_id(what, ops[0], &id);
	if (!ret)
		ret = check_text(what, "the note", ops[1], IRC_TEXT_MAX);
	if (!ret)
		ret = incident_get(what, id, true, &s, &in);
	if (ret)
		return ret;
	irc_actor(actor, sizeof(actor));
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = id,
		.type = "incident.note", .actor = actor,
		.body = json_pack("{s:s}", "text", ops[1]) };
	/* Checked again inside the transaction: it may have closed meanwhile. */
	err = irc_store_begin(s);
	if (!err)
		err = irc_incident_check_open(s, id);
	if (!err)
		err = irc_store_append(s, &r, &seq);
	err = err ? irc_store_rollback(s), err : irc_store_commit(s);
	json_decref(r.body);
	ret = written(what, id, s, err);
	if (ret)
		return ret;
	d = (struct note_done){ .id = id, .seq = seq, .actor = actor };
	irc.json ? irc_json_print(note_json(&d)) : note_text(&d);
	return IRC_EXIT_OK;
}

/* ---- status, close ------------------------------------------------------ */

/* What a status change did: built by set_status(), then printed once. */
struct status_change {
	int64_t id;
	int from, to;
	bool changed;		/* false: it already had that status */
};

static json_t *status_json(const struct status_change *c)
{
	return json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)c->id,
			 "status", irc_istatus_name(c->to), "from", irc_istatus_name(c->from),
			 "changed", c->changed);
}

static void status_text(const struct status_change *c)
{
	if (c->changed)
		printf("incident %" PRId64 ": %s -> %s\n", c->id, irc_istatus_name(c->from),
		       irc_istatus_name(c->to));
	else
		printf("incident %" PRId64 " is already %s\n", c->id, irc_istatus_name(c->to));
}

static int set_status(const char *what, int64_t id, int st, const char *text)
{
	struct irc_incident in;
	struct irc_store *s;
	char actor[64];
	struct status_change c;
	int ret, err;

	ret = incident_get(what, id, true, &s, &in);
	if (ret)
		return ret;
	c = (struct status_change){ .id = id, .from = in.status, .to = st,
				    .changed = in.status != st };
	if (!c.changed) {
		irc_store_close(s);
	} else {
		irc_actor(actor, sizeof(actor));
		err = irc_incident_set_status(s, id, st, actor, text);
		ret = written(what, id, s, err);
		if (ret)
			return ret;
	}
	irc.json ? irc_json_print(status_json(&c)) : status_text(&c);
	return IRC_EXIT_OK;
}

static int do_incident_status(int argc, char **argv)
{
	const char *what = "incident status";
	char **ops;
	int64_t id = 0;
	int ret, st;

	ops = irc_args(argc, argv, 2, what, "incident status ID STATE");
	if (!ops)
		return IRC_EXIT_USAGE;
	ret = parse_id(what, ops[0], &id);
	if (!ret)
		ret = parse_state(what, ops[1], false, &st);
	return ret ?: set_status(what, id, st, NULL);
}

static int do_incident_close(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "summary", 's', "TEXT", IRC_OPT_REQUIRED },
		{ 0 }
	};
	char usage[64];
	const char *what = "incident close", *summary = NULL;
	char **ops;
	int64_t id = 0;
	int c, ret;

	while ((c = irc_opts_getopt(argc, argv, opts, what)) != -1) {
		if (c != 's')
			return IRC_EXIT_USAGE;
		summary = optarg;
	}
	ops = irc_operands(argc, argv, 1, what, irc_opts_usage(opts, what, "ID", usage, sizeof(usage)));
	if (!ops)
		return IRC_EXIT_USAGE;
	ret = parse_id(what, ops[0], &id);
	if (ret)
		return ret;
	if (!summary)
		return irc_usage_err("%s: --summary is required", what);
	ret = check_text(what, "--summary", summary, IRC_TEXT_MAX);
	return ret ?: set_status(what, id, IRC_IS_CLOSED, summary);
}

int do_incident(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "list", do_incident_list },
		{ "show", do_incident_show },
		{ "open", do_incident_open },
		{ "note", do_incident_note },
		{ "status", do_incident_status },
		{ "close", do_incident_close },
		{ 0 }
	};

	return irc_cmd_dispatch("incident", cmds, argc - 1, argv + 1);
}
