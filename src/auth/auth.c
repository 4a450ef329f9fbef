/* Secrets, hashes, principals, login sessions and the first-start bootstrap. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth_int.h"

#define RT_LOG_MODULE "auth"

/* A key's last_used_at is written at most this often: one write a minute
 * per key instead of one per request. */
#define TOUCH_EVERY_MS 60000

static const char *const scope_names[] = {"read", "write", "admin"};

unsigned rt_auth_scope_parse(const char *name)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(scope_names); i++) {
		if (rt_streq(name, scope_names[i]))
			return 1u << i;
	}
	return 0;
}

unsigned rt_auth_scopes_close(unsigned scopes)
{
	if (scopes & RT_SCOPE_ADMIN)
		scopes |= RT_SCOPE_WRITE;
	if (scopes & RT_SCOPE_WRITE)
		scopes |= RT_SCOPE_READ;
	return scopes;
}

size_t rt_auth_scope_names(unsigned scopes, const char *names[3])
{
	size_t n = 0;

	for (size_t i = 0; i < RT_ARRAY_SIZE(scope_names); i++) {
		if (scopes & (1u << i))
			names[n++] = scope_names[i];
	}
	return n;
}

static const struct {
	const char *name;
	unsigned scopes;
} roles[] = {
	{"agent", RT_SCOPE_READ},
	{"analyst", RT_SCOPE_READ},
	{"admin", RT_SCOPE_ALL},
	{"owner", RT_SCOPE_ALL},
};

int rt_auth_role_rank(const char *role)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(roles); i++) {
		if (rt_streq(role, roles[i].name))
			return (int)i + 1;
	}
	return 0;
}

unsigned rt_auth_role_scopes(const char *role)
{
	int rank = rt_auth_role_rank(role);

	return rank ? roles[rank - 1].scopes : 0;
}

char *rt_auth_secret_path(const struct rt_conf *conf)
{
	return rt_conf_beside_db(conf, conf->secret_file, "ringtrail.key");
}

int rt_auth_secret_load(const char *path, uint8_t key[RT_SECRET_BYTES])
{
	char hex[RT_SECRET_BYTES * 2 + 2];
	size_t binlen = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* First start: make one.  O_EXCL so two processes starting
		 * together do not both write a different secret. */
		randombytes_buf(key, RT_SECRET_BYTES);
		sodium_bin2hex(hex, sizeof(hex), key, RT_SECRET_BYTES);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			hex[RT_SECRET_BYTES * 2] = '\n';
			n = write(fd, hex, RT_SECRET_BYTES * 2 + 1);
			err = n == RT_SECRET_BYTES * 2 + 1 && fsync(fd) == 0
				      ? 0
				      : EIO;
			close(fd);
			if (!err)
				rt_info("created server secret", "path=\"%s\"",
					path);
			return err;
		}
		if (errno != EEXIST) {
			err = errno;
			rt_error("cannot create server secret",
				 "path=\"%s\" error=\"%s\"", path,
				 strerror(err));
			return err;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		err = errno;
		rt_error("cannot open server secret",
			 "path=\"%s\" error=\"%s\"", path, strerror(err));
		return err;
	}
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < RT_SECRET_BYTES * 2 ||
	    sodium_hex2bin(key, RT_SECRET_BYTES, hex, RT_SECRET_BYTES * 2, NULL,
			   &binlen, NULL) != 0 ||
	    binlen != RT_SECRET_BYTES) {
		rt_error("server secret is malformed: want 64 hex digits",
			 "path=\"%s\"", path);
		return EINVAL;
	}
	return 0;
}

int rt_auth_alloc(struct rt_auth **ap, const struct rt_conf *conf,
		  struct rt_store *store, const uint8_t key[RT_SECRET_BYTES])
{
	struct rt_auth *a;

	if (sodium_init() < 0)
		return EIO;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ENOMEM;
	a->conf = conf;
	a->store = store;
	memcpy(a->key, key, RT_SECRET_BYTES);
	pthread_mutex_init(&a->dummy_lock, NULL);
	rt_auth_limiter_init(&a->limiter, conf->login_max_failures,
			     conf->login_window);
	*ap = a;
	return 0;
}

