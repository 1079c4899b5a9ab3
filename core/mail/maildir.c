/* maildir.c - Maildir++ storage; see aviary/maildir.h and protocols.md 4.
 *
 * Everything below the mail root is reached with openat() relative to a
 * directory descriptor, O_NOFOLLOW and O_DIRECTORY, one component at a
 * time (md_home_open), so a symbolic link planted anywhere below the root
 * -- by a user with shell access, or a restored backup -- makes the
 * operation fail instead of writing outside the tree. The root itself is
 * the administrator's path and is opened normally.
 *
 * Storing is qmail's procedure with Dovecot's refinements: write once into
 * tmp/ of the first mailbox, fsync, close (checking close: NFS reports
 * write errors there), then one hard link per recipient into new/, each
 * under its own fresh unique name, and fsync new/ before reporting
 * success. rename() would do for a single recipient (Dovecot's
 * maildir-save.c), but a link keeps the tmp/ file for the next recipient;
 * maildir_msg_destroy() removes it. Across file systems (EXDEV) the
 * message is copied into that mailbox's own tmp/ and renamed, so new/
 * never holds a partly written file.
 *
 * The maildirsize code follows Courier's README.maildirquota and
 * Dovecot's quota-maildir.c: the file is a cache, rebuilt whenever it
 * cannot be trusted; Trash counts (Dovecot's default). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"

#define MD_DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define MD_NEW_FLAGS	(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
/* A folder name without its leading '.': NAME_MAX less the dot, with room
 * to spare. Storage names are modified UTF-7, so ASCII only. */
#define MD_FOLDER_MAX	200
/* The unique base name leaves room for ",S=<20>,W=<20>" (46) and for a
 * reader's ":2,<flags and 26 keywords>" within MAILDIR_NAME_MAX. */
#define MD_BASE_MAX	(MAILDIR_NAME_MAX - 80)
#define MD_WBUF_SIZE	65536
#define MD_SUBS_FILE	"subscriptions"
/* Dovecot's dotlock, used as the new file as Dovecot does. */
#define MD_SUBS_LOCK	"subscriptions.lock"
#define MD_SUBS_MAX	(1024 * 1024)	/* bytes; far above any real list */
#define MD_LOCK_STALE	120		/* s, Dovecot's dotlock default */
#define MD_LOCK_TRIES	50		/* x 100 ms */
#define MD_QUOTA_FILE	"maildirsize"
#define MD_QUOTA_FILE_MAX 5120		/* bytes; Maildir++: rebuild at this */
#define MD_QUOTA_STALE	(15 * 60)	/* s; Maildir++: distrust when over */

/* One message being stored. Heap-allocated (not from the caller's arena)
 * because it lives until maildir_msg_destroy(), across recipients. */
struct maildir_msg {
	char		*home;		/* heap: the first mailbox, for logs */
	char		*host;		/* heap: for unique names; "" = ours */
	int		 tmpfd;		/* home/tmp/ of the first mailbox */
	int		 fd;		/* the tmp/ file while writing, else -1 */
	uid_t		 uid;
	gid_t		 gid;
	uint64_t	 size;		/* S=: bytes written */
	uint64_t	 vsize;		/* W=: with bare LFs counted as CRLF */
	int		 error;		/* first errno while writing; 0 = none */
	bool		 last_cr;	/* the last byte written was CR */
	bool		 is_finished;	/* maildir_msg_finish() succeeded */
	bool		 in_tmp;	/* name exists in tmp/ */
	size_t		 wlen;		/* bytes waiting in wbuf */
	char		 name[MD_BASE_MAX + 1];	/* in tmp/ */
	char		 last_name[MAILDIR_NAME_MAX + 1];	/* in new/, last deliver */
	char		 wbuf[MD_WBUF_SIZE];	/* also the copy buffer (EXDEV) */
};

static bool
md_is_root(void)
{
	return geteuid() == 0;
}

static bool
md_nospace(int err)
{
	return err == ENOSPC || err == EDQUOT;
}

static void
md_close(int *fdp)
{
	if (*fdp != -1) {
		(void)close(*fdp);
		*fdp = -1;
	}
}

static void
md_close_keep_errno(int fd)
{
	int	 saved = errno;

	(void)close(fd);
	errno = saved;
}

/* All of p, across short writes and EINTR. 0, or -1 with errno. */
static int
md_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A Maildir++ folder name as this module accepts it: 1..MD_FOLDER_MAX
 * printable ASCII bytes without '.' (the hierarchy separator, which we do
 * not create) or '/', and not INBOX (which is home itself). */
static bool
md_folder_valid(const char *f)
{
	size_t	 i;

	for (i = 0; f[i] != '\0'; i++) {
		unsigned char c = (unsigned char)f[i];

		if (i >= MD_FOLDER_MAX || c < 0x20 || c >= 0x7f || c == '.' ||
		    c == '/')
			return false;
	}
	return i > 0 && strcasecmp(f, "INBOX") != 0;
}

/* --- paths and directories --- */

/* The part of home below root, without leading slashes, or NULL when
 * either is relative, home contains "..", or home is not strictly below
 * root at a '/' boundary ("/mail" is not a prefix of "/mailx/a"). */
static const char *
md_home_rel(const char *root, const char *home)
{
	size_t	 rlen = strlen(root);

	if (root[0] != '/' || home[0] != '/' || strstr(home, "..") != NULL)
		return NULL;
	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	if (rlen > 1) {
		if (strncmp(home, root, rlen) != 0 || home[rlen] != '/')
			return NULL;
		home += rlen;
	}
	while (*home == '/')
		home++;
	return *home == '\0' ? NULL : home;
}

/* Open (and with 'create', first make: 0700, chown'ed when root, parent
 * fsync'ed) the directory 'name' in 'parent', never following a symbolic
 * link. 'ppath' is the parent's path, for logs. Returns the descriptor,
 * or -1 with *error_r set and the details logged. *created_r (may be
 * NULL) tells whether this call made it. */
