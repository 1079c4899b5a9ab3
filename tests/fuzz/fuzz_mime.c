/* fuzz_mime.c - mime_parse() and everything built on it, over any bytes.
 * Invariants: the tree covers the message exactly (root header + body =
 * the input; every child inside its parent's body, in order, sizes
 * consistent); ENVELOPE, BODY and BODYSTRUCTURE are well-formed IMAP
 * (balanced parentheses, closed quoted strings of 7-bit text, literals
 * whose {n} is their length); every BODY[section] reader produces
 * exactly the announced octets, in CRLF form and without NUL; the
 * SEARCH helpers and the section parser accept anything. */
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/imapfmt.h"
#include "aviary/mime.h"
#include "fuzz.h"

/* One IMAP value at p: its end, or NULL if malformed. Depth-bounded:
 * our output nests at most a few levels per MIME level. */
static const char *
value_end(const char *p, const char *end, int depth)
{
	unsigned long	 n;

	if (p >= end || depth > 4 * MIME_MAX_DEPTH + 16)
		return NULL;
	switch (*p) {
	case '(':
		p++;
		if (p < end && *p == ')')
			return p + 1;
		for (;;) {
			if ((p = value_end(p, end, depth + 1)) == NULL ||
			    p >= end)
				return NULL;
			if (*p == ')')
				return p + 1;
			/* siblings: a space, or none between lists */
			if (*p == ' ')
				p++;
			else if (*p != '(')
				return NULL;
		}
	case '"':
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\') {
				if (++p >= end || (*p != '\\' && *p != '"'))
					return NULL;
			} else if (*p == '\r' || *p == '\n' || *p == '\0' ||
			    (unsigned char)*p >= 0x80) {
				return NULL;
			}
		}
		return p < end ? p + 1 : NULL;
	case '{':
		for (n = 0, p++; p < end && *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (unsigned long)(*p - '0');
		if (end - p < 3 || p[0] != '}' || p[1] != '\r' || p[2] != '\n')
			return NULL;
		p += 3;
		if ((unsigned long)(end - p) < n || memchr(p, '\0', n) != NULL)
			return NULL;
		return p + n;
	default:
		if (end - p >= 3 && memcmp(p, "NIL", 3) == 0)
			return p + 3;
		if (*p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		return p;
	}
}

static void
check_imap(const struct buf *b)
{
	const char *end = b->data + b->len;

	if (b->len == 0 || b->data[0] != '(' ||
	    value_end(b->data, end, 0) != end)
		abort();
}

/* Pre-order walk without recursion: ranges and sizes. */
static void
check_tree(const struct mime_msg *m)
{
	const struct mime_part	*p = m->root, *c;
	uint64_t		 start, end, prev;

	if (p->hdr_off != 0 || p->hdr.phys + p->body.phys != m->len)
		abort();
	while (p != NULL) {
		if (p->hdr.vsize < p->hdr.phys || p->body.vsize < p->body.phys ||
		    p->hdr.lines > p->hdr.phys || p->body.lines > p->body.phys ||
		    p->hdr.vsize - p->hdr.phys > p->hdr.lines ||
		    p->body.vsize - p->body.phys > p->body.lines ||
		    p->depth >= MIME_MAX_DEPTH)
			abort();
		start = p->hdr_off + p->hdr.phys;
		end = start + p->body.phys;
		prev = start;
		for (c = p->children; c != NULL; c = c->next) {
			if (c->parent != p || c->depth != p->depth + 1 ||
			    c->hdr_off < prev ||
			    c->hdr_off + c->hdr.phys + c->body.phys > end)
				abort();
			prev = c->hdr_off + c->hdr.phys + c->body.phys;
		}
		/* the message fills the part's body, but for the line break
		 * of a boundary that cut its header (Dovecot's rule) */
		if ((p->flags & MIME_PART_RFC822) != 0 &&
		    (p->nchildren != 1 || p->children->hdr_off != start ||
		    p->body.phys - (p->children->hdr.phys +
		    p->children->body.phys) > 2))
			abort();
		if (p->children != NULL) {
			p = p->children;
			continue;
		}
		while (p != NULL && p->next == NULL)
			p = p->parent;
		if (p != NULL)
			p = p->next;
	}
}

