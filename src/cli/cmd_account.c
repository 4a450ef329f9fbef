/* ringtrail account create|list|show: the operator's view of accounts. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

static void print_header(void)
{
	printf("%-6s %-8s %-8s %-8s %-9s %-20s %s\n", "ID", "PARENT", "KIND",
	       "CURRENCY", "STATUS", "TIME ZONE", "NAME");
}

static int print_row(const struct rt_account *a, void *arg)
{
	char parent[24] = "-";

	if (a->parent_id)
		snprintf(parent, sizeof(parent), "%lld",
			 (long long)a->parent_id);
	printf("%-6lld %-8s %-8s %-8s %-9s %-20s %s\n", (long long)a->id,
	       parent, a->kind, a->currency, a->status, a->time_zone, a->name);
	return 0;
}

static int create(struct rt_cli *c)
{
	static const char *const known[] = {"name",	 "parent",   "kind",
					    "time-zone", "currency", NULL};
	const char *name = rt_cli_opt(c, "name"), *kind = rt_cli_opt(c, "kind");
	const char *tz = rt_cli_opt(c, "time-zone"),
		   *cur = rt_cli_opt(c, "currency");
	struct rt_account a = {0}, parent;
	struct rt_store_tx *tx;
	int err;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (!name || !*name || strlen(name) >= sizeof(a.name))
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"account create needs --name (1 to 200 bytes)");
	if (kind && strcmp(kind, "agency") && strcmp(kind, "client"))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "--kind must be 'agency' or 'client'");
	if (cur && (strlen(cur) != 3 ||
		    strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3))
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"--currency must be an ISO 4217 code such as USD");
	if (rt_cli_opt(c, "parent") &&
	    rt_cli_id(rt_cli_opt(c, "parent"), "--parent", &a.parent_id))
		return RT_EXIT_USAGE;
	rt_strlcpy(a.name, name, sizeof(a.name));
	rt_strlcpy(a.kind,
		   kind		 ? kind
		   : a.parent_id ? "client"
				 : "agency",
		   sizeof(a.kind));
	rt_strlcpy(a.time_zone, tz ? tz : "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, cur ? cur : "USD", sizeof(a.currency));

	err = rt_store_begin(c->store, true, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	if (a.parent_id) {
		/* The operator's scope is the parent's own tree. */
		err = rt_store_account_get(tx, a.parent_id, a.parent_id,
					   &parent);
		if (!err) {
			if (!tz)
				rt_strlcpy(a.time_zone, parent.time_zone,
					   sizeof(a.time_zone));
			if (!cur)
				rt_strlcpy(a.currency, parent.currency,
					   sizeof(a.currency));
			err = rt_store_account_create(tx, a.parent_id, &a);
		}
	} else {
		err = rt_store_account_create_root(tx, &a);
	}
	if (!err)
		err = rt_cli_audit(tx, a.id, "account.create", "account", a.id);
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOENT)
			return rt_cli_fail(RT_EXIT_USAGE, "no account %lld",
					   (long long)a.parent_id);
		if (err == EPERM)
			return rt_cli_fail(RT_EXIT_USAGE,
					   "account %lld is not an agency",
					   (long long)a.parent_id);
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot create the account: %s",
				   strerror(err));
	}
	err = rt_store_commit(tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot commit: %s",
				   strerror(err));
	print_header();
	print_row(&a, NULL);
	/* What a site owner needs to put dni.js on their pages. */
	printf("\nsite key: %s\n"
	       "dni.js:   <script "
	       "src=\"https://YOUR-RINGTRAIL-HOST/dni.js?v=1\" "
	       "data-site-key=\"%s\" async></script>\n",
	       a.site_key, a.site_key);
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
	err = rt_store_account_list_all(tx, &pg, print_row, NULL);
	rt_store_rollback(tx);
	return err ? rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err))
		   : RT_EXIT_OK;
}

static int show(struct rt_cli *c)
{
	static const char *const known[] = {NULL};
	struct rt_store_tx *tx;
	struct rt_account a;
	int64_t id;
	int err;

	if (rt_cli_opts_check(c, known) ||
	    rt_cli_id(rt_cli_arg(c, 1), "account id", &id))
		return RT_EXIT_USAGE;
	err = rt_store_begin(c->store, false, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	err = rt_store_account_get(tx, id, id, &a);
	rt_store_rollback(tx);
	if (err == ENOENT)
		return rt_cli_fail(RT_EXIT_USAGE, "no account %lld",
				   (long long)id);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	print_header();
	print_row(&a, NULL);
	/* What a site owner needs to put dni.js on their pages. */
	printf("\nsite key: %s\n"
	       "dni.js:   <script "
	       "src=\"https://YOUR-RINGTRAIL-HOST/dni.js?v=1\" "
	       "data-site-key=\"%s\" async></script>\n",
	       a.site_key, a.site_key);
	return RT_EXIT_OK;
}

int rt_cmd_account(struct rt_cli *c)
{
	const char *sub = rt_cli_arg(c, 0);

	if (rt_streq(sub, "create"))
		return create(c);
	if (rt_streq(sub, "list"))
		return list(c);
	if (rt_streq(sub, "show"))
		return show(c);
	return rt_cli_fail(RT_EXIT_USAGE,
			   "account needs create, list or show; see 'ringtrail "
			   "help account'");
}
