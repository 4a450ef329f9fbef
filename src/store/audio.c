/*
 * Uploaded audio files (migration 12): the converted samples in the row,
 * and flow_audio, the files that each flow's latest version plays.
 * Samples are stored little-endian whatever the host's order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define AUDIO_COLS                                                             \
	"a.id, a.account_id, a.name, a.format, a.duration_ms, a.bytes, "       \
	"a.created_at, "                                                       \
	"(SELECT COUNT(*) FROM flow_audio fa JOIN flows f ON f.id = "          \
	"fa.flow_id WHERE fa.audio_id = a.id AND f.status = 'active')"

struct audio_rows {
	rt_audio_row_h *h;
	void *arg;
	struct rt_audio_row *one;
};

static int audio_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct audio_rows *ar = arg;
	struct rt_audio_row a, *d = ar->one ? ar->one : &a;

	(void)ncols;
	memset(d, 0, sizeof(*d));
	d->id = rt_col_int(&c[0]);
	d->account_id = rt_col_int(&c[1]);
	RT_COL_STR(d->name, &c[2]);
	RT_COL_STR(d->format, &c[3]);
	d->duration_ms = rt_col_int(&c[4]);
	d->bytes = rt_col_int(&c[5]);
	d->created_at = rt_col_int(&c[6]);
	d->flows = rt_col_int(&c[7]);
	return ar->h ? ar->h(d, ar->arg) : 0;
}

static int id_row(const struct rt_val *c, size_t ncols, void *arg)
{
	(void)ncols;
	*(int64_t *)arg = rt_col_int(&c[0]);
	return 0;
}

static bool big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

/* n samples as little-endian bytes: pcm itself on a little-endian host,
 * else a swapped copy in *copyp (the caller frees it). */
static const void *le_bytes(const int16_t *pcm, size_t n, int16_t **copyp)
{
	*copyp = NULL;
	if (!big_endian())
		return pcm;
	*copyp = malloc(n * sizeof(*pcm));
	if (!*copyp)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint16_t v = (uint16_t)pcm[i];

		(*copyp)[i] = (int16_t)(uint16_t)((v >> 8) | (v << 8));
	}
	return *copyp;
}

int rt_store_audio_create(struct rt_store_tx *tx, int64_t scope,
			  struct rt_audio_row *a, const int16_t *pcm, size_t n)
{
	int64_t id = 0, now = rt_now_ms();
	int64_t ms = (int64_t)(n * 1000 / RT_AUDIO_RATE);
	int16_t *copy = NULL;
	const void *bytes;
	int err = 0;

	if (!n || ms > RT_AUDIO_MAX_MS)
		return EINVAL;
	bytes = le_bytes(pcm, n, &copy);
	if (!bytes)
		return ENOMEM;
	if (scope)
		err = rt_store_account_in_scope(tx, scope, a->account_id);
	if (!err) {
		struct rt_val args[] = {
			RT_VINT(a->account_id),
			RT_VTEXT(a->name),
			RT_VTEXT(a->format),
			RT_VINT(ms),
			RT_VINT((int64_t)(n * sizeof(*pcm))),
			RT_VBLOB(bytes, n * sizeof(*pcm)),
			RT_VINT(now),
		};

		err = rt_store_query(tx,
				     "INSERT INTO audio (account_id, name, "
				     "format, duration_ms, bytes, pcm, "
				     "created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
				     "?6, ?7) RETURNING id",
				     args, RT_ARRAY_SIZE(args), id_row, &id,
				     NULL);
	}
	free(copy);
	if (!err && id == 0)
		err = EIO;
	if (!err)
		err = rt_store_audio_get(tx, 0, id, a);
	return err;
}

