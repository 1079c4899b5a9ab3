/* aviary/imapfmt.h - the IMAP text of message structures (RFC 3501 7.4.2
 * and 9): ENVELOPE, BODY and BODYSTRUCTURE values, and the string
 * quoting rules behind them, byte for byte as Dovecot 2.3 writes them.
 *
 * Quoting (Dovecot's imap-quote.c, which clients have been parsing for
 * years): NULL is NIL; a string is written "quoted", with '"' and '\'
 * escaped, unless it holds CR, LF or a byte >= 0x80, or more than four
 * characters to escape: then it is a literal {n}\r\n... . Fields meant
 * for people (the envelope subject and address display names) have
 * their blank space cleaned: TAB, CR and LF count as space, runs of
 * space become one, leading and trailing space go; when that changes
 * anything, or the text holds '"', '\' or 8-bit bytes, it is sent as a
 * literal. RFC 2047 encoded words stay encoded, parameter values stay as
 * written (RFC 2231 pieces merged but not decoded) and type names keep
 * their case: that is what Dovecot shows.
 *
 * The writers append to a struct buf; on -1 (the buf's ceiling was hit)
 * the buf is as it was before the call.
 */
#ifndef AVIARY_IMAPFMT_H
#define AVIARY_IMAPFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "aviary/compat.h"

struct arena;
struct buf;
struct mime_envelope;
struct mime_part;

/* NIL, "quoted" or a literal, by the rules above. */
int	imap_append_nstring(struct buf *out, const char *s) AV_WARN_UNUSED;
/* The same after deleting CR and LF (a CR or LF directly followed by a
 * byte other than blank space, CR, LF becomes one space instead). */
int	imap_append_nstring_nolf(struct buf *out, const char *s)
	    AV_WARN_UNUSED;
/* A never-NIL string for people, cleaned as described above. */
int	imap_append_string_for_humans(struct buf *out, const char *s,
	    size_t len) AV_WARN_UNUSED;

/* The parenthesised ENVELOPE value (what follows "ENVELOPE "). Sender and
 * Reply-To default to From. */
int	imap_envelope_write(struct buf *out, const struct mime_envelope *env)
	    AV_WARN_UNUSED;

/* The parenthesised BODYSTRUCTURE value of part (extended) or its BODY
 * value (!extended), as follows "BODYSTRUCTURE " or "BODY ". a holds the
 * envelopes of encapsulated messages while writing. Recursion is bounded
 * by MIME_MAX_DEPTH. */
int	imap_bodystructure_write(struct buf *out, struct arena *a,
	    const struct mime_part *part, bool extended) AV_WARN_UNUSED;

#endif
