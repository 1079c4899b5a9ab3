/* cmd_mailbox.c - aviary-admin mailbox add|list|show|passwd|enable|
 * disable|quota|delete. Passwords are read by prompt.c and hashed here
 * with the configured scheme; only the hash reaches SQL. A new mailbox
 * respects its domain's limits, checked with the domain row locked so
 * that two admins adding at once cannot both take the last place. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/password.h"
#include "aviary/str.h"

struct mb_opts {
	bool		 password_stdin, disabled, purge_mail;
	bool		 set_quota, set_messages;
	uint64_t	 quota, messages;
	const char	*name;
};

enum { O_PWSTDIN = 256, O_QUOTA, O_QMSG, O_MSG, O_NAME, O_DIS, O_PURGE };

static const struct option mb_long[] = {
	{ "password-stdin", no_argument, NULL, O_PWSTDIN },
	{ "quota", required_argument, NULL, O_QUOTA },
	{ "quota-messages", required_argument, NULL, O_QMSG },
	{ "messages", required_argument, NULL, O_MSG },
	{ "name", required_argument, NULL, O_NAME },
	{ "disabled", no_argument, NULL, O_DIS },
	{ "purge-mail", no_argument, NULL, O_PURGE },
	{ "password", required_argument, NULL, 'P' },
	{ NULL, 0, NULL, 0 }
};

/* 'allowed': option codes as chars (code - 256 + 'a'). */
static int
mb_parse(int argc, char **argv, const char *usage, const char *allowed,
    struct mb_opts *o)
{
	int	 c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", mb_long, NULL)) != -1) {
		if (c == 'P') {
			/* Refuse loudly rather than as "unknown option":
			 * a password on argv is visible to every user. */
			admin_usage_fail(usage, "passwords are never taken "
			    "from the command line: use --password-stdin or "
			    "the prompt");
		}
		if (c == '?' || c == ':')
			admin_usage_fail(usage, "%s '%s'", c == ':' ?
			    "missing value for option" : "bad option",
			    admin_opt_name(mb_long, c == ':' || c == '?' ?
			    optopt : c, argv));
		if (strchr(allowed, c - 256 + 'a') == NULL)
			admin_usage_fail(usage, "option '%s' does not apply "
			    "here", admin_opt_name(mb_long, c, argv));
		switch (c) {
		case O_PWSTDIN:
			o->password_stdin = true;
			break;
		case O_QUOTA:
			o->set_quota = true;
			o->quota = admin_parse_size("--quota", optarg);
			break;
		case O_QMSG:
		case O_MSG:
			o->set_messages = true;
			o->messages = admin_parse_count(c == O_MSG ?
			    "--messages" : "--quota-messages", optarg);
			break;
		case O_NAME:
			if (strlen(optarg) > 255)
				admin_fail(EX_DATAERR, "--name: longer than 255 "
				    "characters");
			o->name = optarg;
			break;
		case O_DIS:
			o->disabled = true;
			break;
		case O_PURGE:
			o->purge_mail = true;
			break;
		}
	}
	return optind;
}

/* Check that giving mailbox 'except_id' (0: a new one) the quota 'q'
 * keeps the domain within its total quota. The domain row is locked. */
static void
mb_check_allocation(struct admin_ctx *ctx, const struct domain_row *d,
    uint64_t except_id, uint64_t q)
{
	struct db_result	*r;
	uint64_t		 others;

	if (d->quota == 0)
		return;
	if (q == 0)
		admin_fail(EX_LIMIT, "domain %s has a total quota: each of its "
		    "mailboxes needs a quota (--quota SIZE)", d->name);
	r = admin_sql(ctx, "quota allocation",
	    "SELECT COALESCE(SUM(quota_bytes), 0) FROM mailboxes "
	    "WHERE domain_id = ? AND id <> ?", NULL, "uu", d->id, except_id);
	others = admin_cell_u64(DB_CELL(r, 0, 0));
	if (q > d->quota || others > d->quota - q)
		admin_fail(EX_LIMIT, "domain %s: quota limit reached (%llu of "
		    "%llu bytes already given to other mailboxes, %llu asked)",
		    d->name, (unsigned long long)others,
		    (unsigned long long)d->quota, (unsigned long long)q);
}

