/*
 * dni: where a visitor came from, and (later) the tracking number they see.
 *
 * Classification turns a landing URL and a referrer into the source,
 * medium, campaign, keyword and click ids of the visit, and its channel by
 * Google Analytics 4's default channel group rules (docs/attribution.md).
 * The lists of search, social, video and shopping sites are data files in
 * src/dni/sources/, compiled in.
 */
#ifndef RT_DNI_H
#define RT_DNI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "dni/device.h"
#include "store/store.h"

enum rt_site_cat {
	RT_SITE_SEARCH,
	RT_SITE_SOCIAL,
	RT_SITE_VIDEO,
	RT_SITE_SHOPPING,
	RT_SITE__N
};

/* The parsed site lists; read-only once loaded, shared by threads. */
struct rt_dni_sites;
int rt_dni_sites_load(struct rt_dni_sites **sp);
void rt_dni_sites_free(struct rt_dni_sites *s);
/* The site a host (a referrer's) belongs to: 0 with its category and
 * source name (borrowed), or ENOENT. */
int rt_dni_sites_host(const struct rt_dni_sites *s, const char *host,
		      enum rt_site_cat *catp, const char **namep);
/* Whether a source value (a name such as "google" or a host such as
 * "m.facebook.com", any case) is in a category's list. */
bool rt_dni_sites_has(const struct rt_dni_sites *s, enum rt_site_cat cat,
		      const char *source);

/* Names of the URL parameters that carry ad data (Google and Microsoft Ads
 * ValueTrack); a pool may read other names. */
struct rt_dni_params {
	const char *keyword, *ad_group_id, *campaign_id, *matchtype, *network,
		*device;
};
extern const struct rt_dni_params rt_dni_params_default;

/*
 * Classifies a visit.  landing_url is the page's absolute http(s) URL;
 * referrer may be NULL or "" (none).  params NULL means the defaults.
 * Returns 0, or EINVAL with a message naming the bad input in err.
 */
int rt_dni_classify(const struct rt_dni_sites *sites, const char *landing_url,
		    const char *referrer, const struct rt_dni_params *params,
		    struct rt_visit_source *v, char *err, size_t errsz);

/* The JSON object of a classified visit (new reference): every field, null
 * where absent; click_ids holds only the ids the URL carried. */
json_t *rt_dni_source_json(const struct rt_visit_source *v);

/* GA4's default channel group of a source, medium and campaign: the
 * first rule that matches, in GA4's order; "Unassigned" when none does. */
const char *rt_dni_channel(const struct rt_dni_sites *sites, const char *source,
			   const char *medium, const char *campaign);

/* ---- the number inventory ----------------------------------------------- */

#define RT_DNI_IMPORT_MAX 10000 /* rows in one CSV import */

/*
 * Checks a number for the inventory and fills in what follows from the
 * number itself.  text is the number as written (E.164, or national for
 * country, an ISO 3166-1 code); n holds the rest (kind, label, source,
 * medium, campaign, destination, status).  On success n->e164,
 * number_type, country are set, destination is normalised to E.164 when it
 * is a phone number, and an empty label becomes the national format.
 * Returns 0, or EINVAL with *fieldp naming the field and msg saying why.
 */
int rt_dni_number_check(struct rt_number *n, const char *text,
			const char *country, const char **fieldp, char *msg,
			size_t msgsz);

/*
 * Imports CSV (a header line naming the columns: number, and any of label,
 * kind, source, medium, campaign, destination, status) into account_id,
 * inside tx.  Every row is checked before anything is written; when any
 * row fails, nothing is, and EINVAL is returned with errors (a JSON array
 * it appends {line, field, message} objects to) saying what and where.
 * *createdp gets the number of rows written.  Other errors are the store's.
 */
int rt_dni_numbers_import(struct rt_store_tx *tx, int64_t scope,
			  int64_t account_id, const char *csv, size_t len,
			  const char *country, json_t *errors,
			  size_t *createdp);

/* ---- number pools -------------------------------------------------------- */

#define RT_DNI_POOL_TTL_DEFAULT	     (30 * 60 * 1000) /* ms */
#define RT_DNI_POOL_COOLDOWN_DEFAULT (5 * 60 * 1000)
#define RT_DNI_POOL_DURATION_MAX     (24 * 60 * 60 * 1000)

/* Fills p with the defaults of a new pool: every field but account_id,
 * name and the swap targets. */
void rt_dni_pool_defaults(struct rt_pool *p);

