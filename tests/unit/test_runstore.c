// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the controller's writes to the evidence store
 * (userspace/runstore.c), on a real store in a scratch directory, with
 * records made as the kernel makes them and turned into JSON by evjson as
 * the daemon does:
 *   - every record type's kind, type, target and peer (the drop's target
 *     is the quarantine entry as `quarantine host` names it, IPv4 from
 *     the first bytes or v4-mapped, a prefix with its host bits cleared);
 *     packet data and the body's linktype/pkt_len/cap_len; gap markers;
 *   - findings: a network finding opens an incident by its detector,
 *     enforced it adds the detector's quarantine and contains it; a later
 *     one joins it; records of the entity after it (same batch) are tagged;
 *     a monitor-mode one opens its own, detected; a process finding gets a
 *     snapshot of the process; a comm that is no text still verifies;
 *   - a process gone before its snapshot (the kernel killed it): a
 *     "snapshot" row that says it was missed, why, and what the finding
 *     knew of the process;
 *   - an incident opened elsewhere (the CLI) tags records after the cache
 *     refresh, and no longer once it is closed; entities added to open
 *     incidents after a refresh (read by sequence number) count at the
 *     next; the newest incident wins an entity two share, and when it is
 *     closed the older one gets it back;
 *   - batching: a batch commits at IRC_STORE_BATCH records, the rest after
 *     IRC_STORE_BATCH_MS; a failing store counts what it lost, goes on,
 *     and puts the loss on record when it works again;
 *   - sessions: run.start/run.stop; a daemon that dies uncommitted loses
 *     only its tail and verify names it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/types.h>

#include <sqlite3.h>

#include "ircontain/abi.h"
#include "evjson.h"
#include "irc.h"
#include "ptable.h"
#include "run.h"
#include "runstore.h"
#include "store.h"

static char dir[64];
static char dbpath[128];

struct fix {
	struct irc_ptable pt;
	struct irc_evctx ev;
	struct irc_run_stats st;
	struct irc_runstore *rs;
	uint64_t seq;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	snprintf(dir, sizeof(dir), "/tmp/irc-rs.XXXXXX");
	if (!f || !mkdtemp(dir))
		return -1;
	strcat(dir, "/state");
	snprintf(dbpath, sizeof(dbpath), "%s/%s", dir, IRC_STORE_DB);
	if (irc_pt_init(&f->pt, "test-boot"))
		return -1;
	irc_evctx_init(&f->ev, &f->pt);
	if (irc_rs_open(&f->rs, dir, &f->ev, &f->st)) {
		print_error("open %s: %s\n", dir, irc_store_errmsg());
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char top[64];

	irc_rs_close(f->rs, NULL);
	irc_pt_free(&f->pt);
	free(f);
	snprintf(top, sizeof(top), "%s", dir);
	*strrchr(top, '/') = '\0';
	return tu_rm_tree(top);
}

/* --- records as the kernel makes them ------------------------------------ */

static void hdr(struct fix *f, struct irc_ev_hdr *h, unsigned int type, size_t size,
		unsigned int tgid)
{
	h->type = type;
	h->size = size;
	h->seq = ++f->seq;
	h->ts_ns = irc_now_boot_ns();
	h->pid = h->tgid = tgid;
	h->ppid = 1;
	snprintf(h->comm, sizeof(h->comm), "worker");
}

/* One record through evjson and into the store, as on_record does. */
static void feed(struct fix *f, const void *rec, size_t len)
{
	struct irc_jbuf b = { 0 };

	assert_int_equal(irc_ev_line(&f->ev, rec, len, &b), 0);
	irc_rs_record(f->rs, rec, len, b.p, b.len);
	irc_jb_free(&b);
}

static void feed_exec(struct fix *f, unsigned int tgid)
{
	struct irc_ev_exec e = {};

	hdr(f, &e.h, IRC_EV_EXEC, sizeof(e), tgid);
	snprintf(e.filename, sizeof(e.filename), "/usr/bin/worker");
	memcpy(e.args, "worker\0-x", 9);
	e.args_len = 9;
	feed(f, &e, sizeof(e));
}

/* An Ethernet frame with IPv4 or IPv6 and TCP ports, as XDP samples it. */
static void frame(struct irc_ev_drop *d, const char *src, const char *dst)
{
	uint8_t *p = d->data;
	bool v6 = strchr(src, ':');

	p[12] = v6 ? 0x86 : 0x08;
	p[13] = v6 ? 0xdd : 0x00;
	p += 14;
	if (v6) {
		p[0] = 0x60;
		p[6] = 6;
		assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
		p += 40;
	} else {
		p[0] = 0x45;
		p[9] = 6;
		assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
		assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
		p += 20;
	}
	p[0] = 0x9c;	/* 40000 -> 443 */
	p[1] = 0x40;
	p[2] = 0x01;
	p[3] = 0xbb;
	d->cap_len = (uint32_t)(p + 20 - d->data);
	d->pkt_len = d->cap_len + 100;
	d->linktype = IRC_LINK_ETHERNET;
}

/* A drop: @addr into rule_addr as the kernel puts it (IPv4 first 4 bytes). */
static void feed_drop(struct fix *f, unsigned int rule, unsigned int dir_, const char *src,
		      const char *dst, const char *addr, unsigned int plen, bool mapped)
{
	struct irc_ev_drop d = {};

	hdr(f, &d.h, IRC_EV_DROP, sizeof(d), 0);
	d.rule = rule;
	d.dir = dir_;
	d.rule_plen = plen;
	frame(&d, src, dst);
	if (addr && strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, d.rule_addr), 1);
	} else if (addr && mapped) {
		d.rule_addr[10] = d.rule_addr[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, d.rule_addr + 12), 1);
	} else if (addr) {
		assert_int_equal(inet_pton(AF_INET, addr, d.rule_addr), 1);
	}
	if (rule == IRC_RULE_PROCESS) {
		/* cgroup_skb: the IP packet, no Ethernet header. */
		memmove(d.data, d.data + 14, sizeof(d.data) - 14);
		d.cap_len -= 14;
		d.pkt_len -= 14;
		d.linktype = IRC_LINK_RAW;
		d.rule_tgid = 77;
	}
	feed(f, &d, sizeof(d));
}

