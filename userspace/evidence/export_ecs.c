// SPDX-License-Identifier: GPL-2.0-only
/*
 * A store row as one events.jsonl line: ECS field names, so Elastic and
 * Splunk take it as is, plus Timesketch's message, datetime and
 * timestamp_desc.  Event bodies are ECS already (irc_ev_json); actions and
 * evidence are given the same shape.  ircontain.* says where the line came
 * from in the chain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entity.h"
#include "text.h"
#include "export.h"
#include "irc.h"

void irc_xhost_init(struct irc_xhost *h)
{
	FILE *f;

	memset(h, 0, sizeof(*h));
	if (gethostname(h->hostname, sizeof(h->hostname) - 1))
		snprintf(h->hostname, sizeof(h->hostname), "unknown");
	f = fopen("/etc/machine-id", "re");
	if (f) {
		if (fgets(h->machine_id, sizeof(h->machine_id), f))
			h->machine_id[strcspn(h->machine_id, "\n")] = '\0';
		fclose(f);
	}
}

json_t *irc_jpath(json_t *o, const char *path)
{
	char key[64];
	const char *dot;
	size_t n;

	while (o && (dot = strchr(path, '.'))) {
		n = (size_t)(dot - path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return o ? json_object_get(o, path) : NULL;
}

const char *irc_jstr(json_t *o, const char *path)
{
	return json_string_value(irc_jpath(o, path));
}

json_int_t irc_jint(json_t *o, const char *path, json_int_t def)
{
	json_t *v = irc_jpath(o, path);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

void irc_x_time(int64_t ts_ns, char *buf, size_t len)
{
	irc_fmt_ts(ts_ns, buf, len);
}

const char *irc_x_action(const struct irc_xrow *x)
{
	const char *a = irc_jstr(x->body, "event.action");

	return a && *a ? a : x->r->type;
}

bool irc_x_is_finding(const struct irc_xrow *x)
{
	const char *k = irc_jstr(x->body, "event.kind");

	return x->r->kind == IRC_REC_EVENT &&
	       (!strcmp(x->r->type, "finding") || (k && !strcmp(k, "alert")));
}

bool irc_x_is_packet(const struct irc_xrow *x)
{
	return x->r->kind == IRC_REC_EVIDENCE && !strcmp(x->r->type, "packet");
}

/* Why a line is in the bundle: the incident's own, or one of its entities'. */
static const char *linked(const struct irc_xrow *x)
{
	return x->r->incident == x->incident ? "incident" : "entity";
}

static void action_message(const struct irc_xrow *x, char *buf, size_t len)
{
	const struct irc_row *r = x->r;
	const char *actor = *r->actor ? r->actor : "someone";
	const char *reason = irc_jstr(x->body, "reason");
	const char *result = irc_jstr(x->body, "result");
	const char *text = irc_jstr(x->body, "text");

	if (!strcmp(r->type, "incident.open"))
		snprintf(buf, len, "%s opened incident %lld: '%s' (severity %s)", actor,
			 (long long)r->incident, irc_jstr(x->body, "title") ?: "",
			 irc_jstr(x->body, "severity") ?: "?");
	else if (!strcmp(r->type, "incident.close"))
		snprintf(buf, len, "%s closed incident %lld: %s", actor,
			 (long long)r->incident, text ?: "");
	else if (!strcmp(r->type, "incident.status"))
		snprintf(buf, len, "%s moved incident %lld from %s to %s%s%s", actor,
			 (long long)r->incident, irc_jstr(x->body, "from") ?: "?",
			 irc_jstr(x->body, "to") ?: "?", text && *text ? ": " : "",
			 text ?: "");
	else if (!strcmp(r->type, "incident.note") || !strcmp(r->type, "note"))
		snprintf(buf, len, "%s noted: %s", actor,
			 text ?: irc_jstr(x->body, "note") ?: "");
	else
		snprintf(buf, len, "%s: %s%s%s%s%s%s%s", actor, r->type, *r->target ? " " : "",
			 r->target, reason && *reason ? " (reason: " : "",
			 reason && *reason ? reason : "", reason && *reason ? ")" : "",
			 result ? (strcmp(result, "ok") ? ": failed" : ": done") : "");
	if (result && strcmp(result, "ok") && strlen(buf) + 3 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " (%s)", result);
}

