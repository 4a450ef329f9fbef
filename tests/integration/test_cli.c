/*
 * The operator's command line: help, usage errors and their exit status 2,
 * configuration from file, environment and flags in that order, migrations,
 * and the account, user and apikey commands, whose work a server started on
 * the same database then honours, and classify, the traffic source of a
 * visit as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct cli {
	char dir[256];
	char db[320];
	int rc;
	char *out, *err;
};

static int setup(void **state)
{
	static struct cli c;
	const char *tmp = getenv("TMPDIR");

	memset(&c, 0, sizeof(c));
	snprintf(c.dir, sizeof(c.dir), "%s/rt-integ-cli-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c.dir))
		fail_msg("mkdtemp failed");
	snprintf(c.db, sizeof(c.db), "%s/cli.db", c.dir);
	*state = &c;
	return 0;
}

static void clear(struct cli *c)
{
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}

static int teardown(void **state)
{
	struct cli *c = *state;

	clear(c);
	rt_test_rmtree(c->dir);
	return 0;
}

/* Runs ringtrail; env may be NULL. */
static int run(struct cli *c, const char *const *env, const char *in,
	       const char *const *argv)
{
	clear(c);
	c->rc = rt_test_cli(argv, env, in, &c->out, &c->err);
	return c->rc;
}

#define RUN(c, env, in, ...)                                                   \
	run((c), (env), (in), (const char *const[]){__VA_ARGS__, NULL})

#define EXPECT_RC(c, want)                                                     \
	do {                                                                   \
		if ((c)->rc != (want))                                         \
			fail_msg("exit %d, want %d\nstdout: %s\nstderr: %s",   \
				 (c)->rc, (want), (c)->out, (c)->err);         \
	} while (0)

#define EXPECT_IN(text, s)                                                     \
	do {                                                                   \
		if (!strstr((text), (s)))                                      \
			fail_msg("'%s' is not in: %s", (s), (text));           \
	} while (0)

static void test_help_and_version(void **state)
{
	static const char *const cmds[] = {"serve",   "migrate", "account",
					   "user",    "apikey",	 "config",
					   "version", "help"};
	struct cli *c = *state;

	RUN(c, NULL, NULL, "help");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "usage: ringtrail");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		EXPECT_IN(c->out, cmds[i]);

	RUN(c, NULL, NULL, "help", "serve");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "usage: ringtrail serve");
	EXPECT_IN(c->out, "--listen");
	EXPECT_IN(c->out, "--db");
	RUN(c, NULL, NULL, "apikey", "--help");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "usage: ringtrail apikey");

	/* No command: the help, but as a usage error. */
	RUN(c, NULL, NULL, "--log-level", "warn");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->out, "usage: ringtrail");
	RUN(c, NULL, NULL, "help", "frobnicate");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "frobnicate");

	RUN(c, NULL, NULL, "version");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "ringtrail ");
	EXPECT_IN(c->out, "sqlite");
	RUN(c, NULL, NULL, "--version");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "ringtrail ");
}

static void test_usage_errors(void **state)
{
	struct cli *c = *state;

	RUN(c, NULL, NULL, "frobnicate");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "unknown command 'frobnicate'");
	RUN(c, NULL, NULL, "account", "list", "--bogus", "--db", c->db);
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "--bogus");
	RUN(c, NULL, NULL, "migrate", "--db", c->db, "--frob=1");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "--frob");
	RUN(c, NULL, NULL, "account", "--db", c->db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "account", "create", "--db", c->db);
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "--name");
	RUN(c, NULL, NULL, "account", "show", "abc", "--db", c->db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "config", "--http-threads");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "http-threads");
	RUN(c, NULL, NULL, "config", "--http-threads", "257");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "http_threads");
	RUN(c, NULL, NULL, "serve", "--db", c->db, "--listen", "nonsense");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "listen");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config_errors(void **state)
{
	struct cli *c = *state;
	char path[400], arg[420];
	const char *env_bad[] = {"RINGTRAIL_HTTP_THREADS=abc", NULL};
	const char *env_unknown[] = {"RINGTRAIL_NO_SUCH_KEY=1", NULL};

	snprintf(path, sizeof(path), "%s/bad.conf", c->dir);
	write_file(path, "# a comment\nhttp_threads = 4\nbogus_key = 1\n");
	RUN(c, NULL, NULL, "config", "--config", path);
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "bogus_key");
	EXPECT_IN(c->err, "bad.conf:3");
	snprintf(arg, sizeof(arg), "--config=%s", path);
	RUN(c, NULL, NULL, "account", "list", arg, "--db", c->db);
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "bogus_key");

	write_file(path, "http_threads = lots\n");
	RUN(c, NULL, NULL, "config", "--config", path);
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "http_threads");
	write_file(path, "listen\n");
	RUN(c, NULL, NULL, "config", "--config", path);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "config", "--config", "/nonexistent/ringtrail.conf");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "/nonexistent/ringtrail.conf");

	RUN(c, env_bad, NULL, "config");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "RINGTRAIL_HTTP_THREADS");
	EXPECT_IN(c->err, "http_threads");
	RUN(c, env_bad, NULL, "version");
	EXPECT_RC(c, 2);
	RUN(c, env_unknown, NULL, "config");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "NO_SUCH_KEY");
}

