/* test_uidlist.c - core/mail/uidlist.c: dovecot-uidlist parsing and
 * writing byte for byte (a file in the form Dovecot writes, with
 * extension fields), damage detection, the line and field limits at N
 * and N+1, version 1, the POP3 UIDL format; and folders in a mkdtemp()
 * directory: UID assignment in time order, stability across re-opens,
 * new/ -> cur/ moves and flag changes, rebuilds of a missing or damaged
 * file, expunged records dropped, the dotlock (held, stale), and readers
 * racing with renames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/compat.h"
#include "aviary/uidlist.h"
#include "aviary/mem.h"

#define N1	"1276528487.M364837P9451.kurkku,S=1355,W=1394"
#define N2	"1276528488.M1P9452.kurkku,S=10,W=12"
#define N3	"1276528489.M5P9453.kurkku"

static const char dovecot_file[] =
    "3 V1276528487 N5 G2f0c4a1b9e8d7c6b5a4f3e2d1c0b9a88 X17\n"
    "1 :" N1 "\n"
    "2 W1394 :name2\n"
    "4 GABCDEF P0000abcd W12 S10 :" N2 "\n";

struct fx {
	char		 dir[64];
	struct arena	*a;
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	char p[128];

	assert_non_null(fx);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_uidlist.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(p, sizeof(p), "%s/new", fx->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	(void)snprintf(p, sizeof(p), "%s/cur", fx->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	(void)snprintf(p, sizeof(p), "%s/tmp", fx->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	fx->a = arena_create(4096);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	arena_destroy(&fx->a);
	(void)nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void
put(const struct fx *fx, const char *rel, const char *body)
{
	char	 p[512];
	FILE	*fp;

	(void)snprintf(p, sizeof(p), "%s/%s", fx->dir, rel);
	fp = fopen(p, "w");
	assert_non_null(fp);
	assert_true(fputs(body, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static char *
slurp(const struct fx *fx, const char *rel)
{
	char	 p[512];
	char	*out;
	FILE	*fp;
	long	 n;

	(void)snprintf(p, sizeof(p), "%s/%s", fx->dir, rel);
	fp = fopen(p, "r");
	if (fp == NULL)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	out = arena_alloc(fx->a, (size_t)n + 1);
	assert_int_equal(fread(out, 1, (size_t)n, fp), (size_t)n);
	out[n] = '\0';
	(void)fclose(fp);
	return out;
}

static bool
exists(const struct fx *fx, const char *rel)
{
	char p[512];

	(void)snprintf(p, sizeof(p), "%s/%s", fx->dir, rel);
	return access(p, F_OK) == 0;
}

static struct uidlist_folder *
open_ok(struct fx *fx)
{
	struct uidlist_folder	*f = NULL;
	const char		*err = NULL;

	assert_int_equal(uidlist_folder_open(fx->dir, 0, fx->a, &f, &err), 0);
	assert_non_null(f);
	return f;
}

static uint32_t
uid_of(const struct uidlist_folder *f, const char *basename)
{
	size_t i;

	for (i = 0; i < f->nmsgs; i++)
		if (strcmp(f->msgs[i].basename, basename) == 0)
			return f->msgs[i].uid;
	return 0;
}

static size_t
idx_of(const struct uidlist_folder *f, const char *basename)
{
	size_t i;

	for (i = 0; i < f->nmsgs; i++)
		if (strcmp(f->msgs[i].basename, basename) == 0)
			return i;
	fail_msg("%s not in folder", basename);
	return 0;
}

/* --- pure parsing and writing --- */

static void
test_roundtrip(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_file	 f;
	struct buf		 b;
	const char		*err = "x";

	assert_int_equal(uidlist_parse(dovecot_file, strlen(dovecot_file),
	    fx->a, &f, &err), 0);
	assert_null(err);
	assert_true(f.header_ok);
	assert_int_equal(f.version, 3);
	assert_int_equal(f.uidvalidity, 1276528487u);
	assert_int_equal(f.next_uid, 5);
	assert_string_equal(f.guid, "2f0c4a1b9e8d7c6b5a4f3e2d1c0b9a88");
	assert_int_equal(f.nhdr_fields, 4);
	assert_int_equal(f.nrecs, 3);
	assert_int_equal(f.recs[1].uid, 2);
	assert_int_equal(f.recs[1].nfields, 1);
	assert_string_equal(f.recs[1].fields[0], "W1394");
	assert_string_equal(f.recs[1].basename, "name2");
	assert_int_equal(f.recs[2].nfields, 4);
	assert_string_equal(f.recs[2].basename, N2);

	buf_init(&b, fx->a, 1 << 20);
	assert_int_equal(uidlist_format(&f, &b), 0);
	assert_string_equal(buf_cstr(&b), dovecot_file);
	buf_deinit(&b);
}

