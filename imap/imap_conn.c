/* imap_conn.c - one IMAP connection: accepting it, feeding the command
 * reader, answering its events (commands, literal announcements, raw
 * lines), dispatching commands by state, replies, limits and timeouts.
 *
 * Input that arrives while a command waits (aviary-auth, a userdb
 * lookup) or while the output queue is full stays in c->in and is fed to
 * the reader later, so replies always come in command order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imap.h"
#include "aviary/arena.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/tstream.h"

/* Output queue ceiling: a FETCH response chunk plus replies. */
#define IMAP_OUT_MAX		(TSTREAM_HIGH_WATER + 2 * 1024 * 1024)
/* Input held back while a command waits. */
#define IMAP_IN_MAX		(256 * 1024)
#define IMAP_IDLE_CHECK_MS	500

static void	conn_process(struct iconn *c);
static void	conn_touch(struct iconn *c);
static uint64_t	timeout_ms(const struct iconn *c);

static void
conn_free(struct iconn *c, const char *why)
{
	struct imapd	*d = c->d;

	if (why != NULL)
		log_info("imap: disconnected%s%s rip=%s session=%s: %s",
		    c->state != I_NOAUTH && c->user[0] ? " user=" : "",
		    c->state != I_NOAUTH ? c->user : "", c->peer.rip,
		    c->session_id, why);
	imap_login_abort(c);
	imap_session_close(c);
	ev_timer_del(&c->timer);
	tstream_free(&c->s);
	imap_reader_destroy(&c->rd);
	arena_destroy(&c->cmd_arena);
	if (c->in != NULL) {
		explicit_bzero(c->in, c->in_cap);
		free(c->in);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	d->nconns--;
	if (c->counted)
		loginsvc_leave(d->svc, &c->peer);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

static void
on_timer(void *arg)
{
	struct iconn	*c = arg;

	c->timer = NULL;
	if (c->state == I_LOGOUT) {
		conn_free(c, "did not read the last reply");
		return;
	}
	if (c->wait == IW_IDLE &&
	    ev_now_ms() - c->last_activity < timeout_ms(c)) {
		/* The per-second look for changes while idling; the
		 * session reports them as untagged responses. */
		imap_session_idle_check(c);
		if (c->wait == IW_IDLE) {
			c->timer = ev_timer_add(c->d->ev, IMAP_IDLE_CHECK_MS,
			    on_timer, c);
		}
		tstream_flush(c->s);
		return;
	}
	if (c->wait == IW_OUTPUT) {
		/* Mid-literal: a BYE would corrupt the response. */
		conn_free(c, "client stopped reading a FETCH response");
		return;
	}
	imap_send(c, "* BYE Disconnected for inactivity.");
	imap_close_after_reply(c);
	tstream_flush(c->s);
}

static uint64_t
timeout_ms(const struct iconn *c)
{
	if (c->state == I_NOAUTH || c->state == I_LOGOUT)
		return c->d->cfg->login.timeout * 1000;
	return c->d->cfg->imap.timeout * 1000;
}

static void
conn_touch(struct iconn *c)
{
	/* While idling the timer is the per-second check; the idle
	 * timeout counts from the last command (IDLE itself). */
	ev_timer_del(&c->timer);
	c->timer = ev_timer_add(c->d->ev, c->wait == IW_IDLE ?
	    IMAP_IDLE_CHECK_MS : timeout_ms(c), on_timer, c);
	c->last_activity = ev_now_ms();
}

void
imap_read_line(struct iconn *c)
{
	imap_reader_read_line(c->rd);
}

void
imap_idle_start(struct iconn *c, const char *tag)
{
	(void)snprintf(c->tag, sizeof(c->tag), "%s", tag);
	c->wait = IW_IDLE;
	imap_send(c, "+ idling");
	imap_read_line(c);
	ev_timer_del(&c->timer);
	c->last_activity = ev_now_ms();
	c->timer = ev_timer_add(c->d->ev, IMAP_IDLE_CHECK_MS, on_timer, c);
}

void
imap_idle_stop(struct iconn *c)
{
	if (c->wait == IW_IDLE) {
		c->wait = IW_NONE;
		imap_session_idle_done(c);
	}
	conn_touch(c);
}

/* --- output --- */

void
imap_close_after_reply(struct iconn *c)
{
	c->state = I_LOGOUT;
	c->wait = IW_NONE;
	tstream_close_after_flush(c->s);
	conn_touch(c);
}

int
imap_send_raw(struct iconn *c, const void *p, size_t n)
{
	if (c->state == I_LOGOUT && tstream_pending(c->s) > IMAP_OUT_MAX / 2)
		return -1;
	if (tstream_write(c->s, p, n) == -1) {
		log_warn("imap: rip=%s: client does not read its replies",
		    c->peer.rip);
		imap_close_after_reply(c);
		return -1;
	}
	return 0;
}

static void
vsend(struct iconn *c, const char *prefix, const char *fmt, va_list ap)
{
	char	 line[2048], *p = line;
	size_t	 plen = prefix != NULL ? strlen(prefix) : 0, cap = sizeof(line);
	va_list	 ap2;
	int	 n;

	/* Lines are usually short; a long one (a SEARCH result, many
	 * keywords) is formatted again into a buffer of its size. */
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	if (plen + (size_t)n + 3 > cap) {
		cap = plen + (size_t)n + 3;
		p = xmalloc(cap);
	}
	if (plen > 0)
		memcpy(p, prefix, plen);
	(void)vsnprintf(p + plen, cap - plen, fmt, ap);
	memcpy(p + plen + (size_t)n, "\r\n", 2);
	if (imap_send_raw(c, p, plen + (size_t)n + 2) == -1) {
		/* closing: imap_send_raw said why */
	}
	if (p != line)
		free(p);
}

void
imap_send(struct iconn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsend(c, NULL, fmt, ap);
	va_end(ap);
}

static void
tagged(struct iconn *c, const char *tag, const char *status,
    const char *fmt, va_list ap)
{
	char	 prefix[160];

	(void)snprintf(prefix, sizeof(prefix), "%s %s ",
	    tag != NULL && tag[0] ? tag : "*", status);
	vsend(c, prefix, fmt, ap);
}

void
imap_ok(struct iconn *c, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	tagged(c, tag, "OK", fmt, ap);
	va_end(ap);
}

void
imap_no(struct iconn *c, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	tagged(c, tag, "NO", fmt, ap);
	va_end(ap);
}

void
imap_bad(struct iconn *c, const char *tag, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	tagged(c, tag, "BAD", fmt, ap);
	va_end(ap);
	if (++c->bad >= c->d->cfg->imap.max_bad_commands &&
	    c->state != I_LOGOUT) {
		imap_send(c, "* BYE Too many invalid commands.");
		imap_close_after_reply(c);
	}
}

size_t
imap_pending(const struct iconn *c)
{
	return tstream_pending(c->s);
}

bool
imap_secured(const struct iconn *c)
{
	return tstream_is_tls(c->s) || c->peer.local;
}

bool
imap_plaintext_ok(const struct iconn *c)
{
	return imap_secured(c) || c->d->cfg->login.allow_plaintext;
}

void
imap_capabilities(const struct iconn *c, struct buf *out)
{
	int	 r = 0;

	r |= buf_append_str(out, "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE");
	if (c->state == I_NOAUTH) {
		if (c->d->tls != NULL && !tstream_tls_started(c->s))
			r |= buf_append_str(out, " STARTTLS");
		if (imap_plaintext_ok(c))
			r |= buf_append_str(out, " AUTH=PLAIN AUTH=LOGIN");
		else
			r |= buf_append_str(out, " LOGINDISABLED");
	} else
		r |= buf_append_str(out, " NAMESPACE UNSELECT UIDPLUS MOVE "
		    "CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE QUOTA "
		    "QUOTA=RES-STORAGE QUOTA=RES-MESSAGE ESEARCH SEARCHRES "
		    "STATUS=SIZE");
	if (r != 0)
		log_panic("imap: capability buffer too small");
}

/* --- input --- */

static bool
conn_runs_commands(const struct iconn *c)
{
	return c->state != I_LOGOUT && (c->wait == IW_NONE ||
	    c->wait == IW_SASL || c->wait == IW_IDLE || c->wait == IW_APPEND);
}

static void
dispatch(struct iconn *c, const struct imap_cmd *cmd)
{
	const struct imap_cmd_def	*def;
	struct imap_args		 args;
	const char			*error;
	const char			*tag = cmd->tag;
	unsigned			 st;
	int				 r;

	arena_reset(c->cmd_arena);
	r = imap_cmd_parse(c->cmd_arena, cmd, &def, &args, &error);
	if (r == IMAP_SEARCH_BADCHARSET) {
		/* RFC 5182: a failed SEARCH ... SAVE empties "$". */
		if (c->ses != NULL)
			imap_session_forget_saved(c);
		imap_no(c, tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported "
		    "charset");
		return;
	}
	if (r != 0) {
		imap_bad(c, tag, "%s", def == NULL ? "Unknown command" :
		    error);
		return;
	}
	st = c->state == I_NOAUTH ? IMAP_ST_NOAUTH : c->state == I_AUTH ?
	    IMAP_ST_AUTH : IMAP_ST_SELECTED;
	if ((def->states & st) == 0) {
		if (c->state == I_NOAUTH)
			imap_bad(c, tag, "Not logged in");
		else if (st == IMAP_ST_AUTH && (def->states &
		    IMAP_ST_SELECTED))
			imap_bad(c, tag, "No mailbox selected");
		else
			imap_bad(c, tag, "Command not allowed now");
		return;
	}
	/* The limit is on bad commands in a row, as Dovecot counts. */
	c->bad = 0;
	if (imap_login_command(c, tag, &args))
		return;
	imap_session_command(c, tag, &args);
}

/* A literal was announced: keep it (small), stream it (APPEND's
 * message) or refuse it. */
static void
on_literal(struct iconn *c, const struct imap_event *ev)
{
	const struct imap_cmd	*cmd = ev->cmd;
	const char		*error;
	enum imap_rerr		 e;

	if (c->state != I_NOAUTH && cmd->name != NULL && cmd->tag != NULL &&
	    strcmp(cmd->name, "APPEND") == 0 && ev->literal_depth == 0 &&
	    ev->literal_argc >= 1) {
		/* The message of an APPEND. */
		if (imap_session_append_begin(c, cmd->tag, cmd,
		    ev->literal_size, &error) == -1) {
			imap_reader_literal_refuse(c->rd);
			imap_no(c, cmd->tag, "%s", error);
			return;
		}
		imap_reader_literal_sink(c->rd);
		c->wait = IW_APPEND;
		if (ev->literal_sync)
			imap_send(c, "+ Ready for literal data");
		return;
	}
	e = imap_reader_literal_accept(c->rd);
	if (e != IMAP_RERR_NONE) {
		imap_bad(c, cmd->tag, "%s", imap_rerr_text(e));
		return;
	}
	if (ev->literal_sync)
		imap_send(c, "+ Ready for literal data");
}

static void
on_line(struct iconn *c, const struct imap_event *ev)
{
	if (c->wait == IW_SASL) {
		imap_login_sasl_line(c, ev->data, ev->len);
		return;
	}
	if (c->wait == IW_IDLE) {
		imap_idle_stop(c);
		if (ev->len == 4 && strncasecmp(ev->data, "DONE", 4) == 0)
			imap_ok(c, c->tag, "Idle completed.");
		else
			imap_bad(c, c->tag, "Expected DONE.");
		return;
	}
	imap_bad(c, NULL, "Unexpected line");
}

static void
on_error(struct iconn *c, const struct imap_event *ev)
{
	const char	*tag = ev->cmd != NULL ? ev->cmd->tag : NULL;

	if (c->wait == IW_APPEND)
		imap_session_append_data(c, NULL, 0, true);
	if (c->wait == IW_SASL || c->wait == IW_IDLE) {
		/* An over-long continuation line ends the exchange. */
		imap_login_abort(c);
		imap_idle_stop(c);
		c->wait = IW_NONE;
		tag = c->tag;
	}
	if (ev->error == IMAP_RERR_LITERAL_TOO_BIG ||
	    ev->error == IMAP_RERR_LITERALS_TOO_BIG)
		imap_no(c, tag, "[TOOBIG] %s", imap_rerr_text(ev->error));
	else
		imap_bad(c, tag, "%s", ev->error_msg != NULL ?
		    ev->error_msg : imap_rerr_text(ev->error));
}

static void
in_consume(struct iconn *c, size_t n)
{
	if (n >= c->in_len) {
		explicit_bzero(c->in, c->in_len);
		c->in_len = 0;
		return;
	}
	memmove(c->in, c->in + n, c->in_len - n);
	explicit_bzero(c->in + c->in_len - n, n);
	c->in_len -= n;
}

static void
conn_process(struct iconn *c)
{
	struct imap_event	 ev;
	size_t			 n;

	while (conn_runs_commands(c) && c->in_len > 0 &&
	    tstream_pending(c->s) < TSTREAM_HIGH_WATER) {
		n = imap_reader_input(c->rd, c->in, c->in_len, &ev);
		if (ev.type == IMAP_EV_LITERAL_DATA) {
			/* ev.data points into c->in: use it first. */
			imap_session_append_data(c, ev.data, ev.len,
			    ev.left == 0);
			in_consume(c, n);
			continue;
		}
		if (ev.type == IMAP_EV_LINE) {
			/* Likewise (a line that came in one piece). */
			conn_touch(c);
			on_line(c, &ev);
			in_consume(c, n);
			continue;
		}
		in_consume(c, n);
		switch (ev.type) {
		case IMAP_EV_NONE:
			break;
		case IMAP_EV_COMMAND:
			conn_touch(c);
			dispatch(c, ev.cmd);
			break;
		case IMAP_EV_LITERAL:
			on_literal(c, &ev);
			break;
		case IMAP_EV_LINE:
			break;
		case IMAP_EV_ERROR:
			conn_touch(c);
			on_error(c, &ev);
			break;
		case IMAP_EV_LITERAL_DATA:
			break;
		}
		if (imap_reader_at_boundary(c->rd) && c->wait != IW_APPEND)
			imap_reader_release(c->rd);
	}
	if (c->in_len == 0 && c->in_cap > 4096) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	tstream_pause_input(c->s, c->state == I_LOGOUT ||
	    c->in_len >= IMAP_IN_MAX ||
	    tstream_pending(c->s) >= TSTREAM_HIGH_WATER);
	tstream_flush(c->s);
}

void
imap_resume(struct iconn *c)
{
	conn_touch(c);
	conn_process(c);
}

static void
on_input(void *arg)
{
	struct iconn	*c = arg;
	ssize_t		 n;
	size_t		 room;

	for (;;) {
		if (c->in_len >= IMAP_IN_MAX)
			break;
		if (c->in_cap - c->in_len < 16384) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 16384;

			if (cap > IMAP_IN_MAX)
				cap = IMAP_IN_MAX;
			if (cap > c->in_cap) {
				c->in = xrealloc(c->in, cap);
				c->in_cap = cap;
			}
		}
		room = c->in_cap - c->in_len;
		if (room == 0)
			break;
		n = tstream_read(c->s, c->in + c->in_len, room);
		if (n <= 0)
			break;
		c->in_len += (size_t)n;
	}
	conn_process(c);
}

static void
on_drain(void *arg)
{
	struct iconn	*c = arg;

	if (c->wait == IW_OUTPUT) {
		conn_touch(c);
		if (!imap_fetch_continue(c)) {
			tstream_flush(c->s);
			return;
		}
	}
	conn_process(c);
}

static void
on_close(void *arg, const char *why)
{
	struct iconn	*c = arg;

	conn_free(c, c->state == I_LOGOUT && why == NULL ? NULL :
	    why != NULL ? why : "connection closed by the client");
}

static const struct tstream_cbs conn_cbs = {
	.on_input = on_input,
	.on_drain = on_drain,
	.on_close = on_close,
};

static void
conn_new(struct imapd *d, int fd, bool implicit_tls)
{
	const struct aviary_config	*cfg = d->cfg;
	struct iconn			*c;
	const char			*refuse = NULL;

	c = xcalloc(1, sizeof(*c));
	c->d = d;
	c->implicit_tls = implicit_tls;
	loginsvc_peer(d->svc, fd, &c->peer);
	(void)snprintf(c->session_id, sizeof(c->session_id), "%llx.%llx",
	    (unsigned long long)getpid(), (unsigned long long)++d->session_seq);
	refuse = loginsvc_enter(d->svc, &c->peer, cfg->imap.max_connections);
	c->counted = refuse == NULL;
	c->s = tstream_new(d->ev, fd, implicit_tls ? d->tls : NULL,
	    IMAP_OUT_MAX, &conn_cbs, c);
	if (c->s == NULL) {
		log_error("imap: epoll: %m");
		if (c->counted)
			loginsvc_leave(d->svc, &c->peer);
		free(c);
		return;
	}
	c->rd = imap_reader_create(NULL);
	c->cmd_arena = arena_create(2048);
	c->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	conn_touch(c);
	if (refuse != NULL) {
		log_warn("imap: rip=%s: refused: %s", c->peer.rip, refuse);
		imap_send(c, "* BYE [UNAVAILABLE] %s", refuse);
		imap_close_after_reply(c);
		tstream_flush(c->s);
		return;
	}
	imap_login_greet(c);
	tstream_flush(c->s);
}

void
imap_conn_accept(struct imapd *d, int lfd, bool implicit_tls)
{
	int	 fd, i;

	/* A bounded batch per wake-up, so that one listener cannot starve
	 * the connections already open. */
	for (i = 0; i < 64 && (fd = loginsvc_accept(lfd)) != -1; i++)
		conn_new(d, fd, implicit_tls);
}

void
imap_conn_close_all(struct imapd *d)
{
	while (d->conns != NULL)
		conn_free(d->conns, NULL);
}