/* The value of `key = ...` in `ringtrail config` output. */
static const char *config_value(const char *out, const char *key, char *buf,
				size_t size)
{
	char prefix[80];

	snprintf(prefix, sizeof(prefix), "%s = ", key);
	if (!rt_test_line_value(out, prefix, buf, size))
		fail_msg("no '%s' in: %s", prefix, out);
	return buf;
}

static void test_config_precedence(void **state)
{
	struct cli *c = *state;
	char path[400], v[64];
	const char *env[] = {"RINGTRAIL_HTTP_THREADS=5",
			     "RINGTRAIL_LOG_LEVEL=error", NULL};

	snprintf(path, sizeof(path), "%s/good.conf", c->dir);
	write_file(path, "# threads and timeouts\nhttp_threads = 3\n"
			 "login_window = 2m # trailing comment\n"
			 "log_level = \"warn\"\nlisten = \"127.0.0.1:9999\"\n");

	RUN(c, NULL, NULL, "config");
	EXPECT_RC(c, 0);
	assert_string_equal(config_value(c->out, "http_threads", v, sizeof(v)),
			    "0");

	RUN(c, NULL, NULL, "config", "--config", path);
	EXPECT_RC(c, 0);
	assert_string_equal(config_value(c->out, "http_threads", v, sizeof(v)),
			    "3");
	assert_string_equal(config_value(c->out, "login_window", v, sizeof(v)),
			    "2m");
	assert_string_equal(config_value(c->out, "log_level", v, sizeof(v)),
			    "warn");
	assert_string_equal(config_value(c->out, "listen", v, sizeof(v)),
			    "\"127.0.0.1:9999\"");

	/* The environment beats the file... */
	RUN(c, env, NULL, "config", "--config", path);
	EXPECT_RC(c, 0);
	assert_string_equal(config_value(c->out, "http_threads", v, sizeof(v)),
			    "5");
	assert_string_equal(config_value(c->out, "log_level", v, sizeof(v)),
			    "error");
	assert_string_equal(config_value(c->out, "login_window", v, sizeof(v)),
			    "2m");

	/* ...and a flag beats both, in either spelling. */
	RUN(c, env, NULL, "config", "--config", path, "--http-threads", "7");
	EXPECT_RC(c, 0);
	assert_string_equal(config_value(c->out, "http_threads", v, sizeof(v)),
			    "7");
	assert_string_equal(config_value(c->out, "log_level", v, sizeof(v)),
			    "error");
	RUN(c, env, NULL, "--http-threads=8", "config", "--config", path);
	EXPECT_RC(c, 0);
	assert_string_equal(config_value(c->out, "http_threads", v, sizeof(v)),
			    "8");

	/* RINGTRAIL_CONFIG names the file. */
	{
		char cf[440];
		const char *e2[] = {cf, NULL};

		snprintf(cf, sizeof(cf), "RINGTRAIL_CONFIG=%s", path);
		RUN(c, e2, NULL, "config");
		EXPECT_RC(c, 0);
		assert_string_equal(config_value(c->out, "http_threads", v,
						 sizeof(v)),
				    "3");
	}

	/* What `config` prints is itself a config file that reads back. */
	{
		char copy[400];

		snprintf(copy, sizeof(copy), "%s/printed.conf", c->dir);
		RUN(c, env, NULL, "config", "--config", path, "--http-threads",
		    "7");
		write_file(copy, c->out);
		RUN(c, NULL, NULL, "config", "--config", copy);
		EXPECT_RC(c, 0);
		assert_string_equal(config_value(c->out, "http_threads", v,
						 sizeof(v)),
				    "7");
		assert_string_equal(config_value(c->out, "log_level", v,
						 sizeof(v)),
				    "error");
	}
}