static void
test_info_in_name(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_file	 f;
	const char		*err;
	static const char	 in[] = "3 V1 N3\n1 :a.b.c:2,S\n2 :x\n";

	assert_int_equal(uidlist_parse(in, strlen(in), fx->a, &f, &err), 0);
	assert_string_equal(f.recs[0].name, "a.b.c:2,S");
	assert_string_equal(f.recs[0].basename, "a.b.c");
}

static void
test_version1(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_file	 f;
	struct buf		 b;
	const char		*err;
	static const char	 in[] = "1 1000 7\n3 a.b\n6 c.d:2,S\n";

	assert_int_equal(uidlist_parse(in, strlen(in), fx->a, &f, &err), 0);
	assert_int_equal(f.version, 1);
	assert_int_equal(f.uidvalidity, 1000);
	assert_int_equal(f.next_uid, 7);
	assert_int_equal(f.nrecs, 2);
	assert_string_equal(f.recs[1].basename, "c.d");
	f.guid = "00";
	buf_init(&b, fx->a, 4096);
	assert_int_equal(uidlist_format(&f, &b), 0);
	assert_string_equal(buf_cstr(&b),
	    "3 V1000 N7 G00\n3 :a.b\n6 :c.d:2,S\n");
	buf_deinit(&b);
	/* v1: a UID at or beyond next_uid is corruption */
	assert_int_equal(uidlist_parse("1 1000 3\n3 a\n", 13, fx->a, &f,
	    &err), -1);
}

struct bad_case {
	const char	*name;
	const char	*in;
	bool		 header_ok;
	size_t		 nrecs;
};

static void
test_damaged(void **state)
{
	static const struct bad_case cases[] = {
		{ "garbage line", "3 V9 N3\n1 :a\ngarbage\n2 :b\n", true, 2 },
		{ "uid 0", "3 V9 N3\n0 :a\n2 :b\n", true, 1 },
		{ "decreasing", "3 V9 N9\n5 :a\n2 :b\n", true, 1 },
		{ "equal", "3 V9 N9\n5 :a\n5 :b\n", true, 1 },
		{ "slash", "3 V9 N9\n1 :a/b\n2 :b\n", true, 1 },
		{ "empty name", "3 V9 N9\n1 :\n", true, 0 },
		{ "no colon", "3 V9 N9\n1 W3 a\n", true, 0 },
		{ "lower key", "3 V9 N9\n1 w3 :a\n", true, 0 },
		{ "unterminated", "3 V9 N9\n1 :a\n2 :b", true, 1 },
		{ "nul", "3 V9 N9\n1 :a\0b\n", true, 0 },
		{ "uid too big", "3 V9 N9\n4294967295 :a\n", true, 0 },
		{ "version 2", "2 V9 N9\n1 :a\n", false, 0 },
		{ "no V", "3 N9\n1 :a\n", false, 1 },
		{ "bad V", "3 Vx N9\n1 :a\n", false, 1 },
		{ "empty", "", false, 0 },
	};
	struct fx	*fx = *state;
	size_t		 i, len;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct uidlist_file	 f;
		const char		*err = NULL;

		len = strcmp(cases[i].name, "nul") == 0 ? 15 :
		    strlen(cases[i].in);
		if (uidlist_parse(cases[i].in, len, fx->a, &f, &err) != -1)
			fail_msg("%s: not damaged", cases[i].name);
		assert_non_null(err);
		if (f.header_ok != cases[i].header_ok ||
		    f.nrecs != cases[i].nrecs)
			fail_msg("%s: header_ok %d nrecs %zu", cases[i].name,
			    f.header_ok, f.nrecs);
	}
}

static void
test_next_uid_raised(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_file	 f;
	const char		*err;

	assert_int_equal(uidlist_parse("3 V9 N2\n7 :a\n", 13, fx->a, &f,
	    &err), 0);
	assert_int_equal(f.next_uid, 8);
}

/* A record line of exactly len bytes. */
static const char *
line_of(struct arena *a, size_t len)
{
	const char	*pre = "3 V9 N9\n1 :";
	size_t		 plen = strlen("1 :"), n = len - plen;
	char		*s = arena_alloc(a, strlen(pre) + n + 2);

	memcpy(s, pre, strlen(pre));
	memset(s + strlen(pre), 'x', n);
	s[strlen(pre) + n] = '\n';
	s[strlen(pre) + n + 1] = '\0';
	return s;
}

