/*
 * The configuration snapshot and its one table of keys.  A key is named the
 * same everywhere: `http_threads` in the file, RINGTRAIL_HTTP_THREADS in the
 * environment, --http-threads on the command line.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* T_LIST: a key given once per item (each value adds a line; an empty
 * value empties the list), kept as the items joined by newlines. */
enum conf_type { T_STR, T_UINT, T_DURATION, T_SIZE, T_BOOL, T_LEVEL, T_LIST };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;
	/* Bounds of numbers, durations (ms) and sizes; for strings, min = 1
	 * means the empty string is allowed. */
	uint64_t min, max;
	const char *def;
	const char *help;
};

#define K(n, t, mn, mx, d, h)                                                  \
	{                                                                      \
#n, t, offsetof(struct rt_conf, n), mn, mx, d, h               \
	}

static const struct conf_key keys[] = {
	K(db, T_STR, 0, 0, "./data/ringtrail.db",
	  "SQLite database file (created if missing)"),
	K(listen, T_STR, 0, 0, "localhost:8080",
	  "HTTP listen address HOST:PORT; port 0 picks a free port"),
	K(web_root, T_STR, 0, 0, RT_SOURCE_DIR "/web",
	  "folder the web app's static files are served from"),
	K(secret_file, T_STR, 1, 0, "",
	  "server secret for keyed hashes; empty: ringtrail.key beside the db"),
	K(recordings_dir, T_STR, 1, 0, "",
	  "folder of call recordings; empty: recordings/ beside the db"),
	K(recording_format, T_STR, 0, 0, "opus",
	  "format recordings are kept in: opus (Ogg/Opus, compacted after "
	  "the call) or wav (8 kHz G.711 as received)"),
	K(log_level, T_LEVEL, 0, 0, "info", "debug, info, warn or error"),
	K(http_threads, T_UINT, 0, 256, "0",
	  "HTTP worker threads; 0: one per CPU core"),
	K(http_max_body, T_SIZE, 1024, 64u << 20, "1MiB",
	  "largest request body accepted (413 above)"),
	K(audio_max_upload, T_SIZE, 1024, 512u << 20, "32MiB",
	  "largest audio file uploaded for flows' prompts (413 above)"),
	K(http_timeout, T_DURATION, 1000, 3600000, "30s",
	  "idle connection timeout"),
	K(shutdown_timeout, T_DURATION, 0, 600000, "10s",
	  "how long a graceful stop waits for requests in flight"),
	K(session_ttl, T_DURATION, 60000, 90ull * 86400000, "12h",
	  "dashboard login session lifetime"),
	K(login_max_failures, T_UINT, 1, 1000, "10",
	  "failed logins per address or email within login_window before 429"),
	K(login_window, T_DURATION, 1000, 86400000, "15m",
	  "window over which failed logins are counted"),
	K(store_pool_size, T_UINT, 1, 256, "8",
	  "database connections kept open"),
	K(store_busy_timeout, T_DURATION, 0, 600000, "5s",
	  "how long a database write waits for a lock"),
	K(dni_rate_limit, T_UINT, 0, 1000000, "600",
	  "DNI requests a minute per client address (sessions, page views, "
	  "heartbeats) before 429; 0: no limit"),
	K(dni_rate_burst, T_UINT, 1, 1000000, "120",
	  "DNI requests a client address may make at once"),
	K(dni_grace, T_DURATION, 0, 86400000, "15m",
	  "how long after a visitor's session ends a call to their number is "
	  "still attributed to it (confidence grace)"),
	K(dni_flush, T_DURATION, 1, 10000, "100ms",
	  "how often DNI sessions and page views are written in one batch"),
	K(sip_listen, T_STR, 0, 0, "127.0.0.1:5060",
	  "SIP address HOST:PORT (UDP and TCP), one peers reach; port 0: any"),
	K(sip_trunk, T_LIST, 1, 0, "",
	  "a carrier's trunk, one line each (docs/configuration.md); none: "
	  "only loopback may call"),
	K(sip_ring_timeout, T_DURATION, 1000, 600000, "60s",
	  "how long a forwarded call may ring before the caller gets 480"),
	K(sip_rtp_timeout, T_DURATION, 0, 86400000, "60s",
	  "an answered call from which no RTP comes either way for this long "
	  "(and neither side holds) is ended; 0: never"),
	K(sip_min_se, T_DURATION, 1000, 86400000, "90s",
	  "smallest session interval a caller may ask for (RFC 4028 Min-SE; "
	  "the RFC's floor is 90 s); shorter asks get 422"),
	K(sip_tls_cert, T_STR, 1, 0, "",
	  "PEM file with the certificate and private key for SIP over TLS; "
	  "empty: no TLS"),
	K(sip_tls_port, T_UINT, 0, 65535, "5061",
	  "TCP port for SIP over TLS on sip_listen's address; 0: any"),
	K(sip_rtp_ports, T_STR, 0, 0, "20000-29999",
	  "UDP ports for RTP, MIN-MAX with MIN even; a call takes four"),
	K(cookie_secure, T_BOOL, 0, 0, "false",
	  "mark the session cookie Secure; set it when serving over HTTPS"),
	K(demo, T_BOOL, 0, 0, "true",
	  "create a demo account, admin user and API key on an empty database"),
};

