/* userdb_conn.c - the userdb socket (Dovecot's master/userdb protocol,
 * protocols.md 1.8) for aviary-lmtp and aviary-admin:
 *
 *   USER <id> <user> service=<s>  ->  USER <id> <user> <fields> | NOTFOUND <id> | FAIL <id>
 *   LIST <id>                     ->  LIST <id> <user> ... DONE <id>
 *   CACHE-FLUSH <id> [<user>...]  ->  OK <id> <count>            (privileged)
 *   PENALTY-LIST <id>             ->  PENALTY <id> <key> <failures> <age s> <delay ms> ... DONE <id>
 *   PENALTY-CLEAR <id> [<ip>]     ->  OK <id> <count>            (privileged)
 *
 * USER fields: home, uid, gid, mail (maildir:<home>), quota_rule
 * (*:bytes=N, Dovecot's syntax), quota_rule2 (*:messages=N), and
 * active=0|1, which delivery needs to answer 550 5.2.1 rather than
 * 5.1.1. "Privileged" means the peer runs as root or as aviary-auth's own
 * user (SO_PEERCRED); the socket's mode decides who may connect at all.
 * Lines are at most 1024 bytes, as in Dovecot. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "authproto.h"
#include "pool.h"
#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/lineio.h"
#include "aviary/log.h"
#include "aviary/lru.h"
#include "aviary/mem.h"
#include "aviary/sock.h"
#include "aviary/str.h"

#define UCONN_MAX_PENDING	64

struct uconn {
	struct authd	*d;
	struct uconn	*prev, *next;	/* d->uconns */
	int		 fd;
	struct ev_io	*io;
	struct buf	 in, out;
	bool		 privileged;
	bool		 overflow;	/* output ceiling reached: close */
	struct job	*jobs[UCONN_MAX_PENDING];
	char		 ids[UCONN_MAX_PENDING][33];
};

static void uconn_close(struct uconn *c, const char *why);

static void
uconn_flush(struct uconn *c)
{
	if (c->fd == -1)
		return;
	if (c->overflow) {
		uconn_close(c, "peer not reading its replies");
		return;
	}
	if (sock_flush(c->fd, &c->out) == -1) {
		/* EPIPE/ECONNRESET: the peer left; nothing to report. */
		uconn_close(c, errno == EPIPE || errno == ECONNRESET ? NULL :
		    "write failed");
		return;
	}
	if (ev_io_mod(c->io, (c->out.len > 0 ? EV_WRITE : 0) |
	    (c->out.len < AUTH_OUT_HIGH ? EV_READ : 0)) == -1)
		uconn_close(c, "epoll failed");
}

/* Queue output; a peer that lets 64 MiB pile up is dropped. */
static void
uconn_out(struct uconn *c, const char *fmt, ...) AV_PRINTFLIKE(2, 3);

static void
uconn_out(struct uconn *c, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	if (c->overflow)
		return;
	va_start(ap, fmt);
	r = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (r != 0)
		c->overflow = true;
}

static void
uconn_esc(struct uconn *c, const char *s)
{
	if (!c->overflow && authproto_escape(&c->out, s, strlen(s)) != 0)
		c->overflow = true;
}

static void
uconn_send_field(struct uconn *c, const char *name, const char *value)
{
	uconn_out(c, "\t%s=", name);
	uconn_esc(c, value);
}

static int
uconn_slot(struct uconn *c, struct str id)
{
	int	 i;

	for (i = 0; i < UCONN_MAX_PENDING; i++)
		if (c->jobs[i] == NULL) {
			(void)snprintf(c->ids[i], sizeof(c->ids[i]), "%.*s",
			    (int)id.len, id.p);
			return i;
		}
	return -1;
}

