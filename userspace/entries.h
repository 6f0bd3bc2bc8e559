/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Quarantine and allowlist entries as userspace sees them: a target prefix
 * plus the map value, whichever of the maps it lives in.
 */
#ifndef IRC_ENTRIES_H
#define IRC_ENTRIES_H

#include <stddef.h>
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
int irc_qrecs_collect(const struct irc_maps *m, struct irc_qrec **out,
		      size_t *n);
int irc_arecs_collect(const struct irc_maps *m, struct irc_arec **out,
		      size_t *n);

/* Number of entries in one map. */
long irc_map_entries(int fd);

/* Deletes every entry of one map; returns how many, or -errno. */
long irc_map_clear(int fd);



/*
 * The first allowlist entry with any of @flags that shares an address with
 * @target (@contain false) or contains all of it (@contain true).
 * Returns 1 and fills *which if found, 0 if none, or -errno.
 */
int irc_allow_find(const struct irc_maps *m, const struct irc_cidr *target,
		   __u32 flags, int contain, struct irc_cidr *which);
#endif /* IRC_ENTRIES_H */
