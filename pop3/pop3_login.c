/* pop3_login.c - POP3 before authentication (RFC 1939 AUTHORIZATION
 * state): greeting, CAPA, STLS (RFC 2595), USER/PASS, AUTH (RFC 5034),
 * QUIT. Passwords go to aviary-auth's client socket and nowhere else;
 * this file has no access to the mail store (see pop3.h). */
#include <ctype.h>
#include <string.h>

#include "pop3.h"
#include "aviary/authclient.h"
#include "aviary/base64.h"
#include "aviary/log.h"
#include "aviary/tstream.h"

/* A SASL response line decodes to at most this much. */
#define SASL_MAX	(BASE64_DECODED_MAX(POP3_LINE_MAX))

static const char plaintext_refused[] = "-ERR [AUTH] Plaintext "
    "authentication disallowed on non-secure connections: use STLS or "
    "port 995.";

void
pop3_login_greet(struct pconn *c)
{
	pop3_reply(c, "+OK Aviary POP3 ready.");
}

void
pop3_login_abort(struct pconn *c)
{
	authclient_cancel(&c->areq);
}

static void
capa(struct pconn *c)
{
	const struct pop3d	*d = c->d;

	pop3_capa_begin(c);
	if (d->tls != NULL && !tstream_tls_started(c->s))
		pop3_reply(c, "STLS");
	if (pop3_plaintext_ok(c)) {
		pop3_reply(c, "USER");
		pop3_reply(c, "SASL PLAIN LOGIN");
	}
	pop3_reply(c, ".");
}

static void
stls(struct pconn *c)
{
	if (c->d->tls == NULL) {
		pop3_bad(c, "-ERR TLS is not configured on this server.");
		return;
	}
	if (tstream_tls_started(c->s)) {
		pop3_bad(c, "-ERR TLS is already active.");
		return;
	}
	pop3_reply(c, "+OK Begin TLS negotiation now.");
	/* Plaintext pipelined behind STLS is an injection attempt: drop
	 * it, and forget a USER given before (RFC 2595 4). */
	if (pop3_reader_pending(&c->rd) > 0 ||
	    tstream_starttls(c->s, c->d->tls) > 0)
		log_warn("pop3: rip=%s: discarded plaintext sent after STLS",
		    c->peer.rip);
	pop3_reader_discard(&c->rd);
	c->have_user = false;
	c->user[0] = '\0';
}

static void
on_auth(void *ctx, const struct authclient_reply *r)
{
	struct pconn	*c = ctx;
	char		 b64[BASE64_ENCODED_LEN(1024) + 1];

	switch (r->event) {
	case AUTHCLIENT_CONTINUE:
		if (r->len > 1024) {
			authclient_cancel(&c->areq);
			c->state = P_AUTHORIZATION;
			pop3_reply(c, "-ERR [SYS/TEMP] Authentication "
			    "exchange failed.");
			break;
		}
		base64_encode(r->data, r->len, b64);
		pop3_reply(c, "+ %s", b64);
		c->state = P_SASL;
		break;
	case AUTHCLIENT_OK:
		c->areq = NULL;
		(void)snprintf(c->user, sizeof(c->user), "%s", r->user);
		c->have_user = true;
		c->state = P_OPENING;
		c->d->n_logins++;
		pop3_mail_login(c, r->user);
		return;
	case AUTHCLIENT_FAIL:
		c->areq = NULL;
		c->state = P_AUTHORIZATION;
		c->have_user = false;
		switch (r->code) {
		case AUTHCLIENT_CODE_TEMP_FAIL:
			pop3_reply(c, "-ERR [SYS/TEMP] Temporary authentication "
			    "failure, try again later.");
			break;
		case AUTHCLIENT_CODE_INVALID_BASE64:
			pop3_bad(c, "-ERR Invalid base64 data.");
			break;
		case AUTHCLIENT_CODE_USER_DISABLED:
			pop3_bad(c, "-ERR [AUTH] Account is disabled.");
			break;
		default:
			pop3_bad(c, "-ERR [AUTH] Authentication failed.");
			break;
		}
		break;
	case AUTHCLIENT_TEMP:
		c->areq = NULL;
		c->state = P_AUTHORIZATION;
		c->have_user = false;
		pop3_reply(c, "-ERR [SYS/TEMP] Authentication service "
		    "unavailable, try again later.");
		break;
	}
	pop3_resume(c);
}

static void
auth_begin(struct pconn *c, const char *mech, const void *resp, size_t len)
{
	struct authclient_info	 info = {
		.lip = c->peer.lip, .rip = c->peer.rip,
		.lport = c->peer.lport, .rport = c->peer.rport,
		.secured = pop3_secured(c),
		.session = c->session,
	};

	c->state = P_AUTH_WAIT;
	c->areq = authclient_begin(c->d->auth, mech, "pop3", &info, resp, len,
	    on_auth, c);
}

