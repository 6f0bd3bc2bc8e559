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

#endif /* IRC_NETIF_H */
