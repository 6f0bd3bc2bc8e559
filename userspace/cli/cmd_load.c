// SPDX-License-Identifier: GPL-2.0-only
/* load, unload, status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "cmd.h"
#include "entries.h"
#include "ifdrops.h"
#include "irc.h"
#include "loader.h"
#include "netif.h"
#include "parse.h"
#include "pins.h"
#include "protect.h"
#include "restore.h"
#include "run.h"
#include "store.h"

/*
 * `--iface` values: names or globs, several per value with commas.  Names
 * must exist (a typo is bad input); a glob may match nothing yet (the
 * controller attaches to what appears).  Fills @pats (pointers into a
 * copy of the argument) and @nifs.  Returns 0 or an IRC_EXIT_* code.
 */
int irc_iface_args(const char *what, char *arg, char **pats, int *npats,
		   struct irc_netif *nifs, int *n)
{
	char *tok, *save = NULL;
	const char *why;
	int j, err;

	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*npats == IRC_MAX_IFPATTERNS || *n == IRC_MAX_IFACES)
			return irc_usage_err("%s: more than %d interfaces", what, IRC_MAX_IFACES);
		if (irc_parse_ifname(tok, &why))
			return irc_usage_err("%s: bad interface name '%s': %s", what, tok, why);
		pats[(*npats)++] = tok;
		if (irc_ifpattern_is_glob(tok))
			continue;
		err = irc_netif_by_name(tok, &nifs[*n]);
		if (err == -ENODEV)
			return irc_usage_err("%s: no interface named '%s'", what, tok);
		if (err) {
			irc_err("%s: look up interface '%s': %s", what, tok, strerror(-err));
			return IRC_EXIT_FAIL;
		}
		if (nifs[*n].loopback)
			return irc_usage_err("%s: '%s' is the loopback interface; loopback traffic is never contained",
					     what, tok);
		for (j = 0; j < *n; j++)
			if (nifs[j].ifindex == nifs[*n].ifindex)
				return irc_usage_err("%s: interface '%s' named twice", what, tok);
		(*n)++;
	}
	return 0;
}

/* Adds the interfaces the globs of @pats match now, each once. */
static int iface_globs(char **pats, int npats, struct irc_netif *nifs, int *n)
{
	struct irc_netif found[IRC_MAX_IFACES];
	char *globs[IRC_MAX_IFPATTERNS];
	int i, j, k, ng = 0, nf;

	for (i = 0; i < npats; i++)
		if (irc_ifpattern_is_glob(pats[i]))
			globs[ng++] = pats[i];
	if (!ng)
		return 0;
	nf = irc_netif_match(globs, ng, found, IRC_MAX_IFACES);
	if (nf < 0) {
		irc_err("load: list interfaces: %s", strerror(-nf));
		return nf;
	}
	for (i = 0; i < nf; i++) {
		for (j = 0; j < *n && nifs[j].ifindex != found[i].ifindex; j++)
			;
		if (j < *n)
			continue;
		if (*n == IRC_MAX_IFACES) {
			irc_warn("load: more than %d interfaces match; %s and later ones not attached",
				 IRC_MAX_IFACES, found[i].name);
			break;
		}
		nifs[(*n)++] = found[i];
	}
	for (k = 0; k < ng && !nf; k++)
		irc_warn("load: no interface matches '%s' yet: 'ircontain run --iface %s' attaches to it when it appears",
			 globs[k], globs[k]);
	return 0;
}

/* What `load` read from the store, and what the restore did. */
struct load_restore {
	struct irc_store *s;
	struct irc_want want;
	bool readable;		/* the store could be read (or there is none yet) */
	bool fail_open;
	char why[9000];		/* why it could not be read */
	struct irc_restore_report rep;
	int err;		/* of the restore: reported, after the attach */
	bool failed_closed;
};

/*
 * Reads the desired state.  No store and no anchor is a first start: nothing
 * to restore.  A store that cannot be opened, read or verified, or that is
 * gone while its anchor says it existed, cannot be trusted to say what to
 * release: then `load` fails closed.
 */
static void load_read_store(struct load_restore *lr)
{
	char db[4096], anchor[4096];
	struct irc_verify v;
	int err;

	lr->readable = false;
	snprintf(db, sizeof(db), "%s/%s", irc.state_dir, IRC_STORE_DB);
	snprintf(anchor, sizeof(anchor), "%s/chain.head", irc.state_dir);
	if (access(db, F_OK) && errno == ENOENT) {
		if (access(anchor, F_OK) == 0) {
			snprintf(lr->why, sizeof(lr->why),
				 "the evidence store %s is missing although %s says it held records", db,
				 anchor);
			return;
		}
		lr->readable = true;	/* first start */
		return;
	}
	err = irc_store_open(&lr->s, irc.state_dir, false);
	if (err) {
		snprintf(lr->why, sizeof(lr->why), "the evidence store cannot be opened: %s",
			 irc_store_errmsg());
		return;
	}
	err = irc_store_verify(lr->s, &v);
	if (err) {
		snprintf(lr->why, sizeof(lr->why), "the evidence store does not verify: %s",
			 err == -EBADMSG ? v.problem : irc_store_errmsg());
		return;
	}
	err = irc_want_collect(lr->s, &lr->want);
	if (err) {
		snprintf(lr->why, sizeof(lr->why), "the evidence store cannot be read: %s",
			 irc_store_errmsg());
		return;
	}
	lr->readable = true;
}

