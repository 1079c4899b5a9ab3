/* test_pop3_parse.c - pop3/pop3_parse.c: commands and their arguments,
 * the line reader at its limits (POP3_LINE_MAX and one more, fed in
 * every split), SASL responses, byte-stuffing across chunk borders, and
 * TOP's cut. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pop3_parse.h"
#include "aviary/compat.h"
#include "aviary/mem.h"

static void
test_commands(void **state)
{
	static const struct {
		const char	*line;
		int		 rc;
		enum pop3_cmd_id id;
		const char	*arg1, *arg2;
		uint32_t	 n, lines;
		int		 has_n;
	} cases[] = {
		{ "USER a@b.test", 0, POP3_C_USER, "a@b.test", NULL, 0, 0, 0 },
		{ "user a@b.test", 0, POP3_C_USER, "a@b.test", NULL, 0, 0, 0 },
		{ "USER", -1, POP3_C_USER, NULL, NULL, 0, 0, 0 },
		{ "USER a b", -1, POP3_C_USER, NULL, NULL, 0, 0, 0 },
		{ "PASS secret", 0, POP3_C_PASS, "secret", NULL, 0, 0, 0 },
		{ "PASS  two  spaces ", 0, POP3_C_PASS, " two  spaces ", NULL,
		    0, 0, 0 },
		{ "PASS", -1, POP3_C_PASS, NULL, NULL, 0, 0, 0 },
		{ "PASS ", -1, POP3_C_PASS, NULL, NULL, 0, 0, 0 },
		{ "PASS a\tb", -1, POP3_C_PASS, NULL, NULL, 0, 0, 0 },
		{ "AUTH", 0, POP3_C_AUTH, "", NULL, 0, 0, 0 },
		{ "AUTH PLAIN", 0, POP3_C_AUTH, "PLAIN", NULL, 0, 0, 0 },
		{ "AUTH plain AGFAYg==", 0, POP3_C_AUTH, "plain", "AGFAYg==", 0,
		    0, 0 },
		{ "AUTH PLAIN =", 0, POP3_C_AUTH, "PLAIN", "=", 0, 0, 0 },
		{ "AUTH PLAIN a b", -1, POP3_C_AUTH, NULL, NULL, 0, 0, 0 },
		{ "STAT", 0, POP3_C_STAT, "", NULL, 0, 0, 0 },
		{ "STAT 1", -1, POP3_C_STAT, NULL, NULL, 0, 0, 0 },
		{ "LIST", 0, POP3_C_LIST, "", NULL, 0, 0, 0 },
		{ "LIST 7", 0, POP3_C_LIST, "", NULL, 7, 0, 1 },
		{ "LIST 0", -1, POP3_C_LIST, NULL, NULL, 0, 0, 0 },
		{ "LIST -1", -1, POP3_C_LIST, NULL, NULL, 0, 0, 0 },
		{ "LIST 4294967295", 0, POP3_C_LIST, "", NULL, 4294967295u, 0,
		    1 },
		{ "LIST 4294967296", -1, POP3_C_LIST, NULL, NULL, 0, 0, 0 },
		{ "LIST 00000000001", -1, POP3_C_LIST, NULL, NULL, 0, 0, 0 },
		{ "LIST 1x", -1, POP3_C_LIST, NULL, NULL, 0, 0, 0 },
		{ "UIDL 3", 0, POP3_C_UIDL, "", NULL, 3, 0, 1 },
		{ "RETR 2", 0, POP3_C_RETR, "", NULL, 2, 0, 1 },
		{ "RETR", -1, POP3_C_RETR, NULL, NULL, 0, 0, 0 },
		{ "DELE 1", 0, POP3_C_DELE, "", NULL, 1, 0, 1 },
		{ "DELE 1 2", -1, POP3_C_DELE, NULL, NULL, 0, 0, 0 },
		{ "TOP 1 0", 0, POP3_C_TOP, "", NULL, 1, 0, 1 },
		{ "top 2 15", 0, POP3_C_TOP, "", NULL, 2, 15, 1 },
		{ "TOP 1", -1, POP3_C_TOP, NULL, NULL, 0, 0, 0 },
		{ "TOP 1 x", -1, POP3_C_TOP, NULL, NULL, 0, 0, 0 },
		{ "TOP 1 2 3", -1, POP3_C_TOP, NULL, NULL, 0, 0, 0 },
		{ "NOOP", 0, POP3_C_NOOP, "", NULL, 0, 0, 0 },
		{ "RSET", 0, POP3_C_RSET, "", NULL, 0, 0, 0 },
		{ "QUIT", 0, POP3_C_QUIT, "", NULL, 0, 0, 0 },
		{ "CAPA", 0, POP3_C_CAPA, "", NULL, 0, 0, 0 },
		{ "STLS", 0, POP3_C_STLS, "", NULL, 0, 0, 0 },
		{ "APOP a b", 0, POP3_C_APOP, "", NULL, 0, 0, 0 },
		{ "", -1, POP3_C_UNKNOWN, NULL, NULL, 0, 0, 0 },
		{ "QUITX", -1, POP3_C_UNKNOWN, NULL, NULL, 0, 0, 0 },
		{ "XTND XMIT", -1, POP3_C_UNKNOWN, NULL, NULL, 0, 0, 0 },
		{ " QUIT", -1, POP3_C_UNKNOWN, NULL, NULL, 0, 0, 0 },
	};
	struct pop3_cmd	 cmd;
	const char	*error;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = pop3_parse(str_from_cstr(cases[i].line), &cmd, &error);

		if (rc != cases[i].rc || cmd.id != cases[i].id)
			fail_msg("\"%s\": rc %d id %d", cases[i].line, rc,
			    (int)cmd.id);
		if (rc != 0)
			continue;
		if (cases[i].arg1 != NULL && !str_eq_cstr(cmd.arg1,
		    cases[i].arg1))
			fail_msg("\"%s\": arg1 \"%.*s\"", cases[i].line,
			    (int)cmd.arg1.len, cmd.arg1.p);
		assert_int_equal(cmd.has_arg2, cases[i].arg2 != NULL);
		if (cases[i].arg2 != NULL)
			assert_true(str_eq_cstr(cmd.arg2, cases[i].arg2));
		assert_int_equal(cmd.has_n, cases[i].has_n);
		assert_int_equal(cmd.n, cases[i].n);
		assert_int_equal(cmd.lines, cases[i].lines);
	}
}

static void
test_arg_limit(void **state)
{
	char		 line[POP3_ARG_MAX + 16];
	struct pop3_cmd	 cmd;
	const char	*error;

	(void)state;
	/* USER takes POP3_ARG_MAX bytes, not one more. */
	memcpy(line, "USER ", 5);
	memset(line + 5, 'a', POP3_ARG_MAX);
	line[5 + POP3_ARG_MAX] = '\0';
	assert_int_equal(pop3_parse(str_from_cstr(line), &cmd, &error), 0);
	assert_int_equal(cmd.arg1.len, POP3_ARG_MAX);
	line[5 + POP3_ARG_MAX] = 'a';
	line[6 + POP3_ARG_MAX] = '\0';
	assert_int_equal(pop3_parse(str_from_cstr(line), &cmd, &error), -1);
	assert_int_equal(cmd.id, POP3_C_USER);
}

