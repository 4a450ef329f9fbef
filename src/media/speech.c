/*
 * Speech with flite (Debian's flite1-dev), the only file that sees it: the
 * slt voice (US female) and rms (US male), which the team's notes measured
 * as the two flite voices that a recogniser reads best.  The simulator's
 * businesses speak with slt and its callers with rms; call flows' prompts
 * are slt.  Both render at 16 kHz, brought down here to
 * the 8 kHz of the telephone with a low-pass filter (flite's own
 * resampler copies between overlapping buffers, which AddressSanitizer
 * rightly refuses).
 *
 * flite keeps global state (its init, the voices' registration): a
 * process renders from one thread.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>

#include "media/speech.h"

#define RATE   8000
#define TAPS   63     /* of the low-pass filter, odd */
#define CUTOFF 3600.0 /* Hz: below the 4 kHz of an 8 kHz signal */

/* Declared by no flite header: the voices' own entry points. */
extern cst_voice *register_cmu_us_slt(const char *voxdir);
extern void unregister_cmu_us_slt(cst_voice *v);
extern cst_voice *register_cmu_us_rms(const char *voxdir);
extern void unregister_cmu_us_rms(cst_voice *v);

struct rt_speech {
	cst_voice *slt, *rms;
};

int rt_speech_alloc(struct rt_speech **sp)
{
	struct rt_speech *s = calloc(1, sizeof(*s));

	if (!s)
		return ENOMEM;
	flite_init();
	s->slt = register_cmu_us_slt(NULL);
	s->rms = register_cmu_us_rms(NULL);
	if (!s->slt || !s->rms) {
		rt_speech_free(s);
		return ENOMEM;
	}
	*sp = s;
	return 0;
}

void rt_speech_free(struct rt_speech *s)
{
	if (!s)
		return;
	if (s->slt)
		unregister_cmu_us_slt(s->slt);
	if (s->rms)
		unregister_cmu_us_rms(s->rms);
	free(s);
}

/*
 * Resamples n samples at rate (a multiple of 8 kHz) into out (n / ratio
 * samples): a windowed-sinc low-pass (Hamming) at CUTOFF, then every
 * ratio-th sample.
 */
static size_t decimate(const short *in, size_t n, unsigned ratio, int16_t *out)
{
	double h[TAPS], sum = 0;
	double fc = CUTOFF / ((double)RATE * ratio);
	size_t k = 0;
	const int m = (TAPS - 1) / 2;

	for (int i = 0; i < TAPS; i++) {
		double x = i - m;
		double sinc =
			x == 0 ? 2 * fc : sin(2 * M_PI * fc * x) / (M_PI * x);

		h[i] = sinc * (0.54 - 0.46 * cos(2 * M_PI * i / (TAPS - 1)));
		sum += h[i];
	}
	for (int i = 0; i < TAPS; i++)
		h[i] /= sum; /* a gain of 1 at 0 Hz */
	for (size_t j = 0; j < n; j += ratio) {
		double acc = 0;

		for (int i = 0; i < TAPS; i++) {
			long at = (long)j + m - i;

			if (at >= 0 && (size_t)at < n)
				acc += h[i] * in[at];
		}
		out[k++] = (int16_t)(acc > 32767    ? 32767
				     : acc < -32768 ? -32768
						    : lrint(acc));
	}
	return k;
}

int rt_speech_say(struct rt_speech *s, enum rt_voice voice, const char *text,
		  int16_t **pcmp, size_t *lenp)
{
	cst_wave *w = flite_text_to_wave(text, voice == RT_VOICE_SLT ? s->slt
								     : s->rms);
	int16_t *pcm;
	unsigned ratio;
	size_t n;

	if (!w)
		return EINVAL;
	n = w->num_samples > 0 ? (size_t)w->num_samples : 0;
	if (!n || w->num_channels != 1 || w->sample_rate < RATE ||
	    w->sample_rate % RATE) {
		delete_wave(w);
		return EINVAL;
	}
	ratio = (unsigned)(w->sample_rate / RATE);
	pcm = malloc((n / ratio + 1) * sizeof(*pcm));
	if (!pcm) {
		delete_wave(w);
		return ENOMEM;
	}
	n = decimate(w->samples, n, ratio, pcm);
	delete_wave(w);
	*pcmp = pcm;
	*lenp = n;
	return 0;
}
