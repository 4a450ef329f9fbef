/*
 * The call service (call.h): the SIP thread's hooks take what must be taken
 * at the moment (an id, the lease engine's answer) from memory and queue
 * it; a writer thread records calls and their events in batches.  A batch
 * that fails is kept, in order, and tried again with backoff, so that a
 * database hiccup loses no call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "call/call.h"
#include "media/record.h"
#include "util/phone.h"

#define RT_LOG_MODULE "call"

/* Changes waiting for the database (about 2 KB each) beyond which new
 * calls are refused (503) rather than taken without a record: at 300
 * calls a second, half a minute of a stalled database.  Events of calls in
 * progress are always queued. */
#define QUEUE_MAX 50000u

enum op_kind { OP_BEGIN, OP_EVENT, OP_RECORDING, OP_COUNTER };

struct op {
	struct op *next;
	enum op_kind kind;
	int64_t call_id;
	/* OP_BEGIN */
	struct rt_call_target target;
	struct rt_lease_who who;
	char sip_call_id[128];
	char dialled[20], caller[20], caller_raw[64];
	char trunk[64], source[64], transport[8];
	char destination[256];
	int64_t at;
	/* OP_BEGIN: the flow it runs */
	int64_t flow_id, flow_version;
	/* OP_EVENT */
	struct rt_sip_event ev;
	bool stopping;
	/* OP_EVENT ENDED of a flow: what the walk gathered (ev.flow is
	 * NULL once queued) */
	bool has_flow;
	char *path;	 /* JSON array of hops, malloc'd */
	char digits[33]; /* also OP_COUNTER's step */
	int64_t ivr_ms;
	char tags[1024], fields[2048];
	bool has_value;
	int64_t value_cents;
	char lead[16];
	/* OP_COUNTER: a round robin's counter (flow_id, digits: the step) */
	int64_t counter;
	/* OP_RECORDING: a file finished or compacted (the recorder's
	 * result, its strings copied); a file to remove once the batch is
	 * committed (the WAV a compaction replaced, or a file of a
	 * recording deleted meanwhile). */
	struct rt_rec_result rec;
	char rec_path[RT_REC_PATH_MAX], rec_old[RT_REC_PATH_MAX];
	char rec_format[8];
	char remove[RT_REC_PATH_MAX];
};

struct rt_calls {
	struct rt_store *store;
	struct rt_call_router *router;
	struct rt_dni *dni;
	struct rt_dni_sites *sites;
	struct rt_calls_conf conf;
	char *rec_dir; /* NULL: calls are not recorded */
	struct rt_recorder *recorder;
	_Atomic int64_t next_id;
	_Atomic bool stopping;

	pthread_mutex_t lock;
	pthread_cond_t wake, written;
	struct op *head, **tail;
	uint64_t enq_seq, done_seq;
	bool stop;
	pthread_t writer;
};

static void enqueue(struct rt_calls *c, struct op *o)
{
	pthread_mutex_lock(&c->lock);
	o->next = NULL;
	*c->tail = o;
	c->tail = &o->next;
	c->enq_seq++;
	pthread_mutex_unlock(&c->lock);
}

/* ---- the hooks (SIP thread: memory only) --------------------------------- */

/* A pool number's call: the facts of the session that held the number
 * (the most recent one when it was shared), from the DNI's memory. */
static void pool_facts(struct rt_calls *c, const struct rt_lease_who *w,
		       struct rt_sip_route *out)
{
	char(*v)[128] = out->facts;
	struct rt_dni_facts f;

	rt_strlcpy(v[RT_FACT_CONFIDENCE],
		   rt_lease_confidence_name(w->confidence), sizeof(v[0]));
	if (!w->n || !c->dni ||
	    rt_dni_session_facts(c->dni, w->sessions[0], &f) != 0)
		return;
	rt_strlcpy(v[RT_FACT_CHANNEL], f.channel, sizeof(v[0]));
	rt_strlcpy(v[RT_FACT_SOURCE], f.source, sizeof(v[0]));
	rt_strlcpy(v[RT_FACT_MEDIUM], f.medium, sizeof(v[0]));
	rt_strlcpy(v[RT_FACT_CAMPAIGN], f.campaign, sizeof(v[0]));
	rt_strlcpy(v[RT_FACT_KEYWORD], f.keyword, sizeof(v[0]));
	rt_strlcpy(v[RT_FACT_LANDING_PAGE], f.landing_page, sizeof(v[0]));
}

