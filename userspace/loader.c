// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loader.  All state that must outlive this process is in the kernel: maps
 * pinned by name, one pinned XDP link per interface, one tc filter per
 * interface, and a record of each attachment in the irc_ifaces map.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <stdio.h>
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
#include "pins.h"
#include "irc_net.skel.h"
#include "irc_proc.skel.h"

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			va_list ap)
{
	if (!irc.verbose || (lvl == LIBBPF_DEBUG && irc.verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

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

static int attach_one(int xdp_fd, int tc_fd, int ifaces_fd, const struct irc_netif *nif,
		      enum irc_xdp_req req, struct irc_attach_result *r)
{
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
	int err;

	skel = irc_net_bpf__open_opts(&oo);
	if (!skel) {
		err = -errno;
		irc_err("open BPF object: %s", strerror(-err));
		return err;
	}
	bpf_map__set_max_entries(skel->maps.IRC_MAP_EVENTS, ring_size);
	err = irc_net_bpf__load(skel);
	if (err) {
		char msg[128];

		libbpf_strerror(err, msg, sizeof(msg));
		if (err == -EINVAL)
			irc_err("load BPF programs: %s (a map pinned in %s may have an older layout: run 'ircontain unload' first; -v shows the verifier log)",
				msg, irc.pin_dir);
		else
			irc_err("load BPF programs: %s (-v shows libbpf's log)", msg);
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
		/* Optional tracepoints are reported by the caller, as warnings. */
		if (strncmp(bpf_program__section_name(prog), "tp/", 3))
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

static int proc_load(const char *root, int config_fd, unsigned int ring_size)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = irc.pin_dir);
	struct irc_proc_bpf *skel;
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
	skel = irc_proc_bpf__open_opts(&oo);
	if (skel)
		bpf_map__set_max_entries(skel->maps.IRC_MAP_EVENTS, ring_size);
	err = skel ? irc_proc_bpf__load(skel) : -errno;
	if (err) {
		char msg[128];

		libbpf_strerror(err, msg, sizeof(msg));
		irc_err("load process hooks: %s (-v shows libbpf's log)", msg);
		goto out;
	}
	tracefs_prepare();
	bpf_object__for_each_program(prog, skel->obj) {
		err = proc_attach_one(prog, cg_fd);
		/*
		 * Syscall tracepoints (accept events) need tracefs; without
		 * it ircontain still contains, it only sees fewer events.
		 */
		if (err && !strncmp(bpf_program__section_name(prog), "tp/", 3)) {
			irc_warn("%s: tracepoint %s not attached (%s): what it watches is not seen on this kernel",
				 bpf_program__name(prog), bpf_program__section_name(prog) + 3,
				 strerror(-err));
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
	bool fresh_proc;
	int i, err;

	err = irc_pins_prepare();
	if (err)
		return err;
	ring_size = ring_size_for(ring_size);
	err = open_and_load(&skel, ring_size);
	if (err)
		return err;
	/* On a reload the new links replaced working ones: those stay. */
	fresh_proc = irc_proc_links() == 0;
	if (cgroup_root) {
		err = proc_load(cgroup_root, bpf_map__fd(skel->maps.IRC_MAP_CONFIG),
				ring_size);
		if (err) {
			if (fresh_proc)
				proc_unpin_all();
			irc_net_bpf__destroy(skel);
			return err;
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
		irc_net_bpf__destroy(skel);
		return err;
	}
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		err = attach_one(bpf_program__fd(skel->progs.irc_xdp_ingress),
				 bpf_program__fd(skel->progs.irc_tc_egress),
				 bpf_map__fd(skel->maps.IRC_MAP_IFACES), &nifs[i], req, &res[i]);
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
	irc_net_bpf__destroy(skel);
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
	err = tc_fd < 0 ? tc_fd : attach_one(xdp_fd, tc_fd, m->fd[IRC_M_IFACES], nif, req, r);
	close(xdp_fd);
	if (tc_fd >= 0)
		close(tc_fd);
	return err;
}

void irc_detach_iface(const struct irc_maps *m, int ifindex)
{
	detach_iface(m->fd[IRC_M_IFACES], ifindex);
}
