/* test_mime.c - core/mail/mime.c, mime_search.c and imapfmt.c: the MIME
 * tree and IMAP sizes, BODYSTRUCTURE / BODY / ENVELOPE text for shapes
 * whose expected answers were taken from Dovecot 2.3.19 (Debian 12, the
 * oracle of tests/integration/test_mime_dovecot.py), the limits at N and
 * N+1 (nesting depth, number of parts, boundary length), section syntax
 * and the streaming CRLF reader (chunk sizes, partials, NULs), the IMAP
 * quoting rules, and the SEARCH helpers: RFC 2047 decoding, charsets,
 * case folding, body text (base64, quoted-printable), addresses, dates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/imapfmt.h"
#include "aviary/mem.h"
#include "aviary/mime.h"

struct shape {
	const char	*name;
	const char	*msg;
	size_t		 len;
	uint64_t	 size;		/* RFC822.SIZE */
	const char	*bodystructure;
	const char	*body;
};

struct addr_case {
	const char	*in;
	const char	*out;	/* the envelope's address list */
};

/* Generated from Dovecot's answers (see the file comment). */
static const struct shape shapes[] = {
	{ "simple LF",
	    "From: a@example.com\nSubject: hi\n\nbody\n", 38,
	    42,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)" },
	{ "CRLF",
	    "From: a@example.com\r\nSubject: hi\r\n\r\nline1\r\nline2\r\n", 50,
	    50,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2)" },
	{ "no header",
	    "\nbody only\n", 11,
	    13,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 1 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 1)" },
	{ "empty",
	    "", 0,
	    0,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)" },
	{ "header only, no LF",
	    "From: a@example.com\nSubject: x", 30,
	    31,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)" },
	{ "no final LF",
	    "Subject: x\n\nlast line", 21,
	    23,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0)" },
	{ "bare CR",
	    "Subject: a\rb\n\nx\ry\n", 18,
	    21,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 1)" },
	{ "preamble epilogue",
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\npre\n--b\n\none\n--b\nContent-Type: text/html\n\n<p>2</p>\n--b--\nepi\n", 122,
	    135,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0) \"mixed\")" },
	{ "nested",
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; boundary=i\n\n--i\n\na\n--i\nContent-Type: text/html\n\nb\n--i--\n--o\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAAA\n--o--\n", 214,
	    233,
	    "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"i\") NIL NIL NIL)(\"image\" \"png\" NIL NIL NIL \"base64\" 4 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"o\") NIL NIL NIL)",
	    "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"alternative\")(\"image\" \"png\" NIL NIL NIL \"base64\" 4) \"mixed\")" },
	{ "rfc822",
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nFrom: In <in@example.com>\nSubject: inner\n\ninner body\n--x--\n", 136,
	    146,
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 55 (NIL \"inner\" ((\"In\" NIL \"in\" \"example.com\")) ((\"In\" NIL \"in\" \"example.com\")) ((\"In\" NIL \"in\" \"example.com\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"x\") NIL NIL NIL)",
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 55 (NIL \"inner\" ((\"In\" NIL \"in\" \"example.com\")) ((\"In\" NIL \"in\" \"example.com\")) ((\"In\" NIL \"in\" \"example.com\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0) 3) \"mixed\")" },
	{ "digest",
	    "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\n1\n--d\nContent-Type: text/plain\n\n2\n--d--\n", 103,
	    115,
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 17 (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"digest\" (\"boundary\" \"d\") NIL NIL NIL)",
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 17 (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) 2)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"digest\")" },
	{ "missing boundary",
	    "Content-Type: multipart/mixed\n\n--x\n\nhi\n", 39,
	    44,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"mixed\" NIL NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")" },
	{ "unclosed",
	    "Content-Type: multipart/mixed; boundary=u\n\n--u\n\nfirst\n--u\n\nsecond\n", 66,
	    74,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"u\") NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 1) \"mixed\")" },
	{ "empty line then boundary",
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n--b\n\nx\n--b--\n", 86,
	    95,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"mixed\")" },
	{ "header cut by boundary",
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n--b\n\nx\n--b--\n", 89,
	    97,
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) 0 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)",
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"mixed\")" },
	{ "bad content types",
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text\n\na\n--b\nContent-Type: text/plain x\n\nb\n--b\nContent-Type: multipart; boundary=c\n\nc\n--b--\n", 152,
	    167,
	    "((\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL)(\"\" \"\" NIL NIL NIL \"7bit\" 1 NIL NIL NIL NIL)(\"\" \"\" NIL NIL NIL \"7bit\" 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)",
	    "((\"text\" \"\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0)(\"\" \"\" NIL NIL NIL \"7bit\" 1)(\"\" \"\" NIL NIL NIL \"7bit\" 1) \"mixed\")" },
	{ "rfc2231",
	    "Content-Type: application/x; name*=utf-8''%41; a*0=1; a*1=2; b*1=x\n\nx\n", 70,
	    73,
	    "(\"application\" \"x\" (\"a\" \"12\" \"b*1\" \"x\" \"name*\" \"utf-8''%41\") NIL NIL \"7bit\" 3 NIL NIL NIL NIL)",
	    "(\"application\" \"x\" (\"a\" \"12\" \"b*1\" \"x\" \"name*\" \"utf-8''%41\") NIL NIL \"7bit\" 3)" },
	{ "8-bit param",
	    "Content-Type: text/plain; name=\"Gr\xc3""\xbc""\xc3""\x9f""e\"\n\nx\n", 44,
	    47,
	    "(\"text\" \"plain\" (\"name\" {7}\r\nGr\xc3""\xbc""\xc3""\x9f""e \"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"name\" {7}\r\nGr\xc3""\xbc""\xc3""\x9f""e \"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)" },
	{ "extension fields",
	    "Content-Type: text/plain\nContent-Language: en, de\nContent-Location: http://x/y\nContent-MD5: abc=\nContent-ID: <id@x>\nContent-Description: desc\nContent-Disposition: attachment; filename=a.txt\n\nx\n", 193,
	    202,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") \"<id@x>\" \"desc\" \"7bit\" 3 1 \"abc=\" (\"attachment\" (\"filename\" \"a.txt\")) (\"en\" \"de\") \"http://x/y\")",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") \"<id@x>\" \"desc\" \"7bit\" 3 1)" },
	{ "no MIME-Version",
	    "Content-Transfer-Encoding: base64\n\naGk=\n", 40,
	    43,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)" },
	{ "boundary prefix",
	    "Content-Type: multipart/mixed; boundary=ab\n\n--ab\nContent-Type: multipart/mixed; boundary=abc\n\n--abc\n\nx\n--ab--\n", 110,
	    119,
	    "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"abc\") NIL NIL NIL) \"mixed\" (\"boundary\" \"ab\") NIL NIL NIL)",
	    "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) \"mixed\") \"mixed\")" },
	{ "upper case",
	    "CONTENT-TYPE: TEXT/PLAIN; CHARSET=UTF-8\nCONTENT-TRANSFER-ENCODING: BASE64\n\nAA==\n", 80,
	    84,
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"BASE64\" 6 1 NIL NIL NIL NIL)",
	    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"BASE64\" 6 1)" },
	{ "root message/rfc822",
	    "Content-Type: message/rfc822\n\nSubject: in\n\nbody\n", 48,
	    53,
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 21 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)",
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 21 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1) 3)" },
	{ "quoting",
	    "Subject: \"a\" \\ b\nFrom: \"J\\\"D\" <j@x>\nContent-Type: text/plain; n=\"a\\\"b\\\\c\"; m=\"\\\"\\\"\\\"\\\"\\\"\"\n\nx\n", 93,
	    98,
	    "(\"text\" \"plain\" (\"n\" \"a\\\"b\\\\c\" \"m\" {5}\r\n\"\"\"\"\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"n\" \"a\\\"b\\\\c\" \"m\" {5}\r\n\"\"\"\"\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)" },
};
static const struct addr_case addr_cases[] = {
	{ "a@example.com", "((NIL NIL \"a\" \"example.com\"))" },
	{ "Alice <a@example.com>", "((\"Alice\" NIL \"a\" \"example.com\"))" },
	{ "\"Doe, J\" <d@x>", "((\"Doe, J\" NIL \"d\" \"x\"))" },
	{ "a@x (Comment)", "((\"Comment\" NIL \"a\" \"x\"))" },
	{ "G: a@x, B <b@y>;", "((NIL NIL \"G\" NIL)(NIL NIL \"a\" \"x\")(\"B\" NIL \"b\" \"y\")(NIL NIL NIL NIL))" },
	{ "U:;", "((NIL NIL \"U\" NIL)(NIL NIL NIL NIL))" },
	{ "<@r1,@r2:u@h>", "((NIL \"@r1,@r2\" \"u\" \"h\"))" },
	{ "localonly", "((NIL NIL \"localonly\" \"MISSING_DOMAIN\"))" },
	{ "@nodomain", "((NIL NIL \"MISSING_MAILBOX\" \"nodomain\"))" },
	{ "user@", "((NIL NIL \"user\" \"MISSING_DOMAIN\"))" },
	{ "<>", "((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))" },
	{ "\"Name Only\"", "((\"Name Only\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))" },
	{ ".a@b", "((NIL NIL \".a\" \"b\"))" },
	{ "a@b.", "((NIL NIL \"a\" \"MISSING_DOMAIN\"))" },
	{ "Mr. Smith@x", "(({9}\r\nMr. Smith NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))" },
	{ "=?utf-8?q?J=C3=BC?= <j@x>", "((\"=?utf-8?q?J=C3=BC?=\" NIL \"j\" \"x\"))" },
	{ "a@b, c@d,", "((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\"))" },
	{ "x <a@[1.2.3.4]>", "((\"x\" NIL \"a\" \"[1.2.3.4]\"))" },
	{ "  ", "NIL" },
	{ "(only comment)", "NIL" },
	{ "\"unterminated <a@b>", "((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))" },
	{ "a@b (x\\\n y", "(({2}\r\nx\\ NIL \"a\" \"MISSING_DOMAIN\"))" },
	{ "x (a\\)b) <y@z>", "((\"x\" NIL \"y\" \"z\"))" },
	{ "<a@b", "((NIL NIL \"a\" \"SYNTAX_ERROR\"))" },
};

