/*
 * SIP peers for the integration tests: SIPp (carrier and business line)
 * and baresip (a real phone) run as child processes on loopback, in a work
 * folder of the test's own, beside the server whose log goes there too.
 *
 * Every child is remembered: rt_peer_kill_all() (call it in each test's
 * teardown) kills what is left, pass or fail, and every wait is bounded.
 * Ports are free ones found at run time, so the tests run beside others.
 * The audio helpers write the tones the peers play and check the WAV files
 * they record.  Like the harness, nothing here is thread safe.
 *
 * tests/integration/test_sip.c predates this and keeps helpers of its own
 * (it shares rt_peer_recording).
 */
#ifndef RT_TEST_SIP_PEER_H
#define RT_TEST_SIP_PEER_H

#include "harness.h"

/* Makes the work folder (a symlink pcap/ to SIPp's pcap files in it, for
 * SIPp's uac_pcap); fails the test when it cannot. */
void rt_peer_setup(void);
/* Kills every peer and removes the folder (kept with RT_TEST_KEEP set). */
void rt_peer_teardown(void);
/* The monotonic clock in ms; a sleep that outlasts signals. */
uint64_t rt_peer_now_ms(void);
void rt_peer_sleep_ms(unsigned ms);
/* A whole file, NUL-terminated (its length in *lenp when not NULL); NULL
 * when it cannot be read.  The caller frees it. */
char *rt_peer_read_file(const char *path, size_t *lenp);
/* work/name, in one of the harness's rt_test_fmt buffers. */
const char *rt_peer_path(const char *name);
/* tests/data/sip/name in the source tree, the same way. */
const char *rt_peer_data(const char *name);

/* A port free for UDP and TCP on loopback now; with pair an even one
 * whose next three are free too (RTP and RTCP). */
unsigned rt_peer_free_port(bool pair);
/* The first of 100 ports of this process's own (20000-29999, by pid),
 * for the server's and the phone's RTP, away from the ephemeral ports
 * SIPp's media ports are picked from. */
unsigned rt_peer_rtp_base(void);

/* ---- the server ------------------------------------------------------- */

/* Starts s with args after the harness's, its standard error (its log)
 * appended to work/<log>.log. */
void rt_peer_server_start(struct rt_test_server *s, const char *log,
			  const char *const *args);
/* rt_test_server_restart (sig: SIGKILL for a crash) the same way. */
void rt_peer_server_restart(struct rt_test_server *s, const char *log, int sig,
			    const char *const *args);
/* The work folder made and s started (its log work/server.log, at info)
 * with the first nports of this process's RTP ports (rt_peer_rtp_base);
 * rt_peer_restart restarts it the same way (sig as above); rt_peer_end
 * kills every peer, stops s and removes the folder: s's exit status. */
void rt_peer_begin(struct rt_test_server *s, unsigned nports);
void rt_peer_restart(struct rt_test_server *s, int sig);
int rt_peer_end(struct rt_test_server *s);
/* Waits up to ms for a line of work/<log>.log holding every one of the
 * NULL-terminated needles; false after. */
bool rt_peer_log_wait(const char *log, const char *const *needles, unsigned ms);
/* POST /v1/numbers: an offline number (campaign "radio") calling dest. */
void rt_peer_add_number(struct rt_test_server *s, const char *number,
			const char *dest);
/* GET /v1/calls/{id} of the call with SIP Call-ID call_id, with its events;
 * with ended, only once its disposition is no longer in_progress.  Waited
 * for up to ms (the call service writes in batches); NULL after.  The
 * caller owns it (json_decref). */
json_t *rt_peer_call(struct rt_test_server *s, const char *call_id, bool ended,
		     unsigned ms);
struct rt_peer_wav;
/*
 * The recording of call id once its format is fmt ("opus" after
 * compaction; up to 30 s): its file fetched over the API into path and
 * decoded with libsndfile into w; *rec gets its JSON (owned).  Fails the
 * test otherwise.  Needs no rt_peer_setup.
 */
void rt_peer_recording(struct rt_test_server *s, json_int_t id, const char *fmt,
		       const char *path, struct rt_peer_wav *w, json_t **rec);
/* A string member, "" when missing or not a string. */
const char *rt_peer_jstr(const json_t *o, const char *key);
/* The detail of the last event of kind in a call's timeline, or NULL. */
const json_t *rt_peer_event(const json_t *call, const char *kind);

/* ---- SIPp --------------------------------------------------------------- */

/* Starts SIPp in the work folder with args (after "sipp"; -nostdin,
 * -timeout timeout_s and -timeout_error are added: it gives up with a
 * failure after that); its output goes to work/<tag>.out. */
