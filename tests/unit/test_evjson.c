// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for event records to ECS JSON (userspace/evjson.c).
 *
 * Records are built in memory with known fields and converted with an
 * evctx whose clocks are fixed and whose proc_root is a fake /proc tree in
 * a temporary directory, so every field of the output is predictable.
 * Malformed records are allocated with exactly their claimed length, so
 * the sanitizer build catches any read past them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>

#include "ircontain/abi.h"
#include "evjson.h"
#include "ptable.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Collects every mismatch of a table test. */

/* CLOCK_REALTIME at boot: 2023-11-14T22:13:20Z. */
#define BOOT_REAL_NS	1700000000000000000LL
#define TICK_NS		10000000ULL	/* 100 Hz */
#define HOSTNAME	"ir-test-host"
#define HOST_ID		"0f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* sha256("a"): a container id. */
#define ID_A	"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"

/* Processes of the fake /proc. */
#define DOCKER_PID	1234
#define PODMAN_PID	2345
#define CHURN_PID	3456	/* its /proc names the parent of its record's cgroup */
#define LONG_PID	4567	/* in a cgroup whose path does not fit */

/* The fake cgroup2 tree's directories (ids are their inode numbers). */
#define CG_DOCKER	"/system.slice/docker-" ID_A ".scope"
#define CG_PODMAN	"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" \
			ID_A ".scope/container"
#define CG_NONE		0xfffffffffffffff0ULL	/* no directory's inode */

/* ----------------------------------------------------------- fixture -- */

struct fix {
	struct irc_ptable pt;
	struct irc_evctx c;
};

static char proc_root[64];
static char cg_root[64];

/* What a table test is checking, for the failure report. */
static char where[128];

static int setup_ctx(void **state)
{
	where[0] = '\0';
	struct fix *f = calloc(1, sizeof(*f));

	if (!f || irc_pt_init(&f->pt, "3f2c8a4e-1b7d-4e2a-9c55-7d1e0b6a9f31"))
		return -1;
	irc_evctx_init(&f->c, &f->pt);
	f->c.boot_to_real_ns = BOOT_REAL_NS;
	f->c.tick_ns = TICK_NS;
	f->c.proc_root = proc_root;
	/* Cgroup ids are not resolved against this host's tree: /proc decides. */
	f->c.cgroup_mount[0] = '\0';
	snprintf(f->c.hostname, sizeof(f->c.hostname), HOSTNAME);
	snprintf(f->c.host_id, sizeof(f->c.host_id), HOST_ID);
	*state = f;
	return 0;
}

static int teardown_ctx(void **state)
{
	struct fix *f = *state;

	irc_pt_free(&f->pt);
	free(f);
	return 0;
}

static int make_fake_proc(void **state)
{
	static const char stat_docker[] =
		"1234 (my (weird) proc) S 1 1234 1234 0 -1 4194560 10 0 0 0 1 1 0 0 "
		"20 0 1 0 500 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0\n";
	static const char stat_churn[] =
		"3456 (sh) S 1 3456 3456 0 -1 4194560 10 0 0 0 1 1 0 0 20 0 1 0 250 1000 10\n";
	static const char cg_docker[] = "0::" CG_DOCKER "\n";
	static const char cg_podman[] = "0::" CG_PODMAN "\n";
	static const char *const cg_dirs[] = {
		"system.slice", "system.slice/docker-" ID_A ".scope", "user.slice",
		"user.slice/user-1000.slice", "user.slice/user-1000.slice/user@1000.service",
		"user.slice/user-1000.slice/user@1000.service/user.slice",
		"user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_A ".scope",
		CG_PODMAN + 1, "old.slice", "churn",
	};
	size_t i;

	(void)state;
	snprintf(proc_root, sizeof(proc_root), "%s", "/tmp/irc-evjson-XXXXXX");
	if (!mkdtemp(proc_root))
		return -1;
	tu_put_dir(proc_root, "1234");
	tu_put_file(proc_root, "1234/stat", stat_docker, sizeof(stat_docker) - 1);
	tu_put_file(proc_root, "1234/status", "Name:\tx\nUid:\t0\t0\t0\t0\n", 22);
	tu_put_file(proc_root, "1234/cmdline", "/proc/exe/not/this\0", 19);
	tu_put_file(proc_root, "1234/cgroup", cg_docker, sizeof(cg_docker) - 1);
	tu_put_link(proc_root, "1234/exe", "/proc/exe/link/not/this");
	tu_put_dir(proc_root, "2345");
	tu_put_file(proc_root, "2345/cgroup", cg_podman, sizeof(cg_podman) - 1);
	tu_put_dir(proc_root, "3456");
	tu_put_file(proc_root, "3456/cgroup", "0::/churn\n", 10);
	/* Started at 250 ticks, as the records say: a seed finds its entry. */
	tu_put_file(proc_root, "3456/stat", stat_churn, sizeof(stat_churn) - 1);
	tu_put_dir(proc_root, "4567");

	snprintf(cg_root, sizeof(cg_root), "%s", "/tmp/irc-evjson-cg-XXXXXX");
	if (!mkdtemp(cg_root))
		return -1;
	for (i = 0; i < ARRAY_LEN(cg_dirs); i++)
		tu_put_dir(cg_root, cg_dirs[i]);
	return 0;
}

/* cgroup ids are resolved against the fake tree (not this host's). */
static void use_cgroup_tree(struct fix *f)
{
	snprintf(f->c.cgroup_mount, sizeof(f->c.cgroup_mount), "%s", cg_root);
}

/* The id of the fake cgroup @rel ("/a/b"). */
static uint64_t cg_id(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", cg_root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static int remove_fake_proc(void **state)
{
	(void)state;
	if (cg_root[0] && tu_rm_tree(cg_root))
		return -1;
	if (!proc_root[0])
		return 0;
	return tu_rm_tree(proc_root) ? -1 : 0;
}

/* -------------------------------------------------------- json checks -- */

/* The value at a dotted path ("process.parent.pid"), or NULL. */
static json_t *jpath(json_t *o, const char *path)
{
	char key[64];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");

		assert_true(n < sizeof(key));
		memcpy(key, p, n);
		key[n] = '\0';
		o = json_is_object(o) ? json_object_get(o, key) : NULL;
		p += n + (p[n] == '.');
	}
	return o;
}

static void at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void at(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
}

static void dump(json_t *o)
{
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(1));

	if (where[0])
		print_error("while checking: %s\n", where);
	print_error("document: %s\n", s ? s : "(none)");
	free(s);
}

static void expect_str(json_t *o, const char *path, const char *want)
{
	json_t *v = jpath(o, path);

	if (json_is_string(v) && !strcmp(json_string_value(v), want))
		return;
	dump(o);
	fail_msg("%s: %s, want \"%s\"", path,
		 !v ? "absent" : json_is_string(v) ? json_string_value(v) : "not a string",
		 want);
}

static void expect_int(json_t *o, const char *path, long long want)
{
	json_t *v = jpath(o, path);

	if (json_is_integer(v) && json_integer_value(v) == want)
		return;
	dump(o);
	fail_msg("%s: %s%lld, want %lld", path, !v ? "absent " :
		 json_is_integer(v) ? "" : "not an integer ",
		 json_is_integer(v) ? (long long)json_integer_value(v) : 0LL, want);
}

static void expect_absent(json_t *o, const char *path)
{
	if (!jpath(o, path))
		return;
	dump(o);
	fail_msg("%s: present, want absent", path);
}

static void expect_true(json_t *o, const char *path)
{
	if (json_is_true(jpath(o, path)))
		return;
	dump(o);
	fail_msg("%s: not true", path);
}

/* An array of exactly the @n strings given. */
static void expect_strs(json_t *o, const char *path, size_t n, ...)
{
	json_t *v = jpath(o, path);
	va_list ap;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) != n) {
		dump(o);
		fail_msg("%s: not an array of %zu", path, n);
	}
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		json_t *e = json_array_get(v, i);

		if (!json_is_string(e) || strcmp(json_string_value(e), want)) {
			va_end(ap);
			dump(o);
			fail_msg("%s[%zu]: want \"%s\"", path, i, want);
		}
	}
	va_end(ap);
}

static void expect_message_has(json_t *o, const char *part)
{
	json_t *m = jpath(o, "message");

	if (json_is_string(m) && strstr(json_string_value(m), part))
		return;
	dump(o);
	fail_msg("message lacks \"%s\"", part);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static bool is_ts(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	return true;
}

/* What every record carries: time, Timesketch's fields, event.*, host.* */
static void expect_base_kind(json_t *o, const char *kind, const char *action,
			     const char *category, const char *type,
			     const char *outcome, uint64_t seq, const char *ts)
{
	json_t *m = jpath(o, "message");

	if (ts) {
		expect_str(o, "@timestamp", ts);
		expect_str(o, "datetime", ts);
	} else if (!is_ts(json_string_value(jpath(o, "@timestamp"))) ||
		   !json_equal(jpath(o, "@timestamp"), jpath(o, "datetime"))) {
		dump(o);
		fail_msg("@timestamp/datetime malformed or different");
	}
	expect_str(o, "timestamp_desc", "Event Recorded");
	if (!json_is_string(m) || !json_string_length(m)) {
		dump(o);
		fail_msg("no message");
	}
	expect_str(o, "event.kind", kind);
	expect_strs(o, "event.category", 1, category);
	expect_strs(o, "event.type", 1, type);
	expect_str(o, "event.action", action);
	expect_str(o, "event.outcome", outcome);
	expect_int(o, "event.sequence", (long long)seq);
	expect_str(o, "event.module", "ircontain");
	expect_str(o, "host.hostname", HOSTNAME);
	expect_str(o, "host.id", HOST_ID);
}

static void expect_base(json_t *o, const char *action, const char *category,
			const char *type, const char *outcome, uint64_t seq,
			const char *ts)
{
	expect_base_kind(o, "event", action, category, type, outcome, seq, ts);
}

/* ------------------------------------------------------------ records -- */

/* A fixed-size kernel string: NUL-padded, no NUL when it fills the field. */
static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	memset(dst, 0, size);
	memcpy(dst, src, n < size ? n : size);
}

static void fill_hdr(struct irc_ev_hdr *h, unsigned int type, size_t size,
		     uint64_t seq, int tgid, int ppid, const char *comm)
{
	memset(h, 0, sizeof(*h));
	h->type = (__u16)type;
	h->cpu = 2;
	h->size = (__u32)size;
	h->seq = seq;
	h->ts_ns = 5123456789ULL;		/* 22:13:25.123 */
	h->pid = (__u32)tgid;
	h->tgid = (__u32)tgid;
	h->ppid = (__u32)ppid;
	h->uid = 1000;
	h->gid = 1001;
	h->cgroup_id = 4242;
	h->start_ns = 2500000000ULL;		/* 250 ticks */
	copy_field(h->comm, sizeof(h->comm), comm);
}

