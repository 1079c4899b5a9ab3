/* lmtp_conn.c - one LMTP connection (RFC 2033): the command state
 * machine, recipient lookups through aviary-auth's userdb, the DATA
 * stream into Maildir, and one reply per accepted recipient.
 *
 * States: GREET -> (LHLO) READY -> (MAIL) MAIL -> (RCPT ...) -> DATA ->
 * READY. A RCPT waits for its userdb answer in RCPT_WAIT with input
 * processing paused, so pipelined commands (Postfix sends MAIL, every
 * RCPT and DATA in one write) are answered strictly in order.
 *
 * Failure policy (DESIGN.md): a 250 after DATA only once the message is
 * in new/ and fsync'd; anything uncertain is a 4xx so that Postfix keeps
 * the message. The DATA stream is written to tmp/ of the first
 * recipient as it arrives (a 20 MB message never sits in memory), then
 * linked into every recipient's new/.
 *
 * Delivered-To is added only when the transaction has one recipient:
 * several recipients share one written file (as Dovecot does). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmtp.h"
#include "lmtp_parse.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/mem.h"
#include "aviary/sock.h"
#include "aviary/userdb_client.h"

#define LMTP_IN_MAX		(64 * 1024)
#define LMTP_OUT_MAX		(1024 * 1024)
#define LMTP_OUT_HIGH		(64 * 1024)
#define LMTP_MAX_BAD		20
#define LMTP_FOLDER_MAX		64

enum lstate { L_GREET, L_READY, L_MAIL, L_RCPT_WAIT, L_DATA };

struct rcpt {
	char		 given[ADDR_MAX + 1];	/* as the client wrote it */
	char		 user[ADDR_MAX + 1];	/* the mailbox */
	char		 home[4096];
	char		 folder[LMTP_FOLDER_MAX + 1];	/* "Sent"; "" = INBOX */
	uint64_t	 quota_bytes, quota_messages;
};

struct lconn {
	struct lmtpd		*d;
	struct lconn		*prev, *next;
	int			 fd;
	struct ev_io		*io;
	struct ev_timer		*idle;
	struct buf		 in, out;
	enum lstate		 state;
	bool			 closing;	/* flush, then close */
	bool			 skip_line;	/* discarding an over-long line */
	unsigned		 bad;
	/* the transaction */
	char			 sender[ADDR_MAX + 1];
	uint64_t		 size_hint;
	struct rcpt		*rcpts;		/* accepted, in order */
	size_t			 nrcpts, caprcpts;
	struct rcpt		 pending;	/* being looked up */
	char			 pending_tag[LMTP_FOLDER_MAX + 1];
	struct userdb_req	*lookup;
	struct lmtp_data	 data;
	struct maildir_msg	*msg;
	uint64_t		 data_bytes;
	bool			 too_big, store_failed, nospace;
	struct arena		*tx;		/* per transaction */
};

static void lconn_close(struct lconn *c, const char *why);
static void lconn_process(struct lconn *c);

static void
lconn_reply(struct lconn *c, const char *fmt, ...) AV_PRINTFLIKE(2, 3);

static void
lconn_reply(struct lconn *c, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = buf_append(&c->out, "\r\n", 2);
	if (r != 0) {
		log_warn("lmtp: client not reading replies; closing");
		c->closing = true;
	}
}

static void
lconn_flush(struct lconn *c)
{
	if (c->fd == -1)
		return;
	if (sock_flush(c->fd, &c->out) == -1) {
		lconn_close(c, errno == EPIPE || errno == ECONNRESET ? NULL :
		    "write failed");
		return;
	}
	if (c->closing && c->out.len == 0) {
		lconn_close(c, NULL);
		return;
	}
	if (ev_io_mod(c->io, (c->out.len > 0 ? EV_WRITE : 0) |
	    (c->state != L_RCPT_WAIT && !c->closing &&
	    c->out.len < LMTP_OUT_HIGH ? EV_READ : 0)) == -1)
		lconn_close(c, "epoll failed");
}

static void
tx_reset(struct lconn *c)
{
	userdb_cancel(&c->lookup);
	maildir_msg_destroy(&c->msg);
	if (c->rcpts != NULL)
		explicit_bzero(c->rcpts, c->caprcpts * sizeof(*c->rcpts));
	c->nrcpts = 0;
	c->sender[0] = '\0';
	c->size_hint = 0;
	c->data_bytes = 0;
	c->too_big = c->store_failed = c->nospace = false;
	memset(&c->data, 0, sizeof(c->data));
	arena_reset(c->tx);
	if (c->state != L_GREET)
		c->state = L_READY;
}