void rt_calls_route_h(const struct rt_sip_invite *in, struct rt_sip_route *out,
		      void *arg)
{
	struct rt_calls *c = arg;
	struct rt_call_target t;
	uint64_t pending;
	struct op *o;

	if (!rt_call_router_find(c->router, in, out, &t))
		return;
	pthread_mutex_lock(&c->lock);
	pending = c->enq_seq - c->done_seq;
	pthread_mutex_unlock(&c->lock);
	if (pending >= c->conf.queue_max) {
		rt_warn("call refused: call records are not being written",
			"queued=%llu", (unsigned long long)pending);
		out->status = 503;
		rt_strlcpy(out->reason, "call records cannot be written now",
			   sizeof(out->reason));
		return;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		/* Forwarded but not recorded would lose a call: refuse. */
		out->status = 503;
		rt_strlcpy(out->reason, "out of memory", sizeof(out->reason));
		return;
	}
	o->kind = OP_BEGIN;
	o->call_id = out->call_id = atomic_fetch_add(&c->next_id, 1);
	o->target = t;
	o->at = in->at;
	/* Who held the number at the INVITE, asked now: leases move on. */
	if (c->dni && strcmp(t.kind, "pool") == 0)
		rt_lease_who(rt_dni_leases(c->dni), t.number_id, in->at,
			     &o->who);
	rt_strlcpy(o->sip_call_id, in->sip_call_id ? in->sip_call_id : "",
		   sizeof(o->sip_call_id));
	rt_strlcpy(o->dialled, in->dialled, sizeof(o->dialled));
	rt_strlcpy(o->caller, in->caller, sizeof(o->caller));
	rt_strlcpy(o->caller_raw, in->caller_raw, sizeof(o->caller_raw));
	rt_strlcpy(o->trunk, in->trunk ? in->trunk : "", sizeof(o->trunk));
	rt_strlcpy(o->source, in->source, sizeof(o->source));
	rt_strlcpy(o->transport, in->transport ? in->transport : "",
		   sizeof(o->transport));
	rt_strlcpy(o->destination, out->destination, sizeof(o->destination));
	if (out->flow) {
		o->flow_id = out->flow->id;
		o->flow_version = out->flow->version;
		out->record_bridged = t.record;
		if (strcmp(t.kind, "pool") == 0)
			pool_facts(c, &o->who, out);
	}
	/* A flow's voicemail is recorded even where calls are not. */
	if ((t.record || out->flow) && c->recorder)
		rt_calls_recording_path(t.account_id, o->call_id, in->at,
					out->record_path,
					sizeof(out->record_path));
	enqueue(c, o);
	rt_info("call to a tracking number",
		"call=%lld account=%lld number=%lld kind=%s dialled=%s",
		(long long)o->call_id, (long long)t.account_id,
		(long long)t.number_id, t.kind, in->dialled);
}

