/*
 * sip: the SIP signalling core.  Ringtrail answers carriers' INVITEs as a
 * back-to-back user agent: it asks a routing hook where a call goes, places
 * the outbound leg, bridges the two and anchors their media, and reports
 * what happens to the call through an event hook.
 *
 * Threads: rt_sip_start() runs libre's event loop on a thread of its own,
 * the SIP thread, which owns every SIP and RTP object.  Both hooks are
 * called on that thread, one call at a time: they must answer from memory
 * and never wait on the disk or the network (a hook that blocks stalls
 * every call in progress).  Nothing else of the process touches libre.
 *
 * Ownership: rt_sip_start() copies the configuration; the hooks' arg is
 * borrowed and must outlive rt_sip_stop().  Pointers inside the structs
 * handed to a hook are borrowed for the length of that call.
 */
#ifndef RT_SIP_H
#define RT_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

#define RT_SIP_TRUNKS_MAX 32 /* trunks in a configuration */
#define RT_SIP_NETS_MAX	  16 /* source addresses or networks of a trunk */
#define RT_SIP_NAME_MAX	  32 /* a trunk's name */
#define RT_SIP_CRED_MAX	  64 /* a user name or a password */
#define RT_SIP_URI_MAX	  256

/* An address or network a trunk sends from: 203.0.113.7, 198.51.100.0/24,
 * 2001:db8::/32. */
struct rt_sip_net {
	int af; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};

/*
 * A trunk: a carrier that sends calls in, and the way calls go out to
 * phone numbers.  An INVITE belongs to the first trunk that allows its
 * source address (or, for a trunk with credentials and no addresses, to
 * the one whose credentials it proves).
 */
struct rt_sip_trunk {
	char name[RT_SIP_NAME_MAX];
	struct rt_sip_net from[RT_SIP_NETS_MAX];
	size_t nfrom;
	/* Digest credentials the carrier must prove; "" for none. */
	char user[RT_SIP_CRED_MAX], password[RT_SIP_CRED_MAX];
	/* ISO 3166-1 alpha-2 for numbers the carrier sends in national form. */
	char country[3];
	/* Where legs to phone numbers go ("sip:sbc.example.net:5060"; "" when
	 * this trunk places no calls), with the credentials to answer its
	 * challenges. */
	char proxy[RT_SIP_URI_MAX];
	char proxy_user[RT_SIP_CRED_MAX], proxy_password[RT_SIP_CRED_MAX];
};

/*
 * Parses a trunk as written in the configuration (`sip_trunk`):
 *
 *   NAME [from=ADDR[/BITS],...] [user=U password=P] [country=CC]
 *        [proxy=sip:HOST[:PORT]] [proxy_user=U proxy_password=P]
 *
 * Returns 0, or EINVAL with a message naming the bad part in err.
 */
int rt_sip_trunk_parse(const char *text, struct rt_sip_trunk *t, char *err,
		       size_t errsz);

struct rt_sip_conf {
	/* "HOST:PORT" for UDP and TCP; HOST must be an address of this host
	 * (the one SDP and Contact headers carry); port 0 picks a free one. */
	char listen[128];
	struct rt_sip_trunk trunks[RT_SIP_TRUNKS_MAX];
	size_t ntrunks;		   /* 0: only loopback sources are accepted */
	uint64_t ring_timeout_ms;  /* an unanswered leg is given up after it */
	uint16_t rtp_min, rtp_max; /* RTP ports, each call takes 2 pairs */
	/* SIP over TLS too, on listen's address at tls_port (0: any), with
	 * this PEM file's certificate and key; "" for none. */
	char tls_cert[512];
	uint16_t tls_port;
	uint32_t min_se_secs; /* RFC 4028: shorter session intervals: 422 */
	/* An answered call without RTP either way this long is ended (0:
	 * never); not while a side holds. */
	uint64_t rtp_timeout_ms;
};

struct rt_conf;
/*
 * Fills sc from the configuration snapshot: sip_listen, each sip_trunk
 * line, sip_ring_timeout and sip_rtp_ports.  Returns 0, or EINVAL with a
 * message naming the key in err.
 */
