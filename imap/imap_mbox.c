/* imap_mbox.c - the selected folder: SELECT/EXAMINE, the view and its
 * synchronisation with the disk, flags, STORE, EXPUNGE, COPY, MOVE,
 * CLOSE/UNSELECT. See imap_session.h for the view's rules.
 *
 * The disk is the truth: dovecot-uidlist (UIDs, shared with POP3 and
 * Dovecot) and the Maildir file names (flags in the info suffix, keyword
 * letters mapped by dovecot-keywords). A sync rescans the folder
 * (uidlist_folder_open) and compares it with the view. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_session.h"
#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"

#define IMAP_LOCK_WAIT_MS	3000

static const unsigned sysflag_order[] = {
	MAIL_FLAG_ANSWERED, MAIL_FLAG_FLAGGED, MAIL_FLAG_DELETED,
	MAIL_FLAG_SEEN, MAIL_FLAG_DRAFT,
};

void
imap_mbox_free(struct imap_mbox **mp)
{
	struct imap_mbox	*m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	arena_destroy(&m->scan_arena);
	arena_destroy(&m->kw_arena);
	arena_destroy(&m->a);
	free(m->msgs);
	free(m->runs);
	free(m);
}

void
imap_mbox_hibernate(struct imap_mbox *m)
{
	size_t	 i, n = 0, cap = 0;
	struct imap_run *r = NULL;

	if (m == NULL || m->hibernating)
		return;
	for (i = 0; i < m->n; i++) {
		const struct imap_msg *im = &m->msgs[i];

		if (n > 0 && r[n - 1].uid + r[n - 1].count == im->uid &&
		    r[n - 1].sys == im->sys && r[n - 1].kw == im->kw &&
		    r[n - 1].recent == im->recent && !im->gone) {
			r[n - 1].count++;
			continue;
		}
		if (im->gone) {
			free(r);	/* unreported expunges: stay awake */
			return;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			r = xrealloc(r, cap * sizeof(*r));
		}
		r[n].uid = im->uid;
		r[n].count = 1;
		r[n].kw = im->kw;
		r[n].sys = im->sys;
		r[n].recent = im->recent;
		n++;
	}
	m->runs = n > 0 ? xrealloc(r, n * sizeof(*r)) : NULL;
	if (n == 0)
		free(r);
	m->nruns = n;
	free(m->msgs);
	m->msgs = NULL;
	m->cap = 0;
	m->hibernating = true;
}

int
imap_mbox_wake(struct iconn *c)
{
	struct imap_mbox	*m = c->ses->sel;
	size_t			 i, k, j = 0;

	if (m == NULL || !m->hibernating)
		return 0;
	m->msgs = m->n > 0 ? xcalloc(m->n, sizeof(*m->msgs)) : NULL;
	m->cap = m->n;
	for (i = 0; i < m->nruns; i++)
		for (k = 0; k < m->runs[i].count && j < m->n; k++, j++) {
			m->msgs[j].uid = m->runs[i].uid + (uint32_t)k;
			m->msgs[j].kw = m->runs[i].kw;
			m->msgs[j].sys = m->runs[i].sys;
			m->msgs[j].recent = m->runs[i].recent;
		}
	free(m->runs);
	m->runs = NULL;
	m->nruns = 0;
	m->hibernating = false;
	/* Sizes and dates come back from the scan the sync makes. */
	return imap_mbox_sync(c, true);
}

void
imap_mbox_release_scan(struct imap_mbox *m)
{
	if (m == NULL)
		return;
	arena_destroy(&m->scan_arena);
	m->scan = NULL;
	/* And no spare room in the view while idling. */
	if (m->cap > m->n && m->n > 0) {
		m->msgs = xrealloc(m->msgs, m->n * sizeof(*m->msgs));
		m->cap = m->n;
	}
}

/* The scan, made again if it was released. -1 (logged) if it cannot. */
static int
ensure_scan(struct imap_mbox *m)
{
	const char	*error;

	if (m->scan != NULL)
		return 0;
	m->scan_arena = arena_create(16 * 1024);
	if (uidlist_folder_open(m->path, IMAP_LOCK_WAIT_MS, m->scan_arena,
	    &m->scan, &error) == -1) {
		log_warn("imap: rescan %s: %s", m->path, error);
		arena_destroy(&m->scan_arena);
		m->scan = NULL;
		return -1;
	}
	return 0;
}

static void
dir_mtimes(const struct imap_mbox *m, struct timespec *n,
    struct timespec *cur, struct timespec *list)
{
	struct stat	 st;
	char		 p[4200];

