/* test_buf.c - core/lib/buf.c: the ceiling at N and N+1, the NUL
 * invariant, printf, consume/truncate, secret and arena-backed buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/arena.h"
#include "aviary/buf.h"

/* The header's invariants: len <= cap <= max, data[len] == '\0'. */
static void
check_inv(const struct buf *b)
{
	assert_true(b->len <= b->cap);
	assert_true(b->cap <= b->max);
	if (b->data != NULL)
		assert_int_equal(b->data[b->len], '\0');
	assert_true(strlen(buf_cstr(b)) <= b->len);
}

static void
fill(char *p, size_t n, size_t seed)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		p[i] = (char)('a' + (i + seed) % 26);
}

/* Ceilings around the 64-byte first allocation and the doubling steps. */
static const size_t maxes[] = { 0, 1, 2, 63, 64, 65, 127, 128, 129, 1000,
    4096 };

static void
test_append_at_max_one_shot(void **state)
{
	static char	 src[4097], want[4097];
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(maxes); i++) {
		size_t		 n = maxes[i];
		struct buf	 b;
		const char	*before;

		fill(src, n + 1, i);
		buf_init(&b, NULL, n);
		assert_int_equal(buf_append(&b, src, n), 0);	/* N */
		check_inv(&b);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, src, n);
		before = b.data;
		memcpy(want, b.data, n + 1);
		assert_int_equal(buf_append(&b, src, 1), BUF_EFULL); /* N+1 */
		assert_ptr_equal(b.data, before);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, want, n + 1);
		check_inv(&b);
		buf_deinit(&b);
		assert_null(b.data);
	}
}

static void
test_append_over_max_one_shot(void **state)
{
	static char	 src[4097];
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(maxes); i++) {
		size_t		 n = maxes[i];
		struct buf	 b;

		fill(src, n + 1, i);
		buf_init(&b, NULL, n);
		assert_int_equal(buf_append(&b, src, n + 1), BUF_EFULL);
		assert_int_equal(b.len, 0);
		assert_null(b.data);	/* nothing was allocated either */
		assert_string_equal(buf_cstr(&b), "");
		buf_deinit(&b);
	}
}

/* Byte by byte: every growth step keeps the invariants and the content. */
static void
test_append_bytewise_to_max(void **state)
{
	static char	 src[4097];
	size_t		 i, k;

	(void)state;
	for (i = 0; i < N_ELEMENTS(maxes); i++) {
		size_t		 n = maxes[i];
		struct buf	 b;

		fill(src, n, i);
		buf_init(&b, NULL, n);
		for (k = 0; k < n; k++) {
			assert_int_equal(buf_append_c(&b, src[k]), 0);
			check_inv(&b);
		}
		assert_int_equal(b.len, n);
		if (n > 0)
			assert_memory_equal(b.data, src, n);
		assert_int_equal(buf_append_c(&b, 'x'), BUF_EFULL);
		assert_int_equal(buf_append_str(&b, "x"), BUF_EFULL);
		assert_int_equal(b.len, n);
		check_inv(&b);
		buf_deinit(&b);
	}
}

/* A partly full buffer: exactly the remaining room fits, one more not. */
static void
test_append_remaining_room(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 10);
	assert_int_equal(buf_append_str(&b, "abcd"), 0);
	assert_int_equal(buf_append_str(&b, "0123456"), BUF_EFULL);
	assert_string_equal(b.data, "abcd");
	assert_int_equal(b.len, 4);
	assert_int_equal(buf_append_str(&b, "012345"), 0);
	assert_string_equal(b.data, "abcd012345");
	check_inv(&b);
	buf_deinit(&b);
}

/* n > max - len must not overflow len + n, even for absurd n. */
static void
test_append_huge_n(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, SIZE_MAX);
	assert_int_equal(buf_append_c(&b, 'a'), 0);
	assert_int_equal(buf_append(&b, "", SIZE_MAX), BUF_EFULL);
	assert_int_equal(b.len, 1);
	assert_string_equal(b.data, "a");
	buf_deinit(&b);
}

static void
test_append_empty(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 0);
	assert_string_equal(buf_cstr(&b), "");	/* no memory yet */
	assert_null(b.data);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_non_null(b.data);		/* now data[0] == '\0' */
	check_inv(&b);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(buf_append_c(&b, 'x'), BUF_EFULL);
	assert_int_equal(b.len, 0);
	buf_deinit(&b);
}

/* Binary content: NULs inside are kept, the terminator follows len. */
static void
test_append_binary(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 8);
	assert_int_equal(buf_append(&b, "a\0b\0", 4), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "a\0b\0\0", 5);
	check_inv(&b);
	buf_deinit(&b);
}

static void
test_printf_limits(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 10);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "abcdefg"), 0); /* 10 */
	assert_string_equal(b.data, "42-abcdefg");
	assert_int_equal(b.len, 10);
	check_inv(&b);
	assert_int_equal(buf_printf(&b, "%c", 'x'), BUF_EFULL);	/* 11 */
	assert_int_equal(buf_printf(&b, "%s", ""), 0);		/* 10 */
	assert_string_equal(b.data, "42-abcdefg");
	buf_deinit(&b);

	buf_init(&b, NULL, 10);
	assert_int_equal(buf_printf(&b, "%s", "12345678901"), BUF_EFULL);
	assert_null(b.data);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(buf_printf(&b, "%07d", 1234567), 0);	/* 3 + 7 */
	assert_string_equal(b.data, "abc1234567");
	buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_printf(&b, "%s%s", "abcde", "fghij"), 0);
	assert_string_equal(b.data, "abcdefghij");
	buf_deinit(&b);
}

