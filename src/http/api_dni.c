/*
 * /v1/dni/sessions: what dni.js asks for on a customer's page (public,
 * readable from any origin, rate limited per client address, named by the
 * account's site key), and the authenticated read of a session for
 * support.  GET /v1/pools/{id}/health lives here too: it reads the same
 * in-memory lease engine.
 */
#include <errno.h>
#include <string.h>

#include "dni/dni.h"
#include "http/http_int.h"

#define PAGEVIEWS_SHOWN 200

static bool dni_ready(struct rt_req *r)
{
	if (r->srv->dni)
		return true;
	rt_http_error(r, 503, "unavailable", NULL,
		      "number insertion is not running on this server");
	return false;
}

/* Session ids are random 18-digit numbers: strings in JSON, so that no
 * client rounds them. */
/* ---- POST /v1/dni/sessions ---------------------------------------------- */

static const struct rt_field visit_fields[] = {
	{"site_key", RT_F_STRING, RT_F_REQUIRED, 64},
	{"landing_url", RT_F_STRING, RT_F_REQUIRED, RT_DNI_URL_MAX},
	{"referrer", RT_F_STRING, RT_F_NULLABLE, RT_DNI_URL_MAX},
	/* Cut to RT_SESSION_TITLE_MAX when kept. */
	{"title", RT_F_STRING, RT_F_NULLABLE, 8192},
	/* Not a valid id: the visitor gets a new one. */
	{"visitor_id", RT_F_STRING, RT_F_NULLABLE, 256},
	/* Longer than a GA client id can be: dropped. */
	{"ga_client_id", RT_F_STRING, RT_F_NULLABLE, 256},
	{"consent", RT_F_FLAGS, RT_F_NULLABLE, 8},
};

static int visit_parse(const json_t *b, struct rt_dni_visit *v,
		       struct rt_http_err *e)
{
	if (rt_http_check_fields(b, visit_fields, RT_ARRAY_SIZE(visit_fields),
				 e))
		return EINVAL;
	v->site_key = rt_json_str(b, "site_key");
	v->landing_url = rt_json_str(b, "landing_url");
	v->referrer = rt_json_str(b, "referrer");
	v->title = rt_json_str(b, "title");
	v->visitor_id = rt_json_str(b, "visitor_id");
	v->ga_client_id = rt_json_str(b, "ga_client_id");
	if (v->ga_client_id && strlen(v->ga_client_id) >= 64)
		v->ga_client_id = NULL;
	return 0;
}

RT_API_BODY_CHECK(dni_sessions_create, struct rt_dni_visit, visit_parse)

static json_t *swaps_json(const struct rt_dni_answer *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < a->nswaps; i++)
		json_array_append_new(arr,
				      json_pack("{s:s,s:s,s:s}", "target",
						a->swaps[i].target, "number",
						a->swaps[i].number, "display",
						a->swaps[i].display));
	return arr;
}

void rt_api_dni_sessions_create(struct rt_req *r)
{
	struct rt_dni_visit in = {0};
	struct rt_dni_answer *out;
	struct rt_http_err e = {0};
	const char *field;
	char msg[200], *consent = NULL;
	json_t *c;
	int err;

	if (!dni_ready(r))
		return;
	if (visit_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	c = json_object_get(r->json, "consent");
	if (json_is_object(c))
		consent = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	in.consent = consent;
	in.user_agent = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    "User-Agent");
	in.now = rt_now_ms();
	/* The answer holds a whole classified visit: some 10 KB. */
	out = malloc(sizeof(*out));
	if (!out) {
		free(consent);
		rt_http_fail(r, ENOMEM, "starting a session");
		return;
	}
	err = rt_dni_visit(r->srv->dni, &in, out, &field, msg, sizeof(msg));
	free(consent);
	switch (err) {
	case 0:
		break;
	case ENOENT:
		rt_http_error(r, 404, "unknown_site_key", field, "%s", msg);
		goto out;
	case EPERM:
		rt_http_error(r, 403, "account_suspended", field, "%s", msg);
		goto out;
	case EINVAL:
		rt_http_error(r, 422, "invalid_field", field, "%s", msg);
		goto out;
	case EAGAIN:
		rt_http_header(r, "Retry-After", "1");
		rt_http_error(r, 503, "unavailable", NULL, "%s", msg);
		goto out;
	default:
		rt_http_fail(r, err, "starting a session");
		goto out;
	}
	rt_http_json(r, out->session_id && !out->returning ? 201 : 200,
		     json_pack("{s:o,s:o,s:b,s:b,s:I,s:o,s:o,s:b,s:o,s:{s:s,s:"
			       "s,s:o,s:s,"
			       "s:o}}",
			       "session_id", rt_json_id_string(out->session_id),
			       "visitor_id",
			       rt_json_str_or_null(out->visitor_id),
			       "returning", out->returning, "bot", out->bot,
			       "ttl_seconds", (json_int_t)(out->ttl_ms / 1000),
			       "numbers", swaps_json(out), "number_kind",
			       rt_json_str_or_null(out->number_kind), "shared",
			       (out->lease_flags & RT_LEASE_SHARED) != 0,
			       "source", rt_dni_source_json(&out->src),
			       "device", "class",
			       rt_dni_device_class_name(out->device.cls),
			       "browser", out->device.browser,
			       "browser_version",
			       rt_json_str_or_null(out->device.browser_version),
			       "os", out->device.os, "bot",
			       rt_json_str_or_null(out->device.bot)));
out:
	free(out);
}

