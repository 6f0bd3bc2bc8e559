// SPDX-License-Identifier: GPL-2.0-only
/*
 * export ID --output FILE.tar.gz [--force]: an incident as a signed bundle.
 * verify: the store's hash chain.
 * verify FILE.tar.gz [--pubkey HEX]: a bundle's signature and every hash;
 * ok only under a trusted key (--pubkey, else this host's signing.pub).
 *
 * The work is in export_*.c; this file is options, exit codes and output.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "export.h"
#include "irc.h"
#include "entries.h"
#include "journal.h"
#include "parse.h"
#include "store.h"
#include "unrecorded.h"

/*
 * Opens the existing store: none there is bad usage (exit 2, naming where
 * it looked); one that cannot be opened is a failure (exit 1).
 */
static int open_store(const char *what, struct irc_store **s)
{
	char db[4096];
	struct stat st;
	int err;

	err = irc_store_open(s, irc.state_dir, false);
	if (!err)
		return IRC_EXIT_OK;
	snprintf(db, sizeof(db), "%s/%s", irc.state_dir, IRC_STORE_DB);
	if (err == -ENOENT && stat(db, &st))
		return irc_usage_err("%s: %s", what, irc_store_errmsg());
	irc_err("%s: %s", what, irc_store_errmsg());
	return IRC_EXIT_FAIL;
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* What an export wrote: built by do_export(), then printed once. */
struct export_report {
	int64_t id;
	const char *path;
	const struct irc_export_stats *st;
	double secs;
};

static json_t *export_json(const struct export_report *r)
{
	const struct irc_export_stats *st = r->st;

	return json_pack("{s:s,s:I,s:I,s:I,s:f,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
			 "s:b,s:s,s:s+}",
		"exported", r->path, "incident", (json_int_t)r->id,
		"files", (json_int_t)st->files, "bytes", (json_int_t)st->bytes,
		"seconds", r->secs, "records",
		"actions", (json_int_t)st->actions, "events", (json_int_t)st->events,
		"evidence", (json_int_t)st->evidence, "findings", (json_int_t)st->findings,
		"ocsf", (json_int_t)st->ocsf, "packets", (json_int_t)st->packets,
		"artifacts", (json_int_t)st->artifacts, "entities", (json_int_t)st->entities,
		"store_verified", st->store_ok, "store_problem", st->store_problem,
		"signer", "ed25519:", st->key_hex);
}

static void export_text(const struct export_report *r)
{
	const struct irc_export_stats *st = r->st;

	printf("exported incident %lld to %s: %zu files, %llu bytes in %.2f s\n",
	       (long long)r->id, r->path, st->files, (unsigned long long)st->bytes, r->secs);
	printf("  %llu records: %llu actions, %llu events (%llu findings), %llu evidence\n",
	       (unsigned long long)(st->actions + st->events + st->evidence),
	       (unsigned long long)st->actions, (unsigned long long)st->events,
	       (unsigned long long)st->findings, (unsigned long long)st->evidence);
	printf("  %llu packets in %s, %llu artifacts, %llu OCSF records, %llu entities followed\n",
	       (unsigned long long)st->packets, IRC_BUNDLE_PCAP, (unsigned long long)st->artifacts,
	       (unsigned long long)st->ocsf, (unsigned long long)st->entities);
	printf("  signed by ed25519:%s\n", st->key_hex);
}

int do_export(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "output", 'o', "FILE.tar.gz", IRC_OPT_REQUIRED | IRC_OPT_SHORT },
		{ "force", 'f', NULL, 0 },
		{ "new-key", 'n', NULL, 0 },
		{ 0 }
	};
	char usage[96];
	const char *out = NULL, *why;
	struct irc_export_stats st;
	struct export_report rep;
	struct irc_incident in;
	json_t *detail;
	struct irc_store *s;
	struct timespec t0;
	char err[1024], dir[4096];
	bool force = false, new_key = false;
	struct stat sb;
	uint64_t id;
	char **ops;
	int c, rc;

	while ((c = irc_opts_getopt(argc, argv, opts, "export")) != -1) {
		if (c == IRC_OPT_BAD)
			return IRC_EXIT_USAGE;
		if (c == 'o')
			out = optarg;
		else if (c == 'f')
			force = true;
		else if (c == 'n')
			new_key = true;
	}
	ops = irc_operands(argc, argv, 1, "export",
			   irc_opts_usage(opts, "export", "ID", usage, sizeof(usage)));
	if (!ops)
		return IRC_EXIT_USAGE;
	if (irc_parse_u64(ops[0], 1, INT64_MAX, &id, &why))
		return irc_usage_err("export: bad incident id '%s': %s", irc_shown(ops[0]), why);
	if (!out || !*out)
		return irc_usage_err("export: missing --output FILE.tar.gz (usage: %s)", usage);
	if (!force && !lstat(out, &sb))
		return irc_usage_err("export: %s already exists (--force overwrites it)", out);
	snprintf(dir, sizeof(dir), "%s", out);
	if (stat(dirname(dir), &sb) || !S_ISDIR(sb.st_mode))
		return irc_usage_err("export: cannot write %s: no directory %s", out, dir);
	rc = open_store("export", &s);
	if (rc)
		return rc;
	rc = irc_incident_get(s, (int64_t)id, &in);
	if (rc) {
		snprintf(err, sizeof(err), "%s", irc_store_errmsg());
		irc_store_close(s);
		if (rc == -ENOENT)
			return irc_usage_err("export: %s", err);
		irc_err("export: incident %llu: %s", (unsigned long long)id, err);
		return IRC_EXIT_FAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = irc_export(s, (int64_t)id, out, (force ? IRC_EXPORT_FORCE : 0) |
			(new_key ? IRC_EXPORT_NEW_KEY : 0), &st, err, sizeof(err));
	irc_store_close(s);
	if (rc == -EEXIST)	/* appeared while exporting: left as it was */
		return irc_usage_err("export: %s", err);
	if (rc) {
		irc_err("export: incident %llu to %s: %s", (unsigned long long)id, out, err);
		return IRC_EXIT_FAIL;
	}
	/* On the record: a closed incident may be pruned once exported (policy store:). */
	detail = json_pack("{s:s,s:o}", "bundle", out, "sha256", irc_sha256_json(out));
	irc_record_action((int64_t)id, "export", NULL, NULL, 0, detail);
	json_decref(detail);
	rep = (struct export_report){ (int64_t)id, out, &st, since(&t0) };
	irc.json ? irc_json_print(export_json(&rep)) : export_text(&rep);
	if (st.entities_dropped)
		irc_warn("export: incident %llu names more than %d entities; the records of %llu "
			 "were left out", (unsigned long long)id, IRC_EXPORT_MAX_ENTITIES,
			 (unsigned long long)st.entities_dropped);
	if (st.artifacts_dropped)
		irc_warn("export: incident %llu has more evidence files than a bundle may hold "
			 "(%d files); %llu were left out (their records are in %s)",
			 (unsigned long long)id, IRC_BUNDLE_MAX_MEMBERS,
			 (unsigned long long)st.artifacts_dropped, IRC_BUNDLE_EVENTS);
	if (!st.store_ok) {
		irc_warn("export: the evidence store did NOT verify (%s); the bundle was written "
			 "and its manifest and report say so", st.store_problem);
		return IRC_EXIT_FAIL;
	}
	return IRC_EXIT_OK;
}

