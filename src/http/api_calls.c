/*
 * /v1/calls: the call records, read-only (calls are made by the SIP side
 * and written by the call service).  A call's page has its timeline and
 * the pages its caller saw before calling.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dni/dni.h"
#include "http/http_int.h"

#define RT_LOG_MODULE "http"

static json_t *int_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

/* Stored JSON text of the wanted type, or a new empty one: the texts are
 * the call service's, and one that does not parse must not fail the
 * answer. */
static json_t *stored_json(const char *text, bool array)
{
	json_t *j = text[0] ? json_loads(text, 0, NULL) : NULL;

	if (array ? json_is_array(j) : json_is_object(j))
		return j;
	json_decref(j);
	return array ? json_array() : json_object();
}

/* What a call flow added to the call (docs/flows.md "The call record"),
 * or null when the call ran none. */
static json_t *flow_json(const struct rt_call *c)
{
	const char *lead = strcmp(c->lead, "qualified") == 0 ||
					   strcmp(c->lead, "unqualified") == 0
				   ? c->lead
				   : NULL;
	json_t *o;

	if (!c->flow_id)
		return json_null();
	o = json_pack("{s:I,s:I,s:s,s:I,s:o,s:o,s:o,s:o,s:o}", "id",
		      (json_int_t)c->flow_id, "version",
		      (json_int_t)c->flow_version, "ivr_digits", c->ivr_digits,
		      "ivr_ms", (json_int_t)c->ivr_ms, "agent",
		      rt_json_str_or_null(c->agent), "tags",
		      stored_json(c->tags, true), "value",
		      c->has_value ? json_real((double)c->value_cents / 100)
				   : json_null(),
		      "lead", rt_json_str_or_null(lead), "fields",
		      stored_json(c->fields, false));
	return o ? o : json_null();
}

/* The call as the API shows it: everything on its row. */
static json_t *call_json(const struct rt_call *c)
{
	json_t *cands = json_array();
	json_t *o;

	for (size_t i = 0; cands && i < c->ncandidates; i++)
		json_array_append_new(cands,
				      rt_json_id_string(c->candidates[i]));
	o = json_pack(
		"{s:I,s:I,s:o,s:s,s:o,s:{s:o,s:o,s:o,s:o,s:o},s:o,s:o,s:o,s:o,"
		"s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:b}",
		"id", (json_int_t)c->id, "account_id",
		(json_int_t)c->account_id, "number_id",
		int_or_null(c->number_id), "tracking_number",
		c->tracking_number, "number_kind",
		rt_json_str_or_null(c->number_kind), "caller", "number",
		rt_json_str_or_null(c->caller_number), "as_sent",
		rt_json_str_or_null(c->caller_raw), "location",
		rt_json_str_or_null(c->caller_location), "country",
		rt_json_str_or_null(c->caller_country), "line_type",
		rt_json_str_or_null(c->caller_line_type), "destination",
		rt_json_str_or_null(c->destination), "trunk",
		rt_json_str_or_null(c->trunk), "sip_call_id",
		rt_json_str_or_null(c->sip_call_id), "started_at",
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
		rt_json_str_or_null(c->hangup_side), "sip_status",
		int_or_null(c->sip_status), "sip_reason",
		rt_json_str_or_null(c->sip_reason), "first_time_caller",
		c->first_time);
	if (!o) {
		json_decref(cands);
		return NULL;
	}
	json_object_set_new(
		o, "attribution",
		json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:s,s:o,s:o}}",
			  "confidence", c->confidence, "session_id",
			  rt_json_id_string(c->dni_session_id), "candidates",
			  cands ? cands : json_array(), "source",
			  rt_dni_source_json(&c->src), "landing_url",
			  rt_json_str_or_null(c->landing_url), "referrer",
			  rt_json_str_or_null(c->referrer), "ga_client_id",
			  rt_json_str_or_null(c->ga_client_id), "device",
			  "class",
			  c->device_class[0] ? c->device_class : "unknown",
			  "browser", rt_json_str_or_null(c->browser), "os",
			  rt_json_str_or_null(c->os)));
	json_object_set_new(o, "flow", flow_json(c));
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
	"in_progress", "answered",    "no_answer", "busy", "failed",
	"abandoned",   "interrupted", "voicemail", NULL,
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
					       "title",
					       rt_json_str_or_null(p->title),
					       "at", rt_json_time(p->at)))
		       ? ENOMEM
		       : 0;
}

