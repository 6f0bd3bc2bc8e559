// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the controller's process table (userspace/ptable.c).
 *
 * Covers put/get/exit, PID reuse, entity ids, eviction when the table is
 * full (exited first, then least recently touched), the linear-probing
 * invariant across backward-shift deletion, container ids in cgroup paths,
 * and seeding from a fake /proc tree built in a temporary directory.
 *
 * The table is white-box tested where that is the only way to see a
 * property: a process's home slot is measured by putting it alone into an
 * empty scratch table (so the test follows whatever hash ptable.c uses),
 * and the probing invariant is checked on t->slots directly.
 *
 * Table tests report every failing row before failing, as in test_parse.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ptable.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Slots in the table: ptable.h documents 2 * IRC_PT_MAX. */
#define SLOTS		(2 * IRC_PT_MAX)

/* Collects every mismatch of a table test. */

/* Two container ids: sha256("a") and sha256("b"). */
#define ID_A	"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define ID_B	"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
/* ID_A without its first digit: 63 hex digits. */
#define ID_A63	"a978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
_Static_assert(sizeof(ID_A) == 65 && sizeof(ID_B) == 65, "ids are 64 hex digits");
_Static_assert(sizeof(ID_A63) == 64, "63 hex digits");

/* ----------------------------------------------------------- helpers -- */

static struct irc_ptable *new_table(const char *boot_id)
{
	struct irc_ptable *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(irc_pt_init(t, boot_id), 0);
	assert_non_null(t->slots);
	assert_int_equal(t->count, 0);
	return t;
}

static void free_table(struct irc_ptable *t)
{
	if (!t)
		return;
	irc_pt_free(t);
	assert_null(t->slots);
	free(t);
}

static int setup_table(void **state)
{
	*state = new_table("6b1e1b4c-8f9e-4b57-9a3c-0d2f1e5a7c11");
	return 0;
}

static int teardown_table(void **state)
{
	free_table(*state);
	return 0;
}

/* Reference FNV-1a 64, written out again so the test does not trust it. */
static uint64_t ref_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static size_t slot_index(const struct irc_ptable *t, const struct irc_pt_entry *e)
{
	return (size_t)(e - t->slots);
}

/*
 * Home slot of @tgid: where it lands in an empty table.  The scratch table
 * is emptied again by hand (white box: there is no remove call).
 */
static size_t home_slot(struct irc_ptable *scratch, int tgid)
{
	struct irc_pt_entry *e;
	size_t idx;

	assert_int_equal(scratch->count, 0);
	e = irc_pt_put(scratch, tgid, 1);
	idx = slot_index(scratch, e);
	e->used = false;
	scratch->count = 0;
	return idx;
}

/* Home slots of tgids 1..HOMES_N (index by tgid), measured once. */
#define HOMES_N		(16 * SLOTS)
static uint32_t *homes;

static void measure_homes(void)
{
	struct irc_ptable *scratch;
	int tgid;

	if (homes)
		return;
	homes = calloc(HOMES_N + 1, sizeof(*homes));
	assert_non_null(homes);
	scratch = new_table("scratch");
	for (tgid = 1; tgid <= HOMES_N; tgid++)
		homes[tgid] = (uint32_t)home_slot(scratch, tgid);
	free_table(scratch);
}

/*
 * The linear-probing invariant: every used slot is reachable from its
 * home without crossing an empty slot.  Returns the number of violations.
 */
static int probe_violations(const struct irc_ptable *t)
{
	size_t i, used = 0;
	int bad = 0;

	for (i = 0; i < SLOTS; i++) {
		const struct irc_pt_entry *e = &t->slots[i];
		size_t j;

		if (!e->used)
			continue;
		used++;
		if (e->tgid < 1 || e->tgid > HOMES_N) {
			EXPECT(bad, 0, "slot %zu: tgid %d outside the measured range", i, e->tgid);
			continue;
		}
		for (j = homes[e->tgid]; j != i; j = (j + 1) % SLOTS)
			if (!t->slots[j].used) {
				EXPECT(bad, 0, "slot %zu (tgid %d, home %u): hole at %zu",
				       i, e->tgid, homes[e->tgid], j);
				break;
			}
	}
	EXPECT(bad, used == t->count, "%zu used slots but count %zu", used, t->count);
	return bad;
}

/* -------------------------------------------------- put / get / exit -- */