#define TS_EVENT	"2023-11-14T22:13:25.123Z"
#define TS_START	"2023-11-14T22:13:22.500Z"

static void make_exec(struct irc_ev_exec *ev, int tgid, int ppid, const char *comm,
		      const char *file, const char *args, size_t args_len)
{
	memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->h, IRC_EV_EXEC, sizeof(*ev), 10, tgid, ppid, comm);
	copy_field(ev->filename, sizeof(ev->filename), file);
	assert_true(args_len <= sizeof(ev->args));
	memcpy(ev->args, args, args_len);
	ev->args_len = (__u32)args_len;
}

/* Converts @len bytes copied to the heap, so over-reads are caught. */
static json_t *conv(struct fix *f, const void *rec, size_t len)
{
	void *copy = malloc(len ? len : 1);
	json_t *o;

	assert_non_null(copy);
	memcpy(copy, rec, len);
	o = irc_ev_json(&f->c, copy, len);
	free(copy);
	return o;
}

static json_t *conv_ok(struct fix *f, const void *rec, size_t len)
{
	json_t *o = conv(f, rec, len);

	if (!o)
		fail_msg("irc_ev_json returned NULL for a well-formed record");
	return o;
}

static json_t *do_exec(struct fix *f, int tgid, int ppid, const char *file)
{
	struct irc_ev_exec ev;
	char args[64];
	int n = snprintf(args, sizeof(args), "%s%c-v", file, '\0');

	make_exec(&ev, tgid, ppid, "exe", file, args, (size_t)n + 1);
	return conv_ok(f, &ev, sizeof(ev));
}

static void exec_quiet(struct fix *f, int tgid, int ppid, const char *file)
{
	json_decref(do_exec(f, tgid, ppid, file));
}

static void entity_of(struct fix *f, int tgid, uint64_t start_ns, char out[17])
{
	irc_entity_id(f->pt.boot_key, tgid, start_ns / TICK_NS, out);
}

/* Parent levels under process.* */
static int ancestry_depth(json_t *o)
{
	json_t *p = jpath(o, "process");
	int depth = 0;

	while ((p = json_object_get(p, "parent")))
		depth++;
	return depth;
}

/* ---------------------------------------------------------------- b64 -- */

static int b64_value(char ch)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(tab, ch) : NULL;

	return p ? (int)(p - tab) : -1;
}

/* A strict decoder, independent of irc_b64: -1 if not canonical base64. */
static long b64_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i, o = 0;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], k, pad = 0;

		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(s[i + k])) < 0)
				return -1;
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

static void test_b64_vectors(void **state)
{
	static const struct { const char *in; size_t n; const char *out; } rows[] = {
		/* RFC 4648, section 10. */
		{ "", 0, "" },
		{ "f", 1, "Zg==" },
		{ "fo", 2, "Zm8=" },
		{ "foo", 3, "Zm9v" },
		{ "foob", 4, "Zm9vYg==" },
		{ "fooba", 5, "Zm9vYmE=" },
		{ "foobar", 6, "Zm9vYmFy" },
		/* The last two letters of the alphabet, and NUL bytes. */
		{ "\xfb\xff\xbf", 3, "+/+/" },
		{ "\xff\xfe\xfd", 3, "//79" },
		{ "\0", 1, "AA==" },
		{ "\0\0\0\0", 4, "AAAAAA==" },
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		size_t need = strlen(rows[i].out) + 1;
		char out[64];
		uint8_t back[64];
		int r;

		/* Exactly enough room. */
		memset(out, '#', sizeof(out));
		r = irc_b64((const uint8_t *)rows[i].in, rows[i].n, out, need);
		EXPECT(bad, r == 0, "b64 row %zu: returned %d with %zu bytes", i, r, need);
		EXPECT(bad, r || !strcmp(out, rows[i].out), "b64 row %zu: \"%s\", want \"%s\"",
		       i, out, rows[i].out);
		EXPECT(bad, out[need] == '#', "b64 row %zu: wrote past the output", i);
		EXPECT(bad, b64_decode(out, back, sizeof(back)) == (long)rows[i].n &&
			    !memcmp(back, rows[i].in, rows[i].n),
		       "b64 row %zu: does not decode back", i);

		/* One byte short: refused, nothing written past the buffer. */
		memset(out, '#', sizeof(out));
		r = irc_b64((const uint8_t *)rows[i].in, rows[i].n, out, need - 1);
		EXPECT(bad, r == -ENOSPC, "b64 row %zu: returned %d with %zu bytes, want -ENOSPC",
		       i, r, need - 1);
		EXPECT(bad, out[need - 1] == '#', "b64 row %zu: wrote past a short buffer", i);
	}
	assert_int_equal(bad, 0);
}

/* Every length from 0 to 200, every byte value, through the decoder. */
static void test_b64_round_trip(void **state)
{
	uint8_t in[200], back[200];
	char out[4 * ((sizeof(in) + 2) / 3) + 1];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 167 + 13);
	for (n = 0; n <= sizeof(in); n++) {
		assert_int_equal(irc_b64(in, n, out, sizeof(out)), 0);
		assert_int_equal(strlen(out), 4 * ((n + 2) / 3));
		assert_int_equal(b64_decode(out, back, sizeof(back)), (long)n);
		assert_memory_equal(back, in, n);
	}
	assert_int_equal(irc_b64(in, 0, out, 0), -ENOSPC);
}

/* ------------------------------------------------------ timestamps etc -- */

static void test_fmt_ts(void **state)
{
	static const struct { int64_t ns; const char *want; } rows[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1, "1970-01-01T00:00:00.000Z" },
		{ 999999, "1970-01-01T00:00:00.000Z" },
		{ 1000000, "1970-01-01T00:00:00.001Z" },
		{ 999999999, "1970-01-01T00:00:00.999Z" },
		{ 1000000000, "1970-01-01T00:00:01.000Z" },
		{ 1700000000123456789LL, "2023-11-14T22:13:20.123Z" },
		{ 951782400999000000LL, "2000-02-29T00:00:00.999Z" },
		{ 2147483648000000000LL, "2038-01-19T03:14:08.000Z" },
		{ 1798761599999999999LL, "2026-12-31T23:59:59.999Z" },
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		char buf[40];

		memset(buf, '#', sizeof(buf));
		irc_fmt_ts(rows[i].ns, buf, sizeof(buf));
		EXPECT(bad, !strcmp(buf, rows[i].want), "ts %lld: \"%s\", want \"%s\"",
		       (long long)rows[i].ns, buf, rows[i].want);
	}
	/* A short buffer is cut, still NUL-terminated. */
	{
		char buf[11];

		memset(buf, '#', sizeof(buf));
		irc_fmt_ts(0, buf, sizeof(buf));
		EXPECT(bad, !strcmp(buf, "1970-01-01"), "short buffer: \"%.11s\"", buf);
	}
	assert_int_equal(bad, 0);
}

static void test_type_names(void **state)
{
	static const struct { unsigned int type; const char *want; } rows[] = {
		{ IRC_EV_EXEC, "exec" },
		{ IRC_EV_FORK, "fork" },
		{ IRC_EV_EXIT, "exit" },
		{ IRC_EV_CONNECT, "connect" },
		{ IRC_EV_ACCEPT, "accept" },
		{ IRC_EV_DROP, "packet_dropped" },
		{ IRC_EV_DENY, "network_denied" },
		{ IRC_EV_FINDING, "finding" },
		{ 0, NULL },
		{ IRC_EV__MAX, NULL },
		{ IRC_EV__MAX + 1, NULL },
		{ 0xffff, NULL },
		{ 0xffffffffu, NULL },
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		const char *got = irc_ev_type_name(rows[i].type);

		EXPECT(bad, rows[i].want ? got && !strcmp(got, rows[i].want) : !got,
		       "type %u: %s, want %s", rows[i].type, got ? got : "NULL",
		       rows[i].want ? rows[i].want : "NULL");
	}
	assert_int_equal(bad, 0);
}

/* --------------------------------------------------------------- exec -- */

static void test_exec(void **state)
{
	struct fix *f = *state;
	static const char args[] = "bash\0-c\0echo hi\0";
	struct irc_ev_exec ev;
	char id[17];
	json_t *o;

	make_exec(&ev, 4000, 1, "bash", "/usr/bin/bash", args, sizeof(args) - 1);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_base(o, "exec", "process", "start", "success", 10, TS_EVENT);
	expect_int(o, "process.pid", 4000);
	expect_str(o, "process.name", "bash");
	expect_str(o, "process.executable", "/usr/bin/bash");
	expect_strs(o, "process.args", 3, "bash", "-c", "echo hi");
	entity_of(f, 4000, ev.h.start_ns, id);
	expect_str(o, "process.entity_id", id);
	expect_str(o, "process.start", TS_START);
	expect_absent(o, "process.thread");
	expect_int(o, "process.parent.pid", 1);	/* not in the table: pid only */
	expect_absent(o, "process.parent.executable");
	/* ECS keeps user and group ids as strings. */
	expect_str(o, "user.id", "1000");
	expect_str(o, "group.id", "1001");
	expect_int(o, "ircontain.cpu", 2);
	expect_int(o, "ircontain.cgroup_id", 4242);
	expect_absent(o, "ircontain.args_truncated");
	expect_absent(o, "container");
	expect_message_has(o, "executed /usr/bin/bash");
	expect_message_has(o, "pid 4000");
	json_decref(o);

	/* The table now knows it. */
	assert_non_null(irc_pt_get(&f->pt, 4000));
	assert_string_equal(irc_pt_get(&f->pt, 4000)->entity_id, id);
	assert_int_equal(irc_pt_get(&f->pt, 4000)->ppid, 1);
	assert_int_equal(irc_pt_get(&f->pt, 4000)->uid, 1000);
}

