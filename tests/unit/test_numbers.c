/*
 * The number inventory's parts: the phone shim over libphonenumber, the
 * CSV reader, the rules of each kind of number, and the store, including
 * tenant scope and the re-use of released numbers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dni/dni.h"
#include "store/store.h"
#include "util/phone.h"
#include "util/util.h"

/* ---- phone -------------------------------------------------------------- */

static void test_phone_parse(void **state)
{
	struct rt_phone p;
	char region[64];
	(void)state;

	assert_int_equal(rt_phone_parse("(312) 555-0100", "US", &p), 0);
	assert_string_equal(p.e164, "+13125550100");
	assert_string_equal(p.national, "(312) 555-0100");
	assert_string_equal(p.region, "US");
	assert_int_equal(p.type, RT_PHONE_LOCAL);
	rt_phone_region_name(p.e164, region, sizeof(region));
	assert_string_equal(region, "Chicago, IL");

	assert_int_equal(rt_phone_parse("+44 20 7946 0958", NULL, &p), 0);
	assert_string_equal(p.e164, "+442079460958");
	assert_string_equal(p.region, "GB");
	assert_int_equal(rt_phone_parse("020 7946 0958", "GB", &p), 0);
	assert_string_equal(p.e164, "+442079460958");

	assert_int_equal(rt_phone_parse("1-800-555-0199", "US", &p), 0);
	assert_int_equal(p.type, RT_PHONE_TOLL_FREE);
	assert_string_equal(rt_phone_type_name(p.type), "toll_free");
	assert_int_equal(rt_phone_parse("+61 412 345 678", NULL, &p), 0);
	assert_int_equal(p.type, RT_PHONE_MOBILE);
	rt_phone_region_name("+18005550199", region, sizeof(region));
	assert_string_equal(region, "United States");

	assert_int_equal(rt_phone_parse("call me", "US", &p), EINVAL);
	assert_int_equal(rt_phone_parse("", "US", &p), EINVAL);
	assert_int_equal(rt_phone_parse("(312) 555-0100", NULL, &p), EINVAL);
	assert_int_equal(rt_phone_parse("12345", "US", &p), EDOM);
	assert_int_equal(
		rt_phone_parse("+1 312 555 0100 0100 0100 0100 0100 0100 0100 "
			       "0100 0100 0100 0100 0100",
			       "US", &p),
		EINVAL);
}

/* ---- CSV ---------------------------------------------------------------- */

