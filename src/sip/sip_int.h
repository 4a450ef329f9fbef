/*
 * Inside src/sip: the thin layer over libre (ua.c, the only file that sees
 * libre's headers), SDP (sdp.c), the RTP relay (media.c) and the call state
 * machine (b2bua.c).  Everything here runs on the SIP thread unless said
 * otherwise; nothing here is for other folders.
 */
#ifndef RT_SIP_INT_H
#define RT_SIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sip/sip.h"
#include "util/util.h"

/* ---- the layer over libre (ua.c) ---------------------------------------
 *
 * A leg is one SIP session, the caller's (inbound) or the one Ringtrail
 * places (outbound).  libre's objects stay behind these functions, so that
 * a move to a newer re (whose sipsess calls changed) touches ua.c only.
 */

struct rt_ua;
struct rt_ua_leg;

/* Timers and file descriptors of the SIP thread's loop. */
struct rt_ua_timer;
typedef void(rt_ua_timer_h)(void *arg);
int rt_ua_timer_alloc(struct rt_ua_timer **tp);
void rt_ua_timer_free(struct rt_ua_timer *t); /* NULL is fine */
void rt_ua_timer_start(struct rt_ua_timer *t, uint64_t ms, rt_ua_timer_h *h,
		       void *arg);
void rt_ua_timer_cancel(struct rt_ua_timer *t);

/* flags: the loop's readiness bits (the same as libre's fd_h, so that the
 * handler is passed through as it is). */
typedef void(rt_ua_fd_h)(int flags, void *arg);
/* Calls h when fd is readable.  0 or the loop's errno value. */
int rt_ua_fd_watch(int fd, rt_ua_fd_h *h, void *arg);
void rt_ua_fd_unwatch(int fd);

/* A new INVITE, as the layer hands it to the call machine; every pointer is
 * borrowed for the length of the call. */
struct rt_ua_invite {
	const char *call_id;
	const char *ruri_user; /* Request-URI user part, "" for none */
	const char *to_user;   /* To's user part */
	const char *from_user; /* From's user part */
	const char *from_name; /* From's display name, unquoted */
	const char *source;    /* "IP:PORT" */
	const char *transport; /* "udp", "tcp" */
	const struct rt_sip_trunk *trunk;
	const char *sdp; /* the offer; NULL when the INVITE had no body */
	size_t sdp_len;
};

enum rt_ua_ev_kind {
	RT_UA_PROGRESS, /* outbound: a 1xx (status, maybe sdp) */
	RT_UA_ANSWERED, /* outbound: the 2xx (sdp); inbound: the ACK */
	RT_UA_CLOSED,	/* the leg is over (see below); no event follows */
};

struct rt_ua_ev {
	enum rt_ua_ev_kind kind;
	uint16_t status; /* PROGRESS: 180, 183...; CLOSED: see below */
	const char *reason;
	const char *sdp; /* NULL when there was no body */
	size_t sdp_len;
	/*
	 * CLOSED: by_peer tells whether the other end ended the leg: a BYE
	 * (status 200), a CANCEL (487), a final failure of an outbound leg
	 * (its status); otherwise the layer did (status 408 for a time-out,
	 * 500 for a transport error).
	 */
	bool by_peer;
};

typedef void(rt_ua_leg_h)(struct rt_ua_leg *leg, const struct rt_ua_ev *ev,
			  void *arg);
/* A re-INVITE with an offer: write the answer into answer (0), or return an
 * errno value (488 goes back). */
typedef int(rt_ua_offer_h)(struct rt_ua_leg *leg, const char *sdp, size_t len,
			   struct rt_buf *answer, void *arg);

/*
 * A new INVITE passed the checks (source, trunk, headers) and got its 100
 * Trying: leg is the caller's leg, not yet answered.  The handler must end
 * it with rt_ua_leg_reject() or take it (rt_ua_leg_set_handlers) and later
 * progress, answer or reject it.
 */
typedef void(rt_ua_invite_h)(struct rt_ua_leg *leg,
			     const struct rt_ua_invite *inv, void *arg);
/* The stack is about to close (rt_sip_stop): end every call now; returns
 * how many there were (the loop then waits a moment for their BYEs). */
typedef size_t(rt_ua_close_h)(void *arg);

struct rt_ua_conf {
	const struct rt_sip_conf *sip;
	rt_ua_invite_h *inviteh;
	rt_ua_close_h *closeh;
	void *arg;
};

/* libre's own set-up and tear-down, on the SIP thread. */
int rt_ua_lib_init(void);
void rt_ua_lib_close(void);

/* Sets up the stack on the calling thread (the SIP thread): listens on
 * conf->sip->listen.  rt_ua_run() then loops until rt_ua_stop() is called
 * from another thread. */
