/* mime_probe - drive core/mail/mime.c and imapfmt.c the way aviary-imap
 * will, for tests/integration/test_mime_dovecot.py and for measuring.
 *
 *   mime_probe [-a ATTR]... FILE...
 *	For the i-th FILE print "* i FETCH (...)\r\n" with one item per
 *	ATTR, in IMAP syntax, byte for byte as an IMAP server answers:
 *	ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, BODY[section] and
 *	BODY[section]<origin.length> (BODY.PEEK[...] is echoed as BODY[...]).
 *   mime_probe -s KEY:VALUE FILE...
 *	Print "* SEARCH n..." with the numbers of the files that match, for
 *	KEY in subject, from, to, cc, bcc, header-<name>, body, text,
 *	sentbefore, senton, sentsince (VALUE a date as 1-Feb-1994).
 *   mime_probe -t [-n ROUNDS] FILE...
 *	Parse each file and format its BODYSTRUCTURE ROUNDS times (default
 *	1); print the files, bytes, parts and the time taken.
 * Exits 0, or 1 on a usage or I/O error.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/imapfmt.h"
#include "aviary/mem.h"
#include "aviary/mime.h"

#define OUT_MAX		(256u * 1024 * 1024)

struct file {
	const char	*path;
	const char	*data;
	size_t		 len;
};

static int
map_file(struct file *f)
{
	struct stat	 st;
	int		 fd = open(f->path, O_RDONLY | O_CLOEXEC);
	void		*p;

	if (fd == -1 || fstat(fd, &st) == -1) {
		perror(f->path);
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	f->len = (size_t)st.st_size;
	if (f->len == 0) {
		f->data = "";
		(void)close(fd);
		return 0;
	}
	p = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (p == MAP_FAILED) {
		perror(f->path);
		return -1;
	}
	f->data = p;
	return 0;
}

static void
put(struct buf *b)
{
	if (fwrite(b->data == NULL ? "" : b->data, 1, b->len, stdout) !=
	    b->len) {
		perror("stdout");
		exit(1);
	}
	buf_clear(b);
}

static void
check(int r)
{
	if (r != 0) {
		fprintf(stderr, "mime_probe: output too large\n");
		exit(1);
	}
}

/* BODY[...]<o.l> or BODY.PEEK[...]<o.l> */
static int
fetch_section(struct arena *a, const struct mime_msg *m, const char *attr,
    struct buf *out)
{
	const char		*lb = strchr(attr, '['), *rb = strrchr(attr, ']');
	struct mime_section	 sec;
	struct mime_fetch	*f;
	uint64_t		 origin = 0, len = UINT64_MAX;
	bool			 partial = false;
	char			 chunk[8192];
	size_t			 n;

	if (lb == NULL || rb == NULL || rb < lb)
		return -1;
	if (rb[1] == '<') {
		char *end;

		origin = strtoull(rb + 2, &end, 10);
		if (*end == '.')
			len = strtoull(end + 1, &end, 10);
		if (*end != '>')
			return -1;
		partial = true;
	}
	if (mime_section_parse(a, lb + 1, (size_t)(rb - lb - 1), &sec) != 0)
		return -1;
	f = mime_fetch_open(a, m, &sec, origin, len);
	check(buf_append_str(out, "BODY["));
	check(mime_section_format(&sec, out));
	check(buf_append_c(out, ']'));
	if (partial)
		check(buf_printf(out, "<%" PRIu64 ">", origin));
	check(buf_printf(out, " {%" PRIu64 "}\r\n", mime_fetch_size(f)));
	while ((n = mime_fetch_read(f, chunk, sizeof(chunk))) > 0)
		check(buf_append(out, chunk, n));
	return 0;
}

