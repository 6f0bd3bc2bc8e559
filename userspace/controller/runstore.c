// SPDX-License-Identifier: GPL-2.0-only
/*
 * The controller's writes to the evidence store (see runstore.h).
 *
 * Records wait in memory and are written in one transaction per batch, so
 * the store's write lock is held only while a batch is written, never
 * while the daemon waits on the ring: the CLI recording its own actions
 * gets in between batches.  A batch is written when IRC_STORE_BATCH
 * records wait or the oldest has waited IRC_STORE_BATCH_MS.
 *
 * Which incident a record belongs to is decided when it is written, from
 * a cache of the attackers of the open incidents (refreshed from the store
 * at most once a second), so a finding earlier in the same batch already
 * counts for the records after it.  A refresh reads only the rows added
 * since the last one (by sequence number), on a read-only connection of
 * its own; the cache is rebuilt from the incidents' rows only when the
 * set of open incidents shrank (one was closed) or a batch failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include <sodium.h>
#include <sqlite3.h>

#include "ircontain/abi.h"
#include "entity.h"
#include "store_defs.h"
#include "irc.h"
#include "parse.h"
#include "policy.h"
#include "proc.h"
#include "runstore.h"
#include "snapshot.h"
#include "store.h"

/*
 * The entities the daemon's records and its incident cache hold: "host:"
 * and an address or prefix, or "pid:N".  Not entity.h's IRC_ENTITY_LEN,
 * which holds a cgroup path: the cache of MAX_CACHED would grow 64 times.
 */
#define ENT_LEN		64
_Static_assert(ENT_LEN >= sizeof("host:") + IRC_CIDR_STRLEN, "ENT_LEN holds any host: entity");
#define SNAP_PER_S	10	/* process snapshots a second, at most */
#define CTK_STOP_WAIT_MS 100	/* a contain-then-kill process awaited, stopped */
#define CACHE_MIN_NS	1000000000ULL	/* cache refreshed at most once a second, */
#define CACHE_DUTY	100		/* and for at most 1/100 of the time */
#define MAX_OPEN	256	/* open incidents whose entities are cached */
#define MAX_CACHED	65536	/* entities cached, at most */
#define ENTS_PER_INC	500	/* entities of one incident read on a rebuild */
#define WARN_EVERY_NS	(10 * 1000000000ULL)
#define ACTOR		"ircontain run"

struct pend {
	enum irc_rec_kind kind;
	int64_t ts_ns;			/* CLOCK_REALTIME */
	const char *type, *actor;	/* static strings */
	char target[ENT_LEN], peer[ENT_LEN];
	json_t *body;			/* owned */
	/*
	 * Or the body as the events file's line, parsed only when the record
	 * is stored: most ordinary events never are.  Malloc'd without a
	 * writer thread; with one, the caller's until push() copies it into
	 * the text ring, which it then occupies up to @a_end.
	 */
	char *text;
	size_t text_len;
	uint64_t a_end;
	bool finding, snapshot, missed;
	uint32_t anc[4];		/* a process finding: its ancestors, nearest first */
	size_t data_len;
	union {
		uint8_t data[IRC_SAMPLE_LEN];	/* a packet sample */
		struct irc_ev_finding f;	/* a finding */
	};
};

/*
 * attacker -> incident, open addressing, at most half full.  An attacker
 * is what a finding names (a source address, a process), a relay, an
 * action's target, and a process an attacker's process forked; not the
 * server that accepted its connections, nor the host it attacked.
 */
struct cent {
	char e[ENT_LEN];
	int64_t id;
	int64_t ts_ns;		/* its newest record */
};

struct irc_runstore {
	struct irc_store *s;
	const struct irc_evctx *ev;
	struct irc_run_stats *st;	/* the daemon's: the reader's thread only */
	struct irc_run_stats *ws;	/* the store's counters: st, or wst with a writer */
	char boot_id[64];
	enum irc_rs_events events;
	int qpid_fd;			/* the kernel's quarantined processes, or -1 */
	/* The batch being written (the writer's, with a writer thread). */
	struct pend pend[IRC_STORE_BATCH];
	size_t npend;
	uint64_t oldest_ns;		/* CLOCK_BOOTTIME of pend[0] */
	uint64_t unstored;		/* lost to store errors, not yet on record */
	uint64_t unqueued;		/* lost to a full queue, not yet on record */
	/*
	 * With a writer thread (irc_rs_async): the reader stages a record,
	 * then pushes it into the queue, or counts it lost if the queue is
	 * full; it never waits on the store.  Under @mu: the queue, @stop,
	 * @lost_new, @pub.
	 */
	bool async;
	struct pend stage[2];		/* a finding and its snapshot */
	size_t nstage;
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pend *q;			/* ring of IRC_STORE_QUEUE */
	size_t qhead, qn;
	char *arena;			/* ring of IRC_STORE_TEXT_BYTES: the queued lines */
	uint64_t a_head, a_tail;	/* bytes ever put in it, ever freed */
	uint64_t a_taken;		/* the writer's: the end of its batch's lines */
	uint64_t q_first_ns;		/* CLOCK_BOOTTIME the oldest queued record came */
	uint64_t lost_new;		/* lost to a full queue, not yet taken by the writer */
	bool stop;
	struct irc_run_stats wst, pub;
	int sync_fd;			/* fdatasync'd once a second by the syncer, or -1 */
	pthread_t syncer;		/* exists while sync_fd >= 0 */
	pthread_cond_t scv;		/* wakes the syncer to stop */
	struct irc_prune_limits prune;	/* under mu */
	uint64_t pruned_ns;		/* CLOCK_BOOTTIME of the last check */
	struct cent *cache;
	size_t cache_cap, cache_n;
	uint64_t cache_next_ns;
	bool cache_stale;		/* rebuild from scratch at the next refresh */
	int64_t cache_seq;		/* rows up to this one are in the cache */
	int64_t open_id[MAX_OPEN];	/* the open incidents, newest first */
	size_t nopen;
	int64_t max_id;			/* the newest incident, open or not */
	uint64_t snap_sec;
	unsigned int snap_n;
	uint64_t warned_ns;
};

/* --- entities -------------------------------------------------------- */

static void ent_pid(char *b, unsigned int pid)
{
	irc_entity_pid(b, ENT_LEN, pid);
}

/* "host:ADDR" of a record's address: IPv4 in the first 4 bytes or v4-mapped. */
static void ent_addr(char *b, int family, const uint8_t *a)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char ip[INET6_ADDRSTRLEN];

	if (family == 6 && !memcmp(a, v4mapped, 12)) {
		family = 4;
		a += 12;
	}
	if (family != 4 && family != 6) {
		b[0] = '\0';
		return;
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip)))
		b[0] = '\0';
	else
		irc_entity_addr(b, ENT_LEN, ip);
}

static const char *json_ip(json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(o, key), "ip"));
}

/*
 * The quarantine entry that matched, as `quarantine host` names it: the
 * address only for a host entry, else the prefix.  The kernel gives the
 * packet's address and the entry's prefix length; the entry is that
 * address with the host bits cleared.  @remote is the packet's peer as
 * evjson parsed it (NULL if it could not), which tells the family.
 */
