// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus metrics for the controller.  See metrics.h.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/types.h>

#include <microhttpd.h>

#include "irc.h"
#include "metrics.h"
#include "parse.h"
#include "pins.h"
#include "entries.h"
#include "ifdrops.h"
#include "policy.h"
#include "store.h"

#define MAX_CONNECTIONS	8
#define CONN_TIMEOUT_S	5

/* ---- libmicrohttpd, loaded on first use ------------------------------------ */

static struct {
	void *h;
	struct MHD_Daemon *(*start)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
	void (*stop)(struct MHD_Daemon *d);
	struct MHD_Response *(*from_buffer)(size_t size, void *buf, enum MHD_ResponseMemoryMode mode);
	enum MHD_Result (*add_header)(struct MHD_Response *r, const char *h, const char *v);
	enum MHD_Result (*queue)(struct MHD_Connection *c, unsigned int code, struct MHD_Response *r);
	void (*destroy)(struct MHD_Response *r);
} mhd;

#define MHD_SYM(f, name)	(*(void **)&mhd.f = dlsym(mhd.h, name))

static int mhd_load(void)
{
	if (mhd.h)
		return 0;
	mhd.h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!mhd.h || !MHD_SYM(start, "MHD_start_daemon") || !MHD_SYM(stop, "MHD_stop_daemon") ||
	    !MHD_SYM(from_buffer, "MHD_create_response_from_buffer") ||
	    !MHD_SYM(add_header, "MHD_add_response_header") ||
	    !MHD_SYM(queue, "MHD_queue_response") || !MHD_SYM(destroy, "MHD_destroy_response")) {
		irc_err("run: load libmicrohttpd.so.12 for --metrics: %s", dlerror());
		mhd.h = NULL;
		return -ENOENT;
	}
	return 0;
}

struct irc_metrics {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	struct irc_metrics_snap snap;	/* under mu */
	uint64_t scrapes;
};

/* ---- the address ---------------------------------------------------------- */

int irc_metrics_parse_addr(const char *s, void *sa, unsigned int *len, const char **why)
{
	struct sockaddr_in *v4 = sa;
	struct sockaddr_in6 *v6 = sa;
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	uint64_t port;

	*why = "ADDR:PORT, such as 127.0.0.1:9464 or [::1]:9464";
	colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -EINVAL;
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (irc_parse_u64(colon + 1, 1, 65535, &port, NULL)) {
		*why = "the port must be 1 to 65535";
		return -EINVAL;
	}
	memset(sa, 0, sizeof(struct sockaddr_in6));
	if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	*why = "not an IPv4 address or a bracketed IPv6 address";
	return -EINVAL;
}

/* ---- rendering ------------------------------------------------------------- */

struct out {
	char *p;
	size_t n, cap;
	bool oom;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->n) {
			o->n += (size_t)n;
			return;
		}
		char *q = realloc(o->p, o->cap * 2 + (size_t)n);

		if (!q) {
			o->oom = true;
			return;
		}
		o->p = q;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Drops per interface, direction and rule.  An interface gone keeps its
 * series under the name it was attached with ("" if none is known).
 */
