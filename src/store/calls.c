/*
 * Calls, their event timelines and the pages their callers saw.  The
 * writes come from the call service's writer in batches; the reads are the
 * API's, scoped to the caller's accounts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

#define CALL_COLS                                                              \
	"c.id, c.account_id, c.number_id, c.tracking_number, c.number_kind, "  \
	"c.caller_number, c.caller_raw, c.caller_location, c.caller_country, " \
	"c.caller_line_type, c.destination, c.trunk, c.sip_call_id, "          \
	"c.started_at, c.answered_at, c.ended_at, c.ring_ms, c.talk_ms, "      \
	"c.total_ms, c.disposition, c.hangup_side, c.sip_status, "             \
	"c.sip_reason, c.first_time, c.confidence, c.dni_session_id, "         \
	"c.candidates, c.channel, c.source, c.medium, c.campaign, c.term, "    \
	"c.content, c.ad_group, c.keyword, c.campaign_id, c.matchtype, "       \
	"c.network, c.device, c.click_ids, c.landing_url, c.landing_host, "    \
	"c.landing_page, c.referrer, c.referrer_host, c.ga_client_id, "        \
	"c.device_class, c.browser, c.os, c.created_at, c.updated_at, "        \
	"c.flow_id, c.flow_version, c.ivr_digits, c.ivr_ms, c.agent, "         \
	"c.value_cents, c.lead, c.tags, c.fields"

/* "" and 0 are stored as NULL, so that absent reads as absent in SQL. */
#define OPT(s)	RT_VTEXT((s)[0] ? (s) : NULL)
#define OPTI(i) ((i) ? RT_VINT(i) : RT_VNULL)
/* The value is NULL when the flow set none (0 is a value). */
#define VALUE(c) ((c)->has_value ? RT_VINT((c)->value_cents) : RT_VNULL)

int rt_store_call_next_id(struct rt_store_tx *tx, int64_t *idp)
{
	int64_t max = 0;
	int err =
		rt_store_query_int(tx, "SELECT COALESCE(MAX(id), 0) FROM calls",
				   NULL, 0, &max);

	*idp = max + 1;
	return err;
}

/* The candidates as a JSON array of id strings (ids pass 2^53), or NULL. */
static char *candidates_encode(const struct rt_call *c)
{
	json_t *a;
	char *text;

	if (!c->ncandidates)
		return NULL;
	a = json_array();
	for (size_t i = 0; a && i < c->ncandidates; i++) {
		char id[24];

		snprintf(id, sizeof(id), "%lld", (long long)c->candidates[i]);
		json_array_append_new(a, json_string(id));
	}
	text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return text;
}

static void candidates_decode(struct rt_call *c, const char *text)
{
	json_t *a = text[0] ? json_loads(text, 0, NULL) : NULL;
	json_t *v;
	size_t i;

	c->ncandidates = 0;
	json_array_foreach (a, i, v) {
		const char *s = json_string_value(v);

		if (s && c->ncandidates < RT_CALL_CANDIDATES_MAX)
			c->candidates[c->ncandidates++] = strtoll(s, NULL, 10);
	}
	json_decref(a);
}

