// SPDX-License-Identifier: GPL-2.0-only
/* The shared quarantine options. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/types.h>

#include "cmd.h"
#include "fleet.h"
#include "irc.h"
#include "journal.h"
#include "parse.h"
#include "qopts.h"
#include "store.h"

const char *irc_pact_name(uint32_t action)
{
	switch (action) {
	case IRC_PACT_DENY: return "deny";
	case IRC_PACT_STOP: return "stop";
	case IRC_PACT_KILL: return "kill";
	default: return "unknown";
	}
}

static int incident_number(const char *what, const char *arg, int64_t *id);

/*
 * Every option of the containment verbs, in the order the usage lists
 * them.  @meta names the value ("D"), NULL for a switch.
 */
static const struct qopt {
	const char *name;
	unsigned int flag;
	const char *meta;
	bool in_usage;
} table[] = {
	{ "all", IRC_QO_ALL, NULL, false },
	{ "allow", IRC_QO_ALLOW, "CIDR ...", true },
	{ "allow-dns", IRC_QO_ALLOW_DNS, NULL, true },
	{ "allow-dhcp", IRC_QO_ALLOW_DHCP, NULL, true },
	{ "no-children", IRC_QO_CHILDREN, NULL, true },
	{ "action", IRC_QO_ACTION, "deny|stop|kill", true },
	{ "group", IRC_QO_GROUP, "G", true },
	{ "ttl", IRC_QO_TTL, "D", true },
	{ "reason", IRC_QO_REASON, "T", true },
	{ "direction", IRC_QO_DIR, "in|out|both", true },
	{ "force", IRC_QO_FORCE, NULL, true },
	{ "incident", IRC_QO_INCIDENT, "ID", true },
};

#define NOPTS	(sizeof(table) / sizeof(table[0]))

/* "quarantine pid PID [--no-children] ... [--incident ID]" */
static void usage_line(const char *what, const char *head, unsigned int allowed,
		       char *buf, size_t len)
{
	size_t i, n;

	n = (size_t)snprintf(buf, len, "%s%s%s", what, head ? " " : "", head ?: "");
	for (i = 0; i < NOPTS && n < len; i++)
		if ((allowed & table[i].flag) && table[i].in_usage)
			n += (size_t)snprintf(buf + n, len - n, " [--%s%s%s]", table[i].name,
					      table[i].meta ? " " : "", table[i].meta ?: "");
}

