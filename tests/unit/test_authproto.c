/* test_authproto.c - auth-sql/authproto.c: splitting at TABs (the field
 * limit at N and N+1), \001 escaping both ways, request ids at 2^32,
 * and the VERSION, AUTH, CONT, CANCEL and USER parsers, with the resp=
 * rules of protocols.md 1.4 (empty resp= means "none" below minor 2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "authproto.h"
#include "aviary/buf.h"
#include "aviary/compat.h"

static void
split_ok(const char *line, struct authproto_args *a)
{
	if (authproto_split(str_from_cstr(line), a) != 0)
		fail_msg("authproto_split(\"%s\") failed", line);
}

/* The fields joined with '|', for comparing in one string. */
static void
join(const struct authproto_args *a, char *out, size_t outsz)
{
	size_t	 i, o = 0;

	out[0] = '\0';
	for (i = 0; i < a->n; i++) {
		int	 len = snprintf(out + o, outsz - o, "%s%.*s",
			    i ? "|" : "", (int)a->v[i].len, a->v[i].p);

		assert_true(len >= 0 && (size_t)len < outsz - o);
		o += (size_t)len;
	}
}

static void
test_split(void **state)
{
	static const struct {
		const char	*in;
		size_t		 n;
		const char	*joined;
	} cases[] = {
		{ "", 1, "" },
		{ "CPID", 1, "CPID" },
		{ "VERSION\t1\t0", 3, "VERSION|1|0" },
		{ "a\t\tb", 3, "a||b" },
		{ "\t", 2, "|" },
		{ "a\t", 2, "a|" },
		{ "\ta", 2, "|a" },
		{ "\t\t\t", 4, "|||" },
		{ "AUTH\t1\tPLAIN\tservice=smtp\tresp=", 5,
		    "AUTH|1|PLAIN|service=smtp|resp=" },
		{ "a b\r\x01t", 1, "a b\r\x01t" },	/* only TAB splits */
	};
	struct authproto_args	 a;
	char			 joined[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		split_ok(cases[i].in, &a);
		assert_int_equal(a.n, cases[i].n);
		join(&a, joined, sizeof(joined));
		assert_string_equal(joined, cases[i].joined);
	}
}

/* AUTHPROTO_MAX_ARGS fields split; one more is refused. Empty fields
 * count as fields. */
static void
test_split_max(void **state)
{
	struct authproto_args	 a;
	char			 line[4 * AUTHPROTO_MAX_ARGS + 8];
	size_t			 i, o;

	(void)state;
	for (o = 0, i = 0; i < AUTHPROTO_MAX_ARGS; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%zu",
		    i ? "\t" : "", i);
	assert_int_equal(authproto_split(str_from_cstr(line), &a), 0);
	assert_int_equal(a.n, AUTHPROTO_MAX_ARGS);
	assert_true(str_eq_cstr(a.v[0], "0"));
	assert_true(str_eq_cstr(a.v[AUTHPROTO_MAX_ARGS - 1], "63"));
	(void)snprintf(line + o, sizeof(line) - o, "\tx");	/* N+1 */
	assert_int_equal(authproto_split(str_from_cstr(line), &a), -1);

	memset(line, '\t', AUTHPROTO_MAX_ARGS - 1);	/* 64 empty fields */
	line[AUTHPROTO_MAX_ARGS - 1] = '\0';
	assert_int_equal(authproto_split(str_from_cstr(line), &a), 0);
	assert_int_equal(a.n, AUTHPROTO_MAX_ARGS);
	line[AUTHPROTO_MAX_ARGS - 1] = '\t';		/* 65 */
	line[AUTHPROTO_MAX_ARGS] = '\0';
	assert_int_equal(authproto_split(str_from_cstr(line), &a), -1);
}

static size_t
unescape(const char *in, size_t len, char *out)
{
	return authproto_unescape((struct str){ in, len }, out);
}

