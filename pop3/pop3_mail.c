/* pop3_mail.c - POP3 after authentication: the maildrop (RFC 1939
 * TRANSACTION and UPDATE states).
 *
 * The maildrop is the INBOX of the user's Maildir, as it was when the
 * session opened it: messages delivered later appear at the next login.
 * Sizes are exact octet counts as sent, with CRLF line ends (the W= of
 * the file name, or counted). UIDLs come from dovecot-uidlist (UID and
 * UIDVALIDITY, Dovecot's default format), shared with IMAP.
 *
 * Concurrency: one POP3 session per mailbox at a time, through an
 * flock(2) on <home>/aviary-pop3.lock held for the session (released by
 * the kernel if the process dies); a second login gets -ERR [IN-USE].
 * Delivery and IMAP go on meanwhile: a message IMAP expunged during the
 * session answers -ERR to RETR, and a file IMAP renamed is found again.
 *
 * Nothing changes on disk before QUIT: deletions, \Seen for retrieved
 * messages and the move from new/ to cur/ happen in the UPDATE state
 * only; a dropped connection leaves the mailbox as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "pop3.h"
#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"
#include "aviary/tstream.h"
#include "aviary/uidlist.h"
#include "aviary/userdb_client.h"

#define POP3_LOCK_NAME		"aviary-pop3.lock"
#define POP3_UIDLIST_WAIT_MS	3000
#define POP3_CHUNK		(64 * 1024)

struct pmsg {
	uint64_t	 vsize;		/* octets as sent (CRLF) */
	bool		 deleted;
	bool		 retrieved;
};

struct pop3_mailbox {
	struct arena		*a;
	struct userdb_req	*lookup;
	char			 home[4096];
	int			 lock_fd;
	struct uidlist_folder	*f;
	struct pmsg		*m;		/* f->nmsgs entries */
	uint64_t		 n_retr, retr_bytes;
	/* the RETR/TOP being sent */
	int			 rfd;
	bool			 is_top;
	struct pop3_top		 top;
	bool			 bol, cr;
};

/* One read buffer and one stuffed-output buffer for the process: only
 * pop3_mail_produce uses them, and never across a return to the loop. */
static char	 chunk_in[POP3_CHUNK];
static char	 chunk_out[2 * POP3_CHUNK];

static void
mb_free(struct pconn *c)
{
	struct pop3_mailbox	*mb = c->mb;

	if (mb == NULL)
		return;
	userdb_cancel(&mb->lookup);
	if (mb->rfd != -1)
		(void)close(mb->rfd);
	if (mb->lock_fd != -1)
		(void)close(mb->lock_fd);	/* releases the flock */
	arena_destroy(&mb->a);
	free(mb);
	c->mb = NULL;
}

void
pop3_mail_close(struct pconn *c)
{
	mb_free(c);
}

/* Back to AUTHORIZATION after a failed opening. */
static void
open_failed(struct pconn *c, const char *reply)
{
	mb_free(c);
	c->state = P_AUTHORIZATION;
	c->have_user = false;
	c->user[0] = '\0';
	pop3_reply(c, "%s", reply);
	pop3_resume(c);
}

/* The exact CRLF size of a file without W= in its name. */
static int
count_vsize(struct uidlist_folder *f, size_t idx, uint64_t *vsize_r)
{
	const char	*error;
	uint64_t	 v = 0;
	ssize_t		 n, i;
	bool		 cr = false;
	int		 fd, rc;

	if ((rc = uidlist_folder_msg_open(f, idx, &fd, &error)) != 1) {
		*vsize_r = 0;
		return rc;
	}
	while ((n = read(fd, chunk_in, sizeof(chunk_in))) > 0) {
		for (i = 0; i < n; i++) {
			if (chunk_in[i] == '\n' && !cr)
				v++;
			cr = chunk_in[i] == '\r';
		}
		v += (uint64_t)n;
	}
	(void)close(fd);
	if (n < 0)
		return -1;
	*vsize_r = v;
	return 1;
}

