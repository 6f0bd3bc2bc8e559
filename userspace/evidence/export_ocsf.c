// SPDX-License-Identifier: GPL-2.0-only
/*
 * A store row as one OCSF 1.x event:
 *
 *   1007 Process Activity          exec, fork (Launch), exit (Terminate)
 *   4001 Network Activity          connect/accept (Open, Fail), dropped
 *                                  packets and denied sockets (Refuse)
 *   2004 Detection Finding         detector findings (Create)
 *   7003 Process Remediation       quarantine, stop, kill, release of a pid
 *                                  or cgroup (Isolate, Evict, Restore)
 *   7004 Network Remediation       quarantine and release of a host,
 *                                  isolation on and off
 *
 * type_uid is class_uid * 100 + activity_id.  Other rows (incident
 * changes, notes, snapshots) have no class here; events.jsonl has them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "export.h"
#include "irc.h"
#include "policy.h"

enum {
	CAT_SYSTEM = 1, CAT_FINDINGS = 2, CAT_NETWORK = 4, CAT_REMEDIATION = 7,
};
enum {
	SEV_INFO = 1, SEV_LOW = 2, SEV_MEDIUM = 3, SEV_HIGH = 4, SEV_CRITICAL = 5,
};
enum { ST_SUCCESS = 1, ST_FAILURE = 2 };

struct oclass {
	int uid, category;
	const char *name, *category_name;
};

static const struct oclass C_PROCESS = { 1007, CAT_SYSTEM, "Process Activity", "System Activity" };
static const struct oclass C_NETWORK = { 4001, CAT_NETWORK, "Network Activity",
					 "Network Activity" };
static const struct oclass C_FINDING = { 2004, CAT_FINDINGS, "Detection Finding", "Findings" };
static const struct oclass C_PREMED = { 7003, CAT_REMEDIATION, "Process Remediation Activity",
					"Remediation" };
static const struct oclass C_NREMED = { 7004, CAT_REMEDIATION, "Network Remediation Activity",
					"Remediation" };

static const char *const sev_names[] = {
	"Unknown", "Informational", "Low", "Medium", "High", "Critical",
};

static json_t *base(const struct oclass *c, int activity, const char *activity_name,
		    int severity, int status, const struct irc_xrow *x,
		    const struct irc_xhost *h)
{
	char ts[40], msg[1024], tn[128];
	json_t *o;

	irc_x_time(x->r->ts_ns, ts, sizeof(ts));
	irc_x_message(x, msg, sizeof(msg));
	snprintf(tn, sizeof(tn), "%s: %s", c->name, activity_name);
	o = json_pack("{s:i,s:s,s:i,s:s,s:i,s:s,s:I,s:s,s:I,s:i,s:s,s:i,s:s,s:s}",
		"class_uid", c->uid, "class_name", c->name,
		"category_uid", c->category, "category_name", c->category_name,
		"activity_id", activity, "activity_name", activity_name,
		"type_uid", (json_int_t)c->uid * 100 + activity, "type_name", tn,
		"time", (json_int_t)(x->r->ts_ns / 1000000),
		"severity_id", severity, "severity", sev_names[severity],
		"status_id", status, "status", status == ST_SUCCESS ? "Success" : "Failure",
		"message", msg);
	json_object_set_new(o, "metadata", json_pack(
		"{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:s}",
		"version", IRC_OCSF_VERSION,
		"product", "name", "ircontain", "vendor_name", IRC_PRODUCT_VENDOR,
		"version", IRC_VERSION,
		"uid", "", "log_name", x->r->kind == IRC_REC_ACTION ? "actions" :
			x->r->kind == IRC_REC_EVENT ? "events" : "evidence",
		"original_time", ts));
	json_object_set_new(json_object_get(o, "metadata"), "uid",
			    json_sprintf("ircontain-%lld", (long long)x->r->seq));
	json_object_set_new(o, "device", json_pack("{s:s,s:i,s:s}", "hostname", h->hostname,
						   "type_id", 0, "type", "Unknown"));
	if (h->machine_id[0])
		json_object_set_new(json_object_get(o, "device"), "uid",
				    json_string(h->machine_id));
	json_object_set_new(o, "unmapped", json_pack("{s:{s:I,s:I,s:s,s:s,s:s}}", "ircontain",
		"seq", (json_int_t)x->r->seq, "incident", (json_int_t)x->incident,
		"type", x->r->type, "target", x->r->target, "peer", x->r->peer));
	return o;
}

static json_t *join_args(json_t *args)
{
	size_t i, n = 0;
	json_t *v;
	char *s;
	json_t *out;

	json_array_foreach(args, i, v)
		n += strlen(json_string_value(v) ?: "") + 1;
	s = calloc(1, n + 1);
	if (!s)
		return NULL;
	json_array_foreach(args, i, v) {
		if (i)
			strcat(s, " ");
		strcat(s, json_string_value(v) ?: "");
	}
	out = json_string(s);
	free(s);
	return out;
}

/* An OCSF process object from an ECS one (depth-limited parents). */
static json_t *process(json_t *p, json_t *user, int depth)
{
	const char *exe = irc_jstr(p, "executable"), *slash;
	json_t *o = json_object(), *v;

	if (!json_is_object(p))
		return o;
	if (json_is_integer(v = json_object_get(p, "pid")))
		json_object_set(o, "pid", v);
	if (json_is_string(v = json_object_get(p, "name")))
		json_object_set(o, "name", v);
	if (json_is_string(v = json_object_get(p, "entity_id")))
		json_object_set(o, "uid", v);
	if (json_is_array(v = json_object_get(p, "args")) && json_array_size(v))
		json_object_set_new(o, "cmd_line", join_args(v));
	if (exe) {
		slash = strrchr(exe, '/');
		json_object_set_new(o, "file", json_pack("{s:s,s:s,s:i}", "path", exe,
			"name", slash ? slash + 1 : exe, "type_id", 1));
		if (irc_jstr(p, "hash.sha256"))
			json_object_set_new(json_object_get(o, "file"), "hashes", json_pack(
				"[{s:i,s:s,s:s}]", "algorithm_id", 3, "algorithm", "SHA-256",
				"value", irc_jstr(p, "hash.sha256")));
	}
	if (json_is_integer(v = json_object_get(p, "exit_code")))
		json_object_set(o, "exit_code", v);
	if (user && irc_jstr(user, "id"))
		json_object_set_new(o, "user", json_pack("{s:s}", "uid", irc_jstr(user, "id")));
	if (depth < 4 && json_is_object(v = json_object_get(p, "parent")))
		json_object_set_new(o, "parent_process", process(v, NULL, depth + 1));
	return o;
}