static int
md_subdir(int parent, const char *ppath, const char *name, bool create,
    uid_t uid, gid_t gid, bool *created_r, const char **error_r)
{
	int	 fd;

	if (created_r != NULL)
		*created_r = false;
	fd = openat(parent, name, MD_DIR_FLAGS);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0700) == 0) {
			if (created_r != NULL)
				*created_r = true;
			if (md_is_root() && fchownat(parent, name, uid, gid,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				log_error("maildir: chown %s/%s: %m", ppath,
				    name);
				*error_r = "cannot create mailbox";
				return -1;
			}
			/* The new entry is durable only once its parent
			 * directory is: a message fsync'ed into a new/ that
			 * vanishes after a crash is lost all the same. */
			if (fsync(parent) == -1) {
				log_error("maildir: fsync %s: %m", ppath);
				*error_r = "cannot create mailbox";
				return -1;
			}
		} else if (errno != EEXIST) {	/* EEXIST: lost a race, fine */
			log_error("maildir: mkdir %s/%s: %m", ppath, name);
			*error_r = md_nospace(errno) ? "no space for mailbox" :
			    "cannot create mailbox";
			return -1;
		}
		fd = openat(parent, name, MD_DIR_FLAGS);
	}
	if (fd == -1) {
		if (errno == ELOOP || errno == ENOTDIR) {
			log_error("maildir: %s/%s is a symbolic link or not a "
			    "directory", ppath, name);
			*error_r = "mailbox path is not a directory";
		} else {
			log_error("maildir: open %s/%s: %m", ppath, name);
			*error_r = "mailbox not available";
		}
	}
	return fd;
}

/* Open home below root one component at a time (see the file comment);
 * with 'create', make what is missing. Returns a directory descriptor, or
 * -1 with *error_r set and the details logged. */
static int
md_home_open(const char *root, const char *home, bool create, uid_t uid,
    gid_t gid, const char **error_r)
{
	char		 path[PATH_MAX];
	const char	*rel = md_home_rel(root, home);
	size_t		 p, end, len = strlen(home);
	int		 fd, nfd;

	if (rel == NULL) {
		log_error("maildir: %s is not below the mail root %s", home,
		    root);
		*error_r = "mailbox path outside the mail root";
		return -1;
	}
	if (len >= sizeof(path)) {
		log_error("maildir: path too long: %.64s...", home);
		*error_r = "mailbox path too long";
		return -1;
	}
	memcpy(path, home, len + 1);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		log_error("maildir: open mail root %s: %m", root);
		*error_r = "mail root not available";
		return -1;
	}
	/* path[p - 1] is the '/' before each component: NUL it (and the one
	 * after) so path holds the parent and path + p the component. */
	for (p = (size_t)(rel - home); p < len; p = end) {
		char	 save;

		end = p;
		while (end < len && path[end] != '/')
			end++;
		save = path[end];
		path[p - 1] = '\0';
		path[end] = '\0';
		nfd = md_subdir(fd, path, path + p, create, uid,
		    gid, NULL, error_r);
		path[p - 1] = '/';
		path[end] = save;
		(void)close(fd);
		if (nfd == -1)
			return -1;
		fd = nfd;
		while (end < len && path[end] == '/')
			end++;
	}
	return fd;
}

/* cur/ new/ tmp/ in the mailbox directory 'fd' (path 'dpath'). */
static int
md_make_cnt(int fd, const char *dpath, uid_t uid, gid_t gid,
    const char **error_r)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	size_t	 i;
	int	 sfd;

	for (i = 0; i < N_ELEMENTS(sub); i++) {
		struct stat	 st;

		/* The common case, everything there, costs a stat each. */
		if (fstatat(fd, sub[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			continue;
		sfd = md_subdir(fd, dpath, sub[i], true, uid, gid, NULL,
		    error_r);
		if (sfd == -1)
			return -1;
		(void)close(sfd);
	}
	return 0;
}

/* An empty regular file 'name' in 'fd', created if missing. */
static int
md_touch(int fd, const char *dpath, const char *name, uid_t uid, gid_t gid,
    const char **error_r)
{
	struct stat	 st;
	int		 ffd;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(st.st_mode))
			return 0;
		log_error("maildir: %s/%s is not a regular file", dpath, name);
		*error_r = "mailbox is damaged";
		return -1;
	}
	ffd = openat(fd, name, MD_NEW_FLAGS, 0600);
	if (ffd == -1 && errno == EEXIST)
		return 0;
	if (ffd == -1 || (md_is_root() && fchown(ffd, uid, gid) == -1)) {
		log_error("maildir: create %s/%s: %m", dpath, name);
		*error_r = "cannot create mailbox";
		md_close(&ffd);
		return -1;
	}
	if (close(ffd) == -1) {
		log_error("maildir: close %s/%s: %m", dpath, name);
		*error_r = "cannot create mailbox";
		return -1;
	}
	return 0;
}

/* --- subscriptions --- */

/* Whether the subscriptions text (v2: tab-separated levels after a
 * "V\t2" header, v1: '.'-separated) lists 'name'. A trailing
 * separator is ignored, as Dovecot does. Our names have one level and
 * nothing that needs tab-escaping, so a byte comparison is exact. */
static bool
md_subs_has(const char *text, size_t len, bool v2, const char *name)
{
	size_t		 nlen = strlen(name), llen;
	const char	*p = text, *end = text + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		llen = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (llen > 0 && p[llen - 1] == (v2 ? '\t' : '.'))
			llen--;
		if (llen == nlen && memcmp(p, name, nlen) == 0)
			return true;	/* never the "V\t2" header: no tabs */
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return false;
}

/* Take Dovecot's dotlock, which is also the file we write. Returns the
 * descriptor or -1 (logged). */