static const char *
fields_of(struct arena *a, size_t nfields, bool header)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, a, 1 << 16);
	assert_int_equal(buf_append_str(&b, header ? "3 V9 N9" : "3 V9 N9\n1"),
	    0);
	for (i = header ? 2 : 0; i < nfields; i++)
		assert_int_equal(buf_printf(&b, " X%zu", i), 0);
	assert_int_equal(buf_append_str(&b, header ? "\n" : " :a\n"), 0);
	return buf_cstr(&b);
}

static void
test_limits(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_file	 f;
	const char		*err, *s;

	s = line_of(fx->a, UIDLIST_LINE_MAX);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &f, &err), 0);
	assert_int_equal(f.nrecs, 1);
	s = line_of(fx->a, UIDLIST_LINE_MAX + 1);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &f, &err), -1);
	assert_string_equal(err, "line too long");
	assert_int_equal(f.nrecs, 0);

	s = fields_of(fx->a, UIDLIST_FIELDS_MAX, false);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &f, &err), 0);
	assert_int_equal(f.recs[0].nfields, UIDLIST_FIELDS_MAX);
	s = fields_of(fx->a, UIDLIST_FIELDS_MAX + 1, false);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &f, &err), -1);

	s = fields_of(fx->a, UIDLIST_FIELDS_MAX, true);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &f, &err), 0);
	assert_int_equal(f.nhdr_fields, UIDLIST_FIELDS_MAX);
	s = fields_of(fx->a, UIDLIST_FIELDS_MAX + 1, true);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &f, &err), -1);
	assert_false(f.header_ok);
}

static void
test_uidl(void **state)
{
	char out[UIDLIST_UIDL_SIZE];

	(void)state;
	uidlist_uidl_default(1, 0x12345678, out);
	assert_string_equal(out, "0000000112345678");
	uidlist_uidl_default(0xabcdef, 0xffffffffu, out);
	assert_string_equal(out, "00ABCDEFFFFFFFFF");
}

/* --- folders --- */

static void
test_new_files_get_uids(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;
	time_t			 now = time(NULL);

	/* written out of time order: UIDs follow the names' time part */
	put(fx, "new/" N3, "c\n");
	put(fx, "new/" N1, "a\n");
	put(fx, "cur/" N2 ":2,S", "bb\n");
	f = open_ok(fx);
	assert_true(f->rebuilt);
	/* From the home's dovecot-uidvalidity counter (folders.h): the
	 * time at first, then above every value handed out before, so
	 * several folders made in one second differ. */
	assert_true(f->uidvalidity >= (uint32_t)now - 1 &&
	    f->uidvalidity <= (uint32_t)time(NULL) + 1000);
	assert_int_equal(f->nmsgs, 3);
	assert_int_equal(uid_of(f, N1), 1);
	assert_int_equal(uid_of(f, N2), 2);
	assert_int_equal(uid_of(f, N3), 3);
	assert_int_equal(f->next_uid, 4);
	assert_non_null(f->guid);
	assert_int_equal(strlen(f->guid), 32);
	/* sizes: S=/W= from the name, else stat() */
	assert_int_equal(f->msgs[0].size, 1355);
	assert_int_equal(f->msgs[0].vsize, 1394);
	assert_int_equal(f->msgs[0].dir, UIDLIST_DIR_NEW);
	assert_string_equal(f->msgs[1].flags, "S");
	assert_int_equal(f->msgs[1].dir, UIDLIST_DIR_CUR);
	assert_int_equal(f->msgs[2].size, 2);
	assert_false(f->msgs[2].have_vsize);
	assert_true(f->msgs[2].mtime >= now - 1);
	assert_false(exists(fx, UIDLIST_LOCK_NAME));

	put(fx, "new/1276528400.M1P1.late", "d\n");	/* older name, new */
	f = open_ok(fx);
	assert_int_equal(uid_of(f, "1276528400.M1P1.late"), 4);
	assert_int_equal(f->next_uid, 5);
	assert_false(f->rebuilt);
	assert_int_equal(uid_of(f, N1), 1);
}

