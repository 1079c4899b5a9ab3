/* fuzz_addr.c - address and domain normalisation. Invariants on success:
 * no '/', no "..", a lower-case domain, and normalising the result again
 * gives the same string. */
#include <stdlib.h>
#include <string.h>

#include "aviary/addr.h"
#include "aviary/mem.h"
#include "fuzz.h"

/* 'out' came from fn; 'lower' is the part that must be lower case. */
static void
check(const char *out, const char *lower,
    int (*fn)(const char *, char *, const char **))
{
	char		 again[ADDR_MAX + 1];
	const char	*why;

	if (strchr(out, '/') != NULL || strstr(out, "..") != NULL ||
	    lower == NULL || fn(out, again, &why) != 0 || strcmp(out, again))
		abort();
	for (; *lower != '\0'; lower++)
		if (*lower >= 'A' && *lower <= 'Z')
			abort();
}

static int
addr_normalize_plain(const char *in, char *out, const char **why)
{
	return addr_normalize(in, out, NULL, NULL, why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in = xmalloc(size + 1), out[ADDR_MAX + 1];
	const char	*why;

	memcpy(in, data, size);
	in[size] = '\0';
	if (addr_normalize_plain(in, out, &why) == 0)
		check(out, out, addr_normalize_plain);
	if (addr_normalize_foreign(in, out, &why) == 0)
		check(out, strrchr(out, '@'), addr_normalize_foreign);
	if (addr_domain_normalize(in, out, &why) == 0)
		check(out, out, addr_domain_normalize);
	if (addr_local_normalize(in, out, &why) == 0)
		check(out, out, addr_local_normalize);
	free(in);
	return 0;
}
