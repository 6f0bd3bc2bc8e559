// SPDX-License-Identifier: GPL-2.0-only
/*
 * fleet quarantine|release|list|status|key|trust: the operator's side of
 * the fleet.  Entries are signed here with the host's signing.key and put
 * into etcd; every agent that trusts the key applies them (agent.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "entity.h"
#include "fleet.h"
#include "irc.h"
#include "policy.h"
#include "qopts.h"
#include "store.h"

#define MS	1000LL

/* USER@HOST of the operator, as entries and agents' records name them. */
static void fleet_by(char *buf, size_t len)
{
	char user[64], host[IRC_FLEET_NAME_MAX + 2] = "localhost";

	irc_actor(user, sizeof(user));
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, ".")] = '\0';
	/* "uid 1001" has a space that a record's actor would not show well. */
	user[strcspn(user, " ")] = user[strcspn(user, " ")] ? '_' : '\0';
	snprintf(buf, len, "%s@%s", user, host);
}

static int open_etcd(const char *what, struct irc_etcd_cfg *cfg, struct irc_etcd *e)
{
	int ret = irc_fleet_cfg(what, cfg);

	if (ret)
		return ret;
	if (irc_etcd_open(e, cfg)) {
		irc_err("%s: %s", what, e->err);
		irc_fleet_cfg_free(cfg);
		return IRC_EXIT_FAIL;
	}
	return 0;
}

static void close_etcd(struct irc_etcd_cfg *cfg, struct irc_etcd *e)
{
	irc_etcd_close(e);
	irc_fleet_cfg_free(cfg);
}

/* ---- quarantine / release / isolate ---------------------------------------- */

/*
 * Signs @f (made now by this operator) and puts it at its key: 0 with
 * *@rev, or an IRC_EXIT_* code after printing.  *@errp is -errno of the
 * put, for the record, and -EALREADY when nothing was put (nothing to
 * record).  @shown names the target in messages.
 */
static int publish(const char *what, const char *shown, struct irc_fentry *f, char *key,
		   size_t klen, int64_t *rev, int *errp)
{
	uint8_t pk[32], sk[64];
	struct irc_etcd_cfg cfg;
	struct irc_etcd e;
	struct irc_kv *kv = NULL;
	const char *why;
	char *val = NULL;
	size_t n = 0;
	int64_t cur;
	int ret, err;

	*errp = -EALREADY;
	f->created_ms = (int64_t)(irc_now_real_ns() / 1000000ULL);
	fleet_by(f->by, sizeof(f->by));
	if (irc_fentry_key(irc_fleet.prefix, f, key, klen))
		return irc_usage_err("%s: bad --fleet-prefix '%s': the key is too long", what,
				     irc_shown(irc_fleet.prefix));
	if ((ret = open_etcd(what, &cfg, &e)))
		return ret;
	err = irc_store_sign_keys(irc.state_dir, true, pk, sk);
	if (err) {
		irc_err("%s %s: signing key: %s", what, shown, irc_store_errmsg());
		ret = IRC_EXIT_FAIL;
		goto out;
	}
	/*
	 * Taking back what is already taken back is a mistyped target: said,
	 * nothing changed.  A key that is gone may have been deleted by hand
	 * while agents still enforce it (a delete releases nothing): the
	 * signed release is written all the same.
	 */
	if (f->op == IRC_FOP_RELEASE) {
		struct irc_fentry now;

		err = irc_etcd_range(&e, key, false, &kv, &n, &cur);
		if (!err && n && !irc_fentry_verify(irc_fleet.prefix, key, kv[0].val, kv[0].len,
						    NULL, 0, &now, &why) &&
		    (irc_fentry_clear(&now), now.op == IRC_FOP_RELEASE)) {
			irc_err("%s %s: already %s in the fleet%s%s (%s)", what, shown,
				f->kind == IRC_FK_ISOLATE ? "off" : f->kind == IRC_FK_ALLOW ? "removed" :
				"released",
				*f->group ? " for group " : "", f->group, key);
			ret = IRC_EXIT_FAIL;
			goto out;
		}
		if (!err && !n)
			irc_warn("%s %s: no entry at %s: writing the signed %s anyway", what, shown,
				 key, irc_fentry_op_name(f));
	}
	if (!err) {
		val = irc_fentry_sign(f, key, sk);
		err = val ? irc_etcd_put(&e, key, val, strlen(val), 0, rev) : -ENOMEM;
	}
	*errp = err;
	if (err) {
		irc_err("%s %s: put %s: %s", what, shown, key, err == -ENOMEM ? strerror(ENOMEM) : e.err);
		ret = IRC_EXIT_FAIL;
	}
out:
	sodium_memzero(sk, sizeof(sk));
	irc_kv_free(kv, n);
	free(val);
	close_etcd(&cfg, &e);
	return ret;
}

