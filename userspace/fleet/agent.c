// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet agent.  See agent.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <bpf/bpf.h>
#include <sodium.h>

#include "agent.h"
#include "entity.h"
#include "entries.h"
#include "fleet.h"
#include "hostq.h"
#include "irc.h"
#include "isolate.h"
#include "loader.h"
#include "pins.h"
#include "protect.h"
#include "store.h"

#define NS		1000000000LL
#define MAX_ACTORS	256	/* distinct fleet:USER@HOST strings kept */
#define MAX_ETCD_ADDRS	(2 * IRC_FLEET_MAX_URLS)	/* etcd's addresses, kept through an isolation */
#define MAX_SHARES	32	/* findings waiting to be published */

/* A finding to publish (irc_agent_share). */
struct share {
	struct irc_cidr src;
	char detector[16];
	uint64_t ttl_s;
};

/* What came from etcd, for the controller's thread. */
struct msg {
	struct msg *next;
	bool full;		/* the whole prefix: a (re)synchronisation */
	int64_t rev;
	struct irc_kv *kv;
	size_t n;
};

/* One key the agent follows. */
struct fent {
	char *key;
	int64_t created_ms;	/* of the entry applied last: older ones are replays */
	int64_t refused_rev;	/* the revision last refused and reported */
	int64_t gone_rev;	/* deleted without a release: reported at */
	struct irc_cidr target;
	bool active;		/* a quarantine this agent applied and did not release */
	int64_t applied_ms;	/* a policy: the one in force here (a resync applies it once) */
	bool seen;		/* in the current full sync */
};

struct irc_agent {
	struct irc_agent_ops ops;
	const struct irc_etcd_cfg *cfg;
	struct irc_maps m;
	bool maps_open;
	char q_prefix[IRC_FLEET_PREFIX_MAX + 8];
	char beat_key[IRC_FLEET_PREFIX_MAX + 80];
	pthread_t sync_th, beat_th;
	bool sync_started, beat_started;
	/* Under mu: the queue, the shared state, the flags. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg *head, **tail;
	volatile int stop;
	volatile int kick;	/* the watch gives up and the sync starts over */
	char sync_state[16];	/* "connecting", "synced", "disconnected" */
	char last_error[256];
	int64_t seen_rev;	/* the newest revision received */
	int64_t applied_rev;	/* the newest revision applied (controller's thread) */
	uint64_t resyncs, compactions, refused, applied_n, released_n;
	int64_t connected_ns, disconnected_ns;	/* CLOCK_REALTIME */
	struct irc_agent_local local;
	const char *isolation;	/* "off", "fleet", "local": who isolated this host */
	json_t *missing;	/* what does not enforce or see: [] when loaded */
	uint64_t health_ns;	/* CLOCK_BOOTTIME of the last look */
	size_t nactive, ntrusted;
	/* etcd's addresses (the sync thread resolves them): a fleet isolation exempts them. */
	struct irc_cidr etcd_addr[MAX_ETCD_ADDRS];
	int n_etcd_addr;
	struct share shares[MAX_SHARES];	/* for the heartbeat thread */
	int nshares;
	bool share_kick;	/* one was queued since the heartbeat thread looked */
	uint64_t shared_n, share_dropped;
	/* The controller's thread only. */
	uint8_t trusted[IRC_FLEET_MAX_TRUST][32];
	struct timespec trust_mtime;
	bool trust_warned;
	struct fent *ent;	/* open addressing, power of two */
	size_t cap, n;
};

/* Interned for the life of the process: the store's writer may hold them after the agent stops. */
static const char *actors[MAX_ACTORS];
static size_t nactors;

/* ---- the entry table -------------------------------------------------- */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static struct fent *fent_find(struct irc_agent *a, const char *key, bool create)
{
	size_t i;

	if (create && (a->n + 1) * 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256, j;
		struct fent *e;

		if (a->n >= IRC_FLEET_MAX_ENTRIES || !(e = calloc(cap, sizeof(*e))))
			return NULL;
		for (j = 0; j < a->cap; j++) {
			if (!a->ent[j].key)
				continue;
			for (i = hash_str(a->ent[j].key) & (cap - 1); e[i].key; i = (i + 1) & (cap - 1))
				;
			e[i] = a->ent[j];
		}
		free(a->ent);
		a->ent = e;
		a->cap = cap;
	}
	if (!a->cap)
		return NULL;
	for (i = hash_str(key) & (a->cap - 1); a->ent[i].key; i = (i + 1) & (a->cap - 1))
		if (!strcmp(a->ent[i].key, key))
			return &a->ent[i];
	if (!create || !(a->ent[i].key = strdup(key)))
		return NULL;
	a->n++;
	return &a->ent[i];
}

/* "fleet:USER@HOST", kept for the life of the process (records are queued). */
static const char *actor_of(const char *by)
{
	char buf[160];
	size_t i;

	snprintf(buf, sizeof(buf), "fleet:%s", by);
	for (i = 0; i < nactors; i++)
		if (!strcmp(actors[i], buf))
			return actors[i];
	if (nactors == MAX_ACTORS || !(actors[nactors] = strdup(buf)))
		return "fleet";
	return actors[nactors++];
}

/* ---- the controller's thread: apply ------------------------------------ */

/* Re-reads the trust list when it changed; true when it did. */
static bool trust_reload(struct irc_agent *a)
{
	char path[4096];
	struct stat st;
	size_t n = 0;
	int err;

	snprintf(path, sizeof(path), "%s/%s", irc.state_dir, IRC_FLEET_TRUST);
	if (stat(path, &st))
		memset(&st, 0, sizeof(st));
	if (st.st_mtim.tv_sec == a->trust_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == a->trust_mtime.tv_nsec && a->trust_warned)
		return false;
	a->trust_mtime = st.st_mtim;
	err = irc_trust_load(irc.state_dir, a->trusted, &n);
	if (err) {
		/* Keep what was trusted: a damaged list never widens trust. */
		irc_warn("fleet: read the trust list %s: %s; keeping the %zu key%s trusted before",
			 path, strerror(-err), a->ntrusted, a->ntrusted == 1 ? "" : "s");
		a->trust_warned = true;
		return false;
	}
	pthread_mutex_lock(&a->mu);
	a->ntrusted = n;
	pthread_mutex_unlock(&a->mu);
	if (!n)
		irc_warn("fleet: this host trusts no key (fleet trust add): it applies nothing from the fleet");
	a->trust_warned = true;
	return true;
}

