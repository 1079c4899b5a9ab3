/* supervisor.c - the services' lifecycle; see supervisor.h and
 * docs/aviaryd.md.
 *
 * One event loop, one signalfd (SIGTERM, SIGINT, SIGHUP, SIGCHLD): no
 * logic runs in a signal handler. Each service is a small state machine:
 *
 *   DOWN --start--> RUNNING --exit--> WAITING --timer--> (start)
 *                      |                  back-off 1 s, 2 s, 4 s ...
 *                      | reload / stop      up to aviaryd.restart_max;
 *                      v                    1 s again after 60 s of life
 *                  STOPPING --exit--> DOWN, or started again (reload)
 *                      | stop_timeout: SIGKILL to its process group
 *
 * The listening sockets belong to aviaryd, not to the service: they
 * stay open while a service restarts, so clients wait in the backlog.
 * A reload builds the new socket set first (creating what is new,
 * keeping what is unchanged) and only then commits; any failure leaves
 * the running configuration and sockets exactly as they were. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "supervisor.h"

#define SVC_UNIX_MAX		4	/* UNIX sockets in a service's row */
#define SVC_SOCKETS_MAX		16	/* all its sockets, TCP included */
#define SVC_TCP_LISTS		2	/* lists of TCP addresses in a row */
#define SVC_STABLE_MS		60000	/* a run this long resets the back-off */
#define SVC_KILL_GRACE_MS	5000	/* after SIGKILL, before giving up */
#define SVC_LISTEN_FDS_MAX	256	/* "socket=3,tcp0=4,...,tcp14=18" */

/* ---- the service table ---------------------------------------------- */

/* A list of TCP addresses: "tcp" for lmtp.listen gives tcp0, tcp1, ... */
struct svc_tcp_def {
	const char	*prefix;	/* "tcp", "tls" */
	const char	*key;		/* "lmtp.listen", for messages */
	const struct conf_list *(*get)(const struct aviary_config *);
};

struct svc_socket_def {
	const char	*name;		/* its key in AVIARY_LISTEN_FDS */
	const char	*key;		/* its configuration key, for messages */
	const struct aviary_socket_config *(*get)(const struct aviary_config *);
};

/* A service: which binary, when it is enabled, the user it drops to
 * (checked here so that a bad one fails at start, not in a restart
 * loop), and its sockets, passed as descriptors 3, 4, ... in order:
 * first its UNIX sockets in the row's order, then one TCP listener per
 * entry of each of its TCP lists, named "<prefix>0", "<prefix>1", ... in
 * the list's order ("tcp0" for lmtp.listen; pop3 has "tcp" for
 * pop3.listen and "tls" for pop3.listen_tls). */
struct svc_def {
	const char		*name;
	const char		*binary;	/* in the libexec directory */
	const char		*user_key;
	bool			(*enabled)(const struct aviary_config *);
	const char		*(*user)(const struct aviary_config *);
	struct svc_socket_def	 sockets[SVC_UNIX_MAX];
	size_t			 nsockets;
	struct svc_tcp_def	 tcps[SVC_TCP_LISTS];
	size_t			 ntcps;
};

static bool
auth_enabled(const struct aviary_config *c)
{
	return c->auth.enabled;
}

static const char *
auth_user(const struct aviary_config *c)
{
	return c->auth.user;
}

static const struct aviary_socket_config *
auth_client_socket(const struct aviary_config *c)
{
	return &c->auth.client_socket;
}

static const struct aviary_socket_config *
auth_userdb_socket(const struct aviary_config *c)
{
	return &c->auth.userdb_socket;
}

static bool
lmtp_enabled(const struct aviary_config *c)
{
	return c->lmtp.enabled;
}

static const char *
lmtp_user(const struct aviary_config *c)
{
	return c->lmtp.user;
}

static const struct aviary_socket_config *
lmtp_socket(const struct aviary_config *c)
{
	return &c->lmtp.socket;
}

static const struct conf_list *
lmtp_listen(const struct aviary_config *c)
{
	return &c->lmtp.listen;
}

static bool
pop3_enabled(const struct aviary_config *c)
{
	return c->pop3.enabled;
}

static const char *
pop3_user(const struct aviary_config *c)
{
	return c->pop3.user;
}

static const struct conf_list *
pop3_listen(const struct aviary_config *c)
{
	return &c->pop3.listen;
}

static const struct conf_list *
pop3_listen_tls(const struct aviary_config *c)
{
	return &c->pop3.listen_tls;
}

static bool
imap_enabled(const struct aviary_config *c)
{
	return c->imap.enabled;
}

static const char *
imap_user(const struct aviary_config *c)
{
	return c->imap.user;
}

