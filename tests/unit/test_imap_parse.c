/* test_imap_parse.c - imap/: the command reader fed in one piece, byte by
 * byte and cut at every position (literals and line ends split across
 * reads), pipelining, every limit at N and N+1, resynchronisation after
 * errors (LITERAL+ bytes skipped, refused literals), single-line mode,
 * memory at rest, then each typed parser from a table: sequence sets,
 * dates, SEARCH, FETCH, STORE, APPEND, LIST, STATUS, SELECT, ID, ENABLE,
 * AUTHENTICATE, LOGIN, QUOTA, the command table, and the writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imap_parse.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/compat.h"
#include "aviary/mem.h"

/* ------------------------------------------------------------------ */
/* Transcript helpers                                                  */
/* ------------------------------------------------------------------ */

enum mode { M_ACCEPT, M_SINK, M_REFUSE };

static void
add(struct buf *b, const char *fmt, ...) AV_PRINTFLIKE(2, 3);

static void
add(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	assert_int_equal(rc, 0);
}

static void
add_esc(struct buf *b, const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			add(b, "%c", c);
		else
			add(b, "\\x%02x", c);
	}
}

static void
dump_args(struct buf *b, const struct imap_arg *a, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			add(b, " ");
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
			add_esc(b, a[i].str, a[i].len);
			break;
		case IMAP_ARG_QUOTED:
			add(b, "\"");
			add_esc(b, a[i].str, a[i].len);
			add(b, "\"");
			break;
		case IMAP_ARG_LITERAL:
			add(b, "{");
			add_esc(b, a[i].str, a[i].len);
			add(b, "}");
			break;
		case IMAP_ARG_SINK:
			add(b, "<sink %zu>", a[i].len);
			break;
		case IMAP_ARG_LIST:
			add(b, "(");
			dump_args(b, a[i].list, a[i].len);
			add(b, ")");
			break;
		}
	}
}

struct tr {
	struct buf	 out;
	struct buf	 data;		/* sink bytes not yet flushed */
	bool		 in_data;
};

static void
flush_data(struct tr *t)
{
	if (!t->in_data)
		return;
	add(&t->out, "D");
	add_esc(&t->out, t->data.data, t->data.len);
	add(&t->out, "\n");
	buf_clear(&t->data);
	t->in_data = false;
}

static void
on_event(struct tr *t, struct imap_reader *r, enum mode mode,
    const struct imap_event *ev)
{
	enum imap_rerr	 e;

	if (ev->type != IMAP_EV_LITERAL_DATA && ev->type != IMAP_EV_NONE)
		flush_data(t);
	switch (ev->type) {
	case IMAP_EV_NONE:
		break;
	case IMAP_EV_COMMAND:
		add(&t->out, "C %s %s%s", ev->cmd->tag,
		    ev->cmd->uid ? "UID " : "", ev->cmd->name);
		if (ev->cmd->nargs > 0) {
			add(&t->out, " ");
			dump_args(&t->out, ev->cmd->args, ev->cmd->nargs);
		}
		add(&t->out, "\n");
		if (strcmp(ev->cmd->name, "AUTHENTICATE") == 0 ||
		    strcmp(ev->cmd->name, "IDLE") == 0)
			imap_reader_read_line(r);
		break;
	case IMAP_EV_LITERAL:
		add(&t->out, "L%llu%s", (unsigned long long)ev->literal_size,
		    ev->literal_sync ? "" : "+");
		if (mode == M_REFUSE) {
			imap_reader_literal_refuse(r);
			add(&t->out, " r\n");
		} else if (mode == M_SINK &&
		    strcmp(ev->cmd->name, "APPEND") == 0 &&
		    ev->literal_depth == 0 && ev->literal_argc >= 1) {
			imap_reader_literal_sink(r);
			add(&t->out, " s\n");
		} else {
			e = imap_reader_literal_accept(r);
			assert_int_equal(e, ev->fits);
			if (e == IMAP_RERR_NONE)
				add(&t->out, " k\n");
			else
				add(&t->out, " x%d\n", (int)e);
		}
		break;
	case IMAP_EV_LITERAL_DATA:
		assert_true(ev->len > 0);
		if (buf_append(&t->data, ev->data, ev->len) != 0)
			fail_msg("sink data too big for the test");
		t->in_data = true;
		if (ev->left == 0)
			flush_data(t);
		break;
	case IMAP_EV_LINE:
		add(&t->out, "I ");
		add_esc(&t->out, ev->data, ev->len);
		add(&t->out, "\n");
		break;
	case IMAP_EV_ERROR:
		add(&t->out, "E%d %s\n", (int)ev->error,
		    ev->cmd->tag != NULL ? ev->cmd->tag : "-");
		break;
	}
}

/* Feed in[0..n): in chunks of 'step' bytes, or (step 0) in two chunks
 * cut at 'cut'. Returns the transcript (heap). */
static char *
run(const struct imap_limits *lim, enum mode mode, const char *in, size_t n,
    size_t step, size_t cut)
{
	struct imap_reader	*r = imap_reader_create(lim);
	struct imap_event	 ev;
	struct tr		 t;
	size_t			 s = 0, e, off, k;
	char			*res;

	memset(&t, 0, sizeof(t));
	buf_init(&t.out, NULL, 1 << 22);
	buf_init(&t.data, NULL, 1 << 22);
	while (s < n || s == 0) {
		e = step > 0 ? (n - s < step ? n : s + step) :
		    (s < cut ? cut : n);
		off = s;
		do {
			k = imap_reader_input(r, in + off, e - off, &ev);
			off += k;
			assert_true(off <= e);
			on_event(&t, r, mode, &ev);
		} while (ev.type != IMAP_EV_NONE);
		assert_int_equal(off, e);
		s = e;
		if (n == 0)
			break;
	}
	flush_data(&t);
	imap_reader_release(r);
	if (imap_reader_at_boundary(r))
		assert_true(imap_reader_memory(r) <= 512);
	imap_reader_destroy(&r);
	res = xstrdup(buf_cstr(&t.out));
	buf_deinit(&t.out);
	buf_deinit(&t.data);
	return res;
}

/* One piece, byte by byte, and every two-chunk cut: the same transcript. */
static void
check_splits(const struct imap_limits *lim, enum mode mode, const char *in,
    size_t n, const char *want)
{
	char	*got;
	size_t	 cut;

	got = run(lim, mode, in, n, 0, n);
	if (strcmp(got, want) != 0)
		fail_msg("input '%s':\n got: %s\nwant: %s", in, got, want);
	free(got);
	got = run(lim, mode, in, n, 1, 0);
	if (strcmp(got, want) != 0)
		fail_msg("input '%s' bytewise:\n got: %s\nwant: %s", in, got,
		    want);
	free(got);
	for (cut = 0; cut <= n; cut++) {
		got = run(lim, mode, in, n, 0, cut);
		if (strcmp(got, want) != 0)
			fail_msg("input '%s' cut at %zu:\n got: %s\nwant: %s",
			    in, cut, got, want);
		free(got);
	}
}

struct rcase {
	const char	*in;
	size_t		 len;
	const char	*want;
};

/* A case whose input may hold NULs: the length comes from the literal. */
#define RC(in, want)	{ in, sizeof(in) - 1, want }
#define CHECK(lim, mode, in, want) \
	check_splits(lim, mode, in, sizeof(in) - 1, want)

