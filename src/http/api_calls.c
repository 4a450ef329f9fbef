/*
 * /v1/calls: the call records, read-only (calls are made by the SIP side
 * and written by the call service).  A call's page has its timeline and
 * the pages its caller saw before calling.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dni/dni.h"
#include "http/http_int.h"

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *int_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

static json_t *id_string(int64_t id)
{
	char s[24];

	if (!id)
		return json_null();
	snprintf(s, sizeof(s), "%lld", (long long)id);
	return json_string(s);
}

/* The call as the API shows it: everything on its row. */
static json_t *call_json(const struct rt_call *c)
{
	json_t *cands = json_array();
	json_t *o;

	for (size_t i = 0; cands && i < c->ncandidates; i++)
		json_array_append_new(cands, id_string(c->candidates[i]));
	o = json_pack(
		"{s:I,s:I,s:o,s:s,s:o,s:{s:o,s:o,s:o,s:o,s:o},s:o,s:o,s:o,s:o,"
		"s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:b}",
		"id", (json_int_t)c->id, "account_id",
		(json_int_t)c->account_id, "number_id",
		int_or_null(c->number_id), "tracking_number",
		c->tracking_number, "number_kind", str_or_null(c->number_kind),
		"caller", "number", str_or_null(c->caller_number), "as_sent",
		str_or_null(c->caller_raw), "location",
		str_or_null(c->caller_location), "country",
		str_or_null(c->caller_country), "line_type",
		str_or_null(c->caller_line_type), "destination",
		str_or_null(c->destination), "trunk", str_or_null(c->trunk),
		"sip_call_id", str_or_null(c->sip_call_id), "started_at",
		rt_json_time(c->started_at), "answered_at",
		rt_json_time(c->answered_at), "ended_at",
		rt_json_time(c->ended_at), "ring_seconds",
		c->ended_at ? json_real((double)c->ring_ms / 1000)
			    : json_null(),
		"talk_seconds",
		c->ended_at ? json_real((double)c->talk_ms / 1000)
			    : json_null(),
		"total_seconds",
		c->ended_at ? json_real((double)c->total_ms / 1000)
			    : json_null(),
		"disposition", c->disposition, "hangup_side",
		str_or_null(c->hangup_side), "sip_status",
		int_or_null(c->sip_status), "sip_reason",
		str_or_null(c->sip_reason), "first_time_caller", c->first_time);
	if (!o) {
		json_decref(cands);
		return NULL;
	}
	json_object_set_new(
		o, "attribution",
		json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:s,s:o,s:o}}",
			  "confidence", c->confidence, "session_id",
			  id_string(c->dni_session_id), "candidates",
			  cands ? cands : json_array(), "source",
			  rt_dni_source_json(&c->src), "landing_url",
			  str_or_null(c->landing_url), "referrer",
			  str_or_null(c->referrer), "ga_client_id",
			  str_or_null(c->ga_client_id), "device", "class",
			  c->device_class[0] ? c->device_class : "unknown",
			  "browser", str_or_null(c->browser), "os",
			  str_or_null(c->os)));
	json_object_set_new(o, "created_at", rt_json_time(c->created_at));
	json_object_set_new(o, "updated_at", rt_json_time(c->updated_at));
	return o;
}

static int call_item(const struct rt_call *c, void *arg)
{
	struct rt_list *l = arg;

	return rt_list_add(l, c->id, call_json(c));
}

static const char *const dispositions[] = {
	"in_progress", "answered",  "no_answer",   "busy",
	"failed",      "abandoned", "interrupted", NULL,
};

/* A text filter of the query string into dst; 400 naming it when too long
 * or not one of allowed (NULL: any). */
static int text_param(struct rt_req *r, const char *name, char *dst,
		      size_t size, const char *const *allowed)
{
	const char *v =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    name);
	bool ok = !allowed;

	if (!v)
		return 0;
	for (size_t i = 0; allowed && allowed[i]; i++)
		ok |= strcmp(v, allowed[i]) == 0;
	if (!ok || strlen(v) >= size || !v[0]) {
		rt_http_error(r, 400, "invalid_parameter", name,
			      allowed ? "'%s' is not one of the values listed "
					"in the API reference"
				      : "'%s' is empty or too long",
			      name);
		return EINVAL;
	}
	rt_strlcpy(dst, v, size);
	return 0;
}