static void test_csv(void **state)
{
	static const char data[] = "a,b,c\r\n"
				   "\"x, y\",\"say \"\"hi\"\"\",\n"
				   "\n"
				   "\"two\nlines\",z,\n"
				   "last";
	const char *f[4];
	struct rt_csv c;
	size_t n;
	(void)state;

	rt_csv_init(&c, data, strlen(data));
	assert_int_equal(rt_csv_next(&c, f, 4, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(c.line, 1);
	assert_string_equal(f[2], "c");
	assert_int_equal(rt_csv_next(&c, f, 4, &n), 1);
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "x, y");
	assert_string_equal(f[1], "say \"hi\"");
	assert_string_equal(f[2], "");
	assert_int_equal(rt_csv_next(&c, f, 4, &n), 1);
	assert_int_equal(c.line, 4); /* the blank line 3 is skipped */
	assert_string_equal(f[0], "two\nlines");
	assert_int_equal(rt_csv_next(&c, f, 4, &n), 1);
	assert_int_equal(c.line, 6);
	assert_int_equal(n, 1);
	assert_string_equal(f[0], "last");
	assert_int_equal(rt_csv_next(&c, f, 4, &n), 0);
	rt_csv_release(&c);

	rt_csv_init(&c, "a,\"open\n", 8);
	assert_int_equal(rt_csv_next(&c, f, 4, &n), EINVAL);
	rt_csv_release(&c);
	rt_csv_init(&c, "\"a\"b,c\n", 7);
	assert_int_equal(rt_csv_next(&c, f, 4, &n), EINVAL);
	rt_csv_release(&c);
	/* More fields than asked for are counted, not handed out. */
	rt_csv_init(&c, "1,2,3,4,5,6\n", 12);
	assert_int_equal(rt_csv_next(&c, f, 2, &n), 1);
	assert_int_equal(n, 6);
	assert_string_equal(f[1], "2");
	rt_csv_release(&c);
}

/* ---- the rules of each kind --------------------------------------------- */

static int check(struct rt_number *n, const char *text, const char **field)
{
	char msg[160];

	return rt_dni_number_check(n, text, "US", field, msg, sizeof(msg));
}

static void test_number_rules(void **state)
{
	struct rt_number n;
	const char *field = NULL;
	(void)state;

	memset(&n, 0, sizeof(n));
	assert_int_equal(check(&n, "312.555.0100", &field), 0);
	assert_string_equal(n.kind, "pool");
	assert_string_equal(n.status, "active");
	assert_string_equal(n.label, "(312) 555-0100");

	memset(&n, 0, sizeof(n));
	rt_strlcpy(n.kind, "source", sizeof(n.kind));
	assert_int_equal(check(&n, "+13125550100", &field), EINVAL);
	assert_string_equal(field, "source");
	rt_strlcpy(n.source, "google", sizeof(n.source));
	rt_strlcpy(n.destination, "(415) 555-2671", sizeof(n.destination));
	assert_int_equal(check(&n, "+13125550100", &field), 0);
	assert_string_equal(n.destination, "+14155552671");

	memset(&n, 0, sizeof(n));
	rt_strlcpy(n.kind, "offline", sizeof(n.kind));
	assert_int_equal(check(&n, "+18005550199", &field), EINVAL);
	assert_string_equal(field, "campaign");
	rt_strlcpy(n.campaign, "Radio", sizeof(n.campaign));
	rt_strlcpy(n.destination, "sips:desk@pbx.example",
		   sizeof(n.destination));
	assert_int_equal(check(&n, "+18005550199", &field), 0);
	assert_string_equal(n.destination, "sips:desk@pbx.example");

	memset(&n, 0, sizeof(n));
	rt_strlcpy(n.destination, "+1 312 555 0100", sizeof(n.destination));
	assert_int_equal(check(&n, "+13125550100", &field), EINVAL);
	assert_string_equal(field, "destination");
	memset(&n, 0, sizeof(n));
	rt_strlcpy(n.destination, "sip:@pbx.example", sizeof(n.destination));
	assert_int_equal(check(&n, "+13125550100", &field), EINVAL);
	memset(&n, 0, sizeof(n));
	rt_strlcpy(n.medium, "cpc", sizeof(n.medium));
	assert_int_equal(check(&n, "+13125550100", &field), EINVAL);
	assert_string_equal(field, "medium");
	memset(&n, 0, sizeof(n));
	rt_strlcpy(n.status, "released", sizeof(n.status));
	assert_int_equal(check(&n, "+13125550100", &field), EINVAL);
	assert_string_equal(field, "status");
	memset(&n, 0, sizeof(n));
	assert_int_equal(rt_dni_number_check(&n, "+13125550100", "usa", &field,
					     (char[80]){0}, 80),
			 EINVAL);
	assert_string_equal(field, "country");
}

/* ---- the store ---------------------------------------------------------- */

struct fix {
	struct rt_store *s;
	int64_t a, a_client, b;
};

static int64_t root(struct rt_store_tx *tx, const char *name, int64_t parent,
		    int64_t scope)
{
	struct rt_account a = {0};

	rt_strlcpy(a.name, name, sizeof(a.name));
	rt_strlcpy(a.kind, parent ? "client" : "agency", sizeof(a.kind));
	rt_strlcpy(a.time_zone, "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, "USD", sizeof(a.currency));
	a.parent_id = parent;
	assert_int_equal(parent ? rt_store_account_create(tx, scope, &a)
				: rt_store_account_create_root(tx, &a),
			 0);
	return a.id;
}

static int setup(void **state)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 1000};
	struct fix *f = calloc(1, sizeof(*f));
	struct rt_store_tx *tx;

	rt_log_set_level(RT_LOG_ERROR);
	assert_non_null(f);
	assert_int_equal(rt_store_open(&f->s, ":memory:", &o), 0);
	assert_int_equal(rt_store_migrate(f->s, NULL), 0);
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	f->a = root(tx, "A", 0, 0);
	f->a_client = root(tx, "A client", f->a, f->a);
	f->b = root(tx, "B", 0, 0);
	assert_int_equal(rt_store_commit(tx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	rt_store_close(f->s);
	free(f);
	return 0;
}

static int count_row(const struct rt_number *n, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static struct rt_number make(const char *text, int64_t account)
{
	struct rt_number n;
	const char *field;
	char msg[160];

	memset(&n, 0, sizeof(n));
	n.account_id = account;
	assert_int_equal(rt_dni_number_check(&n, text, "US", &field, msg,
					     sizeof(msg)),
			 0);
	return n;
}

static void test_store_numbers(void **state)
{
	struct fix *f = *state;
	struct rt_page pg = {.after = 0, .limit = 100};
	struct rt_store_tx *tx;
	struct rt_number n = make("+13125550100", f->a_client), m, got;
	int count = 0;

	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	/* A creates in its client; B cannot reach the client at all. */
	m = n;
	assert_int_equal(rt_store_number_create(tx, f->b, &m), ENOENT);
	assert_int_equal(rt_store_number_create(tx, f->a, &n), 0);
	assert_true(n.id > 0);
	assert_int_equal(rt_store_number_get(tx, f->a, n.id, &got), 0);
	assert_int_equal(rt_store_number_get(tx, f->a_client, n.id, &got), 0);
	assert_int_equal(rt_store_number_get(tx, f->b, n.id, &got), ENOENT);
	assert_int_equal(rt_store_number_by_e164(tx, "+13125550100", &got), 0);
	assert_int_equal(got.id, n.id);

	/* One live copy of a number, anywhere. */
	m = make("+13125550100", f->b);
	assert_int_equal(rt_store_number_create(tx, f->b, &m), EEXIST);

	rt_strlcpy(n.label, "Changed", sizeof(n.label));
	assert_int_equal(rt_store_number_update(tx, f->b, &n), ENOENT);
	assert_int_equal(rt_store_number_update(tx, f->a, &n), 0);
	assert_string_equal(n.label, "Changed");

	assert_int_equal(rt_store_number_list(tx, f->b, 0, false, &pg,
					      count_row, &count),
			 0);
	assert_int_equal(count, 0);
	assert_int_equal(rt_store_number_list(tx, f->a, 0, false, &pg,
					      count_row, &count),
			 0);
	assert_int_equal(count, 1);

	/* Released: gone from lists and lookups, and free to add again. */
	assert_int_equal(rt_store_number_release(tx, f->b, n.id, 1000), ENOENT);
	assert_int_equal(rt_store_number_release(tx, f->a, n.id, 1000), 0);
	assert_int_equal(rt_store_number_release(tx, f->a, n.id, 1000),
			 EALREADY);
	assert_int_equal(rt_store_number_update(tx, f->a, &n), ENOENT);
	assert_int_equal(rt_store_number_by_e164(tx, "+13125550100", &got),
			 ENOENT);
	count = 0;
	assert_int_equal(rt_store_number_list(tx, f->a, 0, false, &pg,
					      count_row, &count),
			 0);
	assert_int_equal(count, 0);
	assert_int_equal(rt_store_number_list(tx, f->a, 0, true, &pg, count_row,
					      &count),
			 0);
	assert_int_equal(count, 1);
	assert_int_equal(rt_store_number_create(tx, f->b, &m), 0);
	rt_store_rollback(tx);
}

static void test_import_rolls_back_whole(void **state)
{
	struct fix *f = *state;
	struct rt_store_tx *tx;
	json_t *errors = json_array();
	size_t created = 9;
	static const char good[] = "number,label\n+13125550101,One\n"
				   "+13125550102,Two\n";
	static const char bad[] = "number\n+13125550103\nnope\n";

	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_dni_numbers_import(tx, f->a, f->a, bad,
					       sizeof(bad) - 1, "US", errors,
					       &created),
			 EINVAL);
	assert_int_equal(created, 0);
	assert_int_equal(json_array_size(errors), 1);
	assert_int_equal(rt_store_number_by_e164(tx, "+13125550103",
						 &(struct rt_number){0}),
			 ENOENT);
	assert_int_equal(rt_dni_numbers_import(tx, f->a, f->a, good,
					       sizeof(good) - 1, "US", errors,
					       &created),
			 0);
	assert_int_equal(created, 2);
	rt_store_rollback(tx);
	json_decref(errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_parse),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_number_rules),
		cmocka_unit_test_setup_teardown(test_store_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_rolls_back_whole,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("numbers", tests, NULL, NULL);
}