static void test_put_get_exit(void **state)
{
	struct irc_ptable *t = *state;
	struct irc_pt_entry *e, *g;
	char want[17];

	assert_null(irc_pt_get(t, 100));
	e = irc_pt_put(t, 100, 4242);
	assert_non_null(e);
	assert_true(e->used);
	assert_false(e->exited);
	assert_int_equal(e->tgid, 100);
	assert_int_equal(e->start_ticks, 4242);
	assert_int_equal(t->count, 1);
	assert_true(is_lower_hex(e->entity_id, 16));
	irc_entity_id(t->boot_key, 100, 4242, want);
	assert_string_equal(e->entity_id, want);

	g = irc_pt_get(t, 100);
	assert_ptr_equal(g, e);
	assert_null(irc_pt_get(t, 101));
	assert_null(irc_pt_get(t, 0));
	assert_null(irc_pt_get(t, -100));

	irc_pt_put(t, 101, 7);
	assert_int_equal(t->count, 2);
	assert_ptr_equal(irc_pt_get(t, 100), e);
	assert_int_equal(irc_pt_get(t, 101)->tgid, 101);

	irc_pt_exit(t, 100);
	assert_true(irc_pt_get(t, 100)->exited);
	assert_false(irc_pt_get(t, 101)->exited);
	/* An exited process stays until room is needed. */
	assert_int_equal(t->count, 2);
	/* Unknown tgids are ignored. */
	irc_pt_exit(t, 999);
	irc_pt_exit(t, 0);
	assert_int_equal(t->count, 2);
	assert_null(irc_pt_get(t, 999));

	/* An event for the same process again: it is alive after all. */
	e = irc_pt_put(t, 100, 4242);
	assert_false(e->exited);
	assert_string_equal(e->entity_id, want);
}

static void test_put_twice_keeps_identity(void **state)
{
	struct irc_ptable *t = *state;
	struct irc_pt_entry *e = irc_pt_put(t, 321, 1000), *again;
	char id[17];
	uint64_t touched;

	memcpy(id, e->entity_id, sizeof(id));
	e->ppid = 1;
	e->uid = 1000;
	snprintf(e->exe, sizeof(e->exe), "/usr/bin/vim");
	snprintf(e->cgroup, sizeof(e->cgroup), "/user.slice");
	memcpy(e->args, "vim\0x", 6);
	e->args_len = 6;
	touched = e->touched;

	again = irc_pt_put(t, 321, 1000);
	assert_ptr_equal(again, e);
	assert_int_equal(t->count, 1);
	assert_string_equal(again->entity_id, id);
	assert_string_equal(again->exe, "/usr/bin/vim");
	assert_string_equal(again->cgroup, "/user.slice");
	assert_int_equal(again->args_len, 6);
	assert_int_equal(again->ppid, 1);
	assert_int_equal(again->uid, 1000);
	assert_true(again->touched > touched);

	/* Start 0 means "unknown": the known start and identity stay. */
	again = irc_pt_put(t, 321, 0);
	assert_ptr_equal(again, e);
	assert_int_equal(again->start_ticks, 1000);
	assert_string_equal(again->entity_id, id);
	assert_string_equal(again->exe, "/usr/bin/vim");
}

static void test_pid_reuse(void **state)
{
	struct irc_ptable *t = *state;
	struct irc_pt_entry *e = irc_pt_put(t, 555, 100);
	char old_id[17], want[17];

	e->ppid = 1;
	e->uid = 33;
	e->cgroup_id = 77;
	snprintf(e->comm, sizeof(e->comm), "nginx");
	snprintf(e->exe, sizeof(e->exe), "/usr/sbin/nginx");
	snprintf(e->cgroup, sizeof(e->cgroup), "/system.slice/nginx.service");
	memcpy(e->args, "nginx\0", 6);
	e->args_len = 6;
	memcpy(old_id, e->entity_id, sizeof(old_id));
	irc_pt_exit(t, 555);

	/* Same tgid, later start: a new process with a recycled PID. */
	e = irc_pt_put(t, 555, 9000);
	assert_non_null(e);
	assert_int_equal(t->count, 1);
	assert_int_equal(e->tgid, 555);
	assert_int_equal(e->start_ticks, 9000);
	assert_true(e->used);
	assert_false(e->exited);
	assert_string_not_equal(e->entity_id, old_id);
	irc_entity_id(t->boot_key, 555, 9000, want);
	assert_string_equal(e->entity_id, want);
	/* Nothing of the old process may leak into the new one. */
	assert_int_equal(e->ppid, 0);
	assert_int_equal(e->uid, 0);
	assert_int_equal(e->cgroup_id, 0);
	assert_string_equal(e->comm, "");
	assert_string_equal(e->exe, "");
	assert_string_equal(e->cgroup, "");
	assert_int_equal(e->args_len, 0);
	assert_ptr_equal(irc_pt_get(t, 555), e);

	/* An earlier start is just as much a different process. */
	e = irc_pt_put(t, 555, 50);
	assert_int_equal(e->start_ticks, 50);
	irc_entity_id(t->boot_key, 555, 50, want);
	assert_string_equal(e->entity_id, want);
	assert_int_equal(t->count, 1);
}

/* -------------------------------------------------------- entity ids -- */

static void test_boot_key_vectors(void **state)
{
	/* FNV-1a 64 reference vectors (Fowler/Noll/Vo test suite). */
	static const struct { const char *in; uint64_t want; } rows[] = {
		{ "", 0xcbf29ce484222325ULL },
		{ "a", 0xaf63dc4c8601ec8cULL },
		{ "foobar", 0x85944171f73967e8ULL },
	};
	struct irc_ptable *t;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++)
		EXPECT(bad, irc_boot_key(rows[i].in) == rows[i].want,
		       "boot key of \"%s\": %016llx, want %016llx", rows[i].in,
		       (unsigned long long)irc_boot_key(rows[i].in),
		       (unsigned long long)rows[i].want);
	assert_int_equal(bad, 0);

	/* The table keys itself from the boot id; no boot id is "". */
	t = new_table("foobar");
	assert_true(t->boot_key == 0x85944171f73967e8ULL);
	free_table(t);
	t = new_table(NULL);
	assert_true(t->boot_key == 0xcbf29ce484222325ULL);
	free_table(t);
}

