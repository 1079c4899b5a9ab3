/* aviary/sock.h - listening and connecting sockets, the way every Aviary
 * daemon needs them: non-blocking, close-on-exec, UNIX sockets created
 * with an explicit mode and owner (for Postfix's private/ directory),
 * and peer credentials for access checks. Functions return a file
 * descriptor or -1 with *error_r from the arena 'a'.
 */
#ifndef AVIARY_SOCK_H
#define AVIARY_SOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "aviary/compat.h"

struct arena;

/* Resolve "user" and "group" names ("" = leave unchanged: -1). */
int	sock_owner(const char *user, const char *group, uid_t *uid_r,
	    gid_t *gid_r, struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* Bind and listen on a UNIX socket. A stale socket file at the path is
 * replaced; any other kind of file is an error. The mode and owner are
 * set before listen(), so no client can connect in between. */
int	sock_unix_listen(const char *path, unsigned mode, uid_t uid, gid_t gid,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* "host:port" or "[v6]:port" (host may be '*'). */
int	sock_tcp_listen(const char *spec, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
int	sock_unix_connect(const char *path) AV_WARN_UNUSED;	/* blocking */
/* accept4 non-blocking and close-on-exec; -1 with errno (EAGAIN: none). */
int	sock_accept(int lfd) AV_WARN_UNUSED;
int	sock_peer_uid(int fd, uid_t *uid_r, pid_t *pid_r) AV_WARN_UNUSED;
int	sock_set_nonblock(int fd, bool on) AV_WARN_UNUSED;
/* Write as much of 'out' as the non-blocking fd takes, consuming what
 * was written. 0: all written or the socket is full (out->len says
 * which); -1 with errno on error (EPIPE/ECONNRESET: the peer left). */
struct buf;
int	sock_flush(int fd, struct buf *out) AV_WARN_UNUSED;

#endif
