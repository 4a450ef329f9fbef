/*
 * Unit tests of auth: scopes and roles, passwords (argon2id), keyed hashes,
 * API keys and bearer authentication, dashboard login with its cookie,
 * CSRF token and rate limit, the first-start bootstrap, and the server
 * secret file.  argon2id costs about 60 ms and 64 MiB a hash, so the
 * password hash of the fixture users is computed once for the whole group.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth.h"

#define PASSWORD "correct horse battery"

static char pw_hash[RT_PWHASH_MAX]; /* of PASSWORD, made once */

/*
 * Agency A with client A1, agency B; alice owns A, bob is an analyst in
 * A1, carol owns B.  All share PASSWORD.
 */
struct fx {
	struct rt_conf conf;
	struct rt_store *store;
	struct rt_auth *auth;
	uint8_t key[RT_SECRET_BYTES];
	int64_t a, a1, b;
	int64_t alice, bob, carol;
};

static int group_setup(void **state)
{
	(void)state;
	rt_log_set_level(RT_LOG_ERROR);
	return rt_auth_password_hash(PASSWORD, pw_hash) ? -1 : 0;
}

static void mk_account(struct rt_store_tx *tx, int64_t parent, const char *name,
		       const char *kind, int64_t *idp)
{
	struct rt_account acc = {.parent_id = parent};

	rt_strlcpy(acc.name, name, sizeof(acc.name));
	rt_strlcpy(acc.kind, kind, sizeof(acc.kind));
	rt_strlcpy(acc.time_zone, "UTC", sizeof(acc.time_zone));
	rt_strlcpy(acc.currency, "USD", sizeof(acc.currency));
	if (parent)
		assert_int_equal(rt_store_account_create(tx, parent, &acc), 0);
	else
		assert_int_equal(rt_store_account_create_root(tx, &acc), 0);
	*idp = acc.id;
}

static void mk_user(struct rt_store_tx *tx, const char *email, int64_t account,
		    const char *role, int64_t *idp)
{
	struct rt_user u = {0};

	rt_strlcpy(u.email, email, sizeof(u.email));
	rt_strlcpy(u.name, email, sizeof(u.name));
	assert_int_equal(rt_store_user_create(tx, 0, &u, pw_hash, account,
					      role),
			 0);
	*idp = u.id;
}

static int fx_alloc(void **state, bool populate)
{
	const struct rt_store_opts opts = {.pool_size = 1,
					   .busy_timeout_ms = 1000};
	struct fx *f = calloc(1, sizeof(*f));
	struct rt_store_tx *tx;
	char err[128];

	if (!f || rt_conf_init(&f->conf))
		return -1;
	if (rt_conf_set(&f->conf, "login_max_failures", "2", "test", err,
			sizeof(err)))
		return -1;
	if (rt_store_open(&f->store, ":memory:", &opts) ||
	    rt_store_migrate(f->store, NULL))
		return -1;
	for (size_t i = 0; i < sizeof(f->key); i++)
		f->key[i] = (uint8_t)(i * 7 + 1);
	if (rt_auth_alloc(&f->auth, &f->conf, f->store, f->key))
		return -1;
	if (populate) {
		if (rt_store_begin(f->store, true, &tx))
			return -1;
		mk_account(tx, 0, "A", "agency", &f->a);
		mk_account(tx, f->a, "A1", "client", &f->a1);
		mk_account(tx, 0, "B", "agency", &f->b);
		mk_user(tx, "alice@example.com", f->a, "owner", &f->alice);
		mk_user(tx, "bob@example.com", f->a1, "analyst", &f->bob);
		mk_user(tx, "carol@example.com", f->b, "owner", &f->carol);
		if (rt_store_commit(tx))
			return -1;
	}
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_alloc(state, true);
}

static int fx_setup_empty(void **state)
{
	return fx_alloc(state, false);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	rt_auth_free(f->auth);
	rt_store_close(f->store);
	rt_conf_release(&f->conf);
	free(f);
	return 0;
}

