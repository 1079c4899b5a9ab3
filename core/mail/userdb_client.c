/* userdb_client.c - pipelined userdb lookups over one UNIX socket; see
 * aviary/userdb_client.h.
 *
 * Failures are never guessed into "not found": anything unexpected
 * (connection refused or lost, a FAIL, a malformed reply, a timeout)
 * becomes a temporary failure, so that delivery answers 4xx and Postfix
 * retries. Callbacks always run from the loop (a zero-delay timer when
 * the answer is known at once), so a caller never sees its callback
 * re-entered from inside userdb_lookup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/lineio.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/sock.h"
#include "aviary/str.h"
#include "aviary/userdb_client.h"

#define UDB_LINE_MAX	8192

struct userdb_req {
	struct userdb_client	*c;
	struct userdb_req	*prev, *next;
	uint32_t		 id;
	userdb_cb		*cb;
	void			*ctx;
	struct ev_timer		*timer;
	bool			 sent;
	char			 line[ADDR_MAX + 64];
};

struct userdb_client {
	struct ev		*ev;
	char			*path;
	uint64_t		 timeout_ms;
	int			 fd;
	struct ev_io		*io;
	struct buf		 in, out;
	uint32_t		 next_id;
	struct userdb_req	*reqs;
};

static void udb_disconnect(struct userdb_client *c, const char *why);

static void
req_unlink(struct userdb_req *r)
{
	struct userdb_client	*c = r->c;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	ev_timer_del(&r->timer);
}

static void
req_finish(struct userdb_req *r, int status, const struct userdb_reply *rep)
{
	userdb_cb	*cb = r->cb;
	void		*ctx = r->ctx;

	req_unlink(r);
	free(r);
	cb(ctx, status, rep);
}

static void
req_on_timeout(void *arg)
{
	struct userdb_req	*r = arg;

	r->timer = NULL;
	log_warn("userdb: no answer from aviary-auth in time");
	req_finish(r, -1, NULL);
}

static void
udb_fail_all(struct userdb_client *c)
{
	while (c->reqs != NULL)
		req_finish(c->reqs, -1, NULL);
}

static void
udb_parse_fields(struct str rest, struct userdb_reply *rep)
{
	struct str	 field, name, value;
	uint64_t	 v;

	rep->active = true;
	while (rest.len > 0) {
		(void)str_split(rest, '\t', &field, &rest);
		if (!str_split(field, '=', &name, &value))
			continue;
		/* Values are tab-escaped; the fields we read (paths under
		 * the mail root, numbers) never need escaping, and a value
		 * that contains the escape byte is refused below. */
		if (memchr(value.p, '\001', value.len) != NULL)
			continue;
		if (str_eq_cstr(name, "home") && value.len < sizeof(rep->home)) {
			memcpy(rep->home, value.p, value.len);
			rep->home[value.len] = '\0';
		} else if (str_eq_cstr(name, "quota_rule") &&
		    str_has_prefix(value, "*:bytes=") &&
		    str_to_u64((struct str){ value.p + 8, value.len - 8 },
		    &v) == 0) {
			rep->quota_bytes = v;
		} else if (str_eq_cstr(name, "quota_rule2") &&
		    str_has_prefix(value, "*:messages=") &&
		    str_to_u64((struct str){ value.p + 11, value.len - 11 },
		    &v) == 0) {
			rep->quota_messages = v;
		} else if (str_eq_cstr(name, "active")) {
			rep->active = !str_eq_cstr(value, "0");
		}
	}
}

