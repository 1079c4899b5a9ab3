/* cmd_alias.c - aviary-admin alias add|list|delete and alias-domain
 * add|list|delete.
 *
 * An alias is a source address in a hosted domain (or "@domain", the
 * catch-all) with one or more destinations anywhere. A catch-all never
 * takes mail for an existing mailbox: the virtual_alias_maps view lists
 * every mailbox as an alias of itself, which Postfix finds first. An
 * alias domain makes every address of its target domain exist under a
 * second name. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/str.h"

/* SOURCE is "local@domain" or "@domain"; local is "" for the catch-all. */
static void
alias_parse_source(const char *in, char *shown, char *local, char *domain)
{
	if (in[0] == '@') {
		admin_parse_domain(in + 1, domain);
		local[0] = '\0';
		(void)snprintf(shown, ADDR_MAX + 2, "@%s", domain);
		return;
	}
	admin_parse_address(in, shown, local, domain);
}

static int
alias_add(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "alias add SOURCE DESTINATION...";
	char			 src[ADDR_MAX + 2], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1], dst[ADDR_MAX + 1];
	struct domain_row	 d;
	struct db_result	*r;
	const char		*why;
	char			**dests;
	size_t			 ndest = 0, k;
	int			 i;

	if (argc < 3)
		admin_usage_fail(usage, "expected a source and at least one "
		    "destination");
	alias_parse_source(argv[1], src, local, domain);
	/* Destinations: separate arguments and/or comma-separated lists. */
	dests = arena_zalloc(ctx->a, sizeof(char *) * 1024);
	for (i = 2; i < argc; i++) {
		char	*list = arena_strdup(ctx->a, argv[i]), *p, *save = NULL;

		for (p = strtok_r(list, ", ", &save); p != NULL;
		    p = strtok_r(NULL, ", ", &save)) {
			if (ndest == 1023)
				admin_fail(EX_DATAERR, "too many destinations");
			if (addr_normalize_foreign(p, dst, &why) == -1)
				admin_fail(EX_DATAERR, "bad destination '%s': %s",
				    p, why);
			/* MariaDB and Postfix compare addresses without
			 * regard to case: A@x and a@x are one address. */
			if (strcasecmp(dst, src) == 0)
				admin_fail(EX_DATAERR, "%s cannot be an alias of "
				    "itself", src);
			dests[ndest++] = arena_strdup(ctx->a, dst);
		}
	}
	if (ndest == 0)
		admin_usage_fail(usage, "no destination");
	admin_begin(ctx);
	domain_get(ctx, domain, true, &d);
	r = admin_sql(ctx, "alias lookup",
	    "SELECT COUNT(*) FROM aliases WHERE domain_id = ? AND local_part = ?",
	    NULL, "us", d.id, local);
	if (admin_cell_u64(DB_CELL(r, 0, 0)) == 0 && d.max_aliases != 0) {
		r = admin_sql(ctx, "alias count",
		    "SELECT COUNT(DISTINCT local_part) FROM aliases "
		    "WHERE domain_id = ?", NULL, "u", d.id);
		if (admin_cell_u64(DB_CELL(r, 0, 0)) >= d.max_aliases)
			admin_fail(EX_LIMIT, "domain %s: alias limit reached "
			    "(%llu)", domain, (unsigned long long)d.max_aliases);
	}
	for (k = 0; k < ndest; k++) {
		(void)admin_sql(ctx, arena_printf(ctx->a, "alias %s -> %s", src,
		    dests[k]),
		    "INSERT INTO aliases (domain_id, local_part, destination) "
		    "VALUES (?, ?, ?)", NULL, "uss", d.id, local, dests[k]);
		admin_audit(ctx, "alias add", src, dests[k]);
	}
	admin_commit(ctx);
	for (k = 0; k < ndest; k++)
		(void)printf("alias %s -> %s added\n", src, dests[k]);
	return 0;
}

static int
alias_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "source", "destination", "active",
	    "catch_all", "created" };
	static const char *const titles[] = { "SOURCE", "DESTINATION", "ACTIVE",
	    NULL, "CREATED" };
	char			 domain[ADDR_MAX + 1];
	struct domain_row	 d;
	struct db_result	*r;
	struct table		*t;
	size_t			 i;

#define ALIAS_SELECT \
	"SELECT CONCAT(a.local_part, '@', dm.name), a.destination, a.active, " \
	"a.local_part = '', a.created_at FROM aliases a " \
	"JOIN domains dm ON dm.id = a.domain_id "
	if (argc > 2)
		admin_usage_fail("alias list [DOMAIN]", "unexpected argument");
	if (argc == 2) {
		admin_parse_domain(argv[1], domain);
		domain_get(ctx, domain, false, &d);
		r = admin_sql(ctx, "alias list", ALIAS_SELECT "WHERE dm.id = ? "
		    "ORDER BY dm.name, a.local_part, a.destination", NULL, "u",
		    d.id);
	} else {
		r = admin_sql(ctx, "alias list", ALIAS_SELECT
		    "ORDER BY dm.name, a.local_part, a.destination", NULL, "");
	}
	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	for (i = 0; i < r->nrows; i++) {
		table_row(t);
		table_str(t, DB_CELL(r, i, 0));
		table_str(t, DB_CELL(r, i, 1));
		table_bool(t, admin_cell_u64(DB_CELL(r, i, 2)) != 0);
		table_bool(t, admin_cell_u64(DB_CELL(r, i, 3)) != 0);
		table_str(t, DB_CELL(r, i, 4));
	}
	table_print(t);
	return 0;
}

