// SPDX-License-Identifier: GPL-2.0-only
/* Map keys and walks for quarantine and allowlist entries. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "entries.h"
#include "irc.h"

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
	const struct irc_qfam *f = irc_qfam_of(map);
	const struct irc_lpm4 *l4 = k;
	const struct irc_lpm6 *l6 = k;

	memset(c, 0, sizeof(*c));
	if (f) {
		c->family = f->af;
		c->plen = f->ksz * 8;
		memcpy(c->addr, k, f->ksz);
		return;
	}
	switch (map) {
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

int irc_qrec_cmp(const void *a, const void *b)
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

/* Every CPU's run of drops not yet added to its entry (struct irc_droprun). */
struct runs {
	struct irc_droprun *r;	/* malloc()ed, one per possible CPU */
	int n;
};

static void runs_read(const struct irc_maps *m, struct runs *rs)
{
	int i, ncpu = 0, err;
	char *all = NULL;

	rs->r = NULL;
	rs->n = 0;
	if (m->fd[IRC_M_DROPRUN] >= 0)
		all = irc_percpu_read(m->fd[IRC_M_DROPRUN], sizeof(struct irc_droprun),
				      &ncpu, &err);
	/* Only runs that count something; copied out to aligned structs. */
	if (all)
		rs->r = malloc(ncpu * sizeof(*rs->r));
	for (i = 0; rs->r && i < ncpu; i++) {
		memcpy(&rs->r[rs->n], all + i * sizeof(struct irc_droprun), sizeof(*rs->r));
		if (rs->r[rs->n].count)
			rs->n++;
	}
	free(all);
}

/* @r's drops: its entry's own plus those of a CPU's run of it. */
static void runs_add(const struct runs *rs, struct irc_qrec *r)
{
	int i, v4 = r->target.family == AF_INET;

	if (r->target.plen != (v4 ? 32 : 128))
		return;
	for (i = 0; i < rs->n; i++) {
		const struct irc_droprun *d = &rs->r[i];

		if (d->family == (v4 ? 4U : 6U) && d->created_ns == r->val.created_ns &&
		    !memcmp(d->addr, r->target.addr, v4 ? 4 : 16))
			r->val.drops += d->count;
	}
}

/*
 * The front tiers' hosts, a set: a big map's entry found here is one that
 * racing writers put in both tiers, reported once (as its front entry,
 * which the packet path reads first).  Open addressing, linear probing,
 * at most half full; a slot of family 0 is empty.
 */
struct fronts {
	struct irc_cidr *t;	/* calloc()ed, cap slots (a power of two) */
	size_t n, cap;
};

/* The slot where @c is, or the empty one where it would go. */
static size_t fronts_slot(const struct fronts *fr, const struct irc_cidr *c)
{
	__u64 h = 0, w;
	size_t i;

	for (i = 0; i < sizeof(c->addr); i += sizeof(w)) {
		memcpy(&w, c->addr + i, sizeof(w));
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	}
	for (i = h >> 32; ; i++) {
		const struct irc_cidr *s = &fr->t[i & (fr->cap - 1)];

		if (!s->family || !memcmp(s, c, sizeof(*c)))
			return i & (fr->cap - 1);
	}
}

static int fronts_add(struct fronts *fr, const struct irc_cidr *c)
{
	size_t i;

	if (2 * (fr->n + 1) > fr->cap) {
		size_t cap = fr->cap ? 2 * fr->cap : 1024;
		struct fronts big = { calloc(cap, sizeof(*c)), fr->n, cap };

		if (!big.t)
			return -ENOMEM;
		for (i = 0; i < fr->cap; i++)
			if (fr->t[i].family)
				big.t[fronts_slot(&big, &fr->t[i])] = fr->t[i];
		free(fr->t);
		*fr = big;
	}
	i = fronts_slot(fr, c);
	fr->n += !fr->t[i].family;
	fr->t[i] = *c;
	return 0;
}

static bool fronts_has(const struct fronts *fr, const struct irc_cidr *c)
{
	return fr->n && fr->t[fronts_slot(fr, c)].family;
}

