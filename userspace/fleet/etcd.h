/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A client of etcd's v3 JSON gateway (etcd 3.4: /v3/kv/range, /v3/kv/put,
 * /v3/watch, /v3/lease/grant, /v3/lease/keepalive), over libcurl.  Keys
 * and values travel in base64; revisions and lease ids as decimal strings.
 *
 * libcurl is dlopen()ed on first use (lazylib.c says why: every command
 * would otherwise map it and the ~20 objects it pulls in).  One struct
 * irc_etcd per thread.  Every call returns 0 or -errno, with the reason
 * in e->err ("http://127.0.0.1:2379: Connection refused").
 */
#ifndef IRC_ETCD_H
#define IRC_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "fleet_defs.h"

struct irc_etcd_cfg {
	char *urls[IRC_FLEET_MAX_URLS];	/* http://HOST:PORT or https:// */
	int nurls;
	const char *cert, *key, *ca;	/* client certificate, its key, the CA: TLS */
};

/* "--fleet" value "URL[,URL...]" into @c (strings malloc()ed); 0 or -EINVAL with *why. */
int irc_etcd_parse_urls(const char *s, struct irc_etcd_cfg *c, const char **why);

struct irc_etcd {
	const struct irc_etcd_cfg *cfg;
	int cur;			/* the endpoint that answered last */
	void *h;			/* CURL * for unary calls */
	char err[256];
	volatile int *abort;		/* a watch returns -ECANCELED once *abort is set */
};

/* 0, or -ENOENT when libcurl cannot be loaded (said in e->err). */
int irc_etcd_open(struct irc_etcd *e, const struct irc_etcd_cfg *cfg);
void irc_etcd_close(struct irc_etcd *e);

/* One key-value pair as etcd returns it. */
struct irc_kv {
	char *key;
	uint8_t *val;
	size_t len;
	int64_t mod_rev;
	bool deleted;		/* a watch's DELETE event */
};
void irc_kv_free(struct irc_kv *kv, size_t n);

/*
 * Every key under @prefix (@prefix itself a key when !@is_prefix), at the
 * store's current revision (*@rev).  *@out malloc()ed; irc_kv_free() it.
 */
int irc_etcd_range(struct irc_etcd *e, const char *key, bool is_prefix,
		   struct irc_kv **out, size_t *n, int64_t *rev);
/* Puts @key = @val (on @lease when non-zero); *@rev is the new revision. */
int irc_etcd_put(struct irc_etcd *e, const char *key, const void *val, size_t len,
		 int64_t lease, int64_t *rev);
int irc_etcd_lease_grant(struct irc_etcd *e, int ttl_s, int64_t *id);
/* Keeps @id alive; -ENOENT when it has expired. */
int irc_etcd_lease_keepalive(struct irc_etcd *e, int64_t id);

/*
 * Watches @prefix from @start_rev on, calling @fn for each batch of
 * events (with the batch's revision) until @fn returns non-zero (that
 * value is returned), *e->abort is set (-ECANCELED), the connection fails
 * (-errno), or @start_rev was compacted (-ESTALE, *@compact set).
 */
typedef int (*irc_watch_fn)(void *ctx, struct irc_kv *kv, size_t n, int64_t rev);
int irc_etcd_watch(struct irc_etcd *e, const char *prefix, int64_t start_rev,
		   irc_watch_fn fn, void *ctx, int64_t *compact);

#endif /* IRC_ETCD_H */
