/*
 * Audio files for flows' prompts through the API of the real server: a
 * WAV, an MP3 and Ogg Vorbis and Opus files (made here by libsndfile) are
 * uploaded, converted to 8 kHz mono, listed, read back as a WAV and
 * deleted; bad uploads get 4xx naming the field; another account sees
 * none of them; a flow plays only its own account's files, and a file a
 * flow plays is not deleted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "harness.h"

static struct rt_test_server srv;

static int setup(void **state)
{
	(void)state;
	rt_test_server_start(&srv, NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

/* POST /v1/audio with key, query (after "?"), the content type and the
 * body. */
static void upload_as(struct rt_test_server *s, const char *key,
		      struct rt_test_resp *r, const char *query,
		      const char *type, const char *body, size_t len)
{
	char auth[200], ct[100];
	const char *h[3] = {auth, ct, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	snprintf(ct, sizeof(ct), "Content-Type: %s", type);
	rt_test_request(s, r, "POST", rt_test_fmt("/v1/audio?%s", query), h,
			body, len);
}

static void upload(struct rt_test_resp *r, const char *query, const char *type,
		   const char *body, size_t len)
{
	upload_as(&srv, srv.key, r, query, type, body, len);
}

/* A 1.5 s file of format uploaded: its id. */
static int64_t upload_tone(int format, int rate, int channels, const char *type,
			   const char *name, const char *want_format)
{
	struct rt_test_resp r;
	char *buf;
	size_t len = rt_test_tone_file(format, rate, channels, 1000, 1.5, &buf);
	int64_t id, ms;

	upload(&r, rt_test_fmt("name=%s", name), type, buf, len);
	free(buf);
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	ms = rt_test_json_id(&r, "duration_ms");
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    name);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "format")),
			    want_format);
	assert_true(ms >= 1450 && ms <= 1550);
	assert_int_equal(rt_test_json_id(&r, "bytes") / 16, ms);
	assert_int_equal(rt_test_json_id(&r, "sample_rate"), 8000);
	assert_int_equal(rt_test_json_id(&r, "flows"), 0);
	assert_int_equal(rt_test_json_id(&r, "account_id"), srv.account_id);
	rt_test_resp_free(&r);
	return id;
}

static uint32_t le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return u[0] | (u[1] << 8) | (u[2] << 16) | ((uint32_t)u[3] << 24);
}

/* Each format in, each as 8 kHz mono out: the details, the list, the WAV
 * to listen to, HEAD, and delete. */
static void test_upload_formats(void **state)
{
	static const struct {
		int format, rate, channels;
		const char *type, *name, *want;
	} files[] = {
		{SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, "audio/wav",
		 "hello.wav", "wav"},
		{SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2,
		 "audio/mpeg", "hello.mp3", "mp3"},
		{SF_FORMAT_OGG | SF_FORMAT_VORBIS, 22050, 1, "audio/ogg",
		 "hello.ogg", "ogg"},
		{SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 2, "audio/opus",
		 "hello.opus", "ogg"},
	};
	int64_t ids[4];
	struct rt_test_resp r;
	char buf[128];

	(void)state;
	for (size_t i = 0; i < 4; i++)
		ids[i] = upload_tone(files[i].format, files[i].rate,
				     files[i].channels, files[i].type,
				     files[i].name, files[i].want);

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio/%lld", (long long)ids[1]), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    "hello.mp3");
	rt_test_resp_free(&r);

	/* listed, paged */
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audio?limit=3", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 3);
	assert_true(json_is_string(json_object_get(r.json, "next_cursor")));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio?account_id=%lld&limit=200",
				(long long)srv.account_id),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_array_size(json_object_get(r.json, "data")) >= 4);
	rt_test_resp_free(&r);

	/* the audio as calls hear it */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio/%lld/file", (long long)ids[2]),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(rt_test_header(&r, "Content-Type", buf,
					   sizeof(buf)),
			    "audio/wav");
	assert_true(r.len > 44);
	assert_memory_equal(r.body, "RIFF", 4);
	assert_memory_equal(r.body + 8, "WAVEfmt ", 8);
	assert_int_equal(le32(r.body + 24), 8000);
	assert_int_equal((unsigned char)r.body[22], 1); /* mono */
	assert_int_equal(le32(r.body + 40), r.len - 44);
	assert_true(r.len - 44 >= 1450 * 16 && r.len - 44 <= 1550 * 16);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "HEAD",
		    rt_test_fmt("/v1/audio/%lld/file", (long long)ids[2]),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);

	/* deleted: gone */
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)ids[3]), NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio/%lld", (long long)ids[3]), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio/%lld/file", (long long)ids[3]),
		    NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)ids[3]), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
}

