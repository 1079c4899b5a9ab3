/* cmd_setup.c - aviary-admin setup: the system side of an installation,
 * what docs/install.md sections 4 and 5 do by hand.
 *
 *   1. groups and users: the mail user (vmail, mail.uid/mail.gid, 5000
 *      by default), the auth service's user (auth.user, aviary) and the
 *      unprivileged login user (aviary-login); system accounts without a
 *      login shell, made by groupadd/useradd;
 *   2. the mail root (mail.root), vmail's, mode 0700;
 *   3. /etc/aviary and the database password files, with new random
 *      passwords: the admin one 0600 root, the auth one 0640
 *      root:<auth group> (aviary-auth reads it), the Postfix one 0600;
 *   4. the database: schema/grants.sql run by the MariaDB client as the
 *      MariaDB administrator (root, by unix socket) with those passwords
 *      on its standard input, the migrations, grants.sql again for the
 *      views' grants;
 *   5. a self-signed certificate when none is there.
 *
 * Every step first looks at what exists and does only what is missing,
 * so a second run changes nothing and says so; --dry-run only looks.
 * Passwords are never printed, never put in argv, and their buffers are
 * cleared. No shell: programs run through fork and execve with an argv
 * and a fixed environment.
 *
 * --root-dir DIR applies the filesystem steps below DIR and gives
 * groupadd/useradd "--prefix DIR", so the accounts go to DIR/etc/passwd
 * and DIR/etc/group (an image being built, or a test) and names are
 * looked up there; the database is not below any directory. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/tls.h"

#define SETUP_PW_LEN		32	/* of [A-Za-z0-9]: 190 bits */
#define SETUP_PW_MAX		256
#define SETUP_OUT_MAX		(64 * 1024)
#define SETUP_NOLOGIN		"/usr/sbin/nologin"
#define SETUP_GROUPADD		"/usr/sbin/groupadd"
#define SETUP_USERADD		"/usr/sbin/useradd"
#define SETUP_MARIADB		"/usr/bin/mariadb"

/* grants.sql names these accounts; the configuration must agree. */
#define SETUP_DB_ADMIN		"aviary_admin"
#define SETUP_DB_AUTH		"aviary_auth"
#define SETUP_DB_POSTFIX	"aviary_postfix"

struct setup {
	struct admin_ctx	*ctx;
	bool			 dry_run, no_tls;
	const char		*root;		/* --root-dir, "" for / */
	const char		*mail_user, *mail_group;
	const char		*auth_user, *auth_group;
	const char		*login_user, *login_group;
	const char		*etc_dir;
	const char		*grants, *mariadb, *db_admin_user, *db_defaults;
	const char		*db_account_host;
	const char		*tls_cert, *tls_key, *tls_name;
	gid_t			 auth_gid;
	struct table		*t;
	unsigned		 changes;
	/* The three database passwords (cleared at the end). */
	char			 pw_admin[SETUP_PW_MAX];
	char			 pw_auth[SETUP_PW_MAX];
	char			 pw_postfix[SETUP_PW_MAX];
};

/* ------------------------------------------------------------ helpers */

/* One line of the report: action is "created", "fixed", "applied",
 * "unchanged" or "note"; in a dry run the changes read "would ...". */
static void
step(struct setup *s, const char *action, const char *what,
    const char *name, const char *fmt, ...) AV_PRINTFLIKE(5, 6);

static void
step(struct setup *s, const char *action, const char *what,
    const char *name, const char *fmt, ...)
{
	static const char *const verbs[][2] = { { "created", "would-create" },
	    { "fixed", "would-fix" }, { "applied", "would-apply" } };
	struct arena	*a = s->ctx->a;
	bool		 change = strcmp(action, "unchanged") != 0 &&
			    strcmp(action, "note") != 0;
	va_list		 ap;
	size_t		 i;

	if (change)
		s->changes++;
	for (i = 0; change && s->dry_run && i < N_ELEMENTS(verbs); i++)
		if (strcmp(action, verbs[i][0]) == 0)
			action = verbs[i][1];
	table_row(s->t);
	table_str(s->t, action);
	table_str(s->t, what);
	table_str(s->t, name);
	va_start(ap, fmt);
	table_str(s->t, arena_vprintf(a, fmt, ap));
	va_end(ap);
}

/* The path below --root-dir. */
static const char *
rpath(struct setup *s, const char *path)
{
	if (s->root[0] == '\0')
		return path;
	return arena_printf(s->ctx->a, "%s%s%s", s->root,
	    path[0] == '/' ? "" : "/", path);
}

