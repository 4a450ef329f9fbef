/*
 * The RTP relay: each call has two sides (A the caller's, B the callee's),
 * each an RTP/RTCP port pair of Ringtrail's that its peer sends to.  A
 * packet from one side goes out of the other side's socket as it came
 * (sequence numbers, timestamps and SSRC untouched, so loss stays visible
 * end to end), with its payload type mapped and, when the sides chose
 * different G.711 laws, its payload transcoded.
 *
 * Latching (symmetric RTP): the first packet a side's socket receives
 * fixes where that side is sent to, whatever its SDP said, because NATs
 * rewrite addresses; packets from elsewhere are dropped after that.
 *
 * Plain sockets rather than libre's rtp_sock: libre's RTP sender rewrites
 * the header, and its receiver allocates a buffer per packet.
 *
 * Call flows: until a flow bridges the sides (rt_media_bridge), nothing is
 * relayed; each side's packets are still read for digits (RFC 4733, and
 * in-band tones through spandsp when asked) and for a voicemail's
 * recording, and Ringtrail speaks to a side itself (rt_media_play): 8 kHz
 * audio sent as G.711 RTP every 20 ms, with an SSRC of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <spandsp.h>

#include "media/g711.h"
#include "media/record.h"
#include "sip/sip_int.h"

#define RT_LOG_MODULE "sip"

#define RTP_RCVBUF (256 * 1024)
#define RTP_MAX	   2048
#define READ_BATCH 32 /* packets read per wake-up, so sides take turns */
#define PT_NONE	   (-1)
#define PT_CN	   13
#define FRAME	   160 /* samples of 20 ms at 8 kHz */
#define FRAME_MS   20

enum { RTP, RTCP };

struct ref {
	struct rt_media *m;
	uint8_t side, kind;
};

struct side {
	int fd[2];
	uint16_t port;
	struct ref ref[2];
	struct sockaddr_storage dst[2]; /* where this side is sent to */
	socklen_t dst_len[2];
	bool latched[2];
	int pt, telev_pt;
	bool alaw;
	uint64_t packets;
	/* RFC 4733: the timestamp of the last event reported, so that the
	 * three end packets of one digit make one digit. */
	uint32_t dtmf_ts;
	bool dtmf_reported, dtmf_any;
	/* In-band digits (spandsp), while asked for; a side that sent one
	 * RFC 4733 event is not listened to in-band again (its tones would
	 * count twice). */
	dtmf_rx_state_t *inband;
	/* What Ringtrail plays to this side: pcm (borrowed) from pos on. */
	struct rt_ua_timer *tick;
	const int16_t *pcm;
	size_t n, pos;
	bool loop, playing;
	rt_media_played_h *playedh;
	void *played_arg;
	uint64_t t0_ms, frames; /* when the play began, frames sent since */
	uint32_t ssrc, ts;	/* the local stream, continued across plays */
	uint16_t seq;
	bool marker;
};

struct rt_media {
	struct side s[2];
	bool bridged; /* packets relayed between the sides */
	struct rt_rec *rec;
	const uint8_t *a2u, *u2a; /* G.711 law to law, looked up once */
	rt_media_dtmf_h *dtmfh;
	void *arg;
};

/* ---- sockets ------------------------------------------------------------- */

static int bind_port(const struct rt_media_ports *ports, uint16_t port,
		     int *fdp)
{
	struct sockaddr_storage ss = ports->bind;
	int fd, rcv = RTP_RCVBUF, err;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&ss, ports->bind_len) != 0) {
		err = errno;
		close(fd);
		return err;
	}
	/* The default buffer overflows under load (telephony notes). */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	*fdp = fd;
	return 0;
}

/* An even RTP port and the RTCP port above it, taken in turn from the
 * range so that a port just freed rests before it is used again. */
