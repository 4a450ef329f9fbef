/*
 * auth: who is calling.  Passwords (argon2id), API keys (random 256-bit
 * secrets stored as keyed BLAKE2b hashes), dashboard login sessions with a
 * CSRF token, login rate limiting, roles and scopes, and the first-start
 * bootstrap of the demo account.
 *
 * struct rt_auth holds the server secret and the login limiter; it borrows
 * the configuration and the store, which must outlive it.
 */
#ifndef RT_AUTH_H
#define RT_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/util.h"

/* Scopes of an API key; a user's role implies a set of them. */
#define RT_SCOPE_READ  0x1u
#define RT_SCOPE_WRITE 0x2u
#define RT_SCOPE_ADMIN 0x4u
#define RT_SCOPE_ALL   (RT_SCOPE_READ | RT_SCOPE_WRITE | RT_SCOPE_ADMIN)

/* Scopes nest: admin includes write, write includes read.  Returns scopes
 * with what they include added; keys are stored with their closure. */
unsigned rt_auth_scopes_close(unsigned scopes);
/* "read", "write", "admin" -> bit; 0 when unknown. */
unsigned rt_auth_scope_parse(const char *name);
/* The names of the bits of scopes, in order, for JSON output. */
size_t rt_auth_scope_names(unsigned scopes, const char *names[3]);

/* Roles, lowest to highest: agent, analyst, admin, owner.  Rank 0 = unknown. */
int rt_auth_role_rank(const char *role);
unsigned rt_auth_role_scopes(const char *role);

#define RT_HASH_HEX	65 /* hex of a 256-bit keyed hash, with NUL */
#define RT_APIKEY_MAX	64 /* "rt_live_" + 43 base64url chars, with NUL */
#define RT_PWHASH_MAX	128
#define RT_SECRET_BYTES 32

/* Loads the 32-byte server secret from path (hex), creating it with mode
 * 0600 when missing.  Returns errno values; the message goes to the log. */
int rt_auth_secret_load(const char *path, uint8_t key[RT_SECRET_BYTES]);
/* The secret file for a configuration: secret_file, or ringtrail.key in the
 * database's folder.  Caller frees. */
char *rt_auth_secret_path(const struct rt_conf *conf);

struct rt_auth;
/* conf and store are borrowed. */
int rt_auth_alloc(struct rt_auth **ap, const struct rt_conf *conf,
		  struct rt_store *store, const uint8_t key[RT_SECRET_BYTES]);
void rt_auth_free(struct rt_auth *a);

/* Passwords: 10 to 256 bytes.  EINVAL with a reason when the policy fails. */
int rt_auth_password_check(const char *pw, const char **reasonp);
int rt_auth_password_hash(const char *pw, char out[RT_PWHASH_MAX]);
bool rt_auth_password_verify(const char *hash, const char *pw);

/* Keyed hash of a secret (API key, cookie token) as lowercase hex. */
void rt_auth_hash(const struct rt_auth *a, const char *secret,
		  char out[RT_HASH_HEX]);

/* A new API key: the secret (show once), its visible prefix and its hash. */
int rt_auth_apikey_generate(const struct rt_auth *a, char key[RT_APIKEY_MAX],
			    char prefix[RT_KEY_PREFIX_MAX],
			    char hash[RT_HASH_HEX]);

/* Random URL-safe token of n bytes of entropy into out (size >= 2n). */
void rt_auth_token(char *out, size_t size, size_t n);

enum rt_principal_kind { RT_PRINCIPAL_KEY = 1, RT_PRINCIPAL_USER };

/* The caller of a request, as resolved by rt_auth_bearer or rt_auth_cookie. */
struct rt_principal {
	enum rt_principal_kind kind;
	int64_t id;		   /* API key id, or user id */
	int64_t session_id;	   /* dashboard session, for users */
	unsigned scopes;	   /* RT_SCOPE_* */
	char role[16];		   /* users: the membership's role */
	char csrf[48];		   /* users: the session's CSRF token */
	struct rt_account account; /* the account acted as: the tenant scope */
	char name[RT_NAME_MAX];	   /* key name or user email */
};

/*
 * Resolves an API key.  0, or EACCES (unknown), EKEYREVOKED, EKEYEXPIRED,
 * EPERM (account suspended), or a store error.
 */
int rt_auth_bearer(struct rt_auth *a, const char *token,
		   struct rt_principal *p);
/* Resolves a dashboard session cookie.  0, EACCES, EPERM, or a store error. */
int rt_auth_cookie(struct rt_auth *a, const char *token,
		   struct rt_principal *p);
/* Compares a CSRF token in constant time. */
bool rt_auth_csrf_ok(const struct rt_principal *p, const char *token);

/* A successful login: the cookie token (set once) and its session. */
struct rt_login {
	char token[64];
	struct rt_principal principal;
	struct rt_user user;
	int64_t expires_at;
};

/*
 * Checks email and password and opens a dashboard session acting as
 * account_id (0: the user's top membership).  EACCES for bad credentials
 * (the same for an unknown email), EAGAIN when rate limited (*retry_sp gets
 * seconds to wait), ENOENT when the user has no membership there, EPERM when
 * that account (or an agency above it) is suspended.
 */
int rt_auth_login(struct rt_auth *a, const char *email, const char *password,
		  int64_t account_id, const char *ip, struct rt_login *out,
		  unsigned *retry_sp);
int rt_auth_logout(struct rt_auth *a, const struct rt_principal *p);

/*
 * What the first start of an empty database created; the secrets are shown
 * once and never stored in clear.
 */
struct rt_bootstrap {
	int64_t account_id;
	char email[RT_EMAIL_MAX];
	char password[40];
	char api_key[RT_APIKEY_MAX];
};
/* Creates the demo account, an owner user and an admin API key when the
 * database has no account.  EEXIST when it already has one. */
int rt_auth_bootstrap(struct rt_auth *a, struct rt_bootstrap *out);

#endif
