/* mime_search.c - what IMAP SEARCH needs from a message: header values
 * decoded for people (RFC 2047), charsets to UTF-8 (iconv), a simple
 * case folding, decoded body text (base64, quoted-printable), address
 * matching and RFC 5322 dates.
 *
 * SEARCH has no byte-exact oracle the way FETCH has (Dovecot's
 * i;unicode-casemap also decomposes and title-cases), so this is the
 * conservative subset: a match here is a match in Dovecot, and the
 * differences are in exotic scripts. Decoders never fail: bad input
 * becomes U+FFFD or stays as written. All output lives in the caller's
 * arena; everything is linear in the input.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "aviary/arena.h"
#include "aviary/base64.h"
#include "aviary/mime.h"

#include "mime_private.h"

/* --- charsets --- */

static bool
charset_is_identity(const char *cs)
{
	return cs == NULL || cs[0] == '\0' || strcasecmp(cs, "utf-8") == 0 ||
	    strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "ascii") == 0;
}

char *
mime_charset_to_utf8(struct arena *a, const char *charset, const char *p,
    size_t len, size_t *len_r)
{
	struct sb	 s;
	iconv_t		 cd;
	char		 out[1024], *in, *o;
	size_t		 inleft = len, oleft, r;

	sb_init(&s, a);
	sb_addn(&s, "", 0);
	if (charset_is_identity(charset) ||
	    (cd = iconv_open("UTF-8", charset)) == (iconv_t)-1) {
		sb_addn(&s, p, len);
		goto out;
	}
	in = (char *)(uintptr_t)p;	/* iconv's API is not const */
	while (inleft > 0) {
		o = out;
		oleft = sizeof(out);
		r = iconv(cd, &in, &inleft, &o, &oleft);
		sb_addn(&s, out, sizeof(out) - oleft);
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated at the end): one byte is
		 * lost, U+FFFD stands for it */
		sb_addn(&s, UTF8_REPLACEMENT, 3);
		in++;
		inleft--;
	}
	o = out;
	oleft = sizeof(out);
	(void)iconv(cd, NULL, NULL, &o, &oleft);
	sb_addn(&s, out, sizeof(out) - oleft);
	(void)iconv_close(cd);
out:
	if (len_r != NULL)
		*len_r = s.len;
	return s.p;
}

/* --- RFC 2047 --- */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lenient base64: bytes outside the alphabet are skipped, '=' ends. */
static void
b64_decode(struct sb *s, const char *p, size_t n)
{
	uint32_t	 acc = 0;
	int		 bits = 0, v;
	size_t		 i;

	for (i = 0; i < n && p[i] != '='; i++) {
		if ((v = base64_value((unsigned char)p[i], '/')) < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_addc(s, (char)((acc >> bits) & 0xff));
		}
	}
}

