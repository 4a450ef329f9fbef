/*
 * The businesses a simulation plays, and what their callers say: a few
 * calls each, written to sound like the real thing (a quote, an
 * appointment, an emergency, a quick question), so that recordings hold
 * speech that a transcription engine can read and that call analysis has
 * something to find in (prices, appointments, names of services).
 *
 * Then rt_sim_talk_render(): a script spoken, as the two tracks each end
 * sends from the answer on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

#define RATE	 8000
#define FIRST_MS 400 /* from the answer to the greeting */
#define PAUSE_MS 700 /* between turns */
#define N(a)	 RT_ARRAY_SIZE(a)
#define A(text)                                                                \
	{                                                                      \
		RT_SIM_AGENT, text                                             \
	}
#define C(text)                                                                \
	{                                                                      \
		RT_SIM_CALLER, text                                            \
	}
#define SCRIPT(t, brief, turns)                                                \
	{                                                                      \
		t, brief, turns, N(turns)                                      \
	}

/* ---- plumbing ------------------------------------------------------------ */

static const struct rt_sim_turn plumb_heater[] = {
	A("Thank you for calling Northside Plumbing and Heating, this is "
	  "Sarah. How can I help you today?"),
	C("Hi Sarah. My water heater is leaking from the bottom, and there is "
	  "water all over the basement floor. I think it needs to be "
	  "replaced."),
	A("I am sorry to hear that. How old is the water heater, and is it "
	  "gas or electric?"),
	C("It is a gas one, about twelve years old. Forty gallons, I think."),
	A("At that age a replacement usually makes more sense than a repair. "
	  "A new forty gallon gas water heater, installed, is usually between "
	  "fourteen hundred and eighteen hundred dollars, and we haul the old "
	  "one away."),
	C("Okay, that is about what I expected. Could someone come out "
	  "tomorrow morning and give me an exact quote?"),
	A("Sure. I have a technician free tomorrow between eight and ten. "
	  "What is the address?"),
	C("It is twenty four seventeen North Maple Avenue."),
	A("Great, you are booked for tomorrow between eight and ten. Until "
	  "then, turn off the cold water valve on top of the heater to stop "
	  "the leak."),
	C("Will do. Thank you so much."),
	A("You are welcome. Have a good evening."),
};

static const struct rt_sim_turn plumb_drain[] = {
	A("Northside Plumbing, this is Sarah speaking."),
	C("Hi, my kitchen sink is completely clogged. I tried a plunger and "
	  "some drain cleaner, and nothing works."),
	A("We can help with that. Is it just the kitchen sink, or are other "
	  "drains slow too?"),
	C("Just the kitchen sink. The bathroom is fine."),
	A("Then it is probably a clog in the kitchen line. Drain cleaning "
	  "starts at one hundred and forty nine dollars, and that includes a "
	  "camera inspection if we need it."),
	C("That sounds fair. Do you have anything this afternoon?"),
	A("I can get someone there between two and four today."),
	C("Perfect, let's do that."),
	A("All set. The technician will call you thirty minutes before he "
	  "arrives. Thanks for choosing Northside."),
};

static const struct rt_sim_turn plumb_burst[] = {
	A("Northside Plumbing and Heating, how can I help?"),
	C("Hi, I have a burst pipe in my garage and water is spraying "
	  "everywhere. I need someone right away."),
	A("Okay, first, do you know where your main water shut off valve "
	  "is? It is usually near the water meter."),
	C("I think it is in the basement by the furnace. Let me check. Yes, "
	  "I found it, I turned it off."),
	A("Good, that stops the water. We have an emergency plumber on call. "
	  "He can be there within the hour. The emergency service fee is one "
	  "hundred and ninety nine dollars, plus the repair."),
	C("That is fine, please send him."),
	A("He is on his way. What is the address?"),
	C("Nine oh two West Belmont, the house with the green door."),
	A("Got it. He will be there within the hour."),
};

static const struct rt_sim_turn plumb_hours[] = {
	A("Thank you for calling Northside Plumbing, this is Sarah."),
	C("Hi, quick question. Do you do work in Evanston?"),
	A("Yes, we cover Evanston and all of the north shore."),
	C("Great, I will call back next week to set something up. Thanks."),
	A("Sounds good. Bye now."),
};

