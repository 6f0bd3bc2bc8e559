// SPDX-License-Identifier: GPL-2.0-only
/*
 * quarantine host, release host|--all, list.
 *
 * The CLI writes the pinned maps itself: a quarantine takes effect on the
 * next packet and never waits for a daemon.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "entity.h"
#include "entries.h"
#include "hostq.h"
#include "irc.h"
#include "journal.h"
#include "loader.h"
#include "parse.h"
#include "pins.h"
#include "qopts.h"
#include "qproc.h"
#include "policy.h"

struct after_write {
	const char *what;
	struct irc_qopts *o;
	int ret;		/* the --incident check's exit code */
};

/* What follows the write (irc_hostq.after_write): the note, --incident. */
static int quarantine_after_write(void *ctx, int err)
{
	struct after_write *a = ctx;

	(void)err;
	irc_qopts_intent(a->what, a->o);
	a->ret = irc_qopts_incident_late(a->what, a->o);
	return a->ret;
}

static int do_quarantine_host(int argc, char **argv)
{
	const char *what = "quarantine host", *why;
	char norm[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN], msg[512];
	struct irc_qopts o;
	struct after_write aw = { .what = what, .o = &o };
	struct irc_hostq q = { .origin = IRC_ORIGIN_OPERATOR,
			       .after_write = quarantine_after_write, .ctx = &aw };
	struct irc_maps m;
	struct irc_key key;
	int ret, err = 0, r;

	if (irc_bulk_wanted(argc, argv))
		return irc_bulk_host(argc, argv, false);
	ret = irc_qopts_parse(argc, argv, IRC_QO_TTL | IRC_QO_REASON | IRC_QO_FORCE |
			      IRC_QO_DIR | IRC_QO_INCIDENT | IRC_QO_WRITE_FIRST, what, "ADDR[/PREFIX]", &o);
	if (ret)
		return ret;
	if (irc_parse_target(o.operand, false, &q.target, &why))
		return irc_usage_err("%s: bad address '%s': %s", what, irc_shown(o.operand), why);
	/* What the kernel matches, as every record names it. */
	irc_cidr_format(&q.target, norm, sizeof(norm));
	irc_entity_addr(entity, sizeof(entity), norm);

	/*
	 * Containment first: only the maps the checks, the write and the
	 * enforcement check need are opened before it, and the journal note
	 * and the --incident lookup in the store follow it (strace: ~3 ms of
	 * NSS, /proc and file creation, and with --incident a store open,
	 * preceded the write).
	 */
	irc_qkey(&q.target, &key);
	if (irc_maps_open_some(what, &m, IRC_MAP_BIT(key.map) | IRC_MAP_BIT(IRC_M_ALLOW4) |
			       IRC_MAP_BIT(IRC_M_ALLOW6) | IRC_MAP_BIT(IRC_M_IFACES)))
		return IRC_EXIT_FAIL;
	q.arg = o.operand;
	q.expires_ns = irc_qopts_expiry(&o);
	q.dir = o.dir;
	q.actor_uid = irc_actor_uid();
	q.reason = o.reason;
	q.force = o.force;
	r = irc_hostq_apply(&m, &q, false, &err, msg, sizeof(msg));
	irc_maps_close(&m);
	if (r == IRC_HQ_REFUSED)
		return irc_usage_err("%s", msg);
	/* An unknown or closed --incident: said, undone (exit 2, nothing changed). */
	if (err == -ECANCELED)
		return aw.ret;
	/* Nothing enforces it: said, undone, and nothing to record. */
	if (err == -ENOLINK)
		return IRC_EXIT_FAIL;
	if (r == IRC_HQ_FAILED && !err) {
		irc_err("%s", msg);
		return IRC_EXIT_FAIL;
	}
	if (err) {
		irc_err("%s", msg);
		ret = IRC_EXIT_FAIL;
	} else {
		irc_qopts_print(&o, "host", norm, r == IRC_HQ_UPDATED);
	}
	return irc_qrecord(ret, o.incident, "quarantine", entity, o.reason, err,
			   json_pack("{s:o,s:s,s:b,s:s}",
				     "ttl", o.ttl ? json_integer(o.ttl) : json_null(),
				     "direction", irc_dir_name(o.dir), "force", o.force,
				     "change", err ? "none" : r == IRC_HQ_UPDATED ? "updated" : "added"));
}

