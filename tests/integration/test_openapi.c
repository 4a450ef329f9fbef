/*
 * docs/openapi.yaml describes every route of the route table: for each route,
 * its path appears under `paths:` and its method beneath that path.  A new
 * route therefore fails this test until it is documented.
 *
 * Path parameters compare by position, not by name ({id} matches
 * {account_id}); the web app's catch-all {path*} may be documented as "/",
 * "/{path}" or "/{path*}".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http/http.h"

struct doc {
	char *text;
	size_t len;
};

static int setup(void **state)
{
	static struct doc d;
	char path[512];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/docs/openapi.yaml",
		 rt_test_source_dir());
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d.text = calloc(1, (size_t)n + 1);
	assert_non_null(d.text);
	d.len = fread(d.text, 1, (size_t)n, f);
	fclose(f);
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	struct doc *d = *state;

	free(d->text);
	return 0;
}

/* A path template with every {...} reduced to {}: "/v1/accounts/{}". */
static void normalize(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 3 < size; i++) {
		if (in[i] == '{') {
			while (i < len && in[i] != '}')
				i++;
			out[o++] = '{';
			out[o++] = '}';
			continue;
		}
		out[o++] = in[i];
	}
	out[o] = '\0';
}

/* Leading spaces of a line. */
static size_t indent(const char *l)
{
	size_t n = 0;

	while (l[n] == ' ')
		n++;
	return n;
}

/*
 * Scans the `paths:` block: path keys are indented once (by the indentation
 * of the first key), methods beneath them once more.  True when `method`
 * (lower case) is under a path that normalizes to `want`.
 */
static bool documented(const char *text, const char *want, const char *method)
{
	const char *l = text;
	bool in_paths = false, in_path = false;
	size_t path_indent = 0, method_indent = 0;

	for (; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t ll = strcspn(l, "\n"), ind = indent(l);
		const char *k = l + ind;
		size_t kl = ll - ind;

		while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\r'))
			kl--;
		if (kl == 0 || k[0] == '#')
			continue;
		if (ind == 0) {
			in_paths = strncmp(k, "paths:", 6) == 0;
			in_path = false;
			path_indent = 0;
			continue;
		}
		if (!in_paths)
			continue;
		if (!path_indent)
			path_indent = ind;
		if (ind == path_indent) {
			char key[512], norm[512];
			size_t n = kl;

			in_path = false;
			method_indent = 0;
			if (n && k[n - 1] == ':')
				n--;
			if (n >= 2 && (k[0] == '"' || k[0] == '\'') &&
			    k[n - 1] == k[0]) {
				k++;
				n -= 2;
			}
			if (n >= sizeof(key))
				continue;
			memcpy(key, k, n);
			key[n] = '\0';
			normalize(key, n, norm, sizeof(norm));
			in_path = strcmp(norm, want) == 0;
			continue;
		}
		if (!in_path || ind < path_indent)
			continue;
		if (!method_indent)
			method_indent = ind;
		if (ind == method_indent && kl == strlen(method) + 1 &&
		    strncmp(k, method, strlen(method)) == 0 && k[kl - 1] == ':')
			return true;
	}
	return false;
}

static void test_every_route_documented(void **state)
{
	struct doc *d = *state;
	size_t n = rt_http_route_count(), missing = 0;

	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);
		char method[16], norm[512];
		bool ok;
		size_t j;

		for (j = 0; ri->method[j] && j < sizeof(method) - 1; j++)
			method[j] = (char)(ri->method[j] | 0x20);
		method[j] = '\0';
		normalize(ri->pattern, strlen(ri->pattern), norm, sizeof(norm));
		ok = documented(d->text, norm, method);
		if (!ok && strstr(ri->pattern, "{path*}")) {
			/* The web app: "/" is the page the catch-all serves. */
			char root[512];
			size_t pl = (size_t)(strstr(ri->pattern, "{path*}") -
					     ri->pattern);

			normalize(ri->pattern, pl, root, sizeof(root));
			ok = documented(d->text, root, method);
		}
		if (!ok) {
			print_error(
				"docs/openapi.yaml lacks route %s %s (want "
				"'%s:' under paths: and '%s:' beneath it)\n",
				ri->method, ri->pattern, ri->pattern, method);
			missing++;
		}
	}
	if (missing)
		fail_msg("%zu of %zu routes are not in docs/openapi.yaml",
			 missing, n);
}

/* The scanner itself, on a small document, so that a pass means something. */
static void test_scanner(void **state)
{
	static const char doc[] = "openapi: 3.0.3\n"
				  "paths:\n"
				  "  /v1/accounts:\n"
				  "    get:\n"
				  "      summary: x\n"
				  "      responses:\n"
				  "        post:\n"
				  "  \"/v1/accounts/{account_id}\":\n"
				  "    # comment\n"
				  "    patch:\n"
				  "components:\n"
				  "  /v1/users:\n"
				  "    get:\n";
	(void)state;

	assert_true(documented(doc, "/v1/accounts", "get"));
	assert_false(documented(doc, "/v1/accounts", "post"));
	assert_true(documented(doc, "/v1/accounts/{}", "patch"));
	assert_false(documented(doc, "/v1/accounts/{}", "get"));
	assert_false(documented(doc, "/v1/users", "get"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_every_route_documented),
	};

	return cmocka_run_group_tests_name("openapi", tests, setup, teardown);
}