int rt_store_call_insert(struct rt_store_tx *tx, const struct rt_call *c)
{
	const struct rt_visit_source *v = &c->src;
	char *clicks = rt_store_clicks_encode(v);
	char *cands = candidates_encode(c);
	struct rt_val args[] = {
		RT_VINT(c->id),
		RT_VINT(c->account_id),
		OPTI(c->number_id),
		RT_VTEXT(c->tracking_number),
		OPT(c->number_kind),
		OPT(c->caller_number),
		OPT(c->caller_raw),
		OPT(c->caller_location),
		OPT(c->caller_country),
		OPT(c->caller_line_type),
		OPT(c->destination),
		OPT(c->trunk),
		OPT(c->sip_call_id),
		RT_VINT(c->started_at),
		OPTI(c->answered_at),
		OPTI(c->ended_at),
		OPTI(c->ring_ms),
		OPTI(c->talk_ms),
		OPTI(c->total_ms),
		RT_VTEXT(c->disposition[0] ? c->disposition : "in_progress"),
		OPT(c->hangup_side),
		OPTI(c->sip_status),
		OPT(c->sip_reason),
		RT_VINT(c->first_time ? 1 : 0),
		RT_VTEXT(c->confidence[0] ? c->confidence : "none"),
		OPTI(c->dni_session_id),
		RT_VTEXT(cands),
		OPT(v->channel),
		OPT(v->source),
		OPT(v->medium),
		OPT(v->campaign),
		OPT(v->term),
		OPT(v->content),
		OPT(v->ad_group),
		OPT(v->keyword),
		OPT(v->campaign_id),
		OPT(v->matchtype),
		OPT(v->network),
		OPT(v->device),
		RT_VTEXT(clicks),
		OPT(c->landing_url),
		OPT(v->landing_host),
		OPT(v->landing_page),
		OPT(c->referrer),
		OPT(v->referrer_host),
		OPT(c->ga_client_id),
		OPT(c->device_class),
		OPT(c->browser),
		OPT(c->os),
		RT_VINT(c->created_at ? c->created_at : c->started_at),
		RT_VINT(c->updated_at ? c->updated_at : c->started_at),
		OPTI(c->flow_id),
		OPTI(c->flow_version),
		OPT(c->ivr_digits),
		OPTI(c->ivr_ms),
		OPT(c->agent),
		VALUE(c),
		OPT(c->lead),
		OPT(c->tags),
		OPT(c->fields),
	};
	int err = rt_store_query(
		tx,
		"INSERT INTO calls (id, account_id, number_id, "
		"tracking_number, "
		"number_kind, caller_number, caller_raw, caller_location, "
		"caller_country, caller_line_type, destination, trunk, "
		"sip_call_id, started_at, answered_at, ended_at, ring_ms, "
		"talk_ms, total_ms, disposition, hangup_side, sip_status, "
		"sip_reason, first_time, confidence, dni_session_id, "
		"candidates, channel, source, medium, campaign, term, content, "
		"ad_group, keyword, campaign_id, matchtype, network, device, "
		"click_ids, landing_url, landing_host, landing_page, referrer, "
		"referrer_host, ga_client_id, device_class, browser, os, "
		"created_at, updated_at, flow_id, flow_version, ivr_digits, "
		"ivr_ms, agent, value_cents, lead, tags, fields) VALUES (?1, "
		"?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
		"?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, "
		"?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, "
		"?39, ?40, ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50, "
		"?51, ?52, ?53, ?54, ?55, ?56, ?57, ?58, ?59, ?60)",
		args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);

	free(clicks);
	free(cands);
	return err;
}

int rt_store_call_update(struct rt_store_tx *tx, const struct rt_call *c)
{
	struct rt_val args[] = {
		RT_VINT(c->id),
		OPTI(c->answered_at),
		OPTI(c->ended_at),
		OPTI(c->ring_ms),
		OPTI(c->talk_ms),
		OPTI(c->total_ms),
		RT_VTEXT(c->disposition[0] ? c->disposition : "in_progress"),
		OPT(c->hangup_side),
		OPTI(c->sip_status),
		OPT(c->sip_reason),
		OPT(c->destination),
		RT_VINT(c->updated_at),
		OPTI(c->flow_id),
		OPTI(c->flow_version),
		OPT(c->ivr_digits),
		OPTI(c->ivr_ms),
		OPT(c->agent),
		VALUE(c),
		OPT(c->lead),
		OPT(c->tags),
		OPT(c->fields),
	};
	int64_t changed = 0;
	int err = rt_store_query(
		tx,
		"UPDATE calls SET answered_at = ?2, ended_at = ?3, ring_ms = "
		"?4, "
		"talk_ms = ?5, total_ms = ?6, disposition = ?7, hangup_side = "
		"?8, sip_status = ?9, sip_reason = ?10, destination = ?11, "
		"updated_at = ?12, flow_id = ?13, flow_version = ?14, "
		"ivr_digits = ?15, ivr_ms = ?16, agent = ?17, value_cents = "
		"?18, lead = ?19, tags = ?20, fields = ?21 WHERE id = ?1",
		args, RT_ARRAY_SIZE(args), NULL, NULL, &changed);

	return err ? err : changed ? 0 : ENOENT;
}

