/* SPDX-License-Identifier: GPL-2.0-only */
/* sensitive_read: the policy's paths resolved to identities (sensid.c). */
#ifndef IRC_SENSID_H
#define IRC_SENSID_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <jansson.h>

#include "ircontain/abi.h"

struct irc_maps;

/* What a resolve found, by policy entry (bit i = sens_files[i] / sens_allowed[i]). */
struct irc_sens_report {
	__u32 files_absent;	/* no such file now: matched by directory and name only */
	__u32 files_nodir;	/* its directory does not exist: not matched at all */
	__u32 exes_absent;	/* no such program here: nothing allowed by it */
	size_t identities;	/* entries resolved into irc_sensid */
	size_t dropped;		/* over IRC_MAX_SENSID: left out */
};

/*
 * Resolves @cfg's sensitive_read paths: fills its sens_names,
 * sens_nplen and sens_exe_names, and makes irc_sensid hold exactly those
 * identities (added first, then the stale ones removed, those the kernel
 * learned included).  A disabled detector empties the map.  0 or -errno
 * (printed).
 */
int irc_sens_resolve(const struct irc_maps *m, struct irc_detcfg *cfg,
		     struct irc_sens_report *rep);

/*
 * The controller's periodic resolve of the running policy (irc_detcfg),
 * under the pin dir lock (-EWOULDBLOCK, nothing done, while a command
 * holds it): a file replaced since (a new inode at the same path) gets
 * its new identity.
 */
int irc_sens_refresh(const struct irc_maps *m);

/* What did not resolve, as warnings naming @action; and as JSON. */
void irc_sens_warn(const char *action, const struct irc_detcfg *cfg,
		   const struct irc_sens_report *rep);
json_t *irc_sens_report_json(const struct irc_detcfg *cfg, const struct irc_sens_report *rep);

#endif /* IRC_SENSID_H */
