// SPDX-License-Identifier: GPL-2.0-only
/* Drops per interface and rule: see ifdrops.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ifdrops.h"

static const char *const rule_names[IRC_IFDROP_RULES] = { "quarantine", "isolate", "malformed" };

_Static_assert(IRC_RULE_QUARANTINE == 1 && IRC_RULE_MALFORMED == IRC_IFDROP_RULES,
	       "the kernel counts rule r at [r - 1]");

const char *irc_ifdrop_rule_name(unsigned int r)
{
	return r < IRC_IFDROP_RULES ? rule_names[r] : "unknown";
}

static void add(struct irc_ifdrop_sum *r, const __u64 drops[2][IRC_IFDROP_RULES])
{
	int d, k;

	for (d = 0; d < 2; d++)
		for (k = 0; k < IRC_IFDROP_RULES; k++)
			r->drops[d][k] += drops[d][k];
}

static bool any(const struct irc_ifdrop *s)
{
	int d, k;

	for (d = 0; d < 2; d++)
		for (k = 0; k < IRC_IFDROP_RULES; k++)
			if (s->drops[d][k])
				return true;
	return false;
}

static int by_ifindex(const void *a, const void *b)
{
	const struct irc_ifdrop_sum *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/*
 * Every attached interface and every slot that counted, one row each
 * (v has room), then sorted by ifindex and merged: O(n log n) however
 * many CPUs and slots.
 */
static size_t gather(const struct irc_maps *m, const struct irc_ifdrops *per, int ncpu,
		     struct irc_ifdrop_sum *v, struct irc_ifdrop_sum *other)
{
	struct irc_iface ifc;
	__u32 key, *prev = NULL;
	size_t n = 0, merged, j;
	int c, i;

	while (n < IRC_MAX_IFACES && bpf_map_get_next_key(m->fd[IRC_M_IFACES], prev, &key) == 0) {
		v[n].ifindex = key;
		prev = &v[n].ifindex;
		if (!bpf_map_lookup_elem(m->fd[IRC_M_IFACES], &key, &ifc))
			snprintf(v[n].name, sizeof(v[n].name), "%.*s", IRC_IFNAME_LEN - 1, ifc.name);
		n++;
	}
	for (c = 0; c < ncpu; c++) {
		add(other, per[c].other.drops);
		for (i = 0; i < IRC_IFDROP_SLOTS; i++) {
			const struct irc_ifdrop *s = &per[c].slot[i];

			if (!any(s))
				continue;
			if (!s->ifindex) {
				add(other, s->drops);
				continue;
			}
			v[n].ifindex = s->ifindex;
			add(&v[n++], s->drops);
		}
	}
	qsort(v, n, sizeof(*v), by_ifindex);
	for (merged = 0, j = 0; j < n; j++) {
		struct irc_ifdrop_sum *last = merged ? &v[merged - 1] : NULL;

		if (!last || last->ifindex != v[j].ifindex) {
			v[merged++] = v[j];
			continue;
		}
		add(last, v[j].drops);
		if (!last->name[0])
			memcpy(last->name, v[j].name, sizeof(last->name));
	}
	return merged;
}

int irc_ifdrops_read(const struct irc_maps *m, struct irc_ifdrop_sum **out, size_t *n)
{
	struct irc_ifdrop_sum *v, other = { .ifindex = 0, .name = "other" };
	struct irc_ifdrops *per = NULL;
	int ncpu = 0, err = 0;
	size_t i;

	*out = NULL;
	*n = 0;
	if (m->fd[IRC_M_IFDROPS] >= 0) {
		per = irc_percpu_read(m->fd[IRC_M_IFDROPS], sizeof(*per), &ncpu, &err);
		if (!per)
			return err;
	}
	/* At most: the attached interfaces, one row per slot of each CPU, 'other'. */
	v = calloc(IRC_MAX_IFACES + (size_t)ncpu * IRC_IFDROP_SLOTS + 1, sizeof(*v));
	if (!v) {
		free(per);
		return -ENOMEM;
	}
	*n = gather(m, per, ncpu, v, &other);
	free(per);
	for (i = 0; i < *n; i++) {
		struct irc_ifname was;
		char now[IF_NAMESIZE];

		v[i].present = if_indextoname(v[i].ifindex, now) != NULL;
		if (v[i].present)
			snprintf(v[i].name, sizeof(v[i].name), "%s", now);
		else if (!v[i].name[0] && m->fd[IRC_M_IFNAMES] >= 0 &&
			 !bpf_map_lookup_elem(m->fd[IRC_M_IFNAMES], &v[i].ifindex, &was))
			snprintf(v[i].name, sizeof(v[i].name), "%.*s", IRC_IFNAME_LEN - 1, was.name);
	}
	v[(*n)++] = other;
	*out = v;
	return 0;
}

json_t *irc_ifdrops_json(const struct irc_ifdrop_sum *v, size_t n)
{
	json_t *a = json_array();
	size_t i;
	int d, k;

	for (i = 0; i < n; i++) {
		json_t *dir[2] = { json_object(), json_object() };

		for (d = 0; d < 2; d++)
			for (k = 0; k < IRC_IFDROP_RULES; k++)
				json_object_set_new(dir[d], rule_names[k],
						    json_integer((json_int_t)v[i].drops[d][k]));
		json_array_append_new(a, json_pack("{s:s,s:I,s:o,s:o,s:o}", "interface", v[i].name,
			"ifindex", (json_int_t)v[i].ifindex,
			"present", v[i].ifindex ? json_boolean(v[i].present) : json_null(),
			"rx", dir[0], "tx", dir[1]));
	}
	return a;
}
