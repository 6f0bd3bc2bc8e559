// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for export bundles (userspace/export_*.c): the OCSF mapping
 * of each kind of record, the ECS/Timesketch fields every events.jsonl
 * line must carry, HTML escaping, pcap writing (a raw-IP sample behind a
 * fake Ethernet header, read back with libpcap), the manifest's file
 * checks and its signature, one whole export of a small store in a
 * temporary directory, verified (and not written over an existing file),
 * and hostile bundles refused quickly: too many files or members, another
 * compression, gzip in gzip, more bytes than a bundle may hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "ircontain/abi.h"
#include "export.h"
#include "irc.h"
#include "store.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define TS		1700000000123456789LL	/* 2023-11-14T22:13:20.123Z */

static const struct irc_xhost host = { .hostname = "ir-test", .machine_id = "0123abcd" };

/* A row of @kind/@type with @body (JSON text), as the store gives it. */
static struct irc_row mkrow(int kind, const char *type, const char *actor, const char *target,
			    const char *peer, const char *body)
{
	return (struct irc_row){ .seq = 42, .kind = kind, .incident = 7, .ts_ns = TS,
		.type = type, .actor = actor, .target = target, .peer = peer, .body = body };
}

/* ------------------------------------------------------------ OCSF -- */

static const char exec_body[] =
	"{\"@timestamp\":\"2023-11-14T22:13:20.123Z\",\"event\":{\"kind\":\"event\","
	"\"category\":[\"process\"],\"type\":[\"start\"],\"action\":\"exec\",\"outcome\":\"success\"},"
	"\"process\":{\"pid\":100,\"name\":\"sh\",\"executable\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"x\"],"
	"\"parent\":{\"pid\":99,\"name\":\"bash\"}},\"user\":{\"id\":\"0\"},\"message\":\"sh executed\"}";
static const char fork_body[] =
	"{\"event\":{\"action\":\"fork\"},\"process\":{\"pid\":101,\"parent\":{\"pid\":100}}}";
static const char exit_body[] =
	"{\"event\":{\"action\":\"exit\"},\"process\":{\"pid\":101,\"exit_code\":137}}";
static const char conn_ok[] =
	"{\"event\":{\"action\":\"connect\",\"outcome\":\"success\"},\"source\":{\"ip\":\"10.0.0.1\","
	"\"port\":40000},\"destination\":{\"ip\":\"10.0.0.2\",\"port\":80},"
	"\"network\":{\"transport\":\"tcp\",\"type\":\"ipv4\",\"direction\":\"egress\"}}";
static const char conn_fail[] =
	"{\"event\":{\"action\":\"connect\",\"outcome\":\"failure\"},\"destination\":{\"ip\":\"10.0.0.2\"}}";
static const char deny_body[] =
	"{\"event\":{\"action\":\"network_denied\"},\"process\":{\"pid\":5},\"destination\":{\"ip\":\"10.0.0.9\"}}";
static const char pkt_body[] =
	"{\"event\":{\"action\":\"packet_dropped\"},\"source\":{\"ip\":\"10.77.1.2\"},"
	"\"destination\":{\"ip\":\"10.77.1.1\"},\"network\":{\"type\":\"ipv4\",\"iana_number\":1},"
	"\"ircontain\":{\"direction\":\"in\"},\"linktype\":1,\"pkt_len\":98,\"cap_len\":98}";
static const char finding_body[] =
	"{\"event\":{\"kind\":\"alert\",\"action\":\"portscan_detected\",\"severity\":73},"
	"\"source\":{\"ip\":\"10.77.1.2\"},\"rule\":{\"name\":\"portscan\"},\"ircontain\":{\"finding\":"
	"{\"detector\":\"portscan\",\"severity\":\"high\",\"enforced\":true}},\"message\":\"portscan\"}";
static const char act_ok[] = "{\"reason\":\"test\",\"result\":\"ok\",\"uid\":0}";
static const char act_kill[] = "{\"reason\":\"test\",\"result\":\"ok\",\"action\":\"kill\"}";
static const char act_failed[] = "{\"reason\":\"test\",\"result\":\"No such process\"}";

struct ocsf_case {
	const char *name;
	int kind;
	const char *type, *target, *body;
	int class_uid, category_uid, activity_id, severity_id, status_id;
	const char *field;	/* a class object that must be there */
};

static const struct ocsf_case ocsf_cases[] = {
	{ "exec", IRC_REC_EVENT, "exec", "pid:100", exec_body, 1007, 1, 1, 1, 1, "process.file.path" },
	{ "fork", IRC_REC_EVENT, "fork", "pid:100", fork_body, 1007, 1, 1, 1, 1, "actor.process.pid" },
	{ "exit", IRC_REC_EVENT, "exit", "pid:101", exit_body, 1007, 1, 2, 1, 1, "exit_code" },
	{ "connect ok", IRC_REC_EVENT, "connect", "pid:1", conn_ok, 4001, 4, 1, 1, 1, "dst_endpoint.port" },
	{ "connect failed", IRC_REC_EVENT, "connect", "pid:1", conn_fail, 4001, 4, 4, 1, 2, "dst_endpoint.ip" },
	{ "denied", IRC_REC_EVENT, "network_denied", "pid:5", deny_body, 4001, 4, 5, 1, 1, "actor.process.pid" },
	{ "packet", IRC_REC_EVIDENCE, "packet", "host:10.77.1.2", pkt_body, 4001, 4, 5, 1, 1, "traffic.bytes" },
	{ "finding", IRC_REC_EVENT, "finding", "host:10.77.1.2", finding_body, 2004, 2, 1, 4, 1,
	  "finding_info.analytic.name" },
	{ "quarantine host", IRC_REC_ACTION, "quarantine", "host:10.77.1.2", act_ok, 7004, 7, 1, 1, 1,
	  "connection_info.direction_id" },
	{ "release host", IRC_REC_ACTION, "release", "host:10.77.1.2", act_ok, 7004, 7, 3, 1, 1,
	  "dst_endpoint.ip" },
	{ "isolate", IRC_REC_ACTION, "isolate", "", act_ok, 7004, 7, 1, 1, 1, "countermeasures" },
	{ "quarantine pid", IRC_REC_ACTION, "quarantine", "pid:100", act_ok, 7003, 7, 1, 1, 1,
	  "process.pid" },
	{ "quarantine pid --action kill", IRC_REC_ACTION, "quarantine", "pid:100", act_kill, 7003, 7,
	  2, 1, 1, "command_uid" },
	{ "kill", IRC_REC_ACTION, "kill", "pid:100", act_ok, 7003, 7, 2, 1, 1, "actor.user.name" },
	{ "release pid, failed", IRC_REC_ACTION, "release", "pid:100", act_failed, 7003, 7, 3, 1, 2,
	  "status_detail" },
	{ "quarantine cgroup", IRC_REC_ACTION, "quarantine", "cgroup:/x", act_ok, 7003, 7, 1, 1, 1,
	  "process.uid" },
};

