/* imap_parse.c - the incremental IMAP command reader; see imap_parse.h.
 *
 * How it works. A command is a sequence of "pieces": the text up to an LF,
 * then (if that text ended in a literal announcement {n} / {n+} / ~{n})
 * n bytes of literal data, then another piece, and so on. Each piece is
 * tokenized when its LF arrives, continuing the token state of the
 * previous one (open lists, whether a separator is due), so the cost is
 * one pass over each byte. A piece that arrives whole inside one input
 * chunk is tokenized in place; only a piece split across reads is copied
 * into the line buffer first. Tokens are copied into a per-command arena
 * (a secret one: LOGIN passwords), so the line buffer can be reused at
 * once. That arena and the line buffer exist only while a command is in
 * flight: at a command boundary the reader is just its struct.
 *
 * Resynchronisation (RFC 3501 7.5, RFC 7888 4). After an error the rest
 * of the command is skipped up to an LF. If the skipped line ends in a
 * LITERAL+ announcement, the client sends those bytes without waiting,
 * so they are skipped too and the line after them as well; a
 * synchronizing literal is never sent (we answered BAD instead of "+"),
 * so the next line is a new command. To see the announcement at the end
 * of a line we do not buffer, skipping keeps the line's last bytes.
 */
#include <string.h>

#include "imap_parse.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/log.h"
#include "aviary/mem.h"

/* Arena chunk for one command: most commands fit in one. */
#define CMD_ARENA_CHUNK		2048
/* A line buffer that grew past this is freed after its command. */
#define LINE_KEEP_MAX		1024
/* "~{" 20 digits "+}" CR is 25 bytes: the longest announcement. */
#define TAIL_MAX		32
/* Far above any sane setting; keeps line_max + 1 from overflowing. */
#define LINE_MAX_CLAMP		((size_t)1 << 30)
/* Command names are short words; anything longer is garbage. */
#define CMD_NAME_MAX		64

enum rstate {
	RS_LINE,		/* reading a piece up to LF */
	RS_LIT_WAIT,		/* LITERAL event out, waiting for a decision */
	RS_LITERAL,		/* copying literal bytes into memory */
	RS_SINK,		/* handing literal bytes out */
	RS_SKIP_LITERAL,	/* discarding a LITERAL+ literal after an error */
	RS_SKIP_LINE,		/* discarding up to LF after an error */
};

enum phase { PH_TAG, PH_NAME, PH_UIDNAME, PH_ARGS };

enum tok { TK_DONE, TK_LITERAL, TK_EMPTY, TK_ERROR };

struct frame {
	struct imap_arg	*arg;	/* the open LIST, in its parent's array */
	size_t		 cap;	/* allocated children */
};

struct imap_reader {
	struct imap_limits	 lim;
	enum rstate		 state;
	enum phase		 phase;
	bool			 one_line;	/* read_line() asked */
	bool			 skip_plain;	/* skipping a raw line */
	bool			 need_sep;	/* a token ended: SP or ) due */
	bool			 release_pending;
	bool			 lit_sync, lit8;
	enum imap_rerr		 lit_fits;
	unsigned		 depth;
	struct buf		 line;		/* a piece split across reads */
	size_t			 cmd_bytes;	/* text bytes of earlier pieces */
	size_t			 nargs_total;
	struct arena		*arena;		/* this command's, or NULL */
	size_t			 arena_bytes;
	struct imap_cmd		 cmd;
	size_t			 top_cap;
	struct frame		*stack;		/* depth_max frames, lazily */
	struct imap_arg		*lit_arg;	/* the announced literal */
	uint64_t		 lit_size, lit_left, lit_pos;
	char			*lit_dst;
	size_t			 tail_len;
	char			 tail[TAIL_MAX];
	/* Tokenizer error of the last piece. */
	enum imap_rerr		 tok_err;
	const char		*tok_msg;
};

void
imap_limits_default(struct imap_limits *l)
{
	l->line_max = IMAP_LINE_MAX_DEFAULT;
	l->literal_max = IMAP_LITERAL_MAX_DEFAULT;
	l->literals_total_max = IMAP_LITERALS_TOTAL_DEFAULT;
	l->depth_max = IMAP_DEPTH_MAX_DEFAULT;
	l->args_max = IMAP_ARGS_MAX_DEFAULT;
}

