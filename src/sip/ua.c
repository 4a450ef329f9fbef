/*
 * The thin layer over libre: the SIP stack of the SIP thread, the checks
 * every request passes before a call sees it, and legs (sipsess) behind
 * the functions of sip_int.h.  With tmr.c (libre's timers on a heap), the
 * only file that includes libre.
 *
 * What libre 1.1.0 does not do and this file does: 100 Trying (sipsess
 * never sends it: the INVITE gets a server transaction of ours, which also
 * sees a CANCEL, until the first answer through sipsess), OPTIONS, the
 * source and digest checks of trunks, and clear 4xx answers to broken
 * requests rather than libre's 501 or silence.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sip/libre.h"
#include "sip/sip_int.h"

#define RT_LOG_MODULE "sip"

#define SIP_HASH      16384	/* transactions, sessions (telephony notes) */
#define SIP_RCVBUF    (4 << 20) /* the default 212 KB overflowed under load */
#define SIP_MSG_MAX   16384	/* bigger requests get 513 */
#define FDS_MAX	      65536	/* a call takes 4 RTP sockets */
#define STOP_GRACE_MS 1000	/* for the BYEs and CANCELs of a stop */
#define NONCE_TTL_S   300
#define REALM	      "ringtrail"
#define ALLOW_HDR     "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"
#define SOFTWARE      "ringtrail"

struct rt_ua {
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	struct mqueue *mq;
	struct dnsc *dnsc;
	struct tmr stop_tmr;
	struct rt_ua_conf conf;
	struct sa laddr;
	uint8_t nonce_key[20];
	char probe_id[40];
	struct udp_helper *uh;
	struct tls *tls;
	uint16_t tls_port;
	bool udp_tuned;
	bool stopping;
};

struct rt_ua_leg {
	struct rt_ua *ua;
	bool inbound;
	struct sipsess *sess;
	/* Inbound, until sipsess answers: our transaction of the INVITE (for
	 * 100 Trying, CANCEL and final failures) and the INVITE itself. */
	struct sip_strans *st;
	const struct sip_msg *msg;
	const struct rt_sip_trunk *trunk; /* outbound: the proxy's creds */
	rt_ua_leg_h *h;
	rt_ua_offer_h *offerh;
	void *arg;
	bool closed;   /* CLOSED was delivered: nothing more is */
	bool answered; /* a 2xx was sent (inbound) or received (outbound) */
	/* Inbound, RFC 4028: the session interval the caller asked for (0:
	 * none) and whether it supports timers (then our 2xx requires
	 * them); the caller refreshes, and the call ends when it stops. */
	uint32_t se_secs;
	bool se_timer;
	struct tmr se_tmr;
	char se_hdr[96]; /* the 2xx's Session-Expires (and Require) */
};

/* ---- loop services ------------------------------------------------------ */

struct rt_ua_timer {
	struct tmr tmr;
};

int rt_ua_timer_alloc(struct rt_ua_timer **tp)
{
	struct rt_ua_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return ENOMEM;
	tmr_init(&t->tmr);
	*tp = t;
	return 0;
}

void rt_ua_timer_free(struct rt_ua_timer *t)
{
	if (t) {
		tmr_cancel(&t->tmr);
		free(t);
	}
}

void rt_ua_timer_start(struct rt_ua_timer *t, uint64_t ms, rt_ua_timer_h *h,
		       void *arg)
{
	tmr_start(&t->tmr, ms, h, arg);
}

void rt_ua_timer_cancel(struct rt_ua_timer *t)
{
	tmr_cancel(&t->tmr);
}

int rt_ua_fd_watch(int fd, rt_ua_fd_h *h, void *arg)
{
	return fd_listen(fd, FD_READ, h, arg);
}

void rt_ua_fd_unwatch(int fd)
{
	fd_close(fd);
}

/* ---- small helpers ------------------------------------------------------- */

/* libre's handlers get messages as const, and its mem_ref takes them
 * mutable: the reference count is the only thing that changes. */
static void *msg_ref(const struct sip_msg *msg)
{
	union {
		const struct sip_msg *c;
		void *m;
	} u = {msg};

	return mem_ref(u.m);
}

static void msg_deref(const struct sip_msg *msg)
{
	union {
		const struct sip_msg *c;
		void *m;
	} u = {msg};

	mem_deref(u.m);
}

/* A pl into a C string, cut to size. */
static void pl_cut(char *dst, size_t size, const struct pl *pl)
{
	size_t n = pl && pl->p ? pl->l : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, pl->p, n);
	dst[n] = '\0';
	rt_utf8_clean(dst);
}

static void sa_fmt(const struct sa *sa, char *out, size_t size)
{
	rt_sip_addr_fmt(&sa->u.sa, out, size);
}

static void log_reject(const struct sip_msg *msg, uint16_t status,
		       const char *why)
{
	char src[64], met[16], q[160];

	sa_fmt(&msg->src, src, sizeof(src));
	pl_cut(met, sizeof(met), &msg->met);
	rt_info("request refused", "method=%s status=%u src=%s why=%s", met,
		status, src, rt_log_q(q, sizeof(q), why));
}

/* A reason phrase that says what was wrong ("Bad Request (no Call-ID)"). */
static void reason_fmt(char *reason, size_t size, uint16_t status,
		       const char *why)
{
	if (why && *why)
		snprintf(reason, size, "%s (%s)", rt_sip_reason(status), why);
	else
		rt_strlcpy(reason, rt_sip_reason(status), size);
}

/* A final answer to a request outside any call, with a reason phrase that
 * says what was wrong. */
static void refuse(struct rt_ua *ua, const struct sip_msg *msg, uint16_t status,
		   const char *why, const char *hdrs)
{
	char reason[160];

	log_reject(msg, status, why);
	reason_fmt(reason, sizeof(reason), status, why);
	if (hdrs)
		sip_treplyf(NULL, NULL, ua->sip, msg, false, status, reason,
			    "%sContent-Length: 0\r\n\r\n", hdrs);
	else
		sip_treply(NULL, ua->sip, msg, status, reason);
}