/* Creates an API key through the store as the API does; returns its id. */
static int64_t mk_key(struct fx *f, int64_t account, unsigned scopes,
		      int64_t expires_at, char secret[RT_APIKEY_MAX])
{
	struct rt_apikey k = {.account_id = account,
			      .scopes = scopes,
			      .expires_at = expires_at};
	char hash[RT_HASH_HEX];
	struct rt_store_tx *tx;

	rt_strlcpy(k.name, "unit key", sizeof(k.name));
	assert_int_equal(rt_auth_apikey_generate(f->auth, secret, k.prefix,
						 hash),
			 0);
	assert_int_equal(rt_store_begin(f->store, true, &tx), 0);
	assert_int_equal(rt_store_apikey_create(tx, account, &k, hash), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	return k.id;
}

static void set_status(struct fx *f, int64_t account, const char *status)
{
	struct rt_store_tx *tx;
	struct rt_account acc;

	assert_int_equal(rt_store_begin(f->store, true, &tx), 0);
	assert_int_equal(rt_store_account_get(tx, account, account, &acc), 0);
	rt_strlcpy(acc.status, status, sizeof(acc.status));
	assert_int_equal(rt_store_account_update(tx, account, &acc), 0);
	assert_int_equal(rt_store_commit(tx), 0);
}

static bool is_base64url(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	}
	return true;
}

/* ---- scopes, roles, passwords, hashes ----------------------------------- */

static void test_scopes(void **state)
{
	const char *names[3];

	(void)state;
	assert_int_equal(rt_auth_scope_parse("read"), RT_SCOPE_READ);
	assert_int_equal(rt_auth_scope_parse("write"), RT_SCOPE_WRITE);
	assert_int_equal(rt_auth_scope_parse("admin"), RT_SCOPE_ADMIN);
	assert_int_equal(rt_auth_scope_parse("READ"), 0);
	assert_int_equal(rt_auth_scope_parse("root"), 0);
	assert_int_equal(rt_auth_scope_parse(""), 0);
	assert_int_equal(rt_auth_scope_parse(NULL), 0);

	assert_int_equal(rt_auth_scope_names(RT_SCOPE_ALL, names), 3);
	assert_string_equal(names[0], "read");
	assert_string_equal(names[1], "write");
	assert_string_equal(names[2], "admin");
	assert_int_equal(rt_auth_scope_names(RT_SCOPE_ADMIN | RT_SCOPE_READ,
					     names),
			 2);
	assert_string_equal(names[0], "read");
	assert_string_equal(names[1], "admin");
	assert_int_equal(rt_auth_scope_names(0, names), 0);

	/* Scopes nest: admin includes write, write includes read. */
	assert_int_equal(rt_auth_scopes_close(RT_SCOPE_ADMIN), RT_SCOPE_ALL);
	assert_int_equal(rt_auth_scopes_close(RT_SCOPE_WRITE),
			 RT_SCOPE_WRITE | RT_SCOPE_READ);
	assert_int_equal(rt_auth_scopes_close(RT_SCOPE_READ), RT_SCOPE_READ);
	assert_int_equal(rt_auth_scopes_close(0), 0);
}

static void test_roles(void **state)
{
	(void)state;
	assert_true(rt_auth_role_rank("agent") > 0);
	assert_true(rt_auth_role_rank("agent") < rt_auth_role_rank("analyst"));
	assert_true(rt_auth_role_rank("analyst") < rt_auth_role_rank("admin"));
	assert_true(rt_auth_role_rank("admin") < rt_auth_role_rank("owner"));
	assert_int_equal(rt_auth_role_rank("Owner"), 0);
	assert_int_equal(rt_auth_role_rank("superuser"), 0);
	assert_int_equal(rt_auth_role_rank(NULL), 0);

	/* Reading roles may not write; admins and owners may do all. */
	assert_int_equal(rt_auth_role_scopes("agent"), RT_SCOPE_READ);
	assert_int_equal(rt_auth_role_scopes("analyst"), RT_SCOPE_READ);
	assert_int_equal(rt_auth_role_scopes("admin"), RT_SCOPE_ALL);
	assert_int_equal(rt_auth_role_scopes("owner"), RT_SCOPE_ALL);
	assert_int_equal(rt_auth_role_scopes("nobody"), 0);
}

