/* cmd_domain.c - aviary-admin domain add|set|list|show|enable|disable|
 * delete. A domain's limits (0 = unlimited): max mailboxes, max aliases
 * (distinct source addresses, the catch-all included), the default quota
 * of a new mailbox, and a total quota that the mailboxes' quotas may not
 * exceed together (an allocation, as PostfixAdmin and mailcow use it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/str.h"

void
admin_begin(struct admin_ctx *ctx)
{
	const char	*error;
	enum db_status	 st = db_begin(admin_db(ctx), ctx->a, &error);

	if (st != DB_OK)
		admin_db_fail(st, "begin", error);
}

void
admin_commit(struct admin_ctx *ctx)
{
	const char	*error;
	enum db_status	 st = db_commit(admin_db(ctx), ctx->a, &error);

	if (st != DB_OK)
		admin_db_fail(st, "commit", error);
}

void
domain_get(struct admin_ctx *ctx, const char *name, bool for_update,
    struct domain_row *d_r)
{
	struct db_result	*r;

	r = admin_sql(ctx, "domain lookup", for_update ?
	    "SELECT id, name, active, max_mailboxes, max_aliases, "
	    "mailbox_quota_bytes, quota_bytes FROM domains WHERE name = ? "
	    "FOR UPDATE" :
	    "SELECT id, name, active, max_mailboxes, max_aliases, "
	    "mailbox_quota_bytes, quota_bytes FROM domains WHERE name = ?",
	    NULL, "s", name);
	if (r->nrows == 0) {
		r = admin_sql(ctx, "alias domain lookup",
		    "SELECT d.name FROM alias_domains ad JOIN domains d "
		    "ON d.id = ad.target_domain_id WHERE ad.name = ?", NULL, "s",
		    name);
		if (r->nrows > 0)
			admin_fail(EX_NOUSER, "%s is an alias domain of %s, not "
			    "a hosted domain", name, DB_CELL(r, 0, 0));
		admin_fail(EX_NOUSER, "no such domain: %s", name);
	}
	d_r->id = admin_cell_u64(DB_CELL(r, 0, 0));
	d_r->name = DB_CELL(r, 0, 1);
	d_r->active = admin_cell_u64(DB_CELL(r, 0, 2)) != 0;
	d_r->max_mailboxes = admin_cell_u64(DB_CELL(r, 0, 3));
	d_r->max_aliases = admin_cell_u64(DB_CELL(r, 0, 4));
	d_r->mailbox_quota = admin_cell_u64(DB_CELL(r, 0, 5));
	d_r->quota = admin_cell_u64(DB_CELL(r, 0, 6));
}

struct domain_opts {
	bool		 set_max_mailboxes, set_max_aliases;
	bool		 set_mailbox_quota, set_quota;
	uint64_t	 max_mailboxes, max_aliases, mailbox_quota, quota;
	bool		 disabled, force, purge_mail;
};

enum { OPT_MAXMB = 256, OPT_MAXAL, OPT_MBQ, OPT_Q, OPT_DIS, OPT_FORCE,
    OPT_PURGE };

static const struct option domain_long[] = {
	{ "max-mailboxes", required_argument, NULL, OPT_MAXMB },
	{ "max-aliases", required_argument, NULL, OPT_MAXAL },
	{ "mailbox-quota", required_argument, NULL, OPT_MBQ },
	{ "quota", required_argument, NULL, OPT_Q },
	{ "disabled", no_argument, NULL, OPT_DIS },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "purge-mail", no_argument, NULL, OPT_PURGE },
	{ NULL, 0, NULL, 0 }
};

/* Parse options; returns the index of the first positional argument.
 * 'allowed' is a string of the OPT_* codes (as chars - 256 + 'a') that
 * this verb takes. */
