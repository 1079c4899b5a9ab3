/* test_keywords.c - core/mail/keywords.c: keyword name rules (length at
 * 50/51, every atom-special), dovecot-keywords parsing as Dovecot reads
 * it (a file Dovecot 2.3 wrote, damaged lines, later-line-wins,
 * duplicates, names that are no keywords), formatting byte for byte,
 * info letters <-> flags (ASCII order, unknown letters kept, the 64-byte
 * limit at N and N+1), and assigning letters in a mkdtemp() folder: the
 * 26th keyword fits, the 27th is KEYWORDS_ERR_FULL, 'avoid', case-
 * insensitive reuse, the uidlist dotlock (held, stale), the growing
 * mtime, files that are too big or symbolic links. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/compat.h"
#include "aviary/keywords.h"
#include "aviary/mem.h"
#include "aviary/uidlist.h"

/* What Dovecot 2.3.19 wrote after APPEND ($Label1 foo) and STORE
 * +FLAGS (bar $Forwarded); the file name had ":2,DFRSTabcd". */
static const char dovecot_file[] = "0 $Label1\n1 foo\n2 bar\n3 $Forwarded\n";

struct fx {
	char		 dir[64];
	int		 dfd;
	struct arena	*a;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_keywords.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->dfd = open(fx->dir, O_RDONLY | O_DIRECTORY);
	assert_true(fx->dfd >= 0);
	fx->a = arena_create(4096);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	(void)unlinkat(fx->dfd, KEYWORDS_FILE_NAME, 0);
	(void)unlinkat(fx->dfd, KEYWORDS_LOCK_NAME, 0);
	(void)unlinkat(fx->dfd, UIDLIST_LOCK_NAME, 0);
	(void)close(fx->dfd);
	assert_int_equal(rmdir(fx->dir), 0);	/* nothing else was left */
	arena_destroy(&fx->a);
	free(fx);
	return 0;
}

