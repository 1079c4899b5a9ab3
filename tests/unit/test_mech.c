/* test_mech.c - auth-sql/mech.c: PLAIN messages (RFC 4616: exactly two
 * NULs, authzid empty or equal to the authcid), LOGIN's two prompts with
 * and without an initial response, the user name and password limits at
 * N and N+1, and mechanism lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mech.h"
#include "aviary/compat.h"

struct out {
	const char	*challenge;
	const char	*error;
	char		 user[MECH_USER_MAX + 1];
	char		 password[PASSWORD_MAX];
};

static enum mech_result
step(struct mech_state *m, const char *data, size_t len, bool has_data,
    struct out *o)
{
	o->challenge = NULL;
	o->error = NULL;
	return mech_step(m, data, len, has_data, &o->challenge, o->user,
	    o->password, &o->error);
}

struct plain_case {
	const char	*msg;
	size_t		 len;
	enum mech_result want;
	const char	*user, *password;
};

#define P(msg, want, user, pw)	{ msg, sizeof(msg) - 1, want, user, pw }

static const struct plain_case plain_cases[] = {
	P("\0user\0pass", MECH_DONE, "user", "pass"),
	P("\0demo@example.test\0secret", MECH_DONE, "demo@example.test",
	    "secret"),
	P("user\0user\0pass", MECH_DONE, "user", "pass"),	/* authzid = */
	P("other\0user\0pass", MECH_AUTHZ_FAIL, NULL, NULL),
	P("use\0user\0pass", MECH_AUTHZ_FAIL, NULL, NULL),	/* prefix */
	P("userx\0user\0pass", MECH_AUTHZ_FAIL, NULL, NULL),
	P("User\0user\0pass", MECH_AUTHZ_FAIL, NULL, NULL),	/* exact */
	P("\0user\0", MECH_DONE, "user", ""),		/* empty password */
	P("\0u\0p", MECH_DONE, "u", "p"),
	P("\0user\0pa ss\t!", MECH_DONE, "user", "pa ss\t!"),
	/* Not exactly two NULs. */
	P("", MECH_FAIL, NULL, NULL),
	P("userpass", MECH_FAIL, NULL, NULL),
	P("\0userpass", MECH_FAIL, NULL, NULL),
	P("user\0pass", MECH_FAIL, NULL, NULL),
	P("\0", MECH_FAIL, NULL, NULL),
	P("\0\0\0", MECH_FAIL, NULL, NULL),
	P("\0user\0pa\0ss", MECH_FAIL, NULL, NULL),
	P("\0user\0pass\0", MECH_FAIL, NULL, NULL),
	P("user\0user\0pass\0", MECH_FAIL, NULL, NULL),
	/* Empty authcid, with and without an authzid. */
	P("\0\0pass", MECH_FAIL, NULL, NULL),
	P("\0\0", MECH_FAIL, NULL, NULL),
	P("user\0\0pass", MECH_FAIL, NULL, NULL),
};

#undef P

static void
test_plain_messages(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(plain_cases); i++) {
		const struct plain_case	*c = &plain_cases[i];
		struct mech_state	 m = { .kind = MECH_PLAIN };
		struct out		 o;
		enum mech_result	 r;

		memset(&o, 'Z', sizeof(o));
		r = step(&m, c->msg, c->len, true, &o);
		if (r != c->want)
			fail_msg("PLAIN case %zu: %d, want %d (%s)", i, r,
			    c->want, o.error ? o.error : "no error");
		if (r == MECH_DONE) {
			assert_string_equal(o.user, c->user);
			assert_string_equal(o.password, c->password);
		} else
			assert_non_null(o.error);
	}
}

/* No initial response: an empty challenge, then the message. A second
 * empty step fails rather than looping. */