static void
check_table(const struct imap_limits *lim, enum mode mode,
    const struct rcase *c, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		check_splits(lim, mode, c[i].in, c[i].len, c[i].want);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

static void
test_reader_basic(void **state)
{
	static const struct rcase cases[] = {
		RC("a1 NOOP\r\n", "C a1 NOOP\n"),
		RC("a1 noop\r\n", "C a1 NOOP\n"),
		RC("a1 NOOP\n", "C a1 NOOP\n"),		/* bare LF */
		RC("\r\n\r\na NOOP\r\n", "C a NOOP\n"),	/* empty lines */
		RC("x.y]z CAPABILITY\r\n", "C x.y]z CAPABILITY\n"),
		RC("a LOGIN user \"pa ss\"\r\n",
		    "C a LOGIN user \"pa ss\"\n"),
		RC("a LOGIN \"a\\\"b\\\\c\" \"\"\r\n",
		    "C a LOGIN \"a\"b\\x5cc\" \"\"\n"),
		RC("a X NIL nil Nil NILS\r\n", "C a X NIL nil Nil NILS\n"),
		RC("a X  b   c \r\n", "C a X b c\n"),
		RC("a X (a (b (c)) d) e\r\n", "C a X (a (b (c)) d) e\n"),
		RC("a X () (())\r\n", "C a X () (())\n"),
		RC("a uid fetch 1:* FLAGS\r\n", "C a UID FETCH 1:* FLAGS\n"),
		RC("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> "
		    "UID)\r\n",
		    "C a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> "
		    "UID)\n"),
		RC("a FETCH 1 body[]\r\n", "C a FETCH 1 body[]\n"),
		RC("a STORE 1 +FLAGS (\\Seen $Junk)\r\n",
		    "C a STORE 1 +FLAGS (\\x5cSeen $Junk)\n"),
		RC("a LIST \"\" %/*]\r\n", "C a LIST \"\" %/*]\n"),
		RC("a X \"caf\xc3\xa9\"\r\n", "C a X \"caf\\xc3\\xa9\"\n"),
		RC("a X \"\t\"\r\n", "C a X \"\\x09\"\n"),
		RC("a NOOP\r\nb NOOP\r\nc LOGIN {1+}\r\nx y\r\n",
		    "C a NOOP\nC b NOOP\nL1+ k\nC c LOGIN {x} y\n"),
	};
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	check_table(&lim, M_ACCEPT, cases, N_ELEMENTS(cases));
}

static void
test_reader_literals(void **state)
{
	static const struct rcase cases[] = {
		RC("a LOGIN {4}\r\nuser {4}\r\npass\r\n",
		    "L4 k\nL4 k\nC a LOGIN {user} {pass}\n"),
		RC("a LOGIN {4+}\r\nuser pass\r\n",
		    "L4+ k\nC a LOGIN {user} pass\n"),
		RC("a X (a {3}\r\nb c d)\r\n",
		    "L3 k\nC a X (a {b c} d)\n"),
		RC("a X ({3}\r\nabc)\r\n", "L3 k\nC a X ({abc})\n"),
		RC("a X {0}\r\n\r\n", "L0 k\nC a X {}\n"),
		RC("a X {0+}\r\n b\r\n", "L0+ k\nC a X {} b\n"),
		RC("a X {2}\r\n\r\n\r\n", "L2 k\nC a X {\\x0d\\x0a}\n"),
		RC("a X ~{3}\r\na\0b\r\n", "L3 k\nC a X {a\\x00b}\n"),
		RC("a X {005}\r\n12345\r\n", "L5 k\nC a X {12345}\n"),
		RC("a X {3}\r\n(\"{\r\n", "L3 k\nC a X {(\"{}\n"),
		RC("a X {2}\r\nab{1}\r\nc\r\n", "L2 k\nE1 a\nE1 c\n"),
	};
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	check_table(&lim, M_ACCEPT, cases, N_ELEMENTS(cases));
}

/* Each error, then a good command: the reader must be back in step. */
static void
test_reader_errors(void **state)
{
	static const struct rcase cases[] = {
		RC("a\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a \r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC(" a NOOP\r\nb NOOP\r\n", "E1 -\nC b NOOP\n"),
		RC("a+ NOOP\r\nb NOOP\r\n", "E1 -\nC b NOOP\n"),
		RC("{3}\r\nb NOOP\r\n", "E1 -\nC b NOOP\n"),
		RC("a NO*OP\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a {3}\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a UID\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a UID \r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X (b\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X b)\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X \"abc\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X \"a\\b\"\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X \"a\0b\"\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X \"a\rb\"\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X {3}x\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X {}\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X {+}\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X {3\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X a\"b\"\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X \"a\"b\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X (a)b\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X a\x01\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X \xc3\xa9\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X a{1}\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a FETCH 1 BODY[1\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X {99999999999999999999999}\r\nb NOOP\r\n",
		    "E3 a\nC b NOOP\n"),
		/* Errors on a line with a LITERAL+ literal: its bytes (which
		 * look like commands here) and the rest are skipped. */
		RC("a X ) {5+}\r\nxxxxx y\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X ) {10+}\r\nc NOOP\r\n\r\n\r\nb NOOP\r\n",
		    "E1 a\nC b NOOP\n"),
		RC("a X ) {2+}\r\nxx {3+}\r\nyyy\r\nb NOOP\r\n",
		    "E1 a\nC b NOOP\n"),
		RC("a X ) {0+}\r\n\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		RC("a X ) {2+}\r\nxx {3}\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		/* A synchronizing literal after an error is never sent. */
		RC("a X ) {5}\r\nb NOOP\r\n", "E1 a\nC b NOOP\n"),
		/* An error after an accepted literal. */
		RC("a X {1}\r\nx )\r\nb NOOP\r\n", "L1 k\nE1 a\nC b NOOP\n"),
		RC("a X {1}\r\nxy\r\nb NOOP\r\n", "L1 k\nE1 a\nC b NOOP\n"),
	};
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	check_table(&lim, M_ACCEPT, cases, N_ELEMENTS(cases));
}

static void
test_reader_refuse(void **state)
{
	static const struct rcase cases[] = {
		/* Refused synchronizing literal: the client sends nothing. */
		RC("a LOGIN {5}\r\nb NOOP\r\n", "L5 r\nC b NOOP\n"),
		/* Refused LITERAL+: skip it and the rest of the command, its
		 * further literals included. */
		RC("a LOGIN {5+}\r\nhello {3+}\r\nabc\r\nb NOOP\r\n",
		    "L5+ r\nC b NOOP\n"),
		RC("a LOGIN {5+}\r\nb NOO {3}\r\nb NOOP\r\n",
		    "L5+ r\nC b NOOP\n"),
		RC("a X {0+}\r\n x\r\nb NOOP\r\n", "L0+ r\nC b NOOP\n"),
	};
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	check_table(&lim, M_REFUSE, cases, N_ELEMENTS(cases));
}

static void
test_reader_line_mode(void **state)
{
	static const struct rcase cases[] = {
		RC("a AUTHENTICATE PLAIN\r\ndGVzdA==\r\nb NOOP\r\n",
		    "C a AUTHENTICATE PLAIN\nI dGVzdA==\nC b NOOP\n"),
		RC("a IDLE\r\nDONE\r\nb NOOP\r\n",
		    "C a IDLE\nI DONE\nC b NOOP\n"),
		RC("a IDLE\ndone\n", "C a IDLE\nI done\n"),
		RC("a IDLE\r\n\r\n", "C a IDLE\nI \n"),
		/* A line in line mode is raw: no literal, quotes, tags. */
		RC("a IDLE\r\n{5+}\r\nb NOOP\r\n",
		    "C a IDLE\nI {5+}\nC b NOOP\n"),
		RC("a IDLE\r\n\"x\0\r\n", "C a IDLE\nI \"x\\x00\n"),
	};
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	check_table(&lim, M_ACCEPT, cases, N_ELEMENTS(cases));
}

/* A 1 MiB APPEND literal streams out; the small ones stay in memory. */
static void
test_reader_sink(void **state)
{
	static const struct rcase cases[] = {
		RC("a APPEND INBOX {5}\r\nhello\r\n",
		    "L5 s\nDhello\nC a APPEND INBOX <sink 5>\n"),
		RC("a APPEND {5}\r\nINBOX {0+}\r\n\r\n",
		    "L5 k\nL0+ s\nC a APPEND {INBOX} <sink 0>\n"),
		RC("a APPEND x (\\Seen) \" 1-Jan-2020 00:00:00 +0000\" {3+}\r\n"
		    "abc (\\Draft) {2}\r\nde\r\n",
		    "L3+ s\nDabc\nL2 s\nDde\nC a APPEND x (\\x5cSeen) "
		    "\" 1-Jan-2020 00:00:00 +0000\" <sink 3> (\\x5cDraft) "
		    "<sink 2>\n"),
	};
	struct imap_limits	 lim;
	struct imap_reader	*r;
	struct imap_event	 ev;
	struct arena		*a;
	const struct imap_cmd_def *def;
	struct imap_args	 args;
	const char		*err, *head = "t APPEND Big {1048576}\r\n";
	size_t			 n = 1048576, got = 0, k, pos;
	char			*body = xmalloc(n + 2);
	int			 commands = 0;

	(void)state;
	imap_limits_default(&lim);
	check_table(&lim, M_SINK, cases, N_ELEMENTS(cases));

	for (k = 0; k < n; k++)
		body[k] = (char)('a' + k % 26);
	memcpy(body + n, "\r\n", 2);
	r = imap_reader_create(NULL);
	k = imap_reader_input(r, head, strlen(head), &ev);
	assert_int_equal(k, strlen(head));
	assert_int_equal(ev.type, IMAP_EV_LITERAL);
	assert_int_equal(ev.fits, IMAP_RERR_LITERAL_TOO_BIG);
	assert_true(ev.literal_sync);
	imap_reader_literal_sink(r);
	/* In 4000-byte reads, as a socket would give them. */
	for (pos = 0; pos < n + 2; pos += k) {
		size_t chunk = n + 2 - pos < 4000 ? n + 2 - pos : 4000, off = 0;

		k = chunk;
		do {
			off += imap_reader_input(r, body + pos + off,
			    chunk - off, &ev);
			if (ev.type == IMAP_EV_LITERAL_DATA) {
				assert_memory_equal(ev.data, body + got,
				    ev.len);
				got += ev.len;
				assert_int_equal(ev.left, n - got);
			} else if (ev.type == IMAP_EV_COMMAND) {
				commands++;
				a = arena_create(1024);
				assert_int_equal(imap_cmd_parse(a, ev.cmd, &def,
				    &args, &err), 0);
				assert_int_equal(args.u.append.n, 1);
				assert_int_equal(args.u.append.msgs[0].msg->type,
				    IMAP_ARG_SINK);
				assert_int_equal(args.u.append.msgs[0].msg->len,
				    n);
				arena_destroy(&a);
			}
		} while (ev.type != IMAP_EV_NONE);
		/* Memory stays small while streaming. */
		assert_true(imap_reader_memory(r) < 8192);
	}
	assert_int_equal(got, n);
	assert_int_equal(commands, 1);
	imap_reader_destroy(&r);
	free(body);
}

static char *
repeat(const char *head, char c, size_t n, const char *tail)
{
	size_t	 h = strlen(head), t = strlen(tail);
	char	*s = xmalloc(h + n + t + 1);

	memcpy(s, head, h);
	memset(s + h, c, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

/* Command text of exactly line_max bytes is taken; one more is not. The
 * text is summed over the lines of a command, literals not counted. */
static void
test_limit_line(void **state)
{
	struct imap_limits	 lim;
	char			*in, *got, *want;
	size_t			 n;

	(void)state;
	imap_limits_default(&lim);
	/* "a X " + filler = line_max bytes: taken; one more: refused. In
	 * one read, in 1000-byte reads and byte by byte. */
	for (n = 0; n < 2; n++) {
		size_t step;

		in = repeat("a X ", 'x', lim.line_max - 4 + n, "\r\nb NOOP\r\n");
		want = n == 0 ? repeat("C a X ", 'x', lim.line_max - 4,
		    "\nC b NOOP\n") : xstrdup("E2 a\nC b NOOP\n");
		for (step = 0; step <= 1000; step = step == 0 ? 1 : step * 1000) {
			got = run(&lim, M_ACCEPT, in, strlen(in), step,
			    strlen(in));
			assert_string_equal(got, want);
			free(got);
		}
		free(want);
		free(in);
	}

	/* A small limit, every split; over several lines of a command. */
	lim.line_max = 16;
	CHECK(&lim, M_ACCEPT, "a X 456789012345\r\nb NOOP\r\n",
	    "C a X 456789012345\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X 4567890123456\r\nb NOOP\r\n",
	    "E2 a\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X {1}\r\nx 34567890\r\n",
	    "L1 k\nC a X {x} 34567890\n");
	CHECK(&lim, M_ACCEPT, "a X {1}\r\nx 345678901\r\nb NOOP\r\n",
	    "L1 k\nE2 a\nC b NOOP\n");
	/* Too long, and ending in LITERAL+: the literal is skipped. */
	CHECK(&lim, M_ACCEPT, "a X 45678901234 {3+}\r\nabc\r\nb NOOP\r\n",
	    "E2 a\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X 4567890123456789 {3}\r\nb NOOP\r\n",
	    "E2 a\nC b NOOP\n");
	/* In line mode too (no literal detection there). */
	CHECK(&lim, M_ACCEPT, "a IDLE\r\n1234567890123456\r\nb NOOP\r\n",
	    "C a IDLE\nI 1234567890123456\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a IDLE\r\n12345678901234567 {1+}\r\nb NOOP\r\n",
	    "C a IDLE\nE2 -\nC b NOOP\n");
}

static void
test_limit_literal(void **state)
{
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	lim.literal_max = 4;
	lim.literals_total_max = 8;
	CHECK(&lim, M_ACCEPT, "a X {4}\r\n1234\r\n",
	    "L4 k\nC a X {1234}\n");
	CHECK(&lim, M_ACCEPT, "a X {5}\r\nb NOOP\r\n",
	    "L5 x3\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X {5+}\r\n12345\r\nb NOOP\r\n",
	    "L5+ x3\nC b NOOP\n");
	/* Total: 4 + 4 fits, 4 + 4 + 1 does not. */
	CHECK(&lim, M_ACCEPT, "a X {4}\r\n1234 {4}\r\n5678\r\n",
	    "L4 k\nL4 k\nC a X {1234} {5678}\n");
	CHECK(&lim, M_ACCEPT, "a X {4}\r\n1234 {4}\r\n5678 {1+}\r\n9\r\nb NOOP\r\n",
	    "L4 k\nL4 k\nL1+ x4\nC b NOOP\n");
}

static void
test_limit_depth_args(void **state)
{
	struct imap_limits	 lim;

	(void)state;
	imap_limits_default(&lim);
	lim.depth_max = 3;
	CHECK(&lim, M_ACCEPT, "a X (((a)))\r\n",
	    "C a X (((a)))\n");
	CHECK(&lim, M_ACCEPT, "a X ((((a))))\r\nb NOOP\r\n",
	    "E5 a\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X (((a))) (((b)))\r\n",
	    "C a X (((a))) (((b)))\n");
	imap_limits_default(&lim);
	lim.args_max = 5;
	CHECK(&lim, M_ACCEPT, "a X 1 2 3 4 5\r\n",
	    "C a X 1 2 3 4 5\n");
	CHECK(&lim, M_ACCEPT, "a X 1 2 3 4 5 6\r\nb NOOP\r\n",
	    "E6 a\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X (1 2) 3 4\r\n",
	    "C a X (1 2) 3 4\n");
	CHECK(&lim, M_ACCEPT, "a X (1 2) 3 (4)\r\nb NOOP\r\n",
	    "E6 a\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X 1 2 3 4 {1+}\r\nx\r\n",
	    "L1+ k\nC a X 1 2 3 4 {x}\n");
	check_splits(&lim, M_ACCEPT, "a X 1 2 3 4 5 {1+}\r\nx\r\nb NOOP\r\n",
	    31, "E6 a\nC b NOOP\n");
	CHECK(&lim, M_ACCEPT, "a X 1 2 3 4 5 \"x\"\r\nb NOOP\r\n",
	    "E6 a\nC b NOOP\n");
}

/* An idle reader is its struct; a command in flight costs more; after
 * it the memory goes back, with or without an explicit release. */
static void
test_reader_memory(void **state)
{
	struct imap_reader	*r = imap_reader_create(NULL);
	struct imap_event	 ev;
	size_t			 bare = imap_reader_memory(r), k;
	char			*big = repeat("a X ", 'x', 60000, "\r\n");

	(void)state;
	assert_true(bare <= 512);
	k = imap_reader_input(r, "a NOOP\r\n", 8, &ev);
	assert_int_equal(k, 8);
	assert_int_equal(ev.type, IMAP_EV_COMMAND);
	assert_true(imap_reader_memory(r) > bare);
	imap_reader_release(r);
	assert_int_equal(imap_reader_memory(r), bare);
	/* Half a line: buffered. */
	k = imap_reader_input(r, big, 30000, &ev);
	assert_int_equal(k, 30000);
	assert_int_equal(ev.type, IMAP_EV_NONE);
	assert_false(imap_reader_at_boundary(r));
	assert_true(imap_reader_memory(r) > 30000);
	k = imap_reader_input(r, big + 30000, strlen(big) - 30000, &ev);
	assert_int_equal(ev.type, IMAP_EV_COMMAND);
	assert_int_equal(ev.cmd->args[0].len, 60000);
	/* No release: the next (empty) input frees it all. */
	k = imap_reader_input(r, "", 0, &ev);
	assert_int_equal(k, 0);
	assert_int_equal(ev.type, IMAP_EV_NONE);
	assert_true(imap_reader_at_boundary(r));
	assert_int_equal(imap_reader_memory(r), bare);
	/* Waiting inside a literal: small, no buffer for the literal yet. */
	k = imap_reader_input(r, "a APPEND x {100000}\r\n", 21, &ev);
	assert_int_equal(ev.type, IMAP_EV_LITERAL);
	imap_reader_literal_sink(r);
	assert_true(imap_reader_memory(r) < 4096);
	imap_reader_destroy(&r);
	assert_null(r);
	free(big);
}

/* ------------------------------------------------------------------ */
/* Typed parsers: a reader gives the arguments                         */
/* ------------------------------------------------------------------ */

struct fix {
	struct imap_reader	*r;
	struct arena		*a;
	const struct imap_cmd	*cmd;
};

/* Read one command (literals accepted); NULL if it does not parse. */
static const struct imap_cmd *
read1(struct fix *f, const char *line, size_t n)
{
	struct imap_event	 ev;
	size_t			 pos = 0;

	if (f->r == NULL)
		f->r = imap_reader_create(NULL);
	if (f->a == NULL)
		f->a = arena_create(4096);
	arena_reset(f->a);
	for (;;) {
		pos += imap_reader_input(f->r, line + pos, n - pos, &ev);
		if (ev.type == IMAP_EV_LITERAL) {
			if (imap_reader_literal_accept(f->r) != IMAP_RERR_NONE)
				return NULL;
			continue;
		}
		if (ev.type == IMAP_EV_COMMAND)
			return f->cmd = ev.cmd;
		if (ev.type != IMAP_EV_NONE || pos == n)
			return NULL;
	}
}

static void
fix_done(struct fix *f)
{
	imap_reader_destroy(&f->r);
	if (f->a != NULL)
		arena_destroy(&f->a);
}

/* Parse "t <line[0..n)>\r\n" as a command; returns imap_cmd_parse's
 * result. */
static int
cmdn(struct fix *f, const char *line, size_t n, struct imap_args *args,
    const char **err)
{
	char				 buf[8192];
	const struct imap_cmd		*cmd;
	const struct imap_cmd_def	*def;

	assert_true(n + 4 <= sizeof(buf));
	memcpy(buf, "t ", 2);
	memcpy(buf + 2, line, n);
	memcpy(buf + 2 + n, "\r\n", 2);
	cmd = read1(f, buf, n + 4);
	if (cmd == NULL)
		fail_msg("'%s' did not read as a command", line);
	*err = NULL;
	return imap_cmd_parse(f->a, cmd, &def, args, err);
}

static int
cmd1(struct fix *f, const char *line, struct imap_args *args,
    const char **err)
{
	return cmdn(f, line, strlen(line), args, err);
}

/* For lines holding NULs. */
#define CMDN(f, line, args, err)	cmdn(f, line, sizeof(line) - 1, args, err)

static void
test_seqset(void **state)
{
	static const struct {
		const char	*s;
		const char	*want;	/* "lo:hi,...", NULL = invalid */
	} cases[] = {
		{ "1", "1:1" }, { "1:5", "1:5" }, { "5:1", "5:1" },
		{ "*", "*:*" }, { "1:*", "1:*" }, { "*:3", "*:3" },
		{ "1,3,5:7", "1:1,3:3,5:7" }, { "4294967295", "4294967295:4294967295" },
		{ "$", "$" },
		{ "", NULL }, { "0", NULL }, { "01", NULL }, { "1:", NULL },
		{ ":1", NULL }, { "1,,2", NULL }, { "4294967296", NULL },
		{ "1:2:3", NULL }, { "a", NULL }, { "$,1", NULL }, { "1,", NULL },
		{ "-1", NULL }, { "1:0", NULL }, { "**", NULL }, { "$$", NULL },
		{ " 1", NULL },
	};
	struct arena		*a = arena_create(1024);
	struct imap_seqset	*set;
	const char		*err;
	struct buf		 b;
	size_t			 i, j;

	(void)state;
	buf_init(&b, NULL, 1024);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = imap_seqset_parse(a, cases[i].s, strlen(cases[i].s),
		    &set, &err);

		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("'%s' should fail", cases[i].s);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' should parse", cases[i].s);
		buf_clear(&b);
		if (set->saved)
			add(&b, "$");
		for (j = 0; j < set->n; j++) {
			if (j > 0)
				add(&b, ",");
			if (set->r[j].lo == IMAP_SEQ_STAR)
				add(&b, "*");
			else
				add(&b, "%u", set->r[j].lo);
			if (set->r[j].hi == IMAP_SEQ_STAR)
				add(&b, ":*");
			else
				add(&b, ":%u", set->r[j].hi);
		}
		assert_string_equal(buf_cstr(&b), cases[i].want);
	}
	buf_deinit(&b);
	arena_destroy(&a);
}

static void
test_seqset_resolve(void **state)
{
	static const struct {
		const char	*s;
		uint32_t	 max;
		const char	*want;
		bool		 beyond;
	} cases[] = {
		{ "1:3,2:5,7", 10, "1:5,7:7", false },
		{ "5:1", 10, "1:5", false },
		{ "1,2,3", 10, "1:3", false },
		{ "3,1,2,9:10", 10, "1:3,9:10", false },
		{ "559:*", 500, "500:500", true },	/* RFC 3501 6.4.8 */
		{ "*", 0, "", true },
		{ "1:*", 0, "", true },
		{ "8:12", 10, "8:10", true },
		{ "11", 10, "", true },
		{ "10", 10, "10:10", false },
		{ "*:1", 3, "1:3", false },
		{ "4294967295,1", UINT32_MAX, "1:1,4294967295:4294967295",
		    false },
		{ "1:4294967295,5", UINT32_MAX, "1:4294967295", false },
		{ "4294967294,4294967295", UINT32_MAX,
		    "4294967294:4294967295", false },
	};
	struct arena		*a = arena_create(1024);
	struct imap_seqset	*set;
	struct imap_seq_range	*rg;
	const char		*err;
	struct buf		 b;
	bool			 beyond;
	size_t			 i, j, n;

	(void)state;
	buf_init(&b, NULL, 1024);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		assert_int_equal(imap_seqset_parse(a, cases[i].s,
		    strlen(cases[i].s), &set, &err), 0);
		n = imap_seqset_resolve(set, cases[i].max, a, &rg, &beyond);
		buf_clear(&b);
		for (j = 0; j < n; j++)
			add(&b, "%s%u:%u", j > 0 ? "," : "", rg[j].lo,
			    rg[j].hi);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0 ||
		    beyond != cases[i].beyond)
			fail_msg("'%s' max %u: got '%s' beyond %d", cases[i].s,
			    cases[i].max, buf_cstr(&b), beyond);
	}
	/* contains() */
	assert_int_equal(imap_seqset_parse(a, "1:*", 3, &set, &err), 0);
	assert_true(imap_seqset_contains(set, 5, 5));
	assert_false(imap_seqset_contains(set, 6, 5));
	assert_false(imap_seqset_contains(set, 0, 5));
	assert_int_equal(imap_seqset_parse(a, "*", 1, &set, &err), 0);
	assert_true(imap_seqset_contains(set, 5, 5));
	assert_false(imap_seqset_contains(set, 4, 5));
	assert_int_equal(imap_seqset_parse(a, "7:3,9", 5, &set, &err), 0);
	assert_true(imap_seqset_contains(set, 3, 10));
	assert_true(imap_seqset_contains(set, 7, 10));
	assert_false(imap_seqset_contains(set, 8, 10));
	assert_true(imap_seqset_contains(set, 9, 10));
	assert_false(imap_seqset_contains(set, 2, 10));
	buf_deinit(&b);
	arena_destroy(&a);
}

static void
test_dates(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		unsigned	 y, m, d;
	} dates[] = {
		{ "1-Jan-2020", 1, 2020, 1, 1 },
		{ "01-jan-2020", 1, 2020, 1, 1 },
		{ "31-DEC-1999", 1, 1999, 12, 31 },
		{ "29-Feb-2020", 1, 2020, 2, 29 },
		{ "29-Feb-2000", 1, 2000, 2, 29 },
		{ "29-Feb-1900", 0, 0, 0, 0 },
		{ "29-Feb-2021", 0, 0, 0, 0 },
		{ "31-Apr-2020", 0, 0, 0, 0 },
		{ "32-Jan-2020", 0, 0, 0, 0 },
		{ "0-Jan-2020", 0, 0, 0, 0 },
		{ "1-Foo-2020", 0, 0, 0, 0 },
		{ "1-Jan-20", 0, 0, 0, 0 },
		{ "1-Jan-20201", 0, 0, 0, 0 },
		{ "1-Jan-0000", 0, 0, 0, 0 },
		{ " 1-Jan-2020", 0, 0, 0, 0 },
		{ "1 Jan 2020", 0, 0, 0, 0 },
		{ "001-Jan-2020", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
	};
	static const struct {
		const char	*s;
		int		 ok;
		long long	 t;
		int		 tz;
	} dts[] = {
		{ " 1-Jan-1970 00:00:00 +0000", 1, 0, 0 },
		{ "01-Jan-1970 00:00:00 +0000", 1, 0, 0 },
		{ "1-Jan-1970 00:00:00 +0000", 1, 0, 0 },
		{ "01-Jan-1970 01:00:00 +0100", 1, 0, 60 },
		{ "31-Dec-1969 23:00:00 -0100", 1, 0, -60 },
		{ "17-Jul-1996 02:44:25 -0700", 1, 837596665, -420 },
		{ "29-Feb-2024 12:30:00 +0530", 1, 1709190000, 330 },
		{ "31-Dec-9999 23:59:59 +0000", 1, 253402300799LL, 0 },
		{ " 1-Jan-1900 00:00:00 +0000", 1, -2208988800LL, 0 },
		{ "01-Jan-1970 24:00:00 +0000", 0, 0, 0 },
		{ "01-Jan-1970 00:60:00 +0000", 0, 0, 0 },
		{ "01-Jan-1970 00:00:61 +0000", 0, 0, 0 },
		{ "01-Jan-1970 00:00:00 +2400", 0, 0, 0 },
		{ "01-Jan-1970 00:00:00 +0060", 0, 0, 0 },
		{ "01-Jan-1970 00:00:00", 0, 0, 0 },
		{ "01-Jan-1970 00:00:00 0000", 0, 0, 0 },
		{ "01-Jan-1970 00:00:00 +00000", 0, 0, 0 },
		{ "01-Jan-1970 0:00:00 +0000", 0, 0, 0 },
		{ "29-Feb-2019 00:00:00 +0000", 0, 0, 0 },
		{ "01-Jan-1970  00:00:00 +0000", 0, 0, 0 },
	};
	struct imap_date	 d;
	time_t			 t;
	int			 tz;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(dates); i++) {
		int rc = imap_date_parse(dates[i].s, strlen(dates[i].s), &d);

		if ((rc == 0) != dates[i].ok)
			fail_msg("date '%s': rc %d", dates[i].s, rc);
		if (rc != 0)
			continue;
		assert_int_equal(d.year, dates[i].y);
		assert_int_equal(d.month, dates[i].m);
		assert_int_equal(d.day, dates[i].d);
	}
	assert_int_equal(imap_date_parse("2-Jan-1970", 10, &d), 0);
	assert_int_equal((long long)imap_date_to_time(&d), 86400);
	for (i = 0; i < N_ELEMENTS(dts); i++) {
		int rc = imap_datetime_parse(dts[i].s, strlen(dts[i].s), &t,
		    &tz);

		if ((rc == 0) != dts[i].ok)
			fail_msg("date-time '%s': rc %d", dts[i].s, rc);
		if (rc != 0)
			continue;
		if ((long long)t != dts[i].t || tz != dts[i].tz)
			fail_msg("date-time '%s': %lld %d", dts[i].s,
			    (long long)t, tz);
	}
}

