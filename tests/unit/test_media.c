/*
 * The recorder (src/media) on its own: G.711 packets in, the stereo file
 * out, read back with libsndfile.  Where each channel's audio lands (by
 * arrival across streams, by timestamp within one), silence for a lost
 * packet, out-of-order packets, the repair of a file a crash left open, and
 * the compaction to Ogg/Opus.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "media/audio.h"
#include "media/g711.h"
#include "media/prompt.h"
#include "media/record.h"
#include "media/record_int.h"
#include "util/util.h"

#define PKT 160 /* 20 ms */

struct done {
	pthread_mutex_t lock;
	int n;
	struct rt_rec_result r[4];
	char path[4][RT_REC_PATH_MAX], format[4][8], old[4][RT_REC_PATH_MAX];
};

static void done_h(const struct rt_rec_result *r, void *arg)
{
	struct done *d = arg;

	pthread_mutex_lock(&d->lock);
	if (d->n < 4) {
		d->r[d->n] = *r;
		rt_strlcpy(d->path[d->n], r->path, RT_REC_PATH_MAX);
		rt_strlcpy(d->format[d->n], r->format, 8);
		rt_strlcpy(d->old[d->n], r->old_path ? r->old_path : "",
			   RT_REC_PATH_MAX);
		d->n++;
	}
	pthread_mutex_unlock(&d->lock);
}

