/* Login rate limiting: failed attempts per address and per email. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"

static uint64_t slot_key(const char *kind, const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *kind; kind++)
		h = (h ^ (unsigned char)*kind) * 1099511628211ull;
	/* Emails compare case-insensitively here as in the store. */
	for (; s && *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) *
		    1099511628211ull;
	return h ? h : 1;
}

void rt_auth_limiter_init(struct rt_limiter *l, unsigned max_failures,
			  uint64_t window_ms)
{
	pthread_mutex_init(&l->lock, NULL);
	l->max_failures = max_failures;
	l->window_ms = (int64_t)window_ms;
	/* NULL on ENOMEM: the limiter then counts nothing, logins still work.
	 */
	l->slots = calloc(RT_LIMITER_SLOTS, sizeof(*l->slots));
}

void rt_auth_limiter_release(struct rt_limiter *l)
{
	free(l->slots);
	l->slots = NULL;
	pthread_mutex_destroy(&l->lock);
}

static struct rt_limiter_slot *find(struct rt_limiter *l, uint64_t key,
				    int64_t now, bool create)
{
	struct rt_limiter_slot *oldest = NULL;
	size_t start = (size_t)(key % RT_LIMITER_SLOTS);

	if (!l->slots)
		return NULL;
	/* Probe a short neighbourhood; expired or free slots are reusable. */
	for (size_t i = 0; i < 16; i++) {
		struct rt_limiter_slot *s =
			&l->slots[(start + i) % RT_LIMITER_SLOTS];

		if (s->key == key) {
			if (now - s->window_start >= l->window_ms) {
				s->failures = 0;
				s->window_start = now;
			}
			return s;
		}
		if (!oldest || s->key == 0 ||
		    (oldest->key != 0 &&
		     s->window_start < oldest->window_start))
			oldest = s;
	}
	if (!create)
		return NULL;
	oldest->key = key;
	oldest->window_start = now;
	oldest->failures = 0;
	return oldest;
}

static unsigned wait_s(struct rt_limiter *l, struct rt_limiter_slot *s,
		       int64_t now)
{
	int64_t left;

	if (!s || s->failures < l->max_failures)
		return 0;
	left = s->window_start + l->window_ms - now;
	return left > 0 ? (unsigned)((left + 999) / 1000) : 0;
}

unsigned rt_auth_limiter_check(struct rt_limiter *l, const char *ip,
			       const char *email, int64_t now)
{
	unsigned a, b;

	pthread_mutex_lock(&l->lock);
	a = wait_s(l, find(l, slot_key("ip:", ip), now, false), now);
	b = wait_s(l, find(l, slot_key("email:", email), now, false), now);
	pthread_mutex_unlock(&l->lock);
	return a > b ? a : b;
}

void rt_auth_limiter_fail(struct rt_limiter *l, const char *ip,
			  const char *email, int64_t now)
{
	struct rt_limiter_slot *s;

	pthread_mutex_lock(&l->lock);
	s = find(l, slot_key("ip:", ip), now, true);
	if (s)
		s->failures++;
	s = find(l, slot_key("email:", email), now, true);
	if (s)
		s->failures++;
	pthread_mutex_unlock(&l->lock);
}

void rt_auth_limiter_clear(struct rt_limiter *l, const char *ip,
			   const char *email)
{
	struct rt_limiter_slot *s;

	/* A success forgets the email's failures, not the address's: one
	 * good password must not reset an address guessing many accounts. */
	pthread_mutex_lock(&l->lock);
	s = find(l, slot_key("email:", email), rt_now_ms(), false);
	if (s)
		s->key = 0;
	pthread_mutex_unlock(&l->lock);
	(void)ip;
}