static int
domain_parse(int argc, char **argv, const char *usage, const char *allowed,
    struct domain_opts *o)
{
	int	 c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", domain_long, NULL)) != -1) {
		if (c == '?' || c == ':')
			admin_usage_fail(usage, "%s '%s'", c == ':' ?
			    "missing value for option" : "bad option",
			    admin_opt_name(domain_long, c == ':' || c == '?' ?
			    optopt : c, argv));
		if (strchr(allowed, c - 256 + 'a') == NULL)
			admin_usage_fail(usage, "option '%s' does not apply "
			    "here", admin_opt_name(domain_long, c, argv));
		switch (c) {
		case OPT_MAXMB:
			o->set_max_mailboxes = true;
			o->max_mailboxes = admin_parse_count("--max-mailboxes",
			    optarg);
			break;
		case OPT_MAXAL:
			o->set_max_aliases = true;
			o->max_aliases = admin_parse_count("--max-aliases",
			    optarg);
			break;
		case OPT_MBQ:
			o->set_mailbox_quota = true;
			o->mailbox_quota = admin_parse_size("--mailbox-quota",
			    optarg);
			break;
		case OPT_Q:
			o->set_quota = true;
			o->quota = admin_parse_size("--quota", optarg);
			break;
		case OPT_DIS:
			o->disabled = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_PURGE:
			o->purge_mail = true;
			break;
		}
	}
	return optind;
}

/* Limits options: a b c d; disabled e; force f; purge g. */
#define ALLOW_LIMITS	"abcd"

static int
domain_add(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "domain add DOMAIN [--max-mailboxes N] "
	    "[--max-aliases N] [--mailbox-quota SIZE] [--quota SIZE] "
	    "[--disabled]";
	struct domain_opts	 o;
	char			 name[ADDR_MAX + 1];
	struct db_result	*r;
	int			 i;

	i = domain_parse(argc, argv, usage, ALLOW_LIMITS "e", &o);
	if (argc - i != 1)
		admin_usage_fail(usage, "expected one domain");
	admin_parse_domain(argv[i], name);
	if (o.quota != 0 && o.mailbox_quota > o.quota)
		admin_fail(EX_DATAERR, "--mailbox-quota is larger than --quota");
	admin_begin(ctx);
	r = admin_sql(ctx, "alias domain lookup",
	    "SELECT 1 FROM alias_domains WHERE name = ?", NULL, "s", name);
	if (r->nrows > 0)
		admin_fail(EX_DATAERR, "%s is already an alias domain", name);
	(void)admin_sql(ctx, arena_printf(ctx->a, "domain %s", name),
	    "INSERT INTO domains (name, active, max_mailboxes, max_aliases, "
	    "mailbox_quota_bytes, quota_bytes) VALUES (?, ?, ?, ?, ?, ?)",
	    NULL, "suuuuu", name, (uint64_t)(o.disabled ? 0 : 1),
	    o.max_mailboxes, o.max_aliases, o.mailbox_quota, o.quota);
	admin_audit(ctx, "domain add", name, NULL);
	admin_commit(ctx);
	(void)printf("domain %s added\n", name);
	return 0;
}

