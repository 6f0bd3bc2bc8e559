// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the evidence store (userspace/store.c) on a real SQLite
 * file in a scratch directory: file modes, schema versioning, the hash
 * chain over the three tables, incidents, and every way of tampering with
 * the file that verify must catch (a changed row, a deleted row, two rows
 * swapped, the tail cut off, the head removed or rewritten, an incident
 * edited, a changed evidence blob), each named by the first broken record.
 * Also: concurrent writers keep one unbroken chain; a rolled-back batch
 * leaves nothing; a controller session without a clean stop is reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "irc.h"
#include "store.h"

static char dir[64];
static char dbpath[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/irc-store.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* The store creates its own dir: start from a path that does not exist. */
	strcat(dir, "/state");
	snprintf(dbpath, sizeof(dbpath), "%s/%s", dir, IRC_STORE_DB);
	return 0;
}

static int teardown(void **state)
{
	char top[64];

	(void)state;
	snprintf(top, sizeof(top), "%s", dir);
	*strrchr(top, '/') = '\0';
	return tu_rm_tree(top);
}

static struct irc_store *open_store(void)
{
	struct irc_store *s = NULL;
	int err = irc_store_open(&s, dir, true);

	if (err)
		print_error("open %s: %s\n", dir, irc_store_errmsg());
	assert_int_equal(err, 0);
	return s;
}

static int64_t add(struct irc_store *s, enum irc_rec_kind kind, const char *type,
		   const char *target, int64_t incident)
{
	json_t *body = json_pack("{s:s}", "message", type);
	struct irc_rec r = { .kind = kind, .incident = incident, .type = type,
		.actor = "tester", .target = target, .body = body };
	int64_t seq = 0;

	if (kind == IRC_REC_EVIDENCE) {
		r.data = "\x45\x00\x00\x14packet";
		r.data_len = 10;
	}
	assert_int_equal(irc_store_append(s, &r, &seq), 0);
	json_decref(body);
	return seq;
}

static void tamper(const char *sql);

/* Ten records over the three tables, one incident. */
static void fill(struct irc_store *s, int64_t *inc)
{
	assert_int_equal(irc_incident_open(s, "Port scan", 3, "tester", "host:10.0.0.1", inc), 0);
	add(s, IRC_REC_EVENT, "exec", "pid:100", 0);
	add(s, IRC_REC_ACTION, "quarantine", "host:10.0.0.1", *inc);
	add(s, IRC_REC_EVIDENCE, "packet", "host:10.0.0.1", *inc);
	add(s, IRC_REC_EVENT, "fork", "pid:100", 0);
	add(s, IRC_REC_EVIDENCE, "snapshot", "pid:100", *inc);
	add(s, IRC_REC_EVENT, "exit", "pid:100", 0);
	assert_int_equal(irc_incident_set_status(s, *inc, IRC_IS_TRIAGED, "tester", "looked"), 0);
	add(s, IRC_REC_ACTION, "release", "host:10.0.0.1", *inc);
	/* What an attacker may have kept: the head, sealed, as it was at #9. */
	tamper("CREATE TABLE IF NOT EXISTS old_head AS SELECT sig FROM chain");
	add(s, IRC_REC_EVENT, "exec", "pid:101", 0);
}

/* Runs @sql on the store file behind the store's back. */
static void tamper(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		print_error("tamper '%s': %s\n", sql, msg);
	assert_null(msg);
	sqlite3_close(db);
}

static void unlink_wal(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

static void anchor_path(char *p, size_t len)
{
	snprintf(p, len, "%s/%s", dir, IRC_STORE_ANCHOR);
}

static void unlink_anchor(void)
{
	char p[160];

	anchor_path(p, sizeof(p));
	unlink(p);
}

/* A write is refused, names the problem, and adds nothing. */
static void expect_refused(const char *words)
{
	struct irc_store *s = open_store();
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "quarantine", .actor = "t" };
	int64_t before = 0, after = 0, inc;

	assert_int_equal(irc_store_tip(s, &before, &inc), 0);
	assert_int_equal(irc_store_append(s, &r, NULL), -EBADMSG);
	if (!strstr(irc_store_errmsg(), words) || !strstr(irc_store_errmsg(), "refused"))
		print_error("refused with '%s' (expected '%s')\n", irc_store_errmsg(), words);
	assert_non_null(strstr(irc_store_errmsg(), words));
	assert_non_null(strstr(irc_store_errmsg(), "refused to extend"));
	assert_int_equal(irc_store_tip(s, &after, &inc), 0);
	assert_int_equal(after, before);
	irc_store_close(s);
}