/* What a flow's run adds to the call, copied out of the SIP side's run. */
static void flow_summary(struct op *o, const struct rt_flow_run *r)
{
	json_t *path = json_array(), *tags = json_array(),
	       *fields = json_object();
	char *t;

	o->has_flow = true;
	for (size_t i = 0; path && i < r->npath; i++) {
		const struct rt_flow_hop *h = &r->path[i];
		const struct rt_flow_step *st = &r->f->steps[h->step];

		json_array_append_new(path,
				      json_pack("{s:s,s:s,s:I,s:s,s:s}", "step",
						st->id, "type",
						rt_flow_type_name(st->type),
						"at", (json_int_t)h->at_ms,
						"exit", h->exit, "detail",
						h->detail));
	}
	o->path = path ? json_dumps(path, JSON_COMPACT) : NULL;
	rt_strlcpy(o->digits, r->digits, sizeof(o->digits));
	o->ivr_ms = r->menu_ms;
	for (size_t i = 0; tags && i < r->ntags; i++)
		json_array_append_new(tags, json_string(r->tags[i]));
	for (size_t i = 0; fields && i < r->nfields; i++)
		json_object_set_new(fields, r->keys[i],
				    json_string(r->vals[i]));
	t = tags && r->ntags ? json_dumps(tags, JSON_COMPACT) : NULL;
	if (t && strlen(t) < sizeof(o->tags))
		rt_strlcpy(o->tags, t, sizeof(o->tags));
	free(t);
	t = fields && r->nfields ? json_dumps(fields, JSON_COMPACT) : NULL;
	if (t && strlen(t) < sizeof(o->fields))
		rt_strlcpy(o->fields, t, sizeof(o->fields));
	free(t);
	o->has_value = r->has_value;
	o->value_cents =
		(int64_t)(r->value * 100 + (r->value < 0 ? -0.5 : 0.5));
	if (r->has_lead)
		rt_strlcpy(o->lead, r->qualified ? "qualified" : "unqualified",
			   sizeof(o->lead));
	json_decref(path);
	json_decref(tags);
	json_decref(fields);
}

void rt_calls_event_h(const struct rt_sip_event *ev, void *arg)
{
	struct rt_calls *c = arg;
	struct op *o = calloc(1, sizeof(*o));
	char q[96];

	/* The timeline in the log too, as it happens. */
	rt_info("call event",
		"call=%lld event=%s side=%s status=%u reason=%s digit=%c",
		(long long)ev->call_id, rt_sip_event_name(ev->kind),
		rt_sip_side_name(ev->side), ev->status,
		rt_log_q(q, sizeof(q), ev->reason),
		ev->digit ? ev->digit : '-');
	if (!o) {
		rt_error("call event lost: out of memory", "call=%lld",
			 (long long)ev->call_id);
		return;
	}
	o->kind = OP_EVENT;
	o->call_id = ev->call_id;
	o->ev = *ev;
	o->ev.flow = NULL;
	o->stopping = atomic_load(&c->stopping);
	if (ev->kind == RT_SIP_EV_ENDED && ev->flow)
		flow_summary(o, ev->flow);
	enqueue(c, o);
}

unsigned rt_calls_rr_h(const struct rt_flow *f, int step, size_t n, void *arg)
{
	struct rt_calls *c = arg;
	const char *id = f->steps[step].id;
	uint64_t next;
	unsigned at = rt_call_router_rr(c->router, f->id, id, n, &next);
	struct op *o = f->id ? calloc(1, sizeof(*o)) : NULL;

	if (o) { /* lost on ENOMEM: memory goes on counting */
		o->kind = OP_COUNTER;
		o->flow_id = f->id;
		rt_strlcpy(o->digits, id, sizeof(o->digits));
		o->counter = (int64_t)next;
		enqueue(c, o);
	}
	return at;
}

/* The recorder's hook (its threads): a file finished or compacted. */
static void recording_done_h(const struct rt_rec_result *r, void *arg)
{
	struct rt_calls *c = arg;
	struct op *o = calloc(1, sizeof(*o));

	if (!o) {
		rt_error("recording result lost: out of memory", "call=%lld",
			 (long long)r->call_id);
		return;
	}
	o->kind = OP_RECORDING;
	o->call_id = r->call_id;
	o->rec = *r;
	rt_strlcpy(o->rec_path, r->path, sizeof(o->rec_path));
	rt_strlcpy(o->rec_old, r->old_path ? r->old_path : "",
		   sizeof(o->rec_old));
	rt_strlcpy(o->rec_format, r->format, sizeof(o->rec_format));
	o->rec.path = o->rec.old_path = o->rec.format = NULL;
	enqueue(c, o);
}

void rt_calls_recording_path(int64_t account_id, int64_t call_id,
			     int64_t started_ms, char *out, size_t size)
{
	time_t t = (time_t)(started_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, size, "%lld/%04d/%02d/%02d/%lld.wav",
		 (long long)account_id, tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, (long long)call_id);
}

/* ---- the writer ------------------------------------------------------------
 */

