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

static void report(const char *action, const char *target, const char *result)
{
	if (irc.json)
		irc_json_print(json_pack("{s:s,s:s,s:s}", "action", action,
					 "target", target, "result", result));
	else
		printf("%s %s: %s\n", action, target, result);
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

static int do_allow_list(int argc, char **argv)
{
	struct irc_arec *recs;
	struct irc_maps m;
	json_t *arr = NULL;
	size_t n, i;
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
	if (irc.json)
		arr = json_array();
	else if (n)
		printf("%-40s %-12s %-20s  %s\n", "TARGET", "SCOPE", "CREATED (UTC)", "ACTOR");
	else
		printf("allowlist is empty\n");
	for (i = 0; i < n; i++) {
		char t[IRC_CIDR_STRLEN], created[32], actor[64];
		const struct irc_allow *v = &recs[i].val;
		bool always = v->flags & IRC_ALLOW_ALWAYS;

		irc_cidr_format(&recs[i].target, t, sizeof(t));
		irc_fmt_utc(v->created_ns, created, sizeof(created));
		irc_actor_name(v->actor_uid, actor, sizeof(actor));
		if (arr)
			json_array_append_new(arr, json_pack("{s:s,s:b,s:b,s:b,s:s,s:s}",
				"target", t, "always", always,
				"isolate_only", !always, "fleet", !!(v->flags & IRC_ALLOW_FLEET),
				"created", created, "actor", actor));
		else
			printf("%-40s %-12s %-20s  %s\n", t,
			       v->flags & IRC_ALLOW_FLEET ? "always/fleet" : always ? "always" :
			       "isolation", created, actor);
	}
	if (arr)
		irc_json_print(json_pack("{s:o}", "entries", arr));
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
