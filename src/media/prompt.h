/*
 * Prompts: the audio that call flows play to callers and agents, spoken
 * from text once (speech.c, the slt voice) and kept in memory for every
 * call that plays it.  The SIP thread must never wait on the renderer: a
 * prompt not rendered yet is queued and the caller asks again later (the
 * SIP side polls on its loop); flows' prompts are asked for when a flow is
 * loaded, so a call rarely waits.  Memory is bounded: the prompts used
 * longest ago and not playing go first.  Thread-safe.
 *
 * The cache also holds audio that was not spoken: uploaded files
 * (audio.h), put in by whoever loaded them (the call router, when it
 * loads a flow that plays them) and found by their id.  They are not
 * rendered; held by the flows that play them, they are never evicted.
 */
#ifndef RT_MEDIA_PROMPT_H
#define RT_MEDIA_PROMPT_H

#include <stddef.h>
#include <stdint.h>

/* A rendered prompt: read-only; valid until released. */
struct rt_prompt {
	const int16_t *pcm; /* 8 kHz mono */
	size_t n;	    /* samples */
};

struct rt_prompts;

struct rt_prompts_stats {
	uint64_t rendered, failed, hits, misses, evicted;
	size_t entries, bytes;
};

/* max_bytes of audio kept (0: 64 MiB, about 70 minutes).  Starts the
 * render thread. */
int rt_prompts_start(struct rt_prompts **pp, size_t max_bytes);
/* After every prompt is released; NULL is fine. */
void rt_prompts_stop(struct rt_prompts *p);
/*
 * The prompt for text: 0 with *out (a reference: rt_prompts_release it
 * when done), EINPROGRESS while it is rendered (it was queued; ask
 * again), EINVAL for text that speaks nothing or is longer than
 * RT_PROMPT_TEXT_MAX bytes, ENOMEM.
 */
int rt_prompts_get(struct rt_prompts *p, const char *text,
		   const struct rt_prompt **out);
void rt_prompts_release(struct rt_prompts *p, const struct rt_prompt *pr);
/* Another reference to pr, of which the caller holds one. */
const struct rt_prompt *rt_prompts_hold(struct rt_prompts *p,
					const struct rt_prompt *pr);
/*
 * Uploaded audio file audio_id's n samples of 8 kHz mono: takes pcm over
 * (freed when the entry already exists, or on failure) and gives 0 with
 * *out, a reference to the entry, or ENOMEM.
 */
int rt_prompts_audio_put(struct rt_prompts *p, int64_t audio_id, int16_t *pcm,
			 size_t n, const struct rt_prompt **out);
/* Audio file audio_id when the cache has it: 0 with *out (a reference),
 * or ENOENT. */
int rt_prompts_audio_get(struct rt_prompts *p, int64_t audio_id,
			 const struct rt_prompt **out);
void rt_prompts_stats(struct rt_prompts *p, struct rt_prompts_stats *st);

#define RT_PROMPT_TEXT_MAX 1000

#endif