static const char *side_name(enum rt_sip_side s)
{
	return s == RT_SIP_SIDE_CALLER	 ? "caller"
	       : s == RT_SIP_SIDE_CALLEE ? "callee"
					 : "system";
}

/* The caller's number as the call keeps it: region and line type. */
static void caller_fill(struct rt_call *call, const struct op *o)
{
	struct rt_phone ph;

	rt_strlcpy(call->caller_raw, o->caller_raw, sizeof(call->caller_raw));
	if (!o->caller[0] || rt_phone_parse(o->caller, NULL, &ph))
		return;
	rt_strlcpy(call->caller_number, ph.e164, sizeof(call->caller_number));
	rt_strlcpy(call->caller_country, ph.region,
		   sizeof(call->caller_country));
	rt_strlcpy(call->caller_line_type, rt_phone_type_name(ph.type),
		   sizeof(call->caller_line_type));
	rt_phone_region_name(ph.e164, call->caller_location,
			     sizeof(call->caller_location));
}

static int event_add(struct rt_store_tx *tx, const struct rt_call *call,
		     int64_t at, const char *kind, json_t *detail)
{
	char *d = detail && json_object_size(detail)
			  ? json_dumps(detail, JSON_COMPACT)
			  : NULL;
	int err = rt_store_call_event_add(tx, call->id, call->account_id, at,
					  kind, d);

	free(d);
	json_decref(detail);
	return err;
}

static int apply_begin(struct rt_calls *c, struct rt_store_tx *tx,
		       const struct op *o, struct rt_call *call)
{
	struct rt_number n;
	bool seen = false;
	int err;

	memset(call, 0, sizeof(*call));
	call->id = o->call_id;
	call->account_id = o->target.account_id;
	call->number_id = o->target.number_id;
	rt_strlcpy(call->tracking_number, o->dialled,
		   sizeof(call->tracking_number));
	rt_strlcpy(call->number_kind, o->target.kind,
		   sizeof(call->number_kind));
	caller_fill(call, o);
	rt_strlcpy(call->destination, o->destination,
		   sizeof(call->destination));
	rt_strlcpy(call->trunk, o->trunk, sizeof(call->trunk));
	rt_strlcpy(call->sip_call_id, o->sip_call_id,
		   sizeof(call->sip_call_id));
	call->started_at = call->created_at = call->updated_at = o->at;
	call->flow_id = o->flow_id;
	call->flow_version = o->flow_version;
	rt_strlcpy(call->disposition, "in_progress", sizeof(call->disposition));
	err = rt_store_call_caller_seen(tx, call->account_id,
					call->caller_number, o->at, &seen);
	if (err)
		return err;
	call->first_time = call->caller_number[0] && !seen;
	err = rt_store_number_get(tx, call->account_id, call->number_id, &n);
	if (!err)
		err = rt_call_attribute(tx, c->sites, &n, &o->who,
					c->conf.grace_ms, call);
	else if (err == ENOENT) /* gone since the snapshot: unattributed */
		rt_strlcpy(call->confidence, "none", sizeof(call->confidence));
	if (err && err != ENOENT)
		return err;
	err = rt_store_call_insert(tx, call);
	if (!err && call->dni_session_id)
		err = rt_store_call_pages_copy(tx, call->id, call->account_id,
					       call->dni_session_id,
					       RT_CALL_PAGES_MAX);
	if (!err)
		err = event_add(tx, call, o->at, "invite",
				json_pack("{s:s,s:s,s:s,s:s}", "trunk",
					  o->trunk, "source", o->source,
					  "transport", o->transport,
					  "destination", o->destination));
	return err;
}

/* What an unanswered call's final status says happened. */
static const char *unanswered(const struct op *o)
{
	uint16_t st = o->ev.status;

	if (o->ev.side == RT_SIP_SIDE_SYSTEM && o->stopping)
		return "interrupted";
	if (st == 486 || st == 600 || st == 603)
		return "busy";
	if (st == 480 || st == 408)
		return "no_answer";
	if (st == 487 || o->ev.side == RT_SIP_SIDE_CALLER)
		return "abandoned";
	return "failed";
}

