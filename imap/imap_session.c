/* imap_session.c - aviary-imap after login: opening the user's home
 * (userdb lookup, Maildir++ tree, special-use folders), dispatching the
 * commands of the AUTH and SELECTED states, APPEND, IDLE checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_session.h"
#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"
#include "aviary/tstream.h"
#include "aviary/userdb_client.h"

#define IMAP_APPEND_MAX		16	/* messages in one (MULTI)APPEND */
#define IMAP_LOCK_WAIT_MS	3000

/* An APPEND in progress: its messages, written to tmp/ as they arrive. */
struct append_state {
	char			 tag[128];
	const char		*folder;	/* normal form */
	const char		*dir;		/* "" for INBOX, else ".Name" */
	struct maildir_msg	*msgs[IMAP_APPEND_MAX];
	size_t			 n;
	bool			 failed;
	const char		*error;
	uint64_t		 bytes;
};

static struct append_state *
append_state(struct iconn *c)
{
	return c->ses != NULL ? c->ses->append : NULL;
}

static void
append_reset(struct imap_session *s)
{
	size_t	 i;

	if (s->append == NULL)
		return;
	for (i = 0; i < s->append->n; i++)
		maildir_msg_destroy(&s->append->msgs[i]);
	free(s->append);
	s->append = NULL;
}

void
imap_session_close(struct iconn *c)
{
	struct imap_session	*s = c->ses;

	if (s == NULL)
		return;
	userdb_cancel(&s->lookup);
	append_reset(s);
	imap_mbox_free(&s->sel);
	arena_destroy(&s->saved_arena);
	arena_destroy(&s->a);
	free(s);
	c->ses = NULL;
}

/* The configured special-use folders, as folders.h wants them. */
static size_t
special_table(const struct aviary_imap_config *ic, struct arena *a,
    struct folders_special **t_r)
{
	const struct {
		const struct conf_list	*l;
		unsigned		 attr;
	} lists[] = {
		{ &ic->drafts, FOLDER_SPECIAL_DRAFTS },
		{ &ic->sent, FOLDER_SPECIAL_SENT },
		{ &ic->trash, FOLDER_SPECIAL_TRASH },
		{ &ic->junk, FOLDER_SPECIAL_JUNK },
		{ &ic->archive, FOLDER_SPECIAL_ARCHIVE },
	};
	struct folders_special	*t;
	size_t			 i, j, n = 0;

	for (i = 0; i < N_ELEMENTS(lists); i++)
		n += lists[i].l->n;
	t = arena_zalloc(a, (n + 1) * sizeof(*t));
	n = 0;
	for (i = 0; i < N_ELEMENTS(lists); i++)
		for (j = 0; j < lists[i].l->n; j++) {
			t[n].name = lists[i].l->v[j];
			t[n++].attr = lists[i].attr;
		}
	*t_r = t;
	return n;
}

size_t
imap_session_special(const struct iconn *c, struct arena *a,
    struct folders_special **t_r)
{
	return special_table(&c->d->cfg->imap, a, t_r);
}

static void
login_failed(struct iconn *c, const char *tag, const char *text)
{
	imap_session_close(c);
	c->state = I_NOAUTH;
	c->user[0] = '\0';
	imap_no(c, tag, "%s", text);
	imap_resume(c);
}

