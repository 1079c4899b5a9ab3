/* test_addr.c - core/mail/addr.c: length limits at N and N+1 (local 64,
 * label 63, domain 253), lower-casing, and everything that must never
 * reach a path or a query ('/', "..", quotes, spaces, non-ASCII...). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/addr.h"

#define CANARY	'Z'

/* s of n copies of c, at p; returns p + n. */
static char *
rep(char *p, char c, size_t n)
{
	memset(p, c, n);
	return p + n;
}

/* A domain of 'total' characters made of 63-character labels and a
 * shorter last one ("aaa...a.bbb...b.ccc...c.dd"). */
static void
long_domain(char *out, size_t total)
{
	char	 c = 'a';
	size_t	 left = total;
	char	*p = out;

	while (left > 64) {
		p = rep(p, c++, 63);
		*p++ = '.';
		left -= 64;
	}
	p = rep(p, c, left);
	*p = '\0';
}

struct case_ {
	const char	*in;
	int		 want_rc;
	const char	*want;		/* when want_rc == 0 */
};

static void
run_addr(const struct case_ *cases, size_t n, int foreign)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		char		 out[ADDR_MAX + 2];
		const char	*why = NULL;
		int		 rc;

		memset(out, CANARY, sizeof(out));
		rc = foreign ?
		    addr_normalize_foreign(cases[i].in, out, &why) :
		    addr_normalize(cases[i].in, out, NULL, NULL, &why);
		if (rc != cases[i].want_rc)
			fail_msg("addr_normalize%s(\"%s\") = %d (%s)",
			    foreign ? "_foreign" : "", cases[i].in, rc,
			    why != NULL ? why : "-");
		if (rc == 0)
			assert_string_equal(out, cases[i].want);
		else
			assert_non_null(why);
		assert_int_equal(out[ADDR_MAX + 1], CANARY);
	}
}

static const struct case_ addr_cases[] = {
	{ "bob@example.test", 0, "bob@example.test" },
	{ "Bob@Example.TEST", 0, "bob@example.test" },
	{ "o'brien@Example.TEST", 0, "o'brien@example.test" },
	{ "first.last+tag@sub.example.test", 0,
	    "first.last+tag@sub.example.test" },
	{ "a@b.c", 0, "a@b.c" },
	{ "a@123.test", 0, "a@123.test" },
	{ "a@ex-ample.test", 0, "a@ex-ample.test" },
	{ "a@xn--bcher-kva.test", 0, "a@xn--bcher-kva.test" },
	{ "!#$%&'*+-=?^_`{|}~@example.test", 0,
	    "!#$%&'*+-=?^_`{|}~@example.test" },
	/* Missing or empty parts. */
	{ "", -1, NULL },
	{ "bob", -1, NULL },
	{ "example.test", -1, NULL },
	{ "@example.test", -1, NULL },
	{ "bob@", -1, NULL },
	{ "@", -1, NULL },
	/* The last '@' splits; the local part may not hold another. */
	{ "a@b@example.test", -1, NULL },
	/* Local part. */
	{ "a/b@example.test", -1, NULL },
	{ "../x@example.test", -1, NULL },
	{ "a..b@example.test", -1, NULL },
	{ ".a@example.test", -1, NULL },
	{ "a.@example.test", -1, NULL },
	{ ".@example.test", -1, NULL },
	{ "\"a\"@example.test", -1, NULL },
	{ "\"a b\"@example.test", -1, NULL },
	{ "a b@example.test", -1, NULL },
	{ " a@example.test", -1, NULL },
	{ "a\t@example.test", -1, NULL },
	{ "a\\b@example.test", -1, NULL },
	{ "a(c)@example.test", -1, NULL },
	{ "a,b@example.test", -1, NULL },
	{ "a:b@example.test", -1, NULL },
	{ "a;b@example.test", -1, NULL },
	{ "a<b@example.test", -1, NULL },
	{ "a[b]@example.test", -1, NULL },
	{ "a\r\n@example.test", -1, NULL },
	{ "\x7f@example.test", -1, NULL },
	{ "j\xc3\xb6rg@example.test", -1, NULL },
	{ "\xff@example.test", -1, NULL },
	/* Domain. */
	{ "a@localhost", -1, NULL },		/* single label */
	{ "a@-ex.test", -1, NULL },
	{ "a@ex-.test", -1, NULL },
	{ "a@ex.-test", -1, NULL },
	{ "a@ex.test-", -1, NULL },
	{ "a@ex..test", -1, NULL },
	{ "a@.ex.test", -1, NULL },
	{ "a@ex.test.", -1, NULL },
	{ "a@ex/ample.test", -1, NULL },
	{ "a@../test", -1, NULL },
	{ "a@ex_ample.test", -1, NULL },
	{ "a@ex ample.test", -1, NULL },
	{ "a@[192.0.2.1]", -1, NULL },
	{ "a@b\xc3\xbc" "cher.test", -1, NULL },
	{ "a@ex.test\n", -1, NULL },
};

