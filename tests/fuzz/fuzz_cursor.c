/*
 * libFuzzer target for the pagination cursor codec: whatever a client sends
 * as ?cursor= must decode to a positive id or be refused, and every id that
 * decodes must encode back to a cursor that decodes to the same id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rt_log_set_level(RT_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, enc[32];
	int64_t id = 0, back = 0;

	/* Query values reach the decoder as C strings. */
	if (memchr(data, '\0', size))
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (rt_http_cursor_decode(s, &id) == 0) {
		if (id <= 0) {
			fprintf(stderr, "cursor '%s' decoded to %lld\n", s,
				(long long)id);
			abort();
		}
		rt_http_cursor_encode(id, enc);
		if (rt_http_cursor_decode(enc, &back) || back != id) {
			fprintf(stderr, "id %lld does not survive '%s'\n",
				(long long)id, enc);
			abort();
		}
	}
	free(s);
	return 0;
}
