/* Inside auth: the struct and the login rate limiter. */
#ifndef RT_AUTH_INT_H
#define RT_AUTH_INT_H

#include <pthread.h>

#include "auth/auth.h"

/*
 * Failed logins counted per client address and per email, each in a fixed
 * window that starts at the first failure.  A bounded table: when full, the
 * oldest window is dropped (an attacker flooding it frees slots, but every
 * slot still needs max failures before it blocks).
 */
#define RT_LIMITER_SLOTS 4096

struct rt_limiter_slot {
	uint64_t key; /* hash of "ip:..." or "email:..." ; 0 = free */
	int64_t window_start;
	unsigned failures;
};

struct rt_limiter {
	pthread_mutex_t lock;
	unsigned max_failures;
	int64_t window_ms;
	struct rt_limiter_slot *slots;
};

void rt_auth_limiter_init(struct rt_limiter *l, unsigned max_failures,
			  uint64_t window_ms);
void rt_auth_limiter_release(struct rt_limiter *l);
/* Seconds to wait before another try, 0 when allowed. */
unsigned rt_auth_limiter_check(struct rt_limiter *l, const char *ip,
			       const char *email, int64_t now);
void rt_auth_limiter_fail(struct rt_limiter *l, const char *ip,
			  const char *email, int64_t now);
void rt_auth_limiter_clear(struct rt_limiter *l, const char *ip,
			   const char *email);

struct rt_auth {
	const struct rt_conf *conf;
	struct rt_store *store;
	uint8_t key[RT_SECRET_BYTES];
	struct rt_limiter limiter;
	pthread_mutex_t dummy_lock;
	char dummy_hash[RT_PWHASH_MAX]; /* for unknown emails; made lazily */
};

#endif
