/*
 * Compaction of finished recordings to Ogg/Opus through libsndfile
 * (record_int.h).  Opus at 8 kHz costs about 1/250 of a core per stereo
 * call on the machines we measure (docs/internals/media.md), too much
 * to do live at the peak of calls, cheap once a call is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "media/record_int.h"
#include "util/util.h"

/* libsndfile's Opus "compression level", 0 (highest bitrate) to 1.  0.95
 * gives about 34 kbit/s for the two channels of a call, a quarter of
 * G.711's 128.  Not less: from about 0.97 (25 kbit/s) Opus codes the two
 * channels jointly and each speaker bleeds into the other's channel at
 * -30 dB, which a per-channel transcript would hear. */
#define OPUS_LEVEL 0.95

int rt_rec_compact_file(const char *wav_abs, const char *opus_abs,
			const atomic_bool *cancel, int64_t *duration_ms,
			int64_t *bytes)
{
	SF_INFO in = {0}, out = {0};
	SNDFILE *r, *w;
	short buf[4096 * RT_REC_CHANNELS];
	double level = OPUS_LEVEL;
	char tmp[4096];
	struct stat st;
	sf_count_t n, frames = 0;
	int err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.part", opus_abs) >=
	    sizeof(tmp))
		return ENAMETOOLONG;
	r = sf_open(wav_abs, SFM_READ, &in);
	if (!r)
		return access(wav_abs, F_OK) == 0 ? EINVAL : ENOENT;
	if (in.channels != RT_REC_CHANNELS || in.samplerate != RT_REC_RATE) {
		sf_close(r);
		return EINVAL;
	}
	out.samplerate = in.samplerate;
	out.channels = in.channels;
	out.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
	w = sf_open(tmp, SFM_WRITE, &out);
	if (!w) {
		sf_close(r);
		return EIO;
	}
	sf_command(w, SFC_SET_COMPRESSION_LEVEL, &level, sizeof(level));
	while ((n = sf_readf_short(r, buf, 4096)) > 0) {
		if (cancel && atomic_load(cancel)) {
			err = ECANCELED;
			break;
		}
		if (sf_writef_short(w, buf, n) != n) {
			err = EIO;
			break;
		}
		frames += n;
	}
	if (sf_error(r) && !err)
		err = EIO;
	sf_close(r);
	if (sf_close(w) != 0 && !err)
		err = EIO;
	if (!err && stat(tmp, &st) != 0)
		err = errno;
	if (!err) {
		/* On the disk before it replaces the WAV, which is removed
		 * once the database says so. */
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) != 0)
			err = errno;
		if (fd >= 0)
			close(fd);
	}
	if (!err && rename(tmp, opus_abs) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	*duration_ms = (int64_t)(frames * 1000 / RT_REC_RATE);
	*bytes = (int64_t)st.st_size;
	return 0;
}
