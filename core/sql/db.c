/* db.c - MariaDB Connector/C behind prepared statements; see aviary/db.h.
 *
 * Results are buffered client-side (mysql_stmt_store_result with
 * STMT_ATTR_UPDATE_MAX_LENGTH), so each column can be bound as a string
 * buffer of the exact size needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "aviary/arena.h"
#include "aviary/config.h"
#include "aviary/db.h"
#include "aviary/mem.h"
#include "aviary/str.h"

#define DB_MAX_PARAMS	32

struct db {
	MYSQL	*m;
	char	*where;		/* the host we reached, for messages */
};

static enum db_status
db_classify(unsigned err)
{
	switch (err) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_LOST_EXTENDED:
	case ER_CON_COUNT_ERROR:
	case ER_SERVER_SHUTDOWN:
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
		return DB_EDOWN;
	case ER_DUP_ENTRY:
	case ER_DUP_KEY:
		return DB_EDUP;
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return DB_EFK;
	default:
		return DB_ERR;
	}
}

static int
db_split_host(struct arena *a, const char *spec, const char **host_r,
    unsigned *port_r, const char **socket_r)
{
	const char	*colon;
	uint64_t	 port = 3306;

	*host_r = NULL;
	*socket_r = NULL;
	*port_r = 0;
	if (strncmp(spec, "unix:", 5) == 0) {
		*socket_r = spec + 5;
		*host_r = "localhost";
		return 0;
	}
	if (spec[0] == '[') {			/* [v6addr]:port */
		const char *end = strchr(spec, ']');

		if (end == NULL)
			return -1;
		*host_r = arena_strndup(a, spec + 1, (size_t)(end - spec - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(spec, ':');
		*host_r = colon ? arena_strndup(a, spec, (size_t)(colon - spec)) :
		    spec;
	}
	if (colon != NULL && (str_to_u64(str_from_cstr(colon + 1), &port) == -1 ||
	    port == 0 || port > 65535))
		return -1;
	*port_r = (unsigned)port;
	return 0;
}

enum db_status
db_connect(struct db **dbp, const struct aviary_db_config *cfg,
    const char *password, struct arena *a, const char **error_r)
{
	const char	*host, *sock, *last = "no host configured";
	unsigned	 port, timeout = (unsigned)cfg->connect_timeout;
	size_t		 i;
	MYSQL		*m;
	my_bool		 off = 0;
	unsigned	 proto;

	for (i = 0; i < cfg->hosts.n; i++) {
		if (db_split_host(a, cfg->hosts.v[i], &host, &port, &sock) == -1) {
			last = arena_printf(a, "bad database host '%s'",
			    cfg->hosts.v[i]);
			continue;
		}
		if ((m = mysql_init(NULL)) == NULL) {
			*error_r = "out of memory";
			return DB_ERR;
		}
		(void)mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
		(void)mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
		(void)mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
		(void)mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		(void)mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &off);
		/* Never read ~/.my.cnf or /etc/mysql: the config is ours. */
		proto = sock != NULL ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
		(void)mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
		if (mysql_real_connect(m, sock != NULL ? NULL : host,
		    cfg->user, password, cfg->name, port, sock, 0) == NULL) {
			last = arena_printf(a, "%s: %s", cfg->hosts.v[i],
			    mysql_error(m));
			enum db_status st = db_classify(mysql_errno(m));

			mysql_close(m);
			/* Wrong credentials or database: another host
			 * would say the same, but it may be configured
			 * differently, so keep trying, and report the
			 * last failure. Access errors are not "down". */
			if (st != DB_EDOWN && i + 1 == cfg->hosts.n) {
				*error_r = last;
				return DB_ERR;
			}
			continue;
		}
		*dbp = xcalloc(1, sizeof(**dbp));
		(*dbp)->m = m;
		(*dbp)->where = xstrdup(cfg->hosts.v[i]);
		return DB_OK;
	}
	*error_r = arena_printf(a, "database unavailable (%s)", last);
	return DB_EDOWN;
}

void
db_close(struct db **dbp)
{
	if (*dbp == NULL)
		return;
	mysql_close((*dbp)->m);
	free((*dbp)->where);
	free(*dbp);
	*dbp = NULL;
}

static enum db_status
db_stmt_fail(MYSQL_STMT *st, struct arena *a, const char *what,
    const char **error_r)
{
	unsigned	 e = mysql_stmt_errno(st);

	*error_r = arena_printf(a, "%s: %s (%u)", what, mysql_stmt_error(st), e);
	return db_classify(e);
}

enum db_status
db_exec(struct db *db, struct arena *a, const char *sql,
    struct db_result **res_r, uint64_t *affected_r, uint64_t *insert_id_r,
    const char **error_r, const char *types, ...)
{
	enum db_status	 st;
	va_list		 ap;

	va_start(ap, types);
	st = db_vexec(db, a, sql, res_r, affected_r, insert_id_r, error_r,
	    types, ap);
	va_end(ap);
	return st;
}

enum db_status
db_vexec(struct db *db, struct arena *a, const char *sql,
    struct db_result **res_r, uint64_t *affected_r, uint64_t *insert_id_r,
    const char **error_r, const char *types, va_list ap)
{
	MYSQL_STMT		*st;
	MYSQL_BIND		 params[DB_MAX_PARAMS], *binds = NULL;
	unsigned long long	 uvals[DB_MAX_PARAMS];
	long long		 ivals[DB_MAX_PARAMS];
	unsigned long		 lens[DB_MAX_PARAMS], *rlens = NULL;
	my_bool			 nulls[DB_MAX_PARAMS], *rnulls = NULL;
	MYSQL_RES		*meta = NULL;
	struct db_result	*res;
	enum db_status		 ret = DB_ERR;
	size_t			 np = strlen(types), i, row, ncols;
	my_bool			 upd = 1;
	int			 r;

	if (res_r != NULL)
		*res_r = NULL;
	if (np > DB_MAX_PARAMS) {
		*error_r = "too many parameters";
		return DB_ERR;
	}
	if ((st = mysql_stmt_init(db->m)) == NULL) {
		*error_r = arena_printf(a, "statement: %s", mysql_error(db->m));
		return db_classify(mysql_errno(db->m));
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		ret = db_stmt_fail(st, a, "prepare", error_r);
		goto out;
	}
	if (mysql_stmt_param_count(st) != np) {
		*error_r = "parameter count mismatch (a bug)";
		goto out;
	}
	memset(params, 0, sizeof(params));
	for (i = 0; i < np; i++) {
		switch (types[i]) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			nulls[i] = s == NULL;
			lens[i] = s ? strlen(s) : 0;
			params[i].buffer_type = MYSQL_TYPE_STRING;
			params[i].buffer = (void *)(uintptr_t)(s ? s : "");
			params[i].buffer_length = lens[i];
			params[i].length = &lens[i];
			params[i].is_null = &nulls[i];
			break;
		}
		case 'u':
			uvals[i] = va_arg(ap, uint64_t);
			params[i].buffer_type = MYSQL_TYPE_LONGLONG;
			params[i].buffer = &uvals[i];
			params[i].is_unsigned = 1;
			break;
		case 'i':
			ivals[i] = va_arg(ap, int64_t);
			params[i].buffer_type = MYSQL_TYPE_LONGLONG;
			params[i].buffer = &ivals[i];
			break;
		default:
			*error_r = "bad parameter type (a bug)";
			goto out;
		}
	}
	if (np > 0 && mysql_stmt_bind_param(st, params) != 0) {
		ret = db_stmt_fail(st, a, "bind", error_r);
		goto out;
	}
	if (mysql_stmt_execute(st) != 0) {
		ret = db_stmt_fail(st, a, "execute", error_r);
		goto out;
	}
	if (affected_r != NULL)
		*affected_r = mysql_stmt_affected_rows(st);
	if (insert_id_r != NULL)
		*insert_id_r = mysql_stmt_insert_id(st);
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL) {		/* not a SELECT */
		ret = DB_OK;
		goto out;
	}
	(void)mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &upd);
	if (mysql_stmt_store_result(st) != 0) {
		ret = db_stmt_fail(st, a, "fetch", error_r);
		goto out;
	}
	ncols = mysql_num_fields(meta);
	res = arena_zalloc(a, sizeof(*res));
	res->ncols = ncols;
	res->nrows = (size_t)mysql_stmt_num_rows(st);
	res->names = arena_zalloc(a, (ncols + 1) * sizeof(char *));
	res->cells = arena_zalloc(a, (res->nrows * ncols + 1) * sizeof(char *));
	binds = xcalloc(ncols + 1, sizeof(*binds));
	rlens = xcalloc(ncols + 1, sizeof(*rlens));
	rnulls = xcalloc(ncols + 1, sizeof(*rnulls));
	for (i = 0; i < ncols; i++) {
		MYSQL_FIELD *f = mysql_fetch_field_direct(meta, (unsigned)i);

		res->names[i] = arena_strdup(a, f->name);
		binds[i].buffer_type = MYSQL_TYPE_STRING;
		/* max_length is the longest value in this result set; as a
		 * string, numbers and dates need at most 64 bytes. */
		binds[i].buffer_length = (f->max_length > 64 ? f->max_length :
		    64) + 1;
		binds[i].length = &rlens[i];
		binds[i].is_null = &rnulls[i];
	}
	for (row = 0; row < res->nrows; row++) {
		for (i = 0; i < ncols; i++)
			binds[i].buffer = arena_alloc(a,
			    binds[i].buffer_length);
		if (mysql_stmt_bind_result(st, binds) != 0) {
			ret = db_stmt_fail(st, a, "bind result", error_r);
			goto out;
		}
		r = mysql_stmt_fetch(st);
		if (r == 1) {
			ret = db_stmt_fail(st, a, "fetch", error_r);
			goto out;
		}
		if (r == MYSQL_NO_DATA) {
			res->nrows = row;
			break;
		}
		if (r == MYSQL_DATA_TRUNCATED) {
			*error_r = "result truncated (a bug)";
			goto out;
		}
		for (i = 0; i < ncols; i++) {
			char *cell = binds[i].buffer;

			if (rnulls[i]) {
				DB_CELL(res, row, i) = NULL;
				continue;
			}
			cell[rlens[i] < binds[i].buffer_length ? rlens[i] :
			    binds[i].buffer_length - 1] = '\0';
			DB_CELL(res, row, i) = cell;
		}
	}
	if (res_r != NULL)
		*res_r = res;
	ret = DB_OK;
