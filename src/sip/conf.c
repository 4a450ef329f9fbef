/*
 * The SIP configuration: trunks as written in `sip_trunk` lines, listen
 * addresses, and which trunk a source address belongs to.  No libre here:
 * the unit tests and the config check of `serve` use it as plain C.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sip/sip_int.h"

/* Copies a value into a fixed field; EINVAL when it does not fit. */
static int field(char *dst, size_t size, const char *v, size_t len)
{
	if (len >= size)
		return EINVAL;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

static int net_parse(const char *s, size_t len, struct rt_sip_net *n)
{
	char buf[64];
	const char *slash;
	uint64_t bits;

	if (len == 0 || len >= sizeof(buf))
		return EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->af = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->af = AF_INET6;
		n->bits = 128;
	} else {
		return EINVAL;
	}
	if (slash) {
		if (rt_parse_u64(slash + 1, 0, n->bits, &bits))
			return EINVAL;
		n->bits = (unsigned)bits;
	}
	return 0;
}

/* A country code: two letters, kept in upper case. */
static int country_parse(const char *v, size_t len, char out[3])
{
	if (len != 2 || !isalpha((unsigned char)v[0]) ||
	    !isalpha((unsigned char)v[1]))
		return EINVAL;
	out[0] = (char)toupper((unsigned char)v[0]);
	out[1] = (char)toupper((unsigned char)v[1]);
	out[2] = '\0';
	return 0;
}

static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= RT_SIP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

#define TFAIL(...)                                                             \
	do {                                                                   \
		snprintf(err, errsz, __VA_ARGS__);                             \
		return EINVAL;                                                 \
	} while (0)

int rt_sip_trunk_parse(const char *text, struct rt_sip_trunk *t, char *err,
		       size_t errsz)
{
	const char *p = text;
	bool first = true;

	memset(t, 0, sizeof(*t));
	rt_strlcpy(t->country, "US", sizeof(t->country));
	for (;;) {
		const char *tok, *eq, *v;
		size_t len, klen, vlen;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - tok);
		if (first) {
			if (!name_ok(tok, len))
				TFAIL("trunk name '%.*s' must be 1 to %d "
				      "letters, digits, '-', '_' or '.'",
				      (int)len, tok, RT_SIP_NAME_MAX - 1);
			field(t->name, sizeof(t->name), tok, len);
			first = false;
			continue;
		}
		eq = memchr(tok, '=', len);
		if (!eq)
			TFAIL("trunk '%s': expected key=value, got '%.*s'",
			      t->name, (int)len, tok);
		klen = (size_t)(eq - tok);
		v = eq + 1;
		vlen = len - klen - 1;
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(tok, k, klen) == 0)
		if (KEY("from")) {
			const char *q = v, *end = v + vlen;

			while (q < end) {
				const char *c =
					memchr(q, ',', (size_t)(end - q));
				size_t n =
					c ? (size_t)(c - q) : (size_t)(end - q);

				if (t->nfrom == RT_SIP_NETS_MAX)
					TFAIL("trunk '%s': more than %d "
					      "addresses in 'from'",
					      t->name, RT_SIP_NETS_MAX);
				if (net_parse(q, n, &t->from[t->nfrom]))
					TFAIL("trunk '%s': bad address "
					      "'%.*s' in 'from' (want an "
					      "IP address or ADDRESS/BITS)",
					      t->name, (int)n, q);
				t->nfrom++;
				q += n + (c ? 1 : 0);
			}
			if (!t->nfrom)
				TFAIL("trunk '%s': 'from' is empty", t->name);
		} else if (KEY("user")) {
			if (field(t->user, sizeof(t->user), v, vlen) || !vlen)
				TFAIL("trunk '%s': bad 'user'", t->name);
		} else if (KEY("password")) {
			if (field(t->password, sizeof(t->password), v, vlen) ||
			    !vlen)
				TFAIL("trunk '%s': bad 'password'", t->name);
		} else if (KEY("country")) {
			if (country_parse(v, vlen, t->country))
				TFAIL("trunk '%s': 'country' must be a "
				      "two-letter code such as US",
				      t->name);
		} else if (KEY("proxy")) {
			if (field(t->proxy, sizeof(t->proxy), v, vlen) ||
			    (strncmp(t->proxy, "sip:", 4) != 0 &&
			     strncmp(t->proxy, "sips:", 5) != 0) ||
			    strchr(t->proxy, '@'))
				TFAIL("trunk '%s': 'proxy' must be a URI "
				      "sip:HOST[:PORT] without a user",
				      t->name);
		} else if (KEY("proxy_user")) {
			if (field(t->proxy_user, sizeof(t->proxy_user), v,
				  vlen) ||
			    !vlen)
				TFAIL("trunk '%s': bad 'proxy_user'", t->name);
		} else if (KEY("proxy_password")) {
			if (field(t->proxy_password, sizeof(t->proxy_password),
				  v, vlen) ||
			    !vlen)
				TFAIL("trunk '%s': bad 'proxy_password'",
				      t->name);
		} else {
			TFAIL("trunk '%s': unknown key '%.*s' (want from, "
			      "user, password, country, proxy, proxy_user, "
			      "proxy_password)",
			      t->name, (int)klen, tok);
		}
