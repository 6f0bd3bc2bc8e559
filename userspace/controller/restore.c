// SPDX-License-Identifier: GPL-2.0-only
/*
 * The desired state from the store's actions, and its restore into the
 * kernel.  See restore.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cgroup.h"
#include "entity.h"
#include "entries.h"
#include "irc.h"
#include "policy.h"
#include "restore.h"
#include "store.h"

#define NS	1000000000LL

/* ---- the index: entity -> ent[] ------------------------------------- */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int idx_grow(struct irc_want *w)
{
	size_t cap = w->idx_cap ? w->idx_cap * 2 : 256, i;
	int32_t *idx = malloc(cap * sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		idx[i] = -1;
	for (i = 0; i < w->n; i++) {
		size_t h = hash_str(w->ent[i].entity) & (cap - 1);

		while (idx[h] >= 0)
			h = (h + 1) & (cap - 1);
		idx[h] = (int32_t)i;
	}
	free(w->idx);
	w->idx = idx;
	w->idx_cap = cap;
	return 0;
}

/* The entry for @entity, or NULL. */
static struct irc_want_ent *want_find(const struct irc_want *w, const char *entity)
{
	size_t h;

	if (!w->idx_cap)
		return NULL;
	for (h = hash_str(entity) & (w->idx_cap - 1); w->idx[h] >= 0;
	     h = (h + 1) & (w->idx_cap - 1))
		if (!strcmp(w->ent[w->idx[h]].entity, entity))
			return &w->ent[w->idx[h]];
	return NULL;
}

/* The entry for @entity, created (not live) if new; NULL on ENOMEM. */
static struct irc_want_ent *want_get(struct irc_want *w, const char *entity)
{
	struct irc_want_ent *e = want_find(w, entity);
	size_t h;

	if (e)
		return e;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct irc_want_ent *n = realloc(w->ent, cap * sizeof(*n));

		if (!n)
			return NULL;
		w->ent = n;
		w->cap = cap;
	}
	/* Half full at most, so every probe ends. */
	if ((w->n + 1) * 2 > w->idx_cap && idx_grow(w))
		return NULL;
	e = &w->ent[w->n];
	memset(e, 0, sizeof(*e));
	e->entity = strdup(entity);
	if (!e->entity)
		return NULL;
	for (h = hash_str(entity) & (w->idx_cap - 1); w->idx[h] >= 0;
	     h = (h + 1) & (w->idx_cap - 1))
		;
	w->idx[h] = (int32_t)w->n++;
	return e;
}

void irc_want_free(struct irc_want *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->ent[i].entity);
	free(w->ent);
	free(w->idx);
	free(w->iso_allow);
	memset(w, 0, sizeof(*w));
}

/* ---- replay ---------------------------------------------------------- */

static int64_t jint(json_t *b, const char *k)
{
	return json_integer_value(json_object_get(b, k));
}

static const char *jstr(json_t *b, const char *k)
{
	return json_string_value(json_object_get(b, k)) ?: "";
}

static int detector_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < IRC_DET__MAX; i++)
		if (!strcmp(irc_detector_name(i), name))
			return (int)i;
	return -1;
}

/*
 * Wanted allowlist entries are keyed "allow:ADDR[/PLEN]", apart from the
 * quarantines of the same address ("host:..."); no record names them so.
 */
#define ALLOW_KEY	"allow:"

/* What a wanted entry's key names: the text after "host:", "allow:", ... */
static const char *named(const char *key)
{
	const char *rest;

	if (!strncmp(key, ALLOW_KEY, strlen(ALLOW_KEY)))
		return key + strlen(ALLOW_KEY);
	return irc_entity_parse(key, &rest) == IRC_ENT_UNKNOWN ? key : rest;
}