static void test_migrate(void **state)
{
	struct cli *c = *state;
	char db[400];

	snprintf(db, sizeof(db), "%s/sub/dir/m.db", c->dir);
	RUN(c, NULL, NULL, "migrate", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "up to date");
	EXPECT_IN(c->out, "applied now");
	assert_null(strstr(c->out, "(0 applied now)"));
	RUN(c, NULL, NULL, "migrate", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "(0 applied now)");
	RUN(c, NULL, NULL, "migrate", "--status", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "up to date");
	assert_null(strstr(c->out, "applied"));
}

/* The id in the first column of the row after the header. */
static long long row_id(const char *out)
{
	const char *row = strchr(out, '\n');
	long long id = 0;

	if (!row || sscanf(row + 1, "%lld", &id) != 1 || id <= 0)
		fail_msg("no id row in: %s", out);
	return id;
}

static void test_accounts_users_keys(void **state)
{
	struct cli *c = *state;
	char acc[32], kid[32], secret[128], ro[128], client[32];
	const char *db = c->db;
	struct rt_test_server s;
	struct rt_test_resp r;

	RUN(c, NULL, NULL, "account", "create", "--name", "Acme Agency", "--db",
	    db, "--time-zone", "Europe/Paris", "--currency", "EUR");
	EXPECT_RC(c, 0);
	snprintf(acc, sizeof(acc), "%lld", row_id(c->out));
	EXPECT_IN(c->out, "agency");
	RUN(c, NULL, NULL, "account", "create", "--name", "Acme Client",
	    "--parent", acc, "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "client");
	EXPECT_IN(c->out, "Europe/Paris");
	snprintf(client, sizeof(client), "%lld", row_id(c->out));
	RUN(c, NULL, NULL, "account", "create", "--name", "Orphan", "--parent",
	    "99999", "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "account", "create", "--name", "Sub", "--parent",
	    client, "--db", db);
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "not an agency");
	RUN(c, NULL, NULL, "account", "create", "--name", "X", "--currency",
	    "euro", "--db", db);
	EXPECT_RC(c, 2);

	RUN(c, NULL, NULL, "account", "list", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "Acme Agency");
	EXPECT_IN(c->out, "Acme Client");
	RUN(c, NULL, NULL, "account", "show", acc, "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "Acme Agency");
	assert_null(strstr(c->out, "Acme Client"));
	RUN(c, NULL, NULL, "account", "show", "99999", "--db", db);
	EXPECT_RC(c, 2);

	RUN(c, NULL, "correct horse battery\n", "user", "create", "--email",
	    "Op@Example.com", "--name", "Operator", "--account", acc, "--role",
	    "owner", "--password-stdin", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "op@example.com");
	assert_null(strstr(c->out, "correct horse"));
	RUN(c, NULL, NULL, "user", "create", "--email", "gen@example.com",
	    "--name", "Generated", "--account", acc, "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "password: ");
	RUN(c, NULL, "correct horse battery\n", "user", "create", "--email",
	    "op@example.com", "--name", "Again", "--account", acc,
	    "--password-stdin", "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, "short\n", "user", "create", "--email", "weak@example.com",
	    "--name", "Weak", "--account", acc, "--password-stdin", "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "user", "create", "--email", "r@example.com",
	    "--name", "R", "--account", acc, "--role", "emperor", "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "user", "list", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "op@example.com");
	EXPECT_IN(c->out, "gen@example.com");

	RUN(c, NULL, NULL, "apikey", "create", "--account", acc, "--scopes",
	    "read,write,admin", "--name", "ops key", "--db", db);
	EXPECT_RC(c, 0);
	if (!rt_test_line_value(c->out, "api key: ", secret, sizeof(secret)))
		fail_msg("no 'api key:' line in: %s", c->out);
	assert_int_equal(strncmp(secret, "rt_live_", 8), 0);
	RUN(c, NULL, NULL, "apikey", "create", "--account", acc, "--scopes",
	    "read", "--db", db);
	EXPECT_RC(c, 0);
	snprintf(kid, sizeof(kid), "%lld", row_id(c->out));
	assert_non_null(
		rt_test_line_value(c->out, "api key: ", ro, sizeof(ro)));
	RUN(c, NULL, NULL, "apikey", "create", "--account", acc, "--scopes",
	    "read,sudo", "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "apikey", "create", "--account", "99999", "--scopes",
	    "read", "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "apikey", "list", "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "ops key");
	/* The list shows prefixes, never secrets. */
	assert_null(strstr(c->out, secret));
	RUN(c, NULL, NULL, "apikey", "list", "--account", acc, "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "ops key");
	RUN(c, NULL, NULL, "apikey", "revoke", kid, "--db", db);
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "revoked key");
	RUN(c, NULL, NULL, "apikey", "revoke", kid, "--db", db);
	EXPECT_RC(c, 2);
	RUN(c, NULL, NULL, "apikey", "revoke", "99999", "--db", db);
	EXPECT_RC(c, 2);

	/* A server on this database honours what the CLI made. */
	{
		const char *args[] = {"--db", db, NULL};

		rt_test_server_start(&s, args, NULL);
	}
	/* The database had accounts: no demo account, no secrets printed. */
	assert_string_equal(s.key, "");
	rt_test_api(&s, &r, secret, "GET", "/v1/me", NULL);
	if (r.status != 200) {
		rt_test_server_stop(&s);
		fail_msg("the CLI's key: want 200, got %ld: %s", r.status,
			 r.body);
	}
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r.json, "account"), "id")),
			 strtoll(acc, NULL, 10));
	rt_test_resp_free(&r);
	rt_test_api(&s, &r, ro, "GET", "/v1/me", NULL);
	if (r.status != 401) {
		rt_test_server_stop(&s);
		fail_msg("the revoked key: want 401, got %ld: %s", r.status,
			 r.body);
	}
	rt_test_resp_free(&r);
	rt_test_api(
		&s, &r, NULL, "POST", "/v1/sessions",
		"{\"email\":\"op@example.com\",\"password\":\"correct horse "
		"battery\"}");
	if (r.status != 201) {
		rt_test_server_stop(&s);
		fail_msg("the CLI's user: want 201, got %ld: %s", r.status,
			 r.body);
	}
	rt_test_resp_free(&r);
	assert_int_equal(rt_test_server_stop(&s), 0);
}