int rt_sip_conf_load(struct rt_sip_conf *sc, const struct rt_conf *c, char *err,
		     size_t errsz);

/* What the routing hook sees of an INVITE. */
struct rt_sip_invite {
	const char *sip_call_id;
	char dialled[20];     /* E.164, "" when the number is not valid */
	char dialled_raw[64]; /* as sent: Request-URI user (else To) */
	char caller[20];      /* E.164, "" when withheld or not a number */
	char caller_raw[64];  /* From's user part, as sent */
	char caller_name[64]; /* From's display name, "" for none */
	const char *trunk;    /* the trunk's name ("loopback" without trunks) */
	char source[64];      /* "IP:PORT" of the carrier */
	const char *transport; /* "udp" or "tcp" */
	int64_t at;	       /* ms since the epoch */
};

/* The routing hook's answer (zeroed before the hook is called). */
struct rt_sip_route {
	/* 0 to forward; else the final SIP status for the caller (404, 480,
	 * 503...) with its reason phrase ("" for the standard one). */
	uint16_t status;
	char reason[64];
	/* Where the call goes: a sip: URI, or an E.164 number sent through
	 * the outbound trunk. */
	char destination[RT_SIP_URI_MAX];
	char display[64]; /* display name of the outbound leg's caller id */
	/* The call service's id of this call, handed back in every event;
	 * 0 when it keeps no record (then no events are sent). */
	int64_t call_id;
	/* Where the call is recorded once answered, relative to the
	 * recorder's folder; "" for not recorded. */
	char record_path[256];
	/*
	 * A call flow to run (docs/flows.md) instead of forwarding to
	 * destination: one reference, which the SIP side takes over (it is
	 * released when the call ends); NULL forwards.  With a flow the
	 * caller is answered by Ringtrail, and record_path is given for a
	 * voicemail step even when the number is not recorded: then
	 * record_bridged is false and a bridged call is not recorded.
	 */
	struct rt_flow *flow;
	bool record_bridged;
	/* What the flow branches on (strings copied by the SIP side). */
	char tz[64];	    /* the account's time zone */
	bool disclosure_on; /* the account's recording notices */
	char facts[RT_NFACTS][128];
};

enum rt_sip_event_kind {
	RT_SIP_EV_RINGING,     /* the destination rings (180) */
	RT_SIP_EV_EARLY_MEDIA, /* the destination sends audio before answering
				*/
	RT_SIP_EV_ANSWERED,
	RT_SIP_EV_DTMF, /* an RFC 4733 digit, from side */
	RT_SIP_EV_HOLD, /* side put the other on hold */
	RT_SIP_EV_UNHOLD,
	RT_SIP_EV_ENDED, /* the last event of every call */
	/* Flows: a step the flow left (or ended in), in order. */
	RT_SIP_EV_FLOW_STEP,
	/* Flows: a voicemail's recording began (into the route's
	 * record_path). */
	RT_SIP_EV_VOICEMAIL,
};

enum rt_sip_side {
	RT_SIP_SIDE_NONE,
	RT_SIP_SIDE_CALLER,
	RT_SIP_SIDE_CALLEE,
	RT_SIP_SIDE_SYSTEM, /* Ringtrail: a time-out, a failure, a shutdown */
};