static void feed_finding(struct fix *f, unsigned int det, unsigned int tgid, const char *src,
			 unsigned int action, bool enforced, unsigned int sev)
{
	struct irc_ev_finding e = {};

	hdr(f, &e.h, IRC_EV_FINDING, sizeof(e), tgid);
	e.detector = det;
	e.action = action;
	e.enforced = enforced;
	e.severity = sev;
	e.count = 10;
	e.window_ns = 2000000000ULL;
	e.ttl_ns = 300000000000ULL;
	e.offences = 1;
	if (src) {
		e.h.pid = e.h.tgid = 0;
		e.family = 4;
		assert_int_equal(inet_pton(AF_INET, src, e.addr), 1);
	}
	feed(f, &e, sizeof(e));
}

/* --- reading back ------------------------------------------------------ */

struct row {
	int kind;
	int64_t seq, incident;
	char type[32], actor[32], target[64], peer[64];
	char *body;
	size_t data_len;
	uint8_t data[IRC_SAMPLE_LEN];
};

struct rows {
	struct row r[2048];
	size_t n;
};

static int collect(const struct irc_row *r, void *ctx)
{
	struct rows *rs = ctx;
	struct row *o;

	if (rs->n == 2048)
		return 0;
	o = &rs->r[rs->n++];
	o->kind = r->kind;
	o->seq = r->seq;
	o->incident = r->incident;
	snprintf(o->type, sizeof(o->type), "%s", r->type);
	snprintf(o->actor, sizeof(o->actor), "%s", r->actor);
	snprintf(o->target, sizeof(o->target), "%s", r->target);
	snprintf(o->peer, sizeof(o->peer), "%s", r->peer);
	o->body = strdup(r->body);
	o->data_len = r->data_len;
	if (r->data_len)
		memcpy(o->data, r->data, r->data_len < IRC_SAMPLE_LEN ? r->data_len : IRC_SAMPLE_LEN);
	return 0;
}

/* Every row, read through a store of its own (what another process sees). */
static struct rows *read_rows(void)
{
	struct rows *rs = calloc(1, sizeof(*rs));
	struct irc_store *s;

	assert_non_null(rs);
	assert_int_equal(irc_store_open(&s, dir, false), 0);
	assert_int_equal(irc_store_rows(s, 0, IRC_REC_ALL, 0, 0, NULL, collect, rs), 0);
	irc_store_close(s);
	return rs;
}

static void free_rows(struct rows *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->r[i].body);
	free(rs);
}

static const struct row *find(const struct rows *rs, const char *type, const char *target,
			      size_t nth)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].type, type) && (!target || !strcmp(rs->r[i].target, target)) &&
		    !nth--)
			return &rs->r[i];
	return NULL;
}

static size_t count(const struct rows *rs, const char *type)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++)
		n += !strcmp(rs->r[i].type, type);
	return n;
}

/* A number in a row's body, by a dotted path; -1 if absent. */
static long long body_int(const struct row *r, const char *path)
{
	json_t *o = json_loads(r->body, 0, NULL), *v = o;
	char buf[128], *tok, *save = NULL;
	long long n;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); v && tok; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	n = json_is_integer(v) ? json_integer_value(v) : json_is_true(v) ? 1 : -1;
	json_decref(o);
	return n;
}

static void get_incident(int64_t id, struct irc_incident *in)
{
	struct irc_store *s;

	assert_int_equal(irc_store_open(&s, dir, false), 0);
	assert_int_equal(irc_incident_get(s, id, in), 0);
	irc_store_close(s);
}