static int
md_subs_lock(int hfd, const char *home)
{
	struct stat	 st;
	int		 fd, tries;

	for (tries = 0;; tries++) {
		fd = openat(hfd, MD_SUBS_LOCK, MD_NEW_FLAGS, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
		if (fstatat(hfd, MD_SUBS_LOCK, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime < time(NULL) - MD_LOCK_STALE) {
			log_warn("maildir: removing stale %s/%s", home,
			    MD_SUBS_LOCK);
			(void)unlinkat(hfd, MD_SUBS_LOCK, 0);
			continue;
		}
		if (tries == MD_LOCK_TRIES) {
			errno = EAGAIN;
			break;
		}
		(void)nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 },
		    NULL);
	}
	if (fd == -1)
		log_error("maildir: lock %s/%s: %m", home, MD_SUBS_LOCK);
	return fd;
}

/* Read the whole (small) file 'name' in 'dfd' into b. 1 read, 0 missing,
 * -1 error (errno; EFBIG when it passes b's ceiling). */
static int
md_read_small(int dfd, const char *name, struct buf *b)
{
	char	 chunk[4096];
	ssize_t	 r;
	int	 fd, ret = 1;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r == 0 ? 1 : -1;
			break;
		}
		if (buf_append(b, chunk, (size_t)r) != 0) {
			errno = EFBIG;
			ret = -1;
			break;
		}
	}
	md_close_keep_errno(fd);
	return ret;
}

/* Add the names missing from home/subscriptions: a new file is v2, an
 * existing one keeps its version (protocols.md 4.4). Locked with
 * Dovecot's dotlock, written to it and renamed into place. */
static int
md_subscribe(int hfd, const char *home, const char *const *names, size_t n,
    uid_t uid, gid_t gid, const char **error_r)
{
	struct buf	 b;
	size_t		 i, old_len;
	int		 lfd = -1, r, ret = -1;
	bool		 v2, locked = false;

	buf_init(&b, NULL, MD_SUBS_MAX);
	if ((lfd = md_subs_lock(hfd, home)) == -1)
		goto out;
	locked = true;
	r = md_read_small(hfd, MD_SUBS_FILE, &b);
	if (r == -1) {
		log_error("maildir: read %s/%s: %m", home, MD_SUBS_FILE);
		goto out;
	}
	old_len = b.len;
	if (b.len == 0) {
		if (buf_append_str(&b, "V\t2\n\n") != 0)
			goto full;
	} else if (b.data[b.len - 1] != '\n' && buf_append_c(&b, '\n') != 0)
		goto full;
	v2 = b.len >= 4 && memcmp(b.data, "V\t2\n", 4) == 0;
	for (i = 0; i < n; i++) {
		if (md_subs_has(b.data, b.len, v2, names[i]))
			continue;
		if (buf_append_str(&b, names[i]) != 0 ||
		    buf_append_c(&b, '\n') != 0)
			goto full;
	}
	if (r == 1 && b.len == old_len) {
		ret = 0;		/* all there already */
		goto out;
	}
	if (md_write_all(lfd, b.data, b.len) == -1 ||
	    (md_is_root() && fchown(lfd, uid, gid) == -1) ||
	    fsync(lfd) == -1) {
		log_error("maildir: write %s/%s: %m", home, MD_SUBS_LOCK);
		goto out;
	}
	r = close(lfd);
	lfd = -1;
	if (r == -1) {
		log_error("maildir: close %s/%s: %m", home, MD_SUBS_LOCK);
		goto out;
	}
	if (renameat(hfd, MD_SUBS_LOCK, hfd, MD_SUBS_FILE) == -1) {
		log_error("maildir: rename %s/%s: %m", home, MD_SUBS_LOCK);
		goto out;
	}
	locked = false;
	ret = 0;
	goto out;
full:
	log_error("maildir: %s/%s is over %d bytes", home, MD_SUBS_FILE,
	    MD_SUBS_MAX);
out:
	md_close(&lfd);
	if (locked)
		(void)unlinkat(hfd, MD_SUBS_LOCK, 0);
	if (ret == -1)
		*error_r = "cannot update subscriptions";
	buf_deinit(&b);
	return ret;
}

/* --- mailboxes --- */

int
maildir_ensure(const char *root, const char *home,
    const char *const *folders, size_t nfolders, uid_t uid, gid_t gid,
    struct arena *a, const char **error_r)
{
	const char	**created;
	const char	 *fpath;
	char		  dname[MD_FOLDER_MAX + 2];
	size_t		  i, ncreated = 0;
	int		  hfd, ffd = -1, ret = -1;
	bool		  was_created;

	hfd = md_home_open(root, home, true, uid, gid, error_r);
	if (hfd == -1)
		return -1;
	if (md_make_cnt(hfd, home, uid, gid, error_r) == -1)
		goto out;
	ASSERT(nfolders <= SIZE_MAX / sizeof(*created));
	created = arena_alloc(a, nfolders * sizeof(*created));
	for (i = 0; i < nfolders; i++) {
		if (!md_folder_valid(folders[i])) {
			log_error("maildir: invalid folder name \"%s\"",
			    folders[i]);
			*error_r = "invalid folder name";
			goto out;
		}
		/* Fits: md_folder_valid() bounds the length. */
		(void)snprintf(dname, sizeof(dname), ".%s", folders[i]);
		ffd = md_subdir(hfd, home, dname, true, uid, gid, &was_created,
		    error_r);
		if (ffd == -1)
			goto out;
		fpath = arena_printf(a, "%s/%s", home, dname);
		if (md_make_cnt(ffd, fpath, uid, gid, error_r) == -1 ||
		    md_touch(ffd, fpath, "maildirfolder", uid, gid,
		    error_r) == -1)
			goto out;
		md_close(&ffd);
		if (was_created)
			created[ncreated++] = folders[i];
	}
	/* Only folders made here are subscribed: a user who unsubscribed
	 * Junk keeps it that way. The window between mkdir and this write
	 * (a crash) leaves a folder unsubscribed, which is harmless. */
	if (ncreated > 0 &&
	    md_subscribe(hfd, home, created, ncreated, uid, gid, error_r) == -1)
		goto out;
	ret = 0;
out:
	md_close(&ffd);
	md_close(&hfd);
	return ret;
}