static void
test_unescape(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;
		size_t		 wlen;
	} cases[] = {
#define C(in, want)	{ in, sizeof(in) - 1, want, sizeof(want) - 1 }
		C("", ""),
		C("plain", "plain"),
		C("\0011", "\001"),
		C("\001t", "\t"),
		C("\001r", "\r"),
		C("\001n", "\n"),
		C("\0010", "\0"),
		C("a\001tb\001nc", "a\tb\nc"),
		C("\0011\0011", "\001\001"),
		C("\001\001", "\001"),		/* unknown escapes: the byte */
		C("\001x", "x"),
		C("\001\\", "\\"),
		C("abc\001", "abc"),		/* trailing lone \001 dropped */
		C("\001", ""),
		C("\0011\001", "\001"),
		C("x\0010y", "x\0y"),
#undef C
	};
	char	 out[32];
	size_t	 i, n;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		memset(out, 'Z', sizeof(out));
		n = unescape(cases[i].in, cases[i].len, out);
		if (n != cases[i].wlen)
			fail_msg("case %zu: length %zu, want %zu", i, n,
			    cases[i].wlen);
		assert_memory_equal(out, cases[i].want, n);
		assert_int_equal(out[n], '\0');
	}
}

/* Each special byte escapes to \001 and a letter, the output holds no
 * TAB, CR, LF or NUL, and unescaping gives the input back. Then all 256
 * byte values at once. */
static void
test_escape_round_trip(void **state)
{
	static const struct {
		char		 in;
		const char	*want;
	} specials[] = {
		{ '\001', "\0011" },
		{ '\t', "\001t" },
		{ '\r', "\001r" },
		{ '\n', "\001n" },
		{ '\0', "\0010" },
	};
	struct buf	 b;
	char		 in[256], out[2 * 256 + 1];
	size_t		 i, n;

	(void)state;
	buf_init(&b, NULL, 1024);
	for (i = 0; i < N_ELEMENTS(specials); i++) {
		buf_clear(&b);
		assert_int_equal(authproto_escape(&b, &specials[i].in, 1), 0);
		assert_int_equal(b.len, 2);
		assert_memory_equal(b.data, specials[i].want, 2);
		n = unescape(b.data, b.len, out);
		assert_int_equal(n, 1);
		assert_int_equal(out[0], specials[i].in);
	}
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	buf_clear(&b);
	assert_int_equal(authproto_escape(&b, in, sizeof(in)), 0);
	assert_int_equal(b.len, sizeof(in) + 5);	/* five specials */
	for (i = 0; i < b.len; i++)
		assert_true(b.data[i] != '\t' && b.data[i] != '\n' &&
		    b.data[i] != '\r' && b.data[i] != '\0');
	n = unescape(b.data, b.len, out);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	/* Nothing to escape: unchanged. */
	buf_clear(&b);
	assert_int_equal(authproto_escape(&b, "user@example.test", 17), 0);
	assert_string_equal(buf_cstr(&b), "user@example.test");
	buf_deinit(&b);
}

/* The buffer's ceiling: exactly enough room, then one byte short. */
static void
test_escape_full(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b, NULL, 4);
	assert_int_equal(authproto_escape(&b, "a\tb", 3), 0);	/* 4 bytes */
	assert_memory_equal(b.data, "a\001tb", 4);
	buf_deinit(&b);
	buf_init(&b, NULL, 4);
	assert_int_equal(authproto_escape(&b, "a\tbc", 4), BUF_EFULL);
	buf_deinit(&b);
	buf_init(&b, NULL, 3);
	assert_int_equal(authproto_escape(&b, "ab\n", 3), BUF_EFULL);
	buf_deinit(&b);
}

