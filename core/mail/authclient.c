/* authclient.c - pipelined SASL requests over one connection to
 * aviary-auth's client socket; see aviary/authclient.h.
 *
 * A request is QUEUED until the connection's handshake is done, then
 * SENT (its timer runs), then, after a CONT, with the USER (no timer)
 * until authclient_continue sends the answer. Anything unexpected on
 * the connection (refused, lost, a malformed line, no DONE in time)
 * ends every request in TEMP. Results that are known without a server
 * line (TEMP after a disconnect, argument errors) are delivered from a
 * zero-delay timer, so callbacks never re-enter the caller and the
 * request list is never walked while callbacks change it.
 *
 * The output buffer, the input buffer and every copy of a payload are
 * secret (cleared when released); nothing logged carries a payload. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aviary/authclient.h"
#include "aviary/base64.h"
#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/lineio.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/sock.h"
#include "aviary/str.h"

#define AC_LINE_MAX	16384	/* the server's limit on our lines */
#define AC_IN_MAX	(64 * 1024)
#define AC_MECH_MAX	16
#define AC_NAME_MAX	32
#define AC_USER_MAX	1024
#define AC_REASON_MAX	1024

enum req_state {
	REQ_QUEUED,		/* waiting for the handshake */
	REQ_SENT,		/* waiting for the server */
	REQ_USER,		/* CONTINUE delivered, waiting for the caller */
	REQ_DONE,		/* result pending on a zero timer */
};

struct authclient_req {
	struct authclient	*c;
	struct authclient_req	*prev, *next;
	uint32_t		 id;
	enum req_state		 state;
	authclient_cb		*cb;
	void			*ctx;
	struct ev_timer		*timer;
	/* the result of REQ_DONE */
	enum authclient_event	 late_event;
	const char		*late_reason;
	/* The AUTH line until it is sent (secret: it holds resp=). */
	struct buf		 line;
	char			 mech[AC_NAME_MAX + 1];
};

struct authclient {
	struct ev		*ev;
	char			*path;
	uint64_t		 timeout_ms;
	int			 fd;
	struct ev_io		*io;
	struct buf		 in, out;
	bool			 ready;		/* server's DONE seen */
	uint32_t		 next_id;
	struct authclient_req	*reqs;
	char			 mechs[AC_MECH_MAX][AC_NAME_MAX + 1];
	unsigned		 nmechs;
	uint64_t		 spid;
	char			 cookie[65];
};

static void ac_disconnect(struct authclient *c, const char *why);

static void
req_unlink(struct authclient_req *r)
{
	struct authclient	*c = r->c;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	ev_timer_del(&r->timer);
}

static void
req_free(struct authclient_req *r)
{
	req_unlink(r);
	buf_deinit(&r->line);
	free(r);
}

/* Deliver a final event and free the request. */
static void
req_finish(struct authclient_req *r, const struct authclient_reply *rep)
{
	authclient_cb	*cb = r->cb;
	void		*ctx = r->ctx;

	req_free(r);
	cb(ctx, rep);
}

static void
req_on_late(void *arg)
{
	struct authclient_req	*r = arg;
	struct authclient_reply	 rep;

	r->timer = NULL;
	memset(&rep, 0, sizeof(rep));
	rep.event = r->late_event;
	rep.reason = r->late_reason;
	req_finish(r, &rep);
}

/* End r with TEMP or FAIL (code none) from the loop. */
static void
req_finish_later(struct authclient_req *r, enum authclient_event event,
    const char *reason)
{
	ev_timer_del(&r->timer);
	buf_clear(&r->line);
	r->state = REQ_DONE;
	r->late_event = event;
	r->late_reason = reason;
	r->timer = ev_timer_add(r->c->ev, 0, req_on_late, r);
}

static void
ac_want_write(struct authclient *c)
{
	if (c->io != NULL && ev_io_mod(c->io, EV_READ |
	    (c->out.len > 0 ? EV_WRITE : 0)) == -1)
		ac_disconnect(c, "epoll failed");
}

