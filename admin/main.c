/* main.c - aviary-admin: global options, dispatch, and the helpers that
 * every command shares (configuration, database, exits, argument
 * parsing). The commands live in cmd_*.c. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "admin.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/password.h"
#include "aviary/str.h"
#include "aviary/units.h"

#define ADMIN_VERSION	"0.1.0"

static const char usage_text[] =
"usage: aviary-admin [-c FILE] [--json] [--yes] COMMAND ...\n"
"\n"
"  db migrate | status\n"
"  domain add DOMAIN [--max-mailboxes N] [--max-aliases N]\n"
"                    [--mailbox-quota SIZE] [--quota SIZE] [--disabled]\n"
"  domain set DOMAIN [the same limits]\n"
"  domain list | show DOMAIN | enable DOMAIN | disable DOMAIN\n"
"  domain delete DOMAIN [--force] [--purge-mail]\n"
"  mailbox add ADDRESS [--password-stdin] [--quota SIZE]\n"
"                      [--quota-messages N] [--name TEXT] [--disabled]\n"
"  mailbox list [DOMAIN] | show ADDRESS | enable ADDRESS | disable ADDRESS\n"
"  mailbox passwd ADDRESS [--password-stdin]\n"
"  mailbox quota ADDRESS [SIZE] [--messages N]\n"
"  mailbox delete ADDRESS [--purge-mail]\n"
"  alias add SOURCE DESTINATION... (SOURCE @DOMAIN is the catch-all)\n"
"  alias list [DOMAIN] | delete SOURCE [DESTINATION]\n"
"  alias-domain add ALIAS-DOMAIN TARGET-DOMAIN\n"
"  alias-domain list | delete ALIAS-DOMAIN\n"
"  pw [-s SCHEME] [-r ROUNDS] [--password-stdin]\n"
"  pw --verify HASH [--password-stdin]\n"
"  auth test ADDRESS [--password-stdin]\n"
"  auth cache flush [ADDRESS]\n"
"  auth penalty [list] | auth penalty clear [IP|ADDRESS]\n"
"  user ADDRESS\n"
"  import postfixadmin [--source-host HOST] [--source-db NAME]\n"
"                      [--source-user USER] [--source-password-file FILE |\n"
"                      --source-password-stdin] [--update] [--dry-run] ...\n"
"  setup [--dry-run] [--root-dir DIR] [--mail-user NAME] ... (as root)\n"
"\n"
"Sizes: 500M, 2G, 1T or unlimited. Passwords are read from a prompt or\n"
"standard input, never from the command line. See aviary-admin(8) and\n"
"docs/admin.md.\n";

void
admin_fail(int code, const char *fmt, ...)
{
	va_list	 ap;

	(void)fflush(stdout);
	(void)fputs("aviary-admin: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	exit(code);
}

void
admin_warn(const char *fmt, ...)
{
	va_list	 ap;

	(void)fflush(stdout);
	(void)fputs("aviary-admin: warning: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

void
admin_usage_fail(const char *usage, const char *fmt, ...)
{
	va_list	 ap;

	(void)fflush(stdout);
	(void)fputs("aviary-admin: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "\nusage: aviary-admin %s\n", usage);
	exit(EX_USAGE);
}

const char *
admin_opt_name(const struct option *longopts, int c, char **argv)
{
	static char	 name[80];
	const struct option *o;

	for (o = longopts; c != 0 && o->name != NULL; o++)
		if (o->val == c) {
			(void)snprintf(name, sizeof(name), "--%s", o->name);
			return name;
		}
	if (c > 32 && c < 127) {
		/* A short option: name the word it came in ("-a.com"). */
		for (int i = 1; argv[i] != NULL; i++)
			if (argv[i][0] == '-' && argv[i][1] != '-' &&
			    strchr(argv[i] + 1, c) != NULL)
				return argv[i];
		(void)snprintf(name, sizeof(name), "-%c", c);
		return name;
	}
	/* An unknown long option: getopt_long has moved past it. */
	return optind > 0 ? argv[optind - 1] : "?";
}

