/*
 * Checking a flow document and compiling it into struct rt_flow.
 *
 * Every problem is collected (up to RT_FLOW_ERRORS_MAX) with its step and
 * field, so that the editor can mark each step at once; a flow with any
 * error is not compiled.  The rules are docs/flows.md's, and
 * docs/flows.schema.json says the same shapes for other tools.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "util/phone.h"
#include "util/util.h"

static const char *const type_names[RT_FLOW_NTYPES] = {
	"play", "disclosure", "schedule",  "geo", "source", "menu",
	"dial", "whisper",    "voicemail", "tag", "set",    "hangup",
};

const char *rt_flow_type_name(enum rt_flow_type t)
{
	return (unsigned)t < RT_FLOW_NTYPES ? type_names[t] : "?";
}

static const char *const fact_names[RT_NFACTS] = {
	"country",	   "region",	   "area_code", "channel",
	"source",	   "medium",	   "campaign",	"keyword",
	"confidence",	   "landing_page", "caller",	"caller_location",
	"tracking_number", "number_name",
};

const char *rt_flow_fact_name(enum rt_flow_fact f)
{
	return (unsigned)f < RT_NFACTS ? fact_names[f] : "?";
}

static int fact_parse(const char *s)
{
	for (int i = 0; i < RT_NFACTS; i++)
		if (strcmp(fact_names[i], s) == 0)
			return i;
	return -1;
}

static const char *const day_names[7] = {"mon", "tue", "wed", "thu",
					 "fri", "sat", "sun"};

/* US states whose law asks every party's consent to record a call; the
 * default "regions" of a two_party disclosure (docs/flows.md). */
static const char *const two_party_regions[] = {
	"US-CA", "US-CT", "US-DE", "US-FL", "US-IL", "US-MD", "US-MA",
	"US-MI", "US-MT", "US-NV", "US-NH", "US-OR", "US-PA", "US-WA",
};

#define DISCLOSURE_TEXT                                                        \
	"This call may be recorded for quality and training purposes."
#define VOICEMAIL_TEXT                                                         \
	"Please leave a message after the tone, and we will call you back."

/* ---- problems ------------------------------------------------------------ */

struct ctx {
	struct rt_flow_problems *pr;
	const char *step; /* the step being read, NULL at the top */
	int step_i;
	bool oom;
};

RT_PRINTF(5, 0)
static void add(struct ctx *c, bool warning, const char *step,
		const char *field, const char *fmt, va_list ap)
{
	struct rt_flow_problem *p;

	if (warning) {
		if (c->pr->nwarnings == RT_FLOW_ERRORS_MAX)
			return;
		p = &c->pr->w[c->pr->nwarnings++];
	} else {
		if (c->pr->n == RT_FLOW_ERRORS_MAX)
			return;
		p = &c->pr->p[c->pr->n++];
	}
	rt_strlcpy(p->step, step ? step : "", sizeof(p->step));
	rt_strlcpy(p->field, field ? field : "", sizeof(p->field));
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
}

static void err(struct ctx *c, const char *field, const char *fmt, ...)
	RT_PRINTF(3, 4);
static void err(struct ctx *c, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(c, false, c->step, field, fmt, ap);
	va_end(ap);
}

static void err_at(struct ctx *c, const char *step, const char *field,
		   const char *fmt, ...) RT_PRINTF(4, 5);
static void err_at(struct ctx *c, const char *step, const char *field,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(c, false, step, field, fmt, ap);
	va_end(ap);
}

static void warn_at(struct ctx *c, const char *step, const char *fmt, ...)
	RT_PRINTF(3, 4);
static void warn_at(struct ctx *c, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(c, true, step, "", fmt, ap);
	va_end(ap);
}

static char *sdup(struct ctx *c, const char *s)
{
	char *d = rt_strdup(s);

	if (!d)
		c->oom = true;
	return d;
}

static void *alloc(struct ctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		c->oom = true;
	return p;
}

/* ---- small readers ------------------------------------------------------- */

/* Only the keys of allowed (NULL-ended) or the common ones. */
static void check_keys(struct ctx *c, const json_t *o,
		       const char *const *allowed, const char *where)
{
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)(uintptr_t)o, k, v) {
		bool ok = false;
		char f[96];

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], k) == 0;
		if (ok)
			continue;
		snprintf(f, sizeof(f), "%s%s%s", where, *where ? "." : "", k);
		err(c, f, "unknown field '%s'", k);
	}
}

static bool text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\n' && *p != '\t')
			return false;
	return true;
}

/* A string of 1 to max bytes without control characters; NULL when
 * absent (required: an error then) or wrong. */
static const char *str_field(struct ctx *c, const json_t *o, const char *k,
			     size_t max, bool required, const char *field)
{
	json_t *v = json_object_get(o, k);
	const char *s;

	if (!v || json_is_null(v)) {
		if (required)
			err(c, field, "'%s' is required", k);
		return NULL;
	}
	if (!json_is_string(v)) {
		err(c, field, "'%s' must be a string", k);
		return NULL;
	}
	s = json_string_value(v);
	if (!*s) {
		err(c, field, "'%s' must not be empty", k);
		return NULL;
	}
	if (strlen(s) > max) {
		err(c, field, "'%s' is longer than %zu bytes", k, max);
		return NULL;
	}
	if (!text_ok(s)) {
		err(c, field, "'%s' has control characters", k);
		return NULL;
	}
	return s;
}

/* An integer in [min, max], def when absent. */
static unsigned uint_field(struct ctx *c, const json_t *o, const char *k,
			   unsigned min, unsigned max, unsigned def)
{
	json_t *v = json_object_get(o, k);
	json_int_t i;

	if (!v || json_is_null(v))
		return def;
	if (!json_is_integer(v)) {
		err(c, k, "'%s' must be a whole number from %u to %u", k, min,
		    max);
		return def;
	}
	i = json_integer_value(v);
	if (i < (json_int_t)min || i > (json_int_t)max) {
		err(c, k, "'%s' must be from %u to %u", k, min, max);
		return def;
	}
	return (unsigned)i;
}

static bool bool_field(struct ctx *c, const json_t *o, const char *k, bool def)
{
	json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return def;
	if (!json_is_boolean(v)) {
		err(c, k, "'%s' must be true or false", k);
		return def;
	}
	return json_is_true(v);
}