static int bind_pair(struct rt_media_ports *ports, struct side *sd)
{
	unsigned span = (unsigned)(ports->max - ports->min + 1) / 2;

	for (unsigned i = 0; i < span; i++) {
		uint16_t p = ports->next;

		ports->next = (uint16_t)(p + 2);
		if (ports->next + 1 > ports->max || ports->next < ports->min)
			ports->next = ports->min;
		if (bind_port(ports, p, &sd->fd[RTP]))
			continue;
		if (bind_port(ports, (uint16_t)(p + 1), &sd->fd[RTCP])) {
			close(sd->fd[RTP]);
			sd->fd[RTP] = -1;
			continue;
		}
		sd->port = p;
		return 0;
	}
	return EADDRINUSE;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* ---- relaying ------------------------------------------------------------ */

static void dtmf(struct rt_media *m, int side, const uint8_t *pkt, size_t hdr,
		 size_t len)
{
	struct side *s = &m->s[side];
	static const char digits[] = "0123456789*#ABCD";
	uint32_t ts;
	uint8_t ev;

	s->dtmf_any = true; /* its tones, if any, are not read in-band */
	if (len < hdr + 4 || !(pkt[hdr + 1] & 0x80)) /* wait for the end */
		return;
	ev = pkt[hdr];
	memcpy(&ts, pkt + 4, 4);
	if (s->dtmf_reported && s->dtmf_ts == ts)
		return; /* the same event's end, sent again */
	s->dtmf_reported = true;
	s->dtmf_ts = ts;
	if (ev < 16 && m->dtmfh)
		m->dtmfh(side, digits[ev], m->arg);
}

/* Where an RTP packet's payload ends (its padding, counted in its last
 * byte, cut off), or 0 when the padding count is impossible. */
static size_t payload_end(const uint8_t *pkt, size_t hdr, size_t len)
{
	if (!(pkt[0] & 0x20))
		return len;
	return pkt[len - 1] <= len - hdr ? len - pkt[len - 1] : 0;
}

/* Maps the payload of a packet from side `from` for the other side; false
 * when it cannot be carried there. */
static bool map_payload(struct rt_media *m, int from, uint8_t *pkt, size_t hdr,
			size_t len)
{
	const struct side *s = &m->s[from], *o = &m->s[!from];
	int pt = pkt[1] & 0x7f, out;

	if (pt == s->telev_pt && pt != PT_NONE) {
		dtmf(m, from, pkt, hdr, len);
		out = o->telev_pt;
	} else if (pt == s->pt && pt != PT_NONE) {
		out = o->pt;
		if (s->alaw != o->alaw && out != PT_NONE) {
			const uint8_t *tab = s->alaw ? m->a2u : m->u2a;
			size_t end = payload_end(pkt, hdr, len);

			if (!end)
				return false;
			for (size_t i = hdr; i < end; i++)
				pkt[i] = tab[pkt[i]];
		}
	} else if (pt == PT_CN) {
		out = PT_CN;
	} else {
		return false;
	}
	if (out == PT_NONE)
		return false;
	pkt[1] = (uint8_t)((pkt[1] & 0x80) | out);
	return true;
}

/* A side's audio packet, as it came (before any transcoding), to the
 * recording: a copy into its ring, nothing that waits. */
static void record(struct rt_media *m, int from, const uint8_t *pkt, size_t hdr,
		   size_t len)
{
	const struct side *s = &m->s[from];
	size_t end = payload_end(pkt, hdr, len);
	uint32_t ts, ssrc;

	if ((pkt[1] & 0x7f) != s->pt || s->pt == PT_NONE || !end)
		return;
	memcpy(&ts, pkt + 4, 4);
	memcpy(&ssrc, pkt + 8, 4);
	rt_rec_audio(m->rec, from, ntohl(ts), ntohl(ssrc), s->alaw, pkt + hdr,
		     end - hdr);
}

/* spandsp's digits, from inside dtmf_rx on this thread. */
static void inband_h(void *arg, const char *digits, int len)
{
	const struct ref *r = arg;

	for (int i = 0; i < len && r->m->dtmfh; i++)
		r->m->dtmfh(r->side, digits[i], r->m->arg);
}

/* A packet of a side that is not relayed (a flow is talking to the
 * caller): its digits are read and its audio counted (the media
 * time-out), nothing is sent on. */
static void listen_only(struct rt_media *m, int from, const uint8_t *pkt,
			size_t hdr, size_t len)
{
	struct side *s = &m->s[from];
	int pt = pkt[1] & 0x7f;
	size_t end;

	if (pt == s->telev_pt && pt != PT_NONE) {
		dtmf(m, from, pkt, hdr, len);
		return;
	}
	if (pt != s->pt || pt == PT_NONE)
		return;
	s->packets++;
	end = payload_end(pkt, hdr, len);
	if (s->inband && !s->dtmf_any && end > hdr) {
		int16_t amp[RTP_MAX];
		size_t k = 0;

		for (size_t i = hdr; i < end; i++)
			amp[k++] = s->alaw ? rt_g711_alaw_decode(pkt[i])
					   : rt_g711_ulaw_decode(pkt[i]);
		dtmf_rx(s->inband, amp, (int)k);
	}
}

/* The RTP header's length, or 0 when the packet is not RTP. */
static size_t rtp_hdr_len(const uint8_t *p, size_t len)
{
	size_t hdr;

	if (len < 12 || (p[0] >> 6) != 2)
		return 0;
	hdr = 12 + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < hdr + 4)
			return 0;
		hdr += 4 + 4u * (size_t)((p[hdr + 2] << 8) | p[hdr + 3]);
	}
	return hdr <= len ? hdr : 0;
}

