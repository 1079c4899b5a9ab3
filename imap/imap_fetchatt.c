/* imap_fetchatt.c - FETCH attributes; see imap_parse.h.
 *
 * RFC 3501 6.4.5 and 9 (fetch-att, section), RFC 3516 (BINARY[...],
 * BINARY.SIZE). The reader hands "BODY.PEEK[1.HEADER.FIELDS (From To)]<0.
 * 100>" over as one atom (it keeps the bracketed text together), so the
 * section grammar is parsed here from text. Header field names inside
 * the section may be atoms or quoted strings; literals there are not
 * supported (no client sends them).
 */
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "imap_int.h"
#include "aviary/arena.h"
#include "aviary/buf.h"

#define ECHO_MAX	(IMAP_LINE_MAX_DEFAULT * 2)

static const struct {
	const char	*name;
	enum imap_fatt	 type;
} simple[] = {
	{ "ENVELOPE", IMAP_FA_ENVELOPE },
	{ "FLAGS", IMAP_FA_FLAGS },
	{ "INTERNALDATE", IMAP_FA_INTERNALDATE },
	{ "RFC822", IMAP_FA_RFC822 },
	{ "RFC822.HEADER", IMAP_FA_RFC822_HEADER },
	{ "RFC822.SIZE", IMAP_FA_RFC822_SIZE },
	{ "RFC822.TEXT", IMAP_FA_RFC822_TEXT },
	{ "BODY", IMAP_FA_BODY },
	{ "BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE },
	{ "UID", IMAP_FA_UID },
};

static const struct {
	const char	*prefix;	/* before '[' */
	enum imap_fatt	 type;
	bool		 peek;
	const char	*echo;
} sectioned[] = {
	{ "BODY", IMAP_FA_BODY_SECTION, false, "BODY" },
	{ "BODY.PEEK", IMAP_FA_BODY_SECTION, true, "BODY" },
	{ "BINARY", IMAP_FA_BINARY, false, "BINARY" },
	{ "BINARY.PEEK", IMAP_FA_BINARY, true, "BINARY" },
	{ "BINARY.SIZE", IMAP_FA_BINARY_SIZE, false, "BINARY.SIZE" },
};

static const char *const sect_names[] = {
	[IMAP_SECT_ALL] = "",
	[IMAP_SECT_HEADER] = "HEADER",
	[IMAP_SECT_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_SECT_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_SECT_TEXT] = "TEXT",
	[IMAP_SECT_MIME] = "MIME",
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
text_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* RFC 5322 field-name = 1*ftext, ftext = %d33-57 / %d59-126: anything
 * else matches no header, and would not echo as an atom or a quoted
 * string, so it is refused. */
static bool
field_name_ok(const char *f)
{
	for (; *f != '\0'; f++)
		if ((unsigned char)*f <= 32 || (unsigned char)*f >= 127 ||
		    *f == ':')
			return false;
	return true;
}

/* "(" header-fld-name *(SP header-fld-name) ")" covering s[0..len). */
static int
parse_fields(struct arena *a, const char *s, size_t len,
    struct imap_fetch_att *att)
{
	size_t	 i = 1, j, n = 0;
	char	*f;

	if (len < 3 || s[0] != '(' || s[len - 1] != ')')
		return -1;
	len--;			/* the ')' */
	att->fields = arena_alloc(a, (len / 2 + 1) * sizeof(*att->fields));
	while (i < len) {
		if (n > 0) {
			if (s[i] != ' ' || i + 1 >= len)
				return -1;
			i++;
		}
		if (s[i] == '"') {
			f = arena_alloc(a, len - i);
			for (j = 0, i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				f[j++] = s[i];
			}
			if (i >= len || j == 0)
				return -1;
			f[j] = '\0';
			i++;
		} else {
			for (j = i; j < len && s[j] != ' '; j++)
				if (!imap_atom_char((unsigned char)s[j]) &&
				    s[j] != ']')
					return -1;
			if (j == i)
				return -1;
			f = arena_strndup(a, s + i, j - i);
			i = j;
		}
		if (!field_name_ok(f))
			return -1;
		att->fields[n++] = f;
	}
	att->nfields = n;
	return n > 0 ? 0 : -1;
}

/* section-spec (without the brackets) of BODY[...] or, binary, the
 * section-binary of BINARY[...]: part numbers only. */
static int
parse_section(struct arena *a, const char *s, size_t len, bool binary,
    struct imap_fetch_att *att)
{
	size_t		 i = 0, j;
	uint64_t	 v;
	const char	*t;
	size_t		 tlen;

	att->part = arena_alloc(a, (len / 2 + 1) * sizeof(*att->part));
	while (i < len && is_digit(s[i])) {
		for (j = i; j < len && is_digit(s[j]); j++)
			;
		if (s[i] == '0' ||
		    imap_parse_u64(s + i, j - i, UINT32_MAX, &v) != 0)
			return -1;
		att->part[att->npart++] = (uint32_t)v;
		i = j;
		if (i == len)
			break;
		if (s[i] != '.' || ++i == len)
			return -1;
		if (!is_digit(s[i]))
			break;
	}
	t = s + i;
	tlen = len - i;
	if (tlen == 0) {
		att->sect = IMAP_SECT_ALL;
		return 0;
	}
	if (binary)
		return -1;
	if (text_is(t, tlen, "HEADER"))
		att->sect = IMAP_SECT_HEADER;
	else if (text_is(t, tlen, "TEXT"))
		att->sect = IMAP_SECT_TEXT;
	else if (text_is(t, tlen, "MIME") && att->npart > 0)
		att->sect = IMAP_SECT_MIME;
	else if (tlen > 18 && strncasecmp(t, "HEADER.FIELDS.NOT ", 18) == 0) {
		att->sect = IMAP_SECT_HEADER_FIELDS_NOT;
		return parse_fields(a, t + 18, tlen - 18, att);
	} else if (tlen > 14 && strncasecmp(t, "HEADER.FIELDS ", 14) == 0) {
		att->sect = IMAP_SECT_HEADER_FIELDS;
		return parse_fields(a, t + 14, tlen - 14, att);
	} else
		return -1;
	return 0;
}

/* "<" number "." nz-number ">" covering s[0..len). */
static int
parse_partial(const char *s, size_t len, struct imap_fetch_att *att)
{
	const char	*dot;

	if (len < 5 || s[0] != '<' || s[len - 1] != '>' ||
	    (dot = memchr(s, '.', len)) == NULL)
		return -1;
	if (imap_parse_u64(s + 1, (size_t)(dot - s - 1), INT64_MAX,
	    &att->origin) != 0 || dot[1] == '0' ||
	    imap_parse_u64(dot + 1, (size_t)(s + len - 1 - dot - 1),
	    INT64_MAX, &att->count) != 0)
		return -1;
	att->partial = true;
	return 0;
}

static int
make_echo(struct arena *a, const char *name, struct imap_fetch_att *att)
{
	struct buf	 b;
	size_t		 i;
	int		 rc = 0;

	buf_init(&b, a, ECHO_MAX);
	rc |= buf_printf(&b, "%s[", name);
	for (i = 0; i < att->npart; i++)
		rc |= buf_printf(&b, "%s%u", i > 0 ? "." : "",
		    (unsigned)att->part[i]);
	if (att->sect != IMAP_SECT_ALL)
		rc |= buf_printf(&b, "%s%s", att->npart > 0 ? "." : "",
		    sect_names[att->sect]);
	if (att->nfields > 0) {
		rc |= buf_append_str(&b, " (");
		for (i = 0; i < att->nfields; i++) {
			if (i > 0)
				rc |= buf_append_c(&b, ' ');
			rc |= imap_write_astring(&b, att->fields[i],
			    strlen(att->fields[i]), 0);
		}
		rc |= buf_append_c(&b, ')');
	}
	rc |= buf_append_c(&b, ']');
	if (att->partial)
		rc |= buf_printf(&b, "<%llu>",
		    (unsigned long long)att->origin);
	att->echo = buf_cstr(&b);
	return rc == 0 ? 0 : -1;
}

static int
parse_att(struct arena *a, const struct imap_arg *arg,
    struct imap_fetch_att *att, const char **error_r)
{
	const char	*s, *lb, *rb;
	size_t		 len, i, k;

	memset(att, 0, sizeof(*att));
	if (arg->type != IMAP_ARG_ATOM)
		goto bad;
	s = arg->str;
	len = arg->len;
	for (i = 0; i < N_ELEMENTS(simple); i++)
		if (text_is(s, len, simple[i].name)) {
			att->type = simple[i].type;
			att->echo = simple[i].name;
			return 0;
		}
	if ((lb = memchr(s, '[', len)) == NULL)
		goto bad;
	for (i = 0; i < N_ELEMENTS(sectioned); i++)
		if (text_is(s, (size_t)(lb - s), sectioned[i].prefix))
			break;
	if (i == N_ELEMENTS(sectioned))
		goto bad;
	/* The matching ']': the first one outside quotes. */
	for (k = (size_t)(lb - s) + 1; k < len && s[k] != ']'; k++)
		if (s[k] == '"')
			for (k++; k < len && s[k] != '"'; k++)
				if (s[k] == '\\')
					k++;
	if (k >= len)
		goto bad;
	rb = s + k;
	att->type = sectioned[i].type;
	att->peek = sectioned[i].peek;
	if (parse_section(a, lb + 1, (size_t)(rb - lb - 1),
	    att->type != IMAP_FA_BODY_SECTION, att) != 0) {
		*error_r = "Invalid section in FETCH";
		return -1;
	}
	if (rb + 1 < s + len && (att->type == IMAP_FA_BINARY_SIZE ||
	    parse_partial(rb + 1, (size_t)(s + len - rb - 1), att) != 0)) {
		*error_r = "Invalid partial range in FETCH";
		return -1;
	}
	if (make_echo(a, sectioned[i].echo, att) != 0)
		goto bad;
	return 0;
bad:
	*error_r = "Invalid FETCH attribute";
	return -1;
}

int
imap_fetch_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
    struct imap_fetch *r, const char **error_r)
{
	static const char *const macro_all[] = {
		"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY",
	};
	static const struct {
		const char	*name;
		size_t		 n;
	} macros[] = { { "FAST", 3 }, { "ALL", 4 }, { "FULL", 5 } };
	const struct imap_arg	*list;
	size_t			 i, n;

	memset(r, 0, sizeof(*r));
	if (nargs != 1) {
		*error_r = nargs == 0 ? "Missing FETCH attributes" :
		    "Unsupported FETCH modifiers";
		return -1;
	}
	for (i = 0; i < N_ELEMENTS(macros); i++)
		if (imap_arg_atom_is(&args[0], macros[i].name)) {
			r->att = arena_zalloc(a, macros[i].n * sizeof(*r->att));
			for (n = 0; n < macros[i].n; n++) {
				struct imap_arg tmp = {
					.type = IMAP_ARG_ATOM,
					.str = macro_all[n],
					.len = strlen(macro_all[n]),
				};

				if (parse_att(a, &tmp, &r->att[n],
				    error_r) != 0)
					return -1;
			}
			r->n = macros[i].n;
			return 0;
		}
	if (args[0].type == IMAP_ARG_LIST) {
		list = args[0].list;
		n = args[0].len;
		if (n == 0) {
			*error_r = "Missing FETCH attributes";
			return -1;
		}
	} else {
		list = &args[0];
		n = 1;
	}
	r->att = arena_zalloc(a, n * sizeof(*r->att));
	for (i = 0; i < n; i++)
		if (parse_att(a, &list[i], &r->att[i], error_r) != 0)
			return -1;
	r->n = n;
	return 0;
}
