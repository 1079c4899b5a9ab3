/* aviary/userdb_client.h - asynchronous lookups on aviary-auth's userdb
 * socket (Dovecot's userdb protocol, docs/auth.md), for the event loop
 * of a mail service.
 *
 * One connection per client, made on first use and remade after it
 * breaks; requests are pipelined with their own ids. Every lookup ends
 * in exactly one callback: found (1), not found (0), or a temporary
 * failure (-1: aviary-auth unreachable, SQL down, no answer within the
 * timeout), unless it was cancelled first. The reply struct is valid
 * during the callback only.
 */
#ifndef AVIARY_USERDB_CLIENT_H
#define AVIARY_USERDB_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "aviary/addr.h"

struct ev;
struct userdb_client;
struct userdb_req;

struct userdb_reply {
	char		 user[ADDR_MAX + 1];	/* the mailbox (alias domains resolved) */
	char		 home[4096];
	uint64_t	 quota_bytes, quota_messages;	/* 0 = unlimited */
	bool		 active;
};

typedef void userdb_cb(void *ctx, int status, const struct userdb_reply *r);

struct userdb_client *userdb_client_create(struct ev *ev, const char *path,
		    uint64_t timeout_ms);
void		 userdb_client_destroy(struct userdb_client **cp);
/* Look up 'user' (normalised local@domain). Returns a handle for
 * userdb_cancel; the callback may run before this returns only never:
 * it always runs from the loop. */
struct userdb_req *userdb_lookup(struct userdb_client *c, const char *user,
		    const char *service, userdb_cb *cb, void *ctx);
/* The callback will not run. Sets *rp to NULL; NULL is fine. */
void		 userdb_cancel(struct userdb_req **rp);

#endif
