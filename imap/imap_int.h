/* imap_int.h - helpers shared by the imap_*.c files of the parser; not
 * part of its API (imap_parse.h is). */
#ifndef AVIARY_IMAP_INT_H
#define AVIARY_IMAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 3501 ATOM-CHAR: visible ASCII except ( ) { % * " \ ] */
bool		 imap_atom_char(unsigned char c);
/* Non-empty, and ATOM-CHARs only. */
bool		 imap_is_atom(const char *s, size_t len);
/* Decimal digits only (1..20 of them), value <= max: 0, else -1. */
int		 imap_parse_u64(const char *s, size_t len, uint64_t max,
		    uint64_t *r);
/* "Jan".."Dec" for 1..12. */
const char	*imap_month_name(unsigned month);
unsigned	 imap_days_in_month(unsigned year, unsigned month);
/* Days from 1970-01-01 to year-month-day (year >= 1, a valid date). */
int64_t		 imap_days_from_civil(unsigned year, unsigned month,
		    unsigned day);

#endif
