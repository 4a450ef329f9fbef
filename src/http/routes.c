/*
 * The route table: every route of the server, in one place.  Tests (tenant
 * isolation, OpenAPI coverage) and the fuzz targets walk this table, so a
 * new route is covered by them as soon as it is added here.
 *
 * Patterns: literal segments, {id} (a positive integer, in r->id), and a
 * final {path*} (the rest of the path, in r->tail; never /v1/...).  A HEAD
 * request matches GET routes; libmicrohttpd leaves the body out.
 */
#include <string.h>

#include "http/http_int.h"

#define R   RT_SCOPE_READ
#define W   RT_SCOPE_WRITE
#define A   RT_SCOPE_ADMIN
#define PUB RT_ROUTE_PUBLIC
/* Public and cross-origin: rate limited per client address too. */
#define CORS (RT_ROUTE_CORS | RT_ROUTE_LIMITED)

static const struct rt_route routes[] = {
	{{"GET", "/healthz", 0, PUB, NULL}, rt_api_healthz},
	{{"GET", "/readyz", 0, PUB, NULL}, rt_api_readyz},
	{{"GET", "/metrics", 0, PUB, NULL}, rt_api_metrics},
	{{"GET", "/v1/openapi.yaml", 0, PUB, NULL}, rt_api_openapi},
	{{"GET", "/dni.js", 0, PUB, NULL}, rt_api_dni_js},

	{{"POST", "/v1/sessions", 0, PUB, rt_api_login_check}, rt_api_login},
	{{"DELETE", "/v1/sessions/current", R, RT_ROUTE_COOKIE_ONLY, NULL},
	 rt_api_logout},
	{{"GET", "/v1/me", R, 0, NULL}, rt_api_me},

	{{"GET", "/v1/accounts", R, 0, NULL}, rt_api_accounts_list},
	{{"POST", "/v1/accounts", A, 0, rt_api_accounts_create_check},
	 rt_api_accounts_create},
	{{"GET", "/v1/accounts/{id}", R, 0, NULL}, rt_api_accounts_get},
	{{"PATCH", "/v1/accounts/{id}", A, 0, rt_api_accounts_update_check},
	 rt_api_accounts_update},
	{{"POST", "/v1/accounts/{id}/site-key", A, 0,
	  rt_api_accounts_site_key_check},
	 rt_api_accounts_site_key},

	{{"GET", "/v1/users", R, 0, NULL}, rt_api_users_list},
	{{"POST", "/v1/users", A, 0, rt_api_users_create_check},
	 rt_api_users_create},
	{{"GET", "/v1/users/{id}", R, 0, NULL}, rt_api_users_get},
	{{"PATCH", "/v1/users/{id}", A, 0, rt_api_users_update_check},
	 rt_api_users_update},

	{{"GET", "/v1/memberships", R, 0, NULL}, rt_api_memberships_list},
	{{"POST", "/v1/memberships", A, 0, rt_api_memberships_create_check},
	 rt_api_memberships_create},
	{{"GET", "/v1/memberships/{id}", R, 0, NULL}, rt_api_memberships_get},
	{{"PATCH", "/v1/memberships/{id}", A, 0,
	  rt_api_memberships_update_check},
	 rt_api_memberships_update},
	{{"DELETE", "/v1/memberships/{id}", A, 0, NULL},
	 rt_api_memberships_delete},

	{{"GET", "/v1/api-keys", A, 0, NULL}, rt_api_keys_list},
	{{"POST", "/v1/api-keys", A, 0, rt_api_keys_create_check},
	 rt_api_keys_create},
	{{"GET", "/v1/api-keys/{id}", A, 0, NULL}, rt_api_keys_get},
	{{"DELETE", "/v1/api-keys/{id}", A, 0, NULL}, rt_api_keys_revoke},

	{{"GET", "/v1/audit-log", A, 0, NULL}, rt_api_audit_list},

	{{"GET", "/v1/numbers", R, 0, NULL}, rt_api_numbers_list},
	{{"POST", "/v1/numbers", W, 0, rt_api_numbers_create_check},
	 rt_api_numbers_create},
	{{"POST", "/v1/numbers/import", W, RT_ROUTE_RAW_BODY, NULL},
	 rt_api_numbers_import},
	{{"GET", "/v1/numbers/{id}", R, 0, NULL}, rt_api_numbers_get},
	{{"PATCH", "/v1/numbers/{id}", W, 0, rt_api_numbers_update_check},
	 rt_api_numbers_update},
	{{"DELETE", "/v1/numbers/{id}", W, 0, NULL}, rt_api_numbers_release},

	{{"GET", "/v1/calls", R, 0, NULL}, rt_api_calls_list},
	{{"GET", "/v1/calls/{id}", R, 0, NULL}, rt_api_calls_get},
	{{"GET", "/v1/calls/{id}/recording", R, 0, NULL},
	 rt_api_calls_recording_get},
	{{"DELETE", "/v1/calls/{id}/recording", W, 0, NULL},
	 rt_api_calls_recording_delete},
	{{"GET", "/v1/pools", R, 0, NULL}, rt_api_pools_list},
	{{"POST", "/v1/pools", W, 0, rt_api_pools_create_check},
	 rt_api_pools_create},
	{{"GET", "/v1/pools/{id}", R, 0, NULL}, rt_api_pools_get},
	{{"PATCH", "/v1/pools/{id}", W, 0, rt_api_pools_update_check},
	 rt_api_pools_update},
	{{"DELETE", "/v1/pools/{id}", W, 0, NULL}, rt_api_pools_deactivate},
	{{"GET", "/v1/pools/{id}/numbers", R, 0, NULL}, rt_api_pools_numbers},
	{{"GET", "/v1/pools/{id}/health", R, 0, NULL}, rt_api_pools_health},

	/* dni.js on customers' pages: named by the site key, from any origin.
	 */
	{{"POST", "/v1/dni/sessions", 0, PUB | CORS,
	  rt_api_dni_sessions_create_check},
	 rt_api_dni_sessions_create},
	{{"POST", "/v1/dni/sessions/{id}/pageviews", 0, PUB | CORS,
	  rt_api_dni_pageviews_create_check},
	 rt_api_dni_pageviews_create},
	{{"POST", "/v1/dni/sessions/{id}/heartbeat", 0, PUB | CORS,
	  rt_api_dni_heartbeat_check},
	 rt_api_dni_heartbeat},
	{{"GET", "/v1/dni/sessions/{id}", R, 0, NULL}, rt_api_dni_sessions_get},

	{{"GET", "/v1/flows", R, 0, NULL}, rt_api_flows_list},
	{{"POST", "/v1/flows", W, 0, rt_api_flows_create_check},
	 rt_api_flows_create},
	{{"POST", "/v1/flows/validate", W, 0, rt_api_flows_validate_check},
	 rt_api_flows_validate},
	{{"GET", "/v1/flows/{id}", R, 0, NULL}, rt_api_flows_get},
	{{"PATCH", "/v1/flows/{id}", W, 0, rt_api_flows_update_check},
	 rt_api_flows_update},
	{{"DELETE", "/v1/flows/{id}", W, 0, NULL}, rt_api_flows_delete},
	{{"GET", "/v1/flows/{id}/versions", R, 0, NULL}, rt_api_flows_versions},
	{{"POST", "/v1/flows/{id}/simulate", W, 0, rt_api_flows_simulate_check},
	 rt_api_flows_simulate},

	/* Audio files for flows' prompts: the file itself is the body. */
	{{"GET", "/v1/audio", R, 0, NULL}, rt_api_audio_list},
	{{"POST", "/v1/audio", W, RT_ROUTE_RAW_BODY | RT_ROUTE_UPLOAD, NULL},
	 rt_api_audio_create},
	{{"GET", "/v1/audio/{id}", R, 0, NULL}, rt_api_audio_get},
	{{"GET", "/v1/audio/{id}/file", R, 0, NULL}, rt_api_audio_file},
	{{"DELETE", "/v1/audio/{id}", W, 0, NULL}, rt_api_audio_delete},

	{{"GET", "/v1/source-rules", R, 0, NULL}, rt_api_source_rules_list},
	{{"POST", "/v1/source-rules", W, 0, rt_api_source_rules_create_check},
	 rt_api_source_rules_create},
	{{"GET", "/v1/source-rules/{id}", R, 0, NULL}, rt_api_source_rules_get},
	{{"PATCH", "/v1/source-rules/{id}", W, 0,
	  rt_api_source_rules_update_check},
	 rt_api_source_rules_update},
	{{"DELETE", "/v1/source-rules/{id}", W, 0, NULL},
	 rt_api_source_rules_delete},

	/* The web app; last, so that it only gets what nothing else took. */
	{{"GET", "/{path*}", 0, PUB, NULL}, rt_api_static},
};