/* --- verify -------------------------------------------------------------- */

/* What verify found in the store: built by verify_store(), then printed once. */
struct store_report {
	const char *path;
	const struct irc_verify *v;
	int err;		/* -EBADMSG: the chain is broken */
	json_t *gaps;		/* containment in force with no record */
	int journaled;		/* actions waiting in the journal */
};

static json_t *store_json(const struct store_report *r)
{
	const struct irc_verify *v = r->v;
	json_t *ranges = json_array();
	char when[40];
	size_t i;

	for (i = 0; i < v->pruned_ranges && i < IRC_VERIFY_RANGES; i++) {
		irc_fmt_utc(v->ranges[i].ts_ns, when, sizeof(when));
		json_array_append_new(ranges, json_pack("{s:I,s:I,s:s}", "first",
			(json_int_t)v->ranges[i].first, "last", (json_int_t)v->ranges[i].last,
			"at", when));
	}
	return json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:I,s:s,s:i,s:s,s:O,s:i,s:{s:I,s:I,s:s,s:I,s:o}}",
		"store", r->path, "ok", !r->err && !json_array_size(r->gaps),
		"records", (json_int_t)v->records,
		"actions", (json_int_t)v->actions, "events", (json_int_t)v->events,
		"evidence", (json_int_t)v->evidence, "head_seq", (json_int_t)v->head_seq,
		"head_mac", v->head_mac,
		"incidents", (json_int_t)v->incidents, "bad_seq", (json_int_t)v->bad_seq,
		"problem", v->problem, "unclean", v->unclean, "unclean_note",
		v->unclean ? v->unclean_note : "", "unrecorded", r->gaps, "journaled", r->journaled,
		"pruned", "total", (json_int_t)v->pruned_total, "through_seq",
		(json_int_t)v->pruned_last, "reason", v->pruned_reason,
		"range_count", (json_int_t)v->pruned_ranges, "ranges", ranges);
}

