// SPDX-License-Identifier: GPL-2.0-only
/* Interface lookups over rtnetlink with libnl-route. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
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

bool irc_ifpattern_is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

bool irc_ifpattern_match(char *const *pats, int npats, const char *name)
{
	int i;

	for (i = 0; i < npats; i++)
		if (!fnmatch(pats[i], name, 0))
			return true;
	return false;
}

struct match_ctx {
	char *const *pats;
	int npats, n, max;
	struct irc_netif *out;
};

static void match_one(struct nl_object *obj, void *arg)
{
	struct rtnl_link *link = (struct rtnl_link *)obj;
	struct match_ctx *c = arg;
	unsigned int flags = rtnl_link_get_flags(link);
	const char *name = rtnl_link_get_name(link);
	struct irc_netif *o;

	if (!name || (flags & IFF_LOOPBACK) || c->n >= c->max ||
	    !irc_ifpattern_match(c->pats, c->npats, name))
		return;
	o = &c->out[c->n++];
	o->ifindex = rtnl_link_get_ifindex(link);
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->up = flags & IFF_UP;
	o->loopback = false;
}

int irc_netif_match(char *const *pats, int npats, struct irc_netif *out, int max)
{
	struct match_ctx c = { .pats = pats, .npats = npats, .max = max, .out = out };
	struct nl_cache *cache = NULL;
	struct nl_sock *sk;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err) {
		nl_socket_free(sk);
		return -EIO;
	}
	nl_cache_foreach(cache, match_one, &c);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return c.n;
}