	memset(n, 0, sizeof(*n));
	memset(cur, 0, sizeof(*cur));
	memset(list, 0, sizeof(*list));
	(void)snprintf(p, sizeof(p), "%s/new", m->path);
	if (stat(p, &st) == 0)
		*n = st.st_mtim;
	(void)snprintf(p, sizeof(p), "%s/cur", m->path);
	if (stat(p, &st) == 0)
		*cur = st.st_mtim;
	(void)snprintf(p, sizeof(p), "%s/%s", m->path, UIDLIST_FILE_NAME);
	if (stat(p, &st) == 0)
		*list = st.st_mtim;
}

static bool
ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool
imap_mbox_changed(struct imap_mbox *m)
{
	struct timespec	 n, cur, list;

	dir_mtimes(m, &n, &cur, &list);
	return !ts_eq(&n, &m->mt_new) || !ts_eq(&cur, &m->mt_cur) ||
	    !ts_eq(&list, &m->mt_list);
}

/* Rescan: a fresh uidlist_folder in its own arena. Also the keywords. */
static int
rescan(struct imap_mbox *m, struct uidlist_folder **f_r,
    struct arena **a_r, const char **error_r)
{
	struct arena	*a = arena_create(64 * 1024);

	/* Timestamps first: a change during the scan shows next time. */
	dir_mtimes(m, &m->mt_new, &m->mt_cur, &m->mt_list);
	if (uidlist_folder_open(m->path, IMAP_LOCK_WAIT_MS, a, f_r,
	    error_r) == -1) {
		arena_destroy(&a);
		return -1;
	}
	*a_r = a;
	return 0;
}

static void
msg_from_scan(struct imap_msg *im, const struct uidlist_msg *um)
{
	unsigned	 sys;

	im->uid = um->uid;
	keywords_info_parse(um->flags, &sys, &im->kw);
	im->sys = (uint8_t)sys;
	im->vsize = um->vsize > UINT32_MAX ? UINT32_MAX : (uint32_t)um->vsize;
	im->mtime = um->mtime < 0 ? 0 : um->mtime > (time_t)UINT32_MAX ?
	    UINT32_MAX : (uint32_t)um->mtime;
}

static void
push_msg(struct imap_mbox *m, const struct imap_msg *im)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->msgs = xrealloc(m->msgs, m->cap * sizeof(*m->msgs));
	}
	m->msgs[m->n++] = *im;
}

static int
write_flag_list(const struct imap_mbox *m, unsigned sys, uint32_t kw,
    bool recent, struct buf *out)
{
	size_t	 i;
	bool	 first = true;
	int	 r = 0;

	r |= buf_append_c(out, '(');
	for (i = 0; i < N_ELEMENTS(sysflag_order); i++) {
		if (!(sys & sysflag_order[i]))
			continue;
		r |= buf_printf(out, "%s%s", first ? "" : " ",
		    keywords_sysflag_name(sysflag_order[i]));
		first = false;
	}
	for (i = 0; i < KEYWORDS_MAX; i++) {
		const char *name;

		if (!(kw & (1u << i)) ||
		    (name = keywords_name(&m->kw, (unsigned)i)) == NULL)
			continue;
		r |= buf_printf(out, "%s%s", first ? "" : " ", name);
		first = false;
	}
	if (recent)
		r |= buf_printf(out, "%s\\Recent", first ? "" : " ");
	r |= buf_append_c(out, ')');
	return r != 0 ? BUF_EFULL : 0;
}

int
imap_mbox_write_flags(const struct imap_mbox *m, size_t idx,
    struct buf *out)
{
	const struct imap_msg	*im = &m->msgs[idx];

	return write_flag_list(m, im->sys, im->kw, im->recent, out);
}

static void
send_fetch_flags(struct iconn *c, size_t idx, bool with_uid)
{
	struct imap_mbox	*m = c->ses->sel;
	struct buf		 b;

	buf_init(&b, c->cmd_arena, 4096);
	if (buf_printf(&b, "* %zu FETCH (", idx + 1) == 0 &&
	    (!with_uid || buf_printf(&b, "UID %" PRIu32 " ",
	    m->msgs[idx].uid) == 0) &&
	    buf_append_str(&b, "FLAGS ") == 0 &&
	    imap_mbox_write_flags(m, idx, &b) == 0 &&
	    buf_append_c(&b, ')') == 0)
		imap_send(c, "%s", buf_cstr(&b));
}

static void
send_flags_lists(struct iconn *c)
{
	struct imap_mbox	*m = c->ses->sel;
	struct buf		 b;
	size_t			 i;
	int			 r = 0;

	buf_init(&b, c->cmd_arena, 4096);
	r |= buf_append_str(&b, "\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft");
	for (i = 0; i < KEYWORDS_MAX; i++) {
		const char *name = keywords_name(&m->kw, (unsigned)i);

		if (name != NULL)
			r |= buf_printf(&b, " %s", name);
	}
	if (r != 0)
		return;
	imap_send(c, "* FLAGS (%s)", buf_cstr(&b));
	if (m->readonly)
		imap_send(c, "* OK [PERMANENTFLAGS ()] Read-only mailbox.");
	else
		imap_send(c, "* OK [PERMANENTFLAGS (%s \\*)] Flags permitted.",
		    buf_cstr(&b));
}

