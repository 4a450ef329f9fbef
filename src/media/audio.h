/*
 * Uploaded audio files for call flows' prompts: a WAV, MP3 or Ogg (Vorbis
 * or Opus) file, read from memory by libsndfile, mixed down to mono and
 * resampled to 8 kHz by libsamplerate: the form prompts are played in
 * (prompt.h).  Converted once, at upload; the result is what the store
 * keeps.  Thread-safe: no state between calls.
 */
#ifndef RT_MEDIA_AUDIO_H
#define RT_MEDIA_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#define RT_AUDIO_OUT_RATE 8000

/*
 * Converts the file in data (len bytes, borrowed) to 8 kHz mono 16-bit
 * samples: 0 with *pcmp (malloc'd, the caller frees) holding *np samples
 * and *formatp the file's format ("wav", "mp3" or "ogg", static), or
 *   EPROTONOSUPPORT  not a file libsndfile reads
 *   ENOTSUP          audio of another format (FLAC, AIFF...): *formatp
 *                    names it
 *   EINVAL           a file of a known format that does not decode
 *   ENODATA          no samples
 *   EFBIG            longer than max_ms once converted
 *   ENOMEM
 */
int rt_audio_convert(const void *data, size_t len, uint64_t max_ms,
		     int16_t **pcmp, size_t *np, const char **formatp);

/* n samples of 8 kHz mono as a WAV file (16-bit PCM) in *outp (malloc'd,
 * the caller frees), *lenp bytes.  0 or ENOMEM. */
int rt_audio_wav(const int16_t *pcm, size_t n, char **outp, size_t *lenp);

#endif
