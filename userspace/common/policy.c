// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy parsing with libyaml's document API: the node tree keeps each
 * node's position, so every error names its line.  Unknown keys, wrong
 * types and out-of-range values are all errors: nothing is defaulted
 * silently, and a policy with any error is refused whole.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "store_defs.h"

#include "policy.h"

#define NS	1000000000ULL

static const char *const det_names[IRC_DET__MAX] = {
	[IRC_DET_PORTSCAN] = "portscan",
	[IRC_DET_SYNFLOOD] = "synflood",
	[IRC_DET_EXEC_TMP] = "exec_tmp",
	[IRC_DET_FILELESS] = "fileless",
	[IRC_DET_REVSHELL] = "reverse_shell",
	[IRC_DET_SENSITIVE] = "sensitive_read",
	[IRC_DET_PTRACE] = "ptrace",
	[IRC_DET_MODULE] = "module_load",
};

static bool is_network(unsigned int det)
{
	return det == IRC_DET_PORTSCAN || det == IRC_DET_SYNFLOOD;
}

const char *irc_detector_name(unsigned int det)
{
	return det < IRC_DET__MAX ? det_names[det] : "unknown";
}

const char *irc_action_name(unsigned int a)
{
	switch (a) {
	case IRC_ACT_ALERT: return "alert";
	case IRC_ACT_QUAR_HOST: return "quarantine-host";
	case IRC_ACT_QUAR_PROC: return "quarantine-process";
	case IRC_ACT_KILL: return "kill";
	case IRC_ACT_CONTAIN_KILL: return "contain-then-kill";
	default: return "unknown";
	}
}

const char *irc_severity_name(unsigned int s)
{
	switch (s) {
	case IRC_SEV_LOW: return "low";
	case IRC_SEV_MEDIUM: return "medium";
	case IRC_SEV_HIGH: return "high";
	case IRC_SEV_CRITICAL: return "critical";
	default: return "unknown";
	}
}

int irc_severity_parse(const char *s)
{
	unsigned int sev;

	for (sev = IRC_SEV_LOW; sev <= IRC_SEV_CRITICAL; sev++)
		if (!strcmp(s, irc_severity_name(sev)))
			return sev;
	return -EINVAL;
}

void irc_policy_defaults(struct irc_policy *p)
{
	static const char *const allowed[] = {
		"/usr/sbin/sshd", "/usr/lib/openssh/sshd-session", "/usr/bin/login",
		"/usr/bin/passwd", "/usr/sbin/unix_chkpwd", "/usr/bin/su", "/usr/bin/sudo",
		"/usr/sbin/chpasswd", "/usr/sbin/usermod", "/usr/sbin/useradd", "/usr/sbin/cron",
	};
	size_t i;
	struct irc_det *ps = &p->det.det[IRC_DET_PORTSCAN];
	struct irc_det *sf = &p->det.det[IRC_DET_SYNFLOOD];

	memset(p, 0, sizeof(*p));
	p->store = (struct irc_store_policy){ .max_bytes = IRC_STORE_MAX_SIZE,
		.max_age_s = IRC_STORE_MAX_AGE, .keep_unexported = 1 };
	*ps = (struct irc_det){ .enabled = 1, .action = IRC_ACT_QUAR_HOST,
		.severity = IRC_SEV_HIGH, .threshold = 20, .window_ns = 10 * NS,
		.ttl_ns = 600 * NS, .factor = 2, .max_ttl_ns = 86400 * NS,
		.slow_threshold = 20, .slow_window_ns = 600 * NS,
		.unverified_ttl_ns = 60 * NS };
	*sf = (struct irc_det){ .enabled = 1, .action = IRC_ACT_QUAR_HOST,
		.severity = IRC_SEV_HIGH, .threshold = 500, .window_ns = 1 * NS,
		.ttl_ns = 600 * NS, .factor = 2, .max_ttl_ns = 86400 * NS };
	p->det.det[IRC_DET_EXEC_TMP] = (struct irc_det){ .enabled = 1,
		.action = IRC_ACT_ALERT, .severity = IRC_SEV_MEDIUM };
	/* The evidence of what ran: stopped, snapshotted, then killed. */
	p->det.det[IRC_DET_FILELESS] = (struct irc_det){ .enabled = 1,
		.action = IRC_ACT_CONTAIN_KILL, .severity = IRC_SEV_HIGH };
	p->det.det[IRC_DET_REVSHELL] = (struct irc_det){ .enabled = 1,
		.action = IRC_ACT_CONTAIN_KILL, .severity = IRC_SEV_CRITICAL };
	p->det.det[IRC_DET_SENSITIVE] = (struct irc_det){ .enabled = 1,
		.action = IRC_ACT_ALERT, .severity = IRC_SEV_HIGH };
	p->det.det[IRC_DET_PTRACE] = (struct irc_det){ .enabled = 1,
		.action = IRC_ACT_ALERT, .severity = IRC_SEV_MEDIUM };
	p->det.det[IRC_DET_MODULE] = (struct irc_det){ .enabled = 1,
		.action = IRC_ACT_ALERT, .severity = IRC_SEV_HIGH };
	snprintf(p->det.sens_files[0], IRC_SENS_PATH_LEN, "/etc/shadow");
	snprintf(p->det.sens_files[1], IRC_SENS_PATH_LEN, "/etc/gshadow");
	snprintf(p->det.sens_files[2], IRC_SENS_PATH_LEN, "/root/.ssh/id_*");
	/* Debian 12's paths; one that does not exist here is reported by apply. */
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		snprintf(p->det.sens_allowed[i], IRC_SENS_PATH_LEN, "%s", allowed[i]);
	/* A remote login relays a shell over the network by design. */
	snprintf(p->det.rsh_allowed[0], IRC_RSH_PATH_LEN, "/usr/sbin/sshd");
	snprintf(p->det.rsh_allowed[1], IRC_RSH_PATH_LEN, "/usr/lib/openssh/sshd-session");
	snprintf(p->det.rsh_allowed[2], IRC_RSH_PATH_LEN, "/usr/sbin/dropbear");
}

