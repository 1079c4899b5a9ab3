/* mime.c - message structure for IMAP: the MIME tree with IMAP sizes,
 * Content-* fields, envelope headers, and BODY[section]. The lexical
 * layer (tokenizer, parameters, addresses) is in mime_rfc822.c.
 *
 * Everything here reproduces Dovecot 2.3 (lib-mail message-parser,
 * message-header-parser, message-part-data, lib-imap-storage
 * imap-msgpart), checked
 * byte for byte against Debian's dovecot-imapd by
 * tests/integration/test_mime_dovecot.py; the comments name the quirks
 * that clients have been seeing for years and that we keep on purpose.
 *
 * Shape of the work: one forward pass over the message, line by line
 * (memchr), with an explicit stack of open parts and of active
 * boundaries (both bounded by MIME_MAX_DEPTH), so no input can drive
 * recursion or quadratic work. Sizes are not accumulated part by part:
 * a cursor counts LFs and bare LFs from the start of the message up to
 * each part boundary offset (the offsets only ever grow), so a part's
 * size is a difference of two counters.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/log.h"
#include "aviary/mime.h"

#include "mime_private.h"

/* --- the parser --- */

/* LF and bare-LF counts of the message from offset 0 up to an offset. */
struct lfc {
	uint64_t	 lf, bare;
};

struct frame {
	struct mime_part *part;
	struct mime_part *last_child;
	struct mime_env_raw *env;	/* == part->env, writable */
	struct lfc	 at_hdr, at_body;
	size_t		 body_off;
};

struct bnd {
	struct mime_part *part;
	const char	*s;
	size_t		 len;
};

enum hdr_end { H_EOH, H_EOF, H_BOUNDARY };

struct pctx {
	struct arena	*a;
	struct mime_msg	*m;
	const char	*d;
	size_t		 len;
	size_t		 pos;		/* scan position, at a line start */
	size_t		 cnt_pos;	/* counters are for [0, cnt_pos) */
	struct lfc	 cnt;
	struct frame	 st[MIME_MAX_DEPTH];	/* open parts, root first */
	size_t		 nst;
	struct bnd	 bnd[MIME_MAX_DEPTH];	/* active boundaries */
	size_t		 nbnd;
	/* a boundary line at pos ended the last header (see do_header) */
	const struct bnd *pending;
	size_t		 cut_idx;	/* stack index of that header's part */
};

/* What one header said, gathered while scanning it. */
struct hinfo {
	bool		 mime_version, seen_ctype;
	unsigned	 ctype_flags;
	const char	*boundary;
	enum hdr_end	 how;
	size_t		 end;		/* header end offset */
	const struct bnd *b;		/* H_BOUNDARY: which one */
};

