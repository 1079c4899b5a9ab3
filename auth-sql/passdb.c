/* passdb.c - SQL lookups and password verification on worker threads;
 * see passdb.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "passdb.h"
#include "pool.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/db.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/password.h"
#include "aviary/str.h"

#define TPL_MAX_PARAMS	4

enum tpl_var { TV_LOCAL, TV_DOMAIN, TV_ADDRESS };

struct tpl {
	char		*sql;		/* with '?' */
	unsigned	 nparams;
	enum tpl_var	 params[TPL_MAX_PARAMS];
};

struct passdb {
	struct aviary_db_config	 db;	/* hosts and name, auth account */
	char			*password;	/* the auth account's */
	struct tpl		 password_q, user_q, alias_q, iterate_q;
};

struct passdb_conn {
	struct passdb	*p;
	struct db	*db;
	struct arena	*a;	/* per job */
};

static int
tpl_compile(struct tpl *t, const char *src, const char *name,
    const char **error_r)
{
	size_t	 n = strlen(src), i, o = 0;

	t->sql = xmalloc(n + 1);
	t->nparams = 0;
	for (i = 0; i < n; i++) {
		if (src[i] != '%') {
			t->sql[o++] = src[i];
			continue;
		}
		if (src[i + 1] == '%') {
			t->sql[o++] = '%';
			i++;
			continue;
		}
		if (t->nparams == TPL_MAX_PARAMS) {
			*error_r = name;
			return -1;
		}
		switch (src[i + 1]) {
		case 'n': t->params[t->nparams++] = TV_LOCAL; break;
		case 'd': t->params[t->nparams++] = TV_DOMAIN; break;
		case 'u': t->params[t->nparams++] = TV_ADDRESS; break;
		default:
			*error_r = name;
			return -1;
		}
		t->sql[o++] = '?';
		i++;
	}
	t->sql[o] = '\0';
	return 0;
}

struct passdb *
passdb_create(const struct aviary_config *cfg, const char *db_password,
    const char **error_r)
{
	struct passdb	*p = xcalloc(1, sizeof(*p));
	const char	*bad = NULL;

	p->db = cfg->database;
	p->db.user = cfg->auth.database.user;
	p->password = xstrdup(db_password);
	if (tpl_compile(&p->password_q, cfg->auth.password_query,
	    "auth.password_query", &bad) == -1 ||
	    tpl_compile(&p->user_q, cfg->auth.user_query, "auth.user_query",
	    &bad) == -1 ||
	    tpl_compile(&p->alias_q, cfg->auth.alias_domain_query,
	    "auth.alias_domain_query", &bad) == -1 ||
	    tpl_compile(&p->iterate_q, cfg->auth.iterate_query,
	    "auth.iterate_query", &bad) == -1) {
		*error_r = bad;
		passdb_destroy(&p);
		return NULL;
	}
	return p;
}

void
passdb_destroy(struct passdb **pp)
{
	struct passdb	*p = *pp;

	if (p == NULL)
		return;
	xfree_secret(p->password, strlen(p->password));
	free(p->password_q.sql);
	free(p->user_q.sql);
	free(p->alias_q.sql);
	free(p->iterate_q.sql);
	free(p);
	*pp = NULL;
}

struct passdb_conn *
passdb_conn_create(struct passdb *p)
{
	struct passdb_conn	*c = xcalloc(1, sizeof(*c));

	c->p = p;
	c->a = arena_create(8192);
	return c;
}

void
passdb_conn_destroy(struct passdb_conn **cp)
{
	struct passdb_conn	*c = *cp;

	if (c == NULL)
		return;
	db_close(&c->db);
	arena_destroy(&c->a);
	free(c);
	*cp = NULL;
}

/* Run a template. DB_OK with *res_r; on a lost connection, reconnect
 * once (the next host, if the first is gone) and retry: lookups are
 * read-only, so a retry is safe. */
