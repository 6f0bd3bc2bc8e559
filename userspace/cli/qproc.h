/* SPDX-License-Identifier: GPL-2.0-only */
/* Process and cgroup quarantine verbs (cmd_qproc.c). */
#ifndef IRC_QPROC_H
#define IRC_QPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <linux/types.h>

#include "pins.h"

int do_quarantine_pid(int argc, char **argv);
int do_quarantine_cgroup(int argc, char **argv);
int do_release_pid(int argc, char **argv);
int do_release_cgroup(int argc, char **argv);

/* Removes every process and cgroup entry; stopped processes resume. */
long irc_qproc_release_all(const struct irc_maps *m);

struct irc_pentry;

/* One row of list: a process tree (root or orphan) or a cgroup. */
struct irc_prow {
	const char *kind;		/* "pid" or "cgroup" */
	const char *target;
	const struct irc_pentry *e;
	long procs;			/* in the tree; -1 for a cgroup */
	__u64 denied;			/* summed over the tree */
};

/* Calls @fn for each process tree, then for each cgroup entry. */
void irc_qproc_rows(const struct irc_maps *m,
		    void (*fn)(const struct irc_prow *r, void *ctx), void *ctx);

/* A row as a JSON object, or as a text line (the header first if @first). */
json_t *irc_qproc_row_json(const struct irc_prow *r, uint64_t now_boot);
void irc_qproc_row_text(const struct irc_prow *r, uint64_t now_boot, bool first);

#endif /* IRC_QPROC_H */