/* Queue "CANCEL <id>" if the server may know the request. */
static void
req_send_cancel(struct authclient_req *r)
{
	struct authclient	*c = r->c;

	if (c->fd == -1 || !c->ready ||
	    (r->state != REQ_SENT && r->state != REQ_USER))
		return;
	if (buf_printf(&c->out, "CANCEL\t%u\n", r->id) != 0)
		return;		/* it times out on the server */
}

static void
req_on_timeout(void *arg)
{
	struct authclient_req	*r = arg;
	struct authclient	*c = r->c;

	r->timer = NULL;
	log_warn("auth: no answer from aviary-auth in time (%s)", c->path);
	if (!c->ready) {
		/* No handshake: the connection is useless. */
		req_finish_later(r, AUTHCLIENT_TEMP, NULL);
		ac_disconnect(c, "no handshake in time");
		return;
	}
	req_send_cancel(r);
	ac_want_write(c);
	req_finish_later(r, AUTHCLIENT_TEMP, NULL);
}

static void
req_arm(struct authclient_req *r)
{
	ev_timer_del(&r->timer);
	r->timer = ev_timer_add(r->c->ev, r->c->timeout_ms, req_on_timeout,
	    r);
}

/* Move a queued request's AUTH line to the output, or end it in FAIL
 * if the server does not offer its mechanism. */
static void
req_send(struct authclient_req *r)
{
	struct authclient	*c = r->c;

	if (!authclient_has_mech(c, r->mech)) {
		log_warn("auth: aviary-auth does not offer %s", r->mech);
		req_finish_later(r, AUTHCLIENT_FAIL,
		    "Unsupported authentication mechanism");
		return;
	}
	if (buf_append(&c->out, r->line.data, r->line.len) != 0) {
		req_finish_later(r, AUTHCLIENT_TEMP, NULL);
		return;
	}
	buf_clear(&r->line);
	r->state = REQ_SENT;
}

/* Dovecot's tab-unescaping (str_tabunescape) of v into out (outsz),
 * NUL-terminated. Returns false if it does not fit or holds a NUL. */
