/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy file (YAML): mode, allowlist, and per detector its switch,
 * thresholds, severity, action, TTL and escalation.  Parsing keeps every
 * line number; one error anywhere refuses the whole file.
 */
#ifndef IRC_POLICY_H
#define IRC_POLICY_H

#include <stdio.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "parse.h"

#define IRC_POLICY_MAX_ALLOW	256
#define IRC_POLICY_MAX_ERRORS	64
#define IRC_POLICY_MAX_BYTES	(1 << 20)	/* a policy file, refused above */

/* The evidence store's bounds (`store:`), for the daemon's pruning. */
struct irc_store_policy {
	uint64_t max_bytes;		/* 0: no size limit */
	uint64_t max_age_s;		/* 0: no age limit */
	__u32 keep_unexported;		/* a closed incident stays until exported */
};

struct irc_policy {
	struct irc_detcfg det;		/* what the kernel gets */
	struct irc_store_policy store;
	/*
	 * `fleet: share_findings: DURATION`: an enforced network finding with
	 * a verified source is published as a fleet quarantine of that TTL.
	 * 0 (off, the default): never.
	 */
	uint64_t fleet_share_ttl_s;
	struct irc_cidr allow[IRC_POLICY_MAX_ALLOW];
	int nallow;
};

struct irc_policy_errors {
	int n;
	int line[IRC_POLICY_MAX_ERRORS];
	char msg[IRC_POLICY_MAX_ERRORS][160];
};

/* The built-in defaults a policy starts from (monitor mode). */
void irc_policy_defaults(struct irc_policy *p);

/*
 * Parses @path into @p.  Returns 0, or -EINVAL with every problem in @errs
 * (line numbers from 1), or another -errno when the file cannot be read.
 */
int irc_policy_load(const char *path, struct irc_policy *p,
		    struct irc_policy_errors *errs);

/* Same, from a string (tests). */
int irc_policy_parse(const char *text, size_t len, struct irc_policy *p,
		     struct irc_policy_errors *errs);

/* Prints "FILE:LINE: message" per error. */
void irc_policy_print_errors(FILE *f, const char *path,
			     const struct irc_policy_errors *errs);

const char *irc_detector_name(unsigned int det);
const char *irc_action_name(unsigned int action);
const char *irc_severity_name(unsigned int sev);
/* "low", "medium", "high", "critical" as enum irc_severity; -EINVAL. */
int irc_severity_parse(const char *s);

struct irc_maps;
struct irc_sens_report;

/*
 * Pushes @p into the running module: the detector config, the
 * policy's allowlist entries (those of an earlier policy that are gone
 * from this one are removed; entries added by hand are left alone), and
 * sensitive_read's paths resolved to identities (what did not resolve in
 * @rep).
 */
int irc_policy_apply(const struct irc_maps *m, const struct irc_policy *p,
		     struct irc_sens_report *rep);

#endif /* IRC_POLICY_H */
