// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loader.  All state that must outlive this process is in the kernel: maps
 * pinned by name, one pinned XDP link per interface, one tc filter per
 * interface, and a record of each attachment in the irc_ifaces map.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/types.h>

#include "ircontain/abi.h"
#include "irc.h"
#include "cgroup.h"
#include "loader.h"
#include "entries.h"
#include "netif.h"
#include "pins.h"
#include "protect.h"
#include "irc_net.skel.h"
#include "irc_proc.skel.h"

/*
 * The program the kernel refused last, and the verifier's own words: the
 * last lines of its log, not the instruction trace.  Filled from libbpf's
 * warnings whatever the verbosity, so that the error can name both.
 */
static struct {
	char prog[64];
	char msg[512];
} rejected;

static bool log_noise(const char *l, size_t n)
{
	return !n || l[0] == ';' || (l[0] >= '0' && l[0] <= '9') ||
	       !strncmp(l, "processed ", 10) || !strncmp(l, "verification time", 17) ||
	       !strncmp(l, "stack depth", 11) || !strncmp(l, "mark_precise", 12) ||
	       !strncmp(l, "func#", 5) || !strncmp(l, "last_idx", 8) ||
	       !strncmp(l, "parent ", 7) || !strncmp(l, "regs=", 5);
}

/* The last (up to) two meaningful lines of a verifier log, "; "-joined. */
static void verifier_summary(const char *log, char *out, size_t len)
{
	const char *e = log + strlen(log), *l, *line[2];
	int llen[2], n = 0;

	while (e > log && n < 2) {
		if (e[-1] == '\n') {
			e--;
			continue;
		}
		for (l = e; l > log && l[-1] != '\n'; l--)
			;
		if (!log_noise(l, (size_t)(e - l))) {
			line[n] = l;
			llen[n++] = (int)(e - l);
		}
		e = l;
	}
	out[0] = '\0';
	while (n-- > 0)
		snprintf(out + strlen(out), len - strlen(out), "%s%.*s",
			 out[0] ? "; " : "", llen[n], line[n]);
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			va_list ap)
{
	static const char load_log[] = "prog '%s': -- BEGIN PROG LOAD LOG --";
	static const char load_failed[] = "prog '%s': BPF program load failed: %s";
	const char *f = strncmp(fmt, "libbpf: ", 8) ? fmt : fmt + 8;
	bool is_log = !strncmp(f, load_log, sizeof(load_log) - 1);
	bool is_failed = !strncmp(f, load_failed, sizeof(load_failed) - 1);

	if (lvl == LIBBPF_WARN && (is_log || is_failed)) {
		const char *prog, *text;
		va_list cp;

		va_copy(cp, ap);
		prog = va_arg(cp, const char *);
		text = va_arg(cp, const char *);
		va_end(cp);
		snprintf(rejected.prog, sizeof(rejected.prog), "%s", prog);
		/* The verifier's words, or at least the error. */
		if (is_log) {
			char sum[sizeof(rejected.msg)];

			verifier_summary(text, sum, sizeof(sum));
			if (sum[0])
				memcpy(rejected.msg, sum, sizeof(sum));
		} else if (!rejected.msg[0])
			snprintf(rejected.msg, sizeof(rejected.msg), "%s", text);
	}
	if (!irc.verbose || (lvl == LIBBPF_DEBUG && irc.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Prints why loading @what failed: the program and the verifier's words. */
static void report_load_error(const char *what, int err, struct bpf_object *obj)
{
	struct bpf_program *prog = NULL;
	char msg[128];

	libbpf_strerror(err, msg, sizeof(msg));
	if (rejected.prog[0] && obj)
		prog = bpf_object__find_program_by_name(obj, rejected.prog);
	if (prog)
		irc_err("%s: program %s (%s) refused by the kernel: %s: %s (-v -v shows the whole verifier log)",
			what, rejected.prog, bpf_program__section_name(prog), msg,
			rejected.msg[0] ? rejected.msg : "no verifier message");
	else if (err == -EINVAL)
		irc_err("%s: %s (a map pinned in %s may have an older layout: run 'ircontain unload' first; -v shows the verifier log)",
			what, msg, irc.pin_dir);
	else
		irc_err("%s: %s (-v shows libbpf's log)", what, msg);
}

#ifdef IRC_FAULT_INJECT
/*
 * Test build only (build/tests/helpers/ircontain-fault): the programs named
 * in IRCONTAIN_TEST_REJECT (comma-separated) lose their final exit, so the
 * kernel's verifier really refuses them ("last insn is not an exit or
 * jmp").  The production binary has no such code.
 */
static void fault_inject(struct bpf_object *obj)
{
	const char *list = getenv("IRCONTAIN_TEST_REJECT");
	struct bpf_program *prog;

	if (!list)
		return;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		size_t n = strlen(name), cnt = bpf_program__insn_cnt(prog);
		const char *p;
		struct bpf_insn *insns;

		for (p = strstr(list, name); p; p = strstr(p + 1, name))
			if ((p == list || p[-1] == ',') && (!p[n] || p[n] == ','))
				break;
		if (!p || !cnt || !(insns = malloc(cnt * sizeof(*insns))))
			continue;
		memcpy(insns, bpf_program__insns(prog), cnt * sizeof(*insns));
		insns[cnt - 1] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K };
		bpf_program__set_insns(prog, insns, cnt);
		free(insns);
	}
}
#else
static void fault_inject(struct bpf_object *obj)
{
	(void)obj;
}
#endif

void irc_libbpf_log_setup(void)
{
	libbpf_set_print(libbpf_print);
}

const char *irc_xdp_mode_name(int mode)
{
	switch (mode) {
	case IRC_XDP_NATIVE: return "native";
	case IRC_XDP_GENERIC: return "generic";
	default: return "none";
	}
}

static void xdp_link_name(int ifindex, char *buf, size_t len)
{
	snprintf(buf, len, "xdp_%d", ifindex);
}

static int xdp_query(int ifindex, int *mode, unsigned int *prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	*mode = q.attach_mode == XDP_ATTACHED_DRV ? IRC_XDP_NATIVE :
		q.attach_mode == XDP_ATTACHED_SKB ? IRC_XDP_GENERIC :
		IRC_XDP_NONE;
	*prog_id = q.attach_mode == XDP_ATTACHED_SKB ? q.skb_prog_id :
		   q.attach_mode == XDP_ATTACHED_DRV ? q.drv_prog_id : q.prog_id;
	return 0;
}

/*
 * Swaps the program in an existing pinned link (a second load).  Returns
 * 1 when swapped, 0 when there was no usable link, or -errno.
 */
static int xdp_update(const char *path, int prog_fd)
{
	int fd = bpf_obj_get(path), err;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_link_update(fd, prog_fd, NULL);
	close(fd);
	if (!err)
		return 1;
	/*
	 * Only a link whose interface went away is stale (ENOLINK): any
	 * other error leaves the working link, and its program, in place.
	 */
	if (err != -ENOLINK && err != -ENODEV)
		return err;
	unlink(path);
	return 0;
}

static int xdp_create(const struct irc_netif *nif, int prog_fd,
		      enum irc_xdp_req req, const char *path, bool *fell_back)
{
	__u32 flags = req == IRC_XDP_REQ_GENERIC ? XDP_FLAGS_SKB_MODE :
					       XDP_FLAGS_DRV_MODE;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd, err;

	fd = bpf_link_create(prog_fd, nif->ifindex, BPF_XDP, &lo);
	if (fd < 0 && req == IRC_XDP_REQ_AUTO &&
	    (errno == EOPNOTSUPP || errno == EINVAL)) {
		lo.flags = XDP_FLAGS_SKB_MODE;
		*fell_back = true;
		fd = bpf_link_create(prog_fd, nif->ifindex, BPF_XDP, &lo);
	}
	if (fd < 0) {
		err = -errno;
		if (err == -EBUSY || err == -EEXIST)
			irc_err("attach XDP on %s: another XDP program is attached; detach it first (ip link set dev %s xdp off)",
				nif->name, nif->name);
		else if (err == -EOPNOTSUPP)
			irc_err("attach XDP on %s: %s mode is not supported by this driver (try --xdp-mode generic)",
				nif->name, req == IRC_XDP_REQ_GENERIC ? "generic" : "native");
		else
			irc_err("attach XDP on %s: %s", nif->name, strerror(-err));
		return err;
	}
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	if (err)
		irc_err("pin XDP link of %s at %s: %s", nif->name, path,
			strerror(-err));
	/* On a pin failure, closing the only reference detaches again. */
	close(fd);
	return err;
}

static int tc_attach(const struct irc_netif *nif, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = nif->ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = IRC_TC_HANDLE,
			    .priority = IRC_TC_PRIO, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		irc_err("create clsact qdisc on %s: %s", nif->name, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		irc_err("attach tc egress on %s: %s", nif->name, strerror(-err));
	return err;
}

static void tc_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = IRC_TC_HANDLE,
			    .priority = IRC_TC_PRIO);

	/*
	 * The clsact qdisc stays: other tools may have filters on it, and an
	 * empty one costs nothing.
	 */
	bpf_tc_detach(&hook, &opts);
}

