// SPDX-License-Identifier: GPL-2.0-only
/*
 * `verify`'s look at the kernel: containment in force that the evidence
 * store has no record of.  Here, not in kernel/ or evidence/, because it
 * reads both.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cgroup.h"
#include "entity.h"
#include "entries.h"
#include "irc.h"
#include "store.h"
#include "unrecorded.h"

/* @entity is in force in the kernel: is the newest record of it one that put it there? */
static void check_recorded(struct irc_store *s, const char *entity, const char *const *put,
			   json_t *gaps)
{
	static const char *const moves[] = { "quarantine", "kill", "stop", "release", NULL };
	char type[32];
	size_t i;

	if (!irc_store_last_action(s, entity, moves, type, sizeof(type)))
		for (i = 0; put[i]; i++)
			if (!strcmp(type, put[i]))
				return;
	json_array_append_new(gaps, json_string(entity));
}

/*
 * Containment the kernel enforces that the store has no record of (a
 * command killed between its map write and its record, a map written by
 * hand): hosts and prefixes, processes and cgroups, as entity strings
 * ("host:10.0.0.1", "pid:42").  Only root can read the maps, and only when
 * loaded; otherwise nothing is claimed either way (an empty array).
 */
json_t *irc_unrecorded_containment(struct irc_store *s)
{
	static const char *const host_put[] = { "quarantine", NULL };
	static const char *const pid_put[] = { "quarantine", "kill", "stop", NULL };
	char entity[IRC_ENTITY_LEN];
	json_t *gaps = json_array();
	struct irc_qrec *q = NULL;
	struct irc_maps m;
	__u32 key, next, *prev = NULL;
	__u64 cid, cnext, *cprev = NULL;
	struct irc_config cfg;
	size_t n = 0, i;

	if (geteuid() || irc_pins_loaded() || irc_maps_open("verify", &m))
		return gaps;
	if (!irc_qrecs_collect(&m, &q, &n))
		for (i = 0; i < n; i++) {
			irc_entity_host(entity, sizeof(entity), &q[i].target);
			check_recorded(s, entity, host_put, gaps);
		}
	free(q);
	while (!bpf_map_get_next_key(m.fd[IRC_M_QPID], prev, &next)) {
		struct irc_pentry pe;

		key = next;
		prev = &key;
		/*
		 * A child that inherited its parent's quarantine (at fork) is
		 * on record through the process the operator or detector named.
		 */
		if (bpf_map_lookup_elem(m.fd[IRC_M_QPID], &key, &pe))
			continue;
		irc_entity_pid(entity, sizeof(entity), pe.root ? pe.root : key);
		check_recorded(s, entity, pid_put, gaps);
	}
	/*
	 * Cgroups are keyed by id, recorded by path: a cgroup removed since
	 * has no path to look up, and nothing is claimed of it.
	 */
	if (irc_config_read(&m, &cfg))
		cfg.cgroup_root[0] = '\0';
	while (!bpf_map_get_next_key(m.fd[IRC_M_QCGRP], cprev, &cnext)) {
		char path[PATH_MAX];

		cid = cnext;
		cprev = &cid;
		if (irc_cgroup_path_by_id(cfg.cgroup_root[0] ? cfg.cgroup_root : "/sys/fs/cgroup",
					  cid, path, sizeof(path)))
			continue;
		irc_entity_cgroup(entity, sizeof(entity), path);
		check_recorded(s, entity, host_put, gaps);
	}
	irc_maps_close(&m);
	return gaps;
}
