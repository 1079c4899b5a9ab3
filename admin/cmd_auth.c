/* cmd_auth.c - aviary-admin commands that talk to a running aviary-auth
 * over its sockets (paths from the auth section of the configuration):
 *
 *   auth test ADDRESS [--password-stdin]   a real PLAIN exchange on the client socket
 *   auth cache flush [ADDRESS]             CACHE-FLUSH on the userdb socket
 *   auth penalty [list] | clear [IP|ADDRESS]
 *   user ADDRESS                           the userdb answer
 *
 * A small blocking line client: these are one-shot commands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "admin.h"
#include "aviary/addr.h"
#include "aviary/arena.h"
#include "aviary/base64.h"
#include "aviary/password.h"
#include "aviary/sock.h"
#include "aviary/str.h"

#define LINE_MAX_IN	8192

struct lconn {
	int	 fd;
	char	 buf[LINE_MAX_IN + 1];
	size_t	 len;
	char	 line[LINE_MAX_IN + 1];
};

static void
lconn_open(struct lconn *l, const char *path)
{
	struct timeval	 tv = { 15, 0 };

	memset(l, 0, sizeof(*l));
	l->fd = sock_unix_connect(path);
	if (l->fd == -1)
		admin_fail(EX_UNAVAILABLE, "cannot reach aviary-auth at %s: %s "
		    "(is it running?)", path, strerror(errno));
	(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
lconn_write(struct lconn *l, const char *s, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(l->fd, s, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			admin_fail(EX_UNAVAILABLE, "aviary-auth: write: %s",
			    strerror(errno));
		s += w;
		n -= (size_t)w;
	}
}

/* The next line (without LF), or NULL at EOF. */
static const char *
lconn_read(struct lconn *l)
{
	char	*lf;
	ssize_t	 n;

	for (;;) {
		lf = memchr(l->buf, '\n', l->len);
		if (lf != NULL) {
			size_t ll = (size_t)(lf - l->buf);

			memcpy(l->line, l->buf, ll);
			l->line[ll] = '\0';
			memmove(l->buf, lf + 1, l->len - ll - 1);
			l->len -= ll + 1;
			return l->line;
		}
		if (l->len == LINE_MAX_IN)
			admin_fail(EX_PROTOCOL, "aviary-auth: reply line too long");
		n = read(l->fd, l->buf + l->len, LINE_MAX_IN - l->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			admin_fail(EX_TEMPFAIL, "aviary-auth did not answer in "
			    "time");
		if (n <= 0)
			return NULL;
		l->len += (size_t)n;
	}
}

static void
lconn_close(struct lconn *l)
{
	(void)close(l->fd);
	explicit_bzero(l, sizeof(*l));
}

static bool
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Field "name=" of a tab-separated reply, into out; false if absent. */
static bool
reply_field(const char *line, const char *name, char *out, size_t outsz)
{
	size_t		 nl = strlen(name);
	const char	*p = line;

	while ((p = strchr(p, '\t')) != NULL) {
		p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t len = strcspn(p + nl + 1, "\t");

			(void)snprintf(out, outsz, "%.*s", (int)len, p + nl + 1);
			return true;
		}
	}
	return false;
}