/* The restore's records, into the store `load` read (one commit for all). */
static int load_record(void *ctx, const char *type, const char *target, int64_t incident,
		       json_t *body)
{
	struct irc_rec r = { .kind = IRC_REC_ACTION, .incident = incident, .type = type,
		.actor = IRC_RESTORE_ACTOR, .target = target, .body = body };
	struct load_restore *lr = ctx;
	int err;

	if (!lr->s)
		return -ENOENT;
	err = irc_store_append(lr->s, &r, NULL);
	json_decref(body);
	return err;
}

/* irc_load()'s prepare step: the maps are pinned, no interface attached yet. */
static int load_restore(void *ctx)
{
	struct load_restore *lr = ctx;
	struct irc_maps m;
	int err;

	err = irc_maps_open("load", &m);
	if (err)
		return err;
	/* The network detectors' hands are tied before any packet is seen. */
	err = irc_protect_refresh(&m);
	if (err) {
		irc_maps_close(&m);
		return err;
	}
	if (lr->readable) {
		struct irc_restore_sink sink = { .ctx = lr, .record = load_record };
		bool batch;

		/* A first start has no store yet: one is made for the records only if needed. */
		if (!lr->s && lr->want.n)
			irc_store_open(&lr->s, irc.state_dir, true);
		/* One commit for all the records: a boot must not wait on an fsync each. */
		batch = lr->s && !irc_store_begin(lr->s);
		lr->err = irc_restore(&m, &sink, &lr->want, false, false, &lr->rep);
		if (batch && irc_store_commit(lr->s)) {
			irc_warn("load: the records of what was restored were not committed: %s",
				 irc_store_errmsg());
			lr->rep.record_errors = lr->rep.hosts + lr->rep.allows + lr->rep.cgroups +
				lr->rep.isolate + lr->rep.expired + lr->rep.ended + lr->rep.failed;
		}
	} else if (!lr->fail_open) {
		err = irc_restore_fail_closed(&m, lr->why);
		lr->failed_closed = !err;
	} else {
		irc_warn("load: --fail-open: %s; nothing restored, what the kernel still holds stays",
			 lr->why);
	}
	irc_maps_close(&m);
	return err;
}

static json_t *restore_json(const struct load_restore *lr)
{
	const struct irc_restore_report *r = &lr->rep;

	return json_pack("{s:b,s:o,s:b,s:i,s:i,s:i,s:b,s:i,s:i,s:i,s:i,s:i,s:i}",
		"store_readable", lr->readable,
		"why", lr->readable ? json_null() : json_string(lr->why),
		"failed_closed", lr->failed_closed, "hosts", r->hosts, "allowlist", r->allows,
		"cgroups", r->cgroups, "isolation", !!r->isolate, "expired", r->expired,
		"pending_cgroups", r->pending, "processes_ended", r->ended,
		"already_present", r->present, "failed", r->failed,
		"not_recorded", r->record_errors);
}

/* load's options. */
struct load_args {
	struct irc_netif nifs[IRC_MAX_IFACES];
	int n;			/* interfaces named (the globs are matched later) */
	char *pats[IRC_MAX_IFPATTERNS], *args[IRC_MAX_IFPATTERNS];
	int npats, nargs;
	enum irc_xdp_req req;
	uint64_t ring;
	bool fail_open;
};