static void test_exec_details(void **state)
{
	struct fix *f = *state;
	struct irc_ev_exec ev;
	char id[17];
	json_t *o;
	size_t i;

	/* A thread execs, argv was truncated, last arg without its NUL. */
	make_exec(&ev, 4100, 1, "python3", "/usr/bin/python3", "python3\0-c\0pri", 14);
	ev.h.pid = 4107;
	ev.h.uid = 0;
	ev.args_trunc = 1;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_int(o, "process.pid", 4100);
	expect_int(o, "process.thread.id", 4107);
	expect_strs(o, "process.args", 3, "python3", "-c", "pri");
	expect_true(o, "ircontain.args_truncated");
	expect_str(o, "user.id", "0");
	json_decref(o);

	/* No args; a filename filling its whole field, no NUL. */
	make_exec(&ev, 4200, 1, "x", "", "", 0);
	memset(ev.filename, 'f', sizeof(ev.filename));
	o = conv_ok(f, &ev, sizeof(ev));
	expect_absent(o, "process.args");
	assert_int_equal(strlen(json_string_value(jpath(o, "process.executable"))),
			 IRC_PT_EXE_LEN - 1);
	json_decref(o);

	/* A comm of 16 bytes without NUL: cut to 15 in the table. */
	make_exec(&ev, 4300, 1, "0123456789abcdefXX", "/bin/x", "x", 2);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "process.name", "0123456789abcde");
	json_decref(o);

	/* args_len beyond the record (malformed): bounded, no over-read. */
	make_exec(&ev, 4400, 1, "x", "/bin/x", "", 0);
	memset(ev.args, 'a', sizeof(ev.args));
	ev.args_len = 0xffffffffu;
	o = conv_ok(f, &ev, sizeof(ev));
	assert_int_equal(json_array_size(jpath(o, "process.args")), 1);
	assert_true(json_string_length(json_array_get(jpath(o, "process.args"), 0)) <=
		    IRC_PT_ARGS_LEN);
	json_decref(o);

	/* A start time of 0: the process has no start, still an id. */
	make_exec(&ev, 4500, 1, "x", "/bin/x", "x", 2);
	ev.h.start_ns = 0;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_absent(o, "process.start");
	entity_of(f, 4500, 0, id);
	expect_str(o, "process.entity_id", id);
	json_decref(o);

	/* PID reuse: same tgid, later start, new identity, new image. */
	make_exec(&ev, 4600, 1, "a", "/bin/a", "a", 2);
	json_decref(conv_ok(f, &ev, sizeof(ev)));
	entity_of(f, 4600, ev.h.start_ns, id);
	make_exec(&ev, 4600, 1, "b", "/bin/b", "b", 2);
	ev.h.start_ns += 7 * TICK_NS;
	o = conv_ok(f, &ev, sizeof(ev));
	assert_string_not_equal(json_string_value(jpath(o, "process.entity_id")), id);
	entity_of(f, 4600, ev.h.start_ns, id);
	expect_str(o, "process.entity_id", id);
	expect_str(o, "process.executable", "/bin/b");
	json_decref(o);

	/* Exec again in the same process (execve chain): same identity. */
	make_exec(&ev, 4600, 1, "c", "/bin/c", "c", 2);
	ev.h.start_ns += 7 * TICK_NS;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "process.entity_id", id);
	expect_str(o, "process.executable", "/bin/c");
	json_decref(o);

	for (i = 0; i < 3; i++)
		assert_non_null(irc_pt_get(&f->pt, 4100 + (int)i * 100));
}

/*
 * The cgroup comes from the record's id: the path /proc gives, proved to be
 * that id's by stat(), else a walk of the tree.  container.id from it.
 */
static void test_exec_container(void **state)
{
	struct fix *f = *state;
	struct irc_ev_exec ev;
	json_t *o;

	use_cgroup_tree(f);
	make_exec(&ev, DOCKER_PID, 1, "nginx", "/usr/sbin/nginx", "nginx\0", 6);
	ev.h.cgroup_id = cg_id(CG_DOCKER);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "container.id", ID_A);
	expect_str(o, "ircontain.cgroup", CG_DOCKER);
	/* The record's image wins over what /proc says. */
	expect_str(o, "process.executable", "/usr/sbin/nginx");
	expect_strs(o, "process.args", 1, "nginx");
	json_decref(o);

	make_exec(&ev, PODMAN_PID, 1, "sh", "/bin/sh", "sh\0", 3);
	ev.h.cgroup_id = cg_id(CG_PODMAN);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "container.id", ID_A);
	expect_str(o, "ircontain.cgroup", CG_PODMAN);
	json_decref(o);

	/* In another cgroup than /proc says (it moved): the record's, by the walk. */
	make_exec(&ev, DOCKER_PID, 1, "nginx", "/usr/sbin/nginx", "nginx\0", 6);
	ev.h.cgroup_id = cg_id("/old.slice");
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "ircontain.cgroup", "/old.slice");
	expect_int(o, "ircontain.cgroup_id", (long long)cg_id("/old.slice"));
	expect_absent(o, "container");
	json_decref(o);
	ev.h.cgroup_id = cg_id(CG_DOCKER);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "ircontain.cgroup", CG_DOCKER);
	expect_str(o, "container.id", ID_A);
	json_decref(o);

	/* Not in proc_root, no such cgroup: no cgroup, no container. */
	make_exec(&ev, 99999, 1, "sh", "/bin/sh", "sh\0", 3);
	ev.h.cgroup_id = CG_NONE;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_absent(o, "container");
	expect_absent(o, "ircontain.cgroup");
	expect_str(o, "process.executable", "/bin/sh");
	json_decref(o);
}

/* A connect of @tgid, in cgroup @cgid, to 192.0.2.1:443. */
static json_t *connect_in(struct fix *f, int tgid, uint64_t cgid)
{
	struct irc_ev_conn ev;

	memset(&ev, 0, sizeof(ev));
	fill_hdr(&ev.h, IRC_EV_CONNECT, sizeof(ev), 12, tgid, 0, "worker");
	ev.h.cgroup_id = cgid;
	ev.family = 4;
	ev.established = 1;
	ev.dport = 443;
	inet_pton(AF_INET, "192.0.2.1", ev.daddr);
	return conv_ok(f, &ev, sizeof(ev));
}

/*
 * A cgroup id is never written with another cgroup's path, under churn: the
 * process left its cgroup and the cgroup was removed before the daemon read
 * the record (its /proc names the parent); the process moved after its
 * exec; a path too long for the table.  The id alone then, or the right path.
 */
static void test_cgroup_churn(void **state)
{
	struct fix *f = *state;
	struct irc_ev_exec ev;
	char rel[IRC_PT_CGROUP_LEN + 64], line[sizeof(rel) + 8], path[512];
	uint64_t gone, churn = cg_id("/churn"), old = cg_id("/old.slice");
	size_t n;
	json_t *o;

	use_cgroup_tree(f);
	tu_put_dir(cg_root, "churn/gone");
	gone = cg_id("/churn/gone");
	snprintf(path, sizeof(path), "%s/churn/gone", cg_root);
	assert_int_equal(rmdir(path), 0);

	make_exec(&ev, CHURN_PID, 1, "sh", "/bin/sh", "sh\0", 3);
	ev.h.cgroup_id = gone;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_int(o, "ircontain.cgroup_id", (long long)gone);
	expect_absent(o, "ircontain.cgroup");
	json_decref(o);
	/* Its records from the parent, where it is now: the parent's path. */
	o = connect_in(f, CHURN_PID, churn);
	expect_int(o, "ircontain.cgroup_id", (long long)churn);
	expect_str(o, "ircontain.cgroup", "/churn");
	json_decref(o);
	/* One more from the removed cgroup, read late: the id alone again. */
	o = connect_in(f, CHURN_PID, gone);
	expect_absent(o, "ircontain.cgroup");
	json_decref(o);
	/* Read from /proc again (a seed): where it is now is not the record's. */
	assert_ptr_equal(irc_pt_seed_one(&f->pt, proc_root, CHURN_PID),
			 irc_pt_get(&f->pt, CHURN_PID));
	o = connect_in(f, CHURN_PID, gone);
	expect_absent(o, "ircontain.cgroup");
	json_decref(o);

	/* Moved after its exec, the table not told: the record's cgroup. */
	make_exec(&ev, DOCKER_PID, 1, "nginx", "/usr/sbin/nginx", "nginx\0", 6);
	ev.h.cgroup_id = cg_id(CG_DOCKER);
	json_decref(conv_ok(f, &ev, sizeof(ev)));
	o = connect_in(f, DOCKER_PID, old);
	expect_str(o, "ircontain.cgroup", "/old.slice");
	expect_absent(o, "container");
	json_decref(o);

	/* Too long to keep: never cut to a shorter path (another cgroup's). */
	snprintf(rel, sizeof(rel), "/long");
	do {
		snprintf(path, sizeof(path), "%s%s", cg_root, rel);
		assert_int_equal(mkdir(path, 0755), 0);
		n = strlen(rel);
		snprintf(rel + n, sizeof(rel) - n, "/%.40s", ID_A);
	} while (n < IRC_PT_CGROUP_LEN + 8);
	rel[n] = '\0';
	n = (size_t)snprintf(line, sizeof(line), "0::%s\n", rel);
	tu_put_file(proc_root, "4567/cgroup", line, n);
	make_exec(&ev, LONG_PID, 1, "sh", "/bin/sh", "sh\0", 3);
	ev.h.cgroup_id = cg_id(rel);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_absent(o, "ircontain.cgroup");
	json_decref(o);
	/* The walk finds it too (a process whose /proc is gone). */
	make_exec(&ev, 99999, 1, "sh", "/bin/sh", "sh\0", 3);
	ev.h.cgroup_id = cg_id(rel);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_absent(o, "ircontain.cgroup");
	json_decref(o);
}

/*
 * Names are bytes: a comm the kernel cut in half a character, a file name
 * or argument that is not UTF-8.  Nothing may be lost (jansson refuses a
 * whole string over one bad byte); bytes that are not UTF-8 are written
 * as "\xNN", valid characters as they are.
 */