static int
auth_test(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "auth test ADDRESS [--password-stdin]";
	struct lconn	 l;
	char		 pw[PASSWORD_MAX], msg[2 * ADDR_MAX + PASSWORD_MAX + 2];
	char		 b64[BASE64_ENCODED_LEN(sizeof(msg)) + 1];
	char		 req[sizeof(b64) + 128], field[512];
	const char	*line, *user;
	bool		 from_stdin = false;
	size_t		 ul, pl;
	int		 i, n;

	user = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--password-stdin") == 0)
			from_stdin = true;
		else if (argv[i][0] == '-')
			admin_usage_fail(usage, "bad option '%s'", argv[i]);
		else if (user == NULL)
			user = argv[i];
		else
			admin_usage_fail(usage, "expected one address (passwords "
			    "are never taken from the command line)");
	}
	if (user == NULL)
		admin_usage_fail(usage, "expected an address");
	admin_config(ctx);
	admin_read_password(from_stdin, pw, sizeof(pw));
	ul = strlen(user);
	pl = strlen(pw);
	if (ul > 2 * ADDR_MAX)
		admin_fail(EX_DATAERR, "address too long");
	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, pw, pl);
	base64_encode(msg, 2 + ul + pl, b64);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(msg, sizeof(msg));

	lconn_open(&l, ctx->cfg.auth.client_socket.path);
	lconn_write(&l, "VERSION\t1\t2\nCPID\t", 17);
	n = snprintf(req, sizeof(req), "%ld\n", (long)getpid());
	lconn_write(&l, req, (size_t)n);
	while ((line = lconn_read(&l)) != NULL && strcmp(line, "DONE") != 0)
		;
	if (line == NULL)
		admin_fail(EX_PROTOCOL, "aviary-auth closed the connection "
		    "during the handshake");
	n = snprintf(req, sizeof(req), "AUTH\t1\tPLAIN\tservice=admin\t"
	    "lip=127.0.0.1\trip=127.0.0.1\tsecured\tresp=%s\n", b64);
	explicit_bzero(b64, sizeof(b64));
	lconn_write(&l, req, (size_t)n);
	explicit_bzero(req, sizeof(req));
	line = lconn_read(&l);
	if (line == NULL) {
		lconn_close(&l);
		admin_fail(EX_TEMPFAIL, "aviary-auth closed the connection "
		    "(temporary failure)");
	}
	if (has_prefix(line, "OK\t1\t")) {
		if (!reply_field(line, "user", field, sizeof(field)))
			field[0] = '\0';
		lconn_close(&l);
		if (ctx->json)
			(void)printf("{\"result\": \"ok\", \"user\": \"%s\"}\n",
			    field);
		else
			(void)printf("auth succeeded: user=%s\n", field);
		return 0;
	}
	if (has_prefix(line, "FAIL\t1")) {
		char code[64] = "";

		(void)reply_field(line, "code", code, sizeof(code));
		if (!reply_field(line, "reason", field, sizeof(field)))
			(void)snprintf(field, sizeof(field), "failed");
		lconn_close(&l);
		if (strcmp(code, "temp_fail") == 0)
			admin_fail(EX_TEMPFAIL, "auth temporarily failed: %s",
			    field);
		admin_fail(EX_MISMATCH, "auth failed: %s%s%s", field,
		    code[0] ? " (" : "", code[0] ? code : "");
	}
	lconn_close(&l);
	admin_fail(EX_PROTOCOL, "unexpected reply from aviary-auth");
}

/* Open the userdb socket and read its handshake. */
static void
userdb_open(struct admin_ctx *ctx, struct lconn *l)
{
	const char	*line;

	admin_config(ctx);
	lconn_open(l, ctx->cfg.auth.userdb_socket.path);
	lconn_write(l, "VERSION\t1\t1\n", 12);
	while ((line = lconn_read(l)) != NULL && !has_prefix(line, "SPID\t"))
		;
	if (line == NULL)
		admin_fail(EX_PROTOCOL, "aviary-auth closed the userdb "
		    "connection");
}

static int
cmd_user(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "user", "home", "uid", "gid",
	    "mail", "quota_rule", "quota_rule2", "active" };
	static const char *const titles[] = { "User", "Home", "UID", "GID",
	    "Mail", "Quota rule", "Quota rule 2", "Active" };
	char		 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char		 domain[ADDR_MAX + 1], req[ADDR_MAX + 64], v[4096];
	struct lconn	 l;
	struct table	*t;
	const char	*line;
	size_t		 k;
	int		 n;

	if (argc != 2)
		admin_usage_fail("user ADDRESS", "expected one address");
	admin_parse_address(argv[1], addr, local, domain);
	userdb_open(ctx, &l);
	n = snprintf(req, sizeof(req), "USER\t1\t%s\tservice=admin\n", addr);
	lconn_write(&l, req, (size_t)n);
	line = lconn_read(&l);
	if (line == NULL)
		admin_fail(EX_PROTOCOL, "aviary-auth closed the connection");
	if (has_prefix(line, "NOTFOUND\t"))
		admin_fail(EX_NOUSER, "no such user: %s", addr);
	if (!has_prefix(line, "USER\t1\t"))
		admin_fail(EX_TEMPFAIL, "user lookup failed: %s", line);
	t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
	table_row(t);
	(void)snprintf(v, sizeof(v), "%.*s", (int)strcspn(line + 7, "\t"),
	    line + 7);
	table_str(t, arena_strdup(ctx->a, v));
	for (k = 1; k < N_ELEMENTS(keys); k++)
		table_str(t, reply_field(line, keys[k], v, sizeof(v)) ?
		    arena_strdup(ctx->a, v) : NULL);
	lconn_close(&l);
	table_print_record(t);
	return 0;
}

/* Best effort: tell a running aviary-auth to forget a user's cached
 * logins. Quiet when no aviary-auth runs (then nothing is cached). */
void
admin_auth_flush_user(struct admin_ctx *ctx, const char *addr)
{
	char	 req[ADDR_MAX + 32];
	int	 fd, n;

	if (!ctx->config_loaded)
		return;
	fd = sock_unix_connect(ctx->cfg.auth.userdb_socket.path);
	if (fd == -1)
		return;
	n = snprintf(req, sizeof(req), "VERSION\t1\t1\nCACHE-FLUSH\t1\t%s\n",
	    addr);
	if (n > 0 && write(fd, req, (size_t)n) != n)
		admin_warn("could not flush aviary-auth's cache for %s", addr);
	(void)close(fd);
}

