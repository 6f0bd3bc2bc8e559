// SPDX-License-Identifier: GPL-2.0-only
/*
 * The isolation switch and its exemptions.  See isolate.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "entries.h"
#include "irc.h"
#include "isolate.h"
#include "pins.h"

int irc_iso_exempt(const struct irc_maps *m, const struct irc_cidr *allow, int n,
		   const struct irc_cidr **bad)
{
	int i;

	for (i = 0; i < n; i++) {
		struct irc_allow val = {};
		struct irc_key key;

		irc_akey(&allow[i], &key);
		if (bpf_map_lookup_elem(m->fd[key.map], &key.k, &val)) {
			val.created_ns = irc_now_real_ns();
			val.actor_uid = irc_actor_uid();
		}
		val.flags |= IRC_ALLOW_ISOLATE;
		val.plen = allow[i].plen;
		if (bpf_map_update_elem(m->fd[key.map], &key.k, &val, BPF_ANY)) {
			*bad = &allow[i];
			return -errno;
		}
	}
	return 0;
}

int irc_iso_on(const struct irc_maps *m, __u32 flags, uint64_t since_ns, struct irc_config *cfg)
{
	int lock = irc_pins_lock(), err = -EIO;

	if (!irc_config_read(m, cfg)) {
		if (since_ns || !(cfg->flags & IRC_CFG_ISOLATE))
			cfg->isolate_since_ns = since_ns ?: irc_now_real_ns();
		/* Only the isolation bits: the others (cgroup quarantines) stay. */
		cfg->flags = (cfg->flags & ~IRC_CFG_ISO_BITS) | flags;
		if (!irc_config_write(m, cfg))
			err = 0;
	}
	irc_pins_unlock(lock);
	return err;
}

/* Drops the isolation-only exemptions; keeps allowlist entries. */
static int clear_exemptions(const struct irc_maps *m)
{
	struct irc_arec *recs;
	size_t n, i;
	int err;

	err = irc_arecs_collect(m, &recs, &n);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		struct irc_allow *v = &recs[i].val;
		struct irc_key key;

		if (!(v->flags & IRC_ALLOW_ISOLATE))
			continue;
		irc_akey(&recs[i].target, &key);
		v->flags &= ~IRC_ALLOW_ISOLATE;
		if (v->flags ? bpf_map_update_elem(m->fd[key.map], &key.k, v, BPF_EXIST) :
			       bpf_map_delete_elem(m->fd[key.map], &key.k))
			err = -errno;
	}
	free(recs);
	return err;
}

int irc_iso_off(const struct irc_maps *m, struct irc_config *was)
{
	struct irc_config cfg;
	int lock = irc_pins_lock(), err = -EIO;

	memset(was, 0, sizeof(*was));
	if (irc_config_read(m, was))
		goto out;
	cfg = *was;
	/* The switch first, then the exemptions: never a lockout window. */
	cfg.flags &= ~IRC_CFG_ISO_BITS;
	cfg.isolate_since_ns = 0;
	if (irc_config_write(m, &cfg))
		goto out;
	err = clear_exemptions(m);
out:
	irc_pins_unlock(lock);
	return err;
}
