/* lmtp_parse.h - LMTP (RFC 2033 on RFC 5321) as pure functions: command
 * lines and the DATA stream. No I/O, no allocation; results are slices
 * into the caller's line. tests/fuzz/fuzz_lmtp.c drives them.
 */
#ifndef AVIARY_LMTP_PARSE_H
#define AVIARY_LMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aviary/compat.h"
#include "aviary/str.h"

/* RFC 5321 4.5.3.1: a command line is at most 512 octets with CRLF. We
 * take lines up to 4096 bytes: longer parameter lists exist in the
 * wild, and the limit only bounds memory. */
#define LMTP_LINE_MAX	4096

enum lmtp_verb {
	LV_UNKNOWN, LV_LHLO, LV_HELO, LV_EHLO, LV_MAIL, LV_RCPT, LV_DATA,
	LV_RSET, LV_NOOP, LV_QUIT, LV_VRFY, LV_BDAT,
};

/* The verb of a line (case-insensitive) and the text after it. */
enum lmtp_verb	lmtp_parse_verb(struct str line, struct str *args_r);

struct lmtp_path {
	struct str	 addr;		/* inside <>; empty for the null path */
	uint64_t	 size;		/* SIZE=, 0 when absent */
	bool		 has_size;
	bool		 body_8bit;	/* BODY=8BITMIME */
};

/* "FROM:<addr> [params]" / "TO:<addr> [params]" (prefix without the
 * colon: "FROM" or "TO"). Accepts a space after the colon (common in
 * practice). Unknown ESMTP parameters are errors (we advertise SIZE and
 * 8BITMIME only). Returns 0, or -1 with *error_r ("501 5.5.4 ..."
 * text without the code) on a syntax error. The null path <> is only
 * valid for FROM. */
int	lmtp_parse_path(struct str args, const char *prefix,
	    struct lmtp_path *p, const char **error_r) AV_WARN_UNUSED;

/* DATA stream decoder: removes dot-stuffing, turns CRLF into LF (the
 * Maildir convention; a bare CR is kept), and finds the terminating
 * <CRLF>.<CRLF>, across any split of the input into chunks. */
enum lmtp_data_state { LD_BOL, LD_LINE, LD_CR, LD_DOT, LD_DOT_CR, LD_END };

struct lmtp_data {
	enum lmtp_data_state	 state;
};

/* Decode in[0..n): decoded bytes go to out, *out_len_r is how many.
 * out needs room for n + 1 bytes: a CR held back from the previous call
 * may come out together with this call's first byte. Over a whole
 * stream the output is never longer than the input. Returns the number of input bytes
 * consumed: all n unless the end marker was found, in which case the
 * rest belongs to the next commands and state is LD_END. */
size_t	lmtp_data_decode(struct lmtp_data *d, const char *in, size_t n,
	    char *out, size_t *out_len_r);

#endif
