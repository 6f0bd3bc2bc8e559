/* SPDX-License-Identifier: GPL-2.0-only */
/* Interfaces, resolved and checked through rtnetlink (libnl-route). */
#ifndef IRC_NETIF_H
#define IRC_NETIF_H

#include <stdbool.h>

#include <linux/types.h>

#include "ircontain/abi.h"

struct irc_netif {
	int ifindex;
	char name[IRC_IFNAME_LEN];
	bool up;
	bool loopback;
};

/* -ENODEV when no interface has that name. */
int irc_netif_by_name(const char *name, struct irc_netif *out);
/* -ENODEV when no interface has that index. */
int irc_netif_by_index(int ifindex, struct irc_netif *out);

/*
 * Interface patterns (`--iface`): a name, or a shell glob such as "veth*"
 * or "en*" matched with fnmatch(3).  Loopback never matches.
 */
#define IRC_MAX_IFPATTERNS	IRC_MAX_IFACES

bool irc_ifpattern_is_glob(const char *s);
bool irc_ifpattern_match(char *const *pats, int npats, const char *name);

/*
 * Every interface matching one of @pats, at most @max into @out.  Returns
 * how many, or -errno.
 */
int irc_netif_match(char *const *pats, int npats, struct irc_netif *out, int max);

/*
 * For the CLI: one `--iface` value of @what ("load", "run"), names or globs
 * separated by commas, split in place.  Each goes into @pats; each plain
 * name must exist and goes into @nifs too.  Returns 0 or an IRC_EXIT_*
 * code after printing.
 */
int irc_iface_args(const char *what, char *arg, char **pats, int *npats,
		   struct irc_netif *nifs, int *n);

#endif /* IRC_NETIF_H */