static void expect_verifies(int unclean)
{
	struct irc_store *s;
	struct irc_verify v;
	int err;

	assert_int_equal(irc_store_open(&s, dir, false), 0);
	err = irc_store_verify(s, &v);
	irc_store_close(s);
	if (err || v.unclean != unclean)
		print_error("verify: %d '%s', unclean %d '%s'\n", err, v.problem, v.unclean,
			    v.unclean_note);
	assert_int_equal(err, 0);
	assert_int_equal(v.unclean, unclean);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* --- tests ---------------------------------------------------------------- */

static void test_entities(void **state)
{
	static const struct {
		const char *type, *target, *peer;
		int kind;
	} want[] = {
		{ "exec", "pid:100", "", IRC_REC_EVENT },
		{ "fork", "pid:100", "pid:101", IRC_REC_EVENT },
		{ "exit", "pid:101", "", IRC_REC_EVENT },
		{ "connect", "pid:100", "host:198.51.100.7", IRC_REC_EVENT },
		{ "accept", "pid:100", "host:192.0.2.9", IRC_REC_EVENT },
		{ "network_denied", "pid:102", "pid:100", IRC_REC_EVENT },
		{ "network_denied", "pid:103", "", IRC_REC_EVENT },
		{ "packet", "host:203.0.113.7", "host:203.0.113.7", IRC_REC_EVIDENCE },
		{ "packet", "host:10.1.2.0/24", "host:10.1.2.3", IRC_REC_EVIDENCE },
		{ "packet", "host:10.9.0.0/16", "host:10.9.8.7", IRC_REC_EVIDENCE },
		{ "packet", "host:2001:db8:1::/48", "host:2001:db8:1::5", IRC_REC_EVIDENCE },
		{ "packet", "host:2001:db8::5", "host:2001:db8::5", IRC_REC_EVIDENCE },
		{ "packet", "pid:77", "host:198.51.100.1", IRC_REC_EVIDENCE },
		{ "packet", "host:10.0.0.1", "host:198.51.100.2", IRC_REC_EVIDENCE },
		{ "gap", "", "", IRC_REC_EVENT },
	};
	struct fix *f = *state;
	struct irc_ev_fork fk = {};
	struct irc_ev_exit ex = {};
	struct irc_ev_conn c = {};
	struct irc_ev_deny dn = {};
	const struct row *r;
	struct rows *rs;
	struct irc_jbuf gap = { 0 };
	size_t i, j = 0, bad = 0;

	(void)state;
	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	feed_exec(f, 100);
	hdr(f, &fk.h, IRC_EV_FORK, sizeof(fk), 100);
	fk.child_tgid = 101;
	feed(f, &fk, sizeof(fk));
	hdr(f, &ex.h, IRC_EV_EXIT, sizeof(ex), 101);
	ex.exit_code = 3 << 8;
	feed(f, &ex, sizeof(ex));
	hdr(f, &c.h, IRC_EV_CONNECT, sizeof(c), 100);
	c.family = 4;
	c.established = 1;
	inet_pton(AF_INET, "10.0.0.1", c.saddr);
	inet_pton(AF_INET, "198.51.100.7", c.daddr);
	feed(f, &c, sizeof(c));
	/* A dual-stack listener: both addresses v4-mapped. */
	hdr(f, &c.h, IRC_EV_ACCEPT, sizeof(c), 100);
	c.family = 6;
	inet_pton(AF_INET6, "::ffff:10.0.0.1", c.saddr);
	inet_pton(AF_INET6, "::ffff:192.0.2.9", c.daddr);
	feed(f, &c, sizeof(c));
	hdr(f, &dn.h, IRC_EV_DENY, sizeof(dn), 102);
	dn.hook = IRC_HOOK_CONNECT;
	dn.root = 100;
	feed(f, &dn, sizeof(dn));
	hdr(f, &dn.h, IRC_EV_DENY, sizeof(dn), 103);
	dn.root = 0;	/* a cgroup quarantine */
	feed(f, &dn, sizeof(dn));
	feed_drop(f, IRC_RULE_QUARANTINE, IRC_DIR_IN, "203.0.113.7", "10.0.0.1", "203.0.113.7", 32, false);
	feed_drop(f, IRC_RULE_QUARANTINE, IRC_DIR_OUT, "10.0.0.1", "10.1.2.3", "10.1.2.3", 24, false);
	feed_drop(f, IRC_RULE_QUARANTINE, IRC_DIR_IN, "10.9.8.7", "10.0.0.1", "10.9.8.7", 16, true);
	feed_drop(f, IRC_RULE_QUARANTINE, IRC_DIR_IN, "2001:db8:1::5", "2001:db8::1",
		  "2001:db8:1::5", 48, false);
	feed_drop(f, IRC_RULE_QUARANTINE, IRC_DIR_OUT, "2001:db8::1", "2001:db8::5",
		  "2001:db8::5", 128, false);
	feed_drop(f, IRC_RULE_PROCESS, IRC_DIR_OUT, "10.0.0.1", "198.51.100.1", NULL, 0, false);
	feed_drop(f, IRC_RULE_ISOLATE, IRC_DIR_IN, "198.51.100.2", "10.0.0.1", NULL, 0, false);
	assert_int_equal(irc_gap_line(&f->ev, 0, 5, 3, false, &gap), 0);
	irc_rs_gap(f->rs, gap.p, gap.len);
	irc_jb_free(&gap);
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;

	rs = read_rows();
	for (i = 0; i < rs->n; i++) {
		r = &rs->r[i];
		if (r->kind == IRC_REC_ACTION)
			continue;
		if (j == sizeof(want) / sizeof(want[0])) {
			EXPECT(bad, 0, "extra row #%lld %s", (long long)r->seq, r->type);
			continue;
		}
		EXPECT(bad, !strcmp(r->type, want[j].type) && !strcmp(r->target, want[j].target) &&
		       !strcmp(r->peer, want[j].peer) && r->kind == want[j].kind,
		       "row %zu: %d %s %s %s, expected %d %s %s %s", j, r->kind, r->type,
		       r->target, r->peer, want[j].kind, want[j].type, want[j].target, want[j].peer);
		if (r->kind == IRC_REC_EVIDENCE)
			EXPECT(bad, r->data_len == (size_t)body_int(r, "cap_len") && r->data_len >= 40 &&
			       body_int(r, "linktype") == (strcmp(r->target, "pid:77") ? 1 : 101) &&
			       body_int(r, "pkt_len") == (long long)r->data_len + 100,
			       "row %zu: data %zu bytes, body %s", j, r->data_len, r->body);
		else
			EXPECT(bad, r->data_len == 0, "row %zu: data on an event", j);
		j++;
	}
	EXPECT(bad, j == sizeof(want) / sizeof(want[0]), "%zu rows, expected %zu", j,
	       sizeof(want) / sizeof(want[0]));
	/* The body is the ECS JSON the events file gets. */
	r = find(rs, "exit", "pid:101", 0);
	assert_non_null(r);
	assert_int_equal(body_int(r, "process.exit_code"), 3);
	r = find(rs, "gap", NULL, 0);
	assert_non_null(r);
	assert_int_equal(body_int(r, "ircontain.gap.missing"), 3);
	/* The packet bytes as sampled: the first one's Ethernet type is IPv4. */
	r = find(rs, "packet", "host:203.0.113.7", 0);
	assert_non_null(r);
	assert_int_equal(r->data[12], 0x08);
	assert_int_equal(r->data[14], 0x45);
	free_rows(rs);
	assert_int_equal(bad, 0);
	assert_int_equal(f->st.stored, sizeof(want) / sizeof(want[0]));
	assert_int_equal(f->st.store_errors, 0);
	expect_verifies(0);
}

static void test_findings(void **state)
{
	struct fix *f = *state;
	const struct row *r, *fa, *fb;
	struct irc_incident in;
	struct rows *rs;
	int64_t inc;
	char want[128];

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	/* Enforced: the kernel quarantined the source. */
	feed_finding(f, IRC_DET_PORTSCAN, 0, "203.0.113.9", IRC_ACT_QUAR_HOST, true, IRC_SEV_HIGH);
	/* In the same batch: its drops belong to the incident now. */
	feed_drop(f, IRC_RULE_QUARANTINE, IRC_DIR_IN, "203.0.113.9", "10.0.0.1", "203.0.113.9", 32, false);
	/* Again: joins. */
	feed_finding(f, IRC_DET_PORTSCAN, 0, "203.0.113.9", IRC_ACT_QUAR_HOST, true, IRC_SEV_HIGH);
	/* Monitor mode, another source, no severity: its own incident, medium, detected. */
	feed_finding(f, IRC_DET_SYNFLOOD, 0, "198.51.100.33", IRC_ACT_QUAR_HOST, false, 0);
	/* A process: this one (alive, so it has a snapshot). */
	feed_finding(f, IRC_DET_REVSHELL, getpid(), NULL, IRC_ACT_QUAR_PROC, true, IRC_SEV_CRITICAL);
	feed_exec(f, getpid());
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;

	rs = read_rows();
	fa = find(rs, "finding", "host:203.0.113.9", 0);
	fb = find(rs, "finding", "host:203.0.113.9", 1);
	assert_non_null(fa);
	assert_non_null(fb);
	inc = fa->incident;
	assert_true(inc > 0);
	assert_int_equal(fb->incident, inc);
	assert_string_equal(fa->actor, "portscan");
	assert_int_equal(body_int(fa, "ircontain.finding.enforced"), 1);
	get_incident(inc, &in);
	assert_string_equal(in.title, "Port scan from 203.0.113.9");
	assert_int_equal(in.severity, IRC_SEV_HIGH);
	assert_int_equal(in.status, IRC_IS_CONTAINED);
	assert_string_equal(in.opened_by, "portscan");
	r = find(rs, "quarantine", "host:203.0.113.9", 0);
	assert_non_null(r);
	assert_int_equal(r->kind, IRC_REC_ACTION);
	assert_int_equal(r->incident, inc);
	assert_string_equal(r->actor, "portscan");
	assert_int_equal(body_int(r, "ttl"), 300);
	assert_non_null(strstr(r->body, "\"result\":\"ok\""));
	/* One quarantine action per enforced finding, one status change in all. */
	assert_non_null(find(rs, "quarantine", "host:203.0.113.9", 1));
	assert_int_equal(count(rs, "incident.status"), 2);	/* this one, the process's */
	r = find(rs, "packet", "host:203.0.113.9", 0);
	assert_non_null(r);
	assert_int_equal(r->incident, inc);

	r = find(rs, "finding", "host:198.51.100.33", 0);
	assert_non_null(r);
	assert_true(r->incident > 0 && r->incident != inc);
	assert_null(find(rs, "quarantine", "host:198.51.100.33", 0));
	get_incident(r->incident, &in);
	assert_string_equal(in.title, "SYN flood from 198.51.100.33");
	assert_int_equal(in.severity, IRC_SEV_MEDIUM);
	assert_int_equal(in.status, IRC_IS_DETECTED);

	snprintf(want, sizeof(want), "pid:%d", getpid());
	r = find(rs, "finding", want, 0);
	assert_non_null(r);
	get_incident(r->incident, &in);
	assert_int_equal(in.status, IRC_IS_CONTAINED);
	assert_string_equal(in.opened_by, "reverse_shell");
	snprintf(want, sizeof(want), "Reverse shell: pid %d (worker)", getpid());
	assert_string_equal(in.title, want);
	fa = find(rs, "snapshot", r->target, 0);
	assert_non_null(fa);
	assert_int_equal(fa->kind, IRC_REC_EVIDENCE);
	assert_int_equal(fa->incident, r->incident);
	assert_string_equal(fa->actor, "reverse_shell");
	assert_int_equal(body_int(fa, "pid"), getpid());
	assert_non_null(find(rs, "quarantine", r->target, 0));
	/* The process's later events: tagged too. */
	fb = find(rs, "exec", r->target, 0);
	assert_non_null(fb);
	assert_int_equal(fb->incident, r->incident);
	free_rows(rs);
	assert_int_equal(f->st.incidents, 3);
	assert_int_equal(f->st.snapshots, 1);
	expect_verifies(0);
}

/* A comm that is not text: the title is, and verify replays it the same. */
static void test_title_bytes(void **state)
{
	struct fix *f = *state;
	struct irc_ev_finding e = {};
	struct irc_incident in;
	struct rows *rs;

	hdr(f, &e.h, IRC_EV_FINDING, sizeof(e), 999999);	/* gone: no snapshot */
	memcpy(e.h.comm, "a\xff\xfe\nb\x80", 7);
	e.detector = IRC_DET_EXEC_TMP;
	e.severity = 9;
	feed(f, &e, sizeof(e));
	irc_rs_close(f->rs, NULL);
	f->rs = NULL;
	rs = read_rows();
	assert_int_equal(count(rs, "finding"), 1);
	get_incident(rs->r[rs->n - 1].incident, &in);
	assert_string_equal(in.title, "Exec from a temporary directory: pid 999999 (a???b?)");
	assert_int_equal(in.severity, IRC_SEV_MEDIUM);
	/* Gone: the miss is on record, not a snapshot. */
	assert_int_equal(count(rs, "snapshot"), 1);
	assert_non_null(strstr(find(rs, "snapshot", "pid:999999", 0)->body, "\"missed\""));
	assert_int_equal(f->st.snapshots, 0);
	free_rows(rs);
	expect_verifies(0);
}

/*
 * The kernel killed a reverse shell before the daemon read the finding:
 * the snapshot row says it was attempted and why it is missing, with what
 * the finding knew (comm, parent, uid, cgroup, the executable as evjson
 * had it).
 */
static void test_missed_snapshot(void **state)
{
	struct fix *f = *state;
	struct irc_ev_finding e = {};
	const struct row *r, *fr;
	struct rows *rs;
	json_t *b;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	hdr(f, &e.h, IRC_EV_FINDING, sizeof(e), 999998);	/* no such process */
	e.h.ppid = 4321;
	e.h.uid = 1001;
	e.h.cgroup_id = 777;
	snprintf(e.h.comm, sizeof(e.h.comm), "sh");
	e.detector = IRC_DET_REVSHELL;
	e.action = IRC_ACT_KILL;
	e.enforced = 1;
	e.severity = IRC_SEV_CRITICAL;
	e.fd = 0;
	feed(f, &e, sizeof(e));
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;

	rs = read_rows();
	fr = find(rs, "finding", "pid:999998", 0);
	r = find(rs, "snapshot", "pid:999998", 0);
	assert_non_null(fr);
	assert_non_null(r);
	assert_int_equal(r->kind, IRC_REC_EVIDENCE);
	assert_true(r->incident > 0);
	assert_int_equal(r->incident, fr->incident);
	assert_string_equal(r->actor, "reverse_shell");
	assert_string_equal(r->peer, "pid:4321");
	b = json_loads(r->body, 0, NULL);
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(b, "missed")),
			    "the process had already exited (killed by the kernel)");
	assert_int_equal(json_integer_value(json_object_get(b, "pid")), 999998);
	assert_string_equal(json_string_value(json_object_get(b, "comm")), "sh");
	assert_int_equal(json_integer_value(json_object_get(b, "ppid")), 4321);
	assert_int_equal(json_integer_value(json_object_get(b, "uid")), 1001);
	assert_int_equal(json_integer_value(json_object_get(b, "cgroup_id")), 777);
	assert_non_null(json_object_get(b, "exe"));
	assert_non_null(strstr(json_string_value(json_object_get(b, "message")), "no snapshot"));
	json_decref(b);
	assert_non_null(find(rs, "kill", "pid:999998", 0));
	free_rows(rs);
	assert_int_equal(f->st.snapshots, 0);
	expect_verifies(0);
}