static void test_password_policy(void **state)
{
	char pw[300];
	const char *why = NULL;

	(void)state;
	assert_int_equal(rt_auth_password_check("short", &why), EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, "10"));
	why = NULL;
	assert_int_equal(rt_auth_password_check("123456789", &why), EINVAL);
	assert_int_equal(rt_auth_password_check("", &why), EINVAL);
	assert_int_equal(rt_auth_password_check(NULL, &why), EINVAL);
	assert_int_equal(rt_auth_password_check("1234567890", &why), 0);

	memset(pw, 'x', sizeof(pw));
	pw[256] = '\0';
	assert_int_equal(rt_auth_password_check(pw, &why), 0);
	pw[256] = 'x';
	pw[257] = '\0';
	why = NULL;
	assert_int_equal(rt_auth_password_check(pw, &why), EINVAL);
	assert_non_null(strstr(why, "256"));
}

static void test_password_hash_verify(void **state)
{
	char h2[RT_PWHASH_MAX];

	(void)state;
	/* The group's hash: argon2id, salted, verifiable. */
	assert_true(strncmp(pw_hash, "$argon2id$", 10) == 0);
	assert_true(rt_auth_password_verify(pw_hash, PASSWORD));
	assert_false(rt_auth_password_verify(pw_hash, PASSWORD " "));
	assert_false(rt_auth_password_verify("not a hash", PASSWORD));
	/* The same password hashes differently each time (salt). */
	assert_int_equal(rt_auth_password_hash(PASSWORD, h2), 0);
	assert_string_not_equal(h2, pw_hash);
	assert_null(strstr(h2, PASSWORD));
}

static void test_keyed_hash_depends_on_secret(void **state)
{
	struct fx *f = *state;
	uint8_t other_key[RT_SECRET_BYTES];
	struct rt_auth *other;
	char h1[RT_HASH_HEX], h1b[RT_HASH_HEX], h2[RT_HASH_HEX],
		h3[RT_HASH_HEX];

	memcpy(other_key, f->key, sizeof(other_key));
	other_key[0] ^= 1;
	assert_int_equal(rt_auth_alloc(&other, &f->conf, f->store, other_key),
			 0);
	rt_auth_hash(f->auth, "rt_live_secret", h1);
	rt_auth_hash(f->auth, "rt_live_secret", h1b);
	rt_auth_hash(other, "rt_live_secret", h2);
	rt_auth_hash(f->auth, "rt_live_secreT", h3);
	rt_auth_free(other);

	assert_int_equal(strlen(h1), 64);
	for (const char *c = h1; *c; c++)
		assert_true((*c >= '0' && *c <= '9') ||
			    (*c >= 'a' && *c <= 'f'));
	assert_string_equal(h1, h1b);
	/* A database copied without the secret file cannot be matched. */
	assert_string_not_equal(h1, h2);
	assert_string_not_equal(h1, h3);
}

static void test_apikey_format(void **state)
{
	struct fx *f = *state;
	char key[RT_APIKEY_MAX], key2[RT_APIKEY_MAX];
	char prefix[RT_KEY_PREFIX_MAX], prefix2[RT_KEY_PREFIX_MAX];
	char hash[RT_HASH_HEX], hash2[RT_HASH_HEX], check[RT_HASH_HEX];

	assert_int_equal(rt_auth_apikey_generate(f->auth, key, prefix, hash),
			 0);
	assert_int_equal(rt_auth_apikey_generate(f->auth, key2, prefix2, hash2),
			 0);
	/* rt_live_ and 43 base64url characters: 256 bits. */
	assert_true(strncmp(key, "rt_live_", 8) == 0);
	assert_int_equal(strlen(key), 8 + 43);
	assert_true(is_base64url(key + 8));
	/* The visible prefix is the start of the key, far shorter than it. */
	assert_true(strlen(prefix) > 8 && strlen(prefix) <= 16);
	assert_true(strncmp(key, prefix, strlen(prefix)) == 0);
	/* The stored hash is the keyed hash of the secret, not the secret. */
	rt_auth_hash(f->auth, key, check);
	assert_string_equal(hash, check);
	assert_null(strstr(hash, key + 8));
	assert_string_not_equal(key, key2);
	assert_string_not_equal(hash, hash2);
}

