/* Health, readiness, metrics, the OpenAPI document, and the web app's files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dni/dni.h"
#include "http/http_int.h"
#include "media/record.h"

#define RT_LOG_MODULE "http"

void rt_api_healthz(struct rt_req *r)
{
	rt_http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void rt_api_readyz(struct rt_req *r)
{
	int err = rt_store_ping(r->srv->store);

	if (err) {
		rt_warn("not ready", "err=%d", err);
		rt_http_json(r, 503,
			     json_pack("{s:s,s:s}", "status", "unavailable",
				       "store", "unreachable"));
		return;
	}
	rt_http_json(r, 200,
		     json_pack("{s:s,s:s}", "status", "ready", "store",
			       rt_store_backend(r->srv->store)));
}

void rt_api_metrics(struct rt_req *r)
{
	struct rt_buf b;
	size_t len;
	char *s;

	rt_buf_init(&b);
	rt_http_metrics_write(r->srv->metrics, &b);
	rt_store_metrics(r->srv->store, &b);
	if (r->srv->dni)
		rt_dni_metrics(r->srv->dni, &b);
	if (r->srv->recorder)
		rt_recorder_metrics(r->srv->recorder, &b);
	rt_buf_printf(
		&b,
		"# HELP ringtrail_http_requests_in_flight Requests being "
		"handled.\n# TYPE ringtrail_http_requests_in_flight gauge\n"
		"ringtrail_http_requests_in_flight %u\n",
		rt_http_inflight(r->srv));
	if (b.err) {
		rt_buf_release(&b);
		rt_http_fail(r, ENOMEM, "writing metrics");
		return;
	}
	s = rt_buf_detach(&b, &len);
	rt_http_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", s,
		     len);
}

void rt_api_openapi(struct rt_req *r)
{
	char *s = malloc(rt_http_openapi_len + 1);

	if (!s) {
		rt_http_fail(r, ENOMEM, "serving openapi");
		return;
	}
	memcpy(s, rt_http_openapi, rt_http_openapi_len + 1);
	rt_http_body(r, 200, "application/yaml; charset=utf-8", s,
		     rt_http_openapi_len);
	r->cache_control = "no-cache";
}

static const char *mime_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".json", "application/json"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".woff2", "font/woff2"},
		{".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < RT_ARRAY_SIZE(types); i++) {
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Only plain names: no "..", no hidden files, no empty segments. */
static bool safe_path(const char *p)
{
	const char *seg = p;

	if (strlen(p) > 200)
		return false;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 0 || seg[0] == '.')
			return false;
		for (size_t i = 0; i < len; i++) {
			char c = seg[i];

			if (!((c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			      c == '.'))
				return false;
		}
		if (!end)
			return true;
		seg = end + 1;
	}
}

void rt_api_static(struct rt_req *r)
{
	const char *rel = r->tail && *r->tail ? r->tail : "index.html";
	char *full, *body;
	struct stat st;
	ssize_t n;
	int fd;

	if (!safe_path(rel)) {
		rt_http_error(r, 404, "not_found", NULL, "no such file");
		return;
	}
	full = rt_asprintf("%s/%s", r->srv->conf->web_root, rel);
	if (!full) {
		rt_http_fail(r, ENOMEM, "serving a file");
		return;
	}
	fd = open(full, O_RDONLY | O_CLOEXEC);
	free(full);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (16 << 20)) {
		if (fd >= 0)
			close(fd);
		rt_http_error(r, 404, "not_found", NULL, "no such file");
		return;
	}
	body = malloc((size_t)st.st_size + 1);
	n = body ? read(fd, body, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(body);
		rt_http_fail(r, EIO, "reading a file");
		return;
	}
	rt_http_body(r, 200, mime_type(rel), body, (size_t)n);
	/* The app is small and changes with each release: revalidate. */
	r->cache_control = "no-cache";
}

/*
 * The DNI script that customers' sites load: public, readable from any
 * origin, and cached for a few minutes since every page view asks for it.
 * Sites pin a version with "?v=1" (the only one so far; without v, the
 * latest): a version this server does not have is 404, so that a pinned
 * page never runs a script it was not written for.
 */
#define DNI_JS_VERSION "1"
void rt_api_dni_js(struct rt_req *r)
{
	const char *v = MHD_lookup_connection_value(r->conn,
						    MHD_GET_ARGUMENT_KIND, "v");

	if (v && strcmp(v, DNI_JS_VERSION) != 0) {
		rt_http_error(r, 404, "not_found", "v",
			      "this server has dni.js version %s only",
			      DNI_JS_VERSION);
		return;
	}
	r->tail = "dni/dni.js";
	rt_api_static(r);
	rt_http_header(r, "Access-Control-Allow-Origin", "*");
	if (r->status == 200)
		r->cache_control = "public, max-age=300";
}
