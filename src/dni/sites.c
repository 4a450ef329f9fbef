/*
 * The lists of search, social, video and shopping sites (src/dni/sources/),
 * parsed once from the copies compiled into the binary.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dni/dni.h"
#include "util/util.h"

extern const char rt_dni_sites_search[], rt_dni_sites_social[],
	rt_dni_sites_video[], rt_dni_sites_shopping[];

struct site {
	enum rt_site_cat cat;
	char *name;
	char **hosts; /* patterns: "host" or "name.*" */
	size_t nhosts;
};

struct rt_dni_sites {
	struct site *sites;
	size_t n;
};

static bool is_wild(const char *pat)
{
	size_t n = strlen(pat);

	return n > 2 && pat[n - 2] == '.' && pat[n - 1] == '*';
}

/* "name.*": the name as the first label (or after "www." or "m."),
 * followed by one or two short labels: a country or generic top-level
 * domain (google.com, www.google.co.uk, m.google.de).  Other subdomains
 * are other services: mail.google.com is a referral, not a search. */
static bool wild_match(const char *host, const char *pat)
{
	size_t nl = strlen(pat) - 2;
	const char *rest;
	int labels = 0;

	if (strncasecmp(host, "www.", 4) == 0)
		host += 4;
	else if (strncasecmp(host, "m.", 2) == 0)
		host += 2;
	rest = host + nl;
	if (strncasecmp(host, pat, nl) != 0 || *rest != '.')
		return false;
	for (const char *p = rest; *p == '.';) {
		size_t len = strcspn(p + 1, ".");

		if (len == 0 || len > 3)
			return false;
		labels++;
		p += 1 + len;
		if (*p == '\0')
			return labels <= 2;
	}
	return false;
}

/* A host matches itself and its subdomains. */
static bool host_match(const char *host, const char *pat)
{
	size_t hl = strlen(host), pl = strlen(pat);

	if (hl == pl)
		return strcasecmp(host, pat) == 0;
	return hl > pl && host[hl - pl - 1] == '.' &&
	       strcasecmp(host + hl - pl, pat) == 0;
}

static int parse_list(struct rt_dni_sites *s, enum rt_site_cat cat,
		      const char *text)
{
	const char *line = text;

	while (*line) {
		size_t len = strcspn(line, "\n");
		char *buf = strndup(line, len), *save = NULL, *tok;
		struct site *grown, *site;

		if (!buf)
			return ENOMEM;
		*strchrnul(buf, '#') = '\0';
		tok = strtok_r(buf, " \t\r", &save);
		if (tok) {
			grown = realloc(s->sites, (s->n + 1) * sizeof(*grown));
			if (!grown) {
				free(buf);
				return ENOMEM;
			}
			s->sites = grown;
			site = &s->sites[s->n++];
			memset(site, 0, sizeof(*site));
			site->cat = cat;
			site->name = strdup(tok);
			if (!site->name) {
				free(buf);
				return ENOMEM;
			}
			while ((tok = strtok_r(NULL, " \t\r", &save))) {
				char **h = realloc(site->hosts,
						   (site->nhosts + 1) *
							   sizeof(*h));

				if (!h || !(h[site->nhosts] = strdup(tok))) {
					if (h)
						site->hosts = h;
					free(buf);
					return ENOMEM;
				}
				site->hosts = h;
				site->nhosts++;
			}
		}
		free(buf);
		line += len;
		if (*line == '\n')
			line++;
	}
	return 0;
}

int rt_dni_sites_load(struct rt_dni_sites **sp)
{
	const char *const texts[RT_SITE__N] = {
		[RT_SITE_SEARCH] = rt_dni_sites_search,
		[RT_SITE_SOCIAL] = rt_dni_sites_social,
		[RT_SITE_VIDEO] = rt_dni_sites_video,
		[RT_SITE_SHOPPING] = rt_dni_sites_shopping,
	};
	struct rt_dni_sites *s = calloc(1, sizeof(*s));
	int err = 0;

	if (!s)
		return ENOMEM;
	for (int c = 0; !err && c < RT_SITE__N; c++)
		err = parse_list(s, (enum rt_site_cat)c, texts[c]);
	if (err)
		rt_dni_sites_free(s);
	else
		*sp = s;
	return err;
}

void rt_dni_sites_free(struct rt_dni_sites *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->sites[i].nhosts; j++)
			free(s->sites[i].hosts[j]);
		free(s->sites[i].hosts);
		free(s->sites[i].name);
	}
	free(s->sites);
	free(s);
}

int rt_dni_sites_host(const struct rt_dni_sites *s, const char *host,
		      enum rt_site_cat *catp, const char **namep)
{
	/* Exact hosts first, across every list, so that shopping.google.com
	 * is shopping before google.* makes it search. */
	for (int wild = 0; wild < 2; wild++) {
		for (size_t i = 0; i < s->n; i++) {
			const struct site *site = &s->sites[i];

			for (size_t j = 0; j < site->nhosts; j++) {
				const char *pat = site->hosts[j];

				if (is_wild(pat) != (bool)wild)
					continue;
				if (wild ? wild_match(host, pat)
					 : host_match(host, pat)) {
					*catp = site->cat;
					*namep = site->name;
					return 0;
				}
			}
		}
	}
	return ENOENT;
}

bool rt_dni_sites_has(const struct rt_dni_sites *s, enum rt_site_cat cat,
		      const char *source)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct site *site = &s->sites[i];

		if (site->cat != cat)
			continue;
		if (strcasecmp(site->name, source) == 0)
			return true;
		for (size_t j = 0; j < site->nhosts; j++) {
			const char *pat = site->hosts[j];

			if (is_wild(pat) ? wild_match(source, pat)
					 : host_match(source, pat))
				return true;
		}
	}
	return false;
}