static void
uconn_on_user(struct job *j, void *ctx)
{
	struct uconn	*c = ctx;
	const char	*id = NULL, *at;
	char		 home[4096], local[ADDR_MAX + 1], tmp[64];
	int		 i;

	for (i = 0; i < UCONN_MAX_PENDING; i++)
		if (c->jobs[i] == j) {
			c->jobs[i] = NULL;
			id = c->ids[i];
			break;
		}
	if (id == NULL)
		return;
	if (j->status == JOB_TEMP) {
		uconn_out(c, "FAIL\t%s\treason=user database "
		    "unavailable\n", id);
	} else if (j->status != JOB_OK ||
	    (at = strrchr(j->user, '@')) == NULL) {
		uconn_out(c, "NOTFOUND\t%s\n", id);
	} else {
		(void)snprintf(local, sizeof(local), "%.*s",
		    (int)(at - j->user), j->user);
		if (aviary_mail_home(&c->d->cfg->mail, local, at + 1, home,
		    sizeof(home)) == -1) {
			uconn_out(c, "FAIL\t%s\treason=home path "
			    "too long\n", id);
		} else {
			uconn_out(c, "USER\t%s\t", id);
			uconn_esc(c, j->user);
			uconn_send_field(c, "home", home);
			(void)snprintf(tmp, sizeof(tmp), "%u",
			    c->d->cfg->mail.uid);
			uconn_send_field(c, "uid", tmp);
			(void)snprintf(tmp, sizeof(tmp), "%u",
			    c->d->cfg->mail.gid);
			uconn_send_field(c, "gid", tmp);
			uconn_out(c, "\tmail=maildir:");
			uconn_esc(c, home);
			uconn_out(c, "\tquota_rule=*:bytes=%llu"
			    "\tquota_rule2=*:messages=%llu\tactive=%d\n",
			    (unsigned long long)j->quota_bytes,
			    (unsigned long long)j->quota_messages,
			    j->active ? 1 : 0);
		}
	}
	uconn_flush(c);
}