static struct lfc
count_to(struct pctx *c, size_t off)
{
	const char	*p = c->d + c->cnt_pos, *end = c->d + off, *q;

	ASSERT(off >= c->cnt_pos && off <= c->len);
	while (p < end && (q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c->cnt.lf++;
		if (q == c->d || q[-1] != '\r')
			c->cnt.bare++;
		p = q + 1;
	}
	c->cnt_pos = off;
	return c->cnt;
}

static void
set_size(struct mime_size *s, size_t phys, struct lfc from, struct lfc to)
{
	s->phys = phys;
	s->lines = to.lf - from.lf;
	s->vsize = phys + (to.bare - from.bare);
}

static struct mime_part *
part_new(struct pctx *c, size_t off)
{
	struct mime_part	*p = arena_zalloc(c->a, sizeof(*p));
	struct mime_env_raw	*env = NULL;
	struct frame		*f;

	ASSERT(c->nst < MIME_MAX_DEPTH);
	if (c->nst > 0) {
		f = &c->st[c->nst - 1];
		p->parent = f->part;
		p->depth = f->part->depth + 1;
		if (f->last_child == NULL)
			f->part->children = p;
		else
			f->last_child->next = p;
		f->last_child = p;
		f->part->nchildren++;
		if ((f->part->flags & MIME_PART_MULTIPART) != 0)
			p->flags |= MIME_PART_IS_MIME;
	}
	if (p->parent == NULL || (p->parent->flags & MIME_PART_RFC822) != 0)
		p->env = env = arena_zalloc(c->a, sizeof(*env));
	p->hdr_off = off;
	c->m->nparts++;
	f = &c->st[c->nst++];
	memset(f, 0, sizeof(*f));
	f->part = p;
	f->env = env;
	f->at_hdr = count_to(c, off);
	return p;
}

static void
part_close(struct pctx *c, size_t end)
{
	struct frame	*f = &c->st[--c->nst];
	struct lfc	 e = count_to(c, end);

	set_size(&f->part->hdr, f->body_off - f->part->hdr_off, f->at_hdr,
	    f->at_body);
	set_size(&f->part->body, end - f->body_off, f->at_body, e);
}

/* The longest active boundary that the line at off starts with (after
 * "--"), newest first on ties; NULL if none. */
static const struct bnd *
boundary_at(const struct pctx *c, size_t off)
{
	const struct bnd	*best = NULL, *b;
	size_t			 rem, i;

	if (c->nbnd == 0 || off + 2 > c->len || c->d[off] != '-' ||
	    c->d[off + 1] != '-')
		return NULL;
	rem = c->len - off - 2;
	for (i = c->nbnd; i-- > 0;) {
		b = &c->bnd[i];
		if (b->len <= rem && memcmp(b->s, c->d + off + 2, b->len) == 0 &&
		    (best == NULL || best->len < b->len))
			best = b;
	}
	return best;
}

/* Header names compare without case and, as in Dovecot (C strings),
 * only up to a NUL. */
static bool
name_is(struct str name, const char *want)
{
	size_t	 n = strnlen(name.p, name.len);

	return n == strlen(want) && strncasecmp(name.p, want, n) == 0;
}

static void
env_add_addr(struct pctx *c, struct mime_env_raw *e, enum mime_env_addr k,
    struct str v)
{
	size_t	 n = e->naddr[k];

	/* powers of two: grow then */
	if ((n & (n - 1)) == 0)
		e->addr[k] = arena_realloc(c->a, e->addr[k],
		    n * sizeof(struct str),
		    (n == 0 ? 1 : 2 * n) * sizeof(struct str));
	e->addr[k][n] = v;
	e->naddr[k] = n + 1;
}

static void
env_field(struct pctx *c, struct mime_env_raw *e, struct str name,
    struct str v)
{
	static const char *const anames[MIME_ENV_NADDR] = {
		"From", "Sender", "Reply-To", "To", "Cc", "Bcc"
	};
	size_t	 i;

	if (name_is(name, "Date"))
		e->date = v;
	else if (name_is(name, "Subject"))
		e->subject = v;
	else if (name_is(name, "Message-ID"))
		e->message_id = v;
	else if (name_is(name, "In-Reply-To"))
		e->in_reply_to = v;
	else
		for (i = 0; i < MIME_ENV_NADDR; i++)
			if (name_is(name, anames[i])) {
				env_add_addr(c, e, (enum mime_env_addr)i, v);
				break;
			}
}

static void
parse_ctype(struct pctx *c, struct mime_part *p, struct hinfo *h,
    struct str v)
{
	struct tok	 t;
	struct sb	 s;
	const char	*str, *slash;
	size_t		 i;
	int		 ret;

	tok_init(&t, c->a, v.p, v.len);
	sb_init(&s, c->a);
	(void)tok_skip_lwsp(&t);
	ret = tok_content_type(&t, &s);
	str = sb_dup(&s);
	if ((slash = strchr(str, '/')) != NULL) {
		p->type = arena_strndup(c->a, str, (size_t)(slash - str));
		p->subtype = slash + 1;
	} else {
		p->type = str;
		p->subtype = "";
	}
	if (strcasecmp(str, "message/rfc822") == 0)
		h->ctype_flags = MIME_PART_RFC822;
	else if (strncasecmp(str, "text", 4) == 0 &&
	    (str[4] == '\0' || str[4] == '/'))
		h->ctype_flags = MIME_PART_TEXT;
	else if (strncasecmp(str, "multipart/", 10) == 0)
		h->ctype_flags = MIME_PART_MULTIPART |
		    (strcasecmp(str + 10, "digest") == 0 ? MIME_PART_DIGEST : 0);
	if (ret < 0)
		return;		/* broken: no parameters (Dovecot) */
	parse_params(&t, &p->params, &p->nparams);
	if ((h->ctype_flags & MIME_PART_MULTIPART) == 0)
		return;
	for (i = 0; i < p->nparams; i++)
		if (strcasecmp(p->params[i].name, "boundary") == 0) {
			h->boundary = p->params[i].value;
			break;
		}
}

static void
parse_cte(struct pctx *c, struct mime_part *p, struct str v)
{
	struct tok	 t;
	struct sb	 s;

	tok_init(&t, c->a, v.p, v.len);
	sb_init(&s, c->a);
	(void)tok_skip_lwsp(&t);
	if (tok_mime_token(&t, &s) >= 0 && tok_skip_lwsp(&t) == 0 &&
	    s.len > 0)
		p->cte = sb_dup(&s);
}

static void
parse_disposition(struct pctx *c, struct mime_part *p, struct str v)
{
	struct tok	 t;
	struct sb	 s;

	tok_init(&t, c->a, v.p, v.len);
	sb_init(&s, c->a);
	(void)tok_skip_lwsp(&t);
	if (tok_mime_token(&t, &s) < 0)
		return;
	p->disposition = sb_dup(&s);
	parse_params(&t, &p->disp_params, &p->ndisp_params);
}

static void
parse_language(struct pctx *c, struct mime_part *p, struct str v)
{
	struct tok	 t;
	struct sb	 s;
	const char	**l = NULL;
	size_t		 n = 0;

	tok_init(&t, c->a, v.p, v.len);
	sb_init(&s, c->a);
	(void)tok_skip_lwsp(&t);
	while (tok_atom(&t, &s) >= 0) {
		if ((n & (n - 1)) == 0)
			l = arena_realloc(c->a, l, n * sizeof(*l),
			    (n == 0 ? 1 : 2 * n) * sizeof(*l));
		l[n++] = sb_dup(&s);
		sb_truncate(&s, 0);
		if (t.p >= t.end || *t.p != ',')
			break;
		t.p++;
		(void)tok_skip_lwsp(&t);
	}
	if (n > 0) {
		p->languages = l;
		p->nlanguages = n;
	}
}

/* Content-* fields, first occurrence wins, except Content-Disposition
 * which a later field replaces as long as the one kept has no
 * parameters (Dovecot). */
static void
content_field(struct pctx *c, struct mime_part *p, struct hinfo *h,
    struct str name, struct str v)
{
	struct str	 n = { name.p + 8, name.len - 8 };

	if (name_is(n, "Type")) {
		if (!h->seen_ctype) {
			h->seen_ctype = true;
			parse_ctype(c, p, h, v);
		}
	} else if (name_is(n, "Transfer-Encoding")) {
		if (p->cte == NULL)
			parse_cte(c, p, v);
	} else if (name_is(n, "ID")) {
		if (p->id == NULL)
			p->id = text_dup(c->a, v.p, v.len);
	} else if (name_is(n, "Description")) {
		if (p->description == NULL)
			p->description = text_dup(c->a, v.p, v.len);
	} else if (name_is(n, "MD5")) {
		if (p->md5 == NULL)
			p->md5 = text_dup(c->a, v.p, v.len);
	} else if (name_is(n, "Location")) {
		if (p->location == NULL)
			p->location = text_dup(c->a, v.p, v.len);
	} else if (name_is(n, "Language")) {
		if (p->languages == NULL)
			parse_language(c, p, v);
	} else if (name_is(n, "Disposition")) {
		if (p->ndisp_params == 0)
			parse_disposition(c, p, v);
	}
}

static bool
is_lwsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One field starting at the line at pos (not an empty line): name,
 * value and the offset after its last line's LF (or len). Sets *eol_len
 * to the length of that line ending (0 at the end of the message). */
static size_t
field_at(const char *d, size_t len, size_t pos, struct str *name_r,
    struct str *value_r, size_t *eol_len)
{
	const char	*line = d + pos, *end = d + len;
	const char	*lf, *colon, *le, *v, *vend;
	size_t		 n, skip;

	lf = memchr(line, '\n', (size_t)(end - line));
	le = lf == NULL ? end : (lf > line && lf[-1] == '\r' ? lf - 1 : lf);
	colon = memchr(line, ':', (size_t)(le - line));
	if (colon == NULL) {
		/* a name, but one that matches nothing (Dovecot 2.3.19) */
		*name_r = (struct str){ line, (size_t)(le - line) };
		v = NULL;
	} else {
		n = (size_t)(colon - line);
		while (n > 0 && is_lwsp(line[n - 1]))
			n--;
		*name_r = (struct str){ line, n };
		/* all blank space after ':', but only one byte of it when
		 * the first line holds nothing else (Dovecot's
		 * SKIP_INITIAL_LWSP) */
		v = colon + 1;
		for (skip = 0; v + skip < le && is_lwsp(v[skip]); skip++)
			;
		if (v + skip == le && skip > 0)
			skip = 1;
		v += skip;
	}
	/* folded lines: a LF followed by blank space continues the field */
	while (lf != NULL && lf + 1 < end && is_lwsp(lf[1]))
		lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1));
	if (lf == NULL) {
		vend = end;
		*eol_len = 0;
	} else {
		vend = lf[-1] == '\r' && lf - 1 >= line ? lf - 1 : lf;
		*eol_len = (size_t)(lf - vend) + 1;
	}
	*value_r = colon == NULL ? (struct str){ NULL, 0 } :
	    (struct str){ v, (size_t)(vend - v) };
	return lf == NULL ? len : (size_t)(lf - d) + 1;
}