struct ctx {
	yaml_document_t *doc;
	struct irc_policy *p;
	struct irc_policy_errors *errs;
};

static void err_at(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err_at(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	if (c->errs->n >= IRC_POLICY_MAX_ERRORS)
		return;
	/* A file-level error (no node: the policy is empty) is on line 1. */
	c->errs->line[c->errs->n] = n ? (int)n->start_mark.line + 1 : 1;
	va_start(ap, fmt);
	vsnprintf(c->errs->msg[c->errs->n], sizeof(c->errs->msg[0]), fmt, ap);
	va_end(ap);
	c->errs->n++;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* A key given twice in one mapping: YAML would keep the last silently. */
static void check_dupes(struct ctx *c, yaml_node_t *m)
{
	yaml_node_pair_t *a, *b;

	if (m->type != YAML_MAPPING_NODE)
		return;
	for (a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++)
		for (b = m->data.mapping.pairs.start; b < a; b++) {
			const char *ka = scalar(node(c, a->key)), *kb = scalar(node(c, b->key));

			if (ka && kb && !strcmp(ka, kb)) {
				err_at(c, node(c, a->key), "key '%s' given twice (first at line %d)",
				       ka, (int)node(c, b->key)->start_mark.line + 1);
				break;
			}
		}
}

static int want_scalar(struct ctx *c, yaml_node_t *v, const char *key, const char **out)
{
	*out = scalar(v);
	if (!*out) {
		err_at(c, v, "'%s' must be a single value", key);
		return -1;
	}
	return 0;
}

static void get_bool(struct ctx *c, yaml_node_t *v, const char *key, __u32 *out)
{
	const char *s;

	if (want_scalar(c, v, key, &s))
		return;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = 0;
	else
		err_at(c, v, "'%s' must be true or false, not '%s'", key, s);
}

static void get_uint(struct ctx *c, yaml_node_t *v, const char *key, uint64_t min,
		     uint64_t max, __u32 *out)
{
	const char *s;
	uint64_t x;

	if (want_scalar(c, v, key, &s))
		return;
	if (irc_parse_u64(s, min, max, &x, NULL))
		err_at(c, v, "'%s' must be a whole number from %llu to %llu, not '%s'", key,
		       (unsigned long long)min, (unsigned long long)max, s);
	else
		*out = x;
}

static void get_duration(struct ctx *c, yaml_node_t *v, const char *key,
			 uint64_t max_sec, __u64 *out)
{
	const char *s, *why;
	uint64_t sec;

	if (want_scalar(c, v, key, &s))
		return;
	if (irc_parse_duration(s, &sec, &why))
		err_at(c, v, "'%s': bad duration '%s': %s", key, s, why);
	else if (sec > max_sec)
		err_at(c, v, "'%s': %s is longer than the %llus maximum", key, s,
		       (unsigned long long)max_sec);
	else
		*out = sec * NS;
}

static void get_severity(struct ctx *c, yaml_node_t *v, __u32 *out)
{
	const char *s;
	int sev;

	if (want_scalar(c, v, "severity", &s))
		return;
	sev = irc_severity_parse(s);
	if (sev > 0) {
		*out = sev;
		return;
	}
	err_at(c, v, "'severity' must be low, medium, high or critical, not '%s'", s);
}

static void get_action(struct ctx *c, yaml_node_t *v, unsigned int det, __u32 *out)
{
	const char *s;

	if (want_scalar(c, v, "action", &s))
		return;
	if (!strcmp(s, "alert"))
		*out = IRC_ACT_ALERT;
	else if (!strcmp(s, "quarantine-host") && is_network(det))
		*out = IRC_ACT_QUAR_HOST;
	else if (!strcmp(s, "quarantine-process") && !is_network(det))
		*out = IRC_ACT_QUAR_PROC;
	else if (!strcmp(s, "kill") && !is_network(det))
		*out = IRC_ACT_KILL;
	else if (!strcmp(s, "contain-then-kill") && !is_network(det))
		*out = IRC_ACT_CONTAIN_KILL;
	else if (!strcmp(s, "quarantine-host") || !strcmp(s, "quarantine-process") ||
		 !strcmp(s, "kill") || !strcmp(s, "contain-then-kill"))
		err_at(c, v, "action '%s' is not available for %s: use %s", s,
		       irc_detector_name(det), is_network(det) ?
		       "alert or quarantine-host" :
		       "alert, quarantine-process, kill or contain-then-kill");
	else
		err_at(c, v, "'action' must be alert, quarantine-host, quarantine-process, kill or contain-then-kill, not '%s'", s);
}

/*
 * A list of up to @max strings shorter than @len into @out[max][len]:
 * absolute paths of files (@path), with a final '*' for a prefix where
 * @pattern.
 */
static void get_strings(struct ctx *c, yaml_node_t *seq, const char *key, char *out,
			int max, int len, bool path, bool pattern)
{
	yaml_node_item_t *it;
	int n = 0;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(c, seq, "'%s' must be a list", key);
		return;
	}
	memset(out, 0, (size_t)max * len);
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *v = node(c, *it);
		const char *s = scalar(v);

		if (!s || !*s) {
			err_at(c, v, "'%s' entries must be non-empty strings", key);
			continue;
		}
		if (n == max) {
			err_at(c, v, "'%s' has more than %d entries", key, max);
			return;
		}
		if ((int)strlen(s) >= len) {
			err_at(c, v, "'%s' entry '%s' is longer than %d characters", key, s, len - 1);
			continue;
		}
		if (path && s[0] != '/') {
			err_at(c, v, "'%s' entry '%s' must be an absolute path%s", key, s,
			       pattern ? "" : " (a program is allowed by its executable's path, not its name)");
			continue;
		}
		if (path && strchr(s, '*') && (!pattern || strchr(s, '*') != s + strlen(s) - 1)) {
			err_at(c, v, pattern ? "'%s' entry '%s': '*' is only allowed at the end" :
			       "'%s' entry '%s': no '*' in a program's path", key, s);
			continue;
		}
		/* The kernel compares the last component, bounded. */
		if (path && strlen(strrchr(s, '/') + 1) - (pattern && strchr(s, '*')) > IRC_SENS_NAME_MAX) {
			err_at(c, v, "'%s' entry '%s': its file name is longer than %d characters",
			       key, s, IRC_SENS_NAME_MAX);
			continue;
		}
		if (path && (s[strlen(s) - 1] == '/' || strstr(s, "/./") || strstr(s, "/../") ||
			     !strcmp(strrchr(s, '/'), "/.") || !strcmp(strrchr(s, '/'), "/.."))) {
			err_at(c, v, "'%s' entry '%s' must name a file (no trailing '/', '.' or '..')",
			       key, s);
			continue;
		}
		memcpy(out + (size_t)n * len, s, strlen(s));
		n++;
	}
}