static struct arena *A;

static int
setup(void **state)
{
	(void)state;
	A = arena_create(65536);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	arena_destroy(&A);
	return 0;
}

/* The BODYSTRUCTURE (extended) or BODY text of a part, in A. */
static const char *
bs(const struct mime_part *p, bool ext)
{
	struct buf	 b;

	buf_init(&b, A, 1 << 26);
	assert_int_equal(imap_bodystructure_write(&b, A, p, ext), 0);
	return buf_cstr(&b);
}

static void
test_shapes(void **state)
{
	const struct mime_msg	*m;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(shapes); i++) {
		arena_reset(A);
		m = mime_parse(A, shapes[i].msg, shapes[i].len);
		if (mime_msg_vsize(m) != shapes[i].size ||
		    strcmp(bs(m->root, true), shapes[i].bodystructure) != 0 ||
		    strcmp(bs(m->root, false), shapes[i].body) != 0)
			fail_msg("%s: size %llu\n%s\n%s", shapes[i].name,
			    (unsigned long long)mime_msg_vsize(m),
			    bs(m->root, true), bs(m->root, false));
	}
}

static void
test_addresses(void **state)
{
	struct mime_envelope	 env;
	struct buf		 b;
	char			 want[512];
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(addr_cases); i++) {
		arena_reset(A);
		memset(&env, 0, sizeof(env));
		env.addr[MIME_ENV_TO] = mime_addr_parse(A, addr_cases[i].in,
		    strlen(addr_cases[i].in));
		buf_init(&b, A, 65536);
		assert_int_equal(imap_envelope_write(&b, &env), 0);
		(void)snprintf(want, sizeof(want),
		    "(NIL NIL NIL NIL NIL %s NIL NIL NIL NIL)", addr_cases[i].out);
		if (strcmp(buf_cstr(&b), want) != 0)
			fail_msg("%s:\n got %s\nwant %s", addr_cases[i].in,
			    buf_cstr(&b), want);
	}
}

