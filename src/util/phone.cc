// phone: the C face of libphonenumber (see phone.h).  The one C++ file of
// the project; it catches everything, so no exception crosses into C.

#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumberutil.h>

#include "util/phone.h"

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

namespace
{

void copy_out(char *dst, size_t size, const std::string &s)
{
	if (!size)
		return;
	size_t n = s.size() < size - 1 ? s.size() : size - 1;
	std::memcpy(dst, s.data(), n);
	dst[n] = '\0';
}

enum rt_phone_type map_type(PhoneNumberUtil::PhoneNumberType t)
{
	switch (t) {
	case PhoneNumberUtil::FIXED_LINE:
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
		return RT_PHONE_LOCAL;
	case PhoneNumberUtil::MOBILE:
		return RT_PHONE_MOBILE;
	case PhoneNumberUtil::TOLL_FREE:
		return RT_PHONE_TOLL_FREE;
	case PhoneNumberUtil::PREMIUM_RATE:
		return RT_PHONE_PREMIUM;
	case PhoneNumberUtil::VOIP:
		return RT_PHONE_VOIP;
	default:
		return RT_PHONE_OTHER;
	}
}

// The geocoder loads its tables lazily; one shared instance, one caller
// at a time.
std::mutex geo_lock;
PhoneNumberOfflineGeocoder *geocoder()
{
	static PhoneNumberOfflineGeocoder *g = new PhoneNumberOfflineGeocoder();
	return g;
}

} // namespace

extern "C" int rt_phone_parse(const char *text, const char *default_region,
			      struct rt_phone *out)
{
	try {
		PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		PhoneNumber n;
		std::string s;

		std::memset(out, 0, sizeof(*out));
		if (!text || std::strlen(text) > 64)
			return EINVAL;
		if (u->Parse(text, default_region ? default_region : "ZZ", &n) !=
		    PhoneNumberUtil::NO_PARSING_ERROR)
			return EINVAL;
		if (!u->IsValidNumber(n))
			return EDOM;
		u->Format(n, PhoneNumberUtil::E164, &s);
		copy_out(out->e164, sizeof(out->e164), s);
		u->Format(n, PhoneNumberUtil::NATIONAL, &s);
		copy_out(out->national, sizeof(out->national), s);
		u->Format(n, PhoneNumberUtil::INTERNATIONAL, &s);
		copy_out(out->international, sizeof(out->international), s);
		u->GetRegionCodeForNumber(n, &s);
		/* "ZZ" is unknown and "001" non-geographic (+800, +808...):
		 * neither is a country. */
		copy_out(out->region, sizeof(out->region),
			 s.size() == 2 && s != "ZZ" ? s : "");
		out->type = map_type(u->GetNumberType(n));
		return 0;
	} catch (...) {
		return ENOMEM;
	}
}

extern "C" const char *rt_phone_type_name(enum rt_phone_type t)
{
	static const char *const names[] = {"other",	 "local",   "mobile",
					    "toll_free", "premium", "voip"};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t]
							      : "other";
}

extern "C" void rt_phone_region_name(const char *e164, char *out, size_t size)
{
	try {
		PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		PhoneNumber n;

		copy_out(out, size, "");
		if (u->Parse(e164, "ZZ", &n) != PhoneNumberUtil::NO_PARSING_ERROR)
			return;
		std::lock_guard<std::mutex> hold(geo_lock);
		copy_out(out, size,
			 geocoder()->GetDescriptionForNumber(
				 n, icu::Locale("en", "US")));
	} catch (...) {
		copy_out(out, size, "");
	}
}

