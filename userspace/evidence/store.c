// SPDX-License-Identifier: GPL-2.0-only
/*
 * The evidence store (see store.h): open and close, the schema and its
 * migrations, the write lock, the keyed hash chain (MACs, head, anchor),
 * transactions and appends, and the CLI's own record.  The rest is by job
 * in store_*.c (store_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "irc.h"
#include "journal.h"
#include "owned.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"

char irc_st_errmsg[IRC_ST_ERRMSG_LEN];
/* An anchor that could not be written (irc_store_anchor_failed()). */
static bool anchor_lost;
/* The bound on waiting for another writer, shortened when stopping. */
static int busy_ms = IRC_STORE_BUSY_MS;

bool irc_store_anchor_failed(void)
{
	return anchor_lost;
}

void irc_store_hurry(void)
{
	busy_ms = IRC_STORE_STOP_MS;
}

const char *irc_store_errmsg(void)
{
	return irc_st_errmsg;
}

const char *irc_store_path(const struct irc_store *s)
{
	return s->path;
}

int irc_st_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(irc_st_errmsg, sizeof(irc_st_errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* An SQLite failure as -errno, its text kept for the caller. */
int irc_st_dbfail(struct irc_store *s, const char *what)
{
	int rc = sqlite3_errcode(s->db);

	irc_st_fail(0, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:	return -EBUSY;
	case SQLITE_FULL:	return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:	return -EACCES;
	case SQLITE_NOMEM:	return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:	return -EBADMSG;
	default:		return -EIO;
	}
}

void irc_actor(char *buf, size_t len)
{
	irc_actor_name(irc_actor_uid(), buf, len);
}

/* --- schema -------------------------------------------------------- */

#define CHAIN_COLS \
	"(seq INTEGER PRIMARY KEY, incident INTEGER NOT NULL, ts_ns INTEGER NOT NULL," \
	" type TEXT NOT NULL, actor TEXT NOT NULL, target TEXT NOT NULL," \
	" peer TEXT NOT NULL, body TEXT NOT NULL, data BLOB, mac BLOB NOT NULL)"
#define CHAIN_INDEXES(t) \
	"CREATE INDEX " t "_incident ON " t "(incident);" \
	"CREATE INDEX " t "_target ON " t "(target);" \
	"CREATE INDEX " t "_peer ON " t "(peer);"

#define OPEN_INDEXES(t) \
	"CREATE INDEX " t "_inc_target ON " t "(target, seq) WHERE incident > 0;" \
	"CREATE INDEX " t "_inc_peer ON " t "(peer, seq) WHERE incident > 0;"

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[IRC_STORE_SCHEMA] = {
	"CREATE TABLE incidents(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" title TEXT NOT NULL, severity INTEGER NOT NULL, status INTEGER NOT NULL,"
	" summary TEXT NOT NULL DEFAULT '', opened_by TEXT NOT NULL,"
	" created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL,"
	" closed_ns INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE actions" CHAIN_COLS ";" CHAIN_INDEXES("actions")
	"CREATE TABLE events" CHAIN_COLS ";" CHAIN_INDEXES("events")
	"CREATE TABLE evidence" CHAIN_COLS ";" CHAIN_INDEXES("evidence")
	"CREATE TABLE chain(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" seq INTEGER NOT NULL, mac BLOB NOT NULL, sig BLOB NOT NULL);",
	/*
	 * 2: finding which incident an entity belongs to read every row of a
	 * busy entity (a pid with 200k events: 0.26 s, under the write lock).
	 * Only rows that belong to an incident matter: partial indexes.
	 */
	OPEN_INDEXES("actions") OPEN_INDEXES("events") OPEN_INDEXES("evidence"),
};

const char *const irc_st_tables[IRC_REC_EVIDENCE + 1] = {
	[IRC_REC_ACTION] = "actions",
	[IRC_REC_EVENT] = "events",
	[IRC_REC_EVIDENCE] = "evidence",
};

int irc_st_exec(struct irc_store *s, const char *sql, const char *what)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : irc_st_dbfail(s, what);
}

static int user_version(struct irc_store *s, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : irc_st_dbfail(s, "read schema version");
}

