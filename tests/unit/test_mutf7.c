/* test_mutf7.c - core/mail/mutf7.c: modified UTF-7 both ways against a
 * table of known pairs (RFC 3501's example, Dovecot's spellings of
 * localised folder names, surrogate pairs, control characters), every
 * rule that makes an mUTF-7 string invalid, strict UTF-8 on the way in,
 * the output ceiling at N and N-1 bytes (buffer left unchanged), and a
 * round trip over the code points around the BMP boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aviary/buf.h"
#include "aviary/compat.h"
#include "aviary/mutf7.h"

struct pair {
	const char	*utf8;
	const char	*mutf7;
};

static const struct pair pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "Sent Messages", "Sent Messages" },
	{ "&", "&-" },
	{ "&&x&&", "&-&-x&-&-" },
	{ "R\xc3\xa9sum\xc3\xa9", "R&AOk-sum&AOk-" },
	{ "tiet\xc3\xa4j\xc3\xa4", "tiet&AOQ-j&AOQ-" },
	/* RFC 3501 5.1.3's example */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "\xc3\xa9\xc3\xa9", "&AOkA6Q-" },
	{ "\xc3\xa9\xc3\xa9\xc3\xa9", "&AOkA6QDp-" },
	{ "\xc3\xa9-", "&AOk--" },
	{ "\xc3\xa9&", "&AOk-&-" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente" },
	{ "\xd0\x9a\xd0\xbe\xd1\x80\xd0\xb7\xd0\xb8\xd0\xbd\xd0\xb0",
	  "&BBoEPgRABDcEOAQ9BDA-" },
	{ "\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf\xe3\x82\xa2"
	  "\xe3\x82\xa4\xe3\x83\x86\xe3\x83\xa0", "&kAFP4W4IMH8wojCkMMYw4A-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },		/* U+1F600 */
	{ "\xf0\x90\x80\x80", "&2ADcAA-" },		/* U+10000 */
	{ "\xf4\x8f\xbf\xbf", "&2,,f,w-" },		/* U+10FFFF */
	{ "\xef\xbf\xbf", "&,,8-" },			/* U+FFFF */
	{ "a\xf0\x9f\x98\x80" "b&c", "a&2D3eAA-b&-c" },
	{ "\x01", "&AAE-" },				/* control chars */
	{ "a\tb", "a&AAk-b" },
	{ "\x7f", "&AH8-" },
	{ "\xc2\x80\xc2\x9f", "&AIAAnw-" },
};

static void
test_pairs(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b, NULL, 1024);
	for (i = 0; i < N_ELEMENTS(pairs); i++) {
		const struct pair *p = &pairs[i];

		buf_clear(&b);
		assert_int_equal(mutf7_from_utf8(p->utf8, strlen(p->utf8), &b),
		    0);
		assert_string_equal(buf_cstr(&b), p->mutf7);
		buf_clear(&b);
		assert_int_equal(mutf7_to_utf8(p->mutf7, strlen(p->mutf7), &b),
		    0);
		assert_string_equal(buf_cstr(&b), p->utf8);
		assert_true(mutf7_is_valid(p->mutf7, strlen(p->mutf7)));
		assert_true(mutf7_utf8_is_valid(p->utf8, strlen(p->utf8)));
	}
	buf_deinit(&b);
}