/*
 * The answer to a request that check_msg found broken, sent without a
 * transaction (a stateless UAS, RFC 3261 8.2.7).  libre's transaction would
 * be keyed on what is missing or wrong: one for a request without a Call-ID
 * made the next such request within 32 s a "merged request" (482 Loop
 * Detected instead of 400), and over UDP the refusal of an INVITE would be
 * sent again and again for up to 32 s, waiting for an ACK.
 */
static void refuse_broken(struct rt_ua *ua, const struct sip_msg *msg,
			  uint16_t status, const char *why)
{
	char reason[160];

	log_reject(msg, status, why);
	reason_fmt(reason, sizeof(reason), status, why);
	sip_reply(ua->sip, msg, status, reason);
}

static bool is_method(const struct sip_msg *msg, const char *m)
{
	return pl_strcmp(&msg->met, m) == 0;
}

/* ---- checks of every request --------------------------------------------- */

/* True when pl is 1 to max decimal digits. */
static bool pl_digits(const struct pl *pl, size_t max)
{
	if (!pl_isset(pl) || pl->l > max)
		return false;
	for (size_t i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}
	return true;
}

/* Why a request cannot be served, or NULL.  *statusp gets the status. */
static const char *check_msg(const struct sip_msg *msg, uint16_t *statusp)
{
	*statusp = 400;
	if (!pl_isset(&msg->from.auri))
		return "no From";
	if (!pl_isset(&msg->to.auri))
		return "no To";
	if (!pl_isset(&msg->callid))
		return "no Call-ID";
	if (!pl_isset(&msg->cseq.met))
		return "no CSeq";
	if (pl_cmp(&msg->cseq.met, &msg->met) != 0)
		return "CSeq method is not the request's";
	if (pl_strcmp(&msg->ver, "SIP/2.0") != 0) {
		*statusp = 505;
		return "SIP/2.0 only";
	}
	/* Every request carries one (RFC 3261 8.1.1); newer re releases
	 * refuse requests without it too. */
	if (!pl_isset(&msg->maxfwd))
		return "no Max-Forwards";
	if (!pl_digits(&msg->maxfwd, 5))
		return "bad Max-Forwards";
	if (pl_u32(&msg->maxfwd) == 0) {
		*statusp = 483;
		return "Max-Forwards is 0";
	}
	if (msg->mb->end > SIP_MSG_MAX) {
		*statusp = 513;
		return "over 16 KB";
	}
	/* libre reads anything but digits as 0 and a longer number modulo
	 * 2^32 (4294967296 is 0), and over TCP frames the body by that. */
	if (pl_isset(&msg->clen) && !pl_digits(&msg->clen, 9))
		return "bad Content-Length";
	/* Over UDP the datagram is the message: a Content-Length that
	 * disagrees means it was cut or padded. */
	if (msg->tp == SIP_TRANSP_UDP && pl_isset(&msg->clen) &&
	    pl_u32(&msg->clen) != mbuf_get_left(msg->mb))
		return "Content-Length does not match the body";
	if (sip_msg_hdr_count(msg, SIP_HDR_CONTENT_LENGTH) > 1)
		return "more than one Content-Length";
	return NULL;
}

/* ---- trunks and digest authentication ------------------------------------ */

static void nonce_make(struct rt_ua *ua, uint64_t t, char out[41])
{
	uint8_t mac[20];
	char ts[17];

	snprintf(ts, sizeof(ts), "%016llx", (unsigned long long)t);
	hmac_sha1(ua->nonce_key, sizeof(ua->nonce_key), (uint8_t *)ts, 16, mac,
		  sizeof(mac));
	snprintf(out, 41, "%s%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
		 ts, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], mac[6],
		 mac[7], mac[8], mac[9], mac[10], mac[11]);
}

static bool nonce_ok(struct rt_ua *ua, const struct pl *nonce)
{
	char want[41], ts[17];
	uint64_t t, now = (uint64_t)time(NULL);

	if (nonce->l != 40)
		return false;
	memcpy(ts, nonce->p, 16);
	ts[16] = '\0';
	t = strtoull(ts, NULL, 16);
	if (t > now || now - t > NONCE_TTL_S)
		return false;
	nonce_make(ua, t, want);
	return memcmp(want, nonce->p, 40) == 0;
}

/* 0 when msg proves t's credentials, EAUTH when it proves nothing or
 * something else, EPERM when it names another user. */
static int digest_check(struct rt_ua *ua, const struct sip_msg *msg,
			const struct rt_sip_trunk *t)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	struct httpauth_digest_resp resp;
	uint8_t ha1[16];

	if (!h || httpauth_digest_response_decode(&resp, &h->val))
		return EAUTH;
	if (pl_strcmp(&resp.username, t->user) != 0)
		return EPERM;
	if (pl_strcmp(&resp.realm, REALM) != 0 || !nonce_ok(ua, &resp.nonce))
		return EAUTH;
	if (md5_printf(ha1, "%s:%s:%s", t->user, REALM, t->password))
		return EAUTH;
	return httpauth_digest_response_auth(&resp, &msg->met, ha1) ? EAUTH : 0;
}

static void challenge(struct rt_ua *ua, const struct sip_msg *msg)
{
	char nonce[41], hdr[200];

	nonce_make(ua, (uint64_t)time(NULL), nonce);
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Digest realm=\"" REALM "\", "
		 "nonce=\"%s\", algorithm=MD5, qop=\"auth\"\r\n",
		 nonce);
	refuse(ua, msg, 401, "credentials needed", hdr);
}

/*
 * The trunk a request outside any call belongs to; NULL when it was
 * answered here (403, 401).  Without trunks, loopback is the one source.
 */
