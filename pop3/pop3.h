/* pop3.h - aviary-pop3: what its parts share.
 *
 *   main.c		configuration, sockets, privileges, the loop
 *   pop3_conn.c	a connection: I/O, the command loop, timeouts,
 *			limits; dispatches by state
 *   pop3_login.c	before authentication: greeting, CAPA, STLS,
 *			USER/PASS, AUTH, QUIT. No access to the mail store:
 *			it includes no Maildir header and only hands the
 *			authenticated user to pop3_mail_login().
 *   pop3_mail.c	after it: the maildrop (TRANSACTION and UPDATE
 *			states of RFC 1939)
 *   pop3_parse.c	the command reader and parser (pure)
 *
 * DESIGN.md's target separation puts the pre-authentication half into
 * its own unprivileged, chrooted process later; keeping pop3_login.c
 * free of mail-store calls makes that split mechanical.
 */
#ifndef AVIARY_POP3_H
#define AVIARY_POP3_H

#include <stdbool.h>
#include <stdint.h>

#include "pop3_parse.h"
#include "aviary/addr.h"
#include "aviary/config.h"
#include "aviary/loginsvc.h"
#include "aviary/net.h"
#include "aviary/str.h"

struct authclient;
struct authclient_req;
struct ev;
struct ev_timer;
struct tls_ctx;
struct tstream;
struct userdb_client;
struct loginsvc;
struct pop3_mailbox;

struct pop3d {
	const struct aviary_config	*cfg;
	struct ev			*ev;
	struct tls_ctx			*tls;	/* NULL: no TLS configured */
	struct authclient		*auth;
	struct userdb_client		*userdb;
	struct loginsvc			*svc;	/* start-up, listeners, networks */
	char				 hostname[256];
	struct pconn			*conns;	/* every open connection */
	unsigned			 nconns;
	uint64_t			 session_seq;
	/* counters for the log at exit */
	uint64_t			 n_logins, n_retr, n_dele;
};

enum pstate {
	P_AUTHORIZATION,	/* before login */
	P_AUTH_WAIT,		/* aviary-auth is deciding */
	P_SASL,			/* AUTH: the client owes a response line */
	P_OPENING,		/* logged in; opening the maildrop */
	P_TRANSACTION,
	P_RETR,			/* streaming a RETR/TOP answer */
	P_QUIT,			/* replied to QUIT: flush and close */
};

struct pconn {
	struct pop3d		*d;
	struct pconn		*prev, *next;
	struct tstream		*s;
	struct pop3_reader	 rd;
	struct ev_timer		*timer;
	enum pstate		 state;
	unsigned		 bad;		/* bad commands so far */
	bool			 implicit_tls;	/* came in on listen_tls */
	struct loginsvc_peer	 peer;		/* addresses; local network */
	bool			 counted;	/* loginsvc_enter admitted it */
	char			 session[24];
	/* login */
	char			 user[ADDR_MAX + 1];	/* USER, then the login */
	bool			 have_user;
	struct authclient_req	*areq;
	/* after login */
	struct pop3_mailbox	*mb;
};

/* pop3_conn.c */
void	pop3_conn_accept(struct pop3d *d, int lfd, bool implicit_tls);
void	pop3_conn_close_all(struct pop3d *d);
/* Queue a reply line (CRLF added). A client that does not read its
 * replies is disconnected. */
void	pop3_reply(struct pconn *c, const char *fmt, ...) AV_PRINTFLIKE(2, 3);
/* Raw bytes of a multi-line answer; -1 if the output queue is full. */
int	pop3_write(struct pconn *c, const void *p, size_t n) AV_WARN_UNUSED;
/* A bad command: counts it, closes after pop3.max_bad_commands. */
void	pop3_bad(struct pconn *c, const char *fmt, ...) AV_PRINTFLIKE(2, 3);
/* Reply already queued; close once it is sent. */
void	pop3_close_after_reply(struct pconn *c);
/* Resume reading commands (after a wait); runs pipelined ones at once. */
void	pop3_resume(struct pconn *c);
/* "+OK" and the capabilities both states have (RFC 2449); the caller
 * adds its own and the final ".". */
void	pop3_capa_begin(struct pconn *c);
/* The connection is TLS, or plaintext passwords are acceptable on it. */
bool	pop3_secured(const struct pconn *c);
bool	pop3_plaintext_ok(const struct pconn *c);

/* pop3_login.c */
void	pop3_login_greet(struct pconn *c);
void	pop3_login_command(struct pconn *c, const struct pop3_cmd *cmd);
void	pop3_login_sasl_line(struct pconn *c, struct str line);
void	pop3_login_abort(struct pconn *c);	/* before closing */

/* pop3_mail.c */
/* Authenticated as 'user' (normalised address): look the home up, lock
 * and open the maildrop, reply +OK or -ERR (then back to
 * P_AUTHORIZATION). */
void	pop3_mail_login(struct pconn *c, const char *user);
void	pop3_mail_command(struct pconn *c, const struct pop3_cmd *cmd);
/* Produce more of a RETR/TOP answer (output drained). */
void	pop3_mail_produce(struct pconn *c);
/* QUIT in TRANSACTION: the UPDATE state; replies. */
void	pop3_mail_quit(struct pconn *c);
/* The connection ends: release the maildrop without changing it. */
void	pop3_mail_close(struct pconn *c);

#endif
