/* tstream.c - a client connection, plain or TLS, for the event loop;
 * see aviary/tstream.h.
 *
 * Callbacks are made only from the loop (the io watcher or the 0 ms
 * "kick" timer), inside a busy bracket: tstream_free() called by a
 * callback closes the socket at once but leaves the struct to the
 * dispatcher, which frees it when the callback returns. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/mem.h"
#include "aviary/sock.h"
#include "aviary/tls.h"
#include "aviary/tstream.h"

/* An idle stream gives back an output buffer bigger than this. */
#define TSTREAM_KEEP	4096

struct tstream {
	struct ev		*ev;
	int			 fd;
	struct ev_io		*io;
	struct ev_timer		*kick;
	struct tls_conn		*tls;
	struct tls_ctx		*tls_next;	/* STARTTLS once out drains */
	bool			 handshaking;
	struct buf		 out;
	unsigned		 rwant, wwant;	/* TLS: what a 0 return wanted */
	unsigned		 interest;	/* as registered with epoll */
	bool			 paused;
	bool			 closing;	/* close once out is sent */
	bool			 ended;		/* on_close is due */
	const char		*why;		/* for on_close */
	bool			 drain_due;	/* out passed LOW_WATER */
	unsigned		 busy;		/* inside a callback */
	bool			 freed;		/* tstream_free during one */
	const struct tstream_cbs *cbs;
	void			*ctx;
	char			 desc[96];
};

static void	ts_io(void *ctx, int fd, unsigned events);

static void
ts_release(struct tstream *s)
{
	ev_timer_del(&s->kick);
	ev_io_del(&s->io);
	tls_conn_free(&s->tls);
	if (s->fd != -1)
		(void)close(s->fd);
	s->fd = -1;
}

static void
ts_interest(struct tstream *s)
{
	unsigned	 want = 0;

	if (s->fd == -1 || s->ended)
		want = 0;
	else if (s->tls != NULL && s->handshaking)
		want = tls_want(s->tls);
	else {
		if (s->out.len > 0)
			want |= s->tls != NULL && s->wwant ? s->wwant : EV_WRITE;
		if (!s->paused && !s->closing && s->tls_next == NULL)
			want |= s->tls != NULL && s->rwant ? s->rwant : EV_READ;
	}
	if (want != s->interest && s->io != NULL) {
		if (ev_io_mod(s->io, want) == -1) {
			s->ended = true;
			s->why = "epoll failed";
			want = 0;
		}
		s->interest = want;
	}
}

static void
ts_kick_fire(void *ctx);

static void
ts_kick(struct tstream *s)
{
	if (s->kick == NULL)
		s->kick = ev_timer_add(s->ev, 0, ts_kick_fire, s);
}

/* The stream is over: report it from the loop. */
static void
ts_end(struct tstream *s, const char *why)
{
	if (s->ended)
		return;
	s->ended = true;
	s->why = why;
	ts_interest(s);
	ts_kick(s);
}

static void
ts_shrink(struct tstream *s)
{
	if (s->out.len == 0 && s->out.cap > TSTREAM_KEEP) {
		size_t	 max = s->out.max;

		buf_deinit(&s->out);
		buf_init(&s->out, NULL, max);
	}
}

/* Start the handshake of a pending STARTTLS (out is empty). */
static void
ts_tls_begin(struct tstream *s)
{
	s->tls = tls_conn_new(s->tls_next, s->fd);
	s->tls_next = NULL;
	s->handshaking = true;
}

