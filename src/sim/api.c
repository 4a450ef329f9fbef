/*
 * The simulator's client of the REST API, over libcurl's easy interface:
 * one handle, reused so that requests share a connection, JSON in and out.
 * Rate limits (429) and a busy database (503) are waited out as their
 * Retry-After asks, as a browser's dni.js would see them pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "sim/sim_int.h"
#include "version.h"

#define TIMEOUT_S	  30L
#define RETRY_FOR_MS	  60000
#define RETRY_DEFAULT_S	  1
#define RETRY_MAX_WAIT_MS 5000

struct rt_sim_api {
	CURL *curl;
	char *base; /* without a trailing slash */
	char *auth; /* "Authorization: Bearer ..." */
	char ua[64];
	char error[CURL_ERROR_SIZE];
};

struct sink {
	char *s;
	size_t len;
	int err;
};

static size_t body_h(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	char *t;

	if (k->err)
		return 0;
	t = realloc(k->s, k->len + size * n + 1);
	if (!t) {
		k->err = ENOMEM;
		return 0;
	}
	memcpy(t + k->len, p, size * n);
	k->len += size * n;
	t[k->len] = '\0';
	k->s = t;
	return size * n;
}

/* Retry-After in seconds (the only form the server sends). */
static size_t header_h(char *p, size_t size, size_t n, void *arg)
{
	unsigned *retry = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char v[16];
		size_t k = 0;

		for (size_t i = sizeof(name) - 1; i < len && k + 1 < sizeof(v);
		     i++) {
			if (p[i] >= '0' && p[i] <= '9')
				v[k++] = p[i];
		}
		v[k] = '\0';
		if (k)
			*retry = (unsigned)strtoul(v, NULL, 10);
	}
	return len;
}

int rt_sim_api_alloc(struct rt_sim_api **ap, const char *url, const char *key)
{
	struct rt_sim_api *a;
	size_t n;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ENOMEM;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ENOMEM;
	a->base = rt_strdup(url);
	a->auth = rt_asprintf("Authorization: Bearer %s", key ? key : "");
	a->curl = curl_easy_init();
	if (!a->base || !a->auth || !a->curl) {
		rt_sim_api_free(a);
		return ENOMEM;
	}
	n = strlen(a->base);
	while (n && a->base[n - 1] == '/')
		a->base[--n] = '\0';
	snprintf(a->ua, sizeof(a->ua), "ringtrail-simulate/%s", RT_VERSION);
	*ap = a;
	return 0;
}

void rt_sim_api_free(struct rt_sim_api *a)
{
	if (!a)
		return;
	if (a->curl)
		curl_easy_cleanup(a->curl);
	free(a->base);
	if (a->auth) {
		memset(a->auth, 0, strlen(a->auth));
		free(a->auth);
	}
	free(a);
	curl_global_cleanup();
}

const char *rt_sim_api_base(const struct rt_sim_api *a)
{
	return a->base;
}

const char *rt_sim_api_error(const struct rt_sim_api *a)
{
	return a->error;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One try: 0 with the status, or ECONNREFUSED, ENOMEM. */
static int perform(struct rt_sim_api *a, const char *method, const char *url,
		   const char *body, const char *ua, bool auth,
		   struct rt_sim_resp *r, unsigned *retry)
{
	struct curl_slist *hl;
	struct sink k = {0};
	CURL *c = a->curl;
	CURLcode rc;
	int err = 0;

	curl_easy_reset(c);
	a->error[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->error);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, ua ? ua : a->ua);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_h);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_h);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, retry);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(body));
	}
	/* No 100-continue round trip.  Appending to a list returns its head,
	 * or NULL (the list unchanged) when out of memory. */
	hl = curl_slist_append(NULL, "Expect:");
	if (hl && body &&
	    !curl_slist_append(hl, "Content-Type: application/json"))
		err = ENOMEM;
	if (hl && auth && !curl_slist_append(hl, a->auth))
		err = ENOMEM;
	if (!hl || err) {
		curl_slist_free_all(hl);
		return ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	if (k.err) {
		free(k.s);
		return k.err;
	}
	if (rc != CURLE_OK) {
		if (!a->error[0])
			rt_strlcpy(a->error, curl_easy_strerror(rc),
				   sizeof(a->error));
		free(k.s);
		return ECONNREFUSED;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = k.s ? k.s : rt_strdup("");
	if (!r->body)
		err = ENOMEM;
	else
		r->json = json_loadb(r->body, k.len, 0, NULL);
	return err;
}

int rt_sim_api_call(struct rt_sim_api *a, const char *method, const char *path,
		    const json_t *body, const char *ua, bool auth,
		    struct rt_sim_resp *r)
{
	char *url = rt_asprintf("%s%s", a->base, path), *text = NULL;
	uint64_t waited = 0;
	int err;

	memset(r, 0, sizeof(*r));
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	if (!url || (body && !text)) {
		free(url);
		free(text);
		return ENOMEM;
	}
	for (;;) {
		unsigned retry = 0;
		uint64_t ms;

		err = perform(a, method, url, text, ua, auth, r, &retry);
		if (err || (r->status != 429 && r->status != 503) ||
		    waited >= RETRY_FOR_MS)
			break;
		ms = (uint64_t)(retry ? retry : RETRY_DEFAULT_S) * 1000;
		if (ms > RETRY_MAX_WAIT_MS)
			ms = RETRY_MAX_WAIT_MS;
		rt_sim_resp_release(r);
		sleep_ms(ms);
		waited += ms;
	}
	free(url);
	free(text);
	return err;
}

void rt_sim_resp_release(struct rt_sim_resp *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

const char *rt_sim_json_str(const json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s ? s : "";
}

const char *rt_sim_resp_why(const struct rt_sim_resp *r, char *out, size_t size)
{
	const json_t *e = json_object_get(r->json, "error");

	if (json_is_object(e))
		snprintf(out, size, "%ld %s: %s", r->status,
			 rt_sim_json_str(e, "code"),
			 rt_sim_json_str(e, "message"));
	else
		snprintf(out, size, "%ld: %.120s", r->status,
			 r->body ? r->body : "");
	return out;
}

char *rt_sim_api_escape(struct rt_sim_api *a, const char *s)
{
	char *e = curl_easy_escape(a->curl, s, 0), *copy;

	if (!e)
		return NULL;
	copy = rt_strdup(e);
	curl_free(e);
	return copy;
}
