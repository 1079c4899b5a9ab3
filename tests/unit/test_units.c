/* test_units.c - core/lib/units.c: size and time parsing at each unit's
 * 2^64 boundary (N ok, N+1 fails), bad input, formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/units.h"

#define K	1024ULL
#define M	(K * K)
#define G	(K * M)
#define T	(K * G)

struct parse_case {
	const char	*in;
	int		 want_rc;
	uint64_t	 want;
};

static const struct parse_case size_cases[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "1B", 0, 1 },
	{ "1b", 0, 1 },
	{ "1K", 0, K },
	{ "1k", 0, K },
	{ "1KB", 0, K },
	{ "1kb", 0, K },
	{ "1KiB", 0, K },
	{ "1kib", 0, K },
	{ "500M", 0, 500 * M },
	{ "500MB", 0, 500 * M },
	{ "2G", 0, 2 * G },
	{ "2GiB", 0, 2 * G },
	{ "1T", 0, T },
	{ "0T", 0, 0 },
	{ "1536", 0, 1536 },
	/* Each unit's largest value (UINT64_MAX >> shift) and one more. */
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551615B", 0, UINT64_MAX },
	{ "18446744073709551616", -1, 0 },
	{ "18014398509481983K", 0, 18014398509481983ULL * K },
	{ "18014398509481984K", -1, 0 },
	{ "17592186044415M", 0, 17592186044415ULL * M },
	{ "17592186044416M", -1, 0 },
	{ "17179869183G", 0, 17179869183ULL * G },
	{ "17179869184G", -1, 0 },
	{ "16777215T", 0, 16777215ULL * T },
	{ "16777216T", -1, 0 },
	{ "99999999999999999999T", -1, 0 },
	/* T is the largest unit. */
	{ "1P", -1, 0 },
	{ "16E", -1, 0 },
	/* Malformed. */
	{ "", -1, 0 },
	{ "M", -1, 0 },
	{ "KB", -1, 0 },
	{ "5X", -1, 0 },
	{ "5 M", -1, 0 },
	{ " 5M", -1, 0 },
	{ "5M ", -1, 0 },
	{ "-5", -1, 0 },
	{ "+5", -1, 0 },
	{ "5MM", -1, 0 },
	{ "5MBB", -1, 0 },
	{ "5MiBs", -1, 0 },
	{ "5Mi", -1, 0 },
	{ "5iB", -1, 0 },
	{ "5BB", -1, 0 },
	{ "5Bi", -1, 0 },
	{ "5BiB", -1, 0 },
	{ "1.5M", -1, 0 },
	{ "0x10", -1, 0 },
	{ "unlimited", -1, 0 },
};

static const struct parse_case time_cases[] = {
	{ "0", 0, 0 },
	{ "30", 0, 30 },
	{ "30s", 0, 30 },
	{ "5m", 0, 300 },
	{ "1h", 0, 3600 },
	{ "2d", 0, 172800 },
	{ "0d", 0, 0 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551615s", 0, UINT64_MAX },
	{ "18446744073709551616", -1, 0 },
	{ "307445734561825860m", 0, 307445734561825860ULL * 60 },
	{ "307445734561825861m", -1, 0 },
	{ "5124095576030431h", 0, 5124095576030431ULL * 3600 },
	{ "5124095576030432h", -1, 0 },
	{ "213503982334601d", 0, 213503982334601ULL * 86400 },
	{ "213503982334602d", -1, 0 },
	{ "", -1, 0 },
	{ "s", -1, 0 },
	{ "5x", -1, 0 },
	{ "5 s", -1, 0 },
	{ "5s ", -1, 0 },
	{ "-5", -1, 0 },
	{ "5ms", -1, 0 },
	{ "5sec", -1, 0 },
	{ "1.5h", -1, 0 },
	{ "1w", -1, 0 },
};

static void
run_parse(const struct parse_case *cases, size_t n,
    int (*parse)(const char *, uint64_t *), const char *what)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		uint64_t	 v = 777;
		int		 rc = parse(cases[i].in, &v);

		if (rc != cases[i].want_rc)
			fail_msg("%s(\"%s\") = %d, want %d", what, cases[i].in,
			    rc, cases[i].want_rc);
		if (rc == 0 && v != cases[i].want)
			fail_msg("%s(\"%s\") = %llu, want %llu", what,
			    cases[i].in, (unsigned long long)v,
			    (unsigned long long)cases[i].want);
		if (rc != 0 && v != 777)
			fail_msg("%s(\"%s\") wrote on failure", what,
			    cases[i].in);
	}
}