/* What a signed put did, for its printers (the fields a verb does not use stay 0). */
struct put_done {
	const struct irc_fentry *f;
	const struct irc_qopts *o;
	const char *action, *done, *target, *key, *mode, *shown;
	int64_t rev;
	json_t *allow;		/* isolate: the exemptions (borrowed) */
};

static json_t *put_json(const struct put_done *d)
{
	const struct irc_qopts *o = d->o;

	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:s,s:s}",
		"action", d->action, "target", d->target,
		"group", *o->group ? o->group : "all", "key", d->key, "revision", (json_int_t)d->rev,
		"ttl", o->ttl ? json_integer(o->ttl) : json_null(), "reason", o->reason,
		"by", d->f->by);
}

static void put_text(const struct put_done *d)
{
	const struct irc_qopts *o = d->o;

	printf("%s %s for %s%s (etcd revision %" PRId64 "%s%s)\n", d->done, d->target,
	       *o->group ? "group " : "every host", o->group, d->rev,
	       o->ttl ? ", ttl " : "", o->ttl ? o->ttl_text : "");
}

/* What each address verb is called: by kind (host, allow), then release. */
static const struct {
	const char *what, *action, *done;
} addr_verbs[][2] = {
	[IRC_FK_HOST] = { { "fleet quarantine host", "fleet.quarantine", "fleet quarantine of" },
			  { "fleet release host", "fleet.release", "fleet release of" } },
	[IRC_FK_ALLOW] = { { "fleet allow add", "fleet.allow.add", "fleet allowlist entry" },
			   { "fleet allow del", "fleet.allow.del", "fleet allowlist removal of" } },
};

/* fleet quarantine|release host, fleet allow add|del: an entry for an address. */
static int put_entry(int kind, bool release, int argc, char **argv)
{
	const char *what = addr_verbs[kind][release].what, *action = addr_verbs[kind][release].action;
	char key[512], norm[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN];
	struct irc_fentry f = { .op = release ? IRC_FOP_RELEASE : IRC_FOP_QUARANTINE, .kind = kind };
	const char *why;
	struct put_done d;
	struct irc_qopts o;
	int64_t rev = 0;
	int ret, err;

	ret = irc_qopts_parse(argc, argv, IRC_QO_REASON | IRC_QO_GROUP |
			      (release || kind == IRC_FK_ALLOW ? 0 : IRC_QO_TTL | IRC_QO_DIR), what,
			      "ADDR[/PREFIX]", &o);
	if (ret)
		return ret;
	if (irc_parse_target(o.operand, false, &f.target, &why))
		return irc_usage_err("%s: bad address '%s': %s", what, irc_shown(o.operand), why);
	irc_cidr_format(&f.target, norm, sizeof(norm));
	irc_entity_addr(entity, sizeof(entity), norm);
	snprintf(f.group, sizeof(f.group), "%s", o.group);
	snprintf(f.reason, sizeof(f.reason), "%s", o.reason);
	f.dir = o.dir;
	f.expires_s = o.ttl ? (int64_t)(irc_now_real_ns() / 1000000000ULL + o.ttl) : 0;
	ret = publish(what, norm, &f, key, sizeof(key), &rev, &err);
	if (err == -EALREADY)
		return ret;
	d = (struct put_done){ .f = &f, .o = &o, .action = action, .target = norm, .key = key,
			       .rev = rev, .done = addr_verbs[kind][release].done };
	if (!ret)
		irc.json ? irc_json_print(put_json(&d)) : put_text(&d);
	return irc_qrecord(ret, 0, action, entity,
			   o.reason, err, json_pack("{s:s,s:s,s:I,s:o,s:s}",
				"group", *o.group ? o.group : "all", "key", key,
				"revision", (json_int_t)rev,
				"expires", f.expires_s ? json_integer(f.expires_s) : json_null(),
				"direction", irc_dir_name(f.dir)));
}

