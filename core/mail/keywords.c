/* keywords.c - Maildir info letters and dovecot-keywords; see
 * aviary/keywords.h and protocols.md 4.3, 5.3.
 *
 * Why Dovecot's file: the letters a..z in every migrated file name mean
 * nothing without it, and a server running beside Dovecot during a
 * cut-over must hand out the same letters. So the reading rules copy
 * Dovecot's tolerance (bad lines are skipped, not fatal) and the writing
 * rules its locking: new names only under the uidlist dotlock, which
 * Dovecot also holds whenever it adds a keyword, so two writers never
 * give one letter to two names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/keywords.h"
#include "aviary/log.h"
#include "aviary/str.h"
#include "aviary/uidlist.h"

#define LOCK_POLL_MS	50

/* System flag letters in ASCII order, and their bits. */
static const struct {
	char		 letter;
	unsigned	 flag;
	const char	*imap;
} sysflags[] = {
	{ 'D', MAIL_FLAG_DRAFT, "\\Draft" },
	{ 'F', MAIL_FLAG_FLAGGED, "\\Flagged" },
	{ 'P', MAIL_FLAG_PASSED, NULL },
	{ 'R', MAIL_FLAG_ANSWERED, "\\Answered" },
	{ 'S', MAIL_FLAG_SEEN, "\\Seen" },
	{ 'T', MAIL_FLAG_DELETED, "\\Deleted" },
};

/* --- names --- */

/* RFC 3501 ATOM-CHAR: any CHAR except atom-specials, i.e. not
 * ( ) { SP CTL % * " \ ] and not 8-bit. */
static bool
is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

bool
keywords_name_valid(const char *name, const char **error_r)
{
	const char	*err = NULL;
	size_t		 i;

	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!is_atom_char(c)) {
			err = c >= 0x80 ? "8bit characters in keyword" :
			    "Invalid characters in keyword";
			break;
		}
	}
	if (err == NULL && i == 0)
		err = "Empty keywords not allowed";
	else if (err == NULL && i > KEYWORDS_NAME_MAX)
		err = "Keyword length too long";
	if (err != NULL && error_r != NULL)
		*error_r = err;
	return err == NULL;
}

int
keywords_lookup(const struct keywords *kw, const char *name)
{
	int	 i;

	for (i = 0; i < KEYWORDS_MAX; i++)
		if ((kw->valid & (1u << i)) != 0 &&
		    strcasecmp(kw->names[i], name) == 0)
			return i;
	return -1;
}

const char *
keywords_name(const struct keywords *kw, unsigned idx)
{
	if (idx >= KEYWORDS_MAX || (kw->valid & (1u << idx)) == 0)
		return NULL;
	return kw->names[idx];
}

/* --- parsing --- */

int
keywords_parse(const char *data, size_t len, struct arena *a,
    struct keywords *kw_r, const char **error_r)
{
	const char	*p = data, *end = data + len, *nl, *sp, *err = NULL;
	uint64_t	 idx;
	size_t		 n;
	int		 i;

	memset(kw_r, 0, sizeof(*kw_r));
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;	/* a last line without LF still counts,
					 * as in Dovecot's reader */
		n = (size_t)(nl - p);
		sp = memchr(p, ' ', n);
		if (n == 0) {
			continue;	/* blank line: harmless */
		} else if (sp == NULL || sp + 1 == nl) {
			if (err == NULL)
				err = "line without a name";
		} else if (str_to_u64((struct str){ p, (size_t)(sp - p) },
		    &idx) != 0 || idx >= KEYWORDS_MAX) {
			if (err == NULL)
				err = "bad keyword index";
		} else if (memchr(sp + 1, '\0', (size_t)(nl - sp - 1)) !=
		    NULL) {
			if (err == NULL)
				err = "NUL in keyword";
		} else {
			char *name = arena_strndup(a, sp + 1,
			    (size_t)(nl - sp - 1));

			/* A later line for the same index wins (Dovecot). */
			kw_r->names[idx] = name;
			kw_r->used |= 1u << idx;
			if (keywords_name_valid(name, NULL))
				kw_r->valid |= 1u << idx;
			else
				kw_r->valid &= ~(1u << idx);
		}
		if (nl == end)
			break;
	}
	/* One name under two letters would make lookups ambiguous: keep
	 * the lowest index valid, report the rest. */
	for (i = 0; i < KEYWORDS_MAX; i++) {
		int j;

		if ((kw_r->valid & (1u << i)) == 0)
			continue;
		for (j = 0; j < i; j++)
			if ((kw_r->valid & (1u << j)) != 0 &&
			    strcasecmp(kw_r->names[i], kw_r->names[j]) == 0) {
				kw_r->valid &= ~(1u << i);
				if (err == NULL)
					err = "duplicate keyword";
				break;
			}
	}
	*error_r = err;
	return err == NULL ? 0 : -1;
}