static const struct rt_sip_trunk *trunk_of(struct rt_ua *ua,
					   const struct sip_msg *msg)
{
	static const struct rt_sip_trunk loopback = {.name = "loopback",
						     .country = "US"};
	const struct rt_sip_conf *c = ua->conf.sip;
	const struct sockaddr *src = &msg->src.u.sa;
	char why[96];

	if (c->ntrunks == 0) {
		if (rt_sip_is_loopback(src))
			return &loopback;
		refuse(ua, msg, 403,
		       "no trunk configured: only loopback may call", NULL);
		return NULL;
	}
	for (size_t i = 0; i < c->ntrunks; i++) {
		const struct rt_sip_trunk *t = &c->trunks[i];

		if (!rt_sip_trunk_allows(t, src))
			continue;
		if (!t->user[0])
			return t;
		/* A trunk with addresses and credentials wants both. */
		if (digest_check(ua, msg, t) == 0)
			return t;
		challenge(ua, msg);
		return NULL;
	}
	/* Trunks that any address may use by proving their credentials. */
	{
		bool any = false;

		for (size_t i = 0; i < c->ntrunks; i++) {
			const struct rt_sip_trunk *t = &c->trunks[i];
			int err;

			if (t->nfrom || !t->user[0])
				continue;
			any = true;
			err = digest_check(ua, msg, t);
			if (err == 0)
				return t;
			if (err == EAUTH &&
			    sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION)) {
				refuse(ua, msg, 403, "wrong credentials", NULL);
				return NULL;
			}
		}
		if (any && !sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION)) {
			challenge(ua, msg);
			return NULL;
		}
	}
	snprintf(why, sizeof(why), "source address not allowed by any trunk");
	refuse(ua, msg, 403, why, NULL);
	return NULL;
}

/* ---- legs ------------------------------------------------------------------
 */

static void deliver(struct rt_ua_leg *leg, const struct rt_ua_ev *ev)
{
	if (leg->closed || !leg->h)
		return;
	if (ev->kind == RT_UA_CLOSED)
		leg->closed = true;
	leg->h(leg, ev, leg->arg);
}

static void body_of(const struct sip_msg *msg, const char **sdpp, size_t *lenp)
{
	size_t n = msg ? mbuf_get_left(msg->mb) : 0;

	*sdpp = n ? (const char *)mbuf_buf(msg->mb) : NULL;
	*lenp = n;
}

/* RFC 4028 10: without a refresh by the interval's end (less a third, at
 * most 32 s, of margin for the refresh itself), the session is over. */
static void se_expired_h(void *arg)
{
	struct rt_ua_leg *leg = arg;
	struct rt_ua_ev ev = {RT_UA_CLOSED,
			      408,
			      "session timer expired: no "
			      "refresh from the caller",
			      NULL,
			      0,
			      false};

	deliver(leg, &ev);
}

static void se_start(struct rt_ua_leg *leg)
{
	if (leg->se_secs)
		tmr_start(&leg->se_tmr, (uint64_t)leg->se_secs * 1000,
			  se_expired_h, leg);
}

static int sess_offer_h(struct mbuf **descp, const struct sip_msg *msg,
			void *arg)
{
	struct rt_ua_leg *leg = arg;
	struct rt_buf b;
	const char *sdp;
	size_t len;
	int err;

	if (!leg->offerh)
		return EPROTO;
	se_start(leg); /* a re-INVITE refreshes the session */
	body_of(msg, &sdp, &len);
	rt_buf_init(&b);
	err = leg->offerh(leg, sdp, len, &b, leg->arg);
	if (!err && b.err)
		err = b.err;
	if (!err) {
		*descp = mbuf_alloc(b.len);
		if (!*descp)
			err = ENOMEM;
		else {
			mbuf_write_mem(*descp, (const uint8_t *)b.s, b.len);
			(*descp)->pos = 0;
		}
	}
	rt_buf_release(&b);
	return err;
}

static int sess_answer_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return 0; /* the SDP is read at RT_UA_ANSWERED */
}

static void sess_progr_h(const struct sip_msg *msg, void *arg)
{
	struct rt_ua_leg *leg = arg;
	struct rt_ua_ev ev = {RT_UA_PROGRESS, msg->scode, NULL, NULL, 0, false};
	char reason[64];

	if (msg->scode == 100)
		return;
	pl_cut(reason, sizeof(reason), &msg->reason);
	ev.reason = reason;
	body_of(msg, &ev.sdp, &ev.sdp_len);
	deliver(leg, &ev);
}

static void sess_estab_h(const struct sip_msg *msg, void *arg)
{
	struct rt_ua_leg *leg = arg;
	struct rt_ua_ev ev = {RT_UA_ANSWERED, 200, "OK", NULL, 0, false};

	leg->answered = true;
	body_of(msg, &ev.sdp, &ev.sdp_len);
	deliver(leg, &ev);
}

static void sess_close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct rt_ua_leg *leg = arg;
	struct rt_ua_ev ev = {RT_UA_CLOSED, 500, NULL, NULL, 0, false};
	char reason[64] = "";

	if (msg && !msg->req && msg->scode >= 300) {
		ev.status = msg->scode;
		ev.by_peer = true;
		pl_cut(reason, sizeof(reason), &msg->reason);
	} else if (err == ECONNRESET) {
		/* sipsess says "the peer ended it" the same way for a BYE and
		 * for a CANCEL of the caller's INVITE (answered 487). */
		ev.status = leg->answered ? 200 : 487;
		ev.by_peer = true;
		rt_strlcpy(reason, leg->answered ? "BYE" : "CANCEL",
			   sizeof(reason));
	} else if (err == ETIMEDOUT) {
		ev.status = 408;
		rt_strlcpy(reason,
			   leg->inbound ? "no ACK" : "no answer to the INVITE",
			   sizeof(reason));
	} else {
		snprintf(reason, sizeof(reason), "%s",
			 err ? strerror(err) : "closed");
	}
	ev.reason = reason;
	deliver(leg, &ev);
}