/* Quoted-printable; in_header: '_' is a space (RFC 2047 "Q"). */
static void
qp_decode(struct sb *s, const char *p, size_t n, bool in_header)
{
	size_t	 i, ws;
	int	 h1, h2;

	for (i = 0; i < n; i++) {
		if (p[i] == '_' && in_header) {
			sb_addc(s, ' ');
		} else if (p[i] == '=' && i + 2 < n &&
		    (h1 = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (h2 = hexval((unsigned char)p[i + 2])) >= 0) {
			sb_addc(s, (char)(h1 * 16 + h2));
			i += 2;
		} else if (p[i] == '=' && !in_header) {
			/* soft line break: "=" blank* [CR] LF */
			for (ws = i + 1; ws < n && (p[ws] == ' ' ||
			    p[ws] == '\t'); ws++)
				;
			if (ws < n && p[ws] == '\r')
				ws++;
			if (ws >= n || p[ws] == '\n')
				i = ws;
			else
				sb_addc(s, '=');
		} else if ((p[i] == ' ' || p[i] == '\t') && !in_header) {
			/* blank space at the end of a line is padding */
			for (ws = i; ws < n && (p[ws] == ' ' || p[ws] == '\t');
			    ws++)
				;
			if (ws < n && p[ws] != '\r' && p[ws] != '\n')
				sb_addn(s, p + i, ws - i);
			i = ws - 1;
		} else {
			sb_addc(s, p[i]);
		}
	}
}

/* "=?charset[*lang]?B|Q?text?=" at p: its length, or 0. */
static size_t
encoded_word(const char *p, const char *end, const char **cs, size_t *cslen,
    char *enc, const char **text, size_t *tlen)
{
	const char	*q, *e;

	if (end - p < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	*cs = p + 2;
	for (q = *cs; q < end && *q != '?' && *q != ' ' && *q != '\t' &&
	    *q != '\r' && *q != '\n'; q++)
		;
	if (q == *cs || q + 3 >= end || *q != '?' || q[2] != '?')
		return 0;
	*cslen = (size_t)(q - *cs);
	*enc = q[1];
	if (*enc != 'B' && *enc != 'b' && *enc != 'Q' && *enc != 'q')
		return 0;
	*text = q + 3;
	for (e = *text; e + 1 < end && !(e[0] == '?' && e[1] == '='); e++)
		if (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n')
			return 0;
	if (e + 1 >= end)
		return 0;
	*tlen = (size_t)(e - *text);
	return (size_t)(e + 2 - p);
}

/* The blank space run [ws, end) as written, line breaks dropped. */
static void
add_ws(struct sb *s, const char *ws, const char *end)
{
	for (; ws < end; ws++)
		if (*ws != '\r' && *ws != '\n')
			sb_addc(s, *ws);
}

char *
mime_header_decode(struct arena *a, const char *p, size_t len,
    size_t *len_r)
{
	const char	*end, *cs, *text, *ws = NULL;
	struct sb	 s, raw;
	char		 enc, *charset, *u;
	size_t		 n, cslen, tlen, ulen;
	bool		 after_word = false;

	if (p == NULL)
		p = "";
	end = p + len;

	sb_init(&s, a);
	sb_addn(&s, "", 0);
	while (p < end) {
		if (*p == '\r' || *p == '\n') {
			p++;		/* unfold */
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			if (ws == NULL)
				ws = p;
			p++;
			continue;
		}
		n = encoded_word(p, end, &cs, &cslen, &enc, &text, &tlen);
		if (n > 0) {
			/* blank space between two encoded words vanishes */
			if (ws != NULL && !after_word)
				add_ws(&s, ws, p);
			ws = NULL;
			charset = arena_strndup(a, cs, cslen);
			if ((u = strchr(charset, '*')) != NULL)
				*u = '\0';	/* RFC 2231 language */
			sb_init(&raw, a);
			if (enc == 'B' || enc == 'b')
				b64_decode(&raw, text, tlen);
			else
				qp_decode(&raw, text, tlen, true);
			u = mime_charset_to_utf8(a, charset,
			    raw.p == NULL ? "" : raw.p, raw.len, &ulen);
			sb_add_text(&s, u, ulen);
			p += n;
			after_word = true;
			continue;
		}
		if (ws != NULL)
			add_ws(&s, ws, p);
		ws = NULL;
		after_word = false;
		sb_add_text(&s, p, 1);
		p++;
	}
	if (len_r != NULL)
		*len_r = s.len;
	return s.p;
}

/* --- case folding --- */

static uint32_t
fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x17f) {
		if (c == 0x130)
			return 'i';
		if (c == 0x178)
			return 0xff;
		if (c == 0x17f)
			return 's';
		if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) ||
		    (c >= 0x14a && c <= 0x177))
			return (c & 1) == 0 ? c + 1 : c;
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) == 1 ? c + 1 : c;
		return c;
	}
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c == 0x3c2)
		return 0x3c3;	/* final sigma */
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

/* One UTF-8 sequence at p: its length and code point, or 0 if invalid. */
static size_t
utf8_get(const unsigned char *p, size_t n, uint32_t *c)
{
	size_t	 len, i;

	if (p[0] < 0x80) {
		*c = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		*c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		*c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		*c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*c = (*c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && *c < 0x800) || (len == 4 && *c < 0x10000) ||
	    *c > 0x10ffff)
		return 0;
	return len;
}

static size_t
utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | (c >> 12));
	out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[2] = (char)(0x80 | (c & 0x3f));
	return 3;
}

char *
mime_casefold(struct arena *a, const char *p, size_t len, size_t *len_r)
{
	const unsigned char	*u = (const unsigned char *)p;
	char			*out = arena_alloc(a, len + 1), *o = out;
	size_t			 i = 0, n;
	uint32_t		 c, f;

	while (i < len) {
		if (u[i] < 0x80) {
			*o++ = (char)(u[i] >= 'A' && u[i] <= 'Z' ?
			    u[i] + 32 : u[i]);
			i++;
			continue;
		}
		n = utf8_get(u + i, len - i, &c);
		if (n == 0) {
			*o++ = (char)u[i++];	/* not UTF-8: as it is */
			continue;
		}
		f = fold_cp(c);
		if (f == c) {
			memcpy(o, u + i, n);
			o += n;
		} else {
			o += utf8_put(f, o);	/* never longer: see fold_cp */
		}
		i += n;
	}
	*o = '\0';
	if (len_r != NULL)
		*len_r = (size_t)(o - out);
	return out;
}