/* Returns the max_ttl node, if there is one (for the ttl check's line). */
static yaml_node_t *parse_escalation(struct ctx *c, yaml_node_t *m, struct irc_det *d)
{
	yaml_node_t *max_at = NULL;
	yaml_node_pair_t *pr;

	if (m->type != YAML_MAPPING_NODE) {
		err_at(c, m, "'escalation' must be a mapping (factor, max_ttl)");
		return NULL;
	}
	check_dupes(c, m);
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *key = scalar(k) ?: "";

		if (!strcmp(key, "factor"))
			get_uint(c, v, key, 1, 16, &d->factor);
		else if (!strcmp(key, "max_ttl")) {
			get_duration(c, v, key, IRC_MAX_TTL_SEC, &d->max_ttl_ns);
			max_at = v;
		} else
			err_at(c, k, "unknown key '%s' in escalation (factor, max_ttl)", key);
	}
	return max_at;
}

static void parse_detector(struct ctx *c, yaml_node_t *m, unsigned int det)
{
	struct irc_det *d = &c->p->det.det[det];
	const char *thr = det == IRC_DET_PORTSCAN ? "ports" : "syns";
	yaml_node_t *ttl_at = NULL, *max_at = NULL, *slow_at = NULL;
	yaml_node_pair_t *pr;

	if (m->type != YAML_MAPPING_NODE) {
		err_at(c, m, "detector '%s' must be a mapping", irc_detector_name(det));
		return;
	}
	check_dupes(c, m);
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *key = scalar(k) ?: "";
		bool net = is_network(det);

		if (!strcmp(key, "enabled"))
			get_bool(c, v, key, &d->enabled);
		else if (!strcmp(key, "severity"))
			get_severity(c, v, &d->severity);
		else if (!strcmp(key, "action"))
			get_action(c, v, det, &d->action);
		else if (!strcmp(key, "ttl")) {
			get_duration(c, v, key, IRC_MAX_TTL_SEC, &d->ttl_ns);
			ttl_at = v;
		} else if (net && !strcmp(key, thr))
			get_uint(c, v, key, 2, det == IRC_DET_PORTSCAN ? IRC_PORT_BITS : 10000000,
				 &d->threshold);
		else if (net && !strcmp(key, "window"))
			get_duration(c, v, key, 3600, &d->window_ns);
		else if (net && !strcmp(key, "escalation"))
			max_at = parse_escalation(c, v, d);
		else if (det == IRC_DET_PORTSCAN && !strcmp(key, "slow_ports"))
			get_uint(c, v, key, 2, IRC_PORT_BITS, &d->slow_threshold);
		else if (det == IRC_DET_PORTSCAN && !strcmp(key, "slow_window")) {
			get_duration(c, v, key, 86400, &d->slow_window_ns);
			slow_at = v;
		} else if (det == IRC_DET_PORTSCAN && !strcmp(key, "unverified_ttl"))
			get_duration(c, v, key, IRC_MAX_TTL_SEC, &d->unverified_ttl_ns);
		else if (det == IRC_DET_SENSITIVE && !strcmp(key, "files"))
			get_strings(c, v, key, &c->p->det.sens_files[0][0], IRC_SENS_FILES,
				    IRC_SENS_PATH_LEN, true, true);
		else if (det == IRC_DET_SENSITIVE && !strcmp(key, "allowed"))
			get_strings(c, v, key, &c->p->det.sens_allowed[0][0], IRC_SENS_ALLOWED,
				    IRC_SENS_PATH_LEN, true, false);
		else if (det == IRC_DET_REVSHELL && !strcmp(key, "allowed"))
			get_strings(c, v, key, &c->p->det.rsh_allowed[0][0], IRC_RSH_ALLOWED,
				    IRC_RSH_PATH_LEN, true, true);
		else if (net)
			err_at(c, k, "unknown key '%s' in detector '%s' (enabled, %s, window, %sseverity, action, ttl, %sescalation)",
			       key, irc_detector_name(det), thr,
			       det == IRC_DET_PORTSCAN ? "slow_ports, slow_window, " : "",
			       det == IRC_DET_PORTSCAN ? "unverified_ttl, " : "");
		else
			err_at(c, k, "unknown key '%s' in detector '%s' (enabled, severity, action, ttl%s)",
			       key, irc_detector_name(det),
			       det == IRC_DET_SENSITIVE ? ", files, allowed" :
			       det == IRC_DET_REVSHELL ? ", allowed" : "");
	}
	/* The slow window must see more than the fast one. */
	if (slow_at && d->slow_window_ns && d->slow_window_ns <= d->window_ns)
		err_at(c, slow_at, "detector '%s': slow_window must be longer than window",
		       irc_detector_name(det));
	/* At the line that set either, not at the detector's first key. */
	if (d->max_ttl_ns && d->ttl_ns > d->max_ttl_ns)
		err_at(c, ttl_at ?: max_at ?: m, "detector '%s': ttl is longer than escalation.max_ttl",
		       irc_detector_name(det));
}