/* The row of a recording that began: in WAV, complete once finished. */
static int recording_begin(struct rt_store_tx *tx, const struct rt_call *call,
			   int64_t at)
{
	struct rt_recording rec = {
		.call_id = call->id,
		.account_id = call->account_id,
		.format = "wav",
		.channels = 2,
		.sample_rate = 8000,
		.created_at = at,
	};
	int err;

	rt_calls_recording_path(call->account_id, call->id, call->started_at,
				rec.path, sizeof(rec.path));
	err = rt_store_recording_insert(tx, &rec);
	return err == EEXIST ? 0 : err; /* a batch tried again */
}

/* A recording's file finished, failed or was compacted. */
static int apply_recording(struct rt_store_tx *tx, struct op *o,
			   struct rt_call *call)
{
	const struct rt_rec_result *res = &o->rec;
	struct rt_recording rec;
	int err = rt_store_call_read(tx, o->call_id, call);

	o->remove[0] = '\0';
	if (!err)
		err = rt_store_recording_get(tx, call->account_id, o->call_id,
					     &rec);
	if (err)
		return err == ENOENT ? 0 : err;
	if (rec.deleted_at) {
		/* Deleted while it was written or compacted: what was
		 * written since goes too. */
		rt_strlcpy(o->remove, o->rec_path, sizeof(o->remove));
		return 0;
	}
	if (res->err && !res->bytes) {
		/* Nothing was recorded (the folder could not be written):
		 * the call has no recording, and its timeline says why. */
		err = rt_store_recording_drop(tx, o->call_id);
		if (!err)
			err = event_add(tx, call, rt_now_ms(),
					"recording_failed",
					json_pack("{s:s}", "reason",
						  strerror(res->err)));
		return err;
	}
	rt_strlcpy(rec.path, o->rec_path, sizeof(rec.path));
	rt_strlcpy(rec.format, o->rec_format, sizeof(rec.format));
	rec.duration_ms = res->duration_ms;
	rec.bytes = res->bytes;
	/* A compacted partial recording stays partial. */
	if (!o->rec_old[0])
		rec.complete = res->complete;
	rec.updated_at = rt_now_ms();
	err = rt_store_recording_update(tx, &rec);
	if (!err && o->rec_old[0])
		rt_strlcpy(o->remove, o->rec_old, sizeof(o->remove));
	return err;
}

static int apply_event(struct rt_store_tx *tx, const struct op *o,
		       struct rt_call *call)
{
	const struct rt_sip_event *ev = &o->ev;
	json_t *detail = json_object();
	char digit[2] = {ev->digit, '\0'};
	int err = rt_store_call_read(tx, o->call_id, call);