static void test_ocsf_classes(void **state)
{
	const struct ocsf_case *c;
	struct irc_row r;
	struct irc_xrow x;
	json_t *o;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ocsf_cases); i++) {
		c = &ocsf_cases[i];
		r = mkrow(c->kind, c->type, "alice", c->target, "", c->body);
		x = (struct irc_xrow){ .r = &r, .incident = 7, .body = json_loads(c->body, 0, NULL) };
		assert_non_null(x.body);
		o = irc_x_ocsf(&x, &host);
		EXPECT(bad, o, "%s: no OCSF record", c->name);
		if (o) {
			json_int_t cls = irc_jint(o, "class_uid", -1), act = irc_jint(o, "activity_id", -1);

			EXPECT(bad, cls == c->class_uid, "%s: class_uid %lld, expected %d", c->name,
			       (long long)cls, c->class_uid);
			EXPECT(bad, irc_jint(o, "category_uid", -1) == c->category_uid,
			       "%s: category_uid", c->name);
			EXPECT(bad, act == c->activity_id, "%s: activity_id %lld, expected %d", c->name,
			       (long long)act, c->activity_id);
			EXPECT(bad, irc_jint(o, "type_uid", -1) == cls * 100 + act, "%s: type_uid", c->name);
			EXPECT(bad, irc_jint(o, "time", -1) == TS / 1000000, "%s: time (ms)", c->name);
			EXPECT(bad, irc_jint(o, "severity_id", -1) == c->severity_id, "%s: severity_id %lld",
			       c->name, (long long)irc_jint(o, "severity_id", -1));
			EXPECT(bad, irc_jint(o, "status_id", -1) == c->status_id, "%s: status_id %lld",
			       c->name, (long long)irc_jint(o, "status_id", -1));
			EXPECT(bad, !strcmp(irc_jstr(o, "metadata.product.name") ?: "", "ircontain"),
			       "%s: metadata.product.name", c->name);
			EXPECT(bad, irc_jstr(o, "metadata.version") && irc_jstr(o, "metadata.product.version")
			       && irc_jstr(o, "metadata.product.vendor_name"), "%s: metadata", c->name);
			EXPECT(bad, !strcmp(irc_jstr(o, "device.hostname") ?: "", "ir-test"),
			       "%s: device.hostname", c->name);
			EXPECT(bad, irc_jpath(o, c->field), "%s: no %s", c->name, c->field);
		}
		json_decref(o);
		json_decref(x.body);
	}
	assert_int_equal(bad, 0);
}

/* Records no OCSF class fits: in events.jsonl only. */
static void test_ocsf_unmapped(void **state)
{
	static const struct { int kind; const char *type, *body; } cases[] = {
		{ IRC_REC_ACTION, "incident.open", "{\"title\":\"t\",\"severity\":\"high\"}" },
		{ IRC_REC_ACTION, "incident.note", "{\"text\":\"n\"}" },
		{ IRC_REC_ACTION, "run.start", "{\"pid\":1}" },
		{ IRC_REC_EVIDENCE, "snapshot", "{\"pid\":1,\"exe\":\"/bin/sh\"}" },
		{ IRC_REC_EVENT, "gap", "{\"event\":{\"action\":\"events_lost\"}}" },
	};
	struct irc_row r;
	struct irc_xrow x;
	json_t *o;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		r = mkrow(cases[i].kind, cases[i].type, "alice", "pid:1", "", cases[i].body);
		x = (struct irc_xrow){ .r = &r, .incident = 7, .body = json_loads(cases[i].body, 0, NULL) };
		o = irc_x_ocsf(&x, &host);
		EXPECT(bad, !o, "%s: mapped to class %lld", cases[i].type,
		       (long long)irc_jint(o, "class_uid", -1));
		json_decref(o);
		json_decref(x.body);
	}
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------- ECS -- */

