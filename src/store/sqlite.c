/*
 * The SQLite backend: WAL, busy timeout, foreign keys, and a per-connection
 * cache of prepared statements keyed by SQL text.  A connection is used by
 * one thread at a time (the pool sees to that), so it is opened NOMUTEX.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define RT_LOG_MODULE "store"

#define CACHE_SLOTS 128 /* power of two */

struct cache_slot {
	uint64_t hash;
	sqlite3_stmt *stmt;
};

struct rt_store_conn {
	sqlite3 *db;
	struct cache_slot cache[CACHE_SLOTS];
};

static bool sq_accepts(const char *url)
{
	/* Anything that is not a URL with a scheme is a file path. */
	return strstr(url, "://") == NULL;
}

/* One conversion of SQLite result codes to errno values. */
static int sq_err(sqlite3 *db, int rc, const char *what)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		rt_warn("database busy", "during=%s", what);
		return EBUSY;
	default:
		break;
	}
	switch (sqlite3_extended_errcode(db)) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return ENOENT;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return EINVAL;
	default:
		break;
	}
	{
		char q[256];

		rt_error("database error", "during=%s code=%d error=%s", what,
			 rc, rt_log_q(q, sizeof(q), sqlite3_errmsg(db)));
	}
	return EIO;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL, qs[96], qm[256];
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	/* Busy is the caller's to handle (EBUSY, logged as a warning). */
	if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED &&
	    msg) {
		char head[61];

		rt_strlcpy(head, sql, sizeof(head));
		rt_error("database error", "sql=%s error=%s",
			 rt_log_q(qs, sizeof(qs), head),
			 rt_log_q(qm, sizeof(qm), msg));
	}
	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : sq_err(db, rc, "exec");
}

static void sq_close(struct rt_store_conn *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		sqlite3_finalize(c->cache[i].stmt);
	sqlite3_close(c->db);
	free(c);
}

static int sq_open(struct rt_store_conn **cp, const char *url,
		   const struct rt_store_opts *opts)
{
	struct rt_store_conn *c;
	char pragmas[256];
	int rc, err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	rc = sqlite3_open_v2(url, &c->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		char qp[256], qe[256];

		rt_error("cannot open database", "path=%s error=%s",
			 rt_log_q(qp, sizeof(qp), url),
			 rt_log_q(qe, sizeof(qe),
				  c->db ? sqlite3_errmsg(c->db)
					: "out of memory"));
		err = rc == SQLITE_CANTOPEN ? ENOENT : EIO;
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)opts->busy_timeout_ms);
	/* synchronous=FULL: a committed call record survives a power cut.
	 * A 16 MiB page cache (SQLite's default is 2 MiB) keeps the indexes
	 * that DNI visits write at random (session ids) in memory. */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA "
		 "cache_size=-16384;%s",
		 strcmp(url, ":memory:") ? " PRAGMA journal_mode=WAL;" : "");
	err = exec(c->db, pragmas);
out:
	if (err)
		sq_close(c);
	else
		*cp = c;
	return err;
}

static int sq_exec_script(struct rt_store_conn *c, const char *sql)
{
	return exec(c->db, sql);
}

/* Finds or prepares the statement; *cachedp says whether the cache owns it. */
static int prepare(struct rt_store_conn *c, const char *sql, sqlite3_stmt **stp,
		   bool *cachedp)
{
	uint64_t h = fnv1a(sql);
	size_t i = (size_t)h & (CACHE_SLOTS - 1);
	int rc;

	for (size_t probe = 0; probe < 8; probe++) {
		struct cache_slot *slot =
			&c->cache[(i + probe) & (CACHE_SLOTS - 1)];

		if (slot->stmt && slot->hash == h &&
		    strcmp(sqlite3_sql(slot->stmt), sql) == 0) {
			*stp = slot->stmt;
			*cachedp = true;
			return 0;
		}
		if (!slot->stmt) {
			rc = sqlite3_prepare_v3(c->db, sql, -1,
						SQLITE_PREPARE_PERSISTENT,
						&slot->stmt, NULL);
			if (rc != SQLITE_OK)
				return sq_err(c->db, rc, "prepare");
			slot->hash = h;
			*stp = slot->stmt;
			*cachedp = true;
			return 0;
		}
	}
	/* The neighbourhood is full: use a one-off statement. */
	rc = sqlite3_prepare_v2(c->db, sql, -1, stp, NULL);
	*cachedp = false;
	return rc == SQLITE_OK ? 0 : sq_err(c->db, rc, "prepare");
}