void irc_x_message(const struct irc_xrow *x, char *buf, size_t len)
{
	const struct irc_row *r = x->r;
	const char *m = irc_jstr(x->body, "message");

	if (r->kind == IRC_REC_ACTION) {
		action_message(x, buf, len);
	} else if (m && *m) {
		snprintf(buf, len, "%s", m);
	} else if (!strcmp(r->type, "snapshot")) {
		snprintf(buf, len, "snapshot of %s (%s) taken at containment%s%s",
			 *r->target ? r->target : "a process",
			 irc_jstr(x->body, "exe") ?: irc_jstr(x->body, "executable") ?:
			 irc_jstr(x->body, "comm") ?: "?", x->artifact ? ": " : "",
			 x->artifact ?: "");
	} else if (irc_x_is_packet(x)) {
		snprintf(buf, len, "packet sample of %s: %zu bytes", *r->target ? r->target : "?",
			 r->data_len);
	} else {
		snprintf(buf, len, "%s %s%s%s", r->kind == IRC_REC_EVENT ? "event" : "evidence",
			 r->type, *r->target ? " of " : "", r->target);
	}
}

/* ircontain.*: the record's place in the chain. */
static void add_chain(json_t *o, const struct irc_xrow *x)
{
	static const char *const kinds[] = {
		[IRC_REC_ACTION] = "action", [IRC_REC_EVENT] = "event",
		[IRC_REC_EVIDENCE] = "evidence",
	};
	const struct irc_row *r = x->r;
	json_t *ext = json_object_get(o, "ircontain");

	if (!json_is_object(ext)) {
		ext = json_object();
		json_object_set_new(o, "ircontain", ext);
	}
	json_object_set_new(ext, "seq", json_integer(r->seq));
	json_object_set_new(ext, "incident", json_integer(x->incident));
	json_object_set_new(ext, "linked_by", json_string(linked(x)));
	json_object_set_new(ext, "record", json_string(kinds[r->kind]));
	json_object_set_new(ext, "type", json_string(r->type));
	if (*r->actor)
		json_object_set_new(ext, "actor", json_string(r->actor));
	if (*r->target)
		json_object_set_new(ext, "target", json_string(r->target));
	if (*r->peer)
		json_object_set_new(ext, "peer", json_string(r->peer));
	if (x->artifact)
		json_object_set_new(ext, "artifact", json_string(x->artifact));
	if (x->pcap_index)
		json_object_set_new(ext, "pcap", json_pack("{s:s,s:I}", "file", IRC_BUNDLE_PCAP,
							   "packet", (json_int_t)x->pcap_index));
}

/* Sets @key of @o to @v unless it has one. */
static void set_default(json_t *o, const char *key, json_t *v)
{
	if (json_object_get(o, key))
		json_decref(v);
	else
		json_object_set_new(o, key, v);
}

static json_t *obj_member(json_t *o, const char *key)
{
	json_t *m = json_object_get(o, key);

	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(o, key, m);
	}
	return m;
}