/* Detaches one interface and forgets its record. */
static void detach_iface(int ifaces_fd, int ifindex)
{
	char name[32], path[4096];

	xdp_link_name(ifindex, name, sizeof(name));
	if (!irc_link_path(path, sizeof(path), name))
		unlink(path);
	tc_detach(ifindex);
	bpf_map_delete_elem(ifaces_fd, &ifindex);
}

static int attach_one(int xdp_fd, int tc_fd, int ifaces_fd, int names_fd,
		      const struct irc_netif *nif, enum irc_xdp_req req,
		      struct irc_attach_result *r)
{
	struct irc_ifname ifname = {};
	struct irc_iface rec = {};
	char name[32], path[4096];
	unsigned int prog_id = 0;
	int err, mode = IRC_XDP_NONE;

	r->nif = *nif;
	xdp_link_name(nif->ifindex, name, sizeof(name));
	err = irc_link_path(path, sizeof(path), name);
	if (err)
		return err;

	err = xdp_update(path, xdp_fd);
	if (err < 0) {
		irc_err("replace XDP program on %s: %s", nif->name, strerror(-err));
		return err;
	}
	r->replaced = err == 1;
	if (!r->replaced) {
		err = xdp_create(nif, xdp_fd, req, path, &r->fell_back);
		if (err)
			return err;
	}
	err = tc_attach(nif, tc_fd);
	if (err)
		goto undo;