static void ent_rule(char *b, const struct irc_ev_drop *ev, const char *remote)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct irc_cidr c = { .plen = ev->rule_plen };
	char txt[IRC_CIDR_STRLEN];
	unsigned int bits, i;

	if (!memcmp(ev->rule_addr, v4mapped, 12)) {
		c.family = AF_INET;
		memcpy(c.addr, ev->rule_addr + 12, 4);
	} else {
		if (remote)
			c.family = strchr(remote, ':') ? AF_INET6 : AF_INET;
		else	/* as evjson guesses: an IPv6 /32 can end in zeros */
			c.family = ev->rule_plen <= 32 &&
				   !memcmp(ev->rule_addr + 4, (uint8_t[12]){ 0 }, 12) ?
				   AF_INET : AF_INET6;
		memcpy(c.addr, ev->rule_addr, c.family == AF_INET ? 4 : 16);
	}
	bits = c.family == AF_INET ? 32 : 128;
	if (!c.plen || c.plen > bits)
		c.plen = bits;
	for (i = c.plen; i < bits; i++)
		c.addr[i / 8] &= ~(0x80 >> (i % 8));
	if (irc_cidr_format(&c, txt, sizeof(txt)))
		b[0] = '\0';
	else
		irc_entity_addr(b, ENT_LEN, txt);
}

/*
 * A drop: the rule's entity, and the other end of the packet (source
 * inbound, destination outbound) from the addresses evjson parsed.
 */
static void drop_entities(const struct irc_ev_drop *ev, json_t *o, char *target, char *peer)
{
	bool in = ev->dir == IRC_DIR_IN;
	const char *remote = json_ip(o, in ? "source" : "destination");
	const char *local = json_ip(o, in ? "destination" : "source");

	if (remote)
		irc_entity_addr(peer, ENT_LEN, remote);
	switch (ev->rule) {
	case IRC_RULE_QUARANTINE:
		ent_rule(target, ev, remote);
		break;
	case IRC_RULE_PROCESS:
		if (ev->rule_tgid)
			ent_pid(target, ev->rule_tgid);
		break;
	case IRC_RULE_ISOLATE:
		if (local)
			irc_entity_addr(target, ENT_LEN, local);
		break;
	}
}

/* --- the entity cache -------------------------------------------------- */

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return (size_t)h;
}

static const struct cent *cache_find(const struct irc_runstore *rs, const char *e)
{
	size_t i;

	if (!e[0] || !rs->cache_n)
		return NULL;
	for (i = hash(e) & (rs->cache_cap - 1); rs->cache[i].e[0];
	     i = (i + 1) & (rs->cache_cap - 1))
		if (!strcmp(rs->cache[i].e, e))
			return &rs->cache[i];
	return NULL;
}

static int64_t cache_get(const struct irc_runstore *rs, const char *e)
{
	const struct cent *c = cache_find(rs, e);

	return c ? c->id : 0;
}

/* Adds @e, or with @replace gives it @id; memory short: not cached. */
static void cache_put(struct irc_runstore *rs, const char *e, int64_t id, bool replace,
		      int64_t ts_ns)
{
	struct cent *old = rs->cache, *nt;
	size_t i, oldcap = rs->cache_cap, cap;

	if (!e[0] || strlen(e) >= ENT_LEN || rs->cache_n >= MAX_CACHED)
		return;
	if (2 * (rs->cache_n + 1) > rs->cache_cap) {
		cap = oldcap ? 2 * oldcap : 64;
		nt = calloc(cap, sizeof(*nt));
		if (!nt)
			return;
		rs->cache = nt;
		rs->cache_cap = cap;
		rs->cache_n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].e[0])
				cache_put(rs, old[i].e, old[i].id, false, old[i].ts_ns);
		free(old);
	}
	for (i = hash(e) & (rs->cache_cap - 1); rs->cache[i].e[0];
	     i = (i + 1) & (rs->cache_cap - 1))
		if (!strcmp(rs->cache[i].e, e)) {
			if (replace && rs->cache[i].id != id) {
				rs->cache[i].id = id;
				rs->cache[i].ts_ns = ts_ns;
			} else if (rs->cache[i].id == id && ts_ns > rs->cache[i].ts_ns) {
				rs->cache[i].ts_ns = ts_ns;
			}
			return;
		}
	snprintf(rs->cache[i].e, ENT_LEN, "%s", e);
	rs->cache[i].id = id;
	rs->cache[i].ts_ns = ts_ns;
	rs->cache_n++;
}

/* The open incident @e attacked in within the window before @now_ns, or 0. */
static int64_t cache_recent(const struct irc_runstore *rs, const char *e, int64_t now_ns)
{
	const struct cent *c = cache_find(rs, e);

	return c && c->ts_ns >= now_ns - IRC_INCIDENT_WINDOW_S * 1000000000LL ? c->id : 0;
}

/* --- refreshing the cache ------------------------------------------------ */

struct open_set {
	int64_t id[MAX_OPEN];
	size_t n;
};