static void
lconn_bad(struct lconn *c)
{
	if (++c->bad > LMTP_MAX_BAD) {
		lconn_reply(c, "421 4.7.0 %s Too many errors, closing",
		    c->d->hostname);
		c->closing = true;
	}
}

/* --- RCPT --- */

static const char *
quota_reply(const struct lconn *c)
{
	return c->d->cfg->lmtp.quota_temporary ?
	    "452 4.2.2 Mailbox is full" : "552 5.2.2 Mailbox is full";
}

static void
rcpt_on_lookup(void *arg, int status, const struct userdb_reply *u)
{
	struct lconn		*c = arg;
	struct lmtpd		*d = c->d;
	struct rcpt		*r = &c->pending;
	struct maildir_usage	 usage;
	const char		*folders_none[1] = { NULL };
	const char		*error;

	c->lookup = NULL;
	c->state = L_MAIL;
	if (status < 0) {
		lconn_reply(c, "451 4.3.0 <%s> Temporary user lookup failure",
		    r->given);
		goto out;
	}
	if (status == 0) {
		lconn_reply(c, "550 5.1.1 <%s> User doesn't exist", r->given);
		goto out;
	}
	if (!u->active) {
		lconn_reply(c, "550 5.2.1 <%s> Mailbox disabled", r->given);
		goto out;
	}
	(void)snprintf(r->user, sizeof(r->user), "%s", u->user);
	(void)snprintf(r->home, sizeof(r->home), "%s", u->home);
	r->quota_bytes = u->quota_bytes;
	r->quota_messages = u->quota_messages;
	/* Mailboxes (and the configured folders) are made on first
	 * delivery, as the mail user, inside the mail root only. */
	if (maildir_ensure(d->cfg->mail.root, r->home,
	    d->nfolders ? d->folders : folders_none, d->nfolders,
	    d->cfg->mail.uid, d->cfg->mail.gid, c->tx, &error) == -1) {
		log_error("lmtp: %s: cannot create the mailbox: %s", r->user,
		    error);
		lconn_reply(c, "451 4.3.0 <%s> Cannot create mailbox", r->given);
		goto out;
	}
	if (r->quota_bytes != 0 || r->quota_messages != 0) {
		if (maildir_quota_get(d->cfg->mail.root, r->home,
		    r->quota_bytes, r->quota_messages, d->cfg->mail.uid,
		    d->cfg->mail.gid, &usage, c->tx, &error) == -1) {
			log_error("lmtp: %s: quota: %s", r->user, error);
			lconn_reply(c, "451 4.3.0 <%s> Cannot check quota",
			    r->given);
			goto out;
		}
		if (maildir_quota_exceeded(&usage, r->quota_bytes,
		    r->quota_messages, c->size_hint)) {
			lconn_reply(c, "%s", quota_reply(c));
			goto out;
		}
	}
	r->folder[0] = '\0';
	if (c->pending_tag[0] != '\0' &&
	    maildir_folder_exists(r->home, c->pending_tag))
		(void)snprintf(r->folder, sizeof(r->folder), "%s",
		    c->pending_tag);
	if (c->nrcpts == c->caprcpts) {
		size_t n = c->caprcpts ? c->caprcpts * 2 : 8;

		c->rcpts = xrealloc(c->rcpts, n * sizeof(*c->rcpts));
		c->caprcpts = n;
	}
	c->rcpts[c->nrcpts++] = *r;
	lconn_reply(c, "250 2.1.5 <%s> OK", r->given);
out:
	lconn_process(c);
	lconn_flush(c);
}

/* Split the local part at the recipient delimiter: "user+tag" ->
 * "user", tag "tag" (a tag that is not a plain folder name is dropped:
 * the message goes to INBOX). */
static void
rcpt_split_tag(struct lconn *c, char *local)
{
	const char	*delim = c->d->cfg->lmtp.recipient_delimiter;
	char		*p;
	size_t		 i;

	c->pending_tag[0] = '\0';
	if (delim[0] == '\0' || (p = strchr(local, delim[0])) == NULL ||
	    p == local)
		return;
	*p++ = '\0';
	if (strlen(p) > LMTP_FOLDER_MAX)
		return;
	for (i = 0; p[i] != '\0'; i++)
		if (p[i] == '.' || p[i] == '/' || p[i] == '&')
			return;
	memcpy(c->pending_tag, p, strlen(p) + 1);
}