static int
mb_add(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "mailbox add ADDRESS [--password-stdin] "
	    "[--quota SIZE] [--quota-messages N] [--name TEXT] [--disabled]";
	struct mb_opts		 o;
	struct domain_row	 d;
	char			 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1];
	char			 pw[PASSWORD_MAX], hash[PASSWORD_HASH_MAX];
	const char		*error;
	struct db_result	*r;
	uint64_t		 quota;
	int			 i;

	i = mb_parse(argc, argv, usage, "abcef", &o);
	if (argc - i > 1)
		admin_usage_fail(usage, "unexpected argument after the address "
		    "(passwords are never taken from the command line: use "
		    "--password-stdin or the prompt)");
	if (argc - i != 1)
		admin_usage_fail(usage, "expected one address");
	admin_parse_address(argv[i], addr, local, domain);
	admin_config(ctx);
	/* Check what can be checked before asking for the password. */
	domain_get(ctx, domain, false, &d);
	admin_read_password(o.password_stdin, pw, sizeof(pw));
	if (password_hash(ctx->cfg.passwords.scheme, ctx->cfg.passwords.rounds,
	    pw, hash, sizeof(hash), &error) == -1) {
		explicit_bzero(pw, sizeof(pw));
		admin_fail(EX_DATAERR, "cannot hash the password: %s", error);
	}
	explicit_bzero(pw, sizeof(pw));

	admin_begin(ctx);
	domain_get(ctx, domain, true, &d);
	r = admin_sql(ctx, "mailbox count",
	    "SELECT COUNT(*) FROM mailboxes WHERE domain_id = ?", NULL, "u",
	    d.id);
	if (d.max_mailboxes != 0 &&
	    admin_cell_u64(DB_CELL(r, 0, 0)) >= d.max_mailboxes)
		admin_fail(EX_LIMIT, "domain %s: mailbox limit reached (%llu)",
		    domain, (unsigned long long)d.max_mailboxes);
	quota = o.set_quota ? o.quota : d.mailbox_quota;
	mb_check_allocation(ctx, &d, 0, quota);
	(void)admin_sql(ctx, arena_printf(ctx->a, "mailbox %s", addr),
	    "INSERT INTO mailboxes (domain_id, local_part, password, name, "
	    "quota_bytes, quota_messages, active) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    NULL, "usssuuu", d.id, local, hash, o.name ? o.name : "", quota,
	    o.messages, (uint64_t)(o.disabled ? 0 : 1));
	explicit_bzero(hash, sizeof(hash));
	admin_audit(ctx, "mailbox add", addr, NULL);
	admin_commit(ctx);
	(void)printf("mailbox %s added\n", addr);
	return 0;
}

struct mb_row {
	uint64_t	 id;
	bool		 active;
	uint64_t	 quota, messages;
	struct domain_row d;
};

static void
mb_get(struct admin_ctx *ctx, const char *addr, const char *local,
    const char *domain, bool for_update, struct mb_row *m)
{
	struct db_result	*r;

	domain_get(ctx, domain, for_update, &m->d);
	r = admin_sql(ctx, "mailbox lookup", for_update ?
	    "SELECT id, active, quota_bytes, quota_messages FROM mailboxes "
	    "WHERE domain_id = ? AND local_part = ? FOR UPDATE" :
	    "SELECT id, active, quota_bytes, quota_messages FROM mailboxes "
	    "WHERE domain_id = ? AND local_part = ?", NULL, "us", m->d.id,
	    local);
	if (r->nrows == 0)
		admin_fail(EX_NOUSER, "no such mailbox: %s", addr);
	m->id = admin_cell_u64(DB_CELL(r, 0, 0));
	m->active = admin_cell_u64(DB_CELL(r, 0, 1)) != 0;
	m->quota = admin_cell_u64(DB_CELL(r, 0, 2));
	m->messages = admin_cell_u64(DB_CELL(r, 0, 3));
}

static const char *const mb_keys[] = { "address", "name", "active",
    "domain_active", "used_bytes", "quota_bytes", "used_messages",
    "quota_messages", "created" };
static const char *const mb_titles[] = { "ADDRESS", "NAME", "ACTIVE", NULL,
    "USED/QUOTA", NULL, "MESSAGES/LIMIT", NULL, "CREATED" };

