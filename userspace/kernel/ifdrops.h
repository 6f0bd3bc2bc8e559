/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Drops per interface, direction and rule, as the packet programs count
 * them (struct irc_ifdrops, ircontain/abi.h), summed over CPUs and named.
 */
#ifndef IRC_IFDROPS_H
#define IRC_IFDROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "pins.h"

struct irc_ifdrop_sum {
	__u32 ifindex;			/* 0 for the 'other' slot */
	bool present;			/* it exists in this network namespace (false for 'other') */
	char name[IRC_IFNAME_LEN];	/* its name now, else the name it was attached under
					   (irc_ifaces, irc_ifnames), else "" */
	__u64 drops[2][IRC_IFDROP_RULES];	/* [0] ingress, [1] egress; [rule - 1] */
};

/* "quarantine", "isolate", "malformed" for index 0..IRC_IFDROP_RULES-1. */
const char *irc_ifdrop_rule_name(unsigned int r);

/*
 * Every attached interface (IRC_MAP_IFACES, even with no drop) and every
 * other interface that dropped, by ifindex, then the 'other' slot (ifindex
 * 0, name "other"): *@out is malloc()ed (free() it), *@n its length.
 * 0 or -errno; with the map not pinned (a module loaded by an older
 * ircontain) *@n is 0.
 */
int irc_ifdrops_read(const struct irc_maps *m, struct irc_ifdrop_sum **out, size_t *n);

/* [{interface, ifindex, present (null for 'other'), rx: {RULE: N...}, tx: {...}}...] */
json_t *irc_ifdrops_json(const struct irc_ifdrop_sum *v, size_t n);

#endif /* IRC_IFDROPS_H */
