/*
 * store: the one way to persistent data.
 *
 * Two layers, both here:
 *  - the connection layer: open a store by URL (a file path means SQLite), run
 *    migrations, check out a connection inside a transaction, run portable SQL
 *    with numbered parameters (?1, ?2 ...).  Backends are const ops structs
 *    (store_int.h); the wrappers below are where timing, asserts and fault
 *    injection live.
 *  - the data layer: typed functions per table.  Every function that touches
 *    tenant data takes `scope`, the account the caller acts as, and only sees
 *    that account and its descendants: an object outside the scope is
 *    ENOENT, exactly like one that does not exist.
 *
 * Errors are 0 or a positive errno value: ENOENT not found (or out of scope),
 * EEXIST unique constraint, EPERM not allowed by the data model, EBUSY locked
 * past the busy timeout, EIO anything else from the database.
 */
#ifndef RT_STORE_H
#define RT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct rt_store;
struct rt_store_tx;

/* ---- connection layer ------------------------------------------------- */

struct rt_store_opts {
	unsigned pool_size;	  /* connections kept open */
	uint64_t busy_timeout_ms; /* lock wait before EBUSY */
};

/*
 * Opens the store at url (a SQLite file path, or ":memory:").  Does not
 * migrate.  On success *sp is owned by the caller: rt_store_close().
 */
int rt_store_open(struct rt_store **sp, const char *url,
		  const struct rt_store_opts *opts);
void rt_store_close(struct rt_store *s);
const char *rt_store_backend(const struct rt_store *s);

/*
 * Applies every migration newer than the database's schema version, each in
 * its own transaction.  *appliedp (may be NULL) gets how many ran.  EPROTO
 * when the database is newer than this binary.
 */
int rt_store_migrate(struct rt_store *s, unsigned *appliedp);
/* Current and latest known schema versions. */
int rt_store_schema_version(struct rt_store *s, unsigned *curp,
			    unsigned *latestp);
/* Cheap round trip for /readyz. */
int rt_store_ping(struct rt_store *s);

/*
 * Checks out a connection and begins a transaction; `write` takes the write
 * lock up front (SQLite BEGIN IMMEDIATE) so that a transaction never fails
 * half way on a lock upgrade.  Finish with rt_store_commit() or
 * rt_store_rollback(); both release the connection and free *txp.
 */
int rt_store_begin(struct rt_store *s, bool write, struct rt_store_tx **txp);
int rt_store_commit(struct rt_store_tx *tx);
void rt_store_rollback(struct rt_store_tx *tx);

enum rt_val_type { RT_VAL_NULL, RT_VAL_INT, RT_VAL_TEXT, RT_VAL_BLOB };

/* A parameter or a column; text is borrowed (for columns: for the call).
 * A blob is s with i bytes (s may be NULL when i is 0). */
struct rt_val {
	enum rt_val_type type;
	int64_t i;
	const char *s;
};
#define RT_VNULL   ((struct rt_val){.type = RT_VAL_NULL})
#define RT_VINT(v) ((struct rt_val){.type = RT_VAL_INT, .i = (v)})
#define RT_VTEXT(v)                                                            \
	((struct rt_val){.type = (v) ? RT_VAL_TEXT : RT_VAL_NULL, .s = (v)})
#define RT_VBLOB(p, n)                                                         \
	((struct rt_val){.type = RT_VAL_BLOB, .i = (int64_t)(n), .s = (p)})

/* Row callback: 0 to go on, anything else stops the query and is returned. */
typedef int(rt_store_row_h)(const struct rt_val *cols, size_t ncols, void *arg);

/* Runs one statement; rowh may be NULL.  *changesp (may be NULL) = rows
 * changed. */
int rt_store_query(struct rt_store_tx *tx, const char *sql,
		   const struct rt_val *args, size_t nargs,
		   rt_store_row_h *rowh, void *arg, int64_t *changesp);

/* Metrics in Prometheus text format: store operation timings. */
void rt_store_metrics(const struct rt_store *s, struct rt_buf *b);

/* ---- data layer ------------------------------------------------------- */

#define RT_NAME_MAX  201 /* names: up to 200 bytes of UTF-8 */
#define RT_EMAIL_MAX 255

/* A page request: ids greater than after, at most limit rows. */
struct rt_page {
	int64_t after;
	unsigned limit;
};

#define RT_SITE_KEY_MAX 24 /* "pk_" and 20 characters */

struct rt_account {
	int64_t id;
	int64_t parent_id; /* 0 for a root account */
	char name[RT_NAME_MAX];
	char kind[16];	    /* "agency" or "client" */
	char time_zone[64]; /* IANA name, e.g. "America/New_York" */
	char currency[4];   /* ISO 4217, e.g. "USD" */
	char status[16];    /* "active" or "suspended" */
	int64_t created_at, updated_at;
	char site_key[RT_SITE_KEY_MAX]; /* public: names the account in dni.js
					 */
	/* Call flows' disclosure steps play (docs/flows.md); true for a new
	 * account. */
	bool recording_disclosure;
};
typedef int(rt_account_h)(const struct rt_account *a, void *arg);

/* Creates a root account (no parent): operators only, through the CLI. */
int rt_store_account_create_root(struct rt_store_tx *tx, struct rt_account *a);
/* Creates a child of a->parent_id, which must be an agency in scope. */
int rt_store_account_create(struct rt_store_tx *tx, int64_t scope,
			    struct rt_account *a);
int rt_store_account_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			 struct rt_account *a);
/* Writes name, time_zone, currency, status of a (by a->id). */
int rt_store_account_update(struct rt_store_tx *tx, int64_t scope,
			    struct rt_account *a);
