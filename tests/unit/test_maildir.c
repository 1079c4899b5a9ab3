/* test_maildir.c - core/mail/maildir.c against a real directory tree in a
 * mkdtemp() root: unique names (format, 10,000 without a duplicate, host
 * escaping, the buffer at N and N-1), ,S=/,W= parsing, maildir_ensure
 * (modes, ownership when root, idempotence, subscriptions, symlinks and
 * paths outside the root refused), storing one message to several
 * mailboxes (hard links, sizes, nothing left in tmp/, failures leave
 * nothing in new/, a copy across file systems), and maildirsize (the
 * rebuild rules at their limits, deltas, maildir_quota_exceeded). */
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/compat.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"

/* Owner handed to the module: when the tests run as root, something
 * other than root, so that the chown is visible. */
#define TEST_UID	4242
#define TEST_GID	4243

struct fx {
	char		 root[64];
	struct arena	*a;
	uid_t		 uid;
	gid_t		 gid;
};

static bool
is_root(void)
{
	return geteuid() == 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void
rm_rf(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->root, sizeof(f->root), "/tmp/aviary-md-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	f->a = arena_create(4096);
	f->uid = is_root() ? TEST_UID : getuid();
	f->gid = is_root() ? TEST_GID : getgid();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	rm_rf(f->root);
	arena_destroy(&f->a);
	free(f);
	return 0;
}

static const char *
pth(struct fx *f, const char *rel)
{
	return arena_printf(f->a, "%s/%s", f->root, rel);
}

static bool
exists(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE	*fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void
write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

/* The whole file, NUL-terminated, from the arena; *len_r its size. */
static char *
read_file(struct fx *f, const char *path, size_t *len_r)
{
	struct stat	 st;
	char		*p;
	FILE		*fp = fopen(path, "rb");

	assert_non_null(fp);
	assert_int_equal(fstat(fileno(fp), &st), 0);
	p = arena_alloc(f->a, (size_t)st.st_size + 1);
	assert_int_equal(fread(p, 1, (size_t)st.st_size, fp), st.st_size);
	p[st.st_size] = '\0';
	(void)fclose(fp);
	if (len_r != NULL)
		*len_r = (size_t)st.st_size;
	return p;
}

/* Entries of a directory other than . and ..; the first one's name (from
 * the arena) in *name_r if not NULL. */
static size_t
dir_count(struct fx *f, const char *path, const char **name_r)
{
	DIR		*d = opendir(path);
	struct dirent	*de;
	size_t		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0 && name_r != NULL)
			*name_r = arena_strdup(f->a, de->d_name);
	}
	(void)closedir(d);
	return n;
}

static void
assert_mode(const char *path, mode_t want, uid_t uid, gid_t gid)
{
	struct stat	 st;

	if (lstat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & 07777) != want)
		fail_msg("%s: mode %04o, want %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)want);
	if (is_root() && (st.st_uid != uid || st.st_gid != gid))
		fail_msg("%s: owner %u:%u, want %u:%u", path,
		    (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)uid,
		    (unsigned)gid);
}

/* --- log capture: stderr into a file, so failures can be checked for
 * being logged with their path (and kept out of the test output) --- */

static int	 saved_stderr = -1;

