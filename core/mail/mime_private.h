/* mime_private.h - helpers shared by mime.c, mime_search.c and imapfmt.c;
 * not part of any public contract.
 *
 * struct sb is a NUL-terminated growable string in an arena (the old
 * block is left in the arena when it grows: fine for header-sized
 * text). struct tok is Dovecot's RFC 822 tokenizer state over a byte
 * range; the tok_* functions return 1 (more input follows), 0 (end of
 * input reached) or -1 (syntax error), as Dovecot's do.
 */
#ifndef AVIARY_MIME_PRIVATE_H
#define AVIARY_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "aviary/mime.h"

struct arena;

#define UTF8_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

struct sb {
	struct arena	*a;
	char		*p;	/* NULL until the first append */
	size_t		 len, cap;
};

void		 sb_init(struct sb *s, struct arena *a);
void		 sb_addn(struct sb *s, const void *p, size_t n);
void		 sb_addc(struct sb *s, char c);
void		 sb_adds(struct sb *s, const char *str);
/* Append header text: NUL bytes become U+FFFD. */
void		 sb_add_text(struct sb *s, const void *p, size_t n);
void		 sb_truncate(struct sb *s, size_t len);
/* A copy of the content in the arena ("" if empty). */
const char	*sb_dup(struct sb *s);
/* n bytes of header text as a C string in a (NULs as U+FFFD). */
char		*text_dup(struct arena *a, const char *p, size_t n);

struct tok {
	const unsigned char *p, *end;
	struct arena	*a;
	struct sb	*comment;	/* last comment seen, or NULL */
};

void	tok_init(struct tok *t, struct arena *a, const void *p, size_t n);
int	tok_skip_lwsp(struct tok *t);
int	tok_atom(struct tok *t, struct sb *s);
int	tok_mime_token(struct tok *t, struct sb *s);
int	tok_content_type(struct tok *t, struct sb *s);
/* "; name=value" list with Dovecot's RFC 2231 merge, from t->p. */
void	parse_params(struct tok *t, const struct mime_param **params_r,
	    size_t *n_r);

#endif
