/*
 * The prompt cache (prompt.h): a hash table of entries by text (or by an
 * uploaded file's id), a queue of those waiting for the render thread (the
 * one thread that runs flite), and a list by last use for eviction.  One
 * mutex guards it all; the render thread drops it while speaking.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "media/prompt.h"
#include "media/speech.h"
#include "util/util.h"

#define RT_LOG_MODULE "media"

#define BUCKETS	  1024
#define DEF_BYTES ((size_t)64 << 20)

enum state { QUEUED, READY, FAILED };

struct entry {
	struct rt_prompt pr;	     /* first: a prompt is its entry */
	struct entry *hnext;	     /* bucket chain */
	struct entry *qnext;	     /* render queue */
	struct entry *lprev, *lnext; /* by last use, newest first */
	enum state state;
	unsigned refs;
	uint32_t hash;
	int64_t audio_id; /* an uploaded file's; 0 for text */
	char text[];
};

struct rt_prompts {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stop;
	struct entry *buckets[BUCKETS];
	struct entry *qhead, *qtail;
	struct entry *lru_head, *lru_tail;
	size_t max_bytes;
	struct rt_prompts_stats st;
};

static uint32_t hash_of(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static uint32_t hash_of_id(int64_t id)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(x >> 32);
}

static size_t bytes_of(const struct entry *e)
{
	return sizeof(*e) + strlen(e->text) + e->pr.n * sizeof(int16_t);
}

static void lru_unlink(struct rt_prompts *p, struct entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		p->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		p->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_front(struct rt_prompts *p, struct entry *e)
{
	if (p->lru_head == e)
		return;
	if (e->lprev || e->lnext || p->lru_tail == e)
		lru_unlink(p, e);
	e->lnext = p->lru_head;
	if (p->lru_head)
		p->lru_head->lprev = e;
	p->lru_head = e;
	if (!p->lru_tail)
		p->lru_tail = e;
}

static void drop(struct rt_prompts *p, struct entry *e)
{
	struct entry **pp = &p->buckets[e->hash % BUCKETS];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(p, e);
	p->st.entries--;
	p->st.bytes -= bytes_of(e);
	free((void *)(uintptr_t)e->pr.pcm);
	free(e);
}

/* Oldest first, those neither playing nor waiting to be rendered, and
 * not keep (just rendered: its caller has not had it yet). */
static void evict(struct rt_prompts *p, const struct entry *keep)
{
	struct entry *e = p->lru_tail;

	while (e && p->st.bytes > p->max_bytes) {
		struct entry *prev = e->lprev;

		if (!e->refs && e->state != QUEUED && e != keep) {
			drop(p, e);
			p->st.evicted++;
		}
		e = prev;
	}
}

static void *render_main(void *arg)
{
	struct rt_prompts *p = arg;
	struct rt_speech *sp = NULL;
	int err = rt_speech_alloc(&sp);

	if (err)
		rt_error("speech engine failed", "err=%d", err);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct entry *e;
		int16_t *pcm = NULL;
		size_t n = 0;
		int rc;

		while (!p->stop && !p->qhead)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stop)
			break;
		e = p->qhead;
		p->qhead = e->qnext;
		if (!p->qhead)
			p->qtail = NULL;
		e->refs++; /* kept while the lock is let go */
		pthread_mutex_unlock(&p->lock);
		rc = sp ? rt_speech_say(sp, RT_VOICE_SLT, e->text, &pcm, &n)
			: ENOSYS;
		pthread_mutex_lock(&p->lock);
		e->refs--;
		if (rc) {
			e->state = FAILED;
			p->st.failed++;
			free(pcm);
		} else {
			e->pr.pcm = pcm;
			e->pr.n = n;
			e->state = READY;
			p->st.rendered++;
			p->st.bytes += n * sizeof(int16_t);
		}
		evict(p, e);
	}
	pthread_mutex_unlock(&p->lock);
	rt_speech_free(sp);
	return NULL;
}

int rt_prompts_start(struct rt_prompts **pp, size_t max_bytes)
{
	struct rt_prompts *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return ENOMEM;
	p->max_bytes = max_bytes ? max_bytes : DEF_BYTES;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	err = pthread_create(&p->thread, NULL, render_main, p);
	if (err) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake);
		free(p);
		return err;
	}
	*pp = p;
	return 0;
}