static void
test_plain_no_initial(void **state)
{
	struct mech_state	 m = { .kind = MECH_PLAIN };
	struct out		 o;

	(void)state;
	assert_int_equal(step(&m, NULL, 0, false, &o), MECH_CONTINUE);
	assert_non_null(o.challenge);
	assert_string_equal(o.challenge, "");
	assert_int_equal(step(&m, "\0user\0pass", 10, true, &o), MECH_DONE);
	assert_string_equal(o.user, "user");
	assert_string_equal(o.password, "pass");

	memset(&m, 0, sizeof(m));
	m.kind = MECH_PLAIN;
	assert_int_equal(step(&m, NULL, 0, false, &o), MECH_CONTINUE);
	assert_int_equal(step(&m, NULL, 0, false, &o), MECH_FAIL);
	assert_non_null(o.error);
	/* An empty response (CONT with no data) is a malformed message. */
	memset(&m, 0, sizeof(m));
	m.kind = MECH_PLAIN;
	assert_int_equal(step(&m, "", 0, true, &o), MECH_FAIL);
}

/* User names of MECH_USER_MAX bytes pass, one more fails; passwords of
 * PASSWORD_MAX - 1 bytes pass (the buffer keeps a NUL), PASSWORD_MAX
 * fails. */
static void
test_plain_limits(void **state)
{
	static char		 msg[1 + MECH_USER_MAX + 2 + PASSWORD_MAX + 1];
	static const struct {
		size_t			 ulen, plen;
		enum mech_result	 want;
	} cases[] = {
		{ MECH_USER_MAX, 4, MECH_DONE },
		{ MECH_USER_MAX + 1, 4, MECH_FAIL },
		{ 4, PASSWORD_MAX - 1, MECH_DONE },
		{ 4, PASSWORD_MAX, MECH_FAIL },
		{ MECH_USER_MAX, PASSWORD_MAX - 1, MECH_DONE },
		{ MECH_USER_MAX + 1, PASSWORD_MAX, MECH_FAIL },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct mech_state	 m = { .kind = MECH_PLAIN };
		struct out		 o;
		size_t			 len = 0;

		msg[len++] = '\0';
		memset(msg + len, 'u', cases[i].ulen);
		len += cases[i].ulen;
		msg[len++] = '\0';
		memset(msg + len, 'p', cases[i].plen);
		len += cases[i].plen;
		assert_true(len <= sizeof(msg));
		if (step(&m, msg, len, true, &o) != cases[i].want)
			fail_msg("PLAIN user %zu, password %zu: want %d",
			    cases[i].ulen, cases[i].plen, cases[i].want);
		if (cases[i].want == MECH_DONE) {
			assert_int_equal(strlen(o.user), cases[i].ulen);
			assert_int_equal(strlen(o.password), cases[i].plen);
		}
	}
}

static void
test_login(void **state)
{
	struct mech_state	 m = { .kind = MECH_LOGIN };
	struct out		 o;

	(void)state;
	assert_int_equal(step(&m, NULL, 0, false, &o), MECH_CONTINUE);
	assert_string_equal(o.challenge, "Username:");
	assert_int_equal(step(&m, "demo@example.test", 17, true, &o),
	    MECH_CONTINUE);
	assert_string_equal(o.challenge, "Password:");
	assert_int_equal(step(&m, "secret", 6, true, &o), MECH_DONE);
	assert_string_equal(o.user, "demo@example.test");
	assert_string_equal(o.password, "secret");
	/* Anything after DONE is an error, not a new round. */
	assert_int_equal(step(&m, "more", 4, true, &o), MECH_FAIL);
	assert_non_null(o.error);
}

/* An initial response is the user name: straight to "Password:". */
static void
test_login_initial(void **state)
{
	struct mech_state	 m = { .kind = MECH_LOGIN };
	struct out		 o;

	(void)state;
	assert_int_equal(step(&m, "demo", 4, true, &o), MECH_CONTINUE);
	assert_string_equal(o.challenge, "Password:");
	assert_int_equal(step(&m, "", 0, true, &o), MECH_DONE);
	assert_string_equal(o.user, "demo");
	assert_string_equal(o.password, "");	/* empty: the passdb says no */
}

