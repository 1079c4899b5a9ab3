/* main.c - aviary-lmtp: arguments, configuration, sockets, privileges,
 * then the event loop (lmtp_conn.c has the protocol).
 *
 *   aviary-lmtp -c /etc/aviary/aviary.yaml
 *
 * Started by aviaryd it inherits its sockets (AVIARY_LISTEN_FDS
 * "socket=3,tcp0=4,..."); started by hand it binds lmtp.socket and
 * lmtp.listen itself. As root it then becomes lmtp.user (the mail user)
 * and refuses to stay root. It never talks to SQL: recipients are looked
 * up on aviary-auth's userdb socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmtp.h"
#include "aviary/arena.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/proc.h"
#include "aviary/sock.h"
#include "aviary/userdb_client.h"

#define LMTP_MAX_LISTEN	16
#define USERDB_TIMEOUT_MS	30000

struct listener {
	int		 fd;
	struct ev_io	*io;
	char		*unlink_path;	/* we bound it: remove at exit */
};

static void
on_listen(void *ctx, int fd, unsigned events)
{
	(void)events;
	lmtp_conn_accept(ctx, fd);
}

static void
on_signal(void *ctx, int fd, unsigned events)
{
	struct lmtpd		*d = ctx;
	struct signalfd_siginfo	 si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;	/* nothing cached to reload */
		log_info("lmtp: stopping (signal %u); %llu delivered, %llu "
		    "failed", si.ssi_signo, (unsigned long long)d->n_delivered,
		    (unsigned long long)d->n_failed);
		ev_stop(d->ev);
	}
}

int
main(int argc, char **argv)
{
	struct aviary_config	 cfg;
	struct lmtpd		 d = { 0 };
	struct arena		*a = arena_create(16 * 1024);
	struct listener		 ls[LMTP_MAX_LISTEN + 1];
	size_t			 nls = 0, i;
	struct ev_io		*sio;
	const char		*config = AVIARY_CONFIG_DEFAULT, *error;
	sigset_t		 mask;
	char			 name[16];
	uid_t			 uid;
	gid_t			 gid;
	int			 c, fd, sfd;

	log_init("aviary-lmtp", false, LOG_L_INFO);
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c') {
			(void)fprintf(stderr, "usage: aviary-lmtp [-c FILE]\n");
			return 64;
		}
		config = optarg;
	}
	if (optind != argc) {
		(void)fprintf(stderr, "usage: aviary-lmtp [-c FILE]\n");
		return 64;
	}
	if (aviary_config_load(&cfg, config, a, &error) == -1)
		log_fatal(78, "%s", error);
	(void)signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (cfg.lmtp.listen.n > LMTP_MAX_LISTEN)
		log_fatal(78, "lmtp.listen: at most %d listeners",
		    LMTP_MAX_LISTEN);

	/* The sockets: under aviaryd, exactly the inherited ones ("socket",
	 * then "tcp0", "tcp1", ... until one is missing) and nothing bound
	 * here: after a crash the file may hold an edit not yet reloaded.
	 * By hand: bound from the configuration. Then drop privileges. */
	memset(ls, 0, sizeof(ls));
	if (getenv("AVIARY_LISTEN_FDS") != NULL) {
		if ((fd = proc_inherited_fd("socket")) < 0)
			log_fatal(71, "AVIARY_LISTEN_FDS has no 'socket'");
		ls[nls++].fd = fd;
		for (i = 0; nls <= LMTP_MAX_LISTEN; i++) {
			(void)snprintf(name, sizeof(name), "tcp%zu", i);
			if ((fd = proc_inherited_fd(name)) < 0)
				break;
			ls[nls++].fd = fd;
		}
	} else {
		uid = (uid_t)-1;
		gid = (gid_t)-1;
		if (geteuid() == 0 && sock_owner(cfg.lmtp.socket.user,
		    cfg.lmtp.socket.group, &uid, &gid, a, &error) == -1)
			log_fatal(78, "lmtp.socket: %s", error);
		fd = sock_unix_listen(cfg.lmtp.socket.path, cfg.lmtp.socket.mode,
		    uid, gid, a, &error);
		if (fd == -1)
			log_fatal(71, "lmtp.socket: %s", error);
		ls[nls].unlink_path = cfg.lmtp.socket.path;
		ls[nls++].fd = fd;
		for (i = 0; i < cfg.lmtp.listen.n; i++) {
			if ((fd = sock_tcp_listen(cfg.lmtp.listen.v[i], a,
			    &error)) == -1)
				log_fatal(71, "lmtp.listen: %s", error);
			ls[nls++].fd = fd;
		}
	}
	for (i = 0; i < nls; i++)
		if (sock_set_nonblock(ls[i].fd, true) == -1)
			log_fatal(71, "lmtp: socket: %m");
	if (proc_drop_privileges(cfg.lmtp.user, a, &error) == -1)
		log_fatal(71, "%s", error);

	d.cfg = &cfg;
	d.ev = ev_create();
	if (cfg.lmtp.hostname[0] != '\0')
		(void)snprintf(d.hostname, sizeof(d.hostname), "%s",
		    cfg.lmtp.hostname);
	else if (gethostname(d.hostname, sizeof(d.hostname) - 1) == -1)
		(void)snprintf(d.hostname, sizeof(d.hostname), "localhost");
	d.folders = (const char *const *)cfg.lmtp.folders.v;
	d.nfolders = cfg.lmtp.folders.n;
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
	for (i = 0; i < nls; i++)
		if ((ls[i].io = ev_io_add(d.ev, ls[i].fd, EV_READ, on_listen,
		    &d)) == NULL)
			log_fatal(71, "epoll: %m");
	ev_set_before_sleep(d.ev, lmtp_reap, &d);
	log_info("lmtp: ready (%s, %zu TCP listener%s, max message %llu "
	    "bytes)", cfg.lmtp.socket.path, cfg.lmtp.listen.n,
	    cfg.lmtp.listen.n == 1 ? "" : "s",
	    (unsigned long long)cfg.lmtp.max_message_size);
	if (ev_run(d.ev) == -1)
		log_error("lmtp: event loop: %m");

	for (i = 0; i < nls; i++) {
		ev_io_del(&ls[i].io);
		(void)close(ls[i].fd);
		if (ls[i].unlink_path != NULL)
			(void)unlink(ls[i].unlink_path);
	}
	ev_io_del(&sio);
	(void)close(sfd);
	lmtp_conn_close_all(&d);
	lmtp_reap(&d);
	free(d.dead);
	userdb_client_destroy(&d.userdb);
	ev_destroy(&d.ev);
	arena_destroy(&a);
	return 0;
}
