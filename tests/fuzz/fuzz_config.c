/*
 * libFuzzer target for the config-file parser: each input is parsed into a
 * fresh configuration, which is then released, so that leaks, overreads and
 * use-after-free in rt_conf_parse and rt_conf_set show up under ASan.  Every
 * refusal must come with a message naming where it happened.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rt_log_set_level(RT_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_conf c;
	char err[512] = "";
	int e;

	if (rt_conf_init(&c))
		return 0;
	e = rt_conf_parse(&c, (const char *)data, size, "fuzz.conf", err,
			  sizeof(err));
	if (e && e != ENOMEM && strncmp(err, "fuzz.conf", 9) != 0) {
		fprintf(stderr, "refused (%d) without naming the file: '%s'\n",
			e, err);
		abort();
	}
	rt_conf_release(&c);
	return 0;
}