static const struct conf_list *
imap_listen(const struct aviary_config *c)
{
	return &c->imap.listen;
}

static const struct conf_list *
imap_listen_tls(const struct aviary_config *c)
{
	return &c->imap.listen_tls;
}

static const struct svc_def svc_defs[] = {
	{ "auth", "aviary-auth", "auth.user", auth_enabled, auth_user, {
		{ "client", "auth.client_socket", auth_client_socket },
		{ "userdb", "auth.userdb_socket", auth_userdb_socket },
	}, 2, { { NULL, NULL, NULL } }, 0 },
	{ "lmtp", "aviary-lmtp", "lmtp.user", lmtp_enabled, lmtp_user, {
		{ "socket", "lmtp.socket", lmtp_socket },
	}, 1, { { "tcp", "lmtp.listen", lmtp_listen } }, 1 },
	{ "pop3", "aviary-pop3", "pop3.user", pop3_enabled, pop3_user, {
		{ NULL, NULL, NULL },
	}, 0, {
		{ "tcp", "pop3.listen", pop3_listen },
		{ "tls", "pop3.listen_tls", pop3_listen_tls },
	}, 2 },
	{ "imap", "aviary-imap", "imap.user", imap_enabled, imap_user, {
		{ NULL, NULL, NULL },
	}, 0, {
		{ "tcp", "imap.listen", imap_listen },
		{ "tls", "imap.listen_tls", imap_listen_tls },
	}, 2 },
};
#define NSVC	N_ELEMENTS(svc_defs)

/* The listeners of 'def' under 'cfg', initialized but not opened, in
 * descriptor order: out[0..*n_r). Returns 0, or -1 with *error_r from
 * 'a' (without the file name). */
static int
svc_listeners(const struct svc_def *def, const struct aviary_config *cfg,
    struct listener out[SVC_SOCKETS_MAX], size_t *n_r, struct arena *a,
    const char **error_r)
{
	const struct conf_list	*tcp;
	char			 name[LISTENER_NAME_MAX];
	size_t			 i, t, n = 0;

	*n_r = 0;
	for (i = 0; i < def->nsockets; i++) {
		const struct svc_socket_def *sd = &def->sockets[i];

		if (listener_init(&out[n], sd->name, sd->key, sd->get(cfg), a,
		    error_r) == -1)
			return -1;
		*n_r = ++n;
	}
	for (t = 0; t < def->ntcps; t++) {
		const struct svc_tcp_def *td = &def->tcps[t];

		tcp = td->get(cfg);
		if (tcp->n > SVC_SOCKETS_MAX - n) {
			*error_r = arena_printf(a, "%s: at most %zu addresses",
			    td->key, SVC_SOCKETS_MAX - n);
			return -1;
		}
		for (i = 0; i < tcp->n; i++) {
			(void)snprintf(name, sizeof(name), "%s%u", td->prefix,
			    (unsigned)i);
			if (listener_init_tcp(&out[n], name, td->key,
			    tcp->v[i], a, error_r) == -1)
				return -1;
			*n_r = ++n;
		}
	}
	return 0;
}

/* The configuration key of 'l', one of def's listeners, for messages. */
static const char *
svc_listener_key(const struct svc_def *def, const struct listener *l,
    struct arena *a)
{
	size_t	 i;

	if (l->kind == LISTENER_TCP) {
		for (i = 0; i < def->ntcps; i++)
			if (strncmp(l->name, def->tcps[i].prefix,
			    strlen(def->tcps[i].prefix)) == 0)
				return def->tcps[i].key;
		return def->name;
	}
	for (i = 0; i < def->nsockets; i++)
		if (strcmp(def->sockets[i].name, l->name) == 0)
			return arena_printf(a, "%s.path", def->sockets[i].key);
	return def->name;
}

/* ---- state ------------------------------------------------------------ */

enum svc_state {
	SVC_DOWN,	/* not running, nothing scheduled */
	SVC_RUNNING,
	SVC_STOPPING,	/* SIGTERM sent (then SIGKILL); waiting for the exit */
	SVC_WAITING,	/* exited unexpectedly; the timer starts it again */
};

struct svc {
	struct supervisor	*sup;
	const struct svc_def	*def;
	enum svc_state		 state;
	bool			 enabled;	/* in the current configuration */
	bool			 restart;	/* STOPPING: start again after */
	bool			 killed;	/* STOPPING: SIGKILL sent */
	pid_t			 pid;		/* 0 when none */
	uint64_t		 started_ms;	/* last start attempt */
	uint64_t		 backoff_s;	/* delay of the next restart */
	struct ev_timer		*timer;	/* WAITING: restart; STOPPING: kill */
	struct listener		 sock[SVC_SOCKETS_MAX];
	size_t			 nsock;
};