static void
test_write_datetime(void **state)
{
	static const struct {
		long long	 t;
		int		 tz;
		const char	*want;
	} cases[] = {
		{ 0, 0, "\" 1-Jan-1970 00:00:00 +0000\"" },
		{ 837596665, -420, "\"17-Jul-1996 02:44:25 -0700\"" },
		{ 1709190000, 330, "\"29-Feb-2024 12:30:00 +0530\"" },
		{ -1, 0, "\"31-Dec-1969 23:59:59 +0000\"" },
		{ -2208988800LL, 0, "\" 1-Jan-1900 00:00:00 +0000\"" },
		{ 951782400, 0, "\"29-Feb-2000 00:00:00 +0000\"" },
		{ 253402300799LL, 0, "\"31-Dec-9999 23:59:59 +0000\"" },
		{ 253402300800LL, 0, "\"31-Dec-9999 23:59:59 +0000\"" },
		{ INT64_MAX, 0, "\"31-Dec-9999 23:59:59 +0000\"" },
		{ INT64_MIN, 0, "\" 1-Jan-0001 00:00:00 +0000\"" },
		{ 0, 5000, "\" 1-Jan-1970 00:00:00 +0000\"" },
	};
	struct buf	 b;
	time_t		 t;
	int		 tz;
	size_t		 i;

	(void)state;
	buf_init(&b, NULL, 64);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		buf_clear(&b);
		assert_int_equal(imap_write_datetime(&b, (time_t)cases[i].t,
		    cases[i].tz), 0);
		assert_string_equal(buf_cstr(&b), cases[i].want);
	}
	/* Parse what we write: the same instant and zone. */
	for (i = 0; i < 3; i++) {
		buf_clear(&b);
		assert_int_equal(imap_write_datetime(&b, (time_t)cases[i].t,
		    cases[i].tz), 0);
		assert_int_equal(imap_datetime_parse(b.data + 1, b.len - 2, &t,
		    &tz), 0);
		assert_true((long long)t == cases[i].t);
		assert_int_equal(tz, cases[i].tz);
	}
	buf_deinit(&b);
	buf_init(&b, NULL, 10);		/* too small: unchanged */
	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_int_equal(imap_write_datetime(&b, 0, 0), BUF_EFULL);
	assert_string_equal(buf_cstr(&b), "x");
	buf_deinit(&b);
}