	if (xdp_query(nif->ifindex, &mode, &prog_id) == 0)
		r->xdp_mode = mode;
	rec.ifindex = nif->ifindex;
	rec.xdp_mode = mode;
	rec.xdp_prog_id = prog_id;
	rec.attached_ns = irc_now_real_ns();
	snprintf(rec.name, sizeof(rec.name), "%s", nif->name);
	err = bpf_map_update_elem(ifaces_fd, &rec.ifindex, &rec, BPF_ANY);
	if (err) {
		err = -errno;
		irc_err("record attachment of %s: %s", nif->name, strerror(errno));
		goto undo;
	}
	/* Only for naming its drops once it is gone: a full map loses the name, nothing else. */
	snprintf(ifname.name, sizeof(ifname.name), "%s", nif->name);
	if (names_fd >= 0)
		bpf_map_update_elem(names_fd, &rec.ifindex, &ifname, BPF_ANY);
	return 0;
undo:
	if (!r->replaced)
		detach_iface(ifaces_fd, nif->ifindex);
	return err;
}

/*
 * The ring size asked for, or the one already pinned (a pinned map must be
 * reused as it is, or libbpf refuses it).
 */
static unsigned int ring_size_for(unsigned int want)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[4096];
	int fd;

	if (irc_pin_path(path, sizeof(path), IRC_STR(IRC_MAP_EVENTS)))
		return want;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return want ? want : IRC_RINGBUF_DEFAULT;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		if (want && want != info.max_entries)
			irc_warn("event ring buffer keeps its size of %u bytes until 'unload'",
				 info.max_entries);
		want = info.max_entries;
	}
	close(fd);
	return want;
}

static int open_and_load(struct irc_net_bpf **out, unsigned int ring_size)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = irc.pin_dir);
	struct irc_net_bpf *skel;
	struct irc_maps m;
	int err;

	skel = irc_net_bpf__open_opts(&oo);
	if (!skel) {
		err = -errno;
		irc_err("open BPF object: %s", strerror(-err));
		return err;
	}
	bpf_map__set_max_entries(skel->maps.IRC_MAP_EVENTS, ring_size);
	fault_inject(skel->obj);
	rejected.prog[0] = rejected.msg[0] = '\0';
	err = irc_net_bpf__load(skel);
	if (err) {
		report_load_error("load BPF programs", err, skel->obj);
		irc_net_bpf__destroy(skel);
		return err;
	}
	/*
	 * Before any program is attached: a big host map filled under a module
	 * loaded before the front tiers is looked up from the first packet on,
	 * and so is a front tier filled before irc_qbloom existed.
	 */
	err = irc_maps_of_obj(skel->obj, &m);
	if (!err)
		err = irc_qtier_adopt(&m);
	irc_maps_unmap_qbloom(&m);
	if (err) {
		irc_err("load: mark the host maps' entries in %s / %s: %s",
			IRC_STR(IRC_MAP_QTIER), IRC_STR(IRC_MAP_QBLOOM), strerror(-err));
		irc_net_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

#define PROC_LINK_PREFIX	"proc_"

/*
 * Attaches one process-path program and pins its link in place of the
 * previous load's: the new link is live before the old one goes, so a
 * reload leaves no gap.
 */
static int proc_attach_one(struct bpf_program *prog, int cg_fd)
{
	char name[64], path[4096], tmp[4096];
	struct bpf_link *link;
	int err;

	/* bpffs refuses '.' in names: the temporary pin gets a prefix. */
	snprintf(name, sizeof(name), "new_%s", bpf_program__name(prog));
	err = irc_link_path(tmp, sizeof(tmp), name);
	if (err)
		return err;
	snprintf(name, sizeof(name), PROC_LINK_PREFIX "%s", bpf_program__name(prog));
	err = irc_link_path(path, sizeof(path), name);
	if (err)
		return err;
	if (!bpf_program__autoload(prog))
		return 0;	/* an optional part left out at load */
	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
		link = bpf_program__attach_cgroup(prog, cg_fd);
		break;
	default:	/* tracepoints: global */
		link = bpf_program__attach(prog);
		break;
	}
	err = libbpf_get_error(link);
	if (err) {
		/* Optional parts are reported by the caller, as warnings. */
		if (!irc_part_of(bpf_program__name(prog)))
			irc_err("attach %s: %s", bpf_program__name(prog), strerror(-err));
		return err;
	}
	unlink(tmp);
	err = bpf_link__pin(link, tmp);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		irc_err("pin link of %s at %s: %s", bpf_program__name(prog), path,
			strerror(-err));
		unlink(tmp);
	}
	/* Pinned, the link outlives this reference. */
	bpf_link__destroy(link);
	return err;
}

