// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bundle as a file: a tar.gz (libarchive) whose members sit under one
 * top directory, a manifest.json naming each member's size and SHA-256,
 * and manifest.sig, the hex Ed25519 signature of the manifest's exact
 * bytes (libsodium).
 *
 * Reading one back trusts nothing in it: only gzip and tar are read,
 * entries, sizes and uncompressed bytes are bounded before memory or time
 * is spent, names are checked before they are used (no absolute path, no
 * "..", no member twice; found by sorting, not by comparing every pair),
 * and every problem found is kept, so `verify` names all of them and not
 * only the first.  Files are checked against a manifest only when its
 * signature holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "export.h"
#include "irc.h"

#define MAX_PROBLEMS	1000
#define CHUNK		65536
#define MAX_SIG_FILE	4096

/* --- problems --------------------------------------------------------- */

/* @last: kept even past the bound, in the last slot: why reading stopped. */
static void vproblem(struct irc_bproblems *p, bool last, const char *fmt, va_list ap)
{
	char **nv, *s = NULL;

	if (p->n >= MAX_PROBLEMS && !last) {
		p->dropped++;
		return;
	}
	if (vasprintf(&s, fmt, ap) < 0) {
		p->dropped++;
		return;
	}
	if (p->n >= MAX_PROBLEMS) {
		free(p->v[p->n - 1]);
		p->v[p->n - 1] = s;
		p->dropped++;
		return;
	}
	nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		p->dropped++;
		return;
	}
	p->v = nv;
	p->v[p->n++] = s;
}

void irc_bproblem(struct irc_bproblems *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(p, false, fmt, ap);
	va_end(ap);
}