static enum db_status
tpl_run(struct passdb_conn *c, const struct tpl *t, const char *local,
    const char *domain, const char *address, struct db_result **res_r)
{
	const char	*v[TPL_MAX_PARAMS] = { NULL };
	const char	*error = NULL;
	static const char types[] = "ssss";
	enum db_status	 st = DB_EDOWN;
	unsigned	 i;
	int		 attempt;

	for (i = 0; i < t->nparams; i++)
		v[i] = t->params[i] == TV_LOCAL ? local :
		    t->params[i] == TV_DOMAIN ? domain : address;
	for (attempt = 0; attempt < 2; attempt++) {
		if (c->db == NULL) {
			st = db_connect(&c->db, &c->p->db, c->p->password, c->a,
			    &error);
			if (st != DB_OK) {
				log_error("auth: SQL connect: %s", error);
				continue;
			}
		}
		st = db_exec(c->db, c->a, t->sql, res_r, NULL, NULL, &error,
		    types + (sizeof(types) - 1 - t->nparams), v[0], v[1], v[2],
		    v[3]);
		if (st == DB_OK)
			return DB_OK;
		log_error("auth: SQL query failed: %s", error);
		/* Whatever went wrong, start the next attempt on a fresh
		 * connection: a half-broken one must not stay cached. */
		db_close(&c->db);
		if (st != DB_EDOWN)
			break;
	}
	return st;
}

static int
col_find(const struct db_result *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->ncols; i++)
		if (strcasecmp(r->names[i], name) == 0)
			return (int)i;
	return -1;
}

static uint64_t
col_u64(const struct db_result *r, int col, uint64_t def)
{
	uint64_t	 v;

	if (col < 0 || DB_CELL(r, 0, col) == NULL ||
	    str_to_u64(str_from_cstr(DB_CELL(r, 0, col)), &v) == -1)
		return def;
	return v;
}

static int
copy_user(struct job *j, const struct db_result *r, const char *local,
    const char *domain)
{
	int	 col = col_find(r, "user");
	int	 n;

	if (col >= 0 && DB_CELL(r, 0, col) != NULL)
		n = snprintf(j->user, sizeof(j->user), "%s", DB_CELL(r, 0, col));
	else
		n = snprintf(j->user, sizeof(j->user), "%s@%s", local, domain);
	return n < 0 || (size_t)n >= sizeof(j->user) ? -1 : 0;
}

/* Find the user's row: the domain as given, else the domain an alias
 * domain points at. 1 found (*res_r), 0 not found, -1 temporary. */
static int
lookup(struct passdb_conn *c, const struct tpl *t, const char *local,
    const char *domain, struct db_result **res_r, char *real_domain,
    size_t rdsz)
{
	struct db_result	*r, *ad;
	char			 address[ADDR_MAX + 1];
	int			 n;

	(void)snprintf(address, sizeof(address), "%s@%s", local, domain);
	if (tpl_run(c, t, local, domain, address, &r) != DB_OK)
		return -1;
	if (r->nrows > 0) {
		(void)snprintf(real_domain, rdsz, "%s", domain);
		*res_r = r;
		return 1;
	}
	if (tpl_run(c, &c->p->alias_q, local, domain, address, &ad) != DB_OK)
		return -1;
	if (ad->nrows == 0 || ad->ncols < 1 || DB_CELL(ad, 0, 0) == NULL)
		return 0;
	n = snprintf(real_domain, rdsz, "%s", DB_CELL(ad, 0, 0));
	if (n < 0 || (size_t)n >= rdsz)
		return 0;
	(void)snprintf(address, sizeof(address), "%s@%s", local, real_domain);
	if (tpl_run(c, t, local, real_domain, address, &r) != DB_OK)
		return -1;
	if (r->nrows == 0)
		return 0;
	*res_r = r;
	return 1;
}

