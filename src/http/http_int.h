/* Inside http: the request, the route table entry, and helpers for handlers. */
#ifndef RT_HTTP_INT_H
#define RT_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>

#include "http/http.h"

struct rt_http {
	const struct rt_conf *conf;
	struct rt_store *store;
	struct rt_auth *auth;
	struct rt_dni *dni;	      /* NULL: the DNI endpoints answer 503 */
	struct rt_call_router *calls; /* NULL: no call routing to tell */
	struct rt_recorder *recorder; /* NULL: no recording metrics */
	struct rt_ratelimit *limit;   /* per client address, public routes */
	struct MHD_Daemon *mhd;
	uint16_t port;
	_Atomic unsigned inflight;
	/* Request ids: a random prefix per start and a counter, so that
	 * making one costs no system call. */
	uint32_t rid_prefix;
	_Atomic uint64_t rid_seq;
	struct rt_http_metrics *metrics;
	char *recordings_dir; /* rt_conf_beside_db of recordings_dir */
};

/* docs/openapi.yaml, embedded at build time (gen/openapi.c). */
extern const char rt_http_openapi[];
extern const size_t rt_http_openapi_len;

struct rt_req;
typedef void(rt_route_h)(struct rt_req *r);

struct rt_route {
	struct rt_http_route_info info;
	rt_route_h *h;
};

#define RT_REQ_ID_MAX	     72
#define RT_MAX_EXTRA_HEADERS 4

struct rt_req {
	struct rt_http *srv;
	struct MHD_Connection *conn;
	size_t route_idx; /* index in the route table, or SIZE_MAX */
	const struct rt_route *route;
	char method[12];
	char *path;	  /* owned copy of the URL path */
	int64_t id;	  /* the {id} of the path, when the pattern has one */
	const char *tail; /* the {path...} of a static route, in path */
	char request_id[RT_REQ_ID_MAX];
	char ip[48];
	uint64_t t0_us;

	/* Request body. */
	struct rt_buf body;
	uint64_t body_seen; /* bytes received, kept or not */
	bool body_too_large;
	json_t *json; /* parsed body; NULL for routes without one */

	/* The caller (valid when authed). */
	bool authed;
	struct rt_principal principal;

	/* Response. */
	bool responded;
	int status;
	char *resp; /* owned */
	size_t resp_len;
	/* Or a file's bytes: resp_len of them from resp_off (rt_http_file). */
	bool resp_is_fd;
	int resp_fd; /* owned: MHD closes it once sent */
	uint64_t resp_off;
	const char *content_type;
	const char *cache_control;
	char *hdr_name[RT_MAX_EXTRA_HEADERS];
	char *hdr_value[RT_MAX_EXTRA_HEADERS];
	size_t nhdr;
};

/* The route table (routes.c). */
const struct rt_route *rt_http_routes(size_t *np);
/* Matches method and path: route index, or SIZE_MAX with *method_ok telling
 * whether the path matched with another method (405 rather than 404).  On
 * a match fills r->id / r->tail. */
size_t rt_http_match(struct rt_req *r, bool *method_ok);

/* ---- responses (req.c) -------------------------------------------------- */

/* Sends j as the body; takes the reference. */
void rt_http_json(struct rt_req *r, int status, json_t *j);
/* {"error":{"code":..,"message":..,"field":..}}; field may be NULL. */
void rt_http_error(struct rt_req *r, int status, const char *code,
		   const char *field, const char *fmt, ...) RT_PRINTF(5, 6);
/* The one place an errno value becomes an HTTP status for a handler. */
void rt_http_fail(struct rt_req *r, int err, const char *what);
/* Answers len bytes of the open file fd from off (fd is the answer's: it is
 * closed once sent, or if another answer replaces this one). */
void rt_http_file(struct rt_req *r, int status, const char *type, int fd,
		  uint64_t off, uint64_t len);
void rt_http_body(struct rt_req *r, int status, const char *type, char *body,
		  size_t len); /* takes body */
void rt_http_header(struct rt_req *r, const char *name, const char *value);

/* ---- request bodies ----------------------------------------------------- */

/* RT_F_FLAGS: an object of up to max (default 8) booleans, names of up to
 * 32 bytes, such as consent flags. */
