/*
 * The recorder (record.h): a ring buffer per call between the SIP thread
 * and the recorder's thread, the call's timeline, the WAV writer, and the
 * compactor's queue.
 *
 * The ring is single-producer, single-consumer: the SIP thread writes a
 * packet (a 16-byte header and its payload) and publishes the new head;
 * the recorder's thread reads up to that head and publishes the tail.
 * Neither ever waits on the other.
 *
 * The timeline: each channel's audio is placed at a frame position.  The
 * first packet of a stream (an SSRC) is placed where its arrival time
 * says; the following ones where their RTP timestamps say relative to it,
 * so that network jitter does not shift the audio and lost packets leave
 * silence of their length.  A stream whose timestamps jump away from its
 * arrival times (a new source behind the same SSRC, a clock that runs
 * away) is placed by arrival again.  Frames are written once they are
 * LATENCY behind the clock, so that a late packet still finds its place;
 * the window keeps the frames not yet written, silence until audio lands.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media/g711.h"
#include "media/record_int.h"
#include "util/util.h"

#define RT_LOG_MODULE "record"

#define RING	     (32 * 1024) /* queued packets: 1.7 s of a call's two sides */
#define WIN	     8192	 /* frames not yet written: 1 s */
#define TICK_MS	     200	 /* the recorder's rounds */
#define LATENCY	     2400 /* frames (300 ms) a frame waits for late audio */
#define AHEAD	     800  /* a timestamp this far ahead of arrival... */
#define BEHIND	     4000 /* ...or this far behind: placed by arrival */
#define MAX_PAYLOAD  480  /* 60 ms of G.711 */
#define STOP_WAIT_MS 5000 /* for producers to close at stop */

struct pkt {
	uint16_t len;
	uint8_t chan, alaw;
	uint32_t ts, ssrc;
	uint32_t at; /* arrival, in frames since the recording began */
};

struct chan {
	bool anchored;
	uint32_t ssrc, ts0;
	int64_t pos0;
};

struct rt_rec {
	struct rt_rec *next;
	struct rt_recorder *r;
	uint64_t start_us; /* monotonic, when opened */

	/* Shared with the producer. */
	_Atomic uint32_t head, tail;
	_Atomic bool closed;
	_Atomic uint32_t end_at; /* frames, set before closed */
	_Atomic uint64_t overflow;

	/* The recorder's thread only. */
	int64_t call_id;
	char path[RT_REC_PATH_MAX];
	bool alaw;
	bool opened;
	int fd, err;
	struct chan ch[2];
	int64_t written, hi; /* frames in the file; end of the latest audio */
	uint64_t late;
	uint8_t win[WIN * RT_REC_CHANNELS];
	uint8_t ring[RING];
};

struct job {
	struct job *next;
	int64_t call_id;
	char path[RT_REC_PATH_MAX];
};

struct rt_recorder {
	char *dir;
	bool opus;
	rt_rec_done_h *doneh;
	void *arg;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct rt_rec *incoming; /* opened, not yet taken by the thread */
	bool stop;
	pthread_t thread;
	struct rt_rec *active; /* the thread's */

	pthread_mutex_t jlock;
	pthread_cond_t jwake;
	struct job *jobs, **jtail;
	atomic_bool jstop;
	pthread_t compactor;

