/*
 * The tracking number inventory's rules: what a number of each kind needs,
 * and CSV import, shared by the API and the CLI.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dni/dni.h"
#include "util/phone.h"

#define FAIL(field, ...)                                                       \
	do {                                                                   \
		*fieldp = (field);                                             \
		snprintf(msg, msgsz, __VA_ARGS__);                             \
		return EINVAL;                                                 \
	} while (0)

static bool sip_uri(const char *s)
{
	const char *at;

	if (strncasecmp(s, "sip:", 4) != 0 && strncasecmp(s, "sips:", 5) != 0)
		return false;
	at = strchr(s, '@');
	if (!at || at == strchr(s, ':') + 1 || !at[1])
		return false;
	for (; *s; s++) {
		if (isspace((unsigned char)*s) || (unsigned char)*s < 0x20)
			return false;
	}
	return true;
}

int rt_dni_number_check(struct rt_number *n, const char *text,
			const char *country, const char **fieldp, char *msg,
			size_t msgsz)
{
	struct rt_phone ph;
	int e;

	if (!country || !*country)
		country = "US";
	if (strlen(country) != 2 || !isupper((unsigned char)country[0]) ||
	    !isupper((unsigned char)country[1]))
		FAIL("country",
		     "'country' must be an ISO 3166-1 code such as 'US'");
	e = rt_phone_parse(text, country, &ph);
	if (e == EDOM)
		FAIL("number",
		     "'%.40s' is not a valid phone number in its country",
		     text);
	if (e)
		FAIL("number", "'%.40s' is not a phone number", text);
	rt_strlcpy(n->e164, ph.e164, sizeof(n->e164));
	rt_strlcpy(n->number_type, rt_phone_type_name(ph.type),
		   sizeof(n->number_type));
	rt_strlcpy(n->country, ph.region, sizeof(n->country));
	if (!n->label[0])
		rt_strlcpy(n->label, ph.national, sizeof(n->label));

	if (!n->kind[0])
		rt_strlcpy(n->kind, "pool", sizeof(n->kind));
	if (strcmp(n->kind, "pool") && strcmp(n->kind, "source") &&
	    strcmp(n->kind, "offline"))
		FAIL("kind", "'kind' must be pool, source or offline");
	if (strcmp(n->kind, "source") == 0 && !n->source[0])
		FAIL("source",
		     "a number of kind 'source' needs the 'source' it "
		     "stands for, such as 'google'");
	if (strcmp(n->kind, "source") != 0 && (n->source[0] || n->medium[0]))
		FAIL(n->source[0] ? "source" : "medium",
		     "'source' and 'medium' are for numbers of kind 'source'");
	if (strcmp(n->kind, "offline") == 0 && !n->campaign[0])
		FAIL("campaign", "a number of kind 'offline' needs the "
				 "'campaign' it is printed for");
	if (strcmp(n->kind, "offline") != 0 && n->campaign[0])
		FAIL("campaign", "'campaign' is for numbers of kind 'offline'");
	if (strcmp(n->kind, "pool") != 0 && n->pool_id)
		FAIL("pool_id", "only numbers of kind 'pool' can be in a pool");

	if (!n->status[0])
		rt_strlcpy(n->status, "active", sizeof(n->status));
	if (strcmp(n->status, "active") && strcmp(n->status, "inactive"))
		FAIL("status", "'status' must be active or inactive");

	if (n->destination[0] && !sip_uri(n->destination)) {
		e = rt_phone_parse(n->destination, country, &ph);
		if (e)
			FAIL("destination", "'destination' must be a phone "
					    "number or a sip: URI");
		if (strcmp(ph.e164, n->e164) == 0)
			FAIL("destination", "'destination' must not be the "
					    "tracking number itself");
		rt_strlcpy(n->destination, ph.e164, sizeof(n->destination));
	}
	return 0;
}

/* ---- CSV import ---------------------------------------------------------- */

enum col {
	C_NUMBER,
	C_LABEL,
	C_KIND,
	C_SOURCE,
	C_MEDIUM,
	C_CAMPAIGN,
	C_DESTINATION,
	C_STATUS,
	C__N
};
static const char *const col_names[C__N] = {
	"number", "label",    "kind",	     "source",
	"medium", "campaign", "destination", "status",
};

