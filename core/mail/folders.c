/* folders.c - IMAP folders over Maildir++; see aviary/folders.h.
 *
 * What Dovecot 2.3.19 does, observed with Debian's /usr/lib/dovecot/imap
 * on a Maildir++ tree (default namespace, separator '.'), and followed
 * here unless said otherwise:
 *   - non-ASCII names are stored as their mUTF-7 bytes (".R&AOk-sum&AOk-");
 *   - CREATE "A.B.C" makes only ".A.B.C"; LIST shows A and A.B as
 *     (\Noselect \HasChildren), or \NonExistent with LIST-EXTENDED;
 *   - CREATE "x." makes "x"; DELETE "x." is refused;
 *   - "inbox.bar" is stored as ".INBOX.bar"; INBOX is case-insensitive
 *     in LIST patterns too ("inb*", "*box");
 *   - DELETE of a folder with children removes only its own directory;
 *     DELETE of a parent level that is not a folder is NONEXISTENT;
 *     DELETE INBOX is refused;
 *   - RENAME moves the children's directories along, but not their
 *     subscriptions (we move them: a stale subscription helps nobody);
 *   - RENAME INBOX is refused (we do what RFC 3501 6.3.5 says instead);
 *   - names with '/', empty levels or a leading '~' are refused, and
 *     names that are not valid mUTF-7; '*' and '%' are allowed;
 *   - every '.' directory is listed, even one without cur/ (we list
 *     only directories with cur/, new/ or maildirfolder, so a stray
 *     directory is not shown as a folder).
 *
 * Everything is relative to the home's directory descriptor: no path
 * below the home is ever resolved from '/'.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/folders.h"
#include "aviary/keywords.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/mutf7.h"
#include "aviary/uidlist.h"

#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define NEW_FLAGS	(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
/* Work directories in the home's tmp/: invisible to every folder list
 * (ours and Dovecot's), on the home's file system, so a rename into or
 * out of them is atomic. */
#define TMP_CREATE	".aviary-create."
#define TMP_DELETE	".aviary-delete."
#define TMP_LEFTOVER_SECS 3600	/* older work directories are debris */
#define DNAME_SIZE	(FOLDERS_NAME_MAX + 2)	/* "." + name + NUL */
#define LOCK_STALE_SECS	120	/* as maildir.c's dotlocks */
#define LOCK_POLL_MS	100
#define RM_DEPTH_MAX	16	/* a Maildir folder is 2 deep */
#define MOVE_PASSES	3
#define UIDV_RETRIES	10	/* Dovecot's RETRY_COUNT */

struct folders {
	const char	*home;		/* the arena's copy, for logs */
	int		 hfd;		/* closed by the arena */
	uid_t		 uid;
	gid_t		 gid;
};

/* How a name is checked: as an existing folder's, as a new one's, or
 * for CREATE (a new one, trailing separator dropped). */
enum name_mode { NAME_EXISTING, NAME_NEW, NAME_CREATE };

/* --- small helpers --- */

static bool
is_root(void)
{
	return geteuid() == 0;
}

static void
close_fd(void *arg)
{
	int *fdp = arg;

	if (*fdp >= 0)
		(void)close(*fdp);
	*fdp = -1;
}

static void
fd_close(int *fdp)
{
	if (*fdp >= 0)
		(void)close(*fdp);
	*fdp = -1;
}

