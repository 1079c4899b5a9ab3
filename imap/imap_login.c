/* imap_login.c - IMAP before authentication (RFC 3501 6.1-6.2):
 * greeting, CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN, AUTHENTICATE
 * (PLAIN and LOGIN, SASL-IR). Passwords go to aviary-auth's client
 * socket and nowhere else; this file has no access to the mail store. */
#include <stdio.h>
#include <string.h>

#include "imap.h"
#include "aviary/authclient.h"
#include "aviary/base64.h"
#include "aviary/log.h"
#include "aviary/tstream.h"

#define SASL_MAX	8192

void
imap_login_greet(struct iconn *c)
{
	struct buf	 caps;

	buf_init(&caps, NULL, 1024);
	imap_capabilities(c, &caps);
	imap_send(c, "* OK [CAPABILITY %s] Aviary IMAP ready.",
	    buf_cstr(&caps));
	buf_deinit(&caps);
}

void
imap_login_abort(struct iconn *c)
{
	authclient_cancel(&c->areq);
	if (c->wait == IW_AUTH || c->wait == IW_SASL)
		c->wait = IW_NONE;
}

static void
capability(struct iconn *c, const char *tag)
{
	struct buf	 caps;

	buf_init(&caps, NULL, 1024);
	imap_capabilities(c, &caps);
	imap_send(c, "* CAPABILITY %s", buf_cstr(&caps));
	buf_deinit(&caps);
	imap_ok(c, tag, "Capability completed.");
}

/* RFC 2971: our own ID, whatever the client says (its fields are logged
 * at debug level only: they are client-controlled). */
static void
id(struct iconn *c, const char *tag)
{
	imap_send(c, "* ID (\"name\" \"Aviary\")");
	imap_ok(c, tag, "ID completed.");
}

static void
starttls(struct iconn *c, const char *tag)
{
	if (c->d->tls == NULL) {
		imap_bad(c, tag, "TLS is not configured on this server.");
		return;
	}
	if (tstream_tls_started(c->s)) {
		imap_bad(c, tag, "TLS is already active.");
		return;
	}
	imap_ok(c, tag, "Begin TLS negotiation now.");
	/* Plaintext pipelined after STARTTLS must not run inside TLS
	 * (RFC 3501 6.2.1, CVE-2011-0411). */
	if (c->in_len > 0 || tstream_starttls(c->s, c->d->tls) > 0)
		log_warn("imap: rip=%s: discarded plaintext sent after "
		    "STARTTLS", c->peer.rip);
	if (c->in_len > 0)
		explicit_bzero(c->in, c->in_len);
	c->in_len = 0;
}

static void
on_auth(void *ctx, const struct authclient_reply *r)
{
	struct iconn	*c = ctx;
	char		 b64[BASE64_ENCODED_LEN(1024) + 1];

	switch (r->event) {
	case AUTHCLIENT_CONTINUE:
		if (r->len > 1024) {
			authclient_cancel(&c->areq);
			c->wait = IW_NONE;
			imap_no(c, c->tag, "[UNAVAILABLE] Authentication "
			    "exchange failed.");
			break;
		}
		base64_encode(r->data, r->len, b64);
		imap_send(c, "+ %s", b64);
		c->wait = IW_SASL;
		imap_read_line(c);
		break;
	case AUTHCLIENT_OK:
		c->areq = NULL;
		c->wait = IW_NONE;
		(void)snprintf(c->user, sizeof(c->user), "%s", r->user);
		c->d->n_logins++;
		imap_session_login(c, c->tag, r->user);
		return;
	case AUTHCLIENT_FAIL:
		c->areq = NULL;
		c->wait = IW_NONE;
		switch (r->code) {
		case AUTHCLIENT_CODE_TEMP_FAIL:
			imap_no(c, c->tag, "[UNAVAILABLE] Temporary "
			    "authentication failure, try again later.");
			break;
		case AUTHCLIENT_CODE_INVALID_BASE64:
			imap_bad(c, c->tag, "Invalid base64 data.");
			break;
		case AUTHCLIENT_CODE_USER_DISABLED:
			imap_no(c, c->tag, "[CONTACTADMIN] Account is "
			    "disabled.");
			break;
		case AUTHCLIENT_CODE_AUTHZ_FAIL:
			imap_no(c, c->tag, "[AUTHORIZATIONFAILED] "
			    "Authorization failed.");
			break;
		case AUTHCLIENT_CODE_PASS_EXPIRED:
			imap_no(c, c->tag, "[EXPIRED] Password expired.");
			break;
		default:
			imap_no(c, c->tag, "[AUTHENTICATIONFAILED] "
			    "Authentication failed.");
			break;
		}
		break;
	case AUTHCLIENT_TEMP:
		c->areq = NULL;
		c->wait = IW_NONE;
		imap_no(c, c->tag, "[UNAVAILABLE] Authentication service "
		    "unavailable, try again later.");
		break;
	}
	imap_resume(c);
}