static void store_text(const struct store_report *r)
{
	const struct irc_verify *v = r->v;
	size_t i, ngaps = json_array_size(r->gaps);

	if (!r->err)
		printf("store ok: %lld records (%lld actions, %lld events, %lld evidence), "
		       "chain head #%lld (%.16s), %lld incidents\n", (long long)v->records,
		       (long long)v->actions, (long long)v->events, (long long)v->evidence,
		       (long long)v->head_seq, v->head_mac, (long long)v->incidents);
	else if (v->bad_seq)
		printf("store BROKEN at record #%lld: %s\n", (long long)v->bad_seq, v->problem);
	else
		printf("store BROKEN: %s\n", v->problem);
	if (v->unclean)
		printf("note: %s\n", v->unclean_note);
	if (v->pruned_ranges) {
		char when[40];

		irc_fmt_utc(v->pruned_ns, when, sizeof(when));
		printf("note: %lld records were pruned, in %zu range(s); the last prune at %s (%s)"
		       " cut up to #%lld; the chain is proven across each range from its seal:\n",
		       (long long)v->pruned_total, v->pruned_ranges, when, v->pruned_reason,
		       (long long)v->pruned_last);
		for (i = 0; i < v->pruned_ranges && i < IRC_VERIFY_RANGES; i++) {
			irc_fmt_utc(v->ranges[i].ts_ns, when, sizeof(when));
			printf("note:   pruned #%lld-#%lld (%lld records), at %s\n",
			       (long long)v->ranges[i].first, (long long)v->ranges[i].last,
			       (long long)(v->ranges[i].last - v->ranges[i].first + 1), when);
		}
		if (v->pruned_ranges > IRC_VERIFY_RANGES)
			printf("note:   and %zu more range(s), not listed\n",
			       v->pruned_ranges - IRC_VERIFY_RANGES);
	}
	if (ngaps) {
		printf("UNRECORDED containment: %zu in force in the kernel with no record:", ngaps);
		for (i = 0; i < ngaps && i < 20; i++)
			printf(" %s", json_string_value(json_array_get(r->gaps, i)));
		printf("%s\n", i < ngaps ? " ..." : "");
	}
	if (r->journaled)
		printf("note: %d action(s) journaled in %s/%s, not yet recorded (the next command "
		       "that writes the store records them)\n", r->journaled, irc.state_dir,
		       IRC_STORE_JOURNAL);
}

