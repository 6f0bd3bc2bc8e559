// SPDX-License-Identifier: GPL-2.0-only
/*
 * contain-then-kill, the controller's half.  The kernel stops the process
 * and cuts its network the moment the detector fires, and enters it in
 * irc_pkill only while this controller's heartbeat is fresh (otherwise it
 * kills at once: no snapshot would come).  The controller reads the
 * finding, snapshots the stopped process (runstore.c) and kills it here.
 * A finding it never read (ring buffer loss, a restart in between) is
 * caught by the sweep: every pending process past its deadline is
 * snapshotted and killed the same way.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "ircontain/abi.h"
#include "ctk.h"
#include "irc.h"
#include "pins.h"
#include "policy.h"
#include "runstore.h"
#include "store.h"

static int open_pin(const char *name)
{
	char path[4096];

	return irc_pin_path(path, sizeof(path), name) ? -1 : bpf_obj_get(path);
}

void irc_ctk_open(struct irc_ctk *k)
{
	k->ctl_fd = open_pin(IRC_STR(IRC_MAP_CTL));
	k->pkill_fd = open_pin(IRC_STR(IRC_MAP_PKILL));
	k->detstate_fd = open_pin(IRC_STR(IRC_MAP_DETSTATE));
	k->beat_ns = 0;
}

void irc_ctk_beat(struct irc_ctk *k, bool stopping)
{
	uint64_t now = irc_now_boot_ns();
	struct irc_ctl c = { .beat_ns = stopping ? 0 : now, .pid = stopping ? 0 : getpid() };
	__u32 zero = 0;

	if (k->ctl_fd < 0 || (!stopping && now - k->beat_ns < IRC_CTL_BEAT_MS * 1000000ULL))
		return;
	k->beat_ns = now;
	bpf_map_update_elem(k->ctl_fd, &zero, &c, BPF_ANY);
}

int irc_ctk_kill(const struct irc_ctk *k, __u32 tgid)
{
	struct irc_pkill pk;
	int pfd, err = 0;

	if (k->pkill_fd < 0)
		return -ENOENT;
	/* The pidfd first, then the entry: the entry alive means the same process. */
	pfd = syscall(SYS_pidfd_open, (pid_t)tgid, 0);
	if (pfd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	if (bpf_map_lookup_elem(k->pkill_fd, &tgid, &pk))
		err = -ENOENT;
	else if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0))
		err = -errno;
	close(pfd);
	return err;
}

int irc_ctk_sweep(const struct irc_ctk *k, struct irc_runstore *rs, bool all)
{
	__u32 key, next, *prev = NULL, zero = 0, done[64];
	struct irc_detstate ds;
	struct irc_pkill pk;
	uint64_t now = irc_now_boot_ns();
	char target[32];
	int n = 0, i;

	if (k->pkill_fd < 0 || k->detstate_fd < 0 ||
	    bpf_map_lookup_elem(k->detstate_fd, &zero, &ds) || !ds.pkill_pending)
		return 0;
	/* Collected first: a kill removes the entry (at the exit) under the walk. */
	while (n < (int)(sizeof(done) / sizeof(done[0])) &&
	       bpf_map_get_next_key(k->pkill_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(k->pkill_fd, &key, &pk) && (all || now >= pk.deadline_ns))
			done[n++] = key;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(k->pkill_fd, &done[i], &pk))
			continue;
		irc_rs_snapshot(rs, done[i], pk.detector);
		if (irc_ctk_kill(k, done[i]))
			continue;
		snprintf(target, sizeof(target), "pid:%u", done[i]);
		fprintf(stderr, "ircontain: run: %s: pid %u stopped for contain-then-kill, its finding not read: snapshot taken, killed\n",
			irc_detector_name(pk.detector), done[i]);
		irc_rs_append(rs, IRC_REC_ACTION, "kill", irc_detector_name(pk.detector), target,
			      json_pack("{s:s,s:s,s:s,s:s}", "reason", "contain-then-kill",
					"kind", "process", "result", "ok", "note",
					"stopped by the kernel; its finding was not read (ring buffer loss or a controller restart): killed by the sweep"));
	}
	return n;
}

void irc_ctk_close(struct irc_ctk *k)
{
	if (k->ctl_fd >= 0) {
		irc_ctk_beat(k, true);
		close(k->ctl_fd);
	}
	if (k->pkill_fd >= 0)
		close(k->pkill_fd);
	if (k->detstate_fd >= 0)
		close(k->detstate_fd);
	k->ctl_fd = k->pkill_fd = k->detstate_fd = -1;
}