int rt_store_account_list(struct rt_store_tx *tx, int64_t scope,
			  const struct rt_page *pg, rt_account_h *h, void *arg);
/* Every account, for the operator's CLI. */
int rt_store_account_list_all(struct rt_store_tx *tx, const struct rt_page *pg,
			      rt_account_h *h, void *arg);
int rt_store_account_count(struct rt_store_tx *tx, int64_t *np);
/* 0 when the account and every account above it are active, EPERM when one
 * of them is suspended: suspending an agency suspends its clients. */
int rt_store_account_usable(struct rt_store_tx *tx, int64_t id);
/* Unscoped, for the public DNI endpoint: the account of a site key. */
int rt_store_account_by_site_key(struct rt_store_tx *tx, const char *key,
				 struct rt_account *a);
/* Gives the account a new site key (the old one stops working). */
int rt_store_account_rotate_site_key(struct rt_store_tx *tx, int64_t scope,
				     int64_t id, struct rt_account *a);
/* A new random site key. */
void rt_store_site_key_new(char key[RT_SITE_KEY_MAX]);
/* True (0) when id is scope or one of its descendants, else ENOENT. */
int rt_store_account_in_scope(struct rt_store_tx *tx, int64_t scope,
			      int64_t id);

struct rt_user {
	int64_t id;
	char email[RT_EMAIL_MAX];
	char name[RT_NAME_MAX];
	char status[16]; /* "active" or "disabled" */
	int64_t created_at, updated_at, last_login_at;
	/* Where the user takes calls that a flow dials (a dial step's
	 * user_id): E.164 or a sip:/sips: URI; "" for none. */
	char phone[256];
};
typedef int(rt_user_h)(const struct rt_user *u, void *arg);

/* Creates a user with a first membership in account_id (in scope); EEXIST
 * when the email is taken. */
int rt_store_user_create(struct rt_store_tx *tx, int64_t scope,
			 struct rt_user *u, const char *pw_hash,
			 int64_t account_id, const char *role);
/* A user is visible in scope when they hold a membership in it. */
int rt_store_user_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_user *u);
int rt_store_user_list(struct rt_store_tx *tx, int64_t scope,
		       const struct rt_page *pg, rt_user_h *h, void *arg);
/* Writes name, status and phone; pw_hash too when not NULL.  EPERM when
 * the user also belongs to accounts outside scope. */
int rt_store_user_update(struct rt_store_tx *tx, int64_t scope,
			 const struct rt_user *u, const char *pw_hash);
/* Unscoped, for login: the user and the password hash (size >= 128). */
int rt_store_user_by_email(struct rt_store_tx *tx, const char *email,
			   struct rt_user *u, char *pw_hash, size_t pw_size);
int rt_store_user_by_id(struct rt_store_tx *tx, int64_t id, struct rt_user *u);
int rt_store_user_list_all(struct rt_store_tx *tx, const struct rt_page *pg,
			   rt_user_h *h, void *arg);
int rt_store_user_touch_login(struct rt_store_tx *tx, int64_t id, int64_t now);
/* Unscoped, for the call router's loader: where an active user takes
 * calls, into out ("" when they have not said).  ENOENT for an unknown or
 * disabled user. */
int rt_store_user_phone(struct rt_store_tx *tx, int64_t user_id, char *out,
			size_t size);

struct rt_membership {
	int64_t id;
	int64_t user_id;
	int64_t account_id;
	char role[16]; /* owner, admin, analyst, agent */
	int64_t created_at;
};
typedef int(rt_membership_h)(const struct rt_membership *m, void *arg);

int rt_store_membership_create(struct rt_store_tx *tx, int64_t scope,
			       struct rt_membership *m);
int rt_store_membership_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			    struct rt_membership *m);
/* Filters: user_id / account_id 0 for any. */
int rt_store_membership_list(struct rt_store_tx *tx, int64_t scope,
			     int64_t user_id, int64_t account_id,
			     const struct rt_page *pg, rt_membership_h *h,
			     void *arg);
int rt_store_membership_update(struct rt_store_tx *tx, int64_t scope,
			       struct rt_membership *m);
int rt_store_membership_delete(struct rt_store_tx *tx, int64_t scope,
			       int64_t id);
/* Unscoped, for login: the user's membership that reaches account_id (its
 * own account or an ancestor of it, the nearest one), or with account_id 0
 * the membership nearest a root. */
int rt_store_membership_for_login(struct rt_store_tx *tx, int64_t user_id,
				  int64_t account_id, struct rt_membership *m);

#define RT_KEY_PREFIX_MAX 24
struct rt_apikey {
	int64_t id;
	int64_t account_id;
	char name[RT_NAME_MAX];
	char prefix[RT_KEY_PREFIX_MAX]; /* the visible start of the secret */
	unsigned scopes;		/* RT_SCOPE_* bits (auth.h) */
	int64_t created_by_user;	/* 0 when made by a key or the CLI */
	int64_t created_at, last_used_at, expires_at,
		revoked_at; /* 0 = never */
};
typedef int(rt_apikey_h)(const struct rt_apikey *k, void *arg);

/* hash: hex of the keyed hash of the secret (never the secret itself). */
int rt_store_apikey_create(struct rt_store_tx *tx, int64_t scope,
			   struct rt_apikey *k, const char *hash);
int rt_store_apikey_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			struct rt_apikey *k);
int rt_store_apikey_list(struct rt_store_tx *tx, int64_t scope,
			 int64_t account_id, const struct rt_page *pg,
			 rt_apikey_h *h, void *arg);
/* EALREADY when it was revoked before. */
int rt_store_apikey_revoke(struct rt_store_tx *tx, int64_t scope, int64_t id,
			   int64_t now);
