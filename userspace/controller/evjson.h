/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event records to JSON lines with ECS field names (@timestamp, event.*,
 * process.*, source.*, destination.*, host.*), plus Timesketch's message.
 * Exec, fork and exit records also keep the process table current.
 */
#ifndef IRC_EVJSON_H
#define IRC_EVJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ptable.h"
#include "text.h"

struct irc_evctx {
	struct irc_ptable *pt;
	char hostname[256];
	char host_id[64];		/* /etc/machine-id, "" if none */
	int64_t boot_to_real_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t tick_ns;		/* ns per clock tick (/proc times) */
	const char *proc_root;		/* "/proc"; tests point it elsewhere */
	char cgroup_mount[256];		/* cgroup2 mount, found once; "": ids not resolved */
};

/* Host identity, clock offset, tick length. */
int irc_evctx_init(struct irc_evctx *c, struct irc_ptable *pt);

/* One record (its header says its type); NULL if malformed. */
json_t *irc_ev_json(struct irc_evctx *c, const void *rec, size_t len);

/* The marker written where a CPU's sequence shows records missing. */
json_t *irc_gap_json(struct irc_evctx *c, unsigned int cpu, uint64_t after_seq,
		     uint64_t missing);

/* enum irc_ev_type -> "exec", "fork", ...; NULL if unknown. */
const char *irc_ev_type_name(unsigned int type);

#endif /* IRC_EVJSON_H */