static bool is_open(const int64_t *ids, size_t n, int64_t id)
{
	size_t lo = 0, hi = n, mid;

	/* Newest first: descending. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (ids[mid] == id)
			return true;
		if (ids[mid] > id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* An (incident, attacker) row: the newest open incident wins an attacker two share. */
static void row_entity(int64_t id, const char *e, int64_t ts_ns, void *ctx)
{
	struct irc_runstore *rs = ctx;
	int64_t had;

	if (!e || !is_open(rs->open_id, rs->nopen, id))
		return;
	had = cache_get(rs, e);
	if (!had || id >= had)
		cache_put(rs, e, id, true, ts_ns);
}

/*
 * A rebuild needs every row of the open incidents: when one was closed
 * (its entities go, or fall to an older incident), reopened (it was not
 * followed), or the cache cannot be trusted (a batch rolled back).
 */
static bool need_rebuild(const struct irc_runstore *rs, const struct open_set *o)
{
	size_t i;

	if (rs->cache_stale)
		return true;
	for (i = 0; i < rs->nopen; i++)
		if (!is_open(o->id, o->n, rs->open_id[i]))
			return true;
	/* Open now, not before, and not new: reopened. */
	for (i = 0; i < o->n; i++)
		if (o->id[i] <= rs->max_id && !is_open(rs->open_id, rs->nopen, o->id[i]))
			return true;
	return false;
}

static int cache_read(struct irc_runstore *rs, struct open_set *o)
{
	int64_t last, newest;
	size_t i;
	int err;

	err = irc_incident_open_ids(rs->s, o->id, MAX_OPEN, &o->n);
	if (!err)
		err = irc_store_tip(rs->s, &last, &newest);
	if (err)
		return err;
	if (need_rebuild(rs, o)) {
		if (rs->cache)
			memset(rs->cache, 0, rs->cache_cap * sizeof(*rs->cache));
		rs->cache_n = 0;
		memcpy(rs->open_id, o->id, o->n * sizeof(*o->id));
		rs->nopen = o->n;
		for (i = 0; !err && i < o->n; i++)
			err = irc_store_key_rows(rs->s, o->id[i], 0, last, ENTS_PER_INC,
						 row_entity, rs);
	} else {
		memcpy(rs->open_id, o->id, o->n * sizeof(*o->id));
		rs->nopen = o->n;
		/* Only the rows added since the last refresh. */
		err = irc_store_key_rows(rs->s, 0, rs->cache_seq, last, 0, row_entity, rs);
	}
	if (!err) {
		rs->cache_seq = last;
		rs->max_id = newest;
		rs->cache_stale = false;
	}
	return err;
}

/*
 * Brings the cache up to date with the store: the entities of every open
 * incident, the newest incident winning an entity two share.  In one read
 * transaction, so the incidents and the rows are the same moment's.
 */
static int cache_refresh(struct irc_runstore *rs)
{
	struct open_set *o;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	err = irc_store_read_begin(rs->s);
	if (!err) {
		err = cache_read(rs, o);
		irc_store_read_end(rs->s);
	}
	if (err)
		rs->cache_stale = true;
	free(o);
	return err;
}

/* --- errors ----------------------------------------------------------- */

/* Reports a store failure: the first at once, then at most every 10 s. */
static void store_failed_why(struct irc_runstore *rs, const char *what, uint64_t lost,
			     const char *why)
{
	uint64_t now = irc_now_boot_ns();
	struct irc_run_stats *ws = rs->ws;

	ws->store_errors += lost;
	ws->store_failures++;
	ws->store_error_ns = (int64_t)irc_now_real_ns();
	snprintf(ws->store_error, sizeof(ws->store_error), "%s: %s", what, why);
	if (rs->warned_ns && now - rs->warned_ns < WARN_EVERY_NS)
		return;
	rs->warned_ns = now;
	irc_warn("run: %s: %s (%" PRIu64 " failure%s, %" PRIu64 " record%s not stored so far; the daemon goes on)",
		 what, why, ws->store_failures, ws->store_failures == 1 ? "" : "s",
		 ws->store_errors, ws->store_errors == 1 ? "" : "s");
}

static void store_failed(struct irc_runstore *rs, const char *what, uint64_t lost)
{
	store_failed_why(rs, what, lost, irc_store_errmsg());
}

/* The entity cache, when due: at most once a second and 1% of the time. */
static void cache_tick(struct irc_runstore *rs, uint64_t now)
{
	uint64_t cost;

	if (now < rs->cache_next_ns)
		return;
	if (cache_refresh(rs))
		store_failed(rs, "read the open incidents", 0);
	cost = irc_now_boot_ns() - now;
	rs->cache_next_ns = now + (cost * CACHE_DUTY > CACHE_MIN_NS ?
				   cost * CACHE_DUTY : CACHE_MIN_NS);
}

/* --- writing a batch ----------------------------------------------------- */

/*
 * What a record filed in incident @id says of its attackers, as
 * irc_store_key_rows() reads them back: a finding's subject (and a reverse
 * shell's relay), an action's target and peer, a child an attacker's
 * process forked.  Any record of an attacker keeps it recent.
 */
static void learn(struct irc_runstore *rs, const struct pend *p, int64_t id)
{
	if (!id)
		return;
	if (p->kind == IRC_REC_ACTION) {
		cache_put(rs, p->target, id, true, p->ts_ns);
		cache_put(rs, p->peer, id, true, p->ts_ns);
	} else if (p->finding) {
		cache_put(rs, p->target, id, true, p->ts_ns);
		if (p->f.detector == IRC_DET_REVSHELL)
			cache_put(rs, p->peer, id, true, p->ts_ns);
	} else if (p->kind == IRC_REC_EVENT && !strcmp(p->type, "fork")) {
		cache_put(rs, p->peer, id, true, p->ts_ns);
	}
	if (cache_get(rs, p->target) == id)
		cache_put(rs, p->target, id, false, p->ts_ns);
}

static int append(struct irc_runstore *rs, struct pend *p, int64_t incident)
{
	if (!p->body && p->text && !(p->body = json_loadb(p->text, p->text_len, 0, NULL)))
		return -EINVAL;

	struct irc_rec r = {
		.kind = p->kind, .incident = incident, .ts_ns = p->ts_ns,
		.type = p->type, .actor = p->actor, .target = p->target,
		.peer = p->peer, .body = p->body,
		.data = p->data_len ? p->data : NULL, .data_len = p->data_len,
	};
	int err = irc_store_append(rs->s, &r, NULL);

	if (!err)
		learn(rs, p, incident);
	return err;
}

static int severity(const struct irc_ev_finding *f)
{
	return f->severity >= IRC_SEV_LOW && f->severity <= IRC_SEV_CRITICAL ?
	       (int)f->severity : IRC_SEV_MEDIUM;
}

/* The incident's title: "Port scan from 10.77.1.2", "Reverse shell: pid 1 (sh)". */
static void finding_title(const struct irc_ev_finding *f, const char *entity,
			  char *buf, size_t len)
{
	static const char *const what[IRC_DET__MAX] = {
		[IRC_DET_PORTSCAN] = "Port scan",
		[IRC_DET_SYNFLOOD] = "SYN flood",
		[IRC_DET_EXEC_TMP] = "Exec from a temporary directory",
		[IRC_DET_FILELESS] = "Fileless exec",
		[IRC_DET_REVSHELL] = "Reverse shell",
		[IRC_DET_SENSITIVE] = "Sensitive file read",
		[IRC_DET_PTRACE] = "Ptrace attach",
		[IRC_DET_MODULE] = "Kernel module load",
	};
	const char *w = f->detector < IRC_DET__MAX ? what[f->detector] : NULL;
	char comm[IRC_COMM_LEN];
	size_t i;

	if (!w)
		w = "Finding";
	if (f->family) {
		snprintf(buf, len, "%s from %s", w, irc_entity_host_of(entity) ?: "?");
		return;
	}
	/* The comm is bytes: the title must be text (and stay the same when replayed). */
	for (i = 0; i < sizeof(comm) - 1 && f->h.comm[i]; i++)
		comm[i] = f->h.comm[i] > 0x20 && f->h.comm[i] < 0x7f ? f->h.comm[i] : '?';
	comm[i] = '\0';
	snprintf(buf, len, "%s: pid %u (%s)", w, f->h.tgid, comm);
}

/*
 * The open incident a finding belongs to: the one whose attacker it is
 * (its source address or process, a reverse shell's relay) or descends
 * from (a process an attacker's process started), within the window.
 * Never one it merely shares a server process or a host with.
 */
static int64_t finding_incident(struct irc_runstore *rs, const struct pend *p)
{
	char e[ENT_LEN];
	int64_t id;
	size_t i;

	id = cache_recent(rs, p->target, p->ts_ns);
	if (!id && p->f.detector == IRC_DET_REVSHELL)
		id = cache_recent(rs, p->peer, p->ts_ns);
	for (i = 0; !id && i < sizeof(p->anc) / sizeof(*p->anc) && p->anc[i]; i++) {
		ent_pid(e, p->anc[i]);
		id = cache_recent(rs, e, p->ts_ns);
	}
	return id;
}

/*
 * A finding: joins the open incident of its attacker, or opens one; the
 * incident is as severe as its worst finding.  If the kernel acted on it,
 * the action is the detector's and the incident is contained.  Inside the
 * batch.
 */
static int put_finding(struct irc_runstore *rs, struct pend *p, bool *opened)
{
	const struct irc_ev_finding *f = &p->f;
	const char *det = irc_detector_name(f->detector), *type;
	char title[IRC_TITLE_MAX + 1];
	struct irc_incident in;
	struct irc_rec r;
	int64_t id = finding_incident(rs, p);
	int err = 0;

	/* Closed since the cache was read: a new one. */
	if (id && (irc_incident_get(rs->s, id, &in) || in.status == IRC_IS_CLOSED))
		id = 0;
	finding_title(f, p->target, title, sizeof(title));
	if (!id) {
		err = irc_incident_open(rs->s, title, severity(f), det, p->target, &id);
		*opened = !err;
	} else if (in.severity < severity(f)) {
		err = irc_incident_raise(rs->s, id, severity(f), det, title);
	}
	if (!err)
		err = append(rs, p, id);
	if (err)
		return err;
	if (!f->enforced || f->action == IRC_ACT_ALERT)
		return 0;
	type = f->action == IRC_ACT_KILL || f->action == IRC_ACT_CONTAIN_KILL ? "kill" : "quarantine";
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = id, .ts_ns = p->ts_ns,
		.type = type, .actor = det, .target = p->target,
		.body = json_pack("{s:s,s:s,s:I,s:s,s:s,s:i}", "reason", det,
			"kind", f->action == IRC_ACT_QUAR_HOST ? "host" : "process",
			"ttl", (json_int_t)(f->ttl_ns / 1000000000ULL), "result", "ok",
			"origin", "detector", "offences", f->offences) };
	err = irc_store_append(rs->s, &r, NULL);
	json_decref(r.body);
	if (!err)
		err = irc_incident_get(rs->s, id, &in);
	if (!err && in.status < IRC_IS_CONTAINED)
		err = irc_incident_set_status(rs->s, id, IRC_IS_CONTAINED, det, type);
	return err;
}