/* A prompt object {"text": ...} or {"audio_id": n}; with def_text, an
 * absent prompt speaks it. */
static void prompt_field(struct ctx *c, const json_t *o, const char *k,
			 bool required, const char *def_text,
			 struct rt_flow_prompt *p)
{
	static const char *const keys[] = {"text", "audio_id", NULL};
	json_t *v = json_object_get(o, k);
	const char *text;
	json_t *a;
	char f[64];

	if (!v || json_is_null(v)) {
		if (required)
			err(c, k,
			    "'%s' is required: {\"text\": ...} or "
			    "{\"audio_id\": ...}",
			    k);
		else if (def_text)
			p->text = sdup(c, def_text);
		return;
	}
	if (!json_is_object(v)) {
		err(c, k,
		    "'%s' must be an object: {\"text\": ...} or "
		    "{\"audio_id\": ...}",
		    k);
		return;
	}
	check_keys(c, v, keys, k);
	a = json_object_get(v, "audio_id");
	snprintf(f, sizeof(f), "%s.text", k);
	text = str_field(c, v, "text", RT_FLOW_TEXT_MAX, false, f);
	snprintf(f, sizeof(f), "%s.audio_id", k);
	if (a && !json_is_null(a)) {
		if (!json_is_integer(a) || json_integer_value(a) <= 0)
			err(c, f,
			    "'audio_id' must be the id of an uploaded "
			    "audio file");
		else if (text)
			err(c, f,
			    "a prompt has either 'text' or 'audio_id', "
			    "not both");
		else
			p->audio_id = json_integer_value(a);
		return;
	}
	if (text)
		p->text = sdup(c, text);
	else if (!json_object_get(v, "text"))
		err(c, k, "'%s' needs 'text' or 'audio_id'", k);
}

/* An array of 1 to max strings of 1 to len bytes, each passing ok (when
 * given); NULL and an error otherwise.  *np gets the count. */
static char **str_array(struct ctx *c, const json_t *v, const char *field,
			size_t max, size_t len, bool (*ok)(const char *),
			const char *what, size_t *np)
{
	char **out;
	size_t i;
	json_t *e;

	*np = 0;
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > max) {
		err(c, field, "'%s' must be a list of 1 to %zu %s", field, max,
		    what);
		return NULL;
	}
	out = alloc(c, json_array_size(v), sizeof(*out));
	if (!out)
		return NULL;
	json_array_foreach (v, i, e) {
		const char *s = json_is_string(e) ? json_string_value(e) : NULL;
		char f[96];

		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!s || !*s || strlen(s) > len || !text_ok(s) ||
		    (ok && !ok(s))) {
			err(c, f, "'%s' is not %s", s ? s : "(not a string)",
			    what);
			continue;
		}
		out[(*np)++] = sdup(c, s);
	}
	return out;
}

