/* aviary/tstream.h - one client connection of a login or mail-access
 * process (POP3, IMAP): a non-blocking socket, plain or TLS (implicit, or
 * started later by STLS/STARTTLS), with a bounded output buffer and
 * back-pressure, driven by the event loop.
 *
 * The owner reads with tstream_read() when on_input tells it to, queues
 * replies with tstream_write()/tstream_printf() and calls tstream_flush()
 * when it has produced a batch (after processing input, say). Output
 * that the socket does not take at once is sent when it becomes
 * writable; when the queue drains below the low-water mark, on_drain
 * runs, so that a long RETR or FETCH can produce its next chunk.
 *
 * Callbacks run from the loop only, never from inside a tstream_*()
 * call the owner made, so the owner may destroy the stream from any of
 * them (and must not use it afterwards):
 *	on_input	bytes may be readable: call tstream_read() until it
 *			returns 0 (or pause input). Not called while input
 *			is paused; when input is resumed with decrypted bytes
 *			still held by TLS, it is called again from the loop.
 *	on_drain	the output queue went below TSTREAM_LOW_WATER after
 *			having been above it (or emptied). May be NULL.
 *	on_close	the peer closed, an I/O or TLS error, or a close
 *			requested with tstream_close_after_flush() completed;
 *			'why' is NULL for an orderly end, otherwise a short
 *			phrase for the log. The owner must destroy the stream.
 *
 * STARTTLS: the owner queues its "go ahead" reply and calls
 * tstream_starttls(); the handshake starts once that reply is on the
 * wire. Plaintext input the client sent after the command is discarded
 * (tstream_starttls returns how many bytes: a client that pipelines
 * after STARTTLS is attacking the command injection hole of RFC 3207
 * 6.2, CVE-2011-0411).
 *
 * Memory: a stream holds no buffer while idle; output grows up to the
 * ceiling given at creation (then tstream_write fails: the caller treats
 * it as a client that does not read).
 */
#ifndef AVIARY_TSTREAM_H
#define AVIARY_TSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "aviary/compat.h"

struct ev;
struct tls_ctx;
struct tstream;

/* Output queue levels: above HIGH the owner should stop producing (and
 * pause input); on_drain fires when it gets below LOW. */
#define TSTREAM_HIGH_WATER	(256 * 1024)
#define TSTREAM_LOW_WATER	(64 * 1024)

struct tstream_cbs {
	void	(*on_input)(void *ctx);
	void	(*on_drain)(void *ctx);
	void	(*on_close)(void *ctx, const char *why);
};

/* Take over the connected non-blocking socket fd (closed by
 * tstream_free). tls: start an implicit-TLS handshake at once (NULL:
 * plain). out_max: ceiling of the output queue. NULL (errno set) if
 * epoll refuses the fd; fd is then closed. */
struct tstream	*tstream_new(struct ev *ev, int fd, struct tls_ctx *tls,
		    size_t out_max, const struct tstream_cbs *cbs, void *ctx)
		    AV_WARN_UNUSED;
/* Close the socket and free everything, without flushing. Sets *sp to
 * NULL; NULL is fine. */
void		 tstream_free(struct tstream **sp);

/* Bytes read (> 0), 0 if nothing more is available now (or while the
 * TLS handshake runs), -1 if the stream has ended: on_close will run
 * from the loop, the caller just stops reading. */
ssize_t		 tstream_read(struct tstream *s, void *p, size_t n)
		    AV_WARN_UNUSED;
/* Queue output. 0, or -1 if the queue's ceiling would be passed (nothing
 * queued). */
int		 tstream_write(struct tstream *s, const void *p, size_t n)
		    AV_WARN_UNUSED;
int		 tstream_printf(struct tstream *s, const char *fmt, ...)
		    AV_PRINTFLIKE(2, 3) AV_WARN_UNUSED;
/* Send what the socket takes now; the rest goes when it is writable.
 * Errors are reported through on_close. */
void		 tstream_flush(struct tstream *s);
/* Bytes queued and not yet sent. */
size_t		 tstream_pending(const struct tstream *s);

/* Stop or resume calling on_input (back-pressure, or while an answer
 * from aviary-auth is awaited). */
void		 tstream_pause_input(struct tstream *s, bool paused);
/* Start TLS after the queued output is sent. Returns the number of
 * buffered plaintext bytes discarded (see above), or -1 if TLS is
 * already on or being started. */
ssize_t		 tstream_starttls(struct tstream *s, struct tls_ctx *tls)
		    AV_WARN_UNUSED;
/* Send the queued output (and a TLS close_notify), then close: on_close
 * runs with why == NULL. No more input is delivered. */
void		 tstream_close_after_flush(struct tstream *s);

/* TLS is established, or being negotiated. */
bool		 tstream_is_tls(const struct tstream *s);
bool		 tstream_tls_started(const struct tstream *s);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for logs, or "plain". From the
 * stream; valid until the next call on it. */
const char	*tstream_tls_desc(struct tstream *s);
int		 tstream_fd(const struct tstream *s);

#endif
