/*
 * G.711 (g711.h).  Encoders and decoders are written from the standard's
 * segment tables; law-to-law conversion goes through 16-bit linear once, at
 * start, into tables, since it runs on every relayed packet whose legs
 * chose different laws.
 */
#include <pthread.h>

#include "media/g711.h"

int16_t rt_g711_ulaw_decode(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

uint8_t rt_g711_ulaw_encode(int16_t s)
{
	int sign = s < 0 ? 0x80 : 0, exp = 7, mag = s < 0 ? -(int)s : s;

	if (mag > 32635)
		mag = 32635;
	mag += 0x84;
	while (exp > 0 && !(mag & (0x4000 >> (7 - exp))))
		exp--;
	return (uint8_t) ~(sign | exp << 4 | ((mag >> (exp + 3)) & 0x0f));
}

int16_t rt_g711_alaw_decode(uint8_t a)
{
	int seg, mant, mag;

	a ^= 0x55;
	seg = (a & 0x70) >> 4;
	mant = a & 0x0f;
	mag = seg ? ((mant | 0x10) << seg) + (1 << (seg - 1)) : (mant << 1) + 1;
	mag <<= 3;
	return (int16_t)((a & 0x80) ? mag : -mag);
}

uint8_t rt_g711_alaw_encode(int16_t s)
{
	int sign = s >= 0 ? 0x80 : 0, mag = s >= 0 ? s : -(int)s - 1, seg;

	mag >>= 3;
	if (mag > 4095)
		mag = 4095;
	if (mag < 32)
		return (uint8_t)((sign | (mag >> 1)) ^ 0x55);
	for (seg = 1; seg < 7 && mag >= (32 << seg); seg++)
		;
	return (uint8_t)((sign | seg << 4 | ((mag >> seg) & 0x0f)) ^ 0x55);
}

static uint8_t u2a[256], a2u[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	for (int i = 0; i < 256; i++) {
		u2a[i] = rt_g711_alaw_encode(rt_g711_ulaw_decode((uint8_t)i));
		a2u[i] = rt_g711_ulaw_encode(rt_g711_alaw_decode((uint8_t)i));
	}
}

const uint8_t *rt_g711_ulaw_to_alaw(void)
{
	pthread_once(&once, tables_init);
	return u2a;
}

const uint8_t *rt_g711_alaw_to_ulaw(void)
{
	pthread_once(&once, tables_init);
	return a2u;
}