static void test_exec_not_utf8(void **state)
{
	static const struct { const char *in; const char *out; } rows[] = {
		{ "caf\xe9", "caf\\xe9" },
		{ "\xff\xfe", "\\xff\\xfe" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },			/* valid: kept */
		{ "\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok" },	/* 4 bytes */
		{ "\xc0\xaf", "\\xc0\\xaf" },				/* overlong '/' */
		{ "\xe0\x80\xaf", "\\xe0\\x80\\xaf" },			/* overlong */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },			/* surrogate */
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },		/* > U+10FFFF */
		{ "a\xe2\x82", "a\\xe2\\x82" },				/* cut at the end */
		{ "\xe2\x82z", "\\xe2\\x82z" },				/* cut before a byte */
		{ "\x80x", "\\x80x" },					/* lone continuation */
	};
	/* "привет_мир" cut by the kernel: ends in half a character. */
	static const char comm[] = "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82_\xd0";
	struct fix *f = *state;
	struct irc_ev_exec ev;
	char args[256];
	size_t i, n = 0;
	json_t *o, *a;
	char *dumped;
	json_error_t err;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		size_t l = strlen(rows[i].in) + 1;

		assert_true(n + l <= sizeof(args));
		memcpy(args + n, rows[i].in, l);
		n += l;
	}
	make_exec(&ev, 4700, 1, comm, "/tmp/caf\xe9", args, n);
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "process.executable", "/tmp/caf\\xe9");
	expect_str(o, "process.name", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82_\\xd0");
	expect_message_has(o, "\xd1\x82_\\xd0 executed /tmp/caf\\xe9");
	/* argv keeps its shape. */
	a = jpath(o, "process.args");
	assert_int_equal(json_array_size(a), ARRAY_LEN(rows));
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		const char *got = json_string_value(json_array_get(a, i));

		if (!got || strcmp(got, rows[i].out)) {
			dump(o);
			fail_msg("args[%zu]: \"%s\", want \"%s\"", i, got ? got : "(none)",
				 rows[i].out);
		}
	}
	/* The output is valid JSON text, i.e. valid UTF-8. */
	dumped = json_dumps(o, 0);
	assert_non_null(dumped);
	json_decref(o);
	o = json_loads(dumped, 0, &err);
	free(dumped);
	if (!o)
		fail_msg("output does not parse back: %s", err.text);
	json_decref(o);

	/* The header's comm, for a process the table does not know. */
	{
		struct irc_ev_exit ex;

		memset(&ex, 0, sizeof(ex));
		fill_hdr(&ex.h, IRC_EV_EXIT, sizeof(ex), 12, 4799, 1, "x\xff");
		o = conv_ok(f, &ex, sizeof(ex));
		expect_str(o, "process.name", "x\\xff");
		expect_message_has(o, "(x\\xff)");
		json_decref(o);
	}
}

/* ----------------------------------------------------------- ancestry -- */

static void test_ancestry_parent_child(void **state)
{
	struct fix *f = *state;
	char pid_parent[17], pid_child[17];
	json_t *o;

	exec_quiet(f, 100, 1, "/usr/sbin/sshd");
	o = do_exec(f, 200, 100, "/bin/sh");
	entity_of(f, 100, 2500000000ULL, pid_parent);
	entity_of(f, 200, 2500000000ULL, pid_child);
	expect_int(o, "process.pid", 200);
	expect_str(o, "process.entity_id", pid_child);
	expect_int(o, "process.parent.pid", 100);
	expect_str(o, "process.parent.executable", "/usr/sbin/sshd");
	expect_str(o, "process.parent.entity_id", pid_parent);
	expect_strs(o, "process.parent.args", 2, "/usr/sbin/sshd", "-v");
	expect_int(o, "process.parent.parent.pid", 1);
	expect_absent(o, "process.parent.parent.parent");
	json_decref(o);

	/* The parent exits: its child still names it. */
	{
		struct irc_ev_exit ex;

		memset(&ex, 0, sizeof(ex));
		fill_hdr(&ex.h, IRC_EV_EXIT, sizeof(ex), 11, 100, 1, "sshd");
		json_decref(conv_ok(f, &ex, sizeof(ex)));
	}
	o = do_exec(f, 201, 200, "/bin/ls");
	expect_int(o, "process.parent.pid", 200);
	expect_str(o, "process.parent.parent.executable", "/usr/sbin/sshd");
	json_decref(o);
}

/* A connect of @tgid to 192.0.2.1:443. */
static json_t *do_connect(struct fix *f, int tgid)
{
	return connect_in(f, tgid, 4242);
}

/*
 * process.* is kept as text per process and reused: whatever changes up
 * its chain (a parent's exec, a grandparent's, a parent gone from the
 * table) shows in the next event, never the text kept from before.
 */
static void test_ancestry_cached(void **state)
{
	struct fix *f = *state;
	json_t *o;
	int i;

	exec_quiet(f, 300, 1, "/bin/a");
	exec_quiet(f, 301, 300, "/bin/b");
	for (i = 0; i < 2; i++) {
		o = do_connect(f, 301);
		expect_str(o, "process.executable", "/bin/b");
		expect_str(o, "process.parent.executable", "/bin/a");
		json_decref(o);
	}
	exec_quiet(f, 300, 1, "/bin/c");
	o = do_connect(f, 301);
	expect_str(o, "process.parent.executable", "/bin/c");
	expect_absent(o, "process.parent.parent.executable");
	json_decref(o);
	exec_quiet(f, 1, 0, "/sbin/init");
	o = do_connect(f, 301);
	expect_str(o, "process.parent.parent.executable", "/sbin/init");
	json_decref(o);
	/* Changed in place by its owner (irc_pt_changed): shown too. */
	snprintf(irc_pt_get(&f->pt, 301)->exe, IRC_PT_EXE_LEN, "/bin/d");
	irc_pt_changed(&f->pt, irc_pt_get(&f->pt, 301));
	o = do_connect(f, 301);
	expect_str(o, "process.executable", "/bin/d");
	json_decref(o);
	assert_true(f->pt.frag_bytes > 0);
}

static void test_ancestry_bounded(void **state)
{
	struct fix *f = *state;
	json_t *o, *p;
	int pid, depth;

	/* A chain of 20: only IRC_ANCESTRY_MAX levels are shown. */
	for (pid = 1000; pid < 1020; pid++)
		exec_quiet(f, pid, pid - 1, "/bin/chain");
	o = do_exec(f, 1020, 1019, "/bin/leaf");
	assert_int_equal(ancestry_depth(o), IRC_ANCESTRY_MAX);
	p = jpath(o, "process");
	for (depth = 0; depth < IRC_ANCESTRY_MAX; depth++)
		p = json_object_get(p, "parent");
	expect_int(p, "pid", 1020 - IRC_ANCESTRY_MAX);
	expect_str(p, "executable", "/bin/chain");
	json_decref(o);

	/* A process that is its own parent: shown without one. */
	o = do_exec(f, 3000, 3000, "/bin/self");
	expect_int(o, "process.pid", 3000);
	expect_absent(o, "process.parent");
	json_decref(o);

	/* Two processes each other's parent. */
	exec_quiet(f, 3100, 3101, "/bin/a");
	o = do_exec(f, 3101, 3100, "/bin/b");
	assert_true(ancestry_depth(o) <= IRC_ANCESTRY_MAX);
	expect_int(o, "process.parent.pid", 3100);
	expect_str(o, "process.parent.executable", "/bin/a");
	json_decref(o);

	/* A loop of three. */
	exec_quiet(f, 3200, 3202, "/bin/a");
	exec_quiet(f, 3201, 3200, "/bin/b");
	o = do_exec(f, 3202, 3201, "/bin/c");
	assert_true(ancestry_depth(o) <= IRC_ANCESTRY_MAX);
	json_decref(o);
}

/* --------------------------------------------------------------- fork -- */

static void test_fork(void **state)
{
	struct fix *f = *state;
	struct irc_ev_fork ev;
	char id[17];
	json_t *o;

	exec_quiet(f, 5000, 1, "/usr/bin/make");
	memset(&ev, 0, sizeof(ev));
	fill_hdr(&ev.h, IRC_EV_FORK, sizeof(ev), 20, 5000, 1, "make");
	ev.child_tgid = 5001;
	ev.child_start_ns = 3000000000ULL;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_base(o, "fork", "process", "start", "success", 20, TS_EVENT);
	expect_int(o, "process.pid", 5001);
	entity_of(f, 5001, ev.child_start_ns, id);
	expect_str(o, "process.entity_id", id);
	expect_str(o, "process.start", "2023-11-14T22:13:23.000Z");
	/* The child starts as a copy of its parent's image. */
	expect_str(o, "process.executable", "/usr/bin/make");
	expect_strs(o, "process.args", 2, "/usr/bin/make", "-v");
	expect_str(o, "process.name", "make");
	expect_int(o, "process.parent.pid", 5000);
	expect_str(o, "process.parent.executable", "/usr/bin/make");
	expect_absent(o, "process.thread");
	expect_absent(o, "ircontain.quarantine_inherited");
	expect_str(o, "user.id", "1000");
	expect_message_has(o, "pid 5000 forked pid 5001");
	json_decref(o);
	assert_int_equal(irc_pt_get(&f->pt, 5001)->ppid, 5000);

	/* A quarantined parent's child; the parent is not in the table. */
	fill_hdr(&ev.h, IRC_EV_FORK, sizeof(ev), 21, 6000, 1, "evil");
	ev.child_tgid = 6001;
	ev.inherited = 1;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_true(o, "ircontain.quarantine_inherited");
	expect_int(o, "process.pid", 6001);
	expect_str(o, "process.name", "evil");
	expect_absent(o, "process.executable");
	expect_int(o, "process.parent.pid", 6000);
	expect_message_has(o, "inherits");
	json_decref(o);

	/* A malformed fork of itself: no crash, no endless ancestry. */
	fill_hdr(&ev.h, IRC_EV_FORK, sizeof(ev), 22, 5000, 1, "make");
	ev.child_tgid = 5000;
	ev.inherited = 0;
	o = conv_ok(f, &ev, sizeof(ev));
	assert_true(ancestry_depth(o) <= IRC_ANCESTRY_MAX);
	json_decref(o);
}

/* The child's put evicts the parent (the least recent): no stale pointer. */
static void test_fork_evicts_parent(void **state)
{
	struct fix *f = *state;
	struct irc_ev_fork ev;
	json_t *o;
	int tgid;

	exec_quiet(f, 7000, 1, "/bin/old");
	for (tgid = 100000; f->pt.count < IRC_PT_MAX; tgid++)
		irc_pt_put(&f->pt, tgid, 1);
	memset(&ev, 0, sizeof(ev));
	fill_hdr(&ev.h, IRC_EV_FORK, sizeof(ev), 30, 7000, 1, "old");
	ev.child_tgid = 7001;
	ev.child_start_ns = 3000000000ULL;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_int(o, "process.pid", 7001);
	expect_int(o, "process.parent.pid", 7000);
	expect_absent(o, "process.executable");
	json_decref(o);
	assert_null(irc_pt_get(&f->pt, 7000));
	assert_int_equal(f->pt.count, IRC_PT_MAX);
}

/* --------------------------------------------------------------- exit -- */