static void add_error(json_t *errors, unsigned line, const char *field,
		      const char *msg)
{
	char clean[200];
	json_t *e;

	/* Messages quote cells: make sure they are UTF-8, so that no error
	 * is ever dropped by the JSON encoder. */
	rt_strlcpy(clean, msg, sizeof(clean));
	rt_utf8_clean(clean);
	e = json_pack("{s:i,s:s,s:s}", "line", (int)line, "field", field,
		      "message", clean);
	if (!e || json_array_append_new(errors, e))
		json_array_append_new(errors,
				      json_pack("{s:i,s:s,s:s}", "line",
						(int)line, "field", "number",
						"message",
						"this row is not valid"));
}

/* Copies a cell; false when it does not fit, as the API refuses it too. */
static bool set_field(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return false;
	rt_strlcpy(dst, v, size);
	rt_utf8_clean(dst);
	return true;
}

struct row {
	struct rt_number n;
	unsigned line;
};

/* Copies a row's cells into n; the column that does not fit, or NULL. */
static const char *row_fields(struct rt_number *n, const char *const *v)
{
	static const struct {
		enum col col;
		size_t off, size;
	} f[] = {
		{C_LABEL, offsetof(struct rt_number, label), RT_NAME_MAX},
		{C_KIND, offsetof(struct rt_number, kind), 16},
		{C_SOURCE, offsetof(struct rt_number, source), RT_NAME_MAX},
		{C_MEDIUM, offsetof(struct rt_number, medium), 64},
		{C_CAMPAIGN, offsetof(struct rt_number, campaign), RT_NAME_MAX},
		{C_DESTINATION, offsetof(struct rt_number, destination), 256},
		{C_STATUS, offsetof(struct rt_number, status), 16},
	};

	for (size_t i = 0; i < RT_ARRAY_SIZE(f); i++) {
		if (!set_field((char *)n + f[i].off, f[i].size, v[f[i].col]))
			return col_names[f[i].col];
	}
	return NULL;
}

static int by_e164(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->n.e164, y->n.e164);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int error_by_line(const void *a, const void *b)
{
	json_int_t x = json_integer_value(
		json_object_get(*(json_t *const *)a, "line"));
	json_int_t y = json_integer_value(
		json_object_get(*(json_t *const *)b, "line"));

	return (x > y) - (x < y);
}

/* The duplicate checks find errors in number order; report in line order. */
static void sort_errors(json_t *errors)
{
	size_t n = json_array_size(errors);
	json_t **items = calloc(n ? n : 1, sizeof(*items));

	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(errors, i));
	qsort(items, n, sizeof(*items), error_by_line);
	json_array_clear(errors);
	/* A bad file can have thousands of bad lines: list the first 100. */
	for (size_t i = 0; i < n; i++) {
		if (i < 100)
			json_array_append_new(errors, items[i]);
		else
			json_decref(items[i]);
	}
	free(items);
}