static bool
tab_unescape(struct str v, char *out, size_t outsz)
{
	size_t	 i, n = 0;
	char	 ch;

	for (i = 0; i < v.len; i++) {
		ch = v.p[i];
		if (ch == '\001') {
			if (++i == v.len)
				break;
			switch (v.p[i]) {
			case '0': ch = '\0'; break;
			case '1': ch = '\001'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'n': ch = '\n'; break;
			default: ch = v.p[i]; break;
			}
		}
		if (n + 1 >= outsz || ch == '\0')
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return true;
}

static enum authclient_code
parse_code(struct str v)
{
	if (str_eq_cstr(v, "temp_fail") || str_eq_cstr(v, "temp"))
		return AUTHCLIENT_CODE_TEMP_FAIL;
	if (str_eq_cstr(v, "authz_fail") || str_eq_cstr(v, "authz"))
		return AUTHCLIENT_CODE_AUTHZ_FAIL;
	if (str_eq_cstr(v, "user_disabled"))
		return AUTHCLIENT_CODE_USER_DISABLED;
	if (str_eq_cstr(v, "invalid_base64"))
		return AUTHCLIENT_CODE_INVALID_BASE64;
	if (str_eq_cstr(v, "pass_expired"))
		return AUTHCLIENT_CODE_PASS_EXPIRED;
	return AUTHCLIENT_CODE_NONE;
}

static void
ac_handshake_line(struct authclient *c, struct str verb, struct str rest)
{
	struct str	 a, b;
	uint64_t	 v;

	if (str_eq_cstr(verb, "VERSION")) {
		(void)str_split(rest, '\t', &a, &b);
		if (!str_eq_cstr(a, "1"))
			ac_disconnect(c, "unsupported protocol version");
	} else if (str_eq_cstr(verb, "MECH")) {
		(void)str_split(rest, '\t', &a, &b);
		if (a.len > 0 && a.len <= AC_NAME_MAX &&
		    c->nmechs < AC_MECH_MAX) {
			memcpy(c->mechs[c->nmechs], a.p, a.len);
			c->mechs[c->nmechs++][a.len] = '\0';
		}
	} else if (str_eq_cstr(verb, "SPID")) {
		if (str_to_u64(rest, &v) == 0)
			c->spid = v;
	} else if (str_eq_cstr(verb, "COOKIE")) {
		if (rest.len < sizeof(c->cookie)) {
			memcpy(c->cookie, rest.p, rest.len);
			c->cookie[rest.len] = '\0';
		}
	} else if (str_eq_cstr(verb, "DONE")) {
		struct authclient_req	*r, *next;

		c->ready = true;
		for (r = c->reqs; r != NULL; r = next) {
			next = r->next;
			if (r->state == REQ_QUEUED)
				req_send(r);
		}
	}
	/* CUID and anything unknown: ignored. */
}

static void
ac_cont(struct authclient_req *r, struct str data)
{
	struct authclient_reply	 rep;
	size_t			 max = BASE64_DECODED_MAX(data.len) + 1;
	unsigned char		*dec = xmalloc(max);
	long			 n;

	n = base64_decode(data.p, data.len, dec);
	if (n < 0) {
		xfree_secret(dec, max);
		log_error("auth: aviary-auth sent a malformed challenge");
		req_send_cancel(r);
		req_finish_later(r, AUTHCLIENT_TEMP, NULL);
		return;
	}
	dec[n] = '\0';
	ev_timer_del(&r->timer);
	r->state = REQ_USER;
	memset(&rep, 0, sizeof(rep));
	rep.event = AUTHCLIENT_CONTINUE;
	rep.data = dec;
	rep.len = (size_t)n;
	r->cb(r->ctx, &rep);
	xfree_secret(dec, max);
}

static void
ac_line(struct authclient *c, struct str line)
{
	struct str		 verb, rest, idstr, field, name, value;
	struct authclient_req	*r;
	struct authclient_reply	 rep;
	char			 user[AC_USER_MAX], reason[AC_REASON_MAX];
	bool			 has_user = false, has_reason = false;
	uint64_t		 id;

	(void)str_split(line, '\t', &verb, &rest);
	if (!c->ready) {
		ac_handshake_line(c, verb, rest);
		return;
	}
	(void)str_split(rest, '\t', &idstr, &rest);
	if (str_to_u64(idstr, &id) == -1)
		return;
	for (r = c->reqs; r != NULL && r->id != id; r = r->next)
		;
	if (r == NULL || r->state != REQ_SENT)
		return;		/* cancelled or timed out meanwhile */
	if (str_eq_cstr(verb, "CONT")) {
		(void)str_split(rest, '\t', &field, &rest);
		ac_cont(r, field);
		return;
	}
	if (!str_eq_cstr(verb, "OK") && !str_eq_cstr(verb, "FAIL"))
		return;
	memset(&rep, 0, sizeof(rep));
	while (rest.len > 0) {
		(void)str_split(rest, '\t', &field, &rest);
		if (!str_split(field, '=', &name, &value))
			continue;
		if (str_eq_cstr(name, "user"))
			has_user = tab_unescape(value, user, sizeof(user));
		else if (str_eq_cstr(name, "reason"))
			has_reason = tab_unescape(value, reason,
			    sizeof(reason));
		else if (str_eq_cstr(name, "code"))
			rep.code = parse_code(value);
	}
	if (str_eq_cstr(verb, "OK")) {
		explicit_bzero(reason, sizeof(reason));
		if (!has_user || user[0] == '\0') {
			log_error("auth: OK from aviary-auth without a user");
			req_finish_later(r, AUTHCLIENT_TEMP, NULL);
			return;
		}
		rep.event = AUTHCLIENT_OK;
		rep.code = AUTHCLIENT_CODE_NONE;
		rep.user = user;
	} else {
		rep.event = AUTHCLIENT_FAIL;
		rep.reason = has_reason ? reason : NULL;
	}
	req_finish(r, &rep);
	explicit_bzero(user, sizeof(user));
	explicit_bzero(reason, sizeof(reason));
}

/* lineio callback: nonzero once the connection is gone. */
static int
ac_on_line(void *arg, struct str line)
{
	struct authclient	*c = arg;

	ac_line(c, line);
	return c->fd == -1;
}

static void
ac_on_io(void *arg, int fd, unsigned events)
{
	struct authclient	*c = arg;

	if (events & EV_WRITE) {
		if (sock_flush(fd, &c->out) == -1) {
			ac_disconnect(c, "write failed");
			return;
		}
	}
	if (events & EV_READ) {
		switch (lineio_read(fd, &c->in, ac_on_line, c)) {
		case LINEIO_AGAIN:
		case LINEIO_STOPPED:
			break;
		case LINEIO_EOF:
			ac_disconnect(c, "aviary-auth closed the connection");
			break;
		case LINEIO_ERROR:
			ac_disconnect(c, "read failed");
			break;
		case LINEIO_TOO_LONG:
			ac_disconnect(c, "reply line too long");
			break;
		}
		if (c->fd == -1)
			return;
	}
	ac_want_write(c);
}

static void
ac_disconnect(struct authclient *c, const char *why)
{
	struct authclient_req	*r;

	if (c->fd == -1)
		return;
	log_warn("auth: %s (%s)", why, c->path);
	ev_io_del(&c->io);
	(void)close(c->fd);
	c->fd = -1;
	c->ready = false;
	c->nmechs = 0;
	c->spid = 0;
	c->cookie[0] = '\0';
	buf_clear(&c->in);
	buf_clear(&c->out);
	for (r = c->reqs; r != NULL; r = r->next)
		if (r->state != REQ_DONE)
			req_finish_later(r, AUTHCLIENT_TEMP, NULL);
}

static int
ac_connect(struct authclient *c)
{
	c->fd = sock_unix_connect(c->path);
	if (c->fd == -1) {
		log_warn("auth: cannot connect to %s: %m", c->path);
		return -1;
	}
	if (sock_set_nonblock(c->fd, true) == -1 ||
	    (c->io = ev_io_add(c->ev, c->fd, EV_READ | EV_WRITE, ac_on_io,
	    c)) == NULL) {
		log_warn("auth: cannot watch %s: %m", c->path);
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->ready = false;
	c->nmechs = 0;
	if (buf_printf(&c->out, "VERSION\t1\t2\nCPID\t%ld\n",
	    (long)getpid()) != 0) {
		ac_disconnect(c, "output buffer full");
		return -1;
	}
	return 0;
}

static bool
is_token(const char *s, size_t max)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > max)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.") == n;
}

