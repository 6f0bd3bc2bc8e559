// SPDX-License-Identifier: GPL-2.0-only
/*
 * sensitive_read's identities: the policy's paths resolved to what the
 * kernel compares at every open (bpf/irc_proc.bpf.c, irc_open_detect):
 *
 *   - each sensitive file that exists: its (dev, inode), so every path to
 *     it (symlink, hard link, bind mount, /proc/self/fd) is matched; a
 *     prefix pattern ("/root/.ssh/id_*"): every file it matches now;
 *   - the directory each entry is in, with the entry's name (or name
 *     prefix): a file created or renamed there later is matched by its
 *     name, and the kernel learns its identity;
 *   - the directory of each allowed program, with its file name: a
 *     program is allowed by where its executable is.
 *
 * Paths are resolved with realpath(3), so a policy path through a symlink
 * (/sbin on a merged /usr) names the directory the kernel sees; nothing
 * here opens a sensitive file (stat, readlink, and the directories of
 * prefix patterns, which the kernel does not match: regular files only).
 * `policy apply` resolves; the controller resolves again every
 * IRC_GC_INTERVAL_MS.  Each resolve drops what is no longer at a policy
 * path, what the kernel learned included (it learned the file then at the
 * path, which the resolve now finds itself): a deleted file's inode number
 * may be given to an unrelated file, which must not match for long.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>

#include "irc.h"
#include "pins.h"
#include "sensid.h"

struct want {
	struct irc_fid key[IRC_MAX_SENSID];
	struct irc_sensid val[IRC_MAX_SENSID];
	size_t n, dropped;
};

static void fid_of(const struct stat *st, struct irc_fid *id)
{
	memset(id, 0, sizeof(*id));
	/* The kernel's dev_t: MAJOR << 20 | MINOR (the stat encoding differs). */
	id->dev = ((__u64)major(st->st_dev) << 20) | minor(st->st_dev);
	id->ino = st->st_ino;
}

/* Merges @v into the entry for @st's identity. */
static void want_add(struct want *w, const struct stat *st, const struct irc_sensid *v)
{
	struct irc_fid id;
	size_t i;

	fid_of(st, &id);
	for (i = 0; i < w->n; i++)
		if (!memcmp(&w->key[i], &id, sizeof(id)))
			break;
	if (i == w->n) {
		if (w->n == IRC_MAX_SENSID) {
			w->dropped++;
			return;
		}
		w->key[w->n] = id;
		memset(&w->val[w->n], 0, sizeof(w->val[0]));
		w->n++;
	}
	w->val[i].kind |= v->kind;
	if (v->kind & IRC_SID_FILE)
		w->val[i].file = v->file;
	w->val[i].files |= v->files;
	w->val[i].exes |= v->exes;
}

/* Splits @path at its last '/': the directory resolved into @dir, the name into @name. */
static int split_resolve(const char *path, char *dir, char *name, size_t nlen)
{
	const char *slash = strrchr(path, '/');
	char d[PATH_MAX];

	if (!slash || (size_t)(slash - path) >= sizeof(d))
		return -EINVAL;
	memcpy(d, path, slash - path);
	d[slash - path] = '\0';
	if (!realpath(d[0] ? d : "/", dir))
		return -errno;
	if (snprintf(name, nlen, "%s", slash + 1) >= (int)nlen)
		return -ENAMETOOLONG;
	return 0;
}

/* Every regular file in @dir whose name starts with @pfx, as entry @i. */
static void add_prefix_files(struct want *w, const char *dir, const char *pfx, __u32 i)
{
	struct irc_sensid v = { .kind = IRC_SID_FILE, .file = i };
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, pfx, strlen(pfx)) || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int)sizeof(p) &&
		    !stat(p, &st) && S_ISREG(st.st_mode))
			want_add(w, &st, &v);
	}
	closedir(d);
}

/* One `files` entry: its identity (or identities) and its directory. */
static void resolve_file(struct want *w, struct irc_detcfg *cfg, __u32 i,
			 struct irc_sens_report *rep)
{
	const char *path = cfg->sens_files[i];
	size_t len = strlen(path);
	bool prefix = len && path[len - 1] == '*';
	char rp[PATH_MAX], dir[PATH_MAX], name[IRC_SENS_NAME_LEN + 2];
	struct irc_sensid v = { .kind = IRC_SID_FILE, .file = i };
	struct stat st;

	memset(cfg->sens_names[i], 0, IRC_SENS_NAME_LEN);
	cfg->sens_nplen[i] = 0;
	if (!prefix && realpath(path, rp) && !stat(rp, &st)) {
		want_add(w, &st, &v);
		if (split_resolve(rp, dir, name, sizeof(name)))
			goto nodir;
	} else {
		if (split_resolve(path, dir, name, sizeof(name)))
			goto nodir;
		if (prefix) {
			name[strlen(name) - 1] = '\0';
			add_prefix_files(w, dir, name, i);
		} else {
			rep->files_absent |= 1U << i;
		}
	}
	if (strlen(name) > IRC_SENS_NAME_MAX || stat(dir, &st))
		goto nodir;
	memcpy(cfg->sens_names[i], name, strlen(name));
	cfg->sens_nplen[i] = prefix ? strlen(name) : IRC_SENS_NAME_LEN;
	want_add(w, &st, &(struct irc_sensid){ .kind = IRC_SID_DIR, .files = 1U << i });
	return;
nodir:
	rep->files_nodir |= 1U << i;
}