bool
maildir_folder_exists(const char *home, const char *folder)
{
	struct stat	 st;
	char		 dname[MD_FOLDER_MAX + 2];
	int		 hfd;
	bool		 ok;

	if (!md_folder_valid(folder))
		return false;
	hfd = open(home, MD_DIR_FLAGS);
	if (hfd == -1)
		return false;
	(void)snprintf(dname, sizeof(dname), ".%s", folder);
	ok = fstatat(hfd, dname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
	(void)close(hfd);
	return ok;
}

int
maildir_home_open(const char *root, const char *home, const char **error_r)
{
	return md_home_open(root, home, false, 0, 0, error_r);
}

/* --- file names --- */

/* Bytes escaped in the host part: the DJB pair '/' ':', then ',' (it
 * would end the name at the ,S= parse) and '\' (the escape itself), and
 * anything not printable ASCII, so a name is always a plain word. */
static bool
md_host_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '/' || c == ':' || c == ',' ||
	    c == '\\';
}

int
maildir_unique_name(const char *host, char *out, size_t outsz)
{
	/* Per process; a fork() child has another pid, so restarting at
	 * the parent's value is fine. Atomic for the odd threaded caller. */
	static _Atomic unsigned long	 counter;
	struct timeval			 tv;
	unsigned char			 rnd[4];
	char				 hbuf[HOST_NAME_MAX + 1];
	unsigned long			 q;
	size_t				 o;
	int				 n;

	q = atomic_fetch_add(&counter, 1) + 1;
	(void)gettimeofday(&tv, NULL);
	/* The random part makes names unique where time + pid + counter
	 * are not: two hosts with one name (containers), or a pid reused
	 * within a microsecond after a restart, or a clock set back. */
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		uint32_t x = (uint32_t)tv.tv_usec * 2654435761u ^
		    (uint32_t)getpid() ^ (uint32_t)q;

		memcpy(rnd, &x, sizeof(rnd));
	}
	if (host == NULL || host[0] == '\0') {
		if (gethostname(hbuf, sizeof(hbuf)) == -1)
			(void)snprintf(hbuf, sizeof(hbuf), "localhost");
		hbuf[sizeof(hbuf) - 1] = '\0';
		host = hbuf;
	}
	/* usec zero-padded so that names sort by time within a second. */
	n = snprintf(out, outsz, "%lld.M%06ldP%ldQ%luR%02x%02x%02x%02x.",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), q,
	    rnd[0], rnd[1], rnd[2], rnd[3]);
	if (n < 0 || (size_t)n >= outsz)
		goto toolong;
	o = (size_t)n;
	for (; *host != '\0'; host++) {
		unsigned char c = (unsigned char)*host;

		if (!md_host_escape(c)) {
			if (outsz - o < 2)
				goto toolong;
			out[o++] = (char)c;
			continue;
		}
		if (outsz - o < 5)	/* "\ooo" and the NUL */
			goto toolong;
		out[o++] = '\\';
		out[o++] = (char)('0' + (c >> 6));
		out[o++] = (char)('0' + ((c >> 3) & 7));
		out[o++] = (char)('0' + (c & 7));
	}
	out[o] = '\0';
	return 0;
toolong:
	if (outsz > 0)
		out[0] = '\0';
	return -1;
}

/* Digits at p up to ',' ':' or the end, at least one, no overflow. */
static bool
md_name_field(const char *p, uint64_t *v_r)
{
	uint64_t	 v = 0;
	const char	*start = p;

	for (; *p != '\0' && *p != ',' && *p != ':'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (*p < '0' || *p > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (p == start)
		return false;
	*v_r = v;
	return true;
}

bool
maildir_name_sizes(const char *name, uint64_t *size_r, bool *have_size_r,
    uint64_t *vsize_r, bool *have_vsize_r)
{
	const char	*p;
	uint64_t	 v;
	bool		 seen_s = false, seen_w = false, ok = true;
	bool		 have_s = false, have_w = false;

	/* The first ",S=" and ",W=" before the info part decide, as in
	 * Dovecot's maildir_filename_get_size(). */
	for (p = name; *p != '\0' && *p != ':'; p++) {
		if (p[0] != ',' || (p[1] != 'S' && p[1] != 'W') || p[2] != '=')
			continue;
		if (p[1] == 'S' && !seen_s) {
			seen_s = true;
			if ((have_s = md_name_field(p + 3, &v)) && size_r)
				*size_r = v;
			ok = ok && have_s;
		} else if (p[1] == 'W' && !seen_w) {
			seen_w = true;
			if ((have_w = md_name_field(p + 3, &v)) && vsize_r)
				*vsize_r = v;
			ok = ok && have_w;
		}
	}
	if (have_size_r != NULL)
		*have_size_r = have_s;
	if (have_vsize_r != NULL)
		*have_vsize_r = have_w;
	return ok;
}

/* --- storing a message --- */

struct maildir_msg *
maildir_msg_create(const char *root, const char *home, const char *host,
    uid_t uid, gid_t gid, struct arena *a, const char **error_r)
{
	struct maildir_msg	*m;
	int			 hfd;

	(void)a;
	hfd = md_home_open(root, home, false, uid, gid, error_r);
	if (hfd == -1)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->fd = -1;
	m->home = xstrdup(home);
	m->host = xstrdup(host != NULL ? host : "");
	m->uid = uid;
	m->gid = gid;
	m->tmpfd = md_subdir(hfd, home, "tmp", false, uid, gid, NULL,
	    error_r);
	(void)close(hfd);
	if (m->tmpfd == -1)
		goto fail;
	if (maildir_unique_name(m->host, m->name, sizeof(m->name)) == -1) {
		log_error("maildir: host name too long for a file name: %s",
		    m->host);
		*error_r = "internal error (host name)";
		goto fail;
	}
	m->fd = openat(m->tmpfd, m->name, MD_NEW_FLAGS, 0600);
	if (m->fd == -1) {
		log_error("maildir: create %s/tmp/%s: %m", home, m->name);
		*error_r = md_nospace(errno) ? "no space for the message" :
		    "cannot store message";
		goto fail;
	}
	m->in_tmp = true;
	if (md_is_root() && fchown(m->fd, uid, gid) == -1) {
		log_error("maildir: chown %s/tmp/%s: %m", home, m->name);
		*error_r = "cannot store message";
		goto fail;
	}
	return m;
fail:
	maildir_msg_destroy(&m);
	return NULL;
}

static int
md_msg_flush(struct maildir_msg *m)
{
	if (md_write_all(m->fd, m->wbuf, m->wlen) == -1) {
		m->error = errno;
		log_error("maildir: write %s/tmp/%s: %m", m->home, m->name);
		return -1;
	}
	m->wlen = 0;
	return 0;
}

int
maildir_msg_write(struct maildir_msg *m, const void *p, size_t n)
{
	const char	*c = p, *lf, *end = c + n;
	uint64_t	 bare = 0;

	if (m->error != 0)
		return -1;
	ASSERT(m->fd != -1);	/* written after finish: our bug */
	if (n == 0)
		return 0;
	/* W= is the RFC 822 size: a bare LF counts as CRLF, an LF already
	 * preceded by CR counts once (Dovecot's CRLF-converting stream). */
	for (lf = memchr(c, '\n', n); lf != NULL;
	    lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1))) {
		if (!(lf == c ? m->last_cr : lf[-1] == '\r'))
			bare++;
	}
	m->last_cr = end[-1] == '\r';
	m->size += n;
	m->vsize += n + bare;
	if (n > sizeof(m->wbuf) - m->wlen) {
		if (md_msg_flush(m) == -1)
			return -1;
		if (n >= sizeof(m->wbuf)) {	/* big: skip the copy */
			if (md_write_all(m->fd, p, n) == -1) {
				m->error = errno;
				log_error("maildir: write %s/tmp/%s: %m",
				    m->home, m->name);
				return -1;
			}
			return 0;
		}
	}
	memcpy(m->wbuf + m->wlen, p, n);
	m->wlen += n;
	return 0;
}

