/* lineio.c - line reading over a non-blocking fd; see aviary/lineio.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "aviary/buf.h"
#include "aviary/lineio.h"

static int
lineio_read_chunks(int fd, struct buf *in, int (*on_line)(void *, struct str),
    void *ctx, char *chunk, size_t chunksz)
{
	char	*lf;
	ssize_t	 n;
	size_t	 len, room;

	for (;;) {
		/* Never read more than fits: several short lines arriving in
		 * one read must not look like one over-long line. */
		room = in->max - in->len;
		if (room == 0)
			return LINEIO_TOO_LONG;
		n = read(fd, chunk, room < chunksz ? room : chunksz);
		if (n == 0)
			return LINEIO_EOF;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return LINEIO_AGAIN;
			return LINEIO_ERROR;
		}
		if (buf_append(in, chunk, (size_t)n) != 0)
			return LINEIO_TOO_LONG;
		while ((lf = memchr(in->data, '\n', in->len)) != NULL) {
			len = (size_t)(lf - in->data);
			if (on_line(ctx, (struct str){ in->data, len }) != 0)
				return LINEIO_STOPPED;
			buf_consume(in, len + 1);
		}
	}
}

int
lineio_read(int fd, struct buf *in, int (*on_line)(void *, struct str),
    void *ctx)
{
	char	 chunk[4096];
	int	 r;

	r = lineio_read_chunks(fd, in, on_line, ctx, chunk, sizeof(chunk));
	/* The bytes may be a SASL exchange: leave no copy on the stack. */
	explicit_bzero(chunk, sizeof(chunk));
	return r;
}
