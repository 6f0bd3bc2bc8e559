/* SPDX-License-Identifier: GPL-2.0-only */
/* Process and cgroup quarantine verbs (cmd_qproc.c). */
#ifndef IRC_QPROC_H
#define IRC_QPROC_H

#include <jansson.h>

#include "pins.h"

int do_quarantine_pid(int argc, char **argv);
int do_quarantine_cgroup(int argc, char **argv);
int do_release_pid(int argc, char **argv);
int do_release_cgroup(int argc, char **argv);

/* Removes every process and cgroup entry; stopped processes resume. */
long irc_qproc_release_all(const struct irc_maps *m);

/* Appends one row per process tree and cgroup: to @arr, or as text. */
int irc_qproc_list(const struct irc_maps *m, json_t *arr, int *rows);

#endif /* IRC_QPROC_H */
