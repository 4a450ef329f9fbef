/*
 * libFuzzer target for the SDP a carrier or a business line sends
 * (rt_sdp_parse): the input is the body as it comes, with no terminating
 * NUL, in an exact heap block, so ASan reports any read past its end.
 * Whatever parses must hold what the B2BUA relies on: a terminated
 * address of its family, a port, formats within bounds; and Ringtrail's
 * own SDP for it must parse back to the same stream.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "broken: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	const struct rt_sdp_fmt *g, *te;
	struct rt_sdp s, back;
	unsigned char bin[16];
	const char *why = NULL;
	int err;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	err = rt_sdp_parse(copy, size, &s, &why);
	check(why != NULL, "no reason");
	check(err == 0 || err == EINVAL || err == ENOENT, "errno value");
	if (err) {
		check(why[0] != '\0', "an error without a reason");
		free(copy);
		return 0;
	}
	check(memchr(s.addr, '\0', sizeof(s.addr)) != NULL,
	      "addr unterminated");
	check(inet_pton(s.af, s.addr, bin) == 1, "addr of its family");
	check(s.nfmts >= 1 && s.nfmts <= RT_SDP_FMT_MAX, "format count");
	for (size_t i = 0; i < s.nfmts; i++) {
		check(s.fmts[i].pt >= 0 && s.fmts[i].pt <= 127, "payload type");
		check(memchr(s.fmts[i].name, '\0', sizeof(s.fmts[i].name)) !=
			      NULL,
		      "name unterminated");
	}
	g = rt_sdp_g711(&s);
	te = rt_sdp_telev(&s);
	if (g) {
		struct rt_sdp_local l = {
			.addr = s.addr,
			.af = s.af,
			.port = s.port,
			.sess_id = 1,
			.version = 1,
			.fmts = {{g->pt, g->name}},
			.nfmts = 1,
			.telev_pt = te ? te->pt : -1,
			.dir = s.dir,
		};
		struct rt_buf b;

		rt_buf_init(&b);
		rt_sdp_write(&b, &l);
		check(!b.err, "write");
		check(rt_sdp_parse(b.s, b.len, &back, &why) == 0, "reads back");
		check(back.port == s.port && back.dir == s.dir &&
			      strcmp(back.addr, s.addr) == 0,
		      "same stream");
		check(rt_sdp_g711(&back) && rt_sdp_g711(&back)->pt == g->pt &&
			      strcmp(rt_sdp_g711(&back)->name, g->name) == 0,
		      "same codec");
		rt_buf_release(&b);
	}
	free(copy);
	return 0;
}
