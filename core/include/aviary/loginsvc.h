/* aviary/loginsvc.h - what the services clients log in to (aviary-pop3,
 * aviary-imap) share outside their protocol: start-up (arguments, the
 * configuration, local networks, the TLS context read while still root,
 * the listeners inherited from aviaryd or bound from the configuration,
 * the privilege drop, the clients of aviary-auth), the main loop with
 * its signals, and where a new connection comes from.
 *
 *	struct loginsvc s;
 *	loginsvc_init(&s, "pop3", argc, argv, pop3_section);
 *	... copy s.cfg, s.ev, s.tls, ... into the service's own struct
 *	loginsvc_run(&s, accept_cb, stop_cb, owner);
 *	... close the connections
 *	loginsvc_fini(&s);
 *
 * Start-up problems end the process through log_fatal (exit 78 for the
 * configuration, 71 for the system): they happen before anybody is
 * served.
 */
#ifndef AVIARY_LOGINSVC_H
#define AVIARY_LOGINSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aviary/config.h"
#include "aviary/net.h"

struct arena;
struct authclient;
struct ev;
struct ev_io;
struct tls_ctx;
struct userdb_client;

/* Listeners per list (plain, TLS) at most; local networks at most. */
#define LOGINSVC_LISTEN_MAX	16
#define LOGINSVC_NETS_MAX	64

struct loginsvc_listener {
	int		 fd;		/* non-blocking */
	bool		 tls;		/* implicit TLS */
	struct ev_io	*io;
	struct loginsvc	*svc;
};

struct loginsvc_ipcount {
	struct net	 ip;
	unsigned	 n;
};

/* The service's section of the configuration. */
struct loginsvc_section {
	const struct conf_list	*listen, *listen_tls;
	const char		*user;
};

struct loginsvc {
	const char		*name;		/* "pop3", for logs and keys */
	struct aviary_config	 cfg;
	struct arena		*a;
	struct ev		*ev;
	struct tls_ctx		*tls;		/* NULL: no TLS configured */
	struct authclient	*auth;
	struct userdb_client	*userdb;
	struct net		 local_nets[LOGINSVC_NETS_MAX];
	size_t			 nlocal_nets;
	struct loginsvc_listener ls[2 * LOGINSVC_LISTEN_MAX];
	size_t			 nls;
	/* connections being served, in all and per remote address */
	unsigned		 nconns;
	struct loginsvc_ipcount	*ips;
	size_t			 nips, capips;
	/* loginsvc_run */
	void			(*accept)(void *owner, int lfd, bool tls);
	void			(*stop)(void *owner, unsigned signo);
	void			*owner;
};

/* Everything up to serving: "aviary-<name> [-c FILE]", the
 * configuration, login.local_networks, login.tls, the listeners of the
 * section 'section' returns, the drop to its user, the loop and the
 * aviary-auth clients. */
void	loginsvc_init(struct loginsvc *s, const char *name, int argc,
	    char **argv,
	    struct loginsvc_section (*section)(const struct aviary_config *));
/* Serve until SIGTERM or SIGINT (SIGHUP is ignored: aviaryd restarts the
 * service for changes): accept(owner, fd, tls) for a readable listener,
 * stop(owner, signo) once before the loop ends. Then the listeners are
 * closed; the caller closes its connections and calls loginsvc_fini. */
void	loginsvc_run(struct loginsvc *s,
	    void (*accept)(void *owner, int lfd, bool tls),
	    void (*stop)(void *owner, unsigned signo), void *owner);
void	loginsvc_fini(struct loginsvc *s);

/* Where an accepted connection comes from. */
struct loginsvc_peer {
	struct net	 rip_net;
	char		 rip[NET_ADDR_TEXT], lip[NET_ADDR_TEXT];
	uint16_t	 rport, lport;
	bool		 local;		/* in login.local_networks */
};

void	loginsvc_peer(const struct loginsvc *s, int fd,
	    struct loginsvc_peer *p);
/* Admission of an accepted connection: NULL when it may be served (it
 * then counts until loginsvc_leave), or why not ("Too many
 * connections", "Too many connections from your address"): max_total
 * connections in all (0: no limit), login.max_connections_per_ip from
 * one address. */
const char *loginsvc_enter(struct loginsvc *s, const struct loginsvc_peer *p,
	    unsigned max_total);
void	loginsvc_leave(struct loginsvc *s, const struct loginsvc_peer *p);

/* accept4 on a listener, up to a batch at a time: the next connection's
 * descriptor, or -1 when there is none now (unexpected errors are
 * logged). */
int	loginsvc_accept(int lfd);

#endif
