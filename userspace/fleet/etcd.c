// SPDX-License-Identifier: GPL-2.0-only
/*
 * etcd v3 over its JSON gateway.  See etcd.h.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <sodium.h>

#include "etcd.h"

/* ---- libcurl, loaded on first use ------------------------------------ */

static struct {
	void *h;
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	const char *(*easy_strerror)(CURLcode c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} cu;
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;
static char cu_err[160];

#define CU_SYM(f, name)	(*(void **)&cu.f = dlsym(cu.h, name))

static void cu_load(void)
{
	cu.h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!cu.h) {
		snprintf(cu_err, sizeof(cu_err), "load libcurl.so.4: %s", dlerror());
		return;
	}
	if (!CU_SYM(global_init, "curl_global_init") || !CU_SYM(easy_init, "curl_easy_init") ||
	    !CU_SYM(easy_setopt, "curl_easy_setopt") || !CU_SYM(easy_perform, "curl_easy_perform") ||
	    !CU_SYM(easy_getinfo, "curl_easy_getinfo") || !CU_SYM(easy_cleanup, "curl_easy_cleanup") ||
	    !CU_SYM(easy_reset, "curl_easy_reset") || !CU_SYM(easy_strerror, "curl_easy_strerror") ||
	    !CU_SYM(slist_append, "curl_slist_append") ||
	    !CU_SYM(slist_free_all, "curl_slist_free_all")) {
		snprintf(cu_err, sizeof(cu_err), "load libcurl.so.4: %s", dlerror());
		dlclose(cu.h);
		cu.h = NULL;
		return;
	}
	if (cu.global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(cu_err, sizeof(cu_err), "libcurl failed to initialise");
		cu.h = NULL;
	}
}

/* ---- configuration ---------------------------------------------------- */

int irc_etcd_parse_urls(const char *s, struct irc_etcd_cfg *c, const char **why)
{
	const char *p = s, *end;
	size_t n;

	c->nurls = 0;
	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (c->nurls == IRC_FLEET_MAX_URLS) {
			*why = "more than 8 endpoints";
			return -EINVAL;
		}
		if (!((n > 7 && !strncmp(p, "http://", 7)) || (n > 8 && !strncmp(p, "https://", 8)))) {
			*why = "each endpoint is http://HOST:PORT or https://HOST:PORT";
			return -EINVAL;
		}
		if (n > 200 || memchr(p, ' ', n) || memchr(p, '\n', n)) {
			*why = "an endpoint is longer than 200 characters or has a space";
			return -EINVAL;
		}
		c->urls[c->nurls] = strndup(p, n);
		if (!c->urls[c->nurls]) {
			*why = "out of memory";
			return -ENOMEM;
		}
		/* "http://h:2379/" and "http://h:2379" are the same endpoint. */
		if (c->urls[c->nurls][n - 1] == '/')
			c->urls[c->nurls][n - 1] = '\0';
		c->nurls++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!c->nurls) {
		*why = "no endpoint given";
		return -EINVAL;
	}
	return 0;
}

int irc_etcd_open(struct irc_etcd *e, const struct irc_etcd_cfg *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	pthread_once(&cu_once, cu_load);
	if (!cu.h) {
		snprintf(e->err, sizeof(e->err), "%s", cu_err);
		return -ENOENT;
	}
	e->h = cu.easy_init();
	if (!e->h) {
		snprintf(e->err, sizeof(e->err), "libcurl: out of memory");
		return -ENOMEM;
	}
	return 0;
}

void irc_etcd_close(struct irc_etcd *e)
{
	if (e->h)
		cu.easy_cleanup(e->h);
	e->h = NULL;
}

void irc_kv_free(struct irc_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

/* ---- base64 and numbers ------------------------------------------------- */

static json_t *b64_json(const void *p, size_t n)
{
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(len);
	json_t *s;

	if (!b)
		return NULL;
	sodium_bin2base64(b, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	s = json_string(b);
	free(b);
	return s;
}

/* A NUL-terminated copy of base64 @s; NULL if it is not base64. */
static uint8_t *b64_dec(const char *s, size_t *n)
{
	size_t len = s ? strlen(s) : 0, out;
	uint8_t *b = malloc(len + 1);

	if (!b)
		return NULL;
	if (sodium_base642bin(b, len + 1, s ?: "", len, NULL, &out, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		free(b);
		return NULL;
	}
	b[out] = '\0';
	if (n)
		*n = out;
	return b;
}

/* The gateway writes int64 as a decimal string; 0 if absent. */
static int64_t jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v);
	return json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : 0;
}

/* The end of the range of keys that begin with @prefix. */
static json_t *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);
	json_t *j;

	if (!end)
		return NULL;
	while (n && (uint8_t)end[n - 1] == 0xff)
		n--;
	if (!n) {
		free(end);
		return b64_json("", 1);		/* "\0": every key */
	}
	end[n - 1]++;
	j = b64_json(end, n);
	free(end);
	return j;
}