void irc_bproblems_free(struct irc_bproblems *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* --- names, hashes, signatures ------------------------------------------ */

bool irc_bundle_path_ok(const char *path)
{
	const char *c = path, *end;
	size_t n;

	if (!path || !*path || *path == '/' || strlen(path) >= 1024)
		return false;
	for (; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return false;
	for (c = path; ; c = end + 1) {
		end = strchr(c, '/');
		n = end ? (size_t)(end - c) : strlen(c);
		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!end)
			return true;
	}
}

static void hex32(const uint8_t in[32], char out[65])
{
	irc_hex(in, 32, out);
}

int irc_unhex32(const char *hex, uint8_t out[32])
{
	size_t bin_len = 0;

	if (!hex || strlen(hex) != 64 ||
	    sodium_hex2bin(out, 32, hex, 64, NULL, &bin_len, NULL) || bin_len != 32)
		return -EINVAL;
	return 0;
}

int irc_bundle_sign(const void *buf, size_t len, const uint8_t sk[64], char hex[129])
{
	uint8_t sig[crypto_sign_BYTES];

	if (sodium_init() < 0 || crypto_sign_detached(sig, NULL, buf, len, sk))
		return -EIO;
	irc_hex(sig, sizeof(sig), hex);
	return 0;
}

bool irc_bundle_sig_ok(const void *buf, size_t len, const char *hex, size_t hexlen,
		       const uint8_t pk[32])
{
	uint8_t sig[crypto_sign_BYTES];
	size_t bin_len = 0;

	while (hexlen && (hex[hexlen - 1] == '\n' || hex[hexlen - 1] == ' ' ||
			  hex[hexlen - 1] == '\r'))
		hexlen--;
	while (hexlen && (*hex == ' ' || *hex == '\n')) {
		hex++;
		hexlen--;
	}
	if (sodium_init() < 0 || hexlen != 2 * sizeof(sig) ||
	    sodium_hex2bin(sig, sizeof(sig), hex, hexlen, NULL, &bin_len, NULL) ||
	    bin_len != sizeof(sig))
		return false;
	return crypto_sign_verify_detached(sig, buf, len, pk) == 0;
}

/* --- the manifest's file list ------------------------------------------ */

json_t *irc_manifest_files(const struct irc_bmember *m, size_t n)
{
	json_t *a = json_array();
	char hex[65];
	size_t i;

	for (i = 0; a && i < n; i++) {
		hex32(m[i].sha256, hex);
		json_array_append_new(a, json_pack("{s:s,s:I,s:s}", "path", m[i].path,
						   "size", (json_int_t)m[i].size, "sha256", hex));
	}
	return a;
}

static bool is_manifest(const char *path)
{
	return !strcmp(path, IRC_BUNDLE_MANIFEST) || !strcmp(path, IRC_BUNDLE_SIG);
}

/* A name and where it was: sorted, duplicates sit side by side. */
struct nref {
	const char *path;
	size_t i;
};

static int nref_cmp(const void *a, const void *b)
{
	const struct nref *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int nref_path_cmp(const void *key, const void *elt)
{
	return strcmp(((const struct nref *)key)->path, ((const struct nref *)elt)->path);
}

enum { ENT_OK, ENT_BAD, ENT_UNSAFE, ENT_TWICE };

/*
 * Sorting, not comparing every pair: a crafted manifest of thousands of
 * entries must not cost millions of comparisons.
 */
void irc_bundle_check_files(const json_t *manifest, const struct irc_bmember *m,
			    size_t n, struct irc_bproblems *p)
{
	json_t *files = json_object_get(manifest, "files"), *e;
	struct nref *mref = NULL, *fref = NULL, key, *hit;
	uint8_t *state = NULL, want[32];
	size_t i, j, nf, nfref = 0;
	bool *seen = NULL;

	if (!json_is_array(files)) {
		irc_bproblem(p, "%s has no list of files", IRC_BUNDLE_MANIFEST);
		return;
	}
	nf = json_array_size(files);
	if (nf > IRC_BUNDLE_MAX_MEMBERS) {
		irc_bproblem(p, "%s: lists %zu files, more than %d: refused", IRC_BUNDLE_MANIFEST,
			     nf, IRC_BUNDLE_MAX_MEMBERS);
		return;
	}
	if (n > IRC_BUNDLE_MAX_MEMBERS) {
		irc_bproblem(p, "more than %d members: refused", IRC_BUNDLE_MAX_MEMBERS);
		return;
	}
	seen = calloc(n + 1, sizeof(*seen));
	mref = calloc(n + 1, sizeof(*mref));
	fref = calloc(nf + 1, sizeof(*fref));
	state = calloc(nf + 1, sizeof(*state));
	if (!seen || !mref || !fref || !state) {
		irc_bproblem(p, "out of memory checking the manifest");
		goto out;
	}
	for (j = 0; j < n; j++)
		mref[j] = (struct nref){ m[j].path, j };
	qsort(mref, n, sizeof(*mref), nref_cmp);

	/* Which entries are well formed; of those, which name a file twice. */
	json_array_foreach(files, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));

		if (!path || !json_is_integer(json_object_get(e, "size")) ||
		    irc_unhex32(json_string_value(json_object_get(e, "sha256")), want))
			state[i] = ENT_BAD;
		else if (!irc_bundle_path_ok(path) || is_manifest(path))
			state[i] = ENT_UNSAFE;
		else
			fref[nfref++] = (struct nref){ path, i };
	}
	qsort(fref, nfref, sizeof(*fref), nref_cmp);
	for (j = 1; j < nfref; j++)
		if (!strcmp(fref[j].path, fref[j - 1].path))
			state[fref[j].i] = ENT_TWICE;

	/* The problems in the manifest's order. */
	json_array_foreach(files, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		json_t *size = json_object_get(e, "size");

		if (state[i] == ENT_BAD) {
			irc_bproblem(p, "%s: file entry %zu is malformed", IRC_BUNDLE_MANIFEST, i);
			continue;
		}
		if (state[i] == ENT_UNSAFE) {
			irc_bproblem(p, "%s: lists a file it may not name: '%s'",
				     IRC_BUNDLE_MANIFEST, path);
			continue;
		}
		if (state[i] == ENT_TWICE) {
			irc_bproblem(p, "%s: lists %s twice", IRC_BUNDLE_MANIFEST, path);
			continue;
		}
		key.path = path;
		hit = n ? bsearch(&key, mref, n, sizeof(*mref), nref_path_cmp) : NULL;
		if (!hit) {
			irc_bproblem(p, "%s: missing (the manifest lists it)", path);
			continue;
		}
		j = hit->i;
		seen[j] = true;
		irc_unhex32(json_string_value(json_object_get(e, "sha256")), want);
		if (m[j].size != (uint64_t)json_integer_value(size))
			irc_bproblem(p, "%s: %llu bytes, the manifest says %lld (truncated or changed)",
				     path, (unsigned long long)m[j].size,
				     (long long)json_integer_value(size));
		if (sodium_memcmp(m[j].sha256, want, 32))
			irc_bproblem(p, "%s: SHA-256 differs from the manifest (changed after export)",
				     path);
	}
	for (j = 0; j < n; j++)
		if (!seen[j] && !is_manifest(m[j].path))
			irc_bproblem(p, "%s: extra file, not in the manifest (added after export)",
				     m[j].path);
out:
	free(seen);
	free(mref);
	free(fref);
	free(state);
}