static void
auth_begin(struct iconn *c, const char *tag, const char *mech,
    const void *resp, size_t len, bool has_resp)
{
	struct authclient_info	 info = {
		.lip = c->peer.lip, .rip = c->peer.rip,
		.lport = c->peer.lport, .rport = c->peer.rport,
		.secured = imap_secured(c),
		.session = c->session_id,
	};

	(void)snprintf(c->tag, sizeof(c->tag), "%s", tag);
	c->wait = IW_AUTH;
	c->areq = authclient_begin(c->d->auth, mech, "imap", &info,
	    has_resp ? resp : NULL, len, on_auth, c);
}

static void
login(struct iconn *c, const char *tag, const struct imap_args *a)
{
	char	 resp[ADDR_MAX + 1024 + 4];
	long	 n;

	if (!imap_plaintext_ok(c)) {
		imap_no(c, tag, "[PRIVACYREQUIRED] Plaintext authentication "
		    "disallowed on non-secure connections: use STARTTLS or "
		    "port 993.");
		return;
	}
	n = authclient_plain_response(a->u.login.user, a->u.login.pass, resp,
	    sizeof(resp));
	if (n < 0 || strlen(a->u.login.user) > ADDR_MAX) {
		imap_no(c, tag, "[AUTHENTICATIONFAILED] Authentication "
		    "failed.");
		return;
	}
	auth_begin(c, tag, "PLAIN", resp, (size_t)n, true);
	explicit_bzero(resp, sizeof(resp));
}

static void
authenticate(struct iconn *c, const char *tag, const struct imap_args *a)
{
	unsigned char	 resp[SASL_MAX];
	const char	*mech = a->u.auth.mech, *ir = a->u.auth.ir;
	long		 n = 0;

	if (strcmp(mech, "PLAIN") != 0 && strcmp(mech, "LOGIN") != 0) {
		imap_no(c, tag, "Unsupported authentication mechanism.");
		return;
	}
	if (!imap_plaintext_ok(c)) {
		imap_no(c, tag, "[PRIVACYREQUIRED] Plaintext authentication "
		    "disallowed on non-secure connections: use STARTTLS or "
		    "port 993.");
		return;
	}
	if (ir != NULL && ir[0] != '\0') {
		size_t	 len = strlen(ir);

		if (BASE64_DECODED_MAX(len) > sizeof(resp) ||
		    (n = base64_decode(ir, len, resp)) < 0) {
			imap_bad(c, tag, "Invalid base64 data.");
			return;
		}
	}
	auth_begin(c, tag, mech, resp, (size_t)n, ir != NULL);
	explicit_bzero(resp, sizeof(resp));
}

void
imap_login_sasl_line(struct iconn *c, const char *line, size_t len)
{
	unsigned char	 resp[SASL_MAX];
	long		 n;

	if (len == 1 && line[0] == '*') {
		authclient_cancel(&c->areq);
		c->wait = IW_NONE;
		imap_bad(c, c->tag, "Authentication cancelled.");
		return;
	}
	if (BASE64_DECODED_MAX(len) > sizeof(resp) ||
	    (n = base64_decode(line, len, resp)) < 0) {
		authclient_cancel(&c->areq);
		c->wait = IW_NONE;
		imap_bad(c, c->tag, "Invalid base64 data.");
		return;
	}
	c->wait = IW_AUTH;
	authclient_continue(c->areq, resp, (size_t)n);
	explicit_bzero(resp, sizeof(resp));
}

bool
imap_login_command(struct iconn *c, const char *tag,
    const struct imap_args *a)
{
	switch (a->id) {
	case IMAP_CMD_CAPABILITY:
		capability(c, tag);
		return true;
	case IMAP_CMD_NOOP:
		if (c->state != I_NOAUTH)
			return false;	/* reports changes when selected */
		imap_ok(c, tag, "NOOP completed.");
		return true;
	case IMAP_CMD_LOGOUT:
		imap_send(c, "* BYE Logging out.");
		imap_ok(c, tag, "Logout completed.");
		imap_close_after_reply(c);
		return true;
	case IMAP_CMD_ID:
		id(c, tag);
		return true;
	case IMAP_CMD_STARTTLS:
		starttls(c, tag);
		return true;
	case IMAP_CMD_LOGIN:
		login(c, tag, a);
		return true;
	case IMAP_CMD_AUTHENTICATE:
		authenticate(c, tag, a);
		return true;
	default:
		return false;
	}
}
