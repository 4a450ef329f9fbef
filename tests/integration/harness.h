/*
 * The integration harness: starts the real `ringtrail serve` in a temporary
 * folder on 127.0.0.1:0, reads the secrets and the port it prints, sends it
 * HTTP requests with libcurl, runs its command line, and stops it with
 * SIGTERM, checking that it exits 0 (so a sanitizer report or a leak at exit
 * fails the test).
 *
 * Every function that cannot go on fails the current cmocka test with a
 * message; the server is always stopped by the group or test teardown.
 * Nothing here is thread safe: a test drives one request at a time.
 */
#ifndef RT_TEST_HARNESS_H
#define RT_TEST_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>

#include <cmocka.h>
#include <jansson.h>

struct rt_test_server {
	pid_t pid;     /* 0 when not running */
	int out_fd;    /* the server's stdout */
	char dir[256]; /* its own temporary folder, removed at stop */
	char db[320];  /* dir/r.db */
	char base[64]; /* "http://127.0.0.1:PORT" */
	unsigned port;
	unsigned sip_port; /* UDP and TCP on 127.0.0.1 */
	char key[128];	   /* the bootstrap admin API key */
	char email[256];   /* the bootstrap admin user */
	char password[128];
	int64_t account_id; /* the demo account */
};

/* An answer: status, the raw header block, the body and (when the body is
 * JSON) its parse.  Owned; free with rt_test_resp_free(). */
struct rt_test_resp {
	long status;
	char *headers; /* "Name: value\r\n" lines of the last response */
	char *body;    /* NUL-terminated */
	size_t len;
	json_t *json; /* NULL when the body is not JSON */
};

/* The binary under test: $RT_TEST_BINARY, else the path it was built at. */
const char *rt_test_binary(void);
/* The source tree: $RT_SOURCE_DIR, else the path it was built from. */
const char *rt_test_source_dir(void);

/*
 * Starts a server.  args: extra arguments after the standard ones (NULL or
 * NULL-terminated); env: "NAME=value" entries added to (and overriding) the
 * test's environment, from which every RINGTRAIL_* variable is dropped.
 * Fails the test when the server does not print its port within 60 s.
 */
void rt_test_server_start(struct rt_test_server *s, const char *const *args,
			  const char *const *env);
/* Stops the server with sig (SIGKILL: as a crash) and starts it again on
 * the same folder and database; key, admin user and account stay those of
 * the first start, the port is the new one's. */
void rt_test_server_restart(struct rt_test_server *s, int sig,
			    const char *const *args, const char *const *env);
/* SIGTERM, waits up to 10 s for exit status 0 (else SIGKILL and failure),
 * removes the folder.  Safe on a server that is not running.  Returns 0 when
 * the server stopped cleanly, -1 otherwise (the message is printed). */
int rt_test_server_stop(struct rt_test_server *s);
/* True while the server process is alive. */
bool rt_test_server_alive(struct rt_test_server *s);

/*
 * One request.  headers: NULL-terminated "Name: value" strings or NULL; body
 * may be NULL (no body) and may hold any bytes.  Fails the test only when
 * the server cannot be reached.  r is filled (status 0 on transport error).
 */
void rt_test_request(struct rt_test_server *s, struct rt_test_resp *r,
		     const char *method, const char *path,
		     const char *const *headers, const char *body, size_t len);
/* An API call: Authorization: Bearer key (unless key is NULL), and for a
 * body Content-Type: application/json.  body may be NULL. */
#define RT_TEST_BROWSER_UA                                                     \
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "     \
	"Gecko) Chrome/131.0.0.0 Safari/537.36"

void rt_test_api(struct rt_test_server *s, struct rt_test_resp *r,
		 const char *key, const char *method, const char *path,
		 const char *body);
void rt_test_resp_free(struct rt_test_resp *r);
/* The value of a response header (case-insensitive name) in buf, or NULL. */
const char *rt_test_header(const struct rt_test_resp *r, const char *name,
			   char *buf, size_t size);

/* Fails the test unless r->status is want, showing the body. */
#define RT_EXPECT_STATUS(r, want)                                              \
	rt_test_expect_status((r), (want), __FILE__, __LINE__)
void rt_test_expect_status(const struct rt_test_resp *r, long want,
			   const char *file, int line);
/* Fails the test unless the body is {"error":{"code":code,"message":...}}
 * (and, when field is not NULL, "field":field). */
#define RT_EXPECT_ERROR(r, status, code, field)                                \
	rt_test_expect_error((r), (status), (code), (field), __FILE__, __LINE__)
void rt_test_expect_error(const struct rt_test_resp *r, long status,
			  const char *code, const char *field, const char *file,
			  int line);

/* An integer member of the JSON body; fails the test when it is missing. */
int64_t rt_test_json_id(const struct rt_test_resp *r, const char *name);

/* printf into one of a ring of 16 static buffers: for paths and bodies. */
const char *rt_test_fmt(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Runs the binary with argv (after the program name; NULL-terminated), env
 * as for rt_test_server_start, stdin_data (may be NULL) on its standard
 * input.  *out and *err get what it printed (owned, may be NULL to drop).
 * Returns its exit status, or -1 when it was killed (after 60 s).
 */
int rt_test_cli(const char *const *argv, const char *const *env,
		const char *stdin_data, char **out, char **err);

/* rm -rf dir (no-op for ""). */
void rt_test_rmtree(const char *dir);

/* The value after "prefix" on the first line of text that starts with it,
 * up to the end of the line, in buf; NULL when there is no such line. */
const char *rt_test_line_value(const char *text, const char *prefix, char *buf,
			       size_t size);

/* sec seconds of a sine of hz at half scale, in every channel, encoded
 * by libsndfile as format (SF_FORMAT_*) at rate: the bytes in *bufp (the
 * caller frees; one byte more than the length is allocated). */
size_t rt_test_tone_file(int format, int rate, int channels, double hz,
			 double sec, char **bufp);

#endif
