/*
 * The command table and what every command shares: configuration in order
 * of precedence (defaults, --config file, RINGTRAIL_* environment, flags),
 * logging, and opening the store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#define RT_LOG_MODULE "cli"

static const struct rt_cmd commands[] = {
	{"serve", rt_cmd_serve, RT_CMD_STORE | RT_CMD_AUTH,
	 "serve [--db PATH] [--listen HOST:PORT] [--config FILE]",
	 "run the server: REST API and web app",
	 "Opens (and creates) the database, applies migrations, and serves "
	 "the\n"
	 "API and the web app.  On an empty database it creates a demo "
	 "account,\n"
	 "an admin user and an admin API key, and prints the secrets once.\n"
	 "SIGTERM or SIGINT stops it gracefully; a second one stops it at "
	 "once.\n"},
	{"migrate", rt_cmd_migrate, RT_CMD_STORE | RT_CMD_NO_MIGRATE,
	 "migrate [--status]", "apply database migrations",
	 "Brings the database schema up to date (serve also does this).  With\n"
	 "--status it only prints the schema version.\n"},
	{"account", rt_cmd_account, RT_CMD_STORE,
	 "account create --name NAME [--parent ID] [--kind agency|client]\n"
	 "                [--time-zone TZ] [--currency CUR]\n"
	 "        account list\n"
	 "        account show ID",
	 "create, list and show accounts",
	 "Without --parent, create makes a root account (an agency by "
	 "default);\n"
	 "with it, a client account under that agency.\n"},
	{"user", rt_cmd_user, RT_CMD_STORE | RT_CMD_AUTH,
	 "user create --email EMAIL --name NAME --account ID [--role ROLE]\n"
	 "             [--password-stdin]\n"
	 "        user list",
	 "create and list users",
	 "Roles: owner, admin, analyst, agent (default analyst).  Without\n"
	 "--password-stdin a random password is made and printed once.\n"},
	{"apikey", rt_cmd_apikey, RT_CMD_STORE | RT_CMD_AUTH,
	 "apikey create --account ID --scopes read,write,admin [--name NAME]\n"
	 "               [--expires RFC3339]\n"
	 "        apikey list [--account ID]\n"
	 "        apikey revoke ID",
	 "create, list and revoke API keys",
	 "create prints the secret once, on a line 'api key: rt_live_...'.\n"},
	{"classify", rt_cmd_classify, 0,
	 "classify --url URL [--referrer URL]",
	 "classify a visit's traffic source",
	 "Prints one JSON object: source, medium, campaign, term, content, the\n"
	 "GA4 default channel group in channel, ad group, keyword, click ids and\n"
	 "the landing page, as a visit with that landing URL and referrer gets\n"
	 "them.  docs/attribution.md has the rules.  A bad URL exits with 2.\n"},
	{"analyze", rt_cmd_analyze, 0,
	 "analyze [--terms FILE] FILE",
	 "analyse one call's conversation",
	 "FILE is a transcript JSON: {\"turns\": [{\"speaker\": \"caller\" or\n"
	 "\"agent\", \"start_ms\", \"end_ms\", \"text\"}]}.  Prints one JSON object:\n"
	 "the transcript with PII masked, intent, sentiment, keywords, objections,\n"
	 "competitors, score, lead, outcome, missed opportunities, coaching,\n"
	 "redactions and a summary.  --terms adds term lists: {\"keywords\": [...],\n"
	 "\"objections\": {\"price\": [...]}, \"competitors\": [...]}.\n"
	 "docs/analysis.md has the rules.  Bad input exits with 2.\n"},
	{"numbers", rt_cmd_numbers, RT_CMD_STORE,
	 "numbers import --account ID [--country CC] FILE\n"
	 "        numbers list --account ID [--all]",
	 "import and list tracking numbers",
	 "import reads CSV (FILE, or - for standard input) whose first line\n"
	 "names the columns: number, and any of label, kind (pool, source,\n"
	 "offline), source, medium, campaign, destination, status.  Numbers in\n"
	 "national format are read for --country (default US).  Every row is\n"
	 "checked first: on any error nothing is imported and each bad line is\n"
	 "listed.  list shows the account's numbers and its clients'; --all\n"
	 "includes released ones.\n"},
	{"simulate", rt_cmd_simulate, 0,
	 "simulate [--url URL] [--key KEY | --key-file FILE]\n"
	 "                 [--sip HOST:PORT] [--visitors N] [--calls N]\n"
	 "                 [--account ID] [--seed S] [--duration 60s]\n"
	 "                 [--concurrency N] [--business NAME]\n"
	 "                 [--max-talk DURATION] [--max-ring DURATION]\n"
	 "                 [--agent HOST:PORT]",
	 "play visitors and calls against a running server, for a demo",
	 "Drives a running server as its users' visitors would: visitors\n"
	 "from a mix of channels (Google and Microsoft Ads, organic search,\n"
	 "Facebook, a newsletter, directories, display, direct) take DNI\n"
	 "sessions through the API, then some call the number they were\n"
	 "shown, over SIP, and talk (synthetic speech both ways: a plumbing,\n"
	 "dental or law firm enquiry).  Some calls go unanswered, are busy\n"
	 "or are abandoned.  It prints a line per visit and per call (with\n"
	 "the call's id) and a summary, and stops by itself; Ctrl-C hangs up\n"
	 "the calls in progress first.\n"
	 "\n"
	 "It works in the 'Simulation' client account below the key's\n"
	 "account (made on the first run: the key needs the admin scope\n"
	 "then) or in --account ID, with fictional 555-01xx numbers in a\n"
	 "pool whose calls go to its own phone on --agent (default\n"
	 "127.0.0.1, any port).\n"
	 "\n"
	 "Defaults: --url from the listen key, --sip from sip_listen, 30\n"
	 "visitors, 10 calls, at most 10 at once, over 60s, a random seed\n"
	 "(printed: --seed plays the same visitors and calls again),\n"
	 "--business plumbing.  --max-talk and --max-ring cap talk and ring\n"
	 "times for short runs.  Exits 0 when every call went as planned; 1\n"
	 "when the server cannot be reached, refuses the key or records a\n"
	 "call otherwise; 2 for a bad option; 130 after Ctrl-C.\n"},
	{"config", rt_cmd_config, 0, "config",
	 "print the configuration in effect, in config-file syntax",
	 "Shows every key with its value after the config file, the "
	 "RINGTRAIL_*\n"
	 "environment and flags are applied: a commented example to start "
	 "from.\n"},
	{"version", rt_cmd_version, 0, "version", "print the version", NULL},
	{"help", rt_cmd_help, 0, "help [COMMAND]", "show help", NULL},
};

const struct rt_cmd *rt_cli_commands(size_t *np)
{
	*np = RT_ARRAY_SIZE(commands);
	return commands;
}

int rt_cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("ringtrail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int rt_cli_id(const char *s, const char *what, int64_t *idp)
{
	uint64_t v;

	if (!s)
		return rt_cli_fail(RT_EXIT_USAGE, "missing %s", what);
	if (rt_parse_u64(s, 1, INT64_MAX, &v))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad %s '%s': want a positive id", what, s);
	*idp = (int64_t)v;
	return 0;
}

int rt_cli_audit(struct rt_store_tx *tx, int64_t account_id, const char *action,
		 const char *object_type, int64_t object_id)
{
	struct rt_audit a = {.account_id = account_id, .object_id = object_id};

	rt_strlcpy(a.actor_type, "cli", sizeof(a.actor_type));
	rt_strlcpy(a.action, action, sizeof(a.action));
	rt_strlcpy(a.object_type, object_type, sizeof(a.object_type));
	return rt_store_audit_add(tx, &a);
}

/* Splits "--name=value"; *valp is NULL when the value is the next arg. */
static bool opt_name(const char *arg, char *name, size_t size,
		     const char **valp)
{
	const char *eq;
	size_t len;

	if (strncmp(arg, "--", 2) != 0 || !arg[2])
		return false;
	arg += 2;
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (len >= size)
		len = size - 1;
	memcpy(name, arg, len);
	name[len] = '\0';
	*valp = eq ? eq + 1 : NULL;
	return true;
}