static void read_h(int flags, void *arg)
{
	const struct ref *r = arg;
	struct rt_media *m = r->m;
	int from = r->side, kind = r->kind;
	struct side *s = &m->s[from], *o = &m->s[!from];
	uint8_t pkt[RTP_MAX];
	(void)flags;

	for (int i = 0; i < READ_BATCH; i++) {
		struct sockaddr_storage src;
		socklen_t slen = sizeof(src);
		ssize_t n = recvfrom(s->fd[kind], pkt, sizeof(pkt), 0,
				     (struct sockaddr *)&src, &slen);
		size_t hdr = 0;

		if (n < 0)
			return; /* EAGAIN, or an ICMP error of an earlier send
				 */
		if (!s->latched[kind]) {
			s->dst[kind] = src;
			s->dst_len[kind] = slen;
			s->latched[kind] = true;
		} else if (!same_addr(&src, slen, &s->dst[kind],
				      s->dst_len[kind])) {
			continue;
		}
		if (kind == RTP) {
			hdr = rtp_hdr_len(pkt, (size_t)n);
			if (!hdr)
				continue;
			if (m->rec)
				record(m, from, pkt, hdr, (size_t)n);
			if (!m->bridged) {
				listen_only(m, from, pkt, hdr, (size_t)n);
				continue;
			}
			if (!map_payload(m, from, pkt, hdr, (size_t)n))
				continue;
			s->packets++;
		} else if (!m->bridged) {
			continue;
		}
		if (!o->dst_len[kind])
			continue;
		sendto(o->fd[kind], pkt, (size_t)n, 0,
		       (struct sockaddr *)&o->dst[kind], o->dst_len[kind]);
	}
}

/* ---- what Ringtrail says to a side ----------------------------------------
 */

static uint64_t mono_ms(void)
{
	return rt_mono_us() / 1000;
}

/* One 20 ms frame of the play, as RTP in the side's law; past the end of
 * the audio, silence (a loop starts over). */
static void send_frame(struct side *s)
{
	uint8_t pkt[12 + FRAME];

	pkt[0] = 0x80;
	pkt[1] = (uint8_t)((s->marker ? 0x80 : 0) | (s->pt & 0x7f));
	s->marker = false;
	pkt[2] = (uint8_t)(s->seq >> 8);
	pkt[3] = (uint8_t)s->seq;
	pkt[4] = (uint8_t)(s->ts >> 24);
	pkt[5] = (uint8_t)(s->ts >> 16);
	pkt[6] = (uint8_t)(s->ts >> 8);
	pkt[7] = (uint8_t)s->ts;
	memcpy(pkt + 8, &s->ssrc, 4);
	for (size_t i = 0; i < FRAME; i++) {
		int16_t v = 0;

		if (s->pos >= s->n && s->loop)
			s->pos = 0;
		if (s->pos < s->n) {
			v = s->pcm ? s->pcm[s->pos] : 0;
			s->pos++;
		}
		pkt[12 + i] = s->alaw ? rt_g711_alaw_encode(v)
				      : rt_g711_ulaw_encode(v);
	}
	s->seq++;
	s->ts += FRAME;
	if (s->pt != PT_NONE && s->dst_len[RTP])
		sendto(s->fd[RTP], pkt, sizeof(pkt), 0,
		       (struct sockaddr *)&s->dst[RTP], s->dst_len[RTP]);
}

/* Every 20 ms of the play's clock: the frames due (a late wake-up catches
 * up a few), then the next wake-up, or the end. */
static void tick_h(void *arg)
{
	struct ref *r = arg;
	struct side *s = &r->m->s[r->side];
	uint64_t now = mono_ms();
	int burst = 0;

	while (s->playing && s->t0_ms + s->frames * FRAME_MS <= now &&
	       burst++ < 5) {
		send_frame(s);
		s->frames++;
		if (!s->loop && s->pos >= s->n)
			s->playing = false;
	}
	if (s->playing) {
		uint64_t due = s->t0_ms + s->frames * FRAME_MS;

		rt_ua_timer_start(s->tick, due > now ? due - now : 1, tick_h,
				  arg);
		return;
	}
	/* Last: the handler may free the relay. */
	if (s->playedh)
		s->playedh(r->side, s->played_arg);
}

int rt_media_play(struct rt_media *m, int side, const int16_t *pcm, size_t n,
		  bool loop, rt_media_played_h *h, void *arg)
{
	struct side *s = &m->s[side];
	uint64_t now = mono_ms();
	int err;

	if (!s->tick) {
		err = rt_ua_timer_alloc(&s->tick);
		if (err)
			return err;
		rt_random_bytes(&s->ssrc, sizeof(s->ssrc));
		rt_random_bytes(&s->seq, sizeof(s->seq));
		rt_random_bytes(&s->ts, sizeof(s->ts));
	} else if (s->frames) {
		/* The stream's clock went on while nothing was played. */
		s->ts += (uint32_t)((now - s->t0_ms) * 8 - s->frames * FRAME);
	}
	s->pcm = pcm;
	s->n = n;
	s->pos = 0;
	s->loop = loop && n;
	s->playing = true;
	s->marker = true;
	s->playedh = h;
	s->played_arg = arg;
	s->t0_ms = now;
	s->frames = 0;
	rt_ua_timer_start(s->tick, 0, tick_h, &s->ref[RTP]);
	return 0;
}

