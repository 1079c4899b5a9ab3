/* pool.h - aviary-auth's worker threads. The event loop never blocks on
 * SQL or on password hashing: it submits a job, and the job's done
 * callback runs later on the loop thread (woken through an eventfd).
 *
 * Ownership: a submitted job belongs to the pool until its callback has
 * run; the pool frees it afterwards. A requester that goes away sets
 * job->cancelled (on the loop thread) and forgets the pointer: the
 * callback is then skipped. Passwords in a job are cleared by the worker
 * as soon as they are verified.
 */
#ifndef AVIARY_AUTH_POOL_H
#define AVIARY_AUTH_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "aviary/addr.h"
#include "aviary/password.h"

struct ev;
struct buf;
struct passdb;

enum job_kind { JOB_PASSDB, JOB_USERDB, JOB_LIST };

enum job_status {
	JOB_OK,
	JOB_NOTFOUND,	/* no such user */
	JOB_MISMATCH,	/* wrong password */
	JOB_DISABLED,	/* mailbox or domain inactive */
	JOB_TEMP,	/* SQL unavailable or unsure: a temporary failure */
};

struct job {
	enum job_kind	 kind;
	bool		 cancelled;	/* loop thread only */
	/* in */
	char		 login[ADDR_MAX + 1];	/* normalised local@domain */
	char		 password[PASSWORD_MAX];	/* JOB_PASSDB; cleared */
	/* JOB_PASSDB: the stored value this password was last verified
	 * against (from the cache). If SQL still holds exactly this value,
	 * the expensive hash is skipped: a password change, or any edit of
	 * the row's password, is seen at once. */
	bool		 has_cached;
	char		 cached[PASSWORD_HASH_MAX];
	/* out */
	enum job_status	 status;
	char		 user[ADDR_MAX + 1];	/* the mailbox (alias domains resolved) */
	char		 stored[PASSWORD_HASH_MAX];	/* JOB_PASSDB, on OK */
	bool		 active;
	uint64_t	 quota_bytes, quota_messages;
	struct buf	*list;		/* JOB_LIST: "user\n" lines (heap) */
	const char	*why;		/* static, for logs */
	/* completion, on the loop thread */
	void		(*done)(struct job *, void *);
	void		*ctx;
	struct job	*next;
};

struct pool;

struct pool	*pool_create(struct ev *ev, struct passdb *pdb, unsigned threads);
/* Stops and joins the threads; pending jobs complete as cancelled. */
void		 pool_destroy(struct pool **pp);
void		 pool_submit(struct pool *p, struct job *j);
struct job	*job_new(enum job_kind kind);

#endif