/* 0, or the exit code of a bad option (said). */
static int load_parse(int argc, char **argv, struct load_args *a)
{
	static const struct irc_opt opts[] = {
		{ "iface", 'i', "IF|PATTERN", IRC_OPT_REQUIRED | IRC_OPT_REPEAT },
		{ "xdp-mode", 'm', "auto|native|generic", 0 },
		{ "ring-size", 'r', "BYTES", 0 },
		{ "fail-open", 'o', NULL, 0 },
		{ 0 }
	};
	const char *why;
	char usage[160];
	int c, ret;

	a->req = IRC_XDP_REQ_AUTO;
	while ((c = irc_opts_getopt(argc, argv, opts, "load")) != -1) {
		switch (c) {
		case 'i':
			if (a->nargs == IRC_MAX_IFPATTERNS)
				return irc_usage_err("load: more than %d --iface options", IRC_MAX_IFPATTERNS);
			a->args[a->nargs] = strdup(optarg);
			if (!a->args[a->nargs]) {
				irc_err("load: out of memory");
				return IRC_EXIT_FAIL;
			}
			ret = irc_iface_args("load", a->args[a->nargs++], a->pats, &a->npats,
					     a->nifs, &a->n);
			if (ret)
				return ret;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				a->req = IRC_XDP_REQ_AUTO;
			else if (!strcmp(optarg, "native"))
				a->req = IRC_XDP_REQ_NATIVE;
			else if (!strcmp(optarg, "generic"))
				a->req = IRC_XDP_REQ_GENERIC;
			else
				return irc_usage_err("load: bad --xdp-mode '%s': use auto, native or generic", irc_shown(optarg));
			break;
		case 'r':
			/* The kernel wants a power of two, at least a page. */
			if (irc_parse_u64(optarg, 4096, 1U << 30, &a->ring, &why) ||
			    (a->ring & (a->ring - 1)))
				return irc_usage_err("load: bad --ring-size '%s': a power of two from 4096 to 1073741824 bytes",
						     optarg);
			break;
		case 'o':
			a->fail_open = true;
			break;
		default:
			return IRC_EXIT_USAGE;
		}
	}
	if (!irc_operands(argc, argv, 0, "load", irc_opts_usage(opts, "load", NULL, usage, sizeof(usage))))
		return IRC_EXIT_USAGE;
	if (a->npats == 0)
		return irc_usage_err("load: no interface given (usage: load --iface IF [--iface IF ...])");
	return 0;
}

/* What load did: printed, as JSON or as text. */
struct load_result {
	const struct irc_attach_result *res;
	int n;
	const char *cgroup_root;	/* NULL: no process hooks */
	const struct load_restore *lr;
};

static json_t *load_json(const struct load_result *r)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:i,s:s,s:b,s:b}",
			"name", r->res[i].nif.name, "ifindex", r->res[i].nif.ifindex,
			"xdp_mode", irc_xdp_mode_name(r->res[i].xdp_mode),
			"replaced", r->res[i].replaced, "fell_back", r->res[i].fell_back));
	return json_pack("{s:s,s:s,s:o,s:o,s:o}", "action", "load",
			 "pin_dir", irc.pin_dir, "interfaces", arr,
			 "cgroup_root", r->cgroup_root ? json_string(r->cgroup_root) : json_null(),
			 "restore", restore_json(r->lr));
}

static void load_text(const struct load_result *r)
{
	const struct load_restore *lr = r->lr;
	const struct irc_restore_report *rp = &lr->rep;
	int i;

	for (i = 0; i < r->n; i++) {
		printf("%s %s: xdp %s ingress, tc egress%s\n",
		       r->res[i].replaced ? "reloaded" : "attached", r->res[i].nif.name,
		       irc_xdp_mode_name(r->res[i].xdp_mode),
		       r->res[i].fell_back ? " (native XDP refused by the driver: generic mode)" : "");
		if (!r->res[i].nif.up)
			irc_warn("interface %s is down", r->res[i].nif.name);
	}
	if (r->cgroup_root)
		printf("process hooks attached at cgroup %s\n", r->cgroup_root);
	printf("maps and links pinned in %s\n", irc.pin_dir);
	if (lr->readable)
		printf("restored from the evidence store: %d host%s, %d allowlist entr%s, %d cgroup%s, isolation %s; "
		       "%d expired while not loaded, %d process quarantine%s ended, %d cgroup%s pending\n",
		       rp->hosts, rp->hosts == 1 ? "" : "s", rp->allows, rp->allows == 1 ? "y" : "ies",
		       rp->cgroups, rp->cgroups == 1 ? "" : "s", rp->isolate ? "on" : "unchanged",
		       rp->expired, rp->ended, rp->ended == 1 ? "" : "s", rp->pending,
		       rp->pending == 1 ? "" : "s");
	else
		printf("nothing restored: %s%s\n", lr->why,
		       lr->failed_closed ? "; isolation is ON (fail closed)" : "; --fail-open: isolation unchanged");
}

/* The cgroup v2 root for the process hooks into @root; -errno if none (an exit code in *@ret). */
static int load_cgroup_root(char *root, size_t len, int *ret)
{
	int err = irc_cgroup_root(root, len);

	*ret = 0;
	if (err && (irc.cgroup_root || getenv("IRCONTAIN_CGROUP_ROOT")))
		*ret = irc_usage_err("load: bad --cgroup-root '%s': %s", irc.cgroup_root ?:
				     getenv("IRCONTAIN_CGROUP_ROOT"),
				     err == -ENOTDIR ? "not a cgroup v2 directory" : strerror(-err));
	return err;
}