static bool is_bool_opt(const char *name)
{
	static const char *const bools[] = {"status", "password-stdin", "help",
					    "all"};

	for (size_t i = 0; i < RT_ARRAY_SIZE(bools); i++) {
		if (strcmp(name, bools[i]) == 0)
			return true;
	}
	return false;
}

int rt_cli_opts_check(struct rt_cli *c, const char *const *known)
{
	for (int i = 0; i < c->argc; i++) {
		char name[64];
		const char *val;
		bool ok = false;

		if (!opt_name(c->argv[i], name, sizeof(name), &val))
			continue;
		for (const char *const *k = known; *k; k++)
			ok = ok || strcmp(*k, name) == 0;
		if (!ok)
			return rt_cli_fail(RT_EXIT_USAGE,
					   "unknown option '--%s'", name);
		if (is_bool_opt(name))
			continue;
		if (!val && (i + 1 >= c->argc))
			return rt_cli_fail(RT_EXIT_USAGE,
					   "option '--%s' needs a value", name);
		if (!val)
			i++;
	}
	return 0;
}

const char *rt_cli_opt(struct rt_cli *c, const char *name)
{
	for (int i = 0; i < c->argc; i++) {
		char n[64];
		const char *val;

		if (!opt_name(c->argv[i], n, sizeof(n), &val) ||
		    strcmp(n, name))
			continue;
		if (val)
			return val;
		return i + 1 < c->argc ? c->argv[i + 1] : NULL;
	}
	return NULL;
}