int rt_ua_alloc(struct rt_ua **uap, const struct rt_ua_conf *conf);
int rt_ua_run(struct rt_ua *ua);
/* Frees the stack (on the SIP thread, after rt_ua_run returned). */
void rt_ua_free(struct rt_ua *ua);
/* From any thread: asks the loop to end its calls and stop. */
void rt_ua_stop(struct rt_ua *ua);
/* The bound SIP address. */
void rt_ua_laddr(const struct rt_ua *ua, struct sockaddr_storage *ss,
		 socklen_t *lenp);
/* The TLS port; 0 without TLS. */
uint16_t rt_ua_tls_port(const struct rt_ua *ua);

void rt_ua_leg_set_handlers(struct rt_ua_leg *leg, rt_ua_leg_h *h,
			    rt_ua_offer_h *offerh, void *arg);
/* Inbound: a provisional answer (180, 183) with an optional SDP. */
int rt_ua_leg_progress(struct rt_ua_leg *leg, uint16_t status, const char *sdp);
/* Inbound: 200 OK with the SDP answer. */
int rt_ua_leg_answer(struct rt_ua_leg *leg, const char *sdp);
/* Inbound, before an answer: a final failure (reason NULL: the standard
 * one).  The leg is then over: free it. */
int rt_ua_leg_reject(struct rt_ua_leg *leg, uint16_t status,
		     const char *reason);

/* An outbound leg: INVITE to to_uri with the SDP offer, From display name
 * and user (the caller's number), through trunk's proxy credentials when
 * trunk is not NULL. */
int rt_ua_leg_connect(struct rt_ua_leg **legp, struct rt_ua *ua,
		      const char *to_uri, const char *from_name,
		      const char *from_user, const struct rt_sip_trunk *trunk,
		      const char *sdp, rt_ua_leg_h *h, rt_ua_offer_h *offerh,
		      void *arg);

/* The Call-ID of an established or outbound leg (borrowed, valid while the
 * leg is), or NULL before sipsess has a dialog. */
const char *rt_ua_leg_call_id(const struct rt_ua_leg *leg);

/* Ends a leg and frees it: BYE when established, CANCEL when an outbound
 * leg has not been answered, 500 for an inbound one not yet answered (use
 * rt_ua_leg_reject for another status).  No event follows.  NULL is fine.
 */
void rt_ua_leg_free(struct rt_ua_leg *leg);

/* An OPTIONS to uri, outside any dialog: h gets the final status, or 0
 * when none came (a transport error, or libre's 32 s time-out).  Free with
 * rt_ua_ping_free, from h too; a ping freed before its answer reports
 * nothing. */
struct rt_ua_ping;
typedef void(rt_ua_ping_h)(uint16_t status, void *arg);
int rt_ua_ping(struct rt_ua_ping **pp, struct rt_ua *ua, const char *uri,
	       rt_ua_ping_h *h, void *arg);
void rt_ua_ping_free(struct rt_ua_ping *p); /* NULL is fine */

/* ---- SDP (sdp.c) --------------------------------------------------------- */

#define RT_SDP_FMT_MAX 32

enum rt_sdp_dir {
	RT_SDP_SENDRECV,
	RT_SDP_SENDONLY,
	RT_SDP_RECVONLY,
	RT_SDP_INACTIVE
};

struct rt_sdp_fmt {
	int pt;
	char name[32]; /* "PCMU", "telephone-event" */
	unsigned rate;
};

/* The first audio stream of a session description. */
struct rt_sdp {
	char addr[64]; /* connection address, as written */
	int af;	       /* AF_INET or AF_INET6 */
	uint16_t port; /* 0: the stream is refused */
	enum rt_sdp_dir dir;
	bool hold; /* sendonly, inactive, or the 0.0.0.0 address of RFC 2543 */
	struct rt_sdp_fmt fmts[RT_SDP_FMT_MAX];
	size_t nfmts;
};

/*
 * Parses an offer or answer.  0, or EINVAL (not SDP, or a line that breaks
 * its rules) or ENOENT (no audio stream over RTP/AVP), with *why saying
 * which.
 */
int rt_sdp_parse(const char *text, size_t len, struct rt_sdp *out,
		 const char **why);
/* The first G.711 format (PCMU or PCMA at 8000 Hz), or NULL. */
const struct rt_sdp_fmt *rt_sdp_g711(const struct rt_sdp *s);
/* The telephone-event format at 8000 Hz, or NULL. */
const struct rt_sdp_fmt *rt_sdp_telev(const struct rt_sdp *s);

