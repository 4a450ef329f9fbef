/*
 * The call service: what turns the SIP side's calls into call records.
 * Its routing answers "where does a call to this number go" from an
 * in-memory snapshot of every account's active numbers, for the SIP thread
 * (src/sip), which must never wait on the disk; its attribution step fills
 * a call's source from the visit that held the number.  The writer that
 * persists calls and their events joins them next.
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

/* Reads every account's active numbers once, then starts the thread that
 * reads them again every RT_CALL_RELOAD_MS or when told they changed.  0,
 * or the store's errno value. */
int rt_call_router_start(struct rt_call_router **rp, struct rt_store *store);
/* NULL is fine. */
void rt_call_router_stop(struct rt_call_router *r);
/* Numbers or accounts changed: the snapshot is read again soon.  Cheap,
 * from any thread; NULL is fine. */
void rt_call_router_changed(struct rt_call_router *r);
/* Numbers in the snapshot now. */
size_t rt_call_router_size(struct rt_call_router *r);

/* The hooks of rt_sip_hooks, with the router as arg: memory only. */
void rt_call_route_h(const struct rt_sip_invite *in, struct rt_sip_route *out,
		     void *arg);
void rt_call_event_h(const struct rt_sip_event *ev, void *arg);

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
