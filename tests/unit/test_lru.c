/* test_lru.c - core/lib/lru.c: put/get/del, created_r, eviction of the
 * least recently used at max_entries (N fits, N+1 evicts), what counts
 * as a use, max_entries 0 and 1, walks that drop entries, clear, growth
 * to 10,000 keys, zeroed values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/compat.h"
#include "aviary/lru.h"

struct val {
	uint64_t	 n;
	char		 tag[24];
};

static void
key_of(char *out, size_t outsz, size_t i)
{
	(void)snprintf(out, outsz, "user%zu@example.test", i);
}

/* Put 'key' (it must be new) and store n in its value. */
static void
put_new(struct lru *l, const char *key, uint64_t n)
{
	struct val	*v;
	bool		 created = false;

	v = lru_put(l, key, &created);
	assert_non_null(v);
	assert_true(created);
	v->n = n;
}

static void
test_put_get_del(void **state)
{
	struct lru	*l = lru_create(10, sizeof(struct val));
	struct val	*v, *v2;
	bool		 created = true;

	(void)state;
	assert_int_equal(lru_count(l), 0);
	assert_null(lru_get(l, "a"));
	assert_false(lru_del(l, "a"));

	v = lru_put(l, "a", &created);
	assert_non_null(v);
	assert_true(created);
	v->n = 42;
	assert_int_equal(lru_count(l), 1);

	/* A second put finds the same value and says it was there. */
	v2 = lru_put(l, "a", &created);
	assert_ptr_equal(v2, v);
	assert_false(created);
	assert_int_equal(lru_count(l), 1);
	assert_ptr_equal(lru_get(l, "a"), v);
	assert_int_equal(((struct val *)lru_get(l, "a"))->n, 42);

	/* created_r may be NULL. */
	v2 = lru_put(l, "b", NULL);
	assert_non_null(v2);
	assert_ptr_not_equal(v2, v);
	assert_ptr_equal(lru_put(l, "b", NULL), v2);

	/* Keys are compared whole: prefixes and case differ. */
	assert_null(lru_get(l, "A"));
	assert_null(lru_get(l, "aa"));
	assert_null(lru_get(l, ""));
	v2 = lru_put(l, "", &created);	/* the empty key is a key */
	assert_true(created);
	assert_ptr_equal(lru_get(l, ""), v2);
	assert_int_equal(lru_count(l), 3);

	assert_true(lru_del(l, "a"));
	assert_false(lru_del(l, "a"));
	assert_null(lru_get(l, "a"));
	assert_non_null(lru_get(l, "b"));
	assert_int_equal(lru_count(l), 2);
	lru_destroy(&l);
	assert_null(l);
	lru_destroy(&l);		/* NULL is fine */
}

/* The map copies the key: the caller's buffer may change. */
static void
test_key_copied(void **state)
{
	struct lru	*l = lru_create(4, sizeof(struct val));
	char		 key[16];

	(void)state;
	(void)snprintf(key, sizeof(key), "first");
	put_new(l, key, 1);
	(void)snprintf(key, sizeof(key), "second");
	assert_null(lru_get(l, key));
	assert_non_null(lru_get(l, "first"));
	lru_destroy(&l);
}

/* A new value is all zero, also when it reuses the memory of an entry
 * just deleted or evicted. */
static void
test_values_zeroed(void **state)
{
	static const unsigned char	 zero[sizeof(struct val)];
	struct lru			*l = lru_create(2, sizeof(struct val));
	struct val			*v;
	int				 round;

	(void)state;
	for (round = 0; round < 20; round++) {
		char	 key[48];

		key_of(key, sizeof(key), (size_t)round);
		v = lru_put(l, key, NULL);
		assert_memory_equal(v, zero, sizeof(*v));
		memset(v, 0xa5, sizeof(*v));
		if (round % 3 == 0)
			assert_true(lru_del(l, key));
	}
	lru_destroy(&l);
}

/* max_entries N: N entries fit, entry N+1 evicts the oldest. */
static void
test_evict_at_max(void **state)
{
	static const size_t	 maxes[] = { 1, 2, 3, 64, 65, 100 };
	size_t			 m, i;
	char			 key[48];

	(void)state;
	for (m = 0; m < N_ELEMENTS(maxes); m++) {
		size_t		 max = maxes[m];
		struct lru	*l = lru_create(max, sizeof(struct val));

		for (i = 0; i < max; i++) {
			key_of(key, sizeof(key), i);
			put_new(l, key, i);
		}
		assert_int_equal(lru_count(l), max);	/* N */
		key_of(key, sizeof(key), 0);
		assert_non_null(lru_get(l, key));	/* all there */
		/* The get made key 0 the newest: key 1 is now the oldest. */
		key_of(key, sizeof(key), max);
		put_new(l, key, max);			/* N+1 */
		assert_int_equal(lru_count(l), max);
		if (max > 1) {
			key_of(key, sizeof(key), 0);
			assert_non_null(lru_get(l, key));
			key_of(key, sizeof(key), 1);
			assert_null(lru_get(l, key));
			for (i = 2; i <= max; i++) {
				struct val	*v;

				key_of(key, sizeof(key), i);
				v = lru_get(l, key);
				assert_non_null(v);
				assert_int_equal(v->n, i);
			}
		} else {
			/* max 1: key 0 was the only one and got evicted. */
			key_of(key, sizeof(key), 0);
			assert_null(lru_get(l, key));
			key_of(key, sizeof(key), 1);
			assert_non_null(lru_get(l, key));
		}
		lru_destroy(&l);
	}
}

