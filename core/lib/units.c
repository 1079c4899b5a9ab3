/* units.c - size and duration parsing; see aviary/units.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aviary/str.h"
#include "aviary/units.h"

static int
units_split(const char *s, struct str *num_r, struct str *unit_r)
{
	size_t	 i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0)
		return -1;
	*num_r = (struct str){ s, i };
	*unit_r = str_from_cstr(s + i);
	return 0;
}

int
units_parse_size(const char *s, uint64_t *r)
{
	struct str	 num, unit;
	uint64_t	 v, mult = 1;
	unsigned	 shift = 0;

	if (units_split(s, &num, &unit) == -1 || str_to_u64(num, &v) == -1)
		return -1;
	if (unit.len > 0) {
		switch (unit.p[0]) {
		case 'b': case 'B': shift = 0; break;
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -1;
		}
		unit.p++;
		unit.len--;
		if (shift == 0 && unit.len != 0)
			return -1;
		if (!(unit.len == 0 || str_caseeq_cstr(unit, "b") ||
		    str_caseeq_cstr(unit, "ib")))
			return -1;
	}
	mult = (uint64_t)1 << shift;
	if (v > UINT64_MAX / mult)
		return -1;
	*r = v * mult;
	return 0;
}

int
units_parse_time(const char *s, uint64_t *seconds_r)
{
	struct str	 num, unit;
	uint64_t	 v, mult;

	if (units_split(s, &num, &unit) == -1 || str_to_u64(num, &v) == -1)
		return -1;
	if (unit.len == 0 || str_eq_cstr(unit, "s"))
		mult = 1;
	else if (str_eq_cstr(unit, "m"))
		mult = 60;
	else if (str_eq_cstr(unit, "h"))
		mult = 3600;
	else if (str_eq_cstr(unit, "d"))
		mult = 86400;
	else
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*seconds_r = v * mult;
	return 0;
}

void
units_format_size(uint64_t v, char *out, size_t outsz)
{
	static const char	 sfx[] = "KMGT";
	int			 i = -1;

	while (i < 3 && v != 0 && (v & 1023) == 0) {
		v >>= 10;
		i++;
	}
	if (i < 0)
		(void)snprintf(out, outsz, "%llu", (unsigned long long)v);
	else
		(void)snprintf(out, outsz, "%llu%c", (unsigned long long)v,
		    sfx[i]);
}

void
units_format_size_human(uint64_t v, char *out, size_t outsz)
{
	static const char	 sfx[] = "KMGT";
	double			 d = (double)v;
	int			 i = -1;

	if (v < 1024) {
		(void)snprintf(out, outsz, "%lluB", (unsigned long long)v);
		return;
	}
	/* Rounded to one decimal, 1023.96K would print as "1024.0K": move
	 * to the next unit whenever the rounded value reaches 1024. */
	while (i < 3 && d >= 1023.95) {
		d /= 1024;
		i++;
	}
	if (d == (double)(uint64_t)d)
		(void)snprintf(out, outsz, "%.0f%c", d, sfx[i]);
	else
		(void)snprintf(out, outsz, "%.1f%c", d, sfx[i]);
}

void
units_format_time(uint64_t s, char *out, size_t outsz)
{
	if (s != 0 && s % 86400 == 0)
		(void)snprintf(out, outsz, "%llud", (unsigned long long)(s / 86400));
	else if (s != 0 && s % 3600 == 0)
		(void)snprintf(out, outsz, "%lluh", (unsigned long long)(s / 3600));
	else if (s != 0 && s % 60 == 0)
		(void)snprintf(out, outsz, "%llum", (unsigned long long)(s / 60));
	else
		(void)snprintf(out, outsz, "%llus", (unsigned long long)s);
}
