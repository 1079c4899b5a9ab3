/* authd.c - aviary-auth's shared state: password fingerprints for the
 * cache, trusted networks, the brute-force penalty and the cache flush.
 *
 * The penalty grows with the failures counted for the remote IP and for
 * the user name, whichever is larger: 250 ms after the first, doubling,
 * capped at auth.penalty_max. A failure with the same wrong password as
 * one of the last four does not count again (a client retrying a stale
 * saved password is not an attack). Failures older than
 * auth.penalty_window are forgotten; a success clears both keys.
 * Trusted networks and requests flagged no-penalty are exempt. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authd.h"
#include "aviary/ev.h"
#include "aviary/lru.h"
#include "aviary/mem.h"
#include "aviary/str.h"

#define PENALTY_BASE_MS	250

void
authd_fingerprint(const struct authd *d, const char *login,
    const char *password, unsigned char *fp)
{
	unsigned char	 msg[ADDR_MAX + 1 + PASSWORD_MAX];
	size_t		 ll = strlen(login), pl = strlen(password);
	unsigned	 len = AUTH_FP_LEN;

	/* login NUL password: the same password of two users differs. */
	memcpy(msg, login, ll);
	msg[ll] = '\0';
	memcpy(msg + ll + 1, password, pl);
	if (HMAC(EVP_sha256(), d->fp_key, sizeof(d->fp_key), msg, ll + 1 + pl,
	    fp, &len) == NULL)
		memset(fp, 0, AUTH_FP_LEN);	/* never matches a real one */
	explicit_bzero(msg, sizeof(msg));
}

void
authd_defer_free(struct authd *d, void *p)
{
	if (d->ndead == d->capdead) {
		d->capdead = d->capdead ? d->capdead * 2 : 16;
		d->dead = xrealloc(d->dead, d->capdead * sizeof(*d->dead));
	}
	d->dead[d->ndead++] = p;
}

void
authd_reap(void *arg)
{
	struct authd	*d = arg;

	while (d->ndead > 0)
		free(d->dead[--d->ndead]);
}

bool
authd_is_trusted(const struct authd *d, const struct net *ip)
{
	size_t	 i;

	for (i = 0; i < d->ntrusted; i++)
		if (net_contains(&d->trusted[i], ip))
			return true;
	return false;
}

uint64_t
authd_penalty_for(unsigned failures, uint64_t max_ms)
{
	uint64_t	 d;

	if (failures == 0)
		return 0;
	if (failures > 20)		/* 250 ms << 20 is far past any cap */
		return max_ms;
	d = (uint64_t)PENALTY_BASE_MS << (failures - 1);
	return d > max_ms ? max_ms : d;
}

static struct penalty_entry *
penalty_get(struct authd *d, const char *key, uint64_t now)
{
	struct penalty_entry	*p = lru_get(d->penalty, key);

	if (p != NULL && now - p->last > d->cfg->auth.penalty_window * 1000) {
		(void)lru_del(d->penalty, key);
		return NULL;
	}
	return p;
}

uint64_t
authd_penalty_delay(struct authd *d, const char *ip_key, const char *login)
{
	uint64_t		 now = ev_now_ms();
	struct penalty_entry	*pi, *pu;
	char			 key[ADDR_MAX + 8];
	unsigned		 n = 0;

	pi = ip_key != NULL ? penalty_get(d, ip_key, now) : NULL;
	(void)snprintf(key, sizeof(key), "user:%s", login);
	pu = penalty_get(d, key, now);
	if (pi != NULL)
		n = pi->failures;
	if (pu != NULL && pu->failures > n)
		n = pu->failures;
	return authd_penalty_for(n, d->cfg->auth.penalty_max * 1000);
}

static void
penalty_count(struct authd *d, const char *key, const unsigned char *fp,
    uint64_t now)
{
	struct penalty_entry	*p = penalty_get(d, key, now);
	unsigned		 i;

	if (p == NULL && (p = lru_put(d->penalty, key, NULL)) == NULL)
		return;
	p->last = now;
	for (i = 0; i < p->nrecent && i < PENALTY_RECENT; i++)
		if (memcmp(p->recent[i], fp, AUTH_FP_LEN) == 0)
			return;		/* the same wrong password again */
	memcpy(p->recent[p->nrecent % PENALTY_RECENT], fp, AUTH_FP_LEN);
	p->nrecent++;
	if (p->failures < 1000)
		p->failures++;
}

void
authd_penalty_fail(struct authd *d, const char *ip_key, const char *login,
    const unsigned char *fp)
{
	uint64_t	 now = ev_now_ms();
	char		 key[ADDR_MAX + 8];

	if (ip_key != NULL)
		penalty_count(d, ip_key, fp, now);
	(void)snprintf(key, sizeof(key), "user:%s", login);
	penalty_count(d, key, fp, now);
}

void
authd_penalty_clear(struct authd *d, const char *ip_key, const char *login)
{
	char	 key[ADDR_MAX + 8];

	if (ip_key != NULL)
		(void)lru_del(d->penalty, ip_key);
	(void)snprintf(key, sizeof(key), "user:%s", login);
	(void)lru_del(d->penalty, key);
}

struct flush_ctx {
	const char	*login;
	size_t		 n;
};

static bool
flush_one(const char *key, void *val, void *ctx)
{
	struct flush_ctx	*f = ctx;
	struct cache_entry	*e = val;

	/* Drop entries for the login name and for logins that resolved to
	 * this mailbox (user@alias-domain). */
	if (strcmp(key, f->login) == 0 || strcmp(e->user, f->login) == 0) {
		f->n++;
		return false;
	}
	return true;
}

size_t
authd_cache_flush(struct authd *d, const char *login)
{
	struct flush_ctx	 f = { login, 0 };

	if (login == NULL)
		return lru_clear(d->cache);
	lru_walk(d->cache, flush_one, &f);
	return f.n;
}