	if (err) {
		json_decref(detail);
		return err == ENOENT ? 0 : err; /* its INVITE was not kept */
	}
	call->updated_at = ev->at;
	switch (ev->kind) {
	case RT_SIP_EV_ANSWERED:
		if (!call->answered_at)
			call->answered_at = ev->at;
		if (ev->agent[0]) {
			rt_strlcpy(call->agent, ev->agent, sizeof(call->agent));
			json_object_set_new(detail, "agent",
					    json_string(ev->agent));
		}
		/* fall through */
	case RT_SIP_EV_VOICEMAIL:
		if (ev->recording) {
			err = recording_begin(tx, call, ev->at);
			if (err) {
				json_decref(detail);
				return err;
			}
			json_object_set_new(detail, "recording", json_true());
		}
		break;
	case RT_SIP_EV_DTMF:
		json_object_set_new(detail, "digit", json_string(digit));
		/* fall through */
	case RT_SIP_EV_HOLD:
	case RT_SIP_EV_UNHOLD:
		json_object_set_new(detail, "side",
				    json_string(side_name(ev->side)));
		break;
	case RT_SIP_EV_FLOW_STEP:
		json_object_set_new(detail, "step", json_string(ev->step));
		json_object_set_new(detail, "type", json_string(ev->step_type));
		if (ev->exit[0])
			json_object_set_new(detail, "exit",
					    json_string(ev->exit));
		if (ev->detail[0])
			json_object_set_new(detail, "detail",
					    json_string(ev->detail));
		break;
	case RT_SIP_EV_ENDED:
		call->ended_at = ev->at;
		rt_strlcpy(call->disposition,
			   call->answered_at ? "answered"
			   : ev->voicemail   ? "voicemail"
					     : unanswered(o),
			   sizeof(call->disposition));
		if (o->has_flow) {
			rt_strlcpy(call->ivr_digits, o->digits,
				   sizeof(call->ivr_digits));
			call->ivr_ms = o->ivr_ms;
			rt_strlcpy(call->tags, o->tags, sizeof(call->tags));
			rt_strlcpy(call->fields, o->fields,
				   sizeof(call->fields));
			call->has_value = o->has_value;
			call->value_cents = o->value_cents;
			rt_strlcpy(call->lead, o->lead, sizeof(call->lead));
			err = rt_store_call_path_set(tx, call->id, o->path);
			if (err) {
				json_decref(detail);
				return err;
			}
		}
		rt_strlcpy(call->hangup_side, side_name(ev->side),
			   sizeof(call->hangup_side));
		call->sip_status = ev->status;
		rt_strlcpy(call->sip_reason, ev->reason,
			   sizeof(call->sip_reason));
		call->total_ms = ev->at - call->started_at;
		call->ring_ms =
			(call->answered_at ? call->answered_at : ev->at) -
			call->started_at;
		call->talk_ms =
			call->answered_at ? ev->at - call->answered_at : 0;
		json_object_set_new(detail, "side",
				    json_string(side_name(ev->side)));
		json_object_set_new(detail, "status", json_integer(ev->status));
		if (ev->reason[0])
			json_object_set_new(detail, "reason",
					    json_string(ev->reason));
		json_object_set_new(detail, "rtp_from_caller",
				    json_integer(
					    (json_int_t)ev->rtp_from_caller));
		json_object_set_new(detail, "rtp_from_callee",
				    json_integer(
					    (json_int_t)ev->rtp_from_callee));
		break;
	default:
		break;
	}
	err = rt_store_call_update(tx, call);
	if (!err)
		err = event_add(tx, call, ev->at, rt_sip_event_name(ev->kind),
				detail);
	else
		json_decref(detail);
	return err;
}

static int write_batch(struct rt_calls *c, struct op *ops)
{
	struct rt_call *call;
	struct rt_store_tx *tx;
	int err;

	if (!ops)
		return 0;
	call = malloc(sizeof(*call));
	if (!call)
		return ENOMEM;
	/* A visit's last page views may still be queued: written first, so
	 * that the call copies them. */
	for (struct op *o = ops; o && c->dni; o = o->next) {
		if (o->kind == OP_BEGIN) {
			rt_dni_flush(c->dni, 2000);
			break;
		}
	}
	err = rt_store_begin(c->store, true, &tx);
	if (err)
		goto out;
	for (struct op *o = ops; o && !err; o = o->next) {
		switch (o->kind) {
		case OP_BEGIN:
			err = apply_begin(c, tx, o, call);
			break;
		case OP_EVENT:
			err = apply_event(tx, o, call);
			break;
		case OP_RECORDING:
			err = apply_recording(tx, o, call);
			break;
		case OP_COUNTER:
			err = rt_store_flow_counter_set(tx, o->flow_id,
							o->digits, o->counter);
			break;
		}
	}
	if (err)
		rt_store_rollback(tx);
	else
		err = rt_store_commit(tx);
out:
	free(call);
	return err;
}

/* A recording's file that the committed rows no longer name. */
static void remove_file(struct rt_calls *c, const char *rel)
{
	char *abs = rt_asprintf("%s/%s", c->rec_dir, rel);

	if (abs && unlink(abs) != 0 && errno != ENOENT)
		rt_warn("cannot remove a recording's file",
			"path=%s err=\"%s\"", abs, strerror(errno));
	free(abs);
}

