/*
 * media: call recordings.  Each recorded call is one stereo file, the
 * caller on the left channel and the agent on the right, time-aligned by
 * the moment each packet arrived.
 *
 * The RTP relay hands each audio packet over (rt_rec_audio) on the SIP
 * thread: a copy into the call's ring buffer and nothing more.  The
 * recorder's thread drains the rings every RECORD_TICK_MS, places the audio
 * on the call's timeline (RTP timestamps within a stream, arrival times
 * across streams, silence where nobody spoke or a packet was lost) and
 * writes 8 kHz G.711 WAV: the bytes as they came off the wire, so that
 * recording costs a copy, not an encoder, and holds up at the peak of
 * calls.  When a call ends its file is finished; with the "opus" format a
 * compactor thread, at idle priority, then re-encodes it as Ogg/Opus
 * (about a quarter of the size) and replaces it.
 *
 * The database is not touched here: the done hook reports each finished
 * file (and each compacted one) to whoever keeps the recordings rows.
 * docs/internals/media.md.
 */
#ifndef RT_MEDIA_RECORD_H
#define RT_MEDIA_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_REC_PATH_MAX 256 /* a path relative to the recordings folder */

/* What a finished (or compacted) file is. */
struct rt_rec_result {
	int64_t call_id;
	const char *path;     /* relative to the recordings folder */
	const char *format;   /* "wav" or "opus" */
	const char *old_path; /* compacted: the WAV it replaces, else NULL */
	int64_t duration_ms;
	int64_t bytes;
	int channels, sample_rate;
	bool complete; /* false: the file could not be finished */
	/* 0, or the errno value of what failed (then path may not exist). */
	int err;
	/* Audio that arrived too late to be placed, or overflowed the ring
	 * (the disk could not keep up), in 20 ms packets. */
	uint64_t dropped;
};

/* Called on the recorder's or the compactor's thread. */
typedef void(rt_rec_done_h)(const struct rt_rec_result *r, void *arg);

struct rt_recorder_conf {
	const char *dir; /* the recordings folder (copied) */
	bool opus;	 /* compact finished files to Ogg/Opus */
	rt_rec_done_h *doneh;
	void *arg;
};

struct rt_recorder;
struct rt_rec;

/* Starts the recorder's and the compactor's threads.  0 or an errno. */
int rt_recorder_start(struct rt_recorder **rp,
		      const struct rt_recorder_conf *conf);
/* Finishes every open recording (its done hook called) and stops.  What
 * waits for compaction is left as WAV (rt_recorder_compact it again at
 * the next start).  NULL is fine. */
void rt_recorder_stop(struct rt_recorder *r);

/*
 * A new recording of call_id into path (relative to the folder; its
 * folders are made).  alaw: the file's law (the caller's), so that the
 * caller's audio is written as it came.  Never waits on the disk (the file
 * is opened on the recorder's thread).  NULL when out of memory or
 * stopping: the call goes on unrecorded.
 *
 * rt_rec_audio and rt_rec_close are then for one thread (the producer) at
 * a time.
 */
struct rt_rec *rt_rec_open(struct rt_recorder *r, int64_t call_id,
			   const char *path, bool alaw);
/*
 * An RTP packet's audio for channel 0 (caller) or 1 (agent): its
 * timestamp and SSRC (to place it), its law and G.711 payload.  A copy is
 * taken.  Packets that do not fit in the ring are counted and dropped.
 */
void rt_rec_audio(struct rt_rec *s, int channel, uint32_t ts, uint32_t ssrc,
		  bool alaw, const uint8_t *payload, size_t len);
/* The call is over: the file is finished on the recorder's thread, then
 * the done hook is called.  s must not be used after. */
void rt_rec_close(struct rt_rec *s);

/* Queues a finished WAV for compaction to Ogg/Opus (when the recorder was
 * started with opus): for what a restart finds still in WAV. */
void rt_recorder_compact(struct rt_recorder *r, int64_t call_id,
			 const char *path);

struct rt_buf;
/* Prometheus text: recordings open, made, failed, dropped packets, and
 * the compaction queue.  From any thread. */
void rt_recorder_metrics(struct rt_recorder *r, struct rt_buf *b);

/* ---- files (wav.c) ------------------------------------------------------- */

/*
 * What a crash left: a WAV whose header does not yet count its audio.
 * Rewrites the header from the file's size; fills its duration and size.
 * 0, ENOENT, or EINVAL when the file is not a recording of ours.
 */
int rt_rec_repair(const char *abspath, int64_t *duration_ms, int64_t *bytes);

#endif