static void test_entity_id_table(void **state)
{
	static const struct {
		const char *boot;
		int tgid;
		uint64_t start;
	} rows[] = {
		{ "boot-1", 1, 1 },
		{ "boot-1", 1, 2 },
		{ "boot-1", 2, 1 },
		{ "boot-1", 4194304, 123456789 },
		{ "boot-1", 2147483647, UINT64_MAX },
		{ "boot-2", 1, 1 },
		{ "boot-2", 4194304, 123456789 },
		{ "", 1, 1 },
		{ "", 0, 0 },
	};
	char ids[ARRAY_LEN(rows)][17];
	size_t i, j;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		uint64_t key = irc_boot_key(rows[i].boot), h;
		char again[17], want[17];
		int tgid = rows[i].tgid;
		uint64_t start = rows[i].start;

		irc_entity_id(key, tgid, start, ids[i]);
		irc_entity_id(key, tgid, start, again);
		h = ref_fnv1a(key, &tgid, sizeof(tgid));
		h = ref_fnv1a(h, &start, sizeof(start));
		snprintf(want, sizeof(want), "%016llx", (unsigned long long)h);
		EXPECT(bad, is_lower_hex(ids[i], 16), "row %zu: \"%s\" is not 16 hex", i, ids[i]);
		EXPECT(bad, !strcmp(ids[i], again), "row %zu: not stable (%s, %s)", i, ids[i], again);
		EXPECT(bad, !strcmp(ids[i], want), "row %zu: %s, want FNV-1a %s", i, ids[i], want);
	}
	/* Every row differs from every other in boot, tgid or start. */
	for (i = 0; i < ARRAY_LEN(rows); i++)
		for (j = i + 1; j < ARRAY_LEN(rows); j++)
			EXPECT(bad, strcmp(ids[i], ids[j]), "rows %zu and %zu share id %s",
			       i, j, ids[i]);
	assert_int_equal(bad, 0);
}

