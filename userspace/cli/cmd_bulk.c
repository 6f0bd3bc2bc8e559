// SPDX-License-Identifier: GPL-2.0-only
/*
 * quarantine host --from-file FILE|-, release host --from-file FILE|-.
 *
 * A blocklist of thousands of addresses in one command: every line is read
 * and checked first, and if any is bad nothing is applied (unless
 * --skip-bad); then the maps are written in batches (one syscall per map
 * and BULK_BATCH entries, per element where a map cannot batch), and one
 * store record carries the count, the SHA-256 of the list as read and the
 * targets themselves (so that `load` restores them like any other).
 *
 * The file: one address or prefix a line; '#' starts a comment, and so
 * does ';' (FireHOL and Spamhaus DROP lists: "1.2.3.0/24 ; SBL123");
 * blank lines are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <sodium.h>

#include "cmd.h"
#include "entity.h"
#include "entries.h"
#include "irc.h"
#include "loader.h"
#include "parse.h"
#include "pins.h"
#include "qopts.h"

#define BULK_BATCH	8192	/* entries per batched update */

struct bulk_ent {
	struct irc_cidr c;
	size_t line;
};

struct bulk_list {
	struct bulk_ent *e;
	size_t n, cap;
	size_t bad;		/* bad lines (skipped with --skip-bad) */
	char sha[65];		/* SHA-256 of the bytes read, hex */
	const char *src;	/* the file name, "-" for stdin */
};

/* 1 if "--from-file" stands among the options of @argv. */
bool irc_bulk_wanted(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--from-file") || !strncmp(argv[i], "--from-file=", 12))
			return true;
	return false;
}

/* Takes --from-file VALUE and --skip-bad out of @argv. */
static int take_opts(int *argc, char **argv, const char *what,
		     const char **file, bool *skip_bad)
{
	int i, out = 1;

	*file = NULL;
	*skip_bad = false;
	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--from-file")) {
			if (i + 1 >= *argc)
				return irc_usage_err("%s: option '--from-file' needs a value (a file, or - for stdin)",
						     what);
			*file = argv[++i];
		} else if (!strncmp(argv[i], "--from-file=", 12)) {
			*file = argv[i] + 12;
		} else if (!strcmp(argv[i], "--skip-bad")) {
			*skip_bad = true;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	if (!*file || !**file)
		return irc_usage_err("%s: bad --from-file '': a file, or - for stdin", what);
	return 0;
}

/* The target of one line, cut at its comment and trimmed; "" if none. */
static char *line_target(char *s)
{
	char *end;

	s[strcspn(s, "#;\r\n")] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int list_add(struct bulk_list *l, const struct irc_cidr *c, size_t line)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct bulk_ent *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].c = *c;
	l->e[l->n++].line = line;
	return 0;
}

/* A bad line: an error, or with --skip-bad a warning (it is skipped). */
#define BAD(...) (skip_bad ? irc_warn(__VA_ARGS__) : (void)irc_usage_err(__VA_ARGS__))

/*
 * Reads and checks the whole list.  Every bad line is reported with its
 * number; returns IRC_EXIT_USAGE if there was one (and not @skip_bad),
 * IRC_EXIT_FAIL if the file cannot be read, else 0.
 */
static int list_read(const char *what, const char *file, bool skip_bad,
		     struct bulk_list *l)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	crypto_hash_sha256_state st;
	unsigned char sum[crypto_hash_sha256_BYTES];
	char *buf = NULL, *t;
	size_t cap = 0, line = 0;
	ssize_t len;
	const char *why;
	int ret = 0;

	l->src = file;
	if (!f)
		return irc_usage_err("%s: bad --from-file '%s': %s", what, file, strerror(errno));
	crypto_hash_sha256_init(&st);
	while ((len = getline(&buf, &cap, f)) >= 0) {
		struct irc_cidr c;

		line++;
		crypto_hash_sha256_update(&st, (unsigned char *)buf, (size_t)len);
		if (memchr(buf, '\0', (size_t)len)) {
			BAD("%s: %s line %zu: bad line: a NUL byte (not a text list)",
			    what, file, line);
			l->bad++;
			continue;
		}
		t = line_target(buf);
		if (!*t)
			continue;
		if (irc_parse_target(t, false, &c, &why)) {
			BAD("%s: %s line %zu: bad address '%s': %s", what, file, line, t, why);
			l->bad++;
			continue;
		}
		if (list_add(l, &c, line)) {
			irc_err("%s: %s: out of memory at line %zu", what, file, line);
			ret = IRC_EXIT_FAIL;
			break;
		}
	}
	if (!ret && ferror(f)) {
		irc_err("%s: read %s: %s", what, file, strerror(errno));
		ret = IRC_EXIT_FAIL;
	}
	free(buf);
	if (f != stdin)
		fclose(f);
	crypto_hash_sha256_final(&st, sum);
	sodium_bin2hex(l->sha, sizeof(l->sha), sum, sizeof(sum));
	if (!ret && l->bad && !skip_bad)
		ret = irc_usage_err("%s: %zu bad line%s in %s: nothing applied (--skip-bad applies the rest)",
				    what, l->bad, l->bad == 1 ? "" : "s", file);
	return ret;
}

