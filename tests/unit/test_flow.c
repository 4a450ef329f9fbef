/*
 * Call flows (src/flow): every invalid shape of a data-driven table gets
 * its error on the right step and field; each step's branches; schedules
 * across DST changes and holidays; round robin fairness over many calls;
 * callers hanging up in every step.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/flow.h"
#include "util/util.h"

/* Single quotes stand for double ones, so that documents stay readable. */
static json_t *doc(const char *text)
{
	char *t = rt_strdup(text);
	json_error_t je;
	json_t *d;

	assert_non_null(t);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	d = json_loads(t, 0, &je);
	if (!d)
		fail_msg("bad test JSON at %d: %s\n%s", je.position, je.text,
			 t);
	free(t);
	return d;
}

static struct rt_flow *compile_ok(const char *text)
{
	struct rt_flow_problems pr;
	struct rt_flow *f = NULL;
	json_t *d = doc(text);
	int err = rt_flow_compile(d, &f, &pr);

	if (err)
		fail_msg("compile failed: %s %s: %s", pr.p[0].step,
			 pr.p[0].field, pr.p[0].message);
	json_decref(d);
	return f;
}

/* ---- invalid shapes ------------------------------------------------------ */

#define HEAD "{'format':1,'start':'a','steps':["

static const struct bad {
	const char *doc;
	const char *step, *field, *says;
} bad[] = {
	{"[]", "", "", "JSON object"},
	{"{'format':2,'start':'a','steps':[{'id':'a','type':'hangup'}]}", "",
	 "format", "'format' must be 1"},
	{"{'format':1,'start':'a','steps':[]}", "", "steps", "1 to 200"},
	{"{'format':1,'start':'a','steps':[{'id':'a','type':'hangup'}],"
	 "'extra':1}",
	 "", "extra", "unknown field"},
	{"{'format':1,'steps':[{'id':'a','type':'hangup'}]}", "", "start",
	 "required"},
	{"{'format':1,'start':'zz','steps':[{'id':'a','type':'hangup'}]}", "",
	 "start", "no such step"},
	{HEAD "{'id':'a b','type':'hangup'}]}", "", "steps[0]", "'id'"},
	{HEAD "{'id':'a','type':'hangup'},{'id':'a','type':'hangup'}]}", "a",
	 "id", "two steps"},
	{HEAD "{'id':'a','type':'jump'}]}", "a", "type", "unknown step type"},
	{HEAD "{'id':'a','type':'play'}]}", "a", "prompt", "required"},
	{HEAD "{'id':'a','type':'play','prompt':'hi'}]}", "a", "prompt",
	 "must be an object"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':''}}]}", "a",
	 "prompt.text", "empty"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x','audio_id':3}}]}",
	 "a", "prompt.audio_id", "not both"},
	{HEAD "{'id':'a','type':'play','prompt':{'audio_id':-3}}]}", "a",
	 "prompt.audio_id", "uploaded audio"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},'color':1}]}", "a",
	 "color", "unknown field"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},"
	      "'exits':{'next':'b'}}]}",
	 "a", "exits.next", "no such step"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},"
	      "'exits':{'open':null}}]}",
	 "a", "exits.open", "no exit 'open'"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},"
	      "'exits':['b']}]}",
	 "a", "exits", "object"},
	{HEAD "{'id':'a','type':'hangup','exits':{'next':'a'}}]}", "a",
	 "exits.next", "no exits"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},"
	      "'exits':{'next':'b'}},{'id':'b','type':'tag','tags':['t'],"
	      "'exits':{'next':'a'}}]}",
	 "b", "exits.next", "a -> b -> a has no menu"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},"
	      "'exits':{'next':'a'}}]}",
	 "a", "exits.next", "a -> a"},
	{HEAD "{'id':'a','type':'disclosure','when':'sometimes'}]}", "a",
	 "when", "two_party"},
	{HEAD "{'id':'a','type':'disclosure','regions':['US-CA']}]}", "a",
	 "regions", "goes with"},
	{HEAD "{'id':'a','type':'disclosure','when':'two_party',"
	      "'regions':['California']}]}",
	 "a", "regions[0]", "region code"},
	{HEAD "{'id':'a','type':'schedule'}]}", "a", "hours", "required"},
	{HEAD "{'id':'a','type':'schedule','hours':{'monday':[]}}]}", "a",
	 "hours.monday", "not a day"},
	{HEAD "{'id':'a','type':'schedule','hours':{'mon':[['9:00','17:00']]}}"
	      "]}",
	 "a", "hours.mon[0]", "HH:MM"},
	{HEAD "{'id':'a','type':'schedule','hours':{'mon':[['09:00','25:00']]}"
	      "}]}",
	 "a", "hours.mon[0]", "HH:MM"},
	{HEAD "{'id':'a','type':'schedule','hours':{'mon':[['17:00','09:00']]}"
	      "}]}",
	 "a", "hours.mon[0]", "end after it starts"},
	{HEAD "{'id':'a','type':'schedule','hours':{'tue':[['09:00','12:00'],"
	      "['11:00','13:00']]}}]}",
	 "a", "hours.tue[1]", "overlaps"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'timezone':'Mars/Base'}"
	      "]}",
	 "a", "timezone", "IANA"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'2026-02-30','holiday':true}]}]}",
	 "a", "dates[0].date", "not a date"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'12-25'}]}]}",
	 "a", "dates[0]", "needs"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'12-25','holiday':true,'hours':[]}]}]}",
	 "a", "dates[0]", "not both"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'12-25','holiday':true},{'date':'12-25','hours':[]}]}]}",
	 "a", "dates[1].date", "twice"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'12-3-','holiday':true}]}]}",
	 "a", "dates[0].date", "not a date"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'2026-1225','holiday':true}]}]}",
	 "a", "dates[0].date", "not a date"},
	{HEAD "{'id':'a','type':'schedule','hours':{},'dates':[{'date':"
	      "'12-25','holiday':'yes'}]}]}",
	 "a", "dates[0].holiday", "true or false"},
	{HEAD "{'id':'a','type':'geo'}]}", "a", "rules", "required"},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'west'}]}]}", "a",
	 "rules[0]", "at least one condition"},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'other','country':"
	      "['US']}]}]}",
	 "a", "rules[0].exit", "not \"other\""},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'w','country':"
	      "['USA']}]}]}",
	 "a", "rules[0].country[0]", "country code"},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'w','campaign':"
	      "['x']}]}]}",
	 "a", "rules[0].campaign", "unknown condition"},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'w','area_code':"
	      "['41a']}]}]}",
	 "a", "rules[0].area_code[0]", "area code"},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'w','country':['US']},"
	      "{'exit':'w','country':['CA']}]}]}",
	 "a", "rules[1].exit", "two rules"},
	{HEAD "{'id':'a','type':'geo','rules':[{'exit':'w','country':['US']}],"
	      "'exits':{'east':null}}]}",
	 "a", "exits.east", "no exit 'east'"},
	{HEAD "{'id':'a','type':'source','rules':[{'exit':'w','confidence':"
	      "['sure']}]}]}",
	 "a", "rules[0].confidence[0]", "exact, grace"},
	{HEAD "{'id':'a','type':'source','rules':[{'exit':'w','channel':[]}]}"
	      "]}",
	 "a", "rules[0].channel", "list of 1 to"},
	{HEAD "{'id':'a','type':'menu','prompt':{'text':'x'},'exits':"
	      "{'timeout':null}}]}",
	 "a", "exits", "at least one digit"},
	{HEAD "{'id':'a','type':'menu','prompt':{'text':'x'},'timeout_s':0,"
	      "'exits':{'1':null}}]}",
	 "a", "timeout_s", "from 1 to 60"},
	{HEAD "{'id':'a','type':'menu','prompt':{'text':'x'},'retries':9,"
	      "'exits':{'1':null}}]}",
	 "a", "retries", "from 0 to 5"},
	{HEAD "{'id':'a','type':'menu','prompt':{'text':'x'},'exits':"
	      "{'12':null}}]}",
	 "a", "exits.12", "no exit '12'"},
	{HEAD "{'id':'a','type':'dial'}]}", "a", "targets", "required"},
	{HEAD "{'id':'a','type':'dial','targets':[{'uri':'http://x'}]}]}", "a",
	 "targets[0].uri", "SIP URI"},
	{HEAD "{'id':'a','type':'dial','targets':[{'number':'555-0100'}]}]}",
	 "a", "targets[0].number", "E.164"},
	{HEAD "{'id':'a','type':'dial','targets':[{'uri':'sip:a@b',"
	      "'number':'+14155550100'}]}]}",
	 "a", "targets[0]", "one of"},
	{HEAD "{'id':'a','type':'dial','targets':[{'user_id':0}]}]}", "a",
	 "targets[0].user_id", "user's id"},
	{HEAD "{'id':'a','type':'dial','targets':[{'uri':'sip:a@b','ring_s':"
	      "2}]}]}",
	 "a", "targets[0].ring_s", "5 to 300"},
	{HEAD "{'id':'a','type':'dial','targets':[{'uri':'sip:a@b'}],"
	      "'strategy':'random'}]}",
	 "a", "strategy", "round_robin"},
	{HEAD "{'id':'a','type':'dial','targets':[{'uri':'sip:a@b'}],"
	      "'caller_id':'mine'}]}",
	 "a", "caller_id", "tracking_number"},
	{HEAD "{'id':'a','type':'whisper','text':'From {sorce}'}]}", "a",
	 "text", "'{sorce}' is not a field"},
	{HEAD "{'id':'a','type':'whisper','text':'From {source'}]}", "a",
	 "text", "without"},
	{HEAD "{'id':'a','type':'voicemail','max_s':1000}]}", "a", "max_s",
	 "5 to 600"},
	{HEAD "{'id':'a','type':'tag','tags':[]}]}", "a", "tags",
	 "list of 1 to 20"},
	{HEAD "{'id':'a','type':'set'}]}", "a", "", "needs"},
	{HEAD "{'id':'a','type':'set','value':-1}]}", "a", "value", "from 0"},
	{HEAD "{'id':'a','type':'set','lead':'hot'}]}", "a", "lead",
	 "qualified"},
	{HEAD "{'id':'a','type':'set','fields':{'a b':'x'}}]}", "a",
	 "fields.a b", "field name"},
	{HEAD "{'id':'a','type':'play','prompt':{'text':'x'},'x':'left'}]}",
	 "a", "x", "number"},
};

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		struct rt_flow_problems pr;
		struct rt_flow *f = NULL;
		json_t *d = doc(bad[i].doc);
		bool found = false;

		assert_int_equal(rt_flow_compile(d, &f, &pr), EINVAL);
		assert_null(f);
		assert_true(pr.n > 0);
		for (size_t k = 0; k < pr.n && !found; k++)
			found = strcmp(pr.p[k].step, bad[i].step) == 0 &&
				strcmp(pr.p[k].field, bad[i].field) == 0 &&
				strstr(pr.p[k].message, bad[i].says);
		if (!found)
			fail_msg("case %zu (%s): wanted %s/%s \"%s\", got "
				 "%s/%s \"%s\"",
				 i, bad[i].doc, bad[i].step, bad[i].field,
				 bad[i].says, pr.p[0].step, pr.p[0].field,
				 pr.p[0].message);
		json_decref(d);
	}
}