static void
on_userdb(void *ctx, int status, const struct userdb_reply *u)
{
	struct iconn		*c = ctx;
	struct imap_session	*s = c->ses;
	const struct aviary_config *cfg = c->d->cfg;
	struct folders_special	*special;
	const char		*error;
	struct buf		 caps;
	size_t			 nspecial;

	s->lookup = NULL;
	c->wait = IW_NONE;
	if (status < 0) {
		login_failed(c, c->tag, "[UNAVAILABLE] Temporary failure "
		    "looking up the mailbox, try again later.");
		return;
	}
	if (status == 0 || !u->active) {
		login_failed(c, c->tag, status == 0 ? "[AUTHENTICATIONFAILED] "
		    "No mailbox for this user." : "[CONTACTADMIN] Account is "
		    "disabled.");
		return;
	}
	s->home = arena_strdup(s->a, u->home);
	s->quota_bytes = u->quota_bytes;
	s->quota_messages = u->quota_messages;
	if (maildir_ensure(cfg->mail.root, s->home, NULL, 0, cfg->mail.uid,
	    cfg->mail.gid, s->a, &error) == -1 ||
	    folders_open(cfg->mail.root, s->home, cfg->mail.uid, cfg->mail.gid,
	    s->a, &s->folders, &error) != FOLDERS_OK) {
		log_error("imap: %s: cannot open the mailbox: %s", c->user,
		    error);
		login_failed(c, c->tag, "[UNAVAILABLE] Cannot open the "
		    "mailbox, try again later.");
		return;
	}
	nspecial = special_table(&cfg->imap, s->a, &special);
	if (folders_special_ensure(s->folders, special, nspecial, s->a,
	    &error) != FOLDERS_OK)
		log_warn("imap: %s: special-use folders: %s", c->user, error);
	c->state = I_AUTH;
	log_info("imap: login user=%s rip=%s session=%s %s", c->user, c->peer.rip,
	    c->session_id, tstream_tls_desc(c->s));
	buf_init(&caps, NULL, 1024);
	imap_capabilities(c, &caps);
	imap_ok(c, c->tag, "[CAPABILITY %s] Logged in", buf_cstr(&caps));
	buf_deinit(&caps);
	imap_resume(c);
}

/* Logged-in connections of this user in the process. */
static unsigned
count_user(const struct iconn *self, const char *user)
{
	const struct iconn	*c;
	unsigned		 n = 0;

	for (c = self->d->conns; c != NULL; c = c->next)
		if (c != self && c->ses != NULL && strcmp(c->user, user) == 0)
			n++;
	return n;
}