struct rt_sip_event {
	enum rt_sip_event_kind kind;
	int64_t call_id;       /* the route's call_id */
	int64_t at;	       /* ms since the epoch */
	enum rt_sip_side side; /* DTMF, HOLD, UNHOLD: who; ENDED: who ended */
	char digit;	       /* DTMF: 0-9 * # A-D */
	/* ENDED: the status the call ended with (200 after a BYE; the
	 * callee's final status, 480 for no answer, 487 when the caller
	 * hung up first...) and its reason. */
	uint16_t status;
	char reason[64];
	/* ENDED: RTP packets relayed from the caller and from the callee. */
	uint64_t rtp_from_caller, rtp_from_callee;
	/* ANSWERED: the recording of the route's record_path began. */
	bool recording;
	/* FLOW_STEP: the step's id and type, the exit it left by ("" when
	 * the call ended in it) and what it decided or heard. */
	char step[RT_FLOW_ID_MAX], step_type[16], exit[40], detail[96];
	/* ANSWERED in a flow: the dial target that answered (a sip: URI or
	 * an E.164 number). */
	char agent[RT_SIP_URI_MAX];
	/* ENDED: the flow's run (digits, time in menus, tags, value, lead,
	 * fields), borrowed for the hook's call; NULL without a flow.
	 * voicemail: the call ended after leaving a voicemail. */
	const struct rt_flow_run *flow;
	bool voicemail;
};

/* Called on the SIP thread for each new INVITE: fill out (see above). */
typedef void(rt_sip_route_h)(const struct rt_sip_invite *in,
			     struct rt_sip_route *out, void *arg);
/* Called on the SIP thread for each event of a call with a call_id. */
typedef void(rt_sip_event_h)(const struct rt_sip_event *ev, void *arg);

/* Both are called on the SIP thread: answer from memory, never wait on the
 * disk. */
struct rt_recorder;
struct rt_sip_hooks {
	rt_sip_route_h *route;
	rt_sip_event_h *event; /* may be NULL */
	void *arg;
	/* Records the calls whose route has a record_path (record.h); NULL:
	 * none is recorded.  Borrowed: it must outlive rt_sip_stop(). */
	struct rt_recorder *recorder;
	/* Flows: the prompts (prompt.h; NULL: flows play no prompt) and the
	 * round-robin counters (NULL: every dial starts at its first
	 * target), called on the SIP thread.  Borrowed, as recorder. */
	struct rt_prompts *prompts;
	rt_flow_rr_h *rr;
};

struct rt_sip;

/*
 * Binds conf->listen on UDP and TCP (and TLS) and starts the SIP thread.
 * Returns 0, EINVAL for a bad listen address, EBADMSG for a TLS
 * certificate that cannot be loaded, EADDRINUSE, or another errno value
 * when the stack could not start (the reason is logged).
 */
int rt_sip_start(struct rt_sip **sp, const struct rt_sip_conf *conf,
		 const struct rt_sip_hooks *hooks);
/* The bound port (useful with port 0). */
uint16_t rt_sip_port(const struct rt_sip *s);
/* The TLS port; 0 without TLS. */
uint16_t rt_sip_tls_port(const struct rt_sip *s);
/* Ends every call (BYE, CANCEL or 503, each with its ENDED event), stops
 * the thread and frees everything.  NULL is fine. */
void rt_sip_stop(struct rt_sip *s);

/* ---- a phone for simulations (phone.c) ------------------------------------
 *
 * One SIP user agent, on an address of its own, that plays both ends of
 * calls to Ringtrail: the callers, who send INVITEs to Ringtrail's SIP
 * address, and the business's phone (the numbers' destination), which
 * answers the INVITEs Ringtrail forwards to it.  Each call is a script for
 * both ends: how long the phone rings and whether it answers, what each
 * side says (8 kHz audio sent as G.711 RTP every 20 ms, silence after it),
 * and who hangs up when.  `ringtrail simulate` drives it.
 *
 * Threads: the phone runs libre's loop on a thread of its own (a process
 * has one libre: the phone is for processes that do not run rt_sip_start).
 * rt_sip_phone_call() and rt_sip_phone_hangup() may be called from any
 * thread; done handlers are called on the phone's thread, must not block,
 * and must not call back into the phone.
 */

enum rt_sip_phone_answer {
	RT_SIP_PHONE_ANSWER,	/* rings ring_ms, then answers */
	RT_SIP_PHONE_BUSY,	/* 486 Busy Here after ring_ms */
	RT_SIP_PHONE_NO_ANSWER, /* rings ring_ms, then 480 */
};

/* 8 kHz mono linear audio; borrowed until the call's done handler. */
struct rt_sip_phone_audio {
	const int16_t *pcm;
	size_t len; /* samples */
};