static void
on_userdb(void *ctx, int status, const struct userdb_reply *u)
{
	struct pconn		*c = ctx;
	struct pop3_mailbox	*mb = c->mb;
	const struct aviary_config *cfg = c->d->cfg;
	const char		*error;
	char			 path[4096 + sizeof(POP3_LOCK_NAME) + 1];
	uint64_t		 total = 0;
	size_t			 i;
	int			 rc;

	mb->lookup = NULL;
	if (status < 0) {
		open_failed(c, "-ERR [SYS/TEMP] Temporary failure looking up "
		    "the mailbox, try again later.");
		return;
	}
	if (status == 0 || !u->active) {
		open_failed(c, status == 0 ? "-ERR [SYS/PERM] No mailbox for "
		    "this user." : "-ERR [AUTH] Account is disabled.");
		return;
	}
	(void)snprintf(mb->home, sizeof(mb->home), "%s", u->home);
	if (maildir_ensure(cfg->mail.root, mb->home, NULL, 0, cfg->mail.uid,
	    cfg->mail.gid, mb->a, &error) == -1) {
		log_error("pop3: %s: cannot create the mailbox: %s", c->user,
		    error);
		open_failed(c, "-ERR [SYS/TEMP] Cannot open the mailbox.");
		return;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", mb->home,
	    POP3_LOCK_NAME) >= sizeof(path)) {
		open_failed(c, "-ERR [SYS/PERM] Cannot open the mailbox.");
		return;
	}
	mb->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (mb->lock_fd == -1) {
		log_error("pop3: %s: %s: %m", c->user, path);
		open_failed(c, "-ERR [SYS/TEMP] Cannot lock the mailbox.");
		return;
	}
	if (flock(mb->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			log_info("pop3: %s rip=%s: mailbox in use by another "
			    "POP3 session", c->user, c->peer.rip);
			open_failed(c, "-ERR [IN-USE] Mailbox is in use by "
			    "another POP3 session.");
		} else {
			log_error("pop3: %s: flock: %m", c->user);
			open_failed(c, "-ERR [SYS/TEMP] Cannot lock the "
			    "mailbox.");
		}
		return;
	}
	if (uidlist_folder_open(mb->home, POP3_UIDLIST_WAIT_MS, mb->a, &mb->f,
	    &error) == -1) {
		log_error("pop3: %s: cannot open INBOX: %s", c->user, error);
		open_failed(c, "-ERR [SYS/TEMP] Cannot open the mailbox, try "
		    "again later.");
		return;
	}
	mb->m = arena_zalloc(mb->a, (mb->f->nmsgs + 1) * sizeof(*mb->m));
	for (i = 0; i < mb->f->nmsgs; i++) {
		const struct uidlist_msg *um = &mb->f->msgs[i];

		mb->m[i].vsize = um->vsize;
		if (!um->have_vsize) {
			rc = count_vsize(mb->f, i, &mb->m[i].vsize);
			if (rc == -1) {
				open_failed(c, "-ERR [SYS/TEMP] Cannot read "
				    "the mailbox.");
				return;
			}
			/* Gone meanwhile (IMAP expunged it): size 0, and
			 * RETR will say so. */
		}
		total += mb->m[i].vsize;
	}
	c->state = P_TRANSACTION;
	log_info("pop3: login user=%s rip=%s session=%s %s messages=%zu "
	    "octets=%llu", c->user, c->peer.rip, c->session,
	    tstream_tls_desc(c->s), mb->f->nmsgs, (unsigned long long)total);
	pop3_reply(c, "+OK Logged in.");
	pop3_resume(c);
}

void
pop3_mail_login(struct pconn *c, const char *user)
{
	struct pop3_mailbox	*mb = xcalloc(1, sizeof(*mb));

	mb->a = arena_create(16 * 1024);
	mb->lock_fd = -1;
	mb->rfd = -1;
	c->mb = mb;
	mb->lookup = userdb_lookup(c->d->userdb, user, "pop3", on_userdb, c);
}

/* --- TRANSACTION --- */

static void
stat_totals(const struct pop3_mailbox *mb, size_t *n_r, uint64_t *size_r)
{
	size_t	 i;

	*n_r = 0;
	*size_r = 0;
	for (i = 0; i < mb->f->nmsgs; i++)
		if (!mb->m[i].deleted) {
			(*n_r)++;
			*size_r += mb->m[i].vsize;
		}
}

/* The message a command names: its index, or -1 after the -ERR. */
static long
msg_arg(struct pconn *c, const struct pop3_cmd *cmd)
{
	struct pop3_mailbox	*mb = c->mb;

	if (cmd->n == 0 || cmd->n > mb->f->nmsgs) {
		pop3_bad(c, "-ERR There is no message %u.", cmd->n);
		return -1;
	}
	if (mb->m[cmd->n - 1].deleted) {
		pop3_bad(c, "-ERR Message %u is deleted.", cmd->n);
		return -1;
	}
	return (long)cmd->n - 1;
}