#define MB_SELECT							\
	"SELECT CONCAT(m.local_part, '@', d.name), m.name, m.active, "	\
	"d.active, m.quota_bytes, COALESCE(q.bytes, 0), "		\
	"m.quota_messages, COALESCE(q.messages, 0), m.created_at, "	\
	"m.updated_at, m.password_changed_at, "				\
	"SUBSTRING_INDEX(SUBSTRING(m.password, 2), '}', 1), "		\
	"m.local_part, d.name "						\
	"FROM mailboxes m JOIN domains d ON d.id = m.domain_id "	\
	"LEFT JOIN quota_usage q ON q.mailbox_id = m.id "

static void
mb_fill(struct table *t, struct db_result *r, size_t i)
{
	uint64_t	 qb = admin_cell_u64(DB_CELL(r, i, 4));
	uint64_t	 ub = admin_cell_u64(DB_CELL(r, i, 5));
	uint64_t	 qm = admin_cell_u64(DB_CELL(r, i, 6));
	uint64_t	 um = admin_cell_u64(DB_CELL(r, i, 7));

	table_row(t);
	table_str(t, DB_CELL(r, i, 0));
	table_str(t, DB_CELL(r, i, 1));
	table_bool(t, admin_cell_u64(DB_CELL(r, i, 2)) != 0);
	table_bool(t, admin_cell_u64(DB_CELL(r, i, 3)) != 0);
	/* Human: "used/limit" in one column; JSON: the usage cell carries
	 * the used amount and the limit has a JSON-only column. */
	table_usage(t, ub, qb, true);
	table_u64(t, qb);
	table_usage(t, um, qm, false);
	table_u64(t, qm);
	table_str(t, DB_CELL(r, i, 8));
}

static int
mb_list(struct admin_ctx *ctx, int argc, char **argv)
{
	char			 domain[ADDR_MAX + 1];
	struct domain_row	 d;
	struct db_result	*r;
	struct table		*t;
	size_t			 i;

	if (argc > 2)
		admin_usage_fail("mailbox list [DOMAIN]", "unexpected argument");
	if (argc == 2) {
		admin_parse_domain(argv[1], domain);
		domain_get(ctx, domain, false, &d);
		r = admin_sql(ctx, "mailbox list", MB_SELECT
		    "WHERE d.id = ? ORDER BY d.name, m.local_part", NULL, "u",
		    d.id);
	} else {
		r = admin_sql(ctx, "mailbox list", MB_SELECT
		    "ORDER BY d.name, m.local_part", NULL, "");
	}
	t = table_new(ctx, mb_keys, mb_titles, N_ELEMENTS(mb_keys));
	for (i = 0; i < r->nrows; i++)
		mb_fill(t, r, i);
	table_print(t);
	return 0;
}

static int
mb_show(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "address", "name", "active",
	    "domain_active", "used_bytes", "quota_bytes", "used_messages",
	    "quota_messages", "created", "updated", "password_changed",
	    "password_scheme", "home" };
	static const char *const titles[] = { "Address", "Name", "Active",
	    "Domain active", "Used/quota", NULL, "Messages/limit", NULL,
	    "Created", "Updated", "Password changed", "Password scheme",
	    "Home" };
	char			 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1], home[4096];
	struct mb_row		 m;
	struct db_result	*r;
	struct table		*t;

	if (argc != 2)
		admin_usage_fail("mailbox show ADDRESS", "expected one address");
	admin_parse_address(argv[1], addr, local, domain);
	admin_config(ctx);
	mb_get(ctx, addr, local, domain, false, &m);
	r = admin_sql(ctx, "mailbox show", MB_SELECT "WHERE m.id = ?", NULL,
	    "u", m.id);
	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	mb_fill(t, r, 0);
	table_str(t, DB_CELL(r, 0, 9));
	table_str(t, DB_CELL(r, 0, 10));
	table_str(t, DB_CELL(r, 0, 11));
	if (aviary_mail_home(&ctx->cfg.mail, local, domain, home,
	    sizeof(home)) == -1)
		table_str(t, NULL);
	else
		table_str(t, home);
	table_print_record(t);
	return 0;
}

