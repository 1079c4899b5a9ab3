/* aviary/units.h - sizes ("500M", "2G") and durations ("30s", "5m").
 *
 * Sizes are binary: K = 1024, M = 1024^2, G, T; an optional trailing "B"
 * or "iB" is accepted, case does not matter, a bare number is bytes.
 * Durations take s, m, h, d (a bare number is seconds). Parsers accept
 * exactly one number and one unit, no spaces or signs, and fail (-1) on
 * overflow rather than wrapping. "unlimited" is not handled here: the
 * caller decides what it means.
 */
#ifndef AVIARY_UNITS_H
#define AVIARY_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "aviary/compat.h"

int	units_parse_size(const char *s, uint64_t *r) AV_WARN_UNUSED;
int	units_parse_time(const char *s, uint64_t *seconds_r) AV_WARN_UNUSED;
/* Shortest exact form: 1536 -> "1536", 2097152 -> "2M", 0 -> "0". */
void	units_format_size(uint64_t v, char *out, size_t outsz);
/* Human, rounded to one decimal: 1536 -> "1.5K". */
void	units_format_size_human(uint64_t v, char *out, size_t outsz);
void	units_format_time(uint64_t seconds, char *out, size_t outsz);

#endif