static void
test_stable_across_moves(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;
	const char		*before, *err = NULL;
	uint32_t		 uidv;
	size_t			 i;

	put(fx, "new/" N1, "a\n");
	put(fx, "new/" N2, "b\n");
	f = open_ok(fx);
	uidv = f->uidvalidity;
	before = slurp(fx, UIDLIST_FILE_NAME);
	assert_non_null(before);

	i = idx_of(f, N1);
	assert_int_equal(uidlist_folder_msg_to_cur(f, i, &err), 1);
	assert_int_equal(f->msgs[i].dir, UIDLIST_DIR_CUR);
	assert_string_equal(f->msgs[i].name, N1 ":2,");
	assert_true(exists(fx, "cur/" N1 ":2,"));
	assert_int_equal(uidlist_folder_msg_to_cur(f, i, &err), 1);
	i = idx_of(f, N2);
	assert_int_equal(uidlist_folder_msg_set_flags(f, i, "FS", &err), 1);
	assert_true(exists(fx, "cur/" N2 ":2,FS"));
	assert_int_equal(uidlist_folder_msg_set_flags(f, i, "S", &err), 1);
	assert_true(exists(fx, "cur/" N2 ":2,S"));
	assert_false(exists(fx, "cur/" N2 ":2,FS"));
	assert_int_equal(uidlist_folder_msg_set_flags(f, i, "a/b", &err), -1);

	f = open_ok(fx);
	assert_int_equal(f->uidvalidity, uidv);
	assert_int_equal(uid_of(f, N1), 1);
	assert_int_equal(uid_of(f, N2), 2);
	assert_string_equal(f->msgs[1].flags, "S");
	/* nothing new: the file was not rewritten */
	assert_string_equal(slurp(fx, UIDLIST_FILE_NAME), before);
	assert_string_equal(uidlist_folder_msg_uidl(f, 0),
	    arena_printf(fx->a, "00000001%08X", uidv));
}

static void
test_existing_dovecot_file(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;
	const char		*s;

	put(fx, UIDLIST_FILE_NAME, dovecot_file);
	put(fx, "cur/" N1 ":2,S", "a\n");
	put(fx, "cur/" N2 ":2,", "b\n");
	f = open_ok(fx);	/* all known: no rewrite */
	assert_string_equal(slurp(fx, UIDLIST_FILE_NAME), dovecot_file);
	assert_int_equal(f->uidvalidity, 1276528487u);
	assert_int_equal(uid_of(f, N1), 1);
	assert_int_equal(uid_of(f, N2), 4);
	assert_string_equal(uidlist_folder_msg_uidl(f, 1), "0000abcd");
	assert_string_equal(uidlist_folder_msg_uidl(f, 0),
	    "000000014C164767");

	/* a new file: rewritten, name2 (no file) expunged, unknown
	 * fields kept, the new UID is N */
	put(fx, "new/" N3, "c\n");
	f = open_ok(fx);
	assert_int_equal(uid_of(f, N3), 5);
	s = slurp(fx, UIDLIST_FILE_NAME);
	assert_string_equal(s,
	    "3 V1276528487 N6 G2f0c4a1b9e8d7c6b5a4f3e2d1c0b9a88 X17\n"
	    "1 :" N1 "\n"
	    "4 GABCDEF P0000abcd W12 S10 :" N2 "\n"
	    "5 :" N3 "\n");
}

static void
test_missing_rebuilt(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;
	const char		*s;
	struct uidlist_file	 pf;
	const char		*err;
	int			 i;

	for (i = 0; i < 20; i++)
		put(fx, arena_printf(fx->a, "cur/%d.M%dP1.h,S=2:2,S",
		    1700000000 + i % 5, i), "x\n");
	f = open_ok(fx);
	assert_true(f->rebuilt);
	assert_int_equal(f->nmsgs, 20);
	assert_int_equal(f->next_uid, 21);
	for (i = 0; i < 20; i++)
		assert_int_equal(f->msgs[i].uid, (uint32_t)i + 1);
	s = slurp(fx, UIDLIST_FILE_NAME);
	assert_int_equal(uidlist_parse(s, strlen(s), fx->a, &pf, &err), 0);
	assert_int_equal(pf.nrecs, 20);
	assert_int_equal(pf.uidvalidity, f->uidvalidity);
}

static void
test_garbage_keeps_uidvalidity(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;
	const char		*s;

	put(fx, UIDLIST_FILE_NAME,
	    "3 V12345 N8 Gabc\n3 :" N1 "\nthis is garbage\n7 :" N2 "\n");
	put(fx, "cur/" N1 ":2,S", "a\n");
	put(fx, "new/" N2, "b\n");
	put(fx, "new/" N3, "c\n");
	f = open_ok(fx);
	assert_true(f->rebuilt);
	assert_int_equal(f->uidvalidity, 12345);
	assert_int_equal(uid_of(f, N1), 3);
	assert_int_equal(uid_of(f, N2), 7);
	assert_int_equal(uid_of(f, N3), 8);	/* >= next_uid */
	assert_int_equal(f->next_uid, 9);
	s = slurp(fx, UIDLIST_FILE_NAME);
	assert_string_equal(s, "3 V12345 N9 Gabc\n3 :" N1 "\n7 :" N2 "\n8 :"
	    N3 "\n");
}