enum rt_ftype {
	RT_F_STRING,
	RT_F_INT,
	RT_F_BOOL,
	RT_F_STRINGS,
	RT_F_TIME,
	RT_F_FLAGS,
	RT_F_OBJECT /* any object: its members are the handler's to check */
};
#define RT_F_REQUIRED 0x1u
#define RT_F_NULLABLE 0x2u

struct rt_field {
	const char *name;
	enum rt_ftype type;
	unsigned flags;
	size_t max; /* strings: bytes; arrays: items; 0 = 200 */
};

/* A validation failure: status (400 or 422), code, field, message. */
struct rt_http_err {
	int status;
	const char *code;
	char field[64];
	char message[256];
};
void rt_http_err_set(struct rt_http_err *e, int status, const char *code,
		     const char *field, const char *fmt, ...) RT_PRINTF(5, 6);
void rt_http_send_err(struct rt_req *r, const struct rt_http_err *e);

/*
 * Checks a body against its fields: an object, no unknown members, required
 * ones present, types right, strings within bounds and free of control
 * characters.  0 or EINVAL with e filled.
 */
int rt_http_check_fields(const json_t *body, const struct rt_field *fields,
			 size_t n, struct rt_http_err *e);
/* Parses data as a JSON object (UTF-8 checked by jansson); the body check
 * of the route table's check_body functions. */
json_t *rt_http_parse_json(const char *data, size_t len, struct rt_http_err *e);

/* The body parser of routes whose body is an empty object ({}), for
 * RT_API_BODY_CHECK(name, int, rt_http_empty_parse). */
int rt_http_empty_parse(const json_t *b, int *unused, struct rt_http_err *e);

/* Accessors after rt_http_check_fields: NULL / def when absent or null. */
const char *rt_json_str(const json_t *o, const char *k);
int64_t rt_json_int(const json_t *o, const char *k, int64_t def);
bool rt_json_has(const json_t *o, const char *k);

/* ---- lists -------------------------------------------------------------- */

/* Reads limit and cursor from the query string; on error answers 400. */
int rt_http_page(struct rt_req *r, struct rt_page *pg);
/* Reads an optional integer query parameter (>0); on error answers 400. */
int rt_http_query_id(struct rt_req *r, const char *name, int64_t *vp);
/* A list answer collects up to limit + 1 rows to know if more follow. */
struct rt_list {
	json_t *data;
	unsigned limit;
	int64_t last_id;
	bool more;
};
void rt_list_init(struct rt_list *l, const struct rt_page *pg);
/* Adds an item (takes it); returns 1 to stop when the page is full. */
int rt_list_add(struct rt_list *l, int64_t id, json_t *item);
/* Sends {"data":[...],"next_cursor":...}. */
void rt_list_send(struct rt_req *r, struct rt_list *l);
/* The frame of every list handler: reads limit and cursor, opens a read
 * transaction and starts the list; on error answers and returns nonzero. */
int rt_list_begin(struct rt_req *r, struct rt_page *pg, struct rt_list *l,
		  struct rt_store_tx **txp);
/* Ends the transaction and answers the page, or the store error err (the
 * 1 that rt_list_add returns for a full page is not an error). */
void rt_list_end(struct rt_req *r, struct rt_list *l, struct rt_store_tx *tx,
		 int err, const char *what);
/* Cursor codec, exported for tests: "c1." + base64url(id). */
void rt_http_cursor_encode(int64_t id, char out[32]);
int rt_http_cursor_decode(const char *s, int64_t *idp);

/* ---- transactions and audit --------------------------------------------- */

/* Begins a transaction; on error answers 503/500 and returns nonzero. */
int rt_http_begin(struct rt_req *r, bool write, struct rt_store_tx **txp);
/* Commits; on error answers 500 (replacing any answer) and returns nonzero. */
int rt_http_commit(struct rt_req *r, struct rt_store_tx *tx);
/* Records a change in the audit log within tx; details is taken. */
int rt_http_audit(struct rt_req *r, struct rt_store_tx *tx, int64_t account_id,
		  const char *action, const char *object_type,
		  int64_t object_id, json_t *details);

/* The scope of the caller: the account they act as. */
static inline int64_t rt_req_scope(const struct rt_req *r)
{
	return r->principal.account.id;
}
/* Role rank of the caller for granting roles; keys with admin scope rank as
 * admin. */
int rt_req_rank(const struct rt_req *r);

