/*
 * Call flows: what happens to a call, as a JSON document of steps joined
 * by named exits (docs/flows.md, docs/flows.schema.json).
 *
 * rt_flow_compile checks a document and turns it into a struct rt_flow,
 * read-only from then on and shared by every call that runs it (counted
 * references: the SIP thread holds a flow while its calls run it, the
 * loader swaps in new versions).  struct rt_flow_run walks one call
 * through it: decision steps (schedule, geo, source, disclosure's rule,
 * tag, set, whisper) are taken inside; steps that need the call (play,
 * menu, dial, voicemail, hangup) come back as actions, and the outcome of
 * each action is fed back in.  The same walk serves live calls (src/sip
 * performs the actions) and POST /v1/flows/{id}/simulate (the outcomes
 * come from the request).  No I/O, no locks: any thread.
 */
#ifndef RT_FLOW_H
#define RT_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_FLOW_FORMAT	    1	 /* the document's "format" */
#define RT_FLOW_STEPS_MAX   200	 /* steps in a flow */
#define RT_FLOW_ID_MAX	    48	 /* a step id: [A-Za-z0-9_-], 1 to 47 */
#define RT_FLOW_TEXT_MAX    1000 /* a prompt's text, in bytes */
#define RT_FLOW_TARGETS_MAX 20	 /* destinations of a dial */
#define RT_FLOW_RUN_STEPS   100	 /* steps a call may take: loops end */
#define RT_FLOW_ERRORS_MAX  50	 /* problems reported at once */

enum rt_flow_type {
	RT_FLOW_PLAY,
	RT_FLOW_DISCLOSURE,
	RT_FLOW_SCHEDULE,
	RT_FLOW_GEO,
	RT_FLOW_SOURCE,
	RT_FLOW_MENU,
	RT_FLOW_DIAL,
	RT_FLOW_WHISPER,
	RT_FLOW_VOICEMAIL,
	RT_FLOW_TAG,
	RT_FLOW_SET,
	RT_FLOW_HANGUP,
	RT_FLOW_NTYPES
};
const char *rt_flow_type_name(enum rt_flow_type t);

struct rt_prompt; /* media/prompt.h */

/* A prompt: text spoken by the TTS engine, or an uploaded audio file. */
struct rt_flow_prompt {
	char *text;	  /* NULL with audio_id */
	int64_t audio_id; /* 0 with text */
	/* The audio_id's samples, for live calls: set by the call router
	 * when it loads the flow, before the flow is shared, and held until
	 * the flow is freed (struct rt_flow's release hook); NULL when not
	 * loaded (the prompt is skipped). */
	const struct rt_prompt *audio;
};

/* One exit: its name and the index of the step it goes to (-1: none,
 * the call ends there). */
struct rt_flow_exit {
	char *name;
	int to;
};

/* A time range of a day, in minutes from local midnight: [from, to). */
struct rt_flow_span {
	uint16_t from, to;
};
struct rt_flow_day {
	struct rt_flow_span *spans;
	size_t n;
};
/* A dated day: holiday (closed, exit "holiday") or special hours.  year
 * 0 recurs every year. */
struct rt_flow_date {
	int year, month, day;
	bool holiday;
	struct rt_flow_day hours; /* for special hours */
	char *name;
};

/* A condition of a geo or source rule: the fact `field` is one of values
 * (case-insensitive; in the text facts of source rules, a value ending
 * in '*' matches as a prefix). */
struct rt_flow_cond {
	int field; /* enum rt_flow_fact */
	char **values;
	size_t n;
};
struct rt_flow_rule {
	char *exit;
	struct rt_flow_cond *conds; /* all must hold */
	size_t n;
};

enum rt_flow_fact {
	RT_FACT_COUNTRY,
	RT_FACT_REGION,
	RT_FACT_AREA_CODE,
	RT_FACT_CHANNEL,
	RT_FACT_SOURCE,
	RT_FACT_MEDIUM,
	RT_FACT_CAMPAIGN,
	RT_FACT_KEYWORD,
	RT_FACT_CONFIDENCE,
	RT_FACT_LANDING_PAGE,
	RT_FACT_CALLER,
	RT_FACT_CALLER_LOCATION,
	RT_FACT_TRACKING_NUMBER,
	RT_FACT_NUMBER_NAME,
	RT_NFACTS
};

enum rt_flow_strategy {
	RT_DIAL_SIMULTANEOUS,
	RT_DIAL_SEQUENTIAL,
	RT_DIAL_ROUND_ROBIN,
};
enum rt_flow_target_kind { RT_TARGET_URI, RT_TARGET_NUMBER, RT_TARGET_USER };
struct rt_flow_target {
	enum rt_flow_target_kind kind;
	char *value; /* a sip: URI or an E.164 number; NULL for a user */
	int64_t user_id;
	unsigned ring_s; /* this target's ring time */
};