/* Read dovecot-keywords into m->kw, in an arena of its own that
 * replaces the last one (a long session re-reads it at every sync).
 * The previous table is still valid when *old_a_r is destroyed by the
 * caller; NULL old_a_r: destroyed here. */
static int
read_keywords(struct imap_mbox *m, const struct uidlist_folder *f,
    struct arena **old_a_r)
{
	struct arena	*a = arena_create(1024), *old = m->kw_arena;
	struct keywords	 kw;
	const char	*error;

	if (keywords_read(f->dfd, m->path, a, &kw, &error) != KEYWORDS_OK) {
		arena_destroy(&a);
		if (old_a_r != NULL)
			*old_a_r = NULL;
		return -1;
	}
	m->kw = kw;
	m->kw_arena = a;
	if (old_a_r != NULL)
		*old_a_r = old;
	else
		arena_destroy(&old);
	return 0;
}

void
imap_mbox_select(struct iconn *c, const char *tag, const char *name,
    bool readonly)
{
	struct imap_session	*s = c->ses;
	struct imap_mbox	*m;
	const char		*norm, *path, *error;
	struct uidlist_folder	*f;
	struct arena		*fa;
	size_t			 i, nrecent = 0, first_unseen = 0;
	int			 r;

	/* RFC 3501 6.3.1: a failed SELECT leaves nothing selected. */
	if (s->sel != NULL) {
		imap_mbox_free(&s->sel);
		c->state = I_AUTH;
	}
	if (folders_name_check(name, false, c->cmd_arena, &norm, &error) !=
	    FOLDERS_OK) {
		imap_no(c, tag, "%s", error);
		return;
	}
	r = folders_exists(s->folders, norm);
	if (r <= 0) {
		imap_no(c, tag, r == 0 ? "[NONEXISTENT] Mailbox doesn't "
		    "exist." : "[SERVERBUG] Cannot open the mailbox.");
		return;
	}
	if (folders_path(s->folders, norm, c->cmd_arena, &path, &error) !=
	    FOLDERS_OK) {
		imap_no(c, tag, "%s", error);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->a = arena_create(1024);
	m->name = arena_strdup(m->a, norm);
	m->path = arena_strdup(m->a, path);
	m->readonly = readonly;
	if (rescan(m, &f, &fa, &error) == -1) {
		log_error("imap: %s: SELECT %s: %s", c->user, norm, error);
		imap_mbox_free(&m);
		imap_no(c, tag, "[UNAVAILABLE] Cannot open the mailbox, try "
		    "again later.");
		return;
	}
	(void)read_keywords(m, f, NULL);
	for (i = 0; i < f->nmsgs; i++) {
		struct imap_msg	 im = { 0 };

		msg_from_scan(&im, &f->msgs[i]);
		/* A message still in new/ has not been seen by any session:
		 * it is \Recent here, and a read-write SELECT moves it to
		 * cur/ so that it is recent to this session only. */
		if (f->msgs[i].dir == UIDLIST_DIR_NEW) {
			im.recent = true;
			nrecent++;
			if (!readonly &&
			    uidlist_folder_msg_to_cur(f, i, &error) == -1)
				log_warn("imap: %s: %s", c->user, error);
		}
		if (!(im.sys & MAIL_FLAG_SEEN) && first_unseen == 0)
			first_unseen = i + 1;
		push_msg(m, &im);
	}
	m->uidvalidity = f->uidvalidity;
	m->uidnext = f->next_uid;
	m->scan = f;
	m->scan_arena = fa;
	if (nrecent > 0 && !readonly)
		dir_mtimes(m, &m->mt_new, &m->mt_cur, &m->mt_list);
	s->sel = m;
	c->state = I_SELECTED;
	send_flags_lists(c);
	imap_send(c, "* %zu EXISTS", m->n);
	imap_send(c, "* %zu RECENT", nrecent);
	if (first_unseen != 0)
		imap_send(c, "* OK [UNSEEN %zu] First unseen.", first_unseen);
	imap_send(c, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid",
	    m->uidvalidity);
	imap_send(c, "* OK [UIDNEXT %" PRIu32 "] Predicted next UID",
	    m->uidnext);
	imap_ok(c, tag, "[%s] %s completed.", readonly ? "READ-ONLY" :
	    "READ-WRITE", readonly ? "Examine" : "Select");
}

long
imap_mbox_find_uid(const struct imap_mbox *m, uint32_t uid)
{
	size_t	 lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->msgs[lo].uid == uid ? (long)lo : -1;
}

/* Where uid would be inserted: the first index with a UID >= uid. */
static size_t
lower_bound(const struct imap_mbox *m, uint32_t uid)
{
	size_t	 lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
imap_mbox_sync(struct iconn *c, bool expunges_ok)
{
	struct imap_mbox	*m = c->ses->sel;
	struct uidlist_folder	*f;
	struct arena		*fa;
	const char		*error;
	size_t			 i, j, old_n, nrecent = 0;
	struct keywords		 oldkw;
	struct arena		*old_kw_arena;
	uint32_t		 last_uid;
	bool			 kw_changed = false;

	if (m == NULL)
		return 0;
	if (rescan(m, &f, &fa, &error) == -1) {
		log_warn("imap: %s: sync %s: %s", c->user, m->name, error);
		return -1;
	}
	oldkw = m->kw;
	if (read_keywords(m, f, &old_kw_arena) == -1)
		old_kw_arena = NULL;
	for (i = 0; i < KEYWORDS_MAX; i++) {
		const char *a = keywords_name(&oldkw, (unsigned)i);
		const char *b = keywords_name(&m->kw, (unsigned)i);

		if ((a == NULL) != (b == NULL) ||
		    (a != NULL && strcmp(a, b) != 0))
			kw_changed = true;
	}
	arena_destroy(&old_kw_arena);
	if (kw_changed)
		send_flags_lists(c);

	/* Walk the view and the scan together, both sorted by UID. */
	for (i = 0, j = 0; i < m->n; i++) {
		struct imap_msg	*im = &m->msgs[i];

		while (j < f->nmsgs && f->msgs[j].uid < im->uid)
			j++;
		if (j < f->nmsgs && f->msgs[j].uid == im->uid) {
			struct imap_msg	 now = *im;

			msg_from_scan(&now, &f->msgs[j]);
			im->vsize = now.vsize;	/* after a hibernation */
			im->mtime = now.mtime;
			if (now.sys != im->sys || now.kw != im->kw) {
				im->sys = now.sys;
				im->kw = now.kw;
				send_fetch_flags(c, i, false);
			}
			im->gone = false;
		} else
			im->gone = true;
	}
	if (expunges_ok) {
		/* Highest sequence number first: each EXPUNGE renumbers
		 * only the messages after it. */
		for (i = m->n; i-- > 0;) {
			if (!m->msgs[i].gone)
				continue;
			imap_send(c, "* %zu EXPUNGE", i + 1);
			memmove(&m->msgs[i], &m->msgs[i + 1],
			    (m->n - i - 1) * sizeof(*m->msgs));
			m->n--;
		}
	}
	/* New messages: UIDs above the highest in the view. */
	old_n = m->n;
	last_uid = old_n > 0 ? m->msgs[old_n - 1].uid : 0;
	for (j = 0; j < f->nmsgs; j++) {
		struct imap_msg	 im = { 0 };

		if (f->msgs[j].uid <= last_uid)
			continue;
		msg_from_scan(&im, &f->msgs[j]);
		if (f->msgs[j].dir == UIDLIST_DIR_NEW) {
			im.recent = true;
			nrecent++;
			if (!m->readonly &&
			    uidlist_folder_msg_to_cur(f, j, &error) == -1)
				log_warn("imap: %s: %s", c->user, error);
		}
		push_msg(m, &im);
	}
	if (m->n != old_n) {
		imap_send(c, "* %zu EXISTS", m->n);
		for (i = 0, nrecent = 0; i < m->n; i++)
			if (m->msgs[i].recent)
				nrecent++;
		imap_send(c, "* %zu RECENT", nrecent);
	}
	if (f->next_uid > m->uidnext)
		m->uidnext = f->next_uid;
	arena_destroy(&m->scan_arena);
	m->scan = f;
	m->scan_arena = fa;
	if (!m->readonly)
		dir_mtimes(m, &m->mt_new, &m->mt_cur, &m->mt_list);
	return 0;
}

int
imap_mbox_resolve(struct iconn *c, const struct imap_seqset *set, bool uid,
    struct arena *a, size_t **idx_r, size_t *n_r, const char **error_r)
{
	struct imap_mbox	*m = c->ses->sel;
	struct imap_seq_range	*r;
	size_t			 nr, i, k, n = 0, cap = 0;
	size_t			*out = NULL;
	bool			 beyond;

	*idx_r = NULL;
	*n_r = 0;
	if (set->saved) {
		if (c->ses->saved == NULL)
			return 0;	/* nothing saved: the empty set */
		set = c->ses->saved;
		uid = true;
	}
	if (m->n == 0) {
		if (!uid && set->n > 0) {
			*error_r = "No messages";
			return -1;
		}
		return 0;
	}
	nr = imap_seqset_resolve(set, uid ? m->msgs[m->n - 1].uid :
	    (uint32_t)m->n, a, &r, &beyond);
	if (beyond && !uid) {
		*error_r = "Invalid messageset";
		return -1;
	}
	for (i = 0; i < nr; i++) {
		size_t from, to;

		if (uid) {
			from = lower_bound(m, r[i].lo);
			to = lower_bound(m, r[i].hi == UINT32_MAX ? r[i].hi :
			    r[i].hi + 1);
		} else {
			from = r[i].lo - 1;
			to = r[i].hi;
		}
		for (k = from; k < to && k < m->n; k++) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				size_t *nout = arena_alloc(a,
				    ncap * sizeof(*nout));

				if (n > 0)
					memcpy(nout, out, n * sizeof(*out));
				out = nout;
				cap = ncap;
			}
			out[n++] = k;
		}
	}
	*idx_r = out;
	*n_r = n;
	return 0;
}