static void interface_metrics(struct out *o, const struct irc_maps *m)
{
	static const char *const dirs[2] = { "rx", "tx" };
	struct irc_ifdrop_sum *v;
	size_t n, i;
	int d, k;

	if (irc_ifdrops_read(m, &v, &n))
		return;
	head(o, "ircontain_interface_drops_total", "counter",
	     "packets dropped per interface (ifindex 0: interfaces that share a slot), direction and rule");
	for (i = 0; i < n; i++) {
		char name[2 * IRC_IFNAME_LEN], *p = name;
		const char *c;

		/* A name may hold '"' or '\\': escaped as the text format wants. */
		for (c = v[i].name; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p = '\0';
		for (d = 0; d < 2; d++)
			for (k = 0; k < IRC_IFDROP_RULES; k++)
				put(o, "ircontain_interface_drops_total{interface=\"%s\",ifindex=\"%u\","
				    "direction=\"%s\",rule=\"%s\"} %" PRIu64 "\n", name, v[i].ifindex,
				    dirs[d], irc_ifdrop_rule_name((unsigned int)k), (uint64_t)v[i].drops[d][k]);
	}
	free(v);
}

/* What the kernel counts, read at each scrape. */
static void kernel_metrics(struct out *o)
{
	static const struct { int map; const char *table; } tables[] = {
		{ IRC_M_Q4_HOST, "irc_q4_host" }, { IRC_M_Q6_HOST, "irc_q6_host" },
		{ IRC_M_Q4_PFX, "irc_q4_pfx" }, { IRC_M_Q6_PFX, "irc_q6_pfx" },
		{ IRC_M_ALLOW4, "irc_allow4" }, { IRC_M_ALLOW6, "irc_allow6" },
		{ IRC_M_QPID, "irc_qpid" }, { IRC_M_QCGRP, "irc_qcgrp" },
	};
	struct irc_evstat_sum ev;
	struct irc_maps m;
	struct irc_stats *per;
	uint64_t sum[IRC_STAT__MAX] = {};
	int ncpu, err, c;
	size_t i;

	if (irc_maps_open("metrics", &m)) {
		head(o, "ircontain_loaded", "gauge", "1 when the pinned maps can be opened");
		put(o, "ircontain_loaded 0\n");
		return;
	}
	head(o, "ircontain_loaded", "gauge", "1 when the pinned maps can be opened");
	put(o, "ircontain_loaded 1\n");
	per = irc_percpu_read(m.fd[IRC_M_STATS], sizeof(*per), &ncpu, &err);
	for (c = 0; per && c < ncpu; c++)
		for (i = 0; i < IRC_STAT__MAX; i++)
			sum[i] += per[c].cnt[i];
	free(per);
	head(o, "ircontain_packets_total", "counter",
	     "packets and syscalls seen by the kernel programs, by counter (drop_* are drops per rule)");
	for (i = 0; i < IRC_STAT__MAX; i++)
		put(o, "ircontain_packets_total{counter=\"%s\"} %" PRIu64 "\n", irc_stat_name((unsigned int)i),
		    sum[i]);
	interface_metrics(o, &m);
	head(o, "ircontain_entries", "gauge", "entries in each kernel table");
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		put(o, "ircontain_entries{table=\"%s\"} %ld\n", tables[i].table,
		    irc_q_entries(&m, tables[i].map));
	if (!irc_evstat_read(m.fd[IRC_M_EVSTAT], &ev)) {
		head(o, "ircontain_kernel_events_total", "counter", "event records the kernel tried to emit");
		put(o, "ircontain_kernel_events_total %" PRIu64 "\n", ev.seq);
		head(o, "ircontain_kernel_events_lost_total", "counter",
		     "event records the ring buffer had no room for");
		put(o, "ircontain_kernel_events_lost_total %" PRIu64 "\n", ev.lost);
	}
	irc_maps_close(&m);
}

static void snap_metrics(struct out *o, const struct irc_metrics_snap *s)
{
	const struct irc_run_stats *st = &s->st;
	char db[4200];
	struct stat sb;
	unsigned int d;

	head(o, "ircontain_events_read_total", "counter", "event records the controller read");
	put(o, "ircontain_events_read_total %" PRIu64 "\n", st->events);
	head(o, "ircontain_events_written_total", "counter", "JSON lines written to the events file");
	put(o, "ircontain_events_written_total %" PRIu64 "\n", st->written);
	head(o, "ircontain_events_lost_total", "counter",
	     "records lost: gaps in the kernel's sequence, and the store queue's overflow");
	put(o, "ircontain_events_lost_total{where=\"ring\"} %" PRIu64 "\n", st->missing);
	put(o, "ircontain_events_lost_total{where=\"store_queue\"} %" PRIu64 "\n", st->queue_lost);
	head(o, "ircontain_store_records_total", "counter", "records committed to the evidence store");
	put(o, "ircontain_store_records_total %" PRIu64 "\n", st->stored);
	head(o, "ircontain_store_errors_total", "counter", "records the store refused, and failed operations");
	put(o, "ircontain_store_errors_total{kind=\"records\"} %" PRIu64 "\n", st->store_errors);
	put(o, "ircontain_store_errors_total{kind=\"operations\"} %" PRIu64 "\n", st->store_failures);
	snprintf(db, sizeof(db), "%s/%s", irc.state_dir, IRC_STORE_DB);
	head(o, "ircontain_store_bytes", "gauge", "size of the evidence store's database file");
	put(o, "ircontain_store_bytes %lld\n", stat(db, &sb) ? 0LL : (long long)sb.st_size);
	head(o, "ircontain_findings_total", "counter", "findings read, per detector");
	for (d = 0; d < IRC_DET__MAX; d++)
		put(o, "ircontain_findings_total{detector=\"%s\"} %" PRIu64 "\n", irc_detector_name(d),
		    s->findings[d]);
	if (s->fleet) {
		const char *sync = json_string_value(json_object_get(s->fleet, "sync")) ?: "";
		static const char *const states[] = { "synced", "connecting", "disconnected" };
		size_t i;

		head(o, "ircontain_fleet_revision", "gauge", "the etcd revision the agent applied last");
		put(o, "ircontain_fleet_revision %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(json_object_get(s->fleet, "revision")));
		head(o, "ircontain_fleet_sync", "gauge", "1 for the agent's sync state");
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			put(o, "ircontain_fleet_sync{state=\"%s\"} %d\n", states[i], !strcmp(sync, states[i]));
		head(o, "ircontain_fleet_entries", "gauge", "fleet entries in force on this host");
		put(o, "ircontain_fleet_entries %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(json_object_get(s->fleet, "entries")));
		head(o, "ircontain_fleet_refused_total", "counter", "fleet entries refused (forged, untrusted, lockout)");
		put(o, "ircontain_fleet_refused_total %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(json_object_get(s->fleet, "refused")));
		head(o, "ircontain_fleet_trusted_keys", "gauge", "keys whose fleet entries this host applies");
		put(o, "ircontain_fleet_trusted_keys %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(json_object_get(s->fleet, "trusted_keys")));
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct irc_metrics *m = cls;
	struct irc_metrics_snap s;
	struct MHD_Response *r;
	struct out o = { .cap = 16384 };
	enum MHD_Result ret;
	unsigned int code = 200;

	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	o.p = malloc(o.cap);
	if (!o.p)
		return MHD_NO;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		code = 405;
		put(&o, "GET /metrics\n");
	} else if (strcmp(url, "/metrics")) {
		code = 404;
		put(&o, "GET /metrics\n");
	} else {
		pthread_mutex_lock(&m->mu);
		s = m->snap;
		s.fleet = json_deep_copy(m->snap.fleet);
		m->scrapes++;
		pthread_mutex_unlock(&m->mu);
		kernel_metrics(&o);
		snap_metrics(&o, &s);
		json_decref(s.fleet);
	}
	if (o.oom) {
		free(o.p);
		return MHD_NO;
	}
	r = mhd.from_buffer(o.n, o.p, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(o.p);
		return MHD_NO;
	}
	mhd.add_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = mhd.queue(c, code, r);
	mhd.destroy(r);
	return ret;
}

/* ---- start, update, stop ------------------------------------------------ */

int irc_metrics_start(struct irc_metrics **mp, const char *addr)
{
	struct sockaddr_in6 sa;
	struct irc_metrics *m;
	unsigned int len, flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	const char *why;

	*mp = NULL;
	if (irc_metrics_parse_addr(addr, &sa, &len, &why))
		return -EINVAL;		/* checked at option parsing */
	if (mhd_load())
		return -ENOENT;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	if (sa.sin6_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = mhd.start(flags, 0, NULL, NULL, on_request, m,
			 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
			 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
			 MHD_OPTION_END);
	if (!m->d) {
		int err = errno ? -errno : -EADDRINUSE;

		irc_err("run: serve metrics on %s: %s", addr, strerror(-err));
		pthread_mutex_destroy(&m->mu);
		free(m);
		return err;
	}
	fprintf(stderr, "ircontain: run: metrics on http://%s/metrics\n", addr);
	*mp = m;
	return 0;
}

void irc_metrics_update(struct irc_metrics *m, struct irc_metrics_snap *s)
{
	json_t *old;

	if (!m) {
		json_decref(s->fleet);
		return;
	}
	pthread_mutex_lock(&m->mu);
	old = m->snap.fleet;
	m->snap = *s;
	pthread_mutex_unlock(&m->mu);
	json_decref(old);
}

void irc_metrics_stop(struct irc_metrics *m)
{
	if (!m)
		return;
	mhd.stop(m->d);
	json_decref(m->snap.fleet);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