static void
udb_line(struct userdb_client *c, struct str line)
{
	struct str		 verb, rest, idstr, user;
	struct userdb_req	*r;
	struct userdb_reply	 rep;
	uint64_t		 id;

	(void)str_split(line, '\t', &verb, &rest);
	if (str_eq_cstr(verb, "VERSION") || str_eq_cstr(verb, "SPID"))
		return;
	(void)str_split(rest, '\t', &idstr, &rest);
	if (str_to_u64(idstr, &id) == -1)
		return;
	for (r = c->reqs; r != NULL && r->id != id; r = r->next)
		;
	if (r == NULL)
		return;		/* cancelled or timed out meanwhile */
	if (str_eq_cstr(verb, "NOTFOUND")) {
		req_finish(r, 0, NULL);
		return;
	}
	if (!str_eq_cstr(verb, "USER")) {
		req_finish(r, -1, NULL);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	(void)str_split(rest, '\t', &user, &rest);
	if (user.len == 0 || user.len > ADDR_MAX) {
		req_finish(r, -1, NULL);
		return;
	}
	memcpy(rep.user, user.p, user.len);
	rep.user[user.len] = '\0';
	udb_parse_fields(rest, &rep);
	if (rep.home[0] != '/') {
		log_error("userdb: reply for %s without an absolute home",
		    rep.user);
		req_finish(r, -1, NULL);
		return;
	}
	req_finish(r, 1, &rep);
}

/* lineio callback: nonzero once the connection is gone. */
static int
udb_on_line(void *arg, struct str line)
{
	struct userdb_client	*c = arg;

	udb_line(c, line);
	return c->fd == -1;
}

static void
udb_on_io(void *arg, int fd, unsigned events)
{
	struct userdb_client	*c = arg;

	if (events & EV_WRITE) {
		if (sock_flush(fd, &c->out) == -1) {
			udb_disconnect(c, "write failed");
			return;
		}
	}
	if (events & EV_READ) {
		switch (lineio_read(fd, &c->in, udb_on_line, c)) {
		case LINEIO_AGAIN:
			break;
		case LINEIO_EOF:
			udb_disconnect(c, "aviary-auth closed the connection");
			return;
		case LINEIO_ERROR:
			udb_disconnect(c, "read failed");
			return;
		case LINEIO_TOO_LONG:
			udb_disconnect(c, "reply line too long");
			return;
		case LINEIO_STOPPED:
			return;
		}
	}
	if (c->io != NULL && ev_io_mod(c->io, EV_READ |
	    (c->out.len > 0 ? EV_WRITE : 0)) == -1)
		udb_disconnect(c, "epoll failed");
}

static void
udb_disconnect(struct userdb_client *c, const char *why)
{
	if (c->fd == -1)
		return;
	log_warn("userdb: %s (%s)", why, c->path);
	ev_io_del(&c->io);
	(void)close(c->fd);
	c->fd = -1;
	buf_clear(&c->in);
	buf_clear(&c->out);
	udb_fail_all(c);
}

static int
udb_connect(struct userdb_client *c)
{
	struct userdb_req	*r;

	c->fd = sock_unix_connect(c->path);
	if (c->fd == -1) {
		log_warn("userdb: cannot connect to %s: %m", c->path);
		return -1;
	}
	if (sock_set_nonblock(c->fd, true) == -1 ||
	    (c->io = ev_io_add(c->ev, c->fd, EV_READ | EV_WRITE, udb_on_io,
	    c)) == NULL) {
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	if (buf_append_str(&c->out, "VERSION\t1\t1\n") != 0)
		return -1;
	for (r = c->reqs; r != NULL; r = r->next)
		r->sent = false;
	return 0;
}

static void
req_on_now(void *arg)
{
	struct userdb_req	*r = arg;

	r->timer = NULL;
	req_finish(r, -1, NULL);
}

struct userdb_req *
userdb_lookup(struct userdb_client *c, const char *user, const char *service,
    userdb_cb *cb, void *ctx)
{
	struct userdb_req	*r = xcalloc(1, sizeof(*r));
	int			 n;

	r->c = c;
	r->cb = cb;
	r->ctx = ctx;
	r->id = ++c->next_id ? c->next_id : ++c->next_id;
	r->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	n = snprintf(r->line, sizeof(r->line), "USER\t%u\t%s\tservice=%s\n",
	    r->id, user, service);
	if (n < 0 || (size_t)n >= sizeof(r->line) ||
	    strpbrk(user, "\t\n\r") != NULL ||
	    (c->fd == -1 && udb_connect(c) == -1) ||
	    buf_append(&c->out, r->line, (size_t)n) != 0 ||
	    ev_io_mod(c->io, EV_READ | EV_WRITE) == -1) {
		/* Answer "temporary failure" from the loop, not from here. */
		r->timer = ev_timer_add(c->ev, 0, req_on_now, r);
		return r;
	}
	r->sent = true;
	r->timer = ev_timer_add(c->ev, c->timeout_ms, req_on_timeout, r);
	return r;
}

void
userdb_cancel(struct userdb_req **rp)
{
	struct userdb_req	*r = *rp;

	if (r == NULL)
		return;
	req_unlink(r);
	free(r);
	*rp = NULL;
}

struct userdb_client *
userdb_client_create(struct ev *ev, const char *path, uint64_t timeout_ms)
{
	struct userdb_client	*c = xcalloc(1, sizeof(*c));

	c->ev = ev;
	c->path = xstrdup(path);
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	buf_init(&c->in, NULL, UDB_LINE_MAX);
	buf_init(&c->out, NULL, 1024 * 1024);
	return c;
}

void
userdb_client_destroy(struct userdb_client **cp)
{
	struct userdb_client	*c = *cp;
	struct userdb_req	*r;

	if (c == NULL)
		return;
	while ((r = c->reqs) != NULL)
		userdb_cancel(&r);
	if (c->fd != -1) {
		ev_io_del(&c->io);
		(void)close(c->fd);
	}
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	free(c->path);
	free(c);
	*cp = NULL;
}