static void
test_envelope(void **state)
{
	static const char msg[] =
	    "Date: Mon,\n 7 Feb 1994 21:52:25 -0800\n"
	    "Subject:  a  \"folded\"\n\tsubject \n"
	    "From: A <a@x>\nFrom: b@y\nReply-To:\nSender: \n"
	    "Message-ID:\n <id@x>\nIn-Reply-To: <p@x>\r<q@x>\n"
	    "Subject: second\x00wins\n\nbody\n";
	const struct mime_msg	*m;
	struct mime_envelope	 env;
	struct buf		 b;

	(void)state;
	m = mime_parse(A, msg, sizeof(msg) - 1);
	mime_envelope_get(A, m->root, &env);
	buf_init(&b, A, 65536);
	assert_int_equal(imap_envelope_write(&b, &env), 0);
	/* last Subject wins, NUL as U+FFFD (8-bit: a literal); addresses
	 * of both From fields; empty Reply-To and Sender fall back to
	 * From; Message-ID keeps the space of its folded line */
	assert_string_equal(buf_cstr(&b), "(\"Mon, 7 Feb 1994 21:52:25 -0800\" "
	    "{13}\r\nsecond\xef\xbf\xbdwins "
	    "((\"A\" NIL \"a\" \"x\")(NIL NIL \"b\" \"y\")) "
	    "((\"A\" NIL \"a\" \"x\")(NIL NIL \"b\" \"y\")) "
	    "((\"A\" NIL \"a\" \"x\")(NIL NIL \"b\" \"y\")) "
	    "NIL NIL NIL \"<p@x> <q@x>\" \" <id@x>\")");
	/* no envelope headers at all */
	m = mime_parse(A, "", 0);
	mime_envelope_get(A, m->root, &env);
	buf_clear(&b);
	assert_int_equal(imap_envelope_write(&b, &env), 0);
	assert_string_equal(buf_cstr(&b),
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

struct qcase {
	const char	*in;
	const char	*out;
};

static void
test_quoting(void **state)
{
	static const struct qcase nstr[] = {
		{ NULL, "NIL" },
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "\"\"\"\"", "\"\\\"\\\"\\\"\\\"\"" },	/* 4 escapes: N */
		{ "\"\"\"\"\"", "{5}\r\n\"\"\"\"\"" },	/* 5: literal */
		{ "a\rb", "{3}\r\na\rb" },
		{ "a\nb", "{3}\r\na\nb" },
		{ "\xc3\xa9", "{2}\r\n\xc3\xa9" },
		{ "NIL", "\"NIL\"" },
	};
	static const struct qcase nolf[] = {
		{ NULL, "NIL" },
		{ "a\r\n b", "\"a b\"" },
		{ "a\r\n\tb", "\"a\tb\"" },
		{ "a\rb", "\"a b\"" },
		{ "a\nb\n", "\"a b\"" },
		{ "\r\n <x>", "\" <x>\"" },
	};
	static const struct qcase humans[] = {
		{ "simple text", "\"simple text\"" },
		{ "", "\"\"" },
		{ "   ", "\"\"" },
		{ " lead", "{4}\r\nlead" },
		{ "trail ", "{5}\r\ntrail" },
		{ "a  b", "{3}\r\na b" },
		{ "a\tb", "{3}\r\na b" },
		{ "a\r\n b", "{3}\r\na b" },
		{ "say \"hi\"", "{8}\r\nsay \"hi\"" },
		{ "=?utf-8?q?x?=", "\"=?utf-8?q?x?=\"" },
		{ "\xc3\xa9t\xc3\xa9", "{5}\r\n\xc3\xa9t\xc3\xa9" },
	};
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b, A, 4096);
	for (i = 0; i < N_ELEMENTS(nstr); i++) {
		buf_clear(&b);
		assert_int_equal(imap_append_nstring(&b, nstr[i].in), 0);
		assert_string_equal(buf_cstr(&b), nstr[i].out);
	}
	for (i = 0; i < N_ELEMENTS(nolf); i++) {
		buf_clear(&b);
		assert_int_equal(imap_append_nstring_nolf(&b, nolf[i].in), 0);
		assert_string_equal(buf_cstr(&b), nolf[i].out);
	}
	for (i = 0; i < N_ELEMENTS(humans); i++) {
		buf_clear(&b);
		assert_int_equal(imap_append_string_for_humans(&b, humans[i].in,
		    strlen(humans[i].in)), 0);
		assert_string_equal(buf_cstr(&b), humans[i].out);
	}
	/* a full buf: -1 and nothing changed */
	buf_init(&b, A, 6);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(imap_append_nstring(&b, "long text"), -1);
	assert_string_equal(buf_cstr(&b), "ab");
}

/* K nested multiparts around a text leaf. */
static const struct mime_msg *
nested_multiparts(unsigned k)
{
	struct buf	 b;
	unsigned	 i;

	buf_init(&b, A, 1 << 20);
	assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed; "
	    "boundary=b000\n\n"), 0);
	for (i = 1; i < k; i++)
		assert_int_equal(buf_printf(&b, "--b%03u\nContent-Type: "
		    "multipart/mixed; boundary=b%03u\n\n", i - 1, i), 0);
	assert_int_equal(buf_printf(&b, "--b%03u\n\nleaf\n", k - 1), 0);
	for (i = k; i-- > 0;)
		assert_int_equal(buf_printf(&b, "--b%03u--\n", i), 0);
	return mime_parse(A, b.data, b.len);
}