/* Classic tracepoints are found through tracefs: mount it if absent. */
static void tracefs_prepare(void)
{
	static const char dir[] = "/sys/kernel/tracing";

	if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return;
	if (mount("tracefs", dir, "tracefs", 0, NULL))
		irc_info("mount tracefs on %s: %s", dir, strerror(errno));
	else
		irc_info("mounted tracefs on %s", dir);
}

/* Depth of cgroup @root below the cgroup2 mount (the mount is level 0). */
static __u32 cgroup_level(const char *root)
{
	char mnt[IRC_PATH_LEN];
	const char *p;
	__u32 level = 0;

	if (irc_cgroup2_mount(mnt, sizeof(mnt)) || !irc_path_under(root, mnt))
		return 0;
	for (p = root + strlen(mnt); *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			level++;
	return level;
}

/*
 * Opens and loads the process object.  A program of the core the kernel
 * refuses fails the load; an optional one is left out (with a warning
 * naming what is then not seen) and the object loaded again without it.
 */
static int proc_open_load(struct irc_proc_bpf **out, unsigned int ring_size)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = irc.pin_dir);
	const struct irc_part *left_out[32];
	const struct irc_part *part;
	struct irc_proc_bpf *skel;
	struct bpf_program *prog;
	int n = 0, i, err;

	for (;;) {
		skel = irc_proc_bpf__open_opts(&oo);
		if (!skel) {
			err = -errno;
			irc_err("load process hooks: open BPF object: %s", strerror(-err));
			return err;
		}
		bpf_map__set_max_entries(skel->maps.IRC_MAP_EVENTS, ring_size);
		bpf_object__for_each_program(prog, skel->obj)
			for (i = 0; i < n; i++)
				if (!strcmp(bpf_program__name(prog), left_out[i]->prog))
					bpf_program__set_autoload(prog, false);
		fault_inject(skel->obj);
		rejected.prog[0] = rejected.msg[0] = '\0';
		err = irc_proc_bpf__load(skel);
		if (!err) {
			*out = skel;
			return 0;
		}
		part = rejected.prog[0] ? irc_part_of(rejected.prog) : NULL;
		if (!part || n == (int)(sizeof(left_out) / sizeof(left_out[0]))) {
			report_load_error("load process hooks", err, skel->obj);
			irc_proc_bpf__destroy(skel);
			return err;
		}
		irc_warn("load process hooks: optional program %s refused by this kernel (%s): left out, %s not seen",
			 part->prog, rejected.msg[0] ? rejected.msg : strerror(-err), part->sees);
		left_out[n++] = part;
		irc_proc_bpf__destroy(skel);
	}
}

static int proc_load(const char *root, int config_fd, unsigned int ring_size)
{
	struct irc_proc_bpf *skel = NULL;
	const struct irc_part *part;
	struct bpf_program *prog;
	struct irc_config cfg;
	__u32 zero = 0;
	uint64_t id;
	int cg_fd, err, lock;

	err = irc_cgroup_id(root, &id);
	if (err) {
		irc_err("cgroup root %s: %s", root, strerror(-err));
		return err;
	}
	cg_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		irc_err("open cgroup root %s: %s", root, strerror(errno));
		return err;
	}
	err = proc_open_load(&skel, ring_size);
	if (err)
		goto out;
	tracefs_prepare();
	bpf_object__for_each_program(prog, skel->obj) {
		err = proc_attach_one(prog, cg_fd);
		/*
		 * Syscall tracepoints need tracefs, a hook may be missing:
		 * without an optional part ircontain still contains, it
		 * only sees less.
		 */
		part = irc_part_of(bpf_program__name(prog));
		if (err && part) {
			irc_warn("load process hooks: optional program %s (%s) not attached (%s): %s not seen",
				 part->prog, bpf_program__section_name(prog), strerror(-err),
				 part->sees);
			err = 0;
		}
		if (err)
			goto out;
	}
	/* Record where the hooks are, for status and for target checks. */
	lock = irc_pins_lock();
	/*
	 * Without it the hooks would not know their cgroup: host detectors
	 * would be out of scope everywhere, silently.  So a failure fails.
	 */
	if (bpf_map_lookup_elem(config_fd, &zero, &cfg)) {
		err = -errno;
		irc_err("load process hooks: read map %s: %s", IRC_STR(IRC_MAP_CONFIG), strerror(errno));
	} else {
		if (cfg.cgroup_root[0] && strcmp(cfg.cgroup_root, root))
			irc_warn("process hooks moved from cgroup %s to %s",
				 cfg.cgroup_root, root);
		cfg.cgroup_root_id = id;
		cfg.cgroup_root_level = cgroup_level(root);
		snprintf(cfg.cgroup_root, sizeof(cfg.cgroup_root), "%s", root);
		if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY)) {
			err = -errno;
			irc_err("load process hooks: record cgroup %s in map %s: %s", root,
				IRC_STR(IRC_MAP_CONFIG), strerror(errno));
		}
	}
	irc_pins_unlock(lock);