/* Drops from @recs[@nf, @nh) (the big maps') the hosts of @recs[0, @nf) (the fronts'). */
static int drop_twins(struct irc_qrec *recs, size_t *n, size_t nf, size_t nh)
{
	struct fronts fr = { 0 };
	size_t i, out = nf;
	int err = 0;

	for (i = 0; i < nf && !err; i++)
		err = fronts_add(&fr, &recs[i].target);
	for (i = nf; i < *n && !err; i++) {
		if (i < nh && fronts_has(&fr, &recs[i].target))
			continue;
		if (out != i)
			recs[out] = recs[i];
		out++;
	}
	if (!err)
		*n = out;
	free(fr.t);
	return err;
}

int irc_qrecs_collect(const struct irc_maps *m, struct irc_qrec **out,
		      size_t *n)
{
	const int *maps = irc_qmaps;
	void *arr = NULL;
	struct runs rs;
	size_t cap = 0, i, nf = 0, nh = 0;
	int err = 0;

	*n = 0;
	/* irc_qmaps' order: the front tiers, the big maps, the prefixes. */
	for (i = 0; i < irc_n_qmaps && !err; i++) {
		nf = i == 2 ? *n : nf;
		nh = i == 4 ? *n : nh;
		if (m->fd[maps[i]] >= 0)
			err = walk(m->fd[maps[i]], maps[i], &arr, n, &cap,
				   sizeof(struct irc_qrec), offsetof(struct irc_qrec, val));
	}
	if (!err)
		err = drop_twins(arr, n, nf, nh);
	if (err) {
		free(arr);
		return err;
	}
	runs_read(m, &rs);
	for (i = 0; i < *n && rs.n; i++)
		runs_add(&rs, (struct irc_qrec *)arr + i);
	free(rs.r);
	if (*n)
		qsort(arr, *n, sizeof(struct irc_qrec), irc_qrec_cmp);
	*out = arr;
	return 0;
}

/* Hash maps: BPF_MAP_LOOKUP_BATCH, STREAM_BATCH entries a call. */
#define STREAM_BATCH	4096

/*
 * Host map or front tier @map in batches: a front's hosts go into @fr, a
 * big map's found in @fr are skipped.
 */