bool rt_cli_flag(struct rt_cli *c, const char *name)
{
	for (int i = 0; i < c->argc; i++) {
		char n[64];
		const char *val;

		if (opt_name(c->argv[i], n, sizeof(n), &val) &&
		    !strcmp(n, name))
			return true;
	}
	return false;
}

const char *rt_cli_arg(struct rt_cli *c, int n)
{
	for (int i = 0; i < c->argc; i++) {
		char name[64];
		const char *val;

		if (opt_name(c->argv[i], name, sizeof(name), &val)) {
			if (!val && !is_bool_opt(name))
				i++;
			continue;
		}
		if (n-- == 0)
			return c->argv[i];
	}
	return NULL;
}

/*
 * Resolves configuration from argv: finds --config, applies file, env and
 * config flags, and leaves the rest (command name first) in *rest.
 */
static int resolve_config(struct rt_conf *conf, int argc, char **argv,
			  char **envp, char **rest, int *nrest)
{
	const char *file = getenv("RINGTRAIL_CONFIG");
	char err[512];
	int i, e;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			file = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			file = argv[i] + 9;
		else if (strcmp(argv[i], "--config") == 0)
			return rt_cli_fail(RT_EXIT_USAGE,
					   "option '--config' needs a value");
	}
	if (file) {
		e = rt_conf_load_file(conf, file, err, sizeof(err));
		if (e)
			return rt_cli_fail(RT_EXIT_USAGE, "%s", err);
	}
	e = rt_conf_load_env(conf, envp, err, sizeof(err));
	if (e)
		return rt_cli_fail(RT_EXIT_USAGE, "%s", err);

	*nrest = 0;
	for (i = 1; i < argc; i++) {
		char name[64], origin[80];
		const char *val;

		if (opt_name(argv[i], name, sizeof(name), &val) &&
		    strcmp(name, "config") == 0) {
			if (!val)
				i++;
			continue;
		}
		if (!opt_name(argv[i], name, sizeof(name), &val) ||
		    !rt_conf_is_key(name)) {
			rest[(*nrest)++] = argv[i];
			continue;
		}
		if (!val) {
			if (i + 1 >= argc)
				return rt_cli_fail(
					RT_EXIT_USAGE,
					"option '--%s' needs a value", name);
			val = argv[++i];
		}
		snprintf(origin, sizeof(origin), "--%s", name);
		e = rt_conf_set(conf, name, val, origin, err, sizeof(err));
		if (e)
			return rt_cli_fail(RT_EXIT_USAGE, "%s", err);
	}
	return 0;
}

