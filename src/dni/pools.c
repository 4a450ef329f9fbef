/*
 * The rules of number pools, shared by the API and anything else that
 * writes a pool: what a pool needs, and which numbers may be in it.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dni/dni.h"
#include "util/phone.h"

#define FAIL(field, ...)                                                       \
	do {                                                                   \
		*fieldp = (field);                                             \
		snprintf(msg, msgsz, __VA_ARGS__);                             \
		return EINVAL;                                                 \
	} while (0)

static const char *const sources[] = {"all", "paid_search", "paid_social",
				      "organic", "rule"};

/* The parameter name fields, with the names the API gives them. */
static const struct {
	const char *field;
	size_t off;
} param_fields[] = {
	{"keyword_param", offsetof(struct rt_pool, keyword_param)},
	{"ad_group_param", offsetof(struct rt_pool, ad_group_param)},
	{"campaign_param", offsetof(struct rt_pool, campaign_param)},
	{"matchtype_param", offsetof(struct rt_pool, matchtype_param)},
	{"network_param", offsetof(struct rt_pool, network_param)},
	{"device_param", offsetof(struct rt_pool, device_param)},
};

void rt_dni_pool_defaults(struct rt_pool *p)
{
	const struct rt_dni_params *d = &rt_dni_params_default;
	const char *names[] = {d->keyword,   d->ad_group_id, d->campaign_id,
			       d->matchtype, d->network,     d->device};

	rt_strlcpy(p->sources, "all", sizeof(p->sources));
	p->session_ttl = RT_DNI_POOL_TTL_DEFAULT;
	p->cooldown = RT_DNI_POOL_COOLDOWN_DEFAULT;
	rt_strlcpy(p->policy, "least_recently_released", sizeof(p->policy));
	rt_strlcpy(p->on_exhausted, "share_least_recent",
		   sizeof(p->on_exhausted));
	for (size_t i = 0; i < RT_ARRAY_SIZE(param_fields); i++)
		rt_strlcpy((char *)p + param_fields[i].off, names[i],
			   RT_POOL_PARAM_MAX);
	rt_strlcpy(p->status, "active", sizeof(p->status));
}

void rt_dni_pool_params(const struct rt_pool *p, struct rt_dni_params *params)
{
	params->keyword = p->keyword_param;
	params->ad_group_id = p->ad_group_param;
	params->campaign_id = p->campaign_param;
	params->matchtype = p->matchtype_param;
	params->network = p->network_param;
	params->device = p->device_param;
}

/* A URL parameter name: what a query string carries without escaping. */
static bool param_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("_-.~", *s))
			return false;
	}
	return true;
}

static bool one_of(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, list[i]) == 0)
			return true;
	}
	return false;
}

/* Parses the swap targets into p, in E.164, without repeats. */
static int check_targets(struct rt_pool *p, const char *const *targets,
			 size_t n, const char *country, const char **fieldp,
			 char *msg, size_t msgsz)
{
	char e164[RT_POOL_TARGETS_MAX][20];

	if (n == 0)
		FAIL("swap_targets", "'swap_targets' needs at least one number "
				     "to replace on the site");
	if (n > RT_POOL_TARGETS_MAX)
		FAIL("swap_targets", "'swap_targets' has more than %d numbers",
		     RT_POOL_TARGETS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct rt_phone ph;
		int e = rt_phone_parse(targets[i], country, &ph);

		if (e)
			FAIL("swap_targets",
			     "'%.40s' in 'swap_targets' is not a valid phone "
			     "number",
			     targets[i]);
		rt_strlcpy(e164[i], ph.e164, sizeof(e164[i]));
		for (size_t j = 0; j < i; j++) {
			if (strcmp(e164[j], e164[i]) == 0)
				FAIL("swap_targets",
				     "%s is twice in 'swap_targets'", e164[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		rt_strlcpy(p->swap_targets[i], e164[i],
			   sizeof(p->swap_targets[i]));
	p->nswap_targets = (unsigned)n;
	return 0;
}

int rt_dni_pool_check(struct rt_pool *p, const char *const *targets,
		      size_t ntargets, const char *country, const char **fieldp,
		      char *msg, size_t msgsz)
{
	int err;

	if (!country || !*country)
		country = "US";
	if (strlen(country) != 2 || !isupper((unsigned char)country[0]) ||
	    !isupper((unsigned char)country[1]))
		FAIL("country",
		     "'country' must be an ISO 3166-1 code such as 'US'");
	if (!p->name[0])
		FAIL("name", "'name' must not be empty");
	if (strlen(p->name) > RT_NAME_MAX - 1)
		FAIL("name", "'name' is longer than %d bytes", RT_NAME_MAX - 1);

	if (targets) {
		err = check_targets(p, targets, ntargets, country, fieldp, msg,
				    msgsz);
	} else {
		/* Stored targets are E.164 already; checked all the same. */
		const char *cur[RT_POOL_TARGETS_MAX];
		size_t n = p->nswap_targets < RT_POOL_TARGETS_MAX
				   ? p->nswap_targets
				   : RT_POOL_TARGETS_MAX;

		for (size_t i = 0; i < n; i++)
			cur[i] = p->swap_targets[i];
		err = check_targets(p, cur, n, country, fieldp, msg, msgsz);
	}
	if (err)
		return err;

	if (!one_of(p->sources, sources, RT_ARRAY_SIZE(sources)))
		FAIL("sources", "'sources' must be all, paid_search, "
				"paid_social, organic or rule");
	if (p->session_ttl < 60 * 1000 ||
	    p->session_ttl > RT_DNI_POOL_DURATION_MAX)
		FAIL("session_ttl_seconds", "'session_ttl_seconds' must be "
					    "between 60 (a minute) and 86400 "
					    "(a day)");
	if (p->cooldown < 0 || p->cooldown > RT_DNI_POOL_DURATION_MAX)
		FAIL("cooldown_seconds",
		     "'cooldown_seconds' must be between 0 and 86400 (a day)");
	if (strcmp(p->policy, "least_recently_released") != 0)
		FAIL("policy", "'policy' must be least_recently_released");
	if (strcmp(p->on_exhausted, "share_least_recent") != 0)
		FAIL("on_exhausted",
		     "'on_exhausted' must be share_least_recent");
	for (size_t i = 0; i < RT_ARRAY_SIZE(param_fields); i++) {
		if (!param_name((const char *)p + param_fields[i].off))
			FAIL(param_fields[i].field,
			     "'%s' must be a URL parameter name: letters, "
			     "digits, '_', '-', '.' or '~'",
			     param_fields[i].field);
	}
	if (strcmp(p->status, "active") && strcmp(p->status, "inactive"))
		FAIL("status", "'status' must be active or inactive");
	return 0;
}

int rt_dni_number_pool_check(const struct rt_number *n, const struct rt_pool *p,
			     const char **fieldp, char *msg, size_t msgsz)
{
	if (!p)
		return 0;
	if (strcmp(n->kind, "pool") != 0)
		FAIL("pool_id", "only numbers of kind 'pool' can be in a pool");
	if (n->account_id != p->account_id)
		FAIL("pool_id",
		     "pool %lld belongs to another account than the "
		     "number",
		     (long long)p->id);
	return 0;
}
