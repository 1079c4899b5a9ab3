/* daemon.c - becoming a daemon, and telling systemd how we are; see
 * supervisor.h.
 *
 * sd_notify is a datagram of "KEY=VALUE" lines to the UNIX socket named
 * by $NOTIFY_SOCKET (a path, or an abstract name written with a leading
 * '@'); see sd_notify(3). It is a few lines, so aviaryd does not link
 * libsystemd for it. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/log.h"
#include "supervisor.h"

int
daemon_sanitize_stdio(void)
{
	struct stat	 sb;
	int		 fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fstat(fd, &sb) == 0 || errno != EBADF)
			continue;
		/* open returns the lowest free descriptor: this one. */
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

int
daemon_detach(struct arena *a, const char **error_r)
{
	pid_t	 pid;
	int	 null;

	pid = fork();
	if (pid == -1) {
		*error_r = arena_printf(a, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);	/* the sockets stay with the daemon */
	if (setsid() == -1) {
		*error_r = arena_printf(a, "setsid: %s", strerror(errno));
		return -1;
	}
	if (chdir("/") == -1) {
		*error_r = arena_printf(a, "chdir /: %s", strerror(errno));
		return -1;
	}
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1 || dup2(null, 2) == -1) {
		*error_r = arena_printf(a, "/dev/null: %s", strerror(errno));
		return -1;
	}
	(void)close(null);
	return 0;
}

void
daemon_notify(const char *state)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if (path == NULL || path[0] == '\0')
		return;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen < 2 ||
	    plen >= sizeof(sun.sun_path)) {
		log_debug("NOTIFY_SOCKET: unusable address");
		return;
	}
	memcpy(sun.sun_path, path, plen);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_debug("NOTIFY_SOCKET: socket: %m");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_debug("NOTIFY_SOCKET: %s: %m", path);
	(void)close(fd);
}