static void test_tokens(void **state)
{
	char t1[64], t2[64];

	(void)state;
	rt_auth_token(t1, sizeof(t1), 32);
	rt_auth_token(t2, sizeof(t2), 32);
	assert_int_equal(strlen(t1), 43);
	assert_true(is_base64url(t1));
	assert_string_not_equal(t1, t2);
	rt_auth_token(t1, sizeof(t1), 15);
	assert_int_equal(strlen(t1), 20);
}

/* ---- bearer keys -------------------------------------------------------- */

static void test_bearer_accepts_created_key(void **state)
{
	struct fx *f = *state;
	char secret[RT_APIKEY_MAX];
	struct rt_principal p;
	struct rt_store_tx *tx;
	struct rt_apikey k;
	int64_t id, t0 = rt_now_ms();

	id = mk_key(f, f->a1, RT_SCOPE_READ | RT_SCOPE_WRITE, 0, secret);
	memset(&p, 0, sizeof(p));
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), 0);
	assert_int_equal(p.kind, RT_PRINCIPAL_KEY);
	assert_true(p.id == id);
	assert_int_equal(p.scopes, RT_SCOPE_READ | RT_SCOPE_WRITE);
	/* The key acts as its own account: the tenant scope. */
	assert_true(p.account.id == f->a1);
	assert_string_equal(p.account.name, "A1");
	assert_string_equal(p.name, "unit key");
	assert_int_equal(p.session_id, 0);

	/* Its use is recorded. */
	assert_int_equal(rt_store_begin(f->store, false, &tx), 0);
	assert_int_equal(rt_store_apikey_get(tx, f->a1, id, &k), 0);
	rt_store_rollback(tx);
	assert_true(k.last_used_at >= t0 && k.last_used_at <= rt_now_ms());

	/* A key that expires later still works. */
	mk_key(f, f->a, RT_SCOPE_ALL, rt_now_ms() + 3600000, secret);
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), 0);
	assert_true(p.account.id == f->a);
	assert_int_equal(p.scopes, RT_SCOPE_ALL);
}

static void test_bearer_rejects(void **state)
{
	struct fx *f = *state;
	char secret[RT_APIKEY_MAX], fake[RT_APIKEY_MAX],
		prefix[RT_KEY_PREFIX_MAX];
	char hash[RT_HASH_HEX], longkey[200];
	struct rt_principal p;
	struct rt_store_tx *tx;
	int64_t id;

	/* Unknown, wrong shape, too long. */
	assert_int_equal(rt_auth_apikey_generate(f->auth, fake, prefix, hash),
			 0);
	assert_int_equal(rt_auth_bearer(f->auth, fake, &p), EACCES);
	assert_int_equal(rt_auth_bearer(f->auth, "", &p), EACCES);
	assert_int_equal(rt_auth_bearer(f->auth, "rt_live_", &p), EACCES);
	assert_int_equal(rt_auth_bearer(f->auth, fake + 8, &p), EACCES);
	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	memcpy(longkey, "rt_live_", 8);
	assert_int_equal(rt_auth_bearer(f->auth, longkey, &p), EACCES);

	/* A key of another server (other secret) is unknown here. */
	{
		uint8_t other_key[RT_SECRET_BYTES] = {9};
		struct rt_auth *other;
		struct rt_apikey k = {.account_id = f->a,
				      .scopes = RT_SCOPE_READ};
		char other_secret[RT_APIKEY_MAX];

		assert_int_equal(rt_auth_alloc(&other, &f->conf, f->store,
					       other_key),
				 0);
		assert_int_equal(rt_auth_apikey_generate(other, other_secret,
							 k.prefix, hash),
				 0);
		assert_int_equal(rt_store_begin(f->store, true, &tx), 0);
		assert_int_equal(rt_store_apikey_create(tx, f->a, &k, hash), 0);
		assert_int_equal(rt_store_commit(tx), 0);
		assert_int_equal(rt_auth_bearer(other, other_secret, &p), 0);
		assert_int_equal(rt_auth_bearer(f->auth, other_secret, &p),
				 EACCES);
		rt_auth_free(other);
	}

	/* Revoked. */
	id = mk_key(f, f->a, RT_SCOPE_ALL, 0, secret);
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), 0);
	assert_int_equal(rt_store_begin(f->store, true, &tx), 0);
	assert_int_equal(rt_store_apikey_revoke(tx, f->a, id, rt_now_ms()), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), EKEYREVOKED);

	/* Expired. */
	mk_key(f, f->a, RT_SCOPE_ALL, rt_now_ms() - 1000, secret);
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), EKEYEXPIRED);

	/* Account suspended, and back. */
	mk_key(f, f->b, RT_SCOPE_READ, 0, secret);
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), 0);
	set_status(f, f->b, "suspended");
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), EPERM);
	set_status(f, f->b, "active");
	assert_int_equal(rt_auth_bearer(f->auth, secret, &p), 0);
}