static void *writer_main(void *arg)
{
	struct rt_calls *c = arg;
	uint64_t backoff_ms = 0;

	for (;;) {
		struct timespec until = rt_deadline_ms(
			backoff_ms ? backoff_ms : c->conf.flush_ms);
		struct op *ops;
		uint64_t seq;
		bool stop;
		int err;

		pthread_mutex_lock(&c->lock);
		if (!c->stop)
			pthread_cond_timedwait(&c->wake, &c->lock, &until);
		ops = c->head;
		c->head = NULL;
		c->tail = &c->head;
		seq = c->enq_seq;
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);

		err = write_batch(c, ops);
		if (err) {
			struct op *last = ops;

			rt_error("writing calls failed; will retry",
				 "err=\"%s\"", strerror(err));
			/* Kept, in order, ahead of what came since. */
			pthread_mutex_lock(&c->lock);
			while (last && last->next)
				last = last->next;
			if (last) {
				last->next = c->head;
				if (!c->head)
					c->tail = &last->next;
				c->head = ops;
			}
			pthread_mutex_unlock(&c->lock);
			backoff_ms = backoff_ms ? backoff_ms * 2 : 100;
			if (backoff_ms > 5000)
				backoff_ms = 5000;
			if (stop && backoff_ms >= 1600)
				break; /* stopping: give up after a few tries */
			continue;
		}
		backoff_ms = 0;
		while (ops) {
			struct op *next = ops->next;

			if (ops->kind == OP_RECORDING && ops->remove[0])
				remove_file(c, ops->remove);
			free(ops->path);
			free(ops);
			ops = next;
		}
		pthread_mutex_lock(&c->lock);
		c->done_seq = seq;
		pthread_cond_broadcast(&c->written);
		if (stop && !c->head) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

/* ---- start, flush, stop -----------------------------------------------------
 */

/* A call the crash interrupted ended no earlier than its recording: its
 * end and durations from the audio, when that says more than its events.
 */
static int talk_from_recording(struct rt_store_tx *tx,
			       const struct rt_recording *r)
{
	struct rt_call *call = malloc(sizeof(*call));
	int err = call ? rt_store_call_read(tx, r->call_id, call) : ENOMEM;

	if (!err && strcmp(call->disposition, "interrupted") == 0 &&
	    call->answered_at &&
	    call->answered_at + r->duration_ms > call->ended_at) {
		call->ended_at = call->answered_at + r->duration_ms;
		call->talk_ms = r->duration_ms;
		call->total_ms = call->ended_at - call->started_at;
		call->updated_at = rt_now_ms();
		err = rt_store_call_update(tx, call);
	}
	free(call);
	return err == ENOENT ? 0 : err;
}

struct wav_rows {
	struct rt_recording *r;
	size_t n, cap;
};

static int wav_row(const struct rt_recording *r, void *arg)
{
	struct wav_rows *w = arg;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct rt_recording *x = realloc(w->r, cap * sizeof(*x));

		if (!x)
			return ENOMEM;
		w->r = x;
		w->cap = cap;
	}
	w->r[w->n++] = *r;
	return 0;
}

/*
 * What a crash or a stop left in WAV: a recording still open (no size yet)
 * gets its header repaired and its duration and size written (complete
 * stays false); then, with the opus format, every WAV is queued for
 * compaction.  Before the SIP thread starts: no recording is open.
 */
static int recordings_recover(struct rt_calls *c)
{
	struct wav_rows w = {0};
	struct rt_store_tx *tx;
	size_t repaired = 0;
	int err = rt_store_begin(c->store, true, &tx);

	if (err)
		return err;
	err = rt_store_recordings_wav(tx, wav_row, &w);
	for (size_t i = 0; i < w.n && !err; i++) {
		struct rt_recording *r = &w.r[i];
		char *abs;
		int rerr;

		if (r->complete || r->bytes)
			continue;
		abs = rt_asprintf("%s/%s", c->rec_dir, r->path);
		if (!abs) {
			err = ENOMEM;
			break;
		}
		rerr = rt_rec_repair(abs, &r->duration_ms, &r->bytes);
		if (rerr == ENOENT) {
			/* Its file was never opened. */
			err = rt_store_recording_drop(tx, r->call_id);
			r->path[0] = '\0';
		} else if (rerr) {
			rt_warn("cannot repair a recording",
				"path=%s err=\"%s\"", abs, strerror(rerr));
			r->path[0] = '\0';
		} else {
			r->updated_at = rt_now_ms();
			err = rt_store_recording_update(tx, r);
			if (!err)
				err = talk_from_recording(tx, r);
			repaired++;
		}
		free(abs);
	}
	if (err)
		rt_store_rollback(tx);
	else
		err = rt_store_commit(tx);
	if (!err && repaired)
		rt_warn("recordings left open by a stop were repaired",
			"recordings=%zu", repaired);
	for (size_t i = 0; i < w.n && !err && c->conf.recording_opus; i++) {
		if (w.r[i].path[0])
			rt_recorder_compact(c->recorder, w.r[i].call_id,
					    w.r[i].path);
	}
	free(w.r);
	return err;
}