static void
put(const struct fx *fx, const char *name, const char *body, size_t len)
{
	int fd = openat(fx->dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static char *
slurp(const struct fx *fx, const char *name)
{
	char	*out = arena_alloc(fx->a, 4096);
	ssize_t	 n;
	int	 fd = openat(fx->dfd, name, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, out, 4095);
	assert_true(n >= 0);
	out[n] = '\0';
	(void)close(fd);
	return out;
}

static bool
exists(const struct fx *fx, const char *name)
{
	struct stat st;

	return fstatat(fx->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* --- names --- */

static void
test_name_valid(void **state)
{
	static const struct {
		const char	*name;
		bool		 ok;
	} cases[] = {
		{ "foo", true }, { "$Forwarded", true }, { "$MDNSent", true },
		{ "Junk", true }, { "a[b", true }, { "a.b-c_d", true },
		{ "", false }, { "\\Seen", false }, { "a b", false },
		{ "a(b", false }, { "a)b", false }, { "a{b", false },
		{ "a%b", false }, { "a*b", false }, { "a\"b", false },
		{ "a\\b", false }, { "a]b", false }, { "a\tb", false },
		{ "a\x7f", false }, { "\xc3\xa9t\xc3\xa9", false },
	};
	char		 name[KEYWORDS_NAME_MAX + 2];
	const char	*err = NULL;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		if (keywords_name_valid(cases[i].name, &err) != cases[i].ok)
			fail_msg("\"%s\": wrong verdict", cases[i].name);
	assert_false(keywords_name_valid("\xc3\xa9", &err));
	assert_string_equal(err, "8bit characters in keyword");
	assert_false(keywords_name_valid("", &err));
	assert_string_equal(err, "Empty keywords not allowed");
	/* The length limit at N and N+1. */
	memset(name, 'k', KEYWORDS_NAME_MAX);
	name[KEYWORDS_NAME_MAX] = '\0';
	assert_true(keywords_name_valid(name, NULL));
	name[KEYWORDS_NAME_MAX] = 'k';
	name[KEYWORDS_NAME_MAX + 1] = '\0';
	assert_false(keywords_name_valid(name, &err));
	assert_string_equal(err, "Keyword length too long");
}

/* --- parsing --- */

static void
test_parse_dovecot(void **state)
{
	struct fx	*fx = *state;
	struct keywords	 kw;
	struct buf	 b;
	const char	*err = "unset";

	assert_int_equal(keywords_parse(dovecot_file, strlen(dovecot_file),
	    fx->a, &kw, &err), 0);
	assert_null(err);
	assert_int_equal(kw.used, 0xf);
	assert_int_equal(kw.valid, 0xf);
	assert_string_equal(keywords_name(&kw, 0), "$Label1");
	assert_string_equal(keywords_name(&kw, 3), "$Forwarded");
	assert_null(keywords_name(&kw, 4));
	assert_null(keywords_name(&kw, 26));
	assert_int_equal(keywords_lookup(&kw, "foo"), 1);
	assert_int_equal(keywords_lookup(&kw, "FOO"), 1);	/* Dovecot */
	assert_int_equal(keywords_lookup(&kw, "$forwarded"), 3);
	assert_int_equal(keywords_lookup(&kw, "baz"), -1);
	buf_init(&b, fx->a, 4096);
	assert_int_equal(keywords_format(&kw, &b), 0);
	assert_string_equal(buf_cstr(&b), dovecot_file);
	/* The ceiling at N and N-1. */
	buf_init(&b, fx->a, strlen(dovecot_file));
	assert_int_equal(keywords_format(&kw, &b), 0);
	buf_init(&b, fx->a, strlen(dovecot_file) - 1);
	assert_int_equal(keywords_format(&kw, &b), BUF_EFULL);
	assert_int_equal(b.len, 0);
	/* Empty text: empty table, clean. */
	assert_int_equal(keywords_parse("", 0, fx->a, &kw, &err), 0);
	assert_int_equal(kw.used, 0);
}

static void
test_parse_damaged(void **state)
{
	static const struct {
		const char	*text;
		uint32_t	 used, valid;
		int		 rc;
	} cases[] = {
		{ "0 a\n\n1 b\n", 0x3, 0x3, 0 },	/* blank line is fine */
		{ "0 a\n1 b", 0x3, 0x3, 0 },		/* no final LF */
		{ "x foo\n1 b\n", 0x2, 0x2, -1 },	/* bad index */
		{ "26 z\n25 y\n", 1u << 25, 1u << 25, -1 },	/* 26: no */
		{ "-1 a\n", 0, 0, -1 },
		{ " 5 a\n", 0, 0, -1 },
		{ "0\n1 b\n", 0x2, 0x2, -1 },		/* no name */
		{ "0 \n", 0, 0, -1 },			/* empty name */
		{ "0 a\n0 b\n", 0x1, 0x1, 0 },		/* later line wins */
		{ "0 a\n1 A\n", 0x3, 0x1, -1 },		/* duplicate name */
		{ "0 a b\n1 \\x\n2 c\r\n", 0x7, 0, 0 },	/* not keywords */
		{ "0 a\0b\n1 c\n", 0x2, 0x2, -1 },	/* NUL */
		{ "99999999999999999999999 a\n", 0, 0, -1 },
	};
	struct keywords	 kw;
	const char	*err;
	size_t		 i, len;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct arena *a = arena_create(1024);

		len = strlen(cases[i].text);
		if (i == 11)
			len = 10;	/* the embedded NUL case */
		if (keywords_parse(cases[i].text, len, a, &kw, &err) !=
		    cases[i].rc || kw.used != cases[i].used ||
		    kw.valid != cases[i].valid)
			fail_msg("case %zu: used %x valid %x", i,
			    (unsigned)kw.used, (unsigned)kw.valid);
		arena_destroy(&a);
	}
	/* The later line won, and an unusable name blocks its letter. */
	{
		struct arena *a = arena_create(1024);

		assert_int_equal(keywords_parse("0 a\n0 b\n2 x y\n", 14, a,
		    &kw, &err), 0);
		assert_string_equal(keywords_name(&kw, 0), "b");
		assert_null(keywords_name(&kw, 2));
		assert_int_equal(keywords_lookup(&kw, "x y"), -1);
		arena_destroy(&a);
	}
}

/* --- info letters --- */

static void
test_info(void **state)
{
	static const struct {
		const char	*info;
		unsigned	 sys;
		uint32_t	 kw;
	} parse[] = {
		{ "", 0, 0 },
		{ "S", MAIL_FLAG_SEEN, 0 },
		{ "DFPRST", MAIL_FLAGS_ALL, 0 },
		{ "DFRSTabcd", MAIL_FLAGS_ALL & ~MAIL_FLAG_PASSED, 0xf },
		{ "Saz", MAIL_FLAG_SEEN, 1u | (1u << 25) },
		{ "Sa,Sb", MAIL_FLAG_SEEN, 1 },		/* ",Sb" ignored */
		{ "Z9S", MAIL_FLAG_SEEN, 0 },		/* unknown letters */
	};
	static const struct {
		unsigned	 sys;
		uint32_t	 kw;
		const char	*old, *want;
	} make[] = {
		{ 0, 0, NULL, "" },
		{ MAIL_FLAG_SEEN | MAIL_FLAG_DRAFT, 0, NULL, "DS" },
		{ MAIL_FLAGS_ALL, 0x3ffffff, "",
		  "DFPRSTabcdefghijklmnopqrstuvwxyz" },
		{ MAIL_FLAG_SEEN | MAIL_FLAG_DRAFT, 0x5, "ZSb,xyz",
		  "DSZac,xyz" },	/* Z kept in place, b dropped */
		{ 0, 0, "S", "" },
		{ MAIL_FLAG_FLAGGED, 0, "9/S", "9F" },	/* '/' never */
		{ MAIL_FLAG_SEEN, 0, "SS", "S" },
	};
	char		 out[KEYWORDS_INFO_SIZE], old[KEYWORDS_INFO_SIZE + 1];
	unsigned	 sys;
	uint32_t	 kw;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(parse); i++) {
		keywords_info_parse(parse[i].info, &sys, &kw);
		if (sys != parse[i].sys || kw != parse[i].kw)
			fail_msg("parse \"%s\"", parse[i].info);
	}
	keywords_info_parse("S", NULL, NULL);
	for (i = 0; i < N_ELEMENTS(make); i++) {
		assert_int_equal(keywords_info_make(make[i].sys, make[i].kw,
		    make[i].old, out), 0);
		assert_string_equal(out, make[i].want);
	}
	/* The 64-byte limit at N and N+1: "S" and a tail. */
	old[0] = 'S';
	old[1] = ',';
	memset(old + 2, 'x', 62);
	old[64] = '\0';				/* 64 bytes */
	assert_int_equal(keywords_info_make(MAIL_FLAG_SEEN, 0, old, out), 0);
	assert_string_equal(out, old);
	old[64] = 'x';
	old[65] = '\0';				/* 65 bytes */
	assert_int_equal(keywords_info_make(MAIL_FLAG_SEEN, 0, old, out), -1);
	assert_string_equal(out, "");
}

static void
test_sysflags(void **state)
{
	(void)state;
	assert_string_equal(keywords_sysflag_name(MAIL_FLAG_SEEN), "\\Seen");
	assert_string_equal(keywords_sysflag_name(MAIL_FLAG_DELETED),
	    "\\Deleted");
	assert_string_equal(keywords_sysflag_name(MAIL_FLAG_ANSWERED),
	    "\\Answered");
	assert_null(keywords_sysflag_name(MAIL_FLAG_PASSED));
	assert_null(keywords_sysflag_name(MAIL_FLAG_SEEN | MAIL_FLAG_DRAFT));
	assert_int_equal(keywords_sysflag_parse("\\Seen"), MAIL_FLAG_SEEN);
	assert_int_equal(keywords_sysflag_parse("\\fLaGgEd"),
	    MAIL_FLAG_FLAGGED);
	assert_int_equal(keywords_sysflag_parse("\\Draft"), MAIL_FLAG_DRAFT);
	assert_int_equal(keywords_sysflag_parse("\\Recent"), 0);
	assert_int_equal(keywords_sysflag_parse("Seen"), 0);
	assert_int_equal(keywords_sysflag_parse("\\Passed"), 0);
}

/* --- assigning in a folder --- */

static void
test_assign(void **state)
{
	struct fx		*fx = *state;
	static const char *const two[] = { "foo", "bar" };
	static const char *const again[] = { "BAR", "baz" };
	static const char *const one[] = { "qux" };
	static const char *const bad[] = { "ok", "no way" };
	struct keywords		 kw;
	const char		*err = NULL;
	uint32_t		 mask = 0;

	assert_int_equal(keywords_read(fx->dfd, fx->dir, fx->a, &kw, &err), 0);
	assert_int_equal(kw.used, 0);	/* no file: empty */
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, two, 2, 0, 0,
	    fx->a, &kw, &mask, &err), 0);
	assert_int_equal(mask, 0x3);
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME), "0 foo\n1 bar\n");
	/* Known names (any case) keep their letter; a new one gets the
	 * lowest free index. */
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, again, 2, 0, 0,
	    fx->a, &kw, &mask, &err), 0);
	assert_int_equal(mask, 0x6);
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME),
	    "0 foo\n1 bar\n2 baz\n");
	assert_string_equal(keywords_name(&kw, 2), "baz");
	/* Letters messages carry without a name are not handed out. */
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, one, 1, 0x18, 0,
	    fx->a, NULL, &mask, &err), 0);
	assert_int_equal(mask, 1u << 5);
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME),
	    "0 foo\n1 bar\n2 baz\n5 qux\n");
	/* One invalid name: nothing changes. */
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, bad, 2, 0, 0,
	    fx->a, NULL, &mask, &err), KEYWORDS_ERR_INVALID);
	assert_string_equal(err, "Invalid characters in keyword");
	assert_int_equal(keywords_lookup(&kw, "ok"), -1);
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME),
	    "0 foo\n1 bar\n2 baz\n5 qux\n");
	assert_false(exists(fx, KEYWORDS_LOCK_NAME));
	assert_false(exists(fx, UIDLIST_LOCK_NAME));
	/* A Dovecot file is read as Dovecot wrote it. */
	put(fx, KEYWORDS_FILE_NAME, dovecot_file, strlen(dovecot_file));
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, two, 2, 0, 0,
	    fx->a, &kw, &mask, &err), 0);
	assert_int_equal(mask, 0x6);
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME), dovecot_file);
}