/* Every line: ECS time and event.*, Timesketch's three, the chain's place. */
static void test_ecs_required(void **state)
{
	static const char snap[] = "{\"pid\":100,\"comm\":\"sh\",\"exe\":\"/bin/sh\","
		"\"sha256\":\"" "aa" "\",\"cmdline\":[\"sh\"],\"ppid\":99}";
	static const struct { int kind; const char *type, *target, *body, *desc; } cases[] = {
		{ IRC_REC_EVENT, "exec", "pid:100", exec_body, "Event Recorded" },
		{ IRC_REC_EVENT, "finding", "host:10.77.1.2", finding_body, "Event Recorded" },
		{ IRC_REC_EVENT, "gap", "", "{}", "Event Recorded" },
		{ IRC_REC_ACTION, "quarantine", "host:10.77.1.2", act_ok, "Action Taken" },
		{ IRC_REC_ACTION, "incident.open", "", "{\"title\":\"T\",\"severity\":\"high\"}",
		  "Action Taken" },
		{ IRC_REC_EVIDENCE, "packet", "host:10.77.1.2", pkt_body, "Packet Captured" },
		{ IRC_REC_EVIDENCE, "snapshot", "pid:100", snap, "Evidence Collected" },
	};
	struct irc_row r;
	struct irc_xrow x;
	json_t *o;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		r = mkrow(cases[i].kind, cases[i].type, "alice", cases[i].target, "",
			  cases[i].body);
		x = (struct irc_xrow){ .r = &r, .incident = 7,
				       .body = json_loads(cases[i].body, 0, NULL) };
		o = irc_x_ecs(&x, &host);
		assert_non_null(o);
		EXPECT(bad, !strcmp(irc_jstr(o, "@timestamp") ?: "", "2023-11-14T22:13:20.123Z"),
		       "%s: @timestamp '%s'", cases[i].type, irc_jstr(o, "@timestamp"));
		EXPECT(bad, !strcmp(irc_jstr(o, "datetime") ?: "", "2023-11-14T22:13:20.123Z"),
		       "%s: datetime", cases[i].type);
		EXPECT(bad, !strcmp(irc_jstr(o, "timestamp_desc") ?: "", cases[i].desc),
		       "%s: timestamp_desc '%s'", cases[i].type, irc_jstr(o, "timestamp_desc"));
		EXPECT(bad, irc_jstr(o, "message") && *irc_jstr(o, "message"), "%s: message",
		       cases[i].type);
		EXPECT(bad, irc_jstr(o, "event.kind"), "%s: event.kind", cases[i].type);
		EXPECT(bad, irc_jstr(o, "host.hostname"), "%s: host.hostname", cases[i].type);
		EXPECT(bad, irc_jint(o, "ircontain.seq", 0) == 42, "%s: ircontain.seq", cases[i].type);
		EXPECT(bad, irc_jint(o, "ircontain.incident", 0) == 7, "%s: ircontain.incident",
		       cases[i].type);
		if (cases[i].kind == IRC_REC_ACTION)
			EXPECT(bad, !strcmp(irc_jstr(o, "user.name") ?: "", "alice"), "%s: user.name",
			       cases[i].type);
		if (!strcmp(cases[i].type, "packet"))
			EXPECT(bad, !json_object_get(o, "linktype") &&
			       irc_jint(o, "ircontain.sample.length", 0) == 98,
			       "packet: linktype/pkt_len not moved under ircontain.sample");
		if (!strcmp(cases[i].type, "snapshot"))
			EXPECT(bad, !strcmp(irc_jstr(o, "process.executable") ?: "", "/bin/sh") &&
			       irc_jint(o, "process.pid", 0) == 100, "snapshot: process.*");
		json_decref(o);
		json_decref(x.body);
	}
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------ HTML -- */

static void test_html_escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain text", "plain text" },
		{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
		{ "a & b \"c\"", "a &amp; b &quot;c&quot;" },
		{ "&amp;", "&amp;amp;" },
		{ "bell\x07 esc\x1b[31m del\x7f", "bell\\x07 esc\\x1b[31m del\\x7f" },
		{ "line\nnext\ttab", "line\nnext\ttab" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },	/* café € */
		{ "bad \xff\xfe utf8", "bad \\xff\\xfe utf8" },
		{ "cut \xc3", "cut \\xc3" },					/* half a character */
		{ "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
		{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
		{ "", "" },
	};
	char *s;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		s = irc_html_escape(cases[i].in);
		assert_non_null(s);
		EXPECT(bad, !strcmp(s, cases[i].out), "escape '%s': got '%s', expected '%s'",
		       cases[i].in, s, cases[i].out);
		free(s);
	}
	s = irc_html_escape(NULL);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(bad, 0);
}

