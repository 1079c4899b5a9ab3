/* client_conn.c - the Dovecot auth protocol, server side, on the client
 * socket: Postfix (smtpd_sasl_type = dovecot) and Aviary's own IMAP and
 * POP3 logins. protocols.md section 1 has the wire facts this follows.
 *
 * A connection carries many requests at once, keyed by the client's id.
 * A request moves through: WAIT_CONT (a SASL challenge is out) ->
 * PENALTY (brute-force delay) -> WORKER (SQL and hashing on a pool
 * thread) -> DELAY (the failure delay before FAIL) or the OK reply. Each
 * waiting state has its own timer; the loop never blocks. A request the
 * client abandons (Postfix after an SMTP '*') times out quietly.
 *
 * Temporary failures (SQL down and nothing cached): clients that speak
 * minor version 1 or later (Dovecot's lib-auth, Aviary's logins) get
 * FAIL code=temp_fail. Postfix announces minor 0 and turns every FAIL
 * into "535 authentication failed", so for it the connection is closed
 * instead: that is the one way to make Postfix answer 454 (temporary)
 * and the client retry later rather than give up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "authd.h"
#include "authproto.h"
#include "mech.h"
#include "pool.h"
#include "aviary/base64.h"
#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/lru.h"
#include "aviary/mem.h"
#include "aviary/sock.h"
#include "aviary/str.h"

enum req_state { R_WAIT_CONT, R_PENALTY, R_WORKER, R_DELAY };

struct cconn;

struct creq {
	struct cconn		*c;
	struct creq		*next;
	uint32_t		 id;
	enum req_state		 state;
	struct mech_state	 mech;
	struct ev_timer		*timer;
	struct job		*job;		/* owned by the pool */
	char			 login[ADDR_MAX + 1];
	char			 password[PASSWORD_MAX];	/* PENALTY only */
	unsigned char		 fp[AUTH_FP_LEN];
	char			 ip_key[64];	/* "ip:<addr>", "" if none */
	char			 rip[48];
	char			 service[32];
	bool			 exempt;	/* trusted network / no-penalty */
	const char		*fail_code;	/* static */
};

struct cconn {
	struct authd	*d;
	struct cconn	*prev, *next;	/* d->cconns */
	int		 fd;
	struct ev_io	*io;
	struct buf	 in, out;
	bool		 got_version, handshake_done, closing, dead;
	unsigned	 minor;
	struct creq	*reqs;
	unsigned	 nreqs;
};

static void cconn_close(struct cconn *c, const char *why);
static void cconn_flush(struct cconn *c);

static void
creq_free(struct creq *r)
{
	struct cconn	*c = r->c;
	struct creq	**pp;

	for (pp = &c->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			c->nreqs--;
			break;
		}
	if (r->job != NULL)
		r->job->cancelled = true;
	if (r->state != R_WORKER)
		ev_timer_del(&r->timer);
	explicit_bzero(r, sizeof(*r));
	free(r);
}

