/*
 * util: what every subsystem shares: logging (logfmt), the configuration
 * snapshot, time, and a few checked string and number parsers.
 *
 * Ownership: functions returning `char *` hand over a heap string the caller
 * frees; `const char *` results are borrowed.  Errors are 0 or a positive
 * errno value unless said otherwise.
 */
#ifndef RT_UTIL_H
#define RT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define RT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RT_PRINTF(f, a)	 __attribute__((format(printf, f, a)))

/* A programmer error: prints where and aborts.  Never for bad input. */
#define RT_BUG(...) rt_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void rt_bug(const char *file, int line, const char *fmt, ...)
	RT_PRINTF(3, 4);

/* ---- logging ---------------------------------------------------------- */

enum rt_log_level { RT_LOG_DEBUG, RT_LOG_INFO, RT_LOG_WARN, RT_LOG_ERROR };

/* Parses "debug", "info", "warn" or "error".  Returns 0 or EINVAL. */
int rt_log_level_parse(const char *s, enum rt_log_level *lp);
const char *rt_log_level_name(enum rt_log_level l);
void rt_log_set_level(enum rt_log_level l);
bool rt_log_enabled(enum rt_log_level l);

/*
 * Per-thread context printed on every line of this thread until cleared:
 * key is "req" for an HTTP request id, "call" for a call id.  Both strings
 * are copied.
 */
void rt_log_ctx_set(const char *key, const char *id);
void rt_log_ctx_clear(void);

/*
 * Writes one logfmt line to stderr:
 *   time=... level=info module=http req=... msg="listening" addr=127.0.0.1:8080
 * msg is a short lowercase phrase; kvfmt formats further key=value pairs
 * (may be ""), whose string values should go through rt_log_q() when they
 * come from outside.  Control characters are escaped so a line stays a line.
 */
void rt_log_write(enum rt_log_level l, const char *module, const char *msg,
		  const char *kvfmt, ...) RT_PRINTF(4, 5);

/* Each .c file that logs defines RT_LOG_MODULE "name" before using these. */
#define rt_debug(...)                                                          \
	do {                                                                   \
		if (rt_log_enabled(RT_LOG_DEBUG))                              \
			rt_log_write(RT_LOG_DEBUG, RT_LOG_MODULE,              \
				     __VA_ARGS__);                             \
	} while (0)
#define rt_info(...)  rt_log_write(RT_LOG_INFO, RT_LOG_MODULE, __VA_ARGS__)
#define rt_warn(...)  rt_log_write(RT_LOG_WARN, RT_LOG_MODULE, __VA_ARGS__)
#define rt_error(...) rt_log_write(RT_LOG_ERROR, RT_LOG_MODULE, __VA_ARGS__)

/* Quotes and escapes s as a logfmt value into buf; returns buf. */
const char *rt_log_q(char *buf, size_t size, const char *s);

/* ---- time ------------------------------------------------------------- */

int64_t rt_now_ms(void);   /* wall clock, ms since the Unix epoch */
uint64_t rt_mono_us(void); /* monotonic clock, microseconds */
/* now + ms on the clock that pthread_cond_timedwait reads (realtime). */
struct timespec rt_deadline_ms(uint64_t ms);

/* Formats ms since the epoch as RFC 3339 UTC "2026-11-24T19:00:00.123Z". */
#define RT_TIME_LEN 32
const char *rt_time_fmt(int64_t ms, char buf[RT_TIME_LEN]);
/* Parses RFC 3339 ("...Z" or "...+hh:mm", optional fraction).  EINVAL if bad.
 */
int rt_time_parse(const char *s, int64_t *msp);

/* ---- time zones (tz.c, ICU) ------------------------------------------ */

/* Local time: Gregorian date, weekday 0 Monday .. 6 Sunday, minutes since
 * local midnight, and the zone's offset from UTC in minutes then. */
struct rt_tz_tm {
	int year, month, day, wday, minute, offset_min;
};
/* Whether tz is an IANA zone ICU knows ("America/New_York", "UTC"). */
bool rt_tz_valid(const char *tz);
/* ms (Unix epoch) in zone tz (NULL or "": UTC).  0 or EINVAL. */
int rt_tz_local(const char *tz, int64_t ms, struct rt_tz_tm *out);

/* ---- strings and numbers ---------------------------------------------- */

