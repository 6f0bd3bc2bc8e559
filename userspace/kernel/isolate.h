/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The isolation switch and its exemptions, as the maps hold them: the one
 * path of `isolate on|off` and of the fleet agent's `fleet isolate`.
 * Exemptions go in before the switch goes on, and come out after it goes
 * off: never a window in which the isolation cuts what it exempts.
 */
#ifndef IRC_ISOLATE_H
#define IRC_ISOLATE_H

#include <stdint.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "parse.h"

struct irc_maps;

/*
 * Exempts @n addresses from the isolation (IRC_ALLOW_ISOLATE, kept until
 * the isolation ends).  0, or -errno with the failing one in *@bad.
 */
int irc_iso_exempt(const struct irc_maps *m, const struct irc_cidr *allow, int n,
		   const struct irc_cidr **bad);

/*
 * Switches the isolation on with @flags (IRC_CFG_ISOLATE and the other
 * IRC_CFG_ISO_BITS), under the pins lock.  @since_ns: CLOCK_REALTIME of
 * the decision, kept if already isolated with 0.  *@cfg is what it wrote.
 * 0 or -EIO.
 */
int irc_iso_on(const struct irc_maps *m, __u32 flags, uint64_t since_ns, struct irc_config *cfg);

/*
 * Switches it off, then drops the isolation-only exemptions (allowlist
 * entries stay), under the pins lock.  *@was what was in force.  0, -EIO
 * (nothing changed), or -errno of the exemptions (the switch is off).
 */
int irc_iso_off(const struct irc_maps *m, struct irc_config *was);

#endif /* IRC_ISOLATE_H */