static int done_count(struct done *d)
{
	int n;

	pthread_mutex_lock(&d->lock);
	n = d->n;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void wait_done(struct done *d, int n)
{
	for (int i = 0; i < 1500 && done_count(d) < n; i++)
		usleep(10000);
	assert_true(done_count(d) >= n);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* One 20 ms packet of a tone at hz, mu-law, starting at sample n0. */
static void tone(uint8_t *out, double hz, uint32_t n0, bool alaw)
{
	for (int i = 0; i < PKT; i++) {
		double v = 12000.0 * sin(2 * M_PI * hz * (n0 + i) / 8000.0);

		out[i] = alaw ? rt_g711_alaw_encode((int16_t)v)
			      : rt_g711_ulaw_encode((int16_t)v);
	}
}

/* The absolute level of a channel over [from, to) frames. */
static double level(const short *buf, sf_count_t frames, int ch,
		    sf_count_t from, sf_count_t to)
{
	double sum = 0;

	if (to > frames)
		to = frames;
	for (sf_count_t i = from; i < to; i++)
		sum += fabs((double)buf[i * 2 + ch]);
	return to > from ? sum / (double)(to - from) : 0;
}

/* The first frame from which a channel's level over 10 ms is loud. */
static sf_count_t onset(const short *buf, sf_count_t frames, int ch)
{
	for (sf_count_t i = 0; i + 80 <= frames; i += 8) {
		if (level(buf, frames, ch, i, i + 80) > 3000)
			return i;
	}
	return -1;
}

static short *read_all(const char *path, SF_INFO *info)
{
	SNDFILE *f;
	short *buf;

	memset(info, 0, sizeof(*info));
	f = sf_open(path, SFM_READ, info);
	if (!f)
		fail_msg("libsndfile cannot read %s: %s", path,
			 sf_strerror(NULL));
	buf = calloc((size_t)info->frames * 2 + 2, sizeof(*buf));
	assert_non_null(buf);
	assert_int_equal(sf_readf_short(f, buf, info->frames), info->frames);
	sf_close(f);
	return buf;
}

struct fix {
	char dir[256];
	struct done d;
	struct rt_recorder *r;
};

static void fix_start(struct fix *f, bool opus)
{
	struct rt_recorder_conf c = {f->dir, opus, done_h, &f->d};

	memset(&f->d, 0, sizeof(f->d));
	pthread_mutex_init(&f->d.lock, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/rt-rec-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	c.dir = f->dir;
	assert_int_equal(rt_recorder_start(&f->r, &c), 0);
}

static void fix_stop(struct fix *f)
{
	char cmd[300];

	rt_recorder_stop(f->r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	pthread_mutex_destroy(&f->d.lock);
}

/*
 * The caller talks (400 Hz) from the start with one packet lost and two
 * swapped; the agent (1000 Hz, A-law while the file is mu-law) starts
 * 500 ms later by the clock, with a timestamp base of its own.
 */
static void test_channels_aligned(void **state)
{
	struct fix f;
	struct rt_rec *s;
	uint8_t p[PKT];
	char *abs;
	SF_INFO info;
	short *buf;
	sf_count_t on;
	(void)state;

	fix_start(&f, false);
	s = rt_rec_open(f.r, 7, "1/2026/11/24/7.wav", false);
	assert_non_null(s);
	/* Paced as a phone sends: a packet every 20 ms. */
	for (uint32_t k = 0; k < 50; k++) { /* 1 s of the caller */
		uint32_t n = k == 20 ? 21 : k == 21 ? 20 : k;

		if (k != 30) { /* lost: 20 ms of silence at 600 ms */
			tone(p, 400, n * PKT, false);
			rt_rec_audio(s, 0, 1000 + n * PKT, 0x1111, false, p,
				     PKT);
		}
		if (k >= 25) { /* the agent, from 500 ms by arrival */
			uint32_t j = k - 25;

			tone(p, 1000, j * PKT, true);
			rt_rec_audio(s, 1, 777777 + j * PKT, 0x2222, true, p,
				     PKT);
		}
		sleep_ms(20);
	}
	sleep_ms(300);
	rt_rec_close(s);
	wait_done(&f.d, 1);
	assert_int_equal(f.d.r[0].call_id, 7);
	assert_string_equal(f.d.format[0], "wav");
	assert_true(f.d.r[0].complete);
	assert_int_equal(f.d.r[0].err, 0);
	assert_int_equal(f.d.r[0].channels, 2);
	assert_int_equal(f.d.r[0].sample_rate, 8000);

	abs = rt_asprintf("%s/%s", f.dir, f.d.path[0]);
	buf = read_all(abs, &info);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_ULAW);
	/* The length of the recording: the time it was open, 1.3 s. */
	assert_true(info.frames >= 10000 && info.frames < 14000);
	assert_int_equal(f.d.r[0].duration_ms, info.frames * 1000 / 8000);
	assert_int_equal(f.d.r[0].bytes, 58 + info.frames * 2);
	/* The caller from the start; the lost packet is silence. */
	on = onset(buf, info.frames, 0);
	assert_true(on >= 0 && on < 80);
	assert_true(level(buf, info.frames, 0, 30 * PKT + 8, 31 * PKT - 8) <
		    50);
	assert_true(level(buf, info.frames, 0, 29 * PKT, 30 * PKT) > 5000);
	assert_true(level(buf, info.frames, 0, 31 * PKT, 32 * PKT) > 5000);
	/* The swapped pair in its place: continuous tone across it. */
	assert_true(level(buf, info.frames, 0, 20 * PKT, 22 * PKT) > 5000);
	/* The agent from 500 ms on (give or take the scheduler), silent
	 * before. */
	on = onset(buf, info.frames, 1);
	assert_true(on >= 3800 && on <= 4800);
	assert_true(level(buf, info.frames, 1, 0, 3600) < 50);
	assert_true(level(buf, info.frames, 1, on + 80, on + 3000) > 5000);
	free(buf);
	free(abs);
	fix_stop(&f);
}

/* A crash leaves the header's sizes at 0: the repair counts the audio. */
static void test_repair(void **state)
{
	char dir[] = "/tmp/rt-rep-XXXXXX", path[300];
	uint8_t h[RT_WAV_HEADER], audio[1601];
	int64_t dur = 0, bytes = 0;
	SF_INFO info;
	short *buf;
	int fd;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.wav", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	rt_wav_header(h, true, 0);
	assert_int_equal(write(fd, h, sizeof(h)), sizeof(h));
	for (size_t i = 0; i < sizeof(audio); i++)
		audio[i] = rt_g711_alaw_encode((int16_t)(i % 2 ? -9000 : 9000));
	/* 800 frames and half of one more. */
	assert_int_equal(write(fd, audio, sizeof(audio)), sizeof(audio));
	close(fd);
	assert_int_equal(rt_rec_repair(path, &dur, &bytes), 0);
	assert_int_equal(dur, 100);
	assert_int_equal(bytes, 58 + 1600);
	buf = read_all(path, &info);
	assert_int_equal(info.frames, 800);
	assert_int_equal(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_ALAW);
	assert_true(buf[0] > 8000 && buf[1] < -8000);
	free(buf);
	/* Not a recording of ours. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd,
			       "hello, this is not a wave file at all, "
			       "nor anything near one",
			       61),
			 61);
	close(fd);
	assert_int_equal(rt_rec_repair(path, &dur, &bytes), EINVAL);
	snprintf(path, sizeof(path), "%s/none.wav", dir);
	assert_int_equal(rt_rec_repair(path, &dur, &bytes), ENOENT);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* With opus, a finished WAV is reported, then its Ogg/Opus copy. */
static void test_compaction(void **state)
{
	struct fix f;
	struct rt_rec *s;
	uint8_t p[PKT];
	char *abs;
	SF_INFO info;
	short *buf;
	(void)state;

	fix_start(&f, true);
	s = rt_rec_open(f.r, 9, "2/9.wav", true);
	assert_non_null(s);
	for (uint32_t k = 0; k < 60; k++) { /* 1.2 s: tone left, right */
		tone(p, 400, k * PKT, true);
		rt_rec_audio(s, 0, k * PKT, 1, true, p, PKT);
		tone(p, 1000, k * PKT, true);
		if (k >= 30) /* the agent from 600 ms */
			rt_rec_audio(s, 1, 5000 + k * PKT, 2, true, p, PKT);
		sleep_ms(20);
	}
	rt_rec_close(s);
	wait_done(&f.d, 2);
	assert_string_equal(f.d.format[0], "wav");
	assert_string_equal(f.d.format[1], "opus");
	assert_string_equal(f.d.path[1], "2/9.opus");
	assert_string_equal(f.d.old[1], "2/9.wav");
	assert_true(f.d.r[1].complete);
	assert_true(f.d.r[1].bytes > 0 && f.d.r[1].bytes < f.d.r[0].bytes / 2);
	assert_int_equal(f.d.r[1].duration_ms, f.d.r[0].duration_ms);
	abs = rt_asprintf("%s/%s", f.dir, f.d.path[1]);
	buf = read_all(abs, &info);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.format & SF_FORMAT_TYPEMASK, SF_FORMAT_OGG);
	/* Both tones survive, each on its own channel, and the caller's
	 * does not bleed into the agent's silence. */
	assert_true(level(buf, info.frames, 0, 800, 8000) > 3000);
	assert_true(level(buf, info.frames, 1, 800, 4000) < 30);
	assert_true(level(buf, info.frames, 1, 5600, 8000) > 3000);
	free(buf);
	free(abs);
	fix_stop(&f);
}

/* A folder that cannot be written: the call goes on; the result says. */
static void test_unwritable(void **state)
{
	struct fix f;
	struct rt_rec *s;
	uint8_t p[PKT] = {0};
	char *file;
	(void)state;

	fix_start(&f, false);
	/* A file where a folder must be made. */
	file = rt_asprintf("%s/blocked", f.dir);
	assert_int_equal(close(open(file, O_WRONLY | O_CREAT, 0644)), 0);
	s = rt_rec_open(f.r, 3, "blocked/3.wav", false);
	assert_non_null(s);
	rt_rec_audio(s, 0, 0, 1, false, p, PKT);
	rt_rec_close(s);
	wait_done(&f.d, 1);
	assert_false(f.d.r[0].complete);
	assert_int_equal(f.d.r[0].err, ENOTDIR);
	assert_int_equal(f.d.r[0].bytes, 0);
	free(file);
	fix_stop(&f);
}

/* G.711 against the standard's fixed points, and what a round trip keeps:
 * every code decodes to a level that encodes back to it (but u-law's
 * negative zero, 0x7f, which is 0), and a sample comes back within half
 * a step of its segment. */
static void test_g711(void **state)
{
	(void)state;
	assert_int_equal(rt_g711_ulaw_encode(0), 0xff);
	assert_int_equal(rt_g711_alaw_encode(0), 0xd5);
	assert_int_equal(rt_g711_ulaw_encode(32767), 0x80);
	assert_int_equal(rt_g711_ulaw_encode(-32768), 0x00);
	assert_int_equal(rt_g711_alaw_encode(32767), 0xaa);
	assert_int_equal(rt_g711_alaw_encode(-32768), 0x2a);
	assert_int_equal(rt_g711_ulaw_decode(0xff), 0);
	assert_int_equal(rt_g711_ulaw_decode(0x80), 32124);
	assert_int_equal(rt_g711_ulaw_decode(0x00), -32124);
	assert_int_equal(rt_g711_alaw_decode(0xd5), 8);
	assert_int_equal(rt_g711_alaw_decode(0xaa), 32256);
	assert_int_equal(rt_g711_alaw_decode(0x2a), -32256);
	for (int b = 0; b < 256; b++) {
		if (b != 0x7f)
			assert_int_equal(rt_g711_ulaw_encode(
						 rt_g711_ulaw_decode(
							 (uint8_t)b)),
					 b);
		assert_int_equal(rt_g711_alaw_encode(
					 rt_g711_alaw_decode((uint8_t)b)),
				 b);
	}
	for (int v = -32768; v < 32768; v += 7) {
		int u = rt_g711_ulaw_decode(rt_g711_ulaw_encode((int16_t)v));
		int a = rt_g711_alaw_decode(rt_g711_alaw_encode((int16_t)v));
		int mag = v < 0 ? -v : v;
		/* Steps double with each segment: 1/16 of the level, plus
		 * the smallest step near zero. */
		int tol = mag / 16 + 64;

		if (mag > 32000)
			tol += 1024; /* the last segment clips */
		if (abs(u - v) > tol || abs(a - v) > tol)
			fail_msg("%d: u-law %d, A-law %d", v, u, a);
	}
}

/* Asks until rendered (up to 20 s). */
static const struct rt_prompt *prompt_wait(struct rt_prompts *p,
					   const char *text)
{
	const struct rt_prompt *pr = NULL;

	for (int i = 0; i < 2000; i++) {
		int err = rt_prompts_get(p, text, &pr);

		if (err == 0)
			return pr;
		assert_int_equal(err, EINPROGRESS);
		usleep(10000);
	}
	fail_msg("prompt not rendered: %s", text);
	return NULL;
}

/* Prompts: rendered once off the caller's thread, then hits; bounded,
 * never evicting one that plays; text that speaks nothing refused. */
static void test_prompts(void **state)
{
	static const char *const texts[] = {
		"Thanks for calling.",
		"Press 1 for sales.",
		"Press 2 for support.",
		"Please leave a message.",
	};
	struct rt_prompts *p;
	const struct rt_prompt *a, *b, *held;
	struct rt_prompts_stats st;
	double energy = 0;

	(void)state;
	assert_int_equal(rt_prompts_start(&p, 0), 0);
	assert_int_equal(rt_prompts_get(p, texts[0], &a), EINPROGRESS);
	a = prompt_wait(p, texts[0]);
	/* a short sentence: about a second of 8 kHz speech, not silence */
	assert_true(a->n > 4000 && a->n < 40000);
	for (size_t i = 0; i < a->n; i++)
		energy += (double)a->pcm[i] * a->pcm[i];
	assert_true(sqrt(energy / (double)a->n) > 300);
	/* the same text again: the same audio, no second rendering */
	assert_int_equal(rt_prompts_get(p, texts[0], &b), 0);
	assert_ptr_equal(a, b);
	rt_prompts_stats(p, &st);
	assert_int_equal(st.rendered, 1);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 1);
	rt_prompts_release(p, a);
	rt_prompts_release(p, b);

	assert_int_equal(rt_prompts_get(p, " ... ", &a), EINVAL);
	assert_int_equal(rt_prompts_get(p, "", &a), EINVAL);
	assert_int_equal(rt_prompts_get(p, NULL, &a), EINVAL);
	rt_prompts_stop(p);

	/* room for about one prompt: the others go, oldest first, but not
	 * the one still playing */
	assert_int_equal(rt_prompts_start(&p, 30000), 0);
	held = prompt_wait(p, texts[0]);
	for (size_t i = 1; i < RT_ARRAY_SIZE(texts); i++)
		rt_prompts_release(p, prompt_wait(p, texts[i]));
	rt_prompts_stats(p, &st);
	assert_true(st.evicted >= 2);
	assert_true(st.entries <= 2);
	assert_int_equal(rt_prompts_get(p, texts[0], &a), 0);
	assert_ptr_equal(a, held);
	rt_prompts_release(p, a);
	rt_prompts_release(p, held);
	rt_prompts_stop(p);
}

/* ---- uploaded audio files ---- */

/* A file of format (libsndfile's) holding sec seconds of a tone at hz (0:
 * none) on every channel, and of a tone at hz2 (0: none) added, half as
 * loud; its bytes in *bufp (the caller frees). */
static size_t audio_file(int format, int rate, int channels, double sec,
			 double hz, double hz2, char **bufp)
{
	char path[] = "/tmp/rt-audio-XXXXXX";
	SF_INFO info = {.samplerate = rate,
			.channels = channels,
			.format = format};
	size_t frames = (size_t)(sec * rate), len;
	float *x = calloc(frames * (size_t)channels + 1, sizeof(*x));
	int fd = mkstemp(path);
	SNDFILE *sf;
	FILE *f;

	assert_non_null(x);
	assert_true(fd >= 0);
	assert_true(sf_format_check(&info));
	for (size_t i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			x[i * (size_t)channels + (size_t)c] =
				(float)(0.5 * sin(2 * M_PI * hz * (double)i /
						  rate) +
					0.25 * sin(2 * M_PI * hz2 * (double)i /
						   rate));
	sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	assert_non_null(sf);
	assert_int_equal(sf_writef_float(sf, x, (sf_count_t)frames),
			 (sf_count_t)frames);
	sf_close(sf);
	free(x);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	*bufp = malloc(len + 1);
	assert_non_null(*bufp);
	assert_int_equal(fread(*bufp, 1, len, f), len);
	fclose(f);
	unlink(path);
	return len;
}

/* The level of the tone at hz in pcm (Goertzel), from the middle half so
 * that codecs' onsets do not count: about the amplitude of a sine. */
static double tone_level(const int16_t *pcm, size_t n, double hz)
{
	double k = 2 * cos(2 * M_PI * hz / RT_AUDIO_OUT_RATE), s1 = 0, s2 = 0;
	size_t from = n / 4, to = n - n / 4;

	for (size_t i = from; i < to; i++) {
		double s0 = pcm[i] + k * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return 2 * sqrt(s1 * s1 + s2 * s2 - k * s1 * s2) / (double)(to - from);
}

/* WAV at 44.1 kHz stereo, Ogg Vorbis, Ogg Opus and MP3 (libsndfile writes
 * all four): the length kept, a 1 kHz tone through at its level, a 6 kHz
 * one (above the 8 kHz rate's band) filtered out rather than folded down
 * to 2 kHz. */
static void test_audio_convert(void **state)
{
	static const struct {
		int format, rate, channels;
		const char *name;
		int slack_ms; /* codecs' delay and padding */
	} files[] = {
		{SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, "wav", 2},
		{SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, "wav", 2},
		{SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, "ogg", 30},
		{SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 1, "ogg", 30},
		{SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, "mp3",
		 80},
	};

	(void)state;
	for (size_t f = 0; f < RT_ARRAY_SIZE(files); f++) {
		char *buf;
		size_t len =
			audio_file(files[f].format, files[f].rate,
				   files[f].channels, 1.5, 1000, 6000, &buf);
		const char *format;
		int16_t *pcm = NULL;
		size_t n = 0;
		double at1k, at2k;

		assert_int_equal(rt_audio_convert(buf, len, 600000, &pcm, &n,
						  &format),
				 0);
		assert_string_equal(format, files[f].name);
		print_message("%s %d Hz: %zu samples\n", files[f].name,
			      files[f].rate, n);
		assert_true(labs((long)n - 12000) <=
			    files[f].slack_ms * RT_AUDIO_OUT_RATE / 1000);
		at1k = tone_level(pcm, n, 1000);
		at2k = tone_level(pcm, n, 2000);
		print_message("  1 kHz %.0f, 2 kHz %.0f\n", at1k, at2k);
		assert_true(at1k > 0.4 * 32767 && at1k < 0.6 * 32767);
		assert_true(at2k < 0.01 * 32767);
		free(pcm);
		free(buf);
	}
}

/* 8 kHz mono WAV passes as it is; a WAV of the converted samples reads
 * back the same; a file too long, empty, of another format or not audio
 * at all is refused, each for its reason. */
static void test_audio_refused(void **state)
{
	static const char junk[] = "this is not an audio file, just text\n";
	const char *format;
	int16_t *pcm = NULL, back[100];
	size_t n = 0, len;
	char *buf, *wav;
	SF_INFO info = {0};
	SNDFILE *sf;

	(void)state;
	len = audio_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.5, 440, 0,
			 &buf);
	assert_int_equal(rt_audio_convert(buf, len, 1000, &pcm, &n, &format),
			 0);
	assert_int_equal(n, 4000);
	assert_memory_equal(pcm, buf + 44, n * 2);
	assert_int_equal(rt_audio_wav(pcm, n, &wav, &len), 0);
	assert_int_equal(len, 44 + 8000);
	{
		char path[] = "/tmp/rt-audio-XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, wav, len), (ssize_t)len);
		lseek(fd, 0, SEEK_SET);
		sf = sf_open_fd(fd, SFM_READ, &info, 1);
		unlink(path);
	}
	assert_non_null(sf);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.frames, 4000);
	assert_int_equal(sf_readf_short(sf, back, 100), 100);
	assert_memory_equal(back, pcm, sizeof(back));
	sf_close(sf);
	free(wav);
	free(pcm);
	pcm = NULL;
	/* longer than allowed; cut inside its header */
	assert_int_equal(rt_audio_convert(buf, len, 400, &pcm, &n, &format),
			 EFBIG);
	assert_int_equal(rt_audio_convert(buf, 30, 1000, &pcm, &n, &format),
			 EPROTONOSUPPORT);
	free(buf);
	len = audio_file(SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 1, 2.0, 440,
			 0, &buf);
	assert_int_equal(rt_audio_convert(buf, len, 1000, &pcm, &n, &format),
			 EFBIG);
	free(buf);
	/* no samples */
	len = audio_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0, 0, 0,
			 &buf);
	assert_int_equal(rt_audio_convert(buf, len, 1000, &pcm, &n, &format),
			 ENODATA);
	free(buf);
	/* audio, but not a format prompts take */
	len = audio_file(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 1, 0.5, 440,
			 0, &buf);
	assert_int_equal(rt_audio_convert(buf, len, 1000, &pcm, &n, &format),
			 ENOTSUP);
	assert_non_null(strstr(format, "FLAC"));
	free(buf);
	/* not audio */
	assert_int_equal(rt_audio_convert(junk, sizeof(junk) - 1, 1000, &pcm,
					  &n, &format),
			 EPROTONOSUPPORT);
	assert_int_equal(rt_audio_convert(junk, 0, 1000, &pcm, &n, &format),
			 ENODATA);
}

/* Uploaded files in the prompt cache: put once, found by id (not by any
 * text), held against eviction, a second put of the same id keeping the
 * first. */
static void test_prompts_audio(void **state)
{
	struct rt_prompts *p;
	const struct rt_prompt *a, *b, *c;
	struct rt_prompts_stats st;
	int16_t *pcm = calloc(8000, sizeof(*pcm)), *again;

	(void)state;
	assert_non_null(pcm);
	pcm[10] = 1234;
	/* room for less than one file: held ones stay all the same */
	assert_int_equal(rt_prompts_start(&p, 4000), 0);
	assert_int_equal(rt_prompts_audio_get(p, 7, &a), ENOENT);
	assert_int_equal(rt_prompts_audio_put(p, 7, pcm, 8000, &a), 0);
	assert_int_equal(a->n, 8000);
	assert_int_equal(a->pcm[10], 1234);
	assert_int_equal(rt_prompts_audio_get(p, 7, &b), 0);
	assert_ptr_equal(a, b);
	assert_ptr_equal(rt_prompts_hold(p, b), b);
	rt_prompts_release(p, b);
	again = calloc(10, sizeof(*again));
	assert_non_null(again);
	assert_int_equal(rt_prompts_audio_put(p, 7, again, 10, &c), 0);
	assert_ptr_equal(c, a);
	assert_int_equal(c->n, 8000);
	rt_prompts_release(p, c);
	/* no text reaches it */
	assert_int_equal(rt_prompts_get(p, "7", &c), EINPROGRESS);
	assert_int_equal(rt_prompts_audio_get(p, 8, &c), ENOENT);
	rt_prompts_stats(p, &st);
	assert_int_equal(st.evicted, 0);
	/* b is still held: let go, it is evicted at the next release */
	rt_prompts_release(p, b);
	rt_prompts_release(p, a);
	rt_prompts_stats(p, &st);
	assert_true(st.evicted >= 1);
	assert_int_equal(rt_prompts_audio_get(p, 7, &c), ENOENT);
	rt_prompts_stop(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g711),
		cmocka_unit_test(test_prompts),
		cmocka_unit_test(test_prompts_audio),
		cmocka_unit_test(test_audio_convert),
		cmocka_unit_test(test_audio_refused),
		cmocka_unit_test(test_channels_aligned),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_unwritable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