static void test_exit_codes(void **state)
{
	static const struct { int status; int code; int signal; const char *msg; } rows[] = {
		{ 0x0000, 0, -1, "exited with code 0" },
		{ 0x0100, 1, -1, "exited with code 1" },
		{ 0x0900, 9, -1, "exited with code 9" },	/* exit(9), not a signal */
		{ 0xff00, 255, -1, "exited with code 255" },
		{ 9, 137, 9, "was killed by signal 9 (SIGKILL)" },
		{ 15, 143, 15, "was killed by signal 15 (SIGTERM)" },
		{ 0x8b, 139, 11, "was killed by signal 11 (SIGSEGV), core dumped" },
		{ 0x86, 134, 6, "was killed by signal 6 (SIGABRT), core dumped" },
	};
	struct fix *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct irc_ev_exit ev;
		int tgid = 8000 + (int)i;
		json_t *o;

		exec_quiet(f, tgid, 1, "/bin/job");
		memset(&ev, 0, sizeof(ev));
		fill_hdr(&ev.h, IRC_EV_EXIT, sizeof(ev), 40 + i, tgid, 1, "job");
		ev.exit_code = rows[i].status;
		o = conv_ok(f, &ev, sizeof(ev));
		at("exit status 0x%x", rows[i].status);
		expect_base(o, "exit", "process", "end", "success", 40 + i, TS_EVENT);
		expect_int(o, "process.pid", tgid);
		expect_str(o, "process.executable", "/bin/job");
		expect_int(o, "process.exit_code", rows[i].code);
		if (rows[i].signal < 0)
			expect_absent(o, "ircontain.signal");
		else
			expect_int(o, "ircontain.signal", rows[i].signal);
		expect_str(o, "user.id", "1000");
		expect_message_has(o, rows[i].msg);
		json_decref(o);
		assert_true(irc_pt_get(&f->pt, tgid)->exited);
	}
}

static void test_exit_unknown(void **state)
{
	struct fix *f = *state;
	struct irc_ev_exit ev;
	json_t *o;

	memset(&ev, 0, sizeof(ev));
	fill_hdr(&ev.h, IRC_EV_EXIT, sizeof(ev), 50, 8500, 1, "ghost");
	ev.exit_code = 0x0200;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_int(o, "process.pid", 8500);
	expect_str(o, "process.name", "ghost");
	expect_int(o, "process.exit_code", 2);
	expect_absent(o, "process.entity_id");
	json_decref(o);
	assert_null(irc_pt_get(&f->pt, 8500));
}

/* ------------------------------------------------------ connect/accept -- */

static void test_connections(void **state)
{
	static const struct {
		unsigned int type;
		int family;
		const char *saddr, *daddr;	/* local, remote */
		unsigned int sport, dport;
		int established;
		const char *src_ip, *dst_ip;
		int src_port, dst_port;		/* -1: absent */
		const char *dir, *outcome, *in_msg;
	} rows[] = {
		{ IRC_EV_CONNECT, 4, "10.0.0.5", "93.184.216.34", 43210, 443, 1,
		  "10.0.0.5", "93.184.216.34", 43210, 443, "egress", "success",
		  "connected from 10.0.0.5:43210 to 93.184.216.34:443" },
		{ IRC_EV_CONNECT, 4, "10.0.0.5", "192.0.2.99", 40000, 8080, 0,
		  "10.0.0.5", "192.0.2.99", 40000, 8080, "egress", "failure", "(failed)" },
		{ IRC_EV_CONNECT, 6, "2001:db8::5", "2001:db8:1::80", 51000, 443, 1,
		  "2001:db8::5", "2001:db8:1::80", 51000, 443, "egress", "success",
		  "to 2001:db8:1::80:443" },
		/* accept: the remote side opened it, so it is the source. */
		{ IRC_EV_ACCEPT, 4, "10.0.0.5", "198.51.100.23", 22, 61000, 1,
		  "198.51.100.23", "10.0.0.5", 61000, 22, "ingress", "success",
		  "accepted on 10.0.0.5:22 from 198.51.100.23:61000" },
		{ IRC_EV_ACCEPT, 6, "2001:db8::1", "2001:db8::99", 22, 51000, 1,
		  "2001:db8::99", "2001:db8::1", 51000, 22, "ingress", "success", "accepted" },
		/* A dual-stack socket's IPv4 peer is reported as IPv4. */
		{ IRC_EV_ACCEPT, 6, "::ffff:10.1.2.3", "::ffff:10.9.9.9", 80, 1234, 1,
		  "10.9.9.9", "10.1.2.3", 1234, 80,
		  "ingress", "success", "accepted on 10.1.2.3:80 from 10.9.9.9:1234" },
		/* Port 0 is not written. */
		{ IRC_EV_CONNECT, 4, "10.0.0.5", "10.0.0.6", 0, 0, 1,
		  "10.0.0.5", "10.0.0.6", -1, -1, "egress", "success", "connected" },
	};
	struct fix *f = *state;
	size_t i;

	exec_quiet(f, 9000, 1, "/usr/bin/curl");
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct irc_ev_conn ev;
		bool acc = rows[i].type == IRC_EV_ACCEPT;
		int af = rows[i].family == 4 ? AF_INET : AF_INET6;
		json_t *o;

		memset(&ev, 0, sizeof(ev));
		fill_hdr(&ev.h, rows[i].type, sizeof(ev), 60 + i, 9000, 1, "curl");
		ev.family = (__u8)rows[i].family;
		ev.proto = 6;
		ev.sport = (__u16)rows[i].sport;
		ev.dport = (__u16)rows[i].dport;
		ev.established = (__u16)rows[i].established;
		assert_int_equal(inet_pton(af, rows[i].saddr, ev.saddr), 1);
		assert_int_equal(inet_pton(af, rows[i].daddr, ev.daddr), 1);
		o = conv_ok(f, &ev, sizeof(ev));
		at("connection row %zu", i);
		expect_base(o, acc ? "accept" : "connect", "network", "connection",
			    rows[i].outcome, 60 + i, TS_EVENT);
		expect_str(o, "source.ip", rows[i].src_ip);
		expect_str(o, "destination.ip", rows[i].dst_ip);
		if (rows[i].src_port < 0) {
			expect_absent(o, "source.port");
			expect_absent(o, "destination.port");
		} else {
			expect_int(o, "source.port", rows[i].src_port);
			expect_int(o, "destination.port", rows[i].dst_port);
		}
		expect_str(o, "network.transport", "tcp");
		expect_str(o, "network.type", strchr(rows[i].src_ip, ':') ? "ipv6" : "ipv4");
		expect_str(o, "network.direction", rows[i].dir);
		expect_int(o, "process.pid", 9000);
		expect_str(o, "process.executable", "/usr/bin/curl");
		expect_str(o, "user.id", "1000");
		expect_message_has(o, rows[i].in_msg);
		json_decref(o);
	}
}

/* --------------------------------------------------------------- drop -- */

struct pkt {
	int linktype;
	uint16_t vlans[2];	/* ethertypes of VLAN tags, 0 = none */
	uint16_t ethertype;	/* after the tags; 0: from the family */
	int version;		/* 4, 6, or another nibble */
	int ihl;		/* IPv4 header words, 0 = 5 */
	int proto;
	const char *src, *dst;
	unsigned int sport, dport;
	int cut;		/* cap_len; 0 = the whole packet */
};

/* Builds the packet in @buf; returns its full length. */
static size_t build_pkt(const struct pkt *s, uint8_t *buf, size_t cap)
{
	size_t n = 0, i, l3;
	int af = s->version == 6 ? AF_INET6 : AF_INET;

	memset(buf, 0, cap);
	if (s->linktype == IRC_LINK_ETHERNET) {
		static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
		uint16_t et = s->ethertype ? s->ethertype : s->version == 6 ? 0x86dd : 0x0800;

		memcpy(buf, macs, 12);
		n = 12;
		for (i = 0; i < 2 && s->vlans[i]; i++) {
			buf[n] = (uint8_t)(s->vlans[i] >> 8);
			buf[n + 1] = (uint8_t)s->vlans[i];
			buf[n + 2] = 0x00;		/* TCI: VLAN 100 */
			buf[n + 3] = 100;
			n += 4;
		}
		buf[n] = (uint8_t)(et >> 8);
		buf[n + 1] = (uint8_t)et;
		n += 2;
	}
	l3 = n;
	if (s->version == 6) {
		buf[n] = 0x60;
		buf[n + 6] = (uint8_t)s->proto;
		buf[n + 7] = 64;
		assert_int_equal(inet_pton(af, s->src, buf + n + 8), 1);
		assert_int_equal(inet_pton(af, s->dst, buf + n + 24), 1);
		n += 40;
	} else {
		int ihl = s->ihl ? s->ihl : 5;

		buf[n] = (uint8_t)((s->version ? s->version : 4) << 4 | ihl);
		buf[n + 8] = 64;
		buf[n + 9] = (uint8_t)s->proto;
		if (s->src)
			assert_int_equal(inet_pton(af, s->src, buf + n + 12), 1);
		if (s->dst)
			assert_int_equal(inet_pton(af, s->dst, buf + n + 16), 1);
		for (i = 20; i < (size_t)ihl * 4; i++)
			buf[n + i] = 1;		/* NOP options */
		n += (size_t)ihl * 4;
	}
	buf[n] = (uint8_t)(s->sport >> 8);
	buf[n + 1] = (uint8_t)s->sport;
	buf[n + 2] = (uint8_t)(s->dport >> 8);
	buf[n + 3] = (uint8_t)s->dport;
	n += s->proto == 6 ? 20 : 8;
	assert_true(n <= cap && l3 < n);
	return n;
}

static void make_drop(struct irc_ev_drop *ev, const struct pkt *s, uint64_t seq)
{
	uint8_t buf[IRC_SAMPLE_LEN];
	size_t n = build_pkt(s, buf, sizeof(buf));

	memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->h, IRC_EV_DROP, sizeof(*ev), seq, 0, 0, "");
	ev->h.pid = ev->h.tgid = ev->h.uid = ev->h.gid = 0;
	ev->rule = IRC_RULE_ISOLATE;
	ev->dir = IRC_DIR_OUT;
	ev->pkt_len = (__u32)n + 1000;
	ev->cap_len = (__u32)(s->cut ? (size_t)s->cut : n);
	ev->linktype = (__u32)s->linktype;
	memcpy(ev->data, buf, n);
}

/* ircontain.sample.* describes exactly the captured bytes. */
static void expect_sample(json_t *o, const struct irc_ev_drop *ev)
{
	uint8_t back[IRC_SAMPLE_LEN + 4];
	const char *b64 = json_string_value(jpath(o, "ircontain.sample.base64"));
	size_t cap = ev->cap_len < IRC_SAMPLE_LEN ? ev->cap_len : IRC_SAMPLE_LEN;

	if (!b64) {
		dump(o);
		fail_msg("no ircontain.sample.base64");
	}
	assert_int_equal(b64_decode(b64, back, sizeof(back)), (long)cap);
	assert_memory_equal(back, ev->data, cap);
	expect_int(o, "ircontain.sample.length", ev->pkt_len);
	expect_int(o, "ircontain.sample.linktype", ev->linktype);
}