/* Each is invalid mUTF-7, and the reason. */
static const struct {
	const char	*mutf7;
	const char	*why;
} bad_mutf7[] = {
	{ "&", "unterminated" },
	{ "&Jjo", "unterminated run" },
	{ "a&AOk", "unterminated run at the end" },
	{ "&Jjo!", "'!' is not base64" },
	{ "&/w-", "'/' is not modified base64" },
	{ "&AO=k-", "'=' padding is not allowed" },
	{ "&U,BTFw-&ZeVnLIqe-", "two adjacent runs" },
	{ "&AOk-&AOk-", "two adjacent runs" },
	{ "&AGEAYgBj-", "encoded printable ASCII (abc)" },
	{ "&AC0-", "encoded '-'" },
	{ "&ACY-", "encoded '&'" },
	{ "&AAA-", "encoded NUL" },
	{ "&2D0-", "lone high surrogate" },
	{ "&2D3YPQ-", "high surrogate then high surrogate" },
	{ "&3gA-", "lone low surrogate" },
	{ "&3gDYPQ-", "low surrogate before high" },
	{ "&AOkA6QD-", "a whole extra character" },
	{ "&AOkA6QDpAA-", "leftover bits make an incomplete unit" },
	{ "&AOl-", "non-zero padding bits" },
	{ "&A-", "run shorter than one unit" },
	{ "&AO-", "run shorter than one unit" },
	{ "a\x01" "b", "raw control character" },
	{ "a\tb", "raw TAB" },
	{ "R\xc3\xa9sum\xc3\xa9", "raw 8-bit" },
	{ "\x7f", "raw DEL" },
};

static void
test_invalid_mutf7(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b, NULL, 1024);
	for (i = 0; i < N_ELEMENTS(bad_mutf7); i++) {
		const char *m = bad_mutf7[i].mutf7;

		/* What was in the buffer stays there, nothing is added. */
		buf_clear(&b);
		assert_int_equal(buf_append_str(&b, "keep"), 0);
		if (mutf7_to_utf8(m, strlen(m), &b) != MUTF7_EINVAL)
			fail_msg("accepted %s (%s)", m, bad_mutf7[i].why);
		assert_string_equal(buf_cstr(&b), "keep");
		assert_false(mutf7_is_valid(m, strlen(m)));
	}
	/* An embedded NUL byte, with an explicit length. */
	assert_false(mutf7_is_valid("a\0b", 3));
	assert_true(mutf7_is_valid("&-", 2));
	assert_true(mutf7_is_valid("", 0));
	buf_deinit(&b);
}

static const struct {
	const char	*utf8;
	size_t		 len;
	const char	*why;
} bad_utf8[] = {
	{ "\xc3", 1, "truncated 2-byte" },
	{ "\xe6\x97", 2, "truncated 3-byte" },
	{ "\xf0\x9f\x98", 3, "truncated 4-byte" },
	{ "\x80", 1, "stray continuation" },
	{ "\xc0\xaf", 2, "overlong '/'" },
	{ "\xc1\xbf", 2, "overlong 2-byte" },
	{ "\xe0\x80\xaf", 3, "overlong 3-byte" },
	{ "\xf0\x80\x80\xaf", 4, "overlong 4-byte" },
	{ "\xed\xa0\x80", 3, "UTF-16 surrogate U+D800" },
	{ "\xed\xbf\xbf", 3, "UTF-16 surrogate U+DFFF" },
	{ "\xf4\x90\x80\x80", 4, "above U+10FFFF" },
	{ "\xf5\x80\x80\x80", 4, "lead byte 0xf5" },
	{ "\xff", 1, "0xff" },
	{ "a\0b", 3, "NUL" },
	{ "\xc3\x28", 2, "bad continuation" },
};

static void
test_invalid_utf8(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b, NULL, 1024);
	for (i = 0; i < N_ELEMENTS(bad_utf8); i++) {
		buf_clear(&b);
		assert_int_equal(buf_append_str(&b, "keep"), 0);
		if (mutf7_from_utf8(bad_utf8[i].utf8, bad_utf8[i].len, &b) !=
		    MUTF7_EINVAL)
			fail_msg("accepted %s", bad_utf8[i].why);
		assert_string_equal(buf_cstr(&b), "keep");
		assert_false(mutf7_utf8_is_valid(bad_utf8[i].utf8,
		    bad_utf8[i].len));
	}
	/* The edges that are valid. */
	assert_true(mutf7_utf8_is_valid("\xed\x9f\xbf", 3));	/* U+D7FF */
	assert_true(mutf7_utf8_is_valid("\xee\x80\x80", 3));	/* U+E000 */
	assert_true(mutf7_utf8_is_valid("\xc2\x80", 2));	/* U+0080 */
	buf_deinit(&b);
}

