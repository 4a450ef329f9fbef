/*
 * The WAV container of live recordings (record_int.h).  Written by hand
 * rather than through libsndfile because a crash must leave a file that can
 * be repaired: the layout is fixed here, so the repair knows where the
 * audio starts and what each byte is.  libsndfile reads these files (the
 * compactor and the tests use it).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/record_int.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void rt_wav_header(uint8_t h[RT_WAV_HEADER], bool alaw, uint64_t frames)
{
	uint64_t data = frames * RT_REC_CHANNELS;

	if (data > UINT32_MAX - RT_WAV_HEADER) /* 74 hours: the format's end */
		data = (UINT32_MAX - RT_WAV_HEADER) & ~(uint64_t)1;
	memcpy(h, "RIFF", 4);
	put32(h + 4, (uint32_t)(RT_WAV_HEADER - 8 + data));
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 18);
	put16(h + 20, alaw ? 6 : 7);
	put16(h + 22, RT_REC_CHANNELS);
	put32(h + 24, RT_REC_RATE);
	put32(h + 28, RT_REC_RATE * RT_REC_CHANNELS); /* bytes a second */
	put16(h + 32, RT_REC_CHANNELS);		      /* bytes a frame */
	put16(h + 34, 8);			      /* bits a sample */
	put16(h + 36, 0); /* no extra format bytes */
	memcpy(h + 38, "fact", 4);
	put32(h + 42, 4);
	put32(h + 46, (uint32_t)(data / RT_REC_CHANNELS));
	memcpy(h + 50, "data", 4);
	put32(h + 54, (uint32_t)data);
}

int rt_rec_repair(const char *abspath, int64_t *duration_ms, int64_t *bytes)
{
	uint8_t h[RT_WAV_HEADER];
	struct stat st;
	uint64_t frames;
	int fd = open(abspath, O_RDWR | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		err = errno;
		goto out;
	}
	n = pread(fd, h, sizeof(h), 0);
	/* Only our own layout: RIFF/WAVE, G.711 stereo 8 kHz, the data
	 * chunk at byte 50. */
	if (n != (ssize_t)sizeof(h) || memcmp(h, "RIFF", 4) != 0 ||
	    memcmp(h + 8, "WAVEfmt ", 8) != 0 ||
	    (get16(h + 20) != 6 && get16(h + 20) != 7) ||
	    get16(h + 22) != RT_REC_CHANNELS ||
	    memcmp(h + 50, "data", 4) != 0) {
		err = EINVAL;
		goto out;
	}
	frames = ((uint64_t)st.st_size - RT_WAV_HEADER) / RT_REC_CHANNELS;
	/* A half-written last frame is cut, so that channels stay paired. */
	if (ftruncate(fd, (off_t)(RT_WAV_HEADER + frames * RT_REC_CHANNELS)) !=
	    0) {
		err = errno;
		goto out;
	}
	rt_wav_header(h, get16(h + 20) == 6, frames);
	if (pwrite(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		err = errno ? errno : EIO;
		goto out;
	}
	*duration_ms = (int64_t)(frames * 1000 / RT_REC_RATE);
	*bytes = (int64_t)(RT_WAV_HEADER + frames * RT_REC_CHANNELS);
out:
	close(fd);
	return err;
}
