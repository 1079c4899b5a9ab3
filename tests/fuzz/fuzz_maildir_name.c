/* fuzz_maildir_name.c - Maildir file names: maildir_name_sizes() over
 * any name, and the host escaping of maildir_unique_name(). Invariants:
 * a size reported is formatted back into a name and parsed again to the
 * same value; a malformed field is reported missing; an escaped host has
 * no '/' ':' ',' and unescapes to the input. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aviary/maildir.h"
#include "aviary/mem.h"
#include "fuzz.h"

static void
check_sizes(const char *in)
{
	char		 again[128];
	uint64_t	 s = 1, w = 2, s2, w2;
	bool		 hs, hw, hs2, hw2, ok;

	ok = maildir_name_sizes(in, &s, &hs, &w, &hw);
	if ((!hs && s != 1) || (!hw && w != 2))
		abort();		/* missing must leave outputs alone */
	if ((hs || !ok) && strstr(in, ",S=") == NULL && strstr(in, ",W=") ==
	    NULL)
		abort();
	(void)snprintf(again, sizeof(again), "b,S=%" PRIu64 ",W=%" PRIu64
	    ":2,S", s, w);
	if (!maildir_name_sizes(again, &s2, &hs2, &w2, &hw2) || !hs2 ||
	    !hw2 || s2 != s || w2 != w)
		abort();
}

static void
check_host(const char *in, size_t len)
{
	char		 out[MAILDIR_NAME_MAX + 1];
	const char	*p;
	size_t		 i = 0;

	if (len == 0 || len > 40)	/* "" is gethostname(); 4 x 40 fits */
		return;
	if (maildir_unique_name(in, out, sizeof(out)) != 0 ||
	    strpbrk(out, "/:,") != NULL)
		abort();
	p = strchr(strchr(out, '.') + 1, '.') + 1;
	for (; *p != '\0'; p++, i++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\') {
			c = (unsigned char)((p[1] - '0') * 64 +
			    (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (i >= len || (unsigned char)in[i] != c)
			abort();
	}
	if (i != len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*in = xmalloc(size + 1);

	memcpy(in, data, size);
	in[size] = '\0';
	check_sizes(in);
	check_host(in, strlen(in));
	free(in);
	return 0;
}