/* Incidents opened elsewhere: records tagged after the refresh, until closed. */
static void test_cache(void **state)
{
	struct fix *f = *state;
	struct irc_ev_conn c = {};
	struct irc_store *s;
	struct rows *rs;
	int64_t id;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	assert_int_equal(irc_store_open(&s, dir, false), 0);
	assert_int_equal(irc_incident_open(s, "Exfiltration", IRC_SEV_HIGH, "alice",
					   "host:192.0.2.50", &id), 0);
	sleep_ms(1100);
	irc_rs_tick(f->rs);
	hdr(f, &c.h, IRC_EV_CONNECT, sizeof(c), 300);
	c.family = 4;
	inet_pton(AF_INET, "192.0.2.50", c.daddr);
	feed(f, &c, sizeof(c));
	feed_exec(f, 301);
	sleep_ms(IRC_STORE_BATCH_MS + 50);
	irc_rs_tick(f->rs);		/* commits the batch */
	assert_int_equal(irc_incident_set_status(s, id, IRC_IS_CLOSED, "alice", "done"), 0);
	irc_store_close(s);
	sleep_ms(1100);
	irc_rs_tick(f->rs);
	hdr(f, &c.h, IRC_EV_CONNECT, sizeof(c), 302);
	feed(f, &c, sizeof(c));
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;

	rs = read_rows();
	assert_int_equal(find(rs, "connect", "pid:300", 0)->incident, id);
	assert_int_equal(find(rs, "exec", "pid:301", 0)->incident, 0);
	assert_int_equal(find(rs, "connect", "pid:302", 0)->incident, 0);
	free_rows(rs);
	expect_verifies(0);
}