static void
cmd_rcpt(struct lconn *c, struct str args)
{
	struct lmtp_path	 path;
	const char		*error, *why;
	char			 raw[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1], lookup[ADDR_MAX + 1];
	char			*at;

	if (c->state != L_MAIL) {
		lconn_reply(c, "503 5.5.1 Need MAIL command first");
		lconn_bad(c);
		return;
	}
	if (lmtp_parse_path(args, "TO", &path, &error) == -1) {
		lconn_reply(c, "501 5.5.4 %s", error);
		lconn_bad(c);
		return;
	}
	if (c->nrcpts >= c->d->cfg->lmtp.max_recipients) {
		lconn_reply(c, "452 4.5.3 Too many recipients");
		return;
	}
	if (path.addr.len > ADDR_MAX) {
		lconn_reply(c, "550 5.1.3 Address too long");
		return;
	}
	memcpy(raw, path.addr.p, path.addr.len);
	raw[path.addr.len] = '\0';
	memset(&c->pending, 0, sizeof(c->pending));
	(void)snprintf(c->pending.given, sizeof(c->pending.given), "%s", raw);
	at = strrchr(raw, '@');
	if (at == NULL) {
		lconn_reply(c, "550 5.1.3 <%s> Address without a domain", raw);
		return;
	}
	*at = '\0';
	(void)snprintf(local, sizeof(local), "%s", raw);
	rcpt_split_tag(c, local);
	(void)snprintf(domain, sizeof(domain), "%s", at + 1);
	if ((size_t)snprintf(lookup, sizeof(lookup), "%s@%s", local,
	    domain) >= sizeof(lookup) ||
	    addr_normalize(lookup, lookup, NULL, NULL, &why) == -1) {
		lconn_reply(c, "550 5.1.3 <%s> Bad address syntax: %s",
		    c->pending.given, "invalid");
		return;
	}
	c->state = L_RCPT_WAIT;
	c->lookup = userdb_lookup(c->d->userdb, lookup, "lmtp",
	    rcpt_on_lookup, c);
}

/* --- DATA --- */

static void
data_write(struct lconn *c, const char *p, size_t n)
{
	uint64_t	 max = c->d->cfg->lmtp.max_message_size;

	if (c->too_big || c->store_failed)
		return;
	if (n > max - c->data_bytes) {	/* data_bytes <= max always */
		c->too_big = true;
		return;
	}
	c->data_bytes += n;
	if (maildir_msg_write(c->msg, p, n) == -1)
		c->store_failed = true;
}

static void
cmd_data(struct lconn *c)
{
	struct lmtpd	*d = c->d;
	const char	*error;
	char		 hdr[2 * ADDR_MAX + 64];
	int		 n;

	if (c->state != L_MAIL) {
		lconn_reply(c, "503 5.5.1 Need MAIL command first");
		lconn_bad(c);
		return;
	}
	if (c->nrcpts == 0) {
		lconn_reply(c, "503 5.5.1 No valid recipients");
		return;
	}
	c->msg = maildir_msg_create(d->cfg->mail.root, c->rcpts[0].home,
	    d->hostname, d->cfg->mail.uid, d->cfg->mail.gid, c->tx, &error);
	if (c->msg == NULL) {
		log_error("lmtp: cannot store a message for %s: %s",
		    c->rcpts[0].user, error);
		lconn_reply(c, "451 4.3.0 Cannot store the message now");
		return;
	}
	/* The headers delivery adds (RFC 5321 4.4: Return-Path at final
	 * delivery). They count towards the stored size, not the limit. */
	n = snprintf(hdr, sizeof(hdr), "Return-Path: <%s>\n", c->sender);
	if (n > 0 && maildir_msg_write(c->msg, hdr, (size_t)n) == -1)
		c->store_failed = true;
	if (c->nrcpts == 1) {
		n = snprintf(hdr, sizeof(hdr), "Delivered-To: %s\n",
		    c->rcpts[0].given);
		if (n > 0 && maildir_msg_write(c->msg, hdr, (size_t)n) == -1)
			c->store_failed = true;
	}
	memset(&c->data, 0, sizeof(c->data));
	c->state = L_DATA;
	lconn_reply(c, "354 Start mail input; end with <CRLF>.<CRLF>");
}