/* ---- page views and heartbeats ------------------------------------------ */

static const struct rt_field pageview_fields[] = {
	{"url", RT_F_STRING, RT_F_REQUIRED, RT_DNI_URL_MAX},
	{"title", RT_F_STRING, RT_F_NULLABLE, 8192},
};

struct pageview_in {
	const char *url, *title;
};

static int pageview_parse(const json_t *b, struct pageview_in *p,
			  struct rt_http_err *e)
{
	if (rt_http_check_fields(b, pageview_fields,
				 RT_ARRAY_SIZE(pageview_fields), e))
		return EINVAL;
	p->url = rt_json_str(b, "url");
	p->title = rt_json_str(b, "title");
	if (strncmp(p->url, "http://", 7) != 0 &&
	    strncmp(p->url, "https://", 8) != 0) {
		rt_http_err_set(e, 422, "invalid_field", "url",
				"'url' must be an absolute http(s) URL");
		return EINVAL;
	}
	return 0;
}

RT_API_BODY_CHECK(dni_pageviews_create, struct pageview_in, pageview_parse)

RT_API_BODY_CHECK(dni_heartbeat, int, rt_http_empty_parse)

static void session_gone(struct rt_req *r)
{
	rt_http_error(r, 404, "session_not_found", NULL,
		      "no live session has this id (it may have ended: start "
		      "a new one)");
}

