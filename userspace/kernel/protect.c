// SPDX-License-Identifier: GPL-2.0-only
/*
 * The protected set: addresses the network detectors see but never act
 * on, because acting on them would cut the host off (its own addresses,
 * its gateways and resolvers) or lock the operator out (a login session).
 * Spoofed packets from these addresses are the cheapest way to turn an
 * IPS against its host; the kernel checks this map before any quarantine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <utmpx.h>
#include <bpf/bpf.h>

#include "irc.h"
#include "parse.h"
#include "pins.h"
#include "protect.h"

struct pset {
	struct irc_prot *v;
	size_t n, max, dropped;
};

static void key_v4(struct irc_in6 *k, const void *a4)
{
	memset(k, 0, sizeof(*k));
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	memcpy(&k->addr[12], a4, 4);
}

static void add_key(struct pset *s, const struct irc_in6 *k, __u32 why)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!memcmp(&s->v[i].key, k, sizeof(*k))) {
			s->v[i].why |= why;
			return;
		}
	if (s->n == s->max) {
		s->dropped++;
		return;
	}
	s->v[s->n].key = *k;
	s->v[s->n++].why = why;
}

static void add_addr(struct pset *s, int family, const void *a, __u32 why)
{
	struct irc_in6 k;

	if (family == AF_INET) {
		key_v4(&k, a);
	} else {
		memcpy(k.addr, a, 16);
		/* The unspecified address is nobody's. */
		if (!memcmp(k.addr, (uint8_t[16]){ 0 }, 16))
			return;
	}
	add_key(s, &k, why);
}

static void add_text(struct pset *s, const char *txt, __u32 why)
{
	struct irc_cidr c;

	if (irc_parse_ssh_peer(txt, &c) == 0)
		add_addr(s, c.family, c.addr, why);
}

static void own_addresses(struct pset *s)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			add_addr(s, AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, IRC_PROT_OWN);
		else if (i->ifa_addr->sa_family == AF_INET6)
			add_addr(s, AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, IRC_PROT_OWN);
	}
	freeifaddrs(ifa);
}

/* Default routes' next hops: "Iface Destination Gateway ..." in hex. */
static void gateways(struct pset *s)
{
	char line[512], dst[64], gw[64], gw6[40];
	unsigned int plen, i, b;
	uint8_t a6[16];
	uint32_t g4;
	FILE *f;

	f = fopen("/proc/net/route", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %63s %63s", dst, gw) == 2 &&
			    !strcmp(dst, "00000000") && sscanf(gw, "%x", &g4) == 1 && g4)
				add_addr(s, AF_INET, &g4, IRC_PROT_GATEWAY);
		fclose(f);
	}
	f = fopen("/proc/net/ipv6_route", "re");
	if (!f)
		return;
	/* dst plen src splen nexthop metric refcnt use flags iface */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%32s %x %*s %*s %32s", dst, &plen, gw6) != 3 || plen != 0)
			continue;
		for (i = 0; i < 16 && sscanf(gw6 + 2 * i, "%2x", &b) == 1; i++)
			a6[i] = b;
		if (i == 16)
			add_addr(s, AF_INET6, a6, IRC_PROT_GATEWAY);
	}
	fclose(f);
}

static void resolvers(struct pset *s)
{
	const char *path = getenv("IRCONTAIN_RESOLV_CONF") ?: "/etc/resolv.conf";
	char line[512], ns[INET6_ADDRSTRLEN + 32];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %77s", ns) == 1)
			add_text(s, ns, IRC_PROT_RESOLVER);
	fclose(f);
}

/* The caller's SSH session, and every remote login utmp knows. */
static void sessions(struct pset *s)
{
	struct utmpx *u;
	int family;

	add_text(s, getenv("SSH_CONNECTION"), IRC_PROT_SESSION);
	setutxent();
	while ((u = getutxent())) {
		if (u->ut_type != USER_PROCESS || !u->ut_host[0])
			continue;
		/* ut_addr_v6: an IPv4 address in the first word, the rest 0. */
		family = u->ut_addr_v6[1] || u->ut_addr_v6[2] || u->ut_addr_v6[3] ?
			 AF_INET6 : AF_INET;
		if (u->ut_addr_v6[0] || family == AF_INET6)
			add_addr(s, family, u->ut_addr_v6, IRC_PROT_SESSION);
	}
	endutxent();
}

size_t irc_protect_collect(struct irc_prot *out, size_t max)
{
	struct pset s = { .v = out, .max = max };

	own_addresses(&s);
	gateways(&s);
	resolvers(&s);
	sessions(&s);
	if (s.dropped)
		irc_warn("protected addresses: %zu over the %zu limit are not protected",
			 s.dropped, max);
	return s.n;
}

int irc_protect_refresh(const struct irc_maps *m)
{
	static struct irc_prot want[IRC_MAX_PROTECT];
	struct irc_in6 key, next, *prev = NULL;
	int fd = m->fd[IRC_M_PROTECT], err = 0;
	size_t n = irc_protect_collect(want, IRC_MAX_PROTECT), i;
	bool keep;

	/* Add first, then remove what is gone: never a moment unprotected. */
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &want[i].key, &want[i].why, BPF_ANY) && !err)
			err = -errno;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		keep = false;
		for (i = 0; i < n && !keep; i++)
			keep = !memcmp(&want[i].key, &key, sizeof(key));
		if (!keep && !bpf_map_delete_elem(fd, &key))
			continue;	/* deleted: the walk starts over from here */
		prev = &key;
	}
	if (err)
		irc_err("update protected addresses (%s): %s",
			irc_map_names[IRC_M_PROTECT], strerror(-err));
	return err;
}

int irc_detcfg_init(int fd)
{
	struct irc_detcfg cfg;
	struct stat st;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	if (stat("/proc/self/ns/net", &st))
		return -errno;
	cfg.netns_ino = (__u32)st.st_ino;
	if (getrandom(cfg.port_key, sizeof(cfg.port_key), 0) != sizeof(cfg.port_key))
		return -EIO;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

const char *irc_protect_words(__u32 why, char *buf, size_t len)
{
	static const char *const words[] = {
		"own address", "gateway", "resolver", "operator session", "allowlist",
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (why & (1U << i))
			off += snprintf(buf + off, off < len ? len - off : 0, "%s%s",
					off ? ", " : "", words[i]);
	return buf;
}
