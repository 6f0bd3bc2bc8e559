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
#include "isolate.h"
#include "journal.h"
#include "loader.h"
#include "parse.h"
#include "pins.h"
#include "qopts.h"

static json_t *state_json(const char *action, const struct irc_config *cfg,
			  const char *since)
{
	bool on = cfg->flags & IRC_CFG_ISOLATE;
	json_t *o = json_pack("{s:b,s:b,s:b,s:o}", "enabled", on,
		"allow_dns", !!(cfg->flags & IRC_CFG_ISO_DNS),
		"allow_dhcp", !!(cfg->flags & IRC_CFG_ISO_DHCP),
		"since", on ? json_string(since) : json_null());

	if (action)
		json_object_set_new(o, "action", json_string(action));
	return o;
}

static void state_text(const struct irc_config *cfg, const char *since)
{
	if (!(cfg->flags & IRC_CFG_ISOLATE)) {
		printf("isolation: off\n");
		return;
	}
	printf("isolation: on since %s (dns %s, dhcp %s)\n", since,
	       cfg->flags & IRC_CFG_ISO_DNS ? "allowed" : "blocked",
	       cfg->flags & IRC_CFG_ISO_DHCP ? "allowed" : "blocked");
}

/* The isolation's state after @action (NULL: status), in text or JSON. */
static void report_state(const char *action, const struct irc_config *cfg)
{
	char since[32] = "";

	if (cfg->flags & IRC_CFG_ISOLATE)
		irc_fmt_utc(cfg->isolate_since_ns, since, sizeof(since));
	irc.json ? irc_json_print(state_json(action, cfg, since)) : state_text(cfg, since);
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
	const struct irc_cidr *bad;
	int err = irc_iso_exempt(m, o->allow, o->nallow, &bad);

	if (err) {
		char a[IRC_CIDR_STRLEN];

		irc_cidr_format(bad, a, sizeof(a));
		irc_err("%s: add exemption %s: %s", what, a, strerror(-err));
	}
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
		err = irc_iso_on(&m, flags, 0, &cfg);
	irc_maps_close(&m);
	if (!err)
		report_state("isolate on", &cfg);
	return irc_qrecord(err ? IRC_EXIT_FAIL : IRC_EXIT_OK, o.incident, "isolate", NULL,
			   o.reason, err,
			   json_pack("{s:o,s:b,s:b,s:b}", "allow", allow_json(&o),
				     "allow_dns", !!(flags & IRC_CFG_ISO_DNS),
				     "allow_dhcp", !!(flags & IRC_CFG_ISO_DHCP), "force", o.force));
}

static int do_isolate_off(int argc, char **argv)
{
	const char *what = "isolate off";
	struct irc_config was;
	struct irc_qopts o;
	struct irc_maps m;
	int ret, err;

	ret = irc_qopts_parse(argc, argv, IRC_QO_NO_OPERAND | IRC_QO_REASON | IRC_QO_INCIDENT,
			      what, NULL, &o);
	if (ret)
		return ret;
	if (irc_maps_open(what, &m))
		return IRC_EXIT_FAIL;
	err = irc_iso_off(&m, &was);
	irc_maps_close(&m);
	ret = err == -EIO ? IRC_EXIT_FAIL : IRC_EXIT_OK;
	if (err && err != -EIO)
		irc_warn("isolate off: isolation-only exemptions not all removed: %s",
			 strerror(-err));
	if (err != -EIO) {
		struct irc_config off = was;

		err = 0;
		off.flags &= ~IRC_CFG_ISO_BITS;
		report_state("isolate off", &off);
	}
	return irc_qrecord(ret, o.incident, "isolate.off", NULL, o.reason, err,
			   json_pack("{s:b}", "was_on", !!(was.flags & IRC_CFG_ISOLATE)));
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
