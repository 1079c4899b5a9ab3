/* listener.c - the listening sockets aviaryd owns, UNIX and TCP; see
 * supervisor.h.
 *
 * aviaryd creates every service socket itself and keeps it open while
 * services come and go: a client that connects while a service is being
 * restarted waits in the listen backlog instead of getting ECONNREFUSED
 * or ENOENT (the s6-ipcserver / systemd socket-activation idea). The
 * files it unlinks are only the ones it created: the device and inode
 * recorded at creation must still be at the path.
 *
 * TCP listeners are bound by sock_tcp_listen (SO_REUSEADDR). Their specs
 * are parsed here first, more strictly than sock_tcp_listen does (port
 * 1-65535 in decimal, IPv6 in brackets), so that a bad one is a
 * configuration error (exit 78) rather than a failure to bind, and so
 * that two specs for one address are seen as the same listener. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
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

static int
listener_reset(struct listener *l, enum listener_kind kind, const char *name,
    const char *key, struct arena *a, const char **error_r)
{
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->fd = -1;
	l->uid = (uid_t)-1;
	l->gid = (gid_t)-1;
	if (strlen(name) >= sizeof(l->name)) {
		*error_r = arena_printf(a, "%s: socket name '%s' too long", key,
		    name);
		return -1;
	}
	memcpy(l->name, name, strlen(name) + 1);
	return 0;
}

int
listener_init(struct listener *l, const char *name, const char *key,
    const struct aviary_socket_config *s, struct arena *a,
    const char **error_r)
{
	const char	*why;

	if (listener_reset(l, LISTENER_UNIX, name, key, a, error_r) == -1)
		return -1;
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

/* The port of a spec: 1-65535 in decimal, nothing else (getaddrinfo
 * would take "65536" as port 0). */
static const char *
listener_check_port(const char *port)
{
	const char	*p;
	unsigned long	 v = 0;

	if (port[0] == '\0')
		return "no port";
	for (p = port; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return "the port must be a number from 1 to 65535";
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return "the port must be a number from 1 to 65535";
	}
	return v == 0 ? "the port must be a number from 1 to 65535" : NULL;
}

int
listener_init_tcp(struct listener *l, const char *name, const char *key,
    const char *spec, struct arena *a, const char **error_r)
{
	struct addrinfo	 hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo	*res = NULL;
	const char	*host, *port, *end, *why = NULL;
	int		 r;

	if (listener_reset(l, LISTENER_TCP, name, key, a, error_r) == -1)
		return -1;
	if (strlen(spec) >= sizeof(l->spec)) {
		*error_r = arena_printf(a, "%s: '%s': too long", key, spec);
		return -1;
	}
	memcpy(l->spec, spec, strlen(spec) + 1);
	/* Split as sock_tcp_listen does. */
	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL || end[1] != ':' || end == spec + 1) {
			why = "expected [IPv6 address]:port";
			goto bad;
		}
		host = arena_strndup(a, spec + 1, (size_t)(end - spec - 1));
		port = end + 2;
	} else {
		end = strrchr(spec, ':');
		if (end == NULL) {
			why = "expected address:port";
			goto bad;
		}
		host = arena_strndup(a, spec, (size_t)(end - spec));
		if (strchr(host, ':') != NULL) {
			why = "an IPv6 address goes in brackets: [address]:port";
			goto bad;
		}
		port = end + 1;
	}
	if ((why = listener_check_port(port)) != NULL)
		goto bad;
	if (strcmp(host, "*") == 0 || host[0] == '\0')
		host = NULL;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		why = r == EAI_NONAME ? arena_printf(a, "'%s' is not a numeric "
		    "IP address (names are not resolved)", host) :
		    gai_strerror(r);
		goto bad;
	}
	/* The first result, as sock_tcp_listen binds it. */
	if (res->ai_addrlen > sizeof(l->addr)) {
		freeaddrinfo(res);
		why = "address too long";
		goto bad;
	}
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	*error_r = arena_printf(a, "%s: '%s': %s", key, spec, why);
	return -1;
}

static bool
listener_same_addr(const struct listener *a, const struct listener *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->addr.ss_family != b->addr.ss_family)
		return false;
	switch (a->addr.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->addr;
		b4 = (const struct sockaddr_in *)&b->addr;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->addr;
		b6 = (const struct sockaddr_in6 *)&b->addr;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	default:
		return a->addrlen == b->addrlen &&
		    memcmp(&a->addr, &b->addr, a->addrlen) == 0;
	}
}

bool
listener_same_place(const struct listener *a, const struct listener *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == LISTENER_TCP)
		return listener_same_addr(a, b);
	return strcmp(a->path, b->path) == 0;
}

bool
listener_same(const struct listener *a, const struct listener *b)
{
	if (!listener_same_place(a, b))
		return false;
	if (a->kind == LISTENER_TCP)
		return true;
	return a->mode == b->mode && a->uid == b->uid && a->gid == b->gid;
}

static bool
listener_file_is(const struct listener *l, const char *path)
{
	struct stat	 sb;

	return l->kind == LISTENER_UNIX && l->fd != -1 &&
	    lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == l->dev && sb.st_ino == l->ino;
}

bool
listener_file_is_ours(const struct listener *l)
{
	if (l->kind == LISTENER_TCP)
		return l->fd != -1;
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

	if (l->kind == LISTENER_TCP) {
		if ((fd = sock_tcp_listen(l->spec, a, error_r)) == -1)
			return -1;
		if (fstat(fd, &sb) == 0) {
			l->dev = sb.st_dev;
			l->ino = sb.st_ino;
		}
		l->fd = fd;
		return 0;
	}
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
