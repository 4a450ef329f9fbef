/*
 * DNI sessions and page views.  The writes come from the DNI writer thread
 * in batches (src/dni/service.c), so each is one plain statement; the
 * reads are for support (GET /v1/dni/sessions/{id}) and for a restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

#define SESSION_COLS                                                           \
	"s.id, s.account_id, s.pool_id, s.number_id, s.lease_flags, "          \
	"s.visitor_id, s.ga_client_id, s.source, s.medium, s.campaign, "       \
	"s.term, s.content, s.channel, s.ad_group, s.keyword, "                \
	"s.campaign_id, s.matchtype, s.network, s.device, s.click_ids, "       \
	"s.landing_url, s.landing_host, s.landing_page, s.referrer, "          \
	"s.referrer_host, s.title, s.user_agent, s.device_class, s.browser, "  \
	"s.os, s.consent, s.pageviews, s.created_at, s.last_seen_at, "         \
	"s.ended_at, n.e164, n.kind"
#define SESSION_FROM                                                           \
	" FROM dni_sessions s LEFT JOIN numbers n ON n.id = s.number_id"

/* "" is stored as NULL, so that absent reads as absent in SQL too. */
#define OPT(s) RT_VTEXT((s)[0] ? (s) : NULL)

char *rt_store_clicks_encode(const struct rt_visit_source *v)
{
	json_t *o = json_object();
	char *text;

	for (size_t i = 0; o && i < RT_CLICK__N; i++) {
		if (v->click[i][0])
			json_object_set_new(o, rt_dni_click_names[i],
					    json_string(v->click[i]));
	}
	text = o && json_object_size(o) ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

void rt_store_clicks_decode(struct rt_visit_source *v, const char *text)
{
	json_t *o = text[0] ? json_loads(text, 0, NULL) : NULL;

	for (size_t i = 0; o && i < RT_CLICK__N; i++) {
		const char *s = json_string_value(
			json_object_get(o, rt_dni_click_names[i]));

		rt_strlcpy(v->click[i], s ? s : "", sizeof(v->click[i]));
	}
	json_decref(o);
}

int rt_store_dni_session_insert(struct rt_store_tx *tx,
				const struct rt_dni_session *s)
{
	const struct rt_visit_source *v = &s->src;
	char *clicks = rt_store_clicks_encode(v);
	struct rt_val args[] = {
		RT_VINT(s->id),
		RT_VINT(s->account_id),
		s->pool_id ? RT_VINT(s->pool_id) : RT_VNULL,
		s->number_id ? RT_VINT(s->number_id) : RT_VNULL,
		RT_VINT(s->lease_flags),
		RT_VTEXT(s->visitor_id),
		OPT(s->ga_client_id),
		OPT(v->source),
		OPT(v->medium),
		OPT(v->campaign),
		OPT(v->term),
		OPT(v->content),
		RT_VTEXT(v->channel),
		OPT(v->ad_group),
		OPT(v->keyword),
		OPT(v->campaign_id),
		OPT(v->matchtype),
		OPT(v->network),
		OPT(v->device),
		RT_VTEXT(clicks),
		RT_VTEXT(s->landing_url),
		OPT(v->landing_host),
		OPT(v->landing_page),
		OPT(s->referrer),
		OPT(v->referrer_host),
		OPT(s->title),
		OPT(s->user_agent),
		RT_VTEXT(s->device_class),
		OPT(s->browser),
		OPT(s->os),
		OPT(s->consent),
		RT_VINT(s->pageviews > 0 ? s->pageviews : 1),
		RT_VINT(s->created_at),
		RT_VINT(s->last_seen_at),
		s->ended_at ? RT_VINT(s->ended_at) : RT_VNULL,
	};
	int err;

	err = rt_store_query(
		tx,
		"INSERT INTO dni_sessions (id, account_id, pool_id, number_id, "
		"lease_flags, visitor_id, ga_client_id, source, medium, "
		"campaign, term, content, channel, ad_group, keyword, "
		"campaign_id, matchtype, network, device, click_ids, "
		"landing_url, landing_host, landing_page, referrer, "
		"referrer_host, title, user_agent, device_class, browser, os, "
		"consent, pageviews, created_at, last_seen_at, ended_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
		"?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, "
		"?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)",
		args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
	free(clicks);
	return err;
}

int rt_store_dni_pageview_add(struct rt_store_tx *tx, int64_t account_id,
			      int64_t session_id, const char *url,
			      const char *title, int64_t at)
{
	struct rt_val args[] = {RT_VINT(session_id), RT_VINT(account_id),
				RT_VTEXT(url),
				RT_VTEXT(title && title[0] ? title : NULL),
				RT_VINT(at)};
	int64_t changed = 0;
	int err;

	err = rt_store_query(tx,
			     "UPDATE dni_sessions SET pageviews = pageviews + "
			     "1, last_seen_at = ?3 WHERE id = ?1 AND "
			     "account_id = ?2",
			     (struct rt_val[]){args[0], args[1], args[4]}, 3,
			     NULL, NULL, &changed);
	if (err)
		return err;
	if (changed == 0)
		return ENOENT;
	return rt_store_query(tx,
			      "INSERT INTO dni_pageviews (session_id, "
			      "account_id, url, title, at) VALUES (?1, ?2, "
			      "?3, ?4, ?5)",
			      args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

static int update_one(struct rt_store_tx *tx, const char *sql, int64_t id,
		      int64_t v)
{
	struct rt_val args[] = {RT_VINT(id), RT_VINT(v)};
	int64_t changed = 0;
	int err;

	err = rt_store_query(tx, sql, args, 2, NULL, NULL, &changed);
	return err ? err : changed ? 0 : ENOENT;
}

int rt_store_dni_session_touch(struct rt_store_tx *tx, int64_t session_id,
			       int64_t at)
{
	return update_one(tx,
			  "UPDATE dni_sessions SET last_seen_at = ?2 WHERE "
			  "id = ?1 AND last_seen_at < ?2",
			  session_id, at);
}

int rt_store_dni_session_end(struct rt_store_tx *tx, int64_t session_id,
			     int64_t at)
{
	return update_one(tx,
			  "UPDATE dni_sessions SET ended_at = ?2 WHERE id = ?1 "
			  "AND ended_at IS NULL",
			  session_id, at);
}

int rt_store_dni_session_flag(struct rt_store_tx *tx, int64_t session_id,
			      unsigned flags)
{
	/* Bitwise OR on BIGINT is the same in SQLite and PostgreSQL. */
	return update_one(tx,
			  "UPDATE dni_sessions SET lease_flags = lease_flags "
			  "| ?2 WHERE id = ?1",
			  session_id, (int64_t)flags);
}

struct session_rows {
	rt_dni_session_h *h;
	void *arg;
	struct rt_dni_session *one;
};

static int session_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct session_rows *r = arg;
	struct rt_dni_session *s = r->one;
	struct rt_visit_source *v;
	int err;

	(void)ncols;
	if (!s) {
		s = malloc(sizeof(*s)); /* some 8 KB: not on the stack */
		if (!s)
			return ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	v = &s->src;
	s->id = rt_col_int(&c[0]);
	s->account_id = rt_col_int(&c[1]);
	s->pool_id = rt_col_int(&c[2]);
	s->number_id = rt_col_int(&c[3]);
	s->lease_flags = (unsigned)rt_col_int(&c[4]);
	RT_COL_STR(s->visitor_id, &c[5]);
	RT_COL_STR(s->ga_client_id, &c[6]);
	RT_COL_STR(v->source, &c[7]);
	RT_COL_STR(v->medium, &c[8]);
	RT_COL_STR(v->campaign, &c[9]);
	RT_COL_STR(v->term, &c[10]);
	RT_COL_STR(v->content, &c[11]);
	RT_COL_STR(v->channel, &c[12]);
	RT_COL_STR(v->ad_group, &c[13]);
	RT_COL_STR(v->keyword, &c[14]);
	RT_COL_STR(v->campaign_id, &c[15]);
	RT_COL_STR(v->matchtype, &c[16]);
	RT_COL_STR(v->network, &c[17]);
	RT_COL_STR(v->device, &c[18]);
	rt_store_clicks_decode(v, rt_col_text(&c[19]));
	RT_COL_STR(s->landing_url, &c[20]);
	RT_COL_STR(v->landing_host, &c[21]);
	RT_COL_STR(v->landing_page, &c[22]);
	RT_COL_STR(s->referrer, &c[23]);
	RT_COL_STR(v->referrer_host, &c[24]);
	RT_COL_STR(s->title, &c[25]);
	RT_COL_STR(s->user_agent, &c[26]);
	RT_COL_STR(s->device_class, &c[27]);
	RT_COL_STR(s->browser, &c[28]);
	RT_COL_STR(s->os, &c[29]);
	RT_COL_STR(s->consent, &c[30]);
	s->pageviews = rt_col_int(&c[31]);
	s->created_at = rt_col_int(&c[32]);
	s->last_seen_at = rt_col_int(&c[33]);
	s->ended_at = rt_col_int(&c[34]);
	RT_COL_STR(s->number_e164, &c[35]);
	RT_COL_STR(s->number_kind, &c[36]);
	if (r->one)
		return 0;
	err = r->h(s, r->arg);
	free(s);
	return err;
}

int rt_store_dni_session_open(struct rt_store_tx *tx, int64_t since,
			      rt_dni_session_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(since)};
	struct session_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " SESSION_COLS SESSION_FROM
			      " WHERE s.ended_at IS NULL AND s.last_seen_at "
			      ">= ?1 ORDER BY s.last_seen_at",
			      args, 1, session_row, &r, NULL);
}

int rt_store_dni_session_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			     struct rt_dni_session *s)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	struct session_rows r = {.one = s};
	int err;

	s->id = 0;
	err = rt_store_query(tx,
			     "SELECT " SESSION_COLS SESSION_FROM
			     " WHERE s.id = ?2 AND " RT_IN_SCOPE(
				     "s.account_id"),
			     args, 2, session_row, &r, NULL);
	return err ? err : s->id ? 0 : ENOENT;
}