static int verify_store(bool accept)
{
	struct store_report r;
	struct irc_verify v;
	struct irc_store *s;
	char actor[64];
	int rc, err;

	rc = open_store("verify", &s);
	if (rc)
		return rc;
	err = irc_store_verify(s, &v);
	/*
	 * The operator accepts the chain as it stands: on record first, then
	 * verified again (what else is broken stays broken).
	 */
	if (err == -EBADMSG && accept) {
		irc_actor(actor, sizeof(actor));
		if (irc_store_accept_rollback(s, actor, v.problem)) {
			irc_err("verify --accept-rollback: %s", irc_store_errmsg());
			irc_store_close(s);
			return IRC_EXIT_FAIL;
		}
		fprintf(stderr, "ircontain: verify: accepted by %s and recorded: %s\n", actor,
			v.problem);
		/* What waited in the journal for a store that takes writes. */
		irc_journal_replay(s, irc.state_dir, NULL);
		err = irc_store_verify(s, &v);
	}
	if (err && err != -EBADMSG) {
		irc_err("verify: %s", irc_store_errmsg());
		irc_store_close(s);
		return IRC_EXIT_FAIL;
	}
	r = (struct store_report){ .path = irc_store_path(s), .v = &v, .err = err };
	r.gaps = irc_unrecorded_containment(s);
	r.journaled = irc_journal_pending(irc.state_dir);
	irc.json ? irc_json_print(store_json(&r)) : store_text(&r);
	if (json_array_size(r.gaps))
		err = -EBADMSG;
	json_decref(r.gaps);
	irc_store_close(s);
	return err ? IRC_EXIT_FAIL : IRC_EXIT_OK;
}

/*
 * This host's signing.pub: what bundles exported here carry.  0, -ENOENT
 * when there is none (said by the caller), or another -errno, said here:
 * a key file that is there but unusable is never passed over silently.
 */
static int host_key(uint8_t pk[32], char *src, size_t len)
{
	char path[4096], hex[80] = "";
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", irc.state_dir, IRC_STORE_SIGN_PUB);
	f = fopen(path, "re");
	if (!f) {
		err = errno;
		if (err != ENOENT)
			irc_err("verify: %s: %s (or give the exporter's key with --pubkey)", path,
				strerror(err));
		return -err;
	}
	if (!fgets(hex, sizeof(hex), f))
		hex[0] = '\0';
	fclose(f);
	hex[strcspn(hex, "\r\n ")] = '\0';
	if (irc_unhex32(hex, pk)) {
		irc_err("verify: %s: not a 64-digit hex Ed25519 public key (corrupt?); repair it "
			"or give the exporter's key with --pubkey", path);
		return -EINVAL;
	}
	snprintf(src, len, "this host's key, %s", path);
	return 0;
}

static void print_problems(const char *path, const struct irc_bverify *v)
{
	size_t i;

	for (i = 0; i < v->problems.n; i++)
		fprintf(stderr, "ircontain: verify %s: %s\n", path, v->problems.v[i]);
	if (v->problems.dropped)
		fprintf(stderr, "ircontain: verify %s: and %zu more problems\n", path,
			v->problems.dropped);
}

/* What verify found in a bundle: built by verify_bundle(), then printed once. */
struct bundle_report {
	const char *path;
	const struct irc_bverify *v;
	bool intact, ok;
	const char *untrusted;	/* why the signer is not trusted, or "" */
};

static json_t *bundle_json(const struct bundle_report *r)
{
	const struct irc_bverify *v = r->v;
	json_t *probs = json_array();
	size_t i;

	for (i = 0; i < v->problems.n; i++)
		json_array_append_new(probs, json_string(v->problems.v[i]));
	if (r->untrusted[0])
		json_array_append_new(probs, json_string(r->untrusted));
	return json_pack("{s:s,s:b,s:b,s:b,s:I,s:s+,s:s,s:o}", "bundle", r->path,
		"ok", r->ok, "intact", r->intact, "trusted", v->trusted, "files", (json_int_t)v->files,
		"signer", "ed25519:", v->key_hex, "trust", v->trust ?: "", "problems", probs);
}

