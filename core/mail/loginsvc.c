/* loginsvc.c - start-up and main loop of the login services; see
 * aviary/loginsvc.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/authclient.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/loginsvc.h"
#include "aviary/mem.h"
#include "aviary/proc.h"
#include "aviary/sock.h"
#include "aviary/tls.h"
#include "aviary/userdb_client.h"

#define USERDB_TIMEOUT_MS	30000

static void
local_nets(struct loginsvc *s)
{
	const struct conf_list	*l = &s->cfg.login.local_networks;
	size_t			 i;

	if (l->n > LOGINSVC_NETS_MAX)
		log_fatal(78, "login.local_networks: at most %d",
		    LOGINSVC_NETS_MAX);
	for (i = 0; i < l->n; i++)
		if (net_parse_cidr(l->v[i], &s->local_nets[i]) == -1)
			log_fatal(78, "login.local_networks: bad network %s",
			    l->v[i]);
	s->nlocal_nets = l->n;
}

static void
tls_setup(struct loginsvc *s)
{
	const struct aviary_tls_config	*t = &s->cfg.login.tls;
	const char			*error;

	if (t->cert_file[0] == '\0')
		return;
	s->tls = tls_ctx_create(t->cert_file, t->key_file,
	    t->chain_file[0] ? t->chain_file : NULL, t->min_version,
	    t->ciphers[0] ? t->ciphers : NULL,
	    t->ciphersuites[0] ? t->ciphersuites : NULL, s->a, &error);
	if (s->tls == NULL)
		log_fatal(78, "login.tls: %s", error);
}

static void
inherit(struct loginsvc *s, const char *prefix, bool tls)
{
	char	 name[16];
	size_t	 i;
	int	 fd;

	for (i = 0; i < LOGINSVC_LISTEN_MAX; i++) {
		(void)snprintf(name, sizeof(name), "%s%zu", prefix, i);
		if ((fd = proc_inherited_fd(name)) < 0)
			break;
		s->ls[s->nls].fd = fd;
		s->ls[s->nls++].tls = tls;
	}
}

static void
bind_list(struct loginsvc *s, const struct conf_list *l, bool tls)
{
	const char	*error;
	size_t		 i;
	int		 fd;

	if (l->n > LOGINSVC_LISTEN_MAX)
		log_fatal(78, "%s.%s: at most %d addresses", s->name,
		    tls ? "listen_tls" : "listen", LOGINSVC_LISTEN_MAX);
	for (i = 0; i < l->n; i++) {
		if ((fd = sock_tcp_listen(l->v[i], s->a, &error)) == -1)
			log_fatal(71, "%s.%s: %s", s->name,
			    tls ? "listen_tls" : "listen", error);
		s->ls[s->nls].fd = fd;
		s->ls[s->nls++].tls = tls;
	}
}

static void
usage(const char *name)
{
	(void)fprintf(stderr, "usage: aviary-%s [-c FILE]\n", name);
	exit(64);
}

void
loginsvc_init(struct loginsvc *s, const char *name, int argc, char **argv,
    struct loginsvc_section (*section)(const struct aviary_config *))
{
	struct loginsvc_section	 sec;
	const char		*config = AVIARY_CONFIG_DEFAULT, *error;
	char			 ident[32];
	size_t			 i;
	int			 c;

	memset(s, 0, sizeof(*s));
	s->name = name;
	(void)snprintf(ident, sizeof(ident), "aviary-%s", name);
	log_init(ident, false, LOG_L_INFO);
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c')
			usage(name);
		config = optarg;
	}
	if (optind != argc)
		usage(name);
	s->a = arena_create(16 * 1024);
	if (aviary_config_load(&s->cfg, config, s->a, &error) == -1)
		log_fatal(78, "%s", error);
	umask(077);
	local_nets(s);
	/* The TLS key is read now, while we may still be root. */
	tls_setup(s);
	sec = section(&s->cfg);
	if (getenv("AVIARY_LISTEN_FDS") != NULL) {
		inherit(s, "tcp", false);
		inherit(s, "tls", true);
		if (s->nls == 0)
			log_fatal(71, "AVIARY_LISTEN_FDS has no tcp or tls "
			    "listener");
	} else {
		bind_list(s, sec.listen, false);
		bind_list(s, sec.listen_tls, true);
	}
	for (i = 0; i < s->nls; i++) {
		s->ls[i].svc = s;
		if (s->ls[i].tls && s->tls == NULL)
			log_fatal(78, "%s.listen_tls needs login.tls.cert_file",
			    name);
		if (sock_set_nonblock(s->ls[i].fd, true) == -1)
			log_fatal(71, "listening socket: %m");
	}
	if (proc_drop_privileges(sec.user, s->a, &error) == -1)
		log_fatal(71, "%s", error);
	s->ev = ev_create();
	s->auth = authclient_create(s->ev, s->cfg.auth.client_socket.path,
	    s->cfg.login.auth_timeout * 1000);
	s->userdb = userdb_client_create(s->ev,
	    s->cfg.auth.userdb_socket.path, USERDB_TIMEOUT_MS);
}