/* mkdir -p of the database's folder, so that a first start just works. */
static void make_parent_dirs(const char *path)
{
	char *copy = rt_strdup(path), *p;

	if (!copy)
		return;
	for (p = copy + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(copy, 0755);
		*p = '/';
	}
	free(copy);
}

static int open_store(struct rt_cli *c, bool no_migrate)
{
	struct rt_store_opts o = {.pool_size = c->conf.store_pool_size,
				  .busy_timeout_ms =
					  c->conf.store_busy_timeout};
	int err;

	if (strcmp(c->conf.db, ":memory:") != 0 && !strstr(c->conf.db, "://"))
		make_parent_dirs(c->conf.db);
	err = rt_store_open(&c->store, c->conf.db, &o);
	if (err == EPROTONOSUPPORT)
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"config key 'db': '%s' is not a database this "
			"build supports",
			c->conf.db);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot open database '%s': %s", c->conf.db,
				   strerror(err));
	if (no_migrate)
		return 0;
	err = rt_store_migrate(c->store, NULL);
	if (err == EPROTO)
		return rt_cli_fail(
			RT_EXIT_FAIL,
			"database '%s' was made by a newer ringtrail",
			c->conf.db);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot migrate database '%s': %s",
				   c->conf.db, strerror(err));
	return 0;
}

static int open_auth(struct rt_cli *c)
{
	uint8_t key[RT_SECRET_BYTES];
	char *path = rt_auth_secret_path(&c->conf);
	int err;

	if (!path)
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	err = rt_auth_secret_load(path, key);
	if (err) {
		rt_cli_fail(RT_EXIT_FAIL,
			    "cannot load the server secret '%s': %s", path,
			    strerror(err));
		free(path);
		return RT_EXIT_FAIL;
	}
	free(path);
	err = rt_auth_alloc(&c->auth, &c->conf, c->store, key);
	memset(key, 0, sizeof(key));
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot start auth: %s",
				   strerror(err));
	return 0;
}

int rt_cli_main(int argc, char **argv, char **envp)
{
	const struct rt_cmd *cmd = NULL;
	struct rt_cli c;
	char **rest;
	int nrest = 0, rc;

	memset(&c, 0, sizeof(c));
	if (rt_conf_init(&c.conf))
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest) {
		rt_conf_release(&c.conf);
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	}
	rc = resolve_config(&c.conf, argc, argv, envp, rest, &nrest);
	if (rc)
		goto out;
	rt_log_set_level(c.conf.log_level);

	if (nrest == 0 || strcmp(rest[0], "--help") == 0 ||
	    strcmp(rest[0], "-h") == 0) {
		c.argc = 0;
		c.argv = rest;
		rc = nrest == 0 ? (rt_cmd_help(&c), RT_EXIT_USAGE)
				: rt_cmd_help(&c);
		goto out;
	}
	if (strcmp(rest[0], "--version") == 0)
		rest[0] = (char *)(uintptr_t) "version";
	for (size_t i = 0; i < RT_ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, rest[0]) == 0)
			cmd = &commands[i];
	}
	if (!cmd) {
		rc = rt_cli_fail(RT_EXIT_USAGE,
				 "unknown command '%s'; see 'ringtrail help'",
				 rest[0]);
		goto out;
	}
	c.argc = nrest - 1;
	c.argv = rest + 1;
	if (rt_cli_flag(&c, "help")) {
		c.argv = rest;
		c.argc = 1;
		rc = rt_cmd_help(&c);
		goto out;
	}
	if (cmd->needs & (RT_CMD_STORE | RT_CMD_AUTH)) {
		rc = open_store(&c, cmd->needs & RT_CMD_NO_MIGRATE);
		if (rc)
			goto out;
	}
	if (cmd->needs & RT_CMD_AUTH) {
		rc = open_auth(&c);
		if (rc)
			goto out;
	}
	rc = cmd->run(&c);
out:
	rt_auth_free(c.auth);
	rt_store_close(c.store);
	rt_conf_release(&c.conf);
	free(rest);
	return rc;
}