out:
	irc_proc_bpf__destroy(skel);
	close(cg_fd);
	return err;
}

int irc_proc_links(void)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (irc_link_path(path, sizeof(path), "") || !(d = opendir(path)))
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, PROC_LINK_PREFIX, strlen(PROC_LINK_PREFIX));
	closedir(d);
	return n;
}

/*
 * Unpins every process-path link (and any temporary pin a failed attach
 * left), which detaches them: a first load that fails half-way must not
 * leave hooks behind that nothing reports.
 */
static void proc_unpin_all(void)
{
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	DIR *d;

	if (irc_link_path(dir, sizeof(dir), "") || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, PROC_LINK_PREFIX, strlen(PROC_LINK_PREFIX)) &&
		    strncmp(de->d_name, "new_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path))
			irc_warn("unpin %s: %s", path, strerror(errno));
	}
	closedir(d);
}

/*
 * The packet programs are pinned too (progs/), so that the controller can
 * attach them to an interface that appears, or again where another tool
 * detached them, without loading anything.  Pinned under a temporary name
 * and renamed over the old pin: never a moment without one.
 */
static int prog_pin(struct bpf_program *prog)
{
	char path[4096], tmp[4096], name[64];
	int err;

	snprintf(name, sizeof(name), "new_%s", bpf_program__name(prog));
	err = irc_prog_path(tmp, sizeof(tmp), name);
	if (!err)
		err = irc_prog_path(path, sizeof(path), bpf_program__name(prog));
	if (err)
		return err;
	unlink(tmp);
	err = bpf_obj_pin(bpf_program__fd(prog), tmp) ? -errno : 0;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		irc_err("pin program %s at %s: %s", bpf_program__name(prog), path, strerror(-err));
		unlink(tmp);
	}
	return err;
}

int irc_load(const struct irc_netif *nifs, int n, enum irc_xdp_req req,
	     struct irc_attach_result *res, const char *cgroup_root,
	     unsigned int ring_size, int (*prepare)(void *ctx), void *ctx)
{
	struct irc_net_bpf *skel = NULL;
	bool fresh, fresh_proc;
	int i, err;

	err = irc_pins_prepare();
	if (err)
		return err;
	/*
	 * A first load is all or nothing: on any failure every pin, link
	 * and attachment it made goes, so nothing looks loaded that does
	 * not enforce.  A reload that fails leaves the working load as it
	 * was (its links are only ever replaced by working ones).
	 */
	fresh = irc_pins_loaded() != 0;
	ring_size = ring_size_for(ring_size);
	err = open_and_load(&skel, ring_size);
	if (err)
		goto fail;
	err = irc_detcfg_init(bpf_map__fd(skel->maps.IRC_MAP_DETCFG));
	if (err) {
		irc_err("load: set up %s (netns, port hash key): %s",
			IRC_STR(IRC_MAP_DETCFG), strerror(-err));
		goto fail;
	}
	/* On a reload the new links replaced working ones: those stay. */
	fresh_proc = irc_proc_links() == 0;
	if (cgroup_root) {
		err = proc_load(cgroup_root, bpf_map__fd(skel->maps.IRC_MAP_CONFIG),
				ring_size);
		if (err) {
			if (fresh_proc)
				proc_unpin_all();
			goto fail;
		}
	}

	err = prog_pin(skel->progs.irc_xdp_ingress);
	if (!err)
		err = prog_pin(skel->progs.irc_tc_egress);
	/* The maps are pinned: what must be in them goes in before any packet. */
	if (!err && prepare)
		err = prepare(ctx);
	if (err) {
		if (fresh_proc)
			proc_unpin_all();
		goto fail;
	}
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		err = attach_one(bpf_program__fd(skel->progs.irc_xdp_ingress),
				 bpf_program__fd(skel->progs.irc_tc_egress),
				 bpf_map__fd(skel->maps.IRC_MAP_IFACES),
				 bpf_map__fd(skel->maps.IRC_MAP_IFNAMES), &nifs[i], req, &res[i]);
		if (err)
			break;
	}
	if (err) {
		int ifaces_fd = bpf_map__fd(skel->maps.IRC_MAP_IFACES);

		/* All or nothing for the interfaces new to this call. */
		while (--i >= 0)
			if (!res[i].replaced)
				detach_iface(ifaces_fd, nifs[i].ifindex);
		if (fresh_proc)
			proc_unpin_all();
	}
fail:
	irc_net_bpf__destroy(skel);
	if (err && fresh && irc_pins_remove() == 0)
		irc_err("load failed: nothing was left attached or pinned in %s", irc.pin_dir);
	return err;
}