/* Several problems at once, each on its step; unreachable steps warn. */
static void test_problems(void **state)
{
	struct rt_flow_problems pr;
	struct rt_flow *f = NULL;
	json_t *d = doc(HEAD "{'id':'a','type':'menu','prompt':{'text':'x'},"
			     "'timeout_s':99,'exits':{'1':'b'}},"
			     "{'id':'b','type':'dial','targets':[]}]}");

	assert_int_equal(rt_flow_compile(d, &f, &pr), EINVAL);
	assert_int_equal(pr.n, 2);
	assert_string_equal(pr.p[0].step, "a");
	assert_string_equal(pr.p[1].step, "b");
	json_decref(d);

	d = doc(HEAD "{'id':'a','type':'hangup'},{'id':'lost','type':'tag',"
		     "'tags':['x']}]}");
	assert_int_equal(rt_flow_compile(d, &f, &pr), 0);
	assert_int_equal(pr.nwarnings, 1);
	assert_string_equal(pr.w[0].step, "lost");
	rt_flow_unref(f);
	json_decref(d);
}

/* ---- walking ------------------------------------------------------------- */

struct walk {
	struct rt_flow *f;
	struct rt_flow_facts facts;
	struct rt_flow_run run;
	const struct rt_flow_action *act;
};

static void walk_start(struct walk *w, const char *text, int64_t at)
{
	if (!w->f)
		w->f = compile_ok(text);
	if (!w->facts.tz)
		w->facts.tz = "America/New_York";
	assert_int_equal(rt_flow_run_start(&w->run, w->f, &w->facts, NULL, NULL,
					   at, &w->act),
			 0);
}

