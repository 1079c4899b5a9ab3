/* arena.c - bump allocation in chunks. A request larger than a quarter of
 * the chunk size gets a chunk of its own, so one big allocation does not
 * waste the rest of the current chunk. reset keeps the first chunk. */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/mem.h"

#define ARENA_ALIGN	alignof(max_align_t)
#define ARENA_MIN_CHUNK	256

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;	/* usable bytes after the header */
	size_t			 used;
	alignas(max_align_t) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup	*next;
	void			(*fn)(void *);
	void			*arg;
};

struct arena {
	struct arena_chunk	*chunks;	/* newest first; head = current */
	struct arena_chunk	*first;		/* kept by reset; not always last:
						 * big chunks link in behind it */
	struct arena_cleanup	*cleanups;	/* newest first */
	size_t			 chunk_size;
	int			 is_secret;
};

static struct arena_chunk *
chunk_new(size_t size)
{
	struct arena_chunk	*c;

	if (size > SIZE_MAX - sizeof(*c))
		log_panic("arena: chunk size overflow");
	c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

static struct arena *
arena_create_common(size_t chunk_size, int is_secret)
{
	struct arena	*a = xcalloc(1, sizeof(*a));

	a->chunk_size = chunk_size < ARENA_MIN_CHUNK ? ARENA_MIN_CHUNK :
	    chunk_size;
	a->is_secret = is_secret;
	a->chunks = a->first = chunk_new(a->chunk_size);
	return a;
}

struct arena *
arena_create(size_t chunk_size)
{
	return arena_create_common(chunk_size, 0);
}

struct arena *
arena_new_secret(size_t chunk_size)
{
	return arena_create_common(chunk_size, 1);
}

static void
arena_run_cleanups(struct arena *a)
{
	struct arena_cleanup	*c;

	/* A cleanup may not allocate from this arena: the list is taken
	 * first, so a new entry would leak into the next generation. */
	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->arg);
		free(c);
	}
}

static void
chunk_free(const struct arena *a, struct arena_chunk *c)
{
	if (a->is_secret)
		xfree_secret(c, sizeof(*c) + c->size);
	else
		free(c);
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk	*c, *next;

	arena_run_cleanups(a);
	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		if (c != a->first)
			chunk_free(a, c);
	}
	c = a->chunks = a->first;
	c->next = NULL;
	if (a->is_secret)
		explicit_bzero(c->data, c->used);
	c->used = 0;
}

void
arena_destroy(struct arena **ap)
{
	struct arena		*a = *ap;
	struct arena_chunk	*c, *next;

	if (a == NULL)
		return;
	arena_run_cleanups(a);
	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		chunk_free(a, c);
	}
	free(a);
	*ap = NULL;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk	*c = a->chunks, *big;
	size_t			 off;

	if (n > SIZE_MAX - ARENA_ALIGN)
		log_panic("arena: allocation size overflow");
	if (n == 0)
		n = 1;
	off = (c->used + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (off <= c->size && n <= c->size - off) {
		c->used = off + n;
		return c->data + off;
	}
	if (n > a->chunk_size / 4) {
		/* Dedicated chunk, linked behind the current one so the
		 * current chunk's free space stays in use. */
		big = chunk_new(n);
		big->used = n;
		big->next = c->next;
		c->next = big;
		return big->data;
	}
	c = chunk_new(a->chunk_size);
	c->next = a->chunks;
	a->chunks = c;
	c->used = n;
	return c->data;
}

void *
arena_zalloc(struct arena *a, size_t n)
{
	void	*p = arena_alloc(a, n);

	memset(p, 0, n);
	return p;
}

void *
arena_realloc(struct arena *a, void *old, size_t old_n, size_t new_n)
{
	void	*p;

	if (new_n <= old_n && old != NULL)
		return old;
	p = arena_alloc(a, new_n);
	if (old != NULL && old_n > 0)
		memcpy(p, old, old_n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t	 len = strnlen(s, n);
	char	*p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;
	char	*p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		log_panic("arena_printf: bad format '%s'", fmt);
	p = arena_alloc(a, (size_t)n + 1);
	if (vsnprintf(p, (size_t)n + 1, fmt, ap) != n)
		log_panic("arena_printf: length changed");
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_cleanup_add(struct arena *a, void (*fn)(void *), void *arg)
{
	struct arena_cleanup	*c = xmalloc(sizeof(*c));

	/* Cleanup records live on the heap, not in the arena, so that
	 * running them never touches memory being released. */
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
}