void rt_auth_free(struct rt_auth *a)
{
	if (!a)
		return;
	rt_auth_limiter_release(&a->limiter);
	pthread_mutex_destroy(&a->dummy_lock);
	sodium_memzero(a->key, sizeof(a->key));
	free(a);
}

int rt_auth_password_check(const char *pw, const char **reasonp)
{
	size_t len = pw ? strlen(pw) : 0;

	if (len < 10) {
		*reasonp = "must be at least 10 characters";
		return EINVAL;
	}
	if (len > 256) {
		*reasonp = "must be at most 256 characters";
		return EINVAL;
	}
	return 0;
}

int rt_auth_password_hash(const char *pw, char out[RT_PWHASH_MAX])
{
	/* Interactive limits: about 60 ms and 64 MiB per hash on these
	 * machines; that is the point of argon2id. */
	if (crypto_pwhash_str_alg(out, pw, strlen(pw),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ENOMEM;
	return 0;
}

bool rt_auth_password_verify(const char *hash, const char *pw)
{
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void rt_auth_hash(const struct rt_auth *a, const char *secret,
		  char out[RT_HASH_HEX])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), (const uint8_t *)secret,
			   strlen(secret), a->key, sizeof(a->key));
	sodium_bin2hex(out, RT_HASH_HEX, h, sizeof(h));
}