/* An action of @id on @target, as the CLI records one. */
static int action_in(struct irc_store *s, int64_t id, const char *target)
{
	struct irc_rec r = { .kind = IRC_REC_ACTION, .incident = id, .type = "quarantine",
			     .actor = "alice", .target = target };
	int err;

	r.body = json_pack("{s:s}", "result", "ok");
	err = irc_store_append(s, &r, NULL);
	json_decref(r.body);
	return err;
}

/* Feeds a connect of @pid to @ip and commits it. */
static void feed_connect(struct fix *f, unsigned int pid, const char *ip)
{
	struct irc_ev_conn c = {};

	hdr(f, &c.h, IRC_EV_CONNECT, sizeof(c), pid);
	c.family = 4;
	inet_pton(AF_INET, ip, c.daddr);
	feed(f, &c, sizeof(c));
	sleep_ms(IRC_STORE_BATCH_MS + 50);
	irc_rs_tick(f->rs);
}

/*
 * Refreshes read only what was added since the last: an entity the CLI
 * adds to an open incident counts; two incidents with one entity: the
 * newest wins, and the older gets it back when the newest is closed.
 */
static void test_cache_delta(void **state)
{
	struct fix *f = *state;
	struct irc_store *s;
	struct rows *rs;
	int64_t a, b;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	assert_int_equal(irc_store_open(&s, dir, false), 0);
	assert_int_equal(irc_incident_open(s, "A", IRC_SEV_HIGH, "alice", "host:192.0.2.1", &a), 0);
	sleep_ms(1100);
	irc_rs_tick(f->rs);			/* knows A */
	/* After that refresh: A gets a second entity, B opens with a shared one. */
	assert_int_equal(action_in(s, a, "host:192.0.2.2"), 0);
	assert_int_equal(irc_incident_open(s, "B", IRC_SEV_HIGH, "alice", "host:192.0.2.2", &b), 0);
	assert_true(b > a);
	sleep_ms(1100);
	irc_rs_tick(f->rs);			/* the delta */
	feed_connect(f, 400, "192.0.2.1");
	feed_connect(f, 401, "192.0.2.2");
	/* B closed: 192.0.2.2 is A's again. */
	assert_int_equal(irc_incident_set_status(s, b, IRC_IS_CLOSED, "alice", "done"), 0);
	sleep_ms(1100);
	irc_rs_tick(f->rs);
	feed_connect(f, 402, "192.0.2.2");
	irc_store_close(s);
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;

	rs = read_rows();
	assert_int_equal(find(rs, "connect", "pid:400", 0)->incident, a);
	assert_int_equal(find(rs, "connect", "pid:401", 0)->incident, b);
	assert_int_equal(find(rs, "connect", "pid:402", 0)->incident, a);
	free_rows(rs);
	expect_verifies(0);
}

