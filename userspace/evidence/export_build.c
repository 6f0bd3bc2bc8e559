// SPDX-License-Identifier: GPL-2.0-only
/*
 * One incident out of the store into a bundle.
 *
 * What belongs to an incident: its own rows, and the rows of its entities
 * (the targets and peers of its records, and the processes those pids
 * forked), from IRC_EXPORT_LOOKBACK_S before it was opened until it was
 * closed.  The store is verified first; when it is intact, only records up
 * to the head that verified are exported, so the bundle is exactly a
 * verified prefix of the chain.  When it is not, the bundle is still
 * written (the evidence is what there is) and says so.
 *
 * One pass over the rows in chain order writes events.jsonl, ocsf.jsonl
 * and packets.pcap to temporary files and artifacts straight into the
 * archive, and collects the report; then the report, the manifest and
 * its signature follow.  The archive goes to a temporary file of a unique
 * name beside FILE (mkostemp: O_EXCL, 0600), moved into place once
 * complete and fsync'd: by link(), which never replaces a FILE that
 * appeared meanwhile, or with --force by rename().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "entity.h"
#include "export.h"
#include "irc.h"
#include "policy.h"

#define SCRATCH		65536
/* events.jsonl, ocsf.jsonl, packets.pcap, report.html, manifest.json, .sig */
#define FIXED_FILES	6

struct xb {
	struct irc_store *s;
	int64_t id;
	bool new_key;			/* IRC_EXPORT_NEW_KEY */
	struct irc_incident in;
	struct irc_xhost host;
	char **ents;			/* NULL-terminated */
	size_t nents, ents_cap;
	int64_t from, to, max_seq;
	FILE *events, *ocsf, *pcapf;
	pcap_t *dead;
	pcap_dumper_t *dump;
	struct irc_bwriter *w;
	struct irc_bmember *m;
	size_t nm;
	char **used;			/* artifact names taken */
	size_t nused;
	struct irc_xreport *rp;
	struct irc_export_stats *st;
	uint8_t *scratch;
	char *line;			/* put_line()'s buffer */
	size_t line_cap;
	char *err;
	size_t errlen;
};