static int migrate(struct irc_store *s)
{
	char sql[64];
	int v, err;

	err = user_version(s, &v);
	if (err || v == IRC_STORE_SCHEMA)
		return err;
	if (v > IRC_STORE_SCHEMA)
		return irc_st_fail(-EPROTO, "%s: schema version %d is newer than this ircontain's (%d)",
			    s->path, v, IRC_STORE_SCHEMA);
	err = irc_st_exec(s, "BEGIN IMMEDIATE", "begin migration");
	if (err)
		return err;
	/* Another process may have migrated while we waited for the lock. */
	err = user_version(s, &v);
	for (; !err && v < IRC_STORE_SCHEMA; v++) {
		err = irc_st_exec(s, migrations[v], "migrate schema");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (!err)
			err = irc_st_exec(s, sql, "set schema version");
	}
	if (err) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return irc_st_exec(s, "COMMIT", "commit migration");
}

static bool store_has_records(struct irc_store *s)
{
	uint8_t mac[IRC_MAC_LEN];
	int64_t seq;
	bool found;

	return irc_st_head_read(s, &seq, mac, NULL, &found) || found;
}

/*
 * Never a descriptor of our own on the database file (or its -wal and
 * -shm), not even for a moment.  SQLite's locks are POSIX record locks,
 * and closing *any* descriptor of a file drops every such lock the
 * process holds on it: a connection open elsewhere in this process would
 * lose its SHARED lock unknowingly, another process's connection would
 * then find itself alone when it closes, checkpoint and delete the WAL
 * under us, and the next writer starts a fresh one: a forked, then
 * malformed store (issue 12).  So the file is created by SQLite itself
 * (with a umask that gives 0600, which -wal and -shm inherit), and a mode
 * is tightened by path with chmod, which opens nothing.  SQLite's own
 * second connections are safe: its VFS shares one lock record per file
 * per process and defers closing descriptors while locks are held.
 */
static int tighten(const char *path, mode_t want, const char *what)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : irc_st_fail(-errno, "stat %s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return irc_st_fail(-ELOOP, "%s %s is a symbolic link: refused", what, path);
	if (!(st.st_mode & 077))
		return 0;
	if (fchmodat(AT_FDCWD, path, want, AT_SYMLINK_NOFOLLOW))
		return irc_st_fail(-errno, "set the mode of %s to %04o: %s", path, want, strerror(errno));
	irc_warn("%s %s had mode %04o: set to %04o", what, path, st.st_mode & 07777, want);
	return 0;
}

int irc_store_open(struct irc_store **sp, const char *state_dir, bool create)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char side[PATH_MAX + 8];
	struct irc_store *s;
	struct stat st;
	bool fresh;
	mode_t um;
	size_t i;
	int rc, err = 0, n;

	*sp = NULL;
	if (sodium_init() < 0)
		return irc_st_fail(-EIO, "libsodium failed to initialise");
	s = calloc(1, sizeof(*s));
	if (!s)
		return irc_st_fail(-ENOMEM, "out of memory");
	s->dirfd = -1;
	if (snprintf(s->path, sizeof(s->path), "%s/%s", state_dir, IRC_STORE_DB) >=
	    (int)sizeof(s->path)) {
		free(s);
		return irc_st_fail(-ENAMETOOLONG, "state dir %s: path too long", state_dir);
	}
	if (!create && stat(s->path, &st)) {
		err = irc_st_fail(-errno, "no evidence store at %s: %s", s->path, strerror(errno));
		free(s);
		return err;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", state_dir);
	/* Nobody else's directory is trusted, and never through a link. */
	s->dirfd = irc_owned_dir(state_dir, "state dir", create, 0700, irc_st_errmsg, sizeof(irc_st_errmsg));
	if (s->dirfd < 0) {
		err = s->dirfd;
		free(s);
		return err;
	}
	if (create) {
		/* Evidence is not for other users: an existing db is tightened. */
		for (i = 0; !err && i < sizeof(sfx) / sizeof(*sfx); i++) {
			snprintf(side, sizeof(side), "%s%s", s->path, sfx[i]);
			err = tighten(side, 0600, "evidence store");
		}
		if (err) {
			irc_store_close(s);
			return err;
		}
	}
	/* A new file is created by SQLite, 0600 through the umask. */
	um = umask(077);
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
			     (create ? SQLITE_OPEN_CREATE : 0), NULL);
	umask(um);
	if (rc != SQLITE_OK) {
		err = irc_st_dbfail(s, "open");
		irc_store_close(s);
		return err;
	}
	sqlite3_busy_timeout(s->db, busy_ms);
	/*
	 * The last connection to close would checkpoint and delete the WAL,
	 * under an exclusive lock that stalls every writer arriving then (in
	 * SQLite's busy handler): with a CLI process per action, that is
	 * most of them.  Checkpoints happen as the WAL grows instead.
	 */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* The database file is checked by name in the checked dir, never opened. */
	err = irc_owned_at(s->dirfd, state_dir, IRC_STORE_DB, "evidence store", false,
			   irc_st_errmsg, sizeof(irc_st_errmsg));
	if (!err)
		err = irc_st_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
			       "set WAL mode");
	if (!err)
		err = migrate(s);
	fresh = !err && create && !store_has_records(s);
	if (!err)
		err = irc_st_key_load(state_dir, IRC_STORE_HMAC_KEY, s->key, sizeof(s->key),
			       fresh, irc_st_gen_hmac_key);
	/* The signing key is born with the store: export never makes one silently. */
	if (!err && fresh) {
		uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

		err = irc_store_sign_keys(state_dir, true, pk, sk);
		sodium_memzero(sk, sizeof(sk));
	}
	if (err == -ENOENT && create)
		err = irc_st_fail(-ENOENT, "%s/%s is missing but %s holds records: a new key would make "
			   "the whole chain unverifiable; restore the key", state_dir,
			   IRC_STORE_HMAC_KEY, s->path);
	if (err) {
		irc_store_close(s);
		return err;
	}
	/* What earlier commands did but could not record, recorded now. */
	n = irc_journal_replay(s, state_dir, NULL);
	if (n > 0)
		irc_warn("%s: recorded %d action(s) from the journal %s/%s (done earlier, "
			 "not recorded then)", s->path, n, state_dir, IRC_STORE_JOURNAL);
	else if (n < 0)
		irc_warn("%s: the journal %s/%s could not be replayed: %s", s->path,
			 state_dir, IRC_STORE_JOURNAL, irc_store_errmsg());
	*sp = s;
	return 0;
}