int
maildir_msg_finish(struct maildir_msg *m, bool *nospace_r, struct arena *a,
    const char **error_r)
{
	(void)a;
	if (nospace_r != NULL)
		*nospace_r = false;
	ASSERT(m->fd != -1 && !m->is_finished);
	if (m->error == 0 && m->wlen > 0)
		(void)md_msg_flush(m);
	if (m->error == 0 && fsync(m->fd) == -1) {
		m->error = errno;
		log_error("maildir: fsync %s/tmp/%s: %m", m->home, m->name);
	}
	/* close() can report a delayed write error (NFS); the descriptor
	 * is gone either way. */
	if (close(m->fd) == -1 && m->error == 0) {
		m->error = errno;
		log_error("maildir: close %s/tmp/%s: %m", m->home, m->name);
	}
	m->fd = -1;
	if (m->error != 0) {
		if (nospace_r != NULL)
			*nospace_r = md_nospace(m->error);
		*error_r = md_nospace(m->error) ? "no space for the message" :
		    "cannot store message";
		return -1;
	}
	m->is_finished = true;
	return 0;
}

uint64_t
maildir_msg_size(const struct maildir_msg *m)
{
	return m->size;
}

uint64_t
maildir_msg_vsize(const struct maildir_msg *m)
{
	return m->vsize;
}

/* EXDEV: copy the message into the target mailbox's own tmp/ (mfd, path
 * mpath) as 'base', fsync, close, and rename it to new/'final'. 0, or -1
 * with errno and nothing left behind. */
