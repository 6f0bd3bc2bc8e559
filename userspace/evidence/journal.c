// SPDX-License-Identifier: GPL-2.0-only
/* The journal of records not yet in the store; see journal.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "irc.h"
#include "journal.h"
#include "owned.h"
#include "store.h"

#define NOTE_MAX	(64 << 10)	/* a note is a few hundred bytes */
#define NOTES_MAX	4096		/* replayed per open */

/* irc_journal_defer(): no replay in this process for now. */
static bool deferred;

void irc_journal_defer(bool on)
{
	deferred = on;
}

static struct {
	int dirfd;
	char name[96];
	bool kept;
} note = { .dirfd = -1 };

/* The start time of @pid (/proc/PID/stat field 22), 0 if it is gone. */
static unsigned long long start_time(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* After the comm, which may hold anything: from the last ')'. */
	p = strrchr(buf, ')');
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

/* The journal dir, checked; @create: made if missing, silently (for intents). */
static int open_dir(const char *state_dir, bool create)
{
	char path[PATH_MAX], msg[512];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, IRC_STORE_JOURNAL) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* The state dir is checked by whoever opens the store; this one too. */
	fd = irc_owned_dir(path, "journal", create, 0700, msg, sizeof(msg));
	/* A note is a safety net: an intent that cannot be left says nothing. */
	if (fd < 0 && fd != -ENOENT && !create)
		irc_warn("%s", msg);
	return fd;
}

static void note_cleanup(void)
{
	if (note.dirfd >= 0 && note.name[0] && !note.kept)
		unlinkat(note.dirfd, note.name, 0);
}

/* Writes @obj as the note @name, whole or not at all. */
static int note_write(int dirfd, const char *name, json_t *obj, bool sync)
{
	char tmp[128], *text = json_dumps(obj, JSON_COMPACT);
	size_t len;
	int fd, err = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		err = -errno;
	else {
		if (write(fd, text, len) != (ssize_t)len || (sync && fsync(fd)))
			err = -errno ?: -EIO;
		if (close(fd) && !err)
			err = -errno;
		if (!err && renameat(dirfd, tmp, dirfd, name))
			err = -errno;
		if (!err && sync)
			err = fsync(dirfd) ? -errno : 0;
		if (err)
			unlinkat(dirfd, tmp, 0);
	}
	free(text);
	return err;
}

void irc_journal_intent(const char *what, const char *operand, int64_t incident,
			const char *reason)
{
	static bool registered;
	char actor[64], type[32], target[PATH_MAX + 16];
	const char *sp = strchr(what, ' ');
	json_t *o;

	if (note.name[0])
		return;		/* one per command */
	note.dirfd = open_dir(irc.state_dir, true);
	if (note.dirfd < 0)
		return;
	snprintf(note.name, sizeof(note.name), "%d-%llu-%llu.json", getpid(),
		 start_time(getpid()), (unsigned long long)irc_now_real_ns());
	/* "quarantine host" on "10.0.0.1" is a quarantine of host:10.0.0.1. */
	snprintf(type, sizeof(type), "%.*s", (int)(sp ? sp - what : (long)strlen(what)), what);
	if (sp && operand)
		snprintf(target, sizeof(target), "%s:%s", sp + 1, operand);
	else
		snprintf(target, sizeof(target), "%s", operand ?: "");
	irc_actor(actor, sizeof(actor));
	o = json_pack("{s:s,s:s,s:I,s:s,s:I,s:{s:s,s:s,s:s,s:s,s:I}}", "type", type,
		      "target", target, "incident", (json_int_t)incident, "actor", actor,
		      "ts_ns", (json_int_t)irc_now_real_ns(), "body", "journaled", "intent",
		      "command", what, "reason", reason ?: "",
		      "result", "unknown: the command ended before it could record what it did",
		      "uid", (json_int_t)irc_actor_uid());
	if (!o || note_write(note.dirfd, note.name, o, false)) {
		note.name[0] = '\0';
	} else if (!registered) {
		atexit(note_cleanup);
		registered = true;
	}
	json_decref(o);
}

void irc_journal_done(void)
{
	if (note.dirfd >= 0 && note.name[0])
		unlinkat(note.dirfd, note.name, 0);
	note.name[0] = '\0';
}

