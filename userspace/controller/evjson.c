// SPDX-License-Identifier: GPL-2.0-only
/* Event records to ECS JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <net/if.h>
#include <signal.h>
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

/*
 * A JSON string of @n bytes that need not be UTF-8 (comm, paths, argv are
 * bytes; a comm may end in half a character): bytes that are not UTF-8
 * become "\xNN", where jansson would refuse the whole string.
 */
static json_t *text(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *buf, *o;
	size_t i, l;

	if (j || !(buf = malloc(4 * n + 1)))
		return j;
	for (i = 0, o = buf; i < n; i += l ? l : 1) {
		l = irc_utf8_len((const unsigned char *)s + i, n - i);
		if (l) {
			memcpy(o, s + i, l);
			o += l;
		} else {
			o += sprintf(o, "\\x%02x", (unsigned char)s[i]);
		}
	}
	j = json_stringn(buf, (size_t)(o - buf));
	free(buf);
	return j;
}

/* argv as a JSON array from NUL-separated bytes. */
static json_t *args_json(const char *a, size_t n)
{
	json_t *arr = json_array();
	size_t i = 0;

	while (i < n) {
		size_t l = strnlen(a + i, n - i);

		json_array_append_new(arr, text(a + i, l));
		i += l + 1;
	}
	return arr;
}

/* process.* (and its parents, to IRC_ANCESTRY_MAX levels) of @tgid. */
static json_t *process_json(struct irc_evctx *c, int tgid, int depth)
{
	struct irc_pt_entry *e = irc_pt_get(c->pt, tgid);
	json_t *o = json_pack("{s:i}", "pid", tgid);

	if (!e)
		return o;
	json_object_set_new(o, "entity_id", json_string(e->entity_id));
	if (e->comm[0])
		json_object_set_new(o, "name", text(e->comm, strlen(e->comm)));
	if (e->exe[0])
		json_object_set_new(o, "executable", text(e->exe, strlen(e->exe)));
	if (e->args_len)
		json_object_set_new(o, "args", args_json(e->args, e->args_len));
	if (e->start_ticks) {
		char ts[40];

		irc_fmt_ts((int64_t)((uint64_t)c->boot_to_real_ns + e->start_ticks * c->tick_ns),
			   ts, sizeof(ts));
		json_object_set_new(o, "start", json_string(ts));
	}
	if (e->ppid > 0 && depth < IRC_ANCESTRY_MAX && e->ppid != tgid)
		json_object_set_new(o, "parent", process_json(c, e->ppid, depth + 1));
	return o;
}

static json_t *base(struct irc_evctx *c, const struct irc_ev_hdr *h,
		    const char *action, const char *category, const char *type,
		    const char *outcome)
{
	char ts[40];

	/* In unsigned arithmetic: a record's time is whatever the kernel wrote. */
	irc_fmt_ts((int64_t)((uint64_t)c->boot_to_real_ns + h->ts_ns), ts, sizeof(ts));
	return json_pack("{s:s,s:s,s:s,s:{s:s,s:[s],s:[s],s:s,s:s,s:I,s:s},s:{s:s,s:s},s:{s:i,s:I}}",
		"@timestamp", ts, "datetime", ts, "timestamp_desc", "Event Recorded",
		"event", "kind", "event", "category", category, "type", type,
		"action", action, "outcome", outcome, "sequence", (json_int_t)h->seq,
		"module", "ircontain",
		"host", "hostname", c->hostname, "id", c->host_id,
		"ircontain", "cpu", h->cpu, "cgroup_id", (json_int_t)h->cgroup_id);
}

/* Adds process.* and user.* for the task in @h, and container/cgroup. */
static void add_process(struct irc_evctx *c, json_t *o, const struct irc_ev_hdr *h)
{
	json_t *p = process_json(c, h->tgid, 0);
	struct irc_pt_entry *e = irc_pt_get(c->pt, h->tgid);
	char cid[65];

	if (h->pid && h->pid != h->tgid)
		json_object_set_new(p, "thread", json_pack("{s:i}", "id", h->pid));
	if (!json_object_get(p, "name") && h->comm[0])
		json_object_set_new(p, "name", text(h->comm, strnlen(h->comm, 16)));
	json_object_set_new(o, "process", p);
	/* ECS keeps ids as strings. */
	json_object_set_new(o, "user", json_pack("{s:o}", "id", json_sprintf("%u", h->uid)));
	json_object_set_new(o, "group", json_pack("{s:o}", "id", json_sprintf("%u", h->gid)));
	if (e && e->cgroup[0]) {
		json_object_set_new(json_object_get(o, "ircontain"), "cgroup",
				    text(e->cgroup, strlen(e->cgroup)));
		if (!irc_container_id(e->cgroup, cid))
			json_object_set_new(o, "container", json_pack("{s:s}", "id", cid));
	}
}

