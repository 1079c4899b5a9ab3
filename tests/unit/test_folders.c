/* test_folders.c - core/mail/folders.c in mkdtemp() mail roots: the name
 * rules (length 254/255, depth 32/33, mUTF-7 strict for new names and
 * lenient for existing ones, INBOX in any case), the on-disk layout of
 * CREATE (a Dovecot-like tree, checked against what Dovecot 2.3.19
 * made), which directories LIST shows, non-existent parents, LIST
 * pattern matching and its prefix search over 5000 folders, DELETE with
 * children, RENAME with children and subscriptions (conflicts undo
 * nothing half-way), RENAME INBOX, the subscriptions file in both
 * versions, special-use folders, and the dovecot-uidvalidity counter
 * (Dovecot's token protocol, wrap-around, and four processes racing). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/compat.h"
#include "aviary/folders.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"
#include "aviary/uidlist.h"

struct fx {
	char		 root[64];
	const char	*home;
	struct arena	*a;
	struct folders	*f;
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
	struct fx	*fx = xcalloc(1, sizeof(*fx));
	const char	*err = NULL;

	(void)snprintf(fx->root, sizeof(fx->root), "/tmp/test_folders.XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	fx->a = arena_create(16384);
	fx->home = arena_printf(fx->a, "%s/example.test/u", fx->root);
	assert_int_equal(maildir_ensure(fx->root, fx->home, NULL, 0, getuid(),
	    getgid(), fx->a, &err), 0);
	assert_int_equal(folders_open(fx->root, fx->home, getuid(), getgid(),
	    fx->a, &fx->f, &err), FOLDERS_OK);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	arena_destroy(&fx->a);
	(void)nftw(fx->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static const char *
hp(const struct fx *fx, const char *rel)
{
	return arena_printf(fx->a, "%s/%s", fx->home, rel);
}

static bool
exists(const struct fx *fx, const char *rel)
{
	struct stat st;

	return lstat(hp(fx, rel), &st) == 0;
}

static void
put(const struct fx *fx, const char *rel, const char *body)
{
	FILE *fp = fopen(hp(fx, rel), "w");

	assert_non_null(fp);
	assert_true(fputs(body, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static char *
slurp(const struct fx *fx, const char *rel)
{
	char	*out = arena_alloc(fx->a, 8192);
	size_t	 n;
	FILE	*fp = fopen(hp(fx, rel), "r");

	if (fp == NULL)
		return NULL;
	n = fread(out, 1, 8191, fp);
	out[n] = '\0';
	(void)fclose(fp);
	return out;
}

static void
mkdirs(const struct fx *fx, const char *rel)
{
	assert_int_equal(mkdir(hp(fx, rel), 0700), 0);
}

/* Entries in home/tmp/ (the work area must be left empty). */
static size_t
tmp_count(const struct fx *fx)
{
	struct dirent	*de;
	DIR		*d = opendir(hp(fx, "tmp"));
	size_t		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	(void)closedir(d);
	return n;
}

/* The list as "name:flags" lines, for whole-list comparisons. Flags:
 * N nonexistent, C children, S subscribed, s subscribed child. */
static const char *
list_str(struct fx *fx, unsigned flags,
    const struct folders_special *sp, size_t nsp)
{
	struct folders_list	 l;
	struct buf		 b;
	const char		*err = NULL;
	size_t			 i;

	assert_int_equal(folders_list(fx->f, flags, sp, nsp, fx->a, &l, &err),
	    FOLDERS_OK);
	buf_init(&b, fx->a, 1 << 20);
	for (i = 0; i < l.n; i++) {
		unsigned fl = l.entries[i].flags;

		assert_int_equal(buf_printf(&b, "%s:%s%s%s%s%s\n",
		    l.entries[i].name,
		    fl & FOLDER_NONEXISTENT ? "N" : "",
		    fl & FOLDER_CHILDREN ? "C" : "",
		    fl & FOLDER_SUBSCRIBED ? "S" : "",
		    fl & FOLDER_SUBSCRIBED_CHILD ? "s" : "",
		    l.entries[i].special != 0 ? "*" : ""), 0);
	}
	return buf_cstr(&b);
}

/* --- names --- */

