/* fuzz_keywords.c - the per-folder text files over any bytes:
 * dovecot-keywords, subscriptions, and the ":2," flag letters.
 * Invariants:
 *   - keywords: what parses formats to a file that parses clean to the
 *     same table, and formats to the same bytes again;
 *   - subscriptions: unsubscribing a listed name removes it and keeps
 *     every other name; subscribing a new name adds it last and keeps
 *     the rest; an edit that changes nothing gives the input back;
 *   - flag letters: keywords_info_make() output parses to the flags it
 *     was made from, is in strict ASCII order, fits 64 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/folders.h"
#include "aviary/keywords.h"
#include "aviary/mem.h"
#include "fuzz.h"

static void
check_keywords(const char *d, size_t n, struct arena *a)
{
	struct keywords	 k1, k2;
	struct buf	 b1, b2;
	const char	*err;
	int		 i, r1, r2;

	r1 = keywords_parse(d, n, a, &k1, &err);
	buf_init(&b1, a, 1 << 20);
	buf_init(&b2, a, 1 << 20);
	if (keywords_format(&k1, &b1) != 0)
		abort();
	/* A duplicate name in the input stays a duplicate: parse reports
	 * it, and the tables still agree. */
	r2 = keywords_parse(b1.data != NULL ? b1.data : "", b1.len, a, &k2,
	    &err);
	if ((r1 == 0 && r2 != 0) || k1.used != k2.used || k1.valid != k2.valid)
		abort();
	for (i = 0; i < KEYWORDS_MAX; i++)
		if ((k1.used & (1u << i)) != 0 &&
		    strcmp(k1.names[i], k2.names[i]) != 0)
			abort();
	if (keywords_format(&k2, &b2) != 0 || b1.len != b2.len ||
	    (b1.len > 0 && memcmp(b1.data, b2.data, b1.len) != 0))
		abort();
	for (i = 0; i < KEYWORDS_MAX; i++)
		if (keywords_name(&k1, (unsigned)i) != NULL &&
		    keywords_lookup(&k1, keywords_name(&k1, (unsigned)i)) != i)
			abort();
}

static bool
has(const struct folders_subs *s, const char *name)
{
	return folders_subs_has(s, name);
}

static void
check_subs(const char *d, size_t n, struct arena *a)
{
	struct folders_subs	 s, t;
	struct buf		 b;
	const char		*err, *add = "Fz.q";
	bool			 changed;
	size_t			 i, j;

	if (folders_subs_parse(d, n, a, &s, &err) != 0)
		err = NULL;	/* damaged lines name nothing: fine */
	for (i = 0; i < s.n && i < 4; i++) {
		buf_init(&b, a, 1 << 21);
		if (folders_subs_edit(d, n, s.names[i], false, &b,
		    &changed) != 0 || !changed)
			abort();
		if (folders_subs_parse(b.data != NULL ? b.data : "", b.len,
		    a, &t, &err) != 0)
			err = NULL;
		if (has(&t, s.names[i]))
			abort();
		for (j = 0; j < s.n; j++)
			if (j != i && !has(&t, s.names[j]))
				abort();
	}
	buf_init(&b, a, 1 << 21);
	if (folders_subs_edit(d, n, add, true, &b, &changed) != 0 ||
	    changed == has(&s, add))
		abort();
	if (folders_subs_parse(b.data != NULL ? b.data : "", b.len, a, &t,
	    &err) != 0)
		err = NULL;
	if (!has(&t, add) || t.n < s.n)
		abort();
	for (j = 0; j < s.n; j++)
		if (!has(&t, s.names[j]))
			abort();
	if (!changed && (b.len != n || (n > 0 && memcmp(b.data, d, n) != 0)))
		abort();
}

static void
check_info(const char *d, size_t n)
{
	char		 out[KEYWORDS_INFO_SIZE], *old;
	unsigned	 sys, sys2;
	uint32_t	 kw, kw2;
	size_t		 i;

	if (n < 5)
		return;
	sys = d[0] & MAIL_FLAGS_ALL;
	memcpy(&kw, d + 1, sizeof(kw));
	kw &= 0x3ffffff;
	old = xstrndup(d + 5, n - 5);
	if (keywords_info_make(sys, kw, old, out) == 0) {
		keywords_info_parse(out, &sys2, &kw2);
		if (sys2 != sys || kw2 != kw ||
		    strlen(out) >= KEYWORDS_INFO_SIZE)
			abort();
		for (i = 1; i < strcspn(out, ","); i++)
			if ((unsigned char)out[i - 1] >= (unsigned char)out[i])
				abort();
	} else if (out[0] != '\0') {
		abort();
	}
	free(old);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	*a = arena_create(16384);
	const char	*d = (const char *)data;

	check_keywords(d, size, a);
	check_subs(d, size, a);
	check_info(d, size);
	arena_destroy(&a);
	return 0;
}
