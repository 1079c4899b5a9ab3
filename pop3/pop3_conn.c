/* pop3_conn.c - one POP3 connection: accepting it, reading commands,
 * dispatching them by state (pop3_login.c before authentication,
 * pop3_mail.c after), timeouts and limits.
 *
 * Commands are taken one line at a time from the reader; while a command
 * waits (aviary-auth, opening the maildrop, a RETR being streamed) input
 * is paused and the pipelined lines behind it stay in the reader, so
 * replies always come in command order (RFC 2449 PIPELINING). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pop3.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/tstream.h"

/* Output queue ceiling: a whole RETR chunk plus replies. */
#define POP3_OUT_MAX	(TSTREAM_HIGH_WATER + 128 * 1024)

static void	conn_process(struct pconn *c);
static void	conn_touch(struct pconn *c);

static void
conn_free(struct pconn *c, const char *why)
{
	struct pop3d	*d = c->d;

	if (why != NULL)
		log_info("pop3: disconnected%s%s rip=%s session=%s: %s",
		    c->state >= P_OPENING && c->user[0] ? " user=" : "",
		    c->state >= P_OPENING ? c->user : "", c->peer.rip, c->session,
		    why);
	pop3_login_abort(c);
	pop3_mail_close(c);
	ev_timer_del(&c->timer);
	tstream_free(&c->s);
	pop3_reader_deinit(&c->rd);
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
on_timeout(void *arg)
{
	struct pconn	*c = arg;

	c->timer = NULL;
	if (c->state == P_QUIT) {
		conn_free(c, "did not read the last reply");
		return;
	}
	pop3_reply(c, "-ERR Disconnected for inactivity.");
	pop3_close_after_reply(c);
	tstream_flush(c->s);
}

static void
conn_touch(struct pconn *c)
{
	uint64_t	 secs = c->state >= P_OPENING && c->state != P_QUIT ?
			    c->d->cfg->pop3.timeout : c->d->cfg->login.timeout;

	ev_timer_del(&c->timer);
	c->timer = ev_timer_add(c->d->ev, secs * 1000, on_timeout, c);
}

void
pop3_reply(struct pconn *c, const char *fmt, ...)
{
	va_list	 ap;
	char	 line[1024];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (tstream_write(c->s, line, (size_t)n) == -1) {
		log_warn("pop3: rip=%s: client does not read its replies",
		    c->peer.rip);
		pop3_close_after_reply(c);
	}
}

int
pop3_write(struct pconn *c, const void *p, size_t n)
{
	return tstream_write(c->s, p, n);
}

void
pop3_close_after_reply(struct pconn *c)
{
	c->state = P_QUIT;
	tstream_close_after_flush(c->s);
	conn_touch(c);		/* a client that never reads is dropped */
}

void
pop3_bad(struct pconn *c, const char *fmt, ...)
{
	va_list	 ap;
	char	 text[512];

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pop3_reply(c, "%s", text);
	if (++c->bad >= c->d->cfg->pop3.max_bad_commands &&
	    c->state != P_QUIT) {
		pop3_reply(c, "-ERR Too many bad commands.");
		pop3_close_after_reply(c);
	}
}

void
pop3_capa_begin(struct pconn *c)
{
	static const char *const caps[] = {
		"+OK Capability list follows", "CAPA", "TOP", "UIDL",
		"RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
	};
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(caps); i++)
		pop3_reply(c, "%s", caps[i]);
}

bool
pop3_secured(const struct pconn *c)
{
	return tstream_is_tls(c->s) || c->peer.local;
}

bool
pop3_plaintext_ok(const struct pconn *c)
{
	return pop3_secured(c) || c->d->cfg->login.allow_plaintext;
}

static bool
conn_takes_commands(const struct pconn *c)
{
	return c->state == P_AUTHORIZATION || c->state == P_SASL ||
	    c->state == P_TRANSACTION;
}

static void
conn_dispatch(struct pconn *c, struct str line)
{
	struct pop3_cmd	 cmd;
	const char	*error;

	if (c->state == P_SASL) {
		pop3_login_sasl_line(c, line);
		return;
	}
	if (pop3_parse(line, &cmd, &error) == -1) {
		pop3_bad(c, "-ERR %s", error);
		return;
	}
	if (c->state == P_AUTHORIZATION)
		pop3_login_command(c, &cmd);
	else
		pop3_mail_command(c, &cmd);
}