static void
test_name_check(void **state)
{
	static const struct {
		const char	*name;
		bool		 creating;
		int		 rc;
		const char	*norm;
	} cases[] = {
		{ "INBOX", false, FOLDERS_OK, "INBOX" },
		{ "inbox", false, FOLDERS_OK, "INBOX" },
		{ "Inbox.Sub", true, FOLDERS_OK, "INBOX.Sub" },
		{ "INBOXfoo", false, FOLDERS_OK, "INBOXfoo" },
		{ "A.inbox", false, FOLDERS_OK, "A.inbox" },
		{ "a b", true, FOLDERS_OK, "a b" },
		{ "a*b", true, FOLDERS_OK, "a*b" },	/* as Dovecot */
		{ "a%b", true, FOLDERS_OK, "a%b" },
		{ "R&AOk-sum&AOk-", true, FOLDERS_OK, "R&AOk-sum&AOk-" },
		{ "x&-y", true, FOLDERS_OK, "x&-y" },
		{ "trail.", true, FOLDERS_OK, "trail" },
		{ "&AOl-", false, FOLDERS_OK, "&AOl-" },   /* existing: as is */
		{ "", false, FOLDERS_ERR_INVALID, NULL },
		{ ".", true, FOLDERS_ERR_INVALID, NULL },
		{ ".a", false, FOLDERS_ERR_INVALID, NULL },
		{ "a.", false, FOLDERS_ERR_INVALID, NULL },
		{ "a..", true, FOLDERS_ERR_INVALID, NULL },
		{ "a..b", false, FOLDERS_ERR_INVALID, NULL },
		{ "a/b", false, FOLDERS_ERR_INVALID, NULL },
		{ "~x", false, FOLDERS_ERR_INVALID, NULL },
		{ "a\x01", false, FOLDERS_ERR_INVALID, NULL },
		{ "a\tb", false, FOLDERS_ERR_INVALID, NULL },
		{ "R\xc3\xa9sum\xc3\xa9", false, FOLDERS_ERR_INVALID, NULL },
		{ "&AOl-", true, FOLDERS_ERR_INVALID, NULL },
		{ "&AGE-", true, FOLDERS_ERR_INVALID, NULL },
		{ "Bad&AOk", true, FOLDERS_ERR_INVALID, NULL },
		{ "&AAE-", true, FOLDERS_ERR_INVALID, NULL },	/* control */
		{ "&AIA-", true, FOLDERS_ERR_INVALID, NULL },	/* C1 */
	};
	struct arena	*a = arena_create(4096);
	char		 name[FOLDERS_NAME_MAX + 3];
	const char	*norm, *err = NULL;
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		norm = NULL;
		if (folders_name_check(cases[i].name, cases[i].creating, a,
		    &norm, &err) != cases[i].rc)
			fail_msg("\"%s\": wrong verdict", cases[i].name);
		if (cases[i].norm != NULL)
			assert_string_equal(norm, cases[i].norm);
	}
	assert_int_equal(folders_name_check("a/b", false, a, &norm, &err),
	    FOLDERS_ERR_INVALID);
	assert_string_equal(err,
	    "Invalid mailbox name: Name must not have '/' characters");
	/* Length at N and N+1; with CREATE's trailing '.' dropped first. */
	memset(name, 'n', FOLDERS_NAME_MAX);
	name[FOLDERS_NAME_MAX] = '\0';
	assert_int_equal(folders_name_check(name, true, a, &norm, &err),
	    FOLDERS_OK);
	name[FOLDERS_NAME_MAX] = '.';
	name[FOLDERS_NAME_MAX + 1] = '\0';
	assert_int_equal(folders_name_check(name, true, a, &norm, &err),
	    FOLDERS_OK);
	assert_int_equal(strlen(norm), FOLDERS_NAME_MAX);
	name[FOLDERS_NAME_MAX] = 'n';
	assert_int_equal(folders_name_check(name, false, a, &norm, &err),
	    FOLDERS_ERR_INVALID);
	assert_string_equal(err, "Mailbox name too long");
	/* Depth at N and N+1: "a.a.....a". */
	for (i = 0; i < FOLDERS_DEPTH_MAX; i++) {
		name[2 * i] = 'a';
		name[2 * i + 1] = '.';
	}
	name[2 * FOLDERS_DEPTH_MAX - 1] = '\0';
	assert_int_equal(folders_name_check(name, false, a, &norm, &err),
	    FOLDERS_OK);
	name[2 * FOLDERS_DEPTH_MAX - 1] = '.';
	name[2 * FOLDERS_DEPTH_MAX] = 'a';
	name[2 * FOLDERS_DEPTH_MAX + 1] = '\0';
	assert_int_equal(folders_name_check(name, false, a, &norm, &err),
	    FOLDERS_ERR_INVALID);
	assert_true(folders_is_inbox("iNbOx"));
	assert_false(folders_is_inbox("INBOX.x"));
	arena_destroy(&a);
}

/* --- create and list --- */