static int stream_batch(int fd, int map, const struct runs *rs, struct fronts *fr,
			irc_qrec_fn fn, void *ctx)
{
	static struct irc_in6 keys[STREAM_BATCH];	/* big enough for either */
	static struct irc_qentry vals[STREAM_BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	const struct irc_qfam *f = irc_qfam_of(map);
	struct irc_qrec r;
	__u64 in = 0, out = 0;
	bool first = true, last = false, front = map == f->front;
	__u32 cnt, i;
	int err;

	while (!last) {
		cnt = STREAM_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &cnt, &bo)) {
			if (errno != ENOENT)
				return -errno;
			last = true;	/* the rest, cnt entries, is the end */
		}
		first = false;
		in = out;
		for (i = 0; i < cnt; i++) {
			key_to_cidr(map, (char *)keys + i * f->ksz, &r.target);
			if (!front && fronts_has(fr, &r.target))
				continue;
			r.val = vals[i];
			runs_add(rs, &r);
			err = front ? fronts_add(fr, &r.target) : 0;
			if (!err)
				err = fn(&r, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

int irc_qrecs_stream(const struct irc_maps *m, irc_qrec_fn fn, void *ctx)
{
	const int *maps = irc_qmaps;
	struct irc_qrec *arr = NULL;
	struct fronts fr = { 0 };
	size_t n = 0, cap = 0, i, j;
	struct runs rs;
	int err = 0;

	runs_read(m, &rs);
	/* The exact hosts' front tiers, then their big maps (irc_qmaps' order). */
	for (i = 0; i < 4 && !err; i++)
		if (m->fd[maps[i]] >= 0)
			err = stream_batch(m->fd[maps[i]], maps[i], &rs, &fr, fn, ctx);
	free(fr.t);
	free(rs.r);
	/* Prefixes (at most IRC_MAX_PREFIXES each): LPM tries do not batch. */
	for (i = 4; i < irc_n_qmaps && !err; i++) {
		n = 0;
		err = walk(m->fd[maps[i]], maps[i], (void **)&arr, &n, &cap,
			   sizeof(struct irc_qrec), offsetof(struct irc_qrec, val));
		for (j = 0; j < n && !err; j++)
			err = fn(&arr[j], ctx);
	}
	free(arr);
	return err;
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

const int irc_qmaps[] = { IRC_M_Q4_FRONT, IRC_M_Q6_FRONT, IRC_M_Q4_HOST, IRC_M_Q6_HOST,
			  IRC_M_Q4_PFX, IRC_M_Q6_PFX };
const size_t irc_n_qmaps = sizeof(irc_qmaps) / sizeof(irc_qmaps[0]);

const int irc_ttl_maps[] = { IRC_M_Q4_FRONT, IRC_M_Q6_FRONT, IRC_M_Q4_HOST, IRC_M_Q6_HOST,
			     IRC_M_Q4_PFX, IRC_M_Q6_PFX, IRC_M_QPID, IRC_M_QCGRP, IRC_M_QSOCK };
const size_t irc_n_ttl_maps = sizeof(irc_ttl_maps) / sizeof(irc_ttl_maps[0]);

union gc_key {
	struct irc_lpm6 l6;
	struct irc_in6 v6;
	__u32 v4;
	__u64 id;
};

union gc_val {
	struct irc_qentry q;
	struct irc_pentry p;
	struct irc_qsock s;
};

static bool is_host_map(int map)
{
	return irc_qfam_of(map) || map == IRC_M_Q4_PFX || map == IRC_M_Q6_PFX;
}

/*
 * After expired host @key left tier @map of @f: true when the host's copy in
 * the other tier (one that racing writers put in both) speaks for it, so
 * this one is not reported: a live copy (the host is still quarantined), or,
 * seen from the big map, any front copy (the front's sweep reports it).  An
 * expired big-map copy goes with its front one, reported once.
 */
static bool gc_twin(const struct irc_maps *m, const struct irc_qfam *f, int map,
		    const void *key, uint64_t now_boot)
{
	int other = m->fd[map == f->front ? f->big : f->front];
	struct irc_qentry t;

	if (other < 0 || bpf_map_lookup_elem(other, key, &t))
		return false;
	if (map == f->big || !t.expires_ns || t.expires_ns > now_boot)
		return true;
	bpf_map_delete_elem(other, key);
	return false;
}

long irc_gc_map(const struct irc_maps *m, int map, uint64_t now_boot, irc_gc_fn fn,
		void *ctx)
{
	union gc_key key, next, *dead = NULL, *nd;
	union gc_val v;
	size_t n = 0, cap = 0, i;
	void *prev = NULL;
	long removed = 0;
	const struct irc_qfam *f = irc_qfam_of(map);
	int fd = m->fd[map], table = f ? f->big : map;

	if (fd < 0)
		return 0;	/* a tier an older module has not pinned */

	/* Collect first, delete after: deleting under get_next_key restarts the walk. */
	memset(&key, 0, sizeof(key));
	memset(&next, 0, sizeof(next));
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		/* expires_ns is the first field of every one of these values. */
		if (!v.q.expires_ns || v.q.expires_ns > now_boot)
			continue;
		if (map == IRC_M_QPID && v.p.action != IRC_PACT_DENY)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nd = realloc(dead, cap * sizeof(*dead));
			if (!nd) {
				free(dead);
				return -ENOMEM;
			}
			dead = nd;
		}
		dead[n++] = key;
	}
	for (i = 0; i < n; i++) {
		struct irc_cidr c;

		/* Looked at again: a write since may have renewed it. */
		if (bpf_map_lookup_elem(fd, &dead[i], &v) || !v.q.expires_ns ||
		    v.q.expires_ns > now_boot || bpf_map_delete_elem(fd, &dead[i]))
			continue;
		removed++;
		if (!fn || (f && gc_twin(m, f, map, &dead[i], now_boot)))
			continue;
		if (is_host_map(map))
			key_to_cidr(map, &dead[i], &c);
		/* A front tier's entry is reported as its family's table's. */
		fn(ctx, table, is_host_map(map) ? &c : NULL, &dead[i], &v);
	}
	free(dead);
	return removed;
}

/* Hash maps: BPF_MAP_UPDATE_BATCH, WRITE_BATCH entries a call. */
#define WRITE_BATCH	8192

int irc_map_write(int fd, const void *keys, const void *vals, size_t ksz, size_t vsz,
		  size_t n, __u64 flags, size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = flags);
	size_t i;

	*done = 0;
	/* One entry (one host's write): one update, no batch. */
	while (n > 1 && *done < n) {
		__u32 cnt = n - *done < WRITE_BATCH ? n - *done : WRITE_BATCH;

		if (bpf_map_update_batch(fd, (const char *)keys + *done * ksz,
					 (const char *)vals + *done * vsz, &cnt, &bo)) {
			if (errno != EINVAL && errno != 524 /* ENOTSUPP */ && errno != EOPNOTSUPP) {
				/* The kernel says how many went in before the error. */
				*done += cnt;
				return -errno;
			}
			break;	/* this map cannot batch (LPM tries) */
		}
		*done += cnt;
	}
	for (i = *done; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, flags))
			return -errno;
		(*done)++;
	}
	return 0;
}