/* ringtrail classify: one JSON object with GA4's channel name; bad input is
 * a usage error, exit 2, with a message on stderr. */
static void test_classify(void **state)
{
	struct cli *c = *state;
	json_error_t jerr;
	json_t *j;

	RUN(c, NULL, NULL, "classify", "--url",
	    "https://www.example.com/plumbing?gclid=abc&keyword=boiler+repair",
	    "--referrer", "https://www.google.co.uk/");
	EXPECT_RC(c, 0);
	j = json_loads(c->out, 0, &jerr);
	if (!j || !json_is_object(j))
		fail_msg("not one JSON object (%s): %s", jerr.text, c->out);
	assert_string_equal(json_string_value(json_object_get(j, "channel")),
			    "Paid Search");
	assert_string_equal(json_string_value(json_object_get(j, "source")),
			    "google");
	assert_string_equal(json_string_value(json_object_get(j, "medium")),
			    "cpc");
	assert_string_equal(json_string_value(json_object_get(j, "keyword")),
			    "boiler repair");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "click_ids"), "gclid")),
			    "abc");
	json_decref(j);

	RUN(c, NULL, NULL, "classify", "--url", "https://www.example.com/",
	    "--referrer", "https://m.facebook.com/");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "\"channel\": \"Organic Social\"");
	RUN(c, NULL, NULL, "classify", "--url",
	    "https://www.example.com/?utm_source=news&utm_medium=Email");
	EXPECT_RC(c, 0);
	EXPECT_IN(c->out, "\"channel\": \"Email\"");

	RUN(c, NULL, NULL, "classify", "--url", "ftp://www.example.com/");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "landing URL");
	assert_true(!c->out || !strchr(c->out, '{'));
	RUN(c, NULL, NULL, "classify", "--url", "https://www.example.com/",
	    "--referrer", "not a url");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "referrer");
	RUN(c, NULL, NULL, "classify");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "--url");
	RUN(c, NULL, NULL, "classify", "--referrer", "https://www.google.com/");
	EXPECT_RC(c, 2);
	EXPECT_IN(c->err, "--url");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_precedence),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_accounts_users_keys),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