static int
status_errno(int err)
{
	return err == ENOSPC || err == EDQUOT ? FOLDERS_ERR_NOSPACE :
	    FOLDERS_ERR_TEMP;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read the whole small file 'name' of dfd into b. 1 read, 0 missing,
 * -1 error (errno; EFBIG past b's ceiling). */
static int
read_small(int dfd, const char *name, struct buf *b)
{
	char	 chunk[4096];
	ssize_t	 r;
	int	 fd, ret = 1, saved;

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
	saved = errno;
	(void)close(fd);
	errno = saved;
	return ret;
}

/* mkdir 0700 in parent, chown'ed when root. 0 (also if it exists and
 * exist_ok), or -1 with errno. */
static int
make_dir(const struct folders *f, int parent, const char *name,
    bool exist_ok)
{
	if (mkdirat(parent, name, 0700) == -1)
		return exist_ok && errno == EEXIST ? 0 : -1;
	if (is_root() && fchownat(parent, name, f->uid, f->gid,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return 0;
}

/* A new file 'name' in parent holding data, fsync'ed, chown'ed when
 * root. 1 made, 0 it existed, -1 with errno. */
static int
make_file(const struct folders *f, int parent, const char *name,
    const void *data, size_t len)
{
	int	 fd, saved;

	fd = openat(parent, name, NEW_FLAGS, 0600);
	if (fd == -1)
		return errno == EEXIST ? 0 : -1;
	if ((len > 0 && write_all(fd, data, len) == -1) ||
	    (is_root() && fchown(fd, f->uid, f->gid) == -1) ||
	    (len > 0 && fsync(fd) == -1)) {
		saved = errno;
		(void)close(fd);
		(void)unlinkat(parent, name, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1)
		return -1;
	return 1;
}

/* rename without replacing anything. Where the file system cannot do
 * RENAME_NOREPLACE (EINVAL: some network file systems), look first and
 * rename then: the window is only open to another CREATE or RENAME. */
static int
rename_noreplace(int ofd, const char *o, int nfd, const char *n)
{
	struct stat	 st;

	if (renameat2(ofd, o, nfd, n, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (fstatat(nfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(ofd, o, nfd, n);
}

/* Remove name in pfd and everything below it, without following links.
 * Files are unlinked directly (one call in the common case). Keeps going
 * after an error; -1 (errno of the last one) if anything is left. */
static int
rm_tree(int pfd, const char *name, unsigned depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, ret = 0, err = 0;

	if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth >= RM_DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(pfd, name, DIR_FLAGS)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		err = errno;
		(void)close(fd);
		errno = err;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_tree(dirfd(d), de->d_name, depth + 1) == -1) {
			err = errno;
			ret = -1;
		}
	}
	(void)closedir(d);
	if (unlinkat(pfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return -1;
	errno = err;
	return ret;
}

/* 32 lower-case hex digits from the kernel's random source, the
 * dovecot-uidlist G field (a mailbox GUID). */
static void
new_guid(char out[33])
{
	unsigned char	 rnd[16];
	size_t		 i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;
		uint32_t	x;

		(void)clock_gettime(CLOCK_REALTIME, &ts);
		x = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16);
		for (i = 0; i < sizeof(rnd); i++) {
			x = x * 1103515245u + 12345u;
			rnd[i] = (unsigned char)(x >> 16);
		}
	}
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(out + i * 2, 3, "%02x", rnd[i]);
}

/* --- names --- */

bool
folders_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* Whether UTF-8 text has a C0 or C1 control character or DEL. */
static bool
has_control(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/* The checks of folders.h; out gets the normal form. */
static int
name_check(const char *name, enum name_mode mode, char out[DNAME_SIZE],
    const char **error_r)
{
	const char	*err = NULL;
	size_t		 len = strlen(name), i, depth = 1;

	if (mode == NAME_CREATE && len > 0 && name[len - 1] == FOLDERS_SEP)
		len--;
	if (len == 0)
		err = "Empty mailbox name";
	else if (len > FOLDERS_NAME_MAX)
		err = "Mailbox name too long";
	else if (name[0] == '~')
		err = "Invalid mailbox name: Begins with '~'";
	for (i = 0; err == NULL && i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c > 0x7e)
			err = "Mailbox name is not valid mUTF-7";
		else if (c == '/')
			err = "Invalid mailbox name: "
			    "Name must not have '/' characters";
		else if (c != FOLDERS_SEP)
			continue;
		else if (i == 0)
			err = "Invalid mailbox name: "
			    "Begins with hierarchy separator";
		else if (name[i - 1] == FOLDERS_SEP)
			err = "Invalid mailbox name: "
			    "Has adjacent hierarchy separators";
		else if (i == len - 1)
			err = "Invalid mailbox name: "
			    "Ends with hierarchy separator";
		else if (++depth > FOLDERS_DEPTH_MAX)
			err = "Mailbox name has too many hierarchy levels";
	}
	if (err == NULL && mode != NAME_EXISTING) {
		struct buf	 b;
		int		 r;

		/* Decoded UTF-8 is never longer than twice the mUTF-7. */
		buf_init(&b, NULL, 2 * FOLDERS_NAME_MAX + 8);
		r = mutf7_to_utf8(name, len, &b);
		if (r != 0)
			err = "Mailbox name is not valid mUTF-7";
		else if (has_control(b.data, b.len))
			err = "Control characters not allowed in new "
			    "mailbox names";
		buf_deinit(&b);
	}
	if (err != NULL) {
		*error_r = err;
		return FOLDERS_ERR_INVALID;
	}
	memcpy(out, name, len);
	out[len] = '\0';
	if (strncasecmp(out, "INBOX", 5) == 0 &&
	    (out[5] == '\0' || out[5] == FOLDERS_SEP))
		memcpy(out, "INBOX", 5);
	return FOLDERS_OK;
}

int
folders_name_check(const char *name, bool creating, struct arena *a,
    const char **norm_r, const char **error_r)
{
	char	 norm[DNAME_SIZE];
	int	 r;

	r = name_check(name, creating ? NAME_CREATE : NAME_EXISTING, norm,
	    error_r);
	if (r == FOLDERS_OK)
		*norm_r = arena_strdup(a, norm);
	return r;
}

/* ".<norm>" into out (DNAME_SIZE: fits, norm is checked). */
static void
dir_name(const char *norm, char out[DNAME_SIZE])
{
	out[0] = '.';
	memcpy(out + 1, norm, strlen(norm) + 1);
}

/* Whether the directory 'dname' of pfd looks like a folder: cur/, new/
 * or maildirfolder in it. dname was seen as a directory (not a link). */
static bool
folder_marks(int pfd, const char *dname)
{
	static const char *const marks[] = { "cur", "new", "maildirfolder" };
	char		 p[DNAME_SIZE + 16];
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(marks); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", dname, marks[i]);
		if (fstatat(pfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return true;
	}
	return false;
}

/* 1 folder, 0 no folder (*is_dir_r: a directory is there all the same),
 * -1 error (errno). */
static int
dir_is_folder(int hfd, const char *dname, bool *is_dir_r)
{
	struct stat	 st;

	*is_dir_r = false;
	if (fstatat(hfd, dname, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	*is_dir_r = true;
	return folder_marks(hfd, dname) ? 1 : 0;
}

int
folders_path(const struct folders *f, const char *name, struct arena *a,
    const char **path_r, const char **error_r)
{
	char	 norm[DNAME_SIZE];
	int	 r;

	if ((r = name_check(name, NAME_EXISTING, norm, error_r)) != 0)
		return r;
	*path_r = strcmp(norm, "INBOX") == 0 ? f->home :
	    arena_printf(a, "%s/.%s", f->home, norm);
	return FOLDERS_OK;
}

int
folders_exists(const struct folders *f, const char *name)
{
	char		 norm[DNAME_SIZE], dname[DNAME_SIZE];
	const char	*err;
	bool		 is_dir;
	int		 r;

	if ((r = name_check(name, NAME_EXISTING, norm, &err)) != 0)
		return r;
	if (strcmp(norm, "INBOX") == 0)
		return 1;
	dir_name(norm, dname);
	r = dir_is_folder(f->hfd, dname, &is_dir);
	if (r == -1) {
		log_error("folders: stat %s/%s: %m", f->home, dname);
		return FOLDERS_ERR_TEMP;
	}
	return r;
}

/* --- opening --- */

int
folders_open(const char *root, const char *home, uid_t uid, gid_t gid,
    struct arena *a, struct folders **f_r, const char **error_r)
{
	struct folders	*f;
	int		 hfd;

	if ((hfd = maildir_home_open(root, home, error_r)) == -1)
		return FOLDERS_ERR_TEMP;
	f = arena_zalloc(a, sizeof(*f));
	f->home = arena_strdup(a, home);
	f->hfd = hfd;
	f->uid = uid;
	f->gid = gid;
	arena_cleanup_add(a, close_fd, &f->hfd);
	*f_r = f;
	return FOLDERS_OK;
}

const char *
folders_home(const struct folders *f)
{
	return f->home;
}

int
folders_home_fd(const struct folders *f)
{
	return f->hfd;
}

/* --- UIDVALIDITY counter (Dovecot's mailbox-uidvalidity.c protocol) ---
 *
 * dovecot-uidvalidity holds the last value handed out, 8 hex digits,
 * rewritten in place. The authority is the empty file
 * dovecot-uidvalidity.<value>: taking a value means renaming it from
 * .<v> to .<v+1>; rename(2) is atomic, so of two processes racing for
 * v+1 exactly one succeeds and the other tries v+2. */

static uint32_t
uidv_fallback(void)
{
	static uint32_t	 last;
	uint32_t	 now = (uint32_t)time(NULL);

	last = last < now ? now : last + 1;
	if (last == 0)
		last = 1;
	return last;
}

static void
uidv_token(char out[40], uint32_t v)
{
	(void)snprintf(out, 40, FOLDERS_UIDV_FILE ".%08" PRIx32, v);
}

/* Take the value after *v by renaming tokens; *v is the value taken.
 * -1 when no token was found in UIDV_RETRIES steps or rename failed. */
static int
uidv_take(int hfd, const char *home, uint32_t *v)
{
	char	 src[40], dst[40];
	int	 i;

	for (i = 0; i < UIDV_RETRIES; i++) {
		uidv_token(src, *v);
		if (++*v == 0)
			*v = 1;
		uidv_token(dst, *v);
		if (renameat(hfd, src, hfd, dst) == 0)
			return 0;
		if (errno != ENOENT) {
			log_error("folders: rename %s/%s: %m", home, src);
			return -1;
		}
	}
	return -1;
}

/* Write v into dovecot-uidvalidity (created if missing), owned like the
 * home. Failures are logged only: the token is the authority. */
static void
uidv_write(int hfd, const char *home, uint32_t v)
{
	char		 text[9];
	struct stat	 st;
	int		 fd;

	(void)snprintf(text, sizeof(text), "%08" PRIx32, v);
	fd = openat(hfd, FOLDERS_UIDV_FILE, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		log_error("folders: open %s/" FOLDERS_UIDV_FILE ": %m", home);
		return;
	}
	if (is_root() && fstat(hfd, &st) == 0 &&
	    fchown(fd, st.st_uid, st.st_gid) == -1)
		log_error("folders: chown %s/" FOLDERS_UIDV_FILE ": %m", home);
	if (pwrite(fd, text, 8, 0) != 8)
		log_error("folders: write %s/" FOLDERS_UIDV_FILE ": %m", home);
	if (close(fd) == -1)
		log_error("folders: close %s/" FOLDERS_UIDV_FILE ": %m", home);
}

/* Parse 1-8 hex digits covering all of s. */
static bool
parse_hex32(const char *s, size_t n, uint32_t *v_r)
{
	uint32_t	 v = 0;
	size_t		 i;

	if (n == 0 || n > 8)
		return false;
	for (i = 0; i < n; i++) {
		char	 c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*v_r = v;
	return true;
}

/* No usable file: find the tokens in the home and go on from the
 * highest (dropping the lowest of two, a leftover), or start a token at
 * the current time. */
static uint32_t
uidv_rescan_n(int hfd, const char *home, int depth)
{
	static const char prefix[] = FOLDERS_UIDV_FILE ".";
	struct dirent	*de;
	struct stat	 st;
	uint32_t	 v, min = UINT32_MAX, max = 0;
	char		 tok[40];
	DIR		*d;
	int		 dfd, fd = -1, i;

	if ((dfd = openat(hfd, ".", DIR_FLAGS)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		log_error("folders: opendir %s: %m", home);
		if (dfd != -1)
			(void)close(dfd);
		return uidv_fallback();
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, sizeof(prefix) - 1) != 0 ||
		    !parse_hex32(de->d_name + sizeof(prefix) - 1,
		    strlen(de->d_name + sizeof(prefix) - 1), &v))
			continue;
		if (v < min)
			min = v;
		if (v > max)
			max = v;
	}
	(void)closedir(d);
	if (max == 0) {
		for (i = 0; i < UIDV_RETRIES; i++) {
			v = uidv_fallback();
			uidv_token(tok, v);
			fd = openat(hfd, tok, NEW_FLAGS, 0444);
			if (fd != -1 || errno != EEXIST)
				break;
		}
		if (fd == -1) {
			log_error("folders: create %s/%s: %m", home, tok);
			return v;
		}
		if (is_root() && fstat(hfd, &st) == 0 &&
		    fchown(fd, st.st_uid, st.st_gid) == -1)
			log_error("folders: chown %s/%s: %m", home, tok);
		(void)close(fd);
		uidv_write(hfd, home, v);
		return v;
	}
	if (min != max) {
		uidv_token(tok, min);
		(void)unlinkat(hfd, tok, 0);
	}
	v = max;
	if (uidv_take(hfd, home, &v) == -1) {
		/* Another process moved the token on meanwhile: look
		 * again. A value without the token could be handed out
		 * twice, so the fallback is the very last resort. */
		if (depth < UIDV_RETRIES)
			return uidv_rescan_n(hfd, home, depth + 1);
		return uidv_fallback();
	}
	uidv_write(hfd, home, v);
	return v;
}

static uint32_t
uidv_rescan(int hfd, const char *home)
{
	return uidv_rescan_n(hfd, home, 0);
}

uint32_t
folders_uidvalidity_next_at(int hfd, const char *home)
{
	char		 text[9];
	ssize_t		 r;
	uint32_t	 v;
	int		 fd;

	fd = openat(hfd, FOLDERS_UIDV_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			log_error("folders: open %s/" FOLDERS_UIDV_FILE ": %m",
			    home);
		return uidv_rescan(hfd, home);
	}
	r = pread(fd, text, 8, 0);
	if (r <= 0 || !parse_hex32(text, (size_t)r, &v) || v == 0 ||
	    uidv_take(hfd, home, &v) == -1) {
		(void)close(fd);
		return uidv_rescan(hfd, home);
	}
	(void)snprintf(text, sizeof(text), "%08" PRIx32, v);
	if (pwrite(fd, text, 8, 0) != 8)
		log_error("folders: write %s/" FOLDERS_UIDV_FILE ": %m", home);
	if (close(fd) == -1)
		log_error("folders: close %s/" FOLDERS_UIDV_FILE ": %m", home);
	return v;
}

uint32_t
folders_uidvalidity_next(struct folders *f)
{
	return folders_uidvalidity_next_at(f->hfd, f->home);
}

/* --- creating --- */

/* The home's tmp/, made if missing. -1 logged. */
static int
tmp_open(const struct folders *f)
{
	int	 fd;

	fd = openat(f->hfd, "tmp", DIR_FLAGS);
	if (fd == -1 && errno == ENOENT) {
		if (make_dir(f, f->hfd, "tmp", true) == -1) {
			log_error("folders: mkdir %s/tmp: %m", f->home);
			return -1;
		}
		fd = openat(f->hfd, "tmp", DIR_FLAGS);
	}
	if (fd == -1)
		log_error("folders: open %s/tmp: %m", f->home);
	return fd;
}

/* A fresh work name with the given prefix in out (of outsz). */
static int
work_name(const char *prefix, char *out, size_t outsz)
{
	char	 uniq[MAILDIR_NAME_MAX + 1];
	int	 n;

	if (maildir_unique_name(NULL, uniq, sizeof(uniq)) == -1)
		return -1;
	n = snprintf(out, outsz, "%s%s", prefix, uniq);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Fill the folder directory open at dfd with what is missing of cur/
 * new/ tmp/, maildirfolder and dovecot-uidlist (with a new UIDVALIDITY,
 * taken only if the file is missing). dpath is for logs. */
static int
folder_fill(struct folders *f, int dfd, const char *dpath,
    const char **error_r)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	struct uidlist_file	 u;
	struct stat		 st;
	struct buf		 b;
	char			 guid[33];
	size_t			 i;
	int			 ret = FOLDERS_ERR_TEMP;

	buf_init(&b, NULL, 256);
	for (i = 0; i < N_ELEMENTS(sub); i++)
		if (make_dir(f, dfd, sub[i], true) == -1) {
			log_error("folders: mkdir %s/%s: %m", dpath, sub[i]);
			goto fail;
		}
	if (make_file(f, dfd, "maildirfolder", NULL, 0) == -1) {
		log_error("folders: create %s/maildirfolder: %m", dpath);
		goto fail;
	}
	/* Dovecot writes the uidlist at CREATE too: the folder has its
	 * UIDVALIDITY from the start, and it comes from the counter. */
	if (fstatat(dfd, UIDLIST_FILE_NAME, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		memset(&u, 0, sizeof(u));
		u.version = 3;
		u.uidvalidity = folders_uidvalidity_next(f);
		u.next_uid = 1;
		new_guid(guid);
		u.guid = guid;
		if (uidlist_format(&u, &b) != 0 || make_file(f, dfd,
		    UIDLIST_FILE_NAME, b.data, b.len) == -1) {
			log_error("folders: create %s/" UIDLIST_FILE_NAME
			    ": %m", dpath);
			goto fail;
		}
	}
	if (fsync(dfd) == -1) {
		log_error("folders: fsync %s: %m", dpath);
		goto fail;
	}
	ret = FOLDERS_OK;
	goto out;
fail:
	ret = status_errno(errno);
	*error_r = ret == FOLDERS_ERR_NOSPACE ? "Not enough disk space" :
	    "Cannot create mailbox";
out:
	buf_deinit(&b);
	return ret;
}

/* Create folder norm (checked, not INBOX). A bare directory of that name
 * is completed in place; anything else there is FOLDERS_ERR_EXISTS. */
static int
folder_create(struct folders *f, const char *norm, struct arena *a,
    const char **error_r)
{
	char		 dname[DNAME_SIZE], work[MAILDIR_NAME_MAX + 1];
	const char	*dpath;
	bool		 is_dir;
	int		 r, tfd = -1, dfd = -1, ret = FOLDERS_ERR_TEMP;
	bool		 made = false;

	dir_name(norm, dname);
	dpath = arena_printf(a, "%s/%s", f->home, dname);
	r = dir_is_folder(f->hfd, dname, &is_dir);
	if (r == 1) {
		*error_r = "Mailbox already exists";
		return FOLDERS_ERR_EXISTS;
	}
	if (r == -1) {
		log_error("folders: stat %s: %m", dpath);
		*error_r = "Cannot create mailbox";
		return FOLDERS_ERR_TEMP;
	}
	if (is_dir) {
		/* A directory that is no folder yet (left by a crash or a
		 * tool): make it one where it is. */
		if ((dfd = openat(f->hfd, dname, DIR_FLAGS)) == -1) {
			log_error("folders: open %s: %m", dpath);
			*error_r = "Cannot create mailbox";
			return FOLDERS_ERR_TEMP;
		}
		ret = folder_fill(f, dfd, dpath, error_r);
		(void)close(dfd);
		return ret;
	}
	/* Build it privately in tmp/, then one rename makes it appear
	 * whole, or fail if someone else's appeared first. */
	if ((tfd = tmp_open(f)) == -1) {
		*error_r = "Cannot create mailbox";
		return FOLDERS_ERR_TEMP;
	}
	if (work_name(TMP_CREATE, work, sizeof(work)) == -1) {
		log_error("folders: host name too long for a file name");
		*error_r = "Cannot create mailbox";
		goto out;
	}
	if (make_dir(f, tfd, work, false) == -1) {
		ret = status_errno(errno);
		log_error("folders: mkdir %s/tmp/%s: %m", f->home, work);
		*error_r = ret == FOLDERS_ERR_NOSPACE ?
		    "Not enough disk space" : "Cannot create mailbox";
		goto out;
	}
	made = true;
	if ((dfd = openat(tfd, work, DIR_FLAGS)) == -1) {
		log_error("folders: open %s/tmp/%s: %m", f->home, work);
		*error_r = "Cannot create mailbox";
		goto out;
	}
	if ((ret = folder_fill(f, dfd, dpath, error_r)) != FOLDERS_OK)
		goto out;
	ret = FOLDERS_ERR_TEMP;
	if (rename_noreplace(tfd, work, f->hfd, dname) == -1) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			*error_r = "Mailbox already exists";
			ret = FOLDERS_ERR_EXISTS;
		} else {
			log_error("folders: rename %s/tmp/%s to %s: %m",
			    f->home, work, dname);
			*error_r = "Cannot create mailbox";
		}
		goto out;
	}
	made = false;
	if (fsync(f->hfd) == -1) {
		/* The folder is there; only its durability is in doubt. */
		log_error("folders: fsync %s: %m", f->home);
	}
	ret = FOLDERS_OK;
out:
	fd_close(&dfd);
	if (made && rm_tree(tfd, work, 0) == -1)
		log_error("folders: remove %s/tmp/%s: %m", f->home, work);
	fd_close(&tfd);
	return ret;
}

int
folders_create(struct folders *f, const char *name, struct arena *a,
    const char **error_r)
{
	char	 norm[DNAME_SIZE];
	int	 r;

	if ((r = name_check(name, NAME_CREATE, norm, error_r)) != 0)
		return r;
	if (strcmp(norm, "INBOX") == 0) {
		*error_r = "Mailbox already exists";
		return FOLDERS_ERR_EXISTS;
	}
	return folder_create(f, norm, a, error_r);
}

/* --- deleting --- */

/* Remove work directories of ours older than TMP_LEFTOVER_SECS from
 * tmp/ (a crash between rename and removal leaves one). */
static void
tmp_sweep(const struct folders *f, int tfd)
{
	struct dirent	*de;
	struct stat	 st;
	time_t		 old = time(NULL) - TMP_LEFTOVER_SECS;
	DIR		*d;
	int		 dfd;

	if ((dfd = openat(tfd, ".", DIR_FLAGS)) == -1)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		(void)close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, TMP_DELETE,
		    sizeof(TMP_DELETE) - 1) != 0 && strncmp(de->d_name,
		    TMP_CREATE, sizeof(TMP_CREATE) - 1) != 0)
			continue;
		if (fstatat(tfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime < old && rm_tree(tfd, de->d_name, 0) == -1)
			log_warn("folders: remove %s/tmp/%s: %m", f->home,
			    de->d_name);
	}
	(void)closedir(d);
}

int
folders_delete(struct folders *f, const char *name, struct arena *a,
    const char **error_r)
{
	char	 norm[DNAME_SIZE], dname[DNAME_SIZE];
	char	 work[MAILDIR_NAME_MAX + 1];
	bool	 is_dir;
	int	 r, tfd, tries;

	(void)a;
	if ((r = name_check(name, NAME_EXISTING, norm, error_r)) != 0)
		return r;
	if (strcmp(norm, "INBOX") == 0) {
		*error_r = "INBOX can't be deleted";
		return FOLDERS_ERR_CANNOT;
	}
	dir_name(norm, dname);
	r = dir_is_folder(f->hfd, dname, &is_dir);
	if (r == -1) {
		log_error("folders: stat %s/%s: %m", f->home, dname);
		*error_r = "Cannot delete mailbox";
		return FOLDERS_ERR_TEMP;
	}
	if (r == 0) {
		*error_r = "Mailbox doesn't exist";
		return FOLDERS_ERR_NONEXISTENT;
	}
	if ((tfd = tmp_open(f)) == -1) {
		*error_r = "Cannot delete mailbox";
		return FOLDERS_ERR_TEMP;
	}
	if (work_name(TMP_DELETE, work, sizeof(work)) == -1) {
		log_error("folders: host name too long for a file name");
		*error_r = "Cannot delete mailbox";
		(void)close(tfd);
		return FOLDERS_ERR_TEMP;
	}
	/* Out of sight in one step: from here no LIST, SELECT or delivery
	 * finds it; removing the messages takes as long as it takes. */
	if (renameat(f->hfd, dname, tfd, work) == -1) {
		r = errno;
		(void)close(tfd);
		if (r == ENOENT) {
			*error_r = "Mailbox doesn't exist";
			return FOLDERS_ERR_NONEXISTENT;
		}
		errno = r;
		log_error("folders: rename %s/%s to tmp/%s: %m", f->home,
		    dname, work);
		*error_r = "Cannot delete mailbox";
		return FOLDERS_ERR_TEMP;
	}
	if (fsync(f->hfd) == -1)
		log_error("folders: fsync %s: %m", f->home);
	/* A delivery that opened new/ before the rename may still add a
	 * file, making the last rmdir fail: go round again. */
	for (tries = 0; tries < 3; tries++)
		if (rm_tree(tfd, work, 0) == 0)
			break;
	if (tries == 3)
		log_error("folders: remove %s/tmp/%s: %m (left for later)",
		    f->home, work);
	tmp_sweep(f, tfd);
	(void)close(tfd);
	return FOLDERS_OK;
}

/* --- subscriptions --- */

/* Dovecot's tab-escaping (str_append_tabescaped). */
static int
tab_escape(struct buf *b, const char *s, size_t n)
{
	size_t	 i;
	int	 rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		switch (s[i]) {
		case '\001':
			rc = buf_append(b, "\0011", 2);
			break;
		case '\t':
			rc = buf_append(b, "\001t", 2);
			break;
		case '\r':
			rc = buf_append(b, "\001r", 2);
			break;
		case '\n':
			rc = buf_append(b, "\001n", 2);
			break;
		default:
			rc = buf_append_c(b, s[i]);
		}
	}
	return rc;
}

/* The name (not yet checked) on one line of a subscriptions file of the
 * given version into out (DNAME_SIZE). false when the line cannot be a
 * name (too long, bad escape, encoded NUL). */
static bool
subs_line_name(const char *p, size_t n, unsigned version,
    char out[DNAME_SIZE])
{
	size_t	 i, o = 0;

	if (n > 0 && p[n - 1] == (version == 2 ? '\t' : FOLDERS_SEP))
		n--;	/* a trailing separator is ignored */
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\0')
			return false;
		if (version == 2 && c == '\t') {
			c = FOLDERS_SEP;
		} else if (version == 2 && c == '\001') {
			if (++i >= n)
				return false;
			switch (p[i]) {
			case '1': c = '\001'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			default: return false;	/* '0' (NUL) included */
			}
		}
		if (o >= DNAME_SIZE - 1)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

struct subs_line {
	const char	*p;		/* into the text */
	size_t		 len;		/* without the LF */
	const char	*name;		/* normal form, NULL if none */
};

/* Split a subscriptions text into its header and lines. */
static const char *
subs_split(const char *data, size_t len, struct arena *a,
    unsigned *version_r, size_t *hdr_r, struct subs_line **lines_r,
    size_t *n_r)
{
	static const char v2[] = "V\t2\n\n";
	const char	*p, *end = data + len, *nl, *err = NULL, *e;
	struct subs_line *v = NULL;
	char		 raw[DNAME_SIZE], norm[DNAME_SIZE];
	size_t		 n = 0, cap = 0;

	*version_r = 1;
	*hdr_r = 0;
	if (len == 0 || (len >= sizeof(v2) - 1 &&
	    memcmp(data, v2, sizeof(v2) - 1) == 0)) {
		*version_r = 2;
		*hdr_r = len == 0 ? 0 : sizeof(v2) - 1;
	}
	for (p = data + *hdr_r; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;

			v = arena_realloc(a, v, cap * sizeof(*v),
			    ncap * sizeof(*v));
			cap = ncap;
		}
		v[n].p = p;
		v[n].len = (size_t)(nl - p);
		v[n].name = NULL;
		if (v[n].len == 0) {
			/* blank: kept, names nothing */
		} else if (!subs_line_name(p, v[n].len, *version_r, raw)) {
			if (err == NULL)
				err = "bad line";
		} else if (name_check(raw, NAME_EXISTING, norm, &e) != 0) {
			if (err == NULL)
				err = "bad mailbox name";
		} else {
			v[n].name = arena_strdup(a, norm);
		}
		n++;
		if (nl == end)
			break;
	}
	*lines_r = v;
	*n_r = n;
	return err;
}

/* Append name as one line of a file of this version (no LF). */
static int
subs_put_name(struct buf *b, unsigned version, const char *name)
{
	const char	*p = name, *dot;
	int		 rc = 0;

	if (version != 2)
		return buf_append_str(b, name);
	for (;;) {
		dot = strchr(p, FOLDERS_SEP);
		rc = tab_escape(b, p, dot != NULL ? (size_t)(dot - p) :
		    strlen(p));
		if (rc != 0 || dot == NULL)
			return rc;
		if ((rc = buf_append_c(b, '\t')) != 0)
			return rc;
		p = dot + 1;
	}
}

enum subs_op { SUBS_ADD, SUBS_REMOVE, SUBS_RENAME };

/* The edited text into out: see folders_subs_edit; SUBS_RENAME turns
 * name and every "name.*" into name2 and "name2.*". */
static int
subs_rewrite(const char *data, size_t len, enum subs_op op,
    const char *name, const char *name2, struct buf *out, bool *changed_r)
{
	struct arena	*a = arena_create(4096);
	struct subs_line *lines;
	unsigned	 version;
	size_t		 hdr, n, i, nlen = strlen(name), old = out->len;
	bool		 found = false, changed = false;
	int		 rc = 0;

	(void)subs_split(data, len, a, &version, &hdr, &lines, &n);
	for (i = 0; i < n; i++)
		if (lines[i].name != NULL && strcmp(lines[i].name, name) == 0)
			found = true;
	if ((op == SUBS_ADD && found) || (op == SUBS_REMOVE && !found))
		goto verbatim;
	if (hdr > 0)
		rc = buf_append(out, data, hdr);
	else if (len == 0)
		rc = buf_append_str(out, "V\t2\n\n");
	for (i = 0; rc == 0 && i < n; i++) {
		const char *ln = lines[i].name;

		if (op == SUBS_REMOVE && ln != NULL && strcmp(ln, name) == 0) {
			changed = true;
			continue;
		}
		/* In a version 1 file a "V<TAB>2" line names nothing (TAB);
		 * dropped, so that removing the lines above it cannot turn
		 * the file into version 2. */
		if (version == 1 && lines[i].len == 3 &&
		    memcmp(lines[i].p, "V\t2", 3) == 0) {
			changed = true;
			continue;
		}
		if (op == SUBS_RENAME && ln != NULL &&
		    strncmp(ln, name, nlen) == 0 &&
		    (ln[nlen] == '\0' || ln[nlen] == FOLDERS_SEP)) {
			changed = true;
			rc = subs_put_name(out, version,
			    arena_printf(a, "%s%s", name2, ln + nlen));
		} else {
			rc = buf_append(out, lines[i].p, lines[i].len);
		}
		if (rc == 0)
			rc = buf_append_c(out, '\n');
	}
	if (rc == 0 && op == SUBS_ADD) {
		changed = true;
		rc = subs_put_name(out, version, name);
		if (rc == 0)
			rc = buf_append_c(out, '\n');
	}
	if (rc != 0)
		goto full;
	if (!changed) {
		buf_truncate(out, old);
		goto verbatim;
	}
	*changed_r = true;
	arena_destroy(&a);
	return 0;
verbatim:
	*changed_r = false;
	rc = buf_append(out, data, len);
	if (rc == 0) {
		arena_destroy(&a);
		return 0;
	}
full:
	buf_truncate(out, old);
	*changed_r = false;
	arena_destroy(&a);
	return BUF_EFULL;
}

int
folders_subs_edit(const char *data, size_t len, const char *name,
    bool subscribe, struct buf *out, bool *changed_r)
{
	return subs_rewrite(data, len, subscribe ? SUBS_ADD : SUBS_REMOVE,
	    name, NULL, out, changed_r);
}

struct name_at {
	const char	*name;
	size_t		 line;
};

static int
name_at_cmp(const void *x, const void *y)
{
	const struct name_at *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c != 0 ? c : (a->line < b->line ? -1 : a->line > b->line);
}

int
folders_subs_parse(const char *data, size_t len, struct arena *a,
    struct folders_subs *subs_r, const char **error_r)
{
	struct subs_line *lines;
	struct name_at	*v;
	const char	*err;
	bool		*keep;
	size_t		 hdr, n, i, k = 0, nv = 0;

	memset(subs_r, 0, sizeof(*subs_r));
	err = subs_split(data, len, a, &subs_r->version, &hdr, &lines, &n);
	/* Drop duplicates, keeping the first in file order: O(n log n)
	 * with a sorted copy, since an old account may have thousands. */
	v = arena_alloc(a, (n + 1) * sizeof(*v));
	keep = arena_zalloc(a, n + 1);
	for (i = 0; i < n; i++)
		if (lines[i].name != NULL) {
			v[nv].name = lines[i].name;
			v[nv++].line = i;
		}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), name_at_cmp);
	for (i = 0; i < nv; i++)
		if (i == 0 || strcmp(v[i - 1].name, v[i].name) != 0)
			keep[v[i].line] = true;
	subs_r->names = arena_alloc(a, (nv + 1) * sizeof(*subs_r->names));
	for (i = 0; i < n; i++)
		if (keep[i])
			subs_r->names[k++] = lines[i].name;
	subs_r->n = k;
	*error_r = err;
	return err == NULL ? 0 : -1;
}

bool
folders_subs_has(const struct folders_subs *subs, const char *name)
{
	size_t	 i;

	for (i = 0; i < subs->n; i++)
		if (strcmp(subs->names[i], name) == 0)
			return true;
	return false;
}

int
folders_subs_read(struct folders *f, struct arena *a,
    struct folders_subs *subs_r, const char **error_r)
{
	struct buf	 b;
	const char	*perr;
	int		 r;

	buf_init(&b, a, FOLDERS_SUBS_MAX);
	r = read_small(f->hfd, FOLDERS_SUBS_FILE, &b);
	if (r == -1) {
		log_error("folders: read %s/" FOLDERS_SUBS_FILE ": %m",
		    f->home);
		*error_r = "Cannot read subscriptions";
		return FOLDERS_ERR_TEMP;
	}
	if (folders_subs_parse(b.data != NULL ? b.data : "", b.len, a, subs_r,
	    &perr) != 0)
		log_warn("folders: %s/" FOLDERS_SUBS_FILE ": %s (skipped)",
		    f->home, perr);
	return FOLDERS_OK;
}

/* Take the subscriptions dotlock, the file we then write. */
static int
subs_lock(const struct folders *f, int *fd_r, const char **error_r)
{
	struct stat	 st;
	unsigned	 waited = 0;
	int		 fd;

	for (;;) {
		fd = openat(f->hfd, FOLDERS_SUBS_LOCK, NEW_FLAGS, 0600);
		if (fd != -1) {
			*fd_r = fd;
			return 0;
		}
		if (errno != EEXIST)
			break;
		if (fstatat(f->hfd, FOLDERS_SUBS_LOCK, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime < time(NULL) - LOCK_STALE_SECS) {
			log_warn("folders: removing stale %s/"
			    FOLDERS_SUBS_LOCK, f->home);
			(void)unlinkat(f->hfd, FOLDERS_SUBS_LOCK, 0);
			continue;
		}
		if (waited >= FOLDERS_LOCK_WAIT_MS) {
			*error_r = "Timeout waiting for subscription file lock";
			return -1;
		}
		(void)nanosleep(&(struct timespec){ 0,
		    LOCK_POLL_MS * 1000000L }, NULL);
		waited += LOCK_POLL_MS;
	}
	log_error("folders: create %s/" FOLDERS_SUBS_LOCK ": %m", f->home);
	*error_r = "Cannot update subscriptions";
	return -1;
}

/* One locked read-edit-replace of the subscriptions file. *changed_r
 * (may be NULL) tells whether it changed. */
static int
subs_update(struct folders *f, enum subs_op op, const char *name,
    const char *name2, bool *changed_r, const char **error_r)
{
	struct buf	 in, out;
	bool		 changed = false, locked = false;
	int		 lfd = -1, r, ret = FOLDERS_ERR_TEMP;

	buf_init(&in, NULL, FOLDERS_SUBS_MAX);
	buf_init(&out, NULL, FOLDERS_SUBS_MAX);
	if (subs_lock(f, &lfd, error_r) != 0)
		goto out;
	locked = true;
	if (read_small(f->hfd, FOLDERS_SUBS_FILE, &in) == -1) {
		log_error("folders: read %s/" FOLDERS_SUBS_FILE ": %m",
		    f->home);
		*error_r = "Cannot update subscriptions";
		goto out;
	}
	if (subs_rewrite(in.data != NULL ? in.data : "", in.len, op, name,
	    name2, &out, &changed) != 0) {
		log_error("folders: %s/" FOLDERS_SUBS_FILE " would pass %d "
		    "bytes", f->home, FOLDERS_SUBS_MAX);
		*error_r = "Too many subscriptions";
		goto out;
	}
	if (!changed) {
		ret = FOLDERS_OK;
		goto out;
	}
	if (write_all(lfd, out.data, out.len) == -1 ||
	    (is_root() && fchown(lfd, f->uid, f->gid) == -1) ||
	    fsync(lfd) == -1) {
		ret = status_errno(errno);
		log_error("folders: write %s/" FOLDERS_SUBS_LOCK ": %m",
		    f->home);
		*error_r = "Cannot update subscriptions";
		goto out;
	}
	r = close(lfd);
	lfd = -1;
	if (r == -1 || renameat(f->hfd, FOLDERS_SUBS_LOCK, f->hfd,
	    FOLDERS_SUBS_FILE) == -1) {
		log_error("folders: replace %s/" FOLDERS_SUBS_FILE ": %m",
		    f->home);
		*error_r = "Cannot update subscriptions";
		goto out;
	}
	locked = false;		/* the rename released it */
	ret = FOLDERS_OK;
out:
	fd_close(&lfd);
	if (locked)
		(void)unlinkat(f->hfd, FOLDERS_SUBS_LOCK, 0);
	if (changed_r != NULL)
		*changed_r = changed && ret == FOLDERS_OK;
	buf_deinit(&in);
	buf_deinit(&out);
	return ret;
}

int
folders_subscribe(struct folders *f, const char *name, struct arena *a,
    const char **error_r)
{
	char	 norm[DNAME_SIZE];
	int	 r;

	(void)a;
	if ((r = name_check(name, NAME_EXISTING, norm, error_r)) != 0)
		return r;
	return subs_update(f, SUBS_ADD, norm, NULL, NULL, error_r);
}

int
folders_unsubscribe(struct folders *f, const char *name, struct arena *a,
    const char **error_r)
{
	char	 norm[DNAME_SIZE];
	bool	 changed;
	int	 r;

	(void)a;
	if ((r = name_check(name, NAME_EXISTING, norm, error_r)) != 0)
		return r;
	if ((r = subs_update(f, SUBS_REMOVE, norm, NULL, &changed,
	    error_r)) != 0)
		return r;
	if (!changed) {
		*error_r = "Mailbox isn't subscribed";
		return FOLDERS_ERR_NONEXISTENT;
	}
	return FOLDERS_OK;
}

/* --- renaming --- */

struct move {
	char	*from;		/* directory names in the home */
	char	*to;
};

static int
move_cmp(const void *x, const void *y)
{
	const struct move *a = x, *b = y;

	return strcmp(a->from, b->from);
}

/* Every directory ".old" or ".old.*" of the home with its new name.
 * FOLDERS_ERR_INVALID if a new name would be too long or too deep. */
static int
rename_plan(struct folders *f, const char *dold, const char *dnew,
    struct arena *a, struct move **mv_r, size_t *n_r, const char **error_r)
{
	struct dirent	*de;
	struct stat	 st;
	struct move	*mv = NULL;
	size_t		 olen = strlen(dold), n = 0, cap = 0, depth, i;
	int		 dfd, ret = FOLDERS_OK;
	DIR		*d;

	if ((dfd = openat(f->hfd, ".", DIR_FLAGS)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		log_error("folders: opendir %s: %m", f->home);
		if (dfd != -1)
			(void)close(dfd);
		*error_r = "Cannot rename mailbox";
		return FOLDERS_ERR_TEMP;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *tail = de->d_name + olen;

		if (strncmp(de->d_name, dold, olen) != 0 ||
		    (*tail != '\0' && *tail != FOLDERS_SEP))
			continue;
		if (de->d_type != DT_DIR && (de->d_type != DT_UNKNOWN ||
		    fstatat(f->hfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISDIR(st.st_mode)))
			continue;
		if (strlen(dnew) + strlen(tail) > FOLDERS_NAME_MAX + 1) {
			*error_r = "Mailbox name too long";
			ret = FOLDERS_ERR_INVALID;
			break;
		}
		for (depth = 1, i = 1; dnew[i] != '\0'; i++)
			depth += dnew[i] == FOLDERS_SEP;
		for (i = 0; tail[i] != '\0'; i++)
			depth += tail[i] == FOLDERS_SEP;
		if (depth > FOLDERS_DEPTH_MAX) {
			*error_r = "Mailbox name has too many hierarchy levels";
			ret = FOLDERS_ERR_INVALID;
			break;
		}
		if (n == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;

			mv = arena_realloc(a, mv, cap * sizeof(*mv),
			    ncap * sizeof(*mv));
			cap = ncap;
		}
		mv[n].from = arena_strdup(a, de->d_name);
		mv[n].to = arena_printf(a, "%s%s", dnew, tail);
		n++;
	}
	if (ret == FOLDERS_OK && errno != 0) {
		log_error("folders: readdir %s: %m", f->home);
		*error_r = "Cannot rename mailbox";
		ret = FOLDERS_ERR_TEMP;
	}
	(void)closedir(d);
	if (n > 1)
		qsort(mv, n, sizeof(*mv), move_cmp);	/* parent first */
	*mv_r = mv;
	*n_r = n;
	return ret;
}

/* Copy INBOX's dovecot-keywords into the new folder dfd, so that the
 * letters of the moved messages keep their names. */
static int
keywords_copy(struct folders *f, int dfd, const char *dpath,
    struct arena *a, const char **error_r)
{
	struct keywords	 kw;
	struct buf	 b;
	int		 r, ret = FOLDERS_ERR_TEMP;

	if (keywords_read(f->hfd, f->home, a, &kw, error_r) != 0)
		return FOLDERS_ERR_TEMP;
	if (kw.used == 0)
		return FOLDERS_OK;
	buf_init(&b, NULL, KEYWORDS_FILE_MAX);
	if (keywords_format(&kw, &b) != 0)
		goto fail;
	/* Into the lock name, then renamed: a reader never sees half. */
	r = make_file(f, dfd, KEYWORDS_LOCK_NAME, b.data, b.len);
	if (r != 1 || renameat(dfd, KEYWORDS_LOCK_NAME, dfd,
	    KEYWORDS_FILE_NAME) == -1) {
		if (r == 0)
			errno = EEXIST;
		log_error("folders: write %s/" KEYWORDS_FILE_NAME ": %m",
		    dpath);
		goto fail;
	}
	ret = FOLDERS_OK;
	goto out;
fail:
	*error_r = "Cannot rename mailbox";
out:
	buf_deinit(&b);
	return ret;
}

/* Move every message file of INBOX's sub/ into dfd's sub/. Several
 * passes, since a flag change renames a file under us; *moved_r counts
 * what moved in the last pass. */
static int
inbox_move_dir(struct folders *f, int dfd, const char *sub, size_t *moved_r)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 sfd, tfd, ret = 0;

	*moved_r = 0;
	if ((sfd = openat(f->hfd, sub, DIR_FLAGS)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((tfd = openat(dfd, sub, DIR_FLAGS)) == -1) {
		(void)close(sfd);
		return -1;
	}
	if ((d = fdopendir(sfd)) == NULL) {
		(void)close(sfd);
		(void)close(tfd);
		return -1;
	}
	while (ret == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && (de->d_type != DT_UNKNOWN ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(st.st_mode)))
			continue;
		if (rename_noreplace(dirfd(d), de->d_name, tfd,
		    de->d_name) == 0)
			(*moved_r)++;
		else if (errno != ENOENT)
			ret = -1;	/* gone meanwhile: expunged, fine */
	}
	if (ret == 0 && errno != 0)
		ret = -1;
	if (ret == 0 && (fsync(tfd) == -1 || fsync(dirfd(d)) == -1))
		ret = -1;
	(void)closedir(d);
	(void)close(tfd);
	return ret;
}

/* RFC 3501 6.3.5: RENAME INBOX makes a new folder holding all of
 * INBOX's messages and leaves INBOX empty, its children untouched. Mail
 * delivered meanwhile stays in INBOX, which is what the client would
 * see anyway. UIDs: the new folder numbers the messages afresh under its
 * own UIDVALIDITY; INBOX keeps its UIDVALIDITY and next UID. */
static int
rename_inbox(struct folders *f, const char *nnew, struct arena *a,
    const char **error_r)
{
	static const char *const subs[] = { "new", "cur" };
	char		 dname[DNAME_SIZE];
	const char	*dpath;
	size_t		 i, moved;
	int		 dfd, pass, r;

	if ((r = folder_create(f, nnew, a, error_r)) != FOLDERS_OK) {
		if (r == FOLDERS_ERR_EXISTS)
			*error_r = "Target mailbox already exists";
		return r;
	}
	dir_name(nnew, dname);
	dpath = arena_printf(a, "%s/%s", f->home, dname);
	if ((dfd = openat(f->hfd, dname, DIR_FLAGS)) == -1) {
		log_error("folders: open %s: %m", dpath);
		*error_r = "Cannot rename mailbox";
		return FOLDERS_ERR_TEMP;
	}
	if ((r = keywords_copy(f, dfd, dpath, a, error_r)) != FOLDERS_OK)
		goto out;
	for (pass = 0; pass < MOVE_PASSES; pass++) {
		size_t total = 0;

		for (i = 0; i < N_ELEMENTS(subs); i++) {
			if (inbox_move_dir(f, dfd, subs[i], &moved) == -1) {
				r = status_errno(errno);
				log_error("folders: move %s/%s to %s: %m",
				    f->home, subs[i], dpath);
				*error_r = "Cannot move all messages";
				goto out;
			}
			total += moved;
		}
		if (total == 0)
			break;
	}
	r = FOLDERS_OK;
out:
	(void)close(dfd);
	return r;
}

int
folders_rename(struct folders *f, const char *oldname, const char *newname,
    struct arena *a, const char **error_r)
{
	char		 nold[DNAME_SIZE], nnew[DNAME_SIZE];
	char		 dold[DNAME_SIZE], dnew[DNAME_SIZE];
	struct move	*mv;
	struct stat	 st;
	size_t		 n, i, olen;
	bool		 is_dir;
	int		 r, err;

	if ((r = name_check(oldname, NAME_EXISTING, nold, error_r)) != 0 ||
	    (r = name_check(newname, NAME_NEW, nnew, error_r)) != 0)
		return r;
	if (strcmp(nnew, "INBOX") == 0) {
		*error_r = "Target mailbox already exists";
		return FOLDERS_ERR_EXISTS;
	}
	if (strcmp(nold, "INBOX") == 0)
		return rename_inbox(f, nnew, a, error_r);
	olen = strlen(nold);
	if (strcmp(nold, nnew) == 0) {
		*error_r = "Target mailbox already exists";
		return FOLDERS_ERR_EXISTS;
	}
	if (strncmp(nnew, nold, olen) == 0 && nnew[olen] == FOLDERS_SEP) {
		*error_r = "Can't rename mailbox under itself";
		return FOLDERS_ERR_CANNOT;
	}
	dir_name(nold, dold);
	dir_name(nnew, dnew);
	r = dir_is_folder(f->hfd, dold, &is_dir);
	if (r != 1) {
		if (r == -1)
			log_error("folders: stat %s/%s: %m", f->home, dold);
		*error_r = r == -1 ? "Cannot rename mailbox" :
		    "Mailbox doesn't exist";
		return r == -1 ? FOLDERS_ERR_TEMP : FOLDERS_ERR_NONEXISTENT;
	}
	if ((r = rename_plan(f, dold, dnew, a, &mv, &n, error_r)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (fstatat(f->hfd, mv[i].to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			*error_r = "Target mailbox already exists";
			return FOLDERS_ERR_EXISTS;
		}
	for (i = 0; i < n; i++) {
		if (rename_noreplace(f->hfd, mv[i].from, f->hfd,
		    mv[i].to) == 0)
			continue;
		err = errno;
		if (err == ENOENT && strcmp(mv[i].from, dold) != 0)
			continue;	/* a child deleted meanwhile */
		if (err == ENOENT) {
			*error_r = "Mailbox doesn't exist";
			r = FOLDERS_ERR_NONEXISTENT;
		} else if (err == EEXIST || err == ENOTEMPTY) {
			*error_r = "Target mailbox already exists";
			r = FOLDERS_ERR_EXISTS;
		} else {
			errno = err;
			log_error("folders: rename %s/%s to %s: %m", f->home,
			    mv[i].from, mv[i].to);
			*error_r = "Cannot rename mailbox";
			r = status_errno(err);
		}
		/* Undo what moved, newest first, so the hierarchy is not
		 * left split between two names. */
		while (i-- > 0)
			if (renameat(f->hfd, mv[i].to, f->hfd,
			    mv[i].from) == -1 && errno != ENOENT)
				log_error("folders: undo rename %s/%s: %m",
				    f->home, mv[i].to);
		return r;
	}
	if (fsync(f->hfd) == -1)
		log_error("folders: fsync %s: %m", f->home);
	/* The folders have moved; a failure here only leaves the old
	 * subscriptions behind, as Dovecot always does. */
	if (subs_update(f, SUBS_RENAME, nold, nnew, NULL, error_r) != 0)
		log_warn("folders: %s: subscriptions of %s not renamed",
		    f->home, nold);
	return FOLDERS_OK;
}

/* --- listing --- */

/* Candidate bits while building a list; turned into folder_flags. */
#define C_EXISTS	0x100u
#define C_PARENT	0x200u	/* a proper parent of an existing folder */

struct cands {
	struct folder_entry *v;
	size_t		 n, cap;
	struct arena	*a;
};

static void
cand_add(struct cands *c, const char *name, size_t len, unsigned bits)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap == 0 ? 64 : c->cap * 2;

		c->v = arena_realloc(c->a, c->v, c->cap * sizeof(*c->v),
		    ncap * sizeof(*c->v));
		c->cap = ncap;
	}
	c->v[c->n].name = arena_strndup(c->a, name, len);
	c->v[c->n].flags = bits;
	c->v[c->n].special = 0;
	c->n++;
}

/* name itself with 'self', and each of its parent levels with 'up'. */
static void
cand_add_tree(struct cands *c, const char *name, unsigned self, unsigned up)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == FOLDERS_SEP)
			cand_add(c, name, i, up);
	cand_add(c, name, strlen(name), self);
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct folder_entry *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* readdir the home: every folder, by the rules of folders_list. */
static int
list_scan(struct folders *f, struct cands *c, const char **error_r)
{
	struct dirent	*de;
	struct stat	 st;
	const char	*err;
	char		 norm[DNAME_SIZE];
	DIR		*d;
	int		 dfd;

	if ((dfd = openat(f->hfd, ".", DIR_FLAGS)) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		log_error("folders: opendir %s: %m", f->home);
		if (dfd != -1)
			(void)close(dfd);
		*error_r = "Cannot list mailboxes";
		return FOLDERS_ERR_TEMP;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *nm = de->d_name + 1;

		if (de->d_name[0] != '.' || *nm == '\0' ||
		    strcmp(nm, ".") == 0)
			continue;
		if (de->d_type != DT_DIR && (de->d_type != DT_UNKNOWN ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISDIR(st.st_mode)))
			continue;	/* files, links */
		if (name_check(nm, NAME_EXISTING, norm, &err) != 0 ||
		    strcmp(norm, nm) != 0 || strcmp(norm, "INBOX") == 0) {
			log_debug("folders: %s/%s is not a folder name, "
			    "skipped", f->home, de->d_name);
			continue;
		}
		if (!folder_marks(dirfd(d), de->d_name))
			continue;
		cand_add_tree(c, norm, C_EXISTS, C_PARENT);
	}
	if (errno != 0) {
		log_error("folders: readdir %s: %m", f->home);
		(void)closedir(d);
		*error_r = "Cannot list mailboxes";
		return FOLDERS_ERR_TEMP;
	}
	(void)closedir(d);
	return FOLDERS_OK;
}

int
folders_list(struct folders *f, unsigned flags,
    const struct folders_special *special, size_t nspecial,
    struct arena *a, struct folders_list *list_r, const char **error_r)
{
	struct folders_subs	 subs;
	struct cands		 c = { NULL, 0, 0, a };
	size_t			 i, o;
	int			 r;

	if ((r = list_scan(f, &c, error_r)) != FOLDERS_OK)
		return r;
	cand_add(&c, "INBOX", 5, C_EXISTS);
	if ((flags & FOLDERS_LIST_SUBSCRIPTIONS) != 0) {
		if ((r = folders_subs_read(f, a, &subs, error_r)) != 0)
			return r;
		for (i = 0; i < subs.n; i++)
			cand_add_tree(&c, subs.names[i], FOLDER_SUBSCRIBED,
			    FOLDER_SUBSCRIBED_CHILD);
	}
	/* Sort, then fold duplicates into one entry with all their bits:
	 * O(N log N) for N names times their depth. */
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), entry_cmp);
	for (i = o = 0; i < c.n; i++) {
		if (o > 0 && strcmp(c.v[o - 1].name, c.v[i].name) == 0) {
			c.v[o - 1].flags |= c.v[i].flags;
			continue;
		}
		c.v[o++] = c.v[i];
	}
	for (i = 0; i < o; i++) {
		unsigned bits = c.v[i].flags;

		c.v[i].flags = bits & (FOLDER_SUBSCRIBED |
		    FOLDER_SUBSCRIBED_CHILD);
		if ((bits & C_EXISTS) == 0)
			c.v[i].flags |= FOLDER_NONEXISTENT;
		if ((bits & C_PARENT) != 0)
			c.v[i].flags |= FOLDER_CHILDREN;
		if ((bits & C_EXISTS) != 0 && special != NULL)
			c.v[i].special = folders_special_get(special,
			    nspecial, c.v[i].name);
	}
	list_r->entries = c.v;
	list_r->n = o;
	return FOLDERS_OK;
}

/* --- LIST patterns --- */

/* Copy ref + pattern into out with each run of wildcards reduced to one
 * ('*' if the run has one, else '%'): the same language, and at most
 * one wildcard between literals bounds the matcher. Returns the length,
 * or -1 if ref + pattern is over FOLDERS_PATTERN_MAX bytes. */
static ssize_t
pattern_compact(const char *ref, const char *pattern,
    char out[FOLDERS_PATTERN_MAX + 1])
{
	const char	*parts[2] = { ref, pattern }, *p;
	size_t		 o = 0, k;

	if (strlen(ref) > FOLDERS_PATTERN_MAX - strlen(pattern) ||
	    strlen(pattern) > FOLDERS_PATTERN_MAX)
		return -1;
	for (k = 0; k < 2; k++) {
		for (p = parts[k]; *p != '\0'; p++) {
			bool wild = *p == '*' || *p == '%';

			if (wild && o > 0 && (out[o - 1] == '*' ||
			    out[o - 1] == '%')) {
				if (*p == '*')
					out[o - 1] = '*';
				continue;
			}
			if (o >= FOLDERS_PATTERN_MAX)
				return -1;
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return (ssize_t)o;
}

static char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The matcher: a set of pattern positions reachable after each byte of
 * the name (an NFA run), so the time is O(len(name) * len(p)) whatever
 * the pattern, never exponential backtracking. p is compacted. */
static bool
match_compact(const char *p, size_t m, const char *name)
{
	unsigned char	 s1[FOLDERS_PATTERN_MAX + 1];
	unsigned char	 s2[FOLDERS_PATTERN_MAX + 1];
	unsigned char	*cur = s1, *next = s2, *t;
	size_t		 i, j, lit = 0, pdots = 0, ndots = 0, nlen;
	bool		 star = false, inbox, any;

	nlen = strlen(name);
	for (j = 0; j < m; j++) {
		if (p[j] == '*')
			star = true;
		else if (p[j] != '%')
			lit++;
		pdots += p[j] == FOLDERS_SEP;
	}
	for (i = 0; i < nlen; i++)
		ndots += name[i] == FOLDERS_SEP;
	/* Cheap refusals: more literal bytes than the name has, or (no '*',
	 * and '%' never spans a separator) another number of levels. */
	if (lit > nlen || (!star && pdots != ndots))
		return false;
	inbox = strncmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == FOLDERS_SEP);
	memset(cur, 0, m + 1);
	cur[0] = 1;
	for (j = 0; j < m; j++)
		if (cur[j] && (p[j] == '*' || p[j] == '%'))
			cur[j + 1] = 1;
	for (i = 0; i < nlen; i++) {
		char c = name[i];

		memset(next, 0, m + 1);
		any = false;
		for (j = 0; j < m; j++) {
			if (!cur[j])
				continue;
			if (p[j] == '*' || (p[j] == '%' && c != FOLDERS_SEP)) {
				next[j] = 1;
				any = true;
			} else if (p[j] == c || (inbox && i < 5 &&
			    ascii_upper(p[j]) == c)) {
				next[j + 1] = 1;
				any = true;
			}
		}
		if (!any)
			return false;
		for (j = 0; j < m; j++)
			if (next[j] && (p[j] == '*' || p[j] == '%'))
				next[j + 1] = 1;
		t = cur;
		cur = next;
		next = t;
	}
	return cur[m] != 0;
}

bool
folders_match(const char *pattern, const char *name)
{
	char	 p[FOLDERS_PATTERN_MAX + 1];
	ssize_t	 m;

	if ((m = pattern_compact("", pattern, p)) < 0)
		return false;
	return match_compact(p, (size_t)m, name);
}

/* The index range [*lo, *hi) of entries starting with prefix[0..plen). */
static void
prefix_range(const struct folders_list *l, const char *prefix, size_t plen,
    size_t *lo_r, size_t *hi_r)
{
	size_t	 lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strncmp(l->entries[mid].name, prefix, plen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*lo_r = lo;
	while (hi < l->n && strncmp(l->entries[hi].name, prefix, plen) == 0)
		hi++;
	if (hi < lo)
		hi = lo;
	*hi_r = hi;
}

void
folders_list_match(const struct folders_list *l, const char *ref,
    const char *pattern, struct arena *a, size_t **idx_r, size_t *n_r)
{
	char	 p[FOLDERS_PATTERN_MAX + 1];
	size_t	*out, n = 0, plen, lo1, hi1, lo2 = 0, hi2 = 0, i, k;
	ssize_t	 m;

	*idx_r = NULL;
	*n_r = 0;
	if (*pattern == '\0' || (m = pattern_compact(ref, pattern, p)) < 0)
		return;
	plen = strcspn(p, "*%");
	prefix_range(l, p, plen, &lo1, &hi1);
	/* The INBOX level matches case-insensitively, so "inb%" must also
	 * look among the names starting with "INB". */
	k = plen < 5 ? plen : 5;
	if (k > 0 && strncasecmp(p, "INBOX", k) == 0) {
		char q[FOLDERS_PATTERN_MAX + 1];

		memcpy(q, p, plen);
		for (i = 0; i < k; i++)
			q[i] = ascii_upper(q[i]);
		if (memcmp(q, p, k) != 0)
			prefix_range(l, q, plen, &lo2, &hi2);
	}
	/* Room for every candidate; no more (a LIST per command). */
	out = arena_alloc(a, (hi1 - lo1 + hi2 - lo2 + 1) * sizeof(*out));
	*idx_r = out;
	for (i = lo1; i < hi1; i++)
		if (match_compact(p, (size_t)m, l->entries[i].name))
			out[n++] = i;
	for (i = lo2; i < hi2; i++)
		if ((i < lo1 || i >= hi1) &&
		    match_compact(p, (size_t)m, l->entries[i].name))
			out[n++] = i;
	/* Keep list order when both ranges gave matches. */
	if (hi2 > lo2 && n > 1) {
		size_t x, y, t;

		for (x = 1; x < n; x++)
			for (y = x; y > 0 && out[y - 1] > out[y]; y--) {
				t = out[y];
				out[y] = out[y - 1];
				out[y - 1] = t;
			}
	}
	*n_r = n;
}

/* --- special-use --- */

const struct folders_special folders_special_default[] = {
	{ "Drafts", FOLDER_SPECIAL_DRAFTS },
	{ "Sent", FOLDER_SPECIAL_SENT },
	{ "Sent Messages", FOLDER_SPECIAL_SENT },
	{ "Trash", FOLDER_SPECIAL_TRASH },
	{ "Junk", FOLDER_SPECIAL_JUNK },
	{ "Archive", FOLDER_SPECIAL_ARCHIVE },
};
const size_t folders_special_default_n = N_ELEMENTS(folders_special_default);

static const struct {
	unsigned	 attr;
	const char	*name;
} special_names[] = {
	{ FOLDER_SPECIAL_ALL, "\\All" },
	{ FOLDER_SPECIAL_ARCHIVE, "\\Archive" },
	{ FOLDER_SPECIAL_DRAFTS, "\\Drafts" },
	{ FOLDER_SPECIAL_FLAGGED, "\\Flagged" },
	{ FOLDER_SPECIAL_JUNK, "\\Junk" },
	{ FOLDER_SPECIAL_SENT, "\\Sent" },
	{ FOLDER_SPECIAL_TRASH, "\\Trash" },
};

unsigned
folders_special_get(const struct folders_special *table, size_t n,
    const char *name)
{
	unsigned	 attr = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0 ||
		    (folders_is_inbox(name) && folders_is_inbox(table[i].name)))
			attr |= table[i].attr;
	return attr;
}

const char *
folders_special_name(unsigned attr)
{
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(special_names); i++)
		if (special_names[i].attr == attr)
			return special_names[i].name;
	return NULL;
}

unsigned
folders_special_parse(const char *attr)
{
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(special_names); i++)
		if (strcasecmp(special_names[i].name, attr) == 0)
			return special_names[i].attr;
	return 0;
}

int
folders_special_ensure(struct folders *f, const struct folders_special *table,
    size_t n, struct arena *a, const char **error_r)
{
	char	 norm[DNAME_SIZE];
	size_t	 i;
	int	 r;

	for (i = 0; i < n; i++) {
		if ((r = name_check(table[i].name, NAME_CREATE, norm,
		    error_r)) != 0) {
			log_error("folders: special-use folder \"%s\": %s",
			    table[i].name, *error_r);
			return r;
		}
		if (strcmp(norm, "INBOX") == 0)
			continue;
		r = folder_create(f, norm, a, error_r);
		if (r == FOLDERS_ERR_EXISTS)
			continue;	/* there already (or just made by a
					 * concurrent session): left as is */
		if (r != FOLDERS_OK)
			return r;
		if ((r = subs_update(f, SUBS_ADD, norm, NULL, NULL,
		    error_r)) != FOLDERS_OK)
			return r;
	}
	return FOLDERS_OK;
}
