/*
 * call: the call service.  This first slice is its routing: the answer to
 * "where does a call to this number go", from an in-memory snapshot of
 * every account's active numbers, for the SIP thread (src/sip), which must
 * never wait on the disk.  Call records and their events arrive with the
 * calls store (issue 5), and this file merges into that service.
 *
 * Threads: a loader thread reads the store; the hooks run on the SIP
 * thread and only read the snapshot.  The router borrows the store, which
 * must outlive it.
 */
#ifndef RT_CALL_H
#define RT_CALL_H

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

#endif
