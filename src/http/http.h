/*
 * http: the REST API, the web app's static files, health and metrics, on
 * libmicrohttpd (epoll, thread pool).  Every route is listed once, in the
 * route table of routes.c.
 *
 * The server borrows the configuration, store and auth, which must outlive it.
 */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "store/store.h"
#include "util/util.h"

struct rt_http;
struct rt_dni;
struct rt_call_router;

struct rt_http_deps {
	const struct rt_conf *conf;
	struct rt_store *store;
	struct rt_auth *auth;
	struct rt_dni *dni; /* may be NULL (tests of other parts) */
	struct rt_call_router
		*calls; /* told when numbers change; may be NULL */
	struct rt_recorder *recorder; /* its /metrics; may be NULL */
};

/* Binds conf->listen and starts serving.  EADDRINUSE, EINVAL (bad listen
 * address) or EIO. */
int rt_http_start(struct rt_http **hp, const struct rt_http_deps *deps);
/* The bound port (useful with port 0). */
uint16_t rt_http_port(const struct rt_http *h);
/* Stops accepting connections; requests in flight go on. */
void rt_http_quiesce(struct rt_http *h);
/* Requests being handled right now. */
unsigned rt_http_inflight(struct rt_http *h);
/* Closes every connection and frees the server. */
void rt_http_stop(struct rt_http *h);

/* Route flags. */
#define RT_ROUTE_PUBLIC	     0x1u /* no credentials needed */
#define RT_ROUTE_COOKIE_ONLY 0x2u /* only a dashboard session makes sense */
#define RT_ROUTE_CORS                                                          \
	0x8u		       /* readable from any origin (dni.js):           \
				  CORS headers and OPTIONS preflight */
#define RT_ROUTE_LIMITED 0x10u /* rate limited per client address */
#define RT_ROUTE_RAW_BODY                                                      \
	0x4u /* a body that is not JSON (CSV): the handler                     \
		checks its type and reads r->body itself */
#define RT_ROUTE_UPLOAD                                                        \
	0x20u /* a file (audio): the body may be up to                         \
		 audio_max_upload rather than http_max_body */

/* What tests, docs and the fuzz targets see of the route table. */
struct rt_http_route_info {
	const char *method;
	const char *pattern; /* "/v1/accounts/{id}" */
	unsigned scope;	     /* RT_SCOPE_* needed; 0 for public routes */
	unsigned flags;
	/* Parses and validates a JSON request body the way the handler does;
	 * NULL for routes without a body.  0, or the HTTP status it would
	 * answer (400, 422). */
	int (*check_body)(const char *data, size_t len);
};
size_t rt_http_route_count(void);
const struct rt_http_route_info *rt_http_route(size_t i);

#endif
