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
 * Takes the snapshot of @pid and appends it to @s as an evidence record
 * of @incident (type "snapshot", target "pid:N", the JSON as body) by
 * @actor.  Returns 0 or -errno.
 */
int irc_snapshot_record(struct irc_store *s, int64_t incident, pid_t pid,
			const char *actor);
#endif /* IRC_SNAPSHOT_H */