void
admin_config(struct admin_ctx *ctx)
{
	const char	*error;

	if (ctx->config_loaded)
		return;
	if (aviary_config_load(&ctx->cfg, ctx->config_path, ctx->a,
	    &error) == -1)
		admin_fail(EX_CONFIG, "%s", error);
	ctx->config_loaded = true;
}

struct db *
admin_db(struct admin_ctx *ctx)
{
	char		 pw[1024];
	const char	*error;
	enum db_status	 st;

	if (ctx->db != NULL)
		return ctx->db;
	admin_config(ctx);
	if (db_read_password_file(ctx->cfg.database.password_file, pw,
	    sizeof(pw), ctx->a, &error) == -1)
		admin_fail(EX_CONFIG, "database.password_file: %s", error);
	st = db_connect(&ctx->db, &ctx->cfg.database, pw, ctx->a, &error);
	explicit_bzero(pw, sizeof(pw));
	if (st == DB_EDOWN)
		admin_fail(EX_UNAVAILABLE, "%s", error);
	if (st != DB_OK)
		admin_fail(EX_UNAVAILABLE, "cannot connect to the database: %s",
		    error);
	return ctx->db;
}

void
admin_db_fail(enum db_status st, const char *what, const char *error)
{
	switch (st) {
	case DB_EDOWN:
		admin_fail(EX_UNAVAILABLE, "%s: database unavailable: %s", what,
		    error);
	case DB_EDUP:
		admin_fail(EX_DATAERR, "%s: already exists", what);
	case DB_EFK:
		admin_fail(EX_DATAERR, "%s: still referenced (%s)", what, error);
	case DB_OK:
	case DB_ERR:
		break;
	}
	admin_fail(EX_SOFTWARE, "%s: database error: %s (is the schema up to "
	    "date? see 'aviary-admin db status')", what, error);
}

struct db_result *
admin_sql(struct admin_ctx *ctx, const char *what, const char *sql,
    uint64_t *affected_r, const char *types, ...)
{
	struct db_result	*res = NULL;
	const char		*error = NULL;
	enum db_status		 st;
	va_list			 ap;

	va_start(ap, types);
	st = db_vexec(admin_db(ctx), ctx->a, sql, &res, affected_r, NULL,
	    &error, types, ap);
	va_end(ap);
	if (st != DB_OK)
		admin_db_fail(st, what, error);
	return res;
}

void
admin_audit(struct admin_ctx *ctx, const char *action, const char *object,
    const char *detail)
{
	const char	*actor = getenv("SUDO_USER");
	struct passwd	*pw;

	if (actor == NULL || actor[0] == '\0') {
		pw = getpwuid(getuid());
		actor = pw != NULL ? pw->pw_name :
		    arena_printf(ctx->a, "uid %lu", (unsigned long)getuid());
	}
	(void)admin_sql(ctx, "audit log",
	    "INSERT INTO audit_log (actor, action, object, detail) "
	    "VALUES (LEFT(?, 64), ?, ?, LEFT(?, 1024))",
	    NULL, "ssss", actor, action, object, detail ? detail : "");
}

uint64_t
admin_cell_u64(const char *s)
{
	uint64_t	 v = 0;

	if (s != NULL && str_to_u64(str_from_cstr(s), &v) == -1)
		admin_fail(EX_SOFTWARE, "internal error: bad number from SQL");
	return v;
}

uint64_t
admin_parse_size(const char *opt, const char *v)
{
	uint64_t	 r;

	if (strcmp(v, "unlimited") == 0)
		return 0;
	if (units_parse_size(v, &r) == -1)
		admin_fail(EX_DATAERR, "%s: bad size '%s' (use a number with K, "
		    "M, G or T, or 'unlimited')", opt, v);
	return r;
}

uint64_t
admin_parse_count(const char *opt, const char *v)
{
	uint64_t	 r;

	if (strcmp(v, "unlimited") == 0)
		return 0;
	if (str_to_u64(str_from_cstr(v), &r) == -1 || r > 4294967295ULL)
		admin_fail(EX_DATAERR, "%s: bad number '%s' (a whole number, or "
		    "'unlimited')", opt, v);
	return r;
}

