/* fuzz_replay.c - main() for the gcc build of a harness: feeds every
 * file named on the command line, or found in a directory named there
 * (not recursively, in name order), to LLVMFuzzerTestOneInput. Each input
 * sits in a heap block of exactly its size so that ASan sees a read one
 * byte past the end, as libFuzzer would. Exits 1 if anything cannot be
 * read; a harness failure aborts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aviary/mem.h"
#include "fuzz.h"

static int
replay_file(const char *path)
{
	struct stat	 st;
	FILE		*f;
	uint8_t		*data;
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			(void)fclose(f);
		return -1;
	}
	data = xmalloc((size_t)st.st_size);
	n = fread(data, 1, (size_t)st.st_size, f);
	if (ferror(f) || n != (size_t)st.st_size) {
		fprintf(stderr, "fuzz_replay: %s: short read\n", path);
		(void)fclose(f);
		free(data);
		return -1;
	}
	(void)fclose(f);
	(void)LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int
only_files(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	struct dirent	**ents;
	struct stat	  st;
	char		  path[4096];
	int		  i, j, n, inputs = 0, ret = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "fuzz_replay: %s: %s\n", argv[i],
			    strerror(errno));
			ret = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			ret |= replay_file(argv[i]) == -1;
			inputs++;
			continue;
		}
		if ((n = scandir(argv[i], &ents, only_files, alphasort)) < 0) {
			fprintf(stderr, "fuzz_replay: %s: %s\n", argv[i],
			    strerror(errno));
			ret = 1;
			continue;
		}
		for (j = 0; j < n; j++) {
			int len = snprintf(path, sizeof(path), "%s/%s",
			    argv[i], ents[j]->d_name);

			if (len < 0 || (size_t)len >= sizeof(path)) {
				fprintf(stderr, "fuzz_replay: %s/%s: name too "
				    "long\n", argv[i], ents[j]->d_name);
				ret = 1;
			} else if (stat(path, &st) == 0 &&
			    S_ISREG(st.st_mode)) {
				ret |= replay_file(path) == -1;
				inputs++;
			}
			free(ents[j]);
		}
		free(ents);
	}
	printf("fuzz_replay: %d input(s)%s\n", inputs, ret ? ", errors" : "");
	return ret;
}
