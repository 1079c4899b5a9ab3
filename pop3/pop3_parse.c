/* pop3_parse.c - POP3 command reader and parser; see pop3_parse.h. */
#include <string.h>
#include <strings.h>

#include "pop3_parse.h"
#include "aviary/base64.h"

/* An idle connection gives back a reader buffer bigger than this. */
#define POP3_READER_KEEP	1024

void
pop3_reader_init(struct pop3_reader *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->in, NULL, POP3_READER_MAX);
}

void
pop3_reader_deinit(struct pop3_reader *r)
{
	/* Lines held PASS and AUTH responses: clear before freeing. */
	if (r->in.data != NULL)
		explicit_bzero(r->in.data, r->in.cap);
	buf_deinit(&r->in);
}

static void
reader_consume(struct pop3_reader *r)
{
	if (r->used > 0) {
		explicit_bzero(r->in.data, r->used);
		buf_consume(&r->in, r->used);
		r->used = 0;
	}
	if (r->in.len == 0 && r->in.cap > POP3_READER_KEEP) {
		pop3_reader_deinit(r);
		buf_init(&r->in, NULL, POP3_READER_MAX);
	}
}

size_t
pop3_reader_room(const struct pop3_reader *r)
{
	return r->in.max - r->in.len;
}

void
pop3_reader_feed(struct pop3_reader *r, const void *p, size_t n)
{
	const char	*lf;

	if (r->skipping) {
		if ((lf = memchr(p, '\n', n)) == NULL)
			return;
		r->skipping = false;
		n -= (size_t)(lf + 1 - (const char *)p);
		p = lf + 1;
	}
	if (n > pop3_reader_room(r))
		n = pop3_reader_room(r);	/* a caller bug; never grow */
	if (n > 0 && buf_append(&r->in, p, n) != 0)
		return;
}

enum pop3_rd
pop3_reader_next(struct pop3_reader *r, struct str *line_r)
{
	const char	*lf;
	size_t		 len;

	reader_consume(r);
	*line_r = (struct str){ "", 0 };
	if (r->in.len == 0)
		return POP3_RD_NONE;
	lf = memchr(r->in.data, '\n', r->in.len);
	if (lf == NULL) {
		/* One byte of slack: the CR of a full-length line. */
		if (r->in.len <= POP3_LINE_MAX + 1)
			return POP3_RD_NONE;
		r->used = r->in.len;
		reader_consume(r);
		r->skipping = true;
		return POP3_RD_TOO_LONG;
	}
	len = (size_t)(lf - r->in.data);
	r->used = len + 1;
	if (len > 0 && r->in.data[len - 1] == '\r')
		len--;
	if (len > POP3_LINE_MAX) {
		reader_consume(r);
		return POP3_RD_TOO_LONG;
	}
	*line_r = (struct str){ r->in.data, len };
	return POP3_RD_LINE;
}

void
pop3_reader_discard(struct pop3_reader *r)
{
	r->used = r->in.len;
	r->skipping = false;
	reader_consume(r);
}

size_t
pop3_reader_pending(const struct pop3_reader *r)
{
	return r->in.len - r->used;
}

/* --- commands --- */

enum argspec {
	A_NONE,		/* no arguments */
	A_WORD,		/* one word (USER) */
	A_REST,		/* the rest of the line, spaces and all (PASS) */
	A_AUTH,		/* [mechanism [initial-response]] */
	A_OPT_NUM,	/* [msg] */
	A_NUM,		/* msg */
	A_TOP,		/* msg n */
	A_ANY,		/* anything (APOP: refused by the caller anyway) */
};

static const struct {
	const char	*name;
	enum pop3_cmd_id id;
	enum argspec	 args;
} cmds[] = {
	{ "USER", POP3_C_USER, A_WORD },
	{ "PASS", POP3_C_PASS, A_REST },
	{ "AUTH", POP3_C_AUTH, A_AUTH },
	{ "APOP", POP3_C_APOP, A_ANY },
	{ "STLS", POP3_C_STLS, A_NONE },
	{ "CAPA", POP3_C_CAPA, A_NONE },
	{ "QUIT", POP3_C_QUIT, A_NONE },
	{ "STAT", POP3_C_STAT, A_NONE },
	{ "LIST", POP3_C_LIST, A_OPT_NUM },
	{ "RETR", POP3_C_RETR, A_NUM },
	{ "DELE", POP3_C_DELE, A_NUM },
	{ "NOOP", POP3_C_NOOP, A_NONE },
	{ "RSET", POP3_C_RSET, A_NONE },
	{ "TOP", POP3_C_TOP, A_TOP },
	{ "UIDL", POP3_C_UIDL, A_OPT_NUM },
};

/* Split off the next space-separated word of *rest. */
static bool
next_word(struct str *rest, struct str *word_r)
{
	size_t	 i = 0;

	while (i < rest->len && rest->p[i] == ' ')
		i++;
	rest->p += i;
	rest->len -= i;
	if (rest->len == 0)
		return false;
	for (i = 0; i < rest->len && rest->p[i] != ' '; i++)
		;
	*word_r = (struct str){ rest->p, i };
	rest->p += i;
	rest->len -= i;
	return true;
}