struct supervisor {
	struct ev		*ev;
	struct arena		*cfg_arena;	/* owns every string in cfg */
	struct aviary_config	 cfg;
	char			 config_path[PATH_MAX];	/* absolute */
	char			 exe_dir[PATH_MAX];
	struct stat		 config_sb;	/* the file as last loaded */
	bool			 foreground;
	bool			 ready;		/* "ready" said once */
	bool			 stopping;
	int			 sigfd;
	struct ev_io		*sigio;
	struct logfwd		*logfwd;	/* daemon mode only */
	struct svc		 svcs[NSVC];
};

static void	svc_start(struct svc *svc);

/* ---- paths and configuration ------------------------------------------ */

int
supervisor_abspath(const char *path, char *out, size_t outsz)
{
	char	 cwd[PATH_MAX];
	int	 n;

	if (path[0] == '/')
		n = snprintf(out, outsz, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	else
		n = snprintf(out, outsz, "%s/%s", cwd, path);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
supervisor_exe_dir(char *out, size_t outsz)
{
	ssize_t	 n;
	char	*slash;

	if (outsz < 2)
		return -1;
	n = readlink("/proc/self/exe", out, outsz - 1);
	if (n <= 0 || (size_t)n >= outsz - 1)
		return -1;
	out[n] = '\0';
	if ((slash = strrchr(out, '/')) == NULL)
		return -1;
	if (slash == out)
		slash[1] = '\0';	/* "/aviaryd": the root directory */
	else
		*slash = '\0';
	return 0;
}

static const char *
svc_libexec_dir(const struct aviary_config *cfg, const char *exe_dir)
{
	return cfg->aviaryd.libexec_dir[0] != '\0' ?
	    cfg->aviaryd.libexec_dir : exe_dir;
}

static int
svc_binary_path(const struct svc_def *def, const char *dir, char *out,
    size_t outsz)
{
	int	 n = snprintf(out, outsz, "%s/%s", dir, def->binary);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Run as root, a service must be given its own user: every service
 * refuses to keep root, and would only fail in a restart loop. */
static int
svc_check_user(const struct svc_def *def, const struct aviary_config *cfg,
    const char *path, struct arena *a, const char **error_r)
{
	const char	*user = def->user(cfg);
	struct passwd	*pw;

	if (geteuid() != 0)
		return 0;
	if (user[0] == '\0' || strcmp(user, "root") == 0) {
		*error_r = arena_printf(a, "%s: %s: set the system user the "
		    "service runs as (it never keeps root)", path,
		    def->user_key);
		return -1;
	}
	if ((pw = getpwnam(user)) == NULL) {
		*error_r = arena_printf(a, "%s: %s: unknown user '%s'", path,
		    def->user_key, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		*error_r = arena_printf(a, "%s: %s: user '%s' has uid 0", path,
		    def->user_key, user);
		return -1;
	}
	return 0;
}

int
supervisor_config_load(struct aviary_config *cfg, const char *path,
    const char *exe_dir, struct arena *a, const char **error_r)
{
	struct listener	 seen[NSVC * SVC_SOCKETS_MAX];
	const char	*dir, *why;
	char		 bin[PATH_MAX];
	struct stat	 sb;
	size_t		 i, j, k, n, nseen = 0;

	if (aviary_config_load(cfg, path, a, error_r) == -1)
		return -1;
	if (cfg->aviaryd.libexec_dir[0] != '\0' &&
	    cfg->aviaryd.libexec_dir[0] != '/') {
		*error_r = arena_printf(a, "%s: aviaryd.libexec_dir must be an "
		    "absolute path", path);
		return -1;
	}
	dir = svc_libexec_dir(cfg, exe_dir);
	for (i = 0; i < NSVC; i++) {
		const struct svc_def *def = &svc_defs[i];

		if (!def->enabled(cfg))
			continue;
		if (svc_check_user(def, cfg, path, a, error_r) == -1)
			return -1;
		if (svc_listeners(def, cfg, &seen[nseen], &n, a, &why) == -1) {
			*error_r = arena_printf(a, "%s: %s", path, why);
			return -1;
		}
		for (j = nseen; j < nseen + n; j++) {
			const struct listener *l = &seen[j];

			for (k = 0; k < j; k++) {
				if (!listener_same_place(&seen[k], l))
					continue;
				if (l->kind == LISTENER_UNIX)
					*error_r = arena_printf(a, "%s: %s: %s "
					    "is already another socket's path",
					    path, svc_listener_key(def, l, a),
					    l->path);
				else if (strcmp(seen[k].spec, l->spec) == 0)
					*error_r = arena_printf(a, "%s: %s: "
					    "'%s' is listed twice", path,
					    svc_listener_key(def, l, a),
					    l->spec);
				else
					*error_r = arena_printf(a, "%s: %s: "
					    "'%s' is the same address as '%s'",
					    path, svc_listener_key(def, l, a),
					    l->spec, seen[k].spec);
				return -1;
			}
		}
		nseen += n;
		/* Last: what the file says is checked even where the
		 * binary is not installed (yet). */
		if (svc_binary_path(def, dir, bin, sizeof(bin)) == -1) {
			*error_r = arena_printf(a, "%s: aviaryd.libexec_dir: "
			    "path too long", path);
			return -1;
		}
		if (stat(bin, &sb) == -1)
			why = errno == ENOENT ? "no such file" : strerror(errno);
		else if (!S_ISREG(sb.st_mode) || (sb.st_mode & 0111) == 0)
			why = "not an executable file";
		else
			why = NULL;
		if (why != NULL) {
			*error_r = arena_printf(a, "%s: %s: %s (the libexec "
			    "directory is aviaryd.libexec_dir, or aviaryd's "
			    "own)", path, bin, why);
			return -1;
		}
	}
	return 0;
}

/* Remember which file we loaded, to warn when a service that restarts
 * would read a file aviaryd has not validated. */
static void
sup_config_stat(struct supervisor *sup)
{
	if (stat(sup->config_path, &sup->config_sb) == -1)
		memset(&sup->config_sb, 0, sizeof(sup->config_sb));
}

static bool
sup_config_changed(const struct supervisor *sup)
{
	struct stat	 sb;
	const struct stat *o = &sup->config_sb;

	if (stat(sup->config_path, &sb) == -1)
		return true;
	return sb.st_dev != o->st_dev || sb.st_ino != o->st_ino ||
	    sb.st_size != o->st_size ||
	    sb.st_mtim.tv_sec != o->st_mtim.tv_sec ||
	    sb.st_mtim.tv_nsec != o->st_mtim.tv_nsec;
}

/* ---- sockets ---------------------------------------------------------- */

/* One socket of the next configuration. */
struct sock_plan {
	struct listener	 l;
	struct listener	*old;	/* ours at the same path, or NULL */
	bool		 reuse;	/* old serves unchanged */
	char		 tmp[LISTENER_PATH_MAX];	/* "": bound at l.path */
};

/* An open listener at the place of 'want' (UNIX: at its path, with the
 * file still the one we created; TCP: on its address), in any service. */
static struct listener *
sup_find_listener(struct supervisor *sup, const struct listener *want)
{
	size_t	 i, j;

	for (i = 0; i < NSVC; i++) {
		for (j = 0; j < sup->svcs[i].nsock; j++) {
			struct listener *l = &sup->svcs[i].sock[j];

			if (l->fd != -1 && listener_same_place(l, want) &&
			    listener_file_is_ours(l))
				return l;
		}
	}
	return NULL;
}

/* Make the sockets match 'cfg' (already validated): keep the sockets
 * whose path, mode and owner did not change, and the TCP listeners
 * whose address did not (whatever their position, so their names may
 * change); bind new paths and addresses; replace a UNIX socket whose
 * mode or owner changed by binding the new one at "<path>.new" and
 * renaming it over the old file, so that the path never stops
 * answering. Everything that can fail happens before the first change:
 * on -1 (*error_r from 'a') nothing changed. */
static int
sup_apply_sockets(struct supervisor *sup, const struct aviary_config *cfg,
    struct arena *a, const char **error_r)
{
	struct sock_plan	 plan[NSVC][SVC_SOCKETS_MAX];
	size_t			 nplan[NSVC] = { 0 };
	size_t			 i, j;
	int			 n, ret = -1;

	memset(plan, 0, sizeof(plan));
	for (i = 0; i < NSVC; i++) {
		const struct svc_def *def = sup->svcs[i].def;
		struct listener	 want[SVC_SOCKETS_MAX];
		size_t		 nwant;

		if (!def->enabled(cfg))
			continue;
		if (svc_listeners(def, cfg, want, &nwant, a, error_r) == -1)
			goto out;
		for (j = 0; j < nwant; j++) {
			struct sock_plan *p = &plan[i][j];

			/* Counted before it may fail: out closes it. */
			nplan[i] = j + 1;
			p->l = want[j];
			p->old = sup_find_listener(sup, &p->l);
			if (p->old != NULL && listener_same(p->old, &p->l)) {
				p->reuse = true;
				continue;
			}
			if (p->old != NULL) {
				n = snprintf(p->tmp, sizeof(p->tmp), "%s%s",
				    p->l.path, LISTENER_TMP_SUFFIX);
				if (n < 0 || (size_t)n >= sizeof(p->tmp)) {
					*error_r = arena_printf(a, "%s: path too "
					    "long to replace the socket in "
					    "place; restart aviaryd to change "
					    "its mode or owner", p->l.path);
					p->tmp[0] = '\0';
					goto out;
				}
			}
			if (listener_open(&p->l, p->tmp[0] ? p->tmp : p->l.path,
			    a, error_r) == -1) {
				if (p->l.kind == LISTENER_TCP)
					*error_r = arena_printf(a, "%s: %s",
					    svc_listener_key(def, &p->l, a),
					    *error_r);
				goto out;
			}
		}
	}

	/* Commit: nothing below fails in a way that needs undoing. */
	for (i = 0; i < NSVC; i++) {
		for (j = 0; j < nplan[i]; j++) {
			struct sock_plan *p = &plan[i][j];

			if (p->reuse) {
				p->l.fd = p->old->fd;
				p->l.dev = p->old->dev;
				p->l.ino = p->old->ino;
				p->old->fd = -1;	/* moved, not closed */
			} else if (p->tmp[0] != '\0' &&
			    rename(p->tmp, p->l.path) == -1) {
				log_error("%s: cannot put the new socket in "
				    "place: %m; keeping the old one",
				    p->l.path);
				listener_close(&p->l, p->tmp);
				/* The old socket, under its new role's name. */
				memcpy(p->old->name, p->l.name,
				    sizeof(p->old->name));
				p->l = *p->old;
				p->old->fd = -1;
			}
		}
	}
	for (i = 0; i < NSVC; i++) {
		struct svc *svc = &sup->svcs[i];

		/* What was not moved goes; its file too while it is
		 * still ours (a replaced file is not). */
		for (j = 0; j < svc->nsock; j++)
			listener_close(&svc->sock[j], svc->sock[j].path);
		for (j = 0; j < nplan[i]; j++)
			svc->sock[j] = plan[i][j].l;
		svc->nsock = nplan[i];
	}
	ret = 0;
out:
	if (ret == -1) {
		for (i = 0; i < NSVC; i++) {
			for (j = 0; j < nplan[i]; j++) {
				struct sock_plan *p = &plan[i][j];

				if (!p->reuse)
					listener_close(&p->l, p->tmp[0] ?
					    p->tmp : p->l.path);
			}
		}
	}
	return ret;
}

/* ---- services --------------------------------------------------------- */

static void
svc_describe_exit(int status, char *out, size_t outsz)
{
	if (WIFEXITED(status))
		(void)snprintf(out, outsz, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)snprintf(out, outsz, "killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		(void)snprintf(out, outsz, "ended with wait status 0x%x",
		    (unsigned)status);
}

static void
sup_check_ready(struct supervisor *sup)
{
	size_t	 i, n = 0;
	char	 msg[64];

	if (sup->ready || sup->stopping)
		return;
	for (i = 0; i < NSVC; i++) {
		if (!sup->svcs[i].enabled)
			continue;
		if (sup->svcs[i].state != SVC_RUNNING)
			return;
		n++;
	}
	sup->ready = true;
	log_info("aviaryd: ready (%zu service%s)", n, n == 1 ? "" : "s");
	(void)snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%zu service%s "
	    "running", n, n == 1 ? "" : "s");
	daemon_notify(msg);
}

static void
sup_check_stopped(struct supervisor *sup)
{
	size_t	 i;

	if (!sup->stopping)
		return;
	for (i = 0; i < NSVC; i++)
		if (sup->svcs[i].state != SVC_DOWN)
			return;
	ev_stop(sup->ev);
}

static void
svc_on_restart_timer(void *ctx)
{
	struct svc	*svc = ctx;

	svc->timer = NULL;
	svc->state = SVC_DOWN;
	log_info("%s: restarting %s", svc->def->name, svc->def->binary);
	svc_start(svc);
}

/* After an unexpected exit (or a failed start): wait, then start again.
 * Returns the delay in seconds. */
static uint64_t
svc_schedule_restart(struct svc *svc)
{
	uint64_t	 max = svc->sup->cfg.aviaryd.restart_max;
	uint64_t	 delay;

	if (ev_now_ms() - svc->started_ms >= SVC_STABLE_MS)
		svc->backoff_s = 1;
	delay = svc->backoff_s < max ? svc->backoff_s : max;
	svc->backoff_s = delay > max / 2 ? max : delay * 2;
	svc->state = SVC_WAITING;
	svc->timer = ev_timer_add(svc->sup->ev, delay * 1000,
	    svc_on_restart_timer, svc);
	return delay;
}

static void
svc_start(struct svc *svc)
{
	struct supervisor	*sup = svc->sup;
	const struct svc_def	*def = svc->def;
	struct arena		*a = arena_create(4096);
	struct spawn_req	 req = { 0 };
	char			 bin[PATH_MAX], listen[SVC_LISTEN_FDS_MAX];
	char			*argv[4];
	int			 fds[SVC_SOCKETS_MAX];
	const char		*error;
	size_t			 i, o = 0;
	pid_t			 pid;
	int			 n;

	ASSERT(svc->state == SVC_DOWN && svc->pid == 0 && svc->timer == NULL);
	svc->started_ms = ev_now_ms();
	listen[0] = '\0';
	for (i = 0; i < svc->nsock; i++) {
		fds[i] = svc->sock[i].fd;
		n = snprintf(listen + o, sizeof(listen) - o, "%s%s=%zu",
		    i ? "," : "", svc->sock[i].name, 3 + i);
		if (n < 0 || (size_t)n >= sizeof(listen) - o)
			log_panic("%s: AVIARY_LISTEN_FDS overflow", def->name);
		o += (size_t)n;
	}
	if (svc_binary_path(def, svc_libexec_dir(&sup->cfg, sup->exe_dir),
	    bin, sizeof(bin)) == -1) {
		error = "binary path too long";
		goto fail;
	}
	if (sup_config_changed(sup))
		log_warn("%s: %s changed since aviaryd loaded it; %s will read "
		    "the new file (send SIGHUP to aviaryd to check and apply "
		    "it everywhere)", def->name, sup->config_path,
		    def->binary);
	argv[0] = arena_strdup(a, def->binary);
	argv[1] = arena_strdup(a, "-c");
	argv[2] = arena_strdup(a, sup->config_path);
	argv[3] = NULL;
	req.path = bin;
	req.argv = argv;
	req.envp = spawn_env(listen, a);
	req.fds = fds;
	req.nfds = svc->nsock;
	req.out_fd = sup->logfwd != NULL ? logfwd_write_fd(sup->logfwd) : -1;
	if ((pid = spawn_service(&req, a, &error)) == -1)
		goto fail;
	svc->pid = pid;
	svc->state = SVC_RUNNING;
	log_info("%s: started %s (pid %ld)", def->name, def->binary,
	    (long)pid);
	arena_destroy(&a);
	sup_check_ready(sup);
	return;
fail:
	log_error("%s: cannot start %s: %s; trying again in %llus", def->name,
	    def->binary, error, (unsigned long long)svc_schedule_restart(svc));
	arena_destroy(&a);
}

static void
svc_on_stop_timer(void *ctx)
{
	struct svc		*svc = ctx;
	struct supervisor	*sup = svc->sup;

	svc->timer = NULL;
	if (!svc->killed) {
		log_warn("%s: %s (pid %ld) did not stop within %llus; sending "
		    "SIGKILL", svc->def->name, svc->def->binary,
		    (long)svc->pid,
		    (unsigned long long)sup->cfg.aviaryd.stop_timeout);
		/* Its process group: whatever it started goes too. */
		if (kill(-svc->pid, SIGKILL) == -1)
			(void)kill(svc->pid, SIGKILL);
		svc->killed = true;
		svc->timer = ev_timer_add(sup->ev, SVC_KILL_GRACE_MS,
		    svc_on_stop_timer, svc);
		return;
	}
	/* Stuck in the kernel (uninterruptible I/O): stop waiting. When it
	 * does go, it is reaped as an unknown child. */
	log_error("%s: %s (pid %ld) is still there after SIGKILL; no longer "
	    "waiting for it", svc->def->name, svc->def->binary,
	    (long)svc->pid);
	svc->pid = 0;
	svc->state = SVC_DOWN;
	if (sup->stopping)
		sup_check_stopped(sup);
	else if (svc->restart && svc->enabled)
		svc_start(svc);
}

/* SIGTERM; SIGKILL after aviaryd.stop_timeout. 'restart': start it again
 * once it has gone (reload). */
static void
svc_stop(struct svc *svc, bool restart)
{
	struct supervisor	*sup = svc->sup;

	ASSERT(svc->state == SVC_RUNNING);
	log_info("%s: stopping %s (pid %ld)%s", svc->def->name,
	    svc->def->binary, (long)svc->pid, restart ? " to restart it" : "");
	if (kill(svc->pid, SIGTERM) == -1 && errno != ESRCH)
		log_error("%s: kill %ld: %m", svc->def->name, (long)svc->pid);
	svc->state = SVC_STOPPING;
	svc->restart = restart;
	svc->killed = false;
	svc->timer = ev_timer_add(sup->ev, sup->cfg.aviaryd.stop_timeout * 1000,
	    svc_on_stop_timer, svc);
}

static void
svc_exited(struct svc *svc, int status)
{
	struct supervisor	*sup = svc->sup;
	char			 what[128];
	long			 pid = (long)svc->pid;

	svc_describe_exit(status, what, sizeof(what));
	ev_timer_del(&svc->timer);
	svc->pid = 0;
	if (svc->state == SVC_STOPPING) {
		log_info("%s: %s (pid %ld) %s", svc->def->name,
		    svc->def->binary, pid, what);
		svc->state = SVC_DOWN;
		if (sup->stopping) {
			sup_check_stopped(sup);
		} else if (svc->restart && svc->enabled) {
			svc->backoff_s = 1;
			svc_start(svc);
		}
		return;
	}
	ASSERT(svc->state == SVC_RUNNING);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_warn("%s: %s (pid %ld) %s unexpectedly; restarting in "
		    "%llus", svc->def->name, svc->def->binary, pid, what,
		    (unsigned long long)svc_schedule_restart(svc));
	else
		log_error("%s: %s (pid %ld) %s; restarting in %llus",
		    svc->def->name, svc->def->binary, pid, what,
		    (unsigned long long)svc_schedule_restart(svc));
}

/* Bring every service in line with the current configuration: start
 * what is enabled and down, restart what runs (it must read the new
 * file), stop what is disabled. */
static void
sup_reconfigure(struct supervisor *sup)
{
	size_t	 i;

	/* Every flag first: starting one service checks whether all the
	 * enabled ones run ("ready"), which must not count a later one as
	 * disabled. */
	for (i = 0; i < NSVC; i++)
		sup->svcs[i].enabled = sup->svcs[i].def->enabled(&sup->cfg);
	for (i = 0; i < NSVC; i++) {
		struct svc *svc = &sup->svcs[i];

		switch (svc->state) {
		case SVC_WAITING:
			ev_timer_del(&svc->timer);
			svc->state = SVC_DOWN;
			/* FALLTHROUGH */
		case SVC_DOWN:
			if (svc->enabled) {
				svc->backoff_s = 1;
				svc_start(svc);
			}
			break;
		case SVC_RUNNING:
			svc_stop(svc, svc->enabled);
			break;
		case SVC_STOPPING:
			svc->restart = svc->enabled;
			break;
		}
	}
	sup_check_ready(sup);
}

/* ---- signals ---------------------------------------------------------- */

static void
sup_reap(struct supervisor *sup)
{
	pid_t	 pid;
	size_t	 i;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < NSVC; i++) {
			if (sup->svcs[i].pid == pid) {
				svc_exited(&sup->svcs[i], status);
				break;
			}
		}
		if (i == NSVC)
			log_debug("reaped pid %ld (no longer a service)",
			    (long)pid);
	}
}

static void
sup_reload(struct supervisor *sup)
{
	struct aviary_config	 ncfg;
	struct arena		*a = arena_create(64 * 1024);
	const char		*error;
	char			 msg[64];

	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ev_now_ms() * 1000);
	daemon_notify(msg);
	log_info("SIGHUP: reloading %s", sup->config_path);
	if (supervisor_config_load(&ncfg, sup->config_path, sup->exe_dir, a,
	    &error) == -1 ||
	    sup_apply_sockets(sup, &ncfg, a, &error) == -1) {
		log_error("reload failed, still running the previous "
		    "configuration: %s", error);
		arena_destroy(&a);
		daemon_notify("READY=1");
		return;
	}
	arena_destroy(&sup->cfg_arena);
	sup->cfg = ncfg;
	sup->cfg_arena = a;
	sup_config_stat(sup);
	sup_reconfigure(sup);
	log_info("reloaded %s", sup->config_path);
	daemon_notify("READY=1");
}