int irc_unload(int *detached)
{
	struct irc_maps m;
	__u32 key, next, *prev = NULL;
	int err;

	*detached = 0;
	err = irc_maps_open("unload", &m);
	if (err)
		return err;
	/* Deleting while walking: always restart from the first key. */
	while (bpf_map_get_next_key(m.fd[IRC_M_IFACES], prev, &next) == 0) {
		key = next;
		detach_iface(m.fd[IRC_M_IFACES], key);
		(*detached)++;
	}
	irc_maps_close(&m);
	return irc_pins_remove();
}

int irc_attach_check(int ifindex, unsigned int xdp_prog_id,
		     struct irc_attach_state *st)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = IRC_TC_HANDLE,
			    .priority = IRC_TC_PRIO);
	unsigned int prog_id = 0;
	struct irc_netif nif;
	int mode;

	memset(st, 0, sizeof(*st));
	st->present = irc_netif_by_index(ifindex, &nif) == 0;
	if (!st->present)
		return 0;
	st->xdp_attached = xdp_query(ifindex, &mode, &prog_id) == 0 &&
			   prog_id && prog_id == xdp_prog_id;
	st->tc_attached = bpf_tc_query(&hook, &opts) == 0;
	return 0;
}

void irc_probe_features(struct irc_features *f)
{
	memset(f, 0, sizeof(*f));
	f->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	f->boot_clock = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP,
						BPF_FUNC_ktime_get_boot_ns,
						NULL) == 1;
	f->xdp_link = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) == 1;
	f->lsm = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL) == 1;
	irc_cgroup2_mount(f->cgroup2, sizeof(f->cgroup2));
}

/* Opens a pinned packet program; -errno after saying why. */
static int prog_open(const char *name)
{
	char path[4096];
	int fd, err = irc_prog_path(path, sizeof(path), name);

	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		irc_err("open program %s: %s (run 'ircontain load' again)", path, strerror(errno));
		return err;
	}
	return fd;
}

int irc_attach_iface(const struct irc_maps *m, const struct irc_netif *nif,
		     enum irc_xdp_req req, struct irc_attach_result *r)
{
	int xdp_fd, tc_fd = -1, err;

	memset(r, 0, sizeof(*r));
	xdp_fd = prog_open("irc_xdp_ingress");
	if (xdp_fd < 0)
		return xdp_fd;
	tc_fd = prog_open("irc_tc_egress");
	err = tc_fd < 0 ? tc_fd : attach_one(xdp_fd, tc_fd, m->fd[IRC_M_IFACES],
					     m->fd[IRC_M_IFNAMES], nif, req, r);
	close(xdp_fd);
	if (tc_fd >= 0)
		close(tc_fd);
	return err;
}

void irc_detach_iface(const struct irc_maps *m, int ifindex)
{
	detach_iface(m->fd[IRC_M_IFACES], ifindex);
}

/* ---- what is attached: the core, the optional parts ------------------ */

/*
 * The optional parts of the process object, by program.  Every program
 * not named here is the containment core: the cgroup hooks, and fork and
 * exit, which carry a quarantine to children and end it with the process.
 */
static const struct irc_part parts[] = {
	{ "irc_exec", "exec_events", "program starts (exec events, detectors exec_tmp and fileless)" },
	{ "irc_sock_state", "connect_events", "TCP connect events" },
	{ "irc_accept4", "accept_events", "TCP accept events (accept4)" },
	{ "irc_accept0", "accept_events", "TCP accept events (accept)" },
	{ "irc_dup2", "reverse_shell", "reverse shells (detector reverse_shell, dup2)" },
	{ "irc_dup3", "reverse_shell", "reverse shells (detector reverse_shell, dup3)" },
	{ "irc_openat", "sensitive_read", "reads of sensitive files (detector sensitive_read, openat)" },
	{ "irc_openat2", "sensitive_read", "reads of sensitive files (detector sensitive_read, openat2)" },
	{ "irc_open", "sensitive_read", "reads of sensitive files (detector sensitive_read, open)" },
	{ "irc_open_by_handle", "sensitive_read",
	  "reads of sensitive files (detector sensitive_read, open_by_handle_at)" },
	{ "irc_ptrace", "ptrace", "ptrace attaches (detector ptrace)" },
	{ "irc_pkill_guard", "contain_then_kill_guard",
	  "a contain-then-kill process resumed before its kill (stopped again, killed after the deadline)" },
	/* A kernel without module support has no module loads to see. */
	{ "irc_init_module", "module_load", "kernel module loads (detector module_load, init_module)",
	  "/proc/modules" },
	{ "irc_finit_module", "module_load", "kernel module loads (detector module_load, finit_module)",
	  "/proc/modules" },
};
#define NPARTS (sizeof(parts) / sizeof(parts[0]))

const struct irc_part *irc_part_of(const char *prog)
{
	size_t i;

	for (i = 0; i < NPARTS; i++)
		if (!strcmp(parts[i].prog, prog))
			return &parts[i];
	return NULL;
}