/* --- writing --------------------------------------------------------- */

struct irc_bwriter {
	struct archive *a;
	char topdir[256];
	int64_t mtime;
	size_t n;		/* members written */
	uint64_t total;		/* their bytes */
	char err[512];
};

const char *irc_bwriter_error(const struct irc_bwriter *w)
{
	return w->err;
}

static int werr(struct irc_bwriter *w, const char *what, const char *path)
{
	snprintf(w->err, sizeof(w->err), "%s %s: %s", what, path,
		 archive_error_string(w->a) ?: strerror(archive_errno(w->a) ?: EIO));
	return archive_errno(w->a) > 0 ? -archive_errno(w->a) : -EIO;
}

int irc_bwriter_open(int fd, const char *topdir, int64_t mtime, struct irc_bwriter **wp,
		     char *err, size_t errlen)
{
	struct irc_bwriter *w = calloc(1, sizeof(*w));

	*wp = NULL;
	if (!w || !(w->a = archive_write_new())) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(w->topdir, sizeof(w->topdir), "%s", topdir);
	w->mtime = mtime;
	/* pax: long member names and exact sizes; gzip around it. */
	if (archive_write_add_filter_gzip(w->a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_open_fd(w->a, fd) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(w->a) ?: "libarchive failed");
		archive_write_free(w->a);
		free(w);
		return -EIO;
	}
	*wp = w;
	return 0;
}

static int header(struct irc_bwriter *w, const char *path, uint64_t size)
{
	struct archive_entry *e;
	char name[1400];
	int rc;

	/* A bundle verify would refuse is not written at all. */
	if (w->n >= IRC_BUNDLE_MAX_MEMBERS) {
		snprintf(w->err, sizeof(w->err), "%s: more than %d files, more than a bundle "
			 "may hold", path, IRC_BUNDLE_MAX_MEMBERS);
		return -EFBIG;
	}
	if (size > IRC_BUNDLE_MAX_TOTAL - w->total) {
		snprintf(w->err, sizeof(w->err), "%s: the files come to more than %llu MiB, "
			 "more than a bundle may hold", path,
			 (unsigned long long)(IRC_BUNDLE_MAX_TOTAL >> 20));
		return -EFBIG;
	}
	e = archive_entry_new();
	if (!e)
		return -ENOMEM;
	w->n++;
	w->total += size;
	snprintf(name, sizeof(name), "%s/%s", w->topdir, path);
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, w->mtime, 0);
	rc = archive_write_header(w->a, e);
	archive_entry_free(e);
	return rc == ARCHIVE_OK ? 0 : werr(w, "write header of", path);
}

static int member(struct irc_bmember *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	out->path = strdup(path);
	return out->path ? 0 : -ENOMEM;
}

int irc_bwriter_add_mem(struct irc_bwriter *w, const char *path, const void *buf,
			size_t len, struct irc_bmember *out)
{
	int err = member(out, path) ?: header(w, path, len);

	if (err)
		return err;
	if (len && archive_write_data(w->a, buf, len) != (la_ssize_t)len)
		return werr(w, "write", path);
	crypto_hash_sha256(out->sha256, buf, len);
	out->size = len;
	return 0;
}

int irc_bwriter_add_file(struct irc_bwriter *w, const char *path, FILE *f,
			 struct irc_bmember *out)
{
	crypto_hash_sha256_state h;
	uint64_t size, done = 0;
	char *buf;
	size_t n;
	off_t end;
	int err;