static void
test_parse_id(void **state)
{
	static const struct {
		const char	*in;
		int		 want_rc;
		uint32_t	 want;
	} cases[] = {
		{ "0", -1, 0 },
		{ "1", 0, 1 },
		{ "42", 0, 42 },
		{ "4294967295", 0, 4294967295U },	/* N */
		{ "4294967296", -1, 0 },		/* N+1 */
		{ "9999999999", -1, 0 },
		{ "0000000001", 0, 1 },			/* 10 digits */
		{ "00000000001", -1, 0 },		/* 11 digits */
		{ "10000000000", -1, 0 },
		{ "18446744073709551617", -1, 0 },	/* 2^64 + 1 */
		{ "0000000000", -1, 0 },
		{ "", -1, 0 },
		{ "1a", -1, 0 },
		{ "a1", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "0x1", -1, 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint32_t	 id = 777;
		int		 rc = authproto_parse_id(
				    str_from_cstr(cases[i].in), &id);

		if (rc != cases[i].want_rc)
			fail_msg("authproto_parse_id(\"%s\") = %d",
			    cases[i].in, rc);
		assert_true(id == (rc == 0 ? cases[i].want : 777));
	}
}

static void
test_parse_version(void **state)
{
	static const struct {
		const char	*in;
		int		 want_rc;
		unsigned	 major, minor;
	} cases[] = {
		{ "VERSION\t1\t0", 0, 1, 0 },
		{ "VERSION\t1\t2", 0, 1, 2 },
		{ "VERSION\t1\t2\tfuture", 0, 1, 2 },
		{ "VERSION\t0\t0", 0, 0, 0 },
		{ "VERSION\t99999\t99999", 0, 99999, 99999 },	/* 5 digits */
		{ "VERSION\t100000\t0", -1, 0, 0 },		/* 6 */
		{ "VERSION\t1\t100000", -1, 0, 0 },
		{ "VERSION\t1", -1, 0, 0 },
		{ "VERSION", -1, 0, 0 },
		{ "VERSION\t\t0", -1, 0, 0 },
		{ "VERSION\t1\t", -1, 0, 0 },
		{ "VERSION\t1\tx", -1, 0, 0 },
		{ "VERSION\t-1\t0", -1, 0, 0 },
		{ "version\t1\t0", -1, 0, 0 },
		{ "VERSIONS\t1\t0", -1, 0, 0 },
		{ "CPID\t1\t0", -1, 0, 0 },
	};
	struct authproto_args	 a;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		unsigned	 major = 7, minor = 7;
		int		 rc;

		split_ok(cases[i].in, &a);
		rc = authproto_parse_version(&a, &major, &minor);
		if (rc != cases[i].want_rc)
			fail_msg("parse_version(\"%s\") = %d", cases[i].in,
			    rc);
		if (rc == 0) {
			assert_int_equal(major, cases[i].major);
			assert_int_equal(minor, cases[i].minor);
		}
	}
}

#define A	"AUTH\t1\tPLAIN\t"
#define MECH64	"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		"0123456789AB"

struct auth_case {
	const char	*in;
	unsigned	 minor;
	int		 want_rc;
	uint32_t	 id;
	const char	*mech, *service, *lip, *rip;
	bool		 secured, no_penalty, has_resp;
	const char	*resp;
};