static void
test_bad_header_rebuilt(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;

	put(fx, UIDLIST_FILE_NAME, "2 junk\n1 :" N1 "\n");
	put(fx, "new/" N1, "a\n");
	f = open_ok(fx);
	assert_true(f->rebuilt);
	assert_true(f->uidvalidity > 1000000);
	assert_int_equal(uid_of(f, N1), 1);
}

static void
set_age(const struct fx *fx, const char *rel, time_t age)
{
	struct timespec	ts[2];
	char		p[512];

	(void)snprintf(p, sizeof(p), "%s/%s", fx->dir, rel);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void
test_lock(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f = NULL;
	const char		*err = NULL;
	struct timespec		 t0, t1;
	long			 ms;

	put(fx, "new/" N1, "a\n");
	f = open_ok(fx);
	put(fx, UIDLIST_LOCK_NAME, "");		/* another writer */
	/* nothing to assign: readers need no lock */
	f = open_ok(fx);
	assert_int_equal(f->nmsgs, 1);

	put(fx, "new/" N2, "b\n");
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(uidlist_folder_open(fx->dir, 200, fx->a, &f, &err),
	    -1);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	assert_true(ms >= 190 && ms < 5000);
	assert_string_equal(err, "uidlist locked");
	assert_true(exists(fx, UIDLIST_LOCK_NAME));	/* not ours */
	assert_int_equal(uidlist_folder_open(fx->dir, 0, fx->a, &f, &err),
	    -1);

	/* 120 s is not yet stale, 121 s is */
	set_age(fx, UIDLIST_LOCK_NAME, UIDLIST_LOCK_STALE_SECS - 2);
	assert_int_equal(uidlist_folder_open(fx->dir, 0, fx->a, &f, &err),
	    -1);
	set_age(fx, UIDLIST_LOCK_NAME, UIDLIST_LOCK_STALE_SECS + 1);
	f = open_ok(fx);
	assert_false(exists(fx, UIDLIST_LOCK_NAME));
	assert_int_equal(uid_of(f, N2), 2);
}

static void
test_reader_races_rename(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f;
	const char		*err = NULL;
	char			 a[512], b[512], buf[8];
	size_t			 i;
	int			 fd = -1;

	put(fx, "new/" N1, "hello\n");
	put(fx, "new/" N2, "b\n");
	f = open_ok(fx);
	i = idx_of(f, N1);
	/* another process moves it to cur/ with flags */
	(void)snprintf(a, sizeof(a), "%s/new/" N1, fx->dir);
	(void)snprintf(b, sizeof(b), "%s/cur/" N1 ":2,RS", fx->dir);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(uidlist_folder_msg_open(f, i, &fd, &err), 1);
	assert_int_equal(read(fd, buf, 5), 5);
	assert_memory_equal(buf, "hello", 5);
	(void)close(fd);
	assert_int_equal(f->msgs[i].dir, UIDLIST_DIR_CUR);
	assert_string_equal(f->msgs[i].flags, "RS");

	/* and again, then we change flags on the stale name */
	(void)snprintf(a, sizeof(a), "%s/cur/" N1 ":2,S", fx->dir);
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(uidlist_folder_msg_set_flags(f, i, "ST", &err), 1);
	assert_true(exists(fx, "cur/" N1 ":2,ST"));

	/* expunged by another process */
	i = idx_of(f, N2);
	(void)snprintf(a, sizeof(a), "%s/new/" N2, fx->dir);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(uidlist_folder_msg_open(f, i, &fd, &err), 0);
	assert_int_equal(uidlist_folder_msg_set_flags(f, i, "S", &err), 0);

	f = open_ok(fx);
	assert_int_equal(f->nmsgs, 1);
	assert_int_equal(uid_of(f, N1), 1);
	assert_int_equal(uidlist_folder_find(f, 1, &i), 1);
	assert_int_equal(uidlist_folder_find(f, 2, &i), 0);
}

static void
test_missing_folder(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*f = NULL;
	const char		*err = NULL;

	assert_int_equal(uidlist_folder_open(arena_printf(fx->a, "%s/nope",
	    fx->dir), 0, fx->a, &f, &err), -1);
	assert_non_null(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_info_in_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_version1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_uid_raised, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test(test_uidl),
		cmocka_unit_test_setup_teardown(test_new_files_get_uids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stable_across_moves,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_dovecot_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_rebuilt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage_keeps_uidvalidity,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header_rebuilt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_races_rename,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_folder, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