static long
scan_index(struct imap_mbox *m, size_t idx)
{
	size_t	 si;

	if (ensure_scan(m) == -1 ||
	    uidlist_folder_find(m->scan, m->msgs[idx].uid, &si) != 1)
		return -1;
	return (long)si;
}

int
imap_mbox_msg_open(struct imap_mbox *m, size_t idx, int *fd_r)
{
	const char	*error;
	long		 si = scan_index(m, idx);

	if (si < 0)
		return 0;
	return uidlist_folder_msg_open(m->scan, (size_t)si, fd_r, &error);
}

int
imap_mbox_msg_map(struct imap_mbox *m, size_t idx, const char **data_r,
    size_t *len_r)
{
	static const char	 empty[1];
	struct stat		 st;
	void			*p;
	int			 fd, r;

	if ((r = imap_mbox_msg_open(m, idx, &fd)) != 1)
		return r;
	if (fstat(fd, &st) == -1) {
		(void)close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		(void)close(fd);
		*data_r = empty;
		*len_r = 0;
		return 1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (p == MAP_FAILED)
		return -1;
	*data_r = p;
	*len_r = (size_t)st.st_size;
	return 1;
}

void
imap_mbox_msg_unmap(const char *data, size_t len)
{
	if (len > 0)
		(void)munmap((void *)(uintptr_t)data, len);
}

int
imap_mbox_keywords(struct iconn *c, const char *const *names, size_t n,
    bool create, uint32_t *bits_r, const char **error_r)
{
	struct imap_mbox	*m = c->ses->sel;
	uint32_t		 bits = 0;
	size_t			 i;
	int			 k, r;

	*bits_r = 0;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((k = keywords_lookup(&m->kw, names[i])) < 0)
			break;
		bits |= 1u << k;
	}
	if (i == n || !create) {
		if (!create)
			for (; i < n; i++)
				if ((k = keywords_lookup(&m->kw, names[i])) >= 0)
					bits |= 1u << k;
		*bits_r = bits;
		return 0;
	}
	if (ensure_scan(m) == -1) {
		*error_r = "[UNAVAILABLE] Cannot open the mailbox, try again.";
		return -1;
	}
	{
		struct arena	*ka = arena_create(1024);

		r = keywords_assign(m->scan->dfd, m->path, names, n, 0,
		    IMAP_LOCK_WAIT_MS, ka, &m->kw, bits_r, error_r);
		if (r == KEYWORDS_OK) {
			arena_destroy(&m->kw_arena);
			m->kw_arena = ka;
		} else
			arena_destroy(&ka);
	}
	if (r == KEYWORDS_ERR_FULL) {
		*error_r = "[LIMIT] Too many keywords in this mailbox.";
		return -1;
	}
	if (r == KEYWORDS_ERR_INVALID) {
		*error_r = "Invalid keyword.";
		return -1;
	}
	if (r != KEYWORDS_OK) {
		*error_r = "[UNAVAILABLE] Cannot update keywords, try again.";
		return -1;
	}
	send_flags_lists(c);
	return 0;
}

