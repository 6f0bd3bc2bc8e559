// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verification: the chain walked to the head across the gaps the last
 * prune sealed, the incidents replayed from their records, the anchor and
 * the controller sessions checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdarg.h>

#include <sodium.h>
#include <sqlite3.h>

#include "irc.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"

/* The incidents as the chain says they should be. */
struct replay {
	int64_t id;
	char *title, *summary, *opened_by;
	int severity, status;
	int64_t created_ns, updated_ns, closed_ns;
};

struct vstate {
	struct irc_store *s;
	struct irc_verify *v;
	uint8_t prev[IRC_MAC_LEN];
	int64_t expect;
	const struct seal *cut;	/* the last prune's, its gaps crossed up to @gap */
	size_t gap;
	struct replay *inc;
	size_t ninc;
	/* controller sessions */
	struct session {
		long pid;
		char boot[40];
		int64_t start_seq, last_seq, start_ns, last_ns;
		bool open, credited;	/* credited: the records now are its */
	} *ses;
	size_t nses;
};

static const char *kind_name(int kind)
{
	return kind == IRC_REC_ACTION ? "action" : kind == IRC_REC_EVENT ? "event" : "evidence";
}

static int bad(struct vstate *vs, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct vstate *vs, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vs->v->problem, sizeof(vs->v->problem), fmt, ap);
	va_end(ap);
	vs->v->bad_seq = seq;
	return -EBADMSG;
}

static struct replay *replay_find(struct vstate *vs, int64_t id)
{
	size_t i;

	for (i = 0; i < vs->ninc; i++)
		if (vs->inc[i].id == id)
			return &vs->inc[i];
	return NULL;
}

static void replay_action(struct vstate *vs, const struct irc_row *r)
{
	struct replay *in, *n;
	json_t *b;
	const char *t;

	if (strncmp(r->type, "incident.", 9) && strncmp(r->type, "run.", 4))
		return;
	b = json_loads(r->body, 0, NULL);
	if (!b)
		return;
	if (!strcmp(r->type, "incident.open")) {
		n = realloc(vs->inc, (vs->ninc + 1) * sizeof(*n));
		if (n) {
			vs->inc = n;
			in = &n[vs->ninc++];
			in->id = r->incident;
			in->title = strdup(json_string_value(json_object_get(b, "title")) ?: "");
			in->summary = strdup("");
			in->severity = irc_severity_parse(json_string_value(json_object_get(b, "severity")) ?: "");
			in->status = IRC_IS_DETECTED;
			in->opened_by = strdup(r->actor);
			in->created_ns = in->updated_ns = r->ts_ns;
			in->closed_ns = 0;
		}
	} else if (!strcmp(r->type, "incident.status") || !strcmp(r->type, "incident.close")) {
		in = replay_find(vs, r->incident);
		t = json_string_value(json_object_get(b, "to"));
		if (in && t)
			in->status = irc_istatus_parse(t);
		if (in)
			in->updated_ns = r->ts_ns;
		if (in && !strcmp(r->type, "incident.close")) {
			free(in->summary);
			in->summary = strdup(json_string_value(json_object_get(b, "text")) ?: "");
			in->closed_ns = r->ts_ns;
		}
	} else if (!strcmp(r->type, "incident.severity")) {
		in = replay_find(vs, r->incident);
		t = json_string_value(json_object_get(b, "to"));
		if (in && t && irc_severity_parse(t) > 0)
			in->severity = irc_severity_parse(t);
		if (in)
			in->updated_ns = r->ts_ns;
	} else if (!strcmp(r->type, "run.start") || !strcmp(r->type, "run.stop")) {
		long pid = json_integer_value(json_object_get(b, "pid"));
		const char *boot = json_string_value(json_object_get(b, "boot_id")) ?: "";
		struct session *se = NULL;
		size_t i;

		for (i = 0; i < vs->nses; i++)
			if (vs->ses[i].open && vs->ses[i].pid == pid && !strcmp(vs->ses[i].boot, boot))
				se = &vs->ses[i];
		if (!strcmp(r->type, "run.stop")) {
			if (se)
				se->open = false;
		} else {
			struct session *ns = realloc(vs->ses, (vs->nses + 1) * sizeof(*ns));

			if (ns) {
				vs->ses = ns;
				/*
				 * One controller at a time: an older session still
				 * open ended without a clean stop before this one;
				 * what follows is not its.
				 */
				for (i = 0; i < vs->nses; i++)
					ns[i].credited = false;
				se = &ns[vs->nses++];
				memset(se, 0, sizeof(*se));
				se->pid = pid;
				snprintf(se->boot, sizeof(se->boot), "%s", boot);
				se->start_seq = se->last_seq = r->seq;
				se->start_ns = se->last_ns = r->ts_ns;
				se->open = true;
				se->credited = true;
			}
		}
	}
	json_decref(b);
}