static void test_drop_samples(void **state)
{
	static const struct {
		const char *name;
		struct pkt p;
		const char *src, *dst;		/* NULL: no endpoints at all */
		int sport, dport;		/* -1: absent */
		int iana;
	} rows[] = {
		{ "eth ipv4 tcp",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "192.0.2.1", "198.51.100.7", 12345, 80, 0 },
		  "192.0.2.1", "198.51.100.7", 12345, 80, 6 },
		{ "eth ipv4 with options, udp",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 7, 17, "192.0.2.1", "198.51.100.7", 5353, 53, 0 },
		  "192.0.2.1", "198.51.100.7", 5353, 53, 17 },
		{ "raw ipv6 udp",
		  { IRC_LINK_RAW, { 0 }, 0, 6, 0, 17, "2001:db8::1", "2001:db8::2", 5353, 53, 0 },
		  "2001:db8::1", "2001:db8::2", 5353, 53, 17 },
		{ "raw ipv4 tcp",
		  { IRC_LINK_RAW, { 0 }, 0, 4, 0, 6, "10.1.1.1", "10.2.2.2", 1000, 2000, 0 },
		  "10.1.1.1", "10.2.2.2", 1000, 2000, 6 },
		{ "eth vlan ipv4 udp",
		  { IRC_LINK_ETHERNET, { 0x8100 }, 0, 4, 0, 17, "192.0.2.9", "192.0.2.10", 68, 67, 0 },
		  "192.0.2.9", "192.0.2.10", 68, 67, 17 },
		{ "eth qinq ipv6 tcp",
		  { IRC_LINK_ETHERNET, { 0x88a8, 0x8100 }, 0, 6, 0, 6, "fe80::1", "ff02::1", 443, 1,
		    0 },
		  "fe80::1", "ff02::1", 443, 1, 6 },
		{ "eth ipv6 tcp",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 6, 0, 6, "2001:db8::a", "2001:db8::b", 22, 2222, 0 },
		  "2001:db8::a", "2001:db8::b", 22, 2222, 6 },
		{ "eth ipv4 icmp: no ports",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 1, "192.0.2.1", "192.0.2.2", 0x0800, 0, 0 },
		  "192.0.2.1", "192.0.2.2", -1, -1, 1 },
		{ "eth ipv4, cut after the IP header",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 34 },
		  "192.0.2.1", "192.0.2.2", -1, -1, 6 },
		{ "eth ipv4, cut inside the ports",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 37 },
		  "192.0.2.1", "192.0.2.2", -1, -1, 6 },
		{ "eth ipv6, cut after the source port",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 6, 0, 6, "2001:db8::a", "2001:db8::b", 1, 2, 56 },
		  "2001:db8::a", "2001:db8::b", -1, -1, 6 },
		{ "eth ipv4, cut inside the IP header",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 24 },
		  NULL, NULL, -1, -1, -1 },
		{ "eth, cut inside the Ethernet header",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 10 },
		  NULL, NULL, -1, -1, -1 },
		{ "eth vlan, cut inside the tag",
		  { IRC_LINK_ETHERNET, { 0x8100 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 16 },
		  NULL, NULL, -1, -1, -1 },
		{ "eth arp",
		  { IRC_LINK_ETHERNET, { 0 }, 0x0806, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 0 },
		  NULL, NULL, -1, -1, -1 },
		{ "raw ipv6, cut inside the header",
		  { IRC_LINK_RAW, { 0 }, 0, 6, 0, 17, "2001:db8::1", "2001:db8::2", 1, 2, 30 },
		  NULL, NULL, -1, -1, -1 },
		{ "raw ipv6, one byte short of the header",
		  { IRC_LINK_RAW, { 0 }, 0, 6, 0, 17, "2001:db8::1", "2001:db8::2", 1, 2, 39 },
		  NULL, NULL, -1, -1, -1 },
		{ "raw ipv4, one byte short of the header",
		  { IRC_LINK_RAW, { 0 }, 0, 4, 0, 17, "192.0.2.1", "192.0.2.2", 1, 2, 19 },
		  NULL, NULL, -1, -1, -1 },
		{ "raw, version 5",
		  { IRC_LINK_RAW, { 0 }, 0, 5, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 0 },
		  NULL, NULL, -1, -1, -1 },
		{ "raw, nothing captured",
		  { IRC_LINK_RAW, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, -1 },
		  NULL, NULL, -1, -1, -1 },
		{ "eth, nothing captured",
		  { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, -1 },
		  NULL, NULL, -1, -1, -1 },
		{ "unknown linktype, ipv4 bytes",
		  { 0, { 0 }, 0, 4, 0, 6, "192.0.2.1", "192.0.2.2", 1, 2, 0 },
		  "192.0.2.1", "192.0.2.2", 1, 2, 6 },
	};
	struct fix *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct irc_ev_drop ev;
		json_t *o;

		at("sample \"%s\"", rows[i].name);
		make_drop(&ev, &rows[i].p, 100 + i);
		if (rows[i].p.cut < 0)
			ev.cap_len = 0;
		o = conv_ok(f, &ev, sizeof(ev));
		expect_base(o, "packet_dropped", "network", "denied", "success", 100 + i,
			    TS_EVENT);
		expect_sample(o, &ev);
		expect_int(o, "ircontain.sample.captured", ev.cap_len);
		expect_str(o, "rule.name", "isolation");
		expect_str(o, "ircontain.direction", "out");
		expect_absent(o, "ircontain.rule_target");
		/* The packet path runs in no process's context. */
		expect_absent(o, "process");
		expect_absent(o, "user");
		expect_absent(o, "observer");
		if (!rows[i].src) {
			expect_absent(o, "source");
			expect_absent(o, "destination");
			expect_absent(o, "network");
		} else {
			expect_str(o, "source.ip", rows[i].src);
			expect_str(o, "destination.ip", rows[i].dst);
			expect_str(o, "network.type", strchr(rows[i].src, ':') ? "ipv6" : "ipv4");
			expect_int(o, "network.iana_number", rows[i].iana);
			if (rows[i].sport < 0) {
				expect_absent(o, "source.port");
				expect_absent(o, "destination.port");
			} else {
				expect_int(o, "source.port", rows[i].sport);
				expect_int(o, "destination.port", rows[i].dport);
			}
		}
		json_decref(o);
	}
}

static void test_drop_rules(void **state)
{
	static const struct pkt v4 = { IRC_LINK_ETHERNET, { 0 }, 0, 4, 0, 6, "10.0.0.1",
				       "198.51.100.7", 40000, 443, 0 };
	static const struct pkt v6 = { IRC_LINK_ETHERNET, { 0 }, 0, 6, 0, 6, "2001:db8::1",
				       "2001:db8::", 40000, 443, 0 };
	static const struct {
		unsigned int rule, dir, plen;
		const struct pkt *p;
		const char *addr;		/* rule_addr, NULL: none */
		const char *name, *target;	/* target NULL: absent */
		bool nocap;			/* no bytes captured */
	} rows[] = {
		{ IRC_RULE_QUARANTINE, IRC_DIR_OUT, 32, &v4, "198.51.100.7", "host-quarantine",
		  "198.51.100.7" },
		{ IRC_RULE_QUARANTINE, IRC_DIR_IN, 24, &v4, "198.51.100.7", "host-quarantine",
		  "198.51.100.7" },
		{ IRC_RULE_QUARANTINE, IRC_DIR_OUT, 128, &v6, "2001:db8::5", "host-quarantine",
		  "2001:db8::5" },
		{ IRC_RULE_QUARANTINE, IRC_DIR_OUT, 64, &v6, "2001:db8::", "host-quarantine",
		  "2001:db8::" },
		/* An IPv6 peer with 96 zero bits under a short prefix is still IPv6. */
		{ IRC_RULE_QUARANTINE, IRC_DIR_OUT, 32, &v6, "2001:db8::", "host-quarantine",
		  "2001:db8::" },
		/* Nothing captured: the family from the address and prefix alone. */
		{ IRC_RULE_QUARANTINE, IRC_DIR_OUT, 32, &v4, "198.51.100.7", "host-quarantine",
		  "198.51.100.7", true },
		{ IRC_RULE_QUARANTINE, IRC_DIR_OUT, 128, &v6, "2001:db8::", "host-quarantine",
		  "2001:db8::", true },
		{ IRC_RULE_QUARANTINE, IRC_DIR_IN, 48, &v6, "2001:db8:1::", "host-quarantine",
		  "2001:db8:1::", true },
		{ IRC_RULE_ISOLATE, IRC_DIR_OUT, 0, &v4, NULL, "isolation", NULL },
		{ IRC_RULE_MALFORMED, IRC_DIR_IN, 0, &v4, NULL, "malformed-while-isolated", NULL },
		{ IRC_RULE_PROCESS, IRC_DIR_OUT, 0, &v4, NULL, "process-quarantine", NULL },
		{ 0, IRC_DIR_OUT, 0, &v4, NULL, "unknown", NULL },
		{ 99, IRC_DIR_IN, 0, &v4, NULL, "unknown", NULL },
	};
	struct fix *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct irc_ev_drop ev;
		json_t *o;

		at("rule row %zu", i);
		make_drop(&ev, rows[i].p, 200 + i);
		ev.rule = rows[i].rule;
		ev.dir = rows[i].dir;
		ev.rule_plen = rows[i].plen;
		if (rows[i].nocap)
			ev.cap_len = 0;
		if (rows[i].addr)
			assert_int_equal(inet_pton(strchr(rows[i].addr, ':') ? AF_INET6 : AF_INET,
						   rows[i].addr, ev.rule_addr), 1);
		o = conv_ok(f, &ev, sizeof(ev));
		expect_str(o, "rule.name", rows[i].name);
		expect_str(o, "ircontain.direction", rows[i].dir == IRC_DIR_IN ? "in" : "out");
		expect_message_has(o, rows[i].name);
		expect_message_has(o, rows[i].dir == IRC_DIR_IN ? "inbound" : "outbound");
		if (rows[i].target) {
			expect_str(o, "ircontain.rule_target", rows[i].target);
			expect_message_has(o, rows[i].target);
		} else {
			expect_absent(o, "ircontain.rule_target");
		}
		expect_absent(o, "process");	/* rule_tgid is 0 */
		expect_sample(o, &ev);
		json_decref(o);
	}
}

