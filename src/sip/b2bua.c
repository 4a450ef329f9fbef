/*
 * The call machine of the B2BUA: one struct call per caller's INVITE that
 * the routing hook forwards, with its two legs (the caller's, in, and the
 * one Ringtrail places, out) and its media relay.
 *
 *   ROUTING --route status--> ended (the status to the caller)
 *      | forward: INVITE out, ring timer
 *      v
 *   CALLING --18x--> 180/183 to the caller (EARLY: relayed once each)
 *      | 2xx out: 200 to the caller          \--failure out, CANCEL in,
 *      v                                         ring timer--> ended
 *   ANSWERED --BYE either side--> BYE the other --> ended
 *
 * Ringtrail anchors the media: each leg sees an SDP of Ringtrail's own,
 * with Ringtrail's RTP address; the caller's G.711 law is offered first to
 * the callee, so that transcoding happens only when the callee refuses it.
 * A re-INVITE is answered locally (hold and unhold are events); it is not
 * carried to the other leg, whose media keeps flowing through the relay.
 *
 * Everything runs on the SIP thread.  A call is freed by call_end(), which
 * sends the ENDED event and ends whichever legs are still up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "media/record.h"
#include "sip/sip_int.h"
#include "util/phone.h"

#define RT_LOG_MODULE "sip"

enum state { S_CALLING, S_EARLY, S_ANSWERED };

struct side {
	uint64_t version; /* of the SDP Ringtrail sends on this leg */
	int pt, telev_pt; /* what the leg's peer uses */
	bool alaw;	  /* its G.711 law: PCMA, else PCMU */
	bool held;	  /* this leg's peer put the other on hold */
};

struct call {
	struct call *next, *prev;
	struct rt_b2bua *b;
	int64_t id;
	char sip_call_id[128];
	struct rt_ua_leg *in, *out;
	struct rt_media *media;
	struct rt_ua_timer *ring; /* ring time-out, then the RTP watch */
	uint64_t rtp_seen;	  /* packets both ways at the last watch */
	enum state st;
	bool ringing_sent, early_sent;
	uint64_t sess_id;
	struct side sd[2]; /* RT_MEDIA_A: the caller's leg, B: the callee's */
	char *answer_a;	   /* the SDP answer of the caller's leg */
	char *record_path; /* the route's, NULL when not recorded */
	struct rt_rec *rec;
};

struct rt_b2bua {
	struct rt_ua *ua;
	const struct rt_sip_conf *conf;
	struct rt_sip_hooks hooks;
	struct rt_media_ports *ports;
	char rtp_addr[64];
	int af;
	struct call *calls;
	uint64_t next_sess;
};

/* ---- events -------------------------------------------------------------- */

static void emit(struct call *c, enum rt_sip_event_kind kind,
		 enum rt_sip_side side, uint16_t status, const char *reason,
		 char digit)
{
	struct rt_b2bua *b = c->b;
	struct rt_sip_event ev = {
		.kind = kind,
		.call_id = c->id,
		.at = rt_now_ms(),
		.side = side,
		.digit = digit,
		.status = status,
	};

	if (reason)
		rt_strlcpy(ev.reason, reason, sizeof(ev.reason));
	if (c->media) {
		ev.rtp_from_caller = rt_media_packets(c->media, RT_MEDIA_A);
		ev.rtp_from_callee = rt_media_packets(c->media, RT_MEDIA_B);
	}
	ev.recording = kind == RT_SIP_EV_ANSWERED && c->rec;
	if (c->id && b->hooks.event)
		b->hooks.event(&ev, b->hooks.arg);
}