static void walk_end(struct walk *w)
{
	rt_flow_run_release(&w->run);
	rt_flow_unref(w->f);
	memset(w, 0, sizeof(*w));
}

/* The path as "a:next b:1 c" (step ids and exits). */
static const char *path(const struct walk *w)
{
	static char out[512];
	struct rt_buf b;

	rt_buf_init(&b);
	for (size_t i = 0; i < w->run.npath; i++) {
		const struct rt_flow_hop *h = &w->run.path[i];

		rt_buf_printf(&b, "%s%s%s%s", i ? " " : "",
			      w->f->steps[h->step].id, h->exit[0] ? ":" : "",
			      h->exit);
	}
	rt_strlcpy(out, b.s ? b.s : "", sizeof(out));
	rt_buf_release(&b);
	return out;
}

static void input(struct walk *w, enum rt_flow_in in, char digit,
		  enum rt_flow_dial_result res)
{
	assert_int_equal(rt_flow_run_input(&w->run, in, digit, res, 0, &w->act),
			 0);
}

#define PLAY(id, next)                                                         \
	"{'id':'" id "','type':'play','prompt':{'text':'" id                   \
	"'},'exits':{'next':'" next "'}}"
#define END(id) "{'id':'" id "','type':'hangup'}"

/* ms of a UTC date and time. */
static int64_t utc(const char *iso)
{
	int64_t ms;

	assert_int_equal(rt_time_parse(iso, &ms), 0);
	return ms;
}