/* A message number or line count: 1 to 10 digits, at most 2^32-1. */
static bool
parse_num(struct str w, uint32_t *n_r)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (w.len == 0 || w.len > 10)
		return false;
	for (i = 0; i < w.len; i++) {
		if (w.p[i] < '0' || w.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(w.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*n_r = (uint32_t)v;
	return true;
}

static bool
has_ctl(struct str s)
{
	size_t	 i;

	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
			return true;
	return false;
}

int
pop3_parse(struct str line, struct pop3_cmd *cmd_r, const char **error_r)
{
	struct str	 rest, w, extra;
	size_t		 i, nl;

	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->name = "";
	for (nl = 0; nl < line.len && line.p[nl] != ' '; nl++)
		;
	for (i = 0; i < N_ELEMENTS(cmds); i++)
		if (strlen(cmds[i].name) == nl &&
		    strncasecmp(cmds[i].name, line.p, nl) == 0)
			break;
	if (i == N_ELEMENTS(cmds)) {
		*error_r = "Unknown command";
		return -1;
	}
	cmd_r->id = cmds[i].id;
	cmd_r->name = cmds[i].name;
	rest = (struct str){ line.p + nl, line.len - nl };

	switch (cmds[i].args) {
	case A_NONE:
		if (next_word(&rest, &w)) {
			*error_r = "Too many arguments";
			return -1;
		}
		return 0;
	case A_ANY:
		return 0;
	case A_WORD:
		if (!next_word(&rest, &w)) {
			*error_r = "Missing argument";
			return -1;
		}
		if (next_word(&rest, &extra)) {
			*error_r = "Too many arguments";
			return -1;
		}
		if (w.len > POP3_ARG_MAX || has_ctl(w)) {
			*error_r = "Invalid argument";
			return -1;
		}
		cmd_r->arg1 = w;
		return 0;
	case A_REST:
		/* "PASS " then everything: leading and inner spaces belong
		 * to the password (RFC 1939 7, the PASS discussion). */
		if (rest.len < 2 || rest.p[0] != ' ') {
			*error_r = "Missing argument";
			return -1;
		}
		cmd_r->arg1 = (struct str){ rest.p + 1, rest.len - 1 };
		if (has_ctl(cmd_r->arg1)) {
			*error_r = "Invalid argument";
			return -1;
		}
		return 0;
	case A_AUTH:
		if (!next_word(&rest, &w))
			return 0;	/* AUTH alone: list the mechanisms */
		if (w.len > POP3_ARG_MAX || has_ctl(w)) {
			*error_r = "Invalid mechanism";
			return -1;
		}
		cmd_r->arg1 = w;
		if (next_word(&rest, &w)) {
			cmd_r->arg2 = w;
			cmd_r->has_arg2 = true;
			if (next_word(&rest, &extra)) {
				*error_r = "Too many arguments";
				return -1;
			}
		}
		return 0;
	case A_OPT_NUM:
	case A_NUM:
	case A_TOP:
		if (!next_word(&rest, &w)) {
			if (cmds[i].args == A_OPT_NUM)
				return 0;
			*error_r = "Missing message number";
			return -1;
		}
		if (!parse_num(w, &cmd_r->n) || cmd_r->n == 0) {
			*error_r = "Invalid message number";
			return -1;
		}
		cmd_r->has_n = true;
		if (cmds[i].args == A_TOP) {
			if (!next_word(&rest, &w)) {
				*error_r = "Missing line count";
				return -1;
			}
			if (!parse_num(w, &cmd_r->lines)) {
				*error_r = "Invalid line count";
				return -1;
			}
		}
		if (next_word(&rest, &extra)) {
			*error_r = "Too many arguments";
			return -1;
		}
		return 0;
	}
	*error_r = "Unknown command";
	return -1;
}

int
pop3_sasl_decode(struct str line, unsigned char *out, size_t outsz,
    size_t *len_r)
{
	long	 n;

	*len_r = 0;
	if (line.len == 1 && line.p[0] == '*')
		return 1;
	if (line.len == 1 && line.p[0] == '=')
		return 0;
	if (BASE64_DECODED_MAX(line.len) > outsz)
		return -1;
	if ((n = base64_decode(line.p, line.len, out)) < 0) {
		explicit_bzero(out, outsz);
		return -1;
	}
	*len_r = (size_t)n;
	return 0;
}

/* --- multi-line output --- */

size_t
pop3_stuff(const char *in, size_t n, char *out, bool *bol, bool *cr)
{
	size_t	 i, o = 0;

	for (i = 0; i < n; i++) {
		char	 c = in[i];

		if (*bol && c == '.')
			out[o++] = '.';
		if (c == '\n' && !*cr)
			out[o++] = '\r';
		out[o++] = c;
		*cr = c == '\r';
		*bol = c == '\n';
	}
	return o;
}

void
pop3_top_init(struct pop3_top *st, uint64_t lines)
{
	memset(st, 0, sizeof(*st));
	st->bol = true;
	st->lines_left = lines;
}

size_t
pop3_top_cut(struct pop3_top *st, const char *in, size_t n)
{
	size_t	 i;

	if (st->done)
		return 0;
	for (i = 0; i < n; i++) {
		char	 c = in[i];

		if (c != '\n') {
			st->cr_only = st->bol && c == '\r';
			st->bol = false;
			continue;
		}
		/* The end of a line. */
		if (!st->in_body) {
			if (st->bol || st->cr_only) {
				st->in_body = true;
				if (st->lines_left == 0)
					st->done = true;
			}
		} else if (--st->lines_left == 0)
			st->done = true;
		st->bol = true;
		st->cr_only = false;
		if (st->done)
			return i + 1;
	}
	return n;
}
