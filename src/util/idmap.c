/*
 * An open-addressed map from nonzero 64-bit keys to 64-bit values: linear
 * probing, deletion by backward shift (no tombstones, so probe chains stay
 * short however much churn), grown at 5/8 full.  Not locked: its owner
 * holds the lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "util/util.h"

static size_t slot_of(const struct rt_idmap *m, uint64_t key)
{
	/* Keys may be random or sequential: mix them (splitmix64's end). */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return (size_t)key & (m->cap - 1);
}

static int grow(struct rt_idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct rt_idmap_entry *old = m->e, *e = calloc(cap, sizeof(*e));
	size_t oldcap = m->cap;

	if (!e)
		return ENOMEM;
	m->e = e;
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key)
			rt_idmap_put(m, old[i].key, old[i].value);
	}
	free(old);
	return 0;
}

void rt_idmap_release(struct rt_idmap *m)
{
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}

int rt_idmap_put(struct rt_idmap *m, uint64_t key, int64_t value)
{
	size_t i;

	if (!key)
		return EINVAL;
	if ((m->n + 1) * 8 > m->cap * 5 && grow(m))
		return ENOMEM;
	for (i = slot_of(m, key); m->e[i].key; i = (i + 1) & (m->cap - 1)) {
		if (m->e[i].key == key) {
			m->e[i].value = value;
			return 0;
		}
	}
	m->e[i].key = key;
	m->e[i].value = value;
	m->n++;
	return 0;
}

int rt_idmap_get(const struct rt_idmap *m, uint64_t key, int64_t *valuep)
{
	if (!key || !m->cap)
		return ENOENT;
	for (size_t i = slot_of(m, key); m->e[i].key;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->e[i].key == key) {
			*valuep = m->e[i].value;
			return 0;
		}
	}
	return ENOENT;
}

int rt_idmap_del(struct rt_idmap *m, uint64_t key)
{
	size_t i, j, mask = m->cap - 1;

	if (!key || !m->cap)
		return ENOENT;
	for (i = slot_of(m, key); m->e[i].key != key; i = (i + 1) & mask) {
		if (!m->e[i].key)
			return ENOENT;
	}
	/* Shift back every entry after the hole that would not be found
	 * past it: one whose home slot is not between the hole and it. */
	for (j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->e[j].key);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->e[i] = m->e[j];
			i = j;
		}
	}
	m->e[i].key = 0;
	m->n--;
	return 0;
}