/* Whether a part can hold parts: Dovecot's two limits. */
static bool
container_ok(const struct pctx *c, const struct mime_part *p)
{
	return p->depth + 1 < MIME_MAX_DEPTH && c->m->nparts < MIME_MAX_PARTS;
}

/* At the line after the empty line ending p's header: is it a boundary
 * that is not p's own (a multipart's own boundary counts from its empty
 * line on, and wins as the longest match)? */
static bool
eoh_cut(struct pctx *c, struct mime_part *p, struct hinfo *h, size_t next)
{
	const struct bnd	*b;
	bool			 own = (h->ctype_flags & MIME_PART_MULTIPART) != 0 &&
	    h->boundary != NULL && container_ok(c, p);

	if (own) {
		c->bnd[c->nbnd].part = p;
		c->bnd[c->nbnd].s = h->boundary;
		c->bnd[c->nbnd].len = strlen(h->boundary) > MIME_BOUNDARY_MAX ?
		    MIME_BOUNDARY_MAX : strlen(h->boundary);
		c->nbnd++;
	}
	b = boundary_at(c, next);
	if (own)
		c->nbnd--;
	if (b == NULL || b->part == p)
		return false;
	h->b = b;
	return true;
}

static void
scan_header(struct pctx *c, struct mime_part *p, struct hinfo *h)
{
	const char	*d = c->d;
	size_t		 pos = c->pos, prev_eol = 0, eol;
	struct str	 name, v;

	while (pos < c->len) {
		if (d[pos] == '\n' ||
		    (d[pos] == '\r' && pos + 1 < c->len && d[pos + 1] == '\n')) {
			eol = d[pos] == '\r' ? 2 : 1;
			if (eoh_cut(c, p, h, pos + eol)) {
				/* Dovecot looks for a boundary before it
				 * notices the header has ended: the empty
				 * line is then the boundary's line break */
				h->how = H_BOUNDARY;
				h->end = pos;
				c->pos = pos + eol;
				return;
			}
			h->how = H_EOH;
			h->end = pos + eol;
			return;
		}
		if ((h->b = boundary_at(c, pos)) != NULL) {
			/* the line break before belongs to the boundary */
			h->how = H_BOUNDARY;
			h->end = pos - prev_eol;
			c->pos = pos;
			return;
		}
		pos = field_at(d, c->len, pos, &name, &v, &eol);
		prev_eol = eol;
		if (v.p == NULL)
			continue;	/* no ':' */
		if (name_is(name, "MIME-Version")) {
			h->mime_version = true;
		} else if (name.len > 8 && strncasecmp(name.p, "Content-", 8) == 0) {
			if (name_is(name, "Content-Type"))
				p->flags |= MIME_PART_IS_MIME;
			content_field(c, p, h, name, v);
		}
		if (c->st[c->nst - 1].env != NULL)
			env_field(c, c->st[c->nst - 1].env, name, v);
	}
	h->how = H_EOF;
	h->end = c->len;
}

