/* supervisor.h - private to aviaryd: the service table, listening
 * sockets, spawning, log forwarding and the supervisor's state machine.
 *
 * aviaryd holds no secrets and talks to no client. It stays root (when
 * started as root) only to create sockets with their owners, to start
 * services and to signal them; each service drops to its own user by
 * itself after reading its secrets (DESIGN.md, "Processes and
 * privileges").
 *
 * Modules:
 *   supervisor.c  the services' lifecycle: start, exit, back-off,
 *                 reload (SIGHUP), graceful stop (SIGTERM/SIGINT)
 *   listener.c    listening sockets (UNIX and TCP) aviaryd creates
 *                 and keeps open across service restarts and reloads
 *   spawn.c       fork + exec of one service with its sockets as fds 3..
 *   logfwd.c      daemon mode: the services' stderr, line by line, into
 *                 aviaryd's log (syslog)
 *   daemon.c      daemonizing, standard descriptors, sd_notify
 *
 * Lifetimes: the supervisor owns the current configuration and its
 * arena; a successful reload replaces both. Listeners copy what they
 * need from the configuration (paths are fixed arrays), so they never
 * point into an arena that a reload frees.
 */
#ifndef AVIARY_MASTER_SUPERVISOR_H
#define AVIARY_MASTER_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "aviary/compat.h"
#include "aviary/config.h"

struct arena;
struct ev;

/* ---- listener.c ---------------------------------------------------- */

/* sizeof(sockaddr_un.sun_path); a path must leave room for its NUL. */
#define LISTENER_PATH_MAX	108
#define LISTENER_NAME_MAX	16
/* A TCP spec as configured: "[v6addr%scope]:port" fits with room. */
#define LISTENER_SPEC_MAX	96
/* Suffix of the temporary name a replacement socket is bound at before
 * it is renamed over the old one (reload with a changed mode or owner). */
#define LISTENER_TMP_SUFFIX	".new"

enum listener_kind {
	LISTENER_UNIX,
	LISTENER_TCP,
};

/* One listening socket: a UNIX socket file, or a TCP address.
 *
 * UNIX: 'uid'/'gid' are (uid_t)-1/(gid_t)-1 for "leave as created" (also
 * whenever aviaryd is not root). dev/ino name the socket file aviaryd
 * created, so that it never unlinks a file that someone else put at the
 * path since.
 *
 * TCP: 'spec' is the configured "host:port" / "[v6]:port" (for messages
 * and for sock_tcp_listen), 'addr' the address it binds, which is what
 * identifies the listener: two specs with the same address are the same
 * listener ("127.0.0.1:24" and "127.0.0.1:024"). 'path' is "". */
struct listener {
	enum listener_kind	 kind;
	char		 name[LISTENER_NAME_MAX];	/* AVIARY_LISTEN_FDS key */
	char		 path[LISTENER_PATH_MAX];	/* UNIX */
	char		 spec[LISTENER_SPEC_MAX];	/* TCP */
	struct sockaddr_storage	 addr;			/* TCP */
	socklen_t	 addrlen;			/* TCP */
	unsigned	 mode;
	uid_t		 uid;
	gid_t		 gid;
	int		 fd;		/* -1: not open */
	dev_t		 dev;
	ino_t		 ino;
};

/* Fill *l from the configuration of one UNIX socket (nothing is opened;
 * fd is -1). 'key' names the socket in errors ("auth.client_socket").
 * Resolves owner and group names when running as root. Returns 0, or -1
 * with *error_r from 'a' (relative or too long path, unknown owner). */