void rt_auth_token(char *out, size_t size, size_t n)
{
	uint8_t raw[64];

	if (n > sizeof(raw) ||
	    size < sodium_base64_ENCODED_LEN(
			   n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		RT_BUG("token of %zu bytes does not fit %zu", n, size);
	randombytes_buf(raw, n);
	sodium_bin2base64(out, size, raw, n,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

int rt_auth_apikey_generate(const struct rt_auth *a, char key[RT_APIKEY_MAX],
			    char prefix[RT_KEY_PREFIX_MAX],
			    char hash[RT_HASH_HEX])
{
	char tok[48];

	rt_auth_token(tok, sizeof(tok), 32);
	snprintf(key, RT_APIKEY_MAX, "rt_live_%s", tok);
	/* "rt_live_" and six characters: enough to tell keys apart in a
	 * list, far too little to guess the rest. */
	snprintf(prefix, RT_KEY_PREFIX_MAX, "%.14s", key);
	rt_auth_hash(a, key, hash);
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

static int finish_read(struct rt_store_tx *tx, int err)
{
	if (err) {
		rt_store_rollback(tx);
		return err;
	}
	return rt_store_commit(tx);
}

int rt_auth_bearer(struct rt_auth *a, const char *token, struct rt_principal *p)
{
	char hash[RT_HASH_HEX];
	struct rt_store_tx *tx;
	struct rt_apikey k;
	int64_t now = rt_now_ms();
	bool usable = false;
	int err;

	if (strncmp(token, "rt_live_", 8) != 0 ||
	    strlen(token) >= RT_APIKEY_MAX)
		return EACCES;
	rt_auth_hash(a, token, hash);
	err = rt_store_begin(a->store, false, &tx);
	if (err)
		return err;
	err = rt_store_apikey_auth(tx, hash, &k, &p->account, &usable);
	err = finish_read(tx, err);
	if (err == ENOENT)
		err = EACCES;
	if (!err && k.revoked_at)
		err = EKEYREVOKED;
	if (!err && k.expires_at && k.expires_at <= now)
		err = EKEYEXPIRED;
	if (!err && !usable)
		err = EPERM;
	if (err)
		return err;

	p->kind = RT_PRINCIPAL_KEY;
	p->id = k.id;
	p->session_id = 0;
	p->scopes = k.scopes;
	p->role[0] = '\0';
	p->csrf[0] = '\0';
	rt_strlcpy(p->name, k.name, sizeof(p->name));

	if (now - k.last_used_at >= TOUCH_EVERY_MS) {
		err = rt_store_begin(a->store, true, &tx);
		if (!err) {
			err = rt_store_apikey_touch(tx, k.id, now);
			err = finish_read(tx, err);
		}
		if (err) /* not worth failing the request over */
			rt_warn("cannot record key use", "key=%lld err=%d",
				(long long)k.id, err);
	}
	return 0;
}

int rt_auth_cookie(struct rt_auth *a, const char *token, struct rt_principal *p)
{
	char hash[RT_HASH_HEX];
	struct rt_websession w;
	struct rt_store_tx *tx;
	struct rt_user u;
	int err;

	if (strlen(token) > 60)
		return EACCES;
	rt_auth_hash(a, token, hash);
	err = rt_store_begin(a->store, false, &tx);
	if (err)
		return err;
	err = rt_store_websession_by_hash(tx, hash, rt_now_ms(), &w);
	if (err == ENOENT)
		err = EACCES;
	if (!err)
		err = rt_store_account_get(tx, w.account_id, w.account_id,
					   &p->account);
	if (!err)
		err = rt_store_user_by_id(tx, w.user_id, &u);
	if (!err)
		err = rt_store_account_usable(tx, w.account_id);
	err = finish_read(tx, err);
	if (err)
		return err;
	p->kind = RT_PRINCIPAL_USER;
	p->id = w.user_id;
	p->session_id = w.id;
	p->scopes = rt_auth_role_scopes(w.role);
	rt_strlcpy(p->role, w.role, sizeof(p->role));
	rt_strlcpy(p->csrf, w.csrf, sizeof(p->csrf));
	rt_strlcpy(p->name, u.email, sizeof(p->name));
	return 0;
}

bool rt_auth_csrf_ok(const struct rt_principal *p, const char *token)
{
	size_t n = strlen(p->csrf);

	return token && n && strlen(token) == n &&
	       sodium_memcmp(p->csrf, token, n) == 0;
}

int rt_auth_login(struct rt_auth *a, const char *email, const char *password,
		  int64_t account_id, const char *ip, struct rt_login *out,
		  unsigned *retry_sp)
{
	char pw_hash[RT_PWHASH_MAX], tok_hash[RT_HASH_HEX];
	struct rt_websession w = {0};
	struct rt_membership m;
	struct rt_store_tx *tx;
	int64_t now = rt_now_ms();
	bool ok;
	int err;

	*retry_sp = rt_auth_limiter_check(&a->limiter, ip, email, now);
	if (*retry_sp)
		return EAGAIN;

	err = rt_store_begin(a->store, false, &tx);
	if (err)
		return err;
	err = rt_store_user_by_email(tx, email, &out->user, pw_hash,
				     sizeof(pw_hash));
	rt_store_rollback(tx);
	if (err && err != ENOENT)
		return err;
	/* Hash against a dummy when the email is unknown, so that the answer
	 * takes as long as for a known one. */
	if (err == ENOENT) {
		pthread_mutex_lock(&a->dummy_lock);
		if (!a->dummy_hash[0]) {
			char pw[32];

			rt_auth_token(pw, sizeof(pw), 16);
			if (rt_auth_password_hash(pw, a->dummy_hash))
				a->dummy_hash[0] = '\0';
		}
		pthread_mutex_unlock(&a->dummy_lock);
		rt_auth_password_verify(a->dummy_hash, password);
		ok = false;
	} else {
		ok = rt_auth_password_verify(pw_hash, password) &&
		     strcmp(out->user.status, "active") == 0;
	}
	sodium_memzero(pw_hash, sizeof(pw_hash));
	if (!ok) {
		rt_auth_limiter_fail(&a->limiter, ip, email, now);
		rt_info("login failed", "ip=%s", ip);
		return EACCES;
	}

	err = rt_store_begin(a->store, true, &tx);
	if (err)
		return err;
	err = rt_store_membership_for_login(tx, out->user.id, account_id, &m);
	if (!err && !account_id)
		account_id = m.account_id;
	if (!err)
		err = rt_store_account_get(tx, m.account_id, account_id,
					   &out->principal.account);
	if (!err)
		err = rt_store_account_usable(tx, account_id);
	if (!err) {
		rt_auth_token(out->token, sizeof(out->token), 32);
		rt_auth_token(w.csrf, sizeof(w.csrf), 24);
		rt_auth_hash(a, out->token, tok_hash);
		w.user_id = out->user.id;
		w.account_id = account_id;
		w.membership_id = m.id;
		w.created_at = now;
		w.expires_at = now + (int64_t)a->conf->session_ttl;
		err = rt_store_websession_create(tx, &w, tok_hash);
	}
	if (!err)
		err = rt_store_user_touch_login(tx, out->user.id, now);
	if (!err)
		err = rt_store_websession_purge(tx, now);
	err = finish_read(tx, err);
	if (err)
		return err;
	rt_auth_limiter_clear(&a->limiter, ip, email);

	out->expires_at = w.expires_at;
	out->user.last_login_at = now;
	out->principal.kind = RT_PRINCIPAL_USER;
	out->principal.id = out->user.id;
	out->principal.session_id = w.id;
	out->principal.scopes = rt_auth_role_scopes(m.role);
	rt_strlcpy(out->principal.role, m.role, sizeof(out->principal.role));
	rt_strlcpy(out->principal.csrf, w.csrf, sizeof(out->principal.csrf));
	rt_strlcpy(out->principal.name, out->user.email,
		   sizeof(out->principal.name));
	return 0;
}

int rt_auth_logout(struct rt_auth *a, const struct rt_principal *p)
{
	struct rt_store_tx *tx;
	int err;

	if (p->kind != RT_PRINCIPAL_USER || !p->session_id)
		return EINVAL;
	err = rt_store_begin(a->store, true, &tx);
	if (err)
		return err;
	err = rt_store_websession_delete(tx, p->session_id);
	return finish_read(tx, err);
}

int rt_auth_bootstrap(struct rt_auth *a, struct rt_bootstrap *out)
{
	struct rt_account acct = {0};
	struct rt_user u = {0};
	struct rt_apikey k = {0};
	char pw_hash[RT_PWHASH_MAX], key_hash[RT_HASH_HEX];
	struct rt_store_tx *tx;
	int64_t n = 0;
	int err;

	/* A cheap look first: the usual start finds accounts and should not
	 * pay for a password hash.  The write transaction checks again. */
	err = rt_store_begin(a->store, false, &tx);
	if (err)
		return err;
	err = rt_store_account_count(tx, &n);
	rt_store_rollback(tx);
	if (!err && n > 0)
		err = EEXIST;
	if (err)
		return err;

	rt_auth_token(out->password, sizeof(out->password), 15);
	err = rt_auth_password_hash(out->password, pw_hash);
	if (err)
		return err;
	/* The write lock is taken first, so of two processes starting on one
	 * empty database only one creates the demo. */
	err = rt_store_begin(a->store, true, &tx);
	if (err)
		return err;
	err = rt_store_account_count(tx, &n);
	if (!err && n > 0)
		err = EEXIST;
	if (err)
		goto out;

	rt_strlcpy(acct.name, "Demo Agency", sizeof(acct.name));
	rt_strlcpy(acct.kind, "agency", sizeof(acct.kind));
	rt_strlcpy(acct.time_zone, "UTC", sizeof(acct.time_zone));
	rt_strlcpy(acct.currency, "USD", sizeof(acct.currency));
	err = rt_store_account_create_root(tx, &acct);
	if (err)
		goto out;

	rt_strlcpy(u.email, "admin@example.com", sizeof(u.email));
	rt_strlcpy(u.name, "Admin", sizeof(u.name));
	err = rt_store_user_create(tx, 0, &u, pw_hash, acct.id, "owner");
	if (err)
		goto out;

	k.account_id = acct.id;
	k.scopes = RT_SCOPE_ALL;
	rt_strlcpy(k.name, "bootstrap admin key", sizeof(k.name));
	rt_auth_apikey_generate(a, out->api_key, k.prefix, key_hash);
	err = rt_store_apikey_create(tx, 0, &k, key_hash);
	if (err)
		goto out;
	{
		struct rt_audit au = {.account_id = acct.id,
				      .object_id = acct.id,
				      .details = "{\"demo\":true}"};

		rt_strlcpy(au.actor_type, "system", sizeof(au.actor_type));
		rt_strlcpy(au.action, "account.bootstrap", sizeof(au.action));
		rt_strlcpy(au.object_type, "account", sizeof(au.object_type));
		err = rt_store_audit_add(tx, &au);
	}
out:
	sodium_memzero(pw_hash, sizeof(pw_hash));
	if (err) {
		rt_store_rollback(tx);
		return err;
	}
	err = rt_store_commit(tx);
	if (!err) {
		out->account_id = acct.id;
		rt_strlcpy(out->email, u.email, sizeof(out->email));
	}
	return err;
}