/* The fields every line has, whatever the record. */
static void add_common(json_t *o, const struct irc_xrow *x, const struct irc_xhost *h,
		       const char *desc)
{
	char ts[40], msg[1024];
	json_t *ev, *host;

	irc_x_time(x->r->ts_ns, ts, sizeof(ts));
	set_default(o, "@timestamp", json_string(ts));
	/* Timesketch: datetime is the event's time, ISO 8601, UTC. */
	json_object_set_new(o, "datetime", json_string(json_string_value(
		json_object_get(o, "@timestamp")) ?: ts));
	json_object_set_new(o, "timestamp", json_integer(x->r->ts_ns / 1000));
	/* An event says what its time is; a sample's is when it was captured. */
	if (x->r->kind == IRC_REC_EVENT)
		set_default(o, "timestamp_desc", json_string(desc));
	else
		json_object_set_new(o, "timestamp_desc", json_string(desc));
	if (!json_is_string(json_object_get(o, "message"))) {
		irc_x_message(x, msg, sizeof(msg));
		json_object_set_new(o, "message", json_string(msg));
	}
	ev = obj_member(o, "event");
	set_default(ev, "kind", json_string("event"));
	set_default(ev, "module", json_string("ircontain"));
	set_default(ev, "dataset", json_string(x->r->kind == IRC_REC_ACTION ? "ircontain.actions" :
		x->r->kind == IRC_REC_EVENT ? "ircontain.events" : "ircontain.evidence"));
	host = obj_member(o, "host");
	set_default(host, "hostname", json_string(h->hostname));
	if (h->machine_id[0])
		set_default(host, "id", json_string(h->machine_id));
	add_chain(o, x);
}

static json_t *ecs_action(const struct irc_xrow *x)
{
	const struct irc_row *r = x->r;
	const char *result = irc_jstr(x->body, "result");
	const char *reason = irc_jstr(x->body, "reason");
	const char *host = irc_entity_host_of(r->target);
	int pid = irc_entity_pid_of(r->target);
	const char *origin = irc_jstr(x->body, "origin");
	bool detector = (origin && !strcmp(origin, "detector")) ||
			!strncmp(r->actor, "detector", 8);
	json_t *o, *ev;

	o = json_pack("{s:{s:s,s:[s],s:[s],s:s,s:s}}", "event", "kind", "event",
		      "category", "configuration", "type", "change", "action", r->type,
		      "outcome", !result || !strcmp(result, "ok") ? "success" : "failure");
	ev = json_object_get(o, "event");
	if (reason && *reason)
		json_object_set_new(ev, "reason", json_string(reason));
	if (pid) {
		json_array_append_new(json_object_get(ev, "category"), json_string("process"));
		json_object_set_new(o, "process", json_pack("{s:i}", "pid", pid));
	}
	if (host)
		json_object_set_new(o, "related", json_pack("{s:[s]}", "ip", host));
	if (*r->actor && !detector) {
		json_object_set_new(o, "user", json_pack("{s:s}", "name", r->actor));
		if (json_is_integer(json_object_get(x->body, "uid")))
			json_object_set_new(json_object_get(o, "user"), "id",
				json_sprintf("%lld", (long long)irc_jint(x->body, "uid", 0)));
	} else if (detector) {
		json_object_set_new(o, "rule", json_pack("{s:s}", "name", r->actor));
	}
	json_object_set_new(o, "ircontain", json_pack("{s:O}", "detail", x->body));
	return o;
}

/* A snapshot's headline fields; the whole snapshot is the artifact. */
static json_t *ecs_snapshot(const struct irc_xrow *x)
{
	static const char *const exe_keys[] = { "exe", "executable", "process.executable" };
	static const char *const sha_keys[] = { "sha256", "exe_sha256", "hash.sha256",
						"process.hash.sha256" };
	json_t *o, *p;
	const char *v = NULL;
	size_t i;
	int pid = irc_entity_pid_of(x->r->target);

	/* A snapshot the daemon could not take (the process already gone). */
	o = json_pack("{s:{s:s,s:[s],s:[s],s:s,s:s}}", "event", "kind", "state",
		      "category", "process", "type", "info", "action", "snapshot",
		      "outcome", json_object_get(x->body, "missed") ? "failure" : "success");
	p = json_object();
	if (!pid)
		pid = (int)irc_jint(x->body, "pid", 0);
	if (pid)
		json_object_set_new(p, "pid", json_integer(pid));
	for (i = 0; i < sizeof(exe_keys) / sizeof(*exe_keys) && !v; i++)
		v = irc_jstr(x->body, exe_keys[i]);
	if (v)
		json_object_set_new(p, "executable", json_string(v));
	for (v = NULL, i = 0; i < sizeof(sha_keys) / sizeof(*sha_keys) && !v; i++)
		v = irc_jstr(x->body, sha_keys[i]);
	if (v)
		json_object_set_new(p, "hash", json_pack("{s:s}", "sha256", v));
	if ((v = irc_jstr(x->body, "comm") ?: irc_jstr(x->body, "name")))
		json_object_set_new(p, "name", json_string(v));
	if (json_is_array(json_object_get(x->body, "cmdline")))
		json_object_set(p, "args", json_object_get(x->body, "cmdline"));
	if (json_is_integer(json_object_get(x->body, "ppid")))
		json_object_set_new(p, "parent", json_pack("{s:O}", "pid",
					json_object_get(x->body, "ppid")));
	json_object_set_new(o, "process", p);
	if (x->artifact)
		json_object_set_new(o, "file", json_pack("{s:s}", "path", x->artifact));
	return o;
}

