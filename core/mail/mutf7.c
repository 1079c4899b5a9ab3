/* mutf7.c - IMAP modified UTF-7; see aviary/mutf7.h.
 *
 * RFC 3501 5.1.3 takes RFC 2152's UTF-7, swaps '+' for '&', '/' for ','
 * in the base64 alphabet, and makes the '-' that closes a run mandatory.
 * What the RFC leaves to "should" (merge adjacent runs, never encode
 * printable ASCII, zero padding) we enforce as "must", as Dovecot does,
 * because a name with two spellings would give two folders that look the
 * same to the user and two directories on disk.
 *
 * One decoder serves mutf7_is_valid() (out == NULL) and mutf7_to_utf8(),
 * so the two can never disagree.
 */
#include <stdint.h>
#include <string.h>

#include "aviary/base64.h"
#include "aviary/buf.h"
#include "aviary/mutf7.h"

static const char b64_enc[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static bool
is_printable(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Append code point cp (valid, not a surrogate) as UTF-8. */
static int
put_utf8(struct buf *out, uint32_t cp)
{
	char	 u[4];
	size_t	 n;

	if (out == NULL)
		return 0;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n);
}

/* Decode the base64 run starting at src[*ip] (just after the '&', not
 * "&-") up to and including its '-'. *ip is left after the '-'. */
static int
decode_run(const char *src, size_t len, size_t *ip, struct buf *out)
{
	uint32_t	 bits = 0, high = 0, u;
	unsigned	 nbits = 0;
	size_t		 i = *ip;
	int		 v;

	for (;; i++) {
		if (i >= len)
			return MUTF7_EINVAL;	/* unterminated */
		if (src[i] == '-')
			break;
		if ((v = base64_value((unsigned char)src[i], ',')) < 0)
			return MUTF7_EINVAL;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		if (high != 0) {
			/* A high surrogate must be followed by a low one. */
			if (u < 0xdc00 || u > 0xdfff)
				return MUTF7_EINVAL;
			u = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
			continue;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return MUTF7_EINVAL;	/* low surrogate first */
		} else if (u == 0 || is_printable(u)) {
			/* NUL cannot live in a C string; printable ASCII
			 * must be written as itself. */
			return MUTF7_EINVAL;
		}
		if (put_utf8(out, u) != 0)
			return BUF_EFULL;
	}
	/* Canonical padding: fewer than 6 bits left over (no whole extra
	 * character), all zero; no dangling high surrogate. An empty run
	 * cannot get here: "&-" is the escaped '&'. */
	if (high != 0 || nbits >= 6 || bits != 0)
		return MUTF7_EINVAL;
	i++;
	/* "&...-&..." is two runs that must have been one. */
	if (i < len && src[i] == '&' && (i + 1 >= len || src[i + 1] != '-'))
		return MUTF7_EINVAL;
	*ip = i;
	return 0;
}

static int
decode(const char *src, size_t len, struct buf *out)
{
	size_t	 i = 0;
	int	 r;

	while (i < len) {
		unsigned char c = (unsigned char)src[i];

		if (!is_printable(c))
			return MUTF7_EINVAL;
		if (c != '&') {
			size_t start = i;

			/* Copy the plain stretch in one append. */
			while (i < len && src[i] != '&' &&
			    is_printable((unsigned char)src[i]))
				i++;
			if (out != NULL &&
			    buf_append(out, src + start, i - start) != 0)
				return BUF_EFULL;
			continue;
		}
		if (i + 1 < len && src[i + 1] == '-') {
			if (out != NULL && buf_append_c(out, '&') != 0)
				return BUF_EFULL;
			i += 2;
			continue;
		}
		i++;
		if ((r = decode_run(src, len, &i, out)) != 0)
			return r;
	}
	return 0;
}

int
mutf7_to_utf8(const char *src, size_t len, struct buf *out)
{
	size_t	 old = out->len;
	int	 r = decode(src, len, out);

	if (r != 0)
		buf_truncate(out, old);
	return r;
}

bool
mutf7_is_valid(const char *src, size_t len)
{
	return decode(src, len, NULL) == 0;
}

/* The code point of the strict UTF-8 sequence at s[*ip], advancing *ip;
 * -1 on anything invalid (overlong, surrogate, > U+10FFFF, truncated,
 * stray continuation byte) or U+0000. */
static int32_t
utf8_next(const char *s, size_t len, size_t *ip)
{
	const unsigned char	*p = (const unsigned char *)s + *ip;
	size_t			 avail = len - *ip, n, k;
	uint32_t		 cp, min;

	if (p[0] == 0)
		return -1;
	if (p[0] < 0x80) {
		(*ip)++;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return -1;	/* continuation byte, 0xc0/0xc1, 0xf5.. */
	}
	if (avail < n)
		return -1;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*ip += n;
	return (int32_t)cp;
}

bool
mutf7_utf8_is_valid(const char *src, size_t len)
{
	size_t	 i = 0;

	while (i < len)
		if (utf8_next(src, len, &i) < 0)
			return false;
	return true;
}

/* Encoder state for one base64 run. */
struct run {
	uint32_t	 bits;
	unsigned	 nbits;
	bool		 open;
};

static int
run_unit(struct buf *out, struct run *r, uint32_t u)
{
	char	 c[3];
	size_t	 n = 0;

	r->bits = (r->bits << 16) | u;
	r->nbits += 16;
	while (r->nbits >= 6) {
		r->nbits -= 6;
		c[n++] = b64_enc[(r->bits >> r->nbits) & 0x3f];
	}
	r->bits &= (1u << r->nbits) - 1;
	return buf_append(out, c, n);
}

/* Flush the padded last character and the closing '-'. */
static int
run_close(struct buf *out, struct run *r)
{
	char	 c[2];
	size_t	 n = 0;

	if (!r->open)
		return 0;
	if (r->nbits > 0)
		c[n++] = b64_enc[(r->bits << (6 - r->nbits)) & 0x3f];
	c[n++] = '-';
	r->bits = 0;
	r->nbits = 0;
	r->open = false;
	return buf_append(out, c, n);
}

int
mutf7_from_utf8(const char *src, size_t len, struct buf *out)
{
	struct run	 r = { 0, 0, false };
	size_t		 old = out->len, i = 0;
	int32_t		 cp;
	int		 rc = 0;

	while (rc == 0 && i < len) {
		if ((cp = utf8_next(src, len, &i)) < 0) {
			rc = MUTF7_EINVAL;
			break;
		}
		if (is_printable((uint32_t)cp)) {
			rc = run_close(out, &r);
			if (rc == 0)
				rc = cp == '&' ? buf_append(out, "&-", 2) :
				    buf_append_c(out, (char)cp);
			continue;
		}
		if (!r.open) {
			r.open = true;
			rc = buf_append_c(out, '&');
		}
		if (rc == 0 && cp >= 0x10000) {
			uint32_t v = (uint32_t)cp - 0x10000;

			rc = run_unit(out, &r, 0xd800 | (v >> 10));
			if (rc == 0)
				rc = run_unit(out, &r, 0xdc00 | (v & 0x3ff));
		} else if (rc == 0) {
			rc = run_unit(out, &r, (uint32_t)cp);
		}
	}
	if (rc == 0)
		rc = run_close(out, &r);
	if (rc != 0) {
		buf_truncate(out, old);
		return rc == MUTF7_EINVAL ? MUTF7_EINVAL : BUF_EFULL;
	}
	return 0;
}