struct rt_recorder *rt_calls_recorder(struct rt_calls *c)
{
	return c ? c->recorder : NULL;
}

int rt_calls_start(struct rt_calls **cp, struct rt_store *store,
		   struct rt_call_router *router, struct rt_dni *dni,
		   const struct rt_calls_conf *conf)
{
	struct rt_calls *c = calloc(1, sizeof(*c));
	struct rt_store_tx *tx;
	int64_t next = 1;
	int err;

	if (!c)
		return ENOMEM;
	c->store = store;
	c->router = router;
	c->dni = dni;
	c->conf = *conf;
	if (!c->conf.flush_ms)
		c->conf.flush_ms = 100;
	if (!c->conf.queue_max)
		c->conf.queue_max = QUEUE_MAX;
	c->tail = &c->head;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->written, NULL);
	err = rt_dni_sites_load(&c->sites);
	if (!err)
		err = rt_store_begin(store, false, &tx);
	if (!err) {
		err = rt_store_call_next_id(tx, &next);
		rt_store_rollback(tx);
	}
	atomic_init(&c->next_id, next);
	if (!err)
		err = pthread_create(&c->writer, NULL, writer_main, c);
	if (err) {
		rt_dni_sites_free(c->sites);
		pthread_cond_destroy(&c->written);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return err;
	}
	if (conf->recordings_dir && conf->recordings_dir[0]) {
		struct rt_recorder_conf rc = {
			.dir = conf->recordings_dir,
			.opus = conf->recording_opus,
			.doneh = recording_done_h,
			.arg = c,
		};

		c->rec_dir = strdup(conf->recordings_dir);
		err = c->rec_dir ? rt_recorder_start(&c->recorder, &rc)
				 : ENOMEM;
		if (!err)
			err = recordings_recover(c);
		if (err) {
			rt_calls_stop(c);
			return err;
		}
	}
	c->conf.recordings_dir = NULL; /* borrowed: rec_dir is the copy */
	*cp = c;
	return 0;
}

void rt_calls_stopping(struct rt_calls *c)
{
	if (c)
		atomic_store(&c->stopping, true);
}

int rt_calls_flush(struct rt_calls *c, uint64_t timeout_ms)
{
	struct timespec until = rt_deadline_ms(timeout_ms);
	int err = 0;

	pthread_mutex_lock(&c->lock);
	{
		uint64_t want = c->enq_seq;

		pthread_cond_signal(&c->wake);
		while (c->done_seq < want && !err)
			err = pthread_cond_timedwait(&c->written, &c->lock,
						     &until);
	}
	pthread_mutex_unlock(&c->lock);
	return err == ETIMEDOUT ? EAGAIN : err;
}

void rt_calls_stop(struct rt_calls *c)
{
	if (!c)
		return;
	/* First: its last results go to the writer. */
	rt_recorder_stop(c->recorder);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->writer, NULL);
	while (c->head) { /* what could not be written in the end */
		struct op *next = c->head->next;

		rt_error("call change not written at stop", "call=%lld",
			 (long long)c->head->call_id);
		free(c->head->path);
		free(c->head);
		c->head = next;
	}
	rt_dni_sites_free(c->sites);
	pthread_cond_destroy(&c->written);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->rec_dir);
	free(c);
}
