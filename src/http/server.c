/*
 * libmicrohttpd glue and the life of one request:
 *   first call      route match, request id, early 413 by Content-Length
 *   upload calls    body collected up to http_max_body (413 past it)
 *   last call       content type, JSON, credentials, CSRF, scope,
 *                   idempotency key, handler, response
 *   completed       metrics, access log, free
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "http/http_int.h"

#define RT_LOG_MODULE "http"

static const char *header(struct rt_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool valid_request_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return n > 0 && n < RT_REQ_ID_MAX;
}

static void client_ip(struct rt_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn,
					MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	rt_strlcpy(r->ip, "-", sizeof(r->ip));
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)(const void *)sa)
				   ->sin_addr,
			  r->ip, sizeof(r->ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)
				   ->sin6_addr,
			  r->ip, sizeof(r->ip));
}

static struct rt_req *req_new(struct rt_http *srv, struct MHD_Connection *conn,
			      const char *url, const char *method)
{
	struct rt_req *r = calloc(1, sizeof(*r));
	const char *rid;
	bool method_ok;

	if (!r)
		return NULL;
	r->srv = srv;
	r->conn = conn;
	r->t0_us = rt_mono_us();
	r->path = strdup(url);
	if (!r->path) {
		free(r);
		return NULL;
	}
	rt_strlcpy(r->method, method, sizeof(r->method));
	rt_buf_init(&r->body);
	client_ip(r);
	rid = header(r, "X-Request-Id");
	if (rid && valid_request_id(rid)) {
		rt_strlcpy(r->request_id, rid, sizeof(r->request_id));
	} else {
		snprintf(r->request_id, sizeof(r->request_id), "%08x%08llx",
			 srv->rid_prefix,
			 (unsigned long long)(atomic_fetch_add(&srv->rid_seq,
							       1) &
					      0xffffffffull));
	}
	r->route_idx = rt_http_match(r, &method_ok);
	if (r->route_idx != SIZE_MAX) {
		size_t n;

		r->route = &rt_http_routes(&n)[r->route_idx];
	} else if (method_ok) {
		r->status = 405; /* decided now, answered at the end */
	}
	return r;
}

static void req_free(struct rt_req *r)
{
	json_decref(r->json);
	rt_buf_release(&r->body);
	free(r->resp);
	if (r->resp_is_fd)
		close(r->resp_fd);
	for (size_t i = 0; i < r->nhdr; i++) {
		free(r->hdr_name[i]);
		free(r->hdr_value[i]);
	}
	free(r->path);
	free(r);
}

