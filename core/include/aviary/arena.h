/* aviary/arena.h - bump allocator with cleanups (nginx pools, Dovecot
 * alloconly pools).
 *
 * An arena owns every block it hands out; blocks are never freed one by
 * one. arena_reset() releases everything (running cleanups, newest first)
 * but keeps the first chunk, so a per-command arena costs no syscalls in
 * the steady state. arena_destroy() also frees the arena and sets the
 * caller's pointer to NULL. A secret arena (arena_new_secret) clears
 * every chunk with explicit_bzero before releasing it: use it for
 * passwords and SASL payloads. Allocation failure aborts (mem.h).
 * Pointers from an arena must never be stored in a longer-lived object.
 */
#ifndef AVIARY_ARENA_H
#define AVIARY_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "aviary/compat.h"

struct arena;

struct arena	*arena_create(size_t chunk_size);
struct arena	*arena_new_secret(size_t chunk_size);
void		 arena_destroy(struct arena **ap);
void		 arena_reset(struct arena *a);

/* Aligned to max_align_t. n == 0 returns a valid unique pointer. */
void		*arena_alloc(struct arena *a, size_t n);
void		*arena_zalloc(struct arena *a, size_t n);
/* Grow a block obtained from this arena; the old bytes are copied (the
 * old block is not reused). old may be NULL with old_n 0. */
void		*arena_realloc(struct arena *a, void *old, size_t old_n,
		    size_t new_n);
char		*arena_strdup(struct arena *a, const char *s);
char		*arena_strndup(struct arena *a, const char *s, size_t n);
char		*arena_printf(struct arena *a, const char *fmt, ...)
		    AV_PRINTFLIKE(2, 3);
char		*arena_vprintf(struct arena *a, const char *fmt, va_list ap)
		    AV_PRINTFLIKE(2, 0);
/* Run fn(arg) when the arena is reset or destroyed, newest first. */
void		 arena_cleanup_add(struct arena *a, void (*fn)(void *),
		    void *arg);

#endif
