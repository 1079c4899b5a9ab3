/* aviary/mutf7.h - IMAP modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8.
 *
 * Mailbox names travel in modified UTF-7 to IMAP4rev1 clients, and
 * Dovecot 2.3's Maildir++ layout stores the very same bytes as directory
 * names (checked with Debian's Dovecot 2.3.19: CREATE "R&AOk-sum&AOk-"
 * makes ".R&AOk-sum&AOk-"). So mUTF-7 is both the wire form and the
 * storage form; UTF-8 is only needed for UTF8=ACCEPT clients and logs.
 *
 * The decoder is strict, as Dovecot's imap-utf7.c is, so that every
 * valid string has exactly one spelling: a byte outside 0x20..0x7e, a
 * '&' run that is unterminated, uses a character outside the modified
 * base64 alphabet (A-Z a-z 0-9 + ,), encodes printable US-ASCII or
 * U+0000, holds a lone or reversed UTF-16 surrogate, has leftover bits
 * that are non-zero or make up a whole extra character, or directly
 * follows another run ("&AOk-&AOk-" must be "&AOkA6Q-") is invalid.
 * (Dovecot itself lets non-zero padding bits through, "&AOl-" for
 * "&AOk-": such a name on disk is still usable through folders.h, which
 * checks existing names less strictly.)
 * Hence decode(encode(u)) == u for valid UTF-8 u without NUL, and
 * encode(decode(m)) == m for valid mUTF-7 m (the fuzz harness checks
 * both).
 *
 * The encoder takes strict UTF-8: overlong forms, UTF-16 surrogates
 * (U+D800..U+DFFF), code points above U+10FFFF, truncated sequences and
 * U+0000 are invalid. Printable ASCII other than '&' is copied, '&'
 * becomes "&-", everything else (control characters included) goes into
 * one base64 run per stretch.
 *
 * Output goes to a struct buf (the caller's ceiling applies); on any
 * failure the buffer is left exactly as it was. Pure functions: no I/O,
 * no global state.
 */
#ifndef AVIARY_MUTF7_H
#define AVIARY_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "aviary/compat.h"

struct buf;

/* The input is not valid (mUTF-7 for the decoder, UTF-8 for the
 * encoder). BUF_EFULL (-2, buf.h) means the output passed its ceiling. */
#define MUTF7_EINVAL	(-1)

/* Append the UTF-8 form of the mUTF-7 text src[0..len) to out.
 * 0, MUTF7_EINVAL or BUF_EFULL; out unchanged on failure. */
int	mutf7_to_utf8(const char *src, size_t len, struct buf *out)
	    AV_WARN_UNUSED;
/* Append the mUTF-7 form of the UTF-8 text src[0..len) to out.
 * 0, MUTF7_EINVAL or BUF_EFULL; out unchanged on failure. The output is
 * printable ASCII, at most 5 bytes per input byte (a lone control
 * character becomes "&AAE-"). */
int	mutf7_from_utf8(const char *src, size_t len, struct buf *out)
	    AV_WARN_UNUSED;
/* Whether src[0..len) is valid mUTF-7 by the rules above. O(len), no
 * allocation. */
bool	mutf7_is_valid(const char *src, size_t len);
/* Whether src[0..len) is strict UTF-8 without U+0000 (the encoder's
 * input rules). */
bool	mutf7_utf8_is_valid(const char *src, size_t len);

#endif