static void free_strs(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_country(const char *s)
{
	return strlen(s) == 2 && isupper((unsigned char)s[0]) &&
	       isupper((unsigned char)s[1]);
}

/* ISO 3166-2: "US-CA", "CA-ON", "GB-ENG". */
static bool is_region(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 6 || !is_country((char[3]){s[0], s[1], 0}) ||
	    s[2] != '-')
		return false;
	for (size_t i = 3; i < n; i++)
		if (!isupper((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_digits(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 6)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_confidence(const char *s)
{
	static const char *const v[] = {"exact", "grace", "shared", "none",
					"fixed"};

	for (size_t i = 0; i < RT_ARRAY_SIZE(v); i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool is_tag(const char *s)
{
	return strlen(s) <= 64;
}

/* A step id or an exit name: [A-Za-z0-9_-]. */
static bool is_ident(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* "HH:MM", 00:00 to 24:00, into minutes. */
static bool parse_hhmm(const char *s, uint16_t *mp)
{
	unsigned h, m;

	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return false;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*mp = (uint16_t)(h * 60 + m);
	return true;
}

/* [["09:00", "17:00"], ...]: each from before to, none overlapping. */
static void day_field(struct ctx *c, const json_t *v, const char *field,
		      struct rt_flow_day *d)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > 8) {
		err(c, field,
		    "'%s' must be a list of up to 8 [\"HH:MM\", \"HH:MM\"] "
		    "ranges ([] for closed all day)",
		    field);
		return;
	}
	d->spans = alloc(c, json_array_size(v), sizeof(*d->spans));
	if (!d->spans)
		return;
	json_array_foreach (v, i, e) {
		struct rt_flow_span sp;
		char f[96];

		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!json_is_array(e) || json_array_size(e) != 2 ||
		    !json_is_string(json_array_get(e, 0)) ||
		    !json_is_string(json_array_get(e, 1)) ||
		    !parse_hhmm(json_string_value(json_array_get(e, 0)),
				&sp.from) ||
		    !parse_hhmm(json_string_value(json_array_get(e, 1)),
				&sp.to)) {
			err(c, f,
			    "a range is [\"HH:MM\", \"HH:MM\"] in 24-hour "
			    "time, 00:00 to 24:00");
			continue;
		}
		if (sp.from >= sp.to) {
			err(c, f,
			    "a range must end after it starts (split one "
			    "that crosses midnight into two days)");
			continue;
		}
		for (size_t k = 0; k < d->n; k++)
			if (sp.from < d->spans[k].to &&
			    d->spans[k].from < sp.to) {
				err(c, f,
				    "this range overlaps another of the "
				    "same day");
				break;
			}
		d->spans[d->n++] = sp;
	}
}

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && y && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return m == 2 && !y ? 29 : d[m - 1];
}

/* "YYYY-MM-DD" or "MM-DD" (every year). */
static bool parse_date(const char *s, struct rt_flow_date *d)
{
	int y = 0, m, dd;
	size_t n = strlen(s);

	/* the dashes exactly where they go, digits everywhere else */
	if (n != 5 && n != 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == n - 3 || (n == 10 && i == 4);

		if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	}
	if (n == 10) {
		y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
		    (s[2] - '0') * 10 + (s[3] - '0');
		s += 5;
	}
	m = (s[0] - '0') * 10 + (s[1] - '0');
	dd = (s[3] - '0') * 10 + (s[4] - '0');
	if ((n == 10 && y < 2000) || m < 1 || m > 12 || dd < 1 ||
	    dd > days_in(y, m))
		return false;
	d->year = y;
	d->month = m;
	d->day = dd;
	return true;
}

/* ---- steps --------------------------------------------------------------- */

/* The exits a step type has; geo and source add their rules' names. */
static const char *const *exit_names(enum rt_flow_type t)
{
	static const char *const next[] = {"next", NULL};
	static const char *const sched[] = {"open", "closed", "holiday", NULL};
	static const char *const other[] = {"other", NULL};
	static const char *const menu[] = {"0",	      "1",	 "2", "3",
					   "4",	      "5",	 "6", "7",
					   "8",	      "9",	 "*", "#",
					   "timeout", "invalid", NULL};
	static const char *const dial[] = {"answered", "no_answer", "busy",
					   "failed", NULL};
	static const char *const none[] = {NULL};

	switch (t) {
	case RT_FLOW_SCHEDULE:
		return sched;
	case RT_FLOW_GEO:
	case RT_FLOW_SOURCE:
		return other;
	case RT_FLOW_MENU:
		return menu;
	case RT_FLOW_DIAL:
		return dial;
	case RT_FLOW_HANGUP:
		return none;
	default:
		return next;
	}
}

static void read_play(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	prompt_field(c, o, "prompt", true, NULL, &s->u.play.prompt);
}

static void read_disclosure(struct ctx *c, const json_t *o,
			    struct rt_flow_step *s)
{
	const char *when = str_field(c, o, "when", 16, false, "when");
	json_t *r = json_object_get(o, "regions");

	prompt_field(c, o, "prompt", false, DISCLOSURE_TEXT,
		     &s->u.disclosure.prompt);
	if (when && strcmp(when, "two_party") == 0)
		s->u.disclosure.two_party_only = true;
	else if (when && strcmp(when, "always") != 0)
		err(c, "when", "'when' is \"always\" or \"two_party\"");
	if (r && !json_is_null(r)) {
		if (!s->u.disclosure.two_party_only)
			err(c, "regions",
			    "'regions' goes with \"when\": \"two_party\"");
		else
			s->u.disclosure.regions =
				str_array(c, r, "regions", 100, 6, is_region,
					  "a region code such as \"US-CA\"",
					  &s->u.disclosure.nregions);
		return;
	}
	if (!s->u.disclosure.two_party_only)
		return;
	s->u.disclosure.regions =
		alloc(c, RT_ARRAY_SIZE(two_party_regions), sizeof(char *));
	if (!s->u.disclosure.regions)
		return;
	for (size_t i = 0; i < RT_ARRAY_SIZE(two_party_regions); i++)
		s->u.disclosure.regions[s->u.disclosure.nregions++] =
			sdup(c, two_party_regions[i]);
}

static void read_schedule(struct ctx *c, const json_t *o,
			  struct rt_flow_step *s)
{
	static const char *const date_keys[] = {"date", "name", "holiday",
						"hours", NULL};
	const char *tz = str_field(c, o, "timezone", 64, false, "timezone");
	json_t *hours = json_object_get(o, "hours");
	json_t *dates = json_object_get(o, "dates");
	const char *k;
	json_t *v;
	size_t i;

	if (tz && !rt_tz_valid(tz))
		err(c, "timezone",
		    "'%s' is not an IANA time zone such as "
		    "\"America/New_York\"",
		    tz);
	else if (tz)
		s->u.schedule.tz = sdup(c, tz);
	if (!json_is_object(hours)) {
		err(c, "hours",
		    "'hours' is required: an object of days (\"mon\" to "
		    "\"sun\") with their opening ranges");
	} else {
		json_object_foreach (hours, k, v) {
			char f[32];
			int d = -1;

			for (int j = 0; j < 7; j++)
				if (strcmp(day_names[j], k) == 0)
					d = j;
			snprintf(f, sizeof(f), "hours.%s", k);
			if (d < 0)
				err(c, f,
				    "'%s' is not a day: \"mon\" to "
				    "\"sun\"",
				    k);
			else
				day_field(c, v, f, &s->u.schedule.week[d]);
		}
	}
	if (!dates || json_is_null(dates))
		return;
	if (!json_is_array(dates) || json_array_size(dates) > 366) {
		err(c, "dates", "'dates' must be a list of up to 366 days");
		return;
	}
	s->u.schedule.dates =
		alloc(c, json_array_size(dates), sizeof(struct rt_flow_date));
	if (!s->u.schedule.dates)
		return;
	json_array_foreach (dates, i, v) {
		struct rt_flow_date *d =
			&s->u.schedule.dates[s->u.schedule.ndates];
		const char *ds, *name;
		json_t *h;
		char f[48];

		snprintf(f, sizeof(f), "dates[%zu]", i);
		if (!json_is_object(v)) {
			err(c, f,
			    "a date is an object with 'date' and "
			    "'holiday' or 'hours'");
			continue;
		}
		check_keys(c, v, date_keys, f);
		snprintf(f, sizeof(f), "dates[%zu].date", i);
		ds = str_field(c, v, "date", 10, true, f);
		if (ds && !parse_date(ds, d)) {
			err(c, f,
			    "'%s' is not a date: \"YYYY-MM-DD\", or "
			    "\"MM-DD\" for every year",
			    ds);
			continue;
		}
		snprintf(f, sizeof(f), "dates[%zu].name", i);
		name = str_field(c, v, "name", 100, false, f);
		d->name = name ? sdup(c, name) : NULL;
		snprintf(f, sizeof(f), "dates[%zu].holiday", i);
		h = json_object_get(v, "holiday");
		if (h && !json_is_boolean(h) && !json_is_null(h))
			err(c, f, "'holiday' must be true or false");
		d->holiday = json_is_true(h);
		h = json_object_get(v, "hours");
		snprintf(f, sizeof(f), "dates[%zu]", i);
		if (d->holiday && h)
			err(c, f,
			    "a holiday is closed all day: give "
			    "'hours' or \"holiday\": true, not both");
		else if (!d->holiday && !h)
			err(c, f,
			    "a date needs \"holiday\": true or its "
			    "'hours' ([] for closed)");
		else if (h) {
			snprintf(f, sizeof(f), "dates[%zu].hours", i);
			day_field(c, h, f, &d->hours);
		}
		if (ds) {
			s->u.schedule.ndates++;
		} else {
			free(d->name);
			free(d->hours.spans);
			memset(d, 0, sizeof(*d));
		}
	}
	for (size_t a = 0; a < s->u.schedule.ndates; a++)
		for (size_t b = a + 1; b < s->u.schedule.ndates; b++) {
			const struct rt_flow_date *x = &s->u.schedule.dates[a];
			const struct rt_flow_date *y = &s->u.schedule.dates[b];

			if (x->year == y->year && x->month == y->month &&
			    x->day == y->day) {
				char f[48];

				snprintf(f, sizeof(f), "dates[%zu].date", b);
				err(c, f, "this date is listed twice");
			}
		}
}

/* geo and source: rules of conditions on the facts of fields. */
static void read_rules(struct ctx *c, const json_t *o, struct rt_flow_step *s,
		       const int *fields, size_t nfields)
{
	json_t *rules = json_object_get(o, "rules");
	json_t *r;
	size_t i;

	if (!json_is_array(rules) || json_array_size(rules) == 0 ||
	    json_array_size(rules) > 50) {
		err(c, "rules",
		    "'rules' is required: a list of 1 to 50 rules, each an "
		    "'exit' name and its conditions");
		return;
	}
	s->u.branch.rules =
		alloc(c, json_array_size(rules), sizeof(struct rt_flow_rule));
	if (!s->u.branch.rules)
		return;
	json_array_foreach (rules, i, r) {
		struct rt_flow_rule *ru = &s->u.branch.rules[s->u.branch.n];
		const char *k, *ex;
		json_t *v;
		char f[64];

		snprintf(f, sizeof(f), "rules[%zu]", i);
		if (!json_is_object(r)) {
			err(c, f, "a rule is an object");
			continue;
		}
		snprintf(f, sizeof(f), "rules[%zu].exit", i);
		ex = str_field(c, r, "exit", 31, true, f);
		if (ex && (!is_ident(ex, 32) || strcmp(ex, "other") == 0)) {
			err(c, f,
			    "'%s' is not a rule's exit name: letters, "
			    "digits, _ and -, not \"other\"",
			    ex);
			ex = NULL;
		}
		ru->conds = alloc(c, json_object_size(r), sizeof(*ru->conds));
		if (!ru->conds)
			return;
		json_object_foreach (r, k, v) {
			struct rt_flow_cond *cd = &ru->conds[ru->n];
			int fact = fact_parse(k);
			bool ok = false;

			if (strcmp(k, "exit") == 0)
				continue;
			for (size_t j = 0; j < nfields; j++)
				ok = ok || fields[j] == fact;
			snprintf(f, sizeof(f), "rules[%zu].%s", i, k);
			if (!ok) {
				err(c, f, "unknown condition '%s'", k);
				continue;
			}
			cd->field = fact;
			cd->values = str_array(
				c, v, f, 200, 256,
				fact == RT_FACT_COUNTRY	     ? is_country
				: fact == RT_FACT_REGION     ? is_region
				: fact == RT_FACT_AREA_CODE  ? is_digits
				: fact == RT_FACT_CONFIDENCE ? is_confidence
							     : NULL,
				fact == RT_FACT_COUNTRY ? "a country code such "
							  "as \"US\""
				: fact == RT_FACT_REGION
					? "a region code such as \"US-CA\""
				: fact == RT_FACT_AREA_CODE
					? "an area code of digits, such "
					  "as \"415\""
				: fact == RT_FACT_CONFIDENCE
					? "exact, grace, shared, none or "
					  "fixed"
					: "a value",
				&cd->n);
			if (cd->values)
				ru->n++;
		}
		if (ru->n == 0) {
			snprintf(f, sizeof(f), "rules[%zu]", i);
			err(c, f, "a rule needs at least one condition");
		}
		ru->exit = ex ? sdup(c, ex) : NULL;
		s->u.branch.n++;
		for (size_t j = 0; ex && j + 1 < s->u.branch.n; j++)
			if (s->u.branch.rules[j].exit &&
			    strcmp(s->u.branch.rules[j].exit, ex) == 0) {
				snprintf(f, sizeof(f), "rules[%zu].exit", i);
				err(c, f,
				    "two rules lead to exit '%s': list "
				    "both conditions' values in one rule",
				    ex);
			}
	}
}

static void read_menu(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	prompt_field(c, o, "prompt", true, NULL, &s->u.menu.prompt);
	prompt_field(c, o, "invalid_prompt", false,
		     "Sorry, that is not one of the choices.",
		     &s->u.menu.invalid);
	s->u.menu.timeout_s = uint_field(c, o, "timeout_s", 1, 60, 5);
	s->u.menu.retries = uint_field(c, o, "retries", 0, 5, 2);
}

static bool is_uri(const char *s)
{
	const char *h;

	if (strncmp(s, "sip:", 4) == 0)
		h = s + 4;
	else if (strncmp(s, "sips:", 5) == 0)
		h = s + 5;
	else
		return false;
	if (strchr(h, '@'))
		h = strchr(h, '@') + 1;
	if (!*h || *h == ';' || *h == ':')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '<' || *p == '>' ||
		    *p == '"' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static void read_dial(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	static const char *const tkeys[] = {"uri", "number", "user_id",
					    "ring_s", NULL};
	json_t *t = json_object_get(o, "targets");
	const char *strat = str_field(c, o, "strategy", 16, false, "strategy");
	const char *cid = str_field(c, o, "caller_id", 16, false, "caller_id");
	json_t *e;
	size_t i;

	if (!strat || strcmp(strat, "simultaneous") == 0)
		s->u.dial.strategy = RT_DIAL_SIMULTANEOUS;
	else if (strcmp(strat, "sequential") == 0)
		s->u.dial.strategy = RT_DIAL_SEQUENTIAL;
	else if (strcmp(strat, "round_robin") == 0)
		s->u.dial.strategy = RT_DIAL_ROUND_ROBIN;
	else
		err(c, "strategy",
		    "'strategy' is \"simultaneous\", \"sequential\" or "
		    "\"round_robin\"");
	if (cid && strcmp(cid, "tracking_number") == 0)
		s->u.dial.tracking_caller_id = true;
	else if (cid && strcmp(cid, "caller") != 0)
		err(c, "caller_id",
		    "'caller_id' is \"caller\" or \"tracking_number\"");
	s->u.dial.timeout_s = uint_field(c, o, "timeout_s", 5, 600, 60);
	if (!json_is_array(t) || json_array_size(t) == 0 ||
	    json_array_size(t) > RT_FLOW_TARGETS_MAX) {
		err(c, "targets",
		    "'targets' is required: a list of 1 to %d destinations "
		    "({\"uri\"}, {\"number\"} or {\"user_id\"})",
		    RT_FLOW_TARGETS_MAX);
		return;
	}
	s->u.dial.targets =
		alloc(c, json_array_size(t), sizeof(struct rt_flow_target));
	if (!s->u.dial.targets)
		return;
	json_array_foreach (t, i, e) {
		struct rt_flow_target *tg = &s->u.dial.targets[s->u.dial.n];
		char f[64], where[40];
		size_t kinds;
		const char *v;
		json_t *r;

		snprintf(where, sizeof(where), "targets[%zu]", i);
		if (!json_is_object(e)) {
			err(c, where, "a target is an object");
			continue;
		}
		check_keys(c, e, tkeys, where);
		kinds = (json_object_get(e, "uri") != NULL) +
			(json_object_get(e, "number") != NULL) +
			(json_object_get(e, "user_id") != NULL);
		if (kinds != 1) {
			err(c, where,
			    "a target has one of 'uri', 'number' or "
			    "'user_id'");
			continue;
		}
		snprintf(f, sizeof(f), "%s.ring_s", where);
		r = json_object_get(e, "ring_s");
		tg->ring_s = 20;
		if (r && (!json_is_integer(r) || json_integer_value(r) < 5 ||
			  json_integer_value(r) > 300))
			err(c, f, "'ring_s' must be from 5 to 300");
		else if (r)
			tg->ring_s = (unsigned)json_integer_value(r);
		if (json_object_get(e, "user_id")) {
			json_t *u = json_object_get(e, "user_id");

			snprintf(f, sizeof(f), "%s.user_id", where);
			if (!json_is_integer(u) || json_integer_value(u) <= 0) {
				err(c, f, "'user_id' must be a user's id");
				continue;
			}
			tg->kind = RT_TARGET_USER;
			tg->user_id = json_integer_value(u);
		} else if (json_object_get(e, "uri")) {
			snprintf(f, sizeof(f), "%s.uri", where);
			v = str_field(c, e, "uri", 255, true, f);
			if (!v)
				continue;
			if (!is_uri(v)) {
				err(c, f,
				    "'%s' is not a SIP URI such as "
				    "\"sip:desk@pbx.example.com\"",
				    v);
				continue;
			}
			tg->kind = RT_TARGET_URI;
			tg->value = sdup(c, v);
		} else {
			struct rt_phone ph;

			snprintf(f, sizeof(f), "%s.number", where);
			v = str_field(c, e, "number", 32, true, f);
			if (!v)
				continue;
			if (v[0] != '+' || rt_phone_parse(v, NULL, &ph)) {
				err(c, f,
				    "'%s' is not a valid phone number in "
				    "E.164 form (\"+14155550100\")",
				    v);
				continue;
			}
			tg->kind = RT_TARGET_NUMBER;
			tg->value = sdup(c, ph.e164);
		}
		s->u.dial.n++;
	}
	if (s->u.dial.strategy == RT_DIAL_SIMULTANEOUS)
		for (size_t k = 0; k < s->u.dial.n; k++)
			if (s->u.dial.targets[k].ring_s > s->u.dial.timeout_s)
				s->u.dial.targets[k].ring_s =
					s->u.dial.timeout_s;
}

/* {name} fields of a template must be facts. */
static void check_template(struct ctx *c, const char *t, const char *field)
{
	for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
		const char *q = strchr(p, '}');
		char name[32];

		if (!q || (size_t)(q - p - 1) >= sizeof(name)) {
			err(c, field, "a '{' without its field name and '}'");
			return;
		}
		memcpy(name, p + 1, (size_t)(q - p - 1));
		name[q - p - 1] = 0;
		if (fact_parse(name) < 0) {
			err(c, field,
			    "'{%s}' is not a field: source, medium, "
			    "campaign, keyword, channel, confidence, "
			    "landing_page, caller, caller_location, "
			    "tracking_number, number_name, country, region, "
			    "area_code",
			    name);
			return;
		}
	}
}

static void read_whisper(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	const char *t = str_field(c, o, "text", 400, true, "text");

	if (t) {
		check_template(c, t, "text");
		s->u.whisper.text = sdup(c, t);
	}
	s->u.whisper.accept = bool_field(c, o, "accept", false);
}

static void read_voicemail(struct ctx *c, const json_t *o,
			   struct rt_flow_step *s)
{
	prompt_field(c, o, "greeting", false, VOICEMAIL_TEXT,
		     &s->u.voicemail.greeting);
	s->u.voicemail.beep = bool_field(c, o, "beep", true);
	s->u.voicemail.max_s = uint_field(c, o, "max_s", 5, 600, 120);
}

static void read_tag(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	json_t *t = json_object_get(o, "tags");

	if (!t) {
		err(c, "tags", "'tags' is required: a list of 1 to 20 tags");
		return;
	}
	s->u.tag.tags = str_array(c, t, "tags", 20, 64, is_tag,
				  "a tag of up to 64 bytes", &s->u.tag.n);
}

static void read_set(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	json_t *v = json_object_get(o, "value");
	const char *lead = str_field(c, o, "lead", 16, false, "lead");
	json_t *f = json_object_get(o, "fields");

	if (v && !json_is_null(v)) {
		double d = json_number_value(v);

		if (!json_is_number(v) || !isfinite(d) || d < 0 || d > 1e9)
			err(c, "value",
			    "'value' must be a number from 0 to "
			    "1000000000");
		s->u.set.has_value = true;
		s->u.set.value = d;
	}
	if (lead) {
		s->u.set.has_lead = true;
		if (strcmp(lead, "qualified") == 0)
			s->u.set.qualified = true;
		else if (strcmp(lead, "unqualified") != 0)
			err(c, "lead",
			    "'lead' is \"qualified\" or "
			    "\"unqualified\"");
	}
	if (f && !json_is_null(f)) {
		const char *k;
		json_t *e;

		if (!json_is_object(f) || json_object_size(f) > 20) {
			err(c, "fields",
			    "'fields' must be an object of up to 20 "
			    "text values");
		} else {
			s->u.set.keys =
				alloc(c, json_object_size(f), sizeof(char *));
			s->u.set.vals =
				alloc(c, json_object_size(f), sizeof(char *));
			json_object_foreach (f, k, e) {
				char fp[96];

				snprintf(fp, sizeof(fp), "fields.%s", k);
				if (!is_ident(k, 41)) {
					err(c, fp,
					    "a field name is 1 to 40 letters, "
					    "digits, _ or -");
					continue;
				}
				if (!json_is_string(e) ||
				    strlen(json_string_value(e)) > 256 ||
				    !text_ok(json_string_value(e))) {
					err(c, fp,
					    "a field's value is text of up "
					    "to 256 bytes");
					continue;
				}
				if (!s->u.set.keys || !s->u.set.vals)
					break;
				s->u.set.keys[s->u.set.nfields] = sdup(c, k);
				s->u.set.vals[s->u.set.nfields++] =
					sdup(c, json_string_value(e));
			}
		}
	}
	if (!s->u.set.has_value && !s->u.set.has_lead && !s->u.set.nfields &&
	    !(f && json_object_size(f)))
		err(c, "", "a set step needs 'value', 'lead' or 'fields'");
}

/* Fields each type reads, beside the common id, type, exits, label, x, y. */
static const char *const *type_keys(enum rt_flow_type t)
{
	static const char *const play[] = {"prompt", NULL};
	static const char *const disc[] = {"prompt", "when", "regions", NULL};
	static const char *const sched[] = {"timezone", "hours", "dates", NULL};
	static const char *const rules[] = {"rules", NULL};
	static const char *const menu[] = {"prompt", "invalid_prompt",
					   "timeout_s", "retries", NULL};
	static const char *const dial[] = {"targets", "strategy", "timeout_s",
					   "caller_id", NULL};
	static const char *const whisper[] = {"text", "accept", NULL};
	static const char *const vm[] = {"greeting", "beep", "max_s", NULL};
	static const char *const tag[] = {"tags", NULL};
	static const char *const set[] = {"value", "lead", "fields", NULL};
	static const char *const none[] = {NULL};

	switch (t) {
	case RT_FLOW_PLAY:
		return play;
	case RT_FLOW_DISCLOSURE:
		return disc;
	case RT_FLOW_SCHEDULE:
		return sched;
	case RT_FLOW_GEO:
	case RT_FLOW_SOURCE:
		return rules;
	case RT_FLOW_MENU:
		return menu;
	case RT_FLOW_DIAL:
		return dial;
	case RT_FLOW_WHISPER:
		return whisper;
	case RT_FLOW_VOICEMAIL:
		return vm;
	case RT_FLOW_TAG:
		return tag;
	case RT_FLOW_SET:
		return set;
	default:
		return none;
	}
}

static void read_step(struct ctx *c, const json_t *o, struct rt_flow_step *s)
{
	static const int geo[] = {RT_FACT_COUNTRY, RT_FACT_REGION,
				  RT_FACT_AREA_CODE};
	static const int src[] = {RT_FACT_CHANNEL,	RT_FACT_SOURCE,
				  RT_FACT_MEDIUM,	RT_FACT_CAMPAIGN,
				  RT_FACT_KEYWORD,	RT_FACT_CONFIDENCE,
				  RT_FACT_LANDING_PAGE, RT_FACT_NUMBER_NAME};
	const char *const *tk = type_keys(s->type);
	const char *keys[16];
	size_t n = 0;
	json_t *v;

	keys[n++] = "id";
	keys[n++] = "type";
	keys[n++] = "exits";
	keys[n++] = "label";
	keys[n++] = "x";
	keys[n++] = "y";
	for (; *tk; tk++)
		keys[n++] = *tk;
	keys[n] = NULL;
	check_keys(c, o, keys, "");
	str_field(c, o, "label", 100, false, "label");
	v = json_object_get(o, "x");
	if (v && !json_is_number(v))
		err(c, "x", "'x' must be a number (the editor's position)");
	v = json_object_get(o, "y");
	if (v && !json_is_number(v))
		err(c, "y", "'y' must be a number (the editor's position)");

	switch (s->type) {
	case RT_FLOW_PLAY:
		read_play(c, o, s);
		break;
	case RT_FLOW_DISCLOSURE:
		read_disclosure(c, o, s);
		break;
	case RT_FLOW_SCHEDULE:
		read_schedule(c, o, s);
		break;
	case RT_FLOW_GEO:
		read_rules(c, o, s, geo, RT_ARRAY_SIZE(geo));
		break;
	case RT_FLOW_SOURCE:
		read_rules(c, o, s, src, RT_ARRAY_SIZE(src));
		break;
	case RT_FLOW_MENU:
		read_menu(c, o, s);
		break;
	case RT_FLOW_DIAL:
		read_dial(c, o, s);
		break;
	case RT_FLOW_WHISPER:
		read_whisper(c, o, s);
		break;
	case RT_FLOW_VOICEMAIL:
		read_voicemail(c, o, s);
		break;
	case RT_FLOW_TAG:
		read_tag(c, o, s);
		break;
	case RT_FLOW_SET:
		read_set(c, o, s);
		break;
	default:
		break;
	}
}

/* The exits of step s (o its JSON), resolved to step indexes. */
static void read_exits(struct ctx *c, const json_t *o, struct rt_flow *f,
		       struct rt_flow_step *s)
{
	json_t *ex = json_object_get(o, "exits");
	const char *k;
	json_t *v;

	if (!ex || json_is_null(ex))
		return;
	if (!json_is_object(ex)) {
		err(c, "exits",
		    "'exits' must be an object of exit names and the ids of "
		    "the steps they go to");
		return;
	}
	s->exits = alloc(c, json_object_size(ex), sizeof(*s->exits));
	if (!s->exits)
		return;
	json_object_foreach (ex, k, v) {
		const char *const *names = exit_names(s->type);
		bool known = false;
		char field[64];
		int to = -1;

		snprintf(field, sizeof(field), "exits.%s", k);
		for (; *names && !known; names++)
			known = strcmp(*names, k) == 0;
		if ((s->type == RT_FLOW_GEO || s->type == RT_FLOW_SOURCE) &&
		    !known)
			for (size_t i = 0; i < s->u.branch.n && !known; i++)
				known = rt_streq(s->u.branch.rules[i].exit, k);
		if (!known) {
			if (s->type == RT_FLOW_HANGUP)
				err(c, field, "a hangup step has no exits");
			else
				err(c, field, "a %s step has no exit '%s'",
				    rt_flow_type_name(s->type), k);
			continue;
		}
		if (!json_is_null(v)) {
			if (!json_is_string(v)) {
				err(c, field,
				    "an exit is the id of a step, or null");
				continue;
			}
			to = rt_flow_find(f, json_string_value(v));
			if (to < 0) {
				err(c, field,
				    "exit '%s' goes to '%s': no such "
				    "step",
				    k, json_string_value(v));
				continue;
			}
		}
		s->exits[s->nexits].name = sdup(c, k);
		s->exits[s->nexits++].to = to;
	}
	if (s->type == RT_FLOW_MENU) {
		bool digit = false;

		for (size_t i = 0; i < s->nexits; i++)
			digit = digit || strlen(s->exits[i].name) == 1;
		if (!digit)
			err(c, "exits",
			    "a menu needs at least one digit's exit (\"1\": "
			    "\"sales\")");
	}
}

/* ---- the graph ----------------------------------------------------------- */

/* A loop of steps none of which waits for the caller (a menu) would turn
 * forever: depth-first over the non-menu steps, a step met again while
 * on the path closes such a loop. */
static bool loop_from(struct ctx *c, const struct rt_flow *f, int i,
		      uint8_t *mark, int *stack, int depth)
{
	const struct rt_flow_step *s = &f->steps[i];

	mark[i] = 1;
	stack[depth] = i;
	for (size_t e = 0; e < s->nexits; e++) {
		int to = s->exits[e].to;

		if (to < 0 || f->steps[to].type == RT_FLOW_MENU)
			continue;
		if (mark[to] == 1) {
			struct rt_buf b;
			char field[64];
			int k = depth;

			while (k > 0 && stack[k] != to)
				k--;
			rt_buf_init(&b);
			for (int j = k; j <= depth; j++) {
				rt_buf_puts(&b, f->steps[stack[j]].id);
				rt_buf_puts(&b, " -> ");
			}
			rt_buf_puts(&b, f->steps[to].id);
			snprintf(field, sizeof(field), "exits.%s",
				 s->exits[e].name);
			err_at(c, s->id, field,
			       "the loop %s has no menu step: a call would "
			       "go round it forever",
			       b.s ? b.s : "");
			rt_buf_release(&b);
			return true;
		}
		if (mark[to] == 0 &&
		    loop_from(c, f, to, mark, stack, depth + 1))
			return true;
	}
	mark[i] = 2;
	return false;
}

static void check_graph(struct ctx *c, const struct rt_flow *f)
{
	uint8_t *mark = alloc(c, f->n, 1);
	int *stack = alloc(c, f->n + 1, sizeof(int));
	int *queue = alloc(c, f->n, sizeof(int));
	size_t qh = 0, qt = 0;

	if (!mark || !stack || !queue)
		goto out;
	for (size_t i = 0; i < f->n; i++)
		if (!mark[i] && f->steps[i].type != RT_FLOW_MENU &&
		    loop_from(c, f, (int)i, mark, stack, 0))
			break;
	/* and from each menu: its own exits start non-menu paths */
	for (size_t i = 0; i < f->n; i++)
		if (f->steps[i].type == RT_FLOW_MENU && !mark[i] &&
		    loop_from(c, f, (int)i, mark, stack, 0))
			break;
	memset(mark, 0, f->n);
	if (f->start >= 0) {
		queue[qt++] = f->start;
		mark[f->start] = 1;
	}
	while (qh < qt) {
		const struct rt_flow_step *s = &f->steps[queue[qh++]];

		for (size_t e = 0; e < s->nexits; e++)
			if (s->exits[e].to >= 0 && !mark[s->exits[e].to]) {
				mark[s->exits[e].to] = 1;
				queue[qt++] = s->exits[e].to;
			}
	}
	for (size_t i = 0; i < f->n && f->start >= 0; i++)
		if (!mark[i])
			warn_at(c, f->steps[i].id,
				"no call reaches this step: no exit leads "
				"to it");
out:
	free(mark);
	free(stack);
	free(queue);
}

/* ---- the document -------------------------------------------------------- */

static void free_prompt(struct rt_flow_prompt *p)
{
	free(p->text);
}

static void free_step(struct rt_flow_step *s)
{
	free(s->id);
	for (size_t i = 0; i < s->nexits; i++)
		free(s->exits[i].name);
	free(s->exits);
	switch (s->type) {
	case RT_FLOW_PLAY:
		free_prompt(&s->u.play.prompt);
		break;
	case RT_FLOW_DISCLOSURE:
		free_prompt(&s->u.disclosure.prompt);
		free_strs(s->u.disclosure.regions, s->u.disclosure.nregions);
		break;
	case RT_FLOW_SCHEDULE:
		free(s->u.schedule.tz);
		for (int d = 0; d < 7; d++)
			free(s->u.schedule.week[d].spans);
		for (size_t i = 0; i < s->u.schedule.ndates; i++) {
			free(s->u.schedule.dates[i].name);
			free(s->u.schedule.dates[i].hours.spans);
		}
		free(s->u.schedule.dates);
		break;
	case RT_FLOW_GEO:
	case RT_FLOW_SOURCE:
		for (size_t i = 0; i < s->u.branch.n; i++) {
			struct rt_flow_rule *r = &s->u.branch.rules[i];

			free(r->exit);
			for (size_t k = 0; k < r->n; k++)
				free_strs(r->conds[k].values, r->conds[k].n);
			free(r->conds);
		}
		free(s->u.branch.rules);
		break;
	case RT_FLOW_MENU:
		free_prompt(&s->u.menu.prompt);
		free_prompt(&s->u.menu.invalid);
		break;
	case RT_FLOW_DIAL:
		for (size_t i = 0; i < s->u.dial.n; i++)
			free(s->u.dial.targets[i].value);
		free(s->u.dial.targets);
		break;
	case RT_FLOW_WHISPER:
		free(s->u.whisper.text);
		break;
	case RT_FLOW_VOICEMAIL:
		free_prompt(&s->u.voicemail.greeting);
		break;
	case RT_FLOW_TAG:
		free_strs(s->u.tag.tags, s->u.tag.n);
		break;
	case RT_FLOW_SET:
		free_strs(s->u.set.keys, s->u.set.nfields);
		free_strs(s->u.set.vals, s->u.set.nfields);
		break;
	default:
		break;
	}
}

static void flow_free(struct rt_flow *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free_step(&f->steps[i]);
	free(f->steps);
	free(f->name);
	free(f);
}

struct rt_flow *rt_flow_ref(struct rt_flow *f)
{
	if (f)
		atomic_fetch_add_explicit((_Atomic int *)&f->refs, 1,
					  memory_order_relaxed);
	return f;
}

void rt_flow_unref(struct rt_flow *f)
{
	if (f && atomic_fetch_sub_explicit((_Atomic int *)&f->refs, 1,
					   memory_order_acq_rel) == 1) {
		if (f->release_h)
			f->release_h(f, f->release_arg);
		flow_free(f);
	}
}

size_t rt_flow_step_prompts(struct rt_flow_step *st,
			    struct rt_flow_prompt *pr[2], const char *field[2])
{
	size_t n = 0;

	switch (st->type) {
	case RT_FLOW_PLAY:
		pr[n] = &st->u.play.prompt;
		field[n++] = "prompt";
		break;
	case RT_FLOW_DISCLOSURE:
		pr[n] = &st->u.disclosure.prompt;
		field[n++] = "prompt";
		break;
	case RT_FLOW_MENU:
		pr[n] = &st->u.menu.prompt;
		field[n++] = "prompt";
		pr[n] = &st->u.menu.invalid;
		field[n++] = "invalid_prompt";
		break;
	case RT_FLOW_VOICEMAIL:
		pr[n] = &st->u.voicemail.greeting;
		field[n++] = "greeting";
		break;
	default:
		break;
	}
	/* an optional prompt left out without a default plays nothing */
	if (n == 2 && !pr[1]->text && !pr[1]->audio_id)
		n--;
	if (n && !pr[0]->text && !pr[0]->audio_id) {
		pr[0] = pr[1];
		field[0] = field[1];
		n--;
	}
	return n;
}

int rt_flow_find(const struct rt_flow *f, const char *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->steps[i].id && strcmp(f->steps[i].id, id) == 0)
			return (int)i;
	return -1;
}

int rt_flow_compile(const void *doc, struct rt_flow **fp,
		    struct rt_flow_problems *pr)
{
	static const char *const top_keys[] = {"format", "start", "steps",
					       NULL};
	const json_t *d = doc;
	struct ctx c = {.pr = pr, .step_i = -1};
	struct rt_flow *f;
	json_t *steps, *o, *fmt;
	const char *start;
	size_t i;

	memset(pr, 0, sizeof(*pr));
	*fp = NULL;
	if (!json_is_object(d)) {
		err(&c, "",
		    "a flow is a JSON object with 'format', 'start' "
		    "and 'steps'");
		return EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->refs = 1;
	f->start = -1;
	check_keys(&c, d, top_keys, "");
	fmt = json_object_get(d, "format");
	if (!json_is_integer(fmt) || json_integer_value(fmt) != RT_FLOW_FORMAT)
		err(&c, "format", "'format' must be %d", RT_FLOW_FORMAT);
	steps = json_object_get(d, "steps");
	if (!json_is_array(steps) || json_array_size(steps) == 0 ||
	    json_array_size(steps) > RT_FLOW_STEPS_MAX) {
		err(&c, "steps", "'steps' must be a list of 1 to %d steps",
		    RT_FLOW_STEPS_MAX);
		goto done;
	}
	f->steps = calloc(json_array_size(steps), sizeof(*f->steps));
	if (!f->steps) {
		c.oom = true;
		goto done;
	}
	/* ids and types first, so that exits can name any step */
	json_array_foreach (steps, i, o) {
		struct rt_flow_step *s = &f->steps[i];
		const char *id, *type;
		char field[32];

		f->n = i + 1;
		s->type = RT_FLOW_NTYPES;
		snprintf(field, sizeof(field), "steps[%zu]", i);
		if (!json_is_object(o)) {
			err(&c, field, "a step is an object");
			continue;
		}
		id = json_string_value(json_object_get(o, "id"));
		if (!id || !is_ident(id, RT_FLOW_ID_MAX)) {
			err(&c, field,
			    "a step's 'id' is 1 to %d letters, digits, _ or -",
			    RT_FLOW_ID_MAX - 1);
			continue;
		}
		if (rt_flow_find(f, id) >= 0) {
			err_at(&c, id, "id", "two steps have the id '%s'", id);
			continue;
		}
		s->id = sdup(&c, id);
		type = json_string_value(json_object_get(o, "type"));
		for (int t = 0; type && t < RT_FLOW_NTYPES; t++)
			if (strcmp(type, type_names[t]) == 0)
				s->type = (enum rt_flow_type)t;
		if (s->type == RT_FLOW_NTYPES)
			err_at(&c, id, "type",
			       "unknown step type '%s': play, disclosure, "
			       "schedule, geo, source, menu, dial, whisper, "
			       "voicemail, tag, set or hangup",
			       type ? type : "(none)");
	}
	json_array_foreach (steps, i, o) {
		struct rt_flow_step *s = &f->steps[i];

		if (!s->id || s->type == RT_FLOW_NTYPES)
			continue;
		c.step = s->id;
		read_step(&c, o, s);
		read_exits(&c, o, f, s);
	}
	c.step = NULL;
	start = json_string_value(json_object_get(d, "start"));
	if (!start)
		err(&c, "start",
		    "'start' is required: the id of the first "
		    "step");
	else if ((f->start = rt_flow_find(f, start)) < 0)
		err(&c, "start", "'start' names '%s': no such step", start);
	if (!pr->n)
		check_graph(&c, f);
done:
	if (c.oom || pr->n) {
		/* steps of unknown type have nothing of their union */
		for (size_t k = 0; k < f->n; k++)
			if (f->steps[k].type == RT_FLOW_NTYPES)
				f->steps[k].type = RT_FLOW_HANGUP;
		flow_free(f);
		return c.oom ? ENOMEM : EINVAL;
	}
	*fp = f;
	return 0;
}