/* Eviction order follows use: get and put of an existing key both
 * refresh; an untouched key goes first. */
static void
test_recency(void **state)
{
	struct lru	*l = lru_create(3, sizeof(struct val));

	(void)state;
	put_new(l, "a", 1);
	put_new(l, "b", 2);
	put_new(l, "c", 3);
	assert_non_null(lru_get(l, "a"));	/* order: a c b */
	put_new(l, "d", 4);			/* evicts b */
	assert_null(lru_get(l, "b"));
	assert_int_equal(lru_count(l), 3);
	/* order now: d a c (the failed get changed nothing) */
	assert_non_null(lru_put(l, "c", NULL));	/* existing: c d a */
	put_new(l, "e", 5);			/* evicts a */
	assert_null(lru_get(l, "a"));
	assert_non_null(lru_get(l, "c"));
	assert_non_null(lru_get(l, "d"));
	assert_non_null(lru_get(l, "e"));
	/* A del makes room: no eviction on the next put. */
	assert_true(lru_del(l, "c"));
	put_new(l, "f", 6);
	assert_int_equal(lru_count(l), 3);
	assert_non_null(lru_get(l, "d"));
	assert_non_null(lru_get(l, "e"));
	assert_non_null(lru_get(l, "f"));
	lru_destroy(&l);
}

/* max_entries 0 stores nothing. */
static void
test_max_zero(void **state)
{
	struct lru	*l = lru_create(0, sizeof(struct val));
	bool		 created = true;

	(void)state;
	assert_null(lru_put(l, "a", &created));
	assert_false(created);
	assert_null(lru_put(l, "a", NULL));
	assert_null(lru_get(l, "a"));
	assert_false(lru_del(l, "a"));
	assert_int_equal(lru_count(l), 0);
	assert_int_equal(lru_clear(l), 0);
	lru_destroy(&l);
}

struct walk_ctx {
	char	 seen[16][8];
	size_t	 n;
	size_t	 drop_every;	/* drop entries whose visit index % this == 0 */
};

static bool
walk_record(const char *key, void *val, void *ctxp)
{
	struct walk_ctx	*ctx = ctxp;
	struct val	*v = val;
	bool		 keep;

	assert_true(ctx->n < N_ELEMENTS(ctx->seen));
	assert_int_equal(v->n, (uint64_t)(key[0] - 'a'));
	(void)snprintf(ctx->seen[ctx->n], sizeof(ctx->seen[0]), "%s", key);
	keep = ctx->drop_every == 0 || ctx->n % ctx->drop_every != 0;
	ctx->n++;
	return keep;
}

static void
test_walk(void **state)
{
	static const char	*keys[] = { "a", "b", "c", "d", "e", "f", "g" };
	struct lru		*l = lru_create(16, sizeof(struct val));
	struct walk_ctx		 ctx;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(keys); i++)
		put_new(l, keys[i], i);

	/* Most to least recently used, nothing dropped. */
	memset(&ctx, 0, sizeof(ctx));
	lru_walk(l, walk_record, &ctx);
	assert_int_equal(ctx.n, 7);
	for (i = 0; i < 7; i++)
		assert_string_equal(ctx.seen[i], keys[6 - i]);
	assert_int_equal(lru_count(l), 7);

	/* Drop every other one during the walk: g e c a go. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.drop_every = 2;
	lru_walk(l, walk_record, &ctx);
	assert_int_equal(ctx.n, 7);
	assert_int_equal(lru_count(l), 3);
	assert_null(lru_get(l, "g"));
	assert_null(lru_get(l, "e"));
	assert_null(lru_get(l, "c"));
	assert_null(lru_get(l, "a"));

	/* The list is intact: b d f in order of the gets just made... */
	assert_non_null(lru_get(l, "b"));
	assert_non_null(lru_get(l, "d"));
	assert_non_null(lru_get(l, "f"));
	memset(&ctx, 0, sizeof(ctx));
	lru_walk(l, walk_record, &ctx);
	assert_int_equal(ctx.n, 3);
	assert_string_equal(ctx.seen[0], "f");
	assert_string_equal(ctx.seen[1], "d");
	assert_string_equal(ctx.seen[2], "b");

	/* ...and dropping all of them (head and tail included) empties it. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.drop_every = 1;
	lru_walk(l, walk_record, &ctx);
	assert_int_equal(ctx.n, 3);
	assert_int_equal(lru_count(l), 0);
	memset(&ctx, 0, sizeof(ctx));
	lru_walk(l, walk_record, &ctx);
	assert_int_equal(ctx.n, 0);

	/* Still usable afterwards. */
	put_new(l, "a", 0);
	put_new(l, "b", 1);
	lru_walk(l, walk_record, &ctx);
	assert_int_equal(ctx.n, 2);
	assert_string_equal(ctx.seen[0], "b");
	lru_destroy(&l);
}