static const struct auth_case auth_cases[] = {
	/* Minimal, and Postfix's real line. */
	{ A "service=smtp", 0, 0, 1, "PLAIN", "smtp", "", "", false, false,
	    false, "" },
	{ "AUTH\t7\tLOGIN\tservice=smtp\tnologin\tlip=127.0.0.1\t"
	    "rip=192.0.2.7\tsecured\tresp=AGRlbW8AcGFzcw==", 0, 0, 7, "LOGIN",
	    "smtp", "127.0.0.1", "192.0.2.7", true, false, true,
	    "AGRlbW8AcGFzcw==" },
	{ A "service=imap\tno-penalty", 2, 0, 1, "PLAIN", "imap", "", "",
	    false, true, false, "" },
	{ A "rip=::1\tservice=pop3\tlip=::1", 0, 0, 1, "PLAIN", "pop3", "::1",
	    "::1", false, false, false, "" },
	/* Unknown parameters are ignored, with or without a value. */
	{ A "service=smtp\tsession=abc\tvalid-client-cert\tx=y=z\tcert_username"
	    "\tnologin", 0, 0, 1, "PLAIN", "smtp", "", "", false, false, false,
	    "" },
	/* Known names without '=' are not values. */
	{ A "service=smtp\tlip\trip\tresp", 0, 0, 1, "PLAIN", "smtp", "", "",
	    false, false, false, "" },
	/* Request ids. */
	{ "AUTH\t4294967295\tPLAIN\tservice=smtp", 0, 0, 4294967295U, "PLAIN",
	    "smtp", "", "", false, false, false, "" },
	{ "AUTH\t4294967296\tPLAIN\tservice=smtp", 0, -1, 0, NULL, NULL, NULL,
	    NULL, false, false, false, NULL },
	{ "AUTH\t0\tPLAIN\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL,
	    false, false, false, NULL },
	{ "AUTH\tx\tPLAIN\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL,
	    false, false, false, NULL },
	{ "AUTH\t\tPLAIN\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL,
	    false, false, false, NULL },
	/* Mechanism names: 64 bytes ok, 65 and empty refused. */
	{ "AUTH\t1\t" MECH64 "\tservice=smtp", 0, 0, 1, MECH64, "smtp", "",
	    "", false, false, false, "" },
	{ "AUTH\t1\t" MECH64 "C\tservice=smtp", 0, -1, 0, NULL, NULL, NULL,
	    NULL, false, false, false, NULL },
	{ "AUTH\t1\t\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL, false,
	    false, false, NULL },
	/* service= is required and must not be empty. */
	{ A "nologin", 0, -1, 0, NULL, NULL, NULL, NULL, false, false, false,
	    NULL },
	{ A "service=", 0, -1, 0, NULL, NULL, NULL, NULL, false, false, false,
	    NULL },
	{ A "service", 0, -1, 0, NULL, NULL, NULL, NULL, false, false, false,
	    NULL },
	{ A "resp=AAAA", 0, -1, 0, NULL, NULL, NULL, NULL, false, false, false,
	    NULL },
	{ "AUTH\t1\tPLAIN", 0, -1, 0, NULL, NULL, NULL, NULL, false, false,
	    false, NULL },
	{ "AUTH", 0, -1, 0, NULL, NULL, NULL, NULL, false, false, false, NULL },
	{ "auth\t1\tPLAIN\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL,
	    false, false, false, NULL },
	{ "CONT\t1\tPLAIN\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL,
	    false, false, false, NULL },
	/* resp= must be last. */
	{ A "service=smtp\tresp=AAAA\tsecured", 0, -1, 0, NULL, NULL, NULL,
	    NULL, false, false, false, NULL },
	{ A "service=smtp\tresp=\tsecured", 0, -1, 0, NULL, NULL, NULL, NULL,
	    false, false, false, NULL },
	{ A "service=smtp\tresp=AAAA\tresp=BBBB", 2, -1, 0, NULL, NULL, NULL,
	    NULL, false, false, false, NULL },
	{ A "resp=AAAA\tservice=smtp", 0, -1, 0, NULL, NULL, NULL, NULL, false,
	    false, false, NULL },
	/* An empty resp=: none below minor 2, an empty response from 2. */
	{ A "service=smtp\tresp=", 0, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, false, "" },
	{ A "service=smtp\tresp=", 1, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, false, "" },
	{ A "service=smtp\tresp=", 2, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, true, "" },
	{ A "service=smtp\tresp=", 3, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, true, "" },
	/* "resp==" is present and empty in every version. */
	{ A "service=smtp\tresp==", 0, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, true, "" },
	{ A "service=smtp\tresp==", 2, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, true, "" },
	/* A non-empty resp= is present whatever the minor version. */
	{ A "service=smtp\tresp=AGRlbW8AcGFzcw==", 0, 0, 1, "PLAIN", "smtp",
	    "", "", false, false, true, "AGRlbW8AcGFzcw==" },
	{ A "service=smtp\tresp===", 0, 0, 1, "PLAIN", "smtp", "", "", false,
	    false, true, "==" },
	/* Later values of a repeated parameter win. */
	{ A "service=smtp\tservice=imap\tlip=1\tlip=2", 0, 0, 1, "PLAIN",
	    "imap", "2", "", false, false, false, "" },
};

#undef A

static void
test_parse_auth(void **state)
{
	struct authproto_args	 a;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(auth_cases); i++) {
		const struct auth_case	*c = &auth_cases[i];
		struct authproto_auth	 r;
		const char		*err = NULL;
		int			 rc;

		split_ok(c->in, &a);
		rc = authproto_parse_auth(&a, c->minor, &r, &err);
		if (rc != c->want_rc)
			fail_msg("case %zu (\"%s\", minor %u) = %d (%s)", i,
			    c->in, c->minor, rc, err ? err : "no error");
		if (rc != 0) {
			assert_non_null(err);
			continue;
		}
		assert_int_equal(r.id, c->id);
		assert_true(str_eq_cstr(r.mech, c->mech));
		assert_true(str_eq_cstr(r.service, c->service));
		assert_true(str_eq_cstr(r.lip, c->lip));
		assert_true(str_eq_cstr(r.rip, c->rip));
		assert_int_equal(r.secured, c->secured);
		assert_int_equal(r.no_penalty, c->no_penalty);
		if (r.has_resp != c->has_resp)
			fail_msg("case %zu (\"%s\", minor %u): has_resp %d", i,
			    c->in, c->minor, r.has_resp);
		assert_true(str_eq_cstr(r.resp, c->resp));
	}
}

