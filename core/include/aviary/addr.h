/* aviary/addr.h - validation and normalisation of mail addresses and
 * domain names, done before any lookup or SQL statement.
 *
 * Hosted names are ASCII: internationalised domains are given in their
 * xn-- (punycode) form. Domains are lower-cased; a domain has 2 to 127
 * labels of 1 to 63 letters, digits or hyphens (no hyphen at either end
 * of a label), 253 octets at most. Local parts are RFC 5322 dot-atoms of
 * 1 to 64 octets, without '/' (they become directory names), lower-cased
 * for hosted mailboxes and aliases (mailbox names are case-insensitive,
 * as every hosting panel treats them). Nothing here allocates: outputs
 * go into caller buffers of ADDR_MAX + 1 bytes.
 */
#ifndef AVIARY_ADDR_H
#define AVIARY_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "aviary/compat.h"

#define ADDR_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX	253	/* RFC 1035, without the trailing dot */
#define ADDR_LABEL_MAX	63
#define ADDR_MAX	(ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX)

/* Each returns 0 with the normalised form in out (ADDR_MAX + 1 bytes),
 * or -1 with *why_r set to a static phrase saying what is wrong. */
int	addr_domain_normalize(const char *in, char *out, const char **why_r)
	    AV_WARN_UNUSED;
int	addr_local_normalize(const char *in, char *out, const char **why_r)
	    AV_WARN_UNUSED;
/* "local@domain", both parts normalised; local_r and domain_r (each
 * ADDR_MAX + 1 bytes, may be NULL) receive the parts. */
int	addr_normalize(const char *in, char *out, char *local_r,
	    char *domain_r, const char **why_r) AV_WARN_UNUSED;
/* Like addr_normalize, but the local part keeps its case: for
 * destinations outside our control. */
int	addr_normalize_foreign(const char *in, char *out, const char **why_r)
	    AV_WARN_UNUSED;

#endif