int do_load(int argc, char **argv)
{
	struct irc_attach_result res[IRC_MAX_IFACES];
	char cgroup_root[IRC_PATH_LEN];
	struct load_restore *lr;
	struct load_args *a;
	int i, err, cg_err, ret;

	lr = calloc(1, sizeof(*lr));
	a = calloc(1, sizeof(*a));
	if (!lr || !a) {
		free(lr);
		free(a);
		irc_err("load: out of memory");
		return IRC_EXIT_FAIL;
	}
	ret = load_parse(argc, argv, a);
	if (ret)
		goto out;
	lr->fail_open = a->fail_open;
	cg_err = load_cgroup_root(cgroup_root, sizeof(cgroup_root), &ret);
	if (ret)
		goto out;
	ret = IRC_EXIT_FAIL;
	if (irc_require_privileges("load"))
		goto out;
	if (iface_globs(a->pats, a->npats, a->nifs, &a->n))
		goto out;
	if (cg_err)
		irc_warn("no cgroup v2 mount found: process and cgroup quarantine are unavailable");

	/* The store is read before anything changes in the kernel. */
	load_read_store(lr);
	err = irc_load(a->nifs, a->n, a->req, res, cg_err ? NULL : cgroup_root, a->ring,
		       load_restore, lr);
	if (err)
		goto out;
	ret = lr->err || lr->rep.failed || lr->rep.record_errors ? IRC_EXIT_FAIL : IRC_EXIT_OK;
	if (lr->rep.record_errors)
		irc_warn("load: %d restore action%s not recorded in the evidence store (what was restored stays)",
			 lr->rep.record_errors, lr->rep.record_errors == 1 ? "" : "s");
	{
		struct load_result r = { res, a->n, cg_err ? NULL : cgroup_root, lr };

		irc.json ? irc_json_print(load_json(&r)) : load_text(&r);
	}
out:
	for (i = 0; i < a->nargs; i++)
		free(a->args[i]);
	free(a);
	irc_want_free(&lr->want);
	irc_store_close(lr->s);
	free(lr);
	return ret;
}

static json_t *emergency_json(const struct irc_emergency *rep)
{
	return json_pack("{s:s,s:i,s:i,s:i,s:i,s:i}", "action", "unload.emergency",
			 "pins_removed", rep->pins, "links_detached", rep->links,
			 "tc_filters_detached", rep->tc, "maps_identified", rep->maps_known,
			 "errors", rep->errors);
}

static void emergency_text(const struct irc_emergency *rep)
{
	printf("emergency unload: %d pin%s removed, %d link%s detached, %d tc filter%s detached%s\n",
	       rep->pins, rep->pins == 1 ? "" : "s", rep->links, rep->links == 1 ? "" : "s",
	       rep->tc, rep->tc == 1 ? "" : "s",
	       rep->errors ? ", SOME COULD NOT BE REMOVED (see above)" : "");
}

/* unload --emergency [--iface PATTERN ...]: the break-glass path. */
static int unload_emergency(char **pats, int npats)
{
	struct irc_emergency rep;
	json_t *detail;
	int err;

	if (irc_require_privileges("unload --emergency"))
		return IRC_EXIT_FAIL;
	err = irc_unload_emergency(pats, npats, &rep);
	irc.json ? irc_json_print(emergency_json(&rep)) : emergency_text(&rep);
	/* On record if the store can take it; the unload never waits for it. */
	detail = json_pack("{s:i,s:i,s:i,s:i}", "pins_removed", rep.pins,
			   "links_detached", rep.links, "tc_filters_detached", rep.tc,
			   "errors", rep.errors);
	irc_record_action(0, "unload.emergency", NULL, "break-glass", err, detail);
	json_decref(detail);	/* irc_record_action() only borrows it */
	return err ? IRC_EXIT_FAIL : IRC_EXIT_OK;
}

/* Plain unload: what it did is the number of interfaces detached. */
static json_t *unload_json(int detached)
{
	return json_pack("{s:s,s:i}", "action", "unload", "interfaces_detached", detached);
}

static void unload_text(int detached)
{
	printf("unloaded: detached from %d interface%s, pins removed from %s\n",
	       detached, detached == 1 ? "" : "s", irc.pin_dir);
}

int do_unload(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "emergency", 'E', NULL, 0 },
		{ "iface", 'i', "PATTERN", IRC_OPT_REPEAT, .with = 'E' },
		{ 0 }
	};
	char *pats[IRC_MAX_IFPATTERNS], usage[64];
	int c, detached, err, npats = 0;
	bool emergency = false;

	while ((c = irc_opts_getopt(argc, argv, opts, "unload")) != -1) {
		switch (c) {
		case 'E':
			emergency = true;
			break;
		case 'i':
			if (npats == IRC_MAX_IFPATTERNS)
				return irc_usage_err("unload: more than %d --iface options", IRC_MAX_IFPATTERNS);
			pats[npats++] = optarg;
			break;
		default:
			return IRC_EXIT_USAGE;
		}
	}
	if (!irc_operands(argc, argv, 0, "unload",
			  irc_opts_usage(opts, "unload", NULL, usage, sizeof(usage))))
		return IRC_EXIT_USAGE;
	if (npats && !emergency)
		return irc_usage_err("unload: --iface goes with --emergency only");
	if (emergency)
		return unload_emergency(pats, npats);
	err = irc_unload(&detached);
	if (err)
		return IRC_EXIT_FAIL;
	irc.json ? irc_json_print(unload_json(detached)) : unload_text(detached);
	return IRC_EXIT_OK;
}

