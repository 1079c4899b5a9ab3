/* listener.c - the UNIX listening sockets aviaryd owns; see supervisor.h.
 *
 * aviaryd creates every service socket itself and keeps it open while
 * services come and go: a client that connects while a service is being
 * restarted waits in the listen backlog instead of getting ECONNREFUSED
 * or ENOENT (the s6-ipcserver / systemd socket-activation idea). The
 * files it unlinks are only the ones it created: the device and inode
 * recorded at creation must still be at the path. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/sock.h"
#include "supervisor.h"

_Static_assert(LISTENER_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
    "LISTENER_PATH_MAX must be the size of sun_path");

int
listener_init(struct listener *l, const char *name, const char *key,
    const struct aviary_socket_config *s, struct arena *a,
    const char **error_r)
{
	const char	*why;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->uid = (uid_t)-1;
	l->gid = (gid_t)-1;
	if (strlen(name) >= sizeof(l->name)) {
		*error_r = arena_printf(a, "%s: socket name '%s' too long", key,
		    name);
		return -1;
	}
	memcpy(l->name, name, strlen(name) + 1);
	if (s->path[0] != '/') {
		/* aviaryd runs from "/" as a daemon, and the service must
		 * agree with it on where the socket is. */
		*error_r = arena_printf(a, "%s.path: must be an absolute path "
		    "(is '%s')", key, s->path);
		return -1;
	}
	if (strlen(s->path) >= sizeof(l->path)) {
		*error_r = arena_printf(a, "%s.path: longer than the %zu bytes "
		    "a UNIX socket path may have", key, sizeof(l->path) - 1);
		return -1;
	}
	memcpy(l->path, s->path, strlen(s->path) + 1);
	l->mode = s->mode;
	/* Owner names only apply when we may chown (root), as in
	 * aviary-auth when it binds its sockets itself. */
	if (geteuid() == 0 &&
	    sock_owner(s->user, s->group, &l->uid, &l->gid, a, &why) == -1) {
		*error_r = arena_printf(a, "%s: %s", key, why);
		return -1;
	}
	return 0;
}

bool
listener_same(const struct listener *a, const struct listener *b)
{
	return strcmp(a->path, b->path) == 0 && a->mode == b->mode &&
	    a->uid == b->uid && a->gid == b->gid;
}

static bool
listener_file_is(const struct listener *l, const char *path)
{
	struct stat	 sb;

	return l->fd != -1 && lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == l->dev && sb.st_ino == l->ino;
}

bool
listener_file_is_ours(const struct listener *l)
{
	return listener_file_is(l, l->path);
}

/* Does a process accept connections at 'path'? A non-blocking connect
 * tells without waiting: success or EAGAIN (backlog full) means yes,
 * ECONNREFUSED means a stale file that nobody listens on. The probe
 * connection, if any, is closed at once; the other side sees EOF. */
static bool
listener_path_live(const char *path)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	int			 fd, r;
	bool			 live;

	if (strlen(path) >= sizeof(sun.sun_path))
		return false;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return false;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	live = r == 0 || errno == EAGAIN || errno == EINPROGRESS;
	(void)close(fd);
	return live;
}

int
listener_open(struct listener *l, const char *bind_path, struct arena *a,
    const char **error_r)
{
	struct stat	 sb;
	int		 fd;

	if (lstat(bind_path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    listener_path_live(bind_path)) {
		*error_r = arena_printf(a, "%s: a running process already "
		    "listens there (another aviaryd, or a service started by "
		    "hand?)", bind_path);
		return -1;
	}
	fd = sock_unix_listen(bind_path, l->mode, l->uid, l->gid, a, error_r);
	if (fd == -1)
		return -1;
	if (lstat(bind_path, &sb) == -1) {
		*error_r = arena_printf(a, "%s: vanished after bind: %s",
		    bind_path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	l->fd = fd;
	l->dev = sb.st_dev;
	l->ino = sb.st_ino;
	return 0;
}

void
listener_close(struct listener *l, const char *unlink_path)
{
	if (l->fd == -1)
		return;
	if (unlink_path != NULL && listener_file_is(l, unlink_path))
		(void)unlink(unlink_path);
	(void)close(l->fd);
	l->fd = -1;
}