static json_t *base_body(const char *key, const struct irc_kv *kv, int64_t rev)
{
	return json_pack("{s:s,s:I,s:I}", "key", key, "revision",
			 (json_int_t)(kv->mod_rev ?: rev), "batch_revision", (json_int_t)rev);
}

/* An entry not applied: said once per revision of its key. */
static void refuse(struct irc_agent *a, struct fent *e, const struct irc_kv *kv, int64_t rev,
		   const struct irc_fentry *f, const char *why)
{
	char t[IRC_ENTITY_LEN] = "";
	json_t *b;

	if (e && e->refused_rev == (kv->mod_rev ?: rev))
		return;
	if (e)
		e->refused_rev = kv->mod_rev ?: rev;
	if (f->target.family)
		irc_entity_host(t, sizeof(t), &f->target);
	b = base_body(kv->key, kv, rev);
	json_object_set_new(b, "reason", json_string(why));
	json_object_set_new(b, "result", json_string("refused"));
	if (f->signer[0])
		json_object_set_new(b, "signer", json_string(f->signer));
	fprintf(stderr, "ircontain: fleet: refused %s (revision %" PRId64 "): %s\n", kv->key,
		kv->mod_rev ?: rev, why);
	pthread_mutex_lock(&a->mu);
	a->refused++;
	pthread_mutex_unlock(&a->mu);
	a->ops.record(a->ops.ctx, IRC_REC_EVENT, "fleet.refused", NULL, t[0] ? t : kv->key, b);
}

static void apply_quarantine(struct irc_agent *a, struct fent *e, const struct irc_kv *kv,
			     int64_t rev, const struct irc_fentry *f)
{
	char norm[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN], why[512];
	int64_t now_s = (int64_t)(irc_now_real_ns() / NS);
	struct irc_hostq q = { .target = f->target, .dir = f->dir, .origin = IRC_ORIGIN_FLEET,
			       .reason = f->reason, .protect = true,
			       .created_ns = (uint64_t)f->created_ms * 1000000ULL };
	int r, err;
	json_t *b;

	irc_cidr_format(&f->target, norm, sizeof(norm));
	irc_entity_addr(entity, sizeof(entity), norm);
	q.arg = norm;
	if (f->expires_s && f->expires_s <= now_s)
		return;		/* expired on the wall clock: nothing to enforce */
	/* The wall-clock expiry on this host's boot clock. */
	if (f->expires_s)
		q.expires_ns = irc_now_boot_ns() +
			       (uint64_t)(f->expires_s * NS - (int64_t)irc_now_real_ns());
	r = irc_hostq_apply(&a->m, &q, true, &err, why, sizeof(why));
	if (r == IRC_HQ_UNCHANGED) {
		e->active = true;
		e->target = f->target;
		return;
	}
	if (r == IRC_HQ_REFUSED) {
		refuse(a, e, kv, rev, f, why);
		return;
	}
	b = base_body(kv->key, kv, rev);
	json_object_set_new(b, "ttl", f->expires_s ? json_integer(f->expires_s - now_s) : json_null());
	json_object_set_new(b, "expires_ns", json_integer(f->expires_s * NS));
	json_object_set_new(b, "direction", json_string(irc_dir_name(f->dir)));
	json_object_set_new(b, "origin", json_string("fleet"));
	json_object_set_new(b, "group", json_string(f->group[0] ? f->group : "all"));
	json_object_set_new(b, "signer", json_string(f->signer));
	json_object_set_new(b, "reason", json_string(f->reason));
	json_object_set_new(b, "uid", json_integer(0));
	/* When it was signed and when it reached this kernel: the propagation. */
	json_object_set_new(b, "created_ms", json_integer(f->created_ms));
	/* restore (load after a reboot) keeps the entry's signing time. */
	json_object_set_new(b, "created_ns", json_integer(f->created_ms * 1000000LL));
	json_object_set_new(b, "applied_ns", json_integer((json_int_t)irc_now_real_ns()));
	json_object_set_new(b, "change", json_string(r == IRC_HQ_ADDED ? "added" :
						      r == IRC_HQ_UPDATED ? "updated" : "none"));
	json_object_set_new(b, "result", json_string(r == IRC_HQ_FAILED ? why : "ok"));
	if (r == IRC_HQ_FAILED) {
		fprintf(stderr, "ircontain: fleet: %s\n", why);
	} else {
		e->active = true;
		e->target = f->target;
		pthread_mutex_lock(&a->mu);
		a->applied_n++;
		pthread_mutex_unlock(&a->mu);
	}
	a->ops.record(a->ops.ctx, IRC_REC_ACTION, "quarantine", actor_of(f->by), entity, b);
}