int	listener_init(struct listener *l, const char *name, const char *key,
	    const struct aviary_socket_config *s, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* Fill *l from one TCP spec: "addr:port", "[v6addr]:port", or "*:port"
 * / ":port" for every address; numeric addresses only, port 1-65535
 * (nothing is opened; fd is -1). 'key' names the list in errors
 * ("lmtp.listen"); the message quotes the spec. Returns 0, or -1 with
 * *error_r from 'a'. */
int	listener_init_tcp(struct listener *l, const char *name,
	    const char *key, const char *spec, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* UNIX: same path, mode and owner; TCP: same address. An open socket
 * can serve both. */
bool	listener_same(const struct listener *a, const struct listener *b);
/* Same UNIX path or same TCP address: two such cannot coexist. */
bool	listener_same_place(const struct listener *a,
	    const struct listener *b);
/* Open, and (UNIX) the file at l->path is still the socket l created. */
bool	listener_file_is_ours(const struct listener *l);
/* UNIX: create the socket at 'bind_path' (l->path, or a temporary name)
 * with l's mode and owner; sets l->fd, dev, ino. Refuses a path where a
 * live socket answers (another aviaryd); a stale socket file is
 * replaced. TCP: bind and listen on l->spec with SO_REUSEADDR
 * (sock_tcp_listen; 'bind_path' is ignored). Returns 0, or -1 with
 * *error_r from 'a'. */
int	listener_open(struct listener *l, const char *bind_path,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* Close the descriptor (if open). UNIX: if 'unlink_path' is not NULL
 * (l->path, or the temporary name it was bound at) and the socket file
 * there is still the one l created, unlink it. */
void	listener_close(struct listener *l, const char *unlink_path);

/* ---- spawn.c ------------------------------------------------------- */

struct spawn_req {
	const char	 *path;		/* absolute path of the binary */
	char *const	 *argv;
	char *const	 *envp;
	const int	 *fds;		/* become 3, 4, ... in the child */
	size_t		  nfds;
	int		  out_fd;	/* -1: keep stdout/stderr; else dup'd to 1, 2 */
};

/* The environment for a service: ours minus the variables that belong to
 * aviaryd alone (AVIARY_LISTEN_FDS, NOTIFY_SOCKET, systemd's LISTEN_*),
 * plus "AVIARY_LISTEN_FDS=<listen_fds>". From 'a'. */
char	**spawn_env(const char *listen_fds, struct arena *a);
/* fork + exec req->path. The child gets a new session, default signal
 * handling and an empty signal mask, /dev/null as stdin, req->fds as
 * 3.. (without FD_CLOEXEC) and no other descriptor. Returns the pid once
 * the exec has succeeded, or -1 with *error_r from 'a' (fork failed, or
 * what the child could not do; the failed child is already reaped). */
pid_t	spawn_service(const struct spawn_req *req, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;

/* ---- logfwd.c ------------------------------------------------------ */

struct logfwd;

/* A pipe whose write end the services get as stdout and stderr; each
 * line read from it is logged by aviaryd at the level its tag
 * ("warning: ", "error: "...) names. NULL with *error_r on failure. */
struct logfwd	*logfwd_create(struct ev *ev, struct arena *a,
		    const char **error_r) AV_WARN_UNUSED;
int		 logfwd_write_fd(const struct logfwd *lf);
/* Read what is still in the pipe, log it, close both ends, free. */
void		 logfwd_destroy(struct logfwd **lfp);

/* ---- daemon.c ------------------------------------------------------ */

/* Make sure descriptors 0, 1 and 2 are open (on /dev/null if closed),
 * so that no socket ever lands on one of them. 0 or -1 with errno. */
int	daemon_sanitize_stdio(void) AV_WARN_UNUSED;
/* fork (the parent exits 0), setsid, chdir /, stdio on /dev/null.
 * Returns 0 in the daemon, or -1 with *error_r from 'a'. */
int	daemon_detach(struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* sd_notify(3) without libsystemd: send 'state' ("READY=1", ...) to
 * $NOTIFY_SOCKET if it is set. Failures are logged at debug level. */
void	daemon_notify(const char *state);

/* ---- supervisor.c -------------------------------------------------- */

struct supervisor;

/* Write the absolute form of 'path' (joined to the working directory if
 * relative; symlinks are kept) into out. 0, or -1 if it does not fit. */
int	supervisor_abspath(const char *path, char *out, size_t outsz)
	    AV_WARN_UNUSED;
/* The directory of the running executable (/proc/self/exe). 0 or -1. */
int	supervisor_exe_dir(char *out, size_t outsz) AV_WARN_UNUSED;
/* aviary_config_load plus what aviaryd needs on top, for each enabled
 * service: distinct absolute socket paths that fit a sockaddr_un, TCP
 * specs that parse and bind distinct addresses, resolvable owners and a
 * non-root service user when running as root, an executable binary in
 * the libexec directory ('exe_dir' when aviaryd.libexec_dir is empty).
 * Returns 0, or -1 with *error_r from 'a'. */
int	supervisor_config_load(struct aviary_config *cfg, const char *path,
	    const char *exe_dir, struct arena *a, const char **error_r)
	    AV_WARN_UNUSED;
/* Take over a loaded configuration and its arena (*cfg_arena_p becomes
 * NULL), block the signals the loop handles and create every listening
 * socket. 'config_path' must be absolute: the services get it and
 * aviaryd may have left its working directory. Returns NULL with
 * *error_r (from 'ea') if a socket cannot be created. */
struct supervisor *supervisor_create(const char *config_path,
		    const char *exe_dir, const struct aviary_config *cfg,
		    struct arena **cfg_arena_p, bool foreground,
		    struct arena *ea, const char **error_r) AV_WARN_UNUSED;
/* Start the services and run until SIGTERM/SIGINT has stopped them all.
 * Returns the exit status for aviaryd (0 after a graceful stop). */
int	supervisor_run(struct supervisor *sup) AV_WARN_UNUSED;
/* Close the sockets (unlinking the files aviaryd created) and free. */
void	supervisor_destroy(struct supervisor **supp);

#endif
