/* aviary/db.h - MariaDB access with prepared statements only.
 *
 * Linked only into the processes that hold SQL credentials (aviary-auth,
 * aviary-admin). Every statement goes through mysql_stmt_prepare with
 * '?' parameters: no SQL text is ever built from data. Results come back
 * as strings (NULL for SQL NULL) in an arena, which is plenty for the
 * small result sets of a mail platform's lookups and admin listings.
 *
 * Failures are classified, because callers answer differently:
 * DB_EDOWN (no server reachable, connection lost: a temporary failure,
 * aviary-admin exits 69), DB_EDUP (a unique key), DB_EFK (a foreign key),
 * DB_ERR (anything else: schema mismatch, bad statement). The message in
 * *error_r never contains parameter values.
 */
#ifndef AVIARY_DB_H
#define AVIARY_DB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "aviary/compat.h"

struct arena;
struct aviary_db_config;

enum db_status {
	DB_OK = 0,
	DB_ERR = -1,
	DB_EDOWN = -2,
	DB_EDUP = -3,
	DB_EFK = -4,
};

struct db;

struct db_result {
	size_t		  nrows, ncols;
	char		**cells;	/* nrows * ncols, row-major; NULL = SQL NULL */
	char		**names;	/* ncols column names */
};

#define DB_CELL(r, row, col)	((r)->cells[(row) * (r)->ncols + (col)])

/* Connect to the first reachable host of cfg->hosts, in order. The
 * password is used and not kept. *dbp is set on DB_OK only. */
enum db_status	db_connect(struct db **dbp, const struct aviary_db_config *cfg,
		    const char *password, struct arena *a,
		    const char **error_r) AV_WARN_UNUSED;
void		db_close(struct db **dbp);

/* Run one statement. 'types' has one letter per '?' parameter: 's' a
 * const char * (NULL binds SQL NULL), 'u' a uint64_t, 'i' an int64_t.
 * res_r (may be NULL) receives the rows of a SELECT, from 'a';
 * affected_r (may be NULL) the affected-row count of a change;
 * insert_id_r (may be NULL) the AUTO_INCREMENT id of an INSERT. */
enum db_status	db_exec(struct db *db, struct arena *a, const char *sql,
		    struct db_result **res_r, uint64_t *affected_r,
		    uint64_t *insert_id_r, const char **error_r,
		    const char *types, ...) AV_WARN_UNUSED;

enum db_status	db_vexec(struct db *db, struct arena *a, const char *sql,
		    struct db_result **res_r, uint64_t *affected_r,
		    uint64_t *insert_id_r, const char **error_r,
		    const char *types, va_list ap) AV_WARN_UNUSED;

enum db_status	db_begin(struct db *db, struct arena *a,
		    const char **error_r) AV_WARN_UNUSED;
enum db_status	db_commit(struct db *db, struct arena *a,
		    const char **error_r) AV_WARN_UNUSED;
void		db_rollback(struct db *db);

/* Read a password file: the first line, without its line ending, into
 * out (outsz bytes). Refuses a file that others may read or write.
 * Returns 0 or -1 with *error_r from 'a'. */
int		db_read_password_file(const char *path, char *out, size_t outsz,
		    struct arena *a, const char **error_r) AV_WARN_UNUSED;

#endif
