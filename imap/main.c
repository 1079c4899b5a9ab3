/* main.c - aviary-imap: arguments, configuration, sockets, TLS,
 * privileges, then the event loop (imap_conn.c and the files it
 * dispatches to have the protocol).
 *
 *   aviary-imap -c /etc/aviary/aviary.yaml
 *
 * Started by aviaryd it inherits its listeners (AVIARY_LISTEN_FDS
 * "tcp0=3,...,tls0=5,..."): tcpN from imap.listen (plaintext and STARTTLS),
 * tlsN from imap.listen_tls (implicit TLS). Started by hand it binds them
 * itself. The TLS key is read before privileges are dropped; as root it
 * then becomes imap.user (the mail user) and refuses to stay root. It
 * never talks to SQL: logins go to aviary-auth's client socket, homes
 * come from its userdb socket. */
#include <string.h>

#include "imap.h"
#include "aviary/log.h"
#include "aviary/loginsvc.h"

static struct loginsvc_section
section(const struct aviary_config *cfg)
{
	return (struct loginsvc_section){ &cfg->imap.listen,
	    &cfg->imap.listen_tls, cfg->imap.user };
}

static void
on_accept(void *owner, int lfd, bool tls)
{
	imap_conn_accept(owner, lfd, tls);
}

static void
on_stop(void *owner, unsigned signo)
{
	struct imapd	*d = owner;

	log_info("imap: stopping (signal %u); %llu logins", signo,
	    (unsigned long long)d->n_logins);
}

int
main(int argc, char **argv)
{
	static struct loginsvc	 s;
	struct imapd		 d;

	loginsvc_init(&s, "imap", argc, argv, section);
	memset(&d, 0, sizeof(d));
	d.svc = &s;
	d.cfg = &s.cfg;
	d.ev = s.ev;
	d.tls = s.tls;
	d.auth = s.auth;
	d.userdb = s.userdb;
	loginsvc_run(&s, on_accept, on_stop, &d);
	imap_conn_close_all(&d);
	loginsvc_fini(&s);
	return 0;
}