/* The call service's id on every line of a call that has one. */
static void log_ctx(const struct call *c)
{
	char id[24];

	if (!c->id) {
		rt_log_ctx_clear();
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	rt_log_ctx_set("call", id);
}

/* ---- ending -------------------------------------------------------------- */

/* What the caller hears when the callee's leg failed with status. */
static uint16_t caller_status(uint16_t status)
{
	switch (status) {
	case 486:
	case 600:
		return 486;
	case 404:
	case 484:
	case 604:
		return 404;
	case 603:
		return 603;
	default:
		break;
	}
	if (status >= 600)
		return 603;
	if (status >= 500)
		return 503;
	return 480; /* 408, 480, and what a caller can do nothing about */
}

/*
 * Ends a call: the caller's leg gets caller_st (before an answer; 0 when
 * that leg is over already) or a BYE, the callee's leg a CANCEL or a BYE,
 * the event hook ENDED with side, status and reason; then frees it.
 */
static void call_end(struct call *c, enum rt_sip_side side, uint16_t status,
		     const char *reason, uint16_t caller_st,
		     const char *caller_reason)
{
	struct rt_b2bua *b = c->b;
	char q[160];

	log_ctx(c);
	if (c->in && c->st != S_ANSWERED && caller_st)
		rt_ua_leg_reject(c->in, caller_st, caller_reason);
	rt_info("call ended",
		"sip_call_id=%s side=%s status=%u reason=%s rtp_caller=%llu "
		"rtp_callee=%llu",
		rt_log_q(q, sizeof(q), c->sip_call_id), rt_sip_side_name(side),
		status, rt_log_q(q + 80, sizeof(q) - 80, reason ? reason : ""),
		c->media ? (unsigned long long)rt_media_packets(c->media,
								RT_MEDIA_A)
			 : 0ull,
		c->media ? (unsigned long long)rt_media_packets(c->media,
								RT_MEDIA_B)
			 : 0ull);
	emit(c, RT_SIP_EV_ENDED, side, status, reason, 0);
	rt_ua_leg_free(c->in);
	rt_ua_leg_free(c->out);
	rt_media_free(c->media);
	rt_rec_close(c->rec); /* after the relay, its producer, is gone */
	rt_ua_timer_free(c->ring);
	free(c->answer_a);
	free(c->record_path);
	if (c->prev)
		c->prev->next = c->next;
	else
		b->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	rt_log_ctx_clear();
}

size_t rt_b2bua_close_h(void *arg)
{
	struct rt_b2bua *b = arg;
	size_t n = 0;

	while (b->calls) {
		call_end(b->calls, RT_SIP_SIDE_SYSTEM, 503, "shutting down",
			 503, "Service Unavailable (shutting down)");
		n++;
	}
	return n;
}

/* ---- SDP of Ringtrail's side ----------------------------------------------
 */

static enum rt_sdp_dir answer_dir(enum rt_sdp_dir offer)
{
	switch (offer) {
	case RT_SDP_SENDONLY:
		return RT_SDP_RECVONLY;
	case RT_SDP_RECVONLY:
		return RT_SDP_SENDONLY;
	default:
		return offer;
	}
}

/* The SDP of one side: an offer of both laws, the caller's first, with
 * their static payload types (both), or the peer's own law and payload
 * type (an answer); and telev's telephone-event.  NULL on ENOMEM. */
static char *local_sdp(struct call *c, int side, bool both, int telev,
		       enum rt_sdp_dir dir)
{
	bool alaw = c->sd[both ? RT_MEDIA_A : side].alaw;
	struct rt_buf buf;
	struct rt_sdp_local l = {
		.addr = c->b->rtp_addr,
		.af = c->b->af,
		.port = rt_media_port(c->media, side),
		.sess_id = c->sess_id,
		.version = ++c->sd[side].version,
		.telev_pt = telev,
		.dir = dir,
	};

	if (both) {
		l.fmts[0].pt = alaw ? 8 : 0;
		l.fmts[1].pt = alaw ? 0 : 8;
		l.fmts[0].name = alaw ? "PCMA" : "PCMU";
		l.fmts[1].name = alaw ? "PCMU" : "PCMA";
		l.nfmts = 2;
	} else {
		l.fmts[0].pt = c->sd[side].pt;
		l.fmts[0].name = alaw ? "PCMA" : "PCMU";
		l.nfmts = 1;
	}
	rt_buf_init(&buf);
	rt_sdp_write(&buf, &l);
	if (buf.err) {
		rt_buf_release(&buf);
		return NULL;
	}
	return rt_buf_detach(&buf, NULL);
}

/* Reads a peer's SDP into the relay's side: 0, or the SIP status the leg
 * deserves (400 for SDP that does not parse, 488 without G.711). */
static uint16_t take_sdp(struct call *c, int side, const char *sdp, size_t len,
			 struct rt_sdp *out, const char **why)
{
	const struct rt_sdp_fmt *g, *te;
	int err = rt_sdp_parse(sdp, len, out, why);

	if (err == EINVAL)
		return 400;
	if (err)
		return 488;
	if (!out->port) {
		*why = "the audio stream is refused (port 0)";
		return 488;
	}
	/* The relay's sockets are of the SIP address's family. */
	if (out->af != c->b->af) {
		*why = c->b->af == AF_INET ? "an IPv6 media address: this "
					     "server's media is IPv4"
					   : "an IPv4 media address: this "
					     "server's media is IPv6";
		return 488;
	}
	g = rt_sdp_g711(out);
	if (!g) {
		*why = "no common codec: PCMU or PCMA needed";
		return 488;
	}
	te = rt_sdp_telev(out);
	c->sd[side].pt = g->pt;
	c->sd[side].alaw = strcasecmp(g->name, "PCMA") == 0;
	c->sd[side].telev_pt = te ? te->pt : -1;
	rt_media_set_remote(c->media, side, out->addr, out->port, g->pt,
			    c->sd[side].alaw, c->sd[side].telev_pt);
	return 0;
}

/* ---- the legs' events -------------------------------------------------- */

static void hold_changed(struct call *c, int side, bool hold)
{
	enum rt_sip_side who =
		side == RT_MEDIA_A ? RT_SIP_SIDE_CALLER : RT_SIP_SIDE_CALLEE;

	if (c->sd[side].held == hold)
		return;
	c->sd[side].held = hold;
	rt_info(hold ? "call on hold" : "call off hold", "side=%s",
		rt_sip_side_name(who));
	emit(c, hold ? RT_SIP_EV_HOLD : RT_SIP_EV_UNHOLD, who, 0, NULL, 0);
}

/* A re-INVITE (hold, unhold, a new address) on either leg, answered here. */
static int offer_h(struct rt_ua_leg *leg, const char *sdp, size_t len,
		   struct rt_buf *answer, void *arg)
{
	struct call *c = arg;
	int side = leg == c->in ? RT_MEDIA_A : RT_MEDIA_B;
	struct rt_sdp s;
	const char *why;
	char *mine;
	enum rt_sdp_dir dir = RT_SDP_SENDRECV;

	log_ctx(c);
	if (len) {
		uint16_t st = take_sdp(c, side, sdp, len, &s, &why);

		if (st) {
			char q[120];

			rt_info("re-INVITE refused", "why=%s",
				rt_log_q(q, sizeof(q), why));
			rt_log_ctx_clear();
			return EPROTO;
		}
		dir = answer_dir(s.dir);
		if (strcmp(s.addr, "0.0.0.0") == 0)
			dir = RT_SDP_INACTIVE;
		hold_changed(c, side, s.hold);
	}
	/* Without a body it is an offer of ours, answered in the ACK. */
	mine = local_sdp(c, side, false, c->sd[side].telev_pt, dir);
	rt_log_ctx_clear();
	if (!mine)
		return ENOMEM;
	rt_buf_puts(answer, mine);
	free(mine);
	return 0;
}

static void callee_progress(struct call *c, const struct rt_ua_ev *ev)
{
	if (ev->sdp) {
		struct rt_sdp s;
		const char *why;
		uint16_t st =
			take_sdp(c, RT_MEDIA_B, ev->sdp, ev->sdp_len, &s, &why);

		if (st) {
			char q[120];

			rt_info("early media refused", "why=%s",
				rt_log_q(q, sizeof(q), why));
		} else if (!c->early_sent) {
			c->early_sent = true;
			c->st = S_EARLY;
			rt_ua_leg_progress(c->in, ev->status == 180 ? 180 : 183,
					   c->answer_a);
			rt_info("call early media", "status=%u", ev->status);
			emit(c, RT_SIP_EV_EARLY_MEDIA, RT_SIP_SIDE_CALLEE,
			     ev->status, ev->reason, 0);
		}
		return;
	}
	if (c->ringing_sent || c->early_sent)
		return;
	c->ringing_sent = true;
	c->st = S_EARLY;
	rt_ua_leg_progress(c->in, 180, NULL);
	rt_info("call ringing", "status=%u", ev->status);
	emit(c, RT_SIP_EV_RINGING, RT_SIP_SIDE_CALLEE, ev->status, ev->reason,
	     0);
}

static void rtp_watch_h(void *arg);

static void callee_answered(struct call *c, const struct rt_ua_ev *ev)
{
	struct rt_sdp s;
	const char *why = "the answer has no SDP";
	uint16_t st = ev->sdp ? take_sdp(c, RT_MEDIA_B, ev->sdp, ev->sdp_len,
					 &s, &why)
			      : 488;
	int err;

	if (st) {
		/* The callee answered with media Ringtrail cannot use: it is
		 * hung up on, and the caller told why. */
		call_end(c, RT_SIP_SIDE_SYSTEM, 488, why, 503,
			 "Service Unavailable (the destination's media is "
			 "not usable)");
		return;
	}
	rt_ua_timer_cancel(c->ring);
	err = rt_ua_leg_answer(c->in, c->answer_a);
	if (err) {
		call_end(c, RT_SIP_SIDE_SYSTEM, 500, "cannot answer the caller",
			 500, NULL);
		return;
	}
	c->st = S_ANSWERED;
	if (c->b->conf->rtp_timeout_ms)
		rt_ua_timer_start(c->ring, c->b->conf->rtp_timeout_ms,
				  rtp_watch_h, c);
	/* Recorded from the answer; a recording that cannot start leaves
	 * the call going (the ANSWERED event says it is not recorded). */
	if (c->record_path && c->b->hooks.recorder) {
		c->rec = rt_rec_open(c->b->hooks.recorder, c->id,
				     c->record_path, c->sd[RT_MEDIA_A].alaw);
		if (c->rec)
			rt_media_record(c->media, c->rec);
	}
	rt_info("call answered", "transcoding=%s recording=%s",
		c->sd[RT_MEDIA_A].alaw != c->sd[RT_MEDIA_B].alaw ? "yes" : "no",
		c->rec ? "yes" : "no");
	emit(c, RT_SIP_EV_ANSWERED, RT_SIP_SIDE_CALLEE, 200, NULL, 0);
	if (s.hold)
		hold_changed(c, RT_MEDIA_B, true);
}

static void leg_h(struct rt_ua_leg *leg, const struct rt_ua_ev *ev, void *arg)
{
	struct call *c = arg;
	bool caller = leg == c->in;

	log_ctx(c);
	switch (ev->kind) {
	case RT_UA_PROGRESS:
		if (!caller && c->st != S_ANSWERED)
			callee_progress(c, ev);
		break;
	case RT_UA_ANSWERED:
		if (!caller)
			callee_answered(c, ev);
		break;
	case RT_UA_CLOSED:
		/* The closed leg is freed by call_end; it sends nothing. */
		if (caller) {
			enum rt_sip_side side = ev->by_peer
							? RT_SIP_SIDE_CALLER
							: RT_SIP_SIDE_SYSTEM;

			call_end(c, side, ev->status, ev->reason, 0, NULL);
		} else if (c->st == S_ANSWERED) {
			call_end(c,
				 ev->by_peer ? RT_SIP_SIDE_CALLEE
					     : RT_SIP_SIDE_SYSTEM,
				 ev->status, ev->reason, 0, NULL);
		} else {
			char reason[96];

			snprintf(reason, sizeof(reason),
				 "%s (the destination "
				 "answered %u)",
				 rt_sip_reason(caller_status(ev->status)),
				 ev->status);
			call_end(c,
				 ev->by_peer ? RT_SIP_SIDE_CALLEE
					     : RT_SIP_SIDE_SYSTEM,
				 ev->status, ev->reason,
				 caller_status(ev->status), reason);
		}
		return; /* c is gone */
	}
	rt_log_ctx_clear();
}

/* An answered call whose media stopped both ways (a peer gone without a
 * BYE) is ended; while a side holds, silence is allowed. */
static void rtp_watch_h(void *arg)
{
	struct call *c = arg;
	uint64_t seen = rt_media_packets(c->media, RT_MEDIA_A) +
			rt_media_packets(c->media, RT_MEDIA_B);

	if (seen != c->rtp_seen || c->sd[RT_MEDIA_A].held ||
	    c->sd[RT_MEDIA_B].held) {
		c->rtp_seen = seen;
		rt_ua_timer_start(c->ring, c->b->conf->rtp_timeout_ms,
				  rtp_watch_h, c);
		return;
	}
	log_ctx(c);
	rt_info("call without media", "timeout_ms=%llu",
		(unsigned long long)c->b->conf->rtp_timeout_ms);
	call_end(c, RT_SIP_SIDE_SYSTEM, 408,
		 "no RTP either way (media timeout)", 0, NULL);
}

static void ring_h(void *arg)
{
	struct call *c = arg;

	call_end(c, RT_SIP_SIDE_SYSTEM, 480, "no answer", 480,
		 "Temporarily Unavailable (no answer)");
}

static void dtmf_h(int side, char digit, void *arg)
{
	struct call *c = arg;
	enum rt_sip_side who =
		side == RT_MEDIA_A ? RT_SIP_SIDE_CALLER : RT_SIP_SIDE_CALLEE;

	log_ctx(c);
	rt_info("call dtmf", "side=%s digit=%c", rt_sip_side_name(who), digit);
	emit(c, RT_SIP_EV_DTMF, who, 0, NULL, digit);
	rt_log_ctx_clear();
}

/* ---- a new call ------------------------------------------------------------
 */

/* The user part of a number as SIP carries it: ";npdi" and friends cut. */
static void user_number(const char *user, char *out, size_t size)
{
	size_t n = strcspn(user, ";");

	if (n >= size)
		n = size - 1;
	memcpy(out, user, n);
	out[n] = '\0';
}

static bool withheld(const char *user)
{
	static const char *const names[] = {"",		  "anonymous",
					    "restricted", "unavailable",
					    "unknown",	  "private"};

	for (size_t i = 0; i < RT_ARRAY_SIZE(names); i++) {
		if (rt_strcaseeq(user, names[i]))
			return true;
	}
	return false;
}

static void fill_invite(const struct rt_ua_invite *inv,
			struct rt_sip_invite *in)
{
	struct rt_phone ph;
	const char *country = inv->trunk->country;

	memset(in, 0, sizeof(*in));
	in->sip_call_id = inv->call_id;
	user_number(inv->ruri_user[0] ? inv->ruri_user : inv->to_user,
		    in->dialled_raw, sizeof(in->dialled_raw));
	if (rt_phone_parse(in->dialled_raw, country, &ph) == 0)
		rt_strlcpy(in->dialled, ph.e164, sizeof(in->dialled));
	user_number(inv->from_user, in->caller_raw, sizeof(in->caller_raw));
	if (!withheld(in->caller_raw) &&
	    rt_phone_parse(in->caller_raw, country, &ph) == 0)
		rt_strlcpy(in->caller, ph.e164, sizeof(in->caller));
	rt_strlcpy(in->caller_name, inv->from_name, sizeof(in->caller_name));
	in->trunk = inv->trunk->name;
	rt_strlcpy(in->source, inv->source, sizeof(in->source));
	in->transport = inv->transport;
	in->at = rt_now_ms();
}

/* The Request-URI of the outbound leg: a sip: URI as it is; an E.164
 * number through a trunk's proxy (the caller's trunk first). */
static int dest_uri(struct rt_b2bua *b, const struct rt_sip_trunk *in_trunk,
		    const char *dest, char *uri, size_t size,
		    const struct rt_sip_trunk **trunkp)
{
	const struct rt_sip_trunk *t = NULL;
	const char *host;

	*trunkp = NULL;
	if (strncmp(dest, "sip:", 4) == 0 || strncmp(dest, "sips:", 5) == 0) {
		if (rt_strlcpy(uri, dest, size) >= size)
			return EINVAL;
		return 0;
	}
	if (dest[0] != '+')
		return EINVAL;
	if (in_trunk->proxy[0])
		t = in_trunk;
	for (size_t i = 0; !t && i < b->conf->ntrunks; i++) {
		if (b->conf->trunks[i].proxy[0])
			t = &b->conf->trunks[i];
	}
	if (!t)
		return ENOENT;
	host = strchr(t->proxy, ':') + 1;
	if ((size_t)snprintf(uri, size, "%.*s%s@%s", (int)(host - t->proxy),
			     t->proxy, dest, host) >= size)
		return EINVAL;
	*trunkp = t;
	return 0;
}

/* A display name that is safe inside the quotes of a From header. */
static void display_clean(const char *in, char *out, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; in[i] && k + 1 < size; i++) {
		if (in[i] != '"' && in[i] != '\\' &&
		    (unsigned char)in[i] >= 0x20)
			out[k++] = in[i];
	}
	out[k] = '\0';
}