/* The operator accepts: recorded, verified intact, and writes go on. */
static void accept_and_write(void)
{
	struct irc_store *s = open_store();
	struct irc_verify v;
	bool seen = false;
	int64_t last, inc;

	assert_int_equal(irc_store_accept_rollback(s, "alice", "test"), 0);
	assert_int_equal(irc_store_verify(s, &v), 0);
	add(s, IRC_REC_EVENT, "exec", "pid:7", 0);
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(irc_store_tip(s, &last, &inc), 0);
	/* The acceptance is itself a record, the one before the last. */
	tamper("CREATE TABLE IF NOT EXISTS t_seen AS SELECT seq FROM actions"
	       " WHERE type = 'store.accept-rollback'");
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq FROM t_seen", -1, &st, NULL),
				 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			seen |= sqlite3_column_int64(st, 0) == last - 1;
		sqlite3_finalize(st);
		sqlite3_exec(db, "DROP TABLE t_seen", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	assert_true(seen);
	irc_store_close(s);
}

static void expect_broken(int64_t seq, const char *words)
{
	struct irc_store *s = open_store();
	struct irc_verify v;
	int err = irc_store_verify(s, &v);

	irc_store_close(s);
	if (err != -EBADMSG || v.bad_seq != seq || !strstr(v.problem, words))
		print_error("verify: %d, bad #%lld, '%s' (expected #%lld, '%s')\n", err,
			    (long long)v.bad_seq, v.problem, (long long)seq, words);
	assert_int_equal(err, -EBADMSG);
	assert_int_equal(v.bad_seq, seq);
	assert_non_null(strstr(v.problem, words));
}

static void test_create_and_modes(void **state)
{
	struct irc_store *s;
	struct stat st;
	char path[160];

	(void)state;
	assert_int_equal(irc_store_open(&s, dir, false), -ENOENT);
	s = open_store();
	irc_store_close(s);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(dbpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/%s", dir, IRC_STORE_HMAC_KEY);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, IRC_MAC_LEN);

	/* A key others can read is refused, not used. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(irc_store_open(&s, dir, true), -EPERM);
	assert_non_null(strstr(irc_store_errmsg(), "0644"));
	assert_int_equal(chmod(path, 0600), 0);

	/* A store from a newer ircontain is refused, not migrated down. */
	tamper("PRAGMA user_version = 99");
	assert_int_equal(irc_store_open(&s, dir, true), -EPROTO);
	assert_non_null(strstr(irc_store_errmsg(), "99"));
	tamper("PRAGMA user_version = 2");
	s = open_store();
	irc_store_close(s);
}

/* A version 1 store (no partial indexes yet) is migrated on open, once. */
static void test_migration(void **state)
{
	struct irc_store *s;
	struct irc_verify v;
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t inc;
	int n = -1, ver = -1;

	(void)state;
	s = open_store();
	fill(s, &inc);
	irc_store_close(s);
	tamper("DROP INDEX actions_inc_target; DROP INDEX actions_inc_peer;"
	       "DROP INDEX events_inc_target; DROP INDEX events_inc_peer;"
	       "DROP INDEX evidence_inc_target; DROP INDEX evidence_inc_peer;"
	       "PRAGMA user_version = 1");
	s = open_store();
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 10);
	irc_store_close(s);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE"
					    " type = 'index' AND name GLOB '*_inc_*'", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(n, 6);
	assert_int_equal(ver, IRC_STORE_SCHEMA);
}

static void test_chain_intact(void **state)
{
	struct irc_store *s;
	struct irc_verify v;
	int64_t inc;

	(void)state;
	s = open_store();
	fill(s, &inc);
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 10);
	assert_int_equal(v.actions, 4);
	assert_int_equal(v.events, 4);
	assert_int_equal(v.evidence, 2);
	assert_int_equal(v.head_seq, 10);
	assert_int_equal(v.incidents, 1);
	assert_int_equal(v.unclean, 0);
	assert_string_equal(v.problem, "");
	irc_store_close(s);
	/* Reopened by another process later: still intact, appends continue. */
	s = open_store();
	assert_int_equal(add(s, IRC_REC_EVENT, "exec", "pid:102", 0), 11);
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 11);
	irc_store_close(s);
}

/* Each way of editing the file behind the store's back, and what verify says. */
static const struct tamper_case {
	const char *name, *sql;
	int64_t bad_seq;	/* first broken record (0: not a record) */
	const char *says;
} tamper_cases[] = {
	{ "changed body", "UPDATE events SET body = '{\"message\":\"nothing\"}' WHERE seq = 5",
	  5, "does not match its MAC" },
	/* Not the body: the actor, which no index or summary repeats. */
	{ "changed actor", "UPDATE actions SET actor = 'someone else' WHERE seq = 3",
	  3, "does not match its MAC" },
	{ "changed blob", "UPDATE evidence SET data = x'4500001470616b6b6574' WHERE seq = 4",
	  4, "does not match its MAC" },
	{ "deleted row", "DELETE FROM events WHERE seq = 7", 7, "missing" },
	/* Two events trade places: each keeps its MAC, neither matches. */
	{ "swapped rows", "UPDATE events SET seq = -1 WHERE seq = 2;"
	  "UPDATE events SET seq = 2 WHERE seq = 5;"
	  "UPDATE events SET seq = 5 WHERE seq = -1;", 2, "does not match its MAC" },
	{ "tail cut off", "DELETE FROM events WHERE seq = 10", 10, "truncated" },
	{ "incident edited", "UPDATE incidents SET status = 5, summary = 'nothing happened'",
	  0, "edited" },
	/* Its window moved away from its records: show and export would be empty. */
	{ "incident times edited", "UPDATE incidents SET created_ns = created_ns + 10000000000000",
	  0, "times or opener" },
	{ "incident opener edited", "UPDATE incidents SET opened_by = 'mallory'", 0, "times or opener" },
	/* Cut the tail and put back an older head, seal and all (taken at #9). */
	{ "tail and head rolled back together", "DELETE FROM events WHERE seq = 10;"
	  "UPDATE chain SET seq = 9, mac = (SELECT mac FROM actions WHERE seq = 9),"
	  " sig = (SELECT sig FROM old_head)", 10, "rolled back" },
};

static void test_tamper(void **state)
{
	struct irc_store *s;
	int64_t inc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tamper_cases) / sizeof(tamper_cases[0]); i++) {
		const struct tamper_case *c = &tamper_cases[i];

		print_message("tamper: %s\n", c->name);
		s = open_store();
		fill(s, &inc);
		irc_store_close(s);
		tamper(c->sql);
		expect_broken(c->bad_seq, c->says);
		/* A fresh store for the next case (its anchor too). */
		assert_int_equal(unlink(dbpath), 0);
		unlink_wal();
		unlink_anchor();
	}
}