static void apply_release(struct irc_agent *a, struct fent *e, const struct irc_kv *kv,
			  int64_t rev, const struct irc_fentry *f)
{
	char entity[IRC_ENTITY_LEN];
	/* The kernel's entry keeps its signing time: an older release is a replay. */
	int err = irc_hostq_release(&a->m, &f->target, IRC_ORIGIN_FLEET,
				    (uint64_t)f->created_ms * 1000000ULL);
	json_t *b;

	e->active = false;
	if (err == -ENOENT)
		return;		/* expired, or never here */
	irc_entity_host(entity, sizeof(entity), &f->target);
	if (err == -EPERM) {
		/* An operator's own quarantine of the same target is theirs to lift. */
		refuse(a, e, kv, rev, f, "the entry in force here was not made by the fleet: left as it is");
		return;
	}
	if (err == -ESTALE) {
		e->active = true;
		refuse(a, e, kv, rev, f, "older than the quarantine in force here (a replay): left as it is");
		return;
	}
	b = base_body(kv->key, kv, rev);
	json_object_set_new(b, "kind", json_string("host"));
	json_object_set_new(b, "origin", json_string("fleet"));
	json_object_set_new(b, "signer", json_string(f->signer));
	json_object_set_new(b, "reason", json_string(f->reason));
	json_object_set_new(b, "uid", json_integer(0));
	json_object_set_new(b, "result", json_string(err ? strerror(-err) : "ok"));
	if (!err) {
		pthread_mutex_lock(&a->mu);
		a->released_n++;
		pthread_mutex_unlock(&a->mu);
	}
	a->ops.record(a->ops.ctx, IRC_REC_ACTION, "release", actor_of(f->by), entity, b);
}

/* The isolation's exemptions as a record names them. */
static json_t *cidrs_json(const struct irc_cidr *c, int n)
{
	json_t *arr = json_array();
	char t[IRC_CIDR_STRLEN];
	int i;

	for (i = 0; i < n; i++) {
		irc_cidr_format(&c[i], t, sizeof(t));
		json_array_append_new(arr, json_string(t));
	}
	return arr;
}

static void record_isolate(struct irc_agent *a, const struct irc_kv *kv, int64_t rev,
			   const struct irc_fentry *f, const char *type, json_t *extra,
			   const char *result)
{
	json_t *b = base_body(kv->key, kv, rev);

	json_object_update(b, extra);
	json_decref(extra);
	json_object_set_new(b, "origin", json_string("fleet"));
	json_object_set_new(b, "group", json_string(f->group[0] ? f->group : "all"));
	json_object_set_new(b, "signer", json_string(f->signer));
	json_object_set_new(b, "reason", json_string(f->reason));
	json_object_set_new(b, "uid", json_integer(0));
	json_object_set_new(b, "result", json_string(result));
	a->ops.record(a->ops.ctx, IRC_REC_ACTION, type, actor_of(f->by), NULL, b);
}

/*
 * A group's isolation on or off.  On: etcd's addresses and the entry's
 * --allow are exempted first (the agent must hear the order that ends
 * it), then the switch, marked as the fleet's.  Off: only an isolation
 * the fleet switched on, and not by an order older than it (a replay).
 * An operator's own isolation is theirs to end.
 */
static void apply_isolate(struct irc_agent *a, struct fent *e, const struct irc_kv *kv,
			  int64_t rev, const struct irc_fentry *f)
{
	struct irc_cidr ex[IRC_FLEET_MAX_ALLOW + MAX_ETCD_ADDRS];
	uint64_t decided = (uint64_t)f->created_ms * 1000000ULL;
	const struct irc_cidr *bad;
	struct irc_config cfg;
	bool on, mine;
	int n, err;

	if (irc_config_read(&a->m, &cfg)) {
		refuse(a, e, kv, rev, f, "read the isolation switch (irc_config): failed");
		return;
	}
	on = cfg.flags & IRC_CFG_ISOLATE;
	mine = cfg.flags & IRC_CFG_ISO_FLEET;
	e->active = on && mine;
	if (on && !mine) {
		refuse(a, e, kv, rev, f, "this host was isolated by a local operator: left as it is");
		return;
	}
	if (on && decided < cfg.isolate_since_ns) {
		refuse(a, e, kv, rev, f, "older than the isolation in force here (a replay): left as it is");
		return;
	}
	if (f->op == IRC_FOP_RELEASE) {
		if (!on)
			return;		/* not isolated: nothing to end */
		err = irc_iso_off(&a->m, &cfg);
		e->active = err == -EIO;
		if (err && err != -EIO)
			irc_warn("fleet: isolation off: isolation-only exemptions not all removed: %s",
				 strerror(-err));
		if (err != -EIO) {
			pthread_mutex_lock(&a->mu);
			a->released_n++;
			pthread_mutex_unlock(&a->mu);
		}
		record_isolate(a, kv, rev, f, "isolate.off", json_pack("{s:b}", "was_on", true),
			       err == -EIO ? "switch the isolation off: failed" : "ok");
		return;
	}
	if (on && cfg.isolate_since_ns == decided &&
	    (cfg.flags & (IRC_CFG_ISO_DNS | IRC_CFG_ISO_DHCP)) == f->iso_flags)
		return;		/* this very order is in force */
	memcpy(ex, f->allow, (size_t)f->nallow * sizeof(ex[0]));
	n = f->nallow;
	pthread_mutex_lock(&a->mu);
	memcpy(ex + n, a->etcd_addr, (size_t)a->n_etcd_addr * sizeof(ex[0]));
	n += a->n_etcd_addr;
	pthread_mutex_unlock(&a->mu);
	err = irc_iso_exempt(&a->m, ex, n, &bad);
	if (err) {
		char t[IRC_CIDR_STRLEN];

		/* Containment first: the switch all the same. */
		irc_cidr_format(bad, t, sizeof(t));
		irc_warn("fleet: isolation: exempt %s: %s; isolating all the same", t, strerror(-err));
	}
	err = irc_iso_on(&a->m, IRC_CFG_ISOLATE | IRC_CFG_ISO_FLEET | f->iso_flags, decided, &cfg);
	if (!err) {
		e->active = true;
		pthread_mutex_lock(&a->mu);
		a->applied_n++;
		pthread_mutex_unlock(&a->mu);
	}
	record_isolate(a, kv, rev, f, "isolate",
		       json_pack("{s:o,s:b,s:b,s:I,s:I,s:b}", "allow", cidrs_json(ex, n),
				 "allow_dns", !!(f->iso_flags & IRC_CFG_ISO_DNS),
				 "allow_dhcp", !!(f->iso_flags & IRC_CFG_ISO_DHCP),
				 "since_ns", (json_int_t)decided, "created_ms", (json_int_t)f->created_ms,
				 "enforced", !err && !irc_require_enforced(&a->m, "fleet isolate",
									   IRC_ENF_NET)),
		       err ? "switch the isolation on: failed" : "ok");
}