int rt_store_call_path_set(struct rt_store_tx *tx, int64_t call_id,
			   const char *json)
{
	struct rt_val args[] = {RT_VINT(call_id), RT_VTEXT(json)};
	int64_t changed = 0;
	int err =
		rt_store_query(tx,
			       "UPDATE calls SET flow_path = ?2 WHERE id = "
			       "?1",
			       args, RT_ARRAY_SIZE(args), NULL, NULL, &changed);

	return err ? err : changed ? 0 : ENOENT;
}

struct path_out {
	bool found;
	char *text;
};

static int path_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct path_out *po = arg;

	(void)ncols;
	po->found = true;
	if (c[0].type != RT_VAL_TEXT)
		return 0;
	free(po->text);
	po->text = rt_strdup(c[0].s);
	return po->text ? 0 : ENOMEM;
}

int rt_store_call_path_get(struct rt_store_tx *tx, int64_t scope,
			   int64_t call_id, char **jsonp)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(call_id)};
	struct path_out po = {false, NULL};
	int err;

	*jsonp = NULL;
	err = rt_store_query(tx,
			     "SELECT c.flow_path FROM calls c WHERE c.id = ?2 "
			     "AND " RT_IN_SCOPE("c.account_id"),
			     args, RT_ARRAY_SIZE(args), path_row, &po, NULL);
	if (!err && !po.found)
		err = ENOENT;
	if (err) {
		free(po.text);
		return err;
	}
	*jsonp = po.text;
	return 0;
}