/*
 * Whether the pinned link of process program @prog is attached: the link
 * exists in the kernel, has a program, and a cgroup link still has its
 * cgroup (@cgroup_id, when not 0).
 */
static bool proc_link_live(const char *prog, __u64 cgroup_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char name[64], path[4096];
	bool live;
	int fd;

	snprintf(name, sizeof(name), PROC_LINK_PREFIX "%s", prog);
	if (irc_link_path(path, sizeof(path), name))
		return false;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	live = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.prog_id &&
	       (info.type != BPF_LINK_TYPE_CGROUP ||
		(info.cgroup.cgroup_id && (!cgroup_id || info.cgroup.cgroup_id == cgroup_id)));
	close(fd);
	return live;
}

int irc_parts_missing(const struct irc_part **out, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NPARTS && n < max; i++)
		if ((!parts[i].needs || access(parts[i].needs, F_OK) == 0) &&
		    !proc_link_live(parts[i].prog, 0))
			out[n++] = &parts[i];
	return n;
}

int irc_proc_core_missing(__u64 cgroup_id, char *names, size_t len)
{
	struct irc_proc_bpf *skel = irc_proc_bpf__open();
	struct bpf_program *prog;
	int n = 0;

	names[0] = '\0';
	if (!skel) {
		snprintf(names, len, "(process object: %s)", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);

		if (irc_part_of(name) || proc_link_live(name, cgroup_id))
			continue;
		snprintf(names + strlen(names), len - strlen(names), "%s%s",
			 n++ ? ", " : "", name);
	}
	irc_proc_bpf__destroy(skel);
	return n;
}

static int net_enforced(const struct irc_maps *m, const char *action)
{
	char bad[512] = "";
	__u32 key, *prev = NULL;
	struct irc_iface r;
	int good = 0;

	while (bpf_map_get_next_key(m->fd[IRC_M_IFACES], prev, &key) == 0) {
		struct irc_attach_state st;
		const char *why;

		prev = &r.ifindex;
		if (bpf_map_lookup_elem(m->fd[IRC_M_IFACES], &key, &r))
			break;
		irc_attach_check(r.ifindex, r.xdp_prog_id, &st);
		why = !st.present ? "interface gone" :
		      !st.xdp_attached ? "XDP program detached" :
		      !st.tc_attached ? "tc program detached" : NULL;
		if (!why) {
			good++;
			continue;
		}
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s: %s",
			 bad[0] ? ", " : "", r.name, why);
	}
	if (!good) {
		irc_err("%s: not enforced: no interface has ircontain's XDP and tc programs attached (%s); run 'ircontain load --iface IF'",
			action, bad[0] ? bad : "none recorded");
		return -ENOLINK;
	}
	if (bad[0])
		irc_warn("%s: not enforced on %s", action, bad);
	return 0;
}

static int proc_enforced(const struct irc_maps *m, const char *action)
{
	struct irc_config cfg;
	char missing[512];

	if (irc_config_read(m, &cfg))
		return -EIO;
	if (!cfg.cgroup_root[0]) {
		irc_err("%s: not enforced: the process hooks are not attached (no cgroup v2 when ircontain was loaded); run 'ircontain load' again with a cgroup v2 mount or --cgroup-root",
			action);
		return -ENOLINK;
	}
	if (irc_proc_core_missing(cfg.cgroup_root_id, missing, sizeof(missing))) {
		irc_err("%s: not enforced: process hooks not attached at cgroup %s: %s; run 'ircontain load' again",
			action, cfg.cgroup_root, missing);
		return -ENOLINK;
	}
	return 0;
}

int irc_require_enforced(const struct irc_maps *m, const char *action,
			 enum irc_enforcer what)
{
	return what == IRC_ENF_NET ? net_enforced(m, action) : proc_enforced(m, action);
}

/* ---- break-glass ---------------------------------------------------------- */

#define EMERG_MAX_MAPS	64

struct emerg {
	__u32 maps[EMERG_MAX_MAPS];	/* ids of the maps found pinned */
	int nmaps;
	char **pats;
	int npats;
	struct irc_emergency *rep;
};

static void add_map_id(struct emerg *e, __u32 id)
{
	int i;

	for (i = 0; i < e->nmaps; i++)
		if (e->maps[i] == id)
			return;
	if (e->nmaps < EMERG_MAX_MAPS)
		e->maps[e->nmaps++] = id;
}

/* The name of program @prog_id and whether it uses one of our maps. */
static int prog_look(struct emerg *e, __u32 prog_id, char *name, size_t len, bool *ours)
{
	__u32 ids[EMERG_MAX_MAPS] = {}, ilen;
	struct bpf_prog_info info;
	int fd, i, j;

	*ours = false;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = EMERG_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	ilen = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		close(fd);
		return -errno;
	}
	close(fd);
	snprintf(name, len, "%s", info.name);
	for (i = 0; i < (int)info.nr_map_ids && i < EMERG_MAX_MAPS; i++)
		for (j = 0; j < e->nmaps; j++)
			*ours |= ids[i] == e->maps[j];
	return 0;
}