/*
 * The targets the one-host command would refuse without --force: the SSH
 * session's peer, or an 'always' allowlist entry.  Each is reported as a
 * bad line, with the same words; --force records them anyway.
 */
static size_t list_refuse(const char *what, const struct irc_maps *m,
			  struct bulk_list *l, bool force, bool skip_bad)
{
	struct irc_cidr peer;
	struct irc_arec *al = NULL;
	size_t n_al = 0, i, j, out = 0, refused = 0;
	bool ssh = irc_parse_ssh_peer(getenv("SSH_CONNECTION"), &peer) == 0;
	char w[IRC_CIDR_STRLEN], t[IRC_CIDR_STRLEN];

	if (irc_arecs_collect(m, &al, &n_al))
		n_al = 0;
	for (i = 0; i < l->n; i++) {
		const struct irc_cidr *c = &l->e[i].c;
		const char *why = NULL;

		if (ssh && irc_cidr_contains(c, &peer)) {
			irc_cidr_format(&peer, w, sizeof(w));
			why = "the address of your SSH session (SSH_CONNECTION)";
		}
		for (j = 0; !why && j < n_al; j++) {
			if ((al[j].val.flags & IRC_ALLOW_ALWAYS) &&
			    irc_cidr_overlap(&al[j].target, c)) {
				irc_cidr_format(&al[j].target, w, sizeof(w));
				why = "an allowlist entry";
			}
		}
		if (why && !force) {
			irc_cidr_format(c, t, sizeof(t));
			BAD("%s: %s line %zu: refused %s: it covers %s, %s; add --force if you mean it",
			    what, l->src, l->e[i].line, t, w, why);
			refused++;
			continue;
		}
		l->e[out++] = l->e[i];
	}
	free(al);
	l->n = out;
	l->bad += refused;
	return refused;
}

/*
 * Deletes @n keys from @fd, setting gone[i] for each one deleted: batched
 * (the kernel stops at a key that is not there, and the batch goes on
 * after it), or one by one where the map cannot batch.
 */
static int delete_batch(int fd, void *keys, size_t ksz, size_t n, bool *gone)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	size_t done = 0, i;

	while (done < n) {
		__u32 cnt = n - done < BULK_BATCH ? n - done : BULK_BATCH;
		int e = bpf_map_delete_batch(fd, (char *)keys + done * ksz, &cnt, &bo) ? errno : 0;

		if (e && e != ENOENT) {
			if (e != EINVAL && e != 524 /* ENOTSUPP */ && e != EOPNOTSUPP)
				return -e;
			break;	/* this map cannot batch (LPM tries) */
		}
		for (i = 0; i < cnt; i++)
			gone[done + i] = true;
		done += cnt + (e == ENOENT);	/* and the key that was not there */
	}
	for (; done < n; done++) {
		if (!bpf_map_delete_elem(fd, (char *)keys + done * ksz))
			gone[done] = true;
		else if (errno != ENOENT)
			return -errno;
	}
	return 0;
}

static bool map_empty(int fd)
{
	union { struct irc_lpm6 l6; struct irc_in6 v6; } any;

	return bpf_map_get_next_key(fd, NULL, &any) && errno == ENOENT;
}

/*
 * delete_batch() of @n keys of quarantine map @map, from both tiers of an
 * exact-host map (skipping a tier that is empty).  A host that racing
 * writers put in both tiers is deleted from both and counted once.
 */
