/* ringtrail apikey create|list|revoke. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

static void print_header(void)
{
	printf("%-6s %-8s %-16s %-18s %-24s %-24s %s\n", "ID", "ACCOUNT",
	       "PREFIX", "SCOPES", "LAST USED", "REVOKED", "NAME");
}

static int print_row(const struct rt_apikey *k, void *arg)
{
	char used[RT_TIME_LEN] = "-", revoked[RT_TIME_LEN] = "-",
	     scopes[32] = "";
	const char *names[3];
	size_t n = rt_auth_scope_names(k->scopes, names);

	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(scopes, ",",
				sizeof(scopes) - strlen(scopes) - 1);
		strncat(scopes, names[i], sizeof(scopes) - strlen(scopes) - 1);
	}
	if (k->last_used_at)
		rt_time_fmt(k->last_used_at, used);
	if (k->revoked_at)
		rt_time_fmt(k->revoked_at, revoked);
	printf("%-6lld %-8lld %-16s %-18s %-24s %-24s %s\n", (long long)k->id,
	       (long long)k->account_id, k->prefix, scopes, used, revoked,
	       k->name);
	return 0;
}

static int parse_scopes(const char *s, unsigned *scopesp)
{
	char buf[64], *save = NULL, *tok;

	*scopesp = 0;
	if (!s || strlen(s) >= sizeof(buf))
		return EINVAL;
	rt_strlcpy(buf, s, sizeof(buf));
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned bit = rt_auth_scope_parse(tok);

		if (!bit)
			return EINVAL;
		*scopesp |= bit;
	}
	*scopesp = rt_auth_scopes_close(*scopesp);
	return *scopesp ? 0 : EINVAL;
}

static int create(struct rt_cli *c)
{
	static const char *const known[] = {"account", "scopes", "name",
					    "expires", NULL};
	char secret[RT_APIKEY_MAX], hash[RT_HASH_HEX];
	const char *name = rt_cli_opt(c, "name"),
		   *exp = rt_cli_opt(c, "expires");
	struct rt_apikey k = {0};
	struct rt_store_tx *tx;
	int err;

	if (rt_cli_opts_check(c, known) ||
	    rt_cli_id(rt_cli_opt(c, "account"), "--account", &k.account_id))
		return RT_EXIT_USAGE;
	if (parse_scopes(rt_cli_opt(c, "scopes"), &k.scopes))
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"--scopes must list read, write and/or admin, "
			"comma separated");
	if (exp &&
	    (rt_time_parse(exp, &k.expires_at) || k.expires_at <= rt_now_ms()))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "--expires must be a future RFC 3339 time");
	if (name && strlen(name) >= sizeof(k.name))
		return rt_cli_fail(RT_EXIT_USAGE, "--name is over 200 bytes");
	rt_strlcpy(k.name, name ? name : "API key", sizeof(k.name));
	rt_auth_apikey_generate(c->auth, secret, k.prefix, hash);

	err = rt_store_begin(c->store, true, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	err = rt_store_apikey_create(tx, k.account_id, &k, hash);
	if (!err)
		err = rt_cli_audit(tx, k.account_id, "api_key.create",
				   "api_key", k.id);
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOENT)
			return rt_cli_fail(RT_EXIT_USAGE, "no account %lld",
					   (long long)k.account_id);
		return rt_cli_fail(RT_EXIT_FAIL, "cannot create the key: %s",
				   strerror(err));
	}
	err = rt_store_commit(tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot commit: %s",
				   strerror(err));
	print_header();
	print_row(&k, NULL);
	printf("api key: %s\n(shown only this once)\n", secret);
	memset(secret, 0, sizeof(secret));
	return RT_EXIT_OK;
}

static int list(struct rt_cli *c)
{
	static const char *const known[] = {"account", NULL};
	struct rt_page pg = {.after = 0, .limit = 1000};
	struct rt_store_tx *tx;
	int64_t account = 0;
	int err;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (rt_cli_opt(c, "account") &&
	    rt_cli_id(rt_cli_opt(c, "account"), "--account", &account))
		return RT_EXIT_USAGE;
	err = rt_store_begin(c->store, false, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	print_header();
	if (account)
		err = rt_store_apikey_list(tx, account, account, &pg, print_row,
					   NULL);
	else
		err = rt_store_apikey_list_all(tx, &pg, print_row, NULL);
	rt_store_rollback(tx);
	return err ? rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err))
		   : RT_EXIT_OK;
}

static int revoke(struct rt_cli *c)
{
	static const char *const known[] = {NULL};
	struct rt_store_tx *tx;
	struct rt_apikey k;
	int64_t id;
	int err;

	if (rt_cli_opts_check(c, known) ||
	    rt_cli_id(rt_cli_arg(c, 1), "key id", &id))
		return RT_EXIT_USAGE;
	err = rt_store_begin(c->store, true, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	err = rt_store_apikey_get_any(tx, id, &k);
	if (!err)
		err = rt_store_apikey_revoke(tx, k.account_id, id, rt_now_ms());
	if (!err)
		err = rt_cli_audit(tx, k.account_id, "api_key.revoke",
				   "api_key", id);
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOENT)
			return rt_cli_fail(RT_EXIT_USAGE, "no key %lld",
					   (long long)id);
		if (err == EALREADY)
			return rt_cli_fail(RT_EXIT_USAGE,
					   "key %lld was revoked before",
					   (long long)id);
		return rt_cli_fail(RT_EXIT_FAIL, "cannot revoke: %s",
				   strerror(err));
	}
	err = rt_store_commit(tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot commit: %s",
				   strerror(err));
	printf("revoked key %lld (%s)\n", (long long)id, k.prefix);
	return RT_EXIT_OK;
}

int rt_cmd_apikey(struct rt_cli *c)
{
	const char *sub = rt_cli_arg(c, 0);

	if (rt_streq(sub, "create"))
		return create(c);
	if (rt_streq(sub, "list"))
		return list(c);
	if (rt_streq(sub, "revoke"))
		return revoke(c);
	return rt_cli_fail(
		RT_EXIT_USAGE,
		"apikey needs create, list or revoke; see 'ringtrail "
		"help apikey'");
}