/* ---- login, cookie, CSRF ------------------------------------------------ */

static void test_login_and_cookie(void **state)
{
	struct fx *f = *state;
	struct rt_login lg;
	struct rt_principal p;
	struct rt_store_tx *tx;
	struct rt_user u;
	unsigned retry = 99;
	int64_t t0 = rt_now_ms();

	memset(&lg, 0, sizeof(lg));
	assert_int_equal(rt_auth_login(f->auth, "alice@example.com", PASSWORD,
				       0, "192.0.2.1", &lg, &retry),
			 0);
	assert_int_equal(retry, 0);
	assert_true(strlen(lg.token) >= 43);
	assert_true(is_base64url(lg.token));
	assert_true(lg.user.id == f->alice);
	assert_int_equal(lg.principal.kind, RT_PRINCIPAL_USER);
	assert_true(lg.principal.account.id == f->a);
	assert_string_equal(lg.principal.role, "owner");
	assert_int_equal(lg.principal.scopes, RT_SCOPE_ALL);
	assert_true(strlen(lg.principal.csrf) >= 16);
	assert_string_not_equal(lg.principal.csrf, lg.token);
	/* The session lasts session_ttl. */
	assert_true(lg.expires_at >= t0 + (int64_t)f->conf.session_ttl);
	assert_true(lg.expires_at <=
		    rt_now_ms() + (int64_t)f->conf.session_ttl);

	/* The last login time is recorded. */
	assert_int_equal(rt_store_begin(f->store, false, &tx), 0);
	assert_int_equal(rt_store_user_by_id(tx, f->alice, &u), 0);
	rt_store_rollback(tx);
	assert_true(u.last_login_at >= t0);

	/* The cookie token resolves to the same session. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), 0);
	assert_int_equal(p.kind, RT_PRINCIPAL_USER);
	assert_true(p.id == f->alice);
	assert_true(p.session_id == lg.principal.session_id &&
		    p.session_id > 0);
	assert_true(p.account.id == f->a);
	assert_string_equal(p.role, "owner");
	assert_string_equal(p.name, "alice@example.com");
	assert_string_equal(p.csrf, lg.principal.csrf);

	/* CSRF: only the session's own token passes. */
	assert_true(rt_auth_csrf_ok(&p, lg.principal.csrf));
	assert_false(rt_auth_csrf_ok(&p, NULL));
	assert_false(rt_auth_csrf_ok(&p, ""));
	{
		char wrong[48];

		rt_strlcpy(wrong, p.csrf, sizeof(wrong));
		wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
		assert_false(rt_auth_csrf_ok(&p, wrong));
		wrong[0] = p.csrf[0];
		wrong[strlen(wrong) - 1] = '\0';
		assert_false(rt_auth_csrf_ok(&p, wrong)); /* a prefix */
	}
	/* A key principal has no CSRF token, so none matches. */
	{
		struct rt_principal kp = {.kind = RT_PRINCIPAL_KEY};

		assert_false(rt_auth_csrf_ok(&kp, ""));
		assert_false(rt_auth_csrf_ok(&kp, "x"));
	}

	/* Cookies that were never issued. */
	assert_int_equal(rt_auth_cookie(f->auth, "nope", &p), EACCES);
	assert_int_equal(rt_auth_cookie(f->auth, "", &p), EACCES);
	{
		char longtok[100];

		memset(longtok, 'a', sizeof(longtok) - 1);
		longtok[sizeof(longtok) - 1] = '\0';
		assert_int_equal(rt_auth_cookie(f->auth, longtok, &p), EACCES);
	}

	/* Logout ends it. */
	assert_int_equal(rt_auth_logout(f->auth, &lg.principal), 0);
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), EACCES);
	/* A key cannot log out. */
	{
		struct rt_principal kp = {.kind = RT_PRINCIPAL_KEY, .id = 1};

		assert_int_equal(rt_auth_logout(f->auth, &kp), EINVAL);
	}
}