static const struct mime_part *
deepest(const struct mime_msg *m)
{
	const struct mime_part *p = m->root;

	while (p->children != NULL)
		p = p->children;
	return p;
}

static void
test_limit_depth(void **state)
{
	const struct mime_msg	*m;
	const struct mime_part	*p;
	struct buf		 b;
	unsigned		 i;

	(void)state;
	/* N: containers at depths 0..MIME_MAX_DEPTH-2, the leaf at the
	 * last level */
	m = nested_multiparts(MIME_MAX_DEPTH - 1);
	p = deepest(m);
	assert_int_equal(p->depth, MIME_MAX_DEPTH - 1);
	assert_true((p->flags & MIME_PART_TEXT) != 0);
	assert_int_equal(m->nparts, MIME_MAX_DEPTH);
	/* N+1: the multipart at the last level holds nothing */
	m = nested_multiparts(MIME_MAX_DEPTH);
	p = deepest(m);
	assert_int_equal(p->depth, MIME_MAX_DEPTH - 1);
	assert_int_equal(p->flags & MIME_PART_MULTIPART, 0);
	assert_int_equal(m->nparts, MIME_MAX_DEPTH);
	assert_non_null(strstr(bs(p, true), "\"application\" \"octet-stream\" "
	    "(\"boundary\" \"b099\")"));

	/* the same with message/rfc822 */
	for (i = MIME_MAX_DEPTH - 1; i <= MIME_MAX_DEPTH; i++) {
		unsigned j;

		arena_reset(A);
		buf_init(&b, A, 1 << 20);
		for (j = 0; j < i; j++)
			assert_int_equal(buf_append_str(&b,
			    "Content-Type: message/rfc822\n\n"), 0);
		assert_int_equal(buf_append_str(&b, "Subject: leaf\n\nx\n"),
		    0);
		m = mime_parse(A, b.data, b.len);
		p = deepest(m);
		assert_int_equal(p->depth, MIME_MAX_DEPTH - 1);
		if (i < MIME_MAX_DEPTH)
			assert_true((p->flags & MIME_PART_TEXT) != 0);
		else
			assert_non_null(strstr(bs(p, true),
			    "\"application\" \"octet-stream\" NIL"));
	}
}

static const struct mime_msg *
many_parts(unsigned n)
{
	struct buf	 b;
	unsigned	 i;

	buf_init(&b, A, 1 << 22);
	assert_int_equal(buf_append_str(&b,
	    "Content-Type: multipart/mixed; boundary=m\n\n"), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "--m\n\n%u\n", i), 0);
	assert_int_equal(buf_append_str(&b, "--m--\n"), 0);
	return mime_parse(A, b.data, b.len);
}

static const struct mime_part *
last_child(const struct mime_part *p)
{
	for (p = p->children; p->next != NULL; p = p->next)
		;
	return p;
}

static void
test_limit_parts(void **state)
{
	const struct mime_msg	*m;

	(void)state;
	/* N = MIME_MAX_PARTS - 1 parts: each child is its own */
	m = many_parts(MIME_MAX_PARTS - 2);
	assert_int_equal(m->nparts, MIME_MAX_PARTS - 1);
	assert_int_equal(last_child(m->root)->body.phys, 4);	/* "9997" */
	/* N+1: the MIME_MAX_PARTS-th part takes the rest of the message,
	 * the closing boundary included (Dovecot, checked) */
	arena_reset(A);
	m = many_parts(MIME_MAX_PARTS - 1);
	assert_int_equal(m->nparts, MIME_MAX_PARTS);
	assert_int_equal(last_child(m->root)->body.phys,
	    strlen("9998\n--m--\n"));
	/* and no part more after that */
	arena_reset(A);
	m = many_parts(MIME_MAX_PARTS);
	assert_int_equal(m->nparts, MIME_MAX_PARTS);
	assert_int_equal(m->root->nchildren, MIME_MAX_PARTS - 1);
	assert_int_equal(last_child(m->root)->body.phys,
	    strlen("9998\n--m\n\n9999\n--m--\n"));
}

static void
test_limit_boundary(void **state)
{
	char			 msg[512], bnd[MIME_BOUNDARY_MAX + 2];
	const struct mime_msg	*m;
	int			 n;

	(void)state;
	/* N bytes: the closing line closes; N+1: only the first N count,
	 * so "--B...B--" is an opening line plus junk and starts a part */
	memset(bnd, 'B', sizeof(bnd));
	bnd[MIME_BOUNDARY_MAX] = '\0';
	n = snprintf(msg, sizeof(msg), "Content-Type: multipart/mixed; "
	    "boundary=\"%s\"\n\n--%s\n\none\n--%s--\n", bnd, bnd, bnd);
	m = mime_parse(A, msg, (size_t)n);
	assert_int_equal(m->root->nchildren, 1);
	bnd[MIME_BOUNDARY_MAX] = 'B';
	bnd[MIME_BOUNDARY_MAX + 1] = '\0';
	n = snprintf(msg, sizeof(msg), "Content-Type: multipart/mixed; "
	    "boundary=\"%s\"\n\n--%s\n\none\n--%s--\n", bnd, bnd, bnd);
	m = mime_parse(A, msg, (size_t)n);
	assert_int_equal(m->root->nchildren, 2);
}

/* Dovecot reads at most 128 parameters (attempts, good or bad): the
 * 128th is kept, the 129th is not. */
