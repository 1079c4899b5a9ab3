/* test_arena.c - core/lib/arena.c: alignment, chunk boundaries at N and
 * N+1, big allocations, reset (cleanups newest first, first chunk kept),
 * strdup/printf, realloc, secret arenas. Pointer comparisons below go
 * through uintptr_t: they look at where the bump allocator put things. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/arena.h"

#define ALIGN	alignof(max_align_t)

static uintptr_t
addr_of(const void *p)
{
	return (uintptr_t)p;
}

static void
test_alignment(void **state)
{
	struct arena	*a = arena_create(1024);
	size_t		 n;

	(void)state;
	for (n = 0; n < 600; n++) {
		unsigned char *p = arena_alloc(a, n);

		assert_non_null(p);
		assert_int_equal(addr_of(p) % ALIGN, 0);
		memset(p, 0xa5, n);	/* ASan: the whole block is ours */
	}
	arena_destroy(&a);
	assert_null(a);
}

static void
test_zero_size_unique(void **state)
{
	struct arena	*a = arena_create(0);	/* min. size */
	void		*p = arena_alloc(a, 0), *q = arena_alloc(a, 0);

	(void)state;
	assert_non_null(p);
	assert_non_null(q);
	assert_true(p != q);
	arena_destroy(&a);
}

/* chunk 256: requests up to 64 (= 256 / 4) share the chunk, so four of
 * 64 fill it exactly (N) and the fifth starts a new chunk (N+1). */
static void
test_chunk_fill_exact(void **state)
{
	struct arena	*a = arena_create(256);
	unsigned char	*p[5];
	size_t		 i;

	(void)state;
	for (i = 0; i < 5; i++) {
		p[i] = arena_alloc(a, 64);
		memset(p[i], (int)i, 64);
	}
	for (i = 1; i < 4; i++)
		assert_true(addr_of(p[i]) == addr_of(p[i - 1]) + 64);
	assert_true(addr_of(p[4]) != addr_of(p[3]) + 64);
	for (i = 0; i < 5; i++)
		assert_int_equal(p[i][63], (int)i);
	arena_destroy(&a);
}

/* When a request does not fit in what is left of the current chunk:
 * chunk_size / 4 (N) starts a new current chunk, one byte more (N+1)
 * gets a dedicated chunk and the current chunk's free space stays in
 * use for the next small request. */
static void
test_big_threshold(void **state)
{
	struct arena	*a = arena_create(4096);
	unsigned char	*p, *q, *s;

	(void)state;
	p = arena_alloc(a, 4000);		/* fits the empty chunk */
	q = arena_alloc(a, 1024);		/* N: a new ordinary chunk */
	memset(q, 1, 1024);
	s = arena_alloc(a, 16);
	assert_true(addr_of(s) == addr_of(q) + 1024);
	arena_destroy(&a);

	a = arena_create(4096);
	p = arena_alloc(a, 4000);
	q = arena_alloc(a, 1025);		/* N+1: dedicated */
	memset(q, 1, 1025);
	s = arena_alloc(a, 16);			/* old chunk's tail */
	assert_true(addr_of(s) == addr_of(p) + 4000);
	arena_destroy(&a);
}

static void
test_big_allocations(void **state)
{
	struct arena	*a = arena_create(1024);
	unsigned char	*big, *small;
	size_t		 sizes[] = { 1000, 4096, 1 << 20, 3 << 20 };
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(sizes); i++) {
		big = arena_alloc(a, sizes[i]);
		assert_int_equal(addr_of(big) % ALIGN, 0);
		memset(big, 0x5a, sizes[i]);
		small = arena_alloc(a, 8);
		memset(small, 0, 8);
		assert_int_equal(big[sizes[i] - 1], 0x5a);
	}
	arena_reset(a);
	big = arena_alloc(a, 1 << 20);
	memset(big, 0, 1 << 20);
	arena_destroy(&a);
}

/* reset keeps the first chunk: the first allocation after a reset lands
 * where the very first one did, even after big and extra chunks. */
static void
test_reset_keeps_first_chunk(void **state)
{
	struct arena	*a = arena_create(1024);
	void		*first, *p;
	size_t		 i;

	(void)state;
	first = arena_alloc(a, 8);
	(void)arena_alloc(a, 100000);		/* big, behind chunk 1 */
	for (i = 0; i < 100; i++)
		(void)arena_alloc(a, 200);	/* more ordinary chunks */
	(void)arena_alloc(a, 5000);
	arena_reset(a);
	p = arena_alloc(a, 8);
	assert_ptr_equal(p, first);
	arena_reset(a);
	(void)arena_alloc(a, 300);		/* big, chunk 1 current */
	arena_reset(a);
	assert_ptr_equal(arena_alloc(a, 8), first);
	arena_destroy(&a);
}

struct order {
	int	 seen[8];
	size_t	 n;
};

struct cleanup_arg {
	struct order	*o;
	int		 id;
};