static int64_t rows_now(void)
{
	struct rows *rs = read_rows();
	int64_t n = (int64_t)rs->n;

	free_rows(rs);
	return n;
}

static void test_batching(void **state)
{
	struct fix *f = *state;
	int i;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	assert_int_equal(rows_now(), 1);
	for (i = 0; i < IRC_STORE_BATCH + 10; i++)
		feed_exec(f, 1000 + i);
	/* One full batch committed, ten waiting. */
	assert_int_equal(rows_now(), 1 + IRC_STORE_BATCH);
	assert_int_equal(f->st.store_batches, 1);
	irc_rs_tick(f->rs);
	assert_int_equal(rows_now(), 1 + IRC_STORE_BATCH);
	sleep_ms(IRC_STORE_BATCH_MS + 50);
	irc_rs_tick(f->rs);
	assert_int_equal(rows_now(), 1 + IRC_STORE_BATCH + 10);
	assert_int_equal(f->st.stored, IRC_STORE_BATCH + 10);
	assert_int_equal(f->st.store_batches, 2);
	assert_true(f->st.store_us_max > 0);
}

/* The store fails: counted, the daemon goes on, the loss is put on record. */
static void test_store_error(void **state)
{
	struct fix *f = *state;
	const struct row *r;
	struct rows *rs;
	sqlite3 *db;
	int i;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE events RENAME TO ev_gone", NULL, NULL, NULL),
			 SQLITE_OK);
	for (i = 0; i < 5; i++)
		feed_exec(f, 2000 + i);
	sleep_ms(IRC_STORE_BATCH_MS + 50);
	irc_rs_tick(f->rs);
	assert_int_equal(f->st.store_errors, 5);
	assert_int_equal(f->st.stored, 0);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE ev_gone RENAME TO events", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	feed_exec(f, 3000);
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;
	assert_int_equal(f->st.stored, 1);

	rs = read_rows();
	r = find(rs, "gap", NULL, 0);
	assert_non_null(r);
	assert_int_equal(body_int(r, "ircontain.store_lost.missing"), 5);
	assert_null(find(rs, "exec", "pid:2000", 0));
	assert_non_null(find(rs, "exec", "pid:3000", 0));
	r = find(rs, "run.stop", NULL, 0);
	assert_non_null(r);
	assert_int_equal(body_int(r, "store_errors"), 5);
	free_rows(rs);
	expect_verifies(0);
}

/*
 * Sessions: run.start and run.stop name the pid and boot; a daemon that
 * dies with records waiting loses only those, and verify reports it.
 */
static void test_sessions(void **state)
{
	struct fix *f = *state;
	struct irc_store *s;
	struct irc_verify v;
	const struct row *r;
	struct rows *rs;
	char want[64];
	int status, i;
	pid_t pid;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	feed_exec(f, 500);
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;
	expect_verifies(0);

	/* A second daemon: one batch committed, three records waiting, then dead. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (irc_rs_open(&f->rs, dir, &f->ev, &f->st) || irc_rs_start(f->rs, "test-boot"))
			_exit(1);
		for (i = 0; i < IRC_STORE_BATCH + 3; i++)
			feed_exec(f, 600 + i);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	rs = read_rows();
	r = find(rs, "run.start", NULL, 0);
	assert_non_null(r);
	assert_int_equal(body_int(r, "pid"), getpid());
	assert_non_null(strstr(r->body, "\"boot_id\":\"test-boot\""));
	assert_non_null(strstr(r->body, "\"version\":\""));
	r = find(rs, "run.stop", NULL, 0);
	assert_non_null(r);
	assert_int_equal(body_int(r, "pid"), getpid());
	assert_int_equal(body_int(r, "stored"), 1);
	r = find(rs, "run.start", NULL, 1);
	assert_non_null(r);
	assert_int_equal(body_int(r, "pid"), pid);
	assert_non_null(find(rs, "exec", "pid:855", 0));	/* the last one committed */
	assert_null(find(rs, "exec", "pid:856", 0));		/* the uncommitted tail */
	assert_null(find(rs, "run.stop", NULL, 1));
	free_rows(rs);

	/* Intact; the dead daemon named, with the last record it committed. */
	assert_int_equal(irc_store_open(&s, dir, false), 0);
	assert_int_equal(irc_store_verify(s, &v), 0);
	irc_store_close(s);
	assert_int_equal(v.unclean, 1);
	snprintf(want, sizeof(want), "pid %d ", pid);
	assert_non_null(strstr(v.unclean_note, want));
	snprintf(want, sizeof(want), "last committed record is #%lld ", (long long)v.head_seq);
	assert_non_null(strstr(v.unclean_note, want));
}