static const char *const sched_flow =
	"{'format':1,'start':'s','steps':[{'id':'s','type':'schedule',"
	"'hours':{'mon':[['09:00','17:00']],'tue':[['09:00','17:00']],"
	"'sat':[['10:00','12:00'],['13:00','14:00']]},"
	"'dates':[{'date':'12-25','holiday':true,'name':'Christmas'},"
	"{'date':'2026-12-24','hours':[['09:00','12:00']]},"
	"{'date':'2026-07-04','holiday':true}],"
	"'exits':{'open':'o','closed':'c','holiday':'h'}}," END("o") "," END(
		"c") "," END("h") "]}";

static const char *sched_at(const char *iso)
{
	struct walk w = {0};
	static char out[64];

	walk_start(&w, sched_flow, utc(iso));
	rt_strlcpy(out, path(&w), sizeof(out));
	walk_end(&w);
	return out;
}

static void test_schedule(void **state)
{
	(void)state;
	/* New York: EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4). */
	assert_string_equal(sched_at("2026-03-02T14:30:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-03-02T13:30:00Z"), "s:closed c");
	/* the Monday after the change: 13:30Z is 09:30 EDT, open */
	assert_string_equal(sched_at("2026-03-09T13:30:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-03-09T12:30:00Z"), "s:closed c");
	assert_string_equal(sched_at("2026-03-09T20:59:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-03-09T21:00:00Z"), "s:closed c");
	/* back to EST on 2026-11-01: Monday 2026-11-02 09:30 is 14:30Z */
	assert_string_equal(sched_at("2026-11-02T13:30:00Z"), "s:closed c");
	assert_string_equal(sched_at("2026-11-02T14:30:00Z"), "s:open o");
	/* a split Saturday; Sunday not listed: closed */
	assert_string_equal(sched_at("2026-03-07T15:30:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-03-07T17:30:00Z"), "s:closed c");
	assert_string_equal(sched_at("2026-03-07T18:30:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-03-08T15:30:00Z"), "s:closed c");
	/* holidays: yearly Christmas (a Friday in 2026, a Monday in 2028),
	 * a dated one; special hours on Christmas Eve (a Thursday) */
	assert_string_equal(sched_at("2026-12-25T15:00:00Z"), "s:holiday h");
	assert_string_equal(sched_at("2028-12-25T15:00:00Z"), "s:holiday h");
	assert_string_equal(sched_at("2026-07-04T15:00:00Z"), "s:holiday h");
	assert_string_equal(sched_at("2027-07-05T15:00:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-12-24T15:00:00Z"), "s:open o");
	assert_string_equal(sched_at("2026-12-24T18:00:00Z"), "s:closed c");
	/* late Monday evening in New York is Tuesday in UTC */
	assert_string_equal(sched_at("2026-03-03T01:00:00Z"), "s:closed c");

	/* the step's own zone wins over the account's; a holiday without
	 * its own exit is closed */
	{
		struct walk w = {0};

		walk_start(&w,
			   "{'format':1,'start':'s','steps':[{'id':'s','type':"
			   "'schedule','timezone':'Europe/London','hours':{"
			   "'sun':[['00:00','24:00']]},'dates':[{'date':"
			   "'2026-03-29','holiday':true}],'exits':{'open':'o',"
			   "'closed':'c'}}," END("o") "," END("c") "]}",
			   utc("2026-03-22T23:30:00Z"));
		assert_string_equal(path(&w), "s:open o");
		rt_flow_run_release(&w.run);
		walk_start(&w, NULL, utc("2026-03-29T12:00:00Z"));
		assert_string_equal(path(&w), "s:closed c");
		assert_string_equal(w.run.path[0].detail, "holiday");
		walk_end(&w);
	}
}