/* The caller's CANCEL, before sipsess has the INVITE. */
static void strans_cancel_h(void *arg)
{
	struct rt_ua_leg *leg = arg;
	struct rt_ua_ev ev = {RT_UA_CLOSED, 487, "CANCEL", NULL, 0, true};

	sip_treply(&leg->st, leg->ua->sip, leg->msg, 487, "Request Terminated");
	deliver(leg, &ev);
}

static int leg_new(struct rt_ua *ua, bool inbound, struct rt_ua_leg **legp)
{
	struct rt_ua_leg *leg = calloc(1, sizeof(*leg));

	if (!leg)
		return ENOMEM;
	leg->ua = ua;
	leg->inbound = inbound;
	*legp = leg;
	return 0;
}

void rt_ua_leg_set_handlers(struct rt_ua_leg *leg, rt_ua_leg_h *h,
			    rt_ua_offer_h *offerh, void *arg)
{
	leg->h = h;
	leg->offerh = offerh;
	leg->arg = arg;
}

static struct mbuf *desc_of(const char *sdp)
{
	struct mbuf *mb;
	size_t n = sdp ? strlen(sdp) : 0;

	if (!n)
		return NULL;
	mb = mbuf_alloc(n);
	if (mb) {
		mbuf_write_mem(mb, (const uint8_t *)sdp, n);
		mb->pos = 0;
	}
	return mb;
}

/* Hands the INVITE to sipsess with a first answer (1xx or 2xx). */
static int leg_accept(struct rt_ua_leg *leg, uint16_t status, const char *sdp)
{
	struct mbuf *desc = desc_of(sdp);
	int err;

	if (sdp && !desc)
		return ENOMEM;
	err = sipsess_accept(&leg->sess, leg->ua->sock, leg->msg, status,
			     rt_sip_reason(status), "ringtrail",
			     "application/sdp", desc, NULL, NULL, false,
			     sess_offer_h, sess_answer_h, sess_estab_h, NULL,
			     NULL, sess_close_h, leg, ALLOW_HDR "%s",
			     status < 300 ? leg->se_hdr : "");
	mem_deref(desc);
	if (!err) /* sipsess's own transaction answers from now on */
		leg->st = mem_deref(leg->st);
	return err;
}

int rt_ua_leg_progress(struct rt_ua_leg *leg, uint16_t status, const char *sdp)
{
	struct mbuf *desc;
	int err;

	if (!leg->inbound || leg->closed)
		return EINVAL;
	if (!leg->sess)
		return leg_accept(leg, status, sdp);
	desc = desc_of(sdp);
	err = sipsess_progress(leg->sess, status, rt_sip_reason(status), desc,
			       ALLOW_HDR);
	mem_deref(desc);
	return err;
}

int rt_ua_leg_answer(struct rt_ua_leg *leg, const char *sdp)
{
	struct mbuf *desc;
	int err;

	if (!leg->inbound || leg->closed)
		return EINVAL;
	if (!leg->sess) {
		err = leg_accept(leg, 200, sdp);
	} else {
		desc = desc_of(sdp);
		err = sipsess_answer(leg->sess, 200, "OK", desc, ALLOW_HDR "%s",
				     leg->se_hdr);
		mem_deref(desc);
	}
	if (!err) {
		leg->answered = true;
		se_start(leg);
	}
	return err;
}

int rt_ua_leg_reject(struct rt_ua_leg *leg, uint16_t status, const char *reason)
{
	int err;

	if (!leg->inbound || status < 300)
		return EINVAL;
	if (!reason || !*reason)
		reason = rt_sip_reason(status);
	leg->closed = true;
	if (leg->sess)
		err = sipsess_reject(leg->sess, status, reason, NULL);
	else if (leg->st)
		err = sip_treply(&leg->st, leg->ua->sip, leg->msg, status,
				 reason);
	else
		err = EALREADY;
	return err;
}

/* The outbound proxy's credentials, when it challenges. */
static int auth_h(char **user, char **pass, const char *realm, void *arg)
{
	struct rt_ua_leg *leg = arg;
	int err;
	(void)realm;

	if (!leg->trunk || !leg->trunk->proxy_user[0])
		return EAUTH;
	err = str_dup(user, leg->trunk->proxy_user);
	if (!err)
		err = str_dup(pass, leg->trunk->proxy_password);
	return err;
}

int rt_ua_leg_connect(struct rt_ua_leg **legp, struct rt_ua *ua,
		      const char *to_uri, const char *from_name,
		      const char *from_user, const struct rt_sip_trunk *trunk,
		      const char *sdp, rt_ua_leg_h *h, rt_ua_offer_h *offerh,
		      void *arg)
{
	struct rt_ua_leg *leg;
	struct mbuf *desc = NULL;
	char from_uri[160];
	int err;

	if (ua->stopping)
		return ESHUTDOWN;
	err = leg_new(ua, false, &leg);
	if (err)
		return err;
	leg->trunk = trunk;
	rt_ua_leg_set_handlers(leg, h, offerh, arg);
	if (from_user && *from_user)
		re_snprintf(from_uri, sizeof(from_uri), "sip:%s@%J", from_user,
			    &ua->laddr);
	else
		rt_strlcpy(from_uri, "sip:anonymous@anonymous.invalid",
			   sizeof(from_uri));
	desc = desc_of(sdp);
	if (sdp && !desc) {
		err = ENOMEM;
		goto out;
	}
	err = sipsess_connect(&leg->sess, ua->sock, to_uri,
			      from_name && *from_name ? from_name : NULL,
			      from_uri, "ringtrail", NULL, 0, "application/sdp",
			      desc, auth_h, leg, false, sess_offer_h,
			      sess_answer_h, sess_progr_h, sess_estab_h, NULL,
			      NULL, sess_close_h, leg, ALLOW_HDR);
out:
	mem_deref(desc);
	if (err) {
		free(leg);
		return err;
	}
	*legp = leg;
	return 0;
}