static int kv_from(json_t *j, struct irc_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	kv->key = (char *)b64_dec(json_string_value(json_object_get(j, "key")), NULL);
	kv->val = b64_dec(json_string_value(json_object_get(j, "value")) ?: "", &kv->len);
	kv->mod_rev = jnum(j, "mod_revision");
	if (!kv->key || !kv->val) {
		free(kv->key);
		free(kv->val);
		return -EBADMSG;
	}
	return 0;
}

/* ---- HTTP -------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n, cap;
	size_t max;
};

static size_t buf_write(char *data, size_t sz, size_t nm, void *ctx)
{
	struct buf *b = ctx;
	size_t n = sz * nm;

	if (b->n + n + 1 > b->max)
		return 0;		/* larger than anything etcd should send: fail */
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/*
 * A silent peer is found in seconds, not in the kernel's two hours:
 * keepalive probes each second after 2 s idle, 3 unanswered ones or data
 * unacknowledged for IRC_FLEET_DEAD_MS end the connection.
 */
static int sockopt(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	int one = 1, idle = 2, intvl = 1, cnt = 3;
	unsigned int uto = IRC_FLEET_DEAD_MS;

	(void)ctx;
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	return CURL_SOCKOPT_OK;
}

static int xfer_abort(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	volatile int *abort = ctx;

	(void)a, (void)b, (void)c, (void)d;
	return abort && *abort;
}

static void setup(struct irc_etcd *e, CURL *h, const char *url, const char *body,
		  struct curl_slist *hdr, long timeout_ms)
{
	const struct irc_etcd_cfg *c = e->cfg;

	cu.easy_reset(h);
	cu.easy_setopt(h, CURLOPT_URL, url);
	cu.easy_setopt(h, CURLOPT_POSTFIELDS, body);
	cu.easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)IRC_FLEET_TIMEOUT_MS);
	cu.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	cu.easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt);
	cu.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (c->cert)
		cu.easy_setopt(h, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		cu.easy_setopt(h, CURLOPT_SSLKEY, c->key);
	if (c->ca)
		cu.easy_setopt(h, CURLOPT_CAINFO, c->ca);
	cu.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	cu.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_abort);
	cu.easy_setopt(h, CURLOPT_XFERINFODATA, e->abort);
}

/*
 * POSTs @req to @path at each endpoint in turn, from the one that
 * answered last, until one answers.  *@resp is the parsed answer.
 */
static int call(struct irc_etcd *e, const char *path, json_t *req, json_t **resp)
{
	struct curl_slist *hdr = cu.slist_append(NULL, "Content-Type: application/json");
	char *body = json_dumps(req, JSON_COMPACT);
	struct buf b = { .max = 64 << 20 };
	char url[256], curlerr[CURL_ERROR_SIZE];
	json_error_t jerr;
	long code = 0;
	int i, err = -EIO;

	*resp = NULL;
	json_decref(req);
	if (!hdr || !body) {
		cu.slist_free_all(hdr);
		free(body);
		snprintf(e->err, sizeof(e->err), "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < e->cfg->nurls; i++) {
		int at = (e->cur + i) % e->cfg->nurls;
		CURLcode rc;

		snprintf(url, sizeof(url), "%s%s", e->cfg->urls[at], path);
		b.n = 0;
		curlerr[0] = '\0';
		setup(e, e->h, url, body, hdr, IRC_FLEET_TIMEOUT_MS);
		cu.easy_setopt(e->h, CURLOPT_WRITEFUNCTION, buf_write);
		cu.easy_setopt(e->h, CURLOPT_WRITEDATA, &b);
		cu.easy_setopt(e->h, CURLOPT_ERRORBUFFER, curlerr);
		rc = cu.easy_perform(e->h);
		if (rc) {
			snprintf(e->err, sizeof(e->err), "%s: %s", e->cfg->urls[at],
				 curlerr[0] ? curlerr : cu.easy_strerror(rc));
			err = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT :
			      rc == CURLE_ABORTED_BY_CALLBACK ? -ECANCELED : -ECONNREFUSED;
			if (err == -ECANCELED)
				break;
			continue;
		}
		cu.easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &code);
		*resp = b.p ? json_loads(b.p, 0, &jerr) : NULL;
		if (code != 200 || !*resp) {
			json_t *m = json_object_get(*resp, "message") ?: json_object_get(*resp, "error");

			snprintf(e->err, sizeof(e->err), "%s%s: HTTP %ld%s%s", e->cfg->urls[at], path,
				 code, json_is_string(m) ? ": " : "",
				 json_is_string(m) ? json_string_value(m) : "");
			json_decref(*resp);
			*resp = NULL;
			err = code == 404 ? -ENOENT : -EPROTO;
			e->cur = at;
			break;
		}
		e->cur = at;
		err = 0;
		break;
	}
	cu.slist_free_all(hdr);
	free(body);
	free(b.p);
	return err;
}