static void
uconn_on_list(struct job *j, void *ctx)
{
	struct uconn	*c = ctx;
	const char	*id = NULL, *p, *nl;
	int		 i;

	for (i = 0; i < UCONN_MAX_PENDING; i++)
		if (c->jobs[i] == j) {
			c->jobs[i] = NULL;
			id = c->ids[i];
			break;
		}
	if (id == NULL)
		return;
	if (j->status != JOB_OK) {
		uconn_out(c, "DONE\t%s\tfail\n", id);
		uconn_flush(c);
		return;
	}
	for (p = buf_cstr(j->list); (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		uconn_out(c, "LIST\t%s\t%.*s\n", id, (int)(nl - p), p);
	}
	uconn_out(c, "DONE\t%s\t\n", id);
	uconn_flush(c);
}

static int
uconn_submit(struct uconn *c, enum job_kind kind, struct str id,
    const char *login)
{
	struct job	*j;
	int		 slot = uconn_slot(c, id);

	if (slot < 0) {
		uconn_out(c, "FAIL\t%.*s\treason=too many "
		    "requests\n", (int)id.len, id.p);
		return 0;
	}
	j = job_new(kind);
	if (login != NULL)
		(void)snprintf(j->login, sizeof(j->login), "%s", login);
	j->done = kind == JOB_LIST ? uconn_on_list : uconn_on_user;
	j->ctx = c;
	c->jobs[slot] = j;
	pool_submit(c->d->pool, j);
	return 0;
}

struct plist_ctx {
	struct uconn	*c;
	struct str	 id;
	uint64_t	 now;
};

static bool
penalty_list_one(const char *key, void *val, void *ctx)
{
	struct plist_ctx	*p = ctx;
	struct penalty_entry	*e = val;
	uint64_t		 age = (p->now - e->last) / 1000;

	if (age > p->c->d->cfg->auth.penalty_window)
		return false;		/* expired: drop it while here */
	uconn_out(p->c, "PENALTY\t%.*s\t%s\t%u\t%llu\t%llu\n",
	    (int)p->id.len, p->id.p, key, e->failures, (unsigned long long)age,
	    (unsigned long long)authd_penalty_for(e->failures,
	    p->c->d->cfg->auth.penalty_max * 1000));
	return true;
}

static int
uconn_line(struct uconn *c, struct str line)
{
	struct authproto_args	 a;
	struct str		 id, user, service;
	char			 login[ADDR_MAX + 1], key[80];
	const char		*why;
	size_t			 i, n;

	if (authproto_split(line, &a) == -1)
		return -1;
	if (str_eq_cstr(a.v[0], "VERSION"))
		return 0;
	if (a.n < 2 || a.v[1].len == 0 || a.v[1].len > 32)
		return -1;
	id = a.v[1];
	if (str_eq_cstr(a.v[0], "USER")) {
		char raw[AUTHPROTO_USERDB_LINE_MAX + 1];

		if (authproto_parse_user(&a, &id, &user, &service) == -1)
			return -1;
		(void)authproto_unescape(user, raw);
		if (addr_normalize(raw, login, NULL, NULL, &why) == -1) {
			uconn_out(c, "NOTFOUND\t%.*s\n", (int)id.len,
			    id.p);
			return 0;
		}
		return uconn_submit(c, JOB_USERDB, id, login);
	}
	if (str_eq_cstr(a.v[0], "LIST"))
		return uconn_submit(c, JOB_LIST, id, NULL);
	if (str_eq_cstr(a.v[0], "PENALTY-LIST")) {
		struct plist_ctx p = { c, id, ev_now_ms() };

		lru_walk(c->d->penalty, penalty_list_one, &p);
		uconn_out(c, "DONE\t%.*s\t\n", (int)id.len, id.p);
		return 0;
	}
	if (!c->privileged) {
		uconn_out(c, "FAIL\t%.*s\treason=permission "
		    "denied\n", (int)id.len, id.p);
		return 0;
	}
	if (str_eq_cstr(a.v[0], "CACHE-FLUSH")) {
		char raw[AUTHPROTO_USERDB_LINE_MAX + 1];

		n = 0;
		if (a.n == 2)
			n = authd_cache_flush(c->d, NULL);
		for (i = 2; i < a.n; i++) {
			(void)authproto_unescape(a.v[i], raw);
			if (addr_normalize(raw, login, NULL, NULL, &why) == 0)
				n += authd_cache_flush(c->d, login);
		}
		log_info("auth: cache flushed (%zu entries)", n);
		uconn_out(c, "OK\t%.*s\t%zu\n", (int)id.len, id.p, n);
		return 0;
	}
	if (str_eq_cstr(a.v[0], "PENALTY-CLEAR")) {
		n = 0;
		if (a.n == 2) {
			n = lru_clear(c->d->penalty);
		} else {
			for (i = 2; i < a.n; i++) {
				(void)snprintf(key, sizeof(key), "%s:%.*s",
				    memchr(a.v[i].p, '@', a.v[i].len) != NULL ?
				    "user" : "ip",
				    (int)(a.v[i].len > 64 ? 64 : a.v[i].len),
				    a.v[i].p);
				n += lru_del(c->d->penalty, key) ? 1 : 0;
			}
		}
		log_info("auth: penalties cleared (%zu)", n);
		uconn_out(c, "OK\t%.*s\t%zu\n", (int)id.len, id.p, n);
		return 0;
	}
	return -1;
}

/* lineio callback: nonzero once the connection is closed. */
static int
uconn_on_line(void *arg, struct str line)
{
	struct uconn	*c = arg;

	if (uconn_line(c, line) == -1) {
		uconn_close(c, "protocol error");
		return 1;
	}
	return c->fd == -1;
}

static void
uconn_read(struct uconn *c)
{
	switch (lineio_read(c->fd, &c->in, uconn_on_line, c)) {
	case LINEIO_AGAIN:
		uconn_flush(c);
		return;
	case LINEIO_EOF:
		uconn_close(c, NULL);
		return;
	case LINEIO_ERROR:
		uconn_close(c, errno == ECONNRESET ? NULL : "read failed");
		return;
	case LINEIO_TOO_LONG:
		uconn_close(c, "line too long");
		return;
	case LINEIO_STOPPED:
		return;
	}
}

static void
uconn_on_io(void *ctx, int fd, unsigned events)
{
	struct uconn	*c = ctx;

	(void)fd;
	if (events & EV_READ)
		uconn_read(c);
	else
		uconn_flush(c);
}

static void
uconn_close(struct uconn *c, const char *why)
{
	int	 i;

	if (c->fd == -1)
		return;
	if (why != NULL)
		log_info("auth: closing userdb connection: %s", why);
	for (i = 0; i < UCONN_MAX_PENDING; i++)
		if (c->jobs[i] != NULL)
			c->jobs[i]->cancelled = true;
	ev_io_del(&c->io);
	(void)close(c->fd);
	c->fd = -1;
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->d->uconns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	authd_defer_free(c->d, c);
}

void
userdb_conn_close_all(struct authd *d)
{
	while (d->uconns != NULL)
		uconn_close(d->uconns, NULL);
}

void
userdb_conn_accept(struct authd *d, int lfd)
{
	struct uconn	*c;
	uid_t		 uid;
	int		 fd;

	while ((fd = sock_accept(lfd)) != -1) {
		c = xcalloc(1, sizeof(*c));
		c->d = d;
		c->fd = fd;
		c->privileged = sock_peer_uid(fd, &uid, NULL) == 0 &&
		    (uid == 0 || uid == d->my_uid);
		buf_init(&c->in, NULL, AUTHPROTO_USERDB_LINE_MAX + 1);
		buf_init(&c->out, NULL, 64 * 1024 * 1024);
		c->io = ev_io_add(d->ev, fd, EV_READ, uconn_on_io, c);
		if (c->io == NULL) {
			log_error("auth: epoll: %m");
			(void)close(fd);
			buf_deinit(&c->in);
			buf_deinit(&c->out);
			free(c);
			continue;
		}
		c->next = d->uconns;
		if (d->uconns != NULL)
			d->uconns->prev = c;
		d->uconns = c;
		uconn_out(c, "VERSION\t1\t1\nSPID\t%ld\n", (long)getpid());
		uconn_flush(c);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		log_error("auth: accept: %m");
}
