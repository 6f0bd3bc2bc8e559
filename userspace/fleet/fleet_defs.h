/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fleet: the desired state of many hosts, kept in etcd (v3 JSON
 * gateway), signed by operators, reconciled by each host's controller.
 * Names and limits, defined once.
 */
#ifndef IRC_FLEET_DEFS_H
#define IRC_FLEET_DEFS_H

#define IRC_FLEET_PREFIX	"/ircontain/"	/* default --fleet-prefix */
#define IRC_FLEET_Q		"q/"		/* PREFIX q/GROUP/TARGET: signed entries */
#define IRC_FLEET_AGENTS	"agents/"	/* PREFIX agents/NAME: heartbeats on a lease */
#define IRC_FLEET_ALL		"_all"		/* the group of entries for every host */
#define IRC_FLEET_ISOLATION	"isolation"	/* PREFIX q/GROUP/isolation: the group's isolation */
#define IRC_FLEET_ALLOW		"allow-"	/* PREFIX q/GROUP/allow-ADDR[_PLEN]: allowlist entries */
#define IRC_FLEET_POLICY	"policy"	/* PREFIX q/GROUP/policy: the group's policy */
#define IRC_FLEET_TRUST		"fleet.trust"	/* under --state-dir: trusted keys, hex */
#define IRC_FLEET_SIG_CTX	"ircontain-fleet-v1\n"	/* what a signature covers begins so */

#define IRC_FLEET_MAX_URLS	8	/* --fleet URL,URL,... */
#define IRC_FLEET_MAX_GROUPS	16	/* --fleet-group, repeated */
#define IRC_FLEET_NAME_MAX	63	/* agent and group names: [A-Za-z0-9._-] */
#define IRC_FLEET_PREFIX_MAX	128
#define IRC_FLEET_MAX_TRUST	64	/* trusted keys */
#define IRC_FLEET_MAX_ALLOW	16	/* fleet isolate on --allow, repeated */
#define IRC_FLEET_MAX_POLICY	32768	/* fleet policy apply: the file, bytes */
#define IRC_FLEET_MAX_VALUE	(2 * IRC_FLEET_MAX_POLICY + 4096)	/* an entry's value in etcd */
#define IRC_FLEET_MAX_ENTRIES	65536	/* entries an agent follows */
#define IRC_FLEET_LEASE_S	10	/* an agent's heartbeat lease */
#define IRC_FLEET_BEAT_MS	2000	/* heartbeat (and keepalive) period */
#define IRC_FLEET_BACKOFF_MS	200	/* first retry after etcd failed, */
#define IRC_FLEET_BACKOFF_MAX_MS 5000	/* doubling up to this */
#define IRC_FLEET_TIMEOUT_MS	3000	/* one request (not the watch) */
#define IRC_FLEET_DEAD_MS	5000	/* a silent watch connection is dropped after */

#endif /* IRC_FLEET_DEFS_H */