static int verify_row(const struct irc_row *r, void *ctx)
{
	struct vstate *vs = ctx;
	uint8_t mac[IRC_MAC_LEN];
	char when[40];
	size_t i;

	irc_fmt_utc(r->ts_ns, when, sizeof(when));
	/* A range pruned: the chain goes on from the MAC its seal kept. */
	if (vs->cut && vs->gap < vs->cut->ngaps && vs->cut->gaps[vs->gap].first == vs->expect) {
		const struct gap *g = &vs->cut->gaps[vs->gap++];

		if (r->seq <= g->last)
			return bad(vs, r->seq, "record #%" PRId64 " is in the range #%" PRId64 "-#%" PRId64
				   " that the prune at #%" PRId64 " sealed as pruned", r->seq, g->first,
				   g->last, vs->cut->seq);
		vs->expect = g->last + 1;
		memcpy(vs->prev, g->mac, IRC_MAC_LEN);
	}
	if (r->seq > vs->expect)
		return bad(vs, vs->expect, "record #%" PRId64 " is missing (deleted?): the chain jumps from #%" PRId64 " to #%" PRId64,
			   vs->expect, vs->expect - 1, r->seq);
	if (r->seq < vs->expect)
		return bad(vs, r->seq, "record #%" PRId64 " appears twice (in %s)", r->seq, kind_name(r->kind));
	irc_st_row_mac(vs->s->key, vs->prev, r, mac);
	if (!r->mac || sodium_memcmp(r->mac, mac, IRC_MAC_LEN))
		return bad(vs, r->seq, "record #%" PRId64 " (%s '%s' at %s) does not match its MAC: it was changed, or moved within the chain",
			   r->seq, kind_name(r->kind), r->type, when);
	memcpy(vs->prev, mac, IRC_MAC_LEN);
	vs->expect++;
	vs->v->records++;
	if (r->kind == IRC_REC_ACTION) {
		vs->v->actions++;
		replay_action(vs, r);
	} else if (r->kind == IRC_REC_EVENT) {
		vs->v->events++;
	} else {
		vs->v->evidence++;
	}
	/*
	 * Events and packet samples come from the controller alone: the last
	 * of them in a session is the last record it committed.
	 */
	for (i = 0; r->kind != IRC_REC_ACTION && i < vs->nses; i++)
		if (vs->ses[i].open && vs->ses[i].credited) {
			vs->ses[i].last_seq = r->seq;
			vs->ses[i].last_ns = r->ts_ns;
		}
	return 0;
}

static int check_incidents(struct vstate *vs)
{
	sqlite3_stmt *st;
	struct irc_incident in;
	struct replay *rp;
	size_t seen = 0;
	int rc, err = 0;

	if (sqlite3_prepare_v2(vs->s->db, "SELECT " INC_COLS " FROM incidents ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(vs->s, "read incidents");
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		irc_st_incident_row(st, &in);
		vs->v->incidents++;
		rp = replay_find(vs, in.id);
		if (!rp)
			err = bad(vs, 0, "incident %" PRId64 " is in the incidents table but no record opened it", in.id);
		else if (strcmp(rp->title, in.title) || rp->severity != in.severity ||
			 rp->status != in.status || strcmp(rp->summary, in.summary))
			err = bad(vs, 0, "incident %" PRId64 " was edited: the table says %s/%s '%s', its records say %s/%s '%s'",
				  in.id, irc_istatus_name(in.status), irc_severity_name(in.severity), in.title,
				  irc_istatus_name(rp->status), irc_severity_name(rp->severity), rp->title);
		/* Its times and opener too: they set what show and export cover. */
		else if (rp->created_ns != in.created_ns || rp->updated_ns != in.updated_ns ||
			 rp->closed_ns != in.closed_ns || strcmp(rp->opened_by ?: "", in.opened_by))
			err = bad(vs, 0, "incident %" PRId64 " was edited: its times or opener (%s) differ from its records (%s)",
				  in.id, in.opened_by, rp->opened_by ?: "");
		else
			seen++;
	}
	sqlite3_finalize(st);
	if (!err && seen != vs->ninc)
		err = bad(vs, 0, "%zu incident(s) opened in the records are missing from the incidents table",
			  vs->ninc - seen);
	return err;
}


static int check_anchor(struct vstate *vs, const struct anchor *a, int64_t last)
{
	char problem[400];
	int64_t seq;
	int err = irc_st_anchor_check(vs->s, a, last, problem, sizeof(problem), &seq);

	return err == -EBADMSG ? bad(vs, seq, "%s", problem) : err;
}

/* Is the controller session still running (same boot, live pid)? */
static bool session_alive(const struct session *se)
{
	char boot[40] = "", path[64], comm[32] = "";
	FILE *f;

	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
		boot[strcspn(boot, "\n")] = '\0';
	}
	if (strcmp(boot, se->boot) || kill(se->pid, 0))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", se->pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "ircontain", 9);
}