/*
 * Checks a pool as a whole; the one place the rules of pools live.  targets
 * (ntargets of them, as written: E.164, or national for country, default
 * US) replace p's swap targets when not NULL; otherwise p's are checked.
 * On success the swap targets are in E.164.  Returns 0, or EINVAL with
 * *fieldp naming the field and msg saying why.
 */
int rt_dni_pool_check(struct rt_pool *p, const char *const *targets,
		      size_t ntargets, const char *country, const char **fieldp,
		      char *msg, size_t msgsz);

/* Whether number n may be in pool p (borrowed; NULL: no pool): a number of
 * kind pool, of the pool's own account.  0 or EINVAL as above. */
int rt_dni_number_pool_check(const struct rt_number *n, const struct rt_pool *p,
			     const char **fieldp, char *msg, size_t msgsz);

/* The URL parameter names a pool reads, pointing into p (borrowed). */
void rt_dni_pool_params(const struct rt_pool *p, struct rt_dni_params *params);

/* ---- leases: which visitor holds which tracking number -------------------
 *
 * The lease engine is in memory, for the hot path of a page view and of an
 * INVITE; one mutex guards it.  Every change it makes is also queued as an
 * event (rt_lease_drain) for a writer to persist in batches, and a restart
 * puts open leases back with rt_lease_restore.  Times are ms since the
 * epoch, passed in by the caller so that tests control the clock.
 */

struct rt_lease_engine;

struct rt_lease_pool_conf {
	int64_t pool_id;
	uint64_t ttl_ms; /* a lease ends after this long without activity */
	uint64_t cooldown_ms; /* a released number rests this long */
};

/* grace_ms: how long after a lease ends a call still goes to it. */
int rt_lease_engine_alloc(struct rt_lease_engine **ep, uint64_t grace_ms);
void rt_lease_engine_free(struct rt_lease_engine *e);

/* Sets a pool's settings and numbers (ids of numbers of kind pool).  A
 * number that leaves the pool keeps its live leases until they end. */
int rt_lease_pool_set(struct rt_lease_engine *e,
		      const struct rt_lease_pool_conf *conf,
		      const int64_t *number_ids, size_t n);

#define RT_LEASE_HOLDERS_MAX 4	  /* sessions sharing one number at most */
#define RT_LEASE_SHARED	     0x1u /* another live session holds the number too */
#define RT_LEASE_EARLY	     0x2u /* handed out before its cool-down ended */
#define RT_LEASE_NEW	     0x4u /* made by this call, not renewed */

struct rt_lease {
	int64_t number_id;
	int64_t session_id;
	int64_t pool_id;
	int64_t started_at;
	unsigned flags;
};

/*
 * The number of a session in a pool at now.  A session keeps the number it
 * was first given for as long as its lease lives (renewed here).  A new
 * lease takes the free number released longest ago whose cool-down is over;
 * when every number is taken, the least recently active one, and then the
 * lease is SHARED (both sessions are marked) or, when that number was only
 * cooling down, EARLY.  ENOENT for an unknown pool or one without numbers;
 * ENOSPC when every number already has RT_LEASE_HOLDERS_MAX sharers (the
 * visitor then sees the business's own number).
 */
int rt_lease_acquire(struct rt_lease_engine *e, int64_t pool_id,
		     int64_t session_id, int64_t now, struct rt_lease *out);
/* Keeps a session's lease alive (page view, heartbeat); ENOENT if none. */
int rt_lease_touch(struct rt_lease_engine *e, int64_t session_id, int64_t now);
/* Ends a session's lease now; ENOENT if none. */
int rt_lease_end(struct rt_lease_engine *e, int64_t session_id, int64_t now);
/* Ends every lease idle past its pool's ttl; returns how many. */
size_t rt_lease_sweep(struct rt_lease_engine *e, int64_t now);
/* The live lease of a session; ENOENT if none. */
int rt_lease_get(struct rt_lease_engine *e, int64_t session_id,
		 struct rt_lease *out);

enum rt_lease_confidence {
	RT_WHO_NONE,   /* nobody held the number then */
	RT_WHO_EXACT,  /* one session held it */
	RT_WHO_GRACE,  /* nobody; one had just let it go (within grace) */
	RT_WHO_SHARED, /* two or more held it: all are listed */
};
#define RT_LEASE_WHO_MAX 8

struct rt_lease_who {
	enum rt_lease_confidence confidence;
	size_t n; /* sessions listed, the most recent first */
	int64_t sessions[RT_LEASE_WHO_MAX];
};