/* Transaction statements go through the statement cache too: they run
 * twice per request, and sqlite3_exec would parse them each time. */
static int run_cached(struct rt_store_conn *c, const char *sql)
{
	sqlite3_stmt *st;
	bool cached;
	int rc, err;

	err = prepare(c, sql, &st, &cached);
	if (err)
		return err;
	rc = sqlite3_step(st);
	err = sq_err(c->db, rc, sql);
	if (cached)
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	return err;
}

static int sq_begin(struct rt_store_conn *c, bool write)
{
	return run_cached(c, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int sq_commit(struct rt_store_conn *c)
{
	return run_cached(c, "COMMIT");
}

static int sq_rollback(struct rt_store_conn *c)
{
	if (sqlite3_get_autocommit(c->db))
		return 0; /* nothing open: SQLite already rolled back */
	return run_cached(c, "ROLLBACK");
}

static int bind(sqlite3_stmt *st, const struct rt_val *args, size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		int rc, idx = (int)i + 1;

		switch (args[i].type) {
		case RT_VAL_NULL:
			rc = sqlite3_bind_null(st, idx);
			break;
		case RT_VAL_INT:
			rc = sqlite3_bind_int64(st, idx, args[i].i);
			break;
		case RT_VAL_TEXT:
			rc = sqlite3_bind_text(st, idx, args[i].s, -1,
					       SQLITE_STATIC);
			break;
		case RT_VAL_BLOB:
			rc = sqlite3_bind_blob64(st, idx,
						 args[i].s ? args[i].s : "",
						 (sqlite3_uint64)args[i].i,
						 SQLITE_STATIC);
			break;
		default:
			RT_BUG("bad value type %d", (int)args[i].type);
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int sq_query(struct rt_store_conn *c, const char *sql,
		    const struct rt_val *args, size_t nargs,
		    rt_store_row_h *rowh, void *arg, int64_t *changesp)
{
	struct rt_val cols[64];
	sqlite3_stmt *st;
	bool cached;
	int rc, err, ncols;

	err = prepare(c, sql, &st, &cached);
	if (err)
		return err;
	if (sqlite3_bind_parameter_count(st) != (int)nargs)
		RT_BUG("query wants %d parameters, got %zu: %s",
		       sqlite3_bind_parameter_count(st), nargs, sql);
	rc = bind(st, args, nargs);
	if (rc != SQLITE_OK) {
		err = sq_err(c->db, rc, "bind");
		goto out;
	}
	ncols = sqlite3_column_count(st);
	if (ncols > (int)RT_ARRAY_SIZE(cols))
		RT_BUG("query returns %d columns, at most %zu supported", ncols,
		       RT_ARRAY_SIZE(cols));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL:
				cols[i] = RT_VNULL;
				break;
			case SQLITE_INTEGER:
				cols[i] = RT_VINT(sqlite3_column_int64(st, i));
				break;
			case SQLITE_BLOB:
				cols[i].type = RT_VAL_BLOB;
				cols[i].s = sqlite3_column_blob(st, i);
				cols[i].i = sqlite3_column_bytes(st, i);
				if (!cols[i].s && cols[i].i) {
					err = ENOMEM;
					goto out;
				}
				break;
			default:
				cols[i].type = RT_VAL_TEXT;
				cols[i].s =
					(const char *)sqlite3_column_text(st,
									  i);
				if (!cols[i].s) {
					err = ENOMEM;
					goto out;
				}
				break;
			}
		}
		if (rowh) {
			err = rowh(cols, (size_t)ncols, arg);
			if (err)
				goto out;
		}
	}
	err = sq_err(c->db, rc, "step");
	if (!err && changesp)
		*changesp = sqlite3_changes64(c->db);
out:
	if (cached) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	return err;
}

/* The first column of a one-row statement, as an integer or as text (the
 * caller frees *textp). */
static int one_value(sqlite3 *db, const char *sql, const char *param,
		     int64_t *intp, char **textp)
{
	sqlite3_stmt *st;
	int rc, err;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_err(db, rc, "prepare");
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		err = 0;
		if (intp)
			*intp = sqlite3_column_int64(st, 0);
		if (textp) {
			const char *t =
				(const char *)sqlite3_column_text(st, 0);

			*textp = t ? rt_strdup(t) : NULL;
			if (t && !*textp)
				err = ENOMEM;
		}
	} else {
		err = rc == SQLITE_DONE ? ENOENT : sq_err(db, rc, "step");
	}
	sqlite3_finalize(st);
	return err;
}