static void
on_listen(void *ctx, int fd, unsigned events)
{
	struct loginsvc_listener	*l = ctx;

	(void)events;
	l->svc->accept(l->svc->owner, fd, l->tls);
}

static void
on_signal(void *ctx, int fd, unsigned events)
{
	struct loginsvc		*s = ctx;
	struct signalfd_siginfo	 si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;	/* aviaryd restarts us for changes */
		s->stop(s->owner, si.ssi_signo);
		ev_stop(s->ev);
	}
}

void
loginsvc_run(struct loginsvc *s, void (*accept)(void *, int, bool),
    void (*stop)(void *, unsigned), void *owner)
{
	struct ev_io	*sio;
	sigset_t	 mask;
	size_t		 i;
	int		 sfd;

	s->accept = accept;
	s->stop = stop;
	s->owner = owner;
	(void)signal(SIGPIPE, SIG_IGN);
	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGTERM);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (sio = ev_io_add(s->ev, sfd, EV_READ, on_signal, s)) == NULL)
		log_fatal(71, "signalfd: %m");
	for (i = 0; i < s->nls; i++)
		if ((s->ls[i].io = ev_io_add(s->ev, s->ls[i].fd, EV_READ,
		    on_listen, &s->ls[i])) == NULL)
			log_fatal(71, "epoll: %m");
	log_info("%s: ready (%zu listener%s, TLS %s, plaintext logins %s)",
	    s->name, s->nls, s->nls == 1 ? "" : "s",
	    s->tls != NULL ? "on" : "off", s->cfg.login.allow_plaintext ?
	    "allowed everywhere" : "only with TLS or from login.local_networks");
	if (ev_run(s->ev) == -1)
		log_error("%s: event loop: %m", s->name);
	for (i = 0; i < s->nls; i++) {
		ev_io_del(&s->ls[i].io);
		(void)close(s->ls[i].fd);
	}
	ev_io_del(&sio);
	(void)close(sfd);
}

void
loginsvc_fini(struct loginsvc *s)
{
	free(s->ips);
	s->ips = NULL;
	authclient_destroy(&s->auth);
	userdb_client_destroy(&s->userdb);
	tls_ctx_destroy(&s->tls);
	ev_destroy(&s->ev);
	arena_destroy(&s->a);
}

void
loginsvc_peer(const struct loginsvc *s, int fd, struct loginsvc_peer *p)
{
	struct sockaddr_storage	 ss;
	struct net		 lnet;
	socklen_t		 sl;
	size_t			 i;

	memset(p, 0, sizeof(*p));
	sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)net_sockaddr((struct sockaddr *)&ss, &p->rip_net, p->rip,
		    &p->rport);
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)net_sockaddr((struct sockaddr *)&ss, &lnet, p->lip,
		    &p->lport);
	for (i = 0; i < s->nlocal_nets; i++)
		if (net_contains(&s->local_nets[i], &p->rip_net))
			p->local = true;
}

static struct loginsvc_ipcount *
ip_find(struct loginsvc *s, const struct net *ip)
{
	size_t	 i;

	for (i = 0; i < s->nips; i++)
		if (s->ips[i].ip.family == ip->family &&
		    memcmp(s->ips[i].ip.addr, ip->addr, 16) == 0)
			return &s->ips[i];
	return NULL;
}

const char *
loginsvc_enter(struct loginsvc *s, const struct loginsvc_peer *p,
    unsigned max_total)
{
	unsigned		 per_ip = s->cfg.login.max_connections_per_ip;
	struct loginsvc_ipcount	*e = ip_find(s, &p->rip_net);

	if (max_total != 0 && s->nconns >= max_total)
		return "Too many connections, try again later.";
	if (per_ip != 0 && e != NULL && e->n >= per_ip)
		return "Too many connections from your address.";
	if (e == NULL) {
		if (s->nips == s->capips) {
			s->capips = s->capips ? s->capips * 2 : 64;
			s->ips = xrealloc(s->ips, s->capips * sizeof(*s->ips));
		}
		e = &s->ips[s->nips++];
		e->ip = p->rip_net;
		e->n = 0;
	}
	e->n++;
	s->nconns++;
	return NULL;
}

void
loginsvc_leave(struct loginsvc *s, const struct loginsvc_peer *p)
{
	struct loginsvc_ipcount	*e = ip_find(s, &p->rip_net);

	if (s->nconns > 0)
		s->nconns--;
	if (e != NULL && --e->n == 0)
		*e = s->ips[--s->nips];	/* keep the table dense */
}

int
loginsvc_accept(int lfd)
{
	int	 fd;

	if ((fd = sock_accept(lfd)) == -1 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_error("accept: %m");
	return fd;
}
