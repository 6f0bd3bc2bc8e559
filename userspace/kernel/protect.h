/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the network detectors must never quarantine, and the per-load
 * detector fields (the protected netns, the port hash key).
 */
#ifndef IRC_PROTECT_H
#define IRC_PROTECT_H

#include <stddef.h>
#include <linux/types.h>

#include "ircontain/abi.h"

struct irc_maps;

/* One protected address, v4-mapped for IPv4, with its reasons. */
struct irc_prot {
	struct irc_in6 key;
	__u32 why;		/* enum irc_protect_why */
};

/*
 * Collects the host's own addresses (getifaddrs, this netns), its default
 * gateways (/proc/net/route, /proc/net/ipv6_route), its resolvers
 * ($IRCONTAIN_RESOLV_CONF or /etc/resolv.conf) and the operators' sessions
 * ($SSH_CONNECTION and the remote logins in utmp) into @out.  Returns how
 * many (at most @max; the rest are dropped with a warning).
 */
size_t irc_protect_collect(struct irc_prot *out, size_t max);

/*
 * Makes irc_protect hold exactly what irc_protect_collect() finds now.
 * 0 or -errno (printed).
 */
int irc_protect_refresh(const struct irc_maps *m);

/*
 * At load: records this netns (whose handshakes verify sources) and draws
 * a new random port hash key into the detector config at @detcfg_fd.
 */
int irc_detcfg_init(int detcfg_fd);

/* "own address", "gateway, resolver", ...: the reasons in @why. */
const char *irc_protect_words(__u32 why, char *buf, size_t len);

#endif /* IRC_PROTECT_H */
