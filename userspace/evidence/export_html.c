// SPDX-License-Identifier: GPL-2.0-only
/*
 * report.html: the incident for people who will not read JSON.  One file,
 * inline CSS and SVG, no script, no external URL, so it opens anywhere,
 * prints, and stays what it was when it was signed.  Every text that came
 * from a record is escaped.
 *
 * What it shows is collected record by record (irc_xreport_add) during
 * the export's single pass over the store, within fixed bounds: the
 * tables keep their first rows and say how many more are in events.jsonl.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "ircontain/abi.h"
#include "entity.h"
#include "text.h"
#include "export.h"
#include "irc.h"
#include "policy.h"

#define MAX_ENTS	200	/* hosts, processes shown */

enum { R_CONTAINED = 1, R_RELEASED = 2, R_DETECTED = 4, R_SNAPSHOT = 8, R_TRAFFIC = 16,
       R_SEEN = 32 };

struct tl_row {
	int64_t ts, seq;
	int kind;
	bool finding;
	char *type, *actor, *target, *msg;
};

struct act_row {
	int64_t ts, seq;
	char *actor, *type, *target, *reason, *result;
};

struct ent {
	char *key, *label;
	int64_t first, last;
	uint64_t records, packets;
	unsigned int roles;
};

struct i64v {
	int64_t *v;
	size_t n, cap;
	uint64_t more;
};

struct irc_xreport {
	struct irc_xreport_info info;
	struct tl_row *tl;
	size_t ntl;
	uint64_t tl_more;
	struct act_row *act;
	size_t nact;
	uint64_t act_more;
	struct ent hosts[MAX_ENTS], procs[MAX_ENTS];
	size_t nhosts, nprocs;
	uint64_t ents_more;
	struct i64v drops_pkt, drops_ev;
	uint64_t n_action, n_event, n_evidence, n_finding, n_packet, n_artifact;
	int64_t first_ts, last_ts;
};

/* --- escaping ---------------------------------------------------------- */


void irc_html_puts(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ?: "");
	const unsigned char *end = s + strlen((const char *)s);
	size_t l;

	for (; *s; s += l ? l : 1) {
		l = irc_utf8_len(s, end - s);
		switch (l ? *s : 0x100) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		case '\n': case '\t': fputc(*s, f); break;
		default:
			/* Control characters and bytes that are not UTF-8: shown, not obeyed. */
			if (!l || *s < 0x20 || *s == 0x7f)
				fprintf(f, "\\x%02x", *s);
			else
				fwrite(s, 1, l, f);
		}
	}
}

char *irc_html_escape(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	irc_html_puts(f, s);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- collecting ------------------------------------------------------- */

struct irc_xreport *irc_xreport_new(const struct irc_xreport_info *info)
{
	struct irc_xreport *rp = calloc(1, sizeof(*rp));

	if (rp)
		rp->info = *info;
	return rp;
}

static void ents_free(struct ent *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].label);
	}
}

void irc_xreport_free(struct irc_xreport *rp)
{
	size_t i;

	if (!rp)
		return;
	for (i = 0; i < rp->ntl; i++) {
		free(rp->tl[i].type);
		free(rp->tl[i].actor);
		free(rp->tl[i].target);
		free(rp->tl[i].msg);
	}
	free(rp->tl);
	for (i = 0; i < rp->nact; i++) {
		free(rp->act[i].actor);
		free(rp->act[i].type);
		free(rp->act[i].target);
		free(rp->act[i].reason);
		free(rp->act[i].result);
	}
	free(rp->act);
	ents_free(rp->hosts, rp->nhosts);
	ents_free(rp->procs, rp->nprocs);
	free(rp->drops_pkt.v);
	free(rp->drops_ev.v);
	free(rp);
}

