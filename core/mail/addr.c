/* addr.c - address and domain validation; see aviary/addr.h.
 *
 * Strict on purpose: what passes here is used as a directory name
 * (mail root/<domain>/<local>) and as a key in SQL and Postfix maps, so
 * there is no quoting, no comments, no '/', no "..", no NUL and no
 * non-ASCII. Deviation from RFC 5322: quoted local parts are refused,
 * and so is '/', which atext allows. */
#include <string.h>

#include "aviary/addr.h"

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* RFC 5322 atext, minus '/'. */
static bool
is_atext(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-=?^_`{|}~", c));
}

int
addr_domain_normalize(const char *in, char *out, const char **why_r)
{
	size_t	 len = strnlen(in, ADDR_DOMAIN_MAX + 2), i, label = 0;
	size_t	 labels = 1;

	if (len == 0) {
		*why_r = "empty domain";
		return -1;
	}
	if (len > ADDR_DOMAIN_MAX) {
		*why_r = "domain longer than 253 characters";
		return -1;
	}
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '.') {
			if (label == 0) {
				*why_r = "empty label in domain";
				return -1;
			}
			if (in[i - 1] == '-') {
				*why_r = "domain label ends with '-'";
				return -1;
			}
			label = 0;
			labels++;
			out[i] = c;
			continue;
		}
		if (!is_alnum(c) && c != '-') {
			*why_r = (unsigned char)c >= 0x80 ?
			    "non-ASCII domain (give it in xn-- form)" :
			    "invalid character in domain";
			return -1;
		}
		if (c == '-' && label == 0) {
			*why_r = "domain label starts with '-'";
			return -1;
		}
		if (++label > ADDR_LABEL_MAX) {
			*why_r = "domain label longer than 63 characters";
			return -1;
		}
		out[i] = lower(c);
	}
	if (label == 0) {
		*why_r = "domain ends with '.'";
		return -1;
	}
	if (in[len - 1] == '-') {
		*why_r = "domain label ends with '-'";
		return -1;
	}
	if (labels < 2) {
		*why_r = "domain needs at least two labels (example.com)";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

static int
local_check(const char *in, char *out, bool fold, const char **why_r)
{
	size_t	 len = strnlen(in, ADDR_LOCAL_MAX + 2), i;

	if (len == 0) {
		*why_r = "empty local part";
		return -1;
	}
	if (len > ADDR_LOCAL_MAX) {
		*why_r = "local part longer than 64 characters";
		return -1;
	}
	if (in[0] == '.' || in[len - 1] == '.') {
		*why_r = "local part starts or ends with '.'";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (in[i] == '.' && in[i + 1] == '.') {
			*why_r = "local part contains '..'";
			return -1;
		}
		if (in[i] != '.' && !is_atext(in[i])) {
			*why_r = (unsigned char)in[i] >= 0x80 ?
			    "non-ASCII local part" :
			    "invalid character in local part";
			return -1;
		}
		out[i] = fold ? lower(in[i]) : in[i];
	}
	out[len] = '\0';
	return 0;
}

int
addr_local_normalize(const char *in, char *out, const char **why_r)
{
	return local_check(in, out, true, why_r);
}

static int
addr_split_normalize(const char *in, char *out, char *local_r,
    char *domain_r, bool fold, const char **why_r)
{
	char		 local[ADDR_MAX + 1], domain[ADDR_MAX + 1];
	const char	*at = strrchr(in, '@');
	size_t		 llen;

	if (at == NULL) {
		*why_r = "not an address (local@domain)";
		return -1;
	}
	llen = (size_t)(at - in);
	if (llen > ADDR_LOCAL_MAX) {
		*why_r = "local part longer than 64 characters";
		return -1;
	}
	memcpy(local, in, llen);
	local[llen] = '\0';
	if (local_check(local, local, fold, why_r) == -1 ||
	    addr_domain_normalize(at + 1, domain, why_r) == -1)
		return -1;
	/* Both fit: 64 + 1 + 253 + NUL = ADDR_MAX + 1. */
	memcpy(out, local, strlen(local));
	out[strlen(local)] = '@';
	memcpy(out + strlen(local) + 1, domain, strlen(domain) + 1);
	if (local_r != NULL)
		memcpy(local_r, local, strlen(local) + 1);
	if (domain_r != NULL)
		memcpy(domain_r, domain, strlen(domain) + 1);
	return 0;
}

int
addr_normalize(const char *in, char *out, char *local_r, char *domain_r,
    const char **why_r)
{
	return addr_split_normalize(in, out, local_r, domain_r, true, why_r);
}

int
addr_normalize_foreign(const char *in, char *out, const char **why_r)
{
	return addr_split_normalize(in, out, NULL, NULL, false, why_r);
}
