/*
 * SDP (RFC 4566), the part a G.711 B2BUA needs: the connection address,
 * the first audio stream's port, formats and direction, and writing
 * Ringtrail's own side.  It reads what carriers send, so every line is
 * checked and nothing is trusted: it is a fuzz target (tests/fuzz/fuzz_sdp).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip/sip_int.h"

#define SDP_MAX (64 * 1024)

struct media {
	bool seen;	      /* any m= line yet: c= and a= are per stream */
	bool audio, in_audio; /* the audio stream was met, we are in it */
	char addr[64];
	int af;
	bool has_addr;
};

static int parse_dir(const char *attr, size_t len, enum rt_sdp_dir *d)
{
	static const struct {
		const char *name;
		enum rt_sdp_dir dir;
	} dirs[] = {{"sendrecv", RT_SDP_SENDRECV},
		    {"sendonly", RT_SDP_SENDONLY},
		    {"recvonly", RT_SDP_RECVONLY},
		    {"inactive", RT_SDP_INACTIVE}};

	for (size_t i = 0; i < RT_ARRAY_SIZE(dirs); i++) {
		if (len == strlen(dirs[i].name) &&
		    memcmp(attr, dirs[i].name, len) == 0) {
			*d = dirs[i].dir;
			return 0;
		}
	}
	return ENOENT;
}

/* "IN IP4 192.0.2.1" (a multicast TTL suffix is refused). */
static int parse_conn(const char *v, size_t len, char *addr, size_t size,
		      int *afp)
{
	char buf[80], ip[64];
	unsigned char tmp[16];

	if (len >= sizeof(buf))
		return EINVAL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (strncmp(buf, "IN IP4 ", 7) == 0)
		*afp = AF_INET;
	else if (strncmp(buf, "IN IP6 ", 7) == 0)
		*afp = AF_INET6;
	else
		return EINVAL;
	if (rt_strlcpy(ip, buf + 7, sizeof(ip)) >= sizeof(ip))
		return EINVAL;
	if (inet_pton(*afp, ip, tmp) != 1)
		return EINVAL; /* host names and TTLs: not for a carrier */
	rt_strlcpy(addr, ip, size);
	return 0;
}

static int parse_uint(const char *p, size_t len, unsigned max, unsigned *v)
{
	unsigned x = 0;

	if (len == 0 || len > 10)
		return EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return EINVAL;
		x = x * 10 + (unsigned)(p[i] - '0');
		if (x > max)
			return ERANGE;
	}
	*v = x;
	return 0;
}

/* The names of the static payload types a G.711 call may meet. */
static void static_fmt(struct rt_sdp_fmt *f)
{
	static const struct {
		int pt;
		const char *name;
	} st[] = {{0, "PCMU"}, {3, "GSM"}, {8, "PCMA"},
		  {9, "G722"}, {13, "CN"}, {18, "G729"}};

	for (size_t i = 0; i < RT_ARRAY_SIZE(st); i++) {
		if (st[i].pt == f->pt) {
			rt_strlcpy(f->name, st[i].name, sizeof(f->name));
			f->rate = 8000;
		}
	}
}

/* "m=audio 49170 RTP/AVP 0 8 101" */
static int parse_m(const char *v, size_t len, struct rt_sdp *s, struct media *m,
		   const char **why)
{
	const char *p = v, *end = v + len, *tok;
	unsigned port = 0, pt;
	int i = 0;

	m->seen = true;
	m->in_audio = false;
	if (m->audio) /* only the first audio stream is used */
		return 0;
	while (p < end) {
		tok = p;
		while (p < end && *p != ' ')
			p++;
		switch (i++) {
		case 0:
			if ((size_t)(p - tok) != 5 || memcmp(tok, "audio", 5))
				return 0;
			break;
		case 1:
			/* "port/count" is for layered multicast. */
			if (parse_uint(tok, (size_t)(p - tok), 65535, &port)) {
				*why = "bad port in the m= line";
				return EINVAL;
			}
			break;
		case 2:
			if ((size_t)(p - tok) != 7 ||
			    memcmp(tok, "RTP/AVP", 7) != 0)
				return 0; /* SRTP, UDPTL: not this stream */
			break;
		default:
			if (parse_uint(tok, (size_t)(p - tok), 127, &pt)) {
				*why = "bad payload type in the m= line";
				return EINVAL;
			}
			if (s->nfmts == RT_SDP_FMT_MAX) {
				*why = "too many formats in the m= line";
				return EINVAL;
			}
			s->fmts[s->nfmts].pt = (int)pt;
			static_fmt(&s->fmts[s->nfmts]);
			s->nfmts++;
			break;
		}
		while (p < end && *p == ' ')
			p++;
	}
	if (i < 4) {
		*why = "the m= line lacks a format";
		return EINVAL;
	}
	s->port = (uint16_t)port;
	m->audio = m->in_audio = true;
	return 0;
}