static int
mb_passwd(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "mailbox passwd ADDRESS [--password-stdin]";
	struct mb_opts		 o;
	struct mb_row		 m;
	char			 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1];
	char			 pw[PASSWORD_MAX], hash[PASSWORD_HASH_MAX];
	const char		*error;
	int			 i;

	i = mb_parse(argc, argv, usage, "a", &o);
	if (argc - i > 1)
		admin_usage_fail(usage, "unexpected argument after the address "
		    "(passwords are never taken from the command line: use "
		    "--password-stdin or the prompt)");
	if (argc - i != 1)
		admin_usage_fail(usage, "expected one address");
	admin_parse_address(argv[i], addr, local, domain);
	admin_config(ctx);
	mb_get(ctx, addr, local, domain, false, &m);
	admin_read_password(o.password_stdin, pw, sizeof(pw));
	if (password_hash(ctx->cfg.passwords.scheme, ctx->cfg.passwords.rounds,
	    pw, hash, sizeof(hash), &error) == -1) {
		explicit_bzero(pw, sizeof(pw));
		admin_fail(EX_DATAERR, "cannot hash the password: %s", error);
	}
	explicit_bzero(pw, sizeof(pw));
	admin_begin(ctx);
	(void)admin_sql(ctx, "password update",
	    "UPDATE mailboxes SET password = ?, password_changed_at = "
	    "CURRENT_TIMESTAMP(6) WHERE id = ?", NULL, "su", hash, m.id);
	explicit_bzero(hash, sizeof(hash));
	admin_audit(ctx, "mailbox passwd", addr, NULL);
	admin_commit(ctx);
	/* aviary-auth re-checks SQL on every login anyway; flushing also
	 * stops the old password from being served from the cache while
	 * the database is unreachable. */
	admin_auth_flush_user(ctx, addr);
	(void)printf("password of %s changed\n", addr);
	return 0;
}

static int
mb_enable(struct admin_ctx *ctx, int argc, char **argv, bool on)
{
	char		 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char		 domain[ADDR_MAX + 1];
	struct mb_row	 m;

	if (argc != 2)
		admin_usage_fail(on ? "mailbox enable ADDRESS" :
		    "mailbox disable ADDRESS", "expected one address");
	admin_parse_address(argv[1], addr, local, domain);
	admin_begin(ctx);
	mb_get(ctx, addr, local, domain, true, &m);
	(void)admin_sql(ctx, "mailbox update",
	    "UPDATE mailboxes SET active = ? WHERE id = ?", NULL, "uu",
	    (uint64_t)on, m.id);
	admin_audit(ctx, on ? "mailbox enable" : "mailbox disable", addr, NULL);
	admin_commit(ctx);
	if (!on)
		admin_auth_flush_user(ctx, addr);
	(void)printf("mailbox %s %s\n", addr, on ? "enabled" : "disabled");
	return 0;
}

static int
mb_quota(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "mailbox quota ADDRESS [SIZE] "
	    "[--messages N]";
	static const char *const keys[] = { "address", "quota_bytes",
	    "used_bytes", "quota_messages", "used_messages" };
	static const char *const titles[] = { "Address", "Quota", "Used",
	    "Messages quota", "Messages" };
	struct mb_opts		 o;
	struct mb_row		 m;
	char			 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1];
	struct db_result	*r;
	struct table		*t;
	int			 i;

	i = mb_parse(argc, argv, usage, "bcd", &o);
	if (argc - i == 2) {
		o.set_quota = true;
		o.quota = admin_parse_size("quota", argv[i + 1]);
	} else if (argc - i != 1) {
		admin_usage_fail(usage, "expected an address and at most one "
		    "size");
	}
	admin_parse_address(argv[i], addr, local, domain);
	if (o.set_quota || o.set_messages) {
		admin_begin(ctx);
		mb_get(ctx, addr, local, domain, true, &m);
		if (o.set_quota) {
			mb_check_allocation(ctx, &m.d, m.id, o.quota);
			m.quota = o.quota;
		}
		if (o.set_messages)
			m.messages = o.messages;
		(void)admin_sql(ctx, "quota update",
		    "UPDATE mailboxes SET quota_bytes = ?, quota_messages = ? "
		    "WHERE id = ?", NULL, "uuu", m.quota, m.messages, m.id);
		admin_audit(ctx, "mailbox quota", addr, arena_printf(ctx->a,
		    "bytes=%llu messages=%llu", (unsigned long long)m.quota,
		    (unsigned long long)m.messages));
		admin_commit(ctx);
	} else {
		mb_get(ctx, addr, local, domain, false, &m);
	}
	r = admin_sql(ctx, "quota usage",
	    "SELECT COALESCE(bytes, 0), COALESCE(messages, 0) FROM quota_usage "
	    "WHERE mailbox_id = ?", NULL, "u", m.id);
	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	table_row(t);
	table_str(t, addr);
	table_size(t, m.quota);
	table_bytes(t, r->nrows ? admin_cell_u64(DB_CELL(r, 0, 0)) : 0);
	table_limit(t, m.messages);
	table_u64(t, r->nrows ? admin_cell_u64(DB_CELL(r, 0, 1)) : 0);
	table_print_record(t);
	return 0;
}

