/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A process as it was at the moment of containment, taken before anything
 * changes it: executable path and the SHA-256 of the binary, cmdline,
 * uid/gid, ancestry, cgroup, open files and sockets, memory map list.
 */
#ifndef IRC_SNAPSHOT_H
#define IRC_SNAPSHOT_H
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "store.h"

/*
 * The snapshot of @pid read from @proc_root ("/proc"; tests point it
 * elsewhere) as a JSON object (bounded by the IRC_SNAP_* limits).
 * Returns 0, -ESRCH if the process is gone, or another -errno.
 */
int irc_snapshot_proc(pid_t pid, const char *proc_root, json_t **out);
/*
 * The same, hashing at most @hash_max bytes of the executable
 * (irc_snapshot_proc: IRC_SNAP_HASH_MAX).  Over it, "sha256" is null,
 * "sha256_partial" the hash of the first @hash_max bytes, "hash_bytes"
 * @hash_max, "hash_truncated" true; "exe_size" is the whole size.
 */
int irc_snapshot_take(pid_t pid, const char *proc_root, unsigned long long hash_max,
		      json_t **out);

/*
 * The snapshot in two halves, so that containment never waits for a
 * hash: everything but the executable's hash now, with the executable
 * held open in *@exe_fd (-1 if it could not be opened); after the
 * containment, irc_snapshot_hash() hashes that same file (even if the
 * process is gone or the file deleted) into @snap and closes @exe_fd.
 */
int irc_snapshot_begin(pid_t pid, const char *proc_root, json_t **out, int *exe_fd);
void irc_snapshot_hash(json_t *snap, int exe_fd, unsigned long long hash_max);

/*
 * Appends the snapshot @snap of @pid, taken before (@snap borrowed), to @s
 * as an evidence record of @incident (type "snapshot", target "pid:N",
 * peer its parent) by @actor.  Returns 0 or -errno.
 */
int irc_snapshot_append(struct irc_store *s, int64_t incident, pid_t pid, json_t *snap,
			const char *actor);

/*
 * Takes the snapshot of @pid and appends it to @s as an evidence record
 * of @incident (type "snapshot", target "pid:N", the JSON as body) by
 * @actor.  Returns 0 or -errno.
 */
int irc_snapshot_record(struct irc_store *s, int64_t incident, pid_t pid,
			const char *actor);
#endif /* IRC_SNAPSHOT_H */
