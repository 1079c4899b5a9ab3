/* passdb.h - the SQL side of aviary-auth, run on worker threads only.
 *
 * Each worker thread has its own connection (MariaDB connections are not
 * shared between threads), made on first use with the auth account and
 * remade after a failure, trying the configured hosts in order, so a
 * database failover or restart heals without restarting Aviary.
 * Queries are the configurable templates of aviary.yaml with %n (local
 * part), %d (domain) and %u (address) turned into '?' parameters of a
 * prepared statement: data never becomes SQL text.
 */
#ifndef AVIARY_AUTH_PASSDB_H
#define AVIARY_AUTH_PASSDB_H

#include "aviary/config.h"

struct job;
struct passdb;
struct passdb_conn;

/* Prepare the templates. NULL with *error_r on a bad template. */
struct passdb	*passdb_create(const struct aviary_config *cfg,
		    const char *db_password, const char **error_r);
void		 passdb_destroy(struct passdb **pp);

/* Per thread. */
struct passdb_conn *passdb_conn_create(struct passdb *p);
void		 passdb_conn_destroy(struct passdb_conn **cp);
/* Run a job: fills its results. Never fails: problems become JOB_TEMP. */
void		 passdb_run(struct passdb_conn *c, struct job *j);

#endif