static void
list_or_uidl(struct pconn *c, const struct pop3_cmd *cmd, bool uidl)
{
	struct pop3_mailbox	*mb = c->mb;
	size_t			 i, n;
	uint64_t		 size;
	long			 idx;

	if (cmd->has_n) {
		if ((idx = msg_arg(c, cmd)) < 0)
			return;
		if (uidl)
			pop3_reply(c, "+OK %ld %s", idx + 1,
			    uidlist_folder_msg_uidl(mb->f, (size_t)idx));
		else
			pop3_reply(c, "+OK %ld %llu", idx + 1,
			    (unsigned long long)mb->m[idx].vsize);
		return;
	}
	stat_totals(mb, &n, &size);
	if (uidl)
		pop3_reply(c, "+OK");
	else
		pop3_reply(c, "+OK %zu messages (%llu octets)", n,
		    (unsigned long long)size);
	for (i = 0; i < mb->f->nmsgs; i++) {
		if (mb->m[i].deleted)
			continue;
		if (uidl)
			pop3_reply(c, "%zu %s", i + 1,
			    uidlist_folder_msg_uidl(mb->f, i));
		else
			pop3_reply(c, "%zu %llu", i + 1,
			    (unsigned long long)mb->m[i].vsize);
	}
	pop3_reply(c, ".");
}

static void
retr_finish(struct pconn *c)
{
	struct pop3_mailbox	*mb = c->mb;

	(void)close(mb->rfd);
	mb->rfd = -1;
	c->state = P_TRANSACTION;
}