/* Unscoped, for the operator's CLI. */
int rt_store_apikey_get_any(struct rt_store_tx *tx, int64_t id,
			    struct rt_apikey *k);
int rt_store_apikey_list_all(struct rt_store_tx *tx, const struct rt_page *pg,
			     rt_apikey_h *h, void *arg);
/* Unscoped, for authentication, in one statement: the key with this hash,
 * its account, and *usable = that account and all above it are active. */
int rt_store_apikey_auth(struct rt_store_tx *tx, const char *hash,
			 struct rt_apikey *k, struct rt_account *a,
			 bool *usable);
/* Unscoped, for authentication. */
int rt_store_apikey_by_hash(struct rt_store_tx *tx, const char *hash,
			    struct rt_apikey *k);
int rt_store_apikey_touch(struct rt_store_tx *tx, int64_t id, int64_t now);

/* Dashboard login sessions; token_hash is the keyed hash of the cookie. */
struct rt_websession {
	int64_t id;
	int64_t user_id;
	int64_t account_id; /* acted as */
	int64_t membership_id;
	char role[16];
	char csrf[48];
	int64_t created_at, expires_at;
};
int rt_store_websession_create(struct rt_store_tx *tx, struct rt_websession *w,
			       const char *token_hash);
int rt_store_websession_by_hash(struct rt_store_tx *tx, const char *token_hash,
				int64_t now, struct rt_websession *w);
int rt_store_websession_delete(struct rt_store_tx *tx, int64_t id);
int rt_store_websession_purge(struct rt_store_tx *tx, int64_t now);

struct rt_audit {
	int64_t id;
	int64_t account_id;
	char actor_type[16]; /* api_key, user, cli, system */
	int64_t actor_id;
	char action[48];      /* e.g. "account.create" */
	char object_type[32]; /* e.g. "account" */
	int64_t object_id;
	const char *details; /* JSON text; borrowed */
	char ip[48];
	char request_id[72];
	int64_t created_at;
};
typedef int(rt_audit_h)(const struct rt_audit *a, void *arg);
int rt_store_audit_add(struct rt_store_tx *tx, const struct rt_audit *a);
int rt_store_audit_list(struct rt_store_tx *tx, int64_t scope,
			int64_t account_id, const struct rt_page *pg,
			rt_audit_h *h, void *arg);

/* ---- attribution: where a visit came from (classified in src/dni) ---- */

/* Longest value kept of a tag or click id, in bytes; longer ones are cut
 * at a character boundary.  Longest URL accepted. */
#define RT_DNI_VALUE_MAX 255
#define RT_DNI_PATH_MAX	 1024
#define RT_DNI_URL_MAX	 8192

#define RT_DNI_V (RT_DNI_VALUE_MAX + 1)

/* Click ids, in the order they are reported. */
enum rt_click_id {
	RT_CLICK_GCLID,
	RT_CLICK_GBRAID,
	RT_CLICK_WBRAID,
	RT_CLICK_MSCLKID,
	RT_CLICK_FBCLID,
	RT_CLICK_TTCLID,
	RT_CLICK_LI_FAT_ID,
	RT_CLICK__N
};
extern const char *const rt_dni_click_names[RT_CLICK__N];

/* A classified visit.  Empty strings are "absent". */
struct rt_visit_source {
	char source[RT_DNI_V];
	char medium[RT_DNI_V];
	char campaign[RT_DNI_V];
	char term[RT_DNI_V];
	char content[RT_DNI_V];
	char channel[32]; /* the exact GA4 channel name */
	char ad_group[RT_DNI_V];
	char keyword[RT_DNI_V];
	char campaign_id[RT_DNI_V];
	char matchtype[32];
	char network[32];
	char device[32];
	char click[RT_CLICK__N][RT_DNI_V];
	char landing_host[RT_DNI_V];
	char landing_page[RT_DNI_PATH_MAX]; /* path only, no query */
	char referrer_host[RT_DNI_V];
};

/* ---- tracking numbers ---------------------------------------------------- */

struct rt_number {
	int64_t id;
	int64_t account_id;
	char e164[20];
	char label[RT_NAME_MAX];
	char kind[16];		    /* pool, source, offline */
	char source[RT_NAME_MAX];   /* kind source: the source it stands for */
	char medium[64];	    /* kind source: its medium, "" for any */
	char campaign[RT_NAME_MAX]; /* kind offline: the campaign */
	char destination[256];	    /* E.164 or a sip: URI; "" for none yet */
	char status[16];	    /* active, inactive, released */
	char number_type[16];	    /* local, mobile, toll_free, ... */
	char country[3];	    /* ISO 3166-1 alpha-2 */
	int64_t pool_id;	    /* kind pool: its pool, 0 for none */
	/* Calls to the number are not recorded (the column record_calls,
	 * on by default: a zeroed struct records). */
	bool record_off;
	int64_t flow_id; /* the call flow its calls run; 0 for none */
	int64_t created_at, updated_at, released_at;
};
typedef int(rt_number_h)(const struct rt_number *n, void *arg);

/* EEXIST when the number is in someone's inventory already; with
 * n->pool_id (n->flow_id) set, ENOENT when that pool (flow) is not in
 * scope and EPERM when it belongs to another account than the number. */
int rt_store_number_create(struct rt_store_tx *tx, int64_t scope,
			   struct rt_number *n);
int rt_store_number_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			struct rt_number *n);
/* Writes label, kind, source, medium, campaign, destination, status,
 * pool_id, record_off and flow_id (ENOENT / EPERM for the pool and the
 * flow as rt_store_number_create). */