const char *rt_ua_leg_call_id(const struct rt_ua_leg *leg)
{
	const struct sip_dialog *dlg =
		leg->sess ? sipsess_dialog(leg->sess) : NULL;

	return dlg ? sip_dialog_callid(dlg) : NULL;
}

void rt_ua_leg_free(struct rt_ua_leg *leg)
{
	if (!leg)
		return;
	if (leg->inbound && !leg->sess && leg->st)
		sip_treply(&leg->st, leg->ua->sip, leg->msg, 500,
			   "Server Internal Error");
	tmr_cancel(&leg->se_tmr);
	/* mem_deref of a sipsess ends it: BYE when established, CANCEL for
	 * an INVITE of ours in progress, 486 for one not answered. */
	mem_deref(leg->sess);
	mem_deref(leg->st);
	msg_deref(leg->msg);
	free(leg);
}

/* ---- OPTIONS out ----------------------------------------------------------
 */

struct rt_ua_ping {
	struct sip_dialog *dlg;
	struct sip_request *req; /* libre clears it when the request ends */
	rt_ua_ping_h *h;
	void *arg;
};

static void ping_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct rt_ua_ping *p = arg;
	uint16_t status = !err && msg ? msg->scode : 0;

	if (status && status < 200)
		return;
	p->h(status, p->arg);
}

int rt_ua_ping(struct rt_ua_ping **pp, struct rt_ua *ua, const char *uri,
	       rt_ua_ping_h *h, void *arg)
{
	struct rt_ua_ping *p;
	char from[160];
	int err;

	if (ua->stopping)
		return ESHUTDOWN;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->h = h;
	p->arg = arg;
	re_snprintf(from, sizeof(from), "sip:ringtrail@%J", &ua->laddr);
	err = sip_dialog_alloc(&p->dlg, uri, uri, NULL, from, NULL, 0);
	if (!err)
		err = sip_drequestf(&p->req, ua->sip, true, "OPTIONS", p->dlg,
				    0, NULL, NULL, ping_resp_h, p,
				    "Accept: application/sdp\r\n"
				    "Content-Length: 0\r\n\r\n");
	if (err) {
		rt_ua_ping_free(p);
		return err;
	}
	*pp = p;
	return 0;
}

void rt_ua_ping_free(struct rt_ua_ping *p)
{
	if (!p)
		return;
	/* A request still pending is cancelled without its handler. */
	mem_deref(p->req);
	mem_deref(p->dlg);
	free(p);
}

/* ---- requests ------------------------------------------------------------ */

/* A URI's user part, percent-decoded ("%2B1312..." is "+1312..."). */
static void user_of(const struct uri *u, char *out, size_t size)
{
	if (re_snprintf(out, size, "%H", uri_user_unescape, &u->user) < 0)
		pl_cut(out, size, &u->user);
	rt_utf8_clean(out);
}

/* A Require value other than "timer" (one header may list several). */
static bool not_timer(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	(void)msg;
	(void)arg;
	return pl_strcasecmp(&hdr->val, "timer") != 0;
}

static bool is_timer(const struct sip_hdr *hdr, const struct sip_msg *msg,
		     void *arg)
{
	(void)msg;
	(void)arg;
	return pl_strcasecmp(&hdr->val, "timer") == 0;
}

/*
 * RFC 4028 as the answering side: the interval the caller asks for
 * (Session-Expires), refused with 422 below our Min-SE.  Fills *secs
 * (0 without the header) and *timer (the caller supports timers); returns
 * nonzero when it answered.
 */
static int session_expires(struct rt_ua *ua, const struct sip_msg *msg,
			   uint32_t *secs, bool *timer)
{
	const struct sip_hdr *se = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	uint32_t min_se =
		ua->conf.sip->min_se_secs ? ua->conf.sip->min_se_secs : 90;
	struct pl delta;

	*secs = 0;
	*timer = sip_msg_hdr_apply(msg, true, SIP_HDR_SUPPORTED, is_timer,
				   NULL) != NULL ||
		 sip_msg_hdr_apply(msg, true, SIP_HDR_REQUIRE, is_timer,
				   NULL) != NULL;
	if (!se)
		return 0;
	if (re_regex(se->val.p, se->val.l, "[0-9]+", &delta) || delta.l > 9 ||
	    delta.p != se->val.p) {
		refuse(ua, msg, 400, "bad Session-Expires", NULL);
		return 1;
	}
	*secs = pl_u32(&delta);
	if (*secs < min_se) {
		char hdr[32];

		snprintf(hdr, sizeof(hdr), "Min-SE: %u\r\n", min_se);
		refuse(ua, msg, 422, "the session interval is too small", hdr);
		return 1;
	}
	return 0;
}

/* Whether a Privacy value ("id", "header;id", "none") lists id or header:
 * its tokens are separated by ';' (and blanks). */
static bool privacy_hides_id(const struct pl *val)
{
	size_t i = 0;

	while (i < val->l) {
		struct pl tok = {val->p + i, 0};

		while (i < val->l && val->p[i] != ';' && val->p[i] != ' ' &&
		       val->p[i] != '\t' && val->p[i] != ',')
			i++;
		tok.l = (size_t)(val->p + i - tok.p);
		if (!pl_strcasecmp(&tok, "id") ||
		    !pl_strcasecmp(&tok, "header"))
			return true;
		i++;
	}
	return false;
}