	/* For /metrics. */
	atomic_size_t open, jobs_queued;
	atomic_ullong made, failed, dropped, compacted;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t frames_since(const struct rt_rec *s, uint64_t now)
{
	return (uint32_t)((now - s->start_us) * RT_REC_RATE / 1000000u);
}

static int64_t frames_ms(int64_t frames)
{
	return frames * 1000 / RT_REC_RATE;
}

/* ---- the producer's side (SIP thread) ----------------------------------- */

static void ring_put(uint8_t *ring, uint32_t at, const void *src, size_t n)
{
	size_t off = at % RING, first = n < RING - off ? n : RING - off;

	memcpy(ring + off, src, first);
	memcpy(ring, (const uint8_t *)src + first, n - first);
}

void rt_rec_audio(struct rt_rec *s, int channel, uint32_t ts, uint32_t ssrc,
		  bool alaw, const uint8_t *payload, size_t len)
{
	uint32_t head, tail, need;
	struct pkt p;

	if (!s || !len || len > MAX_PAYLOAD || (channel != 0 && channel != 1))
		return;
	need = (uint32_t)(sizeof(p) + ((len + 3) & ~(size_t)3));
	head = atomic_load_explicit(&s->head, memory_order_relaxed);
	tail = atomic_load_explicit(&s->tail, memory_order_acquire);
	if (RING - (head - tail) < need) {
		atomic_fetch_add_explicit(&s->overflow, 1,
					  memory_order_relaxed);
		return;
	}
	p = (struct pkt){
		.len = (uint16_t)len,
		.chan = (uint8_t)channel,
		.alaw = alaw,
		.ts = ts,
		.ssrc = ssrc,
		.at = frames_since(s, mono_us()),
	};
	ring_put(s->ring, head, &p, sizeof(p));
	ring_put(s->ring, head + (uint32_t)sizeof(p), payload, len);
	atomic_store_explicit(&s->head, head + need, memory_order_release);
}

void rt_rec_close(struct rt_rec *s)
{
	if (!s)
		return;
	atomic_store_explicit(&s->end_at, frames_since(s, mono_us()),
			      memory_order_relaxed);
	atomic_store_explicit(&s->closed, true, memory_order_release);
}

struct rt_rec *rt_rec_open(struct rt_recorder *r, int64_t call_id,
			   const char *path, bool alaw)
{
	struct rt_rec *s;

	if (!r || strlen(path) >= sizeof(s->path))
		return NULL;
	/* Not zeroed: the ring and the window are written before read. */
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	memset(s, 0, offsetof(struct rt_rec, win));
	s->r = r;
	s->start_us = mono_us();
	atomic_init(&s->head, 0);
	atomic_init(&s->tail, 0);
	atomic_init(&s->closed, false);
	atomic_init(&s->end_at, 0);
	atomic_init(&s->overflow, 0);
	s->call_id = call_id;
	rt_strlcpy(s->path, path, sizeof(s->path));
	s->alaw = alaw;
	s->fd = -1;
	pthread_mutex_lock(&r->lock);
	if (r->stop) {
		pthread_mutex_unlock(&r->lock);
		free(s);
		return NULL;
	}
	s->next = r->incoming;
	r->incoming = s;
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_add(&r->open, 1);
	return s;
}

/* ---- the recorder's thread ---------------------------------------------- */

/* mkdir -p of the folders above a file. */
static int make_parents(char *abspath)
{
	for (char *p = strchr(abspath + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(abspath, 0750) != 0 && errno != EEXIST) {
			int err = errno;

			*p = '/';
			return err;
		}
		*p = '/';
	}
	return 0;
}

static void file_open(struct rt_rec *s)
{
	uint8_t h[RT_WAV_HEADER];
	char *abs = rt_asprintf("%s/%s", s->r->dir, s->path);
	int err = abs ? make_parents(abs) : ENOMEM;

	s->opened = true;
	memset(s->win, s->alaw ? RT_G711_ALAW_SILENCE : RT_G711_ULAW_SILENCE,
	       sizeof(s->win));
	if (!err) {
		s->fd = open(abs, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     0640);
		err = s->fd < 0 ? errno : 0;
	}
	if (!err) {
		rt_wav_header(h, s->alaw, 0);
		if (write(s->fd, h, sizeof(h)) != (ssize_t)sizeof(h))
			err = errno ? errno : EIO;
	}
	if (err) {
		char q[300];

		s->err = err;
		rt_warn("cannot record the call",
			"call=%lld path=%s err=\"%s\"", (long long)s->call_id,
			rt_log_q(q, sizeof(q), abs ? abs : s->path),
			strerror(err));
	}
	free(abs);
}

/* Writes the window's frames up to (not including) frame target. */
static void flush_to(struct rt_rec *s, int64_t target)
{
	uint8_t silence = s->alaw ? RT_G711_ALAW_SILENCE : RT_G711_ULAW_SILENCE;

	while (s->written < target) {
		size_t idx = (size_t)(s->written % WIN);
		size_t run = (size_t)(target - s->written);
		uint8_t *p = s->win + idx * RT_REC_CHANNELS;

		if (run > WIN - idx)
			run = WIN - idx;
		for (size_t off = 0; !s->err && off < run * RT_REC_CHANNELS;) {
			ssize_t n = write(s->fd, p + off,
					  run * RT_REC_CHANNELS - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				s->err = n < 0 ? errno : EIO;
				rt_warn("recording write failed; the rest of "
					"the call is not recorded",
					"call=%lld err=\"%s\"",
					(long long)s->call_id,
					strerror(s->err));
				break;
			}
			off += (size_t)n;
		}
		if (s->err)
			return;
		memset(p, silence, run * RT_REC_CHANNELS);
		s->written += (int64_t)run;
	}
}

static void place(struct rt_rec *s, const struct pkt *p, const uint8_t *audio)
{
	struct chan *c = &s->ch[p->chan];
	const uint8_t *conv = NULL;
	int64_t pos = 0;

	if (c->anchored && c->ssrc == p->ssrc) {
		pos = c->pos0 + (int32_t)(p->ts - c->ts0);
		if (pos > (int64_t)p->at + AHEAD ||
		    pos < (int64_t)p->at - BEHIND)
			c->anchored = false;
	}
	if (!c->anchored || c->ssrc != p->ssrc) {
		c->anchored = true;
		c->ssrc = p->ssrc;
		c->ts0 = p->ts;
		c->pos0 = pos = p->at;
	}
	if (pos + p->len <= s->written) {
		s->late++;
		return;
	}
	if (pos + p->len > s->written + WIN)
		flush_to(s, pos + p->len - WIN);
	if (p->alaw != s->alaw)
		conv = s->alaw ? rt_g711_ulaw_to_alaw()
			       : rt_g711_alaw_to_ulaw();
	for (size_t i = 0; i < p->len; i++) {
		int64_t f = pos + (int64_t)i;

		if (f < s->written)
			continue;
		s->win[(size_t)(f % WIN) * RT_REC_CHANNELS + p->chan] =
			conv ? conv[audio[i]] : audio[i];
	}
	if (pos + p->len > s->hi)
		s->hi = pos + p->len;
}

static void ring_get(const uint8_t *ring, uint32_t at, void *dst, size_t n)
{
	size_t off = at % RING, first = n < RING - off ? n : RING - off;

	memcpy(dst, ring + off, first);
	memcpy((uint8_t *)dst + first, ring, n - first);
}

static void drain(struct rt_rec *s)
{
	uint32_t head = atomic_load_explicit(&s->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&s->tail, memory_order_relaxed);
	uint8_t audio[MAX_PAYLOAD];

	while (tail != head) {
		struct pkt p;

		ring_get(s->ring, tail, &p, sizeof(p));
		if (s->fd >= 0 && !s->err) {
			ring_get(s->ring, tail + (uint32_t)sizeof(p), audio,
				 p.len);
			place(s, &p, audio);
		}
		tail += (uint32_t)(sizeof(p) + ((p.len + 3u) & ~3u));
	}
	atomic_store_explicit(&s->tail, tail, memory_order_release);
}

static void queue_compaction(struct rt_recorder *r, int64_t call_id,
			     const char *path)
{
	struct job *j;

	if (!r->opus)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		return; /* compacted at the next start */
	j->call_id = call_id;
	rt_strlcpy(j->path, path, sizeof(j->path));
	pthread_mutex_lock(&r->jlock);
	*r->jtail = j;
	r->jtail = &j->next;
	pthread_cond_signal(&r->jwake);
	pthread_mutex_unlock(&r->jlock);
	atomic_fetch_add(&r->jobs_queued, 1);
}

/* The call is over: the rest of its audio, the header, the done hook. */
static void finish(struct rt_recorder *r, struct rt_rec *s)
{
	int64_t end = atomic_load_explicit(&s->end_at, memory_order_relaxed);
	struct rt_rec_result res = {
		.call_id = s->call_id,
		.path = s->path,
		.format = "wav",
		.channels = RT_REC_CHANNELS,
		.sample_rate = RT_REC_RATE,
	};

	drain(s);
	if (s->fd >= 0 && !s->err) {
		uint8_t h[RT_WAV_HEADER];

		flush_to(s, end > s->hi ? end : s->hi);
		rt_wav_header(h, s->alaw, (uint64_t)s->written);
		if (pwrite(s->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) &&
		    !s->err)
			s->err = errno ? errno : EIO;
	}
	if (s->fd >= 0 && close(s->fd) != 0 && !s->err)
		s->err = errno;
	res.duration_ms = frames_ms(s->written);
	res.bytes =
		s->fd >= 0 ? RT_WAV_HEADER + s->written * RT_REC_CHANNELS : 0;
	res.err = s->err;
	res.complete = !s->err;
	res.dropped = s->late + atomic_load(&s->overflow);
	rt_info("recording finished",
		"call=%lld path=%s duration_ms=%lld dropped=%llu err=%d",
		(long long)s->call_id, s->path, (long long)res.duration_ms,
		(unsigned long long)res.dropped, s->err);
	atomic_fetch_sub(&r->open, 1);
	atomic_fetch_add(res.complete ? &r->made : &r->failed, 1);
	atomic_fetch_add(&r->dropped, res.dropped);
	if (r->doneh)
		r->doneh(&res, r->arg);
	if (res.complete)
		queue_compaction(r, s->call_id, s->path);
}

static void *recorder_main(void *arg)
{
	struct rt_recorder *r = arg;
	uint64_t stop_at = 0;

	for (;;) {
		struct timespec until = rt_deadline_ms(TICK_MS);
		struct rt_rec **pp, *in;
		uint64_t now;
		bool stop;

		pthread_mutex_lock(&r->lock);
		if (!r->stop)
			pthread_cond_timedwait(&r->wake, &r->lock, &until);
		in = r->incoming;
		r->incoming = NULL;
		stop = r->stop;
		pthread_mutex_unlock(&r->lock);
		while (in) {
			struct rt_rec *next = in->next;

			in->next = r->active;
			r->active = in;
			in = next;
		}
		now = mono_us();
		if (stop && !stop_at)
			stop_at = now;
		for (pp = &r->active; *pp;) {
			struct rt_rec *s = *pp;
			bool closed =
				atomic_load_explicit(&s->closed,
						     memory_order_acquire);

			if (!s->opened)
				file_open(s);
			if (!closed && stop &&
			    now - stop_at > STOP_WAIT_MS * 1000u) {
				/* A producer that never closed: the file is
				 * finished, the struct left to it. */
				rt_error("recording still open at stop",
					 "call=%lld", (long long)s->call_id);
				atomic_store(&s->end_at, frames_since(s, now));
				finish(r, s);
				*pp = s->next;
				continue;
			}
			if (closed) {
				finish(r, s);
				*pp = s->next;
				free(s);
				continue;
			}
			drain(s);
			if (s->fd >= 0 && !s->err)
				flush_to(s, (int64_t)frames_since(s, now) -
						    LATENCY);
			pp = &s->next;
		}
		if (stop && !r->active)
			break;
	}
	return NULL;
}

/* ---- the compactor's thread --------------------------------------------- */

/* "x.wav" -> "x.opus" */
static bool opus_name(const char *wav, char *out, size_t size)
{
	size_t n = strlen(wav);

	if (n < 4 || strcmp(wav + n - 4, ".wav") != 0 || n + 1 >= size)
		return false;
	memcpy(out, wav, n - 4);
	memcpy(out + n - 4, ".opus", 6);
	return true;
}

static void compact(struct rt_recorder *r, const struct job *j)
{
	char opus[RT_REC_PATH_MAX], *wav_abs = NULL, *opus_abs = NULL;
	int64_t dur = 0, bytes = 0;
	int err;

	if (!opus_name(j->path, opus, sizeof(opus)))
		return;
	wav_abs = rt_asprintf("%s/%s", r->dir, j->path);
	opus_abs = rt_asprintf("%s/%s", r->dir, opus);
	err = wav_abs && opus_abs ? rt_rec_compact_file(wav_abs, opus_abs,
							&r->jstop, &dur, &bytes)
				  : ENOMEM;
	if (err == ENOENT || err == ECANCELED) {
		/* Deleted since (DELETE /v1/calls/{id}/recording), or
		 * stopping (compacted at the next start). */
	} else if (err) {
		rt_warn("recording not compacted; kept as WAV",
			"call=%lld path=%s err=\"%s\"", (long long)j->call_id,
			j->path, strerror(err));
	} else {
		struct rt_rec_result res = {
			.call_id = j->call_id,
			.path = opus,
			.format = "opus",
			.old_path = j->path,
			.duration_ms = dur,
			.bytes = bytes,
			.channels = RT_REC_CHANNELS,
			.sample_rate = RT_REC_RATE,
			.complete = true,
		};

		atomic_fetch_add(&r->compacted, 1);
		if (r->doneh)
			r->doneh(&res, r->arg);
	}
	free(wav_abs);
	free(opus_abs);
}

static void *compactor_main(void *arg)
{
	struct rt_recorder *r = arg;
	struct sched_param sp = {0};

	/* Idle priority: compaction takes only what calls leave. */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&r->jlock);
		while (!r->jobs && !atomic_load(&r->jstop))
			pthread_cond_wait(&r->jwake, &r->jlock);
		if (atomic_load(&r->jstop)) {
			pthread_mutex_unlock(&r->jlock);
			break;
		}
		j = r->jobs;
		r->jobs = j->next;
		if (!r->jobs)
			r->jtail = &r->jobs;
		pthread_mutex_unlock(&r->jlock);
		compact(r, j);
		atomic_fetch_sub(&r->jobs_queued, 1);
		free(j);
	}
	return NULL;
}