/* Who held a number at time t: what a call to it at t is attributed to. */
int rt_lease_who(struct rt_lease_engine *e, int64_t number_id, int64_t t,
		 struct rt_lease_who *w);
const char *rt_lease_confidence_name(enum rt_lease_confidence c);

struct rt_lease_health {
	size_t numbers;	    /* in the pool */
	size_t live;	    /* leases now */
	size_t peak;	    /* most leases at once since start */
	uint64_t leases;    /* leases made since start */
	uint64_t overflows; /* of those, SHARED or EARLY */
	size_t recommended; /* numbers for the peak, with room to cool down */
};
int rt_lease_health(struct rt_lease_engine *e, int64_t pool_id,
		    struct rt_lease_health *h);

/* A change, for the writer that persists leases. */
enum rt_lease_event_kind {
	RT_LEASE_EV_START,
	RT_LEASE_EV_TOUCH, /* at most one a minute per lease */
	RT_LEASE_EV_END,
	RT_LEASE_EV_SHARED, /* an existing lease became shared */
};
struct rt_lease_event {
	enum rt_lease_event_kind kind;
	struct rt_lease lease;
	int64_t at;
};
/* Moves up to max queued events into out, oldest first; returns how many. */
size_t rt_lease_drain(struct rt_lease_engine *e, struct rt_lease_event *out,
		      size_t max);
/* Puts back an open lease read from the store at start (no event). */
int rt_lease_restore(struct rt_lease_engine *e, const struct rt_lease *l,
		     int64_t last_seen);

/* ---- the DNI service: visits, sessions and their numbers (service.c) -----
 *
 * What the public endpoints run on: site keys to accounts (cached), the
 * choice of pool and number, live sessions in memory, and a writer thread
 * that persists sessions, page views and lease changes in batches.
 */

struct rt_dni;

struct rt_dni_conf {
	uint64_t grace_ms; /* who-held grace after a lease ends */
	uint64_t flush_ms; /* the writer's batching interval */
};

/* Loads the site lists, reads open sessions back from the store (their
 * leases too) and starts the writer. */
int rt_dni_start(struct rt_dni **dp, struct rt_store *store,
		 const struct rt_dni_conf *conf);
/* Writes what is queued and stops; NULL is fine. */
void rt_dni_stop(struct rt_dni *d);
/* Numbers or pools changed: snapshots are read again before next use. */
void rt_dni_changed(struct rt_dni *d);
/* Waits until everything queued before the call is written (EAGAIN past
 * timeout_ms). */
int rt_dni_flush(struct rt_dni *d, uint64_t timeout_ms);

/* A visit as the page reports it; NULL for what it did not send. */
struct rt_dni_visit {
	const char *site_key, *landing_url, *referrer, *title, *visitor_id,
		*ga_client_id, *user_agent;
	const char *consent; /* JSON text */
	int64_t now;
};

#define RT_DNI_SWAPS_MAX RT_POOL_TARGETS_MAX
struct rt_dni_swap {
	char target[20];  /* the business number on the page, E.164 */
	char number[20];  /* the tracking number shown instead */
	char display[48]; /* the tracking number as the target's country
			     writes it */
};

struct rt_dni_answer {
	int64_t session_id; /* 0 for a bot: no session */
	int64_t account_id, pool_id, number_id;
	bool returning; /* the visitor's live session, not a new one */
	bool bot;
	unsigned lease_flags;
	uint64_t ttl_ms;
	char number_kind[16]; /* "pool", "source", "" (the site's own) */
	char visitor_id[RT_VISITOR_ID_MAX];
	struct rt_visit_source src;
	struct rt_device device;
	size_t nswaps;
	struct rt_dni_swap swaps[RT_DNI_SWAPS_MAX];
};

/*
 * A page view that starts a session (or finds the visitor's live one).
 * Precedence: a source number matching the visit's source beats the pool;
 * the pool is the first active one made for the visit's kind of traffic,
 * else the first for all traffic.  Errors name *fieldp with a message:
 * ENOENT unknown site key, EPERM suspended account, EINVAL a bad URL,
 * EAGAIN the writer is too far behind.
 */
int rt_dni_visit(struct rt_dni *d, const struct rt_dni_visit *in,
		 struct rt_dni_answer *out, const char **fieldp, char *errmsg,
		 size_t errsz);