static const struct rt_sim_turn plumb_price[] = {
	A("Northside Plumbing, Sarah speaking."),
	C("Hi, how much do you charge just to come out and look at a "
	  "running toilet?"),
	A("Our service call is eighty nine dollars, and it is waived if you "
	  "go ahead with the repair."),
	C("Okay. I will think about it, thanks."),
};

static const struct rt_sim_script plumb_scripts[] = {
	SCRIPT("water heater replacement quote", false, plumb_heater),
	SCRIPT("clogged kitchen drain, same day", false, plumb_drain),
	SCRIPT("burst pipe emergency", false, plumb_burst),
	SCRIPT("service area question", true, plumb_hours),
	SCRIPT("service call price", true, plumb_price),
};

static const struct rt_sim_page plumb_landings[] = {
	{"/", "Northside Plumbing & Heating | Chicago Plumbers"},
	{"/water-heater-repair", "Water Heater Repair & Replacement"},
	{"/drain-cleaning", "Drain Cleaning in Chicago"},
	{"/emergency-plumber", "24/7 Emergency Plumber"},
	{"/sewer-line-repair", "Sewer Line Repair"},
	{"/blog/why-is-my-water-heater-leaking",
	 "Why Is My Water Heater Leaking?"},
};

static const struct rt_sim_page plumb_pages[] = {
	{"/pricing", "Pricing"},
	{"/contact", "Contact Us"},
	{"/reviews", "Customer Reviews"},
	{"/service-area", "Service Area"},
	{"/coupons", "Coupons & Specials"},
};

static const char *const plumb_keywords[] = {
	"water heater repair",	  "emergency plumber near me",
	"drain cleaning chicago", "plumber near me",
	"sewer line repair cost", "tankless water heater install",
};

static const char *const plumb_campaigns[] = {"search_water_heaters",
					      "search_emergency",
					      "search_drains", "brand"};

static const char *const plumb_referrers[] = {
	"https://www.yelp.com/biz/northside-plumbing-chicago",
	"https://nextdoor.com/pages/northside-plumbing-chicago-il/",
	"https://www.angi.com/companylist/us/il/chicago/northside-plumbing",
};

/* ---- dental ----------------------------------------------------------------
 */

static const struct rt_sim_turn dent_new[] = {
	A("Good morning, Bright Smile Dental, this is Jessica. How can I "
	  "help you?"),
	C("Hi, I just moved to the area and I am looking for a new dentist. "
	  "Are you taking new patients?"),
	A("We are. Welcome to the neighborhood. Do you have dental "
	  "insurance?"),
	C("Yes, I have Delta Dental through my work."),
	A("We are in network with Delta Dental, so your cleaning and exam "
	  "should be covered. For new patients we also take x rays at the "
	  "first visit."),
	C("Great. Do you have anything next week, maybe in the morning?"),
	A("I have Tuesday at nine thirty or Thursday at eight."),
	C("Tuesday at nine thirty works."),
	A("Perfect, you are booked for Tuesday at nine thirty. Please come "
	  "ten minutes early to fill out the new patient forms."),
	C("Will do, thanks Jessica."),
	A("You are welcome, see you Tuesday."),
};

static const struct rt_sim_turn dent_pain[] = {
	A("Bright Smile Dental, Jessica speaking."),
	C("Hi, I have a really bad toothache on the lower left side, and it "
	  "kept me up all night. Can someone see me today?"),
	A("I am sorry, that sounds painful. We keep time open for "
	  "emergencies. Is there any swelling?"),
	C("A little bit, yes."),
	A("Then the doctor should see you today. I can fit you in at one "
	  "fifteen. The emergency exam with an x ray is one hundred and "
	  "twenty five dollars before insurance."),
	C("Yes please, I will take it."),
	A("You are booked at one fifteen. Until then you can take ibuprofen "
	  "for the pain."),
	C("Thank you so much."),
};

static const struct rt_sim_turn dent_whitening[] = {
	A("Thank you for calling Bright Smile Dental."),
	C("Hi, I saw your ad for teeth whitening. How much is it?"),
	A("In office whitening is three hundred and ninety nine dollars this "
	  "month, and it takes about an hour."),
	C("Okay, thanks. I will talk to my husband and call back."),
};