static void addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, len))
		snprintf(buf, len, "?");
}

static void endpoint(json_t *o, const char *key, int family, const uint8_t *a,
		     unsigned int port)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char ip[INET6_ADDRSTRLEN];

	/* A dual-stack socket's IPv4 peer is an IPv4 address. */
	if (family == 6 && !memcmp(a, v4mapped, 12)) {
		family = 4;
		a += 12;
	}

	addr_str(family, a, ip, sizeof(ip));
	json_object_set_new(o, key, port ? json_pack("{s:s,s:i}", "ip", ip, "port", port) :
					   json_pack("{s:s}", "ip", ip));
}

static void message(json_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(json_t *o, const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	json_object_set_new(o, "message", text(m, strlen(m)));
}

static uint64_t ticks(struct irc_evctx *c, uint64_t ns)
{
	return ns / c->tick_ns;
}

/*
 * cgroup id -> path below the cgroup2 mount.  On cgroup2 a cgroup's id is
 * its directory's inode number; a miss walks the tree once, hits come from
 * a small round-robin cache (bounded memory, one walk per new cgroup).
 */
#define CG_CACHE	128

static struct {
	uint64_t id;
	char path[IRC_PT_CGROUP_LEN];
} cg_cache[CG_CACHE];
static unsigned int cg_next;
static uint64_t cg_want;
static size_t cg_mount_len;
static char cg_found[IRC_PT_CGROUP_LEN];

static int cg_walk(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D || st->st_ino != cg_want)
		return 0;
	snprintf(cg_found, sizeof(cg_found), "%s", path[cg_mount_len] ? path + cg_mount_len : "/");
	return 1;
}

/*
 * The path of cgroup @id under @mnt ("" : not looked up).  A miss is
 * remembered too (an empty path): a short-lived scope that is gone must
 * not cost a walk of the whole tree on every exec.
 */
static int cgroup_path_of_id(const char *mnt, uint64_t id, char *out, size_t len)
{
	unsigned int i;

	if (!id || !mnt[0])
		return -ENOENT;
	for (i = 0; i < CG_CACHE; i++)
		if (cg_cache[i].id == id) {
			snprintf(out, len, "%s", cg_cache[i].path);
			return cg_cache[i].path[0] ? 0 : -ENOENT;
		}
	cg_want = id;
	cg_mount_len = strlen(mnt);
	if (nftw(mnt, cg_walk, 16, FTW_PHYS) != 1)
		cg_found[0] = '\0';
	i = cg_next++ % CG_CACHE;
	cg_cache[i].id = id;
	snprintf(cg_cache[i].path, sizeof(cg_cache[i].path), "%s", cg_found);
	snprintf(out, len, "%s", cg_found);
	return cg_found[0] ? 0 : -ENOENT;
}