/* Run the buffered commands while the state allows. */
static void
conn_process(struct pconn *c)
{
	struct str	 line;

	while (conn_takes_commands(c) &&
	    tstream_pending(c->s) < TSTREAM_HIGH_WATER) {
		switch (pop3_reader_next(&c->rd, &line)) {
		case POP3_RD_NONE:
			goto out;
		case POP3_RD_TOO_LONG:
			conn_touch(c);
			if (c->state == P_SASL) {
				/* The exchange cannot go on. */
				pop3_login_abort(c);
				c->state = P_AUTHORIZATION;
			}
			pop3_bad(c, "-ERR Line too long.");
			break;
		case POP3_RD_LINE:
			conn_touch(c);
			conn_dispatch(c, line);
			break;
		}
	}
out:
	tstream_pause_input(c->s, !conn_takes_commands(c) ||
	    tstream_pending(c->s) >= TSTREAM_HIGH_WATER);
	tstream_flush(c->s);
}

void
pop3_resume(struct pconn *c)
{
	conn_touch(c);
	conn_process(c);
}

static void
on_input(void *arg)
{
	struct pconn	*c = arg;
	char		 tmp[4096];
	size_t		 room;
	ssize_t		 n;

	for (;;) {
		room = pop3_reader_room(&c->rd);
		if (room > sizeof(tmp))
			room = sizeof(tmp);
		n = room > 0 ? tstream_read(c->s, tmp, room) : 0;
		if (n > 0)
			pop3_reader_feed(&c->rd, tmp, (size_t)n);
		conn_process(c);
		if (n <= 0 || !conn_takes_commands(c))
			break;
	}
	explicit_bzero(tmp, sizeof(tmp));
}

static void
on_drain(void *arg)
{
	struct pconn	*c = arg;

	if (c->state == P_RETR) {
		conn_touch(c);
		pop3_mail_produce(c);
		if (c->state == P_RETR) {
			tstream_flush(c->s);
			return;
		}
	}
	conn_process(c);
}

static void
on_close(void *arg, const char *why)
{
	struct pconn	*c = arg;

	conn_free(c, c->state == P_QUIT && why == NULL ? NULL :
	    why != NULL ? why : "connection closed by the client");
}

static const struct tstream_cbs conn_cbs = {
	.on_input = on_input,
	.on_drain = on_drain,
	.on_close = on_close,
};

static void
conn_new(struct pop3d *d, int fd, bool implicit_tls)
{
	const struct aviary_config	*cfg = d->cfg;
	struct pconn			*c;
	const char			*refuse = NULL;

	c = xcalloc(1, sizeof(*c));
	c->d = d;
	c->implicit_tls = implicit_tls;
	pop3_reader_init(&c->rd);
	loginsvc_peer(d->svc, fd, &c->peer);
	(void)snprintf(c->session, sizeof(c->session), "%llx.%llx",
	    (unsigned long long)getpid(), (unsigned long long)++d->session_seq);

	refuse = loginsvc_enter(d->svc, &c->peer, cfg->pop3.max_connections);
	c->counted = refuse == NULL;

	c->s = tstream_new(d->ev, fd, implicit_tls ? d->tls : NULL,
	    POP3_OUT_MAX, &conn_cbs, c);
	if (c->s == NULL) {
		log_error("pop3: epoll: %m");
		if (c->counted)
			loginsvc_leave(d->svc, &c->peer);
		pop3_reader_deinit(&c->rd);
		free(c);
		return;
	}
	c->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	conn_touch(c);
	if (refuse != NULL) {
		log_warn("pop3: rip=%s: refused: %s", c->peer.rip, refuse);
		pop3_reply(c, "-ERR [SYS/TEMP] %s", refuse);
		pop3_close_after_reply(c);
		tstream_flush(c->s);
		return;
	}
	pop3_login_greet(c);
	tstream_flush(c->s);
}

void
pop3_conn_accept(struct pop3d *d, int lfd, bool implicit_tls)
{
	int	 fd, i;

	/* A bounded batch per wake-up, so that one listener cannot starve
	 * the connections already open. */
	for (i = 0; i < 64 && (fd = loginsvc_accept(lfd)) != -1; i++)
		conn_new(d, fd, implicit_tls);
}

void
pop3_conn_close_all(struct pop3d *d)
{
	while (d->conns != NULL)
		conn_free(d->conns, NULL);
}
