/*
 * A phone for simulations (sip.h): one user agent on the layer over libre
 * (ua.c) that places calls to Ringtrail as callers and answers the legs
 * Ringtrail forwards as the business's phone.  Both ends of a call are one
 * struct pcall, so that the phone's end can follow its caller's script.
 *
 *   caller:  INVITE out --> (ringing) --2xx--> talking --BYE--> over
 *                     \--give_up_ms: CANCEL; a failure --> over
 *   phone:   INVITE in (matched to its caller by the From number)
 *            --180--> ring_ms --> 200 (talking) | 486 | 480 --> over
 *
 * A call is done when both ends are over; when one end is over and the
 * other does not hear of it within LINGER_MS, the other is ended too.
 *
 * Media: each end has one RTP socket on the phone's address and sends a
 * G.711 frame every 20 ms from its answer on (its script's audio, then
 * silence), paced by one timer for all calls; what it receives is counted,
 * and so are the frames with sound in them.
 *
 * Threads: everything runs on the phone's thread, which owns every libre
 * object and socket; other threads queue commands (a call, a hang-up) under
 * a mutex and wake the loop through an eventfd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "media/g711.h"
#include "sip/sip_int.h"

#define RT_LOG_MODULE "phone"

#define FRAME_MS    20
#define FRAME	    160 /* samples in 20 ms at 8 kHz */
#define RTP_HDR	    12
#define RTP_MAX	    2048
#define READ_BATCH  32
#define LINGER_MS   4000 /* for the other end to hear that one hung up */
#define HEARD_LEVEL 100	 /* mean magnitude of a frame that is not silence */
#define PT_TELEV    101
#define MAX_BEHIND  10 /* frames: further behind, the stream skips ahead */

enum cstate { C_CALLING, C_ANSWERED, C_OVER };
enum astate { A_NONE, A_RINGING, A_ANSWERED, A_OVER };

struct pcall;

struct stream {
	struct pcall *c;
	int fd;
	uint16_t port;
	bool sending;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	int pt;
	bool alaw;
	uint16_t seq;
	uint32_t ts, ssrc;
	struct rt_sip_phone_audio audio;
	uint64_t t0_us, frames;
	uint64_t sent, recv, heard;
};

struct pcall {
	struct pcall *next, *prev;
	struct rt_sip_phone *ph;
	uint64_t seq; /* order of placing: the oldest call matches first */
	struct rt_sip_phone_call plan;
	rt_sip_phone_done_h *doneh;
	void *arg;
	struct rt_ua_leg *out, *in; /* the caller's leg, the phone's leg */
	struct stream cs, as;
	/* The caller's (give up, hang up), the phone's (ring, hang up), and
	 * the wait for the other end. */
	struct rt_ua_timer *ct, *at, *lt;
	enum cstate cst;
	enum astate ast;
	bool lingering;
	char *answer; /* the phone's SDP answer, sent when it answers */
	uint64_t t_start, t_answer, t_end; /* monotonic ms */
	struct rt_sip_phone_result res;
};

enum cmd_kind { CMD_CALL, CMD_HANGUP, CMD_PING };

/* A ping's state, on the stack of the thread that waits for it. */
struct ping {
	struct rt_sip_phone *ph;
	uint32_t timeout_ms;
	struct rt_ua_ping *op;
	struct rt_ua_timer *t;
	uint16_t status;
	bool done; /* under the phone's lock */
};

struct cmd {
	struct cmd *next;
	enum cmd_kind kind;
	struct rt_sip_phone_call plan;
	rt_sip_phone_done_h *doneh;
	void *arg;
	struct ping *ping;
};

struct rt_sip_phone {
	struct rt_sip_phone_conf conf;
	struct rt_sip_conf sip; /* what the layer over libre reads */
	struct rt_ua *ua;
	struct sockaddr_storage bind; /* the phone's address, port 0 */
	socklen_t bind_len;
	char addr[64];	   /* the same, for SDP */
	char sip_addr[80]; /* "IP:PORT" of its SIP */
	struct pcall *calls;
	uint64_t next_seq, next_sess;
	struct rt_ua_timer *tick;
	bool ticking;
	struct ping *ping; /* the one in progress */

	int efd;
	pthread_mutex_t lock;
	struct cmd *cmds, **cmds_tail; /* under lock */
	bool stopping;		       /* under lock */

	pthread_t thread;
	pthread_cond_t cond;
	bool ready;
	int err;
};

