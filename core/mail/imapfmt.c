/* imapfmt.c - ENVELOPE, BODY and BODYSTRUCTURE text, as Dovecot 2.3
 * writes it (lib-imap imap-quote.c, imap-envelope.c,
 * imap-bodystructure.c). Where RFC 3501 leaves a choice (quoted or
 * literal, NIL or ""), the choice is Dovecot's, so that clients caching
 * BODYSTRUCTURE see no change after a migration.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aviary/buf.h"
#include "aviary/imapfmt.h"
#include "aviary/mime.h"

/* Past this many characters to escape a literal is shorter (Dovecot's
 * QUOTED_MAX_ESCAPE_CHARS). */
#define QUOTED_MAX_ESCAPES	4

struct w {
	struct buf	*b;
	bool		 full;
};

static void
w_add(struct w *w, const void *p, size_t n)
{
	if (!w->full && buf_append(w->b, p, n) != 0)
		w->full = true;
}

static void
w_str(struct w *w, const char *s)
{
	w_add(w, s, strlen(s));
}

static void
w_c(struct w *w, char c)
{
	w_add(w, &c, 1);
}

static void
w_literal(struct w *w, const char *s, size_t n)
{
	char	 hdr[32];
	int	 k = snprintf(hdr, sizeof(hdr), "{%zu}\r\n", n);

	if (k < 0 || (size_t)k >= sizeof(hdr)) {
		w->full = true;
		return;
	}
	w_add(w, hdr, (size_t)k);
	w_add(w, s, n);
}

static void
w_nstring(struct w *w, const char *s)
{
	size_t		 i, esc = 0;
	unsigned char	 c;

	if (s == NULL) {
		w_str(w, "NIL");
		return;
	}
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c >= 0x80 ||
		    ((c == '"' || c == '\\') && esc++ >= QUOTED_MAX_ESCAPES)) {
			w_literal(w, s, strlen(s));
			return;
		}
	}
	w_c(w, '"');
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '"' || s[i] == '\\')
			w_c(w, '\\');
		w_c(w, s[i]);
	}
	w_c(w, '"');
}

/* A CR or LF of s at i: dropped (false), or read as one space (true)
 * when glued to a following word (Dovecot 2.3.19's nolf). */
static bool
nolf_space(const char *s, size_t i)
{
	char	 n = s[i + 1];

	return n != ' ' && n != '\t' && n != '\r' && n != '\n' && n != '\0';
}

static void
w_nstring_nolf(struct w *w, const char *s)
{
	size_t		 i, len = 0, esc = 0;
	unsigned char	 c;
	bool		 lit = false;
	char		 hdr[32];
	int		 hl;

	if (s == NULL || strpbrk(s, "\r\n") == NULL) {
		w_nstring(w, s);
		return;
	}
	/* two passes over the cleaned text: decide, then write */
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' || c == '\n') {
			if (!nolf_space(s, i))
				continue;
			c = ' ';
		}
		len++;
		if (c >= 0x80 ||
		    ((c == '"' || c == '\\') && esc++ >= QUOTED_MAX_ESCAPES))
			lit = true;
	}
	if (lit) {
		hl = snprintf(hdr, sizeof(hdr), "{%zu}\r\n", len);
		if (hl < 0 || (size_t)hl >= sizeof(hdr)) {
			w->full = true;
			return;
		}
		w_add(w, hdr, (size_t)hl);
	} else {
		w_c(w, '"');
	}
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' || c == '\n') {
			if (!nolf_space(s, i))
				continue;
			c = ' ';
		}
		if (!lit && (c == '"' || c == '\\'))
			w_c(w, '\\');
		w_c(w, (char)c);
	}
	if (!lit)
		w_c(w, '"');
}