/* The output ceiling: exactly enough room works, one byte less is
 * BUF_EFULL with the buffer untouched; for each pair, both ways. */
static void
test_ceiling(void **state)
{
	struct buf	 b;
	size_t		 i, need;

	(void)state;
	for (i = 0; i < N_ELEMENTS(pairs); i++) {
		const struct pair *p = &pairs[i];

		need = strlen(p->mutf7);
		buf_init(&b, NULL, need);
		assert_int_equal(mutf7_from_utf8(p->utf8, strlen(p->utf8), &b),
		    0);
		assert_string_equal(buf_cstr(&b), p->mutf7);
		buf_deinit(&b);
		if (need > 0) {
			buf_init(&b, NULL, need - 1);
			assert_int_equal(mutf7_from_utf8(p->utf8,
			    strlen(p->utf8), &b), BUF_EFULL);
			assert_int_equal(b.len, 0);
			buf_deinit(&b);
		}
		need = strlen(p->utf8);
		buf_init(&b, NULL, need);
		assert_int_equal(mutf7_to_utf8(p->mutf7, strlen(p->mutf7), &b),
		    0);
		buf_deinit(&b);
		if (need > 0) {
			buf_init(&b, NULL, need - 1);
			assert_int_equal(mutf7_to_utf8(p->mutf7,
			    strlen(p->mutf7), &b), BUF_EFULL);
			assert_int_equal(b.len, 0);
			buf_deinit(&b);
		}
	}
}

/* Code point cp as UTF-8 into out; its length. */
static size_t
utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Like Dovecot's own test: strings of 1..10 copies of one code point
 * mixed with 'x' and '&', for the code points around U+FFFF/U+10000
 * and the low ones; encode, decode, compare; and the mUTF-7 is
 * canonical (valid, and re-encoding its decoding gives it back). */
static void
test_round_trip(void **state)
{
	static const uint32_t ranges[][2] = {
		{ 0x01, 0x200 }, { 0xd7f0, 0xd7ff }, { 0xe000, 0xe010 },
		{ 0xfff0, 0x10010 }, { 0x10fff0, 0x10ffff },
	};
	struct buf	 src, m, back, again;
	char		 u[4];
	size_t		 r, i, j, ulen;
	uint32_t	 cp;

	(void)state;
	buf_init(&src, NULL, 256);
	buf_init(&m, NULL, 1024);
	buf_init(&back, NULL, 256);
	buf_init(&again, NULL, 1024);
	for (r = 0; r < N_ELEMENTS(ranges); r++) {
		for (cp = ranges[r][0]; cp <= ranges[r][1]; cp++) {
			ulen = utf8_put(cp, u);
			for (i = 1; i <= 10; i++) {
				buf_clear(&src);
				for (j = 0; j < i; j++) {
					if (j % 3 == 0)
						assert_int_equal(
						    buf_append_c(&src, 'x'), 0);
					if (j % 5 == 0)
						assert_int_equal(
						    buf_append_c(&src, '&'), 0);
					assert_int_equal(buf_append(&src, u,
					    ulen), 0);
				}
				buf_clear(&m);
				buf_clear(&back);
				buf_clear(&again);
				assert_int_equal(mutf7_from_utf8(src.data,
				    src.len, &m), 0);
				assert_true(mutf7_is_valid(m.data, m.len));
				assert_int_equal(mutf7_to_utf8(m.data, m.len,
				    &back), 0);
				assert_int_equal(back.len, src.len);
				assert_memory_equal(back.data, src.data,
				    src.len);
				assert_int_equal(mutf7_from_utf8(back.data,
				    back.len, &again), 0);
				assert_string_equal(buf_cstr(&again),
				    buf_cstr(&m));
			}
		}
	}
	buf_deinit(&src);
	buf_deinit(&m);
	buf_deinit(&back);
	buf_deinit(&again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_invalid_mutf7),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_ceiling),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