static json_t *endpoint(json_t *e)
{
	json_t *o = json_object(), *v;

	if (json_is_string(v = json_object_get(e, "ip")))
		json_object_set(o, "ip", v);
	if (json_is_integer(v = json_object_get(e, "port")))
		json_object_set(o, "port", v);
	return o;
}

static json_t *ocsf_process(const struct irc_xrow *x, const struct irc_xhost *h,
			    const char *act)
{
	json_t *b = x->body, *o, *p, *actor;
	bool launch = strcmp(act, "exit") != 0;

	o = base(&C_PROCESS, launch ? 1 : 2, launch ? "Launch" : "Terminate", SEV_INFO,
		 ST_SUCCESS, x, h);
	p = process(json_object_get(b, "process"), json_object_get(b, "user"), 0);
	/* Launch: the parent launched it.  Terminate: it ended itself. */
	actor = launch && json_object_get(p, "parent_process") ?
		json_deep_copy(json_object_get(p, "parent_process")) : json_deep_copy(p);
	json_object_set_new(o, "process", p);
	json_object_set_new(o, "actor", json_pack("{s:o}", "process", actor));
	if (!strcmp(act, "exit") && json_object_get(p, "exit_code"))
		json_object_set(o, "exit_code", json_object_get(p, "exit_code"));
	return o;
}

static int direction_id(const char *d)
{
	if (!d)
		return 0;
	if (!strcmp(d, "in") || !strcmp(d, "ingress") || !strcmp(d, "inbound"))
		return 1;
	if (!strcmp(d, "out") || !strcmp(d, "egress") || !strcmp(d, "outbound"))
		return 2;
	return 99;
}