void
mime_matcher_init(struct mime_matcher *mt, struct arena *a, const char *utf8,
    size_t len)
{
	mt->key = mime_casefold(a, utf8, len, &mt->len);
}

bool
mime_matcher_match(const struct mime_matcher *mt, struct arena *a,
    const char *text, size_t len)
{
	const char	*f;
	size_t		 flen;

	if (mt->len == 0)
		return true;
	if (len < mt->len)
		return false;
	f = mime_casefold(a, text, len, &flen);
	return memmem(f, flen, mt->key, mt->len) != NULL;
}

bool
mime_addr_match(const struct mime_matcher *mt, struct arena *a,
    const char *value, size_t len)
{
	const struct mime_addr	*ad;
	const char		*s;
	size_t			 n;

	for (ad = mime_addr_parse(a, value, len); ad != NULL; ad = ad->next) {
		if (ad->domain == NULL)
			continue;	/* group markers */
		if (ad->name != NULL) {
			s = mime_header_decode(a, ad->name, strlen(ad->name),
			    &n);
			if (mime_matcher_match(mt, a, s, n))
				return true;
		}
		s = arena_printf(a, "%s%s%s@%s", ad->route == NULL ? "" :
		    ad->route, ad->route == NULL ? "" : ":", ad->mailbox,
		    ad->domain);
		if (mime_matcher_match(mt, a, s, strlen(s)))
			return true;
	}
	return false;
}

/* --- body text --- */

static const char *
param_get(const struct mime_param *p, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcasecmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

int
mime_part_text(struct arena *a, const struct mime_msg *m,
    const struct mime_part *part, char **text_r, size_t *len_r)
{
	const char	*body = m->data + part->hdr_off + part->hdr.phys;
	size_t		 n = part->body.phys;
	struct sb	 s;

	if ((part->flags & (MIME_PART_MULTIPART | MIME_PART_RFC822)) != 0 ||
	    (part->type != NULL && strcasecmp(part->type, "text") != 0))
		return 0;
	sb_init(&s, a);
	sb_addn(&s, "", 0);
	if (part->cte != NULL && strcasecmp(part->cte, "base64") == 0)
		b64_decode(&s, body, n);
	else if (part->cte != NULL &&
	    strcasecmp(part->cte, "quoted-printable") == 0)
		qp_decode(&s, body, n, false);
	else
		sb_addn(&s, body, n);
	*text_r = mime_charset_to_utf8(a,
	    param_get(part->params, part->nparams, "charset"), s.p, s.len,
	    len_r);
	return 1;
}

static bool
header_match(const struct mime_matcher *mt, struct arena *a,
    const struct mime_msg *m, const struct mime_part *p)
{
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	const char		*d;
	size_t			 n;

	mime_hdr_iter_init(&it, m, p);
	while (mime_hdr_iter_next(&it, &name, &v)) {
		if (v.p == NULL)
			continue;
		d = mime_header_decode(a, v.p, v.len, &n);
		if (mime_matcher_match(mt, a, d, n) ||
		    mime_matcher_match(mt, a, name.p, name.len))
			return true;
	}
	return false;
}

bool
mime_body_match(const struct mime_matcher *mt, struct arena *a,
    const struct mime_msg *m)
{
	const struct mime_part	*p = m->root;
	char			*text;
	size_t			 n;

	/* pre-order walk without recursion */
	while (p != NULL) {
		if (p != m->root && p->parent != NULL &&
		    (p->parent->flags & MIME_PART_RFC822) != 0 &&
		    header_match(mt, a, m, p))
			return true;
		if (mime_part_text(a, m, p, &text, &n) == 1 &&
		    mime_matcher_match(mt, a, text, n))
			return true;
		if (p->children != NULL) {
			p = p->children;
			continue;
		}
		while (p != NULL && p->next == NULL)
			p = p->parent;
		if (p != NULL)
			p = p->next;
	}
	return false;
}

/* --- RFC 5322 dates --- */

struct dtok {
	const char	*p, *end;
};

static void
d_cfws(struct dtok *t)
{
	int	 level;

	while (t->p < t->end) {
		if (*t->p == ' ' || *t->p == '\t' || *t->p == '\r' ||
		    *t->p == '\n') {
			t->p++;
		} else if (*t->p == '(') {
			for (level = 0; t->p < t->end; t->p++) {
				if (*t->p == '\\' && t->p + 1 < t->end)
					t->p++;
				else if (*t->p == '(')
					level++;
				else if (*t->p == ')' && --level == 0) {
					t->p++;
					break;
				}
			}
		} else {
			break;
		}
	}
}

/* digits: their value and count (at most 9 read) */
static int
d_num(struct dtok *t, int *v)
{
	int	 n = 0;

	d_cfws(t);
	*v = 0;
	while (t->p < t->end && *t->p >= '0' && *t->p <= '9' && n < 9) {
		*v = *v * 10 + (*t->p++ - '0');
		n++;
	}
	return n;
}

static size_t
d_word(struct dtok *t, char *w, size_t cap)
{
	size_t	 n = 0;

	d_cfws(t);
	while (t->p < t->end && ((*t->p >= 'a' && *t->p <= 'z') ||
	    (*t->p >= 'A' && *t->p <= 'Z'))) {
		if (n + 1 < cap)
			w[n] = *t->p;
		n++;
		t->p++;
	}
	w[n < cap ? n : cap - 1] = '\0';
	return n;
}

static bool
d_char(struct dtok *t, char c)
{
	d_cfws(t);
	if (t->p < t->end && *t->p == c) {
		t->p++;
		return true;
	}
	return false;
}

/* days since 1970-01-01 of a proleptic Gregorian date */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era;
	unsigned	 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
zone_minutes(const char *w)
{
	static const struct {
		const char	*name;
		int		 min;
	} zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
		{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 }
	};
	size_t	 i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcasecmp(w, zones[i].name) == 0)
			return zones[i].min;
	return 0;	/* military and unknown zones: RFC 5322 4.3, -0000 */
}