void
imap_session_login(struct iconn *c, const char *tag, const char *user)
{
	unsigned		 max = c->d->cfg->imap.max_connections_per_user;
	struct imap_session	*s;

	if (tag != c->tag)
		(void)snprintf(c->tag, sizeof(c->tag), "%s", tag);
	if (max != 0 && count_user(c, user) >= max) {
		log_warn("imap: %s rip=%s: over imap.max_connections_per_user "
		    "(%u)", user, c->peer.rip, max);
		c->user[0] = '\0';
		imap_no(c, c->tag, "[LIMIT] Too many connections for this "
		    "user.");
		imap_resume(c);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->a = arena_create(2048);
	s->saved_arena = arena_create(1024);
	c->ses = s;
	c->wait = IW_USERDB;
	s->lookup = userdb_lookup(c->d->userdb, user, "imap", on_userdb, c);
}

/* --- APPEND --- */

/* The folder an APPEND names: checked, existing. NULL with *error_r. */
static const char *
append_folder(struct iconn *c, const char *name, const char **dir_r,
    const char **error_r)
{
	struct imap_session	*s = c->ses;
	const char		*norm, *error;
	int			 r;

	if (folders_name_check(name, false, c->cmd_arena, &norm, &error) !=
	    FOLDERS_OK) {
		*error_r = arena_printf(c->cmd_arena, "%s", error);
		return NULL;
	}
	r = folders_exists(s->folders, norm);
	if (r == 0) {
		*error_r = "[TRYCREATE] Mailbox does not exist.";
		return NULL;
	}
	if (r < 0) {
		*error_r = "[SERVERBUG] Cannot open the mailbox.";
		return NULL;
	}
	*dir_r = folders_is_inbox(norm) ? NULL : norm;
	return norm;
}

int
imap_session_append_begin(struct iconn *c, const char *tag,
    const struct imap_cmd *partial, uint64_t size, const char **error_r)
{
	const struct aviary_config *cfg = c->d->cfg;
	struct imap_session	*s = c->ses;
	struct append_state	*as;
	struct maildir_usage	 usage;
	const char		*mailbox, *dir, *error, *folder;

	if (s == NULL || partial->nargs < 1 ||
	    imap_arg_get_mailbox(&partial->args[0], &mailbox) == -1) {
		*error_r = "Missing mailbox name.";
		return -1;
	}
	if (size > cfg->imap.max_append_size) {
		*error_r = "[TOOBIG] Message too large.";
		append_reset(s);
		return -1;
	}
	as = s->append;
	if (as == NULL) {
		as = s->append = xcalloc(1, sizeof(*as));
		(void)snprintf(as->tag, sizeof(as->tag), "%s", tag);
		folder = append_folder(c, mailbox, &dir, error_r);
		if (folder == NULL) {
			append_reset(s);
			return -1;
		}
		as->folder = arena_strdup(s->a, folder);
		as->dir = dir != NULL ? arena_strdup(s->a, dir) : NULL;
	}
	if (as->n == IMAP_APPEND_MAX) {
		*error_r = "[LIMIT] Too many messages in one APPEND.";
		append_reset(s);
		return -1;
	}
	if (s->quota_bytes != 0 || s->quota_messages != 0) {
		if (maildir_quota_get(cfg->mail.root, s->home, s->quota_bytes,
		    s->quota_messages, cfg->mail.uid, cfg->mail.gid, &usage,
		    c->cmd_arena, &error) == 0 &&
		    maildir_quota_exceeded(&usage, s->quota_bytes,
		    s->quota_messages, as->bytes + size)) {
			*error_r = "[OVERQUOTA] Quota exceeded.";
			append_reset(s);
			return -1;
		}
	}
	as->msgs[as->n] = maildir_msg_create(cfg->mail.root, s->home, NULL,
	    cfg->mail.uid, cfg->mail.gid, c->cmd_arena, &error);
	if (as->msgs[as->n] == NULL) {
		log_error("imap: %s: APPEND: %s", c->user, error);
		*error_r = "[SERVERBUG] Cannot store the message.";
		append_reset(s);
		return -1;
	}
	as->n++;
	as->bytes += size;
	return 0;
}

void
imap_session_append_data(struct iconn *c, const char *p, size_t n,
    bool last)
{
	struct append_state	*as = append_state(c);
	struct maildir_msg	*m;
	const char		*error;
	bool			 nospace = false;

	if (as == NULL || as->n == 0)
		return;
	m = as->msgs[as->n - 1];
	if (n > 0 && !as->failed && maildir_msg_write(m, p, n) == -1)
		as->failed = true;
	if (!last)
		return;
	c->wait = IW_NONE;
	if (!as->failed && maildir_msg_finish(m, &nospace, c->cmd_arena,
	    &error) == -1) {
		as->failed = true;
		as->error = nospace ? "[OVERQUOTA] No space left." :
		    "[SERVERBUG] Cannot store the message.";
	}
}

/* The APPEND command proper, after its literals arrived. */
static void
append_finish(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const struct aviary_config *cfg = c->d->cfg;
	struct imap_session	*s = c->ses;
	struct append_state	*as = s->append;
	struct uidlist_folder	*f;
	struct arena		*fa;
	const char		*error, *path, *names[IMAP_APPEND_MAX];
	struct buf		 uids;
	uint32_t		 uidvalidity = 0;
	size_t			 i, idx;
	bool			 nospace = false, selected;

	if (as == NULL || as->n != a->u.append.n ||
	    strcmp(as->tag, tag) != 0) {
		append_reset(s);
		imap_bad(c, tag, "APPEND without its message.");
		return;
	}
	if (as->failed) {
		imap_no(c, tag, "%s", as->error != NULL ? as->error :
		    "[SERVERBUG] Cannot store the message.");
		append_reset(s);
		return;
	}
	for (i = 0; i < as->n; i++) {
		if (maildir_msg_deliver(as->msgs[i], cfg->mail.root, s->home,
		    as->dir, &nospace, c->cmd_arena, &error) != D_OK) {
			imap_no(c, tag, "%s", nospace ? "[OVERQUOTA] No space "
			    "left." : "[SERVERBUG] Cannot store the message.");
			append_reset(s);
			return;
		}
		names[i] = arena_strdup(c->cmd_arena,
		    maildir_msg_delivered_name(as->msgs[i]));
		if (maildir_quota_add(cfg->mail.root, s->home,
		    (int64_t)maildir_msg_size(as->msgs[i]), 1, c->cmd_arena,
		    &error) == -1)
			log_warn("imap: %s: maildirsize: %s", c->user, error);
	}
	/* UIDs, flags and dates: through the folder's uidlist. */
	buf_init(&uids, c->cmd_arena, 16 * IMAP_APPEND_MAX);
	fa = arena_create(16384);
	if (folders_path(s->folders, as->folder, fa, &path, &error) !=
	    FOLDERS_OK || uidlist_folder_open(path, IMAP_LOCK_WAIT_MS, fa, &f,
	    &error) == -1) {
		arena_destroy(&fa);
		append_reset(s);
		imap_ok(c, tag, "Append completed.");
		return;
	}
	uidvalidity = f->uidvalidity;
	for (i = 0; i < as->n; i++) {
		const struct imap_append_msg	*am = &a->u.append.msgs[i];
		char				 info[KEYWORDS_INFO_SIZE];
		unsigned			 sys = 0;
		uint32_t			 kw = 0;
		size_t				 k;
		int				 r;

		for (idx = 0; idx < f->nmsgs; idx++)
			if (strcmp(f->msgs[idx].basename, names[i]) == 0)
				break;
		if (idx == f->nmsgs)
			continue;
		if (am->flags.sys & IMAP_FLAG_SEEN)
			sys |= MAIL_FLAG_SEEN;
		if (am->flags.sys & IMAP_FLAG_ANSWERED)
			sys |= MAIL_FLAG_ANSWERED;
		if (am->flags.sys & IMAP_FLAG_FLAGGED)
			sys |= MAIL_FLAG_FLAGGED;
		if (am->flags.sys & IMAP_FLAG_DELETED)
			sys |= MAIL_FLAG_DELETED;
		if (am->flags.sys & IMAP_FLAG_DRAFT)
			sys |= MAIL_FLAG_DRAFT;
		if (am->flags.nkw > 0) {
			r = keywords_assign(f->dfd, path, am->flags.kw,
			    am->flags.nkw, 0, IMAP_LOCK_WAIT_MS, fa, NULL, &kw,
			    &error);
			if (r != KEYWORDS_OK)
				kw = 0;
		}
		if (keywords_info_make(sys, kw, NULL, info) == 0 &&
		    (sys != 0 || kw != 0))
			r = uidlist_folder_msg_set_flags(f, idx, info, &error);
		else
			r = uidlist_folder_msg_to_cur(f, idx, &error);
		(void)r;
		if (am->has_date) {
			struct timespec	 ts[2];
			const char	*rel;

			ts[0].tv_sec = ts[1].tv_sec = am->date;
			ts[0].tv_nsec = ts[1].tv_nsec = 0;
			rel = arena_printf(fa, "%s/%s",
			    f->msgs[idx].dir == UIDLIST_DIR_CUR ? "cur" : "new",
			    f->msgs[idx].name);
			if (utimensat(f->dfd, rel, ts, AT_SYMLINK_NOFOLLOW) == -1)
				log_warn("imap: %s: APPEND date: %m", c->user);
		}
		k = uids.len;
		if (buf_printf(&uids, "%s%u", k > 0 ? "," : "",
		    f->msgs[idx].uid) != 0)
			break;
	}
	arena_destroy(&fa);
	selected = s->sel != NULL && strcmp(s->sel->name, as->folder) == 0;
	append_reset(s);
	/* Into the selected folder: EXISTS before the tagged OK. */
	if (selected)
		(void)imap_mbox_sync(c, false);
	if (uids.len > 0)
		imap_ok(c, tag, "[APPENDUID %u %s] Append completed.",
		    uidvalidity, buf_cstr(&uids));
	else
		imap_ok(c, tag, "Append completed.");
}

void
imap_session_forget_saved(struct iconn *c)
{
	if (c->ses == NULL)
		return;
	c->ses->saved = NULL;
	arena_reset(c->ses->saved_arena);
}

/* --- IDLE and the simple commands --- */

void
imap_session_idle_check(struct iconn *c)
{
	struct imap_session	*s = c->ses;

	if (s == NULL || s->sel == NULL || !imap_mbox_changed(s->sel))
		return;
	if (s->sel->hibernating)
		(void)imap_mbox_wake(c);	/* syncs */
	else
		(void)imap_mbox_sync(c, true);
	imap_mbox_release_scan(s->sel);
	imap_mbox_hibernate(s->sel);
}

void
imap_session_idle_done(struct iconn *c)
{
	if (c->ses != NULL && c->ses->sel != NULL)
		(void)imap_mbox_wake(c);
}

static void
enable(struct iconn *c, const char *tag, const struct imap_args *a)
{
	/* Nothing ENABLE can switch on is offered yet (CONDSTORE, QRESYNC,
	 * UTF8=ACCEPT): unknown names are ignored (RFC 5161 3.1), and mutt
	 * sends UTF8=ACCEPT whenever ENABLE is advertised. */
	(void)a;
	imap_send(c, "* ENABLED");
	imap_ok(c, tag, "Enabled.");
}

void
imap_session_command(struct iconn *c, const char *tag,
    const struct imap_args *a)
{
	struct imap_session	*s = c->ses;

	switch (a->id) {
	case IMAP_CMD_NOOP:
	case IMAP_CMD_CHECK:
		if (s->sel != NULL)
			(void)imap_mbox_sync(c, true);
		imap_ok(c, tag, "%s completed.", a->id == IMAP_CMD_NOOP ?
		    "NOOP" : "CHECK");
		break;
	case IMAP_CMD_ENABLE:
		enable(c, tag, a);
		break;
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
		imap_session_forget_saved(c);
		imap_mbox_select(c, tag, a->u.mbox.mailbox,
		    a->id == IMAP_CMD_EXAMINE);
		break;
	case IMAP_CMD_CLOSE:
		imap_session_forget_saved(c);
		imap_mbox_close(c, true);
		imap_ok(c, tag, "Close completed.");
		break;
	case IMAP_CMD_UNSELECT:
		imap_session_forget_saved(c);
		imap_mbox_close(c, false);
		imap_ok(c, tag, "Unselect completed.");
		break;
	case IMAP_CMD_EXPUNGE:
		imap_mbox_expunge(c, tag, a->uid ? a->u.copy.set : NULL);
		break;
	case IMAP_CMD_CREATE:
		imap_cmd_create(c, tag, a);
		break;
	case IMAP_CMD_DELETE:
		imap_cmd_delete(c, tag, a);
		break;
	case IMAP_CMD_RENAME:
		imap_cmd_rename(c, tag, a);
		break;
	case IMAP_CMD_SUBSCRIBE:
	case IMAP_CMD_UNSUBSCRIBE:
		imap_cmd_subscribe(c, tag, a, a->id == IMAP_CMD_SUBSCRIBE);
		break;
	case IMAP_CMD_LIST:
	case IMAP_CMD_LSUB:
		imap_cmd_list(c, tag, a, a->id == IMAP_CMD_LSUB);
		break;
	case IMAP_CMD_NAMESPACE:
		imap_cmd_namespace(c, tag);
		break;
	case IMAP_CMD_STATUS:
		imap_cmd_status(c, tag, a);
		break;
	case IMAP_CMD_GETQUOTA:
	case IMAP_CMD_GETQUOTAROOT:
		imap_cmd_getquota(c, tag, a, a->id == IMAP_CMD_GETQUOTAROOT);
		break;
	case IMAP_CMD_SETQUOTA:
		imap_no(c, tag, "[NOPERM] Quotas are set by the administrator.");
		break;
	case IMAP_CMD_APPEND:
		append_finish(c, tag, a);
		break;
	case IMAP_CMD_IDLE:
		/* An idle session keeps only its view: the file names are
		 * read again when a command needs them. */
		if (s->sel != NULL) {
			(void)imap_mbox_sync(c, true);
			imap_mbox_release_scan(s->sel);
			imap_mbox_hibernate(s->sel);
		}
		imap_idle_start(c, tag);
		break;
	case IMAP_CMD_FETCH:
		imap_cmd_fetch(c, tag, a);
		break;
	case IMAP_CMD_SEARCH:
		imap_cmd_search(c, tag, a);
		break;
	case IMAP_CMD_STORE:
		imap_mbox_store(c, tag, a);
		break;
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
		imap_mbox_copy(c, tag, a, a->id == IMAP_CMD_MOVE);
		break;
	case IMAP_CMD_CAPABILITY:
	case IMAP_CMD_LOGOUT:
	case IMAP_CMD_ID:
	case IMAP_CMD_STARTTLS:
	case IMAP_CMD_LOGIN:
	case IMAP_CMD_AUTHENTICATE:
		/* STARTTLS, LOGIN, AUTHENTICATE after login. */
		imap_bad(c, tag, "Already logged in.");
		break;
	}
}
