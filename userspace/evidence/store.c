// SPDX-License-Identifier: GPL-2.0-only
/*
 * The evidence store (see store.h): schema and migrations, host keys, the
 * keyed hash chain, incidents and verification.
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

struct irc_store {
	sqlite3 *db;
	uint8_t key[IRC_MAC_LEN];
	bool in_batch;
	/*
	 * The chain head as this transaction sees it: read once when the
	 * transaction starts appending, written back once at commit.
	 */
	bool head_valid, head_dirty;
	int64_t head_seq;
	uint8_t head_mac[IRC_MAC_LEN];
	sqlite3_stmt *ins[IRC_REC_EVIDENCE + 1];	/* INSERT per table, kept */
	int dirfd;		/* the state dir, checked (owned.h); its flock is the write lock */
	bool locked;		/* we hold it */
	bool accepting;		/* irc_store_accept_rollback(): the anchor is being moved back */
	bool anchor_new;	/* this transaction makes the first anchor */
	char dir[PATH_MAX];
	char path[PATH_MAX];
};

static char errmsg[600];
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
	return errmsg;
}

const char *irc_store_path(const struct irc_store *s)
{
	return s->path;
}

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* An SQLite failure as -errno, its text kept for the caller. */
static int dbfail(struct irc_store *s, const char *what)
{
	int rc = sqlite3_errcode(s->db);

	fail(0, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
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

static const char *const istatus_names[IRC_IS__MAX] = {
	"detected", "triaged", "contained", "eradicated", "recovered", "closed",
};

const char *irc_istatus_name(int st)
{
	return st >= 0 && st < IRC_IS__MAX ? istatus_names[st] : "unknown";
}

int irc_istatus_parse(const char *s)
{
	int i;

	for (i = 0; i < IRC_IS__MAX; i++)
		if (!strcmp(s, istatus_names[i]))
			return i;
	return -EINVAL;
}

void irc_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int irc_sha256_file(const char *path, char hex[65], long long *size)
{
	uint8_t buf[65536], h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	long long total = 0;
	ssize_t n;
	int fd, err = 0;

	if (sodium_init() < 0)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&st, buf, n);
		total += n;
	}
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	crypto_hash_sha256_final(&st, h);
	irc_hex(h, sizeof(h), hex);
	if (size)
		*size = total;
	return 0;
}

json_t *irc_sha256_json(const char *path)
{
	char hex[65];

	return irc_sha256_file(path, hex, NULL) ? json_null() : json_string(hex);
}

void irc_actor(char *buf, size_t len)
{
	irc_actor_name(irc_actor_uid(), buf, len);
}

/* --- host keys ----------------------------------------------------- */

/* Reads exactly @len bytes of the key file @path; -ENOENT if absent. */
static int key_read(const char *path, uint8_t *key, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT :
			fail(-errno, "open key %s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		err = fail(-errno, "stat key %s: %s", path, strerror(errno));
	else if (irc_owned_stat(&st, path, "key", true, errmsg, sizeof(errmsg)))
		err = -EPERM;
	else if ((n = read(fd, key, len)) != (ssize_t)len || st.st_size != (off_t)len)
		err = fail(-EBADMSG, "key %s: expected %zu bytes, found %lld", path, len,
			   (long long)st.st_size);
	close(fd);
	return err;
}

/*
 * Creates @path holding @len bytes atomically: written to a private
 * temporary file, fsync'd, then linked into place, so two first users
 * never see half a key and agree on whichever was linked first.
 */
static int key_create(const char *path, const uint8_t *key, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, getpid()) >= (int)sizeof(tmp))
		return fail(-ENAMETOOLONG, "key path %s too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(-errno, "create key %s: %s", tmp, strerror(errno));
	if (write(fd, key, len) != (ssize_t)len || fsync(fd))
		err = fail(-errno ?: -EIO, "write key %s: %s", tmp, strerror(errno ?: EIO));
	close(fd);
	if (!err && link(tmp, path) && errno != EEXIST)
		err = fail(-errno, "create key %s: %s", path, strerror(errno));
	unlink(tmp);
	return err;
}

static int key_load(const char *dir, const char *name, uint8_t *key, size_t len,
		    bool create, void (*gen)(uint8_t *key))
{
	char path[PATH_MAX];
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return fail(-ENAMETOOLONG, "key path %s/%s too long", dir, name);
	err = key_read(path, key, len);
	if (err != -ENOENT)
		return err;
	if (!create)
		return fail(-ENOENT, "key %s does not exist", path);
	gen(key);
	err = key_create(path, key, len);
	return err ?: key_read(path, key, len);
}

static void gen_hmac_key(uint8_t *key)
{
	crypto_auth_hmacsha256_keygen(key);
}

static void gen_sign_key(uint8_t *sk)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	crypto_sign_keypair(pk, sk);
}

int irc_store_sign_keys(const char *state_dir, bool create, uint8_t pk[32], uint8_t sk[64])
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], hex[65];
	bool ok;
	FILE *f;
	int err;

	if (sodium_init() < 0)
		return fail(-EIO, "libsodium failed to initialise");
	if (mkdir(state_dir, 0700) && errno != EEXIST)
		return fail(-errno, "create state dir %s: %s", state_dir, strerror(errno));
	err = key_load(state_dir, IRC_STORE_SIGN_KEY, sk, crypto_sign_SECRETKEYBYTES,
		       create, gen_sign_key);
	if (err == -ENOENT)
		return fail(-ENOENT, "%s/%s is missing: bundles would be signed by a new key that "
			    "nobody trusts yet; restore it, or give --new-key to create one",
			    state_dir, IRC_STORE_SIGN_KEY);
	if (err)
		return err;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	/*
	 * The public half, for handing to whoever will verify bundles: kept
	 * equal to the key (rewritten whole, by rename, when it is not).
	 */
	irc_hex(pk, 32, hex);
	snprintf(path, sizeof(path), "%s/%s", state_dir, IRC_STORE_SIGN_PUB);
	f = fopen(path, "re");
	if (f) {
		char cur[80] = "";

		if (!fgets(cur, sizeof(cur), f))
			cur[0] = '\0';
		fclose(f);
		cur[strcspn(cur, "\n")] = '\0';
		if (!strcmp(cur, hex))
			return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d", path, getpid());
	f = fopen(tmp, "we");
	if (!f)
		return fail(-errno, "write %s: %s", tmp, strerror(errno));
	ok = fprintf(f, "%s\n", hex) > 0;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		err = fail(-EIO, "write %s: %s", path, strerror(errno ?: EIO));
		unlink(tmp);
		return err;
	}
	return 0;
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

static const char *const kind_table[] = {
	[IRC_REC_ACTION] = "actions",
	[IRC_REC_EVENT] = "events",
	[IRC_REC_EVIDENCE] = "evidence",
};

static int exec_sql(struct irc_store *s, const char *sql, const char *what)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : dbfail(s, what);
}

static int user_version(struct irc_store *s, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : dbfail(s, "read schema version");
}

static int migrate(struct irc_store *s)
{
	char sql[64];
	int v, err;

	err = user_version(s, &v);
	if (err || v == IRC_STORE_SCHEMA)
		return err;
	if (v > IRC_STORE_SCHEMA)
		return fail(-EPROTO, "%s: schema version %d is newer than this ircontain's (%d)",
			    s->path, v, IRC_STORE_SCHEMA);
	err = exec_sql(s, "BEGIN IMMEDIATE", "begin migration");
	if (err)
		return err;
	/* Another process may have migrated while we waited for the lock. */
	err = user_version(s, &v);
	for (; !err && v < IRC_STORE_SCHEMA; v++) {
		err = exec_sql(s, migrations[v], "migrate schema");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (!err)
			err = exec_sql(s, sql, "set schema version");
	}
	if (err) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	return exec_sql(s, "COMMIT", "commit migration");
}