static json_t *isolate_json(const struct put_done *d)
{
	const struct irc_qopts *o = d->o;

	return json_pack("{s:s,s:s,s:s,s:I,s:O,s:b,s:b,s:s,s:s}",
		"action", d->action, "group", o->group, "key", d->key, "revision", (json_int_t)d->rev,
		"allow", d->allow, "allow_dns", o->allow_dns, "allow_dhcp", o->allow_dhcp,
		"reason", o->reason, "by", d->f->by);
}

static void isolate_text(const struct put_done *d)
{
	printf("fleet isolation %s for group %s (etcd revision %" PRId64 ")\n",
	       d->f->op == IRC_FOP_RELEASE ? "off" : "on", d->o->group, d->rev);
}

/* fleet isolate on|off --group G: the isolation of every host in a group. */
static int put_isolate(bool off, int argc, char **argv)
{
	const char *what = off ? "fleet isolate off" : "fleet isolate on";
	struct irc_fentry f = { .op = off ? IRC_FOP_RELEASE : IRC_FOP_QUARANTINE,
				.kind = IRC_FK_ISOLATE };
	char key[512], shown[IRC_FLEET_NAME_MAX + 8];
	struct put_done d;
	struct irc_qopts o;
	json_t *allow;
	int64_t rev = 0;
	int ret, err, i;

	ret = irc_qopts_parse(argc, argv, IRC_QO_NO_OPERAND | IRC_QO_REASON | IRC_QO_GROUP |
			      (off ? 0 : IRC_QO_ALLOW | IRC_QO_ALLOW_DNS | IRC_QO_ALLOW_DHCP),
			      what, NULL, &o);
	if (ret)
		return ret;
	/* A forgotten --group would cut every host of the fleet: it is never implied. */
	if (!*o.group)
		return irc_usage_err("%s: missing --group G: the group whose hosts %s", what,
				     off ? "leave the isolation" : "are isolated");
	if (o.nallow > IRC_FLEET_MAX_ALLOW)
		return irc_usage_err("%s: bad --allow: at most %d in a fleet isolation (%d given)",
				     what, IRC_FLEET_MAX_ALLOW, o.nallow);
	snprintf(f.group, sizeof(f.group), "%s", o.group);
	snprintf(f.reason, sizeof(f.reason), "%s", o.reason);
	snprintf(shown, sizeof(shown), "group %s", o.group);
	memcpy(f.allow, o.allow, (size_t)o.nallow * sizeof(o.allow[0]));
	f.nallow = o.nallow;
	f.iso_flags = (o.allow_dns ? IRC_CFG_ISO_DNS : 0) | (o.allow_dhcp ? IRC_CFG_ISO_DHCP : 0);
	ret = publish(what, shown, &f, key, sizeof(key), &rev, &err);
	if (err == -EALREADY)
		return ret;
	allow = json_array();
	for (i = 0; i < f.nallow; i++) {
		char a[IRC_CIDR_STRLEN];

		irc_cidr_format(&f.allow[i], a, sizeof(a));
		json_array_append_new(allow, json_string(a));
	}
	d = (struct put_done){ .f = &f, .o = &o, .key = key, .rev = rev, .allow = allow,
			       .action = off ? "fleet.isolate.off" : "fleet.isolate" };
	if (!ret)
		irc.json ? irc_json_print(isolate_json(&d)) : isolate_text(&d);
	return irc_qrecord(ret, 0, off ? "fleet.isolate.off" : "fleet.isolate", NULL, o.reason, err,
			   json_pack("{s:s,s:s,s:I,s:o,s:b,s:b}", "group", o.group, "key", key,
				     "revision", (json_int_t)rev, "allow", allow,
				     "allow_dns", o.allow_dns, "allow_dhcp", o.allow_dhcp));
}

