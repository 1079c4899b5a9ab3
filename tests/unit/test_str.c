/* test_str.c - core/lib/str.c: u64 parsing at the 2^64 boundary, split,
 * trim, case-insensitive and constant-time comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/compat.h"
#include "aviary/str.h"

static void
test_to_u64(void **state)
{
	static const struct {
		const char	*in;
		int		 want_rc;
		uint64_t	 want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "1", 0, 1 },
		{ "007", 0, 7 },
		{ "4294967296", 0, 4294967296ULL },
		{ "1844674407370955161", 0, 1844674407370955161ULL },
		{ "18446744073709551609", 0, 18446744073709551609ULL },
		{ "18446744073709551615", 0, UINT64_MAX },	/* N */
		{ "18446744073709551616", -1, 0 },		/* N+1 */
		{ "18446744073709551620", -1, 0 },
		{ "18446744073709551625", -1, 0 },
		{ "99999999999999999999", -1, 0 },
		{ "184467440737095516150", -1, 0 },
		{ "000000000000000000000018446744073709551615", 0, UINT64_MAX },
		{ "", -1, 0 },
		{ "1a", -1, 0 },
		{ "a1", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "1.0", -1, 0 },
		{ "0x10", -1, 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t	 v = 12345;
		int		 rc;

		rc = str_to_u64(str_from_cstr(cases[i].in), &v);
		if (rc != cases[i].want_rc)
			fail_msg("str_to_u64(\"%s\") = %d", cases[i].in, rc);
		if (rc == 0)
			assert_true(v == cases[i].want);
		else
			assert_true(v == 12345);	/* untouched */
	}
}

/* The slice's length bounds the parse: no NUL is needed or read. */
static void
test_to_u64_slice(void **state)
{
	static const char	 digits[3] = { '1', '2', '3' };
	uint64_t		 v;

	(void)state;
	assert_int_equal(str_to_u64((struct str){ "123456", 3 }, &v), 0);
	assert_true(v == 123);
	assert_int_equal(str_to_u64((struct str){ digits, 3 }, &v), 0);
	assert_true(v == 123);
	assert_int_equal(str_to_u64((struct str){ "1x", 1 }, &v), 0);
	assert_true(v == 1);
	assert_int_equal(str_to_u64((struct str){ "", 0 }, &v), -1);
}

static void
test_split(void **state)
{
	static const struct {
		const char	*in;
		char		 c;
		bool		 want_found;
		const char	*head, *tail;
	} cases[] = {
		{ "a:b", ':', true, "a", "b" },
		{ "a:b:c", ':', true, "a", "b:c" },
		{ ":x", ':', true, "", "x" },
		{ "x:", ':', true, "x", "" },
		{ ":", ':', true, "", "" },
		{ "abc", ':', false, "abc", "" },
		{ "", ':', false, "", "" },
		{ "user@example.test", '@', true, "user", "example.test" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct str	 head, tail;
		bool		 found;

		found = str_split(str_from_cstr(cases[i].in), cases[i].c,
		    &head, &tail);
		assert_int_equal(found, cases[i].want_found);
		assert_true(str_eq_cstr(head, cases[i].head));
		assert_true(str_eq_cstr(tail, cases[i].tail));
	}
	/* A NULL empty slice is fine. */
	{
		struct str	 head, tail;

		assert_false(str_split((struct str){ NULL, 0 }, ':', &head,
		    &tail));
		assert_int_equal(head.len, 0);
		assert_int_equal(tail.len, 0);
	}
}

static void
test_trim(void **state)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "abc", "abc" },
		{ "  abc", "abc" },
		{ "abc \t", "abc" },
		{ "\t a b \t", "a b" },
		{ "", "" },
		{ " ", "" },
		{ " \t \t", "" },
		{ "\nabc\r", "\nabc\r" },	/* only space and tab */
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		assert_true(str_eq_cstr(str_trim(str_from_cstr(cases[i].in)),
		    cases[i].want));
}

static void
test_eq_caseeq_prefix(void **state)
{
	static const struct {
		const char	*a, *b;
		bool		 eq, caseeq;
	} cases[] = {
		{ "hello", "hello", true, true },
		{ "HeLLo", "hello", false, true },
		{ "hello", "hell", false, false },
		{ "hell", "hello", false, false },
		{ "", "", true, true },
		{ "", "a", false, false },
		{ "[", "{", false, false },	/* 0x5b vs 0x7b */
		{ "@", "`", false, false },	/* 0x40 vs 0x60 */
		{ "SHA512-CRYPT", "sha512-crypt", false, true },
		{ "\xc3\x84", "\xc3\xa4", false, false },	/* ASCII */
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct str a = str_from_cstr(cases[i].a);

		assert_int_equal(str_eq_cstr(a, cases[i].b), cases[i].eq);
		assert_int_equal(str_eq(a, str_from_cstr(cases[i].b)),
		    cases[i].eq);
		assert_int_equal(str_caseeq_cstr(a, cases[i].b),
		    cases[i].caseeq);
	}
	assert_true(str_eq((struct str){ NULL, 0 }, STR_LIT("")));
	assert_true(str_has_prefix(STR_LIT("{PLAIN}x"), "{PLAIN}"));
	assert_true(str_has_prefix(STR_LIT("{PLAIN}"), "{PLAIN}"));
	assert_false(str_has_prefix(STR_LIT("{PLAIN"), "{PLAIN}"));
	assert_true(str_has_prefix(STR_LIT("abc"), ""));
	assert_false(str_has_prefix(STR_LIT("{plain}x"), "{PLAIN}"));
}

static void
test_ct_eq(void **state)
{
	static const struct {
		const char	*a;
		size_t		 alen;
		const char	*b;
		size_t		 blen;
		bool		 want;
	} cases[] = {
		{ "secret", 6, "secret", 6, true },
		{ "secret", 6, "secreT", 6, false },	/* last byte */
		{ "secret", 6, "Secret", 6, false },	/* first byte */
		{ "secret", 6, "secre", 5, false },	/* shorter */
		{ "secre", 5, "secret", 6, false },	/* longer */
		{ "abc", 3, "abc\0", 4, false },	/* not padded */
		{ "abc\0", 4, "abc", 3, false },
		{ "a\0b", 3, "a\0b", 3, true },	/* binary */
		{ "a\0b", 3, "a\0c", 3, false },
		{ "", 0, "", 0, true },
		{ "", 0, "x", 1, false },
		{ "x", 1, "", 0, false },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		assert_int_equal(str_ct_eq(cases[i].a, cases[i].alen,
		    cases[i].b, cases[i].blen), cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_u64),
		cmocka_unit_test(test_to_u64_slice),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_eq_caseeq_prefix),
		cmocka_unit_test(test_ct_eq),
	};

	return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
