/* buf.c - bounded growable buffer; see aviary/buf.h for the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/log.h"
#include "aviary/mem.h"

void
buf_init(struct buf *b, struct arena *arena, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->arena = arena;
	b->max = max;
}

void
buf_init_secret(struct buf *b, size_t max)
{
	buf_init(b, NULL, max);
	b->is_secret = true;
}

void
buf_deinit(struct buf *b)
{
	if (b->data != NULL && b->arena == NULL) {
		if (b->is_secret)
			xfree_secret(b->data, b->cap + 1);
		else
			free(b->data);
	} else if (b->data != NULL && b->is_secret) {
		explicit_bzero(b->data, b->cap + 1);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Make room for n more bytes; the caller has checked n <= max - len. */
static void
buf_grow(struct buf *b, size_t n)
{
	size_t	 ncap;
	char	*p;

	if (b->data != NULL && n <= b->cap - b->len)
		return;
	ncap = b->cap ? b->cap : (b->max < 64 ? b->max : 64);
	while (ncap < b->len + n)
		ncap = (ncap > b->max / 2) ? b->max : ncap * 2;
	if (b->arena != NULL) {
		p = arena_realloc(b->arena, b->data, b->data ? b->len + 1 : 0,
		    ncap + 1);
		if (b->is_secret && b->data != NULL)
			explicit_bzero(b->data, b->cap + 1);
	} else if (b->is_secret) {
		/* realloc could leave a copy behind: move by hand. */
		p = xmalloc(ncap + 1);
		if (b->data != NULL) {
			memcpy(p, b->data, b->len + 1);
			xfree_secret(b->data, b->cap + 1);
		}
	} else {
		p = xrealloc(b->data, ncap + 1);
	}
	b->data = p;
	b->cap = ncap;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len)	/* cannot overflow: len <= max */
		return BUF_EFULL;
	if (n == 0 && b->data != NULL)
		return 0;
	buf_grow(b, n);		/* always leaves data != NULL */
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_append_c(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (size_t)n > b->max - b->len)
		return BUF_EFULL;
	buf_grow(b, (size_t)n);
	/* The buffer always has cap + 1 bytes, so len + n + 1 fits. */
	if (vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap) != n)
		log_panic("buf_printf: length changed");
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_consume(struct buf *b, size_t n)
{
	ASSERT(n <= b->len);
	if (n == 0)
		return;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
	if (b->is_secret)
		explicit_bzero(b->data + b->len, n);
}

void
buf_truncate(struct buf *b, size_t len)
{
	ASSERT(len <= b->len);
	if (b->data == NULL)
		return;
	if (b->is_secret)
		explicit_bzero(b->data + len, b->len - len);
	b->len = len;
	b->data[len] = '\0';
}

void
buf_clear(struct buf *b)
{
	buf_truncate(b, 0);
}

const char *
buf_cstr(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}
