// SPDX-License-Identifier: GPL-2.0-only
/* Interface lookups over rtnetlink with libnl-route. */
#include <errno.h>
#include <stdio.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "netif.h"

static int netif_get(int ifindex, const char *name, struct irc_netif *out)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	unsigned int flags;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err) {
		err = -ECONNREFUSED;
		goto out;
	}
	err = rtnl_link_get_kernel(sk, ifindex, name, &link);
	if (err) {
		err = err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV ? -ENODEV : -EIO;
		goto out;
	}
	flags = rtnl_link_get_flags(link);
	out->ifindex = rtnl_link_get_ifindex(link);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	out->up = flags & IFF_UP;
	out->loopback = flags & IFF_LOOPBACK;
	rtnl_link_put(link);
out:
	nl_socket_free(sk);
	return err;
}

int irc_netif_by_name(const char *name, struct irc_netif *out)
{
	return netif_get(0, name, out);
}

int irc_netif_by_index(int ifindex, struct irc_netif *out)
{
	return netif_get(ifindex, NULL, out);
}