pid_t rt_peer_sipp(const char *tag, unsigned timeout_s,
		   const char *const *args);
/* text (owned, freed) with each from[i] replaced by to[i]: a new text. */
char *rt_peer_replace(char *text, const char *const *from,
		      const char *const *to, size_t n);
/* tests/data/sip/name with each from[i] replaced by to[i] (SIPp takes no
 * variables in some places), written as work/<tag>.xml: the path, in a
 * buffer of its own until the next call. */
const char *rt_peer_scenario(const char *name, const char *tag,
			     const char *const *from, const char *const *to,
			     size_t n);
/* SIPp calls s's SIP port for dialled with scenario (from a port of its
 * own, once, giving up after timeout_s): the call's record once ended,
 * found by SIPp's Call-ID (owned). */
json_t *rt_peer_dial(struct rt_test_server *s, const char *dialled,
		     const char *scenario, unsigned timeout_s);
/* Waits up to ms for pid: its exit status, -1 when it died of a signal
 * or had to be killed. */
int rt_peer_wait(pid_t pid, unsigned ms);
/* SIGKILL, and reaped; 0 is fine. */
void rt_peer_kill(pid_t pid);
/* Every peer still running, killed and reaped. */
void rt_peer_kill_all(void);
/* Prints work/<tag>.out to standard error. */
void rt_peer_show(const char *tag);
/* Waits up to 10 s until UDP port is bound on loopback (a peer listens);
 * fails the test with work/<tag>.out after. */
void rt_peer_wait_bound(unsigned port, const char *tag);
/* Whether something binds UDP port on loopback within ms. */
bool rt_peer_udp_bound(unsigned port, unsigned ms);

/* ---- baresip: a phone --------------------------------------------------- */

struct rt_peer_phone {
	pid_t pid;
	unsigned sip_port;
	char dir[320]; /* its config; snd/ has its sndfile recordings */
	char uri[64];  /* sip:agent@127.0.0.1:PORT, to call it */
};

/*
 * Starts baresip as a phone on 127.0.0.1 (config in work/<name>/, output in
 * work/<name>.out): it answers every call at once, plays prompt (a WAV
 * file; it hangs up when the file ends, so make it longer than the call)
 * and records what it hears and sends (sndfile); codecs NULL for PCMU and
 * PCMA, or an account's audio_codecs list ("PCMA/8000/1").  Its RTP ports
 * are rtp_min..rtp_max.  Fails the test unless it is ready within 15 s.
 */
void rt_peer_phone_start(struct rt_peer_phone *p, const char *name,
			 const char *prompt, const char *codecs,
			 unsigned rtp_min, unsigned rtp_max);
/* SIGTERM, up to 5 s to exit (then SIGKILL): its recordings are closed. */
void rt_peer_phone_stop(struct rt_peer_phone *p);
/* The path of the phone's recording of what it heard (heard) or sent, in
 * path; false when there is none.  One call per phone. */
bool rt_peer_phone_recording(const struct rt_peer_phone *p, bool heard,
			     char *path, size_t size);

/* ---- audio --------------------------------------------------------------- */

/* 16-bit PCM audio: channels interleaved. */
struct rt_peer_wav {
	unsigned rate, channels;
	size_t frames;
	int16_t *s; /* owned */
};

/* seconds of a sine of hz at 8 kHz: a 16-bit mono WAV file (for baresip),
 * or raw G.711 u-law (for SIPp's rtp_stream, payload type 0). */
void rt_peer_tone_wav(const char *path, unsigned hz, unsigned seconds);
void rt_peer_tone_ulaw(const char *path, unsigned hz, unsigned seconds);
/* A WAV file's bytes (16-bit PCM) into w; 0, or EINVAL when it is not
 * one.  A data chunk whose size was never written (a recorder killed
 * mid-way) is read to the end of the bytes. */
int rt_peer_wav_parse(const void *data, size_t len, struct rt_peer_wav *w);
int rt_peer_wav_read(const char *path, struct rt_peer_wav *w);
void rt_peer_wav_free(struct rt_peer_wav *w);
/*
 * Fails the test unless channel ch of w carries a tone of hz: of its
 * 200 ms windows with sound, at least 80% have most of their energy at hz
 * (Goertzel), and they add up to at least min_ms.  what names the audio in
 * the message.
 */
void rt_peer_expect_tone(const struct rt_peer_wav *w, unsigned ch, unsigned hz,
			 unsigned min_ms, const char *what);

#endif