static void test_head_removed_or_moved(void **state)
{
	struct irc_store *s;
	int64_t inc;

	(void)state;
	s = open_store();
	fill(s, &inc);
	irc_store_close(s);
	/* Cut the tail and point the head back: its seal gives it away. */
	tamper("DELETE FROM events WHERE seq = 10;"
	       "UPDATE chain SET seq = 9, mac = (SELECT mac FROM actions WHERE seq = 9)");
	expect_broken(9, "seal");
	tamper("DELETE FROM chain");
	expect_broken(9, "head is missing");
}

/* A whole older copy of the store, or the store deleted: the anchor says. */
static void test_rollback_to_copy(void **state)
{
	struct irc_store *s;
	char cmd[1024];
	int64_t inc;

	(void)state;
	s = open_store();
	fill(s, &inc);
	irc_store_close(s);
	/* The copy as a backup tool takes it: the database and its WAL. */
	snprintf(cmd, sizeof(cmd), "cp -p %s %s.old && cp -p %s-wal %s-wal.old", dbpath, dbpath,
		 dbpath, dbpath);
	assert_int_equal(system(cmd), 0);
	s = open_store();
	add(s, IRC_REC_ACTION, "quarantine", "host:10.0.0.2", inc);
	irc_store_close(s);
	snprintf(cmd, sizeof(cmd), "mv %s.old %s && mv %s-wal.old %s-wal && rm -f %s-shm",
		 dbpath, dbpath, dbpath, dbpath, dbpath);
	assert_int_equal(system(cmd), 0);
	expect_broken(11, "rolled back");
	/*
	 * Ordinary writes do not launder it: each is refused, and after N of
	 * them the store is still BROKEN (they once moved the anchor onto the
	 * older copy until it said "store ok").
	 */
	for (int i = 0; i < 12; i++)
		expect_refused("rolled back");
	expect_broken(11, "rolled back");
	accept_and_write();
	/* Deleted outright: a new store would start again from #1; refused too. */
	assert_int_equal(unlink(dbpath), 0);
	unlink_wal();
	expect_refused("rolled back");
	expect_broken(1, "rolled back");
}

/* A missing, garbage or foreign anchor is an error, never a reset. */
static void test_anchor_missing_or_garbage(void **state)
{
	struct irc_store *s;
	char p[160];
	int64_t inc;
	FILE *f;

	(void)state;
	s = open_store();
	fill(s, &inc);
	irc_store_close(s);
	anchor_path(p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	expect_refused("missing");
	expect_broken(0, "missing");
	assert_int_equal(access(p, F_OK), -1);		/* not recreated */

	f = fopen(p, "w");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(chmod(p, 0600), 0);
	expect_refused("unreadable");
	expect_broken(0, "unreadable");

	/* A sealed line of the right shape but a forged seal. */
	f = fopen(p, "w");
	fprintf(f, "10 %064d %064d\n", 0, 0);
	fclose(f);
	expect_refused("seal");

	/* Writable by others: not trusted. */
	assert_int_equal(chmod(p, 0666), 0);
	expect_refused("mode 0666");
	assert_int_equal(chmod(p, 0600), 0);
	accept_and_write();
}

/* The key gone while records exist: refused, never silently replaced. */
static void test_missing_key(void **state)
{
	struct irc_store *s;
	char path[160];
	int64_t inc;

	(void)state;
	s = open_store();
	fill(s, &inc);
	irc_store_close(s);
	snprintf(path, sizeof(path), "%s/%s", dir, IRC_STORE_HMAC_KEY);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(irc_store_open(&s, dir, true), -ENOENT);
	assert_non_null(strstr(irc_store_errmsg(), "restore the key"));
	assert_int_equal(access(path, F_OK), -1);
}

static void test_incidents(void **state)
{
	struct irc_incident in;
	struct irc_store *s;
	struct irc_verify v;
	int64_t a, b, found;
	char **ents;
	size_t n, i;
	int seen = 0;

	(void)state;
	s = open_store();
	assert_int_equal(irc_incident_open(s, "Scan", 3, "portscan", "host:10.0.0.1", &a), 0);
	assert_int_equal(irc_incident_open(s, "Shell", 4, "alice", "pid:4242", &b), 0);
	assert_true(b > a);
	assert_int_equal(irc_incident_get(s, a, &in), 0);
	assert_string_equal(in.title, "Scan");
	assert_int_equal(in.status, IRC_IS_DETECTED);
	assert_string_equal(in.opened_by, "portscan");
	assert_int_equal(irc_incident_get(s, 999, &in), -ENOENT);

	/* A finding for the same entity within the window joins the incident. */
	assert_int_equal(irc_incident_find(s, "host:10.0.0.1", irc_now_real_ns(), 60, &found), 0);
	assert_int_equal(found, a);
	assert_int_equal(irc_incident_find(s, "host:10.0.0.9", irc_now_real_ns(), 60, &found), 0);
	assert_int_equal(found, 0);
	/* ... but not after the window. */
	assert_int_equal(irc_incident_find(s, "host:10.0.0.1",
					   irc_now_real_ns() + 120000000000LL, 60, &found), 0);
	assert_int_equal(found, 0);

	add(s, IRC_REC_ACTION, "quarantine", "pid:4243", b);
	assert_int_equal(irc_incident_entities(s, b, &ents, &n), 0);
	for (i = 0; i < n; i++)
		seen += !strcmp(ents[i], "pid:4242") + !strcmp(ents[i], "pid:4243");
	assert_int_equal(seen, 2);
	irc_strv_free(ents, n);

	assert_int_equal(irc_incident_set_status(s, a, IRC_IS_CLOSED, "alice", "done"), 0);
	assert_int_equal(irc_incident_get(s, a, &in), 0);
	assert_string_equal(in.summary, "done");
	assert_true(in.closed_ns > 0);
	assert_int_equal(irc_incident_check_open(s, a), -EALREADY);
	assert_int_equal(irc_incident_set_status(s, a, IRC_IS_TRIAGED, "alice", ""), -EALREADY);
	/* A closed incident takes no more findings. */
	assert_int_equal(irc_incident_find(s, "host:10.0.0.1", irc_now_real_ns(), 60, &found), 0);
	assert_int_equal(found, 0);
	/* Every change above was recorded: the table matches the chain. */
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.incidents, 2);
	irc_store_close(s);
}

