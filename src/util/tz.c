/*
 * Local time in an IANA time zone, through ICU's calendar (icu-i18n):
 * thread-safe, unlike TZ and localtime_r, and with its own copy of the tz
 * database, so DST rules are ICU's whatever the machine's /etc/localtime.
 */
#include <errno.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "util/util.h"

#define TZ_MAX 64

/* tz as UTF-16; false when too long or not ASCII. */
static bool to_uchars(const char *tz, UChar *out, size_t size)
{
	size_t n = strlen(tz);

	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)tz[i] < 0x21 || (unsigned char)tz[i] > 0x7e)
			return false;
		out[i] = (UChar)tz[i];
	}
	out[n] = 0;
	return true;
}

bool rt_tz_valid(const char *tz)
{
	UChar u[TZ_MAX + 1], canon[TZ_MAX + 1];
	UErrorCode st = U_ZERO_ERROR;
	UBool system = false;

	if (!tz || !to_uchars(tz, u, sizeof(u) / sizeof(u[0])))
		return false;
	ucal_getCanonicalTimeZoneID(u, -1, canon, TZ_MAX + 1, &system, &st);
	return U_SUCCESS(st) && system;
}

int rt_tz_local(const char *tz, int64_t ms, struct rt_tz_tm *out)
{
	UChar u[TZ_MAX + 1];
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *cal;

	if (!tz || !*tz)
		tz = "UTC";
	if (!to_uchars(tz, u, sizeof(u) / sizeof(u[0])))
		return EINVAL;
	cal = ucal_open(u, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st))
		return EINVAL;
	ucal_setMillis(cal, (UDate)ms, &st);
	out->year = ucal_get(cal, UCAL_YEAR, &st);
	out->month = ucal_get(cal, UCAL_MONTH, &st) + 1;
	out->day = ucal_get(cal, UCAL_DATE, &st);
	/* UCAL_SUNDAY is 1: 0 Monday ... 6 Sunday */
	out->wday = (ucal_get(cal, UCAL_DAY_OF_WEEK, &st) + 5) % 7;
	out->minute = ucal_get(cal, UCAL_HOUR_OF_DAY, &st) * 60 +
		      ucal_get(cal, UCAL_MINUTE, &st);
	out->offset_min = (ucal_get(cal, UCAL_ZONE_OFFSET, &st) +
			   ucal_get(cal, UCAL_DST_OFFSET, &st)) /
			  60000;
	ucal_close(cal);
	return U_SUCCESS(st) ? 0 : EINVAL;
}