/* What Ringtrail says of its own side of one leg. */
struct rt_sdp_local {
	const char *addr; /* its RTP address */
	int af;
	uint16_t port;
	uint64_t sess_id, version; /* o= line: version grows per change */
	/* G.711 formats in order of preference: the payload type (the
	 * peer's own number in an answer) and "PCMU" or "PCMA". */
	struct {
		int pt;
		const char *name;
	} fmts[2];
	size_t nfmts;
	int telev_pt; /* -1: none */
	enum rt_sdp_dir dir;
};
void rt_sdp_write(struct rt_buf *b, const struct rt_sdp_local *l);

/* ---- the RTP relay (media.c) -------------------------------------------- */

/* Where a call's RTP sockets are bound, and the ports they take. */
struct rt_media_ports {
	struct sockaddr_storage bind; /* the SIP listen address, port 0 */
	socklen_t bind_len;
	uint16_t min, max, next;
};

enum { RT_MEDIA_A, RT_MEDIA_B }; /* the caller's side, the callee's */

struct rt_media;
/* A digit of RFC 4733, seen once per event (at its end). */
typedef void(rt_media_dtmf_h)(int side, char digit, void *arg);

/* Binds an RTP/RTCP port pair for each side.  0, EADDRINUSE when the
 * range is full, or an errno value. */
int rt_media_alloc(struct rt_media **mp, struct rt_media_ports *ports,
		   rt_media_dtmf_h *dtmfh, void *arg);
void rt_media_free(struct rt_media *m); /* NULL is fine */
uint16_t rt_media_port(const struct rt_media *m, int side);
/* Where a side sends from, as its SDP says (until its first packet latches
 * the real source), the payload type of its G.711 codec and its law
 * (alaw: PCMA, else PCMU), and its telephone-event's (-1: none).  port 0
 * stops sending to the side. */
int rt_media_set_remote(struct rt_media *m, int side, const char *addr,
			uint16_t port, int pt, bool alaw, int telev_pt);
/*
 * Flows: whether packets are relayed between the sides (on after alloc).
 * Off, each side's packets are only read (digits, in-band digits when
 * asked, the recording) and counted; on, plays stop.
 */
void rt_media_bridge(struct rt_media *m, bool on);
/* Reports in-band DTMF of side's audio (spandsp) through the digit
 * handler too, until turned off; not for a side that sent RFC 4733 digits.
 * 0 or ENOMEM. */
int rt_media_inband(struct rt_media *m, int side, bool on);
/* Called once a play has been sent whole (not for a loop, nor a stop);
 * the handler may free the relay. */
typedef void(rt_media_played_h)(int side, void *arg);
/* Ringtrail speaks to side: pcm (8 kHz mono, borrowed until played or
 * stopped; NULL plays n samples of silence) as G.711 RTP every 20 ms in
 * the side's law, with a stream of its own, instead of what played
 * before; loop repeats it until stopped.  0 or ENOMEM. */
int rt_media_play(struct rt_media *m, int side, const int16_t *pcm, size_t n,
		  bool loop, rt_media_played_h *h, void *arg);
void rt_media_stop(struct rt_media *m, int side);
/* RTP packets relayed from a side (read, while not bridged). */
uint64_t rt_media_packets(const struct rt_media *m, int side);
struct rt_rec;
/* From now on each side's audio also goes to rec (record.h): the caller's
 * side on its channel 0, the callee's on 1.  rec stays the caller's to
 * close, after rt_media_free. */
void rt_media_record(struct rt_media *m, struct rt_rec *rec);

/* ---- the call machine (b2bua.c) ----------------------------------------- */

struct rt_b2bua;
int rt_b2bua_alloc(struct rt_b2bua **bp, struct rt_ua *ua,
		   const struct rt_sip_conf *conf,
		   const struct rt_sip_hooks *hooks,
		   struct rt_media_ports *ports);
void rt_b2bua_free(struct rt_b2bua *b);
/* The layer's handlers (rt_ua_conf): arg is the rt_b2bua. */
void rt_b2bua_invite_h(struct rt_ua_leg *leg, const struct rt_ua_invite *inv,
		       void *arg);
size_t rt_b2bua_close_h(void *arg);

/* ---- configuration helpers (conf.c) ------------------------------------- */

/* "HOST:PORT" or "[V6]:PORT" into a socket address.  0 or EINVAL. */
int rt_sip_addr_parse(const char *text, struct sockaddr_storage *ss,
		      socklen_t *lenp);
/* Whether a source address is in one of a trunk's networks. */
bool rt_sip_trunk_allows(const struct rt_sip_trunk *t,
			 const struct sockaddr *sa);
bool rt_sip_is_loopback(const struct sockaddr *sa);
/* "IP:PORT" of a socket address. */
void rt_sip_addr_fmt(const struct sockaddr *sa, char *out, size_t size);

#endif