int irc_journal_keep(int64_t incident, const char *type, const char *target,
		     const char *actor, json_t *body)
{
	json_t *o;
	int err;

	if (!note.name[0]) {
		/* No intent (no state dir then): one more try now. */
		irc_journal_intent(type, NULL, incident, NULL);
		if (!note.name[0])
			return -EIO;
	}
	o = json_pack("{s:s,s:s,s:I,s:s,s:I,s:O}", "type", type, "target", target ?: "",
		      "incident", (json_int_t)incident, "actor", actor,
		      "ts_ns", (json_int_t)irc_now_real_ns(), "body", body);
	if (!o)
		return -ENOMEM;
	json_object_set_new(json_object_get(o, "body"), "journaled", json_string("not recorded"));
	err = note_write(note.dirfd, note.name, o, true);
	json_decref(o);
	note.kept = !err;
	return err;
}

/* Is the writer of note @name (PID-START-NS.json) still running? */
static bool writer_alive(const char *name)
{
	unsigned long long start;
	long pid;

	if (sscanf(name, "%ld-%llu-", &pid, &start) != 2)
		return false;
	return pid == getpid() || (start && start_time(pid) == start);
}

/*
 * The note @name, parsed; NULL with *@gone set if it is no longer there: its
 * writer recorded it and removed it between our readdir and now.
 */
static json_t *note_read(int dirfd, const char *name, bool *gone)
{
	char buf[NOTE_MAX];
	struct stat st;
	ssize_t n = -1;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	*gone = fd < 0 && errno == ENOENT;
	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    st.st_size < (off_t)sizeof(buf))
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return json_loads(buf, 0, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int irc_journal_replay(struct irc_store *s, const char *state_dir, int *left)
{
	char *names[NOTES_MAX];
	size_t n = 0, i;
	struct dirent *de;
	int dirfd, fd, done = 0, err = 0, pending = 0;
	DIR *d;

	if (left)
		*left = 0;
	if (deferred)
		return 0;
	dirfd = open_dir(state_dir, false);
	if (dirfd < 0)
		return dirfd == -ENOENT ? 0 : dirfd;
	/* One replayer at a time; another one busy now does it. */
	if (flock(dirfd, LOCK_EX | LOCK_NB)) {
		close(dirfd);
		return 0;
	}
	fd = dup(dirfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		close(dirfd);
		return -errno;
	}
	while ((de = readdir(d)) && n < NOTES_MAX) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		pending++;
		if (writer_alive(de->d_name))
			continue;
		names[n] = strdup(de->d_name);
		n += names[n] != NULL;
	}
	closedir(d);
	/* PID-START-NS: oldest first is good enough, and stable. */
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		struct irc_rec r = { .kind = IRC_REC_ACTION };
		json_t *o, *body;
		bool gone;

		o = note_read(dirfd, names[i], &gone);
		if (gone) {
			pending--;
			continue;
		}
		if (!o || !json_is_object(json_object_get(o, "body"))) {
			irc_warn("journal %s/%s/%s: not a journal note; left there", state_dir,
				 IRC_STORE_JOURNAL, names[i]);
			json_decref(o);
			continue;
		}
		body = json_deep_copy(json_object_get(o, "body"));
		json_object_set_new(body, "journal", json_string(names[i]));
		r.type = json_string_value(json_object_get(o, "type")) ?: "unknown";
		r.target = json_string_value(json_object_get(o, "target"));
		r.actor = json_string_value(json_object_get(o, "actor"));
		r.incident = json_integer_value(json_object_get(o, "incident"));
		r.ts_ns = json_integer_value(json_object_get(o, "ts_ns"));
		r.body = body;
		/* Removed only once recorded. */
		err = irc_store_append(s, &r, NULL);
		if (!err && !unlinkat(dirfd, names[i], 0)) {
			done++;
			pending--;
		}
		json_decref(body);
		json_decref(o);
		if (err)
			break;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	close(dirfd);
	if (left)
		*left = pending;
	return err ?: done;
}

int irc_journal_pending(const char *state_dir)
{
	struct dirent *de;
	int fd, n = 0;
	DIR *d;

	fd = open_dir(state_dir, false);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		n += de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".json");
	}
	closedir(d);
	return n;
}