static int
md_msg_copy(struct maildir_msg *m, int mfd, const char *mpath,
    const char *base, int nfd, const char *final)
{
	uint64_t	 copied = 0;
	ssize_t		 r;
	int		 tfd, in = -1, out = -1, err = 0;
	bool		 created = false;

	tfd = openat(mfd, "tmp", MD_DIR_FLAGS);
	if (tfd == -1) {
		err = errno;
		log_error("maildir: open %s/tmp: %m", mpath);
		goto out;
	}
	in = openat(m->tmpfd, m->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in == -1) {
		err = errno;
		log_error("maildir: open %s/tmp/%s: %m", m->home, m->name);
		goto out;
	}
	out = openat(tfd, base, MD_NEW_FLAGS, 0600);
	if (out == -1) {
		err = errno;
		log_error("maildir: create %s/tmp/%s: %m", mpath, base);
		goto out;
	}
	created = true;
	if (md_is_root() && fchown(out, m->uid, m->gid) == -1) {
		err = errno;
		log_error("maildir: chown %s/tmp/%s: %m", mpath, base);
		goto out;
	}
	for (;;) {
		r = read(in, m->wbuf, sizeof(m->wbuf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err = errno;
			log_error("maildir: read %s/tmp/%s: %m", m->home,
			    m->name);
			goto out;
		}
		if (r == 0)
			break;
		if (md_write_all(out, m->wbuf, (size_t)r) == -1) {
			err = errno;
			log_error("maildir: write %s/tmp/%s: %m", mpath, base);
			goto out;
		}
		copied += (uint64_t)r;
	}
	if (copied != m->size) {	/* someone changed our tmp/ file */
		err = EIO;
		log_error("maildir: %s/tmp/%s: %" PRIu64 " bytes, wrote %"
		    PRIu64, m->home, m->name, copied, m->size);
		goto out;
	}
	if (fsync(out) == -1) {
		err = errno;
		log_error("maildir: fsync %s/tmp/%s: %m", mpath, base);
		goto out;
	}
	r = close(out);
	out = -1;
	if (r == -1) {
		err = errno;
		log_error("maildir: close %s/tmp/%s: %m", mpath, base);
		goto out;
	}
	if (renameat(tfd, base, nfd, final) == -1) {
		err = errno;
		log_error("maildir: rename %s/tmp/%s to new/%s: %m", mpath,
		    base, final);
		goto out;
	}
	created = false;
out:
	md_close(&out);
	md_close(&in);
	if (created)
		(void)unlinkat(tfd, base, 0);
	md_close(&tfd);
	errno = err;
	return err == 0 ? 0 : -1;
}

enum dstatus
maildir_msg_deliver(struct maildir_msg *m, const char *root,
    const char *home, const char *folder, bool *nospace_r, struct arena *a,
    const char **error_r)
{
	char		 base[MD_BASE_MAX + 1], final[MAILDIR_NAME_MAX + 1];
	char		 dname[MD_FOLDER_MAX + 2];
	const char	*mpath = home;
	enum dstatus	 st = D_TEMP;
	int		 hfd = -1, mfd = -1, nfd = -1, n, err = 0;

	if (nospace_r != NULL)
		*nospace_r = false;
	ASSERT(m->is_finished);	/* deliver before a good finish: our bug */
	*error_r = "cannot store message";
	if (folder != NULL && strcasecmp(folder, "INBOX") == 0)
		folder = NULL;
	if (folder != NULL && !md_folder_valid(folder)) {
		log_error("maildir: invalid folder name \"%s\"", folder);
		*error_r = "invalid folder name";
		goto out;
	}
	hfd = md_home_open(root, home, false, m->uid, m->gid, error_r);
	if (hfd == -1)
		goto out;
	if (folder != NULL) {
		(void)snprintf(dname, sizeof(dname), ".%s", folder);
		mpath = arena_printf(a, "%s/%s", home, dname);
		mfd = md_subdir(hfd, home, dname, false, m->uid, m->gid, NULL,
		    error_r);
		if (mfd == -1)
			goto out;
	} else {
		mfd = hfd;
		hfd = -1;
	}
	nfd = md_subdir(mfd, mpath, "new", false, m->uid, m->gid, NULL,
	    error_r);
	if (nfd == -1)
		goto out;
	*error_r = "cannot store message";
	/* A fresh name per mailbox: one base name in several mailboxes
	 * would confuse tools that key on it (Dovecot's GUIDs, dsync). */
	if (maildir_unique_name(m->host, base, sizeof(base)) == -1 ||
	    (n = snprintf(final, sizeof(final), "%s,S=%" PRIu64 ",W=%" PRIu64,
	    base, m->size, m->vsize)) < 0 || (size_t)n >= sizeof(final)) {
		log_error("maildir: host name too long for a file name: %s",
		    m->host);
		goto out;
	}
	if (linkat(m->tmpfd, m->name, nfd, final, 0) == -1) {
		if (errno != EXDEV) {
			err = errno;
			log_error("maildir: link %s/tmp/%s to %s/new/%s: %m",
			    m->home, m->name, mpath, final);
			goto out;
		}
		if (md_msg_copy(m, mfd, mpath, base, nfd, final) == -1) {
			err = errno;
			goto out;
		}
	}
	(void)snprintf(m->last_name, sizeof(m->last_name), "%s", final);
	/* Only now is the entry in new/ durable: what makes the 250 true. */
	if (fsync(nfd) == -1) {
		err = errno;
		log_error("maildir: fsync %s/new: %m", mpath);
		if (unlinkat(nfd, final, 0) == -1)
			log_error("maildir: unlink %s/new/%s: %m", mpath,
			    final);
		goto out;
	}
	st = D_OK;
out:
	if (st != D_OK && md_nospace(err)) {
		*error_r = "no space for the message";
		if (nospace_r != NULL)
			*nospace_r = true;
	}
	md_close(&nfd);
	md_close(&mfd);
	md_close(&hfd);
	return st;
}

const char *
maildir_msg_delivered_name(const struct maildir_msg *m)
{
	return m->last_name;
}

void
maildir_msg_destroy(struct maildir_msg **mp)
{
	struct maildir_msg	*m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	md_close(&m->fd);
	if (m->in_tmp && unlinkat(m->tmpfd, m->name, 0) == -1 &&
	    errno != ENOENT)
		log_warn("maildir: unlink %s/tmp/%s: %m", m->home, m->name);
	md_close(&m->tmpfd);
	free(m->home);
	free(m->host);
	free(m);
}

/* --- quota (Maildir++ maildirsize) --- */

/* What one pass over the mailbox saw. The directory mtimes tell whether
 * anything moved while we counted (Courier's rebuild check). */
struct md_scan {
	struct timespec	 newest;	/* newest mtime of new/ and cur/ */
	uint64_t	 ndirs;
	uint64_t	 bytes;
	uint64_t	 messages;
};

static void
md_scan_stat(struct md_scan *s, const struct stat *st)
{
	if (st->st_mtim.tv_sec > s->newest.tv_sec ||
	    (st->st_mtim.tv_sec == s->newest.tv_sec &&
	    st->st_mtim.tv_nsec > s->newest.tv_nsec))
		s->newest = st->st_mtim;
	s->ndirs++;
}

static bool
md_scan_same(const struct md_scan *x, const struct md_scan *y)
{
	return x->ndirs == y->ndirs && x->newest.tv_sec == y->newest.tv_sec &&
	    x->newest.tv_nsec == y->newest.tv_nsec;
}

/* Add up the messages in the directory open at dfd (which is consumed):
 * S= from the name, stat() where it is missing. A file that disappears
 * meanwhile (moved new/ -> cur/, expunged) is skipped. */
static int
md_scan_sum(int dfd, const char *dpath, struct md_scan *s)
{
	struct dirent	*de;
	struct stat	 st;
	uint64_t	 size;
	bool		 have;
	DIR		*d;

	if ((d = fdopendir(dfd)) == NULL) {
		log_error("maildir: opendir %s: %m", dpath);
		(void)close(dfd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!maildir_name_sizes(de->d_name, &size, &have, NULL, NULL) ||
		    !have) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
				continue;
			size = (uint64_t)st.st_size;
		}
		s->bytes = size > UINT64_MAX - s->bytes ? UINT64_MAX :
		    s->bytes + size;
		s->messages++;
	}
	if (errno != 0) {
		log_error("maildir: readdir %s: %m", dpath);
		(void)closedir(d);
		return -1;
	}
	(void)closedir(d);
	return 0;
}