int rt_store_number_update(struct rt_store_tx *tx, int64_t scope,
			   struct rt_number *n);
/* account_id 0 for every account in scope; released ones only on ask. */
int rt_store_number_list(struct rt_store_tx *tx, int64_t scope,
			 int64_t account_id, bool released,
			 const struct rt_page *pg, rt_number_h *h, void *arg);
/* Takes a number out of the inventory; EALREADY when it was before. */
int rt_store_number_release(struct rt_store_tx *tx, int64_t scope, int64_t id,
			    int64_t now);
/* Unscoped, for the call path: the live number with this E.164. */
int rt_store_number_by_e164(struct rt_store_tx *tx, const char *e164,
			    struct rt_number *n);

/* ---- number pools -------------------------------------------------------- */

#define RT_POOL_TARGETS_MAX 20 /* swap targets of one pool */
#define RT_POOL_PARAM_MAX   64 /* a URL parameter name: up to 63 bytes */

/*
 * A pool: the numbers (of kind pool) that visitors of a site are shown in
 * turn, in place of the swap targets, the business numbers written on it.
 * Durations are milliseconds.
 */
struct rt_pool {
	int64_t id;
	int64_t account_id;
	char name[RT_NAME_MAX];
	char swap_targets[RT_POOL_TARGETS_MAX][20]; /* E.164 */
	unsigned nswap_targets;
	char sources[16];    /* all, paid_search, paid_social, organic, rule */
	int64_t session_ttl; /* a session's idle timeout */
	int64_t cooldown;    /* a number rests this long after release */
	char policy[32];     /* least_recently_released */
	char on_exhausted[32];		       /* share_least_recent */
	char keyword_param[RT_POOL_PARAM_MAX]; /* ValueTrack names read */
	char ad_group_param[RT_POOL_PARAM_MAX];
	char campaign_param[RT_POOL_PARAM_MAX];
	char matchtype_param[RT_POOL_PARAM_MAX];
	char network_param[RT_POOL_PARAM_MAX];
	char device_param[RT_POOL_PARAM_MAX];
	char status[16];      /* active, inactive */
	int64_t number_count; /* read only: live numbers in the pool */
	int64_t flow_id;      /* the call flow its numbers' calls run; 0 none */
	int64_t created_at, updated_at;
};
typedef int(rt_pool_h)(const struct rt_pool *p, void *arg);

/* Creates p in p->account_id (in scope, else ENOENT); p is filled from the
 * stored row.  With p->flow_id set, ENOENT when that flow is not in scope
 * and EPERM when it belongs to another account than the pool. */
int rt_store_pool_create(struct rt_store_tx *tx, int64_t scope,
			 struct rt_pool *p);
/* On ENOENT *p is left as it was. */
int rt_store_pool_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_pool *p);
/* Writes every field but the account (by p->id); p is filled again.  The
 * flow as on create (ENOENT / EPERM). */
int rt_store_pool_update(struct rt_store_tx *tx, int64_t scope,
			 struct rt_pool *p);
/* account_id 0 for every account in scope. */
int rt_store_pool_list(struct rt_store_tx *tx, int64_t scope,
		       int64_t account_id, const struct rt_page *pg,
		       rt_pool_h *h, void *arg);
/* The live (not released) numbers of a pool, by id; ENOENT when the pool
 * is not in scope. */
int rt_store_pool_numbers(struct rt_store_tx *tx, int64_t scope,
			  int64_t pool_id, const struct rt_page *pg,
			  rt_number_h *h, void *arg);

/* ---- DNI sessions: visits, the number each was shown, page views -------- */

/* Stored lengths of a session's free text; longer values are cut (at a
 * character boundary) when the session is made. */
#define RT_SESSION_URL_MAX   2048 /* landing URL, referrer, page view URL */
#define RT_SESSION_TITLE_MAX 512
#define RT_SESSION_UA_MAX    512
#define RT_VISITOR_ID_MAX    65

/* A string added here must be added to the DNI writer's rec_strs too
 * (src/dni/service.c), which packs sessions while they wait. */
struct rt_dni_session {
	int64_t id; /* random, public */
	int64_t account_id;
	int64_t pool_id;      /* 0: none */
	int64_t number_id;    /* the tracking number shown; 0: the site's own */
	unsigned lease_flags; /* RT_LEASE_SHARED, RT_LEASE_EARLY (dni.h) */
	char visitor_id[RT_VISITOR_ID_MAX];
	char ga_client_id[64];
	struct rt_visit_source src;
	char landing_url[RT_SESSION_URL_MAX + 1];
	char referrer[RT_SESSION_URL_MAX + 1];
	char title[RT_SESSION_TITLE_MAX + 1];
	char user_agent[RT_SESSION_UA_MAX + 1];
	char device_class[16]; /* desktop, mobile, tablet, bot */
	char browser[32], os[32];
	char consent[128]; /* JSON object as sent, "" for none */
	int64_t pageviews;
	int64_t created_at, last_seen_at, ended_at; /* ended_at 0: live */
	/* Read only, joined from numbers: the tracking number and its kind. */
	char number_e164[20];
	char number_kind[16];
};
typedef int(rt_dni_session_h)(const struct rt_dni_session *s, void *arg);

/* The DNI writer's calls: unscoped, since the session names its account
 * and these run for the public endpoint, never for an API caller. */
int rt_store_dni_session_insert(struct rt_store_tx *tx,
				const struct rt_dni_session *s);
/* A page view: its row, the session's count and last_seen_at. */
int rt_store_dni_pageview_add(struct rt_store_tx *tx, int64_t account_id,
			      int64_t session_id, const char *url,
			      const char *title, int64_t at);
