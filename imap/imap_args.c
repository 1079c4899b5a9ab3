/* imap_args.c - argument getters, sequence sets, dates and flags; see
 * imap_parse.h. The reader takes atoms liberally (see atom_char() in
 * imap_parse.c); the grammar of each use (RFC 3501 section 9) is checked
 * here, where the use is known. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "imap_int.h"
#include "aviary/arena.h"
#include "aviary/log.h"

/* --- character classes --- */

/* ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ] */
bool
imap_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* ASTRING-CHAR = ATOM-CHAR / "]" */
static bool
astring_char(unsigned char c)
{
	return c == ']' || imap_atom_char(c);
}

bool
imap_is_atom(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!imap_atom_char((unsigned char)s[i]))
			return false;
	return true;
}

/* --- getters --- */

static bool
has_nul(const struct imap_arg *a)
{
	return memchr(a->str, '\0', a->len) != NULL;
}

int
imap_arg_get_string(const struct imap_arg *a, const char **r)
{
	if (a == NULL || (a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL) || has_nul(a))
		return -1;
	*r = a->str;
	return 0;
}

int
imap_arg_get_nstring(const struct imap_arg *a, const char **r)
{
	if (a != NULL && a->type == IMAP_ARG_NIL) {
		*r = NULL;
		return 0;
	}
	return imap_arg_get_string(a, r);
}

int
imap_arg_get_astring(const struct imap_arg *a, const char **r)
{
	size_t	 i;

	if (a == NULL)
		return -1;
	if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) {
		for (i = 0; i < a->len; i++)
			if (!astring_char((unsigned char)a->str[i]))
				return -1;
		*r = a->str;
		return 0;
	}
	return imap_arg_get_string(a, r);
}

int
imap_arg_get_atom(const struct imap_arg *a, const char **r)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM)
		return -1;
	*r = a->str;
	return 0;
}

bool
imap_arg_atom_is(const struct imap_arg *a, const char *word)
{
	return a != NULL && (a->type == IMAP_ARG_ATOM ||
	    a->type == IMAP_ARG_NIL) && strcasecmp(a->str, word) == 0;
}

int
imap_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *r)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*r = v;
	return 0;
}

int
imap_arg_get_number(const struct imap_arg *a, uint64_t max, uint64_t *r)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM)
		return -1;
	return imap_parse_u64(a->str, a->len, max, r);
}

int
imap_arg_get_mailbox(const struct imap_arg *a, const char **r)
{
	if (imap_arg_get_astring(a, r) != 0)
		return -1;
	/* RFC 3501 5.1: INBOX is case-insensitive; nothing else is. */
	if (strcasecmp(*r, "INBOX") == 0)
		*r = "INBOX";
	return 0;
}

/* --- sequence sets --- */

/* seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT, 32 bits. */
static int
seq_number(const char *s, size_t len, uint32_t *r)
{
	uint64_t	 v;

	if (len == 1 && s[0] == '*') {
		*r = IMAP_SEQ_STAR;
		return 0;
	}
	if (len == 0 || s[0] == '0' ||
	    imap_parse_u64(s, len, UINT32_MAX, &v) != 0)
		return -1;
	*r = (uint32_t)v;
	return 0;
}

int
imap_seqset_parse(struct arena *a, const char *s, size_t len,
    struct imap_seqset **r, const char **error_r)
{
	struct imap_seqset	*set = arena_zalloc(a, sizeof(*set));
	size_t			 i, n = 1, start;
	const char		*colon;

	*r = set;
	if (len == 1 && s[0] == '$') {
		set->saved = true;
		return 0;
	}
	for (i = 0; i < len; i++)
		if (s[i] == ',')
			n++;
	set->r = arena_alloc(a, n * sizeof(*set->r));
	for (start = 0, i = 0; i <= len; i++) {
		struct imap_seq_range	*rg;
		size_t			 plen;

		if (i < len && s[i] != ',')
			continue;
		plen = i - start;
		rg = &set->r[set->n++];
		colon = memchr(s + start, ':', plen);
		if (colon == NULL) {
			if (seq_number(s + start, plen, &rg->lo) != 0)
				goto bad;
			rg->hi = rg->lo;
		} else {
			size_t l1 = (size_t)(colon - (s + start));

			if (seq_number(s + start, l1, &rg->lo) != 0 ||
			    seq_number(colon + 1, plen - l1 - 1,
			    &rg->hi) != 0)
				goto bad;
		}
		start = i + 1;
	}
	return 0;
bad:
	*error_r = "Invalid sequence set";
	return -1;
}

