/* cmd_import.c - aviary-admin import postfixadmin: domains, mailboxes,
 * aliases and alias domains from a PostfixAdmin 3.x database (MySQL or
 * MariaDB), for moving a Postfix + Dovecot + PostfixAdmin installation
 * to Aviary with its passwords and its Maildirs.
 *
 * The source is only read (four SELECTs). The target changes run in one
 * transaction: a failure half-way leaves the Aviary database as it was,
 * and --dry-run runs exactly the same statements and rolls them back, so
 * what it reports is what a real run would do. The import is idempotent:
 * a row that already holds the source's values is "unchanged"; one that
 * differs is a conflict, changed only with --update; nothing is ever
 * deleted. Every change writes an audit_log row.
 *
 * Units (PostfixAdmin's config.inc.php, model/DomainHandler.php and
 * MailboxHandler.php): domain.maxquota (per mailbox) and domain.quota
 * (domain total) are in MB of quota_multiplier bytes (1024000 by
 * default, or 1048576); mailbox.quota is already in bytes. For counts
 * and quotas 0 means unlimited and -1 "disabled", which Aviary cannot
 * express: -1 becomes unlimited, with a note.
 *
 * Passwords keep their hash, written with the {SCHEME} prefix that
 * Dovecot and aviary-auth use ($6$... becomes {SHA512-CRYPT}$6$...).
 * Values aviary-auth cannot verify (PLAIN-MD5, SSHA, ARGON2, malformed
 * crypt strings) are imported all the same, with their Dovecot scheme
 * prefix, and reported: such a login fails (password_verify() fails
 * closed) until the password is set again. */
#include <crypt.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/password.h"
#include "aviary/str.h"
#include "aviary/units.h"

#define IMP_DEFAULT_MULTIPLIER	1024000	/* PostfixAdmin's default */
#define IMP_HOME_MAX		4096

enum imp_kind { IK_DOMAIN, IK_MAILBOX, IK_ALIAS, IK_ALIAS_DOMAIN, IK_N };
enum imp_count { IC_ADDED, IC_UPDATED, IC_UNCHANGED, IC_CONFLICT, IC_SKIPPED,
    IC_N };

static const char *const imp_kind_name[IK_N] = { "domain", "mailbox",
    "alias", "alias-domain" };
static const char *const imp_kind_json[IK_N] = { "domains", "mailboxes",
    "aliases", "alias_domains" };
static const char *const imp_kind_plural[IK_N] = { "domains", "mailboxes",
    "aliases", "alias-domains" };

/* One line of the report. All strings live in ctx->a. */
struct imp_event {
	const char	*action;	/* add update conflict skip warning
					   note */
	enum imp_kind	 kind;
	const char	*object;
	const char	*detail;
};

/* A sorted set of names, for membership tests in O(log n). */
struct nameset {
	char	**v;
	size_t	  n, cap;
};

struct imp {
	struct admin_ctx	*ctx;
	struct db		*src;
	const char		*src_name;	/* for audit details */
	bool			 dry_run, update, plain, no_quota;
	bool			 no_domain_quota;
	uint64_t		 multiplier;
	uint64_t		 counts[IK_N][IC_N];
	struct imp_event	*ev;
	size_t			 nev, evcap;
	unsigned		 attention;	/* conflicts+skips+warnings */
	/* Sorted names: the source's domains imported as hosted ones, its
	 * alias domains, its mailbox addresses; and the mailboxes updated,
	 * whose cached logins aviary-auth must forget. */
	struct nameset		 hosted, aliasdoms, mailboxes, flush;
	struct db_result	*src_ad;	/* source alias_domain rows */
	/* The domain id looked up last (rows come sorted by domain). */
	char			 last_domain[ADDR_MAX + 1];
	uint64_t		 last_domain_id;
};

/* ------------------------------------------------------------ helpers */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
nameset_add(struct arena *a, struct nameset *s, const char *name)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;

		s->v = arena_realloc(a, s->v, s->cap * sizeof(char *),
		    ncap * sizeof(char *));
		s->cap = ncap;
	}
	s->v[s->n++] = arena_strdup(a, name);
}

static void
nameset_sort(struct nameset *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(char *), name_cmp);
}

static bool
nameset_has(const struct nameset *s, const char *name)
{
	return s->n > 0 && bsearch(&name, s->v, s->n, sizeof(char *),
	    name_cmp) != NULL;
}

static void imp_event(struct imp *im, const char *action, enum imp_kind kind,
    const char *object, const char *fmt, ...) AV_PRINTFLIKE(5, 6);

static void
imp_event(struct imp *im, const char *action, enum imp_kind kind,
    const char *object, const char *fmt, ...)
{
	struct arena	*a = im->ctx->a;
	va_list		 ap;

	if (im->nev == im->evcap) {
		size_t ncap = im->evcap ? im->evcap * 2 : 64;

		im->ev = arena_realloc(a, im->ev,
		    im->evcap * sizeof(*im->ev), ncap * sizeof(*im->ev));
		im->evcap = ncap;
	}
	im->ev[im->nev].action = action;
	im->ev[im->nev].kind = kind;
	im->ev[im->nev].object = arena_strdup(a, object);
	va_start(ap, fmt);
	im->ev[im->nev].detail = arena_vprintf(a, fmt, ap);
	va_end(ap);
	im->nev++;
	if (strcmp(action, "conflict") == 0 || strcmp(action, "skip") == 0 ||
	    strcmp(action, "warning") == 0)
		im->attention++;
}

/* A signed number from a source cell (PostfixAdmin uses -1). Returns
 * 0, or -1 when the cell is not a whole number. */