int do_quarantine(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "host", do_quarantine_host },
		{ "pid", do_quarantine_pid },
		{ "cgroup", do_quarantine_cgroup },
		{ 0 }
	};

	return irc_cmd_dispatch("quarantine", cmds, argc - 1, argv + 1);
}

/* Names the quarantined prefix that covers @t, to help a mistyped release. */
static void hint_cover(const struct irc_maps *m, const struct irc_cidr *t)
{
	struct irc_qrec *recs;
	char w[IRC_CIDR_STRLEN];
	size_t n, i;

	if (irc_qrecs_collect(m, &recs, &n))
		return;
	for (i = 0; i < n; i++) {
		if (irc_cidr_contains(&recs[i].target, t)) {
			irc_cidr_format(&recs[i].target, w, sizeof(w));
			fprintf(stderr, "ircontain: note: it is covered by the quarantine of %s\n", w);
			break;
		}
	}
	free(recs);
}

static int do_release_host(int argc, char **argv)
{
	const char *what = "release host", *why;
	char norm[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN];
	struct irc_cidr target;
	struct irc_qopts o;
	struct irc_key key;
	struct irc_maps m;
	int ret = IRC_EXIT_OK, err = 0;

	if (irc_bulk_wanted(argc, argv))
		return irc_bulk_host(argc, argv, true);
	ret = irc_qopts_parse(argc, argv, IRC_QO_RELEASE, what, "ADDR[/PREFIX]", &o);
	if (ret)
		return ret;
	if (irc_parse_target(o.operand, false, &target, &why))
		return irc_usage_err("%s: bad address '%s': %s", what, irc_shown(o.operand), why);
	irc_cidr_format(&target, norm, sizeof(norm));
	irc_entity_addr(entity, sizeof(entity), norm);
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;

	irc_qkey(&target, &key);
	err = irc_q_delete(&m, &key);
	if (err) {
		if (err == -ENOENT) {
			irc_err("%s %s: not quarantined", what, o.operand);
			hint_cover(&m, &target);
		} else {
			irc_err("%s %s: delete from map %s: %s", what, o.operand,
				irc_map_names[key.map], strerror(-err));
		}
		ret = IRC_EXIT_FAIL;
	} else {
		irc_release_print(&(struct irc_released){ .kind = "host", .target = norm });
	}
	irc_maps_close(&m);
	return irc_qrecord(ret, o.incident, "release", entity, o.reason, err,
			   json_pack("{s:s}", "kind", "host"));
}

/* release --all [--reason T] [--incident ID]: argv[0] is "release". */
static int release_all(int argc, char **argv)
{
	static const int maps[] = { IRC_M_Q4_HOST, IRC_M_Q6_HOST,
				    IRC_M_Q4_PFX, IRC_M_Q6_PFX };
	const char *what = "release --all";
	struct irc_qopts o;
	struct irc_maps m;
	long n, total = 0;
	size_t i;
	int ret, err = 0;

	optind = 0;
	ret = irc_qopts_parse(argc, argv, IRC_QO_NO_OPERAND | IRC_QO_ALL | IRC_QO_RELEASE,
			      what, NULL, &o);
	if (ret)
		return ret;
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		n = irc_q_clear(&m, maps[i]);
		if (n < 0) {
			irc_err("%s: clear map %s: %s", what, irc_map_names[maps[i]],
				strerror(-n));
			ret = IRC_EXIT_FAIL;
			err = n;
			continue;
		}
		total += n;
	}
	n = irc_qproc_release_all(&m);
	if (n < 0) {
		irc_err("%s: clear process entries: %s", what, strerror(-n));
		ret = IRC_EXIT_FAIL;
		err = n;
	} else {
		total += n;
	}
	irc_maps_close(&m);
	irc_release_print(&(struct irc_released){ .kind = "all", .n = total });
	return irc_qrecord(ret, o.incident, "release", NULL, o.reason, err,
			   json_pack("{s:s,s:I}", "kind", "all", "released", (json_int_t)total));
}

