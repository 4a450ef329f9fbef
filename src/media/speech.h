/*
 * Text to speech: 8 kHz mono audio from text with flite (speech.c), for
 * the simulator's calls and call flows' prompts.  flite keeps global
 * state: one thread renders, always the same one per process.
 */
#ifndef RT_MEDIA_SPEECH_H
#define RT_MEDIA_SPEECH_H

#include <stddef.h>
#include <stdint.h>

enum rt_voice {
	RT_VOICE_SLT, /* US female */
	RT_VOICE_RMS, /* US male */
};

struct rt_speech;
int rt_speech_alloc(struct rt_speech **sp);
void rt_speech_free(struct rt_speech *s); /* NULL is fine */
/* 8 kHz mono of text in voice into *pcmp (the caller frees).  0, EINVAL
 * when nothing came out, ENOMEM. */
int rt_speech_say(struct rt_speech *s, enum rt_voice voice, const char *text,
		  int16_t **pcmp, size_t *lenp);

#endif