static void
test_limit_params(void **state)
{
	const struct mime_msg	*m;
	struct buf		 b;
	unsigned		 n, i;

	(void)state;
	for (n = 128; n <= 129; n++) {
		arena_reset(A);
		buf_init(&b, A, 65536);
		assert_int_equal(buf_append_str(&b, "Content-Type: a/b"), 0);
		for (i = 0; i < n; i++)
			assert_int_equal(buf_printf(&b, "; p%u=v", i), 0);
		assert_int_equal(buf_append_str(&b, "\n\nx\n"), 0);
		m = mime_parse(A, b.data, b.len);
		assert_int_equal(m->root->nparams, 128);
		/* failed attempts count the same */
		buf_init(&b, A, 65536);
		assert_int_equal(buf_printf(&b, "Content-Type: a/b; x %.*s; "
		    "last=1\n\nx\n", (int)n - 1, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"), 0);
		m = mime_parse(A, b.data, b.len);
		assert_int_equal(m->root->nparams, n == 128 ? 1 : 0);
	}
}

static void
test_sizes(void **state)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=s\r\n\r\n"	/* 45 */
	    "--s\r\n"
	    "X: lf\n\nab\ncd\n"		/* hdr 7 (1 line), body 5 */
	    "\r\n--s\n"
	    "\r\nx\ry\r\n"		/* hdr 2 (CRLF), body 5 */
	    "--s--";
	const struct mime_msg	*m;
	const struct mime_part	*p;

	(void)state;
	m = mime_parse(A, msg, sizeof(msg) - 1);
	assert_int_equal(m->root->hdr.phys, 45);
	assert_int_equal(m->root->hdr.vsize, 45);
	assert_int_equal(m->root->hdr.lines, 2);
	p = m->root->children;
	assert_int_equal(p->hdr_off, 50);
	assert_int_equal(p->hdr.phys, 7);
	assert_int_equal(p->hdr.vsize, 9);
	assert_int_equal(p->hdr.lines, 2);
	/* "ab\ncd\n": the CRLF before the boundary is the boundary's */
	assert_int_equal(p->body.phys, 6);
	assert_int_equal(p->body.vsize, 8);
	assert_int_equal(p->body.lines, 2);
	p = p->next;
	assert_int_equal(p->hdr.phys, 2);
	assert_int_equal(p->hdr.vsize, 2);
	/* "x\ry" and the LF before "--s--" is the boundary's */
	assert_int_equal(p->body.phys, 3);
	assert_int_equal(p->body.lines, 0);
	assert_int_equal(mime_msg_vsize(m), sizeof(msg) - 1 + 5);	/* bare LFs */
	assert_int_equal(m->root->body.phys + m->root->hdr.phys,
	    sizeof(msg) - 1);
}

static void
test_part_find(void **state)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=x\n\n"
	    "--x\n\none\n"
	    "--x\nContent-Type: message/rfc822\n\n"
	    "Content-Type: multipart/alternative; boundary=y\n\n"
	    "--y\n\ntwo.one\n--y\n\ntwo.two\n--y--\n"
	    "--x--\n";
	static const struct {
		unsigned	 path[4];
		size_t		 n;
		const char	*body;	/* NULL: no such part */
	} cases[] = {
		{ { 1 }, 1, "one" },
		{ { 2, 1 }, 2, "two.one" },
		{ { 2, 2 }, 2, "two.two" },
		{ { 2, 3 }, 2, NULL },
		{ { 3 }, 1, NULL },
		{ { 1, 1 }, 2, "one" },	/* Dovecot: "1" again */
		{ { 2, 1, 1 }, 3, "two.one" },
		{ { 2, 1, 2 }, 3, NULL },
	};
	const struct mime_msg	*m;
	const struct mime_part	*p;
	size_t			 i;

	(void)state;
	m = mime_parse(A, msg, sizeof(msg) - 1);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		p = mime_part_find(m, cases[i].path, cases[i].n);
		if (cases[i].body == NULL) {
			if (p != NULL)
				fail_msg("case %zu: a part", i);
			continue;
		}
		if (p == NULL)
			fail_msg("case %zu: no part", i);
		assert_int_equal(p->body.phys, strlen(cases[i].body));
		assert_memory_equal(m->data + p->hdr_off + p->hdr.phys,
		    cases[i].body, strlen(cases[i].body));
	}
	/* "1" of a single-part message is the message */
	m = mime_parse(A, "Subject: s\n\nbody\n", 17);
	assert_ptr_equal(mime_part_find(m, (const unsigned[]){ 1 }, 1),
	    m->root);
	assert_null(mime_part_find(m, (const unsigned[]){ 2 }, 1));
	assert_ptr_equal(mime_part_find(m, NULL, 0), m->root);
}

static void
test_section_parse(void **state)
{
	static const struct {
		const char	*in;
		int		 ret;
		const char	*canon;
	} cases[] = {
		{ "", 0, "" },
		{ "1", 0, "1" },
		{ "1.2.3", 0, "1.2.3" },
		{ "header", 0, "HEADER" },
		{ "Text", 0, "TEXT" },
		{ "2.MIME", 0, "2.MIME" },
		{ "1.HEADER.FIELDS (From to)", 0, "1.HEADER.FIELDS (FROM TO)" },
		{ "HEADER.FIELDS.NOT (\"X-A\" Subject)", 0,
		    "HEADER.FIELDS.NOT (\"X-A\" SUBJECT)" },
		{ "HEADER.FIELDS (\"a b\")", 0, "HEADER.FIELDS (\"A B\")" },
		{ "MIME", -1, NULL },		/* needs a part */
		{ "0", -1, NULL },
		{ "1.", -1, NULL },
		{ ".1", -1, NULL },
		{ "1..2", -1, NULL },
		{ "1.0", -1, NULL },
		{ "4294967296", -1, NULL },
		{ "HEADER.FIELDS", -1, NULL },
		{ "HEADER.FIELDS ()", -1, NULL },
		{ "HEADER.FIELDS (A", -1, NULL },
		{ "HEADER.FIELDS (A) x", -1, NULL },
		{ "HEADERS", -1, NULL },
		{ "TEXTX", -1, NULL },
		{ "1.BOGUS", -1, NULL },
	};
	struct mime_section	 s;
	struct buf		 b;
	size_t			 i;

	(void)state;
	buf_init(&b, A, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		if (mime_section_parse(A, cases[i].in, strlen(cases[i].in),
		    &s) != cases[i].ret)
			fail_msg("%s: not %d", cases[i].in, cases[i].ret);
		if (cases[i].ret != 0)
			continue;
		buf_clear(&b);
		assert_int_equal(mime_section_format(&s, &b), 0);
		assert_string_equal(buf_cstr(&b), cases[i].canon);
	}
}