static void want_set(struct irc_want *w, const struct irc_row *r, json_t *b, int kind,
		     const char *key)
{
	struct irc_want_ent *e = want_get(w, key);
	const char *why;
	int det;

	if (!e)
		return;
	if ((kind == IRC_WANT_HOST || kind == IRC_WANT_ALLOW) &&
	    irc_parse_target(named(key), true, &e->cidr, &why))
		return;
	/* A second quarantine of the same target updates it, as the CLI does. */
	if (!e->live || !e->created_ns)
		e->created_ns = jint(b, "created_ns") ?: r->ts_ns;
	e->kind = kind;
	e->live = true;
	e->set_ns = r->ts_ns;
	e->expires_ns = jint(b, "expires_ns");
	if (!e->expires_ns && jint(b, "ttl") > 0)
		e->expires_ns = r->ts_ns + jint(b, "ttl") * NS;
	e->incident = r->incident;
	e->dir = IRC_DIR_BOTH;
	if (!strcmp(jstr(b, "direction"), "in"))
		e->dir = IRC_DIR_IN;
	else if (!strcmp(jstr(b, "direction"), "out"))
		e->dir = IRC_DIR_OUT;
	e->uid = (__u32)jint(b, "uid");
	e->origin = IRC_ORIGIN_OPERATOR;
	det = detector_id(jstr(b, "origin_actor")[0] ? jstr(b, "origin_actor") : r->actor);
	if (!strcmp(jstr(b, "origin"), "detector") && det >= 0) {
		e->origin = IRC_ORIGIN_DETECTOR;
		e->detector = (__u32)det;
	} else if (!strcmp(jstr(b, "origin"), "fleet")) {
		/* Restored as the fleet's: only a signed fleet release lifts it. */
		e->origin = IRC_ORIGIN_FLEET;
	}
	snprintf(e->reason, sizeof(e->reason), "%s", jstr(b, "reason"));
	snprintf(e->actor, sizeof(e->actor), "%s",
		 jstr(b, "origin_actor")[0] ? jstr(b, "origin_actor") : r->actor);
}

static void want_drop_all(struct irc_want *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->ent[i].kind != IRC_WANT_ALLOW)
			w->ent[i].live = false;
}

static void iso_set(struct irc_want *w, const struct irc_row *r, json_t *b)
{
	json_t *a = json_object_get(b, "allow"), *v;
	const char *why;
	size_t i;

	if (!w->isolate)
		w->iso_since_ns = jint(b, "since_ns") ?: r->ts_ns;
	w->isolate = true;
	w->iso_incident = r->incident;
	w->iso_flags = (json_is_true(json_object_get(b, "allow_dns")) ? IRC_CFG_ISO_DNS : 0) |
		       (json_is_true(json_object_get(b, "allow_dhcp")) ? IRC_CFG_ISO_DHCP : 0) |
		       /* Only a signed fleet order ends the fleet's isolation, after a reboot too. */
		       (!strcmp(jstr(b, "origin"), "fleet") ? IRC_CFG_ISO_FLEET : 0);
	/* A second `isolate on` adds its exemptions to those in force. */
	json_array_foreach(a, i, v) {
		struct irc_cidr c, *n;

		if (!json_is_string(v) || irc_parse_target(json_string_value(v), true, &c, &why))
			continue;
		n = realloc(w->iso_allow, (w->n_iso_allow + 1) * sizeof(*n));
		if (!n)
			return;
		w->iso_allow = n;
		n[w->n_iso_allow++] = c;
	}
}

/*
 * A `--from-file` record ("list:sha256:..."): its targets, one by one, as
 * if each had its own record.
 */
static void list_each(struct irc_want *w, const struct irc_row *r, json_t *b,
		      bool release)
{
	char t[IRC_ENTITY_LEN];
	struct irc_want_ent *e;
	struct irc_row one = *r;
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(b, "targets"), i, v) {
		if (!json_is_string(v))
			continue;
		irc_entity_addr(t, sizeof(t), json_string_value(v));
		one.target = t;
		if (!release)
			want_set(w, &one, b, IRC_WANT_HOST, t);
		else if ((e = want_find(w, t)))
			e->live = false;
	}
}