static void
test_create(void **state)
{
	struct fx		*fx = *state;
	struct uidlist_folder	*uf;
	const char		*err = NULL, *u, *path;
	unsigned		 v = 0;
	char			 guid[40];

	assert_int_equal(folders_create(fx->f, "A.B.C", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_create(fx->f, "R&AOk-sum&AOk-", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_create(fx->f, "Sent.", fx->a, &err),
	    FOLDERS_OK);
	/* Dovecot's layout: only the leaf directory, with its parts. */
	assert_false(exists(fx, ".A"));
	assert_false(exists(fx, ".A.B"));
	assert_true(exists(fx, ".A.B.C/cur"));
	assert_true(exists(fx, ".A.B.C/new"));
	assert_true(exists(fx, ".A.B.C/tmp"));
	assert_true(exists(fx, ".A.B.C/maildirfolder"));
	assert_true(exists(fx, ".R&AOk-sum&AOk-/cur"));
	assert_true(exists(fx, ".Sent/cur"));
	u = slurp(fx, ".A.B.C/dovecot-uidlist");
	assert_non_null(u);
	assert_int_equal(sscanf(u, "3 V%u N1 G%32[0-9a-f]\n", &v, guid), 2);
	assert_int_equal(strlen(guid), 32);
	assert_true(v > 0);
	assert_int_equal(tmp_count(fx), 0);
	/* uidlist reads it and keeps the UIDVALIDITY. */
	assert_int_equal(folders_path(fx->f, "A.B.C", fx->a, &path, &err),
	    FOLDERS_OK);
	assert_int_equal(uidlist_folder_open(path, 0, fx->a, &uf, &err), 0);
	assert_int_equal(uf->uidvalidity, v);
	assert_false(uf->rebuilt);
	assert_int_equal(folders_path(fx->f, "inbox", fx->a, &path, &err),
	    FOLDERS_OK);
	assert_string_equal(path, fx->home);
	/* Again: exists, in every spelling. */
	assert_int_equal(folders_create(fx->f, "A.B.C", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_string_equal(err, "Mailbox already exists");
	assert_int_equal(folders_create(fx->f, "A.B.C.", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_int_equal(folders_create(fx->f, "inbox", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_int_equal(folders_create(fx->f, "a/b", fx->a, &err),
	    FOLDERS_ERR_INVALID);
	assert_int_equal(folders_exists(fx->f, "A.B.C"), 1);
	assert_int_equal(folders_exists(fx->f, "A.B"), 0);
	assert_int_equal(folders_exists(fx->f, "INBOX"), 1);
	assert_int_equal(folders_exists(fx->f, "a..b"), FOLDERS_ERR_INVALID);
	assert_string_equal(list_str(fx, 0, NULL, 0),
	    "A:NC\nA.B:NC\nA.B.C:\nINBOX:\nR&AOk-sum&AOk-:\nSent:\n");
	/* A sibling of INBOX's children gives INBOX \HasChildren. */
	assert_int_equal(folders_create(fx->f, "inbox.Sub", fx->a, &err),
	    FOLDERS_OK);
	assert_true(exists(fx, ".INBOX.Sub/cur"));
	assert_string_equal(list_str(fx, 0, NULL, 0),
	    "A:NC\nA.B:NC\nA.B.C:\nINBOX:C\nINBOX.Sub:\nR&AOk-sum&AOk-:\n"
	    "Sent:\n");
}

/* Which directories are folders. */
static void
test_list_rules(void **state)
{
	struct fx	*fx = *state;
	const char	*err = NULL;

	mkdirs(fx, ".Empty");			/* bare: not a folder */
	mkdirs(fx, ".OnlyNew");
	mkdirs(fx, ".OnlyNew/new");
	mkdirs(fx, ".Mf");
	put(fx, ".Mf/maildirfolder", "");
	put(fx, ".notadir", "");
	assert_int_equal(symlink(".Mf", hp(fx, ".Link")), 0);
	mkdirs(fx, ".sub.");			/* empty level */
	mkdirs(fx, ".sub./cur");
	mkdirs(fx, ".x..y");
	mkdirs(fx, ".x..y/cur");
	mkdirs(fx, "..z");
	mkdirs(fx, "..z/cur");
	mkdirs(fx, ".INBOX");			/* the root is INBOX */
	mkdirs(fx, ".INBOX/cur");
	mkdirs(fx, ".inbox.low");		/* Dovecot writes "INBOX." */
	mkdirs(fx, ".inbox.low/cur");
	mkdirs(fx, ".INBOX.ok");
	mkdirs(fx, ".INBOX.ok/cur");
	mkdirs(fx, ".&AOl-");			/* sloppy mUTF-7: listed */
	mkdirs(fx, ".&AOl-/cur");
	mkdirs(fx, ".~tilde");
	mkdirs(fx, ".~tilde/cur");
	assert_string_equal(list_str(fx, 0, NULL, 0),
	    "&AOl-:\nINBOX:C\nINBOX.ok:\nMf:\nOnlyNew:\n");
	/* CREATE completes a bare directory in place. */
	put(fx, ".Empty/keep", "x");
	assert_int_equal(folders_create(fx->f, "Empty", fx->a, &err),
	    FOLDERS_OK);
	assert_true(exists(fx, ".Empty/keep"));
	assert_true(exists(fx, ".Empty/dovecot-uidlist"));
	assert_int_equal(folders_exists(fx->f, "Empty"), 1);
	/* A file or a link in the way is no folder, and not replaced. */
	assert_int_equal(folders_exists(fx->f, "notadir"), 0);
	assert_int_equal(folders_create(fx->f, "notadir", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_int_equal(folders_exists(fx->f, "Link"), 0);
	assert_int_equal(folders_create(fx->f, "Link", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	/* The existing sloppy name can be deleted. */
	assert_int_equal(folders_delete(fx->f, "&AOl-", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(tmp_count(fx), 0);
}

/* --- matching --- */

static void
test_match(void **state)
{
	static const struct {
		const char	*pattern, *name;
		bool		 match;
	} cases[] = {
		{ "*", "A.B", true },
		{ "%", "A.B", false },
		{ "%", "A", true },
		{ "A.%", "A.B", true },
		{ "A.%", "A.B.C", false },
		{ "A.*", "A.B.C", true },
		{ "A*", "A", true },
		{ "A%", "AB", true },
		{ "%.%", "A.B", true },
		{ "%.%", "A.B.C", false },
		{ "*.C", "A.B.C", true },
		{ "a*b*c", "axxbyyc", true },
		{ "a*b*c", "axxbyy", false },
		{ "a%%b", "axb", true },
		{ "a%*%b", "a.x.b", true },
		{ "inb*", "INBOX", true },		/* as Dovecot */
		{ "inb*", "INBOX.x", true },
		{ "I%", "INBOX", true },
		{ "*box", "INBOX", true },
		{ "inbox.%", "INBOX.bar", true },
		{ "inbox.BAR", "INBOX.bar", false },	/* only INBOX */
		{ "inbar", "INBAR", false },
		{ "INB%", "INBAR", true },
		{ "inb%", "INBOXx", false },
		{ "p2", "P2", false },
		{ "Sent", "Sent", true },
		{ "Sent", "Sent.x", false },
		{ "R&AOk-%", "R&AOk-sum&AOk-", true },
	};
	char	 p[FOLDERS_PATTERN_MAX + 2], name[FOLDERS_NAME_MAX + 1];
	size_t	 i;
	clock_t	 t0;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++)
		if (folders_match(cases[i].pattern, cases[i].name) !=
		    cases[i].match)
			fail_msg("%s vs %s", cases[i].pattern, cases[i].name);
	/* The pattern length limit at N and N+1. */
	memset(p, '*', FOLDERS_PATTERN_MAX);
	p[0] = 'a';
	p[FOLDERS_PATTERN_MAX] = '\0';
	assert_true(folders_match(p, "abc"));
	p[FOLDERS_PATTERN_MAX] = 'x';
	p[FOLDERS_PATTERN_MAX + 1] = '\0';
	/* over the limit, even though it would compact to "a*x" */
	assert_false(folders_match(p, "abc"));
	for (i = 0; i < FOLDERS_PATTERN_MAX; i++)
		p[i] = i % 2 == 0 ? 'a' : '%';
	p[FOLDERS_PATTERN_MAX] = '\0';
	assert_false(folders_match(p, "aaa"));	/* too many literals */
	p[FOLDERS_PATTERN_MAX] = 'a';
	p[FOLDERS_PATTERN_MAX + 1] = '\0';
	assert_false(folders_match(p, "aaa"));	/* over the limit */
	/* No exponential backtracking: "*a*a*a...b" against "aaaa". */
	for (i = 0; i < 200; i++) {
		p[2 * i] = '*';
		p[2 * i + 1] = 'a';
	}
	p[400] = 'b';
	p[401] = '\0';
	memset(name, 'a', FOLDERS_NAME_MAX);
	name[FOLDERS_NAME_MAX] = '\0';
	t0 = clock();
	assert_false(folders_match(p, name));
	assert_true(clock() - t0 < CLOCKS_PER_SEC);
}

/* The prefix search over a big list, and the reference argument. */
static void
test_list_match(void **state)
{
	struct fx		*fx = *state;
	struct folders_list	 l;
	size_t			*idx, n, i;
	const char		*err = NULL;
	clock_t			 t0;

	/* A list as folders_list builds it: 5000 folders F0000..F4999,
	 * F0100 with 3 children, and INBOX with one. */
	l.n = 0;
	l.entries = arena_alloc(fx->a, 5100 * sizeof(*l.entries));
	for (i = 0; i < 5000; i++) {
		l.entries[l.n].name = arena_printf(fx->a, "F%04zu", i);
		l.entries[l.n].flags = 0;
		l.entries[l.n++].special = 0;
		if (i == 100) {
			static const char *const kids[] = { "a", "b", "c" };
			size_t k;

			for (k = 0; k < 3; k++) {
				l.entries[l.n].name = arena_printf(fx->a,
				    "F0100.%s", kids[k]);
				l.entries[l.n].flags = 0;
				l.entries[l.n++].special = 0;
			}
		}
	}
	l.entries[l.n++].name = "INBAR";
	l.entries[l.n++].name = "INBOX";
	l.entries[l.n++].name = "INBOX.x";
	t0 = clock();
	for (i = 0; i < 1000; i++)
		folders_list_match(&l, "", "F01%", fx->a, &idx, &n);
	assert_true(clock() - t0 < 2 * CLOCKS_PER_SEC);
	assert_int_equal(n, 100);
	assert_string_equal(l.entries[idx[0]].name, "F0100");
	assert_string_equal(l.entries[idx[99]].name, "F0199");
	folders_list_match(&l, "", "F01*", fx->a, &idx, &n);
	assert_int_equal(n, 103);
	folders_list_match(&l, "F0100.", "%", fx->a, &idx, &n);
	assert_int_equal(n, 3);
	folders_list_match(&l, "F0100", ".b", fx->a, &idx, &n);
	assert_int_equal(n, 1);
	assert_string_equal(l.entries[idx[0]].name, "F0100.b");
	folders_list_match(&l, "", "%", fx->a, &idx, &n);
	assert_int_equal(n, 5002);
	folders_list_match(&l, "", "*", fx->a, &idx, &n);
	assert_int_equal(n, l.n);
	folders_list_match(&l, "", "inb*", fx->a, &idx, &n);
	assert_int_equal(n, 2);
	assert_string_equal(l.entries[idx[0]].name, "INBOX");
	assert_string_equal(l.entries[idx[1]].name, "INBOX.x");
	folders_list_match(&l, "", "INB*", fx->a, &idx, &n);
	assert_int_equal(n, 3);
	folders_list_match(&l, "", "", fx->a, &idx, &n);
	assert_int_equal(n, 0);			/* the server's special case */
	folders_list_match(&l, "#x", "*", fx->a, &idx, &n);
	assert_int_equal(n, 0);
	folders_list_match(&l, "", "nothing%", fx->a, &idx, &n);
	assert_int_equal(n, 0);
	/* And on a real list. */
	assert_int_equal(folders_create(fx->f, "W.x.y", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_list(fx->f, 0, NULL, 0, fx->a, &l, &err),
	    FOLDERS_OK);
	folders_list_match(&l, "", "%", fx->a, &idx, &n);
	assert_int_equal(n, 2);
	assert_string_equal(l.entries[idx[0]].name, "INBOX");
	assert_string_equal(l.entries[idx[1]].name, "W");
	assert_true(l.entries[idx[1]].flags & FOLDER_NONEXISTENT);
}

/* --- delete --- */

static void
test_delete(void **state)
{
	struct fx	*fx = *state;
	struct timespec	 ts[2];
	const char	*err = NULL;

	assert_int_equal(folders_create(fx->f, "A", fx->a, &err), FOLDERS_OK);
	assert_int_equal(folders_create(fx->f, "A.B", fx->a, &err),
	    FOLDERS_OK);
	put(fx, ".A/new/1.M1P1.host,S=3", "hi\n");
	put(fx, ".A/cur/2.M1P1.host,S=3:2,S", "hi\n");
	assert_int_equal(folders_subscribe(fx->f, "A", fx->a, &err),
	    FOLDERS_OK);
	/* A leftover of a crash, old enough to be swept. */
	mkdirs(fx, "tmp/.aviary-delete.old");
	mkdirs(fx, "tmp/.aviary-delete.old/cur");
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 7200;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, hp(fx, "tmp/.aviary-delete.old"),
	    ts, 0), 0);
	put(fx, "tmp/1.M1P1.host", "delivery in progress");
	assert_int_equal(folders_delete(fx->f, "A", fx->a, &err), FOLDERS_OK);
	assert_false(exists(fx, ".A"));
	assert_true(exists(fx, ".A.B/cur"));	/* children stay */
	assert_int_equal(tmp_count(fx), 1);	/* only the delivery's */
	assert_string_equal(list_str(fx, FOLDERS_LIST_SUBSCRIPTIONS, NULL, 0),
	    "A:NCS\nA.B:\nINBOX:\n");
	assert_int_equal(folders_delete(fx->f, "A", fx->a, &err),
	    FOLDERS_ERR_NONEXISTENT);
	assert_string_equal(err, "Mailbox doesn't exist");
	assert_int_equal(folders_delete(fx->f, "Nope", fx->a, &err),
	    FOLDERS_ERR_NONEXISTENT);
	assert_int_equal(folders_delete(fx->f, "inbox", fx->a, &err),
	    FOLDERS_ERR_CANNOT);
	assert_string_equal(err, "INBOX can't be deleted");
	assert_int_equal(folders_delete(fx->f, "A.B.", fx->a, &err),
	    FOLDERS_ERR_INVALID);		/* as Dovecot */
	assert_int_equal(folders_delete(fx->f, "A.B", fx->a, &err),
	    FOLDERS_OK);
	assert_string_equal(list_str(fx, 0, NULL, 0), "INBOX:\n");
	/* Deleted and re-created: a new UIDVALIDITY. */
	assert_int_equal(folders_create(fx->f, "X", fx->a, &err), FOLDERS_OK);
	{
		char		*u1 = slurp(fx, ".X/dovecot-uidlist"), *u2;
		unsigned	 v1, v2;

		assert_int_equal(folders_delete(fx->f, "X", fx->a, &err),
		    FOLDERS_OK);
		assert_int_equal(folders_create(fx->f, "X", fx->a, &err),
		    FOLDERS_OK);
		u2 = slurp(fx, ".X/dovecot-uidlist");
		assert_int_equal(sscanf(u1, "3 V%u", &v1), 1);
		assert_int_equal(sscanf(u2, "3 V%u", &v2), 1);
		assert_true(v2 > v1);
	}
}

/* --- rename --- */

static void
test_rename(void **state)
{
	struct fx	*fx = *state;
	const char	*err = NULL;
	char		 longname[FOLDERS_NAME_MAX + 1];
	static const char *const mk[] = {
		"P", "P.Q", "P.Q.R", "Px", "P.Qx", "X", "X.c", "Y.c",
	};
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(mk); i++)
		assert_int_equal(folders_create(fx->f, mk[i], fx->a, &err),
		    FOLDERS_OK);
	put(fx, ".P.Q/cur/1.M1P1.h:2,S", "m");
	put(fx, "subscriptions", "V\t2\n\nP\tQ\nP\tQ\tR\nPx\nSent\t\n");
	assert_int_equal(folders_rename(fx->f, "P.Q", "P2", fx->a, &err),
	    FOLDERS_OK);
	assert_false(exists(fx, ".P.Q"));
	assert_false(exists(fx, ".P.Q.R"));
	assert_true(exists(fx, ".P2/cur/1.M1P1.h:2,S"));
	assert_true(exists(fx, ".P2.R/cur"));
	assert_true(exists(fx, ".P.Qx/cur"));	/* not a child */
	assert_true(exists(fx, ".Px/cur"));
	assert_string_equal(slurp(fx, "subscriptions"),
	    "V\t2\n\nP2\nP2\tR\nPx\nSent\t\n");
	/* Refusals, each leaving everything in place. */
	assert_int_equal(folders_rename(fx->f, "P2", "P2.sub", fx->a, &err),
	    FOLDERS_ERR_CANNOT);
	assert_int_equal(folders_rename(fx->f, "P2", "Px", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_int_equal(folders_rename(fx->f, "P2", "P2", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_int_equal(folders_rename(fx->f, "P2", "inbox", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_int_equal(folders_rename(fx->f, "Nope", "Z", fx->a, &err),
	    FOLDERS_ERR_NONEXISTENT);
	assert_int_equal(folders_rename(fx->f, "Y", "Z", fx->a, &err),
	    FOLDERS_ERR_NONEXISTENT);		/* a parent level only */
	assert_int_equal(folders_rename(fx->f, "P2", "&AGE-", fx->a, &err),
	    FOLDERS_ERR_INVALID);
	assert_int_equal(folders_rename(fx->f, "P2", "a..b", fx->a, &err),
	    FOLDERS_ERR_INVALID);
	/* X has X.c; Y.c exists though Y does not: X -> Y would clash. */
	assert_int_equal(folders_rename(fx->f, "X", "Y", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	assert_true(exists(fx, ".X/cur"));
	assert_true(exists(fx, ".X.c/cur"));
	assert_false(exists(fx, ".Y"));
	/* A child's new name too long: refused before anything moves. The
	 * parent's 253 bytes fit, its child's 253 + ".c" = 255 do not; with
	 * 252 the child has exactly FOLDERS_NAME_MAX. */
	memset(longname, 'L', FOLDERS_NAME_MAX - 1);
	longname[FOLDERS_NAME_MAX - 1] = '\0';
	assert_int_equal(folders_rename(fx->f, "X", longname, fx->a, &err),
	    FOLDERS_ERR_INVALID);
	assert_true(exists(fx, ".X/cur"));
	assert_true(exists(fx, ".X.c/cur"));
	longname[FOLDERS_NAME_MAX - 2] = '\0';
	assert_int_equal(folders_rename(fx->f, "X", longname, fx->a, &err),
	    FOLDERS_OK);
	assert_false(exists(fx, ".X"));
	/* A parent level renamed along into a fresh hierarchy. */
	assert_int_equal(folders_rename(fx->f, "P2.R", "New.Deep.R", fx->a,
	    &err), FOLDERS_OK);
	assert_true(exists(fx, ".New.Deep.R/cur"));
	assert_string_equal(slurp(fx, "subscriptions"),
	    "V\t2\n\nP2\nNew\tDeep\tR\nPx\nSent\t\n");
	assert_int_equal(tmp_count(fx), 0);
}

static void
test_rename_inbox(void **state)
{
	struct fx	*fx = *state;
	const char	*err = NULL;

	put(fx, "new/1.M1P1.h,S=1", "a");
	put(fx, "new/2.M1P1.h,S=1", "b");
	put(fx, "cur/3.M1P1.h,S=1:2,Sa", "c");
	put(fx, "dovecot-keywords", "0 $Label1\n");
	put(fx, "dovecot-uidlist", "3 V1 N4 Gx\n1 :1.M1P1.h,S=1\n");
	assert_int_equal(folders_create(fx->f, "INBOX.Child", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_rename(fx->f, "inbox", "Old", fx->a, &err),
	    FOLDERS_OK);
	assert_true(exists(fx, ".Old/new/1.M1P1.h,S=1"));
	assert_true(exists(fx, ".Old/new/2.M1P1.h,S=1"));
	assert_true(exists(fx, ".Old/cur/3.M1P1.h,S=1:2,Sa"));
	assert_string_equal(slurp(fx, ".Old/dovecot-keywords"),
	    "0 $Label1\n");
	assert_false(exists(fx, "new/1.M1P1.h,S=1"));
	assert_false(exists(fx, "cur/3.M1P1.h,S=1:2,Sa"));
	assert_true(exists(fx, ".INBOX.Child/cur"));	/* children stay */
	assert_true(exists(fx, "dovecot-uidlist"));	/* INBOX keeps it */
	assert_int_equal(folders_exists(fx->f, "Old"), 1);
	/* Again: the target exists now. */
	assert_int_equal(folders_rename(fx->f, "INBOX", "Old", fx->a, &err),
	    FOLDERS_ERR_EXISTS);
	/* An empty INBOX moves nothing; a folder is still made. */
	assert_int_equal(folders_rename(fx->f, "INBOX", "Empty", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_exists(fx->f, "Empty"), 1);
	assert_int_equal(tmp_count(fx), 0);
}

/* --- subscriptions --- */

static void
test_subs_parse(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 version;
		const char	*names;		/* '|'-joined */
		int		 rc;
	} cases[] = {
		{ "", 2, "", 0 },
		{ "V\t2\n\n", 2, "", 0 },
		{ "V\t2\n\nA\tB\nINBOX\nR&AOk-sum&AOk-\n", 2,
		  "A.B|INBOX|R&AOk-sum&AOk-", 0 },
		{ "V\t2\n\nSent\t\ninbox\n\nTrash", 2, "Sent|INBOX|Trash", 0 },
		{ "V\t2\n\nA\nA\nB\nA\n", 2, "A|B", 0 },
		{ "V\t2\n\na\001tb\nc\n", 2, "c", -1 },	/* TAB: no name */
		{ "V\t2\n\na\001xb\nc\n", 2, "c", -1 },	/* bad escape */
		{ "V\t2\n\na\001", 2, "", -1 },
		{ "V\t2\n\na.b\n", 2, "a.b", 0 },
		{ "Sent.\nArchive.2024\ninbox\n", 1,
		  "Sent|Archive.2024|INBOX", 0 },
		{ "A\tB\n", 1, "", -1 },	/* v1 has no TAB levels */
		{ "V\t2\nA\n", 1, "A", -1 },	/* not the header */
		{ "V\t2\n\na..b\n~x\nok\n", 2, "ok", -1 },
	};
	struct folders_subs	 s;
	struct buf		 b;
	const char		*err;
	size_t			 i, k;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct arena *a = arena_create(1024);

		if (folders_subs_parse(cases[i].text, strlen(cases[i].text),
		    a, &s, &err) != cases[i].rc)
			fail_msg("case %zu: rc", i);
		assert_int_equal(s.version, cases[i].version);
		buf_init(&b, a, 4096);
		for (k = 0; k < s.n; k++)
			assert_int_equal(buf_printf(&b, "%s%s", k ? "|" : "",
			    s.names[k]), 0);
		if (strcmp(buf_cstr(&b), cases[i].names) != 0)
			fail_msg("case %zu: %s", i, buf_cstr(&b));
		arena_destroy(&a);
	}
}

static void
test_subs_edit(void **state)
{
	static const struct {
		const char	*text, *name;
		bool		 subscribe, changed;
		const char	*want;
	} cases[] = {
		{ "", "A.B", true, true, "V\t2\n\nA\tB\n" },
		{ "V\t2\n\nSent\t\nArchive", "Drafts", true, true,
		  "V\t2\n\nSent\t\nArchive\nDrafts\n" },
		{ "V\t2\n\nSent\t\n", "Sent", true, false, "V\t2\n\nSent\t\n" },
		{ "V\t2\n\nSent\t\nX\nSent\n", "Sent", false, true,
		  "V\t2\n\nX\n" },
		{ "V\t2\n\nX\n", "Sent", false, false, "V\t2\n\nX\n" },
		{ "Sent.\n", "Drafts", true, true, "Sent.\nDrafts\n" },
		{ "Sent.\nA.B\n", "A.B", false, true, "Sent.\n" },
		{ "V\t2\n\njunk\001\nA\n", "B", true, true,
		  "V\t2\n\njunk\001\nA\nB\n" },		/* kept verbatim */
		{ "V\t2\n\nINBOX\n", "INBOX", false, true, "V\t2\n\n" },
	};
	struct buf	 b;
	bool		 changed;
	size_t		 i, need;

	(void)state;
	buf_init(&b, NULL, 4096);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		buf_clear(&b);
		assert_int_equal(folders_subs_edit(cases[i].text,
		    strlen(cases[i].text), cases[i].name, cases[i].subscribe,
		    &b, &changed), 0);
		if (changed != cases[i].changed ||
		    strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("case %zu: %s", i, buf_cstr(&b));
	}
	buf_deinit(&b);
	/* The ceiling at N and N-1. */
	need = strlen("V\t2\n\nA\tB\n");
	buf_init(&b, NULL, need);
	assert_int_equal(folders_subs_edit("", 0, "A.B", true, &b, &changed),
	    0);
	buf_deinit(&b);
	buf_init(&b, NULL, need - 1);
	assert_int_equal(folders_subs_edit("", 0, "A.B", true, &b, &changed),
	    BUF_EFULL);
	assert_int_equal(b.len, 0);
	assert_false(changed);
	buf_deinit(&b);
}

static void
test_subscribe(void **state)
{
	struct fx		*fx = *state;
	struct folders_subs	 s;
	struct timespec		 ts[2];
	const char		*err = NULL;
	static const char *const four[] = { "Drafts", "Sent", "Trash", "Junk" };

	assert_int_equal(folders_subs_read(fx->f, fx->a, &s, &err),
	    FOLDERS_OK);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.version, 2);
	/* A name need not exist (RFC 3501 6.3.6). */
	assert_int_equal(folders_subscribe(fx->f, "Gone.x", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_subscribe(fx->f, "inbox", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_subscribe(fx->f, "INBOX", fx->a, &err),
	    FOLDERS_OK);
	assert_string_equal(slurp(fx, "subscriptions"),
	    "V\t2\n\nGone\tx\nINBOX\n");
	assert_int_equal(folders_subscribe(fx->f, "a/b", fx->a, &err),
	    FOLDERS_ERR_INVALID);
	assert_int_equal(folders_create(fx->f, "A.B.C", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_subscribe(fx->f, "A.B.C", fx->a, &err),
	    FOLDERS_OK);
	assert_string_equal(list_str(fx, FOLDERS_LIST_SUBSCRIPTIONS, NULL, 0),
	    "A:NCs\nA.B:NCs\nA.B.C:S\nGone:Ns\nGone.x:NS\nINBOX:S\n");
	/* Without the flag, only what exists. */
	assert_string_equal(list_str(fx, 0, NULL, 0),
	    "A:NC\nA.B:NC\nA.B.C:\nINBOX:\n");
	assert_int_equal(folders_unsubscribe(fx->f, "Gone.x", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_unsubscribe(fx->f, "Gone.x", fx->a, &err),
	    FOLDERS_ERR_NONEXISTENT);
	assert_string_equal(slurp(fx, "subscriptions"),
	    "V\t2\n\nINBOX\nA\tB\tC\n");
	assert_false(exists(fx, "subscriptions.lock"));
	/* A stale lock (a crash) is broken. */
	put(fx, "subscriptions.lock", "partial");
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, hp(fx, "subscriptions.lock"), ts,
	    0), 0);
	assert_int_equal(folders_subscribe(fx->f, "Z", fx->a, &err),
	    FOLDERS_OK);
	assert_false(exists(fx, "subscriptions.lock"));
	/* maildir_ensure and this module share the file and its lock. */
	assert_int_equal(maildir_ensure(fx->root, fx->home, four, 4, getuid(),
	    getgid(), fx->a, &err), 0);
	assert_int_equal(folders_subs_read(fx->f, fx->a, &s, &err),
	    FOLDERS_OK);
	assert_int_equal(s.n, 7);
	assert_true(folders_subs_has(&s, "Junk"));
	assert_true(folders_subs_has(&s, "A.B.C"));
	assert_false(folders_subs_has(&s, "Gone.x"));
}

/* --- special-use --- */

static void
test_special(void **state)
{
	struct fx	*fx = *state;
	static const struct folders_special four[] = {
		{ "Drafts", FOLDER_SPECIAL_DRAFTS },
		{ "Sent", FOLDER_SPECIAL_SENT },
		{ "Trash", FOLDER_SPECIAL_TRASH },
		{ "Junk", FOLDER_SPECIAL_JUNK },
	};
	static const struct folders_special bad[] = {
		{ "a/b", FOLDER_SPECIAL_JUNK },
	};
	const char	*err = NULL;

	assert_int_equal(folders_special_get(folders_special_default,
	    folders_special_default_n, "Sent"), FOLDER_SPECIAL_SENT);
	assert_int_equal(folders_special_get(folders_special_default,
	    folders_special_default_n, "Sent Messages"), FOLDER_SPECIAL_SENT);
	assert_int_equal(folders_special_get(folders_special_default,
	    folders_special_default_n, "sent"), 0);
	assert_int_equal(folders_special_get(folders_special_default,
	    folders_special_default_n, "Archive"), FOLDER_SPECIAL_ARCHIVE);
	assert_int_equal(folders_special_get(four, 4, "INBOX"), 0);
	assert_string_equal(folders_special_name(FOLDER_SPECIAL_JUNK),
	    "\\Junk");
	assert_string_equal(folders_special_name(FOLDER_SPECIAL_ALL), "\\All");
	assert_null(folders_special_name(FOLDER_SPECIAL_JUNK |
	    FOLDER_SPECIAL_SENT));
	assert_int_equal(folders_special_parse("\\trash"),
	    FOLDER_SPECIAL_TRASH);
	assert_int_equal(folders_special_parse("\\Flagged"),
	    FOLDER_SPECIAL_FLAGGED);
	assert_int_equal(folders_special_parse("Trash"), 0);
	assert_int_equal(folders_special_ensure(fx->f, four, 4, fx->a, &err),
	    FOLDERS_OK);
	assert_string_equal(slurp(fx, "subscriptions"),
	    "V\t2\n\nDrafts\nSent\nTrash\nJunk\n");
	assert_string_equal(list_str(fx, FOLDERS_LIST_SUBSCRIPTIONS, four, 4),
	    "Drafts:S*\nINBOX:\nJunk:S*\nSent:S*\nTrash:S*\n");
	/* Unsubscribed stays unsubscribed; deleted comes back,
	 * subscribed once. */
	assert_int_equal(folders_unsubscribe(fx->f, "Trash", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_delete(fx->f, "Junk", fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_special_ensure(fx->f, four, 4, fx->a, &err),
	    FOLDERS_OK);
	assert_int_equal(folders_exists(fx->f, "Junk"), 1);
	assert_string_equal(slurp(fx, "subscriptions"),
	    "V\t2\n\nDrafts\nSent\nJunk\n");
	assert_int_equal(folders_special_ensure(fx->f, bad, 1, fx->a, &err),
	    FOLDERS_ERR_INVALID);
}

/* --- UIDVALIDITY counter --- */

static uint32_t
read_counter(const struct fx *fx)
{
	const char	*t = slurp(fx, "dovecot-uidvalidity");
	unsigned	 v;

	assert_non_null(t);
	assert_int_equal(strlen(t), 8);
	assert_int_equal(sscanf(t, "%8x", &v), 1);
	return v;
}

static void
test_uidvalidity(void **state)
{
	struct fx	*fx = *state;
	uint32_t	 v1, v2, now = (uint32_t)time(NULL);

	/* Fresh: the time, then one more each. */
	v1 = folders_uidvalidity_next(fx->f);
	/* (this process's earlier tests may have used a few seconds' worth
	 * of fallback values) */
	assert_true(v1 >= now && v1 <= now + 60);
	assert_int_equal(read_counter(fx), v1);
	assert_true(exists(fx, arena_printf(fx->a, "dovecot-uidvalidity.%08x",
	    v1)));
	v2 = folders_uidvalidity_next(fx->f);
	assert_int_equal(v2, v1 + 1);
	assert_false(exists(fx, arena_printf(fx->a,
	    "dovecot-uidvalidity.%08x", v1)));
	/* What Dovecot left (seen on Debian's 2.3.19): go on from it. */
	assert_int_equal(unlink(hp(fx, arena_printf(fx->a,
	    "dovecot-uidvalidity.%08x", v2))), 0);
	put(fx, "dovecot-uidvalidity", "6b0287ac");
	put(fx, "dovecot-uidvalidity.6b0287ac", "");
	assert_int_equal(folders_uidvalidity_next(fx->f), 0x6b0287ad);
	assert_true(exists(fx, "dovecot-uidvalidity.6b0287ad"));
	/* The file lags behind the token (a crash between the two): the
	 * token wins after a rescan. */
	put(fx, "dovecot-uidvalidity", "00000005");
	assert_int_equal(folders_uidvalidity_next(fx->f), 0x6b0287ae);
	/* No file, two tokens: the highest counts, the lowest goes. */
	assert_int_equal(unlink(hp(fx, "dovecot-uidvalidity")), 0);
	put(fx, "dovecot-uidvalidity.00000010", "");
	assert_int_equal(folders_uidvalidity_next(fx->f), 0x6b0287af);
	assert_false(exists(fx, "dovecot-uidvalidity.00000010"));
	/* Garbage in the file: rescan. */
	put(fx, "dovecot-uidvalidity", "zzzz");
	assert_int_equal(folders_uidvalidity_next(fx->f), 0x6b0287b0);
	assert_int_equal(read_counter(fx), 0x6b0287b0);
	/* Wrap-around skips 0, at N and N+1. */
	assert_int_equal(unlink(hp(fx, "dovecot-uidvalidity.6b0287b0")), 0);
	put(fx, "dovecot-uidvalidity", "fffffffe");
	put(fx, "dovecot-uidvalidity.fffffffe", "");
	assert_int_equal(folders_uidvalidity_next(fx->f), 0xffffffff);
	assert_int_equal(folders_uidvalidity_next(fx->f), 1);
	/* New folders take their UIDVALIDITY from the counter. */
	assert_int_equal(folders_create(fx->f, "N", fx->a, &(const char *){0}),
	    FOLDERS_OK);
	assert_int_equal(read_counter(fx), 2);
	assert_true(strncmp(slurp(fx, ".N/dovecot-uidlist"), "3 V2 N1 G", 9) ==
	    0);
}

/* Four processes take 50 values each: all 200 distinct and in one run.
 * Creating one folder from two processes: one wins, one hears EXISTS. */
static void
test_concurrent(void **state)
{
	struct fx	*fx = *state;
	int		 pipes[4][2], status, k, j;
	pid_t		 pid[4];
	uint32_t	 got[200], v, lo = UINT32_MAX, hi = 0;
	size_t		 n = 0, i;
	int		 created = 0, existed = 0;

	for (k = 0; k < 4; k++) {
		assert_int_equal(pipe(pipes[k]), 0);
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			for (j = 0; j < 50; j++) {
				v = folders_uidvalidity_next(fx->f);
				if (write(pipes[k][1], &v, sizeof(v)) !=
				    (ssize_t)sizeof(v))
					_exit(1);
			}
			_exit(0);
		}
		(void)close(pipes[k][1]);
	}
	for (k = 0; k < 4; k++) {
		while (read(pipes[k][0], &v, sizeof(v)) == (ssize_t)sizeof(v))
			got[n++] = v;
		(void)close(pipes[k][0]);
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(n, 200);
	for (i = 0; i < n; i++) {
		lo = got[i] < lo ? got[i] : lo;
		hi = got[i] > hi ? got[i] : hi;
		for (j = 0; (size_t)j < i; j++)
			assert_true(got[j] != got[i]);
	}
	assert_int_equal(hi - lo, 199);
	for (k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			const char *err;
			int r = folders_create(fx->f, "Race", fx->a, &err);

			_exit(r == FOLDERS_OK ? 0 : r == FOLDERS_ERR_EXISTS ?
			    1 : 2);
		}
	}
	for (k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status));
		created += WEXITSTATUS(status) == 0;
		existed += WEXITSTATUS(status) == 1;
	}
	assert_int_equal(created, 1);
	assert_int_equal(existed, 1);
	assert_int_equal(tmp_count(fx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_check),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_rules, setup,
		    teardown),
		cmocka_unit_test(test_match),
		cmocka_unit_test_setup_teardown(test_list_match, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_inbox, setup,
		    teardown),
		cmocka_unit_test(test_subs_parse),
		cmocka_unit_test(test_subs_edit),
		cmocka_unit_test_setup_teardown(test_subscribe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_special, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
