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

/* Oldest first (qsort order of irc_qrecs_collect). */
int irc_qrec_cmp(const void *a, const void *b);
/*
 * Every quarantine entry, in map order, without holding them all: the
 * exact-host hashes in batches, then the prefixes.  Stops at the first
 * non-zero return of @fn and returns it (or -errno).
 */
typedef int (*irc_qrec_fn)(const struct irc_qrec *r, void *ctx);
int irc_qrecs_stream(const struct irc_maps *m, irc_qrec_fn fn, void *ctx);
/*
 * Every quarantine entry of the quarantine maps, sorted by creation time.
 * *out is malloc()ed; free() it.
 */
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
 * Returns how many, or -errno.  A host in both tiers is reported once, and
 * not while one of its copies is live.
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
 * Exact hosts in two tiers (IRC_MAX_FRONT_HOSTS in ircontain/abi.h): what
 * differs between the families, in one place.
 */
struct irc_qfam {
	int big;		/* IRC_M_Q4_HOST / IRC_M_Q6_HOST */
	int front;		/* IRC_M_Q4_FRONT / IRC_M_Q6_FRONT */
	__u32 idx;		/* its element of irc_qtier and irc_qbloom: IRC_QTIER_V4 / V6 */
	int af;			/* AF_INET / AF_INET6 */
	size_t ksz;		/* key size: a __u32, or struct irc_in6 */
};
/* The family of host map or front tier @map; NULL for any other map. */
const struct irc_qfam *irc_qfam_of(int map);

/*
 * For a key of IRC_M_Q4_HOST / Q6_HOST these act on its front tier and its
 * big map (the big map alone when the tiers are not pinned); for any other
 * quarantine key, on its map.  Each returns 0 or -errno.
 *
 * One writer puts a key in one tier; two racing writers (one finding the
 * front tier full, the other finding room after a release) can put it in
 * both.  Both entries are valid (the packet path reads the front's first);
 * the readers here report such a host once, with its front entry.
 */
/* The map holding @k (its front tier first), its value in *v; or -errno (-ENOENT: none). */
int irc_q_where(const struct irc_maps *m, const struct irc_key *k, struct irc_qentry *v);
/* irc_q_where() without the map: 0 or -ENOENT. */
int irc_q_lookup(const struct irc_maps *m, const struct irc_key *k, struct irc_qentry *v);
/*
 * Updated where it is; a new one placed by irc_q_place().  BPF_ANY,
 * BPF_NOEXIST or BPF_EXIST.
 */
int irc_q_update(const struct irc_maps *m, const struct irc_key *k, const struct irc_qentry *v,
		 __u64 flags);
/*
 * The placement rule for @n keys of family @f in neither tier (@keys: f->ksz
 * bytes each): their irc_qbloom bytes, then the front tier; those it has no
 * room for (its expired entries swept while the big map is unused) go to
 * the big map, the family's flag set first.  Batched; @flags BPF_ANY or
 * BPF_NOEXIST.  *done: how many went in (all, or those before the error).
 */
int irc_q_place(const struct irc_maps *m, const struct irc_qfam *f, const void *keys,
		const struct irc_qentry *vals, size_t n, __u64 flags, size_t *done);
/* From both tiers (-ENOENT: in neither). */
int irc_q_delete(const struct irc_maps *m, const struct irc_key *k);
/* Hosts (or prefixes) in quarantine map @map: a host in both tiers once. */
long irc_q_entries(const struct irc_maps *m, int map);
/* Empties both tiers of @map: returns how many hosts (each once), or -errno; the flag stays. */
long irc_q_clear(const struct irc_maps *m, int map);
/* At load: sets a family's flag if its big map holds anything, and marks its front's bytes. */
int irc_qtier_adopt(const struct irc_maps *m);

/*
 * Writes @n keys and values (@ksz, @vsz bytes each) into map @fd: batched,
 * or one by one where the map cannot batch (LPM tries).  *done: how many
 * went in (all, or those before the error returned).
 */
int irc_map_write(int fd, const void *keys, const void *vals, size_t ksz, size_t vsz,
		  size_t n, __u64 flags, size_t *done);

/* True for the errors a full table gives. */
#define IRC_ERR_FULL(e)	((e) == -E2BIG || (e) == -ENOSPC || (e) == -ENOMEM)

#endif /* IRC_ENTRIES_H */