static const struct rt_sim_turn dent_saturday[] = {
	A("Bright Smile Dental, this is Jessica."),
	C("Hi, are you open on Saturdays?"),
	A("Yes, every other Saturday from eight to one."),
	C("Great, thank you."),
};

static const struct rt_sim_script dent_scripts[] = {
	SCRIPT("new patient appointment with insurance", false, dent_new),
	SCRIPT("toothache, same day emergency", false, dent_pain),
	SCRIPT("teeth whitening price", true, dent_whitening),
	SCRIPT("opening hours", true, dent_saturday),
};

static const struct rt_sim_page dent_landings[] = {
	{"/", "Bright Smile Dental | Family Dentist in Chicago"},
	{"/new-patients", "New Patients Welcome"},
	{"/emergency-dentist", "Emergency Dentist, Same Day"},
	{"/teeth-whitening", "Teeth Whitening"},
	{"/dental-implants", "Dental Implants"},
};

static const struct rt_sim_page dent_pages[] = {
	{"/insurance", "Insurance We Accept"},
	{"/book-online", "Book an Appointment"},
	{"/our-team", "Meet Our Team"},
	{"/contact", "Contact & Directions"},
};

static const char *const dent_keywords[] = {
	"dentist near me",
	"emergency dentist",
	"teeth whitening cost",
	"dental implants chicago",
	"family dentist accepting new patients",
};

static const char *const dent_campaigns[] = {"search_general",
					     "search_emergency",
					     "search_cosmetic", "brand"};

static const char *const dent_referrers[] = {
	"https://www.yelp.com/biz/bright-smile-dental-chicago",
	"https://www.zocdoc.com/practice/bright-smile-dental-12345",
	"https://www.healthgrades.com/dentist/bright-smile-dental",
};

/* ---- law firm ---------------------------------------------------------- */

static const struct rt_sim_turn law_accident[] = {
	A("Harper and Cole, personal injury attorneys. This is David, how "
	  "can I help you?"),
	C("Hi. I was in a car accident last week. The other driver ran a red "
	  "light, and now his insurance company keeps calling me to settle."),
	A("I am sorry to hear about the accident. Were you hurt?"),
	C("I have a neck injury, and I have been going to physical therapy "
	  "twice a week."),
	A("Please do not give the insurance company a recorded statement yet. "
	  "We offer a free consultation, and we only get paid if we win your "
	  "case."),
	C("Okay, that is good to know. When could I meet with an attorney?"),
	A("Ms. Harper has an opening on Thursday at three in the afternoon. "
	  "Please bring the police report and your medical bills."),
	C("Thursday at three is fine."),
	A("You are scheduled. We will send you a confirmation by text."),
	C("Thank you, David."),
};

static const struct rt_sim_turn law_divorce[] = {
	A("Harper and Cole law offices, this is David."),
	C("Hi, I am thinking about filing for divorce, and I have some "
	  "questions about custody of our two kids."),
	A("Of course. Our family law team handles custody and divorce. The "
	  "first consultation is one hour and costs one hundred and fifty "
	  "dollars."),
	C("Okay. Is there anything available this week?"),
	A("Mr. Cole can see you Friday at ten in the morning."),
	C("Friday at ten, that works. Thank you."),
	A("You are welcome. We will see you on Friday."),
};

static const struct rt_sim_turn law_free[] = {
	A("Harper and Cole, this is David."),
	C("Hi, do you do free consultations for workers compensation "
	  "cases?"),
	A("Yes, the first consultation is free for injury and workers "
	  "compensation cases."),
	C("Great, thanks. I will call back tomorrow."),
};

static const struct rt_sim_script law_scripts[] = {
	SCRIPT("car accident consultation", false, law_accident),
	SCRIPT("divorce and custody consultation", false, law_divorce),
	SCRIPT("free consultation question", true, law_free),
};

static const struct rt_sim_page law_landings[] = {
	{"/", "Harper & Cole | Chicago Personal Injury Lawyers"},
	{"/car-accident-lawyer", "Car Accident Lawyer"},
	{"/workers-compensation", "Workers' Compensation Attorneys"},
	{"/family-law/divorce", "Divorce Attorneys"},
	{"/free-case-review", "Free Case Review"},
};