/* PRAGMA integrity_check's answer is one row "ok", or rows of problems. */
static int integrity_ok(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_err(db, rc, "prepare");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (!t || strcmp(t, "ok") != 0) {
			char q[256];

			rt_error("database integrity check failed",
				 "problem=%s",
				 rt_log_q(q, sizeof(q), t ? t : "(null)"));
			err = EPROTO;
		}
	}
	if (rc != SQLITE_DONE && !err)
		err = sq_err(db, rc, "integrity check");
	sqlite3_finalize(st);
	return err;
}

/*
 * SQLite's documented way to change a table's definition where the rows
 * need no change (https://www.sqlite.org/lang_altertable.html, "Making
 * Other Kinds Of Table Schema Changes"), inside the caller's transaction:
 * read the schema version, edit the CREATE TABLE text in sqlite_schema
 * with writable_schema on, bump the schema version so that every
 * connection reads the schema again, then check the database.
 */
static int sq_table_sql_replace(struct rt_store_conn *c, const char *table,
				const char *from, const char *to)
{
	sqlite3 *db = c->db;
	char *sql = NULL, *edited = NULL, *bump = NULL, qt[64];
	int64_t version = 0;
	int defensive = 0, err;
	const char *at;

	rt_log_q(qt, sizeof(qt), table);
	err = one_value(db,
			"SELECT sql FROM sqlite_schema WHERE type = 'table' "
			"AND name = ?1",
			table, NULL, &sql);
	if (err == ENOENT || (!err && !sql)) {
		rt_error("no such table to change", "table=%s", qt);
		err = EPROTO;
		goto out;
	}
	if (err)
		goto out;
	at = strstr(sql, from);
	if (!at || strstr(at + 1, from)) {
		char qf[128];

		rt_error("a table's definition is not as expected",
			 "table=%s expected=%s found=%s", qt,
			 rt_log_q(qf, sizeof(qf), from),
			 at ? "more than once" : "nowhere");
		err = EPROTO;
		goto out;
	}
	edited = rt_asprintf("%.*s%s%s", (int)(at - sql), sql, to,
			     at + strlen(from));
	err = edited ? one_value(db, "PRAGMA schema_version", NULL, &version,
				 NULL)
		     : ENOMEM;
	if (err)
		goto out;
	bump = rt_asprintf("PRAGMA schema_version = %lld",
			   (long long)version + 1);
	if (!bump) {
		err = ENOMEM;
		goto out;
	}
	/* Defensive mode forbids writable_schema: off for this step only. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive);
	if (defensive)
		sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL);
	err = exec(db, "PRAGMA writable_schema = ON");
	if (!err) {
		sqlite3_stmt *st;
		int rc =
			sqlite3_prepare_v2(db,
					   "UPDATE sqlite_schema SET sql = ?1 "
					   "WHERE type = 'table' AND name = ?2",
					   -1, &st, NULL);

		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, edited, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
		}
		err = sq_err(db, rc, "schema edit");
		if (!err && sqlite3_changes(db) != 1)
			err = EPROTO;
		if (!err)
			err = exec(db, bump);
		/* Off again whatever happened; a failed step is rolled back
		 * with the caller's transaction. */
		if (exec(db, "PRAGMA writable_schema = OFF") && !err)
			err = EIO;
	}
	if (defensive)
		sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/* The check reads the new schema: text that does not parse fails
	 * here, before the transaction commits. */
	if (!err)
		err = integrity_ok(db);
	if (err)
		rt_error("changing a table's definition failed",
			 "table=%s err=%d", qt, err);
out:
	free(bump);
	free(edited);
	free(sql);
	return err;
}

const struct rt_store_ops rt_store_sqlite_ops = {
	.name = "sqlite",
	.pk_type = "INTEGER PRIMARY KEY",
	.blob_type = "BLOB",
	.accepts = sq_accepts,
	.open = sq_open,
	.close = sq_close,
	.exec_script = sq_exec_script,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.query = sq_query,
	.table_sql_replace = sq_table_sql_replace,
};
