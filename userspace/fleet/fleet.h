/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fleet entries: the desired state of many hosts, one etcd key each,
 * signed by the operator who made it.
 *
 *   PREFIX q/GROUP/TARGET = {"payload": "<JSON text>", "signer": HEX, "sig": HEX}
 *
 * The payload says {"op", "kind", "group", "created" (unix ms), "expires"
 * (unix s, 0: none), "reason", "by" (USER@HOST)} and, by kind:
 *   "host": op "quarantine"|"release", "target", "direction";
 *   "isolate" (at PREFIX q/GROUP/isolation): op "on"|"off", "allow"
 *   (exempted CIDRs), "allow_dns", "allow_dhcp";
 *   "allow" (at PREFIX q/GROUP/allow-ADDR[_PLEN]): op "add"|"del", "target";
 *   "policy" (at PREFIX q/GROUP/policy): op "apply", "policy" (the YAML).  The Ed25519 signature covers
 * IRC_FLEET_SIG_CTX, the key and the payload, so an entry cannot be moved
 * to another key.  A release is a signed entry too: deleting a key, which
 * anyone with write access to etcd can do, releases nothing.
 *
 * Pure functions apart from the trust file: unit-tested without etcd.
 */
#ifndef IRC_FLEET_H
#define IRC_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "fleet_defs.h"
#include "etcd.h"
#include "parse.h"

/* The global options (main.c fills them in). */
struct irc_fleet_opts {
	const char *urls;		/* --fleet, IRCONTAIN_FLEET */
	const char *prefix;		/* --fleet-prefix, with a trailing '/' */
	const char *name;		/* --fleet-name, default the hostname */
	const char *groups[IRC_FLEET_MAX_GROUPS];	/* --fleet-group */
	int ngroups;
	const char *cert, *key, *ca;	/* --fleet-cert/-key/-ca */
};
extern struct irc_fleet_opts irc_fleet;

/* Checks the values and fills the defaults; IRC_EXIT_USAGE after printing. */
int irc_fleet_check_globals(void);
/* The endpoints, for commands that talk to etcd; IRC_EXIT_* after printing. */
int irc_fleet_cfg(const char *what, struct irc_etcd_cfg *cfg);
void irc_fleet_cfg_free(struct irc_etcd_cfg *cfg);

/* [A-Za-z0-9._-], 1..IRC_FLEET_NAME_MAX: agent and group names. */
int irc_fleet_name_ok(const char *s, const char **why);

/* What an entry asks (on) or takes back (off): a release, an isolation off. */
enum irc_fleet_op { IRC_FOP_QUARANTINE, IRC_FOP_RELEASE };
enum irc_fleet_kind { IRC_FK_HOST, IRC_FK_ISOLATE, IRC_FK_ALLOW, IRC_FK_POLICY };

struct irc_fentry {
	int op;				/* enum irc_fleet_op */
	int kind;			/* enum irc_fleet_kind */
	struct irc_cidr target;		/* IRC_FK_HOST, IRC_FK_ALLOW */
	/* IRC_FK_ISOLATE: exemptions and IRC_CFG_ISO_DNS|IRC_CFG_ISO_DHCP. */
	struct irc_cidr allow[IRC_FLEET_MAX_ALLOW];
	int nallow;
	uint32_t iso_flags;
	char *policy;			/* IRC_FK_POLICY: the YAML (malloc()ed: irc_fentry_clear()) */
	char group[IRC_FLEET_NAME_MAX + 1];	/* "" = every host */
	int64_t created_ms;		/* unix ms */
	int64_t expires_s;		/* unix s, 0: none */
	uint32_t dir;			/* enum irc_dir */
	char reason[IRC_REASON_LEN];
	char by[128];			/* USER@HOST */
	char signer[65];		/* hex */
};

/* PREFIX q/GROUP/ADDR[_PLEN] (or .../isolation, .../allow-ADDR[_PLEN]) into @buf. */
int irc_fentry_key(const char *prefix, const struct irc_fentry *f, char *buf, size_t len);

/* The signed value for @f at @key, malloc()ed.  @sk is 64 bytes. */
char *irc_fentry_sign(const struct irc_fentry *f, const char *key, const uint8_t sk[64]);

/*
 * Checks the value found at @key: well-formed, signed by one of @trusted
 * (@ntrusted keys of 32 bytes; NULL: by the key it names, whichever that
 * is), and at the key its payload names.
 * 0 with *@f filled, or -errno with *@why: -EBADMSG malformed,
 * -EKEYREJECTED bad signature, -ENOKEY signer not trusted, -EXDEV at
 * another key.  The signer is in f->signer whenever the value parsed.
 */
int irc_fentry_verify(const char *prefix, const char *key, const uint8_t *val, size_t len,
		      const uint8_t (*trusted)[32], size_t ntrusted,
		      struct irc_fentry *f, const char **why);

/* "quarantine", "release", "on", "off", "add", "del": @f's op as its payload says it. */
const char *irc_fentry_op_name(const struct irc_fentry *f);
/* "host", "isolate", "allow", "policy". */
const char *irc_fentry_kind_name(const struct irc_fentry *f);

/* Frees what irc_fentry_verify() allocated in @f. */
void irc_fentry_clear(struct irc_fentry *f);

/* True when an agent in @groups (@n of them) applies @f. */
bool irc_fentry_for_me(const struct irc_fentry *f, const char *const *groups, int n);

/* The trust list under @state_dir: up to IRC_FLEET_MAX_TRUST keys; 0 or -errno. */
int irc_trust_load(const char *state_dir, uint8_t (*keys)[32], size_t *n);
int irc_trust_save(const char *state_dir, const uint8_t (*keys)[32], size_t n);

/* 64 hex digits into 32 bytes; -EINVAL otherwise. */
int irc_hex_key(const char *s, uint8_t out[32]);

#endif /* IRC_FLEET_H */