/* JSON of objects (json.c). */
json_t *rt_json_time(int64_t ms);	    /* RFC 3339 string, or null for 0 */
json_t *rt_json_str_or_null(const char *s); /* null for NULL or "" */
/* An id as a JSON string (ids past 2^53 would lose digits in JavaScript),
 * or null for 0. */
json_t *rt_json_id_string(int64_t id);
json_t *rt_json_account(const struct rt_account *a);
json_t *rt_json_user(const struct rt_user *u);
json_t *rt_json_membership(const struct rt_membership *m);
json_t *rt_json_apikey(const struct rt_apikey *k);
json_t *rt_json_scopes(unsigned scopes);

/* Metrics (metrics.c). */
int rt_http_metrics_alloc(struct rt_http_metrics **mp, size_t nroutes);
void rt_http_metrics_free(struct rt_http_metrics *m);
void rt_http_metrics_observe(struct rt_http_metrics *m, size_t route,
			     int status, uint64_t us);
void rt_http_metrics_write(struct rt_http_metrics *m, struct rt_buf *b);

/* ---- handlers, one file per resource (api_*.c) -------------------------- */

void rt_api_healthz(struct rt_req *r);
void rt_api_readyz(struct rt_req *r);
void rt_api_metrics(struct rt_req *r);
void rt_api_openapi(struct rt_req *r);
void rt_api_static(struct rt_req *r);
void rt_api_dni_js(struct rt_req *r);

void rt_api_me(struct rt_req *r);
void rt_api_login(struct rt_req *r);
void rt_api_logout(struct rt_req *r);
int rt_api_login_check(const char *data, size_t len);

void rt_api_accounts_list(struct rt_req *r);
void rt_api_accounts_create(struct rt_req *r);
void rt_api_accounts_get(struct rt_req *r);
void rt_api_accounts_update(struct rt_req *r);
int rt_api_accounts_create_check(const char *data, size_t len);
int rt_api_accounts_update_check(const char *data, size_t len);

void rt_api_users_list(struct rt_req *r);
void rt_api_users_create(struct rt_req *r);
void rt_api_users_get(struct rt_req *r);
void rt_api_users_update(struct rt_req *r);
int rt_api_users_create_check(const char *data, size_t len);
int rt_api_users_update_check(const char *data, size_t len);

void rt_api_memberships_list(struct rt_req *r);
void rt_api_memberships_create(struct rt_req *r);
void rt_api_memberships_get(struct rt_req *r);
void rt_api_memberships_update(struct rt_req *r);
void rt_api_memberships_delete(struct rt_req *r);
int rt_api_memberships_create_check(const char *data, size_t len);
int rt_api_memberships_update_check(const char *data, size_t len);

void rt_api_keys_list(struct rt_req *r);
void rt_api_keys_create(struct rt_req *r);
void rt_api_keys_get(struct rt_req *r);
void rt_api_keys_revoke(struct rt_req *r);
int rt_api_keys_create_check(const char *data, size_t len);

void rt_api_audit_list(struct rt_req *r);

void rt_api_numbers_list(struct rt_req *r);
void rt_api_numbers_create(struct rt_req *r);
void rt_api_numbers_import(struct rt_req *r);
void rt_api_numbers_get(struct rt_req *r);
void rt_api_numbers_update(struct rt_req *r);
void rt_api_numbers_release(struct rt_req *r);
int rt_api_numbers_create_check(const char *data, size_t len);
int rt_api_numbers_update_check(const char *data, size_t len);
json_t *rt_json_number(const struct rt_number *n);

void rt_api_dni_sessions_create(struct rt_req *r);
void rt_api_dni_sessions_get(struct rt_req *r);
void rt_api_dni_pageviews_create(struct rt_req *r);
void rt_api_dni_heartbeat(struct rt_req *r);
int rt_api_dni_sessions_create_check(const char *data, size_t len);
int rt_api_dni_pageviews_create_check(const char *data, size_t len);
int rt_api_dni_heartbeat_check(const char *data, size_t len);
void rt_api_pools_health(struct rt_req *r);
void rt_api_accounts_site_key(struct rt_req *r);
int rt_api_accounts_site_key_check(const char *data, size_t len);