static void
test_write_strings(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len;
		unsigned	 flags;
		int		 astring;
		const char	*want;
	} cases[] = {
		{ "abc", 3, 0, 0, "\"abc\"" },
		{ "", 0, 0, 0, "\"\"" },
		{ "a\"b\\c", 5, 0, 0, "\"a\\\"b\\\\c\"" },
		{ "a\r\nb", 4, 0, 0, "{4}\r\na\r\nb" },
		{ "a\0b", 3, 0, 0, "{3}\r\na" },	/* NUL: literal */
		{ "caf\xc3\xa9", 5, 0, 0, "{5}\r\ncaf\xc3\xa9" },
		{ "caf\xc3\xa9", 5, IMAP_WRITE_UTF8, 0, "\"caf\xc3\xa9\"" },
		{ "INBOX", 5, 0, 1, "INBOX" },
		{ "Sent Items", 10, 0, 1, "\"Sent Items\"" },
		{ "NIL", 3, 0, 1, "\"NIL\"" },
		{ "nil", 3, 0, 1, "\"nil\"" },
		{ "", 0, 0, 1, "\"\"" },
		{ "a%b", 3, 0, 1, "\"a%b\"" },
		{ "a]", 2, 0, 1, "\"a]\"" },
		{ "a\nb", 3, 0, 1, "{3}\r\na\nb" },
	};
	struct buf	 b;
	char		*big;
	size_t		 i;

	(void)state;
	buf_init(&b, NULL, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc;

		buf_clear(&b);
		rc = cases[i].astring ?
		    imap_write_astring(&b, cases[i].s, cases[i].len,
		    cases[i].flags) :
		    imap_write_string(&b, cases[i].s, cases[i].len,
		    cases[i].flags);
		assert_int_equal(rc, 0);
		assert_string_equal(buf_cstr(&b), cases[i].want);
	}
	buf_clear(&b);
	assert_int_equal(imap_write_nstring(&b, NULL, 0, 0), 0);
	assert_int_equal(imap_write_nstring(&b, "x", 1, 0), 0);
	assert_string_equal(buf_cstr(&b), "NIL\"x\"");
	/* IMAP_QUOTED_MAX quoted, one more a literal. */
	big = repeat("", 'q', IMAP_QUOTED_MAX + 1, "");
	assert_false(imap_string_needs_literal(big, IMAP_QUOTED_MAX, 0));
	assert_true(imap_string_needs_literal(big, IMAP_QUOTED_MAX + 1, 0));
	buf_clear(&b);
	assert_int_equal(imap_write_string(&b, big, IMAP_QUOTED_MAX, 0), 0);
	assert_int_equal(b.data[0], '"');
	buf_clear(&b);
	assert_int_equal(imap_write_string(&b, big, IMAP_QUOTED_MAX + 1, 0),
	    0);
	assert_memory_equal(b.data, "{1025}\r\n", 8);
	free(big);
	buf_deinit(&b);
	/* A full buffer is left as it was. */
	buf_init(&b, NULL, 6);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(imap_write_string(&b, "abcd", 4, 0), BUF_EFULL);
	assert_string_equal(buf_cstr(&b), "ab");
	assert_int_equal(imap_write_string(&b, "a\nc", 3, 0), BUF_EFULL);
	assert_string_equal(buf_cstr(&b), "ab");
	assert_int_equal(imap_write_string(&b, "ab", 2, 0), 0);
	assert_string_equal(buf_cstr(&b), "ab\"ab\"");
	buf_deinit(&b);
}

/* ------------------------------------------------------------------ */
/* SEARCH                                                              */
/* ------------------------------------------------------------------ */

static const char *const skey_names[] = {
	[IMAP_SK_AND] = "AND", [IMAP_SK_OR] = "OR", [IMAP_SK_NOT] = "NOT",
	[IMAP_SK_SEQSET] = "SEQ", [IMAP_SK_UID] = "UID", [IMAP_SK_ALL] = "ALL",
	[IMAP_SK_ANSWERED] = "ANSWERED", [IMAP_SK_DELETED] = "DELETED",
	[IMAP_SK_DRAFT] = "DRAFT", [IMAP_SK_FLAGGED] = "FLAGGED",
	[IMAP_SK_NEW] = "NEW", [IMAP_SK_OLD] = "OLD",
	[IMAP_SK_RECENT] = "RECENT", [IMAP_SK_SEEN] = "SEEN",
	[IMAP_SK_UNANSWERED] = "UNANSWERED", [IMAP_SK_UNDELETED] = "UNDELETED",
	[IMAP_SK_UNDRAFT] = "UNDRAFT", [IMAP_SK_UNFLAGGED] = "UNFLAGGED",
	[IMAP_SK_UNSEEN] = "UNSEEN", [IMAP_SK_KEYWORD] = "KEYWORD",
	[IMAP_SK_UNKEYWORD] = "UNKEYWORD", [IMAP_SK_BCC] = "BCC",
	[IMAP_SK_BODY] = "BODY", [IMAP_SK_CC] = "CC", [IMAP_SK_FROM] = "FROM",
	[IMAP_SK_SUBJECT] = "SUBJECT", [IMAP_SK_TEXT] = "TEXT",
	[IMAP_SK_TO] = "TO", [IMAP_SK_HEADER] = "HEADER",
	[IMAP_SK_BEFORE] = "BEFORE", [IMAP_SK_ON] = "ON",
	[IMAP_SK_SINCE] = "SINCE", [IMAP_SK_SENTBEFORE] = "SENTBEFORE",
	[IMAP_SK_SENTON] = "SENTON", [IMAP_SK_SENTSINCE] = "SENTSINCE",
	[IMAP_SK_LARGER] = "LARGER", [IMAP_SK_SMALLER] = "SMALLER",
};

static void
dump_key(struct buf *b, const struct imap_search_key *k)
{
	size_t	 i;

	add(b, "%s", skey_names[k->type]);
	switch (k->type) {
	case IMAP_SK_AND:
		add(b, "(");
		for (i = 0; i < k->u.and.n; i++) {
			if (i > 0)
				add(b, " ");
			dump_key(b, &k->u.and.k[i]);
		}
		add(b, ")");
		break;
	case IMAP_SK_OR:
		add(b, "(");
		dump_key(b, k->u.sub[0]);
		add(b, ",");
		dump_key(b, k->u.sub[1]);
		add(b, ")");
		break;
	case IMAP_SK_NOT:
		add(b, "(");
		dump_key(b, k->u.sub[0]);
		add(b, ")");
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		if (k->u.set->saved)
			add(b, "[$]");
		else
			add(b, "[%zu]", k->u.set->n);
		break;
	case IMAP_SK_KEYWORD: case IMAP_SK_UNKEYWORD: case IMAP_SK_BCC:
	case IMAP_SK_BODY: case IMAP_SK_CC: case IMAP_SK_FROM:
	case IMAP_SK_SUBJECT: case IMAP_SK_TEXT: case IMAP_SK_TO:
		add(b, "[%s]", k->u.str);
		break;
	case IMAP_SK_HEADER:
		add(b, "[%s:%s]", k->u.header.name, k->u.header.value);
		break;
	case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE: case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE:
		add(b, "[%04u-%02u-%02u]", k->u.date.year, k->u.date.month,
		    k->u.date.day);
		break;
	case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
		add(b, "[%llu]", (unsigned long long)k->u.size);
		break;
	default:
		break;
	}
}

