/* cmd_db.c - aviary-admin db migrate|status.
 *
 * Migrations are the schema/NNN_*.sql files, compiled in. Each is split
 * into statements at a ';' that ends a line, and each statement runs as
 * a prepared statement (MariaDB prepares DDL too). MariaDB commits DDL
 * implicitly, so a migration is not atomic: its statements are written
 * to be idempotent, and a migration is recorded in schema_migrations
 * only after its last statement, so running migrate again completes a
 * migration that was cut short. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "aviary/arena.h"
#include "aviary/str.h"

/* Versions recorded in schema_migrations; empty when the table is not
 * there yet (a new database). */
static struct db_result *
db_applied(struct admin_ctx *ctx)
{
	struct db_result	*r;

	r = admin_sql(ctx, "schema check",
	    "SELECT COUNT(*) FROM information_schema.tables "
	    "WHERE table_schema = DATABASE() AND table_name = "
	    "'schema_migrations'", NULL, "");
	if (strcmp(DB_CELL(r, 0, 0), "0") == 0)
		return NULL;
	return admin_sql(ctx, "schema status",
	    "SELECT version, name, applied_at FROM schema_migrations "
	    "ORDER BY version", NULL, "");
}

static const char *
db_applied_at(struct db_result *r, unsigned version)
{
	size_t	 i;
	char	 v[16];

	if (r == NULL)
		return NULL;
	(void)snprintf(v, sizeof(v), "%u", version);
	for (i = 0; i < r->nrows; i++)
		if (strcmp(DB_CELL(r, i, 0), v) == 0)
			return DB_CELL(r, i, 2);
	return NULL;
}

static void
db_run_migration(struct admin_ctx *ctx, const struct migration *m)
{
	const char	*p = m->sql, *end;
	struct str	 stmt;
	char		*sql;
	int		 n = 0;

	while (*p != '\0') {
		/* A statement ends at ";\n" (or ';' at the end of the file). */
		end = strstr(p, ";\n");
		if (end == NULL)
			end = p + strlen(p);
		stmt = str_trim((struct str){ p, (size_t)(end - p) });
		p = *end ? end + 2 : end;
		/* Skip comment-only chunks. */
		{
			const char *q = stmt.p, *e = stmt.p + stmt.len;
			int code = 0;

			while (q < e) {
				const char *nl = memchr(q, '\n', (size_t)(e - q));
				struct str line = str_trim((struct str){ q,
				    (size_t)((nl ? nl : e) - q) });

				if (line.len > 0 && !str_has_prefix(line, "--"))
					code = 1;
				q = nl ? nl + 1 : e;
			}
			if (!code)
				continue;
		}
		sql = arena_strndup(ctx->a, stmt.p, stmt.len);
		n++;
		(void)admin_sql(ctx, arena_printf(ctx->a, "%s, statement %d",
		    m->name, n), sql, NULL, "");
	}
	(void)admin_sql(ctx, "record migration",
	    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
	    NULL, "us", (uint64_t)m->version, m->name);
}

static int
db_migrate(struct admin_ctx *ctx)
{
	struct db_result	*r = db_applied(ctx);
	unsigned		 i, done = 0;
	size_t			 k;

	for (i = 0; i < admin_migrations_count; i++) {
		const struct migration *m = &admin_migrations[i];

		if (db_applied_at(r, m->version) != NULL)
			continue;
		db_run_migration(ctx, m);
		(void)printf("applied %s\n", m->name);
		done++;
		r = db_applied(ctx);
	}
	if (done == 0)
		(void)printf("schema is up to date (version %u)\n",
		    admin_migrations_count ?
		    admin_migrations[admin_migrations_count - 1].version : 0);
	for (k = 0; r != NULL && k < r->nrows; k++) {
		uint64_t v;
		int known = 0;

		if (str_to_u64(str_from_cstr(DB_CELL(r, k, 0)), &v) == -1)
			continue;
		for (i = 0; i < admin_migrations_count; i++)
			known |= admin_migrations[i].version == v;
		if (!known)
			admin_warn("the database has migration %s (%s), which "
			    "this aviary-admin does not know: is it older than "
			    "the schema?", DB_CELL(r, k, 0), DB_CELL(r, k, 1));
	}
	return 0;
}

static int
db_status(struct admin_ctx *ctx)
{
	static const char *const keys[] = { "version", "name", "status",
	    "applied_at" };
	static const char *const titles[] = { "VERSION", "NAME", "STATUS",
	    "APPLIED" };
	struct db_result	*r = db_applied(ctx);
	struct table		*t;
	unsigned		 i, pending = 0;
	size_t			 k;

	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	for (i = 0; i < admin_migrations_count; i++) {
		const struct migration *m = &admin_migrations[i];
		const char *at = db_applied_at(r, m->version);

		table_row(t);
		table_u64(t, m->version);
		table_str(t, m->name);
		table_str(t, at ? "applied" : "pending");
		table_str(t, at);
		pending += at == NULL;
	}
	/* Versions in the database that this binary does not know: the
	 * database is newer than aviary-admin. */
	for (k = 0; r != NULL && k < r->nrows; k++) {
		uint64_t v;
		int known = 0;

		if (str_to_u64(str_from_cstr(DB_CELL(r, k, 0)), &v) == -1)
			continue;
		for (i = 0; i < admin_migrations_count; i++)
			known |= admin_migrations[i].version == v;
		if (known)
			continue;
		table_row(t);
		table_u64(t, v);
		table_str(t, DB_CELL(r, k, 1));
		table_str(t, "unknown (newer than aviary-admin)");
		table_str(t, DB_CELL(r, k, 2));
	}
	table_print(t);
	/* Exit 0 either way: status is a report; scripts read "pending". */
	(void)pending;
	return 0;
}

int
cmd_db(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*verb = argc > 1 ? argv[1] : "";

	if (argc != 2)
		admin_usage_fail("db migrate|status", "expected one command");
	if (strcmp(verb, "migrate") == 0)
		return db_migrate(ctx);
	if (strcmp(verb, "status") == 0)
		return db_status(ctx);
	admin_usage_fail("db migrate|status", "unknown db command '%s'", verb);
}
