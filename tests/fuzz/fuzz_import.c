/*
 * libFuzzer target: the CSV import of tracking numbers, end to end, into
 * an in-memory SQLite store: the CSV reader, every row's checks, the
 * duplicate and inventory checks, the writes.  Each run is rolled back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "dni/dni.h"
#include "store/store.h"
#include "util/util.h"

static struct rt_store *store;
static int64_t account;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 1000};
	struct rt_account a = {0};
	struct rt_store_tx *tx;

	rt_log_set_level(RT_LOG_ERROR);
	if (rt_store_open(&store, ":memory:", &o) ||
	    rt_store_migrate(store, NULL) || rt_store_begin(store, true, &tx))
		abort();
	rt_strlcpy(a.name, "Fuzz", sizeof(a.name));
	rt_strlcpy(a.kind, "agency", sizeof(a.kind));
	rt_strlcpy(a.time_zone, "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, "USD", sizeof(a.currency));
	if (rt_store_account_create_root(tx, &a) || rt_store_commit(tx))
		abort();
	account = a.id;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *errors = json_array();
	struct rt_store_tx *tx;
	size_t created = 0;
	char *dump;
	int err;

	if (!errors || rt_store_begin(store, true, &tx))
		abort();
	err = rt_dni_numbers_import(tx, account, account, (const char *)data,
				    size, "US", errors, &created);
	/* Refused input says why, in JSON that serialises; accepted input
	 * wrote exactly its rows. */
	if (err != 0 && err != EINVAL)
		abort();
	if (err == EINVAL && (json_array_size(errors) == 0 || created != 0))
		abort();
	if (err == 0 && json_array_size(errors) != 0)
		abort();
	dump = json_dumps(errors, JSON_COMPACT);
	if (!dump)
		abort();
	free(dump);
	json_decref(errors);
	rt_store_rollback(tx);
	return 0;
}
