/* authd.h - private to aviary-auth: the daemon's state and the pieces
 * the connection modules share.
 *
 * Threads: everything here runs on the event-loop thread, except what
 * pool.c hands to its workers (struct job). The cache and the penalty
 * table are therefore plain single-threaded maps.
 */
#ifndef AVIARY_AUTHD_H
#define AVIARY_AUTHD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "aviary/addr.h"
#include "aviary/config.h"
#include "aviary/net.h"
#include "aviary/password.h"

struct ev;
struct ev_io;
struct lru;
struct pool;
struct str;

#define AUTH_FP_LEN		32	/* HMAC-SHA256 */
#define AUTH_MAX_PENDING	256	/* unfinished requests per connection */
#define AUTH_OUT_MAX		(1024 * 1024)	/* output buffer ceiling */
#define AUTH_OUT_HIGH		(256 * 1024)	/* stop reading above this */
#define AUTH_TRUSTED_MAX	64

/* Postfix waits 10 s for each reply; the failure delay plus the largest
 * penalty must stay clearly below, or a wrong password would look like a
 * temporary failure (454) to the SMTP client. */
#define AUTH_REPLY_BUDGET	8

struct authd {
	const struct aviary_config	*cfg;
	struct ev			*ev;
	struct pool			*pool;
	struct lru			*cache;		/* login -> struct cache_entry */
	struct lru			*penalty;	/* "ip:..."/"user:..." -> struct penalty_entry */
	unsigned char			 fp_key[32];
	struct net			 trusted[AUTH_TRUSTED_MAX];
	size_t				 ntrusted;
	bool				 mech_plain, mech_login;
	uid_t				 my_uid;
	int				 client_lfd, userdb_lfd;
	uint64_t			 cookie_seq;
	/* Closed connections, freed before the loop sleeps (a closed
	 * connection may still be on the stack of the callback that closed
	 * it), and the open ones, closed at shutdown. */
	void				**dead;
	size_t				  ndead, capdead;
	struct cconn			 *cconns;
	struct uconn			 *uconns;
	/* counters for logs */
	uint64_t			 n_ok, n_fail, n_temp;
};

struct cache_entry {
	char		 user[ADDR_MAX + 1];
	char		 stored[PASSWORD_HASH_MAX];
	unsigned char	 fp[AUTH_FP_LEN];
	uint64_t	 verified_at;	/* ms, monotonic; 0: negative entry */
	uint64_t	 notfound_at;	/* ms; 0: not a negative entry */
};

#define PENALTY_RECENT	4

struct penalty_entry {
	unsigned	 failures;
	uint64_t	 last;		/* ms, monotonic */
	unsigned char	 recent[PENALTY_RECENT][AUTH_FP_LEN];
	unsigned	 nrecent;
};

/* authd.c */
void	authd_fingerprint(const struct authd *d, const char *login,
	    const char *password, unsigned char *fp);
/* Parse "a.b.c.d", "::1" (anything inet_pton takes). false if not an IP. */
bool	authd_is_trusted(const struct authd *d, const struct net *ip);
/* Brute-force penalty: the delay in ms before a request for (ip, login)
 * is processed; 0 when none. */
uint64_t authd_penalty_delay(struct authd *d, const char *ip_key,
	    const char *login);
void	authd_penalty_fail(struct authd *d, const char *ip_key,
	    const char *login, const unsigned char *fp);
void	authd_penalty_clear(struct authd *d, const char *ip_key,
	    const char *login);
/* Pure: the delay for n counted failures, capped at max_ms. */
uint64_t authd_penalty_for(unsigned failures, uint64_t max_ms);
/* Cache flush: NULL user = everything. Returns entries dropped. */
size_t	authd_cache_flush(struct authd *d, const char *login);

/* Hand a closed connection's memory to the loop: freed before the next
 * sleep (authd_reap) or at shutdown. */
void	authd_defer_free(struct authd *d, void *p);
void	authd_reap(void *d);

/* client_conn.c, userdb_conn.c */
struct cconn;
struct uconn;
void	client_conn_accept(struct authd *d, int lfd);
void	userdb_conn_accept(struct authd *d, int lfd);
void	client_conn_close_all(struct authd *d);
void	userdb_conn_close_all(struct authd *d);

#endif