int rt_store_call_event_add(struct rt_store_tx *tx, int64_t call_id,
			    int64_t account_id, int64_t at, const char *kind,
			    const char *detail)
{
	struct rt_val args[] = {RT_VINT(call_id), RT_VINT(account_id),
				RT_VINT(at), RT_VTEXT(kind),
				RT_VTEXT(detail && detail[0] ? detail : NULL)};

	return rt_store_query(tx,
			      "INSERT INTO call_events (call_id, account_id, "
			      "at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
			      args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

struct page_copy {
	struct rt_store_tx *tx;
	int64_t call_id, account_id, position;
};

static int page_copy(const struct rt_dni_pageview *p, void *arg)
{
	struct page_copy *pc = arg;
	struct rt_val args[] = {RT_VINT(pc->call_id),
				RT_VINT(pc->account_id),
				RT_VINT(++pc->position),
				RT_VTEXT(p->url),
				OPT(p->title),
				RT_VINT(p->at)};

	return rt_store_query(pc->tx,
			      "INSERT INTO call_pages (call_id, account_id, "
			      "position, url, title, at) VALUES (?1, ?2, ?3, "
			      "?4, ?5, ?6)",
			      args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

int rt_store_call_pages_copy(struct rt_store_tx *tx, int64_t call_id,
			     int64_t account_id, int64_t session_id,
			     unsigned limit)
{
	struct page_copy pc = {tx, call_id, account_id, 0};

	/* Scoped to the call's own account: a session of another account
	 * copies nothing. */
	return rt_store_dni_pageview_list(tx, account_id, session_id, limit,
					  page_copy, &pc);
}

int rt_store_call_caller_seen(struct rt_store_tx *tx, int64_t account_id,
			      const char *caller, int64_t before_ms,
			      bool *seenp)
{
	struct rt_val args[] = {RT_VINT(account_id), RT_VTEXT(caller),
				RT_VINT(before_ms)};
	int64_t n = 0;
	int err;

	*seenp = false;
	if (!caller || !caller[0])
		return 0;
	err = rt_store_query_int(tx,
				 "SELECT COUNT(*) FROM (SELECT 1 FROM calls "
				 "WHERE account_id = ?1 AND caller_number = ?2 "
				 "AND started_at < ?3 LIMIT 1) x",
				 args, RT_ARRAY_SIZE(args), &n);
	*seenp = n > 0;
	return err;
}

int rt_store_calls_interrupt_open(struct rt_store_tx *tx, int64_t now,
				  size_t *np)
{
	struct rt_val args[] = {RT_VINT(now)};
	int64_t changed = 0;
	int err;

	/* Ended when last heard of: the newest event, else the start. */
	err = rt_store_query(
		tx,
		"UPDATE calls SET ended_at = COALESCE((SELECT MAX(e.at) FROM "
		"call_events e WHERE e.call_id = calls.id), started_at), "
		"disposition = 'interrupted', hangup_side = 'system', "
		"sip_reason = 'the server stopped during the call', "
		"updated_at = ?1 WHERE ended_at IS NULL",
		args, 1, NULL, NULL, &changed);
	if (err)
		return err;
	/* Durations from the times now known. */
	err = rt_store_query(
		tx,
		"UPDATE calls SET total_ms = ended_at - started_at, ring_ms = "
		"COALESCE(answered_at, ended_at) - started_at, talk_ms = CASE "
		"WHEN answered_at IS NULL THEN 0 ELSE ended_at - answered_at "
		"END "
		"WHERE disposition = 'interrupted' AND total_ms IS NULL",
		NULL, 0, NULL, NULL, NULL);
	if (!err && np)
		*np = (size_t)changed;
	return err;
}

/* ---- reads ----------------------------------------------------------------
 */

struct call_rows {
	rt_call_h *h;
	void *arg;
	struct rt_call *one;
};

static int call_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct call_rows *r = arg;
	struct rt_call *d = r->one;
	struct rt_visit_source *v;
	int err;

	(void)ncols;
	if (!d && !(d = malloc(sizeof(*d))))
		return ENOMEM;
	memset(d, 0, sizeof(*d));
	v = &d->src;
	d->id = rt_col_int(&c[0]);
	d->account_id = rt_col_int(&c[1]);
	d->number_id = rt_col_int(&c[2]);
	RT_COL_STR(d->tracking_number, &c[3]);
	RT_COL_STR(d->number_kind, &c[4]);
	RT_COL_STR(d->caller_number, &c[5]);
	RT_COL_STR(d->caller_raw, &c[6]);
	RT_COL_STR(d->caller_location, &c[7]);
	RT_COL_STR(d->caller_country, &c[8]);
	RT_COL_STR(d->caller_line_type, &c[9]);
	RT_COL_STR(d->destination, &c[10]);
	RT_COL_STR(d->trunk, &c[11]);
	RT_COL_STR(d->sip_call_id, &c[12]);
	d->started_at = rt_col_int(&c[13]);
	d->answered_at = rt_col_int(&c[14]);
	d->ended_at = rt_col_int(&c[15]);
	d->ring_ms = rt_col_int(&c[16]);
	d->talk_ms = rt_col_int(&c[17]);
	d->total_ms = rt_col_int(&c[18]);
	RT_COL_STR(d->disposition, &c[19]);
	RT_COL_STR(d->hangup_side, &c[20]);
	d->sip_status = (int)rt_col_int(&c[21]);
	RT_COL_STR(d->sip_reason, &c[22]);
	d->first_time = rt_col_int(&c[23]) != 0;
	RT_COL_STR(d->confidence, &c[24]);
	d->dni_session_id = rt_col_int(&c[25]);
	candidates_decode(d, rt_col_text(&c[26]));
	RT_COL_STR(v->channel, &c[27]);
	RT_COL_STR(v->source, &c[28]);
	RT_COL_STR(v->medium, &c[29]);
	RT_COL_STR(v->campaign, &c[30]);
	RT_COL_STR(v->term, &c[31]);
	RT_COL_STR(v->content, &c[32]);
	RT_COL_STR(v->ad_group, &c[33]);
	RT_COL_STR(v->keyword, &c[34]);
	RT_COL_STR(v->campaign_id, &c[35]);
	RT_COL_STR(v->matchtype, &c[36]);
	RT_COL_STR(v->network, &c[37]);
	RT_COL_STR(v->device, &c[38]);
	rt_store_clicks_decode(v, rt_col_text(&c[39]));
	RT_COL_STR(d->landing_url, &c[40]);
	RT_COL_STR(v->landing_host, &c[41]);
	RT_COL_STR(v->landing_page, &c[42]);
	RT_COL_STR(d->referrer, &c[43]);
	RT_COL_STR(v->referrer_host, &c[44]);
	RT_COL_STR(d->ga_client_id, &c[45]);
	RT_COL_STR(d->device_class, &c[46]);
	RT_COL_STR(d->browser, &c[47]);
	RT_COL_STR(d->os, &c[48]);
	d->created_at = rt_col_int(&c[49]);
	d->updated_at = rt_col_int(&c[50]);
	d->flow_id = rt_col_int(&c[51]);
	d->flow_version = rt_col_int(&c[52]);
	RT_COL_STR(d->ivr_digits, &c[53]);
	d->ivr_ms = rt_col_int(&c[54]);
	RT_COL_STR(d->agent, &c[55]);
	d->has_value = c[56].type == RT_VAL_INT;
	d->value_cents = rt_col_int(&c[56]);
	RT_COL_STR(d->lead, &c[57]);
	/* JSON text longer than the struct holds would be cut into text that
	 * does not parse: read as none instead. */
	if (strlen(rt_col_text(&c[58])) < sizeof(d->tags))
		RT_COL_STR(d->tags, &c[58]);
	if (strlen(rt_col_text(&c[59])) < sizeof(d->fields))
		RT_COL_STR(d->fields, &c[59]);
	if (r->one)
		return 0;
	/* A list row: handed on, then freed (the struct is 12 KB). */
	err = r->h(d, r->arg);
	free(d);
	return err;
}

int rt_store_call_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_call *c)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	struct rt_call *tmp = malloc(sizeof(*tmp));
	struct call_rows r = {.one = tmp};
	int err;

	if (!tmp)
		return ENOMEM;
	/* Into a copy: a call that finds no row leaves *c as it was. */
	tmp->id = 0;
	err = rt_store_query(tx,
			     "SELECT " CALL_COLS " FROM calls c WHERE c.id = "
			     "?2 AND " RT_IN_SCOPE("c.account_id"),
			     args, RT_ARRAY_SIZE(args), call_row, &r, NULL);
	if (!err && tmp->id == 0)
		err = ENOENT;
	if (!err)
		*c = *tmp;
	free(tmp);
	return err;
}

int rt_store_call_read(struct rt_store_tx *tx, int64_t id, struct rt_call *c)
{
	struct rt_val args[] = {RT_VINT(id)};
	struct call_rows r = {.one = c};
	int err;

	c->id = 0;
	err = rt_store_query(tx,
			     "SELECT " CALL_COLS
			     " FROM calls c WHERE c.id = ?1",
			     args, 1, call_row, &r, NULL);
	return !err && c->id == 0 ? ENOENT : err;
}

int rt_store_call_list(struct rt_store_tx *tx, int64_t scope,
		       const struct rt_call_filter *f, const struct rt_page *pg,
		       rt_call_h *h, void *arg)
{
	struct rt_val args[] = {
		RT_VINT(scope),
		RT_VINT(pg->after),
		RT_VINT(rt_store_page_limit(pg)),
		RT_VINT(f->account_id),
		RT_VINT(f->from_ms),
		RT_VINT(f->to_ms),
		RT_VTEXT(f->number),
		RT_VTEXT(f->disposition),
		RT_VTEXT(f->channel),
		RT_VTEXT(f->source),
		RT_VTEXT(f->campaign),
	};
	struct call_rows r = {.h = h, .arg = arg};

	/* Two statements rather than a computed ORDER BY, so that each
	 * walks the primary key in its own direction. */
#define CALL_FILTERS                                                           \
	" AND (?4 = 0 OR c.account_id = ?4) AND (?5 = 0 OR c.started_at >= "   \
	"?5) AND (?6 = 0 OR c.started_at < ?6) AND (?7 = '' OR "               \
	"c.tracking_number = ?7) AND (?8 = '' OR c.disposition = ?8) AND (?9 " \
	"= '' OR c.channel = ?9) AND (?10 = '' OR c.source = ?10) AND (?11 = " \
	"'' OR c.campaign = ?11) AND " RT_IN_SCOPE("c.account_id")
	if (f->oldest_first)
		return rt_store_query(
			tx,
			"SELECT " CALL_COLS
			" FROM calls c WHERE c.id > ?2" CALL_FILTERS
			" ORDER BY c.id LIMIT ?3",
			args, RT_ARRAY_SIZE(args), call_row, &r, NULL);
	return rt_store_query(
		tx,
		"SELECT " CALL_COLS
		" FROM calls c WHERE (?2 = 0 OR c.id < ?2)" CALL_FILTERS
		" ORDER BY c.id DESC LIMIT ?3",
		args, RT_ARRAY_SIZE(args), call_row, &r, NULL);
#undef CALL_FILTERS
}

struct event_rows {
	rt_call_event_row_h *h;
	void *arg;
};

static int event_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct event_rows *r = arg;
	struct rt_call_event e;

	(void)ncols;
	memset(&e, 0, sizeof(e));
	e.id = rt_col_int(&c[0]);
	e.at = rt_col_int(&c[1]);
	RT_COL_STR(e.kind, &c[2]);
	RT_COL_STR(e.detail, &c[3]);
	return r->h(&e, r->arg);
}

