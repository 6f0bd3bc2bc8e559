// SPDX-License-Identifier: GPL-2.0-only
/*
 * allow add|del|list: the anti-lockout allowlist.  Allowlisted addresses
 * are never dropped, by quarantine or by isolation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "entity.h"
#include "entries.h"
#include "irc.h"
#include "loader.h"
#include "parse.h"
#include "pins.h"
#include "qopts.h"

/* Shared front of add and del: options (none), one CIDR, open maps. */
static int allow_prologue(int argc, char **argv, const char *what,
			  struct irc_cidr *target, struct irc_maps *m,
			  char **arg)
{
	const char *why;
	char **ops;

	ops = irc_args(argc, argv, 1, what, "allow add|del ADDR[/PREFIX]");
	if (!ops)
		return IRC_EXIT_USAGE;
	*arg = ops[0];
	if (irc_parse_target(ops[0], false, target, &why))
		return irc_usage_err("%s: bad address '%s': %s", what, irc_shown(ops[0]), why);
	if (irc_maps_open(what, m))
		return IRC_EXIT_FAIL;
	return IRC_EXIT_OK;
}

/* What add or del did: "allow add 10.0.0.1: added". */
struct allow_change {
	const char *action, *target, *result;
};

static json_t *change_json(const struct allow_change *c)
{
	return json_pack("{s:s,s:s,s:s}", "action", c->action, "target", c->target,
			 "result", c->result);
}

static void change_text(const struct allow_change *c)
{
	printf("%s %s: %s\n", c->action, c->target, c->result);
}

static void report(const char *action, const char *target, const char *result)
{
	struct allow_change c = { action, target, result };

	irc.json ? irc_json_print(change_json(&c)) : change_text(&c);
}

/* Warns about quarantine entries the new allowlist entry now exempts. */
static void warn_exempted(const struct irc_maps *m, const struct irc_cidr *t)
{
	struct irc_qrec *recs;
	char w[IRC_CIDR_STRLEN];
	size_t n, i;

	if (irc_qrecs_collect(m, &recs, &n))
		return;
	for (i = 0; i < n; i++) {
		if (!irc_cidr_overlap(&recs[i].target, t))
			continue;
		irc_cidr_format(&recs[i].target, w, sizeof(w));
		irc_warn("the quarantine of %s no longer applies to the allowlisted addresses", w);
	}
	free(recs);
}

/* "host:ADDR[/PLEN]", as the records name it. */
static void entity_of(const struct irc_cidr *t, char *norm, size_t nlen, char *ent,
		      size_t elen)
{
	irc_cidr_format(t, norm, nlen);
	irc_entity_addr(ent, elen, norm);
}

static int do_allow_add(int argc, char **argv)
{
	char norm[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN];
	const char *change = "added";
	struct irc_allow val = {};
	struct irc_cidr target;
	struct irc_key key;
	struct irc_maps m;
	char *arg;
	int ret, err = 0;

	ret = allow_prologue(argc, argv, "allow add", &target, &m, &arg);
	if (ret)
		return ret;
	if (irc_require_enforced(&m, "allow add", IRC_ENF_NET)) {
		irc_maps_close(&m);
		return IRC_EXIT_FAIL;
	}
	entity_of(&target, norm, sizeof(norm), entity, sizeof(entity));
	irc_akey(&target, &key);
	/* The fleet's entry becomes the operator's: a fleet del no longer removes it. */
	if (bpf_map_lookup_elem(m.fd[key.map], &key.k, &val) == 0 &&
	    (val.flags & IRC_ALLOW_ALWAYS) && !(val.flags & IRC_ALLOW_FLEET)) {
		change = "already allowed";
		report("allow add", norm, change);
		goto out;
	}
	if (!val.created_ns) {
		val.created_ns = irc_now_real_ns();
		val.actor_uid = irc_actor_uid();
	}
	val.flags = (val.flags | IRC_ALLOW_ALWAYS) & ~IRC_ALLOW_FLEET;
	val.plen = target.plen;
	if (bpf_map_update_elem(m.fd[key.map], &key.k, &val, BPF_ANY)) {
		char full[128];

		err = -errno;
		change = "none";
		if (IRC_ERR_FULL(err))
			irc_err("allow add %s: %s", arg,
				irc_map_full_msg(&m, key.map, full, sizeof(full)));
		else
			irc_err("allow add %s: update map %s: %s", arg,
				irc_map_names[key.map], strerror(errno));
		ret = IRC_EXIT_FAIL;
		goto out;
	}
	warn_exempted(&m, &target);
	report("allow add", norm, change);
out:
	irc_maps_close(&m);
	return irc_qrecord(ret, 0, "allow.add", entity, NULL, err,
			   json_pack("{s:s}", "change", change));
}