void irc_store_close(struct irc_store *s)
{
	int k;

	if (!s)
		return;
	if (s->in_batch)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (k = 0; k <= IRC_REC_EVIDENCE; k++)
		sqlite3_finalize(s->ins[k]);
	sqlite3_close_v2(s->db);
	if (s->dirfd >= 0)
		close(s->dirfd);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
}

/* --- the chain ----------------------------------------------------- */

static void put_le64(crypto_auth_hmacsha256_state *h, int64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint64_t)v >> (8 * i);
	crypto_auth_hmacsha256_update(h, b, sizeof(b));
}

static void put_str(crypto_auth_hmacsha256_state *h, const char *s)
{
	/* With its terminating NUL: "ab"+"c" never equals "a"+"bc". */
	crypto_auth_hmacsha256_update(h, (const uint8_t *)s, strlen(s) + 1);
}

/* MAC of a row: every column but the MAC, chained to the one before. */
void irc_st_row_mac(const uint8_t *key, const uint8_t prev[IRC_MAC_LEN],
		    const struct irc_row *r, uint8_t out[IRC_MAC_LEN])
{
	crypto_auth_hmacsha256_state h;
	uint8_t dh[crypto_hash_sha256_BYTES];
	uint8_t kind = r->kind;

	crypto_hash_sha256(dh, r->data ? r->data : (const void *)"", r->data_len);
	crypto_auth_hmacsha256_init(&h, key, IRC_MAC_LEN);
	crypto_auth_hmacsha256_update(&h, prev, IRC_MAC_LEN);
	put_le64(&h, r->seq);
	crypto_auth_hmacsha256_update(&h, &kind, 1);
	put_le64(&h, r->incident);
	put_le64(&h, r->ts_ns);
	put_str(&h, r->type);
	put_str(&h, r->actor);
	put_str(&h, r->target);
	put_str(&h, r->peer);
	put_str(&h, r->body);
	crypto_auth_hmacsha256_update(&h, dh, sizeof(dh));
	crypto_auth_hmacsha256_final(&h, out);
}

/* The head's seal: which record is last, under the key. */
void irc_st_head_sig(const uint8_t *key, int64_t seq, const uint8_t mac[IRC_MAC_LEN],
		     uint8_t out[IRC_MAC_LEN])
{
	crypto_auth_hmacsha256_state h;

	crypto_auth_hmacsha256_init(&h, key, IRC_MAC_LEN);
	crypto_auth_hmacsha256_update(&h, (const uint8_t *)"ircontain-head", 14);
	put_le64(&h, seq);
	crypto_auth_hmacsha256_update(&h, mac, IRC_MAC_LEN);
	crypto_auth_hmacsha256_final(&h, out);
}