int rt_store_pageview_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct rt_store_pageview_rows *r = arg;
	struct rt_dni_pageview p;

	(void)ncols;
	memset(&p, 0, sizeof(p));
	p.id = rt_col_int(&c[0]);
	RT_COL_STR(p.url, &c[1]);
	RT_COL_STR(p.title, &c[2]);
	p.at = rt_col_int(&c[3]);
	return r->h(&p, r->arg);
}

int rt_store_dni_pageview_list(struct rt_store_tx *tx, int64_t scope,
			       int64_t session_id, unsigned limit,
			       rt_dni_pageview_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(session_id),
				RT_VINT(limit)};
	struct rt_store_pageview_rows r = {h, arg};

	/* The landing page is the first page view; it is kept on the
	 * session's row only (id 0 here), one insert fewer per visit. */
	return rt_store_query(
		tx,
		"SELECT 0, s.landing_url, s.title, s.created_at FROM "
		"dni_sessions s WHERE s.id = ?2 AND " RT_IN_SCOPE(
			"s.account_id") " UNION ALL SELECT p.id, p.url, "
					"p.title, p.at FROM dni_pageviews p "
					"WHERE p.session_id = ?2 "
					"AND " RT_IN_SCOPE(
						"p.account_id") " ORDER BY 1 "
								"LIMIT ?3",
		args, 3, rt_store_pageview_row, &r, NULL);
}

