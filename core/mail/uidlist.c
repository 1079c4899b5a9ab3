/* uidlist.c - dovecot-uidlist v3 and the per-folder message index.
 *
 * Why Dovecot's file and not our own: migrated mailboxes must keep
 * UIDVALIDITY and every UID (protocols.md 5.4) or every IMAP client
 * re-downloads and every POP3 client sees new UIDLs. Reading and writing
 * the very same file also lets Dovecot and Aviary run side by side
 * during a cut-over: both take the same dotlock.
 *
 * Layout of the work: scan the directories, read the file without a
 * lock, and only when something must change take the lock and do it all
 * again (the state seen without the lock may be stale). Everything is in
 * the caller's arena; a folder is a snapshot, reopened per session or
 * per command by the protocol servers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/folders.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/str.h"
#include "aviary/uidlist.h"

#define SCAN_TRIES	3	/* directory changed while scanning */
#define LOCK_POLL_MS	50
#define FLAGS_MAX	64

static const char *const dir_names[] = { "new", "cur" };

/* --- parsing --- */

static bool
is_key(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* A decimal u32 in [1, max] covering the whole slice. */
static bool
parse_u32(const char *p, size_t n, uint32_t max, uint32_t *r)
{
	uint64_t v;

	if (str_to_u64((struct str){ p, n }, &v) != 0 || v == 0 || v > max)
		return false;
	*r = (uint32_t)v;
	return true;
}

static void
push_str(struct arena *a, const char ***arr, size_t *n, const char *s)
{
	*arr = arena_realloc(a, *arr, *n * sizeof(**arr),
	    (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = s;
}

/* The header line (no LF). Sets header_ok only if everything is right;
 * uidvalidity is kept whenever a V field parses, so that a partly
 * damaged file keeps it (protocols.md 5.4 item 1). */
static const char *
parse_header(const char *p, size_t n, struct arena *a, struct uidlist_file *f)
{
	const char	*end = p + n, *tok, *sp;
	bool		 have_v = false, have_n = false;
	const char	*err = NULL;
	size_t		 ntok = 0;

	if (n >= 2 && p[0] == '1' && p[1] == ' ') {
		/* Courier-era v1: "1 <uidvalidity> <nextuid>". */
		sp = memchr(p + 2, ' ', n - 2);
		f->version = 1;
		if (sp == NULL || !parse_u32(p + 2, (size_t)(sp - p - 2),
		    UINT32_MAX, &f->uidvalidity) ||
		    !parse_u32(sp + 1, (size_t)(end - sp - 1), UINT32_MAX,
		    &f->next_uid)) {
			f->uidvalidity = 0;
			return "bad version 1 header";
		}
		push_str(a, &f->hdr_fields, &f->nhdr_fields,
		    arena_printf(a, "V%" PRIu32, f->uidvalidity));
		push_str(a, &f->hdr_fields, &f->nhdr_fields,
		    arena_printf(a, "N%" PRIu32, f->next_uid));
		f->header_ok = true;
		return NULL;
	}
	if (n < 1 || p[0] != '3' || (n > 1 && p[1] != ' '))
		return "unsupported version";
	f->version = 3;
	for (tok = p + 1; tok < end; tok = sp) {
		tok++;			/* the space */
		sp = memchr(tok, ' ', (size_t)(end - tok));
		if (sp == NULL)
			sp = end;
		if (sp == tok || !is_key(*tok)) {
			err = "bad header field";
			continue;
		}
		if (++ntok > UIDLIST_FIELDS_MAX) {
			err = "too many header fields";
			break;
		}
		push_str(a, &f->hdr_fields, &f->nhdr_fields,
		    arena_strndup(a, tok, (size_t)(sp - tok)));
		if (*tok == 'V' && !have_v) {
			have_v = parse_u32(tok + 1, (size_t)(sp - tok - 1),
			    UINT32_MAX, &f->uidvalidity);
			if (!have_v)
				err = "bad UIDVALIDITY";
		} else if (*tok == 'N' && !have_n) {
			have_n = parse_u32(tok + 1, (size_t)(sp - tok - 1),
			    UINT32_MAX, &f->next_uid);
			if (!have_n)
				err = "bad next UID";
		} else if (*tok == 'G' && f->guid == NULL) {
			f->guid = arena_strndup(a, tok + 1,
			    (size_t)(sp - tok - 1));
		}
	}
	if (err == NULL && (!have_v || !have_n))
		err = "header lacks V or N";
	f->header_ok = err == NULL;
	return err;
}

/* One record line (no LF) into *r. */
static const char *
parse_rec(const char *p, size_t n, unsigned version, struct arena *a,
    struct uidlist_rec *r)
{
	const char	*end = p + n, *sp, *name;
	size_t		 nf = 0;

	sp = memchr(p, ' ', n);
	if (sp == NULL || !parse_u32(p, (size_t)(sp - p), UINT32_MAX - 1,
	    &r->uid))
		return "bad UID";
	if (version == 1) {
		name = sp + 1;
	} else {
		for (;;) {
			if (sp >= end || *sp != ' ')
				return "bad record";
			p = sp + 1;
			if (p < end && *p == ':') {
				name = p + 1;
				break;
			}
			sp = memchr(p, ' ', (size_t)(end - p));
			if (sp == NULL)
				return "record without file name";
			if (sp == p || !is_key(*p))
				return "bad record field";
			if (++nf > UIDLIST_FIELDS_MAX)
				return "too many record fields";
			push_str(a, &r->fields, &r->nfields,
			    arena_strndup(a, p, (size_t)(sp - p)));
		}
	}
	if (name >= end || *name == ':' || memchr(name, '/',
	    (size_t)(end - name)) != NULL)
		return "bad file name";
	r->name = arena_strndup(a, name, (size_t)(end - name));
	r->basename = arena_strndup(a, r->name, strcspn(r->name, ":"));
	return NULL;
}

int
uidlist_parse(const char *data, size_t len, struct arena *a,
    struct uidlist_file *file_r, const char **error_r)
{
	struct uidlist_file	*f = file_r;
	const char		*err = NULL, *e, *nl, *p = data, *end = data + len;
	size_t			 n, cap = 0;
	uint32_t		 last = 0;
	bool			 first = true;

	memset(f, 0, sizeof(*f));
	if (len == 0) {
		*error_r = "empty file";
		return -1;
	}
	for (; p < end; p = nl + 1, first = false) {
		struct uidlist_rec r = { 0 };

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			/* A writer may append without a rename; a partial
			 * last line is not to be trusted. */
			e = "unterminated line";
			nl = end;
		} else if ((n = (size_t)(nl - p)) > UIDLIST_LINE_MAX) {
			e = "line too long";
		} else if (memchr(p, '\0', n) != NULL) {
			e = "NUL in line";
		} else if (first) {
			e = parse_header(p, n, a, f);
			if (f->version != 1 && f->version != 3) {
				err = e;
				break;	/* nothing to salvage */
			}
		} else if ((e = parse_rec(p, n, f->version, a, &r)) == NULL &&
		    r.uid <= last) {
			e = "UIDs not increasing";
		} else if (e == NULL && f->version == 1 &&
		    r.uid >= f->next_uid) {
			e = "UID beyond next UID";	/* v1 rule */
		} else if (e == NULL) {
			if (f->nrecs == cap) {
				size_t ncap = cap == 0 ? 64 : cap * 2;

				f->recs = arena_realloc(a, f->recs,
				    cap * sizeof(*f->recs),
				    ncap * sizeof(*f->recs));
				cap = ncap;
			}
			f->recs[f->nrecs++] = r;
			last = r.uid;
		}
		if (e != NULL && err == NULL)
			err = e;
		if (nl == end)
			break;
	}
	if (f->nrecs > 0 && f->next_uid <= last)
		f->next_uid = last + 1;
	*error_r = err;
	return err == NULL ? 0 : -1;
}

int
uidlist_format(const struct uidlist_file *f, struct buf *out)
{
	bool	 have_v = false, have_n = false, have_g = false;
	size_t	 i, j;
	int	 rc = buf_append_c(out, '3');

	for (i = 0; rc == 0 && i < f->nhdr_fields; i++) {
		const char *fl = f->hdr_fields[i];

		if (fl[0] == 'V' && !have_v) {
			have_v = true;
			rc = buf_printf(out, " V%" PRIu32, f->uidvalidity);
		} else if (fl[0] == 'N' && !have_n) {
			have_n = true;
			rc = buf_printf(out, " N%" PRIu32, f->next_uid);
		} else if (fl[0] == 'G' && !have_g && f->guid != NULL) {
			have_g = true;
			rc = buf_printf(out, " G%s", f->guid);
		} else {
			rc = buf_printf(out, " %s", fl);
		}
	}
	if (rc == 0 && !have_v)
		rc = buf_printf(out, " V%" PRIu32, f->uidvalidity);
	if (rc == 0 && !have_n)
		rc = buf_printf(out, " N%" PRIu32, f->next_uid);
	if (rc == 0 && !have_g && f->guid != NULL)
		rc = buf_printf(out, " G%s", f->guid);
	if (rc == 0)
		rc = buf_append_c(out, '\n');
	for (i = 0; rc == 0 && i < f->nrecs; i++) {
		const struct uidlist_rec *r = &f->recs[i];

		rc = buf_printf(out, "%" PRIu32, r->uid);
		for (j = 0; rc == 0 && j < r->nfields; j++)
			rc = buf_printf(out, " %s", r->fields[j]);
		if (rc == 0)
			rc = buf_printf(out, " :%s\n", r->name);
	}
	return rc == 0 ? 0 : -1;
}

void
uidlist_uidl_default(uint32_t uid, uint32_t uidvalidity,
    char out[UIDLIST_UIDL_SIZE])
{
	/* DC mail-storage-settings.c: pop3_uidl_format = %08Xu%08Xv */
	(void)snprintf(out, UIDLIST_UIDL_SIZE, "%08" PRIX32 "%08" PRIX32,
	    uid, uidvalidity);
}

/* --- scanning --- */

struct ent {
	struct uidlist_msg	 m;
	const struct uidlist_rec *rec;	/* matched record, or NULL */
};

struct scan {
	struct ent	*ents;
	size_t		 n, cap;
	bool		 unstable;	/* a file vanished mid-scan */
};

static void
close_fd(void *arg)
{
	int *fdp = arg;

	if (*fdp >= 0)
		(void)close(*fdp);
	*fdp = -1;
}

static const char *
name_flags(const char *name)
{
	const char *p = strchr(name, ':');

	return p != NULL && strncmp(p, ":2,", 3) == 0 ? p + 3 : "";
}

/* Fill a message from its name and a stat. */
static void
msg_fill(struct uidlist_msg *m, struct arena *a, const char *name,
    enum uidlist_dir dir, const struct stat *st)
{
	bool have_s = false, have_w = false;

	m->name = arena_strdup(a, name);
	m->basename = arena_strndup(a, name, strcspn(name, ":"));
	m->dir = dir;
	m->flags = name_flags(m->name);
	m->mtime = st->st_mtime;
	(void)maildir_name_sizes(name, &m->size, &have_s, &m->vsize, &have_w);
	if (!have_s)
		m->size = (uint64_t)st->st_size;
	m->have_vsize = have_w;
	if (!have_w)
		m->vsize = m->size;
}

static int
scan_dir(struct uidlist_folder *f, enum uidlist_dir dir, struct scan *s,
    const char **error_r)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 fd;

	fd = openat(f->dfd, dir_names[dir],
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 0;	/* treated as empty; delivery creates it */
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		log_error("uidlist: open %s/%s: %m", f->path, dir_names[dir]);
		if (fd != -1)
			(void)close(fd);
		*error_r = "cannot read mail directory";
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT) {
				s->unstable = true;	/* renamed away */
				continue;
			}
			log_error("uidlist: stat %s/%s/%s: %m", f->path,
			    dir_names[dir], de->d_name);
			(void)closedir(d);
			*error_r = "cannot stat message";
			return -1;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (s->n == s->cap) {
			size_t ncap = s->cap == 0 ? 64 : s->cap * 2;

			s->ents = arena_realloc(f->arena, s->ents,
			    s->cap * sizeof(*s->ents),
			    ncap * sizeof(*s->ents));
			s->cap = ncap;
		}
		memset(&s->ents[s->n], 0, sizeof(s->ents[s->n]));
		msg_fill(&s->ents[s->n].m, f->arena, de->d_name, dir, &st);
		s->n++;
	}
	if (errno != 0) {
		log_error("uidlist: readdir %s/%s: %m", f->path,
		    dir_names[dir]);
		(void)closedir(d);
		*error_r = "cannot read mail directory";
		return -1;
	}
	(void)closedir(d);
	return 0;
}

