/*
 * phone: telephone numbers, through libphonenumber (a C++ library; this is
 * its thin C face, implemented in phone.cc).  Parsing with validation,
 * E.164 and display formats, number type, and the geographic description
 * used as a caller's region.  Thread-safe.
 */
#ifndef RT_PHONE_H
#define RT_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rt_phone_type {
	RT_PHONE_OTHER,
	RT_PHONE_LOCAL, /* fixed line, or fixed line or mobile */
	RT_PHONE_MOBILE,
	RT_PHONE_TOLL_FREE,
	RT_PHONE_PREMIUM,
	RT_PHONE_VOIP,
};

struct rt_phone {
	char e164[20];		/* "+13125550100" */
	char region[3];		/* ISO 3166-1 alpha-2, "US"; "" for none,
				   as for non-geographic +800 numbers */
	char national[48];	/* "(312) 555-0100" */
	char international[48]; /* "+1 312-555-0100" */
	enum rt_phone_type type;
};

/*
 * Parses a number written in E.164 or international form, or nationally
 * for default_region (ISO 3166-1 alpha-2; NULL for none), and checks that
 * it is a valid, dialable number.  0, or EINVAL (not a phone number) or
 * EDOM (a number, but not a valid one for its region).
 */
int rt_phone_parse(const char *text, const char *default_region,
		   struct rt_phone *out);
/* "local", "mobile", "toll_free", "premium", "voip", "other". */
const char *rt_phone_type_name(enum rt_phone_type t);
/* Where a number is, in English ("Chicago, IL", "London"), or "" when it
 * is not geographic.  e164 must be valid. */
void rt_phone_region_name(const char *e164, char *out, size_t size);
/* The area code of a valid e164 ("415" for +1 415..., "20" for a London
 * number; "" when the number has none, as mobiles in many countries) and,
 * for the US and Canada, the ISO 3166-2 code of its state or province
 * ("US-CA", "CA-ON"; "" when not known). */
void rt_phone_area(const char *e164, char *area, size_t asize,
		   char *subdivision, size_t ssize);

#ifdef __cplusplus
}
#endif

#endif
