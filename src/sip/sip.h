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

/* Reason phrases of the statuses Ringtrail sends ("" for unknown). */
const char *rt_sip_reason(uint16_t status);
const char *rt_sip_event_name(enum rt_sip_event_kind k);
const char *rt_sip_side_name(enum rt_sip_side s);

#endif