static void
clear_content(struct mime_part *p)
{
	p->type = p->subtype = NULL;
	p->params = p->disp_params = NULL;
	p->nparams = p->ndisp_params = p->nlanguages = 0;
	p->cte = p->id = p->description = p->md5 = p->location = NULL;
	p->disposition = NULL;
	p->languages = NULL;
}

enum pmode { M_HEADER, M_BODY, M_DONE };

/* The parts from the top of the stack up to (not including) b's part
 * end at end; then the boundary line at line is consumed and either a
 * new part of the multipart begins or its epilogue does. When the
 * boundary cut a header (cut_idx is that part's stack index), the line
 * break before it is not the boundary's: Dovecot gives it to the body
 * of the cut part's parent, so the parts above the cut one end at line. */
static enum pmode
take_boundary(struct pctx *c, const struct bnd *b, size_t line, size_t end,
    size_t cut_idx)
{
	struct mime_part	*mp = b->part;
	size_t			 rem = c->len - line - 2, i = (size_t)(b - c->bnd);
	bool			 closing;
	const char		*lf;

	while (c->st[c->nst - 1].part != mp)
		part_close(c, c->nst - 1 >= cut_idx ? end : line);
	closing = rem >= b->len + 2 && c->d[line + 2 + b->len] == '-' &&
	    c->d[line + 3 + b->len] == '-';
	c->nbnd = closing ? i : i + 1;	/* inner boundaries are gone */
	c->pending = NULL;
	lf = memchr(c->d + line, '\n', c->len - line);
	c->pos = lf == NULL ? c->len : (size_t)(lf - c->d) + 1;
	if (closing || lf == NULL)
		return M_BODY;	/* the epilogue; no new part without a LF */
	(void)part_new(c, c->pos);
	return M_HEADER;
}

/* The body of the top part from c->pos: to the next boundary line, or
 * to the end. The first line may be a boundary without a line break
 * before it (the break ended the header or the boundary line). */
static enum pmode
do_body(struct pctx *c)
{
	const char		*lf;
	const struct bnd	*b;
	size_t			 p = c->pos;

	if (c->nbnd > 0) {
		for (;;) {
			if ((b = boundary_at(c, p)) != NULL)
				return take_boundary(c, b, p, p == c->pos ? p :
				    p - (p >= 2 && c->d[p - 2] == '\r' ? 2 : 1),
				    0);
			lf = memchr(c->d + p, '\n', c->len - p);
			if (lf == NULL)
				break;
			p = (size_t)(lf - c->d) + 1;
		}
	}
	while (c->nst > 0)
		part_close(c, c->len);
	return M_DONE;
}

