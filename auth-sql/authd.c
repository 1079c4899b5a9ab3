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

bool
authd_parse_ip(struct str s, struct net *ip_r)
{
	char	 tmp[INET6_ADDRSTRLEN + 1];

	memset(ip_r, 0, sizeof(*ip_r));
	if (s.len == 0 || s.len >= sizeof(tmp))
		return false;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	if (inet_pton(AF_INET, tmp, ip_r->addr) == 1) {
		ip_r->family = AF_INET;
		ip_r->prefix = 32;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, ip_r->addr) == 1) {
		ip_r->family = AF_INET6;
		ip_r->prefix = 128;
		return true;
	}
	return false;
}

static bool
net_contains(const struct net *n, const struct net *ip)
{
	unsigned	 full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != ip->family)
		return false;
	if (memcmp(n->addr, ip->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((n->addr[full] ^ ip->addr[full]) &
	    (unsigned char)(0xff << (8 - rest))) == 0;
}

bool
authd_is_loopback(const struct net *ip)
{
	static const unsigned char v6lo[16] = { [15] = 1 };
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (ip->family == AF_INET)
		return ip->addr[0] == 127;
	if (ip->family != AF_INET6)
		return false;
	/* ::ffff:127.x.y.z is IPv4 loopback seen through an IPv6 socket. */
	return memcmp(ip->addr, v6lo, 16) == 0 ||
	    (memcmp(ip->addr, v4mapped, 12) == 0 && ip->addr[12] == 127);
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

int
authd_parse_cidr(const char *s, struct net *n_r)
{
	const char	*slash = strchr(s, '/');
	struct str	 addr = slash ? (struct str){ s, (size_t)(slash - s) } :
			    str_from_cstr(s);
	uint64_t	 prefix;

	if (!authd_parse_ip(addr, n_r))
		return -1;
	if (slash != NULL) {
		if (str_to_u64(str_from_cstr(slash + 1), &prefix) == -1 ||
		    prefix > (n_r->family == AF_INET ? 32 : 128))
			return -1;
		n_r->prefix = (unsigned)prefix;
	}
	return 0;
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
