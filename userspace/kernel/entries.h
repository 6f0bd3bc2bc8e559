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

/*
 * The quarantine maps, exact hosts' front tiers first, then their big maps,
 * then the prefixes.  A tier's fd is -1 under a module loaded before the
 * tiers: skip it.
 */
extern const int irc_qmaps[];
extern const size_t irc_n_qmaps;

/*
 * Exact hosts in two tiers (IRC_MAX_FRONT_HOSTS in ircontain/abi.h).  For a
 * key of IRC_M_Q4_HOST / Q6_HOST these act on its front tier and its big
 * map (the big map alone when the tiers are not pinned); for any other
 * quarantine key, on its map.  Each returns 0 or -errno.
 */
/* Front tier first, then the big map (-ENOENT: in neither). */
int irc_q_lookup(const struct irc_maps *m, const struct irc_key *k, struct irc_qentry *v);
/*
 * Updated where it is; a new one into the front tier, or when that is full
 * (its expired entries swept while the big map is unused) into the big map,
 * its family's flag set first.  BPF_ANY, BPF_NOEXIST or BPF_EXIST.
 */
int irc_q_update(const struct irc_maps *m, const struct irc_key *k, const struct irc_qentry *v,
		 __u64 flags);
/* From both tiers (-ENOENT: in neither). */
int irc_q_delete(const struct irc_maps *m, const struct irc_key *k);
/* Entries of a quarantine map, both tiers for a host map. */
long irc_q_entries(const struct irc_maps *m, int map);
/* irc_map_clear() of both tiers of @map; the flag stays (it is sticky). */
long irc_q_clear(const struct irc_maps *m, int map);
/* The fd of host map @map's front tier, or -1 (a prefix map, or not pinned). */
int irc_qtier_front(const struct irc_maps *m, int map);
/* IRC_M_Q4_HOST for IRC_M_Q4_FRONT (the same for v6), else @map. */
int irc_qtier_host(int map);
/* Sets the flag of host map @map (IRC_M_Q4_HOST / Q6_HOST) in irc_qtier @tier_fd. */
int irc_qtier_set_fd(int tier_fd, int map);
/* At load: sets the flag if big map @big_fd (host map @map) holds anything. */
int irc_qtier_adopt(int big_fd, int tier_fd, int map);
/*
 * Sets the irc_qbloom bytes (@bloom_fd, mmapped) of @n keys of @ksz bytes of
 * host map @map: before they go to its front tier.  A no-op when @bloom_fd
 * is -1 (a module loaded before it: its programs do not read it).
 */
int irc_qbloom_mark(int bloom_fd, int map, const void *keys, size_t ksz, size_t n);
/* At load: the bytes of every host in front tier @front_fd (host map @map). */
int irc_qtier_adopt_front(int front_fd, int bloom_fd, int map);

/* True for the errors a full table gives. */
#define IRC_ERR_FULL(e)	((e) == -E2BIG || (e) == -ENOSPC || (e) == -ENOMEM)

#endif /* IRC_ENTRIES_H */