#undef KEY
	}
	if (first)
		TFAIL("a trunk needs a name");
	if (!t->user[0] != !t->password[0])
		TFAIL("trunk '%s': 'user' and 'password' go together", t->name);
	if (!t->proxy_user[0] != !t->proxy_password[0])
		TFAIL("trunk '%s': 'proxy_user' and 'proxy_password' go "
		      "together",
		      t->name);
	if (t->proxy_user[0] && !t->proxy[0])
		TFAIL("trunk '%s': 'proxy_user' needs 'proxy'", t->name);
	if (!t->nfrom && !t->user[0] && !t->proxy[0])
		TFAIL("trunk '%s' accepts no call and places none: give it "
		      "'from', 'user' and 'password', or 'proxy'",
		      t->name);
	return 0;
}

int rt_sip_conf_load(struct rt_sip_conf *sc, const struct rt_conf *c, char *err,
		     size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *line = c->sip_trunk, *dash;
	uint64_t lo, hi;
	char buf[512], msg[256];

	memset(sc, 0, sizeof(*sc));
	if (rt_strlcpy(sc->listen, c->sip_listen, sizeof(sc->listen)) >=
		    sizeof(sc->listen) ||
	    rt_sip_addr_parse(sc->listen, &ss, &len)) {
		snprintf(err, errsz,
			 "config key 'sip_listen': bad address '%.64s' (want "
			 "HOST:PORT with the address peers reach, not "
			 "0.0.0.0)",
			 c->sip_listen);
		return EINVAL;
	}
	sc->ring_timeout_ms = c->sip_ring_timeout;
	if (rt_strlcpy(sc->tls_cert, c->sip_tls_cert, sizeof(sc->tls_cert)) >=
	    sizeof(sc->tls_cert)) {
		snprintf(err, errsz,
			 "config key 'sip_tls_cert': path too long");
		return EINVAL;
	}
	if (sc->tls_cert[0] && access(sc->tls_cert, R_OK) != 0) {
		snprintf(err, errsz,
			 "config key 'sip_tls_cert': cannot read '%.200s': %s",
			 sc->tls_cert, strerror(errno));
		return EINVAL;
	}
	sc->tls_port = (uint16_t)c->sip_tls_port;
	sc->min_se_secs = (uint32_t)(c->sip_min_se / 1000);
	sc->rtp_timeout_ms = c->sip_rtp_timeout;
	dash = strchr(c->sip_rtp_ports, '-');
	lo = hi = 0;
	if (dash && (size_t)(dash - c->sip_rtp_ports) < 8) {
		memcpy(buf, c->sip_rtp_ports,
		       (size_t)(dash - c->sip_rtp_ports));
		buf[dash - c->sip_rtp_ports] = '\0';
		if (rt_parse_u64(buf, 1024, 65535, &lo) ||
		    rt_parse_u64(dash + 1, 1024, 65535, &hi))
			lo = hi = 0;
	}
	if (!lo || (lo & 1) || hi < lo + 3) {
		snprintf(err, errsz,
			 "config key 'sip_rtp_ports': bad range '%.64s' (want "
			 "MIN-MAX, MIN even, from 1024, four ports at least)",
			 c->sip_rtp_ports);
		return EINVAL;
	}
	sc->rtp_min = (uint16_t)lo;
	sc->rtp_max = (uint16_t)hi;
	while (line && *line) {
		size_t n = strcspn(line, "\n");

		if (n >= sizeof(buf)) {
			snprintf(err, errsz,
				 "config key 'sip_trunk': a line is too long");
			return EINVAL;
		}
		memcpy(buf, line, n);
		buf[n] = '\0';
		line += n + (line[n] ? 1 : 0);
		if (sc->ntrunks == RT_SIP_TRUNKS_MAX) {
			snprintf(err, errsz,
				 "config key 'sip_trunk': more than %d trunks",
				 RT_SIP_TRUNKS_MAX);
			return EINVAL;
		}
		if (rt_sip_trunk_parse(buf, &sc->trunks[sc->ntrunks], msg,
				       sizeof(msg))) {
			snprintf(err, errsz, "config key 'sip_trunk': %s", msg);
			return EINVAL;
		}
		for (size_t i = 0; i < sc->ntrunks; i++) {
			if (strcmp(sc->trunks[i].name,
				   sc->trunks[sc->ntrunks].name) == 0) {
				snprintf(err, errsz,
					 "config key 'sip_trunk': two trunks "
					 "are named '%s'",
					 sc->trunks[i].name);
				return EINVAL;
			}
		}
		sc->ntrunks++;
	}
	return 0;
}