int irc_st_head_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
		     uint8_t sig[IRC_MAC_LEN], bool *found)
{
	sqlite3_stmt *st;
	int rc;

	*found = false;
	*seq = 0;
	memset(mac, 0, IRC_MAC_LEN);
	if (sig)
		memset(sig, 0, IRC_MAC_LEN);
	if (sqlite3_prepare_v2(s->db, "SELECT seq, mac, sig FROM chain WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "read chain head");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = true;
		*seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == IRC_MAC_LEN)
			memcpy(mac, sqlite3_column_blob(st, 1), IRC_MAC_LEN);
		if (sig && sqlite3_column_bytes(st, 2) == IRC_MAC_LEN)
			memcpy(sig, sqlite3_column_blob(st, 2), IRC_MAC_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : irc_st_dbfail(s, "read chain head");
}

/*
 * The write lock: an flock on the state dir, held from BEGIN to the
 * anchor's update.  Writers wait for it asleep in the kernel, which wakes
 * them when it is released, instead of in SQLite's busy handler, whose
 * naps grow to 100 ms and let a newcomer overtake a writer that has
 * waited for seconds (and instead of polling, which under load starves
 * the holder of CPU).  And the anchor moves in commit order.  Bounded: a
 * timer aimed at this thread interrupts the wait after busy_ms, and the
 * write fails with -EBUSY.
 */
#define LOCK_SIGNAL	(SIGRTMIN + 3)

static void lock_timeout(int sig)
{
	(void)sig;	/* only to interrupt flock() */
}

static int write_lock(struct irc_store *s)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = LOCK_SIGNAL };
	struct itimerspec its = { .it_value = { busy_ms / 1000, (busy_ms % 1000) * 1000000L } };
	struct sigaction sa = { .sa_handler = lock_timeout };	/* no SA_RESTART */
	uint64_t t0 = irc_now_boot_ns(), limit = (uint64_t)busy_ms * 1000000;
	timer_t timer;
	int err = 0;

	if (!flock(s->dirfd, LOCK_EX | LOCK_NB))
		goto locked;
	if (errno != EWOULDBLOCK)
		return irc_st_fail(-errno, "%s: lock the state dir: %s", s->path, strerror(errno));
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id, named in glibc 2.41 */
	sigaction(LOCK_SIGNAL, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		return irc_st_fail(-errno, "%s: a timer for the write lock: %s", s->path, strerror(errno));
	timer_settime(timer, 0, &its, NULL);
	while (flock(s->dirfd, LOCK_EX)) {
		if (errno != EINTR) {
			err = irc_st_fail(-errno, "%s: lock the state dir: %s", s->path, strerror(errno));
			break;
		}
		if (irc_now_boot_ns() - t0 >= limit) {
			err = irc_st_fail(-EBUSY, "%s: another writer held the store for more than %d ms",
				   s->path, busy_ms);
			break;
		}
	}
	timer_delete(timer);
	if (err)
		return err;
locked:
	s->locked = true;
	return 0;
}

static void write_unlock(struct irc_store *s)
{
	if (s->locked)
		flock(s->dirfd, LOCK_UN);
	s->locked = false;
}

int irc_store_begin(struct irc_store *s)
{
	int err;

	if (s->in_batch)
		return 0;
	err = write_lock(s);
	if (err)
		return err;
	sqlite3_busy_timeout(s->db, busy_ms);
	err = irc_st_exec(s, "BEGIN IMMEDIATE", "begin transaction");
	s->in_batch = !err;
	s->head_valid = s->head_dirty = false;
	if (err)
		write_unlock(s);
	return err;
}

struct trim_wait {
	uint64_t until_ns;
	bool (*go_on)(void *);
	void *arg;
};

/* SQLite's busy handler while the trim waits for readers: 1 = wait on. */
static int trim_busy(void *p, int count)
{
	struct trim_wait *w = p;

	(void)count;
	if (irc_now_boot_ns() >= w->until_ns || (w->go_on && !w->go_on(w->arg)))
		return 0;
	usleep(10000);
	return 1;
}

int irc_store_wal_trim(struct irc_store *s, int wait_ms, bool (*go_on)(void *), void *arg,
		       int *wal_frames)
{
	struct trim_wait w = { irc_now_boot_ns() + (uint64_t)wait_ms * 1000000, go_on, arg };
	int rc, frames = -1, copied = -1, err;

	if (s->in_batch)
		return -EBUSY;
	/* Writers wait on the state dir's lock, not in SQLite's. */
	err = write_lock(s);
	if (err)
		return err;
	sqlite3_busy_handler(s->db, trim_busy, &w);
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &frames, &copied);
	sqlite3_busy_timeout(s->db, busy_ms);
	write_unlock(s);
	if (wal_frames)
		*wal_frames = frames;
	if ((rc & 0xff) == SQLITE_BUSY)
		return -EBUSY;
	return rc == SQLITE_OK ? 0 : irc_st_dbfail(s, "checkpoint and truncate the WAL");
}