/* "a=rtpmap:101 telephone-event/8000" */
static int parse_rtpmap(const char *v, size_t len, struct rt_sdp *s,
			const char **why)
{
	const char *sp = memchr(v, ' ', len), *slash, *end = v + len;
	unsigned pt, rate;
	size_t nl;

	if (!sp || parse_uint(v, (size_t)(sp - v), 127, &pt))
		goto bad;
	slash = memchr(sp + 1, '/', (size_t)(end - sp - 1));
	if (!slash)
		goto bad;
	nl = (size_t)(slash - sp - 1);
	{
		const char *r = slash + 1,
			   *re = memchr(r, '/', (size_t)(end - r));

		if (parse_uint(r, (size_t)((re ? re : end) - r), 1000000,
			       &rate))
			goto bad;
	}
	if (nl == 0 || nl >= sizeof(s->fmts[0].name))
		goto bad;
	for (size_t i = 0; i < s->nfmts; i++) {
		if (s->fmts[i].pt == (int)pt) {
			memcpy(s->fmts[i].name, sp + 1, nl);
			s->fmts[i].name[nl] = '\0';
			s->fmts[i].rate = rate;
		}
	}
	return 0;
bad:
	*why = "bad a=rtpmap line";
	return EINVAL;
}

int rt_sdp_parse(const char *text, size_t len, struct rt_sdp *out,
		 const char **why)
{
	const char *p = text, *end = text + len;
	struct media m = {0};
	char sess_addr[64] = "";
	int sess_af = 0;
	enum rt_sdp_dir sess_dir = RT_SDP_SENDRECV, media_dir = RT_SDP_SENDRECV;
	bool media_dir_set = false, seen_v = false;
	unsigned lineno = 0;
	int err;

	memset(out, 0, sizeof(*out));
	*why = "";
	if (len == 0 || len > SDP_MAX) {
		*why = len ? "the SDP is too large" : "the SDP is empty";
		return EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *v;
		size_t vl;

		if (le > p && le[-1] == '\r')
			le--;
		lineno++;
		if (le == p) { /* blank lines are tolerated, as most do */
			p = nl ? nl + 1 : end;
			continue;
		}
		if (le - p < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
			*why = "a line is not 'x=value'";
			return EINVAL;
		}
		for (const char *c = p; c < le; c++) {
			if ((unsigned char)*c < 0x20 && *c != '\t') {
				*why = "a control character in the SDP";
				return EINVAL;
			}
		}
		if (lineno == 1 && p[0] != 'v') {
			*why = "the SDP does not start with v=";
			return EINVAL;
		}
		v = p + 2;
		vl = (size_t)(le - v);
		switch (p[0]) {
		case 'v':
			if (vl != 1 || v[0] != '0') {
				*why = "unknown SDP version";
				return EINVAL;
			}
			seen_v = true;
			break;
		case 'c':
			if (!m.seen) {
				err = parse_conn(v, vl, sess_addr,
						 sizeof(sess_addr), &sess_af);
			} else if (m.in_audio) {
				err = parse_conn(v, vl, m.addr, sizeof(m.addr),
						 &m.af);
				m.has_addr = !err;
			} else {
				err = 0; /* another stream's */
			}
			if (err) {
				*why = "bad c= line (want IN IP4 or IP6 and "
				       "an address)";
				return EINVAL;
			}
			break;
		case 'm':
			err = parse_m(v, vl, out, &m, why);
			if (err)
				return err;
			break;
		case 'a':
			if (vl > 7 && memcmp(v, "rtpmap:", 7) == 0) {
				if (m.in_audio) {
					err = parse_rtpmap(v + 7, vl - 7, out,
							   why);
					if (err)
						return err;
				}
			} else if (m.in_audio) {
				if (parse_dir(v, vl, &media_dir) == 0)
					media_dir_set = true;
			} else if (!m.seen) {
				parse_dir(v, vl, &sess_dir);
			}
			break;
		default:
			break;
		}
		p = nl ? nl + 1 : end;
	}
	if (!seen_v) {
		*why = "the SDP has no v= line";
		return EINVAL;
	}
	if (!m.audio) {
		*why = "no audio stream over RTP/AVP";
		return ENOENT;
	}
	if (m.has_addr) {
		rt_strlcpy(out->addr, m.addr, sizeof(out->addr));
		out->af = m.af;
	} else if (sess_addr[0]) {
		rt_strlcpy(out->addr, sess_addr, sizeof(out->addr));
		out->af = sess_af;
	} else {
		*why = "the audio stream has no c= address";
		return EINVAL;
	}
	out->dir = media_dir_set ? media_dir : sess_dir;
	out->hold = out->dir == RT_SDP_SENDONLY ||
		    out->dir == RT_SDP_INACTIVE ||
		    strcmp(out->addr, "0.0.0.0") == 0;
	return 0;
}

