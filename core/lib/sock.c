/* sock.c - sockets for the daemons; see aviary/sock.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/sock.h"

#define SOCK_BACKLOG	511

int
sock_owner(const char *user, const char *group, uid_t *uid_r, gid_t *gid_r,
    struct arena *a, const char **error_r)
{
	struct passwd	*pw;
	struct group	*gr;

	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (user != NULL && user[0] != '\0') {
		if ((pw = getpwnam(user)) == NULL) {
			*error_r = arena_printf(a, "unknown user '%s'", user);
			return -1;
		}
		*uid_r = pw->pw_uid;
	}
	if (group != NULL && group[0] != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			*error_r = arena_printf(a, "unknown group '%s'", group);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

int
sock_unix_listen(const char *path, unsigned mode, uid_t uid, gid_t gid,
    struct arena *a, const char **error_r)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 sb;
	int			 fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = arena_printf(a, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			*error_r = arena_printf(a, "%s: exists and is not a "
			    "socket", path);
			return -1;
		}
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*error_r = arena_printf(a, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*error_r = arena_printf(a, "%s: bind: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (chmod(path, mode) == -1 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(path, uid, gid) == -1)) {
		*error_r = arena_printf(a, "%s: chmod/chown: %s", path,
		    strerror(errno));
		(void)unlink(path);
		goto fail;
	}
	if (listen(fd, SOCK_BACKLOG) == -1) {
		*error_r = arena_printf(a, "%s: listen: %s", path,
		    strerror(errno));
		(void)unlink(path);
		goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	return -1;
}

int
sock_tcp_listen(const char *spec, struct arena *a, const char **error_r)
{
	struct addrinfo	 hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo	*res = NULL;
	const char	*host, *port, *colon;
	int		 fd = -1, one = 1, r;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':') {
			*error_r = arena_printf(a, "%s: expected [addr]:port",
			    spec);
			return -1;
		}
		host = arena_strndup(a, spec + 1, (size_t)(end - spec - 1));
		port = end + 2;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL) {
			*error_r = arena_printf(a, "%s: expected host:port",
			    spec);
			return -1;
		}
		host = arena_strndup(a, spec, (size_t)(colon - spec));
		port = colon + 1;
	}
	if (strcmp(host, "*") == 0 || host[0] == '\0')
		host = NULL;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		*error_r = arena_printf(a, "%s: %s", spec, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, SOCK_BACKLOG) == -1) {
		*error_r = arena_printf(a, "%s: %s", spec, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
sock_unix_connect(const char *path)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	int			 fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
sock_accept(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int
sock_peer_uid(int fd, uid_t *uid_r, pid_t *pid_r)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	*uid_r = cred.uid;
	if (pid_r != NULL)
		*pid_r = cred.pid;
	return 0;
}

int
sock_set_nonblock(int fd, bool on)
{
	int	 fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int
sock_flush(int fd, struct buf *out)
{
	ssize_t	 n;

	while (out->len > 0) {
		n = write(fd, out->data, out->len);
		if (n > 0) {
			buf_consume(out, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
