/* test_password.c - core/mail/password.c: published crypt vectors under
 * every accepted spelling, PLAIN, failures that must fail closed, hash ->
 * verify round trips for each scheme, rounds and length limits at N and
 * N+1. Vectors: SHA-crypt from Drepper's specification
 * (akkadia.org/drepper/SHA-crypt.txt), bcrypt from crypt_blowfish's
 * tests, MD5-crypt computed with libxcrypt; each was checked against
 * Python's crypt module. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/password.h"

#define SHA512_HELLO \
	"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJ" \
	"uesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define SHA512_R5000_HELLO \
	"$6$rounds=5000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817" \
	"G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define SHA512_R5000_TEST \
	"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeK" \
	"QzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"
#define SHA512_R10000_HELLO \
	"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sb" \
	"HbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
#define SHA256_HELLO \
	"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
#define BCRYPT_UU_SALT \
	"05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define MD5_HELLO	"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"

struct verify_case {
	const char	*pw;
	const char	*stored;
	int		 want;
};

static const struct verify_case verify_cases[] = {
	/* SHA512-crypt: every name and no prefix. */
	{ "Hello world!", "{SHA512-CRYPT}" SHA512_HELLO, 1 },
	{ "Hello world!", "{CRYPT}" SHA512_HELLO, 1 },
	{ "Hello world!", SHA512_HELLO, 1 },
	{ "Hello world!", "{sha512-crypt}" SHA512_HELLO, 1 },
	{ "Hello world!", "{Sha512-Crypt}" SHA512_HELLO, 1 },
	{ "Hello world!", "{BLF-CRYPT}" SHA512_HELLO, 1 },	/* Dovecot */
	{ "Hello world!", "{SHA512-CRYPT}" SHA512_R5000_HELLO, 1 },
	{ "This is just a test", "{SHA512-CRYPT}" SHA512_R5000_TEST, 1 },
	{ "Hello world!", SHA512_R10000_HELLO, 1 },
	{ "Hello world?", "{SHA512-CRYPT}" SHA512_HELLO, 0 },
	{ "hello world!", SHA512_HELLO, 0 },
	{ "", SHA512_HELLO, 0 },
	{ "Hello world", SHA512_HELLO, 0 },
	{ "Hello world!!", SHA512_HELLO, 0 },
	/* The same salt with a different hash does not match. */
	{ "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/"
	    "O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz2", 0 },
	/* The stored form must match as spelled: dropping "rounds=5000$"
	 * from a hash that has it changes the string. */
	{ "Hello world!", "{SHA512-CRYPT}" SHA512_HELLO "x", 0 },
	/* SHA256-crypt. */
	{ "Hello world!", "{SHA256-CRYPT}" SHA256_HELLO, 1 },
	{ "Hello world!", SHA256_HELLO, 1 },
	{ "Hello world.", "{SHA256-CRYPT}" SHA256_HELLO, 0 },
	/* A corrupted copy of the vector (last 10 characters changed). */
	{ "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZ"
	    "F4qpsPO5", 0 },
	/* bcrypt, each variant. */
	{ "U*U", "{BLF-CRYPT}$2a$" BCRYPT_UU_SALT, 1 },
	{ "U*U", "{BLF-CRYPT}$2b$" BCRYPT_UU_SALT, 1 },
	{ "U*U", "{BLF-CRYPT}$2y$" BCRYPT_UU_SALT, 1 },
	{ "U*U", "{CRYPT}$2y$" BCRYPT_UU_SALT, 1 },
	{ "U*U", "$2y$" BCRYPT_UU_SALT, 1 },
	{ "U*V", "{BLF-CRYPT}$2y$" BCRYPT_UU_SALT, 0 },
	/* Verify-only crypt names. */
	{ "Hello world!", "{MD5-CRYPT}" MD5_HELLO, 1 },
	{ "Hello world!", "{MD5-CRYPT}" MD5_HELLO "x", 0 },
	/* PLAIN and its aliases. */
	{ "secret", "{PLAIN}secret", 1 },
	{ "secret", "{plain}secret", 1 },
	{ "secret", "{CLEAR}secret", 1 },
	{ "secret", "{CLEARTEXT}secret", 1 },
	{ "Secret", "{PLAIN}secret", 0 },
	{ "secre", "{PLAIN}secret", 0 },
	{ "secrets", "{PLAIN}secret", 0 },
	{ "", "{PLAIN}secret", 0 },
	{ "", "{PLAIN}", 1 },
	{ "{PLAIN}secret", "{PLAIN}secret", 0 },
	/* Unusable stored values: -1, never a match. */
	{ "secret", "{FOO}secret", -1 },
	{ "secret", "{}secret", -1 },
	{ "secret", "{PLAIN secret", -1 },
	{ "Hello world!", "{SHA512-CRYPT" SHA512_HELLO, -1 },
	{ "secret", "{ PLAIN}secret", -1 },
	{ "secret", "{PLAIN }secret", -1 },
	{ "secret", "{PLAINX}secret", -1 },
	{ "secret", "secret", -1 },		/* no prefix, no '$' */
	{ "", "", -1 },
	{ "x", "{SHA512-CRYPT}", -1 },
	{ "x", "{CRYPT}*0", -1 },
	{ "x", "{CRYPT}$9$nothing", -1 },
	{ "U*U", "{BLF-CRYPT}$2y$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0Xo"
	    "uQYb4YMJKvyOeW", -1 },
};

