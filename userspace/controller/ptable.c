// SPDX-License-Identifier: GPL-2.0-only
/* Bounded process table with stable entity ids. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "ptable.h"

#define NSLOTS	(2 * IRC_PT_MAX)

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t irc_boot_key(const char *boot_id)
{
	return fnv1a(0xcbf29ce484222325ULL, boot_id, strlen(boot_id));
}

void irc_entity_id(uint64_t boot_key, int tgid, uint64_t start_ticks,
		   char out[17])
{
	uint64_t h = fnv1a(boot_key, &tgid, sizeof(tgid));

	h = fnv1a(h, &start_ticks, sizeof(start_ticks));
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int irc_container_id(const char *path, char out[65])
{
	const char *p, *best = NULL;
	size_t run = 0;

	if (!path)
		return -ENOENT;
	/* The last run of exactly 64 hex digits. */
	for (p = path;; p++) {
		if (*p && isxdigit((unsigned char)*p) && !isupper((unsigned char)*p)) {
			run++;
			continue;
		}
		if (run == 64)
			best = p - 64;
		run = 0;
		if (!*p)
			break;
	}
	if (!best)
		return -ENOENT;
	memcpy(out, best, 64);
	out[64] = '\0';
	return 0;
}

int irc_pt_init(struct irc_ptable *t, const char *boot_id)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(NSLOTS, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->boot_key = irc_boot_key(boot_id ? boot_id : "");
	return 0;
}

/* The entry's cached text goes (it is the entry's, never a moved copy's). */
static void frag_drop(struct irc_ptable *t, struct irc_pt_entry *e)
{
	free(e->frag);
	t->frag_bytes -= e->frag_len;
	e->frag = NULL;
	e->frag_len = 0;
}

void irc_pt_free(struct irc_ptable *t)
{
	size_t i;

	for (i = 0; t->slots && i < NSLOTS; i++)
		if (t->slots[i].used)
			frag_drop(t, &t->slots[i]);
	free(t->slots);
	t->slots = NULL;
}

static size_t slot_of(int tgid)
{
	return ((uint32_t)tgid * 2654435761u) % NSLOTS;
}

struct irc_pt_entry *irc_pt_get(struct irc_ptable *t, int tgid)
{
	size_t i, s = slot_of(tgid);

	for (i = 0; i < NSLOTS; i++) {
		struct irc_pt_entry *e = &t->slots[(s + i) % NSLOTS];

		if (!e->used)
			return NULL;
		if (e->tgid == tgid)
			return e;
	}
	return NULL;
}

/*
 * Removes slot @idx and re-inserts the rest of its probe run, so lookups
 * never stop early at the hole (backward-shift deletion for linear probing).
 */
static void pt_remove(struct irc_ptable *t, size_t idx)
{
	size_t i = idx, j = idx;

	frag_drop(t, &t->slots[i]);
	t->slots[i].used = false;
	t->count--;
	for (;;) {
		size_t home;

		j = (j + 1) % NSLOTS;
		if (!t->slots[j].used)
			break;
		home = slot_of(t->slots[j].tgid);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j].used = false;
			i = j;
		}
	}
}

/* Makes room: an exited process if there is one, else the least recent. */
static void pt_evict(struct irc_ptable *t)
{
	size_t i, victim = NSLOTS;
	uint64_t oldest = UINT64_MAX;

	for (i = 0; i < NSLOTS; i++) {
		struct irc_pt_entry *e = &t->slots[i];
		/* Exited ones sort before every live one, oldest first. */
		uint64_t age = (e->exited ? 0 : 1ULL << 63) | e->touched;

		if (e->used && age < oldest) {
			oldest = age;
			victim = i;
		}
	}
	if (victim < NSLOTS) {
		pt_remove(t, victim);
		t->evictions++;
	}
}

