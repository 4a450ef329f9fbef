/*
 * libFuzzer target for device classification: the input is a User-Agent
 * (cut at its first NUL, as a header would be).  ASan reports any read
 * past its end, which is exactly where it ends in an exact heap block;
 * every result must have its fields NUL-terminated printable ASCII and a
 * bot name exactly when it is a bot, and classifying again must give the
 * same answer (no hidden state).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dni/device.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s, size_t size, const char *name)
{
	const char *nul = memchr(s, '\0', size);

	if (!nul) {
		fprintf(stderr, "%s is not NUL-terminated\n", name);
		abort();
	}
	for (const char *p = s; p < nul; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			fprintf(stderr, "%s has byte 0x%02x\n", name,
				(unsigned char)*p);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_device d, again;
	size_t n = strnlen((const char *)data, size);
	char *ua = malloc(n + 1);

	if (!ua)
		return 0;
	memcpy(ua, data, n);
	ua[n] = '\0';
	memset(&d, 0x5a, sizeof(d));
	rt_dni_device(ua, &d);
	check_string(d.browser, sizeof(d.browser), "browser");
	check_string(d.browser_version, sizeof(d.browser_version),
		     "browser_version");
	check_string(d.os, sizeof(d.os), "os");
	check_string(d.bot, sizeof(d.bot), "bot");
	if ((unsigned)d.cls > RT_DEVICE_BOT || !d.browser[0] || !d.os[0] ||
	    (d.cls == RT_DEVICE_BOT) != (d.bot[0] != '\0')) {
		fprintf(stderr, "class %d with bot '%s'\n", (int)d.cls, d.bot);
		abort();
	}
	memset(&again, 0, sizeof(again));
	rt_dni_device(ua, &again);
	if (memcmp(&d, &again, sizeof(d)) != 0) {
		fprintf(stderr, "a second run differs\n");
		abort();
	}
	free(ua);
	return 0;
}
