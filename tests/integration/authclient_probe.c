/* authclient_probe - drive core/mail/authclient.c for
 * tests/integration/test_authclient.py.
 *
 *   authclient_probe SOCKET MECH USERS [COUNT [TIMEOUT_MS]]
 *
 * Begins COUNT requests (default 1) at once on one client: request i
 * logs in as the i-th (cyclically) of the comma-separated USERS with
 * the i-th line of stdin as password. PLAIN sends an initial response;
 * LOGIN answers the "Username:" and "Password:" challenges (printed as
 * "i CONT <challenge>"). Prints one line per result, in the order they
 * arrive: "i OK user=<u>", "i FAIL code=<c> reason=<r>" or "i TEMP",
 * then "connections=<n>" (distinct server cookies seen: 1 when every
 * request shared one connection). Exits 0 when every request ended.
 * With $AUTHCLIENT_PROBE_RETRY set, a request that ends in TEMP is
 * begun again once, as PLAIN (a new connection is made for it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aviary/authclient.h"
#include "aviary/ev.h"
#include "aviary/log.h"

#define MAXREQ	256

struct probe {
	struct authclient	*c;
	struct ev		*ev;
	int			 left;
	char			 cookies[MAXREQ][65];
	int			 ncookies;
};

struct preq {
	struct probe		*p;
	int			 i;
	struct authclient_req	*h;
	const char		*user, *pass;
	bool			 retried;
};

static bool	 retry_temp;	/* $AUTHCLIENT_PROBE_RETRY: retry a TEMP once */
static void	 start(struct preq *q, const char *mech);

static const char *codes[] = { "none", "temp_fail", "authz_fail",
    "user_disabled", "invalid_base64", "pass_expired" };

static void
note_cookie(struct probe *p)
{
	const char	*ck = authclient_cookie(p->c);
	int		 i;

	if (ck == NULL)
		return;
	for (i = 0; i < p->ncookies; i++)
		if (strcmp(p->cookies[i], ck) == 0)
			return;
	if (p->ncookies < MAXREQ)
		snprintf(p->cookies[p->ncookies++], 65, "%s", ck);
}

static void
on_reply(void *ctx, const struct authclient_reply *r)
{
	struct preq	*q = ctx;
	struct probe	*p = q->p;

	note_cookie(p);
	switch (r->event) {
	case AUTHCLIENT_CONTINUE:
		printf("%d CONT %.*s\n", q->i, (int)r->len,
		    (const char *)r->data);
		if (r->len == 9 && memcmp(r->data, "Username:", 9) == 0)
			authclient_continue(q->h, q->user, strlen(q->user));
		else
			authclient_continue(q->h, q->pass, strlen(q->pass));
		return;
	case AUTHCLIENT_OK:
		printf("%d OK user=%s\n", q->i, r->user);
		break;
	case AUTHCLIENT_FAIL:
		printf("%d FAIL code=%s reason=%s\n", q->i, codes[r->code],
		    r->reason != NULL ? r->reason : "");
		break;
	case AUTHCLIENT_TEMP:
		printf("%d TEMP\n", q->i);
		if (retry_temp && !q->retried) {
			q->retried = true;
			start(q, "PLAIN");
			return;
		}
		break;
	}
	q->h = NULL;
	if (--p->left == 0)
		ev_stop(p->ev);
}

static struct authclient_info info = { "127.0.0.1", "127.0.0.1", 143,
    50000, false, "probe" };

static void
start(struct preq *q, const char *mech)
{
	char	 plain[1024];
	long	 n;

	if (strcmp(mech, "PLAIN") == 0) {
		n = authclient_plain_response(q->user, q->pass, plain,
		    sizeof(plain));
		if (n < 0)
			exit(2);
		q->h = authclient_begin(q->p->c, "PLAIN", "imap", &info,
		    plain, (size_t)n, on_reply, q);
		explicit_bzero(plain, sizeof(plain));
	} else {
		q->h = authclient_begin(q->p->c, mech, "imap", &info, NULL, 0,
		    on_reply, q);
	}
}

int
main(int argc, char **argv)
{
	struct probe		 p;
	static struct preq	 reqs[MAXREQ];
	static char		 pwbuf[MAXREQ][512];
	char			*users[MAXREQ], *tok, *save = NULL;
	int			 nusers = 0, npw = 0, count = 1, i;
	long			 timeout = 15000;

	if (argc < 4) {
		fprintf(stderr, "usage: authclient_probe SOCKET MECH USERS "
		    "[COUNT [TIMEOUT_MS]]\n");
		return 2;
	}
	if (argc > 4)
		count = (int)strtol(argv[4], NULL, 10);
	if (argc > 5)
		timeout = strtol(argv[5], NULL, 10);
	if (count < 1 || count > MAXREQ)
		return 2;
	log_init("authclient_probe", false, LOG_L_INFO);
	for (tok = strtok_r(argv[3], ",", &save); tok != NULL &&
	    nusers < MAXREQ; tok = strtok_r(NULL, ",", &save))
		users[nusers++] = tok;
	while (npw < MAXREQ && fgets(pwbuf[npw], sizeof(pwbuf[npw]),
	    stdin) != NULL) {
		pwbuf[npw][strcspn(pwbuf[npw], "\n")] = '\0';
		npw++;
	}
	if (nusers == 0 || npw == 0)
		return 2;
	retry_temp = getenv("AUTHCLIENT_PROBE_RETRY") != NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&p, 0, sizeof(p));
	p.ev = ev_create();
	p.c = authclient_create(p.ev, argv[1], (uint64_t)timeout);
	p.left = count;
	for (i = 0; i < count; i++) {
		struct preq	*q = &reqs[i];

		q->p = &p;
		q->i = i;
		q->user = users[i % nusers];
		q->pass = pwbuf[i % npw];
		start(q, argv[2]);
	}
	if (ev_run(p.ev) != 0)
		return 1;
	printf("connections=%d\n", p.ncookies);
	authclient_destroy(&p.c);
	ev_destroy(&p.ev);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	return 0;
}
