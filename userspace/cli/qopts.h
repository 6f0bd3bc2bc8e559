/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The options of the containment verbs (quarantine, release, isolate),
 * described once in a table (qopts.c) that both parses them into a typed
 * struct and writes the usage line.  Each verb says which it takes.
 */
#ifndef IRC_QOPTS_H
#define IRC_QOPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "ircontain/abi.h"
#include "parse.h"

enum irc_qopt {
	IRC_QO_TTL	= 1 << 0,
	IRC_QO_REASON	= 1 << 1,
	IRC_QO_FORCE	= 1 << 2,
	IRC_QO_DIR	= 1 << 3,
	IRC_QO_ACTION	= 1 << 4,
	IRC_QO_CHILDREN	= 1 << 5,	/* --no-children */
	IRC_QO_INCIDENT	= 1 << 6,
	IRC_QO_NO_OPERAND = 1 << 7,	/* the targets come from elsewhere */
	IRC_QO_GROUP	= 1 << 8,	/* fleet: --group G */
	/*
	 * The verb writes the kernel first, then leaves its journal note
	 * (irc_qopts_intent()) and looks up its --incident in the store
	 * (irc_qopts_incident_late(), undoing the write if it is refused):
	 * nothing on disk precedes containment.
	 */
	IRC_QO_WRITE_FIRST = 1 << 9,
	IRC_QO_ALL	= 1 << 10,	/* --all (named in @what, not in the usage) */
	IRC_QO_ALLOW	= 1 << 11,	/* --allow CIDR, repeatable */
	IRC_QO_ALLOW_DNS = 1 << 12,
	IRC_QO_ALLOW_DHCP = 1 << 13,
	/* What every release takes: release host|pid|cgroup|--all, --from-file. */
	IRC_QO_RELEASE	= IRC_QO_REASON | IRC_QO_INCIDENT,
};

#define IRC_QO_ALLOW_MAX	64	/* --allow options */

struct irc_qopts {
	uint64_t ttl;			/* seconds, 0 = none */
	char ttl_text[32];		/* "2h", or "none" */
	const char *reason;		/* "" if not given */
	bool force;
	uint32_t dir;			/* enum irc_dir */
	uint32_t action;		/* enum irc_pact */
	bool children;			/* false with --no-children */
	int64_t incident;		/* --incident, 0 if not given */
	bool incident_unchecked;	/* IRC_QO_WRITE_FIRST: not looked up yet */
	char *operand;			/* the one target argument */
	const char *group;		/* --group, "" if not given */
	struct irc_cidr allow[IRC_QO_ALLOW_MAX];	/* --allow */
	int nallow;
	bool allow_dns, allow_dhcp;
	char usage[320];		/* as the table writes it */
};

/*
 * Parses argv (argv[0] is the verb) taking only the options in @allowed,
 * and exactly one operand (none with IRC_QO_NO_OPERAND).  An --incident
 * must name an open incident.  The usage line, in o->usage, is @what,
 * then @head (the operand's name, "PID"; NULL for none), then every
 * allowed option.  Returns 0, or an IRC_EXIT_* code after printing.
 */
int irc_qopts_parse(int argc, char **argv, unsigned int allowed,
		    const char *what, const char *head, struct irc_qopts *o);

/* The journal note of a IRC_QO_WRITE_FIRST verb, right after its kernel write. */
void irc_qopts_intent(const char *what, const struct irc_qopts *o);
/*
 * The --incident check of a IRC_QO_WRITE_FIRST verb, after its kernel
 * write: 0, or IRC_EXIT_USAGE (unknown or closed; the caller undoes its
 * write, so nothing changed) after printing.
 */
int irc_qopts_incident_late(const char *what, struct irc_qopts *o);

/*
 * What a quarantine host|cgroup did, printed: JSON (action, kind, target,
 * result, the direction of a host, ttl, reason) or one line of text.
 */
void irc_qopts_print(const struct irc_qopts *o, const char *kind, const char *target,
		     bool updated);

/* What a release did: built by each release verb, then printed once. */
struct irc_released {
	const char *kind;	/* "host", "pid", "cgroup" or "all" */
	const char *target;	/* as shown; unused for "all" */
	long n;			/* processes (pid) or entries (all) released */
};

/*
 * The release printed: JSON (action, the kind of a pid or cgroup, target,
 * result, a pid's processes; for all, the count released) or one line.
 */
void irc_release_print(const struct irc_released *r);

/* Expiry for an entry made now: CLOCK_BOOTTIME ns, 0 for no TTL. */
uint64_t irc_qopts_expiry(const struct irc_qopts *o);

const char *irc_pact_name(uint32_t action);

/*
 * The value of --incident ID for @what: a positive number naming an
 * incident that exists and is not closed.  0 with *@id set, or
 * IRC_EXIT_USAGE (bad, unknown or closed) or IRC_EXIT_FAIL (the store could
 * not be read) after printing.  Nothing is created.
 */
int irc_qopts_incident(const char *what, const char *arg, int64_t *id);

/*
 * After a containment or administrative command acted: records the action
 * (see irc_record_action(); @err is the kernel step's result) and drops
 * @detail.  Returns @ret, or IRC_EXIT_FAIL when the record failed: what was
 * done stays done, and a warning says it was not recorded.
 */
int irc_qrecord(int ret, int64_t incident, const char *type, const char *target,
		const char *reason, int err, json_t *detail);

#endif /* IRC_QOPTS_H */