static void test_rollback(void **state)
{
	struct irc_store *s;
	struct irc_verify v;
	int64_t inc;

	(void)state;
	s = open_store();
	fill(s, &inc);
	assert_int_equal(irc_store_begin(s), 0);
	add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	add(s, IRC_REC_EVENT, "exec", "pid:2", 0);
	irc_store_rollback(s);
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 10);
	assert_int_equal(add(s, IRC_REC_EVENT, "exec", "pid:3", 0), 11);
	irc_store_close(s);
}

static void test_concurrent_writers(void **state)
{
	struct irc_store *s;
	struct irc_verify v;
	int i, status, w;
	pid_t kids[3];

	(void)state;
	s = open_store();
	irc_store_close(s);
	for (w = 0; w < 3; w++) {
		kids[w] = fork();
		assert_true(kids[w] >= 0);
		if (!kids[w]) {
			struct irc_store *c;
			int bad = 0;

			if (irc_store_open(&c, dir, true))
				_exit(1);
			for (i = 0; i < 100; i++) {
				struct irc_rec r = { .kind = w + 1, .type = "w", .actor = "w" };

				if (irc_store_append(c, &r, NULL)) {
					fprintf(stderr, "writer %d: %s\n", w, irc_store_errmsg());
					bad++;
				}
			}
			irc_store_close(c);
			_exit(bad ? 1 : 0);
		}
	}
	for (w = 0; w < 3; w++) {
		assert_int_equal(waitpid(kids[w], &status, 0), kids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = open_store();
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 300);
	assert_int_equal(v.actions, 100);
	assert_int_equal(v.events, 100);
	assert_int_equal(v.evidence, 100);
	irc_store_close(s);
}

/* Descriptors of this process on a file under @dir that is gone. */
static int deleted_fds(void)
{
	char link[300], target[PATH_MAX];
	struct dirent *de;
	ssize_t n;
	int found = 0;
	DIR *d = opendir("/proc/self/fd");

	assert_non_null(d);
	while ((de = readdir(d))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, dir, strlen(dir)) && strstr(target, "(deleted)")) {
			print_error("fd %s: %s\n", de->d_name, target);
			found++;
		}
	}
	closedir(d);
	return found;
}

/*
 * A CLI command's appends: @n of kind @kind, each through its own open and
 * close, in a new program (this one, re-executed).  Not a fork of this
 * process: a fork inherits SQLite's memory of the parent's locks and
 * would not behave as another program does.
 */
static int cli_main(const char *sdir, int kind, int n)
{
	struct irc_store *c;
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		struct irc_rec r = { .kind = kind, .type = "cli", .actor = "cli" };

		if (irc_store_open(&c, sdir, true))
			return 1;
		bad += irc_store_append(c, &r, NULL) != 0;
		irc_store_close(c);
	}
	return bad ? 1 : 0;
}