static void test_login_bad_credentials(void **state)
{
	struct fx *f = *state;
	struct rt_login lg;
	unsigned retry = 0;

	/* Wrong password and unknown email answer the same. */
	assert_int_equal(rt_auth_login(f->auth, "alice@example.com",
				       "wrong password", 0, "192.0.2.2", &lg,
				       &retry),
			 EACCES);
	assert_int_equal(rt_auth_login(f->auth, "nobody@example.com", PASSWORD,
				       0, "192.0.2.3", &lg, &retry),
			 EACCES);
	assert_int_equal(retry, 0);
}

static void test_login_rate_limited(void **state)
{
	struct fx *f = *state;
	struct rt_login lg;
	unsigned retry = 0;

	/* login_max_failures is 2 here. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(rt_auth_login(f->auth, "alice@example.com",
					       "guess", 0, "198.51.100.1", &lg,
					       &retry),
				 EACCES);
	/* Now even the right password waits, from this address ... */
	assert_int_equal(rt_auth_login(f->auth, "alice@example.com", PASSWORD,
				       0, "198.51.100.1", &lg, &retry),
			 EAGAIN);
	assert_true(retry > 0);
	assert_true(retry <= f->conf.login_window / 1000);
	/* ... and for this email from elsewhere ... */
	retry = 0;
	assert_int_equal(rt_auth_login(f->auth, "ALICE@example.com", PASSWORD,
				       0, "203.0.113.9", &lg, &retry),
			 EAGAIN);
	assert_true(retry > 0);
	/* ... and for other emails from this address. */
	assert_int_equal(rt_auth_login(f->auth, "bob@example.com", PASSWORD, 0,
				       "198.51.100.1", &lg, &retry),
			 EAGAIN);
	/* Other users from other addresses are not affected. */
	assert_int_equal(rt_auth_login(f->auth, "bob@example.com", PASSWORD, 0,
				       "203.0.113.10", &lg, &retry),
			 0);
}

static void test_login_account_choice(void **state)
{
	struct fx *f = *state;
	struct rt_login lg;
	struct rt_principal p;
	unsigned retry;

	/* bob lands in A1, where he is an analyst: read only. */
	assert_int_equal(rt_auth_login(f->auth, "bob@example.com", PASSWORD, 0,
				       "192.0.2.5", &lg, &retry),
			 0);
	assert_true(lg.principal.account.id == f->a1);
	assert_string_equal(lg.principal.role, "analyst");
	assert_int_equal(lg.principal.scopes, RT_SCOPE_READ);
	/* He cannot act as the agency above his account. */
	assert_int_equal(rt_auth_login(f->auth, "bob@example.com", PASSWORD,
				       f->a, "192.0.2.5", &lg, &retry),
			 ENOENT);

	/* alice, owner of agency A, may act as its client A1, with her
	 * agency role; the cookie keeps acting as A1. */
	assert_int_equal(rt_auth_login(f->auth, "alice@example.com", PASSWORD,
				       f->a1, "192.0.2.5", &lg, &retry),
			 0);
	assert_true(lg.principal.account.id == f->a1);
	assert_string_equal(lg.principal.account.name, "A1");
	assert_string_equal(lg.principal.role, "owner");
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), 0);
	assert_true(p.account.id == f->a1);
	assert_string_equal(p.role, "owner");
	/* But not as another agency's account. */
	assert_int_equal(rt_auth_login(f->auth, "alice@example.com", PASSWORD,
				       f->b, "192.0.2.5", &lg, &retry),
			 ENOENT);
}