static int
domain_set(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "domain set DOMAIN [--max-mailboxes N] "
	    "[--max-aliases N] [--mailbox-quota SIZE] [--quota SIZE]";
	struct domain_opts	 o;
	struct domain_row	 d;
	char			 name[ADDR_MAX + 1];
	struct db_result	*r;
	uint64_t		 count, unlimited, allocated;
	int			 i;

	i = domain_parse(argc, argv, usage, ALLOW_LIMITS, &o);
	if (argc - i != 1)
		admin_usage_fail(usage, "expected one domain");
	if (!o.set_max_mailboxes && !o.set_max_aliases &&
	    !o.set_mailbox_quota && !o.set_quota)
		admin_usage_fail(usage, "nothing to change");
	admin_parse_domain(argv[i], name);
	admin_begin(ctx);
	domain_get(ctx, name, true, &d);
	if (o.set_max_mailboxes)
		d.max_mailboxes = o.max_mailboxes;
	if (o.set_max_aliases)
		d.max_aliases = o.max_aliases;
	if (o.set_mailbox_quota)
		d.mailbox_quota = o.mailbox_quota;
	if (o.set_quota)
		d.quota = o.quota;
	if (d.quota != 0 && d.mailbox_quota > d.quota)
		admin_fail(EX_DATAERR, "the mailbox quota would be larger than "
		    "the domain quota");
	r = admin_sql(ctx, "mailbox count",
	    "SELECT COUNT(*), COALESCE(SUM(quota_bytes = 0), 0), "
	    "COALESCE(SUM(quota_bytes), 0) FROM mailboxes WHERE domain_id = ?",
	    NULL, "u", d.id);
	count = admin_cell_u64(DB_CELL(r, 0, 0));
	unlimited = admin_cell_u64(DB_CELL(r, 0, 1));
	allocated = admin_cell_u64(DB_CELL(r, 0, 2));
	if (d.max_mailboxes != 0 && count > d.max_mailboxes)
		admin_fail(EX_LIMIT, "%s already has %llu mailboxes, more than "
		    "%llu", name, (unsigned long long)count,
		    (unsigned long long)d.max_mailboxes);
	if (d.quota != 0 && unlimited > 0)
		admin_fail(EX_LIMIT, "%s has %llu mailboxes without a quota; "
		    "give them one before setting a domain quota", name,
		    (unsigned long long)unlimited);
	if (d.quota != 0 && allocated > d.quota)
		admin_fail(EX_LIMIT, "the mailboxes of %s already have %llu "
		    "bytes of quota, more than %llu", name,
		    (unsigned long long)allocated, (unsigned long long)d.quota);
	r = admin_sql(ctx, "alias count",
	    "SELECT COUNT(DISTINCT local_part) FROM aliases WHERE domain_id = ?",
	    NULL, "u", d.id);
	count = admin_cell_u64(DB_CELL(r, 0, 0));
	if (d.max_aliases != 0 && count > d.max_aliases)
		admin_fail(EX_LIMIT, "%s already has %llu aliases, more than "
		    "%llu", name, (unsigned long long)count,
		    (unsigned long long)d.max_aliases);
	(void)admin_sql(ctx, "domain update",
	    "UPDATE domains SET max_mailboxes = ?, max_aliases = ?, "
	    "mailbox_quota_bytes = ?, quota_bytes = ? WHERE id = ?", NULL,
	    "uuuuu", d.max_mailboxes, d.max_aliases, d.mailbox_quota, d.quota,
	    d.id);
	admin_audit(ctx, "domain set", name, NULL);
	admin_commit(ctx);
	(void)printf("domain %s updated\n", name);
	return 0;
}

static const char *const list_keys[] = { "domain", "active", "mailboxes",
    "max_mailboxes", "aliases", "max_aliases", "mailbox_quota",
    "quota_allocated", "quota", "alias_domains", "created" };
static const char *const list_titles[] = { "DOMAIN", "ACTIVE",
    "MAILBOXES/MAX", NULL, "ALIASES/MAX", NULL, "MAILBOX QUOTA",
    "ALLOCATED/QUOTA", NULL, NULL, "CREATED" };

#define DOMAIN_SELECT							\
	"SELECT d.name, d.active, "					\
	"(SELECT COUNT(*) FROM mailboxes m WHERE m.domain_id = d.id), "	\
	"d.max_mailboxes, "						\
	"(SELECT COUNT(DISTINCT a.local_part) FROM aliases a "		\
	"  WHERE a.domain_id = d.id), d.max_aliases, "			\
	"d.mailbox_quota_bytes, d.quota_bytes, "			\
	"(SELECT COALESCE(SUM(m.quota_bytes), 0) FROM mailboxes m "	\
	"  WHERE m.domain_id = d.id), "					\
	"(SELECT COALESCE(GROUP_CONCAT(ad.name ORDER BY ad.name "	\
	"  SEPARATOR ' '), '') FROM alias_domains ad "			\
	"  WHERE ad.target_domain_id = d.id), "				\
	"d.created_at, "						\
	"(SELECT COALESCE(SUM(q.bytes), 0) FROM quota_usage q JOIN "	\
	"  mailboxes m ON m.id = q.mailbox_id WHERE m.domain_id = d.id) " \
	"FROM domains d "

