/* main.c - aviary-auth: arguments, configuration, sockets, privileges,
 * then the event loop. The logic is in the other files.
 *
 *   aviary-auth -c /etc/aviary/aviary.yaml
 *
 * Started by aviaryd, it inherits its listening sockets (AVIARY_LISTEN_FDS
 * "client=N,userdb=M") and is already unprivileged. Started by hand, it
 * binds them itself and, when root, drops to auth.user afterwards. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "authd.h"
#include "mech.h"
#include "passdb.h"
#include "pool.h"
#include "aviary/arena.h"
#include "aviary/db.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/lru.h"
#include "aviary/proc.h"
#include "aviary/sock.h"

#define PENALTY_ENTRIES	100000

static int
listen_socket(const char *name, const struct aviary_socket_config *s,
    struct arena *a, bool *bound_r)
{
	const char	*error;
	uid_t		 uid;
	gid_t		 gid;
	int		 fd = proc_inherited_fd(name);

	*bound_r = false;
	if (fd >= 0) {
		if (sock_set_nonblock(fd, true) == -1)
			log_fatal(71, "%s socket: %m", name);
		return fd;
	}
	/* Owner names only apply when we may chown (root). */
	if (geteuid() == 0) {
		if (sock_owner(s->user, s->group, &uid, &gid, a, &error) == -1)
			log_fatal(78, "auth.%s_socket: %s", name, error);
	} else {
		uid = (uid_t)-1;
		gid = (gid_t)-1;
	}
	fd = sock_unix_listen(s->path, s->mode, uid, gid, a, &error);
	if (fd == -1)
		log_fatal(71, "auth.%s_socket: %s", name, error);
	*bound_r = true;
	return fd;
}

static void
on_listen(void *ctx, int fd, unsigned events)
{
	struct authd	*d = ctx;

	(void)events;
	if (fd == d->client_lfd)
		client_conn_accept(d, fd);
	else
		userdb_conn_accept(d, fd);
}

static void
on_signal(void *ctx, int fd, unsigned events)
{
	struct authd		*d = ctx;
	struct signalfd_siginfo	 si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("auth: SIGHUP: cache flushed (%zu entries)",
			    authd_cache_flush(d, NULL));
			continue;
		}
		log_info("auth: stopping (signal %u); %llu ok, %llu failed, "
		    "%llu temporary", si.ssi_signo,
		    (unsigned long long)d->n_ok, (unsigned long long)d->n_fail,
		    (unsigned long long)d->n_temp);
		ev_stop(d->ev);
	}
}

static void
setup_policy(struct authd *d, const struct aviary_config *cfg)
{
	enum mech_kind	 kind;
	size_t		 i;

	for (i = 0; i < cfg->auth.trusted_networks.n; i++) {
		if (d->ntrusted == AUTH_TRUSTED_MAX)
			log_fatal(78, "auth.trusted_networks: more than %d",
			    AUTH_TRUSTED_MAX);
		if (net_parse_cidr(cfg->auth.trusted_networks.v[i],
		    &d->trusted[d->ntrusted++]) == -1)
			log_fatal(78, "auth.trusted_networks: bad network '%s'",
			    cfg->auth.trusted_networks.v[i]);
	}
	if (cfg->auth.mechanisms.n == 0) {
		d->mech_plain = d->mech_login = true;
	}
	for (i = 0; i < cfg->auth.mechanisms.n; i++) {
		const char *m = cfg->auth.mechanisms.v[i];

		if (!mech_find(m, strlen(m), &kind))
			log_fatal(78, "auth.mechanisms: unknown mechanism '%s' "
			    "(PLAIN, LOGIN)", m);
		if (kind == MECH_PLAIN)
			d->mech_plain = true;
		else
			d->mech_login = true;
	}
	if (cfg->auth.failure_delay + cfg->auth.penalty_max >
	    AUTH_REPLY_BUDGET)
		log_fatal(78, "auth.failure_delay + auth.penalty_max must not "
		    "exceed %ds: Postfix gives up after 10s and would answer "
		    "a temporary failure", AUTH_REPLY_BUDGET);
}