static void
test_search(void **state)
{
	static const struct {
		const char	*args;
		int		 rc;
		const char	*want;	/* tree, then |ret|charset */
	} cases[] = {
		{ "ALL", 0, "AND(ALL)" },
		{ "all", 0, "AND(ALL)" },
		{ "1:3 UNSEEN", 0, "AND(SEQ[1] UNSEEN)" },
		{ "1,5:* $", 0, "AND(SEQ[2] SEQ[$])" },
		{ "* 2", 0, "AND(SEQ[1] SEQ[1])" },
		{ "OR FROM a TO b", 0, "AND(OR(FROM[a],TO[b]))" },
		{ "OR OR SEEN DRAFT FLAGGED", 0,
		    "AND(OR(OR(SEEN,DRAFT),FLAGGED))" },
		{ "NOT (SEEN DELETED)", 0, "AND(NOT(AND(SEEN DELETED)))" },
		{ "(SEEN) ((DRAFT))", 0, "AND(AND(SEEN) AND(AND(DRAFT)))" },
		{ "HEADER Message-ID <x@y>", 0,
		    "AND(HEADER[Message-ID:<x@y>])" },
		{ "HEADER X-Foo \"\"", 0, "AND(HEADER[X-Foo:])" },
		{ "SINCE 1-Feb-2020 BEFORE \"28-Feb-2021\"", 0,
		    "AND(SINCE[2020-02-01] BEFORE[2021-02-28])" },
		{ "ON 1-feb-2020 SENTON 2-Feb-2020 SENTSINCE 3-Feb-2020 "
		    "SENTBEFORE 4-Feb-2020", 0,
		    "AND(ON[2020-02-01] SENTON[2020-02-02] SENTSINCE[2020-02-03]"
		    " SENTBEFORE[2020-02-04])" },
		{ "LARGER 100 SMALLER 9223372036854775807", 0,
		    "AND(LARGER[100] SMALLER[9223372036854775807])" },
		{ "UID 1:* UID $", 0, "AND(UID[1] UID[$])" },
		{ "KEYWORD $Junk UNKEYWORD foo", 0,
		    "AND(KEYWORD[$Junk] UNKEYWORD[foo])" },
		{ "ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN", 0,
		    "AND(ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN)" },
		{ "UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN", 0,
		    "AND(UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN)" },
		{ "BCC a BODY b CC c FROM d SUBJECT e TEXT f TO g", 0,
		    "AND(BCC[a] BODY[b] CC[c] FROM[d] SUBJECT[e] TEXT[f] "
		    "TO[g])" },
		{ "SUBJECT {6}\r\nh\xc3\xa9llo", 0, "AND(SUBJECT[h\xc3\xa9llo])" },
		{ "CHARSET UTF-8 SUBJECT x", 0, "AND(SUBJECT[x])|0|UTF-8" },
		{ "charset us-ascii ALL", 0, "AND(ALL)|0|US-ASCII" },
		{ "CHARSET \"utf-8\" ALL", 0, "AND(ALL)|0|UTF-8" },
		{ "RETURN (MIN MAX) ALL", 0, "AND(ALL)|3|" },
		{ "RETURN () ALL", 0, "AND(ALL)|4|" },
		{ "RETURN (COUNT ALL SAVE) CHARSET UTF-8 ALL", 0,
		    "AND(ALL)|28|UTF-8" },
		{ "", -1, NULL },
		{ "FOO", -1, NULL },
		{ "FROM", -1, NULL },
		{ "FROM (a)", -1, NULL },
		{ "HEADER X", -1, NULL },
		{ "SINCE 32-Jan-2020", -1, NULL },
		{ "SINCE {10}\r\n1-Jan-2020", -1, NULL },
		{ "LARGER x", -1, NULL },
		{ "LARGER 9223372036854775808", -1, NULL },
		{ "LARGER -1", -1, NULL },
		{ "CHARSET ISO-8859-1 ALL", IMAP_SEARCH_BADCHARSET, NULL },
		{ "CHARSET", -1, NULL },
		{ "CHARSET UTF-8", -1, NULL },
		{ "RETURN (FOO) ALL", -1, NULL },
		{ "RETURN ALL", -1, NULL },
		{ "RETURN (MIN)", -1, NULL },
		{ "KEYWORD \\Seen", -1, NULL },
		{ "KEYWORD \"x\"", -1, NULL },
		{ "OR ALL", -1, NULL },
		{ "NOT", -1, NULL },
		{ "()", -1, NULL },
		{ "UID", -1, NULL },
		{ "UID x", -1, NULL },
		{ "1:0", -1, NULL },
		{ "\"ALL\"", -1, NULL },
		{ "ALL CHARSET UTF-8", -1, NULL },
	};
	struct fix		 f = { 0 };
	struct imap_args	 args;
	const char		*err;
	struct buf		 b;
	char			 line[512];
	size_t			 i;

	(void)state;
	buf_init(&b, NULL, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc;

		assert_true((size_t)snprintf(line, sizeof(line), "SEARCH %s",
		    cases[i].args) < sizeof(line));
		rc = cmd1(&f, line, &args, &err);
		if (rc != cases[i].rc)
			fail_msg("SEARCH %s: rc %d (%s)", cases[i].args, rc,
			    err != NULL ? err : "");
		if (rc != 0)
			continue;
		buf_clear(&b);
		dump_key(&b, args.u.search.root);
		if (args.u.search.charset != NULL || args.u.search.esearch)
			add(&b, "|%u|%s", args.u.search.ret,
			    args.u.search.charset != NULL ?
			    args.u.search.charset : "");
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("SEARCH %s:\n got %s\nwant %s", cases[i].args,
			    buf_cstr(&b), cases[i].want);
		assert_int_equal(args.u.search.esearch,
		    strncmp(cases[i].args, "RETURN", 6) == 0);
	}
	buf_deinit(&b);
	fix_done(&f);
}

/* NOT nests one level per NOT: IMAP_SEARCH_DEPTH_MAX of them parse,
 * one more does not; the same for OR chains. */
static void
test_search_depth(void **state)
{
	struct fix		 f = { 0 };
	struct imap_args	 args;
	const char		*err;
	struct buf		 b;
	unsigned		 n, i;

	(void)state;
	buf_init(&b, NULL, 1 << 16);
	for (n = IMAP_SEARCH_DEPTH_MAX; n <= IMAP_SEARCH_DEPTH_MAX + 1; n++) {
		buf_clear(&b);
		add(&b, "SEARCH");
		for (i = 0; i < n; i++)
			add(&b, " NOT");
		add(&b, " ALL");
		assert_int_equal(cmd1(&f, buf_cstr(&b), &args, &err),
		    n <= IMAP_SEARCH_DEPTH_MAX ? 0 : -1);
		buf_clear(&b);
		add(&b, "SEARCH");
		for (i = 0; i < n; i++)
			add(&b, " OR SEEN");
		add(&b, " ALL");
		assert_int_equal(cmd1(&f, buf_cstr(&b), &args, &err),
		    n <= IMAP_SEARCH_DEPTH_MAX ? 0 : -1);
	}
	buf_deinit(&b);
	fix_done(&f);
}

/* ------------------------------------------------------------------ */
/* FETCH                                                               */
/* ------------------------------------------------------------------ */

static void
test_fetch(void **state)
{
	static const struct {
		const char	*args;
		const char	*want;	/* echo names, '|' separated; NULL:
					 * invalid. '!' marks peek */
	} cases[] = {
		{ "1 FLAGS", "FLAGS" },
		{ "1 (FLAGS UID)", "FLAGS|UID" },
		{ "1 (uid rfc822.size)", "UID|RFC822.SIZE" },
		{ "1 ALL", "FLAGS|INTERNALDATE|RFC822.SIZE|ENVELOPE" },
		{ "1 fast", "FLAGS|INTERNALDATE|RFC822.SIZE" },
		{ "1 FULL", "FLAGS|INTERNALDATE|RFC822.SIZE|ENVELOPE|BODY" },
		{ "1 (ENVELOPE BODYSTRUCTURE BODY RFC822 RFC822.HEADER "
		    "RFC822.TEXT INTERNALDATE)",
		    "ENVELOPE|BODYSTRUCTURE|BODY|RFC822|RFC822.HEADER|"
		    "RFC822.TEXT|INTERNALDATE" },
		{ "1 BODY[]", "BODY[]" },
		{ "1 body.peek[]", "!BODY[]" },
		{ "1 BODY[1.2.MIME]", "BODY[1.2.MIME]" },
		{ "1 BODY[1.header]", "BODY[1.HEADER]" },
		{ "1 BODY[TEXT]<5.10>", "BODY[TEXT]<5>" },
		{ "1 BODY[3]", "BODY[3]" },
		{ "1 BODY[HEADER.FIELDS (From To)]",
		    "BODY[HEADER.FIELDS (From To)]" },
		{ "1 BODY.PEEK[HEADER.FIELDS (\"Subject\" X-TUID)]",
		    "!BODY[HEADER.FIELDS (Subject X-TUID)]" },
		{ "1 BODY[2.HEADER.FIELDS.NOT (X-Foo)]<0.100>",
		    "BODY[2.HEADER.FIELDS.NOT (X-Foo)]<0>" },
		{ "1 BODY[]<0.100>", "BODY[]<0>" },
		{ "1 (BINARY[1] BINARY.PEEK[] BINARY.SIZE[1.2])",
		    "BINARY[1]|!BINARY[]|BINARY.SIZE[1.2]" },
		{ "1 BINARY[1]<0.5>", "BINARY[1]<0>" },
		{ "1 BODY[MIME]", NULL },
		{ "1 BODY[0]", NULL },
		{ "1 BODY[1.]", NULL },
		{ "1 BODY[01]", NULL },
		{ "1 BODY[.1]", NULL },
		{ "1 BODY[HEADER.FIELDS ()]", NULL },
		{ "1 BODY[HEADER.FIELDS]", NULL },
		{ "1 BODY[HEADER.FIELDS (a:b)]", NULL },
		{ "1 BODY[HEADER.FIELDS (a  b)]", NULL },
		{ "1 BODY[HEADER.FIELDS (a )]", NULL },
		{ "1 BODY[HEADER.FIELDS (\"\")]", NULL },
		{ "1 BODY[HEADER.FIELDS (a)x]", NULL },
		{ "1 BODY[FOO]", NULL },
		{ "1 BODY[]<0.0>", NULL },
		{ "1 BODY[]<0>", NULL },
		{ "1 BODY[]<.5>", NULL },
		{ "1 BODY[]x", NULL },
		{ "1 BINARY[TEXT]", NULL },
		{ "1 BINARY.SIZE[1]<0.1>", NULL },
		{ "1 BODY.PEEK", NULL },
		{ "1 RFC822.PEEK", NULL },
		{ "1 ()", NULL },
		{ "1 (ALL)", NULL },
		{ "1 FOO", NULL },
		{ "1 FLAGS UID", NULL },
		{ "1 (FLAGS) (CHANGEDSINCE 1)", NULL },
		{ "1 \"FLAGS\"", NULL },
		{ "1", NULL },
		{ "x FLAGS", NULL },
	};
	struct fix		 f = { 0 };
	struct imap_args	 args;
	const char		*err;
	struct buf		 b;
	char			 line[512];
	size_t			 i, j;

	(void)state;
	buf_init(&b, NULL, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc;

		assert_true((size_t)snprintf(line, sizeof(line), "FETCH %s",
		    cases[i].args) < sizeof(line));
		rc = cmd1(&f, line, &args, &err);
		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("FETCH %s should fail", cases[i].args);
			continue;
		}
		if (rc != 0)
			fail_msg("FETCH %s: %s", cases[i].args, err);
		buf_clear(&b);
		for (j = 0; j < args.u.fetch.atts.n; j++) {
			const struct imap_fetch_att *att =
			    &args.u.fetch.atts.att[j];

			add(&b, "%s%s%s", j > 0 ? "|" : "",
			    att->peek ? "!" : "", att->echo);
		}
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("FETCH %s:\n got %s\nwant %s", cases[i].args,
			    buf_cstr(&b), cases[i].want);
	}
	/* The typed fields of one. */
	assert_int_equal(cmd1(&f, "UID FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS "
	    "(A B)]<10.20> UID)", &args, &err), 0);
	{
		const struct imap_fetch_att *att = &args.u.fetch.atts.att[0];

		assert_true(args.uid);
		assert_int_equal(att->type, IMAP_FA_BODY_SECTION);
		assert_true(att->peek);
		assert_int_equal(att->npart, 2);
		assert_int_equal(att->part[0], 1);
		assert_int_equal(att->part[1], 2);
		assert_int_equal(att->sect, IMAP_SECT_HEADER_FIELDS);
		assert_int_equal(att->nfields, 2);
		assert_string_equal(att->fields[1], "B");
		assert_true(att->partial);
		assert_int_equal(att->origin, 10);
		assert_int_equal(att->count, 20);
		assert_int_equal(args.u.fetch.atts.att[1].type, IMAP_FA_UID);
		assert_int_equal(args.u.fetch.set->n, 1);
	}
	buf_deinit(&b);
	fix_done(&f);
}