static void
sup_shutdown(struct supervisor *sup, int sig)
{
	size_t	 i;

	if (sup->stopping) {
		log_info("signal %d: already stopping", sig);
		return;
	}
	sup->stopping = true;
	daemon_notify("STOPPING=1");
	log_info("%s: stopping the services", sig == SIGINT ? "SIGINT" :
	    "SIGTERM");
	for (i = 0; i < NSVC; i++) {
		struct svc *svc = &sup->svcs[i];

		switch (svc->state) {
		case SVC_WAITING:
			ev_timer_del(&svc->timer);
			svc->state = SVC_DOWN;
			break;
		case SVC_RUNNING:
			svc_stop(svc, false);
			break;
		case SVC_STOPPING:
			svc->restart = false;
			break;
		case SVC_DOWN:
			break;
		}
	}
	sup_check_stopped(sup);
}

static void
sup_on_signal(void *ctx, int fd, unsigned events)
{
	struct supervisor	*sup = ctx;
	struct signalfd_siginfo	 si;
	bool			 chld = false, hup = false;
	int			 term = 0;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			chld = true;
			break;
		case SIGHUP:
			hup = true;
			break;
		case SIGTERM:
		case SIGINT:
			term = (int)si.ssi_signo;
			break;
		}
	}
	/* Exits first: a reload or a stop must see the real states. */
	if (chld)
		sup_reap(sup);
	if (term != 0)
		sup_shutdown(sup, term);
	else if (hup && !sup->stopping)
		sup_reload(sup);
}