static enum pmode
do_header(struct pctx *c)
{
	struct frame		*f = &c->st[c->nst - 1];
	struct mime_part	*p = f->part;
	struct hinfo		 h;
	bool			 last;

	memset(&h, 0, sizeof(h));
	if (c->pending != NULL) {
		/* the child of a message/rfc822 part whose header was cut
		 * by a boundary: empty, like its parent's body */
		h.how = H_BOUNDARY;
		h.end = p->hdr_off;
		h.b = c->pending;
	} else {
		scan_header(c, p, &h);
		c->cut_idx = c->nst - 1;
	}
	if (h.mime_version)
		p->flags |= MIME_PART_IS_MIME;
	if ((p->flags & MIME_PART_IS_MIME) == 0) {
		/* not MIME: Content-* fields mean nothing */
		clear_content(p);
	} else {
		p->flags |= h.ctype_flags;
	}
	if (!h.seen_ctype || (p->flags & MIME_PART_IS_MIME) == 0)
		p->flags |= p->parent != NULL &&
		    (p->parent->flags & MIME_PART_DIGEST) != 0 ?
		    MIME_PART_RFC822 : MIME_PART_TEXT;

	/* Dovecot's limits: a part at the last nesting level holds no
	 * parts, and the MIME_MAX_PARTS-th part takes the rest of the
	 * message, boundaries included. */
	last = c->m->nparts >= MIME_MAX_PARTS;
	if (!container_ok(c, p))
		p->flags &= ~(unsigned)(MIME_PART_MULTIPART | MIME_PART_DIGEST |
		    MIME_PART_RFC822);

	f->body_off = h.end;
	f->at_body = count_to(c, h.end);
	if (last) {
		/* no boundary counts any more: the body runs to the end
		 * (after a header cut by a boundary too, an approximation
		 * of a corner Dovecot handles in its own way) */
		c->nbnd = 0;
		c->pending = NULL;
		return do_body(c);
	}
	switch (h.how) {
	case H_EOH:
		c->pos = h.end;
		if ((p->flags & MIME_PART_MULTIPART) != 0 && h.boundary != NULL) {
			struct bnd *b = &c->bnd[c->nbnd++];

			b->part = p;
			b->s = h.boundary;
			b->len = strlen(h.boundary);
			if (b->len > MIME_BOUNDARY_MAX)
				b->len = MIME_BOUNDARY_MAX;
			return M_BODY;
		}
		if ((p->flags & MIME_PART_RFC822) != 0) {
			(void)part_new(c, h.end);
			return M_HEADER;
		}
		return M_BODY;
	case H_EOF:
		c->pos = c->len;
		if ((p->flags & MIME_PART_RFC822) != 0) {
			(void)part_new(c, c->len);
			return M_HEADER;
		}
		return M_BODY;
	case H_BOUNDARY:
		break;
	}
	if ((p->flags & MIME_PART_RFC822) != 0) {
		c->pending = h.b;
		(void)part_new(c, h.end);
		return M_HEADER;
	}
	return take_boundary(c, h.b, c->pos, h.end, c->cut_idx);
}

struct mime_msg *
mime_parse(struct arena *a, const void *data, size_t len)
{
	struct pctx	*c = arena_zalloc(a, sizeof(*c));
	struct mime_msg	*m = arena_zalloc(a, sizeof(*m));
	enum pmode	 mode = M_HEADER;

	m->data = data;
	m->len = len;
	c->a = a;
	c->m = m;
	c->d = data;
	c->len = len;
	m->root = part_new(c, 0);
	while (mode != M_DONE)
		mode = mode == M_HEADER ? do_header(c) : do_body(c);
	return m;
}

uint64_t
mime_msg_vsize(const struct mime_msg *m)
{
	return m->root->hdr.vsize + m->root->body.vsize;
}

/* --- navigation, header fields, envelope --- */

const struct mime_part *
mime_part_find(const struct mime_msg *m, const unsigned *path, size_t npath)
{
	const struct mime_part	*p = m->root;
	size_t			 i;
	unsigned		 n;
	bool			 more;

	for (i = 0; i < npath && p != NULL; i++) {
		more = i + 1 < npath;
		if ((p->flags & MIME_PART_MULTIPART) != 0) {
			p = p->children;
			for (n = path[i]; n > 1 && p != NULL; n--)
				p = p->next;
		} else if (path[i] != 1 ||
		    (more && (p->flags & MIME_PART_RFC822) == 0)) {
			p = NULL;
		}
		if (p != NULL && more && (p->flags & MIME_PART_RFC822) != 0)
			p = p->children;	/* into the message */
	}
	return p;
}

void
mime_hdr_iter_init(struct mime_hdr_iter *it, const struct mime_msg *m,
    const struct mime_part *part)
{
	it->p = m->data + part->hdr_off;
	it->end = it->p + part->hdr.phys;
}

bool
mime_hdr_iter_next(struct mime_hdr_iter *it, struct str *name_r,
    struct str *value_r)
{
	size_t	 next, eol;

	if (it->p >= it->end || *it->p == '\n' ||
	    (*it->p == '\r' && it->p + 1 < it->end && it->p[1] == '\n'))
		return false;
	next = field_at(it->p, (size_t)(it->end - it->p), 0, name_r, value_r,
	    &eol);
	it->p += next;
	return true;
}

void
mime_envelope_get(struct arena *a, const struct mime_part *part,
    struct mime_envelope *env_r)
{
	const struct mime_env_raw	*e = part->env;
	struct mime_addr		*l, *tail;
	size_t				 k, i;

