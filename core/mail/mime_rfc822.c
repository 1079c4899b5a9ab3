/* mime_rfc822.c - the RFC 822 lexical layer under mime.c: growable
 * strings in an arena, Dovecot's tokenizer (rfc822-parser.c), MIME
 * parameters with its RFC 2231 merge (rfc2231-parser.c) and its address
 * list parser (message-address.c, with FILL_MISSING and NON_STRICT_DOTS
 * as the IMAP envelope uses it), rewritten to give the same strings for
 * the same bytes, broken input included: those strings end up in
 * ENVELOPE and BODYSTRUCTURE, which clients cache. Every function is
 * linear in its input; nothing recurses.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/mime.h"

#include "mime_private.h"

/* --- growable strings in an arena --- */

void
sb_init(struct sb *s, struct arena *a)
{
	s->a = a;
	s->p = NULL;
	s->len = s->cap = 0;
}

static void
sb_grow(struct sb *s, size_t n)
{
	size_t	 ncap;

	if (n <= s->cap - s->len && s->p != NULL)
		return;
	if (n > SIZE_MAX / 2 - s->len)
		log_panic("mime: string too long");
	ncap = s->cap < 32 ? 32 : s->cap;
	while (ncap - s->len < n + 1)
		ncap *= 2;
	s->p = arena_realloc(s->a, s->p, s->p == NULL ? 0 : s->cap + 1,
	    ncap + 1);
	s->cap = ncap;
}