static int
ent_cmp_base(const void *x, const void *y)
{
	const struct ent *a = x, *b = y;
	int c = strcmp(a->m.basename, b->m.basename);

	/* cur/ first, so that a duplicate keeps the cur/ copy */
	return c != 0 ? c : (int)b->m.dir - (int)a->m.dir;
}

static int
ent_key_cmp(const void *key, const void *elt)
{
	const struct ent *e = elt;

	return strcmp(key, e->m.basename);
}

static bool
dir_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void
dirs_stat(const struct uidlist_folder *f, struct stat st[2])
{
	int i;

	for (i = 0; i < 2; i++)
		if (fstatat(f->dfd, dir_names[i], &st[i], 0) == -1)
			memset(&st[i], 0, sizeof(st[i]));
}

/* new/ before cur/: a file moved new/ -> cur/ between the two is then
 * seen at least once. Rescans while the directories change, up to
 * SCAN_TRIES; s->unstable stays set if they never settled. Duplicate
 * base names are reduced to one entry. */
static int
scan_all(struct uidlist_folder *f, struct scan *s, const char **error_r)
{
	struct stat	 before[2], after[2];
	size_t		 i, o;
	int		 try;

	for (try = 0; try < SCAN_TRIES; try++) {
		memset(s, 0, sizeof(*s));
		dirs_stat(f, before);
		if (scan_dir(f, UIDLIST_DIR_NEW, s, error_r) < 0 ||
		    scan_dir(f, UIDLIST_DIR_CUR, s, error_r) < 0)
			return -1;
		dirs_stat(f, after);
		if (!dir_same(&before[0], &after[0]) ||
		    !dir_same(&before[1], &after[1]))
			s->unstable = true;
		if (!s->unstable)
			break;
	}
	if (s->n > 0)
		qsort(s->ents, s->n, sizeof(*s->ents), ent_cmp_base);
	for (i = o = 0; i < s->n; i++) {
		if (o > 0 && strcmp(s->ents[o - 1].m.basename,
		    s->ents[i].m.basename) == 0) {
			log_warn("uidlist: %s: duplicate message %s ignored",
			    f->path, s->ents[i].m.name);
			continue;
		}
		s->ents[o++] = s->ents[i];
	}
	s->n = o;
	return 0;
}