/*
 * Ours: a program named irc_* that uses a map of this pin dir; when no map
 * of it could be read (the pin dir is gone), any irc_* program on an
 * interface the patterns allow.
 */
static bool is_ours(const struct emerg *e, const char *name, bool uses_ours, bool iface_ok)
{
	if (strncmp(name, "irc_", 4))
		return false;
	return e->nmaps ? uses_ours && iface_ok : iface_ok;
}

static bool iface_allowed(const struct emerg *e, int ifindex)
{
	char name[IF_NAMESIZE];

	if (!e->npats)
		return true;
	return if_indextoname((unsigned int)ifindex, name) &&
	       irc_ifpattern_match(e->pats, e->npats, name);
}

/* Every pin under @dir (depth 2 at most): map ids noted, links detached, all unpinned. */
static void emerg_pins(struct emerg *e, const char *dir, int depth)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 2)
				emerg_pins(e, path, depth + 1);
			if (rmdir(path) && errno != ENOENT) {
				irc_warn("unload --emergency: remove %s: %s", path, strerror(errno));
				e->rep->errors++;
			}
			continue;
		}
		{
			struct bpf_map_info mi = {};
			struct bpf_link_info li = {};
			__u32 len;
			int fd = bpf_obj_get(path);

			if (fd >= 0) {
				len = sizeof(li);
				/* A link: detached now, whoever else holds it. */
				if (!bpf_obj_get_info_by_fd(fd, &li, &len) && li.id && li.prog_id &&
				    !bpf_link_detach(fd))
					e->rep->links++;
				len = sizeof(mi);
				/* The maps are pinned at the top, by their names. */
				if (!depth && !strncmp(de->d_name, "irc_", 4) &&
				    !bpf_obj_get_info_by_fd(fd, &mi, &len) && mi.id)
					add_map_id(e, mi.id);
				close(fd);
			}
		}
		if (unlink(path) && errno != ENOENT) {
			irc_warn("unload --emergency: unpin %s: %s", path, strerror(errno));
			e->rep->errors++;
		} else {
			e->rep->pins++;
		}
	}
	closedir(d);
}

/* Links still attached anywhere (their pin gone or never ours to see). */
static void emerg_links(struct emerg *e)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info li = {};
		__u32 len = sizeof(li);
		char name[BPF_OBJ_NAME_LEN];
		bool ours, ifok = true;
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &li, &len) ||
		    prog_look(e, li.prog_id, name, sizeof(name), &ours)) {
			close(fd);
			continue;
		}
		if (li.type == BPF_LINK_TYPE_XDP)
			ifok = iface_allowed(e, (int)li.xdp.ifindex);
		else if (e->npats && !e->nmaps)
			ifok = false;	/* not bound to an interface: only by its maps */
		if (is_ours(e, name, ours, ifok)) {
			if (bpf_link_detach(fd)) {
				irc_warn("unload --emergency: detach link %u (%s): %s", id, name,
					 strerror(errno));
				e->rep->errors++;
			} else {
				e->rep->links++;
			}
		}
		close(fd);
	}
}

/* tc filters, on every interface the patterns allow. */
static void emerg_tc(struct emerg *e)
{
	struct if_nameindex *ifs = if_nameindex(), *p;

	if (!ifs)
		return;
	for (p = ifs; p->if_index; p++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)p->if_index,
				    .attach_point = BPF_TC_EGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = IRC_TC_HANDLE,
				    .priority = IRC_TC_PRIO);
		char name[BPF_OBJ_NAME_LEN];
		bool ours;

		if (!iface_allowed(e, (int)p->if_index) || bpf_tc_query(&hook, &opts) ||
		    prog_look(e, opts.prog_id, name, sizeof(name), &ours) ||
		    !is_ours(e, name, ours, true))
			continue;
		opts.prog_id = 0;
		opts.prog_fd = 0;
		opts.flags = 0;
		if (bpf_tc_detach(&hook, &opts)) {
			irc_warn("unload --emergency: detach tc filter on %s", p->if_name);
			e->rep->errors++;
		} else {
			e->rep->tc++;
		}
	}
	if_freenameindex(ifs);
}

int irc_unload_emergency(char **pats, int npats, struct irc_emergency *rep)
{
	struct emerg e = { .pats = pats, .npats = npats, .rep = rep };

	memset(rep, 0, sizeof(*rep));
	/* The pins first: their map ids say which programs are ours. */
	emerg_pins(&e, irc.pin_dir, 0);
	if (rmdir(irc.pin_dir) && errno != ENOENT) {
		irc_warn("unload --emergency: remove %s: %s", irc.pin_dir, strerror(errno));
		rep->errors++;
	}
	emerg_links(&e);
	emerg_tc(&e);
	rep->maps_known = e.nmaps;
	return rep->errors ? -EIO : 0;
}