static int on_action(const struct irc_row *r, void *ctx)
{
	struct irc_want *w = ctx;
	const char *t = r->target ? r->target : "", *type = r->type, *addr;
	enum irc_entity_kind kind;
	char key[IRC_ENTITY_LEN];
	struct irc_want_ent *e;
	json_t *b;

	w->actions++;
	b = json_loads(r->body ? r->body : "{}", 0, NULL);
	if (!b)
		return 0;
	if (json_is_string(json_object_get(b, "entity")))
		t = json_string_value(json_object_get(b, "entity"));
	/* What failed changed nothing. */
	if (strcmp(jstr(b, "result"), "ok"))
		goto out;
	kind = irc_entity_parse(t, &addr);
	if (!strcmp(type, "quarantine") || !strcmp(type, "stop")) {
		if (kind == IRC_ENT_HOST)
			want_set(w, r, b, IRC_WANT_HOST, t);
		else if (kind == IRC_ENT_LIST)
			list_each(w, r, b, false);
		else if (kind == IRC_ENT_CGROUP)
			want_set(w, r, b, IRC_WANT_CGROUP, t);
		else if (kind == IRC_ENT_PID)
			want_set(w, r, b, IRC_WANT_PID, t);
	} else if (!strcmp(type, "release") || !strcmp(type, "expire")) {
		if (!*t && !strcmp(jstr(b, "kind"), "all"))
			want_drop_all(w);
		else if (kind == IRC_ENT_LIST)
			list_each(w, r, b, true);
		else if ((e = want_find(w, t)))
			e->live = false;
	} else if (!strcmp(type, "allow.add") && kind == IRC_ENT_HOST) {
		snprintf(key, sizeof(key), ALLOW_KEY "%s", addr);
		want_set(w, r, b, IRC_WANT_ALLOW, key);
	} else if (!strcmp(type, "allow.del") && kind == IRC_ENT_HOST) {
		snprintf(key, sizeof(key), ALLOW_KEY "%s", addr);
		if ((e = want_find(w, key)))
			e->live = false;
	} else if (!strcmp(type, "isolate")) {
		iso_set(w, r, b);
	} else if (!strcmp(type, "isolate.off")) {
		w->isolate = false;
		free(w->iso_allow);
		w->iso_allow = NULL;
		w->n_iso_allow = 0;
	}
out:
	json_decref(b);
	return 0;
}

int irc_want_collect(struct irc_store *s, struct irc_want *w)
{
	memset(w, 0, sizeof(*w));
	return irc_store_rows(s, 0, 1u << IRC_REC_ACTION, 0, 0, NULL, on_action, w);
}

/* ---- restore --------------------------------------------------------- */

struct rctx {
	const struct irc_maps *m;
	const struct irc_restore_sink *sink;
	struct irc_restore_report *rep;
	bool quiet;
	bool only_cgroups;
	int64_t now_real;
	uint64_t now_boot;
};

