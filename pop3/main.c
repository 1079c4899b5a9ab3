/* main.c - aviary-pop3: arguments, configuration, sockets, TLS,
 * privileges, then the event loop (pop3_conn.c and the files it
 * dispatches to have the protocol).
 *
 *   aviary-pop3 -c /etc/aviary/aviary.yaml
 *
 * Started by aviaryd it inherits its listeners (AVIARY_LISTEN_FDS
 * "tcp0=3,...,tls0=5,..."): tcpN from pop3.listen (plaintext and STLS),
 * tlsN from pop3.listen_tls (implicit TLS). Started by hand it binds them
 * itself. The TLS key is read before privileges are dropped; as root it
 * then becomes pop3.user (the mail user) and refuses to stay root. It
 * never talks to SQL: logins go to aviary-auth's client socket, homes
 * come from its userdb socket. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pop3.h"
#include "aviary/arena.h"
#include "aviary/authclient.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/proc.h"
#include "aviary/sock.h"
#include "aviary/tls.h"
#include "aviary/userdb_client.h"

#define POP3_MAX_LISTEN		16
#define USERDB_TIMEOUT_MS	30000

struct listener {
	struct pop3d	*d;
	int		 fd;
	bool		 tls;
	struct ev_io	*io;
};

static void
on_listen(void *ctx, int fd, unsigned events)
{
	struct listener	*l = ctx;

	(void)events;
	pop3_conn_accept(l->d, fd, l->tls);
}

static void
on_signal(void *ctx, int fd, unsigned events)
{
	struct pop3d		*d = ctx;
	struct signalfd_siginfo	 si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;	/* aviaryd restarts us for changes */
		log_info("pop3: stopping (signal %u); %llu logins, %llu "
		    "messages retrieved, %llu deleted", si.ssi_signo,
		    (unsigned long long)d->n_logins,
		    (unsigned long long)d->n_retr,
		    (unsigned long long)d->n_dele);
		ev_stop(d->ev);
	}
}

static void
usage(void)
{
	(void)fprintf(stderr, "usage: aviary-pop3 [-c FILE]\n");
	exit(64);
}

/* Inherited descriptors "<prefix>0", "<prefix>1", ... into ls. */
static size_t
inherit(const char *prefix, bool tls, struct listener *ls, size_t n)
{
	char	 name[16];
	size_t	 i;
	int	 fd;

	for (i = 0; n < POP3_MAX_LISTEN * 2; i++) {
		(void)snprintf(name, sizeof(name), "%s%zu", prefix, i);
		if ((fd = proc_inherited_fd(name)) < 0)
			break;
		ls[n].fd = fd;
		ls[n++].tls = tls;
	}
	return n;
}