/* Feed 'in' to a reader in pieces of 'step' bytes (0: all at once) and
 * collect what comes out: "L:<line>" and "T" entries joined by '|'. */
static char *
read_all(const char *in, size_t len, size_t step)
{
	struct pop3_reader	 r;
	struct str		 line;
	size_t			 pos = 0, olen = 0, cap = len * 2 + 64;
	char			*out = xmalloc(cap);
	enum pop3_rd		 rd;

	out[0] = '\0';
	pop3_reader_init(&r);
	while (pos < len) {
		size_t n = step == 0 ? len - pos : step;

		if (n > len - pos)
			n = len - pos;
		if (n > pop3_reader_room(&r))
			n = pop3_reader_room(&r);
		assert_true(n > 0);
		pop3_reader_feed(&r, in + pos, n);
		pos += n;
		while ((rd = pop3_reader_next(&r, &line)) != POP3_RD_NONE) {
			if (rd == POP3_RD_TOO_LONG)
				olen += (size_t)snprintf(out + olen, cap - olen,
				    "T|");
			else {
				olen += (size_t)snprintf(out + olen, cap - olen,
				    "L:%.*s|", (int)line.len, line.p);
			}
		}
	}
	pop3_reader_deinit(&r);
	return out;
}

static void
test_reader_lines(void **state)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "", "" },
		{ "NOOP\r\n", "L:NOOP|" },
		{ "NOOP\n", "L:NOOP|" },
		{ "A\r\nB\r\nC", "L:A|L:B|" },
		{ "\r\n", "L:|" },
		{ "A\rB\r\n", "L:A\rB|" },
		{ "USER x\r\nPASS y z\r\nSTAT\r\n", "L:USER x|L:PASS y z|L:STAT|" },
	};
	size_t	 i, step;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		size_t len = strlen(cases[i].in);

		for (step = 0; step <= len + 1; step++) {
			char *got = read_all(cases[i].in, len, step);

			if (strcmp(got, cases[i].want) != 0)
				fail_msg("case %zu step %zu: \"%s\"", i, step,
				    got);
			free(got);
		}
	}
}