namespace
{

// US states and Canadian provinces by the names the geocoder gives for a
// whole area code ("California"); cities come as "Toronto, ON".
const struct {
	const char *name, *code;
} subdivisions[] = {
	{"Alabama", "AL"},
	{"Alaska", "AK"},
	{"Arizona", "AZ"},
	{"Arkansas", "AR"},
	{"California", "CA"},
	{"Colorado", "CO"},
	{"Connecticut", "CT"},
	{"Delaware", "DE"},
	{"Florida", "FL"},
	{"Georgia", "GA"},
	{"Hawaii", "HI"},
	{"Idaho", "ID"},
	{"Illinois", "IL"},
	{"Indiana", "IN"},
	{"Iowa", "IA"},
	{"Kansas", "KS"},
	{"Kentucky", "KY"},
	{"Louisiana", "LA"},
	{"Maine", "ME"},
	{"Maryland", "MD"},
	{"Massachusetts", "MA"},
	{"Michigan", "MI"},
	{"Minnesota", "MN"},
	{"Mississippi", "MS"},
	{"Missouri", "MO"},
	{"Montana", "MT"},
	{"Nebraska", "NE"},
	{"Nevada", "NV"},
	{"New Hampshire", "NH"},
	{"New Jersey", "NJ"},
	{"New Mexico", "NM"},
	{"New York", "NY"},
	{"North Carolina", "NC"},
	{"North Dakota", "ND"},
	{"Ohio", "OH"},
	{"Oklahoma", "OK"},
	{"Oregon", "OR"},
	{"Pennsylvania", "PA"},
	{"Rhode Island", "RI"},
	{"South Carolina", "SC"},
	{"South Dakota", "SD"},
	{"Tennessee", "TN"},
	{"Texas", "TX"},
	{"Utah", "UT"},
	{"Vermont", "VT"},
	{"Virginia", "VA"},
	{"Washington", "WA"},
	{"Washington D.C.", "DC"},
	{"Washington DC", "DC"},
	{"West Virginia", "WV"},
	{"Wisconsin", "WI"},
	{"Wyoming", "WY"},
	{"Alberta", "AB"},
	{"British Columbia", "BC"},
	{"Manitoba", "MB"},
	{"New Brunswick", "NB"},
	{"Newfoundland and Labrador", "NL"},
	{"Northwest Territories", "NT"},
	{"Nova Scotia", "NS"},
	{"Nunavut", "NU"},
	{"Ontario", "ON"},
	{"Prince Edward Island", "PE"},
	{"Quebec", "QC"},
	{"Saskatchewan", "SK"},
	{"Yukon", "YT"},
};

} // namespace

extern "C" void rt_phone_area(const char *e164, char *area, size_t asize,
			      char *subdivision, size_t ssize)
{
	copy_out(area, asize, "");
	copy_out(subdivision, ssize, "");
	try {
		PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		PhoneNumber n;
		std::string nsn, region, desc;

		if (u->Parse(e164, "ZZ", &n) != PhoneNumberUtil::NO_PARSING_ERROR)
			return;
		u->GetNationalSignificantNumber(n, &nsn);
		u->GetRegionCodeForNumber(n, &region);
		int len = u->GetLengthOfGeographicalAreaCode(n);
		if (n.country_code() == 1 && nsn.size() == 10)
			len = 3; // every NANP number has its NPA
		if (len > 0 && (size_t)len <= nsn.size())
			copy_out(area, asize, nsn.substr(0, (size_t)len));
		if (region != "US" && region != "CA")
			return;
		{
			std::lock_guard<std::mutex> hold(geo_lock);
			// with the number's own region as the user's, the
			// geocoder names the place rather than the country
			desc = geocoder()->GetDescriptionForNumber(
				n, icu::Locale("en", "US"), region);
		}
		std::string code;
		size_t comma = desc.rfind(", ");
		if (comma != std::string::npos && desc.size() - comma == 4)
			code = desc.substr(comma + 2);
		for (const auto &s : subdivisions)
			if (code.empty() && desc == s.name)
				code = s.code;
		if (code.size() == 2 && std::isupper((unsigned char)code[0]) &&
		    std::isupper((unsigned char)code[1]))
			copy_out(subdivision, ssize, region + "-" + code);
	} catch (...) {
		copy_out(area, asize, "");
		copy_out(subdivision, ssize, "");
	}
}