int irc_etcd_range(struct irc_etcd *e, const char *key, bool is_prefix,
		   struct irc_kv **out, size_t *n, int64_t *rev)
{
	json_t *req = json_object(), *resp, *kvs, *j;
	size_t i;
	int err;

	*out = NULL;
	*n = 0;
	json_object_set_new(req, "key", b64_json(key, strlen(key)));
	if (is_prefix)
		json_object_set_new(req, "range_end", prefix_end(key));
	err = call(e, "/v3/kv/range", req, &resp);
	if (err)
		return err;
	*rev = jnum(json_object_get(resp, "header"), "revision");
	kvs = json_object_get(resp, "kvs");
	if (json_array_size(kvs)) {
		*out = calloc(json_array_size(kvs), sizeof(**out));
		if (!*out) {
			json_decref(resp);
			return -ENOMEM;
		}
	}
	json_array_foreach(kvs, i, j) {
		if (kv_from(j, &(*out)[*n]) == 0)
			(*n)++;
	}
	json_decref(resp);
	return 0;
}

int irc_etcd_put(struct irc_etcd *e, const char *key, const void *val, size_t len,
		 int64_t lease, int64_t *rev)
{
	json_t *req = json_object(), *resp;
	int err;

	json_object_set_new(req, "key", b64_json(key, strlen(key)));
	json_object_set_new(req, "value", b64_json(val, len));
	if (lease)
		json_object_set_new(req, "lease", json_sprintf("%" PRId64, lease));
	err = call(e, "/v3/kv/put", req, &resp);
	if (err)
		return err;
	if (rev)
		*rev = jnum(json_object_get(resp, "header"), "revision");
	json_decref(resp);
	return 0;
}

int irc_etcd_lease_grant(struct irc_etcd *e, int ttl_s, int64_t *id)
{
	json_t *resp;
	int err = call(e, "/v3/lease/grant", json_pack("{s:i}", "TTL", ttl_s), &resp);

	if (err)
		return err;
	*id = jnum(resp, "ID");
	json_decref(resp);
	if (!*id) {
		snprintf(e->err, sizeof(e->err), "lease grant: no lease id in the answer");
		return -EPROTO;
	}
	return 0;
}

int irc_etcd_lease_keepalive(struct irc_etcd *e, int64_t id)
{
	json_t *resp;
	int64_t ttl;
	int err = call(e, "/v3/lease/keepalive", json_pack("{s:o}", "ID",
			json_sprintf("%" PRId64, id)), &resp);

	if (err)
		return err;
	ttl = jnum(json_object_get(resp, "result"), "TTL");
	json_decref(resp);
	if (ttl <= 0) {
		snprintf(e->err, sizeof(e->err), "lease %" PRId64 " has expired", id);
		return -ENOENT;
	}
	return 0;
}

/* ---- watch --------------------------------------------------------------- */

struct wstate {
	struct irc_etcd *e;
	struct buf line;
	irc_watch_fn fn;
	void *ctx;
	int ret;		/* the reason the stream ended, 0 while it goes on */
	int64_t *compact;
	bool created;
};