/* A line of exactly POP3_LINE_MAX bytes passes, with CRLF or LF; one
 * byte more is TOO_LONG, reported once, and the next line is fine. */
static void
test_reader_limit(void **state)
{
	static const size_t steps[] = { 0, 1, 7, 4096, POP3_LINE_MAX,
	    POP3_LINE_MAX + 1, POP3_LINE_MAX + 2 };
	size_t	 extra, s, crlf;

	(void)state;
	for (extra = 0; extra <= 1; extra++)
		for (crlf = 0; crlf <= 1; crlf++)
			for (s = 0; s < N_ELEMENTS(steps); s++) {
				size_t	 n = POP3_LINE_MAX + extra;
				size_t	 len = n + (crlf ? 2 : 1) + 6;
				char	*in = xmalloc(len + 1), *got;

				memset(in, 'x', n);
				memcpy(in + n, crlf ? "\r\nNOOP\r\n" : "\nNOOP\r\n",
				    len - n);
				in[len] = '\0';
				got = read_all(in, len, steps[s]);
				if (extra == 0) {
					assert_int_equal(strncmp(got, "L:x", 3), 0);
					assert_int_equal(strlen(got),
					    2 + POP3_LINE_MAX + 1 + 7);
				} else
					assert_string_equal(got, "T|L:NOOP|");
				free(got);
				free(in);
			}
}

/* Far longer than the buffer: one TOO_LONG, whatever the pieces. */
static void
test_reader_huge_line(void **state)
{
	size_t	 len = 5 * POP3_READER_MAX, steps[] = { 0, 1000, 4096 }, s;
	char	*in = xmalloc(len + 8), *got;

	(void)state;
	memset(in, 'y', len);
	memcpy(in + len, "\r\nQUIT\n", 7);
	for (s = 0; s < N_ELEMENTS(steps); s++) {
		got = read_all(in, len + 7, steps[s]);
		assert_string_equal(got, "T|L:QUIT|");
		free(got);
	}
	free(in);
}

static void
test_reader_discard_and_room(void **state)
{
	struct pop3_reader	 r;
	struct str		 line;

	(void)state;
	pop3_reader_init(&r);
	assert_int_equal(pop3_reader_room(&r), POP3_READER_MAX);
	pop3_reader_feed(&r, "STLS\r\nCAPA\r\nNO", 14);
	assert_int_equal(pop3_reader_next(&r, &line), POP3_RD_LINE);
	assert_true(str_eq_cstr(line, "STLS"));
	assert_int_equal(pop3_reader_pending(&r), 8);
	pop3_reader_discard(&r);
	assert_int_equal(pop3_reader_pending(&r), 0);
	assert_int_equal(pop3_reader_next(&r, &line), POP3_RD_NONE);
	pop3_reader_feed(&r, "OP\r\n", 4);
	assert_int_equal(pop3_reader_next(&r, &line), POP3_RD_LINE);
	assert_true(str_eq_cstr(line, "OP"));
	pop3_reader_deinit(&r);
}

