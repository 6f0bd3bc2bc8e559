// SPDX-License-Identifier: GPL-2.0-only
/* Event records to ECS JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "evjson.h"
#include "cgroup.h"
#include "irc.h"
#include "policy.h"
#include "protect.h"

static const char *const type_names[IRC_EV__MAX] = {
	[IRC_EV_EXEC] = "exec", [IRC_EV_FORK] = "fork", [IRC_EV_EXIT] = "exit",
	[IRC_EV_CONNECT] = "connect", [IRC_EV_ACCEPT] = "accept",
	[IRC_EV_DROP] = "packet_dropped", [IRC_EV_DENY] = "network_denied",
	[IRC_EV_FINDING] = "finding",
};

const char *irc_ev_type_name(unsigned int type)
{
	return type < IRC_EV__MAX ? type_names[type] : NULL;
}

int irc_evctx_init(struct irc_evctx *c, struct irc_ptable *pt)
{
	FILE *f;
	long hz = sysconf(_SC_CLK_TCK);

	memset(c, 0, sizeof(*c));
	c->pt = pt;
	c->proc_root = "/proc";
	if (irc_cgroup2_mount(c->cgroup_mount, sizeof(c->cgroup_mount)))
		c->cgroup_mount[0] = '\0';
	c->tick_ns = 1000000000ULL / (hz > 0 ? hz : 100);
	c->boot_to_real_ns = (int64_t)irc_now_real_ns() - (int64_t)irc_now_boot_ns();
	if (gethostname(c->hostname, sizeof(c->hostname) - 1))
		snprintf(c->hostname, sizeof(c->hostname), "unknown");
	f = fopen("/etc/machine-id", "re");
	if (f) {
		if (fgets(c->host_id, sizeof(c->host_id), f))
			c->host_id[strcspn(c->host_id, "\n")] = '\0';
		fclose(f);
	}
	return 0;
}

/* --- JSON text ------------------------------------------------------------ */