	if (fflush(f) || fseeko(f, 0, SEEK_END) || (end = ftello(f)) < 0 || fseeko(f, 0, SEEK_SET)) {
		err = errno ?: EIO;
		snprintf(w->err, sizeof(w->err), "read back %s: %s", path, strerror(err));
		return -err;
	}
	size = (uint64_t)end;
	if (size > IRC_BUNDLE_MAX_FILE) {
		snprintf(w->err, sizeof(w->err), "%s: %llu bytes, more than a bundle may hold "
			 "(%u MiB per file)", path, (unsigned long long)size,
			 IRC_BUNDLE_MAX_FILE >> 20);
		return -EFBIG;
	}
	err = member(out, path) ?: header(w, path, size);
	if (err)
		return err;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	crypto_hash_sha256_init(&h);
	while (done < size && (n = fread(buf, 1, CHUNK, f)) > 0) {
		crypto_hash_sha256_update(&h, (const uint8_t *)buf, n);
		if (archive_write_data(w->a, buf, n) != (la_ssize_t)n) {
			free(buf);
			return werr(w, "write", path);
		}
		done += n;
	}
	free(buf);
	if (done != size) {
		snprintf(w->err, sizeof(w->err), "read back %s: short read", path);
		return -EIO;
	}
	crypto_hash_sha256_final(&h, out->sha256);
	out->size = size;
	return 0;
}

int irc_bwriter_close(struct irc_bwriter *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (archive_write_close(w->a) != ARCHIVE_OK)
		err = werr(w, "finish", "archive");
	archive_write_free(w->a);
	free(w);
	return err;
}

/* --- reading and verifying ----------------------------------------------- */

struct reader {
	struct irc_bverify *v;
	struct irc_bmember *m;
	size_t n, cap;
	size_t entries;			/* every archive entry, whatever it is */
	uint64_t total;			/* uncompressed bytes the entries declare */
	char *manifest, *sig;
	size_t manifest_len, sig_len;
	bool have_manifest, have_sig;
	bool fatal;
};