/* last_seen_at = at (heartbeats). */
int rt_store_dni_session_touch(struct rt_store_tx *tx, int64_t session_id,
			       int64_t at);
/* ended_at = at, unless it ended before. */
int rt_store_dni_session_end(struct rt_store_tx *tx, int64_t session_id,
			     int64_t at);
/* lease_flags |= flags. */
int rt_store_dni_session_flag(struct rt_store_tx *tx, int64_t session_id,
			      unsigned flags);
/* Sessions not ended and seen at or after since, for a restart. */
int rt_store_dni_session_open(struct rt_store_tx *tx, int64_t since,
			      rt_dni_session_h *h, void *arg);

/* Scoped reads, for support and reports. */
int rt_store_dni_session_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			     struct rt_dni_session *s);
/*
 * Who held number_id at t, from the stored sessions (what the lease engine
 * answers from memory, for when it cannot: after a restart, say): sessions
 * shown the number that started by t and had not ended by t, else those
 * that ended within grace_ms before t; most recent first, up to max ids.
 * *livep says which of the two the ids are.
 */
int rt_store_dni_session_who(struct rt_store_tx *tx, int64_t number_id,
			     int64_t t, int64_t grace_ms, int64_t *ids,
			     size_t max, size_t *np, bool *livep);
struct rt_dni_pageview {
	int64_t id;
	char url[RT_SESSION_URL_MAX + 1];
	char title[RT_SESSION_TITLE_MAX + 1];
	int64_t at;
};
typedef int(rt_dni_pageview_h)(const struct rt_dni_pageview *p, void *arg);
/* A session's page views in order, at most limit of them: the landing
 * page first (from the session's row, id 0), then dni_pageviews. */
int rt_store_dni_pageview_list(struct rt_store_tx *tx, int64_t scope,
			       int64_t session_id, unsigned limit,
			       rt_dni_pageview_h *h, void *arg);

/*
 * Idempotency keys for POST.  begin claims (principal, key): 0 when claimed,
 * EEXIST with *statusp and *bodyp (caller frees) of the stored response
 * when it completed before (status 0: still in progress), and EINVAL when
 * the key was used for a different request (request_hash differs).
 */
int rt_store_idem_begin(struct rt_store_tx *tx, const char *principal,
			const char *key, const char *request_hash, int64_t now,
			int *statusp, char **bodyp);
int rt_store_idem_finish(struct rt_store_tx *tx, const char *principal,
			 const char *key, int status, const char *body);
int rt_store_idem_forget(struct rt_store_tx *tx, const char *principal,
			 const char *key);

/* ---- custom source rules ------------------------------------------------- */

#define RT_RULE_TEXT_MAX   256 /* a rule's value and labels: up to 255 bytes */
#define RT_STORE_RULES_MAX 200 /* rules of one account */

/*
 * A custom source rule of an account: when the visit's `field` matches
 * `value` by `op`, the visit's source becomes source_label (and medium
 * medium_label), and pool_id, when set, serves it.  An account's rules are
 * tried in position order (docs/attribution.md).  The data layer keeps the
 * positions of an account 1, 2, ... n: inserting, moving or deleting a rule
 * moves the others.
 */
struct rt_source_rule {
	int64_t id;
	int64_t account_id;
	int64_t position; /* 1-based; 0 on create or update: last / unchanged */
	char name[RT_NAME_MAX];
	char field[32]; /* source, medium, landing_page, gclid, ... */
	char op[16];	/* equals, prefix, contains, regex, exists */
	char value[RT_RULE_TEXT_MAX];
	bool case_sensitive;
	char source_label[RT_RULE_TEXT_MAX];
	char medium_label[RT_RULE_TEXT_MAX]; /* "" keeps the visit's medium */
	int64_t pool_id;		     /* 0 for none */
	char status[16];		     /* active, inactive */
	int64_t created_at, updated_at;
};
typedef int(rt_source_rule_h)(const struct rt_source_rule *r, void *arg);

/*
 * Creates r in r->account_id (in scope, else ENOENT) at r->position (0 or
 * past the end: last), moving the rules at and after it down one; r is
 * filled from the stored row.  With r->pool_id set, ENOENT when that pool
 * is not in scope and EPERM when it is another account's.  ENOSPC when the
 * account has RT_STORE_RULES_MAX rules already.
 */
int rt_store_source_rule_create(struct rt_store_tx *tx, int64_t scope,
				struct rt_source_rule *r);
/* On ENOENT *r is left as it was. */
int rt_store_source_rule_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			     struct rt_source_rule *r);
/* Writes every field but the account (by r->id); r->position 0 keeps the
 * place, another moves the rule there (past the end: last).  The pool as
 * on create.  r is filled again. */
int rt_store_source_rule_update(struct rt_store_tx *tx, int64_t scope,
				struct rt_source_rule *r);
/* Deletes a rule; the rules after it move up one. */
int rt_store_source_rule_delete(struct rt_store_tx *tx, int64_t scope,
				int64_t id);
/*
 * Rules by account, then position, then id; account_id 0 for every account
 * in scope.  pg->after is the id of the last rule of the previous page;
 * ESTALE when that rule is no longer in scope (deleted since).
 */
int rt_store_source_rule_list(struct rt_store_tx *tx, int64_t scope,
			      int64_t account_id, const struct rt_page *pg,
			      rt_source_rule_h *h, void *arg);
/* Every active rule of one account, in order, unpaged: what the visit path
 * reads once and caches.  scope 0 reads without a tenant check (the visit
 * path knows the account from the site); otherwise ENOENT when account_id
 * is not in scope. */
int rt_store_source_rule_list_active(struct rt_store_tx *tx, int64_t scope,
				     int64_t account_id, rt_source_rule_h *h,
				     void *arg);