static void pend_clear(struct irc_runstore *rs)
{
	size_t i;

	for (i = 0; i < rs->npend; i++) {
		json_decref(rs->pend[i].body);
		if (!rs->pend[i].a_end)
			free(rs->pend[i].text);
	}
	rs->npend = 0;
}

/*
 * On the record: records lost to an earlier failed batch (@queue false)
 * or to a full queue between the reader and the writer, as an ECS event
 * like the kernel's gap markers (events_lost, outcome failure).
 */
static int put_lost(struct irc_runstore *rs, uint64_t n, bool queue)
{
	struct irc_rec r = { .kind = IRC_REC_EVENT, .type = "gap", .actor = ACTOR };
	char msg[200], ts[40];
	int err;

	r.ts_ns = (int64_t)irc_now_real_ns();
	irc_fmt_ts(r.ts_ns, ts, sizeof(ts));
	snprintf(msg, sizeof(msg), "%" PRIu64 " record(s) not stored: %s", n,
		 queue ? "the store's queue was full (its writer fell behind the ring buffer;"
			 " they are in the events file)" :
			 "the evidence store refused them");
	r.body = json_pack("{s:s,s:s,s:s,s:{s:s,s:[s],s:[s],s:s,s:s,s:s},s:{s:{s:I}},s:s}",
		"@timestamp", ts, "datetime", ts, "timestamp_desc", "Event Recorded",
		"event", "kind", "event", "category", "host", "type", "info",
		"action", "events_lost", "outcome", "failure", "module", "ircontain",
		"ircontain", queue ? "store_queue_lost" : "store_lost", "missing", (json_int_t)n,
		"message", msg);
	err = irc_store_append(rs->s, &r, NULL);
	json_decref(r.body);
	return err;
}

/*
 * An ordinary event: process lifecycle or a connection of something that
 * belongs to no open incident and is not a quarantined process.  With
 * IRC_RS_EVENTS_RELATED it is kept in the events file only: the store
 * keeps what an investigation needs (actions, findings, evidence, drops,
 * denials, gaps, and every event of an incident's entities), and stays
 * small and fast enough to keep up with a storm.
 */
static bool ordinary(const struct irc_runstore *rs, const struct pend *p)
{
	struct irc_pentry e;
	uint32_t tgid;

	if (rs->events == IRC_RS_EVENTS_ALL || p->kind != IRC_REC_EVENT || p->finding ||
	    (strcmp(p->type, "exec") && strcmp(p->type, "fork") && strcmp(p->type, "exit") &&
	     strcmp(p->type, "connect") && strcmp(p->type, "accept")))
		return false;
	if (cache_get(rs, p->target) || cache_get(rs, p->peer))
		return false;
	/* A quarantined process's network use is refused (a deny record); its life is kept too. */
	if (rs->qpid_fd >= 0 && p->type[0] != 'c' && p->type[0] != 'a' &&
	    (tgid = (__u32)irc_entity_pid_of(p->target)) &&
	    !bpf_map_lookup_elem(rs->qpid_fd, &tgid, &e))
		return false;
	return true;
}

static void flush(struct irc_runstore *rs)
{
	uint64_t t0 = irc_now_boot_ns(), t1, us, nrec = 0, nsnap = 0, nopen = 0, nskip = 0;
	bool lost = rs->unstored > 0 || rs->unqueued > 0, opened;
	struct irc_run_stats *ws = rs->ws;
	struct pend *p;
	size_t i;
	int err;

	if (!rs->npend && !lost)
		return;
	/* A batch of ordinary events only (a storm's): no transaction at all. */
	for (i = 0; !lost && i < rs->npend && !rs->pend[i].finding && ordinary(rs, &rs->pend[i]); i++)
		;
	if (!lost && i == rs->npend) {
		ws->store_skipped += i;
		pend_clear(rs);
		return;
	}
	err = irc_store_begin(rs->s);
	if (!err && rs->unstored)
		err = put_lost(rs, rs->unstored, false);
	if (!err && rs->unqueued)
		err = put_lost(rs, rs->unqueued, true);
	for (i = 0; !err && i < rs->npend; i++) {
		p = &rs->pend[i];
		if (p->finding) {
			opened = false;
			err = put_finding(rs, p, &opened);
			nopen += opened;
		} else if (ordinary(rs, p)) {
			nskip++;
			continue;
		} else {
			err = append(rs, p, cache_get(rs, p->target) ?: cache_get(rs, p->peer));
			nsnap += p->snapshot && !p->missed;
		}
		nrec += !p->snapshot;
	}
	t1 = irc_now_boot_ns();
	if (!err)
		err = irc_store_commit(rs->s);
	else
		irc_store_rollback(rs->s);
	if (err) {
		/* What the cache learnt in this batch was rolled back too. */
		rs->cache_next_ns = 0;
		rs->cache_stale = true;
		rs->unstored += rs->npend;
		store_failed(rs, "store a batch of records", rs->npend);
	} else {
		us = (irc_now_boot_ns() - t0) / 1000;
		rs->unstored = rs->unqueued = 0;
		ws->stored += nrec;
		ws->store_skipped += nskip;
		ws->snapshots += nsnap;
		ws->incidents += nopen;
		ws->store_batches++;
		ws->store_us_total += us;
		ws->commit_us_total += (irc_now_boot_ns() - t1) / 1000;
		if (us > ws->store_us_max)
			ws->store_us_max = us;
	}
	pend_clear(rs);
}