int rt_store_audio_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		       struct rt_audio_row *a)
{
	struct rt_audio_row tmp;
	struct audio_rows ar = {.one = &tmp};
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	int err;

	tmp.id = 0;
	err = rt_store_query(tx,
			     "SELECT " AUDIO_COLS " FROM audio a WHERE a.id = "
			     "?2 AND (?1 = 0 OR " RT_IN_SCOPE(
				     "a.account_id") ")",
			     args, RT_ARRAY_SIZE(args), audio_row, &ar, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*a = tmp;
	return err;
}

int rt_store_audio_list(struct rt_store_tx *tx, int64_t scope,
			int64_t account_id, const struct rt_page *pg,
			rt_audio_row_h *h, void *arg)
{
	struct audio_rows ar = {.h = h, .arg = arg};
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(account_id)};

	return rt_store_query(tx,
			      "SELECT " AUDIO_COLS
			      " FROM audio a WHERE a.id > ?2 AND "
			      "(?4 = 0 OR a.account_id = ?4) AND " RT_IN_SCOPE(
				      "a.account_id") " ORDER BY a.id LIMIT ?3",
			      args, RT_ARRAY_SIZE(args), audio_row, &ar, NULL);
}

struct pcm_out {
	int16_t *pcm;
	size_t n;
	bool found;
};

static int pcm_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct pcm_out *o = arg;
	size_t len;
	const uint8_t *b = rt_col_blob(&c[0], &len);

	(void)ncols;
	o->found = true;
	o->n = len / 2;
	if (!o->n)
		return 0;
	o->pcm = malloc(o->n * sizeof(*o->pcm));
	if (!o->pcm)
		return ENOMEM;
	for (size_t i = 0; i < o->n; i++)
		o->pcm[i] = (int16_t)(uint16_t)(b[2 * i] | (b[2 * i + 1] << 8));
	return 0;
}

int rt_store_audio_pcm(struct rt_store_tx *tx, int64_t scope, int64_t id,
		       int16_t **pcmp, size_t *np)
{
	struct pcm_out o = {0};
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	int err;

	err = rt_store_query(tx,
			     "SELECT a.pcm FROM audio a WHERE a.id = ?2 AND "
			     "(?1 = 0 OR " RT_IN_SCOPE("a.account_id") ")",
			     args, RT_ARRAY_SIZE(args), pcm_row, &o, NULL);
	if (!err && !o.found)
		err = ENOENT;
	if (err) {
		free(o.pcm);
		return err;
	}
	*pcmp = o.pcm;
	*np = o.n;
	return 0;
}

int rt_store_audio_delete(struct rt_store_tx *tx, int64_t scope, int64_t id)
{
	struct rt_audio_row cur;
	struct rt_val args[] = {RT_VINT(id)};
	int err;

	err = rt_store_audio_get(tx, scope, id, &cur);
	if (err)
		return err;
	if (cur.flows)
		return ENOTEMPTY;
	/* Deleted flows' rows go with it; they name no file in use. */
	err = rt_store_query(tx, "DELETE FROM flow_audio WHERE audio_id = ?1",
			     args, 1, NULL, NULL, NULL);
	if (!err)
		err = rt_store_query(tx, "DELETE FROM audio WHERE id = ?1",
				     args, 1, NULL, NULL, NULL);
	return err;
}

int rt_store_flow_audio_set(struct rt_store_tx *tx, int64_t flow_id,
			    const int64_t *ids, size_t n)
{
	struct rt_val args[2] = {RT_VINT(flow_id)};
	int err;

	err = rt_store_query(tx, "DELETE FROM flow_audio WHERE flow_id = ?1",
			     args, 1, NULL, NULL, NULL);
	for (size_t i = 0; !err && i < n; i++) {
		args[1] = RT_VINT(ids[i]);
		err = rt_store_query(tx,
				     "INSERT INTO flow_audio (flow_id, "
				     "audio_id) VALUES (?1, ?2) ON CONFLICT "
				     "DO NOTHING",
				     args, 2, NULL, NULL, NULL);
	}
	return err;
}