static void
data_done(struct lconn *c)
{
	struct lmtpd		*d = c->d;
	struct maildir_usage	 usage;
	const char		*error;
	bool			 nospace = false, done_dup;
	uint64_t		 size;
	size_t			 i, j;
	enum dstatus		 st;
	enum dstatus		*results;

	if (!c->too_big && !c->store_failed &&
	    maildir_msg_finish(c->msg, &nospace, c->tx, &error) == -1) {
		log_error("lmtp: cannot store a message: %s", error);
		c->store_failed = true;
	}
	results = arena_zalloc(c->tx, c->nrcpts * sizeof(*results));
	for (i = 0; i < c->nrcpts; i++) {
		struct rcpt *r = &c->rcpts[i];

		if (c->too_big) {
			lconn_reply(c, "552 5.3.4 <%s> Message too big",
			    r->given);
			continue;
		}
		if (c->store_failed) {
			if (nospace)
				lconn_reply(c, "452 4.3.1 <%s> Insufficient "
				    "system storage", r->given);
			else
				lconn_reply(c, "451 4.3.0 <%s> Cannot store the "
				    "message", r->given);
			d->n_failed++;
			continue;
		}
		/* The same mailbox and folder twice: one copy, and the
		 * first copy's answer again (one reply per RCPT). */
		done_dup = false;
		for (j = 0; j < i; j++)
			if (strcmp(c->rcpts[j].home, r->home) == 0 &&
			    strcmp(c->rcpts[j].folder, r->folder) == 0) {
				done_dup = true;
				break;
			}
		if (done_dup && results[j] == D_OK) {
			results[i] = D_OK;
			lconn_reply(c, "250 2.0.0 <%s> Saved", r->given);
			continue;
		}
		size = maildir_msg_size(c->msg);
		if (r->quota_bytes != 0 || r->quota_messages != 0) {
			if (maildir_quota_get(d->cfg->mail.root, r->home,
			    r->quota_bytes, r->quota_messages, d->cfg->mail.uid,
			    d->cfg->mail.gid, &usage, c->tx, &error) == -1) {
				log_error("lmtp: %s: quota: %s", r->user, error);
				lconn_reply(c, "451 4.3.0 <%s> Cannot check "
				    "quota", r->given);
				results[i] = D_TEMP;
				continue;
			}
			if (maildir_quota_exceeded(&usage, r->quota_bytes,
			    r->quota_messages, size)) {
				lconn_reply(c, "%s", quota_reply(c));
				results[i] = D_PERM;
				continue;
			}
		}
		nospace = false;
		st = maildir_msg_deliver(c->msg, d->cfg->mail.root, r->home,
		    r->folder[0] ? r->folder : NULL, &nospace, c->tx, &error);
		results[i] = st;
		if (st != D_OK) {
			log_error("lmtp: %s: delivery failed: %s", r->user,
			    error);
			d->n_failed++;
			if (nospace)
				lconn_reply(c, "452 4.3.1 <%s> Insufficient "
				    "system storage", r->given);
			else
				lconn_reply(c, "451 4.3.0 <%s> Cannot store the "
				    "message", r->given);
			continue;
		}
		/* Always: a quota set later must find maildirsize current. */
		if (maildir_quota_add(d->cfg->mail.root, r->home,
		    (int64_t)size, 1, c->tx, &error) == -1)
			log_warn("lmtp: %s: maildirsize not updated: %s",
			    r->user, error);
		d->n_delivered++;
		log_info("lmtp: delivered to %s%s%s, %llu bytes, from <%s>",
		    r->user, r->folder[0] ? " folder " : "", r->folder,
		    (unsigned long long)size, c->sender);
		lconn_reply(c, "250 2.0.0 <%s> Saved", r->given);
	}
	tx_reset(c);
}

/* Feed buffered input to the DATA decoder. */
static void
data_feed(struct lconn *c)
{
	char	 out[8192];
	size_t	 used, olen, take;

	while (c->in.len > 0 && c->state == L_DATA) {
		/* One byte of room more than input: see lmtp_data_decode. */
		take = c->in.len < sizeof(out) - 1 ? c->in.len :
		    sizeof(out) - 1;
		used = lmtp_data_decode(&c->data, c->in.data, take, out, &olen);
		if (olen > 0)
			data_write(c, out, olen);
		buf_consume(&c->in, used);
		if (c->data.state == LD_END)
			data_done(c);
	}
}

