/* aviary/base64.h - RFC 4648 base64 (standard alphabet, padded), as SASL
 * uses it. The decoder is strict: no whitespace, padding only at the end,
 * length a multiple of 4, no non-zero bits in the last partial group is
 * not required (Dovecot accepts them too). Output buffers are caller's.
 */
#ifndef AVIARY_BASE64_H
#define AVIARY_BASE64_H

#include <stddef.h>

#include "aviary/compat.h"

#define BASE64_ENCODED_LEN(n)	((((n) + 2) / 3) * 4)
#define BASE64_DECODED_MAX(n)	((((n) + 3) / 4) * 3)

/* The 6-bit value of one base64 character, or -1. c63 is the character
 * for 63: '/' in RFC 4648 base64, ',' in IMAP's modified base64 (RFC
 * 3501 5.1.3). */
int	base64_value(unsigned char c, char c63);
/* Writes BASE64_ENCODED_LEN(n) bytes and a NUL; out must hold that + 1. */
void	base64_encode(const void *in, size_t n, char *out);
/* Decode n bytes of 'in' into out (BASE64_DECODED_MAX(n) bytes). Returns
 * the decoded length, or -1 on malformed input. */
long	base64_decode(const char *in, size_t n, void *out) AV_WARN_UNUSED;

#endif