static int i64_push(struct i64v *a, int64_t v)
{
	int64_t *nv;

	/* 8 MiB of timestamps at most; the chart says how many it left out. */
	if (a->n >= (1u << 20)) {
		a->more++;
		return 0;
	}
	if (a->n == a->cap) {
		nv = realloc(a->v, (a->cap ? 2 * a->cap : 256) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = a->cap ? 2 * a->cap : 256;
	}
	a->v[a->n++] = v;
	return 0;
}

/*
 * A new last row of the timeline or action table at *@arrp (a pointer to
 * the array pointer), or NULL: the table is full (counted in *@more, *@err
 * stays 0) or memory ran out (*@err = -ENOMEM).
 */
static void *row_add(void *arrp, size_t *n, size_t size, uint64_t *more, int *err)
{
	void *arr, *na;

	if (*n >= IRC_REPORT_TIMELINE_MAX) {
		(*more)++;
		return NULL;
	}
	memcpy(&arr, arrp, sizeof(arr));
	na = realloc(arr, (*n + 1) * size);
	if (!na) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(arrp, &na, sizeof(na));
	return (char *)na + (*n)++ * size;
}

static struct ent *ent_get(struct irc_xreport *rp, bool host, const char *key, int64_t ts)
{
	struct ent *e = host ? rp->hosts : rp->procs;
	size_t *n = host ? &rp->nhosts : &rp->nprocs, i;

	for (i = 0; i < *n; i++)
		if (!strcmp(e[i].key, key))
			break;
	if (i == *n) {
		if (*n >= MAX_ENTS) {
			rp->ents_more++;
			return NULL;
		}
		e[i].key = strdup(key);
		if (!e[i].key)
			return NULL;
		e[i].first = ts;
		(*n)++;
	}
	if (ts < e[i].first)
		e[i].first = ts;
	if (ts > e[i].last)
		e[i].last = ts;
	return &e[i];
}

static void ent_label(struct ent *e, const char *name, const char *exe)
{
	char buf[400];

	if (!e || (!name && !exe))
		return;
	/*
	 * Records come in chain order: the latest exec (or snapshot) names
	 * the image the process ran last; a bare comm never hides an exe.
	 */
	if (e->label && !exe)
		return;
	snprintf(buf, sizeof(buf), "%s%s%s%s", name ?: "", exe ? " (" : "", exe ?: "",
		 exe ? ")" : "");
	free(e->label);
	e->label = strdup(buf);
}

/* An entity named "host:..." or "pid:..." of a record. */
static void note_entity(struct irc_xreport *rp, const char *entity, int64_t ts,
			unsigned int roles)
{
	const char *h = irc_entity_host_of(entity);
	int pid = irc_entity_pid_of(entity);
	char key[32];
	struct ent *e = NULL;

	if (h) {
		e = ent_get(rp, true, h, ts);
	} else if (pid) {
		snprintf(key, sizeof(key), "%d", pid);
		e = ent_get(rp, false, key, ts);
	}
	if (e) {
		e->roles |= roles;
		e->records++;
	}
}

static void note_ip(struct irc_xreport *rp, const char *ip, int64_t ts, unsigned int roles,
		    bool add)
{
	struct ent *e = NULL;
	size_t i;

	if (!ip)
		return;
	for (i = 0; !add && i < rp->nhosts; i++)
		if (!strcmp(rp->hosts[i].key, ip))
			add = true;
	if (add)
		e = ent_get(rp, true, ip, ts);
	if (!e)
		return;
	e->roles |= roles;
	if (roles & R_TRAFFIC)
		e->packets++;
	else
		e->records++;
}

static void note_process(struct irc_xreport *rp, json_t *p, int64_t ts, unsigned int roles)
{
	char key[32];
	struct ent *e;
	json_int_t pid = irc_jint(p, "pid", 0);

	if (pid <= 0)
		return;
	snprintf(key, sizeof(key), "%lld", (long long)pid);
	e = ent_get(rp, false, key, ts);
	if (!e)
		return;
	e->roles |= roles;
	e->records++;
	ent_label(e, irc_jstr(p, "name"), irc_jstr(p, "executable"));
}

static char *dup0(const char *s)
{
	return strdup(s ?: "");
}

static int add_action(struct irc_xreport *rp, const struct irc_xrow *x)
{
	const struct irc_row *r = x->r;
	struct act_row *a;
	int err = 0;
	const char *how = irc_jstr(x->body, "action") ?: "";
	bool release = !strncmp(r->type, "release", 7) || !strcmp(how, "off");

	if (!strncmp(r->type, "quarantine", 10) || !strncmp(r->type, "isolate", 7) ||
	    !strcmp(r->type, "kill") || !strcmp(r->type, "stop") ||
	    !strncmp(r->type, "release", 7)) {
		note_entity(rp, r->target, r->ts_ns, release ? R_RELEASED : R_CONTAINED);
	} else {
		note_entity(rp, r->target, r->ts_ns, R_SEEN);
	}
	a = row_add(&rp->act, &rp->nact, sizeof(*a), &rp->act_more, &err);
	if (!a)
		return err;
	a->ts = r->ts_ns;
	a->seq = r->seq;
	a->actor = dup0(r->actor);
	a->type = dup0(r->type);
	a->target = dup0(r->target);
	a->reason = dup0(irc_jstr(x->body, "reason") ?: irc_jstr(x->body, "text"));
	a->result = dup0(irc_jstr(x->body, "result") ?: "ok");
	return a->actor && a->type && a->target && a->reason && a->result ? 0 : -ENOMEM;
}

static int add_timeline(struct irc_xreport *rp, const struct irc_xrow *x, bool finding)
{
	const struct irc_row *r = x->r;
	char msg[1024];
	struct tl_row *t;
	int err = 0;

	t = row_add(&rp->tl, &rp->ntl, sizeof(*t), &rp->tl_more, &err);
	if (!t)
		return err;
	irc_x_message(x, msg, sizeof(msg));
	t->ts = r->ts_ns;
	t->seq = r->seq;
	t->kind = r->kind;
	t->finding = finding;
	t->type = dup0(r->kind == IRC_REC_EVENT ? irc_x_action(x) : r->type);
	t->actor = dup0(r->actor);
	t->target = dup0(r->target);
	t->msg = dup0(msg);
	return t->type && t->actor && t->target && t->msg ? 0 : -ENOMEM;
}

int irc_xreport_add(struct irc_xreport *rp, const struct irc_xrow *x)
{
	const struct irc_row *r = x->r;
	bool finding = irc_x_is_finding(x);
	const char *act = irc_x_action(x);
	json_t *b = x->body;
	int err = 0;

	if (!rp->first_ts || r->ts_ns < rp->first_ts)
		rp->first_ts = r->ts_ns;
	if (r->ts_ns > rp->last_ts)
		rp->last_ts = r->ts_ns;
	switch (r->kind) {
	case IRC_REC_ACTION:
		rp->n_action++;
		err = add_action(rp, x);
		break;
	case IRC_REC_EVENT:
		rp->n_event++;
		if (finding) {
			rp->n_finding++;
			note_ip(rp, irc_jstr(b, "source.ip"), r->ts_ns, R_DETECTED, true);
			if (!irc_jstr(b, "source.ip"))
				note_process(rp, json_object_get(b, "process"), r->ts_ns, R_DETECTED);
		} else if (!strcmp(act, "packet_dropped")) {
			err = i64_push(&rp->drops_ev, r->ts_ns);
		} else {
			note_process(rp, json_object_get(b, "process"), r->ts_ns, R_SEEN);
		}
		note_entity(rp, r->target, r->ts_ns, finding ? R_DETECTED : R_SEEN);
		break;
	default:
		rp->n_evidence++;
		if (irc_x_is_packet(x)) {
			rp->n_packet++;
			err = i64_push(&rp->drops_pkt, r->ts_ns);
			/* The other end of the packet: the row's peer, as the daemon names it. */
			note_ip(rp, irc_entity_host_of(r->peer) ?: irc_jstr(b, "source.ip"), r->ts_ns,
				R_TRAFFIC, true);
		} else {
			if (x->artifact)
				rp->n_artifact++;
			note_entity(rp, r->target, r->ts_ns,
				    !strcmp(r->type, "snapshot") ? R_SNAPSHOT : R_SEEN);
			if (!strcmp(r->type, "snapshot")) {
				struct ent *e;
				char key[32];
				int pid = irc_entity_pid_of(r->target);

				snprintf(key, sizeof(key), "%d", pid);
				e = pid ? ent_get(rp, false, key, r->ts_ns) : NULL;
				ent_label(e, irc_jstr(b, "comm") ?: irc_jstr(b, "name"),
					  irc_jstr(b, "exe") ?: irc_jstr(b, "executable"));
			}
		}
		break;
	}
	/* Packet samples are counted and charted, not listed one by one. */
	if (!err && !irc_x_is_packet(x) && strcmp(act, "packet_dropped"))
		err = add_timeline(rp, x, finding);
	return err;
}

/* --- writing ---------------------------------------------------------- */

/* @lit as it is, then @str escaped: the step every cell and sentence here takes. */
static void put_esc(FILE *f, const char *lit, const char *str)
{
	fputs(lit, f);
	irc_html_puts(f, str);
}

static void put_time(FILE *f, int64_t ns)
{
	char ts[40];

	if (!ns) {
		fputs("&mdash;", f);
		return;
	}
	irc_x_time(ns, ts, sizeof(ts));
	irc_html_puts(f, ts);
}

static const char css[] =
"body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d2733;"
"margin:0;background:#f3f5f8}"
"main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}"
"h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;"
"border-bottom:2px solid #d8dee6;padding-bottom:4px}"
".sub{color:#5b6775;margin:0 0 18px}"
".box{border:1px solid #cfd7e1;border-radius:6px;padding:14px 18px;margin:12px 0;"
"background:#f9fbfd}"
".grid{display:grid;grid-template-columns:170px 1fr;gap:6px 14px}"
".grid div:nth-child(odd){color:#5b6775}"
".sev{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}"
".sev-low{background:#3a7d44}.sev-medium{background:#c98a00}.sev-high{background:#d0542b}"
".sev-critical{background:#a4161a}"
".ok{border-color:#3a7d44;background:#eef8ef}.bad{border-color:#a4161a;background:#fcecec}"
".nums{display:flex;flex-wrap:wrap;gap:12px}.num{flex:1;min-width:120px;text-align:center;"
"border:1px solid #cfd7e1;border-radius:6px;padding:10px;background:#f9fbfd}"
".num b{display:block;font-size:24px}"
"table{border-collapse:collapse;width:100%;font-size:13px}"
"th,td{border:1px solid #d8dee6;padding:4px 7px;text-align:left;vertical-align:top}"
"th{background:#e9eef4}tr.finding td{background:#fdf0e6}tr.action td{background:#eef3fb}"
"td.t{white-space:nowrap;font-family:monospace}"
"code,.mono{font-family:monospace;word-break:break-all}"
".note{color:#5b6775;font-size:13px}"
"@media print{body{background:#fff}main{padding:0}}";

static const char *sev_class(int sev)
{
	switch (sev) {
	case IRC_SEV_LOW: return "sev-low";
	case IRC_SEV_MEDIUM: return "sev-medium";
	case IRC_SEV_HIGH: return "sev-high";
	default: return "sev-critical";
	}
}

static void write_summary(const struct irc_xreport *rp, FILE *f)
{
	const struct irc_xreport_info *i = &rp->info;
	const struct irc_incident *in = &i->in;

	fprintf(f, "<h1>Incident %" PRId64 ": ", in->id);
	irc_html_puts(f, in->title);
	put_esc(f, "</h1>\n<p class=\"sub\">Incident report exported by ircontain from host ",
		i->host.hostname);
	put_esc(f, " on ", i->exported_at);
	fputs("</p>\n<div class=\"box\"><div class=\"grid\">\n<div>Severity</div><div>", f);
	fprintf(f, "<span class=\"sev %s\">", sev_class(in->severity));
	irc_html_puts(f, irc_severity_name(in->severity));
	put_esc(f, "</span></div>\n<div>Status</div><div><b>", irc_istatus_name(in->status));
	fputs("</b></div>\n<div>Opened</div><div>", f);
	put_time(f, in->created_ns);
	if (in->opened_by[0]) {
		put_esc(f, " by ", in->opened_by);
	}
	fputs("</div>\n<div>Last change</div><div>", f);
	put_time(f, in->updated_ns);
	fputs("</div>\n<div>Closed</div><div>", f);
	if (in->closed_ns)
		put_time(f, in->closed_ns);
	else
		fputs("not closed", f);
	put_esc(f, "</div>\n<div>Summary</div><div>",
		in->summary[0] ? in->summary : "(no summary yet)");
	fputs("</div>\n<div>Records covered</div><div>", f);
	put_time(f, i->from_ns);
	fputs(" to ", f);
	put_time(f, i->to_ns);
	fprintf(f, " (from %d minutes before the incident was opened)</div>\n</div></div>\n",
		IRC_EXPORT_LOOKBACK_S / 60);

	fprintf(f, "<div class=\"nums\">"
		"<div class=\"num\"><b>%" PRIu64 "</b>findings</div>"
		"<div class=\"num\"><b>%" PRIu64 "</b>actions taken</div>"
		"<div class=\"num\"><b>%" PRIu64 "</b>events</div>"
		"<div class=\"num\"><b>%" PRIu64 "</b>dropped packets sampled</div>"
		"<div class=\"num\"><b>%" PRIu64 "</b>artifacts</div></div>\n",
		rp->n_finding, rp->n_action, rp->n_event, rp->n_packet, rp->n_artifact);
}

static void write_roles(FILE *f, unsigned int roles)
{
	static const char *const names[] = {
		"contained", "released", "detected", "snapshot taken", "dropped traffic",
		"seen in events",
	};
	size_t i;
	bool first = true;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (roles & (1u << i)) {
			fprintf(f, "%s%s", first ? "" : ", ", names[i]);
			first = false;
		}
}

/* A row of the hosts' table (with the packets sampled) or the processes' (with the name). */
static void write_ent(FILE *f, const struct ent *e, bool proc)
{
	put_esc(f, "<tr><td class=\"mono\">", e->key);
	if (proc) {
		put_esc(f, "</td><td class=\"mono\">", e->label ?: "");
	}
	fputs("</td><td>", f);
	write_roles(f, e->roles);
	fprintf(f, "</td><td>%" PRIu64, e->records);
	if (!proc)
		fprintf(f, "</td><td>%" PRIu64, e->packets);
	fputs("</td><td class=\"t\">", f);
	put_time(f, e->first);
	fputs("</td><td class=\"t\">", f);
	put_time(f, e->last);
	fputs("</td></tr>\n", f);
}

static void write_entities(const struct irc_xreport *rp, FILE *f)
{
	size_t i;

	fputs("<h2>Affected hosts and processes</h2>\n<table><tr><th>Host (address)</th>"
	      "<th>Role in the incident</th><th>Records</th><th>Dropped packets sampled</th>"
	      "<th>First seen</th><th>Last seen</th></tr>\n", f);
	put_esc(f, "<tr><td><b>", rp->info.host.hostname);
	fputs("</b> (this host)</td><td>protected host: ircontain runs here</td>"
	      "<td></td><td></td><td></td><td></td></tr>\n", f);
	for (i = 0; i < rp->nhosts; i++)
		write_ent(f, &rp->hosts[i], false);
	fputs("</table>\n<p></p><table><tr><th>Process (pid)</th><th>Name (executable)</th>"
	      "<th>Role in the incident</th><th>Records</th><th>First seen</th>"
	      "<th>Last seen</th></tr>\n", f);
	if (!rp->nprocs)
		fputs("<tr><td colspan=\"6\">No process is named by the incident's records."
		      "</td></tr>\n", f);
	for (i = 0; i < rp->nprocs; i++)
		write_ent(f, &rp->procs[i], true);
	fputs("</table>\n", f);
	if (rp->ents_more)
		fprintf(f, "<p class=\"note\">%" PRIu64 " more hosts or processes are in "
			"events.jsonl.</p>\n", rp->ents_more);
}

static void write_actions(const struct irc_xreport *rp, FILE *f)
{
	size_t i;

	fputs("<h2>Actions taken</h2>\n<p class=\"note\">Every containment, release, status "
	      "change and note, with who took it and why, as the evidence store recorded it."
	      "</p>\n<table><tr><th>Time (UTC)</th><th>Who</th><th>Action</th><th>Target</th>"
	      "<th>Reason</th><th>Result</th></tr>\n", f);
	if (!rp->nact)
		fputs("<tr><td colspan=\"6\">No action was recorded.</td></tr>\n", f);
	for (i = 0; i < rp->nact; i++) {
		const struct act_row *a = &rp->act[i];

		fputs("<tr><td class=\"t\">", f);
		put_time(f, a->ts);
		put_esc(f, "</td><td>", a->actor);
		put_esc(f, "</td><td>", a->type);
		put_esc(f, "</td><td class=\"mono\">", a->target);
		put_esc(f, "</td><td>", a->reason);
		put_esc(f, "</td><td>", a->result);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (rp->act_more)
		fprintf(f, "<p class=\"note\">%" PRIu64 " more actions are in events.jsonl.</p>\n",
			rp->act_more);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A bar width from 1-2-5 steps of seconds, minutes, hours, days. */
static int64_t bin_step(int64_t span_ns, int bars)
{
	static const int64_t steps_s[] = {
		1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
		21600, 43200, 86400, 172800, 604800,
	};
	size_t i;

	for (i = 0; i < sizeof(steps_s) / sizeof(*steps_s); i++)
		if (steps_s[i] * 1000000000LL * bars > span_ns)
			return steps_s[i] * 1000000000LL;
	return (span_ns / bars / 86400000000000LL + 1) * 86400000000000LL;
}

static void fmt_step(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / 1000000000LL;

	if (s % 86400 == 0)
		snprintf(buf, len, "%lld day%s", (long long)(s / 86400), s == 86400 ? "" : "s");
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lld hour%s", (long long)(s / 3600), s == 3600 ? "" : "s");
	else if (s % 60 == 0)
		snprintf(buf, len, "%lld minute%s", (long long)(s / 60), s == 60 ? "" : "s");
	else
		snprintf(buf, len, "%lld second%s", (long long)s, s == 1 ? "" : "s");
}

static void hhmmss(int64_t ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000LL;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

static void write_chart(const struct irc_xreport *rp, FILE *f)
{
	const struct i64v *d = rp->drops_pkt.n ? &rp->drops_pkt : &rp->drops_ev;
	enum { W = 1000, H = 260, L = 60, R = 20, T = 20, B = 50 };
	uint64_t counts[IRC_REPORT_CHART_BARS + 2] = { 0 }, max = 0;
	int64_t *v, start, step;
	char a[16], b[16], c[16], st[32];
	size_t i, nb;
	double bw;

	fputs("<h2>Dropped packets over time</h2>\n", f);
	if (!d->n) {
		fputs("<p>No dropped packet was sampled for this incident.</p>\n", f);
		return;
	}
	v = malloc(d->n * sizeof(*v));
	if (!v) {
		fputs("<p>(out of memory drawing the chart)</p>\n", f);
		return;
	}
	memcpy(v, d->v, d->n * sizeof(*v));
	qsort(v, d->n, sizeof(*v), cmp_i64);
	step = bin_step(v[d->n - 1] - v[0], IRC_REPORT_CHART_BARS);
	start = v[0] / step * step;
	nb = (size_t)((v[d->n - 1] - start) / step) + 1;
	if (nb > IRC_REPORT_CHART_BARS + 2)
		nb = IRC_REPORT_CHART_BARS + 2;
	for (i = 0; i < d->n; i++) {
		size_t k = (size_t)((v[i] - start) / step);

		counts[k < nb ? k : nb - 1]++;
	}
	free(v);
	for (i = 0; i < nb; i++)
		if (counts[i] > max)
			max = counts[i];
	fmt_step(step, st, sizeof(st));
	fprintf(f, "<p class=\"note\">Dropped packets sampled per %s (UTC). The kernel samples "
		"at most %d drops per second per CPU, so bursts are shown at that rate.</p>\n",
		st, IRC_SAMPLE_RATE);
	fprintf(f, "<svg width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"dropped packets over time\">\n",
		W, H, W, H);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
	/* Axes, and the y scale at 0, half and the maximum. */
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#1d2733\"/>\n",
		L, H - B, W - R, H - B);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#1d2733\"/>\n",
		L, T, L, H - B);
	for (i = 0; i <= 2; i++) {
		int y = H - B - (int)((H - B - T) * i / 2);

		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\" "
			"fill=\"#1d2733\">%" PRIu64 "</text>\n", L - 6, y + 4, max * i / 2);
		if (i)
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d8dee6\" "
				"stroke-dasharray=\"4 3\"/>\n", L, y, W - R, y);
	}
	bw = (double)(W - L - R) / nb;
	for (i = 0; i < nb; i++) {
		double h = max ? (double)(H - B - T) * counts[i] / max : 0;

		if (!counts[i])
			continue;
		hhmmss(start + (int64_t)i * step, a, sizeof(a));
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"#d0542b\"><title>%s: %" PRIu64 " dropped</title></rect>\n",
			L + i * bw + bw * 0.1, H - B - h, bw * 0.8, h, a, counts[i]);
	}
	hhmmss(start, a, sizeof(a));
	hhmmss(start + (int64_t)nb / 2 * step, b, sizeof(b));
	hhmmss(start + (int64_t)nb * step, c, sizeof(c));
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#1d2733\">%s</text>\n",
		L, H - B + 18, a);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
		"fill=\"#1d2733\">%s</text>\n", L + (W - L - R) / 2, H - B + 18, b);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\" "
		"fill=\"#1d2733\">%s</text>\n", W - R, H - B + 18, c);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
		"fill=\"#5b6775\">time (UTC), one bar per %s; %zu samples</text>\n",
		L + (W - L - R) / 2, H - 10, st, d->n);
	fputs("</svg>\n", f);
	if (d->more)
		fprintf(f, "<p class=\"note\">%" PRIu64 " more samples are in packets.pcap.</p>\n",
			d->more);
}