static void
log_capture_start(struct fx *f)
{
	int	 fd = open(pth(f, "log"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd != -1);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(dup2(fd, 2) == 2);
	(void)close(fd);
}

static char *
log_capture_end(struct fx *f)
{
	char	*text;

	fflush(stderr);
	assert_true(dup2(saved_stderr, 2) == 2);
	(void)close(saved_stderr);
	saved_stderr = -1;
	text = read_file(f, pth(f, "log"), NULL);
	(void)unlink(pth(f, "log"));
	return text;
}

/* --- unique names --- */

static void
test_unique_format(void **state)
{
	char		 name[MAILDIR_NAME_MAX + 1], want[64], *endp;
	const char	*p;
	struct timeval	 before, after;
	long long	 sec;
	size_t		 i;

	(void)state;
	(void)gettimeofday(&before, NULL);
	assert_int_equal(maildir_unique_name("mx1.example.test", name,
	    sizeof(name)), 0);
	(void)gettimeofday(&after, NULL);
	/* <sec>.M<6 digits>P<pid>Q<n>R<8 hex>.<host> */
	sec = strtoll(name, &endp, 10);
	p = endp;
	assert_true(sec >= before.tv_sec && sec <= after.tv_sec);
	assert_memory_equal(p, ".M", 2);
	for (i = 2; i < 8; i++)
		assert_true(p[i] >= '0' && p[i] <= '9');
	(void)snprintf(want, sizeof(want), "P%ldQ", (long)getpid());
	assert_memory_equal(p + 8, want, strlen(want));
	p += 8 + strlen(want);
	assert_true(*p >= '1' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	assert_int_equal(*p++, 'R');
	for (i = 0; i < 8; i++)
		assert_non_null(strchr("0123456789abcdef", p[i]));
	assert_string_equal(p + 8, ".mx1.example.test");
	assert_null(strchr(name, '/'));
}

static int
cmp_name(const void *x, const void *y)
{
	return strcmp(x, y);
}

#define N_UNIQUE	10000
#define UNIQUE_LEN	96

static void
test_unique_no_duplicates(void **state)
{
	char	(*names)[UNIQUE_LEN] = xcalloc(N_UNIQUE, UNIQUE_LEN);
	size_t	 i;

	(void)state;
	assert_non_null(names);
	for (i = 0; i < N_UNIQUE; i++)
		assert_int_equal(maildir_unique_name("h", names[i],
		    UNIQUE_LEN), 0);
	qsort(names, N_UNIQUE, UNIQUE_LEN, cmp_name);
	for (i = 1; i < N_UNIQUE; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			fail_msg("duplicate name %s", names[i]);
	free(names);
}

/* The host part: everything after the second '.'. */
static const char *
host_part(const char *name)
{
	const char	*p = strchr(name, '.');

	assert_non_null(p);
	p = strchr(p + 1, '.');
	assert_non_null(p);
	return p + 1;
}

static void
test_unique_escape(void **state)
{
	static const struct {
		const char	*host;
		const char	*want;
	} cases[] = {
		{ "mx.example.test", "mx.example.test" },
		{ "a/b", "a\\057b" },
		{ "a:b", "a\\072b" },
		{ "a,b", "a\\054b" },
		{ "a\\b", "a\\134b" },
		{ "a b", "a\\040b" },
		{ "\t\x01\x7f\xff", "\\011\\001\\177\\377" },
		{ "S=1,W=2:2,S", "S=1\\054W=2\\0722\\054S" },
		{ "//", "\\057\\057" },
	};
	char		 name[MAILDIR_NAME_MAX + 1], hn[256], want[1024];
	size_t		 i, o = 0;
	uint64_t	 v;
	bool		 have_s, have_w;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		assert_int_equal(maildir_unique_name(cases[i].host, name,
		    sizeof(name)), 0);
		assert_string_equal(host_part(name), cases[i].want);
		assert_null(strchr(name, '/'));
		assert_null(strchr(name, ':'));
		assert_null(strchr(name, ','));
		/* Nothing in the host can pose as a size field. */
		assert_true(maildir_name_sizes(name, &v, &have_s, &v,
		    &have_w));
		assert_false(have_s);
		assert_false(have_w);
	}
	/* NULL and "": the host's own name, escaped the same way. */
	assert_int_equal(gethostname(hn, sizeof(hn)), 0);
	hn[sizeof(hn) - 1] = '\0';
	for (i = 0; hn[i] != '\0'; i++) {
		unsigned char c = (unsigned char)hn[i];

		if (c <= 0x20 || c >= 0x7f || strchr("/:,\\", c) != NULL)
			o += (size_t)snprintf(want + o, sizeof(want) - o,
			    "\\%03o", c);
		else
			want[o++] = (char)c;
	}
	want[o] = '\0';
	assert_int_equal(maildir_unique_name(NULL, name, sizeof(name)), 0);
	assert_string_equal(host_part(name), want);
	assert_int_equal(maildir_unique_name("", name, sizeof(name)), 0);
	assert_string_equal(host_part(name), want);
}

/* The next name's length, predicted from this one: only Q<n> changes
 * length from one call to the next within a second (usec is padded). */
static size_t
next_len(const char *name)
{
	const char		*q = strchr(name, 'Q');
	unsigned long long	 n;
	char			 a[32], b[32];

	assert_non_null(q);
	n = strtoull(q + 1, NULL, 10);
	return strlen(name) - (size_t)snprintf(a, sizeof(a), "%llu", n) +
	    (size_t)snprintf(b, sizeof(b), "%llu", n + 1);
}

static void
test_unique_buffer_size(void **state)
{
	static const char *const hosts[] = { "h", "a/b:c", "mx.example.test" };
	char		 name[MAILDIR_NAME_MAX + 2], prev[MAILDIR_NAME_MAX + 1];
	size_t		 i, want;
	int		 tries, ok = 0;

	(void)state;
	for (i = 0; i < N_ELEMENTS(hosts); i++) {
		/* Retry in the rare case the second changes in between. */
		for (tries = 0; tries < 5; tries++) {
			assert_int_equal(maildir_unique_name(hosts[i], prev,
			    sizeof(prev)), 0);
			want = next_len(prev);
			memset(name, 'Z', sizeof(name));
			/* N: exactly the length plus the NUL. */
			if (maildir_unique_name(hosts[i], name, want + 1) != 0)
				continue;
			assert_int_equal(strlen(name), want);
			assert_int_equal(name[want + 1], 'Z');
			/* N-1: one byte less fails, writes no further than
			 * the buffer, and leaves "". */
			want = next_len(name);
			memset(name, 'Z', sizeof(name));
			assert_int_equal(maildir_unique_name(hosts[i], name,
			    want), -1);
			assert_string_equal(name, "");
			assert_int_equal(name[want], 'Z');
			ok++;
			break;
		}
	}
	assert_int_equal(ok, N_ELEMENTS(hosts));
	assert_int_equal(maildir_unique_name("h", name, 0), -1);
	assert_int_equal(maildir_unique_name("h", name, 1), -1);
	assert_string_equal(name, "");
}

/* --- ,S= and ,W= --- */

static void
test_name_sizes(void **state)
{
	static const struct {
		const char	*name;
		bool		 want_ok;
		bool		 have_s, have_w;
		uint64_t	 s, w;
	} cases[] = {
		/* Dovecot, from protocols.md 4.1. */
		{ "1276528487.M364837P9451.kurkku,S=1355,W=1394:2,S", true,
		    true, true, 1355, 1394 },
		{ "1276528487.M364837P9451.kurkku,S=1355,W=1394", true,
		    true, true, 1355, 1394 },
		{ "1276528487.M364837P9451.kurkku,W=1394,S=1355:2,", true,
		    true, true, 1355, 1394 },
		/* Courier: S= only, with V/I parts. */
		{ "1276528487.M364837P9451V0000000000000803I00000000001A2B3C"
		    ".mail.example.test,S=4096:2,RS", true, true, false, 4096,
		    0 },
		{ "1276528487.M364837P9451.host,S=0", true, true, false, 0,
		    0 },
		/* qmail: none. */
		{ "1276528487.9451.host", true, false, false, 0, 0 },
		{ "1276528487.9451.host:2,S", true, false, false, 0, 0 },
		{ "", true, false, false, 0, 0 },
		/* After ':' is the info part, not a size. */
		{ "x:2,S,S=5", true, false, false, 0, 0 },
		{ "x,S=5:2,W=7", true, true, false, 5, 0 },
		/* Unknown fields are skipped; leading zeros are digits. */
		{ "x,Z=1,S=007,W=8,V=9", true, true, true, 7, 8 },
		/* The first occurrence decides. */
		{ "x,S=1,S=2,W=3,W=4", true, true, true, 1, 3 },
		{ "x,S=a,S=2", false, false, false, 0, 0 },
		/* u64 at N and N+1. */
		{ "x,S=18446744073709551615,W=18446744073709551615", true,
		    true, true, UINT64_MAX, UINT64_MAX },
		{ "x,S=18446744073709551616,W=1", false, false, true, 0, 1 },
		{ "x,S=1,W=99999999999999999999", false, true, false, 1, 0 },
		/* Garbage. */
		{ "x,S=", false, false, false, 0, 0 },
		{ "x,S=:2,S", false, false, false, 0, 0 },
		{ "x,S=,W=3", false, false, true, 0, 3 },
		{ "x,S=12a,W=3", false, false, true, 0, 3 },
		{ "x,S=-1", false, false, false, 0, 0 },
		{ "x,S= 1", false, false, false, 0, 0 },
		{ "x,S=+1", false, false, false, 0, 0 },
		{ "x,s=1,w=2", true, false, false, 0, 0 },
		{ "x,S1,W", true, false, false, 0, 0 },
		{ "x,S", true, false, false, 0, 0 },
		{ ",", true, false, false, 0, 0 },
		{ "S=5", true, false, false, 0, 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		uint64_t	 s = 12345, w = 54321;
		bool		 hs = true, hw = true, ok;

		ok = maildir_name_sizes(cases[i].name, &s, &hs, &w, &hw);
		if (ok != cases[i].want_ok || hs != cases[i].have_s ||
		    hw != cases[i].have_w)
			fail_msg("\"%s\": ok %d S %d W %d", cases[i].name, ok,
			    hs, hw);
		assert_true(s == (hs ? cases[i].s : 12345));	/* untouched */
		assert_true(w == (hw ? cases[i].w : 54321));
	}
	/* NULL outputs are allowed. */
	assert_true(maildir_name_sizes("x,S=1,W=2", NULL, NULL, NULL, NULL));
}

/* --- maildir_ensure --- */

static const char *const folders4[] = { "Drafts", "Sent", "Trash", "Junk" };

static void
test_ensure_tree(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL, *home = pth(f, "example.test/bob/Maildir");
	static const char *const dirs[] = {
		"example.test", "example.test/bob", "example.test/bob/Maildir",
		"example.test/bob/Maildir/cur", "example.test/bob/Maildir/new",
		"example.test/bob/Maildir/tmp",
	};
	size_t		 i, j;

	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	for (i = 0; i < N_ELEMENTS(dirs); i++)
		assert_mode(pth(f, dirs[i]), 0700, f->uid, f->gid);
	for (i = 0; i < N_ELEMENTS(folders4); i++) {
		const char *fd = arena_printf(f->a, "%s/.%s", home,
		    folders4[i]);
		static const char *const sub[] = { "cur", "new", "tmp" };

		assert_mode(fd, 0700, f->uid, f->gid);
		for (j = 0; j < 3; j++)
			assert_mode(arena_printf(f->a, "%s/%s", fd, sub[j]),
			    0700, f->uid, f->gid);
		assert_mode(arena_printf(f->a, "%s/maildirfolder", fd), 0600,
		    f->uid, f->gid);
	}
	assert_mode(arena_printf(f->a, "%s/subscriptions", home), 0600,
	    f->uid, f->gid);
	assert_string_equal(read_file(f, arena_printf(f->a,
	    "%s/subscriptions", home), NULL),
	    "V\t2\n\nDrafts\nSent\nTrash\nJunk\n");
	assert_false(exists(arena_printf(f->a, "%s/subscriptions.lock",
	    home)));
	assert_true(maildir_folder_exists(home, "Sent"));
	assert_false(maildir_folder_exists(home, "Archive"));
	assert_false(maildir_folder_exists(home, "INBOX"));
	assert_false(maildir_folder_exists(home, "a/b"));
	assert_false(maildir_folder_exists(home, ".Sent"));
	/* No folders at all: just INBOX, no subscriptions file. */
	home = pth(f, "example.test/carol");
	assert_int_equal(maildir_ensure(f->root, home, NULL, 0, f->uid,
	    f->gid, f->a, &err), 0);
	assert_true(exists(arena_printf(f->a, "%s/new", home)));
	assert_false(exists(arena_printf(f->a, "%s/subscriptions", home)));
	/* A root given with a trailing slash, a home with doubled ones. */
	assert_int_equal(maildir_ensure(arena_printf(f->a, "%s/", f->root),
	    arena_printf(f->a, "%s//example.test//dave/", f->root), NULL, 0,
	    f->uid, f->gid, f->a, &err), 0);
	assert_true(exists(pth(f, "example.test/dave/tmp")));
}

static void
test_ensure_idempotent(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL, *home = pth(f, "d/u"), *subs;
	struct stat	 st1, st2;

	subs = arena_printf(f->a, "%s/subscriptions", home);
	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	assert_int_equal(stat(subs, &st1), 0);
	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	assert_int_equal(stat(subs, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino);	/* not rewritten */
	assert_string_equal(read_file(f, subs, NULL),
	    "V\t2\n\nDrafts\nSent\nTrash\nJunk\n");
	assert_int_equal(stat(arena_printf(f->a, "%s/.Sent/maildirfolder",
	    home), &st1), 0);
	assert_int_equal(st1.st_size, 0);
	/* A folder the user deleted comes back, and is subscribed again
	 * once; the others are not duplicated. */
	rm_rf(arena_printf(f->a, "%s/.Junk", home));
	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	assert_true(maildir_folder_exists(home, "Junk"));
	assert_string_equal(read_file(f, subs, NULL),
	    "V\t2\n\nDrafts\nSent\nTrash\nJunk\n");
	/* Unsubscribed but existing: left unsubscribed. */
	write_str(subs, "V\t2\n\nDrafts\n");
	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	assert_string_equal(read_file(f, subs, NULL), "V\t2\n\nDrafts\n");
	/* A missing cur/ is made again. */
	assert_int_equal(rmdir(arena_printf(f->a, "%s/.Sent/cur", home)), 0);
	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	assert_mode(arena_printf(f->a, "%s/.Sent/cur", home), 0700, f->uid,
	    f->gid);
}

static void
test_ensure_subscriptions_append(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL, *home = pth(f, "d/u"), *subs;
	static const char *const two[] = { "Drafts", "Sent" };
	static const char *const dup[] = { "Trash", "Trash" };

	subs = arena_printf(f->a, "%s/subscriptions", home);
	assert_int_equal(mkdir(pth(f, "d"), 0700), 0);
	assert_int_equal(mkdir(home, 0700), 0);
	/* v2 without a final LF; Sent already listed (with a trailing
	 * separator, which is ignored). */
	write_str(subs, "V\t2\n\nSent\t\nArchive");
	assert_int_equal(maildir_ensure(f->root, home, two, 2, f->uid, f->gid,
	    f->a, &err), 0);
	assert_string_equal(read_file(f, subs, NULL),
	    "V\t2\n\nSent\t\nArchive\nDrafts\n");
	/* The same name twice in the list is subscribed once. */
	assert_int_equal(maildir_ensure(f->root, home, dup, 2, f->uid, f->gid,
	    f->a, &err), 0);
	assert_string_equal(read_file(f, subs, NULL),
	    "V\t2\n\nSent\t\nArchive\nDrafts\nTrash\n");
	/* v1 stays v1; its trailing '.' separator is ignored. */
	home = pth(f, "d/v1");
	subs = arena_printf(f->a, "%s/subscriptions", home);
	assert_int_equal(mkdir(home, 0700), 0);
	write_str(subs, "Sent.\n");
	assert_int_equal(maildir_ensure(f->root, home, two, 2, f->uid, f->gid,
	    f->a, &err), 0);
	assert_string_equal(read_file(f, subs, NULL), "Sent.\nDrafts\n");
	/* An empty existing file becomes v2. */
	home = pth(f, "d/empty");
	subs = arena_printf(f->a, "%s/subscriptions", home);
	assert_int_equal(mkdir(home, 0700), 0);
	write_str(subs, "");
	assert_int_equal(maildir_ensure(f->root, home, two, 2, f->uid, f->gid,
	    f->a, &err), 0);
	assert_string_equal(read_file(f, subs, NULL),
	    "V\t2\n\nDrafts\nSent\n");
}

static void
test_ensure_refuses(void **state)
{
	struct fx	*f = *state;
	const char	*err, *log, *outside = pth(f, "outside");
	char		 name200[202], name201[203];
	const char	*one[1];
	char		*sib;
	size_t		 i;
	static const char *const bad_folders[] = {
		"", ".", "..", ".Sent", "a.b", "a/b", "INBOX", "inbox",
		"a\tb", "a\nb", "caf\xc3\xa9", "a\x7f",
	};

	assert_int_equal(mkdir(outside, 0700), 0);
	log_capture_start(f);
	/* A symlinked home, and a symlink half-way down. */
	assert_int_equal(mkdir(pth(f, "d"), 0700), 0);
	assert_int_equal(symlink(outside, pth(f, "d/link")), 0);
	err = NULL;
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/link"), NULL, 0,
	    f->uid, f->gid, f->a, &err), -1);
	assert_non_null(err);
	assert_null(strchr(err, '/'));		/* no paths in replies */
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/link/user"), NULL,
	    0, f->uid, f->gid, f->a, &err), -1);
	assert_int_equal(dir_count(f, outside, NULL), 0);
	/* A symlinked folder (pointing at a valid Maildir elsewhere). */
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/u"), NULL, 0,
	    f->uid, f->gid, f->a, &err), 0);
	assert_int_equal(symlink(outside, pth(f, "d/u/.Sent")), 0);
	one[0] = "Sent";
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/u"), one, 1,
	    f->uid, f->gid, f->a, &err), -1);
	assert_int_equal(dir_count(f, outside, NULL), 0);
	assert_false(maildir_folder_exists(pth(f, "d/u"), "Sent"));
	/* A symlinked new/. */
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/w"), NULL, 0,
	    f->uid, f->gid, f->a, &err), 0);
	assert_int_equal(rmdir(pth(f, "d/w/new")), 0);
	assert_int_equal(symlink(outside, pth(f, "d/w/new")), 0);
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/w"), NULL, 0,
	    f->uid, f->gid, f->a, &err), -1);
	/* A home that is a file. */
	write_str(pth(f, "d/file"), "x");
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/file"), NULL, 0,
	    f->uid, f->gid, f->a, &err), -1);
	/* Outside the root: not at a '/' boundary, "..", relative, the
	 * root itself. */
	sib = arena_printf(f->a, "%sx/u", f->root);
	assert_int_equal(maildir_ensure(f->root, sib, NULL, 0, f->uid, f->gid,
	    f->a, &err), -1);
	assert_false(exists(arena_printf(f->a, "%sx", f->root)));
	assert_int_equal(maildir_ensure(f->root, pth(f, "../escape"), NULL, 0,
	    f->uid, f->gid, f->a, &err), -1);
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/../../escape"),
	    NULL, 0, f->uid, f->gid, f->a, &err), -1);
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/a..b"), NULL, 0,
	    f->uid, f->gid, f->a, &err), -1);
	assert_int_equal(maildir_ensure(f->root, "d/u", NULL, 0, f->uid,
	    f->gid, f->a, &err), -1);
	assert_int_equal(maildir_ensure("relative", pth(f, "d/u"), NULL, 0,
	    f->uid, f->gid, f->a, &err), -1);
	assert_int_equal(maildir_ensure(f->root, f->root, NULL, 0, f->uid,
	    f->gid, f->a, &err), -1);
	assert_int_equal(maildir_ensure(f->root, pth(f, ""), NULL, 0, f->uid,
	    f->gid, f->a, &err), -1);
	/* A root that does not exist is not created. */
	assert_int_equal(maildir_ensure(pth(f, "noroot"), pth(f, "noroot/u"),
	    NULL, 0, f->uid, f->gid, f->a, &err), -1);
	assert_false(exists(pth(f, "noroot")));
	/* Folder names. */
	for (i = 0; i < N_ELEMENTS(bad_folders); i++) {
		one[0] = bad_folders[i];
		err = NULL;
		if (maildir_ensure(f->root, pth(f, "d/x"), one, 1, f->uid,
		    f->gid, f->a, &err) != -1)
			fail_msg("folder \"%s\" accepted", bad_folders[i]);
		assert_string_equal(err, "invalid folder name");
	}
	memset(name200, 'a', 200);	/* N = 200 */
	name200[200] = '\0';
	memset(name201, 'a', 201);	/* N + 1 */
	name201[201] = '\0';
	one[0] = name201;
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/x"), one, 1,
	    f->uid, f->gid, f->a, &err), -1);
	log = log_capture_end(f);
	/* Each refusal was logged with its path. */
	assert_non_null(strstr(log, "d/link is a symbolic link"));
	assert_non_null(strstr(log, "d/u/.Sent is a symbolic link"));
	assert_non_null(strstr(log, "not below the mail root"));
	one[0] = name200;
	assert_int_equal(maildir_ensure(f->root, pth(f, "d/x"), one, 1,
	    f->uid, f->gid, f->a, &err), 0);
	assert_true(maildir_folder_exists(pth(f, "d/x"), name200));
	assert_false(maildir_folder_exists(pth(f, "d/x"), name201));
}

