/*
 * dni: where a visitor came from, and (later) the tracking number they see.
 *
 * Classification turns a landing URL and a referrer into the source,
 * medium, campaign, keyword and click ids of the visit, and its channel by
 * Google Analytics 4's default channel group rules (docs/attribution.md).
 * The lists of search, social, video and shopping sites are data files in
 * src/dni/sources/, compiled in.
 */
#ifndef RT_DNI_H
#define RT_DNI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

/* Longest value kept of a tag or click id, in bytes; longer ones are cut
 * at a character boundary.  Longest URL accepted. */
#define RT_DNI_VALUE_MAX 255
#define RT_DNI_PATH_MAX	 1024
#define RT_DNI_URL_MAX	 8192

enum rt_site_cat {
	RT_SITE_SEARCH,
	RT_SITE_SOCIAL,
	RT_SITE_VIDEO,
	RT_SITE_SHOPPING,
	RT_SITE__N
};

/* The parsed site lists; read-only once loaded, shared by threads. */
struct rt_dni_sites;
int rt_dni_sites_load(struct rt_dni_sites **sp);
void rt_dni_sites_free(struct rt_dni_sites *s);
/* The site a host (a referrer's) belongs to: 0 with its category and
 * source name (borrowed), or ENOENT. */
int rt_dni_sites_host(const struct rt_dni_sites *s, const char *host,
		      enum rt_site_cat *catp, const char **namep);
/* Whether a source value (a name such as "google" or a host such as
 * "m.facebook.com", any case) is in a category's list. */
bool rt_dni_sites_has(const struct rt_dni_sites *s, enum rt_site_cat cat,
		      const char *source);

/* Names of the URL parameters that carry ad data (Google and Microsoft Ads
 * ValueTrack); a pool may read other names. */
struct rt_dni_params {
	const char *keyword, *ad_group_id, *campaign_id, *matchtype, *network,
		*device;
};
extern const struct rt_dni_params rt_dni_params_default;

#define RT_DNI_V (RT_DNI_VALUE_MAX + 1)

/* Click ids, in the order they are reported. */
enum rt_click_id {
	RT_CLICK_GCLID,
	RT_CLICK_GBRAID,
	RT_CLICK_WBRAID,
	RT_CLICK_MSCLKID,
	RT_CLICK_FBCLID,
	RT_CLICK_TTCLID,
	RT_CLICK_LI_FAT_ID,
	RT_CLICK__N
};
extern const char *const rt_dni_click_names[RT_CLICK__N];

/* A classified visit.  Empty strings are "absent". */
struct rt_visit_source {
	char source[RT_DNI_V];
	char medium[RT_DNI_V];
	char campaign[RT_DNI_V];
	char term[RT_DNI_V];
	char content[RT_DNI_V];
	char channel[32]; /* the exact GA4 channel name */
	char ad_group[RT_DNI_V];
	char keyword[RT_DNI_V];
	char campaign_id[RT_DNI_V];
	char matchtype[32];
	char network[32];
	char device[32];
	char click[RT_CLICK__N][RT_DNI_V];
	char landing_host[RT_DNI_V];
	char landing_page[RT_DNI_PATH_MAX]; /* path only, no query */
	char referrer_host[RT_DNI_V];
};

/*
 * Classifies a visit.  landing_url is the page's absolute http(s) URL;
 * referrer may be NULL or "" (none).  params NULL means the defaults.
 * Returns 0, or EINVAL with a message naming the bad input in err.
 */
int rt_dni_classify(const struct rt_dni_sites *sites, const char *landing_url,
		    const char *referrer, const struct rt_dni_params *params,
		    struct rt_visit_source *v, char *err, size_t errsz);

/* The JSON object of a classified visit (new reference): every field, null
 * where absent; click_ids holds only the ids the URL carried. */
json_t *rt_dni_source_json(const struct rt_visit_source *v);

/* GA4's default channel group of a source, medium and campaign: the
 * first rule that matches, in GA4's order; "Unassigned" when none does. */
const char *rt_dni_channel(const struct rt_dni_sites *sites, const char *source,
			   const char *medium, const char *campaign);

/* ---- the number inventory ----------------------------------------------- */

#define RT_DNI_IMPORT_MAX 10000 /* rows in one CSV import */

/*
 * Checks a number for the inventory and fills in what follows from the
 * number itself.  text is the number as written (E.164, or national for
 * country, an ISO 3166-1 code); n holds the rest (kind, label, source,
 * medium, campaign, destination, status).  On success n->e164,
 * number_type, country are set, destination is normalised to E.164 when it
 * is a phone number, and an empty label becomes the national format.
 * Returns 0, or EINVAL with *fieldp naming the field and msg saying why.
 */
int rt_dni_number_check(struct rt_number *n, const char *text,
			const char *country, const char **fieldp, char *msg,
			size_t msgsz);

/*
 * Imports CSV (a header line naming the columns: number, and any of label,
 * kind, source, medium, campaign, destination, status) into account_id,
 * inside tx.  Every row is checked before anything is written; when any
 * row fails, nothing is, and EINVAL is returned with errors (a JSON array
 * it appends {line, field, message} objects to) saying what and where.
 * *createdp gets the number of rows written.  Other errors are the store's.
 */
int rt_dni_numbers_import(struct rt_store_tx *tx, int64_t scope,
			  int64_t account_id, const char *csv, size_t len,
			  const char *country, json_t *errors, size_t *createdp);

#endif