/* ------------------------------------------------------------------ */
/* STORE, APPEND, flags                                                */
/* ------------------------------------------------------------------ */

static void
test_store(void **state)
{
	static const struct {
		const char	*args;
		int		 ok;
		enum imap_store_mode mode;
		bool		 silent;
		unsigned	 sys;
		const char	*kw;	/* space separated */
	} cases[] = {
		{ "1 FLAGS (\\Seen)", 1, IMAP_STORE_SET, false,
		    IMAP_FLAG_SEEN, "" },
		{ "1:* +FLAGS.SILENT (\\Deleted $Junk)", 1, IMAP_STORE_ADD,
		    true, IMAP_FLAG_DELETED, "$Junk" },
		{ "1 -flags \\seen \\DRAFT", 1, IMAP_STORE_REMOVE, false,
		    IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT, "" },
		{ "1 FLAGS ()", 1, IMAP_STORE_SET, false, 0, "" },
		{ "1 FLAGS (\\Answered \\Flagged \\Draft \\Seen \\Deleted)", 1,
		    IMAP_STORE_SET, false, 0x1f, "" },
		{ "1 FLAGS (a b a $Forwarded)", 1, IMAP_STORE_SET, false, 0,
		    "a b $Forwarded" },
		{ "1 FLAGS (\\Recent)", 0, 0, false, 0, NULL },
		{ "1 FLAGS (\\Foo)", 0, 0, false, 0, NULL },
		{ "1 FLAGS (\\*)", 0, 0, false, 0, NULL },
		{ "1 FLAGS (\"x\")", 0, 0, false, 0, NULL },
		{ "1 FLAGS (a%b)", 0, 0, false, 0, NULL },
		{ "1 FLAGS (a])", 0, 0, false, 0, NULL },
		{ "1 FLAGS ((a))", 0, 0, false, 0, NULL },
		{ "1 FLAGS", 0, 0, false, 0, NULL },
		{ "1 XFLAGS (\\Seen)", 0, 0, false, 0, NULL },
		{ "1 +FLAGS.NOISY (\\Seen)", 0, 0, false, 0, NULL },
		{ "1 FLAGS (\\Seen) x", 0, 0, false, 0, NULL },
		{ "1 (UNCHANGEDSINCE 1) FLAGS (\\Seen)", 0, 0, false, 0, NULL },
		{ "x FLAGS ()", 0, 0, false, 0, NULL },
		{ "1", 0, 0, false, 0, NULL },
	};
	struct fix		 f = { 0 };
	struct imap_args	 args;
	const char		*err;
	struct buf		 b;
	char			 line[512];
	size_t			 i, j;

	(void)state;
	buf_init(&b, NULL, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc;

		assert_true((size_t)snprintf(line, sizeof(line), "STORE %s",
		    cases[i].args) < sizeof(line));
		rc = cmd1(&f, line, &args, &err);
		if ((rc == 0) != cases[i].ok)
			fail_msg("STORE %s: rc %d", cases[i].args, rc);
		if (rc != 0)
			continue;
		assert_int_equal(args.u.store.mode, cases[i].mode);
		assert_int_equal(args.u.store.silent, cases[i].silent);
		assert_int_equal(args.u.store.flags.sys, cases[i].sys);
		buf_clear(&b);
		for (j = 0; j < args.u.store.flags.nkw; j++)
			add(&b, "%s%s", j > 0 ? " " : "",
			    args.u.store.flags.kw[j]);
		assert_string_equal(buf_cstr(&b), cases[i].kw);
	}
	buf_deinit(&b);
	fix_done(&f);
}

static void
test_append(void **state)
{
	struct fix		 f = { 0 };
	struct imap_args	 args;
	const char		*err;

	(void)state;
	assert_int_equal(cmd1(&f, "APPEND inbox {3}\r\nabc", &args, &err), 0);
	assert_string_equal(args.u.append.mailbox, "INBOX");
	assert_int_equal(args.u.append.n, 1);
	assert_int_equal(args.u.append.msgs[0].flags.sys, 0);
	assert_false(args.u.append.msgs[0].has_date);
	assert_string_equal(args.u.append.msgs[0].msg->str, "abc");

	assert_int_equal(cmd1(&f, "APPEND Sent (\\Seen $MDNSent) "
	    "\"17-Jul-1996 02:44:25 -0700\" {3+}\r\nabc", &args, &err), 0);
	assert_string_equal(args.u.append.mailbox, "Sent");
	assert_int_equal(args.u.append.msgs[0].flags.sys, IMAP_FLAG_SEEN);
	assert_int_equal(args.u.append.msgs[0].flags.nkw, 1);
	assert_true(args.u.append.msgs[0].has_date);
	assert_true(args.u.append.msgs[0].date == 837596665);
	assert_int_equal(args.u.append.msgs[0].date_tz, -420);

	assert_int_equal(cmd1(&f, "APPEND x \" 1-Jan-1970 00:00:00 +0000\" "
	    "{1}\r\na", &args, &err), 0);
	assert_true(args.u.append.msgs[0].has_date);
	assert_true(args.u.append.msgs[0].date == 0);

	/* MULTIAPPEND */
	assert_int_equal(cmd1(&f, "APPEND Foo {1}\r\na (\\Draft) {1}\r\nb "
	    "{1}\r\nc", &args, &err), 0);
	assert_int_equal(args.u.append.n, 3);
	assert_int_equal(args.u.append.msgs[1].flags.sys, IMAP_FLAG_DRAFT);
	assert_string_equal(args.u.append.msgs[2].msg->str, "c");

	assert_int_equal(cmd1(&f, "APPEND INBOX", &args, &err), -1);
	assert_int_equal(cmd1(&f, "APPEND INBOX (\\Seen)", &args, &err), -1);
	assert_int_equal(cmd1(&f, "APPEND INBOX \"bad\" {1}\r\na", &args,
	    &err), -1);
	assert_int_equal(cmd1(&f, "APPEND INBOX abc", &args, &err), -1);
	assert_int_equal(cmd1(&f, "APPEND INBOX \"abc\"", &args, &err), -1);
	assert_int_equal(cmd1(&f, "APPEND INBOX (\\Recent) {1}\r\na", &args,
	    &err), -1);
	assert_int_equal(cmd1(&f, "APPEND INBOX {1}\r\na x", &args, &err),
	    -1);
	assert_int_equal(cmd1(&f, "APPEND (a) {1}\r\na", &args, &err), -1);
	fix_done(&f);
}

/* ------------------------------------------------------------------ */
/* Mailbox commands                                                    */
/* ------------------------------------------------------------------ */

static void
test_list(void **state)
{
	static const struct {
		const char	*line;
		int		 ok;
		const char	*want;	/* ref|patterns|sel|ret|status|ext */
	} cases[] = {
		{ "LIST \"\" *", 1, "||*|0|0|0|0" },
		{ "LIST \"\" %", 1, "||%|0|0|0|0" },
		{ "LIST ~/Mail/ %/x]", 1, "~/Mail/||%/x]|0|0|0|0" },
		{ "LIST \"\" \"\"", 1, "|||0|0|0|0" },
		{ "LIST \"\" \"a b\"", 1, "||a b|0|0|0|0" },
		{ "LIST \"\" {5}\r\nIN*OX", 1, "||IN*OX|0|0|0|0" },
		{ "LIST (SUBSCRIBED) \"\" *", 1, "||*|1|0|0|1" },
		{ "LIST (special-use RECURSIVEMATCH) \"\" *", 1,
		    "||*|12|0|0|1" },
		{ "LIST (SUBSCRIBED REMOTE RECURSIVEMATCH) \"\" *", 1,
		    "||*|7|0|0|1" },
		{ "LIST () \"\" *", 1, "||*|0|0|0|1" },
		{ "LIST \"\" (INBOX Drafts)", 1, "||INBOX Drafts|0|0|0|1" },
		{ "LIST \"\" * RETURN (CHILDREN SPECIAL-USE)", 1,
		    "||*|0|6|0|1" },
		{ "LIST \"\" * RETURN (SUBSCRIBED)", 1, "||*|0|1|0|1" },
		{ "LIST \"\" * RETURN ()", 1, "||*|0|0|0|1" },
		{ "LIST \"\" * RETURN (STATUS (MESSAGES UNSEEN))", 1,
		    "||*|0|8|17|1" },
		{ "LIST \"\" % RETURN (CHILDREN STATUS (SIZE) SPECIAL-USE)", 1,
		    "||%|0|14|32|1" },
		{ "LSUB \"\" *", 1, "||*|0|0|0|0" },
		{ "LSUB Work %", 1, "Work||%|0|0|0|0" },
		{ "LIST (RECURSIVEMATCH) \"\" *", 0, NULL },
		{ "LIST (REMOTE RECURSIVEMATCH) \"\" *", 0, NULL },
		{ "LIST (FOO) \"\" *", 0, NULL },
		{ "LIST \"\" * RETURN (FOO)", 0, NULL },
		{ "LIST \"\" * RETURN (STATUS)", 0, NULL },
		{ "LIST \"\" * RETURN (STATUS ())", 0, NULL },
		{ "LIST \"\" * RETURN (STATUS (FOO))", 0, NULL },
		{ "LIST \"\" * RETURN", 0, NULL },
		{ "LIST \"\" * RETURN CHILDREN", 0, NULL },
		{ "LIST \"\"", 0, NULL },
		{ "LIST", 0, NULL },
		{ "LIST \"\" * extra", 0, NULL },
		{ "LIST \"\" ()", 0, NULL },
		{ "LIST \"\" (a (b))", 0, NULL },
		{ "LIST \"\" a\\b", 0, NULL },
		{ "LIST (a) b", 0, NULL },
		{ "LSUB \"\" (a)", 0, NULL },
		{ "LSUB (SUBSCRIBED) \"\" *", 0, NULL },
		{ "LSUB \"\" * RETURN ()", 0, NULL },
	};
	struct fix		 f = { 0 };
	struct imap_args	 args;
	const char		*err;
	struct buf		 b;
	size_t			 i, j;

	(void)state;
	buf_init(&b, NULL, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int rc = cmd1(&f, cases[i].line, &args, &err);

		if ((rc == 0) != cases[i].ok)
			fail_msg("%s: rc %d", cases[i].line, rc);
		if (rc != 0)
			continue;
		buf_clear(&b);
		add(&b, "%s||", args.u.list.ref);
		for (j = 0; j < args.u.list.npatterns; j++)
			add(&b, "%s%s", j > 0 ? " " : "",
			    args.u.list.patterns[j]);
		add(&b, "|%u|%u|%u|%d", args.u.list.sel, args.u.list.ret,
		    args.u.list.status, args.u.list.extended);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("%s:\n got %s\nwant %s", cases[i].line,
			    buf_cstr(&b), cases[i].want);
	}
	buf_deinit(&b);
	fix_done(&f);
}