static void
test_parse_size(void **state)
{
	(void)state;
	run_parse(size_cases, N_ELEMENTS(size_cases), units_parse_size,
	    "units_parse_size");
}

static void
test_parse_time(void **state)
{
	(void)state;
	run_parse(time_cases, N_ELEMENTS(time_cases), units_parse_time,
	    "units_parse_time");
}

struct fmt_case {
	uint64_t	 v;
	const char	*want;
};

static void
test_format_size(void **state)
{
	static const struct fmt_case cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ K, "1K" },
		{ K + 1, "1025" },
		{ 1536, "1536" },
		{ 2 * M, "2M" },
		{ 3 * K * K + K, "3073K" },
		{ G, "1G" },
		{ T, "1T" },
		{ K * T, "1024T" },	/* T is the largest suffix */
		{ UINT64_MAX, "18446744073709551615" },
		{ 16777215ULL * T, "16777215T" },
	};
	char	 out[32];
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t	 back;

		units_format_size(cases[i].v, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		/* The exact form parses back to the same value. */
		assert_int_equal(units_parse_size(out, &back), 0);
		assert_true(back == cases[i].v);
	}
}

static void
test_format_size_human(void **state)
{
	static const struct fmt_case cases[] = {
		{ 0, "0B" },
		{ 1023, "1023B" },
		{ K, "1K" },
		{ 1536, "1.5K" },
		{ 2 * M, "2M" },
		{ 2 * M + M / 2, "2.5M" },
		{ G, "1G" },
		{ T, "1T" },
		{ K * T, "1024T" },
	};
	char	 out[32];
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		units_format_size_human(cases[i].v, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
}

static void
test_format_time(void **state)
{
	static const struct fmt_case cases[] = {
		{ 0, "0s" },
		{ 1, "1s" },
		{ 59, "59s" },
		{ 60, "1m" },
		{ 90, "90s" },
		{ 3600, "1h" },
		{ 5400, "90m" },
		{ 86400, "1d" },
		{ 90000, "25h" },
		{ 172800, "2d" },
		{ UINT64_MAX, "18446744073709551615s" },
	};
	char	 out[32];
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t	 back;

		units_format_time(cases[i].v, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		assert_int_equal(units_parse_time(out, &back), 0);
		assert_true(back == cases[i].v);
	}
}

/* A short output buffer truncates and stays NUL-terminated; nothing is
 * written past outsz. */
static void
test_format_short_buffer(void **state)
{
	char	 out[8];

	(void)state;
	memset(out, 'Z', sizeof(out));
	units_format_size(1536, out, 3);
	assert_string_equal(out, "15");
	assert_int_equal(out[3], 'Z');
	memset(out, 'Z', sizeof(out));
	units_format_size(1536, out, 5);	/* "1536" + NUL: N */
	assert_string_equal(out, "1536");
	memset(out, 'Z', sizeof(out));
	units_format_size(1536, out, 4);	/* one byte less */
	assert_string_equal(out, "153");
	assert_int_equal(out[4], 'Z');
	memset(out, 'Z', sizeof(out));
	units_format_time(3600, out, 2);
	assert_string_equal(out, "1");
	assert_int_equal(out[2], 'Z');
	memset(out, 'Z', sizeof(out));
	units_format_size_human(1536, out, 4);
	assert_string_equal(out, "1.5");
	assert_int_equal(out[4], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_format_size_human),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_format_short_buffer),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