/* A socket of a quarantined process: whose it was, from the table. */
static void test_drop_process(void **state)
{
	static const struct pkt raw6 = { IRC_LINK_RAW, { 0 }, 0, 6, 0, 17, "2001:db8::7",
					 "2001:db8::53", 33333, 53, 0 };
	struct fix *f = *state;
	struct irc_ev_drop ev;
	char id[17];
	json_t *o;

	exec_quiet(f, 9500, 1, "/tmp/implant");
	make_drop(&ev, &raw6, 300);
	ev.rule = IRC_RULE_PROCESS;
	ev.rule_tgid = 9500;
	o = conv_ok(f, &ev, sizeof(ev));
	expect_str(o, "rule.name", "process-quarantine");
	expect_int(o, "process.pid", 9500);
	expect_str(o, "process.executable", "/tmp/implant");
	entity_of(f, 9500, 2500000000ULL, id);
	expect_str(o, "process.entity_id", id);
	expect_int(o, "process.parent.pid", 1);
	expect_str(o, "source.ip", "2001:db8::7");
	expect_int(o, "destination.port", 53);
	expect_int(o, "ircontain.sample.linktype", IRC_LINK_RAW);
	json_decref(o);
}

/* cap_len larger than the sample (malformed): nothing read past the record. */
static void test_drop_oversized_cap(void **state)
{
	struct fix *f = *state;
	struct irc_ev_drop *ev = calloc(1, sizeof(*ev));
	uint8_t back[IRC_SAMPLE_LEN + 4];
	json_t *o;
	size_t i;

	assert_non_null(ev);
	fill_hdr(&ev->h, IRC_EV_DROP, sizeof(*ev), 400, 0, 0, "");
	ev->rule = IRC_RULE_ISOLATE;
	ev->linktype = IRC_LINK_ETHERNET;
	ev->cap_len = 4096;
	ev->pkt_len = 4096;
	/* VLAN tags all the way: a parser that trusts cap_len walks off the end. */
	for (i = 0; i < IRC_SAMPLE_LEN; i += 2) {
		ev->data[i] = 0x81;
		ev->data[i + 1] = 0x00;
	}
	o = irc_ev_json(&f->c, ev, sizeof(*ev));
	assert_non_null(o);
	expect_absent(o, "source");
	expect_absent(o, "destination");
	assert_int_equal(b64_decode(json_string_value(jpath(o, "ircontain.sample.base64")),
				    back, sizeof(back)), IRC_SAMPLE_LEN);
	assert_memory_equal(back, ev->data, IRC_SAMPLE_LEN);
	json_decref(o);

	/* Same with an IPv4 header near the end of the sample. */
	memset(ev->data, 0, sizeof(ev->data));
	ev->linktype = IRC_LINK_RAW;
	for (i = 0; i < IRC_SAMPLE_LEN - 8; i++)
		ev->data[i] = 0x45;
	o = irc_ev_json(&f->c, ev, sizeof(*ev));
	assert_non_null(o);
	json_decref(o);
	free(ev);
}

/* --------------------------------------------------------------- deny -- */

static void test_deny(void **state)
{
	static const struct {
		unsigned int hook, root;
		int family;
		const char *addr;
		unsigned int port;
		const char *hook_name, *rule;
		const char *dst;		/* NULL: no destination */
		int dport;			/* -1: absent */
	} rows[] = {
		{ IRC_HOOK_CONNECT, 9600, 4, "203.0.113.9", 443, "connect", "process-quarantine",
		  "203.0.113.9", 443 },
		{ IRC_HOOK_SENDMSG, 9600, 6, "2001:db8::53", 53, "sendmsg", "process-quarantine",
		  "2001:db8::53", 53 },
		{ IRC_HOOK_BIND, 0, 4, "0.0.0.0", 4444, "bind", "cgroup-quarantine",
		  "0.0.0.0", 4444 },
		{ IRC_HOOK_SOCK_CREATE, 9600, 0, NULL, 0, "socket", "process-quarantine", NULL, -1 },
		{ IRC_HOOK_SOCK_CREATE, 0, 0, NULL, 0, "socket", "cgroup-quarantine", NULL, -1 },
		{ IRC_HOOK_CONNECT, 0, 6, "::1", 0, "connect", "cgroup-quarantine", "::1", -1 },
		{ 0, 0, 0, NULL, 0, "?", "cgroup-quarantine", NULL, -1 },
		{ 99, 9600, 0, NULL, 0, "?", "process-quarantine", NULL, -1 },
	};
	struct fix *f = *state;
	size_t i;

	exec_quiet(f, 9601, 9600, "/usr/bin/nc");
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct irc_ev_deny ev;
		json_t *o;

		at("deny row %zu", i);
		memset(&ev, 0, sizeof(ev));
		fill_hdr(&ev.h, IRC_EV_DENY, sizeof(ev), 500 + i, 9601, 9600, "nc");
		ev.hook = rows[i].hook;
		ev.root = rows[i].root;
		ev.family = (__u8)rows[i].family;
		ev.dport = (__u16)rows[i].port;
		if (rows[i].addr)
			assert_int_equal(inet_pton(rows[i].family == 4 ? AF_INET : AF_INET6,
						   rows[i].addr, ev.daddr), 1);
		o = conv_ok(f, &ev, sizeof(ev));
		expect_base(o, "network_denied", "network", "denied", "success", 500 + i,
			    TS_EVENT);
		expect_str(o, "ircontain.hook", rows[i].hook_name);
		expect_str(o, "rule.name", rows[i].rule);
		if (rows[i].root)
			expect_int(o, "ircontain.quarantine_root", rows[i].root);
		else if (!json_is_null(jpath(o, "ircontain.quarantine_root"))) {
			dump(o);
			fail_msg("ircontain.quarantine_root: want null");
		}
		if (rows[i].dst) {
			expect_str(o, "destination.ip", rows[i].dst);
			if (rows[i].dport < 0)
				expect_absent(o, "destination.port");
			else
				expect_int(o, "destination.port", rows[i].dport);
		} else {
			expect_absent(o, "destination");
		}
		expect_absent(o, "source");
		expect_int(o, "process.pid", 9601);
		expect_str(o, "process.executable", "/usr/bin/nc");
		expect_int(o, "process.parent.pid", 9600);
		expect_str(o, "user.id", "1000");
		expect_message_has(o, "refused");
		json_decref(o);
	}
}

/* ------------------------------------------------------------ finding -- */

static void test_findings(void **state)
{
	static const struct {
		unsigned int det, action, severity, enforced, target_pid;
		int family;			/* 0: a host detector */
		const char *addr, *path;
		const char *ecs_action, *rule, *outcome, *sev_name, *act_name;
		int ecs_sev;
		const char *in_msg;
		unsigned int trust, hold, protect;
	} rows[] = {
		{ IRC_DET_PORTSCAN, IRC_ACT_QUAR_HOST, IRC_SEV_HIGH, 1, 0, 4, "203.0.113.50", NULL,
		  "portscan_detected", "portscan", "success", "high", "quarantine-host", 73,
		  "portscan from 203.0.113.50 (verified, 100 in 10s): quarantined by the kernel "
		  "for 600s (offence 2)", IRC_SRC_VERIFIED },
		{ IRC_DET_PORTSCAN, IRC_ACT_QUAR_HOST, IRC_SEV_HIGH, 1, 0, 4, "203.0.113.51", NULL,
		  "portscan_detected", "portscan", "success", "high", "quarantine-host", 73,
		  "portscan from 203.0.113.51 (unverified, 100 in 10s): quarantined by the kernel "
		  "for 600s, inbound only, never escalated", IRC_SRC_UNVERIFIED },
		{ IRC_DET_SYNFLOOD, IRC_ACT_QUAR_HOST, IRC_SEV_MEDIUM, 0, 0, 6, "2001:db8::66", NULL,
		  "synflood_detected", "synflood", "unknown", "medium", "quarantine-host", 47,
		  "not acted on (monitor mode), would quarantine-host", IRC_SRC_UNVERIFIED,
		  IRC_HOLD_MONITOR },
		{ IRC_DET_PORTSCAN, IRC_ACT_QUAR_HOST, IRC_SEV_HIGH, 0, 0, 4, "192.0.2.1", NULL,
		  "portscan_detected", "portscan", "unknown", "high", "quarantine-host", 73,
		  "(protected: gateway, resolver, 100 in 10s): not acted on (protected source)",
		  IRC_SRC_PROTECTED, IRC_HOLD_PROTECTED, IRC_PROT_GATEWAY | IRC_PROT_RESOLVER },
		{ IRC_DET_SYNFLOOD, IRC_ACT_ALERT, IRC_SEV_HIGH, 0, 0, 4, "192.0.2.2", NULL,
		  "synflood_detected", "synflood", "success", "high", "alert", 73,
		  "synflood to 192.0.2.2 (100 SYNs in 10s, any source): alert only",
		  IRC_SRC_TARGET },
		{ IRC_DET_PORTSCAN, IRC_ACT_ALERT, IRC_SEV_LOW, 0, 0, 4, "198.51.100.1", NULL,
		  "portscan_detected", "portscan", "success", "low", "alert", 21, "alert only" },
		{ IRC_DET_EXEC_TMP, IRC_ACT_KILL, IRC_SEV_CRITICAL, 1, 0, 0, NULL, "/tmp/x",
		  "exec_tmp_detected", "exec_tmp", "success", "critical", "kill", 99,
		  "exec_tmp: dropper (pid 9700) /tmp/x: done: kill" },
		{ IRC_DET_PTRACE, IRC_ACT_QUAR_PROC, IRC_SEV_HIGH, 0, 77, 0, NULL, "",
		  "ptrace_detected", "ptrace", "unknown", "high", "quarantine-process", 73,
		  "would quarantine-process" },
		{ IRC_DET_REVSHELL, IRC_ACT_CONTAIN_KILL, IRC_SEV_CRITICAL, 1, 0, 0, NULL, "",
		  "reverse_shell_detected", "reverse_shell", "success", "critical", "contain-then-kill", 99,
		  "reverse_shell: dropper (pid 9700): contain-then-kill: stopped and cut off by the kernel; the controller snapshots, then kills it" },
		{ IRC_DET_FILELESS, IRC_ACT_CONTAIN_KILL, IRC_SEV_HIGH, 1, 0, 0, NULL, "",
		  "fileless_detected", "fileless", "success", "high", "contain-then-kill", 73,
		  "contain-then-kill: no controller running, killed by the kernel at once (no snapshot)",
		  0, IRC_HOLD_NOCTL },
		{ 99, 99, 9, 0, 0, 0, NULL, "", "unknown_detected", "unknown", "unknown",
		  "unknown", "unknown", 0, "unknown" },
	};
	struct fix *f = *state;
	size_t i;

	exec_quiet(f, 9700, 1, "/tmp/x");
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		struct irc_ev_finding ev;
		json_t *o;

		at("finding row %zu", i);
		memset(&ev, 0, sizeof(ev));
		fill_hdr(&ev.h, IRC_EV_FINDING, sizeof(ev), 700 + i, 9700, 1, "dropper");
		ev.detector = rows[i].det;
		ev.action = rows[i].action;
		ev.severity = rows[i].severity;
		ev.enforced = rows[i].enforced;
		ev.count = 100;
		ev.offences = 2;
		ev.window_ns = 10000000000ULL;
		ev.ttl_ns = 600000000000ULL;
		ev.target_pid = rows[i].target_pid;
		ev.family = (__u8)rows[i].family;
		ev.trust = (__u8)rows[i].trust;
		ev.hold = (__u8)rows[i].hold;
		ev.protect = rows[i].protect;
		if (rows[i].addr)
			assert_int_equal(inet_pton(rows[i].family == 4 ? AF_INET : AF_INET6,
						   rows[i].addr, ev.addr), 1);
		if (rows[i].path)
			copy_field(ev.path, sizeof(ev.path), rows[i].path);
		o = conv_ok(f, &ev, sizeof(ev));
		/* An alert, not a plain event. */
		expect_base_kind(o, "alert", rows[i].ecs_action, "intrusion_detection", "info",
				 rows[i].outcome, 700 + i, TS_EVENT);
		expect_int(o, "event.severity", rows[i].ecs_sev);
		expect_str(o, "rule.name", rows[i].rule);
		expect_str(o, "ircontain.finding.severity", rows[i].sev_name);
		expect_str(o, "ircontain.finding.action", rows[i].act_name);
		if (rows[i].enforced)
			expect_true(o, "ircontain.finding.enforced");
		else if (!json_is_false(jpath(o, "ircontain.finding.enforced")))
			fail_msg("ircontain.finding.enforced: want false");
		expect_int(o, "ircontain.finding.count", 100);
		expect_int(o, "ircontain.finding.window_s", 10);
		expect_int(o, "ircontain.finding.ttl_s", 600);
		expect_int(o, "ircontain.finding.offences", 2);
		if (rows[i].target_pid)
			expect_int(o, "ircontain.finding.target_pid", rows[i].target_pid);
		else
			expect_absent(o, "ircontain.finding.target_pid");
		if (rows[i].family && rows[i].trust == IRC_SRC_TARGET) {
			expect_str(o, "destination.ip", rows[i].addr);
			expect_absent(o, "source");
			expect_str(o, "ircontain.finding.source_trust", "destination");
		} else if (rows[i].family) {
			expect_str(o, "source.ip", rows[i].addr);
			expect_absent(o, "source.port");
			expect_absent(o, "process");
		} else {
			expect_absent(o, "source");
			expect_int(o, "process.pid", 9700);
			expect_str(o, "process.executable", "/tmp/x");
			expect_str(o, "user.id", "1000");
			if (rows[i].path && rows[i].path[0])
				expect_str(o, "file.path", rows[i].path);
			else
				expect_absent(o, "file");
		}
		expect_message_has(o, rows[i].in_msg);
		json_decref(o);
	}
}