int irc_qopts_parse(int argc, char **argv, unsigned int allowed,
		    const char *what, const char *head, struct irc_qopts *o)
{
	const char *incident = NULL;
	struct option lo[NOPTS + 1];
	const char *why;
	char **ops;
	size_t i, n = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->reason = "";
	o->group = "";
	o->dir = IRC_DIR_BOTH;
	o->action = IRC_PACT_DENY;
	o->children = true;
	snprintf(o->ttl_text, sizeof(o->ttl_text), "none");
	usage_line(what, head, allowed, o->usage, sizeof(o->usage));
	/* Options a verb does not take are unknown to it. */
	for (i = 0; i < NOPTS; i++)
		if (allowed & table[i].flag)
			lo[n++] = (struct option){ table[i].name,
				table[i].meta ? required_argument : no_argument, NULL, (int)table[i].flag };
	memset(&lo[n], 0, sizeof(lo[n]));

	while ((c = irc_getopt(argc, argv, lo, what)) != -1) {
		switch (c) {
		case IRC_QO_TTL:
			if (irc_parse_duration(optarg, &o->ttl, &why))
				return irc_usage_err("%s: bad --ttl '%s': %s", what, irc_shown(optarg), why);
			irc_format_duration(o->ttl, o->ttl_text, sizeof(o->ttl_text));
			break;
		case IRC_QO_REASON:
			if (irc_parse_reason(optarg, &why))
				return irc_usage_err("%s: bad --reason '%s': %s", what, irc_shown(optarg), why);
			o->reason = optarg;
			break;
		case IRC_QO_FORCE:
			o->force = true;
			break;
		case IRC_QO_DIR:
			if (irc_parse_direction(optarg, &o->dir, &why))
				return irc_usage_err("%s: bad --direction '%s': %s", what, irc_shown(optarg), why);
			break;
		case IRC_QO_ACTION:
			if (!strcmp(optarg, "deny"))
				o->action = IRC_PACT_DENY;
			else if (!strcmp(optarg, "stop"))
				o->action = IRC_PACT_STOP;
			else if (!strcmp(optarg, "kill"))
				o->action = IRC_PACT_KILL;
			else
				return irc_usage_err("%s: bad --action '%s': use deny, stop or kill",
						     what, optarg);
			break;
		case IRC_QO_CHILDREN:
			o->children = false;
			break;
		case IRC_QO_INCIDENT:
			incident = optarg;
			break;
		case IRC_QO_GROUP:
			if (irc_fleet_name_ok(optarg, &why))
				return irc_usage_err("%s: bad --group '%s': %s", what, irc_shown(optarg), why);
			o->group = optarg;
			break;
		case IRC_QO_ALL:
			break;
		case IRC_QO_ALLOW:
			if (o->nallow == IRC_QO_ALLOW_MAX)
				return irc_usage_err("%s: more than %d --allow options",
						     what, IRC_QO_ALLOW_MAX);
			if (irc_parse_target(optarg, false, &o->allow[o->nallow], &why))
				return irc_usage_err("%s: bad --allow '%s': %s", what, irc_shown(optarg), why);
			o->nallow++;
			break;
		case IRC_QO_ALLOW_DNS:
			o->allow_dns = true;
			break;
		case IRC_QO_ALLOW_DHCP:
			o->allow_dhcp = true;
			break;
		default:
			return IRC_EXIT_USAGE;
		}
	}
	ops = irc_operands(argc, argv, (allowed & IRC_QO_NO_OPERAND) ? 0 : 1, what, o->usage);
	if (!ops)
		return IRC_EXIT_USAGE;
	o->operand = (allowed & IRC_QO_NO_OPERAND) ? NULL : ops[0];
	/* Last: the only check that reads anything (the store). */
	if (incident && (allowed & IRC_QO_WRITE_FIRST)) {
		if ((c = incident_number(what, incident, &o->incident)))
			return c;
		o->incident_unchecked = true;
	} else if (incident && (c = irc_qopts_incident(what, incident, &o->incident))) {
		return c;
	}
	/* Before any kernel write: a kill from here on leaves a note to record. */
	if (!(allowed & IRC_QO_WRITE_FIRST))
		irc_qopts_intent(what, o);
	return 0;
}

void irc_qopts_intent(const char *what, const struct irc_qopts *o)
{
	irc_journal_intent(what, o->operand, o->incident, o->reason);
}

static int incident_number(const char *what, const char *arg, int64_t *id)
{
	uint64_t v;

	if (irc_parse_u64(arg, 1, INT64_MAX, &v, NULL))
		return irc_usage_err("%s: bad --incident '%s': an incident number (1 or more)",
				     what, irc_shown(arg));
	*id = v;
	return 0;
}

/* Incident @v exists and is open, or a store that cannot tell (a warning). */
static int incident_lookup(const char *what, int64_t v)
{
	char db[4096], anchor[4096];
	struct irc_store *s;
	struct stat st;
	int err;

	/* No store, and never one: no incident yet either, and nothing is created. */
	snprintf(db, sizeof(db), "%s/%s", irc.state_dir, IRC_STORE_DB);
	snprintf(anchor, sizeof(anchor), "%s/%s", irc.state_dir, IRC_STORE_ANCHOR);
	if (stat(db, &st) && errno == ENOENT && stat(anchor, &st) && errno == ENOENT)
		return irc_usage_err("%s: no incident %" PRId64 " (there is no evidence store yet)",
				     what, v);
	/* A store that cannot be opened says nothing about the incident. */
	irc_journal_defer(true);
	err = irc_store_open(&s, irc.state_dir, false);
	irc_journal_defer(false);
	if (!err) {
		err = irc_incident_check_open(s, v);
		irc_store_close(s);
	} else if (err == -ENOENT || err == -EALREADY) {
		err = -EIO;
	}
	if (err == -ENOENT)
		return irc_usage_err("%s: no incident %" PRId64, what, v);
	if (err == -EALREADY)
		return irc_usage_err("%s: incident %" PRId64 " is closed", what, v);
	/*
	 * Containment first: a store that cannot say whether the incident
	 * exists (gone, locked, corrupt, no key) never stops the command.
	 * The record names the incident as given, with this caveat.
	 */
	if (err)
		irc_warn("%s: --incident %" PRId64 " not checked (%s): containing anyway", what, v,
			 irc_store_errmsg());
	return 0;
}