/* One `allowed` program: its directory and its name there. */
static void resolve_exe(struct want *w, struct irc_detcfg *cfg, __u32 j,
			struct irc_sens_report *rep)
{
	char rp[PATH_MAX], dir[PATH_MAX], name[IRC_SENS_NAME_LEN + 2];
	struct stat st;

	memset(cfg->sens_exe_names[j], 0, IRC_SENS_NAME_LEN);
	if (!realpath(cfg->sens_allowed[j], rp) || stat(rp, &st) || !S_ISREG(st.st_mode) ||
	    split_resolve(rp, dir, name, sizeof(name)) || strlen(name) > IRC_SENS_NAME_MAX ||
	    stat(dir, &st)) {
		rep->exes_absent |= 1U << j;
		return;
	}
	memcpy(cfg->sens_exe_names[j], name, strlen(name));
	want_add(w, &st, &(struct irc_sensid){ .kind = IRC_SID_DIR, .exes = 1U << j });
}

int irc_sens_resolve(const struct irc_maps *m, struct irc_detcfg *cfg,
		     struct irc_sens_report *rep)
{
	static struct want w;
	int fd = m->fd[IRC_M_SENSID], err = 0;
	struct irc_fid key, next, *prev = NULL;
	__u32 i;
	size_t k;
	bool keep;

	memset(rep, 0, sizeof(*rep));
	w.n = w.dropped = 0;
	if (cfg->det[IRC_DET_SENSITIVE].enabled) {
		for (i = 0; i < IRC_SENS_FILES; i++)
			if (cfg->sens_files[i][0])
				resolve_file(&w, cfg, i, rep);
		for (i = 0; i < IRC_SENS_ALLOWED; i++)
			if (cfg->sens_allowed[i][0])
				resolve_exe(&w, cfg, i, rep);
	}
	/* Add first, then remove what is gone: never a moment uncovered. */
	for (k = 0; k < w.n; k++)
		if (bpf_map_update_elem(fd, &w.key[k], &w.val[k], BPF_ANY) && !err)
			err = -errno;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		keep = false;
		for (k = 0; k < w.n && !keep; k++)
			keep = !memcmp(&w.key[k], &key, sizeof(key));
		if (!keep && !bpf_map_delete_elem(fd, &key))
			continue;	/* deleted: the walk starts over from here */
		prev = &key;
	}
	rep->identities = w.n;
	rep->dropped = w.dropped;
	if (err)
		irc_err("update sensitive file identities (%s): %s",
			irc_map_names[IRC_M_SENSID], strerror(-err));
	return err;
}

int irc_sens_refresh(const struct irc_maps *m)
{
	struct irc_detcfg cfg, now;
	struct irc_sens_report rep;
	__u32 zero = 0;
	int lock, err;

	/* The controller's loop never waits on a CLI command: next round then. */
	lock = irc_pins_trylock();
	if (lock < 0)
		return lock;
	if (bpf_map_lookup_elem(m->fd[IRC_M_DETCFG], &zero, &cfg)) {
		err = -errno;
		goto out;
	}
	now = cfg;
	err = irc_sens_resolve(m, &now, &rep);
	/* A policy path whose target's name changed (a symlink moved): the kernel gets the new name. */
	if (!err && memcmp(&now, &cfg, sizeof(now)) &&
	    bpf_map_update_elem(m->fd[IRC_M_DETCFG], &zero, &now, BPF_ANY))
		err = -errno;
out:
	irc_pins_unlock(lock);
	return err;
}

/* The policy paths of the bits in @bits, as a JSON array. */
static json_t *paths_json(const char (*paths)[IRC_SENS_PATH_LEN], int n, __u32 bits)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		if (bits & (1U << i))
			json_array_append_new(a, json_string(paths[i]));
	return a;
}

json_t *irc_sens_report_json(const struct irc_detcfg *cfg, const struct irc_sens_report *rep)
{
	return json_pack("{s:I,s:o,s:o,s:o}", "identities", (json_int_t)rep->identities,
			 "files_absent", paths_json(cfg->sens_files, IRC_SENS_FILES, rep->files_absent),
			 "files_unresolved", paths_json(cfg->sens_files, IRC_SENS_FILES, rep->files_nodir),
			 "allowed_absent", paths_json(cfg->sens_allowed, IRC_SENS_ALLOWED, rep->exes_absent));
}

void irc_sens_warn(const char *action, const struct irc_detcfg *cfg,
		   const struct irc_sens_report *rep)
{
	int i;

	for (i = 0; i < IRC_SENS_FILES; i++)
		if (rep->files_nodir & (1U << i))
			irc_warn("%s: sensitive_read file %s: its directory does not exist: not watched",
				 action, cfg->sens_files[i]);
	for (i = 0; i < IRC_SENS_ALLOWED; i++)
		if (rep->exes_absent & (1U << i))
			irc_warn("%s: sensitive_read allowed program %s: not on this host: allows nothing",
				 action, cfg->sens_allowed[i]);
	if (rep->dropped)
		irc_warn("%s: sensitive_read: %zu identities over the %d limit are not watched",
			 action, rep->dropped, IRC_MAX_SENSID);
}