/* The head of the chain as the appends of this transaction left it. */
static int head_write(struct irc_store *s)
{
	uint8_t sig[IRC_MAC_LEN];
	sqlite3_stmt *st;
	int err = 0;

	if (!s->head_dirty)
		return 0;
	irc_st_head_sig(s->key, s->head_seq, s->head_mac, sig);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO chain(id, seq, mac, sig) VALUES (1, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return irc_st_dbfail(s, "prepare chain head");
	sqlite3_bind_int64(st, 1, s->head_seq);
	sqlite3_bind_blob(st, 2, s->head_mac, IRC_MAC_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sig, IRC_MAC_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = irc_st_dbfail(s, "update chain head");
	sqlite3_finalize(st);
	return err;
}

/*
 * The anchor, STATE_DIR/chain.head: the head as last committed, outside
 * the database, sealed with the key.  A database rolled back to an older
 * copy, a lost WAL or a deleted store still has a consistent chain of its
 * own; the anchor is what says it once reached further.  Written with
 * rename (old or new after a crash, never half), under a lock on the
 * state dir so a slower writer never moves it back.
 */
#define ANCHOR		IRC_STORE_ANCHOR

int irc_st_anchor_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
		       uint8_t sig[IRC_MAC_LEN])
{
	char path[PATH_MAX + 16], buf[256], hm[2 * IRC_MAC_LEN + 2], hs[2 * IRC_MAC_LEN + 2];
	struct stat st;
	long long v;
	ssize_t n = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", s->dir, ANCHOR);
	fd = openat(s->dirfd, ANCHOR, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (irc_owned_stat(&st, path, "chain anchor", false, irc_st_errmsg, sizeof(irc_st_errmsg)))
		err = -EPERM;
	else if ((n = read(fd, buf, sizeof(buf) - 1)) < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %65s %65s", &v, hm, hs) != 3 || v < 1 ||
	    strlen(hm) != 2 * IRC_MAC_LEN || strlen(hs) != 2 * IRC_MAC_LEN ||
	    sodium_hex2bin(mac, IRC_MAC_LEN, hm, strlen(hm), NULL, NULL, NULL) ||
	    sodium_hex2bin(sig, IRC_MAC_LEN, hs, strlen(hs), NULL, NULL, NULL))
		return -EBADMSG;
	*seq = v;
	return 0;
}

/*
 * Written after the commit, to a temporary file that is fsync'd and
 * renamed (old or new after a crash, never half: an unreadable anchor
 * stops every write).  A failure is an error of the command that wrote
 * (irc_store_anchor_failed()), never only a warning.
 */
static int anchor_write(struct irc_store *s, int64_t seq, const uint8_t mac[IRC_MAC_LEN],
			bool force)
{
	char tmp[64], hm[2 * IRC_MAC_LEN + 1], hs[2 * IRC_MAC_LEN + 1], line[160];
	uint8_t sig[IRC_MAC_LEN], omac[IRC_MAC_LEN], osig[IRC_MAC_LEN];
	int64_t oseq;
	int fd, n, err = 0;

	/*
	 * A later writer got there first: that anchor is the better one
	 * (unless the operator moves it back onto the chain as it is).
	 */
	if (!force && !irc_st_anchor_read(s, &oseq, omac, osig) && oseq >= seq)
		return 0;

	irc_st_head_sig(s->key, seq, mac, sig);
	irc_hex(mac, IRC_MAC_LEN, hm);
	irc_hex(sig, IRC_MAC_LEN, hs);
	n = snprintf(line, sizeof(line), "%lld %s %s\n", (long long)seq, hm, hs);
	snprintf(tmp, sizeof(tmp), "%s.%d", ANCHOR, getpid());
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		err = -errno;
	else {
		if (write(fd, line, n) != n || fsync(fd))
			err = -errno ?: -EIO;
		if (close(fd) && !err)
			err = -errno;
		if (!err && renameat(s->dirfd, tmp, s->dirfd, ANCHOR))
			err = -errno;
		if (err)
			unlinkat(s->dirfd, tmp, 0);
	}
	if (err) {
		anchor_lost = true;
		irc_st_fail(err, "%s: the chain anchor %s/%s could not be updated to record #%lld: %s; "
		     "the record is stored but a rollback past it would not be seen",
		     s->path, s->dir, ANCHOR, (long long)seq, strerror(-err));
		irc_warn("%s", irc_st_errmsg);
	}
	return err;
}

int irc_st_record_mac(struct irc_store *s, int64_t seq, uint8_t mac[IRC_MAC_LEN])
{
	sqlite3_stmt *st;
	char sql[96];
	int k, rc = -ENOENT;

	for (k = IRC_REC_ACTION; k <= IRC_REC_EVIDENCE && rc == -ENOENT; k++) {
		snprintf(sql, sizeof(sql), "SELECT mac FROM %s WHERE seq = ?", irc_st_tables[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return irc_st_dbfail(s, "read a record's MAC");
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == IRC_MAC_LEN) {
			memcpy(mac, sqlite3_column_blob(st, 0), IRC_MAC_LEN);
			rc = 0;
		}
		sqlite3_finalize(st);
	}
	return rc;
}

/*
 * The anchor against the chain this transaction would extend: it must
 * hold the anchored record with the anchored MAC.  Otherwise the store was
 * rolled back, cut or rewritten, and a write would bury that (the anchor
 * would move onto the new chain): refused, until an operator accepts it
 * with `verify --accept-rollback`, itself a record.  0, or -EBADMSG (or
 * another -errno) with the problem in irc_st_errmsg.
 */
int irc_st_anchor_check(struct irc_store *s, const struct anchor *a, int64_t head_seq,
			char *problem, size_t len, int64_t *bad_seq)
{
	uint8_t want[IRC_MAC_LEN], got[IRC_MAC_LEN];
	int err = a->err;

	*bad_seq = 0;
	if (err == -ENOENT && !head_seq)
		return 0;	/* a new store */
	if (err == -ENOENT)
		snprintf(problem, len, "the chain's anchor %.200s/%s is missing but the store holds "
			 "%lld records: it cannot be shown not to have been rolled back", s->dir,
			 ANCHOR, (long long)head_seq);
	else if (err == -EPERM)
		snprintf(problem, len, "%.300s", irc_st_errmsg);
	else if (err)
		snprintf(problem, len, "the chain's anchor %.200s/%s is unreadable (%s)", s->dir,
			 ANCHOR, err == -EBADMSG ? "not an anchor" : strerror(-err));
	else if (irc_st_head_sig(s->key, a->seq, a->mac, want), sodium_memcmp(a->sig, want, IRC_MAC_LEN))
		snprintf(problem, len, "the chain's anchor %.200s/%s does not match its seal: it was edited",
			 s->dir, ANCHOR);
	else if (a->seq > head_seq)
		*bad_seq = head_seq + 1,
		snprintf(problem, len, "the store was rolled back: its anchor says the chain reached "
			 "record #%lld but it ends at #%lld (an older copy, a lost WAL, or records "
			 "removed with the head)", (long long)a->seq, (long long)head_seq);
	else if ((err = irc_st_record_mac(s, a->seq, got)) == -ENOENT ||
		 (!err && sodium_memcmp(got, a->mac, IRC_MAC_LEN)))
		*bad_seq = a->seq,
		snprintf(problem, len, "record #%lld is not the one the anchor recorded: the chain was "
			 "rewritten from there", (long long)a->seq);
	else
		return err;
	return -EBADMSG;
}

int irc_store_commit(struct irc_store *s)
{
	uint8_t mac[IRC_MAC_LEN];
	bool moved = s->head_dirty;
	int64_t seq = s->head_seq;
	int err;

	if (!s->in_batch)
		return 0;
	memcpy(mac, s->head_mac, IRC_MAC_LEN);
	err = head_write(s);
	if (!err)
		err = irc_st_exec(s, "COMMIT", "commit");
	if (err)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_batch = false;
	s->head_valid = s->head_dirty = false;
	/*
	 * The anchor follows outside the write lock, so the next writer's
	 * commit (its WAL fsync) overlaps this one's anchor fsync.  Two
	 * anchors written out of order leave it a record or two behind,
	 * which the check allows (the chain still holds what it names);
	 * never ahead of what is committed.
	 */
	/*
	 * What is committed stays committed: an anchor that could not follow
	 * is reported (irc_store_anchor_failed()), not a failed commit that a
	 * caller would retry and so store twice.  The first anchor is written
	 * under the lock: the next writer must never find records and none.
	 */
	if (!err && moved && (s->anchor_new || s->accepting))
		anchor_write(s, seq, mac, true);
	write_unlock(s);
	if (!err && moved && !s->anchor_new && !s->accepting)
		anchor_write(s, seq, mac, false);
	return err;
}

int irc_store_rollback(struct irc_store *s)
{
	if (s->in_batch)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_batch = false;
	s->head_valid = s->head_dirty = false;
	write_unlock(s);
	return 0;
}

/*
 * The head as this transaction starts from, once per transaction, and the
 * anchor checked against it (before anything in it changes the chain: a
 * prune deletes the anchored record itself).
 */
int irc_st_head_load(struct irc_store *s)
{
	char problem[400];
	struct anchor a;
	int64_t bad_seq;
	bool found;
	int err;

	err = irc_st_head_read(s, &s->head_seq, s->head_mac, NULL, &found);
	a.err = irc_st_anchor_read(s, &a.seq, a.mac, a.sig);
	s->anchor_new = a.err == -ENOENT;
	if (!err && !s->accepting && (err = irc_st_anchor_check(s, &a, s->head_seq, problem,
							  sizeof(problem), &bad_seq)) == -EBADMSG)
		irc_st_fail(err, "%.100s: refused to extend the chain: %s; see 'ircontain verify' "
		     "(an operator accepts it with 'verify --accept-rollback')", s->path, problem);
	if (err)
		return err;
	s->head_valid = true;
	return 0;
}

/* Inside a transaction (irc_store_begin): one row, chained to the head. */
int irc_st_append(struct irc_store *s, const struct irc_rec *r, int64_t *seqp)
{
	uint8_t mac[IRC_MAC_LEN];
	char sql[96], *body = NULL;
	struct irc_row row;
	sqlite3_stmt *st;
	int err;

	if (r->kind < IRC_REC_ACTION || r->kind > IRC_REC_EVIDENCE)
		return irc_st_fail(-EINVAL, "bad record kind %d", r->kind);
	if (!s->head_valid && (err = irc_st_head_load(s)))
		return err;
	if (!s->ins[r->kind]) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 irc_st_tables[r->kind]);
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &s->ins[r->kind], NULL) != SQLITE_OK)
			return irc_st_dbfail(s, "prepare insert");
	}
	st = s->ins[r->kind];
	body = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_PRESERVE_ORDER)
		       : strdup("{}");
	if (!body)
		return irc_st_fail(-ENOMEM, "out of memory for a record");
	row = (struct irc_row){
		.seq = s->head_seq + 1, .kind = r->kind, .incident = r->incident,
		.ts_ns = r->ts_ns ? r->ts_ns : (int64_t)irc_now_real_ns(),
		.type = r->type ?: "", .actor = r->actor ?: "",
		.target = r->target ?: "", .peer = r->peer ?: "", .body = body,
		.data = r->data, .data_len = r->data ? r->data_len : 0,
	};
	irc_st_row_mac(s->key, s->head_mac, &row, mac);

	sqlite3_bind_int64(st, 1, row.seq);
	sqlite3_bind_int64(st, 2, row.incident);
	sqlite3_bind_int64(st, 3, row.ts_ns);
	sqlite3_bind_text(st, 4, row.type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, row.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, row.target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, row.peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, row.body, -1, SQLITE_STATIC);
	if (row.data_len)
		sqlite3_bind_blob(st, 9, row.data, row.data_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_blob(st, 10, mac, IRC_MAC_LEN, SQLITE_STATIC);
	err = sqlite3_step(st) == SQLITE_DONE ? 0 : irc_st_dbfail(s, "insert record");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(body);
	if (err) {
		/*
		 * SQLite rolls the whole transaction back on some errors (full
		 * disk, I/O, memory): nothing after this may be written outside
		 * it, so the batch ends here.
		 */
		if (sqlite3_get_autocommit(s->db)) {
			s->in_batch = false;
			s->head_valid = s->head_dirty = false;
			write_unlock(s);
		}
		return err;
	}
	s->head_seq = row.seq;
	memcpy(s->head_mac, mac, IRC_MAC_LEN);
	s->head_dirty = true;
	if (seqp)
		*seqp = row.seq;
	return 0;
}