void rt_media_stop(struct rt_media *m, int side)
{
	struct side *s = &m->s[side];

	if (!s->playing)
		return;
	s->playing = false;
	s->playedh = NULL;
	rt_ua_timer_cancel(s->tick);
}

void rt_media_bridge(struct rt_media *m, bool on)
{
	if (on) {
		rt_media_stop(m, RT_MEDIA_A);
		rt_media_stop(m, RT_MEDIA_B);
	}
	m->bridged = on;
}

int rt_media_inband(struct rt_media *m, int side, bool on)
{
	struct side *s = &m->s[side];

	if (!on) {
		if (s->inband)
			dtmf_rx_free(s->inband);
		s->inband = NULL;
		return 0;
	}
	if (s->inband)
		return 0;
	s->inband = dtmf_rx_init(NULL, inband_h, &s->ref[RTP]);
	return s->inband ? 0 : ENOMEM;
}

/* ---- the call's relay ---------------------------------------------------- */

int rt_media_alloc(struct rt_media **mp, struct rt_media_ports *ports,
		   rt_media_dtmf_h *dtmfh, void *arg)
{
	struct rt_media *m;
	int err = 0;

	m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->dtmfh = dtmfh;
	m->arg = arg;
	m->bridged = true;
	m->a2u = rt_g711_alaw_to_ulaw();
	m->u2a = rt_g711_ulaw_to_alaw();
	for (int i = 0; i < 2; i++) {
		m->s[i].fd[RTP] = m->s[i].fd[RTCP] = -1;
		m->s[i].pt = m->s[i].telev_pt = PT_NONE;
	}
	for (int i = 0; i < 2 && !err; i++) {
		struct side *sd = &m->s[i];

		err = bind_pair(ports, sd);
		for (int k = 0; k < 2 && !err; k++) {
			sd->ref[k] = (struct ref){m, (uint8_t)i, (uint8_t)k};
			err = rt_ua_fd_watch(sd->fd[k], read_h, &sd->ref[k]);
			if (err) {
				/* Not watched: closed here, not unwatched. */
				close(sd->fd[k]);
				sd->fd[k] = -1;
			}
		}
	}
	if (err) {
		rt_media_free(m);
		return err;
	}
	*mp = m;
	return 0;
}

void rt_media_free(struct rt_media *m)
{
	if (!m)
		return;
	for (int i = 0; i < 2; i++) {
		rt_ua_timer_free(m->s[i].tick);
		if (m->s[i].inband)
			dtmf_rx_free(m->s[i].inband);
		for (int k = 0; k < 2; k++) {
			if (m->s[i].fd[k] >= 0) {
				rt_ua_fd_unwatch(m->s[i].fd[k]);
				close(m->s[i].fd[k]);
			}
		}
	}
	free(m);
}

uint16_t rt_media_port(const struct rt_media *m, int side)
{
	return m->s[side].port;
}

int rt_media_set_remote(struct rt_media *m, int side, const char *addr,
			uint16_t port, int pt, bool alaw, int telev_pt)
{
	struct side *s = &m->s[side];
	struct sockaddr_storage ss;
	socklen_t len = 0;

	s->pt = pt;
	s->alaw = alaw;
	s->telev_pt = telev_pt;
	memset(&ss, 0, sizeof(ss));
	if (port && inet_pton(AF_INET, addr,
			      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else if (port &&
		   inet_pton(AF_INET6, addr,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	}
	if (len && ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
		len = 0; /* the old way to say hold: send nothing */
	for (int k = 0; k < 2; k++) {
		uint16_t p = (uint16_t)(port + k);

		if (!len) {
			s->dst_len[k] = 0;
			s->latched[k] = false;
			continue;
		}
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(p);
		/* A new address in the SDP: latch again on its packets. */
		if (!s->latched[k] ||
		    !same_addr(&ss, len, &s->dst[k], s->dst_len[k])) {
			s->dst[k] = ss;
			s->dst_len[k] = len;
			s->latched[k] = false;
		}
	}
	return 0;
}

void rt_media_record(struct rt_media *m, struct rt_rec *rec)
{
	m->rec = rec;
}

uint64_t rt_media_packets(const struct rt_media *m, int side)
{
	return m->s[side].packets;
}
