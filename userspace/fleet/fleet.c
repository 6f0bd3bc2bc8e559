// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fleet entries, their signatures, the trust list and the global options.
 * See fleet.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "fleet.h"
#include "irc.h"
#include "owned.h"
#include "store.h"

struct irc_fleet_opts irc_fleet;

/* ---- global options --------------------------------------------------- */

int irc_fleet_name_ok(const char *s, const char **why)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	if (!*s || s[n] || n > IRC_FLEET_NAME_MAX || s[0] == '.' || !strcmp(s, IRC_FLEET_ALL)) {
		*why = "1 to 63 of A-Z a-z 0-9 . _ -, not starting with a dot";
		return -EINVAL;
	}
	return 0;
}

int irc_fleet_check_globals(void)
{
	static char prefix[IRC_FLEET_PREFIX_MAX + 2], host[IRC_FLEET_NAME_MAX + 2];
	const char *why, *p;
	int i;

	if (!irc_fleet.urls)
		irc_fleet.urls = getenv("IRCONTAIN_FLEET");
	p = irc_fleet.prefix ?: IRC_FLEET_PREFIX;
	if (p[0] != '/' || strlen(p) > IRC_FLEET_PREFIX_MAX ||
	    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") != strlen(p))
		return irc_usage_err("bad --fleet-prefix '%s': an etcd key prefix that starts with / "
				     "(A-Z a-z 0-9 . _ - /, at most %d characters)",
				     irc_shown(p), IRC_FLEET_PREFIX_MAX);
	snprintf(prefix, sizeof(prefix), "%s%s", p, p[strlen(p) - 1] == '/' ? "" : "/");
	irc_fleet.prefix = prefix;
	if (!irc_fleet.name) {
		if (gethostname(host, sizeof(host) - 1))
			snprintf(host, sizeof(host), "localhost");
		host[strcspn(host, ".")] = '\0';
		irc_fleet.name = host;
	}
	if (irc_fleet_name_ok(irc_fleet.name, &why))
		return irc_usage_err("bad --fleet-name '%s': %s", irc_shown(irc_fleet.name), why);
	for (i = 0; i < irc_fleet.ngroups; i++)
		if (irc_fleet_name_ok(irc_fleet.groups[i], &why))
			return irc_usage_err("bad --fleet-group '%s': %s",
					     irc_shown(irc_fleet.groups[i]), why);
	if (irc_fleet.urls) {
		struct irc_etcd_cfg c = {};
		int err = irc_etcd_parse_urls(irc_fleet.urls, &c, &why);

		irc_fleet_cfg_free(&c);
		if (err)
			return irc_usage_err("bad --fleet '%s': %s", irc_shown(irc_fleet.urls), why);
	}
	if (!!irc_fleet.cert != !!irc_fleet.key)
		return irc_usage_err("bad --fleet-%s: --fleet-cert and --fleet-key go together",
				     irc_fleet.cert ? "cert" : "key");
	return 0;
}

int irc_fleet_cfg(const char *what, struct irc_etcd_cfg *cfg)
{
	const char *why;

	memset(cfg, 0, sizeof(*cfg));
	if (!irc_fleet.urls)
		return irc_usage_err("%s: no etcd endpoint: give --fleet URL[,URL...] or set IRCONTAIN_FLEET",
				     what);
	if (irc_etcd_parse_urls(irc_fleet.urls, cfg, &why)) {
		irc_fleet_cfg_free(cfg);
		return irc_usage_err("bad --fleet '%s': %s", irc_shown(irc_fleet.urls), why);
	}
	cfg->cert = irc_fleet.cert;
	cfg->key = irc_fleet.key;
	cfg->ca = irc_fleet.ca;
	return 0;
}

void irc_fleet_cfg_free(struct irc_etcd_cfg *cfg)
{
	while (cfg->nurls > 0)
		free(cfg->urls[--cfg->nurls]);
}

/* ---- entries -------------------------------------------------------------- */

int irc_fentry_key(const char *prefix, const struct irc_fentry *f, char *buf, size_t len)
{
	char t[IRC_CIDR_STRLEN];
	int n;

	if (f->kind == IRC_FK_ISOLATE || f->kind == IRC_FK_POLICY) {
		snprintf(t, sizeof(t), "%s", f->kind == IRC_FK_ISOLATE ? IRC_FLEET_ISOLATION :
			 IRC_FLEET_POLICY);
	} else {
		irc_cidr_format(&f->target, t, sizeof(t));
		/* A '/' in the key would read as another level: 10.0.0.0/8 is 10.0.0.0_8. */
		t[strcspn(t, "/")] = irc_cidr_is_host(&f->target) ? '\0' : '_';
	}
	n = snprintf(buf, len, "%s" IRC_FLEET_Q "%s/%s%s", prefix,
		     f->group[0] ? f->group : IRC_FLEET_ALL, f->kind == IRC_FK_ALLOW ? IRC_FLEET_ALLOW : "",
		     t);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* By kind and op. */
static const char *const op_names[][2] = {
	[IRC_FK_HOST] = { "quarantine", "release" },
	[IRC_FK_ISOLATE] = { "on", "off" },
	[IRC_FK_ALLOW] = { "add", "del" },
	[IRC_FK_POLICY] = { "apply", "" },	/* a policy is replaced, never taken back */
};

static const char *const kind_names[] = {
	[IRC_FK_HOST] = "host", [IRC_FK_ISOLATE] = "isolate", [IRC_FK_ALLOW] = "allow",
	[IRC_FK_POLICY] = "policy",
};

void irc_fentry_clear(struct irc_fentry *f)
{
	free(f->policy);
	f->policy = NULL;
}

const char *irc_fentry_op_name(const struct irc_fentry *f)
{
	return op_names[f->kind][f->op == IRC_FOP_RELEASE];
}

const char *irc_fentry_kind_name(const struct irc_fentry *f)
{
	return kind_names[f->kind];
}

/* The fields of @f's kind, into its payload. */
static json_t *kind_json(const struct irc_fentry *f)
{
	char t[IRC_CIDR_STRLEN];
	json_t *allow;
	int i;

	if (f->kind == IRC_FK_POLICY)
		return json_pack("{s:s}", "policy", f->policy ?: "");
	if (f->kind != IRC_FK_ISOLATE) {
		irc_cidr_format(&f->target, t, sizeof(t));
		if (f->kind == IRC_FK_ALLOW)
			return json_pack("{s:s}", "target", t);
		return json_pack("{s:s,s:s}", "target", t, "direction", irc_dir_name(f->dir));
	}
	allow = json_array();
	for (i = 0; i < f->nallow; i++) {
		irc_cidr_format(&f->allow[i], t, sizeof(t));
		json_array_append_new(allow, json_string(t));
	}
	return json_pack("{s:o,s:b,s:b}", "allow", allow,
			 "allow_dns", !!(f->iso_flags & IRC_CFG_ISO_DNS),
			 "allow_dhcp", !!(f->iso_flags & IRC_CFG_ISO_DHCP));
}

/* What the signature covers: the context, the key, the payload. */
static int sig_msg(const char *key, const char *payload, char **out, size_t *n)
{
	if (asprintf(out, IRC_FLEET_SIG_CTX "%s\n%s", key, payload) < 0)
		return -ENOMEM;
	*n = strlen(*out);
	return 0;
}

char *irc_fentry_sign(const struct irc_fentry *f, const char *key, const uint8_t sk[64])
{
	uint8_t sig[crypto_sign_BYTES], pk[32];
	char sighex[2 * crypto_sign_BYTES + 1], pkhex[65];
	char *payload, *msg = NULL, *out = NULL;
	json_t *p, *v;
	size_t n;

	p = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}",
		      "op", irc_fentry_op_name(f), "kind", irc_fentry_kind_name(f),
		      "group", f->group, "created", (json_int_t)f->created_ms,
		      "expires", (json_int_t)f->expires_s, "reason", f->reason, "by", f->by);
	v = kind_json(f);
	if (!v || json_object_update(p, v)) {
		json_decref(p);
		p = NULL;
	}
	json_decref(v);
	payload = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	if (!payload || sodium_init() < 0 || sig_msg(key, payload, &msg, &n)) {
		free(payload);
		return NULL;
	}
	crypto_sign_detached(sig, NULL, (const uint8_t *)msg, n, sk);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	irc_hex(sig, sizeof(sig), sighex);
	irc_hex(pk, sizeof(pk), pkhex);
	v = json_pack("{s:s,s:s,s:s}", "payload", payload, "signer", pkhex, "sig", sighex);
	if (v)
		out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	free(msg);
	free(payload);
	return out;
}

