/*
 * Custom source rules: an account's ordered rules, tried after the GA4
 * classification, that name a visit's source and may pick its pool.  The
 * rules for users are in docs/attribution.md; keep the two together.
 *
 * A rule set is built once per account (regexes compiled then) and applied
 * to every visit of the account, from any thread: nothing in it changes
 * after rt_dni_ruleset_build, and glibc's regexec is safe on a shared
 * compiled pattern.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dni/dni.h"

#define RT_LOG_MODULE "dni"

#define FAIL(field, ...)                                                       \
	do {                                                                   \
		*fieldp = (field);                                             \
		snprintf(msg, msgsz, __VA_ARGS__);                             \
		return EINVAL;                                                 \
	} while (0)

/* ---- fields and ops ----------------------------------------------------- */

enum src {
	SRC_VISIT,   /* a string of struct rt_visit_source, at off */
	SRC_CLICK,   /* a click id, click */
	SRC_LANDING, /* the landing URL as given */
	SRC_REFERRER /* the referrer as given */
};

static const struct {
	const char *name;
	enum src src;
	size_t off;
	enum rt_click_id click;
} fields[] = {
#define V(name)                                                                \
	{                                                                      \
#name, SRC_VISIT, offsetof(struct rt_visit_source, name), 0    \
	}
	V(source),
	V(medium),
	V(campaign),
	V(term),
	V(content),
	V(channel),
	V(ad_group),
	V(keyword),
	V(campaign_id),
	V(matchtype),
	V(network),
	V(device),
	V(landing_page),
	V(landing_host),
	V(referrer_host),
#undef V
	{"landing_url", SRC_LANDING, 0, 0},
	{"referrer", SRC_REFERRER, 0, 0},
	{"gclid", SRC_CLICK, 0, RT_CLICK_GCLID},
	{"gbraid", SRC_CLICK, 0, RT_CLICK_GBRAID},
	{"wbraid", SRC_CLICK, 0, RT_CLICK_WBRAID},
	{"msclkid", SRC_CLICK, 0, RT_CLICK_MSCLKID},
	{"fbclid", SRC_CLICK, 0, RT_CLICK_FBCLID},
	{"ttclid", SRC_CLICK, 0, RT_CLICK_TTCLID},
	{"li_fat_id", SRC_CLICK, 0, RT_CLICK_LI_FAT_ID},
};

const char *const rt_dni_rule_fields[] = {
	"source",	"medium",	"campaign",	 "term",
	"content",	"channel",	"ad_group",	 "keyword",
	"campaign_id",	"matchtype",	"network",	 "device",
	"landing_page", "landing_host", "referrer_host", "landing_url",
	"referrer",	"gclid",	"gbraid",	 "wbraid",
	"msclkid",	"fbclid",	"ttclid",	 "li_fat_id",
	NULL,
};
_Static_assert(RT_ARRAY_SIZE(rt_dni_rule_fields) == RT_ARRAY_SIZE(fields) + 1,
	       "rt_dni_rule_fields lists the fields of fields[]");

enum op { OP_EQUALS, OP_PREFIX, OP_CONTAINS, OP_REGEX, OP_EXISTS, OP__N };

const char *const rt_dni_rule_ops[] = {"equals", "prefix", "contains",
				       "regex",	 "exists", NULL};