/* The whole section through the reader with cap-sized reads. */
static char *
fetch_all(const struct mime_msg *m, const char *spec, uint64_t origin,
    uint64_t len, size_t cap, size_t *n_r)
{
	struct mime_section	 s;
	struct mime_fetch	*f;
	char			*out, buf[64];
	size_t			 n, got = 0;

	assert_int_equal(mime_section_parse(A, spec, strlen(spec), &s), 0);
	f = mime_fetch_open(A, m, &s, origin, len);
	out = arena_alloc(A, mime_fetch_size(f) + 1);
	assert_true(cap <= sizeof(buf));
	while ((n = mime_fetch_read(f, buf, cap)) > 0) {
		assert_true(got + n <= mime_fetch_size(f));
		memcpy(out + got, buf, n);
		got += n;
	}
	assert_int_equal(got, mime_fetch_size(f));
	out[got] = '\0';
	*n_r = got;
	return out;
}

static void
test_fetch(void **state)
{
	static const char msg[] =
	    "Subject: s\nFrom: f\n\tcont\nTo: t\n\n"
	    "pre\n--b\n";
	static const char mp[] =
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nX: 1\n\nbody\x00one\n"
	    "--b\nContent-Type: message/rfc822\n\nSubject: in\r\nA: b\r\n\r\n"
	    "inner\n--b--\n";
	static const struct {
		const char	*msg;
		const char	*spec;
		uint64_t	 origin, len;
		const char	*want;
		size_t		 wlen;
	} cases[] = {
#define W(s)	s, sizeof(s) - 1
		{ msg, "", 0, UINT64_MAX,
		    W("Subject: s\r\nFrom: f\r\n\tcont\r\nTo: t\r\n\r\npre\r\n"
		    "--b\r\n") },
		{ msg, "HEADER", 0, UINT64_MAX,
		    W("Subject: s\r\nFrom: f\r\n\tcont\r\nTo: t\r\n\r\n") },
		{ msg, "TEXT", 0, UINT64_MAX, W("pre\r\n--b\r\n") },
		{ msg, "1", 0, UINT64_MAX, W("pre\r\n--b\r\n") },
		{ msg, "1.MIME", 0, UINT64_MAX,
		    W("Subject: s\r\nFrom: f\r\n\tcont\r\nTo: t\r\n\r\n") },
		{ msg, "2", 0, UINT64_MAX, W("") },
		{ msg, "1.HEADER", 0, UINT64_MAX, W("") },
		{ msg, "HEADER.FIELDS (from TO)", 0, UINT64_MAX,
		    W("From: f\r\n\tcont\r\nTo: t\r\n\r\n") },
		{ msg, "HEADER.FIELDS (X)", 0, UINT64_MAX, W("\r\n") },
		{ msg, "HEADER.FIELDS.NOT (FROM)", 0, UINT64_MAX,
		    W("Subject: s\r\nTo: t\r\n\r\n") },
		{ msg, "", 10, 3, W("\r\nF") },
		{ msg, "", 11, 3, W("\nFr") },	/* inside a CRLF */
		{ msg, "", 12, 0, W("") },
		{ msg, "TEXT", 5, UINT64_MAX, W("--b\r\n") },
		{ msg, "TEXT", 10, UINT64_MAX, W("") },
		{ msg, "TEXT", 1000, 5, W("") },
		{ mp, "1", 0, UINT64_MAX, W("body\x80one") },	/* NUL */
		{ mp, "1.MIME", 0, UINT64_MAX, W("X: 1\r\n\r\n") },
		{ mp, "2.MIME", 0, UINT64_MAX,
		    W("Content-Type: message/rfc822\r\n\r\n") },
		{ mp, "2.HEADER", 0, UINT64_MAX,
		    W("Subject: in\r\nA: b\r\n\r\n") },
		{ mp, "2.TEXT", 0, UINT64_MAX, W("inner") },
		{ mp, "2.1", 0, UINT64_MAX, W("inner") },
		{ mp, "2", 0, UINT64_MAX,
		    W("Subject: in\r\nA: b\r\n\r\ninner") },
		{ mp, "2.HEADER.FIELDS (SUBJECT)", 0, UINT64_MAX,
		    W("Subject: in\r\n\r\n") },
		{ mp, "1.TEXT", 0, UINT64_MAX, W("") },
		{ mp, "3", 0, UINT64_MAX, W("") },
#undef W
	};
	static const size_t caps[] = { 1, 2, 3, 7, 64 };
	const struct mime_msg	*m;
	char			*got;
	size_t			 i, j, n;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		m = mime_parse(A, cases[i].msg, strlen(cases[i].msg) +
		    (cases[i].msg == mp ? sizeof(mp) - 1 - strlen(mp) : 0));
		for (j = 0; j < N_ELEMENTS(caps); j++) {
			got = fetch_all(m, cases[i].spec, cases[i].origin,
			    cases[i].len, caps[j], &n);
			if (n != cases[i].wlen ||
			    memcmp(got, cases[i].want, n) != 0)
				fail_msg("[%s]<%llu>: got %zu bytes \"%s\"",
				    cases[i].spec,
				    (unsigned long long)cases[i].origin, n, got);
		}
	}
}