/* A path filling its field, without NUL: kept whole, nothing more. */
static void test_finding_long_path(void **state)
{
	struct fix *f = *state;
	struct irc_ev_finding *ev = calloc(1, sizeof(*ev));
	json_t *o;

	assert_non_null(ev);
	fill_hdr(&ev->h, IRC_EV_FINDING, sizeof(*ev), 800, 9800, 1, "cat");
	ev->detector = IRC_DET_SENSITIVE;
	ev->severity = IRC_SEV_HIGH;
	memset(ev->path, 'p', sizeof(ev->path));
	ev->path[0] = '/';
	o = irc_ev_json(&f->c, ev, sizeof(*ev));
	assert_non_null(o);
	assert_int_equal(json_string_length(jpath(o, "file.path")), IRC_FIND_PATH_LEN);
	expect_message_has(o, "sensitive_read: cat (pid 9800) /ppp");
	json_decref(o);
	free(ev);
}

/* ---------------------------------------------------------- malformed -- */

static size_t type_size(unsigned int type)
{
	switch (type) {
	case IRC_EV_EXEC: return sizeof(struct irc_ev_exec);
	case IRC_EV_FORK: return sizeof(struct irc_ev_fork);
	case IRC_EV_EXIT: return sizeof(struct irc_ev_exit);
	case IRC_EV_CONNECT:
	case IRC_EV_ACCEPT: return sizeof(struct irc_ev_conn);
	case IRC_EV_DROP: return sizeof(struct irc_ev_drop);
	case IRC_EV_DENY: return sizeof(struct irc_ev_deny);
	case IRC_EV_FINDING: return sizeof(struct irc_ev_finding);
	default: return sizeof(struct irc_ev_hdr);
	}
}

/* Converts a zeroed record of @len bytes with @type and @size. */
static json_t *conv_raw(struct fix *f, unsigned int type, size_t len, size_t size)
{
	uint8_t *rec = calloc(1, len ? len : 1);
	struct irc_ev_hdr h;
	json_t *o;

	assert_non_null(rec);
	memset(&h, 0, sizeof(h));
	h.type = (__u16)type;
	h.size = (__u32)size;
	h.tgid = h.pid = 4321;
	memcpy(rec, &h, len < sizeof(h) ? len : sizeof(h));
	o = irc_ev_json(&f->c, rec, len);
	free(rec);
	return o;
}

static void test_malformed(void **state)
{
	struct fix *f = *state;
	const size_t hl = sizeof(struct irc_ev_hdr);
	struct { unsigned int type; size_t len, size; const char *why; } rows[32];
	size_t n = 0, i;
	unsigned int type;
	int bad = 0;

#define ROW(t, l, s, w)	do { rows[n].type = (t); rows[n].len = (l);		\
			     rows[n].size = (s); rows[n].why = (w); n++; } while (0)
	ROW(IRC_EV_EXEC, 0, 0, "empty");
	ROW(IRC_EV_EXEC, 1, 0, "1 byte");
	ROW(IRC_EV_EXIT, hl - 1, hl - 1, "shorter than the header");
	ROW(IRC_EV_EXIT, sizeof(struct irc_ev_exit), sizeof(struct irc_ev_exit) + 1,
	    "size beyond len");
	ROW(IRC_EV_DROP, sizeof(struct irc_ev_drop), 0xffffffffu, "size far beyond len");
	for (type = IRC_EV_EXEC; type < IRC_EV__MAX; type++) {
		ROW(type, hl, hl, "header only");
		ROW(type, type_size(type) - 1, type_size(type) - 1, "one byte short");
	}
	ROW(0, hl, hl, "type 0");
	ROW(IRC_EV__MAX, 1024, 1024, "type past the last");
	ROW(0xffff, 1024, 1024, "type 0xffff");
#undef ROW
	assert_true(n <= ARRAY_LEN(rows));

	for (i = 0; i < n; i++) {
		json_t *o = conv_raw(f, rows[i].type, rows[i].len, rows[i].size);

		EXPECT(bad, !o, "type %u len %zu size %zu (%s): not NULL", rows[i].type,
		       rows[i].len, rows[i].size, rows[i].why);
		json_decref(o);
	}
	/* Refused records leave the process table alone. */
	EXPECT(bad, f->pt.count == 0, "malformed records changed the table (%zu)",
	       f->pt.count);
	assert_int_equal(bad, 0);

	/* The same records at their full length (zeroed) are fine. */
	for (type = IRC_EV_EXEC; type < IRC_EV__MAX; type++) {
		json_t *o = conv_raw(f, type, type_size(type), type_size(type));

		EXPECT(bad, o, "zeroed type %u: NULL", type);
		EXPECT(bad, !o || json_is_string(jpath(o, "message")), "zeroed type %u: no message",
		       type);
		json_decref(o);
		/* A record may be followed by padding: len beyond size is fine. */
		o = conv_raw(f, type, type_size(type) + 8, type_size(type));
		EXPECT(bad, o, "padded type %u: NULL", type);
		json_decref(o);
	}
	assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------- gap -- */

static void test_gap(void **state)
{
	static const struct { unsigned int cpu; uint64_t after, missing; } rows[] = {
		{ 3, 41, 5 },
		{ 0, 0, 1 },
		{ 255, 1ULL << 40, 1ULL << 33 },
	};
	struct fix *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		json_t *o = irc_gap_json(&f->c, rows[i].cpu, rows[i].after, rows[i].missing, false);
		char part[64];

		assert_non_null(o);
		expect_base(o, "events_lost", "host", "info", "failure",
			    rows[i].after + rows[i].missing + 1, NULL);
		expect_int(o, "ircontain.gap.cpu", rows[i].cpu);
		expect_int(o, "ircontain.gap.after_sequence", (long long)rows[i].after);
		expect_int(o, "ircontain.gap.missing", (long long)rows[i].missing);
		expect_int(o, "ircontain.cpu", rows[i].cpu);
		expect_absent(o, "process");
		snprintf(part, sizeof(part), "%llu event record(s) lost on CPU %u",
			 (unsigned long long)rows[i].missing, rows[i].cpu);
		expect_message_has(o, part);
		json_decref(o);
	}
}

int main(void)
{
#define CTX(t)	cmocka_unit_test_setup_teardown(t, setup_ctx, teardown_ctx)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_fmt_ts),
		cmocka_unit_test(test_type_names),
		CTX(test_exec),
		CTX(test_exec_details),
		CTX(test_exec_container),
		CTX(test_cgroup_churn),
		CTX(test_exec_not_utf8),
		CTX(test_ancestry_parent_child),
		CTX(test_ancestry_bounded),
		CTX(test_ancestry_cached),
		CTX(test_fork),
		CTX(test_fork_evicts_parent),
		CTX(test_exit_codes),
		CTX(test_exit_unknown),
		CTX(test_connections),
		CTX(test_drop_samples),
		CTX(test_drop_rules),
		CTX(test_drop_process),
		CTX(test_drop_oversized_cap),
		CTX(test_deny),
		CTX(test_findings),
		CTX(test_finding_long_path),
		CTX(test_malformed),
		CTX(test_gap),
	};
#undef CTX

	return cmocka_run_group_tests(tests, make_fake_proc, remove_fake_proc);
}
