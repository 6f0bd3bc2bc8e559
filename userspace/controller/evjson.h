/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event records to JSON lines with ECS field names (@timestamp, event.*,
 * process.*, source.*, destination.*, host.*), plus Timesketch's message.
 * Exec, fork and exit records also keep the process table current.
 *
 * The lines are written as text, not built as jansson objects and dumped:
 * this is the controller's cost per event under a storm.  Each process's
 * process.* (its ancestry included) is kept as text in the process table
 * and reused while nothing in its chain of parents changed.
 */
#ifndef IRC_EVJSON_H
#define IRC_EVJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptable.h"
#include "text.h"

/* A growing text buffer; @oom once an allocation failed (the text is then cut). */
struct irc_jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Room for @n more bytes: 0 or -ENOMEM. */
int irc_jb_reserve(struct irc_jbuf *b, size_t n);
void irc_jb_free(struct irc_jbuf *b);

#define IRC_EV_CG_CACHE	128	/* cgroup paths kept by id */

struct irc_evctx {
	struct irc_ptable *pt;
	char hostname[256];
	char host_id[64];		/* /etc/machine-id, "" if none */
	int64_t boot_to_real_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t tick_ns;		/* ns per clock tick (/proc times) */
	const char *proc_root;		/* "/proc"; tests point it elsewhere */
	char cgroup_mount[256];		/* cgroup2 mount, found once; "": ids not resolved */
	/* cgroup id -> path ("": none), round robin (evjson.c: cg_resolve) */
	struct {
		uint64_t id;
		char path[IRC_PT_CGROUP_LEN];
	} cg[IRC_EV_CG_CACHE];
	unsigned int cg_next;
	/* The last second formatted ("2026-11-30T03:00:00"), reused within it. */
	bool ts_ok;
	int64_t ts_sec;
	size_t ts_len;
	char ts_base[32];
};

/* Host identity, clock offset, tick length. */
int irc_evctx_init(struct irc_evctx *c, struct irc_ptable *pt);

/*
 * One record (its header says its type) as one line of JSON, appended to
 * @b without a newline.  Returns 0, -EINVAL if the record is malformed
 * (nothing appended) or -ENOMEM (nothing appended).
 */
int irc_ev_line(struct irc_evctx *c, const void *rec, size_t len, struct irc_jbuf *b);
/* The same as an object; NULL if malformed. */
json_t *irc_ev_json(struct irc_evctx *c, const void *rec, size_t len);

/*
 * The marker written where a CPU's sequence shows records missing, in the
 * event ring's sequence or (@findings) the findings ring's.
 */
int irc_gap_line(struct irc_evctx *c, unsigned int cpu, uint64_t after_seq, uint64_t missing,
		 bool findings, struct irc_jbuf *b);
json_t *irc_gap_json(struct irc_evctx *c, unsigned int cpu, uint64_t after_seq,
		     uint64_t missing, bool findings);

/* enum irc_ev_type -> "exec", "fork", ...; NULL if unknown. */
const char *irc_ev_type_name(unsigned int type);

#endif /* IRC_EVJSON_H */