static int
do_fetch(struct file *files, int nfiles, char **attrs, int nattrs)
{
	struct arena		*a = arena_create(65536);
	struct buf		 out;
	struct mime_msg		*m;
	struct mime_envelope	 env;
	int			 i, j, ret = 0;

	buf_init(&out, NULL, OUT_MAX);
	for (i = 0; i < nfiles; i++) {
		arena_reset(a);
		m = mime_parse(a, files[i].data, files[i].len);
		check(buf_printf(&out, "* %d FETCH (", i + 1));
		for (j = 0; j < nattrs; j++) {
			if (j > 0)
				check(buf_append_c(&out, ' '));
			if (strcasecmp(attrs[j], "ENVELOPE") == 0) {
				mime_envelope_get(a, m->root, &env);
				check(buf_append_str(&out, "ENVELOPE "));
				check(imap_envelope_write(&out, &env));
			} else if (strcasecmp(attrs[j], "BODYSTRUCTURE") == 0) {
				check(buf_append_str(&out, "BODYSTRUCTURE "));
				check(imap_bodystructure_write(&out, a, m->root,
				    true));
			} else if (strcasecmp(attrs[j], "BODY") == 0) {
				check(buf_append_str(&out, "BODY "));
				check(imap_bodystructure_write(&out, a, m->root,
				    false));
			} else if (strcasecmp(attrs[j], "RFC822.SIZE") == 0) {
				check(buf_printf(&out, "RFC822.SIZE %" PRIu64,
				    mime_msg_vsize(m)));
			} else if (fetch_section(a, m, attrs[j], &out) != 0) {
				fprintf(stderr, "mime_probe: bad item %s\n",
				    attrs[j]);
				ret = 1;
				goto out;
			}
		}
		check(buf_append_str(&out, ")\r\n"));
		put(&out);
	}
out:
	buf_deinit(&out);
	arena_destroy(&a);
	return ret;
}

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };

/* "1-Feb-1994" -> days since the epoch */
static int
imap_date_days(const char *s, long *days_r)
{
	int	 d, y, mon;
	char	 m[4];
	struct tm tm;

	if (sscanf(s, "%d-%3s-%d", &d, m, &y) != 3)
		return -1;
	for (mon = 0; mon < 12; mon++)
		if (strcasecmp(m, months[mon]) == 0)
			break;
	if (mon == 12)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = d;
	*days_r = (long)(timegm(&tm) / 86400);
	return 0;
}

static bool
search_one(struct arena *a, const struct mime_msg *m, const char *key,
    const char *val)
{
	static const char *const anames[] = { "from", "sender", "reply-to",
		"to", "cc", "bcc" };
	struct mime_matcher	 mt;
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	const char		*hname = NULL, *d;
	size_t			 i, n;
	long			 want, got;
	time_t			 t;
	int			 tz;
	bool			 is_addr = false;

	if (strncasecmp(key, "sent", 4) == 0) {
		const struct mime_env_raw *e = m->root->env;

		if (imap_date_days(val, &want) != 0)
			return false;
		/* no usable Date: sent at the epoch, as Dovecot has it */
		if (e->date.p == NULL ||
		    mime_date_parse(e->date.p, e->date.len, &t, &tz) != 0) {
			t = 0;
			tz = 0;
		}
		got = (long)((t + (time_t)tz * 60) / 86400);
		if (strcasecmp(key, "sentbefore") == 0)
			return got < want;
		if (strcasecmp(key, "senton") == 0)
			return got == want;
		return got >= want;
	}
	mime_matcher_init(&mt, a, val, strlen(val));
	if (strcasecmp(key, "body") == 0)
		return mime_body_match(&mt, a, m);
	if (strcasecmp(key, "text") == 0) {
		if (mime_body_match(&mt, a, m))
			return true;
		mime_hdr_iter_init(&it, m, m->root);
		while (mime_hdr_iter_next(&it, &name, &v)) {
			if (v.p == NULL)
				continue;
			d = mime_header_decode(a, v.p, v.len, &n);
			if (mime_matcher_match(&mt, a, d, n))
				return true;
		}
		return false;
	}
	if (strcasecmp(key, "subject") == 0)
		hname = "subject";
	else if (strncasecmp(key, "header-", 7) == 0)
		hname = key + 7;
	for (i = 0; i < sizeof(anames) / sizeof(anames[0]); i++)
		if (strcasecmp(key, anames[i]) == 0) {
			hname = anames[i];
			is_addr = true;
		}
	if (hname == NULL)
		return false;
	mime_hdr_iter_init(&it, m, m->root);
	while (mime_hdr_iter_next(&it, &name, &v)) {
		if (v.p == NULL || strnlen(name.p, name.len) != strlen(hname) ||
		    strncasecmp(name.p, hname, strlen(hname)) != 0)
			continue;
		if (is_addr) {
			if (mime_addr_match(&mt, a, v.p, v.len))
				return true;
			continue;
		}
		d = mime_header_decode(a, v.p, v.len, &n);
		if (mime_matcher_match(&mt, a, d, n))
			return true;
	}
	return false;
}