static void parse_detectors(struct ctx *c, yaml_node_t *m)
{
	yaml_node_pair_t *pr;
	unsigned int i;

	if (m->type != YAML_MAPPING_NODE) {
		err_at(c, m, "'detectors' must be a mapping of detector names");
		return;
	}
	check_dupes(c, m);
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key);
		const char *key = scalar(k) ?: "";

		for (i = 0; i < IRC_DET__MAX; i++)
			if (!strcmp(key, det_names[i]))
				break;
		if (i == IRC_DET__MAX)
			err_at(c, k, "unknown detector '%s' (portscan, synflood, exec_tmp, fileless, reverse_shell, sensitive_read, ptrace, module_load)",
			       key);
		else
			parse_detector(c, node(c, pr->value), i);
	}
}

static void parse_allowlist(struct ctx *c, yaml_node_t *seq)
{
	yaml_node_item_t *it;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(c, seq, "'allowlist' must be a list of addresses or prefixes");
		return;
	}
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *v = node(c, *it);
		const char *s = scalar(v), *why;

		if (!s) {
			err_at(c, v, "allowlist entries must be addresses or prefixes");
			continue;
		}
		if (c->p->nallow == IRC_POLICY_MAX_ALLOW) {
			err_at(c, v, "more than %d allowlist entries", IRC_POLICY_MAX_ALLOW);
			return;
		}
		if (irc_parse_target(s, false, &c->p->allow[c->p->nallow], &why))
			err_at(c, v, "allowlist: bad address '%s': %s", s, why);
		else
			c->p->nallow++;
	}
}