int irc_hex_key(const char *s, uint8_t out[32])
{
	size_t n;

	if (!s || strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64 ||
	    sodium_hex2bin(out, 32, s, 64, NULL, &n, NULL) || n != 32)
		return -EINVAL;
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* An isolation's fields (allow, allow_dns, allow_dhcp) into @f; -EBADMSG with *why. */
static int isolate_parse(json_t *p, struct irc_fentry *f, const char **why)
{
	json_t *allow = json_object_get(p, "allow"), *dns = json_object_get(p, "allow_dns"),
	       *dhcp = json_object_get(p, "allow_dhcp"), *v;
	size_t i;

	if (!json_is_array(allow) || !json_is_boolean(dns) || !json_is_boolean(dhcp) ||
	    json_array_size(allow) > IRC_FLEET_MAX_ALLOW) {
		*why = "an isolation needs allow (at most 16 CIDRs), allow_dns and allow_dhcp";
		return -EBADMSG;
	}
	json_array_foreach(allow, i, v)
		if (irc_parse_target(json_string_value(v) ?: "", false, &f->allow[f->nallow++], why))
			return -EBADMSG;
	f->iso_flags = (json_is_true(dns) ? IRC_CFG_ISO_DNS : 0) |
		       (json_is_true(dhcp) ? IRC_CFG_ISO_DHCP : 0);
	return 0;
}

/* The payload's fields into @f; -EBADMSG with *why. */
static int payload_parse(const char *text, struct irc_fentry *f, const char **why)
{
	json_t *p = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *c, *x;
	const char *op, *kind, *g, *r, *by;
	int err = -EBADMSG;

	*why = "the payload is not a JSON object with op, kind, group, created, expires, "
	       "reason, by and the fields of its kind";
	if (!json_is_object(p))
		goto out;
	op = jstr(p, "op");
	kind = jstr(p, "kind");
	g = jstr(p, "group");
	r = jstr(p, "reason");
	by = jstr(p, "by");
	c = json_object_get(p, "created");
	x = json_object_get(p, "expires");
	if (!op || !kind || !g || !r || !by || !json_is_integer(c) || !json_is_integer(x))
		goto out;
	if (!strcmp(kind, "host")) {
		const char *t = jstr(p, "target"), *d = jstr(p, "direction");

		f->kind = IRC_FK_HOST;
		if (!t || !d || irc_parse_target(t, false, &f->target, why) ||
		    irc_parse_direction(d, &f->dir, why))
			goto out;
	} else if (!strcmp(kind, "allow")) {
		const char *t = jstr(p, "target");

		f->kind = IRC_FK_ALLOW;
		if (!t || irc_parse_target(t, false, &f->target, why))
			goto out;
	} else if (!strcmp(kind, "policy")) {
		const char *y = jstr(p, "policy");

		f->kind = IRC_FK_POLICY;
		if (!y || strlen(y) > IRC_FLEET_MAX_POLICY || !(f->policy = strdup(y)))
			goto out;
	} else if (!strcmp(kind, "isolate")) {
		f->kind = IRC_FK_ISOLATE;
		if (isolate_parse(p, f, why))
			goto out;
	} else {
		*why = "unknown kind";
		goto out;
	}
	if (!strcmp(op, op_names[f->kind][0]))
		f->op = IRC_FOP_QUARANTINE;
	else if (op_names[f->kind][1][0] && !strcmp(op, op_names[f->kind][1]))
		f->op = IRC_FOP_RELEASE;
	else {
		*why = "unknown op";
		goto out;
	}
	if (irc_parse_reason(r, why) || irc_parse_text(by, sizeof(f->by) - 1, why))
		goto out;
	if (*g && irc_fleet_name_ok(g, why))
		goto out;
	if (json_integer_value(c) <= 0 || json_integer_value(x) < 0) {
		*why = "created or expires out of range";
		goto out;
	}
	snprintf(f->group, sizeof(f->group), "%s", g);
	snprintf(f->reason, sizeof(f->reason), "%s", r);
	snprintf(f->by, sizeof(f->by), "%s", by);
	f->created_ms = json_integer_value(c);
	f->expires_s = json_integer_value(x);
	err = 0;
out:
	if (err)
		irc_fentry_clear(f);
	json_decref(p);
	return err;
}

int irc_fentry_verify(const char *prefix, const char *key, const uint8_t *val, size_t len,
		      const uint8_t (*trusted)[32], size_t ntrusted,
		      struct irc_fentry *f, const char **why)
{
	json_t *v = len <= IRC_FLEET_MAX_VALUE ? json_loadb((const char *)val, len, 0, NULL) : NULL;
	const char *payload, *signer, *sighex;
	uint8_t pk[32], sig[crypto_sign_BYTES];
	char want[512], *msg = NULL;
	size_t n, i;
	int err = -EBADMSG;

	memset(f, 0, sizeof(*f));
	*why = "not a signed ircontain entry ({\"payload\", \"signer\", \"sig\"})";
	payload = jstr(v, "payload");
	signer = jstr(v, "signer");
	sighex = jstr(v, "sig");
	if (!payload || !signer || !sighex || irc_hex_key(signer, pk) ||
	    strlen(sighex) != 2 * crypto_sign_BYTES ||
	    sodium_hex2bin(sig, sizeof(sig), sighex, strlen(sighex), NULL, &n, NULL) ||
	    n != sizeof(sig))
		goto out;
	snprintf(f->signer, sizeof(f->signer), "%s", signer);
	if (sodium_init() < 0 || sig_msg(key, payload, &msg, &n)) {
		err = -ENOMEM;
		*why = "out of memory";
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const uint8_t *)msg, n, pk)) {
		const char *ignored;

		err = -EKEYREJECTED;
		*why = "the signature does not match the entry (forged or altered)";
		/* A genuine entry copied from the key it was signed for: say so. */
		free(msg);
		msg = NULL;
		if (!payload_parse(payload, f, &ignored) &&
		    !irc_fentry_key(prefix, f, want, sizeof(want)) && strcmp(want, key) &&
		    !sig_msg(want, payload, &msg, &n) &&
		    !crypto_sign_verify_detached(sig, (const uint8_t *)msg, n, pk)) {
			err = -EXDEV;
			*why = "signed for another key than the one it is stored at";
		}
		goto out;
	}
	for (i = 0; trusted && i < ntrusted; i++)
		if (!sodium_memcmp(trusted[i], pk, 32))
			break;
	if (trusted && i == ntrusted) {
		err = -ENOKEY;
		*why = "signed by a key this host does not trust (fleet trust add)";
		goto out;
	}
	err = payload_parse(payload, f, why);
	if (err)
		goto out;
	/* Signed for another key and copied here: refused. */
	if (irc_fentry_key(prefix, f, want, sizeof(want)) || strcmp(want, key)) {
		err = -EXDEV;
		*why = "signed for another key than the one it is stored at";
	}