static const struct conf_key *find_key(const char *name)
{
	char norm[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '-'
				  ? '_'
				  : (char)tolower((unsigned char)name[i]);
	norm[i] = '\0';
	if (name[i])
		return NULL;
	for (i = 0; i < RT_ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].name, norm) == 0)
			return &keys[i];
	}
	return NULL;
}

bool rt_conf_is_key(const char *key)
{
	return find_key(key) != NULL;
}

static int set_value(struct rt_conf *c, const struct conf_key *k,
		     const char *value, const char **want)
{
	void *p = (char *)c + k->off;
	uint64_t v;
	int err;

	switch (k->type) {
	case T_STR: {
		char *s = strdup(value);

		if (!s)
			return ENOMEM;
		free(*(char **)p);
		*(char **)p = s;
		return 0;
	}
	case T_LIST: {
		char *old = *(char **)p, *s;

		*want = "one line";
		if (strchr(value, '\n'))
			return EINVAL;
		s = value[0] && old && old[0]
			    ? rt_asprintf("%s\n%s", old, value)
			    : strdup(value);
		if (!s)
			return ENOMEM;
		free(old);
		*(char **)p = s;
		return 0;
	}
	case T_UINT:
		*want = "a whole number";
		err = rt_parse_u64(value, k->min, k->max, &v);
		if (!err)
			*(unsigned *)p = (unsigned)v;
		return err;
	case T_DURATION:
		*want = "a duration such as 500ms, 30s, 15m, 12h";
		err = rt_parse_duration_ms(value, &v);
		if (!err && (v < k->min || v > k->max))
			err = ERANGE;
		if (!err)
			*(uint64_t *)p = v;
		return err;
	case T_SIZE:
		*want = "a size such as 64k or 1MiB";
		err = rt_parse_size(value, &v);
		if (!err && (v < k->min || v > k->max))
			err = ERANGE;
		if (!err)
			*(uint64_t *)p = v;
		return err;
	case T_BOOL:
		*want = "true or false";
		return rt_parse_bool(value, (bool *)p);
	case T_LEVEL:
		*want = "debug, info, warn or error";
		return rt_log_level_parse(value, (enum rt_log_level *)p);
	}
	RT_BUG("config key '%s' has no type", k->name);
}