static void test_geo_source(void **state)
{
	static const char *const flow =
		"{'format':1,'start':'g','steps':[{'id':'g','type':'geo',"
		"'rules':[{'exit':'west','country':['US'],'region':['US-CA',"
		"'US-OR']},{'exit':'nyc','area_code':['212','646']},{'exit':"
		"'uk','country':['GB']}],'exits':{'west':'src','nyc':'n',"
		"'uk':'u','other':'o'}},{'id':'src','type':'source','rules':["
		"{'exit':'ads','channel':['paid_search'],'campaign':['spring*']"
		"},"
		"{'exit':'sure','confidence':['exact','fixed']}],'exits':{'ads'"
		":"
		"'a','sure':'e'}}," END("n") "," END("u") "," END("o") "," END(
			"a") "," END("e") "]}";
	struct walk w = {0};

	(void)state;
	w.facts.v[RT_FACT_COUNTRY] = "US";
	w.facts.v[RT_FACT_REGION] = "US-CA";
	w.facts.v[RT_FACT_CHANNEL] = "paid_search";
	w.facts.v[RT_FACT_CAMPAIGN] = "Spring Sale";
	walk_start(&w, flow, 0);
	assert_string_equal(path(&w), "g:west src:ads a");
	rt_flow_run_release(&w.run);

	w.facts.v[RT_FACT_CAMPAIGN] = "autumn";
	w.facts.v[RT_FACT_CONFIDENCE] = "exact";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "g:west src:sure e");
	rt_flow_run_release(&w.run);

	/* no source rule holds, and 'other' is not connected: the end */
	w.facts.v[RT_FACT_CONFIDENCE] = "none";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "g:west src:other");
	assert_true(w.run.ended);
	assert_string_equal(w.run.end_reason, "no exit");
	rt_flow_run_release(&w.run);

	memset(w.facts.v, 0, sizeof(w.facts.v));
	w.facts.v[RT_FACT_COUNTRY] = "US";
	w.facts.v[RT_FACT_REGION] = "US-NY";
	w.facts.v[RT_FACT_AREA_CODE] = "646";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "g:nyc n");
	rt_flow_run_release(&w.run);

	w.facts.v[RT_FACT_AREA_CODE] = "518";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "g:other o");
	rt_flow_run_release(&w.run);

	/* a withheld caller: no facts, other */
	memset(w.facts.v, 0, sizeof(w.facts.v));
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "g:other o");
	rt_flow_run_release(&w.run);

	w.facts.v[RT_FACT_COUNTRY] = "gb";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "g:uk u");
	walk_end(&w);
}

static void test_disclosure(void **state)
{
	static const char *const flow =
		"{'format':1,'start':'d','steps':[{'id':'d','type':"
		"'disclosure','when':'two_party','exits':{'next':'x'}}," END(
			"x") "]}";
	struct walk w = {0};

	(void)state;
	w.facts.disclosure_on = true;
	w.facts.v[RT_FACT_REGION] = "US-CA";
	walk_start(&w, flow, 0);
	assert_int_equal(w.act->kind, RT_ACT_PLAY);
	assert_non_null(strstr(w.act->prompt->text, "recorded"));
	input(&w, RT_IN_DONE, 0, 0);
	assert_string_equal(path(&w), "d:next x");
	rt_flow_run_release(&w.run);

	w.facts.v[RT_FACT_REGION] = "US-TX";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "d:next x");
	assert_non_null(strstr(w.run.path[0].detail, "one-party"));
	rt_flow_run_release(&w.run);

	/* an unknown region plays it */
	w.facts.v[RT_FACT_REGION] = NULL;
	walk_start(&w, NULL, 0);
	assert_int_equal(w.act->kind, RT_ACT_PLAY);
	rt_flow_run_release(&w.run);

	/* the account's switch off: never */
	w.facts.disclosure_on = false;
	w.facts.v[RT_FACT_REGION] = "US-CA";
	walk_start(&w, NULL, 0);
	assert_string_equal(path(&w), "d:next x");
	walk_end(&w);
}

static const char *const menu_flow =
	"{'format':1,'start':'m','steps':[{'id':'m','type':'menu','prompt':"
	"{'text':'Press 1 for sales, 2 for support'},'retries':1,"
	"'exits':{'1':'s','2':'t','timeout':'op','invalid':'op'}},"
	"{'id':'s','type':'tag','tags':['sales'],'exits':{'next':'x'}},"
	"{'id':'t','type':'tag','tags':['support'],'exits':{'next':'x'}},"
	"{'id':'op','type':'tag','tags':['operator'],'exits':{'next':'x'}},"
	"{'id':'x','type':'hangup'}]}";