/*
 * The caller's number: the identity the carrier asserts
 * (P-Asserted-Identity, RFC 3325: a trunk's or loopback's requests are
 * trusted to carry it), a sip: URI's user or a tel: URI's number, else
 * From's user part (which carriers may set to "anonymous" or to the trunk).
 */
static void caller_of(const struct sip_msg *msg, char *out, size_t size)
{
	const struct sip_hdr *pai =
		sip_msg_hdr(msg, SIP_HDR_P_ASSERTED_IDENTITY);
	const struct sip_hdr *priv = sip_msg_hdr(msg, SIP_HDR_PRIVACY);
	struct sip_addr a;

	/* "Privacy: id" (RFC 3325) or "header" (RFC 3323): the caller asked
	 * that their number be shown to no one: the call is withheld. */
	if (priv && privacy_hides_id(&priv->val)) {
		rt_strlcpy(out, "anonymous", size);
		return;
	}
	if (pai && sip_addr_decode(&a, &pai->val) == 0) {
		if (pl_isset(&a.uri.user)) {
			user_of(&a.uri, out, size);
			return;
		}
		if (!pl_strcasecmp(&a.uri.scheme, "tel") &&
		    pl_isset(&a.uri.host)) {
			pl_cut(out, size, &a.uri.host);
			rt_utf8_clean(out);
			return;
		}
	}
	user_of(&msg->from.uri, out, size);
}

static void new_invite(struct rt_ua *ua, const struct sip_msg *msg,
		       const struct rt_sip_trunk *trunk)
{
	char call_id[256], ruri_user[64], to_user[64], from_user[64],
		from_name[64], source[64];
	struct rt_ua_invite inv;
	struct rt_ua_leg *leg = NULL;
	const struct sip_hdr *req;
	uint32_t se_secs;
	bool se_timer;
	int err;

	if (pl_strcasecmp(&msg->uri.scheme, "sip") &&
	    pl_strcasecmp(&msg->uri.scheme, "sips")) {
		refuse(ua, msg, 416, "only sip: URIs", NULL);
		return;
	}
	if (!sip_msg_hdr(msg, SIP_HDR_CONTACT)) {
		refuse(ua, msg, 400, "no Contact", NULL);
		return;
	}
	if (mbuf_get_left(msg->mb) &&
	    msg_ctype_cmp(&msg->ctyp, "application", "sdp") == false) {
		refuse(ua, msg, 415, "the body must be application/sdp",
		       "Accept: application/sdp\r\n");
		return;
	}
	/* Reliable provisional answers are not done: a caller that
	 * requires them is told so (RFC 3261 8.2.2.3).  Session timers
	 * (RFC 4028) are. */
	req = sip_msg_hdr_apply(msg, true, SIP_HDR_REQUIRE, not_timer, NULL);
	if (req) {
		char hdr[160], val[96];

		pl_cut(val, sizeof(val), &req->val);
		snprintf(hdr, sizeof(hdr), "Unsupported: %s\r\n", val);
		refuse(ua, msg, 420, "an extension is required", hdr);
		return;
	}
	if (session_expires(ua, msg, &se_secs, &se_timer))
		return;
	err = leg_new(ua, true, &leg);
	if (!err) {
		leg->se_secs = se_secs;
		leg->se_timer = se_timer;
		if (se_secs)
			snprintf(leg->se_hdr, sizeof(leg->se_hdr),
				 "Session-Expires: %u;refresher=uac\r\n%s",
				 se_secs, se_timer ? "Require: timer\r\n" : "");
	}
	if (!err)
		err = sip_strans_alloc(&leg->st, ua->sip, msg, strans_cancel_h,
				       leg);
	if (!err) {
		leg->msg = msg_ref(msg);
		err = sip_treply(&leg->st, ua->sip, msg, 100, "Trying");
	}
	if (err) {
		if (leg) {
			mem_deref(leg->st);
			msg_deref(leg->msg);
			free(leg);
		}
		rt_error("cannot take an INVITE", "err=\"%s\"", strerror(err));
		sip_treply(NULL, ua->sip, msg, 500, "Server Internal Error");
		return;
	}
	pl_cut(call_id, sizeof(call_id), &msg->callid);
	user_of(&msg->uri, ruri_user, sizeof(ruri_user));
	user_of(&msg->to.uri, to_user, sizeof(to_user));
	caller_of(msg, from_user, sizeof(from_user));
	{
		struct pl dn = msg->from.dname;

		/* A quoted display name is read without its quotes. */
		if (dn.l >= 2 && dn.p[0] == '"' && dn.p[dn.l - 1] == '"') {
			dn.p++;
			dn.l -= 2;
		}
		pl_cut(from_name, sizeof(from_name), &dn);
	}
	sa_fmt(&msg->src, source, sizeof(source));
	inv = (struct rt_ua_invite){
		.call_id = call_id,
		.ruri_user = ruri_user,
		.to_user = to_user,
		.from_user = from_user,
		.from_name = from_name,
		.source = source,
		.transport = msg->tp == SIP_TRANSP_TLS	 ? "tls"
			     : msg->tp == SIP_TRANSP_TCP ? "tcp"
							 : "udp",
		.trunk = trunk,
	};
	body_of(msg, &inv.sdp, &inv.sdp_len);
	ua->conf.inviteh(leg, &inv, ua->conf.arg);
}

/*
 * libre keeps the SIP UDP socket to itself, and reads datagrams into 8 KB
 * buffers: a bigger request would be cut and dropped unanswered.  The first
 * message that comes in on it (our own probe, sent at start) hands over
 * the socket, whose buffers are then set.
 */
/* Before libre's own handler: a datagram that does not parse as SIP is
 * logged here and dropped (libre would print to stderr, outside the log);
 * there is no answer to send to what has no Via. */