int irc_store_append(struct irc_store *s, const struct irc_rec *r, int64_t *seq)
{
	int err;

	if (s->in_batch)
		return irc_st_append(s, r, seq);
	err = irc_store_begin(s);
	if (err)
		return err;
	err = irc_st_append(s, r, seq);
	if (err) {
		irc_store_rollback(s);
		return err;
	}
	return irc_store_commit(s);
}

/*
 * `verify --accept-rollback`: the operator accepts the chain as it is
 * (an older copy restored, a lost anchor): recorded first, with what the
 * anchor said, and the anchor then names that record.
 */
int irc_store_accept_rollback(struct irc_store *s, const char *actor, const char *problem)
{
	struct anchor a;
	char hex[2 * IRC_MAC_LEN + 1];
	struct irc_rec r = { .kind = IRC_REC_ACTION, .type = "store.accept-rollback",
			     .actor = actor, .target = s->path };
	int err;

	err = irc_store_begin(s);
	if (err)
		return err;
	a.err = irc_st_anchor_read(s, &a.seq, a.mac, a.sig);
	irc_hex(a.mac, IRC_MAC_LEN, hex);
	r.body = a.err ? json_pack("{s:s, s:s}", "problem", problem ?: "",
				   "anchor", strerror(-a.err))
		       : json_pack("{s:s, s:I, s:s}", "problem", problem ?: "",
				   "anchor_seq", (json_int_t)a.seq, "anchor_mac", hex);
	s->accepting = true;
	err = r.body ? irc_st_append(s, &r, NULL) : irc_st_fail(-ENOMEM, "out of memory");
	json_decref(r.body);
	if (err)
		irc_store_rollback(s);
	else
		err = irc_store_commit(s);
	s->accepting = false;
	return err ?: anchor_lost ? -EIO : 0;
}