static void
test_mailbox_cmds(void **state)
{
	struct fix		 f = { 0 };
	struct imap_args	 a;
	const char		*err;

	(void)state;
	/* STATUS */
	assert_int_equal(cmd1(&f, "STATUS inbox (MESSAGES UIDNEXT)", &a,
	    &err), 0);
	assert_string_equal(a.u.status.mailbox, "INBOX");
	assert_int_equal(a.u.status.items, IMAP_STATUS_MESSAGES |
	    IMAP_STATUS_UIDNEXT);
	assert_int_equal(cmd1(&f, "STATUS x (messages recent uidnext "
	    "uidvalidity unseen size)", &a, &err), 0);
	assert_int_equal(a.u.status.items, 0x3f);
	assert_int_equal(cmd1(&f, "STATUS x ()", &a, &err), -1);
	assert_int_equal(cmd1(&f, "STATUS x (FOO)", &a, &err), -1);
	assert_int_equal(cmd1(&f, "STATUS x", &a, &err), -1);
	assert_int_equal(cmd1(&f, "STATUS x MESSAGES", &a, &err), -1);
	assert_int_equal(cmd1(&f, "STATUS x (MESSAGES) y", &a, &err), -1);

	/* SELECT / EXAMINE with RFC 4466 parameters */
	assert_int_equal(cmd1(&f, "SELECT INBOX", &a, &err), 0);
	assert_int_equal(a.id, IMAP_CMD_SELECT);
	assert_int_equal(a.u.mbox.nparams, 0);
	assert_int_equal(cmd1(&f, "EXAMINE \"Foo Bar\"", &a, &err), 0);
	assert_int_equal(a.id, IMAP_CMD_EXAMINE);
	assert_string_equal(a.u.mbox.mailbox, "Foo Bar");
	assert_int_equal(cmd1(&f, "SELECT iNbOx (condstore)", &a, &err), 0);
	assert_string_equal(a.u.mbox.mailbox, "INBOX");
	assert_int_equal(a.u.mbox.nparams, 1);
	assert_string_equal(a.u.mbox.params[0].name, "CONDSTORE");
	assert_null(a.u.mbox.params[0].value);
	assert_int_equal(cmd1(&f, "SELECT x (QRESYNC (1 2) CONDSTORE)", &a,
	    &err), 0);
	assert_int_equal(a.u.mbox.nparams, 2);
	assert_int_equal(a.u.mbox.params[0].value->type, IMAP_ARG_LIST);
	assert_null(a.u.mbox.params[1].value);
	assert_int_equal(cmd1(&f, "SELECT x ()", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SELECT x (1)", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SELECT", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SELECT a b", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SELECT (a)", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SELECT a*", &a, &err), -1);
	assert_int_equal(CMDN(&f, "SELECT {3}\r\na\0b", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SELECT a]", &a, &err), 0);

	/* CREATE with SPECIAL-USE (RFC 6154) */
	assert_int_equal(cmd1(&f, "CREATE Archive (USE (\\Archive))", &a,
	    &err), 0);
	assert_string_equal(a.u.mbox.params[0].name, "USE");
	assert_int_equal(a.u.mbox.params[0].value->len, 1);
	assert_int_equal(cmd1(&f, "CREATE x", &a, &err), 0);

	/* one mailbox */
	assert_int_equal(cmd1(&f, "DELETE x", &a, &err), 0);
	assert_int_equal(cmd1(&f, "SUBSCRIBE x", &a, &err), 0);
	assert_int_equal(cmd1(&f, "UNSUBSCRIBE \"a b\"", &a, &err), 0);
	assert_string_equal(a.u.mbox.mailbox, "a b");
	assert_int_equal(cmd1(&f, "GETQUOTAROOT inbox", &a, &err), 0);
	assert_string_equal(a.u.mbox.mailbox, "INBOX");
	assert_int_equal(cmd1(&f, "DELETE", &a, &err), -1);
	assert_int_equal(cmd1(&f, "DELETE a b", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SUBSCRIBE (a)", &a, &err), -1);

	assert_int_equal(cmd1(&f, "RENAME a \"b c\"", &a, &err), 0);
	assert_string_equal(a.u.rename.from, "a");
	assert_string_equal(a.u.rename.to, "b c");
	assert_int_equal(cmd1(&f, "RENAME a", &a, &err), -1);
	assert_int_equal(cmd1(&f, "RENAME a b c", &a, &err), -1);

	/* COPY / MOVE / UID EXPUNGE */
	assert_int_equal(cmd1(&f, "COPY 1:3 Trash", &a, &err), 0);
	assert_string_equal(a.u.copy.mailbox, "Trash");
	assert_int_equal(cmd1(&f, "UID MOVE 1,2 \"Sent Items\"", &a, &err), 0);
	assert_true(a.uid);
	assert_int_equal(a.id, IMAP_CMD_MOVE);
	assert_int_equal(a.u.copy.set->n, 2);
	assert_int_equal(cmd1(&f, "COPY 1:3", &a, &err), -1);
	assert_int_equal(cmd1(&f, "COPY 0 x", &a, &err), -1);
	assert_int_equal(cmd1(&f, "MOVE 1 x y", &a, &err), -1);
	assert_int_equal(cmd1(&f, "UID EXPUNGE 1:5", &a, &err), 0);
	assert_int_equal(a.id, IMAP_CMD_EXPUNGE);
	assert_int_equal(a.u.copy.set->n, 1);
	assert_int_equal(cmd1(&f, "UID EXPUNGE", &a, &err), -1);
	assert_int_equal(cmd1(&f, "UID EXPUNGE 1 2", &a, &err), -1);
	assert_int_equal(cmd1(&f, "EXPUNGE", &a, &err), 0);
	assert_int_equal(cmd1(&f, "EXPUNGE 1", &a, &err), -1);
	fix_done(&f);
}

/* ------------------------------------------------------------------ */
/* Session commands                                                    */
/* ------------------------------------------------------------------ */

static void
test_login_auth(void **state)
{
	struct fix		 f = { 0 };
	struct imap_args	 a;
	const char		*err;

	(void)state;
	assert_int_equal(cmd1(&f, "LOGIN user pass", &a, &err), 0);
	assert_string_equal(a.u.login.user, "user");
	assert_string_equal(a.u.login.pass, "pass");
	assert_int_equal(cmd1(&f, "login \"us er\" {4}\r\np\"ss", &a, &err),
	    0);
	assert_string_equal(a.u.login.user, "us er");
	assert_string_equal(a.u.login.pass, "p\"ss");
	assert_int_equal(cmd1(&f, "LOGIN NIL NIL", &a, &err), 0);
	assert_string_equal(a.u.login.user, "NIL");
	assert_int_equal(cmd1(&f, "LOGIN user", &a, &err), -1);
	assert_int_equal(cmd1(&f, "LOGIN a b c", &a, &err), -1);
	assert_int_equal(cmd1(&f, "LOGIN (a) b", &a, &err), -1);
	assert_int_equal(CMDN(&f, "LOGIN a {3}\r\na\0b", &a, &err), -1);
	assert_int_equal(cmd1(&f, "LOGIN a\\b c", &a, &err), -1);

	assert_int_equal(cmd1(&f, "AUTHENTICATE plain", &a, &err), 0);
	assert_string_equal(a.u.auth.mech, "PLAIN");
	assert_null(a.u.auth.ir);
	assert_int_equal(cmd1(&f, "AUTHENTICATE PLAIN AGFAYg==", &a, &err), 0);
	assert_string_equal(a.u.auth.ir, "AGFAYg==");
	assert_int_equal(cmd1(&f, "AUTHENTICATE PLAIN =", &a, &err), 0);
	assert_string_equal(a.u.auth.ir, "");
	assert_int_equal(cmd1(&f, "AUTHENTICATE SCRAM-SHA-256", &a, &err), 0);
	assert_string_equal(a.u.auth.mech, "SCRAM-SHA-256");
	assert_int_equal(cmd1(&f, "AUTHENTICATE", &a, &err), -1);
	assert_int_equal(cmd1(&f, "AUTHENTICATE PLAIN a b", &a, &err), -1);
	assert_int_equal(cmd1(&f, "AUTHENTICATE PLAIN \"x\"", &a, &err), -1);
	assert_int_equal(cmd1(&f, "AUTHENTICATE PLAIN a*b", &a, &err), -1);
	assert_int_equal(cmd1(&f, "AUTHENTICATE \"PLAIN\"", &a, &err), -1);
	assert_int_equal(cmd1(&f, "AUTHENTICATE PL%N", &a, &err), -1);

	assert_int_equal(cmd1(&f, "ENABLE CONDSTORE utf8=accept", &a, &err),
	    0);
	assert_int_equal(a.u.enable.n, 2);
	assert_string_equal(a.u.enable.caps[0], "CONDSTORE");
	assert_string_equal(a.u.enable.caps[1], "UTF8=ACCEPT");
	assert_int_equal(cmd1(&f, "ENABLE", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ENABLE \"x\"", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ENABLE (x)", &a, &err), -1);
	fix_done(&f);
}

/* RFC 2971: 30 pairs, 30-octet names, 1024-octet values; one more of
 * each is refused. */
static void
test_id(void **state)
{
	struct fix		 f = { 0 };
	struct imap_args	 a;
	const char		*err;
	struct buf		 b;
	char			*s;
	unsigned		 n, i;

	(void)state;
	assert_int_equal(cmd1(&f, "ID NIL", &a, &err), 0);
	assert_int_equal(a.u.id.n, 0);
	assert_int_equal(cmd1(&f, "ID ()", &a, &err), 0);
	assert_int_equal(a.u.id.n, 0);
	assert_int_equal(cmd1(&f, "ID (\"name\" \"Thunderbird\" \"version\" "
	    "NIL {2}\r\nos \"Linux\")", &a, &err), 0);
	assert_int_equal(a.u.id.n, 3);
	assert_string_equal(a.u.id.keys[0], "name");
	assert_string_equal(a.u.id.values[0], "Thunderbird");
	assert_null(a.u.id.values[1]);
	assert_string_equal(a.u.id.keys[2], "os");
	assert_int_equal(cmd1(&f, "ID (\"name\")", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ID (name \"x\")", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ID (\"name\" x)", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ID", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ID NIL NIL", &a, &err), -1);
	assert_int_equal(cmd1(&f, "ID x", &a, &err), -1);

	buf_init(&b, NULL, 1 << 16);
	for (n = IMAP_ID_PAIRS_MAX; n <= IMAP_ID_PAIRS_MAX + 1; n++) {
		buf_clear(&b);
		add(&b, "ID (");
		for (i = 0; i < n; i++)
			add(&b, "%s\"k%u\" \"v\"", i > 0 ? " " : "", i);
		add(&b, ")");
		assert_int_equal(cmd1(&f, buf_cstr(&b), &a, &err),
		    n <= IMAP_ID_PAIRS_MAX ? 0 : -1);
	}
	for (n = IMAP_ID_KEY_MAX; n <= IMAP_ID_KEY_MAX + 1; n++) {
		s = repeat("", 'k', n, "");
		buf_clear(&b);
		add(&b, "ID (\"%s\" \"v\")", s);
		assert_int_equal(cmd1(&f, buf_cstr(&b), &a, &err),
		    n <= IMAP_ID_KEY_MAX ? 0 : -1);
		free(s);
	}
	for (n = IMAP_ID_VALUE_MAX; n <= IMAP_ID_VALUE_MAX + 1; n++) {
		s = repeat("", 'v', n, "");
		buf_clear(&b);
		add(&b, "ID (\"k\" \"%s\")", s);
		assert_int_equal(cmd1(&f, buf_cstr(&b), &a, &err),
		    n <= IMAP_ID_VALUE_MAX ? 0 : -1);
		free(s);
	}
	buf_deinit(&b);
	fix_done(&f);
}

static void
test_quota(void **state)
{
	struct fix		 f = { 0 };
	struct imap_args	 a;
	const char		*err;

	(void)state;
	assert_int_equal(cmd1(&f, "GETQUOTA \"\"", &a, &err), 0);
	assert_string_equal(a.u.quota.root, "");
	assert_int_equal(cmd1(&f, "SETQUOTA \"\" (storage 512 MESSAGE 1000)",
	    &a, &err), 0);
	assert_int_equal(a.u.quota.n, 2);
	assert_string_equal(a.u.quota.res[0].name, "STORAGE");
	assert_int_equal(a.u.quota.res[0].limit, 512);
	assert_string_equal(a.u.quota.res[1].name, "MESSAGE");
	assert_int_equal(cmd1(&f, "SETQUOTA \"\" ()", &a, &err), 0);
	assert_int_equal(a.u.quota.n, 0);
	assert_int_equal(cmd1(&f, "SETQUOTA \"\" (STORAGE)", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SETQUOTA \"\" (STORAGE x)", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SETQUOTA \"\" (STORAGE 1 2)", &a, &err),
	    -1);
	assert_int_equal(cmd1(&f, "SETQUOTA \"\"", &a, &err), -1);
	assert_int_equal(cmd1(&f, "SETQUOTA \"\" STORAGE 1", &a, &err), -1);
	assert_int_equal(cmd1(&f, "GETQUOTA", &a, &err), -1);
	assert_int_equal(cmd1(&f, "GETQUOTA a b", &a, &err), -1);
	fix_done(&f);
}

/* The table: states, UID, argument-less commands, unknown names. */
static void
test_cmd_table(void **state)
{
	static const char *const none[] = {
		"CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "NAMESPACE",
		"IDLE", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE",
	};
	static const struct {
		const char	*name;
		unsigned	 states;
		unsigned	 flags;
	} rows[] = {
		{ "CAPABILITY", IMAP_ST_ANY, 0 },
		{ "NOOP", IMAP_ST_ANY, 0 },
		{ "LOGOUT", IMAP_ST_ANY, 0 },
		{ "ID", IMAP_ST_ANY, 0 },
		{ "STARTTLS", IMAP_ST_NOAUTH, 0 },
		{ "AUTHENTICATE", IMAP_ST_NOAUTH, 0 },
		{ "LOGIN", IMAP_ST_NOAUTH, 0 },
		{ "ENABLE", IMAP_ST_AUTH, 0 },
		{ "SELECT", IMAP_ST_AUTHED, 0 },
		{ "EXAMINE", IMAP_ST_AUTHED, 0 },
		{ "CREATE", IMAP_ST_AUTHED, 0 },
		{ "DELETE", IMAP_ST_AUTHED, 0 },
		{ "RENAME", IMAP_ST_AUTHED, 0 },
		{ "SUBSCRIBE", IMAP_ST_AUTHED, 0 },
		{ "UNSUBSCRIBE", IMAP_ST_AUTHED, 0 },
		{ "LIST", IMAP_ST_AUTHED, 0 },
		{ "LSUB", IMAP_ST_AUTHED, 0 },
		{ "NAMESPACE", IMAP_ST_AUTHED, 0 },
		{ "STATUS", IMAP_ST_AUTHED, 0 },
		{ "APPEND", IMAP_ST_AUTHED, 0 },
		{ "IDLE", IMAP_ST_AUTHED, 0 },
		{ "GETQUOTA", IMAP_ST_AUTHED, 0 },
		{ "GETQUOTAROOT", IMAP_ST_AUTHED, 0 },
		{ "SETQUOTA", IMAP_ST_AUTHED, 0 },
		{ "CHECK", IMAP_ST_SELECTED, 0 },
		{ "CLOSE", IMAP_ST_SELECTED, 0 },
		{ "UNSELECT", IMAP_ST_SELECTED, 0 },
		{ "EXPUNGE", IMAP_ST_SELECTED, IMAP_CMDF_UID },
		{ "SEARCH", IMAP_ST_SELECTED, IMAP_CMDF_UID },
		{ "FETCH", IMAP_ST_SELECTED, IMAP_CMDF_UID },
		{ "STORE", IMAP_ST_SELECTED, IMAP_CMDF_UID },
		{ "COPY", IMAP_ST_SELECTED, IMAP_CMDF_UID },
		{ "MOVE", IMAP_ST_SELECTED, IMAP_CMDF_UID },
	};
	struct fix			 f = { 0 };
	struct imap_args		 a;
	struct imap_cmd			 c;
	const struct imap_cmd_def	*def;
	const char			*err;
	char				 line[64];
	size_t				 i, j;

	(void)state;
	assert_int_equal(imap_cmd_ndefs, N_ELEMENTS(rows));
	for (i = 0; i < N_ELEMENTS(rows); i++) {
		memset(&c, 0, sizeof(c));
		c.name = rows[i].name;
		def = imap_cmd_find(&c);
		assert_non_null(def);
		assert_string_equal(def->name, rows[i].name);
		assert_int_equal(def->states, rows[i].states);
		assert_int_equal(def->flags, rows[i].flags);
		assert_true((def->states & IMAP_ST_LOGOUT) == 0);
		c.uid = true;
		assert_true((imap_cmd_find(&c) != NULL) ==
		    ((rows[i].flags & IMAP_CMDF_UID) != 0));
		for (j = 0; j < i; j++)
			assert_true(imap_cmd_defs[j].id != def->id);
	}
	for (i = 0; i < N_ELEMENTS(none); i++) {
		assert_int_equal(cmd1(&f, none[i], &a, &err), 0);
		assert_true(snprintf(line, sizeof(line), "%s x", none[i]) > 0);
		assert_int_equal(cmd1(&f, line, &a, &err), -1);
		assert_non_null(err);
	}
	assert_int_equal(cmd1(&f, "FOO", &a, &err), -1);
	assert_string_equal(err, "Unknown command");
	assert_int_equal(cmd1(&f, "UID NOOP", &a, &err), -1);
	assert_int_equal(cmd1(&f, "UID FETCH 1 FLAGS", &a, &err), 0);
	assert_true(a.uid);
	assert_int_equal(cmd1(&f, "UID SEARCH ALL", &a, &err), 0);
	assert_int_equal(cmd1(&f, "UID STORE 1 FLAGS ()", &a, &err), 0);
	assert_int_equal(cmd1(&f, "UID COPY 1 x", &a, &err), 0);
	memset(&c, 0, sizeof(c));
	assert_null(imap_cmd_find(&c));		/* no name */
	fix_done(&f);
}

/* Getters on the argument types. */
static void
test_getters(void **state)
{
	struct fix		 f = { 0 };
	const struct imap_cmd	*c;
	const char		*s;
	uint64_t		 v;

	(void)state;
	c = read1(&f, "t X atom \"q\" {1}\r\nl NIL () 42 18446744073709551615 "
	    "a*b {3}\r\na\0b\r\n", 65);
	assert_non_null(c);
	assert_int_equal(c->nargs, 9);
	assert_int_equal(imap_arg_get_astring(&c->args[0], &s), 0);
	assert_int_equal(imap_arg_get_atom(&c->args[0], &s), 0);
	assert_int_equal(imap_arg_get_string(&c->args[0], &s), -1);
	assert_int_equal(imap_arg_get_string(&c->args[1], &s), 0);
	assert_int_equal(imap_arg_get_atom(&c->args[1], &s), -1);
	assert_int_equal(imap_arg_get_string(&c->args[2], &s), 0);
	assert_string_equal(s, "l");
	assert_int_equal(imap_arg_get_nstring(&c->args[3], &s), 0);
	assert_null(s);
	assert_int_equal(imap_arg_get_astring(&c->args[3], &s), 0);
	assert_string_equal(s, "NIL");
	assert_int_equal(imap_arg_get_atom(&c->args[3], &s), -1);
	assert_int_equal(imap_arg_get_astring(&c->args[4], &s), -1);
	assert_int_equal(imap_arg_get_nstring(&c->args[4], &s), -1);
	assert_int_equal(imap_arg_get_number(&c->args[5], 42, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(imap_arg_get_number(&c->args[5], 41, &v), -1);
	assert_int_equal(imap_arg_get_number(&c->args[6], UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(imap_arg_get_number(&c->args[1], 100, &v), -1);
	assert_int_equal(imap_arg_get_astring(&c->args[7], &s), -1);
	assert_int_equal(imap_arg_get_string(&c->args[8], &s), -1);
	assert_int_equal(imap_arg_get_astring(NULL, &s), -1);
	assert_true(imap_arg_atom_is(&c->args[0], "ATOM"));
	assert_false(imap_arg_atom_is(&c->args[1], "q"));
	assert_false(imap_arg_atom_is(NULL, "x"));
	assert_int_equal(imap_arg_get_mailbox(&c->args[0], &s), 0);
	assert_string_equal(s, "atom");
	fix_done(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_basic),
		cmocka_unit_test(test_reader_literals),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_reader_refuse),
		cmocka_unit_test(test_reader_line_mode),
		cmocka_unit_test(test_reader_sink),
		cmocka_unit_test(test_limit_line),
		cmocka_unit_test(test_limit_literal),
		cmocka_unit_test(test_limit_depth_args),
		cmocka_unit_test(test_reader_memory),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_seqset_resolve),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_write_datetime),
		cmocka_unit_test(test_write_strings),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_search_depth),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_mailbox_cmds),
		cmocka_unit_test(test_login_auth),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_cmd_table),
		cmocka_unit_test(test_getters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
