/*
 * Uploaded audio files (audio.h): libsndfile reads the bytes through its
 * virtual I/O (Debian 12's 1.2 decodes MP3 with mpg123, Ogg Vorbis and
 * Opus with libvorbis and libopus), the channels are averaged, and
 * libsamplerate's fastest sinc converter takes the result to 8 kHz,
 * low-passed below 4 kHz as the telephone band needs (its better ones
 * cost twice the time for nothing a call carries: docs/internals/media.md).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <samplerate.h>
#include <sndfile.h>

#include "media/audio.h"
#include "util/util.h"

#define RT_LOG_MODULE "media"

#define CHUNK	     4096 /* frames read at a time */
#define MAX_CHANNELS 64
#define MAX_RATE     384000

/* ---- libsndfile's virtual I/O over a buffer ---- */

struct vio {
	const unsigned char *p;
	sf_count_t len, pos;
};

static sf_count_t vio_len(void *arg)
{
	return ((struct vio *)arg)->len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *arg)
{
	struct vio *v = arg;
	sf_count_t to;

	switch (whence) {
	case SEEK_SET:
		to = off;
		break;
	case SEEK_CUR:
		to = v->pos + off;
		break;
	case SEEK_END:
		to = v->len + off;
		break;
	default:
		return -1;
	}
	if (to < 0)
		return -1;
	v->pos = to > v->len ? v->len : to;
	return v->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t n, void *arg)
{
	struct vio *v = arg;
	sf_count_t left = v->len - v->pos;

	if (n > left)
		n = left;
	if (n <= 0)
		return 0;
	memcpy(ptr, v->p + v->pos, (size_t)n);
	v->pos += n;
	return n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t n, void *arg)
{
	(void)ptr;
	(void)n;
	(void)arg;
	return 0; /* read only */
}

static sf_count_t vio_tell(void *arg)
{
	return ((struct vio *)arg)->pos;
}

/* ---- the output: 8 kHz samples, grown as they come ---- */

struct out {
	int16_t *pcm;
	size_t n, cap, max;
};

static int out_put(struct out *o, const float *x, size_t n)
{
	if (o->n + n > o->max)
		return EFBIG;
	if (o->n + n > o->cap) {
		size_t cap = o->cap ? o->cap : 8 * RT_AUDIO_OUT_RATE;
		int16_t *p;

		while (cap < o->n + n)
			cap *= 2;
		if (cap > o->max)
			cap = o->max;
		p = realloc(o->pcm, cap * sizeof(*p));
		if (!p)
			return ENOMEM;
		o->pcm = p;
		o->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		float v = x[i] *
			  32768.0f; /* libsndfile reads ints as n / 32768 */

		if (v > 32767.0f)
			v = 32767.0f;
		else if (v < -32768.0f)
			v = -32768.0f;
		o->pcm[o->n++] = (int16_t)lrintf(v);
	}
	return 0;
}

/* Resamples n mono frames of in (all of them consumed) into o. */
static int resample(SRC_STATE *src, double ratio, const float *in, size_t n,
		    bool last, float *tmp, size_t tmp_n, struct out *o)
{
	SRC_DATA d = {0};
	int err;

	d.data_in = in;
	d.input_frames = (long)n;
	d.src_ratio = ratio;
	d.end_of_input = last;
	for (;;) {
		d.data_out = tmp;
		d.output_frames = (long)tmp_n;
		if (src_process(src, &d))
			return EINVAL;
		err = out_put(o, tmp, (size_t)d.output_frames_gen);
		if (err)
			return err;
		d.data_in += d.input_frames_used;
		d.input_frames -= d.input_frames_used;
		/* At the end the converter drains what it holds. */
		if (d.input_frames == 0 && (!last || !d.output_frames_gen))
			return 0;
	}
}

static const char *format_name(int format, bool *ok)
{
	*ok = true;
	switch (format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_WAV:
	case SF_FORMAT_WAVEX:
	case SF_FORMAT_RF64:
		return "wav";
	case SF_FORMAT_MPEG:
		return "mp3";
	case SF_FORMAT_OGG:
		return "ogg";
	default:
		break;
	}
	*ok = false;
	{
		SF_FORMAT_INFO fi = {.format = format & SF_FORMAT_TYPEMASK};

		if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) ==
			    0 &&
		    fi.name)
			return fi.name;
	}
	return "unknown";
}