static void test_menu(void **state)
{
	struct walk w = {0};

	(void)state;
	walk_start(&w, menu_flow, 1000);
	assert_int_equal(w.act->kind, RT_ACT_MENU);
	assert_int_equal(w.act->timeout_s, 5);
	assert_null(w.act->pre);
	assert_int_equal(rt_flow_run_input(&w.run, RT_IN_DIGIT, '2', 0, 4000,
					   &w.act),
			 0);
	assert_int_equal(w.act->kind, RT_ACT_HANGUP);
	assert_string_equal(path(&w), "m:2 t:next x");
	assert_string_equal(w.run.digits, "2");
	assert_int_equal(w.run.menu_ms, 3000);
	assert_int_equal(w.run.ntags, 1);
	assert_string_equal(w.run.tags[0], "support");
	rt_flow_run_release(&w.run);

	/* a digit not in the menu: the invalid prompt, then again; a
	 * second wrong one (retries 1) leaves by 'invalid' */
	walk_start(&w, NULL, 0);
	input(&w, RT_IN_DIGIT, '7', 0);
	assert_int_equal(w.act->kind, RT_ACT_MENU);
	assert_non_null(w.act->pre);
	assert_non_null(strstr(w.act->pre->text, "not one of"));
	input(&w, RT_IN_DIGIT, '#', 0);
	assert_string_equal(path(&w), "m:invalid op:next x");
	assert_string_equal(w.run.digits, "7#");
	rt_flow_run_release(&w.run);

	/* no input twice: 'timeout'; a right digit after one timeout */
	walk_start(&w, NULL, 0);
	input(&w, RT_IN_TIMEOUT, 0, 0);
	assert_null(w.act->pre);
	input(&w, RT_IN_TIMEOUT, 0, 0);
	assert_string_equal(path(&w), "m:timeout op:next x");
	rt_flow_run_release(&w.run);
	walk_start(&w, NULL, 0);
	input(&w, RT_IN_TIMEOUT, 0, 0);
	input(&w, RT_IN_DIGIT, '1', 0);
	assert_string_equal(path(&w), "m:1 s:next x");
	rt_flow_run_release(&w.run);

	/* a digit whose exit is null ends the call there */
	{
		struct walk w2 = {0};

		walk_start(&w2,
			   "{'format':1,'start':'m','steps':[{'id':'m','type':"
			   "'menu','prompt':{'text':'x'},'exits':{'1':null,"
			   "'2':'x'}}," END("x") "]}",
			   0);
		input(&w2, RT_IN_DIGIT, '1', 0);
		assert_true(w2.run.ended);
		assert_string_equal(path(&w2), "m:1");
		walk_end(&w2);
	}

	/* inputs that do not fit */
	walk_start(&w, NULL, 0);
	assert_int_equal(rt_flow_run_input(&w.run, RT_IN_DIGIT, 'x', 0, 0,
					   &w.act),
			 EINVAL);
	assert_int_equal(rt_flow_run_input(&w.run, RT_IN_DONE, 0, 0, 0, &w.act),
			 EINVAL);
	assert_int_equal(rt_flow_run_input(&w.run, RT_IN_DIAL, 0,
					   RT_DIAL_ANSWERED, 0, &w.act),
			 EINVAL);
	walk_end(&w);
}

/* A menu that loops back to itself through a play is allowed (the
 * caller is asked each time); a caller who never answers is ended by
 * the step limit. */
static void test_step_limit(void **state)
{
	struct walk w = {0};

	(void)state;
	walk_start(&w,
		   "{'format':1,'start':'m','steps':[{'id':'m','type':'menu',"
		   "'prompt':{'text':'x'},'retries':0,'exits':{'1':'x',"
		   "'timeout':'p'}}," PLAY("p", "m") "," END("x") "]}",
		   0);
	for (int i = 0; i < 200 && !w.run.ended; i++) {
		if (w.act->kind == RT_ACT_MENU)
			input(&w, RT_IN_TIMEOUT, 0, 0);
		else
			input(&w, RT_IN_DONE, 0, 0);
	}
	assert_true(w.run.ended);
	assert_string_equal(w.run.end_reason, "step limit");
	assert_int_equal(w.run.npath, RT_FLOW_RUN_STEPS);
	walk_end(&w);
}