static bool udp_pre_h(struct sa *src, struct mbuf *mb, void *arg)
{
	const uint8_t *p = mbuf_buf(mb);
	size_t pos = mb->pos, n = mbuf_get_left(mb);
	struct sip_msg *m;
	char from[64];
	int err;
	(void)arg;

	/* Keep-alives, and STUN (magic cookie 0x2112a442), are libre's. */
	if (n <= 4 || (n >= 20 && (p[0] & 0xc0) == 0 && p[4] == 0x21 &&
		       p[5] == 0x12 && p[6] == 0xa4 && p[7] == 0x42))
		return false;
	err = sip_msg_decode(&m, mb);
	mb->pos = pos;
	if (!err) {
		mem_deref(m);
		return false;
	}
	sa_fmt(src, from, sizeof(from));
	rt_info("datagram dropped",
		"src=%s bytes=%zu why=\"not a SIP message\"", from, n);
	return true;
}

static bool udp_tune(struct rt_ua *ua, const struct sip_msg *msg)
{
	if (ua->udp_tuned || msg->tp != SIP_TRANSP_UDP)
		return false;
	ua->udp_tuned = true;
	udp_rxsz_set(msg->sock, 65536);
	/* The default 212 KB receive buffer overflowed under load. */
	udp_sockbuf_set(msg->sock, SIP_RCVBUF);
	udp_register_helper(&ua->uh, msg->sock, 0, NULL, udp_pre_h, ua);
	return pl_strcmp(&msg->callid, ua->probe_id) == 0;
}

static void probe_send(struct rt_ua *ua)
{
	char msg[400];
	int fd = socket(sa_af(&ua->laddr), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int n;

	if (fd < 0)
		return;
	n = re_snprintf(msg, sizeof(msg),
			"OPTIONS sip:probe@%J SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %J;branch=z9hG4bK%s\r\n"
			"From: <sip:probe@%J>;tag=p\r\n"
			"To: <sip:probe@%J>\r\n"
			"Call-ID: %s\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"Max-Forwards: 70\r\n"
			"Content-Length: 0\r\n\r\n",
			&ua->laddr, &ua->laddr, ua->probe_id, &ua->laddr,
			&ua->laddr, ua->probe_id);
	if (n > 0)
		sendto(fd, msg, (size_t)n, 0, &ua->laddr.u.sa, ua->laddr.len);
	close(fd);
}

/* The first listener: every request but retransmissions, ACKs and CANCELs
 * of known transactions passes here before sipsess sees it. */
static bool request_h(const struct sip_msg *msg, void *arg)
{
	struct rt_ua *ua = arg;
	const struct rt_sip_trunk *trunk;
	const char *why;
	uint16_t status;
	bool in_dialog = pl_isset(&msg->to.tag);

	if (udp_tune(ua, msg))
		return true;

	if (is_method(msg, "ACK"))
		return false; /* sipsess's, or nobody's */
	if (!pl_isset(&msg->via.branch) || !sa_isset(&msg->via.addr, SA_ADDR)) {
		/* No Via: no way to answer.  Dropped (RFC 3261 16.3). */
		log_reject(msg, 0, "no usable Via: dropped");
		return true;
	}
	why = check_msg(msg, &status);
	if (why) {
		refuse_broken(ua, msg, status, why);
		return true;
	}
	if (in_dialog) {
		/* Requests of a call go to sipsess, which matches them to
		 * their dialog; what it does not handle is answered here
		 * rather than by libre's catch-all. */
		if (is_method(msg, "INVITE") || is_method(msg, "BYE") ||
		    is_method(msg, "INFO") || is_method(msg, "REFER"))
			return false;
		if (is_method(msg, "OPTIONS")) {
			sip_treplyf(NULL, NULL, ua->sip, msg, false, 200, "OK",
				    ALLOW_HDR "Accept: application/sdp\r\n"
					      "Content-Length: 0\r\n\r\n");
			return true;
		}
		refuse(ua, msg, 501, "not handled in a call", ALLOW_HDR);
		return true;
	}
	if (is_method(msg, "CANCEL")) {
		/* Known transactions' CANCELs were taken before this. */
		refuse(ua, msg, 481, "no such INVITE", NULL);
		return true;
	}
	if (ua->stopping) {
		refuse(ua, msg, 503, "shutting down", "Retry-After: 30\r\n");
		return true;
	}
	trunk = trunk_of(ua, msg);
	if (!trunk)
		return true;
	if (is_method(msg, "OPTIONS")) {
		/* Health checks (Kamailio's dispatcher, carriers' SBCs). */
		sip_treplyf(NULL, NULL, ua->sip, msg, false, 200, "OK",
			    ALLOW_HDR "Accept: application/sdp\r\n"
				      "Content-Length: 0\r\n\r\n");
		return true;
	}
	if (is_method(msg, "INVITE")) {
		new_invite(ua, msg, trunk);
		return true;
	}
	refuse(ua, msg, 405, "this is not a registrar or a proxy", ALLOW_HDR);
	return true;
}

/* The conn handler of sipsess: every new INVITE was taken by request_h. */
static void conn_h(const struct sip_msg *msg, void *arg)
{
	struct rt_ua *ua = arg;

	sip_treply(NULL, ua->sip, msg, 500, "Server Internal Error");
}

/* ---- the stack -------------------------------------------------------------
 */

static void dbg_h(int level, const char *p, size_t len, void *arg)
{
	char q[512], line[400];
	(void)arg;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, p, len);
	line[len] = '\0';
	while (*line && line[strlen(line) - 1] == '\n')
		line[strlen(line) - 1] = '\0';
	if (level <= DBG_WARNING)
		rt_warn("libre", "text=%s", rt_log_q(q, sizeof(q), line));
	else
		rt_debug("libre", "text=%s", rt_log_q(q, sizeof(q), line));
}