void rt_api_dni_pageviews_create(struct rt_req *r)
{
	struct pageview_in in = {0};
	struct rt_http_err e = {0};

	if (!dni_ready(r))
		return;
	if (pageview_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (rt_dni_pageview(r->srv->dni, r->id, in.url, in.title, rt_now_ms()))
		session_gone(r);
	else
		rt_http_body(r, 204, "", NULL, 0);
}

void rt_api_dni_heartbeat(struct rt_req *r)
{
	struct rt_http_err e = {0};

	if (!dni_ready(r))
		return;
	if (rt_http_empty_parse(r->json, NULL, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (rt_dni_heartbeat(r->srv->dni, r->id, rt_now_ms()))
		session_gone(r);
	else
		rt_http_body(r, 204, "", NULL, 0);
}

/* ---- GET /v1/dni/sessions/{id} ------------------------------------------ */

static int pageview_item(const struct rt_dni_pageview *p, void *arg)
{
	json_array_append_new(arg,
			      json_pack("{s:s,s:o,s:o}", "url", p->url, "title",
					rt_json_str_or_null(p->title), "at",
					rt_json_time(p->at)));
	return 0;
}

static json_t *session_json(const struct rt_dni_session *s, bool live,
			    json_t *pageviews)
{
	json_t *src = rt_dni_source_json(&s->src);
	json_t *consent =
		s->consent[0] ? json_loads(s->consent, 0, NULL) : NULL;

	return json_pack(
		"{s:o,s:I,s:o,s:o,s:o,s:o,s:b,s:b,s:s,s:o,s:o,s:o,s:o,s:o,"
		"s:o,s:{s:s,s:o,s:o},s:o,s:I,s:o,s:o,s:o,s:o}",
		"id", rt_json_id_string(s->id), "account_id",
		(json_int_t)s->account_id, "pool_id",
		s->pool_id ? json_integer(s->pool_id) : json_null(),
		"number_id",
		s->number_id ? json_integer(s->number_id) : json_null(),
		"number", rt_json_str_or_null(s->number_e164), "number_kind",
		rt_json_str_or_null(s->number_kind), "shared",
		(s->lease_flags & RT_LEASE_SHARED) != 0, "live", live,
		"visitor_id", s->visitor_id, "ga_client_id",
		rt_json_str_or_null(s->ga_client_id), "landing_url",
		rt_json_str_or_null(s->landing_url), "referrer",
		rt_json_str_or_null(s->referrer), "title",
		rt_json_str_or_null(s->title), "user_agent",
		rt_json_str_or_null(s->user_agent), "source", src, "device",
		"class", s->device_class, "browser",
		rt_json_str_or_null(s->browser), "os",
		rt_json_str_or_null(s->os), "consent",
		consent ? consent : json_null(), "pageview_count",
		(json_int_t)s->pageviews, "pageviews", pageviews, "created_at",
		rt_json_time(s->created_at), "last_seen_at",
		rt_json_time(s->last_seen_at), "ended_at",
		rt_json_time(s->ended_at));
}

void rt_api_dni_sessions_get(struct rt_req *r)
{
	struct rt_dni_session *s;
	struct rt_store_tx *tx;
	json_t *views;
	int err;

	if (!dni_ready(r))
		return;
	/* What was queued before this request is in the store after this. */
	rt_dni_flush(r->srv->dni, 2000);
	s = malloc(sizeof(*s));
	views = json_array();
	if (!s || !views) {
		free(s);
		json_decref(views);
		rt_http_fail(r, ENOMEM, "reading the session");
		return;
	}
	if (rt_http_begin(r, false, &tx))
		goto out;
	err = rt_store_dni_session_get(tx, rt_req_scope(r), r->id, s);
	if (!err)
		err = rt_store_dni_pageview_list(tx, rt_req_scope(r), r->id,
						 PAGEVIEWS_SHOWN, pageview_item,
						 views);
	rt_store_rollback(tx);
	if (err) {
		rt_http_fail(r, err, "session");
		goto out;
	}
	rt_http_json(r, 200,
		     session_json(s, rt_dni_live(r->srv->dni, s->id), views));
	views = NULL;
out:
	json_decref(views);
	free(s);
}

/* ---- GET /v1/pools/{id}/health ------------------------------------------ */

void rt_api_pools_health(struct rt_req *r)
{
	struct rt_lease_health h;
	struct rt_store_tx *tx;
	struct rt_pool p;
	const char *advice;
	double share;
	int err;

	if (!dni_ready(r) || rt_http_begin(r, false, &tx))
		return;
	err = rt_store_pool_get(tx, rt_req_scope(r), r->id, &p);
	rt_store_rollback(tx);
	if (err) {
		rt_http_fail(r, err, "pool");
		return;
	}
	err = rt_dni_pool_health(r->srv->dni, p.account_id, p.id, &h);
	if (err == ENOENT) {
		/* Known to the store, unknown to the engine: inactive. */
		memset(&h, 0, sizeof(h));
		h.numbers = (size_t)p.number_count;
	} else if (err) {
		rt_http_fail(r, err, "pool health");
		return;
	}
	share = h.leases ? (double)h.overflows / (double)h.leases : 0.0;
	if (h.numbers == 0)
		advice = "the pool has no numbers: visitors see the site's own "
			 "number and calls cannot be attributed";
	else if (h.recommended > h.numbers)
		advice = "too few numbers: some visitors share a number, so "
			 "their calls are attributed with less confidence; add "
			 "numbers up to the recommended size";
	else if (h.peak * 3 < h.numbers && h.leases >= 100)
		advice = "more numbers than the traffic needs: the pool can "
			 "shrink to the recommended size";
	else
		advice = "the pool fits its traffic";
	rt_http_json(r, 200,
		     json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:I,s:s,s:o}",
			       "pool_id", (json_int_t)p.id, "numbers",
			       (json_int_t)h.numbers, "live_sessions",
			       (json_int_t)h.live, "peak_sessions",
			       (json_int_t)h.peak, "leases",
			       (json_int_t)h.leases, "overflowed",
			       (json_int_t)h.overflows, "overflow_share", share,
			       "recommended_numbers", (json_int_t)h.recommended,
			       "advice", advice, "since",
			       rt_json_time(rt_dni_started_at(r->srv->dni))));
}
