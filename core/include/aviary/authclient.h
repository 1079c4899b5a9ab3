/* aviary/authclient.h - asynchronous SASL requests on aviary-auth's
 * client socket (the Dovecot authentication protocol, docs/auth.md and
 * protocols.md section 1), for the event loop of a login process
 * (IMAP, POP3).
 *
 * One connection per client (one client per process), made on first
 * use and remade after it breaks: it sends VERSION 1 2 and CPID <pid>
 * and waits for the server's DONE, remembering the mechanisms offered
 * and the SPID and COOKIE (a later master REQUEST quotes them). Requests
 * are pipelined with their own ids; requests begun before DONE wait for
 * it. Client data is base64-encoded here and server data decoded, so the
 * caller only sees raw bytes. Payloads and passwords are never logged,
 * and the buffers that held them are cleared.
 *
 * Every request ends in exactly one final callback (OK, FAIL or TEMP),
 * unless it was cancelled first, and may see CONTINUE events before it.
 * Callbacks always run from the loop, never from inside authclient_begin
 * or authclient_continue. A callback may begin, continue or cancel
 * requests, but must not destroy the client. The reply struct and the
 * bytes it points to are valid during the callback only (and cleared
 * after it).
 */
#ifndef AVIARY_AUTHCLIENT_H
#define AVIARY_AUTHCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev;
struct authclient;
struct authclient_req;

enum authclient_event {
	/* The server sent a challenge (data, len: decoded; LOGIN sends
	 * "Username:" then "Password:"). Answer with authclient_continue,
	 * or give up with authclient_cancel. No timeout runs meanwhile
	 * (aviary-auth forgets the request after auth.request_timeout). */
	AUTHCLIENT_CONTINUE,
	/* Authenticated as 'user' (the mailbox, alias domains resolved). */
	AUTHCLIENT_OK,
	/* Refused: 'code' says why, 'reason' (may be NULL) is text for the
	 * end user. A wrong password has code AUTHCLIENT_CODE_NONE. */
	AUTHCLIENT_FAIL,
	/* No answer: aviary-auth unreachable, the connection lost or no
	 * answer within the timeout. IMAP answers NO [UNAVAILABLE], POP3
	 * -ERR [SYS/TEMP]. */
	AUTHCLIENT_TEMP,
};

/* FAIL code= (protocols.md 1.5; the pre-2.3 "temp" and "authz" too). */
enum authclient_code {
	AUTHCLIENT_CODE_NONE,		/* NO [AUTHENTICATIONFAILED] */
	AUTHCLIENT_CODE_TEMP_FAIL,	/* NO [UNAVAILABLE] (SQL down) */
	AUTHCLIENT_CODE_AUTHZ_FAIL,	/* NO [AUTHORIZATIONFAILED] */
	AUTHCLIENT_CODE_USER_DISABLED,	/* NO [CONTACTADMIN] */
	AUTHCLIENT_CODE_INVALID_BASE64,	/* BAD */
	AUTHCLIENT_CODE_PASS_EXPIRED,	/* NO [EXPIRED] */
};

struct authclient_reply {
	enum authclient_event	 event;
	const unsigned char	*data;	/* CONTINUE: challenge; else NULL */
	size_t			 len;
	const char		*user;	/* OK: the user= value; else NULL */
	enum authclient_code	 code;	/* FAIL; else AUTHCLIENT_CODE_NONE */
	const char		*reason;	/* FAIL: reason=, or NULL */
};

/* The connection a request comes from. Strings may be NULL (or "") and
 * are then left out, as are ports of 0; they must not contain TAB, CR
 * or LF (such a field is left out and logged). */
struct authclient_info {
	const char	*lip, *rip;	/* local and remote address */
	uint16_t	 lport, rport;
	bool		 secured;	/* TLS (or a trusted local client) */
	const char	*session;	/* session id, for the logs */
};

typedef void authclient_cb(void *ctx, const struct authclient_reply *r);

/* timeout_ms: how long a request may wait for aviary-auth (connecting,
 * the handshake and each answer; more than its failure delay plus
 * penalty, which are at most 8 s together). Never NULL. */
struct authclient *authclient_create(struct ev *ev, const char *socket_path,
		    uint64_t timeout_ms);
/* Pending requests are dropped without callbacks. Sets *cp to NULL;
 * NULL is fine. Not from inside a callback. */
void		 authclient_destroy(struct authclient **cp);

/* Start an exchange: mech "PLAIN" or "LOGIN" (any mechanism the server
 * offers), service "imap" or "pop3". resp/resp_len: the SASL initial
 * response (raw bytes, possibly empty), or NULL for none. Returns a
 * handle for authclient_continue and authclient_cancel, never NULL;
 * invalid arguments (a mechanism or service name that is not a plain
 * token, a response too long for one line) end in FAIL, a mechanism the
 * server does not offer in FAIL with reason "Unsupported authentication
 * mechanism". The handle is invalid after the final callback. */
struct authclient_req *authclient_begin(struct authclient *c,
		    const char *mech, const char *service,
		    const struct authclient_info *info, const void *resp,
		    size_t resp_len, authclient_cb *cb, void *ctx);
/* Answer the last CONTINUE with raw bytes (possibly none). Calling it
 * when no CONTINUE is outstanding is a bug: the request then ends in
 * FAIL. */
void		 authclient_continue(struct authclient_req *r,
		    const void *data, size_t len);
/* Abort: sends CANCEL if the server knows the request; the callback
 * will not run. Sets *rp to NULL; NULL is fine. */
void		 authclient_cancel(struct authclient_req **rp);

/* What the server advertised on the current connection (false, NULL or
 * 0 before its DONE). */
bool		 authclient_has_mech(const struct authclient *c,
		    const char *mech);
const char	*authclient_cookie(const struct authclient *c);
uint64_t	 authclient_spid(const struct authclient *c);

/* The PLAIN initial response "\0user\0password" for IMAP LOGIN and POP3
 * USER/PASS, into out (outsz bytes). Returns its length, or -1 if it
 * does not fit (out is then cleared). The caller clears out after use
 * (explicit_bzero). */
long		 authclient_plain_response(const char *user,
		    const char *password, void *out, size_t outsz);

#endif