void rt_recorder_compact(struct rt_recorder *r, int64_t call_id,
			 const char *path)
{
	if (r)
		queue_compaction(r, call_id, path);
}

void rt_recorder_metrics(struct rt_recorder *r, struct rt_buf *b)
{
	rt_buf_printf(
		b,
		"# HELP ringtrail_recordings_open Calls being recorded.\n"
		"# TYPE ringtrail_recordings_open gauge\n"
		"ringtrail_recordings_open %zu\n"
		"# HELP ringtrail_recordings_total Recordings finished.\n"
		"# TYPE ringtrail_recordings_total counter\n"
		"ringtrail_recordings_total %llu\n"
		"# HELP ringtrail_recordings_failed_total Recordings whose "
		"file could not be written.\n"
		"# TYPE ringtrail_recordings_failed_total counter\n"
		"ringtrail_recordings_failed_total %llu\n"
		"# HELP ringtrail_recording_packets_dropped_total Audio "
		"packets "
		"too late to place, or over a full ring (the disk behind).\n"
		"# TYPE ringtrail_recording_packets_dropped_total counter\n"
		"ringtrail_recording_packets_dropped_total %llu\n"
		"# HELP ringtrail_recordings_compacted_total Recordings "
		"re-encoded as Ogg/Opus.\n"
		"# TYPE ringtrail_recordings_compacted_total counter\n"
		"ringtrail_recordings_compacted_total %llu\n"
		"# HELP ringtrail_recordings_compaction_queue Finished WAV "
		"recordings waiting for compaction.\n"
		"# TYPE ringtrail_recordings_compaction_queue gauge\n"
		"ringtrail_recordings_compaction_queue %zu\n",
		atomic_load(&r->open),
		(unsigned long long)atomic_load(&r->made),
		(unsigned long long)atomic_load(&r->failed),
		(unsigned long long)atomic_load(&r->dropped),
		(unsigned long long)atomic_load(&r->compacted),
		atomic_load(&r->jobs_queued));
}