	memset(env_r, 0, sizeof(*env_r));
	if (e == NULL)
		return;
#define ENV_STR(f) \
	env_r->f = e->f.p == NULL ? NULL : text_dup(a, e->f.p, e->f.len)
	ENV_STR(date);
	ENV_STR(subject);
	ENV_STR(message_id);
	ENV_STR(in_reply_to);
#undef ENV_STR
	for (k = 0; k < MIME_ENV_NADDR; k++) {
		tail = NULL;
		for (i = 0; i < e->naddr[k]; i++) {
			l = mime_addr_parse(a, e->addr[k][i].p,
			    e->addr[k][i].len);
			if (l == NULL)
				continue;
			if (tail == NULL)
				env_r->addr[k] = l;
			else
				tail->next = l;
			for (tail = l; tail->next != NULL; tail = tail->next)
				;
		}
	}
}

/* --- sections --- */

static bool
kw(const char **p, const char *end, const char *word)
{
	size_t	 n = strlen(word);

	if ((size_t)(end - *p) < n || strncasecmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool
is_astring_char(unsigned char ch)
{
	return ch > ' ' && ch < 0x7f && ch != '(' && ch != ')' && ch != '{' &&
	    ch != '"' && ch != '\\' && ch != '%' && ch != '*' && ch != ']';
}

/* "(" astring *(SP astring) ")" up to end, names upper-cased. */
static int
parse_field_list(struct arena *a, const char *p, const char *end,
    struct mime_section *s)
{
	struct sb	 f;
	size_t		 cap = 0;
	bool		 q;

	if (p >= end || *p++ != '(')
		return -1;
	for (;;) {
		while (p < end && *p == ' ')
			p++;	/* lenient, as Dovecot's parser */
		sb_init(&f, a);
		q = p < end && *p == '"';
		if (q) {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end &&
				    (p[1] == '\\' || p[1] == '"'))
					p++;
				else if (*p == '\\' || *p == '\r' ||
				    *p == '\n' || *p == '\0')
					return -1;
				sb_addc(&f, *p);
			}
			if (p >= end)
				return -1;
			p++;
		} else {
			for (; p < end && is_astring_char((unsigned char)*p);
			    p++)
				sb_addc(&f, *p);
			if (f.len == 0)
				return -1;
		}
		if (s->nfields == MIME_SECTION_MAX_FIELDS)
			return -1;
		if (s->nfields == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			s->fields = arena_realloc(a, s->fields,
			    s->nfields * sizeof(*s->fields),
			    cap * sizeof(*s->fields));
			s->quoted = arena_realloc(a, s->quoted,
			    s->nfields * sizeof(*s->quoted),
			    cap * sizeof(*s->quoted));
		}
		for (size_t i = 0; i < f.len; i++)
			if (f.p[i] >= 'a' && f.p[i] <= 'z')
				f.p[i] = (char)(f.p[i] - 'a' + 'A');
		s->quoted[s->nfields] = q;
		s->fields[s->nfields++] = sb_dup(&f);
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p != ')')
			continue;
		break;
	}
	if (p >= end || *p++ != ')' || p != end)
		return -1;
	return 0;
}

int
mime_section_parse(struct arena *a, const char *spec, size_t len,
    struct mime_section *s)
{
	const char	*p = spec, *end = spec + len;
	uint64_t	 n;

	memset(s, 0, sizeof(*s));
	s->kind = MIME_SEC_PART;
	while (p < end && *p >= '0' && *p <= '9') {
		if (*p == '0' || s->npath == MIME_SECTION_MAX_PATH)
			return -1;
		for (n = 0; p < end && *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > UINT32_MAX)
				return -1;
		}
		s->path[s->npath++] = (unsigned)n;
		if (p == end)
			return 0;
		if (*p != '.' || ++p == end)
			return -1;
	}
	if (p == end)
		return 0;	/* BODY[] */
	if (kw(&p, end, "HEADER.FIELDS.NOT ")) {
		s->kind = MIME_SEC_HEADER_FIELDS_NOT;
		return parse_field_list(a, p, end, s);
	}
	if (kw(&p, end, "HEADER.FIELDS ")) {
		s->kind = MIME_SEC_HEADER_FIELDS;
		return parse_field_list(a, p, end, s);
	}
	if (kw(&p, end, "HEADER"))
		s->kind = MIME_SEC_HEADER;
	else if (kw(&p, end, "TEXT"))
		s->kind = MIME_SEC_TEXT;
	else if (kw(&p, end, "MIME") && s->npath > 0)
		s->kind = MIME_SEC_MIME;
	else
		return -1;
	return p == end ? 0 : -1;
}

