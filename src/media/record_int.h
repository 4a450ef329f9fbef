/*
 * Inside src/media: the WAV container (wav.c) and the Ogg/Opus compactor
 * (compact.c) that the recorder (record.c) uses.
 */
#ifndef RT_MEDIA_RECORD_INT_H
#define RT_MEDIA_RECORD_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "media/record.h"

#define RT_REC_RATE	8000
#define RT_REC_CHANNELS 2

/*
 * The WAV files written live: 8 kHz stereo G.711 (format 7 mu-law or 6
 * A-law), a 58-byte header (RIFF, fmt with cbSize, fact, data) and the
 * interleaved bytes.  The sizes in the header are written when the file is
 * finished; until then (or after a crash) they are 0 and rt_rec_repair
 * counts from the file's size.
 */
#define RT_WAV_HEADER 58
/* The header for frames frames (0 while recording) into out. */
void rt_wav_header(uint8_t out[RT_WAV_HEADER], bool alaw, uint64_t frames);

/* Re-encodes the WAV at wav_abs as Ogg/Opus at opus_abs (written to a
 * temporary name and renamed when complete).  0, ECANCELED when *cancel
 * turned true, or an errno value; fills the new file's duration and size.
 */
int rt_rec_compact_file(const char *wav_abs, const char *opus_abs,
			const atomic_bool *cancel, int64_t *duration_ms,
			int64_t *bytes);

#endif
