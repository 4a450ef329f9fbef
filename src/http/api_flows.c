/*
 * /v1/flows: call flows (docs/flows.md).  A save checks the document with
 * the engine's own compiler (src/flow) and stores it as a new version; a
 * flow that does not compile gets 422 with every problem, each naming its
 * step and field, so the editor can mark them all.  simulate walks a
 * version for a caller, a time and an attribution without a call.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "http/http_int.h"
#include "util/phone.h"

static json_t *problems_json(const struct rt_flow_problem *p, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a,
				      json_pack("{s:o,s:s,s:s}", "step",
						rt_json_str_or_null(p[i].step),
						"field", p[i].field, "message",
						p[i].message));
	return a;
}

/* 422 with every problem; the first names the field in the usual error
 * shape ("flow.steps.<id>.<field>"). */
static void send_problems(struct rt_req *r, const struct rt_flow_problems *pr)
{
	const struct rt_flow_problem *p = &pr->p[0];
	char field[200];
	json_t *e;

	if (p->step[0])
		snprintf(field, sizeof(field), "flow.steps.%s%s%s", p->step,
			 p->field[0] ? "." : "", p->field);
	else
		snprintf(field, sizeof(field), "flow%s%s",
			 p->field[0] ? "." : "", p->field);
	e = json_pack("{s:s,s:s,s:s,s:o,s:o}", "code", "invalid_flow", "field",
		      field, "message", p->message, "problems",
		      problems_json(pr->p, pr->n), "warnings",
		      problems_json(pr->w, pr->nwarnings));
	rt_http_json(r, 422, e ? json_pack("{s:o}", "error", e) : NULL);
}

static json_t *flow_json(const struct rt_flow_row *f, json_t *doc)
{
	json_t *j =
		json_pack("{s:I,s:I,s:s,s:I,s:I,s:I,s:o,s:o}", "id",
			  (json_int_t)f->id, "account_id",
			  (json_int_t)f->account_id, "name", f->name, "version",
			  (json_int_t)f->version, "numbers",
			  (json_int_t)f->numbers, "pools", (json_int_t)f->pools,
			  "created_at", rt_json_time(f->created_at),
			  "updated_at", rt_json_time(f->updated_at));

	if (j && doc)
		json_object_set_new(j, "flow", doc);
	else
		json_decref(doc);
	return j;
}

/* The body's flow, compiled to check it: 0 with *fp (the caller's
 * reference), or the answer sent. */
static int check_flow(struct rt_req *r, const json_t *doc,
		      struct rt_flow_problems *pr, json_t **warnings,
		      struct rt_flow **fp)
{
	struct rt_flow *f = NULL;
	int err = rt_flow_compile(doc, &f, pr);

	if (err == EINVAL) {
		send_problems(r, pr);
		return err;
	}
	if (err) {
		rt_http_fail(r, err, "checking a flow");
		return err;
	}
	*fp = f;
	if (warnings)
		*warnings = problems_json(pr->w, pr->nwarnings);
	return 0;
}

/*
 * The audio files a flow's prompts play must be the account's own
 * (account_id; 0: any account in the caller's scope): 0 with the ids in
 * *idsp (the caller frees; duplicates possible) and *np, or the answer
 * sent: 422 naming each prompt whose file is not, or a store failure.
 */
static int audio_check(struct rt_req *r, struct rt_store_tx *tx,
		       int64_t account_id, struct rt_flow *f, int64_t **idsp,
		       size_t *np)
{
	struct rt_flow_problems *pr = calloc(1, sizeof(*pr));
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int err = pr ? 0 : ENOMEM;

	for (size_t i = 0; !err && i < f->n; i++) {
		struct rt_flow_prompt *p[2];
		const char *field[2];
		size_t k = rt_flow_step_prompts(&f->steps[i], p, field);

		for (size_t j = 0; !err && j < k; j++) {
			struct rt_audio_row a;
			struct rt_flow_problem *x;

			if (!p[j]->audio_id)
				continue;
			err = rt_store_audio_get(tx, rt_req_scope(r),
						 p[j]->audio_id, &a);
			if (!err &&
			    (!account_id || a.account_id == account_id)) {
				if (n == cap) {
					int64_t *m;

					cap = cap ? cap * 2 : 8;
					m = realloc(ids, cap * sizeof(*ids));
					if (!m) {
						err = ENOMEM;
						break;
					}
					ids = m;
				}
				ids[n++] = p[j]->audio_id;
				continue;
			}
			if (err && err != ENOENT)
				break;
			err = 0;
			if (pr->n == RT_FLOW_ERRORS_MAX)
				continue;
			x = &pr->p[pr->n++];
			rt_strlcpy(x->step, f->steps[i].id, sizeof(x->step));
			snprintf(x->field, sizeof(x->field), "%s.audio_id",
				 field[j]);
			snprintf(x->message, sizeof(x->message),
				 "'audio_id' %lld is not an audio file of the "
				 "flow's account: upload it first "
				 "(POST /v1/audio)",
				 (long long)p[j]->audio_id);
		}
	}
	if (!err && pr->n) {
		send_problems(r, pr);
		err = EINVAL;
	} else if (err) {
		rt_http_fail(r, err, "checking a flow's audio files");
	}
	free(pr);
	if (err) {
		free(ids);
		return err;
	}
	*idsp = ids;
	*np = n;
	return 0;
}

