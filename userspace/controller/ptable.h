/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The controller's process table: a fixed number of slots, seeded from
 * /proc and kept current by exec/fork/exit events, so each event carries
 * its ancestry.  Memory is fixed at IRC_PT_MAX entries whatever the event
 * rate: 2 * IRC_PT_MAX slots (open addressing kept at most half full),
 * about 24.5 MiB; when full, exited processes are evicted first, then the
 * oldest.
 */
#ifndef IRC_PTABLE_H
#define IRC_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IRC_PT_MAX		16384	/* processes tracked */
#define IRC_PT_EXE_LEN		256
#define IRC_PT_ARGS_LEN		256
#define IRC_PT_CGROUP_LEN	192
#define IRC_ANCESTRY_MAX	8	/* parent levels in each event */
#define IRC_PT_FRAG_BYTES	(8U << 20)	/* process.* text kept, in all */

struct irc_pt_entry {
	int tgid;
	int ppid;
	uint64_t start_ticks;	/* since boot, in clock ticks (as /proc) */
	uint64_t cgroup_id;
	uint32_t uid;
	bool used;
	bool exited;
	uint64_t touched;	/* table clock, for eviction */
	char comm[16];
	char exe[IRC_PT_EXE_LEN];
	char args[IRC_PT_ARGS_LEN];	/* NUL-separated, args_len bytes */
	uint32_t args_len;
	char cgroup[IRC_PT_CGROUP_LEN];
	char entity_id[17];
	/*
	 * What changes in an entry changes its version (irc_pt_put() and
	 * irc_pt_changed() take a new one from the table's clock).  @frag is
	 * the entry's process.* as evjson wrote it (malloc'd, owned here),
	 * valid while the versions of its chain of parents sum to @frag_sig.
	 */
	uint64_t ver;
	char *frag;
	uint32_t frag_len;
	uint64_t frag_sig;
};

struct irc_ptable {
	struct irc_pt_entry *slots;	/* 2 * IRC_PT_MAX, open addressing */
	size_t count;
	uint64_t clock;
	uint64_t boot_key;		/* from the boot id: entity ids differ per boot */
	uint64_t evictions;
	size_t frag_bytes;		/* of all entries' frag, at most IRC_PT_FRAG_BYTES */
};

int irc_pt_init(struct irc_ptable *t, const char *boot_id);
void irc_pt_free(struct irc_ptable *t);

/* The entry for @tgid, or NULL. */
struct irc_pt_entry *irc_pt_get(struct irc_ptable *t, int tgid);

/*
 * The entry for @tgid, created (or reused, when @start_ticks says it is a
 * new process with a recycled PID) and stamped with a fresh entity id.
 */
struct irc_pt_entry *irc_pt_put(struct irc_ptable *t, int tgid,
				uint64_t start_ticks);

/* @e was changed in place (exe, args, comm, ppid, start): a new version. */
void irc_pt_changed(struct irc_ptable *t, struct irc_pt_entry *e);

/* Marks @tgid exited: first to go when room is needed. */
void irc_pt_exit(struct irc_ptable *t, int tgid);

/* Fills the table from /proc (called once at start). */
int irc_pt_seed(struct irc_ptable *t, const char *proc_root);
/* One process, from @proc_root/PID as it is now; NULL if it is not there. */
struct irc_pt_entry *irc_pt_seed_one(struct irc_ptable *t, const char *proc_root, int pid);

/* Fills one entry's exe, args, comm, cgroup from /proc/PID. */
void irc_pt_read_proc(struct irc_pt_entry *e, const char *proc_root);
/* Only the cgroup v2 path, from @proc_root/PID/cgroup (cut to fit). */
void irc_pt_read_cgroup(struct irc_pt_entry *e, const char *proc_root);
/*
 * Where process @pid is now (its cgroup v2 path) into @out: 0, -ENOENT or
 * -ENAMETOOLONG (nothing cut).
 */
int irc_pt_proc_cgroup(const char *proc_root, int pid, char *out, size_t len);

/* Stable id of one process on one boot: 16 hex digits. */
void irc_entity_id(uint64_t boot_key, int tgid, uint64_t start_ticks,
		   char out[17]);

/* FNV-1a 64 of a boot id string. */
uint64_t irc_boot_key(const char *boot_id);

/*
 * A container id in a cgroup path (docker-<id>.scope, /docker/<id>,
 * cri-containerd-, crio-, libpod-, kubepods .../<id>): the last 64-hex run
 * of the path.  Returns 0 and fills @out (65 bytes) or -ENOENT.
 */
int irc_container_id(const char *cgroup_path, char out[65]);

#endif /* IRC_PTABLE_H */