/* A call, copied by rt_sip_phone_call (but not the audio it points to). */
struct rt_sip_phone_call {
	char to[32];	    /* the number dialled, E.164 */
	char from[32];	    /* the caller's number, E.164 */
	char from_name[64]; /* the caller's display name, "" for none */
	/* The caller: said from the answer on; gives up (CANCEL) when not
	 * answered within give_up_ms (0: waits for the end). */
	struct rt_sip_phone_audio caller_audio;
	uint32_t give_up_ms;
	/* The business's phone. */
	enum rt_sip_phone_answer answer;
	uint32_t ring_ms;
	struct rt_sip_phone_audio agent_audio;
	/* After an answer: who hangs up, and how long after the answer. */
	bool agent_hangs_up;
	uint32_t talk_ms;
};

struct rt_sip_phone_result {
	char sip_call_id[128]; /* the caller's INVITE's; "" when none went */
	/* What the caller got: 200 when answered; else the final status
	 * (486, 480, 404, 503...; 487 when the caller gave up, 408 or 500
	 * when Ringtrail did not answer or could not be reached). */
	uint16_t status;
	char reason[64];
	bool answered;
	bool reached;		 /* the business's phone got the INVITE */
	bool interrupted;	 /* ended by rt_sip_phone_hangup or a stop */
	enum rt_sip_side hangup; /* who ended it (SYSTEM: an error) */
	uint64_t ring_ms, talk_ms;
	/* RTP packets each end sent and received, and received packets with
	 * sound in them (what it heard of the other end). */
	uint64_t caller_sent, caller_recv, caller_heard;
	uint64_t agent_sent, agent_recv, agent_heard;
};

/* Called once per call, when both ends are over. */
typedef void(rt_sip_phone_done_h)(const struct rt_sip_phone_result *r,
				  void *arg);

struct rt_sip_phone_conf {
	/* "HOST:PORT" of the phone, SIP (UDP and TCP) and RTP; port 0 picks
	 * a free one.  Ringtrail must reach it: the numbers' destination. */
	char listen[128];
	char server[128]; /* Ringtrail's SIP address, "HOST:PORT" */
};

struct rt_sip_phone;

/*
 * Binds the phone and starts its thread.  Returns 0, EINVAL for a bad
 * address, EADDRINUSE, or another errno value (logged).
 */
int rt_sip_phone_start(struct rt_sip_phone **pp,
		       const struct rt_sip_phone_conf *conf);
/* The URI that reaches the business's end: "sip:agent@HOST:PORT". */
void rt_sip_phone_uri(const struct rt_sip_phone *p, char *out, size_t size);
/*
 * Places a call (any thread).  h is called with its result when both ends
 * are over; arg is borrowed until then.  0 or ENOMEM, ESHUTDOWN.
 */
int rt_sip_phone_call(struct rt_sip_phone *p, const struct rt_sip_phone_call *c,
		      rt_sip_phone_done_h *h, void *arg);
/* Sends Ringtrail's SIP address an OPTIONS and waits up to timeout_ms
 * for the answer (any thread but the done handlers'): its status (200
 * when Ringtrail takes calls from the phone's address, 403 when no trunk
 * allows it), or 0 when none came. */
uint16_t rt_sip_phone_ping(struct rt_sip_phone *p, uint32_t timeout_ms);
/* Ends every call (any thread): BYE when answered, CANCEL while ringing;
 * each still reports its result, with interrupted set. */
void rt_sip_phone_hangup(struct rt_sip_phone *p);
/* Ends every call as rt_sip_phone_hangup does, waits a moment for the
 * BYEs, stops the thread and frees the phone.  NULL is fine. */
void rt_sip_phone_stop(struct rt_sip_phone *p);

/* Reason phrases of the statuses Ringtrail sends ("" for unknown). */
const char *rt_sip_reason(uint16_t status);
const char *rt_sip_event_name(enum rt_sip_event_kind k);
const char *rt_sip_side_name(enum rt_sip_side s);

#endif