/* ---- life ------------------------------------------------------------- */

struct supervisor *
supervisor_create(const char *config_path, const char *exe_dir,
    const struct aviary_config *cfg, struct arena **cfg_arena_p,
    bool foreground, struct arena *ea, const char **error_r)
{
	struct supervisor	*sup = xcalloc(1, sizeof(*sup));
	sigset_t		 mask;
	size_t			 i;

	sup->cfg = *cfg;
	sup->cfg_arena = *cfg_arena_p;
	*cfg_arena_p = NULL;
	sup->foreground = foreground;
	sup->sigfd = -1;
	for (i = 0; i < NSVC; i++) {
		sup->svcs[i].sup = sup;
		sup->svcs[i].def = &svc_defs[i];
		sup->svcs[i].backoff_s = 1;
	}
	if (strlen(config_path) >= sizeof(sup->config_path) ||
	    strlen(exe_dir) >= sizeof(sup->exe_dir)) {
		*error_r = "path too long";
		goto fail;
	}
	memcpy(sup->config_path, config_path, strlen(config_path) + 1);
	memcpy(sup->exe_dir, exe_dir, strlen(exe_dir) + 1);
	sup_config_stat(sup);

	/* Blocked from here on, read through the signalfd in the loop: a
	 * SIGTERM while the sockets are being made must not leave their
	 * files behind. */
	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGTERM);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGHUP);
	(void)sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1) {
		*error_r = arena_printf(ea, "sigprocmask: %s", strerror(errno));
		goto fail;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	if (sup_apply_sockets(sup, &sup->cfg, ea, error_r) == -1)
		goto fail;
	return sup;
fail:
	supervisor_destroy(&sup);
	return NULL;
}