/* --- the file --- */

/* 1 read (file_r filled, *damaged_r), 0 missing, -1 error. */
static int
file_read(struct uidlist_folder *f, struct uidlist_file *file_r,
    bool *damaged_r, const char **error_r)
{
	struct stat	 st;
	const char	*perr;
	char		*data;
	size_t		 got = 0;
	ssize_t		 r;
	int		 fd, ret = -1;

	fd = openat(f->dfd, UIDLIST_FILE_NAME,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 || fstat(fd, &st) == -1) {
		log_error("uidlist: open %s/" UIDLIST_FILE_NAME ": %m",
		    f->path);
		*error_r = "cannot read uidlist";
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > UIDLIST_FILE_MAX) {
		log_error("uidlist: %s/" UIDLIST_FILE_NAME
		    ": not a file or too big", f->path);
		*error_r = "uidlist too big";
		goto out;
	}
	data = arena_alloc(f->arena, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_error("uidlist: read %s/" UIDLIST_FILE_NAME ": %m",
			    f->path);
			*error_r = "cannot read uidlist";
			goto out;
		}
		if (r == 0)
			break;	/* shrunk: replaced files never shrink in
				 * place, so a short file is just parsed */
		got += (size_t)r;
	}
	*damaged_r = uidlist_parse(data, got, f->arena, file_r, &perr) < 0;
	if (*damaged_r)
		log_warn("uidlist: %s/" UIDLIST_FILE_NAME " damaged (%s), "
		    "rebuilding", f->path, perr);
	ret = 1;
