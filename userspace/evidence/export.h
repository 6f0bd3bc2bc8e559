/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Export bundles: one incident's records out of the store, as files other
 * tools read (events.jsonl for Timesketch/Elastic/Splunk, ocsf.jsonl,
 * packets.pcap, artifacts/), a report for people (report.html) and a
 * signed manifest that `verify` checks.
 *
 *   export_ecs.c     a record as one ECS + Timesketch JSON line
 *   export_ocsf.c    a record as one OCSF 1.x event (or none)
 *   export_pcap.c    packet samples into a pcap (raw IP gets a fake MAC header)
 *   export_html.c    the report: what it collects from the records, the HTML
 *   export_bundle.c  tar.gz writing and reading, manifest, signature, checks
 *   export_build.c   the pass over the store that produces a bundle
 */
#ifndef IRC_EXPORT_H
#define IRC_EXPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <pcap/pcap.h>

#include "store.h"

#define IRC_OCSF_VERSION	"1.3.0"
#define IRC_PRODUCT_VENDOR	"ircontain"

/* The host the bundle comes from, written into records and the manifest. */
struct irc_xhost {
	char hostname[256];
	char machine_id[64];	/* /etc/machine-id, "" if none */
};
void irc_xhost_init(struct irc_xhost *h);

/* One store row, its body parsed, on its way into the bundle. */
struct irc_xrow {
	const struct irc_row *r;
	json_t *body;		/* never NULL: {} for a body that did not parse */
	int64_t incident;	/* the exported incident */
	const char *artifact;	/* its file in the bundle, or NULL */
	int64_t pcap_index;	/* its packet in packets.pcap (1-based), or 0 */
};

/* --- records (export_ecs.c, export_ocsf.c) --------------------------- */

/* What happened, as event.action says it: the body's, or the row type. */
const char *irc_x_action(const struct irc_xrow *x);
bool irc_x_is_finding(const struct irc_xrow *x);
bool irc_x_is_packet(const struct irc_xrow *x);
/* A member of nested objects by dotted path ("process.parent.pid"). */
json_t *irc_jpath(json_t *o, const char *path);
const char *irc_jstr(json_t *o, const char *path);	/* NULL if not a string */
json_int_t irc_jint(json_t *o, const char *path, json_int_t def);
/* One line for people: the body's message, or one made from the row. */
void irc_x_message(const struct irc_xrow *x, char *buf, size_t len);
/* "2026-11-30T03:00:00.123Z" */
void irc_x_time(int64_t ts_ns, char *buf, size_t len);

/* The events.jsonl object of a row (ECS + Timesketch fields). */
json_t *irc_x_ecs(const struct irc_xrow *x, const struct irc_xhost *h);
/* The ocsf.jsonl object of a row, NULL if no OCSF class fits it. */
json_t *irc_x_ocsf(const struct irc_xrow *x, const struct irc_xhost *h);

/* --- packets (export_pcap.c) ------------------------------------------ */

/* Where a "packet" evidence row keeps its bytes, link type and length. */
struct irc_xpkt {
	const uint8_t *data;
	size_t len;
	int linktype;		/* IRC_LINK_ETHERNET or IRC_LINK_RAW */
	uint32_t pkt_len;	/* length on the wire, >= len */
};
/* 0, or -ENOENT if the row carries no usable packet. */
int irc_x_packet(const struct irc_xrow *x, uint8_t *scratch, size_t scratch_len,
		 struct irc_xpkt *p);
/*
 * The Ethernet frame of a sample into @out: as is for Ethernet, behind a
 * fake header whose ethertype follows the IP version for raw IP.  Returns
 * its length, 0 if it does not fit or the link type is unknown.
 */
size_t irc_x_frame(const struct irc_xpkt *p, uint8_t *out, size_t outlen);
/* A pcap (LINKTYPE_ETHERNET) on @f, which it owns from here on. */
pcap_dumper_t *irc_xpcap_open(FILE *f, pcap_t **dead);
int irc_xpcap_add(pcap_dumper_t *d, int64_t ts_ns, const struct irc_xpkt *p);

/* --- the report (export_html.c) -------------------------------------- */

struct irc_xreport;
struct irc_xreport_info {
	struct irc_incident in;
	struct irc_xhost host;
	char exported_at[40];
	char exporter[64];
	char key_hex[65];	/* signer's Ed25519 public key */
	bool store_ok;
	char store_problem[640];
	int64_t store_records, store_head;
	char unclean_note[512];
	int64_t from_ns, to_ns;	/* the window exported */
};
struct irc_xreport *irc_xreport_new(const struct irc_xreport_info *info);
void irc_xreport_free(struct irc_xreport *rp);
/* Takes what the report shows of one record. */
int irc_xreport_add(struct irc_xreport *rp, const struct irc_xrow *x);
int irc_xreport_write(const struct irc_xreport *rp, FILE *f);