int rt_store_call_events_list(struct rt_store_tx *tx, int64_t scope,
			      int64_t call_id, unsigned limit,
			      rt_call_event_row_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(call_id),
				RT_VINT(limit)};
	struct event_rows r = {h, arg};

	return rt_store_query(
		tx,
		"SELECT e.id, e.at, e.kind, e.detail FROM "
		"call_events e WHERE e.call_id = ?2 AND " RT_IN_SCOPE(
			"e.account_id") " ORDER BY e.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), event_row, &r, NULL);
}

int rt_store_call_pages_list(struct rt_store_tx *tx, int64_t scope,
			     int64_t call_id, unsigned limit,
			     rt_dni_pageview_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(call_id),
				RT_VINT(limit)};
	struct rt_store_pageview_rows r = {h, arg};

	return rt_store_query(
		tx,
		"SELECT p.position, p.url, p.title, p.at FROM call_pages p "
		"WHERE p.call_id = ?2 AND " RT_IN_SCOPE(
			"p.account_id") " ORDER BY p.position LIMIT ?3",
		args, RT_ARRAY_SIZE(args), rt_store_pageview_row, &r, NULL);
}

/* ---- recordings -----------------------------------------------------------
 */

#define REC_COLS                                                               \
	"r.id, r.call_id, r.account_id, r.path, r.format, r.channels, "        \
	"r.sample_rate, r.duration_ms, r.bytes, r.complete, r.created_at, "    \
	"r.updated_at, r.deleted_at"