out:
	if (fd != -1)
		(void)close(fd);
	return ret;
}

static int
lock_take(struct uidlist_folder *f, unsigned wait_ms, int *fd_r,
    const char **error_r)
{
	struct timespec	 start, now, nap;
	struct stat	 st;
	uint64_t	 waited;
	int		 fd;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		fd = openat(f->dfd, UIDLIST_LOCK_NAME, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*fd_r = fd;
			return 0;
		}
		if (errno != EEXIST) {
			log_error("uidlist: create %s/" UIDLIST_LOCK_NAME
			    ": %m", f->path);
			*error_r = "cannot lock uidlist";
			return -1;
		}
		if (fstatat(f->dfd, UIDLIST_LOCK_NAME, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* released meanwhile */
			log_error("uidlist: stat %s/" UIDLIST_LOCK_NAME ": %m",
			    f->path);
			*error_r = "cannot lock uidlist";
			return -1;
		}
		if (time(NULL) - st.st_mtime > UIDLIST_LOCK_STALE_SECS) {
			log_warn("uidlist: %s: removing stale "
			    UIDLIST_LOCK_NAME, f->path);
			if (unlinkat(f->dfd, UIDLIST_LOCK_NAME, 0) == -1 &&
			    errno != ENOENT) {
				log_error("uidlist: unlink %s/"
				    UIDLIST_LOCK_NAME ": %m", f->path);
				*error_r = "cannot lock uidlist";
				return -1;
			}
			continue;
		}
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (uint64_t)(now.tv_sec - start.tv_sec) * 1000 +
		    (uint64_t)((now.tv_nsec - start.tv_nsec) / 1000000);
		if (waited >= wait_ms) {
			*error_r = "uidlist locked";
			return -1;
		}
		nap.tv_sec = 0;
		nap.tv_nsec = (long)(wait_ms - waited < LOCK_POLL_MS ?
		    wait_ms - waited : LOCK_POLL_MS) * 1000000L;
		(void)nanosleep(&nap, NULL);
	}
}

