// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host keys (the chain's HMAC key, the bundles' signing key), created
 * once and checked on every read, and file hashing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "irc.h"
#include "owned.h"
#include "store.h"
#include "store_int.h"

void irc_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int irc_sha256_file(const char *path, char hex[65], long long *size)
{
	uint8_t buf[65536], h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	long long total = 0;
	ssize_t n;
	int fd, err = 0;

	if (sodium_init() < 0)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&st, buf, n);
		total += n;
	}
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	crypto_hash_sha256_final(&st, h);
	irc_hex(h, sizeof(h), hex);
	if (size)
		*size = total;
	return 0;
}

json_t *irc_sha256_json(const char *path)
{
	char hex[65];

	return irc_sha256_file(path, hex, NULL) ? json_null() : json_string(hex);
}

/* --- host keys ----------------------------------------------------- */

/* Reads exactly @len bytes of the key file @path; -ENOENT if absent. */
static int key_read(const char *path, uint8_t *key, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT :
			irc_st_fail(-errno, "open key %s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		err = irc_st_fail(-errno, "stat key %s: %s", path, strerror(errno));
	else if (irc_owned_stat(&st, path, "key", true, irc_st_errmsg, sizeof(irc_st_errmsg)))
		err = -EPERM;
	else if ((n = read(fd, key, len)) != (ssize_t)len || st.st_size != (off_t)len)
		err = irc_st_fail(-EBADMSG, "key %s: expected %zu bytes, found %lld", path, len,
			   (long long)st.st_size);
	close(fd);
	return err;
}

/*
 * Creates @path holding @len bytes atomically: written to a private
 * temporary file, fsync'd, then linked into place, so two first users
 * never see half a key and agree on whichever was linked first.
 */
static int key_create(const char *path, const uint8_t *key, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, getpid()) >= (int)sizeof(tmp))
		return irc_st_fail(-ENAMETOOLONG, "key path %s too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return irc_st_fail(-errno, "create key %s: %s", tmp, strerror(errno));
	if (write(fd, key, len) != (ssize_t)len || fsync(fd))
		err = irc_st_fail(-errno ?: -EIO, "write key %s: %s", tmp, strerror(errno ?: EIO));
	close(fd);
	if (!err && link(tmp, path) && errno != EEXIST)
		err = irc_st_fail(-errno, "create key %s: %s", path, strerror(errno));
	unlink(tmp);
	return err;
}

int irc_st_key_load(const char *dir, const char *name, uint8_t *key, size_t len,
		    bool create, void (*gen)(uint8_t *key))
{
	char path[PATH_MAX];
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return irc_st_fail(-ENAMETOOLONG, "key path %s/%s too long", dir, name);
	err = key_read(path, key, len);
	if (err != -ENOENT)
		return err;
	if (!create)
		return irc_st_fail(-ENOENT, "key %s does not exist", path);
	gen(key);
	err = key_create(path, key, len);
	return err ?: key_read(path, key, len);
}

void irc_st_gen_hmac_key(uint8_t *key)
{
	crypto_auth_hmacsha256_keygen(key);
}

static void gen_sign_key(uint8_t *sk)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	crypto_sign_keypair(pk, sk);
}

int irc_store_sign_keys(const char *state_dir, bool create, uint8_t pk[32], uint8_t sk[64])
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], hex[65];
	bool ok;
	FILE *f;
	int err;

	if (sodium_init() < 0)
		return irc_st_fail(-EIO, "libsodium failed to initialise");
	if (mkdir(state_dir, 0700) && errno != EEXIST)
		return irc_st_fail(-errno, "create state dir %s: %s", state_dir, strerror(errno));
	err = irc_st_key_load(state_dir, IRC_STORE_SIGN_KEY, sk, crypto_sign_SECRETKEYBYTES,
		       create, gen_sign_key);
	if (err == -ENOENT)
		return irc_st_fail(-ENOENT, "%s/%s is missing: bundles would be signed by a new key that "
			    "nobody trusts yet; restore it, or give --new-key to create one",
			    state_dir, IRC_STORE_SIGN_KEY);
	if (err)
		return err;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	/*
	 * The public half, for handing to whoever will verify bundles: kept
	 * equal to the key (rewritten whole, by rename, when it is not).
	 */
	irc_hex(pk, 32, hex);
	snprintf(path, sizeof(path), "%s/%s", state_dir, IRC_STORE_SIGN_PUB);
	f = fopen(path, "re");
	if (f) {
		char cur[80] = "";

		if (!fgets(cur, sizeof(cur), f))
			cur[0] = '\0';
		fclose(f);
		cur[strcspn(cur, "\n")] = '\0';
		if (!strcmp(cur, hex))
			return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d", path, getpid());
	f = fopen(tmp, "we");
	if (!f)
		return irc_st_fail(-errno, "write %s: %s", tmp, strerror(errno));
	ok = fprintf(f, "%s\n", hex) > 0;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		err = irc_st_fail(-EIO, "write %s: %s", path, strerror(errno ?: EIO));
		unlink(tmp);
		return err;
	}
	return 0;
}