/* Handshake, then writing: as far as the socket allows. */
static void
ts_pump(struct tstream *s)
{
	const char	*error;
	ssize_t		 n;
	int		 r;

	if (s->ended || s->fd == -1)
		return;
	if (s->tls != NULL && s->handshaking) {
		r = tls_handshake(s->tls, &error);
		if (r == -1) {
			ts_end(s, error != NULL ? error : "TLS handshake failed");
			return;
		}
		if (r == 0) {
			ts_interest(s);
			return;
		}
		s->handshaking = false;
	}
	while (s->out.len > 0) {
		if (s->tls != NULL) {
			n = tls_write(s->tls, s->out.data, s->out.len, &error);
			if (n == -1) {
				ts_end(s, error != NULL ? error : "TLS write failed");
				return;
			}
			if (n == 0) {
				s->wwant = tls_want(s->tls);
				break;
			}
			s->wwant = 0;
			buf_consume(&s->out, (size_t)n);
		} else {
			if (sock_flush(s->fd, &s->out) == -1) {
				ts_end(s, errno == EPIPE || errno == ECONNRESET ?
				    NULL : "write failed");
				return;
			}
			break;
		}
	}
	ts_shrink(s);
	if (s->out.len == 0 && s->tls_next != NULL) {
		ts_tls_begin(s);
		ts_pump(s);
		return;
	}
	if (s->out.len == 0 && s->closing) {
		/* One try at close_notify: a client that does not read
		 * gets none. */
		if (s->tls != NULL && !s->handshaking &&
		    tls_shutdown(s->tls, &error) == -1)
			s->why = NULL;
		ts_end(s, NULL);
		return;
	}
	ts_interest(s);
}

/* Run a callback; false if the stream was freed meanwhile (the caller
 * must return at once). */
static bool
ts_call(struct tstream *s, int which)
{
	s->busy++;
	if (which == 0)
		s->cbs->on_input(s->ctx);
	else if (which == 1)
		s->cbs->on_drain(s->ctx);
	else
		s->cbs->on_close(s->ctx, s->why);
	s->busy--;
	if (s->freed && s->busy == 0) {
		buf_deinit(&s->out);
		free(s);
		return false;
	}
	return !s->freed;
}

static bool
ts_input_wanted(const struct tstream *s)
{
	return !s->ended && !s->paused && !s->closing && s->fd != -1 &&
	    s->tls_next == NULL && !(s->tls != NULL && s->handshaking);
}

static void
ts_dispatch(struct tstream *s, bool readable)
{
	if (s->ended) {
		(void)ts_call(s, 2);
		return;
	}
	if (s->drain_due && s->out.len < TSTREAM_LOW_WATER) {
		s->drain_due = false;
		if (s->cbs->on_drain != NULL && !ts_call(s, 1))
			return;
		if (s->ended) {
			(void)ts_call(s, 2);
			return;
		}
	}
	if (readable && ts_input_wanted(s)) {
		if (!ts_call(s, 0))
			return;
		if (s->ended) {
			(void)ts_call(s, 2);
			return;
		}
	}
	ts_interest(s);
}

static void
ts_io(void *ctx, int fd, unsigned events)
{
	struct tstream	*s = ctx;

	(void)fd;
	(void)events;
	ts_pump(s);
	/* Any event may make TLS readable (a write that wanted a read, a
	 * finished handshake with data behind it): let the owner try. */
	ts_dispatch(s, true);
}

static void
ts_kick_fire(void *ctx)
{
	struct tstream	*s = ctx;

	s->kick = NULL;
	ts_dispatch(s, true);
}

