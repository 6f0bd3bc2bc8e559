// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for fleet entries (userspace/fleet/fleet.c): the key an entry
 * lives at, its signature, and every way a value found in etcd is refused
 * (malformed, altered, signed by a key not trusted, copied to another
 * key); the groups an agent applies; the --fleet endpoint list; the trust
 * list file.  Keys are made here with libsodium; no etcd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "fleet.h"
#include "irc.h"

#define PREFIX	"/ircontain/"

static uint8_t pk[32], sk[64], pk2[32], sk2[64];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(sodium_init() < 0, 0);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	return 0;
}

static struct irc_fentry entry(const char *target, const char *group, int op)
{
	struct irc_fentry f = { .op = op, .created_ms = 1796635559820LL, .expires_s = 1796639159,
				.dir = IRC_DIR_BOTH };
	const char *why;

	assert_int_equal(irc_parse_target(target, false, &f.target, &why), 0);
	snprintf(f.group, sizeof(f.group), "%s", group);
	snprintf(f.reason, sizeof(f.reason), "C2 beacon");
	snprintf(f.by, sizeof(f.by), "alice@ops1");
	return f;
}

static void test_key(void **state)
{
	static const struct { const char *target, *group, *want; } rows[] = {
		{ "10.0.0.1", "", PREFIX "q/_all/10.0.0.1" },
		{ "10.0.0.0/8", "", PREFIX "q/_all/10.0.0.0_8" },
		{ "2001:db8::/32", "web", PREFIX "q/web/2001:db8::_32" },
		{ "2001:db8::1", "db-1", PREFIX "q/db-1/2001:db8::1" },
	};
	char key[256];
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct irc_fentry f = entry(rows[i].target, rows[i].group, IRC_FOP_QUARANTINE);

		assert_int_equal(irc_fentry_key(PREFIX, &f, key, sizeof(key)), 0);
		EXPECT(bad, !strcmp(key, rows[i].want), "%s: key %s, want %s", rows[i].target,
		       key, rows[i].want);
	}
	/* An allowlist entry has a key of its own beside the quarantine of the same address. */
	{
		struct irc_fentry f = entry("10.0.0.0/8", "web", IRC_FOP_QUARANTINE);

		f.kind = IRC_FK_ALLOW;
		assert_int_equal(irc_fentry_key(PREFIX, &f, key, sizeof(key)), 0);
		EXPECT(bad, !strcmp(key, PREFIX "q/web/allow-10.0.0.0_8"), "allow key %s", key);
	}
	assert_int_equal(bad, 0);
}

/* The signed value, and its payload edited by @edit (NULL: as signed). */
static char *signed_value(const struct irc_fentry *f, const char *key, const uint8_t *k,
			  const char *from, const char *to)
{
	char *v = irc_fentry_sign(f, key, k), *p, *out;

	assert_non_null(v);
	if (!from)
		return v;
	p = strstr(v, from);
	assert_non_null(p);
	out = malloc(strlen(v) + strlen(to) + 1);
	memcpy(out, v, (size_t)(p - v));
	strcpy(out + (p - v), to);
	strcat(out, p + strlen(from));
	free(v);
	return out;
}