/* The report escapes what records say and links nothing outside itself. */
static void test_report_self_contained(void **state)
{
	struct irc_xreport_info info = { .store_ok = true, .store_records = 3, .store_head = 3 };
	static const char evil[] = "{\"message\":\"<img src=http://evil/x onerror=alert(1)>\"}";
	struct irc_xreport *rp;
	struct irc_row r1, r2;
	struct irc_xrow x1, x2;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	info.in.id = 7;
	info.in.severity = IRC_SEV_HIGH;
	snprintf(info.in.title, sizeof(info.in.title), "<b>Scan</b> & co");
	snprintf(info.key_hex, sizeof(info.key_hex), "%064d", 0);
	info.host = host;
	rp = irc_xreport_new(&info);
	assert_non_null(rp);
	r1 = mkrow(IRC_REC_EVENT, "exec", "", "pid:1", "", evil);
	x1 = (struct irc_xrow){ .r = &r1, .incident = 7, .body = json_loads(evil, 0, NULL) };
	r2 = mkrow(IRC_REC_EVIDENCE, "packet", "", "host:10.77.1.2", "", pkt_body);
	x2 = (struct irc_xrow){ .r = &r2, .incident = 7, .body = json_loads(pkt_body, 0, NULL) };
	assert_int_equal(irc_xreport_add(rp, &x1), 0);
	assert_int_equal(irc_xreport_add(rp, &x2), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(irc_xreport_write(rp, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "&lt;b&gt;Scan&lt;/b&gt; &amp; co"));
	assert_non_null(strstr(buf, "&lt;img src=http://evil/x onerror=alert(1)&gt;"));
	assert_null(strstr(buf, "<img"));
	assert_null(strstr(buf, "<script"));
	assert_null(strstr(buf, "src=\""));
	assert_null(strstr(buf, "href="));
	assert_non_null(strstr(buf, "<svg"));		/* the drops chart */
	assert_non_null(strstr(buf, "<rect"));
	assert_non_null(strstr(buf, "verified at export time"));
	free(buf);
	json_decref(x1.body);
	json_decref(x2.body);
	irc_xreport_free(rp);
}

/* ------------------------------------------------------------ pcap -- */

static void test_pcap_raw_ip(void **state)
{
	/* IPv4/UDP 10.77.1.2:5353 -> 10.77.1.1:53, 28 bytes of a 60-byte packet. */
	static const uint8_t v4[28] = {
		0x45, 0, 0, 60, 0, 1, 0, 0, 64, 17, 0, 0, 10, 77, 1, 2, 10, 77, 1, 1,
		0x14, 0xe9, 0, 53, 0, 40, 0, 0,
	};
	static const uint8_t v6[40] = { 0x60, 0, 0, 0, 0, 0, 58, 64 };
	static const uint8_t eth[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00, 0x45 };
	struct { const uint8_t *d; size_t n; int lt; uint32_t len; uint16_t et; size_t hdr; } pk[] = {
		{ v4, sizeof(v4), IRC_LINK_RAW, 60, 0x0800, 14 },
		{ v6, sizeof(v6), IRC_LINK_RAW, 40, 0x86dd, 14 },
		{ eth, sizeof(eth), IRC_LINK_ETHERNET, 80, 0x0800, 0 },
	};
	char path[] = "/tmp/irc-test-pcap.XXXXXX", err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_dumper_t *d;
	pcap_t *dead, *p;
	FILE *f;
	size_t i;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w+");
	assert_non_null(f);
	d = irc_xpcap_open(f, &dead);
	assert_non_null(d);
	for (i = 0; i < ARRAY_LEN(pk); i++) {
		struct irc_xpkt x = { .data = pk[i].d, .len = pk[i].n, .linktype = pk[i].lt,
				      .pkt_len = pk[i].len };

		assert_int_equal(irc_xpcap_add(d, TS + (int64_t)i * 1000000000LL, &x), 0);
	}
	/* An unknown link type is refused, not written as garbage. */
	{
		struct irc_xpkt x = { .data = v4, .len = sizeof(v4), .linktype = 228, .pkt_len = 60 };

		assert_int_equal(irc_xpcap_add(d, TS, &x), -EINVAL);
	}
	pcap_dump_close(d);
	pcap_close(dead);

	p = pcap_open_offline(path, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	for (i = 0; i < ARRAY_LEN(pk); i++) {
		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		assert_int_equal(h->caplen, pk[i].n + pk[i].hdr);
		assert_int_equal(h->len, pk[i].len + pk[i].hdr);
		assert_int_equal(h->ts.tv_sec, TS / 1000000000LL + (int64_t)i);
		assert_int_equal(h->ts.tv_usec, TS % 1000000000LL / 1000);
		assert_int_equal(data[12] << 8 | data[13], pk[i].et);
		assert_memory_equal(data + pk[i].hdr, pk[i].d, pk[i].n);
	}
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	unlink(path);
}

/* A packet row: bytes from the row's data, or from the body's base64. */
static void test_packet_of_row(void **state)
{
	static const char b64_body[] = "{\"ircontain\":{\"sample\":{\"base64\":\"RQAAHA==\","
		"\"linktype\":101,\"length\":28}}}";
	static const uint8_t bytes[4] = { 0x45, 0, 0, 0x1c };
	uint8_t scratch[64];
	struct irc_row r;
	struct irc_xrow x;
	struct irc_xpkt p;

	(void)state;
	r = mkrow(IRC_REC_EVIDENCE, "packet", "", "host:1.2.3.4", "", pkt_body);
	r.data = bytes;
	r.data_len = sizeof(bytes);
	x = (struct irc_xrow){ .r = &r, .body = json_loads(pkt_body, 0, NULL) };
	assert_int_equal(irc_x_packet(&x, scratch, sizeof(scratch), &p), 0);
	assert_int_equal(p.linktype, 1);
	assert_int_equal(p.pkt_len, 98);
	assert_int_equal(p.len, 4);
	json_decref(x.body);

	r = mkrow(IRC_REC_EVIDENCE, "packet", "", "host:1.2.3.4", "", b64_body);
	x = (struct irc_xrow){ .r = &r, .body = json_loads(b64_body, 0, NULL) };
	assert_int_equal(irc_x_packet(&x, scratch, sizeof(scratch), &p), 0);
	assert_int_equal(p.linktype, 101);
	assert_int_equal(p.len, 4);
	assert_int_equal(p.pkt_len, 28);
	assert_memory_equal(p.data, bytes, 4);
	json_decref(x.body);

	r = mkrow(IRC_REC_EVIDENCE, "packet", "", "host:1.2.3.4", "", "{}");
	x = (struct irc_xrow){ .r = &r, .body = json_object() };
	assert_int_equal(irc_x_packet(&x, scratch, sizeof(scratch), &p), -ENOENT);
	json_decref(x.body);
}

/* -------------------------------------------------------- manifest -- */

static void member(struct irc_bmember *m, const char *path, const char *content)
{
	m->path = (char *)path;
	m->size = strlen(content);
	crypto_hash_sha256(m->sha256, (const uint8_t *)content, m->size);
}

/* @want: a problem containing it, or NULL for none at all. */
static void expect_problems(const json_t *man, const struct irc_bmember *m, size_t n,
			    const char *want, const char *want2)
{
	struct irc_bproblems p = { 0 };
	bool found = !want, found2 = !want2;
	size_t i;

	irc_bundle_check_files(man, m, n, &p);
	for (i = 0; i < p.n; i++) {
		found |= want && strstr(p.v[i], want);
		found2 |= want2 && strstr(p.v[i], want2);
		if (!want)
			print_error("unexpected problem: %s\n", p.v[i]);
	}
	if (!found || !found2)
		print_error("no problem naming '%s'/'%s' (%zu problems)\n", want, want2 ?: "", p.n);
	assert_true(found && found2);
	if (!want)
		assert_int_equal(p.n, 0);
	irc_bproblems_free(&p);
}

static void test_manifest_check(void **state)
{
	struct irc_bmember m[5], t[6];
	json_t *man;

	(void)state;
	member(&m[0], "events.jsonl", "{\"a\":1}\n{\"b\":2}\n");
	member(&m[1], "ocsf.jsonl", "{}\n");
	member(&m[2], "artifacts/snapshot-1-2.json", "{\"pid\":1}");
	member(&m[3], "report.html", "<html></html>");
	man = json_pack("{s:o}", "files", irc_manifest_files(m, 4));
	assert_non_null(man);
	assert_int_equal(json_array_size(json_object_get(man, "files")), 4);
	assert_string_equal(irc_jstr(json_array_get(json_object_get(man, "files"), 0), "sha256"),
			    "3881dc2ee848fe04d776737c86afbc783e482e7c5be6431d3aab36fa8fa2c928");
	assert_int_equal(irc_jint(json_array_get(json_object_get(man, "files"), 0), "size", 0), 16);
	/* The manifest itself and its signature are not listed, and not extra. */
	member(&m[4], "manifest.json", "{}");
	expect_problems(man, m, 5, NULL, NULL);

	/* A byte changed in one file: named, the others fine. */
	memcpy(t, m, sizeof(m));
	member(&t[1], "ocsf.jsonl", "{]\n");
	expect_problems(man, t, 5, "ocsf.jsonl: SHA-256 differs", NULL);
	/* A line deleted: size and hash. */
	memcpy(t, m, sizeof(m));
	member(&t[0], "events.jsonl", "{\"a\":1}\n");
	expect_problems(man, t, 5, "events.jsonl: 8 bytes, the manifest says 16",
			"events.jsonl: SHA-256 differs");
	/* Lines swapped: same size, other hash. */
	memcpy(t, m, sizeof(m));
	member(&t[0], "events.jsonl", "{\"b\":2}\n{\"a\":1}\n");
	expect_problems(man, t, 5, "events.jsonl: SHA-256 differs", NULL);
	/* A file missing, a file added. */
	memcpy(t, m, sizeof(m));
	t[2] = t[4];
	expect_problems(man, t, 4, "artifacts/snapshot-1-2.json: missing", NULL);
	memcpy(t, m, sizeof(m));
	member(&t[5], "artifacts/extra.txt", "x");
	expect_problems(man, t, 6, "artifacts/extra.txt: extra file", NULL);
	json_decref(man);

	/* A manifest that lists what it may not. */
	man = json_pack("{s:[{s:s,s:i,s:s}]}", "files", "path", "../etc/passwd", "size", 1,
			"sha256", "00000000000000000000000000000000000000000000000000000000000000aa");
	expect_problems(man, m, 4, "may not name", NULL);
	json_decref(man);
	man = json_pack("{s:[{s:s,s:i,s:s}]}", "files", "path", "events.jsonl", "size", 1,
			"sha256", "xyz");
	expect_problems(man, m, 1, "malformed", NULL);
	json_decref(man);
	man = json_object();
	expect_problems(man, m, 1, "no list of files", NULL);
	json_decref(man);
}

static void test_bundle_paths(void **state)
{
	static const struct { const char *p; bool ok; } cases[] = {
		{ "events.jsonl", true }, { "artifacts/snapshot-1-2.json", true },
		{ "a/b/c", true }, { "", false }, { "/etc/passwd", false }, { "../x", false },
		{ "a/../b", false }, { "a/..", false }, { "./a", false }, { "a//b", false },
		{ "a/", false }, { "a\\b", false }, { "a\nb", false }, { "..a", true },
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++)
		EXPECT(bad, irc_bundle_path_ok(cases[i].p) == cases[i].ok, "path '%s': expected %s",
		       cases[i].p, cases[i].ok ? "ok" : "refused");
	assert_int_equal(bad, 0);
}

static void test_signature(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	static const char msg[] = "{\"files\":[]}\n";
	char hex[129], bad[130];

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(irc_bundle_sign(msg, strlen(msg), sk, hex), 0);
	assert_int_equal(strlen(hex), 128);
	assert_true(irc_bundle_sig_ok(msg, strlen(msg), hex, strlen(hex), pk));
	snprintf(bad, sizeof(bad), "%s\n", hex);
	assert_true(irc_bundle_sig_ok(msg, strlen(msg), bad, strlen(bad), pk));
	/* Another key, another message, a changed signature, a short one. */
	assert_false(irc_bundle_sig_ok(msg, strlen(msg), hex, strlen(hex), pk2));
	assert_false(irc_bundle_sig_ok("{\"files\":[1]}\n", 14, hex, strlen(hex), pk));
	memcpy(bad, hex, sizeof(hex));
	bad[10] = bad[10] == '0' ? '1' : '0';
	assert_false(irc_bundle_sig_ok(msg, strlen(msg), bad, strlen(bad), pk));
	assert_false(irc_bundle_sig_ok(msg, strlen(msg), hex, 100, pk));
	assert_int_equal(irc_unhex32("zz", pk2), -EINVAL);
}

/* ------------------------------------------------- a whole export -- */

static void append(struct irc_store *s, int kind, int64_t incident, int64_t ts,
		   const char *type, const char *target, const char *peer, const char *body,
		   const void *data, size_t len)
{
	struct irc_rec r = { .kind = kind, .incident = incident, .ts_ns = ts, .type = type,
		.actor = "tester", .target = target, .peer = peer,
		.body = json_loads(body, 0, NULL), .data = data, .data_len = len };

	assert_non_null(r.body);
	assert_int_equal(irc_store_append(s, &r, NULL), 0);
	json_decref(r.body);
}

/* Files in @dir whose names start with @prefix. */
static int count_temps(const char *dir, const char *prefix)
{
	struct dirent *d;
	DIR *dh = opendir(dir);
	int n = 0;

	assert_non_null(dh);
	while ((d = readdir(dh)))
		n += !strncmp(d->d_name, prefix, strlen(prefix));
	closedir(dh);
	return n;
}

/* The member names of a tar.gz, one per line. */
static void list_members(const char *path, char *out, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	out[0] = '\0';
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		snprintf(out + strlen(out), len - strlen(out), "%s\n", archive_entry_pathname(e));
		archive_read_data_skip(a);
	}
	archive_read_free(a);
}

static void test_export_bundle(void **state)
{
	static const uint8_t ip[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0,
					10, 77, 1, 2, 10, 77, 1, 1 };
	char dir[] = "/tmp/irc-test-export.XXXXXX", out[256], err[512], *keyhex;
	struct irc_export_stats st;
	struct irc_bverify v;
	struct irc_store *s;
	uint8_t pk[32], sk[64], other[32];
	struct stat sb;
	int64_t id, now;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	irc.state_dir = dir;
	assert_int_equal(irc_store_open(&s, dir, true), 0);
	assert_int_equal(irc_incident_open(s, "Scan from 10.77.1.2", IRC_SEV_HIGH, "tester",
					   "host:10.77.1.2", &id), 0);
	now = (int64_t)irc_now_real_ns();
	append(s, IRC_REC_ACTION, id, 0, "quarantine", "host:10.77.1.2", "", act_ok, NULL, 0);
	append(s, IRC_REC_ACTION, id, 0, "quarantine", "pid:100", "", act_ok, NULL, 0);
	for (i = 0; i < 5; i++)		/* samples the daemon attributed to no incident */
		append(s, IRC_REC_EVIDENCE, 0, now + i, "packet", "host:10.77.1.2", "host:10.77.1.2",
		       "{\"linktype\":101,\"pkt_len\":28}", ip, sizeof(ip));
	/* pid 100 forks 101, which forks 102: both become the incident's. */
	append(s, IRC_REC_EVENT, 0, 0, "fork", "pid:100", "pid:101", fork_body, NULL, 0);
	append(s, IRC_REC_EVENT, 0, 0, "fork", "pid:101", "pid:102",
	       "{\"event\":{\"action\":\"fork\"},\"process\":{\"pid\":102,\"parent\":{\"pid\":101}}}",
	       NULL, 0);
	append(s, IRC_REC_EVENT, 0, 0, "exec", "pid:102", "", exec_body, NULL, 0);
	append(s, IRC_REC_EVIDENCE, id, 0, "snapshot", "pid:100", "pid:99",
	       "{\"pid\":100,\"comm\":\"sh\",\"exe\":\"/bin/sh\"}", NULL, 0);
	append(s, IRC_REC_EVIDENCE, id, 0, "file", "pid:100", "",
	       "{\"filename\":\"../../etc/evil name.txt\"}", "hello", 5);
	/* Not the incident's: another host, another process, long before. */
	append(s, IRC_REC_EVENT, 0, 0, "exec", "pid:555", "", exec_body, NULL, 0);
	append(s, IRC_REC_EVIDENCE, 0, 0, "packet", "host:10.77.9.9", "",
	       "{\"linktype\":101,\"pkt_len\":28}", ip, sizeof(ip));
	append(s, IRC_REC_EVENT, 0, now - 3600000000000LL, "exec", "pid:100", "", exec_body,
	       NULL, 0);

	snprintf(out, sizeof(out), "%s/bundle.tar.gz", dir);
	assert_int_equal(irc_export(s, id, out, false, &st, err, sizeof(err)), 0);
	print_message("export: %llu actions, %llu events, %llu evidence, %llu packets, %llu artifacts, %zu files, store %s %s\n",
		      (unsigned long long)st.actions, (unsigned long long)st.events,
		      (unsigned long long)st.evidence, (unsigned long long)st.packets,
		      (unsigned long long)st.artifacts, st.files, st.store_ok ? "ok" : "BROKEN",
		      st.store_problem);
	assert_true(st.store_ok);
	assert_int_equal(st.packets, 5);
	assert_int_equal(st.artifacts, 2);
	assert_int_equal(st.actions, 3);		/* incident.open and two quarantines */
	assert_int_equal(st.events, 3);			/* two forks, the grandchild's exec */
	assert_int_equal(st.evidence, 7);
	assert_int_equal(st.files, 8);			/* 4 + 2 artifacts + manifest + sig */
	assert_true(st.bytes > 0);
	assert_int_equal(access(out, F_OK), 0);
	assert_int_equal(count_temps(dir, "bundle.tar.gz."), 0);	/* moved into place */
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	{
		char names[2048];

		list_members(out, names, sizeof(names));
		/* One top directory; a record's file name made safe, no way out. */
		assert_non_null(strstr(names, "ircontain-incident-1/events.jsonl\n"));
		assert_non_null(strstr(names, "ircontain-incident-1/artifacts/evil_name.txt\n"));
		assert_non_null(strstr(names, "ircontain-incident-1/artifacts/snapshot-100-"));
		assert_null(strstr(names, ".."));
	}
	assert_int_equal(irc_store_sign_keys(dir, true, pk, sk), 0);
	assert_int_equal(irc_bundle_verify(out, pk, "test", &v), 0);
	for (i = 0; i < (int)v.problems.n; i++)
		print_error("problem: %s\n", v.problems.v[i]);
	assert_int_equal(v.problems.n, 0);
	assert_int_equal(v.files, 8);
	keyhex = v.key_hex;
	assert_int_equal(strlen(keyhex), 64);
	assert_int_equal(irc_jint(v.manifest, "records.packets", 0), 5);
	assert_true(json_is_true(irc_jpath(v.manifest, "store.verified")));
	assert_string_equal(irc_jstr(v.manifest, "incident.title"), "Scan from 10.77.1.2");
	irc_bverify_free(&v);

	/* Another expected key: the signature does not hold for it. */
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(irc_bundle_verify(out, other, "--pubkey", &v), 0);
	assert_true(v.problems.n >= 1);
	assert_non_null(strstr(v.problems.v[0], "signed by another key"));
	assert_false(v.trusted);
	irc_bverify_free(&v);

	/* No key to trust: intact, never trusted. */
	assert_int_equal(irc_bundle_verify(out, NULL, NULL, &v), 0);
	assert_int_equal(v.problems.n, 0);
	assert_true(v.sig_ok);
	assert_false(v.trusted);
	irc_bverify_free(&v);
	assert_int_equal(irc_bundle_verify(out, pk, "test", &v), 0);
	assert_true(v.sig_ok && v.trusted);
	irc_bverify_free(&v);

	/* Not over an existing file without force, and nothing left behind. */
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(irc_export(s, id, out, false, &st, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(count_temps(dir, "bundle.tar.gz."), 0);
	{
		struct stat sb2;

		assert_int_equal(stat(out, &sb2), 0);
		assert_int_equal(sb2.st_ino, sb.st_ino);	/* the same file, untouched */
		assert_int_equal(sb2.st_mtime, sb.st_mtime);
	}
	/* A name another user could have made ready is not ours: left alone. */
	tu_put_file(dir, "b2.tar.gz.tmp", "planted", 7);
	snprintf(out, sizeof(out), "%s/b2.tar.gz", dir);
	assert_int_equal(irc_export(s, id, out, false, &st, err, sizeof(err)), 0);
	{
		char buf[16] = "";
		FILE *f;

		snprintf(err, sizeof(err), "%s/b2.tar.gz.tmp", dir);
		f = fopen(err, "r");

		assert_non_null(f);
		assert_int_equal(fread(buf, 1, sizeof(buf), f), 7);
		fclose(f);
		assert_string_equal(buf, "planted");
	}
	/* With force: replaced. */
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(irc_export(s, id, out, true, &st, err, sizeof(err)), 0);
	{
		struct stat sb2;

		assert_int_equal(stat(out, &sb2), 0);
		assert_int_not_equal(sb2.st_ino, sb.st_ino);
	}
	assert_int_equal(count_temps(dir, "b2.tar.gz."), 1);	/* the planted .tmp only */

	irc_store_close(s);
	tu_rm_tree(dir);
}

/* ------------------------------------------------- hostile bundles -- */

#define TOP	"ircontain-incident-1/"

/* Time since @t0, in seconds. */
static double secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A tar (compressed by @filter) writer on @path. */
static struct archive *tar_open(const char *path, int filter)
{
	struct archive *a = archive_write_new();

	assert_non_null(a);
	assert_true(archive_write_add_filter(a, filter) >= ARCHIVE_WARN);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	return a;
}

static void tar_add(struct archive *a, const char *name, const void *data, size_t len,
		    unsigned type)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, 0644);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, "x");
	else
		archive_entry_set_size(e, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (len)
		assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

static void tar_close(struct archive *a)
{
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* A signed manifest listing @nfiles files and its signature, into @a. */
static void tar_manifest(struct archive *a, size_t nfiles, const uint8_t sk[64],
			 const uint8_t pk[32])
{
	json_t *m, *files = json_array();
	char name[64], key[65], sig[130], *text;
	size_t i;

	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "artifacts/f-%zu", i);
		json_array_append_new(files, json_pack("{s:s,s:i,s:s}", "path", name, "size", 0,
			"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	}
	irc_hex(pk, 32, key);
	m = json_pack("{s:{s:i},s:o,s:{s:s,s:s}}", "incident", "id", 1, "files", files,
		      "signer", "algorithm", "ed25519", "public_key", key);
	text = json_dumps(m, 0);
	assert_non_null(text);
	assert_int_equal(irc_bundle_sign(text, strlen(text), sk, sig), 0);
	tar_add(a, TOP IRC_BUNDLE_MANIFEST, text, strlen(text), AE_IFREG);
	tar_add(a, TOP IRC_BUNDLE_SIG, sig, strlen(sig), AE_IFREG);
	free(text);
	json_decref(m);
}

/* Verifies @path under @pk: some problem contains @want, within @max_s. */
static void expect_refused(const char *path, const uint8_t pk[32], const char *want,
			   double max_s)
{
	struct irc_bverify v;
	struct timespec t0;
	bool found = false;
	double took;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(irc_bundle_verify(path, pk, "test", &v), 0);
	took = secs_since(&t0);
	for (i = 0; i < v.problems.n; i++)
		found |= strstr(v.problems.v[i], want) != NULL;
	if (!found)
		for (i = 0; i < v.problems.n && i < 5; i++)
			print_error("problem: %s\n", v.problems.v[i]);
	if (!found || took > max_s)
		print_error("%s: want '%s' within %.1f s: %s, %.2f s\n", path, want, max_s,
			    found ? "found" : "not found", took);
	assert_true(found);
	assert_true(took <= max_s);
	irc_bverify_free(&v);
}

/* A ustar header (checksum filled in) for @name of declared @size. */
static void ustar_header(uint8_t h[512], const char *name, unsigned long long size)
{
	unsigned sum = 0;
	size_t i;

	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static void test_hostile_bundles(void **state)
{
	char dir[] = "/tmp/irc-test-hostile.XXXXXX", path[256], name[64];
	uint8_t pk[32], sk[64], hdr[512];
	struct archive *a;
	size_t i;

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	assert_non_null(mkdtemp(dir));

	/* A signed manifest of 5000 files: refused at once, not checked pair by pair. */
	snprintf(path, sizeof(path), "%s/list.tar.gz", dir);
	a = tar_open(path, ARCHIVE_FILTER_GZIP);
	tar_manifest(a, 5000, sk, pk);
	tar_close(a);
	expect_refused(path, pk, "lists 5000 files, more than 4096: refused", 2.0);

	/*
	 * 5000 members, 3000 of them links that are refused anyway: every one
	 * counts, and why reading stopped is said past the bound on problems.
	 */
	snprintf(path, sizeof(path), "%s/members.tar.gz", dir);
	a = tar_open(path, ARCHIVE_FILTER_GZIP);
	tar_manifest(a, 0, sk, pk);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), TOP "artifacts/l-%zu", i);
		tar_add(a, name, NULL, 0, i < 3000 ? AE_IFLNK : AE_IFREG);
	}
	tar_close(a);
	expect_refused(path, pk, "more than 4096 members: refused", 2.0);

	/* The same name twice, among many: found by sorting. */
	snprintf(path, sizeof(path), "%s/twice.tar.gz", dir);
	a = tar_open(path, ARCHIVE_FILTER_GZIP);
	tar_manifest(a, 0, sk, pk);
	for (i = 0; i < 4000; i++) {
		snprintf(name, sizeof(name), TOP "artifacts/f-%zu", i % 3999);
		tar_add(a, name, "x", 1, AE_IFREG);
	}
	tar_close(a);
	expect_refused(path, pk, "artifacts/f-0: the archive holds it twice", 2.0);

	/*
	 * A 60 MiB manifest (one JSON string, compressing to little): refused
	 * past IRC_BUNDLE_MAX_MANIFEST as it is read, in linear time (it was
	 * once read by a copy per chunk, and verified in seconds).
	 */
	{
		size_t big = 60u << 20;
		char *m = malloc(big);

		assert_non_null(m);
		memset(m, 'a', big);
		m[0] = '"';
		m[big - 1] = '"';
		snprintf(path, sizeof(path), "%s/bigman.tar.gz", dir);
		a = tar_open(path, ARCHIVE_FILTER_GZIP);
		tar_add(a, TOP IRC_BUNDLE_MANIFEST, m, big, AE_IFREG);
		tar_close(a);
		free(m);
		expect_refused(path, pk, IRC_BUNDLE_MANIFEST ": too large: refused", 5.0);
	}

	/* Other compressions are not read, whatever libarchive could do. */
	snprintf(path, sizeof(path), "%s/b.tar.bz2", dir);
	a = tar_open(path, ARCHIVE_FILTER_BZIP2);
	tar_manifest(a, 0, sk, pk);
	tar_close(a);
	expect_refused(path, pk, "not a tar.gz: compression bzip2", 2.0);
	snprintf(path, sizeof(path), "%s/b.tar.xz", dir);
	a = tar_open(path, ARCHIVE_FILTER_XZ);
	tar_manifest(a, 0, sk, pk);
	tar_close(a);
	expect_refused(path, pk, "not a tar.gz: compression xz", 2.0);
	snprintf(path, sizeof(path), "%s/b.tar", dir);
	a = tar_open(path, ARCHIVE_FILTER_NONE);
	tar_manifest(a, 0, sk, pk);
	tar_close(a);
	expect_refused(path, pk, "not a tar.gz: compression none", 2.0);

	/* gzip inside gzip: one layer only. */
	snprintf(path, sizeof(path), "%s/gz2.tar.gz", dir);
	a = archive_write_new();
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	tar_manifest(a, 0, sk, pk);
	tar_close(a);
	expect_refused(path, pk, "2 layers of compression", 2.0);

	/*
	 * A header declaring more than the total bundles may hold: refused
	 * before a byte of it is decompressed (or skipped, which costs the same).
	 */
	snprintf(path, sizeof(path), "%s/huge.tar.gz", dir);
	a = archive_write_new();
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	ustar_header(hdr, TOP "events.jsonl", IRC_BUNDLE_MAX_TOTAL + 1);
	{
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, "raw");
		archive_entry_set_filetype(e, AE_IFREG);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_data(a, hdr, sizeof(hdr)), (la_ssize_t)sizeof(hdr));
	tar_close(a);
	expect_refused(path, pk, "uncompressed: refused", 2.0);

	tu_rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ocsf_classes),
		cmocka_unit_test(test_ocsf_unmapped),
		cmocka_unit_test(test_ecs_required),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_report_self_contained),
		cmocka_unit_test(test_pcap_raw_ip),
		cmocka_unit_test(test_packet_of_row),
		cmocka_unit_test(test_manifest_check),
		cmocka_unit_test(test_bundle_paths),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_export_bundle),
		cmocka_unit_test(test_hostile_bundles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