/* 26 keywords fit, the 27th does not, and the file is left alone. */
static void
test_assign_full(void **state)
{
	struct fx	*fx = *state;
	const char	*names[KEYWORDS_MAX + 1], *err = NULL, *before;
	uint32_t	 mask = 0;
	size_t		 i;

	for (i = 0; i <= KEYWORDS_MAX; i++)
		names[i] = arena_printf(fx->a, "kw%zu", i);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, names,
	    KEYWORDS_MAX + 1, 0, 0, fx->a, NULL, &mask, &err),
	    KEYWORDS_ERR_FULL);
	assert_false(exists(fx, KEYWORDS_FILE_NAME));	/* all or nothing */
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, names,
	    KEYWORDS_MAX, 0, 0, fx->a, NULL, &mask, &err), 0);
	assert_int_equal(mask, 0x3ffffff);
	before = slurp(fx, KEYWORDS_FILE_NAME);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir,
	    names + KEYWORDS_MAX, 1, 0, 0, fx->a, NULL, &mask, &err),
	    KEYWORDS_ERR_FULL);
	assert_string_equal(err, "Too many keywords in this folder");
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME), before);
	/* Known ones still resolve when full. */
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, names + 25, 1, 0, 0,
	    fx->a, NULL, &mask, &err), 0);
	assert_int_equal(mask, 1u << 25);
	/* With 25 letters used and one more avoided: full at 25. */
	(void)unlinkat(fx->dfd, KEYWORDS_FILE_NAME, 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, names, 25, 0, 0,
	    fx->a, NULL, &mask, &err), 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, names + 25, 1,
	    1u << 25, 0, fx->a, NULL, &mask, &err), KEYWORDS_ERR_FULL);
	assert_false(exists(fx, UIDLIST_LOCK_NAME));
}