/* The route table's body check runs the document through the compiler
 * too, as the handler does (which then answers with every problem). */
static int doc_ok(const json_t *b, struct rt_http_err *e)
{
	const json_t *doc = json_object_get(b, "flow");
	struct rt_flow_problems *pr;
	struct rt_flow *f = NULL;
	int err;

	if (!json_is_object(doc))
		return 0;
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		rt_http_err_set(e, 503, "unavailable", NULL, "out of memory");
		return ENOMEM;
	}
	err = rt_flow_compile(doc, &f, pr);
	rt_flow_unref(f);
	if (err == EINVAL)
		rt_http_err_set(e, 422, "invalid_flow", "flow", "%s",
				pr->p[0].message);
	else if (err)
		rt_http_err_set(e, 503, "unavailable", NULL, "out of memory");
	free(pr);
	return err;
}

static const struct rt_field create_fields[] = {
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"name", RT_F_STRING, RT_F_REQUIRED, 200},
	{"flow", RT_F_OBJECT, RT_F_REQUIRED, 0},
};

static int create_parse(const json_t *b, int *unused, struct rt_http_err *e)
{
	(void)unused;
	if (rt_http_check_fields(b, create_fields, RT_ARRAY_SIZE(create_fields),
				 e))
		return EINVAL;
	if (rt_json_has(b, "account_id") &&
	    rt_json_int(b, "account_id", 0) <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	if (!*rt_json_str(b, "name")) {
		rt_http_err_set(e, 422, "invalid_field", "name",
				"'name' must not be empty");
		return EINVAL;
	}
	return 0;
}
static int create_check(const json_t *b, int *unused, struct rt_http_err *e)
{
	return create_parse(b, unused, e) || doc_ok(b, e) ? EINVAL : 0;
}
RT_API_BODY_CHECK(flows_create, int, create_check)

static const struct rt_field update_fields[] = {
	{"name", RT_F_STRING, 0, 200},
	{"flow", RT_F_OBJECT, 0, 0},
};

static int update_parse(const json_t *b, int *unused, struct rt_http_err *e)
{
	(void)unused;
	if (rt_http_check_fields(b, update_fields, RT_ARRAY_SIZE(update_fields),
				 e))
		return EINVAL;
	if (json_object_size(b) == 0) {
		rt_http_err_set(e, 400, "missing_field", NULL,
				"send 'name', 'flow' or both");
		return EINVAL;
	}
	if (rt_json_has(b, "name") && !*rt_json_str(b, "name")) {
		rt_http_err_set(e, 422, "invalid_field", "name",
				"'name' must not be empty");
		return EINVAL;
	}
	return 0;
}
static int update_check(const json_t *b, int *unused, struct rt_http_err *e)
{
	return update_parse(b, unused, e) || doc_ok(b, e) ? EINVAL : 0;
}
RT_API_BODY_CHECK(flows_update, int, update_check)

static int64_t user_of(const struct rt_req *r)
{
	return r->principal.kind == RT_PRINCIPAL_USER ? r->principal.id : 0;
}

/* Audits, commits and answers with the flow and its latest document. */
static void finish(struct rt_req *r, struct rt_store_tx *tx, int err,
		   const struct rt_flow_row *f, const char *action, int status,
		   json_t *doc, json_t *warnings)
{
	json_t *details = json_pack("{s:s,s:I}", "name", f->name, "version",
				    (json_int_t)f->version);
	json_t *out;

	if (!err)
		err = rt_http_audit(r, tx, f->account_id, action, "flow", f->id,
				    details);
	else
		json_decref(details);
	if (err) {
		rt_store_rollback(tx);
		json_decref(warnings);
		if (err == ENOTEMPTY)
			rt_http_error(r, 409, "in_use", NULL,
				      "numbers or pools use this flow: give "
				      "them another first");
		else
			rt_http_fail(r, err, action);
		return;
	}
	if (rt_http_commit(r, tx)) {
		json_decref(warnings);
		return;
	}
	if (status == 204) {
		json_decref(warnings);
		rt_http_body(r, 204, "", NULL, 0);
		return;
	}
	out = flow_json(f, doc ? json_deep_copy(doc) : NULL);
	if (out && warnings)
		json_object_set_new(out, "warnings", warnings);
	else
		json_decref(warnings);
	rt_http_json(r, status, out);
}

void rt_api_flows_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_flow_problems pr;
	struct rt_flow_row f = {0};
	struct rt_store_tx *tx;
	struct rt_flow *compiled = NULL;
	json_t *doc, *warnings = NULL;
	int64_t *audio = NULL;
	size_t naudio = 0;
	char *text;
	int err;

	if (create_parse(r->json, NULL, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	doc = json_object_get(r->json, "flow");
	if (check_flow(r, doc, &pr, &warnings, &compiled))
		return;
	f.account_id = rt_json_int(r->json, "account_id", 0);
	if (!f.account_id)
		f.account_id = rt_req_scope(r);
	rt_strlcpy(f.name, rt_json_str(r->json, "name"), sizeof(f.name));
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		rt_http_fail(r, ENOMEM, "saving a flow");
		goto out;
	}
	if (rt_http_begin(r, true, &tx))
		goto out;
	err = rt_store_account_in_scope(tx, rt_req_scope(r), f.account_id);
	if (!err &&
	    audio_check(r, tx, f.account_id, compiled, &audio, &naudio)) {
		rt_store_rollback(tx);
		goto out;
	}
	if (!err)
		err = rt_store_flow_create(tx, rt_req_scope(r), &f, text,
					   user_of(r));
	if (err == ENOENT) {
		rt_store_rollback(tx);
		rt_http_error(r, 404, "not_found", "account_id",
			      "no such account");
		goto out;
	}
	if (!err)
		err = rt_store_flow_audio_set(tx, f.id, audio, naudio);
	finish(r, tx, err, &f, "flow.create", 201, doc, warnings);
	warnings = NULL; /* finish's */
out:
	rt_flow_unref(compiled);
	free(audio);
	free(text);
	json_decref(warnings);
}

void rt_api_flows_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_flow_problems pr;
	struct rt_flow_row f = {0};
	struct rt_store_tx *tx;
	struct rt_flow *compiled = NULL;
	json_t *doc, *warnings = NULL;
	int64_t *audio = NULL;
	size_t naudio = 0;
	char *text = NULL;
	int err;

	if (update_parse(r->json, NULL, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	doc = json_object_get(r->json, "flow");
	if (doc && check_flow(r, doc, &pr, &warnings, &compiled))
		return;
	if (doc) {
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!text) {
			rt_http_fail(r, ENOMEM, "saving a flow");
			goto out;
		}
	}
	if (rt_http_begin(r, true, &tx))
		goto out;
	/* The audio files must be the flow's own account's. */
	err = compiled ? rt_store_flow_get(tx, rt_req_scope(r), r->id, &f) : 0;
	if (!err && compiled &&
	    audio_check(r, tx, f.account_id, compiled, &audio, &naudio)) {
		rt_store_rollback(tx);
		goto out;
	}
	if (!err)
		err = rt_store_flow_update(tx, rt_req_scope(r), r->id,
					   rt_json_str(r->json, "name"), text,
					   user_of(r), &f);
	if (!err && compiled)
		err = rt_store_flow_audio_set(tx, f.id, audio, naudio);
	finish(r, tx, err, &f, "flow.update", 200, doc, warnings);
	warnings = NULL; /* finish's */
out:
	rt_flow_unref(compiled);
	free(audio);
	free(text);
	json_decref(warnings);
}

void rt_api_flows_delete(struct rt_req *r)
{
	struct rt_flow_row f = {0};
	struct rt_store_tx *tx;
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_flow_get(tx, rt_req_scope(r), r->id, &f);
	if (!err)
		err = rt_store_flow_delete(tx, rt_req_scope(r), r->id);
	finish(r, tx, err, &f, "flow.delete", 204, NULL, NULL);
}

/* ?version=N (default the latest). */
static int version_param(struct rt_req *r, int64_t *vp)
{
	return rt_http_query_id(r, "version", vp);
}

/* Reads a flow and the document of a version; on failure answers. */
static int read_flow(struct rt_req *r, int64_t version, struct rt_flow_row *f,
		     json_t **docp)
{
	struct rt_store_tx *tx;
	json_error_t je;
	char *text = NULL;
	int err;

	if (rt_http_begin(r, false, &tx))
		return EIO;
	err = rt_store_flow_get(tx, rt_req_scope(r), r->id, f);
	if (!err)
		err = rt_store_flow_doc(tx, rt_req_scope(r), r->id, version,
					&text);
	rt_store_rollback(tx);
	if (err == ENOENT && version && f->id) {
		rt_http_error(r, 404, "not_found", "version",
			      "flow %lld has no version %lld", (long long)r->id,
			      (long long)version);
		return err;
	}
	if (err) {
		rt_http_fail(r, err, "reading a flow");
		return err;
	}
	*docp = json_loads(text, 0, &je);
	free(text);
	if (!*docp) {
		rt_http_fail(r, EIO, "reading a flow");
		return EIO;
	}
	return 0;
}

void rt_api_flows_get(struct rt_req *r)
{
	struct rt_flow_row f = {0};
	int64_t version;
	json_t *doc, *out;

	if (version_param(r, &version) || read_flow(r, version, &f, &doc))
		return;
	out = flow_json(&f, doc);
	if (out && version)
		json_object_set_new(out, "version", json_integer(version));
	if (out)
		json_object_set_new(out, "latest_version",
				    json_integer(f.version));
	rt_http_json(r, 200, out);
}

static int flow_row(const struct rt_flow_row *f, void *arg)
{
	return rt_list_add(arg, f->id, flow_json(f, NULL));
}

RT_API_LIST(flows, rt_store_flow_list, flow_row, "listing flows")

static int version_row(const struct rt_flow_version *v, void *arg)
{
	json_t *a = arg;

	return json_array_append_new(
		       a, json_pack("{s:I,s:o,s:o}", "version",
				    (json_int_t)v->version, "created_at",
				    rt_json_time(v->created_at), "created_by",
				    v->created_by ? json_integer(v->created_by)
						  : json_null()))
		       ? ENOMEM
		       : 0;
}

void rt_api_flows_versions(struct rt_req *r)
{
	struct rt_store_tx *tx;
	json_t *a = json_array();
	int err;

	if (!a) {
		rt_http_fail(r, ENOMEM, "listing flow versions");
		return;
	}
	if (rt_http_begin(r, false, &tx)) {
		json_decref(a);
		return;
	}
	err = rt_store_flow_versions(tx, rt_req_scope(r), r->id, version_row,
				     a);
	rt_store_rollback(tx);
	if (err) {
		json_decref(a);
		rt_http_fail(r, err, "listing flow versions");
		return;
	}
	rt_http_json(r, 200, json_pack("{s:o}", "data", a));
}

/* ---- validate and simulate ----------------------------------------------- */

static const struct rt_field validate_fields[] = {
	{"flow", RT_F_OBJECT, RT_F_REQUIRED, 0},
};

static int validate_parse(const json_t *b, int *unused, struct rt_http_err *e)
{
	(void)unused;
	if (rt_http_check_fields(b, validate_fields,
				 RT_ARRAY_SIZE(validate_fields), e))
		return EINVAL;
	return 0;
}
static int validate_check(const json_t *b, int *unused, struct rt_http_err *e)
{
	return validate_parse(b, unused, e) || doc_ok(b, e) ? EINVAL : 0;
}
RT_API_BODY_CHECK(flows_validate, int, validate_check)

/* 200 {"valid": true, "warnings": [...]} or the 422 of a save.  Audio
 * files must be in the caller's scope (a save also wants them in the
 * flow's own account). */
void rt_api_flows_validate(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_flow_problems pr;
	struct rt_store_tx *tx;
	struct rt_flow *f = NULL;
	json_t *warnings = NULL;
	int64_t *audio = NULL;
	size_t naudio = 0;
	int err;

	if (validate_parse(r->json, NULL, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (check_flow(r, json_object_get(r->json, "flow"), &pr, &warnings, &f))
		return;
	if (rt_http_begin(r, false, &tx)) {
		rt_flow_unref(f);
		json_decref(warnings);
		return;
	}
	err = audio_check(r, tx, 0, f, &audio, &naudio);
	rt_store_rollback(tx);
	rt_flow_unref(f);
	free(audio);
	if (err) {
		json_decref(warnings);
		return;
	}
	rt_http_json(r, 200,
		     json_pack("{s:b,s:o}", "valid", 1, "warnings", warnings));
}

static const char *const attribution_keys[] = {
	"channel", "source",	 "medium",	 "campaign",
	"keyword", "confidence", "landing_page",
};
static const int attribution_facts[] = {
	RT_FACT_CHANNEL,      RT_FACT_SOURCE,  RT_FACT_MEDIUM,
	RT_FACT_CAMPAIGN,     RT_FACT_KEYWORD, RT_FACT_CONFIDENCE,
	RT_FACT_LANDING_PAGE,
};

static const struct rt_field simulate_fields[] = {
	{"caller", RT_F_STRING, RT_F_NULLABLE, 32},
	{"at", RT_F_TIME, RT_F_NULLABLE, 0},
	{"attribution", RT_F_OBJECT, RT_F_NULLABLE, 0},
	{"tracking_number", RT_F_STRING, RT_F_NULLABLE, 32},
	{"number_name", RT_F_STRING, RT_F_NULLABLE, 200},
	{"digits", RT_F_STRING, RT_F_NULLABLE, 32},
	{"dial", RT_F_STRINGS, RT_F_NULLABLE, 50},
	{"version", RT_F_INT, RT_F_NULLABLE, 0},
};

static int simulate_parse(const json_t *b, int *unused, struct rt_http_err *e)
{
	const json_t *a = json_object_get(b, "attribution");
	const json_t *d = json_object_get(b, "dial");
	const char *digits, *k;
	json_t *v;
	size_t i;

	(void)unused;
	if (rt_http_check_fields(b, simulate_fields,
				 RT_ARRAY_SIZE(simulate_fields), e))
		return EINVAL;
	if (a && !json_is_null(a)) {
		if (!json_is_object(a)) {
			rt_http_err_set(e, 400, "invalid_field", "attribution",
					"'attribution' must be an object");
			return EINVAL;
		}
		json_object_foreach ((json_t *)(uintptr_t)a, k, v) {
			bool known = false;
			char f[64];

			for (i = 0; i < RT_ARRAY_SIZE(attribution_keys); i++)
				known = known ||
					strcmp(attribution_keys[i], k) == 0;
			snprintf(f, sizeof(f), "attribution.%.40s", k);
			if (!known) {
				rt_http_err_set(e, 400, "unknown_field", f,
						"unknown attribution field "
						"'%.40s'",
						k);
				return EINVAL;
			}
			if (!json_is_string(v) && !json_is_null(v)) {
				rt_http_err_set(e, 400, "invalid_field", f,
						"'%.40s' must be a string", k);
				return EINVAL;
			}
		}
	}
	digits = rt_json_str(b, "digits");
	if (digits && strspn(digits, "0123456789*#") != strlen(digits)) {
		rt_http_err_set(e, 422, "invalid_field", "digits",
				"'digits' holds only 0-9, * and #: one for "
				"each time a menu waits for a key");
		return EINVAL;
	}
	if (d && !json_is_null(d)) {
		if (!json_is_array(d) || json_array_size(d) > 50) {
			rt_http_err_set(e, 400, "invalid_field", "dial",
					"'dial' must be a list of up to 50 "
					"outcomes");
			return EINVAL;
		}
		json_array_foreach ((json_t *)(uintptr_t)d, i, v) {
			enum rt_flow_dial_result res;

			if (rt_flow_dial_result_parse(json_string_value(v),
						      &res)) {
				rt_http_err_set(
					e, 422, "invalid_field", "dial",
					"dial[%zu] is answered, no_answer, "
					"busy or failed",
					i);
				return EINVAL;
			}
		}
	}
	if (rt_json_has(b, "version") && rt_json_int(b, "version", 0) <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "version",
				"'version' must be a positive version number");
		return EINVAL;
	}
	if (rt_json_has(b, "caller")) {
		struct rt_phone ph;

		if (rt_phone_parse(rt_json_str(b, "caller"), NULL, &ph)) {
			rt_http_err_set(e, 422, "invalid_field", "caller",
					"'caller' must be a phone number in "
					"E.164 form (\"+14155550100\"), or "
					"null for a withheld caller");
			return EINVAL;
		}
	}
	return 0;
}
RT_API_BODY_CHECK(flows_simulate, int, simulate_parse)

/* Simulated round robin: every target in order from the first. */
static json_t *action_json(const struct rt_flow_action *a)
{
	json_t *j = json_object();

	if (!j)
		return NULL;
	switch (a->kind) {
	case RT_ACT_PLAY:
	case RT_ACT_MENU:
	case RT_ACT_VOICEMAIL:
		if (a->prompt && a->prompt->text)
			json_object_set_new(j, "say",
					    json_string(a->prompt->text));
		else if (a->prompt)
			json_object_set_new(j, "audio_id",
					    json_integer(a->prompt->audio_id));
		break;
	case RT_ACT_DIAL: {
		json_t *t = json_array();

		for (size_t i = 0; t && i < a->norder; i++) {
			const struct rt_flow_target *g = a->order[i];

			json_array_append_new(
				t, g->kind == RT_TARGET_USER
					   ? json_pack("{s:I,s:i}", "user_id",
						       (json_int_t)g->user_id,
						       "ring_s", (int)g->ring_s)
					   : json_pack("{s:s,s:s,s:i}", "kind",
						       g->kind == RT_TARGET_URI
							       ? "uri"
							       : "number",
						       "to", g->value, "ring_s",
						       (int)g->ring_s));
		}
		json_object_set_new(j, "ring", t);
		if (a->whisper[0])
			json_object_set_new(j, "whisper",
					    json_pack("{s:s,s:b}", "say",
						      a->whisper, "accept",
						      a->whisper_accept));
		break;
	}
	default:
		break;
	}
	return j;
}

void rt_api_flows_simulate(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_flow_problems pr;
	struct rt_flow_row fr = {0};
	struct rt_flow_facts facts = {0};
	struct rt_flow_run run;
	const struct rt_flow_action *act;
	struct rt_flow *f = NULL;
	struct rt_account acct;
	struct rt_store_tx *tx;
	const json_t *a, *dial;
	const char *digits;
	char area[8] = "", region[8] = "", location[96] = "";
	int64_t at, version;
	size_t ndial = 0, di = 0;
	json_t *doc = NULL, *path, *out, *v;
	struct rt_phone ph;
	int err;

	if (simulate_parse(r->json, NULL, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	version = rt_json_int(r->json, "version", 0);
	if (read_flow(r, version, &fr, &doc))
		return;
	err = rt_flow_compile(doc, &f, &pr);
	json_decref(doc);
	if (err) {
		rt_http_fail(r, err == EINVAL ? EIO : err, "compiling a flow");
		return;
	}
	if (rt_http_begin(r, false, &tx)) {
		rt_flow_unref(f);
		return;
	}
	err = rt_store_account_get(tx, rt_req_scope(r), fr.account_id, &acct);
	rt_store_rollback(tx);
	if (err) {
		rt_flow_unref(f);
		rt_http_fail(r, err, "reading the flow's account");
		return;
	}

	/* the facts, as a live call would have them */
	facts.tz = acct.time_zone;
	facts.disclosure_on = acct.recording_disclosure;
	if (rt_json_has(r->json, "caller") &&
	    !rt_phone_parse(rt_json_str(r->json, "caller"), NULL, &ph)) {
		rt_phone_area(ph.e164, area, sizeof(area), region,
			      sizeof(region));
		rt_phone_region_name(ph.e164, location, sizeof(location));
		facts.v[RT_FACT_CALLER] = ph.e164;
		facts.v[RT_FACT_COUNTRY] = ph.region;
		facts.v[RT_FACT_REGION] = region;
		facts.v[RT_FACT_AREA_CODE] = area;
		facts.v[RT_FACT_CALLER_LOCATION] = location;
	}
	a = json_object_get(r->json, "attribution");
	for (size_t i = 0;
	     json_is_object(a) && i < RT_ARRAY_SIZE(attribution_keys); i++)
		facts.v[attribution_facts[i]] = json_string_value(
			json_object_get(a, attribution_keys[i]));
	facts.v[RT_FACT_TRACKING_NUMBER] =
		rt_json_str(r->json, "tracking_number");
	facts.v[RT_FACT_NUMBER_NAME] = rt_json_str(r->json, "number_name");
	at = rt_json_has(r->json, "at") ? 0 : rt_now_ms();
	if (!at && rt_time_parse(rt_json_str(r->json, "at"), &at))
		at = rt_now_ms();
	digits = rt_json_str(r->json, "digits");
	if (!digits)
		digits = "";
	dial = json_object_get(r->json, "dial");
	ndial = json_is_array(dial) ? json_array_size(dial) : 0;

	path = json_array();
	out = json_object();
	rt_flow_run_start(&run, f, &facts, NULL, NULL, at, &act);
	/* each hop's action, as the engine handed it out */
	while (path && out && !run.ended) {
		enum rt_flow_dial_result res = RT_DIAL_ANSWERED;
		size_t hop = run.npath - 1;
		json_t *aj = action_json(act);

		if (aj) {
			json_object_set_new(aj, "hop",
					    json_integer((json_int_t)hop));
			json_array_append_new(path, aj);
		}
		switch (act->kind) {
		case RT_ACT_MENU:
			if (*digits) {
				rt_flow_run_input(&run, RT_IN_DIGIT, *digits++,
						  0, at, &act);
			} else {
				at += (int64_t)act->timeout_s * 1000;
				rt_flow_run_input(&run, RT_IN_TIMEOUT, 0, 0, at,
						  &act);
			}
			break;
		case RT_ACT_DIAL:
			if (di < ndial)
				rt_flow_dial_result_parse(
					json_string_value(
						json_array_get(dial, di++)),
					&res);
			rt_flow_run_input(&run, RT_IN_DIAL, 0, res, at, &act);
			break;
		default:
			rt_flow_run_input(&run, RT_IN_DONE, 0, 0, at, &act);
			break;
		}
	}
	/* the path: hops with the actions merged in */
	{
		json_t *hops = json_array();

		for (size_t i = 0; hops && i < run.npath; i++) {
			const struct rt_flow_hop *h = &run.path[i];
			const struct rt_flow_step *s = &f->steps[h->step];
			json_t *hj = json_pack("{s:s,s:s,s:o,s:o,s:o}", "step",
					       s->id, "type",
					       rt_flow_type_name(s->type), "at",
					       rt_json_time(h->at_ms), "exit",
					       rt_json_str_or_null(h->exit),
					       "detail",
					       rt_json_str_or_null(h->detail));
			size_t j;

			json_array_foreach (path, j, v) {
				if (json_integer_value(
					    json_object_get(v, "hop")) ==
				    (json_int_t)i) {
					json_object_del(v, "hop");
					json_object_set(hj, "action", v);
					break;
				}
			}
			json_array_append_new(hops, hj);
		}
		json_object_set_new(out, "path", hops);
	}
	json_decref(path);
	{
		json_t *tags = json_array(), *fields = json_object();

		for (size_t i = 0; tags && i < run.ntags; i++)
			json_array_append_new(tags, json_string(run.tags[i]));
		for (size_t i = 0; fields && i < run.nfields; i++)
			json_object_set_new(fields, run.keys[i],
					    json_string(run.vals[i]));
		json_object_set_new(out, "tags", tags);
		json_object_set_new(out, "fields", fields);
	}
	json_object_set_new(out, "flow_id", json_integer(fr.id));
	json_object_set_new(out, "version",
			    json_integer(version ? version : fr.version));
	json_object_set_new(out, "end", json_string(run.end_reason));
	json_object_set_new(out, "digits", json_string(run.digits));
	json_object_set_new(out, "ivr_ms", json_integer(run.menu_ms));
	json_object_set_new(out, "value",
			    run.has_value ? json_real(run.value) : json_null());
	json_object_set_new(out, "lead",
			    run.has_lead
				    ? json_string(run.qualified ? "qualified"
								: "unqualified")
				    : json_null());
	v = json_object();
	for (int i = 0; v && i < RT_NFACTS; i++)
		if (facts.v[i] && *facts.v[i])
			json_object_set_new(v, rt_flow_fact_name(i),
					    json_string(facts.v[i]));
	json_object_set_new(out, "facts", v);
	rt_flow_run_release(&run);
	rt_flow_unref(f);
	rt_http_json(r, 200, out);
}