/* What a call's page shows of its recording, or null. */
static json_t *recording_json(const struct rt_recording *rec, int64_t call_id)
{
	char url[64];

	if (!rec->id)
		return json_null();
	snprintf(url, sizeof(url), "/v1/calls/%lld/recording",
		 (long long)call_id);
	return json_pack("{s:s,s:i,s:i,s:f,s:I,s:b,s:o,s:o}", "format",
			 rec->format, "channels", rec->channels, "sample_rate",
			 rec->sample_rate, "duration_seconds",
			 (double)rec->duration_ms / 1000, "bytes",
			 (json_int_t)rec->bytes, "complete", rec->complete,
			 "deleted_at", rt_json_time(rec->deleted_at), "url",
			 rec->deleted_at ? json_null() : json_string(url));
}

/* The steps of the call's flow into its "flow" object, when the stored
 * text is a JSON array; left out otherwise. */
static void add_path(json_t *o, const char *text)
{
	json_t *flow = json_object_get(o, "flow");
	json_t *path = text ? json_loads(text, 0, NULL) : NULL;

	if (json_is_object(flow) && json_is_array(path))
		json_object_set(flow, "path", path);
	else if (text && json_is_object(flow))
		rt_warn("a call's stored flow path is not a JSON array",
			"call=%lld",
			(long long)json_integer_value(
				json_object_get(o, "id")));
	json_decref(path);
}

void rt_api_calls_get(struct rt_req *r)
{
	struct rt_recording rec = {0};
	struct rt_call *c = malloc(sizeof(*c));
	json_t *events = json_array(), *pages = json_array(), *o = NULL;
	struct rt_store_tx *tx;
	char *path = NULL;
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
	if (!err) {
		err = rt_store_recording_get(tx, rt_req_scope(r), r->id, &rec);
		if (err == ENOENT) { /* a call without a recording */
			rec.id = 0;
			err = 0;
		}
	}
	if (!err && c->flow_id)
		err = rt_store_call_path_get(tx, rt_req_scope(r), r->id, &path);
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
		json_object_set_new(o, "recording",
				    recording_json(&rec, c->id));
		add_path(o, path);
		pages = events = NULL;
	}
	rt_http_json(r, 200, o);
out:
	json_decref(events);
	json_decref(pages);
	free(path);
	free(c);
}

/* ---- /v1/calls/{id}/recording ------------------------------------------- */

/*
 * A Range header's one range within size: 0 with [*from, *to] (inclusive)
 * to serve, ENOENT for no Range (or one this server serves whole: several
 * ranges, another unit), ERANGE when it cannot be satisfied.
 */
static int range_parse(const char *h, uint64_t size, uint64_t *from,
		       uint64_t *to)
{
	uint64_t a = 0, b = 0;
	const char *p, *dash;
	char *end;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return ENOENT;
	p = h + 6;
	dash = strchr(p, '-');
	if (!dash)
		return ENOENT;
	if (p == dash) { /* the last N bytes */
		if (rt_parse_u64(dash + 1, 1, UINT64_MAX, &b))
			return ENOENT;
		if (size == 0)
			return ERANGE;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 0;
	}
	a = strtoull(p, &end, 10);
	if (end != dash || *p < '0' || *p > '9')
		return ENOENT;
	if (dash[1] && rt_parse_u64(dash + 1, 0, UINT64_MAX, &b))
		return ENOENT;
	if (dash[1] && b < a)
		return ENOENT; /* malformed: RFC 9110 says ignore it */
	if (a >= size)
		return ERANGE;
	*from = a;
	*to = !dash[1] || b >= size ? size - 1 : b;
	return 0;
}

/* The call's recording row, or an answer: 404 for no call, no recording or
 * a deleted one. */
static int recording_of(struct rt_req *r, bool write, struct rt_recording *rec,
			struct rt_store_tx **txp)
{
	struct rt_call *c = malloc(sizeof(*c));
	int err;

