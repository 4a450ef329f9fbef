/*
 * The call service: what turns the SIP side's calls into call records.
 * Its routing answers "where does a call to this number go" from an
 * in-memory snapshot of every account's active numbers, for the SIP thread
 * (src/sip), which must never wait on the disk; its attribution step fills
 * a call's source from the visit that held the number; its writer thread
 * persists calls, their events and their recordings' rows.
 *
 * Threads: a loader thread reads the store; the hooks run on the SIP
 * thread and only read the snapshot.  The router borrows the store, which
 * must outlive it.
 */
#ifndef RT_CALL_H
#define RT_CALL_H

#include "dni/dni.h"
#include "sip/sip.h"
#include "store/store.h"

struct rt_call_router;

/* Reads every account's active numbers (and the flows they run) once, then
 * starts the thread that reads them again every RT_CALL_RELOAD_MS or when
 * told they changed.  prompts (borrowed, may be NULL) gets the flows'
 * prompts to render ahead of calls.  0, or the store's errno value. */
struct rt_prompts;
int rt_call_router_start(struct rt_call_router **rp, struct rt_store *store,
			 struct rt_prompts *prompts);
/* NULL is fine. */
void rt_call_router_stop(struct rt_call_router *r);
/* Numbers or accounts changed: the snapshot is read again soon.  Cheap,
 * from any thread; NULL is fine. */
void rt_call_router_changed(struct rt_call_router *r);
/* Numbers in the snapshot now. */
size_t rt_call_router_size(struct rt_call_router *r);
/* Round robin: where a call to the dial step `step` of flow flow_id starts
 * among n targets (its counter modulo n), counting on; *nextp is the
 * counter's new value, for the store.  Any thread. */
unsigned rt_call_router_rr(struct rt_call_router *r, int64_t flow_id,
			   const char *step, size_t n, uint64_t *nextp);

/* The number a routed call is for. */
struct rt_call_target {
	int64_t account_id, number_id;
	char kind[16]; /* pool, source, offline */
	bool record;   /* the number's calls are recorded */
};
/* Where a call to in->dialled goes, from memory: true with out's
 * destination and display and *t filled, and for a number with a flow,
 * out's flow (a reference), time zone, disclosure switch and the facts
 * the number and the caller give; false with out's status and reason
 * (404 not in service, 480 suspended or no destination). */
bool rt_call_router_find(struct rt_call_router *r,
			 const struct rt_sip_invite *in,
			 struct rt_sip_route *out, struct rt_call_target *t);

/*
 * The service: call ids, the routing and event hooks of the SIP thread,
 * and a writer thread that records calls.  A routed INVITE takes its id
 * and the lease engine's "who held the number" there and then (memory
 * only); the writer inserts the call with its caller's region and line
 * type, first-time flag and attribution, and applies each event (ringing,
 * answered, digits, hold, the end with its disposition and durations) in
 * batches.  docs/internals/call.md.
 */
struct rt_calls;

struct rt_calls_conf {
	int64_t grace_ms;  /* who-held grace after a visit ends */
	uint64_t flush_ms; /* the writer's batching interval */
	/* The recordings folder (absolute or relative to the working
	 * folder); NULL or "": calls are not recorded. */
	const char *recordings_dir;
	bool recording_opus; /* compact finished recordings to Ogg/Opus */
	/* Changes waiting for the database beyond which new calls get 503
	 * (0: 50,000, half a minute at 300 calls a second). */
	uint64_t queue_max;
};

/*
 * The ids go on from the highest stored.  router and dni are borrowed
 * (dni may be NULL: calls are then unattributed).  With a recordings
 * folder, the recorder starts too, and what a crash left is put right
 * first: recordings still open are repaired (readable, complete false) and
 * WAV recordings are queued for compaction when the format is opus.
 */
int rt_calls_start(struct rt_calls **cp, struct rt_store *store,
		   struct rt_call_router *router, struct rt_dni *dni,
		   const struct rt_calls_conf *conf);
/* Calls ended from now on by the system are interrupted (a stop). */
void rt_calls_stopping(struct rt_calls *c);
/* Finishes the recordings, writes what is queued and stops (after
 * rt_sip_stop: no call may still be recorded); NULL is fine. */
void rt_calls_stop(struct rt_calls *c);
/* The recorder for rt_sip_hooks; NULL when calls are not recorded. */
struct rt_recorder *rt_calls_recorder(struct rt_calls *c);
/* Where a call's recording goes, relative to the recordings folder:
 * ACCOUNT/YYYY/MM/DD/CALL.wav by the call's start (UTC). */
void rt_calls_recording_path(int64_t account_id, int64_t call_id,
			     int64_t started_ms, char *out, size_t size);
/* Waits until what was queued before the call is written (EAGAIN past
 * timeout_ms). */
int rt_calls_flush(struct rt_calls *c, uint64_t timeout_ms);

/* The hooks of rt_sip_hooks, with the service as arg: memory only. */
void rt_calls_route_h(const struct rt_sip_invite *in, struct rt_sip_route *out,
		      void *arg);
void rt_calls_event_h(const struct rt_sip_event *ev, void *arg);
/* The round robin of flows' dial steps (rt_sip_hooks.rr). */
unsigned rt_calls_rr_h(const struct rt_flow *f, int step, size_t n, void *arg);

/* Pages of the visit copied onto a call, at most. */
#define RT_CALL_PAGES_MAX 200

/*
 * Attributes call c (c->account_id, c->started_at set) to number n, before
 * its row is inserted (then rt_store_call_pages_copy copies the pages of
 * c->dni_session_id, when set):
 *   - a source number: confidence "fixed", its source and medium;
 *   - an offline number: "fixed", its campaign (source and medium
 *     "offline");
 *   - a pool number: w, the lease engine's answer taken at the INVITE,
 *     names the session(s); when it has none (after a restart the engine
 *     has no ended sessions), the stored sessions are asked with grace_ms.
 *     exact and grace copy that session's attribution; shared
 *     lists every candidate and copies the most recent one's, never
 *     choosing silently; none leaves the call unattributed.
 * sites computes channels.  The session rows must be written (the DNI
 * writer flushed) first.  0 or a store error.
 */
int rt_call_attribute(struct rt_store_tx *tx, const struct rt_dni_sites *sites,
		      const struct rt_number *n, const struct rt_lease_who *w,
		      int64_t grace_ms, struct rt_call *c);

#endif