/* The one integer @sql gives, read on a connection of its own. */
static int64_t sql_int(const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * With the writer thread: a store another process holds locked (a commit
 * that takes seconds) never stalls the reader; what the queue cannot take
 * is counted and put on record as a gap; everything else is stored once
 * the lock goes.
 */
static void test_async_slow_store(void **state)
{
	struct fix *f = *state;
	const int extra = 1000, fed = IRC_STORE_QUEUE + extra;
	struct irc_ev_exec e = {};
	struct irc_jbuf line = { 0 };
	struct timespec t0;
	uint64_t stored;
	sqlite3 *db;
	double ms;
	int i;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	assert_int_equal(irc_rs_async(f->rs, -1), 0);
	/*
	 * One record and its JSON, fed again and again: what is timed is
	 * irc_rs_record() alone, not evjson (seconds under a sanitizer on a
	 * loaded machine, and then the writer's own busy timeout ran out
	 * while the feeding went on).
	 */
	hdr(f, &e.h, IRC_EV_EXEC, sizeof(e), 10000);
	snprintf(e.filename, sizeof(e.filename), "/usr/bin/worker");
	assert_int_equal(irc_ev_line(&f->ev, &e, sizeof(e), &line), 0);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < fed; i++)
		irc_rs_record(f->rs, &e, sizeof(e), line.p, line.len);
	ms = ms_since(&t0);
	irc_jb_free(&line);
	irc_rs_tick(f->rs);
	stored = f->st.stored;
	sleep_ms(300);
	/* The lock goes before any check: a failed one must not leave the writer blocked. */
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	print_message("fed %d records in %.0f ms with the store locked; %llu lost to the full queue\n",
		      fed, ms, (unsigned long long)f->st.queue_lost);
	/*
	 * A reader that waited on the store would wait out the busy timeout
	 * (IRC_STORE_BUSY_MS) at least once per batch: 131 batches here, or
	 * never finish.  Feeding took 30-130 ms (plain and sanitizer builds,
	 * 2-core machine at load 10); one busy timeout is 40 times that.
	 */
	assert_true(ms < IRC_STORE_BUSY_MS);
	assert_int_equal(stored, 0);
	/* The writer took one batch before it blocked, or none. */
	assert_true(f->st.queue_lost >= (uint64_t)extra - IRC_STORE_BATCH &&
		    f->st.queue_lost <= (uint64_t)extra);
	assert_int_equal(f->st.queue_max, IRC_STORE_QUEUE);
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;
	assert_int_equal(f->st.stored + f->st.queue_lost, (uint64_t)fed);
	assert_int_equal(f->st.store_errors, 0);

	/* More rows than read_rows() holds: counted by SQL. */
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE type = 'exec'"),
			 fed - (int64_t)f->st.queue_lost);
	assert_int_equal(sql_int("SELECT json_extract(body, '$.ircontain.store_queue_lost.missing')"
				 " FROM events WHERE type = 'gap'"), (int64_t)f->st.queue_lost);
	expect_verifies(0);
}

/*
 * Only events that matter kept: an exec of an incident's process is
 * stored, of any other process it is left to the events file (counted);
 * findings and actions always.
 */
static void test_related_only(void **state)
{
	struct fix *f = *state;
	struct irc_store *s;
	struct rows *rs;
	int64_t id;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	irc_rs_set_events(f->rs, IRC_RS_EVENTS_RELATED, -1);
	assert_int_equal(irc_store_open(&s, dir, false), 0);
	assert_int_equal(irc_incident_open(s, "Watched", IRC_SEV_HIGH, "alice", "pid:700", &id), 0);
	irc_store_close(s);
	sleep_ms(1100);
	assert_int_equal(irc_rs_async(f->rs, -1), 0);
	feed_exec(f, 700);
	feed_exec(f, 701);
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;
	assert_int_equal(f->st.store_skipped, 1);

	rs = read_rows();
	assert_int_equal(find(rs, "exec", "pid:700", 0)->incident, id);
	assert_null(find(rs, "exec", "pid:701", 0));
	assert_non_null(find(rs, "run.stop", NULL, 0));
	free_rows(rs);
	expect_verifies(0);
}

/* --- one incident per finding chain ------------------------------------- */

static void feed_conn(struct fix *f, unsigned int type, unsigned int pid, const char *ip)
{
	struct irc_ev_conn c = {};

	hdr(f, &c.h, type, sizeof(c), pid);
	c.family = 4;
	c.established = 1;
	inet_pton(AF_INET, ip, c.daddr);
	feed(f, &c, sizeof(c));
}

static void feed_fork(struct fix *f, unsigned int parent, unsigned int child)
{
	struct irc_ev_fork e = {};

	hdr(f, &e.h, IRC_EV_FORK, sizeof(e), parent);
	e.child_tgid = child;
	feed(f, &e, sizeof(e));
}