/* A caller id for the From user part: digits and '+' only. */
static void user_clean(const char *in, char *out, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; in[i] && k + 1 < size; i++) {
		if ((in[i] >= '0' && in[i] <= '9') || (in[i] == '+' && !k))
			out[k++] = in[i];
	}
	out[k] = '\0';
}

static void refuse_call(struct rt_ua_leg *leg, const struct rt_sip_invite *in,
			uint16_t status, const char *why)
{
	char reason[128], q[160];

	snprintf(reason, sizeof(reason), "%s (%s)", rt_sip_reason(status), why);
	rt_info("call refused", "sip_call_id=%s dialled=%s status=%u why=%s",
		rt_log_q(q, 80, in->sip_call_id), in->dialled, status,
		rt_log_q(q + 80, 80, why));
	rt_ua_leg_reject(leg, status, reason);
	rt_ua_leg_free(leg);
}

void rt_b2bua_invite_h(struct rt_ua_leg *leg, const struct rt_ua_invite *inv,
		       void *arg)
{
	struct rt_b2bua *b = arg;
	struct rt_sip_invite in;
	struct rt_sip_route rt = {0};
	const struct rt_sip_trunk *out_trunk;
	struct rt_sdp offer;
	struct call *c;
	char uri[RT_SIP_URI_MAX + 32], display[64], user[32], q[160], *offer_b;
	const char *why = "";
	uint16_t st;
	int err;

	fill_invite(inv, &in);
	b->hooks.route(&in, &rt, b->hooks.arg);
	rt_info("call routed",
		"sip_call_id=%s trunk=%s source=%s dialled=%s caller=%s "
		"status=%u call=%lld destination=%s",
		rt_log_q(q, 80, in.sip_call_id), in.trunk, in.source,
		in.dialled[0] ? in.dialled : "-",
		in.caller[0] ? in.caller : "-", rt.status,
		(long long)rt.call_id, rt_log_q(q + 80, 80, rt.destination));
	if (!rt.status && !rt.destination[0]) {
		rt.status = 480;
		rt_strlcpy(rt.reason, "no destination", sizeof(rt.reason));
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		refuse_call(leg, &in, 503, "out of memory");
		return;
	}
	c->b = b;
	c->id = rt.call_id;
	c->in = leg;
	c->sd[0].telev_pt = c->sd[1].telev_pt = -1;
	rt_strlcpy(c->sip_call_id, in.sip_call_id, sizeof(c->sip_call_id));
	if (rt.record_path[0] && !rt.status)
		c->record_path = strdup(rt.record_path); /* NULL: unrecorded */
	if ((c->next = b->calls))
		c->next->prev = c;
	b->calls = c;
	rt_ua_leg_set_handlers(leg, leg_h, offer_h, c);
	if (rt.status) {
		char reason[128];

		snprintf(reason, sizeof(reason), "%s%s%s%s",
			 rt_sip_reason(rt.status), rt.reason[0] ? " (" : "",
			 rt.reason, rt.reason[0] ? ")" : "");
		call_end(c, RT_SIP_SIDE_SYSTEM, rt.status,
			 rt.reason[0] ? rt.reason : rt_sip_reason(rt.status),
			 rt.status, reason);
		return;
	}
	st = 0;
	if (!inv->sdp) {
		st = 488;
		why = "an INVITE without SDP is not supported";
	}
	c->sess_id = ++b->next_sess + (uint64_t)rt_now_ms() * 1000;
	err = st ? 0 : rt_media_alloc(&c->media, b->ports, dtmf_h, c);
	if (err) {
		st = 503;
		why = "no RTP port free";
	}
	if (!st)
		st = take_sdp(c, RT_MEDIA_A, inv->sdp, inv->sdp_len, &offer,
			      &why);
	if (!st) {
		err = dest_uri(b, inv->trunk, rt.destination, uri, sizeof(uri),
			       &out_trunk);
		if (err) {
			st = err == ENOENT ? 503 : 500;
			why = err == ENOENT ? "no trunk places calls to numbers"
					    : "bad destination";
		}
	}
	if (!st)
		err = rt_ua_timer_alloc(&c->ring);
	if (!st && !err) {
		c->answer_a = local_sdp(c, RT_MEDIA_A, false,
					c->sd[RT_MEDIA_A].telev_pt,
					answer_dir(offer.dir));
		offer_b = local_sdp(c, RT_MEDIA_B, true, 101, RT_SDP_SENDRECV);
		display_clean(rt.display[0] ? rt.display : in.caller_name,
			      display, sizeof(display));
		user_clean(in.caller[0] ? in.caller : in.caller_raw, user,
			   sizeof(user));
		err = c->answer_a && offer_b
			      ? rt_ua_leg_connect(&c->out, b->ua, uri, display,
						  user, out_trunk, offer_b,
						  leg_h, offer_h, c)
			      : ENOMEM;
		free(offer_b);
	}
	if (!st && err) {
		st = 500;
		why = "cannot call the destination";
		rt_warn("cannot place the outbound leg", "uri=%s err=\"%s\"",
			rt_log_q(q, sizeof(q), uri), strerror(err));
	}
	if (st) {
		char reason[128];

		snprintf(reason, sizeof(reason), "%s (%s)", rt_sip_reason(st),
			 why);
		call_end(c, RT_SIP_SIDE_SYSTEM, st, why, st, reason);
		return;
	}
	c->st = S_CALLING;
	rt_ua_timer_start(c->ring, b->conf->ring_timeout_ms, ring_h, c);
}

