/* aviary/buf.h - growable byte buffer with a hard ceiling.
 *
 * A buf owns its bytes. Invariants: len <= cap <= max, and data[len] ==
 * '\0' whenever data != NULL (content may itself contain NULs). An append
 * that would pass max fails with BUF_EFULL and leaves the buffer
 * untouched; the caller decides whether that is a client error or a bug.
 * Nothing is ever truncated silently. Memory comes from 'arena', or the
 * heap if it is NULL (then buf_deinit frees it). A secret buf is cleared
 * with explicit_bzero whenever its bytes move or are released.
 */
#ifndef AVIARY_BUF_H
#define AVIARY_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "aviary/compat.h"

struct arena;

struct buf {
	char		*data;
	size_t		 len;	/* bytes used, not counting the NUL */
	size_t		 cap;	/* bytes allocated, not counting the NUL */
	size_t		 max;	/* ceiling for cap, fixed by buf_init() */
	struct arena	*arena;
	bool		 is_secret;
};

#define BUF_EFULL	(-2)

void	buf_init(struct buf *b, struct arena *arena, size_t max);
void	buf_init_secret(struct buf *b, size_t max);	/* heap, cleared */
void	buf_deinit(struct buf *b);
/* 0, or BUF_EFULL with the buffer unchanged. */
int	buf_append(struct buf *b, const void *p, size_t n) AV_WARN_UNUSED;
int	buf_append_str(struct buf *b, const char *s) AV_WARN_UNUSED;
int	buf_append_c(struct buf *b, char c) AV_WARN_UNUSED;
/* 0, or BUF_EFULL with the buffer unchanged (also if vsnprintf fails). */
int	buf_printf(struct buf *b, const char *fmt, ...) AV_PRINTFLIKE(2, 3)
	    AV_WARN_UNUSED;
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    AV_PRINTFLIKE(2, 0) AV_WARN_UNUSED;
void	buf_consume(struct buf *b, size_t n);	/* drop n bytes from front */
void	buf_truncate(struct buf *b, size_t len);	/* len <= b->len */
void	buf_clear(struct buf *b);	/* len = 0, keeps the allocation */
/* Never NULL: "" for an empty buffer that owns no memory yet. */
const char *buf_cstr(const struct buf *b);

#endif