int
imap_mbox_set_flags(struct iconn *c, size_t idx, unsigned sys, uint32_t kw,
    const char **error_r)
{
	struct imap_mbox	*m = c->ses->sel;
	char			 info[KEYWORDS_INFO_SIZE];
	long			 si = scan_index(m, idx);
	int			 r;

	if (si < 0)
		return 0;	/* gone: nothing to change */
	if (keywords_info_make(sys, kw, m->scan->msgs[si].flags, info) == -1) {
		*error_r = "[LIMIT] Too many flags.";
		return -1;
	}
	r = uidlist_folder_msg_set_flags(m->scan, (size_t)si, info, error_r);
	if (r == -1)
		return -1;
	m->msgs[idx].sys = (uint8_t)sys;
	m->msgs[idx].kw = kw;
	return 0;
}

bool
imap_mbox_mark_seen(struct iconn *c, size_t idx)
{
	struct imap_mbox	*m = c->ses->sel;
	const char		*error;

	if (m->readonly || m->msgs[idx].gone ||
	    (m->msgs[idx].sys & MAIL_FLAG_SEEN))
		return false;
	if (imap_mbox_set_flags(c, idx, m->msgs[idx].sys | MAIL_FLAG_SEEN,
	    m->msgs[idx].kw, &error) != 0)
		return false;
	/* set_flags changes the view only when the file was renamed. */
	return (m->msgs[idx].sys & MAIL_FLAG_SEEN) != 0;
}