/* Copies at most size-1 bytes and terminates; returns strlen(src). */
size_t rt_strlcpy(char *dst, const char *src, size_t size);
char *rt_strdup(const char *s);				 /* NULL on ENOMEM */
char *rt_asprintf(const char *fmt, ...) RT_PRINTF(1, 2); /* NULL on ENOMEM */
bool rt_streq(const char *a, const char *b);		 /* NULL-safe */
bool rt_strcaseeq(const char *a, const char *b);	 /* ASCII, NULL-safe */

/* In place: every byte that is not part of well-formed UTF-8 (overlongs,
 * surrogates and all), and every control character, becomes '?'. */
void rt_utf8_clean(char *s);
/* Cuts s to at most max bytes without splitting a character. */
void rt_utf8_cut(char *s, size_t max);

/* Whole-string decimal parse within [min, max].  EINVAL or ERANGE. */
int rt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *vp);
int rt_parse_i64(const char *s, int64_t *vp);
/* "250ms", "30s", "15m", "12h", "7d"; a bare number is seconds. */
int rt_parse_duration_ms(const char *s, uint64_t *msp);
/* "512", "64k", "1M", "1MiB", "2G". */
int rt_parse_size(const char *s, uint64_t *bytesp);
/* "yes/no/true/false/on/off/1/0". */
int rt_parse_bool(const char *s, bool *bp);

/* ---- growable text buffer (git strbuf) --------------------------------- */

/* Embedded by value: rt_buf_init / rt_buf_release.  b->s is always
 * NUL-terminated once anything was appended; on ENOMEM b->err is set and
 * later appends do nothing, so callers check once at the end. */
struct rt_buf {
	char *s;
	size_t len, cap;
	int err;
};
void rt_buf_init(struct rt_buf *b);
void rt_buf_release(struct rt_buf *b);
void rt_buf_append(struct rt_buf *b, const char *s, size_t len);
void rt_buf_puts(struct rt_buf *b, const char *s);
void rt_buf_printf(struct rt_buf *b, const char *fmt, ...) RT_PRINTF(2, 3);
/* Hands over the string (caller frees); the buffer is empty afterwards. */
char *rt_buf_detach(struct rt_buf *b, size_t *lenp);

/* Writes prefix and n random letters of a 32-letter alphabet without
 * look-alikes (5 bits each) into out, NUL-terminated; size must hold them.
 * For public ids that must be unguessable: site keys, visitor ids. */
void rt_random_token(char *out, size_t size, const char *prefix, size_t n);
/* n random bytes from libsodium's generator, read ahead a kilobyte at a
 * time per thread: one getrandom() per many visits instead of two a visit.
 * Bytes are wiped from the buffer as they are handed out. */
void rt_random_bytes(void *out, size_t n);

/* ---- a map from nonzero 64-bit keys to 64-bit values (idmap.c) --------- */

struct rt_idmap_entry {
	uint64_t key; /* 0: empty */
	int64_t value;
};
/* Zeroed is empty; rt_idmap_release frees it. */
struct rt_idmap {
	struct rt_idmap_entry *e;
	size_t cap, n;
};
void rt_idmap_release(struct rt_idmap *m);
/* Adds or replaces; EINVAL for key 0, ENOMEM. */
int rt_idmap_put(struct rt_idmap *m, uint64_t key, int64_t value);
/* 0 with *valuep, or ENOENT. */
int rt_idmap_get(const struct rt_idmap *m, uint64_t key, int64_t *valuep);
int rt_idmap_del(struct rt_idmap *m, uint64_t key);

/* ---- rate limits: token buckets per key (ratelimit.c) ------------------ */

struct rt_ratelimit;
/* per_minute requests a minute on average, up to burst at once; a
 * per_minute of 0 turns the limit off. */
int rt_ratelimit_alloc(struct rt_ratelimit **rp, unsigned per_minute,
		       unsigned burst);
void rt_ratelimit_free(struct rt_ratelimit *r);
/* Takes one request for key at now (ms): 0 when allowed, else the seconds
 * to wait before the next one would be (for Retry-After). */
unsigned rt_ratelimit_take(struct rt_ratelimit *r, const char *key,
			   int64_t now);

/* ---- metrics: lock-free latency histograms (Prometheus text format) ----- */

#define RT_HIST_BUCKETS 12
struct rt_hist {
	_Atomic uint64_t bucket[RT_HIST_BUCKETS + 1]; /* last one is +Inf */
	_Atomic uint64_t sum_us;
	_Atomic uint64_t count;
};
void rt_hist_observe(struct rt_hist *h, uint64_t us);
/* Appends the _bucket, _sum and _count series; labels like `route="x"`. */
void rt_hist_write(const struct rt_hist *h, struct rt_buf *b, const char *name,
		   const char *labels);