static void test_entity_id_per_boot(void **state)
{
	struct irc_ptable *a = new_table("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	struct irc_ptable *b = new_table("1b4e28ba-2fa1-11d2-883f-0016d3cca428");
	struct irc_ptable *a2 = new_table("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	char ida[17];

	(void)state;
	memcpy(ida, irc_pt_put(a, 4000, 777)->entity_id, sizeof(ida));
	/* Same boot, same process: same id, in any table. */
	assert_string_equal(irc_pt_put(a2, 4000, 777)->entity_id, ida);
	/* Another boot: another id for the same tgid and start. */
	assert_string_not_equal(irc_pt_put(b, 4000, 777)->entity_id, ida);
	free_table(a);
	free_table(b);
	free_table(a2);
}

/* ----------------------------------------------------------- eviction -- */

/* Fills @t with tgids first..first+n-1 (start = tgid), checking the bound. */
static void fill(struct irc_ptable *t, int first, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct irc_pt_entry *e = irc_pt_put(t, first + i, (uint64_t)(first + i));

		assert_non_null(e);
		assert_int_equal(e->tgid, first + i);
		assert_true(t->count <= IRC_PT_MAX);
	}
}

static void test_evict_exited_first_then_lru(void **state)
{
	struct irc_ptable *t = *state;
	static const int exited[] = { 12000, 7, 500 };
	int tgid, bad = 0;
	size_t i;

	fill(t, 1, IRC_PT_MAX);
	assert_int_equal(t->count, IRC_PT_MAX);
	assert_int_equal(t->evictions, 0);

	/* Exited in another order than they were touched: touch order rules. */
	for (i = 0; i < ARRAY_LEN(exited); i++)
		irc_pt_exit(t, exited[i]);
	/* tgid 1 is touched again, so it is no longer the least recent. */
	irc_pt_put(t, 1, 1);

	irc_pt_put(t, 100001, 1);
	assert_int_equal(t->count, IRC_PT_MAX);
	assert_int_equal(t->evictions, 1);
	assert_null(irc_pt_get(t, 7));
	assert_non_null(irc_pt_get(t, 500));
	assert_non_null(irc_pt_get(t, 12000));
	assert_non_null(irc_pt_get(t, 2));

	irc_pt_put(t, 100002, 1);
	assert_null(irc_pt_get(t, 500));
	assert_non_null(irc_pt_get(t, 12000));
	irc_pt_put(t, 100003, 1);
	assert_null(irc_pt_get(t, 12000));
	assert_non_null(irc_pt_get(t, 2));
	assert_int_equal(t->evictions, 3);

	/* No exited process left: the least recently touched live ones go. */
	irc_pt_put(t, 100004, 1);
	assert_null(irc_pt_get(t, 2));
	assert_non_null(irc_pt_get(t, 1));
	irc_pt_put(t, 100005, 1);
	assert_null(irc_pt_get(t, 3));
	assert_non_null(irc_pt_get(t, 1));
	assert_int_equal(t->count, IRC_PT_MAX);
	assert_int_equal(t->evictions, 5);

	/* Everything that was not evicted is still found. */
	for (tgid = 1; tgid <= IRC_PT_MAX; tgid++) {
		bool gone = tgid == 2 || tgid == 3 || tgid == 7 || tgid == 500 ||
			    tgid == 12000;
		struct irc_pt_entry *e = irc_pt_get(t, tgid);

		EXPECT(bad, gone ? !e : (e && e->tgid == tgid),
		       "tgid %d: %s", tgid, gone ? "still there" : "lost");
	}
	for (tgid = 100001; tgid <= 100005; tgid++)
		EXPECT(bad, irc_pt_get(t, tgid), "new tgid %d lost", tgid);
	assert_int_equal(bad, 0);
}

static void test_count_never_exceeds_max(void **state)
{
	struct irc_ptable *t = *state;
	const int extra = 1500;
	int tgid, bad = 0;

	fill(t, 1, IRC_PT_MAX + extra);
	assert_int_equal(t->count, IRC_PT_MAX);
	assert_int_equal(t->evictions, extra);
	/* Nothing exited: the oldest ones went, in order. */
	for (tgid = 1; tgid <= IRC_PT_MAX + extra; tgid++) {
		struct irc_pt_entry *e = irc_pt_get(t, tgid);

		if (tgid <= extra)
			EXPECT(bad, !e, "tgid %d should have been evicted", tgid);
		else
			EXPECT(bad, e && e->tgid == tgid && e->start_ticks == (uint64_t)tgid,
			       "tgid %d lost", tgid);
	}
	assert_int_equal(bad, 0);
}

/*
 * Colliding tgids around the end of the slot array, so probe runs wrap to
 * slot 0, then evictions from the middle of the runs: backward-shift
 * deletion must leave every remaining entry reachable.
 */
static void test_collisions_backward_shift(void **state)
{
	struct irc_ptable *t = *state;
	/* Homes: a run at SLOTS-3 and neighbours whose runs merge into it. */
	const size_t want_home[] = { SLOTS - 3, SLOTS - 1, 0, 2 };
	enum { PER_HOME = 10 };
	int cluster[ARRAY_LEN(want_home)][PER_HOME], fresh[24];
	int order[ARRAY_LEN(want_home) * PER_HOME];
	bool *chosen, *present;
	size_t h, k, n_order = 0, n_fresh = 0, wrapped = 0;
	int tgid, bad = 0;

	measure_homes();
	chosen = calloc(HOMES_N + 1, sizeof(*chosen));
	present = calloc(HOMES_N + 1, sizeof(*present));
	assert_non_null(chosen);
	assert_non_null(present);

	/* Brute force: the first PER_HOME tgids with each home, then extras. */
	for (h = 0; h < ARRAY_LEN(want_home); h++) {
		k = 0;
		for (tgid = 1; tgid <= HOMES_N && k < PER_HOME; tgid++)
			if (homes[tgid] == want_home[h]) {
				cluster[h][k++] = tgid;
				chosen[tgid] = true;
			}
		assert_int_equal(k, PER_HOME);
	}
	for (tgid = HOMES_N; tgid >= 1 && n_fresh < ARRAY_LEN(fresh); tgid--)
		if (!chosen[tgid] && (homes[tgid] == SLOTS - 3 || homes[tgid] == SLOTS - 2 ||
				      homes[tgid] == 0 || homes[tgid] == 1)) {
			fresh[n_fresh++] = tgid;
			chosen[tgid] = true;
		}
	assert_int_equal(n_fresh, ARRAY_LEN(fresh));

	/* Interleaved, so the displaced entries of each home mix. */
	for (k = 0; k < PER_HOME; k++)
		for (h = 0; h < ARRAY_LEN(want_home); h++) {
			order[n_order++] = cluster[h][k];
			irc_pt_put(t, cluster[h][k], 1);
			present[cluster[h][k]] = true;
		}
	for (k = 0; k < PER_HOME; k++) {
		size_t idx = slot_index(t, irc_pt_get(t, cluster[0][k]));

		if (idx < SLOTS - 3)
			wrapped++;
	}
	assert_true(wrapped > 0);	/* the run did wrap past the end */
	assert_int_equal(probe_violations(t), 0);

	/* Fill up with other tgids, all younger than the cluster. */
	for (tgid = 1; t->count < IRC_PT_MAX; tgid++)
		if (!chosen[tgid]) {
			irc_pt_put(t, tgid, 1);
			present[tgid] = true;
		}
	assert_int_equal(probe_violations(t), 0);

	/* Some cluster members exit: they are evicted first, oldest first. */
	irc_pt_exit(t, cluster[0][6]);
	irc_pt_exit(t, cluster[2][1]);
	irc_pt_exit(t, cluster[0][2]);
	irc_pt_exit(t, cluster[1][8]);
	{
		const int want_gone[] = { cluster[2][1], cluster[0][2], cluster[0][6],
					  cluster[1][8] };

		for (k = 0; k < ARRAY_LEN(want_gone); k++) {
			irc_pt_put(t, fresh[k], 2);
			present[fresh[k]] = true;
			present[want_gone[k]] = false;
			EXPECT(bad, !irc_pt_get(t, want_gone[k]),
			       "eviction %zu: tgid %d (exited) still there", k, want_gone[k]);
		}
	}
	/* Then the least recently touched: the rest of the cluster, in order. */
	for (k = 0; n_fresh > 4 + k && k < 16; k++) {
		size_t n;
		int victim = 0;

		for (n = 0; n < n_order; n++)
			if (present[order[n]]) {
				victim = order[n];
				break;
			}
		irc_pt_put(t, fresh[4 + k], 3);
		present[fresh[4 + k]] = true;
		present[victim] = false;
		EXPECT(bad, !irc_pt_get(t, victim), "LRU eviction %zu: tgid %d still there",
		       k, victim);
		bad += probe_violations(t);
		assert_int_equal(t->count, IRC_PT_MAX);
	}
	assert_int_equal(bad, 0);

	/* Every remaining entry is found, every evicted one is not. */
	for (tgid = 1; tgid <= HOMES_N; tgid++) {
		struct irc_pt_entry *e = irc_pt_get(t, tgid);

		if (present[tgid])
			EXPECT(bad, e && e->tgid == tgid, "tgid %d (home %u) lost",
			       tgid, homes[tgid]);
		else
			EXPECT(bad, !e, "tgid %d found but never kept", tgid);
	}
	assert_int_equal(bad, 0);
	assert_int_equal(t->count, IRC_PT_MAX);
	assert_int_equal(t->evictions, 4 + 16);
	free(chosen);
	free(present);
}

/*
 * A long deterministic mix of put, exit and PID reuse on a full table,
 * against a model of what should be in it and which entry goes next.
 */
struct model_proc {
	uint64_t start;
	uint64_t touched;
	bool present, exited;
	int pos;			/* in the present list */
};

static uint32_t lcg_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static int model_check(struct irc_ptable *t, const struct model_proc *m, int pool)
{
	int tgid, bad = 0;

	for (tgid = 1; tgid <= pool; tgid++) {
		struct irc_pt_entry *e = irc_pt_get(t, tgid);
		char want[17];

		if (!m[tgid].present) {
			EXPECT(bad, !e, "model: tgid %d should be absent", tgid);
			continue;
		}
		if (!e) {
			EXPECT(bad, 0, "model: tgid %d lost", tgid);
			continue;
		}
		irc_entity_id(t->boot_key, tgid, m[tgid].start, want);
		EXPECT(bad, e->tgid == tgid && e->start_ticks == m[tgid].start &&
			    e->exited == m[tgid].exited && !strcmp(e->entity_id, want),
		       "model: tgid %d: start %llu/%llu exited %d/%d", tgid,
		       (unsigned long long)e->start_ticks,
		       (unsigned long long)m[tgid].start, e->exited, m[tgid].exited);
	}
	return bad;
}

static void test_model_random_ops(void **state)
{
	struct irc_ptable *t = *state;
	const int pool = 4 * SLOTS;
	struct model_proc *m = calloc(pool + 1, sizeof(*m));
	int *list = calloc(IRC_PT_MAX + 1, sizeof(*list));
	uint64_t seed = 0x1c0e, clock = 0, evictions = 0;
	int n = 0, op, full_ops = 0, bad = 0;

	assert_non_null(m);
	assert_non_null(list);
	/* Random puts until the table is full, then 4000 more operations. */
	for (op = 0; full_ops < 4000; op++) {
		uint32_t r = lcg_next(&seed) % 100;
		int tgid = 1 + (int)(lcg_next(&seed) % (uint32_t)pool);

		if (r < 20 && n) {
			/* A present process exits. */
			tgid = list[lcg_next(&seed) % (uint32_t)n];
			irc_pt_exit(t, tgid);
			m[tgid].exited = true;
		} else if (r < 30) {
			irc_pt_exit(t, tgid);	/* maybe unknown */
			if (m[tgid].present)
				m[tgid].exited = true;
		} else {
			uint64_t start = 1 + lcg_next(&seed) % 1000;

			/* Mostly the same process again, sometimes a reuse or "0". */
			if (m[tgid].present && r < 80)
				start = r < 70 ? m[tgid].start : 0;
			if (!m[tgid].present) {
				if (n >= IRC_PT_MAX) {
					int i, victim = -1;
					uint64_t best = UINT64_MAX;

					for (i = 0; i < n; i++) {
						const struct model_proc *v = &m[list[i]];
						uint64_t age = (v->exited ? 0 : 1ULL << 63) | v->touched;

						if (age < best) {
							best = age;
							victim = i;
						}
					}
					m[list[victim]].present = false;
					list[victim] = list[--n];
					m[list[victim]].pos = victim;
					evictions++;
				}
				m[tgid].present = true;
				m[tgid].pos = n;
				list[n++] = tgid;
				m[tgid].start = start;
			} else if (start) {
				m[tgid].start = start;
			}
			m[tgid].exited = false;
			m[tgid].touched = ++clock;
			assert_int_equal(irc_pt_put(t, tgid, start)->tgid, tgid);
		}
		assert_int_equal(t->count, (size_t)n);
		assert_true(t->count <= IRC_PT_MAX);
		if (n >= IRC_PT_MAX)
			full_ops++;
		if (op % 1000 == 999)
			bad += model_check(t, m, pool);
		if (bad)
			break;
	}
	bad += model_check(t, m, pool);
	assert_int_equal(bad, 0);
	assert_int_equal(t->evictions, evictions);
	assert_true(evictions > 500);
	free(m);
	free(list);
}

/* ------------------------------------------------------ container ids -- */

static void test_container_id_table(void **state)
{
	static const struct {
		const char *path;
		int ret;
		const char *id;
	} rows[] = {
		{ "/system.slice/docker-" ID_A ".scope", 0, ID_A },
		{ "0::/system.slice/docker-" ID_A ".scope\n", 0, ID_A },
		{ "/docker/" ID_A, 0, ID_A },
		{ "/docker/" ID_A "/", 0, ID_A },
		{ "/system.slice/containerd.service/cri-containerd-" ID_A ".scope", 0, ID_A },
		{ "/kubepods.slice/kubepods-burstable.slice/"
		  "kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/"
		  "crio-" ID_A ".scope", 0, ID_A },
		{ "/machine.slice/libpod-" ID_A ".scope", 0, ID_A },
		{ "/machine.slice/libpod-" ID_A ".scope/container", 0, ID_A },
		{ "/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/" ID_A, 0, ID_A },
		{ "/kubepods.slice/kubepods-pod0123456789abcdef0123456789abcdef.slice/"
		  "cri-containerd-" ID_A ".scope", 0, ID_A },
		{ ID_A, 0, ID_A },
		/* Digits are hex digits too. */
		{ "/docker/" "0123456789012345678901234567890123456789012345678901234567890123",
		  0, "0123456789012345678901234567890123456789012345678901234567890123" },
		/* Two ids (a container in a container): the last one wins. */
		{ "/docker/" ID_A "/docker/" ID_B, 0, ID_B },
		{ "/system.slice/docker-" ID_B ".scope/kubepods/" ID_A, 0, ID_A },
		{ "/docker/" ID_A "-" ID_B ".scope", 0, ID_B },
		/* A 64-hex run must be exactly 64 long. */
		{ "/docker/" "a" ID_A, -ENOENT, NULL },			/* 65 */
		{ "/docker/" ID_A "0", -ENOENT, NULL },			/* 65 */
		{ "/docker/" ID_A63, -ENOENT, NULL },			/* 63 */
		{ "/system.slice/docker-" ID_A63 ".scope", -ENOENT, NULL },	/* 63 */
		{ "/docker/" ID_A63 "/x", -ENOENT, NULL },		/* 63 */
		{ "/docker/" ID_A ID_B, -ENOENT, NULL },		/* 128 */
		/* ...and lowercase: the runtimes never write uppercase. */
		{ "/docker/CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB",
		  -ENOENT, NULL },
		{ "/docker/ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bB",
		  -ENOENT, NULL },
		/* Not hex at all. */
		{ "/docker/ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bg",
		  -ENOENT, NULL },
		{ "/user.slice/user-1000.slice/session-2.scope", -ENOENT, NULL },
		{ "/", -ENOENT, NULL },
		{ "", -ENOENT, NULL },
		{ NULL, -ENOENT, NULL },
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		char out[65 + 8];
		int r;

		memset(out, 'Z', sizeof(out));
		r = irc_container_id(rows[i].path, out);
		EXPECT(bad, r == rows[i].ret, "row %zu (%.40s...): returned %d, want %d",
		       i, rows[i].path ? rows[i].path : "NULL", r, rows[i].ret);
		if (r == 0 && rows[i].id) {
			EXPECT(bad, !strcmp(out, rows[i].id), "row %zu: id %s, want %s",
			       i, out, rows[i].id);
			EXPECT(bad, out[65] == 'Z', "row %zu: wrote past 65 bytes", i);
		}
	}
	assert_int_equal(bad, 0);
}

/* --------------------------------------------------------- fake /proc -- */

static char proc_root[64];

static void put_str(const char *rel, const char *s)
{
	tu_put_file(proc_root, rel, s, strlen(s));
}

/* A /proc/PID/stat line: ppid field 4, start time field 22. */
static void put_stat(int pid, const char *comm, int ppid, unsigned long long start)
{
	char rel[64], buf[512];

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(buf, sizeof(buf),
		 "%d (%s) S %d %d %d 0 -1 4194560 1234 0 5 0 17 9 0 0 20 0 1 0 %llu "
		 "12345678 321 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0\n",
		 pid, comm, ppid, pid, pid, start);
	put_str(rel, buf);
}

static void put_status(int pid, unsigned int uid)
{
	char rel[64], buf[512];

	snprintf(rel, sizeof(rel), "%d/status", pid);
	snprintf(buf, sizeof(buf),
		 "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\n"
		 "Pid:\t%d\nPPid:\t1\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\n"
		 "Gid:\t%u\t%u\t%u\t%u\n",
		 pid, pid, uid, uid + 1, uid + 2, uid + 3, uid, uid, uid, uid);
	put_str(rel, buf);
}

static const char weird_cmdline[] = "/opt/weird/bin/weird\0--flag\0two words\0";
static char long_target[400];
static char long_cgroup[400];

static int make_fake_proc(void **state)
{
	static const char rel_long[] = "4321/cgroup";
	char big_cmdline[1000];
	size_t i;

	(void)state;
	snprintf(proc_root, sizeof(proc_root), "%s", "/tmp/irc-ptable-XXXXXX");
	if (!mkdtemp(proc_root))
		return -1;

	/* 1234: the interesting one. */
	tu_put_dir(proc_root, "1234");
	put_stat(1234, "my (weird) proc", 1, 98765);
	put_status(1234, 1001);
	tu_put_file(proc_root, "1234/cmdline", weird_cmdline, sizeof(weird_cmdline) - 1);
	put_str("1234/cgroup", "0::/system.slice/docker-" ID_A ".scope\n");
	tu_put_link(proc_root, "1234/exe", "/opt/weird/bin/weird");

	/* 1: init, with a hybrid cgroup file. */
	tu_put_dir(proc_root, "1");
	put_stat(1, "systemd", 0, 2);
	put_status(1, 0);
	tu_put_file(proc_root, "1/cmdline", "/sbin/init\0splash\0", 18);
	put_str("1/cgroup", "12:pids:/init.scope\n1:name=systemd:/init.scope\n0::/init.scope\n");
	tu_put_link(proc_root, "1/exe", "/usr/lib/systemd/systemd");

	/* 2: a kernel thread: empty cmdline, no exe. */
	tu_put_dir(proc_root, "2");
	put_stat(2, "kthreadd", 0, 3);
	put_status(2, 0);
	tu_put_file(proc_root, "2/cmdline", "", 0);
	put_str("2/cgroup", "0::/\n");

	/* 4321: ") S 9 (" in its comm; over-long cmdline, exe and cgroup. */
	tu_put_dir(proc_root, "4321");
	put_stat(4321, "a) S 9 (b", 1234, 5555);
	put_status(4321, 65534);
	for (i = 0; i < sizeof(big_cmdline); i++)
		big_cmdline[i] = i % 10 == 9 ? '\0' : (char)('a' + i % 26);
	tu_put_file(proc_root, "4321/cmdline", big_cmdline, sizeof(big_cmdline));
	memset(long_target, 0, sizeof(long_target));
	long_target[0] = '/';
	memset(long_target + 1, 'x', 299);
	tu_put_link(proc_root, "4321/exe", long_target);
	memset(long_cgroup, 0, sizeof(long_cgroup));
	memcpy(long_cgroup, "0::/", 4);
	memset(long_cgroup + 4, 'c', 250);
	long_cgroup[254] = '\n';
	put_str(rel_long, long_cgroup);

	/* 777: only a stat. */
	tu_put_dir(proc_root, "777");
	put_stat(777, "bare", 1, 4444);

	/* Not processes, or not readable as one. */
	tu_put_dir(proc_root, "555");
	put_str("555/stat", "555 no closing paren S 1 2 3\n");
	tu_put_dir(proc_root, "556");				/* no stat at all */
	tu_put_dir(proc_root, "557");
	put_str("557/stat", "557 (short) S 1 2 3\n");	/* too few fields */
	tu_put_dir(proc_root, "0");
	put_stat(0, "zero", 0, 1);
	tu_put_dir(proc_root, "sys");
	put_str("cpuinfo", "processor\t: 0\n");
	tu_put_link(proc_root, "self", "1234");
	tu_put_dir(proc_root, "12ab");
	return 0;
}

static int remove_fake_proc(void **state)
{
	(void)state;
	if (!proc_root[0])
		return 0;
	if (tu_rm_tree(proc_root))
		return -1;
	free(homes);
	homes = NULL;
	return 0;
}

static void test_seed(void **state)
{
	struct irc_ptable *t = *state;
	struct irc_pt_entry *e;
	char want[17];
	size_t i;

	assert_int_equal(irc_pt_seed(t, proc_root), 5);
	assert_int_equal(t->count, 5);
	assert_null(irc_pt_get(t, 555));
	assert_null(irc_pt_get(t, 556));
	assert_null(irc_pt_get(t, 557));
	assert_null(irc_pt_get(t, 0));

	e = irc_pt_get(t, 1234);
	assert_non_null(e);
	assert_string_equal(e->comm, "my (weird) proc");
	assert_int_equal(e->ppid, 1);
	assert_int_equal(e->start_ticks, 98765);
	assert_int_equal(e->uid, 1001);		/* the real uid */
	assert_false(e->exited);
	assert_string_equal(e->exe, "/opt/weird/bin/weird");
	assert_int_equal(e->args_len, sizeof(weird_cmdline) - 1);
	assert_memory_equal(e->args, weird_cmdline, sizeof(weird_cmdline) - 1);
	assert_string_equal(e->cgroup, "/system.slice/docker-" ID_A ".scope");
	irc_entity_id(t->boot_key, 1234, 98765, want);
	assert_string_equal(e->entity_id, want);

	e = irc_pt_get(t, 1);
	assert_non_null(e);
	assert_string_equal(e->comm, "systemd");
	assert_int_equal(e->ppid, 0);
	assert_int_equal(e->start_ticks, 2);
	assert_int_equal(e->uid, 0);
	assert_string_equal(e->exe, "/usr/lib/systemd/systemd");
	assert_int_equal(e->args_len, 18);
	assert_memory_equal(e->args, "/sbin/init\0splash\0", 18);
	assert_string_equal(e->cgroup, "/init.scope");	/* the v2 line */

	e = irc_pt_get(t, 2);
	assert_non_null(e);
	assert_string_equal(e->comm, "kthreadd");
	assert_string_equal(e->exe, "");
	assert_int_equal(e->args_len, 0);
	assert_string_equal(e->cgroup, "/");

	/* The comm is everything up to the last ')'. */
	e = irc_pt_get(t, 4321);
	assert_non_null(e);
	assert_string_equal(e->comm, "a) S 9 (b");
	assert_int_equal(e->ppid, 1234);
	assert_int_equal(e->start_ticks, 5555);
	assert_int_equal(e->uid, 65534);
	/* Over-long values are cut to the field, NUL-terminated. */
	assert_int_equal(strlen(e->exe), IRC_PT_EXE_LEN - 1);
	assert_memory_equal(e->exe, long_target, IRC_PT_EXE_LEN - 1);
	assert_int_equal(e->args_len, IRC_PT_ARGS_LEN);
	for (i = 0; i < IRC_PT_ARGS_LEN; i++)
		if (e->args[i] != (i % 10 == 9 ? '\0' : (char)('a' + i % 26)))
			fail_msg("args byte %zu is %d", i, e->args[i]);
	assert_int_equal(strlen(e->cgroup), IRC_PT_CGROUP_LEN - 1);
	assert_memory_equal(e->cgroup, long_cgroup + 3, IRC_PT_CGROUP_LEN - 1);

	e = irc_pt_get(t, 777);
	assert_non_null(e);
	assert_string_equal(e->comm, "bare");
	assert_int_equal(e->ppid, 1);
	assert_int_equal(e->uid, 0);
	assert_string_equal(e->exe, "");
	assert_int_equal(e->args_len, 0);
	assert_string_equal(e->cgroup, "");

	/* Seeding again finds the same processes: same entries, no growth. */
	assert_int_equal(irc_pt_seed(t, proc_root), 5);
	assert_int_equal(t->count, 5);
	assert_string_equal(irc_pt_get(t, 1234)->entity_id, want);
}

static void test_seed_missing_root(void **state)
{
	struct irc_ptable *t = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/no-such-dir", proc_root);
	assert_int_equal(irc_pt_seed(t, path), -ENOENT);
	assert_int_equal(t->count, 0);
}

/* Seeding stops once the table is full. */
static void test_seed_stops_when_full(void **state)
{
	struct irc_ptable *t = *state;

	fill(t, 100000, IRC_PT_MAX - 2);
	assert_int_equal(irc_pt_seed(t, proc_root), 2);
	assert_int_equal(t->count, IRC_PT_MAX);
	assert_int_equal(t->evictions, 0);
}

static void test_read_proc(void **state)
{
	struct irc_pt_entry e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.tgid = 1234;
	irc_pt_read_proc(&e, proc_root);
	assert_string_equal(e.exe, "/opt/weird/bin/weird");
	assert_int_equal(e.args_len, sizeof(weird_cmdline) - 1);
	assert_memory_equal(e.args, weird_cmdline, sizeof(weird_cmdline) - 1);
	assert_string_equal(e.cgroup, "/system.slice/docker-" ID_A ".scope");

	/* A process that is gone: no exe, and no crash. */
	memset(&e, 0, sizeof(e));
	e.tgid = 999999;
	snprintf(e.exe, sizeof(e.exe), "/stale");
	irc_pt_read_proc(&e, proc_root);
	assert_string_equal(e.exe, "");
	assert_int_equal(e.args_len, 0);
	assert_string_equal(e.cgroup, "");

	/* A root that does not exist at all. */
	memset(&e, 0, sizeof(e));
	e.tgid = 1;
	irc_pt_read_proc(&e, "/nonexistent-irc-proc-root");
	assert_string_equal(e.exe, "");
	assert_int_equal(e.args_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_exit, setup_table, teardown_table),
		cmocka_unit_test_setup_teardown(test_put_twice_keeps_identity, setup_table,
						teardown_table),
		cmocka_unit_test_setup_teardown(test_pid_reuse, setup_table, teardown_table),
		cmocka_unit_test(test_boot_key_vectors),
		cmocka_unit_test(test_entity_id_table),
		cmocka_unit_test(test_entity_id_per_boot),
		cmocka_unit_test_setup_teardown(test_evict_exited_first_then_lru, setup_table,
						teardown_table),
		cmocka_unit_test_setup_teardown(test_count_never_exceeds_max, setup_table,
						teardown_table),
		cmocka_unit_test_setup_teardown(test_collisions_backward_shift, setup_table,
						teardown_table),
		cmocka_unit_test_setup_teardown(test_model_random_ops, setup_table,
						teardown_table),
		cmocka_unit_test(test_container_id_table),
		cmocka_unit_test_setup_teardown(test_seed, setup_table, teardown_table),
		cmocka_unit_test_setup_teardown(test_seed_missing_root, setup_table,
						teardown_table),
		cmocka_unit_test_setup_teardown(test_seed_stops_when_full, setup_table,
						teardown_table),
		cmocka_unit_test(test_read_proc),
	};

	return cmocka_run_group_tests(tests, make_fake_proc, remove_fake_proc);
}