struct rt_flow_step {
	char *id;
	enum rt_flow_type type;
	struct rt_flow_exit *exits;
	size_t nexits;
	union {
		struct {
			struct rt_flow_prompt prompt;
		} play;
		struct {
			struct rt_flow_prompt prompt;
			bool two_party_only; /* "when": "two_party" */
			char **regions;	     /* where it plays then */
			size_t nregions;
		} disclosure;
		struct {
			char *tz;		    /* NULL: the account's */
			struct rt_flow_day week[7]; /* Monday first */
			struct rt_flow_date *dates;
			size_t ndates;
		} schedule;
		struct {
			struct rt_flow_rule *rules;
			size_t n;
		} branch; /* geo and source */
		struct {
			struct rt_flow_prompt prompt, invalid;
			unsigned timeout_s, retries;
		} menu;
		struct {
			struct rt_flow_target *targets;
			size_t n;
			enum rt_flow_strategy strategy;
			unsigned timeout_s;
			bool tracking_caller_id; /* show the tracking number */
		} dial;
		struct {
			char *text; /* a template: {source}, {campaign}, ... */
			bool accept;
		} whisper;
		struct {
			struct rt_flow_prompt greeting;
			bool beep;
			unsigned max_s;
		} voicemail;
		struct {
			char **tags;
			size_t n;
		} tag;
		struct {
			bool has_value, has_lead;
			double value;
			bool qualified; /* "lead": "qualified" / "unqualified"
					 */
			char **keys, **vals; /* "fields" */
			size_t nfields;
		} set;
	} u;
};

struct rt_flow {
	int refs;   /* atomic */
	int64_t id; /* the flow's id and version, 0 until stored */
	int64_t version;
	char *name;
	struct rt_flow_step *steps;
	size_t n;
	int start; /* index of the first step */
	/* Called once, on any thread, when the last reference goes, before
	 * the flow is freed: whoever loaded the prompts' audio lets it go.
	 * NULL for none. */
	void (*release_h)(struct rt_flow *f, void *arg);
	void *release_arg;
};

/* A problem found by rt_flow_compile: the step (NULL: the document), the
 * field within it (a JSON path: "exits.3", "hours.mon[0]") and what is
 * wrong. */
struct rt_flow_problem {
	char step[RT_FLOW_ID_MAX];
	char field[96];
	char message[200];
};
struct rt_flow_problems {
	struct rt_flow_problem p[RT_FLOW_ERRORS_MAX];
	size_t n;	  /* errors */
	size_t nwarnings; /* warnings after them, in w */
	struct rt_flow_problem w[RT_FLOW_ERRORS_MAX];
};

/*
 * Checks and compiles a flow document (a jansson json_t, passed as void *
 * so this header does not need jansson).  0 with *fp (one reference), or
 * EINVAL with pr's errors filled (never a partial flow), or ENOMEM.
 * Warnings (unreachable steps) do not fail it.
 */
int rt_flow_compile(const void *doc, struct rt_flow **fp,
		    struct rt_flow_problems *pr);
struct rt_flow *rt_flow_ref(struct rt_flow *f);
void rt_flow_unref(struct rt_flow *f); /* NULL is fine */
/* The index of step id, or -1. */
int rt_flow_find(const struct rt_flow *f, const char *id);
/* The prompts a step plays into pr[] and the names of their fields
 * ("prompt", "invalid_prompt", "greeting") into field[]: 0 to 2 of them,
 * the count.  Prompts that are absent with no default are left out. */
size_t rt_flow_step_prompts(struct rt_flow_step *st,
			    struct rt_flow_prompt *pr[2], const char *field[2]);

/* ---- walking a call through a flow --------------------------------------- */

/* What a flow branches on, filled by the caller of the walk. */
struct rt_flow_facts {
	const char *tz;		  /* the account's zone; NULL: UTC */
	bool disclosure_on;	  /* the account's switch */
	const char *v[RT_NFACTS]; /* NULL or "" when unknown */
};
const char *rt_flow_fact_name(enum rt_flow_fact f);

enum rt_flow_act {
	RT_ACT_PLAY,	  /* play prompt, then RT_IN_DONE */
	RT_ACT_MENU,	  /* play prompt, wait timeout_s: RT_IN_DIGIT/TIMEOUT */
	RT_ACT_DIAL,	  /* ring the targets: RT_IN_DIAL */
	RT_ACT_VOICEMAIL, /* greeting, beep, record: RT_IN_DONE */
	RT_ACT_HANGUP,	  /* the end (also when an exit goes nowhere) */
};