int rt_audio_convert(const void *data, size_t len, uint64_t max_ms,
		     int16_t **pcmp, size_t *np, const char **formatp)
{
	SF_VIRTUAL_IO io = {vio_len, vio_seek, vio_read, vio_write, vio_tell};
	struct vio v = {data, (sf_count_t)len, 0};
	struct out o = {0};
	SF_INFO info = {0};
	SNDFILE *sf;
	SRC_STATE *src = NULL;
	float *buf = NULL, *mono = NULL, *tmp = NULL;
	size_t tmp_n = 0;
	double ratio;
	bool ok;
	int err = 0;

	*formatp = NULL;
	if (!len)
		return ENODATA;
	sf = sf_open_virtual(&io, SFM_READ, &info, &v);
	if (!sf)
		return EPROTONOSUPPORT;
	*formatp = format_name(info.format, &ok);
	if (!ok) {
		err = ENOTSUP;
		goto out;
	}
	if (info.channels < 1 || info.channels > MAX_CHANNELS ||
	    info.samplerate < 1000 || info.samplerate > MAX_RATE) {
		err = EINVAL;
		goto out;
	}
	o.max = (size_t)(max_ms * RT_AUDIO_OUT_RATE / 1000);
	/* A length the header tells is checked before any decoding. */
	if (info.frames > 0 && info.frames != SF_COUNT_MAX &&
	    (uint64_t)info.frames * 1000 / (uint64_t)info.samplerate >
		    max_ms + 1000) {
		err = EFBIG;
		goto out;
	}
	ratio = (double)RT_AUDIO_OUT_RATE / info.samplerate;
	buf = malloc(sizeof(*buf) * CHUNK * (size_t)info.channels);
	mono = malloc(sizeof(*mono) * CHUNK);
	if (!buf || !mono) {
		err = ENOMEM;
		goto out;
	}
	if (info.samplerate != RT_AUDIO_OUT_RATE) {
		int serr = 0;

		tmp_n = (size_t)(CHUNK * ratio) + 256;
		tmp = malloc(sizeof(*tmp) * tmp_n);
		src = src_new(SRC_SINC_FASTEST, 1, &serr);
		if (!tmp || !src) {
			err = ENOMEM;
			goto out;
		}
	}
	for (;;) {
		sf_count_t got = sf_readf_float(sf, buf, CHUNK);

		if (got < 0)
			got = 0;
		for (sf_count_t i = 0; i < got; i++) {
			float sum = 0;

			for (int c = 0; c < info.channels; c++)
				sum += buf[i * info.channels + c];
			mono[i] = sum / (float)info.channels;
		}
		if (src)
			err = resample(src, ratio, mono, (size_t)got, got == 0,
				       tmp, tmp_n, &o);
		else
			err = out_put(&o, mono, (size_t)got);
		if (err || got == 0)
			break;
	}
	if (!err && sf_error(sf) != SF_ERR_NO_ERROR) {
		rt_debug("audio file does not decode", "format=%s error=\"%s\"",
			 *formatp, sf_strerror(sf));
		err = EINVAL;
	}
	if (!err && o.n == 0)
		err = ENODATA;
out:
	sf_close(sf);
	if (src)
		src_delete(src);
	free(tmp);
	free(mono);
	free(buf);
	if (err) {
		free(o.pcm);
		return err;
	}
	*pcmp = o.pcm;
	*np = o.n;
	return 0;
}

static void put16(char *p, uint16_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)(v >> 8);
}

static void put32(char *p, uint32_t v)
{
	put16(p, (uint16_t)(v & 0xffff));
	put16(p + 2, (uint16_t)(v >> 16));
}

int rt_audio_wav(const int16_t *pcm, size_t n, char **outp, size_t *lenp)
{
	size_t data = n * 2;
	char *w;

	if (data > UINT32_MAX - 36)
		return EFBIG;
	w = malloc(44 + data);
	if (!w)
		return ENOMEM;
	memcpy(w, "RIFF", 4);
	put32(w + 4, (uint32_t)(36 + data));
	memcpy(w + 8, "WAVEfmt ", 8);
	put32(w + 16, 16); /* fmt chunk */
	put16(w + 20, 1);  /* PCM */
	put16(w + 22, 1);  /* mono */
	put32(w + 24, RT_AUDIO_OUT_RATE);
	put32(w + 28, RT_AUDIO_OUT_RATE * 2); /* bytes a second */
	put16(w + 32, 2);		      /* block */
	put16(w + 34, 16);		      /* bits */
	memcpy(w + 36, "data", 4);
	put32(w + 40, (uint32_t)data);
	for (size_t i = 0; i < n; i++)
		put16(w + 44 + 2 * i, (uint16_t)pcm[i]);
	*outp = w;
	*lenp = 44 + data;
	return 0;
}