static int
cell_i64(const char *cell, int64_t *v_r)
{
	uint64_t	 u;
	bool		 neg = cell != NULL && cell[0] == '-';

	if (cell == NULL) {
		*v_r = 0;
		return 0;
	}
	if (str_to_u64(str_from_cstr(cell + neg), &u) == -1 ||
	    u > (uint64_t)INT64_MAX)
		return -1;
	*v_r = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

static bool
cell_true(const char *cell)
{
	return cell != NULL && strcmp(cell, "0") != 0 && cell[0] != '\0';
}

static const char *
human_size(struct arena *a, uint64_t v)
{
	char	 h[32];

	if (v == 0)
		return "unlimited";
	units_format_size_human(v, h, sizeof(h));
	return arena_strdup(a, h);
}

static const char *
yes_no(bool v)
{
	return v ? "yes" : "no";
}

/* Append "what old -> new" to a comma-separated list of differences. */
static void
diff_add(struct arena *a, const char **diff, const char *fmt, ...)
    AV_PRINTFLIKE(3, 4);

static void
diff_add(struct arena *a, const char **diff, const char *fmt, ...)
{
	va_list		 ap;
	const char	*item;

	va_start(ap, fmt);
	item = arena_vprintf(a, fmt, ap);
	va_end(ap);
	*diff = *diff == NULL ? item : arena_printf(a, "%s, %s", *diff, item);
}

static struct db_result *
src_sql(struct imp *im, const char *table, const char *sql)
{
	struct db_result	*r = NULL;
	const char		*error = NULL;
	enum db_status		 st;

	st = db_exec(im->src, im->ctx->a, sql, &r, NULL, NULL, &error, "");
	if (st == DB_EDOWN)
		admin_fail(EX_UNAVAILABLE, "PostfixAdmin database: %s", error);
	if (st != DB_OK)
		admin_fail(EX_DATAERR, "PostfixAdmin database: cannot read "
		    "table %s (is it a PostfixAdmin 3 database?): %s", table,
		    error);
	return r;
}

/* ---------------------------------------------------------- passwords */

enum pw_class { PW_OK, PW_LEGACY, PW_PLAIN, PW_UNSUPPORTED };

static size_t
span_b64crypt(const char *s)
{
	return strspn(s, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz");
}

/* The shape of the crypt strings whose layout is fixed (crypt(5)):
 * crypt_checksalt only looks at the prefix and salt, and a cut-off hash
 * would pass it and then never verify. Other methods ($y$, $7$ ...) are
 * left to crypt_checksalt. */
static bool
crypt_shape_ok(const char *h)
{
	const char	*p, *last;
	size_t		 n;

	if (h[0] != '$') {		/* DES: 2 salt + 11 hash characters */
		return strlen(h) == 13 && span_b64crypt(h) == 13;
	}
	last = strrchr(h, '$');
	if (last == NULL || last[1] == '\0')
		return false;
	n = strlen(last + 1);
	if (span_b64crypt(last + 1) != n)
		return false;
	if (strncmp(h, "$1$", 3) == 0)
		return n == 22 && last - (h + 3) <= 8;
	if (strncmp(h, "$5$", 3) == 0 || strncmp(h, "$6$", 3) == 0) {
		p = h + 3;
		if (strncmp(p, "rounds=", 7) == 0 && (p = strchr(p, '$')) != NULL)
			p++;
		if (p == NULL || last - p > 16)
			return false;
		return n == (h[1] == '5' ? 43u : 86u);
	}
	if (h[1] == '2' && h[2] != '\0' && h[3] == '$')	/* $2y$NN$ + 53 */
		return last == h + 6 && n == 53;
	return true;
}

/* The Dovecot scheme name for a crypt string without a prefix. */
static const char *
crypt_scheme_of(const char *h)
{
	if (strncmp(h, "$1$", 3) == 0)
		return "MD5-CRYPT";
	if (strncmp(h, "$5$", 3) == 0)
		return "SHA256-CRYPT";
	if (strncmp(h, "$6$", 3) == 0)
		return "SHA512-CRYPT";
	if (h[0] == '$' && h[1] == '2' && h[2] != '\0' && h[3] == '$')
		return "BLF-CRYPT";
	if (h[0] != '$')
		return "DES-CRYPT";
	return "CRYPT";
}

static enum pw_class
crypt_class(const char *h)
{
	int	 c;

	if (h[0] == '\0' || !crypt_shape_ok(h))
		return PW_UNSUPPORTED;
	c = crypt_checksalt(h);
	if (c == CRYPT_SALT_OK)
		return PW_OK;
	if (c == CRYPT_SALT_METHOD_LEGACY)
		return PW_LEGACY;
	return PW_UNSUPPORTED;
}

static bool
is_hex32(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdefABCDEF") == 32;
}

/* Classify a PostfixAdmin password value and give the value to store:
 * what aviary-auth would do with it. *scheme_r names the scheme for the
 * report, *why_r says why it cannot be verified (PW_UNSUPPORTED). */
static enum pw_class
pw_classify(struct imp *im, const char *in, const char **stored_r,
    const char **scheme_r, const char **why_r)
{
	static const char *const crypt_names[] = { "CRYPT", "MD5-CRYPT",
	    "DES-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT",
	    "YESCRYPT" };
	static const char *const plain_names[] = { "PLAIN", "CLEAR",
	    "CLEARTEXT" };
	struct arena	*a = im->ctx->a;
	const char	*end;
	char		*scheme;
	enum pw_class	 c;
	size_t		 i;

	*stored_r = in;
	*why_r = NULL;
	if (in[0] == '{' && (end = strchr(in, '}')) != NULL) {
		/* dovecot:SCHEME (and php_crypt with a prefix): keep it. */
		scheme = arena_strndup(a, in + 1, (size_t)(end - in - 1));
		*scheme_r = scheme;
		for (i = 0; i < N_ELEMENTS(plain_names); i++)
			if (strcasecmp(scheme, plain_names[i]) == 0)
				return PW_PLAIN;
		for (i = 0; i < N_ELEMENTS(crypt_names); i++)
			if (strcasecmp(scheme, crypt_names[i]) == 0)
				break;
		if (i == N_ELEMENTS(crypt_names)) {
			*why_r = "scheme not supported by aviary-auth";
			return PW_UNSUPPORTED;
		}
		c = crypt_class(end + 1);
		if (c == PW_UNSUPPORTED)
			*why_r = "malformed or unsupported crypt hash";
		return c;
	}
	if (in[0] == '$' || (strlen(in) == 13 && span_b64crypt(in) == 13)) {
		/* md5crypt (PostfixAdmin's default), php_crypt, system,
		 * mysql_encrypt: a bare crypt(3) string. */
		*scheme_r = crypt_scheme_of(in);
		c = crypt_class(in);
		if (c == PW_UNSUPPORTED) {
			*why_r = "malformed or unsupported crypt hash";
			return c;
		}
		*stored_r = arena_printf(a, "{%s}%s", *scheme_r, in);
		return c;
	}
	if (is_hex32(in)) {
		/* encrypt = 'md5': an unsalted hex MD5, Dovecot's PLAIN-MD5. */
		*scheme_r = "PLAIN-MD5";
		*stored_r = arena_printf(a, "{PLAIN-MD5}%s", in);
		*why_r = "scheme not supported by aviary-auth";
		return PW_UNSUPPORTED;
	}
	if (im->plain && in[0] != '\0') {
		/* encrypt = 'cleartext', as the operator told us. */
		*scheme_r = "PLAIN";
		*stored_r = arena_printf(a, "{PLAIN}%s", in);
		return PW_PLAIN;
	}
	*scheme_r = "unknown";
	*why_r = in[0] == '\0' ? "empty password" : "unrecognised format "
	    "(cleartext? see --plaintext-passwords)";
	return PW_UNSUPPORTED;
}

/* ------------------------------------------------------------ domains */

static bool
imp_domain_id(struct imp *im, const char *domain, uint64_t *id_r)
{
	struct db_result	*r;

	if (im->last_domain_id != 0 && strcmp(im->last_domain, domain) == 0) {
		*id_r = im->last_domain_id;
		return true;
	}
	r = admin_sql(im->ctx, "domain lookup",
	    "SELECT id FROM domains WHERE name = ?", NULL, "s", domain);
	if (r->nrows == 0)
		return false;
	*id_r = admin_cell_u64(DB_CELL(r, 0, 0));
	(void)snprintf(im->last_domain, sizeof(im->last_domain), "%s", domain);
	im->last_domain_id = *id_r;
	return true;
}

/* A PostfixAdmin limit: n > 0 as is, 0 unlimited, -1 disabled (which
 * becomes unlimited, with a note). Returns -1 on garbage. */
static int
imp_limit(struct imp *im, const char *domain, const char *what,
    const char *cell, uint64_t mul, uint64_t *v_r)
{
	int64_t	 v;

	if (cell_i64(cell, &v) == -1)
		return -1;
	if (v < 0) {
		imp_event(im, "note", IK_DOMAIN, domain, "%s is -1 (disabled) "
		    "in PostfixAdmin, which Aviary cannot express: imported "
		    "as unlimited", what);
		v = 0;
	}
	if (mul != 0 && (uint64_t)v > UINT64_MAX / mul)
		return -1;
	*v_r = (uint64_t)v * (mul ? mul : 1);
	return 0;
}

static void
imp_domains(struct imp *im)
{
	struct admin_ctx	*ctx = im->ctx;
	struct db_result	*r, *e;
	char			 name[ADDR_MAX + 1];
	const char		*why, *diff;
	uint64_t		 maxmb, maxal, mbq, q, id;
	bool			 active;
	size_t			 i;

	r = src_sql(im, "domain", "SELECT domain, aliases, mailboxes, "
	    "maxquota, quota, backupmx, active FROM domain ORDER BY domain");
	for (i = 0; i < r->nrows; i++) {
		const char *raw = DB_CELL(r, i, 0) ? DB_CELL(r, i, 0) : "";

		/* PostfixAdmin's marker for superadmins, not a domain. */
		if (strcasecmp(raw, "ALL") == 0)
			continue;
		if (addr_domain_normalize(raw, name, &why) == -1) {
			imp_event(im, "skip", IK_DOMAIN, raw, "bad domain "
			    "name: %s", why);
			im->counts[IK_DOMAIN][IC_SKIPPED]++;
			continue;
		}
		if (nameset_has(&im->aliasdoms, name))
			continue;	/* imported as an alias domain */
		if (cell_true(DB_CELL(r, i, 5))) {
			imp_event(im, "note", IK_DOMAIN, name, "backup MX domain "
			    "(Postfix relays it): not a hosted domain, not "
			    "imported; keep it in Postfix's relay_domains");
			im->counts[IK_DOMAIN][IC_SKIPPED]++;
			continue;
		}
		if (imp_limit(im, name, "mailboxes", DB_CELL(r, i, 2), 0,
		    &maxmb) == -1 ||
		    imp_limit(im, name, "aliases", DB_CELL(r, i, 1), 0,
		    &maxal) == -1 ||
		    imp_limit(im, name, "maxquota", DB_CELL(r, i, 3),
		    im->multiplier, &mbq) == -1 ||
		    imp_limit(im, name, "quota", DB_CELL(r, i, 4),
		    im->multiplier, &q) == -1 || maxmb > 4294967295ULL ||
		    maxal > 4294967295ULL) {
			imp_event(im, "skip", IK_DOMAIN, name, "bad number in "
			    "aliases, mailboxes, maxquota or quota");
			im->counts[IK_DOMAIN][IC_SKIPPED]++;
			continue;
		}
		if (im->no_quota)
			mbq = q = 0;
		if (im->no_domain_quota)
			q = 0;
		active = cell_true(DB_CELL(r, i, 6));

		e = admin_sql(ctx, "domain lookup", "SELECT id, active, "
		    "max_mailboxes, max_aliases, mailbox_quota_bytes, "
		    "quota_bytes FROM domains WHERE name = ?", NULL, "s", name);
		if (e->nrows == 0) {
			e = admin_sql(ctx, "alias domain lookup", "SELECT 1 FROM "
			    "alias_domains WHERE name = ?", NULL, "s", name);
			if (e->nrows > 0) {
				imp_event(im, "conflict", IK_DOMAIN, name, "an "
				    "alias domain in Aviary: not imported, nor "
				    "its mailboxes and aliases");
				im->counts[IK_DOMAIN][IC_CONFLICT]++;
				continue;
			}
			(void)admin_sql(ctx, arena_printf(ctx->a, "domain %s",
			    name), "INSERT INTO domains (name, active, "
			    "max_mailboxes, max_aliases, mailbox_quota_bytes, "
			    "quota_bytes) VALUES (?, ?, ?, ?, ?, ?)", NULL,
			    "suuuuu", name, (uint64_t)active, maxmb, maxal, mbq,
			    q);
			admin_audit(ctx, "import domain add", name, im->src_name);
			imp_event(im, "add", IK_DOMAIN, name, "active %s, "
			    "mailboxes %s, aliases %s, mailbox quota %s, "
			    "quota %s", yes_no(active),
			    maxmb ? arena_printf(ctx->a, "%llu",
			    (unsigned long long)maxmb) : "unlimited",
			    maxal ? arena_printf(ctx->a, "%llu",
			    (unsigned long long)maxal) : "unlimited",
			    human_size(ctx->a, mbq), human_size(ctx->a, q));
			im->counts[IK_DOMAIN][IC_ADDED]++;
			nameset_add(ctx->a, &im->hosted, name);
			continue;
		}
		nameset_add(ctx->a, &im->hosted, name);
		id = admin_cell_u64(DB_CELL(e, 0, 0));
		diff = NULL;
		if ((admin_cell_u64(DB_CELL(e, 0, 1)) != 0) != active)
			diff_add(ctx->a, &diff, "active %s -> %s",
			    yes_no(!active), yes_no(active));
		if (admin_cell_u64(DB_CELL(e, 0, 2)) != maxmb)
			diff_add(ctx->a, &diff, "mailboxes %s -> %llu",
			    DB_CELL(e, 0, 2), (unsigned long long)maxmb);
		if (admin_cell_u64(DB_CELL(e, 0, 3)) != maxal)
			diff_add(ctx->a, &diff, "aliases %s -> %llu",
			    DB_CELL(e, 0, 3), (unsigned long long)maxal);
		if (admin_cell_u64(DB_CELL(e, 0, 4)) != mbq)
			diff_add(ctx->a, &diff, "mailbox quota %s -> %s",
			    human_size(ctx->a, admin_cell_u64(DB_CELL(e, 0, 4))),
			    human_size(ctx->a, mbq));
		if (admin_cell_u64(DB_CELL(e, 0, 5)) != q)
			diff_add(ctx->a, &diff, "quota %s -> %s",
			    human_size(ctx->a, admin_cell_u64(DB_CELL(e, 0, 5))),
			    human_size(ctx->a, q));
		if (diff == NULL) {
			im->counts[IK_DOMAIN][IC_UNCHANGED]++;
		} else if (!im->update) {
			imp_event(im, "conflict", IK_DOMAIN, name, "%s (kept; "
			    "--update to change)", diff);
			im->counts[IK_DOMAIN][IC_CONFLICT]++;
		} else {
			(void)admin_sql(ctx, arena_printf(ctx->a, "domain %s",
			    name), "UPDATE domains SET active = ?, "
			    "max_mailboxes = ?, max_aliases = ?, "
			    "mailbox_quota_bytes = ?, quota_bytes = ? "
			    "WHERE id = ?", NULL, "uuuuuu", (uint64_t)active,
			    maxmb, maxal, mbq, q, id);
			admin_audit(ctx, "import domain update", name, diff);
			imp_event(im, "update", IK_DOMAIN, name, "%s", diff);
			im->counts[IK_DOMAIN][IC_UPDATED]++;
		}
	}
	nameset_sort(&im->hosted);
}

/* ---------------------------------------------------------- mailboxes */

/* PostfixAdmin's maildir column is relative to Postfix's
 * virtual_mailbox_base, which is our mail.root: the home Aviary computes
 * must name the same directory, or the user would find an empty mailbox.
 * Returns NULL when they agree, else the relative path we would use. */
static const char *
imp_maildir_mismatch(struct imp *im, const char *local, const char *domain,
    const char *maildir)
{
	const struct aviary_mail_config *m = &im->ctx->cfg.mail;
	char		 home[IMP_HOME_MAX];
	const char	*rel;
	size_t		 n, rootlen = strlen(m->root);

	if (aviary_mail_home(m, local, domain, home, sizeof(home)) == -1)
		return "(too long)";
	rel = home;
	if (strncmp(rel, m->root, rootlen) == 0)
		rel += rootlen;
	while (*rel == '/')
		rel++;
	while (maildir[0] == '.' && maildir[1] == '/')
		maildir += 2;
	n = strlen(maildir);
	while (n > 0 && maildir[n - 1] == '/')
		n--;
	if (strlen(rel) == n && strncmp(rel, maildir, n) == 0)
		return NULL;
	return arena_strdup(im->ctx->a, rel);
}

static void
imp_mailbox_password_report(struct imp *im, const char *addr,
    enum pw_class c, const char *scheme, const char *why)
{
	switch (c) {
	case PW_OK:
		break;
	case PW_LEGACY:
		imp_event(im, "note", IK_MAILBOX, addr, "legacy password hash "
		    "(%s): verifies, but a new password would be stronger",
		    scheme);
		break;
	case PW_PLAIN:
		imp_event(im, "note", IK_MAILBOX, addr, "password stored in "
		    "cleartext ({%s}): set a new one to have it hashed",
		    scheme);
		break;
	case PW_UNSUPPORTED:
		imp_event(im, "warning", IK_MAILBOX, addr, "password (%s): %s; "
		    "imported as it is, logins fail until it is set again "
		    "(aviary-admin mailbox passwd)", scheme, why);
		break;
	}
}

static void
imp_mailboxes(struct imp *im)
{
	struct admin_ctx	*ctx = im->ctx;
	struct db_result	*r, *e;
	char			 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1], coldom[ADDR_MAX + 1];
	const char		*why, *stored, *scheme, *pwhy, *diff, *other;
	const char		*name, *maildir;
	enum pw_class		 pc;
	uint64_t		 did, id, quota;
	int64_t			 q;
	bool			 active, pw_differs;
	size_t			 i;

	r = src_sql(im, "mailbox", "SELECT username, password, name, "
	    "maildir, quota, domain, active FROM mailbox "
	    "ORDER BY domain, username");
	/* Every mailbox address first: the alias phase needs them to tell
	 * PostfixAdmin's mailbox-as-its-own-alias rows apart. */
	for (i = 0; i < r->nrows; i++)
		if (DB_CELL(r, i, 0) != NULL &&
		    addr_normalize(DB_CELL(r, i, 0), addr, NULL, NULL,
		    &why) == 0)
			nameset_add(ctx->a, &im->mailboxes, addr);
	nameset_sort(&im->mailboxes);

	for (i = 0; i < r->nrows; i++) {
		const char *raw = DB_CELL(r, i, 0) ? DB_CELL(r, i, 0) : "";

		if (addr_normalize(raw, addr, local, domain, &why) == -1) {
			imp_event(im, "skip", IK_MAILBOX, raw, "bad address: %s",
			    why);
			im->counts[IK_MAILBOX][IC_SKIPPED]++;
			continue;
		}
		if (DB_CELL(r, i, 5) == NULL || addr_domain_normalize(
		    DB_CELL(r, i, 5), coldom, &why) == -1 ||
		    strcmp(coldom, domain) != 0) {
			imp_event(im, "skip", IK_MAILBOX, addr, "its domain "
			    "column does not match the address");
			im->counts[IK_MAILBOX][IC_SKIPPED]++;
			continue;
		}
		if (nameset_has(&im->aliasdoms, domain)) {
			imp_event(im, "skip", IK_MAILBOX, addr, "%s is an alias "
			    "domain: a mailbox of its own cannot be kept",
			    domain);
			im->counts[IK_MAILBOX][IC_SKIPPED]++;
			continue;
		}
		if (!nameset_has(&im->hosted, domain) ||
		    !imp_domain_id(im, domain, &did)) {
			imp_event(im, "skip", IK_MAILBOX, addr, "domain %s not "
			    "imported", domain);
			im->counts[IK_MAILBOX][IC_SKIPPED]++;
			continue;
		}
		pc = pw_classify(im, DB_CELL(r, i, 1) ? DB_CELL(r, i, 1) : "",
		    &stored, &scheme, &pwhy);
		name = DB_CELL(r, i, 2) ? DB_CELL(r, i, 2) : "";
		maildir = DB_CELL(r, i, 3) ? DB_CELL(r, i, 3) : "";
		if (cell_i64(DB_CELL(r, i, 4), &q) == -1) {
			imp_event(im, "skip", IK_MAILBOX, addr, "bad quota");
			im->counts[IK_MAILBOX][IC_SKIPPED]++;
			continue;
		}
		if (q < 0)
			imp_event(im, "note", IK_MAILBOX, addr, "quota is %lld "
			    "in PostfixAdmin: imported as unlimited",
			    (long long)q);
		quota = q > 0 && !im->no_quota ? (uint64_t)q : 0;
		active = cell_true(DB_CELL(r, i, 6));
		imp_mailbox_password_report(im, addr, pc, scheme, pwhy);
		if ((other = imp_maildir_mismatch(im, local, domain,
		    maildir)) != NULL)
			imp_event(im, "warning", IK_MAILBOX, addr, "maildir "
			    "'%s' in PostfixAdmin, but mail.home gives '%s' "
			    "below mail.root: move the Maildir or change "
			    "mail.home", maildir, other);

		e = admin_sql(ctx, "mailbox lookup", "SELECT id, password, "
		    "name, quota_bytes, active FROM mailboxes "
		    "WHERE domain_id = ? AND local_part = ?", NULL, "us", did,
		    local);
		if (e->nrows == 0) {
			(void)admin_sql(ctx, arena_printf(ctx->a, "mailbox %s",
			    addr), "INSERT INTO mailboxes (domain_id, "
			    "local_part, password, name, quota_bytes, "
			    "quota_messages, active) VALUES (?, ?, ?, ?, ?, 0, "
			    "?)", NULL, "usssuu", did, local, stored, name,
			    quota, (uint64_t)active);
			admin_audit(ctx, "import mailbox add", addr,
			    im->src_name);
			imp_event(im, "add", IK_MAILBOX, addr, "password %s, "
			    "quota %s, active %s", scheme,
			    human_size(ctx->a, quota), yes_no(active));
			im->counts[IK_MAILBOX][IC_ADDED]++;
			continue;
		}
		id = admin_cell_u64(DB_CELL(e, 0, 0));
		diff = NULL;
		pw_differs = DB_CELL(e, 0, 1) == NULL ||
		    strcmp(DB_CELL(e, 0, 1), stored) != 0;
		if (pw_differs)
			diff_add(ctx->a, &diff, "password");
		if (DB_CELL(e, 0, 2) == NULL || strcmp(DB_CELL(e, 0, 2),
		    name) != 0)
			diff_add(ctx->a, &diff, "name");
		if (admin_cell_u64(DB_CELL(e, 0, 3)) != quota)
			diff_add(ctx->a, &diff, "quota %s -> %s",
			    human_size(ctx->a, admin_cell_u64(DB_CELL(e, 0, 3))),
			    human_size(ctx->a, quota));
		if ((admin_cell_u64(DB_CELL(e, 0, 4)) != 0) != active)
			diff_add(ctx->a, &diff, "active %s -> %s",
			    yes_no(!active), yes_no(active));
		if (diff == NULL) {
			im->counts[IK_MAILBOX][IC_UNCHANGED]++;
			continue;
		}
		if (!im->update) {
			imp_event(im, "conflict", IK_MAILBOX, addr, "%s differ%s "
			    "(kept; --update to change)", diff,
			    strchr(diff, ',') ? "" : "s");
			im->counts[IK_MAILBOX][IC_CONFLICT]++;
			continue;
		}
		(void)admin_sql(ctx, arena_printf(ctx->a, "mailbox %s", addr),
		    pw_differs ?
		    "UPDATE mailboxes SET password = ?, name = ?, "
		    "quota_bytes = ?, active = ?, password_changed_at = "
		    "CURRENT_TIMESTAMP(6) WHERE id = ?" :
		    "UPDATE mailboxes SET password = ?, name = ?, "
		    "quota_bytes = ?, active = ? WHERE id = ?", NULL, "ssuuu",
		    stored, name, quota, (uint64_t)active, id);
		admin_audit(ctx, "import mailbox update", addr, diff);
		imp_event(im, "update", IK_MAILBOX, addr, "%s", diff);
		im->counts[IK_MAILBOX][IC_UPDATED]++;
		nameset_add(ctx->a, &im->flush, addr);
	}
}

/* ------------------------------------------------------------ aliases */

static void
imp_alias_dest(struct imp *im, uint64_t did, const char *shown,
    const char *local, const char *dst, bool active)
{
	struct admin_ctx	*ctx = im->ctx;
	struct db_result	*e;
	const char		*obj = arena_printf(ctx->a, "%s -> %s", shown,
				    dst);

	e = admin_sql(ctx, "alias lookup", "SELECT id, active FROM aliases "
	    "WHERE domain_id = ? AND local_part = ? AND destination = ?", NULL,
	    "uss", did, local, dst);
	if (e->nrows == 0) {
		(void)admin_sql(ctx, arena_printf(ctx->a, "alias %s", obj),
		    "INSERT INTO aliases (domain_id, local_part, destination, "
		    "active) VALUES (?, ?, ?, ?)", NULL, "ussu", did, local,
		    dst, (uint64_t)active);
		admin_audit(ctx, "import alias add", shown, dst);
		imp_event(im, "add", IK_ALIAS, obj, "active %s", yes_no(active));
		im->counts[IK_ALIAS][IC_ADDED]++;
		return;
	}
	if ((admin_cell_u64(DB_CELL(e, 0, 1)) != 0) == active) {
		im->counts[IK_ALIAS][IC_UNCHANGED]++;
		return;
	}
	if (!im->update) {
		imp_event(im, "conflict", IK_ALIAS, obj, "active %s -> %s "
		    "(kept; --update to change)", yes_no(!active),
		    yes_no(active));
		im->counts[IK_ALIAS][IC_CONFLICT]++;
		return;
	}
	(void)admin_sql(ctx, arena_printf(ctx->a, "alias %s", obj),
	    "UPDATE aliases SET active = ? WHERE id = ?", NULL, "uu",
	    (uint64_t)active, admin_cell_u64(DB_CELL(e, 0, 0)));
	admin_audit(ctx, "import alias update", shown,
	    arena_printf(ctx->a, "%s: active %s", dst, yes_no(active)));
	imp_event(im, "update", IK_ALIAS, obj, "active %s -> %s",
	    yes_no(!active), yes_no(active));
	im->counts[IK_ALIAS][IC_UPDATED]++;
}

static void
imp_aliases(struct imp *im)
{
	struct admin_ctx	*ctx = im->ctx;
	struct db_result	*r;
	char			 shown[ADDR_MAX + 2], local[ADDR_MAX + 1];
	char			 domain[ADDR_MAX + 1], dst[ADDR_MAX + 1];
	const char		*why;
	char			**dests;
	size_t			 i, k, ndest, cap;
	uint64_t		 did;
	bool			 active, is_mailbox, has_self, bad;

	r = src_sql(im, "alias", "SELECT address, goto, active FROM alias "
	    "ORDER BY domain, address");
	for (i = 0; i < r->nrows; i++) {
		const char *raw = DB_CELL(r, i, 0) ? DB_CELL(r, i, 0) : "";
		const char *go = DB_CELL(r, i, 1) ? DB_CELL(r, i, 1) : "";
		struct str rest = str_from_cstr(go), item;

		why = NULL;
		if (raw[0] == '@') {		/* "@domain": the catch-all */
			local[0] = '\0';
			if (addr_domain_normalize(raw + 1, domain, &why) == 0)
				(void)snprintf(shown, sizeof(shown), "@%s",
				    domain);
		} else if (addr_normalize(raw, shown, local, domain,
		    &why) == 0)
			why = NULL;
		if (why != NULL) {
			imp_event(im, "skip", IK_ALIAS, raw, "bad address: %s",
			    why);
			im->counts[IK_ALIAS][IC_SKIPPED]++;
			continue;
		}
		active = cell_true(DB_CELL(r, i, 2));
		is_mailbox = local[0] != '\0' &&
		    nameset_has(&im->mailboxes, shown);
		/* goto: destinations separated by commas. */
		cap = 8;
		dests = arena_alloc(ctx->a, cap * sizeof(char *));
		ndest = 0;
		has_self = bad = false;
		while (rest.len > 0) {
			if (!str_split(rest, ',', &item, &rest))
				rest.len = 0;
			item = str_trim(item);
			if (item.len == 0)
				continue;
			if (addr_normalize_foreign(arena_strndup(ctx->a, item.p,
			    item.len), dst, &why) == -1) {
				imp_event(im, "skip", IK_ALIAS,
				    arena_printf(ctx->a, "%s -> %.*s", shown,
				    (int)item.len, item.p),
				    "bad destination: %s", why);
				im->counts[IK_ALIAS][IC_SKIPPED]++;
				bad = true;
				continue;
			}
			if (strcasecmp(dst, shown) == 0) {
				has_self = true;
				continue;
			}
			/* O(n^2), fine: goto lists are short. */
			for (k = 0; k < ndest; k++)
				if (strcasecmp(dests[k], dst) == 0)
					break;
			if (k < ndest)
				continue;	/* listed twice: one row */
			if (ndest == cap) {
				dests = arena_realloc(ctx->a, dests,
				    cap * sizeof(char *),
				    2 * cap * sizeof(char *));
				cap *= 2;
			}
			dests[ndest++] = arena_strdup(ctx->a, dst);
		}
		if (ndest == 0) {
			/* A mailbox listed as its own alias (PostfixAdmin
			 * does that for every mailbox): nothing to import. */
			if (!is_mailbox && !bad)
				imp_event(im, "note", IK_ALIAS, shown, "no "
				    "destination: not imported");
			continue;
		}
		if (is_mailbox && !has_self)
			imp_event(im, "note", IK_ALIAS, shown, "forwards without "
			    "keeping a copy in PostfixAdmin; Aviary delivers to "
			    "the mailbox as well");
		if (nameset_has(&im->aliasdoms, domain)) {
			imp_event(im, "skip", IK_ALIAS, shown, "%s is an alias "
			    "domain: an alias of its own cannot be kept",
			    domain);
			im->counts[IK_ALIAS][IC_SKIPPED] += ndest;
			continue;
		}
		if (!nameset_has(&im->hosted, domain) ||
		    !imp_domain_id(im, domain, &did)) {
			imp_event(im, "skip", IK_ALIAS, shown, "domain %s not "
			    "imported", domain);
			im->counts[IK_ALIAS][IC_SKIPPED] += ndest;
			continue;
		}
		for (k = 0; k < ndest; k++)
			imp_alias_dest(im, did, shown, local, dests[k], active);
	}
}

/* ------------------------------------------------------- alias domains */

static void
imp_alias_domains(struct imp *im)
{
	struct admin_ctx	*ctx = im->ctx;
	struct db_result	*r = im->src_ad, *e;
	char			 name[ADDR_MAX + 1], target[ADDR_MAX + 1];
	const char		*why, *diff;
	uint64_t		 tid;
	bool			 active;
	size_t			 i;

	for (i = 0; i < r->nrows; i++) {
		const char *raw = DB_CELL(r, i, 0) ? DB_CELL(r, i, 0) : "";
		const char *rawt = DB_CELL(r, i, 1) ? DB_CELL(r, i, 1) : "";

		if (addr_domain_normalize(raw, name, &why) == -1 ||
		    addr_domain_normalize(rawt, target, &why) == -1) {
			imp_event(im, "skip", IK_ALIAS_DOMAIN,
			    arena_printf(ctx->a, "%s -> %s", raw, rawt),
			    "bad domain name: %s", why);
			im->counts[IK_ALIAS_DOMAIN][IC_SKIPPED]++;
			continue;
		}
		active = cell_true(DB_CELL(r, i, 2));
		if (strcmp(name, target) == 0 ||
		    nameset_has(&im->aliasdoms, target)) {
			imp_event(im, "skip", IK_ALIAS_DOMAIN, name, "target %s "
			    "is itself an alias domain", target);
			im->counts[IK_ALIAS_DOMAIN][IC_SKIPPED]++;
			continue;
		}
		if (!nameset_has(&im->hosted, target) ||
		    !imp_domain_id(im, target, &tid)) {
			imp_event(im, "skip", IK_ALIAS_DOMAIN, name, "target "
			    "domain %s not imported", target);
			im->counts[IK_ALIAS_DOMAIN][IC_SKIPPED]++;
			continue;
		}
		e = admin_sql(ctx, "domain lookup", "SELECT 1 FROM domains "
		    "WHERE name = ?", NULL, "s", name);
		if (e->nrows > 0) {
			imp_event(im, "conflict", IK_ALIAS_DOMAIN, name, "a "
			    "hosted domain in Aviary: not made an alias of %s",
			    target);
			im->counts[IK_ALIAS_DOMAIN][IC_CONFLICT]++;
			continue;
		}
		e = admin_sql(ctx, "alias domain lookup", "SELECT ad.id, "
		    "d.name, ad.active FROM alias_domains ad JOIN domains d "
		    "ON d.id = ad.target_domain_id WHERE ad.name = ?", NULL,
		    "s", name);
		if (e->nrows == 0) {
			(void)admin_sql(ctx, arena_printf(ctx->a,
			    "alias domain %s", name), "INSERT INTO alias_domains "
			    "(name, target_domain_id, active) VALUES (?, ?, ?)",
			    NULL, "suu", name, tid, (uint64_t)active);
			admin_audit(ctx, "import alias-domain add", name, target);
			imp_event(im, "add", IK_ALIAS_DOMAIN, name, "-> %s, "
			    "active %s", target, yes_no(active));
			im->counts[IK_ALIAS_DOMAIN][IC_ADDED]++;
			continue;
		}
		diff = NULL;
		if (strcmp(DB_CELL(e, 0, 1), target) != 0)
			diff_add(ctx->a, &diff, "target %s -> %s",
			    DB_CELL(e, 0, 1), target);
		if ((admin_cell_u64(DB_CELL(e, 0, 2)) != 0) != active)
			diff_add(ctx->a, &diff, "active %s -> %s",
			    yes_no(!active), yes_no(active));
		if (diff == NULL) {
			im->counts[IK_ALIAS_DOMAIN][IC_UNCHANGED]++;
		} else if (!im->update) {
			imp_event(im, "conflict", IK_ALIAS_DOMAIN, name, "%s "
			    "(kept; --update to change)", diff);
			im->counts[IK_ALIAS_DOMAIN][IC_CONFLICT]++;
		} else {
			(void)admin_sql(ctx, arena_printf(ctx->a,
			    "alias domain %s", name), "UPDATE alias_domains SET "
			    "target_domain_id = ?, active = ? WHERE id = ?",
			    NULL, "uuu", tid, (uint64_t)active,
			    admin_cell_u64(DB_CELL(e, 0, 0)));
			admin_audit(ctx, "import alias-domain update", name,
			    diff);
			imp_event(im, "update", IK_ALIAS_DOMAIN, name, "%s",
			    diff);
			im->counts[IK_ALIAS_DOMAIN][IC_UPDATED]++;
		}
	}
}

/* ------------------------------------------------------------- report */

static void
imp_report(struct imp *im)
{
	static const char *const ekeys[] = { "action", "type", "object",
	    "detail" };
	static const char *const etitles[] = { "ACTION", "TYPE", "OBJECT",
	    "DETAIL" };
	static const char *const skeys[] = { "type", "added", "updated",
	    "unchanged", "conflicts", "skipped" };
	static const char *const stitles[] = { "TYPE", "ADDED", "UPDATED",
	    "UNCHANGED", "CONFLICTS", "SKIPPED" };
	struct admin_ctx	*ctx = im->ctx;
	struct table		*ev, *sum;
	uint64_t		 changes;
	size_t			 i, k;

	ev = table_new(ctx, ekeys, etitles, N_ELEMENTS(ekeys));
	for (i = 0; i < im->nev; i++) {
		const struct imp_event *e = &im->ev[i];
		bool change = strcmp(e->action, "add") == 0 ||
		    strcmp(e->action, "update") == 0;

		table_row(ev);
		table_str(ev, im->dry_run && change && !ctx->json ?
		    arena_printf(ctx->a, "would-%s", e->action) : e->action);
		table_str(ev, imp_kind_name[e->kind]);
		table_str(ev, e->object);
		table_str(ev, e->detail);
	}
	sum = table_new(ctx, skeys, stitles, N_ELEMENTS(skeys));
	for (k = 0; k < IK_N; k++) {
		table_row(sum);
		table_str(sum, ctx->json ? imp_kind_json[k] :
		    imp_kind_plural[k]);
		for (i = 0; i < IC_N; i++)
			table_u64(sum, im->counts[k][i]);
	}
	if (ctx->json) {
		/* One object; the two tables print as JSON arrays. */
		(void)printf("{\"dry_run\": %s, \"attention\": %u, "
		    "\"summary\": ", im->dry_run ? "true" : "false",
		    im->attention);
		table_print(sum);
		(void)fputs(", \"events\": ", stdout);
		table_print(ev);
		(void)fputs("}\n", stdout);
		return;
	}
	if (im->nev > 0) {
		table_print(ev);
		(void)fputc('\n', stdout);
	}
	table_print(sum);
	for (changes = 0, k = 0; k < IK_N; k++)
		changes += im->counts[k][IC_ADDED] + im->counts[k][IC_UPDATED];
	if (im->dry_run)
		(void)printf("dry run: nothing was changed (a real run would "
		    "make %llu change%s)\n", (unsigned long long)changes,
		    changes == 1 ? "" : "s");
	else if (changes == 0)
		(void)printf("import done: nothing changed\n");
	else
		(void)printf("import done: %llu change%s\n",
		    (unsigned long long)changes, changes == 1 ? "" : "s");
}

/* ------------------------------------------------------------ options */

enum { IO_HOST = 256, IO_DB, IO_USER, IO_PWFILE, IO_PWSTDIN, IO_MULT,
    IO_PLAIN, IO_UPDATE, IO_DRY, IO_NOQUOTA, IO_NODQUOTA };

static const struct option imp_long[] = {
	{ "source-host", required_argument, NULL, IO_HOST },
	{ "source-db", required_argument, NULL, IO_DB },
	{ "source-user", required_argument, NULL, IO_USER },
	{ "source-password-file", required_argument, NULL, IO_PWFILE },
	{ "source-password-stdin", no_argument, NULL, IO_PWSTDIN },
	{ "quota-multiplier", required_argument, NULL, IO_MULT },
	{ "plaintext-passwords", no_argument, NULL, IO_PLAIN },
	{ "update", no_argument, NULL, IO_UPDATE },
	{ "dry-run", no_argument, NULL, IO_DRY },
	{ "ignore-quotas", no_argument, NULL, IO_NOQUOTA },
	{ "ignore-domain-quota", no_argument, NULL, IO_NODQUOTA },
	{ "source-password", required_argument, NULL, 'P' },
	{ NULL, 0, NULL, 0 }
};

static const char imp_usage[] = "import postfixadmin [--source-host HOST] "
    "[--source-db NAME] [--source-user USER] [--source-password-file FILE | "
    "--source-password-stdin] [--quota-multiplier N] [--ignore-quotas] "
    "[--ignore-domain-quota] [--plaintext-passwords] [--update] [--dry-run]";

/* Connect to the PostfixAdmin database (exits on failure). */
static struct db *
imp_connect(struct admin_ctx *ctx, const char *host, const char *dbname,
    const char *user, const char *pwfile, bool pw_stdin)
{
	struct aviary_db_config	 c = { 0 };
	char			 pw[PASSWORD_MAX];
	char			*hosts[1];
	const char		*error;
	struct db		*db = NULL;
	enum db_status		 st;

	pw[0] = '\0';
	if (pwfile != NULL && db_read_password_file(pwfile, pw, sizeof(pw),
	    ctx->a, &error) == -1)
		admin_fail(EX_CONFIG, "--source-password-file: %s", error);
	if (pw_stdin)
		admin_read_password(true, pw, sizeof(pw));
	hosts[0] = arena_strdup(ctx->a, host);
	c.hosts.v = hosts;
	c.hosts.n = 1;
	c.name = arena_strdup(ctx->a, dbname);
	c.user = arena_strdup(ctx->a, user);
	c.password_file = "";
	c.connect_timeout = 10;
	st = db_connect(&db, &c, pw, ctx->a, &error);
	explicit_bzero(pw, sizeof(pw));
	if (st != DB_OK)
		admin_fail(EX_UNAVAILABLE, "cannot connect to the PostfixAdmin "
		    "database: %s", error);
	return db;
}

int
cmd_import(struct admin_ctx *ctx, int argc, char **argv)
{
	struct imp	 im = { 0 };
	const char	*host = "unix:/run/mysqld/mysqld.sock";
	const char	*dbname = "postfix", *user = "postfix";
	const char	*pwfile = NULL;
	struct db	*target;
	bool		 pw_stdin = false;
	size_t		 i;
	int		 c;

	if (argc < 2 || strcmp(argv[1], "postfixadmin") != 0)
		admin_usage_fail(imp_usage, "%s", argc < 2 ? "expected a "
		    "source: postfixadmin" : "unknown source (only "
		    "'postfixadmin')");
	argc--;
	argv++;
	im.ctx = ctx;
	im.multiplier = IMP_DEFAULT_MULTIPLIER;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", imp_long, NULL)) != -1) {
		switch (c) {
		case 'P':
			admin_usage_fail(imp_usage, "passwords are never taken "
			    "from the command line: use --source-password-file "
			    "or --source-password-stdin");
		case IO_HOST:
			host = optarg;
			break;
		case IO_DB:
			dbname = optarg;
			break;
		case IO_USER:
			user = optarg;
			break;
		case IO_PWFILE:
			pwfile = optarg;
			break;
		case IO_PWSTDIN:
			pw_stdin = true;
			break;
		case IO_MULT:
			im.multiplier = admin_parse_count("--quota-multiplier",
			    optarg);
			if (im.multiplier == 0)
				admin_fail(EX_DATAERR, "--quota-multiplier: "
				    "must be a positive number (1024000 or "
				    "1048576)");
			break;
		case IO_PLAIN:
			im.plain = true;
			break;
		case IO_UPDATE:
			im.update = true;
			break;
		case IO_DRY:
			im.dry_run = true;
			break;
		case IO_NOQUOTA:
			im.no_quota = true;
			break;
		case IO_NODQUOTA:
			im.no_domain_quota = true;
			break;
		default:
			admin_usage_fail(imp_usage, "%s '%s'", c == ':' ?
			    "missing value for option" : "bad option",
			    admin_opt_name(imp_long, optopt, argv));
		}
	}
	if (optind != argc)
		admin_usage_fail(imp_usage, "unexpected argument '%s'",
		    argv[optind]);
	if (pwfile != NULL && pw_stdin)
		admin_usage_fail(imp_usage, "--source-password-file and "
		    "--source-password-stdin exclude each other");
	if (strncmp(host, "unix:", 5) == 0 && host[5] != '/')
		admin_fail(EX_DATAERR, "--source-host: unix: needs an absolute "
		    "socket path");
	admin_config(ctx);
	im.src = imp_connect(ctx, host, dbname, user, pwfile, pw_stdin);
	im.src_name = arena_printf(ctx->a, "from PostfixAdmin database %s",
	    dbname);

	/* The alias domains first: PostfixAdmin keeps them in its domain
	 * table too, and Aviary must not host them. */
	im.src_ad = src_sql(&im, "alias_domain", "SELECT alias_domain, "
	    "target_domain, active FROM alias_domain ORDER BY alias_domain");
	for (i = 0; i < im.src_ad->nrows; i++) {
		char		 n[ADDR_MAX + 1];
		const char	*why;

		if (DB_CELL(im.src_ad, i, 0) != NULL && addr_domain_normalize(
		    DB_CELL(im.src_ad, i, 0), n, &why) == 0)
			nameset_add(ctx->a, &im.aliasdoms, n);
	}
	nameset_sort(&im.aliasdoms);

	target = admin_db(ctx);
	admin_begin(ctx);
	imp_domains(&im);
	imp_mailboxes(&im);
	imp_aliases(&im);
	imp_alias_domains(&im);
	if (im.dry_run)
		db_rollback(target);
	else
		admin_commit(ctx);
	db_close(&im.src);
	/* Changed passwords and flags: forget aviary-auth's cached logins
	 * (best effort, as mailbox passwd does). */
	for (i = 0; !im.dry_run && i < im.flush.n; i++)
		admin_auth_flush_user(ctx, im.flush.v[i]);
	imp_report(&im);
	if (im.attention > 0)
		admin_fail(EX_DATAERR, "import: %u item%s need%s attention "
		    "(conflicts, skipped rows or warnings above); everything "
		    "else %s", im.attention, im.attention == 1 ? "" : "s",
		    im.attention == 1 ? "s" : "", im.dry_run ?
		    "would be imported" : "was imported");
	return 0;
}