/* --- storing --- */

static const char msg_text[] =
	"From: a@example.test\n"
	"To: b@example.test\n"
	"Subject: test\n"
	"\n"
	"body line 1\n"
	"body line 2\n";

/* Write s in pieces of 1, 2, 3... bytes, to cross every boundary. */
static void
write_pieces(struct maildir_msg *m, const char *s, size_t n)
{
	size_t	 o = 0, k = 1;

	while (o < n) {
		size_t len = k < n - o ? k : n - o;

		assert_int_equal(maildir_msg_write(m, s + o, len), 0);
		o += len;
		k++;
	}
}

static void
test_store_three(void **state)
{
	struct fx		*f = *state;
	const char		*err = NULL, *homes[3], *names[3], *body;
	struct maildir_msg	*m;
	struct stat		 st;
	size_t			 i, len;
	bool			 nospace = true;
	uint64_t		 s, w;
	bool			 hs, hw;

	for (i = 0; i < 3; i++) {
		homes[i] = pth(f, arena_printf(f->a, "example.test/u%zu", i));
		assert_int_equal(maildir_ensure(f->root, homes[i], folders4, 4,
		    f->uid, f->gid, f->a, &err), 0);
	}
	m = maildir_msg_create(f->root, homes[0], "mx.example.test", f->uid,
	    f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", homes[0]),
	    NULL), 1);
	write_pieces(m, msg_text, strlen(msg_text));
	assert_int_equal(maildir_msg_finish(m, &nospace, f->a, &err), 0);
	assert_false(nospace);
	assert_int_equal(maildir_msg_size(m), strlen(msg_text));
	assert_int_equal(maildir_msg_vsize(m), strlen(msg_text) + 6);
	for (i = 0; i < 3; i++) {
		nospace = true;
		assert_int_equal(maildir_msg_deliver(m, f->root, homes[i], NULL,
		    &nospace, f->a, &err), D_OK);
		assert_false(nospace);
	}
	for (i = 0; i < 3; i++) {
		const char *path;

		assert_int_equal(dir_count(f, arena_printf(f->a, "%s/new",
		    homes[i]), &names[i]), 1);
		path = arena_printf(f->a, "%s/new/%s", homes[i], names[i]);
		body = read_file(f, path, &len);
		assert_int_equal(len, strlen(msg_text));
		assert_memory_equal(body, msg_text, len);
		assert_true(maildir_name_sizes(names[i], &s, &hs, &w, &hw));
		assert_true(hs && hw);
		assert_int_equal(s, strlen(msg_text));
		assert_int_equal(w, strlen(msg_text) + 6);
		assert_null(strchr(names[i], ':'));	/* new/: no info */
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_nlink, 4);	/* tmp/ + 3 */
		assert_mode(path, 0600, f->uid, f->gid);
		assert_int_equal(dir_count(f, arena_printf(f->a, "%s/cur",
		    homes[i]), NULL), 0);
	}
	/* A base name of its own in each mailbox. */
	assert_string_not_equal(names[0], names[1]);
	assert_string_not_equal(names[1], names[2]);
	assert_string_not_equal(names[0], names[2]);
	maildir_msg_destroy(&m);
	assert_null(m);
	maildir_msg_destroy(&m);		/* NULL: nothing */
	for (i = 0; i < 3; i++) {
		assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp",
		    homes[i]), NULL), 0);
		assert_int_equal(stat(arena_printf(f->a, "%s/new/%s", homes[i],
		    names[i]), &st), 0);
		assert_int_equal(st.st_nlink, 3);
	}
}