static int fleet_isolate_on(int argc, char **argv)
{
	return put_isolate(false, argc, argv);
}

static int fleet_isolate_off(int argc, char **argv)
{
	return put_isolate(true, argc, argv);
}

static int do_fleet_isolate(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "on", fleet_isolate_on },
		{ "off", fleet_isolate_off },
		{ 0 }
	};

	return irc_cmd_dispatch("fleet isolate", cmds, argc - 1, argv + 1);
}

static int fleet_quarantine_host(int argc, char **argv)
{
	return put_entry(IRC_FK_HOST, false, argc, argv);
}

static int fleet_release_host(int argc, char **argv)
{
	return put_entry(IRC_FK_HOST, true, argc, argv);
}

static int fleet_allow_add(int argc, char **argv)
{
	return put_entry(IRC_FK_ALLOW, false, argc, argv);
}

static int fleet_allow_del(int argc, char **argv)
{
	return put_entry(IRC_FK_ALLOW, true, argc, argv);
}

static int do_fleet_allow(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "add", fleet_allow_add },
		{ "del", fleet_allow_del },
		{ 0 }
	};

	return irc_cmd_dispatch("fleet allow", cmds, argc - 1, argv + 1);
}

static int do_fleet_quarantine(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = { { "host", fleet_quarantine_host }, { 0 } };

	return irc_cmd_dispatch("fleet quarantine", cmds, argc - 1, argv + 1);
}

static int do_fleet_release(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = { { "host", fleet_release_host }, { 0 } };

	return irc_cmd_dispatch("fleet release", cmds, argc - 1, argv + 1);
}

/*
 * Every key under PREFIX @sub, for a verb that takes no argument.  0 with
 * *@kv (irc_kv_free() it), or an IRC_EXIT_* code after printing.
 */
static int read_all(int argc, char **argv, const char *what, const char *sub,
		    struct irc_kv **kv, size_t *n, int64_t *rev)
{
	struct irc_etcd_cfg cfg;
	struct irc_etcd e;
	char prefix[512];
	int ret, err;

	if (!irc_args(argc, argv, 0, what, what))
		return IRC_EXIT_USAGE;
	if ((ret = open_etcd(what, &cfg, &e)))
		return ret;
	snprintf(prefix, sizeof(prefix), "%s%s", irc_fleet.prefix, sub);
	err = irc_etcd_range(&e, prefix, true, kv, n, rev);
	if (err)
		irc_err("%s: range %s: %s", what, prefix, e.err);
	close_etcd(&cfg, &e);
	return err ? IRC_EXIT_FAIL : 0;
}

/* ---- policy ------------------------------------------------------------ */

static json_t *policy_json(const struct put_done *d)
{
	const struct irc_qopts *o = d->o;

	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "action", "fleet.policy",
		"group", *o->group ? o->group : "all", "key", d->key, "revision", (json_int_t)d->rev,
		"mode", d->mode, "reason", o->reason, "by", d->f->by);
}

static void policy_text(const struct put_done *d)
{
	printf("fleet policy %s (mode %s) for %s (etcd revision %" PRId64 ")\n", d->o->operand,
	       d->mode, d->shown, d->rev);
}