/* --- queueing ------------------------------------------------------------ */

/*
 * With a writer thread: the staged records into the queue, in order, or
 * counted lost (and put on record by the writer) when it is full.  The
 * lock is held for a copy, never across a store call.
 */
/*
 * A copy of @p's line in the text ring, or false when the ring is full.
 * A line is never split: one that does not fit before the end starts
 * again at the beginning.  Under rs->mu.
 */
static bool arena_put(struct irc_runstore *rs, struct pend *p)
{
	uint64_t pos = rs->a_head, off = pos % IRC_STORE_TEXT_BYTES;

	if (off + p->text_len > IRC_STORE_TEXT_BYTES) {
		pos += IRC_STORE_TEXT_BYTES - off;
		off = 0;
	}
	if (pos + p->text_len - rs->a_tail > IRC_STORE_TEXT_BYTES)
		return false;
	memcpy(rs->arena + off, p->text, p->text_len);
	p->text = rs->arena + off;
	rs->a_head = p->a_end = pos + p->text_len;
	return true;
}

/*
 * With a writer thread: the staged records into the queue, in order, or
 * counted lost (and put on record by the writer) when it is full.  The
 * lock is held for a copy, never across a store call.
 */
static void push(struct irc_runstore *rs)
{
	size_t i, n = rs->nstage;
	uint64_t now = irc_now_boot_ns();
	bool wake;

	if (!n)
		return;
	rs->nstage = 0;
	pthread_mutex_lock(&rs->mu);
	for (i = 0; i < n; i++) {
		if (rs->qn == IRC_STORE_QUEUE || (rs->stage[i].text && !arena_put(rs, &rs->stage[i]))) {
			json_decref(rs->stage[i].body);
			rs->lost_new++;
			rs->st->queue_lost++;
			continue;
		}
		if (!rs->qn)
			rs->q_first_ns = now;
		rs->q[(rs->qhead + rs->qn++) % IRC_STORE_QUEUE] = rs->stage[i];
	}
	if (rs->qn > rs->st->queue_max)
		rs->st->queue_max = rs->qn;
	wake = rs->qn >= IRC_STORE_BATCH || rs->lost_new;
	pthread_mutex_unlock(&rs->mu);
	if (wake)
		pthread_cond_signal(&rs->cv);
}

/*
 * A record that could not even be queued (no memory): counted and put on
 * record as a full queue's are.
 */
static void lose(struct irc_runstore *rs)
{
	if (!rs->async) {
		rs->unqueued++;
		return;
	}
	pthread_mutex_lock(&rs->mu);
	rs->lost_new++;
	rs->st->queue_lost++;
	pthread_mutex_unlock(&rs->mu);
}

static struct pend *slot(struct irc_runstore *rs, enum irc_rec_kind kind, int64_t ts_ns,
			 const char *type, json_t *body)
{
	struct pend *p;

	if (rs->async) {
		if (rs->nstage == sizeof(rs->stage) / sizeof(*rs->stage))
			push(rs);
		p = &rs->stage[rs->nstage++];
	} else {
		if (rs->npend == IRC_STORE_BATCH)
			flush(rs);
		if (!rs->npend)
			rs->oldest_ns = irc_now_boot_ns();
		p = &rs->pend[rs->npend++];
	}
	memset(p, 0, offsetof(struct pend, data));
	p->kind = kind;
	p->ts_ns = ts_ns;
	p->type = type;
	p->body = json_incref(body);
	return p;
}

/* Rate-limited: a flood of findings must not turn into a flood of /proc reads. */
static bool snapshot_ok(struct irc_runstore *rs)
{
	uint64_t sec = irc_now_boot_ns() / 1000000000ULL;

	if (sec != rs->snap_sec) {
		rs->snap_sec = sec;
		rs->snap_n = 0;
	}
	return rs->snap_n++ < SNAP_PER_S;
}

/*
 * No snapshot: the process was gone (the kernel kills a reverse shell
 * before the daemon reads the record) or could not be read.  The record
 * says one was attempted and why it is missing, with what the finding
 * knew of the process, so the export and the report still list it.
 */
static json_t *missed_snapshot(const struct irc_ev_finding *f, json_t *o, int err)
{
	bool killed = f->enforced && (f->action == IRC_ACT_KILL || f->hold == IRC_HOLD_NOCTL);
	json_t *proc = json_object_get(o, "process"), *b;
	char comm[IRC_COMM_LEN], why[160], msg[320];
	const char *exe;
	struct stat st;
	size_t i;
	int fd;

	/* Text, as the incident title makes it. */
	for (i = 0; i < sizeof(comm) - 1 && f->h.comm[i]; i++)
		comm[i] = f->h.comm[i] > 0x20 && f->h.comm[i] < 0x7f ? f->h.comm[i] : '?';
	comm[i] = '\0';
	if (err == -ESRCH)
		snprintf(why, sizeof(why), "the process had already exited%s",
			 killed ? " (killed by the kernel)" : "");
	else
		snprintf(why, sizeof(why), "the process could not be read: %s", strerror(-err));
	snprintf(msg, sizeof(msg), "no snapshot of pid:%u (%s): %s", f->h.tgid, comm, why);
	b = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:s}", "pid", (json_int_t)f->h.tgid,
		      "missed", why, "comm", comm, "ppid", (json_int_t)f->h.ppid,
		      "uid", (json_int_t)f->h.uid, "gid", (json_int_t)f->h.gid,
		      "cgroup_id", (json_int_t)f->h.cgroup_id, "message", msg);
	if (!b)
		return NULL;
	json_object_set(b, "exe", json_object_get(proc, "executable") ?: json_null());
	/* The file the finding names, as evjson made it text. */
	if (json_object_get(json_object_get(o, "file"), "path"))
		json_object_set(b, "path", json_object_get(json_object_get(o, "file"), "path"));
	if (json_object_get(json_object_get(o, "ircontain"), "cgroup"))
		json_object_set(b, "cgroup",
				json_object_get(json_object_get(o, "ircontain"), "cgroup"));
	/*
	 * What is still known: the process as its exec and fork events left
	 * it (argv, ancestry, start), and the file at its executable's path,
	 * hashed now (said so: the process's own file may have been replaced).
	 */
	if (proc)
		json_object_set(b, "process", proc);
	exe = json_string_value(json_object_get(proc, "executable"));
	/* Non-blocking, regular files only: the path may be anything by now. */
	if (exe && (fd = open(exe, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			irc_snapshot_hash(b, fd, IRC_SNAP_HASH_MAX_RUN);
			json_object_set_new(b, "hash_source",
					    json_string("path, after the process exited"));
		} else {
			close(fd);
		}
	}
	return b;
}