/* store: max_size, max_age ("off" for none), keep_until_exported. */
static void parse_store(struct ctx *c, yaml_node_t *m)
{
	struct irc_store_policy *sp = &c->p->store;
	yaml_node_pair_t *pr;
	const char *s, *why;
	uint64_t x;

	if (m->type != YAML_MAPPING_NODE) {
		err_at(c, m, "'store' must be a mapping (max_size, max_age, keep_until_exported)");
		return;
	}
	check_dupes(c, m);
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *key = scalar(k) ?: "";

		if (!strcmp(key, "keep_until_exported")) {
			get_bool(c, v, key, &sp->keep_unexported);
			continue;
		}
		if (strcmp(key, "max_size") && strcmp(key, "max_age")) {
			err_at(c, k, "unknown key '%s' in store (max_size, max_age, keep_until_exported)",
			       key);
			continue;
		}
		if (want_scalar(c, v, key, &s))
			continue;
		if (!strcmp(s, "off"))
			x = 0;
		else if (key[4] == 's' ? irc_parse_size(s, IRC_STORE_SIZE_MIN, IRC_STORE_SIZE_MAX, &x, &why)
				       : irc_parse_duration(s, &x, &why)) {
			err_at(c, v, "'%s': bad %s '%s': %s (%s, or off)", key,
			       key[4] == 's' ? "size" : "duration", s, why,
			       key[4] == 's' ? "1M to 1T, such as 512M or 1G" : "such as 30d or 12w");
			continue;
		}
		if (key[4] == 's')
			sp->max_bytes = x;
		else
			sp->max_age_s = x;
	}
}

/* fleet: share_findings: DURATION|off */
static void parse_fleet(struct ctx *c, yaml_node_t *m)
{
	yaml_node_pair_t *pr;

	if (m->type != YAML_MAPPING_NODE) {
		err_at(c, m, "'fleet' must be a mapping (share_findings)");
		return;
	}
	check_dupes(c, m);
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *key = scalar(k) ?: "", *s, *why;
		uint64_t x;

		if (strcmp(key, "share_findings")) {
			err_at(c, k, "unknown key '%s' in fleet (share_findings)", key);
			continue;
		}
		if (want_scalar(c, v, key, &s))
			continue;
		if (!strcmp(s, "off"))
			x = 0;
		else if (irc_parse_duration(s, &x, &why)) {
			err_at(c, v, "'share_findings': bad duration '%s': %s (the TTL of a shared "
			       "quarantine, such as 10m, or off)", s, why);
			continue;
		}
		c->p->fleet_share_ttl_s = x;
	}
}