static pid_t cli_writer(int kind, int n)
{
	char k[16], c[16];
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		snprintf(k, sizeof(k), "%d", kind);
		snprintf(c, sizeof(c), "%d", n);
		execl("/proc/self/exe", "test_store", "--cli", dir, k, c, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * Issue 12: a process holding the store (the controller) that opens it a
 * second time with create=true (the old code opened and closed the file
 * with open(2) first, which dropped every POSIX lock the process held on
 * it), while CLI processes read and write: the next CLI to close believed
 * it was alone, checkpointed and deleted the WAL and -shm under the
 * controller, whose later writes went to a deleted file.  Now the WAL stays,
 * and every write of every process is in one verified chain.
 */
static void test_locks_survive_second_open(void **state)
{
	struct irc_store *s, *b;
	struct irc_verify v;
	int w, status;
	pid_t kids[3];

	(void)state;
	s = open_store();
	add(s, IRC_REC_ACTION, "run.start", "", 0);	/* the WAL is open, its lock held */
	assert_int_equal(irc_store_open(&b, dir, true), 0);
	irc_store_close(b);
	for (w = 0; w < 3; w++)
		kids[w] = cli_writer(w == 2 ? IRC_REC_EVIDENCE : IRC_REC_ACTION, 20);
	for (w = 0; w < 3; w++) {
		assert_int_equal(waitpid(kids[w], &status, 0), kids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(deleted_fds(), 0);
	/* The controller goes on writing: what it writes, everyone sees. */
	add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	kids[0] = cli_writer(IRC_REC_ACTION, 5);
	assert_int_equal(waitpid(kids[0], &status, 0), kids[0]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(deleted_fds(), 0);
	irc_store_close(s);
	s = open_store();
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 1 + 60 + 1 + 5);
	irc_store_close(s);
}

/* A reader's transaction on its own connection, as a CLI reader holds one. */
static sqlite3 *reader_begin(void)
{
	sqlite3 *r = NULL;

	assert_int_equal(sqlite3_open_v2(dbpath, &r, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(r, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL,
				      NULL), SQLITE_OK);
	return r;
}

static void reader_end(sqlite3 *r)
{
	assert_int_equal(sqlite3_exec(r, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(r);
}

static off_t wal_size(void)
{
	char p[160];
	struct stat st;

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	return stat(p, &st) ? -1 : st.st_size;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/*
 * Readers that overlap, as the CLI's are under load, keep SQLite's own
 * checkpoints from ever restarting the WAL: it only grows.  The trim
 * waits (bounded) while a reader stays, and truncates it once none does.
 */
static void test_wal_trim(void **state)
{
	struct irc_store *s;
	struct irc_verify v;
	sqlite3 *r1, *r2;
	off_t grown;
	uint64_t t0;
	int i, frames = -1;

	(void)state;
	s = open_store();
	r1 = reader_begin();
	for (i = 0; i < 300; i++)
		add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	r2 = reader_begin();
	reader_end(r1);
	for (i = 0; i < 300; i++)
		add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	grown = wal_size();
	assert_true(grown > 100 * 1024);
	assert_int_equal(irc_store_wal_trim(s, 50, NULL, NULL, &frames), -EBUSY);
	assert_true(wal_size() >= grown);
	/* A stopping controller does not wait out the reader. */
	t0 = irc_now_boot_ns();
	assert_int_equal(irc_store_wal_trim(s, 5000, never, NULL, &frames), -EBUSY);
	assert_true(irc_now_boot_ns() - t0 < 1000000000ULL);
	reader_end(r2);
	assert_int_equal(irc_store_wal_trim(s, 50, NULL, NULL, &frames), 0);
	assert_int_equal(frames, 0);
	assert_int_equal(wal_size(), 0);
	/* Writing goes on, and everything is there. */
	add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	irc_store_close(s);
	s = open_store();
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.records, 601);
	irc_store_close(s);
}

static int64_t add_at(struct irc_store *s, const char *type, int64_t incident, int64_t ts_ns)
{
	struct irc_rec r = { .kind = IRC_REC_EVENT, .incident = incident, .ts_ns = ts_ns,
		.type = type, .actor = "tester", .target = "pid:1" };
	int64_t seq = 0;

	assert_int_equal(irc_store_append(s, &r, &seq), 0);
	return seq;
}

static void expect_intact(int64_t records, int64_t pruned_last)
{
	struct irc_store *s = open_store();
	struct irc_verify v;
	int err = irc_store_verify(s, &v);

	irc_store_close(s);
	if (err)
		print_error("verify: %s\n", v.problem);
	assert_int_equal(err, 0);
	assert_int_equal(v.records, records);
	assert_int_equal(v.pruned_last, pruned_last);
}

/*
 * Pruning by size: the oldest records go, up to the first record of an
 * open incident; a closed one goes whole; verify proves what is left from
 * the seal and names the cut; a cut that was not a prune is caught.
 */
static void test_prune_size(void **state)
{
	struct irc_prune_limits lim = { .max_bytes = 1 };
	struct irc_prune_result res;
	struct irc_store_info info;
	struct irc_incident in;
	struct irc_store *s;
	int64_t a, i, head;

	(void)state;
	s = open_store();
	for (i = 0; i < 10; i++)
		add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	assert_int_equal(irc_incident_open(s, "Held", 3, "tester", "pid:2", &a), 0);	/* #11 */
	add(s, IRC_REC_EVENT, "exec", "pid:2", a);
	for (i = 0; i < 5; i++)
		add(s, IRC_REC_EVENT, "exec", "pid:1", 0);				/* #13-#17 */
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.first, 1);
	assert_int_equal(res.last, 10);
	assert_int_equal(res.count, 10);
	assert_int_equal(res.held_by, a);
	assert_int_equal(irc_store_info(s, &info), 0);
	assert_int_equal(info.records, 8);
	assert_int_equal(info.first_seq, 11);
	assert_int_equal(info.pruned_total, 10);
	assert_int_equal(info.pruned_last, 10);
	assert_true(info.pruned_ns > 0 && info.oldest_ns > 0);
	irc_store_close(s);
	expect_intact(8, 10);

	/* Nothing more may go while the incident is open. */
	s = open_store();
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.held_by, a);
	/* Closed: it goes, whole, with its row; the seal is the second prune. */
	assert_int_equal(irc_incident_set_status(s, a, IRC_IS_CLOSED, "tester", "done"), 0);
	head = add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.first, 11);
	assert_int_equal(res.last, head);
	assert_int_equal(res.incidents, 1);
	assert_int_equal(irc_incident_get(s, a, &in), -ENOENT);
	irc_store_close(s);
	expect_intact(1, head);

	/* Records deleted by hand at the start are not a prune. */
	s = open_store();
	for (i = 0; i < 3; i++)
		add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	irc_store_close(s);
	tamper("DELETE FROM events WHERE seq = (SELECT min(seq) FROM events)");
	expect_broken(head + 2, "is missing");
}

/*
 * A closed incident cut in two: its row goes with its opening record, and
 * what is left of its records must not hold later prunes (they read as an
 * incident with no row, which is not an open one).
 */
static void test_prune_split_incident(void **state)
{
	struct irc_prune_limits lim = { .max_bytes = 1, .max_rows = 3 };
	struct irc_prune_result res;
	struct irc_incident in;
	struct irc_store *s;
	int64_t a, i, head = 0;

	(void)state;
	s = open_store();
	assert_int_equal(irc_incident_open(s, "Split", 3, "tester", "pid:2", &a), 0);	/* #1 */
	for (i = 0; i < 5; i++)
		add(s, IRC_REC_EVENT, "exec", "pid:2", a);				/* #2-#6 */
	assert_int_equal(irc_incident_set_status(s, a, IRC_IS_CLOSED, "tester", "done"), 0);
	for (i = 0; i < 5; i++)
		head = add(s, IRC_REC_EVENT, "exec", "pid:1", 0);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.first, 1);
	assert_int_equal(res.last, 3);
	assert_int_equal(irc_incident_get(s, a, &in), -ENOENT);
	/* The rest of its records, and everything after them, may go. */
	lim.max_rows = 0;
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.held_by, 0);
	assert_int_equal(res.first, 4);
	assert_true(res.last >= head);
	irc_store_close(s);
}

/* By age, and an incident never exported holds the cut when the policy says so. */
static void test_prune_age_export(void **state)
{
	struct irc_prune_limits lim = { .max_age_s = 86400, .keep_unexported = true };
	int64_t old = (int64_t)irc_now_real_ns() - 10 * 86400 * 1000000000LL, b, i;
	struct irc_prune_result res;
	struct irc_store *s;

	(void)state;
	s = open_store();
	for (i = 0; i < 5; i++)
		add_at(s, "exec", 0, old);
	assert_int_equal(irc_incident_open(s, "Closed", 3, "tester", "pid:3", &b), 0);	/* #6 */
	add_at(s, "exec", b, old);
	assert_int_equal(irc_incident_set_status(s, b, IRC_IS_CLOSED, "tester", "done"), 0);
	for (i = 0; i < 3; i++)
		add_at(s, "exec", 0, 0);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	/* The age cut is before #6 anyway (its open is new): #1-#5. */
	assert_int_equal(res.last, 5);
	irc_store_close(s);
	expect_intact(7, 5);	/* #6-#11 and the prune */

	/* All old now: the closed incident is held until exported. */
	s = open_store();
	lim.max_age_s = 0;
	lim.max_bytes = 1;
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.held_by, b);
	add(s, IRC_REC_ACTION, "export", "", b);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_true(res.count > 0);
	irc_store_close(s);

	/* The seal edited: its record no longer matches its MAC. */
	tamper("UPDATE actions SET body = replace(body, '\"last\":', '\"last\": ') WHERE type = 'store.prune'"
	       " AND seq = (SELECT max(seq) FROM actions WHERE type = 'store.prune')");
	s = open_store();
	{
		struct irc_verify v;

		assert_int_equal(irc_store_verify(s, &v), -EBADMSG);
		assert_non_null(strstr(v.problem, "does not match its MAC"));
	}
	irc_store_close(s);
}

/* Verify is intact, with @n pruned ranges, the first @nr of them @r (first, last pairs). */
static void expect_ranges(int64_t records, size_t n, const int64_t (*r)[2], size_t nr)
{
	struct irc_store *s = open_store();
	struct irc_verify v;
	int err = irc_store_verify(s, &v);
	size_t i;

	irc_store_close(s);
	if (err)
		print_error("verify: #%lld %s\n", (long long)v.bad_seq, v.problem);
	assert_int_equal(err, 0);
	assert_int_equal(v.records, records);
	assert_int_equal(v.pruned_ranges, n);
	for (i = 0; i < nr; i++) {
		if (v.ranges[i].first != r[i][0] || v.ranges[i].last != r[i][1])
			print_error("range %zu: #%lld-#%lld, want #%lld-#%lld\n", i,
				    (long long)v.ranges[i].first, (long long)v.ranges[i].last,
				    (long long)r[i][0], (long long)r[i][1]);
		assert_int_equal(v.ranges[i].first, r[i][0]);
		assert_int_equal(v.ranges[i].last, r[i][1]);
		assert_true(v.ranges[i].ts_ns > 0);
	}
}

/* The seal's body as it was, put back after a tamper test. */
static void tamper_seal(const char *set)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "CREATE TABLE saved AS SELECT seq, body FROM actions"
		 " WHERE seq = (SELECT max(seq) FROM actions WHERE type = 'store.prune');"
		 "UPDATE actions SET body = %s WHERE seq = (SELECT seq FROM saved)", set);
	tamper(sql);
}

