// SPDX-License-Identifier: GPL-2.0-only
/*
 * isolate on|off|status: the EDR "isolate device" switch.  Everything but
 * loopback, the allowlist and, on request, DNS and DHCP is dropped in both
 * directions.  Exemptions given with --allow last for this isolation only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "cmd.h"
#include "entries.h"
#include "irc.h"
#include "journal.h"
#include "loader.h"
#include "parse.h"
#include "pins.h"
#include "qopts.h"

#define ISO_BITS		(IRC_CFG_ISOLATE | IRC_CFG_ISO_DNS | IRC_CFG_ISO_DHCP)

static void report_state(const char *action, const struct irc_config *cfg)
{
	bool on = cfg->flags & IRC_CFG_ISOLATE;
	char since[32] = "";

	if (on)
		irc_fmt_utc(cfg->isolate_since_ns, since, sizeof(since));
	if (irc.json) {
		json_t *o = json_pack("{s:b,s:b,s:b,s:o}", "enabled", on,
			"allow_dns", !!(cfg->flags & IRC_CFG_ISO_DNS),
			"allow_dhcp", !!(cfg->flags & IRC_CFG_ISO_DHCP),
			"since", on ? json_string(since) : json_null());

		if (action)
			json_object_set_new(o, "action", json_string(action));
		irc_json_print(o);
		return;
	}
	if (!on) {
		printf("isolation: off\n");
		return;
	}
	printf("isolation: on since %s (dns %s, dhcp %s)\n", since,
	       cfg->flags & IRC_CFG_ISO_DNS ? "allowed" : "blocked",
	       cfg->flags & IRC_CFG_ISO_DHCP ? "allowed" : "blocked");
}

/* 1 if the SSH peer keeps a way in once isolated, 0 if not, -errno. */
static int ssh_peer_kept(const struct irc_maps *m, const struct irc_cidr *peer,
			 const struct irc_cidr *allow, int nallow)
{
	struct irc_cidr which;
	int i;

	for (i = 0; i < nallow; i++)
		if (irc_cidr_contains(&allow[i], peer))
			return 1;
	return irc_allow_find(m, peer, IRC_ALLOW_ALWAYS | IRC_ALLOW_ISOLATE, 1,
			      &which);
}

/*
 * Refuses (exit code) an isolation that would cut the operator's own SSH
 * session, unless --force (then a warning) or an exemption keeps it.
 */
static int ssh_check(const struct irc_maps *m, const struct irc_qopts *o, const char *what)
{
	struct irc_cidr peer;
	char p[IRC_CIDR_STRLEN];
	int kept;

	if (irc_parse_ssh_peer(getenv("SSH_CONNECTION"), &peer))
		return 0;
	kept = ssh_peer_kept(m, &peer, o->allow, o->nallow);
	irc_cidr_format(&peer, p, sizeof(p));
	if (kept == 0 && !o->force)
		return irc_usage_err("%s: refused: it would cut your SSH session from %s; add --allow %s (or --force)",
				     what, p, p);
	if (kept == 0)
		irc_warn("isolation cuts your SSH session from %s", p);
	return 0;
}