/* ---- status ---------------------------------------------------------- */

static const struct { int map; const char *name; } count_maps[] = {
	{ IRC_M_Q4_HOST, "host_v4" }, { IRC_M_Q6_HOST, "host_v6" },
	{ IRC_M_Q4_PFX, "prefix_v4" }, { IRC_M_Q6_PFX, "prefix_v6" },
	{ IRC_M_ALLOW4, "allow_v4" }, { IRC_M_ALLOW6, "allow_v6" },
	{ IRC_M_QPID, "processes" }, { IRC_M_QCGRP, "cgroups" },
	{ IRC_M_QSOCK, "sockets" },
};
#define NCOUNT (sizeof(count_maps) / sizeof(count_maps[0]))

struct status {
	struct irc_features feat;
	bool loaded;
	struct irc_config cfg;
	long counts[NCOUNT];
	__u64 stats[IRC_STAT__MAX];
	struct irc_iface ifs[IRC_MAX_IFACES];
	struct irc_attach_state st[IRC_MAX_IFACES];
	int nifs;
	int proc_links;
	char proc_core_missing[512];	/* core process programs not attached */
	const struct irc_part *parts_missing[32];	/* optional ones */
	int nparts_missing;
	struct irc_evstat_sum ev;
	struct irc_ifdrop_sum *ifdrops;	/* malloc()ed, nifdrops of them */
	size_t nifdrops;
	json_t *daemon;		/* run.json, NULL if none */
	/* The evidence store: what is in it (have_store), or why it could not be read. */
	bool have_store;
	struct irc_store_info store;
	char store_err[300];
};

/* The store's size, records, oldest record and last prune; nothing is created. */
static void store_collect(struct status *s)
{
	struct irc_store *st;
	char db[4096];
	struct stat sb;
	int err;

	snprintf(db, sizeof(db), "%s/%s", irc.state_dir, IRC_STORE_DB);
	if (stat(db, &sb))
		return;
	err = irc_store_open(&st, irc.state_dir, false);
	if (!err) {
		err = irc_store_info(st, &s->store);
		irc_store_close(st);
	}
	if (err)
		snprintf(s->store_err, sizeof(s->store_err), "%s", irc_store_errmsg());
	else
		s->have_store = true;
}

/* The store as JSON: its figures, the daemon's store counters, any error. */
static json_t *store_json(const struct status *s)
{
	const struct irc_store_info *in = &s->store;
	json_t *o = json_object(), *d = s->daemon;
	char oldest[40] = "", pruned[40] = "";

	if (s->store_err[0])
		json_object_set_new(o, "error", json_string(s->store_err));
	if (s->have_store) {
		if (in->oldest_ns)
			irc_fmt_utc(in->oldest_ns, oldest, sizeof(oldest));
		if (in->pruned_ns)
			irc_fmt_utc(in->pruned_ns, pruned, sizeof(pruned));
		json_object_update_new(o, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:{s:I,s:I,s:o,s:s,s:I}}",
			"path", irc.state_dir, "file_bytes", (json_int_t)in->file_bytes,
			"used_bytes", (json_int_t)in->used_bytes, "records", (json_int_t)in->records,
			"first_seq", (json_int_t)in->first_seq, "last_seq", (json_int_t)in->last_seq,
			"oldest", oldest[0] ? json_string(oldest) : json_null(),
			"last_prune", "total", (json_int_t)in->pruned_total,
			"through_seq", (json_int_t)in->pruned_last,
			"at", pruned[0] ? json_string(pruned) : json_null(),
			"reason", in->pruned_reason, "ranges", (json_int_t)in->pruned_ranges));
	}
	if (d) {
		json_object_set(o, "daemon_store_failures", json_object_get(d, "store_failures"));
		json_object_set(o, "daemon_last_error", json_object_get(d, "store_last_error"));
		json_object_set(o, "daemon_last_error_at", json_object_get(d, "store_last_error_at"));
	}
	return o;
}

static int read_stats(int fd, __u64 *out)
{
	struct irc_stats *per;
	int ncpu, i, j, err;

	per = irc_percpu_read(fd, sizeof(*per), &ncpu, &err);
	if (!per)
		return err;
	for (i = 0; i < ncpu; i++)
		for (j = 0; j < IRC_STAT__MAX; j++)
			out[j] += per[i].cnt[j];
	free(per);
	return 0;
}