static void
test_verify_vectors(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(verify_cases); i++) {
		const char	*why = NULL;
		int		 rc;

		rc = password_verify(verify_cases[i].pw,
		    verify_cases[i].stored, &why);
		if (rc != verify_cases[i].want)
			fail_msg("verify(\"%s\", \"%s\") = %d, want %d (%s)",
			    verify_cases[i].pw, verify_cases[i].stored, rc,
			    verify_cases[i].want, why != NULL ? why : "-");
		if (rc == -1)
			assert_non_null(why);
	}
}

static void
test_scheme_known(void **state)
{
	static const struct {
		const char	*name;
		bool		 want;
	} cases[] = {
		{ "SHA512-CRYPT", true },
		{ "sha512-crypt", true },
		{ "SHA256-CRYPT", true },
		{ "BLF-CRYPT", true },
		{ "CRYPT", true },
		{ "YESCRYPT", true },
		{ "PLAIN", true },
		{ "MD5-CRYPT", false },		/* verify only */
		{ "DES-CRYPT", false },
		{ "CLEAR", false },
		{ "CLEARTEXT", false },
		{ "", false },
		{ "SHA512", false },
		{ "SHA512-CRYPTX", false },
		{ "{SHA512-CRYPT}", false },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		if (password_scheme_known(cases[i].name) != cases[i].want)
			fail_msg("password_scheme_known(\"%s\")",
			    cases[i].name);
}

/* Each generatable scheme: the stored prefix, then verify round trips. */
static void
test_hash_roundtrip(void **state)
{
	static const struct {
		const char	*scheme;
		unsigned	 rounds;
		const char	*prefix;
	} cases[] = {
		{ NULL, 0, "{SHA512-CRYPT}$6$" },
		{ "SHA512-CRYPT", 0, "{SHA512-CRYPT}$6$" },
		{ "sha512-crypt", 0, "{SHA512-CRYPT}$6$" },
		{ "SHA512-CRYPT", 1000, "{SHA512-CRYPT}$6$rounds=1000$" },
		{ "SHA256-CRYPT", 0, "{SHA256-CRYPT}$5$" },
		{ "SHA256-CRYPT", 1000, "{SHA256-CRYPT}$5$rounds=1000$" },
		{ "BLF-CRYPT", 0, "{BLF-CRYPT}$2y$" },
		{ "BLF-CRYPT", 4, "{BLF-CRYPT}$2y$04$" },
		{ "CRYPT", 4, "{CRYPT}$2y$04$" },
		{ "YESCRYPT", 0, "{CRYPT}$y$" },
		{ "YESCRYPT", 1, "{CRYPT}$y$" },
		{ "PLAIN", 0, "{PLAIN}correct horse" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		char		 out[PASSWORD_HASH_MAX];
		char		 again[PASSWORD_HASH_MAX];
		const char	*why = NULL;

		if (password_hash(cases[i].scheme, cases[i].rounds,
		    "correct horse", out, sizeof(out), &why) != 0)
			fail_msg("hash %s/%u: %s", cases[i].scheme,
			    cases[i].rounds, why);
		if (strncmp(out, cases[i].prefix, strlen(cases[i].prefix)))
			fail_msg("hash %s/%u: \"%s\"", cases[i].scheme,
			    cases[i].rounds, out);
		assert_int_equal(password_verify("correct horse", out, &why),
		    1);
		assert_int_equal(password_verify("correct horsE", out, &why),
		    0);
		assert_int_equal(password_verify("", out, &why), 0);
		/* A fresh salt each time (PLAIN has none). */
		assert_int_equal(password_hash(cases[i].scheme,
		    cases[i].rounds, "correct horse", again, sizeof(again),
		    &why), 0);
		if (strcmp(cases[i].prefix, "{PLAIN}correct horse") != 0)
			assert_string_not_equal(out, again);
	}
}

static void
test_hash_rejects(void **state)
{
	static const struct {
		const char	*scheme;
		unsigned	 rounds;
	} cases[] = {
		{ "SHA512-CRYPT", 999 },		/* min - 1 */
		{ "SHA512-CRYPT", 1000000000 },		/* max + 1 */
		{ "SHA256-CRYPT", 999 },
		{ "SHA256-CRYPT", 1000000000 },
		{ "BLF-CRYPT", 3 },
		{ "BLF-CRYPT", 32 },
		{ "CRYPT", 3 },
		{ "CRYPT", 32 },
		{ "YESCRYPT", 12 },
		{ "PLAIN", 1 },				/* no rounds */
		{ "MD5-CRYPT", 0 },			/* verify only */
		{ "DES-CRYPT", 0 },
		{ "CLEAR", 0 },
		{ "CLEARTEXT", 0 },
		{ "FOO", 0 },
		{ "", 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		char		 out[PASSWORD_HASH_MAX];
		const char	*why = NULL;

		if (password_hash(cases[i].scheme, cases[i].rounds, "pw", out,
		    sizeof(out), &why) != -1)
			fail_msg("hash %s/%u succeeded", cases[i].scheme,
			    cases[i].rounds);
		assert_non_null(why);
	}
}

/* PASSWORD_MAX - 1 = 511 bytes hash and verify; 512 are refused by
 * password_hash and never match in password_verify. */
static void
test_password_length(void **state)
{
	char		 pw[PASSWORD_MAX + 2], out[PASSWORD_HASH_MAX];
	const char	*why;

	(void)state;
	memset(pw, 'p', sizeof(pw));
	pw[PASSWORD_MAX - 1] = '\0';				/* 511: N */
	assert_int_equal(password_hash("SHA512-CRYPT", 0, pw, out,
	    sizeof(out), &why), 0);
	assert_int_equal(password_verify(pw, out, &why), 1);
	pw[PASSWORD_MAX - 1] = 'p';
	pw[PASSWORD_MAX] = '\0';				/* 512: N+1 */
	assert_int_equal(password_hash("SHA512-CRYPT", 0, pw, out,
	    sizeof(out), &why), -1);
	assert_int_equal(password_hash("PLAIN", 0, pw, out, sizeof(out),
	    &why), -1);
	/* Too long never matches, even against itself in PLAIN. */
	assert_int_equal(password_verify(pw, "{PLAIN}pppp", &why), 0);
}

/* The output buffer: exactly the needed size works, one byte less fails.
 * For PLAIN that is also the longest password PASSWORD_HASH_MAX holds:
 * "{PLAIN}" + 392 + NUL = 400. */
static void
test_output_size(void **state)
{
	char		 pw[PASSWORD_HASH_MAX + 1];
	char		 out[PASSWORD_HASH_MAX + 8];
	const char	*why;
	size_t		 need;

	(void)state;
	assert_int_equal(password_hash("PLAIN", 0, "abc", out, 11, &why), 0);
	assert_string_equal(out, "{PLAIN}abc");
	assert_int_equal(password_hash("PLAIN", 0, "abc", out, 10, &why), -1);

	memset(pw, 'q', sizeof(pw));
	pw[PASSWORD_HASH_MAX - 8] = '\0';			/* 392 */
	assert_int_equal(password_hash("PLAIN", 0, pw, out, PASSWORD_HASH_MAX,
	    &why), 0);
	assert_int_equal(strlen(out), PASSWORD_HASH_MAX - 1);
	pw[PASSWORD_HASH_MAX - 8] = 'q';
	pw[PASSWORD_HASH_MAX - 7] = '\0';			/* 393 */
	assert_int_equal(password_hash("PLAIN", 0, pw, out, PASSWORD_HASH_MAX,
	    &why), -1);

	/* A default SHA512-CRYPT hash always has the same length. */
	assert_int_equal(password_hash(NULL, 0, "pw", out, sizeof(out), &why),
	    0);
	need = strlen(out) + 1;
	assert_int_equal(password_hash(NULL, 0, "pw", out, need, &why), 0);
	assert_int_equal(strlen(out) + 1, need);
	assert_int_equal(password_hash(NULL, 0, "pw", out, need - 1, &why),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_vectors),
		cmocka_unit_test(test_scheme_known),
		cmocka_unit_test(test_hash_roundtrip),
		cmocka_unit_test(test_hash_rejects),
		cmocka_unit_test(test_password_length),
		cmocka_unit_test(test_output_size),
	};

	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