static void test_verify(void **state)
{
	uint8_t trusted_[2][32];
	const uint8_t (*trusted)[32] = (const uint8_t (*)[32])trusted_;
	struct irc_fentry f = entry("203.0.113.7", "", IRC_FOP_QUARANTINE), g, rel;
	char key[256], other[256], *v;
	const char *why;
	int bad = 0;

	(void)state;
	memcpy(trusted_[0], pk, 32);
	assert_int_equal(irc_fentry_key(PREFIX, &f, key, sizeof(key)), 0);

	/* As signed: accepted, every field back. */
	v = signed_value(&f, key, sk, NULL, NULL);
	assert_int_equal(irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why), 0);
	assert_int_equal(g.op, IRC_FOP_QUARANTINE);
	assert_int_equal(g.created_ms, f.created_ms);
	assert_int_equal(g.expires_s, f.expires_s);
	assert_string_equal(g.reason, "C2 beacon");
	assert_string_equal(g.by, "alice@ops1");
	assert_int_equal(memcmp(&g.target, &f.target, sizeof(f.target)), 0);
	/* Trusted = NULL: signed by the key it names, whichever. */
	assert_int_equal(irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), NULL, 0, &g, &why), 0);
	/* Not trusted here. */
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 0, &g, &why) == -ENOKEY,
	       "no trusted key: not -ENOKEY");
	/* Copied to another key: said as such. */
	snprintf(other, sizeof(other), PREFIX "q/_all/203.0.113.8");
	EXPECT(bad, irc_fentry_verify(PREFIX, other, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) == -EXDEV,
	       "moved: not -EXDEV (%s)", why);
	free(v);

	/* The target altered after signing: forged. */
	v = signed_value(&f, key, sk, "203.0.113.7", "203.0.113.9");
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) == -EKEYREJECTED,
	       "altered target: not -EKEYREJECTED");
	free(v);
	/* A quarantine turned into a release: forged. */
	v = signed_value(&f, key, sk, "\\\"quarantine\\\"", "\\\"release\\\"");
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) == -EKEYREJECTED,
	       "quarantine made a release: not -EKEYREJECTED");
	free(v);
	/* Signed by another key that names itself as signer: not trusted. */
	v = signed_value(&f, key, sk2, NULL, NULL);
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) == -ENOKEY,
	       "other signer: not -ENOKEY");
	free(v);
	/* Malformed values. */
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)"x", 1, trusted, 1, &g, &why) == -EBADMSG,
	       "not JSON: not -EBADMSG");
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)"{\"payload\":\"{}\"}", 16, trusted, 1, &g,
				      &why) == -EBADMSG, "no signature: not -EBADMSG");
	/* An allowlist entry round-trips; made a quarantine, it is forged. */
	{
		struct irc_fentry al = entry("203.0.113.7", "", IRC_FOP_QUARANTINE);
		char akey[256];

		al.kind = IRC_FK_ALLOW;
		assert_int_equal(irc_fentry_key(PREFIX, &al, akey, sizeof(akey)), 0);
		v = signed_value(&al, akey, sk, NULL, NULL);
		assert_int_equal(irc_fentry_verify(PREFIX, akey, (uint8_t *)v, strlen(v), trusted, 1, &g,
						   &why), 0);
		assert_int_equal(g.kind, IRC_FK_ALLOW);
		assert_int_equal(memcmp(&g.target, &al.target, sizeof(al.target)), 0);
		free(v);
		v = signed_value(&al, akey, sk, "\\\"allow\\\"", "\\\"host\\\"");
		EXPECT(bad, irc_fentry_verify(PREFIX, akey, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) ==
		       -EKEYREJECTED, "allow made host: not -EKEYREJECTED");
		free(v);
	}
	/* A policy round-trips with its text; it cannot be made a release. */
	{
		struct irc_fentry pol = entry("203.0.113.7", "web", IRC_FOP_QUARANTINE);
		char pkey[256];

		pol.kind = IRC_FK_POLICY;
		pol.policy = "mode: enforce\n";
		assert_int_equal(irc_fentry_key(PREFIX, &pol, pkey, sizeof(pkey)), 0);
		assert_string_equal(pkey, PREFIX "q/web/policy");
		v = signed_value(&pol, pkey, sk, NULL, NULL);
		assert_int_equal(irc_fentry_verify(PREFIX, pkey, (uint8_t *)v, strlen(v), trusted, 1, &g,
						   &why), 0);
		assert_int_equal(g.kind, IRC_FK_POLICY);
		assert_string_equal(g.policy, "mode: enforce\n");
		irc_fentry_clear(&g);
		free(v);
	}
	/* A release round-trips too. */
	rel = entry("203.0.113.7", "", IRC_FOP_RELEASE);
	v = signed_value(&rel, key, sk, NULL, NULL);
	assert_int_equal(irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why), 0);
	assert_int_equal(g.op, IRC_FOP_RELEASE);
	free(v);
	assert_int_equal(bad, 0);
}