/* Every way an upload can be wrong: 4xx with a JSON error naming the
 * field, and nothing stored. */
static void test_bad_uploads(void **state)
{
	static const char text[] = "this is not audio, only some text\n";
	struct rt_test_resp r;
	char *buf;
	size_t len;
	json_int_t before;

	(void)state;
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audio?limit=200", NULL);
	before = (json_int_t)json_array_size(json_object_get(r.json, "data"));
	rt_test_resp_free(&r);

	len = rt_test_tone_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1000,
				0.2, &buf);
	upload(&r, "name=x.wav", "application/json", buf, len);
	RT_EXPECT_ERROR(&r, 415, "unsupported_media_type", "Content-Type");
	rt_test_resp_free(&r);
	upload(&r, "", "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 400, "missing_parameter", "name");
	rt_test_resp_free(&r);
	upload(&r, "name=bad%01name", "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 400, "invalid_parameter", "name");
	rt_test_resp_free(&r);
	upload(&r, "name=x.wav&account_id=0", "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 400, "invalid_parameter", "account_id");
	rt_test_resp_free(&r);
	upload(&r, "name=x.wav&account_id=999999", "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 404, "not_found", "account_id");
	rt_test_resp_free(&r);
	free(buf);

	upload(&r, "name=x.mp3", "audio/mpeg", text, sizeof(text) - 1);
	RT_EXPECT_ERROR(&r, 415, "unsupported_media_type", "body");
	rt_test_resp_free(&r);
	upload(&r, "name=x.mp3", "audio/mpeg", "", 0);
	RT_EXPECT_ERROR(&r, 422, "empty_audio", "body");
	rt_test_resp_free(&r);
	/* a WAV without samples */
	len = rt_test_tone_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1000,
				0, &buf);
	upload(&r, "name=x.wav", "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 422, "empty_audio", "body");
	rt_test_resp_free(&r);
	free(buf);
	/* FLAC: audio, but not a format prompts take */
	len = rt_test_tone_file(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 1,
				1000, 0.2, &buf);
	upload(&r, "name=x.flac", "application/octet-stream", buf, len);
	RT_EXPECT_ERROR(&r, 415, "unsupported_media_type", "body");
	assert_non_null(strstr(r.body, "FLAC"));
	rt_test_resp_free(&r);
	free(buf);
	/* over ten minutes (a small file: 1 kHz, 8 bits) */
	len = rt_test_tone_file(SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1000, 1, 1000,
				601, &buf);
	upload(&r, "name=long.wav", "audio/x-wav", buf, len);
	RT_EXPECT_ERROR(&r, 422, "audio_too_long", "body");
	rt_test_resp_free(&r);
	free(buf);

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audio?limit=200", NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")),
			 before);
	rt_test_resp_free(&r);
}

/* Past audio_max_upload: 413 before the file is decoded. */
static void test_upload_limit(void **state)
{
	static const char *const env[] = {"RINGTRAIL_AUDIO_MAX_UPLOAD=64KiB",
					  NULL};
	struct rt_test_server small;
	struct rt_test_resp r;
	char *buf;
	size_t len;

	(void)state;
	memset(&small, 0, sizeof(small));
	rt_test_server_start(&small, NULL, env);
	len = rt_test_tone_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1000,
				5, &buf);
	assert_true(len > 65536);
	upload_as(&small, small.key, &r, "name=big.wav", "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 413, "body_too_large", NULL);
	rt_test_resp_free(&r);
	free(buf);
	/* a smaller one fits, though it is over http_max_body's minimum */
	len = rt_test_tone_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1000,
				3, &buf);
	upload_as(&small, small.key, &r, "name=ok.wav", "audio/wav", buf, len);
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
	free(buf);
	assert_int_equal(rt_test_server_stop(&small), 0);
}