static enum MHD_Result send_response(struct rt_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!r->responded)
		rt_http_error(r, 500, "internal", NULL,
			      "no response was produced");
	if (r->resp_is_fd) {
		resp = MHD_create_response_from_fd_at_offset64(r->resp_len,
							       r->resp_fd,
							       r->resp_off);
		if (!resp)
			return MHD_NO;
		r->resp_is_fd = false; /* MHD closes it now */
	} else {
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp,
						       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			return MHD_NO;
		r->resp = NULL; /* MHD owns it now */
	}
	if (!r->content_type)
		r->content_type = "application/json";
	if (*r->content_type) /* "" for answers without a body */
		MHD_add_response_header(resp, "Content-Type", r->content_type);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control",
				r->cache_control ? r->cache_control
						 : "no-store");
	for (size_t i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The largest body the request's route takes. */
static uint64_t max_body(const struct rt_req *r)
{
	if (r->route && (r->route->info.flags & RT_ROUTE_UPLOAD))
		return r->srv->conf->audio_max_upload;
	return r->srv->conf->http_max_body;
}

static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Credentials: an API key, else a dashboard session cookie. */
static int authenticate(struct rt_req *r)
{
	const char *authz = header(r, "Authorization");
	const char *cookie;
	bool unsafe;
	int err;

	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) != 0 || !authz[7]) {
			rt_http_header(r, "WWW-Authenticate", "Bearer");
			rt_http_error(r, 401, "unauthenticated", NULL,
				      "the Authorization header must be "
				      "'Bearer <api key>'");
			return EACCES;
		}
		err = rt_auth_bearer(r->srv->auth, authz + 7, &r->principal);
		switch (err) {
		case 0:
			break;
		case EKEYREVOKED:
			rt_http_error(r, 401, "key_revoked", NULL,
				      "this API key has been revoked");
			return err;
		case EKEYEXPIRED:
			rt_http_error(r, 401, "key_expired", NULL,
				      "this API key has expired");
			return err;
		case EACCES:
			rt_http_header(r, "WWW-Authenticate", "Bearer");
			rt_http_error(r, 401, "unauthenticated", NULL,
				      "the API key is not valid");
			return err;
		case EPERM:
			rt_http_error(
				r, 403, "account_suspended", NULL,
				"the account of this API key is suspended");
			return err;
		default:
			rt_http_fail(r, err, "authenticating");
			return err;
		}
		r->authed = true;
		return 0;
	}

	cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
					     "rt_session");
	if (!cookie || !*cookie) {
		rt_http_header(r, "WWW-Authenticate", "Bearer");
		rt_http_error(
			r, 401, "unauthenticated", NULL,
			"send an API key as 'Authorization: Bearer <key>' "
			"or log in");
		return EACCES;
	}
	err = rt_auth_cookie(r->srv->auth, cookie, &r->principal);
	if (err == EACCES) {
		rt_http_error(r, 401, "unauthenticated", NULL,
			      "the session has expired or was logged out");
		return err;
	}
	if (err == EPERM) {
		rt_http_error(r, 403, "account_suspended", NULL,
			      "this account is suspended");
		return err;
	}
	if (err) {
		rt_http_fail(r, err, "authenticating");
		return err;
	}
	/* A cookie travels with any request the browser makes, so a change
	 * made with one must also prove it came from our page. */
	unsafe =
		strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
	if (unsafe &&
	    !rt_auth_csrf_ok(&r->principal, header(r, "X-CSRF-Token"))) {
		rt_http_error(r, 403, "csrf_failed", "X-CSRF-Token",
			      "a change made with a session cookie needs the "
			      "X-CSRF-Token header from the login answer");
		return EACCES;
	}
	r->authed = true;
	return 0;
}

static bool scope_ok(struct rt_req *r)
{
	unsigned need = r->route->info.scope;
	const char *names[3];

	if ((r->principal.scopes & need) == need)
		return true;
	rt_auth_scope_names(need & ~r->principal.scopes, names);
	rt_http_error(r, 403, "insufficient_scope", NULL,
		      "this request needs the '%s' scope", names[0]);
	return false;
}

static bool valid_idem_key(const char *k)
{
	size_t n = 0;

	for (; k[n]; n++) {
		if (k[n] < 0x21 || k[n] > 0x7e)
			return false;
	}
	return n > 0 && n <= 255;
}

static void request_hash(struct rt_req *r, char out[RT_HASH_HEX])
{
	crypto_generichash_state st;
	uint8_t h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)r->method,
				  strlen(r->method));
	crypto_generichash_update(&st, (const uint8_t *)" ", 1);
	crypto_generichash_update(&st, (const uint8_t *)r->path,
				  strlen(r->path));
	crypto_generichash_update(&st, (const uint8_t *)"\n", 1);
	if (r->body.len)
		crypto_generichash_update(&st, (const uint8_t *)r->body.s,
					  r->body.len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, RT_HASH_HEX, h, sizeof(h));
}

/*
 * Idempotency-Key on POST: the first request with a key runs and its answer
 * is kept for a day; a repeat gets the same answer without running again.
 * Returns true when the handler should run; *claimed when a key was taken.
 */
static bool idem_begin(struct rt_req *r, char principal[32], bool *claimed)
{
	const char *key = header(r, "Idempotency-Key");
	char hash[RT_HASH_HEX];
	struct rt_store_tx *tx;
	char *body = NULL;
	int status = 0, err;

	*claimed = false;
	if (!key || strcmp(r->method, "POST") != 0)
		return true;
	if (!valid_idem_key(key)) {
		rt_http_error(
			r, 400, "invalid_header", "Idempotency-Key",
			"Idempotency-Key must be 1 to 255 printable ASCII "
			"characters");
		return false;
	}
	snprintf(principal, 32, "%s:%lld",
		 r->principal.kind == RT_PRINCIPAL_KEY ? "key" : "user",
		 (long long)r->principal.id);
	request_hash(r, hash);
	if (rt_http_begin(r, true, &tx))
		return false;
	err = rt_store_idem_begin(tx, principal, key, hash, rt_now_ms(),
				  &status, &body);
	if (err == EEXIST || err == EINVAL) {
		rt_store_rollback(tx);
		if (err == EINVAL) {
			rt_http_error(r, 422, "idempotency_key_reused",
				      "Idempotency-Key",
				      "this Idempotency-Key was used for a "
				      "different request");
		} else if (status == 0) {
			rt_http_error(r, 409, "request_in_progress",
				      "Idempotency-Key",
				      "a request with this Idempotency-Key is "
				      "still in progress");
		} else {
			rt_http_body(r, status, "application/json", body,
				     strlen(body));
			body = NULL;
			rt_http_header(r, "Idempotent-Replayed", "true");
		}
		free(body);
		return false;
	}
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "claiming the idempotency key");
		return false;
	}
	if (rt_http_commit(r, tx))
		return false;
	*claimed = true;
	return true;
}