static void
test_fetch_large(void **state)
{
	const size_t		 lines = 200000;
	struct buf		 b;
	const struct mime_msg	*m;
	struct mime_section	 s;
	struct mime_fetch	*f;
	char			 chunk[4096];
	size_t			 i, n, total = 0, crlf = 0;

	(void)state;
	/* an LF message of a few MB: the size is known before reading
	 * and the reader needs no copy of the part */
	buf_init(&b, NULL, 1 << 24);
	assert_int_equal(buf_append_str(&b, "Subject: big\n\n"), 0);
	for (i = 0; i < lines; i++)
		assert_int_equal(buf_append_str(&b,
		    "0123456789012345678901234567890123456789\n"), 0);
	m = mime_parse(A, b.data, b.len);
	assert_int_equal(m->root->body.lines, lines);
	assert_int_equal(mime_section_parse(A, "TEXT", 4, &s), 0);
	f = mime_fetch_open(A, m, &s, 0, UINT64_MAX);
	assert_int_equal(mime_fetch_size(f), lines * 42);
	while ((n = mime_fetch_read(f, chunk, sizeof(chunk))) > 0) {
		for (i = 0; i < n; i++)
			if (chunk[i] == '\n')
				crlf++;
		total += n;
	}
	assert_int_equal(total, lines * 42);
	assert_int_equal(crlf, lines);
	/* a partial deep inside */
	f = mime_fetch_open(A, m, &s, 42 * 1000 + 40, 4);
	assert_int_equal(mime_fetch_read(f, chunk, sizeof(chunk)), 4);
	assert_memory_equal(chunk, "\r\n01", 4);
	buf_deinit(&b);
}

static void
test_hdr_iter(void **state)
{
	static const char msg[] = "A: 1\nB :  two\n\tthree\nno colon\n"
	    "C:\n\nbody\n";
	const struct mime_msg	*m;
	struct mime_hdr_iter	 it;
	struct str		 name, v;

	(void)state;
	m = mime_parse(A, msg, sizeof(msg) - 1);
	mime_hdr_iter_init(&it, m, m->root);
	assert_true(mime_hdr_iter_next(&it, &name, &v));
	assert_true(str_eq_cstr(name, "A") && str_eq_cstr(v, "1"));
	assert_true(mime_hdr_iter_next(&it, &name, &v));
	assert_true(str_eq_cstr(name, "B") && str_eq_cstr(v, "two\n\tthree"));
	assert_true(mime_hdr_iter_next(&it, &name, &v));
	assert_true(str_eq_cstr(name, "no colon") && v.p == NULL);
	assert_true(mime_hdr_iter_next(&it, &name, &v));
	assert_true(str_eq_cstr(name, "C") && v.len == 0);
	assert_false(mime_hdr_iter_next(&it, &name, &v));
}