/* A client account's key sees none of its agency's files; the agency
 * sees the client's. */
static void test_other_account(void **state)
{
	struct rt_test_resp r;
	char key[200];
	int64_t client, mine, theirs;
	char *buf;
	size_t len;

	(void)state;
	mine = upload_tone(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1,
			   "audio/wav", "agency.wav", "wav");
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/accounts",
		    "{\"name\":\"Audio Client\"}");
	RT_EXPECT_STATUS(&r, 201);
	client = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/api-keys",
		    rt_test_fmt("{\"account_id\":%lld,\"name\":\"c\","
				"\"scopes\":[\"read\",\"write\"]}",
				(long long)client));
	RT_EXPECT_STATUS(&r, 201);
	snprintf(key, sizeof(key), "%s",
		 json_string_value(json_object_get(r.json, "secret")));
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, key, "GET",
		    rt_test_fmt("/v1/audio/%lld", (long long)mine), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, key, "GET",
		    rt_test_fmt("/v1/audio/%lld/file", (long long)mine), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)mine), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, key, "GET", "/v1/audio", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
	rt_test_resp_free(&r);
	/* into the agency: not in the client's tree */
	len = rt_test_tone_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1000,
				0.5, &buf);
	upload_as(&srv, key, &r,
		  rt_test_fmt("name=up.wav&account_id=%lld",
			      (long long)srv.account_id),
		  "audio/wav", buf, len);
	RT_EXPECT_ERROR(&r, 404, "not_found", "account_id");
	rt_test_resp_free(&r);
	/* its own: the agency sees it too */
	upload_as(&srv, key, &r, "name=client.wav", "audio/wav", buf, len);
	RT_EXPECT_STATUS(&r, 201);
	theirs = rt_test_json_id(&r, "id");
	assert_int_equal(rt_test_json_id(&r, "account_id"), client);
	rt_test_resp_free(&r);
	free(buf);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio/%lld", (long long)theirs), NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);

	/* A flow of the agency cannot play the client's file, nor the
	 * client's flow the agency's. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows",
		    rt_test_fmt("{\"name\":\"x\",\"flow\":{\"format\":1,"
				"\"start\":\"p\",\"steps\":[{\"id\":\"p\","
				"\"type\":\"play\",\"prompt\":{\"audio_id\":"
				"%lld}}]}}",
				(long long)theirs));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow",
			"flow.steps.p.prompt.audio_id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, key, "POST", "/v1/flows",
		    rt_test_fmt("{\"name\":\"x\",\"flow\":{\"format\":1,"
				"\"start\":\"p\",\"steps\":[{\"id\":\"p\","
				"\"type\":\"play\",\"prompt\":{\"audio_id\":"
				"%lld}}]}}",
				(long long)mine));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow",
			"flow.steps.p.prompt.audio_id");
	assert_null(strstr(r.body, "agency.wav"));
	rt_test_resp_free(&r);
}

/* A play, a menu and a voicemail: their three prompts are %s. */
#define PLAY_FLOW                                                              \
	"{\"format\":1,\"start\":\"hello\",\"steps\":[{\"id\":\"hello\","      \
	"\"type\":\"play\",\"prompt\":%s,\"exits\":{\"next\":"                 \
	"\"menu\"}},{\"id\":\"menu\",\"type\":\"menu\",\"prompt\":{\"text\":"  \
	"\"Press 1.\"},\"invalid_prompt\":%s,\"exits\":{\"1\":\"vm\"}},"       \
	"{\"id\":\"vm\",\"type\":\"voicemail\",\"greeting\":%s}]}"

static const char *audio_prompt(int64_t id)
{
	return rt_test_fmt("{\"audio_id\":%lld}", (long long)id);
}

/* Saving: every unknown audio_id is a problem on its step's field; a
 * file the latest version plays is kept from deletion (409 in_use) until
 * a version without it; simulate shows the file a prompt plays. */