static int xfail(struct xb *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int xfail(struct xb *b, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
	return err;
}

/* --- entities ----------------------------------------------------------- */

static bool ent_has(const struct xb *b, const char *e)
{
	size_t i;

	for (i = 0; i < b->nents; i++)
		if (!strcmp(b->ents[i], e))
			return true;
	return false;
}

static int ent_add(struct xb *b, const char *e)
{
	char **nv;

	if (!*e || ent_has(b, e))
		return 0;
	if (b->nents >= IRC_EXPORT_MAX_ENTITIES) {
		b->st->entities_dropped++;
		return 0;
	}
	if (b->nents + 2 > b->ents_cap) {
		nv = realloc(b->ents, (b->ents_cap + 64) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		b->ents = nv;
		b->ents_cap += 64;
	}
	b->ents[b->nents] = strdup(e);
	if (!b->ents[b->nents])
		return -ENOMEM;
	b->ents[++b->nents] = NULL;
	return 0;
}

static int pid_of(json_t *o, const char *path, const char *entity)
{
	json_int_t v = irc_jint(o, path, 0);

	return v > 0 && v <= 0x7fffffff ? (int)v : irc_entity_pid_of(entity);
}

/*
 * A fork by one of the incident's processes makes the child one of them:
 * in chain order, so grandchildren follow in the same pass.
 */
static int fork_row(const struct irc_row *r, void *ctx)
{
	struct xb *b = ctx;
	char e[IRC_ENTITY_LEN];
	json_t *o;
	int parent, child, err = 0;

	if (strcmp(r->type, "fork") && !strstr(r->body, "\"action\":\"fork\""))
		return 0;
	o = json_loads(r->body, 0, NULL);
	if (!o)
		return 0;
	if (!strcmp(irc_jstr(o, "event.action") ?: r->type, "fork")) {
		/* The daemon's fork rows: target the parent, peer the child. */
		child = pid_of(o, "process.pid", r->peer);
		parent = pid_of(o, "process.parent.pid", r->target);
		irc_entity_pid(e, sizeof(e), (unsigned long long)parent);
		if (child && parent && ent_has(b, e)) {
			irc_entity_pid(e, sizeof(e), (unsigned long long)child);
			err = ent_add(b, e);
		}
	}
	json_decref(o);
	return err;
}

static int collect_entities(struct xb *b)
{
	char **list;
	size_t n, i;
	int err;

	err = irc_incident_entities(b->s, b->id, &list, &n);
	if (err)
		return xfail(b, err, "read the entities of incident %lld: %s", (long long)b->id,
			     irc_store_errmsg());
	for (i = 0; !err && i < n; i++)
		err = ent_add(b, list[i]);
	irc_strv_free(list, n);
	if (!err && b->nents)
		err = irc_store_rows(b->s, 0, 1u << IRC_REC_EVENT, b->from, b->to, NULL,
				     fork_row, b);
	if (err)
		return xfail(b, err, "follow the forks of incident %lld: %s", (long long)b->id,
			     err == -ENOMEM ? "out of memory" : irc_store_errmsg());
	b->st->entities = b->nents;
	return 0;
}

/* --- members -------------------------------------------------------------- */

static struct irc_bmember *next_member(struct xb *b)
{
	struct irc_bmember *nm = realloc(b->m, (b->nm + 1) * sizeof(*nm));

	if (!nm)
		return NULL;
	b->m = nm;
	memset(&nm[b->nm], 0, sizeof(*nm));
	return &nm[b->nm];
}

static int add_mem(struct xb *b, const char *path, const void *buf, size_t len)
{
	struct irc_bmember *m = next_member(b);
	int err;

	if (!m)
		return xfail(b, -ENOMEM, "out of memory");
	err = irc_bwriter_add_mem(b->w, path, buf, len, m);
	if (m->path)
		b->nm++;
	return err ? xfail(b, err, "%s", irc_bwriter_error(b->w)) : 0;
}

static int add_file(struct xb *b, const char *path, FILE *f)
{
	struct irc_bmember *m = next_member(b);
	int err;

	if (!m)
		return xfail(b, -ENOMEM, "out of memory");
	err = irc_bwriter_add_file(b->w, path, f, m);
	if (m->path)
		b->nm++;
	return err ? xfail(b, err, "%s", irc_bwriter_error(b->w)) : 0;
}

/* A file name from a record, made safe: [A-Za-z0-9._-], no leading dot. */
static void safe_name(const char *in, char *out, size_t len)
{
	const char *base = strrchr(in, '/');
	size_t o = 0;

	for (in = base ? base + 1 : in; *in && o + 1 < len && o < 100; in++) {
		char c = *in;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || (c == '.' && o);

		out[o++] = ok ? c : '_';
	}
	out[o] = '\0';
	if (!o)
		snprintf(out, len, "file");
}

static bool name_used(struct xb *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->nused; i++)
		if (!strcmp(b->used[i], name))
			return true;
	return false;
}

static int use_name(struct xb *b, const char *name)
{
	char **nv = realloc(b->used, (b->nused + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	b->used = nv;
	nv[b->nused] = strdup(name);
	if (!nv[b->nused])
		return -ENOMEM;
	b->nused++;
	return 0;
}

/*
 * An evidence row that is not a packet becomes a file: a snapshot as
 * artifacts/snapshot-PID-SEQ.json, a file with a name as that name.
 */
static int artifact(struct xb *b, const struct irc_row *r, json_t *body, char *path,
		    size_t len)
{
	const char *fname = irc_jstr(body, "filename");
	char name[128], *text;
	int err;

	if (!strcmp(r->type, "snapshot")) {
		snprintf(path, len, IRC_BUNDLE_ARTIFACTS "snapshot-%d-%lld.json",
			 irc_entity_pid_of(r->target), (long long)r->seq);
	} else if (r->data_len && fname) {
		safe_name(fname, name, sizeof(name));
		snprintf(path, len, IRC_BUNDLE_ARTIFACTS "%s", name);
		if (name_used(b, path))
			snprintf(path, len, IRC_BUNDLE_ARTIFACTS "%lld-%s", (long long)r->seq, name);
	} else {
		safe_name(r->type, name, sizeof(name));
		snprintf(path, len, IRC_BUNDLE_ARTIFACTS "%s-%lld.%s", name, (long long)r->seq,
			 r->data_len ? "bin" : "json");
	}
	if (name_used(b, path))
		snprintf(path + strlen(path), len - strlen(path), ".%lld", (long long)r->seq);
	err = use_name(b, path);
	if (err)
		return xfail(b, err, "out of memory");
	b->st->artifacts++;
	if (r->data_len && strcmp(r->type, "snapshot"))
		return add_mem(b, path, r->data, r->data_len);
	text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return xfail(b, -ENOMEM, "out of memory");
	err = add_mem(b, path, text, strlen(text));
	free(text);
	return err;
}

/*
 * One JSON line.  Dumped into a buffer kept across lines and written with
 * one fwrite: json_dumpf() writes token by token, a third of the export.
 */
static int put_line(struct xb *b, FILE *f, json_t *o, const char *what)
{
	size_t n;
	char *nb;
	int err = 0;

	if (!o)
		return 0;
	n = json_dumpb(o, b->line, b->line_cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n >= b->line_cap) {
		nb = realloc(b->line, n + 1);
		if (!nb) {
			json_decref(o);
			return xfail(b, -ENOMEM, "out of memory");
		}
		b->line = nb;
		b->line_cap = n + 1;
		n = json_dumpb(o, b->line, b->line_cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	json_decref(o);
	if (!n)
		return xfail(b, -EINVAL, "write %s: a record that is not JSON", what);
	b->line[n] = '\n';
	if (fwrite(b->line, 1, n + 1, f) != n + 1)
		err = xfail(b, -EIO, "write %s: %s", what, strerror(errno ?: EIO));
	return err;
}

static int row(const struct irc_row *r, void *ctx)
{
	struct xb *b = ctx;
	struct irc_xrow x = { .r = r, .incident = b->id };
	char apath[256];
	struct irc_xpkt pkt;
	json_t *o;
	int err = 0;

	if (b->max_seq && r->seq > b->max_seq)
		return 0;
	x.body = json_loads(r->body, 0, NULL);
	if (!json_is_object(x.body)) {
		/* Kept, as text: a record that does not parse is evidence too. */
		json_decref(x.body);
		x.body = json_pack("{s:{s:s}}", "ircontain", "unparsed_body", r->body);
	}
	switch (r->kind) {
	case IRC_REC_ACTION: b->st->actions++; break;
	case IRC_REC_EVENT: b->st->events++; break;
	default: b->st->evidence++; break;
	}
	if (irc_x_is_finding(&x))
		b->st->findings++;
	if (irc_x_is_packet(&x)) {
		if (!irc_x_packet(&x, b->scratch, SCRATCH, &pkt) &&
		    !irc_xpcap_add(b->dump, r->ts_ns, &pkt))
			x.pcap_index = (int64_t)++b->st->packets;
	} else if (r->kind == IRC_REC_EVIDENCE && b->nm + FIXED_FILES >= IRC_BUNDLE_MAX_MEMBERS) {
		/* Its record stays in events.jsonl; its file would make the bundle refused. */
		b->st->artifacts_dropped++;
	} else if (r->kind == IRC_REC_EVIDENCE) {
		err = artifact(b, r, x.body, apath, sizeof(apath));
		x.artifact = apath;
	}
	if (!err)
		err = put_line(b, b->events, irc_x_ecs(&x, &b->host), IRC_BUNDLE_EVENTS);
	if (!err && (o = irc_x_ocsf(&x, &b->host))) {
		b->st->ocsf++;
		err = put_line(b, b->ocsf, o, IRC_BUNDLE_OCSF);
	}
	if (!err && irc_xreport_add(b->rp, &x))
		err = xfail(b, -ENOMEM, "out of memory");
	json_decref(x.body);
	return err;
}

/* --- manifest ------------------------------------------------------------ */

static json_t *manifest(struct xb *b, const struct irc_xreport_info *ri,
			const struct irc_verify *v)
{
	const struct irc_incident *in = &b->in;
	char created[40], updated[40], closed[40], from[40], to[40];
	json_t *m;

	irc_x_time(in->created_ns, created, sizeof(created));
	irc_x_time(in->updated_ns, updated, sizeof(updated));
	irc_x_time(in->closed_ns, closed, sizeof(closed));
	irc_x_time(ri->from_ns, from, sizeof(from));
	irc_x_time(ri->to_ns, to, sizeof(to));
	m = json_pack("{s:s,s:i,s:{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s},s:{s:s,s:s}}",
		"format", "ircontain-bundle", "format_version", IRC_BUNDLE_FORMAT,
		"incident", "id", (json_int_t)in->id, "title", in->title,
		"severity", irc_severity_name(in->severity), "status", irc_istatus_name(in->status),
		"opened_by", in->opened_by, "created", created, "updated", updated,
		"closed", in->closed_ns ? json_string(closed) : json_null(), "summary", in->summary,
		"window", "from", from, "to", to);
	if (!m)
		return NULL;
	json_object_set_new(m, "host", json_pack("{s:s,s:s}", "hostname", b->host.hostname,
						 "machine_id", b->host.machine_id));
	json_object_set_new(m, "tool", json_pack("{s:s,s:s}", "name", "ircontain",
						 "version", IRC_VERSION));
	json_object_set_new(m, "exported_at", json_string(ri->exported_at));
	json_object_set_new(m, "exporter", json_string(ri->exporter));
	json_object_set_new(m, "store", json_pack("{s:s,s:b,s:I,s:I,s:s,s:I,s:s,s:I,s:s}",
		"path", irc_store_path(b->s), "verified", ri->store_ok,
		"records", (json_int_t)v->records, "head_seq", (json_int_t)v->head_seq,
		"head_mac", v->head_mac,
		"bad_seq", (json_int_t)v->bad_seq, "problem", v->problem,
		"incidents", (json_int_t)v->incidents, "unclean_note", v->unclean_note));
	json_object_set_new(m, "records", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"actions", (json_int_t)b->st->actions, "events", (json_int_t)b->st->events,
		"evidence", (json_int_t)b->st->evidence, "findings", (json_int_t)b->st->findings,
		"ocsf", (json_int_t)b->st->ocsf, "packets", (json_int_t)b->st->packets,
		"artifacts", (json_int_t)b->st->artifacts,
		"entities", (json_int_t)b->st->entities));
	if (b->st->artifacts_dropped)
		json_object_set_new(json_object_get(m, "records"), "artifacts_dropped",
				    json_integer((json_int_t)b->st->artifacts_dropped));
	json_object_set_new(m, "files", irc_manifest_files(b->m, b->nm));
	json_object_set_new(m, "signer", json_pack("{s:s,s:s}", "algorithm", "ed25519",
						   "public_key", ri->key_hex));
	return m;
}

static int sign_and_close(struct xb *b, const struct irc_xreport_info *ri,
			  const struct irc_verify *v, const uint8_t sk[64])
{
	char sig[130];
	json_t *m;
	char *text;
	int err;

	m = manifest(b, ri, v);
	text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(m);
	if (!text)
		return xfail(b, -ENOMEM, "out of memory writing the manifest");
	/* Signed as written, newline included: the bytes verify reads. */
	{
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);

		if (!t) {
			free(text);
			return xfail(b, -ENOMEM, "out of memory writing the manifest");
		}
		text = t;
		text[n] = '\n';
		text[n + 1] = '\0';
	}
	err = irc_bundle_sign(text, strlen(text), sk, sig);
	if (err) {
		free(text);
		return xfail(b, err, "sign the manifest: libsodium failed");
	}
	strcat(sig, "\n");
	err = add_mem(b, IRC_BUNDLE_MANIFEST, text, strlen(text)) ?:
	      add_mem(b, IRC_BUNDLE_SIG, sig, strlen(sig));
	free(text);
	return err;
}

/* --- the export ----------------------------------------------------------- */

static int open_tmp(struct xb *b, FILE **f)
{
	*f = tmpfile();
	return *f ? 0 : xfail(b, -errno, "create a temporary file: %s", strerror(errno));
}

static void xb_free(struct xb *b)
{
	size_t i;

	for (i = 0; i < b->nents; i++)
		free(b->ents[i]);
	free(b->ents);
	for (i = 0; i < b->nm; i++)
		free(b->m[i].path);
	free(b->m);
	for (i = 0; i < b->nused; i++)
		free(b->used[i]);
	free(b->used);
	if (b->dump)
		pcap_dump_close(b->dump);	/* closes pcapf */
	else if (b->pcapf)
		fclose(b->pcapf);
	if (b->dead)
		pcap_close(b->dead);
	if (b->events)
		fclose(b->events);
	if (b->ocsf)
		fclose(b->ocsf);
	irc_xreport_free(b->rp);
	free(b->scratch);
	free(b->line);
}

/* Fills @ri: the incident, who and when, the store's verification, the key. */
static int prepare(struct xb *b, struct irc_xreport_info *ri, struct irc_verify *v,
		   uint8_t pk[32], uint8_t sk[64])
{
	int err;

	memset(ri, 0, sizeof(*ri));
	ri->in = b->in;
	ri->host = b->host;
	irc_x_time((int64_t)irc_now_real_ns(), ri->exported_at, sizeof(ri->exported_at));
	irc_actor(ri->exporter, sizeof(ri->exporter));
	err = irc_store_verify(b->s, v);
	if (err && err != -EBADMSG)
		return xfail(b, err, "verify the store: %s", irc_store_errmsg());
	ri->store_ok = !err;
	if (err) {
		if (v->bad_seq)
			snprintf(ri->store_problem, sizeof(ri->store_problem),
				 "broken at record #%lld: %s", (long long)v->bad_seq, v->problem);
		else
			snprintf(ri->store_problem, sizeof(ri->store_problem), "%s", v->problem);
	}
	ri->store_records = v->records;
	ri->store_head = v->head_seq;
	snprintf(ri->unclean_note, sizeof(ri->unclean_note), "%s",
		 v->unclean ? v->unclean_note : "");
	b->max_seq = err ? 0 : v->head_seq;
	b->st->store_ok = ri->store_ok;
	snprintf(b->st->store_problem, sizeof(b->st->store_problem), "%s", ri->store_problem);
	err = irc_store_sign_keys(irc.state_dir, b->new_key, pk, sk);
	if (err)
		return xfail(b, err, "signing key: %s", irc_store_errmsg());
	irc_hex(pk, 32, ri->key_hex);
	snprintf(b->st->key_hex, sizeof(b->st->key_hex), "%s", ri->key_hex);
	b->from = b->in.created_ns - IRC_EXPORT_LOOKBACK_S * 1000000000LL;
	b->to = b->in.closed_ns;
	ri->from_ns = b->from;
	ri->to_ns = b->to ? b->to : (int64_t)irc_now_real_ns();
	return 0;
}

static int build(struct xb *b, int fd)
{
	struct irc_xreport_info ri;
	struct irc_verify v;
	uint8_t pk[32], sk[64];
	char top[64];
	FILE *rf = NULL;
	int err;

	err = prepare(b, &ri, &v, pk, sk);
	if (err)
		goto out;
	b->rp = irc_xreport_new(&ri);
	b->scratch = malloc(SCRATCH);
	if (!b->rp || !b->scratch) {
		err = xfail(b, -ENOMEM, "out of memory");
		goto out;
	}
	err = open_tmp(b, &b->events) ?: open_tmp(b, &b->ocsf) ?: open_tmp(b, &b->pcapf);
	if (err)
		goto out;
	b->dump = irc_xpcap_open(b->pcapf, &b->dead);
	if (!b->dump) {
		err = xfail(b, -EIO, "start the pcap: libpcap failed");
		goto out;
	}
	snprintf(top, sizeof(top), IRC_BUNDLE_TOPDIR "%lld", (long long)b->id);
	err = irc_bwriter_open(fd, top, (int64_t)(irc_now_real_ns() / 1000000000ULL), &b->w,
			       b->err, b->errlen);
	if (err)
		goto out;
	err = collect_entities(b);
	if (err)
		goto out;
	err = irc_store_rows(b->s, b->id, IRC_REC_ALL, b->from, b->to,
			     (const char *const *)b->ents, row, b);
	if (err && !b->err[0])
		xfail(b, err, "read the records: %s", irc_store_errmsg());
	if (err)
		goto out;
	/* The pcap is complete once flushed; its FILE stays ours to read back. */
	if (pcap_dump_flush(b->dump)) {
		err = xfail(b, -EIO, "write %s: %s", IRC_BUNDLE_PCAP, strerror(errno ?: EIO));
		goto out;
	}
	err = add_file(b, IRC_BUNDLE_EVENTS, b->events) ?: add_file(b, IRC_BUNDLE_OCSF, b->ocsf) ?:
	      add_file(b, IRC_BUNDLE_PCAP, pcap_dump_file(b->dump));
	if (err)
		goto out;
	err = open_tmp(b, &rf);
	if (!err && irc_xreport_write(b->rp, rf))
		err = xfail(b, -EIO, "write %s: %s", IRC_BUNDLE_REPORT, strerror(errno ?: EIO));
	if (!err)
		err = add_file(b, IRC_BUNDLE_REPORT, rf);
	if (!err)
		err = sign_and_close(b, &ri, &v, sk);
	b->st->files = b->nm;
out:
	if (rf)
		fclose(rf);
	if (b->w) {
		int cerr = irc_bwriter_close(b->w);

		if (!err && cerr)
			err = xfail(b, cerr, "finish the archive: %s", strerror(-cerr));
		b->w = NULL;
	}
	sodium_memzero(sk, sizeof(sk));
	return err;
}

/*
 * Into place without a window: link() fails with EEXIST if @path appeared
 * since the command looked; renameat2(RENAME_NOREPLACE) where the file
 * system has no hard links.  With @force, rename() replaces it.
 */
static int place(const char *tmp, const char *path, bool force)
{
	if (force)
		return rename(tmp, path) ? -errno : 0;
	if (!link(tmp, path))
		return 0;
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) ? -errno : 0;
}

int irc_export(struct irc_store *s, int64_t id, const char *path, unsigned int flags,
	       struct irc_export_stats *st, char *err, size_t errlen)
{
	struct xb b = { .s = s, .id = id, .st = st, .err = err, .errlen = errlen,
			.new_key = flags & IRC_EXPORT_NEW_KEY };
	bool force = flags & IRC_EXPORT_FORCE;
	char tmp[4096];
	struct stat sb;
	int fd, rc;

	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	rc = irc_incident_get(s, id, &b.in);
	if (rc)
		return xfail(&b, rc, "%s", irc_store_errmsg());
	irc_xhost_init(&b.host);
	/* A name nobody can have made ready for us: created here, O_EXCL. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return xfail(&b, -ENAMETOOLONG, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return xfail(&b, -errno, "create a temporary file beside %s: %s", path,
			     strerror(errno));
	rc = build(&b, fd);
	xb_free(&b);
	if (!rc && (fsync(fd) || fstat(fd, &sb)))
		rc = xfail(&b, -errno, "write %s: %s", tmp, strerror(errno));
	if (close(fd) && !rc)
		rc = xfail(&b, -errno, "write %s: %s", tmp, strerror(errno));
	if (!rc) {
		rc = place(tmp, path, force);
		if (rc == -EEXIST)
			xfail(&b, rc, "%s already exists (--force overwrites it)", path);
		else if (rc)
			xfail(&b, rc, "move %s to %s: %s", tmp, path, strerror(-rc));
	}
	/* After link() (or a failure) the temporary name goes; after rename() it is gone. */
	if (rc || !force)
		unlink(tmp);
	if (rc)
		return rc;
	st->bytes = (uint64_t)sb.st_size;
	return 0;
}