static void
domain_fill(struct table *t, struct db_result *r, size_t row)
{
	uint64_t	 quota = admin_cell_u64(DB_CELL(r, row, 7));
	uint64_t	 alloc = admin_cell_u64(DB_CELL(r, row, 8));

	table_row(t);
	table_str(t, DB_CELL(r, row, 0));
	table_bool(t, admin_cell_u64(DB_CELL(r, row, 1)) != 0);
	table_usage(t, admin_cell_u64(DB_CELL(r, row, 2)),
	    admin_cell_u64(DB_CELL(r, row, 3)), false);
	table_u64(t, admin_cell_u64(DB_CELL(r, row, 3)));
	table_usage(t, admin_cell_u64(DB_CELL(r, row, 4)),
	    admin_cell_u64(DB_CELL(r, row, 5)), false);
	table_u64(t, admin_cell_u64(DB_CELL(r, row, 5)));
	table_size(t, admin_cell_u64(DB_CELL(r, row, 6)));
	/* Human: "allocated/total"; JSON: the allocation, and the total in
	 * its own JSON-only column. */
	table_usage(t, alloc, quota, true);
	table_u64(t, quota);
	table_str(t, DB_CELL(r, row, 9));
	table_str(t, DB_CELL(r, row, 10));
}

static int
domain_list(struct admin_ctx *ctx, int argc, char **argv)
{
	struct db_result	*r;
	struct table		*t;
	size_t			 i;

	(void)argv;
	if (argc != 1)
		admin_usage_fail("domain list [--json]", "unexpected argument");
	r = admin_sql(ctx, "domain list", DOMAIN_SELECT "ORDER BY d.name",
	    NULL, "");
	t = table_new(ctx, list_keys, list_titles, N_ELEMENTS(list_keys));
	for (i = 0; i < r->nrows; i++)
		domain_fill(t, r, i);
	table_print(t);
	return 0;
}

static int
domain_show(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "domain", "active", "mailboxes",
	    "max_mailboxes", "aliases", "max_aliases", "mailbox_quota",
	    "quota_allocated", "quota", "alias_domains", "created",
	    "used_bytes" };
	static const char *const titles[] = { "Domain", "Active",
	    "Mailboxes/max", NULL, "Aliases/max", NULL, "Mailbox quota",
	    "Allocated/quota", NULL, "Alias domains", "Created", "Used" };
	char			 name[ADDR_MAX + 1];
	struct db_result	*r;
	struct table		*t;
	struct domain_row	 d;

	if (argc != 2)
		admin_usage_fail("domain show DOMAIN", "expected one domain");
	admin_parse_domain(argv[1], name);
	domain_get(ctx, name, false, &d);
	r = admin_sql(ctx, "domain show", DOMAIN_SELECT "WHERE d.id = ?", NULL,
	    "u", d.id);
	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	domain_fill(t, r, 0);
	table_bytes(t, admin_cell_u64(DB_CELL(r, 0, 11)));
	table_print_record(t);
	return 0;
}

static int
domain_enable(struct admin_ctx *ctx, int argc, char **argv, bool on)
{
	char			 name[ADDR_MAX + 1];
	struct domain_row	 d;

	if (argc != 2)
		admin_usage_fail(on ? "domain enable DOMAIN" :
		    "domain disable DOMAIN", "expected one domain");
	admin_parse_domain(argv[1], name);
	admin_begin(ctx);
	domain_get(ctx, name, true, &d);
	(void)admin_sql(ctx, "domain update",
	    "UPDATE domains SET active = ? WHERE id = ?", NULL, "uu",
	    (uint64_t)on, d.id);
	admin_audit(ctx, on ? "domain enable" : "domain disable", name, NULL);
	admin_commit(ctx);
	(void)printf("domain %s %s\n", name, on ? "enabled" : "disabled");
	return 0;
}