static int delete_tiers(const struct irc_maps *m, int map, void *keys, size_t ksz, size_t n,
			size_t *released, size_t *absent)
{
	const struct irc_qfam *f = irc_qfam_of(map);
	int fds[2] = { f ? m->fd[f->front] : -1, m->fd[map] }, err = 0, t;
	bool *gone = calloc(n + 1, sizeof(*gone));
	size_t i, cnt = 0;

	if (!gone)
		return -ENOMEM;
	for (t = 0; t < 2 && !err; t++)
		if (fds[t] >= 0 && !map_empty(fds[t]))
			err = delete_batch(fds[t], keys, ksz, n, gone);
	for (i = 0; i < n; i++)
		cnt += gone[i];
	*released += cnt;
	*absent += n - cnt;
	free(gone);
	return err;
}

static size_t key_size(int map)
{
	const struct irc_qfam *f = irc_qfam_of(map);

	if (f)
		return f->ksz;
	return map == IRC_M_Q4_PFX ? sizeof(struct irc_lpm4) : sizeof(struct irc_lpm6);
}

static const int qmaps[] = { IRC_M_Q4_HOST, IRC_M_Q6_HOST, IRC_M_Q4_PFX, IRC_M_Q6_PFX };

/*
 * Quarantine map @map's part of list @l, each entry @proto with its own
 * prefix length.  Where an entry is, it is updated there (keeping its
 * creation time and count); the new ones are placed as irc_q_update()
 * places one (irc_q_place(): the front tier, then the big map), or added
 * to a prefix map.  One batch per map and kind.
 */
static int bulk_write_map(const struct irc_maps *m, int map, const struct bulk_list *l,
			  const struct irc_qentry *proto, size_t *added, size_t *updated,
			  size_t *applied)
{
	const struct irc_qfam *f = irc_qfam_of(map);
	size_t ksz = key_size(map), nu = 0, nb = l->n, nn = 0, done = 0, i;
	/*
	 * Updates: of the front tier from the start of ukeys, of @map from its
	 * end (nb up); new ones in nkeys, in the list's order.
	 */
	char *ukeys = malloc(l->n * ksz + 1), *nkeys = malloc(l->n * ksz + 1);
	struct irc_qentry *uvals = malloc(l->n * sizeof(*uvals) + 1);
	struct irc_qentry *nvals = malloc(l->n * sizeof(*nvals) + 1);
	__u64 now_real = irc_now_real_ns();
	/* Where to look: an empty tier is left out (a first import looks nowhere). */
	struct irc_maps where = *m;
	bool probe;
	int err = 0;

	if (!ukeys || !nkeys || !uvals || !nvals) {
		err = -ENOMEM;
		goto out;
	}
	if (f && where.fd[f->front] >= 0 && map_empty(where.fd[f->front]))
		where.fd[f->front] = -1;
	if (map_empty(where.fd[map]))
		where.fd[map] = -1;
	probe = where.fd[map] >= 0 || (f && where.fd[f->front] >= 0);
	for (i = 0; i < l->n; i++) {
		struct irc_key key;
		struct irc_qentry old, v = *proto;
		int in;

		irc_qkey(&l->e[i].c, &key);
		if (key.map != map)
			continue;
		in = probe ? irc_q_where(&where, &key, &old) : -ENOENT;
		v.plen = l->e[i].c.plen;
		v.created_ns = in >= 0 ? old.created_ns : now_real;
		v.drops = in >= 0 ? old.drops : 0;
		if (in < 0) {
			memcpy(nkeys + nn * ksz, &key.k, ksz);
			nvals[nn++] = v;
			(*added)++;
			continue;
		}
		(*updated)++;
		if (in == map) {
			memcpy(ukeys + --nb * ksz, &key.k, ksz);
			uvals[nb] = v;
		} else {
			memcpy(ukeys + nu * ksz, &key.k, ksz);
			uvals[nu++] = v;
		}
	}
	if (nu)
		err = irc_map_write(m->fd[f->front], ukeys, uvals, ksz, sizeof(*uvals), nu, BPF_ANY,
				    &done);
	*applied += done;
	done = 0;
	if (!err)
		err = irc_map_write(m->fd[map], ukeys + nb * ksz, uvals + nb, ksz, sizeof(*uvals),
				    l->n - nb, BPF_ANY, &done);
	*applied += done;
	done = 0;
	if (!err)
		err = f ? irc_q_place(m, f, nkeys, nvals, nn, BPF_ANY, &done) :
			  irc_map_write(m->fd[map], nkeys, nvals, ksz, sizeof(*nvals), nn, BPF_ANY,
					&done);
	*applied += done;
out:
	free(ukeys);
	free(nkeys);
	free(uvals);
	free(nvals);
	return err;
}

