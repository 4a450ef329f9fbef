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
 * A route with a call flow (docs/flows.md) answers the caller here instead
 * and walks the flow (src/flow): prompts played from the prompt cache,
 * menus' digits, dials of one or more targets (each an outbound leg of its
 * own, all offered the callee's side of the relay), the whisper to the
 * agent, the voicemail's recording; see "call flows" below.
 *
 * Everything runs on the SIP thread.  A call is freed by call_end(), which
 * sends the ENDED event and ends whichever legs are still up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <math.h>

#include "media/prompt.h"
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
	struct flowcall *fl; /* the call flow it runs, NULL: forwarded */
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
	/* Flows: the ringback a caller hears while a dial rings (one US
	 * cadence: 2 s of 440 + 480 Hz, 4 s of silence) and the voicemail's
	 * beep (1 kHz, 0.5 s). */
	int16_t *ringback, *beep;
	size_t nringback, nbeep;
};

static void flow_free(struct call *c);
static bool flow_leg_h(struct call *c, struct rt_ua_leg *leg,
		       const struct rt_ua_ev *ev);
static void flow_digit(struct call *c, int side, char digit);
static void flow_ended_event(struct call *c, struct rt_sip_event *ev);

/* ---- events -------------------------------------------------------------- */

/* An event built by its sender, to the hook (calls with an id only). */
static void emit_ev(struct call *c, const struct rt_sip_event *ev)
{
	if (c->id && c->b->hooks.event)
		c->b->hooks.event(ev, c->b->hooks.arg);
}

