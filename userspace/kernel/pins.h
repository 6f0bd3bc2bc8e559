/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pin dir: where the maps and links live so that enforcement outlives
 * every process.  Commands other than `load` reach the module only through
 * these pins.
 */
#ifndef IRC_PINS_H
#define IRC_PINS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "ircontain/abi.h"

/*
 * Every pinned map, by index into struct irc_maps and irc_map_names:
 * IRC_M_<ID> for each IRC_MAP_<ID> of IRC_MAP_LIST (ircontain/abi.h).
 */
#define IRC_M_ENUM(id)	IRC_M_##id,
enum irc_map_id {
	IRC_MAP_LIST(IRC_M_ENUM)
	IRC_M__MAX,
};
#undef IRC_M_ENUM
_Static_assert(IRC_M__MAX < 64, "irc_maps_open_some() takes a 64-bit set");

/* File descriptors of every pinned map; -1 where not open. */
struct irc_maps {
	int fd[IRC_M__MAX];
	/*
	 * irc_qbloom's bytes (both elements, 2 * IRC_QBLOOM_SLOTS), mapped
	 * while it is open: a write of one host stores its byte here, with no
	 * mmap() of its own.  NULL when irc_qbloom is not open.
	 */
	__u8 *qbloom;
};

extern const char *const irc_map_names[IRC_M__MAX];

/* "<pin_dir>/<name>" into @buf; -ENAMETOOLONG if it does not fit. */
int irc_pin_path(char *buf, size_t len, const char *name);
/* "<pin_dir>/links/<name>". */
int irc_link_path(char *buf, size_t len, const char *name);
/* "<pin_dir>/progs/<name>". */
int irc_prog_path(char *buf, size_t len, const char *name);

/*
 * Makes sure the pin dir's filesystem is bpffs, mounting bpffs on
 * /sys/fs/bpf when it is absent, and creates the pin dir and its links/.
 */
int irc_pins_prepare(void);

/* 0 if the module is loaded (its maps are pinned), -ENOENT if not. */
int irc_pins_loaded(void);

/*
 * For every command that needs the module: checks privileges, then that
 * the module is loaded, then opens every map.  Prints its own error.
 */
int irc_maps_open(const char *action, struct irc_maps *m);
/*
 * The same for the maps in @which only (IRC_MAP_BIT(id) bits), for a
 * command whose kernel write must not wait for every map to open; the
 * others stay -1.
 */
#define IRC_MAP_BIT(id)	(1ULL << (id))
#define IRC_MAPS_ALL	(IRC_MAP_BIT(IRC_M__MAX) - 1)
/*
 * The exact-host front tiers and their flag (IRC_MAX_FRONT_HOSTS): opened
 * with either host map.  A module loaded by an older ircontain has none;
 * its programs read the big maps only, and so do the writers then.
 */
#define IRC_MAPS_TIERS	(IRC_MAP_BIT(IRC_M_Q4_FRONT) | IRC_MAP_BIT(IRC_M_Q6_FRONT) | \
			 IRC_MAP_BIT(IRC_M_QTIER) | IRC_MAP_BIT(IRC_M_QBLOOM))
int irc_maps_open_some(const char *action, struct irc_maps *m, uint64_t which);
/*
 * Maps added to the pin layout after others: a module loaded by an older
 * ircontain has not pinned them, and its programs do not use them.  The
 * commands work without them (their fd stays -1, with a warning) until a
 * `load` pins them; each user of one checks for -1.
 */
#define IRC_MAPS_LATE	(IRC_MAP_BIT(IRC_M_DROPRUN) | IRC_MAP_BIT(IRC_M_IFDROPS) | \
			 IRC_MAP_BIT(IRC_M_IFNAMES) | IRC_MAPS_TIERS)
void irc_maps_close(struct irc_maps *m);
/* Unmaps m->qbloom (irc_maps_close() does, with the fds). */
void irc_maps_unmap_qbloom(struct irc_maps *m);
/*
 * The maps of loaded object @obj (its fds, which stay the object's: undo
 * with irc_maps_unmap_qbloom(), not irc_maps_close()); 0 or -errno.
 */
struct bpf_object;
int irc_maps_of_obj(struct bpf_object *obj, struct irc_maps *m);

/*
 * All CPUs' values of key 0 of a per-CPU array whose values are @size
 * bytes: a malloc()ed array of *ncpu values, or NULL with *err set.
 */
void *irc_percpu_read(int fd, size_t size, int *ncpu, int *err);

/* The global switches (irc_config); 0 or -errno, printing what failed. */
struct irc_config;
int irc_config_read(const struct irc_maps *m, struct irc_config *cfg);
int irc_config_write(const struct irc_maps *m, const struct irc_config *cfg);

/*
 * Serialises read-modify-writes of irc_config between ircontain processes
 * (an operator and a script, say): an exclusive flock on the pin dir.
 * Returns the fd to pass to irc_pins_unlock(), or -errno.
 */
int irc_pins_lock(void);
/* The same without waiting: -EWOULDBLOCK while another holds it (the controller's loop). */
int irc_pins_trylock(void);
void irc_pins_unlock(int fd);

/*
 * One controller per pin dir: an flock on its links dir, held for the
 * daemon's life (kept by the returned fd).  -EWOULDBLOCK when another
 * process holds it, with its PID in *@holder when /proc/locks names it.
 */
int irc_run_lock(long *holder);

/* Removes every pin ircontain created, then the pin dir itself. */
int irc_pins_remove(void);

#endif /* IRC_PINS_H */