/* One message of the stream: {"result": {...}} or {"error": {...}}. */
static int watch_msg(struct wstate *w, const char *text)
{
	json_t *m = json_loads(text, 0, NULL), *r, *evs, *ev;
	struct irc_kv *kv = NULL;
	size_t i, n = 0;
	int ret = 0;

	if (!m) {
		snprintf(w->e->err, sizeof(w->e->err), "watch: a message that is not JSON");
		return -EBADMSG;
	}
	r = json_object_get(m, "result");
	if (!r) {
		json_t *msg = json_object_get(json_object_get(m, "error"), "message");

		snprintf(w->e->err, sizeof(w->e->err), "watch: %s",
			 json_string_value(msg) ?: "an error without a message");
		json_decref(m);
		return -EPROTO;
	}
	if (jnum(r, "compact_revision")) {
		*w->compact = jnum(r, "compact_revision");
		snprintf(w->e->err, sizeof(w->e->err), "watch: revision compacted (now from %" PRId64 ")",
			 *w->compact);
		json_decref(m);
		return -ESTALE;
	}
	if (json_is_true(json_object_get(r, "canceled"))) {
		snprintf(w->e->err, sizeof(w->e->err), "watch: cancelled by etcd: %s",
			 json_string_value(json_object_get(r, "cancel_reason")) ?: "no reason given");
		json_decref(m);
		return -ECONNRESET;
	}
	if (json_is_true(json_object_get(r, "created")))
		w->created = true;
	evs = json_object_get(r, "events");
	if (json_array_size(evs)) {
		kv = calloc(json_array_size(evs), sizeof(*kv));
		if (!kv) {
			json_decref(m);
			return -ENOMEM;
		}
	}
	json_array_foreach(evs, i, ev) {
		if (kv_from(json_object_get(ev, "kv"), &kv[n]))
			continue;
		kv[n].deleted = !strcmp(json_string_value(json_object_get(ev, "type")) ?: "PUT",
					"DELETE");
		n++;
	}
	if (n)
		ret = w->fn(w->ctx, kv, n, jnum(json_object_get(r, "header"), "revision"));
	irc_kv_free(kv, n);
	json_decref(m);
	return ret;
}

/* The gateway sends one JSON object per message, each ending in a newline. */
static size_t watch_write(char *data, size_t sz, size_t nm, void *ctx)
{
	struct wstate *w = ctx;
	size_t n = sz * nm;
	char *nl;

	if (buf_write(data, sz, nm, &w->line) != n) {
		w->ret = -EMSGSIZE;
		return 0;
	}
	while ((nl = memchr(w->line.p, '\n', w->line.n))) {
		*nl = '\0';
		if (nl > w->line.p)
			w->ret = watch_msg(w, w->line.p);
		w->line.n -= (size_t)(nl + 1 - w->line.p);
		memmove(w->line.p, nl + 1, w->line.n);
		w->line.p[w->line.n] = '\0';
		if (w->ret)
			return 0;
	}
	return n;
}

int irc_etcd_watch(struct irc_etcd *e, const char *prefix, int64_t start_rev,
		   irc_watch_fn fn, void *ctx, int64_t *compact)
{
	struct wstate w = { .e = e, .line = { .max = 64 << 20 }, .fn = fn, .ctx = ctx,
			    .compact = compact };
	struct curl_slist *hdr = cu.slist_append(NULL, "Content-Type: application/json");
	json_t *req = json_pack("{s:{s:o,s:o,s:o}}", "create_request",
				"key", b64_json(prefix, strlen(prefix)), "range_end", prefix_end(prefix),
				"start_revision", json_sprintf("%" PRId64, start_rev));
	char *body = json_dumps(req, JSON_COMPACT);
	char url[256], curlerr[CURL_ERROR_SIZE] = "";
	CURL *h = cu.easy_init();
	CURLcode rc;
	long code = 0;
	int at = e->cur;

	json_decref(req);
	if (!h || !hdr || !body) {
		snprintf(e->err, sizeof(e->err), "out of memory");
		w.ret = -ENOMEM;
		goto out;
	}
	snprintf(url, sizeof(url), "%s/v3/watch", e->cfg->urls[at]);
	setup(e, h, url, body, hdr, 0);
	cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_write);
	cu.easy_setopt(h, CURLOPT_WRITEDATA, &w);
	cu.easy_setopt(h, CURLOPT_ERRORBUFFER, curlerr);
	rc = cu.easy_perform(h);
	cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (!w.ret) {
		/* The next attempt goes to the next endpoint. */
		e->cur = (at + 1) % e->cfg->nurls;
		if (rc == CURLE_ABORTED_BY_CALLBACK) {
			w.ret = -ECANCELED;
			snprintf(e->err, sizeof(e->err), "watch: stopped");
		} else if (rc) {
			w.ret = -ECONNRESET;
			snprintf(e->err, sizeof(e->err), "%s: %s", e->cfg->urls[at],
				 curlerr[0] ? curlerr : cu.easy_strerror(rc));
		} else {
			w.ret = -ECONNRESET;
			snprintf(e->err, sizeof(e->err), "%s: the watch ended (HTTP %ld)",
				 e->cfg->urls[at], code);
		}
	}
out:
	if (h)
		cu.easy_cleanup(h);
	cu.slist_free_all(hdr);
	free(body);
	free(w.line.p);
	return w.ret;
}