static int
append_field(struct buf *b, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	if (strpbrk(value, "\t\r\n\001") != NULL) {
		log_warn("auth: %s with a control character left out", name);
		return 0;
	}
	return buf_printf(b, "\t%s=%s", name, value);
}

static int
build_auth_line(struct authclient_req *r, const char *service,
    const struct authclient_info *info, const void *resp, size_t resp_len)
{
	struct buf	*b = &r->line;
	char		*enc;
	size_t		 enclen;
	int		 rc;

	if (buf_printf(b, "AUTH\t%u\t%s\tservice=%s", r->id, r->mech,
	    service) != 0)
		return -1;
	if (info != NULL) {
		if (append_field(b, "lip", info->lip) != 0 ||
		    append_field(b, "rip", info->rip) != 0 ||
		    (info->lport != 0 && buf_printf(b, "\tlport=%u",
		    (unsigned)info->lport) != 0) ||
		    (info->rport != 0 && buf_printf(b, "\trport=%u",
		    (unsigned)info->rport) != 0) ||
		    (info->secured && buf_append_str(b, "\tsecured") != 0) ||
		    append_field(b, "session", info->session) != 0)
			return -1;
	}
	if (resp != NULL) {
		if (resp_len > AC_LINE_MAX)
			return -1;
		enclen = BASE64_ENCODED_LEN(resp_len) + 1;
		enc = xmalloc(enclen);
		base64_encode(resp, resp_len, enc);
		rc = buf_printf(b, "\tresp=%s", enc);
		xfree_secret(enc, enclen);
		if (rc != 0)
			return -1;
	}
	/* The server refuses lines over AC_LINE_MAX (with the LF). */
	if (buf_append_c(b, '\n') != 0)
		return -1;
	return 0;
}