static void say(const struct rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct rctx *c, const char *fmt, ...)
{
	/* The controller's (cgroups only) and --json's go to the log. */
	bool log = irc.json || c->only_cgroups;
	FILE *f = log ? stderr : stdout;
	va_list ap;

	if (c->quiet)
		return;
	fprintf(f, "%s", log ? "ircontain: " : "");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* The action of one restored (or not) entry, by "restore". */
static void record(const struct rctx *c, const char *type, const char *target,
		   int64_t incident, const char *reason, int err, json_t *body)
{
	json_object_set_new(body, "reason", json_string(reason ?: ""));
	json_object_set_new(body, "result", json_string(err ? strerror(-err) : "ok"));
	json_object_set_new(body, "restored", json_true());
	/* The whole entity, whatever a queue may cut from the target column. */
	if (target)
		json_object_set_new(body, "entity", json_string(target));
	if (!c->sink || c->sink->record(c->sink->ctx, type, target, incident, body))
		c->rep->record_errors++;
}

static const char *dir_name(__u32 dir)
{
	return dir == IRC_DIR_IN ? "in" : dir == IRC_DIR_OUT ? "out" : "both";
}

/* Seconds left, rounded up; the entry's expiry on the boot clock. */
static int64_t left_s(const struct rctx *c, const struct irc_want_ent *e)
{
	return (e->expires_ns - c->now_real + NS - 1) / NS;
}

static uint64_t boot_expiry(const struct rctx *c, const struct irc_want_ent *e)
{
	return e->expires_ns ? c->now_boot + (uint64_t)(e->expires_ns - c->now_real) : 0;
}

static bool expired(const struct rctx *c, const struct irc_want_ent *e)
{
	char t[32];

	if (!e->expires_ns || e->expires_ns > c->now_real)
		return false;
	irc_fmt_utc((uint64_t)e->expires_ns, t, sizeof(t));
	say(c, "not restored: the quarantine of %s expired at %s while ircontain was not loaded",
	    e->entity, t);
	c->rep->expired++;
	record(c, "expire", e->entity, e->incident, "expired while ircontain was not loaded", 0,
	       json_pack("{s:s}", "expired", t));
	return true;
}

static json_t *qbody(const struct rctx *c, const struct irc_want_ent *e, const char *kind)
{
	json_t *b = json_pack("{s:s,s:o,s:I,s:I,s:I,s:s,s:s}", "kind", kind,
		"ttl", e->expires_ns ? json_integer(left_s(c, e)) : json_null(),
		"expires_ns", (json_int_t)e->expires_ns, "created_ns", (json_int_t)e->created_ns,
		"uid", (json_int_t)e->uid, "origin",
		e->origin == IRC_ORIGIN_DETECTOR ? "detector" :
		e->origin == IRC_ORIGIN_FLEET ? "fleet" : "operator",
		"origin_actor", e->actor);

	if (!strcmp(kind, "host"))
		json_object_set_new(b, "direction", json_string(dir_name(e->dir)));
	return b;
}

static void ttl_text(const struct rctx *c, const struct irc_want_ent *e, char *buf, size_t len)
{
	char d[32];

	if (!e->expires_ns) {
		snprintf(buf, len, "no ttl");
		return;
	}
	irc_format_duration((uint64_t)left_s(c, e), d, sizeof(d));
	snprintf(buf, len, "%s left", d);
}

static const char *full_or(int err)
{
	return err == -E2BIG || err == -ENOMEM || err == -ENOSPC ? "the table is full" :
	       strerror(-err);
}

static int restore_host(const struct rctx *c, const struct irc_want_ent *e)
{
	struct irc_qentry v = {}, old;
	struct irc_key key;
	char ttl[48];
	int err = 0;

	irc_qkey(&e->cidr, &key);
	if (irc_q_lookup(c->m, &key, &old) == 0) {
		c->rep->present++;
		return 0;
	}
	if (expired(c, e))
		return 0;
	v.expires_ns = boot_expiry(c, e);
	v.created_ns = (__u64)e->created_ns;
	v.dir = e->dir;
	v.plen = e->cidr.plen;
	v.actor_uid = e->origin == IRC_ORIGIN_DETECTOR ? e->detector : e->uid;
	v.origin = e->origin;
	v.incident = (__u32)e->incident;
	snprintf(v.reason, sizeof(v.reason), "%s", e->reason);
	err = irc_q_update(c->m, &key, &v, BPF_NOEXIST);
	ttl_text(c, e, ttl, sizeof(ttl));
	if (err) {
		irc_err("restore quarantine of %s: update map %s: %s", e->entity,
			irc_map_names[key.map], full_or(err));
		c->rep->failed++;
	} else {
		say(c, "restored the quarantine of %s (%s, direction %s%s%s%s)", named(e->entity), ttl,
		    dir_name(e->dir), *e->reason ? ", reason \"" : "", e->reason,
		    *e->reason ? "\"" : "");
		c->rep->hosts++;
	}
	record(c, "quarantine", e->entity, e->incident, e->reason, err, qbody(c, e, "host"));
	return err;
}

static int restore_allow(const struct rctx *c, const struct irc_want_ent *e)
{
	struct irc_allow v = {};
	struct irc_key key;
	char target[IRC_ENTITY_LEN];
	int err = 0;

	irc_akey(&e->cidr, &key);
	if (bpf_map_lookup_elem(c->m->fd[key.map], &key.k, &v) == 0 &&
	    (v.flags & IRC_ALLOW_ALWAYS)) {
		c->rep->present++;
		return 0;
	}
	if (!v.created_ns) {
		v.created_ns = (__u64)e->created_ns;
		v.actor_uid = e->uid;
	}
	/* The fleet's stays the fleet's: only a signed fleet del removes it. */
	v.flags |= IRC_ALLOW_ALWAYS | (e->origin == IRC_ORIGIN_FLEET ? IRC_ALLOW_FLEET : 0);
	v.plen = e->cidr.plen;
	if (bpf_map_update_elem(c->m->fd[key.map], &key.k, &v, BPF_ANY))
		err = -errno;
	irc_entity_addr(target, sizeof(target), named(e->entity));
	if (err) {
		irc_err("restore allowlist entry %s: update map %s: %s", named(e->entity),
			irc_map_names[key.map], full_or(err));
		c->rep->failed++;
	} else {
		say(c, "restored the allowlist entry %s", named(e->entity));
		c->rep->allows++;
	}
	record(c, "allow.add", target, 0, "", err,
	       json_pack("{s:s,s:I}", "change", err ? "none" : "added", "uid", (json_int_t)e->uid));
	return err;
}

static int restore_cgroup(const struct rctx *c, const struct irc_want_ent *e)
{
	const char *path = named(e->entity);
	struct irc_pentry v = {};
	struct irc_config cfg;
	char ttl[48];
	uint64_t id;
	int err = 0;

	if (irc_cgroup_id(path, &id)) {
		if (!expired(c, e)) {
			say(c, "cgroup %s does not exist yet: its quarantine is applied when it appears ('ircontain run' watches for it)",
			    path);
			c->rep->pending++;
		}
		return 0;
	}
	if (bpf_map_lookup_elem(c->m->fd[IRC_M_QCGRP], &id, &v) == 0) {
		c->rep->present++;
		return 0;
	}
	if (expired(c, e))
		return 0;
	if (irc_config_read(c->m, &cfg))
		err = -EIO;
	else if (!cfg.cgroup_root[0] || !irc_path_under(path, cfg.cgroup_root))
		err = -EXDEV;
	if (!err) {
		v.expires_ns = boot_expiry(c, e);
		v.created_ns = (__u64)e->created_ns;
		v.flags = IRC_PF_CHILDREN;
		v.action = IRC_PACT_DENY;
		v.actor_uid = e->uid;
		v.origin = e->origin;
		v.incident = (__u32)e->incident;
		snprintf(v.reason, sizeof(v.reason), "%s", e->reason);
		if (bpf_map_update_elem(c->m->fd[IRC_M_QCGRP], &id, &v, BPF_NOEXIST))
			err = -errno;
	}
	if (err) {
		irc_err("restore quarantine of cgroup %s: %s", path,
			err == -EXDEV ? "outside the cgroup where the process hooks are attached" :
			full_or(err));
		c->rep->failed++;
	} else {
		irc_qproc_sync_cgroup_flag(c->m);
		ttl_text(c, e, ttl, sizeof(ttl));
		say(c, "restored the quarantine of cgroup %s (%s)", path, ttl);
		c->rep->cgroups++;
	}
	record(c, "quarantine", e->entity, e->incident, e->reason, err, qbody(c, e, "cgroup"));
	return err;
}

/* A process quarantine the kernel no longer has ended with its process. */
static void end_pid(const struct rctx *c, const struct irc_want_ent *e)
{
	__u32 pid = (__u32)strtoul(named(e->entity), NULL, 10);
	struct irc_pentry v;
	/* Set before this boot began: the reboot ended it. */
	bool reboot = e->set_ns < c->now_real - (int64_t)c->now_boot;
	const char *why = reboot ?
		"ended by the reboot: a process quarantine cannot outlive its process" :
		"ended: ircontain was unloaded, and the process quarantine with it";

	if (bpf_map_lookup_elem(c->m->fd[IRC_M_QPID], &pid, &v) == 0) {
		c->rep->present++;
		return;
	}
	say(c, "process quarantine of pid %u %s", pid, why);
	c->rep->ended++;
	record(c, "release", e->entity, e->incident, why,
	       0, json_pack("{s:s,s:s}", "kind", "process", "ended", reboot ? "reboot" : "unload"));
}

static int restore_isolation(const struct rctx *c, const struct irc_want *w)
{
	struct irc_config cfg;
	json_t *allowed = json_array();
	char a[IRC_CIDR_STRLEN], since[32];
	size_t i;
	int err = 0, lock;

	for (i = 0; i < w->n_iso_allow && !err; i++) {
		struct irc_allow v = {};
		struct irc_key key;

		irc_akey(&w->iso_allow[i], &key);
		if (bpf_map_lookup_elem(c->m->fd[key.map], &key.k, &v))
			v.created_ns = (__u64)w->iso_since_ns;
		v.flags |= IRC_ALLOW_ISOLATE;
		v.plen = w->iso_allow[i].plen;
		irc_cidr_format(&w->iso_allow[i], a, sizeof(a));
		json_array_append_new(allowed, json_string(a));
		if (bpf_map_update_elem(c->m->fd[key.map], &key.k, &v, BPF_ANY)) {
			err = -errno;
			irc_err("restore isolation exemption %s: %s", a, full_or(err));
		}
	}
	/* The switch even if an exemption failed: containment first. */
	lock = irc_pins_lock();
	if (irc_config_read(c->m, &cfg)) {
		err = -EIO;
	} else if (cfg.flags & IRC_CFG_ISOLATE) {
		irc_pins_unlock(lock);
		json_decref(allowed);
		c->rep->present++;
		return 0;
	} else {
		cfg.flags |= IRC_CFG_ISOLATE | w->iso_flags;
		cfg.isolate_since_ns = (__u64)w->iso_since_ns;
		if (irc_config_write(c->m, &cfg))
			err = -EIO;
	}
	irc_pins_unlock(lock);
	irc_fmt_utc((uint64_t)w->iso_since_ns, since, sizeof(since));
	if (err) {
		c->rep->failed++;
	} else {
		say(c, "restored isolation (on since %s, dns %s, dhcp %s, %zu exemption%s)", since,
		    w->iso_flags & IRC_CFG_ISO_DNS ? "allowed" : "blocked",
		    w->iso_flags & IRC_CFG_ISO_DHCP ? "allowed" : "blocked",
		    w->n_iso_allow, w->n_iso_allow == 1 ? "" : "s");
		c->rep->isolate = 1;
	}
	record(c, "isolate", NULL, w->iso_incident, "", err,
	       json_pack("{s:o,s:b,s:b,s:I,s:s}", "allow", allowed,
			 "allow_dns", !!(w->iso_flags & IRC_CFG_ISO_DNS),
			 "allow_dhcp", !!(w->iso_flags & IRC_CFG_ISO_DHCP),
			 "since_ns", (json_int_t)w->iso_since_ns,
			 "origin", w->iso_flags & IRC_CFG_ISO_FLEET ? "fleet" : "local"));
	return err;
}

int irc_restore(const struct irc_maps *m, const struct irc_restore_sink *sink,
		const struct irc_want *w, bool only_cgroups, bool quiet,
		struct irc_restore_report *rep)
{
	struct rctx c = { .m = m, .sink = sink, .rep = rep, .quiet = quiet, .only_cgroups = only_cgroups,
			  .now_real = (int64_t)irc_now_real_ns(), .now_boot = irc_now_boot_ns() };
	int err = 0, e = 0;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	/* The allowlist first: nothing restored may cut what it protects. */
	for (i = 0; i < w->n && !only_cgroups; i++)
		if (w->ent[i].live && w->ent[i].kind == IRC_WANT_ALLOW)
			e = restore_allow(&c, &w->ent[i]), err = err ?: e;
	for (i = 0; i < w->n; i++) {
		const struct irc_want_ent *we = &w->ent[i];

		if (!we->live || (only_cgroups && we->kind != IRC_WANT_CGROUP))
			continue;
		e = 0;
		if (we->kind == IRC_WANT_HOST)
			e = restore_host(&c, we);
		else if (we->kind == IRC_WANT_CGROUP && (!only_cgroups || !access(named(we->entity), F_OK)))
			e = restore_cgroup(&c, we);
		else if (we->kind == IRC_WANT_PID)
			end_pid(&c, we);
		err = err ?: e;
	}
	if (w->isolate && !only_cgroups)
		err = err ?: restore_isolation(&c, w);
	return err;
}

int irc_restore_fail_closed(const struct irc_maps *m, const char *why)
{
	struct irc_config cfg;
	int lock = irc_pins_lock(), err = 0;

	if (irc_config_read(m, &cfg)) {
		err = -EIO;
	} else {
		if (!(cfg.flags & IRC_CFG_ISOLATE))
			cfg.isolate_since_ns = irc_now_real_ns();
		cfg.flags = (cfg.flags & ~(IRC_CFG_ISO_DNS | IRC_CFG_ISO_DHCP)) | IRC_CFG_ISOLATE;
		if (irc_config_write(m, &cfg))
			err = -EIO;
	}
	irc_pins_unlock(lock);
	if (!err)
		irc_warn("load: failing closed: isolation is ON, only the allowlist passes, because %s "
			 "(repair or restore the store, then 'ircontain load' again and 'isolate off'; "
			 "'load --fail-open' prefers the open default)", why);
	return err;
}

size_t irc_want_pending_cgroups(const struct irc_want *w, const struct irc_maps *m)
{
	int64_t now = (int64_t)irc_now_real_ns();
	struct irc_pentry v;
	size_t i, n = 0;
	uint64_t id;

	for (i = 0; i < w->n; i++) {
		const struct irc_want_ent *e = &w->ent[i];

		if (!e->live || e->kind != IRC_WANT_CGROUP || (e->expires_ns && e->expires_ns <= now))
			continue;
		if (irc_cgroup_id(named(e->entity), &id) ||
		    bpf_map_lookup_elem(m->fd[IRC_M_QCGRP], &id, &v))
			n++;
	}
	return n;
}