static void idem_finish(struct rt_req *r, const char *principal)
{
	const char *key = header(r, "Idempotency-Key");
	struct rt_store_tx *tx;
	int err;

	err = rt_store_begin(r->srv->store, true, &tx);
	if (err) {
		rt_warn("cannot store idempotent answer", "err=%d", err);
		return;
	}
	/* A server error is not an answer to keep: the client may retry. */
	if (r->status >= 500)
		err = rt_store_idem_forget(tx, principal, key);
	else
		err = rt_store_idem_finish(tx, principal, key, r->status,
					   r->resp ? r->resp : "");
	if (err) {
		rt_store_rollback(tx);
		rt_warn("cannot store idempotent answer", "err=%d", err);
		return;
	}
	if (rt_store_commit(tx))
		rt_warn("cannot store idempotent answer", "phase=commit");
}

static void allow_header(struct rt_req *r)
{
	char allow[64] = "";
	size_t n;
	const struct rt_route *routes = rt_http_routes(&n);
	struct rt_req probe = *r;

	/* Try each method the table knows on this path. */
	for (size_t i = 0; i < n; i++) {
		bool ok;
		size_t idx;

		rt_strlcpy(probe.method, routes[i].info.method,
			   sizeof(probe.method));
		idx = rt_http_match(&probe, &ok);
		if (idx == i && !strstr(allow, routes[i].info.method)) {
			if (allow[0])
				strncat(allow, ", ",
					sizeof(allow) - strlen(allow) - 1);
			strncat(allow, routes[i].info.method,
				sizeof(allow) - strlen(allow) - 1);
		}
	}
	/* Every GET route answers HEAD too. */
	if (strstr(allow, "GET"))
		strncat(allow, ", HEAD", sizeof(allow) - strlen(allow) - 1);
	rt_http_header(r, "Allow", allow);
}

/* An OPTIONS preflight for a path that a CORS route serves: any origin may
 * POST JSON to it, and may cache that answer for a day. */
static bool preflight(struct rt_req *r)
{
	size_t n;
	const struct rt_route *routes = rt_http_routes(&n);
	struct rt_req probe = *r;

	if (strcmp(r->method, "OPTIONS") != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool ok;

		if (!(routes[i].info.flags & RT_ROUTE_CORS))
			continue;
		rt_strlcpy(probe.method, routes[i].info.method,
			   sizeof(probe.method));
		if (rt_http_match(&probe, &ok) != i)
			continue;
		rt_http_header(r, "Access-Control-Allow-Origin", "*");
		rt_http_header(r, "Access-Control-Allow-Methods",
			       routes[i].info.method);
		rt_http_header(r, "Access-Control-Allow-Headers",
			       "Content-Type");
		rt_http_header(r, "Access-Control-Max-Age", "86400");
		rt_http_body(r, 204, "", NULL, 0);
		return true;
	}
	return false;
}

static bool rate_ok(struct rt_req *r)
{
	unsigned wait = rt_ratelimit_take(r->srv->limit, r->ip, rt_now_ms());
	char secs[16];

	if (!wait)
		return true;
	snprintf(secs, sizeof(secs), "%u", wait);
	rt_http_header(r, "Retry-After", secs);
	rt_http_error(r, 429, "rate_limited", NULL,
		      "too many requests from this address; retry in %u s",
		      wait);
	return false;
}