/* new/ and cur/ of the mailbox at mfd: stat always, sum when asked. A
 * missing one counts as empty. */
static int
md_scan_mailbox(int mfd, const char *mpath, bool sum, struct md_scan *s,
    struct arena *a)
{
	static const char *const sub[] = { "new", "cur" };
	struct stat	 st;
	size_t		 i;
	int		 dfd;

	for (i = 0; i < N_ELEMENTS(sub); i++) {
		dfd = openat(mfd, sub[i], MD_DIR_FLAGS);
		if (dfd == -1) {
			if (errno == ENOENT)
				continue;
			log_error("maildir: open %s/%s: %m", mpath, sub[i]);
			return -1;
		}
		if (fstat(dfd, &st) == -1) {
			log_error("maildir: stat %s/%s: %m", mpath, sub[i]);
			(void)close(dfd);
			return -1;
		}
		md_scan_stat(s, &st);
		if (!sum)
			(void)close(dfd);
		else if (md_scan_sum(dfd, arena_printf(a, "%s/%s", mpath,
		    sub[i]), s) == -1)
			return -1;
	}
	return 0;
}

/* INBOX and every folder: each ".name" directory of home (not followed
 * when it is a symbolic link). O(messages) -- fine for a rebuild, which
 * the rules above keep rare. */
static int
md_scan_all(int hfd, const char *home, bool sum, struct md_scan *s,
    struct arena *a)
{
	struct dirent	*de;
	DIR		*d;
	int		 dfd, ffd, ret = 0;

	if (md_scan_mailbox(hfd, home, sum, s, a) == -1)
		return -1;
	/* A new open file description: readdir must not share an offset
	 * with hfd. */
	if ((dfd = openat(hfd, ".", MD_DIR_FLAGS)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		log_error("maildir: opendir %s: %m", home);
		if (dfd != -1)
			(void)close(dfd);
		return -1;
	}
	while (ret == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		ffd = openat(dirfd(d), de->d_name, MD_DIR_FLAGS);
		if (ffd == -1)
			continue;	/* a symlink, gone, or a file */
		ret = md_scan_mailbox(ffd, arena_printf(a, "%s/%s", home,
		    de->d_name), sum, s, a);
		(void)close(ffd);
	}
	if (ret == 0 && errno != 0) {
		log_error("maildir: readdir %s: %m", home);
		ret = -1;
	}
	(void)closedir(d);
	return ret;
}

/* One "<bytes> <count>" line (spaces or tabs around and between; signed
 * decimal). Returns false on anything else or on int64 overflow. */
static bool
md_quota_line(const char *p, const char *end, int64_t *b_r, int64_t *c_r)
{
	int64_t	 v[2];
	int	 i;

	for (i = 0; i < 2; i++) {
		bool		 neg = false;
		const char	*start;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '-') {
			neg = true;
			p++;
		}
		v[i] = 0;
		for (start = p; p < end && *p >= '0' && *p <= '9'; p++) {
			int d = *p - '0';

			if (__builtin_mul_overflow(v[i], 10, &v[i]) ||
			    __builtin_add_overflow(v[i], neg ? -d : d, &v[i]))
				return false;
		}
		if (p == start || (i == 0 && p < end && *p != ' ' &&
		    *p != '\t'))
			return false;
	}
	while (p < end && (*p == ' ' || *p == '\t'))	/* Courier pads */
		p++;
	if (p != end)
		return false;
	*b_r = v[0];
	*c_r = v[1];
	return true;
}

/* Read home/maildirsize. 1: trusted, *u set; 0: rebuild it (the reasons
 * of protocols.md 4.5); -1: error (logged). */