/* fleet policy apply FILE [--group G]: a valid policy, signed, for a group's agents. */
static int fleet_policy_apply(int argc, char **argv)
{
	const char *what = "fleet policy apply";
	struct irc_fentry f = { .kind = IRC_FK_POLICY };
	struct irc_policy_errors errs;
	struct irc_policy p;
	char key[512], shown[IRC_FLEET_NAME_MAX + 8];
	struct put_done d;
	struct irc_qopts o;
	int64_t rev = 0;
	size_t n = 0;
	FILE *in;
	int ret, err;

	ret = irc_qopts_parse(argc, argv, IRC_QO_REASON | IRC_QO_GROUP, what, "FILE", &o);
	if (ret)
		return ret;
	/* Checked here as an agent will check it: an invalid policy never reaches etcd. */
	err = irc_policy_load(o.operand, &p, &errs);
	if (err == -EINVAL) {
		irc_policy_print_errors(stderr, o.operand, &errs);
		return irc_usage_err("%s: bad policy '%s': %d error%s, nothing put", what,
				     irc_shown(o.operand), errs.n, errs.n == 1 ? "" : "s");
	}
	if (err)
		return irc_usage_err("%s: bad policy '%s': %s", what, irc_shown(o.operand),
				     strerror(-err));
	f.policy = calloc(1, IRC_FLEET_MAX_POLICY + 2);
	in = f.policy ? fopen(o.operand, "re") : NULL;
	if (in) {
		n = fread(f.policy, 1, IRC_FLEET_MAX_POLICY + 1, in);
		fclose(in);
	}
	if (!in || n > IRC_FLEET_MAX_POLICY || strlen(f.policy) != n) {
		free(f.policy);
		return irc_usage_err("%s: bad policy '%s': %s", what, irc_shown(o.operand),
				     !in ? "cannot be read" : n > IRC_FLEET_MAX_POLICY ?
				     "larger than 32 KiB (the fleet's limit)" : "it holds a NUL byte");
	}
	snprintf(f.group, sizeof(f.group), "%s", o.group);
	snprintf(f.reason, sizeof(f.reason), "%s", o.reason);
	snprintf(shown, sizeof(shown), "%s%s", *o.group ? "group " : "every host", o.group);
	ret = publish(what, shown, &f, key, sizeof(key), &rev, &err);
	free(f.policy);
	if (err == -EALREADY)
		return ret;
	d = (struct put_done){ .f = &f, .o = &o, .key = key, .rev = rev, .shown = shown,
			       .mode = p.det.enforce ? "enforce" : "monitor" };
	if (!ret)
		irc.json ? irc_json_print(policy_json(&d)) : policy_text(&d);
	return irc_qrecord(ret, 0, "fleet.policy", NULL, o.reason, err,
			   json_pack("{s:s,s:s,s:s,s:I,s:s}", "file", o.operand,
				     "group", *o.group ? o.group : "all", "key", key,
				     "revision", (json_int_t)rev,
				     "mode", p.det.enforce ? "enforce" : "monitor"));
}

static int do_fleet_policy(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = { { "apply", fleet_policy_apply }, { 0 } };

	return irc_cmd_dispatch("fleet policy", cmds, argc - 1, argv + 1);
}

/* ---- list: every entry, checked as this host would check it ------------ */

static json_t *entry_json(const struct irc_kv *kv, const uint8_t (*trusted)[32], size_t nt,
			  int64_t now_s)
{
	struct irc_fentry f;
	char t[IRC_CIDR_STRLEN];
	const char *why, *state;
	int err = irc_fentry_verify(irc_fleet.prefix, kv->key, kv->val, kv->len, trusted, nt,
				    &f, &why);
	json_t *o;

	/* Who signed is worth showing even when this host does not trust them. */
	if (err == -ENOKEY) {
		struct irc_fentry g;

		if (irc_fentry_verify(irc_fleet.prefix, kv->key, kv->val, kv->len, NULL, 0, &g, &why))
			err = -EBADMSG;
		else
			f = g;
	}
	if (err && err != -ENOKEY)
		return json_pack("{s:s,s:s,s:s,s:I}", "key", kv->key, "state", "invalid",
				 "problem", why, "revision", (json_int_t)kv->mod_rev);
	irc_fentry_clear(&f);
	if (f.kind == IRC_FK_ISOLATE || f.kind == IRC_FK_POLICY)
		snprintf(t, sizeof(t), "%s", f.kind == IRC_FK_ISOLATE ? IRC_FLEET_ISOLATION :
			 IRC_FLEET_POLICY);
	else
		irc_cidr_format(&f.target, t, sizeof(t));
	state = f.kind == IRC_FK_ISOLATE ? (f.op == IRC_FOP_RELEASE ? "off" : "isolated") :
		f.kind == IRC_FK_ALLOW ? (f.op == IRC_FOP_RELEASE ? "removed" : "allowed") :
		f.kind == IRC_FK_POLICY ? "applied" :
		f.op == IRC_FOP_RELEASE ? "released" :
		f.expires_s && f.expires_s <= now_s ? "expired" : "quarantined";
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:b,s:I}",
		"key", kv->key, "kind", irc_fentry_kind_name(&f),
		"target", t, "group", f.group[0] ? f.group : "all", "state", state,
		"expires", f.expires_s ? json_integer(f.expires_s) : json_null(),
		"direction", irc_dir_name(f.dir), "reason", f.reason, "by", f.by,
		"signer", f.signer, "trusted", err == 0, "revision", (json_int_t)kv->mod_rev);
	return o;
}