static void
run_passdb(struct passdb_conn *c, struct job *j, const char *local,
    const char *domain)
{
	struct db_result	*r;
	char			 real[ADDR_MAX + 1];
	const char		*error;
	int			 pc, ac, found, ok;

	found = lookup(c, &c->p->password_q, local, domain, &r, real,
	    sizeof(real));
	if (found <= 0) {
		j->status = found == 0 ? JOB_NOTFOUND : JOB_TEMP;
		j->why = found == 0 ? "unknown user" : "SQL unavailable";
		return;
	}
	pc = col_find(r, "password");
	ac = col_find(r, "active");
	if (pc < 0 || DB_CELL(r, 0, pc) == NULL ||
	    copy_user(j, r, local, real) == -1) {
		log_error("auth: password_query returned no usable 'password' "
		    "or 'user' column");
		j->status = JOB_TEMP;
		j->why = "bad password_query";
		return;
	}
	if (j->has_cached && str_ct_eq(j->cached, strlen(j->cached),
	    DB_CELL(r, 0, pc), strlen(DB_CELL(r, 0, pc))))
		ok = 1;		/* verified before against this very value */
	else
		ok = password_verify(j->password, DB_CELL(r, 0, pc), &error);
	if (ok == -1)
		log_error("auth: stored password of %s unusable: %s", j->user,
		    error);
	if (ok != 1) {
		j->status = JOB_MISMATCH;
		j->why = "wrong password";
		return;
	}
	/* The password was right; only now say whether the account is
	 * enabled, so guessing does not reveal which accounts exist. */
	j->active = col_u64(r, ac, 1) != 0;
	if (!j->active) {
		j->status = JOB_DISABLED;
		j->why = "mailbox or domain disabled";
		return;
	}
	if ((size_t)snprintf(j->stored, sizeof(j->stored), "%s",
	    DB_CELL(r, 0, pc)) >= sizeof(j->stored))
		j->stored[0] = '\0';	/* too long to cache; still fine */
	j->status = JOB_OK;
}

static void
run_userdb(struct passdb_conn *c, struct job *j, const char *local,
    const char *domain)
{
	struct db_result	*r;
	char			 real[ADDR_MAX + 1];
	int			 found;

	found = lookup(c, &c->p->user_q, local, domain, &r, real,
	    sizeof(real));
	if (found <= 0) {
		j->status = found == 0 ? JOB_NOTFOUND : JOB_TEMP;
		j->why = found == 0 ? "unknown user" : "SQL unavailable";
		return;
	}
	if (copy_user(j, r, local, real) == -1) {
		j->status = JOB_TEMP;
		j->why = "bad user_query";
		return;
	}
	j->quota_bytes = col_u64(r, col_find(r, "quota_bytes"), 0);
	j->quota_messages = col_u64(r, col_find(r, "quota_messages"), 0);
	j->active = col_u64(r, col_find(r, "active"), 1) != 0;
	j->status = JOB_OK;
}

static void
run_list(struct passdb_conn *c, struct job *j)
{
	struct db_result	*r;
	size_t			 i;
	int			 col;

	if (tpl_run(c, &c->p->iterate_q, "", "", "", &r) != DB_OK) {
		j->status = JOB_TEMP;
		j->why = "SQL unavailable";
		return;
	}
	col = col_find(r, "user");
	if (col < 0)
		col = 0;
	j->list = xcalloc(1, sizeof(*j->list));
	buf_init(j->list, NULL, (size_t)1 << 30);
	for (i = 0; i < r->nrows; i++) {
		const char *u = DB_CELL(r, i, col);

		if (u == NULL)
			continue;
		if (buf_append_str(j->list, u) != 0 ||
		    buf_append_c(j->list, '\n') != 0) {
			j->status = JOB_TEMP;
			j->why = "user list too large";
			return;
		}
	}
	j->status = JOB_OK;
}

void
passdb_run(struct passdb_conn *c, struct job *j)
{
	char	 local[ADDR_MAX + 1];
	char	*at;

	arena_reset(c->a);
	j->status = JOB_TEMP;
	if (j->kind == JOB_LIST) {
		run_list(c, j);
		return;
	}
	(void)snprintf(local, sizeof(local), "%s", j->login);
	at = strrchr(local, '@');
	if (at == NULL) {		/* the caller normalised it: a bug */
		j->status = JOB_NOTFOUND;
		return;
	}
	*at = '\0';
	if (j->kind == JOB_PASSDB)
		run_passdb(c, j, local, at + 1);
	else
		run_userdb(c, j, local, at + 1);
}