static int
auth_cache_flush(struct admin_ctx *ctx, int argc, char **argv)
{
	char		 addr[ADDR_MAX + 1], local[ADDR_MAX + 1];
	char		 domain[ADDR_MAX + 1], req[ADDR_MAX + 64];
	struct lconn	 l;
	const char	*line;
	int		 n;

	if (argc > 2)
		admin_usage_fail("auth cache flush [ADDRESS]",
		    "expected at most one address");
	if (argc == 2)
		admin_parse_address(argv[1], addr, local, domain);
	userdb_open(ctx, &l);
	n = snprintf(req, sizeof(req), "CACHE-FLUSH\t1%s%s\n",
	    argc == 2 ? "\t" : "", argc == 2 ? addr : "");
	lconn_write(&l, req, (size_t)n);
	line = lconn_read(&l);
	if (line == NULL || !has_prefix(line, "OK\t1\t"))
		admin_fail(line && strstr(line, "permission") ? EX_NOPERM :
		    EX_PROTOCOL, "cache flush refused: %s",
		    line ? line : "connection closed");
	(void)printf("flushed %s cache entr%s\n", line + 5,
	    strcmp(line + 5, "1") == 0 ? "y" : "ies");
	lconn_close(&l);
	return 0;
}

static int
auth_penalty(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "key", "failures", "age_seconds",
	    "delay_ms" };
	static const char *const titles[] = { "KEY", "FAILURES", "AGE (S)",
	    "DELAY (MS)" };
	struct lconn	 l;
	struct table	*t;
	const char	*line, *verb = argc > 1 ? argv[1] : "list";
	char		 req[256], f[4][128];
	int		 n;

	if (strcmp(verb, "list") == 0 && argc <= 2) {
		userdb_open(ctx, &l);
		lconn_write(&l, "PENALTY-LIST\t1\n", 15);
		t = table_new(ctx, keys, titles, N_ELEMENTS(keys));
		while ((line = lconn_read(&l)) != NULL &&
		    has_prefix(line, "PENALTY\t1\t")) {
			if (sscanf(line + 10, "%127[^\t]\t%127[^\t]\t%127[^\t]\t"
			    "%127s", f[0], f[1], f[2], f[3]) != 4)
				continue;
			table_row(t);
			table_str(t, arena_strdup(ctx->a, f[0]));
			table_str(t, arena_strdup(ctx->a, f[1]));
			table_str(t, arena_strdup(ctx->a, f[2]));
			table_str(t, arena_strdup(ctx->a, f[3]));
		}
		lconn_close(&l);
		table_print(t);
		return 0;
	}
	if (strcmp(verb, "clear") == 0 && argc <= 3) {
		if (argc == 3 && (strlen(argv[2]) > 100 ||
		    strpbrk(argv[2], "\t\n\r") != NULL))
			admin_fail(EX_DATAERR, "bad IP or address '%s'",
			    argv[2]);
		userdb_open(ctx, &l);
		n = snprintf(req, sizeof(req), "PENALTY-CLEAR\t1%s%s\n",
		    argc == 3 ? "\t" : "", argc == 3 ? argv[2] : "");
		lconn_write(&l, req, (size_t)n);
		line = lconn_read(&l);
		if (line == NULL || !has_prefix(line, "OK\t1\t"))
			admin_fail(line && strstr(line, "permission") ?
			    EX_NOPERM : EX_PROTOCOL, "penalty clear refused: %s",
			    line ? line : "connection closed");
		(void)printf("cleared %s penalt%s\n", line + 5,
		    strcmp(line + 5, "1") == 0 ? "y" : "ies");
		lconn_close(&l);
		return 0;
	}
	admin_usage_fail("auth penalty [list] | auth penalty clear [IP|ADDRESS]",
	    "unknown penalty command '%s'", verb);
}

int
cmd_auth(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*verb = argc > 1 ? argv[1] : "";

	if (strcmp(verb, "test") == 0)
		return auth_test(ctx, argc - 1, argv + 1);
	if (strcmp(verb, "cache") == 0 && argc > 2 &&
	    strcmp(argv[2], "flush") == 0)
		return auth_cache_flush(ctx, argc - 2, argv + 2);
	if (strcmp(verb, "penalty") == 0)
		return auth_penalty(ctx, argc - 1, argv + 1);
	admin_usage_fail("auth test|cache flush|penalty ...",
	    "unknown auth command '%s'", verb);
}

int
cmd_userdb(struct admin_ctx *ctx, int argc, char **argv)
{
	return cmd_user(ctx, argc, argv);
}