static void
test_store_sizes(void **state)
{
	struct fx		*f = *state;
	const char		*err = NULL, *home = pth(f, "d/u"), *name;
	struct maildir_msg	*m;
	char			*big, *body;
	size_t			 bigsz = 3 * 65536 + 17, i, len;
	uint64_t		 s, w;
	bool			 hs, hw;

	assert_int_equal(maildir_ensure(f->root, home, NULL, 0, f->uid,
	    f->gid, f->a, &err), 0);
	/* CRLF counts once, bare LF twice, also when the CR and the LF
	 * come in different writes; empty writes are fine. */
	m = maildir_msg_create(f->root, home, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_write(m, "a\r\nb\n", 5), 0);
	assert_int_equal(maildir_msg_write(m, "c\r", 2), 0);
	assert_int_equal(maildir_msg_write(m, "", 0), 0);
	assert_int_equal(maildir_msg_write(m, "\n", 1), 0);
	assert_int_equal(maildir_msg_write(m, "\n\n", 2), 0);
	assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
	assert_int_equal(maildir_msg_size(m), 10);
	assert_int_equal(maildir_msg_vsize(m), 13);
	maildir_msg_destroy(&m);
	/* An empty message is a message. */
	m = maildir_msg_create(f->root, home, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
	assert_int_equal(maildir_msg_deliver(m, f->root, home, NULL, NULL,
	    f->a, &err), D_OK);
	maildir_msg_destroy(&m);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/new", home),
	    &name), 1);
	assert_non_null(strstr(name, ",S=0,W=0"));
	assert_int_equal(unlink(arena_printf(f->a, "%s/new/%s", home, name)),
	    0);
	/* Bigger than the write buffer, in one write and in small ones. */
	big = xmalloc(bigsz);
	for (i = 0; i < bigsz; i++)
		big[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
	m = maildir_msg_create(f->root, home, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_write(m, big, 100), 0);
	assert_int_equal(maildir_msg_write(m, big + 100, bigsz - 200), 0);
	write_pieces(m, big + bigsz - 100, 100);
	assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
	assert_int_equal(maildir_msg_deliver(m, f->root, home, NULL, NULL,
	    f->a, &err), D_OK);
	maildir_msg_destroy(&m);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/new", home),
	    &name), 1);
	body = read_file(f, arena_printf(f->a, "%s/new/%s", home, name), &len);
	assert_int_equal(len, bigsz);
	assert_memory_equal(body, big, bigsz);
	assert_true(maildir_name_sizes(name, &s, &hs, &w, &hw));
	assert_int_equal(s, bigsz);
	assert_int_equal(w, bigsz + bigsz / 61);
	free(big);
}