/* A local quarantine (not the fleet's) that allowing @t would lift; false if none. */
static bool lifts_local(struct irc_agent *a, const struct irc_cidr *t, char *which, size_t len)
{
	struct irc_qrec *recs;
	size_t n, i;
	bool hit = false;

	if (irc_qrecs_collect(&a->m, &recs, &n))
		return false;
	for (i = 0; i < n && !hit; i++)
		if (recs[i].val.origin != IRC_ORIGIN_FLEET && irc_cidr_overlap(&recs[i].target, t)) {
			hit = true;
			irc_cidr_format(&recs[i].target, which, len);
		}
	free(recs);
	return hit;
}

/*
 * An allowlist entry added or removed.  Added: never over a quarantine
 * made here (the fleet does not undo a local containment), marked as the
 * fleet's.  Removed: only the fleet's, and not by an order older than it.
 */
static void apply_allow(struct irc_agent *a, struct fent *e, const struct irc_kv *kv,
			int64_t rev, const struct irc_fentry *f)
{
	uint64_t decided = (uint64_t)f->created_ms * 1000000ULL;
	char t[IRC_CIDR_STRLEN], entity[IRC_ENTITY_LEN], which[IRC_CIDR_STRLEN], why[160];
	struct irc_allow val = {};
	struct irc_key key;
	bool had;
	json_t *b;
	int err = 0;

	irc_cidr_format(&f->target, t, sizeof(t));
	irc_entity_addr(entity, sizeof(entity), t);
	irc_akey(&f->target, &key);
	had = !bpf_map_lookup_elem(a->m.fd[key.map], &key.k, &val) && (val.flags & IRC_ALLOW_ALWAYS);
	e->active = had && (val.flags & IRC_ALLOW_FLEET);
	if (f->op == IRC_FOP_QUARANTINE) {
		if (had)
			return;		/* allowed already (by the fleet, or here) */
		if (lifts_local(a, &f->target, which, sizeof(which))) {
			snprintf(why, sizeof(why), "it would lift the quarantine of %s made here: "
				 "left as it is", which);
			refuse(a, e, kv, rev, f, why);
			return;
		}
		if (!val.created_ns)
			val.created_ns = decided;
		val.flags |= IRC_ALLOW_ALWAYS | IRC_ALLOW_FLEET;
		val.plen = f->target.plen;
		if (bpf_map_update_elem(a->m.fd[key.map], &key.k, &val, BPF_ANY))
			err = -errno;
	} else {
		if (!had)
			return;		/* not allowed here: nothing to remove */
		if (!(val.flags & IRC_ALLOW_FLEET)) {
			refuse(a, e, kv, rev, f, "allowed here by a local operator: left as it is");
			return;
		}
		if (val.created_ns > decided) {
			refuse(a, e, kv, rev, f, "older than the allowlist entry here (a replay): left as it is");
			return;
		}
		val.flags &= ~(IRC_ALLOW_ALWAYS | IRC_ALLOW_FLEET);
		if (val.flags ? bpf_map_update_elem(a->m.fd[key.map], &key.k, &val, BPF_EXIST) :
				bpf_map_delete_elem(a->m.fd[key.map], &key.k))
			err = -errno;
	}
	if (!err)
		e->active = f->op == IRC_FOP_QUARANTINE;
	b = base_body(kv->key, kv, rev);
	json_object_set_new(b, "origin", json_string("fleet"));
	json_object_set_new(b, "group", json_string(f->group[0] ? f->group : "all"));
	json_object_set_new(b, "signer", json_string(f->signer));
	json_object_set_new(b, "reason", json_string(f->reason));
	json_object_set_new(b, "created_ns", json_integer((json_int_t)decided));
	json_object_set_new(b, "uid", json_integer(0));
	json_object_set_new(b, "change", json_string(err ? "none" : f->op == IRC_FOP_QUARANTINE ?
						      "added" : "removed"));
	json_object_set_new(b, "result", json_string(err ? strerror(-err) : "ok"));
	a->ops.record(a->ops.ctx, IRC_REC_ACTION, f->op == IRC_FOP_QUARANTINE ? "allow.add" : "allow.del",
		      actor_of(f->by), entity, b);
}

/*
 * A group's policy: checked whole (an invalid one is refused and the one
 * in force stays), then put in force by the controller as `run --policy`
 * would, once per signed version.
 */
static void apply_policy(struct irc_agent *a, struct fent *e, const struct irc_kv *kv,
			 int64_t rev, const struct irc_fentry *f)
{
	struct irc_policy_errors errs;
	struct irc_policy p;
	char why[256];
	json_t *b;
	int err;

	if (e->applied_ms == f->created_ms)
		return;
	err = irc_policy_parse(f->policy, strlen(f->policy), &p, &errs);
	if (err) {
		snprintf(why, sizeof(why), "invalid policy (refused whole; the one in force stays): %s%s",
			 errs.n ? errs.msg[0] : strerror(-err), errs.n > 1 ? ", ..." : "");
		refuse(a, e, kv, rev, f, why);
		return;
	}
	err = a->ops.policy ? a->ops.policy(a->ops.ctx, &p) : -EOPNOTSUPP;
	if (!err) {
		e->applied_ms = f->created_ms;
		e->active = true;
	}
	b = base_body(kv->key, kv, rev);
	json_object_set_new(b, "origin", json_string("fleet"));
	json_object_set_new(b, "group", json_string(f->group[0] ? f->group : "all"));
	json_object_set_new(b, "signer", json_string(f->signer));
	json_object_set_new(b, "reason", json_string(f->reason));
	json_object_set_new(b, "mode", json_string(p.det.enforce ? "enforce" : "monitor"));
	json_object_set_new(b, "allowlist", json_integer(p.nallow));
	json_object_set_new(b, "share_findings", json_integer((json_int_t)p.fleet_share_ttl_s));
	json_object_set_new(b, "result", json_string(err ? strerror(-err) : "ok"));
	a->ops.record(a->ops.ctx, IRC_REC_ACTION, "policy.apply", actor_of(f->by), NULL, b);
}

