/* Inside the store: the backend ops struct and the shared SQL helpers. */
#ifndef RT_STORE_INT_H
#define RT_STORE_INT_H

#include "store/store.h"

struct rt_store_conn; /* a backend's connection */

/*
 * A backend.  SQL reaching query() is portable: numbered parameters ?1..?N,
 * BIGINT and TEXT columns, RETURNING; exec_script() runs migration text in
 * which {pk} stands for the backend's auto-increment primary key type.
 */
struct rt_store_ops {
	const char *name;
	const char *pk_type;
	const char *blob_type; /* {blob} in migrations */
	bool (*accepts)(const char *url);
	int (*open)(struct rt_store_conn **cp, const char *url,
		    const struct rt_store_opts *opts);
	void (*close)(struct rt_store_conn *c);
	int (*exec_script)(struct rt_store_conn *c, const char *sql);
	int (*begin)(struct rt_store_conn *c, bool write);
	int (*commit)(struct rt_store_conn *c);
	int (*rollback)(struct rt_store_conn *c);
	int (*query)(struct rt_store_conn *c, const char *sql,
		     const struct rt_val *args, size_t nargs,
		     rt_store_row_h *rowh, void *arg, int64_t *changesp);
	/* Replaces `from`, which must occur exactly once, by `to` in the
	 * stored CREATE TABLE text of `table`, without touching its rows:
	 * how SQLite changes what ALTER TABLE cannot, such as a CHECK
	 * constraint.  Inside a write transaction; EPROTO (logged) when the
	 * text is not as expected or the check of the database after the
	 * change fails.  NULL for a backend that alters constraints with
	 * ALTER TABLE. */
	int (*table_sql_replace)(struct rt_store_conn *c, const char *table,
				 const char *from, const char *to);
};

extern const struct rt_store_ops rt_store_sqlite_ops;

/* Runs a migration script on the transaction's connection. */
int rt_store_tx_script(struct rt_store_tx *tx, const char *sql);
/* The backend's table_sql_replace on the transaction's connection;
 * ENOTSUP when the backend has none. */
int rt_store_tx_table_sql_replace(struct rt_store_tx *tx, const char *table,
				  const char *from, const char *to);

/* The migration list (migrate.c). */
struct rt_migration {
	unsigned version;
	const char *name;
	const char *sql;
	/* A step in C after the SQL, in the same transaction (data that SQL
	 * cannot make portably, such as random keys); NULL for none. */
	int (*post)(struct rt_store_tx *tx);
};

/* Gives a site key to every account without one (migration 4). */
int rt_store_site_keys_fill(struct rt_store_tx *tx);
const struct rt_migration *rt_store_migrations(size_t *np);
/* rt_store_migrate() up to `version` only (the tests of a migration start
 * from the schema before it). */
int rt_store_migrate_to(struct rt_store *s, unsigned version,
			unsigned *appliedp);

/* A visit's click ids as the JSON object stored in click_ids (NULL when
 * there are none, or on ENOMEM; the caller frees), and back. */
char *rt_store_clicks_encode(const struct rt_visit_source *v);
void rt_store_clicks_decode(struct rt_visit_source *v, const char *text);

/* Rows of (id, url, title, at) to an rt_dni_pageview_h: a visit's pages
 * and a call's copy of them. */
struct rt_store_pageview_rows {
	rt_dni_pageview_h *h;
	void *arg;
};
int rt_store_pageview_row(const struct rt_val *c, size_t ncols, void *arg);

/* Row helpers for the data layer. */
static inline int64_t rt_col_int(const struct rt_val *c)
{
	return c->type == RT_VAL_INT ? c->i : 0;
}
static inline const char *rt_col_text(const struct rt_val *c)
{
	return c->type == RT_VAL_TEXT ? c->s : "";
}
#define RT_COL_STR(dst, col) rt_strlcpy((dst), rt_col_text(col), sizeof(dst))
/* A blob column's bytes (NULL for none or empty) and their count. */
static inline const void *rt_col_blob(const struct rt_val *c, size_t *np)
{
	*np = c->type == RT_VAL_BLOB ? (size_t)c->i : 0;
	return *np ? c->s : NULL;
}

/* The columns of an account row, as rt_store_account_fill() reads them. */
#define ACCOUNT_COLS                                                           \
	"a.id, a.parent_id, a.name, a.kind, a.time_zone, a.currency, "         \
	"a.status, a.created_at, a.updated_at, a.site_key, "                   \
	"a.recording_disclosure"
#define ACCOUNT_NCOLS 11
void rt_store_account_fill(const struct rt_val *c, struct rt_account *a);

/* Clamps a page's limit; 0 means the default. */
unsigned rt_store_page_limit(const struct rt_page *pg);
/* A query whose first column of its last row goes to *vp (left as it was
 * when there is no row). */
int rt_store_query_int(struct rt_store_tx *tx, const char *sql,
		       const struct rt_val *args, size_t nargs, int64_t *vp);

/* 0 when pool_id is 0, or a pool in scope that belongs to account_id;
 * ENOENT when it is not in scope (scope 0: exists), EPERM when it is
 * another account's. */
int rt_store_pool_fits(struct rt_store_tx *tx, int64_t scope, int64_t pool_id,
		       int64_t account_id);

/* `account_id` is scope or below it: the SQL that every tenant query uses.
 * ?1 is always the scope. */
#define RT_IN_SCOPE(col)                                                       \
	"EXISTS (SELECT 1 FROM account_tree t WHERE t.ancestor_id = ?1 AND "   \
	"t.descendant_id = " col ")"

#endif
