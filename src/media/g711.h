/*
 * media: G.711, the two 8-bit logarithmic laws of telephone audio (ITU-T
 * G.711): mu-law (PCMU, North America and Japan) and A-law (PCMA,
 * elsewhere).  Each sample is one byte; these functions turn it into 16-bit
 * linear audio and back, and one law into the other through linear.
 *
 * The tables behind the byte-to-byte and byte-to-linear conversions are
 * built on first use; every function is safe from any thread.
 */
#ifndef RT_MEDIA_G711_H
#define RT_MEDIA_G711_H

#include <stdint.h>

/* The byte of digital silence of each law. */
#define RT_G711_ULAW_SILENCE 0xff
#define RT_G711_ALAW_SILENCE 0xd5

int16_t rt_g711_ulaw_decode(uint8_t u);
int16_t rt_g711_alaw_decode(uint8_t a);
uint8_t rt_g711_ulaw_encode(int16_t s);
uint8_t rt_g711_alaw_encode(int16_t s);

/* 256-entry tables from one law to the other. */
const uint8_t *rt_g711_ulaw_to_alaw(void);
const uint8_t *rt_g711_alaw_to_ulaw(void);

#endif