struct irc_pt_entry *irc_pt_put(struct irc_ptable *t, int tgid,
				uint64_t start_ticks)
{
	struct irc_pt_entry *e = irc_pt_get(t, tgid);
	size_t i, s;

	if (e && e->start_ticks != start_ticks && start_ticks) {
		/* A recycled PID: a different process. */
		frag_drop(t, e);
		memset(e, 0, sizeof(*e));
		e->used = true;
	}
	if (!e) {
		if (t->count >= IRC_PT_MAX)
			pt_evict(t);
		s = slot_of(tgid);
		for (i = 0; i < NSLOTS; i++) {
			e = &t->slots[(s + i) % NSLOTS];
			if (!e->used)
				break;
		}
		memset(e, 0, sizeof(*e));
		e->used = true;
		t->count++;
	}
	e->tgid = tgid;
	e->exited = false;
	if (start_ticks)
		e->start_ticks = start_ticks;
	e->touched = ++t->clock;
	/* The caller fills it in next: whatever was written from it is stale. */
	e->ver = t->clock;
	irc_entity_id(t->boot_key, tgid, e->start_ticks, e->entity_id);
	return e;
}

void irc_pt_changed(struct irc_ptable *t, struct irc_pt_entry *e)
{
	e->ver = ++t->clock;
}

void irc_pt_exit(struct irc_ptable *t, int tgid)
{
	struct irc_pt_entry *e = irc_pt_get(t, tgid);

	if (e)
		e->exited = true;
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

void irc_pt_read_proc(struct irc_pt_entry *e, const char *proc_root)
{
	char path[128], buf[4096];
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "%s/%d/exe", proc_root, e->tgid);
	n = readlink(path, e->exe, sizeof(e->exe) - 1);
	e->exe[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, e->tgid);
	r = read_file(path, buf, sizeof(buf));
	if (r > 0) {
		e->args_len = (size_t)r < sizeof(e->args) ? (uint32_t)r : sizeof(e->args);
		memcpy(e->args, buf, e->args_len);
	}
	irc_pt_read_cgroup(e, proc_root);
}

/* The cgroup v2 line's path, cut to @len if @cut, else -ENAMETOOLONG. */
static int proc_cgroup(const char *proc_root, int pid, char *out, size_t len, bool cut)
{
	char path[128], buf[4096], *p;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "0::")))
		return -ENOENT;
	p[strcspn(p, "\n")] = '\0';
	if (snprintf(out, len, "%s", p + 3) >= (int)len && !cut) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

void irc_pt_read_cgroup(struct irc_pt_entry *e, const char *proc_root)
{
	/* Where it is now, which need not be the cgroup of an id known before. */
	e->cgroup_id = 0;
	proc_cgroup(proc_root, e->tgid, e->cgroup, sizeof(e->cgroup), true);
}

int irc_pt_proc_cgroup(const char *proc_root, int pid, char *out, size_t len)
{
	return proc_cgroup(proc_root, pid, out, len, false);
}

struct irc_pt_entry *irc_pt_seed_one(struct irc_ptable *t, const char *proc_root, int pid)
{
	char path[128], buf[1024], *rp, comm[16] = "";
	unsigned long long start;
	struct irc_pt_entry *e;
	unsigned int uid = 0;
	int ppid;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(rp = strrchr(buf, ')')))
		return NULL;
	/* Field 22 is the start time in clock ticks since boot. */
	if (sscanf(rp + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ppid, &start) != 2)
		return NULL;
	if (strchr(buf, '('))
		snprintf(comm, sizeof(comm), "%.*s",
			 (int)(rp - strchr(buf, '(') - 1), strchr(buf, '(') + 1);
	snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
	if (read_file(path, buf, sizeof(buf)) > 0 && (rp = strstr(buf, "\nUid:")))
		sscanf(rp + 5, "%u", &uid);
	e = irc_pt_put(t, pid, start);
	e->ppid = ppid;
	e->uid = uid;
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	irc_pt_read_proc(e, proc_root);
	return e;
}

int irc_pt_seed(struct irc_ptable *t, const char *proc_root)
{
	struct dirent *de;
	DIR *d = opendir(proc_root);
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t pid;

		if (irc_parse_u64(de->d_name, 1, INT32_MAX, &pid, NULL) ||
		    !irc_pt_seed_one(t, proc_root, (int)pid))
			continue;
		n++;
		if (t->count >= IRC_PT_MAX)
			break;
	}
	closedir(d);
	return n;
}