/* --- commands --- */

static void
cmd_mail(struct lconn *c, struct str args)
{
	struct lmtp_path	 path;
	const char		*error;

	if (c->state == L_GREET) {
		lconn_reply(c, "503 5.5.1 Send LHLO first");
		lconn_bad(c);
		return;
	}
	if (c->state != L_READY) {
		lconn_reply(c, "503 5.5.1 Nested MAIL command");
		lconn_bad(c);
		return;
	}
	if (lmtp_parse_path(args, "FROM", &path, &error) == -1) {
		lconn_reply(c, "501 5.5.4 %s", error);
		lconn_bad(c);
		return;
	}
	if (path.addr.len > ADDR_MAX) {
		lconn_reply(c, "553 5.1.7 Sender address too long");
		return;
	}
	if (path.has_size && path.size > c->d->cfg->lmtp.max_message_size) {
		lconn_reply(c, "552 5.3.4 Message size exceeds fixed maximum "
		    "message size");
		return;
	}
	memcpy(c->sender, path.addr.p, path.addr.len);
	c->sender[path.addr.len] = '\0';
	c->size_hint = path.size;
	c->state = L_MAIL;
	lconn_reply(c, "250 2.1.0 OK");
}

static void
lconn_line(struct lconn *c, struct str line)
{
	struct str	 args;

	switch (lmtp_parse_verb(line, &args)) {
	case LV_LHLO:
		if (args.len == 0) {
			lconn_reply(c, "501 5.5.4 LHLO needs a domain");
			lconn_bad(c);
			return;
		}
		tx_reset(c);
		c->state = L_READY;
		/* Only what is honoured: SIZE is enforced, 8BITMIME and
		 * pipelining are handled, codes are enhanced. */
		lconn_reply(c, "250-%s\r\n250-PIPELINING\r\n"
		    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE %llu",
		    c->d->hostname,
		    (unsigned long long)c->d->cfg->lmtp.max_message_size);
		return;
	case LV_HELO:
	case LV_EHLO:
		lconn_reply(c, "500 5.5.1 This is LMTP: use LHLO");
		lconn_bad(c);
		return;
	case LV_MAIL:
		cmd_mail(c, args);
		return;
	case LV_RCPT:
		cmd_rcpt(c, args);
		return;
	case LV_DATA:
		cmd_data(c);
		return;
	case LV_RSET:
		tx_reset(c);
		lconn_reply(c, "250 2.0.0 OK");
		return;
	case LV_NOOP:
		lconn_reply(c, "250 2.0.0 OK");
		return;
	case LV_QUIT:
		lconn_reply(c, "221 2.0.0 %s Bye", c->d->hostname);
		c->closing = true;
		return;
	case LV_VRFY:
		lconn_reply(c, "252 2.3.3 Cannot verify users, send RCPT "
		    "instead");
		return;
	case LV_BDAT:
	case LV_UNKNOWN:
		lconn_reply(c, "500 5.5.2 Command not recognized");
		lconn_bad(c);
		return;
	}
}

/* Run every complete command (and DATA) that is buffered, until a RCPT
 * waits for its lookup. */
static void
lconn_process(struct lconn *c)
{
	char	*lf;
	size_t	 len;

	while (!c->closing && c->fd != -1 && c->state != L_RCPT_WAIT) {
		if (c->state == L_DATA) {
			data_feed(c);
			if (c->state == L_DATA)
				break;		/* needs more input */
			continue;
		}
		lf = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
		if (lf == NULL) {
			if (c->in.len >= LMTP_LINE_MAX) {
				/* Discard up to the next LF, then answer. */
				buf_clear(&c->in);
				if (!c->skip_line) {
					c->skip_line = true;
					lconn_reply(c, "500 5.5.2 Line too long");
					lconn_bad(c);
				}
			}
			break;
		}
		len = (size_t)(lf - c->in.data);
		if (c->skip_line) {
			c->skip_line = false;
			buf_consume(&c->in, len + 1);
			continue;
		}
		if (len > LMTP_LINE_MAX) {
			buf_consume(&c->in, len + 1);
			lconn_reply(c, "500 5.5.2 Line too long");
			lconn_bad(c);
			continue;
		}
		{
			char	 line[LMTP_LINE_MAX + 1];
			size_t	 ll = len;

			memcpy(line, c->in.data, len);
			if (ll > 0 && line[ll - 1] == '\r')
				ll--;
			line[ll] = '\0';
			buf_consume(&c->in, len + 1);
			lconn_line(c, (struct str){ line, ll });
		}
	}
}