static void
test_login_fail(void **state)
{
	static char		 big[PASSWORD_MAX + 1];
	struct mech_state	 m;
	struct out		 o;

	(void)state;
	memset(big, 'x', sizeof(big));

	/* Empty user name, as initial response and after the prompt. */
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, "", 0, true, &o), MECH_FAIL);
	assert_non_null(o.error);
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, NULL, 0, false, &o), MECH_CONTINUE);
	assert_int_equal(step(&m, "", 0, true, &o), MECH_FAIL);

	/* NUL inside the user name or the password. */
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, "de\0mo", 5, true, &o), MECH_FAIL);
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, "demo", 4, true, &o), MECH_CONTINUE);
	assert_int_equal(step(&m, "se\0cret", 7, true, &o), MECH_FAIL);

	/* User name: MECH_USER_MAX ok, + 1 fails. */
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, big, MECH_USER_MAX, true, &o),
	    MECH_CONTINUE);
	assert_int_equal(step(&m, "pw", 2, true, &o), MECH_DONE);
	assert_int_equal(strlen(o.user), MECH_USER_MAX);
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, big, MECH_USER_MAX + 1, true, &o),
	    MECH_FAIL);

	/* Password: PASSWORD_MAX - 1 ok, PASSWORD_MAX fails. */
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, "demo", 4, true, &o), MECH_CONTINUE);
	assert_int_equal(step(&m, big, PASSWORD_MAX - 1, true, &o), MECH_DONE);
	assert_int_equal(strlen(o.password), PASSWORD_MAX - 1);
	memset(&m, 0, sizeof(m));
	m.kind = MECH_LOGIN;
	assert_int_equal(step(&m, "demo", 4, true, &o), MECH_CONTINUE);
	assert_int_equal(step(&m, big, PASSWORD_MAX, true, &o), MECH_FAIL);
}

static void
test_find(void **state)
{
	static const struct {
		const char	*name;
		bool		 found;
		enum mech_kind	 kind;
	} cases[] = {
		{ "PLAIN", true, MECH_PLAIN },
		{ "plain", true, MECH_PLAIN },
		{ "PlAiN", true, MECH_PLAIN },
		{ "LOGIN", true, MECH_LOGIN },
		{ "login", true, MECH_LOGIN },
		{ "Login", true, MECH_LOGIN },
		{ "", false, MECH_PLAIN },
		{ "PLAI", false, MECH_PLAIN },
		{ "PLAINX", false, MECH_PLAIN },
		{ "CRAM-MD5", false, MECH_PLAIN },
		{ "GSSAPI", false, MECH_PLAIN },
		{ "XOAUTH2", false, MECH_PLAIN },
		{ "ANONYMOUS", false, MECH_PLAIN },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		enum mech_kind	 kind = MECH_LOGIN + 1;
		bool		 found;

		found = mech_find(cases[i].name, strlen(cases[i].name), &kind);
		assert_int_equal(found, cases[i].found);
		if (found)
			assert_int_equal(kind, cases[i].kind);
	}
	/* The length bounds the name: no NUL is needed. */
	{
		enum mech_kind	 kind;

		assert_true(mech_find("PLAINTEXT", 5, &kind));
		assert_int_equal(kind, MECH_PLAIN);
		assert_false(mech_find("LOGIN", 4, &kind));
	}
	assert_string_equal(mech_name(MECH_PLAIN), "PLAIN");
	assert_string_equal(mech_name(MECH_LOGIN), "LOGIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_messages),
		cmocka_unit_test(test_plain_no_initial),
		cmocka_unit_test(test_plain_limits),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_login_initial),
		cmocka_unit_test(test_login_fail),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests_name("mech", tests, NULL, NULL);
}