struct authclient_req *
authclient_begin(struct authclient *c, const char *mech, const char *service,
    const struct authclient_info *info, const void *resp, size_t resp_len,
    authclient_cb *cb, void *ctx)
{
	struct authclient_req	*r = xcalloc(1, sizeof(*r));

	r->c = c;
	r->cb = cb;
	r->ctx = ctx;
	r->state = REQ_QUEUED;
	r->id = ++c->next_id ? c->next_id : ++c->next_id;
	buf_init_secret(&r->line, AC_LINE_MAX);
	r->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	if (is_token(mech, AC_NAME_MAX))
		memcpy(r->mech, mech, strlen(mech) + 1);
	if (r->mech[0] == '\0' || !is_token(service, AC_NAME_MAX) ||
	    build_auth_line(r, service, info, resp, resp_len) != 0) {
		log_warn("auth: invalid request (mechanism, service or "
		    "response length)");
		req_finish_later(r, AUTHCLIENT_FAIL, NULL);
		return r;
	}
	if (c->fd == -1 && ac_connect(c) == -1) {
		req_finish_later(r, AUTHCLIENT_TEMP, NULL);
		return r;
	}
	req_arm(r);
	if (c->ready)
		req_send(r);
	ac_want_write(c);
	return r;
}

void
authclient_continue(struct authclient_req *r, const void *data, size_t len)
{
	struct authclient	*c = r->c;
	char			*enc;
	size_t			 enclen, before = c->out.len;
	int			 rc;

	if (r->state != REQ_USER) {
		log_error("auth: continue without a challenge");
		if (r->state != REQ_DONE) {
			req_send_cancel(r);
			req_finish_later(r, AUTHCLIENT_FAIL, NULL);
		}
		return;
	}
	if (c->fd == -1 || len > AC_LINE_MAX) {
		req_finish_later(r, c->fd == -1 ? AUTHCLIENT_TEMP :
		    AUTHCLIENT_FAIL, NULL);
		return;
	}
	enclen = BASE64_ENCODED_LEN(len) + 1;
	enc = xmalloc(enclen);
	base64_encode(data != NULL ? data : "", len, enc);
	rc = buf_printf(&c->out, "CONT\t%u\t%s\n", r->id, enc);
	xfree_secret(enc, enclen);
	if (rc != 0 || c->out.len - before > AC_LINE_MAX) {
		buf_truncate(&c->out, before);
		req_send_cancel(r);
		req_finish_later(r, AUTHCLIENT_FAIL, NULL);
		ac_want_write(c);
		return;
	}
	r->state = REQ_SENT;
	req_arm(r);
	ac_want_write(c);
}

void
authclient_cancel(struct authclient_req **rp)
{
	struct authclient_req	*r = *rp;

	if (r == NULL)
		return;
	req_send_cancel(r);
	ac_want_write(r->c);
	req_free(r);
	*rp = NULL;
}

bool
authclient_has_mech(const struct authclient *c, const char *mech)
{
	unsigned	 i;

	for (i = 0; i < c->nmechs; i++)
		if (strcasecmp(c->mechs[i], mech) == 0)
			return true;
	return false;
}

const char *
authclient_cookie(const struct authclient *c)
{
	return c->ready && c->cookie[0] != '\0' ? c->cookie : NULL;
}

uint64_t
authclient_spid(const struct authclient *c)
{
	return c->ready ? c->spid : 0;
}

long
authclient_plain_response(const char *user, const char *password, void *out,
    size_t outsz)
{
	size_t		 ul = strlen(user), pl = strlen(password);
	char		*p = out;

	if (outsz < ul + pl + 2 || ul + pl + 2 > (size_t)LONG_MAX) {
		explicit_bzero(out, outsz);
		return -1;
	}
	p[0] = '\0';
	memcpy(p + 1, user, ul);
	p[1 + ul] = '\0';
	memcpy(p + 2 + ul, password, pl);
	return (long)(ul + pl + 2);
}

struct authclient *
authclient_create(struct ev *ev, const char *socket_path, uint64_t timeout_ms)
{
	struct authclient	*c = xcalloc(1, sizeof(*c));

	c->ev = ev;
	c->path = xstrdup(socket_path);
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	buf_init_secret(&c->in, AC_IN_MAX);
	buf_init_secret(&c->out, 4 * 1024 * 1024);
	return c;
}

void
authclient_destroy(struct authclient **cp)
{
	struct authclient	*c = *cp;

	if (c == NULL)
		return;
	while (c->reqs != NULL)
		req_free(c->reqs);
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