/* printf past the first 64-byte allocation grows correctly. */
static void
test_printf_grows(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b, NULL, 1000);
	for (i = 0; i < 100; i++)
		assert_int_equal(buf_printf(&b, "%03zu|", i), 0);
	assert_int_equal(b.len, 400);
	assert_memory_equal(b.data, "000|001|", 8);
	assert_memory_equal(b.data + 396, "099|", 5);
	check_inv(&b);
	buf_deinit(&b);
}

static void
test_consume(void **state)
{
	static const struct {
		const char	*in;
		size_t		 n;
		const char	*want;
	} cases[] = {
		{ "hello world", 0, "hello world" },
		{ "hello world", 1, "ello world" },
		{ "hello world", 6, "world" },
		{ "hello world", 10, "d" },
		{ "hello world", 11, "" },
		{ "", 0, "" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct buf	 b;

		buf_init(&b, NULL, 64);
		assert_int_equal(buf_append_str(&b, cases[i].in), 0);
		buf_consume(&b, cases[i].n);
		assert_string_equal(b.data, cases[i].want);
		assert_int_equal(b.len, strlen(cases[i].want));
		check_inv(&b);
		/* The room freed at the front is usable again. */
		assert_int_equal(buf_append(&b, "x", 1), 0);
		buf_deinit(&b);
	}
}

static void
test_consume_then_fill_to_max(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 8);
	assert_int_equal(buf_append_str(&b, "12345678"), 0);
	buf_consume(&b, 3);
	assert_int_equal(buf_append_str(&b, "abcd"), BUF_EFULL);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_string_equal(b.data, "45678abc");
	check_inv(&b);
	buf_deinit(&b);
}

static void
test_truncate(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 64);
	buf_truncate(&b, 0);		/* never allocated: a no-op */
	assert_null(b.data);
	assert_int_equal(buf_append_str(&b, "hello world"), 0);
	buf_truncate(&b, b.len);	/* N: unchanged */
	assert_string_equal(b.data, "hello world");
	buf_truncate(&b, 5);
	assert_string_equal(b.data, "hello");
	assert_int_equal(b.len, 5);
	check_inv(&b);
	buf_truncate(&b, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append_str(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	buf_deinit(&b);
}

/* A secret buffer clears what it drops. The bytes are still ours
 * (inside the allocation), so the test may look at them. */
static void
test_secret(void **state)
{
	static char	 src[300];
	struct buf	 b;
	size_t		 i, oldlen;

	(void)state;
	fill(src, sizeof(src), 3);
	buf_init_secret(&b, sizeof(src));
	assert_true(b.is_secret);
	assert_null(b.arena);
	/* Grows by hand-moving (64, 128, 256, 300): content survives. */
	for (i = 0; i < sizeof(src); i += 10)
		assert_int_equal(buf_append(&b, src + i, 10), 0);
	assert_int_equal(b.len, sizeof(src));
	assert_memory_equal(b.data, src, sizeof(src));
	assert_int_equal(buf_append_c(&b, 'x'), BUF_EFULL);
	check_inv(&b);

	oldlen = b.len;
	buf_truncate(&b, 100);
	for (i = 100; i <= oldlen; i++)
		assert_int_equal(b.data[i], '\0');
	oldlen = b.len;
	buf_consume(&b, 40);
	assert_int_equal(b.len, 60);
	assert_memory_equal(b.data, src + 40, 60);
	for (i = 60; i <= oldlen; i++)
		assert_int_equal(b.data[i], '\0');
	buf_clear(&b);
	for (i = 0; i <= 60; i++)
		assert_int_equal(b.data[i], '\0');
	assert_int_equal(buf_printf(&b, "%s", "pw"), 0);
	assert_string_equal(b.data, "pw");
	buf_deinit(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

/* Arena-backed: growth copies inside the arena; deinit leaves the
 * memory to the arena (ASan would report a double free otherwise). */
static void
test_arena_backed(void **state)
{
	static char	 src[5000];
	struct arena	*a = arena_create(1024);
	struct buf	 b;
	size_t		 i;

	(void)state;
	fill(src, sizeof(src), 7);
	buf_init(&b, a, sizeof(src));
	assert_ptr_equal(b.arena, a);
	for (i = 0; i < sizeof(src); i += 100) {
		assert_int_equal(buf_append(&b, src + i, 100), 0);
		check_inv(&b);
	}
	assert_memory_equal(b.data, src, sizeof(src));
	assert_int_equal(buf_append_c(&b, 'x'), BUF_EFULL);
	buf_consume(&b, 4990);
	assert_memory_equal(b.data, src + 4990, 10);
	check_inv(&b);
	assert_int_equal(buf_printf(&b, "%d", 12345), 0);
	assert_int_equal(b.len, 15);
	buf_deinit(&b);
	assert_null(b.data);
	arena_destroy(&a);
	assert_null(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_at_max_one_shot),
		cmocka_unit_test(test_append_over_max_one_shot),
		cmocka_unit_test(test_append_bytewise_to_max),
		cmocka_unit_test(test_append_remaining_room),
		cmocka_unit_test(test_append_huge_n),
		cmocka_unit_test(test_append_empty),
		cmocka_unit_test(test_append_binary),
		cmocka_unit_test(test_printf_limits),
		cmocka_unit_test(test_printf_grows),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_consume_then_fill_to_max),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_arena_backed),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