static struct creq *
creq_find(struct cconn *c, uint32_t id)
{
	struct creq	*r;

	for (r = c->reqs; r != NULL; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* Queue a line; a client that does not read its replies is dropped. */
static void
cconn_send(struct cconn *c, const char *fmt, ...) AV_PRINTFLIKE(2, 3);

static void
cconn_send(struct cconn *c, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	if (c->dead)
		return;
	va_start(ap, fmt);
	r = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (r != 0) {
		log_warn("auth: client not reading its replies; closing");
		c->closing = true;
		c->dead = true;
	}
}

static void
log_result(const struct creq *r, const char *what, const char *why)
{
	log_info("auth %s: user=<%s>, mech=%s, service=%s, rip=%s%s%s", what,
	    r->login[0] ? r->login : "?", mech_name(r->mech.kind),
	    r->service, r->rip[0] ? r->rip : "-", why ? ", reason=" : "",
	    why ? why : "");
}

static void
creq_send_fail(struct creq *r)
{
	struct cconn	*c = r->c;

	cconn_send(c, "FAIL\t%u%s%s\treason=Authentication failed\n", r->id,
	    r->fail_code ? "\tcode=" : "", r->fail_code ? r->fail_code : "");
	creq_free(r);
	cconn_flush(c);
}

static void
creq_on_delay(void *ctx)
{
	struct creq	*r = ctx;

	r->timer = NULL;	/* fired: the loop frees it */
	creq_send_fail(r);
}

/* A failed login: answer FAIL after the failure delay, without blocking
 * the other requests of the connection. */
static void
creq_fail(struct creq *r, const char *code, const char *why)
{
	uint64_t	 delay = r->c->d->cfg->auth.failure_delay * 1000;

	r->c->d->n_fail++;
	log_result(r, "failed", why);
	r->fail_code = code;
	explicit_bzero(r->password, sizeof(r->password));
	if (delay == 0) {
		creq_send_fail(r);
		return;
	}
	r->state = R_DELAY;
	ev_timer_del(&r->timer);
	r->timer = ev_timer_add(r->c->d->ev, delay, creq_on_delay, r);
}

static void
creq_ok(struct creq *r, const char *user)
{
	struct cconn	*c = r->c;
	struct buf	 esc;

	c->d->n_ok++;
	log_result(r, "ok", NULL);
	buf_init(&esc, NULL, 2 * ADDR_MAX + 2);
	if (authproto_escape(&esc, user, strlen(user)) == 0)
		cconn_send(c, "OK\t%u\tuser=%s\n", r->id, buf_cstr(&esc));
	else
		cconn_send(c, "FAIL\t%u\tcode=temp_fail\treason=Internal error\n",
		    r->id);
	buf_deinit(&esc);
	creq_free(r);
	cconn_flush(c);
}

static void
creq_temp(struct creq *r)
{
	struct cconn	*c = r->c;

	c->d->n_temp++;
	log_result(r, "temporary failure", "user database unavailable");
	if (c->minor >= 1) {
		cconn_send(c, "FAIL\t%u\tcode=temp_fail\treason=Temporary "
		    "authentication failure.\n", r->id);
		creq_free(r);
		cconn_flush(c);
		return;
	}
	/* Postfix: closing is how to get a 454 instead of a 535. */
	cconn_close(c, "temporary failure for a Postfix client");
}

static bool
cache_fp_match(const struct cache_entry *e, const unsigned char *fp)
{
	return e != NULL && e->verified_at != 0 &&
	    str_ct_eq(e->fp, AUTH_FP_LEN, fp, AUTH_FP_LEN);
}

static void
creq_on_job(struct job *j, void *ctx)
{
	struct creq		*r = ctx;
	struct authd		*d = r->c->d;
	struct cache_entry	*e;
	uint64_t		 now = ev_now_ms();

	r->job = NULL;
	switch (j->status) {
	case JOB_OK:
		e = lru_put(d->cache, r->login, NULL);
		if (e != NULL) {
			memset(e, 0, sizeof(*e));
			memcpy(e->user, j->user, sizeof(e->user));
			memcpy(e->stored, j->stored, sizeof(e->stored));
			memcpy(e->fp, r->fp, AUTH_FP_LEN);
			e->verified_at = now ? now : 1;
		}
		if (!r->exempt)
			authd_penalty_clear(d, r->ip_key[0] ? r->ip_key : NULL,
			    r->login);
		creq_ok(r, j->user);
		return;
	case JOB_NOTFOUND:
		e = lru_put(d->cache, r->login, NULL);
		if (e != NULL) {
			memset(e, 0, sizeof(*e));
			e->notfound_at = now ? now : 1;
		}
		break;
	case JOB_MISMATCH:
		/* A cached login whose password no longer verifies: the
		 * password changed. Forget it. */
		if (cache_fp_match(lru_get(d->cache, r->login), r->fp))
			(void)lru_del(d->cache, r->login);
		break;
	case JOB_DISABLED:
		(void)lru_del(d->cache, r->login);
		break;
	case JOB_TEMP:
		e = lru_get(d->cache, r->login);
		if (cache_fp_match(e, r->fp) &&
		    now - e->verified_at < d->cfg->auth.stale_ttl * 1000) {
			log_warn("auth: user database unavailable; %s verified "
			    "from the cache", r->login);
			creq_ok(r, e->user);
			return;
		}
		creq_temp(r);
		return;
	}
	if (!r->exempt)
		authd_penalty_fail(d, r->ip_key[0] ? r->ip_key : NULL, r->login,
		    r->fp);
	creq_fail(r, j->status == JOB_DISABLED ? "user_disabled" : NULL, j->why);
}

static void
creq_submit(struct creq *r)
{
	struct authd		*d = r->c->d;
	struct cache_entry	*e = lru_get(d->cache, r->login);
	uint64_t		 now = ev_now_ms();
	struct job		*j;

	if (e != NULL && e->notfound_at != 0 &&
	    now - e->notfound_at < d->cfg->auth.negative_ttl * 1000) {
		explicit_bzero(r->password, sizeof(r->password));
		if (!r->exempt)
			authd_penalty_fail(d, r->ip_key[0] ? r->ip_key : NULL,
			    r->login, r->fp);
		creq_fail(r, NULL, "unknown user (cached)");
		return;
	}
	j = job_new(JOB_PASSDB);
	memcpy(j->login, r->login, sizeof(j->login));
	memcpy(j->password, r->password, sizeof(j->password));
	explicit_bzero(r->password, sizeof(r->password));
	if (cache_fp_match(e, r->fp) &&
	    now - e->verified_at < d->cfg->auth.cache_ttl * 1000 &&
	    e->stored[0] != '\0') {
		j->has_cached = true;
		memcpy(j->cached, e->stored, sizeof(j->cached));
	}
	j->done = creq_on_job;
	j->ctx = r;
	r->job = j;
	r->state = R_WORKER;
	pool_submit(d->pool, j);
}

static void
creq_on_penalty(void *ctx)
{
	struct creq	*r = ctx;

	r->timer = NULL;
	creq_submit(r);
}

/* The mechanism produced credentials: check them. */
static void
creq_verify(struct creq *r, const char *user, const char *password)
{
	struct authd	*d = r->c->d;
	const char	*why;
	uint64_t	 delay;

	if (addr_normalize(user, r->login, NULL, NULL, &why) == -1) {
		(void)snprintf(r->login, sizeof(r->login), "%.64s", user);
		authd_fingerprint(d, r->login, password, r->fp);
		if (!r->exempt)
			authd_penalty_fail(d, r->ip_key[0] ? r->ip_key : NULL,
			    r->login, r->fp);
		creq_fail(r, NULL, why);
		return;
	}
	authd_fingerprint(d, r->login, password, r->fp);
	(void)snprintf(r->password, sizeof(r->password), "%s", password);
	delay = r->exempt ? 0 : authd_penalty_delay(d,
	    r->ip_key[0] ? r->ip_key : NULL, r->login);
	if (delay > 0) {
		r->state = R_PENALTY;
		ev_timer_del(&r->timer);
		r->timer = ev_timer_add(d->ev, delay, creq_on_penalty, r);
		return;
	}
	ev_timer_del(&r->timer);
	creq_submit(r);
}

static void
creq_on_timeout(void *ctx)
{
	struct creq	*r = ctx;
	struct cconn	*c = r->c;

	r->timer = NULL;
	cconn_send(c, "FAIL\t%u\treason=Authentication request timed out\n",
	    r->id);
	creq_free(r);
	cconn_flush(c);
}

/* Feed client data (decoded) to the mechanism and act on the result. */
static void
creq_step(struct creq *r, const char *data, size_t len, bool has_data)
{
	char			 user[MECH_USER_MAX + 1];
	char			 password[PASSWORD_MAX];
	const char		*challenge = NULL, *why = NULL;
	char			 b64[BASE64_ENCODED_LEN(64) + 1];
	enum mech_result	 mr;

	mr = mech_step(&r->mech, data, len, has_data, &challenge, user,
	    password, &why);
	switch (mr) {
	case MECH_CONTINUE:
		base64_encode(challenge, strlen(challenge), b64);
		/* The payload field is always present, even empty. */
		cconn_send(r->c, "CONT\t%u\t%s\n", r->id, b64);
		r->state = R_WAIT_CONT;
		ev_timer_del(&r->timer);
		r->timer = ev_timer_add(r->c->d->ev,
		    r->c->d->cfg->auth.request_timeout * 1000, creq_on_timeout,
		    r);
		break;
	case MECH_DONE:
		creq_verify(r, user, password);
		break;
	case MECH_AUTHZ_FAIL:
		creq_fail(r, "authz_fail", why);
		break;
	case MECH_FAIL:
		creq_fail(r, NULL, why);
		break;
	}
	explicit_bzero(password, sizeof(password));
}

/* Decode base64 client data; false (and a FAIL) when malformed. */
static bool
creq_decode(struct creq *r, struct str b64, char *out, size_t *len_r)
{
	long	 n = base64_decode(b64.p, b64.len, out);

	if (n < 0) {
		creq_fail(r, "invalid_base64", "malformed base64");
		return false;
	}
	*len_r = (size_t)n;
	return true;
}

static int
cconn_auth(struct cconn *c, const struct authproto_args *a)
{
	struct authd		*d = c->d;
	struct authproto_auth	 p;
	struct creq		*r;
	struct net		 ip;
	const char		*error;
	enum mech_kind		 kind;
	char			 data[AUTHPROTO_CLIENT_LINE_MAX];
	size_t			 len = 0;
	bool			 plaintext_ok;

	if (authproto_parse_auth(a, c->minor, &p, &error) == -1) {
		log_warn("auth: bad AUTH line: %s", error);
		return -1;
	}
	if (creq_find(c, p.id) != NULL) {
		log_warn("auth: request id %u used twice", p.id);
		return -1;	/* a client bug, as Dovecot treats it */
	}
	if (!mech_find(p.mech.p, p.mech.len, &kind) ||
	    (kind == MECH_PLAIN && !d->mech_plain) ||
	    (kind == MECH_LOGIN && !d->mech_login)) {
		cconn_send(c, "FAIL\t%u\treason=Unsupported authentication "
		    "mechanism\n", p.id);
		return 0;
	}
	if (c->nreqs >= AUTH_MAX_PENDING) {
		cconn_send(c, "FAIL\t%u\tcode=temp_fail\treason=Too many "
		    "requests\n", p.id);
		return 0;
	}
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->id = p.id;
	r->mech.kind = kind;
	r->next = c->reqs;
	c->reqs = r;
	c->nreqs++;
	(void)snprintf(r->service, sizeof(r->service), "%.*s",
	    (int)(p.service.len > 31 ? 31 : p.service.len), p.service.p);
	if (net_parse_ip(p.rip, &ip)) {
		(void)snprintf(r->rip, sizeof(r->rip), "%.*s", (int)p.rip.len,
		    p.rip.p);
		(void)snprintf(r->ip_key, sizeof(r->ip_key), "ip:%s", r->rip);
		r->exempt = authd_is_trusted(d, &ip);
	}
	if (p.no_penalty)
		r->exempt = true;
	/* Plaintext mechanisms need TLS (secured) or loopback, unless the
	 * configuration allows them anywhere (disable_plaintext_auth). */
	plaintext_ok = d->cfg->auth.allow_plaintext || p.secured ||
	    (r->rip[0] != '\0' && net_is_loopback(&ip));
	if (!plaintext_ok) {
		log_result(r, "refused", "plaintext authentication without TLS");
		cconn_send(c, "FAIL\t%u\treason=Plaintext authentication "
		    "disallowed on non-secure (SSL/TLS) connections.\n", p.id);
		creq_free(r);
		return 0;
	}
	if (p.has_resp && !creq_decode(r, p.resp, data, &len))
		return 0;
	creq_step(r, data, len, p.has_resp);
	explicit_bzero(data, len);
	return 0;
}

static int
cconn_cont(struct cconn *c, const struct authproto_args *a)
{
	struct creq	*r;
	struct str	 b64;
	uint32_t	 id;
	char		 data[AUTHPROTO_CLIENT_LINE_MAX];
	size_t		 len;

	if (authproto_parse_cont(a, &id, &b64) == -1)
		return -1;
	r = creq_find(c, id);
	if (r == NULL) {
		cconn_send(c, "FAIL\t%u\treason=Authentication request timed "
		    "out\n", id);
		return 0;
	}
	if (r->state != R_WAIT_CONT) {
		/* Data the request did not ask for: end it here, so it gets
		 * exactly one final reply. */
		cconn_send(c, "FAIL\t%u\treason=Unexpected data\n", id);
		creq_free(r);
		return 0;
	}
	if (!creq_decode(r, b64, data, &len))
		return 0;
	creq_step(r, data, len, true);
	explicit_bzero(data, len);
	return 0;
}

/* One line. 0 to go on, -1 to drop the connection. */
static int
cconn_line(struct cconn *c, struct str line)
{
	struct authproto_args	 a;
	unsigned		 major, minor;
	uint32_t		 id;
	struct creq		*r;

	if (authproto_split(line, &a) == -1)
		return -1;
	if (str_eq_cstr(a.v[0], "VERSION")) {
		if (authproto_parse_version(&a, &major, &minor) == -1 ||
		    major != 1) {
			log_warn("auth: client speaks an unknown protocol "
			    "version");
			return -1;
		}
		c->got_version = true;
		c->minor = minor;
		return 0;
	}
	if (!c->handshake_done) {
		if (!str_eq_cstr(a.v[0], "CPID") || a.n < 2 || !c->got_version)
			return -1;
		c->handshake_done = true;
		return 0;
	}
	if (str_eq_cstr(a.v[0], "AUTH"))
		return cconn_auth(c, &a);
	if (str_eq_cstr(a.v[0], "CONT"))
		return cconn_cont(c, &a);
	if (str_eq_cstr(a.v[0], "CANCEL")) {
		if (authproto_parse_cancel(&a, &id) == -1)
			return -1;
		if ((r = creq_find(c, id)) != NULL)
			creq_free(r);
		return 0;
	}
	log_warn("auth: unknown command from client");
	return -1;
}

static void
cconn_flush(struct cconn *c)
{
	if (c->fd == -1)
		return;
	if (sock_flush(c->fd, &c->out) == -1) {
		/* EPIPE/ECONNRESET: the peer left; nothing to report. */
		cconn_close(c, errno == EPIPE || errno == ECONNRESET ? NULL :
		    "write failed");
		return;
	}
	if (c->out.len == 0 && c->closing) {
		cconn_close(c, NULL);
		return;
	}
	if (ev_io_mod(c->io, (c->out.len > 0 ? EV_WRITE : 0) |
	    (c->out.len < AUTH_OUT_HIGH && !c->closing ? EV_READ : 0)) == -1)
		cconn_close(c, "epoll failed");
}

static void
cconn_read(struct cconn *c)
{
	char		*lf;
	ssize_t		 n;
	size_t		 room;

	for (;;) {
		room = c->in.max - c->in.len;
		if (room == 0) {
			log_warn("auth: line longer than %d bytes; closing",
			    AUTHPROTO_CLIENT_LINE_MAX);
			cconn_close(c, NULL);
			return;
		}
		/* buf has no "reserve" call: append from a stack chunk. */
		{
			char	 chunk[4096];

			n = read(c->fd, chunk, room < sizeof(chunk) ? room :
			    sizeof(chunk));
			if (n > 0 && buf_append(&c->in, chunk, (size_t)n) != 0)
				n = -1;
			explicit_bzero(chunk, sizeof(chunk));
		}
		if (n == 0) {
			cconn_close(c, NULL);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			cconn_close(c, errno == ECONNRESET ? NULL : "read failed");
			return;
		}
		while (!c->dead &&
		    (lf = memchr(c->in.data, '\n', c->in.len)) != NULL) {
			struct str line = { c->in.data,
			    (size_t)(lf - c->in.data) };

			if (cconn_line(c, line) == -1) {
				cconn_close(c, "protocol error");
				return;
			}
			if (c->fd == -1)	/* closed while answering */
				return;
			buf_consume(&c->in, line.len + 1);
		}
		if (c->dead)
			break;
	}
	cconn_flush(c);
}

static void
cconn_on_io(void *ctx, int fd, unsigned events)
{
	struct cconn	*c = ctx;

	(void)fd;
	if (events & EV_READ)
		cconn_read(c);
	else if (events & EV_WRITE)
		cconn_flush(c);
}

static void
cconn_close(struct cconn *c, const char *why)
{
	if (c->fd == -1)
		return;
	if (why != NULL)
		log_info("auth: closing client connection: %s", why);
	while (c->reqs != NULL)
		creq_free(c->reqs);
	ev_io_del(&c->io);
	(void)close(c->fd);
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	/* The struct may still be referenced by callers up the stack
	 * (cconn_read): mark it dead; the loop frees it before sleeping. */
	c->dead = true;
	c->fd = -1;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->d->cconns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	authd_defer_free(c->d, c);
}

void
client_conn_close_all(struct authd *d)
{
	/* Shutting down: one last non-blocking try to deliver replies
	 * already queued, then close. */
	while (d->cconns != NULL) {
		struct cconn *c = d->cconns;

		if (c->out.len > 0 && write(c->fd, c->out.data, c->out.len) < 0)
			log_debug("auth: final write: %m");
		cconn_close(c, NULL);
	}
}

void
client_conn_accept(struct authd *d, int lfd)
{
	struct cconn	*c;
	unsigned char	 cookie[16];
	int		 fd, i;

	while ((fd = sock_accept(lfd)) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->d = d;
		c->fd = fd;
		buf_init_secret(&c->in, AUTHPROTO_CLIENT_LINE_MAX + 1);
		buf_init(&c->out, NULL, AUTH_OUT_MAX);
		c->io = ev_io_add(d->ev, fd, EV_READ, cconn_on_io, c);
		if (c->io == NULL) {
			log_error("auth: epoll: %m");
			(void)close(fd);
			buf_deinit(&c->in);
			free(c);
			continue;
		}
		c->next = d->cconns;
		if (d->cconns != NULL)
			d->cconns->prev = c;
		d->cconns = c;
		if (RAND_bytes(cookie, sizeof(cookie)) != 1)
			memset(cookie, 0, sizeof(cookie));
		/* Every MECH line before SPID: Postfix tells a client socket
		 * from a master socket that way (protocols.md 1.2). */
		cconn_send(c, "VERSION\t1\t2\n");
		if (d->mech_plain)
			cconn_send(c, "MECH\tPLAIN\tplaintext\n");
		if (d->mech_login)
			cconn_send(c, "MECH\tLOGIN\tplaintext\n");
		cconn_send(c, "SPID\t%ld\nCUID\t%llu\nCOOKIE\t", (long)getpid(),
		    (unsigned long long)++d->cookie_seq);
		for (i = 0; i < 16; i++)
			cconn_send(c, "%02x", cookie[i]);
		cconn_send(c, "\nDONE\n");
		cconn_flush(c);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		log_error("auth: accept: %m");
}