static void
test_sasl_decode(void **state)
{
	unsigned char	 out[64];
	size_t		 len;

	(void)state;
	assert_int_equal(pop3_sasl_decode(str_from_cstr("*"), out, sizeof(out),
	    &len), 1);
	assert_int_equal(pop3_sasl_decode(str_from_cstr("="), out, sizeof(out),
	    &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(pop3_sasl_decode(str_from_cstr("AGFAYgBj"), out,
	    sizeof(out), &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "\0a@b\0c", 6);
	assert_int_equal(pop3_sasl_decode(str_from_cstr("AGFAYgB"), out,
	    sizeof(out), &len), -1);
	assert_int_equal(pop3_sasl_decode(str_from_cstr("!!!!"), out,
	    sizeof(out), &len), -1);
	/* 4 characters decode to 3 bytes: out of 2 bytes is too small. */
	assert_int_equal(pop3_sasl_decode(str_from_cstr("YWJj"), out, 2, &len),
	    -1);
	assert_int_equal(pop3_sasl_decode(str_from_cstr("YWJj"), out, 3, &len),
	    0);
}

/* pop3_stuff in one piece and byte by byte gives the same bytes. */
static void
test_stuff(void **state)
{
	static const struct {
		const char	*in, *want;
		int		 bol_end;
	} cases[] = {
		{ "a\nb\n", "a\r\nb\r\n", 1 },
		{ ".a\n..b\n.\n", "..a\r\n...b\r\n..\r\n", 1 },
		{ "a\r\n.b\r\n", "a\r\n..b\r\n", 1 },
		{ "x.y\n", "x.y\r\n", 1 },
		{ "no newline", "no newline", 0 },
		{ "\n\n", "\r\n\r\n", 1 },
		{ "a\rb\n", "a\rb\r\n", 1 },
		{ "", "", 1 },
	};
	char	 out[64];
	size_t	 i, j, o;
	bool	 bol, cr;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		size_t n = strlen(cases[i].in);

		bol = true;
		cr = false;
		o = pop3_stuff(cases[i].in, n, out, &bol, &cr);
		assert_int_equal(o, strlen(cases[i].want));
		assert_memory_equal(out, cases[i].want, o);
		assert_int_equal(bol, cases[i].bol_end);
		bol = true;
		cr = false;
		o = 0;
		for (j = 0; j < n; j++)
			o += pop3_stuff(cases[i].in + j, 1, out + o, &bol, &cr);
		assert_int_equal(o, strlen(cases[i].want));
		assert_memory_equal(out, cases[i].want, o);
	}
}

static void
test_top(void **state)
{
	static const struct {
		const char	*msg;
		uint64_t	 lines;
		const char	*want;
	} cases[] = {
		{ "H: 1\n\nb1\nb2\nb3\n", 0, "H: 1\n\n" },
		{ "H: 1\n\nb1\nb2\nb3\n", 2, "H: 1\n\nb1\nb2\n" },
		{ "H: 1\n\nb1\nb2\nb3\n", 3, "H: 1\n\nb1\nb2\nb3\n" },
		{ "H: 1\n\nb1\nb2\nb3\n", 9, "H: 1\n\nb1\nb2\nb3\n" },
		{ "H: 1\r\n\r\nb1\r\nb2\r\n", 1, "H: 1\r\n\r\nb1\r\n" },
		{ "H: 1\nH: 2\n", 0, "H: 1\nH: 2\n" },	/* no body */
		{ "H: 1\n\n\n\nx\n", 2, "H: 1\n\n\n\n" },
		{ "\nbody\n", 0, "\n" },
		{ "H: 1\n\nlast", 5, "H: 1\n\nlast" },
	};
	struct pop3_top	 st;
	size_t		 i, j, k, o;
	char		 out[128];

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		size_t n = strlen(cases[i].msg);

		pop3_top_init(&st, cases[i].lines);
		k = pop3_top_cut(&st, cases[i].msg, n);
		if (k != strlen(cases[i].want) ||
		    memcmp(cases[i].msg, cases[i].want, k) != 0)
			fail_msg("case %zu: cut %zu", i, k);
		/* byte by byte */
		pop3_top_init(&st, cases[i].lines);
		for (j = 0, o = 0; j < n && !st.done; j++) {
			k = pop3_top_cut(&st, cases[i].msg + j, 1);
			memcpy(out + o, cases[i].msg + j, k);
			o += k;
		}
		assert_int_equal(o, strlen(cases[i].want));
		assert_memory_equal(out, cases[i].want, o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_arg_limit),
		cmocka_unit_test(test_reader_lines),
		cmocka_unit_test(test_reader_limit),
		cmocka_unit_test(test_reader_huge_line),
		cmocka_unit_test(test_reader_discard_and_room),
		cmocka_unit_test(test_sasl_decode),
		cmocka_unit_test(test_stuff),
		cmocka_unit_test(test_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