/* A problem that stops the reading: always shown, even past the bound. */
static void stop(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void stop(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(&rd->v->problems, true, fmt, ap);
	va_end(ap);
	rd->fatal = true;
}

/* "./top/x" -> "top/x"; checks the name; splits off the top directory. */
static const char *member_rel(struct reader *rd, const char *name, bool dir)
{
	char buf[1100];
	const char *slash;
	size_t n;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	snprintf(buf, sizeof(buf), "%s", name);
	n = strlen(buf);
	if (dir && n && buf[n - 1] == '/')
		buf[n - 1] = '\0';
	if (!irc_bundle_path_ok(buf)) {
		irc_bproblem(&rd->v->problems, "unsafe member name '%s' (absolute, '..' or "
			     "malformed): refused", name);
		return NULL;
	}
	slash = strchr(name, '/');
	n = slash ? (size_t)(slash - name) : strlen(name);
	if (!rd->v->topdir[0] && n < sizeof(rd->v->topdir))
		snprintf(rd->v->topdir, sizeof(rd->v->topdir), "%.*s", (int)n, name);
	if (strlen(rd->v->topdir) != n || strncmp(rd->v->topdir, name, n)) {
		irc_bproblem(&rd->v->problems, "member '%s' is outside the bundle's top "
			     "directory %s/", name, rd->v->topdir);
		return NULL;
	}
	if (dir)
		return "";
	if (!slash || !slash[1]) {
		irc_bproblem(&rd->v->problems, "member '%s' is a file where the top directory "
			     "should be", name);
		return NULL;
	}
	return slash + 1;
}

/* Keeps up to @max bytes of a member in *@buf. */
static int keep(char **buf, size_t *len, const void *data, size_t n, size_t max)
{
	char *nb;

	size_t have = 64, need = *len + n + 1;

	if (*len + n > max)
		return -EFBIG;
	/*
	 * The buffer grows by doubling (its size is the power of two above
	 * what it holds), so a large member costs linear time, not a copy
	 * per chunk.
	 */
	while (have < *len + 1)
		have *= 2;
	nb = *buf;
	if (!nb || need > have) {
		while (have < need)
			have *= 2;
		nb = realloc(*buf, have);
	}
	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, data, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

static void read_member(struct reader *rd, struct archive *a, const char *rel)
{
	struct irc_bproblems *p = &rd->v->problems;
	bool is_man = !strcmp(rel, IRC_BUNDLE_MANIFEST), is_sig = !strcmp(rel, IRC_BUNDLE_SIG);
	crypto_hash_sha256_state h;
	struct irc_bmember *nm, *m;
	uint64_t total = 0;
	char *buf;
	la_ssize_t n;

	/* Other names held twice are found by sorting, once all are read. */
	if ((is_man && rd->have_manifest) || (is_sig && rd->have_sig)) {
		irc_bproblem(p, "%s: the archive holds it twice", rel);
		return;
	}
	rd->have_manifest |= is_man;
	rd->have_sig |= is_sig;
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? 2 * rd->cap : 16;

		nm = realloc(rd->m, cap * sizeof(*nm));
		if (!nm) {
			stop(rd, "out of memory reading %s", rel);
			return;
		}
		rd->m = nm;
		rd->cap = cap;
	}
	buf = malloc(CHUNK);
	m = &rd->m[rd->n];
	if (!buf || member(m, rel)) {
		free(buf);
		stop(rd, "out of memory reading %s", rel);
		return;
	}
	crypto_hash_sha256_init(&h);
	while ((n = archive_read_data(a, buf, CHUNK)) > 0) {
		crypto_hash_sha256_update(&h, (const uint8_t *)buf, (size_t)n);
		total += (uint64_t)n;
		if (total > IRC_BUNDLE_MAX_FILE) {
			irc_bproblem(p, "%s: larger than %u MiB: refused", rel,
				     IRC_BUNDLE_MAX_FILE >> 20);
			break;
		}
		if ((is_man && keep(&rd->manifest, &rd->manifest_len, buf, (size_t)n,
				    IRC_BUNDLE_MAX_MANIFEST)) ||
		    (is_sig && keep(&rd->sig, &rd->sig_len, buf, (size_t)n, MAX_SIG_FILE))) {
			irc_bproblem(p, "%s: too large: refused", rel);
			is_man = is_sig = false;
		}
	}
	free(buf);
	if (n < 0) {
		stop(rd, "unreadable archive (truncated or corrupt) in %s: %s", rel,
		     archive_error_string(a) ?: "read error");
	}
	crypto_hash_sha256_final(&h, m->sha256);
	m->size = total;
	rd->n++;
}

/* What a compressed file's first bytes say it is, or NULL. */
static const char *compression_of(const uint8_t *b, size_t n)
{
	static const struct { const char *name; const char *magic; size_t len; } kinds[] = {
		{ "gzip", "\x1f\x8b", 2 }, { "bzip2", "BZh", 3 },
		{ "xz", "\xfd" "7zXZ\0", 6 }, { "zstd", "\x28\xb5\x2f\xfd", 4 },
		{ "lzip", "LZIP", 4 }, { "lzop", "\x89LZO", 4 }, { "lz4", "\x04\x22\x4d\x18", 4 },
		{ "lrzip", "LRZI", 4 }, { "compress (.Z)", "\x1f\x9d", 2 },
		{ "lzma", "\x5d\0\0", 3 }, { "zip", "PK\x03\x04", 4 }, { "7-Zip", "7z\xbc\xaf", 4 },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (n >= kinds[i].len && !memcmp(b, kinds[i].magic, kinds[i].len))
			return kinds[i].name;
	if (n >= 262 && !memcmp(b + 257, "ustar", 5))
		return "none (a plain tar)";
	return NULL;
}

/*
 * Only gzip and tar: libarchive's other filters include external
 * programs (lrzip, lzop, grzip) and ratios that turn a small file into
 * hours of work.  The file's size bounds what gzip can hide in it.
 */
static struct archive *open_archive(struct reader *rd, int fd)
{
	struct irc_bproblems *p = &rd->v->problems;
	uint8_t head[512];
	const char *kind;
	struct archive *a;
	struct stat sb;
	ssize_t n;

	if (fstat(fd, &sb) || (n = pread(fd, head, sizeof(head), 0)) < 0) {
		irc_bproblem(p, "unreadable archive: %s", strerror(errno));
		return NULL;
	}
	if ((uint64_t)sb.st_size > IRC_BUNDLE_MAX_TOTAL) {
		irc_bproblem(p, "unreadable archive: %lld bytes, more than a bundle may hold "
			     "(%llu MiB): refused", (long long)sb.st_size,
			     (unsigned long long)(IRC_BUNDLE_MAX_TOTAL >> 20));
		return NULL;
	}
	kind = compression_of(head, (size_t)n);
	if (!kind || strcmp(kind, "gzip")) {
		irc_bproblem(p, "not a tar.gz: compression %s; a bundle is a gzip-compressed "
			     "tar and nothing else is read: refused", kind ?: "unknown");
		return NULL;
	}
	a = archive_read_new();
	if (!a) {
		irc_bproblem(p, "out of memory");
		return NULL;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, CHUNK) != ARCHIVE_OK) {
		irc_bproblem(p, "unreadable archive: %s", archive_error_string(a) ?: "open failed");
		archive_read_free(a);
		return NULL;
	}
	/* gzip, then the file itself: one more would be gzip inside gzip. */
	if (archive_filter_count(a) != 2 || archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		irc_bproblem(p, "not a tar.gz: %d layers of compression: refused",
			     archive_filter_count(a) - 1);
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static void read_archive(struct reader *rd, int fd)
{
	struct irc_bproblems *p = &rd->v->problems;
	struct archive_entry *e;
	struct archive *a;
	const char *name, *rel;
	la_int64_t size;
	int rc;

	a = open_archive(rd, fd);
	if (!a) {
		rd->fatal = true;
		return;
	}
	while (!rd->fatal) {
		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			stop(rd, "unreadable archive (truncated or corrupt): %s",
			     archive_error_string(a) ?: "bad header");
			break;
		}
		/*
		 * Every entry counts, read or refused: a refused one is still
		 * decompressed to skip it.
		 */
		if (++rd->entries > IRC_BUNDLE_MAX_MEMBERS) {
			stop(rd, "more than %d members: refused", IRC_BUNDLE_MAX_MEMBERS);
			break;
		}
		size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
		if (size < 0 || (uint64_t)size > IRC_BUNDLE_MAX_TOTAL - rd->total) {
			stop(rd, "more than %llu MiB uncompressed: refused",
			     (unsigned long long)(IRC_BUNDLE_MAX_TOTAL >> 20));
			break;
		}
		rd->total += (uint64_t)size;
		name = archive_entry_pathname(e);
		if (!name) {
			irc_bproblem(p, "a member without a name: refused");
			continue;
		}
		if (archive_entry_filetype(e) == AE_IFDIR) {
			member_rel(rd, name, true);
			continue;
		}
		rel = member_rel(rd, name, false);
		if (!rel)
			continue;
		if (archive_entry_filetype(e) != AE_IFREG) {
			irc_bproblem(p, "%s: not a regular file (link or device): refused", rel);
			continue;
		}
		if (size > (la_int64_t)IRC_BUNDLE_MAX_FILE) {
			irc_bproblem(p, "%s: %lld bytes, more than %u MiB: refused", rel,
				     (long long)size, IRC_BUNDLE_MAX_FILE >> 20);
			continue;
		}
		read_member(rd, a, rel);
	}
	archive_read_free(a);
}

static int bmember_cmp(const void *a, const void *b)
{
	return strcmp(((const struct irc_bmember *)a)->path,
		      ((const struct irc_bmember *)b)->path);
}

/* Sorted by name, each name once: a second copy is a problem, and dropped. */
static void drop_twice(struct reader *rd)
{
	bool twice = false;
	size_t i, o = 0;

	if (rd->n > 1)
		qsort(rd->m, rd->n, sizeof(*rd->m), bmember_cmp);
	for (i = 0; i < rd->n; i++) {
		if (o && !strcmp(rd->m[i].path, rd->m[o - 1].path)) {
			if (!twice)
				irc_bproblem(&rd->v->problems, "%s: the archive holds it twice",
					     rd->m[i].path);
			twice = true;
			free(rd->m[i].path);
			continue;
		}
		twice = false;
		rd->m[o++] = rd->m[i];
	}
	rd->n = o;
}

static void check_signature(struct reader *rd, const uint8_t *want_pk, const char *want_src)
{
	struct irc_bverify *v = rd->v;
	struct irc_bproblems *p = &v->problems;
	bool named_ok = false;
	const char *hex;
	uint8_t pk[32];
	char want_hex[65];

	if (!rd->manifest) {
		irc_bproblem(p, "%s: missing: nothing vouches for the bundle", IRC_BUNDLE_MANIFEST);
		return;
	}
	v->manifest = json_loadb(rd->manifest, rd->manifest_len, 0, NULL);
	if (!json_is_object(v->manifest)) {
		irc_bproblem(p, "%s: not a JSON object (corrupt)", IRC_BUNDLE_MANIFEST);
		json_decref(v->manifest);
		v->manifest = NULL;
	}
	hex = v->manifest ? irc_jstr(v->manifest, "signer.public_key") : NULL;
	if (hex && !irc_unhex32(hex, pk))
		snprintf(v->key_hex, sizeof(v->key_hex), "%s", hex);
	if (!rd->sig) {
		irc_bproblem(p, "%s: missing: the manifest is not signed", IRC_BUNDLE_SIG);
		return;
	}
	if (v->key_hex[0])
		named_ok = irc_bundle_sig_ok(rd->manifest, rd->manifest_len, rd->sig, rd->sig_len, pk);
	if (want_pk) {
		/* The key that counts is the one the verifier trusts, not the bundle's word. */
		hex32(want_pk, want_hex);
		v->trust = want_src;
		if (irc_bundle_sig_ok(rd->manifest, rd->manifest_len, rd->sig, rd->sig_len,
				      want_pk)) {
			v->sig_ok = v->trusted = true;
			snprintf(v->key_hex, sizeof(v->key_hex), "%s", want_hex);
			return;
		}
		v->sig_ok = named_ok;
		if (named_ok && strcmp(v->key_hex, want_hex))
			irc_bproblem(p, "%s: signed by another key: ed25519:%s, not by the expected "
				     "key ed25519:%s (%s)", IRC_BUNDLE_SIG, v->key_hex, want_hex, want_src);
		else
			irc_bproblem(p, "%s: bad signature: it does not sign %s under the expected key "
				     "ed25519:%.16s (%s): the manifest or the signature was changed",
				     IRC_BUNDLE_SIG, IRC_BUNDLE_MANIFEST, want_hex, want_src);
		return;
	}
	/* Intact at best: whoever made the bundle chose this key. */
	v->trust = "the key named in the manifest (not trusted)";
	v->sig_ok = named_ok;
	if (!v->key_hex[0])
		irc_bproblem(p, "%s: names no valid signer public key", IRC_BUNDLE_MANIFEST);
	else if (!named_ok)
		irc_bproblem(p, "%s: bad signature: it does not sign %s under the key it names "
			     "(ed25519:%.16s): the manifest or the signature was changed",
			     IRC_BUNDLE_SIG, IRC_BUNDLE_MANIFEST, v->key_hex);
}

int irc_bundle_verify(const char *path, const uint8_t *want_pk, const char *want_src,
		      struct irc_bverify *v)
{
	struct reader rd = { .v = v };
	size_t i;
	int fd;

	memset(v, 0, sizeof(*v));
	if (sodium_init() < 0)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	read_archive(&rd, fd);
	close(fd);
	drop_twice(&rd);
	if (rd.n || rd.manifest)
		check_signature(&rd, want_pk, want_src);
	else if (!rd.fatal)
		irc_bproblem(&v->problems, "the archive holds no bundle (no files)");
	if (v->manifest) {
		json_int_t id = irc_jint(v->manifest, "incident.id", -1);
		char want[256];

		snprintf(want, sizeof(want), IRC_BUNDLE_TOPDIR "%lld", (long long)id);
		if (v->topdir[0] && strcmp(v->topdir, want))
			irc_bproblem(&v->problems, "top directory %s/ does not match the manifest's "
				     "incident (%s/)", v->topdir, want);
		/* A manifest nothing vouches for says nothing worth checking. */
		if (v->sig_ok)
			irc_bundle_check_files(v->manifest, rd.m, rd.n, &v->problems);
	}
	v->files = rd.n;
	for (i = 0; i < rd.n; i++)
		free(rd.m[i].path);
	free(rd.m);
	free(rd.manifest);
	free(rd.sig);
	return 0;
}

void irc_bverify_free(struct irc_bverify *v)
{
	json_decref(v->manifest);
	irc_bproblems_free(&v->problems);
	memset(v, 0, sizeof(*v));
}
