/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Quarantine and allowlist entries as userspace sees them: a target prefix
 * plus the map value, whichever of the maps it lives in.
 */
#ifndef IRC_ENTRIES_H
#define IRC_ENTRIES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "parse.h"
#include "pins.h"

/* A map key for a target: which map it belongs to, and the key bytes. */
struct irc_key {
	int map;		/* enum irc_map_id */
	union {
		__u32 v4;
		struct irc_in6 v6;
		struct irc_lpm4 l4;
		struct irc_lpm6 l6;
	} k;
};

/* Quarantine key: exact hosts go to the hashes, prefixes to the tries. */
void irc_qkey(const struct irc_cidr *c, struct irc_key *key);
/* Allowlist key: always the tries. */
void irc_akey(const struct irc_cidr *c, struct irc_key *key);

struct irc_qrec {
	struct irc_cidr target;
	struct irc_qentry val;
};

struct irc_arec {
	struct irc_cidr target;
	struct irc_allow val;
};

/*
 * Every quarantine entry of the four maps, sorted by creation time.
 * *out is malloc()ed; free() it.
 */
/*
 * Every quarantine entry, in map order, without holding them all: the
 * exact-host hashes in batches, then the prefixes.  Stops at the first
 * non-zero return of @fn and returns it (or -errno).
 */
/* Oldest first (qsort order of irc_qrecs_collect). */
int irc_qrec_cmp(const void *a, const void *b);
typedef int (*irc_qrec_fn)(const struct irc_qrec *r, void *ctx);
int irc_qrecs_stream(const struct irc_maps *m, irc_qrec_fn fn, void *ctx);

int irc_qrecs_collect(const struct irc_maps *m, struct irc_qrec **out,
		      size_t *n);
int irc_arecs_collect(const struct irc_maps *m, struct irc_arec **out,
		      size_t *n);

/* Number of entries in one map. */
long irc_map_entries(int fd);

/* Sets or clears IRC_CFG_HAS_CGROUPS from irc_qcgrp's contents. */
void irc_qproc_sync_cgroup_flag(const struct irc_maps *m);

/* Deletes every entry of one map; returns how many, or -errno. */
long irc_map_clear(int fd);



/*
 * The first allowlist entry with any of @flags that shares an address with
 * @target (@contain false) or contains all of it (@contain true).
 * Returns 1 and fills *which if found, 0 if none, or -errno.
 */
int irc_allow_find(const struct irc_maps *m, const struct irc_cidr *target,
		   __u32 flags, int contain, struct irc_cidr *which);

/*
 * Expired entries.  The kernel ignores an entry past its TTL, but it still
 * takes a slot: the controller sweeps them out, and a CLI write that finds
 * its table full sweeps that table and tries once more.
 */
/* The maps whose entries carry a TTL (expires_ns first in the value). */
extern const int irc_ttl_maps[];
extern const size_t irc_n_ttl_maps;

/* Called for each entry removed: @target for the host maps, else NULL. */
typedef void (*irc_gc_fn)(void *ctx, int map, const struct irc_cidr *target,
			  const void *key, const void *val);
/*
 * Removes the entries of @map that expired before @now_boot (CLOCK_BOOTTIME
 * ns); a stopped or killed process's entry is left to the operator.
 * Returns how many, or -errno.
 */
long irc_gc_map(const struct irc_maps *m, int map, uint64_t now_boot, irc_gc_fn fn,
		void *ctx);

/*
 * bpf_map_update_elem() that, when the table is full, sweeps its expired
 * entries and tries again once.  0 or -errno (-ENOSPC: still full).
 */
int irc_map_update_gc(const struct irc_maps *m, int map, const void *key,
		      const void *val, __u64 flags);

/* "the irc_q4_host table is full (1048576 entries)" into @buf. */
const char *irc_map_full_msg(const struct irc_maps *m, int map, char *buf, size_t len);

/* True for the errors a full table gives. */
#define IRC_ERR_FULL(e)	((e) == -E2BIG || (e) == -ENOSPC || (e) == -ENOMEM)

#endif /* IRC_ENTRIES_H */