void rt_api_calls_list(struct rt_req *r);
void rt_api_calls_get(struct rt_req *r);
void rt_api_calls_recording_get(struct rt_req *r);
void rt_api_calls_recording_delete(struct rt_req *r);
void rt_api_pools_list(struct rt_req *r);
void rt_api_pools_create(struct rt_req *r);
void rt_api_pools_get(struct rt_req *r);
void rt_api_pools_update(struct rt_req *r);
void rt_api_pools_deactivate(struct rt_req *r);
void rt_api_pools_numbers(struct rt_req *r);
int rt_api_pools_create_check(const char *data, size_t len);
int rt_api_pools_update_check(const char *data, size_t len);
json_t *rt_json_pool(const struct rt_pool *p);

void rt_api_flows_list(struct rt_req *r);
void rt_api_flows_create(struct rt_req *r);
void rt_api_flows_get(struct rt_req *r);
void rt_api_flows_update(struct rt_req *r);
void rt_api_flows_delete(struct rt_req *r);
void rt_api_flows_versions(struct rt_req *r);
void rt_api_flows_validate(struct rt_req *r);
void rt_api_flows_simulate(struct rt_req *r);
int rt_api_flows_create_check(const char *data, size_t len);
int rt_api_flows_update_check(const char *data, size_t len);
int rt_api_flows_validate_check(const char *data, size_t len);
int rt_api_flows_simulate_check(const char *data, size_t len);
void rt_api_audio_list(struct rt_req *r);
void rt_api_audio_create(struct rt_req *r);
void rt_api_audio_get(struct rt_req *r);
void rt_api_audio_file(struct rt_req *r);
void rt_api_audio_delete(struct rt_req *r);
void rt_api_source_rules_list(struct rt_req *r);
void rt_api_source_rules_create(struct rt_req *r);
void rt_api_source_rules_get(struct rt_req *r);
void rt_api_source_rules_update(struct rt_req *r);
void rt_api_source_rules_delete(struct rt_req *r);
int rt_api_source_rules_create_check(const char *data, size_t len);
int rt_api_source_rules_update_check(const char *data, size_t len);

/* Lower-cases and checks the shape of an email address in place. */
bool rt_api_email_normalize(char *email);

/*
 * Defines rt_api_<name>_get(), the handler of GET /v1/<things>/{id}: reads
 * object r->id in the caller's scope with getter and answers to_json of it.
 * Outside the scope it is 404, the same as missing.
 */
#define RT_API_GET(name, type, getter, to_json, what)                          \
	void rt_api_##name##_get(struct rt_req *r)                             \
	{                                                                      \
		struct rt_store_tx *tx;                                        \
		type obj;                                                      \
		int err;                                                       \
		if (rt_http_begin(r, false, &tx))                              \
			return;                                                \
		err = getter(tx, rt_req_scope(r), r->id, &obj);                \
		rt_store_rollback(tx);                                         \
		if (err)                                                       \
			rt_http_fail(r, err, what);                            \
		else                                                           \
			rt_http_json(r, 200, to_json(&obj));                   \
	}

/*
 * Defines rt_api_<name>_list(): a page of the objects in scope (of one
 * account with ?account_id=), from `int lister(tx, scope, account_id,
 * page, row, list)` whose row callback adds each to the list
 * (rt_list_add).
 */
#define RT_API_LIST(name, lister, row, what)                                   \
	void rt_api_##name##_list(struct rt_req *r)                            \
	{                                                                      \
		struct rt_store_tx *tx;                                        \
		int64_t account_id;                                            \
		struct rt_page pg;                                             \
		struct rt_list l;                                              \
		if (rt_http_query_id(r, "account_id", &account_id) ||          \
		    rt_list_begin(r, &pg, &l, &tx))                            \
			return;                                                \
		rt_list_end(r, &l, tx,                                         \
			    lister(tx, rt_req_scope(r), account_id, &pg, row,  \
				   &l),                                        \
			    what);                                             \
	}

/*
 * Defines rt_api_<name>_check() for the route table and the fuzz targets
 * from a body parser `int parse(const json_t *, struct T *, struct
 * rt_http_err *)`, so that both run exactly the handler's own parsing.
 */
#define RT_API_BODY_CHECK(name, type, parse)                                   \
	int rt_api_##name##_check(const char *data, size_t len)                \
	{                                                                      \
		struct rt_http_err e = {0};                                    \
		type in = {0};                                                 \
		json_t *j = rt_http_parse_json(data, len, &e);                 \
		int st;                                                        \
		if (!j)                                                        \
			return e.status;                                       \
		st = parse(j, &in, &e) ? e.status : 0;                         \
		json_decref(j);                                                \
		return st;                                                     \
	}

#endif
