/* Random public tokens (libsodium's generator). */
#include <string.h>

#include <sodium.h>

#include "util/util.h"

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
	randombytes_buf(raw, n);
	memcpy(out, prefix, p);
	for (size_t i = 0; i < n; i++)
		out[p + i] = digits[raw[i] & 31];
	out[p + n] = '\0';
}
