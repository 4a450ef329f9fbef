/*
 * libFuzzer target for the JSON request body of one route.  The file is built
 * once per route with -DRT_FUZZ_ROUTE="METHOD /pattern"; at start it looks
 * the route up in the route table and feeds every input to its check_body,
 * which runs exactly the parsing and validation the handler runs before it
 * touches the store.  Besides the sanitizers' findings, an answer other than
 * 0 or a documented client error for a bad body is a bug.
 *
 * With RT_FUZZ_LIST_ROUTES set in the environment it prints every route that
 * has a body check and exits, so that a test can hold the list of targets
 * built in CMakeLists.txt to the route table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "util/util.h"

#ifndef RT_FUZZ_ROUTE
#error "build with -DRT_FUZZ_ROUTE=\"METHOD /pattern\""
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int (*check_body)(const char *data, size_t len);

static void list_routes(void)
{
	for (size_t i = 0; i < rt_http_route_count(); i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);

		if (ri->check_body)
			printf("%s %s\n", ri->method, ri->pattern);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *want = RT_FUZZ_ROUTE;
	const char *sp = strchr(want, ' ');

	rt_log_set_level(RT_LOG_ERROR);
	if (getenv("RT_FUZZ_LIST_ROUTES")) {
		list_routes();
		exit(0);
	}
	if (!sp) {
		fprintf(stderr, "RT_FUZZ_ROUTE '%s' is not 'METHOD /pattern'\n",
			want);
		exit(2);
	}
	for (size_t i = 0; i < rt_http_route_count(); i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);

		if (strlen(ri->method) == (size_t)(sp - want) &&
		    strncmp(ri->method, want, (size_t)(sp - want)) == 0 &&
		    strcmp(ri->pattern, sp + 1) == 0) {
			check_body = ri->check_body;
			if (!check_body) {
				fprintf(stderr,
					"route '%s' has no body check\n", want);
				exit(2);
			}
			return 0;
		}
	}
	fprintf(stderr, "route '%s' is not in the route table\n", want);
	exit(2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int st = check_body((const char *)data, size);

	/* A bad body is the client's fault: 400 or 422, never a 5xx. */
	if (st != 0 && st != 400 && st != 422) {
		fprintf(stderr, "%s: body check answered %d\n", RT_FUZZ_ROUTE,
			st);
		abort();
	}
	/* Nothing outside the request may change the verdict. */
	if (check_body((const char *)data, size) != st) {
		fprintf(stderr, "%s: body check is not deterministic\n",
			RT_FUZZ_ROUTE);
		abort();
	}
	return 0;
}
