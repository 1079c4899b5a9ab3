/* fuzz_mutf7.c - mailbox names: the mUTF-7 codec, the name rules and the
 * LIST matcher over any bytes. Invariants:
 *   - mUTF-7 that validates decodes to strict UTF-8 and encodes back to
 *     the same bytes (one spelling per name); what does not validate is
 *     refused by the decoder too;
 *   - UTF-8 that validates encodes to valid mUTF-7 that decodes back;
 *     other bytes are refused by the encoder;
 *   - a name fit for CREATE is fit as an existing name, with the same
 *     normal form (unless CREATE dropped a trailing '.'), and the normal
 *     form checks to itself;
 *   - folders_match() (an NFA) agrees with a plain recursive matcher on
 *     short inputs ("pattern\nname").
 */
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/folders.h"
#include "aviary/mem.h"
#include "aviary/mutf7.h"
#include "fuzz.h"

#define REF_MAX	40	/* the reference matcher backtracks: keep it small */

static void
check_mutf7(const char *d, size_t n)
{
	struct buf	 u, m;
	bool		 valid = mutf7_is_valid(d, n);
	int		 r;

	buf_init(&u, NULL, 5 * n + 16);
	buf_init(&m, NULL, 5 * (5 * n + 16));
	r = mutf7_to_utf8(d, n, &u);
	if ((r == 0) != valid || (r != 0 && r != MUTF7_EINVAL) ||
	    (r != 0 && u.len != 0))
		abort();
	if (valid) {
		if (!mutf7_utf8_is_valid(u.data != NULL ? u.data : "", u.len) ||
		    mutf7_from_utf8(u.data != NULL ? u.data : "", u.len,
		    &m) != 0 || m.len != n || (n > 0 &&
		    memcmp(m.data, d, n) != 0))
			abort();
	}
	buf_deinit(&u);
	buf_deinit(&m);
}

static void
check_utf8(const char *d, size_t n)
{
	struct buf	 u, m;
	bool		 valid = mutf7_utf8_is_valid(d, n);
	int		 r;

	buf_init(&m, NULL, 5 * n + 16);
	buf_init(&u, NULL, n + 16);
	r = mutf7_from_utf8(d, n, &m);
	if ((r == 0) != valid || (r != 0 && m.len != 0))
		abort();
	if (valid) {
		if (!mutf7_is_valid(m.data != NULL ? m.data : "", m.len) ||
		    mutf7_to_utf8(m.data != NULL ? m.data : "", m.len,
		    &u) != 0 || u.len != n || (n > 0 &&
		    memcmp(u.data, d, n) != 0))
			abort();
	}
	buf_deinit(&u);
	buf_deinit(&m);
}

static void
check_name(const char *s, struct arena *a)
{
	const char	*nc, *ne, *again, *err;
	int		 rc, re;
	size_t		 len = strlen(s);

	rc = folders_name_check(s, true, a, &nc, &err);
	re = folders_name_check(s, false, a, &ne, &err);
	if (rc == FOLDERS_OK) {
		bool dropped = len > 0 && s[len - 1] == '.';

		if (!dropped && (re != FOLDERS_OK || strcmp(nc, ne) != 0))
			abort();
		if (folders_name_check(nc, true, a, &again, &err) !=
		    FOLDERS_OK || strcmp(again, nc) != 0)
			abort();
	}
	if (re == FOLDERS_OK && (folders_name_check(ne, false, a, &again,
	    &err) != FOLDERS_OK || strcmp(again, ne) != 0))
		abort();
}

/* The LIST rules the plain way: '*' anything, '%' anything but '.',
 * INBOX's own letters case-insensitive; top-down with a memo (pattern
 * position x name position) so that "*a*a*a..." stays polynomial. */
static signed char memo[REF_MAX + 2][REF_MAX + 2];

static bool
ref_match(const char *p0, size_t pi, const char *s, size_t i, bool inbox)
{
	const char	*p = p0 + pi;
	bool		 r = false;
	size_t		 k;

	if (memo[pi][i] != 0)
		return memo[pi][i] > 0;
	if (*p == '\0') {
		r = s[i] == '\0';
	} else if (*p == '*' || *p == '%') {
		for (k = i;; k++) {
			if (ref_match(p0, pi + 1, s, k, inbox)) {
				r = true;
				break;
			}
			if (s[k] == '\0' || (*p == '%' && s[k] == '.'))
				break;
		}
	} else if (s[i] != '\0' && (*p == s[i] || (inbox && i < 5 &&
	    *p >= 'a' && *p <= 'z' && *p - 'a' + 'A' == s[i]))) {
		r = ref_match(p0, pi + 1, s, i + 1, inbox);
	}
	memo[pi][i] = r ? 1 : -1;
	return r;
}

static void
check_match(const char *d, size_t n)
{
	const char	*nl = memchr(d, '\n', n);
	char		*p, *s;
	size_t		 plen;
	bool		 inbox;

	if (nl == NULL)
		return;
	plen = (size_t)(nl - d);
	if (plen > REF_MAX || n - plen - 1 > REF_MAX)
		return;
	p = xstrndup(d, plen);
	s = xstrndup(nl + 1, n - plen - 1);
	if (strlen(p) == plen && strlen(s) == n - plen - 1) {
		inbox = strncmp(s, "INBOX", 5) == 0 &&
		    (s[5] == '\0' || s[5] == '.');
		memset(memo, 0, sizeof(memo));
		if (folders_match(p, s) != ref_match(p, 0, s, 0, inbox))
			abort();
	}
	free(p);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	*a = arena_create(4096);
	const char	*d = (const char *)data;
	char		*s;

	check_mutf7(d, size);
	check_utf8(d, size);
	s = xstrndup(d, size);
	check_name(s, a);
	free(s);
	check_match(d, size);
	arena_destroy(&a);
	return 0;
}
