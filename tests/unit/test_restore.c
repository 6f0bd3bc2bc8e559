// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the desired state replayed from the store's actions
 * (userspace/restore.c), on a real store whose records are back-dated:
 * TTLs are measured on the wall clock (2 h set 30 min ago has 1 h 30 min
 * left; 2 h set 3 h ago has expired), a release, an expiry or `release
 * --all` ends an entry, a failed action changes nothing, an update keeps
 * the first creation time, a restore's own record replays to the same
 * expiry, allowlist and isolation follow their on/off actions, and a
 * detector's quarantine keeps its detector.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "irc.h"
#include "policy.h"
#include "restore.h"
#include "store.h"

#define S	1000000000LL

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/irc-restore.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return tu_rm_tree(dir);
}

/* One action, @ago seconds ago, with @body (JSON text, "result" ok added). */
static void act(struct irc_store *s, int64_t ago, const char *type, const char *actor,
		const char *target, const char *body)
{
	json_t *b = json_loads(body, 0, NULL);
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = type, .actor = actor,
		.target = target, .body = b,
		.ts_ns = (int64_t)irc_now_real_ns() - ago * S };

	assert_non_null(b);
	if (!json_object_get(b, "result"))
		json_object_set_new(b, "result", json_string("ok"));
	assert_int_equal(irc_store_append(s, &r, NULL), 0);
	json_decref(b);
}

static const struct irc_want_ent *get(const struct irc_want *w, const char *entity)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(w->ent[i].entity, entity))
			return &w->ent[i];
	return NULL;
}

/* Seconds left of @e now, or -1 for no expiry. */
static int64_t left(const struct irc_want_ent *e)
{
	return e->expires_ns ? (e->expires_ns - (int64_t)irc_now_real_ns()) / S : -1;
}

