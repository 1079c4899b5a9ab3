/* imap.h - aviary-imap: what its parts share.
 *
 *   main.c		configuration, sockets, TLS, privileges, the loop
 *   imap_conn.c	a connection: I/O through tstream, the reader's
 *			events (commands, literals, continuation lines),
 *			dispatch by state, tagged/untagged replies, limits,
 *			timeouts, IDLE
 *   imap_login.c	before authentication: greeting, CAPABILITY,
 *			STARTTLS, LOGIN, AUTHENTICATE, ID, NOOP, LOGOUT.
 *			No access to the mail store (make lint checks it):
 *			it hands the user to imap_session_login().
 *   imap_session.c	after it: the user's mailbox home, folder
 *			commands that need no selected folder (LIST, LSUB,
 *			CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS,
 *			NAMESPACE, ENABLE, GETQUOTA(ROOT), APPEND)
 *   imap_mbox.c	the selected folder: the view (sequence numbers
 *			to UIDs, flags), synchronisation with the disk
 *			(other sessions, deliveries), STORE, EXPUNGE,
 *			COPY/MOVE, SELECT/EXAMINE/CLOSE/UNSELECT
 *   imap_fetch.c	FETCH
 *   imap_searchrun.c	SEARCH (and ESEARCH results)
 *   imap_parse.c ...	the command parser (pure), see imap_parse.h
 *
 * One process, one event loop, many connections; the pre-login half can
 * move to its own process later (DESIGN.md) without touching the
 * protocol code, as for POP3.
 */
#ifndef AVIARY_IMAP_H
#define AVIARY_IMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "imap_parse.h"
#include "aviary/addr.h"
#include "aviary/buf.h"
#include "aviary/config.h"
#include "aviary/loginsvc.h"
#include "aviary/net.h"

struct arena;
struct authclient;
struct authclient_req;
struct ev;
struct ev_timer;
struct tls_ctx;
struct tstream;
struct userdb_client;
struct loginsvc;
struct iconn;
struct imap_session;

struct imapd {
	const struct aviary_config	*cfg;
	struct ev			*ev;
	struct tls_ctx			*tls;	/* NULL: no TLS configured */
	struct authclient		*auth;
	struct userdb_client		*userdb;
	struct loginsvc			*svc;	/* start-up, listeners, networks */
	struct iconn			*conns;
	unsigned			 nconns;
	uint64_t			 session_seq;
	uint64_t			 n_logins;
};

enum istate {
	I_NOAUTH,		/* before login */
	I_AUTH,			/* logged in, nothing selected */
	I_SELECTED,
	I_LOGOUT,		/* flush, then close */
};

/* What the connection is doing beyond the state: a command that waits
 * (aviary-auth, userdb) pauses input; AUTHENTICATE and IDLE read lines. */
enum iwait {
	IW_NONE,
	IW_AUTH,		/* aviary-auth deciding */
	IW_SASL,		/* the client owes an AUTHENTICATE line */
	IW_USERDB,		/* looking the home up */
	IW_IDLE,		/* IDLE: waiting for DONE */
	IW_APPEND,		/* receiving an APPEND literal */
	IW_OUTPUT,		/* a long FETCH is being produced */
};

struct iconn {
	struct imapd		*d;
	struct iconn		*prev, *next;
	struct tstream		*s;
	struct imap_reader	*rd;
	struct ev_timer		*timer;
	uint64_t		 last_activity;	/* ms, the last command */
	enum istate		 state;
	enum iwait		 wait;
	unsigned		 bad;
	bool			 implicit_tls;
	struct loginsvc_peer	 peer;		/* addresses; local network */
	bool			 counted;	/* loginsvc_enter admitted it */
	char			 session_id[24];
	char			 tag[128];	/* of the command that waits */
	/* pending input not yet handed to the reader (paused) */
	char			*in;
	size_t			 in_len, in_cap;
	/* login */
	char			 user[ADDR_MAX + 1];
	struct authclient_req	*areq;
	char			 auth_cmd[16];	/* "LOGIN" or "AUTHENTICATE" */
	/* after login */
	struct imap_session	*ses;
	/* per command */
	struct arena		*cmd_arena;
};