static void test_flows_and_audio(void **state)
{
	struct rt_test_resp r;
	const char *flow;
	char *problems;
	int64_t a, b, fid;

	(void)state;
	a = upload_tone(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 1,
			"audio/mpeg", "welcome.mp3", "mp3");
	b = upload_tone(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, "audio/wav",
			"sorry.wav", "wav");

	/* unknown ids, each on its field */
	flow = rt_test_fmt(PLAY_FLOW, "{\"audio_id\":999991}",
			   "{\"audio_id\":999992}", "{\"text\":\"Hi.\"}");
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows",
		    rt_test_fmt("{\"name\":\"a\",\"flow\":%s}", flow));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow",
			"flow.steps.hello.prompt.audio_id");
	problems = json_dumps(json_object_get(json_object_get(r.json, "error"),
					      "problems"),
			      JSON_COMPACT);
	assert_non_null(strstr(problems, "\"step\":\"menu\",\"field\":"
					 "\"invalid_prompt.audio_id\""));
	assert_non_null(strstr(problems, "999992"));
	free(problems);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows/validate",
		    rt_test_fmt("{\"flow\":%s}", flow));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow",
			"flow.steps.hello.prompt.audio_id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/flows?limit=200", NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
	rt_test_resp_free(&r);

	/* the account's own files: saved, and in use */
	flow = rt_test_fmt(PLAY_FLOW, audio_prompt(a), audio_prompt(b),
			   audio_prompt(a));
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows/validate",
		    rt_test_fmt("{\"flow\":%s}", flow));
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows",
		    rt_test_fmt("{\"name\":\"a\",\"flow\":%s}", flow));
	RT_EXPECT_STATUS(&r, 201);
	fid = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/audio/%lld", (long long)a), NULL);
	assert_int_equal(rt_test_json_id(&r, "flows"), 1);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)a), NULL);
	RT_EXPECT_ERROR(&r, 409, "in_use", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)b), NULL);
	RT_EXPECT_ERROR(&r, 409, "in_use", NULL);
	rt_test_resp_free(&r);

	/* simulate: the prompts name their files */
	rt_test_api(&srv, &r, srv.key, "POST",
		    rt_test_fmt("/v1/flows/%lld/simulate", (long long)fid),
		    "{\"digits\":\"1\"}");
	RT_EXPECT_STATUS(&r, 200);
	{
		json_t *path = json_object_get(r.json, "path");
		json_t *first =
			json_object_get(json_array_get(path, 0), "action");

		assert_int_equal(json_integer_value(
					 json_object_get(first, "audio_id")),
				 a);
		assert_string_equal(json_string_value(
					    json_object_get(r.json, "end")),
				    "no exit");
	}
	rt_test_resp_free(&r);

	/* a rename keeps the files in use; a version without b frees b */
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/flows/%lld", (long long)fid),
		    "{\"name\":\"renamed\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)b), NULL);
	RT_EXPECT_ERROR(&r, 409, "in_use", NULL);
	rt_test_resp_free(&r);
	flow = rt_test_fmt(PLAY_FLOW, audio_prompt(a), "{\"text\":\"Sorry.\"}",
			   "{\"text\":\"Bye.\"}");
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/flows/%lld", (long long)fid),
		    rt_test_fmt("{\"flow\":%s}", flow));
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)b), NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	/* an update naming a file that is gone: refused, version kept */
	flow = rt_test_fmt(PLAY_FLOW, audio_prompt(b), "{\"text\":\"Sorry.\"}",
			   "{\"text\":\"Bye.\"}");
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/flows/%lld", (long long)fid),
		    rt_test_fmt("{\"flow\":%s}", flow));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow",
			"flow.steps.hello.prompt.audio_id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/flows/%lld", (long long)fid), NULL);
	assert_int_equal(rt_test_json_id(&r, "version"), 2);
	rt_test_resp_free(&r);
	/* a deleted flow plays nothing */
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/flows/%lld", (long long)fid), NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)a), NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_formats),
		cmocka_unit_test(test_bad_uploads),
		cmocka_unit_test(test_other_account),
		cmocka_unit_test(test_flows_and_audio),
		cmocka_unit_test(test_upload_limit),
	};

	return cmocka_run_group_tests_name("audio", tests, setup, teardown);
}