static int status_collect(struct status *s)
{
	struct irc_maps m;
	__u32 key, *prev = NULL;
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	irc_probe_features(&s->feat);
	if (irc_require_privileges("status"))
		return -EPERM;
	store_collect(s);
	if (irc_pins_loaded())
		return 0;
	err = irc_maps_open("status", &m);
	if (err)
		return err;
	s->loaded = true;
	s->proc_links = irc_proc_links();
	irc_evstat_read(m.fd[IRC_M_EVSTAT], &s->ev);
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/run.json", irc.state_dir);
		s->daemon = json_load_file(p, 0, NULL);
	}
	for (i = 0; i < NCOUNT; i++)
		s->counts[i] = irc_q_entries(&m, count_maps[i].map);
	irc_config_read(&m, &s->cfg);
	if (s->cfg.cgroup_root[0]) {
		irc_proc_core_missing(s->cfg.cgroup_root_id, s->proc_core_missing,
				      sizeof(s->proc_core_missing));
		s->nparts_missing = irc_parts_missing(s->parts_missing, 32);
	}
	err = read_stats(m.fd[IRC_M_STATS], s->stats);
	if (err)
		irc_warn("status: read counters: %s", strerror(-err));
	err = irc_ifdrops_read(&m, &s->ifdrops, &s->nifdrops);
	if (err)
		irc_warn("status: read drops per interface (map %s): %s",
			 irc_map_names[IRC_M_IFDROPS], strerror(-err));
	while (s->nifs < IRC_MAX_IFACES &&
	       bpf_map_get_next_key(m.fd[IRC_M_IFACES], prev, &key) == 0) {
		struct irc_iface *r = &s->ifs[s->nifs];

		prev = &r->ifindex;
		if (bpf_map_lookup_elem(m.fd[IRC_M_IFACES], &key, r))
			break;
		irc_attach_check(r->ifindex, r->xdp_prog_id, &s->st[s->nifs]);
		s->nifs++;
	}
	irc_maps_close(&m);
	return 0;
}

/*
 * Whether something that should enforce or see is not attached: an
 * interface gone or detached, the process hooks (none without cgroup v2),
 * an optional part this kernel refused.
 */
static bool status_degraded(const struct status *s)
{
	int i;

	if (!s->loaded)
		return false;
	for (i = 0; i < s->nifs; i++)
		if (!s->st[i].present || !s->st[i].xdp_attached || !s->st[i].tc_attached)
			return true;
	return !s->cfg.cgroup_root[0] || s->proc_core_missing[0] || s->nparts_missing;
}

/* Each capability that is missing, and what is therefore not enforced or not seen. */
static json_t *missing_json(const struct status *s)
{
	json_t *a = json_array();
	char cap[64];
	int i;

	for (i = 0; i < s->nifs; i++) {
		const struct irc_attach_state *st = &s->st[i];

		if (st->present && st->xdp_attached && st->tc_attached)
			continue;
		snprintf(cap, sizeof(cap), "interface:%s", s->ifs[i].name);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "capability", cap,
			"reason", !st->present ? "interface gone" : !st->xdp_attached ?
				"XDP program detached" : "tc program detached",
			"not_enforced", "host, prefix and isolation rules on this interface"));
	}
	if (!s->cfg.cgroup_root[0] || s->proc_core_missing[0])
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "capability", "process_quarantine",
			"reason", s->cfg.cgroup_root[0] ? s->proc_core_missing :
				"no cgroup v2 when ircontain was loaded",
			"not_enforced", "process and cgroup quarantine"));
	for (i = 0; i < s->nparts_missing; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}",
			"capability", s->parts_missing[i]->capability,
			"program", s->parts_missing[i]->prog,
			"reason", "not attached (refused by this kernel, or its hook is missing)",
			"not_seen", s->parts_missing[i]->sees));
	return a;
}

static json_t *features_json(const struct irc_features *f)
{
	return json_pack("{s:b,s:b,s:b,s:b,s:b,s:o}", "btf", f->btf,
			 "ringbuf", f->ringbuf, "boot_clock", f->boot_clock,
			 "xdp", f->xdp_link, "lsm", f->lsm, "cgroup2",
			 f->cgroup2[0] ? json_string(f->cgroup2) : json_null());
}