/* ---- call flows ----------------------------------------------------------
 *
 * A flow is an account's named JSON document (src/flow, docs/flows.md);
 * every save of the document is a new version, kept, so that a call can
 * name the version it ran.  Deleting a flow hides it (its versions stay
 * for the calls that ran them); a flow that numbers or pools use cannot be
 * deleted.
 */

struct rt_flow_row {
	int64_t id;
	int64_t account_id;
	char name[RT_NAME_MAX];
	int64_t version;	/* the latest */
	int64_t numbers, pools; /* using it now */
	int64_t created_at, updated_at;
};
typedef int(rt_flow_row_h)(const struct rt_flow_row *f, void *arg);

struct rt_flow_version {
	int64_t version;
	int64_t created_at;
	int64_t created_by; /* user id; 0 for an API key or the CLI */
};
typedef int(rt_flow_version_h)(const struct rt_flow_version *v, void *arg);

/* Creates f (f->account_id in scope, else ENOENT) with doc as version 1;
 * f is filled from the stored row. */
int rt_store_flow_create(struct rt_store_tx *tx, int64_t scope,
			 struct rt_flow_row *f, const char *doc,
			 int64_t user_id);
/* A flow not deleted; on ENOENT *f is left as it was. */
int rt_store_flow_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_flow_row *f);
/* Renames (name not NULL) and/or saves doc (not NULL) as the next
 * version; f is filled again. */
int rt_store_flow_update(struct rt_store_tx *tx, int64_t scope, int64_t id,
			 const char *name, const char *doc, int64_t user_id,
			 struct rt_flow_row *f);
/* ENOTEMPTY while numbers or pools use it. */
int rt_store_flow_delete(struct rt_store_tx *tx, int64_t scope, int64_t id);
/* Flows by id, account_id 0 for every account in scope. */
int rt_store_flow_list(struct rt_store_tx *tx, int64_t scope,
		       int64_t account_id, const struct rt_page *pg,
		       rt_flow_row_h *h, void *arg);
/* The document of a version (0: the latest) of a flow in scope (deleted
 * ones too: calls name them); *docp is the caller's to free. */
int rt_store_flow_doc(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      int64_t version, char **docp);
/* Versions, newest first. */
int rt_store_flow_versions(struct rt_store_tx *tx, int64_t scope, int64_t id,
			   rt_flow_version_h *h, void *arg);
/* Whether flow_id (0: none, fine) is a flow of account_id: ENOENT when
 * not in scope, EPERM when another account's. */
int rt_store_flow_fits(struct rt_store_tx *tx, int64_t scope, int64_t flow_id,
		       int64_t account_id);
/* Round robin: the counter of a flow's dial step, then counted on. */
int rt_store_flow_counter_next(struct rt_store_tx *tx, int64_t flow_id,
			       const char *step, int64_t *nextp);
/* Every counter of a flow's dial steps: h(step, next, arg), by step.  The
 * step text is borrowed for the call; a nonzero return of h stops and is
 * returned.  Unscoped, as the call router reads them. */
typedef int(rt_flow_counter_h)(const char *step, int64_t next, void *arg);
int rt_store_flow_counters(struct rt_store_tx *tx, int64_t flow_id,
			   rt_flow_counter_h *h, void *arg);
/* Sets a counter to next unless it is already higher (an upsert that
 * never goes back), so that counts kept in memory can be written back
 * without undoing a newer one.  ENOENT when there is no such flow. */
int rt_store_flow_counter_set(struct rt_store_tx *tx, int64_t flow_id,
			      const char *step, int64_t next);

/* ---- uploaded audio --------------------------------------------------------
 *
 * Audio files an account uploaded for its flows' prompts (docs/flows.md),
 * kept converted: 8 kHz mono 16-bit PCM, little-endian, in the row (at
 * most RT_AUDIO_MAX_MS long).  flow_audio lists the files each flow's
 * latest version plays, so that a file in use is not deleted.
 */

#define RT_AUDIO_RATE	8000
#define RT_AUDIO_MAX_MS (10 * 60 * 1000) /* ten minutes */

struct rt_audio_row {
	int64_t id;
	int64_t account_id;
	char name[RT_NAME_MAX]; /* the user's label, such as the file's name */
	char format[8];		/* what was uploaded: wav, mp3 or ogg */
	int64_t duration_ms;
	int64_t bytes; /* of the converted audio */
	int64_t flows; /* active flows whose latest version plays it */
	int64_t created_at;
};
typedef int(rt_audio_row_h)(const struct rt_audio_row *a, void *arg);

/* Stores n samples of pcm (8 kHz mono; borrowed) as a->account_id's (in
 * scope, else ENOENT) with a->name and a->format; a is filled from the
 * stored row.  EINVAL for no samples or more than RT_AUDIO_MAX_MS. */
int rt_store_audio_create(struct rt_store_tx *tx, int64_t scope,
			  struct rt_audio_row *a, const int16_t *pcm, size_t n);
/* An audio file in scope (0: any account); on ENOENT *a is left as it
 * was. */
int rt_store_audio_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		       struct rt_audio_row *a);
/* Audio files by id, account_id 0 for every account in scope. */
int rt_store_audio_list(struct rt_store_tx *tx, int64_t scope,
			int64_t account_id, const struct rt_page *pg,
			rt_audio_row_h *h, void *arg);
/* The samples of an audio file in scope (0: any account): *pcmp
 * (malloc'd, the caller's to free) with *np samples. */
int rt_store_audio_pcm(struct rt_store_tx *tx, int64_t scope, int64_t id,
		       int16_t **pcmp, size_t *np);