static void
test_clear(void **state)
{
	struct lru	*l = lru_create(100, sizeof(struct val));
	char		 key[48];
	size_t		 i;

	(void)state;
	assert_int_equal(lru_clear(l), 0);
	for (i = 0; i < 50; i++) {
		key_of(key, sizeof(key), i);
		put_new(l, key, i);
	}
	assert_int_equal(lru_clear(l), 50);
	assert_int_equal(lru_count(l), 0);
	assert_int_equal(lru_clear(l), 0);
	for (i = 0; i < 50; i++) {
		key_of(key, sizeof(key), i);
		assert_null(lru_get(l, key));
	}
	/* Reusable, with fresh values. */
	key_of(key, sizeof(key), 7);
	put_new(l, key, 7);
	assert_int_equal(lru_count(l), 1);
	lru_destroy(&l);
}

/* 10,000 keys: the table grows many times past its 64 first buckets;
 * every key keeps its own value. Then the same with max_entries at
 * 5,000, where growth and eviction interleave. */
static void
test_growth(void **state)
{
	struct lru	*l = lru_create(10000, sizeof(struct val));
	struct val	*v;
	char		 key[48];
	size_t		 i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		key_of(key, sizeof(key), i);
		put_new(l, key, i);
		(void)snprintf(((struct val *)lru_get(l, key))->tag,
		    sizeof(v->tag), "%zu", i);
	}
	assert_int_equal(lru_count(l), 10000);
	for (i = 0; i < 10000; i++) {
		char	 want[24];

		key_of(key, sizeof(key), i);
		v = lru_get(l, key);
		assert_non_null(v);
		assert_int_equal(v->n, i);
		(void)snprintf(want, sizeof(want), "%zu", i);
		assert_string_equal(v->tag, want);
	}
	/* The gets above made key 0 the oldest again: key 10000 evicts it. */
	key_of(key, sizeof(key), 10000);
	put_new(l, key, 10000);
	assert_int_equal(lru_count(l), 10000);
	key_of(key, sizeof(key), 0);
	assert_null(lru_get(l, key));
	key_of(key, sizeof(key), 1);
	assert_non_null(lru_get(l, key));
	for (i = 0; i < 10000; i += 2) {
		key_of(key, sizeof(key), i + 1);
		assert_true(lru_del(l, key));
	}
	assert_int_equal(lru_count(l), 5000);
	assert_int_equal(lru_clear(l), 5000);
	lru_destroy(&l);

	l = lru_create(5000, sizeof(struct val));
	for (i = 0; i < 10000; i++) {
		key_of(key, sizeof(key), i);
		put_new(l, key, i);
	}
	assert_int_equal(lru_count(l), 5000);
	for (i = 0; i < 10000; i++) {
		key_of(key, sizeof(key), i);
		v = lru_get(l, key);
		if (i < 5000)
			assert_null(v);
		else {
			assert_non_null(v);
			assert_int_equal(v->n, i);
		}
	}
	lru_destroy(&l);
}

/* A value size of 0 is allowed (a set of keys). */
static void
test_zero_size_values(void **state)
{
	struct lru	*l = lru_create(2, 0);

	(void)state;
	assert_non_null(lru_put(l, "x", NULL));
	assert_non_null(lru_get(l, "x"));
	assert_non_null(lru_put(l, "y", NULL));
	assert_non_null(lru_put(l, "z", NULL));
	assert_null(lru_get(l, "x"));
	assert_int_equal(lru_count(l), 2);
	lru_destroy(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_key_copied),
		cmocka_unit_test(test_values_zeroed),
		cmocka_unit_test(test_evict_at_max),
		cmocka_unit_test(test_recency),
		cmocka_unit_test(test_max_zero),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_zero_size_values),
	};

	return cmocka_run_group_tests_name("lru", tests, NULL, NULL);
}