static void
lock_drop(struct uidlist_folder *f, int fd)
{
	(void)close(fd);
	(void)unlinkat(f->dfd, UIDLIST_LOCK_NAME, 0);
}

/* The same lock for other per-folder files that Dovecot guards with it
 * (dovecot-keywords: keywords.c). */
int
uidlist_lock_take(int dfd, const char *path, unsigned wait_ms, int *fd_r,
    const char **error_r)
{
	struct uidlist_folder f = { .path = path, .dfd = dfd };

	return lock_take(&f, wait_ms, fd_r, error_r);
}

void
uidlist_lock_drop(int dfd, int fd)
{
	struct uidlist_folder f = { .dfd = dfd };

	lock_drop(&f, fd);
}

/* A UIDVALIDITY for a folder without a usable uidlist: from the
 * mailbox home's dovecot-uidvalidity counter, shared with Dovecot, so a
 * folder deleted and created again never gets an old value back. The
 * home is the folder itself (INBOX) or, for a Maildir++ folder (a
 * directory ".Name"), its parent. (Not the maildirfolder file: Dovecot
 * also leaves one in INBOX.) */
static uint32_t
new_uidvalidity(const struct uidlist_folder *f)
{
	const char	*base = strrchr(f->path, '/');
	uint32_t	 v;
	int		 hfd;

	base = base != NULL ? base + 1 : f->path;
	if (base[0] != '.')
		return folders_uidvalidity_next_at(f->dfd, f->path);
	hfd = openat(f->dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (hfd == -1)
		return (uint32_t)time(NULL);
	v = folders_uidvalidity_next_at(hfd, f->path);
	(void)close(hfd);
	return v;
}

/* Write file into the lock file and rename it over dovecot-uidlist: the
 * lock is released by the rename (Dovecot's file_dotlock_replace). */
static int
file_write_locked(struct uidlist_folder *f, const struct uidlist_file *file,
    int lock_fd, const char **error_r)
{
	struct buf	 b;
	size_t		 off = 0;
	ssize_t		 r;
	int		 ret = -1;

	buf_init(&b, NULL, UIDLIST_FILE_MAX);
	if (uidlist_format(file, &b) < 0) {
		*error_r = "uidlist too big";
		goto out;
	}
	while (off < b.len) {
		r = write(lock_fd, b.data + off, b.len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		off += (size_t)r;
	}
	if (fsync(lock_fd) == -1 || renameat(f->dfd, UIDLIST_LOCK_NAME,
	    f->dfd, UIDLIST_FILE_NAME) == -1)
		goto fail;
	(void)close(lock_fd);
	lock_fd = -1;
	ret = 0;
	goto out;
fail:
	log_error("uidlist: write %s/" UIDLIST_FILE_NAME ": %m", f->path);
	*error_r = "cannot write uidlist";
out:
	if (lock_fd != -1)
		lock_drop(f, lock_fd);
	buf_deinit(&b);
	return ret;
}

/* --- building the index --- */

static int
rec_cmp_base(const void *x, const void *y)
{
	const struct uidlist_rec *const *a = x, *const *b = y;
	int c = strcmp((*a)->basename, (*b)->basename);

	/* equal names: the later (higher) UID first, it wins (5.2) */
	return c != 0 ? c : ((*a)->uid < (*b)->uid ? 1 :
	    (*a)->uid > (*b)->uid ? -1 : 0);
}

static int
rec_key_cmp(const void *key, const void *elt)
{
	const struct uidlist_rec *const *r = elt;

	return strcmp(key, (*r)->basename);
}

/* Seconds, then Dovecot's M<usec>, of a file name; 0 when absent. */
static void
name_time(const char *name, uint64_t *sec_r, uint64_t *usec_r)
{
	const char *p = name;

	*sec_r = *usec_r = 0;
	for (; *p >= '0' && *p <= '9' && *sec_r < UINT64_MAX / 10 - 9; p++)
		*sec_r = *sec_r * 10 + (uint64_t)(*p - '0');
	if (p[0] == '.' && p[1] == 'M')
		for (p += 2; *p >= '0' && *p <= '9' &&
		    *usec_r < UINT64_MAX / 10 - 9; p++)
			*usec_r = *usec_r * 10 + (uint64_t)(*p - '0');
}

static int
ent_cmp_time(const void *x, const void *y)
{
	const struct ent *const *a = x, *const *b = y;
	uint64_t as, au, bs, bu;

	name_time((*a)->m.basename, &as, &au);
	name_time((*b)->m.basename, &bs, &bu);
	if (as != bs)
		return as < bs ? -1 : 1;
	if (au != bu)
		return au < bu ? -1 : 1;
	return strcmp((*a)->m.basename, (*b)->m.basename);
}

static int
msg_cmp_uid(const void *x, const void *y)
{
	const struct uidlist_msg *a = x, *b = y;

	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

static const char *
new_guid(struct arena *a)
{
	unsigned char	 rnd[16];
	char		*out = arena_alloc(a, 33);
	size_t		 i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		/* no entropy: unique enough for a mailbox GUID */
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		memset(rnd, 0, sizeof(rnd));
		memcpy(rnd, &ts, sizeof(ts) < sizeof(rnd) ? sizeof(ts) :
		    sizeof(rnd));
		rnd[15] ^= (unsigned char)getpid();
	}
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(out + i * 2, 3, "%02x", rnd[i]);
	return out;
}

/* One pass: 1 when the file must be (re)written and we are not locked,
 * 0 done, -1 error. Under the lock it writes what is needed. */
/* One pass: 1 when the file must be (re)written and *lock_fdp is -1,
 * 0 done, -1 error. Under the lock (*lock_fdp >= 0) it writes what is
 * needed; the lock is released (and *lock_fdp set to -1) on success, and
 * left to the caller on error. */
static int
folder_load(struct uidlist_folder *f, int *lock_fdp, const char **error_r)
{
	struct uidlist_file	 file;
	struct scan		 s;
	struct ent		**fresh = NULL;
	const struct uidlist_rec **idx = NULL, **hit;
	bool			 damaged = false, need_write, keep_all;
	size_t			 i, nfresh = 0, nidx = 0;
	int			 rc;

	if (scan_all(f, &s, error_r) < 0)
		return -1;
	memset(&file, 0, sizeof(file));
	rc = file_read(f, &file, &damaged, error_r);
	if (rc < 0)
		return -1;
	if (rc == 0 || file.uidvalidity == 0) {
		/* missing, or no usable UIDVALIDITY: start over; old
		 * records are meaningless without their UIDVALIDITY */
		memset(&file, 0, sizeof(file));
		file.version = 3;
		file.uidvalidity = new_uidvalidity(f);
		file.next_uid = 1;
		damaged = true;
	}
	if (file.next_uid == 0)
		file.next_uid = 1;
	if (file.guid == NULL)
		file.guid = new_guid(f->arena);
	/* Match by base name; for equal names the later UID wins. */
	if (file.nrecs > 0) {
		idx = arena_alloc(f->arena, file.nrecs * sizeof(*idx));
		for (i = 0; i < file.nrecs; i++)
			idx[i] = &file.recs[i];
		qsort(idx, file.nrecs, sizeof(*idx), rec_cmp_base);
		for (i = 0; i < file.nrecs; i++)
			if (nidx == 0 || strcmp(idx[nidx - 1]->basename,
			    idx[i]->basename) != 0)
				idx[nidx++] = idx[i];
	}
	fresh = arena_alloc(f->arena, (s.n + 1) * sizeof(*fresh));
	for (i = 0; i < s.n; i++) {
		hit = nidx == 0 ? NULL : bsearch(s.ents[i].m.basename, idx,
		    nidx, sizeof(*idx), rec_key_cmp);
		s.ents[i].rec = hit != NULL ? *hit : NULL;
		if (hit == NULL)
			fresh[nfresh++] = &s.ents[i];
	}
	need_write = damaged || file.version != 3 || nfresh > 0;
	if (need_write && *lock_fdp < 0)
		return 1;
	if (need_write) {
		struct uidlist_file	 out = file;
		size_t			 o = 0;

		/* Time order, as Dovecot (maildir_filename_sort_cmp). */
		if (nfresh > 0)
			qsort(fresh, nfresh, sizeof(*fresh), ent_cmp_time);
		if (nfresh > UINT32_MAX - file.next_uid) {
			log_error("uidlist: %s: UIDs exhausted", f->path);
			*error_r = "UIDs exhausted";
			return -1;
		}
		out.version = 3;
		out.recs = arena_alloc(f->arena,
		    (file.nrecs + nfresh + 1) * sizeof(*out.recs));
		/* Records whose file was not seen are expunged, dropped
		 * here lazily; but only when the scan was stable, so a
		 * rename in flight cannot lose a UID. */
		keep_all = s.unstable;
		for (i = 0; i < file.nrecs; i++) {
			const struct uidlist_rec *r = &file.recs[i];

			hit = bsearch(r->basename, idx, nidx, sizeof(*idx),
			    rec_key_cmp);
			if (hit == NULL || *hit != r)
				continue;	/* superseded duplicate */
			if (!keep_all && (s.n == 0 || bsearch(r->basename,
			    s.ents, s.n, sizeof(*s.ents), ent_key_cmp) == NULL))
				continue;	/* expunged */
			out.recs[o] = *r;
			out.recs[o].name = r->basename;
			o++;
		}
		for (i = 0; i < nfresh; i++) {
			struct uidlist_rec *r = &out.recs[o++];

			memset(r, 0, sizeof(*r));
			r->uid = out.next_uid++;
			r->name = r->basename = fresh[i]->m.basename;
			fresh[i]->rec = r;
		}
		out.nrecs = o;
		rc = file_write_locked(f, &out, *lock_fdp, error_r);
		*lock_fdp = -1;		/* released by the rename or on error */
		if (rc < 0)
			return -1;
		f->rebuilt = damaged;
		file = out;
	} else if (*lock_fdp >= 0) {
		lock_drop(f, *lock_fdp);
		*lock_fdp = -1;
	}
	f->file = file;
	f->uidvalidity = file.uidvalidity;
	f->next_uid = file.next_uid;
	f->guid = file.guid;
	f->msgs = arena_alloc(f->arena, (s.n + 1) * sizeof(*f->msgs));
	f->nmsgs = 0;
	for (i = 0; i < s.n; i++) {
		const struct uidlist_rec *r = s.ents[i].rec;
		struct uidlist_msg *m = &f->msgs[f->nmsgs++];
		size_t j;

		*m = s.ents[i].m;
		m->uid = r->uid;
		for (j = 0; j < r->nfields; j++)
			if (r->fields[j][0] == 'P')
				m->pop3_uidl = r->fields[j] + 1;
	}
	if (f->nmsgs > 0)
		qsort(f->msgs, f->nmsgs, sizeof(*f->msgs), msg_cmp_uid);
	return 0;
}

int
uidlist_folder_open(const char *path, unsigned lock_wait_ms,
    struct arena *a, struct uidlist_folder **folder_r, const char **error_r)
{
	struct uidlist_folder	*f;
	int			 rc, lock_fd;

	f = arena_zalloc(a, sizeof(*f));
	f->arena = a;
	f->path = arena_strdup(a, path);
	f->dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (f->dfd == -1) {
		log_error("uidlist: open %s: %m", path);
		*error_r = "cannot open folder";
		return -1;
	}
	arena_cleanup_add(a, close_fd, &f->dfd);
	lock_fd = -1;
	rc = folder_load(f, &lock_fd, error_r);
	if (rc == 1) {
		if (lock_take(f, lock_wait_ms, &lock_fd, error_r) < 0)
			return -1;
		rc = folder_load(f, &lock_fd, error_r);
		if (lock_fd >= 0)
			lock_drop(f, lock_fd);
	}
	if (rc < 0)
		return -1;
	*folder_r = f;
	return 0;
}

int
uidlist_folder_find(const struct uidlist_folder *f, uint32_t uid,
    size_t *idx_r)
{
	struct uidlist_msg	 key = { .uid = uid };
	struct uidlist_msg	*m;

	if (f->nmsgs == 0)
		return 0;
	m = bsearch(&key, f->msgs, f->nmsgs, sizeof(*f->msgs), msg_cmp_uid);
	if (m == NULL)
		return 0;
	*idx_r = (size_t)(m - f->msgs);
	return 1;
}

/* --- one message --- */

static const char *
msg_path(const struct uidlist_folder *f, const struct uidlist_msg *m)
{
	return arena_printf(f->arena, "%s/%s", dir_names[m->dir], m->name);
}

/* Look the base name up again after another process renamed the file:
 * cur/ first (where it moves to). 1 found (m updated), 0 gone, -1. */
static int
msg_locate(struct uidlist_folder *f, struct uidlist_msg *m,
    const char **error_r)
{
	size_t	 blen = strlen(m->basename);
	int	 dir;

	for (dir = UIDLIST_DIR_CUR; dir >= UIDLIST_DIR_NEW; dir--) {
		struct dirent	*de;
		struct stat	 st;
		DIR		*d;
		int		 fd;

		fd = openat(f->dfd, dir_names[dir],
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT)
			continue;
		if (fd == -1 || (d = fdopendir(fd)) == NULL) {
			if (fd != -1)
				(void)close(fd);
			*error_r = "cannot read mail directory";
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, m->basename, blen) != 0 ||
			    (de->d_name[blen] != '\0' &&
			    de->d_name[blen] != ':'))
				continue;
			if (fstatat(fd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
				continue;
			m->name = arena_strdup(f->arena, de->d_name);
			m->dir = (enum uidlist_dir)dir;
			m->flags = name_flags(m->name);
			(void)closedir(d);
			return 1;
		}
		(void)closedir(d);
	}
	return 0;
}

/* Run op on message m; if its file was renamed by another process
 * meanwhile (ENOENT), look the base name up again and run it once more.
 * op returns 1 when done, -1 with errno. 1 done, 0 the message is gone,
 * -1 error (logged as "<what> <path>", *error_r = fail). */
static int
msg_retry(struct uidlist_folder *f, struct uidlist_msg *m,
    int (*op)(struct uidlist_folder *, struct uidlist_msg *, void *),
    void *arg, const char *what, const char *fail, const char **error_r)
{
	int	 tries, rc, e;

	for (tries = 0; tries < 2; tries++) {
		if (op(f, m, arg) == 1)
			return 1;
		if (errno != ENOENT || tries > 0)
			break;
		if ((rc = msg_locate(f, m, error_r)) <= 0)
			return rc;
	}
	if (errno == ENOENT)
		return 0;
	e = errno;
	log_error("uidlist: %s %s/%s: %s", what, f->path, msg_path(f, m),
	    strerror(e));
	*error_r = fail;
	return -1;
}

static int
op_open(struct uidlist_folder *f, struct uidlist_msg *m, void *arg)
{
	int	 fd = openat(f->dfd, msg_path(f, m),
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	*(int *)arg = fd;
	return 1;
}

static int
op_unlink(struct uidlist_folder *f, struct uidlist_msg *m, void *arg)
{
	(void)arg;
	return unlinkat(f->dfd, msg_path(f, m), 0) == 0 ? 1 : -1;
}

/* Rename to cur/<newname>. rename() replacing an existing name would be
 * the same message (same base name) set by someone else: fine. */
static int
op_rename(struct uidlist_folder *f, struct uidlist_msg *m, void *arg)
{
	const char	*newname = arg;

	if (m->dir == UIDLIST_DIR_CUR && strcmp(m->name, newname) == 0)
		return 1;
	if (renameat(f->dfd, msg_path(f, m), f->dfd,
	    arena_printf(f->arena, "cur/%s", newname)) == -1)
		return -1;
	m->name = newname;
	m->dir = UIDLIST_DIR_CUR;
	m->flags = name_flags(newname);
	return 1;
}

int
uidlist_folder_msg_open(struct uidlist_folder *f, size_t idx, int *fd_r,
    const char **error_r)
{
	ASSERT(idx < f->nmsgs);
	return msg_retry(f, &f->msgs[idx], op_open, fd_r, "open",
	    "cannot open message", error_r);
}

int
uidlist_folder_msg_unlink(struct uidlist_folder *f, size_t idx,
    const char **error_r)
{
	ASSERT(idx < f->nmsgs);
	return msg_retry(f, &f->msgs[idx], op_unlink, NULL, "unlink",
	    "cannot remove message", error_r);
}

int
uidlist_folder_msg_set_flags(struct uidlist_folder *f, size_t idx,
    const char *flags, const char **error_r)
{
	struct uidlist_msg	*m;
	const char		*p;
	char			*newname;

	ASSERT(idx < f->nmsgs);
	m = &f->msgs[idx];
	for (p = flags; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '/')
			break;
	if (*p != '\0' || (size_t)(p - flags) > FLAGS_MAX) {
		*error_r = "invalid flags";
		return -1;
	}
	newname = arena_printf(f->arena, "%s:2,%s", m->basename, flags);
	if (strlen(newname) > MAILDIR_NAME_MAX) {
		*error_r = "file name too long";
		return -1;
	}
	return msg_retry(f, m, op_rename, newname, "rename",
	    "cannot change flags", error_r);
}

int
uidlist_folder_msg_to_cur(struct uidlist_folder *f, size_t idx,
    const char **error_r)
{
	ASSERT(idx < f->nmsgs);
	if (f->msgs[idx].dir == UIDLIST_DIR_CUR)
		return 1;
	return uidlist_folder_msg_set_flags(f, idx, f->msgs[idx].flags,
	    error_r);
}

const char *
uidlist_folder_msg_uidl(const struct uidlist_folder *f, size_t idx)
{
	char *out;

	ASSERT(idx < f->nmsgs);
	if (f->msgs[idx].pop3_uidl != NULL)
		return f->msgs[idx].pop3_uidl;
	out = arena_alloc(f->arena, UIDLIST_UIDL_SIZE);
	uidlist_uidl_default(f->msgs[idx].uid, f->uidvalidity, out);
	return out;
}
