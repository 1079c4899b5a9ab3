/* admin.h - private to aviary-admin: the context every command gets, the
 * exit codes, and the output helpers.
 *
 * Exit codes follow sysexits.h (docs/admin.md has the table). A command
 * that fails calls admin_fail(), which prints one line on stderr and
 * exits; nothing after a failure can leave a half-made change, because
 * every multi-statement change runs in a transaction that the exit
 * leaves uncommitted (the server rolls it back when the connection
 * closes).
 */
#ifndef AVIARY_ADMIN_H
#define AVIARY_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sysexits.h>

#include "aviary/compat.h"
#include "aviary/config.h"
#include "aviary/db.h"

struct arena;

/* EX_NOUSER (67) is used for any named object that does not exist;
 * EX_CANTCREAT (73) for a limit that a change would pass. */
#define EX_LIMIT	EX_CANTCREAT
#define EX_MISMATCH	EX_NOPERM	/* pw --verify: password does not match */

struct admin_ctx {
	struct arena		*a;		/* lives for the whole run */
	const char		*config_path;
	struct aviary_config	 cfg;
	bool			 config_loaded;
	bool			 json;
	bool			 yes;		/* --yes: no confirmation prompts */
	struct db		*db;		/* connected on first use */
};

void	admin_fail(int code, const char *fmt, ...) AV_PRINTFLIKE(2, 3)
	    AV_NORETURN;
void	admin_warn(const char *fmt, ...) AV_PRINTFLIKE(1, 2);
/* Load the configuration (exit 78 on error). */
void	admin_config(struct admin_ctx *ctx);
/* The database connection, made on first use (exit 69 when down, 78 when
 * the password file is unusable). */
struct db *admin_db(struct admin_ctx *ctx);
/* Map a failed db_* call to an exit: 69 down, 65 duplicate/reference,
 * 70 otherwise. 'what' names the action for the message. */
void	admin_db_fail(enum db_status st, const char *what, const char *error)
	    AV_NORETURN;
/* Run a statement; any failure exits through admin_db_fail. */
struct db_result *admin_sql(struct admin_ctx *ctx, const char *what,
	    const char *sql, uint64_t *affected_r, const char *types, ...);
/* Record a change in audit_log, inside the caller's transaction. */
void	admin_audit(struct admin_ctx *ctx, const char *action,
	    const char *object, const char *detail);
/* Ask "question [y/N]" on the terminal; true without asking when --yes
 * was given or when standard input is not a terminal (scripts state
 * their intent with flags). */
bool	admin_confirm(struct admin_ctx *ctx, const char *question);

/* A number from an SQL result cell (NULL = 0); exits 70 on garbage. */
uint64_t	admin_cell_u64(const char *cell);

/* Arguments. */
uint64_t	admin_parse_size(const char *opt, const char *v);	/* "unlimited" = 0 */
uint64_t	admin_parse_count(const char *opt, const char *v);	/* "unlimited" = 0 */
void		admin_parse_domain(const char *in, char *out);
void		admin_parse_address(const char *in, char *addr, char *local,
		    char *domain);
/* The name of the option getopt_long just complained about or returned
 * (code c: a long option's val, or optopt for '?'/':'), for messages:
 * "--quota", "-x", or the unknown word itself. */
struct option;
const char	*admin_opt_name(const struct option *longopts, int c,
		    char **argv);
void		admin_usage_fail(const char *usage, const char *fmt, ...)
		    AV_PRINTFLIKE(2, 3) AV_NORETURN;

/* Passwords (prompt.c): into out (PASSWORD_MAX bytes), from standard
 * input (one line) when from_stdin, else asked twice on the terminal.
 * Exits 64 or 65 on misuse. The caller clears out with explicit_bzero. */
void	admin_read_password(bool from_stdin, char *out, size_t outsz);

/* Output (output.c): a table of rows; human columns or JSON. */
struct table;
struct table	*table_new(struct admin_ctx *ctx, const char *const *keys,
		    const char *const *titles, size_t ncols);
void		 table_row(struct table *t);	/* start a new row */
void		 table_str(struct table *t, const char *v);	/* NULL -> null / "-" */
void		 table_u64(struct table *t, uint64_t v);
void		 table_bool(struct table *t, bool v);
void		 table_size(struct table *t, uint64_t v);	/* 0 = unlimited */
void		 table_limit(struct table *t, uint64_t v);	/* 0 = unlimited */
void		 table_bytes(struct table *t, uint64_t v);	/* 0 = "0B" */
void		 table_usage(struct table *t, uint64_t used, uint64_t limit,
		    bool is_size);	/* "3/10" ; JSON: used only */
/* Print all rows: human = aligned columns, JSON = array of objects. */
void		 table_print(struct table *t);
/* Print the single row as "Title: value" lines, JSON = one object. */
void		 table_print_record(struct table *t);

/* A domain row, looked up by name (cmd_domain.c). */
struct domain_row {
	uint64_t	 id;
	char		*name;
	bool		 active;
	uint64_t	 max_mailboxes, max_aliases;
	uint64_t	 mailbox_quota, quota;	/* bytes, 0 = unlimited */
};
/* Look up a hosted domain (exit 67 when unknown; with a hint when it is
 * an alias domain). for_update locks the row: use inside a transaction
 * to serialise limit checks. */
void	domain_get(struct admin_ctx *ctx, const char *name, bool for_update,
	    struct domain_row *d_r);
/* Remove a mailbox's home directory tree (not following symlinks).
 * Returns 0, or -1 after a warning. A missing directory is fine. */
int	admin_purge_home(struct admin_ctx *ctx, const char *local,
	    const char *domain);
/* Begin and commit, exiting on failure. */
void	admin_begin(struct admin_ctx *ctx);
void	admin_commit(struct admin_ctx *ctx);

/* Commands. */
int	cmd_db(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_domain(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_mailbox(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_alias(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_alias_domain(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_pw(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_auth(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_userdb(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_import(struct admin_ctx *ctx, int argc, char **argv);
int	cmd_setup(struct admin_ctx *ctx, int argc, char **argv);
/* Best effort: make a running aviary-auth forget a user's cached logins. */
void	admin_auth_flush_user(struct admin_ctx *ctx, const char *addr);

/* The migrations compiled in from schema/ (generated migrations.c). */
struct migration {
	unsigned	 version;
	const char	*name;
	const char	*sql;
};
extern const struct migration admin_migrations[];
extern const unsigned admin_migrations_count;

#endif