/* fleet list's table, from the entries as --json shows them (consumes @arr). */
static void entries_text(json_t *arr, int64_t rev)
{
	json_t *o;
	size_t i;

	if (!json_array_size(arr))
		printf("no fleet entries (etcd revision %" PRId64 ")\n", rev);
	else
		printf("%-40s %-12s %-11s %-20s %-8s %s\n", "TARGET", "GROUP", "STATE",
		       "BY", "TRUSTED", "REASON");
	json_array_foreach(arr, i, o) {
		if (!json_object_get(o, "target")) {
			printf("%-40s %-12s %-11s %s\n", json_string_value(json_object_get(o, "key")),
			       "-", "invalid", json_string_value(json_object_get(o, "problem")));
			continue;
		}
		printf("%-40s %-12s %-11s %-20s %-8s %s\n",
		       json_string_value(json_object_get(o, "target")),
		       json_string_value(json_object_get(o, "group")),
		       json_string_value(json_object_get(o, "state")),
		       json_string_value(json_object_get(o, "by")),
		       json_is_true(json_object_get(o, "trusted")) ? "yes" : "no",
		       json_string_value(json_object_get(o, "reason")));
	}
	json_decref(arr);
}

static int do_fleet_list(int argc, char **argv)
{
	uint8_t trusted[IRC_FLEET_MAX_TRUST][32];
	struct irc_kv *kv;
	size_t n, nt, i;
	int64_t rev;
	json_t *arr;
	int ret, err;

	err = irc_trust_load(irc.state_dir, trusted, &nt);
	if (err) {
		irc_err("fleet list: read the trust list in %s: %s", irc.state_dir, strerror(-err));
		return IRC_EXIT_FAIL;
	}
	if ((ret = read_all(argc, argv, "fleet list", IRC_FLEET_Q, &kv, &n, &rev)))
		return ret;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, entry_json(&kv[i], (const uint8_t (*)[32])trusted, nt,
						      (int64_t)(irc_now_real_ns() / 1000000000ULL)));
	irc_kv_free(kv, n);
	irc.json ? irc_json_print(json_pack("{s:I,s:o}", "revision", (json_int_t)rev, "entries", arr)) :
		   entries_text(arr, rev);
	return IRC_EXIT_OK;
}

/* ---- status: the agents' heartbeats ---------------------------------------- */