int irc_qopts_incident(const char *what, const char *arg, int64_t *id)
{
	int ret = incident_number(what, arg, id);

	return ret ? ret : incident_lookup(what, *id);
}

int irc_qopts_incident_late(const char *what, struct irc_qopts *o)
{
	if (!o->incident_unchecked)
		return 0;
	o->incident_unchecked = false;
	return incident_lookup(what, o->incident);
}

int irc_qrecord(int ret, int64_t incident, const char *type, const char *target,
		const char *reason, int err, json_t *detail)
{
	/* irc_record_action() has said why; this says what it means. */
	if (irc_record_action(incident, type, target, reason, err, detail)) {
		irc_warn("%s%s%s: %s, not recorded in the evidence store", type,
			 target && *target ? " " : "", target ?: "",
			 err ? "attempted" : "applied");
		if (ret == IRC_EXIT_OK)
			ret = IRC_EXIT_FAIL;
	}
	json_decref(detail);
	return ret;
}

uint64_t irc_qopts_expiry(const struct irc_qopts *o)
{
	return o->ttl ? irc_now_boot_ns() + o->ttl * 1000000000ULL : 0;
}

static json_t *qprint_json(const struct irc_qopts *o, const char *kind, const char *target,
			   bool updated, bool host)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "action", "quarantine", "kind", kind,
			      "target", target, "result", updated ? "updated" : "added");

	if (host)
		json_object_set_new(j, "direction", json_string(irc_dir_name(o->dir)));
	json_object_set_new(j, "ttl", o->ttl ? json_integer(o->ttl) : json_null());
	json_object_set_new(j, "reason", json_string(o->reason));
	return j;
}

static void qprint_text(const struct irc_qopts *o, const char *kind, const char *target,
			bool updated, bool host)
{
	printf("%s %s%s%s (%s%s%sttl %s%s%s%s)\n",
	       updated ? "updated quarantine of" : "quarantined", host ? "" : kind,
	       host ? "" : " ", target, host ? "direction " : "",
	       host ? irc_dir_name(o->dir) : "", host ? ", " : "", o->ttl_text,
	       *o->reason ? ", reason \"" : "", o->reason, *o->reason ? "\"" : "");
}

void irc_qopts_print(const struct irc_qopts *o, const char *kind, const char *target,
		     bool updated)
{
	bool host = !strcmp(kind, "host");

	irc.json ? irc_json_print(qprint_json(o, kind, target, updated, host)) :
		   qprint_text(o, kind, target, updated, host);
}

static json_t *release_json(const struct irc_released *r)
{
	bool host = !strcmp(r->kind, "host"), all = !strcmp(r->kind, "all");
	json_t *j = json_pack("{s:s}", "action", "release");

	if (!host && !all)
		json_object_set_new(j, "kind", json_string(r->kind));
	json_object_set_new(j, "target", json_string(all ? "all" : r->target));
	if (all) {
		json_object_set_new(j, "released", json_integer(r->n));
		return j;
	}
	json_object_set_new(j, "result", json_string("released"));
	if (!strcmp(r->kind, "pid"))
		json_object_set_new(j, "processes", json_integer(r->n));
	return j;
}

static void release_text(const struct irc_released *r)
{
	bool host = !strcmp(r->kind, "host");

	if (!strcmp(r->kind, "all"))
		printf("released %ld quarantine entr%s\n", r->n, r->n == 1 ? "y" : "ies");
	else if (!strcmp(r->kind, "pid"))
		printf("released PID %s (%ld process%s)\n", r->target, r->n,
		       r->n == 1 ? "" : "es");
	else
		printf("released %s%s%s\n", host ? "" : r->kind, host ? "" : " ", r->target);
}

void irc_release_print(const struct irc_released *r)
{
	irc.json ? irc_json_print(release_json(r)) : release_text(r);
}