static void
test_parse_cont_cancel(void **state)
{
	static const struct {
		const char	*in;
		int		 cont_rc, cancel_rc;
		uint32_t	 id;
		const char	*data;
	} cases[] = {
		{ "CONT\t1\tAGRlbW8AcGFzcw==", 0, -1, 1, "AGRlbW8AcGFzcw==" },
		{ "CONT\t4294967295\t", 0, -1, 4294967295U, "" },
		{ "CONT\t4294967296\tx", -1, -1, 0, NULL },
		{ "CONT\t0\tx", -1, -1, 0, NULL },
		{ "CONT\t1", -1, -1, 0, NULL },
		{ "CONT\t1\tx\ty", -1, -1, 0, NULL },
		{ "CONT", -1, -1, 0, NULL },
		{ "cont\t1\tx", -1, -1, 0, NULL },
		{ "CANCEL\t7", -1, 0, 7, NULL },
		{ "CANCEL\t4294967295", -1, 0, 4294967295U, NULL },
		{ "CANCEL\t0", -1, -1, 0, NULL },
		{ "CANCEL\t4294967296", -1, -1, 0, NULL },
		{ "CANCEL\t7\tx", -1, -1, 0, NULL },
		{ "CANCEL\t", -1, -1, 0, NULL },
		{ "CANCEL", -1, -1, 0, NULL },
		{ "CANCEL\tx", -1, -1, 0, NULL },
		{ "CONT\t7", -1, -1, 0, NULL },
	};
	struct authproto_args	 a;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint32_t	 id = 0;
		struct str	 data;
		int		 rc;

		split_ok(cases[i].in, &a);
		rc = authproto_parse_cont(&a, &id, &data);
		if (rc != cases[i].cont_rc)
			fail_msg("parse_cont(\"%s\") = %d", cases[i].in, rc);
		if (rc == 0) {
			assert_int_equal(id, cases[i].id);
			assert_true(str_eq_cstr(data, cases[i].data));
		}
		id = 0;
		rc = authproto_parse_cancel(&a, &id);
		if (rc != cases[i].cancel_rc)
			fail_msg("parse_cancel(\"%s\") = %d", cases[i].in, rc);
		if (rc == 0)
			assert_int_equal(id, cases[i].id);
	}
}

#define ID32	"0123456789abcdef0123456789abcdef"

static void
test_parse_user(void **state)
{
	static const struct {
		const char	*in;
		int		 want_rc;
		const char	*id, *user, *service;
	} cases[] = {
		{ "USER\t1\tdemo@example.test\tservice=lmtp", 0, "1",
		    "demo@example.test", "lmtp" },
		{ "USER\tabc\tdemo\tfoo=bar\tservice=imap\tbaz", 0, "abc",
		    "demo", "imap" },
		{ "USER\t" ID32 "\tu\tservice=lmtp", 0, ID32, "u", "lmtp" },
		{ "USER\t" ID32 "x\tu\tservice=lmtp", -1, NULL, NULL, NULL },
		{ "USER\t\tu\tservice=lmtp", -1, NULL, NULL, NULL },
		{ "USER\t1\t\tservice=lmtp", -1, NULL, NULL, NULL },
		{ "USER\t1\tdemo", -1, NULL, NULL, NULL },
		{ "USER\t1\tdemo\tnologin", -1, NULL, NULL, NULL },
		{ "USER\t1\tdemo\tservice=", -1, NULL, NULL, NULL },
		{ "USER\t1\tdemo\tservice", -1, NULL, NULL, NULL },
		{ "USER", -1, NULL, NULL, NULL },
		{ "user\t1\tdemo\tservice=lmtp", -1, NULL, NULL, NULL },
		{ "LIST\t2", -1, NULL, NULL, NULL },
		{ "CACHE-FLUSH\t3\tx@y.z", -1, NULL, NULL, NULL },
	};
	struct authproto_args	 a;
	size_t			 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct str	 id, user, service;
		int		 rc;

		split_ok(cases[i].in, &a);
		rc = authproto_parse_user(&a, &id, &user, &service);
		if (rc != cases[i].want_rc)
			fail_msg("parse_user(\"%s\") = %d", cases[i].in, rc);
		if (rc != 0)
			continue;
		assert_true(str_eq_cstr(id, cases[i].id));
		assert_true(str_eq_cstr(user, cases[i].user));
		assert_true(str_eq_cstr(service, cases[i].service));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_max),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_escape_full),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_parse_auth),
		cmocka_unit_test(test_parse_cont_cancel),
		cmocka_unit_test(test_parse_user),
	};

	return cmocka_run_group_tests_name("authproto", tests, NULL, NULL);
}