int rt_conf_set(struct rt_conf *c, const char *key, const char *value,
		const char *origin, char *err, size_t errsz)
{
	const struct conf_key *k = find_key(key);
	const char *want = "a value";
	int e;

	if (!k) {
		snprintf(err, errsz, "%s: unknown config key '%s'", origin,
			 key);
		return EINVAL;
	}
	if (k->type == T_STR && !k->min && value[0] == '\0') {
		snprintf(err, errsz, "%s: config key '%s' must not be empty",
			 origin, k->name);
		return EINVAL;
	}
	e = set_value(c, k, value, &want);
	if (e == ENOMEM) {
		snprintf(err, errsz, "out of memory");
		return ENOMEM;
	}
	if (e) {
		if (e == ERANGE && k->max)
			snprintf(err, errsz,
				 "%s: bad value '%.64s' for config key '%s' "
				 "(out of range)",
				 origin, value, k->name);
		else
			snprintf(err, errsz,
				 "%s: bad value '%.64s' for config key '%s' "
				 "(want %s)",
				 origin, value, k->name, want);
		return EINVAL;
	}
	return 0;
}

int rt_conf_init(struct rt_conf *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < RT_ARRAY_SIZE(keys); i++) {
		const char *want = NULL;
		int e = set_value(c, &keys[i], keys[i].def, &want);

		if (e == ENOMEM) {
			rt_conf_release(c);
			return ENOMEM;
		}
		if (e) {
			snprintf(err, sizeof(err), "default of '%s'",
				 keys[i].name);
			RT_BUG("%s does not parse", err);
		}
	}
	return 0;
}

char *rt_conf_beside_db(const struct rt_conf *c, const char *value,
			const char *name)
{
	char *copy, *path;

	if (value && value[0])
		return rt_strdup(value);
	copy = rt_strdup(c->db);
	if (!copy)
		return NULL;
	path = rt_asprintf("%s/%s", dirname(copy), name);
	free(copy);
	return path;
}

void rt_conf_release(struct rt_conf *c)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(keys); i++) {
		if (keys[i].type == T_STR || keys[i].type == T_LIST) {
			char **p = (char **)(void *)((char *)c + keys[i].off);

			free(*p);
			*p = NULL;
		}
	}
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int rt_conf_parse(struct rt_conf *c, const char *text, size_t len,
		  const char *name, char *err, size_t errsz)
{
	char *buf, *line, *next;
	unsigned lineno = 0;
	int e = 0;

	if (memchr(text, '\0', len)) {
		snprintf(err, errsz, "%s: config file contains a NUL byte",
			 name);
		return EINVAL;
	}
	buf = malloc(len + 1);
	if (!buf)
		return ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';

	for (line = buf; line; line = next) {
		char origin[256], *eq, *key, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", name, lineno);
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			snprintf(err, errsz, "%s: expected 'key = value'",
				 origin);
			e = EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if (*val == '"') {
			/* The value ends at the closing quote; only blanks and
			 * a comment may follow it. */
			char *close = strchr(val + 1, '"'), *rest;

			if (!close) {
				snprintf(err, errsz,
					 "%s: unterminated quote in value of "
					 "'%s'",
					 origin, key);
				e = EINVAL;
				break;
			}
			rest = close + 1;
			while (*rest == ' ' || *rest == '\t')
				rest++;
			if (*rest && *rest != '#') {
				snprintf(err, errsz,
					 "%s: unexpected text after the quoted "
					 "value "
					 "of '%s'",
					 origin, key);
				e = EINVAL;
				break;
			}
			*close = '\0';
			val++;
		} else {
			/* An unquoted value ends at a comment. */
			char *hash = strstr(val, " #");

			if (hash) {
				*hash = '\0';
				val = trim(val);
			}
		}
		e = rt_conf_set(c, key, val, origin, err, errsz);
		if (e)
			break;
	}
	free(buf);
	return e;
}

int rt_conf_load_file(struct rt_conf *c, const char *path, char *err,
		      size_t errsz)
{
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int e;

	f = fopen(path, "r");
	if (!f) {
		e = errno;
		snprintf(err, errsz, "cannot open config file '%s': %s", path,
			 strerror(e));
		return e;
	}
	do {
		if (len + 4096 > cap) {
			char *t;

			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 20)) {
				snprintf(err, errsz,
					 "config file '%s' is over 1 MiB",
					 path);
				free(text);
				fclose(f);
				return EFBIG;
			}
			t = realloc(text, cap);
			if (!t) {
				free(text);
				fclose(f);
				return ENOMEM;
			}
			text = t;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	e = ferror(f) ? EIO : 0;
	fclose(f);
	if (e)
		snprintf(err, errsz, "cannot read config file '%s'", path);
	else
		e = rt_conf_parse(c, text ? text : "", len, path, err, errsz);
	free(text);
	return e;
}