void
pop3_mail_produce(struct pconn *c)
{
	struct pop3_mailbox	*mb = c->mb;
	ssize_t			 n;
	size_t			 k, o;

	while (tstream_pending(c->s) < TSTREAM_HIGH_WATER) {
		n = read(mb->rfd, chunk_in, sizeof(chunk_in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The +OK is out: the answer cannot turn into an
			 * error any more, only the connection can end. */
			log_error("pop3: %s: reading a message: %m", c->user);
			retr_finish(c);
			pop3_close_after_reply(c);
			return;
		}
		k = (size_t)n;
		if (mb->is_top && k > 0)
			k = pop3_top_cut(&mb->top, chunk_in, k);
		if (k > 0) {
			o = pop3_stuff(chunk_in, k, chunk_out, &mb->bol,
			    &mb->cr);
			if (pop3_write(c, chunk_out, o) == -1)
				goto full;
			mb->retr_bytes += o;
		}
		if (n == 0 || (mb->is_top && mb->top.done)) {
			if (!mb->bol && pop3_write(c, "\r\n", 2) == -1)
				goto full;
			if (pop3_write(c, ".\r\n", 3) == -1)
				goto full;
			retr_finish(c);
			return;
		}
	}
	return;
full:
	log_warn("pop3: %s: output queue full", c->user);
	retr_finish(c);
	pop3_close_after_reply(c);
}

static void
retr(struct pconn *c, const struct pop3_cmd *cmd, bool top)
{
	struct pop3_mailbox	*mb = c->mb;
	const char		*error;
	long			 idx;
	int			 rc, fd;

	if ((idx = msg_arg(c, cmd)) < 0)
		return;
	rc = uidlist_folder_msg_open(mb->f, (size_t)idx, &fd, &error);
	if (rc == 0) {
		pop3_reply(c, "-ERR Message %ld has been removed by another "
		    "session.", idx + 1);
		return;
	}
	if (rc == -1) {
		pop3_reply(c, "-ERR [SYS/TEMP] Cannot read message %ld.",
		    idx + 1);
		return;
	}
	mb->rfd = fd;
	mb->is_top = top;
	pop3_top_init(&mb->top, cmd->lines);
	mb->bol = true;
	mb->cr = false;
	if (top)
		pop3_reply(c, "+OK");
	else {
		pop3_reply(c, "+OK %llu octets",
		    (unsigned long long)mb->m[idx].vsize);
		mb->m[idx].retrieved = true;
		mb->n_retr++;
		c->d->n_retr++;
	}
	c->state = P_RETR;
	pop3_mail_produce(c);
}

/* flags plus 'S', in ASCII order (protocols.md 4.3). */
static const char *
flags_add_seen(struct arena *a, const char *flags)
{
	size_t	 n = strlen(flags), i;
	char	*out;

	if (strchr(flags, 'S') != NULL)
		return flags;
	out = arena_alloc(a, n + 2);
	for (i = 0; i < n && (unsigned char)flags[i] < 'S'; i++)
		out[i] = flags[i];
	out[i] = 'S';
	memcpy(out + i + 1, flags + i, n - i);
	out[n + 1] = '\0';
	return out;
}

void
pop3_mail_quit(struct pconn *c)
{
	struct pop3_mailbox	*mb = c->mb;
	const struct aviary_config *cfg = c->d->cfg;
	const char		*error;
	int64_t			 del_bytes = 0, del_n = 0;
	size_t			 i;
	unsigned		 failed = 0;
	int			 rc;

	for (i = 0; i < mb->f->nmsgs; i++) {
		const struct uidlist_msg *um = &mb->f->msgs[i];

		if (mb->m[i].deleted) {
			rc = uidlist_folder_msg_unlink(mb->f, i, &error);
			if (rc == 1) {
				del_bytes += (int64_t)um->size;
				del_n++;
			} else if (rc == -1)
				failed++;
			continue;
		}
		if (mb->m[i].retrieved)
			rc = uidlist_folder_msg_set_flags(mb->f, i,
			    flags_add_seen(mb->a, um->flags), &error);
		else
			rc = uidlist_folder_msg_to_cur(mb->f, i, &error);
		if (rc == -1)
			log_warn("pop3: %s: cannot update the flags of a "
			    "message: %s", c->user, error);
	}
	if (del_n > 0) {
		c->d->n_dele += (uint64_t)del_n;
		if (maildir_quota_add(cfg->mail.root, mb->home, -del_bytes,
		    -del_n, mb->a, &error) == -1)
			log_warn("pop3: %s: maildirsize: %s", c->user, error);
	}
	log_info("pop3: logout user=%s rip=%s session=%s retr=%llu/%llu "
	    "del=%lld/%lld", c->user, c->peer.rip, c->session,
	    (unsigned long long)mb->n_retr,
	    (unsigned long long)mb->retr_bytes, (long long)del_n,
	    (long long)del_bytes);
	if (failed > 0)
		pop3_reply(c, "-ERR [SYS/TEMP] %u messages could not be "
		    "deleted.", failed);
	else
		pop3_reply(c, "+OK Logging out, %lld messages deleted.",
		    (long long)del_n);
	pop3_close_after_reply(c);
}

void
pop3_mail_command(struct pconn *c, const struct pop3_cmd *cmd)
{
	struct pop3_mailbox	*mb = c->mb;
	size_t			 n, i;
	uint64_t		 size;
	long			 idx;

	switch (cmd->id) {
	case POP3_C_STAT:
		stat_totals(mb, &n, &size);
		pop3_reply(c, "+OK %zu %llu", n, (unsigned long long)size);
		break;
	case POP3_C_LIST:
		list_or_uidl(c, cmd, false);
		break;
	case POP3_C_UIDL:
		list_or_uidl(c, cmd, true);
		break;
	case POP3_C_RETR:
		retr(c, cmd, false);
		break;
	case POP3_C_TOP:
		retr(c, cmd, true);
		break;
	case POP3_C_DELE:
		if ((idx = msg_arg(c, cmd)) < 0)
			break;
		mb->m[idx].deleted = true;
		pop3_reply(c, "+OK Marked to be deleted.");
		break;
	case POP3_C_RSET:
		for (i = 0; i < mb->f->nmsgs; i++)
			mb->m[i].deleted = false;
		stat_totals(mb, &n, &size);
		pop3_reply(c, "+OK %zu messages (%llu octets)", n,
		    (unsigned long long)size);
		break;
	case POP3_C_NOOP:
		pop3_reply(c, "+OK");
		break;
	case POP3_C_CAPA:
		pop3_capa_begin(c);	/* after login: nothing to add */
		pop3_reply(c, ".");
		break;
	case POP3_C_QUIT:
		pop3_mail_quit(c);
		break;
	case POP3_C_USER:
	case POP3_C_PASS:
	case POP3_C_AUTH:
	case POP3_C_APOP:
	case POP3_C_STLS:
		pop3_bad(c, "-ERR Already logged in.");
		break;
	case POP3_C_UNKNOWN:
		pop3_bad(c, "-ERR Unknown command.");
		break;
	}
}
