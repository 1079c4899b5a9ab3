/* spawn.c - fork + exec of one service; see supervisor.h.
 *
 * No shell and no PATH search: execve of an absolute path with an argv
 * we built. The child reports a failure before or at exec through a
 * close-on-exec pipe (the classic self-pipe trick that posix_spawn uses
 * internally), so the parent knows, when spawn_service returns, whether
 * the service binary is running: end of file on the pipe means the exec
 * succeeded. Between fork and exec the child only makes system calls
 * (aviaryd is single-threaded, but a forked child should still not touch
 * the heap or stdio) and leaves with _exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/log.h"
#include "supervisor.h"

extern char **environ;

#define SPAWN_FDS_MAX	64

/* What the child reports when it fails: the step and errno. */
struct spawn_report {
	int	 step;
	int	 err;
};

enum spawn_step {
	STEP_SETSID = 1,
	STEP_STDIO,
	STEP_FDS,
	STEP_EXEC,
};

static const char *const spawn_step_name[] = {
	[STEP_SETSID] = "setsid",
	[STEP_STDIO] = "standard descriptors",
	[STEP_FDS] = "passing the sockets",
	[STEP_EXEC] = "exec",
};

/* Variables of aviaryd alone: a service must not notify systemd in
 * aviaryd's name nor mistake systemd's sockets for its own. */
static const char *const spawn_env_drop[] = {
	"AVIARY_LISTEN_FDS", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
	"LISTEN_FDNAMES", NULL
};

char **
spawn_env(const char *listen_fds, struct arena *a)
{
	char	**envp;
	size_t	  n = 0, o = 0, i, k;

	while (environ[n] != NULL)
		n++;
	envp = arena_alloc(a, (n + 2) * sizeof(*envp));
	for (i = 0; i < n; i++) {
		bool drop = false;

		for (k = 0; spawn_env_drop[k] != NULL; k++) {
			size_t kl = strlen(spawn_env_drop[k]);

			if (strncmp(environ[i], spawn_env_drop[k], kl) == 0 &&
			    environ[i][kl] == '=')
				drop = true;
		}
		if (!drop)
			envp[o++] = environ[i];
	}
	envp[o++] = arena_printf(a, "AVIARY_LISTEN_FDS=%s", listen_fds);
	envp[o] = NULL;
	return envp;
}

/* Close every descriptor in [lo, hi]. close_range(2) where the kernel
 * has it (5.9); otherwise one by one up to the descriptor limit. */
static void
spawn_close_range(unsigned lo, unsigned hi)
{
	struct rlimit	 rl;
	unsigned	 fd, top;

	if (lo > hi)
		return;
	if (close_range(lo, hi, 0) == 0)
		return;
	/* No descriptor can be at or above the soft limit; with none
	 * known, 64K is far above anything aviaryd opens. */
	top = 65535;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > 0 && rl.rlim_cur - 1 < (rlim_t)top)
		top = (unsigned)(rl.rlim_cur - 1);
	if (hi < top)
		top = hi;
	for (fd = lo; fd <= top; fd++)
		(void)close((int)fd);
}

static void AV_NORETURN
spawn_fail(int rep, int step)
{
	struct spawn_report	 r = { step, errno };
	ssize_t			 n;

	do {
		n = write(rep, &r, sizeof(r));
	} while (n == -1 && errno == EINTR);
	_exit(127);
}

/* The child: from fork to exec. 'rep' is the report pipe's write end. */
static void AV_NORETURN
spawn_child(const struct spawn_req *req, int rep, pid_t parent)
{
	int		 tmp[SPAWN_FDS_MAX];
	sigset_t	 none;
	unsigned	 first_free = 3 + (unsigned)req->nfds;
	size_t		 i;
	int		 sig, null;

	/* Signals: aviaryd blocks the ones its signalfd reads and ignores
	 * SIGPIPE; both would survive exec. */
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);

	/* A session of its own: a Ctrl-C at aviaryd's terminal goes to
	 * aviaryd, which stops the services in order. */
	if (setsid() == -1)
		spawn_fail(rep, STEP_SETSID);
	/* Best effort against orphans if aviaryd is killed with SIGKILL;
	 * the kernel clears it when the service changes its uid. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != parent)
		_exit(0);

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(null, 0) == -1)
		spawn_fail(rep, STEP_STDIO);
	if (req->out_fd != -1 &&
	    (dup2(req->out_fd, 1) == -1 || dup2(req->out_fd, 2) == -1))
		spawn_fail(rep, STEP_STDIO);

	/* Move the report pipe and the sockets above the target range
	 * first, so that no dup2 below closes a descriptor still needed
	 * (a socket may well sit at 3 or 4 already). */
	if (rep < (int)first_free) {
		int moved = fcntl(rep, F_DUPFD_CLOEXEC, (int)first_free);

		if (moved == -1)
			spawn_fail(rep, STEP_FDS);
		rep = moved;
	}
	for (i = 0; i < req->nfds; i++) {
		tmp[i] = fcntl(req->fds[i], F_DUPFD_CLOEXEC, (int)first_free);
		if (tmp[i] == -1)
			spawn_fail(rep, STEP_FDS);
	}
	for (i = 0; i < req->nfds; i++) {
		/* dup2 gives the new descriptor FD_CLOEXEC cleared: exactly
		 * these cross the exec. Set it explicitly all the same. */
		if (dup2(tmp[i], 3 + (int)i) == -1 ||
		    fcntl(3 + (int)i, F_SETFD, 0) == -1)
			spawn_fail(rep, STEP_FDS);
	}
	/* Everything else goes: epoll, signalfd, other services' sockets,
	 * the log pipe's read end, the temporary copies. */
	spawn_close_range(first_free, (unsigned)rep - 1);
	spawn_close_range((unsigned)rep + 1, ~0U);

	(void)execve(req->path, req->argv, req->envp);
	spawn_fail(rep, STEP_EXEC);
}

pid_t
spawn_service(const struct spawn_req *req, struct arena *a,
    const char **error_r)
{
	struct spawn_report	 r;
	pid_t			 pid, me = getpid();
	ssize_t			 n;
	int			 p[2];

	if (req->nfds > SPAWN_FDS_MAX) {
		*error_r = "too many sockets for one service";
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		*error_r = arena_printf(a, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		*error_r = arena_printf(a, "fork: %s", strerror(errno));
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid == 0) {
		(void)close(p[0]);
		spawn_child(req, p[1], me);
	}
	(void)close(p[1]);
	do {
		n = read(p[0], &r, sizeof(r));
	} while (n == -1 && errno == EINTR);
	(void)close(p[0]);
	if (n == 0)
		return pid;		/* EOF: the exec closed the pipe */
	if (n != (ssize_t)sizeof(r)) {
		/* Cannot tell (read failed): take it as started; if it is
		 * not, its exit arrives as for any service. */
		log_warn("%s: no word from the child (pid %ld) about its "
		    "exec", req->path, (long)pid);
		return pid;
	}
	if (r.step >= STEP_SETSID && r.step <= STEP_EXEC)
		*error_r = arena_printf(a, "%s: %s: %s", req->path,
		    spawn_step_name[r.step], strerror(r.err));
	else
		*error_r = arena_printf(a, "%s: the child failed before exec",
		    req->path);
	/* It has exited or is about to: reap it here, so that the SIGCHLD
	 * handler never sees a pid it does not know. */
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}