int irc_st_step_done(struct irc_store *s, sqlite3_stmt *st, const char *what)
{
	int err = sqlite3_step(st) == SQLITE_DONE ? 0 : irc_st_dbfail(s, what);

	sqlite3_finalize(st);
	return err;
}

int irc_st_each(struct irc_store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx),
		void *ctx, const char *what)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !(ret = row(st, ctx)))
		;
	if (!ret && rc != SQLITE_DONE)
		ret = irc_st_dbfail(s, what);
	sqlite3_finalize(st);
	return ret;
}

int irc_store_read_begin(struct irc_store *s)
{
	return s->in_batch ? -EBUSY : irc_st_exec(s, "BEGIN", "begin read");
}

void irc_store_read_end(struct irc_store *s)
{
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

/* --- the CLI's own record ------------------------------------------ */

int irc_record_action(int64_t incident, const char *type, const char *target,
		      const char *reason, int err, json_t *detail)
{
	struct irc_store *s;
	struct irc_incident in;
	char actor[64];
	struct irc_rec r;
	json_t *body;
	int rc;

	irc_actor(actor, sizeof(actor));
	body = detail ? json_incref(detail) : json_object();
	json_object_set_new(body, "reason", json_string(reason ?: ""));
	json_object_set_new(body, "result", json_string(err ? strerror(-err) : "ok"));
	json_object_set_new(body, "uid", json_integer(irc_actor_uid()));
	rc = irc_store_open(&s, irc.state_dir, true);
	if (!rc) {
		r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = incident, .type = type,
			.actor = actor, .target = target, .body = body };
		rc = irc_store_append(s, &r, NULL);
		if (!rc)
			irc_journal_done();
		/* Containment moves an incident that was only detected or triaged on. */
		if (!rc && !err && incident && (!strcmp(type, "quarantine") ||
		    !strcmp(type, "isolate") || !strcmp(type, "kill") || !strcmp(type, "stop")) &&
		    !irc_incident_get(s, incident, &in) && in.status < IRC_IS_CONTAINED &&
		    irc_incident_set_status(s, incident, IRC_IS_CONTAINED, actor, type))
			irc_warn("%s %s: recorded, but incident %" PRId64 " was not moved to contained: %s",
				 type, target ?: "", incident, irc_store_errmsg());
		irc_store_close(s);
	}
	if (rc) {
		char why[sizeof(irc_st_errmsg)];

		snprintf(why, sizeof(why), "%s", irc_store_errmsg());
		/* Recorded as soon as the store works again (journal.h). */
		if (irc_journal_keep(incident, type, target, actor, body))
			irc_warn("%s %s: could not record the action in the evidence store (%s), "
				 "nor journal it in %s/%s", type, target ?: "", why, irc.state_dir,
				 IRC_STORE_JOURNAL);
		else
			irc_warn("%s %s: could not record the action in the evidence store (%s); "
				 "journaled in %s/%s, recorded by the next command that can write it",
				 type, target ?: "", why, irc.state_dir, IRC_STORE_JOURNAL);
	}
	json_decref(body);
	return rc;
}
