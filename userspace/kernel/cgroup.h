/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup v2: where it is mounted (never assumed), ids, membership. */
#ifndef IRC_CGROUP_H
#define IRC_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* First cgroup2 mount point from /proc/self/mountinfo; -ENOENT if none. */
int irc_cgroup2_mount(char *buf, size_t len);

/* 0 if @path is a directory on a cgroup v2 filesystem, else -ENOTDIR. */
int irc_cgroup_check(const char *path);

/* The kernel's id of the cgroup at @path (what BPF helpers return). */
int irc_cgroup_id(const char *path, uint64_t *id);

/*
 * The process hooks' cgroup root: --cgroup-root, else $IRCONTAIN_CGROUP_ROOT,
 * else the cgroup2 mount.  Resolved to a canonical path; checked.
 */
int irc_cgroup_root(char *buf, size_t len);

/*
 * The absolute path of @pid's cgroup v2 ("0::/x" in /proc/PID/cgroup,
 * joined to the mount point).  -ESRCH if the process is gone.
 */
int irc_proc_cgroup_path(int pid, char *buf, size_t len);

/*
 * The path of the cgroup whose id is @id, found below @root (a walk of the
 * tree: for listings and verify, never a hot path); -ENOENT once it is gone.
 */
int irc_cgroup_path_by_id(const char *root, uint64_t id, char *buf, size_t len);

/*
 * Is @rel (a path below the cgroup2 mount @mnt, as /proc/PID/cgroup names
 * it) the directory of cgroup @id?  A cgroup's id is its directory's inode
 * and is not reused within a boot, and cgroup2 has no rename: a match
 * proves the pair for the cgroup's life.
 */
bool irc_cgroup_is(const char *mnt, const char *rel, uint64_t id);

/* 1 if @path is @root or below it, else 0. */
int irc_path_under(const char *path, const char *root);

/*
 * The cgroup v2 freezer for `quarantine pid --action stop`.  A process
 * stopped by SIGSTOP alone is resumed by the kernel when its process group
 * is orphaned (the parent exits: SIGHUP then SIGCONT to a group with
 * stopped jobs, and SIGHUP kills by default), and by anyone's SIGCONT.  A
 * frozen process is neither: the freezer counts nothing as a stopped job,
 * and no signal but SIGKILL reaches it.
 *
 * irc_cgroup_freeze_pid() moves @pid into "<its cgroup>/ircontain.stop.ROOT",
 * frozen before the move (path into @fpath); the process stays below its
 * unit or container.  irc_cgroup_thaw_pid() moves it back to that parent
 * and removes the freeze cgroup once empty (0 if @pid was not frozen by
 * us).  irc_cgroup_frozen_wait() waits up to @ms for every task of the
 * cgroup @fpath to be frozen.  All return 0 or -errno (-ENOENT, -EINVAL:
 * no freezer, before Linux 5.2).
 */
int irc_cgroup_freeze_pid(int pid, unsigned int root, char *fpath, size_t len);
int irc_cgroup_thaw_pid(int pid);
int irc_cgroup_frozen_wait(const char *fpath, int ms);
/*
 * Removes the freeze cgroups beside @fpath (same parent) whose quarantine
 * root @live() says is gone and that are empty: those of processes that
 * died frozen (a kill, not a release).  Returns how many.
 */
int irc_cgroup_freeze_gc(const char *fpath, int (*live)(unsigned int root, void *ctx), void *ctx);

#endif /* IRC_CGROUP_H */