void rt_prompts_stop(struct rt_prompts *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	for (size_t i = 0; i < BUCKETS; i++)
		while (p->buckets[i])
			drop(p, p->buckets[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p);
}

/* Text a caller hears something of: a letter or a digit. */
static bool speaks(const char *s)
{
	for (; *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || (unsigned char)*s >= 0x80)
			return true;
	return false;
}

int rt_prompts_get(struct rt_prompts *p, const char *text,
		   const struct rt_prompt **out)
{
	uint32_t h;
	struct entry *e;
	size_t len;
	int err;

	if (!text || !speaks(text) || (len = strlen(text)) > RT_PROMPT_TEXT_MAX)
		return EINVAL;
	h = hash_of(text);
	pthread_mutex_lock(&p->lock);
	for (e = p->buckets[h % BUCKETS]; e; e = e->hnext)
		if (e->hash == h && !e->audio_id && strcmp(e->text, text) == 0)
			break;
	if (e) {
		lru_front(p, e);
		switch (e->state) {
		case READY:
			e->refs++;
			p->st.hits++;
			*out = &e->pr;
			err = 0;
			break;
		case FAILED:
			err = EINVAL;
			break;
		default:
			err = EINPROGRESS;
			break;
		}
		pthread_mutex_unlock(&p->lock);
		return err;
	}
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e) {
		pthread_mutex_unlock(&p->lock);
		return ENOMEM;
	}
	memcpy(e->text, text, len + 1);
	e->hash = h;
	e->state = QUEUED;
	e->hnext = p->buckets[h % BUCKETS];
	p->buckets[h % BUCKETS] = e;
	lru_front(p, e);
	if (p->qtail)
		p->qtail->qnext = e;
	else
		p->qhead = e;
	p->qtail = e;
	p->st.entries++;
	p->st.bytes += bytes_of(e);
	p->st.misses++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return EINPROGRESS;
}

void rt_prompts_release(struct rt_prompts *p, const struct rt_prompt *pr)
{
	struct entry *e = (struct entry *)(uintptr_t)pr;

	if (!pr)
		return;
	pthread_mutex_lock(&p->lock);
	if (e->refs)
		e->refs--;
	evict(p, NULL);
	pthread_mutex_unlock(&p->lock);
}

const struct rt_prompt *rt_prompts_hold(struct rt_prompts *p,
					const struct rt_prompt *pr)
{
	struct entry *e = (struct entry *)(uintptr_t)pr;

	pthread_mutex_lock(&p->lock);
	e->refs++;
	pthread_mutex_unlock(&p->lock);
	return pr;
}

/* The entry of audio_id, under the lock. */
static struct entry *audio_find(struct rt_prompts *p, int64_t audio_id)
{
	uint32_t h = hash_of_id(audio_id);
	struct entry *e;

	for (e = p->buckets[h % BUCKETS]; e; e = e->hnext)
		if (e->audio_id == audio_id)
			return e;
	return NULL;
}

int rt_prompts_audio_get(struct rt_prompts *p, int64_t audio_id,
			 const struct rt_prompt **out)
{
	struct entry *e;

	pthread_mutex_lock(&p->lock);
	e = audio_find(p, audio_id);
	if (e) {
		e->refs++;
		lru_front(p, e);
		p->st.hits++;
		*out = &e->pr;
	}
	pthread_mutex_unlock(&p->lock);
	return e ? 0 : ENOENT;
}

int rt_prompts_audio_put(struct rt_prompts *p, int64_t audio_id, int16_t *pcm,
			 size_t n, const struct rt_prompt **out)
{
	struct entry *e;
	uint32_t h = hash_of_id(audio_id);

	if (audio_id <= 0 || !n)
		RT_BUG("audio %lld with %zu samples", (long long)audio_id, n);
	pthread_mutex_lock(&p->lock);
	e = audio_find(p, audio_id);
	if (e) { /* put by another load meanwhile: the same file */
		free(pcm);
		pcm = NULL;
	} else {
		e = calloc(1, sizeof(*e) + 1);
		if (!e) {
			pthread_mutex_unlock(&p->lock);
			free(pcm);
			return ENOMEM;
		}
		e->pr.pcm = pcm;
		e->pr.n = n;
		e->state = READY;
		e->audio_id = audio_id;
		e->hash = h;
		e->hnext = p->buckets[h % BUCKETS];
		p->buckets[h % BUCKETS] = e;
		p->st.entries++;
		p->st.bytes += bytes_of(e);
	}
	e->refs++;
	lru_front(p, e);
	evict(p, e);
	*out = &e->pr;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void rt_prompts_stats(struct rt_prompts *p, struct rt_prompts_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}