const char *
imap_rerr_text(enum imap_rerr e)
{
	switch (e) {
	case IMAP_RERR_NONE:
		return "OK";
	case IMAP_RERR_SYNTAX:
		return "Syntax error";
	case IMAP_RERR_LINE_TOO_LONG:
		return "Command line too long";
	case IMAP_RERR_LITERAL_TOO_BIG:
		return "Literal too big";
	case IMAP_RERR_LITERALS_TOO_BIG:
		return "Too much literal data in one command";
	case IMAP_RERR_TOO_DEEP:
		return "Lists nested too deep";
	case IMAP_RERR_TOO_MANY_ARGS:
		return "Too many arguments";
	}
	return "Error";
}

struct imap_reader *
imap_reader_create(const struct imap_limits *lim)
{
	struct imap_reader	*r = xcalloc(1, sizeof(*r));

	if (lim != NULL)
		r->lim = *lim;
	else
		imap_limits_default(&r->lim);
	if (r->lim.line_max > LINE_MAX_CLAMP)
		r->lim.line_max = LINE_MAX_CLAMP;
	if (r->lim.depth_max == 0)
		r->lim.depth_max = 1;
	if (r->lim.literals_total_max < r->lim.literal_max)
		r->lim.literal_max = r->lim.literals_total_max;
	/* +1: the CR before the LF is buffered before we know it is one. */
	buf_init_secret(&r->line, r->lim.line_max + 1);
	r->state = RS_LINE;
	r->phase = PH_TAG;
	return r;
}

void
imap_reader_destroy(struct imap_reader **rp)
{
	struct imap_reader	*r = *rp;

	if (r == NULL)
		return;
	buf_deinit(&r->line);
	if (r->arena != NULL)
		arena_destroy(&r->arena);
	xfree_secret(r, sizeof(*r));
	*rp = NULL;
}

static void *
ralloc(struct imap_reader *r, size_t n)
{
	if (r->arena == NULL)
		r->arena = arena_new_secret(CMD_ARENA_CHUNK);
	r->arena_bytes += n;
	return arena_alloc(r->arena, n);
}