int
imap_arg_get_seqset(struct arena *a, const struct imap_arg *arg,
    struct imap_seqset **r, const char **error_r)
{
	if (arg == NULL || arg->type != IMAP_ARG_ATOM) {
		*error_r = "Invalid sequence set";
		return -1;
	}
	return imap_seqset_parse(a, arg->str, arg->len, r, error_r);
}

/* A range with "*" resolved and its ends in order (lo <= hi). */
static void
range_resolve(const struct imap_seq_range *in, uint32_t max, uint32_t *lo,
    uint32_t *hi)
{
	uint32_t	 a = in->lo == IMAP_SEQ_STAR ? max : in->lo;
	uint32_t	 b = in->hi == IMAP_SEQ_STAR ? max : in->hi;

	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
}

bool
imap_seqset_contains(const struct imap_seqset *s, uint32_t n, uint32_t max)
{
	uint32_t	 lo, hi;
	size_t		 i;

	if (s->saved)
		log_panic("imap_seqset_contains: \"$\" not substituted");
	if (n == 0 || n > max)
		return false;
	for (i = 0; i < s->n; i++) {
		range_resolve(&s->r[i], max, &lo, &hi);
		if (lo <= n && n <= hi)
			return true;
	}
	return false;
}

static int
range_cmp(const void *x, const void *y)
{
	const struct imap_seq_range	*a = x, *b = y;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

size_t
imap_seqset_resolve(const struct imap_seqset *s, uint32_t max,
    struct arena *a, struct imap_seq_range **ranges_r, bool *beyond_r)
{
	struct imap_seq_range	*out;
	size_t			 i, n = 0, m;
	uint32_t		 lo, hi;

	if (s->saved)
		log_panic("imap_seqset_resolve: \"$\" not substituted");
	*beyond_r = false;
	out = arena_alloc(a, (s->n > 0 ? s->n : 1) * sizeof(*out));
	for (i = 0; i < s->n; i++) {
		range_resolve(&s->r[i], max, &lo, &hi);
		if (hi > max || lo == 0)	/* lo == 0: "*" of nothing */
			*beyond_r = true;
		if (lo == 0)
			lo = 1;
		if (hi > max)
			hi = max;
		if (lo > hi)
			continue;
		out[n].lo = lo;
		out[n].hi = hi;
		n++;
	}
	/* O(n log n) in the ranges written, bounded by the line length. */
	qsort(out, n, sizeof(*out), range_cmp);
	for (m = 0, i = 0; i < n; i++) {
		if (m > 0 && (out[m - 1].hi == UINT32_MAX ||
		    out[i].lo <= out[m - 1].hi + 1)) {
			if (out[i].hi > out[m - 1].hi)
				out[m - 1].hi = out[i].hi;
			continue;
		}
		out[m++] = out[i];
	}
	*ranges_r = out;
	return m;
}

/* --- dates --- */

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

const char *
imap_month_name(unsigned month)
{
	return month >= 1 && month <= 12 ? months[month - 1] : "???";
}

static bool
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
imap_days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Leap days in years 1..y. */
static int64_t
leaps_through(int64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

/* Days from 1970-01-01 to y-m-d (y >= 1), by counting: whole years,
 * the leap days among them, whole months of year y, then days. */
int64_t
imap_days_from_civil(unsigned y, unsigned m, unsigned d)
{
	static const unsigned short before[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
	};
	int64_t	 days;

	days = 365 * ((int64_t)y - 1970) +
	    (leaps_through((int64_t)y - 1) - leaps_through(1969));
	days += before[m - 1] + (m > 2 && is_leap(y) ? 1 : 0);
	return days + d - 1;
}

static int
month_parse(const char *s, unsigned *m)
{
	unsigned	 i;

	for (i = 0; i < 12; i++)
		if (strncasecmp(s, months[i], 3) == 0) {
			*m = i + 1;
			return 0;
		}
	return -1;
}

/* Digits at s[*ip], exactly n of them. */
static int
digits(const char *s, size_t len, size_t *ip, size_t n, unsigned *r)
{
	unsigned	 v = 0;
	size_t		 i;

	if (len - *ip < n)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[*ip + i] - '0';

		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	*ip += n;
	*r = v;
	return 0;
}

/* "d-Mon-yyyy" / "dd-Mon-yyyy" / " d-Mon-yyyy" (space_ok) at s[*ip]. */
static int
date_at(const char *s, size_t len, size_t *ip, bool space_ok,
    struct imap_date *r)
{
	size_t		 i = *ip;
	unsigned	 day, mon, year;

	if (space_ok && i < len && s[i] == ' ') {
		i++;
		if (digits(s, len, &i, 1, &day) != 0)
			return -1;
	} else if (digits(s, len, &i, 2, &day) != 0 &&
	    digits(s, len, &i, 1, &day) != 0) {
		return -1;
	}
	if (len - i < 5 || s[i] != '-' || month_parse(s + i + 1, &mon) != 0 ||
	    s[i + 4] != '-')
		return -1;
	i += 5;
	if (digits(s, len, &i, 4, &year) != 0 || year == 0 || day == 0 ||
	    day > imap_days_in_month(year, mon))
		return -1;
	r->year = (uint16_t)year;
	r->month = (uint8_t)mon;
	r->day = (uint8_t)day;
	*ip = i;
	return 0;
}

int
imap_date_parse(const char *s, size_t len, struct imap_date *r)
{
	size_t	 i = 0;

	return date_at(s, len, &i, false, r) == 0 && i == len ? 0 : -1;
}

time_t
imap_date_to_time(const struct imap_date *d)
{
	return (time_t)(imap_days_from_civil(d->year, d->month, d->day) *
	    86400);
}

int
imap_datetime_parse(const char *s, size_t len, time_t *r, int *tz_r)
{
	struct imap_date	 d;
	size_t			 i = 0;
	unsigned		 hh, mm, ss, zh, zm;
	int			 tz;
	int64_t			 t;

	if (date_at(s, len, &i, true, &d) != 0 || i >= len || s[i++] != ' ' ||
	    digits(s, len, &i, 2, &hh) != 0 || i >= len || s[i++] != ':' ||
	    digits(s, len, &i, 2, &mm) != 0 || i >= len || s[i++] != ':' ||
	    digits(s, len, &i, 2, &ss) != 0 || i >= len || s[i++] != ' ' ||
	    i >= len || (s[i] != '+' && s[i] != '-'))
		return -1;
	tz = s[i++] == '-' ? -1 : 1;
	if (digits(s, len, &i, 2, &zh) != 0 ||
	    digits(s, len, &i, 2, &zm) != 0 || i != len ||
	    hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return -1;
	tz *= (int)(zh * 60 + zm);
	t = imap_days_from_civil(d.year, d.month, d.day) * 86400 +
	    hh * 3600 + mm * 60 + ss - (int64_t)tz * 60;
	*r = (time_t)t;
	if (tz_r != NULL)
		*tz_r = tz;
	return 0;
}

/* --- flags --- */

static const struct {
	const char	*name;
	unsigned	 bit;
} sysflags[] = {
	{ "\\Seen", IMAP_FLAG_SEEN },
	{ "\\Answered", IMAP_FLAG_ANSWERED },
	{ "\\Flagged", IMAP_FLAG_FLAGGED },
	{ "\\Deleted", IMAP_FLAG_DELETED },
	{ "\\Draft", IMAP_FLAG_DRAFT },
};

int
imap_flags_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
    struct imap_flags *r, const char **error_r)
{
	size_t		 i, j;

	memset(r, 0, sizeof(*r));
	if (nargs == 1 && args[0].type == IMAP_ARG_LIST) {
		nargs = args[0].len;
		args = args[0].list;
	}
	r->kw = arena_alloc(a, (nargs > 0 ? nargs : 1) * sizeof(*r->kw));
	for (i = 0; i < nargs; i++) {
		const struct imap_arg	*f = &args[i];

		if (f->type != IMAP_ARG_ATOM) {
			*error_r = "Invalid flag";
			return -1;
		}
		if (f->str[0] == '\\') {
			for (j = 0; j < N_ELEMENTS(sysflags); j++)
				if (strcasecmp(f->str, sysflags[j].name) == 0)
					break;
			if (j == N_ELEMENTS(sysflags)) {
				*error_r = strcasecmp(f->str, "\\Recent") == 0 ?
				    "\\Recent flag cannot be changed" :
				    "Invalid system flag";
				return -1;
			}
			r->sys |= sysflags[j].bit;
			continue;
		}
		if (!imap_is_atom(f->str, f->len)) {
			*error_r = "Invalid keyword";
			return -1;
		}
		/* O(n^2) in the keywords of one command: few in practice,
		 * and bounded by the argument limit. */
		for (j = 0; j < r->nkw; j++)
			if (strcmp(r->kw[j], f->str) == 0)
				break;
		if (j == r->nkw)
			r->kw[r->nkw++] = f->str;
	}
	return 0;
}