static void handle(struct rt_req *r)
{
	char principal[32];
	bool claimed = false;

	if (r->body_too_large) {
		rt_http_error(r, 413, "body_too_large", NULL,
			      "the request body is over %llu bytes",
			      (unsigned long long)max_body(r));
		return;
	}
	if (!r->route && r->status == 405 && preflight(r))
		return;
	if (r->route && (r->route->info.flags & RT_ROUTE_CORS))
		rt_http_header(r, "Access-Control-Allow-Origin", "*");
	if (r->route && (r->route->info.flags & RT_ROUTE_LIMITED) &&
	    !rate_ok(r))
		return;
	if (!r->route) {
		if (r->status == 405) {
			allow_header(r);
			rt_http_error(r, 405, "method_not_allowed", NULL,
				      "%s is not allowed on this path",
				      r->method);
		} else {
			rt_http_error(r, 404, "not_found", NULL,
				      "no such resource");
		}
		return;
	}
	if (!(r->route->info.flags & RT_ROUTE_PUBLIC) &&
	    (authenticate(r) || !scope_ok(r)))
		return;
	if ((r->route->info.flags & RT_ROUTE_COOKIE_ONLY) &&
	    r->principal.kind != RT_PRINCIPAL_USER) {
		rt_http_error(r, 400, "not_a_session", NULL,
			      "this request needs a dashboard session; an API "
			      "key has none");
		return;
	}
	if (r->route->info.check_body) {
		struct rt_http_err e = {0};

		if (!is_json_type(header(r, "Content-Type"))) {
			rt_http_error(
				r, 415, "unsupported_media_type", NULL,
				"the request body must be application/json");
			return;
		}
		r->json = rt_http_parse_json(r->body.s ? r->body.s : "",
					     r->body.len, &e);
		if (!r->json) {
			rt_http_send_err(r, &e);
			return;
		}
	}
	if (r->authed && !idem_begin(r, principal, &claimed))
		return;
	r->route->h(r);
	if (!r->responded)
		RT_BUG("route %s %s answered nothing", r->route->info.method,
		       r->route->info.pattern);
	if (claimed)
		idem_finish(r, principal);
}

/*
 * A body over http_max_body is read and thrown away, up to this much, and
 * then answered 413: a client still sending when the server answers and
 * closes may see a reset instead of the answer.  Past this the server
 * answers at once and closes.
 */
#define DRAIN_MAX ((uint64_t)16 << 20)

static enum MHD_Result answer_now(struct rt_req *r)
{
	enum MHD_Result ret;

	rt_log_ctx_set("req", r->request_id);
	handle(r);
	ret = send_response(r);
	rt_log_ctx_clear();
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct rt_http *srv = cls;
	struct rt_req *r = *con_cls;
	enum MHD_Result ret;

	if (!r) {
		const char *cl;
		uint64_t len;

		r = req_new(srv, conn, url, method);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		atomic_fetch_add(&srv->inflight, 1);
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 "Content-Length");
		if (cl && rt_parse_u64(cl, 0, UINT64_MAX, &len) == 0 &&
		    len > max_body(r)) {
			const char *expect =
				MHD_lookup_connection_value(conn,
							    MHD_HEADER_KIND,
							    "Expect");

			r->body_too_large = true;
			/* A client waiting for 100-continue has sent nothing
			 * yet: answer before it does. */
			if ((expect &&
			     strcasecmp(expect, "100-continue") == 0) ||
			    len > DRAIN_MAX)
				return answer_now(r);
		}
		return MHD_YES;
	}
	if (r->responded) {
		*upload_data_size = 0; /* an early answer is on its way */
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		r->body_seen += n;
		if (!r->body_too_large && r->body.len + n > max_body(r)) {
			r->body_too_large = true;
			rt_buf_release(&r->body);
		}
		if (!r->body_too_large)
			rt_buf_append(&r->body, upload_data, n);
		else if (r->body_seen > DRAIN_MAX)
			return answer_now(r);
		return MHD_YES;
	}
	if (r->body.err) {
		rt_log_ctx_set("req", r->request_id);
		rt_http_error(r, 500, "internal", NULL, "out of memory");
		ret = send_response(r);
		rt_log_ctx_clear();
		return ret;
	}
	return answer_now(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct rt_http *srv = cls;
	struct rt_req *r = *con_cls;
	char qpath[256], who[40] = "-";
	uint64_t us;

	if (!r)
		return;
	*con_cls = NULL;
	us = rt_mono_us() - r->t0_us;
	rt_http_metrics_observe(srv->metrics, r->route_idx, r->status, us);
	if (r->authed)
		snprintf(who, sizeof(who), "%s:%lld",
			 r->principal.kind == RT_PRINCIPAL_KEY ? "key" : "user",
			 (long long)r->principal.id);
	rt_log_ctx_set("req", r->request_id);
	if (rt_log_enabled(RT_LOG_INFO))
		rt_info("request",
			"method=%s path=%s route=\"%s\" status=%d dur_ms=%.3f "
			"ip=%s principal=%s%s",
			r->method, rt_log_q(qpath, sizeof(qpath), r->path),
			r->route ? r->route->info.pattern : "-", r->status,
			(double)us / 1000.0, r->ip, who,
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
				? ""
				: " aborted=true");
	rt_log_ctx_clear();
	req_free(r);
	atomic_fetch_sub(&srv->inflight, 1);
}

