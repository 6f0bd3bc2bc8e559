// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Layouts checked, not trusted: every struct of include/ircontain/abi.h as
 * userspace's compiler lays it out (layout_user.o, gcc -gbtf) against the
 * same struct as the BPF objects describe it in their BTF: the two
 * programs' objects (embedded in their skeletons) and, for the records the
 * programs only write through ring-buffer pointers, layout.bpf.o.  Size,
 * and per member (recursively through anonymous unions and structs) name,
 * bit offset, bitfield width, size and, for arrays, element count.  And the
 * maps: each object declares exactly the maps of IRC_MAP_LIST.
 *
 * Needs no privilege: the objects are opened, never loaded.
 */
#include <linux/types.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "pins.h"
#include "irc_net.skel.h"
#include "irc_proc.skel.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct obj {
	const char *name;
	struct bpf_object *bo;	/* NULL for a BTF parsed from a file */
	struct btf *btf;
};

static struct btf *user_btf;
static struct obj objs[3];

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	if (!getenv("IRC_TEST_VERBOSE"))
		return 0;
	return vfprintf(stderr, f, ap);
}

/* A file built beside this test program (they are built together). */
static void beside_me(const char *file, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = '\0';
	snprintf(buf, len, "%s/%s", dirname(exe), file);
}

static struct bpf_object *open_mem(const void *bytes, size_t sz, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = name);

	return bpf_object__open_mem(bytes, sz, &o);
}

static int setup(void **state)
{
	char path[PATH_MAX];
	const void *bytes;
	size_t sz = 0;
	int i;

	(void)state;
	libbpf_set_print(quiet);
	beside_me("layout_user.o", path, sizeof(path));
	user_btf = btf__parse_elf(path, NULL);
	if (!user_btf) {
		fprintf(stderr, "parse BTF of %s: %s\n", path, strerror(errno));
		return -1;
	}
	bytes = irc_net_bpf__elf_bytes(&sz);
	objs[0] = (struct obj){ "irc_net.bpf.o", open_mem(bytes, sz, "irc_net") };
	bytes = irc_proc_bpf__elf_bytes(&sz);
	objs[1] = (struct obj){ "irc_proc.bpf.o", open_mem(bytes, sz, "irc_proc") };
	for (i = 0; i < 2; i++) {
		if (!objs[i].bo) {
			fprintf(stderr, "open %s: %s\n", objs[i].name, strerror(errno));
			return -1;
		}
		objs[i].btf = bpf_object__btf(objs[i].bo);
	}
	beside_me("layout.bpf.o", path, sizeof(path));
	objs[2] = (struct obj){ "layout.bpf.o", NULL, btf__parse_elf(path, NULL) };
	for (i = 0; i < 3; i++)
		if (!objs[i].btf) {
			fprintf(stderr, "%s: no BTF\n", objs[i].name);
			return -1;
		}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bpf_object__close(objs[0].bo);
	bpf_object__close(objs[1].bo);
	btf__free(objs[2].btf);
	btf__free(user_btf);
	return 0;
}

/* The type under typedefs and qualifiers. */
static const struct btf_type *bare(const struct btf *b, __u32 id, __u32 *out)
{
	int r = btf__resolve_type(b, id);

	*out = r < 0 ? id : (__u32)r;
	return btf__type_by_id(b, *out);
}

static int compare(const struct btf *ub, __u32 uid, const struct btf *kb, __u32 kid,
		   const char *where, const char *obj);

/* One member's type on both sides; the number of differences. */
static int compare_type(const struct btf *ub, __u32 uid, const struct btf *kb, __u32 kid,
			const char *where, const char *obj)
{
	const struct btf_type *ut, *kt;
	__u32 ur, kr;
	__s64 us = btf__resolve_size(ub, uid), ks = btf__resolve_size(kb, kid);
	int bad = 0;

	if (us != ks) {
		print_error("%s: size %lld in userspace, %lld in %s\n", where, (long long)us,
			    (long long)ks, obj);
		bad++;
	}
	ut = bare(ub, uid, &ur);
	kt = bare(kb, kid, &kr);
	if (btf_kind(ut) != btf_kind(kt)) {
		print_error("%s: kind %u in userspace, %u in %s\n", where, btf_kind(ut),
			    btf_kind(kt), obj);
		return bad + 1;
	}
	if (btf_is_array(ut)) {
		__u32 un = 1, kn = 1;
		char sub[256];

		/*
		 * Arrays of arrays compared flattened: GCC 12's BTF lists the
		 * dimensions of char a[8][64] the other way round from clang's.
		 * The total size is compared above.
		 */
		while (btf_is_array(ut)) {
			un *= btf_array(ut)->nelems;
			ut = bare(ub, btf_array(ut)->type, &ur);
		}
		while (btf_is_array(kt)) {
			kn *= btf_array(kt)->nelems;
			kt = bare(kb, btf_array(kt)->type, &kr);
		}
		if (un != kn) {
			print_error("%s: %u elements in userspace, %u in %s\n", where, un, kn, obj);
			bad++;
		}
		snprintf(sub, sizeof(sub), "%s[]", where);
		return bad + compare_type(ub, ur, kb, kr, sub, obj);
	}
	if ((btf_is_struct(ut) || btf_is_union(ut)) && !ut->name_off)
		return bad + compare(ub, ur, kb, kr, where, obj);
	if ((btf_is_struct(ut) || btf_is_union(ut)) &&
	    strcmp(btf__name_by_offset(ub, ut->name_off), btf__name_by_offset(kb, kt->name_off))) {
		print_error("%s: struct %s in userspace, %s in %s\n", where,
			    btf__name_by_offset(ub, ut->name_off),
			    btf__name_by_offset(kb, kt->name_off), obj);
		bad++;
	}
	return bad;
}