static void test_login_disabled_user_and_suspended_account(void **state)
{
	struct fx *f = *state;
	struct rt_login lg;
	struct rt_principal p;
	struct rt_store_tx *tx;
	struct rt_user u;
	unsigned retry;

	/* carol has a session; then B is suspended: the cookie stops. */
	assert_int_equal(rt_auth_login(f->auth, "carol@example.com", PASSWORD,
				       0, "192.0.2.6", &lg, &retry),
			 0);
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), 0);
	set_status(f, f->b, "suspended");
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), EPERM);
	set_status(f, f->b, "active");
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), 0);

	/* A disabled user can neither use the session nor log in. */
	assert_int_equal(rt_store_begin(f->store, true, &tx), 0);
	assert_int_equal(rt_store_user_get(tx, f->b, f->carol, &u), 0);
	rt_strlcpy(u.status, "disabled", sizeof(u.status));
	assert_int_equal(rt_store_user_update(tx, f->b, &u, NULL), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_int_equal(rt_auth_cookie(f->auth, lg.token, &p), EACCES);
	assert_int_equal(rt_auth_login(f->auth, "carol@example.com", PASSWORD,
				       0, "192.0.2.6", &lg, &retry),
			 EACCES);
}

/* ---- bootstrap ---------------------------------------------------------- */

static int audit_count_h(const struct rt_audit *a, void *arg)
{
	(void)a;
	++*(int *)arg;
	return 0;
}

static void test_bootstrap_once(void **state)
{
	struct fx *f = *state;
	struct rt_bootstrap bs, again;
	struct rt_principal p;
	struct rt_login lg;
	struct rt_store_tx *tx;
	struct rt_page pg = {0, 0};
	unsigned retry;
	int64_t n = 0;
	int audits = 0;

	memset(&bs, 0, sizeof(bs));
	assert_int_equal(rt_auth_bootstrap(f->auth, &bs), 0);
	assert_true(bs.account_id > 0);
	assert_string_equal(bs.email, "admin@example.com");
	assert_true(strncmp(bs.api_key, "rt_live_", 8) == 0);
	assert_int_equal(rt_auth_password_check(bs.password,
						&(const char *){NULL}),
			 0);

	/* The printed key works, with every scope, on the demo account. */
	assert_int_equal(rt_auth_bearer(f->auth, bs.api_key, &p), 0);
	assert_true(p.account.id == bs.account_id);
	assert_int_equal(p.scopes, RT_SCOPE_ALL);
	assert_string_equal(p.account.kind, "agency");
	/* So does the printed password, as an owner. */
	assert_int_equal(rt_auth_login(f->auth, bs.email, bs.password, 0,
				       "127.0.0.1", &lg, &retry),
			 0);
	assert_string_equal(lg.principal.role, "owner");
	assert_true(lg.principal.account.id == bs.account_id);

	/* A second start changes nothing. */
	memset(&again, 0, sizeof(again));
	assert_int_equal(rt_auth_bootstrap(f->auth, &again), EEXIST);
	assert_string_equal(again.api_key, "");
	assert_int_equal(rt_store_begin(f->store, false, &tx), 0);
	assert_int_equal(rt_store_account_count(tx, &n), 0);
	assert_int_equal(rt_store_audit_list(tx, bs.account_id, 0, &pg,
					     audit_count_h, &audits),
			 0);
	rt_store_rollback(tx);
	assert_int_equal(n, 1);
	assert_int_equal(audits, 1);
}