/* ---- start and stop ----------------------------------------------------- */

int rt_recorder_start(struct rt_recorder **rp,
		      const struct rt_recorder_conf *conf)
{
	struct rt_recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return ENOMEM;
	r->dir = strdup(conf->dir);
	if (!r->dir) {
		free(r);
		return ENOMEM;
	}
	r->opus = conf->opus;
	r->doneh = conf->doneh;
	r->arg = conf->arg;
	r->jtail = &r->jobs;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	pthread_mutex_init(&r->jlock, NULL);
	pthread_cond_init(&r->jwake, NULL);
	err = pthread_create(&r->thread, NULL, recorder_main, r);
	if (!err) {
		err = pthread_create(&r->compactor, NULL, compactor_main, r);
		if (err) {
			pthread_mutex_lock(&r->lock);
			r->stop = true;
			pthread_cond_signal(&r->wake);
			pthread_mutex_unlock(&r->lock);
			pthread_join(r->thread, NULL);
		}
	}
	if (err) {
		pthread_cond_destroy(&r->jwake);
		pthread_mutex_destroy(&r->jlock);
		pthread_cond_destroy(&r->wake);
		pthread_mutex_destroy(&r->lock);
		free(r->dir);
		free(r);
		return err;
	}
	*rp = r;
	return 0;
}

void rt_recorder_stop(struct rt_recorder *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_lock(&r->jlock);
	atomic_store(&r->jstop, true);
	pthread_cond_signal(&r->jwake);
	pthread_mutex_unlock(&r->jlock);
	pthread_join(r->compactor, NULL);
	while (r->jobs) {
		struct job *next = r->jobs->next;

		free(r->jobs);
		r->jobs = next;
	}
	pthread_cond_destroy(&r->jwake);
	pthread_mutex_destroy(&r->jlock);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->dir);
	free(r);
}
