/*
 * Request metrics for /metrics: a counter per route and status, and a
 * latency histogram per route.  Lock-free: fixed arrays of atomics indexed
 * by route and by the position of the status in a fixed list.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "http/http_int.h"

static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404,
			       405, 409, 413, 415, 422, 429, 500, 503};
#define NSTATUS (RT_ARRAY_SIZE(statuses) + 1) /* the last is "other" */

struct route_metrics {
	_Atomic uint64_t count[NSTATUS];
	struct rt_hist latency;
};

struct rt_http_metrics {
	size_t nroutes; /* the last slot is for requests matching no route */
	struct route_metrics *routes;
};

int rt_http_metrics_alloc(struct rt_http_metrics **mp, size_t nroutes)
{
	struct rt_http_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return ENOMEM;
	m->nroutes = nroutes;
	m->routes = calloc(nroutes + 1, sizeof(*m->routes));
	if (!m->routes) {
		free(m);
		return ENOMEM;
	}
	*mp = m;
	return 0;
}

void rt_http_metrics_free(struct rt_http_metrics *m)
{
	if (!m)
		return;
	free(m->routes);
	free(m);
}

void rt_http_metrics_observe(struct rt_http_metrics *m, size_t route,
			     int status, uint64_t us)
{
	struct route_metrics *rm =
		&m->routes[route < m->nroutes ? route : m->nroutes];
	size_t i = 0;

	while (i < RT_ARRAY_SIZE(statuses) && statuses[i] != status)
		i++;
	atomic_fetch_add_explicit(&rm->count[i], 1, memory_order_relaxed);
	rt_hist_observe(&rm->latency, us);
}

void rt_http_metrics_write(struct rt_http_metrics *m, struct rt_buf *b)
{
	size_t n;
	const struct rt_route *routes = rt_http_routes(&n);
	char labels[160];

	rt_buf_puts(b,
		    "# HELP ringtrail_http_requests_total HTTP requests by "
		    "route and status.\n# TYPE ringtrail_http_requests_total "
		    "counter\n");
	for (size_t r = 0; r <= m->nroutes; r++) {
		const char *method = r < n ? routes[r].info.method : "";
		const char *route = r < n ? routes[r].info.pattern : "none";

		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t c = atomic_load(&m->routes[r].count[s]);

			if (!c)
				continue;
			if (s < RT_ARRAY_SIZE(statuses))
				rt_buf_printf(
					b,
					"ringtrail_http_requests_total{method="
					"\"%s\","
					"route=\"%s\",status=\"%d\"} %llu\n",
					method, route, statuses[s],
					(unsigned long long)c);
			else
				rt_buf_printf(
					b,
					"ringtrail_http_requests_total{method="
					"\"%s\","
					"route=\"%s\",status=\"other\"} %llu\n",
					method, route, (unsigned long long)c);
		}
	}
	rt_buf_puts(b,
		    "# HELP ringtrail_http_request_seconds HTTP request "
		    "latency by route.\n# TYPE ringtrail_http_request_seconds "
		    "histogram\n");
	for (size_t r = 0; r <= m->nroutes; r++) {
		if (!atomic_load(&m->routes[r].latency.count))
			continue;
		snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"",
			 r < n ? routes[r].info.method : "",
			 r < n ? routes[r].info.pattern : "none");
		rt_hist_write(&m->routes[r].latency, b,
			      "ringtrail_http_request_seconds", labels);
	}
}