/* An isolation: its key, its fields round-trip, "on" turned "off" is forged. */
static void test_isolate(void **state)
{
	uint8_t trusted_[1][32];
	const uint8_t (*trusted)[32] = (const uint8_t (*)[32])trusted_;
	struct irc_fentry f = { .kind = IRC_FK_ISOLATE, .created_ms = 1796635559820LL,
				.iso_flags = IRC_CFG_ISO_DNS, .nallow = 2 }, g;
	char key[256], *v;
	const char *why;
	int bad = 0;

	(void)state;
	memcpy(trusted_[0], pk, 32);
	snprintf(f.group, sizeof(f.group), "web");
	snprintf(f.reason, sizeof(f.reason), "ransomware");
	snprintf(f.by, sizeof(f.by), "alice@ops1");
	assert_int_equal(irc_parse_target("10.9.0.0/16", false, &f.allow[0], &why), 0);
	assert_int_equal(irc_parse_target("2001:db8::5", false, &f.allow[1], &why), 0);
	assert_int_equal(irc_fentry_key(PREFIX, &f, key, sizeof(key)), 0);
	assert_string_equal(key, PREFIX "q/web/isolation");
	v = signed_value(&f, key, sk, NULL, NULL);
	assert_non_null(strstr(v, "\\\"op\\\":\\\"on\\\""));
	assert_int_equal(irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why), 0);
	assert_int_equal(g.kind, IRC_FK_ISOLATE);
	assert_int_equal(g.op, IRC_FOP_QUARANTINE);
	assert_int_equal(g.iso_flags, IRC_CFG_ISO_DNS);
	assert_int_equal(g.nallow, 2);
	assert_int_equal(memcmp(g.allow, f.allow, 2 * sizeof(f.allow[0])), 0);
	free(v);
	/* Copied to another group's key: refused. */
	v = signed_value(&f, key, sk, NULL, NULL);
	EXPECT(bad, irc_fentry_verify(PREFIX, PREFIX "q/db/isolation", (uint8_t *)v, strlen(v), trusted,
				      1, &g, &why) == -EXDEV, "moved isolation: not -EXDEV (%s)", why);
	free(v);
	/* "on" made "off", an exemption widened: forged. */
	v = signed_value(&f, key, sk, "\\\"on\\\"", "\\\"off\\\"");
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) ==
	       -EKEYREJECTED, "on made off: not -EKEYREJECTED");
	free(v);
	v = signed_value(&f, key, sk, "10.9.0.0/16", "0.0.0.0/0");
	EXPECT(bad, irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why) ==
	       -EKEYREJECTED, "widened exemption: not -EKEYREJECTED");
	free(v);
	/* An "off" round-trips. */
	f.op = IRC_FOP_RELEASE;
	v = signed_value(&f, key, sk, NULL, NULL);
	assert_int_equal(irc_fentry_verify(PREFIX, key, (uint8_t *)v, strlen(v), trusted, 1, &g, &why), 0);
	assert_int_equal(g.op, IRC_FOP_RELEASE);
	assert_int_equal(g.kind, IRC_FK_ISOLATE);
	free(v);
	assert_int_equal(bad, 0);
}

static void test_for_me(void **state)
{
	const char *groups[] = { "web", "eu" };
	struct irc_fentry all = entry("10.0.0.1", "", 0), web = entry("10.0.0.1", "web", 0),
			  db = entry("10.0.0.1", "db", 0);

	(void)state;
	assert_true(irc_fentry_for_me(&all, groups, 0));
	assert_true(irc_fentry_for_me(&all, groups, 2));
	assert_true(irc_fentry_for_me(&web, groups, 2));
	assert_false(irc_fentry_for_me(&db, groups, 2));
	assert_false(irc_fentry_for_me(&web, groups, 0));
}

static void test_urls(void **state)
{
	static const struct { const char *in; int ret, n; } rows[] = {
		{ "http://127.0.0.1:2379", 0, 1 },
		{ "http://a:2379,https://b:2379/", 0, 2 },
		{ "", -EINVAL, 0 },
		{ "ftp://a:1", -EINVAL, 0 },
		{ "http://", -EINVAL, 0 },
		{ "http://a b:1", -EINVAL, 0 },
		{ "http://a,http://b,http://c,http://d,http://e,http://f,http://g,http://h,http://i", -EINVAL, 0 },
	};
	struct irc_etcd_cfg c;
	const char *why;
	size_t i;
	int bad = 0, r;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&c, 0, sizeof(c));
		r = irc_etcd_parse_urls(rows[i].in, &c, &why);
		EXPECT(bad, r == rows[i].ret && (r || c.nurls == rows[i].n), "'%s': %d (%d urls)",
		       rows[i].in, r, c.nurls);
		irc_fleet_cfg_free(&c);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(irc_etcd_parse_urls("http://a:2379,https://b:2379/", &c, &why), 0);
	assert_string_equal(c.urls[1], "https://b:2379");
	irc_fleet_cfg_free(&c);
	assert_int_equal(bad, 0);
}

static void test_trust_file(void **state)
{
	char dir[] = "/tmp/irc-fleet-unit.XXXXXX", path[256];
	uint8_t keys[IRC_FLEET_MAX_TRUST][32];
	size_t n;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(irc_trust_load(dir, keys, &n), 0);	/* no file: none */
	assert_int_equal(n, 0);
	memcpy(keys[0], pk, 32);
	memcpy(keys[1], pk2, 32);
	assert_int_equal(irc_trust_save(dir, (const uint8_t (*)[32])keys, 2), 0);
	memset(keys, 0, sizeof(keys));
	assert_int_equal(irc_trust_load(dir, keys, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(keys[1], pk2, 32);
	/* A damaged line is refused, never skipped. */
	snprintf(path, sizeof(path), "%s/%s", dir, IRC_FLEET_TRUST);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("not-a-key\n", f);
	fclose(f);
	assert_int_equal(irc_trust_load(dir, keys, &n), -EBADMSG);
	tu_rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_isolate),
		cmocka_unit_test(test_for_me),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_trust_file),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
