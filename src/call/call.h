/*
 * The call service: what turns the SIP side's calls into call records.
 * This header has its attribution step; the routing hook and the writer
 * that persist calls join it with the SIP core.
 */
#ifndef RT_CALL_H
#define RT_CALL_H

#include "dni/dni.h"
#include "store/store.h"

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