int rt_b2bua_alloc(struct rt_b2bua **bp, struct rt_ua *ua,
		   const struct rt_sip_conf *conf,
		   const struct rt_sip_hooks *hooks,
		   struct rt_media_ports *ports)
{
	struct rt_b2bua *b = calloc(1, sizeof(*b));
	struct sockaddr_storage ss;
	socklen_t len;

	if (!b)
		return ENOMEM;
	b->ua = ua;
	b->conf = conf;
	b->hooks = *hooks;
	b->ports = ports;
	rt_ua_laddr(ua, &ss, &len);
	rt_sip_addr_fmt((struct sockaddr *)&ss, b->rtp_addr,
			sizeof(b->rtp_addr));
	/* "IP:PORT" or "[IP]:PORT": the address alone for SDP. */
	if (b->rtp_addr[0] == '[') {
		memmove(b->rtp_addr, b->rtp_addr + 1, strlen(b->rtp_addr));
		*strrchr(b->rtp_addr, ']') = '\0';
	} else {
		*strrchr(b->rtp_addr, ':') = '\0';
	}
	b->af = ss.ss_family;
	*bp = b;
	return 0;
}

void rt_b2bua_free(struct rt_b2bua *b)
{
	if (!b)
		return;
	rt_b2bua_close_h(b);
	free(b);
}