static int
do_search(struct file *files, int nfiles, const char *spec)
{
	struct arena	*a;
	const char	*colon = strchr(spec, ':');
	char		 key[64];
	int		 i;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(key))
		return 1;
	a = arena_create(65536);
	memcpy(key, spec, (size_t)(colon - spec));
	key[colon - spec] = '\0';
	printf("* SEARCH");
	for (i = 0; i < nfiles; i++) {
		arena_reset(a);
		if (search_one(a, mime_parse(a, files[i].data, files[i].len),
		    key, colon + 1))
			printf(" %d", i + 1);
	}
	printf("\r\n");
	arena_destroy(&a);
	return 0;
}

static int
do_time(struct file *files, int nfiles, int rounds)
{
	struct arena	*a = arena_create(65536);
	struct buf	 out;
	struct timespec	 t0, t1;
	struct mime_msg	*m;
	uint64_t	 bytes = 0, parts = 0, outlen = 0;
	int		 i, r;

	buf_init(&out, NULL, OUT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nfiles; i++) {
			arena_reset(a);
			m = mime_parse(a, files[i].data, files[i].len);
			check(imap_bodystructure_write(&out, a, m->root, true));
			bytes += files[i].len;
			parts += m->nparts;
			outlen += out.len;
			buf_clear(&out);
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("messages=%d rounds=%d bytes=%" PRIu64 " parts=%" PRIu64
	    " bodystructure_bytes=%" PRIu64 " seconds=%.3f\n", nfiles, rounds,
	    bytes, parts, outlen, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	buf_deinit(&out);
	arena_destroy(&a);
	return 0;
}

int
main(int argc, char **argv)
{
	char		**attrs = xcalloc((size_t)argc + 1, sizeof(*attrs));
	struct file	*files = xcalloc((size_t)argc + 1, sizeof(*files));
	const char	*search = NULL;
	int		 nattrs = 0, nfiles = 0, rounds = 1, i, opt, ret;
	bool		 timing = false;

	while ((opt = getopt(argc, argv, "a:s:tn:")) != -1) {
		switch (opt) {
		case 'a':
			attrs[nattrs++] = optarg;
			break;
		case 's':
			search = optarg;
			break;
		case 't':
			timing = true;
			break;
		case 'n':
			rounds = (int)strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: mime_probe [-a ATTR]... | "
			    "-s KEY:VALUE | -t [-n N]  FILE...\n");
			ret = 1;
			goto out;
		}
	}
	for (i = optind; i < argc; i++) {
		files[nfiles].path = argv[i];
		if (map_file(&files[nfiles++]) != 0) {
			ret = 1;
			goto out;
		}
	}
	if (timing)
		ret = do_time(files, nfiles, rounds < 1 ? 1 : rounds);
	else if (search != NULL)
		ret = do_search(files, nfiles, search);
	else
		ret = do_fetch(files, nfiles, attrs, nattrs);
out:
	free(attrs);
	free(files);
	return ret;
}
