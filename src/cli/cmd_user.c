/* ringtrail user create|list: logins, created by the operator. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

static int print_row(const struct rt_user *u, void *arg)
{
	char t[RT_TIME_LEN] = "-";

	if (u->last_login_at)
		rt_time_fmt(u->last_login_at, t);
	printf("%-6lld %-9s %-24s %-32s %s\n", (long long)u->id, u->status, t,
	       u->email, u->name);
	return 0;
}

static void print_header(void)
{
	printf("%-6s %-9s %-24s %-32s %s\n", "ID", "STATUS", "LAST LOGIN",
	       "EMAIL", "NAME");
}

/* One line from stdin, without its newline. */
static int read_password(char *buf, size_t size)
{
	size_t n;

	if (!fgets(buf, (int)size, stdin))
		return EINVAL;
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

static int create(struct rt_cli *c)
{
	static const char *const known[] = {"email",	      "name",
					    "account",	      "role",
					    "password-stdin", NULL};
	const char *email = rt_cli_opt(c, "email"),
		   *name = rt_cli_opt(c, "name");
	const char *role = rt_cli_opt(c, "role"), *why = NULL;
	char pw[300], pw_hash[RT_PWHASH_MAX];
	bool generated = false;
	struct rt_store_tx *tx;
	struct rt_user u = {0};
	int64_t account_id;
	int err;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (!email || !name || !*name)
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"user create needs --email, --name and --account");
	if (rt_cli_id(rt_cli_opt(c, "account"), "--account", &account_id))
		return RT_EXIT_USAGE;
	role = role ? role : "analyst";
	if (!rt_auth_role_rank(role))
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"--role must be owner, admin, analyst or agent");
	if (strlen(email) >= sizeof(u.email) || !strchr(email, '@') ||
	    strlen(name) >= sizeof(u.name))
		return rt_cli_fail(RT_EXIT_USAGE, "bad --email or --name");
	for (size_t i = 0; email[i]; i++)
		u.email[i] = (char)tolower((unsigned char)email[i]);
	rt_strlcpy(u.name, name, sizeof(u.name));

	if (rt_cli_flag(c, "password-stdin")) {
		if (read_password(pw, sizeof(pw)))
			return rt_cli_fail(RT_EXIT_USAGE,
					   "no password on standard input");
		if (rt_auth_password_check(pw, &why))
			return rt_cli_fail(RT_EXIT_USAGE, "password %s", why);
	} else {
		rt_auth_token(pw, sizeof(pw), 15);
		generated = true;
	}
	err = rt_auth_password_hash(pw, pw_hash);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot hash the password");

	err = rt_store_begin(c->store, true, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	err = rt_store_user_create(tx, 0, &u, pw_hash, account_id, role);
	if (!err)
		err = rt_cli_audit(tx, account_id, "user.create", "user", u.id);
	if (err) {
		rt_store_rollback(tx);
		if (err == EEXIST)
			return rt_cli_fail(RT_EXIT_USAGE,
					   "a user with email '%s' exists",
					   u.email);
		if (err == ENOENT)
			return rt_cli_fail(RT_EXIT_USAGE, "no account %lld",
					   (long long)account_id);
		return rt_cli_fail(RT_EXIT_FAIL, "cannot create the user: %s",
				   strerror(err));
	}
	err = rt_store_commit(tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot commit: %s",
				   strerror(err));
	print_header();
	print_row(&u, NULL);
	if (generated)
		printf("password: %s\n(shown only this once)\n", pw);
	memset(pw, 0, sizeof(pw));
	return RT_EXIT_OK;
}

static int list(struct rt_cli *c)
{
	static const char *const known[] = {NULL};
	struct rt_page pg = {.after = 0, .limit = 1000};
	struct rt_store_tx *tx;
	int err;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	err = rt_store_begin(c->store, false, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	print_header();
	err = rt_store_user_list_all(tx, &pg, print_row, NULL);
	rt_store_rollback(tx);
	return err ? rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err))
		   : RT_EXIT_OK;
}

int rt_cmd_user(struct rt_cli *c)
{
	const char *sub = rt_cli_arg(c, 0);

	if (rt_streq(sub, "create"))
		return create(c);
	if (rt_streq(sub, "list"))
		return list(c);
	return rt_cli_fail(
		RT_EXIT_USAGE,
		"user needs create or list; see 'ringtrail help user'");
}
