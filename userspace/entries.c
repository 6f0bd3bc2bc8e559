// SPDX-License-Identifier: GPL-2.0-only
/* Map keys and walks for quarantine and allowlist entries. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "entries.h"

static void lpm_key(const struct irc_cidr *c, struct irc_key *key, int m4,
		    int m6)
{
	memset(key, 0, sizeof(*key));
	if (c->family == AF_INET) {
		key->map = m4;
		key->k.l4.prefixlen = c->plen;
		memcpy(key->k.l4.addr, c->addr, 4);
	} else {
		key->map = m6;
		key->k.l6.prefixlen = c->plen;
		memcpy(key->k.l6.addr, c->addr, 16);
	}
}

void irc_qkey(const struct irc_cidr *c, struct irc_key *key)
{
	if (!irc_cidr_is_host(c)) {
		lpm_key(c, key, IRC_M_Q4_PFX, IRC_M_Q6_PFX);
		return;
	}
	memset(key, 0, sizeof(*key));
	if (c->family == AF_INET) {
		key->map = IRC_M_Q4_HOST;
		memcpy(&key->k.v4, c->addr, 4);
	} else {
		key->map = IRC_M_Q6_HOST;
		memcpy(key->k.v6.addr, c->addr, 16);
	}
}

void irc_akey(const struct irc_cidr *c, struct irc_key *key)
{
	lpm_key(c, key, IRC_M_ALLOW4, IRC_M_ALLOW6);
}

/* The target a raw key of map @map stands for. */
static void key_to_cidr(int map, const void *k, struct irc_cidr *c)
{
	const struct irc_lpm4 *l4 = k;
	const struct irc_lpm6 *l6 = k;

	memset(c, 0, sizeof(*c));
	switch (map) {
	case IRC_M_Q4_HOST:
		c->family = AF_INET;
		c->plen = 32;
		memcpy(c->addr, k, 4);
		break;
	case IRC_M_Q6_HOST:
		c->family = AF_INET6;
		c->plen = 128;
		memcpy(c->addr, k, 16);
		break;
	case IRC_M_Q4_PFX:
	case IRC_M_ALLOW4:
		c->family = AF_INET;
		c->plen = l4->prefixlen;
		memcpy(c->addr, l4->addr, 4);
		break;
	default:
		c->family = AF_INET6;
		c->plen = l6->prefixlen;
		memcpy(c->addr, l6->addr, 16);
		break;
	}
}

/*
 * Walks map @map, appending (target, value) records of @rec_size bytes
 * whose value part starts at @val_off.  The array grows geometrically.
 */
static int walk(int fd, int map, void **arr, size_t *n, size_t *cap,
		size_t rec_size, size_t val_off)
{
	union { struct irc_lpm6 l6; struct irc_in6 v6; __u32 v4; } key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		char *rec;

		key = next;
		prev = &key;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			void *p = realloc(*arr, ncap * rec_size);

			if (!p)
				return -ENOMEM;
			*arr = p;
			*cap = ncap;
		}
		rec = (char *)*arr + *n * rec_size;
		memset(rec, 0, rec_size);
		/* Deleted between the two calls: skip it. */
		if (bpf_map_lookup_elem(fd, &key, rec + val_off))
			continue;
		key_to_cidr(map, &key, (struct irc_cidr *)rec);
		(*n)++;
	}
	return 0;
}

static int cmp_qrec(const void *a, const void *b)
{
	const struct irc_qrec *x = a, *y = b;

	if (x->val.created_ns != y->val.created_ns)
		return x->val.created_ns < y->val.created_ns ? -1 : 1;
	return memcmp(&x->target, &y->target, sizeof(x->target));
}

static int cmp_arec(const void *a, const void *b)
{
	const struct irc_arec *x = a, *y = b;

	return memcmp(&x->target, &y->target, sizeof(x->target));
}

int irc_qrecs_collect(const struct irc_maps *m, struct irc_qrec **out,
		      size_t *n)
{
	static const int maps[] = { IRC_M_Q4_HOST, IRC_M_Q6_HOST,
				    IRC_M_Q4_PFX, IRC_M_Q6_PFX };
	void *arr = NULL;
	size_t cap = 0, i;
	int err;

	*n = 0;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = walk(m->fd[maps[i]], maps[i], &arr, n, &cap,
			   sizeof(struct irc_qrec),
			   offsetof(struct irc_qrec, val));
		if (err) {
			free(arr);
			return err;
		}
	}
	if (*n)
		qsort(arr, *n, sizeof(struct irc_qrec), cmp_qrec);
	*out = arr;
	return 0;
}

int irc_arecs_collect(const struct irc_maps *m, struct irc_arec **out,
		      size_t *n)
{
	static const int maps[] = { IRC_M_ALLOW4, IRC_M_ALLOW6 };
	void *arr = NULL;
	size_t cap = 0, i;
	int err;

	*n = 0;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		err = walk(m->fd[maps[i]], maps[i], &arr, n, &cap,
			   sizeof(struct irc_arec),
			   offsetof(struct irc_arec, val));
		if (err) {
			free(arr);
			return err;
		}
	}
	if (*n)
		qsort(arr, *n, sizeof(struct irc_arec), cmp_arec);
	*out = arr;
	return 0;
}

long irc_map_entries(int fd)
{
	union { struct irc_lpm6 l6; struct irc_in6 v6; __u32 v4; } key, next;
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

long irc_map_clear(int fd)
{
	union { struct irc_lpm6 l6; struct irc_in6 v6; __u32 v4; } key;
	long n = 0;

	/* Delete the first key until none is left. */
	while (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		if (bpf_map_delete_elem(fd, &key))
			return -errno;
		n++;
	}
	return n;
}

int irc_allow_find(const struct irc_maps *m, const struct irc_cidr *target,
		   __u32 flags, int contain, struct irc_cidr *which)
{
	struct irc_arec *recs;
	size_t n, i;
	int err, found = 0;

	err = irc_arecs_collect(m, &recs, &n);
	if (err)
		return err;
	for (i = 0; i < n && !found; i++) {
		if (!(recs[i].val.flags & flags))
			continue;
		if (contain ? irc_cidr_contains(&recs[i].target, target) :
			      irc_cidr_overlap(&recs[i].target, target)) {
			*which = recs[i].target;
			found = 1;
		}
	}
	free(recs);
	return found;
}
