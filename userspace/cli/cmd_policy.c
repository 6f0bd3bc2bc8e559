// SPDX-License-Identifier: GPL-2.0-only
/* policy check|apply. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <sodium.h>

#include "cmd.h"
#include "entries.h"
#include "irc.h"
#include "pins.h"
#include "policy.h"
#include "protect.h"
#include "qopts.h"
#include "sensid.h"
#include "store.h"

/* The mode, or a network detector's switch, threshold or window. */
static bool net_policy_changed(const struct irc_detcfg *a, const struct irc_detcfg *b)
{
	int i;

	if (a->enforce != b->enforce)
		return true;
	for (i = IRC_DET_PORTSCAN; i <= IRC_DET_SYNFLOOD; i++) {
		const struct irc_det *x = &a->det[i], *y = &b->det[i];

		if (x->enabled != y->enabled || x->action != y->action ||
		    x->threshold != y->threshold || x->window_ns != y->window_ns ||
		    x->slow_threshold != y->slow_threshold ||
		    x->slow_window_ns != y->slow_window_ns)
			return true;
	}
	return false;
}

static int policy_apply(const struct irc_maps *m, const struct irc_policy *p,
			struct irc_sens_report *rep);

int irc_policy_apply(const struct irc_maps *m, const struct irc_policy *p,
		     struct irc_sens_report *rep)
{
	int lock = irc_pins_lock(), err;

	err = policy_apply(m, p, rep);
	if (lock >= 0)
		irc_pins_unlock(lock);
	return err;
}

/* irc_policy_apply() under the pin dir lock (irc_detcfg is read, changed, written). */
static int policy_apply(const struct irc_maps *m, const struct irc_policy *p,
			struct irc_sens_report *rep)
{
	struct irc_detcfg cfg = p->det, cur;
	struct irc_arec *recs;
	size_t n, i;
	__u32 zero = 0;
	int j, err;

	cfg.boot_to_real_ns = (int64_t)irc_now_real_ns() - (int64_t)irc_now_boot_ns();
	/* Set by load: the protected netns and this load's port hash key. */
	if (bpf_map_lookup_elem(m->fd[IRC_M_DETCFG], &zero, &cur))
		return -errno;
	cfg.netns_ino = cur.netns_ino;
	memcpy(cfg.port_key, cur.port_key, sizeof(cfg.port_key));
	err = irc_protect_refresh(m);
	if (err)
		return err;
	/*
	 * The identities before the config that names them; what the kernel
	 * learned under the last policy goes (this one may not name it).
	 */
	err = irc_sens_resolve(m, &cfg, rep);
	if (err)
		return err;
	/* Allowlist first: a new detector config never meets a stale list. */
	err = irc_arecs_collect(m, &recs, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct irc_key key;
		bool keep = false;

		if (!(recs[i].val.flags & IRC_ALLOW_POLICY))
			continue;
		for (j = 0; j < p->nallow && !keep; j++)
			keep = !memcmp(&recs[i].target, &p->allow[j], sizeof(p->allow[j]));
		if (keep)
			continue;
		irc_akey(&recs[i].target, &key);
		recs[i].val.flags &= ~IRC_ALLOW_POLICY;
		if (recs[i].val.flags)
			bpf_map_update_elem(m->fd[key.map], &key.k, &recs[i].val, BPF_EXIST);
		else
			bpf_map_delete_elem(m->fd[key.map], &key.k);
	}
	free(recs);
	for (j = 0; j < p->nallow; j++) {
		struct irc_allow val = {};
		struct irc_key key;

		irc_akey(&p->allow[j], &key);
		if (bpf_map_lookup_elem(m->fd[key.map], &key.k, &val)) {
			val.created_ns = irc_now_real_ns();
			val.actor_uid = irc_actor_uid();
		}
		val.flags |= IRC_ALLOW_POLICY | IRC_ALLOW_ALWAYS;
		val.plen = p->allow[j].plen;
		if (bpf_map_update_elem(m->fd[key.map], &key.k, &val, BPF_ANY))
			return -errno;
	}
	if (bpf_map_update_elem(m->fd[IRC_M_DETCFG], &zero, &cfg, BPF_ANY))
		return -errno;
	/*
	 * A source counted under the old mode or thresholds may already be
	 * past the new ones (or marked as fired): the windows start over, so
	 * the new policy acts on the next packet, not after the window.  The
	 * offence history stays.
	 */
	if (net_policy_changed(&cur, &cfg)) {
		irc_map_clear(m->fd[IRC_M_NETSTATE]);
		irc_map_clear(m->fd[IRC_M_DSTSTATE]);
	}
	return 0;
}

/* A refused policy's errors as JSON (the text goes to stderr either way). */
static json_t *errors_json(const char *path, const struct irc_policy_errors *errs)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; i < errs->n; i++)
		json_array_append_new(arr, json_pack("{s:i,s:s}", "line", errs->line[i],
						     "message", errs->msg[i]));
	return json_pack("{s:s,s:b,s:o}", "file", path, "valid", 0, "errors", arr);
}

