/*
 * The SIP thread: rt_sip_start() starts it and waits until it listens (or
 * failed to); the thread owns the stack, the call machine and every RTP
 * socket, and runs libre's loop until rt_sip_stop() asks it, through the
 * loop's message queue, to end its calls and return.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_int.h"

#define RT_LOG_MODULE "sip"

struct rt_sip {
	struct rt_sip_conf conf;
	struct rt_sip_hooks hooks;
	struct rt_media_ports ports;
	struct rt_ua *ua;
	struct rt_b2bua *b2bua;
	uint16_t port, tls_port;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready;
	int err;
};

static void invite_h(struct rt_ua_leg *leg, const struct rt_ua_invite *inv,
		     void *arg)
{
	struct rt_sip *s = arg;

	rt_b2bua_invite_h(leg, inv, s->b2bua);
}

static size_t close_h(void *arg)
{
	struct rt_sip *s = arg;

	return rt_b2bua_close_h(s->b2bua);
}

static void started(struct rt_sip *s, int err)
{
	pthread_mutex_lock(&s->lock);
	s->err = err;
	s->ready = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void *thread_main(void *arg)
{
	struct rt_sip *s = arg;
	struct rt_ua_conf uc = {&s->conf, invite_h, close_h, s};
	struct sockaddr_storage ss;
	socklen_t len;
	int err;

	rt_log_ctx_clear();
	err = rt_ua_lib_init();
	if (!err)
		err = rt_ua_alloc(&s->ua, &uc);
	if (!err) {
		rt_ua_laddr(s->ua, &ss, &len);
		s->port = ntohs(
			ss.ss_family == AF_INET
				? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
		/* RTP is bound to the SIP address: the one peers reach. */
		s->ports.bind = ss;
		s->ports.bind_len = len;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&s->ports.bind)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&s->ports.bind)->sin6_port = 0;
		s->tls_port = rt_ua_tls_port(s->ua);
		s->ports.min = s->conf.rtp_min;
		s->ports.max = s->conf.rtp_max;
		s->ports.next = s->conf.rtp_min;
		err = rt_b2bua_alloc(&s->b2bua, s->ua, &s->conf, &s->hooks,
				     &s->ports);
	}
	if (err) {
		rt_b2bua_free(s->b2bua);
		rt_ua_free(s->ua);
		rt_ua_lib_close();
		started(s, err);
		return NULL;
	}
	started(s, 0);
	rt_ua_run(s->ua);
	rt_b2bua_free(s->b2bua);
	rt_ua_free(s->ua);
	rt_ua_lib_close();
	return NULL;
}

int rt_sip_start(struct rt_sip **sp, const struct rt_sip_conf *conf,
		 const struct rt_sip_hooks *hooks)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct rt_sip *s;
	int err;

	if (rt_sip_addr_parse(conf->listen, &ss, &len) || !hooks->route ||
	    conf->rtp_min < 1024 || conf->rtp_max < conf->rtp_min + 3 ||
	    (conf->rtp_min & 1))
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->conf = *conf;
	s->hooks = *hooks;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	err = pthread_create(&s->thread, NULL, thread_main, s);
	if (err)
		goto fail;
	pthread_mutex_lock(&s->lock);
	while (!s->ready)
		pthread_cond_wait(&s->cond, &s->lock);
	err = s->err;
	pthread_mutex_unlock(&s->lock);
	if (err) {
		pthread_join(s->thread, NULL);
		goto fail;
	}
	*sp = s;
	return 0;
fail:
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return err;
}

uint16_t rt_sip_port(const struct rt_sip *s)
{
	return s->port;
}

uint16_t rt_sip_tls_port(const struct rt_sip *s)
{
	return s->tls_port;
}

void rt_sip_stop(struct rt_sip *s)
{
	if (!s)
		return;
	rt_ua_stop(s->ua);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
