/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The evidence store and export bundles: file names, schema version and
 * limits.  Shared by the controller, the CLI and the tests.
 */
#ifndef IRCONTAIN_STORE_H
#define IRCONTAIN_STORE_H

#define IRC_STORE_DB		"ircontain.db"	/* under --state-dir */
#define IRC_STORE_HMAC_KEY	"hmac.key"	/* 32 random bytes, 0600 */
#define IRC_STORE_SIGN_KEY	"signing.key"	/* Ed25519 secret key, 0600 */
#define IRC_STORE_SIGN_PUB	"signing.pub"	/* Ed25519 public key, hex */
#define IRC_STORE_SCHEMA	2		/* PRAGMA user_version */
/*
 * A writer waits at most this long for another one, and at most
 * IRC_STORE_STOP_MS once the controller is stopping.
 */
#define IRC_STORE_BUSY_MS	5000
#define IRC_STORE_STOP_MS	1000
#define IRC_STORE_ANCHOR	"chain.head"	/* the chain's anchor, under --state-dir */
#define IRC_STORE_JOURNAL	"pending"	/* records not yet in the store, a dir */
#define IRC_MAC_LEN		32		/* HMAC-SHA256 */

/* A finding joins the open incident of its entity seen within this. */
#define IRC_INCIDENT_WINDOW_S	3600
#define IRC_TITLE_MAX		200		/* incident title, bytes */
#define IRC_TEXT_MAX		4000		/* note, summary, reason */

/* The daemon commits its event batch at this size or this age. */
#define IRC_STORE_BATCH		256
#define IRC_STORE_BATCH_MS	200
/*
 * Records between the daemon's reader and its store writer, at most: about
 * 0.6 s of a 50k/s storm while a commit is slow (about 340 bytes each).
 */
#define IRC_STORE_QUEUE		32768
/*
 * The queued records' JSON lines, in one ring of this many bytes (an
 * event's line is 0.5-3 KB with its ancestry): no allocation per event,
 * and the memory is bounded.  A full ring loses records as a full queue
 * does (counted and marked).
 */
#define IRC_STORE_TEXT_BYTES	(32U << 20)

/* Bounded growth: the defaults (policy `store:`, `run --store-max-*`). */
#define IRC_STORE_MAX_SIZE	(1ULL << 30)		/* bytes */
#define IRC_STORE_MAX_AGE	(90ULL * 86400)		/* seconds */
#define IRC_STORE_SIZE_MIN	(1ULL << 20)		/* the smallest limit taken */
#define IRC_STORE_SIZE_MAX	(1ULL << 40)
#define IRC_STORE_PRUNE_S	10			/* the daemon checks this often */
#define IRC_STORE_WAL_WAIT_MS	2000	/* and trims the WAL, waiting this long for its readers
					   (250 ms left the soak's WAL at 173 MiB: verify and export
					   hold read transactions for seconds) */
#define IRC_STORE_PRUNE_ROWS	50000			/* records a prune removes, at most */
/*
 * Between records kept (an open incident's), a range of fewer records
 * waits, and the chain has at most this many gaps (each ~130 bytes of the
 * seal, which lists them all: 4096 make a 530 KB seal): past them a prune
 * only cuts what joins a gap there is, until the incident is closed.
 */
#define IRC_STORE_PRUNE_MIN_RUN	16
#define IRC_STORE_PRUNE_GAPS	4096
#define IRC_VERIFY_RANGES	64	/* pruned ranges verify lists (all are proven) */

/* Snapshot of a process at containment. */
#define IRC_SNAP_MAX_PROCS	64	/* processes of one cgroup */
#define IRC_SNAP_MAX_FDS	256
#define IRC_SNAP_MAX_MAPS	512
#define IRC_SNAP_MAX_ANCESTRY	32
#define IRC_SNAP_CMDLINE_MAX	4096
/*
 * The executable is hashed up to this many bytes: a padded 20 GB binary
 * must not stall the daemon.  Past it the snapshot has "sha256": null and
 * the hash of the first bytes in "sha256_partial".
 */
#define IRC_SNAP_HASH_MAX	(256ull << 20)
/*
 * The controller hashes in its ring-buffer reader, where a second spent
 * hashing is a second of events queued: it stops at 16 MiB (about 60 ms
 * here); past it the snapshot carries the partial hash and says so.
 */
#define IRC_SNAP_HASH_MAX_RUN	(16ull << 20)

/* Export bundle member names. */
#define IRC_BUNDLE_EVENTS	"events.jsonl"
#define IRC_BUNDLE_OCSF		"ocsf.jsonl"
#define IRC_BUNDLE_PCAP		"packets.pcap"
#define IRC_BUNDLE_REPORT	"report.html"
#define IRC_BUNDLE_MANIFEST	"manifest.json"
#define IRC_BUNDLE_SIG		"manifest.sig"	/* Ed25519 over manifest.json, hex */
#define IRC_BUNDLE_ARTIFACTS	"artifacts/"
#define IRC_BUNDLE_MAX_FILE	(256u << 20)	/* refused when verifying */
#define IRC_BUNDLE_FORMAT	1		/* manifest.json "format_version" */
#define IRC_BUNDLE_TOPDIR	"ircontain-incident-"	/* + ID: the one top directory */
#define IRC_BUNDLE_MAX_MEMBERS	4096		/* archive entries and manifest files, */
						/* refused above when verifying */
#define IRC_BUNDLE_MAX_TOTAL	(1ull << 30)	/* uncompressed bytes, refused above */
#define IRC_BUNDLE_MAX_MANIFEST	(4u << 20)	/* manifest.json, refused above */
						/* (4096 files: ~1 MiB) */
/* An export covers the incident from this long before it was opened. */
#define IRC_EXPORT_LOOKBACK_S	300
#define IRC_EXPORT_MAX_ENTITIES	500		/* entities followed (irc_store_rows) */
#define IRC_REPORT_TIMELINE_MAX	1000		/* rows in report.html; all in events.jsonl */
#define IRC_REPORT_CHART_BARS	60		/* bars of the drops chart */

#endif /* IRCONTAIN_STORE_H */