static void
user(struct pconn *c, const struct pop3_cmd *cmd)
{
	if (!pop3_plaintext_ok(c)) {
		pop3_bad(c, "%s", plaintext_refused);
		return;
	}
	if (cmd->arg1.len > ADDR_MAX) {
		pop3_bad(c, "-ERR [AUTH] Invalid user name.");
		return;
	}
	memcpy(c->user, cmd->arg1.p, cmd->arg1.len);
	c->user[cmd->arg1.len] = '\0';
	c->have_user = true;
	pop3_reply(c, "+OK");
}

static void
pass(struct pconn *c, const struct pop3_cmd *cmd)
{
	char	 pw[POP3_LINE_MAX + 1];
	char	 resp[ADDR_MAX + POP3_LINE_MAX + 4];
	long	 n;

	if (!pop3_plaintext_ok(c)) {
		pop3_bad(c, "%s", plaintext_refused);
		return;
	}
	if (!c->have_user) {
		pop3_bad(c, "-ERR No user name given: send USER first.");
		return;
	}
	c->have_user = false;
	memcpy(pw, cmd->arg1.p, cmd->arg1.len);
	pw[cmd->arg1.len] = '\0';
	n = authclient_plain_response(c->user, pw, resp, sizeof(resp));
	explicit_bzero(pw, sizeof(pw));
	if (n < 0) {
		pop3_bad(c, "-ERR [AUTH] Authentication failed.");
		return;
	}
	auth_begin(c, "PLAIN", resp, (size_t)n);
	explicit_bzero(resp, sizeof(resp));
}

static void
auth(struct pconn *c, const struct pop3_cmd *cmd)
{
	unsigned char	 resp[SASL_MAX];
	char		 mech[16];
	size_t		 i, len;
	int		 r;

	if (cmd->arg1.len == 0) {
		/* AUTH alone: the mechanisms, as older clients expect. */
		pop3_reply(c, "+OK");
		if (pop3_plaintext_ok(c)) {
			pop3_reply(c, "PLAIN");
			pop3_reply(c, "LOGIN");
		}
		pop3_reply(c, ".");
		return;
	}
	if (cmd->arg1.len >= sizeof(mech)) {
		pop3_bad(c, "-ERR Unsupported authentication mechanism.");
		return;
	}
	for (i = 0; i < cmd->arg1.len; i++)
		mech[i] = (char)toupper((unsigned char)cmd->arg1.p[i]);
	mech[i] = '\0';
	if (strcmp(mech, "PLAIN") != 0 && strcmp(mech, "LOGIN") != 0) {
		pop3_bad(c, "-ERR Unsupported authentication mechanism.");
		return;
	}
	if (!pop3_plaintext_ok(c)) {
		pop3_bad(c, "%s", plaintext_refused);
		return;
	}
	c->have_user = false;
	if (!cmd->has_arg2) {
		auth_begin(c, mech, NULL, 0);
		return;
	}
	r = pop3_sasl_decode(cmd->arg2, resp, sizeof(resp), &len);
	if (r != 0) {
		explicit_bzero(resp, sizeof(resp));
		pop3_bad(c, r == 1 ? "-ERR Authentication cancelled." :
		    "-ERR Invalid base64 data.");
		return;
	}
	auth_begin(c, mech, resp, len);
	explicit_bzero(resp, sizeof(resp));
}

void
pop3_login_sasl_line(struct pconn *c, struct str line)
{
	unsigned char	 resp[SASL_MAX];
	size_t		 len;
	int		 r;

	r = pop3_sasl_decode(line, resp, sizeof(resp), &len);
	if (r != 0) {
		explicit_bzero(resp, sizeof(resp));
		authclient_cancel(&c->areq);
		c->state = P_AUTHORIZATION;
		/* RFC 5034 4: a cancelled exchange is a failed AUTH. */
		pop3_bad(c, r == 1 ? "-ERR Authentication cancelled." :
		    "-ERR Invalid base64 data.");
		return;
	}
	c->state = P_AUTH_WAIT;
	authclient_continue(c->areq, resp, len);
	explicit_bzero(resp, sizeof(resp));
}

void
pop3_login_command(struct pconn *c, const struct pop3_cmd *cmd)
{
	switch (cmd->id) {
	case POP3_C_CAPA:
		capa(c);
		break;
	case POP3_C_STLS:
		stls(c);
		break;
	case POP3_C_USER:
		user(c, cmd);
		break;
	case POP3_C_PASS:
		pass(c, cmd);
		break;
	case POP3_C_AUTH:
		auth(c, cmd);
		break;
	case POP3_C_APOP:
		pop3_bad(c, "-ERR APOP is not offered: use USER/PASS or "
		    "AUTH.");
		break;
	case POP3_C_QUIT:
		pop3_reply(c, "+OK Logging out.");
		pop3_close_after_reply(c);
		break;
	default:
		pop3_bad(c, "-ERR Not logged in.");
		break;
	}
}
