/* pop3_parse.h - the POP3 command reader and parser (RFC 1939, RFC 2449
 * CAPA, RFC 2595 STLS, RFC 5034 AUTH), pure: no I/O, no mail store.
 *
 * The reader holds bytes read from the client and hands out complete
 * lines, one at a time, so that a connection can stop between pipelined
 * commands (waiting for aviary-auth, streaming a RETR) and take up the
 * rest later. Lines end in LF; a CR before it is removed. A line longer
 * than POP3_LINE_MAX bytes (without CRLF) is reported once as too long
 * and skipped up to its end. RFC 2449 limits commands to 255 octets;
 * the SASL responses of AUTH (RFC 5034 4) are longer, so the limit is
 * the one for those.
 */
#ifndef AVIARY_POP3_PARSE_H
#define AVIARY_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aviary/buf.h"
#include "aviary/compat.h"
#include "aviary/str.h"

/* The longest line (bytes before CRLF): a base64 SASL response of a
 * 4 KiB PLAIN message, plus room. */
#define POP3_LINE_MAX		8192
/* Bytes the reader holds at most: a full line plus pipelined commands. */
#define POP3_READER_MAX		(2 * POP3_LINE_MAX + 2)
/* Arguments of the commands that take a word (USER, AUTH mechanism). */
#define POP3_ARG_MAX		512

struct pop3_reader {
	struct buf	 in;
	size_t		 used;		/* bytes of the line last handed out */
	bool		 skipping;	/* inside an over-long line */
};

enum pop3_rd {
	POP3_RD_NONE = 0,	/* no complete line: read more */
	POP3_RD_LINE = 1,	/* *line_r is the next line */
	POP3_RD_TOO_LONG = 2,	/* a line passed POP3_LINE_MAX: answer -ERR */
};

void	pop3_reader_init(struct pop3_reader *r);
void	pop3_reader_deinit(struct pop3_reader *r);
/* How many bytes pop3_reader_feed takes now; 0 when the reader is full
 * (hand out lines first). */
size_t	pop3_reader_room(const struct pop3_reader *r);
/* Add bytes read from the client (n <= pop3_reader_room()). Bytes of
 * an over-long line are dropped here already. */
void	pop3_reader_feed(struct pop3_reader *r, const void *p, size_t n);
/* The next line. *line_r points into the reader and stays valid until
 * the next pop3_reader_* call. */
enum pop3_rd pop3_reader_next(struct pop3_reader *r, struct str *line_r)
	    AV_WARN_UNUSED;
/* Forget everything buffered (STLS: plaintext sent after the command). */
void	pop3_reader_discard(struct pop3_reader *r);
/* Bytes held and not yet handed out. */
size_t	pop3_reader_pending(const struct pop3_reader *r);

enum pop3_cmd_id {
	POP3_C_UNKNOWN = 0,
	POP3_C_USER, POP3_C_PASS, POP3_C_AUTH, POP3_C_APOP, POP3_C_STLS,
	POP3_C_CAPA, POP3_C_QUIT, POP3_C_STAT, POP3_C_LIST, POP3_C_RETR,
	POP3_C_DELE, POP3_C_NOOP, POP3_C_RSET, POP3_C_TOP, POP3_C_UIDL,
};

struct pop3_cmd {
	enum pop3_cmd_id id;
	const char	*name;		/* canonical upper case; "" unknown */
	/* USER: the name; PASS: the whole rest of the line (a password may
	 * hold spaces); AUTH: the mechanism (upper-cased) and the initial
	 * response (NULL: none); LIST/UIDL: has_n; TOP: n and lines. */
	struct str	 arg1, arg2;
	bool		 has_arg2;
	bool		 has_n;
	uint32_t	 n;		/* message number, >= 1 */
	uint32_t	 lines;		/* TOP */
};

/* Parse a line (without CRLF). 0: *cmd_r is set. -1: the command is
 * unknown (cmd_r->id == POP3_C_UNKNOWN) or its arguments are wrong;
 * *error_r is the text for "-ERR <text>". A known command with bad
 * arguments keeps its id, so the caller can tell the two apart. */
int	pop3_parse(struct str line, struct pop3_cmd *cmd_r,
	    const char **error_r) AV_WARN_UNUSED;

/* One SASL response line of AUTH: "*" cancels (returns 1); otherwise
 * base64, decoded into out (outsz bytes): returns 0 with *len_r, or -1
 * for bad base64 or a response that does not fit. "=" (RFC 5034's empty
 * initial response) is an empty response. */
int	pop3_sasl_decode(struct str line, unsigned char *out, size_t outsz,
	    size_t *len_r) AV_WARN_UNUSED;

/* Byte-stuffing and line endings of a multi-line response (RFC 1939 3):
 * copy in[0..n) to out, turning bare LF into CRLF and doubling a '.' that
 * starts a line. *bol is the state between calls: true at the start of a
 * line (start with true); *cr: the last byte copied was CR (start with
 * false). out needs room for 2 * n bytes. Returns the bytes written.
 * After the last chunk, a message that does not end in LF gets CRLF
 * (when !*bol), then the terminating ".\r\n". */
size_t	pop3_stuff(const char *in, size_t n, char *out, bool *bol, bool *cr);

/* TOP's cut: given the message so far, how many bytes of in[0..n) to
 * send. st->in_body starts false; the header ends at the first empty
 * line (LF or CRLF alone); after it, st->lines_left body lines are sent.
 * Returns the count to copy; st->done is set when nothing more is
 * wanted. */
struct pop3_top {
	bool		 in_body;
	bool		 bol;		/* at the start of a line */
	bool		 cr_only;	/* the current line so far is "\r" */
	uint64_t	 lines_left;
	bool		 done;
};
void	pop3_top_init(struct pop3_top *st, uint64_t lines);
size_t	pop3_top_cut(struct pop3_top *st, const char *in, size_t n);

#endif