int rt_conf_load_env(struct rt_conf *c, char *const *envp, char *err,
		     size_t errsz)
{
	static const char prefix[] = "RINGTRAIL_";

	for (; envp && *envp; envp++) {
		const char *var = *envp, *eq;
		char key[64];
		size_t klen;
		int e;

		if (strncmp(var, prefix, sizeof(prefix) - 1) != 0)
			continue;
		eq = strchr(var, '=');
		if (!eq)
			continue;
		klen = (size_t)(eq - var) - (sizeof(prefix) - 1);
		/* RINGTRAIL_CONFIG names the file; it is read before this. */
		if (klen == 6 &&
		    strncmp(var + sizeof(prefix) - 1, "CONFIG", 6) == 0)
			continue;
		if (klen >= sizeof(key)) {
			snprintf(err, errsz,
				 "unknown environment variable '%.*s'",
				 (int)(eq - var), var);
			return EINVAL;
		}
		memcpy(key, var + sizeof(prefix) - 1, klen);
		key[klen] = '\0';
		{
			char origin[96];

			snprintf(origin, sizeof(origin), "%.*s",
				 (int)(eq - var), var);
			e = rt_conf_set(c, key, eq + 1, origin, err, errsz);
		}
		if (e)
			return e;
	}
	return 0;
}

/* The largest unit that divides v exactly, so that defaults read as written. */
static void print_scaled(FILE *f, uint64_t v, const char *const *units,
			 const uint64_t *div, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v && v % div[i] == 0) {
			fprintf(f, "%llu%s\n", (unsigned long long)(v / div[i]),
				units[i]);
			return;
		}
	}
	fprintf(f, "%llu\n", (unsigned long long)v);
}

void rt_conf_print(const struct rt_conf *c, FILE *f)
{
	static const char *const dur_u[] = {"d", "h", "m", "s", "ms"};
	static const uint64_t dur_d[] = {86400000, 3600000, 60000, 1000, 1};
	static const char *const size_u[] = {"GiB", "MiB", "KiB", ""};
	static const uint64_t size_d[] = {1073741824, 1048576, 1024, 1};

	for (size_t i = 0; i < RT_ARRAY_SIZE(keys); i++) {
		const struct conf_key *k = &keys[i];
		const void *p = (const char *)c + k->off;

		fprintf(f, "\n# %s\n%s = ", k->help, k->name);
		switch (k->type) {
		case T_STR:
			fprintf(f, "\"%s\"\n", *(char *const *)p);
			break;
		case T_LIST: {
			const char *v = *(char *const *)p;

			/* One line per item, under the one key. */
			while (*v) {
				size_t n = strcspn(v, "\n");

				fprintf(f, "\"%.*s\"\n", (int)n, v);
				v += n;
				if (*v)
					fprintf(f, "%s = ", k->name);
				v += *v ? 1 : 0;
			}
			if (!**(char *const *)p)
				fprintf(f, "\"\"\n");
			break;
		}
		case T_UINT:
			fprintf(f, "%u\n", *(const unsigned *)p);
			break;
		case T_DURATION:
			if (*(const uint64_t *)p == 0)
				fprintf(f, "0s\n");
			else
				print_scaled(f, *(const uint64_t *)p, dur_u,
					     dur_d, 5);
			break;
		case T_SIZE:
			print_scaled(f, *(const uint64_t *)p, size_u, size_d,
				     4);
			break;
		case T_BOOL:
			fprintf(f, "%s\n", *(const bool *)p ? "true" : "false");
			break;
		case T_LEVEL:
			fprintf(f, "%s\n",
				rt_log_level_name(
					*(const enum rt_log_level *)p));
			break;
		}
	}
}