/* Deletes an audio file in scope; ENOTEMPTY while the latest version of
 * an active flow plays it. */
int rt_store_audio_delete(struct rt_store_tx *tx, int64_t scope, int64_t id);
/* Replaces the list of audio files that flow_id's latest version plays
 * (ids, n of them, borrowed; duplicates are fine).  Unscoped: the caller
 * checked the flow and the files (rt_store_audio_get). */
int rt_store_flow_audio_set(struct rt_store_tx *tx, int64_t flow_id,
			    const int64_t *ids, size_t n);

/* ---- calls ----------------------------------------------------------------
 *
 * Written by the call service (src/call) from the SIP thread's events, in
 * batches; read by the API.  A call's row exists from its INVITE on.
 */

#define RT_CALL_CANDIDATES_MAX 8 /* sessions listed for a shared number */

struct rt_call {
	int64_t id; /* given by the call service: rt_store_call_next_id */
	int64_t account_id;
	int64_t number_id; /* 0: not in the inventory any more */
	char tracking_number[20];
	char number_kind[16];
	char caller_number[20]; /* E.164; "" when withheld */
	char caller_raw[64];
	char caller_location[96];
	char caller_country[3];
	char caller_line_type[24];
	char destination[256];
	char trunk[64];
	char sip_call_id[128];
	int64_t started_at, answered_at, ended_at; /* 0: not (yet) */
	int64_t ring_ms, talk_ms, total_ms;	   /* set at the end */
	char disposition[16]; /* in_progress, answered, no_answer, busy,
				 failed, abandoned, interrupted, voicemail */
	char hangup_side[8];  /* caller, callee, system; "" while open */
	int sip_status;	      /* the final status; 0 while open */
	char sip_reason[64];
	bool first_time; /* no earlier call from this caller to the account */
	/* Attribution. */
	char confidence[8]; /* exact, grace, shared, none, fixed */
	int64_t dni_session_id;
	int64_t candidates[RT_CALL_CANDIDATES_MAX];
	size_t ncandidates;
	struct rt_visit_source src;
	char landing_url[RT_SESSION_URL_MAX + 1];
	char referrer[RT_SESSION_URL_MAX + 1];
	char ga_client_id[64];
	char device_class[16], browser[32], os[32];
	/* What a call flow added (docs/flows.md "The call record"). */
	int64_t flow_id, flow_version; /* 0: the call ran no flow */
	char ivr_digits[33];	       /* digits pressed in menus */
	int64_t ivr_ms;		       /* time spent in menus */
	char agent[256];	       /* the dial target that answered */
	bool has_value;
	int64_t value_cents;
	char lead[16];	   /* "", "qualified", "unqualified" */
	char tags[1024];   /* JSON array text, "" none */
	char fields[2048]; /* JSON object text, "" none */
	int64_t created_at, updated_at;
};
typedef int(rt_call_h)(const struct rt_call *c, void *arg);

/* The id after the highest in use: the call service counts on from it. */
int rt_store_call_next_id(struct rt_store_tx *tx, int64_t *idp);
/* A new call (c->id set).  EEXIST when the id is taken. */
int rt_store_call_insert(struct rt_store_tx *tx, const struct rt_call *c);
/* Writes what changes as a call goes on (times, durations, disposition,
 * hangup, SIP status, destination, and what its flow added: the flow and
 * version, menu digits and time, agent, value, lead, tags and fields);
 * ENOENT for an unknown id.  The flow's path is written apart
 * (rt_store_call_path_set). */
int rt_store_call_update(struct rt_store_tx *tx, const struct rt_call *c);
/* The steps a call's flow took: JSON array text (the caller's, NULL
 * clears).  ENOENT for an unknown call. */
int rt_store_call_path_set(struct rt_store_tx *tx, int64_t call_id,
			   const char *json);
/* *jsonp: malloc'd JSON text (the caller frees it), or NULL when the call
 * ran no flow.  ENOENT when the call is not in scope. */
int rt_store_call_path_get(struct rt_store_tx *tx, int64_t scope,
			   int64_t call_id, char **jsonp);
/* One step of a call's timeline; detail is JSON text or NULL. */
int rt_store_call_event_add(struct rt_store_tx *tx, int64_t call_id,
			    int64_t account_id, int64_t at, const char *kind,
			    const char *detail);
/* Copies a DNI session's pages (rt_store_dni_pageview_list's order) to
 * the call, at most limit of them. */
int rt_store_call_pages_copy(struct rt_store_tx *tx, int64_t call_id,
			     int64_t account_id, int64_t session_id,
			     unsigned limit);
/* Whether the account has a call from caller that started before
 * before_ms (any disposition). */
int rt_store_call_caller_seen(struct rt_store_tx *tx, int64_t account_id,
			      const char *caller, int64_t before_ms,
			      bool *seenp);
/*
 * Calls left open by a crash: ended at their last event (or their start),
 * disposition interrupted, hangup side system; *np gets how many.  Run at
 * start, before the SIP thread takes calls.
 */
int rt_store_calls_interrupt_open(struct rt_store_tx *tx, int64_t now,
				  size_t *np);

/* A call's recording: one file under recordings_dir. */
struct rt_recording {
	int64_t id, call_id, account_id;
	char path[256]; /* relative to recordings_dir */
	char format[8]; /* opus, wav */
	int channels, sample_rate;
	int64_t duration_ms, bytes;
	bool complete; /* false while recording, or after a crash */
	int64_t created_at, updated_at;
	int64_t deleted_at; /* 0: not deleted */
};

