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
#include <string.h>

#include "pop3.h"
#include "aviary/log.h"
#include "aviary/loginsvc.h"

static struct loginsvc_section
section(const struct aviary_config *cfg)
{
	return (struct loginsvc_section){ &cfg->pop3.listen,
	    &cfg->pop3.listen_tls, cfg->pop3.user };
}

static void
on_accept(void *owner, int lfd, bool tls)
{
	pop3_conn_accept(owner, lfd, tls);
}

static void
on_stop(void *owner, unsigned signo)
{
	struct pop3d	*d = owner;

	log_info("pop3: stopping (signal %u); %llu logins, %llu "
	    "messages retrieved, %llu deleted", signo,
	    (unsigned long long)d->n_logins, (unsigned long long)d->n_retr,
	    (unsigned long long)d->n_dele);
}

int
main(int argc, char **argv)
{
	static struct loginsvc	 s;
	struct pop3d		 d;

	loginsvc_init(&s, "pop3", argc, argv, section);
	memset(&d, 0, sizeof(d));
	d.svc = &s;
	d.cfg = &s.cfg;
	d.ev = s.ev;
	d.tls = s.tls;
	d.auth = s.auth;
	d.userdb = s.userdb;
	loginsvc_run(&s, on_accept, on_stop, &d);
	pop3_conn_close_all(&d);
	loginsvc_fini(&s);
	return 0;
}
