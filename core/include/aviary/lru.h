/* aviary/lru.h - a string-keyed hash map with a size bound and least-
 * recently-used eviction. Single-threaded.
 *
 * The map owns a copy of each key and the value block of val_size bytes
 * it allocates per entry (zeroed on insert). lru_get and lru_put make an
 * entry the most recently used. When an insert would pass max_entries,
 * the least recently used entry is dropped first. Values are cleared
 * with explicit_bzero when dropped, since callers keep password
 * fingerprints in them.
 */
#ifndef AVIARY_LRU_H
#define AVIARY_LRU_H

#include <stdbool.h>
#include <stddef.h>

struct lru;

struct lru	*lru_create(size_t max_entries, size_t val_size);
void		 lru_destroy(struct lru **lp);
/* The value of 'key', or NULL. */
void		*lru_get(struct lru *l, const char *key);
/* The value of 'key', created (zeroed) if missing; *created_r (may be
 * NULL) says which. With max_entries 0 nothing is stored: NULL. */
void		*lru_put(struct lru *l, const char *key, bool *created_r);
/* true if it was there. */
bool		 lru_del(struct lru *l, const char *key);
size_t		 lru_count(const struct lru *l);
size_t		 lru_clear(struct lru *l);	/* returns how many were dropped */
/* Visit entries from most to least recently used; fn returns false to
 * drop the entry (safe during the walk). */
void		 lru_walk(struct lru *l, bool (*fn)(const char *key, void *val,
		    void *ctx), void *ctx);

#endif