static void status_json(const struct status *s)
{
	json_t *o = json_pack("{s:b,s:s}", "loaded", s->loaded, "pin_dir", irc.pin_dir);
	json_t *ifs, *cnt, *ctr;
	size_t i;

	if (s->loaded) {
		ifs = json_array();
		for (i = 0; i < (size_t)s->nifs; i++)
			json_array_append_new(ifs, json_pack("{s:s,s:i,s:s,s:b,s:b,s:b}",
				"name", s->ifs[i].name, "ifindex", (int)s->ifs[i].ifindex,
				"xdp_mode", irc_xdp_mode_name(s->ifs[i].xdp_mode),
				"present", s->st[i].present,
				"xdp_attached", s->st[i].xdp_attached,
				"tc_attached", s->st[i].tc_attached));
		cnt = json_object();
		for (i = 0; i < NCOUNT; i++)
			json_object_set_new(cnt, count_maps[i].name, json_integer(s->counts[i]));
		ctr = json_object();
		for (i = 0; i < IRC_STAT__MAX; i++)
			json_object_set_new(ctr, irc_stat_name(i), json_integer(s->stats[i]));
		json_object_set_new(o, "interfaces", ifs);
		json_object_set_new(o, "isolation", json_pack("{s:b,s:b,s:b}",
			"enabled", !!(s->cfg.flags & IRC_CFG_ISOLATE),
			"allow_dns", !!(s->cfg.flags & IRC_CFG_ISO_DNS),
			"allow_dhcp", !!(s->cfg.flags & IRC_CFG_ISO_DHCP)));
		json_object_set_new(o, "entries", cnt);
		json_object_set_new(o, "events", json_pack("{s:I,s:I,s:I,s:I,s:O}",
			"emitted", (json_int_t)(s->ev.seq - s->ev.lost),
			"lost", (json_int_t)s->ev.lost,
			"findings_lost", (json_int_t)s->ev.flost,
			"unsampled", (json_int_t)s->ev.unsampled,
			"daemon", s->daemon ? s->daemon : json_null()));
		json_object_set_new(o, "process_hooks", json_pack("{s:o,s:i}",
			"cgroup_root", s->cfg.cgroup_root[0] ?
				json_string(s->cfg.cgroup_root) : json_null(),
			"links", s->proc_links));
		json_object_set_new(o, "counters", ctr);
		json_object_set_new(o, "interface_drops", irc_ifdrops_json(s->ifdrops, s->nifdrops));
		json_object_set_new(o, "degraded", json_boolean(status_degraded(s)));
		json_object_set_new(o, "missing", missing_json(s));
	}
	json_object_set_new(o, "store", store_json(s));
	json_object_set_new(o, "features", features_json(&s->feat));
	irc_json_print(o);
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

static void store_text(const struct status *s)
{
	const struct irc_store_info *in = &s->store;
	const char *derr = s->daemon ?
		json_string_value(json_object_get(s->daemon, "store_last_error")) : NULL;
	char oldest[40], pruned[40];

	if (s->store_err[0])
		printf("store: CANNOT BE READ: %s\n", s->store_err);
	else if (!s->have_store)
		printf("store: none yet (%s/%s)\n", irc.state_dir, IRC_STORE_DB);
	if (s->have_store) {
		irc_fmt_utc(in->oldest_ns, oldest, sizeof(oldest));
		printf("store: %s/%s, %.1f MiB on disk (%.1f MiB in use), %lld records (#%lld-#%lld), "
		       "oldest %s\n", irc.state_dir, IRC_STORE_DB, in->file_bytes / 1048576.0,
		       in->used_bytes / 1048576.0, (long long)in->records,
		       (long long)in->first_seq, (long long)in->last_seq,
		       in->oldest_ns ? oldest : "-");
		if (in->pruned_ns) {
			irc_fmt_utc(in->pruned_ns, pruned, sizeof(pruned));
			printf("store: last prune %s (%s): %lld records pruned in all, in %lld range(s),"
			       " the last up to #%lld\n", pruned, in->pruned_reason,
			       (long long)in->pruned_total, (long long)in->pruned_ranges,
			       (long long)in->pruned_last);
		} else {
			printf("store: never pruned\n");
		}
	}
	if (derr && *derr)
		printf("store: the daemon's last STORE ERROR (%lld in all) at %s: %s\n",
		       (long long)json_integer_value(json_object_get(s->daemon, "store_failures")),
		       json_string_value(json_object_get(s->daemon, "store_last_error_at")) ?: "?",
		       derr);
}

/* Drops per interface: rx (XDP) and tx (tc), per rule. */
static void ifdrops_text(const struct status *s)
{
	size_t i;
	int d, k;

	if (s->nifdrops)
		printf("drops per interface (quarantine/isolate/malformed):\n");
	for (i = 0; i < s->nifdrops; i++) {
		const struct irc_ifdrop_sum *r = &s->ifdrops[i];

		printf("  %-15s ifindex %-4u", r->name[0] ? r->name : "?", r->ifindex);
		for (d = 0; d < 2; d++)
			for (k = 0; k < IRC_IFDROP_RULES; k++)
				printf("%s%llu", k ? "/" : d ? " tx " : " rx ",
				       (unsigned long long)r->drops[d][k]);
		printf("%s\n", !r->ifindex ? " (interfaces that share a slot)" :
		       r->present ? "" : " (GONE)");
	}
}

static void status_text(const struct status *s)
{
	const struct irc_features *f = &s->feat;
	size_t i;

	if (!s->loaded) {
		printf("ircontain: not loaded (pin dir %s)\n", irc.pin_dir);
	} else {
		printf("ircontain: loaded (pin dir %s)\n", irc.pin_dir);
		printf("interfaces:\n");
		for (i = 0; i < (size_t)s->nifs; i++) {
			const struct irc_attach_state *st = &s->st[i];

			printf("  %-15s ifindex %-4u xdp %-7s %s\n", s->ifs[i].name,
			       s->ifs[i].ifindex, irc_xdp_mode_name(s->ifs[i].xdp_mode),
			       !st->present ? "GONE (interface removed)" :
			       st->xdp_attached && st->tc_attached ? "attached" :
			       !st->xdp_attached ? "XDP DETACHED by another tool: run load again" :
			       "tc DETACHED by another tool: run load again");
		}
		printf("isolation: %s\n", s->cfg.flags & IRC_CFG_ISOLATE ? "ON" : "off");
		if (s->cfg.cgroup_root[0])
			printf("process hooks: %d attached at cgroup %s\n", s->proc_links,
			       s->cfg.cgroup_root);
		else
			printf("process hooks: NOT ATTACHED (no cgroup v2 at load): process and cgroup quarantine are not enforced\n");
		if (s->proc_core_missing[0])
			printf("process hooks: NOT ATTACHED: %s: process and cgroup quarantine are not enforced\n",
			       s->proc_core_missing);
		for (i = 0; i < (size_t)s->nparts_missing; i++)
			printf("missing: %s (program %s not attached): %s not seen\n",
			       s->parts_missing[i]->capability, s->parts_missing[i]->prog,
			       s->parts_missing[i]->sees);
		if (status_degraded(s))
			printf("state: DEGRADED (exit status 3)\n");
		printf("entries:");
		for (i = 0; i < NCOUNT; i++)
			printf("%s %s %ld", i == 6 ? "\n        " : "",
			       count_maps[i].name, s->counts[i]);
		printf("\nevents: %llu emitted, %llu lost (ring full; %llu of them findings), "
		       "%llu not sampled (rate limit)",
		       (unsigned long long)(s->ev.seq - s->ev.lost),
		       (unsigned long long)s->ev.lost, (unsigned long long)s->ev.flost,
		       (unsigned long long)s->ev.unsampled);
		if (s->daemon)
			printf("\ndaemon: pid %lld, %lld events read, %lld gaps (%lld records missing), "
			       "%lld stored in the evidence store (%lld store errors), updated %s",
			       (long long)json_integer_value(json_object_get(s->daemon, "pid")),
			       (long long)json_integer_value(json_object_get(s->daemon, "events")),
			       (long long)json_integer_value(json_object_get(s->daemon, "gaps")),
			       (long long)json_integer_value(json_object_get(s->daemon, "missing")),
			       (long long)json_integer_value(json_object_get(s->daemon, "stored")),
			       (long long)json_integer_value(json_object_get(s->daemon, "store_errors")),
			       json_string_value(json_object_get(s->daemon, "updated")) ?: "?");
		printf("\ncounters:");
		for (i = 0; i < IRC_STAT__MAX; i++)
			printf("%s %s %llu", i && i % 4 == 0 ? "\n         " : "",
			       irc_stat_name(i), (unsigned long long)s->stats[i]);
		printf("\n");
		ifdrops_text(s);
	}
	store_text(s);
	printf("features: btf %s, ringbuf %s, boot clock %s, xdp %s, lsm %s, cgroup2 %s\n",
	       yn(f->btf), yn(f->ringbuf), yn(f->boot_clock), yn(f->xdp_link),
	       f->lsm ? "yes" : "no (process hooks use cgroup and tracepoints)",
	       f->cgroup2[0] ? f->cgroup2 : "not mounted");
}

int do_status(int argc, char **argv)
{
	struct status *s;
	bool degraded;
	int err;

	if (!irc_args(argc, argv, 0, "status", "status"))
		return IRC_EXIT_USAGE;
	s = calloc(1, sizeof(*s));
	if (!s) {
		irc_err("status: out of memory");
		return IRC_EXIT_FAIL;
	}
	err = status_collect(s);
	if (!err) {
		if (irc.json)
			status_json(s);
		else
			status_text(s);
	}
	degraded = !err && status_degraded(s);
	json_decref(s->daemon);
	free(s->ifdrops);
	free(s);
	return err ? IRC_EXIT_FAIL : degraded ? IRC_EXIT_DEGRADED : IRC_EXIT_OK;
}