/* The --allow exemptions into the allowlist maps; 0 or -errno (said). */
static int exemptions_add(const struct irc_maps *m, const struct irc_qopts *o, const char *what)
{
	int i;

	for (i = 0; i < o->nallow; i++) {
		struct irc_allow val = {};
		struct irc_key key;

		irc_akey(&o->allow[i], &key);
		if (bpf_map_lookup_elem(m->fd[key.map], &key.k, &val)) {
			val.created_ns = irc_now_real_ns();
			val.actor_uid = irc_actor_uid();
		}
		val.flags |= IRC_ALLOW_ISOLATE;
		val.plen = o->allow[i].plen;
		if (bpf_map_update_elem(m->fd[key.map], &key.k, &val, BPF_ANY)) {
			char a[IRC_CIDR_STRLEN];
			int err = -errno;

			irc_cidr_format(&o->allow[i], a, sizeof(a));
			irc_err("%s: add exemption %s: %s", what, a, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The switch, under the pins lock; 0 or -EIO.  *@cfg is what it wrote. */
static int switch_on(const struct irc_maps *m, __u32 flags, struct irc_config *cfg)
{
	int lock = irc_pins_lock(), err = -EIO;

	if (!irc_config_read(m, cfg)) {
		if (!(cfg->flags & IRC_CFG_ISOLATE))
			cfg->isolate_since_ns = irc_now_real_ns();
		/* Only the isolation bits: the others (cgroup quarantines) stay. */
		cfg->flags = (cfg->flags & ~ISO_BITS) | flags;
		if (!irc_config_write(m, cfg))
			err = 0;
	}
	irc_pins_unlock(lock);
	return err;
}

/* The exemptions as the record names them. */
static json_t *allow_json(const struct irc_qopts *o)
{
	json_t *allowed = json_array();
	int i;

	for (i = 0; i < o->nallow; i++) {
		char a[IRC_CIDR_STRLEN];

		irc_cidr_format(&o->allow[i], a, sizeof(a));
		json_array_append_new(allowed, json_string(a));
	}
	return allowed;
}

static int do_isolate_on(int argc, char **argv)
{
	const char *what = "isolate on";
	struct irc_config cfg;
	struct irc_qopts o;
	struct irc_maps m;
	__u32 flags = IRC_CFG_ISOLATE;
	int ret, err;

	ret = irc_qopts_parse(argc, argv, IRC_QO_NO_OPERAND | IRC_QO_ALLOW | IRC_QO_ALLOW_DNS |
			      IRC_QO_ALLOW_DHCP | IRC_QO_FORCE | IRC_QO_REASON | IRC_QO_INCIDENT,
			      what, NULL, &o);
	if (ret)
		return ret;
	if (o.allow_dns)
		flags |= IRC_CFG_ISO_DNS;
	if (o.allow_dhcp)
		flags |= IRC_CFG_ISO_DHCP;
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	ret = irc_require_enforced(&m, what, IRC_ENF_NET) ? IRC_EXIT_FAIL : ssh_check(&m, &o, what);
	if (ret) {
		irc_maps_close(&m);
		return ret;
	}
	/* Exemptions first, then the switch: no window without them. */
	err = exemptions_add(&m, &o, what);
	if (!err)
		err = switch_on(&m, flags, &cfg);
	irc_maps_close(&m);
	if (!err)
		report_state("isolate on", &cfg);
	return irc_qrecord(err ? IRC_EXIT_FAIL : IRC_EXIT_OK, o.incident, "isolate", NULL,
			   o.reason, err,
			   json_pack("{s:o,s:b,s:b,s:b}", "allow", allow_json(&o),
				     "allow_dns", !!(flags & IRC_CFG_ISO_DNS),
				     "allow_dhcp", !!(flags & IRC_CFG_ISO_DHCP), "force", o.force));
}

/* Drops the isolation-only exemptions; keeps allowlist entries. */
static int clear_isolate_allows(const struct irc_maps *m)
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

static int do_isolate_off(int argc, char **argv)
{
	const char *what = "isolate off";
	struct irc_config cfg;
	struct irc_qopts o;
	struct irc_maps m;
	int ret, err = -EIO, lock = -1;
	bool was_on = false;

	ret = irc_qopts_parse(argc, argv, IRC_QO_NO_OPERAND | IRC_QO_REASON | IRC_QO_INCIDENT,
			      what, NULL, &o);
	if (ret)
		return ret;
	ret = IRC_EXIT_FAIL;
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	lock = irc_pins_lock();
	if (irc_config_read(&m, &cfg))
		goto out;
	was_on = cfg.flags & IRC_CFG_ISOLATE;
	/* The switch first, then the exemptions: never a lockout window. */
	cfg.flags &= ~ISO_BITS;
	cfg.isolate_since_ns = 0;
	if (irc_config_write(&m, &cfg))
		goto out;
	err = clear_isolate_allows(&m);
	if (err)
		irc_warn("isolate off: isolation-only exemptions not all removed: %s",
			 strerror(-err));
	err = 0;
	report_state("isolate off", &cfg);
	ret = IRC_EXIT_OK;
out:
	irc_pins_unlock(lock);
	irc_maps_close(&m);
	return irc_qrecord(ret, o.incident, "isolate.off", NULL, o.reason, err,
			   json_pack("{s:b}", "was_on", was_on));
}

static int do_isolate_status(int argc, char **argv)
{
	struct irc_config cfg;
	struct irc_maps m;
	int ret = IRC_EXIT_FAIL;

	if (!irc_args(argc, argv, 0, "isolate status", "isolate status"))
		return IRC_EXIT_USAGE;
	if (irc_maps_open("isolate status", &m))
		return IRC_EXIT_FAIL;
	if (!irc_config_read(&m, &cfg)) {
		report_state(NULL, &cfg);
		ret = IRC_EXIT_OK;
	}
	irc_maps_close(&m);
	return ret;
}

int do_isolate(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "on", do_isolate_on },
		{ "off", do_isolate_off },
		{ "status", do_isolate_status },
		{ 0 }
	};

	return irc_cmd_dispatch("isolate", cmds, argc - 1, argv + 1);
}