static int head_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
		     uint8_t sig[IRC_MAC_LEN], bool *found);

static bool store_has_records(struct irc_store *s)
{
	uint8_t mac[IRC_MAC_LEN];
	int64_t seq;
	bool found;

	return head_read(s, &seq, mac, NULL, &found) || found;
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
		return errno == ENOENT ? 0 : fail(-errno, "stat %s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return fail(-ELOOP, "%s %s is a symbolic link: refused", what, path);
	if (!(st.st_mode & 077))
		return 0;
	if (fchmodat(AT_FDCWD, path, want, AT_SYMLINK_NOFOLLOW))
		return fail(-errno, "set the mode of %s to %04o: %s", path, want, strerror(errno));
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
		return fail(-EIO, "libsodium failed to initialise");
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(-ENOMEM, "out of memory");
	s->dirfd = -1;
	if (snprintf(s->path, sizeof(s->path), "%s/%s", state_dir, IRC_STORE_DB) >=
	    (int)sizeof(s->path)) {
		free(s);
		return fail(-ENAMETOOLONG, "state dir %s: path too long", state_dir);
	}
	if (!create && stat(s->path, &st)) {
		err = fail(-errno, "no evidence store at %s: %s", s->path, strerror(errno));
		free(s);
		return err;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", state_dir);
	/* Nobody else's directory is trusted, and never through a link. */
	s->dirfd = irc_owned_dir(state_dir, "state dir", create, 0700, errmsg, sizeof(errmsg));
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
		err = dbfail(s, "open");
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
			   errmsg, sizeof(errmsg));
	if (!err)
		err = exec_sql(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
			       "set WAL mode");
	if (!err)
		err = migrate(s);
	fresh = !err && create && !store_has_records(s);
	if (!err)
		err = key_load(state_dir, IRC_STORE_HMAC_KEY, s->key, sizeof(s->key),
			       fresh, gen_hmac_key);
	/* The signing key is born with the store: export never makes one silently. */
	if (!err && fresh) {
		uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

		err = irc_store_sign_keys(state_dir, true, pk, sk);
		sodium_memzero(sk, sizeof(sk));
	}
	if (err == -ENOENT && create)
		err = fail(-ENOENT, "%s/%s is missing but %s holds records: a new key would make "
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
static void row_mac(const uint8_t *key, const uint8_t prev[IRC_MAC_LEN],
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
static void head_sig(const uint8_t *key, int64_t seq, const uint8_t mac[IRC_MAC_LEN],
		     uint8_t out[IRC_MAC_LEN])
{
	crypto_auth_hmacsha256_state h;

	crypto_auth_hmacsha256_init(&h, key, IRC_MAC_LEN);
	crypto_auth_hmacsha256_update(&h, (const uint8_t *)"ircontain-head", 14);
	put_le64(&h, seq);
	crypto_auth_hmacsha256_update(&h, mac, IRC_MAC_LEN);
	crypto_auth_hmacsha256_final(&h, out);
}

static int head_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
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
		return dbfail(s, "read chain head");
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
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dbfail(s, "read chain head");
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
		return fail(-errno, "%s: lock the state dir: %s", s->path, strerror(errno));
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id, named in glibc 2.41 */
	sigaction(LOCK_SIGNAL, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		return fail(-errno, "%s: a timer for the write lock: %s", s->path, strerror(errno));
	timer_settime(timer, 0, &its, NULL);
	while (flock(s->dirfd, LOCK_EX)) {
		if (errno != EINTR) {
			err = fail(-errno, "%s: lock the state dir: %s", s->path, strerror(errno));
			break;
		}
		if (irc_now_boot_ns() - t0 >= limit) {
			err = fail(-EBUSY, "%s: another writer held the store for more than %d ms",
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
	err = exec_sql(s, "BEGIN IMMEDIATE", "begin transaction");
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
	return rc == SQLITE_OK ? 0 : dbfail(s, "checkpoint and truncate the WAL");
}

/* The head of the chain as the appends of this transaction left it. */
static int head_write(struct irc_store *s)
{
	uint8_t sig[IRC_MAC_LEN];
	sqlite3_stmt *st;
	int err = 0;

	if (!s->head_dirty)
		return 0;
	head_sig(s->key, s->head_seq, s->head_mac, sig);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO chain(id, seq, mac, sig) VALUES (1, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "prepare chain head");
	sqlite3_bind_int64(st, 1, s->head_seq);
	sqlite3_bind_blob(st, 2, s->head_mac, IRC_MAC_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sig, IRC_MAC_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = dbfail(s, "update chain head");
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

/* The anchor as read: err is 0 or what made it unreadable. */
struct anchor {
	int err;
	int64_t seq;
	uint8_t mac[IRC_MAC_LEN], sig[IRC_MAC_LEN];
};

static int anchor_read(struct irc_store *s, int64_t *seq, uint8_t mac[IRC_MAC_LEN],
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
	else if (irc_owned_stat(&st, path, "chain anchor", false, errmsg, sizeof(errmsg)))
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
	if (!force && !anchor_read(s, &oseq, omac, osig) && oseq >= seq)
		return 0;

	head_sig(s->key, seq, mac, sig);
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
		fail(err, "%s: the chain anchor %s/%s could not be updated to record #%lld: %s; "
		     "the record is stored but a rollback past it would not be seen",
		     s->path, s->dir, ANCHOR, (long long)seq, strerror(-err));
		irc_warn("%s", errmsg);
	}
	return err;
}

/* Reads the record @seq's MAC; -ENOENT if no table holds it. */
static int record_mac(struct irc_store *s, int64_t seq, uint8_t mac[IRC_MAC_LEN])
{
	sqlite3_stmt *st;
	char sql[96];
	int k, rc = -ENOENT;

	for (k = IRC_REC_ACTION; k <= IRC_REC_EVIDENCE && rc == -ENOENT; k++) {
		snprintf(sql, sizeof(sql), "SELECT mac FROM %s WHERE seq = ?", kind_table[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return dbfail(s, "read the anchored record");
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
 * another -errno) with the problem in errmsg.
 */
static int anchor_check(struct irc_store *s, const struct anchor *a, int64_t head_seq,
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
		snprintf(problem, len, "%.300s", errmsg);
	else if (err)
		snprintf(problem, len, "the chain's anchor %.200s/%s is unreadable (%s)", s->dir,
			 ANCHOR, err == -EBADMSG ? "not an anchor" : strerror(-err));
	else if (head_sig(s->key, a->seq, a->mac, want), sodium_memcmp(a->sig, want, IRC_MAC_LEN))
		snprintf(problem, len, "the chain's anchor %.200s/%s does not match its seal: it was edited",
			 s->dir, ANCHOR);
	else if (a->seq > head_seq)
		*bad_seq = head_seq + 1,
		snprintf(problem, len, "the store was rolled back: its anchor says the chain reached "
			 "record #%lld but it ends at #%lld (an older copy, a lost WAL, or records "
			 "removed with the head)", (long long)a->seq, (long long)head_seq);
	else if ((err = record_mac(s, a->seq, got)) == -ENOENT ||
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
		err = exec_sql(s, "COMMIT", "commit");
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
static int head_load(struct irc_store *s)
{
	char problem[400];
	struct anchor a;
	int64_t bad_seq;
	bool found;
	int err;

	err = head_read(s, &s->head_seq, s->head_mac, NULL, &found);
	a.err = anchor_read(s, &a.seq, a.mac, a.sig);
	s->anchor_new = a.err == -ENOENT;
	if (!err && !s->accepting && (err = anchor_check(s, &a, s->head_seq, problem,
							  sizeof(problem), &bad_seq)) == -EBADMSG)
		fail(err, "%.100s: refused to extend the chain: %s; see 'ircontain verify' "
		     "(an operator accepts it with 'verify --accept-rollback')", s->path, problem);
	if (err)
		return err;
	s->head_valid = true;
	return 0;
}

/* Inside a transaction (irc_store_begin): one row, chained to the head. */
static int append_locked(struct irc_store *s, const struct irc_rec *r, int64_t *seqp)
{
	uint8_t mac[IRC_MAC_LEN];
	char sql[96], *body = NULL;
	struct irc_row row;
	sqlite3_stmt *st;
	int err;

	if (r->kind < IRC_REC_ACTION || r->kind > IRC_REC_EVIDENCE)
		return fail(-EINVAL, "bad record kind %d", r->kind);
	if (!s->head_valid && (err = head_load(s)))
		return err;
	if (!s->ins[r->kind]) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 kind_table[r->kind]);
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &s->ins[r->kind], NULL) != SQLITE_OK)
			return dbfail(s, "prepare insert");
	}
	st = s->ins[r->kind];
	body = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_PRESERVE_ORDER)
		       : strdup("{}");
	if (!body)
		return fail(-ENOMEM, "out of memory for a record");
	row = (struct irc_row){
		.seq = s->head_seq + 1, .kind = r->kind, .incident = r->incident,
		.ts_ns = r->ts_ns ? r->ts_ns : (int64_t)irc_now_real_ns(),
		.type = r->type ?: "", .actor = r->actor ?: "",
		.target = r->target ?: "", .peer = r->peer ?: "", .body = body,
		.data = r->data, .data_len = r->data ? r->data_len : 0,
	};
	row_mac(s->key, s->head_mac, &row, mac);

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
	err = sqlite3_step(st) == SQLITE_DONE ? 0 : dbfail(s, "insert record");
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
		return append_locked(s, r, seq);
	err = irc_store_begin(s);
	if (err)
		return err;
	err = append_locked(s, r, seq);
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
	a.err = anchor_read(s, &a.seq, a.mac, a.sig);
	irc_hex(a.mac, IRC_MAC_LEN, hex);
	r.body = a.err ? json_pack("{s:s, s:s}", "problem", problem ?: "",
				   "anchor", strerror(-a.err))
		       : json_pack("{s:s, s:I, s:s}", "problem", problem ?: "",
				   "anchor_seq", (json_int_t)a.seq, "anchor_mac", hex);
	s->accepting = true;
	err = r.body ? append_locked(s, &r, NULL) : fail(-ENOMEM, "out of memory");
	json_decref(r.body);
	if (err)
		irc_store_rollback(s);
	else
		err = irc_store_commit(s);
	s->accepting = false;
	return err ?: anchor_lost ? -EIO : 0;
}

/* --- reading ------------------------------------------------------- */

static void row_from(sqlite3_stmt *st, struct irc_row *r)
{
	r->kind = sqlite3_column_int(st, 0);
	r->seq = sqlite3_column_int64(st, 1);
	r->incident = sqlite3_column_int64(st, 2);
	r->ts_ns = sqlite3_column_int64(st, 3);
	r->type = (const char *)sqlite3_column_text(st, 4) ?: "";
	r->actor = (const char *)sqlite3_column_text(st, 5) ?: "";
	r->target = (const char *)sqlite3_column_text(st, 6) ?: "";
	r->peer = (const char *)sqlite3_column_text(st, 7) ?: "";
	r->body = (const char *)sqlite3_column_text(st, 8) ?: "";
	r->data = sqlite3_column_blob(st, 9);
	r->data_len = sqlite3_column_bytes(st, 9);
	r->mac = sqlite3_column_bytes(st, 10) == IRC_MAC_LEN ? sqlite3_column_blob(st, 10) : NULL;
}

#define ROW_COLS "seq, incident, ts_ns, type, actor, target, peer, body, data, mac"
#define MAX_ENTITIES	500

int irc_store_rows(struct irc_store *s, int64_t incident, unsigned int kinds,
		   int64_t from_ns, int64_t to_ns, const char *const *entities,
		   irc_row_fn fn, void *ctx)
{
	char *sql = NULL, *cond = NULL;
	size_t nent = 0, i, len;
	sqlite3_stmt *st;
	struct irc_row r;
	int k, rc, ret = 0, nb = 0;

	while (entities && entities[nent])
		nent++;
	if (nent > MAX_ENTITIES)
		return fail(-E2BIG, "%zu entities (at most %d)", nent, MAX_ENTITIES);
	/* ?1 incident, ?2 from, ?3 to, ?4... entities */
	len = 256 + nent * 12;
	cond = malloc(len);
	sql = malloc(3 * (len + 160));
	if (!cond || !sql) {
		free(cond);
		free(sql);
		return fail(-ENOMEM, "out of memory");
	}
	snprintf(cond, len, "(?1 = 0 OR incident = ?1");
	if (nent) {
		/*
		 * Numbered: a bare "?" after ?1 would be ?2 (one more than the
		 * largest so far), the time bound, not the entity.
		 */
		strcat(cond, " OR target IN (");
		for (i = 0; i < nent; i++)
			sprintf(cond + strlen(cond), "%s?%zu", i ? "," : "", 4 + i);
		strcat(cond, ") OR peer IN (");
		for (i = 0; i < nent; i++)
			sprintf(cond + strlen(cond), "%s?%zu", i ? "," : "", 4 + i);
		strcat(cond, ")");
	}
	strcat(cond, ") AND (?2 = 0 OR ts_ns >= ?2) AND (?3 = 0 OR ts_ns <= ?3)");
	sql[0] = '\0';
	for (k = IRC_REC_ACTION; k <= IRC_REC_EVIDENCE; k++) {
		if (!(kinds & (1u << k)))
			continue;
		if (nb++)
			strcat(sql, " UNION ALL ");
		sprintf(sql + strlen(sql), "SELECT %d, " ROW_COLS " FROM %s WHERE %s",
			k, kind_table[k], cond);
	}
	free(cond);
	if (!nb) {
		free(sql);
		return 0;
	}
	strcat(sql, " ORDER BY 2");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return dbfail(s, "query records");
	sqlite3_bind_int64(st, 1, incident);
	sqlite3_bind_int64(st, 2, from_ns);
	sqlite3_bind_int64(st, 3, to_ns);
	for (i = 0; i < nent; i++)
		sqlite3_bind_text(st, 4 + i, entities[i], -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_from(st, &r);
		ret = fn(&r, ctx);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = dbfail(s, "read records");
	sqlite3_finalize(st);
	return ret;
}

/* --- incidents ----------------------------------------------------- */

static int incident_row(sqlite3_stmt *st, struct irc_incident *in)
{
	memset(in, 0, sizeof(*in));
	in->id = sqlite3_column_int64(st, 0);
	snprintf(in->title, sizeof(in->title), "%s", sqlite3_column_text(st, 1) ?: (const uint8_t *)"");
	in->severity = sqlite3_column_int(st, 2);
	in->status = sqlite3_column_int(st, 3);
	snprintf(in->summary, sizeof(in->summary), "%s", sqlite3_column_text(st, 4) ?: (const uint8_t *)"");
	snprintf(in->opened_by, sizeof(in->opened_by), "%s", sqlite3_column_text(st, 5) ?: (const uint8_t *)"");
	in->created_ns = sqlite3_column_int64(st, 6);
	in->updated_ns = sqlite3_column_int64(st, 7);
	in->closed_ns = sqlite3_column_int64(st, 8);
	return 0;
}

#define INC_COLS "id, title, severity, status, summary, opened_by, created_ns, updated_ns, closed_ns"

int irc_incident_get(struct irc_store *s, int64_t id, struct irc_incident *out)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT " INC_COLS " FROM incidents WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read incident");
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		incident_row(st, out);
	else if (rc == SQLITE_DONE)
		err = fail(-ENOENT, "no incident %" PRId64 " in %s", id, s->path);
	else
		err = dbfail(s, "read incident");
	sqlite3_finalize(st);
	return err;
}

int irc_incident_check_open(struct irc_store *s, int64_t id)
{
	struct irc_incident in;
	int err = irc_incident_get(s, id, &in);

	if (!err && in.status == IRC_IS_CLOSED)
		err = fail(-EALREADY, "incident %" PRId64 " is closed", id);
	return err;
}

int irc_incident_list(struct irc_store *s, int status,
		      int (*fn)(const struct irc_incident *in, void *ctx), void *ctx)
{
	struct irc_incident in;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT " INC_COLS " FROM incidents"
			       " WHERE ?1 < 0 OR status = ?1 ORDER BY id DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "list incidents");
	sqlite3_bind_int(st, 1, status);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		incident_row(st, &in);
		ret = fn(&in, ctx);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = dbfail(s, "list incidents");
	sqlite3_finalize(st);
	return ret;
}

static int step_done(struct irc_store *s, sqlite3_stmt *st, const char *what)
{
	int err = sqlite3_step(st) == SQLITE_DONE ? 0 : dbfail(s, what);

	sqlite3_finalize(st);
	return err;
}

int irc_incident_open(struct irc_store *s, const char *title, int severity,
		      const char *actor, const char *entity, int64_t *id)
{
	int64_t now = irc_now_real_ns();
	struct irc_rec r;
	sqlite3_stmt *st;
	bool own = !s->in_batch;
	int err;

	if (own && (err = irc_store_begin(s)))
		return err;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO incidents(title, severity, status, opened_by,"
			       " created_ns, updated_ns) VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		err = dbfail(s, "prepare incident");
		goto out;
	}
	sqlite3_bind_text(st, 1, title, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, severity);
	sqlite3_bind_int(st, 3, IRC_IS_DETECTED);
	sqlite3_bind_text(st, 4, actor ?: "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	err = step_done(s, st, "insert incident");
	if (err)
		goto out;
	*id = sqlite3_last_insert_rowid(s->db);
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = *id, .ts_ns = now,
		.type = "incident.open", .actor = actor, .target = entity,
		.body = json_pack("{s:s, s:s, s:s}", "title", title,
				  "severity", irc_severity_name(severity),
				  "status", irc_istatus_name(IRC_IS_DETECTED)) };
	/* Its body is what verify replays: never stored empty. */
	err = r.body ? append_locked(s, &r, NULL) : fail(-ENOMEM, "out of memory");
	json_decref(r.body);
out:
	if (own)
		err = err ? irc_store_rollback(s), err : irc_store_commit(s);
	return err;
}

int irc_incident_set_status(struct irc_store *s, int64_t id, int status,
			    const char *actor, const char *text)
{
	int64_t now = irc_now_real_ns();
	struct irc_incident in;
	struct irc_rec r;
	sqlite3_stmt *st;
	bool own = !s->in_batch;
	int err;

	if (status < 0 || status >= IRC_IS__MAX)
		return fail(-EINVAL, "bad incident status %d", status);
	if (own && (err = irc_store_begin(s)))
		return err;
	err = irc_incident_get(s, id, &in);
	if (err)
		goto out;
	if (in.status == IRC_IS_CLOSED) {
		err = fail(-EALREADY, "incident %" PRId64 " is closed", id);
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "UPDATE incidents SET status = ?, updated_ns = ?,"
			       " closed_ns = ?, summary = CASE WHEN ? THEN ? ELSE summary END"
			       " WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		err = dbfail(s, "prepare incident update");
		goto out;
	}
	sqlite3_bind_int(st, 1, status);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, status == IRC_IS_CLOSED ? now : 0);
	sqlite3_bind_int(st, 4, status == IRC_IS_CLOSED);
	sqlite3_bind_text(st, 5, text ?: "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, id);
	err = step_done(s, st, "update incident");
	if (err)
		goto out;
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = id, .ts_ns = now,
		.type = status == IRC_IS_CLOSED ? "incident.close" : "incident.status",
		.actor = actor,
		.body = json_pack("{s:s, s:s, s:s}", "from", irc_istatus_name(in.status),
				  "to", irc_istatus_name(status), "text", text ?: "") };
	err = r.body ? append_locked(s, &r, NULL) : fail(-ENOMEM, "out of memory");
	json_decref(r.body);
out:
	if (own)
		err = err ? irc_store_rollback(s), err : irc_store_commit(s);
	return err;
}

/* ?1 incident (0: any), ?2 after, ?3 up to, ?4 limit (-1: none). */
static void bind_rows(sqlite3_stmt *st, int64_t incident, int64_t after, int64_t upto,
		      size_t limit)
{
	sqlite3_bind_int64(st, 1, incident);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, upto);
	sqlite3_bind_int64(st, 4, limit ? (int64_t)limit : -1);
}

int irc_incident_raise(struct irc_store *s, int64_t id, int severity, const char *actor,
		       const char *why)
{
	struct irc_incident in;
	struct irc_rec r;
	sqlite3_stmt *st;
	bool own = !s->in_batch;
	int err;

	if (severity < IRC_SEV_LOW || severity > IRC_SEV_CRITICAL)
		return fail(-EINVAL, "bad severity %d", severity);
	if (own && (err = irc_store_begin(s)))
		return err;
	err = irc_incident_get(s, id, &in);
	if (err || in.severity >= severity)
		goto out;
	if (sqlite3_prepare_v2(s->db, "UPDATE incidents SET severity = ?, updated_ns = ?"
			       " WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		err = dbfail(s, "prepare incident severity");
		goto out;
	}
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .incident = id,
		.ts_ns = (int64_t)irc_now_real_ns(), .type = "incident.severity", .actor = actor };
	sqlite3_bind_int(st, 1, severity);
	sqlite3_bind_int64(st, 2, r.ts_ns);
	sqlite3_bind_int64(st, 3, id);
	err = step_done(s, st, "raise incident severity");
	if (err)
		goto out;
	r.body = json_pack("{s:s,s:s,s:s}", "from", irc_severity_name(in.severity),
			   "to", irc_severity_name(severity), "reason", why ?: "");
	err = r.body ? append_locked(s, &r, NULL) : fail(-ENOMEM, "out of memory");
	json_decref(r.body);
out:
	if (own)
		err = err ? irc_store_rollback(s), err : irc_store_commit(s);
	return err;
}

int irc_store_key_rows(struct irc_store *s, int64_t incident, int64_t after, int64_t upto,
		       size_t limit, void (*fn)(int64_t incident, const char *entity,
						int64_t ts_ns, void *ctx), void *ctx)
{
	/* ?1 incident (0: any), ?2 after, ?3 up to, ?4 limit (-1: none) */
#define KEY_ROWS(t, col, cond) "SELECT incident, " col ", ts_ns FROM " t " WHERE " col " != ''" \
	" AND seq > ?2 AND seq <= ?3 AND (?1 = 0 AND incident > 0 OR incident = ?1)" cond
	static const char sql[] =
		KEY_ROWS("actions", "target", "") " UNION ALL " KEY_ROWS("actions", "peer", "")
		" UNION ALL " KEY_ROWS("events", "target", " AND type = 'finding'")
		" UNION ALL " KEY_ROWS("events", "peer", " AND (type = 'fork' OR"
				       " (type = 'finding' AND actor = 'reverse_shell'))")
		" LIMIT ?4";
#undef KEY_ROWS
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read incident attackers");
	bind_rows(st, incident, after, upto, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   sqlite3_column_int64(st, 2), ctx);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : dbfail(s, "read incident attackers");
}

int irc_incident_find(struct irc_store *s, const char *entity, int64_t now_ns,
		      int64_t window_s, int64_t *id)
{
	/*
	 * The entity's newest row that belongs to an incident, one index
	 * probe per table and column; it joins that incident if it is still
	 * open and the row is recent.  (A closed incident is not reopened: a
	 * new finding then opens a new one.)
	 */
#define NEWEST(t, c) "SELECT * FROM (SELECT seq, incident, ts_ns FROM " t \
	" WHERE incident > 0 AND " c " = ?1 ORDER BY seq DESC LIMIT 1)"
	static const char sql[] =
		"SELECT r.incident, r.ts_ns, i.status FROM ("
		NEWEST("actions", "target") " UNION ALL " NEWEST("actions", "peer")
		" UNION ALL " NEWEST("events", "target") " UNION ALL " NEWEST("events", "peer")
		" UNION ALL " NEWEST("evidence", "target") " UNION ALL " NEWEST("evidence", "peer")
		") r JOIN incidents i ON i.id = r.incident ORDER BY r.seq DESC LIMIT 1";
#undef NEWEST
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "find incident");
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 2) != IRC_IS_CLOSED &&
	    sqlite3_column_int64(st, 1) >= now_ns - window_s * 1000000000LL)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dbfail(s, "find incident");
}

void irc_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int irc_store_entity_rows(struct irc_store *s, int64_t incident, int64_t after,
			  int64_t upto, size_t limit,
			  void (*fn)(int64_t incident, const char *entity, void *ctx), void *ctx)
{
	/* ?1 incident (0: any), ?2 after, ?3 up to, ?4 limit (-1: none) */
#define ENT_ROWS(t, col) "SELECT incident, " col " FROM " t " WHERE " col " != ''" \
	" AND seq > ?2 AND seq <= ?3 AND (?1 = 0 AND incident > 0 OR incident = ?1)"
	static const char sql[] =
		ENT_ROWS("actions", "target") " UNION " ENT_ROWS("actions", "peer")
		" UNION " ENT_ROWS("events", "target") " UNION " ENT_ROWS("evidence", "target")
		" LIMIT ?4";
#undef ENT_ROWS
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read incident entities");
	bind_rows(st, incident, after, upto, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), ctx);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : dbfail(s, "read incident entities");
}

struct strv {
	char **v;
	size_t n;
	bool oom;
};

static void strv_add(int64_t incident, const char *e, void *ctx)
{
	struct strv *sv = ctx;
	char **nv;

	(void)incident;
	if (sv->oom || !(nv = realloc(sv->v, (sv->n + 2) * sizeof(*nv)))) {
		sv->oom = true;
		return;
	}
	sv->v = nv;
	sv->v[sv->n] = strdup(e);
	if (!sv->v[sv->n]) {
		sv->oom = true;
		return;
	}
	sv->v[++sv->n] = NULL;
}

int irc_incident_entities(struct irc_store *s, int64_t id, char ***list, size_t *n)
{
	struct strv sv = { 0 };
	int err;

	*list = NULL;
	*n = 0;
	err = irc_store_entity_rows(s, id, 0, INT64_MAX, IRC_EXPORT_MAX_ENTITIES, strv_add, &sv);
	if (!err && sv.oom)
		err = fail(-ENOMEM, "out of memory");
	if (err) {
		irc_strv_free(sv.v, sv.n);
		return err;
	}
	*list = sv.v;
	*n = sv.n;
	return 0;
}

int irc_store_tip(struct irc_store *s, int64_t *last_seq, int64_t *max_incident)
{
	sqlite3_stmt *st;
	int rc;

	*last_seq = *max_incident = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce((SELECT seq FROM chain WHERE id = 1), 0),"
			       " coalesce((SELECT max(id) FROM incidents), 0)", -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read the chain head");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*last_seq = sqlite3_column_int64(st, 0);
		*max_incident = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : dbfail(s, "read the chain head");
}

int irc_incident_open_ids(struct irc_store *s, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id FROM incidents WHERE status != ?1"
			       " ORDER BY id DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "list open incidents");
	sqlite3_bind_int(st, 1, IRC_IS_CLOSED);
	sqlite3_bind_int64(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : dbfail(s, "list open incidents");
}

int irc_store_read_begin(struct irc_store *s)
{
	return s->in_batch ? -EBUSY : exec_sql(s, "BEGIN", "begin read");
}

void irc_store_read_end(struct irc_store *s)
{
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

/* --- pruning ------------------------------------------------------- */

/* The one integer @sql gives with ?1 = @a (NULL is 0). */
static int q_int(struct irc_store *s, const char *sql, int64_t a, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "query the store");
	if (sqlite3_bind_parameter_count(st))
		sqlite3_bind_int64(st, 1, a);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dbfail(s, "query the store");
}

#define ALL_ROWS(cols) \
	"SELECT " cols " FROM actions UNION ALL SELECT " cols " FROM events" \
	" UNION ALL SELECT " cols " FROM evidence"

/* The last prune's seal, as its record says (verify proves the record). */
struct seal {
	int64_t last, total, ts_ns;
	uint8_t mac[IRC_MAC_LEN];
	char reason[64];
	bool found;
};

static int seal_read(struct irc_store *s, struct seal *se)
{
	sqlite3_stmt *st;
	const char *hex;
	json_t *b;
	int rc;

	memset(se, 0, sizeof(*se));
	if (sqlite3_prepare_v2(s->db, "SELECT body, ts_ns FROM actions WHERE type = 'store.prune'"
			       " ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read the last prune");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		b = json_loads((const char *)sqlite3_column_text(st, 0) ?: "", 0, NULL);
		hex = json_string_value(json_object_get(b, "cut_mac")) ?: "";
		se->found = true;
		se->last = json_integer_value(json_object_get(b, "last"));
		se->total = json_integer_value(json_object_get(b, "total"));
		se->ts_ns = sqlite3_column_int64(st, 1);
		snprintf(se->reason, sizeof(se->reason), "%s",
			 json_string_value(json_object_get(b, "reason")) ?: "");
		if (strlen(hex) != 2 * IRC_MAC_LEN ||
		    sodium_hex2bin(se->mac, IRC_MAC_LEN, hex, strlen(hex), NULL, NULL, NULL))
			se->last = -1;	/* verify says it is unusable */
		json_decref(b);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dbfail(s, "read the last prune");
}

/* Where the cut may go: before the first record of any incident it must keep. */
static int prune_hold(struct irc_store *s, bool keep_unexported, int64_t *cut, int64_t *held)
{
	sqlite3_stmt *st;
	struct span { int64_t id, first, last; bool keep; } *sp = NULL, *n;
	size_t i, ns = 0;
	bool moved;
	int rc, err = 0;

	if (sqlite3_prepare_v2(s->db,
			"SELECT r.incident, min(r.seq), max(r.seq), coalesce(i.status, -1),"
			" EXISTS (SELECT 1 FROM actions a WHERE a.incident = r.incident AND a.type = 'export')"
			" FROM (" ALL_ROWS("incident, seq") ") r LEFT JOIN incidents i ON i.id = r.incident"
			" WHERE r.incident > 0 GROUP BY r.incident", -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read the incidents' records");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = realloc(sp, (ns + 1) * sizeof(*sp));
		if (!n) {
			err = fail(-ENOMEM, "out of memory");
			break;
		}
		sp = n;
		sp[ns].id = sqlite3_column_int64(st, 0);
		sp[ns].first = sqlite3_column_int64(st, 1);
		sp[ns].last = sqlite3_column_int64(st, 2);
		/*
		 * No row: a closed incident whose opening record an earlier
		 * prune cut (its row went then); the rest of it holds nothing.
		 */
		sp[ns].keep = sqlite3_column_int(st, 3) != -1 &&
			      (sqlite3_column_int(st, 3) != IRC_IS_CLOSED ||
			       (keep_unexported && !sqlite3_column_int(st, 4)));
		ns++;
	}
	if (!err && rc != SQLITE_DONE)
		err = dbfail(s, "read the incidents' records");
	sqlite3_finalize(st);
	/*
	 * A closed incident may be cut in two (incidents overlap in time: a
	 * rule against splitting would hold every prune at the oldest one);
	 * one that must be kept holds the cut at its first record.
	 */
	do {
		moved = false;
		for (i = 0; !err && i < ns; i++)
			if (sp[i].first <= *cut && sp[i].keep) {
				*cut = sp[i].first - 1;
				*held = sp[i].id;
				moved = true;
			}
	} while (moved);
	free(sp);
	return err;
}

static int used_bytes(struct irc_store *s, int64_t *used)
{
	int64_t pages, freep, psize;
	int err;

	err = q_int(s, "PRAGMA page_count", 0, &pages);
	if (!err)
		err = q_int(s, "PRAGMA freelist_count", 0, &freep);
	if (!err)
		err = q_int(s, "PRAGMA page_size", 0, &psize);
	*used = err ? 0 : (pages - freep) * psize;
	return err;
}

/* The time of record @seq (0 if it is missing). */
static int ts_at(struct irc_store *s, int64_t seq, int64_t *ts)
{
	int64_t v;
	int err = q_int(s, "SELECT coalesce((SELECT ts_ns FROM actions WHERE seq = ?1),"
			" (SELECT ts_ns FROM events WHERE seq = ?1),"
			" (SELECT ts_ns FROM evidence WHERE seq = ?1), 0)", seq, &v);

	*ts = v;
	return err;
}

static int prune_locked(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
			struct irc_prune_result *res)
{
	int64_t first, last, count = 0, nrec, cut = 0, n, incs = 0;
	uint8_t mac[IRC_MAC_LEN];
	char hex[2 * IRC_MAC_LEN + 1], reason[64] = "", sql[160];
	struct seal se;
	sqlite3_stmt *st;
	struct irc_rec r;
	bool found;
	int k, err;

	err = q_int(s, "SELECT min(seq) FROM (" ALL_ROWS("seq") ")", 0, &first);
	if (!err)
		err = head_read(s, &last, mac, NULL, &found);
	if (!err)
		err = used_bytes(s, &res->used_bytes);
	if (err || !first)
		return err;
	if (l->max_age_s > 0) {
		int64_t keep_from = (int64_t)irc_now_real_ns() - l->max_age_s * 1000000000LL;
		int64_t lo = first, hi = last, mid, ts;

		/*
		 * The last record older than that, by bisection over the
		 * sequence (records are in time order but for a few ms): a
		 * handful of primary-key reads, never a scan.
		 */
		err = ts_at(s, first, &ts);
		if (!err && ts < keep_from) {
			while (!err && lo < hi) {
				mid = lo + (hi - lo + 1) / 2;
				err = ts_at(s, mid, &ts);
				if (ts < keep_from)
					lo = mid;
				else
					hi = mid - 1;
			}
			cut = lo;
			snprintf(reason, sizeof(reason), "older than %lld s", (long long)l->max_age_s);
		}
	}
	if (!err && l->max_bytes > 0 && res->used_bytes > l->max_bytes) {
		nrec = last - first + 1;	/* a prefix is all that is ever cut */
		if (nrec > 0) {
			/* Down to 90%, at the store's average bytes per record. */
			n = (res->used_bytes - l->max_bytes / 10 * 9) / (res->used_bytes / nrec + 1) + 1;
			if (first + n - 1 > cut) {
				cut = first + n - 1;
				snprintf(reason, sizeof(reason), "over %lld bytes", (long long)l->max_bytes);
			}
		}
	}
	if (err || !cut)
		return err;
	if (cut > last)
		cut = last;
	if (l->max_rows > 0 && cut - first + 1 > l->max_rows)
		cut = first + l->max_rows - 1;
	err = prune_hold(s, l->keep_unexported, &cut, &res->held_by);
	if (err || cut < first)
		return err;
	/* The seal: the MAC of the last record removed. */
	for (k = IRC_REC_ACTION, found = false; !found && k <= IRC_REC_EVIDENCE; k++) {
		snprintf(sql, sizeof(sql), "SELECT mac FROM %s WHERE seq = ?", kind_table[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return dbfail(s, "read the record at the cut");
		sqlite3_bind_int64(st, 1, cut);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == IRC_MAC_LEN) {
			memcpy(mac, sqlite3_column_blob(st, 0), IRC_MAC_LEN);
			found = true;
		}
		sqlite3_finalize(st);
	}
	if (!found)
		return fail(-EBADMSG, "%s: record #%" PRId64 " at the cut is missing: not pruned",
			    s->path, cut);
	err = seal_read(s, &se);
	for (k = IRC_REC_ACTION; !err && k <= IRC_REC_EVIDENCE; k++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE seq <= ?", kind_table[k]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return dbfail(s, "prune records");
		sqlite3_bind_int64(st, 1, cut);
		err = sqlite3_step(st) == SQLITE_DONE ? 0 : dbfail(s, "prune records");
		count += sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	/*
	 * Closed incidents whose opening record went: verify could no longer
	 * check their row against the chain, and their evidence is in the
	 * bundles exported.  What is left of their records stays, unattached.
	 */
	if (!err) {
		if (sqlite3_prepare_v2(s->db, "DELETE FROM incidents WHERE status = ?"
				       " AND id NOT IN (SELECT incident FROM actions WHERE type = 'incident.open')",
				       -1, &st, NULL) != SQLITE_OK)
			return dbfail(s, "prune incidents");
		sqlite3_bind_int(st, 1, IRC_IS_CLOSED);
		err = step_done(s, st, "prune incidents");
		incs = sqlite3_changes(s->db);
	}
	if (err)
		return err;
	irc_hex(mac, IRC_MAC_LEN, hex);
	r = (struct irc_rec){ .kind = IRC_REC_ACTION, .type = "store.prune", .actor = actor,
		.body = json_pack("{s:I,s:I,s:I,s:s,s:I,s:s,s:I,s:I,s:s}",
			"first", (json_int_t)first, "last", (json_int_t)cut,
			"count", (json_int_t)count, "cut_mac", hex,
			"incidents", (json_int_t)incs, "reason", reason,
			"total", (json_int_t)(se.total + count),
			"used_bytes", (json_int_t)res->used_bytes, "result", "ok") };
	if (!r.body)
		return fail(-ENOMEM, "out of memory");
	err = append_locked(s, &r, NULL);
	json_decref(r.body);
	if (!err) {
		res->first = first;
		res->last = cut;
		res->count = count;
		res->incidents = incs;
	}
	return err;
}

int irc_store_prune(struct irc_store *s, const struct irc_prune_limits *l, const char *actor,
		    struct irc_prune_result *res)
{
	int err;

	memset(res, 0, sizeof(*res));
	if (s->in_batch)
		return fail(-EBUSY, "%s: prune inside a batch", s->path);
	err = irc_store_begin(s);
	if (err)
		return err;
	err = s->head_valid ? 0 : head_load(s);
	if (!err)
		err = prune_locked(s, l, actor, res);
	if (err || !res->count) {
		irc_store_rollback(s);
		return err;
	}
	return irc_store_commit(s);
}

int irc_store_info(struct irc_store *s, struct irc_store_info *in)
{
	char side[PATH_MAX + 8];
	struct seal se;
	struct stat st;
	int err;

	memset(in, 0, sizeof(*in));
	if (!stat(s->path, &st))
		in->file_bytes = st.st_size;
	snprintf(side, sizeof(side), "%s-wal", s->path);
	if (!stat(side, &st))
		in->file_bytes += st.st_size;
	err = irc_store_read_begin(s);
	if (err)
		return err;
	err = used_bytes(s, &in->used_bytes);
	if (!err)
		err = q_int(s, "SELECT count(*) FROM (" ALL_ROWS("seq") ")", 0, &in->records);
	if (!err)
		err = q_int(s, "SELECT coalesce(min(seq), 0) FROM (" ALL_ROWS("seq") ")", 0,
			    &in->first_seq);
	if (!err)
		err = q_int(s, "SELECT coalesce(max(seq), 0) FROM (" ALL_ROWS("seq") ")", 0,
			    &in->last_seq);
	if (!err && in->first_seq)
		err = q_int(s, "SELECT min(ts_ns) FROM (" ALL_ROWS("seq, ts_ns") ") WHERE seq = ?1",
			    in->first_seq, &in->oldest_ns);
	if (!err)
		err = seal_read(s, &se);
	if (!err && se.found) {
		in->pruned_total = se.total;
		in->pruned_last = se.last;
		in->pruned_ns = se.ts_ns;
		snprintf(in->pruned_reason, sizeof(in->pruned_reason), "%s", se.reason);
	}
	irc_store_read_end(s);
	return err;
}

int irc_store_last_action(struct irc_store *s, const char *target, const char *const *types,
			  char *type, size_t len)
{
	sqlite3_stmt *st;
	int rc, err = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT type FROM actions WHERE target = ?"
			       " ORDER BY seq DESC", -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "read actions");
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	while (err == -ENOENT && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0) ?: "";
		size_t i;

		for (i = 0; types[i]; i++)
			if (!strcmp(t, types[i])) {
				snprintf(type, len, "%s", t);
				err = 0;
			}
	}
	sqlite3_finalize(st);
	return err;
}

/* --- verification -------------------------------------------------- */

/* The incidents as the chain says they should be. */
struct replay {
	int64_t id;
	char *title, *summary, *opened_by;
	int severity, status;
	int64_t created_ns, updated_ns, closed_ns;
};

struct vstate {
	struct irc_store *s;
	struct irc_verify *v;
	uint8_t prev[IRC_MAC_LEN];
	int64_t expect;
	struct replay *inc;
	size_t ninc;
	/* controller sessions */
	struct session {
		long pid;
		char boot[40];
		int64_t start_seq, last_seq, start_ns, last_ns;
		bool open, credited;	/* credited: the records now are its */
	} *ses;
	size_t nses;
};

static const char *kind_name(int kind)
{
	return kind == IRC_REC_ACTION ? "action" : kind == IRC_REC_EVENT ? "event" : "evidence";
}

static int bad(struct vstate *vs, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct vstate *vs, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vs->v->problem, sizeof(vs->v->problem), fmt, ap);
	va_end(ap);
	vs->v->bad_seq = seq;
	return -EBADMSG;
}

static struct replay *replay_find(struct vstate *vs, int64_t id)
{
	size_t i;

	for (i = 0; i < vs->ninc; i++)
		if (vs->inc[i].id == id)
			return &vs->inc[i];
	return NULL;
}

static void replay_action(struct vstate *vs, const struct irc_row *r)
{
	struct replay *in, *n;
	json_t *b;
	const char *t;

	if (strncmp(r->type, "incident.", 9) && strncmp(r->type, "run.", 4))
		return;
	b = json_loads(r->body, 0, NULL);
	if (!b)
		return;
	if (!strcmp(r->type, "incident.open")) {
		n = realloc(vs->inc, (vs->ninc + 1) * sizeof(*n));
		if (n) {
			vs->inc = n;
			in = &n[vs->ninc++];
			in->id = r->incident;
			in->title = strdup(json_string_value(json_object_get(b, "title")) ?: "");
			in->summary = strdup("");
			in->severity = irc_severity_parse(json_string_value(json_object_get(b, "severity")) ?: "");
			in->status = IRC_IS_DETECTED;
			in->opened_by = strdup(r->actor);
			in->created_ns = in->updated_ns = r->ts_ns;
			in->closed_ns = 0;
		}
	} else if (!strcmp(r->type, "incident.status") || !strcmp(r->type, "incident.close")) {
		in = replay_find(vs, r->incident);
		t = json_string_value(json_object_get(b, "to"));
		if (in && t)
			in->status = irc_istatus_parse(t);
		if (in)
			in->updated_ns = r->ts_ns;
		if (in && !strcmp(r->type, "incident.close")) {
			free(in->summary);
			in->summary = strdup(json_string_value(json_object_get(b, "text")) ?: "");
			in->closed_ns = r->ts_ns;
		}
	} else if (!strcmp(r->type, "incident.severity")) {
		in = replay_find(vs, r->incident);
		t = json_string_value(json_object_get(b, "to"));
		if (in && t && irc_severity_parse(t) > 0)
			in->severity = irc_severity_parse(t);
		if (in)
			in->updated_ns = r->ts_ns;
	} else if (!strcmp(r->type, "run.start") || !strcmp(r->type, "run.stop")) {
		long pid = json_integer_value(json_object_get(b, "pid"));
		const char *boot = json_string_value(json_object_get(b, "boot_id")) ?: "";
		struct session *se = NULL;
		size_t i;

		for (i = 0; i < vs->nses; i++)
			if (vs->ses[i].open && vs->ses[i].pid == pid && !strcmp(vs->ses[i].boot, boot))
				se = &vs->ses[i];
		if (!strcmp(r->type, "run.stop")) {
			if (se)
				se->open = false;
		} else {
			struct session *ns = realloc(vs->ses, (vs->nses + 1) * sizeof(*ns));

			if (ns) {
				vs->ses = ns;
				/*
				 * One controller at a time: an older session still
				 * open ended without a clean stop before this one;
				 * what follows is not its.
				 */
				for (i = 0; i < vs->nses; i++)
					ns[i].credited = false;
				se = &ns[vs->nses++];
				memset(se, 0, sizeof(*se));
				se->pid = pid;
				snprintf(se->boot, sizeof(se->boot), "%s", boot);
				se->start_seq = se->last_seq = r->seq;
				se->start_ns = se->last_ns = r->ts_ns;
				se->open = true;
				se->credited = true;
			}
		}
	}
	json_decref(b);
}

static int verify_row(const struct irc_row *r, void *ctx)
{
	struct vstate *vs = ctx;
	uint8_t mac[IRC_MAC_LEN];
	char when[40];
	size_t i;

	irc_fmt_utc(r->ts_ns, when, sizeof(when));
	if (r->seq > vs->expect)
		return bad(vs, vs->expect, "record #%" PRId64 " is missing (deleted?): the chain jumps from #%" PRId64 " to #%" PRId64,
			   vs->expect, vs->expect - 1, r->seq);
	if (r->seq < vs->expect)
		return bad(vs, r->seq, "record #%" PRId64 " appears twice (in %s)", r->seq, kind_name(r->kind));
	row_mac(vs->s->key, vs->prev, r, mac);
	if (!r->mac || sodium_memcmp(r->mac, mac, IRC_MAC_LEN))
		return bad(vs, r->seq, "record #%" PRId64 " (%s '%s' at %s) does not match its MAC: it was changed, or moved within the chain",
			   r->seq, kind_name(r->kind), r->type, when);
	memcpy(vs->prev, mac, IRC_MAC_LEN);
	vs->expect++;
	vs->v->records++;
	if (r->kind == IRC_REC_ACTION) {
		vs->v->actions++;
		replay_action(vs, r);
	} else if (r->kind == IRC_REC_EVENT) {
		vs->v->events++;
	} else {
		vs->v->evidence++;
	}
	/*
	 * Events and packet samples come from the controller alone: the last
	 * of them in a session is the last record it committed.
	 */
	for (i = 0; r->kind != IRC_REC_ACTION && i < vs->nses; i++)
		if (vs->ses[i].open && vs->ses[i].credited) {
			vs->ses[i].last_seq = r->seq;
			vs->ses[i].last_ns = r->ts_ns;
		}
	return 0;
}

static int check_incidents(struct vstate *vs)
{
	sqlite3_stmt *st;
	struct irc_incident in;
	struct replay *rp;
	size_t seen = 0;
	int rc, err = 0;

	if (sqlite3_prepare_v2(vs->s->db, "SELECT " INC_COLS " FROM incidents ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return dbfail(vs->s, "read incidents");
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		incident_row(st, &in);
		vs->v->incidents++;
		rp = replay_find(vs, in.id);
		if (!rp)
			err = bad(vs, 0, "incident %" PRId64 " is in the incidents table but no record opened it", in.id);
		else if (strcmp(rp->title, in.title) || rp->severity != in.severity ||
			 rp->status != in.status || strcmp(rp->summary, in.summary))
			err = bad(vs, 0, "incident %" PRId64 " was edited: the table says %s/%s '%s', its records say %s/%s '%s'",
				  in.id, irc_istatus_name(in.status), irc_severity_name(in.severity), in.title,
				  irc_istatus_name(rp->status), irc_severity_name(rp->severity), rp->title);
		/* Its times and opener too: they set what show and export cover. */
		else if (rp->created_ns != in.created_ns || rp->updated_ns != in.updated_ns ||
			 rp->closed_ns != in.closed_ns || strcmp(rp->opened_by ?: "", in.opened_by))
			err = bad(vs, 0, "incident %" PRId64 " was edited: its times or opener (%s) differ from its records (%s)",
				  in.id, in.opened_by, rp->opened_by ?: "");
		else
			seen++;
	}
	sqlite3_finalize(st);
	if (!err && seen != vs->ninc)
		err = bad(vs, 0, "%zu incident(s) opened in the records are missing from the incidents table",
			  vs->ninc - seen);
	return err;
}


static int check_anchor(struct vstate *vs, const struct anchor *a, int64_t last)
{
	char problem[400];
	int64_t seq;
	int err = anchor_check(vs->s, a, last, problem, sizeof(problem), &seq);

	return err == -EBADMSG ? bad(vs, seq, "%s", problem) : err;
}

/* Is the controller session still running (same boot, live pid)? */
static bool session_alive(const struct session *se)
{
	char boot[40] = "", path[64], comm[32] = "";
	FILE *f;

	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
		boot[strcspn(boot, "\n")] = '\0';
	}
	if (strcmp(boot, se->boot) || kill(se->pid, 0))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", se->pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "ircontain", 9);
}

int irc_store_verify(struct irc_store *s, struct irc_verify *v)
{
	uint8_t hmac[IRC_MAC_LEN], hsig[IRC_MAC_LEN], want[IRC_MAC_LEN];
	struct vstate vs = { .s = s, .v = v, .expect = 1 };
	struct anchor anc;
	struct seal cut;
	bool found;
	size_t i;
	int err;

	memset(v, 0, sizeof(*v));
	/*
	 * The anchor first: a writer moves it only after its commit, so the
	 * snapshot read below reaches at least as far.
	 */
	anc.err = anchor_read(s, &anc.seq, anc.mac, anc.sig);
	/* One consistent snapshot of the whole store. */
	err = exec_sql(s, "BEGIN", "begin read");
	if (err)
		return err;
	/*
	 * A pruned store starts after the last cut, chained to the MAC the
	 * prune sealed.  That seal is only what its record says until the
	 * walk reaches the record and proves it.
	 */
	err = seal_read(s, &cut);
	if (!err && cut.found) {
		v->pruned_total = cut.total;
		v->pruned_last = cut.last;
		v->pruned_ns = cut.ts_ns;
		snprintf(v->pruned_reason, sizeof(v->pruned_reason), "%s", cut.reason);
		if (cut.last < 1)
			err = bad(&vs, 0, "the last prune's record has no usable seal (cut and MAC)");
		vs.expect = cut.last + 1;
		memcpy(vs.prev, cut.mac, IRC_MAC_LEN);
	}
	if (!err)
		err = irc_store_rows(s, 0, IRC_REC_ALL, 0, 0, NULL, verify_row, &vs);
	if (!err)
		err = head_read(s, &v->head_seq, hmac, hsig, &found);
	if (!err)
		irc_hex(hmac, IRC_MAC_LEN, v->head_mac);
	if (!err) {
		int64_t last = vs.expect - 1;

		head_sig(s->key, v->head_seq, hmac, want);
		if (!found && last)
			err = bad(&vs, last, "the chain head is missing: the last %" PRId64 " records cannot be vouched for", last);
		else if (found && sodium_memcmp(hsig, want, IRC_MAC_LEN))
			err = bad(&vs, v->head_seq, "the chain head (record #%" PRId64 ") does not match its seal: it was edited", v->head_seq);
		else if (found && v->head_seq > last)
			err = bad(&vs, last + 1, "the chain was truncated: its head is record #%" PRId64 " but it ends at #%" PRId64,
				  v->head_seq, last);
		else if (found && v->head_seq < last)
			err = bad(&vs, v->head_seq + 1, "records after the head #%" PRId64 " were added outside ircontain", v->head_seq);
		else if (found && sodium_memcmp(hmac, vs.prev, IRC_MAC_LEN))
			err = bad(&vs, last, "the chain head does not match record #%" PRId64, last);
	}
	if (!err)
		err = check_incidents(&vs);
	if (!err)
		err = check_anchor(&vs, &anc, vs.expect - 1);
	for (i = 0; i < vs.nses; i++) {
		struct session *se = &vs.ses[i];
		char t0[40], t1[40];

		if (!se->open || session_alive(se))
			continue;
		v->unclean++;
		irc_fmt_utc(se->start_ns, t0, sizeof(t0));
		irc_fmt_utc(se->last_ns, t1, sizeof(t1));
		snprintf(v->unclean_note, sizeof(v->unclean_note),
			 "controller pid %ld (started %s, record #%" PRId64 ") ended without a clean stop;"
			 " its last committed record is #%" PRId64 " at %s; events it had not yet committed were lost",
			 se->pid, t0, se->start_seq, se->last_seq, t1);
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < vs.ninc; i++) {
		free(vs.inc[i].title);
		free(vs.inc[i].summary);
		free(vs.inc[i].opened_by);
	}
	free(vs.inc);
	free(vs.ses);
	return err;
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
		char why[sizeof(errmsg)];

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
