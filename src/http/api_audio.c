/*
 * /v1/audio: audio files uploaded for call flows' prompts (docs/flows.md).
 * An upload is the file itself as the body (WAV, MP3 or Ogg, named by
 * ?name=), converted at once to 8 kHz mono (src/media/audio.c) and kept
 * converted; the file given back is that audio as a WAV.  A file that the
 * latest version of a flow plays cannot be deleted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"
#include "media/audio.h"

static json_t *audio_json(const struct rt_audio_row *a)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:i,s:I,s:o}", "id",
			 (json_int_t)a->id, "account_id",
			 (json_int_t)a->account_id, "name", a->name, "format",
			 a->format, "duration_ms", (json_int_t)a->duration_ms,
			 "bytes", (json_int_t)a->bytes, "sample_rate",
			 RT_AUDIO_RATE, "flows", (json_int_t)a->flows,
			 "created_at", rt_json_time(a->created_at));
}

RT_API_GET(audio, struct rt_audio_row, rt_store_audio_get, audio_json,
	   "reading an audio file")

static int audio_row(const struct rt_audio_row *a, void *arg)
{
	return rt_list_add(arg, a->id, audio_json(a));
}

RT_API_LIST(audio, rt_store_audio_list, audio_row, "listing audio files")

/* The media types an upload may be sent as; the bytes say which format
 * it really is. */
static bool audio_type(const char *ct)
{
	static const char *const types[] = {
		"audio/wav",
		"audio/x-wav",
		"audio/wave",
		"audio/vnd.wave",
		"audio/mpeg",
		"audio/mp3",
		"audio/ogg",
		"audio/opus",
		"audio/vorbis",
		"application/ogg",
		"application/octet-stream",
	};

	for (size_t i = 0; ct && i < RT_ARRAY_SIZE(types); i++) {
		size_t n = strlen(types[i]);

		if (strncasecmp(ct, types[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

/* ?name=: 1 to 200 bytes of UTF-8 without control characters; on error
 * answers 400. */
static int name_param(struct rt_req *r, char name[RT_NAME_MAX])
{
	const char *s =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    "name");
	char clean[RT_NAME_MAX];

	if (!s || !*s) {
		rt_http_error(r, 400, "missing_parameter", "name",
			      "'name' is required: ?name=greeting.mp3 (a "
			      "label, such as the file's name)");
		return EINVAL;
	}
	if (strlen(s) >= RT_NAME_MAX) {
		rt_http_error(r, 400, "invalid_parameter", "name",
			      "'name' is longer than %d bytes",
			      RT_NAME_MAX - 1);
		return EINVAL;
	}
	rt_strlcpy(clean, s, sizeof(clean));
	rt_utf8_clean(clean);
	if (strcmp(clean, s) != 0) {
		rt_http_error(r, 400, "invalid_parameter", "name",
			      "'name' must be UTF-8 without control "
			      "characters");
		return EINVAL;
	}
	rt_strlcpy(name, s, RT_NAME_MAX);
	return 0;
}

/* A conversion's failure as the answer. */
static void convert_fail(struct rt_req *r, int err, const char *format)
{
	switch (err) {
	case EPROTONOSUPPORT:
		rt_http_error(r, 415, "unsupported_media_type", "body",
			      "the body is not an audio file this server "
			      "reads: send WAV, MP3 or Ogg (Vorbis or Opus)");
		break;
	case ENOTSUP:
		rt_http_error(r, 415, "unsupported_media_type", "body",
			      "%s audio is not taken: send WAV, MP3 or Ogg "
			      "(Vorbis or Opus)",
			      format ? format : "this");
		break;
	case EINVAL:
		rt_http_error(r, 422, "invalid_audio", "body",
			      "the %s file does not decode: it may be cut "
			      "short or damaged",
			      format ? format : "audio");
		break;
	case ENODATA:
		rt_http_error(r, 422, "empty_audio", "body",
			      "the file holds no audio");
		break;
	case EFBIG:
		rt_http_error(r, 422, "audio_too_long", "body",
			      "the audio is longer than %d minutes",
			      RT_AUDIO_MAX_MS / 60000);
		break;
	default:
		rt_http_fail(r, err, "converting an audio file");
		break;
	}
}

void rt_api_audio_create(struct rt_req *r)
{
	struct rt_audio_row a = {0};
	struct rt_store_tx *tx;
	const char *format = NULL;
	int16_t *pcm = NULL;
	size_t n = 0;
	int err;

	if (!audio_type(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    "Content-Type"))) {
		rt_http_error(r, 415, "unsupported_media_type", "Content-Type",
			      "send the file itself as the body, as audio/wav, "
			      "audio/mpeg, audio/ogg, audio/opus or "
			      "application/octet-stream");
		return;
	}
	if (name_param(r, a.name) ||
	    rt_http_query_id(r, "account_id", &a.account_id))
		return;
	if (!a.account_id)
		a.account_id = rt_req_scope(r);
	if (!r->body.len) {
		rt_http_error(r, 422, "empty_audio", "body",
			      "the body is empty: send the audio file");
		return;
	}
	/* Before the transaction: decoding ten minutes of MP3 takes a while,
	 * and holds no lock. */
	err = rt_audio_convert(r->body.s, r->body.len, RT_AUDIO_MAX_MS, &pcm,
			       &n, &format);
	if (err) {
		convert_fail(r, err, format);
		return;
	}
	rt_strlcpy(a.format, format, sizeof(a.format));
	if (rt_http_begin(r, true, &tx)) {
		free(pcm);
		return;
	}
	err = rt_store_audio_create(tx, rt_req_scope(r), &a, pcm, n);
	free(pcm);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		rt_http_error(r, 404, "not_found", "account_id",
			      "no such account");
		return;
	}
	if (!err)
		err = rt_http_audit(r, tx, a.account_id, "audio.create",
				    "audio", a.id,
				    json_pack("{s:s,s:s,s:I}", "name", a.name,
					      "format", a.format, "duration_ms",
					      (json_int_t)a.duration_ms));
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "storing an audio file");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 201, audio_json(&a));
}