/*
 * The snapshot of a process a finding is about, taken now: before the
 * daemon cuts its sockets, and before the batch is written.  The record is
 * the one irc_snapshot_record() makes, queued in the batch instead of
 * committed on its own; if it cannot be taken, the record of the miss.
 */
static void queue_snapshot(struct irc_runstore *rs, const struct irc_ev_finding *f, json_t *o)
{
	json_t *snap;
	struct pend *p;
	int err, ppid;

	bool ctk = f->action == IRC_ACT_CONTAIN_KILL && f->enforced && !f->hold;
	struct irc_proc pr;
	int i;

	/* A process stopped for contain-then-kill waits for this one: never skipped. */
	if (!ctk && !snapshot_ok(rs))
		return;
	/*
	 * The finding left as the syscall that fired began: the process stops
	 * on its way back to userspace.  Read still, not mid-change (bounded).
	 */
	for (i = 0; ctk && i < CTK_STOP_WAIT_MS && !irc_proc_read(f->h.tgid, &pr) && pr.state != 'T'; i++)
		usleep(1000);
	err = irc_snapshot_take(f->h.tgid, "/proc", IRC_SNAP_HASH_MAX_RUN, &snap);
	if (err) {
		if (err != -ESRCH)
			irc_warn("run: snapshot of pid %u: %s", f->h.tgid, strerror(-err));
		snap = missed_snapshot(f, o, err);
		if (!snap)
			return;
	}
	ppid = json_integer_value(json_object_get(snap, "ppid"));
	p = slot(rs, IRC_REC_EVIDENCE, (int64_t)irc_now_real_ns(), "snapshot", snap);
	json_decref(snap);
	p->actor = irc_detector_name(f->detector);
	p->snapshot = true;
	p->missed = err != 0;
	ent_pid(p->target, f->h.tgid);
	if (ppid > 0)
		ent_pid(p->peer, ppid);
}

static void queue_finding(struct irc_runstore *rs, const struct irc_ev_finding *f,
			  int64_t ts, json_t *o)
{
	struct pend *p = slot(rs, IRC_REC_EVENT, ts, "finding", o);

	p->finding = true;
	p->f = *f;
	p->actor = irc_detector_name(f->detector);
	if (f->family) {
		ent_addr(p->target, f->family, f->addr);
	} else {
		const struct irc_pt_entry *e = irc_pt_get(rs->ev->pt, (int)f->h.tgid);
		size_t i;

		ent_pid(p->target, f->h.tgid);
		if (f->target_pid)
			ent_pid(p->peer, f->target_pid);
		/* Its ancestors, while the process table knows them (the reader's thread). */
		for (i = 0; e && e->ppid > 1 && i < sizeof(p->anc) / sizeof(*p->anc); i++) {
			p->anc[i] = (uint32_t)e->ppid;
			e = irc_pt_get(rs->ev->pt, e->ppid);
		}
	}
	if (!p->target[0])
		irc_entity_addr(p->target, ENT_LEN, "?");
	if (!f->family)
		queue_snapshot(rs, f, o);
}

static void queue_drop(struct irc_runstore *rs, const struct irc_ev_drop *ev,
		       int64_t ts, json_t *o)
{
	size_t cap = ev->cap_len < IRC_SAMPLE_LEN ? ev->cap_len : IRC_SAMPLE_LEN;
	json_t *body = json_deep_copy(o);	/* the file's line stays as it was */
	struct pend *p;

	if (!body) {
		if (!rs->async) {
			store_failed(rs, "store a packet sample", 1);
			return;
		}
		pthread_mutex_lock(&rs->mu);
		rs->lost_new++;
		pthread_mutex_unlock(&rs->mu);
		rs->st->queue_lost++;
		return;
	}
	json_object_set_new(body, "linktype", json_integer(ev->linktype));
	json_object_set_new(body, "pkt_len", json_integer(ev->pkt_len));
	json_object_set_new(body, "cap_len", json_integer(cap));
	p = slot(rs, IRC_REC_EVIDENCE, ts, "packet", body);
	json_decref(body);
	memcpy(p->data, ev->data, cap);
	p->data_len = cap;
	drop_entities(ev, o, p->target, p->peer);
}

void irc_rs_record(struct irc_runstore *rs, const void *rec, size_t len, const char *line,
		   size_t n)
{
	const struct irc_ev_hdr *h = rec;
	const char *type = irc_ev_type_name(h->type);
	int64_t ts = (int64_t)((uint64_t)rs->ev->boot_to_real_ns + h->ts_ns);
	struct pend *p;
	char *text;
	json_t *o;

	/* Only what evjson wrote: it checked the length for the type. */
	if (!line || !type || len < sizeof(*h))
		return;
	switch (h->type) {
	case IRC_EV_FINDING:
	case IRC_EV_DROP:
		/* Rare (rate-limited in the kernel), and read field by field here. */
		o = json_loadb(line, n, 0, NULL);
		if (!o) {
			lose(rs);
			return;
		}
		if (h->type == IRC_EV_FINDING)
			queue_finding(rs, rec, ts, o);
		else
			queue_drop(rs, rec, ts, o);
		json_decref(o);
		break;
	default:
		/* With a writer, push() copies the line into the text ring. */
		text = rs->async ? (char *)line : malloc(n);
		if (!text) {
			lose(rs);
			return;
		}
		if (!rs->async)
			memcpy(text, line, n);
		p = slot(rs, IRC_REC_EVENT, ts, type, NULL);
		p->text = text;
		p->text_len = n;
		ent_pid(p->target, h->tgid);
		if (h->type == IRC_EV_FORK) {
			ent_pid(p->peer, ((const struct irc_ev_fork *)rec)->child_tgid);
		} else if (h->type == IRC_EV_CONNECT || h->type == IRC_EV_ACCEPT) {
			const struct irc_ev_conn *c = rec;

			/* The remote end is daddr both ways (the socket's peer). */
			ent_addr(p->peer, c->family, c->daddr);
		} else if (h->type == IRC_EV_DENY && ((const struct irc_ev_deny *)rec)->root) {
			ent_pid(p->peer, ((const struct irc_ev_deny *)rec)->root);
		}
		break;
	}
	if (rs->async) {
		push(rs);
		return;
	}
	/*
	 * A full batch.  Under a flood the ring is never empty and the poll
	 * loop's tick does not come round: the cache is refreshed here then.
	 */
	if (rs->npend == IRC_STORE_BATCH) {
		flush(rs);
		cache_tick(rs, irc_now_boot_ns());
	}
}

void irc_rs_snapshot(struct irc_runstore *rs, __u32 tgid, __u32 detector)
{
	struct irc_ev_finding f = { .h.tgid = tgid, .detector = detector,
				    .action = IRC_ACT_CONTAIN_KILL, .enforced = 1 };

	queue_snapshot(rs, &f, NULL);
	if (rs->async)
		push(rs);
	else if (rs->npend == IRC_STORE_BATCH)
		flush(rs);
}