int do_release(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "host", do_release_host },
		{ "pid", do_release_pid },
		{ "cgroup", do_release_cgroup },
		{ 0 }
	};

	int i;

	/* --all stands for the verb, wherever it is among the options. */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--all"))
			return release_all(argc, argv);
	return irc_cmd_dispatch("release", cmds, argc - 1, argv + 1);
}

/* ---- list: collect, then render as text or JSON ---------------------- */

struct list_row {
	char target[IRC_CIDR_STRLEN];
	char created[32];
	char actor[64];
	int64_t ttl_left;	/* seconds; -1 = no expiry */
	bool expired;
	const struct irc_qrec *rec;
};

/* The user database is read once per uid, not once per row. */
static void actor_cached(uint32_t uid, char *buf, size_t len)
{
	static char name[64];
	static uint32_t last;
	static bool have;

	if (!have || uid != last) {
		irc_actor_name(uid, name, sizeof(name));
		last = uid;
		have = true;
	}
	snprintf(buf, len, "%s", name);
}

static void list_row(const struct irc_qrec *r, uint64_t now_boot,
		     struct list_row *row)
{
	const struct irc_qentry *v = &r->val;

	row->rec = r;
	irc_cidr_format(&r->target, row->target, sizeof(row->target));
	irc_fmt_utc(v->created_ns, row->created, sizeof(row->created));
	if (v->origin == IRC_ORIGIN_DETECTOR)
		snprintf(row->actor, sizeof(row->actor), "detector:%s",
			 irc_detector_name(v->actor_uid));
	else if (v->origin == IRC_ORIGIN_FLEET)
		snprintf(row->actor, sizeof(row->actor), "fleet");
	else
		actor_cached(v->actor_uid, row->actor, sizeof(row->actor));
	row->expired = v->expires_ns && v->expires_ns <= now_boot;
	row->ttl_left = !v->expires_ns ? -1 : row->expired ? 0 :
			(int64_t)((v->expires_ns - now_boot + 999999999ULL) / 1000000000ULL);
}

static json_t *list_json_row(const struct list_row *row)
{
	const struct irc_qentry *v = &row->rec->val;
	char expires[32];

	/* The expiry in UTC: the boot-clock deadline moved to the real clock. */
	if (v->expires_ns)
		irc_fmt_utc(irc_now_real_ns() + (int64_t)(v->expires_ns - irc_now_boot_ns()),
			    expires, sizeof(expires));
	return json_pack("{s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:o,s:o,s:b,s:I,s:s,s:s}",
		"kind", "host", "target", row->target,
		"family", row->rec->target.family == AF_INET ? 4 : 6,
		"prefix_len", (int)row->rec->target.plen,
		"direction", irc_dir_name(v->dir), "reason", v->reason,
		"created", row->created,
		"expires", v->expires_ns ? json_string(expires) : json_null(),
		"ttl_remaining", row->ttl_left >= 0 ? json_integer(row->ttl_left) : json_null(),
		"expired", row->expired, "drops", (json_int_t)v->drops,
		"actor", row->actor,
		"origin", v->origin == IRC_ORIGIN_DETECTOR ? "detector" :
			  v->origin == IRC_ORIGIN_FLEET ? "fleet" : "operator");
}

static void list_text_row(const struct list_row *row)
{
	char ttl[32];

	if (row->ttl_left < 0)
		snprintf(ttl, sizeof(ttl), "-");
	else if (row->expired)
		snprintf(ttl, sizeof(ttl), "expired");
	else
		irc_format_duration(row->ttl_left, ttl, sizeof(ttl));
	printf("%-40s %-4s %-8s %10llu  %-20s  %-12s %s\n", row->target,
	       irc_dir_name(row->rec->val.dir), ttl,
	       (unsigned long long)row->rec->val.drops, row->created,
	       row->actor, row->rec->val.reason);
}

/*
 * Up to LIST_SORT_MAX entries are listed oldest first; a longer list (a
 * million hosts from a blocklist) streams in map order, one batch in
 * memory at a time.
 */
#define LIST_SORT_MAX	10000

struct list_ctx;