static int
md_quota_read(int hfd, const char *home, const char *limits,
    uint64_t limit_bytes, uint64_t limit_messages, struct maildir_usage *u)
{
	char		 data[MD_QUOTA_FILE_MAX];
	const char	*p, *end, *nl;
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 r;
	int64_t		 tb = 0, tc = 0, b, c;
	unsigned	 lines = 0;
	int		 fd;
	bool		 over;

	fd = openat(hfd, MD_QUOTA_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT || errno == ELOOP)	/* rename replaces */
			return 0;
		log_error("maildir: open %s/%s: %m", home, MD_QUOTA_FILE);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_error("maildir: stat %s/%s: %m", home, MD_QUOTA_FILE);
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size >= MD_QUOTA_FILE_MAX) {
		(void)close(fd);
		return 0;
	}
	/* Read to EOF: it may have grown past the limit since fstat. */
	while (len < sizeof(data)) {
		r = read(fd, data + len, sizeof(data) - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_error("maildir: read %s/%s: %m", home,
			    MD_QUOTA_FILE);
			(void)close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	(void)close(fd);
	if (len >= sizeof(data) || memchr(data, '\0', len) != NULL)
		return 0;
	end = data + len;
	nl = memchr(data, '\n', len);
	if (nl == NULL || (size_t)(nl - data) != strlen(limits) ||
	    memcmp(data, limits, strlen(limits)) != 0)
		return 0;	/* unparsable, or the limits changed */
	/* Every line ends in LF: appends are one write() each, so a line
	 * without one is damage, not a write in progress. */
	for (p = nl + 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		if (!md_quota_line(p, nl, &b, &c) ||
		    __builtin_add_overflow(tb, b, &tb) ||
		    __builtin_add_overflow(tc, c, &tc))
			return 0;
		lines++;
	}
	if (lines == 0 || tb < 0 || tc < 0)
		return 0;
	/* Over quota: a refusal must not rest on a stale or drifting sum,
	 * so trust only a fresh file holding just the summary line. */
	over = (limit_bytes != 0 && (uint64_t)tb > limit_bytes) ||
	    (limit_messages != 0 && (uint64_t)tc > limit_messages);
	if (over && (lines > 1 || st.st_mtime < time(NULL) - MD_QUOTA_STALE))
		return 0;
	u->bytes = (uint64_t)tb;
	u->messages = (uint64_t)tc;
	return 1;
}

/* Write the summary into home/tmp/ and rename it to maildirsize. */
static int
md_quota_write(int hfd, const char *home, const char *limits,
    const struct md_scan *s, uid_t uid, gid_t gid, struct arena *a)
{
	char		 name[MD_BASE_MAX + 1];
	const char	*text;
	int		 tfd, fd = -1, r, ret = -1;
	bool		 created = false;

	/* No fsync: the file is a cache, and a torn one fails to parse
	 * and is rebuilt. */
	text = arena_printf(a, "%s\n%" PRIu64 " %" PRIu64 "\n", limits,
	    s->bytes, s->messages);
	if ((tfd = openat(hfd, "tmp", MD_DIR_FLAGS)) == -1) {
		log_error("maildir: open %s/tmp: %m", home);
		return -1;
	}
	if (maildir_unique_name(NULL, name, sizeof(name)) == -1) {
		log_error("maildir: host name too long for a file name");
		goto out;
	}
	if ((fd = openat(tfd, name, MD_NEW_FLAGS, 0600)) == -1) {
		log_error("maildir: create %s/tmp/%s: %m", home, name);
		goto out;
	}
	created = true;
	if (md_write_all(fd, text, strlen(text)) == -1 ||
	    (md_is_root() && fchown(fd, uid, gid) == -1)) {
		log_error("maildir: write %s/tmp/%s: %m", home, name);
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r == -1) {
		log_error("maildir: close %s/tmp/%s: %m", home, name);
		goto out;
	}
	if (renameat(tfd, name, hfd, MD_QUOTA_FILE) == -1) {
		log_error("maildir: rename %s/tmp/%s to %s: %m", home, name,
		    MD_QUOTA_FILE);
		goto out;
	}
	created = false;
	ret = 0;
out:
	md_close(&fd);
	if (created)
		(void)unlinkat(tfd, name, 0);
	(void)close(tfd);
	return ret;
}

int
maildir_quota_get(const char *root, const char *home, uint64_t limit_bytes,
    uint64_t limit_messages, uid_t uid, gid_t gid,
    struct maildir_usage *usage_r, struct arena *a, const char **error_r)
{
	char		 limits[64];
	struct md_scan	 s, again;
	int		 hfd, r, attempt, ret = -1;

	(void)snprintf(limits, sizeof(limits), "%" PRIu64 "S,%" PRIu64 "C",
	    limit_bytes, limit_messages);	/* 2 x 20 digits + 3: fits */
	hfd = md_home_open(root, home, false, uid, gid, error_r);
	if (hfd == -1)
		return -1;
	r = md_quota_read(hfd, home, limits, limit_bytes, limit_messages,
	    usage_r);
	if (r != 0) {
		if (r == -1)
			*error_r = "cannot read quota";
		ret = r == 1 ? 0 : -1;
		goto out;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		memset(&s, 0, sizeof(s));
		memset(&again, 0, sizeof(again));
		if (md_scan_all(hfd, home, true, &s, a) == -1) {
			*error_r = "cannot count mailbox";
			goto out;
		}
		usage_r->bytes = s.bytes;
		usage_r->messages = s.messages;
		/* The sum is right even if the cache cannot be written (a
		 * full disk): deliver on it, try the file again next time. */
		if (md_quota_write(hfd, home, limits, &s, uid, gid, a) == -1)
			break;
		if (md_scan_all(hfd, home, false, &again, a) == -1) {
			*error_r = "cannot count mailbox";
			goto out;
		}
		if (md_scan_same(&s, &again))
			break;
		/* Mail moved while we counted. Once more; if it moves again,
		 * leave no file so the next call counts afresh (Courier).
		 * Changes within one timestamp tick go unseen (as in
		 * Courier and Dovecot): the next rebuild corrects them. */
		if (attempt == 1) {
			log_warn("maildir: %s changed while counting; "
			    "removing %s", home, MD_QUOTA_FILE);
			(void)unlinkat(hfd, MD_QUOTA_FILE, 0);
		}
	}
	ret = 0;
out:
	(void)close(hfd);
	return ret;
}

int
maildir_quota_add(const char *root, const char *home, int64_t bytes,
    int64_t messages, struct arena *a, const char **error_r)
{
	char	 line[64];
	int	 hfd, fd, n, ret = -1;
	ssize_t	 w;

	(void)a;
	hfd = md_home_open(root, home, false, 0, 0, error_r);
	if (hfd == -1)
		return -1;
	fd = openat(hfd, MD_QUOTA_FILE, O_WRONLY | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			ret = 0;	/* the next maildir_quota_get builds it */
		else {
			log_error("maildir: open %s/%s: %m", home,
			    MD_QUOTA_FILE);
			*error_r = "cannot update quota";
		}
		goto out;
	}
	n = snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 "\n", bytes,
	    messages);			/* 2 x 20 + 2: fits */
	/* One write(): O_APPEND makes it atomic against other appenders.
	 * A short write leaves a broken line, which forces a rebuild. */
	w = write(fd, line, (size_t)n);
	if (w != n) {
		if (w >= 0)
			errno = EIO;
		log_error("maildir: append to %s/%s: %m", home, MD_QUOTA_FILE);
		*error_r = "cannot update quota";
		(void)close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		log_error("maildir: close %s/%s: %m", home, MD_QUOTA_FILE);
		*error_r = "cannot update quota";
		goto out;
	}
	ret = 0;
out:
	(void)close(hfd);
	return ret;
}

bool
maildir_quota_exceeded(const struct maildir_usage *usage,
    uint64_t limit_bytes, uint64_t limit_messages, uint64_t bytes)
{
	if (limit_bytes != 0 && (usage->bytes > limit_bytes ||
	    bytes > limit_bytes - usage->bytes))
		return true;
	return limit_messages != 0 && usage->messages >= limit_messages;
}