static bool
name_ok(const char *n)
{
	size_t	 len = strlen(n);

	/* What Debian's adduser accepts for system names, shortened. */
	return len > 0 && len <= 32 && (n[0] == '_' ||
	    (n[0] >= 'a' && n[0] <= 'z')) &&
	    strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* 1 found (*uid_r, *gid_r set), 0 not found. Below --root-dir the
 * passwd file is read directly, since NSS knows only the host's. */
static int
sys_user(struct setup *s, const char *name, uid_t *uid_r, gid_t *gid_r)
{
	struct passwd	*pw;
	FILE		*f;
	int		 found = 0;

	if (s->root[0] == '\0') {
		errno = 0;
		if ((pw = getpwnam(name)) == NULL) {
			if (errno != 0 && errno != ENOENT && errno != ESRCH)
				admin_fail(EX_OSERR, "user %s: lookup: %s", name,
				    strerror(errno));
			return 0;
		}
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
		return 1;
	}
	if ((f = fopen(rpath(s, "/etc/passwd"), "re")) == NULL)
		return 0;
	while ((pw = fgetpwent(f)) != NULL)
		if (strcmp(pw->pw_name, name) == 0) {
			*uid_r = pw->pw_uid;
			*gid_r = pw->pw_gid;
			found = 1;
			break;
		}
	(void)fclose(f);
	return found;
}

static int
sys_group(struct setup *s, const char *name, gid_t *gid_r)
{
	struct group	*gr;
	FILE		*f;
	int		 found = 0;

	if (s->root[0] == '\0') {
		errno = 0;
		if ((gr = getgrnam(name)) == NULL) {
			if (errno != 0 && errno != ENOENT && errno != ESRCH)
				admin_fail(EX_OSERR, "group %s: lookup: %s",
				    name, strerror(errno));
			return 0;
		}
		*gid_r = gr->gr_gid;
		return 1;
	}
	if ((f = fopen(rpath(s, "/etc/group"), "re")) == NULL)
		return 0;
	while ((gr = fgetgrent(f)) != NULL)
		if (strcmp(gr->gr_name, name) == 0) {
			*gid_r = gr->gr_gid;
			found = 1;
			break;
		}
	(void)fclose(f);
	return found;
}

/* Run argv[0] (an absolute path) with argv, no shell, a fixed
 * environment; 'in' (may be NULL) on its standard input; its standard
 * output and error into 'out' (what passes SETUP_OUT_MAX is dropped).
 * Returns the exit status, or -1 when it could not run or was killed
 * (*why_r says so). */
static int
run_prog(struct setup *s, const char *const argv[], const struct buf *in,
    struct buf *out, const char **why_r)
{
	static const char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", NULL };
	int		 inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, status;
	char		 chunk[4096];
	size_t		 off = 0;
	ssize_t		 n;
	pid_t		 pid;

	*why_r = NULL;
	if ((in != NULL && pipe2(inp, O_CLOEXEC) == -1) ||
	    pipe2(outp, O_CLOEXEC) == -1)
		admin_fail(EX_OSERR, "pipe: %s", strerror(errno));
	(void)fflush(NULL);
	if ((pid = fork()) == -1)
		admin_fail(EX_OSERR, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd0 = in != NULL ? inp[0] : open("/dev/null",
		    O_RDONLY | O_CLOEXEC);

		if (fd0 == -1 || dup2(fd0, 0) == -1 || dup2(outp[1], 1) == -1 ||
		    dup2(outp[1], 2) == -1)
			_exit(127);
		/* Nothing else of ours, such as a database connection. */
		(void)close_range(3, ~0U, 0);
		/* execve wants char *const[]: the strings are not written. */
		(void)execve(argv[0], (char *const *)(uintptr_t)argv,
		    (char *const *)(uintptr_t)env);
		_exit(127);
	}
	(void)close(outp[1]);
	if (in != NULL) {
		(void)close(inp[0]);
		/* The input is a few KB, well within the pipe's buffer, and
		 * SIGPIPE is ignored: a client that exits early gives EPIPE. */
		while (off < in->len) {
			n = write(inp[1], in->data + off, in->len - off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		(void)close(inp[1]);
	}
	for (;;) {
		n = read(outp[0], chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n <= out->max - out->len &&
		    buf_append(out, chunk, (size_t)n) != 0)
			break;
	}
	(void)close(outp[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			admin_fail(EX_OSERR, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 127)
			*why_r = arena_printf(s->ctx->a, "cannot run %s",
			    argv[0]);
		return WEXITSTATUS(status);
	}
	*why_r = arena_printf(s->ctx->a, "%s killed by signal %d", argv[0],
	    WTERMSIG(status));
	return -1;
}

/* The last non-empty line of a program's output, for an error message;
 * withheld if it quotes one of our passwords (a SQL error near the SET
 * line would). */
static const char *
prog_says(struct setup *s, const struct buf *out)
{
	const char	*p = buf_cstr(out), *start = NULL, *end = NULL, *q;
	char		*line;

	for (q = p; *q != '\0'; q++)
		if (*q != '\n' && (q == p || q[-1] == '\n'))
			start = q;
	if (start == NULL)
		return "(no output)";
	end = strchr(start, '\n');
	line = arena_strndup(s->ctx->a, start,
	    end ? (size_t)(end - start) : strlen(start));
	if ((s->pw_admin[0] && strstr(line, s->pw_admin)) ||
	    (s->pw_auth[0] && strstr(line, s->pw_auth)) ||
	    (s->pw_postfix[0] && strstr(line, s->pw_postfix)))
		return "(message withheld: it quotes a password)";
	return line;
}

/* Create the missing parents of 'path' as root 0755 (not reported). */
static void
mkparents(struct setup *s, const char *path)
{
	char	*p = arena_strdup(s->ctx->a, path), *slash;

	for (slash = strchr(p + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			admin_fail(EX_CANTCREAT, "mkdir %s: %s", p,
			    strerror(errno));
		*slash = '/';
	}
}

/* A directory with this owner and mode: created (with its parents),
 * fixed, or unchanged. Never recursive: a mail tree keeps its files. */
static void
ensure_dir(struct setup *s, const char *what, const char *path, uid_t uid,
    gid_t gid, mode_t mode)
{
	struct stat	 st;
	int		 fd;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			admin_fail(EX_CANTCREAT, "%s %s exists and is not a "
			    "directory", what, path);
		if (st.st_uid == uid && st.st_gid == gid &&
		    (st.st_mode & 07777) == mode) {
			step(s, "unchanged", what, path, "%u:%u %04o",
			    (unsigned)uid, (unsigned)gid, (unsigned)mode);
			return;
		}
		step(s, "fixed", what, path, "%u:%u %04o (was %u:%u %04o)",
		    (unsigned)uid, (unsigned)gid, (unsigned)mode,
		    (unsigned)st.st_uid, (unsigned)st.st_gid,
		    (unsigned)(st.st_mode & 07777));
		if (s->dry_run)
			return;
	} else {
		if (errno != ENOENT)
			admin_fail(EX_CANTCREAT, "%s %s: %s", what, path,
			    strerror(errno));
		step(s, "created", what, path, "%u:%u %04o", (unsigned)uid,
		    (unsigned)gid, (unsigned)mode);
		if (s->dry_run)
			return;
		mkparents(s, path);
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			admin_fail(EX_CANTCREAT, "mkdir %s: %s", path,
			    strerror(errno));
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fchown(fd, uid, gid) == -1 ||
	    fchmod(fd, mode) == -1)
		admin_fail(EX_CANTCREAT, "%s %s: %s", what, path,
		    strerror(errno));
	(void)close(fd);
}

/* ----------------------------------------------------- groups and users */

/* want_gid: the gid the group must have, or -1 for any. */
static gid_t
ensure_group(struct setup *s, const char *name, long long want_gid)
{
	const char	*argv[8], *why;
	struct buf	 out;
	gid_t		 gid;
	size_t		 n = 0;
	int		 rc;

	if (sys_group(s, name, &gid)) {
		if (want_gid >= 0 && (long long)gid != want_gid)
			admin_fail(EX_CONFIG, "group %s exists with gid %u, but "
			    "mail.gid is %lld: set mail.gid to %u, or name "
			    "another group with --mail-group", name,
			    (unsigned)gid, want_gid, (unsigned)gid);
		step(s, "unchanged", "group", name, "gid %u", (unsigned)gid);
		return gid;
	}
	step(s, "created", "group", name, "%s", want_gid >= 0 ?
	    arena_printf(s->ctx->a, "gid %lld", want_gid) : "system group");
	if (s->dry_run)
		return want_gid >= 0 ? (gid_t)want_gid : 0;
	argv[n++] = SETUP_GROUPADD;
	if (s->root[0] != '\0') {
		argv[n++] = "--prefix";
		argv[n++] = s->root;
	}
	argv[n++] = "--system";
	if (want_gid >= 0) {
		argv[n++] = "--gid";
		argv[n++] = arena_printf(s->ctx->a, "%lld", want_gid);
	}
	argv[n++] = name;
	argv[n] = NULL;
	buf_init(&out, s->ctx->a, SETUP_OUT_MAX);
	rc = run_prog(s, argv, NULL, &out, &why);
	if (rc != 0 || !sys_group(s, name, &gid))
		admin_fail(EX_CANTCREAT, "groupadd %s failed: %s", name,
		    why ? why : prog_says(s, &out));
	return gid;
}

static void
ensure_user(struct setup *s, const char *name, long long want_uid,
    const char *group, gid_t gid, const char *home, const char *comment)
{
	const char	*argv[20], *why;
	struct buf	 out;
	uid_t		 uid;
	gid_t		 ugid;
	size_t		 n = 0;
	int		 rc;

	if (sys_user(s, name, &uid, &ugid)) {
		if (uid == 0)
			admin_fail(EX_CONFIG, "user %s has uid 0: Aviary's "
			    "services never run as root", name);
		if (want_uid >= 0 && (long long)uid != want_uid)
			admin_fail(EX_CONFIG, "user %s exists with uid %u, but "
			    "mail.uid is %lld: set mail.uid to %u, or name "
			    "another user with --mail-user", name, (unsigned)uid,
			    want_uid, (unsigned)uid);
		if (ugid != gid && !s->dry_run)
			step(s, "note", "user", name, "uid %u, primary gid %u "
			    "(group %s is %u): left as it is", (unsigned)uid,
			    (unsigned)ugid, group, (unsigned)gid);
		else
			step(s, "unchanged", "user", name, "uid %u, gid %u",
			    (unsigned)uid, (unsigned)ugid);
		return;
	}
	step(s, "created", "user", name, "%sgroup %s, home %s, no login shell",
	    want_uid >= 0 ? arena_printf(s->ctx->a, "uid %lld, ", want_uid) :
	    "", group, home);
	if (s->dry_run)
		return;
	argv[n++] = SETUP_USERADD;
	if (s->root[0] != '\0') {
		argv[n++] = "--prefix";
		argv[n++] = s->root;
	}
	argv[n++] = "--system";
	if (want_uid >= 0) {
		argv[n++] = "--uid";
		argv[n++] = arena_printf(s->ctx->a, "%lld", want_uid);
	}
	argv[n++] = "--gid";
	argv[n++] = group;
	argv[n++] = "--home-dir";
	argv[n++] = home;
	argv[n++] = "--no-create-home";
	argv[n++] = "--no-log-init";
	argv[n++] = "--shell";
	argv[n++] = SETUP_NOLOGIN;
	argv[n++] = "--comment";
	argv[n++] = comment;
	argv[n++] = name;
	argv[n] = NULL;
	buf_init(&out, s->ctx->a, SETUP_OUT_MAX);
	rc = run_prog(s, argv, NULL, &out, &why);
	if (rc != 0 || !sys_user(s, name, &uid, &ugid))
		admin_fail(EX_CANTCREAT, "useradd %s failed: %s", name,
		    why ? why : prog_says(s, &out));
}

static void
step_accounts(struct setup *s)
{
	const struct aviary_config *cfg = &s->ctx->cfg;
	gid_t	 gid;

	/* groupadd --prefix needs DIR/etc; it creates the files. */
	if (s->root[0] != '\0' && !s->dry_run)
		mkparents(s, rpath(s, "/etc/group"));
	gid = ensure_group(s, s->mail_group, (long long)cfg->mail.gid);
	ensure_user(s, s->mail_user, (long long)cfg->mail.uid, s->mail_group,
	    gid, cfg->mail.root, "Aviary mail store");
	s->auth_gid = ensure_group(s, s->auth_group, -1);
	ensure_user(s, s->auth_user, -1, s->auth_group, s->auth_gid,
	    "/nonexistent", "Aviary auth service");
	gid = ensure_group(s, s->login_group, -1);
	ensure_user(s, s->login_user, -1, s->login_group, gid, "/nonexistent",
	    "Aviary login processes");
}

/* ------------------------------------------------------ password files */

static void
make_password(char *out)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char	 rnd[64];
	size_t		 i, n = 0;
	ssize_t		 r;

	while (n < SETUP_PW_LEN) {
		r = getrandom(rnd, sizeof(rnd), 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			admin_fail(EX_OSERR, "getrandom: %s", strerror(errno));
		/* 248 = 4 * 62: no bias from the modulo. */
		for (i = 0; i < (size_t)r && n < SETUP_PW_LEN; i++)
			if (rnd[i] < 248)
				out[n++] = set[rnd[i] % 62];
	}
	out[n] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
}

/* Read the first line of an existing password file (not following a
 * symbolic link). In a dry run by a user who may not read it, the
 * password stays empty: the database check then says what it would do. */
static void
read_password(struct setup *s, const char *path, char *out, size_t outsz)
{
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == EACCES && s->dry_run) {
		step(s, "note", "password file", path, "cannot read it "
		    "without root: the database check below cannot use it");
		return;
	}
	if (fd == -1)
		admin_fail(EX_CONFIG, "%s: %s", path, strerror(errno));
	while (len < outsz - 1) {
		n = read(fd, out + len, outsz - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	out[len] = '\0';
	if (strcspn(out, "\r\n") == len && len == outsz - 1)
		admin_fail(EX_CONFIG, "%s: the password is longer than %zu "
		    "characters", path, outsz - 2);
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0')
		admin_fail(EX_CONFIG, "%s: empty password file (remove it to "
		    "have a new password made)", path);
}

/* A password file with owner root, group gid and 'mode': an existing one
 * is kept (its owner and mode fixed), a missing one gets a new random
 * password. The password ends up in pw (SETUP_PW_MAX bytes). */
static void
ensure_secret(struct setup *s, const char *label, const char *path,
    gid_t gid, mode_t mode, char *pw)
{
	struct stat	 st;
	const char	*tmp;
	size_t		 len;
	int		 fd;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			admin_fail(EX_CONFIG, "%s password file %s is not a "
			    "regular file", label, path);
		if (st.st_uid == 0 && st.st_gid == gid &&
		    (st.st_mode & 07777) == mode) {
			step(s, "unchanged", "password file", path, "%s, "
			    "0:%u %04o", label, (unsigned)gid, (unsigned)mode);
		} else {
			step(s, "fixed", "password file", path, "%s, 0:%u %04o "
			    "(was %u:%u %04o)", label, (unsigned)gid,
			    (unsigned)mode, (unsigned)st.st_uid,
			    (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
			if (!s->dry_run) {
				fd = open(path, O_RDONLY | O_NOFOLLOW |
				    O_CLOEXEC);
				if (fd == -1 || fchown(fd, 0, gid) == -1 ||
				    fchmod(fd, mode) == -1)
					admin_fail(EX_CANTCREAT, "%s: %s", path,
					    strerror(errno));
				(void)close(fd);
			}
		}
		read_password(s, path, pw, SETUP_PW_MAX);
		return;
	}
	if (errno != ENOENT)
		admin_fail(EX_CONFIG, "%s: %s", path, strerror(errno));
	step(s, "created", "password file", path, "%s, 0:%u %04o, new random "
	    "password", label, (unsigned)gid, (unsigned)mode);
	make_password(pw);
	if (s->dry_run)
		return;
	/* Written under a temporary name that nobody else may read, then
	 * renamed: the file never exists with a wrong mode. */
	mkparents(s, path);
	tmp = arena_printf(s->ctx->a, "%s.tmp", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	len = strlen(pw);
	pw[len] = '\n';
	if (fd == -1 || fchown(fd, 0, gid) == -1 || fchmod(fd, mode) == -1 ||
	    write(fd, pw, len + 1) != (ssize_t)(len + 1) || fsync(fd) == -1) {
		pw[len] = '\0';
		admin_fail(EX_CANTCREAT, "%s: %s", tmp, strerror(errno));
	}
	pw[len] = '\0';
	if (close(fd) == -1 || rename(tmp, path) == -1)
		admin_fail(EX_CANTCREAT, "%s: %s", path, strerror(errno));
}

static const char *
secret_path(struct setup *s, const char *configured, const char *key,
    const char *file)
{
	if (configured != NULL && configured[0] != '\0')
		return configured;
	step(s, "note", "config", key, "not set in %s: using %s/%s (set it "
	    "there)", s->ctx->config_path, s->etc_dir, file);
	return arena_printf(s->ctx->a, "%s/%s", s->etc_dir, file);
}

static void
step_files(struct setup *s)
{
	const struct aviary_config *cfg = &s->ctx->cfg;

	ensure_dir(s, "directory", rpath(s, cfg->mail.root), cfg->mail.uid,
	    cfg->mail.gid, 0700);
	ensure_dir(s, "directory", rpath(s, s->etc_dir), 0, 0, 0755);
	ensure_secret(s, "aviary_admin", rpath(s, secret_path(s,
	    cfg->database.password_file, "database.password_file",
	    "db-admin.pass")), 0, 0600, s->pw_admin);
	ensure_secret(s, "aviary_auth", rpath(s, secret_path(s,
	    cfg->auth.database.password_file, "auth.database.password_file",
	    "db-auth.pass")), s->auth_gid, 0640, s->pw_auth);
	ensure_secret(s, "aviary_postfix", rpath(s, arena_printf(s->ctx->a,
	    "%s/db-postfix.pass", s->etc_dir)), 0, 0600, s->pw_postfix);
}

/* ----------------------------------------------------------- database */

/* Connect as one of the accounts: DB_OK, DB_ERR (refused: the account
 * or its grants are not there yet); a server that cannot be reached
 * ends the run. */
static enum db_status
db_try(struct setup *s, const char *user, const char *pw, struct db **db_r)
{
	struct aviary_db_config	 c = s->ctx->cfg.database;
	const char		*error;
	enum db_status		 st;

	c.user = (char *)(uintptr_t)user;
	*db_r = NULL;
	st = db_connect(db_r, &c, pw, s->ctx->a, &error);
	if (st == DB_EDOWN)
		admin_fail(EX_UNAVAILABLE, "%s", error);
	return st;
}

static bool
db_probe(struct setup *s, struct db *db, const char *sql)
{
	const char	*error;

	return db_exec(db, s->ctx->a, sql, NULL, NULL, NULL, &error, "") ==
	    DB_OK;
}

/* Can this account connect and read what grants.sql gives it? */
static bool
db_account_works(struct setup *s, const char *user, const char *pw,
    const char *const *probes)
{
	struct db	*db;
	bool		 ok = true;

	if (db_try(s, user, pw, &db) != DB_OK)
		return false;
	for (; *probes != NULL && ok; probes++)
		ok = db_probe(s, db, *probes);
	db_close(&db);
	return ok;
}

/* The names of the migrations the database lacks ("" when none), with
 * ctx->db connected as the admin account. */
static const char *
db_pending(struct setup *s)
{
	struct admin_ctx	*ctx = s->ctx;
	struct db_result	*r;
	const char		*list = "";
	unsigned		 i;
	size_t			 k;

	r = admin_sql(ctx, "schema check", "SELECT COUNT(*) FROM "
	    "information_schema.tables WHERE table_schema = DATABASE() AND "
	    "table_name = 'schema_migrations'", NULL, "");
	if (strcmp(DB_CELL(r, 0, 0), "0") == 0)
		r = NULL;
	else
		r = admin_sql(ctx, "schema status", "SELECT version FROM "
		    "schema_migrations", NULL, "");
	for (i = 0; i < admin_migrations_count; i++) {
		bool have = false;

		for (k = 0; r != NULL && k < r->nrows; k++)
			have |= admin_cell_u64(DB_CELL(r, k, 0)) ==
			    admin_migrations[i].version;
		if (!have)
			list = arena_printf(ctx->a, "%s%s%s", list,
			    list[0] ? ", " : "", admin_migrations[i].name);
	}
	return list;
}

static const char *
db_all_migrations(struct setup *s)
{
	const char	*list = "";
	unsigned	 i;

	for (i = 0; i < admin_migrations_count; i++)
		list = arena_printf(s->ctx->a, "%s%s%s", list, i ? ", " : "",
		    admin_migrations[i].name);
	return list;
}

static void
sql_quoted(struct buf *b, const char *v)
{
	int	 r = buf_append_c(b, '\'');

	for (; r == 0 && *v != '\0'; v++)
		r = (*v == '\'' || *v == '\\') ? buf_printf(b, "\\%c", *v) :
		    buf_append_c(b, *v);
	if (r != 0 || buf_append_c(b, '\'') != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input too long");
}

/* Where grants.sql is: --grants, else beside the installed programs
 * ($(PREFIX)/share/aviary/schema, `make install`). */
static const char *
grants_path(struct setup *s)
{
	char		 exe[PATH_MAX];
	const char	*p;
	ssize_t		 n;

	if (s->grants != NULL)
		return s->grants;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		p = arena_printf(s->ctx->a, "%s/../share/aviary/schema/"
		    "grants.sql", dirname(exe));
		if (access(p, R_OK) == 0)
			return p;
	}
	admin_fail(EX_CONFIG, "cannot find grants.sql beside aviary-admin "
	    "(share/aviary/schema/): give its path with --grants FILE");
}

static const char *
db_admin_name(const struct setup *s)
{
	if (s->db_admin_user != NULL)
		return s->db_admin_user;
	return s->db_defaults != NULL ? "the defaults file's user" : "root";
}

/* Feed grants.sql to the MariaDB client, as the MariaDB administrator,
 * with the database name, account host and passwords set first: on
 * standard input, never in argv. */
static void
db_apply_grants(struct setup *s, const char *file)
{
	const struct aviary_db_config *c = &s->ctx->cfg.database;
	const char	*argv[12], *host = c->hosts.v[0], *why;
	struct buf	 in, out;
	char		 chunk[4096];
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd, rc;

	argv[n++] = s->mariadb;
	argv[n++] = s->db_defaults != NULL ? arena_printf(s->ctx->a,
	    "--defaults-file=%s", s->db_defaults) : "--no-defaults";
	argv[n++] = "--batch";
	/* With a defaults file, the user may come from it. */
	if (s->db_admin_user != NULL || s->db_defaults == NULL)
		argv[n++] = arena_printf(s->ctx->a, "--user=%s",
		    db_admin_name(s));
	if (strncmp(host, "unix:", 5) == 0) {
		argv[n++] = "--protocol=socket";
		argv[n++] = arena_printf(s->ctx->a, "--socket=%s", host + 5);
	} else {
		const char *colon = strrchr(host, ':');
		const char *end = host[0] == '[' ? strchr(host, ']') : NULL;

		argv[n++] = "--protocol=tcp";
		if (end != NULL) {
			argv[n++] = arena_printf(s->ctx->a, "--host=%.*s",
			    (int)(end - host - 1), host + 1);
			colon = end[1] == ':' ? end + 1 : NULL;
		} else {
			argv[n++] = arena_printf(s->ctx->a, "--host=%.*s",
			    (int)(colon ? (size_t)(colon - host) : strlen(host)),
			    host);
		}
		if (colon != NULL)
			argv[n++] = arena_printf(s->ctx->a, "--port=%s",
			    colon + 1);
	}
	argv[n] = NULL;

	buf_init_secret(&in, 1 << 20);
	if (buf_append_str(&in, "SET @db = ") != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input");
	sql_quoted(&in, c->name);
	if (buf_append_str(&in, ", @host = ") != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input");
	sql_quoted(&in, s->db_account_host);
	if (buf_append_str(&in, ", @admin_password = ") != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input");
	sql_quoted(&in, s->pw_admin);
	if (buf_append_str(&in, ", @auth_password = ") != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input");
	sql_quoted(&in, s->pw_auth);
	if (buf_append_str(&in, ", @postfix_password = ") != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input");
	sql_quoted(&in, s->pw_postfix);
	if (buf_append_str(&in, ";\n") != 0)
		admin_fail(EX_SOFTWARE, "internal error: grants input");
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		admin_fail(EX_CONFIG, "%s: %s", file, strerror(errno));
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || buf_append(&in, chunk, (size_t)r) != 0)
			admin_fail(EX_CONFIG, "%s: %s", file, r == -1 ?
			    strerror(errno) : "too large");
	}
	(void)close(fd);
	buf_init(&out, s->ctx->a, SETUP_OUT_MAX);
	rc = run_prog(s, argv, &in, &out, &why);
	buf_deinit(&in);
	if (rc != 0)
		admin_fail(EX_UNAVAILABLE, "%s as MariaDB user %s failed: %s",
		    file, db_admin_name(s), why ? why : prog_says(s, &out));
}

/* Run `db migrate` on ctx->db, its own lines kept out of our report. */
static void
db_migrate_quietly(struct setup *s)
{
	char	*argv[] = { "db", "migrate", NULL };
	int	 saved, devnull;

	(void)fflush(stdout);
	saved = dup(STDOUT_FILENO);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved == -1 || devnull == -1 ||
	    dup2(devnull, STDOUT_FILENO) == -1)
		admin_fail(EX_OSERR, "cannot redirect output: %s",
		    strerror(errno));
	(void)close(devnull);
	(void)cmd_db(s->ctx, 2, argv);
	(void)fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) == -1)
		admin_fail(EX_OSERR, "cannot restore output: %s",
		    strerror(errno));
	(void)close(saved);
}

static void
step_database(struct setup *s)
{
	static const char *const auth_probes[] = {
	    "SELECT 1 FROM auth_users LIMIT 0",
	    "SELECT 1 FROM auth_alias_domains LIMIT 0",
	    "SELECT 1 FROM quota_usage LIMIT 0", NULL };
	static const char *const postfix_probes[] = {
	    "SELECT 1 FROM virtual_mailbox_domains LIMIT 0",
	    "SELECT 1 FROM virtual_mailbox_maps LIMIT 0",
	    "SELECT 1 FROM virtual_alias_maps LIMIT 0", NULL };
	static const char *const no_probes[] = { NULL };
	struct admin_ctx	*ctx = s->ctx;
	const char		*dbname = ctx->cfg.database.name, *pending;
	const char		*file;
	bool			 admin_ok, rest_ok;

	admin_ok = db_try(s, SETUP_DB_ADMIN, s->pw_admin, &ctx->db) == DB_OK;
	pending = admin_ok ? db_pending(s) : db_all_migrations(s);
	rest_ok = admin_ok &&
	    db_account_works(s, SETUP_DB_AUTH, s->pw_auth, auth_probes) &&
	    db_account_works(s, SETUP_DB_POSTFIX, s->pw_postfix,
	    postfix_probes);
	if (admin_ok && rest_ok && pending[0] == '\0') {
		step(s, "unchanged", "database", dbname, "accounts %s, %s, %s "
		    "work; schema up to date", SETUP_DB_ADMIN, SETUP_DB_AUTH,
		    SETUP_DB_POSTFIX);
		return;
	}
	file = grants_path(s);
	if (!admin_ok || !rest_ok)
		step(s, "applied", "database", dbname, "%s as %s: accounts %s, "
		    "%s, %s@%s with the password files' passwords", file,
		    db_admin_name(s), SETUP_DB_ADMIN, SETUP_DB_AUTH,
		    SETUP_DB_POSTFIX, s->db_account_host);
	if (s->dry_run) {
		/* Without the admin account the database cannot be read:
		 * every migration is a candidate. */
		if (pending[0] != '\0')
			step(s, "applied", "migrations", dbname, "%s%s",
			    pending, admin_ok ? "" : " (those not there yet)");
		return;
	}
	db_close(&ctx->db);
	db_apply_grants(s, file);
	if (db_try(s, SETUP_DB_ADMIN, s->pw_admin, &ctx->db) != DB_OK)
		admin_fail(EX_SOFTWARE, "%s cannot connect after grants.sql "
		    "(is database.user %s and the account host %s right?)",
		    SETUP_DB_ADMIN, ctx->cfg.database.user, s->db_account_host);
	if ((pending = db_pending(s))[0] != '\0') {
		step(s, "applied", "migrations", dbname, "%s", pending);
		db_migrate_quietly(s);
	}
	db_apply_grants(s, file);	/* the views exist now: their grants */
	if (db_pending(s)[0] != '\0' ||
	    !db_account_works(s, SETUP_DB_ADMIN, s->pw_admin, no_probes) ||
	    !db_account_works(s, SETUP_DB_AUTH, s->pw_auth, auth_probes) ||
	    !db_account_works(s, SETUP_DB_POSTFIX, s->pw_postfix,
	    postfix_probes))
		admin_fail(EX_SOFTWARE, "the database accounts do not work "
		    "after grants.sql and the migrations");
}

/* -------------------------------------------------------- certificate */

static void
step_tls(struct setup *s)
{
	const char	*cert = rpath(s, s->tls_cert);
	const char	*key = rpath(s, s->tls_key);
	const char	*error, *dir;
	char		 host[256];
	bool		 have_cert = access(cert, F_OK) == 0;
	bool		 have_key = access(key, F_OK) == 0;

	if (have_cert && have_key) {
		step(s, "unchanged", "certificate", cert, "key %s", key);
		return;
	}
	if (have_cert || have_key)
		admin_fail(EX_CONFIG, "%s exists but %s does not: give both, "
		    "or remove the one to have a self-signed pair made",
		    have_cert ? cert : key, have_cert ? key : cert);
	if (s->tls_name == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			admin_fail(EX_OSERR, "gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		s->tls_name = arena_strdup(s->ctx->a, host);
	}
	dir = dirname(arena_strdup(s->ctx->a, cert));
	if (access(dir, F_OK) != 0)
		ensure_dir(s, "directory", dir, 0, 0, 0755);
	dir = dirname(arena_strdup(s->ctx->a, key));
	if (access(dir, F_OK) != 0 && strcmp(dir, dirname(arena_strdup(
	    s->ctx->a, cert))) != 0)
		ensure_dir(s, "directory", dir, 0, 0, 0755);
	step(s, "created", "certificate", cert, "self-signed for %s, 10 "
	    "years; key %s (0600)", s->tls_name, key);
	if (s->dry_run)
		return;
	if (tls_selfsigned_generate(cert, key, s->tls_name, s->ctx->a,
	    &error) == -1)
		admin_fail(EX_CANTCREAT, "self-signed certificate: %s (give "
		    "the name with --tls-name)", error);
}

/* ------------------------------------------------------------ command */

enum { SO_DRY = 256, SO_ROOT, SO_MAILU, SO_MAILG, SO_AUTHU, SO_AUTHG,
    SO_LOGINU, SO_LOGING, SO_ETC, SO_GRANTS, SO_MARIADB, SO_DBADMIN,
    SO_DBDEFAULTS, SO_DBHOST, SO_CERT, SO_KEY, SO_TLSNAME, SO_NOTLS };

static const struct option setup_long[] = {
	{ "dry-run", no_argument, NULL, SO_DRY },
	{ "root-dir", required_argument, NULL, SO_ROOT },
	{ "mail-user", required_argument, NULL, SO_MAILU },
	{ "mail-group", required_argument, NULL, SO_MAILG },
	{ "auth-user", required_argument, NULL, SO_AUTHU },
	{ "auth-group", required_argument, NULL, SO_AUTHG },
	{ "login-user", required_argument, NULL, SO_LOGINU },
	{ "login-group", required_argument, NULL, SO_LOGING },
	{ "etc-dir", required_argument, NULL, SO_ETC },
	{ "grants", required_argument, NULL, SO_GRANTS },
	{ "mariadb", required_argument, NULL, SO_MARIADB },
	{ "db-admin-user", required_argument, NULL, SO_DBADMIN },
	{ "db-admin-defaults-file", required_argument, NULL, SO_DBDEFAULTS },
	{ "db-account-host", required_argument, NULL, SO_DBHOST },
	{ "tls-cert", required_argument, NULL, SO_CERT },
	{ "tls-key", required_argument, NULL, SO_KEY },
	{ "tls-name", required_argument, NULL, SO_TLSNAME },
	{ "no-tls", no_argument, NULL, SO_NOTLS },
	{ NULL, 0, NULL, 0 }
};

static const char setup_usage[] = "setup [--dry-run] [--root-dir DIR] "
    "[--mail-user NAME] [--mail-group NAME] [--auth-user NAME] "
    "[--auth-group NAME] [--login-user NAME] [--login-group NAME] "
    "[--etc-dir DIR] [--grants FILE] [--mariadb PATH] [--db-admin-user "
    "NAME] [--db-admin-defaults-file FILE] [--db-account-host HOST] "
    "[--tls-cert FILE] [--tls-key FILE] [--tls-name NAME] [--no-tls]";

static void
setup_parse(struct setup *s, int argc, char **argv)
{
	int	 c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", setup_long, NULL)) != -1) {
		switch (c) {
		case SO_DRY: s->dry_run = true; break;
		case SO_ROOT: s->root = optarg; break;
		case SO_MAILU: s->mail_user = optarg; break;
		case SO_MAILG: s->mail_group = optarg; break;
		case SO_AUTHU: s->auth_user = optarg; break;
		case SO_AUTHG: s->auth_group = optarg; break;
		case SO_LOGINU: s->login_user = optarg; break;
		case SO_LOGING: s->login_group = optarg; break;
		case SO_ETC: s->etc_dir = optarg; break;
		case SO_GRANTS: s->grants = optarg; break;
		case SO_MARIADB: s->mariadb = optarg; break;
		case SO_DBADMIN: s->db_admin_user = optarg; break;
		case SO_DBDEFAULTS: s->db_defaults = optarg; break;
		case SO_DBHOST: s->db_account_host = optarg; break;
		case SO_CERT: s->tls_cert = optarg; break;
		case SO_KEY: s->tls_key = optarg; break;
		case SO_TLSNAME: s->tls_name = optarg; break;
		case SO_NOTLS: s->no_tls = true; break;
		default:
			admin_usage_fail(setup_usage, "%s '%s'", c == ':' ?
			    "missing value for option" : "bad option",
			    admin_opt_name(setup_long, optopt, argv));
		}
	}
	if (optind != argc)
		admin_usage_fail(setup_usage, "unexpected argument '%s'",
		    argv[optind]);
}

static void
setup_check(struct setup *s)
{
	const struct aviary_config *cfg = &s->ctx->cfg;
	const char *const names[] = { s->mail_user, s->mail_group,
	    s->auth_user, s->auth_group, s->login_user, s->login_group };
	const char *const paths[] = { s->root, s->etc_dir, s->tls_cert,
	    s->tls_key, s->mariadb };
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(names); i++)
		if (!name_ok(names[i]) || strcmp(names[i], "root") == 0)
			admin_fail(EX_DATAERR, "bad user or group name '%s' "
			    "(lower-case letters, digits, '_' and '-', not "
			    "root)", names[i]);
	if (strcmp(s->mail_user, s->auth_user) == 0 ||
	    strcmp(s->mail_user, s->login_user) == 0 ||
	    strcmp(s->auth_user, s->login_user) == 0)
		admin_fail(EX_DATAERR, "the mail, auth and login users must be "
		    "three different users");
	for (i = 0; i < N_ELEMENTS(paths); i++)
		if (paths[i][0] != '\0' && paths[i][0] != '/')
			admin_fail(EX_DATAERR, "'%s' is not an absolute path",
			    paths[i]);
	if (strcmp(s->root, "/") == 0)
		s->root = "";
	if (strcmp(cfg->database.user, SETUP_DB_ADMIN) != 0 ||
	    strcmp(cfg->auth.database.user, SETUP_DB_AUTH) != 0)
		admin_fail(EX_CONFIG, "%s: database.user must be %s and "
		    "auth.database.user %s, the accounts grants.sql creates",
		    s->ctx->config_path, SETUP_DB_ADMIN, SETUP_DB_AUTH);
	if (s->db_account_host[0] == '\0' || strchr(s->db_account_host,
	    '\'') != NULL)
		admin_fail(EX_DATAERR, "--db-account-host: bad host");
}

int
cmd_setup(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const keys[] = { "action", "what", "name",
	    "detail" };
	static const char *const titles[] = { "ACTION", "WHAT", "NAME",
	    "DETAIL" };
	struct setup	 s = { 0 };

	s.ctx = ctx;
	s.root = "";
	s.etc_dir = "/etc/aviary";
	s.mariadb = SETUP_MARIADB;
	s.db_account_host = "localhost";
	s.login_user = "aviary-login";
	setup_parse(&s, argc, argv);
	admin_config(ctx);
	if (s.mail_user == NULL)
		s.mail_user = ctx->cfg.lmtp.user[0] ? ctx->cfg.lmtp.user :
		    "vmail";
	if (s.auth_user == NULL)
		s.auth_user = ctx->cfg.auth.user[0] ? ctx->cfg.auth.user :
		    "aviary";
	if (s.mail_group == NULL)
		s.mail_group = s.mail_user;
	if (s.auth_group == NULL)
		s.auth_group = s.auth_user;
	if (s.login_group == NULL)
		s.login_group = s.login_user;
	/* The certificate the login services are configured with. */
	if (s.tls_cert == NULL)
		s.tls_cert = ctx->cfg.login.tls.cert_file;
	if (s.tls_key == NULL)
		s.tls_key = ctx->cfg.login.tls.key_file;
	if (s.tls_cert[0] == '\0' || s.tls_key[0] == '\0')
		s.no_tls = true;	/* TLS is off: nothing to make */
	setup_check(&s);
	if (geteuid() != 0 && !s.dry_run)
		admin_fail(EX_NOPERM, "setup must run as root (--dry-run shows "
		    "what it would do)");
	/* Files are created with exactly the modes asked for. */
	(void)umask(022);
	(void)signal(SIGPIPE, SIG_IGN);
	s.t = table_new(ctx, keys, titles, N_ELEMENTS(keys));

	step_accounts(&s);
	step_files(&s);
	step_database(&s);
	if (!s.no_tls)
		step_tls(&s);
	else
		step(&s, "note", "certificate", "-", "none made: --no-tls, or "
		    "login.tls.cert_file is empty");
	explicit_bzero(s.pw_admin, sizeof(s.pw_admin));
	explicit_bzero(s.pw_auth, sizeof(s.pw_auth));
	explicit_bzero(s.pw_postfix, sizeof(s.pw_postfix));

	if (ctx->json) {
		(void)printf("{\"dry_run\": %s, \"changes\": %u, \"steps\": ",
		    s.dry_run ? "true" : "false", s.changes);
		table_print(s.t);
		(void)fputs("}\n", stdout);
		return 0;
	}
	table_print(s.t);
	if (s.dry_run)
		(void)printf("dry run: nothing was changed (%u change%s to "
		    "make)\n", s.changes, s.changes == 1 ? "" : "s");
	else if (s.changes == 0)
		(void)printf("setup: nothing to do, everything is in place\n");
	else
		(void)printf("setup done: %u change%s\n", s.changes,
		    s.changes == 1 ? "" : "s");
	return 0;
}