static void
test_addr_table(void **state)
{
	(void)state;
	run_addr(addr_cases, N_ELEMENTS(addr_cases), 0);
}

/* The foreign form keeps the local part's case; the domain is folded and
 * the same rules apply. */
static void
test_foreign(void **state)
{
	static const struct case_ cases[] = {
		{ "Bob@Example.TEST", 0, "Bob@example.test" },
		{ "o'brien@Example.TEST", 0, "o'brien@example.test" },
		{ "O'Brien@EXAMPLE.test", 0, "O'Brien@example.test" },
		{ "MiXeD.Case+Tag@Sub.Example.Test", 0,
		    "MiXeD.Case+Tag@sub.example.test" },
		{ "a/b@example.test", -1, NULL },
		{ "A..B@example.test", -1, NULL },
		{ "A@EXAMPLE", -1, NULL },
		{ "\"A\"@example.test", -1, NULL },
	};

	(void)state;
	run_addr(cases, N_ELEMENTS(cases), 1);
}

static void
test_parts_out(void **state)
{
	char		 out[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char		 domain[ADDR_MAX + 1];
	const char	*why;

	(void)state;
	assert_int_equal(addr_normalize("John.Doe@Mail.Example.TEST", out,
	    local, domain, &why), 0);
	assert_string_equal(out, "john.doe@mail.example.test");
	assert_string_equal(local, "john.doe");
	assert_string_equal(domain, "mail.example.test");
}

static void
test_local_limit(void **state)
{
	char		 in[ADDR_MAX * 2], out[ADDR_MAX + 2], *p;
	const char	*why;

	(void)state;
	/* 64 (N) */
	p = rep(in, 'A', ADDR_LOCAL_MAX);
	*p = '\0';
	memset(out, CANARY, sizeof(out));
	assert_int_equal(addr_local_normalize(in, out, &why), 0);
	assert_int_equal(strlen(out), ADDR_LOCAL_MAX);
	assert_int_equal(out[0], 'a');
	assert_int_equal(out[ADDR_MAX + 1], CANARY);
	(void)memcpy(p, "@example.test", sizeof("@example.test"));
	assert_int_equal(addr_normalize(in, out, NULL, NULL, &why), 0);
	assert_int_equal(strlen(out), ADDR_LOCAL_MAX + 13);
	/* 65 (N+1) */
	p = rep(in, 'a', ADDR_LOCAL_MAX + 1);
	*p = '\0';
	assert_int_equal(addr_local_normalize(in, out, &why), -1);
	assert_non_null(why);
	(void)memcpy(p, "@example.test", sizeof("@example.test"));
	assert_int_equal(addr_normalize(in, out, NULL, NULL, &why), -1);
	assert_int_equal(addr_normalize_foreign(in, out, &why), -1);
	/* Far longer, with and without a domain. */
	p = rep(in, 'a', sizeof(in) - 20);
	(void)memcpy(p, "@example.test", sizeof("@example.test"));
	assert_int_equal(addr_normalize(in, out, NULL, NULL, &why), -1);
	*p = '\0';
	assert_int_equal(addr_local_normalize(in, out, &why), -1);
}

static void
test_label_limit(void **state)
{
	char		 in[128], out[ADDR_MAX + 1], *p;
	const char	*why;

	(void)state;
	p = rep(in, 'L', ADDR_LABEL_MAX);			/* 63: N */
	(void)memcpy(p, ".test", sizeof(".test"));
	assert_int_equal(addr_domain_normalize(in, out, &why), 0);
	assert_int_equal(out[0], 'l');
	assert_int_equal(strlen(out), ADDR_LABEL_MAX + 5);
	p = rep(in, 'l', ADDR_LABEL_MAX + 1);		/* 64: N+1 */
	(void)memcpy(p, ".test", sizeof(".test"));
	assert_int_equal(addr_domain_normalize(in, out, &why), -1);
	/* The last label too. */
	(void)memcpy(in, "test.", 5);
	p = rep(in + 5, 'l', ADDR_LABEL_MAX);
	*p = '\0';
	assert_int_equal(addr_domain_normalize(in, out, &why), 0);
	p = rep(in + 5, 'l', ADDR_LABEL_MAX + 1);
	*p = '\0';
	assert_int_equal(addr_domain_normalize(in, out, &why), -1);
}

static void
test_domain_limit(void **state)
{
	char		 dom[400], in[500], out[ADDR_MAX + 2];
	const char	*why;

	(void)state;
	long_domain(dom, ADDR_DOMAIN_MAX);			/* 253: N */
	assert_int_equal(strlen(dom), 253);
	memset(out, CANARY, sizeof(out));
	assert_int_equal(addr_domain_normalize(dom, out, &why), 0);
	assert_string_equal(out, dom);
	assert_int_equal(out[ADDR_MAX + 1], CANARY);

	/* The longest address: 64 + 1 + 253 = ADDR_MAX. */
	memset(in, 'x', ADDR_LOCAL_MAX);
	in[ADDR_LOCAL_MAX] = '@';
	(void)memcpy(in + ADDR_LOCAL_MAX + 1, dom, strlen(dom) + 1);
	memset(out, CANARY, sizeof(out));
	assert_int_equal(addr_normalize(in, out, NULL, NULL, &why), 0);
	assert_int_equal(strlen(out), ADDR_MAX);
	assert_int_equal(out[ADDR_MAX + 1], CANARY);

	long_domain(dom, ADDR_DOMAIN_MAX + 1);		/* 254: N+1 */
	assert_int_equal(addr_domain_normalize(dom, out, &why), -1);
	(void)memcpy(in + ADDR_LOCAL_MAX + 1, dom, strlen(dom) + 1);
	assert_int_equal(addr_normalize(in, out, NULL, NULL, &why), -1);
	long_domain(dom, 390);
	assert_int_equal(addr_domain_normalize(dom, out, &why), -1);
}

/* 127 one-letter labels are 253 characters; 128 are too long. */
static void
test_label_count(void **state)
{
	char		 dom[300], out[ADDR_MAX + 1];
	const char	*why;
	size_t		 i;

	(void)state;
	for (i = 0; i < 127; i++) {
		dom[2 * i] = 'a';
		dom[2 * i + 1] = '.';
	}
	dom[2 * 127 - 1] = '\0';
	assert_int_equal(strlen(dom), 253);
	assert_int_equal(addr_domain_normalize(dom, out, &why), 0);
	dom[2 * 127 - 1] = '.';
	dom[2 * 127] = 'a';
	dom[2 * 127 + 1] = '\0';
	assert_int_equal(addr_domain_normalize(dom, out, &why), -1);
}

static void
test_domain_and_local_alone(void **state)
{
	static const struct case_ domains[] = {
		{ "Example.TEST", 0, "example.test" },
		{ "a.b", 0, "a.b" },
		{ "A-1.B-2.C", 0, "a-1.b-2.c" },
		{ "example", -1, NULL },
		{ "", -1, NULL },
		{ ".", -1, NULL },
		{ "-", -1, NULL },
		{ "a.-", -1, NULL },
		{ "bob@example.test", -1, NULL },
	};
	static const struct case_ locals[] = {
		{ "Bob", 0, "bob" },
		{ "a.b.c", 0, "a.b.c" },
		{ "O'Brien", 0, "o'brien" },
		{ "", -1, NULL },
		{ ".", -1, NULL },
		{ "a..b", -1, NULL },
		{ "a/b", -1, NULL },
		{ "a@b", -1, NULL },
		{ "a b", -1, NULL },
		{ "\"q\"", -1, NULL },
	};
	char		 out[ADDR_MAX + 1];
	const char	*why;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(domains); i++) {
		why = NULL;
		if (addr_domain_normalize(domains[i].in, out, &why) !=
		    domains[i].want_rc)
			fail_msg("domain \"%s\"", domains[i].in);
		if (domains[i].want_rc == 0)
			assert_string_equal(out, domains[i].want);
		else
			assert_non_null(why);
	}
	for (i = 0; i < N_ELEMENTS(locals); i++) {
		why = NULL;
		if (addr_local_normalize(locals[i].in, out, &why) !=
		    locals[i].want_rc)
			fail_msg("local \"%s\"", locals[i].in);
		if (locals[i].want_rc == 0)
			assert_string_equal(out, locals[i].want);
		else
			assert_non_null(why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_table),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_parts_out),
		cmocka_unit_test(test_local_limit),
		cmocka_unit_test(test_label_limit),
		cmocka_unit_test(test_domain_limit),
		cmocka_unit_test(test_label_count),
		cmocka_unit_test(test_domain_and_local_alone),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