/* One key's new value. */
static void apply_put(struct irc_agent *a, const struct irc_kv *kv, int64_t rev)
{
	struct fent *e = fent_find(a, kv->key, true);
	struct irc_fentry f;
	const char *why;
	int err;

	if (!e) {
		static const struct irc_fentry none;

		refuse(a, NULL, kv, rev, &none, "more fleet entries than this agent follows (65536)");
		return;
	}
	e->seen = true;
	if (!a->ntrusted)
		return;		/* said once, in trust_reload() and the heartbeat */
	err = irc_fentry_verify(irc_fleet.prefix, kv->key, kv->val, kv->len,
				(const uint8_t (*)[32])a->trusted, a->ntrusted, &f, &why);
	if (err) {
		refuse(a, e, kv, rev, &f, why);
		return;
	}
	if (!irc_fentry_for_me(&f, irc_fleet.groups, irc_fleet.ngroups))
		goto out;
	if (f.created_ms < e->created_ms) {
		refuse(a, e, kv, rev, &f, "older than the entry already applied for this key (a replay)");
		goto out;
	}
	e->created_ms = f.created_ms;
	if (f.kind == IRC_FK_ISOLATE)
		apply_isolate(a, e, kv, rev, &f);
	else if (f.kind == IRC_FK_ALLOW)
		apply_allow(a, e, kv, rev, &f);
	else if (f.kind == IRC_FK_POLICY)
		apply_policy(a, e, kv, rev, &f);
	else if (f.op == IRC_FOP_RELEASE)
		apply_release(a, e, kv, rev, &f);
	else
		apply_quarantine(a, e, kv, rev, &f);
out:
	irc_fentry_clear(&f);
}

/* A key gone without a signed release: nothing is lifted, and it is said. */
static void key_gone(struct irc_agent *a, struct fent *e, int64_t rev)
{
	struct irc_kv kv = { .key = e->key, .mod_rev = rev };
	struct irc_fentry f = { .target = e->target };

	if (!e->active || e->gone_rev)
		return;
	e->gone_rev = rev;
	refuse(a, e, &kv, rev, &f, "deleted from etcd without a signed release: still enforced "
	       "until its expiry or a signed release");
}

static void apply_msg(struct irc_agent *a, struct msg *m)
{
	size_t i;

	if (m->full) {
		/* The anti-lockout rules know this host's addresses as they are now. */
		irc_protect_refresh(&a->m);
		for (i = 0; i < a->cap; i++)
			a->ent[i].seen = false;
	}
	for (i = 0; i < m->n; i++) {
		if (m->kv[i].deleted) {
			struct fent *e = fent_find(a, m->kv[i].key, false);

			if (e)
				key_gone(a, e, m->rev);
			continue;
		}
		apply_put(a, &m->kv[i], m->rev);
	}
	if (m->full)
		for (i = 0; i < a->cap; i++)
			if (a->ent[i].key && !a->ent[i].seen)
				key_gone(a, &a->ent[i], m->rev);
	a->applied_rev = m->rev;
}

/*
 * What should enforce or see and does not, as `status` says it: an
 * interface gone or detached (none at all: no host rule is enforced),
 * the process hooks, an optional part this kernel refused.  Empty: the
 * agent is "loaded", else "degraded".
 */
static json_t *health(struct irc_agent *a, const struct irc_config *cfg)
{
	const struct irc_part *parts[32];
	json_t *miss = json_array();
	__u32 *prev = NULL, key;
	char procs[256] = "";
	int nifs = 0, i, n;

	while (bpf_map_get_next_key(a->m.fd[IRC_M_IFACES], prev, &key) == 0) {
		struct irc_attach_state st;
		struct irc_iface r;
		char cap[IRC_IFNAME_LEN + 16];

		prev = &key;
		if (bpf_map_lookup_elem(a->m.fd[IRC_M_IFACES], &key, &r))
			continue;
		nifs++;
		irc_attach_check((int)r.ifindex, r.xdp_prog_id, &st);
		if (st.present && st.xdp_attached && st.tc_attached)
			continue;
		snprintf(cap, sizeof(cap), "interface:%.*s", IRC_IFNAME_LEN - 1, r.name);
		json_array_append_new(miss, json_pack("{s:s,s:s}", "capability", cap, "reason",
			!st.present ? "interface gone" : !st.xdp_attached ? "XDP program detached" :
			"tc program detached"));
	}
	if (!nifs)
		json_array_append_new(miss, json_pack("{s:s,s:s}", "capability", "interfaces",
			"reason", "no interface attached: host, prefix and isolation rules are not enforced"));
	if (!cfg->cgroup_root[0])
		json_array_append_new(miss, json_pack("{s:s,s:s}", "capability", "process_quarantine",
			"reason", "no cgroup v2 when ircontain was loaded"));
	else if (irc_proc_core_missing(cfg->cgroup_root_id, procs, sizeof(procs)) && procs[0])
		json_array_append_new(miss, json_pack("{s:s,s:s}", "capability", "process_quarantine",
			"reason", procs));
	n = cfg->cgroup_root[0] ? irc_parts_missing(parts, 32) : 0;
	for (i = 0; i < n; i++)
		json_array_append_new(miss, json_pack("{s:s,s:s}", "capability", parts[i]->capability,
			"reason", "not attached (refused by this kernel, or its hook is missing)"));
	return miss;
}

