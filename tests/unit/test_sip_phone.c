/*
 * The simulator's phone (src/sip/phone.c) without a server: its own SIP
 * address stands for Ringtrail's, so each call it places comes back to it
 * and its business end answers its caller end directly, on loopback.
 * What `ringtrail simulate` relies on: answered calls with audio heard
 * both ways, either end hanging up, busy, no answer, a caller who gives
 * up, OPTIONS, and a hang-up of every call at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sip/sip.h"
#include "util/util.h"

#define TONE_S 2

static struct rt_sip_phone *phone;
static int16_t tone_a[8000 * TONE_S], tone_b[8000 * TONE_S];

struct outcome {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	struct rt_sip_phone_result r;
};

static void done_h(const struct rt_sip_phone_result *r, void *arg)
{
	struct outcome *o = arg;

	pthread_mutex_lock(&o->lock);
	o->r = *r;
	o->done = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

static void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
}

/* Waits up to 15 s for the call's result. */
static void outcome_wait(struct outcome *o)
{
	struct timespec ts = rt_deadline_ms(15000);

	pthread_mutex_lock(&o->lock);
	while (!o->done && pthread_cond_timedwait(&o->cond, &o->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&o->lock);
	if (!o->done)
		fail_msg("no result within 15 s");
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
}

static uint16_t free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int setup(void **state)
{
	struct rt_sip_phone_conf pc;
	int err = EADDRINUSE;
	(void)state;

	rt_log_set_level(RT_LOG_WARN);
	for (size_t i = 0; i < RT_ARRAY_SIZE(tone_a); i++) {
		tone_a[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * i / 8000.0));
		tone_b[i] = (int16_t)(8000 * sin(2 * M_PI * 660 * i / 8000.0));
	}
	/* A port found free may be taken before the phone binds it. */
	for (int tries = 0; tries < 5 && err == EADDRINUSE; tries++) {
		memset(&pc, 0, sizeof(pc));
		snprintf(pc.listen, sizeof(pc.listen), "127.0.0.1:%u",
			 free_port());
		rt_strlcpy(pc.server, pc.listen, sizeof(pc.server));
		err = rt_sip_phone_start(&phone, &pc);
	}
	return err ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_sip_phone_stop(phone);
	return 0;
}

static struct rt_sip_phone_call plan(const char *from, uint32_t ring_ms,
				     uint32_t talk_ms)
{
	struct rt_sip_phone_call c;

	memset(&c, 0, sizeof(c));
	rt_strlcpy(c.to, "+13125550101", sizeof(c.to));
	rt_strlcpy(c.from, from, sizeof(c.from));
	rt_strlcpy(c.from_name, "Maria Garcia", sizeof(c.from_name));
	c.caller_audio = (struct rt_sip_phone_audio){tone_a, 8000 * TONE_S};
	c.agent_audio = (struct rt_sip_phone_audio){tone_b, 8000 * TONE_S};
	c.ring_ms = ring_ms;
	c.talk_ms = talk_ms;
	return c;
}

static void test_options(void **state)
{
	(void)state;
	assert_int_equal(rt_sip_phone_ping(phone, 3000), 200);
}

/* Answered, both ends talk (a tone each), the caller hangs up: each end
 * hears the other for the whole call. */
static void test_answered(void **state)
{
	struct rt_sip_phone_call c = plan("+17735550101", 200, 1500);
	struct outcome o;
	const struct rt_sip_phone_result *r = &o.r;
	(void)state;

	outcome_init(&o);
	assert_int_equal(rt_sip_phone_call(phone, &c, done_h, &o), 0);
	outcome_wait(&o);
	assert_true(r->answered);
	assert_true(r->reached);
	assert_false(r->interrupted);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->hangup, RT_SIP_SIDE_CALLER);
	assert_true(r->sip_call_id[0] != '\0');
	assert_in_range(r->ring_ms, 150, 1500);
	assert_in_range(r->talk_ms, 1400, 2500);
	/* 50 packets a second each way. */
	assert_in_range(r->caller_sent, 60, 90);
	assert_in_range(r->agent_sent, 60, 90);
	assert_true(r->caller_recv >= 55 && r->agent_recv >= 55);
	assert_true(r->caller_heard >= 50 && r->agent_heard >= 50);
}

static void test_agent_hangs_up(void **state)
{
	struct rt_sip_phone_call c = plan("+17735550102", 100, 500);
	struct outcome o;
	(void)state;

	c.agent_hangs_up = true;
	outcome_init(&o);
	assert_int_equal(rt_sip_phone_call(phone, &c, done_h, &o), 0);
	outcome_wait(&o);
	assert_true(o.r.answered);
	assert_int_equal(o.r.hangup, RT_SIP_SIDE_CALLEE);
	assert_in_range(o.r.talk_ms, 400, 1500);
}

/* Busy, no answer and a caller who gives up, at once. */
static void test_unanswered(void **state)
{
	struct rt_sip_phone_call busy = plan("+17735550103", 100, 0),
				 noans = plan("+17735550104", 300, 0),
				 gone = plan("+17735550105", 5000, 0);
	struct outcome o[3];
	(void)state;

	busy.answer = RT_SIP_PHONE_BUSY;
	noans.answer = RT_SIP_PHONE_NO_ANSWER;
	gone.give_up_ms = 400;
	for (int i = 0; i < 3; i++)
		outcome_init(&o[i]);
	assert_int_equal(rt_sip_phone_call(phone, &busy, done_h, &o[0]), 0);
	assert_int_equal(rt_sip_phone_call(phone, &noans, done_h, &o[1]), 0);
	assert_int_equal(rt_sip_phone_call(phone, &gone, done_h, &o[2]), 0);
	for (int i = 0; i < 3; i++) {
		outcome_wait(&o[i]);
		assert_false(o[i].r.answered);
		assert_true(o[i].r.reached);
		assert_int_equal(o[i].r.caller_sent, 0);
	}
	assert_int_equal(o[0].r.status, 486);
	assert_int_equal(o[1].r.status, 480);
	assert_int_equal(o[2].r.status, 487);
	assert_int_equal(o[2].r.hangup, RT_SIP_SIDE_CALLER);
	assert_in_range(o[2].r.ring_ms, 350, 1500);
}

/* Ctrl-C in simulate: every call ends from the caller's end, BYE for the
 * one talking, CANCEL for the one ringing, and each reports. */
static void test_hangup_all(void **state)
{
	struct rt_sip_phone_call talking = plan("+17735550106", 100, 20000),
				 ringing = plan("+17735550107", 20000, 0);
	struct outcome o[2];
	(void)state;

	outcome_init(&o[0]);
	outcome_init(&o[1]);
	assert_int_equal(rt_sip_phone_call(phone, &talking, done_h, &o[0]), 0);
	assert_int_equal(rt_sip_phone_call(phone, &ringing, done_h, &o[1]), 0);
	usleep(800 * 1000);
	rt_sip_phone_hangup(phone);
	outcome_wait(&o[0]);
	outcome_wait(&o[1]);
	assert_true(o[0].r.interrupted && o[1].r.interrupted);
	assert_true(o[0].r.answered);
	assert_int_equal(o[0].r.hangup, RT_SIP_SIDE_CALLER);
	assert_false(o[1].r.answered);
	assert_int_equal(o[1].r.status, 487);
	assert_true(o[0].r.talk_ms < 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_answered),
		cmocka_unit_test(test_agent_hangs_up),
		cmocka_unit_test(test_unanswered),
		cmocka_unit_test(test_hangup_all),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