const struct rt_route *rt_http_routes(size_t *np)
{
	*np = RT_ARRAY_SIZE(routes);
	return routes;
}

size_t rt_http_route_count(void)
{
	return RT_ARRAY_SIZE(routes);
}

const struct rt_http_route_info *rt_http_route(size_t i)
{
	return i < RT_ARRAY_SIZE(routes) ? &routes[i].info : NULL;
}

/* Matches one segment of a pattern against one of the path. */
static bool match_id(const char *s, size_t len, int64_t *idp)
{
	int64_t v = 0;

	if (len == 0 || len > 18 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*idp = v;
	return true;
}

static bool match(const char *pat, const char *path, int64_t *idp,
		  const char **tailp)
{
	while (*pat && *path) {
		const char *pe, *se;
		size_t pl, sl;

		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		if (strcmp(pat, "{path*}") == 0) {
			*tailp = path;
			return true;
		}
		pe = strchr(pat, '/');
		se = strchr(path, '/');
		pl = pe ? (size_t)(pe - pat) : strlen(pat);
		sl = se ? (size_t)(se - path) : strlen(path);
		if (pl == 4 && strncmp(pat, "{id}", 4) == 0) {
			if (!match_id(path, sl, idp))
				return false;
		} else if (pl != sl || strncmp(pat, path, pl) != 0) {
			return false;
		}
		pat += pl;
		path += sl;
	}
	return *pat == '\0' && *path == '\0';
}

size_t rt_http_match(struct rt_req *r, bool *method_ok)
{
	*method_ok = false;
	for (size_t i = 0; i < RT_ARRAY_SIZE(routes); i++) {
		int64_t id = 0;
		const char *tail = NULL;

		if (!match(routes[i].info.pattern, r->path, &id, &tail))
			continue;
		/* The API's namespace is never the web app's. */
		if (tail && (strncmp(r->path, "/v1/", 4) == 0 ||
			     strcmp(r->path, "/v1") == 0))
			continue;
		if (strcmp(routes[i].info.method, r->method) != 0 &&
		    !(strcmp(r->method, "HEAD") == 0 &&
		      strcmp(routes[i].info.method, "GET") == 0)) {
			*method_ok = true;
			continue;
		}
		r->id = id;
		r->tail = tail;
		return i;
	}
	return SIZE_MAX;
}