int rt_sip_addr_parse(const char *text, struct sockaddr_storage *ss,
		      socklen_t *lenp)
{
	char host[64];
	const char *colon;
	uint64_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return EINVAL;
		hl = (size_t)(close - text - 1);
		if (hl >= sizeof(host))
			return EINVAL;
		memcpy(host, text + 1, hl);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return EINVAL;
		hl = (size_t)(colon - text);
		if (hl >= sizeof(host))
			return EINVAL;
		memcpy(host, text, hl);
	}
	host[hl] = '\0';
	if (rt_parse_u64(colon + 1, 0, 65535, &port))
		return EINVAL;
	if (strcmp(host, "localhost") == 0)
		rt_strlcpy(host, "127.0.0.1", sizeof(host));
	{
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)port);
			*lenp = sizeof(*in);
			/* SDP and Contact carry this address: it must be
			 * one a peer can send to. */
			return in->sin_addr.s_addr == htonl(INADDR_ANY) ? EINVAL
									: 0;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*lenp = sizeof(*in6);
			return IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ? EINVAL
									: 0;
		}
	}
	return EINVAL;
}

static bool net_has(const struct rt_sip_net *n, const uint8_t *addr, int af)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;

	if (n->af != af)
		return false;
	if (memcmp(n->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (n->addr[full] & mask) == (addr[full] & mask);
	}
	return true;
}

/* The address bytes of sa, with IPv4-mapped IPv6 seen as IPv4. */
static const uint8_t *addr_bytes(const struct sockaddr *sa, int *afp)
{
	if (sa->sa_family == AF_INET) {
		*afp = AF_INET;
		return (const uint8_t *)&((const struct sockaddr_in *)sa)
			->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			*afp = AF_INET;
			return a->s6_addr + 12;
		}
		*afp = AF_INET6;
		return a->s6_addr;
	}
	*afp = AF_UNSPEC;
	return NULL;
}

bool rt_sip_trunk_allows(const struct rt_sip_trunk *t,
			 const struct sockaddr *sa)
{
	int af;
	const uint8_t *a = addr_bytes(sa, &af);

	for (size_t i = 0; a && i < t->nfrom; i++) {
		if (net_has(&t->from[i], a, af))
			return true;
	}
	return false;
}

bool rt_sip_is_loopback(const struct sockaddr *sa)
{
	int af;
	const uint8_t *a = addr_bytes(sa, &af);
	static const uint8_t v6lo[16] = {[15] = 1};

	if (!a)
		return false;
	return af == AF_INET ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

void rt_sip_addr_fmt(const struct sockaddr *sa, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, size, "?");
	}
}

const char *rt_sip_reason(uint16_t status)
{
	static const struct {
		uint16_t status;
		const char *reason;
	} reasons[] = {
		{100, "Trying"},
		{180, "Ringing"},
		{183, "Session Progress"},
		{200, "OK"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{408, "Request Timeout"},
		{410, "Gone"},
		{415, "Unsupported Media Type"},
		{416, "Unsupported URI Scheme"},
		{420, "Bad Extension"},
		{422, "Session Interval Too Small"},
		{480, "Temporarily Unavailable"},
		{481, "Call/Transaction Does Not Exist"},
		{483, "Too Many Hops"},
		{484, "Address Incomplete"},
		{486, "Busy Here"},
		{487, "Request Terminated"},
		{488, "Not Acceptable Here"},
		{500, "Server Internal Error"},
		{501, "Not Implemented"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Server Time-out"},
		{505, "Version Not Supported"},
		{513, "Message Too Large"},
		{600, "Busy Everywhere"},
		{603, "Decline"},
		{604, "Does Not Exist Anywhere"},
	};

	for (size_t i = 0; i < RT_ARRAY_SIZE(reasons); i++) {
		if (reasons[i].status == status)
			return reasons[i].reason;
	}
	return "";
}

const char *rt_sip_event_name(enum rt_sip_event_kind k)
{
	static const char *const names[] = {
		"ringing", "early_media", "answered",  "dtmf",	    "hold",
		"unhold",  "ended",	  "flow_step", "voicemail",
	};

	return (unsigned)k < RT_ARRAY_SIZE(names) ? names[k] : "?";
}

const char *rt_sip_side_name(enum rt_sip_side s)
{
	static const char *const names[] = {"none", "caller", "callee",
					    "system"};

	return (unsigned)s < RT_ARRAY_SIZE(names) ? names[s] : "?";
}