/* UDP and TCP on one port; with port 0, the port UDP got. */
static int listen_both(struct rt_ua *ua, const struct sa *want)
{
	int err = 0;

	for (int tries = 0; tries < 20; tries++) {
		struct sa la;

		err = sip_transp_add(ua->sip, SIP_TRANSP_UDP, want);
		if (!err)
			err = sip_transp_laddr(ua->sip, &la, SIP_TRANSP_UDP,
					       NULL);
		if (!err)
			err = sip_transp_add(ua->sip, SIP_TRANSP_TCP, &la);
		if (!err) {
			ua->laddr = la;
			return 0;
		}
		sip_transp_flush(ua->sip);
		if (sa_port(want) != 0)
			break;
	}
	return err;
}

/* TLS on the SIP address at the configured port, with the PEM file's
 * certificate and key.  EBADMSG when libre (OpenSSL) refuses the file. */
static int listen_tls(struct rt_ua *ua)
{
	const struct rt_sip_conf *c = ua->conf.sip;
	struct sa la = ua->laddr;
	int err;

	if (!c->tls_cert[0])
		return 0;
	if (tls_alloc(&ua->tls, TLS_METHOD_SSLV23, c->tls_cert, NULL) != 0) {
		rt_error("cannot load the SIP TLS certificate",
			 "sip_tls_cert=\"%s\"", c->tls_cert);
		return EBADMSG;
	}
	sa_set_port(&la, c->tls_port);
	err = sip_transp_add(ua->sip, SIP_TRANSP_TLS, &la, ua->tls);
	if (!err)
		err = sip_transp_laddr(ua->sip, &la, SIP_TRANSP_TLS, NULL);
	if (!err)
		ua->tls_port = sa_port(&la);
	return err;
}

static void stop_tmr_h(void *arg)
{
	(void)arg;
	re_cancel();
}

static void mq_h(int id, void *data, void *arg)
{
	struct rt_ua *ua = arg;
	(void)id;
	(void)data;

	if (ua->stopping)
		return;
	ua->stopping = true;
	/* The loop goes on a moment for the BYEs and CANCELs just sent. */
	tmr_start(&ua->stop_tmr,
		  ua->conf.closeh(ua->conf.arg) ? STOP_GRACE_MS : 0, stop_tmr_h,
		  ua);
}

int rt_ua_alloc(struct rt_ua **uap, const struct rt_ua_conf *conf)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct rt_ua *ua;
	struct sa want;
	struct rlimit rl;
	int err;

	if (rt_sip_addr_parse(conf->sip->listen, &ss, &sslen))
		return EINVAL;
	ua = calloc(1, sizeof(*ua));
	if (!ua)
		return ENOMEM;
	ua->conf = *conf;
	tmr_init(&ua->stop_tmr);
	rt_random_bytes(ua->nonce_key, sizeof(ua->nonce_key));

	/* Before the first descriptor is watched (the first call of
	 * fd_setsize wins), with the descriptor limit raised to match. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	err = fd_setsize(getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
					 rl.rlim_cur < FDS_MAX
				 ? (int)rl.rlim_cur
				 : FDS_MAX);
	if (err)
		goto out;
	dbg_handler_set(dbg_h, NULL);

	{
		struct sa nsv[4];
		uint32_t nsn = RT_ARRAY_SIZE(nsv);
		char domain[64];

		/* Names in destination URIs need DNS; addresses do not, so a
		 * host without resolvers still places calls to addresses. */
		if (dns_srv_get(domain, sizeof(domain), nsv, &nsn) == 0 && nsn)
			dnsc_alloc(&ua->dnsc, NULL, nsv, nsn);
	}
	err = sip_alloc(&ua->sip, ua->dnsc, SIP_HASH, SIP_HASH, SIP_HASH,
			SOFTWARE, NULL, NULL);
	if (err)
		goto out;
	sa_init(&want, AF_UNSPEC);
	memcpy(&want.u, &ss, sslen);
	want.len = sslen;
	err = listen_both(ua, &want);
	if (!err)
		err = listen_tls(ua);
	if (err)
		goto out;
	/* Ours first, then sipsess's: see request_h. */
	err = sip_listen(&ua->lsnr, ua->sip, true, request_h, ua);
	if (!err)
		err = sipsess_listen(&ua->sock, ua->sip, SIP_HASH, conn_h, ua);
	if (!err)
		err = mqueue_alloc(&ua->mq, mq_h, ua);
	if (!err) {
		uint8_t r[16];

		rt_random_bytes(r, sizeof(r));
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(ua->probe_id + 2 * i, 3, "%02x", r[i]);
		probe_send(ua);
	}
out:
	if (err) {
		rt_ua_free(ua);
		return err;
	}
	*uap = ua;
	return 0;
}

int rt_ua_lib_init(void)
{
	return libre_init();
}

void rt_ua_lib_close(void)
{
	libre_close();
}

int rt_ua_run(struct rt_ua *ua)
{
	(void)ua;
	return re_main(NULL);
}

void rt_ua_stop(struct rt_ua *ua)
{
	mqueue_push(ua->mq, 0, NULL);
}

void rt_ua_free(struct rt_ua *ua)
{
	if (!ua)
		return;
	tmr_cancel(&ua->stop_tmr);
	mem_deref(ua->mq);
	mem_deref(ua->uh);
	mem_deref(ua->lsnr);
	/* Sessions still alive are ended with the socket; force-closing the
	 * stack then ends their requests, and they let go of it. */
	mem_deref(ua->sock);
	if (ua->sip) {
		sip_close(ua->sip, true);
		mem_deref(ua->sip);
	}
	mem_deref(ua->dnsc);
	mem_deref(ua->tls);
	free(ua);
}

uint16_t rt_ua_tls_port(const struct rt_ua *ua)
{
	return ua->tls_port;
}

void rt_ua_laddr(const struct rt_ua *ua, struct sockaddr_storage *ss,
		 socklen_t *lenp)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &ua->laddr.u, ua->laddr.len);
	*lenp = ua->laddr.len;
}