RT_PRINTF(2, 0)
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	rt_warn("libmicrohttpd", "detail=\"%s\"", msg);
}

/* "host:port", "[v6]:port" or ":port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			socklen_t *lenp)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints = {0}, *ai = NULL;
	uint64_t pnum;
	size_t hl;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':')
			return EINVAL;
		hl = (size_t)(end - listen - 1);
		colon = end + 1;
		if (hl >= sizeof(host))
			return EINVAL;
		memcpy(host, listen + 1, hl);
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return EINVAL;
		hl = (size_t)(colon - listen);
		if (hl >= sizeof(host))
			return EINVAL;
		memcpy(host, listen, hl);
	}
	host[hl] = '\0';
	port = colon + 1;
	if (rt_parse_u64(port, 0, 65535, &pnum))
		return EINVAL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (strcmp(host, "localhost") == 0)
		rt_strlcpy(host, "127.0.0.1", sizeof(host)); /* not ::1 first */
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0 || !ai)
		return EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*lenp = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int rt_http_start(struct rt_http **hp, const struct rt_http_deps *deps)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct rt_http *h;
	unsigned flags, threads;
	size_t nroutes;
	long ncpu;
	int err;

	/* 0 threads: one per core; more only adds switching. */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	threads = deps->conf->http_threads ? deps->conf->http_threads
					   : (unsigned)(ncpu > 0 ? ncpu : 2);
	err = parse_listen(deps->conf->listen, &ss, &sslen);
	if (err) {
		rt_error("bad listen address", "listen=\"%s\"",
			 deps->conf->listen);
		return EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;
	h->conf = deps->conf;
	h->store = deps->store;
	h->auth = deps->auth;
	h->dni = deps->dni;
	h->calls = deps->calls;
	h->recorder = deps->recorder;
	h->rid_prefix = randombytes_random();
	rt_http_routes(&nroutes);
	h->recordings_dir = rt_conf_beside_db(h->conf, h->conf->recordings_dir,
					      "recordings");
	err = h->recordings_dir ? 0 : ENOMEM;
	if (!err)
		err = rt_http_metrics_alloc(&h->metrics, nroutes);
	if (!err)
		err = rt_ratelimit_alloc(&h->limit, h->conf->dni_rate_limit,
					 h->conf->dni_rate_burst);
	if (err)
		goto out;

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
		MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, h, /* must come first */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		/* MHD clears a connection's pool between requests: keep it
		 * as small as an API request needs (headers up to ~12 KiB). */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)(h->conf->http_timeout / 1000),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
	if (!h->mhd) {
		rt_error("cannot listen", "listen=\"%s\"", deps->conf->listen);
		err = EADDRINUSE;
		goto out;
	}
	{
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);

		h->port = di ? di->port : 0;
	}
out:
	if (err) {
		rt_http_metrics_free(h->metrics);
		rt_ratelimit_free(h->limit);
		free(h->recordings_dir);
		free(h);
	} else {
		*hp = h;
	}
	return err;
}

uint16_t rt_http_port(const struct rt_http *h)
{
	return h->port;
}

void rt_http_quiesce(struct rt_http *h)
{
	MHD_socket s = MHD_quiesce_daemon(h->mhd);

	if (s != MHD_INVALID_SOCKET)
		close(s);
}

unsigned rt_http_inflight(struct rt_http *h)
{
	return atomic_load(&h->inflight);
}

void rt_http_stop(struct rt_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	rt_http_metrics_free(h->metrics);
	rt_ratelimit_free(h->limit);
	free(h->recordings_dir);
	free(h);
}