/* Loads @path; prints its errors. 0, IRC_EXIT_USAGE or IRC_EXIT_FAIL. */
static int load_or_report(const char *what, const char *path, struct irc_policy *p)
{
	struct irc_policy_errors errs;
	int err = irc_policy_load(path, p, &errs);

	if (err == -EINVAL) {
		if (irc.json)
			irc_json_print(errors_json(path, &errs));
		irc_policy_print_errors(stderr, path, &errs);
		fprintf(stderr, "ircontain: %s %s: %d error%s: the policy is refused whole\n",
			what, path, errs.n, errs.n == 1 ? "" : "s");
		return IRC_EXIT_USAGE;
	}
	if (err == -EBADF || err == -EFBIG)
		return irc_usage_err("%s %s: %s", what, path, err == -EBADF ?
				     "not a regular file" : "larger than 1 MiB");
	if (err) {
		irc_err("%s %s: %s", what, path, strerror(-err));
		return err == -ENOENT ? IRC_EXIT_USAGE : IRC_EXIT_FAIL;
	}
	return 0;
}

static void summary_text(const char *path, const struct irc_policy *p, const char *result)
{
	int i;

	printf("%s: %s (mode %s, %d allowlist entr%s", path, result,
	       p->det.enforce ? "enforce" : "monitor", p->nallow, p->nallow == 1 ? "y" : "ies");
	for (i = 0; i < IRC_DET__MAX; i++)
		printf(", %s %s", irc_detector_name(i),
		       p->det.det[i].enabled ? irc_action_name(p->det.det[i].action) : "off");
	printf(")\n");
}

/* @sens: what apply resolved for sensitive_read (NULL for check); taken. */
static json_t *summary_json(const char *path, const struct irc_policy *p, const char *result,
			    json_t *sens)
{
	json_t *dets = json_object();
	int i;

	for (i = 0; i < IRC_DET__MAX; i++) {
		const struct irc_det *d = &p->det.det[i];

		json_t *o = json_pack(
			"{s:b,s:s,s:s,s:i,s:I,s:I,s:i,s:I}", "enabled", d->enabled,
			"action", irc_action_name(d->action),
			"severity", irc_severity_name(d->severity),
			"threshold", d->threshold,
			"window_s", (json_int_t)(d->window_ns / 1000000000ULL),
			"ttl_s", (json_int_t)(d->ttl_ns / 1000000000ULL),
			"factor", d->factor,
			"max_ttl_s", (json_int_t)(d->max_ttl_ns / 1000000000ULL));

		if (i == IRC_DET_PORTSCAN) {
			json_object_set_new(o, "slow_threshold", json_integer(d->slow_threshold));
			json_object_set_new(o, "slow_window_s",
					    json_integer(d->slow_window_ns / 1000000000ULL));
			json_object_set_new(o, "unverified_ttl_s",
					    json_integer(d->unverified_ttl_ns / 1000000000ULL));
		}
		json_object_set_new(dets, irc_detector_name(i), o);
	}
	if (sens)
		json_object_set_new(json_object_get(dets, "sensitive_read"), "resolved", sens);
	return json_pack("{s:s,s:b,s:s,s:s,s:i,s:o}", "file", path, "valid", 1,
		"result", result, "mode", p->det.enforce ? "enforce" : "monitor",
		"allowlist", p->nallow, "detectors", dets);
}

/* What check or apply found, printed once; @sens as for summary_json(). */
static void summary(const char *path, const struct irc_policy *p, const char *result,
		    json_t *sens)
{
	if (irc.json) {
		irc_json_print(summary_json(path, p, result, sens));
	} else {
		json_decref(sens);
		summary_text(path, p, result);
	}
}

static int do_policy_check(int argc, char **argv)
{
	struct irc_policy p;
	char **ops;
	int ret;

	ops = irc_args(argc, argv, 1, "policy check", "policy check FILE");
	if (!ops)
		return IRC_EXIT_USAGE;
	ret = load_or_report("policy check", ops[0], &p);
	if (ret)
		return ret;
	summary(ops[0], &p, "valid", NULL);
	return IRC_EXIT_OK;
}


static int do_policy_apply(int argc, char **argv)
{
	struct irc_sens_report rep;
	char abs[PATH_MAX];
	struct irc_policy p;
	struct irc_maps m;
	char **ops;
	int ret, err;

	ops = irc_args(argc, argv, 1, "policy apply", "policy apply FILE");
	if (!ops)
		return IRC_EXIT_USAGE;
	ret = load_or_report("policy apply", ops[0], &p);
	if (ret)
		return ret;
	if (irc_maps_open("policy apply", &m))
		return IRC_EXIT_FAIL;
	err = irc_policy_apply(&m, &p, &rep);
	irc_maps_close(&m);
	if (err) {
		irc_err("policy apply %s: %s", ops[0], strerror(-err));
		ret = IRC_EXIT_FAIL;
	} else {
		irc_sens_warn("policy apply", &p.det, &rep);
		summary(ops[0], &p, "applied", irc_sens_report_json(&p.det, &rep));
	}
	return irc_qrecord(ret, 0, "policy.apply", NULL, NULL, err,
			   json_pack("{s:o,s:o,s:s,s:i}", "file",
				     json_string(realpath(ops[0], abs) ? abs : ops[0]) ?: json_null(),
				     "sha256", irc_sha256_json(ops[0]),
				     "mode", p.det.enforce ? "enforce" : "monitor",
				     "allowlist", p.nallow));
}

int do_policy(int argc, char **argv)
{
	static const struct irc_cmd cmds[] = {
		{ "check", do_policy_check },
		{ "apply", do_policy_apply },
		{ 0 }
	};

	return irc_cmd_dispatch("policy", cmds, argc - 1, argv + 1);
}