static const struct rt_sim_page law_pages[] = {
	{"/results", "Case Results"},
	{"/attorneys/emily-harper", "Emily Harper, Partner"},
	{"/contact", "Contact Us"},
	{"/faq", "Frequently Asked Questions"},
};

static const char *const law_keywords[] = {
	"car accident lawyer",	 "personal injury attorney near me",
	"workers comp lawyer",	 "divorce attorney chicago",
	"truck accident lawyer",
};

static const char *const law_campaigns[] = {"search_auto_accident",
					    "search_workers_comp",
					    "search_family_law", "brand"};

static const char *const law_referrers[] = {
	"https://www.avvo.com/attorneys/60601-il-emily-harper.html",
	"https://www.justia.com/lawyers/personal-injury/illinois/chicago",
	"https://www.yelp.com/biz/harper-and-cole-chicago",
};

/* ---- the table ------------------------------------------------------------
 */

#define BUSINESS(k, name, host, p)                                             \
	{                                                                      \
		k, name, host, p##_landings, N(p##_landings), p##_pages,       \
			N(p##_pages), p##_keywords, N(p##_keywords),           \
			p##_campaigns, N(p##_campaigns), p##_referrers,        \
			N(p##_referrers), p##_scripts, N(p##_scripts)          \
	}

static const struct rt_sim_business businesses[] = {
	BUSINESS("plumbing", "Northside Plumbing & Heating",
		 "www.northsideplumbing.example", plumb),
	BUSINESS("dental", "Bright Smile Dental",
		 "www.brightsmiledental.example", dent),
	BUSINESS("law", "Harper & Cole", "www.harpercolelaw.example", law),
};

static const char *const business_keys[] = {"plumbing", "dental", "law", NULL};

const char *const *rt_sim_businesses(void)
{
	return business_keys;
}

const struct rt_sim_business *rt_sim_business(const char *key)
{
	for (size_t i = 0; i < N(businesses); i++) {
		if (strcmp(businesses[i].key, key) == 0)
			return &businesses[i];
	}
	return NULL;
}

/* ---- a script spoken ----------------------------------------------------- */

void rt_sim_talk_release(struct rt_sim_talk *t)
{
	free(t->caller);
	free(t->agent);
	memset(t, 0, sizeof(*t));
}

int rt_sim_talk_render(struct rt_speech *sp, const struct rt_sim_script *s,
		       uint64_t max_ms, struct rt_sim_talk *t)
{
	size_t at = (size_t)FIRST_MS * RATE / 1000;
	int err = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->nturns && !err; i++) {
		int16_t *pcm = NULL, *a, *c;
		size_t n = 0, len;

		if (max_ms && (uint64_t)at * 1000 / RATE >= max_ms)
			break;
		err = rt_speech_say(sp,
				    s->turns[i].who == RT_SIM_AGENT
					    ? RT_VOICE_SLT
					    : RT_VOICE_RMS,
				    s->turns[i].text, &pcm, &n);
		if (err)
			break;
		len = at + n + (size_t)PAUSE_MS * RATE / 1000;
		a = realloc(t->agent, len * sizeof(*a));
		if (a)
			t->agent = a;
		c = a ? realloc(t->caller, len * sizeof(*c)) : NULL;
		if (c)
			t->caller = c;
		if (!a || !c) {
			free(pcm);
			err = ENOMEM;
			break;
		}
		memset(t->agent + t->len, 0, (len - t->len) * sizeof(*a));
		memset(t->caller + t->len, 0, (len - t->len) * sizeof(*c));
		memcpy((s->turns[i].who == RT_SIM_AGENT ? t->agent
							: t->caller) +
			       at,
		       pcm, n * sizeof(*pcm));
		free(pcm);
		if (s->turns[i].who == RT_SIM_CALLER && !t->caller_from)
			t->caller_from = at;
		t->len = len;
		t->agent_last = s->turns[i].who == RT_SIM_AGENT;
		at = len;
	}
	if (!err && !t->len)
		err = EINVAL;
	if (err)
		rt_sim_talk_release(t);
	return err;
}