static uint64_t mono_ms(void)
{
	return rt_mono_us() / 1000;
}

/* ---- media ------------------------------------------------------------- */

static void tick_h(void *arg);

static void tick_start(struct rt_sip_phone *ph)
{
	if (ph->ticking)
		return;
	ph->ticking = true;
	rt_ua_timer_start(ph->tick, FRAME_MS, tick_h, ph);
}

/* The RTP header's length, or 0 when the packet is not RTP. */
static size_t rtp_hdr_len(const uint8_t *p, size_t len)
{
	size_t hdr;

	if (len < RTP_HDR || (p[0] >> 6) != 2)
		return 0;
	hdr = RTP_HDR + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < hdr + 4)
			return 0;
		hdr += 4 + 4u * (size_t)((p[hdr + 2] << 8) | p[hdr + 3]);
	}
	return hdr <= len ? hdr : 0;
}

static void read_h(int flags, void *arg)
{
	struct stream *s = arg;
	uint8_t pkt[RTP_MAX];
	(void)flags;

	for (int i = 0; i < READ_BATCH; i++) {
		ssize_t n = recv(s->fd, pkt, sizeof(pkt), 0);
		size_t hdr;
		uint64_t sum = 0;

		if (n < 0)
			return;
		hdr = rtp_hdr_len(pkt, (size_t)n);
		if (!hdr)
			continue;
		s->recv++;
		if ((pkt[1] & 0x7f) != s->pt || (size_t)n == hdr)
			continue;
		for (size_t k = hdr; k < (size_t)n; k++) {
			int v = s->alaw ? rt_g711_alaw_decode(pkt[k])
					: rt_g711_ulaw_decode(pkt[k]);

			sum += (uint64_t)(v < 0 ? -v : v);
		}
		if (sum / ((size_t)n - hdr) >= HEARD_LEVEL)
			s->heard++;
	}
}