/* A struct or union, member by member; the number of differences. */
static int compare(const struct btf *ub, __u32 uid, const struct btf *kb, __u32 kid,
		   const char *where, const char *obj)
{
	const struct btf_type *ut = btf__type_by_id(ub, uid), *kt = btf__type_by_id(kb, kid);
	const struct btf_member *um = btf_members(ut), *km = btf_members(kt);
	int i, bad = 0;

	if (ut->size != kt->size) {
		print_error("%s: %u bytes in userspace, %u in %s\n", where, ut->size, kt->size, obj);
		bad++;
	}
	if (btf_vlen(ut) != btf_vlen(kt)) {
		print_error("%s: %u members in userspace, %u in %s\n", where, btf_vlen(ut),
			    btf_vlen(kt), obj);
		return bad + 1;
	}
	for (i = 0; i < btf_vlen(ut); i++) {
		const char *un = btf__name_by_offset(ub, um[i].name_off);
		const char *kn = btf__name_by_offset(kb, km[i].name_off);
		char sub[256];

		snprintf(sub, sizeof(sub), "%s.%s", where, *un ? un : "(anon)");
		if (strcmp(un, kn)) {
			print_error("%s: member %d is '%s' in userspace, '%s' in %s\n", where, i,
				    un, kn, obj);
			bad++;
			continue;
		}
		if (btf_member_bit_offset(ut, i) != btf_member_bit_offset(kt, i) ||
		    btf_member_bitfield_size(ut, i) != btf_member_bitfield_size(kt, i)) {
			print_error("%s: at bit %u (width %u) in userspace, %u (width %u) in %s\n",
				    sub, btf_member_bit_offset(ut, i),
				    btf_member_bitfield_size(ut, i), btf_member_bit_offset(kt, i),
				    btf_member_bitfield_size(kt, i), obj);
			bad++;
		}
		bad += compare_type(ub, um[i].type, kb, km[i].type, sub, obj);
	}
	return bad;
}

/* Every struct irc_* of abi.h, in every object that describes it. */
static void test_struct_layouts(void **state)
{
	int n = btf__type_cnt(user_btf), checked = 0, bad = 0;
	__u32 id;

	(void)state;
	for (id = 1; id < (__u32)n; id++) {
		const struct btf_type *t = btf__type_by_id(user_btf, id);
		const char *name = btf__name_by_offset(user_btf, t->name_off);
		int seen = 0;
		size_t i;

		if (!btf_is_struct(t) || strncmp(name, "irc_", 4))
			continue;
		for (i = 0; i < ARRAY_SIZE(objs); i++) {
			int kid = btf__find_by_name_kind(objs[i].btf, name, BTF_KIND_STRUCT);
			char where[64];

			if (kid < 0)
				continue;
			snprintf(where, sizeof(where), "struct %s", name);
			bad += compare(user_btf, id, objs[i].btf, kid, where, objs[i].name);
			seen++;
		}
		if (!seen) {
			print_error("struct %s: in abi.h, in no BPF object's BTF "
				    "(add it to tests/bpf/layout.bpf.c)\n", name);
			bad++;
		}
		checked++;
	}
	print_message("%d structs of abi.h compared with the BPF objects' BTF\n", checked);
	/* abi.h has 25 today: a userspace BTF with almost none is a broken build. */
	assert_true(checked >= 20);
	assert_int_equal(bad, 0);
}

/* Each program object declares exactly the maps of IRC_MAP_LIST. */
static void test_map_list(void **state)
{
	size_t i;
	int m, bad = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct bpf_map *map;
		int n = 0;

		bpf_object__for_each_map(map, objs[i].bo) {
			if (bpf_map__is_internal(map))
				continue;
			n++;
			for (m = 0; m < IRC_M__MAX; m++)
				if (!strcmp(bpf_map__name(map), irc_map_names[m]))
					break;
			if (m == IRC_M__MAX) {
				print_error("%s declares map %s, not in IRC_MAP_LIST\n",
					    objs[i].name, bpf_map__name(map));
				bad++;
			}
		}
		for (m = 0; m < IRC_M__MAX; m++)
			if (!bpf_object__find_map_by_name(objs[i].bo, irc_map_names[m])) {
				print_error("%s: no map %s\n", objs[i].name, irc_map_names[m]);
				bad++;
			}
		assert_int_equal(n, IRC_M__MAX);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_struct_layouts),
		cmocka_unit_test(test_map_list),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