static void test_replay(void **state)
{
	const struct irc_want_ent *e;
	struct irc_store *s;
	struct irc_want w;
	int bad = 0;

	(void)state;
	assert_int_equal(irc_store_open(&s, dir, true), 0);
	/* 10:00 → restored at 10:30: 1 h 30 min left. */
	act(s, 1800, "quarantine", "alice", "host:203.0.113.7",
	    "{\"ttl\": 7200, \"direction\": \"out\", \"reason\": \"c2\", \"uid\": 1000}");
	/* Set 3 h ago for 2 h: expired while down. */
	act(s, 3 * 3600, "quarantine", "alice", "host:203.0.113.8", "{\"ttl\": 7200}");
	/* Set and released. */
	act(s, 600, "quarantine", "alice", "host:10.0.0.0/8", "{\"ttl\": null}");
	act(s, 500, "release", "alice", "host:10.0.0.0/8", "{\"kind\": \"host\"}");
	/* A failed release changes nothing. */
	act(s, 400, "release", "alice", "host:203.0.113.7", "{\"result\": \"No such file or directory\"}");
	/* Updated later: the first creation time stays, the new TTL counts. */
	act(s, 7200, "quarantine", "bob", "host:2001:db8::/32", "{\"ttl\": 60}");
	act(s, 100, "quarantine", "bob", "host:2001:db8::/32", "{\"ttl\": 3600}");
	/* A restore's own record: its absolute expiry wins over its rounded TTL. */
	act(s, 50, "quarantine", "restore", "host:198.51.100.1",
	    "{\"ttl\": 999, \"expires_ns\": 1, \"created_ns\": 5}");
	/* Expired by the controller. */
	act(s, 40, "quarantine", "alice", "host:198.51.100.2", "{\"ttl\": 1}");
	act(s, 30, "expire", "controller", "host:198.51.100.2", "{}");
	/* A detector's quarantine. */
	act(s, 20, "quarantine", "portscan", "host:192.0.2.66",
	    "{\"ttl\": 600, \"origin\": \"detector\", \"kind\": \"host\"}");
	/* Allowlist: added twice, deleted once, added again. */
	act(s, 90, "allow.add", "alice", "host:192.0.2.10", "{\"change\": \"added\"}");
	act(s, 80, "allow.add", "alice", "host:192.0.2.11", "{\"change\": \"added\"}");
	act(s, 70, "allow.del", "alice", "host:192.0.2.11", "{}");
	/* Isolation on, off, on again with an exemption and DNS. */
	act(s, 65, "isolate", "alice", "", "{\"allow\": [], \"allow_dns\": false}");
	act(s, 60, "isolate.off", "alice", "", "{}");
	act(s, 55, "isolate", "alice", "", "{\"allow\": [\"192.0.2.0/24\"], \"allow_dns\": true}");
	/* Processes and cgroups; then release --all ends the pid but not the allowlist. */
	act(s, 45, "quarantine", "alice", "pid:4242", "{\"kind\": \"pid\"}");
	act(s, 44, "quarantine", "alice", "cgroup:/sys/fs/cgroup/x", "{\"kind\": \"cgroup\", \"ttl\": 3600}");
	/* Cgroup paths longer than IRC_PATH_LEN: one released, one not. */
	char longq[600], longr[600];
	snprintf(longq, sizeof(longq), "cgroup:/sys/fs/cgroup/%0300d/q", 0);
	snprintf(longr, sizeof(longr), "cgroup:/sys/fs/cgroup/%0300d/r", 0);
	act(s, 43, "quarantine", "alice", longq, "{\"kind\": \"cgroup\"}");
	act(s, 43, "quarantine", "alice", longr, "{\"kind\": \"cgroup\"}");
	act(s, 42, "release", "alice", longr, "{\"kind\": \"cgroup\"}");

	assert_int_equal(irc_want_collect(s, &w), 0);

	e = get(&w, "host:203.0.113.7");
	EXPECT(bad, e && e->live && e->kind == IRC_WANT_HOST, "2 h set 30 min ago is live");
	EXPECT(bad, e && left(e) > 5390 && left(e) <= 5400, "2 h set 30 min ago: 5400 s left, got %lld",
	       e ? (long long)left(e) : -9);
	EXPECT(bad, e && e->dir == IRC_DIR_OUT && !strcmp(e->reason, "c2") && e->uid == 1000,
	       "direction, reason and uid replayed");
	e = get(&w, "host:203.0.113.8");
	EXPECT(bad, e && e->live && left(e) < 0 && e->expires_ns,
	       "2 h set 3 h ago: still wanted, but its expiry is in the past (restore says so)");
	e = get(&w, "host:10.0.0.0/8");
	EXPECT(bad, e && !e->live, "released: not wanted");
	e = get(&w, "host:2001:db8::/32");
	EXPECT(bad, e && e->live && left(e) > 3490 && left(e) <= 3500,
	       "updated: the last TTL counts from the update, got %lld", e ? (long long)left(e) : -9);
	EXPECT(bad, e && (int64_t)irc_now_real_ns() - e->created_ns > 7100 * S,
	       "updated: created when first set");
	e = get(&w, "host:198.51.100.1");
	EXPECT(bad, e && e->expires_ns == 1 && e->created_ns == 5, "a restore record's expiry and creation replay exactly");
	e = get(&w, "host:198.51.100.2");
	EXPECT(bad, e && !e->live, "expired by the controller: not wanted");
	e = get(&w, "host:192.0.2.66");
	EXPECT(bad, e && e->live && e->origin == IRC_ORIGIN_DETECTOR &&
	       e->detector == IRC_DET_PORTSCAN, "a detector's quarantine keeps its detector");
	e = get(&w, "allow:192.0.2.10");
	EXPECT(bad, e && e->live && e->kind == IRC_WANT_ALLOW, "allowlist entry wanted");
	e = get(&w, "allow:192.0.2.11");
	EXPECT(bad, e && !e->live, "deleted allowlist entry not wanted");
	EXPECT(bad, w.isolate && w.iso_flags == IRC_CFG_ISO_DNS && w.n_iso_allow == 1,
	       "isolation: the last 'on', with its exemption and DNS");
	e = get(&w, "pid:4242");
	EXPECT(bad, e && e->live && e->kind == IRC_WANT_PID, "pid quarantine in force");
	e = get(&w, "cgroup:/sys/fs/cgroup/x");
	EXPECT(bad, e && e->live && e->kind == IRC_WANT_CGROUP, "cgroup quarantine in force");
	e = get(&w, longq);
	EXPECT(bad, e && e->live && !strcmp(e->entity, longq),
	       "a cgroup path of %zu bytes is kept whole", strlen(longq));
	e = get(&w, longr);
	EXPECT(bad, e && !e->live, "a released cgroup of %zu bytes is not wanted", strlen(longr));
	irc_want_free(&w);

	act(s, 10, "release", "alice", "", "{\"kind\": \"all\"}");
	act(s, 5, "isolate.off", "alice", "", "{}");
	assert_int_equal(irc_want_collect(s, &w), 0);
	e = get(&w, "host:203.0.113.7");
	EXPECT(bad, e && !e->live, "release --all ends host quarantines");
	e = get(&w, "pid:4242");
	EXPECT(bad, e && !e->live, "release --all ends process quarantines");
	e = get(&w, "allow:192.0.2.10");
	EXPECT(bad, e && e->live, "release --all keeps the allowlist");
	EXPECT(bad, !w.isolate && !w.n_iso_allow, "isolate off: not isolated, no exemptions");
	irc_want_free(&w);
	irc_store_close(s);
	assert_int_equal(bad, 0);
}

/* Many entities: the index grows and every one is found again. */
static void test_many(void **state)
{
	struct irc_store *s;
	struct irc_want w;
	char t[64];
	int i, live = 0;
	size_t k;

	(void)state;
	assert_int_equal(irc_store_open(&s, dir, true), 0);
	assert_int_equal(irc_store_begin(s), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(t, sizeof(t), "host:10.%d.%d.1", i / 256, i % 256);
		act(s, 10, "quarantine", "alice", t, "{}");
		if (i % 3 == 0)
			act(s, 5, "release", "alice", t, "{}");
	}
	assert_int_equal(irc_store_commit(s), 0);
	assert_int_equal(irc_want_collect(s, &w), 0);
	for (k = 0; k < w.n; k++)
		live += w.ent[k].live;
	assert_int_equal(w.n, 3000);
	assert_int_equal(live, 2000);
	irc_want_free(&w);
	irc_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