struct tstream *
tstream_new(struct ev *ev, int fd, struct tls_ctx *tls, size_t out_max,
    const struct tstream_cbs *cbs, void *ctx)
{
	struct tstream	*s = xcalloc(1, sizeof(*s));
	int		 saved, one = 1;

	/* Output is gathered in the queue and written in large pieces, so
	 * Nagle's algorithm only adds delay: with TLS a reply is several
	 * records (writes), and the second one would wait for the
	 * client's delayed ACK (40 ms on Linux). Not TCP: nothing to do. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->ev = ev;
	s->fd = fd;
	s->cbs = cbs;
	s->ctx = ctx;
	buf_init(&s->out, NULL, out_max);
	s->interest = EV_READ;
	if ((s->io = ev_io_add(ev, fd, EV_READ, ts_io, s)) == NULL) {
		saved = errno;
		(void)close(fd);
		buf_deinit(&s->out);
		free(s);
		errno = saved;
		return NULL;
	}
	if (tls != NULL) {
		s->tls_next = tls;
		ts_tls_begin(s);
		ts_interest(s);
	}
	return s;
}

void
tstream_free(struct tstream **sp)
{
	struct tstream	*s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	ts_release(s);
	if (s->busy > 0) {
		s->freed = true;
		return;
	}
	buf_deinit(&s->out);
	free(s);
}

ssize_t
tstream_read(struct tstream *s, void *p, size_t n)
{
	const char	*error;
	ssize_t		 r;

	if (s->ended)
		return -1;
	if (!ts_input_wanted(s) || n == 0)
		return 0;
	if (s->tls != NULL) {
		r = tls_read(s->tls, p, n, &error);
		if (r > 0) {
			s->rwant = 0;
			return r;
		}
		if (r == 0) {
			s->rwant = tls_want(s->tls);
			return 0;
		}
		ts_end(s, tls_closed(s->tls) ? NULL :
		    (error != NULL ? error : "TLS read failed"));
		return -1;
	}
	for (;;) {
		r = read(s->fd, p, n);
		if (r > 0)
			return r;
		if (r == 0) {
			ts_end(s, NULL);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		ts_end(s, errno == ECONNRESET ? NULL : "read failed");
		return -1;
	}
}

int
tstream_write(struct tstream *s, const void *p, size_t n)
{
	if (buf_append(&s->out, p, n) != 0)
		return -1;
	if (s->out.len >= TSTREAM_LOW_WATER)
		s->drain_due = true;
	return 0;
}

int
tstream_printf(struct tstream *s, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	if (r != 0)
		return -1;
	if (s->out.len >= TSTREAM_LOW_WATER)
		s->drain_due = true;
	return 0;
}

void
tstream_flush(struct tstream *s)
{
	ts_pump(s);
	/* Drained at once: on_drain still runs, from the loop. */
	if (s->out.len < TSTREAM_LOW_WATER && s->drain_due)
		ts_kick(s);
	ts_interest(s);
}

size_t
tstream_pending(const struct tstream *s)
{
	return s->out.len;
}

void
tstream_pause_input(struct tstream *s, bool paused)
{
	if (s->paused == paused)
		return;
	s->paused = paused;
	ts_interest(s);
	/* Decrypted bytes may wait inside TLS with the socket quiet, or
	 * plaintext may wait in the kernel from before the pause (epoll
	 * is level-triggered: that wakes us anyway). */
	if (!paused && s->tls != NULL && tls_pending(s->tls) > 0)
		ts_kick(s);
}

ssize_t
tstream_starttls(struct tstream *s, struct tls_ctx *tls)
{
	char	 junk[4096];
	ssize_t	 r, total = 0;

	if (s->tls != NULL || s->tls_next != NULL)
		return -1;
	/* Whatever the client already sent in plaintext is dropped. */
	for (;;) {
		r = read(s->fd, junk, sizeof(junk));
		if (r > 0) {
			total += r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		break;
	}
	explicit_bzero(junk, sizeof(junk));
	s->tls_next = tls;
	ts_interest(s);
	return total;
}

void
tstream_close_after_flush(struct tstream *s)
{
	if (s->closing)
		return;
	s->closing = true;
	ts_pump(s);
	ts_interest(s);
}

bool
tstream_is_tls(const struct tstream *s)
{
	return s->tls != NULL && !s->handshaking;
}

bool
tstream_tls_started(const struct tstream *s)
{
	return s->tls != NULL || s->tls_next != NULL;
}

const char *
tstream_tls_desc(struct tstream *s)
{
	if (s->tls == NULL || s->handshaking)
		return "plain";
	(void)snprintf(s->desc, sizeof(s->desc), "%s %s",
	    tls_version_get(s->tls), tls_cipher_get(s->tls));
	return s->desc;
}

int
tstream_fd(const struct tstream *s)
{
	return s->fd;
}