static void
test_assign_locks(void **state)
{
	struct fx		*fx = *state;
	static const char *const foo[] = { "foo" };
	static const char *const bar[] = { "bar" };
	struct timespec		 ts[2];
	struct stat		 st;
	const char		*err = NULL;
	uint32_t		 mask = 0;
	time_t			 future = time(NULL) + 1000;

	assert_int_equal(keywords_assign(fx->dfd, fx->dir, foo, 1, 0, 0,
	    fx->a, NULL, &mask, &err), 0);
	/* Someone holds the uidlist lock: known names need no lock, a new
	 * one waits and gives up. */
	put(fx, UIDLIST_LOCK_NAME, "", 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, foo, 1, 0, 0,
	    fx->a, NULL, &mask, &err), 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, bar, 1, 0, 100,
	    fx->a, NULL, &mask, &err), KEYWORDS_ERR_TEMP);
	assert_string_equal(err, "uidlist locked");
	assert_true(exists(fx, UIDLIST_LOCK_NAME));	/* not ours */
	/* A stale lock is broken. */
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - UIDLIST_LOCK_STALE_SECS - 5;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(fx->dfd, UIDLIST_LOCK_NAME, ts, 0), 0);
	/* Dovecot rereads by mtime: it must grow even when the old one is
	 * ahead of the clock. */
	ts[0].tv_sec = ts[1].tv_sec = future;
	assert_int_equal(utimensat(fx->dfd, KEYWORDS_FILE_NAME, ts, 0), 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir, bar, 1, 0, 0,
	    fx->a, NULL, &mask, &err), 0);
	assert_int_equal(mask, 0x2);
	assert_false(exists(fx, UIDLIST_LOCK_NAME));
	assert_int_equal(fstatat(fx->dfd, KEYWORDS_FILE_NAME, &st, 0), 0);
	assert_true(st.st_mtime > future);
	/* A leftover keywords lock (uidlist lock free) is waited for, then
	 * broken when stale. */
	put(fx, KEYWORDS_LOCK_NAME, "junk", 4);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - KEYWORDS_LOCK_STALE_SECS - 5;
	assert_int_equal(utimensat(fx->dfd, KEYWORDS_LOCK_NAME, ts, 0), 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir,
	    (const char *const[]){ "baz" }, 1, 0, 0, fx->a, NULL, &mask, &err),
	    0);
	assert_string_equal(slurp(fx, KEYWORDS_FILE_NAME),
	    "0 foo\n1 bar\n2 baz\n");
	/* A fresh one makes a new name wait and fail. */
	put(fx, KEYWORDS_LOCK_NAME, "", 0);
	assert_int_equal(keywords_assign(fx->dfd, fx->dir,
	    (const char *const[]){ "quux" }, 1, 0, 0, fx->a, NULL, &mask, &err),
	    KEYWORDS_ERR_TEMP);
	assert_false(exists(fx, UIDLIST_LOCK_NAME));
}