static char *
rdup(struct imap_reader *r, const char *p, size_t n)
{
	char	*s = ralloc(r, n + 1);

	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* The command is over (whatever the outcome): back to reading a tag.
 * The command's memory is released later (release_cmd), since the event
 * that ended it still points there. */
static void
end_command(struct imap_reader *r)
{
	r->state = RS_LINE;
	r->phase = PH_TAG;
	r->need_sep = false;
	r->one_line = false;
	r->skip_plain = false;
	r->depth = 0;
	r->stack = NULL;
	r->cmd_bytes = 0;
	r->nargs_total = 0;
	r->lit_arg = NULL;
	r->tail_len = 0;
}

static void
line_reset(struct imap_reader *r)
{
	buf_clear(&r->line);
	if (r->line.cap > LINE_KEEP_MAX)
		buf_deinit(&r->line);
}

static void
release_cmd(struct imap_reader *r)
{
	if (!r->release_pending)
		return;
	r->release_pending = false;
	memset(&r->cmd, 0, sizeof(r->cmd));
	r->top_cap = 0;
	if (r->arena != NULL)
		arena_reset(r->arena);
	r->arena_bytes = 0;
	line_reset(r);		/* a LINE event may have pointed there */
}

bool
imap_reader_at_boundary(const struct imap_reader *r)
{
	return r->state == RS_LINE && r->phase == PH_TAG && r->line.len == 0;
}

/* Nothing of the current command is needed: free what we can. */
static void
free_idle(struct imap_reader *r)
{
	if (r->release_pending)
		return;
	if (imap_reader_at_boundary(r) || r->state == RS_SKIP_LINE ||
	    r->state == RS_SKIP_LITERAL) {
		if (r->arena != NULL)
			arena_destroy(&r->arena);
		r->arena_bytes = 0;
		if (r->line.len == 0)
			buf_deinit(&r->line);
	}
}

void
imap_reader_release(struct imap_reader *r)
{
	release_cmd(r);
	free_idle(r);
}

size_t
imap_reader_memory(const struct imap_reader *r)
{
	size_t	 n = sizeof(*r);

	if (r->line.data != NULL)
		n += r->line.cap + 1;
	if (r->arena != NULL)
		n += r->arena_bytes > CMD_ARENA_CHUNK ? r->arena_bytes :
		    CMD_ARENA_CHUNK;
	return n;
}

/* --- character classes (RFC 3501 9) --- */

/* Atoms as we take them: any visible ASCII but the bytes that start or
 * end another token. Wider than ATOM-CHAR on purpose: list wildcards,
 * '\' of flags, ']' of astrings and '*' of sequence sets all travel as
 * atoms here; the typed parsers check each use. */
static bool
atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	    c != '"';
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static bool
tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

static bool
name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Is p[0..n) a FETCH attribute name after which '[' opens a section?
 * Then the section text, spaces and parentheses included, stays in the
 * atom: BODY.PEEK[HEADER.FIELDS (From To)]<0.512> is one argument. */
static bool
section_prefix(const char *p, size_t n)
{
	static const char *const names[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};
	size_t	 i, j;

	for (i = 0; i < N_ELEMENTS(names); i++) {
		if (strlen(names[i]) != n)
			continue;
		for (j = 0; j < n && upper(p[j]) == names[i][j]; j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

/* Does p[0..n) (CR already stripped or not) end in a literal
 * announcement? Used where the text is not tokenized: skipped lines. */
static bool
literal_tail(const char *p, size_t n, uint64_t *size_r, bool *sync_r)
{
	size_t		 i, start;
	uint64_t	 v = 0;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n < 3 || p[n - 1] != '}')
		return false;
	i = n - 1;
	*sync_r = true;
	if (p[i - 1] == '+') {
		*sync_r = false;
		i--;
	}
	start = i;
	while (i > 0 && is_digit(p[i - 1]))
		i--;
	if (i == start || i == 0 || p[i - 1] != '{' || start - i > 20)
		return false;
	for (; i < start; i++) {
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*size_r = v;
	return true;
}

static void
tail_push(struct imap_reader *r, const char *p, size_t n)
{
	if (n >= TAIL_MAX) {
		memcpy(r->tail, p + n - TAIL_MAX, TAIL_MAX);
		r->tail_len = TAIL_MAX;
		return;
	}
	if (r->tail_len + n > TAIL_MAX) {
		size_t drop = r->tail_len + n - TAIL_MAX;

		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, p, n);
	r->tail_len += n;
}

/* --- tokenizer --- */

static enum tok
tok_fail(struct imap_reader *r, enum imap_rerr e, const char *msg)
{
	r->tok_err = e;
	r->tok_msg = msg;
	return TK_ERROR;
}

/* A new argument at the end of the innermost open list. NULL when
 * args_max is reached. */
static struct imap_arg *
arg_add(struct imap_reader *r, enum imap_arg_type type)
{
	struct imap_arg	**arr, *a;
	size_t		*n, *cap, ncap;

	if (r->nargs_total >= r->lim.args_max)
		return NULL;
	if (r->depth == 0) {
		arr = &r->cmd.args;
		n = &r->cmd.nargs;
		cap = &r->top_cap;
	} else {
		struct frame *f = &r->stack[r->depth - 1];

		arr = &f->arg->list;
		n = &f->arg->len;
		cap = &f->cap;
	}
	if (*n == *cap) {
		/* Doubling: the copies left behind in the arena cost at most
		 * as much as the final arrays. */
		ncap = *cap == 0 ? 4 : *cap * 2;
		r->arena_bytes += ncap * sizeof(**arr);
		*arr = arena_realloc(r->arena, *arr, *cap * sizeof(**arr),
		    ncap * sizeof(**arr));
		*cap = ncap;
	}
	a = &(*arr)[(*n)++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	r->nargs_total++;
	return a;
}

/* The tag at the start of the line (the buffered bytes, then p), if
 * there is a valid one, for the error reply to a line we will not
 * tokenize. Tags longer than TAG_GRAB_MAX are not looked for. */
#define TAG_GRAB_MAX	256
static void
grab_tag(struct imap_reader *r, const char *p, size_t n)
{
	char	 t[TAG_GRAB_MAX + 1];
	size_t	 i, k, tn;

	if (r->cmd.tag != NULL || r->phase != PH_TAG)
		return;
	tn = r->line.len < sizeof(t) ? r->line.len : sizeof(t);
	if (tn > 0)
		memcpy(t, r->line.data, tn);
	k = n < sizeof(t) - tn ? n : sizeof(t) - tn;
	memcpy(t + tn, p, k);
	tn += k;
	for (i = 0; i < tn && tag_char((unsigned char)t[i]); i++)
		;
	if (i > 0 && i < tn && t[i] == ' ')
		r->cmd.tag = rdup(r, t, i);
}

static enum tok
tok_quoted(struct imap_reader *r, const char *p, size_t n, size_t *ip)
{
	size_t		 i = *ip + 1, len = 0, k;
	struct imap_arg	*a;
	char		*s;

	for (k = i; k < n && p[k] != '"'; k++, len++) {
		if (p[k] == '\\') {
			if (k + 1 >= n || (p[k + 1] != '"' && p[k + 1] != '\\'))
				return tok_fail(r, IMAP_RERR_SYNTAX,
				    "Invalid escape in quoted string");
			k++;
		} else if (p[k] == '\0' || p[k] == '\r') {
			return tok_fail(r, IMAP_RERR_SYNTAX,
			    "Invalid character in quoted string");
		}
	}
	if (k >= n)
		return tok_fail(r, IMAP_RERR_SYNTAX,
		    "Unterminated quoted string");
	if ((a = arg_add(r, IMAP_ARG_QUOTED)) == NULL)
		return tok_fail(r, IMAP_RERR_TOO_MANY_ARGS,
		    "Too many arguments");
	s = ralloc(r, len + 1);
	for (len = 0; i < k; i++) {
		if (p[i] == '\\')
			i++;
		s[len++] = p[i];
	}
	s[len] = '\0';
	a->str = s;
	a->len = len;
	*ip = k + 1;
	return TK_DONE;
}

static enum tok
tok_literal(struct imap_reader *r, const char *p, size_t n, size_t i)
{
	uint64_t	 v = 0;
	size_t		 digits = 0;
	bool		 lit8 = false, sync = true;
	struct imap_arg	*a;

	if (p[i] == '~') {
		lit8 = true;
		i++;
	}
	for (i++; i < n && is_digit(p[i]); i++, digits++) {
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return tok_fail(r, IMAP_RERR_LITERAL_TOO_BIG,
			    "Literal size too big");
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (i < n && p[i] == '+') {
		sync = false;
		i++;
	}
	if (digits == 0 || i >= n || p[i] != '}')
		return tok_fail(r, IMAP_RERR_SYNTAX, "Invalid literal");
	if (i + 1 != n)
		return tok_fail(r, IMAP_RERR_SYNTAX,
		    "Literal must end the line");
	if ((a = arg_add(r, IMAP_ARG_LITERAL)) == NULL)
		return tok_fail(r, IMAP_RERR_TOO_MANY_ARGS,
		    "Too many arguments");
	a->len = (size_t)v;	/* size_t is 64-bit on our targets */
	a->literal8 = lit8;
	r->lit_arg = a;
	r->lit_size = v;
	r->lit_sync = sync;
	r->lit8 = lit8;
	if (v > r->lim.literal_max)
		r->lit_fits = IMAP_RERR_LITERAL_TOO_BIG;
	else if (v > r->lim.literals_total_max - r->cmd.literal_bytes)
		r->lit_fits = IMAP_RERR_LITERALS_TOO_BIG;
	else
		r->lit_fits = IMAP_RERR_NONE;
	return TK_LITERAL;
}

static enum tok
tok_atom(struct imap_reader *r, const char *p, size_t n, size_t *ip)
{
	size_t		 i = *ip, j = i, k;
	struct imap_arg	*a;

	while (j < n) {
		if (p[j] == '[' && section_prefix(p + i, j - i)) {
			for (k = j + 1; k < n && p[k] != ']'; k++) {
				unsigned char c = (unsigned char)p[k];

				if (c == '"') {	/* a quoted header name */
					for (k++; k < n && p[k] != '"'; k++)
						if (p[k] == '\\')
							k++;
					if (k >= n)
						break;
				} else if (c < 0x20 || c >= 0x7f || c == '[' ||
				    c == '{') {
					return tok_fail(r, IMAP_RERR_SYNTAX,
					    "Invalid character in section");
				}
			}
			if (k >= n)
				return tok_fail(r, IMAP_RERR_SYNTAX,
				    "Missing ] in section");
			j = k + 1;
			continue;
		}
		if (!atom_char((unsigned char)p[j]))
			break;
		j++;
	}
	if (j == i || (j < n && p[j] != ' ' && p[j] != ')' && p[j] != '(' &&
	    p[j] != '"' && p[j] != '{'))
		return tok_fail(r, IMAP_RERR_SYNTAX, "Invalid character");
	if ((a = arg_add(r, IMAP_ARG_ATOM)) == NULL)
		return tok_fail(r, IMAP_RERR_TOO_MANY_ARGS,
		    "Too many arguments");
	a->str = rdup(r, p + i, j - i);
	a->len = j - i;
	if (a->len == 3 && upper(p[i]) == 'N' && upper(p[i + 1]) == 'I' &&
	    upper(p[i + 2]) == 'L')
		a->type = IMAP_ARG_NIL;
	*ip = j;
	return TK_DONE;
}

/* Tag, command name and the UID prefix. */
static enum tok
tok_head(struct imap_reader *r, const char *p, size_t n, size_t *ip)
{
	size_t	 i = *ip, j, k;
	char	*s;

	if (r->phase == PH_TAG) {
		if (n == 0)
			return TK_EMPTY;	/* tolerated, as Dovecot does */
		for (j = 0; j < n && p[j] != ' '; j++)
			if (!tag_char((unsigned char)p[j]))
				return tok_fail(r, IMAP_RERR_SYNTAX,
				    "Invalid tag");
		if (j == 0)
			return tok_fail(r, IMAP_RERR_SYNTAX, "Missing tag");
		r->cmd.tag = rdup(r, p, j);
		if (j == n)
			return tok_fail(r, IMAP_RERR_SYNTAX,
			    "Missing command");
		r->phase = PH_NAME;
		i = j + 1;
	}
	while (r->phase == PH_NAME || r->phase == PH_UIDNAME) {
		for (j = i; j < n && p[j] != ' '; j++)
			if (!name_char((unsigned char)p[j]))
				return tok_fail(r, IMAP_RERR_SYNTAX,
				    "Invalid command name");
		if (j == i)
			return tok_fail(r, IMAP_RERR_SYNTAX,
			    r->phase == PH_NAME ? "Missing command" :
			    "Missing command after UID");
		if (j - i > CMD_NAME_MAX)
			return tok_fail(r, IMAP_RERR_SYNTAX,
			    "Invalid command name");
		s = ralloc(r, j - i + 1);
		for (k = i; k < j; k++)
			s[k - i] = upper(p[k]);
		s[j - i] = '\0';
		if (r->phase == PH_NAME && strcmp(s, "UID") == 0) {
			r->cmd.uid = true;
			r->phase = PH_UIDNAME;
			if (j == n)
				return tok_fail(r, IMAP_RERR_SYNTAX,
				    "Missing command after UID");
		} else {
			r->cmd.name = s;
			r->phase = PH_ARGS;
		}
		i = j < n ? j + 1 : j;
	}
	*ip = i;
	return TK_DONE;
}

/* Tokenize one piece (no LF, trailing CR removed). */
static enum tok
tokenize(struct imap_reader *r, const char *p, size_t n)
{
	size_t		 i = 0;
	enum tok	 t;
	struct imap_arg	*a;

	if (r->phase != PH_ARGS && (t = tok_head(r, p, n, &i)) != TK_DONE)
		return t;
	while (i < n) {
		char c = p[i];

		if (c == ' ') {
			/* One SP is the grammar; more are tolerated. */
			i++;
			r->need_sep = false;
			continue;
		}
		if (c == ')') {
			if (r->depth == 0)
				return tok_fail(r, IMAP_RERR_SYNTAX,
				    "Unexpected )");
			r->depth--;
			r->need_sep = true;
			i++;
			continue;
		}
		if (r->need_sep)
			return tok_fail(r, IMAP_RERR_SYNTAX,
			    "Missing space between arguments");
		if (c == '(') {
			if (r->depth >= r->lim.depth_max)
				return tok_fail(r, IMAP_RERR_TOO_DEEP,
				    "Lists nested too deep");
			if ((a = arg_add(r, IMAP_ARG_LIST)) == NULL)
				return tok_fail(r, IMAP_RERR_TOO_MANY_ARGS,
				    "Too many arguments");
			if (r->stack == NULL)
				r->stack = ralloc(r, r->lim.depth_max *
				    sizeof(*r->stack));
			r->stack[r->depth].arg = a;
			r->stack[r->depth].cap = 0;
			r->depth++;
			i++;
			continue;
		}
		if (c == '{' || (c == '~' && i + 1 < n && p[i + 1] == '{'))
			return tok_literal(r, p, n, i);
		t = c == '"' ? tok_quoted(r, p, n, &i) : tok_atom(r, p, n, &i);
		if (t != TK_DONE)
			return t;
		r->need_sep = true;
	}
	if (r->depth > 0)
		return tok_fail(r, IMAP_RERR_SYNTAX, "Missing )");
	return TK_DONE;
}

/* --- events --- */

static void
emit_error(struct imap_reader *r, struct imap_event *ev, enum imap_rerr e,
    const char *msg)
{
	ev->type = IMAP_EV_ERROR;
	ev->cmd = &r->cmd;
	ev->error = e;
	ev->error_msg = msg;
	r->release_pending = true;
}

/* The tail of a line that was not kept ends the skip: a LITERAL+
 * announcement there means its bytes follow and must be skipped too. */
static void
skip_decide(struct imap_reader *r)
{
	uint64_t	 size;
	bool		 sync;

	if (!r->skip_plain && literal_tail(r->tail, r->tail_len, &size,
	    &sync) && !sync) {
		r->tail_len = 0;
		r->lit_left = size;
		r->state = size > 0 ? RS_SKIP_LITERAL : RS_SKIP_LINE;
	} else {
		end_command(r);
	}
}

/* The current piece went over line_max: report it, then skip to its LF
 * (lf false: not seen yet) or decide at once (lf true: the piece is the
 * buffered bytes plus p[0..n)). */
static void
too_long(struct imap_reader *r, const char *p, size_t n, bool lf,
    struct imap_event *ev)
{
	bool	 plain = r->one_line;

	if (!plain)		/* a raw line has no tag */
		grab_tag(r, p, n);
	emit_error(r, ev, IMAP_RERR_LINE_TOO_LONG, "Command line too long");
	end_command(r);
	r->skip_plain = plain;
	r->state = RS_SKIP_LINE;
	if (r->line.len > 0)
		tail_push(r, r->line.data, r->line.len);
	tail_push(r, p, n);
	line_reset(r);
	if (lf)
		skip_decide(r);
}

static size_t
step_line(struct imap_reader *r, const char *p, size_t n,
    struct imap_event *ev)
{
	const char	*lf = memchr(p, '\n', n), *piece;
	size_t		 take = lf != NULL ? (size_t)(lf - p) : n, plen;
	size_t		 room = r->lim.line_max - r->cmd_bytes;
	enum tok	 t;

	/* Invariant: line.len <= room + 1 (the +1 for a CR). */
	if (r->line.len > 0 || lf == NULL) {
		if (take > room + 1 - r->line.len) {
			too_long(r, p, take, lf != NULL, ev);
			return lf != NULL ? take + 1 : n;
		}
		if (buf_append(&r->line, p, take) != 0)
			log_panic("imap_reader: line buffer overflow");
		if (lf == NULL)
			return n;
		piece = r->line.data;
		plen = r->line.len;
	} else {
		piece = p;
		plen = take;
	}
	if (plen > 0 && piece[plen - 1] == '\r')
		plen--;
	if (plen > room) {
		/* The buffered bytes (if any) are the piece already. */
		too_long(r, p, r->line.len > 0 ? 0 : take, true, ev);
		return take + 1;
	}
	if (r->one_line) {
		ev->type = IMAP_EV_LINE;
		ev->data = piece;
		ev->len = plen;
		r->release_pending = true;	/* the line buffer */
		end_command(r);
		return take + 1;
	}
	r->cmd_bytes += plen;
	if (r->arena == NULL)
		r->arena = arena_new_secret(CMD_ARENA_CHUNK);
	t = tokenize(r, piece, plen);
	switch (t) {
	case TK_EMPTY:
		break;
	case TK_DONE:
		ev->type = IMAP_EV_COMMAND;
		ev->cmd = &r->cmd;
		r->release_pending = true;
		end_command(r);
		break;
	case TK_LITERAL:
		ev->type = IMAP_EV_LITERAL;
		ev->cmd = &r->cmd;
		ev->literal_size = r->lit_size;
		ev->literal_sync = r->lit_sync;
		ev->literal8 = r->lit8;
		ev->literal_depth = r->depth;
		ev->literal_argc = r->cmd.nargs - 1;
		ev->fits = r->lit_fits;
		r->state = RS_LIT_WAIT;
		break;
	case TK_ERROR:
		emit_error(r, ev, r->tok_err, r->tok_msg);
		end_command(r);
		r->state = RS_SKIP_LINE;
		tail_push(r, piece, plen);
		skip_decide(r);
		break;
	}
	line_reset(r);
	return take + 1;
}

static size_t
skip_line(struct imap_reader *r, const char *p, size_t n)
{
	const char	*lf = memchr(p, '\n', n);
	size_t		 take = lf != NULL ? (size_t)(lf - p) : n;

	tail_push(r, p, take);
	if (lf == NULL)
		return n;
	skip_decide(r);
	return take + 1;
}

/* The literal's bytes are in: the command goes on after them. */
static void
continue_line(struct imap_reader *r)
{
	r->state = RS_LINE;
	r->phase = PH_ARGS;
	r->need_sep = true;
	r->lit_arg = NULL;
}

/* How many of 'avail' input bytes belong to the current literal. */
static size_t
lit_take(const struct imap_reader *r, size_t avail)
{
	return avail < r->lit_left ? avail : (size_t)r->lit_left;
}

size_t
imap_reader_input(struct imap_reader *r, const void *vdata, size_t n,
    struct imap_event *ev)
{
	const char	*data = vdata;
	size_t		 pos = 0, k;

	memset(ev, 0, sizeof(*ev));
	ev->type = IMAP_EV_NONE;
	if (r->state == RS_LIT_WAIT)
		log_panic("imap_reader_input: literal not decided");
	release_cmd(r);
	while (pos < n) {
		switch (r->state) {
		case RS_LINE:
			pos += step_line(r, data + pos, n - pos, ev);
			if (ev->type != IMAP_EV_NONE)
				return pos;
			break;
		case RS_LITERAL:
			k = lit_take(r, n - pos);
			memcpy(r->lit_dst + r->lit_pos, data + pos, k);
			r->lit_pos += k;
			r->lit_left -= k;
			pos += k;
			if (r->lit_left == 0)
				continue_line(r);
			break;
		case RS_SINK:
			k = lit_take(r, n - pos);
			ev->type = IMAP_EV_LITERAL_DATA;
			ev->cmd = &r->cmd;
			ev->data = data + pos;
			ev->len = k;
			r->lit_left -= k;
			ev->left = r->lit_left;
			pos += k;
			if (r->lit_left == 0)
				continue_line(r);
			return pos;
		case RS_SKIP_LITERAL:
			k = lit_take(r, n - pos);
			r->lit_left -= k;
			pos += k;
			if (r->lit_left == 0) {
				r->state = RS_SKIP_LINE;
				r->tail_len = 0;
			}
			break;
		case RS_SKIP_LINE:
			pos += skip_line(r, data + pos, n - pos);
			break;
		case RS_LIT_WAIT:
			log_panic("imap_reader_input: impossible state");
		}
	}
	free_idle(r);
	return pos;
}

enum imap_rerr
imap_reader_literal_accept(struct imap_reader *r)
{
	enum imap_rerr	 e = r->lit_fits;

	ASSERT(r->state == RS_LIT_WAIT);
	if (e != IMAP_RERR_NONE) {
		imap_reader_literal_refuse(r);
		return e;
	}
	r->lit_dst = ralloc(r, (size_t)r->lit_size + 1);
	r->lit_dst[r->lit_size] = '\0';
	r->lit_arg->str = r->lit_dst;
	r->cmd.literal_bytes += r->lit_size;
	r->lit_pos = 0;
	r->lit_left = r->lit_size;
	if (r->lit_size == 0)
		continue_line(r);
	else
		r->state = RS_LITERAL;
	return IMAP_RERR_NONE;
}

void
imap_reader_literal_sink(struct imap_reader *r)
{
	ASSERT(r->state == RS_LIT_WAIT);
	r->lit_arg->type = IMAP_ARG_SINK;
	r->lit_left = r->lit_size;
	if (r->lit_size == 0)
		continue_line(r);
	else
		r->state = RS_SINK;
}

void
imap_reader_literal_refuse(struct imap_reader *r)
{
	bool		 sync = r->lit_sync;
	uint64_t	 size = r->lit_size;

	ASSERT(r->state == RS_LIT_WAIT);
	r->release_pending = true;
	end_command(r);
	if (!sync) {
		/* Already on its way: skip it and the rest of the command. */
		r->lit_left = size;
		r->state = size > 0 ? RS_SKIP_LITERAL : RS_SKIP_LINE;
	}
}

void
imap_reader_read_line(struct imap_reader *r)
{
	ASSERT(r->state == RS_LINE && r->phase == PH_TAG);
	r->one_line = true;
}