static void
test_store_folder(void **state)
{
	struct fx		*f = *state;
	const char		*err = NULL, *home = pth(f, "d/u"), *log;
	struct maildir_msg	*m;

	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	m = maildir_msg_create(f->root, home, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_write(m, msg_text, strlen(msg_text)), 0);
	assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
	assert_int_equal(maildir_msg_deliver(m, f->root, home, "Sent", NULL,
	    f->a, &err), D_OK);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/.Sent/new",
	    home), NULL), 1);
	assert_int_equal(maildir_msg_deliver(m, f->root, home, "INBOX", NULL,
	    f->a, &err), D_OK);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/new", home),
	    NULL), 1);
	log_capture_start(f);
	err = NULL;
	assert_int_equal(maildir_msg_deliver(m, f->root, home, "Nope", NULL,
	    f->a, &err), D_TEMP);
	assert_non_null(err);
	assert_null(strchr(err, '/'));
	assert_int_equal(maildir_msg_deliver(m, f->root, home, "../x", NULL,
	    f->a, &err), D_TEMP);
	assert_string_equal(err, "invalid folder name");
	assert_int_equal(maildir_msg_deliver(m, f->root, pth(f, "d/none"),
	    NULL, NULL, f->a, &err), D_TEMP);
	log = log_capture_end(f);
	assert_non_null(strstr(log, "d/u/.Nope"));
	maildir_msg_destroy(&m);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", home),
	    NULL), 0);
	/* A message that was never finished leaves nothing either. */
	m = maildir_msg_create(f->root, home, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_write(m, "x\n", 2), 0);
	maildir_msg_destroy(&m);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", home),
	    NULL), 0);
}

