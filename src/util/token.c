/* Random public tokens and ids (libsodium's generator, buffered). */
#include <string.h>

#include <sodium.h>

#include "util/util.h"

#define AHEAD 1024

static _Thread_local struct {
	unsigned char b[AHEAD];
	size_t left; /* unread bytes, at the end of b */
} ahead;

void rt_random_bytes(void *out, size_t n)
{
	unsigned char *o = out;

	if (n > AHEAD / 4) {
		randombytes_buf(out, n);
		return;
	}
	while (n) {
		size_t k;
		unsigned char *from;

		if (!ahead.left) {
			randombytes_buf(ahead.b, AHEAD);
			ahead.left = AHEAD;
		}
		k = n < ahead.left ? n : ahead.left;
		from = ahead.b + AHEAD - ahead.left;
		memcpy(o, from, k);
		sodium_memzero(from, k);
		ahead.left -= k;
		o += k;
		n -= k;
	}
}

void rt_random_token(char *out, size_t size, const char *prefix, size_t n)
{
	static const char digits[] = "abcdefghijkmnpqrstuvwxyz23456789";
	size_t p = strlen(prefix);
	unsigned char raw[64];

	if (n > sizeof(raw))
		n = sizeof(raw);
	if (p + n + 1 > size)
		RT_BUG("token of %zu characters does not fit in %zu", p + n,
		       size);
	rt_random_bytes(raw, n);
	memcpy(out, prefix, p);
	for (size_t i = 0; i < n; i++)
		out[p + i] = digits[raw[i] & 31];
	out[p + n] = '\0';
}