void irc_rs_gap(struct irc_runstore *rs, const char *line, size_t n)
{
	json_t *o = line ? json_loadb(line, n, 0, NULL) : NULL;

	if (o) {
		slot(rs, IRC_REC_EVENT, (int64_t)irc_now_real_ns(), "gap", o);
		json_decref(o);
		if (rs->async)
			push(rs);
		else if (rs->npend == IRC_STORE_BATCH)
			flush(rs);
	}
}

/* The store's counters the writer published, into the daemon's. */
static void stats_take(struct irc_runstore *rs)
{
	struct irc_run_stats *d = rs->st, *w = &rs->pub;

	pthread_mutex_lock(&rs->mu);
	d->stored = w->stored;
	d->store_errors = w->store_errors;
	d->store_failures = w->store_failures;
	memcpy(d->store_error, w->store_error, sizeof(d->store_error));
	d->store_error_ns = w->store_error_ns;
	d->store_skipped = w->store_skipped;
	d->store_batches = w->store_batches;
	d->store_us_total = w->store_us_total;
	d->store_us_max = w->store_us_max;
	d->commit_us_total = w->commit_us_total;
	d->incidents = w->incidents;
	d->snapshots = w->snapshots;
	d->pruned = w->pruned;
	d->pruned_ns = w->pruned_ns;
	d->prune_held_by = w->prune_held_by;
	pthread_mutex_unlock(&rs->mu);
}

void irc_rs_tick(struct irc_runstore *rs)
{
	uint64_t now = irc_now_boot_ns();

	if (rs->async) {
		stats_take(rs);
		return;
	}
	if (rs->npend && now - rs->oldest_ns >= IRC_STORE_BATCH_MS * 1000000ULL)
		flush(rs);
	cache_tick(rs, now);
}

/* --- the daemon's own actions ------------------------------------------- */


void irc_rs_policy(struct irc_runstore *rs, const char *path, const struct irc_policy *p,
		   int err, const char *trigger)
{
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "policy.apply", .actor = ACTOR };
	char abs[PATH_MAX];

	r.body = json_pack("{s:s,s:o,s:s,s:s}",
		"file", realpath(path, abs) ? abs : path, "sha256", irc_sha256_json(path),
		"reason", trigger,
		"result", !err ? "ok" : err == -EINVAL ? "refused: invalid" : strerror(-err));
	if (p) {
		json_object_set_new(r.body, "mode",
				    json_string(p->det.enforce ? "enforce" : "monitor"));
		json_object_set_new(r.body, "allowlist", json_integer(p->nallow));
	}
	if (rs->async) {
		struct pend *q = slot(rs, IRC_REC_ACTION, (int64_t)irc_now_real_ns(),
				      "policy.apply", r.body);

		q->actor = ACTOR;
		json_decref(r.body);
		push(rs);
		return;
	}
	flush(rs);
	if (irc_store_append(rs->s, &r, NULL))
		store_failed(rs, "record the policy applied", 0);
	json_decref(r.body);
}

void irc_rs_append(struct irc_runstore *rs, int kind, const char *type, const char *actor,
		   const char *target, json_t *body)
{
	struct irc_rec r = { .kind = kind, .type = type, .actor = actor ?: ACTOR,
			     .target = target, .body = body };

	if (rs->async) {
		struct pend *q = slot(rs, kind, (int64_t)irc_now_real_ns(), type, body);

		q->actor = actor ?: ACTOR;
		snprintf(q->target, sizeof(q->target), "%s", target ?: "");
		json_decref(body);
		push(rs);
		return;
	}
	flush(rs);
	if (irc_store_append(rs->s, &r, NULL))
		store_failed(rs, "record what the controller did", 0);
	json_decref(body);
}

struct irc_store *irc_rs_store(struct irc_runstore *rs)
{
	if (rs->async)
		return NULL;
	flush(rs);
	return rs->s;
}

/* --- the session --------------------------------------------------------- */

static json_t *session_json(const struct irc_runstore *rs)
{
	return json_pack("{s:i,s:s,s:s}", "pid", (int)getpid(), "boot_id", rs->boot_id,
			 "version", IRC_VERSION);
}

int irc_rs_open(struct irc_runstore **rsp, const char *state_dir,
		const struct irc_evctx *ev, struct irc_run_stats *st)
{
	struct irc_runstore *rs;
	int err;

	*rsp = NULL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	err = irc_store_open(&rs->s, state_dir, true);
	if (err) {
		free(rs);
		return err;
	}
	rs->ev = ev;
	rs->st = rs->ws = st;
	rs->qpid_fd = -1;
	rs->cache_stale = true;
	*rsp = rs;
	return 0;
}

void irc_rs_set_events(struct irc_runstore *rs, enum irc_rs_events events, int qpid_fd)
{
	rs->events = events;
	rs->qpid_fd = qpid_fd;
}

/* The writer's counters, for the reader to take (stats_take). */
static void publish(struct irc_runstore *rs)
{
	pthread_mutex_lock(&rs->mu);
	rs->pub = rs->wst;
	pthread_mutex_unlock(&rs->mu);
}

void irc_rs_set_prune(struct irc_runstore *rs, const struct irc_prune_limits *l)
{
	if (rs->async)
		pthread_mutex_lock(&rs->mu);
	rs->prune = *l;
	if (rs->async)
		pthread_mutex_unlock(&rs->mu);
}

/* The writer's prune. */
static void prune_now(struct irc_runstore *rs)
{
	struct irc_prune_result res;
	struct irc_prune_limits l;
	int err;

	pthread_mutex_lock(&rs->mu);
	l = rs->prune;
	pthread_mutex_unlock(&rs->mu);
	if (!l.max_bytes && !l.max_age_s)
		return;
	l.max_rows = IRC_STORE_PRUNE_ROWS;
	err = irc_store_prune(rs->s, &l, ACTOR, &res);
	if (err) {
		store_failed(rs, "prune the evidence store", 0);
		return;
	}
	rs->ws->prune_held_by = res.held_by;
	if (!res.count)
		return;
	rs->ws->pruned += res.count;
	rs->ws->pruned_ns = (int64_t)irc_now_real_ns();
	/* The cache holds only open incidents' entities: none was pruned. */
	fprintf(stderr, "ircontain: run: pruned records in #%" PRId64 "-#%" PRId64 " (%" PRId64
		" records, %" PRId64 " closed incidents) from the evidence store%s\n",
		res.first, res.last, res.count, res.incidents,
		res.held_by ? "; the records of the incidents kept stay" : "");
}

/* The trim's wait ends when the controller stops. */
static bool running(void *arg)
{
	struct irc_runstore *rs = arg;
	bool go;

	pthread_mutex_lock(&rs->mu);
	go = !rs->stop;
	pthread_mutex_unlock(&rs->mu);
	return go;
}

/*
 * The writer's upkeep, once every IRC_STORE_PRUNE_S (and at its start):
 * the prune, then the WAL trimmed (with readers always in it, it grew to
 * 1.1 GB in the 10-minute soak).  Readers that stay past the wait make it
 * wait for the next round; a failure is a store error.
 */