/* fleet status's table, from the heartbeats as --json shows them (consumes @arr). */
static void agents_text(json_t *arr, int64_t rev)
{
	json_t *o, *m;
	size_t i, j;

	if (!json_array_size(arr))
		printf("no agent has a heartbeat (etcd revision %" PRId64 ")\n", rev);
	else
		printf("%-20s %-14s %-14s %-9s %8s %8s %8s %8s  %s\n", "AGENT", "STATE", "SYNC",
		       "ISOLATED", "REVISION", "ENTRIES", "REFUSED", "LOST", "HEARTBEAT (UTC)");
	json_array_foreach(arr, i, o) {
		const char *iso = json_string_value(json_object_get(o, "isolation")) ?: "?";

		printf("%-20s %-14s %-14s %-9s %8" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
		       " %8" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT "  %s\n",
		       json_string_value(json_object_get(o, "name")) ?: "?",
		       json_string_value(json_object_get(o, "state")) ?: "?",
		       json_string_value(json_object_get(o, "sync")) ?: "?",
		       !strcmp(iso, "fleet") ? "by fleet" : !strcmp(iso, "local") ? "locally" : iso,
		       json_integer_value(json_object_get(o, "revision")),
		       json_integer_value(json_object_get(o, "entries")),
		       json_integer_value(json_object_get(o, "refused")),
		       json_integer_value(json_object_get(o, "events_lost")),
		       json_string_value(json_object_get(o, "heartbeat")) ?: "?");
		if (!json_integer_value(json_object_get(o, "trusted_keys")))
			printf("%-20s trusts no key: applies nothing from the fleet\n", "");
		json_array_foreach(json_object_get(o, "missing"), j, m)
			printf("%-20s degraded: %s: %s\n", "",
			       json_string_value(json_object_get(m, "capability")) ?: "?",
			       json_string_value(json_object_get(m, "reason")) ?: "?");
	}
	json_decref(arr);
}

static int do_fleet_status(int argc, char **argv)
{
	struct irc_kv *kv;
	size_t n, i;
	int64_t rev;
	json_t *arr, *o;
	int ret;

	if ((ret = read_all(argc, argv, "fleet status", IRC_FLEET_AGENTS, &kv, &n, &rev)))
		return ret;
	arr = json_array();
	for (i = 0; i < n; i++) {
		o = json_loadb((const char *)kv[i].val, kv[i].len, 0, NULL);
		if (json_is_object(o))
			json_array_append_new(arr, o);
		else
			json_decref(o);
	}
	irc_kv_free(kv, n);
	/* Exit 3 like status when one agent does not enforce or see all it should. */
	json_array_foreach(arr, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "state")) ?: "", "degraded"))
			ret = IRC_EXIT_DEGRADED;
	irc.json ? irc_json_print(json_pack("{s:I,s:o}", "revision", (json_int_t)rev, "agents", arr)) :
		   agents_text(arr, rev);
	return ret;
}

/* ---- key and trust ------------------------------------------------------ */

static json_t *key_json(const char *hex)
{
	return json_pack("{s:s,s:s}", "public_key", hex, "file", IRC_STORE_SIGN_KEY);
}

static int do_fleet_key(int argc, char **argv)
{
	uint8_t pk[32], sk[64];
	char hex[65];

	if (!irc_args(argc, argv, 0, "fleet key", "fleet key"))
		return IRC_EXIT_USAGE;
	if (irc_store_sign_keys(irc.state_dir, true, pk, sk)) {
		irc_err("fleet key: %s", irc_store_errmsg());
		return IRC_EXIT_FAIL;
	}
	sodium_memzero(sk, sizeof(sk));
	irc_hex(pk, 32, hex);
	irc.json ? irc_json_print(key_json(hex)) : (void)printf("%s\n", hex);
	return IRC_EXIT_OK;
}

/* What trust add|del did to a key: "added", "removed" or "unchanged". */
struct trust_done {
	bool add;
	const char *key, *result;
};

static json_t *trust_json(const struct trust_done *t)
{
	return json_pack("{s:s,s:s,s:s}", "action", t->add ? "fleet.trust" : "fleet.distrust",
			 "key", t->key, "result", t->result);
}

static void trust_text(const struct trust_done *t)
{
	printf("%s %s\n", !strcmp(t->result, "unchanged") ? "already trusted:" :
	       t->add ? "trusted" : "no longer trusted:", t->key);
}

static void trust_print(bool add, const char *key, const char *result)
{
	struct trust_done t = { add, key, result };

	irc.json ? irc_json_print(trust_json(&t)) : trust_text(&t);
}

