/*
 * G.711 (ITU-T, 1988): 16-bit linear samples to and from u-law and A-law
 * bytes, one sample at a time.  Each law has 8 segments of 16 steps; the
 * segment is the position of the sample's highest set bit, the step the
 * four bits below it.  u-law adds a bias of 33 (on the 14-bit scale) so
 * that its segments start at a power of two; A-law makes its first two
 * segments one linear run.  Both invert bits on the wire (u-law all of
 * them, A-law every other one, 0x55) so that silence is not a run of zero
 * bits.
 *
 * Shared by the SIP folder: the simulator's phone (phone.c) encodes what
 * it says and decodes what it hears; the relay (media.c) may build its
 * transcoding tables from these.
 */
#include "sip/sip_int.h"

#define ULAW_BIAS 0x84 /* 33 on the 14-bit scale, shifted to 16 bits */
#define ULAW_CLIP 32635

/* The highest set bit of v at or above bit `low`, counted from `low`, at
 * most 7: the segment of a magnitude. */
static unsigned segment(unsigned v, unsigned low)
{
	unsigned seg = 0;

	v >>= low;
	while (v > 1 && seg < 7) {
		v >>= 1;
		seg++;
	}
	return seg;
}

uint8_t rt_g711_ulaw_enc(int16_t sample)
{
	int s = sample;
	unsigned sign = s < 0 ? 0x80 : 0, mag, seg;

	mag = (unsigned)(s < 0 ? -s : s);
	if (mag > ULAW_CLIP)
		mag = ULAW_CLIP;
	mag += ULAW_BIAS;
	/* The bias puts every magnitude at 2^7 or above: segment 0 is
	 * 2^7..2^8-1, segment 7 is 2^14 and up. */
	seg = segment(mag, 7);
	return (uint8_t) ~(sign | seg << 4 | ((mag >> (seg + 3)) & 0x0f));
}

int16_t rt_g711_ulaw_dec(uint8_t u)
{
	unsigned v = (uint8_t)~u, seg = (v >> 4) & 7;
	int mag = (int)((((v & 0x0f) << 3) + ULAW_BIAS) << seg) - ULAW_BIAS;

	return (int16_t)(v & 0x80 ? -mag : mag);
}

uint8_t rt_g711_alaw_enc(int16_t sample)
{
	int s = sample >> 3; /* A-law works on 13 bits */
	unsigned mask, mag, seg, step;

	if (s >= 0) {
		mask = 0xd5; /* sign bit set for positive, then 0x55 */
		mag = (unsigned)s;
	} else {
		mask = 0x55;
		mag = (unsigned)(-s - 1);
	}
	if (mag > 0xfff)
		mag = 0xfff;
	/* Segments 0 and 1 are the one run 0..31 in steps of 2. */
	seg = mag < 32 ? 0 : segment(mag, 4);
	step = seg < 2 ? (mag >> 1) & 0x0f : (mag >> seg) & 0x0f;
	return (uint8_t)((seg << 4 | step) ^ mask);
}

int16_t rt_g711_alaw_dec(uint8_t a)
{
	unsigned v = a ^ 0x55, seg = (v >> 4) & 7;
	int mag = (int)((v & 0x0f) << 4) + 8;

	if (seg)
		mag = (mag + 0x100) << (seg - 1);
	return (int16_t)(v & 0x80 ? mag : -mag);
}