int rt_store_recording_insert(struct rt_store_tx *tx, struct rt_recording *r)
{
	struct rt_val args[] = {
		RT_VINT(r->call_id),
		RT_VINT(r->account_id),
		RT_VTEXT(r->path),
		RT_VTEXT(r->format),
		RT_VINT(r->channels),
		RT_VINT(r->sample_rate),
		RT_VINT(r->duration_ms),
		RT_VINT(r->bytes),
		RT_VINT(r->complete ? 1 : 0),
		RT_VINT(r->created_at),
	};

	return rt_store_query_int(
		tx,
		"INSERT INTO recordings (call_id, account_id, path, format, "
		"channels, sample_rate, duration_ms, bytes, complete, "
		"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		"?8, "
		"?9, ?10, ?10) RETURNING id",
		args, RT_ARRAY_SIZE(args), &r->id);
}

int rt_store_recording_update(struct rt_store_tx *tx,
			      const struct rt_recording *r)
{
	struct rt_val args[] = {RT_VINT(r->call_id),
				RT_VINT(r->duration_ms),
				RT_VINT(r->bytes),
				RT_VINT(r->complete ? 1 : 0),
				RT_VINT(r->updated_at),
				RT_VTEXT(r->path),
				RT_VTEXT(r->format)};
	int64_t changed = 0;
	int err = rt_store_query(
		tx,
		"UPDATE recordings SET duration_ms = ?2, bytes = ?3, complete "
		"= ?4, updated_at = ?5, path = ?6, format = ?7 WHERE call_id = "
		"?1",
		args, RT_ARRAY_SIZE(args), NULL, NULL, &changed);

	return err ? err : changed ? 0 : ENOENT;
}

