/* fuzz_uidlist.c - uidlist_parse() over any bytes. Invariants: whatever
 * parses with a usable header (clean, or damaged and salvaged) formats
 * to a version-3 file that parses clean with the same UIDVALIDITY, next
 * UID and records, and formatting that again gives the same bytes; a
 * clean parse always has a usable header. */
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/uidlist.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena		*a = arena_create(16384);
	struct uidlist_file	 f, g;
	struct buf		 b1, b2;
	const char		*err;
	size_t			 i;

	if (uidlist_parse((const char *)data, size, a, &f, &err) == 0 &&
	    !f.header_ok)
		abort();	/* clean implies a usable header */
	if (f.header_ok) {
		buf_init(&b1, a, 1 << 24);
		buf_init(&b2, a, 1 << 24);
		if (uidlist_format(&f, &b1) != 0 ||
		    uidlist_parse(b1.data, b1.len, a, &g, &err) != 0 ||
		    g.uidvalidity != f.uidvalidity || g.next_uid != f.next_uid ||
		    g.nrecs != f.nrecs || uidlist_format(&g, &b2) != 0 ||
		    b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
			abort();
		for (i = 0; i < f.nrecs; i++)
			if (g.recs[i].uid != f.recs[i].uid ||
			    strcmp(g.recs[i].name, f.recs[i].name) != 0 ||
			    g.recs[i].nfields != f.recs[i].nfields)
				abort();
	}
	arena_destroy(&a);
	return 0;
}
