/* ringtrail numbers import|list: the operator's view of the inventory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dni/dni.h"

static void print_header(void)
{
	printf("%-6s %-8s %-14s %-8s %-10s %-9s %-6s %-16s %s\n", "ID",
	       "ACCOUNT", "NUMBER", "KIND", "TYPE", "STATUS", "POOL",
	       "DESTINATION", "LABEL");
}

static int print_row(const struct rt_number *n, void *arg)
{
	char pool[24] = "-";

	(void)arg;
	if (n->pool_id)
		snprintf(pool, sizeof(pool), "%lld", (long long)n->pool_id);
	printf("%-6lld %-8lld %-14s %-8s %-10s %-9s %-6s %-16s %s\n",
	       (long long)n->id, (long long)n->account_id, n->e164, n->kind,
	       n->number_type, n->status, pool,
	       n->destination[0] ? n->destination : "-", n->label);
	return 0;
}

struct page_state {
	unsigned rows;
	int64_t last;
};

static int page_row(const struct rt_number *n, void *arg)
{
	struct page_state *ps = arg;

	ps->rows++;
	ps->last = n->id;
	return print_row(n, NULL);
}

static char *read_file(const char *path, size_t *lenp)
{
	struct rt_buf b;
	char chunk[65536];
	size_t n;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");

	if (!f)
		return NULL;
	rt_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	       b.len < (64u << 20))
		rt_buf_append(&b, chunk, n);
	if (f != stdin)
		fclose(f);
	if (b.err) {
		rt_buf_release(&b);
		return NULL;
	}
	return rt_buf_detach(&b, lenp);
}

static int import(struct rt_cli *c)
{
	static const char *const known[] = {"account", "country", NULL};
	const char *path = rt_cli_arg(c, 1);
	json_t *errors = NULL, *e;
	struct rt_store_tx *tx;
	int64_t account_id;
	size_t len = 0, created = 0, i;
	char *csv;
	int err;

	if (rt_cli_opts_check(c, known) ||
	    rt_cli_id(rt_cli_opt(c, "account"), "--account", &account_id))
		return RT_EXIT_USAGE;
	if (!path)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "numbers import needs a CSV file (- for "
				   "standard input)");
	csv = read_file(path, &len);
	if (!csv)
		return rt_cli_fail(RT_EXIT_USAGE, "cannot read '%s': %s", path,
				   strerror(errno ? errno : EIO));
	errors = json_array();
	err = errors ? rt_store_begin(c->store, true, &tx) : ENOMEM;
	if (err) {
		free(csv);
		json_decref(errors);
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	}
	/* The operator's scope is the account's own tree. */
	err = rt_store_account_in_scope(tx, account_id, account_id);
	if (!err)
		err = rt_dni_numbers_import(tx, account_id, account_id, csv,
					    len, rt_cli_opt(c, "country"),
					    errors, &created);
	free(csv);
	if (!err)
		err = rt_cli_audit(tx, account_id, "number.import", "account",
				   account_id);
	if (err) {
		rt_store_rollback(tx);
		json_array_foreach (errors, i, e) {
			fprintf(stderr, "%s:%lld: %s: %s\n", path,
				(long long)json_integer_value(
					json_object_get(e, "line")),
				json_string_value(json_object_get(e, "field")),
				json_string_value(
					json_object_get(e, "message")));
		}
		json_decref(errors);
		if (err == ENOENT)
			return rt_cli_fail(RT_EXIT_USAGE, "no account %lld",
					   (long long)account_id);
		if (err == EINVAL)
			return rt_cli_fail(
				RT_EXIT_USAGE,
				"nothing was imported: fix the lines "
				"above");
		return rt_cli_fail(RT_EXIT_FAIL, "cannot import: %s",
				   strerror(err));
	}
	json_decref(errors);
	err = rt_store_commit(tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot commit: %s",
				   strerror(err));
	printf("imported %zu numbers into account %lld\n", created,
	       (long long)account_id);
	return RT_EXIT_OK;
}

static int list(struct rt_cli *c)
{
	static const char *const known[] = {"account", "all", NULL};
	struct rt_page pg = {.after = 0, .limit = 1000};
	struct rt_store_tx *tx;
	struct rt_account a;
	int64_t account_id;
	int err;

	if (rt_cli_opts_check(c, known) ||
	    rt_cli_id(rt_cli_opt(c, "account"), "--account", &account_id))
		return RT_EXIT_USAGE;
	err = rt_store_begin(c->store, false, &tx);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err));
	err = rt_store_account_get(tx, account_id, account_id, &a);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		return rt_cli_fail(RT_EXIT_USAGE, "no account %lld",
				   (long long)account_id);
	}
	print_header();
	/* Every number of the account's tree, a page at a time. */
	do {
		struct page_state ps = {0};

		err = rt_store_number_list(tx, account_id, 0,
					   rt_cli_flag(c, "all"), &pg, page_row,
					   &ps);
		pg.after = ps.last;
		if (ps.rows < pg.limit)
			break;
	} while (!err);
	rt_store_rollback(tx);
	return err ? rt_cli_fail(RT_EXIT_FAIL, "database: %s", strerror(err))
		   : RT_EXIT_OK;
}

int rt_cmd_numbers(struct rt_cli *c)
{
	const char *sub = rt_cli_arg(c, 0);

	if (rt_streq(sub, "import"))
		return import(c);
	if (rt_streq(sub, "list"))
		return list(c);
	return rt_cli_fail(RT_EXIT_USAGE,
			   "numbers needs import or list; see 'ringtrail help "
			   "numbers'");
}