out:
	free(binds);
	free(rlens);
	free(rnulls);
	if (meta != NULL)
		mysql_free_result(meta);
	(void)mysql_stmt_close(st);
	return ret;
}

enum db_status
db_begin(struct db *db, struct arena *a, const char **error_r)
{
	if (mysql_autocommit(db->m, 0) != 0) {
		*error_r = arena_printf(a, "begin: %s", mysql_error(db->m));
		return db_classify(mysql_errno(db->m));
	}
	return DB_OK;
}

enum db_status
db_commit(struct db *db, struct arena *a, const char **error_r)
{
	enum db_status	 st = DB_OK;

	if (mysql_commit(db->m) != 0) {
		*error_r = arena_printf(a, "commit: %s", mysql_error(db->m));
		st = db_classify(mysql_errno(db->m));
		(void)mysql_rollback(db->m);
	}
	(void)mysql_autocommit(db->m, 1);
	return st;
}

void
db_rollback(struct db *db)
{
	(void)mysql_rollback(db->m);
	(void)mysql_autocommit(db->m, 1);
}

int
db_read_password_file(const char *path, char *out, size_t outsz,
    struct arena *a, const char **error_r)
{
	struct stat	 sb;
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	if (path == NULL || path[0] == '\0') {
		out[0] = '\0';
		return 0;	/* no password: socket auth or none */
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		*error_r = arena_printf(a, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		*error_r = arena_printf(a, "%s: not a regular file", path);
		(void)close(fd);
		return -1;
	}
	if (sb.st_mode & (S_IROTH | S_IWOTH)) {
		*error_r = arena_printf(a, "%s: readable or writable by others "
		    "(chmod 0640 or 0600 it)", path);
		(void)close(fd);
		return -1;
	}
	n = read(fd, out, outsz);
	(void)close(fd);
	if (n < 0) {
		*error_r = arena_printf(a, "%s: cannot read: %s", path,
		    strerror(errno));
		return -1;
	}
	len = (size_t)n;
	if (len == outsz) {
		explicit_bzero(out, outsz);
		*error_r = arena_printf(a, "%s: password too long", path);
		return -1;
	}
	out[len] = '\0';
	len = strcspn(out, "\r\n");
	explicit_bzero(out + len, outsz - len);
	return 0;
}