static void untamper_seal(void)
{
	tamper("UPDATE actions SET body = (SELECT body FROM saved) WHERE seq = (SELECT seq FROM saved);"
	       "DROP TABLE saved");
}

/* @n ordinary records (pid:1, no incident) at @ts_ns (0: now); the last one's seq. */
static int64_t add_n(struct irc_store *s, int n, int64_t ts_ns)
{
	int64_t seq = 0;

	while (n-- > 0)
		seq = add_at(s, "exec", 0, ts_ns);
	return seq;
}

/*
 * An incident left open no longer holds the prune: the records around and
 * between its own go, in ranges (a short run between two of its records
 * waits), each gap closed by the seal; verify proves the chain across
 * every gap and lists them; a second prune joins its ranges to the gaps
 * there are (the first seal goes too); a record after a gap, a gap's
 * bounds or its MAC in the seal, edited: caught.
 */
static void test_prune_ranges_open_incident(void **state)
{
	struct irc_prune_limits lim = { .max_bytes = 1, .keep_unexported = true };
	static const int runs[5] = { 20, 20, 5, 20, 20 };
	static const int64_t want1[][2] = { { 1, 30 }, { 32, 51 }, { 53, 72 }, { 80, 99 },
					    { 101, 120 }, { 122, 146 } };
	static const int64_t want2[][2] = { { 1, 30 }, { 32, 51 }, { 53, 72 }, { 80, 99 },
					    { 101, 120 }, { 122, 167 }, { 169, 188 } };
	struct irc_prune_result res;
	struct irc_store_info info;
	struct irc_store *s;
	int64_t a, i, inc[6];

	(void)state;
	s = open_store();
	add_n(s, 30, 0);							/* #1-#30 */
	assert_int_equal(irc_incident_open(s, "Open", 3, "tester", "pid:2", &a), 0);	/* #31 */
	inc[0] = 31;
	for (i = 0; i < 5; i++) {
		add_n(s, runs[i], 0);
		inc[i + 1] = add(s, IRC_REC_EVENT, "exec", "pid:2", a);
	}
	assert_int_equal(inc[5], 121);
	assert_int_equal(add_n(s, 25, 0), 146);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.first, 1);
	assert_int_equal(res.last, 146);
	assert_int_equal(res.count, 135);		/* all but the 5 between #73 and #79 */
	assert_int_equal(res.held_by, a);
	assert_int_equal(irc_store_info(s, &info), 0);
	assert_int_equal(info.records, 6 + 5 + 1);	/* the incident's, the short run, the seal */
	assert_int_equal(info.first_seq, 31);
	assert_int_equal(info.pruned_total, 135);
	assert_int_equal(info.pruned_ranges, 6);
	/* Every record of the incident is there. */
	{
		struct irc_incident in;

		assert_int_equal(irc_incident_get(s, a, &in), 0);
	}
	irc_store_close(s);
	expect_ranges(12, 6, want1, 6);

	/* More around another record of it: the first seal goes with them. */
	s = open_store();
	assert_int_equal(add_n(s, 20, 0), 167);
	assert_int_equal(add(s, IRC_REC_EVENT, "exec", "pid:2", a), 168);
	assert_int_equal(add_n(s, 20, 0), 188);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.first, 147);
	assert_int_equal(res.last, 188);
	assert_int_equal(res.count, 41);
	assert_int_equal(irc_store_info(s, &info), 0);
	assert_int_equal(info.pruned_total, 135 + 41);
	assert_int_equal(info.pruned_last, 188);
	/* All the rest is kept: the seal alone does not go (for the next one, each time). */
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.held_by, a);
	irc_store_close(s);
	expect_ranges(6 + 1 + 5 + 1, 7, want2, 7);

	/* A record after a gap, edited. */
	tamper("CREATE TABLE saved AS SELECT body FROM events WHERE seq = 100;"
	       "UPDATE events SET body = replace(body, 'exec', 'exek') WHERE seq = 100");
	expect_broken(100, "does not match its MAC");
	tamper("UPDATE events SET body = (SELECT body FROM saved) WHERE seq = 100; DROP TABLE saved");
	expect_ranges(13, 7, want2, 7);
	/* A gap's MAC in the seal: the record after the gap no longer follows. */
	tamper_seal("json_set(body, '$.gaps[3].cut_mac', substr(json_extract(body, '$.gaps[2].cut_mac'), 1))");
	expect_broken(100, "does not match its MAC");
	untamper_seal();
	/* A gap widened over a record that is there, or narrowed. */
	tamper_seal("json_set(body, '$.gaps[2].last', 74)");
	expect_broken(73, "sealed as pruned");
	untamper_seal();
	tamper_seal("json_set(body, '$.gaps[1].first', 33)");
	expect_broken(32, "is missing");
	untamper_seal();
	/* The seal's own record is proven: any edit of it that verify would use is caught. */
	tamper_seal("replace(body, '\"reason\":', '\"reason\": ')");
	expect_broken(189, "does not match its MAC");
	untamper_seal();
	expect_ranges(13, 7, want2, 7);
}