static void write_timeline(const struct irc_xreport *rp, FILE *f)
{
	static const char *const kinds[] = { "", "action", "event", "evidence" };
	size_t i;

	fputs("<h2>Timeline</h2>\n<p class=\"note\">Findings, actions, events and evidence in "
	      "the order the store recorded them (packet samples are in the chart and in "
	      "packets.pcap).</p>\n<table><tr><th>#</th><th>Time (UTC)</th><th>Kind</th>"
	      "<th>What</th><th>About</th><th>Description</th></tr>\n", f);
	for (i = 0; i < rp->ntl; i++) {
		const struct tl_row *t = &rp->tl[i];

		fprintf(f, "<tr class=\"%s\"><td>%" PRId64 "</td><td class=\"t\">",
			t->finding ? "finding" : t->kind == IRC_REC_ACTION ? "action" : "",
			t->seq);
		put_time(f, t->ts);
		fprintf(f, "</td><td>%s</td><td>", t->finding ? "finding" : kinds[t->kind]);
		irc_html_puts(f, t->type);
		put_esc(f, "</td><td class=\"mono\">", t->target);
		put_esc(f, "</td><td>", t->msg);
		if (t->kind == IRC_REC_ACTION && t->actor[0]) {
			put_esc(f, " <span class=\"note\">(by ", t->actor);
			fputs(")</span>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (rp->tl_more)
		fprintf(f, "<p class=\"note\">%" PRIu64 " more records are in events.jsonl.</p>\n",
			rp->tl_more);
}

static void write_integrity(const struct irc_xreport *rp, FILE *f)
{
	const struct irc_xreport_info *i = &rp->info;

	fprintf(f, "<h2>Integrity</h2>\n<div class=\"box %s\">", i->store_ok ? "ok" : "bad");
	if (i->store_ok) {
		fprintf(f, "<p><b>The evidence store's hash chain was verified at export time:"
			"</b> %" PRId64 " records, intact up to record #%" PRId64 ". Every record "
			"in this report comes from that verified chain.</p>\n",
			i->store_records, i->store_head);
	} else {
		put_esc(f, "<p><b>WARNING: the evidence store did NOT verify at export time.</b> ",
			i->store_problem);
		fputs(". Records in this report may have been altered after they were "
		      "written.</p>\n", f);
	}
	if (i->unclean_note[0]) {
		put_esc(f, "<p>", i->unclean_note);
		fputs("</p>\n", f);
	}
	fputs("<p>The bundle's manifest.json lists the SHA-256 of every file in it, this report "
	      "included, and manifest.sig is its Ed25519 signature by this host's key:</p>\n"
	      "<p class=\"mono\">ed25519:", f);
	irc_html_puts(f, i->key_hex);
	put_esc(f, "</p>\n<p>Check it with <code>ircontain verify BUNDLE.tar.gz --pubkey ",
		i->key_hex);
	put_esc(f, "</code>.</p>\n<p class=\"note\">Exported ", i->exported_at);
	put_esc(f, " by ", i->exporter);
	put_esc(f, " with ircontain ", IRC_VERSION);
	put_esc(f, " on ", i->host.hostname);
	if (i->host.machine_id[0]) {
		put_esc(f, " (machine-id ", i->host.machine_id);
		fputs(")", f);
	}
	fputs(".</p></div>\n", f);
}

int irc_xreport_write(const struct irc_xreport *rp, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>Incident ", f);
	fprintf(f, "%" PRId64 ": ", rp->info.in.id);
	irc_html_puts(f, rp->info.in.title);
	fprintf(f, "</title>\n<style>%s</style>\n</head><body><main>\n", css);
	write_summary(rp, f);
	write_integrity(rp, f);
	write_entities(rp, f);
	write_actions(rp, f);
	write_chart(rp, f);
	write_timeline(rp, f);
	fputs("</main></body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