static const char *const dial_flow =
	"{'format':1,'start':'w','steps':[{'id':'w','type':'whisper','text':"
	"'Call from {source}, campaign {campaign}','accept':true,'exits':{"
	"'next':'d'}},{'id':'d','type':'dial','strategy':'sequential',"
	"'targets':[{'uri':'sip:a@pbx.example.com','ring_s':10},{'number':"
	"'+1 415 555 0100'},{'uri':'sip:c@pbx.example.com'}],'exits':{"
	"'answered':'thanks','no_answer':'vm','busy':'vm','failed':'sorry'}},"
	"{'id':'vm','type':'voicemail','max_s':60,'exits':{'next':'x'}},"
	"{'id':'set','type':'set','value':120.5,'lead':'qualified','fields':"
	"{'team':'west'},'exits':{'next':'x'}}," PLAY("thanks", "set") "," PLAY(
		"sorry", "x") "," END("x") "]}";

static void test_dial(void **state)
{
	static const struct {
		enum rt_flow_dial_result r;
		const char *path;
	} cases[] = {
		{RT_DIAL_ANSWERED, "w:next d:answered thanks"},
		{RT_DIAL_NO_ANSWER, "w:next d:no_answer vm"},
		{RT_DIAL_BUSY, "w:next d:busy vm"},
		{RT_DIAL_FAILED, "w:next d:failed sorry"},
	};
	struct walk w = {0};

	(void)state;
	w.facts.v[RT_FACT_SOURCE] = "google";
	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		walk_start(&w, dial_flow, 0);
		assert_int_equal(w.act->kind, RT_ACT_DIAL);
		assert_int_equal(w.act->norder, 3);
		assert_string_equal(w.act->order[0]->value,
				    "sip:a@pbx.example.com");
		assert_int_equal(w.act->order[0]->ring_s, 10);
		assert_string_equal(w.act->order[1]->value, "+14155550100");
		assert_int_equal(w.act->order[1]->ring_s, 20);
		assert_string_equal(w.act->whisper,
				    "Call from google, campaign unknown");
		assert_true(w.act->whisper_accept);
		input(&w, RT_IN_DIAL, 0, cases[i].r);
		assert_string_equal(path(&w), cases[i].path);
		rt_flow_run_release(&w.run);
	}

	/* voicemail: greeting, beep, up to max_s */
	walk_start(&w, NULL, 0);
	input(&w, RT_IN_DIAL, 0, RT_DIAL_BUSY);
	assert_int_equal(w.act->kind, RT_ACT_VOICEMAIL);
	assert_true(w.act->beep);
	assert_int_equal(w.act->max_s, 60);
	assert_non_null(strstr(w.act->prompt->text, "message"));
	input(&w, RT_IN_DONE, 0, 0);
	assert_string_equal(path(&w), "w:next d:busy vm:next x");
	rt_flow_run_release(&w.run);

	/* the agent hangs up first: the call goes on, set fills the call */
	walk_start(&w, NULL, 0);
	input(&w, RT_IN_DIAL, 0, RT_DIAL_ANSWERED);
	input(&w, RT_IN_DONE, 0, 0);
	assert_string_equal(path(&w),
			    "w:next d:answered thanks:next set:next x");
	assert_true(w.run.has_value);
	assert_true(w.run.value > 120.4 && w.run.value < 120.6);
	assert_true(w.run.has_lead && w.run.qualified);
	assert_int_equal(w.run.nfields, 1);
	assert_string_equal(w.run.keys[0], "team");
	assert_string_equal(w.run.vals[0], "west");
	walk_end(&w);

	/* the outcome of a dial from each target's */
	{
		enum rt_flow_dial_result a[] = {RT_DIAL_BUSY, RT_DIAL_NO_ANSWER,
						RT_DIAL_ANSWERED};
		enum rt_flow_dial_result b[] = {RT_DIAL_BUSY, RT_DIAL_BUSY};
		enum rt_flow_dial_result c[] = {RT_DIAL_BUSY, RT_DIAL_NO_ANSWER,
						RT_DIAL_FAILED};
		enum rt_flow_dial_result d[] = {RT_DIAL_FAILED, RT_DIAL_BUSY};

		assert_int_equal(rt_flow_dial_outcome(a, 3), RT_DIAL_ANSWERED);
		assert_int_equal(rt_flow_dial_outcome(b, 2), RT_DIAL_BUSY);
		assert_int_equal(rt_flow_dial_outcome(c, 3), RT_DIAL_NO_ANSWER);
		assert_int_equal(rt_flow_dial_outcome(d, 2), RT_DIAL_FAILED);
		assert_int_equal(rt_flow_dial_outcome(NULL, 0),
				 RT_DIAL_NO_ANSWER);
	}
}