static void
test_store_fail(void **state)
{
	struct fx		*f = *state;
	const char		*err = NULL, *ok = pth(f, "d/ok");
	const char		*bad = pth(f, "d/bad"), *log, *newdir;
	struct maildir_msg	*m;
	bool			 nospace = true;

	assert_int_equal(maildir_ensure(f->root, ok, NULL, 0, f->uid, f->gid,
	    f->a, &err), 0);
	assert_int_equal(maildir_ensure(f->root, bad, NULL, 0, f->uid, f->gid,
	    f->a, &err), 0);
	newdir = arena_printf(f->a, "%s/new", bad);
	/* root writes anywhere: there, new/ is made a file instead. */
	if (is_root()) {
		assert_int_equal(rmdir(newdir), 0);
		write_str(newdir, "");
	} else
		assert_int_equal(chmod(newdir, 0500), 0);
	m = maildir_msg_create(f->root, ok, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_write(m, msg_text, strlen(msg_text)), 0);
	assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
	log_capture_start(f);
	err = NULL;
	assert_int_equal(maildir_msg_deliver(m, f->root, bad, NULL, &nospace,
	    f->a, &err), D_TEMP);
	log = log_capture_end(f);
	assert_false(nospace);
	assert_non_null(err);
	assert_null(strchr(err, '/'));
	assert_non_null(strstr(log, "d/bad"));
	/* The other recipient still gets it. */
	assert_int_equal(maildir_msg_deliver(m, f->root, ok, NULL, NULL, f->a,
	    &err), D_OK);
	maildir_msg_destroy(&m);
	if (is_root()) {
		struct stat st;

		assert_int_equal(stat(newdir, &st), 0);
		assert_true(S_ISREG(st.st_mode) && st.st_size == 0);
	} else {
		assert_int_equal(chmod(newdir, 0700), 0);
		assert_int_equal(dir_count(f, newdir, NULL), 0);
	}
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", bad),
	    NULL), 0);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/new", ok), NULL),
	    1);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", ok), NULL),
	    0);
	/* create fails without a tmp/, and outside the root. */
	log_capture_start(f);
	assert_int_equal(rmdir(arena_printf(f->a, "%s/tmp", ok)), 0);
	assert_null(maildir_msg_create(f->root, ok, "h", f->uid, f->gid, f->a,
	    &err));
	assert_null(maildir_msg_create(f->root, "/etc", "h", f->uid, f->gid,
	    f->a, &err));
	/* A host name too long for a file name. */
	assert_int_equal(mkdir(arena_printf(f->a, "%s/tmp", ok), 0700), 0);
	{
		char	 host[201];

		memset(host, 'h', 200);
		host[200] = '\0';
		assert_null(maildir_msg_create(f->root, ok, host, f->uid,
		    f->gid, f->a, &err));
	}
	log = log_capture_end(f);
	assert_non_null(strstr(log, "host name too long"));
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", ok), NULL),
	    0);
}

/* Across file systems: /dev/shm (tmpfs) when it is one of its own. */
static void
test_store_exdev(void **state)
{
	struct fx		*f = *state;
	const char		*err = NULL, *home = pth(f, "d/u"), *name;
	char			 root2[64], *home2, *body;
	struct maildir_msg	*m;
	struct stat		 st1, st2;
	size_t			 len;

	if (stat("/dev/shm", &st2) != 0 || stat(f->root, &st1) != 0 ||
	    st1.st_dev == st2.st_dev || access("/dev/shm", W_OK) != 0) {
		skip();
		return;
	}
	(void)snprintf(root2, sizeof(root2), "/dev/shm/aviary-md-XXXXXX");
	assert_non_null(mkdtemp(root2));
	home2 = arena_printf(f->a, "%s/d/u", root2);
	assert_int_equal(maildir_ensure(f->root, home, NULL, 0, f->uid,
	    f->gid, f->a, &err), 0);
	assert_int_equal(maildir_ensure(root2, home2, NULL, 0, f->uid, f->gid,
	    f->a, &err), 0);
	m = maildir_msg_create(f->root, home, "h", f->uid, f->gid, f->a, &err);
	assert_non_null(m);
	assert_int_equal(maildir_msg_write(m, msg_text, strlen(msg_text)), 0);
	assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
	assert_int_equal(maildir_msg_deliver(m, root2, home2, NULL, NULL, f->a,
	    &err), D_OK);
	assert_int_equal(maildir_msg_deliver(m, f->root, home, NULL, NULL,
	    f->a, &err), D_OK);
	maildir_msg_destroy(&m);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/new", home2),
	    &name), 1);
	body = read_file(f, arena_printf(f->a, "%s/new/%s", home2, name),
	    &len);
	assert_int_equal(len, strlen(msg_text));
	assert_memory_equal(body, msg_text, len);
	assert_mode(arena_printf(f->a, "%s/new/%s", home2, name), 0600,
	    f->uid, f->gid);
	assert_int_equal(stat(arena_printf(f->a, "%s/new/%s", home2, name),
	    &st1), 0);
	assert_int_equal(st1.st_nlink, 1);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", home2),
	    NULL), 0);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", home),
	    NULL), 0);
	rm_rf(root2);
}

/* --- quota --- */

/* A message file of n bytes named with S= (or without, to make the
 * rebuild stat it). */
static void
put_msg(struct fx *f, const char *dir, unsigned k, size_t n, bool with_s)
{
	char	*buf = xcalloc(1, n + 1);

	memset(buf, 'x', n);
	write_file(arena_printf(f->a, "%s/1700000000.M%06uP1.h%s%s", dir, k,
	    with_s ? arena_printf(f->a, ",S=%zu,W=%zu", n, n) : "",
	    k % 2 ? ":2,S" : ""), buf, n);
	free(buf);
}

/* home d/u with INBOX new/ 100+200 (one without S=), cur/ 300, .Trash/cur
 * 400, .Sent/new 500: 1500 bytes in 5 messages. */