/* ---- CSV (RFC 4180) ------------------------------------------------------ */

/* A reader over a buffer of CSV text: comma-separated fields, fields in
 * double quotes may hold commas, newlines and "" for a quote; CRLF or LF. */
struct rt_csv {
	const char *p, *end;
	unsigned line;	     /* line the last record started on (1-based) */
	unsigned at;	     /* line of p */
	struct rt_buf field; /* the record's fields, NUL-separated */
};
void rt_csv_init(struct rt_csv *c, const char *data, size_t len);
void rt_csv_release(struct rt_csv *c);
/*
 * Reads the next record.  Returns 1 with up to max fields in fields
 * (borrowed until the next call; *np may exceed max: the count in the
 * record), 0 at the end, EINVAL for a quote that is never closed or text
 * after a closing quote, ENOMEM.  Blank lines are skipped.
 */
int rt_csv_next(struct rt_csv *c, const char **fields, size_t max, size_t *np);

/* ---- configuration ---------------------------------------------------- */

/*
 * The configuration snapshot.  Built once at start from defaults, then the
 * config file, then RINGTRAIL_* environment variables, then flags; read only
 * afterwards.  Strings are owned by the struct.
 */
struct rt_conf {
	char *db;	   /* SQLite path (later a postgres:// URL) */
	char *listen;	   /* HOST:PORT for HTTP; port 0 picks a free one */
	char *web_root;	   /* folder of the web app's static files */
	char *secret_file; /* server secret for keyed hashes; "" = beside db */
	char *recordings_dir; /* call recordings; "" = recordings/ beside db */
	char *recording_format; /* "opus" or "wav" */
	enum rt_log_level log_level;
	/* Durations are in milliseconds, sizes in bytes. */
	unsigned http_threads;
	uint64_t http_max_body;
	uint64_t audio_max_upload; /* routes with RT_ROUTE_UPLOAD */
	uint64_t http_timeout;
	uint64_t shutdown_timeout;
	uint64_t session_ttl;
	unsigned login_max_failures;
	uint64_t login_window;
	unsigned store_pool_size;
	uint64_t store_busy_timeout;
	unsigned dni_rate_limit; /* per minute per client address; 0 off */
	unsigned dni_rate_burst;
	uint64_t dni_grace;
	uint64_t dni_flush;
	char *sip_listen; /* HOST:PORT for SIP over UDP and TCP */
	char *sip_trunk;  /* trunks, one per line (src/sip: rt_sip_trunk_parse)
			   */
	uint64_t sip_ring_timeout;
	char *sip_rtp_ports; /* "MIN-MAX" */
	char *sip_tls_cert;  /* PEM: certificate and key; "" = no TLS */
	uint64_t sip_min_se; /* RFC 4028 Min-SE */
	uint64_t sip_rtp_timeout;
	unsigned sip_tls_port;
	bool cookie_secure; /* mark the session cookie Secure (behind TLS) */
	bool demo; /* create the demo account, admin user and key on an empty db
		    */
};

/* Fills in the defaults.  Returns ENOMEM or 0. */
int rt_conf_init(struct rt_conf *c);
void rt_conf_release(struct rt_conf *c);
/* value when set, else name in the database file's folder (caller frees;
 * NULL on ENOMEM): where files that go with the database live. */
char *rt_conf_beside_db(const struct rt_conf *c, const char *value,
			const char *name);

/*
 * Sets one key from text.  origin names where the value came from for the
 * error message ("ringtrail.conf:12", "RINGTRAIL_DB", "--db").  On a bad key
 * or value returns EINVAL and writes a message naming the key into err.
 */
int rt_conf_set(struct rt_conf *c, const char *key, const char *value,
		const char *origin, char *err, size_t errsz);

/*
 * Parses config text: `key = value` lines, `#` comments, blank lines,
 * values optionally in double quotes.  Every error names file, line and key.
 */
int rt_conf_parse(struct rt_conf *c, const char *text, size_t len,
		  const char *name, char *err, size_t errsz);
int rt_conf_load_file(struct rt_conf *c, const char *path, char *err,
		      size_t errsz);
/* Applies RINGTRAIL_<KEY> variables from envp (NULL-terminated). */
int rt_conf_load_env(struct rt_conf *c, char *const *envp, char *err,
		     size_t errsz);
/* True when `--name` (dashes or underscores) is a config key flag. */
bool rt_conf_is_key(const char *key);
/* Writes every key and value in config-file syntax. */
void rt_conf_print(const struct rt_conf *c, FILE *f);

#endif