struct rt_flow_action {
	enum rt_flow_act kind;
	const struct rt_flow_step *step;
	const struct rt_flow_prompt *prompt; /* play, menu, voicemail */
	/* menu: played before prompt (the invalid prompt after a wrong
	 * digit), else NULL */
	const struct rt_flow_prompt *pre;
	unsigned timeout_s; /* menu: wait for a digit */
	/* dial: the targets in the order to try (round robin rotated) */
	const struct rt_flow_target *order[RT_FLOW_TARGETS_MAX];
	size_t norder;
	/* dial: the whisper armed before it ("" none), and whether the
	 * agent must press 1 */
	char whisper[512];
	bool whisper_accept;
	bool beep;	/* voicemail */
	unsigned max_s; /* voicemail */
};

enum rt_flow_in {
	RT_IN_DONE,    /* play / voicemail finished */
	RT_IN_DIGIT,   /* menu: a digit */
	RT_IN_TIMEOUT, /* menu: none in time */
	RT_IN_DIAL,    /* dial's outcome */
};
enum rt_flow_dial_result {
	RT_DIAL_ANSWERED, /* the agent hung up first: the call goes on */
	RT_DIAL_NO_ANSWER,
	RT_DIAL_BUSY,
	RT_DIAL_FAILED,
};
const char *rt_flow_dial_result_name(enum rt_flow_dial_result r);
int rt_flow_dial_result_parse(const char *s, enum rt_flow_dial_result *rp);

/* One step taken: where, when, by which exit it was left ("" still in
 * it or the end), and what it decided or heard ("digit 2", a tag). */
struct rt_flow_hop {
	int step;
	int64_t at_ms;
	char exit[40]; /* exit names are up to 31 bytes */
	char detail[96];
};

/* Round robin: the position to start at among n targets of a step (the
 * caller keeps the counters; NULL starts at 0). */
typedef unsigned(rt_flow_rr_h)(const struct rt_flow *f, int step, size_t n,
			       void *arg);

struct rt_flow_run {
	const struct rt_flow *f;
	const struct rt_flow_facts *facts;
	rt_flow_rr_h *rr;
	void *rr_arg;
	int cur;	/* the step waiting for an outcome, -1 at the end */
	unsigned tries; /* menu: prompts played at cur */
	struct rt_flow_action act;
	char whisper[512];
	bool whisper_accept;
	unsigned rr_first; /* round robin: where the dial in progress began */
	/* what the call record gains */
	struct rt_flow_hop *path;
	size_t npath, path_cap;
	char digits[33];
	int64_t menu_ms, menu_since; /* time in menus */
	char **tags;
	size_t ntags;
	bool has_value, has_lead, qualified;
	double value;
	char **keys, **vals; /* set fields, latest wins */
	size_t nfields;
	bool ended;
	/* "hangup", "no exit", "step limit", "caller hung up", "out of
	 * memory" */
	char end_reason[32];
};

/* Starts a call at the flow's first step, at at_ms; *act is the first
 * action.  f and facts are borrowed for the run's life. */
int rt_flow_run_start(struct rt_flow_run *r, const struct rt_flow *f,
		      const struct rt_flow_facts *facts, rt_flow_rr_h *rr,
		      void *rr_arg, int64_t at_ms,
		      const struct rt_flow_action **act);
/* Feeds the outcome of the action in progress (digit for RT_IN_DIGIT,
 * result for RT_IN_DIAL); *act the next.  EINVAL when the input does not
 * fit the action (a digit to a play). */
int rt_flow_run_input(struct rt_flow_run *r, enum rt_flow_in in, char digit,
		      enum rt_flow_dial_result result, int64_t at_ms,
		      const struct rt_flow_action **act);
/* The caller hung up during the action in progress. */
void rt_flow_run_hangup(struct rt_flow_run *r, int64_t at_ms);
void rt_flow_run_release(struct rt_flow_run *r);

/* A whisper template filled from facts ("{source}" and the like; unknown
 * or empty facts read as "unknown"). */
void rt_flow_template(const char *tmpl, const struct rt_flow_facts *facts,
		      char *out, size_t size);

/* Whether the schedule step s is open at ms (local time in the step's
 * zone, else tz): "open", "closed" or "holiday". */
const char *rt_flow_schedule_exit(const struct rt_flow_step *s, const char *tz,
				  int64_t ms);

/* The outcome of a dial from each target's outcome, in the order tried:
 * answered when one answered; busy when every target was busy; no answer
 * when none answered and at least one rang out or the overall time ran
 * out; failed otherwise. */
enum rt_flow_dial_result
rt_flow_dial_outcome(const enum rt_flow_dial_result *each, size_t n);

#endif