/* One printer for each form: host rows, process rows, the end. */
struct list_out {
	void (*host)(struct list_ctx *c, const struct list_row *row);
	void (*proc)(struct list_ctx *c, const struct irc_prow *r);
	void (*end)(const struct list_ctx *c);
};

struct list_ctx {
	uint64_t now_boot;
	const struct list_out *out;
	struct irc_qrec *buf;	/* the first LIST_SORT_MAX, to sort */
	size_t n;
	bool streaming;
	size_t hosts, procs;	/* rows out, of each kind */
};

/* JSON streams as one object, {"entries":[...]}, a row at a time. */
static void list_json_put(struct list_ctx *c, json_t *o)
{
	fputs(c->hosts + c->procs ? "," : "{\"entries\":[", stdout);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
}

static void list_json_host(struct list_ctx *c, const struct list_row *row)
{
	list_json_put(c, list_json_row(row));
}

static void list_json_proc(struct list_ctx *c, const struct irc_prow *r)
{
	list_json_put(c, irc_qproc_row_json(r, c->now_boot));
}

static void list_json_end(const struct list_ctx *c)
{
	fputs(c->hosts + c->procs ? "]}\n" : "{\"entries\":[]}\n", stdout);
	fflush(stdout);
}

/* Text: a table of hosts, then one of processes and cgroups. */
static void list_text_host(struct list_ctx *c, const struct list_row *row)
{
	if (!c->hosts)
		printf("%-40s %-4s %-8s %10s  %-20s  %-12s %s\n", "TARGET", "DIR",
		       "TTL", "DROPS", "CREATED (UTC)", "ACTOR", "REASON");
	list_text_row(row);
}

static void list_text_proc(struct list_ctx *c, const struct irc_prow *r)
{
	irc_qproc_row_text(r, c->now_boot, !c->procs);
}

static void list_text_end(const struct list_ctx *c)
{
	if (!c->hosts && !c->procs)
		printf("no quarantine entries\n");
}

static const struct list_out list_json = { list_json_host, list_json_proc, list_json_end };
static const struct list_out list_text = { list_text_host, list_text_proc, list_text_end };

static void list_print(struct list_ctx *c, const struct irc_qrec *r)
{
	struct list_row row;

	list_row(r, c->now_boot, &row);
	c->out->host(c, &row);
	c->hosts++;
}

static void list_proc(const struct irc_prow *r, void *ctx)
{
	struct list_ctx *c = ctx;

	c->out->proc(c, r);
	c->procs++;
}

static int list_one(const struct irc_qrec *r, void *ctx)
{
	struct list_ctx *c = ctx;
	size_t i;

	if (c->streaming) {
		list_print(c, r);
		return 0;
	}
	if (c->n < LIST_SORT_MAX) {
		c->buf[c->n++] = *r;
		return 0;
	}
	/* Too many to sort: what is buffered goes out, the rest as it comes. */
	c->streaming = true;
	for (i = 0; i < c->n; i++)
		list_print(c, &c->buf[i]);
	list_print(c, r);
	return 0;
}

int do_list(int argc, char **argv)
{
	struct list_ctx c = { .now_boot = irc_now_boot_ns(),
			      .out = irc.json ? &list_json : &list_text };
	struct irc_maps m;
	size_t i;
	int err;

	if (!irc_args(argc, argv, 0, "list", "list"))
		return IRC_EXIT_USAGE;
	if (irc_maps_open("list", &m))
		return IRC_EXIT_FAIL;
	c.buf = malloc(LIST_SORT_MAX * sizeof(*c.buf));
	err = c.buf ? irc_qrecs_stream(&m, list_one, &c) : -ENOMEM;
	if (err) {
		irc_maps_close(&m);
		free(c.buf);
		irc_err("list: read quarantine maps: %s", strerror(-err));
		return IRC_EXIT_FAIL;
	}
	if (!c.streaming) {
		qsort(c.buf, c.n, sizeof(*c.buf), irc_qrec_cmp);
		for (i = 0; i < c.n; i++)
			list_print(&c, &c.buf[i]);
	}
	free(c.buf);
	irc_qproc_rows(&m, list_proc, &c);
	irc_maps_close(&m);
	c.out->end(&c);
	return IRC_EXIT_OK;
}