static int
alias_delete(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "alias delete SOURCE [DESTINATION]";
	char			 src[ADDR_MAX + 2], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1], dst[ADDR_MAX + 1];
	struct domain_row	 d;
	const char		*why;
	uint64_t		 n = 0;

	if (argc != 2 && argc != 3)
		admin_usage_fail(usage, "expected a source and at most one "
		    "destination");
	alias_parse_source(argv[1], src, local, domain);
	if (argc == 3 && addr_normalize_foreign(argv[2], dst, &why) == -1)
		admin_fail(EX_DATAERR, "bad destination '%s': %s", argv[2], why);
	admin_begin(ctx);
	domain_get(ctx, domain, true, &d);
	if (argc == 3)
		(void)admin_sql(ctx, "alias delete",
		    "DELETE FROM aliases WHERE domain_id = ? AND local_part = ? "
		    "AND destination = ?", &n, "uss", d.id, local, dst);
	else
		(void)admin_sql(ctx, "alias delete",
		    "DELETE FROM aliases WHERE domain_id = ? AND local_part = ?",
		    &n, "us", d.id, local);
	if (n == 0)
		admin_fail(EX_NOUSER, "no such alias: %s%s%s", src,
		    argc == 3 ? " -> " : "", argc == 3 ? dst : "");
	admin_audit(ctx, "alias delete", src, argc == 3 ? dst : "all");
	admin_commit(ctx);
	(void)printf("alias %s deleted (%llu destination%s)\n", src,
	    (unsigned long long)n, n == 1 ? "" : "s");
	return 0;
}

int
cmd_alias(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*verb = argc > 1 ? argv[1] : "";

	argc--;
	argv++;
	if (strcmp(verb, "add") == 0)
		return alias_add(ctx, argc, argv);
	if (strcmp(verb, "list") == 0)
		return alias_list(ctx, argc, argv);
	if (strcmp(verb, "delete") == 0)
		return alias_delete(ctx, argc, argv);
	admin_usage_fail("alias add|list|delete ...", "unknown alias command "
	    "'%s'", verb);
}

static int
ad_add(struct admin_ctx *ctx, int argc, char **argv)
{
	char			 alias[ADDR_MAX + 1], target[ADDR_MAX + 1];
	struct domain_row	 d;
	struct db_result	*r;

	if (argc != 3)
		admin_usage_fail("alias-domain add ALIAS-DOMAIN TARGET-DOMAIN",
		    "expected two domains");
	admin_parse_domain(argv[1], alias);
	admin_parse_domain(argv[2], target);
	if (strcmp(alias, target) == 0)
		admin_fail(EX_DATAERR, "a domain cannot be an alias of itself");
	admin_begin(ctx);
	domain_get(ctx, target, true, &d);
	r = admin_sql(ctx, "domain lookup",
	    "SELECT 1 FROM domains WHERE name = ?", NULL, "s", alias);
	if (r->nrows > 0)
		admin_fail(EX_DATAERR, "%s is a hosted domain; delete it before "
		    "making it an alias domain", alias);
	(void)admin_sql(ctx, arena_printf(ctx->a, "alias domain %s", alias),
	    "INSERT INTO alias_domains (name, target_domain_id) VALUES (?, ?)",
	    NULL, "su", alias, d.id);
	admin_audit(ctx, "alias-domain add", alias, target);
	admin_commit(ctx);
	(void)printf("alias domain %s -> %s added\n", alias, target);
	return 0;
}

static int
ad_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "alias_domain", "target", "active",
	    "created" };
	static const char *const titles[] = { "ALIAS DOMAIN", "TARGET",
	    "ACTIVE", "CREATED" };
	struct db_result	*r;
	struct table		*t;
	size_t			 i;

	(void)argv;
	if (argc != 1)
		admin_usage_fail("alias-domain list", "unexpected argument");
	r = admin_sql(ctx, "alias domain list",
	    "SELECT ad.name, d.name, ad.active, ad.created_at FROM alias_domains "
	    "ad JOIN domains d ON d.id = ad.target_domain_id ORDER BY ad.name",
	    NULL, "");
	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	for (i = 0; i < r->nrows; i++) {
		table_row(t);
		table_str(t, DB_CELL(r, i, 0));
		table_str(t, DB_CELL(r, i, 1));
		table_bool(t, admin_cell_u64(DB_CELL(r, i, 2)) != 0);
		table_str(t, DB_CELL(r, i, 3));
	}
	table_print(t);
	return 0;
}

static int
ad_delete(struct admin_ctx *ctx, int argc, char **argv)
{
	char		 alias[ADDR_MAX + 1];
	uint64_t	 n = 0;

	if (argc != 2)
		admin_usage_fail("alias-domain delete ALIAS-DOMAIN",
		    "expected one domain");
	admin_parse_domain(argv[1], alias);
	admin_begin(ctx);
	(void)admin_sql(ctx, "alias domain delete",
	    "DELETE FROM alias_domains WHERE name = ?", &n, "s", alias);
	if (n == 0)
		admin_fail(EX_NOUSER, "no such alias domain: %s", alias);
	admin_audit(ctx, "alias-domain delete", alias, NULL);
	admin_commit(ctx);
	(void)printf("alias domain %s deleted\n", alias);
	return 0;
}

int
cmd_alias_domain(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*verb = argc > 1 ? argv[1] : "";

	argc--;
	argv++;
	if (strcmp(verb, "add") == 0)
		return ad_add(ctx, argc, argv);
	if (strcmp(verb, "list") == 0)
		return ad_list(ctx, argc, argv);
	if (strcmp(verb, "delete") == 0)
		return ad_delete(ctx, argc, argv);
	admin_usage_fail("alias-domain add|list|delete ...", "unknown "
	    "alias-domain command '%s'", verb);
}