out:
	if (err)
		irc_fentry_clear(f);
	free(msg);
	json_decref(v);
	return err;
}

bool irc_fentry_for_me(const struct irc_fentry *f, const char *const *groups, int n)
{
	int i;

	if (!f->group[0])
		return true;
	for (i = 0; i < n; i++)
		if (!strcmp(groups[i], f->group))
			return true;
	return false;
}

/* ---- trust list -------------------------------------------------------- */

int irc_trust_load(const char *state_dir, uint8_t (*keys)[32], size_t *n)
{
	char path[4096], line[256], msg[256];
	struct stat st;
	FILE *f;
	int fd, err = 0;

	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", state_dir, IRC_FLEET_TRUST);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Whoever could write this file could make this host obey them. */
	if (fstat(fd, &st) || irc_owned_stat(&st, path, "trust list", false, msg, sizeof(msg))) {
		irc_err("%s", msg);
		close(fd);
		return -EPERM;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n#")] = '\0';
		if (!line[0])
			continue;
		if (*n == IRC_FLEET_MAX_TRUST || irc_hex_key(line, keys[*n])) {
			err = -EBADMSG;
			break;
		}
		(*n)++;
	}
	fclose(f);
	return err;
}

int irc_trust_save(const char *state_dir, const uint8_t (*keys)[32], size_t n)
{
	char path[4096], tmp[4200], hex[65];
	size_t i;
	FILE *f;
	int fd;

	if (mkdir(state_dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", state_dir, IRC_FLEET_TRUST);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	fputs("# Ed25519 keys whose fleet entries this host applies (ircontain fleet trust)\n", f);
	for (i = 0; i < n; i++) {
		irc_hex(keys[i], 32, hex);
		fprintf(f, "%s\n", hex);
	}
	if (fflush(f) || fsync(fileno(f))) {
		int err = -errno;

		fclose(f);
		unlink(tmp);
		return err;
	}
	fclose(f);
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}