int
main(int argc, char **argv)
{
	struct aviary_config	 cfg;
	struct authd		 d = { 0 };
	struct arena		*a = arena_create(16 * 1024);
	struct passdb		*pdb;
	struct ev_io		*lio[2], *sio;
	const char		*config = AVIARY_CONFIG_DEFAULT, *error;
	char			 dbpw[1024];
	bool			 bound_client, bound_userdb;
	sigset_t		 mask;
	int			 c, sfd;

	log_init("aviary-auth", false, LOG_L_INFO);
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c') {
			(void)fprintf(stderr, "usage: aviary-auth [-c FILE]\n");
			return 64;
		}
		config = optarg;
	}
	if (optind != argc) {
		(void)fprintf(stderr, "usage: aviary-auth [-c FILE]\n");
		return 64;
	}
	if (aviary_config_load(&cfg, config, a, &error) == -1)
		log_fatal(78, "%s", error);
	proc_no_core_dumps();
	(void)signal(SIGPIPE, SIG_IGN);
	setup_policy(&d, &cfg);

	/* Secrets and sockets while still privileged, then drop. */
	if (db_read_password_file(cfg.auth.database.password_file, dbpw,
	    sizeof(dbpw), a, &error) == -1)
		log_fatal(78, "auth.database.password_file: %s", error);
	d.client_lfd = listen_socket("client", &cfg.auth.client_socket, a,
	    &bound_client);
	d.userdb_lfd = listen_socket("userdb", &cfg.auth.userdb_socket, a,
	    &bound_userdb);
	if (proc_drop_privileges(cfg.auth.user, a, &error) == -1)
		log_fatal(71, "%s", error);
	d.my_uid = geteuid();

	/* Blocked before pool_create starts the worker threads, which
	 * inherit the mask: a thread that did not block them would take
	 * SIGTERM or SIGHUP with the default action and end the process,
	 * instead of the signalfd below reading it. */
	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGTERM);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);

	d.cfg = &cfg;
	d.ev = ev_create();
	d.cache = lru_create(cfg.auth.cache_size, sizeof(struct cache_entry));
	d.penalty = lru_create(PENALTY_ENTRIES, sizeof(struct penalty_entry));
	if (RAND_bytes(d.fp_key, sizeof(d.fp_key)) != 1)
		log_fatal(71, "no randomness for the cache key");
	pdb = passdb_create(&cfg, dbpw, &error);
	explicit_bzero(dbpw, sizeof(dbpw));
	if (pdb == NULL)
		log_fatal(78, "%s: unknown %%-variable (use %%n, %%d, %%u)",
		    error);
	d.pool = pool_create(d.ev, pdb, cfg.auth.workers);

	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd == -1 ||
	    (sio = ev_io_add(d.ev, sfd, EV_READ, on_signal, &d)) == NULL ||
	    (lio[0] = ev_io_add(d.ev, d.client_lfd, EV_READ, on_listen,
	    &d)) == NULL ||
	    (lio[1] = ev_io_add(d.ev, d.userdb_lfd, EV_READ, on_listen,
	    &d)) == NULL)
		log_fatal(71, "event loop set-up: %m");
	log_info("auth: ready (client %s, userdb %s, %u workers)",
	    cfg.auth.client_socket.path, cfg.auth.userdb_socket.path,
	    cfg.auth.workers);
	ev_set_before_sleep(d.ev, authd_reap, &d);
	if (ev_run(d.ev) == -1)
		log_error("auth: event loop: %m");

	ev_io_del(&lio[0]);
	ev_io_del(&lio[1]);
	ev_io_del(&sio);
	(void)close(d.client_lfd);
	(void)close(d.userdb_lfd);
	if (bound_client)
		(void)unlink(cfg.auth.client_socket.path);
	if (bound_userdb)
		(void)unlink(cfg.auth.userdb_socket.path);
	/* Connections first (their jobs are marked cancelled), then the
	 * pool (running jobs finish, their callbacks are skipped). */
	client_conn_close_all(&d);
	userdb_conn_close_all(&d);
	pool_destroy(&d.pool);
	authd_reap(&d);
	free(d.dead);
	passdb_destroy(&pdb);
	lru_destroy(&d.cache);
	lru_destroy(&d.penalty);
	ev_destroy(&d.ev);
	arena_destroy(&a);
	return 0;
}