/*
 * irc_map_write() into map @map that, when the table is full, sweeps its
 * expired entries and goes on once.  -ENOSPC: still full.
 */
static int map_write_gc(const struct irc_maps *m, int map, const void *keys, const void *vals,
			size_t ksz, size_t vsz, size_t n, __u64 flags, size_t *done)
{
	int err = irc_map_write(m->fd[map], keys, vals, ksz, vsz, n, flags, done);
	size_t more = 0;

	if (!IRC_ERR_FULL(err))
		return err;
	/* "No space left": what the records say of a full table. */
	if (irc_gc_map(m, map, irc_now_boot_ns(), NULL, NULL) <= 0)
		return -ENOSPC;
	err = irc_map_write(m->fd[map], (const char *)keys + *done * ksz,
			    (const char *)vals + *done * vsz, ksz, vsz, n - *done, flags, &more);
	*done += more;
	return err;
}

int irc_map_update_gc(const struct irc_maps *m, int map, const void *key,
		      const void *val, __u64 flags)
{
	size_t done;

	/* One entry: the strides are not used. */
	return map_write_gc(m, map, key, val, 0, 0, 1, flags, &done);
}

const char *irc_map_full_msg(const struct irc_maps *m, int map, char *buf, size_t len)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);

	size_t i;
	bool ttl = false;

	for (i = 0; i < irc_n_ttl_maps; i++)
		ttl |= irc_ttl_maps[i] == map;
	if (bpf_obj_get_info_by_fd(m->fd[map], &info, &ilen))
		snprintf(buf, len, "the %s table is full", irc_map_names[map]);
	else
		snprintf(buf, len, "the %s table is full (%u entries%s)", irc_map_names[map],
			 info.max_entries, ttl ? ", none expired" : "");
	return buf;
}

/* Keeps IRC_CFG_HAS_CGROUPS equal to "irc_qcgrp is not empty". */
void irc_qproc_sync_cgroup_flag(const struct irc_maps *m)
{
	struct irc_config cfg;
	int lock = irc_pins_lock();

	if (irc_config_read(m, &cfg)) {
		irc_pins_unlock(lock);
		return;
	}
	if (irc_map_entries(m->fd[IRC_M_QCGRP]))
		cfg.flags |= IRC_CFG_HAS_CGROUPS;
	else
		cfg.flags &= ~IRC_CFG_HAS_CGROUPS;
	irc_config_write(m, &cfg);
	irc_pins_unlock(lock);
}

/* ---- the exact-host tiers (IRC_MAX_FRONT_HOSTS) ----------------------- */

static const struct irc_qfam qfams[] = {
	{ IRC_M_Q4_HOST, IRC_M_Q4_FRONT, IRC_QTIER_V4, AF_INET, sizeof(__u32) },
	{ IRC_M_Q6_HOST, IRC_M_Q6_FRONT, IRC_QTIER_V6, AF_INET6, sizeof(struct irc_in6) },
};