/* The normalised targets, for the record (and `load`). */
static json_t *list_json(const struct bulk_list *l)
{
	char t[IRC_CIDR_STRLEN];
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < l->n; i++) {
		irc_cidr_format(&l->e[i].c, t, sizeof(t));
		json_array_append_new(a, json_string(t));
	}
	return a;
}

/*
 * Both verbs' start: --from-file and --skip-bad out of argv, the verb's
 * own options, then the list read and checked whole.  *file is the list.
 */
static int bulk_args(int argc, char **argv, const char *what, unsigned int allowed,
		     const char *head, struct irc_qopts *o, struct bulk_list *l,
		     const char **file, bool *skip_bad)
{
	int ret;

	memset(l, 0, sizeof(*l));
	ret = take_opts(&argc, argv, what, file, skip_bad);
	if (!ret)
		ret = irc_qopts_parse(argc, argv, allowed | IRC_QO_NO_OPERAND, what, head, o);
	if (!ret)
		ret = list_read(what, *file, *skip_bad, l);
	return ret;
}

/* What a bulk quarantine or release did: built by the verb, then printed once. */
struct bulk_done {
	const char *file;		/* "-" for stdin */
	const struct bulk_list *l;
	const struct irc_qopts *o;
	bool failed;			/* a map write failed: nothing added or updated */
	size_t count;			/* applied, or released */
	size_t added, updated;		/* quarantine */
	size_t absent;			/* release: not quarantined */
};

static json_t *bulk_q_json(const struct bulk_done *d)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:o,s:s}",
		"action", "quarantine", "kind", "hosts", "source", d->file,
		"count", (json_int_t)d->count, "added", (json_int_t)(d->failed ? 0 : d->added),
		"updated", (json_int_t)(d->failed ? 0 : d->updated),
		"skipped", (json_int_t)d->l->bad, "sha256", d->l->sha,
		"direction", irc_dir_name(d->o->dir),
		"ttl", d->o->ttl ? json_integer(d->o->ttl) : json_null(), "reason", d->o->reason);
}

static void bulk_q_text(const struct bulk_done *d)
{
	printf("quarantined %zu target%s from %s (%zu added, %zu updated, %zu bad line%s skipped; direction %s, ttl %s; sha256 %s)\n",
	       d->count, d->count == 1 ? "" : "s", strcmp(d->file, "-") ? d->file : "stdin",
	       d->added, d->updated, d->l->bad, d->l->bad == 1 ? "" : "s",
	       irc_dir_name(d->o->dir), d->o->ttl_text, d->l->sha);
}

static json_t *bulk_r_json(const struct bulk_done *d)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}",
		"action", "release", "kind", "hosts", "source", d->file,
		"count", (json_int_t)d->count, "not_quarantined", (json_int_t)d->absent,
		"skipped", (json_int_t)d->l->bad, "sha256", d->l->sha);
}

static void bulk_r_text(const struct bulk_done *d)
{
	printf("released %zu target%s from %s (%zu not quarantined, %zu bad line%s skipped; sha256 %s)\n",
	       d->count, d->count == 1 ? "" : "s", strcmp(d->file, "-") ? d->file : "stdin",
	       d->absent, d->l->bad, d->l->bad == 1 ? "" : "s", d->l->sha);
}

