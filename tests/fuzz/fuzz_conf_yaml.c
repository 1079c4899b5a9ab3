/* fuzz_conf_yaml.c - the YAML configuration loader over the whole
 * aviary.yaml table, the cross-key checks and the dump. Invariant: a
 * failure always names the file it is about. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aviary/arena.h"
#include "aviary/config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE		*devnull;
	struct arena		*a = arena_create(4096);
	struct aviary_config	 cfg;
	const char		*err = NULL;
	int			 rc;

	rc = conf_load_mem(aviary_config_table, &cfg, "f.yaml", data, size, a,
	    &err);
	if (rc == 0 && (devnull != NULL || (devnull = fopen("/dev/null",
	    "w")) != NULL))
		conf_dump(aviary_config_table, &cfg, devnull);
	if (rc == 0)
		rc = aviary_config_check(&cfg, "f.yaml", a, &err);
	if (rc != 0 && (err == NULL || strncmp(err, "f.yaml:", 7) != 0))
		abort();
	arena_destroy(&a);
	return 0;
}