int irc_jb_reserve(struct irc_jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (b->len + n <= b->cap)
		return 0;
	for (cap = b->cap ? b->cap : 4096; cap < b->len + n; cap *= 2)
		;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return -ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void irc_jb_free(struct irc_jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void put(struct irc_jbuf *b, const char *s, size_t n)
{
	if (irc_jb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* A literal piece of JSON. */
#define PUT(b, lit)	put((b), "" lit, sizeof(lit) - 1)

static void put_raw(struct irc_jbuf *b, const char *json)
{
	put(b, json, strlen(json));
}

static void put_int(struct irc_jbuf *b, int64_t v)
{
	char d[24], *p = d + sizeof(d);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(b, p, (size_t)(d + sizeof(d) - p));
}

/*
 * A JSON string of @n bytes that need not be UTF-8 (comm, paths, argv are
 * bytes; a comm may end in half a character): bytes that are not UTF-8
 * become the text "\xNN".  Escaped as jansson escapes (no "\/").
 */
static void put_esc(struct irc_jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, l;

	if (irc_jb_reserve(b, 6 * n))
		return;
	for (i = 0; i < n; i += l ? l : 1) {
		unsigned char ch = (unsigned char)s[i];
		char *o = b->p + b->len;

		l = irc_utf8_len((const unsigned char *)s + i, n - i);
		if (!l) {
			memcpy(o, "\\\\x", 3);
			o[3] = hex[ch >> 4];
			o[4] = hex[ch & 15];
			b->len += 5;
		} else if (l > 1) {
			memcpy(o, s + i, l);
			b->len += l;
		} else if (ch == '"' || ch == '\\') {
			o[0] = '\\';
			o[1] = (char)ch;
			b->len += 2;
		} else if (ch >= 0x20) {
			o[0] = (char)ch;
			b->len++;
		} else {
			const char *e = ch == '\b' ? "\\b" : ch == '\f' ? "\\f" : ch == '\n' ? "\\n" :
					ch == '\r' ? "\\r" : ch == '\t' ? "\\t" : NULL;

			if (e) {
				memcpy(o, e, 2);
				b->len += 2;
			} else {
				memcpy(o, "\\u00", 4);
				o[4] = "0123456789ABCDEF"[ch >> 4];
				o[5] = "0123456789ABCDEF"[ch & 15];
				b->len += 6;
			}
		}
	}
}

static void put_str(struct irc_jbuf *b, const char *s, size_t n)
{
	PUT(b, "\"");
	put_esc(b, s, n);
	PUT(b, "\"");
}

static void put_cstr(struct irc_jbuf *b, const char *s)
{
	put_str(b, s, strlen(s));
}

/* A string of ours that needs no escaping (names, addresses, numbers). */
static void put_ascii(struct irc_jbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (irc_jb_reserve(b, n + 2))
		return;
	b->p[b->len] = '"';
	memcpy(b->p + b->len + 1, s, n);
	b->p[b->len + n + 1] = '"';
	b->len += n + 2;
}

/* ,"message":"..." */
static void message(struct irc_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(struct irc_jbuf *b, const char *fmt, ...)
{
	char m[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	PUT(b, ",\"message\":");
	put_str(b, m, n < 0 ? 0 : (size_t)n < sizeof(m) ? (size_t)n : sizeof(m) - 1);
}

/*
 * The ISO 8601 time of @real_ns.  The part up to the second is kept: a
 * storm's events fall in the same second, and gmtime+strftime would cost
 * more than the rest of the line.
 */
static void put_ts(struct irc_evctx *c, struct irc_jbuf *b, int64_t real_ns)
{
	int64_t sec = real_ns / 1000000000LL;
	char ms[8];

	if (!c->ts_ok || sec != c->ts_sec) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		c->ts_len = strftime(c->ts_base, sizeof(c->ts_base), "%Y-%m-%dT%H:%M:%S", &tm);
		c->ts_sec = sec;
		c->ts_ok = true;
	}
	if (real_ns >= 0) {
		int m = (int)(real_ns / 1000000 % 1000);

		memcpy(ms, ".000Z", 6);
		ms[1] = (char)('0' + m / 100);
		ms[2] = (char)('0' + m / 10 % 10);
		ms[3] = (char)('0' + m % 10);
	} else {
		snprintf(ms, sizeof(ms), ".%03dZ", (int)(real_ns / 1000000 % 1000));
	}
	PUT(b, "\"");
	put(b, c->ts_base, c->ts_len);
	put(b, ms, strlen(ms));
	PUT(b, "\"");
}

/* --- process.* ------------------------------------------------------------- */

/*
 * The members of process.* for @tgid at @depth, its parents to
 * IRC_ANCESTRY_MAX levels included, without the closing brace.
 */
static void process_inner(struct irc_evctx *c, struct irc_jbuf *b, int tgid, int depth)
{
	struct irc_pt_entry *e = irc_pt_get(c->pt, tgid);
	size_t i, l;

	PUT(b, "{\"pid\":");
	put_int(b, tgid);
	if (!e)
		return;
	PUT(b, ",\"entity_id\":");
	put_cstr(b, e->entity_id);
	if (e->comm[0]) {
		PUT(b, ",\"name\":");
		put_cstr(b, e->comm);
	}
	if (e->exe[0]) {
		PUT(b, ",\"executable\":");
		put_cstr(b, e->exe);
	}
	if (e->args_len) {
		PUT(b, ",\"args\":[");
		for (i = 0; i < e->args_len; i += l + 1) {
			l = strnlen(e->args + i, e->args_len - i);
			if (i)
				PUT(b, ",");
			put_str(b, e->args + i, l);
		}
		PUT(b, "]");
	}
	if (e->start_ticks) {
		PUT(b, ",\"start\":");
		put_ts(c, b, (int64_t)((uint64_t)c->boot_to_real_ns + e->start_ticks * c->tick_ns));
	}
	if (e->ppid > 0 && depth < IRC_ANCESTRY_MAX && e->ppid != tgid) {
		PUT(b, ",\"parent\":");
		process_inner(c, b, e->ppid, depth + 1);
		PUT(b, "}");
	}
}

/*
 * What process_inner() would write for @tgid at depth 0 depends on the
 * entries of its chain of parents and on their versions: this sums them.
 */
static uint64_t chain_sig(struct irc_evctx *c, int tgid)
{
	uint64_t sig = 0xcbf29ce484222325ULL;
	struct irc_pt_entry *e;
	int depth;

	for (depth = 0;; depth++) {
		e = irc_pt_get(c->pt, tgid);
		sig = (sig ^ (uint32_t)tgid) * 0x100000001b3ULL;
		sig = (sig ^ (e ? e->ver : 0)) * 0x100000001b3ULL;
		if (!e || e->ppid <= 0 || depth >= IRC_ANCESTRY_MAX || e->ppid == tgid)
			return sig;
		tgid = e->ppid;
	}
}

/*
 * process_inner() at depth 0, from the entry's cached text while nothing
 * in its chain changed: every event of a process carries the same
 * ancestry, and a storm's events come from a few processes.
 */
static void process_open(struct irc_evctx *c, struct irc_jbuf *b, int tgid)
{
	struct irc_pt_entry *e = irc_pt_get(c->pt, tgid);
	size_t start = b->len, n;
	uint64_t sig;
	char *p;

	if (!e) {
		process_inner(c, b, tgid, 0);
		return;
	}
	sig = chain_sig(c, tgid);
	if (e->frag && e->frag_sig == sig) {
		put(b, e->frag, e->frag_len);
		return;
	}
	process_inner(c, b, tgid, 0);
	n = b->len - start;
	if (b->oom || c->pt->frag_bytes - e->frag_len + n > IRC_PT_FRAG_BYTES)
		return;
	p = realloc(e->frag, n);
	if (!p)
		return;
	memcpy(p, b->p + start, n);
	c->pt->frag_bytes += n - e->frag_len;
	e->frag = p;
	e->frag_len = (uint32_t)n;
	e->frag_sig = sig;
}

/*
 * cgroup id -> path below the cgroup2 mount.  On cgroup2 an id is its
 * directory's inode number and names one cgroup for the whole boot (ids are
 * not reused, and cgroup2 has no rename), so a path is taken only from a
 * directory seen with that inode: the process's /proc/PID/cgroup line if
 * stat() proves it, else a walk of the tree.  /proc alone says where the
 * process is now: after a move, and the old cgroup's removal under churn,
 * that is another cgroup's path (often the parent's), never the record's.
 * A path that does not fit in the table is not cut (a cut path is another
 * cgroup's too).  Results, misses included, go to a small round-robin
 * cache: one walk per new cgroup, bounded memory.
 */
static uint64_t cg_want;
static size_t cg_mount_len;
static char cg_found[IRC_PT_CGROUP_LEN];

static int cg_walk(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path[cg_mount_len] ? path + cg_mount_len : "/";

	(void)ftw;
	if (type != FTW_D || st->st_ino != cg_want)
		return 0;
	if (snprintf(cg_found, sizeof(cg_found), "%s", rel) >= (int)sizeof(cg_found))
		cg_found[0] = '\0';
	return 1;
}

/* The path of cgroup @id ("" if it cannot be named) into @out; @pid is a hint. */
static void cg_resolve(struct irc_evctx *c, uint64_t id, int pid, char out[IRC_PT_CGROUP_LEN])
{
	const char *mnt = c->cgroup_mount;
	unsigned int i;
	int r;

	out[0] = '\0';
	if (!id || !mnt[0])
		return;
	for (i = 0; i < IRC_EV_CG_CACHE; i++)
		if (c->cg[i].id == id) {
			memcpy(out, c->cg[i].path, IRC_PT_CGROUP_LEN);
			return;
		}
	if (!irc_pt_proc_cgroup(c->proc_root, pid, cg_found, sizeof(cg_found)) &&
	    irc_cgroup_is(mnt, cg_found, id)) {
		r = 1;
	} else {
		cg_want = id;
		cg_mount_len = strlen(mnt);
		r = nftw(mnt, cg_walk, 16, FTW_PHYS);
		if (r != 1)
			cg_found[0] = '\0';
	}
	/* A walk cut short by an error proves no miss: not remembered. */
	if (r < 0)
		return;
	i = c->cg_next++ % IRC_EV_CG_CACHE;
	c->cg[i].id = id;
	memcpy(c->cg[i].path, cg_found, IRC_PT_CGROUP_LEN);
	memcpy(out, cg_found, IRC_PT_CGROUP_LEN);
}

/*
 * The table entry of the task in @h (NULL: none), its cgroup made the
 * record's: a process that moved since the table last looked gets the path
 * of the cgroup it was in when the record was written, or none.
 */
static struct irc_pt_entry *cg_entry(struct irc_evctx *c, const struct irc_ev_hdr *h)
{
	struct irc_pt_entry *e = irc_pt_get(c->pt, h->tgid);

	if (e && (e->cgroup_id != h->cgroup_id || !h->cgroup_id)) {
		e->cgroup_id = h->cgroup_id;
		cg_resolve(c, h->cgroup_id, e->tgid, e->cgroup);
	}
	return e;
}

/* ,"cgroup":"..." in ircontain.*, for the task in @h. */
static void put_cgroup(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_hdr *h)
{
	struct irc_pt_entry *e = cg_entry(c, h);

	if (e && e->cgroup[0]) {
		PUT(b, ",\"cgroup\":");
		put_cstr(b, e->cgroup);
	}
}

/*
 * ,"process":{...} (with @exit_code if not NULL), user.*, group.* and
 * container.* for the task in @h.
 */
static void add_process(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_hdr *h,
			const int *exit_code)
{
	struct irc_pt_entry *e;
	char cid[65];

	PUT(b, ",\"process\":");
	process_open(c, b, h->tgid);
	e = cg_entry(c, h);
	if (h->pid && h->pid != h->tgid) {
		PUT(b, ",\"thread\":{\"id\":");
		put_int(b, h->pid);
		PUT(b, "}");
	}
	if (!(e && e->comm[0]) && h->comm[0]) {
		PUT(b, ",\"name\":");
		put_str(b, h->comm, strnlen(h->comm, 16));
	}
	if (exit_code) {
		PUT(b, ",\"exit_code\":");
		put_int(b, *exit_code);
	}
	/* ECS keeps ids as strings. */
	PUT(b, "},\"user\":{\"id\":\"");
	put_int(b, h->uid);
	PUT(b, "\"},\"group\":{\"id\":\"");
	put_int(b, h->gid);
	PUT(b, "\"}");
	if (e && e->cgroup[0] && !irc_container_id(e->cgroup, cid)) {
		PUT(b, ",\"container\":{\"id\":");
		put_cstr(b, cid);
		PUT(b, "}");
	}
}

/*
 * The members every event starts with, up to ircontain.cgroup_id: the
 * ircontain object is left open for the caller's members.  @severity < 0:
 * none.
 */
static void base(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_hdr *h,
		 const char *kind, const char *action, const char *category, const char *type,
		 const char *outcome, int severity)
{
	int64_t t = (int64_t)((uint64_t)c->boot_to_real_ns + h->ts_ns);

	/* In unsigned arithmetic: a record's time is whatever the kernel wrote. */
	PUT(b, "{\"@timestamp\":");
	put_ts(c, b, t);
	PUT(b, ",\"datetime\":");
	put_ts(c, b, t);
	PUT(b, ",\"timestamp_desc\":\"Event Recorded\",\"event\":{\"kind\":");
	put_ascii(b, kind);
	PUT(b, ",\"category\":[");
	put_ascii(b, category);
	PUT(b, "],\"type\":[");
	put_ascii(b, type);
	PUT(b, "],\"action\":");
	put_ascii(b, action);
	PUT(b, ",\"outcome\":");
	put_ascii(b, outcome);
	PUT(b, ",\"sequence\":");
	put_int(b, (int64_t)h->seq);
	PUT(b, ",\"module\":\"ircontain\"");
	if (severity >= 0) {
		PUT(b, ",\"severity\":");
		put_int(b, severity);
	}
	PUT(b, "},\"host\":{\"hostname\":");
	put_cstr(b, c->hostname);
	PUT(b, ",\"id\":");
	put_cstr(b, c->host_id);
	PUT(b, "},\"ircontain\":{\"cpu\":");
	put_int(b, h->cpu);
	PUT(b, ",\"cgroup_id\":");
	put_int(b, (int64_t)h->cgroup_id);
}

static void addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	char *o = buf;
	int i;

	/* IPv4 by hand: inet_ntop's sprintf was a tenth of an event's cost. */
	if (family == 4 && len >= INET_ADDRSTRLEN) {
		for (i = 0; i < 4; i++) {
			if (a[i] >= 100)
				*o++ = (char)('0' + a[i] / 100);
			if (a[i] >= 10)
				*o++ = (char)('0' + a[i] / 10 % 10);
			*o++ = (char)('0' + a[i] % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, len))
		snprintf(buf, len, "?");
}

/* ,"@key":{"ip":"..."[,"port":N]}; a port < 0 leaves the object open. */
static void endpoint(struct irc_jbuf *b, const char *key, int family, const uint8_t *a, int port)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char ip[INET6_ADDRSTRLEN];

	/* A dual-stack socket's IPv4 peer is an IPv4 address. */
	if (family == 6 && !memcmp(a, v4mapped, 12)) {
		family = 4;
		a += 12;
	}
	addr_str(family, a, ip, sizeof(ip));
	PUT(b, ",");
	put_ascii(b, key);
	PUT(b, ":{\"ip\":");
	put_ascii(b, ip);
	if (port > 0) {
		PUT(b, ",\"port\":");
		put_int(b, port);
	}
	if (port >= 0)
		PUT(b, "}");
}

static uint64_t ticks(struct irc_evctx *c, uint64_t ns)
{
	return ns / c->tick_ns;
}

static void ev_exec(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_exec *ev)
{
	struct irc_pt_entry *e = irc_pt_put(c->pt, ev->h.tgid, ticks(c, ev->h.start_ns));
	size_t n;

	e->ppid = ev->h.ppid;
	e->uid = ev->h.uid;
	memcpy(e->comm, ev->h.comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = '\0';
	snprintf(e->exe, sizeof(e->exe), "%.*s", (int)strnlen(ev->filename, sizeof(ev->filename)),
		 ev->filename);
	n = ev->args_len < sizeof(e->args) ? ev->args_len : sizeof(e->args);
	memcpy(e->args, ev->args, n);
	e->args_len = n;
	/*
	 * The cgroup path from the cgroup id in the record: right even when
	 * the process has moved or exited by the time the daemon reads it.
	 * Looked up again if it could not be named (the cache answers a miss).
	 */
	if (!e->cgroup[0])
		e->cgroup_id = 0;
	base(c, b, &ev->h, "event", "exec", "process", "start", "success", -1);
	put_cgroup(c, b, &ev->h);
	if (ev->args_trunc)
		PUT(b, ",\"args_truncated\":true");
	PUT(b, "}");
	add_process(c, b, &ev->h, NULL);
	message(b, "%s executed %s (pid %u, ppid %u, uid %u)", e->comm, e->exe,
		ev->h.tgid, ev->h.ppid, ev->h.uid);
}

static void ev_fork(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_fork *ev)
{
	struct irc_pt_entry *child = irc_pt_put(c->pt, ev->child_tgid,
						ticks(c, ev->child_start_ns));
	/* After the put: it may have moved entries around. */
	struct irc_pt_entry *parent = irc_pt_get(c->pt, ev->h.tgid);
	struct irc_ev_hdr h = ev->h;

	/* The child starts as a copy of its parent's image. */
	if (parent) {
		memcpy(child->exe, parent->exe, sizeof(child->exe));
		memcpy(child->args, parent->args, sizeof(child->args));
		child->args_len = parent->args_len;
		memcpy(child->cgroup, parent->cgroup, sizeof(child->cgroup));
		child->cgroup_id = parent->cgroup_id;
	}
	memcpy(child->comm, ev->h.comm, sizeof(child->comm));
	child->comm[sizeof(child->comm) - 1] = '\0';
	child->ppid = ev->h.tgid;
	child->uid = ev->h.uid;
	h.tgid = h.pid = ev->child_tgid;
	base(c, b, &h, "event", "fork", "process", "start", "success", -1);
	put_cgroup(c, b, &h);
	if (ev->inherited)
		PUT(b, ",\"quarantine_inherited\":true");
	PUT(b, "}");
	add_process(c, b, &h, NULL);
	message(b, "pid %u forked pid %u%s", ev->h.tgid, ev->child_tgid,
		ev->inherited ? " (inherits its quarantine)" : "");
}

static void ev_exit(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_exit *ev)
{
	int code = ev->exit_code;
	/* wait(2) status: exit code in bits 8-15, or the signal in 0-6. */
	int exit_code = code & 0x7f ? 128 + (code & 0x7f) : (code >> 8) & 0xff;

	base(c, b, &ev->h, "event", "exit", "process", "end", "success", -1);
	put_cgroup(c, b, &ev->h);
	if (code & 0x7f) {
		PUT(b, ",\"signal\":");
		put_int(b, code & 0x7f);
	}
	PUT(b, "}");
	add_process(c, b, &ev->h, &exit_code);
	/* In words: "status 0x9" read as exit code 9 beside exit_code 137. */
	if (code & 0x7f)
		message(b, "pid %u (%.16s) was killed by signal %d (SIG%s)%s", ev->h.tgid,
			ev->h.comm, code & 0x7f, sigabbrev_np(code & 0x7f) ?: "?",
			code & 0x80 ? ", core dumped" : "");
	else
		message(b, "pid %u (%.16s) exited with code %d", ev->h.tgid, ev->h.comm,
			(code >> 8) & 0xff);
	irc_pt_exit(c->pt, ev->h.tgid);
}

static void ev_conn(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_conn *ev_in,
		    bool accept)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct irc_ev_conn norm = *ev_in;
	const struct irc_ev_conn *ev = &norm;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	/* A dual-stack socket talking IPv4: say IPv4, as the connect side does. */
	if (norm.family == 6 && !memcmp(norm.saddr, v4mapped, 12) &&
	    !memcmp(norm.daddr, v4mapped, 12)) {
		norm.family = 4;
		memmove(norm.saddr, norm.saddr + 12, 4);
		memmove(norm.daddr, norm.daddr + 12, 4);
	}
	base(c, b, &ev->h, "event", accept ? "accept" : "connect", "network", "connection",
	     ev->established ? "success" : "failure", -1);
	put_cgroup(c, b, &ev->h);
	PUT(b, "}");
	add_process(c, b, &ev->h, NULL);
	/* source is who opened the connection. */
	if (accept) {
		endpoint(b, "source", ev->family, ev->daddr, ev->dport);
		endpoint(b, "destination", ev->family, ev->saddr, ev->sport);
	} else {
		endpoint(b, "source", ev->family, ev->saddr, ev->sport);
		endpoint(b, "destination", ev->family, ev->daddr, ev->dport);
	}
	if (ev->family == 4)
		PUT(b, ",\"network\":{\"transport\":\"tcp\",\"type\":\"ipv4\",\"direction\":");
	else
		PUT(b, ",\"network\":{\"transport\":\"tcp\",\"type\":\"ipv6\",\"direction\":");
	if (accept)
		PUT(b, "\"ingress\"}");
	else
		PUT(b, "\"egress\"}");
	addr_str(ev->family, ev->saddr, s, sizeof(s));
	addr_str(ev->family, ev->daddr, d, sizeof(d));
	/*
	 * "%.16s (pid %u) connected from %s:%u to %s:%u", by hand: printf was
	 * a fifth of an event's cost.  A refused connect has lost its source
	 * port by the time it is seen.
	 */
	PUT(b, ",\"message\":\"");
	put_esc(b, ev->h.comm, strnlen(ev->h.comm, sizeof(ev->h.comm)));
	PUT(b, " (pid ");
	put_int(b, ev->h.tgid);
	put_raw(b, accept ? ") accepted on " : ") connected from ");
	put_raw(b, s);
	if (ev->sport) {
		PUT(b, ":");
		put_int(b, ev->sport);
	}
	put_raw(b, accept ? " from " : " to ");
	put_raw(b, d);
	PUT(b, ":");
	put_int(b, ev->dport);
	put_raw(b, ev->established ? "\"" : " (failed)\"");
}

static const char *rule_name(unsigned int r)
{
	switch (r) {
	case IRC_RULE_QUARANTINE: return "host-quarantine";
	case IRC_RULE_ISOLATE: return "isolation";
	case IRC_RULE_MALFORMED: return "malformed-while-isolated";
	case IRC_RULE_PROCESS: return "process-quarantine";
	default: return "unknown";
	}
}

/* A sampled packet's addresses and ports, as read from its headers. */
struct sample_ends {
	int fam;			/* 4, 6, or 0: not understood */
	const uint8_t *src, *dst;
	unsigned int proto;
	int sport, dport;		/* -1: not known */
};

/* cap_len is not trusted past the buffer. */
static void sample_parse(const struct irc_ev_drop *ev, struct sample_ends *s)
{
	const uint8_t *p = ev->data,
		      *end = ev->data + (ev->cap_len < IRC_SAMPLE_LEN ? ev->cap_len : IRC_SAMPLE_LEN);
	unsigned int hl = 0, fam = 0;
	uint16_t et;

	memset(s, 0, sizeof(*s));
	s->sport = s->dport = -1;
	if (ev->linktype == IRC_LINK_ETHERNET) {
		if (end - p < 14)
			return;
		et = p[12] << 8 | p[13];
		p += 14;
		while ((et == 0x8100 || et == 0x88a8) && end - p >= 4) {
			et = p[2] << 8 | p[3];
			p += 4;
		}
		fam = et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
	} else if (end - p >= 1) {
		fam = p[0] >> 4;
	}
	if (fam == 4 && end - p >= 20) {
		hl = (p[0] & 15) * 4;
		s->proto = p[9];
		s->src = p + 12;
		s->dst = p + 16;
	} else if (fam == 6 && end - p >= 40) {
		hl = 40;
		s->proto = p[6];
		s->src = p + 8;
		s->dst = p + 24;
	} else {
		return;
	}
	s->fam = (int)fam;
	if ((s->proto == 6 || s->proto == 17) && end - p >= (long)hl + 4) {
		s->sport = p[hl] << 8 | p[hl + 1];
		s->dport = p[hl + 2] << 8 | p[hl + 3];
	}
}

/* source.*, destination.* and network.* of a sampled packet. */
static void sample_endpoints(struct irc_jbuf *b, const struct sample_ends *s)
{
	endpoint(b, "source", s->fam, s->src, -1);
	if (s->sport >= 0) {
		PUT(b, ",\"port\":");
		put_int(b, s->sport);
	}
	PUT(b, "}");
	endpoint(b, "destination", s->fam, s->dst, -1);
	if (s->dport >= 0) {
		PUT(b, ",\"port\":");
		put_int(b, s->dport);
	}
	put_raw(b, s->fam == 4 ? "},\"network\":{\"type\":\"ipv4\",\"iana_number\":" :
			     "},\"network\":{\"type\":\"ipv6\",\"iana_number\":");
	put_int(b, s->proto);
	PUT(b, "}");
}

static void ev_drop(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_drop *ev)
{
	char b64[4 * ((IRC_SAMPLE_LEN + 2) / 3) + 1], ifname[IF_NAMESIZE] = "";
	char rule[64] = "";
	struct sample_ends s;
	int fam;

	sample_parse(ev, &s);
	fam = s.fam;
	base(c, b, &ev->h, "event", "packet_dropped", "network", "denied", "success", -1);
	if (ev->rule == IRC_RULE_QUARANTINE) {
		/* The packet's family; else guess (an IPv6 /32 can end in zeros). */
		if (!fam)
			fam = ev->rule_plen <= 32 &&
			      !memcmp(ev->rule_addr + 4, (uint8_t[12]){ 0 }, 12) ? 4 : 6;
		addr_str(fam, ev->rule_addr, rule, sizeof(rule));
		PUT(b, ",\"rule_target\":");
		put_cstr(b, rule);
	}
	irc_b64(ev->data, ev->cap_len < IRC_SAMPLE_LEN ? ev->cap_len : IRC_SAMPLE_LEN,
		b64, sizeof(b64));
	PUT(b, ",\"sample\":{\"base64\":");
	put_cstr(b, b64);
	PUT(b, ",\"captured\":");
	put_int(b, (int)ev->cap_len);
	PUT(b, ",\"length\":");
	put_int(b, (int)ev->pkt_len);
	PUT(b, ",\"linktype\":");
	put_int(b, (int)ev->linktype);
	PUT(b, "},\"direction\":");
	put_raw(b, ev->dir == IRC_DIR_IN ? "\"in\"}" : "\"out\"}");
	if (s.fam)
		sample_endpoints(b, &s);
	PUT(b, ",\"rule\":{\"name\":");
	put_cstr(b, rule_name(ev->rule));
	PUT(b, "}");
	/* Whose socket it was: the packet path runs in no process's context. */
	if (ev->rule == IRC_RULE_PROCESS && ev->rule_tgid) {
		PUT(b, ",\"process\":");
		process_inner(c, b, (int)ev->rule_tgid, 0);
		PUT(b, "}");
	}
	if (ev->ifindex && if_indextoname(ev->ifindex, ifname)) {
		put_raw(b, ev->dir == IRC_DIR_IN ? ",\"observer\":{\"ingress\":{\"interface\":{\"name\":" :
					       ",\"observer\":{\"egress\":{\"interface\":{\"name\":");
		put_cstr(b, ifname);
		PUT(b, "}}}");
	}
	message(b, "dropped a %u-byte packet (%s%s%s, %s)", ev->pkt_len, rule_name(ev->rule),
		rule[0] ? " " : "", rule, ev->dir == IRC_DIR_IN ? "inbound" : "outbound");
}

static void ev_deny(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_deny *ev)
{
	static const char *const hooks[] = { "?", "socket", "connect", "sendmsg", "bind" };
	const char *hook = ev->hook < 5 ? hooks[ev->hook] : "?";

	base(c, b, &ev->h, "event", "network_denied", "network", "denied", "success", -1);
	put_cgroup(c, b, &ev->h);
	PUT(b, ",\"hook\":");
	put_cstr(b, hook);
	PUT(b, ",\"quarantine_root\":");
	if (ev->root)
		put_int(b, ev->root);
	else
		PUT(b, "null");
	PUT(b, "}");
	add_process(c, b, &ev->h, NULL);
	if (ev->family)
		endpoint(b, "destination", ev->family, ev->daddr, ev->dport);
	put_raw(b, ev->root ? ",\"rule\":{\"name\":\"process-quarantine\"}" :
			  ",\"rule\":{\"name\":\"cgroup-quarantine\"}");
	message(b, "refused %s() to quarantined %.16s (pid %u)", hook, ev->h.comm, ev->h.tgid);
}

/* "monitor mode, would " or "" for an alert-only finding. */
static const char *cfg_mode_word(const struct irc_ev_finding *ev)
{
	return ev->action == IRC_ACT_ALERT ? "" : "not enforced (monitor mode?), would ";
}

static const char *const trust_names[] = {
	[IRC_SRC_UNVERIFIED] = "unverified", [IRC_SRC_VERIFIED] = "verified",
	[IRC_SRC_PROTECTED] = "protected", [IRC_SRC_TARGET] = "destination",
};
static const char *const hold_names[] = {
	[IRC_HOLD_NONE] = NULL, [IRC_HOLD_MONITOR] = "monitor mode",
	[IRC_HOLD_PROTECTED] = "protected source",
	[IRC_HOLD_UNVERIFIED] = "unverified source",
	[IRC_HOLD_BUDGET] = "unverified quarantine rate exceeded",
	[IRC_HOLD_EXISTS] = "an entry exists",
	[IRC_HOLD_NOCTL] = "no controller running: killed at once, no snapshot",
};
#define NHOLD	(sizeof(hold_names) / sizeof(hold_names[0]))

/*
 * A network finding: who the source is to us (verified by a handshake,
 * unverified, protected), and if nothing was done, why not.  Goes on
 * inside ircontain.finding and closes it and ircontain.
 */
static void net_finding(struct irc_jbuf *b, const struct irc_ev_finding *ev)
{
	const char *trust = ev->trust < 4 ? trust_names[ev->trust] : "unknown";
	const char *hold = ev->hold < NHOLD ? hold_names[ev->hold] : "unknown";
	char prot[96];

	PUT(b, ",\"source_trust\":");
	put_cstr(b, trust);
	PUT(b, ",\"held\":");
	if (hold)
		put_cstr(b, hold);
	else
		PUT(b, "null");
	if (ev->detector == IRC_DET_PORTSCAN)
		put_raw(b, ev->slow ? ",\"slow\":true" : ",\"slow\":false");
	if (ev->trust == IRC_SRC_PROTECTED) {
		PUT(b, ",\"protected\":");
		put_cstr(b, irc_protect_words(ev->protect, prot, sizeof(prot)));
	}
	PUT(b, "}}");
}

/* ... and what was done, in words. */
static void net_finding_message(struct irc_jbuf *b, const struct irc_ev_finding *ev,
				const char *det, const char *ip)
{
	const char *trust = ev->trust < 4 ? trust_names[ev->trust] : "unknown";
	const char *hold = ev->hold < NHOLD ? hold_names[ev->hold] : "unknown";
	unsigned long long win = ev->window_ns / 1000000000ULL,
			   ttl = ev->ttl_ns / 1000000000ULL;
	char prot[96] = "";

	if (ev->trust == IRC_SRC_PROTECTED)
		irc_protect_words(ev->protect, prot, sizeof(prot));
	if (ev->trust == IRC_SRC_TARGET)
		message(b, "%s to %s (%u SYNs in %llus, any source): alert only; no source is quarantined for it, the kernel's SYN cookies (net.ipv4.tcp_syncookies) answer it",
			det, ip, ev->count, win);
	else if (ev->enforced && ev->trust == IRC_SRC_VERIFIED)
		message(b, "%s%s from %s (verified, %u in %llus): quarantined by the kernel for %llus (offence %u)",
			ev->slow ? "slow " : "", det, ip, ev->count, win, ttl, ev->offences);
	else if (ev->enforced)
		message(b, "%s%s from %s (%s, %u in %llus): quarantined by the kernel for %llus, inbound only, never escalated",
			ev->slow ? "slow " : "", det, ip, trust, ev->count, win, ttl);
	else if (ev->action == IRC_ACT_ALERT)
		message(b, "%s%s from %s (%s, %u in %llus): alert only",
			ev->slow ? "slow " : "", det, ip, trust, ev->count, win);
	else
		message(b, "%s%s from %s (%s%s%s, %u in %llus): not acted on (%s), would %s",
			ev->slow ? "slow " : "", det, ip, trust,
			ev->trust == IRC_SRC_PROTECTED ? ": " : "",
			ev->trust == IRC_SRC_PROTECTED ? prot : "", ev->count, win,
			hold ?: "?", irc_action_name(ev->action));
}

/* A detector fired: an alert, with what it saw and what it did. */
static void ev_finding(struct irc_evctx *c, struct irc_jbuf *b, const struct irc_ev_finding *ev)
{
	static const int ecs_sev[] = { 0, 21, 47, 73, 99 };
	const char *det = irc_detector_name(ev->detector);
	bool ctk = !ev->family && ev->action == IRC_ACT_CONTAIN_KILL && ev->enforced;
	char action[48], ip[INET6_ADDRSTRLEN];

	snprintf(action, sizeof(action), "%s_detected", det);
	/* An alert-only finding did all it was asked to. */
	base(c, b, &ev->h, "alert", action, "intrusion_detection", "info",
	     ev->enforced || ev->action == IRC_ACT_ALERT ? "success" : "unknown",
	     ecs_sev[ev->severity <= 4 ? ev->severity : 0]);
	if (!ev->family)
		put_cgroup(c, b, &ev->h);
	PUT(b, ",\"finding\":{\"detector\":");
	put_cstr(b, det);
	PUT(b, ",\"severity\":");
	put_cstr(b, irc_severity_name(ev->severity));
	PUT(b, ",\"action\":");
	put_cstr(b, irc_action_name(ev->action));
	put_raw(b, ev->enforced ? ",\"enforced\":true,\"count\":" : ",\"enforced\":false,\"count\":");
	put_int(b, (int)ev->count);
	PUT(b, ",\"window_s\":");
	put_int(b, (int64_t)(ev->window_ns / 1000000000ULL));
	PUT(b, ",\"ttl_s\":");
	put_int(b, (int64_t)(ev->ttl_ns / 1000000000ULL));
	PUT(b, ",\"offences\":");
	put_int(b, (int)ev->offences);
	if (ev->target_pid) {
		PUT(b, ",\"target_pid\":");
		put_int(b, (int)ev->target_pid);
	}
	if (ev->family) {
		addr_str(ev->family, ev->addr, ip, sizeof(ip));
		net_finding(b, ev);
		/* A flood counted by destination: the address is ours. */
		endpoint(b, ev->trust == IRC_SRC_TARGET ? "destination" : "source",
			 ev->family, ev->addr, 0);
	} else {
		/* Contain-then-kill: whether a snapshot is coming. */
		if (ctk && ev->hold == IRC_HOLD_NOCTL) {
			PUT(b, ",\"held\":");
			put_cstr(b, hold_names[IRC_HOLD_NOCTL]);
		} else if (ctk) {
			PUT(b, ",\"held\":null");
		}
		PUT(b, "}}");
		/* A host detector: the process is the subject. */
		add_process(c, b, &ev->h, NULL);
		snprintf(ip, sizeof(ip), "pid %u", ev->h.tgid);
		if (ev->path[0]) {
			PUT(b, ",\"file\":{\"path\":");
			put_str(b, ev->path, strnlen(ev->path, sizeof(ev->path)));
			PUT(b, "}");
		}
	}
	PUT(b, ",\"rule\":{\"name\":");
	put_cstr(b, det);
	PUT(b, "}");
	if (ev->family)
		net_finding_message(b, ev, det, ip);
	else if (ctk)
		message(b, "%s: %.16s (pid %u)%s%.64s: %s", det, ev->h.comm, ev->h.tgid,
			ev->path[0] ? " " : "", ev->path, ev->hold == IRC_HOLD_NOCTL ?
			"contain-then-kill: no controller running, killed by the kernel at once (no snapshot)" :
			"contain-then-kill: stopped and cut off by the kernel; the controller snapshots, then kills it");
	else
		message(b, "%s: %.16s (pid %u)%s%.64s: %s%s", det, ev->h.comm, ev->h.tgid,
			ev->path[0] ? " " : "", ev->path,
			ev->enforced ? "done: " : cfg_mode_word(ev), irc_action_name(ev->action));
}

int irc_ev_line(struct irc_evctx *c, const void *rec, size_t len, struct irc_jbuf *b)
{
	const struct irc_ev_hdr *h = rec;
	size_t start = b->len;

	if (len < sizeof(*h) || h->size > len)
		return -EINVAL;
#define NEED(T) if (len < sizeof(T)) return -EINVAL
	switch (h->type) {
	case IRC_EV_EXEC: NEED(struct irc_ev_exec); ev_exec(c, b, rec); break;
	case IRC_EV_FORK: NEED(struct irc_ev_fork); ev_fork(c, b, rec); break;
	case IRC_EV_EXIT: NEED(struct irc_ev_exit); ev_exit(c, b, rec); break;
	case IRC_EV_CONNECT: NEED(struct irc_ev_conn); ev_conn(c, b, rec, false); break;
	case IRC_EV_ACCEPT: NEED(struct irc_ev_conn); ev_conn(c, b, rec, true); break;
	case IRC_EV_DROP: NEED(struct irc_ev_drop); ev_drop(c, b, rec); break;
	case IRC_EV_DENY: NEED(struct irc_ev_deny); ev_deny(c, b, rec); break;
	case IRC_EV_FINDING: NEED(struct irc_ev_finding); ev_finding(c, b, rec); break;
	default: return -EINVAL;
	}
#undef NEED
	PUT(b, "}");
	if (b->oom) {
		b->len = start;
		return -ENOMEM;
	}
	return 0;
}

int irc_gap_line(struct irc_evctx *c, unsigned int cpu, uint64_t after_seq, uint64_t missing,
		 bool findings, struct irc_jbuf *b)
{
	struct irc_ev_hdr h = { .cpu = cpu, .seq = after_seq + missing + 1,
				.ts_ns = irc_now_boot_ns() };
	size_t start = b->len;

	base(c, b, &h, "event", "events_lost", "host", "info", "failure", -1);
	PUT(b, ",\"gap\":{\"cpu\":");
	put_int(b, cpu);
	PUT(b, ",\"after_sequence\":");
	put_int(b, (int64_t)after_seq);
	PUT(b, ",\"missing\":");
	put_int(b, (int64_t)missing);
	if (findings) {
		PUT(b, ",\"ring\":\"findings\"}}");
		message(b, "%llu finding record(s) lost on CPU %u after finding sequence %llu "
			"(findings ring full)", (unsigned long long)missing, cpu,
			(unsigned long long)after_seq);
	} else {
		PUT(b, ",\"ring\":\"events\"}}");
		message(b, "%llu event record(s) lost on CPU %u after sequence %llu "
			"(ring buffer full)", (unsigned long long)missing, cpu,
			(unsigned long long)after_seq);
	}
	PUT(b, "}");
	if (b->oom) {
		b->len = start;
		return -ENOMEM;
	}
	return 0;
}

/* One line parsed back: for the callers that want an object. */
static json_t *line_json(struct irc_jbuf *b, int err)
{
	json_t *o = err ? NULL : json_loadb(b->p, b->len, 0, NULL);

	irc_jb_free(b);
	return o;
}

json_t *irc_ev_json(struct irc_evctx *c, const void *rec, size_t len)
{
	struct irc_jbuf b = { 0 };

	return line_json(&b, irc_ev_line(c, rec, len, &b));
}

json_t *irc_gap_json(struct irc_evctx *c, unsigned int cpu, uint64_t after_seq,
		     uint64_t missing, bool findings)
{
	struct irc_jbuf b = { 0 };

	return line_json(&b, irc_gap_line(c, cpu, after_seq, missing, findings, &b));
}