static void
test_header_decode(void **state)
{
	static const struct qcase cases[] = {
		{ "plain", "plain" },
		{ "=?utf-8?q?J=C3=BCrgen?=", "J\xc3\xbcrgen" },
		{ "=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard" },
		{ "=?iso-8859-1?q?a_b?=", "a b" },
		{ "=?utf-8?b?w6lsw6h2ZQ==?=", "\xc3\xa9l\xc3\xa8ve" },
		{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },	/* space goes */
		{ "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab" },
		{ "x =?utf-8?q?a?= y", "x a y" },
		{ "=?utf-8*en?q?lang?=", "lang" },
		{ "=?bogus-charset?q?raw?=", "raw" },
		{ "=?utf-8?x?bad?=", "=?utf-8?x?bad?=" },
		{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated" },
		{ "a\r\n\tb", "a\tb" },
		{ "=?iso-8859-2?q?=B1?=", "\xc4\x85" },
	};
	size_t	 i, n;
	char	*d;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		d = mime_header_decode(A, cases[i].in, strlen(cases[i].in), &n);
		assert_string_equal(d, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
}

static void
test_casefold(void **state)
{
	static const struct qcase cases[] = {
		{ "ABC xyz", "abc xyz" },
		{ "\xc3\x89L\xc3\x88VE", "\xc3\xa9l\xc3\xa8ve" },	/* ÉLÈVE */
		{ "\xc3\x9c\xc3\x96\xc3\x84\xc3\x9f", "\xc3\xbc\xc3\xb6\xc3\xa4"
		    "\xc3\x9f" },			/* ÜÖÄß */
		{ "\xc5\x81\xc3\xb3" "d\xc5\xba", "\xc5\x82\xc3\xb3" "d\xc5\xba" },
		{ "\xce\xa3\xce\xbf\xcf\x82", "\xcf\x83\xce\xbf\xcf\x83" },
		{ "\xd0\x9f\xd0\xb5\xd0\x81", "\xd0\xbf\xd0\xb5\xd1\x91" },
		{ "\xc4\xb0", "i" },
		{ "bad \xff\xc3", "bad \xff\xc3" },	/* not UTF-8: kept */
	};
	struct mime_matcher	 mt;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		assert_string_equal(mime_casefold(A, cases[i].in,
		    strlen(cases[i].in), NULL), cases[i].out);
	mime_matcher_init(&mt, A, "\xc3\xa9L\xc3\xa8", 5);
	assert_true(mime_matcher_match(&mt, A, "un \xc3\x89l\xc3\x88ve",
	    strlen("un \xc3\x89l\xc3\x88ve")));
	assert_false(mime_matcher_match(&mt, A, "eleve", 5));
	mime_matcher_init(&mt, A, "", 0);
	assert_true(mime_matcher_match(&mt, A, "", 0));
}

static void
test_part_text(void **state)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=t\n\n"
	    "--t\nContent-Transfer-Encoding: base64\n"
	    "Content-Type: text/plain; charset=utf-8\n\nSGVs\nbG8g\nd29y bGQ=\n"
	    "--t\nContent-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Caf=E9 =\nsoft=3D  \ntrail\n"
	    "--t\nContent-Type: image/png\n\nbinary\n"
	    "--t\nContent-Type: message/rfc822\n\nSubject: Inner H\xc3\xa9\n\n"
	    "inner text\n--t--\n";
	const struct mime_msg	*m;
	const struct mime_part	*p;
	struct mime_matcher	 mt;
	char			*t;
	size_t			 n;

	(void)state;
	m = mime_parse(A, msg, sizeof(msg) - 1);
	p = m->root->children;
	assert_int_equal(mime_part_text(A, m, p, &t, &n), 1);
	assert_string_equal(t, "Hello world");
	p = p->next;
	assert_int_equal(mime_part_text(A, m, p, &t, &n), 1);
	assert_string_equal(t, "Caf\xc3\xa9 soft=\ntrail");
	p = p->next;
	assert_int_equal(mime_part_text(A, m, p, &t, &n), 0);
	p = p->next;
	assert_int_equal(mime_part_text(A, m, p, &t, &n), 0);
	assert_int_equal(mime_part_text(A, m, m->root, &t, &n), 0);
	mime_matcher_init(&mt, A, "CAF\xc3\x89", 5);
	assert_true(mime_body_match(&mt, A, m));
	mime_matcher_init(&mt, A, "inner text", 10);
	assert_true(mime_body_match(&mt, A, m));
	mime_matcher_init(&mt, A, "inner h\xc3\xa9", 8);	/* inner header */
	assert_true(mime_body_match(&mt, A, m));
	mime_matcher_init(&mt, A, "binary", 6);	/* not a text part */
	assert_false(mime_body_match(&mt, A, m));
	assert_string_equal(mime_charset_to_utf8(A, "iso-8859-1", "\xe9", 1,
	    &n), "\xc3\xa9");
	assert_string_equal(mime_charset_to_utf8(A, "utf-8", "\xe9", 1, &n),
	    "\xe9");
	assert_string_equal(mime_charset_to_utf8(A, "x-unknown", "a\xe9", 2,
	    &n), "a\xe9");
	assert_string_equal(mime_charset_to_utf8(A, "iso-2022-jp",
	    "\x1b$B", 3, &n), "");
}

static void
test_addr_match(void **state)
{
	static const char v[] = "=?utf-8?q?J=C3=BCrgen?= <jm@Example.DE>, "
	    "Team: a@b;, <@r:x@y>";
	struct mime_matcher	 mt;
	static const struct {
		const char	*key;
		bool		 match;
	} cases[] = {
		{ "j\xc3\xbcrgen", true }, { "JM@EXAMPLE", true },
		{ "example.de", true }, { "team", false }, { "a@b", true },
		{ "@r:x@y", true }, { "nobody", false },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		mime_matcher_init(&mt, A, cases[i].key, strlen(cases[i].key));
		assert_int_equal(mime_addr_match(&mt, A, v, sizeof(v) - 1),
		    cases[i].match);
	}
}

static void
test_date(void **state)
{
	static const struct {
		const char	*in;
		int		 ret;
		long long	 t;
		int		 tz;
	} cases[] = {
		{ "Mon, 7 Feb 1994 21:52:25 -0800", 0, 760686745, -480 },
		{ "7 Feb 1994 21:52 +0000", 0, 760657920, 0 },
		{ "Thu, 1 Jan 1970 00:00:00 GMT", 0, 0, 0 },
		{ "1 Jan 99 00:00 EST", 0, 915166800, -300 },
		{ "1 Jan 49 00:00 +0000", 0, 2493072000LL, 0 },
		{ "1 Jan 105 00:00 +0000", 0, 1104537600, 0 },
		{ "(c) Tue, (x) 29 Feb 2000 12:00:00 +0130 (CET)", 0,
		    951820200, 90 },
		{ "31 Dec 1999 23:59:60 Z", 0, 946684800, 0 },
		{ "1 jan 2001 00:00 PDT", 0, 978332400, -420 },
		{ "1 Jan 2001 00:00 A", 0, 978307200, 0 },	/* military */
		{ "1 Jan 2001 00:00", 0, 978307200, 0 },
		{ "29 Feb 2001 00:00 +0000", -1, 0, 0 },
		{ "32 Jan 2001 00:00 +0000", -1, 0, 0 },
		{ "1 Foo 2001 00:00 +0000", -1, 0, 0 },
		{ "1 Jan 2001 24:00 +0000", -1, 0, 0 },
		{ "1 Jan 2001 00:00 +00", -1, 0, 0 },
		{ "not a date", -1, 0, 0 },
		{ "", -1, 0, 0 },
	};
	time_t	 t;
	int	 tz;
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		if (mime_date_parse(cases[i].in, strlen(cases[i].in), &t,
		    &tz) != cases[i].ret)
			fail_msg("%s: not %d", cases[i].in, cases[i].ret);
		if (cases[i].ret == 0 && ((long long)t != cases[i].t ||
		    tz != cases[i].tz))
			fail_msg("%s: %lld %d", cases[i].in, (long long)t, tz);
	}
}

static void
test_garbage(void **state)
{
	static const char *const msgs[] = {
		"\0\0\0", "--", "\n--x\n", "Content-Type: multipart/mixed; "
		"boundary=\"\"\n\n--\n--\n----\n", "Content-Type: message/"
		"rfc822\n", "\r", "\r\n", ":", "(", "Content-Type: (",
		"To: \"\\", "To: (\\", "Content-Type: a/b; x*=\"\\"
	};
	const struct mime_msg	*m;
	struct mime_envelope	 env;
	struct buf		 b;
	size_t			 i, len;

	(void)state;
	buf_init(&b, A, 1 << 20);
	for (i = 0; i < N_ELEMENTS(msgs); i++) {
		len = i == 0 ? 3 : strlen(msgs[i]);
		m = mime_parse(A, msgs[i], len);
		assert_int_equal(m->root->hdr.phys + m->root->body.phys, len);
		mime_envelope_get(A, m->root, &env);
		buf_clear(&b);
		assert_int_equal(imap_envelope_write(&b, &env), 0);
		assert_int_equal(imap_bodystructure_write(&b, A, m->root,
		    true), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_parts),
		cmocka_unit_test(test_limit_boundary),
		cmocka_unit_test(test_limit_params),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_part_find),
		cmocka_unit_test(test_section_parse),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_fetch_large),
		cmocka_unit_test(test_hdr_iter),
		cmocka_unit_test(test_header_decode),
		cmocka_unit_test(test_casefold),
		cmocka_unit_test(test_part_text),
		cmocka_unit_test(test_addr_match),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
