/* A small RFC 4180 CSV reader for imports (numbers, and later ad spend). */
#include <errno.h>
#include <string.h>

#include "util/util.h"

#define MAX_KEPT 64 /* fields of a record handed out; more are only counted */

void rt_csv_init(struct rt_csv *c, const char *data, size_t len)
{
	c->p = data;
	c->end = data + len;
	c->line = 0;
	c->at = 1;
	rt_buf_init(&c->field);
}

void rt_csv_release(struct rt_csv *c)
{
	rt_buf_release(&c->field);
}

/* At a line end (LF or CRLF): steps over it and returns true. */
static bool eol(struct rt_csv *c)
{
	if (c->p < c->end && *c->p == '\n') {
		c->p++;
		c->at++;
		return true;
	}
	if (c->p + 1 < c->end && c->p[0] == '\r' && c->p[1] == '\n') {
		c->p += 2;
		c->at++;
		return true;
	}
	return false;
}

static int quoted(struct rt_csv *c)
{
	c->p++; /* the opening quote */
	for (;;) {
		if (c->p >= c->end)
			return EINVAL;
		if (*c->p == '"') {
			if (c->p + 1 < c->end && c->p[1] == '"') {
				rt_buf_append(&c->field, "\"", 1);
				c->p += 2;
				continue;
			}
			c->p++;
			break;
		}
		if (*c->p == '\n')
			c->at++;
		rt_buf_append(&c->field, c->p, 1);
		c->p++;
	}
	/* Only a separator or the end of the record may follow. */
	if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
	    !(*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n'))
		return EINVAL;
	return 0;
}

int rt_csv_next(struct rt_csv *c, const char **fields, size_t max, size_t *np)
{
	size_t off[MAX_KEPT], n = 0;
	int err;

	while (eol(c))
		; /* blank lines */
	if (c->p >= c->end)
		return 0;
	c->line = c->at;
	c->field.len = 0;
	for (;;) {
		size_t start = c->field.len;

		if (*c->p == '"') {
			err = quoted(c);
			if (err)
				return err;
		} else {
			const char *s = c->p;

			while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
			       !(*c->p == '\r' && c->p + 1 < c->end &&
				 c->p[1] == '\n'))
				c->p++;
			rt_buf_append(&c->field, s, (size_t)(c->p - s));
		}
		rt_buf_append(&c->field, "", 1);
		if (n < MAX_KEPT)
			off[n] = start;
		n++;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			if (c->p >=
			    c->end) { /* a trailing comma: one more, empty */
				rt_buf_append(&c->field, "", 1);
				if (n < MAX_KEPT)
					off[n] = c->field.len - 1;
				n++;
				break;
			}
			continue;
		}
		eol(c);
		break;
	}
	if (c->field.err)
		return ENOMEM;
	for (size_t i = 0; i < n && i < max && i < MAX_KEPT; i++)
		fields[i] = c->field.s + off[i];
	*np = n;
	return 1;
}