void irc_agent_tick(struct irc_agent *a, const struct irc_agent_local *l)
{
	struct msg *m, *next;
	size_t i, nactive = 0;
	const char *isolation;
	json_t *missing = NULL;
	struct irc_config cfg;

	if (trust_reload(a)) {
		/* Entries refused for want of trust may be good now: read them all again. */
		for (i = 0; i < a->cap; i++)
			a->ent[i].refused_rev = 0;
		pthread_mutex_lock(&a->mu);
		a->kick = 1;
		pthread_mutex_unlock(&a->mu);
	}
	pthread_mutex_lock(&a->mu);
	m = a->head;
	a->head = NULL;
	a->tail = &a->head;
	a->local = *l;
	pthread_mutex_unlock(&a->mu);
	for (; m; m = next) {
		next = m->next;
		apply_msg(a, m);
		irc_kv_free(m->kv, m->n);
		free(m);
	}
	for (i = 0; i < a->cap; i++)
		nactive += a->ent[i].key && a->ent[i].active;
	if (irc_config_read(&a->m, &cfg))
		isolation = "unknown";
	else if (!(cfg.flags & IRC_CFG_ISOLATE))
		isolation = "off";
	else
		isolation = cfg.flags & IRC_CFG_ISO_FLEET ? "fleet" : "local";
	/* The netlink and link queries once a heartbeat, not once a poll. */
	if (strcmp(isolation, "unknown") &&
	    irc_now_boot_ns() - a->health_ns >= IRC_FLEET_BEAT_MS * 1000000ULL) {
		missing = health(a, &cfg);
		a->health_ns = irc_now_boot_ns();
	}
	pthread_mutex_lock(&a->mu);
	a->nactive = nactive;
	a->isolation = isolation;
	if (missing) {
		json_decref(a->missing);
		a->missing = missing;
	}
	pthread_mutex_unlock(&a->mu);
}

/* ---- the sync thread ------------------------------------------------------ */

static void push(struct irc_agent *a, bool full, int64_t rev, struct irc_kv *kv, size_t n)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m) {
		/* Lost: the next full sync brings it back. */
		irc_kv_free(kv, n);
		a->kick = 1;
		return;
	}
	*m = (struct msg){ .full = full, .rev = rev, .kv = kv, .n = n };
	pthread_mutex_lock(&a->mu);
	*a->tail = m;
	a->tail = &m->next;
	if (rev > a->seen_rev)
		a->seen_rev = rev;
	pthread_mutex_unlock(&a->mu);
}

static void set_state(struct irc_agent *a, const char *state, const char *err)
{
	pthread_mutex_lock(&a->mu);
	if (strcmp(a->sync_state, state)) {
		if (!strcmp(state, "synced"))
			a->connected_ns = (int64_t)irc_now_real_ns();
		else if (!strcmp(a->sync_state, "synced"))
			a->disconnected_ns = (int64_t)irc_now_real_ns();
	}
	snprintf(a->sync_state, sizeof(a->sync_state), "%s", state);
	if (err)
		snprintf(a->last_error, sizeof(a->last_error), "%s", err);
	pthread_mutex_unlock(&a->mu);
}

static int on_events(void *ctx, struct irc_kv *kv, size_t n, int64_t rev)
{
	struct irc_agent *a = ctx;
	struct irc_kv *copy = malloc(n * sizeof(*kv));

	/* The watch frees its batch: the queue takes the strings over. */
	if (!copy)
		return -ENOMEM;
	memcpy(copy, kv, n * sizeof(*kv));
	memset(kv, 0, n * sizeof(*kv));
	push(a, false, rev, copy, n);
	return 0;
}

/* Sleeps @ms unless stopped (or, with @shares, a finding is queued to share); true if stopped. */
static bool nap(struct irc_agent *a, int ms, bool shares)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->mu);
	while (!a->stop && !(shares && a->share_kick) &&
	       pthread_cond_timedwait(&a->cv, &a->mu, &ts) == 0)
		;
	if (shares)
		a->share_kick = 0;
	pthread_mutex_unlock(&a->mu);
	return a->stop;
}

/*
 * etcd's addresses, for the isolation's exemptions: resolved before each
 * full read (a name resolved by DNS may move).  What does not resolve
 * (DNS cut by the isolation itself) keeps the addresses known before.
 */
static void resolve_etcd(struct irc_agent *a)
{
	struct irc_cidr got[MAX_ETCD_ADDRS];
	int i, n = 0;

	for (i = 0; i < a->cfg->nurls; i++) {
		const char *u = strstr(a->cfg->urls[i], "://") + 3;
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *r;
		char host[256], num[64];
		const char *why;
		size_t len;

		if (*u == '[') {
			u++;
			len = strcspn(u, "]");
		} else {
			len = strcspn(u, ":/");
		}
		snprintf(host, sizeof(host), "%.*s", (int)len, u);
		if (getaddrinfo(host, NULL, &hints, &res))
			continue;
		for (r = res; r && n < MAX_ETCD_ADDRS; r = r->ai_next)
			if (!getnameinfo(r->ai_addr, r->ai_addrlen, num, sizeof(num), NULL, 0,
					 NI_NUMERICHOST) &&
			    !irc_parse_target(num, false, &got[n], &why))
				n++;
		freeaddrinfo(res);
	}
	if (!n)
		return;
	pthread_mutex_lock(&a->mu);
	memcpy(a->etcd_addr, got, (size_t)n * sizeof(got[0]));
	a->n_etcd_addr = n;
	pthread_mutex_unlock(&a->mu);
}