static void
test_read_errors(void **state)
{
	struct fx	*fx = *state;
	struct keywords	 kw;
	const char	*err = NULL;
	char		*big;

	/* Exactly KEYWORDS_FILE_MAX bytes is read, one more refused. */
	big = arena_alloc(fx->a, KEYWORDS_FILE_MAX + 1);
	memset(big, '\n', KEYWORDS_FILE_MAX + 1);
	memcpy(big, "0 a\n", 4);
	put(fx, KEYWORDS_FILE_NAME, big, KEYWORDS_FILE_MAX);
	assert_int_equal(keywords_read(fx->dfd, fx->dir, fx->a, &kw, &err), 0);
	assert_int_equal(keywords_lookup(&kw, "a"), 0);
	put(fx, KEYWORDS_FILE_NAME, big, KEYWORDS_FILE_MAX + 1);
	assert_int_equal(keywords_read(fx->dfd, fx->dir, fx->a, &kw, &err),
	    KEYWORDS_ERR_TEMP);
	/* A symbolic link is not followed. */
	assert_int_equal(unlinkat(fx->dfd, KEYWORDS_FILE_NAME, 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", fx->dfd, KEYWORDS_FILE_NAME),
	    0);
	assert_int_equal(keywords_read(fx->dfd, fx->dir, fx->a, &kw, &err),
	    KEYWORDS_ERR_TEMP);
	/* A damaged file is read as far as it goes. */
	assert_int_equal(unlinkat(fx->dfd, KEYWORDS_FILE_NAME, 0), 0);
	put(fx, KEYWORDS_FILE_NAME, "junk\n3 x\n", 9);
	assert_int_equal(keywords_read(fx->dfd, fx->dir, fx->a, &kw, &err), 0);
	assert_int_equal(keywords_lookup(&kw, "x"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test_setup_teardown(test_parse_dovecot, setup,
		    teardown),
		cmocka_unit_test(test_parse_damaged),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_sysflags),
		cmocka_unit_test_setup_teardown(test_assign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_assign_locks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
