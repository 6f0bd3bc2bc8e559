/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * contain-then-kill, the controller's half (ctk.c): its heartbeat, the
 * kill after a finding's snapshot, and the sweep of processes the kernel
 * stopped whose finding it never read.
 */
#ifndef IRC_CTK_H
#define IRC_CTK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

struct irc_runstore;

struct irc_ctk {
	int ctl_fd, pkill_fd, detstate_fd;	/* pinned maps, -1 if absent */
	uint64_t beat_ns;			/* our last heartbeat */
};

/* Opens the maps (a module loaded before contain-then-kill: all -1, a no-op). */
void irc_ctk_open(struct irc_ctk *k);
/* The heartbeat, at most every IRC_CTL_BEAT_MS; @stopping: 0, none runs. */
void irc_ctk_beat(struct irc_ctk *k, bool stopping);
/*
 * Kills @tgid if the kernel stopped it for contain-then-kill (its entry in
 * irc_pkill, which goes when the process exits, so a PID reused since is
 * never killed).  0 if killed, -ENOENT if it was not pending, -errno.
 */
int irc_ctk_kill(const struct irc_ctk *k, __u32 tgid);
/*
 * Every pending process past its deadline (@all: every one, at start):
 * snapshot through @rs, kill, and the kill on record.  Returns how many.
 */
int irc_ctk_sweep(const struct irc_ctk *k, struct irc_runstore *rs, bool all);
void irc_ctk_close(struct irc_ctk *k);

#endif /* IRC_CTK_H */
