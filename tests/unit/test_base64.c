/* test_base64.c - core/lib/base64.c: the RFC 4648 section 10 vectors both
 * ways, what the strict decoder refuses, the size macros, and binary
 * round trips with every output written into a block of exactly the
 * advertised size (ASan catches a byte past it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aviary/base64.h"
#include "aviary/compat.h"
#include "aviary/mem.h"

struct vector {
	const char	*plain, *b64;
};

/* RFC 4648 section 10. */
static const struct vector vectors[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_encode_vectors(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		size_t	 n = strlen(vectors[i].plain);
		char	*out = xmalloc(BASE64_ENCODED_LEN(n) + 1); /* exact */

		base64_encode(vectors[i].plain, n, out);
		assert_string_equal(out, vectors[i].b64);
		assert_int_equal(strlen(out), BASE64_ENCODED_LEN(n));
		free(out);
	}
}

static void
test_decode_vectors(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		size_t		 n = strlen(vectors[i].b64);
		unsigned char	*out = xmalloc(BASE64_DECODED_MAX(n));
		long		 len;

		len = base64_decode(vectors[i].b64, n, out);
		assert_int_equal(len, strlen(vectors[i].plain));
		assert_memory_equal(out, vectors[i].plain, (size_t)len);
		free(out);
	}
}

/* The decoder is strict: each of these is -1. */
static void
test_decode_rejects(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
	} cases[] = {
#define C(s)	{ s, sizeof(s) - 1 }
		/* Length not a multiple of 4. */
		C("Z"),
		C("Zg"),
		C("Zg="),
		C("Zm9vY"),
		C("Zm9vYg="),
		C("Zm9vYmFy="),
		C("Zm9vYmFyZ"),
		/* Characters outside the alphabet (URL-safe ones too). */
		C("Zm9!"),
		C("Zm-v"),
		C("Zm_v"),
		C("Zm.v"),
		C("Zm9\x80"),
		C("\xffZm9"),
		C("Zm\0v"),
		/* '=' anywhere but the last two places of the last group. */
		C("=Zm9"),
		C("Z=9v"),
		C("Zg==Zg=="),
		C("Zm8=Zm9v"),
		C("Zm9vZ=9v"),
		C("A==="),
		C("===="),
		C("Zm9v===="),
		/* Data after padding. */
		C("Zg=A"),
		C("Zm9vZg=v"),
		/* Whitespace, folded lines. */
		C("Zm9 "),
		C(" Zm9"),
		C("Zm9v YmFy"),
		C("Zm9v\r\nYmFy"),
		C("Zm9v\nYmF"),
		C("Zg=\n"),
		C("Zm\t8"),
#undef C
	};
	unsigned char	 out[16];
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		long	 r = base64_decode(cases[i].in, cases[i].len, out);

		if (r != -1)
			fail_msg("base64_decode(case %zu) = %ld, want -1", i,
			    r);
	}
}

/* Non-zero bits in a padded group are accepted (base64.h says so). */
static void
test_decode_lenient_bits(void **state)
{
	unsigned char	 out[3];

	(void)state;
	assert_int_equal(base64_decode("Zh==", 4, out), 1);
	assert_int_equal(out[0], 'f');
	assert_int_equal(base64_decode("Zm9=", 4, out), 2);
	assert_memory_equal(out, "fo", 2);
}

static void
test_size_macros(void **state)
{
	static const struct {
		size_t	 n, enc;
	} enc_cases[] = {
		{ 0, 0 }, { 1, 4 }, { 2, 4 }, { 3, 4 }, { 4, 8 }, { 5, 8 },
		{ 6, 8 }, { 7, 12 }, { 48, 64 }, { 49, 68 },
		{ 16383, 21844 }, { 16384, 21848 },
	};
	static const struct {
		size_t	 n, dec;
	} dec_cases[] = {
		{ 0, 0 }, { 1, 3 }, { 3, 3 }, { 4, 3 }, { 5, 6 }, { 8, 6 },
		{ 64, 48 }, { 68, 51 }, { 21848, 16386 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(enc_cases); i++)
		assert_int_equal(BASE64_ENCODED_LEN(enc_cases[i].n),
		    enc_cases[i].enc);
	for (i = 0; i < N_ELEMENTS(dec_cases); i++)
		assert_int_equal(BASE64_DECODED_MAX(dec_cases[i].n),
		    dec_cases[i].dec);
	/* Decoding what n bytes encode to never needs more than n + 2. */
	for (i = 0; i < 100; i++) {
		assert_true(BASE64_DECODED_MAX(BASE64_ENCODED_LEN(i)) >= i);
		assert_true(BASE64_DECODED_MAX(BASE64_ENCODED_LEN(i)) <= i + 2);
	}
}

/* Every length 0..300 of bytes with NULs and high bytes: encode, check
 * the alphabet and padding, decode into an exact-size block, compare. */
static void
test_binary_round_trip(void **state)
{
	unsigned char	 in[300];
	size_t		 n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + (i % 3 == 0 ? 0 : 1));
	in[0] = in[1] = in[2] = '\0';
	in[150] = '\0';
	for (n = 0; n <= sizeof(in); n++) {
		size_t		 elen = BASE64_ENCODED_LEN(n);
		char		*enc = xmalloc(elen + 1);
		unsigned char	*dec = xmalloc(BASE64_DECODED_MAX(elen));
		long		 dlen;

		base64_encode(in, n, enc);
		assert_int_equal(strlen(enc), elen);
		for (i = 0; i < elen; i++)
			assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"
			    "ijklmnopqrstuvwxyz0123456789+/=", enc[i]) != NULL);
		/* Padding: 0, 2 or 1 '=' for n % 3 = 0, 1, 2. */
		if (n > 0) {
			assert_int_equal(enc[elen - 2] == '=', n % 3 == 1);
			assert_int_equal(enc[elen - 1] == '=', n % 3 != 0);
		}
		dlen = base64_decode(enc, elen, dec);
		assert_int_equal(dlen, n);
		assert_memory_equal(dec, in, n);
		free(enc);
		free(dec);
	}
}

/* All 256 byte values, decoded into exactly BASE64_DECODED_MAX bytes. */
static void
test_all_bytes(void **state)
{
	unsigned char	 in[256];
	char		 enc[BASE64_ENCODED_LEN(256) + 1];
	unsigned char	*dec = xmalloc(BASE64_DECODED_MAX(sizeof(enc) - 1));
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	base64_encode(in, sizeof(in), enc);
	assert_int_equal(strlen(enc), 344);
	assert_int_equal(base64_decode(enc, strlen(enc), dec), 256);
	assert_memory_equal(dec, in, sizeof(in));
	/* Known prefix: 00 01 02 -> AAEC, and the alphabet's last two. */
	assert_memory_equal(enc, "AAECAwQF", 8);
	assert_int_equal(base64_decode("+/+/", 4, dec), 3);
	assert_memory_equal(dec, "\xfb\xff\xbf", 3);
	free(dec);
}

/* The length bounds the decode: no NUL is needed and nothing past n is
 * read. */
static void
test_decode_slice(void **state)
{
	unsigned char	 out[6];

	(void)state;
	assert_int_equal(base64_decode("Zm9vYmFy!!!", 8, out), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(base64_decode("Zm9vYmFy", 4, out), 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(base64_decode("garbage", 0, out), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_lenient_bits),
		cmocka_unit_test(test_size_macros),
		cmocka_unit_test(test_binary_round_trip),
		cmocka_unit_test(test_all_bytes),
		cmocka_unit_test(test_decode_slice),
	};

	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
