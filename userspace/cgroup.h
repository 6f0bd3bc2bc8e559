/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup v2: where it is mounted (never assumed). */
#ifndef IRC_CGROUP_H
#define IRC_CGROUP_H

#include <stddef.h>

/* First cgroup2 mount point from /proc/self/mountinfo; -ENOENT if none. */
int irc_cgroup2_mount(char *buf, size_t len);

#endif /* IRC_CGROUP_H */