/* A later page view, a heartbeat: ENOENT for an unknown or ended session. */
int rt_dni_pageview(struct rt_dni *d, int64_t session_id, const char *url,
		    const char *title, int64_t now);
int rt_dni_heartbeat(struct rt_dni *d, int64_t session_id, int64_t now);
/* Whether a session is live now. */
bool rt_dni_live(struct rt_dni *d, int64_t session_id);
/* A pool's health since the start (rt_dni_started_at). */
int rt_dni_pool_health(struct rt_dni *d, int64_t account_id, int64_t pool_id,
		       struct rt_lease_health *h);
int64_t rt_dni_started_at(const struct rt_dni *d);
/* Live sessions, sessions and bot visits since the start, the write queue
 * and visits not recorded, for /metrics (Prometheus text). */
void rt_dni_metrics(struct rt_dni *d, struct rt_buf *b);
/* What a call flow's source step reads of a session (docs/flows.md "Source
 * facts"): "" for what the visit did not have. */
struct rt_dni_facts {
	char channel[128], source[128], medium[128], campaign[128];
	char keyword[128]; /* the keyword, else the term */
	char landing_page[128];
};
/* A live session's facts, or one that ended lately (the grace after a
 * lease): 0, or ENOENT.  Any thread; memory only. */
int rt_dni_session_facts(struct rt_dni *d, int64_t session_id,
			 struct rt_dni_facts *out);

/* The lease engine, for the call path's "who held number N at T". */
struct rt_lease_engine *rt_dni_leases(struct rt_dni *d);
/* ---- custom source rules -------------------------------------------------
 *
 * An account's ordered rules on top of the classification above: the first
 * active rule whose field matches names the visit's source (and medium) and
 * may pick its pool.  docs/attribution.md has the rules for users.
 */

/* Longest regex pattern (a rule's value is at most 255 bytes anyway), and
 * the most items a pattern may have with its repeats spelt out ("a{3}" is
 * three), so that no pattern compiles into a huge automaton. */
#define RT_DNI_RULE_REGEX_MAX  255
#define RT_DNI_RULE_REGEX_COST 1000

/* The fields a rule can match, by name; NULL-terminated (for messages and
 * docs). */
extern const char *const rt_dni_rule_fields[];
/* The ops: equals, prefix, contains, regex, exists; NULL-terminated. */
extern const char *const rt_dni_rule_ops[];

/*
 * Checks one rule as a whole: name, field and op names, the value for the
 * op (a regex must compile: the message then has regerror's text), labels
 * and status.  Position and pool are the store's to check.  Returns 0, or
 * EINVAL with *fieldp naming the field and msg saying why.
 */
int rt_dni_rule_check(const struct rt_source_rule *r, const char **fieldp,
		      char *msg, size_t msgsz);

/*
 * A compiled rule set: one account's rules, with their regexes compiled
 * once.  Read-only once built, so any number of threads may apply it at
 * once.
 */
struct rt_dni_ruleset;

/*
 * Builds a set from rules (n of them, copied) in the order given, which is
 * the order they are tried in (the store's list_active order).  Inactive
 * rules and rules that fail rt_dni_rule_check (written by an older
 * version, say) are left out, the latter with a warning.  sites (borrowed)
 * must outlive the set: it recomputes channels.  0 or ENOMEM.
 */
int rt_dni_ruleset_build(const struct rt_dni_sites *sites,
			 const struct rt_source_rule *rules, size_t n,
			 struct rt_dni_ruleset **out);
void rt_dni_ruleset_free(struct rt_dni_ruleset *rs);
/* Rules in the set. */
size_t rt_dni_ruleset_size(const struct rt_dni_ruleset *rs);

/*
 * Applies the first rule that matches a classified visit v; landing_url
 * and referrer (either may be NULL) are the raw inputs of the
 * classification, for the fields of those names.  A match sets v->source
 * to the rule's source label and v->medium to its medium label when it has
 * one, and recomputes v->channel when either changed.  *pool_idp gets the
 * rule's pool (0: the rule picks none) and *rule_idp the rule's id; both
 * may be NULL and both are 0 when nothing matched.  Returns 0 on a match,
 * ENOENT when no rule matched (v untouched).  rs NULL is an empty set.
 */
int rt_dni_ruleset_apply(const struct rt_dni_ruleset *rs,
			 struct rt_visit_source *v, const char *landing_url,
			 const char *referrer, int64_t *pool_idp,
			 int64_t *rule_idp);

#endif