/* --- imap_conn.c --- */
void	imap_conn_accept(struct imapd *d, int lfd, bool implicit_tls);
void	imap_conn_close_all(struct imapd *d);
/* Queue a whole line (CRLF added): "* OK ...", "tag NO ...". A client
 * that does not read is disconnected. */
void	imap_send(struct iconn *c, const char *fmt, ...) AV_PRINTFLIKE(2, 3);
/* Queue raw bytes (the line pieces a FETCH builds, literals). -1: the
 * output queue is full (the connection is then closing). */
int	imap_send_raw(struct iconn *c, const void *p, size_t n)
	    AV_WARN_UNUSED;
/* Tagged replies for the command being run. */
void	imap_ok(struct iconn *c, const char *tag, const char *fmt, ...)
	    AV_PRINTFLIKE(3, 4);
void	imap_no(struct iconn *c, const char *tag, const char *fmt, ...)
	    AV_PRINTFLIKE(3, 4);
void	imap_bad(struct iconn *c, const char *tag, const char *fmt, ...)
	    AV_PRINTFLIKE(3, 4);
/* Bytes queued for the client now. */
size_t	imap_pending(const struct iconn *c);
/* A waiting command finished: read and run the next ones. */
void	imap_resume(struct iconn *c);
/* Close after the queued output (LOGOUT, fatal errors). */
void	imap_close_after_reply(struct iconn *c);
bool	imap_secured(const struct iconn *c);
bool	imap_plaintext_ok(const struct iconn *c);
/* The CAPABILITY list for the connection's state, without "* " or the
 * response code brackets. */
void	imap_capabilities(const struct iconn *c, struct buf *out);
/* The reader must read the next line raw (AUTHENTICATE, IDLE). */
void	imap_read_line(struct iconn *c);
/* IDLE (RFC 2177): "+ idling", then the session's idle check runs every
 * second until the client sends DONE (answered "tag OK" here). */
void	imap_idle_start(struct iconn *c, const char *tag);
void	imap_idle_stop(struct iconn *c);

/* --- imap_login.c --- */
void	imap_login_greet(struct iconn *c);
/* A command in the NOAUTH state (or one allowed in any state: CAPABILITY,
 * NOOP, LOGOUT, ID). true if it was handled here. */
bool	imap_login_command(struct iconn *c, const char *tag,
	    const struct imap_args *a);
void	imap_login_sasl_line(struct iconn *c, const char *line, size_t len);
void	imap_login_abort(struct iconn *c);

/* --- imap_session.c --- */
/* Authenticated: look the home up and open it; replies to tag with
 * "OK [CAPABILITY ...] Logged in" or NO (then back to I_NOAUTH). */
void	imap_session_login(struct iconn *c, const char *tag,
	    const char *user);
void	imap_session_close(struct iconn *c);
/* Commands of the AUTH and SELECTED states. */
void	imap_session_command(struct iconn *c, const char *tag,
	    const struct imap_args *a);
/* APPEND's literal: the command's bytes as they come (imap_conn.c
 * routes LITERAL_DATA here); last when the literal is complete. */
int	imap_session_append_begin(struct iconn *c, const char *tag,
	    const struct imap_cmd *partial, uint64_t size,
	    const char **error_r) AV_WARN_UNUSED;
void	imap_session_append_data(struct iconn *c, const char *p, size_t n,
	    bool last);
/* A FETCH paused at the output's high-water mark (c->wait ==
 * IW_OUTPUT) goes on; true when it has ended (tagged reply queued,
 * c->wait back to IW_NONE). imap_fetch.c. */
bool	imap_fetch_continue(struct iconn *c);
/* Empty the SEARCHRES "$" (RFC 5182: SELECT, EXAMINE, CLOSE, UNSELECT
 * and a failed SEARCH ... SAVE do). */
void	imap_session_forget_saved(struct iconn *c);
/* IDLE: the per-second look at the selected folder, and its end (the
 * view is expanded again: imap_session.h, hibernation). */
void	imap_session_idle_check(struct iconn *c);
void	imap_session_idle_done(struct iconn *c);

#endif
