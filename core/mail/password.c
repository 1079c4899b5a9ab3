/* password.c - Dovecot-compatible password schemes over libxcrypt.
 *
 * struct crypt_data is 32 KiB: it is heap-allocated, zeroed before use
 * and cleared afterwards, since it holds key material. crypt_rn returns
 * NULL on failure (we never accept libxcrypt's "*0" failure token: it
 * cannot equal a stored hash, but NULL is checked first anyway). */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aviary/mem.h"
#include "aviary/password.h"
#include "aviary/str.h"

enum scheme_kind { SK_CRYPT, SK_PLAIN };

struct scheme {
	const char		*name;
	enum scheme_kind	 kind;
	const char		*prefix;	/* crypt_gensalt prefix, NULL: verify only */
	const char		*store_as;	/* name written in "{...}" */
	unsigned long		 rounds_min, rounds_max;
};

static const struct scheme schemes[] = {
	{ "SHA512-CRYPT", SK_CRYPT, "$6$",  "SHA512-CRYPT", 1000, 999999999 },
	{ "SHA256-CRYPT", SK_CRYPT, "$5$",  "SHA256-CRYPT", 1000, 999999999 },
	{ "BLF-CRYPT",    SK_CRYPT, "$2y$", "BLF-CRYPT",    4,    31 },
	{ "CRYPT",        SK_CRYPT, "$2y$", "CRYPT",        4,    31 },
	{ "YESCRYPT",     SK_CRYPT, "$y$",  "CRYPT",        1,    11 },
	{ "MD5-CRYPT",    SK_CRYPT, NULL,   NULL,           0,    0 },
	{ "DES-CRYPT",    SK_CRYPT, NULL,   NULL,           0,    0 },
	{ "PLAIN",        SK_PLAIN, NULL,   "PLAIN",        0,    0 },
	{ "CLEAR",        SK_PLAIN, NULL,   NULL,           0,    0 },
	{ "CLEARTEXT",    SK_PLAIN, NULL,   NULL,           0,    0 },
};

static const struct scheme *
scheme_find(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(schemes); i++)
		if (strlen(schemes[i].name) == len &&
		    strncasecmp(schemes[i].name, name, len) == 0)
			return &schemes[i];
	return NULL;
}

bool
password_scheme_known(const char *name)
{
	const struct scheme *s = scheme_find(name, strlen(name));

	return s != NULL && (s->prefix != NULL || s->kind == SK_PLAIN) &&
	    s->store_as != NULL;
}

int
password_hash(const char *scheme, unsigned rounds, const char *pw,
    char *out, size_t outsz, const char **error_r)
{
	const struct scheme	*s;
	char			 setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	*cd = NULL;
	const char		*h;
	int			 n, ret = -1;

	if (scheme == NULL)
		scheme = PASSWORD_DEFAULT_SCHEME;
	s = scheme_find(scheme, strlen(scheme));
	if (s == NULL || s->store_as == NULL ||
	    (s->kind == SK_CRYPT && s->prefix == NULL)) {
		*error_r = "unknown or verify-only password scheme";
		return -1;
	}
	if (strlen(pw) >= PASSWORD_MAX) {
		*error_r = "password too long (511 bytes at most)";
		return -1;
	}
	if (s->kind == SK_PLAIN) {
		if (rounds != 0) {
			*error_r = "PLAIN takes no rounds";
			return -1;
		}
		n = snprintf(out, outsz, "{PLAIN}%s", pw);
		if (n < 0 || (size_t)n >= outsz) {
			*error_r = "password too long";
			return -1;
		}
		return 0;
	}
	if (rounds != 0 && (rounds < s->rounds_min || rounds > s->rounds_max)) {
		*error_r = "rounds out of range for this scheme";
		return -1;
	}
	/* rbytes NULL: libxcrypt reads the OS random source itself. */
	if (crypt_gensalt_rn(s->prefix, rounds, NULL, 0, setting,
	    sizeof(setting)) == NULL) {
		*error_r = errno == EINVAL ? "rounds out of range for this scheme" :
		    "cannot generate a salt (no randomness?)";
		return -1;
	}
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (h == NULL || h[0] == '*') {
		*error_r = "hashing failed";
		goto out;
	}
	n = snprintf(out, outsz, "{%s}%s", s->store_as, h);
	if (n < 0 || (size_t)n >= outsz) {
		*error_r = "hash too long";
		goto out;
	}
	ret = 0;
out:
	xfree_secret(cd, sizeof(*cd));
	return ret;
}

int
password_verify(const char *pw, const char *stored, const char **error_r)
{
	const struct scheme	*s;
	const char		*data, *end, *h;
	struct crypt_data	*cd;
	int			 ret;

	if (stored[0] == '{') {
		end = strchr(stored, '}');
		if (end == NULL) {
			*error_r = "malformed scheme prefix";
			return -1;
		}
		s = scheme_find(stored + 1, (size_t)(end - stored - 1));
		if (s == NULL) {
			*error_r = "unknown password scheme";
			return -1;
		}
		data = end + 1;
	} else if (stored[0] == '$') {
		s = scheme_find("CRYPT", 5);
		data = stored;
	} else {
		*error_r = "password without a {SCHEME} prefix";
		return -1;
	}
	if (strlen(pw) >= PASSWORD_MAX)
		return 0;
	if (s->kind == SK_PLAIN)
		return str_ct_eq(pw, strlen(pw), data, strlen(data)) ? 1 : 0;
	if (data[0] == '\0') {
		*error_r = "empty hash";
		return -1;
	}
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_rn(pw, data, cd, sizeof(*cd));
	if (h == NULL || h[0] == '*') {
		*error_r = "malformed or unsupported crypt hash";
		ret = -1;
	} else {
		/* Compare the whole crypt() output with the whole stored
		 * string: "rounds=5000$" spelled out must match as stored. */
		ret = str_ct_eq(h, strlen(h), data, strlen(data)) ? 1 : 0;
	}
	xfree_secret(cd, sizeof(*cd));
	return ret;
}