static int
purge_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path) == -1 ? -1 : 0;
	return unlink(path) == -1 ? -1 : 0;
}

int
admin_purge_home(struct admin_ctx *ctx, const char *local, const char *domain)
{
	char	 home[4096];

	admin_config(ctx);
	if (aviary_mail_home(&ctx->cfg.mail, local, domain, home,
	    sizeof(home)) == -1) {
		admin_warn("%s@%s: home path too long; mail not removed", local,
		    domain);
		return -1;
	}
	/* FTW_PHYS: never follow a symlink out of the mail tree;
	 * FTW_DEPTH: contents before their directory; FTW_MOUNT: stay on
	 * the mail filesystem. */
	if (nftw(home, purge_one, 16, FTW_PHYS | FTW_DEPTH | FTW_MOUNT) == -1 &&
	    errno != ENOENT) {
		admin_warn("removing %s: %s (the rest is left)", home,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
mb_delete(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "mailbox delete ADDRESS [--purge-mail]";
	struct mb_opts		 o;
	struct mb_row		 m;
	char			 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1];
	struct db_result	*r;
	int			 i;

	i = mb_parse(argc, argv, usage, "g", &o);
	if (argc - i != 1)
		admin_usage_fail(usage, "expected one address");
	admin_parse_address(argv[i], addr, local, domain);
	admin_begin(ctx);
	mb_get(ctx, addr, local, domain, true, &m);
	if (!admin_confirm(ctx, arena_printf(ctx->a, "Delete mailbox %s%s?",
	    addr, o.purge_mail ? " and all its mail" : "")))
		admin_fail(EX_TEMPFAIL, "not confirmed; nothing deleted");
	(void)admin_sql(ctx, "mailbox delete",
	    "DELETE FROM mailboxes WHERE id = ?", NULL, "u", m.id);
	admin_audit(ctx, "mailbox delete", addr, o.purge_mail ?
	    "mail purged" : "mail kept");
	admin_commit(ctx);
	admin_auth_flush_user(ctx, addr);
	r = admin_sql(ctx, "alias check",
	    "SELECT COUNT(*) FROM aliases WHERE destination = ?", NULL, "s",
	    addr);
	if (admin_cell_u64(DB_CELL(r, 0, 0)) > 0)
		admin_warn("%s aliases still deliver to %s", DB_CELL(r, 0, 0),
		    addr);
	if (o.purge_mail && admin_purge_home(ctx, local, domain) == -1)
		return EX_IOERR;
	(void)printf("mailbox %s deleted%s\n", addr, o.purge_mail ?
	    " with its mail" : " (mail kept on disk)");
	return 0;
}

int
cmd_mailbox(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*verb = argc > 1 ? argv[1] : "";

	argc--;
	argv++;
	if (strcmp(verb, "add") == 0)
		return mb_add(ctx, argc, argv);
	if (strcmp(verb, "list") == 0)
		return mb_list(ctx, argc, argv);
	if (strcmp(verb, "show") == 0)
		return mb_show(ctx, argc, argv);
	if (strcmp(verb, "passwd") == 0)
		return mb_passwd(ctx, argc, argv);
	if (strcmp(verb, "enable") == 0)
		return mb_enable(ctx, argc, argv, true);
	if (strcmp(verb, "disable") == 0)
		return mb_enable(ctx, argc, argv, false);
	if (strcmp(verb, "quota") == 0)
		return mb_quota(ctx, argc, argv);
	if (strcmp(verb, "delete") == 0)
		return mb_delete(ctx, argc, argv);
	admin_usage_fail("mailbox add|list|show|passwd|enable|disable|quota|"
	    "delete ...", "unknown mailbox command '%s'", verb);
}