/*
 * By age, records written old through the store: the old ones go, before
 * and after an open incident's (old) records, and the new ones stay.
 */
static void test_prune_age_ranges(void **state)
{
	struct irc_prune_limits lim = { .max_age_s = 86400, .keep_unexported = true };
	int64_t old = (int64_t)irc_now_real_ns() - 30 * 86400 * 1000000000LL, a, b;
	static const int64_t want[][2] = { { 1, 20 }, { 23, 42 } };
	struct irc_prune_result res;
	struct irc_store *s;

	(void)state;
	s = open_store();
	add_n(s, 20, old);						/* #1-#20 */
	assert_int_equal(irc_incident_open(s, "Open", 3, "tester", "pid:2", &a), 0);	/* #21 */
	assert_int_equal(add(s, IRC_REC_EVENT, "exec", "pid:2", a), 22);
	add_n(s, 20, old);						/* #23-#42 */
	b = add_n(s, 20, 0);						/* #43-#62: new */
	assert_int_equal(b, 62);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.first, 1);
	assert_int_equal(res.last, 42);
	assert_int_equal(res.count, 40);
	assert_int_equal(res.held_by, a);
	/* Nothing more is old. */
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.count, 0);
	irc_store_close(s);
	expect_ranges(2 + 20 + 1, 2, want, 2);
}

/*
 * A containment still in force keeps its record (verify looks for it
 * while the kernel enforces it); one released since does not.
 */
