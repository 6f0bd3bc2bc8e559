/* SPDX-License-Identifier: GPL-2.0-only */
/* Processes as /proc shows them: identity, descendants, sockets. */
#ifndef IRC_PROC_H
#define IRC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ircontain/abi.h"

struct irc_proc {
	int pid;
	int tgid;		/* differs from pid for a thread */
	int ppid;
	char state;		/* R, S, D, T, Z, ... */
	bool kthread;
	char comm[16];
};

/* -ESRCH if there is no such process. */
int irc_proc_read(int pid, struct irc_proc *p);

/* 1 if @anc is @pid itself or one of its ancestors, 0 if not. */
int irc_proc_is_ancestor(int anc, int pid);

/*
 * Every descendant of @root (not @root itself), parents before children.
 * *out is malloc()ed; free() it.
 */
int irc_proc_descendants(int root, int **out, size_t *n);

/*
 * Calls @cb with the cookie of every IPv4/IPv6 socket @pid holds open.
 * The sockets are borrowed with pidfd_getfd(); nothing about them changes.
 * Returns the number of sockets, or -errno.
 */
int irc_proc_sockets(int pid, int (*cb)(uint64_t cookie, void *ctx), void *ctx);

/*
 * irc_proc_sockets() callback: puts each cookie in the irc_qsock map @fd
 * with value @v.  A socket shared by several processes keeps the first
 * entry; a full map sets @full and goes on.
 */
struct irc_sock_cut {
	int fd;
	struct irc_qsock v;
	int full;
};
int irc_sock_cut_add(uint64_t cookie, void *ctx);

#endif /* IRC_PROC_H */