static bool
humans_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
w_humans(struct w *w, const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, remove = 0;
	bool			 prefix = true, last = true, modify = false;
	char			 hdr[32];
	int			 hl;

	for (i = 0; i < n; i++) {
		if (u[i] == 0) {
			last = false;
			modify = true;
		} else if (humans_space(u[i])) {
			if (u[i] != ' ')
				modify = true;
			if (last) {
				modify = true;
				remove++;
			}
			last = true;
		} else {
			if (u[i] == '"' || u[i] == '\\' || u[i] >= 0x80)
				modify = true;
			last = false;
		}
		if (!last)
			prefix = false;
	}
	if (last && n > 0 && !prefix) {
		modify = true;
		remove++;
	}
	if (!modify) {
		w_c(w, '"');
		w_add(w, s, n);
		w_c(w, '"');
		return;
	}
	if (n == remove) {
		w_str(w, "\"\"");
		return;
	}
	hl = snprintf(hdr, sizeof(hdr), "{%zu}\r\n", n - remove);
	if (hl < 0 || (size_t)hl >= sizeof(hdr)) {
		w->full = true;
		return;
	}
	w_add(w, hdr, (size_t)hl);
	last = true;
	prefix = true;
	for (i = 0; i < n; i++) {
		if (u[i] == 0) {
			w_c(w, (char)0x80);
			last = false;
		} else if (humans_space(u[i])) {
			if (!last)
				w_c(w, ' ');
			last = true;
		} else {
			w_c(w, s[i]);
			last = false;
		}
		if (!last)
			prefix = false;
	}
	if (last && n > 0 && !prefix && !w->full)
		buf_truncate(w->b, w->b->len - 1);	/* the trailing space */
}

static void
w_addrs(struct w *w, const struct mime_addr *a)
{
	if (a == NULL) {
		w_str(w, "NIL");
		return;
	}
	w_c(w, '(');
	for (; a != NULL; a = a->next) {
		w_c(w, '(');
		if (a->name == NULL)
			w_str(w, "NIL");
		else
			w_humans(w, a->name, strlen(a->name));
		w_c(w, ' ');
		w_nstring(w, a->route);
		w_c(w, ' ');
		w_nstring(w, a->mailbox);
		w_c(w, ' ');
		w_nstring(w, a->domain);
		w_c(w, ')');
	}
	w_c(w, ')');
}

static void
w_envelope(struct w *w, const struct mime_envelope *e)
{
	const struct mime_addr	*from = e->addr[MIME_ENV_FROM];
	const struct mime_addr	*sender = e->addr[MIME_ENV_SENDER];
	const struct mime_addr	*reply_to = e->addr[MIME_ENV_REPLY_TO];

	w_c(w, '(');
	w_nstring_nolf(w, e->date);
	w_c(w, ' ');
	if (e->subject == NULL)
		w_str(w, "NIL");
	else
		w_humans(w, e->subject, strlen(e->subject));
	w_c(w, ' ');
	w_addrs(w, from);
	w_c(w, ' ');
	w_addrs(w, sender != NULL ? sender : from);
	w_c(w, ' ');
	w_addrs(w, reply_to != NULL ? reply_to : from);
	w_c(w, ' ');
	w_addrs(w, e->addr[MIME_ENV_TO]);
	w_c(w, ' ');
	w_addrs(w, e->addr[MIME_ENV_CC]);
	w_c(w, ' ');
	w_addrs(w, e->addr[MIME_ENV_BCC]);
	w_c(w, ' ');
	w_nstring_nolf(w, e->in_reply_to);
	w_c(w, ' ');
	w_nstring_nolf(w, e->message_id);
	w_c(w, ')');
}

/* body-fld-param: NIL, or the list with "charset" "us-ascii" added for
 * text parts that lack a charset. */
static void
w_params(struct w *w, const struct mime_param *p, size_t n,
    bool default_charset)
{
	bool	 seen = false;
	size_t	 i;

	if (!default_charset && n == 0) {
		w_str(w, "NIL");
		return;
	}
	w_c(w, '(');
	for (i = 0; i < n; i++) {
		if (i > 0)
			w_c(w, ' ');
		if (default_charset && strcasecmp(p[i].name, "charset") == 0)
			seen = true;
		w_nstring(w, p[i].name);
		w_c(w, ' ');
		w_nstring(w, p[i].value);
	}
	if (default_charset && !seen) {
		if (i > 0)
			w_c(w, ' ');
		w_str(w, "\"charset\" \"us-ascii\"");
	}
	w_c(w, ')');
}

/* disposition, language, location */
static void
w_ext_common(struct w *w, const struct mime_part *p)
{
	size_t	 i;

	w_c(w, ' ');
	if (p->disposition == NULL) {
		w_str(w, "NIL");
	} else {
		w_c(w, '(');
		w_nstring(w, p->disposition);
		w_c(w, ' ');
		w_params(w, p->disp_params, p->ndisp_params, false);
		w_c(w, ')');
	}
	w_c(w, ' ');
	if (p->nlanguages == 0) {
		w_str(w, "NIL");
	} else {
		w_c(w, '(');
		for (i = 0; i < p->nlanguages; i++) {
			if (i > 0)
				w_c(w, ' ');
			w_nstring(w, p->languages[i]);
		}
		w_c(w, ')');
	}
	w_c(w, ' ');
	w_nstring_nolf(w, p->location);
}