	if (!c) {
		rt_http_fail(r, ENOMEM, "reading a recording");
		return ENOMEM;
	}
	if (rt_http_begin(r, write, txp)) {
		free(c);
		return EIO;
	}
	err = rt_store_call_get(*txp, rt_req_scope(r), r->id, c);
	free(c);
	if (!err)
		err = rt_store_recording_get(*txp, rt_req_scope(r), r->id, rec);
	if (err == ENOENT && !rec->id)
		rt_http_error(r, 404, "not_found", NULL, "%s",
			      "no such call, or it has no recording");
	else if (!err && rec->deleted_at)
		rt_http_error(r, 404, "recording_deleted", NULL, "%s",
			      "this call's recording was deleted");
	else if (err)
		rt_http_fail(r, err, "reading a recording");
	if (!err && rec->deleted_at)
		err = ENOENT;
	if (err)
		rt_store_rollback(*txp);
	return err;
}

/* The file of a recording row, when its path is one the recorder could
 * have written (relative, no ".."). */
static char *recording_path(struct rt_req *r, const struct rt_recording *rec)
{
	if (rec->path[0] == '/' || strstr(rec->path, ".."))
		return NULL;
	return rt_asprintf("%s/%s", r->srv->recordings_dir, rec->path);
}

void rt_api_calls_recording_get(struct rt_req *r)
{
	struct rt_recording rec = {0};
	struct rt_store_tx *tx;
	uint64_t from, to, size;
	char *path, range[96], disp[96];
	struct stat st;
	int fd, e;

	if (recording_of(r, false, &rec, &tx))
		return;
	rt_store_rollback(tx);
	path = recording_path(r, &rec);
	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		rt_http_error(r, 404, "recording_missing", NULL, "%s",
			      "the recording's file is missing on the "
			      "server");
		return;
	}
	size = (uint64_t)st.st_size;
	snprintf(disp, sizeof(disp), "inline; filename=\"call-%lld.%s\"",
		 (long long)r->id, strcmp(rec.format, "wav") ? "ogg" : "wav");
	rt_http_header(r, "Accept-Ranges", "bytes");
	rt_http_header(r, "Content-Disposition", disp);
	e = range_parse(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    "Range"),
			size, &from, &to);
	if (e == ERANGE) {
		close(fd);
		snprintf(range, sizeof(range), "bytes */%llu",
			 (unsigned long long)size);
		rt_http_header(r, "Content-Range", range);
		rt_http_error(r, 416, "range_not_satisfiable", NULL,
			      "the recording has %llu bytes",
			      (unsigned long long)size);
		return;
	}
	if (e == 0) {
		snprintf(range, sizeof(range), "bytes %llu-%llu/%llu",
			 (unsigned long long)from, (unsigned long long)to,
			 (unsigned long long)size);
		rt_http_header(r, "Content-Range", range);
	} else {
		from = 0;
		to = size ? size - 1 : 0;
	}
	rt_http_file(r, e == 0 ? 206 : 200,
		     strcmp(rec.format, "wav") ? "audio/ogg" : "audio/wav", fd,
		     from, size ? to - from + 1 : 0);
	r->cache_control = "private, max-age=3600";
}

void rt_api_calls_recording_delete(struct rt_req *r)
{
	struct rt_recording rec = {0};
	struct rt_store_tx *tx;
	char *path;
	int err;

	if (recording_of(r, true, &rec, &tx))
		return;
	err = rt_store_recording_delete(tx, rt_req_scope(r), r->id, rt_now_ms(),
					&rec);
	if (!err)
		err = rt_http_audit(r, tx, rec.account_id, "recording.delete",
				    "call", r->id,
				    json_pack("{s:s,s:I}", "format", rec.format,
					      "bytes", (json_int_t)rec.bytes));
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "deleting a recording");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	/* The row says deleted before the file goes: a crash between the two
	 * leaves a file no answer serves, never an answer without a file. */
	path = recording_path(r, &rec);
	if (path && unlink(path) != 0 && errno != ENOENT)
		rt_warn("cannot remove a deleted recording's file",
			"call=%lld err=\"%s\"", (long long)r->id,
			strerror(errno));
	free(path);
	rt_http_body(r, 204, "", NULL, 0);
}