/* ---- the server secret -------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_secret_load(void **state)
{
	char dir[] = "/tmp/rt-unit-auth-XXXXXX", path[128], text[200];
	uint8_t k1[RT_SECRET_BYTES], k2[RT_SECRET_BYTES];
	struct stat st;
	FILE *fp;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ringtrail.key", dir);

	/* First start creates it, readable by the owner only. */
	assert_int_equal(rt_auth_secret_load(path, k1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	assert_int_equal(n, 65);
	assert_int_equal(text[64], '\n');
	for (size_t i = 0; i < 64; i++)
		assert_true((text[i] >= '0' && text[i] <= '9') ||
			    (text[i] >= 'a' && text[i] <= 'f'));

	/* Later starts read the same key. */
	memset(k2, 0, sizeof(k2));
	assert_int_equal(rt_auth_secret_load(path, k2), 0);
	assert_memory_equal(k1, k2, sizeof(k1));

	/* A key written by hand (64 hex digits) is taken as it is. */
	write_file(path, "000102030405060708090a0b0c0d0e0f"
			 "101112131415161718191a1b1c1d1e1f\n");
	assert_int_equal(rt_auth_secret_load(path, k2), 0);
	for (size_t i = 0; i < sizeof(k2); i++)
		assert_int_equal(k2[i], i);

	unlink(path);
	rmdir(dir);
}

static void test_secret_load_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"abc\n",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e"
		"\n",
		"zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e"
		"1f\n",
		"00 "
		"102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"\n",
	};
	char dir[] = "/tmp/rt-unit-auth-XXXXXX", path[128];
	uint8_t k[RT_SECRET_BYTES];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ringtrail.key", dir);
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		write_file(path, bad[i]);
		if (rt_auth_secret_load(path, k) != EINVAL)
			fail_msg("secret file '%s' was accepted", bad[i]);
	}
	unlink(path);

	/* A folder that does not exist is an error, not a crash. */
	snprintf(path, sizeof(path), "%s/missing/ringtrail.key", dir);
	assert_int_equal(rt_auth_secret_load(path, k), ENOENT);
	rmdir(dir);
}

static void test_secret_path(void **state)
{
	struct rt_conf c;
	char err[128], *p;

	(void)state;
	assert_int_equal(rt_conf_init(&c), 0);
	assert_int_equal(rt_conf_set(&c, "db", "/srv/rt/data.db", "t", err,
				     sizeof(err)),
			 0);
	p = rt_auth_secret_path(&c);
	assert_string_equal(p, "/srv/rt/ringtrail.key");
	free(p);
	assert_int_equal(rt_conf_set(&c, "db", "rt.db", "t", err, sizeof(err)),
			 0);
	p = rt_auth_secret_path(&c);
	assert_string_equal(p, "./ringtrail.key");
	free(p);
	assert_int_equal(rt_conf_set(&c, "secret_file", "/etc/rt.key", "t", err,
				     sizeof(err)),
			 0);
	p = rt_auth_secret_path(&c);
	assert_string_equal(p, "/etc/rt.key");
	free(p);
	rt_conf_release(&c);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
#define FX_EMPTY(t)                                                            \
	cmocka_unit_test_setup_teardown(t, fx_setup_empty, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_password_hash_verify),
		FX(test_keyed_hash_depends_on_secret),
		FX(test_apikey_format),
		cmocka_unit_test(test_tokens),
		FX(test_bearer_accepts_created_key),
		FX(test_bearer_rejects),
		FX(test_login_and_cookie),
		FX(test_login_bad_credentials),
		FX(test_login_rate_limited),
		FX(test_login_account_choice),
		FX(test_login_disabled_user_and_suspended_account),
		FX_EMPTY(test_bootstrap_once),
		cmocka_unit_test(test_secret_load),
		cmocka_unit_test(test_secret_load_rejects_malformed),
		cmocka_unit_test(test_secret_path),
	};

	return cmocka_run_group_tests_name("auth", tests, group_setup, NULL);
}