static unsigned
imap_to_mail_flags(unsigned f)
{
	unsigned	 s = 0;

	if (f & IMAP_FLAG_SEEN)
		s |= MAIL_FLAG_SEEN;
	if (f & IMAP_FLAG_ANSWERED)
		s |= MAIL_FLAG_ANSWERED;
	if (f & IMAP_FLAG_FLAGGED)
		s |= MAIL_FLAG_FLAGGED;
	if (f & IMAP_FLAG_DELETED)
		s |= MAIL_FLAG_DELETED;
	if (f & IMAP_FLAG_DRAFT)
		s |= MAIL_FLAG_DRAFT;
	return s;
}

void
imap_mbox_store(struct iconn *c, const char *tag, const struct imap_args *a)
{
	struct imap_mbox	*m = c->ses->sel;
	const char		*error;
	size_t			*idx, n, i;
	unsigned		 sys = imap_to_mail_flags(a->u.store.flags.sys);
	uint32_t		 kw;
	bool			 failed = false;

	if (m->readonly) {
		imap_no(c, tag, "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (imap_mbox_resolve(c, a->u.store.set, a->uid, c->cmd_arena, &idx,
	    &n, &error) == -1) {
		imap_bad(c, tag, "%s", error);
		return;
	}
	if (imap_mbox_keywords(c, a->u.store.flags.kw, a->u.store.flags.nkw,
	    a->u.store.mode != IMAP_STORE_REMOVE, &kw, &error) == -1) {
		imap_no(c, tag, "%s", error);
		return;
	}
	for (i = 0; i < n; i++) {
		struct imap_msg	*im = &m->msgs[idx[i]];
		unsigned	 nsys = im->sys;
		uint32_t	 nkw = im->kw;

		if (im->gone) {
			failed = true;
			continue;
		}
		switch (a->u.store.mode) {
		case IMAP_STORE_SET:
			/* 'P' (forwarded) has no IMAP flag: kept. */
			nsys = sys | (im->sys & MAIL_FLAG_PASSED);
			nkw = kw;
			break;
		case IMAP_STORE_ADD:
			nsys |= sys;
			nkw |= kw;
			break;
		case IMAP_STORE_REMOVE:
			nsys &= ~sys;
			nkw &= ~kw;
			break;
		}
		if ((nsys != im->sys || nkw != im->kw) &&
		    imap_mbox_set_flags(c, idx[i], nsys, nkw, &error) == -1) {
			imap_no(c, tag, "%s", error);
			return;
		}
		if (!a->u.store.silent)
			send_fetch_flags(c, idx[i], a->uid);
	}
	if (failed)
		imap_no(c, tag, "[EXPUNGEISSUED] Some messages were expunged "
		    "meanwhile.");
	else
		imap_ok(c, tag, "Store completed.");
}

/* Remove the files of \Deleted messages (in uids, if given). */
static void
expunge_files(struct iconn *c, const struct imap_seqset *uids)
{
	struct imap_mbox	*m = c->ses->sel;
	const struct aviary_config *cfg = c->d->cfg;
	const char		*error;
	int64_t			 bytes = 0, count = 0;
	size_t			 i;
	long			 si;

	for (i = 0; i < m->n; i++) {
		if (!(m->msgs[i].sys & MAIL_FLAG_DELETED) || m->msgs[i].gone)
			continue;
		if (uids != NULL && !imap_seqset_contains(uids, m->msgs[i].uid,
		    m->msgs[m->n - 1].uid))
			continue;
		if ((si = scan_index(m, i)) < 0)
			continue;
		if (uidlist_folder_msg_unlink(m->scan, (size_t)si, &error) ==
		    1) {
			bytes += (int64_t)m->scan->msgs[si].size;
			count++;
		}
	}
	if (count > 0 && maildir_quota_add(cfg->mail.root, c->ses->home,
	    -bytes, -count, c->cmd_arena, &error) == -1)
		log_warn("imap: %s: maildirsize: %s", c->user, error);
}