static void emit(struct call *c, enum rt_sip_event_kind kind,
		 enum rt_sip_side side, uint16_t status, const char *reason,
		 char digit)
{
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
	if (kind == RT_SIP_EV_ENDED && c->fl)
		flow_ended_event(c, &ev);
	emit_ev(c, &ev);
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
	flow_free(c); /* its legs, timers and prompts first */
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
	if (c->fl && flow_leg_h(c, leg, ev))
		return; /* c may be gone */
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
	if (c->fl)
		flow_digit(c, side, digit);
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

/* ---- call flows -------------------------------------------------------------
 *
 * The caller is answered at once; the walk (src/flow) says what to do
 * next, one action at a time, and each outcome is fed back in:
 *
 *   play       the prompt to the caller                 -> done
 *   menu       [invalid prompt,] prompt, then timeout_s  -> digit | timeout
 *              (a digit cuts the prompt short; RFC 4733 or in-band)
 *   dial       ringback to the caller; targets rung all at once or one by
 *              one, each up to its ring time, all within the dial's
 *              timeout; the first to answer hears the whisper (and
 *              presses 1 when asked), then the sides are bridged
 *                                                        -> answered (the
 *              agent hung up first) | no_answer | busy | failed
 *   voicemail  greeting, beep, the caller recorded up to max_s -> done
 *   hangup     BYE to the caller
 *
 * Digits come from the relay's handler, prompts from the cache (polled
 * while rendered), and everything that may end the call runs from a timer
 * or a leg's event, never from inside the relay's read loop.
 */

#define FLOW_KICK_MS	0
#define PROMPT_POLL_MS	40
#define PROMPT_WAIT_MS	10000 /* a prompt not rendered by then is skipped */
#define ACCEPT_MS	10000 /* an agent's time to press 1 */
#define FLOW_DIGITS_MAX 32    /* digits queued, typed ahead */

enum phase {
	PH_IDLE,
	PH_PRE,	    /* the menu's invalid-input prompt */
	PH_PROMPT,  /* a play's, a menu's or a voicemail's greeting */
	PH_WAIT,    /* a menu waits for a digit */
	PH_DIAL,    /* targets ring */
	PH_WHISPER, /* the agent hears the whisper */
	PH_ACCEPT,  /* the agent is to press 1 */
	PH_BRIDGED,
	PH_BEEP,
	PH_RECORD, /* voicemail */
};

struct fork {
	struct call *c;
	struct rt_ua_leg *leg; /* NULL: not placed, or over */
	struct rt_ua_timer *ring;
	const struct rt_flow_target *t;
	bool tried;
	enum rt_flow_dial_result res;
};

struct flowcall {
	struct rt_flow *f; /* a reference */
	struct rt_flow_run run;
	bool started;
	struct rt_flow_facts facts;
	char tz[64];
	char fv[RT_NFACTS][128];
	char dialled[20]; /* the tracking number */
	char caller[32];  /* From's user part for the agents' legs */
	char display[64]; /* and its display name */
	const struct rt_sip_trunk *trunk; /* the caller's */
	bool record_bridged;
	const struct rt_flow_action *act;
	enum phase ph;
	size_t emitted; /* hops of the path sent as FLOW_STEP events */
	struct rt_ua_timer *step; /* prompt polls, menu and accept time-outs,
				     the voicemail's limit */
	struct rt_ua_timer *kick; /* queued digits, handled off the relay */
	struct rt_ua_timer *dial; /* the dial's overall time-out */
	/* A prompt asked for and not rendered yet: played once it is. */
	const char *want;
	int want_side;
	uint64_t want_until;
	const struct rt_prompt *held[2]; /* playing to each side */
	struct {
		char digit;
		uint8_t side;
	} q[FLOW_DIGITS_MAX];
	size_t nq;
	struct fork forks[RT_FLOW_TARGETS_MAX];
	size_t nforks, next; /* one by one: the next to ring */
	int answered;	     /* the fork bridged or whispered to, -1 */
	int64_t last_dial;   /* the last dial's outcome + 1, 0: none */
	char agent[RT_SIP_URI_MAX];
	bool voicemail, recorded;
	bool ending; /* the flow hangs up */
};

static void flow_action(struct call *c);
static void flow_played_h(int side, void *arg);

static const struct rt_prompt *flow_prompts_get(struct call *c,
						const char *text, int *errp)
{
	const struct rt_prompt *pr = NULL;

	*errp = c->b->hooks.prompts
			? rt_prompts_get(c->b->hooks.prompts, text, &pr)
			: ENOENT;
	return *errp ? NULL : pr;
}

static void flow_release_side(struct call *c, int side)
{
	struct flowcall *fc = c->fl;

	if (c->media)
		rt_media_stop(c->media, side);
	if (fc->held[side]) {
		rt_prompts_release(c->b->hooks.prompts, fc->held[side]);
		fc->held[side] = NULL;
	}
}

/* Plays a rendered prompt to side, holding it until played: false when
 * it cannot (the prompt is released). */
static bool flow_play(struct call *c, int side, const struct rt_prompt *pr)
{
	c->fl->held[side] = pr;
	if (!rt_media_play(c->media, side, pr->pcm, pr->n, false, flow_played_h,
			   c))
		return true;
	flow_release_side(c, side);
	return false;
}

/* A prompt that cannot be played (no text, an audio file not loaded, a
 * render that failed or took too long) counts as played, a moment
 * later. */
static void flow_skip_h(void *arg)
{
	struct call *c = arg;

	flow_played_h(c->fl->want_side, c);
}

/* Says text to side (the rest of the phase follows in flow_played_h). */
static void flow_say(struct call *c, int side, const char *text, enum phase ph)
{
	struct flowcall *fc = c->fl;
	const struct rt_prompt *pr;
	int err;

	flow_release_side(c, side);
	fc->ph = ph;
	fc->want = NULL;
	fc->want_side = side;
	pr = text && text[0] ? flow_prompts_get(c, text, &err) : NULL;
	if (!pr && text && text[0] && err == EINPROGRESS) {
		fc->want = text;
		fc->want_until = rt_mono_us() / 1000 + PROMPT_WAIT_MS;
		rt_ua_timer_start(fc->step, PROMPT_POLL_MS, flow_skip_h, c);
		return;
	}
	if (pr) {
		if (flow_play(c, side, pr))
			return;
	} else if (text && text[0]) {
		char q[120];

		rt_warn("flow prompt not played", "err=\"%s\" text=%s",
			strerror(err), rt_log_q(q, sizeof(q), text));
	}
	rt_ua_timer_start(fc->step, 0, flow_skip_h, c);
}

/* Plays a flow's prompt to side: an uploaded file the router loaded (the
 * flow holds it), else text as flow_say does. */
static void flow_say_prompt(struct call *c, int side,
			    const struct rt_flow_prompt *p, enum phase ph)
{
	struct flowcall *fc = c->fl;

	if (!p || !p->audio_id) {
		flow_say(c, side, p ? p->text : NULL, ph);
		return;
	}
	flow_release_side(c, side);
	fc->ph = ph;
	fc->want = NULL;
	fc->want_side = side;
	if (p->audio && c->b->hooks.prompts &&
	    flow_play(c, side, rt_prompts_hold(c->b->hooks.prompts, p->audio)))
		return;
	if (!p->audio)
		rt_warn("flow prompt not played: audio file not loaded",
			"audio=%lld", (long long)p->audio_id);
	rt_ua_timer_start(fc->step, 0, flow_skip_h, c);
}

/* Hops of the path that are over go to the timeline; all at the end. */
static void flow_hops(struct call *c, bool all)
{
	struct flowcall *fc = c->fl;
	struct rt_flow_run *r = &fc->run;

	while (fc->emitted < r->npath &&
	       (all || r->ended || fc->emitted + 1 < r->npath)) {
		const struct rt_flow_hop *h = &r->path[fc->emitted++];
		const struct rt_flow_step *st = &fc->f->steps[h->step];
		struct rt_sip_event ev = {
			.kind = RT_SIP_EV_FLOW_STEP,
			.call_id = c->id,
			.at = h->at_ms,
		};

		rt_strlcpy(ev.step, st->id, sizeof(ev.step));
		rt_strlcpy(ev.step_type, rt_flow_type_name(st->type),
			   sizeof(ev.step_type));
		rt_strlcpy(ev.exit, h->exit, sizeof(ev.exit));
		rt_strlcpy(ev.detail, h->detail, sizeof(ev.detail));
		emit_ev(c, &ev);
	}
}

static void flow_ended_event(struct call *c, struct rt_sip_event *ev)
{
	struct flowcall *fc = c->fl;

	if (!fc->started)
		return;
	flow_hops(c, true);
	ev->flow = &fc->run;
	ev->voicemail = fc->voicemail;
	rt_strlcpy(ev->agent, fc->agent, sizeof(ev->agent));
}

/* Ends a fork's leg (CANCEL or BYE) and its timer. */
static void fork_drop(struct fork *k)
{
	rt_ua_leg_free(k->leg);
	k->leg = NULL;
	if (k->ring)
		rt_ua_timer_cancel(k->ring);
}

static void flow_free(struct call *c)
{
	struct flowcall *fc = c->fl;

	if (!fc)
		return;
	for (size_t i = 0; i < RT_FLOW_TARGETS_MAX; i++) {
		fork_drop(&fc->forks[i]);
		rt_ua_timer_free(fc->forks[i].ring);
	}
	for (int side = 0; side < 2; side++)
		flow_release_side(c, side);
	rt_ua_timer_free(fc->step);
	rt_ua_timer_free(fc->kick);
	rt_ua_timer_free(fc->dial);
	rt_flow_run_release(&fc->run);
	rt_flow_unref(fc->f);
	free(fc);
	c->fl = NULL;
}

/* The flow ended the call: BYE to the caller.  The status says how, for
 * the record: the last dial's outcome, else no answer.  From a timer, so
 * that no step of the walk frees the call under its caller. */
static void flow_hangup_h(void *arg)
{
	struct call *c = arg;
	struct flowcall *fc = c->fl;
	const char *why = fc->run.end_reason[0] ? fc->run.end_reason : "hangup";
	uint16_t st = 480;

	log_ctx(c);

	if (fc->last_dial == 1 + RT_DIAL_BUSY)
		st = 486;
	else if (fc->last_dial == 1 + RT_DIAL_FAILED)
		st = 503;
	else if (fc->last_dial == 1 + RT_DIAL_ANSWERED)
		st = 200;
	rt_info("call flow ended", "why=\"%s\" steps=%zu", why, fc->run.npath);
	call_end(c, RT_SIP_SIDE_SYSTEM, st, why, 0, NULL);
}

static void flow_hangup(struct call *c)
{
	struct flowcall *fc = c->fl;

	fc->ph = PH_IDLE;
	fc->ending = true;
	rt_ua_timer_cancel(fc->kick);
	rt_ua_timer_start(fc->step, 0, flow_hangup_h, c);
}

/* Feeds the outcome of the action in progress and goes on. */
static void flow_input(struct call *c, enum rt_flow_in in, char digit,
		       enum rt_flow_dial_result res)
{
	struct flowcall *fc = c->fl;
	int err;

	if (fc->ending)
		return;
	rt_ua_timer_cancel(fc->step);
	fc->want = NULL;
	err = rt_flow_run_input(&fc->run, in, digit, res, rt_now_ms(),
				&fc->act);
	if (err)
		return; /* a digit the menu does not take: ignored */
	flow_hops(c, false);
	flow_action(c);
}

/* ---- menus and plays ---- */

static void menu_timeout_h(void *arg)
{
	struct call *c = arg;

	log_ctx(c);
	flow_input(c, RT_IN_TIMEOUT, 0, 0);
	rt_log_ctx_clear();
}

static void bridge(struct call *c);
static void start_record(struct call *c);
static void accept_timeout_h(void *arg);

/* What was being said to side has been said. */
static void flow_played_h(int side, void *arg)
{
	struct call *c = arg;
	struct flowcall *fc = c->fl;

	log_ctx(c);
	if (fc->want) {
		const struct rt_prompt *pr;
		int err;

		/* Still rendering: asked again until it is, or too long. */
		pr = flow_prompts_get(c, fc->want, &err);
		if (!pr && err == EINPROGRESS &&
		    rt_mono_us() / 1000 < fc->want_until) {
			rt_ua_timer_start(fc->step, PROMPT_POLL_MS, flow_skip_h,
					  c);
			goto out;
		}
		fc->want = NULL;
		if (pr && flow_play(c, side, pr))
			goto out;
		rt_warn("flow prompt not played", "err=\"%s\"",
			strerror(pr ? ENOMEM : err));
	}
	flow_release_side(c, side);
	switch (fc->ph) {
	case PH_PRE:
		flow_say_prompt(c, RT_MEDIA_A, fc->act->prompt, PH_PROMPT);
		break;
	case PH_PROMPT:
		if (fc->act->kind == RT_ACT_MENU) {
			fc->ph = PH_WAIT;
			rt_ua_timer_start(fc->step,
					  fc->act->timeout_s * 1000ull,
					  menu_timeout_h, c);
		} else if (fc->act->kind == RT_ACT_VOICEMAIL) {
			if (fc->act->beep) {
				fc->ph = PH_BEEP;
				rt_media_play(c->media, RT_MEDIA_A, c->b->beep,
					      c->b->nbeep, false, flow_played_h,
					      c);
			} else {
				start_record(c);
			}
		} else {
			flow_input(c, RT_IN_DONE, 0, 0);
		}
		break;
	case PH_BEEP:
		start_record(c);
		break;
	case PH_WHISPER:
		if (fc->act->whisper_accept) {
			fc->ph = PH_ACCEPT;
			rt_media_inband(c->media, RT_MEDIA_B, true);
			rt_ua_timer_start(fc->step, ACCEPT_MS, accept_timeout_h,
					  c);
		} else {
			bridge(c);
		}
		break;
	default:
		break;
	}
out:
	rt_log_ctx_clear();
}

/* Digits queued by the relay's handler, taken here off its stack. */
static void kick_h(void *arg)
{
	struct call *c = arg;
	struct flowcall *fc = c->fl;

	log_ctx(c);
	while (fc->nq) {
		char d = fc->q[0].digit;
		int side = fc->q[0].side;

		memmove(fc->q, fc->q + 1, --fc->nq * sizeof(fc->q[0]));
		if (side == RT_MEDIA_B) {
			if ((fc->ph == PH_ACCEPT || fc->ph == PH_WHISPER) &&
			    fc->act->whisper_accept && d == '1') {
				rt_info("call flow agent accepted", "");
				bridge(c);
			}
			continue;
		}
		if (fc->act->kind != RT_ACT_MENU || fc->ph == PH_IDLE ||
		    !strchr("0123456789*#", d))
			continue; /* not listening for digits now */
		flow_release_side(c, RT_MEDIA_A); /* the prompt is cut */
		flow_input(c, RT_IN_DIGIT, d, 0); /* never ends the call */
	}
	rt_log_ctx_clear();
}

static void flow_digit(struct call *c, int side, char digit)
{
	struct flowcall *fc = c->fl;

	if (!fc->started || fc->ending || fc->ph == PH_BRIDGED ||
	    fc->nq == FLOW_DIGITS_MAX)
		return;
	fc->q[fc->nq].digit = digit;
	fc->q[fc->nq].side = (uint8_t)side;
	fc->nq++;
	rt_ua_timer_start(fc->kick, FLOW_KICK_MS, kick_h, c);
}

/* ---- voicemail ---- */

static void voicemail_done_h(void *arg)
{
	struct call *c = arg;

	log_ctx(c);
	rt_media_record(c->media, NULL);
	rt_rec_close(c->rec);
	c->rec = NULL;
	flow_input(c, RT_IN_DONE, 0, 0);
	rt_log_ctx_clear();
}

static void start_record(struct call *c)
{
	struct flowcall *fc = c->fl;

	fc->ph = PH_RECORD;
	if (c->record_path && c->b->hooks.recorder && !fc->recorded)
		c->rec = rt_rec_open(c->b->hooks.recorder, c->id,
				     c->record_path, c->sd[RT_MEDIA_A].alaw);
	if (!c->rec) {
		rt_warn("voicemail not recorded", "why=\"%s\"",
			fc->recorded ? "the call was recorded already"
				     : "recording is not available");
		rt_ua_timer_start(fc->step, 0, voicemail_done_h, c);
		return;
	}
	fc->recorded = fc->voicemail = true;
	rt_media_record(c->media, c->rec);
	rt_info("call voicemail", "max_s=%u", fc->act->max_s);
	{
		struct rt_sip_event ev = {.kind = RT_SIP_EV_VOICEMAIL,
					  .call_id = c->id,
					  .at = rt_now_ms(),
					  .side = RT_SIP_SIDE_CALLER,
					  .recording = true};

		emit_ev(c, &ev);
	}
	rt_ua_timer_start(fc->step, fc->act->max_s * 1000ull, voicemail_done_h,
			  c);
}

/* ---- dials ---- */

static void fork_next(struct call *c);

static enum rt_flow_dial_result fail_result(uint16_t status)
{
	switch (status) {
	case 486:
	case 600:
	case 603:
		return RT_DIAL_BUSY;
	case 408:
	case 480:
	case 487:
		return RT_DIAL_NO_ANSWER;
	default:
		return RT_DIAL_FAILED;
	}
}

static void dial_finish(struct call *c, enum rt_flow_dial_result res)
{
	struct flowcall *fc = c->fl;

	rt_ua_timer_cancel(fc->dial);
	for (size_t i = 0; i < fc->nforks; i++)
		fork_drop(&fc->forks[i]);
	flow_release_side(c, RT_MEDIA_A);
	flow_release_side(c, RT_MEDIA_B);
	rt_media_inband(c->media, RT_MEDIA_B, false);
	fc->answered = -1;
	fc->last_dial = 1 + res;
	rt_info("call flow dial over", "outcome=%s",
		rt_flow_dial_result_name(res));
	flow_input(c, RT_IN_DIAL, 0, res);
}

/* Every fork tried is over: the dial's outcome from theirs. */
static void dial_outcome(struct call *c)
{
	struct flowcall *fc = c->fl;
	enum rt_flow_dial_result each[RT_FLOW_TARGETS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < fc->nforks; i++) {
		if (fc->forks[i].tried)
			each[n++] = fc->forks[i].res;
	}
	dial_finish(c, n ? rt_flow_dial_outcome(each, n) : RT_DIAL_FAILED);
}

static void fork_over(struct call *c, struct fork *k,
		      enum rt_flow_dial_result res)
{
	k->res = res;
	fork_drop(k);
	rt_info("call flow target over", "target=%s outcome=%s",
		k->t->value ? k->t->value : "-", rt_flow_dial_result_name(res));
	fork_next(c);
}

static void fork_ring_h(void *arg)
{
	struct fork *k = arg;
	struct call *c = k->c;

	log_ctx(c);
	if (c->fl->answered == (int)(k - c->fl->forks))
		c->fl->answered = -1;
	fork_over(c, k, RT_DIAL_NO_ANSWER);
	rt_log_ctx_clear();
}

static void dial_timeout_h(void *arg)
{
	struct call *c = arg;
	struct flowcall *fc = c->fl;

	log_ctx(c);
	for (size_t i = 0; i < fc->nforks; i++) {
		if (fc->forks[i].leg)
			fc->forks[i].res = RT_DIAL_NO_ANSWER;
	}
	dial_outcome(c);
	rt_log_ctx_clear();
}

/* Places one target's leg: false when it could not be placed (its
 * outcome is then failed). */
static bool fork_start(struct call *c, struct fork *k)
{
	struct flowcall *fc = c->fl;
	const struct rt_sip_trunk *trunk;
	char uri[RT_SIP_URI_MAX + 32], q[120], *offer;
	int err;

	k->tried = true;
	k->res = RT_DIAL_FAILED;
	if (!k->t->value) {
		rt_warn("flow target without a phone", "user=%lld",
			(long long)k->t->user_id);
		return false;
	}
	err = dest_uri(c->b, fc->trunk, k->t->value, uri, sizeof(uri), &trunk);
	if (err) {
		rt_warn("flow target not reachable", "target=%s why=\"%s\"",
			rt_log_q(q, sizeof(q), k->t->value),
			err == ENOENT ? "no trunk places calls to numbers"
				      : "bad destination");
		return false;
	}
	if (!k->ring)
		err = rt_ua_timer_alloc(&k->ring);
	offer = err ? NULL
		    : local_sdp(c, RT_MEDIA_B, true, 101, RT_SDP_SENDRECV);
	err = offer ? rt_ua_leg_connect(&k->leg, c->b->ua, uri, fc->display,
					fc->act->step->u.dial.tracking_caller_id
						? fc->dialled
						: fc->caller,
					trunk, offer, leg_h, offer_h, c)
		    : ENOMEM;
	free(offer);
	if (err) {
		k->leg = NULL;
		rt_warn("cannot place a flow's leg", "uri=%s err=\"%s\"",
			rt_log_q(q, sizeof(q), uri), strerror(err));
		return false;
	}
	rt_info("call flow rings", "target=%s ring_s=%u",
		rt_log_q(q, sizeof(q), uri), k->t->ring_s);
	rt_ua_timer_start(k->ring, k->t->ring_s * 1000ull, fork_ring_h, k);
	return true;
}

/* After a fork is over: the next one (one by one), or the outcome once
 * none is left. */
static void fork_next(struct call *c)
{
	struct flowcall *fc = c->fl;
	bool one_by_one =
		fc->act->step->u.dial.strategy != RT_DIAL_SIMULTANEOUS;

	for (size_t i = 0; i < fc->nforks; i++) {
		if (fc->forks[i].leg)
			return; /* still ringing or whispered to */
	}
	while (one_by_one && fc->next < fc->nforks) {
		if (fork_start(c, &fc->forks[fc->next++]))
			return;
	}
	dial_outcome(c);
}

static void dial_start(struct call *c)
{
	struct flowcall *fc = c->fl;
	const struct rt_flow_action *a = fc->act;

	fc->ph = PH_DIAL;
	fc->answered = -1;
	fc->nforks = a->norder;
	fc->next = 0;
	for (size_t i = 0; i < RT_FLOW_TARGETS_MAX; i++) {
		struct fork *k = &fc->forks[i];

		k->c = c;
		k->t = i < a->norder ? a->order[i] : NULL;
		k->tried = false;
		k->leg = NULL;
	}
	flow_release_side(c, RT_MEDIA_A);
	rt_media_play(c->media, RT_MEDIA_A, c->b->ringback, c->b->nringback,
		      true, NULL, NULL);
	rt_ua_timer_start(fc->dial, a->step->u.dial.timeout_s * 1000ull,
			  dial_timeout_h, c);
	if (a->step->u.dial.strategy == RT_DIAL_SIMULTANEOUS) {
		for (size_t i = 0; i < fc->nforks; i++)
			fork_start(c, &fc->forks[i]);
		fc->next = fc->nforks;
	}
	fork_next(c);
}

static void bridge(struct call *c)
{
	struct flowcall *fc = c->fl;
	struct fork *k = &fc->forks[fc->answered];

	rt_ua_timer_cancel(fc->step);
	rt_ua_timer_cancel(fc->dial);
	rt_ua_timer_cancel(k->ring);
	for (size_t i = 0; i < fc->nforks; i++) {
		if (&fc->forks[i] != k && fc->forks[i].leg)
			fork_drop(&fc->forks[i]);
	}
	flow_release_side(c, RT_MEDIA_A);
	flow_release_side(c, RT_MEDIA_B);
	rt_media_inband(c->media, RT_MEDIA_A, false);
	rt_media_inband(c->media, RT_MEDIA_B, false);
	rt_media_bridge(c->media, true);
	fc->ph = PH_BRIDGED;
	rt_strlcpy(fc->agent, k->t->value, sizeof(fc->agent));
	if (fc->record_bridged && c->record_path && c->b->hooks.recorder &&
	    !fc->recorded) {
		c->rec = rt_rec_open(c->b->hooks.recorder, c->id,
				     c->record_path, c->sd[RT_MEDIA_A].alaw);
		if (c->rec) {
			fc->recorded = true;
			rt_media_record(c->media, c->rec);
		}
	}
	rt_info("call answered", "agent=%s transcoding=%s recording=%s",
		fc->agent,
		c->sd[RT_MEDIA_A].alaw != c->sd[RT_MEDIA_B].alaw ? "yes" : "no",
		c->rec ? "yes" : "no");
	{
		struct rt_sip_event ev = {
			.kind = RT_SIP_EV_ANSWERED,
			.call_id = c->id,
			.at = rt_now_ms(),
			.side = RT_SIP_SIDE_CALLEE,
			.status = 200,
			.recording = c->rec != NULL,
		};

		rt_strlcpy(ev.agent, fc->agent, sizeof(ev.agent));
		emit_ev(c, &ev);
	}
}

static void accept_timeout_h(void *arg)
{
	struct call *c = arg;
	struct flowcall *fc = c->fl;
	struct fork *k = &fc->forks[fc->answered];

	log_ctx(c);
	rt_info("call flow agent did not accept", "");
	fc->answered = -1;
	flow_release_side(c, RT_MEDIA_B);
	rt_media_inband(c->media, RT_MEDIA_B, false);
	fc->ph = PH_DIAL;
	fork_over(c, k, RT_DIAL_NO_ANSWER);
	rt_log_ctx_clear();
}

static void fork_answered(struct call *c, struct fork *k,
			  const struct rt_ua_ev *ev)
{
	struct flowcall *fc = c->fl;
	struct rt_sdp s;
	const char *why = "the answer has no SDP";
	uint16_t st;

	if (fc->answered >= 0) {
		/* Another agent is hearing the whisper: this one is late. */
		fork_over(c, k, RT_DIAL_NO_ANSWER);
		return;
	}
	st = ev->sdp ? take_sdp(c, RT_MEDIA_B, ev->sdp, ev->sdp_len, &s, &why)
		     : 488;
	if (st) {
		char q[120];

		rt_info("flow target's media refused", "why=%s",
			rt_log_q(q, sizeof(q), why));
		fork_over(c, k, RT_DIAL_FAILED);
		return;
	}
	fc->answered = (int)(k - fc->forks);
	rt_ua_timer_cancel(k->ring);
	if (!fc->act->whisper[0]) {
		bridge(c);
		return;
	}
	if (!fc->act->whisper_accept) {
		/* Taken: the others stop ringing while it hears who calls. */
		for (size_t i = 0; i < fc->nforks; i++) {
			if (&fc->forks[i] != k && fc->forks[i].leg)
				fork_drop(&fc->forks[i]);
		}
	}
	flow_say(c, RT_MEDIA_B, fc->act->whisper, PH_WHISPER);
}

/* The agent of a bridged call hung up: the flow goes on (answered). */
static void agent_gone(struct call *c)
{
	struct flowcall *fc = c->fl;

	rt_media_bridge(c->media, false);
	if (c->rec) {
		rt_media_record(c->media, NULL);
		rt_rec_close(c->rec);
		c->rec = NULL;
	}
	fc->forks[fc->answered].res = RT_DIAL_ANSWERED;
	fork_drop(&fc->forks[fc->answered]);
	dial_finish(c, RT_DIAL_ANSWERED);
}

/* A leg's event in a call that runs a flow; false: not a fork's, the
 * caller's leg (handled as any call's). */
static bool flow_leg_h(struct call *c, struct rt_ua_leg *leg,
		       const struct rt_ua_ev *ev)
{
	struct flowcall *fc = c->fl;
	struct fork *k = NULL;

	if (leg == c->in) {
		if (ev->kind == RT_UA_CLOSED && fc->started)
			rt_flow_run_hangup(&fc->run, rt_now_ms());
		return false;
	}
	for (size_t i = 0; i < fc->nforks && !k; i++) {
		if (fc->forks[i].leg == leg)
			k = &fc->forks[i];
	}
	if (!k)
		return true;
	switch (ev->kind) {
	case RT_UA_PROGRESS:
		if (!c->ringing_sent) {
			c->ringing_sent = true;
			emit(c, RT_SIP_EV_RINGING, RT_SIP_SIDE_CALLEE,
			     ev->status, ev->reason, 0);
		}
		break;
	case RT_UA_ANSWERED:
		fork_answered(c, k, ev);
		break;
	case RT_UA_CLOSED:
		k->leg = NULL; /* over: libre frees nothing more of it */
		rt_ua_leg_free(leg);
		if (fc->ph == PH_BRIDGED &&
		    fc->answered == (int)(k - fc->forks)) {
			agent_gone(c);
		} else {
			if (fc->answered == (int)(k - fc->forks)) {
				/* Hung up on the whisper: not accepted. */
				fc->answered = -1;
				flow_release_side(c, RT_MEDIA_B);
				rt_media_inband(c->media, RT_MEDIA_B, false);
				rt_ua_timer_cancel(fc->step);
				fc->ph = PH_DIAL;
			}
			fork_over(c, k, fail_result(ev->status));
		}
		break;
	}
	rt_log_ctx_clear();
	return true;
}

/* The action the walk asks for. */
static void flow_action(struct call *c)
{
	struct flowcall *fc = c->fl;
	const struct rt_flow_action *a = fc->act;

	rt_media_inband(c->media, RT_MEDIA_A, a->kind == RT_ACT_MENU);
	switch (a->kind) {
	case RT_ACT_PLAY:
		flow_say_prompt(c, RT_MEDIA_A, a->prompt, PH_PROMPT);
		break;
	case RT_ACT_MENU:
		if (a->pre)
			flow_say_prompt(c, RT_MEDIA_A, a->pre, PH_PRE);
		else
			flow_say_prompt(c, RT_MEDIA_A, a->prompt, PH_PROMPT);
		break;
	case RT_ACT_DIAL:
		dial_start(c);
		break;
	case RT_ACT_VOICEMAIL:
		flow_say_prompt(c, RT_MEDIA_A, a->prompt, PH_PROMPT);
		break;
	case RT_ACT_HANGUP:
		flow_hangup(c);
		break;
	}
}

/* The round robin's counters are the hooks' (kept by the call service). */
static unsigned flow_rr_h(const struct rt_flow *f, int step, size_t n,
			  void *arg)
{
	struct call *c = arg;

	return c->b->hooks.rr ? c->b->hooks.rr(f, step, n, c->b->hooks.arg) : 0;
}

/* Answers the caller and starts the walk; the route's flow is c->fl's. */
static void flow_begin(struct call *c, const struct rt_sip_route *rt,
		       const struct rt_sip_invite *in,
		       const struct rt_sip_trunk *trunk, enum rt_sdp_dir dir)
{
	struct rt_b2bua *b = c->b;
	struct flowcall *fc = c->fl;
	int err = 0;

	rt_strlcpy(fc->tz, rt->tz, sizeof(fc->tz));
	fc->facts.tz = fc->tz[0] ? fc->tz : NULL;
	fc->facts.disclosure_on = rt->disclosure_on;
	for (int i = 0; i < RT_NFACTS; i++) {
		rt_strlcpy(fc->fv[i], rt->facts[i], sizeof(fc->fv[i]));
		fc->facts.v[i] = fc->fv[i][0] ? fc->fv[i] : NULL;
	}
	rt_strlcpy(fc->dialled, in->dialled, sizeof(fc->dialled));
	display_clean(rt->display[0] ? rt->display : in->caller_name,
		      fc->display, sizeof(fc->display));
	user_clean(in->caller[0] ? in->caller : in->caller_raw, fc->caller,
		   sizeof(fc->caller));
	fc->trunk = trunk;
	fc->record_bridged = rt->record_bridged;
	fc->answered = -1;
	err = rt_ua_timer_alloc(&fc->step);
	if (!err)
		err = rt_ua_timer_alloc(&fc->kick);
	if (!err)
		err = rt_ua_timer_alloc(&fc->dial);
	if (!err)
		err = rt_ua_timer_alloc(&c->ring);
	if (!err) {
		c->answer_a = local_sdp(c, RT_MEDIA_A, false,
					c->sd[RT_MEDIA_A].telev_pt, dir);
		err = c->answer_a ? rt_ua_leg_answer(c->in, c->answer_a)
				  : ENOMEM;
	}
	if (err) {
		call_end(c, RT_SIP_SIDE_SYSTEM, 500, "cannot answer the caller",
			 500, NULL);
		return;
	}
	c->st = S_ANSWERED;
	rt_media_bridge(c->media, false);
	if (b->conf->rtp_timeout_ms)
		rt_ua_timer_start(c->ring, b->conf->rtp_timeout_ms, rtp_watch_h,
				  c);
	err = rt_flow_run_start(&fc->run, fc->f, &fc->facts, flow_rr_h, c,
				rt_now_ms(), &fc->act);
	if (err) {
		call_end(c, RT_SIP_SIDE_SYSTEM, 500, "cannot run the flow", 0,
			 NULL);
		return;
	}
	fc->started = true;
	rt_info("call flow started", "flow=%lld version=%lld",
		(long long)fc->f->id, (long long)fc->f->version);
	flow_hops(c, false);
	flow_action(c);
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
	if (!rt.status && !rt.destination[0] && !rt.flow) {
		rt.status = 480;
		rt_strlcpy(rt.reason, "no destination", sizeof(rt.reason));
	}
	c = calloc(1, sizeof(*c));
	if (c && rt.flow && !rt.status) {
		c->fl = calloc(1, sizeof(*c->fl));
		if (c->fl)
			c->fl->f = rt.flow;
		else
			rt.status = 503;
	}
	if (!c || !c->fl)
		rt_flow_unref(rt.flow); /* not run (NULL is fine) */
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
	if (!st && c->fl) {
		flow_begin(c, &rt, &in, inv->trunk, answer_dir(offer.dir));
		return;
	}
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
	/* Flows' tones: 6 s of ringback (2 on, 4 off), 0.5 s of beep. */
	b->nringback = 6 * 8000;
	b->nbeep = 4000;
	b->ringback = calloc(b->nringback, sizeof(*b->ringback));
	b->beep = calloc(b->nbeep, sizeof(*b->beep));
	if (!b->ringback || !b->beep) {
		rt_b2bua_free(b);
		return ENOMEM;
	}
	for (size_t i = 0; i < 2 * 8000; i++)
		b->ringback[i] =
			(int16_t)(4000 * (sin(2 * M_PI * 440 * i / 8000.0) +
					  sin(2 * M_PI * 480 * i / 8000.0)));
	for (size_t i = 0; i < b->nbeep; i++)
		b->beep[i] =
			(int16_t)(8000 * sin(2 * M_PI * 1000 * i / 8000.0));
	*bp = b;
	return 0;
}

void rt_b2bua_free(struct rt_b2bua *b)
{
	if (!b)
		return;
	rt_b2bua_close_h(b);
	free(b->ringback);
	free(b->beep);
	free(b);
}