static void test_prune_keeps_containment(void **state)
{
	static const char *const moves[] = { "quarantine", "kill", "stop", "release", NULL };
	static const int64_t want[][2] = { { 1, 2 }, { 4, 23 } };
	struct irc_prune_limits lim = { .max_bytes = 1 };
	struct irc_prune_result res;
	struct irc_store *s;
	char type[32];

	(void)state;
	s = open_store();
	add(s, IRC_REC_ACTION, "quarantine", "host:192.0.2.1", 0);		/* #1 */
	add(s, IRC_REC_ACTION, "release", "host:192.0.2.1", 0);		/* #2 */
	add(s, IRC_REC_ACTION, "quarantine", "host:192.0.2.2", 0);		/* #3 */
	assert_int_equal(add_n(s, 20, 0), 23);
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	assert_int_equal(res.count, 22);
	assert_int_equal(irc_store_last_action(s, "host:192.0.2.2", moves, type, sizeof(type)), 0);
	assert_string_equal(type, "quarantine");
	assert_int_equal(irc_store_last_action(s, "host:192.0.2.1", moves, type, sizeof(type)), -ENOENT);
	irc_store_close(s);
	expect_ranges(2, 2, want, 2);
}

/*
 * A store pruned before there were ranges: its seal names one cut (#1 to
 * its last) and no "gaps".  It verifies, and a prune now goes on from it.
 */
static void test_prune_old_seal(void **state)
{
	static const int64_t want1[][2] = { { 1, 10 } };
	static const int64_t want2[][2] = { { 1, 21 }, { 23, 40 } };
	struct irc_prune_limits lim = { .max_bytes = 1 };
	struct irc_prune_result res;
	char hex[2 * IRC_MAC_LEN + 1], sql[256];
	struct irc_store *s;
	sqlite3_stmt *st;
	sqlite3 *db;
	json_t *body;
	int64_t a;

	(void)state;
	s = open_store();
	add_n(s, 20, 0);						/* #1-#20 */
	irc_store_close(s);
	/* What the old prune did: the prefix out, then its seal at the head. */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT mac FROM events WHERE seq = 10", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	irc_hex(sqlite3_column_blob(st, 0), IRC_MAC_LEN, hex);
	sqlite3_finalize(st);
	sqlite3_close(db);
	tamper("DELETE FROM events WHERE seq <= 10");
	s = open_store();
	body = json_pack("{s:I,s:I,s:I,s:s,s:I,s:s,s:I,s:I,s:s}", "first", (json_int_t)1,
			 "last", (json_int_t)10, "count", (json_int_t)10, "cut_mac", hex,
			 "incidents", (json_int_t)0, "reason", "over 1048576 bytes",
			 "total", (json_int_t)10, "used_bytes", (json_int_t)99999, "result", "ok");
	{
		struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "store.prune", .actor = "tester",
				     .body = body };

		assert_int_equal(irc_store_append(s, &r, NULL), 0);		/* #21 */
	}
	json_decref(body);
	irc_store_close(s);
	expect_ranges(11, 1, want1, 1);
	/* Its seal's MAC, edited: the chain no longer follows from it. */
	snprintf(sql, sizeof(sql), "replace(body, '%.8s', '00000000')", hex);
	tamper_seal(sql);
	expect_broken(11, "does not match its MAC");
	untamper_seal();

	/* A prune now: the old cut joins the first range, an open incident's record stays. */
	s = open_store();
	assert_int_equal(irc_incident_open(s, "Open", 3, "tester", "pid:2", &a), 0);	/* #22 */
	add_n(s, 18, 0);						/* #23-#40 */
	assert_int_equal(irc_store_prune(s, &lim, "tester", &res), 0);
	irc_store_close(s);
	assert_int_equal(res.first, 11);
	assert_int_equal(res.last, 40);
	assert_int_equal(res.count, 11 + 18);
	expect_ranges(2, 2, want2, 2);
}

static void test_unclean_session(void **state)
{
	struct irc_store *s;
	struct irc_verify v;
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "run.start", .actor = "ircontain run" };
	pid_t dead;
	int st;

	(void)state;
	dead = fork();
	if (!dead)
		_exit(0);
	waitpid(dead, &st, 0);
	s = open_store();
	/* A session that stopped cleanly, then one that did not. */
	r.body = json_pack("{s:i, s:s}", "pid", 1, "boot_id", "b");
	assert_int_equal(irc_store_append(s, &r, NULL), 0);
	r.type = "run.stop";
	assert_int_equal(irc_store_append(s, &r, NULL), 0);
	json_decref(r.body);
	r.type = "run.start";
	r.body = json_pack("{s:i, s:s}", "pid", dead, "boot_id", "b");
	assert_int_equal(irc_store_append(s, &r, NULL), 0);
	json_decref(r.body);
	add(s, IRC_REC_EVENT, "exec", "pid:5", 0);
	assert_int_equal(irc_store_verify(s, &v), 0);
	assert_int_equal(v.unclean, 1);
	assert_non_null(strstr(v.unclean_note, "without a clean stop"));
	assert_non_null(strstr(v.unclean_note, "last committed record is #4 "));
	irc_store_close(s);
}

static void test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < IRC_IS__MAX; i++)
		assert_int_equal(irc_istatus_parse(irc_istatus_name(i)), i);
	assert_int_equal(irc_istatus_parse("open"), -EINVAL);
	assert_string_equal(irc_istatus_name(IRC_IS_CLOSED), "closed");
}

int main(int argc, char **argv)
{
	char *e1, *e2;

	if (argc == 5 && !strcmp(argv[1], "--cli")) {
		long kind = strtol(argv[3], &e1, 10), n = strtol(argv[4], &e2, 10);

		return *e1 || *e2 ? 2 : cli_main(argv[2], (int)kind, (int)n);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_removed_or_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_to_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_missing_or_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incidents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks_survive_second_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_split_incident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_age_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_ranges_open_incident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_age_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_containment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_old_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclean_session, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