static void parse_root(struct ctx *c, yaml_node_t *root)
{
	yaml_node_pair_t *pr;

	if (!root) {
		err_at(c, NULL, "the policy is empty");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_at(c, root, "the policy must be a mapping (mode, allowlist, detectors)");
		return;
	}
	check_dupes(c, root);
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *key = scalar(k) ?: "";
		const char *s;

		if (!strcmp(key, "mode")) {
			if (want_scalar(c, v, key, &s))
				continue;
			if (!strcmp(s, "monitor"))
				c->p->det.enforce = 0;
			else if (!strcmp(s, "enforce"))
				c->p->det.enforce = 1;
			else
				err_at(c, v, "'mode' must be monitor or enforce, not '%s'", s);
		} else if (!strcmp(key, "allowlist")) {
			parse_allowlist(c, v);
		} else if (!strcmp(key, "detectors")) {
			parse_detectors(c, v);
		} else if (!strcmp(key, "store")) {
			parse_store(c, v);
		} else if (!strcmp(key, "fleet")) {
			parse_fleet(c, v);
		} else {
			err_at(c, k, "unknown key '%s' (mode, allowlist, detectors, store, fleet)", key);
		}
	}
}

/* The parser's error, as the next of @errs. */
static void yaml_error(const yaml_parser_t *parser, struct irc_policy_errors *errs,
		       const char *what)
{
	const char *ctx = parser->context;
	int i = errs->n;

	if (i >= IRC_POLICY_MAX_ERRORS)
		return;
	errs->line[i] = parser->problem_mark.line + 1;
	snprintf(errs->msg[i], sizeof(errs->msg[i]), "%s: %s", what,
		 parser->problem ? parser->problem : "syntax error");
	/*
	 * An unclosed '[', '{' or quote is only noticed lines later, often
	 * past the last line: name the line where it opens.
	 */
	if (ctx && (strstr(ctx, "a flow sequence") || strstr(ctx, "a flow mapping") ||
		    strstr(ctx, "a quoted scalar"))) {
		errs->line[i] = parser->context_mark.line + 1;
		snprintf(errs->msg[i], sizeof(errs->msg[i]),
			 "%s: %s in the %s that starts here (noticed at line %zu)", what,
			 parser->problem ? parser->problem : "syntax error",
			 strstr(ctx, " a ") + 3, parser->problem_mark.line + 1);
	}
	errs->n++;
}

int irc_policy_parse(const char *text, size_t len, struct irc_policy *p,
		     struct irc_policy_errors *errs)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .doc = &doc, .p = p, .errs = errs };

	memset(errs, 0, sizeof(*errs));
	irc_policy_defaults(p);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_error(&parser, errs, "not valid YAML");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	parse_root(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	/* A second document would be ignored by the loader: refuse it, broken or not. */
	if (yaml_parser_load(&parser, &doc)) {
		yaml_node_t *r = yaml_document_get_root_node(&doc);

		if (r)
			err_at(&c, r, "a second YAML document ('---'): a policy is one document");
		yaml_document_delete(&doc);
	} else {
		yaml_error(&parser, errs, "not valid YAML after the first document (a policy is "
			   "one document)");
	}
	yaml_parser_delete(&parser);
	return errs->n ? -EINVAL : 0;
}

int irc_policy_load(const char *path, struct irc_policy *p,
		    struct irc_policy_errors *errs)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0, r;
	int fd, err = 0;

	memset(errs, 0, sizeof(*errs));
	/* Never blocks: a FIFO or a device is refused, not read from. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EBADF;
	else if (st.st_size > IRC_POLICY_MAX_BYTES)
		err = -EFBIG;
	else if (!(buf = malloc(st.st_size + 1)))
		err = -ENOMEM;
	/* Read no more than it had when checked, whatever it grows to. */
	while (!err && n < st.st_size && (r = read(fd, buf + n, st.st_size - n)) != 0)
		if (r < 0)
			err = errno == EINTR ? 0 : -errno;
		else
			n += r;
	if (!err) {
		buf[n] = '\0';
		err = irc_policy_parse(buf, n, p, errs);
	}
	free(buf);
	close(fd);
	return err;
}

void irc_policy_print_errors(FILE *f, const char *path,
			     const struct irc_policy_errors *errs)
{
	int i;

	for (i = 0; i < errs->n; i++)
		fprintf(f, "%s:%d: %s\n", path, errs->line[i], errs->msg[i]);
}