static void
record(void *arg)
{
	struct cleanup_arg	*c = arg;

	c->o->seen[c->o->n++] = c->id;
}

static void
test_reset_runs_cleanups_newest_first(void **state)
{
	struct arena		*a = arena_create(256);
	struct order		 o = { { 0 }, 0 };
	struct cleanup_arg	 args[4];
	size_t			 i;

	(void)state;
	for (i = 0; i < 4; i++) {
		args[i] = (struct cleanup_arg){ &o, (int)i + 1 };
		arena_cleanup_add(a, record, &args[i]);
	}
	arena_reset(a);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.seen[0], 4);
	assert_int_equal(o.seen[1], 3);
	assert_int_equal(o.seen[2], 2);
	assert_int_equal(o.seen[3], 1);
	arena_reset(a);				/* ran once: emptied */
	assert_int_equal(o.n, 4);

	arena_cleanup_add(a, record, &args[0]);
	arena_cleanup_add(a, record, &args[1]);
	arena_destroy(&a);			/* destroy runs them too */
	assert_null(a);
	assert_int_equal(o.n, 6);
	assert_int_equal(o.seen[4], 2);
	assert_int_equal(o.seen[5], 1);
	arena_destroy(&a);			/* NULL: a no-op */
}

static void
test_strdup_printf(void **state)
{
	struct arena	*a = arena_create(256);
	char		*s, *t;

	(void)state;
	assert_string_equal(arena_strdup(a, "hello"), "hello");
	assert_string_equal(arena_strdup(a, ""), "");
	assert_string_equal(arena_strndup(a, "hello", 3), "hel");
	assert_string_equal(arena_strndup(a, "hello", 5), "hello");
	assert_string_equal(arena_strndup(a, "hello", 6), "hello");
	assert_string_equal(arena_strndup(a, "hello", 0), "");
	assert_string_equal(arena_printf(a, "%d-%s-%c", 42, "x", 'y'),
	    "42-x-y");
	assert_string_equal(arena_printf(a, "%s", ""), "");
	/* Longer than the chunk: a dedicated chunk. */
	s = arena_printf(a, "%0*d", 3000, 7);
	assert_int_equal(strlen(s), 3000);
	assert_int_equal(s[0], '0');
	assert_int_equal(s[2999], '7');
	t = arena_strdup(a, s);
	assert_ptr_not_equal(s, t);
	assert_string_equal(s, t);
	arena_destroy(&a);
}

static void
test_realloc_copies(void **state)
{
	struct arena	*a = arena_create(256);
	unsigned char	*p, *q;
	size_t		 i;

	(void)state;
	p = arena_realloc(a, NULL, 0, 10);
	assert_non_null(p);
	for (i = 0; i < 10; i++)
		p[i] = (unsigned char)i;
	q = arena_realloc(a, p, 10, 10);	/* same size: same block */
	assert_ptr_equal(p, q);
	q = arena_realloc(a, p, 10, 4);		/* smaller: same block */
	assert_ptr_equal(p, q);
	q = arena_realloc(a, p, 10, 11);	/* larger: a copy */
	assert_ptr_not_equal(p, q);
	assert_memory_equal(p, q, 10);
	p = arena_realloc(a, q, 11, 5000);	/* into a dedicated chunk */
	assert_memory_equal(p, q, 10);
	memset(p + 11, 0, 5000 - 11);
	arena_destroy(&a);
}

static void
test_zalloc(void **state)
{
	struct arena	*a = arena_create(256);
	unsigned char	*p;
	size_t		 i;

	(void)state;
	p = arena_alloc(a, 64);
	memset(p, 0xff, 64);
	arena_reset(a);
	p = arena_zalloc(a, 64);	/* the same bytes, cleared */
	for (i = 0; i < 64; i++)
		assert_int_equal(p[i], 0);
	arena_destroy(&a);
}

/* A secret arena clears the kept first chunk on reset. */
static void
test_secret_reset_clears(void **state)
{
	struct arena	*a = arena_new_secret(256);
	char		*pw;
	size_t		 i;

	(void)state;
	pw = arena_strdup(a, "hunter2hunter2");
	(void)arena_alloc(a, 1000);		/* big chunk, cleared */
	arena_reset(a);
	for (i = 0; i < 15; i++)
		assert_int_equal(pw[i], '\0');
	arena_destroy(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_zero_size_unique),
		cmocka_unit_test(test_chunk_fill_exact),
		cmocka_unit_test(test_big_threshold),
		cmocka_unit_test(test_big_allocations),
		cmocka_unit_test(test_reset_keeps_first_chunk),
		cmocka_unit_test(test_reset_runs_cleanups_newest_first),
		cmocka_unit_test(test_strdup_printf),
		cmocka_unit_test(test_realloc_copies),
		cmocka_unit_test(test_zalloc),
		cmocka_unit_test(test_secret_reset_clears),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