static int time_param(struct rt_req *r, const char *name, int64_t *msp)
{
	const char *v =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    name);

	if (v && rt_time_parse(v, msp)) {
		rt_http_error(r, 400, "invalid_parameter", name,
			      "'%s' must be an RFC 3339 time such as "
			      "2026-11-24T09:00:00Z",
			      name);
		return EINVAL;
	}
	return 0;
}

static bool is_e164(const char *s)
{
	size_t n = 0;

	if (*s++ != '+' || *s < '1' || *s > '9')
		return false;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9')
			return false;
	}
	return n >= 7 && n <= 15;
}

static int filter_parse(struct rt_req *r, struct rt_call_filter *f)
{
	static const char *const orders[] = {"newest", "oldest", NULL};
	char order[8] = "newest";

	memset(f, 0, sizeof(*f));
	if (rt_http_query_id(r, "account_id", &f->account_id) ||
	    time_param(r, "from", &f->from_ms) ||
	    time_param(r, "to", &f->to_ms) ||
	    text_param(r, "number", f->number, sizeof(f->number), NULL) ||
	    text_param(r, "disposition", f->disposition, sizeof(f->disposition),
		       dispositions) ||
	    text_param(r, "channel", f->channel, sizeof(f->channel), NULL) ||
	    text_param(r, "source", f->source, sizeof(f->source), NULL) ||
	    text_param(r, "campaign", f->campaign, sizeof(f->campaign), NULL) ||
	    text_param(r, "order", order, sizeof(order), orders))
		return EINVAL;
	if (f->number[0] && !is_e164(f->number)) {
		rt_http_error(r, 400, "invalid_parameter", "number",
			      "'number' must be an E.164 number such as "
			      "+13125550100");
		return EINVAL;
	}
	if (f->from_ms && f->to_ms && f->to_ms <= f->from_ms) {
		rt_http_error(r, 400, "invalid_parameter", "to",
			      "'to' must be after 'from'");
		return EINVAL;
	}
	f->oldest_first = strcmp(order, "oldest") == 0;
	return 0;
}

void rt_api_calls_list(struct rt_req *r)
{
	struct rt_call_filter f;
	struct rt_store_tx *tx;
	struct rt_page pg;
	struct rt_list l;

	if (filter_parse(r, &f) || rt_list_begin(r, &pg, &l, &tx))
		return;
	rt_list_end(r, &l, tx,
		    rt_store_call_list(tx, rt_req_scope(r), &f, &pg, call_item,
				       &l),
		    "listing calls");
}

#define EVENTS_MAX 1000
#define PAGES_MAX  200

static int event_item(const struct rt_call_event *e, void *arg)
{
	json_t *detail = e->detail[0] ? json_loads(e->detail, 0, NULL) : NULL;

	return json_array_append_new(arg,
				     json_pack("{s:o,s:s,s:o}", "at",
					       rt_json_time(e->at), "kind",
					       e->kind, "detail",
					       detail ? detail : json_object()))
		       ? ENOMEM
		       : 0;
}

static int page_item(const struct rt_dni_pageview *p, void *arg)
{
	return json_array_append_new(arg,
				     json_pack("{s:s,s:o,s:o}", "url", p->url,
					       "title", str_or_null(p->title),
					       "at", rt_json_time(p->at)))
		       ? ENOMEM
		       : 0;
}

void rt_api_calls_get(struct rt_req *r)
{
	struct rt_call *c = malloc(sizeof(*c));
	json_t *events = json_array(), *pages = json_array(), *o = NULL;
	struct rt_store_tx *tx;
	int err;

	if (!c || !events || !pages) {
		rt_http_fail(r, ENOMEM, "reading a call");
		goto out;
	}
	if (rt_http_begin(r, false, &tx))
		goto out;
	err = rt_store_call_get(tx, rt_req_scope(r), r->id, c);
	if (!err)
		err = rt_store_call_events_list(tx, rt_req_scope(r), r->id,
						EVENTS_MAX, event_item, events);
	if (!err)
		err = rt_store_call_pages_list(tx, rt_req_scope(r), r->id,
					       PAGES_MAX, page_item, pages);
	rt_store_rollback(tx);
	if (err) {
		rt_http_fail(r, err, "reading a call");
		goto out;
	}
	o = call_json(c);
	if (o) {
		json_object_set_new(json_object_get(o, "attribution"), "pages",
				    pages);
		json_object_set_new(o, "events", events);
		pages = events = NULL;
	}
	rt_http_json(r, 200, o);
out:
	json_decref(events);
	json_decref(pages);
	free(c);
}
