/* aviary/str.h - borrowed byte slices (nginx's ngx_str_t).
 *
 * A struct str points into memory owned by someone else and never
 * outlives it; the struct that stores one says which buffer that is. The
 * bytes are not NUL-terminated in general. Helpers here never allocate.
 */
#ifndef AVIARY_STR_H
#define AVIARY_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct str {
	const char	*p;
	size_t		 len;
};

#define STR_LIT(s)	((struct str){ (s), sizeof(s) - 1 })

struct str	str_from_cstr(const char *s);
bool		str_eq(struct str a, struct str b);
bool		str_eq_cstr(struct str a, const char *s);
bool		str_caseeq_cstr(struct str a, const char *s);	/* ASCII */
bool		str_has_prefix(struct str a, const char *prefix);
/* Split at the first occurrence of c: *head_r before, *tail_r after.
 * Returns false (head = a, tail empty) when c does not occur. */
bool		str_split(struct str a, char c, struct str *head_r,
		    struct str *tail_r);
struct str	str_trim(struct str a);	/* ASCII space and tab, both ends */
/* Parse a decimal unsigned integer covering the whole slice: digits only,
 * no sign, no spaces, no overflow. Returns 0, or -1 on any of those. */
int		str_to_u64(struct str a, uint64_t *r);
/* Constant-time comparison of two byte strings of possibly different
 * lengths: the running time depends on the lengths only. */
bool		str_ct_eq(const void *a, size_t alen, const void *b,
		    size_t blen);

#endif