int
main(int argc, char **argv)
{
	struct aviary_config	 cfg;
	struct pop3d		 d;
	struct arena		*a = arena_create(16 * 1024);
	struct listener		 ls[POP3_MAX_LISTEN * 2];
	const struct aviary_tls_config *t = &cfg.login.tls;
	size_t			 nls = 0, i;
	struct ev_io		*sio;
	const char		*config = AVIARY_CONFIG_DEFAULT, *error;
	sigset_t		 mask;
	int			 c, fd, sfd;

	memset(&d, 0, sizeof(d));
	log_init("aviary-pop3", false, LOG_L_INFO);
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c')
			usage();
		config = optarg;
	}
	if (optind != argc)
		usage();
	if (aviary_config_load(&cfg, config, a, &error) == -1)
		log_fatal(78, "%s", error);
	(void)signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (cfg.pop3.listen.n > POP3_MAX_LISTEN ||
	    cfg.pop3.listen_tls.n > POP3_MAX_LISTEN)
		log_fatal(78, "pop3.listen, pop3.listen_tls: at most %d "
		    "addresses each", POP3_MAX_LISTEN);
	for (i = 0; i < cfg.login.local_networks.n; i++) {
		if (d.nlocal_nets == POP3_LOCAL_NETS_MAX)
			log_fatal(78, "login.local_networks: at most %d",
			    POP3_LOCAL_NETS_MAX);
		if (net_parse_cidr(cfg.login.local_networks.v[i],
		    &d.local_nets[d.nlocal_nets++]) == -1)
			log_fatal(78, "login.local_networks: bad network %s",
			    cfg.login.local_networks.v[i]);
	}

	/* TLS: the key is read now, while we may still be root. */
	if (t->cert_file[0] != '\0') {
		d.tls = tls_ctx_create(t->cert_file, t->key_file,
		    t->chain_file[0] ? t->chain_file : NULL, t->min_version,
		    t->ciphers[0] ? t->ciphers : NULL,
		    t->ciphersuites[0] ? t->ciphersuites : NULL, a, &error);
		if (d.tls == NULL)
			log_fatal(78, "login.tls: %s", error);
	}

	memset(ls, 0, sizeof(ls));
	if (getenv("AVIARY_LISTEN_FDS") != NULL) {
		nls = inherit("tcp", false, ls, nls);
		nls = inherit("tls", true, ls, nls);
		if (nls == 0)
			log_fatal(71, "AVIARY_LISTEN_FDS has no tcp or tls "
			    "listener");
	} else {
		for (i = 0; i < cfg.pop3.listen.n; i++) {
			if ((fd = sock_tcp_listen(cfg.pop3.listen.v[i], a,
			    &error)) == -1)
				log_fatal(71, "pop3.listen: %s", error);
			ls[nls].fd = fd;
			ls[nls++].tls = false;
		}
		for (i = 0; i < cfg.pop3.listen_tls.n; i++) {
			if ((fd = sock_tcp_listen(cfg.pop3.listen_tls.v[i], a,
			    &error)) == -1)
				log_fatal(71, "pop3.listen_tls: %s", error);
			ls[nls].fd = fd;
			ls[nls++].tls = true;
		}
	}
	for (i = 0; i < nls; i++) {
		if (ls[i].tls && d.tls == NULL)
			log_fatal(78, "pop3.listen_tls needs login.tls.cert_file");
		if (sock_set_nonblock(ls[i].fd, true) == -1)
			log_fatal(71, "pop3: socket: %m");
	}
	if (proc_drop_privileges(cfg.pop3.user, a, &error) == -1)
		log_fatal(71, "%s", error);

	d.cfg = &cfg;
	d.ev = ev_create();
	d.auth = authclient_create(d.ev, cfg.auth.client_socket.path,
	    cfg.login.auth_timeout * 1000);
	d.userdb = userdb_client_create(d.ev, cfg.auth.userdb_socket.path,
	    USERDB_TIMEOUT_MS);

	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGTERM);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd == -1 ||
	    (sio = ev_io_add(d.ev, sfd, EV_READ, on_signal, &d)) == NULL)
		log_fatal(71, "signalfd: %m");
	for (i = 0; i < nls; i++) {
		ls[i].d = &d;
		if ((ls[i].io = ev_io_add(d.ev, ls[i].fd, EV_READ, on_listen,
		    &ls[i])) == NULL)
			log_fatal(71, "epoll: %m");
	}
	log_info("pop3: ready (%zu listener%s, TLS %s, plaintext logins %s)",
	    nls, nls == 1 ? "" : "s", d.tls != NULL ? "on" : "off",
	    cfg.login.allow_plaintext ? "allowed everywhere" :
	    "only with TLS or from login.local_networks");
	if (ev_run(d.ev) == -1)
		log_error("pop3: event loop: %m");

	for (i = 0; i < nls; i++) {
		ev_io_del(&ls[i].io);
		(void)close(ls[i].fd);
	}
	ev_io_del(&sio);
	(void)close(sfd);
	pop3_conn_close_all(&d);
	authclient_destroy(&d.auth);
	userdb_client_destroy(&d.userdb);
	tls_ctx_destroy(&d.tls);
	ev_destroy(&d.ev);
	arena_destroy(&a);
	return 0;
}