static void
lconn_on_idle(void *arg)
{
	struct lconn	*c = arg;

	c->idle = NULL;
	lconn_reply(c, "421 4.4.2 %s Timeout, closing", c->d->hostname);
	c->closing = true;
	lconn_flush(c);
}

static void
lconn_read(struct lconn *c)
{
	char	 chunk[16384];
	ssize_t	 n;

	ev_timer_del(&c->idle);
	c->idle = ev_timer_add(c->d->ev, c->d->cfg->lmtp.timeout * 1000,
	    lconn_on_idle, c);
	while (c->fd != -1 && c->state != L_RCPT_WAIT && !c->closing) {
		size_t room = c->in.max - c->in.len;

		if (room == 0) {
			lconn_process(c);
			if (c->in.max - c->in.len == 0)
				break;
			continue;
		}
		n = read(c->fd, chunk, room < sizeof(chunk) ? room :
		    sizeof(chunk));
		if (n == 0) {
			/* The client left; a message in progress is dropped
			 * (its tmp/ file is removed): Postfix retries. */
			lconn_close(c, c->state == L_DATA ?
			    "connection lost during DATA" : NULL);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				lconn_close(c, "read failed");
			break;
		}
		if (buf_append(&c->in, chunk, (size_t)n) != 0) {
			lconn_close(c, "input buffer overflow");	/* a bug */
			return;
		}
		lconn_process(c);
	}
	lconn_flush(c);
}

static void
lconn_on_io(void *arg, int fd, unsigned events)
{
	struct lconn	*c = arg;

	(void)fd;
	if ((events & EV_READ) && c->fd != -1)
		lconn_read(c);
	if ((events & EV_WRITE) && c->fd != -1)
		lconn_flush(c);
}

static void
lconn_close(struct lconn *c, const char *why)
{
	struct lmtpd	*d = c->d;

	if (c->fd == -1)
		return;
	if (why != NULL)
		log_info("lmtp: closing connection: %s", why);
	tx_reset(c);
	ev_timer_del(&c->idle);
	ev_io_del(&c->io);
	(void)close(c->fd);
	c->fd = -1;
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	arena_destroy(&c->tx);
	free(c->rcpts);
	c->rcpts = NULL;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (d->ndead == d->capdead) {
		d->capdead = d->capdead ? d->capdead * 2 : 16;
		d->dead = xrealloc(d->dead, d->capdead * sizeof(*d->dead));
	}
	d->dead[d->ndead++] = c;
}

void
lmtp_reap(void *arg)
{
	struct lmtpd	*d = arg;

	while (d->ndead > 0)
		free(d->dead[--d->ndead]);
}

void
lmtp_conn_close_all(struct lmtpd *d)
{
	while (d->conns != NULL)
		lconn_close(d->conns, NULL);
}

void
lmtp_conn_accept(struct lmtpd *d, int lfd)
{
	struct lconn	*c;
	int		 fd;

	while ((fd = sock_accept(lfd)) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->d = d;
		c->fd = fd;
		c->tx = arena_create(8192);
		buf_init(&c->in, NULL, LMTP_IN_MAX);
		buf_init(&c->out, NULL, LMTP_OUT_MAX);
		c->io = ev_io_add(d->ev, fd, EV_READ, lconn_on_io, c);
		if (c->io == NULL) {
			log_error("lmtp: epoll: %m");
			(void)close(fd);
			buf_deinit(&c->in);
			buf_deinit(&c->out);
			arena_destroy(&c->tx);
			free(c);
			continue;
		}
		c->next = d->conns;
		if (d->conns != NULL)
			d->conns->prev = c;
		d->conns = c;
		c->idle = ev_timer_add(d->ev, d->cfg->lmtp.timeout * 1000,
		    lconn_on_idle, c);
		lconn_reply(c, "220 %s Aviary LMTP ready", d->hostname);
		lconn_flush(c);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		log_error("lmtp: accept: %m");
}
