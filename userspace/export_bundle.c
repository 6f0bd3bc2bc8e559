// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bundle as a file: a tar.gz (libarchive) whose members sit under one
 * top directory, a manifest.json naming each member's size and SHA-256,
 * and manifest.sig, the hex Ed25519 signature of the manifest's exact
 * bytes (libsodium).
 *
 * Reading one back trusts nothing in it: sizes are bounded before memory
 * is spent, names are checked before they are used (no absolute path, no
 * "..", no member twice), and every problem found is kept, so `verify`
 * names all of them and not only the first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "export.h"
#include "irc.h"

#define MAX_PROBLEMS	1000
#define CHUNK		65536
#define MAX_SIG_FILE	4096

/* --- problems --------------------------------------------------------- */

void irc_bproblem(struct irc_bproblems *p, const char *fmt, ...)
{
	char **nv, *s = NULL;
	va_list ap;
	int n;

	if (p->n >= MAX_PROBLEMS) {
		p->dropped++;
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	nv = n >= 0 ? realloc(p->v, (p->n + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(n >= 0 ? s : NULL);
		p->dropped++;
		return;
	}
	p->v = nv;
	p->v[p->n++] = s;
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

void irc_bundle_check_files(const json_t *manifest, const struct irc_bmember *m,
			    size_t n, struct irc_bproblems *p)
{
	json_t *files = json_object_get(manifest, "files"), *e, *e2;
	bool *seen = calloc(n + 1, sizeof(*seen));
	uint8_t want[32];
	size_t i, j, k;

	if (!seen) {
		irc_bproblem(p, "out of memory checking the manifest");
		return;
	}
	if (!json_is_array(files)) {
		irc_bproblem(p, "%s has no list of files", IRC_BUNDLE_MANIFEST);
		free(seen);
		return;
	}
	json_array_foreach(files, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		json_t *size = json_object_get(e, "size");

		if (!path || !json_is_integer(size) ||
		    irc_unhex32(json_string_value(json_object_get(e, "sha256")), want)) {
			irc_bproblem(p, "%s: file entry %zu is malformed", IRC_BUNDLE_MANIFEST, i);
			continue;
		}
		if (!irc_bundle_path_ok(path) || is_manifest(path)) {
			irc_bproblem(p, "%s: lists a file it may not name: '%s'",
				     IRC_BUNDLE_MANIFEST, path);
			continue;
		}
		json_array_foreach(files, k, e2) {
			if (k >= i)
				break;
			if (!strcmp(json_string_value(json_object_get(e2, "path")) ?: "", path))
				break;
		}
		if (k < i) {
			irc_bproblem(p, "%s: lists %s twice", IRC_BUNDLE_MANIFEST, path);
			continue;
		}
		for (j = 0; j < n; j++)
			if (!strcmp(m[j].path, path))
				break;
		if (j == n) {
			irc_bproblem(p, "%s: missing (the manifest lists it)", path);
			continue;
		}
		seen[j] = true;
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
	free(seen);
}

/* --- writing --------------------------------------------------------- */

struct irc_bwriter {
	struct archive *a;
	char topdir[256];
	int64_t mtime;
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
	struct archive_entry *e = archive_entry_new();
	char name[1400];
	int rc;

	if (!e)
		return -ENOMEM;
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
	size_t n;
	char *manifest, *sig;
	size_t manifest_len, sig_len;
	bool fatal;
};

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

	if (*len + n > max)
		return -EFBIG;
	nb = realloc(*buf, *len + n + 1);
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
	size_t i;

	for (i = 0; i < rd->n; i++)
		if (!strcmp(rd->m[i].path, rel)) {
			irc_bproblem(p, "%s: the archive holds it twice", rel);
			return;
		}
	if (rd->n >= IRC_BUNDLE_MAX_MEMBERS) {
		irc_bproblem(p, "more than %d members: refused", IRC_BUNDLE_MAX_MEMBERS);
		rd->fatal = true;
		return;
	}
	nm = realloc(rd->m, (rd->n + 1) * sizeof(*nm));
	buf = malloc(CHUNK);
	if (!nm || !buf) {
		free(buf);
		if (nm)
			rd->m = nm;
		irc_bproblem(p, "out of memory reading %s", rel);
		rd->fatal = true;
		return;
	}
	rd->m = nm;
	m = &nm[rd->n];
	if (member(m, rel)) {
		free(buf);
		rd->fatal = true;
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
		irc_bproblem(p, "unreadable archive (truncated or corrupt) in %s: %s", rel,
			     archive_error_string(a) ?: "read error");
		rd->fatal = true;
	}
	crypto_hash_sha256_final(&h, m->sha256);
	m->size = total;
	rd->n++;
}

static void read_archive(struct reader *rd, const char *path)
{
	struct irc_bproblems *p = &rd->v->problems;
	struct archive_entry *e;
	struct archive *a;
	const char *name, *rel;
	int rc;

	a = archive_read_new();
	if (!a) {
		irc_bproblem(p, "out of memory");
		rd->fatal = true;
		return;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, CHUNK) != ARCHIVE_OK) {
		irc_bproblem(p, "unreadable archive: %s", archive_error_string(a) ?: "open failed");
		rd->fatal = true;
		archive_read_free(a);
		return;
	}
	while (!rd->fatal) {
		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			irc_bproblem(p, "unreadable archive (truncated or corrupt): %s",
				     archive_error_string(a) ?: "bad header");
			rd->fatal = true;
			break;
		}
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
		if (archive_entry_size_is_set(e) &&
		    archive_entry_size(e) > (la_int64_t)IRC_BUNDLE_MAX_FILE) {
			irc_bproblem(p, "%s: %lld bytes, more than %u MiB: refused", rel,
				     (long long)archive_entry_size(e), IRC_BUNDLE_MAX_FILE >> 20);
			continue;
		}
		read_member(rd, a, rel);
	}
	archive_read_free(a);
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
		if (irc_bundle_sig_ok(rd->manifest, rd->manifest_len, rd->sig, rd->sig_len, want_pk))
			return;
		if (named_ok && strcmp(v->key_hex, want_hex))
			irc_bproblem(p, "%s: signed by another key: ed25519:%s, not by the expected "
				     "key ed25519:%s (%s)", IRC_BUNDLE_SIG, v->key_hex, want_hex, want_src);
		else
			irc_bproblem(p, "%s: bad signature: it does not sign %s under the expected key "
				     "ed25519:%.16s (%s): the manifest or the signature was changed",
				     IRC_BUNDLE_SIG, IRC_BUNDLE_MANIFEST, want_hex, want_src);
		return;
	}
	v->trust = "the key named in the manifest";
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

	memset(v, 0, sizeof(*v));
	if (sodium_init() < 0)
		return -EIO;
	read_archive(&rd, path);
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
