/* lru.c - chained hash table (FNV-1a, power-of-two buckets, grown at a
 * load factor of 1) threaded on a doubly linked recency list; see
 * aviary/lru.h. O(1) expected for every operation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aviary/lru.h"
#include "aviary/mem.h"

struct lru_entry {
	struct lru_entry	*hnext;		/* bucket chain */
	struct lru_entry	*prev, *next;	/* recency: head = newest */
	uint64_t		 hash;
	char			*key;
	size_t			 vsize;
	unsigned char		 val[];
};

struct lru {
	struct lru_entry	**buckets;
	size_t			  nbuckets, count, max, vsize;
	struct lru_entry	 *head, *tail;
};

static uint64_t
lru_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct lru *
lru_create(size_t max_entries, size_t val_size)
{
	struct lru	*l = xcalloc(1, sizeof(*l));

	l->max = max_entries;
	l->vsize = val_size;
	l->nbuckets = 64;
	l->buckets = xcalloc(l->nbuckets, sizeof(*l->buckets));
	return l;
}

static void
lru_unlink(struct lru *l, struct lru_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_front(struct lru *l, struct lru_entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	l->head = e;
	if (l->tail == NULL)
		l->tail = e;
}

static struct lru_entry **
lru_slot(struct lru *l, const char *key, uint64_t h)
{
	struct lru_entry	**pp = &l->buckets[h & (l->nbuckets - 1)];

	while (*pp != NULL && ((*pp)->hash != h || strcmp((*pp)->key, key)))
		pp = &(*pp)->hnext;
	return pp;
}

static void
lru_free_entry(struct lru_entry *e)
{
	explicit_bzero(e->val, e->vsize);
	free(e->key);
	free(e);
}

static void
lru_remove(struct lru *l, struct lru_entry *e)
{
	struct lru_entry	**pp = lru_slot(l, e->key, e->hash);

	*pp = e->hnext;
	lru_unlink(l, e);
	l->count--;
	lru_free_entry(e);
}

void *
lru_get(struct lru *l, const char *key)
{
	struct lru_entry	*e = *lru_slot(l, key, lru_hash(key));

	if (e == NULL)
		return NULL;
	lru_unlink(l, e);
	lru_push_front(l, e);
	return e->val;
}

static void
lru_grow(struct lru *l)
{
	size_t			 n = l->nbuckets * 2, i;
	struct lru_entry	**nb = xcalloc(n, sizeof(*nb)), *e, *next;

	for (i = 0; i < l->nbuckets; i++)
		for (e = l->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(l->buckets);
	l->buckets = nb;
	l->nbuckets = n;
}

void *
lru_put(struct lru *l, const char *key, bool *created_r)
{
	uint64_t		 h = lru_hash(key);
	struct lru_entry	**pp = lru_slot(l, key, h), *e = *pp;

	if (created_r != NULL)
		*created_r = false;
	if (e != NULL) {
		lru_unlink(l, e);
		lru_push_front(l, e);
		return e->val;
	}
	if (l->max == 0)
		return NULL;
	if (l->count >= l->max) {
		lru_remove(l, l->tail);
		pp = lru_slot(l, key, h);	/* the chain may have changed */
	}
	e = xcalloc(1, sizeof(*e) + l->vsize);
	e->hash = h;
	e->key = xstrdup(key);
	e->vsize = l->vsize;
	*pp = e;
	lru_push_front(l, e);
	l->count++;
	if (l->count > l->nbuckets)
		lru_grow(l);
	if (created_r != NULL)
		*created_r = true;
	return e->val;
}

bool
lru_del(struct lru *l, const char *key)
{
	struct lru_entry	*e = *lru_slot(l, key, lru_hash(key));

	if (e == NULL)
		return false;
	lru_remove(l, e);
	return true;
}

size_t
lru_count(const struct lru *l)
{
	return l->count;
}

size_t
lru_clear(struct lru *l)
{
	size_t	 n = l->count;

	while (l->head != NULL)
		lru_remove(l, l->head);
	return n;
}

void
lru_walk(struct lru *l, bool (*fn)(const char *, void *, void *), void *ctx)
{
	struct lru_entry	*e, *next;

	for (e = l->head; e != NULL; e = next) {
		next = e->next;
		if (!fn(e->key, e->val, ctx))
			lru_remove(l, e);
	}
}

void
lru_destroy(struct lru **lp)
{
	struct lru	*l = *lp;

	if (l == NULL)
		return;
	(void)lru_clear(l);
	free(l->buckets);
	free(l);
	*lp = NULL;
}