/* The converted audio as a WAV file, to listen to. */
void rt_api_audio_file(struct rt_req *r)
{
	struct rt_store_tx *tx;
	int16_t *pcm = NULL;
	char *wav = NULL, disp[64];
	size_t n = 0, len = 0;
	int err;

	if (rt_http_begin(r, false, &tx))
		return;
	err = rt_store_audio_pcm(tx, rt_req_scope(r), r->id, &pcm, &n);
	rt_store_rollback(tx);
	if (!err)
		err = rt_audio_wav(pcm, n, &wav, &len);
	free(pcm);
	if (err) {
		rt_http_fail(r, err, "reading an audio file");
		return;
	}
	snprintf(disp, sizeof(disp), "inline; filename=\"audio-%lld.wav\"",
		 (long long)r->id);
	rt_http_header(r, "Content-Disposition", disp);
	rt_http_body(r, 200, "audio/wav", wav, len);
}

void rt_api_audio_delete(struct rt_req *r)
{
	struct rt_audio_row a = {0};
	struct rt_store_tx *tx;
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_audio_get(tx, rt_req_scope(r), r->id, &a);
	if (!err)
		err = rt_store_audio_delete(tx, rt_req_scope(r), r->id);
	if (!err)
		err = rt_http_audit(r, tx, a.account_id, "audio.delete",
				    "audio", a.id,
				    json_pack("{s:s}", "name", a.name));
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOTEMPTY)
			rt_http_error(r, 409, "in_use", NULL,
				      "flows play this audio file: save them "
				      "without it first");
		else
			rt_http_fail(r, err, "deleting an audio file");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_body(r, 204, "", NULL, 0);
}