static json_t *ocsf_network(const struct irc_xrow *x, const struct irc_xhost *h,
			    const char *act)
{
	json_t *b = x->body, *o, *ci, *v;
	bool refused = !strcmp(act, "packet_dropped") || !strcmp(act, "network_denied") ||
		       irc_x_is_packet(x);
	const char *outcome = irc_jstr(b, "event.outcome");
	bool failed = !refused && outcome && !strcmp(outcome, "failure");
	int activity = refused ? 5 : failed ? 4 : 1;
	const char *dir = irc_jstr(b, "ircontain.direction") ?: irc_jstr(b, "network.direction");
	const char *ntype = irc_jstr(b, "network.type");

	o = base(&C_NETWORK, activity, refused ? "Refuse" : failed ? "Fail" : "Open",
		 SEV_INFO, failed ? ST_FAILURE : ST_SUCCESS, x, h);
	json_object_set_new(o, "src_endpoint", endpoint(json_object_get(b, "source")));
	json_object_set_new(o, "dst_endpoint", endpoint(json_object_get(b, "destination")));
	ci = json_pack("{s:i}", "direction_id", direction_id(dir));
	if (ntype)
		json_object_set_new(ci, "protocol_ver_id",
				    json_integer(!strcmp(ntype, "ipv6") ? 6 : 4));
	if (json_is_integer(v = irc_jpath(b, "network.iana_number")))
		json_object_set(ci, "protocol_num", v);
	else if (irc_jstr(b, "network.transport") &&
		 !strcmp(irc_jstr(b, "network.transport"), "tcp"))
		json_object_set_new(ci, "protocol_num", json_integer(6));
	json_object_set_new(o, "connection_info", ci);
	if (refused) {
		json_object_set_new(o, "action_id", json_integer(2));
		json_object_set_new(o, "action", json_string("Denied"));
		json_object_set_new(o, "disposition_id", json_integer(2));
		json_object_set_new(o, "disposition", json_string("Blocked"));
		if (irc_jstr(b, "rule.name"))
			json_object_set_new(o, "firewall_rule", json_pack("{s:s}", "name",
					    irc_jstr(b, "rule.name")));
	}
	if (irc_x_is_packet(x) || !strcmp(act, "packet_dropped")) {
		json_int_t len = irc_jint(b, "pkt_len", irc_jint(b, "ircontain.sample.length",
					  (json_int_t)x->r->data_len));

		json_object_set_new(o, "traffic", json_pack("{s:I,s:i}", "bytes", len,
							    "packets", 1));
	}
	if (json_is_object(json_object_get(b, "process")))
		json_object_set_new(o, "actor", json_pack("{s:o}", "process",
			process(json_object_get(b, "process"), json_object_get(b, "user"), 0)));
	return o;
}

static int severity_id(const char *name)
{
	int s = name ? irc_severity_parse(name) : -1;

	switch (s) {
	case IRC_SEV_LOW: return SEV_LOW;
	case IRC_SEV_MEDIUM: return SEV_MEDIUM;
	case IRC_SEV_HIGH: return SEV_HIGH;
	case IRC_SEV_CRITICAL: return SEV_CRITICAL;
	default: return SEV_INFO;
	}
}

static json_t *ocsf_finding(const struct irc_xrow *x, const struct irc_xhost *h)
{
	json_t *b = x->body, *o, *fi, *ev = json_array();
	const char *det = irc_jstr(b, "ircontain.finding.detector") ?: irc_jstr(b, "rule.name") ?:
			  x->r->type;
	json_t *enforced = irc_jpath(b, "ircontain.finding.enforced");
	char title[160], uid[64];

	o = base(&C_FINDING, 1, "Create",
		 severity_id(irc_jstr(b, "ircontain.finding.severity")), ST_SUCCESS, x, h);
	/* A finding's status is its lifecycle: it is new. */
	json_object_set_new(o, "status_id", json_integer(1));
	json_object_set_new(o, "status", json_string("New"));
	snprintf(title, sizeof(title), "%s detected", det);
	snprintf(uid, sizeof(uid), "ircontain-finding-%lld", (long long)x->r->seq);
	fi = json_pack("{s:s,s:s,s:s,s:[s],s:{s:s,s:i,s:s},s:I}", "uid", uid, "title", title,
		       "desc", json_string_value(json_object_get(o, "message")),
		       "types", det, "analytic", "name", det, "type_id", 1, "type", "Rule",
		       "created_time", (json_int_t)(x->r->ts_ns / 1000000));
	json_object_set_new(o, "finding_info", fi);
	json_object_set_new(o, "is_alert", json_true());
	if (json_is_object(json_object_get(b, "source")))
		json_array_append_new(ev, json_pack("{s:o}", "src_endpoint",
					endpoint(json_object_get(b, "source"))));
	if (json_is_object(json_object_get(b, "process")))
		json_array_append_new(ev, json_pack("{s:o}", "process",
			process(json_object_get(b, "process"), json_object_get(b, "user"), 0)));
	if (irc_jstr(b, "file.path"))
		json_array_append_new(ev, json_pack("{s:{s:s}}", "file", "path",
						    irc_jstr(b, "file.path")));
	json_object_set_new(o, "evidences", ev);
	json_object_set_new(o, "disposition_id", json_integer(json_is_true(enforced) ? 2 : 15));
	json_object_set_new(o, "disposition", json_string(json_is_true(enforced) ? "Blocked" :
							  "Detected"));
	return o;
}

/* D3FEND countermeasure of a remediation, by name (and id where one is). */
static json_t *countermeasure(const char *tactic, const char *uid, const char *name)
{
	json_t *o = json_pack("{s:{s:s}}", "d3f_tactic", "name", tactic);

	if (name)
		json_object_set_new(o, "d3f_technique", uid ?
			json_pack("{s:s,s:s}", "uid", uid, "name", name) :
			json_pack("{s:s}", "name", name));
	return json_pack("[o]", o);
}

