/* test_lmtp_parse.c - delivery/lmtp_parse.c: verbs, MAIL/RCPT paths and
 * their parameters, and the DATA decoder (dot-unstuffing, CRLF to LF,
 * the end marker) fed in every possible split of the input, so a marker
 * or a CRLF cut across reads is handled like one read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lmtp_parse.h"
#include "aviary/mem.h"
#include "aviary/compat.h"

static void
test_verbs(void **state)
{
	static const struct {
		const char	*line;
		enum lmtp_verb	 verb;
		const char	*args;
	} cases[] = {
		{ "LHLO mx.test", LV_LHLO, "mx.test" },
		{ "lhlo x", LV_LHLO, "x" },
		{ "MAIL FROM:<a@b>", LV_MAIL, "FROM:<a@b>" },
		{ "rcpt TO:<a@b>", LV_RCPT, "TO:<a@b>" },
		{ "DATA", LV_DATA, "" },
		{ "RSET", LV_RSET, "" },
		{ "NOOP", LV_NOOP, "" },
		{ "QUIT", LV_QUIT, "" },
		{ "VRFY x", LV_VRFY, "x" },
		{ "HELO x", LV_HELO, "x" },
		{ "EHLO x", LV_EHLO, "x" },
		{ "BDAT 10 LAST", LV_BDAT, "10 LAST" },
		{ "DATAX", LV_UNKNOWN, "" },
		{ "", LV_UNKNOWN, "" },
		{ "MAILFROM:<a@b>", LV_UNKNOWN, "" },
	};
	struct str	 args;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		enum lmtp_verb v = lmtp_parse_verb(str_from_cstr(cases[i].line),
		    &args);

		assert_int_equal(v, cases[i].verb);
		if (v != LV_UNKNOWN)
			assert_true(str_eq_cstr(args, cases[i].args));
	}
}

static void
test_paths(void **state)
{
	static const struct {
		const char	*args, *prefix;
		int		 rc;
		const char	*addr;
		uint64_t	 size;
		int		 has_size, body8;
	} cases[] = {
		{ "FROM:<a@b.test>", "FROM", 0, "a@b.test", 0, 0, 0 },
		{ "from:<a@b.test>", "FROM", 0, "a@b.test", 0, 0, 0 },
		{ "FROM: <a@b.test>", "FROM", 0, "a@b.test", 0, 0, 0 },
		{ "FROM:<>", "FROM", 0, "", 0, 0, 0 },
		{ "FROM:<> SIZE=1234 BODY=8BITMIME", "FROM", 0, "", 1234, 1, 1 },
		{ "FROM:<a@b> body=7bit size=0", "FROM", 0, "a@b", 0, 1, 0 },
		{ "FROM:<a@b>  SIZE=18446744073709551615", "FROM", 0, "a@b",
		    UINT64_MAX, 1, 0 },
		{ "FROM:<a@b> SIZE=18446744073709551616", "FROM", -1, NULL, 0,
		    0, 0 },
		{ "FROM:<a@b> SIZE=", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM:<a@b> BODY=BINARYMIME", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM:<a@b> AUTH=<>", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM:<a@b>x", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM:a@b", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM:<a@b", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM:<a b@c>", "FROM", -1, NULL, 0, 0, 0 },
		{ "FROM<a@b>", "FROM", -1, NULL, 0, 0, 0 },
		{ "TO:<a@b>", "TO", 0, "a@b", 0, 0, 0 },
		{ "TO:<>", "TO", -1, NULL, 0, 0, 0 },
		{ "TO:<u+tag@Example.TEST>", "TO", 0, "u+tag@Example.TEST", 0,
		    0, 0 },
		{ "FROM:<a@b>", "TO", -1, NULL, 0, 0, 0 },
	};
	struct lmtp_path	 p;
	const char		*err;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = lmtp_parse_path(str_from_cstr(cases[i].args),
		    cases[i].prefix, &p, &err);

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d", cases[i].args, rc);
		if (rc != 0)
			continue;
		assert_true(str_eq_cstr(p.addr, cases[i].addr));
		assert_true(p.size == cases[i].size);
		assert_int_equal(p.has_size, cases[i].has_size);
		assert_int_equal(p.body_8bit, cases[i].body8);
	}
}

/* Decode 'in' cut at every single position (two chunks) and byte by
 * byte; each way must give 'want' and consume exactly 'used' bytes. */
static void
decode_all_splits(const char *in, size_t n, const char *want, size_t wlen,
    size_t used, int ends)
{
	char	*out = xmalloc(n + 2), *acc = xmalloc(n + 2);
	size_t	 cut, olen, alen, consumed, k;

	for (cut = 0; cut <= n + 1; cut++) {
		struct lmtp_data d = { 0 };
		size_t pos = 0;

		alen = consumed = 0;
		while (pos < n && d.state != LD_END) {
			/* cut == n + 1 means byte by byte */
			size_t take = cut == n + 1 ? 1 :
			    (pos < cut ? cut - pos : n - pos);

			if (take == 0)
				take = n - pos;
			k = lmtp_data_decode(&d, in + pos, take, out, &olen);
			memcpy(acc + alen, out, olen);
			alen += olen;
			pos += k;
			consumed += k;
			if (k < take)
				break;
		}
		if (alen != wlen || memcmp(acc, want, wlen) != 0)
			fail_msg("split %zu of \"%s\": wrong output", cut, in);
		if (consumed != used)
			fail_msg("split %zu of \"%s\": consumed %zu, want %zu",
			    cut, in, consumed, used);
		if ((d.state == LD_END) != ends)
			fail_msg("split %zu of \"%s\": end state", cut, in);
	}
	free(out);
	free(acc);
}

#define DEC(in, want, used, ends) \
	decode_all_splits(in, sizeof(in) - 1, want, sizeof(want) - 1, used, ends)

static void
test_data(void **state)
{
	(void)state;
	DEC("a\r\n.\r\n", "a\n", 6, 1);
	DEC(".\r\n", "", 3, 1);
	DEC("a\r\n.\r\nQUIT\r\n", "a\n", 6, 1);
	DEC("..x\r\n.\r\n", ".x\n", 8, 1);		/* unstuffed */
	DEC("..\r\n.\r\n", ".\n", 7, 1);		/* a line "." */
	DEC("a.\r\n.b\r\n.\r\n", "a.\nb\n", 11, 1);
	DEC("a\rb\r\n.\r\n", "a\rb\n", 8, 1);		/* bare CR kept */
	DEC("a\r\r\n.\r\n", "a\r\n", 7, 1);
	DEC("a\nb\n.\n", "a\nb\n", 6, 1);		/* bare LF, lenient */
	DEC("\xe9\x00z\r\n.\r\n", "\xe9\x00z\n", 8, 1);	/* 8-bit, NUL */
	DEC("a\r\n.x", "a\nx", 5, 0);			/* no end yet */
	DEC("a\r\n.\rx\r\n.\r\n", "a\n\rx\n", 11, 1);
	DEC("abc", "abc", 3, 0);
	DEC("a\r\n", "a\n", 3, 0);
	DEC("a\r\n.", "a\n", 4, 0);
	DEC("a\r\n.\r", "a\n", 5, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