int
mime_date_parse(const char *p, size_t len, time_t *t_r, int *tz_min_r)
{
	static const char *const mon[] = { "jan", "feb", "mar", "apr",
		"may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31,
		31, 30, 31, 30, 31 };
	struct dtok	 t = { p, p + len };
	const char	*save;
	char		 w[16];
	int		 day, month, year, hh, mm, ss = 0, nd, tz = 0, sign, z;
	size_t		 n;

	save = t.p;
	if (d_word(&t, w, sizeof(w)) > 0) {
		/* day-of-week, its comma optional in practice */
		(void)d_char(&t, ',');
	} else {
		t.p = save;
	}
	if ((nd = d_num(&t, &day)) < 1 || nd > 2 || day < 1 || day > 31)
		return -1;
	if (d_word(&t, w, sizeof(w)) != 3)
		return -1;
	for (month = 0; month < 12; month++)
		if (strcasecmp(w, mon[month]) == 0)
			break;
	if (month == 12 || day > mdays[month])
		return -1;
	if ((nd = d_num(&t, &year)) < 2)
		return -1;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;	/* RFC 5322 4.3 */
	else if (nd == 3)
		year += 1900;
	if (month == 1 && day == 29 &&
	    !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return -1;
	if (d_num(&t, &hh) < 1 || hh > 23 || !d_char(&t, ':') ||
	    d_num(&t, &mm) < 1 || mm > 59)
		return -1;
	if (d_char(&t, ':') && (d_num(&t, &ss) < 1 || ss > 60))
		return -1;
	d_cfws(&t);
	if (t.p < t.end && (*t.p == '+' || *t.p == '-')) {
		sign = *t.p++ == '-' ? -1 : 1;
		save = t.p;
		for (n = 0; t.p < t.end && *t.p >= '0' && *t.p <= '9'; n++)
			t.p++;
		if (n != 4)
			return -1;
		z = (save[0] - '0') * 10 + (save[1] - '0');
		tz = (save[2] - '0') * 10 + (save[3] - '0');
		if (tz > 59)
			return -1;
		tz = sign * (z * 60 + tz);
	} else if (d_word(&t, w, sizeof(w)) > 0) {
		tz = zone_minutes(w);
	}
	*t_r = (time_t)(days_from_civil(year, (unsigned)month + 1,
	    (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss) -
	    (time_t)tz * 60;
	*tz_min_r = tz;
	return 0;
}