/* The counter a store would keep, per flow step. */
static unsigned rr_next(const struct rt_flow *f, int step, size_t n, void *arg)
{
	unsigned *counters = arg;

	(void)f;
	(void)n;
	return counters[step]++;
}

static void test_round_robin(void **state)
{
	struct rt_flow *f = compile_ok(
		"{'format':1,'start':'d','steps':[{'id':'d','type':'dial',"
		"'strategy':'round_robin','targets':[{'uri':'sip:a@x'},{'uri':"
		"'sip:b@x'},{'uri':'sip:c@x'}]}]}");
	unsigned counters[1] = {0}, first[3] = {0}, seen[3][3] = {{0}};
	struct rt_flow_facts facts = {0};

	(void)state;
	for (int call = 0; call < 3000; call++) {
		struct rt_flow_run r;
		const struct rt_flow_action *a;

		rt_flow_run_start(&r, f, &facts, rr_next, counters, 0, &a);
		assert_int_equal(a->kind, RT_ACT_DIAL);
		if (call == 4) {
			/* the path says where the round began */
			rt_flow_run_input(&r, RT_IN_DIAL, 0, RT_DIAL_BUSY, 0,
					  &a);
			assert_string_equal(r.path[0].detail,
					    "busy, from target 2");
			rt_flow_run_release(&r);
			first[1]++;
			seen[0][1]++;
			seen[1][2]++;
			seen[2][0]++;
			continue;
		}
		assert_int_equal(a->norder, 3);
		for (size_t k = 0; k < 3; k++)
			seen[k][a->order[k]->value[4] - 'a']++;
		first[a->order[0]->value[4] - 'a']++;
		rt_flow_run_release(&r);
	}
	/* each agent first on a third of the calls, and in each place */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(first[i], 1000);
		for (int k = 0; k < 3; k++)
			assert_int_equal(seen[k][i], 1000);
	}
	rt_flow_unref(f);
}

/* A caller may hang up in any step that waits for the call. */
static void test_hangup_everywhere(void **state)
{
	static const char *const flow =
		"{'format':1,'start':'p','steps':[" PLAY(
			"p", "m") ",{'id':'m','type':'menu','prompt':{'text':"
				  "'x'},'exits':{'1':'d'}},{'id':'d','type':"
				  "'dial','targets':[{'uri':'sip:a@x'}],"
				  "'exits':{'no_answer':'v'}},{'id':'v','type':"
				  "'voicemail'}]}";
	struct walk w = {0};

	(void)state;
	for (int at = 0; at < 4; at++) {
		walk_start(&w, flow, 0);
		for (int k = 0; k < at; k++) {
			if (k == 0)
				input(&w, RT_IN_DONE, 0, 0);
			else if (k == 1)
				input(&w, RT_IN_DIGIT, '1', 0);
			else
				input(&w, RT_IN_DIAL, 0, RT_DIAL_NO_ANSWER);
		}
		assert_false(w.run.ended);
		rt_flow_run_hangup(&w.run, 5000);
		assert_true(w.run.ended);
		assert_string_equal(w.run.end_reason, "caller hung up");
		assert_string_equal(w.run.path[w.run.npath - 1].exit,
				    "caller_hangup");
		assert_int_equal(w.act->kind, RT_ACT_HANGUP);
		/* nothing more goes in */
		assert_int_equal(rt_flow_run_input(&w.run, RT_IN_DONE, 0, 0, 0,
						   &w.act),
				 EINVAL);
		if (at == 1)
			assert_int_equal(w.run.menu_ms, 5000);
		if (at < 3)
			rt_flow_run_release(&w.run);
	}
	walk_end(&w);
}

static void test_template(void **state)
{
	struct rt_flow_facts facts = {0};
	char out[64];

	(void)state;
	facts.v[RT_FACT_SOURCE] = "bing";
	rt_flow_template("{source}/{keyword}/{x", &facts, out, sizeof(out));
	assert_string_equal(out, "bing/unknown/{x");
	rt_flow_template("no fields", &facts, out, sizeof(out));
	assert_string_equal(out, "no fields");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_geo_source),
		cmocka_unit_test(test_disclosure),
		cmocka_unit_test(test_menu),
		cmocka_unit_test(test_step_limit),
		cmocka_unit_test(test_dial),
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_hangup_everywhere),
		cmocka_unit_test(test_template),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