/* The problems themselves went to stderr; untrusted but intact, only there. */
static void bundle_text(const struct bundle_report *r)
{
	size_t n = r->v->problems.n + r->v->problems.dropped;

	if (r->ok)
		printf("bundle ok: %zu files, signed by ed25519:%.16s\n", r->v->files,
		       r->v->key_hex);
	else if (!r->intact)
		printf("bundle FAILED: %zu problem%s (see above)\n", n, n == 1 ? "" : "s");
}

/*
 * ok (exit 0) only when intact AND signed by a key the verifier trusts:
 * --pubkey, or this host's signing.pub.  The key a bundle names for
 * itself proves nothing: anyone can re-sign a changed bundle with theirs.
 */
static int verify_bundle(const char *path, const char *pubkey)
{
	uint8_t pk[32];
	char src[4200], untrusted[4600] = "";
	const uint8_t *want = NULL;
	bool host_missing = false, intact, ok;
	struct bundle_report r;
	struct irc_bverify v;
	struct stat sb;
	int err;

	if (stat(path, &sb))
		return irc_usage_err("verify: %s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return irc_usage_err("verify: %s: not a regular file", path);
	if (pubkey) {
		if (irc_unhex32(pubkey, pk))
			return irc_usage_err("verify: bad --pubkey '%s': expected 64 hex digits "
					     "(an Ed25519 public key)", pubkey);
		want = pk;
		snprintf(src, sizeof(src), "--pubkey");
	} else {
		err = host_key(pk, src, sizeof(src));
		if (err && err != -ENOENT)
			return IRC_EXIT_FAIL;
		host_missing = err == -ENOENT;
		want = err ? NULL : pk;
	}
	err = irc_bundle_verify(path, want, src, &v);
	if (err) {
		irc_err("verify: %s: %s", path, strerror(-err));
		return IRC_EXIT_FAIL;
	}
	intact = !v.problems.n && !v.problems.dropped;
	ok = intact && v.trusted;
	if (intact && !v.trusted)
		snprintf(untrusted, sizeof(untrusted), "bundle intact but signed by an untrusted "
			 "key ed25519:%s%s%s%s: give the exporter's key with --pubkey (STATE_DIR/%s "
			 "on the exporting host)", v.key_hex,
			 host_missing ? " (no --pubkey, and this host has no key at " : "",
			 host_missing ? irc.state_dir : "", host_missing ? "/" IRC_STORE_SIGN_PUB ")" : "",
			 IRC_STORE_SIGN_PUB);
	print_problems(path, &v);
	if (untrusted[0])
		irc_err("verify: %s: %s", path, untrusted);
	r = (struct bundle_report){ path, &v, intact, ok, untrusted };
	irc.json ? irc_json_print(bundle_json(&r)) : bundle_text(&r);
	irc_bverify_free(&v);
	return ok ? IRC_EXIT_OK : IRC_EXIT_FAIL;
}

int do_verify(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "pubkey", 'k', "HEX", 0 },
		{ "accept-rollback", 'a', NULL, 0 },
		{ 0 }
	};
	const char *pubkey = NULL;
	bool accept = false;
	char usage[80];
	int c;

	while ((c = irc_opts_getopt(argc, argv, opts, "verify")) != -1) {
		if (c == IRC_OPT_BAD)
			return IRC_EXIT_USAGE;
		if (c == 'k')
			pubkey = optarg;
		else if (c == 'a')
			accept = true;
	}
	if (argc - optind > 1)
		return irc_usage_err("verify: unexpected argument '%s' (usage: %s)", argv[optind + 1],
				     irc_opts_usage(opts, "verify", "[FILE.tar.gz]", usage,
						    sizeof(usage)));
	if (argc - optind == 1 && accept)
		return irc_usage_err("verify: --accept-rollback is for the store: verify --accept-rollback");
	if (argc - optind == 1)
		return verify_bundle(argv[optind], pubkey);
	if (pubkey)
		return irc_usage_err("verify: --pubkey is for a bundle: verify FILE.tar.gz "
				     "--pubkey HEX");
	return verify_store(accept);
}