static const char *
quota_home(struct fx *f)
{
	const char	*err, *home = pth(f, "d/u");

	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	put_msg(f, arena_printf(f->a, "%s/new", home), 1, 100, true);
	put_msg(f, arena_printf(f->a, "%s/new", home), 2, 200, false);
	put_msg(f, arena_printf(f->a, "%s/cur", home), 3, 300, true);
	put_msg(f, arena_printf(f->a, "%s/.Trash/cur", home), 4, 400, true);
	put_msg(f, arena_printf(f->a, "%s/.Sent/new", home), 5, 500, false);
	/* Not messages: dot files, a symlinked folder, tmp/. */
	write_str(arena_printf(f->a, "%s/cur/.hidden,S=9999", home), "x");
	write_str(arena_printf(f->a, "%s/tmp/1.M1P1.h,S=9999", home), "x");
	assert_int_equal(symlink(arena_printf(f->a, "%s/.Trash", home),
	    arena_printf(f->a, "%s/.Loop", home)), 0);
	return home;
}

static void
get_usage(struct fx *f, const char *home, uint64_t lb, uint64_t lm,
    uint64_t want_b, uint64_t want_m)
{
	struct maildir_usage	 u = { 7, 7 };
	const char		*err = NULL;

	if (maildir_quota_get(f->root, home, lb, lm, f->uid, f->gid, &u, f->a,
	    &err) != 0)
		fail_msg("maildir_quota_get: %s", err);
	if (u.bytes != want_b || u.messages != want_m)
		fail_msg("usage %" PRIu64 " %" PRIu64 ", want %" PRIu64 " %"
		    PRIu64, u.bytes, u.messages, want_b, want_m);
}

static void
test_quota_rebuild_and_add(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL, *home = quota_home(f), *ms;

	ms = arena_printf(f->a, "%s/maildirsize", home);
	assert_false(exists(ms));
	/* Missing: rebuilt, with the limits line. */
	get_usage(f, home, 10000, 100, 1500, 5);
	assert_string_equal(read_file(f, ms, NULL), "10000S,100C\n1500 5\n");
	assert_mode(ms, 0600, f->uid, f->gid);
	assert_int_equal(dir_count(f, arena_printf(f->a, "%s/tmp", home),
	    NULL), 1);		/* only the decoy */
	/* Deltas are appended and summed, without a rebuild. */
	assert_int_equal(maildir_quota_add(f->root, home, 250, 1, f->a, &err),
	    0);
	assert_int_equal(maildir_quota_add(f->root, home, -100, -1, f->a,
	    &err), 0);
	assert_string_equal(read_file(f, ms, NULL),
	    "10000S,100C\n1500 5\n250 1\n-100 -1\n");
	get_usage(f, home, 10000, 100, 1650, 5);
	/* Limits changed: rebuilt with the new line. Unlimited is 0. */
	get_usage(f, home, 0, 0, 1500, 5);
	assert_string_equal(read_file(f, ms, NULL), "0S,0C\n1500 5\n");
	/* A missing file is not created by an add. */
	assert_int_equal(unlink(ms), 0);
	assert_int_equal(maildir_quota_add(f->root, home, 1, 1, f->a, &err),
	    0);
	assert_false(exists(ms));
	/* Outside the root: an error, logged. */
	log_capture_start(f);
	assert_int_equal(maildir_quota_add(f->root, "/etc", 1, 1, f->a, &err),
	    -1);
	assert_non_null(strstr(log_capture_end(f), "not below the mail root"));
}

/* Write ms as "<limits>\n<lines>" and check whether get trusts it (the
 * usage it claims is 1 1, the real one 1500 5). */
static void
check_trusted(struct fx *f, const char *home, const char *content,
    uint64_t lb, uint64_t lm, bool want_trusted)
{
	const char	*ms = arena_printf(f->a, "%s/maildirsize", home);

	write_str(ms, content);
	if (want_trusted)
		get_usage(f, home, lb, lm, 1, 1);
	else {
		get_usage(f, home, lb, lm, 1500, 5);
		assert_string_equal(read_file(f, ms, NULL), arena_printf(f->a,
		    "%" PRIu64 "S,%" PRIu64 "C\n1500 5\n", lb, lm));
	}
}

/* A valid maildirsize of exactly 'total' bytes claiming 1 1: the summary,
 * "0 0" deltas, and a last delta padded with spaces (as Courier pads). */
static void
sized_file(char *out, size_t total)
{
	size_t	 len = (size_t)snprintf(out, total + 1, "1000S,10C\n1 1\n");

	while (len + 4 + 4 <= total) {
		memcpy(out + len, "0 0\n", 4);
		len += 4;
	}
	memset(out + len, ' ', total - len - 4);
	memcpy(out + total - 4, "0 0\n", 4);
	out[total] = '\0';
	assert_int_equal(strlen(out), total);
}

