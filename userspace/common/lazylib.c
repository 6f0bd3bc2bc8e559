// SPDX-License-Identifier: GPL-2.0-only
/*
 * libarchive and libpcap, loaded on first use.
 *
 * Only `export` and `verify` need them, yet linked normally they and what
 * they pull in (libxml2, ICU, libstdc++, D-Bus, systemd, gcrypt: 18 of the
 * 31 shared objects) were mapped and relocated by every command, the
 * quarantine of one host included.  Each function the tree uses is
 * defined here under its own name with its own prototype (from the
 * library's header, so the compiler checks it); the first call dlopen()s
 * the library and later calls go straight to it.  The executable does not
 * export these definitions, so the library's internal calls bind to itself.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <archive.h>
#include <archive_entry.h>
#include <pcap/pcap.h>

#include "irc.h"

struct lazy_lib {
	const char *soname;
	void *handle;
};

static struct lazy_lib lib_archive = { "libarchive.so.13", NULL };
static struct lazy_lib lib_pcap = { "libpcap.so.0.8", NULL };

/*
 * The address of @name in @lib.  A missing library is a broken install
 * (the package depends on it): say which and exit 1, as for any failure.
 */
static void *lazy_sym(struct lazy_lib *lib, const char *name)
{
	void *p;

	if (!lib->handle) {
		lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (!lib->handle) {
			irc_err("load %s: %s", lib->soname, dlerror());
			exit(IRC_EXIT_FAIL);
		}
	}
	p = dlsym(lib->handle, name);
	if (!p) {
		irc_err("load %s from %s: %s", name, lib->soname, dlerror());
		exit(IRC_EXIT_FAIL);
	}
	return p;
}

#define LAZY(lib, ret, name, params, args)				\
ret name params								\
{									\
	static __typeof__(&name) fn;					\
									\
	if (!fn)							\
		fn = (__typeof__(&name))lazy_sym(&lib, #name);		\
	return fn args;							\
}

#define A lib_archive
LAZY(A, __LA_MODE_T, archive_entry_filetype, (struct archive_entry *e), (e))
LAZY(A, void, archive_entry_free, (struct archive_entry *e), (e))
LAZY(A, struct archive_entry *, archive_entry_new, (void), ())
LAZY(A, const char *, archive_entry_pathname, (struct archive_entry *e), (e))
LAZY(A, void, archive_entry_set_filetype, (struct archive_entry *e, unsigned int t), (e, t))
LAZY(A, void, archive_entry_set_mtime, (struct archive_entry *e, time_t s, long ns), (e, s, ns))
LAZY(A, void, archive_entry_set_pathname, (struct archive_entry *e, const char *p), (e, p))
LAZY(A, void, archive_entry_set_perm, (struct archive_entry *e, __LA_MODE_T m), (e, m))
LAZY(A, void, archive_entry_set_size, (struct archive_entry *e, la_int64_t s), (e, s))
LAZY(A, la_int64_t, archive_entry_size, (struct archive_entry *e), (e))
LAZY(A, int, archive_entry_size_is_set, (struct archive_entry *e), (e))
LAZY(A, int, archive_errno, (struct archive *a), (a))
LAZY(A, const char *, archive_error_string, (struct archive *a), (a))
LAZY(A, int, archive_filter_code, (struct archive *a, int i), (a, i))
LAZY(A, int, archive_filter_count, (struct archive *a), (a))
LAZY(A, la_ssize_t, archive_read_data, (struct archive *a, void *b, size_t n), (a, b, n))
LAZY(A, int, archive_read_free, (struct archive *a), (a))
LAZY(A, struct archive *, archive_read_new, (void), ())
LAZY(A, int, archive_read_next_header, (struct archive *a, struct archive_entry **e), (a, e))
LAZY(A, int, archive_read_open_fd, (struct archive *a, int fd, size_t bs), (a, fd, bs))
LAZY(A, int, archive_read_support_filter_gzip, (struct archive *a), (a))
LAZY(A, int, archive_read_support_format_tar, (struct archive *a), (a))
LAZY(A, int, archive_write_add_filter_gzip, (struct archive *a), (a))
LAZY(A, int, archive_write_close, (struct archive *a), (a))
LAZY(A, la_ssize_t, archive_write_data, (struct archive *a, const void *b, size_t n), (a, b, n))
LAZY(A, int, archive_write_free, (struct archive *a), (a))
LAZY(A, int, archive_write_header, (struct archive *a, struct archive_entry *e), (a, e))
LAZY(A, struct archive *, archive_write_new, (void), ())
LAZY(A, int, archive_write_open_fd, (struct archive *a, int fd), (a, fd))
LAZY(A, int, archive_write_set_format_pax_restricted, (struct archive *a), (a))
#undef A

#define P lib_pcap
LAZY(P, pcap_t *, pcap_open_dead, (int lt, int snap), (lt, snap))
LAZY(P, void, pcap_close, (pcap_t *p), (p))
LAZY(P, pcap_dumper_t *, pcap_dump_fopen, (pcap_t *p, FILE *f), (p, f))
LAZY(P, FILE *, pcap_dump_file, (pcap_dumper_t *d), (d))
LAZY(P, int, pcap_dump_flush, (pcap_dumper_t *d), (d))
LAZY(P, void, pcap_dump_close, (pcap_dumper_t *d), (d))
LAZY(P, void, pcap_dump, (u_char *u, const struct pcap_pkthdr *h, const u_char *b), (u, h, b))
#undef P