static int trust_change(int argc, char **argv, bool add)
{
	const char *what = add ? "fleet trust add" : "fleet trust del";
	uint8_t keys[IRC_FLEET_MAX_TRUST][32], k[32];
	size_t n, i;
	char **ops;
	int err;

	ops = irc_args(argc, argv, 1, what, add ? "fleet trust add PUBKEY_HEX" :
			   "fleet trust del PUBKEY_HEX");
	if (!ops)
		return IRC_EXIT_USAGE;
	if (irc_hex_key(ops[0], k))
		return irc_usage_err("%s: bad key '%s': 64 hex digits (an Ed25519 public key, "
				     "as 'fleet key' prints it)", what, irc_shown(ops[0]));
	err = irc_trust_load(irc.state_dir, keys, &n);
	if (err) {
		irc_err("%s: read the trust list in %s: %s", what, irc.state_dir, strerror(-err));
		return IRC_EXIT_FAIL;
	}
	for (i = 0; i < n; i++)
		if (!memcmp(keys[i], k, 32))
			break;
	if (add && i < n) {
		trust_print(add, ops[0], "unchanged");
		return IRC_EXIT_OK;
	}
	if (!add && i == n) {
		irc_err("%s %s: not in the trust list", what, ops[0]);
		return IRC_EXIT_FAIL;
	}
	if (add && n == IRC_FLEET_MAX_TRUST)
		return irc_usage_err("%s: the trust list is full (%d keys)", what, IRC_FLEET_MAX_TRUST);
	if (add)
		memcpy(keys[n++], k, 32);
	else
		memmove(keys[i], keys[i + 1], (--n - i) * 32);
	err = irc_trust_save(irc.state_dir, (const uint8_t (*)[32])keys, n);
	if (err)
		irc_err("%s: write the trust list in %s: %s", what, irc.state_dir, strerror(-err));
	else
		trust_print(add, ops[0], add ? "added" : "removed");
	return irc_qrecord(err ? IRC_EXIT_FAIL : IRC_EXIT_OK, 0,
			   add ? "fleet.trust" : "fleet.distrust", ops[0], "", err, NULL);
}

static int trust_add(int argc, char **argv)
{
	return trust_change(argc, argv, true);
}

static int trust_del(int argc, char **argv)
{
	return trust_change(argc, argv, false);
}

/* fleet trust list in text, from the keys as --json shows them (consumes @arr). */
static void keys_text(json_t *arr)
{
	size_t i, n = json_array_size(arr);

	if (!n)
		printf("no trusted key: an agent here applies nothing from the fleet\n");
	for (i = 0; i < n; i++)
		printf("%s\n", json_string_value(json_array_get(arr, i)));
	json_decref(arr);
}

static int trust_list(int argc, char **argv)
{
	uint8_t keys[IRC_FLEET_MAX_TRUST][32];
	char hex[65];
	json_t *arr;
	size_t n, i;
	int err;

	if (!irc_args(argc, argv, 0, "fleet trust list", "fleet trust list"))
		return IRC_EXIT_USAGE;
	err = irc_trust_load(irc.state_dir, keys, &n);
	if (err) {
		irc_err("fleet trust list: read the trust list in %s: %s", irc.state_dir,
			strerror(-err));
		return IRC_EXIT_FAIL;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		irc_hex(keys[i], 32, hex);
		json_array_append_new(arr, json_string(hex));
	}
	irc.json ? irc_json_print(json_pack("{s:o}", "keys", arr)) : keys_text(arr);
	return IRC_EXIT_OK;
}

static int do_fleet_trust(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "add", trust_add },
		{ "del", trust_del },
		{ "list", trust_list },
		{ 0 }
	};

	return irc_cmd_dispatch("fleet trust", cmds, argc - 1, argv + 1);
}

int do_fleet(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "quarantine", do_fleet_quarantine },
		{ "release", do_fleet_release },
		{ "isolate", do_fleet_isolate },
		{ "allow", do_fleet_allow },
		{ "policy", do_fleet_policy },
		{ "list", do_fleet_list },
		{ "status", do_fleet_status },
		{ "key", do_fleet_key },
		{ "trust", do_fleet_trust },
		{ 0 }
	};

	return irc_cmd_dispatch("fleet", cmds, argc - 1, argv + 1);
}
