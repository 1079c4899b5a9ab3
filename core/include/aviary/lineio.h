/* aviary/lineio.h - reading LF-terminated lines from a non-blocking fd
 * into a bounded buf, for the line protocols between our processes.
 *
 * lineio_read() reads until the fd would block and calls on_line for
 * every complete line (without its LF; a CR before it is kept: callers
 * that speak CRLF strip it). on_line returns 0 to go on, or nonzero to
 * stop at once: the caller may have closed the connection and freed the
 * buffer, so lineio touches nothing after that. A line longer than the
 * buffer's ceiling is an error, reported as LINEIO_TOO_LONG. */
#ifndef AVIARY_LINEIO_H
#define AVIARY_LINEIO_H

#include "aviary/compat.h"
#include "aviary/str.h"

struct buf;

enum lineio_status {
	LINEIO_AGAIN = 1,	/* everything available was read */
	LINEIO_EOF = 0,		/* the peer closed the connection */
	LINEIO_ERROR = -1,	/* read failed; errno says why */
	LINEIO_TOO_LONG = -2,	/* a line does not fit in the buffer */
	LINEIO_STOPPED = -3,	/* on_line asked to stop */
};

int	lineio_read(int fd, struct buf *in,
	    int (*on_line)(void *ctx, struct str line), void *ctx)
	    AV_WARN_UNUSED;

#endif