static int
domain_delete(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "domain delete DOMAIN [--force] "
	    "[--purge-mail]";
	struct domain_opts	 o;
	struct domain_row	 d;
	char			 name[ADDR_MAX + 1];
	struct db_result	*r, *mb;
	uint64_t		 nmb, nal, nad;
	size_t			 k;
	int			 i, failed = 0;

	i = domain_parse(argc, argv, usage, "fg", &o);
	if (argc - i != 1)
		admin_usage_fail(usage, "expected one domain");
	admin_parse_domain(argv[i], name);
	admin_begin(ctx);
	domain_get(ctx, name, true, &d);
	mb = admin_sql(ctx, "mailbox list",
	    "SELECT local_part FROM mailboxes WHERE domain_id = ?", NULL, "u",
	    d.id);
	r = admin_sql(ctx, "domain contents",
	    "SELECT (SELECT COUNT(*) FROM aliases WHERE domain_id = ?), "
	    "(SELECT COUNT(*) FROM alias_domains WHERE target_domain_id = ?)",
	    NULL, "uu", d.id, d.id);
	nmb = mb->nrows;
	nal = admin_cell_u64(DB_CELL(r, 0, 0));
	nad = admin_cell_u64(DB_CELL(r, 0, 1));
	if ((nmb || nal || nad) && !o.force)
		admin_fail(EX_DATAERR, "domain %s is not empty (%llu mailboxes, "
		    "%llu aliases, %llu alias domains): use --force to delete "
		    "them too", name, (unsigned long long)nmb,
		    (unsigned long long)nal, (unsigned long long)nad);
	if (!admin_confirm(ctx, arena_printf(ctx->a, "Delete domain %s with "
	    "%llu mailboxes%s?", name, (unsigned long long)nmb,
	    o.purge_mail ? " and all their mail" : "")))
		admin_fail(EX_TEMPFAIL, "not confirmed; nothing deleted");
	(void)admin_sql(ctx, "alias delete",
	    "DELETE FROM aliases WHERE domain_id = ?", NULL, "u", d.id);
	(void)admin_sql(ctx, "alias domain delete",
	    "DELETE FROM alias_domains WHERE target_domain_id = ?", NULL, "u",
	    d.id);
	(void)admin_sql(ctx, "mailbox delete",
	    "DELETE FROM mailboxes WHERE domain_id = ?", NULL, "u", d.id);
	(void)admin_sql(ctx, "domain delete",
	    "DELETE FROM domains WHERE id = ?", NULL, "u", d.id);
	admin_audit(ctx, "domain delete", name, arena_printf(ctx->a,
	    "%llu mailboxes, %llu aliases, %llu alias domains%s",
	    (unsigned long long)nmb, (unsigned long long)nal,
	    (unsigned long long)nad, o.purge_mail ? ", mail purged" : ""));
	admin_commit(ctx);
	if (o.purge_mail) {
		for (k = 0; k < mb->nrows; k++)
			if (admin_purge_home(ctx, DB_CELL(mb, k, 0), name) == -1)
				failed = 1;
	}
	(void)printf("domain %s deleted%s\n", name, nmb == 0 ? "" :
	    o.purge_mail ? " with its mailboxes and their mail" :
	    " with its mailboxes (mail kept on disk)");
	return failed ? EX_IOERR : 0;
}

int
cmd_domain(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*verb = argc > 1 ? argv[1] : "";

	argc--;
	argv++;
	if (strcmp(verb, "add") == 0)
		return domain_add(ctx, argc, argv);
	if (strcmp(verb, "set") == 0)
		return domain_set(ctx, argc, argv);
	if (strcmp(verb, "list") == 0)
		return domain_list(ctx, argc, argv);
	if (strcmp(verb, "show") == 0)
		return domain_show(ctx, argc, argv);
	if (strcmp(verb, "enable") == 0)
		return domain_enable(ctx, argc, argv, true);
	if (strcmp(verb, "disable") == 0)
		return domain_enable(ctx, argc, argv, false);
	if (strcmp(verb, "delete") == 0)
		return domain_delete(ctx, argc, argv);
	admin_usage_fail("domain add|set|list|show|enable|disable|delete ...",
	    "unknown domain command '%s'", verb);
}
