/* str.c - borrowed slices. */
#include <string.h>

#include "aviary/str.h"

struct str
str_from_cstr(const char *s)
{
	return (struct str){ s, strlen(s) };
}

bool
str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
str_eq_cstr(struct str a, const char *s)
{
	return str_eq(a, str_from_cstr(s));
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool
str_caseeq_cstr(struct str a, const char *s)
{
	size_t	 i, n = strlen(s);

	if (a.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (ascii_lower(a.p[i]) != ascii_lower(s[i]))
			return false;
	return true;
}

bool
str_has_prefix(struct str a, const char *prefix)
{
	size_t	 n = strlen(prefix);

	return a.len >= n && memcmp(a.p, prefix, n) == 0;
}

bool
str_split(struct str a, char c, struct str *head_r, struct str *tail_r)
{
	const char	*q = a.len ? memchr(a.p, c, a.len) : NULL;

	if (q == NULL) {
		*head_r = a;
		*tail_r = (struct str){ a.p + a.len, 0 };
		return false;
	}
	*head_r = (struct str){ a.p, (size_t)(q - a.p) };
	*tail_r = (struct str){ q + 1, a.len - (size_t)(q - a.p) - 1 };
	return true;
}

struct str
str_trim(struct str a)
{
	while (a.len > 0 && (a.p[0] == ' ' || a.p[0] == '\t')) {
		a.p++;
		a.len--;
	}
	while (a.len > 0 && (a.p[a.len - 1] == ' ' || a.p[a.len - 1] == '\t'))
		a.len--;
	return a;
}

int
str_to_u64(struct str a, uint64_t *r)
{
	uint64_t	 v = 0;
	size_t		 i;
	unsigned	 d;

	if (a.len == 0)
		return -1;
	for (i = 0; i < a.len; i++) {
		if (a.p[i] < '0' || a.p[i] > '9')
			return -1;
		d = (unsigned)(a.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*r = v;
	return 0;
}

bool
str_ct_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char	*pa = a, *pb = b;
	unsigned char			 diff = 0;
	size_t				 i;

	/* Walk the longer string so the time depends on lengths only; the
	 * length difference is folded into the result. */
	size_t	 n = alen > blen ? alen : blen;

	for (i = 0; i < n; i++) {
		unsigned char	ca = i < alen ? pa[i] : 0;
		unsigned char	cb = i < blen ? pb[i] : 0;

		diff |= (unsigned char)(ca ^ cb);
	}
	return diff == 0 && alen == blen;
}