/* HTML text of @s: & < > " ' escaped, control characters shown as \xNN. */
void irc_html_puts(FILE *f, const char *s);
char *irc_html_escape(const char *s);	/* malloc'd, NULL on ENOMEM */

/* --- bundles (export_bundle.c) ---------------------------------------- */

struct irc_bmember {
	char *path;		/* below the top directory */
	uint64_t size;
	uint8_t sha256[32];
};

/* What a check found wrong, one line each (bounded). */
struct irc_bproblems {
	char **v;
	size_t n;
	size_t dropped;		/* past the bound */
};
void irc_bproblem(struct irc_bproblems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void irc_bproblems_free(struct irc_bproblems *p);

/* The manifest's "files": [{path, size, sha256}] of @m. */
json_t *irc_manifest_files(const struct irc_bmember *m, size_t n);
/*
 * Every file of @manifest against what the archive held (@m): a hash or
 * a size that differs, a file missing, a file the manifest does not name.
 */
void irc_bundle_check_files(const json_t *manifest, const struct irc_bmember *m,
			    size_t n, struct irc_bproblems *p);
/* A member path as a bundle may hold it: relative, no "..", no "//". */
bool irc_bundle_path_ok(const char *path);

/* Hex Ed25519 detached signature of @len bytes (128 hex + NUL). */
int irc_bundle_sign(const void *buf, size_t len, const uint8_t sk[64], char hex[129]);
/* True if @hex (whitespace around it ignored) signs @buf under @pk. */
bool irc_bundle_sig_ok(const void *buf, size_t len, const char *hex, size_t hexlen,
		       const uint8_t pk[32]);
/* 64 hex digits -> 32 bytes; -EINVAL otherwise. */
int irc_unhex32(const char *hex, uint8_t out[32]);

/* Writing: members stream in, each hashed on the way. */
struct irc_bwriter;
int irc_bwriter_open(int fd, const char *topdir, int64_t mtime, struct irc_bwriter **wp,
		     char *err, size_t errlen);
int irc_bwriter_add_file(struct irc_bwriter *w, const char *path, FILE *f,
			 struct irc_bmember *out);
int irc_bwriter_add_mem(struct irc_bwriter *w, const char *path, const void *buf,
			size_t len, struct irc_bmember *out);
int irc_bwriter_close(struct irc_bwriter *w);
const char *irc_bwriter_error(const struct irc_bwriter *w);

/* What verifying a bundle found. */
struct irc_bverify {
	size_t files;			/* members listed and found */
	char topdir[256];
	char key_hex[65];		/* the manifest's signer */
	const char *trust;		/* what the signature was checked against */
	bool sig_ok;			/* manifest.sig signs the manifest (some key) */
	bool trusted;			/* ... under @want_pk: ok only with this */
	json_t *manifest;		/* parsed, or NULL */
	struct irc_bproblems problems;	/* empty: the bundle is intact */
};
/*
 * Reads the tar.gz at @path (gzip and tar only, bounded by
 * IRC_BUNDLE_MAX_MEMBERS and IRC_BUNDLE_MAX_TOTAL), checks manifest.sig
 * against @want_pk (@want_src says where it came from) or, without one,
 * against the key the manifest names (intact, never trusted: @v->trusted
 * stays false), and, when the signature holds, every member against the
 * manifest.  Returns 0 when it could be read and checked (see
 * @v->problems, @v->trusted), or -errno.
 */
int irc_bundle_verify(const char *path, const uint8_t *want_pk, const char *want_src,
		      struct irc_bverify *v);
void irc_bverify_free(struct irc_bverify *v);

/* --- the export (export_build.c) -------------------------------------- */

struct irc_export_stats {
	uint64_t actions, events, evidence;	/* rows exported */
	uint64_t ocsf, packets, artifacts, findings;
	uint64_t artifacts_dropped;		/* past IRC_BUNDLE_MAX_MEMBERS */
	uint64_t entities;
	uint64_t entities_dropped;		/* past IRC_EXPORT_MAX_ENTITIES */
	size_t files;
	uint64_t bytes;				/* of the bundle */
	bool store_ok;
	char store_problem[640];
	char key_hex[65];
};
/* irc_export() flags. */
#define IRC_EXPORT_FORCE	1u	/* replace an existing @path */
#define IRC_EXPORT_NEW_KEY	2u	/* create signing.key if it is missing */
/*
 * Writes incident @id of @s as a bundle to @path, by way of a temporary
 * file of a unique name beside it (created O_EXCL, 0600): linked into
 * place, so an existing @path is never replaced (-EEXIST), or with
 * IRC_EXPORT_FORCE renamed over it.  A missing signing.key is an error
 * unless IRC_EXPORT_NEW_KEY (a new key makes earlier bundles' signer
 * unknown to this host).  Returns 0 or -errno with the reason in @err.
 */
int irc_export(struct irc_store *s, int64_t id, const char *path, unsigned int flags,
	       struct irc_export_stats *st, char *err, size_t errlen);

#endif /* IRC_EXPORT_H */