static const struct rt_sdp_fmt *find(const struct rt_sdp *s, const char *a,
				     const char *b)
{
	for (size_t i = 0; i < s->nfmts; i++) {
		const struct rt_sdp_fmt *f = &s->fmts[i];

		if (f->rate == 8000 && (strcasecmp(f->name, a) == 0 ||
					(b && strcasecmp(f->name, b) == 0)))
			return f;
	}
	return NULL;
}

const struct rt_sdp_fmt *rt_sdp_g711(const struct rt_sdp *s)
{
	return find(s, "PCMU", "PCMA");
}

const struct rt_sdp_fmt *rt_sdp_telev(const struct rt_sdp *s)
{
	return find(s, "telephone-event", NULL);
}

static const char *dir_name(enum rt_sdp_dir d)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly",
					    "inactive"};

	return names[d];
}

void rt_sdp_write(struct rt_buf *b, const struct rt_sdp_local *l)
{
	const char *ipv = l->af == AF_INET6 ? "IP6" : "IP4";

	rt_buf_printf(b,
		      "v=0\r\n"
		      "o=ringtrail %llu %llu IN %s %s\r\n"
		      "s=ringtrail\r\n"
		      "c=IN %s %s\r\n"
		      "t=0 0\r\n"
		      "m=audio %u RTP/AVP",
		      (unsigned long long)l->sess_id,
		      (unsigned long long)l->version, ipv, l->addr, ipv,
		      l->addr, l->port);
	for (size_t i = 0; i < l->nfmts; i++)
		rt_buf_printf(b, " %d", l->fmts[i].pt);
	if (l->telev_pt >= 0)
		rt_buf_printf(b, " %d", l->telev_pt);
	rt_buf_puts(b, "\r\n");
	for (size_t i = 0; i < l->nfmts; i++)
		rt_buf_printf(b, "a=rtpmap:%d %s/8000\r\n", l->fmts[i].pt,
			      l->fmts[i].name);
	if (l->telev_pt >= 0)
		rt_buf_printf(b,
			      "a=rtpmap:%d telephone-event/8000\r\n"
			      "a=fmtp:%d 0-15\r\n",
			      l->telev_pt, l->telev_pt);
	rt_buf_printf(b, "a=ptime:20\r\na=%s\r\n", dir_name(l->dir));
}