int
mime_section_format(const struct mime_section *s, struct buf *out)
{
	static const char *const kinds[] = {
		[MIME_SEC_PART] = "", [MIME_SEC_HEADER] = "HEADER",
		[MIME_SEC_HEADER_FIELDS] = "HEADER.FIELDS",
		[MIME_SEC_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[MIME_SEC_TEXT] = "TEXT", [MIME_SEC_MIME] = "MIME"
	};
	size_t		 i, j;
	const char	*f;
	bool		 atom;

	for (i = 0; i < s->npath; i++)
		if (buf_printf(out, i == 0 ? "%u" : ".%u", s->path[i]) != 0)
			return -1;
	if (s->kind == MIME_SEC_PART)
		return 0;
	if ((s->npath > 0 && buf_append_c(out, '.') != 0) ||
	    buf_append_str(out, kinds[s->kind]) != 0)
		return -1;
	if (s->kind != MIME_SEC_HEADER_FIELDS &&
	    s->kind != MIME_SEC_HEADER_FIELDS_NOT)
		return 0;
	if (buf_append_str(out, " (") != 0)
		return -1;
	for (i = 0; i < s->nfields; i++) {
		f = s->fields[i];
		atom = f[0] != '\0' && (s->quoted == NULL || !s->quoted[i]);
		for (j = 0; f[j] != '\0'; j++)
			if (!is_astring_char((unsigned char)f[j]))
				atom = false;
		if (i > 0 && buf_append_c(out, ' ') != 0)
			return -1;
		if (atom) {
			if (buf_append_str(out, f) != 0)
				return -1;
			continue;
		}
		if (buf_append_c(out, '"') != 0)
			return -1;
		for (j = 0; f[j] != '\0'; j++)
			if (((f[j] == '"' || f[j] == '\\') &&
			    buf_append_c(out, '\\') != 0) ||
			    buf_append_c(out, f[j]) != 0)
				return -1;
		if (buf_append_c(out, '"') != 0)
			return -1;
	}
	return buf_append_c(out, ')');
}

/* --- the CRLF reader --- */

/* Message bytes [off, off + len) converted to CRLF, then "\r\n" if
 * crlf. A segment never starts after a CR that belongs to it (it
 * starts at a line start), so converting each alone is exact. */
struct seg {
	size_t		 off, len;
	bool		 crlf;
};

struct mime_fetch {
	const char	*d;
	struct seg	*segs;
	size_t		 nseg, capseg;
	struct arena	*a;
	uint64_t	 total;		/* converted bytes of all segments */
	uint64_t	 size;		/* after the partial */
	uint64_t	 left;		/* still to produce */
	bool		 found;
	/* cursor */
	size_t		 si, off;
	unsigned	 tail;		/* 0, 1 after the CR of crlf, 2 done */
	bool		 lf_pending;	/* a bare LF's CR was produced */
};

static void
seg_add(struct mime_fetch *f, size_t off, size_t len, bool crlf)
{
	if (f->nseg == f->capseg) {
		size_t nc = f->capseg == 0 ? 8 : f->capseg * 2;

		f->segs = arena_realloc(f->a, f->segs,
		    f->capseg * sizeof(*f->segs), nc * sizeof(*f->segs));
		f->capseg = nc;
	}
	f->segs[f->nseg].off = off;
	f->segs[f->nseg].len = len;
	f->segs[f->nseg].crlf = crlf;
	f->nseg++;
}

static uint64_t
seg_vsize(const struct mime_fetch *f, const struct seg *s)
{
	const char	*p = f->d + s->off, *end = p + s->len, *q;
	uint64_t	 n = s->len + (s->crlf ? 2 : 0);

	while (p < end && (q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (q == f->d + s->off || q[-1] != '\r')
			n++;
		p = q + 1;
	}
	return n;
}

static bool
field_wanted(const struct mime_section *s, struct str name, struct str v)
{
	size_t	 n = strnlen(name.p, name.len), i;

	if (v.p == NULL)
		return false;	/* no ':' */

	for (i = 0; i < s->nfields; i++)
		if (strlen(s->fields[i]) == n &&
		    strncasecmp(s->fields[i], name.p, n) == 0)
			return true;
	return false;
}

/* Dovecot's header filter over the message from off, up to the empty
 * line or limit: the kept fields with their line breaks, and the empty
 * line if there is one. */
static void
filter_header(struct mime_fetch *f, const struct mime_msg *m, size_t off,
    size_t limit, const struct mime_section *s, bool exclude)
{
	const char	*d = m->data;
	struct str	 name, v;
	size_t		 next, eol;

	while (off < limit) {
		if (d[off] == '\n' || (d[off] == '\r' && off + 1 < limit &&
		    d[off + 1] == '\n')) {
			seg_add(f, off, 0, true);
			return;
		}
		next = field_at(d, limit, off, &name, &v, &eol);
		if (field_wanted(s, name, v) != exclude)
			seg_add(f, off, next - off - eol, eol > 0);
		off = next;
	}
}

/* BODY[HEADER.FIELDS (...)] of the whole message. Dovecot serves it
 * from its cache of the wanted fields, each kept with a line break,
 * followed by the empty line: so a last header line without a line
 * break gets one, and the empty line is there even when the message has
 * none (RFC 3501 6.4.5 wants it). Uncached, Dovecot omits the empty line
 * after such an unterminated last line; the cached answer is the one
 * clients see from then on, and the one the RFC asks for. */
static void
fields_of_root(struct mime_fetch *f, const struct mime_msg *m,
    const struct mime_section *s)
{
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	const char		*start;
	size_t			 eol, len;

	mime_hdr_iter_init(&it, m, m->root);
	for (;;) {
		start = it.p;
		if (!mime_hdr_iter_next(&it, &name, &v))
			break;
		if (!field_wanted(s, name, v))
			continue;
		len = (size_t)(it.p - start);
		eol = len > 0 && start[len - 1] == '\n' ?
		    (len > 1 && start[len - 2] == '\r' ? 2 : 1) : 0;
		seg_add(f, (size_t)(start - m->data), len - eol, true);
	}
	seg_add(f, 0, 0, true);
}

static void
plan(struct mime_fetch *f, const struct mime_msg *m,
    const struct mime_section *s)
{
	const struct mime_part	*p = m->root;
	bool			 sub = s->npath > 0;

	if (sub && (p = mime_part_find(m, s->path, s->npath)) == NULL)
		return;
	switch (s->kind) {
	case MIME_SEC_PART:
		if (sub)
			seg_add(f, p->hdr_off + p->hdr.phys, p->body.phys,
			    false);
		else
			seg_add(f, 0, m->len, false);
		f->found = true;
		return;
	case MIME_SEC_MIME:
		/* the part's own header, message/rfc822 or not (Dovecot) */
		seg_add(f, p->hdr_off, p->hdr.phys, false);
		f->found = true;
		return;
	default:
		break;
	}
	if (sub) {
		/* HEADER and TEXT of a part: of its encapsulated message */
		if ((p->flags & MIME_PART_RFC822) == 0 || p->children == NULL)
			return;
		p = p->children;
	}
	f->found = true;
	switch (s->kind) {
	case MIME_SEC_HEADER:
		seg_add(f, p->hdr_off, p->hdr.phys, false);
		break;
	case MIME_SEC_TEXT:
		seg_add(f, p->hdr_off + p->hdr.phys, p->body.phys, false);
		break;
	case MIME_SEC_HEADER_FIELDS:
		if (!sub) {
			fields_of_root(f, m, s);
			break;
		}
		/* Dovecot filters the message stream from the part on, not
		 * limited to its header. */
		filter_header(f, m, p->hdr_off, m->len, s, false);
		break;
	case MIME_SEC_HEADER_FIELDS_NOT:
		filter_header(f, m, p->hdr_off,
		    sub ? m->len : p->hdr_off + p->hdr.phys, s, true);
		break;
	default:
		break;
	}
}

static size_t
produce(struct mime_fetch *f, unsigned char *out, size_t cap)
{
	const struct seg	*s;
	const unsigned char	*p, *end, *from;
	size_t			 n = 0;

	while (n < cap && f->si < f->nseg) {
		s = &f->segs[f->si];
		if (f->lf_pending) {
			out[n++] = '\n';
			f->lf_pending = false;
			continue;
		}
		if (f->off < s->len) {
			from = (const unsigned char *)f->d + s->off;
			p = from + f->off;
			end = p + (s->len - f->off < cap - n ?
			    s->len - f->off : cap - n);
			/* copy a run of ordinary bytes */
			while (p < end && *p != '\n' && *p != '\0')
				out[n++] = *p++;
			f->off = (size_t)(p - from);
			if (p == end)
				continue;
			if (*p == '\0') {
				out[n++] = 0x80;
			} else if (p == from || p[-1] != '\r') {
				out[n++] = '\r';
				f->lf_pending = true;
			} else {
				out[n++] = '\n';
			}
			f->off++;
		} else if (s->crlf && f->tail < 2) {
			out[n++] = f->tail++ == 0 ? '\r' : '\n';
		} else {
			f->si++;
			f->off = 0;
			f->tail = 0;
		}
	}
	return n;
}

struct mime_fetch *
mime_fetch_open(struct arena *a, const struct mime_msg *m,
    const struct mime_section *s, uint64_t origin, uint64_t len)
{
	struct mime_fetch	*f = arena_zalloc(a, sizeof(*f));
	unsigned char		 scratch[4096];
	uint64_t		 v, skip;
	size_t			 i, n;

	f->a = a;
	f->d = m->data;
	plan(f, m, s);
	for (i = 0; i < f->nseg; i++)
		f->total += seg_vsize(f, &f->segs[i]);
	if (origin >= f->total)
		return f;	/* size 0 */
	f->size = f->total - origin < len ? f->total - origin : len;
	/* skip whole segments, then bytes */
	for (skip = origin; f->si < f->nseg; f->si++) {
		v = seg_vsize(f, &f->segs[f->si]);
		if (v > skip)
			break;
		skip -= v;
	}
	while (skip > 0) {
		n = produce(f, scratch, skip < sizeof(scratch) ?
		    (size_t)skip : sizeof(scratch));
		ASSERT(n > 0);
		skip -= n;
	}
	f->left = f->size;
	return f;
}

bool
mime_fetch_found(const struct mime_fetch *f)
{
	return f->found;
}

uint64_t
mime_fetch_size(const struct mime_fetch *f)
{
	return f->size;
}

size_t
mime_fetch_read(struct mime_fetch *f, void *buf, size_t cap)
{
	size_t	 n;

	if (cap > f->left)
		cap = (size_t)f->left;
	n = produce(f, buf, cap);
	f->left -= n;
	return n;
}