static int rec_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct rt_recording *r = arg;

	(void)ncols;
	memset(r, 0, sizeof(*r));
	r->id = rt_col_int(&c[0]);
	r->call_id = rt_col_int(&c[1]);
	r->account_id = rt_col_int(&c[2]);
	RT_COL_STR(r->path, &c[3]);
	RT_COL_STR(r->format, &c[4]);
	r->channels = (int)rt_col_int(&c[5]);
	r->sample_rate = (int)rt_col_int(&c[6]);
	r->duration_ms = rt_col_int(&c[7]);
	r->bytes = rt_col_int(&c[8]);
	r->complete = rt_col_int(&c[9]) != 0;
	r->created_at = rt_col_int(&c[10]);
	r->updated_at = rt_col_int(&c[11]);
	r->deleted_at = rt_col_int(&c[12]);
	return 0;
}

int rt_store_recording_get(struct rt_store_tx *tx, int64_t scope,
			   int64_t call_id, struct rt_recording *r)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(call_id)};
	struct rt_recording tmp = {0};
	int err =
		rt_store_query(tx,
			       "SELECT " REC_COLS " FROM recordings r WHERE "
			       "r.call_id = ?2 AND " RT_IN_SCOPE(
				       "r.account_id"),
			       args, RT_ARRAY_SIZE(args), rec_row, &tmp, NULL);

	if (!err && !tmp.id)
		err = ENOENT;
	if (!err)
		*r = tmp;
	return err;
}

struct rec_rows {
	rt_recording_h *h;
	void *arg;
	struct rt_recording r;
};

static int rec_each(const struct rt_val *c, size_t ncols, void *arg)
{
	struct rec_rows *rr = arg;

	rec_row(c, ncols, &rr->r);
	return rr->h(&rr->r, rr->arg);
}

int rt_store_recording_drop(struct rt_store_tx *tx, int64_t call_id)
{
	struct rt_val args[] = {RT_VINT(call_id)};

	return rt_store_query(tx, "DELETE FROM recordings WHERE call_id = ?1",
			      args, 1, NULL, NULL, NULL);
}

int rt_store_recordings_wav(struct rt_store_tx *tx, rt_recording_h *h,
			    void *arg)
{
	struct rec_rows rr = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " REC_COLS " FROM recordings r WHERE "
			      "r.format = 'wav' AND r.deleted_at IS NULL "
			      "ORDER BY r.id",
			      NULL, 0, rec_each, &rr, NULL);
}

int rt_store_recording_delete(struct rt_store_tx *tx, int64_t scope,
			      int64_t call_id, int64_t now,
			      struct rt_recording *r)
{
	struct rt_val args[] = {RT_VINT(r->id), RT_VINT(now)};
	int err = rt_store_recording_get(tx, scope, call_id, r);

	if (!err && r->deleted_at)
		err = ENOENT;
	if (err)
		return err;
	args[0] = RT_VINT(r->id);
	err = rt_store_query(tx,
			     "UPDATE recordings SET deleted_at = ?2, "
			     "updated_at = ?2 WHERE id = ?1",
			     args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
	if (!err)
		r->deleted_at = now;
	return err;
}