/* A multipart or message/rfc822 type on a part that could not hold
 * parts (the limits): Dovecot calls it application/octet-stream. */
static bool
is_truncated(const struct mime_part *p)
{
	if (p->type != NULL)
		return (strcasecmp(p->type, "message") == 0 &&
		    strcasecmp(p->subtype, "rfc822") == 0) ||
		    strcasecmp(p->type, "multipart") == 0;
	return p->parent != NULL &&
	    (p->parent->flags & MIME_PART_DIGEST) != 0;
}

static void
w_body(struct w *w, struct arena *a, const struct mime_part *p, bool ext)
{
	const struct mime_part	*c;
	struct mime_envelope	 env;
	bool			 text;
	char			 num[32];

	w_c(w, '(');
	if ((p->flags & MIME_PART_MULTIPART) != 0) {
		if (p->children == NULL) {
			/* no parts: not allowed, so one empty text/plain */
			w_str(w, "(\"text\" \"plain\" (\"charset\" "
			    "\"us-ascii\") NIL NIL \"7bit\" 0 0");
			w_str(w, ext ? " NIL NIL NIL NIL)" : ")");
		}
		for (c = p->children; c != NULL; c = c->next)
			w_body(w, a, c, ext);
		w_c(w, ' ');
		w_nstring(w, p->subtype);
		if (ext) {
			w_c(w, ' ');
			w_params(w, p->params, p->nparams, false);
			w_ext_common(w, p);
		}
		w_c(w, ')');
		return;
	}
	if ((p->flags & MIME_PART_RFC822) != 0) {
		w_str(w, "\"message\" \"rfc822\"");
		text = false;
	} else if (is_truncated(p)) {
		w_str(w, "\"application\" \"octet-stream\"");
		text = false;
	} else if (p->type == NULL) {
		w_str(w, "\"text\" \"plain\"");
		text = true;
	} else {
		text = strcasecmp(p->type, "text") == 0;
		w_nstring(w, p->type);
		w_c(w, ' ');
		w_nstring(w, p->subtype);
	}
	w_c(w, ' ');
	w_params(w, p->params, p->nparams, text);
	w_c(w, ' ');
	w_nstring_nolf(w, p->id);
	w_c(w, ' ');
	w_nstring_nolf(w, p->description);
	w_c(w, ' ');
	if (p->cte != NULL)
		w_nstring(w, p->cte);
	else
		w_str(w, "\"7bit\"");
	(void)snprintf(num, sizeof(num), " %" PRIu64, p->body.vsize);
	w_str(w, num);
	if (text) {
		(void)snprintf(num, sizeof(num), " %" PRIu64, p->body.lines);
		w_str(w, num);
	} else if ((p->flags & MIME_PART_RFC822) != 0 && p->children != NULL) {
		mime_envelope_get(a, p->children, &env);
		w_c(w, ' ');
		w_envelope(w, &env);
		w_c(w, ' ');
		w_body(w, a, p->children, ext);
		(void)snprintf(num, sizeof(num), " %" PRIu64, p->body.lines);
		w_str(w, num);
	}
	if (ext) {
		w_c(w, ' ');
		w_nstring_nolf(w, p->md5);
		w_ext_common(w, p);
	}
	w_c(w, ')');
}

static int
w_done(struct w *w, size_t start)
{
	if (!w->full)
		return 0;
	buf_truncate(w->b, start);
	return -1;
}

int
imap_append_nstring(struct buf *out, const char *s)
{
	struct w	 w = { out, false };
	size_t		 start = out->len;

	w_nstring(&w, s);
	return w_done(&w, start);
}

int
imap_append_nstring_nolf(struct buf *out, const char *s)
{
	struct w	 w = { out, false };
	size_t		 start = out->len;

	w_nstring_nolf(&w, s);
	return w_done(&w, start);
}

int
imap_append_string_for_humans(struct buf *out, const char *s, size_t len)
{
	struct w	 w = { out, false };
	size_t		 start = out->len;

	w_humans(&w, s, len);
	return w_done(&w, start);
}

int
imap_envelope_write(struct buf *out, const struct mime_envelope *env)
{
	struct w	 w = { out, false };
	size_t		 start = out->len;

	w_envelope(&w, env);
	return w_done(&w, start);
}

int
imap_bodystructure_write(struct buf *out, struct arena *a,
    const struct mime_part *part, bool extended)
{
	struct w	 w = { out, false };
	size_t		 start = out->len;

	w_body(&w, a, part, extended);
	return w_done(&w, start);
}