static int by_line(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

int rt_dni_numbers_import(struct rt_store_tx *tx, int64_t scope,
			  int64_t account_id, const char *csv, size_t len,
			  const char *country, json_t *errors, size_t *createdp)
{
	int map[C__N], e, err = 0;
	const char *f[C__N + 8], *field;
	struct row *rows = NULL;
	size_t nrows = 0, nf, ncols = 0, bad = 0;
	char number[65];
	struct rt_csv c;
	char msg[160];

	*createdp = 0;
	for (int i = 0; i < C__N; i++)
		map[i] = -1;
	rt_csv_init(&c, csv, len);
	e = rt_csv_next(&c, f, RT_ARRAY_SIZE(f), &nf);
	if (e != 1) {
		add_error(errors, 1, "number",
			  e == 0 ? "the file is empty: the first line must "
				   "name the columns"
				 : "the header line is not valid CSV");
		err = e == ENOMEM ? ENOMEM : EINVAL;
		goto out;
	}
	ncols = nf;
	if (nf > RT_ARRAY_SIZE(f)) {
		add_error(errors, 1, "header", "too many columns");
		bad++;
	}
	for (size_t i = 0; i < nf && i < RT_ARRAY_SIZE(f); i++) {
		char name[32];
		int k;

		rt_strlcpy(name, f[i], sizeof(name));
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (k = 0; k < C__N && strcmp(name, col_names[k]); k++)
			;
		if (k == C__N || map[k] >= 0) {
			snprintf(msg, sizeof(msg), "%s column '%.24s'",
				 k == C__N ? "unknown" : "repeated", f[i]);
			add_error(errors, 1, "header", msg);
			bad++;
			continue;
		}
		map[k] = (int)i;
	}
	if (map[C_NUMBER] < 0) {
		add_error(errors, 1, "header", "no 'number' column");
		bad++;
	}
	if (bad) {
		err = EINVAL;
		goto out;
	}

	while ((e = rt_csv_next(&c, f, RT_ARRAY_SIZE(f), &nf)) == 1) {
		struct row *r, *grown;
		const char *v[C__N];

		if (nrows >= RT_DNI_IMPORT_MAX) {
			snprintf(msg, sizeof(msg),
				 "more than %d rows: split the file",
				 RT_DNI_IMPORT_MAX);
			add_error(errors, c.line, "number", msg);
			err = EINVAL;
			goto out;
		}
		grown = realloc(rows, (nrows + 1) * sizeof(*rows));
		if (!grown) {
			err = ENOMEM;
			goto out;
		}
		rows = grown;
		r = &rows[nrows++];
		memset(r, 0, sizeof(*r));
		r->line = c.line;
		for (int k = 0; k < C__N; k++)
			v[k] = map[k] >= 0 && (size_t)map[k] < nf ? f[map[k]]
								  : "";
		r->n.account_id = account_id;
		field = row_fields(&r->n, v);
		if (!field && !set_field(number, sizeof(number), v[C_NUMBER]))
			field = "number";
		if (nf > ncols) {
			snprintf(msg, sizeof(msg),
				 "the row has %zu cells for %zu columns", nf,
				 ncols);
			add_error(errors, r->line, "number", msg);
			bad++;
		} else if (field) {
			snprintf(msg, sizeof(msg), "'%s' is too long", field);
			add_error(errors, r->line, field, msg);
			bad++;
		} else if (rt_dni_number_check(&r->n, number, country, &field,
					       msg, sizeof(msg))) {
			add_error(errors, r->line, field, msg);
			bad++;
		}
	}
	if (e == ENOMEM) {
		err = ENOMEM;
		goto out;
	}
	if (e) {
		/* Where the broken record starts, not where the file ends. */
		add_error(errors, c.line, "number",
			  "a quoted field is not closed, or text follows its "
			  "closing quote");
		bad++;
	}

	/* The same number twice in the file, or already in an inventory. */
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), by_e164);
	for (size_t i = 0; i < nrows; i++) {
		struct rt_number cur;

		if (!rows[i].n.e164[0])
			continue;
		if (i > 0 && strcmp(rows[i].n.e164, rows[i - 1].n.e164) == 0) {
			snprintf(msg, sizeof(msg), "%s is also on line %u",
				 rows[i].n.e164, rows[i - 1].line);
			add_error(errors, rows[i].line, "number", msg);
			bad++;
			continue;
		}
		e = rt_store_number_by_e164(tx, rows[i].n.e164, &cur);
		if (e == 0) {
			snprintf(msg, sizeof(msg),
				 "%s is already in a number inventory",
				 rows[i].n.e164);
			add_error(errors, rows[i].line, "number", msg);
			bad++;
		} else if (e != ENOENT) {
			err = e;
			goto out;
		}
	}
	if (bad) {
		sort_errors(errors);
		err = EINVAL;
		goto out;
	}
	/* Written in the file's order, so ids follow its lines. */
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), by_line);
	for (size_t i = 0; i < nrows; i++) {
		err = rt_store_number_create(tx, scope, &rows[i].n);
		if (err)
			goto out;
		(*createdp)++;
	}
out:
	rt_csv_release(&c);
	free(rows);
	return err;
}