static void
check_fetch(struct arena *a, const struct mime_msg *m, const char *spec,
    uint64_t origin, uint64_t len)
{
	struct mime_section	 s;
	struct mime_fetch	*f;
	unsigned char		 chunk[97];
	uint64_t		 total = 0;
	size_t			 n, i;
	unsigned char		 prev = 0;

	if (mime_section_parse(a, spec, strlen(spec), &s) != 0)
		abort();
	f = mime_fetch_open(a, m, &s, origin, len);
	if (mime_fetch_size(f) > len)
		abort();
	while ((n = mime_fetch_read(f, chunk, sizeof(chunk))) > 0) {
		for (i = 0; i < n; i++) {
			if (chunk[i] == '\0' || (chunk[i] == '\n' &&
			    prev != '\r' && (total > 0 || i > 0 ||
			    origin == 0)))
				abort();
			prev = chunk[i];
		}
		total += n;
	}
	if (total != mime_fetch_size(f))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const specs[] = {
		"", "HEADER", "TEXT", "1", "1.MIME", "2", "2.HEADER", "2.TEXT",
		"1.1", "1.2.MIME", "3.1", "HEADER.FIELDS (FROM SUBJECT)",
		"HEADER.FIELDS.NOT (TO)", "2.HEADER.FIELDS (CONTENT-TYPE)",
		"1.HEADER.FIELDS.NOT (X)"
	};
	struct arena		*a = arena_create(65536);
	struct mime_msg		*m;
	struct mime_envelope	 env;
	struct mime_section	 sec;
	struct mime_matcher	 mt;
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	struct buf		 b;
	size_t			 i, n;
	time_t			 t;
	int			 tz;
	char			*d;

	m = mime_parse(a, data, size);
	check_tree(m);

	buf_init(&b, a, 1 << 26);
	mime_envelope_get(a, m->root, &env);
	if (imap_envelope_write(&b, &env) != 0)
		abort();
	check_imap(&b);
	buf_clear(&b);
	if (imap_bodystructure_write(&b, a, m->root, true) != 0)
		abort();
	check_imap(&b);
	buf_clear(&b);
	if (imap_bodystructure_write(&b, a, m->root, false) != 0)
		abort();
	check_imap(&b);

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		check_fetch(a, m, specs[i], 0, UINT64_MAX);
		check_fetch(a, m, specs[i], size % 7, 1 + size % 13);
	}

	/* the section parser, on the first bytes */
	if (mime_section_parse(a, (const char *)data, size < 64 ? size : 64,
	    &sec) == 0 && (sec.npath > MIME_SECTION_MAX_PATH ||
	    sec.nfields > MIME_SECTION_MAX_FIELDS))
		abort();

	/* the SEARCH helpers on every header field */
	mime_matcher_init(&mt, a, "\xc3\xa9t\xc3\xa9", 5);
	mime_hdr_iter_init(&it, m, m->root);
	while (mime_hdr_iter_next(&it, &name, &v)) {
		if (v.p == NULL)
			continue;
		d = mime_header_decode(a, v.p, v.len, &n);
		if (strlen(d) > n)
			abort();
		(void)mime_matcher_match(&mt, a, d, n);
		(void)mime_addr_match(&mt, a, v.p, v.len);
		if (mime_date_parse(v.p, v.len, &t, &tz) == 0 &&
		    (tz < -99 * 60 - 59 || tz > 99 * 60 + 59))
			abort();
	}
	(void)mime_body_match(&mt, a, m);
	arena_destroy(&a);
	return 0;
}