static int field_index(const char *name)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(fields); i++) {
		if (strcmp(fields[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static int op_index(const char *name)
{
	for (int i = 0; i < OP__N; i++) {
		if (strcmp(rt_dni_rule_ops[i], name) == 0)
			return i;
	}
	return -1;
}

/* ---- regex guard ------------------------------------------------------- */

/* Skips a bracket expression starting at p ('['); returns its last
 * character (']'), or the end of the string when it is not closed. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++; /* a leading ']' is a member */
	for (; *p && *p != ']'; p++) {
		if (p[0] == '[' &&
		    (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char end = p[1];

			for (p += 2; *p && !(p[0] == end && p[1] == ']'); p++)
				;
			if (!*p)
				return p;
			p++;
		}
	}
	return p;
}

/* Reads a bound "{m}", "{m,}" or "{m,n}" at p; *kp gets the most copies
 * it makes (m + 1 for "{m,}"), and the return is its last character, or
 * NULL when it is not a bound. */
static const char *read_bound(const char *p, long *kp)
{
	long m = 0, n = -1;
	bool digits = false;

	for (p++; isdigit((unsigned char)*p); p++) {
		m = m < 100000 ? m * 10 + (*p - '0') : m;
		digits = true;
	}
	/* glibc reads "{,n}" as "{0,n}". */
	if (!digits && *p != ',')
		return NULL;
	if (*p == ',') {
		n = -2;
		for (p++; isdigit((unsigned char)*p); p++)
			n = (n < 0 ? 0 : n < 100000 ? n * 10 : n) + (*p - '0');
	}
	if (*p != '}')
		return NULL;
	*kp = n == -1 ? m : n == -2 ? m + 1 : (n > m ? n : m);
	return p;
}

#define REGEX_BACKREF -1 /* regex_cost: a backreference */
#define REGEX_STACKED -2 /* a repeat of a repeat */
#define REGEX_PERL    -3 /* \d, which POSIX reads as a plain d */

/*
 * An upper bound of the nodes of a pattern's parse tree, which glibc turns
 * into an automaton of about as many states whose closures it computes in
 * time that grows with their square.  A bound copies the atom or group
 * before it once per repeat, and "x+" is "xx*", so a short pattern can be a
 * huge tree ("((a{99}){99}){99}" is 17 bytes and a million nodes): the
 * count, not the length, is what is capped.  REGEX_BACKREF for a
 * backreference, which makes matching backtrack; REGEX_STACKED for a
 * repeat right after another ("a**", ".*?"), which POSIX leaves undefined;
 * REGEX_PERL for "\d", which would silently match the letter d.
 */
static long regex_cost(const char *p)
{
	long cost[RT_DNI_RULE_REGEX_MAX + 2], last[RT_DNI_RULE_REGEX_MAX + 2];
	bool repeated = false; /* the previous token was a repeat */
	int d = 0;

	cost[0] = last[0] = 0;
	for (; *p; p++) {
		long atom = 1, k = 1;
		const char *e = p;

		switch (*p) {
		case '\\':
			if (isdigit((unsigned char)p[1]))
				return REGEX_BACKREF;
			if (p[1] == 'd' || p[1] == 'D')
				return REGEX_PERL;
			if (p[1])
				p++;
			break;
		case '[':
			p = skip_bracket(p);
			if (!*p)
				p--;
			break;
		case '(':
			if (d < RT_DNI_RULE_REGEX_MAX) {
				d++;
				cost[d] = last[d] = 0;
				repeated = false;
				continue;
			}
			break;
		case ')':
			if (d > 0) {
				atom = cost[d] + 1; /* the group's own node */
				d--;
			}
			break;
		case '|':
			cost[d]++;
			last[d] = 0;
			repeated = false;
			continue;
		case '{':
			e = read_bound(p, &k);
			if (!e)
				break; /* a literal '{' */
				       /* fall through */
		case '*':
		case '?':
		case '+':
			if (repeated)
				return REGEX_STACKED;
			repeated = true;
			p = e;
			if (*p == '+')
				k = 2;
			if (k < 1) /* "{0}" still builds its atom */
				k = 1;
			if (last[d] == 0)
				continue; /* nothing to repeat: regcomp says */
			if (k > RT_DNI_RULE_REGEX_COST)
				return RT_DNI_RULE_REGEX_COST + 1;
			/* k copies and the repeat's own node. */
			cost[d] += last[d] * (k - 1) + 1;
			last[d] = last[d] * k + 1;
			if (cost[d] > RT_DNI_RULE_REGEX_COST)
				return cost[d];
			continue;
		default:
			break;
		}
		repeated = false;
		cost[d] += atom;
		last[d] = atom;
		if (cost[d] > RT_DNI_RULE_REGEX_COST)
			return cost[d];
	}
	/* Groups left open are an error regcomp reports; count them in. */
	while (d > 0) {
		cost[d - 1] += cost[d];
		d--;
	}
	return cost[0];
}

static int regex_flags(bool case_sensitive)
{
	return REG_EXTENDED | REG_NOSUB | (case_sensitive ? 0 : REG_ICASE);
}

/* ---- checking a rule ---------------------------------------------------- */

static bool has_control(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

int rt_dni_rule_check(const struct rt_source_rule *r, const char **fieldp,
		      char *msg, size_t msgsz)
{
	int op;

	if (!r->name[0])
		FAIL("name", "'name' must not be empty");
	if (strlen(r->name) > RT_NAME_MAX - 1 || has_control(r->name))
		FAIL("name",
		     "'name' must be at most %d bytes without control "
		     "characters",
		     RT_NAME_MAX - 1);
	if (field_index(r->field) < 0)
		FAIL("field",
		     "'field' must be a field of the visit, such as source, "
		     "medium, campaign, landing_page, referrer_host, "
		     "landing_url or gclid (see the API documentation)");
	op = op_index(r->op);
	if (op < 0)
		FAIL("op",
		     "'op' must be equals, prefix, contains, regex or exists");

	if (op == OP_EXISTS && r->value[0])
		FAIL("value", "'value' must be empty (or left out) with op "
			      "exists");
	if (op != OP_EXISTS && !r->value[0])
		FAIL("value", "'value' must not be empty with op %s", r->op);
	if (strlen(r->value) > RT_RULE_TEXT_MAX - 1 || has_control(r->value))
		FAIL("value",
		     "'value' must be at most %d bytes without control "
		     "characters",
		     RT_RULE_TEXT_MAX - 1);
	if (op == OP_REGEX) {
		long cost = regex_cost(r->value);
		regex_t re;
		int e;

		if (strlen(r->value) > RT_DNI_RULE_REGEX_MAX)
			FAIL("value", "'value' is longer than %d bytes",
			     RT_DNI_RULE_REGEX_MAX);
		if (cost == REGEX_BACKREF)
			FAIL("value", "'value' is not allowed to use "
				      "backreferences (\\1 to \\9)");
		if (cost == REGEX_PERL)
			FAIL("value", "'value' uses \\d, which POSIX regexes "
				      "read as the letter d: write [0-9]");
		if (cost == REGEX_STACKED)
			FAIL("value", "'value' repeats a repeat ('a**', '.*?', "
				      "'a+{2}'): POSIX regexes have no lazy or "
				      "possessive repeats");
		if (cost > RT_DNI_RULE_REGEX_COST)
			FAIL("value",
			     "'value' is too complex: with its repeats written "
			     "out ('a{3}' as 'aaa', 'a+' as 'aa*') it is "
			     "longer than about %d characters",
			     RT_DNI_RULE_REGEX_COST);
		e = regcomp(&re, r->value, regex_flags(r->case_sensitive));
		if (e) {
			char why[128];

			regerror(e, &re, why, sizeof(why));
			FAIL("value",
			     "'value' is not a valid regular expression "
			     "(POSIX extended): %s",
			     why);
		}
		regfree(&re);
	}

	if (!r->source_label[0])
		FAIL("source_label", "'source_label' must not be empty");
	if (strlen(r->source_label) > RT_DNI_VALUE_MAX ||
	    has_control(r->source_label))
		FAIL("source_label",
		     "'source_label' must be at most %d bytes without control "
		     "characters",
		     RT_DNI_VALUE_MAX);
	if (strlen(r->medium_label) > RT_DNI_VALUE_MAX ||
	    has_control(r->medium_label))
		FAIL("medium_label",
		     "'medium_label' must be at most %d bytes without control "
		     "characters",
		     RT_DNI_VALUE_MAX);
	if (strcmp(r->status, "active") && strcmp(r->status, "inactive"))
		FAIL("status", "'status' must be active or inactive");
	return 0;
}

/* ---- rule sets ---------------------------------------------------------- */

struct crule {
	int64_t id, pool_id;
	int field;
	enum op op;
	bool case_sensitive;
	bool compiled; /* re holds a compiled pattern */
	regex_t re;
	size_t vlen;
	char value[RT_RULE_TEXT_MAX];
	char source[RT_DNI_V];
	char medium[RT_DNI_V];
};

struct rt_dni_ruleset {
	const struct rt_dni_sites *sites;
	size_t n;
	struct crule rules[];
};

void rt_dni_ruleset_free(struct rt_dni_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->rules[i].compiled)
			regfree(&rs->rules[i].re);
	}
	free(rs);
}

size_t rt_dni_ruleset_size(const struct rt_dni_ruleset *rs)
{
	return rs ? rs->n : 0;
}

int rt_dni_ruleset_build(const struct rt_dni_sites *sites,
			 const struct rt_source_rule *rules, size_t n,
			 struct rt_dni_ruleset **out)
{
	struct rt_dni_ruleset *rs;
	int err = 0;

	if (!sites)
		RT_BUG("a rule set needs the site lists");
	rs = calloc(1, sizeof(*rs) + n * sizeof(rs->rules[0]));
	if (!rs)
		return ENOMEM;
	rs->sites = sites;
	for (size_t i = 0; i < n; i++) {
		const struct rt_source_rule *r = &rules[i];
		struct crule *c = &rs->rules[rs->n];
		const char *field;
		char msg[256];
		int e;

		if (strcmp(r->status, "active") != 0)
			continue;
		if (rt_dni_rule_check(r, &field, msg, sizeof(msg))) {
			char q[300];

			rt_warn("source rule left out",
				"rule=%lld field=%s why=%s", (long long)r->id,
				field, rt_log_q(q, sizeof(q), msg));
			continue;
		}
		c->id = r->id;
		c->pool_id = r->pool_id;
		c->field = field_index(r->field);
		c->op = (enum op)op_index(r->op);
		c->case_sensitive = r->case_sensitive;
		rt_strlcpy(c->value, r->value, sizeof(c->value));
		c->vlen = strlen(c->value);
		rt_strlcpy(c->source, r->source_label, sizeof(c->source));
		rt_strlcpy(c->medium, r->medium_label, sizeof(c->medium));
		if (c->op == OP_REGEX) {
			e = regcomp(&c->re, c->value,
				    regex_flags(c->case_sensitive));
			if (e) {
				/* Checked above, so only memory runs out. */
				err = ENOMEM;
				goto out;
			}
			c->compiled = true;
		}
		rs->n++;
	}
out:
	if (err) {
		rt_dni_ruleset_free(rs);
		return err;
	}
	*out = rs;
	return 0;
}

static const char *field_value(const struct crule *c,
			       const struct rt_visit_source *v,
			       const char *landing_url, const char *referrer)
{
	switch (fields[c->field].src) {
	case SRC_VISIT:
		return (const char *)v + fields[c->field].off;
	case SRC_CLICK:
		return v->click[fields[c->field].click];
	case SRC_LANDING:
		return landing_url ? landing_url : "";
	case SRC_REFERRER:
		return referrer ? referrer : "";
	}
	return "";
}

static bool matches(const struct crule *c, const char *s)
{
	switch (c->op) {
	case OP_EQUALS:
		return c->case_sensitive ? strcmp(s, c->value) == 0
					 : strcasecmp(s, c->value) == 0;
	case OP_PREFIX:
		return c->case_sensitive
			       ? strncmp(s, c->value, c->vlen) == 0
			       : strncasecmp(s, c->value, c->vlen) == 0;
	case OP_CONTAINS:
		return c->case_sensitive ? strstr(s, c->value) != NULL
					 : strcasestr(s, c->value) != NULL;
	case OP_REGEX:
		return regexec(&c->re, s, 0, NULL, 0) == 0;
	case OP_EXISTS:
		return s[0] != '\0';
	case OP__N:
		break;
	}
	return false;
}

int rt_dni_ruleset_apply(const struct rt_dni_ruleset *rs,
			 struct rt_visit_source *v, const char *landing_url,
			 const char *referrer, int64_t *pool_idp,
			 int64_t *rule_idp)
{
	if (pool_idp)
		*pool_idp = 0;
	if (rule_idp)
		*rule_idp = 0;
	for (size_t i = 0; rs && i < rs->n; i++) {
		const struct crule *c = &rs->rules[i];
		bool changed;

		if (!matches(c, field_value(c, v, landing_url, referrer)))
			continue;
		changed = strcmp(v->source, c->source) != 0 ||
			  (c->medium[0] && strcmp(v->medium, c->medium) != 0);
		rt_strlcpy(v->source, c->source, sizeof(v->source));
		if (c->medium[0])
			rt_strlcpy(v->medium, c->medium, sizeof(v->medium));
		if (changed)
			rt_strlcpy(v->channel,
				   rt_dni_channel(rs->sites, v->source,
						  v->medium, v->campaign),
				   sizeof(v->channel));
		if (pool_idp)
			*pool_idp = c->pool_id;
		if (rule_idp)
			*rule_idp = c->id;
		return 0;
	}
	return ENOENT;
}