void
imap_mbox_expunge(struct iconn *c, const char *tag,
    const struct imap_seqset *uids)
{
	struct imap_mbox	*m = c->ses->sel;

	if (m->readonly) {
		imap_no(c, tag, "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (uids != NULL && uids->saved)
		uids = c->ses->saved;
	if (uids != NULL || m->n > 0)
		expunge_files(c, uids);
	(void)imap_mbox_sync(c, true);
	imap_ok(c, tag, "Expunge completed.");
}

void
imap_mbox_close(struct iconn *c, bool expunge)
{
	struct imap_session	*s = c->ses;

	if (s->sel == NULL)
		return;
	if (expunge && !s->sel->readonly)
		expunge_files(c, NULL);
	imap_mbox_free(&s->sel);
	c->state = I_AUTH;
}

/* --- COPY and MOVE --- */

/* Link (or copy) message si of the scan into dest's cur/ under a new
 * unique name with the given info; the new base name in *base_r. */
static int
copy_one(struct imap_mbox *m, long si, int ddfd, const char *info,
    struct arena *a, const char **base_r, const char **dst_r)
{
	const struct uidlist_msg *um = &m->scan->msgs[si];
	char			 uniq[MAILDIR_NAME_MAX + 1];
	const char		*base, *src, *dst;
	int			 sfd, dfd2;
	ssize_t			 n;
	char			 buf[65536];
	struct timespec		 ts[2];
	struct stat		 st;

	if (maildir_unique_name(NULL, uniq, sizeof(uniq)) == -1)
		return -1;
	base = arena_printf(a, "%s,S=%" PRIu64 ",W=%" PRIu64, uniq, um->size,
	    um->vsize);
	src = arena_printf(a, "%s/%s", um->dir == UIDLIST_DIR_CUR ? "cur" :
	    "new", um->name);
	dst = arena_printf(a, "cur/%s:2,%s", base, info);
	if (linkat(m->scan->dfd, src, ddfd, dst, 0) == 0) {
		*base_r = base;
		*dst_r = dst;
		return 0;
	}
	if (errno != EXDEV)
		return -1;
	/* Another file system: copy, keeping the mtime (INTERNALDATE). */
	if ((sfd = openat(m->scan->dfd, src, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((dfd2 = openat(ddfd, dst, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		(void)close(sfd);
		return -1;
	}
	while ((n = read(sfd, buf, sizeof(buf))) > 0)
		if (write(dfd2, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n == 0 && fstat(sfd, &st) == 0) {
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
		(void)futimens(dfd2, ts);
	}
	if (n == 0 && fsync(dfd2) == -1)
		n = -1;
	(void)close(sfd);
	if (close(dfd2) == -1 || n != 0) {
		(void)unlinkat(ddfd, dst, 0);
		return -1;
	}
	*base_r = base;
	*dst_r = dst;
	return 0;
}

static void
append_set(struct buf *b, uint32_t v)
{
	if (buf_printf(b, "%s%" PRIu32, b->len > 0 ? "," : "", v) != 0)
		return;
}

void
imap_mbox_copy(struct iconn *c, const char *tag, const struct imap_args *a,
    bool move)
{
	const struct aviary_config *cfg = c->d->cfg;
	struct imap_session	*s = c->ses;
	struct imap_mbox	*m = s->sel;
	struct arena		*fa = NULL;
	struct uidlist_folder	*df;
	struct maildir_usage	 usage;
	const char		*norm, *dpath, *error, **bases, **dsts;
	size_t			*idx, n, i, k;
	uint64_t		 bytes = 0;
	struct buf		 su, du;
	struct keywords		 dkw;
	int			 ddfd, r;

	if (move && m->readonly) {
		imap_no(c, tag, "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (imap_mbox_resolve(c, a->u.copy.set, a->uid, c->cmd_arena, &idx, &n,
	    &error) == -1) {
		imap_bad(c, tag, "%s", error);
		return;
	}
	if (folders_name_check(a->u.copy.mailbox, false, c->cmd_arena, &norm,
	    &error) != FOLDERS_OK) {
		imap_no(c, tag, "%s", error);
		return;
	}
	r = folders_exists(s->folders, norm);
	if (r <= 0) {
		imap_no(c, tag, r == 0 ? "[TRYCREATE] Mailbox doesn't exist." :
		    "[SERVERBUG] Cannot open the mailbox.");
		return;
	}
	if (n == 0) {
		imap_ok(c, tag, "%s completed.", move ? "Move" : "Copy");
		return;
	}
	for (i = 0; i < n; i++) {
		long si = scan_index(m, idx[i]);

		if (si >= 0)
			bytes += m->scan->msgs[si].size;
	}
	/* A move within the mailbox does not change its usage. */
	if ((s->quota_bytes != 0 || s->quota_messages != 0) && !move) {
		if (maildir_quota_get(cfg->mail.root, s->home, s->quota_bytes,
		    s->quota_messages, cfg->mail.uid, cfg->mail.gid, &usage,
		    c->cmd_arena, &error) == 0 &&
		    (maildir_quota_exceeded(&usage, s->quota_bytes,
		    s->quota_messages, bytes) || (s->quota_messages != 0 &&
		    usage.messages + n > s->quota_messages))) {
			imap_no(c, tag, "[OVERQUOTA] Quota exceeded.");
			return;
		}
	}
	if (folders_path(s->folders, norm, c->cmd_arena, &dpath, &error) !=
	    FOLDERS_OK || (ddfd = open(dpath, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		imap_no(c, tag, "[SERVERBUG] Cannot open the mailbox.");
		return;
	}
	if (keywords_read(ddfd, dpath, c->cmd_arena, &dkw, &error) !=
	    KEYWORDS_OK)
		memset(&dkw, 0, sizeof(dkw));
	bases = arena_zalloc(c->cmd_arena, n * sizeof(*bases));
	dsts = arena_zalloc(c->cmd_arena, n * sizeof(*dsts));
	for (i = 0; i < n; i++) {
		struct imap_msg	*im = &m->msgs[idx[i]];
		const char	*names[KEYWORDS_MAX];
		char		 info[KEYWORDS_INFO_SIZE];
		uint32_t	 dbits = 0;
		size_t		 nn = 0;
		long		 si = scan_index(m, idx[i]);

		if (si < 0)
			continue;
		/* Keyword letters differ between folders: by name. */
		for (k = 0; k < KEYWORDS_MAX; k++)
			if ((im->kw & (1u << k)) &&
			    keywords_name(&m->kw, (unsigned)k) != NULL)
				names[nn++] = keywords_name(&m->kw, (unsigned)k);
		if (nn > 0 && keywords_assign(ddfd, dpath, names, nn, 0,
		    IMAP_LOCK_WAIT_MS, c->cmd_arena, &dkw, &dbits, &error) !=
		    KEYWORDS_OK)
			dbits = 0;
		/* Flags (\Deleted too) and the date go with the copy. */
		if (keywords_info_make(im->sys, dbits, NULL, info) == -1)
			info[0] = '\0';
		if (copy_one(m, si, ddfd, info, c->cmd_arena, &bases[i],
		    &dsts[i]) == -1) {
			log_error("imap: %s: %s to %s: %m", c->user,
			    move ? "MOVE" : "COPY", norm);
			/* All or nothing: remove the copies made. */
			for (k = 0; k < i; k++)
				if (dsts[k] != NULL)
					(void)unlinkat(ddfd, dsts[k], 0);
			(void)close(ddfd);
			imap_no(c, tag, "[SERVERBUG] %s failed.", move ?
			    "Move" : "Copy");
			return;
		}
	}
	if (fsync(ddfd) == -1)
		log_warn("imap: %s: fsync %s: %m", c->user, dpath);
	(void)close(ddfd);
	if (maildir_quota_add(cfg->mail.root, s->home, move ? 0 :
	    (int64_t)bytes, move ? 0 : (int64_t)n, c->cmd_arena, &error) == -1)
		log_warn("imap: %s: maildirsize: %s", c->user, error);

	/* The new UIDs, for COPYUID (RFC 4315). */
	buf_init(&su, c->cmd_arena, 1 << 20);
	buf_init(&du, c->cmd_arena, 1 << 20);
	fa = arena_create(65536);
	if (uidlist_folder_open(dpath, IMAP_LOCK_WAIT_MS, fa, &df, &error) ==
	    0) {
		for (i = 0; i < n; i++) {
			size_t	 j;

			if (bases[i] == NULL)
				continue;
			for (j = df->nmsgs; j-- > 0;)
				if (strcmp(df->msgs[j].basename, bases[i]) == 0)
					break;
			if (j == (size_t)-1)
				continue;
			append_set(&su, m->msgs[idx[i]].uid);
			append_set(&du, df->msgs[j].uid);
		}
	}
	if (move) {
		for (i = 0; i < n; i++) {
			long si = scan_index(m, idx[i]);

			if (si >= 0 && bases[i] != NULL &&
			    uidlist_folder_msg_unlink(m->scan, (size_t)si,
			    &error) == -1)
				log_warn("imap: %s: MOVE: %s", c->user, error);
		}
		if (su.len > 0)
			imap_send(c, "* OK [COPYUID %" PRIu32 " %s %s] Moved",
			    df->uidvalidity, buf_cstr(&su), buf_cstr(&du));
		(void)imap_mbox_sync(c, true);
		imap_ok(c, tag, "Move completed.");
	} else if (su.len > 0)
		imap_ok(c, tag, "[COPYUID %" PRIu32 " %s %s] Copy completed.",
		    df->uidvalidity, buf_cstr(&su), buf_cstr(&du));
	else
		imap_ok(c, tag, "Copy completed.");
	arena_destroy(&fa);
}