static json_t *ev_exec(struct irc_evctx *c, const struct irc_ev_exec *ev)
{
	struct irc_pt_entry *e = irc_pt_put(c->pt, ev->h.tgid, ticks(c, ev->h.start_ns));
	json_t *o;
	size_t n;

	bool moved = e->cgroup_id != ev->h.cgroup_id;

	e->ppid = ev->h.ppid;
	e->uid = ev->h.uid;
	e->cgroup_id = ev->h.cgroup_id;
	memcpy(e->comm, ev->h.comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = '\0';
	snprintf(e->exe, sizeof(e->exe), "%.*s", (int)strnlen(ev->filename, sizeof(ev->filename)),
		 ev->filename);
	n = ev->args_len < sizeof(e->args) ? ev->args_len : sizeof(e->args);
	memcpy(e->args, ev->args, n);
	e->args_len = n;
	/*
	 * The cgroup path from the cgroup id in the record: right even when
	 * the process has exited by the time the daemon reads the event.
	 * /proc is the fallback for a cgroup gone meanwhile.
	 */
	if ((!e->cgroup[0] || moved) &&
	    cgroup_path_of_id(c->cgroup_mount, ev->h.cgroup_id, e->cgroup, sizeof(e->cgroup)))
		irc_pt_read_cgroup(e, c->proc_root);
	o = base(c, &ev->h, "exec", "process", "start", "success");
	add_process(c, o, &ev->h);
	if (ev->args_trunc)
		json_object_set_new(json_object_get(o, "ircontain"), "args_truncated", json_true());
	message(o, "%s executed %s (pid %u, ppid %u, uid %u)", e->comm, e->exe,
		ev->h.tgid, ev->h.ppid, ev->h.uid);
	return o;
}

static json_t *ev_fork(struct irc_evctx *c, const struct irc_ev_fork *ev)
{
	struct irc_pt_entry *child = irc_pt_put(c->pt, ev->child_tgid,
						ticks(c, ev->child_start_ns));
	/* After the put: it may have moved entries around. */
	struct irc_pt_entry *parent = irc_pt_get(c->pt, ev->h.tgid);
	struct irc_ev_hdr h = ev->h;
	json_t *o;

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
	o = base(c, &h, "fork", "process", "start", "success");
	add_process(c, o, &h);
	if (ev->inherited)
		json_object_set_new(json_object_get(o, "ircontain"), "quarantine_inherited",
				    json_true());
	message(o, "pid %u forked pid %u%s", ev->h.tgid, ev->child_tgid,
		ev->inherited ? " (inherits its quarantine)" : "");
	return o;
}

static json_t *ev_exit(struct irc_evctx *c, const struct irc_ev_exit *ev)
{
	json_t *o = base(c, &ev->h, "exit", "process", "end", "success");
	int code = ev->exit_code;

	add_process(c, o, &ev->h);
	/* wait(2) status: exit code in bits 8-15, or the signal in 0-6. */
	json_object_set_new(json_object_get(o, "process"), "exit_code",
			    json_integer(code & 0x7f ? 128 + (code & 0x7f) : (code >> 8) & 0xff));
	if (code & 0x7f)
		json_object_set_new(json_object_get(o, "ircontain"), "signal",
				    json_integer(code & 0x7f));
	/* In words: "status 0x9" read as exit code 9 beside exit_code 137. */
	if (code & 0x7f)
		message(o, "pid %u (%.16s) was killed by signal %d (SIG%s)%s", ev->h.tgid,
			ev->h.comm, code & 0x7f, sigabbrev_np(code & 0x7f) ?: "?",
			code & 0x80 ? ", core dumped" : "");
	else
		message(o, "pid %u (%.16s) exited with code %d", ev->h.tgid, ev->h.comm,
			(code >> 8) & 0xff);
	irc_pt_exit(c->pt, ev->h.tgid);
	return o;
}

static json_t *ev_conn(struct irc_evctx *c, const struct irc_ev_conn *ev_in, bool accept)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct irc_ev_conn norm = *ev_in;
	const struct irc_ev_conn *ev = &norm;

	/* A dual-stack socket talking IPv4: say IPv4, as the connect side does. */
	if (norm.family == 6 && !memcmp(norm.saddr, v4mapped, 12) &&
	    !memcmp(norm.daddr, v4mapped, 12)) {
		norm.family = 4;
		memmove(norm.saddr, norm.saddr + 12, 4);
		memmove(norm.daddr, norm.daddr + 12, 4);
	}
	json_t *o = base(c, &ev->h, accept ? "accept" : "connect", "network",
			 "connection", ev->established ? "success" : "failure");
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	add_process(c, o, &ev->h);
	/* source is who opened the connection. */
	if (accept) {
		endpoint(o, "source", ev->family, ev->daddr, ev->dport);
		endpoint(o, "destination", ev->family, ev->saddr, ev->sport);
	} else {
		endpoint(o, "source", ev->family, ev->saddr, ev->sport);
		endpoint(o, "destination", ev->family, ev->daddr, ev->dport);
	}
	json_object_set_new(o, "network", json_pack("{s:s,s:s,s:s}", "transport", "tcp",
		"type", ev->family == 4 ? "ipv4" : "ipv6",
		"direction", accept ? "ingress" : "egress"));
	addr_str(ev->family, ev->saddr, s, sizeof(s));
	addr_str(ev->family, ev->daddr, d, sizeof(d));
	/* A refused connect has lost its source port by the time it is seen. */
	message(o, "%.16s (pid %u) %s %s%s%.0u %s %s:%u%s", ev->h.comm, ev->h.tgid,
		accept ? "accepted on" : "connected from", s, ev->sport ? ":" : "",
		ev->sport, accept ? "from" : "to", d, ev->dport,
		ev->established ? "" : " (failed)");
	return o;
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

/*
 * Addresses and ports of a sampled packet, for source.* / destination.*.
 * Returns the packet's IP version, 0 if it could not tell.
 */
static int sample_endpoints(json_t *o, const struct irc_ev_drop *ev)
{
	/* cap_len is not trusted past the buffer. */
	const uint8_t *p = ev->data,
		      *end = ev->data + (ev->cap_len < IRC_SAMPLE_LEN ? ev->cap_len : IRC_SAMPLE_LEN);
	unsigned int proto = 0, hl = 0, fam = 0;
	uint16_t et;

	if (ev->linktype == IRC_LINK_ETHERNET) {
		if (end - p < 14)
			return 0;
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
		proto = p[9];
		endpoint(o, "source", 4, p + 12, 0);
		endpoint(o, "destination", 4, p + 16, 0);
	} else if (fam == 6 && end - p >= 40) {
		hl = 40;
		proto = p[6];
		endpoint(o, "source", 6, p + 8, 0);
		endpoint(o, "destination", 6, p + 24, 0);
	} else {
		return 0;
	}
	json_object_set_new(o, "network", json_pack("{s:s,s:i}", "type",
		fam == 4 ? "ipv4" : "ipv6", "iana_number", proto));
	if ((proto == 6 || proto == 17) && end - p >= (long)hl + 4) {
		json_object_set_new(json_object_get(o, "source"), "port",
				    json_integer(p[hl] << 8 | p[hl + 1]));
		json_object_set_new(json_object_get(o, "destination"), "port",
				    json_integer(p[hl + 2] << 8 | p[hl + 3]));
	}
	return (int)fam;
}

static json_t *ev_drop(struct irc_evctx *c, const struct irc_ev_drop *ev)
{
	json_t *o = base(c, &ev->h, "packet_dropped", "network", "denied", "success");
	json_t *ext = json_object_get(o, "ircontain");
	char b64[4 * ((IRC_SAMPLE_LEN + 2) / 3) + 1], ifname[IF_NAMESIZE] = "";
	char rule[64] = "";
	int fam = sample_endpoints(o, ev);

	if (ev->rule == IRC_RULE_QUARANTINE) {
		char a[INET6_ADDRSTRLEN];

		/* The packet's family; else guess (an IPv6 /32 can end in zeros). */
		if (!fam)
			fam = ev->rule_plen <= 32 &&
			      !memcmp(ev->rule_addr + 4, (uint8_t[12]){ 0 }, 12) ? 4 : 6;

		addr_str(fam, ev->rule_addr, a, sizeof(a));
		snprintf(rule, sizeof(rule), "%s", a);
		json_object_set_new(ext, "rule_target", json_string(a));
	}
	json_object_set_new(o, "rule", json_pack("{s:s}", "name", rule_name(ev->rule)));
	irc_b64(ev->data, ev->cap_len < IRC_SAMPLE_LEN ? ev->cap_len : IRC_SAMPLE_LEN,
		b64, sizeof(b64));
	json_object_set_new(ext, "sample", json_pack("{s:s,s:i,s:i,s:i}", "base64", b64,
		"captured", ev->cap_len, "length", ev->pkt_len,
		"linktype", ev->linktype));
	json_object_set_new(ext, "direction", json_string(ev->dir == IRC_DIR_IN ? "in" : "out"));
	/* Whose socket it was: the packet path runs in no process's context. */
	if (ev->rule == IRC_RULE_PROCESS && ev->rule_tgid)
		json_object_set_new(o, "process", process_json(c, ev->rule_tgid, 0));
	if (ev->ifindex && if_indextoname(ev->ifindex, ifname))
		json_object_set_new(o, "observer", json_pack("{s:{s:{s:s}}}",
			ev->dir == IRC_DIR_IN ? "ingress" : "egress", "interface",
			"name", ifname));
	message(o, "dropped a %u-byte packet (%s%s%s, %s)", ev->pkt_len, rule_name(ev->rule),
		rule[0] ? " " : "", rule, ev->dir == IRC_DIR_IN ? "inbound" : "outbound");
	return o;
}

static json_t *ev_deny(struct irc_evctx *c, const struct irc_ev_deny *ev)
{
	static const char *const hooks[] = { "?", "socket", "connect", "sendmsg", "bind" };
	json_t *o = base(c, &ev->h, "network_denied", "network", "denied", "success");
	const char *hook = ev->hook < 5 ? hooks[ev->hook] : "?";

	add_process(c, o, &ev->h);
	if (ev->family)
		endpoint(o, "destination", ev->family, ev->daddr, ev->dport);
	json_object_set_new(json_object_get(o, "ircontain"), "hook", json_string(hook));
	json_object_set_new(json_object_get(o, "ircontain"), "quarantine_root",
			    ev->root ? json_integer(ev->root) : json_null());
	json_object_set_new(o, "rule", json_pack("{s:s}", "name",
		ev->root ? "process-quarantine" : "cgroup-quarantine"));
	message(o, "refused %s() to quarantined %.16s (pid %u)", hook, ev->h.comm, ev->h.tgid);
	return o;
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
 * unverified, protected), what was done, and if nothing, why not.
 */
static json_t *net_finding(json_t *o, const struct irc_ev_finding *ev,
			   const char *det, const char *ip)
{
	json_t *f = json_object_get(json_object_get(o, "ircontain"), "finding");
	const char *trust = ev->trust < 4 ? trust_names[ev->trust] : "unknown";
	const char *hold = ev->hold < NHOLD ? hold_names[ev->hold] : "unknown";
	unsigned long long win = ev->window_ns / 1000000000ULL,
			   ttl = ev->ttl_ns / 1000000000ULL;
	char prot[96];

	json_object_set_new(f, "source_trust", json_string(trust));
	json_object_set_new(f, "held", hold ? json_string(hold) : json_null());
	if (ev->detector == IRC_DET_PORTSCAN)
		json_object_set_new(f, "slow", json_boolean(ev->slow));
	if (ev->trust == IRC_SRC_PROTECTED)
		json_object_set_new(f, "protected", json_string(
			irc_protect_words(ev->protect, prot, sizeof(prot))));
	if (ev->trust == IRC_SRC_TARGET)
		message(o, "%s to %s (%u SYNs in %llus, any source): alert only; no source is quarantined for it, the kernel's SYN cookies (net.ipv4.tcp_syncookies) answer it",
			det, ip, ev->count, win);
	else if (ev->enforced && ev->trust == IRC_SRC_VERIFIED)
		message(o, "%s%s from %s (verified, %u in %llus): quarantined by the kernel for %llus (offence %u)",
			ev->slow ? "slow " : "", det, ip, ev->count, win, ttl, ev->offences);
	else if (ev->enforced)
		message(o, "%s%s from %s (%s, %u in %llus): quarantined by the kernel for %llus, inbound only, never escalated",
			ev->slow ? "slow " : "", det, ip, trust, ev->count, win, ttl);
	else if (ev->action == IRC_ACT_ALERT)
		message(o, "%s%s from %s (%s, %u in %llus): alert only",
			ev->slow ? "slow " : "", det, ip, trust, ev->count, win);
	else
		message(o, "%s%s from %s (%s%s%s, %u in %llus): not acted on (%s), would %s",
			ev->slow ? "slow " : "", det, ip, trust,
			ev->trust == IRC_SRC_PROTECTED ? ": " : "",
			ev->trust == IRC_SRC_PROTECTED ? prot : "", ev->count, win,
			hold ?: "?", irc_action_name(ev->action));
	return o;
}

/* A detector fired: an alert, with what it saw and what it did. */
static json_t *ev_finding(struct irc_evctx *c, const struct irc_ev_finding *ev)
{
	static const int ecs_sev[] = { 0, 21, 47, 73, 99 };
	const char *det = irc_detector_name(ev->detector);
	char action[48], ip[INET6_ADDRSTRLEN];
	json_t *o, *ev_obj;

	snprintf(action, sizeof(action), "%s_detected", det);
	/* An alert-only finding did all it was asked to. */
	o = base(c, &ev->h, action, "intrusion_detection", "info",
		 ev->enforced || ev->action == IRC_ACT_ALERT ? "success" : "unknown");
	ev_obj = json_object_get(o, "event");
	json_object_set_new(ev_obj, "kind", json_string("alert"));
	json_object_set_new(ev_obj, "severity",
			    json_integer(ecs_sev[ev->severity <= 4 ? ev->severity : 0]));
	if (ev->family) {
		/* A flood counted by destination: the address is ours. */
		endpoint(o, ev->trust == IRC_SRC_TARGET ? "destination" : "source",
			 ev->family, ev->addr, 0);
		addr_str(ev->family, ev->addr, ip, sizeof(ip));
	} else {
		/* A host detector: the process is the subject. */
		add_process(c, o, &ev->h);
		snprintf(ip, sizeof(ip), "pid %u", ev->h.tgid);
		if (ev->path[0])
			json_object_set_new(o, "file", json_pack("{s:o}", "path",
				text(ev->path, strnlen(ev->path, sizeof(ev->path)))));
	}
	json_object_set_new(o, "rule", json_pack("{s:s}", "name", det));
	json_object_set_new(json_object_get(o, "ircontain"), "finding", json_pack(
		"{s:s,s:s,s:s,s:b,s:i,s:I,s:I,s:i}",
		"detector", det, "severity", irc_severity_name(ev->severity),
		"action", irc_action_name(ev->action), "enforced", ev->enforced,
		"count", ev->count, "window_s", (json_int_t)(ev->window_ns / 1000000000ULL),
		"ttl_s", (json_int_t)(ev->ttl_ns / 1000000000ULL), "offences", ev->offences));
	if (ev->target_pid)
		json_object_set_new(json_object_get(json_object_get(o, "ircontain"), "finding"),
				    "target_pid", json_integer(ev->target_pid));
	if (ev->family)
		return net_finding(o, ev, det, ip);
	if (ev->action == IRC_ACT_CONTAIN_KILL && ev->enforced) {
		bool noctl = ev->hold == IRC_HOLD_NOCTL;

		json_object_set_new(json_object_get(json_object_get(o, "ircontain"), "finding"),
				    "held", noctl ? json_string(hold_names[IRC_HOLD_NOCTL]) : json_null());
		message(o, "%s: %.16s (pid %u)%s%.64s: %s", det, ev->h.comm, ev->h.tgid,
			ev->path[0] ? " " : "", ev->path, noctl ?
			"contain-then-kill: no controller running, killed by the kernel at once (no snapshot)" :
			"contain-then-kill: stopped and cut off by the kernel; the controller snapshots, then kills it");
		return o;
	}
	message(o, "%s: %.16s (pid %u)%s%.64s: %s%s", det, ev->h.comm, ev->h.tgid,
		ev->path[0] ? " " : "", ev->path,
		ev->enforced ? "done: " : cfg_mode_word(ev), irc_action_name(ev->action));
	return o;
}

json_t *irc_ev_json(struct irc_evctx *c, const void *rec, size_t len)
{
	const struct irc_ev_hdr *h = rec;

	if (len < sizeof(*h) || h->size > len)
		return NULL;
#define NEED(T) if (len < sizeof(T)) return NULL
	switch (h->type) {
	case IRC_EV_EXEC: NEED(struct irc_ev_exec); return ev_exec(c, rec);
	case IRC_EV_FORK: NEED(struct irc_ev_fork); return ev_fork(c, rec);
	case IRC_EV_EXIT: NEED(struct irc_ev_exit); return ev_exit(c, rec);
	case IRC_EV_CONNECT: NEED(struct irc_ev_conn); return ev_conn(c, rec, false);
	case IRC_EV_ACCEPT: NEED(struct irc_ev_conn); return ev_conn(c, rec, true);
	case IRC_EV_DROP: NEED(struct irc_ev_drop); return ev_drop(c, rec);
	case IRC_EV_DENY: NEED(struct irc_ev_deny); return ev_deny(c, rec);
	case IRC_EV_FINDING: NEED(struct irc_ev_finding); return ev_finding(c, rec);
	default: return NULL;
	}
#undef NEED
}

json_t *irc_gap_json(struct irc_evctx *c, unsigned int cpu, uint64_t after_seq,
		     uint64_t missing)
{
	struct irc_ev_hdr h = { .cpu = cpu, .seq = after_seq + missing + 1,
				.ts_ns = irc_now_boot_ns() };
	json_t *o = base(c, &h, "events_lost", "host", "info", "failure");

	json_object_set_new(json_object_get(o, "ircontain"), "gap",
			    json_pack("{s:i,s:I,s:I}", "cpu", cpu,
				      "after_sequence", (json_int_t)after_seq,
				      "missing", (json_int_t)missing));
	message(o, "%llu event record(s) lost on CPU %u after sequence %llu (ring buffer full)",
		(unsigned long long)missing, cpu, (unsigned long long)after_seq);
	return o;
}