int
keywords_format(const struct keywords *kw, struct buf *out)
{
	size_t	 old = out->len;
	int	 i;

	for (i = 0; i < KEYWORDS_MAX; i++) {
		if ((kw->used & (1u << i)) == 0)
			continue;
		if (buf_printf(out, "%d %s\n", i, kw->names[i]) != 0) {
			buf_truncate(out, old);
			return BUF_EFULL;
		}
	}
	return 0;
}

/* --- the file --- */

int
keywords_read(int dfd, const char *path, struct arena *a,
    struct keywords *kw_r, const char **error_r)
{
	struct stat	 st;
	const char	*perr;
	char		*data;
	size_t		 got = 0;
	ssize_t		 r;
	int		 fd, ret = KEYWORDS_ERR_TEMP;

	memset(kw_r, 0, sizeof(*kw_r));
	fd = openat(dfd, KEYWORDS_FILE_NAME, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 || fstat(fd, &st) == -1) {
		log_error("keywords: open %s/" KEYWORDS_FILE_NAME ": %m",
		    path);
		*error_r = "cannot read keywords";
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYWORDS_FILE_MAX) {
		log_error("keywords: %s/" KEYWORDS_FILE_NAME
		    ": not a file or too big", path);
		*error_r = "keywords file damaged";
		goto out;
	}
	/* Writers replace the file by rename, never change it in place:
	 * what fstat saw is what there is to read. */
	data = arena_alloc(a, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_error("keywords: read %s/" KEYWORDS_FILE_NAME
			    ": %m", path);
			*error_r = "cannot read keywords";
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (keywords_parse(data, got, a, kw_r, &perr) != 0)
		log_warn("keywords: %s/" KEYWORDS_FILE_NAME ": %s (ignored)",
		    path, perr);
	kw_r->mtime = st.st_mtim;
	ret = 0;
out:
	if (fd != -1)
		(void)close(fd);
	return ret;
}

/* Take dovecot-keywords.lock, the file we then write (Dovecot's
 * file_dotlock_replace). The uidlist lock is held, so a lock found here
 * is stale or Dovecot's own leftover: wait a little, then break it if
 * old. */
static int
klock_take(int dfd, const char *path, unsigned wait_ms, int *fd_r,
    const char **error_r)
{
	struct stat	 st;
	unsigned	 waited = 0;
	int		 fd;

	for (;;) {
		fd = openat(dfd, KEYWORDS_LOCK_NAME, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*fd_r = fd;
			return 0;
		}
		if (errno != EEXIST)
			break;
		if (fstatat(dfd, KEYWORDS_LOCK_NAME, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    time(NULL) - st.st_mtime > KEYWORDS_LOCK_STALE_SECS) {
			log_warn("keywords: %s: removing stale "
			    KEYWORDS_LOCK_NAME, path);
			if (unlinkat(dfd, KEYWORDS_LOCK_NAME, 0) == -1 &&
			    errno != ENOENT)
				break;
			continue;
		}
		if (waited >= wait_ms) {
			*error_r = "keywords locked";
			return -1;
		}
		(void)nanosleep(&(struct timespec){ 0,
		    LOCK_POLL_MS * 1000000L }, NULL);
		waited += LOCK_POLL_MS;
	}
	log_error("keywords: create %s/" KEYWORDS_LOCK_NAME ": %m", path);
	*error_r = "cannot lock keywords";
	return -1;
}

/* Write kw into the keywords lock file lfd and rename it over the file.
 * The mtime must grow past 'prev' (Dovecot rereads only on a change of
 * mtime, in whole seconds). The lock is gone afterwards either way. */
static int
kfile_replace(int dfd, const char *path, const struct keywords *kw,
    struct timespec prev, int lfd, struct timespec *mtime_r,
    const char **error_r)
{
	struct buf	 b;
	struct stat	 st;
	size_t		 off = 0;
	ssize_t		 r;
	int		 ret = KEYWORDS_ERR_TEMP;

	buf_init(&b, NULL, KEYWORDS_FILE_MAX);
	if (keywords_format(kw, &b) != 0) {
		*error_r = "keywords file too big";
		goto out;
	}
	while (off < b.len) {
		r = write(lfd, b.data + off, b.len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		off += (size_t)r;
	}
	if (fstat(lfd, &st) == -1)
		goto fail;
	*mtime_r = st.st_mtim;
	if (prev.tv_sec != 0 && st.st_mtime <= prev.tv_sec) {
		struct timespec ts[2] = {
			{ 0, UTIME_OMIT }, { prev.tv_sec + 1, 0 }
		};

		if (futimens(lfd, ts) == -1)
			goto fail;
		*mtime_r = ts[1];
	}
	if (fsync(lfd) == -1 || renameat(dfd, KEYWORDS_LOCK_NAME, dfd,
	    KEYWORDS_FILE_NAME) == -1)
		goto fail;
	(void)close(lfd);
	lfd = -1;
	ret = 0;
	goto out;
fail:
	log_error("keywords: write %s/" KEYWORDS_FILE_NAME ": %m", path);
	*error_r = "cannot write keywords";
out:
	if (lfd != -1) {
		(void)close(lfd);
		(void)unlinkat(dfd, KEYWORDS_LOCK_NAME, 0);
	}
	buf_deinit(&b);
	return ret;
}

/* Look every name up in kw; the names missing get the lowest free
 * indexes not in avoid when 'add' is set. 1: all known, 0: some missing
 * (only when !add), KEYWORDS_ERR_FULL. */
static int
kw_resolve(struct keywords *kw, const char *const *names, size_t n,
    uint32_t avoid, bool add, struct arena *a, uint32_t *mask_r)
{
	uint32_t	 mask = 0;
	size_t		 i;
	int		 idx, k;

	for (i = 0; i < n; i++) {
		if ((idx = keywords_lookup(kw, names[i])) >= 0) {
			mask |= 1u << idx;
			continue;
		}
		if (!add)
			return 0;
		for (k = 0; k < KEYWORDS_MAX; k++)
			if (((kw->used | avoid) & (1u << k)) == 0)
				break;
		if (k == KEYWORDS_MAX)
			return KEYWORDS_ERR_FULL;
		kw->names[k] = arena_strdup(a, names[i]);
		kw->used |= 1u << k;
		kw->valid |= 1u << k;
		mask |= 1u << k;
	}
	*mask_r = mask;
	return 1;
}

int
keywords_assign(int dfd, const char *path, const char *const *names,
    size_t n, uint32_t avoid, unsigned lock_wait_ms, struct arena *a,
    struct keywords *kw_r, uint32_t *mask_r, const char **error_r)
{
	struct keywords	 kw, before;
	size_t		 i;
	int		 ulock = -1, klock = -1, r, ret;

	for (i = 0; i < n; i++)
		if (!keywords_name_valid(names[i], error_r))
			return KEYWORDS_ERR_INVALID;
	/* The common case: every name has its letter already. */
	if ((ret = keywords_read(dfd, path, a, &kw, error_r)) != 0)
		return ret;
	if ((r = kw_resolve(&kw, names, n, avoid, false, a, mask_r)) == 1)
		goto done;
	if (uidlist_lock_take(dfd, path, lock_wait_ms, &ulock, error_r) != 0)
		return KEYWORDS_ERR_TEMP;
	/* Under the lock: re-read, someone may have added them. */
	if ((ret = keywords_read(dfd, path, a, &kw, error_r)) != 0)
		goto out;
	before = kw;
	r = kw_resolve(&kw, names, n, avoid, true, a, mask_r);
	if (r == KEYWORDS_ERR_FULL) {
		*error_r = "Too many keywords in this folder";
		ret = KEYWORDS_ERR_FULL;
		goto out;
	}
	if (kw.used != before.used) {
		if (klock_take(dfd, path, lock_wait_ms, &klock,
		    error_r) != 0) {
			ret = KEYWORDS_ERR_TEMP;
			goto out;
		}
		ret = kfile_replace(dfd, path, &kw, before.mtime, klock,
		    &kw.mtime, error_r);
		klock = -1;	/* consumed */
		if (ret != 0)
			goto out;
	}
	ret = 0;
out:
	uidlist_lock_drop(dfd, ulock);
	if (ret != 0)
		return ret;
done:
	if (kw_r != NULL)
		*kw_r = kw;
	return 0;
}

/* --- info letters --- */

void
keywords_info_parse(const char *info, unsigned *sys_r, uint32_t *kw_r)
{
	unsigned	 sys = 0;
	uint32_t	 kw = 0;
	size_t		 i;

	for (; *info != '\0' && *info != ','; info++) {
		if (*info >= 'a' && *info <= 'z') {
			kw |= 1u << (*info - 'a');
			continue;
		}
		for (i = 0; i < N_ELEMENTS(sysflags); i++)
			if (sysflags[i].letter == *info)
				sys |= sysflags[i].flag;
	}
	if (sys_r != NULL)
		*sys_r = sys;
	if (kw_r != NULL)
		*kw_r = kw;
}

static bool
is_sys_letter(char c)
{
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(sysflags); i++)
		if (sysflags[i].letter == c)
			return true;
	return false;
}

int
keywords_info_make(unsigned sys, uint32_t kw, const char *old,
    char out[KEYWORDS_INFO_SIZE])
{
	bool		 set[128] = { false };
	const char	*tail = "";
	size_t		 o = 0, tlen;
	unsigned	 c;
	size_t		 i;

	for (i = 0; i < N_ELEMENTS(sysflags); i++)
		if ((sys & sysflags[i].flag) != 0)
			set[(unsigned char)sysflags[i].letter] = true;
	for (c = 0; c < KEYWORDS_MAX; c++)
		if ((kw & (1u << c)) != 0)
			set['a' + c] = true;
	/* Letters we do not know (another program's) are kept, in their
	 * ASCII place; anything not a plain printable byte is dropped, as
	 * it could not be a flag. */
	for (; old != NULL && *old != '\0' && *old != ','; old++) {
		unsigned char u = (unsigned char)*old;

		if (u > 0x20 && u < 0x7f && u != '/' && !is_sys_letter(*old) &&
		    !(u >= 'a' && u <= 'z'))
			set[u] = true;
	}
	if (old != NULL && *old == ',')
		tail = old;
	for (c = 0; c < 128; c++) {
		if (!set[c])
			continue;
		if (o >= KEYWORDS_INFO_SIZE - 1)
			goto toolong;
		out[o++] = (char)c;
	}
	tlen = strlen(tail);
	if (tlen > KEYWORDS_INFO_SIZE - 1 - o)
		goto toolong;
	memcpy(out + o, tail, tlen);
	out[o + tlen] = '\0';
	return 0;
toolong:
	out[0] = '\0';
	return -1;
}

const char *
keywords_sysflag_name(unsigned flag)
{
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(sysflags); i++)
		if (sysflags[i].flag == flag)
			return sysflags[i].imap;
	return NULL;
}

unsigned
keywords_sysflag_parse(const char *name)
{
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(sysflags); i++)
		if (sysflags[i].imap != NULL &&
		    strcasecmp(sysflags[i].imap, name) == 0)
			return sysflags[i].flag;
	return 0;
}