static void
test_quota_rebuild_rules(void **state)
{
	struct fx	*f = *state;
	const char	*home = quota_home(f), *ms;
	char		 big[5200];
	struct timespec	 ts[2];

	ms = arena_printf(f->a, "%s/maildirsize", home);
	check_trusted(f, home, "1000S,10C\n1 1\n", 1000, 10, true);
	/* Courier padding and tabs are fine; so are deltas summing up. */
	check_trusted(f, home, "1000S,10C\n  3 \t 2     \n-2 -1\n", 1000, 10,
	    true);
	/* Size: 5119 bytes (N) trusted, 5120 (N+1) rebuilt. */
	sized_file(big, 5119);
	check_trusted(f, home, big, 1000, 10, true);
	sized_file(big, 5120);
	check_trusted(f, home, big, 1000, 10, false);
	/* Damage. */
	check_trusted(f, home, "1000S,10C\n1 1\ngarbage\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n2\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n2 3 4\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n2x 3\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n- 3\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n1 1", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C", 1000, 10, false);
	check_trusted(f, home, "", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n9223372036854775807 1\n1 0\n", 0,
	    0, false);
	{
		static const char nul[] = "1000S,10C\n1 1\n\0\n";

		write_file(ms, nul, sizeof(nul) - 1);
		get_usage(f, home, 1000, 10, 1500, 5);
	}
	/* Negative totals. */
	check_trusted(f, home, "1000S,10C\n1 1\n-2 0\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n0 -2\n", 1000, 10, false);
	write_str(ms, "1000S,10C\n1 1\n-1 -1\n");	/* zero is fine */
	get_usage(f, home, 1000, 10, 0, 0);
	/* The limits line must match exactly. */
	check_trusted(f, home, "1000S\n1 1\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n", 1001, 10, false);
	check_trusted(f, home, "1000S,10C\n1 1\n", 1000, 11, false);
	check_trusted(f, home, "10C,1000S\n1 1\n", 1000, 10, false);
	/* Over quota: at the limit (N) is not over; one more (N+1) is,
	 * and then only a lone summary line in a fresh file is trusted. */
	write_str(ms, "1000S,10C\n1000 10\n");
	get_usage(f, home, 1000, 10, 1000, 10);
	write_str(ms, "1000S,10C\n999 9\n1 1\n");
	get_usage(f, home, 1000, 10, 1000, 10);
	write_str(ms, "1000S,10C\n1001 1\n");
	get_usage(f, home, 1000, 10, 1001, 1);
	write_str(ms, "1000S,10C\n1 11\n");
	get_usage(f, home, 1000, 10, 1, 11);
	check_trusted(f, home, "1000S,10C\n1000 1\n1 0\n", 1000, 10, false);
	check_trusted(f, home, "1000S,10C\n1 10\n0 1\n", 1000, 10, false);
	check_trusted(f, home, "10S,0C\n1 1\n", 10, 0, true);	/* not over */
	/* Over and older than 15 minutes: 14:50 trusted, 15:10 not. */
	write_str(ms, "1000S,10C\n1001 1\n");
	(void)clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 15 * 60 - 10;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, ms, ts, 0), 0);
	get_usage(f, home, 1000, 10, 1001, 1);
	ts[0].tv_sec -= 20;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, ms, ts, 0), 0);
	get_usage(f, home, 1000, 10, 1500, 5);
	/* Old but not over: trusted. */
	write_str(ms, "1000S,10C\n1 1\n");
	assert_int_equal(utimensat(AT_FDCWD, ms, ts, 0), 0);
	get_usage(f, home, 1000, 10, 1, 1);
	/* A symlink in its place is replaced, not followed. */
	assert_int_equal(unlink(ms), 0);
	write_str(pth(f, "elsewhere"), "1000S,10C\n1 1\n");
	assert_int_equal(symlink(pth(f, "elsewhere"), ms), 0);
	get_usage(f, home, 1000, 10, 1500, 5);
	assert_string_equal(read_file(f, pth(f, "elsewhere"), NULL),
	    "1000S,10C\n1 1\n");
}

/* The whole path, as delivery uses it: quota, store, add. */
static void
test_quota_with_delivery(void **state)
{
	struct fx		*f = *state;
	const char		*err = NULL, *home = pth(f, "d/u");
	struct maildir_msg	*m;
	struct maildir_usage	 u;
	int			 i;

	assert_int_equal(maildir_ensure(f->root, home, folders4, 4, f->uid,
	    f->gid, f->a, &err), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(maildir_quota_get(f->root, home, 0, 0, f->uid,
		    f->gid, &u, f->a, &err), 0);
		assert_int_equal(u.messages, (uint64_t)i);
		assert_int_equal(u.bytes, (uint64_t)i * strlen(msg_text));
		m = maildir_msg_create(f->root, home, "h", f->uid, f->gid,
		    f->a, &err);
		assert_non_null(m);
		assert_int_equal(maildir_msg_write(m, msg_text,
		    strlen(msg_text)), 0);
		assert_int_equal(maildir_msg_finish(m, NULL, f->a, &err), 0);
		assert_int_equal(maildir_msg_deliver(m, f->root, home,
		    i == 2 ? "Trash" : NULL, NULL, f->a, &err), D_OK);
		assert_int_equal(maildir_quota_add(f->root, home,
		    (int64_t)maildir_msg_size(m), 1, f->a, &err), 0);
		maildir_msg_destroy(&m);
	}
	/* The appended deltas agree with a rebuild (Trash counts). */
	get_usage(f, home, 0, 0, 3 * strlen(msg_text), 3);
	assert_int_equal(unlink(arena_printf(f->a, "%s/maildirsize", home)),
	    0);
	get_usage(f, home, 0, 0, 3 * strlen(msg_text), 3);
}

static void
test_quota_exceeded(void **state)
{
	static const struct {
		uint64_t	 have_b, have_m, lb, lm, add;
		bool		 want;
	} cases[] = {
		{ 0, 0, 0, 0, UINT64_MAX, false },	/* unlimited */
		{ UINT64_MAX, UINT64_MAX, 0, 0, UINT64_MAX, false },
		{ 900, 5, 1000, 0, 100, false },	/* exactly the limit */
		{ 900, 5, 1000, 0, 101, true },		/* one byte over */
		{ 0, 0, 1000, 0, 1000, false },
		{ 0, 0, 1000, 0, 1001, true },
		{ 1000, 0, 1000, 0, 0, false },
		{ 1000, 0, 1000, 0, 1, true },
		{ 1001, 0, 1000, 0, 0, true },		/* already over */
		{ 900, 0, 1000, 0, UINT64_MAX, true },	/* no wrap-around */
		{ 0, 9, 0, 10, 1, false },		/* the 10th message */
		{ 0, 10, 0, 10, 1, true },		/* the 11th */
		{ 0, 11, 0, 10, 0, true },
		{ 0, 9, 1000, 10, 1000, false },	/* both at the limit */
		{ 0, 9, 1000, 10, 1001, true },
		{ 0, 10, 1000, 10, 1, true },
		{ UINT64_MAX - 1, 0, UINT64_MAX, 0, 1, false },
		{ UINT64_MAX - 1, 0, UINT64_MAX, 0, 2, true },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct maildir_usage u = { cases[i].have_b, cases[i].have_m };

		if (maildir_quota_exceeded(&u, cases[i].lb, cases[i].lm,
		    cases[i].add) != cases[i].want)
			fail_msg("case %zu", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_format),
		cmocka_unit_test(test_unique_no_duplicates),
		cmocka_unit_test(test_unique_escape),
		cmocka_unit_test(test_unique_buffer_size),
		cmocka_unit_test(test_name_sizes),
		cmocka_unit_test_setup_teardown(test_ensure_tree, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ensure_idempotent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_ensure_subscriptions_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ensure_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_three, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_sizes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_folder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_fail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_exdev, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quota_rebuild_and_add,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_rebuild_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quota_with_delivery, setup,
		    teardown),
		cmocka_unit_test(test_quota_exceeded),
	};

	return cmocka_run_group_tests_name("maildir", tests, NULL, NULL);
}