struct who_rows {
	int64_t *ids;
	size_t max, n;
};

static int who_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct who_rows *w = arg;

	(void)ncols;
	if (w->n < w->max)
		w->ids[w->n++] = rt_col_int(&c[0]);
	return 0;
}

int rt_store_dni_session_who(struct rt_store_tx *tx, int64_t number_id,
			     int64_t t, int64_t grace_ms, int64_t *ids,
			     size_t max, size_t *np, bool *livep)
{
	struct rt_val args[] = {RT_VINT(number_id), RT_VINT(t),
				RT_VINT(t - grace_ms), RT_VINT((int64_t)max)};
	struct who_rows w = {ids, max, 0};
	int err;

	*np = 0;
	*livep = true;
	err = rt_store_query(tx,
			     "SELECT s.id FROM dni_sessions s WHERE "
			     "s.number_id = ?1 AND s.created_at <= ?2 AND "
			     "(s.ended_at IS NULL OR s.ended_at >= ?2) ORDER "
			     "BY s.created_at DESC LIMIT ?4",
			     args, RT_ARRAY_SIZE(args), who_row, &w, NULL);
	if (!err && w.n == 0) {
		*livep = false;
		err = rt_store_query(
			tx,
			"SELECT s.id FROM dni_sessions s WHERE s.number_id = "
			"?1 AND s.created_at <= ?2 AND s.ended_at < ?2 AND "
			"s.ended_at >= ?3 ORDER BY s.ended_at DESC LIMIT ?4",
			args, RT_ARRAY_SIZE(args), who_row, &w, NULL);
	}
	*np = w.n;
	return err;
}