static json_t *ecs_evidence(const struct irc_xrow *x)
{
	json_t *o, *ev, *ext;
	const char *name;

	if (!strcmp(x->r->type, "snapshot"))
		return ecs_snapshot(x);
	o = json_deep_copy(x->body);
	if (!o)
		return NULL;
	ev = obj_member(o, "event");
	if (irc_x_is_packet(x)) {
		/* The sample's own fields go where ECS has no name for them. */
		ext = obj_member(o, "ircontain");
		if (json_object_get(o, "linktype")) {
			json_object_set(obj_member(ext, "sample"), "linktype",
					json_object_get(o, "linktype"));
			json_object_del(o, "linktype");
		}
		if (json_object_get(o, "pkt_len")) {
			json_object_set(obj_member(ext, "sample"), "length",
					json_object_get(o, "pkt_len"));
			json_object_del(o, "pkt_len");
		}
		if (json_object_get(o, "cap_len")) {
			json_object_set(obj_member(ext, "sample"), "captured",
					json_object_get(o, "cap_len"));
			json_object_del(o, "cap_len");
		}
		set_default(ev, "category", json_pack("[s]", "network"));
		set_default(ev, "type", json_pack("[s]", "denied"));
		set_default(ev, "action", json_string("packet_dropped"));
		set_default(ev, "outcome", json_string("success"));
	} else {
		set_default(ev, "kind", json_string("state"));
		set_default(ev, "category", json_pack("[s]", "file"));
		set_default(ev, "type", json_pack("[s]", "info"));
		set_default(ev, "action", json_string(x->r->type));
		name = irc_jstr(x->body, "filename");
		if (x->artifact || name)
			set_default(o, "file", json_pack("{s:s,s:I}", "path",
				x->artifact ?: name, "size", (json_int_t)x->r->data_len));
	}
	return o;
}

/* Timesketch's fields first: a line reads from its time and message. */
static json_t *ordered(json_t *o)
{
	static const char *const first[] = {
		"@timestamp", "datetime", "timestamp", "timestamp_desc", "message",
	};
	json_t *out = json_object(), *v;
	const char *k;
	size_t i;

	if (!out)
		return o;
	for (i = 0; i < sizeof(first) / sizeof(*first); i++)
		if ((v = json_object_get(o, first[i])))
			json_object_set(out, first[i], v);
	json_object_foreach(o, k, v)
		if (!json_object_get(out, k))
			json_object_set(out, k, v);
	json_decref(o);
	return out;
}

json_t *irc_x_ecs(const struct irc_xrow *x, const struct irc_xhost *h)
{
	json_t *o;

	switch (x->r->kind) {
	case IRC_REC_ACTION:
		o = ecs_action(x);
		break;
	case IRC_REC_EVENT:
		o = json_is_object(x->body) ? json_deep_copy(x->body) : json_object();
		break;
	default:
		o = ecs_evidence(x);
		break;
	}
	if (!o)
		return NULL;
	add_common(o, x, h, x->r->kind == IRC_REC_ACTION ? "Action Taken" :
		   x->r->kind == IRC_REC_EVENT ? "Event Recorded" :
		   irc_x_is_packet(x) ? "Packet Captured" : "Evidence Collected");
	return ordered(o);
}