void
admin_parse_domain(const char *in, char *out)
{
	const char	*why;

	if (addr_domain_normalize(in, out, &why) == -1)
		admin_fail(EX_DATAERR, "bad domain '%s': %s", in, why);
}

void
admin_parse_address(const char *in, char *addr, char *local, char *domain)
{
	const char	*why;

	if (addr_normalize(in, addr, local, domain, &why) == -1)
		admin_fail(EX_DATAERR, "bad address '%s': %s", in, why);
}

/* Take the global options out of argv wherever they stand (before "--"),
 * so that `aviary-admin domain list --json` and `aviary-admin --json
 * domain list` both work. Returns the new argc. */
static int
admin_global_opts(struct admin_ctx *ctx, int argc, char **argv)
{
	int	 i, o = 1;
	bool	 done = false;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!done && strcmp(a, "--") == 0) {
			done = true;
			argv[o++] = argv[i];
		} else if (!done && (strcmp(a, "-c") == 0 ||
		    strcmp(a, "--config") == 0)) {
			if (i + 1 >= argc)
				admin_usage_fail("-c FILE ...", "%s needs a file",
				    a);
			ctx->config_path = argv[++i];
		} else if (!done && strncmp(a, "--config=", 9) == 0) {
			ctx->config_path = a + 9;
		} else if (!done && strcmp(a, "--json") == 0) {
			ctx->json = true;
		} else if (!done && (strcmp(a, "--yes") == 0 ||
		    strcmp(a, "-y") == 0)) {
			ctx->yes = true;
		} else {
			argv[o++] = argv[i];
		}
	}
	argv[o] = NULL;
	return o;
}

static void
admin_no_core_dumps(void)
{
	struct rlimit	 rl = { 0, 0 };

	/* Passwords pass through this process: never into a core file,
	 * and no ptrace by other processes of the same user. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
main(int argc, char **argv)
{
	struct admin_ctx	 ctx = { 0 };
	const char		*cmd;
	int			 ret;

	/* No core files: this process holds passwords in memory. */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("aviary-admin", false, LOG_L_WARN);
	admin_no_core_dumps();
	ctx.a = arena_create(64 * 1024);
	ctx.config_path = getenv("AVIARY_CONFIG");
	if (ctx.config_path == NULL || ctx.config_path[0] == '\0')
		ctx.config_path = AVIARY_CONFIG_DEFAULT;
	argc = admin_global_opts(&ctx, argc, argv);
	cmd = argc >= 2 ? argv[1] : "";
	if (argc < 2) {
		(void)fputs(usage_text, stderr);
		ret = EX_USAGE;
		goto out;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		(void)fputs(usage_text, stdout);
		ret = 0;
		goto out;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		(void)printf("aviary-admin %s\n", ADMIN_VERSION);
		ret = 0;
		goto out;
	}
	argc--;
	argv++;
	if (strcmp(cmd, "db") == 0)
		ret = cmd_db(&ctx, argc, argv);
	else if (strcmp(cmd, "domain") == 0)
		ret = cmd_domain(&ctx, argc, argv);
	else if (strcmp(cmd, "mailbox") == 0)
		ret = cmd_mailbox(&ctx, argc, argv);
	else if (strcmp(cmd, "alias") == 0)
		ret = cmd_alias(&ctx, argc, argv);
	else if (strcmp(cmd, "alias-domain") == 0)
		ret = cmd_alias_domain(&ctx, argc, argv);
	else if (strcmp(cmd, "pw") == 0)
		ret = cmd_pw(&ctx, argc, argv);
	else if (strcmp(cmd, "auth") == 0)
		ret = cmd_auth(&ctx, argc, argv);
	else if (strcmp(cmd, "user") == 0)
		ret = cmd_userdb(&ctx, argc, argv);
	else if (strcmp(cmd, "import") == 0)
		ret = cmd_import(&ctx, argc, argv);
	else if (strcmp(cmd, "setup") == 0)
		ret = cmd_setup(&ctx, argc, argv);
	else {
		(void)fprintf(stderr, "aviary-admin: unknown command '%s'\n\n%s",
		    cmd, usage_text);
		ret = EX_USAGE;
	}
out:
	db_close(&ctx.db);
	arena_destroy(&ctx.a);
	return ret;
}