int irc_store_verify(struct irc_store *s, struct irc_verify *v)
{
	uint8_t hmac[IRC_MAC_LEN], hsig[IRC_MAC_LEN], want[IRC_MAC_LEN];
	struct vstate vs = { .s = s, .v = v, .expect = 1 };
	struct anchor anc;
	struct seal cut = { 0 };
	bool found;
	size_t i;
	int err;

	memset(v, 0, sizeof(*v));
	/*
	 * The anchor first: a writer moves it only after its commit, so the
	 * snapshot read below reaches at least as far.
	 */
	anc.err = irc_st_anchor_read(s, &anc.seq, anc.mac, anc.sig);
	/* One consistent snapshot of the whole store. */
	err = irc_st_exec(s, "BEGIN", "begin read");
	if (err)
		return err;
	/*
	 * A pruned store has gaps, each crossed from the MAC the last prune
	 * sealed for it.  That seal is only what its record says until the
	 * walk reaches the record and proves it (every gap is before it).
	 */
	err = irc_st_seal_read(s, &cut);
	if (!err && cut.found) {
		v->pruned_total = cut.total;
		v->pruned_last = cut.last;
		v->pruned_ns = cut.ts_ns;
		v->pruned_ranges = cut.ngaps;
		for (i = 0; i < cut.ngaps && i < IRC_VERIFY_RANGES; i++)
			v->ranges[i] = (struct irc_pruned_range){ cut.gaps[i].first, cut.gaps[i].last,
								  cut.gaps[i].ts_ns };
		snprintf(v->pruned_reason, sizeof(v->pruned_reason), "%s", cut.reason);
		if (cut.bad)
			err = bad(&vs, cut.seq, "the last prune's record (#%" PRId64 ") has no usable seal"
				  " (its ranges and MACs)", cut.seq);
		vs.cut = &cut;
	}
	if (!err)
		err = irc_store_rows(s, 0, IRC_REC_ALL, 0, 0, NULL, verify_row, &vs);
	if (!err && cut.found && (vs.gap < cut.ngaps || vs.expect <= cut.seq))
		err = bad(&vs, cut.seq, "the last prune (record #%" PRId64 ") is not in the chain after"
			  " the ranges it sealed", cut.seq);
	if (!err)
		err = irc_st_head_read(s, &v->head_seq, hmac, hsig, &found);
	if (!err)
		irc_hex(hmac, IRC_MAC_LEN, v->head_mac);
	if (!err) {
		int64_t last = vs.expect - 1;

		irc_st_head_sig(s->key, v->head_seq, hmac, want);
		if (!found && last)
			err = bad(&vs, last, "the chain head is missing: the last %" PRId64 " records cannot be vouched for", last);
		else if (found && sodium_memcmp(hsig, want, IRC_MAC_LEN))
			err = bad(&vs, v->head_seq, "the chain head (record #%" PRId64 ") does not match its seal: it was edited", v->head_seq);
		else if (found && v->head_seq > last)
			err = bad(&vs, last + 1, "the chain was truncated: its head is record #%" PRId64 " but it ends at #%" PRId64,
				  v->head_seq, last);
		else if (found && v->head_seq < last)
			err = bad(&vs, v->head_seq + 1, "records after the head #%" PRId64 " were added outside ircontain", v->head_seq);
		else if (found && sodium_memcmp(hmac, vs.prev, IRC_MAC_LEN))
			err = bad(&vs, last, "the chain head does not match record #%" PRId64, last);
	}
	if (!err)
		err = check_incidents(&vs);
	if (!err)
		err = check_anchor(&vs, &anc, vs.expect - 1);
	for (i = 0; i < vs.nses; i++) {
		struct session *se = &vs.ses[i];
		char t0[40], t1[40];

		if (!se->open || session_alive(se))
			continue;
		v->unclean++;
		irc_fmt_utc(se->start_ns, t0, sizeof(t0));
		irc_fmt_utc(se->last_ns, t1, sizeof(t1));
		snprintf(v->unclean_note, sizeof(v->unclean_note),
			 "controller pid %ld (started %s, record #%" PRId64 ") ended without a clean stop;"
			 " its last committed record is #%" PRId64 " at %s; events it had not yet committed were lost",
			 se->pid, t0, se->start_seq, se->last_seq, t1);
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < vs.ninc; i++) {
		free(vs.inc[i].title);
		free(vs.inc[i].summary);
		free(vs.inc[i].opened_by);
	}
	free(vs.inc);
	free(vs.ses);
	irc_st_seal_free(&cut);
	return err;
}