static int stream_open(struct stream *s, struct pcall *c)
{
	struct rt_sip_phone *ph = c->ph;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint8_t r[10];
	int err;

	s->c = c;
	s->fd = socket(ph->bind.ss_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return errno;
	if (bind(s->fd, (struct sockaddr *)&ph->bind, ph->bind_len) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0) {
		err = errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	s->port = ntohs(ss.ss_family == AF_INET
				? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	err = rt_ua_fd_watch(s->fd, read_h, s);
	if (err) {
		close(s->fd);
		s->fd = -1;
		return err;
	}
	rt_random_bytes(r, sizeof(r));
	s->seq = (uint16_t)(r[0] << 8 | r[1]);
	s->ts = (uint32_t)r[2] << 24 | (uint32_t)r[3] << 16 |
		(uint32_t)r[4] << 8 | r[5];
	s->ssrc = (uint32_t)r[6] << 24 | (uint32_t)r[7] << 16 |
		  (uint32_t)r[8] << 8 | r[9];
	return 0;
}

static void stream_close(struct stream *s)
{
	s->sending = false;
	if (s->fd >= 0) {
		rt_ua_fd_unwatch(s->fd);
		close(s->fd);
		s->fd = -1;
	}
}

/* Where a stream sends, from the other end's SDP.  0 or EINVAL. */
static int stream_remote(struct stream *s, const struct rt_sdp *sdp,
			 const struct rt_sdp_fmt *g)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	s->dst_len = 0;
	if (inet_pton(AF_INET, sdp->addr,
		      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(sdp->port);
		s->dst_len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, sdp->addr,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(sdp->port);
		s->dst_len = sizeof(struct sockaddr_in6);
	} else {
		return EINVAL;
	}
	if (!sdp->port)
		s->dst_len = 0;
	s->dst = ss;
	s->pt = g->pt;
	s->alaw = strcasecmp(g->name, "PCMA") == 0;
	return 0;
}

static void stream_start(struct stream *s, const struct rt_sip_phone_audio *a)
{
	s->audio = *a;
	s->t0_us = rt_mono_us();
	s->frames = 0;
	s->sending = true;
	tick_start(s->c->ph);
}

static void send_frame(struct stream *s)
{
	uint8_t pkt[RTP_HDR + FRAME];
	uint64_t at = s->frames * FRAME;
	uint32_t ts = s->ts + (uint32_t)at;

	pkt[0] = 0x80;
	pkt[1] = (uint8_t)((s->sent == 0 ? 0x80 : 0) | (s->pt & 0x7f));
	pkt[2] = (uint8_t)(s->seq >> 8);
	pkt[3] = (uint8_t)s->seq;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(s->ssrc >> 24);
	pkt[9] = (uint8_t)(s->ssrc >> 16);
	pkt[10] = (uint8_t)(s->ssrc >> 8);
	pkt[11] = (uint8_t)s->ssrc;
	for (size_t i = 0; i < FRAME; i++) {
		int16_t v = at + i < s->audio.len ? s->audio.pcm[at + i] : 0;

		pkt[RTP_HDR + i] = s->alaw ? rt_g711_alaw_encode(v)
					   : rt_g711_ulaw_encode(v);
	}
	if (sendto(s->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&s->dst,
		   s->dst_len) == (ssize_t)sizeof(pkt))
		s->sent++;
	s->seq++;
	s->frames++;
}

/* Every frame that is due by now; a stream that fell far behind (a
 * stalled loop) skips ahead rather than sending a burst. */
static void stream_pace(struct stream *s, uint64_t now_us)
{
	uint64_t due;

	if (!s->sending || !s->dst_len || s->fd < 0)
		return;
	due = (now_us - s->t0_us) / (FRAME_MS * 1000) + 1;
	if (due > s->frames + MAX_BEHIND)
		s->frames = due - 1;
	while (s->frames < due)
		send_frame(s);
}

static void tick_h(void *arg)
{
	struct rt_sip_phone *ph = arg;
	uint64_t now = rt_mono_us();

	ph->ticking = false;
	for (struct pcall *c = ph->calls; c; c = c->next) {
		stream_pace(&c->cs, now);
		stream_pace(&c->as, now);
	}
	if (ph->calls)
		tick_start(ph);
}

/* ---- SDP --------------------------------------------------------------- */

/* The caller's offer: both laws, u-law first, and telephone-event. */
static char *offer_sdp(struct pcall *c)
{
	struct rt_sip_phone *ph = c->ph;
	struct rt_sdp_local l = {
		.addr = ph->addr,
		.af = ph->bind.ss_family,
		.port = c->cs.port,
		.sess_id = ++ph->next_sess,
		.version = 1,
		.fmts = {{0, "PCMU"}, {8, "PCMA"}},
		.nfmts = 2,
		.telev_pt = PT_TELEV,
		.dir = RT_SDP_SENDRECV,
	};
	struct rt_buf b;

	rt_buf_init(&b);
	rt_sdp_write(&b, &l);
	if (b.err) {
		rt_buf_release(&b);
		return NULL;
	}
	return rt_buf_detach(&b, NULL);
}

/* The phone's answer to Ringtrail's offer: its first G.711 format. */
static char *answer_sdp(struct pcall *c, const struct rt_sdp *offer,
			const struct rt_sdp_fmt *g)
{
	struct rt_sip_phone *ph = c->ph;
	const struct rt_sdp_fmt *te = rt_sdp_telev(offer);
	struct rt_sdp_local l = {
		.addr = ph->addr,
		.af = ph->bind.ss_family,
		.port = c->as.port,
		.sess_id = ++ph->next_sess,
		.version = 1,
		.fmts = {{g->pt, c->as.alaw ? "PCMA" : "PCMU"}},
		.nfmts = 1,
		.telev_pt = te ? te->pt : -1,
		.dir = RT_SDP_SENDRECV,
	};
	struct rt_buf b;

	rt_buf_init(&b);
	rt_sdp_write(&b, &l);
	if (b.err) {
		rt_buf_release(&b);
		return NULL;
	}
	return rt_buf_detach(&b, NULL);
}

/* Reads an SDP into a stream.  0, or EINVAL with *why. */
static int take_sdp(struct stream *s, const char *sdp, size_t len,
		    struct rt_sdp *out, const struct rt_sdp_fmt **gp,
		    const char **why)
{
	const struct rt_sdp_fmt *g;

	*why = "no SDP";
	if (!sdp || rt_sdp_parse(sdp, len, out, why))
		return EINVAL;
	g = rt_sdp_g711(out);
	if (!g) {
		*why = "no G.711";
		return EINVAL;
	}
	if (gp)
		*gp = g;
	*why = "bad connection address";
	return stream_remote(s, out, g);
}

/* ---- a call's ends ----------------------------------------------------- */

static void set_hangup(struct pcall *c, enum rt_sip_side side)
{
	if (c->res.hangup == RT_SIP_SIDE_NONE)
		c->res.hangup = side;
}

static void finish(struct pcall *c)
{
	struct rt_sip_phone *ph = c->ph;
	uint64_t now = mono_ms();

	rt_ua_leg_free(c->out);
	rt_ua_leg_free(c->in);
	c->out = c->in = NULL;
	if (!c->t_end)
		c->t_end = now;
	c->res.ring_ms = (c->t_answer ? c->t_answer : c->t_end) - c->t_start;
	c->res.talk_ms = c->t_answer ? c->t_end - c->t_answer : 0;
	c->res.caller_sent = c->cs.sent;
	c->res.caller_recv = c->cs.recv;
	c->res.caller_heard = c->cs.heard;
	c->res.agent_sent = c->as.sent;
	c->res.agent_recv = c->as.recv;
	c->res.agent_heard = c->as.heard;
	stream_close(&c->cs);
	stream_close(&c->as);
	rt_ua_timer_free(c->ct);
	rt_ua_timer_free(c->at);
	rt_ua_timer_free(c->lt);
	if (c->prev)
		c->prev->next = c->next;
	else
		ph->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rt_info("call done",
		"sip_call_id=%s status=%u answered=%s ring_ms=%llu "
		"talk_ms=%llu",
		c->res.sip_call_id[0] ? c->res.sip_call_id : "-", c->res.status,
		c->res.answered ? "yes" : "no",
		(unsigned long long)c->res.ring_ms,
		(unsigned long long)c->res.talk_ms);
	if (c->doneh)
		c->doneh(&c->res, c->arg);
	free(c->answer);
	free(c);
}

static void linger_h(void *arg)
{
	struct pcall *c = arg;

	/* The other end never heard: end it from here. */
	set_hangup(c, RT_SIP_SIDE_SYSTEM);
	finish(c);
}

/* Frees the call once both ends are over; with one end over, waits a
 * moment for the other. */
static void check_done(struct pcall *c)
{
	bool cdone = c->cst == C_OVER;
	bool adone = c->ast == A_NONE || c->ast == A_OVER;

	if (cdone && adone) {
		finish(c);
		return;
	}
	if ((cdone || c->ast == A_OVER) && !c->lingering) {
		c->lingering = true;
		rt_ua_timer_start(c->lt, LINGER_MS, linger_h, c);
	}
}

/* The caller's end is over (its leg is freed, or about to be). */
static void caller_over(struct pcall *c)
{
	c->cst = C_OVER;
	c->cs.sending = false;
	c->t_end = mono_ms();
	rt_ua_timer_cancel(c->ct);
}

static void agent_over(struct pcall *c)
{
	c->ast = A_OVER;
	c->as.sending = false;
	rt_ua_timer_cancel(c->at);
}

static void caller_hangup_h(void *arg)
{
	struct pcall *c = arg;

	rt_ua_leg_free(c->out); /* BYE */
	c->out = NULL;
	c->res.status = 200;
	set_hangup(c, RT_SIP_SIDE_CALLER);
	caller_over(c);
	check_done(c);
}

static void give_up_h(void *arg)
{
	struct pcall *c = arg;

	rt_ua_leg_free(c->out); /* CANCEL */
	c->out = NULL;
	c->res.status = 487;
	rt_strlcpy(c->res.reason, "the caller hung up while it rang",
		   sizeof(c->res.reason));
	set_hangup(c, RT_SIP_SIDE_CALLER);
	caller_over(c);
	check_done(c);
}

static void caller_leg_h(struct rt_ua_leg *leg, const struct rt_ua_ev *ev,
			 void *arg)
{
	struct pcall *c = arg;
	struct rt_sdp sdp;
	const char *why;
	(void)leg;

	switch (ev->kind) {
	case RT_UA_PROGRESS:
		break;
	case RT_UA_ANSWERED:
		c->cst = C_ANSWERED;
		c->t_answer = mono_ms();
		c->res.answered = true;
		c->res.status = 200;
		rt_strlcpy(c->res.reason, "OK", sizeof(c->res.reason));
		rt_ua_timer_cancel(c->ct);
		if (take_sdp(&c->cs, ev->sdp, ev->sdp_len, &sdp, NULL, &why))
			rt_warn("the answer's SDP is not usable", "why=\"%s\"",
				why);
		else
			stream_start(&c->cs, &c->plan.caller_audio);
		if (!c->plan.agent_hangs_up)
			rt_ua_timer_start(c->ct, c->plan.talk_ms,
					  caller_hangup_h, c);
		break;
	case RT_UA_CLOSED:
		if (!c->res.answered) {
			c->res.status = ev->status;
			rt_strlcpy(c->res.reason, ev->reason ? ev->reason : "",
				   sizeof(c->res.reason));
		}
		set_hangup(c, ev->by_peer ? RT_SIP_SIDE_CALLEE
					  : RT_SIP_SIDE_SYSTEM);
		rt_ua_leg_free(c->out);
		c->out = NULL;
		caller_over(c);
		check_done(c);
		break;
	}
}

static void agent_hangup_h(void *arg)
{
	struct pcall *c = arg;

	rt_ua_leg_free(c->in); /* BYE */
	c->in = NULL;
	set_hangup(c, RT_SIP_SIDE_CALLEE);
	agent_over(c);
	check_done(c);
}

static void ring_done_h(void *arg)
{
	struct pcall *c = arg;
	uint16_t st = 0;
	int err;

	switch (c->plan.answer) {
	case RT_SIP_PHONE_ANSWER:
		err = rt_ua_leg_answer(c->in, c->answer);
		if (err) {
			rt_warn("cannot answer", "err=\"%s\"", strerror(err));
			st = 500;
			break;
		}
		c->ast = A_ANSWERED;
		stream_start(&c->as, &c->plan.agent_audio);
		if (c->plan.agent_hangs_up)
			rt_ua_timer_start(c->at, c->plan.talk_ms,
					  agent_hangup_h, c);
		return;
	case RT_SIP_PHONE_BUSY:
		st = 486;
		break;
	case RT_SIP_PHONE_NO_ANSWER:
		st = 480;
		break;
	}
	rt_ua_leg_reject(c->in, st, NULL);
	rt_ua_leg_free(c->in);
	c->in = NULL;
	agent_over(c);
	check_done(c);
}

static void agent_leg_h(struct rt_ua_leg *leg, const struct rt_ua_ev *ev,
			void *arg)
{
	struct pcall *c = arg;
	(void)leg;

	if (ev->kind != RT_UA_CLOSED)
		return;
	/* Ringtrail's BYE or CANCEL: the caller's end went first. */
	rt_ua_leg_free(c->in);
	c->in = NULL;
	agent_over(c);
	check_done(c);
}

/* The oldest call from `from` whose phone end has not rung yet. */
static struct pcall *match(struct rt_sip_phone *ph, const char *from)
{
	struct pcall *best = NULL;

	for (struct pcall *c = ph->calls; c; c = c->next) {
		if (c->ast != A_NONE || c->cst == C_OVER ||
		    strcmp(c->plan.from, from) != 0)
			continue;
		if (!best || c->seq < best->seq)
			best = c;
	}
	return best;
}

static void invite_h(struct rt_ua_leg *leg, const struct rt_ua_invite *inv,
		     void *arg)
{
	struct rt_sip_phone *ph = arg;
	struct pcall *c = match(ph, inv->from_user);
	const struct rt_sdp_fmt *g;
	struct rt_sdp offer;
	const char *why;
	int err;

	if (!c) {
		rt_info("call for nobody", "from=\"%s\"", inv->from_user);
		rt_ua_leg_reject(leg, 480,
				 "Temporarily Unavailable (no call "
				 "expected from this number)");
		rt_ua_leg_free(leg);
		return;
	}
	c->in = leg;
	c->ast = A_RINGING;
	c->res.reached = true;
	rt_ua_leg_set_handlers(leg, agent_leg_h, NULL, c);
	err = stream_open(&c->as, c);
	if (!err)
		err = take_sdp(&c->as, inv->sdp, inv->sdp_len, &offer, &g,
			       &why);
	else
		why = strerror(err);
	if (!err) {
		c->answer = answer_sdp(c, &offer, g);
		if (!c->answer) {
			err = ENOMEM;
			why = "out of memory";
		}
	}
	if (err) {
		rt_warn("cannot take the forwarded call", "why=\"%s\"", why);
		rt_ua_leg_reject(leg, 488, NULL);
		rt_ua_leg_free(leg);
		c->in = NULL;
		agent_over(c);
		check_done(c);
		return;
	}
	if (c->plan.answer != RT_SIP_PHONE_BUSY)
		rt_ua_leg_progress(leg, 180, NULL);
	rt_ua_timer_start(c->at, c->plan.ring_ms, ring_done_h, c);
}

/* ---- commands from other threads ---------------------------------------- */

static void place(struct rt_sip_phone *ph, struct cmd *cmd)
{
	struct pcall *c = calloc(1, sizeof(*c));
	char uri[RT_SIP_URI_MAX], *offer = NULL;
	const char *id;
	int err;

	if (!c) {
		struct rt_sip_phone_result r = {.status = 500,
						.reason = "out of memory",
						.hangup = RT_SIP_SIDE_SYSTEM};

		if (cmd->doneh)
			cmd->doneh(&r, cmd->arg);
		return;
	}
	c->ph = ph;
	c->seq = ++ph->next_seq;
	c->plan = cmd->plan;
	c->doneh = cmd->doneh;
	c->arg = cmd->arg;
	c->cs.fd = c->as.fd = -1;
	c->t_start = mono_ms();
	if ((c->next = ph->calls))
		c->next->prev = c;
	ph->calls = c;
	err = rt_ua_timer_alloc(&c->ct);
	if (!err)
		err = rt_ua_timer_alloc(&c->at);
	if (!err)
		err = rt_ua_timer_alloc(&c->lt);
	if (!err)
		err = stream_open(&c->cs, c);
	if (!err) {
		offer = offer_sdp(c);
		err = offer ? 0 : ENOMEM;
	}
	if (!err && (size_t)snprintf(uri, sizeof(uri), "sip:%s@%s", c->plan.to,
				     ph->conf.server) >= sizeof(uri))
		err = EINVAL;
	if (!err)
		err = rt_ua_leg_connect(&c->out, ph->ua, uri, c->plan.from_name,
					c->plan.from, NULL, offer, caller_leg_h,
					NULL, c);
	free(offer);
	if (err) {
		c->res.status = 500;
		snprintf(c->res.reason, sizeof(c->res.reason),
			 "cannot call: %s", strerror(err));
		c->res.hangup = RT_SIP_SIDE_SYSTEM;
		caller_over(c);
		finish(c);
		return;
	}
	id = rt_ua_leg_call_id(c->out);
	rt_strlcpy(c->res.sip_call_id, id ? id : "",
		   sizeof(c->res.sip_call_id));
	if (c->plan.give_up_ms)
		rt_ua_timer_start(c->ct, c->plan.give_up_ms, give_up_h, c);
}

/* Hangs up every call from the caller's end (BYE or CANCEL); the phone's
 * end hears it from Ringtrail. */
static void hangup_all(struct rt_sip_phone *ph)
{
	struct pcall *c = ph->calls, *next;

	for (; c; c = next) {
		next = c->next;
		c->res.interrupted = true;
		if (c->cst == C_OVER)
			continue;
		rt_ua_leg_free(c->out);
		c->out = NULL;
		if (!c->res.answered) {
			c->res.status = 487;
			rt_strlcpy(c->res.reason, "interrupted",
				   sizeof(c->res.reason));
		}
		set_hangup(c, RT_SIP_SIDE_CALLER);
		caller_over(c);
		check_done(c);
	}
}

/* ---- OPTIONS ------------------------------------------------------------- */

static void ping_end(struct ping *pg, uint16_t status)
{
	struct rt_sip_phone *ph = pg->ph;

	rt_ua_ping_free(pg->op);
	rt_ua_timer_free(pg->t);
	ph->ping = NULL;
	pthread_mutex_lock(&ph->lock);
	pg->status = status;
	pg->done = true;
	pthread_cond_broadcast(&ph->cond);
	pthread_mutex_unlock(&ph->lock);
}

static void ping_h(uint16_t status, void *arg)
{
	ping_end(arg, status);
}

static void ping_timeout_h(void *arg)
{
	ping_end(arg, 0);
}

static void ping_start(struct rt_sip_phone *ph, struct ping *pg)
{
	char uri[RT_SIP_URI_MAX];

	pg->ph = ph;
	if (ph->ping) { /* one at a time */
		ping_end(pg, 0);
		return;
	}
	ph->ping = pg;
	snprintf(uri, sizeof(uri), "sip:%s", ph->conf.server);
	if (rt_ua_timer_alloc(&pg->t) ||
	    rt_ua_ping(&pg->op, ph->ua, uri, ping_h, pg)) {
		ping_end(pg, 0);
		return;
	}
	rt_ua_timer_start(pg->t, pg->timeout_ms, ping_timeout_h, pg);
}

static void cmd_h(int flags, void *arg)
{
	struct rt_sip_phone *ph = arg;
	struct cmd *list, *next;
	uint64_t v;
	(void)flags;

	if (read(ph->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&ph->lock);
	list = ph->cmds;
	ph->cmds = NULL;
	ph->cmds_tail = &ph->cmds;
	pthread_mutex_unlock(&ph->lock);
	for (; list; list = next) {
		next = list->next;
		if (list->kind == CMD_CALL)
			place(ph, list);
		else if (list->kind == CMD_PING)
			ping_start(ph, list->ping);
		else
			hangup_all(ph);
		free(list);
	}
}

/* The stop: every call ends now, both ends at once. */
static size_t close_h(void *arg)
{
	struct rt_sip_phone *ph = arg;
	size_t n = 0;

	if (ph->ping)
		ping_end(ph->ping, 0);
	while (ph->calls) {
		struct pcall *c = ph->calls;

		c->res.interrupted = true;
		if (!c->res.answered && c->cst != C_OVER) {
			c->res.status = 487;
			rt_strlcpy(c->res.reason, "interrupted",
				   sizeof(c->res.reason));
		}
		set_hangup(c, RT_SIP_SIDE_CALLER);
		finish(c);
		n++;
	}
	return n;
}

static int push(struct rt_sip_phone *ph, struct cmd *cmd)
{
	uint64_t one = 1;

	pthread_mutex_lock(&ph->lock);
	if (ph->stopping) {
		pthread_mutex_unlock(&ph->lock);
		free(cmd);
		return ESHUTDOWN;
	}
	*ph->cmds_tail = cmd;
	ph->cmds_tail = &cmd->next;
	pthread_mutex_unlock(&ph->lock);
	if (write(ph->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return errno;
	return 0;
}

int rt_sip_phone_call(struct rt_sip_phone *p, const struct rt_sip_phone_call *c,
		      rt_sip_phone_done_h *h, void *arg)
{
	struct cmd *cmd = calloc(1, sizeof(*cmd));

	if (!cmd)
		return ENOMEM;
	cmd->kind = CMD_CALL;
	cmd->plan = *c;
	cmd->doneh = h;
	cmd->arg = arg;
	return push(p, cmd);
}

uint16_t rt_sip_phone_ping(struct rt_sip_phone *p, uint32_t timeout_ms)
{
	struct cmd *cmd = calloc(1, sizeof(*cmd));
	struct ping pg = {.timeout_ms = timeout_ms};

	if (!cmd)
		return 0;
	cmd->kind = CMD_PING;
	cmd->ping = &pg;
	if (push(p, cmd))
		return 0;
	pthread_mutex_lock(&p->lock);
	while (!pg.done)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return pg.status;
}

void rt_sip_phone_hangup(struct rt_sip_phone *p)
{
	struct cmd *cmd = calloc(1, sizeof(*cmd));

	if (cmd) {
		cmd->kind = CMD_HANGUP;
		push(p, cmd);
	}
}

/* ---- the thread ---------------------------------------------------------- */

static void started(struct rt_sip_phone *ph, int err)
{
	pthread_mutex_lock(&ph->lock);
	ph->err = err;
	ph->ready = true;
	pthread_cond_signal(&ph->cond);
	pthread_mutex_unlock(&ph->lock);
}

static int bound(struct rt_sip_phone *ph)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char *colon;

	rt_ua_laddr(ph->ua, &ss, &len);
	rt_sip_addr_fmt((struct sockaddr *)&ss, ph->sip_addr,
			sizeof(ph->sip_addr));
	ph->bind = ss;
	ph->bind_len = len;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ph->bind)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ph->bind)->sin6_port = 0;
	/* "IP:PORT" or "[IP]:PORT": the address alone for SDP. */
	rt_strlcpy(ph->addr,
		   ph->sip_addr[0] == '[' ? ph->sip_addr + 1 : ph->sip_addr,
		   sizeof(ph->addr));
	colon = strrchr(ph->addr, ph->sip_addr[0] == '[' ? ']' : ':');
	if (!colon)
		return EINVAL;
	*colon = '\0';
	return 0;
}

static void *thread_main(void *arg)
{
	struct rt_sip_phone *ph = arg;
	struct rt_ua_conf uc = {&ph->sip, invite_h, close_h, ph};
	struct cmd *left;
	sigset_t all;
	int err;

	/* Signals are the main thread's (simulate's Ctrl-C). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	rt_log_ctx_clear();
	err = rt_ua_lib_init();
	if (!err)
		err = rt_ua_alloc(&ph->ua, &uc);
	if (!err)
		err = bound(ph);
	if (!err)
		err = rt_ua_timer_alloc(&ph->tick);
	if (!err)
		err = rt_ua_fd_watch(ph->efd, cmd_h, ph);
	if (err) {
		rt_ua_timer_free(ph->tick);
		rt_ua_free(ph->ua);
		rt_ua_lib_close();
		started(ph, err);
		return NULL;
	}
	started(ph, 0);
	rt_ua_run(ph->ua);
	close_h(ph);
	rt_ua_fd_unwatch(ph->efd);
	rt_ua_timer_free(ph->tick);
	rt_ua_free(ph->ua);
	rt_ua_lib_close();
	/* Calls asked for after the stop began were never placed. */
	pthread_mutex_lock(&ph->lock);
	left = ph->cmds;
	ph->cmds = NULL;
	ph->cmds_tail = &ph->cmds;
	pthread_mutex_unlock(&ph->lock);
	while (left) {
		struct cmd *next = left->next;

		if (left->kind == CMD_PING) {
			pthread_mutex_lock(&ph->lock);
			left->ping->done = true;
			pthread_cond_broadcast(&ph->cond);
			pthread_mutex_unlock(&ph->lock);
		} else if (left->kind == CMD_CALL && left->doneh) {
			struct rt_sip_phone_result r =
				{.reason = "not placed: the phone stopped",
				 .interrupted = true,
				 .hangup = RT_SIP_SIDE_SYSTEM};

			left->doneh(&r, left->arg);
		}
		free(left);
		left = next;
	}
	return NULL;
}

/* Ringtrail's INVITEs come from its SIP address: allowed as a trunk of its
 * own when that is not loopback (loopback is always allowed without). */
static int server_trunk(struct rt_sip_phone *ph)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char ip[INET6_ADDRSTRLEN], text[128], err[128];

	if (rt_sip_addr_parse(ph->conf.server, &ss, &len))
		return EINVAL;
	if (rt_sip_is_loopback((struct sockaddr *)&ss))
		return 0;
	if (!inet_ntop(ss.ss_family,
		       ss.ss_family == AF_INET
			       ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
			       : (void *)&((struct sockaddr_in6 *)&ss)
					 ->sin6_addr,
		       ip, sizeof(ip)))
		return EINVAL;
	snprintf(text, sizeof(text), "ringtrail from=%s", ip);
	if (rt_sip_trunk_parse(text, &ph->sip.trunks[0], err, sizeof(err)))
		return EINVAL;
	ph->sip.ntrunks = 1;
	return 0;
}

int rt_sip_phone_start(struct rt_sip_phone **pp,
		       const struct rt_sip_phone_conf *conf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct rt_sip_phone *ph;
	int err;

	if (rt_sip_addr_parse(conf->listen, &ss, &len) ||
	    rt_sip_addr_parse(conf->server, &ss, &len))
		return EINVAL;
	ph = calloc(1, sizeof(*ph));
	if (!ph)
		return ENOMEM;
	ph->conf = *conf;
	rt_strlcpy(ph->sip.listen, conf->listen, sizeof(ph->sip.listen));
	ph->sip.ring_timeout_ms = 60000;
	err = server_trunk(ph);
	if (err) {
		free(ph);
		return err;
	}
	ph->cmds_tail = &ph->cmds;
	ph->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ph->efd < 0) {
		err = errno;
		free(ph);
		return err;
	}
	pthread_mutex_init(&ph->lock, NULL);
	pthread_cond_init(&ph->cond, NULL);
	err = pthread_create(&ph->thread, NULL, thread_main, ph);
	if (err)
		goto fail;
	pthread_mutex_lock(&ph->lock);
	while (!ph->ready)
		pthread_cond_wait(&ph->cond, &ph->lock);
	err = ph->err;
	pthread_mutex_unlock(&ph->lock);
	if (err) {
		pthread_join(ph->thread, NULL);
		goto fail;
	}
	*pp = ph;
	return 0;
fail:
	pthread_cond_destroy(&ph->cond);
	pthread_mutex_destroy(&ph->lock);
	close(ph->efd);
	free(ph);
	return err;
}

void rt_sip_phone_uri(const struct rt_sip_phone *p, char *out, size_t size)
{
	snprintf(out, size, "sip:agent@%s", p->sip_addr);
}

void rt_sip_phone_stop(struct rt_sip_phone *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_mutex_unlock(&p->lock);
	rt_ua_stop(p->ua);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	close(p->efd);
	free(p);
}
