/* A call's attribution: the visit that held its number, or the number's
 * own source (call.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call/call.h"
#include "util/util.h"

static void fixed(const struct rt_dni_sites *sites, const struct rt_number *n,
		  struct rt_call *c)
{
	struct rt_visit_source *v = &c->src;
	bool offline = strcmp(n->kind, "offline") == 0;

	memset(v, 0, sizeof(*v));
	rt_strlcpy(c->confidence, "fixed", sizeof(c->confidence));
	rt_strlcpy(v->source, offline ? "offline" : n->source,
		   sizeof(v->source));
	rt_strlcpy(v->medium,
		   offline	  ? "offline"
		   : n->medium[0] ? n->medium
				  : "(none)",
		   sizeof(v->medium));
	rt_strlcpy(v->campaign, offline ? n->campaign : "",
		   sizeof(v->campaign));
	rt_strlcpy(v->channel,
		   rt_dni_channel(sites, v->source, v->medium, v->campaign),
		   sizeof(v->channel));
}

/* Copies session id's attribution onto c; ENOENT when it is not stored
 * (or is another account's). */
static int copy_session(struct rt_store_tx *tx, int64_t id, struct rt_call *c)
{
	struct rt_dni_session *s = malloc(sizeof(*s));
	int err;

	if (!s)
		return ENOMEM;
	err = rt_store_dni_session_get(tx, c->account_id, id, s);
	if (!err) {
		c->dni_session_id = s->id;
		c->src = s->src;
		rt_strlcpy(c->landing_url, s->landing_url,
			   sizeof(c->landing_url));
		rt_strlcpy(c->referrer, s->referrer, sizeof(c->referrer));
		rt_strlcpy(c->ga_client_id, s->ga_client_id,
			   sizeof(c->ga_client_id));
		rt_strlcpy(c->device_class, s->device_class,
			   sizeof(c->device_class));
		rt_strlcpy(c->browser, s->browser, sizeof(c->browser));
		rt_strlcpy(c->os, s->os, sizeof(c->os));
	}
	free(s);
	return err;
}

int rt_call_attribute(struct rt_store_tx *tx, const struct rt_dni_sites *sites,
		      const struct rt_number *n, const struct rt_lease_who *w,
		      int64_t grace_ms, struct rt_call *c)
{
	int64_t ids[RT_CALL_CANDIDATES_MAX];
	const char *conf = "none";
	size_t nids = 0;
	int err;

	c->dni_session_id = 0;
	c->ncandidates = 0;
	if (strcmp(n->kind, "source") == 0 || strcmp(n->kind, "offline") == 0) {
		fixed(sites, n, c);
		return 0;
	}
	if (w && w->confidence != RT_WHO_NONE && w->n) {
		for (; nids < w->n && nids < RT_CALL_CANDIDATES_MAX; nids++)
			ids[nids] = w->sessions[nids];
		conf = w->confidence == RT_WHO_EXACT	? "exact"
		       : w->confidence == RT_WHO_GRACE	? "grace"
		       : w->confidence == RT_WHO_SHARED ? "shared"
							: "none";
	} else {
		bool live;

		err = rt_store_dni_session_who(tx, n->id, c->started_at,
					       grace_ms, ids,
					       RT_CALL_CANDIDATES_MAX, &nids,
					       &live);
		if (err)
			return err;
		conf = nids > 1 ? "shared"
		       : !nids	? "none"
		       : live	? "exact"
				: "grace";
	}
	rt_strlcpy(c->confidence, conf, sizeof(c->confidence));
	if (!nids)
		return 0;
	if (nids > 1) {
		memcpy(c->candidates, ids, nids * sizeof(ids[0]));
		c->ncandidates = nids;
	}
	/* The most recent session's visit; a session not stored (another
	 * account's, or lost) leaves the call unattributed, said so. */
	err = copy_session(tx, ids[0], c);
	if (err == ENOENT) {
		rt_strlcpy(c->confidence, "none", sizeof(c->confidence));
		c->ncandidates = 0;
		return 0;
	}
	return err;
}