static int bulk_quarantine(int argc, char **argv)
{
	const char *what = "quarantine host", *file;
	struct irc_qentry val = {};
	struct bulk_done d;
	struct bulk_list l;
	struct irc_qopts o;
	struct irc_maps m;
	size_t added = 0, updated = 0, applied = 0, k;
	char entity[IRC_ENTITY_LEN];
	bool skip_bad;
	int ret, err = 0;

	ret = bulk_args(argc, argv, what, IRC_QO_TTL | IRC_QO_REASON | IRC_QO_FORCE |
			IRC_QO_DIR | IRC_QO_INCIDENT,
			"--from-file FILE|- [--skip-bad]",
			&o, &l, &file, &skip_bad);
	if (ret)
		goto out_list;
	if (irc_maps_open(what, &m)) {
		ret = IRC_EXIT_FAIL;
		goto out_list;
	}
	if (irc_require_enforced(&m, what, IRC_ENF_NET)) {
		ret = IRC_EXIT_FAIL;
		goto out_maps;
	}
	if (list_refuse(what, &m, &l, o.force, skip_bad) && !skip_bad) {
		ret = irc_usage_err("%s: %zu refused line%s in %s: nothing applied", what,
				    l.bad, l.bad == 1 ? "" : "s", file);
		goto out_maps;
	}

	val.expires_ns = irc_qopts_expiry(&o);
	val.dir = o.dir;
	val.actor_uid = irc_actor_uid();
	val.origin = IRC_ORIGIN_OPERATOR;
	snprintf(val.reason, sizeof(val.reason), "%s", o.reason);
	/* Containment first: the maps, one batch per map, then the record. */
	for (k = 0; k < sizeof(qmaps) / sizeof(qmaps[0]) && !err; k++) {
		err = bulk_write_map(&m, qmaps[k], &l, &val, &added, &updated, &applied);
		if (IRC_ERR_FULL(err))
			irc_err("%s: the %s table is full after %zu of %zu entries; release entries first",
				what, irc_map_names[qmaps[k]], applied, l.n);
		else if (err)
			irc_err("%s: update map %s: %s", what, irc_map_names[qmaps[k]],
				strerror(-err));
	}
	if (err)
		ret = IRC_EXIT_FAIL;
	d = (struct bulk_done){ .file = file, .l = &l, .o = &o, .failed = err != 0,
				.count = applied, .added = added, .updated = updated };
	irc.json ? irc_json_print(bulk_q_json(&d)) : bulk_q_text(&d);
	irc_maps_close(&m);
	irc_entity_list(entity, sizeof(entity), l.sha);
	ret = irc_qrecord(ret, o.incident, "quarantine", entity, o.reason, err,
			  json_pack("{s:s,s:I,s:I,s:s,s:o,s:s,s:b,s:o}",
				    "source", file, "count", (json_int_t)applied,
				    "skipped", (json_int_t)l.bad, "sha256", l.sha,
				    "ttl", o.ttl ? json_integer(o.ttl) : json_null(),
				    "direction", irc_dir_name(o.dir), "force", o.force,
				    "targets", list_json(&l)));
	free(l.e);
	return ret;
out_maps:
	irc_maps_close(&m);
out_list:
	free(l.e);
	return ret;
}

static int bulk_release(int argc, char **argv)
{
	const char *what = "release host", *file;
	struct bulk_done d;
	struct bulk_list l;
	struct irc_qopts o;
	struct irc_maps m;
	size_t released = 0, absent = 0, i, k;
	char entity[IRC_ENTITY_LEN];
	bool skip_bad;
	int ret, err = 0;

	ret = bulk_args(argc, argv, what, IRC_QO_RELEASE,
			"--from-file FILE|- [--skip-bad]",
			&o, &l, &file, &skip_bad);
	if (ret) {
		free(l.e);
		return ret;
	}
	if (irc_maps_open(what, &m)) {
		free(l.e);
		return IRC_EXIT_FAIL;
	}
	for (k = 0; k < sizeof(qmaps) / sizeof(qmaps[0]) && !err; k++) {
		size_t ksz = key_size(qmaps[k]), n = 0;
		char *keys = malloc(l.n * ksz + 1);

		if (!keys) {
			err = -ENOMEM;
			break;
		}
		for (i = 0; i < l.n; i++) {
			struct irc_key key;

			irc_qkey(&l.e[i].c, &key);
			if (key.map == qmaps[k])
				memcpy(keys + n++ * ksz, &key.k, ksz);
		}
		err = delete_tiers(&m, qmaps[k], keys, ksz, n, &released, &absent);
		free(keys);
	}
	irc_maps_close(&m);
	if (err) {
		irc_err("%s: delete from the quarantine maps: %s", what, strerror(-err));
		ret = IRC_EXIT_FAIL;
	}
	d = (struct bulk_done){ .file = file, .l = &l, .o = &o, .count = released,
				.absent = absent };
	irc.json ? irc_json_print(bulk_r_json(&d)) : bulk_r_text(&d);
	irc_entity_list(entity, sizeof(entity), l.sha);
	ret = irc_qrecord(ret, o.incident, "release", entity, o.reason, err,
			  json_pack("{s:s,s:s,s:I,s:I,s:s,s:o}", "kind", "hosts",
				    "source", file, "count", (json_int_t)released,
				    "skipped", (json_int_t)l.bad, "sha256", l.sha,
				    "targets", list_json(&l)));
	free(l.e);
	return ret;
}

int irc_bulk_host(int argc, char **argv, bool release)
{
	return release ? bulk_release(argc, argv) : bulk_quarantine(argc, argv);
}