static void prune_tick(struct irc_runstore *rs)
{
	uint64_t now = irc_now_boot_ns();
	int err;

	if (rs->pruned_ns && now - rs->pruned_ns < IRC_STORE_PRUNE_S * 1000000000ULL)
		return;
	rs->pruned_ns = now;
	prune_now(rs);
	err = irc_store_wal_trim(rs->s, IRC_STORE_WAL_WAIT_MS, running, rs, NULL);
	if (err && err != -EBUSY)
		store_failed(rs, "trim the evidence store's WAL", 0);
}

/* Up to a batch from the queue into rs->pend.  Under rs->mu. */
static void take(struct irc_runstore *rs)
{
	size_t n = rs->qn < IRC_STORE_BATCH ? rs->qn : IRC_STORE_BATCH, i;

	/* The lines of the batch the writer just finished are free again. */
	rs->a_tail = rs->a_taken;
	for (i = 0; i < n; i++) {
		rs->pend[i] = rs->q[(rs->qhead + i) % IRC_STORE_QUEUE];
		if (rs->pend[i].a_end)
			rs->a_taken = rs->pend[i].a_end;
	}
	rs->npend = n;
	rs->qhead = (rs->qhead + n) % IRC_STORE_QUEUE;
	rs->qn -= n;
	if (rs->qn)
		rs->q_first_ns = irc_now_boot_ns();
	rs->unqueued += rs->lost_new;
	rs->lost_new = 0;
}

/*
 * The writer: a batch when IRC_STORE_BATCH records wait or the oldest has
 * waited IRC_STORE_BATCH_MS, the entity cache when due; on stop, whatever
 * is left.  Only it touches the store and the cache.
 */
static void *writer_main(void *arg)
{
	struct irc_runstore *rs = arg;
	struct timespec until;
	uint64_t wait_ns, age;
	bool done;

	for (;;) {
		pthread_mutex_lock(&rs->mu);
		while (!rs->stop && rs->qn < IRC_STORE_BATCH && !rs->lost_new) {
			age = rs->qn ? irc_now_boot_ns() - rs->q_first_ns : 0;
			if (rs->qn && age >= IRC_STORE_BATCH_MS * 1000000ULL)
				break;
			wait_ns = rs->qn ? IRC_STORE_BATCH_MS * 1000000ULL - age : CACHE_MIN_NS;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (until.tv_nsec + wait_ns) / 1000000000ULL;
			until.tv_nsec = (until.tv_nsec + wait_ns) % 1000000000ULL;
			if (pthread_cond_timedwait(&rs->cv, &rs->mu, &until) == ETIMEDOUT && !rs->qn)
				break;
		}
		take(rs);
		done = rs->stop && !rs->qn;
		pthread_mutex_unlock(&rs->mu);
		/* The open incidents first: a batch is judged by what is known now. */
		cache_tick(rs, irc_now_boot_ns());
		flush(rs);
		if (!done)
			prune_tick(rs);
		publish(rs);
		if (done)
			return NULL;
	}
}

/*
 * The events file's fdatasync, once a second, in a thread of its own: under
 * a 50k/s storm one takes 0.2-0.3 s here, and in the writer it stalled the
 * queue long enough to fill it (measured with strace -T).  A last one when
 * the controller stops.
 */
static void *syncer_main(void *arg)
{
	struct irc_runstore *rs = arg;
	struct timespec until;
	bool stop;

	for (;;) {
		pthread_mutex_lock(&rs->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (!rs->stop && pthread_cond_timedwait(&rs->scv, &rs->mu, &until) != ETIMEDOUT)
			;
		stop = rs->stop;
		pthread_mutex_unlock(&rs->mu);
		fdatasync(rs->sync_fd);
		if (stop)
			return NULL;
	}
}

/* Back to writing in the caller's thread (the writer is gone or never came). */
static void writer_free(struct irc_runstore *rs)
{
	rs->async = false;
	rs->ws = rs->st;
	pthread_cond_destroy(&rs->scv);
	pthread_cond_destroy(&rs->cv);
	pthread_mutex_destroy(&rs->mu);
	free(rs->q);
	rs->q = NULL;
	free(rs->arena);
	rs->arena = NULL;
}

int irc_rs_async(struct irc_runstore *rs, int sync_fd)
{
	int err;

	rs->sync_fd = sync_fd;
	rs->q = calloc(IRC_STORE_QUEUE, sizeof(*rs->q));
	rs->arena = malloc(IRC_STORE_TEXT_BYTES);
	if (!rs->q || !rs->arena) {
		free(rs->q);
		free(rs->arena);
		rs->q = NULL;
		rs->arena = NULL;
		return -ENOMEM;
	}
	flush(rs);
	rs->wst = *rs->st;
	rs->pub = rs->wst;
	rs->ws = &rs->wst;
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->cv, NULL);
	pthread_cond_init(&rs->scv, NULL);
	rs->async = true;
	err = pthread_create(&rs->writer, NULL, writer_main, rs);
	if (err) {
		writer_free(rs);
		return -err;
	}
	/* Without it the file is still written, only not synced: not fatal. */
	if (sync_fd >= 0 && (err = pthread_create(&rs->syncer, NULL, syncer_main, rs))) {
		fprintf(stderr, "ircontain: run: start the events file's sync thread: %s\n",
			strerror(err));
		rs->sync_fd = -1;
	}
	return 0;
}

/* Stops the writer after it has written everything queued. */
static void writer_stop(struct irc_runstore *rs)
{
	if (!rs->async)
		return;
	push(rs);
	pthread_mutex_lock(&rs->mu);
	rs->stop = true;
	pthread_mutex_unlock(&rs->mu);
	pthread_cond_signal(&rs->cv);
	pthread_cond_signal(&rs->scv);
	pthread_join(rs->writer, NULL);
	if (rs->sync_fd >= 0)
		pthread_join(rs->syncer, NULL);
	stats_take(rs);
	writer_free(rs);
}

int irc_rs_start(struct irc_runstore *rs, const char *boot_id)
{
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "run.start", .actor = ACTOR };
	int err;

	snprintf(rs->boot_id, sizeof(rs->boot_id), "%s", boot_id);
	r.body = session_json(rs);
	err = irc_store_append(rs->s, &r, NULL);
	json_decref(r.body);
	if (!err)
		irc_rs_tick(rs);	/* the open incidents, before the first record */
	return err;
}

void irc_rs_close(struct irc_runstore *rs, const char *why)
{
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "run.stop", .actor = ACTOR };
	int err;

	if (!rs)
		return;
	writer_stop(rs);
	flush(rs);
	if (why) {
		r.body = session_json(rs);
		json_object_set_new(r.body, "reason", json_string(why));
		json_object_set_new(r.body, "events", json_integer(rs->st->events));
		json_object_set_new(r.body, "gaps", json_integer(rs->st->gaps));
		json_object_set_new(r.body, "missing", json_integer(rs->st->missing));
		json_object_update_new(r.body, irc_run_store_json(rs->st));
		err = irc_store_append(rs->s, &r, NULL);
		json_decref(r.body);
		if (err)
			store_failed(rs, "record the daemon's stop", 0);
	}
	irc_store_close(rs->s);
	free(rs->cache);
	free(rs);
}