static void *sync_main(void *arg)
{
	struct irc_agent *a = arg;
	struct irc_etcd e;
	int backoff = IRC_FLEET_BACKOFF_MS;

	if (irc_etcd_open(&e, a->cfg)) {
		set_state(a, "disconnected", e.err);
		return NULL;
	}
	e.abort = &a->kick;
	while (!a->stop) {
		struct irc_kv *kv;
		int64_t rev, compact = 0;
		size_t n;
		int err;

		a->kick = 0;
		resolve_etcd(a);
		/* Every (re)connection starts from the whole state at the current revision. */
		err = irc_etcd_range(&e, a->q_prefix, true, &kv, &n, &rev);
		if (!err) {
			push(a, true, rev, kv, n);
			pthread_mutex_lock(&a->mu);
			a->resyncs++;
			pthread_mutex_unlock(&a->mu);
			set_state(a, "synced", NULL);
			backoff = IRC_FLEET_BACKOFF_MS;
			err = irc_etcd_watch(&e, a->q_prefix, rev + 1, on_events, a, &compact);
		}
		if (a->stop)
			break;
		if (err == -ESTALE) {
			pthread_mutex_lock(&a->mu);
			a->compactions++;
			pthread_mutex_unlock(&a->mu);
			fprintf(stderr, "ircontain: fleet: %s: reading everything again\n", e.err);
			continue;
		}
		if (err == -ECANCELED)
			continue;	/* kicked: the trust list changed, or the heartbeat lost etcd */
		/* Enforcement stays as it is; etcd is asked again, less and less often. */
		if (strcmp(a->sync_state, "disconnected"))
			fprintf(stderr, "ircontain: fleet: etcd: %s; enforcing what is in force, "
				"retrying\n", e.err);
		set_state(a, "disconnected", e.err);
		if (nap(a, backoff, false))
			break;
		backoff = backoff * 2 > IRC_FLEET_BACKOFF_MAX_MS ? IRC_FLEET_BACKOFF_MAX_MS : backoff * 2;
	}
	irc_etcd_close(&e);
	return NULL;
}

/* ---- the heartbeat thread -------------------------------------------------- */

json_t *irc_agent_json(struct irc_agent *a)
{
	char hb[40], since[40] = "";
	json_t *o, *groups = json_array();
	int i;

	for (i = 0; i < irc_fleet.ngroups; i++)
		json_array_append_new(groups, json_string(irc_fleet.groups[i]));
	irc_fmt_utc(irc_now_real_ns(), hb, sizeof(hb));
	pthread_mutex_lock(&a->mu);
	if (a->connected_ns)
		irc_fmt_utc((uint64_t)a->connected_ns, since, sizeof(since));
	o = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:s}",
		"name", irc_fleet.name, "version", IRC_VERSION, "groups", groups,
		"state", json_array_size(a->missing) ? "degraded" : "loaded",
		"sync", a->sync_state, "isolation", a->isolation ?: "unknown",
		"revision", (json_int_t)a->applied_rev, "seen_revision", (json_int_t)a->seen_rev,
		"entries", (json_int_t)a->nactive, "refused", (json_int_t)a->refused,
		"applied", (json_int_t)a->applied_n, "released", (json_int_t)a->released_n,
		"resyncs", (json_int_t)a->resyncs, "compactions", (json_int_t)a->compactions,
		"trusted_keys", (json_int_t)a->ntrusted,
		"events_lost", (json_int_t)a->local.events_lost, "shared", (json_int_t)a->shared_n,
		"store_errors", (json_int_t)a->local.store_errors,
		"heartbeat", hb, "synced_since", since, "last_error", a->last_error);
	json_object_set_new(o, "missing", a->missing ? json_deep_copy(a->missing) : json_array());
	pthread_mutex_unlock(&a->mu);
	return o;
}