const struct irc_qfam *irc_qfam_of(int map)
{
	size_t i;

	for (i = 0; i < sizeof(qfams) / sizeof(qfams[0]); i++)
		if (map == qfams[i].big || map == qfams[i].front)
			return &qfams[i];
	return NULL;
}

/* Sets @f's flag: only ever 1 is written, each family to its own element (no lost update). */
static int qtier_set(const struct irc_maps *m, const struct irc_qfam *f)
{
	__u32 one = 1;

	return bpf_map_update_elem(m->fd[IRC_M_QTIER], &f->idx, &one, BPF_ANY) ? -errno : 0;
}

/* 1 if @f's flag is set (or cannot be read), 0 if not. */
static int qtier_big(const struct irc_maps *m, const struct irc_qfam *f)
{
	__u32 v = 1;

	if (bpf_map_lookup_elem(m->fd[IRC_M_QTIER], &f->idx, &v))
		return 1;
	return v != 0;
}

/* The irc_qbloom bytes of @n keys of @f, through m->qbloom: before they can be in its front. */
static int qbloom_mark(const struct irc_maps *m, const struct irc_qfam *f, const void *keys,
		       size_t n)
{
	__u8 *slot = m->qbloom;
	size_t i;

	if (!slot)	/* not pinned: the module's programs do not read it */
		return m->fd[IRC_M_QBLOOM] < 0 ? 0 : -EBADF;
	slot += (size_t)f->idx * IRC_QBLOOM_SLOTS;
	/* One byte each, never a word: no other writer's byte can be lost. */
	for (i = 0; i < n; i++)
		__atomic_store_n(&slot[irc_qbloom_slot((const char *)keys + i * f->ksz,
						       f->idx == IRC_QTIER_V6)], 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* At load: the bytes of every host already in @f's front tier. */
static int qtier_adopt_front(const struct irc_maps *m, const struct irc_qfam *f)
{
	struct irc_in6 key, next;	/* big enough for either */
	char *keys = malloc((size_t)IRC_MAX_FRONT_HOSTS * 2 * f->ksz);
	void *prev = NULL;
	size_t n = 0;
	int err;

	if (!keys)
		return -ENOMEM;
	/* Bounded: a hash walk may repeat a key while others delete. */
	while (n < (size_t)IRC_MAX_FRONT_HOSTS * 2 &&
	       !bpf_map_get_next_key(m->fd[f->front], prev, &next)) {
		key = next;
		prev = &key;
		memcpy(keys + n++ * f->ksz, &key, f->ksz);
	}
	err = qbloom_mark(m, f, keys, n);
	free(keys);
	return err;
}

int irc_qtier_adopt(const struct irc_maps *m)
{
	struct irc_in6 any;
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(qfams) / sizeof(qfams[0]) && !err; i++) {
		/* A module loaded before the tiers left its entries in the big map. */
		if (!bpf_map_get_next_key(m->fd[qfams[i].big], NULL, &any))
			err = qtier_set(m, &qfams[i]);
		else if (errno != ENOENT)
			err = -errno;
		/* And a front tier filled before irc_qbloom existed is looked up too. */
		if (!err)
			err = qtier_adopt_front(m, &qfams[i]);
	}
	return err;
}

int irc_q_where(const struct irc_maps *m, const struct irc_key *k, struct irc_qentry *v)
{
	const struct irc_qfam *f = irc_qfam_of(k->map);

	if (f && m->fd[f->front] >= 0 && !bpf_map_lookup_elem(m->fd[f->front], &k->k, v))
		return f->front;
	return bpf_map_lookup_elem(m->fd[k->map], &k->k, v) ? -errno : k->map;
}

int irc_q_lookup(const struct irc_maps *m, const struct irc_key *k, struct irc_qentry *v)
{
	int where = irc_q_where(m, k, v);

	return where < 0 ? where : 0;
}

int irc_q_update(const struct irc_maps *m, const struct irc_key *k, const struct irc_qentry *v,
		 __u64 flags)
{
	const struct irc_qfam *f = irc_qfam_of(k->map);
	struct irc_qentry old;
	size_t done;
	int where;

	if (!f || m->fd[f->front] < 0)
		return irc_map_update_gc(m, k->map, &k->k, v, flags);
	/* Where it already is, it stays. */
	where = irc_q_where(m, k, &old);
	if (where >= 0)
		return flags == BPF_NOEXIST ? -EEXIST :
		       irc_map_update_gc(m, where, &k->k, v, BPF_ANY);
	if (flags == BPF_EXIST)
		return -ENOENT;
	return irc_q_place(m, f, &k->k, v, 1, flags, &done);
}

int irc_q_place(const struct irc_maps *m, const struct irc_qfam *f, const void *keys,
		const struct irc_qentry *vals, size_t n, __u64 flags, size_t *done)
{
	int front = m->fd[f->front], err;
	size_t more = 0;

	*done = 0;
	if (front < 0)	/* a module loaded before the tiers: its big map alone */
		return map_write_gc(m, f->big, keys, vals, f->ksz, sizeof(*vals), n, flags, done);
	/* Their irc_qbloom bytes before any of them can be in the front tier. */
	err = qbloom_mark(m, f, keys, n);
	if (!err)
		err = irc_map_write(front, keys, vals, f->ksz, sizeof(*vals), n, flags, done);
	if (!IRC_ERR_FULL(err))
		return err;
	/* Before the big map is first used, the front's expired entries make room. */
	if (!qtier_big(m, f) && irc_gc_map(m, f->front, irc_now_boot_ns(), NULL, NULL) > 0) {
		err = irc_map_write(front, (const char *)keys + *done * f->ksz, vals + *done,
				    f->ksz, sizeof(*vals), n - *done, flags, &more);
		*done += more;
		if (!IRC_ERR_FULL(err))
			return err;
	}
	/* The flag first: the packet path must look there before it holds anything. */
	err = qtier_set(m, f);
	if (err)
		return err;
	err = map_write_gc(m, f->big, (const char *)keys + *done * f->ksz, vals + *done, f->ksz,
			   sizeof(*vals), n - *done, flags, &more);
	*done += more;
	return err;
}

int irc_q_delete(const struct irc_maps *m, const struct irc_key *k)
{
	const struct irc_qfam *f = irc_qfam_of(k->map);
	int fds[2] = { f ? m->fd[f->front] : -1, m->fd[k->map] }, gone = 0, err = -ENOENT, i;

	/* From both: one a race put in both tiers is released from both, once. */
	for (i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		if (!bpf_map_delete_elem(fds[i], &k->k))
			gone = 1;
		else if (errno != ENOENT)
			err = -errno;
	}
	return gone ? 0 : err;
}

long irc_q_entries(const struct irc_maps *m, int map)
{
	const struct irc_qfam *f = irc_qfam_of(map);
	int front = f ? m->fd[f->front] : -1;
	struct irc_in6 key, next;	/* big enough for either */
	long big = irc_map_entries(m->fd[map]), n = big;
	struct irc_qentry v;
	void *prev = NULL;

	while (front >= 0 && !bpf_map_get_next_key(front, prev, &next)) {
		key = next;
		prev = &key;
		/* One a race also put in the big map is counted there only. */
		if (!big || bpf_map_lookup_elem(m->fd[map], &key, &v))
			n++;
	}
	return n;
}

long irc_q_clear(const struct irc_maps *m, int map)
{
	const struct irc_qfam *f = irc_qfam_of(map);
	int front = f ? m->fd[f->front] : -1;
	struct irc_in6 key;	/* big enough for either */
	long n = 0, big;

	/* Each front host from both tiers (a race may have put it in both): counted once. */
	while (front >= 0 && !bpf_map_get_next_key(front, NULL, &key)) {
		if (bpf_map_delete_elem(front, &key))
			return -errno;
		if (bpf_map_delete_elem(m->fd[map], &key) && errno != ENOENT)
			return -errno;
		n++;
	}
	big = irc_map_clear(m->fd[map]);
	return big < 0 ? big : n + big;
}