/* A host detector's finding on @tgid (child of @ppid), about @peer (relay, traced). */
static void feed_proc_finding(struct fix *f, unsigned int det, unsigned int tgid,
			      unsigned int ppid, unsigned int peer, unsigned int sev)
{
	struct irc_ev_finding e = {};

	hdr(f, &e.h, IRC_EV_FINDING, sizeof(e), tgid);
	e.h.ppid = ppid;
	e.detector = det;
	e.action = IRC_ACT_ALERT;
	e.severity = sev;
	e.count = 1;
	e.offences = 1;
	e.target_pid = peer;
	feed(f, &e, sizeof(e));
}

/*
 * A port scan from A, a reverse shell under the server A scanned, a
 * benign client of that server: three chains, and the benign client in
 * none.  A finding joins an incident only through its attacker (the
 * source, the process or its ancestors, a relay), never through a server
 * process they share; an incident is as severe as its worst finding.
 */
static void test_incident_chains(void **state)
{
	struct fix *f = *state;
	struct irc_ev_exec ex = {};
	struct irc_incident in;
	const struct row *scan, *rsh, *r;
	struct rows *rs;

	assert_int_equal(irc_rs_start(f->rs, "test-boot"), 0);
	feed_finding(f, IRC_DET_PORTSCAN, 0, "203.0.113.7", IRC_ACT_QUAR_HOST, true, IRC_SEV_HIGH);
	feed_conn(f, IRC_EV_ACCEPT, 500, "203.0.113.7");	/* the server, from A */
	feed_conn(f, IRC_EV_ACCEPT, 500, "192.0.2.10");		/* the server, from the client */
	feed_fork(f, 500, 501);					/* its handler */
	feed_exec(f, 501);
	/* The server forks the shell; the shell's relay is 503. */
	feed_fork(f, 500, 502);
	feed_proc_finding(f, IRC_DET_REVSHELL, 502, 500, 503, IRC_SEV_CRITICAL);
	/* The shell's child reads /etc/shadow: the shell's chain. */
	feed_fork(f, 502, 504);
	feed_proc_finding(f, IRC_DET_SENSITIVE, 504, 502, 0, IRC_SEV_HIGH);
	/* A child of the relay, its fork never seen: by its ancestry. */
	hdr(f, &ex.h, IRC_EV_EXEC, sizeof(ex), 505);
	ex.h.ppid = 503;
	snprintf(ex.filename, sizeof(ex.filename), "/tmp/x");
	feed(f, &ex, sizeof(ex));
	feed_proc_finding(f, IRC_DET_EXEC_TMP, 505, 503, 0, IRC_SEV_MEDIUM);
	/* Medium first, critical later, one process: one incident, critical. */
	feed_proc_finding(f, IRC_DET_PTRACE, 600, 1, 700, IRC_SEV_MEDIUM);
	feed_proc_finding(f, IRC_DET_REVSHELL, 600, 1, 601, IRC_SEV_CRITICAL);
	/* The traced process is the victim, not an attacker: its finding is its own. */
	feed_proc_finding(f, IRC_DET_EXEC_TMP, 700, 1, 0, IRC_SEV_MEDIUM);
	feed_conn(f, IRC_EV_ACCEPT, 500, "192.0.2.10");
	irc_rs_close(f->rs, "signal");
	f->rs = NULL;

	rs = read_rows();
	scan = find(rs, "finding", "host:203.0.113.7", 0);
	rsh = find(rs, "finding", "pid:502", 0);
	assert_non_null(scan);
	assert_non_null(rsh);
	assert_true(scan->incident > 0 && rsh->incident > 0 && rsh->incident != scan->incident);
	get_incident(scan->incident, &in);
	assert_int_equal(in.severity, IRC_SEV_HIGH);
	get_incident(rsh->incident, &in);
	assert_int_equal(in.severity, IRC_SEV_CRITICAL);
	/* A's traffic to the server: the scan's evidence; the client's: no incident. */
	r = find(rs, "accept", "pid:500", 0);
	assert_int_equal(r->incident, scan->incident);
	assert_int_equal(find(rs, "accept", "pid:500", 1)->incident, 0);
	assert_int_equal(find(rs, "accept", "pid:500", 2)->incident, 0);
	assert_int_equal(find(rs, "fork", "pid:500", 0)->incident, 0);
	assert_int_equal(find(rs, "exec", "pid:501", 0)->incident, 0);
	/* The shell's chain: its child's fork and finding, the relay's child. */
	assert_int_equal(find(rs, "fork", "pid:502", 0)->incident, rsh->incident);
	assert_int_equal(find(rs, "finding", "pid:504", 0)->incident, rsh->incident);
	assert_int_equal(find(rs, "finding", "pid:505", 0)->incident, rsh->incident);
	/* One process, medium then critical: one incident, raised, on record. */
	r = find(rs, "finding", "pid:600", 0);
	assert_int_equal(find(rs, "finding", "pid:600", 1)->incident, r->incident);
	get_incident(r->incident, &in);
	assert_int_equal(in.severity, IRC_SEV_CRITICAL);
	assert_true(r->incident != rsh->incident && r->incident != scan->incident);
	assert_int_equal(count(rs, "incident.severity"), 1);
	/* The victim's own finding: not the tracer's incident. */
	assert_true(find(rs, "finding", "pid:700", 0)->incident != r->incident);
	free_rows(rs);
	assert_int_equal(f->st.incidents, 4);
	expect_verifies(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_findings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_title_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missed_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_delta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_slow_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_related_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incident_chains, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