void irc_agent_share(struct irc_agent *a, const struct irc_cidr *src, const char *detector,
		     uint64_t ttl_s)
{
	pthread_mutex_lock(&a->mu);
	if (a->nshares == MAX_SHARES) {
		a->share_dropped++;
	} else {
		struct share *sh = &a->shares[a->nshares++];

		sh->src = *src;
		snprintf(sh->detector, sizeof(sh->detector), "%s", detector);
		sh->ttl_s = ttl_s;
		a->share_kick = true;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

/*
 * One finding published: a signed fleet quarantine of its source for
 * its TTL, by DETECTOR@AGENT.  An entry in force at that key that lasts
 * at least as long (an operator's, another agent's) is not cut short.
 */
static int share_one(struct irc_agent *a, struct irc_etcd *e, const struct share *sh)
{
	int64_t now_ms = (int64_t)(irc_now_real_ns() / 1000000ULL);
	struct irc_fentry f = { .op = IRC_FOP_QUARANTINE, .kind = IRC_FK_HOST, .target = sh->src,
				.dir = IRC_DIR_BOTH, .created_ms = now_ms,
				.expires_s = now_ms / 1000 + (int64_t)sh->ttl_s };
	char key[512], t[IRC_CIDR_STRLEN], *val = NULL;
	uint8_t pk[32], sk[64];
	struct irc_kv *kv = NULL;
	struct irc_fentry cur;
	const char *why;
	size_t n = 0;
	int64_t rev;
	int err;

	irc_cidr_format(&sh->src, t, sizeof(t));
	snprintf(f.reason, sizeof(f.reason), "%s at %s (shared finding)", sh->detector, irc_fleet.name);
	snprintf(f.by, sizeof(f.by), "%s@%s", sh->detector, irc_fleet.name);
	err = irc_fentry_key(irc_fleet.prefix, &f, key, sizeof(key));
	if (!err && !(err = irc_etcd_range(e, key, false, &kv, &n, &rev)) && n &&
	    !irc_fentry_verify(irc_fleet.prefix, key, kv[0].val, kv[0].len, NULL, 0, &cur, &why) &&
	    (irc_fentry_clear(&cur), cur.op == IRC_FOP_QUARANTINE) && (!cur.expires_s || cur.expires_s >= f.expires_s)) {
		irc_kv_free(kv, n);
		return 0;
	}
	irc_kv_free(kv, n);
	if (!err && (err = irc_store_sign_keys(irc.state_dir, true, pk, sk)) == 0) {
		val = irc_fentry_sign(&f, key, sk);
		sodium_memzero(sk, sizeof(sk));
		err = val ? irc_etcd_put(e, key, val, strlen(val), 0, &rev) : -ENOMEM;
		free(val);
	}
	if (err) {
		fprintf(stderr, "ircontain: fleet: share the %s finding from %s: %s\n", sh->detector, t,
			err == -ENOMEM ? strerror(ENOMEM) : e->err[0] ? e->err : strerror(-err));
		return err;
	}
	fprintf(stderr, "ircontain: fleet: shared the %s finding: %s quarantined fleet-wide for %" PRIu64
		" s (etcd revision %" PRId64 ")\n", sh->detector, t, sh->ttl_s, rev);
	pthread_mutex_lock(&a->mu);
	a->shared_n++;
	pthread_mutex_unlock(&a->mu);
	return 0;
}

/* The findings queued to publish; one that failed waits for the next heartbeat. */
static void share_all(struct irc_agent *a, struct irc_etcd *e)
{
	struct share sh;

	for (;;) {
		pthread_mutex_lock(&a->mu);
		if (!a->nshares) {
			pthread_mutex_unlock(&a->mu);
			return;
		}
		sh = a->shares[0];
		pthread_mutex_unlock(&a->mu);
		e->err[0] = '\0';
		if (share_one(a, e, &sh))
			return;
		pthread_mutex_lock(&a->mu);
		memmove(a->shares, a->shares + 1, (size_t)--a->nshares * sizeof(sh));
		pthread_mutex_unlock(&a->mu);
	}
}

static void *beat_main(void *arg)
{
	struct irc_agent *a = arg;
	struct irc_etcd e;
	int64_t lease = 0;
	bool failing = false;

	if (irc_etcd_open(&e, a->cfg))
		return NULL;
	while (!a->stop) {
		json_t *o = irc_agent_json(a);
		char *s = json_dumps(o, JSON_COMPACT);
		int err = 0;

		json_decref(o);
		if (!s)
			err = -ENOMEM;
		/* A lease that expired (etcd was away longer than its TTL) is granted anew. */
		if (!err && lease && (err = irc_etcd_lease_keepalive(&e, lease)) == -ENOENT)
			lease = err = 0;
		if (!err && !lease)
			err = irc_etcd_lease_grant(&e, IRC_FLEET_LEASE_S, &lease);
		if (!err && (err = irc_etcd_put(&e, a->beat_key, s, strlen(s), lease, NULL)) == -ENOENT)
			lease = 0;
		free(s);
		if (err && !failing)
			fprintf(stderr, "ircontain: fleet: heartbeat %s: %s\n", a->beat_key, e.err);
		failing = err != 0;
		/* The watch may sit on a dead connection: have it start over. */
		if (err && !strcmp(a->sync_state, "synced")) {
			set_state(a, "disconnected", e.err);
			a->kick = 1;
		}
		if (!err)
			share_all(a, &e);
		if (nap(a, IRC_FLEET_BEAT_MS, true))
			break;
	}
	irc_etcd_close(&e);
	return NULL;
}

/* ---- start, stop ------------------------------------------------------ */

int irc_agent_start(struct irc_agent **ap, const struct irc_etcd_cfg *cfg,
		    const struct irc_agent_ops *ops)
{
	struct irc_agent *a = calloc(1, sizeof(*a));
	struct irc_etcd probe;
	int err;

	*ap = NULL;
	if (!a) {
		irc_err("run: fleet agent: out of memory");
		return -ENOMEM;
	}
	a->ops = *ops;
	a->cfg = cfg;
	a->tail = &a->head;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	snprintf(a->sync_state, sizeof(a->sync_state), "connecting");
	snprintf(a->q_prefix, sizeof(a->q_prefix), "%s" IRC_FLEET_Q, irc_fleet.prefix);
	snprintf(a->beat_key, sizeof(a->beat_key), "%s" IRC_FLEET_AGENTS "%s", irc_fleet.prefix,
		 irc_fleet.name);
	/* libcurl present (not etcd reachable: that is the threads' to find). */
	err = irc_etcd_open(&probe, cfg);
	irc_etcd_close(&probe);
	if (err) {
		irc_err("run: fleet agent: %s", probe.err);
		free(a);
		return err;
	}
	err = irc_maps_open("run: fleet agent", &a->m);
	if (err) {
		free(a);
		return err;
	}
	a->maps_open = true;
	trust_reload(a);
	/* The first heartbeat says loaded or degraded already. */
	irc_agent_tick(a, &(struct irc_agent_local){ 0 });
	err = -pthread_create(&a->sync_th, NULL, sync_main, a);
	a->sync_started = !err;
	if (!err) {
		err = -pthread_create(&a->beat_th, NULL, beat_main, a);
		a->beat_started = !err;
	}
	if (err) {
		irc_err("run: fleet agent: start a thread: %s", strerror(-err));
		irc_agent_stop(a);
		return err;
	}
	fprintf(stderr, "ircontain: run: fleet agent %s on %s (prefix %s, %d group%s, %zu trusted key%s)\n",
		irc_fleet.name, cfg->urls[0], irc_fleet.prefix, irc_fleet.ngroups,
		irc_fleet.ngroups == 1 ? "" : "s", a->ntrusted, a->ntrusted == 1 ? "" : "s");
	*ap = a;
	return 0;
}

void irc_agent_stop(struct irc_agent *a)
{
	struct msg *m, *next;
	size_t i;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	a->kick = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->sync_started)
		pthread_join(a->sync_th, NULL);
	if (a->beat_started)
		pthread_join(a->beat_th, NULL);
	for (m = a->head; m; m = next) {
		next = m->next;
		irc_kv_free(m->kv, m->n);
		free(m);
	}
	for (i = 0; i < a->cap; i++)
		free(a->ent[i].key);
	free(a->ent);
	json_decref(a->missing);
	if (a->maps_open)
		irc_maps_close(&a->m);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}