void
sb_addn(struct sb *s, const void *p, size_t n)
{
	sb_grow(s, n);
	if (n > 0)
		memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void
sb_addc(struct sb *s, char c)
{
	sb_addn(s, &c, 1);
}

void
sb_adds(struct sb *s, const char *str)
{
	sb_addn(s, str, strlen(str));
}

/* Header text into a C string: a NUL of the message becomes U+FFFD, as
 * Dovecot's message_header_strdup() and rfc822 parser do. */
void
sb_add_text(struct sb *s, const void *p, size_t n)
{
	const char	*c = p, *z;

	while (n > 0 && (z = memchr(c, '\0', n)) != NULL) {
		sb_addn(s, c, (size_t)(z - c));
		sb_addn(s, UTF8_REPLACEMENT, 3);
		n -= (size_t)(z - c) + 1;
		c = z + 1;
	}
	sb_addn(s, c, n);
}

void
sb_truncate(struct sb *s, size_t len)
{
	if (len < s->len) {
		s->len = len;
		s->p[len] = '\0';
	}
}

/* The content, never NULL (an empty string that is never reused). */
const char *
sb_dup(struct sb *s)
{
	return arena_strndup(s->a, s->p == NULL ? "" : s->p, s->len);
}

char *
text_dup(struct arena *a, const char *p, size_t n)
{
	struct sb	 s;

	sb_init(&s, a);
	sb_add_text(&s, p, n);
	sb_addn(&s, "", 0);
	return s.p;
}

/* --- the RFC 822 tokenizer (Dovecot rfc822-parser semantics) ---
 *
 * Return values as Dovecot's: 1 = parsed and more input follows, 0 =
 * parsed up to the end of the input, -1 = syntax error. These functions
 * are deliberately lenient in the same places Dovecot is (a dot-atom
 * may contain "..", a token may be empty): that is what decides which
 * strings clients see. */

/* 1: atext, 2: alpha/digit/8-bit, 4: atext that is a MIME tspecial. */
static const unsigned char atext_tab[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['/'] = 4, ['='] = 4, ['?'] = 4,
	['^'] = 1, ['_'] = 1, ['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1,
	['~'] = 1,
	['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2,
	['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2,
	['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
	['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2,
	['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2,
	['S'] = 2, ['T'] = 2, ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2,
	['Y'] = 2, ['Z'] = 2,
	['a'] = 2, ['b'] = 2, ['c'] = 2, ['d'] = 2, ['e'] = 2, ['f'] = 2,
	['g'] = 2, ['h'] = 2, ['i'] = 2, ['j'] = 2, ['k'] = 2, ['l'] = 2,
	['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2,
	['s'] = 2, ['t'] = 2, ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2,
	['y'] = 2, ['z'] = 2,
	[0x80 ... 0xff] = 2
};

static bool
is_atext(unsigned char c)
{
	return atext_tab[c] != 0;
}

static bool
is_token_char(unsigned char c)
{
	return (atext_tab[c] & 3) != 0 || c == '.';
}

void
tok_init(struct tok *t, struct arena *a, const void *p, size_t n)
{
	if (p == NULL)
		p = "";		/* no arithmetic on NULL, even + 0 */
	t->p = p;
	t->end = t->p + n;
	t->a = a;
	t->comment = NULL;
}

static int
tok_skip_comment(struct tok *t)
{
	const unsigned char	*start;
	int			 level = 1;

	if (t->comment != NULL)
		sb_truncate(t->comment, 0);
	start = ++t->p;
	for (; t->p < t->end; t->p++) {
		switch (*t->p) {
		case '(':
			level++;
			break;
		case ')':
			if (--level == 0) {
				if (t->comment != NULL)
					sb_add_text(t->comment, start,
					    (size_t)(t->p - start));
				t->p++;
				return t->p < t->end ? 1 : 0;
			}
			break;
		case '\0':
			/* U+FFFD, and the text so far is kept even if the
			 * comment never ends (Dovecot) */
			if (t->comment != NULL) {
				sb_add_text(t->comment, start,
				    (size_t)(t->p - start));
				sb_addn(t->comment, UTF8_REPLACEMENT, 3);
			}
			start = t->p + 1;
			break;
		case '\n':
			/* folding: the line break goes, the text so far is
			 * kept even if the comment never ends (Dovecot) */
			if (t->comment != NULL) {
				size_t n = (size_t)(t->p - start);

				if (n > 0 && start[n - 1] == '\r')
					n--;
				sb_add_text(t->comment, start, n);
			}
			start = t->p + 1;
			break;
		case '\\':
			/* as in quoted strings, not before a line break */
			if (t->p + 1 < t->end &&
			    (t->p[1] == '\r' || t->p[1] == '\n'))
				break;
			t->p++;
			if (t->p >= t->end)
				return -1;	/* the text before is lost */
			if (t->comment != NULL)
				sb_add_text(t->comment, start,
				    (size_t)(t->p - start - 1));
			start = t->p;
			break;
		}
	}
	return -1;	/* missing ')' */
}

int
tok_skip_lwsp(struct tok *t)
{
	while (t->p < t->end) {
		if (*t->p == ' ' || *t->p == '\t' || *t->p == '\r' ||
		    *t->p == '\n') {
			t->p++;
			continue;
		}
		if (*t->p != '(')
			break;
		if (tok_skip_comment(t) < 0)
			return -1;
	}
	return t->p < t->end ? 1 : 0;
}

int
tok_atom(struct tok *t, struct sb *s)
{
	const unsigned char	*start;

	if (t->p >= t->end || !is_atext(*t->p))
		return -1;
	for (start = t->p++; t->p < t->end; t->p++) {
		if (is_atext(*t->p))
			continue;
		sb_addn(s, start, (size_t)(t->p - start));
		return tok_skip_lwsp(t);
	}
	sb_addn(s, start, (size_t)(t->p - start));
	return 0;
}

/* RFC 822 allowed blank space around the dots; so does Dovecot 2.3.19,
 * but a dot must be followed by an atom ("b.", "b..c" are errors). */
static int
tok_dot_atom(struct tok *t, struct sb *s)
{
	const unsigned char	*start;
	int			 ret;

	if (t->p >= t->end || !is_atext(*t->p))
		return -1;
	for (start = t->p++; t->p < t->end;) {
		if (is_atext(*t->p)) {
			t->p++;
			continue;
		}
		sb_addn(s, start, (size_t)(t->p - start));
		if ((ret = tok_skip_lwsp(t)) <= 0)
			return ret;
		if (*t->p != '.')
			return 1;
		t->p++;
		sb_addc(s, '.');
		if (tok_skip_lwsp(t) <= 0 || !is_atext(*t->p))
			return -1;
		start = t->p;
	}
	sb_addn(s, start, (size_t)(t->p - start));
	return 0;
}

int
tok_mime_token(struct tok *t, struct sb *s)
{
	const unsigned char	*start;

	for (start = t->p; t->p < t->end; t->p++) {
		if (is_token_char(*t->p))
			continue;
		sb_addn(s, start, (size_t)(t->p - start));
		return tok_skip_lwsp(t);
	}
	sb_addn(s, start, (size_t)(t->p - start));
	return 0;
}

/* At '"'. Folding line breaks inside are dropped (the blank space after
 * them stays), a backslash quotes the next byte. */
static int
tok_quoted(struct tok *t, struct sb *s)
{
	const unsigned char	*start;
	size_t			 n;

	t->p++;
	for (start = t->p; t->p < t->end; t->p++) {
		switch (*t->p) {
		case '"':
			sb_add_text(s, start, (size_t)(t->p - start));
			t->p++;
			return tok_skip_lwsp(t);
		case '\n':
			n = (size_t)(t->p - start);
			if (n > 0 && start[n - 1] == '\r')
				n--;
			sb_add_text(s, start, n);
			start = t->p + 1;
			break;
		case '\0':
			sb_add_text(s, start, (size_t)(t->p - start) + 1);
			start = t->p + 1;
			break;
		case '\\':
			/* a backslash before a line break quotes nothing
			 * (Dovecot 2.3.19) */
			if (t->p + 1 < t->end &&
			    (t->p[1] == '\r' || t->p[1] == '\n'))
				break;
			t->p++;
			if (t->p >= t->end)
				return -1;
			sb_add_text(s, start, (size_t)(t->p - start - 1));
			start = t->p;
			break;
		}
	}
	return -1;	/* missing '"' */
}

static int
tok_atom_or_dot(struct tok *t, struct sb *s)
{
	const unsigned char	*start;

	for (start = t->p; t->p < t->end; t->p++) {
		if (is_atext(*t->p) || *t->p == '.')
			continue;
		sb_addn(s, start, (size_t)(t->p - start));
		return tok_skip_lwsp(t);
	}
	sb_addn(s, start, (size_t)(t->p - start));
	return 0;
}

/* Words separated by one space; may parse nothing and still return 1
 * (Dovecot relies on that for "<addr>" without a display name). */
static int
tok_phrase(struct tok *t, struct sb *s)
{
	int	 ret;

	if (t->p >= t->end)
		return 0;
	if (*t->p == '.')
		return -1;
	for (;;) {
		if (*t->p == '"')
			ret = tok_quoted(t, s);
		else
			ret = tok_atom_or_dot(t, s);
		if (ret <= 0)
			return ret;
		if (!is_atext(*t->p) && *t->p != '"' && *t->p != '.')
			break;
		sb_addc(s, ' ');
	}
	return tok_skip_lwsp(t);
}

static int
tok_domain_literal(struct tok *t, struct sb *s)
{
	const unsigned char	*start;

	for (start = t->p; t->p < t->end; t->p++) {
		if (*t->p == '\\') {
			t->p++;
			if (t->p >= t->end)
				break;
		} else if (*t->p == ']') {
			t->p++;
			sb_add_text(s, start, (size_t)(t->p - start));
			return tok_skip_lwsp(t);
		}
	}
	return -1;	/* missing ']' */
}

/* At '@'. */
static int
tok_domain(struct tok *t, struct sb *s)
{
	t->p++;
	if (tok_skip_lwsp(t) <= 0)
		return -1;
	if (*t->p == '[')
		return tok_domain_literal(t, s);
	return tok_dot_atom(t, s);
}

/* "type/subtype". Dovecot 2.3.19 keeps a bare type that reaches the end
 * of the value ("text" -> TEXT part with subtype "") but throws away
 * everything else that is not exactly token "/" token followed by ';'
 * or the end: the type becomes "" (the oracle shows "" "" for
 * "text/plain x", "multipart;", "/plain", "text/pl@in"). */
int
tok_content_type(struct tok *t, struct sb *s)
{
	size_t	 start = s->len;
	int	 ret;

	if (tok_skip_lwsp(t) <= 0)
		return -1;
	if (tok_mime_token(t, s) <= 0)
		return -1;
	if (s->len == start)
		return -1;
	if (*t->p != '/')
		goto broken;
	t->p++;
	if (tok_skip_lwsp(t) <= 0)
		goto broken;
	sb_addc(s, '/');
	ret = tok_mime_token(t, s);
	if (ret < 0 || s->len == start + 1 ||
	    s->p[s->len - 1] == '/' || (ret > 0 && *t->p != ';'))
		goto broken;
	return ret;
broken:
	sb_truncate(s, start);
	return -1;
}

/* One ";" attribute "=" value. 1 with *key_r (in a) and value in *v, 0
 * at the end, -1 on a syntax error (the caller skips a byte and goes
 * on, as Dovecot does). */
static int
tok_content_param(struct tok *t, const char **key_r, struct sb *v)
{
	struct sb	 key;
	int		 ret;

	*key_r = NULL;
	sb_truncate(v, 0);
	if (t->p >= t->end)
		return 0;
	if (*t->p != ';')
		return -1;
	t->p++;
	if (tok_skip_lwsp(t) <= 0)
		return -1;
	sb_init(&key, t->a);
	if (tok_mime_token(t, &key) <= 0)
		return -1;
	if (*t->p != '=')
		return -1;
	t->p++;
	if ((ret = tok_skip_lwsp(t)) <= 0) {
		/* no value: an empty one */
	} else if (*t->p == '"') {
		ret = tok_quoted(t, v);
	} else if (*t->p == '=') {
		/* Dovecot's workaround for name==?utf-8?b?...?= */
		while (t->p < t->end && *t->p != ';' && *t->p != ' ' &&
		    *t->p != '\t' && *t->p != '\r' && *t->p != '\n')
			sb_addc(v, (char)*t->p++);
	} else {
		ret = tok_mime_token(t, v);
	}
	*key_r = sb_dup(&key);
	return ret < 0 ? -1 : 1;
}

/* --- RFC 2231 parameters, Dovecot's merge (rfc2231-parser.c) ---
 *
 * Plain parameters come first, in order; then "name*N[*]" pieces,
 * sorted by name (byte order) and index, merged per name (names
 * compared without case) when the indexes run 0, 1, 2...: the value is
 * the concatenation, with "''" in front and '%' escaped in plain pieces
 * when any piece is extended, and the name gets a '*' then. Otherwise
 * each piece is kept as "name*N" or "name*N*". Encoded values are not
 * decoded. A "name*" without index inherits the index of the previous
 * starred parameter: a Dovecot bug, visible in BODYSTRUCTURE, kept. */

#define PARAM_MAX_TRIES		128

struct p2231 {
	const char	*key, *value;
	uint32_t	 idx;
	bool		 extended;
};

static int
p2231_cmp(const struct p2231 *a, const struct p2231 *b)
{
	int	 r = strcmp(a->key, b->key);

	if (r != 0)
		return r;
	return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

/* Stable (glibc 2.36 qsort is a merge sort, and equal keys happen). */
static void
p2231_sort(struct arena *a, struct p2231 *v, size_t n)
{
	struct p2231	*tmp, *src = v, *dst;
	size_t		 width, i, l, r, lend, rend, k;

	if (n < 2)
		return;
	tmp = arena_alloc(a, n * sizeof(*tmp));
	dst = tmp;
	for (width = 1; width < n; width *= 2) {
		for (i = 0; i < n; i += 2 * width) {
			l = i;
			lend = i + width < n ? i + width : n;
			r = lend;
			rend = i + 2 * width < n ? i + 2 * width : n;
			k = i;
			while (l < lend && r < rend)
				dst[k++] = p2231_cmp(&src[r], &src[l]) < 0 ?
				    src[r++] : src[l++];
			while (l < lend)
				dst[k++] = src[l++];
			while (r < rend)
				dst[k++] = src[r++];
		}
		tmp = src;
		src = dst;
		dst = tmp;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

struct pvec {
	struct mime_param *v;
	size_t		 n, cap;
};

static void
pvec_add(struct arena *a, struct pvec *pv, const char *k, const char *v)
{
	if (pv->n == pv->cap) {
		size_t ncap = pv->cap == 0 ? 4 : pv->cap * 2;

		pv->v = arena_realloc(a, pv->v, pv->cap * sizeof(*pv->v),
		    ncap * sizeof(*pv->v));
		pv->cap = ncap;
	}
	pv->v[pv->n].name = k;
	pv->v[pv->n].value = v;
	pv->n++;
}

static void
escape_percent(struct sb *s, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '%')
			sb_adds(s, "%25");
		else
			sb_addc(s, *v);
	}
}

void
parse_params(struct tok *t, const struct mime_param **params_r,
    size_t *n_r)
{
	struct pvec	 out = { NULL, 0, 0 };
	struct p2231	*rp = NULL, cur = { NULL, NULL, 0, false };
	size_t		 nrp = 0, caprp = 0, i, j, next;
	struct sb	 v, m;
	const char	*key, *star, *q;
	uint32_t	 next_idx;
	unsigned	 tries = 0;
	bool		 ok, have_ext;
	int		 ret;

	sb_init(&v, t->a);
	/* Dovecot 2.3.19 makes at most PARAM_MAX_TRIES attempts, good or
	 * bad (observed: the 129th parameter, or one after 128 failed
	 * attempts, is dropped) */
	while (tries++ < PARAM_MAX_TRIES &&
	    (ret = tok_content_param(t, &key, &v)) != 0) {
		if (ret < 0) {
			/* skip a byte and try again, as Dovecot does */
			if (t->p >= t->end)
				break;
			t->p++;
			continue;
		}
		star = strchr(key, '*');
		if (star != NULL) {
			q = star;
			if (q[1] != '\0') {
				q++;
				cur.idx = 0;
				for (; *q >= '0' && *q <= '9'; q++)
					cur.idx = cur.idx * 10 +
					    (uint32_t)(*q - '0');
			}
			if (*q != '*') {
				cur.extended = false;
			} else {
				cur.extended = true;
				q++;
			}
			if (*q == '\0') {
				cur.key = arena_strndup(t->a, key,
				    (size_t)(star - key));
				cur.value = sb_dup(&v);
				if (nrp == caprp) {
					size_t nc = caprp == 0 ? 4 : caprp * 2;

					rp = arena_realloc(t->a, rp,
					    caprp * sizeof(*rp),
					    nc * sizeof(*rp));
					caprp = nc;
				}
				rp[nrp++] = cur;
				continue;
			}
		}
		pvec_add(t->a, &out, key, sb_dup(&v));
	}

	p2231_sort(t->a, rp, nrp);
	for (i = 0; i < nrp; i = next) {
		ok = true;
		have_ext = false;
		next_idx = 0;
		for (j = i; j < nrp; j++) {
			if (strcasecmp(rp[i].key, rp[j].key) != 0)
				break;
			if (rp[j].idx != next_idx)
				ok = false;
			if (rp[j].extended)
				have_ext = true;
			next_idx++;
		}
		next = j;
		if (!ok) {
			for (j = i; j < next; j++)
				pvec_add(t->a, &out, arena_printf(t->a,
				    rp[j].extended ? "%s*%u*" : "%s*%u",
				    rp[j].key, (unsigned)rp[j].idx),
				    rp[j].value);
			continue;
		}
		sb_init(&m, t->a);
		if (!rp[i].extended && have_ext)
			sb_adds(&m, "''");
		for (j = i; j < next; j++) {
			if (!rp[j].extended && have_ext)
				escape_percent(&m, rp[j].value);
			else
				sb_adds(&m, rp[j].value);
		}
		pvec_add(t->a, &out, have_ext ?
		    arena_printf(t->a, "%s*", rp[i].key) : rp[i].key,
		    sb_dup(&m));
	}
	*params_r = out.v;
	*n_r = out.n;
}

/* --- addresses (Dovecot message-address.c, FILL_MISSING) --- */

struct addr_ctx {
	struct tok	 t;
	struct arena	*a;
	struct sb	 str, comment;
	struct mime_addr cur;
	struct mime_addr *first, *last;
};

static void
addr_add(struct addr_ctx *c)
{
	struct mime_addr *n = arena_alloc(c->a, sizeof(*n));

	*n = c->cur;
	n->next = NULL;
	memset(&c->cur, 0, sizeof(c->cur));
	if (c->first == NULL)
		c->first = n;
	else
		c->last->next = n;
	c->last = n;
}

/* Dovecot parses envelope addresses with NON_STRICT_DOTS: ".a", "a."
 * and "a..b" are local parts. */
static int
addr_nonstrict_dot_atom(struct tok *t, struct sb *s)
{
	int	 ret = -1;

	do {
		while (*t->p == '.') {
			sb_addc(s, '.');
			t->p++;
			if (t->p >= t->end)
				return 0;	/* the @domain is missing */
			ret = 1;
		}
		if (*t->p == '@')
			break;
		ret = tok_atom(t, s);
	} while (ret > 0 && *t->p == '.');
	return ret;
}

static int
addr_local_part(struct addr_ctx *c)
{
	int	 ret;

	sb_truncate(&c->str, 0);
	if (*c->t.p == '"')
		ret = tok_quoted(&c->t, &c->str);
	else
		ret = addr_nonstrict_dot_atom(&c->t, &c->str);
	if (ret < 0)
		return -1;
	c->cur.mailbox = sb_dup(&c->str);
	return ret;
}

static int
addr_domain(struct addr_ctx *c)
{
	int	 ret;

	sb_truncate(&c->str, 0);
	if ((ret = tok_domain(&c->t, &c->str)) < 0)
		return -1;
	c->cur.domain = sb_dup(&c->str);
	return ret;
}

/* obs-domain-list: "@a,@b" */
static int
addr_domain_list(struct addr_ctx *c)
{
	int	 ret;

	sb_truncate(&c->str, 0);
	for (;;) {
		if (c->t.p >= c->t.end)
			return 0;
		if (*c->t.p != '@')
			break;
		if (c->str.len > 0)
			sb_addc(&c->str, ',');
		sb_addc(&c->str, '@');
		if ((ret = tok_domain(&c->t, &c->str)) <= 0)
			return ret;
		while (tok_skip_lwsp(&c->t) > 0 && *c->t.p == ',')
			c->t.p++;
	}
	c->cur.route = sb_dup(&c->str);
	return 1;
}

/* At '<'. */
static int
addr_angle(struct addr_ctx *c)
{
	c->t.p++;
	if (tok_skip_lwsp(&c->t) <= 0)
		return -1;
	if (*c->t.p == '@') {
		if (addr_domain_list(c) > 0 && *c->t.p == ':') {
			c->t.p++;
		} else {
			c->cur.route = "INVALID_ROUTE";
			if (c->t.p >= c->t.end)
				return -1;
			/* and go on */
		}
		if (tok_skip_lwsp(&c->t) <= 0)
			return -1;
	}
	if (*c->t.p != '>') {
		if (addr_local_part(c) <= 0)
			return -1;
		if (*c->t.p == '@' && addr_domain(c) <= 0)
			return -1;
	}
	if (*c->t.p != '>')
		return -1;
	c->t.p++;
	return tok_skip_lwsp(&c->t);
}

static int
addr_name_addr(struct addr_ctx *c)
{
	sb_truncate(&c->str, 0);
	if (tok_phrase(&c->t, &c->str) <= 0 || *c->t.p != '<')
		return -1;
	c->cur.name = c->str.len == 0 ? NULL : sb_dup(&c->str);
	if (addr_angle(c) < 0)
		c->cur.domain = "SYNTAX_ERROR";
	return c->t.p < c->t.end ? 1 : 0;
}

static int
addr_spec(struct addr_ctx *c, bool *invalid)
{
	bool	 quoted = *c->t.p == '"';
	int	 ret, ret2 = -2;
	size_t	 olen;

	sb_truncate(&c->comment, 0);
	ret = addr_local_part(c);
	if (ret <= 0)
		*invalid = true;
	if (ret != 0 && c->t.p < c->t.end && *c->t.p == '@') {
		ret2 = addr_domain(c);
		if (ret2 <= 0)
			ret = ret2;
	}
	if (c->comment.len > 0) {
		c->cur.name = sb_dup(&c->comment);
	} else if (ret2 == -2) {
		/* "user" alone is a mailbox; "user more words" was a
		 * display name without an address (Dovecot) */
		sb_addc(&c->str, ' ');
		olen = c->str.len;
		(void)tok_phrase(&c->t, &c->str);
		if (c->str.len != olen) {
			c->cur.mailbox = NULL;
			c->cur.name = sb_dup(&c->str);
		} else if (!quoted) {
			c->cur.domain = "";
		}
		*invalid = true;
		ret = -1;
	}
	return ret;
}

static void
addr_add_fixed(struct addr_ctx *c)
{
	if (c->cur.mailbox == NULL)
		c->cur.mailbox = "MISSING_MAILBOX";
	if (c->cur.domain == NULL || c->cur.domain[0] == '\0')
		c->cur.domain = "MISSING_DOMAIN";
	addr_add(c);
}

static int
addr_mailbox(struct addr_ctx *c)
{
	const unsigned char	*start = c->t.p;
	bool			 invalid = false;
	int			 ret;

	if ((ret = addr_name_addr(c)) < 0) {
		c->t.p = start;
		ret = addr_spec(c, &invalid);
		if (invalid && c->cur.name == NULL &&
		    c->cur.mailbox != NULL && c->cur.domain == NULL) {
			c->cur.name = c->cur.mailbox;
			c->cur.mailbox = NULL;
		}
	}
	addr_add_fixed(c);
	return ret;
}

static int
addr_group(struct addr_ctx *c)
{
	int	 ret;

	sb_truncate(&c->str, 0);
	if (tok_phrase(&c->t, &c->str) <= 0 || *c->t.p != ':')
		return -1;
	/* a group from here on, whatever follows */
	c->t.p++;
	ret = tok_skip_lwsp(&c->t);
	c->cur.mailbox = sb_dup(&c->str);
	addr_add(c);
	if (ret > 0 && *c->t.p != ';') {
		for (;;) {
			(void)addr_mailbox(c);
			if (c->t.p >= c->t.end || *c->t.p != ',')
				break;
			c->t.p++;
			if (tok_skip_lwsp(&c->t) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (c->t.p >= c->t.end || *c->t.p != ';') {
			ret = -1;
		} else {
			c->t.p++;
			ret = tok_skip_lwsp(&c->t);
		}
	}
	addr_add(c);	/* the group's end marker */
	return ret == 0 ? 0 : 1;
}

static int
addr_address(struct addr_ctx *c)
{
	const unsigned char	*start = c->t.p;
	int			 ret;

	if ((ret = addr_group(c)) < 0) {
		c->t.p = start;
		ret = addr_mailbox(c);
	}
	return ret;
}

struct mime_addr *
mime_addr_parse(struct arena *a, const char *p, size_t len)
{
	struct addr_ctx	 c;
	int		 ret;

	memset(&c, 0, sizeof(c));
	c.a = a;
	tok_init(&c.t, a, p, len);
	sb_init(&c.str, a);
	sb_init(&c.comment, a);
	c.t.comment = &c.comment;
	if (tok_skip_lwsp(&c.t) <= 0)
		return NULL;
	for (;;) {
		if (addr_address(&c) == 0)
			break;
		if (c.t.p >= c.t.end || *c.t.p != ',')
			break;
		c.t.p++;
		if ((ret = tok_skip_lwsp(&c.t)) <= 0) {
			if (ret < 0)
				addr_add_fixed(&c);	/* trailing garbage */
			break;
		}
	}
	return c.first;
}