static int do_allow_del(int argc, char **argv)
{
	char norm[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN];
	struct irc_allow val;
	struct irc_cidr target;
	struct irc_key key;
	struct irc_maps m;
	char *arg;
	int ret, err = 0;

	ret = allow_prologue(argc, argv, "allow del", &target, &m, &arg);
	if (ret)
		return ret;
	entity_of(&target, norm, sizeof(norm), entity, sizeof(entity));
	irc_akey(&target, &key);
	if (bpf_map_lookup_elem(m.fd[key.map], &key.k, &val) ||
	    !(val.flags & IRC_ALLOW_ALWAYS)) {
		err = -ENOENT;
		irc_err("allow del %s: not on the allowlist", arg);
		ret = IRC_EXIT_FAIL;
		goto out;
	}
	/* Still exempt from an ongoing isolation: keep that part. */
	val.flags &= ~(IRC_ALLOW_ALWAYS | IRC_ALLOW_FLEET);
	if (val.flags ? bpf_map_update_elem(m.fd[key.map], &key.k, &val, BPF_EXIST) :
			bpf_map_delete_elem(m.fd[key.map], &key.k)) {
		err = -errno;
		irc_err("allow del %s: update map %s: %s", arg,
			irc_map_names[key.map], strerror(errno));
		ret = IRC_EXIT_FAIL;
		goto out;
	}
	report("allow del", norm, "removed");
out:
	irc_maps_close(&m);
	return irc_qrecord(ret, 0, "allow.del", entity, NULL, err, NULL);
}

/* One allowlist entry as list shows it. */
struct arow {
	char target[IRC_CIDR_STRLEN], created[32], actor[64];
	bool always, fleet;
};

static void arow_of(const struct irc_arec *r, struct arow *w)
{
	w->always = r->val.flags & IRC_ALLOW_ALWAYS;
	w->fleet = r->val.flags & IRC_ALLOW_FLEET;
	irc_cidr_format(&r->target, w->target, sizeof(w->target));
	irc_fmt_utc(r->val.created_ns, w->created, sizeof(w->created));
	irc_actor_name(r->val.actor_uid, w->actor, sizeof(w->actor));
}

static json_t *list_json(const struct irc_arec *recs, size_t n)
{
	json_t *arr = json_array();
	struct arow w;
	size_t i;

	for (i = 0; i < n; i++) {
		arow_of(&recs[i], &w);
		json_array_append_new(arr, json_pack("{s:s,s:b,s:b,s:b,s:s,s:s}",
			"target", w.target, "always", w.always, "isolate_only", !w.always,
			"fleet", w.fleet, "created", w.created, "actor", w.actor));
	}
	return json_pack("{s:o}", "entries", arr);
}

static void list_text(const struct irc_arec *recs, size_t n)
{
	struct arow w;
	size_t i;

	if (n)
		printf("%-40s %-12s %-20s  %s\n", "TARGET", "SCOPE", "CREATED (UTC)", "ACTOR");
	else
		printf("allowlist is empty\n");
	for (i = 0; i < n; i++) {
		arow_of(&recs[i], &w);
		printf("%-40s %-12s %-20s  %s\n", w.target,
		       w.fleet ? "always/fleet" : w.always ? "always" : "isolation",
		       w.created, w.actor);
	}
}

static int do_allow_list(int argc, char **argv)
{
	struct irc_arec *recs;
	struct irc_maps m;
	size_t n;
	int err;

	if (!irc_args(argc, argv, 0, "allow list", "allow list"))
		return IRC_EXIT_USAGE;
	if (irc_maps_open("allow list", &m))
		return IRC_EXIT_FAIL;
	err = irc_arecs_collect(&m, &recs, &n);
	irc_maps_close(&m);
	if (err) {
		irc_err("allow list: read allowlist maps: %s", strerror(-err));
		return IRC_EXIT_FAIL;
	}
	irc.json ? irc_json_print(list_json(recs, n)) : list_text(recs, n);
	free(recs);
	return IRC_EXIT_OK;
}

int do_allow(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "add", do_allow_add },
		{ "del", do_allow_del },
		{ "list", do_allow_list },
		{ 0 }
	};

	return irc_cmd_dispatch("allow", cmds, argc - 1, argv + 1);
}