int
supervisor_run(struct supervisor *sup)
{
	const char	*error;
	struct arena	*a = arena_create(1024);
	sigset_t	 mask;
	size_t		 i;
	int		 status = 0;

	/* Created here, after daemon_detach's fork, not before. */
	sup->ev = ev_create();
	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGTERM);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGHUP);
	(void)sigaddset(&mask, SIGCHLD);
	sup->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sup->sigfd == -1 || (sup->sigio = ev_io_add(sup->ev, sup->sigfd,
	    EV_READ, sup_on_signal, sup)) == NULL) {
		log_error("signalfd: %m");
		status = 71;
		goto out;
	}
	if (!sup->foreground &&
	    (sup->logfwd = logfwd_create(sup->ev, a, &error)) == NULL) {
		log_error("%s", error);
		status = 71;
		goto out;
	}
	sup_reconfigure(sup);
	if (ev_run(sup->ev) == -1) {
		/* Cannot wait for anything any more: leave nothing behind. */
		log_error("event loop: %m; killing the services");
		for (i = 0; i < NSVC; i++)
			if (sup->svcs[i].pid > 0)
				(void)kill(-sup->svcs[i].pid, SIGKILL);
		status = 71;
		goto out;
	}
	log_info("stopped");
out:
	arena_destroy(&a);
	return status;
}

void
supervisor_destroy(struct supervisor **supp)
{
	struct supervisor	*sup = *supp;
	size_t			 i, j;

	if (sup == NULL)
		return;
	for (i = 0; i < NSVC; i++) {
		struct svc *svc = &sup->svcs[i];

		ev_timer_del(&svc->timer);
		for (j = 0; j < svc->nsock; j++)
			listener_close(&svc->sock[j], svc->sock[j].path);
		svc->nsock = 0;
	}
	logfwd_destroy(&sup->logfwd);
	ev_io_del(&sup->sigio);
	if (sup->sigfd != -1)
		(void)close(sup->sigfd);
	ev_destroy(&sup->ev);
	arena_destroy(&sup->cfg_arena);
	free(sup);
	*supp = NULL;
}