/* r->id is filled.  EEXIST when the call has one already. */
int rt_store_recording_insert(struct rt_store_tx *tx, struct rt_recording *r);
/* Writes path, format, duration, size and complete (by r->call_id). */
int rt_store_recording_update(struct rt_store_tx *tx,
			      const struct rt_recording *r);
/* The call's recording, deleted or not; ENOENT when it has none. */
int rt_store_recording_get(struct rt_store_tx *tx, int64_t scope,
			   int64_t call_id, struct rt_recording *r);
/* Removes the row of a recording that never had a file. */
int rt_store_recording_drop(struct rt_store_tx *tx, int64_t call_id);
typedef int(rt_recording_h)(const struct rt_recording *r, void *arg);
/* Every recording still in WAV and not deleted (unscoped, for the start:
 * the ones a crash left, the ones to compact). */
int rt_store_recordings_wav(struct rt_store_tx *tx, rt_recording_h *h,
			    void *arg);
/* Marks it deleted at now and fills *r (its path: the caller removes the
 * file); ENOENT when there is none or it was deleted already. */
int rt_store_recording_delete(struct rt_store_tx *tx, int64_t scope,
			      int64_t call_id, int64_t now,
			      struct rt_recording *r);

/* The writer's read of a call it is recording (unscoped). */
int rt_store_call_read(struct rt_store_tx *tx, int64_t id, struct rt_call *c);

/* Reads, scoped like every API read. */
int rt_store_call_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_call *c);

struct rt_call_filter {
	int64_t account_id;	/* 0: every account in scope */
	int64_t from_ms, to_ms; /* started in [from, to); 0: open */
	char number[20];	/* tracking number, E.164 */
	char disposition[16];
	char channel[32];
	char source[RT_DNI_V];
	char campaign[RT_DNI_V];
	bool oldest_first; /* default: newest first */
};
/* Calls in scope that pass f, newest (or oldest) first by id; pg->after
 * is the id of the last call of the previous page. */
int rt_store_call_list(struct rt_store_tx *tx, int64_t scope,
		       const struct rt_call_filter *f, const struct rt_page *pg,
		       rt_call_h *h, void *arg);

struct rt_call_event {
	int64_t id, at;
	char kind[32];
	char detail[1024]; /* JSON text, "" for none */
};
typedef int(rt_call_event_row_h)(const struct rt_call_event *e, void *arg);
int rt_store_call_events_list(struct rt_store_tx *tx, int64_t scope,
			      int64_t call_id, unsigned limit,
			      rt_call_event_row_h *h, void *arg);
/* The call's pages in order (rt_dni_pageview_h: id is the position). */
int rt_store_call_pages_list(struct rt_store_tx *tx, int64_t scope,
			     int64_t call_id, unsigned limit,
			     rt_dni_pageview_h *h, void *arg);

/* ---- jobs (src/jobs) ---------------------------------------------------- */

#define RT_JOB_KIND_MAX 32
#define RT_JOB_ERROR_MAX 512

struct rt_job {
	int64_t id;
	int64_t account_id; /* 0: none */
	char kind[RT_JOB_KIND_MAX];
	int64_t ref_id; /* what it is about (a call's id), 0: nothing */
	char payload[1024]; /* JSON text */
	char state[16];	    /* queued, running, done, failed */
	int64_t attempts, max_attempts;
	int64_t run_at, lease_until;
	char worker[64];
	char last_error[RT_JOB_ERROR_MAX];
	int64_t created_at, updated_at, finished_at;
};
typedef int(rt_job_h)(const struct rt_job *j, void *arg);

/* Queues j (kind, account_id, ref_id, payload, max_attempts; run_at 0:
 * now): j->id and the rest filled in. */
int rt_store_job_add(struct rt_store_tx *tx, struct rt_job *j);
/*
 * Takes the next job due at now (queued with run_at <= now, or running
 * with its lease run out: its worker died) of one of the kinds (NULL:
 * any): running, leased to worker until now + lease_ms, one attempt more.
 * ENOENT when none is due.  Run it in a write transaction.
 */
int rt_store_job_claim(struct rt_store_tx *tx, const char *const *kinds,
		       const char *worker, int64_t now, int64_t lease_ms,
		       struct rt_job *j);
/* Queues again every running job of a worker whose name starts with
 * prefix (a server's earlier run, dead): *np how many. */
int rt_store_job_release(struct rt_store_tx *tx, const char *prefix,
			 int64_t now, int64_t *np);
/* Moves the lease of a job worker still holds: ENOENT when it lost it. */
int rt_store_job_renew(struct rt_store_tx *tx, int64_t id, const char *worker,
		       int64_t lease_until);
/* The job done; ENOENT when worker no longer holds it (another took it
 * after its lease ran out: that one's result stands). */
int rt_store_job_done(struct rt_store_tx *tx, int64_t id, const char *worker,
		      int64_t now);
/* A failed attempt: queued again at retry_at, or failed for good (error
 * kept) when retry_at is 0 or its attempts are used up.  *finalp (may be
 * NULL): whether it failed for good.  ENOENT as for done. */
int rt_store_job_fail(struct rt_store_tx *tx, int64_t id, const char *worker,
		      const char *error, int64_t now, int64_t retry_at,
		      bool *finalp);
int rt_store_job_get(struct rt_store_tx *tx, int64_t id, struct rt_job *j);
/* The latest job of kind about ref_id: ENOENT when none. */
int rt_store_job_latest(struct rt_store_tx *tx, const char *kind,
			int64_t ref_id, struct rt_job *j);
/* Jobs in state (NULL: any), oldest first after pg->after. */
int rt_store_job_list(struct rt_store_tx *tx, const char *state,
		      const struct rt_page *pg, rt_job_h *h, void *arg);

#endif