static json_t *ocsf_remediation(const struct irc_xrow *x, const struct irc_xhost *h)
{
	const struct irc_row *r = x->r;
	json_t *b = x->body, *o;
	const char *result = irc_jstr(b, "result");
	const char *how = irc_jstr(b, "action") ?: irc_jstr(b, "mode") ?: irc_jstr(b, "state") ?: "";
	const char *host = irc_entity_host_of(r->target);
	bool release = !strncmp(r->type, "release", 7) || !strcmp(how, "off") ||
		       strstr(r->type, ".off") || !strcmp(r->type, "unisolate");
	bool isolate = !strncmp(r->type, "isolate", 7) || !strcmp(r->type, "unisolate");
	bool network = host || isolate || (!strncmp(r->type, "release", 7) && !*r->target);
	bool kill = !strcmp(r->type, "kill") || !strcmp(how, "kill");
	int activity = release ? 3 : kill ? 2 : 1;
	const char *aname = release ? "Restore" : kill ? "Evict" : "Isolate";
	char cmd[64];

	o = base(network ? &C_NREMED : &C_PREMED, activity, aname, SEV_INFO,
		 !result || !strcmp(result, "ok") ? ST_SUCCESS : ST_FAILURE, x, h);
	snprintf(cmd, sizeof(cmd), "ircontain-action-%lld", (long long)r->seq);
	json_object_set_new(o, "command_uid", json_string(cmd));
	if (result)
		json_object_set_new(o, "status_detail", json_string(result));
	if (irc_jstr(b, "reason") && *irc_jstr(b, "reason"))
		json_object_set_new(o, "remediation", json_pack("{s:s}", "desc",
								irc_jstr(b, "reason")));
	/* A detector acted: the actor is ircontain, the detector its name. */
	if (irc_jstr(b, "origin") && !strcmp(irc_jstr(b, "origin"), "detector"))
		json_object_set_new(o, "actor", json_pack("{s:s,s:s}", "app_name", "ircontain",
							  "invoked_by", r->actor));
	else if (*r->actor)
		json_object_set_new(o, "actor", json_pack("{s:{s:s}}", "user", "name", r->actor));
	if (json_is_integer(json_object_get(b, "uid")) && json_object_get(o, "actor") &&
	    json_object_get(json_object_get(o, "actor"), "user"))
		json_object_set_new(json_object_get(json_object_get(o, "actor"), "user"), "uid",
			json_sprintf("%lld", (long long)irc_jint(b, "uid", 0)));
	if (network) {
		json_object_set_new(o, "connection_info", json_pack("{s:i}", "direction_id",
			direction_id(irc_jstr(b, "direction"))));
		if (host)
			json_object_set_new(o, "dst_endpoint", json_pack("{s:s}", "ip", host));
		json_object_set_new(o, "countermeasures", release ?
			countermeasure("Restore", NULL, "Restore Network Access") : isolate ?
			countermeasure("Isolate", "D3-NI", "Network Isolation") :
			countermeasure("Isolate", "D3-NTF", "Network Traffic Filtering"));
	} else {
		int pid = irc_entity_pid_of(r->target);

		json_object_set_new(o, "process", pid ? json_pack("{s:i}", "pid", pid) :
				    json_pack("{s:s}", "uid", r->target));
		json_object_set_new(o, "countermeasures", release ?
			countermeasure("Restore", NULL, NULL) : kill ?
			countermeasure("Evict", "D3-PT", "Process Termination") :
			countermeasure("Isolate", "D3-KBPI", "Kernel-based Process Isolation"));
	}
	return o;
}

static bool is_remediation(const char *type)
{
	static const char *const types[] = {
		"quarantine", "release", "isolate", "unisolate", "kill", "stop",
	};
	size_t i, n;

	for (i = 0; i < sizeof(types) / sizeof(*types); i++) {
		n = strlen(types[i]);
		if (!strncmp(type, types[i], n) && (!type[n] || type[n] == '.' || type[n] == '_'))
			return true;
	}
	return false;
}

json_t *irc_x_ocsf(const struct irc_xrow *x, const struct irc_xhost *h)
{
	const char *act = irc_x_action(x);

	switch (x->r->kind) {
	case IRC_REC_ACTION:
		return is_remediation(x->r->type) ? ocsf_remediation(x, h) : NULL;
	case IRC_REC_EVIDENCE:
		return irc_x_is_packet(x) ? ocsf_network(x, h, act) : NULL;
	default:
		break;
	}
	if (irc_x_is_finding(x))
		return ocsf_finding(x, h);
	if (!strcmp(act, "exec") || !strcmp(act, "fork") || !strcmp(act, "exit"))
		return ocsf_process(x, h, act);
	if (!strcmp(act, "connect") || !strcmp(act, "accept") ||
	    !strcmp(act, "packet_dropped") || !strcmp(act, "network_denied"))
		return ocsf_network(x, h, act);
	return NULL;
}
