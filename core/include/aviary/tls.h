/* aviary/tls.h - a small non-blocking TLS server layer (OpenSSL 3) for the
 * login processes: implicit TLS (993, 995) and STARTTLS/STLS.
 *
 * A struct tls_ctx holds the certificate, key and policy; it is created
 * once at startup (before chroot: the key file is read here) and shared
 * by every connection of the process. A struct tls_conn wraps one
 * non-blocking socket that the caller keeps owning (tls_conn_free does not
 * close it) and drives from its ev loop:
 *
 *	tls_handshake, tls_read, tls_write and tls_shutdown return
 *	  > 0	progress (1 for handshake/shutdown, a byte count for I/O);
 *	    0	would block: wait for tls_want(conn) (EV_READ or EV_WRITE;
 *		either call can want either direction, a read may need to
 *		write and a write may need to read);
 *	   -1	error or end of stream; *error_r is a short reason. For a
 *		read, tls_closed(conn) tells a clean close (the peer sent
 *		close_notify) from an error. After -1 only tls_shutdown
 *		(which then returns -1 at once) and tls_conn_free make sense.
 *
 * error_r strings live inside the conn and stay valid until the next call
 * on it. They come from OpenSSL's error queue, reduced to its reason text
 * ("wrong version number", "unsupported protocol"); key material is never
 * formatted into them and this module never logs.
 *
 * After tls_read returns, OpenSSL may still hold decrypted bytes of the
 * record it read: the socket is then not readable and epoll will not
 * wake the caller, so a reader must call tls_read again while
 * tls_pending(conn) > 0 (or before pausing input, remember to).
 *
 * tls_write takes partial writes (one record at a time). After it returns
 * 0, the caller must call it again with at least the same bytes at the
 * front of its buffer (the buffer may move, as a struct buf does; it may
 * also have grown). A zero-length write is a no-op returning 0 with
 * tls_want 0.
 *
 * OpenSSL writes to the socket with write(2): the process must ignore
 * SIGPIPE, as every Aviary daemon does.
 *
 * Policy: minimum TLSv1.2 (or TLSv1.3), server cipher preference, no
 * compression, no renegotiation, no session resumption (no tickets, no
 * cache: login processes are many and short-lived, and a ticket key
 * shared between them would need rotation; a full handshake is cheap
 * next to an IMAP session).
 */
#ifndef AVIARY_TLS_H
#define AVIARY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "aviary/compat.h"

struct arena;
struct tls_ctx;
struct tls_conn;

/* cert_file: PEM, the server certificate, optionally followed by its
 * chain. chain_file (NULL: none) adds intermediate certificates.
 * key_file: the PEM private key, which must match the certificate.
 * min_version: "TLSv1.2" or "TLSv1.3" (NULL: TLSv1.2). ciphers: an
 * OpenSSL cipher list for TLSv1.2 (NULL: OpenSSL's default); ciphersuites:
 * the TLSv1.3 list (NULL: OpenSSL's default). Returns NULL with *error_r
 * from the arena 'a' naming the file or setting at fault. */
struct tls_ctx	*tls_ctx_create(const char *cert_file, const char *key_file,
		    const char *chain_file, const char *min_version,
		    const char *ciphers, const char *ciphersuites,
		    struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* Sets *ctxp to NULL; a NULL *ctxp is fine. Connections hold their own
 * reference, so the ctx may be destroyed before them. */
void		 tls_ctx_destroy(struct tls_ctx **ctxp);

/* A server-side connection over the connected non-blocking socket fd
 * (not owned). Never NULL: allocation failure is fatal. */
struct tls_conn	*tls_conn_new(struct tls_ctx *ctx, int fd);
/* Frees without sending anything (use tls_shutdown first for a clean
 * close). Sets *connp to NULL; a NULL *connp is fine. */
void		 tls_conn_free(struct tls_conn **connp);

/* 1: handshake done; 0: wait for tls_want(); -1: failed. */
int		 tls_handshake(struct tls_conn *conn, const char **error_r)
		    AV_WARN_UNUSED;
/* Bytes read (> 0) into buf[0..n); 0: wait for tls_want() (or n == 0);
 * -1: end of stream or error, see tls_closed(). */
ssize_t		 tls_read(struct tls_conn *conn, void *buf, size_t n,
		    const char **error_r) AV_WARN_UNUSED;
/* Bytes written (> 0, possibly fewer than n); 0: wait for tls_want() (or
 * n == 0, want 0); -1: error. */
ssize_t		 tls_write(struct tls_conn *conn, const void *buf, size_t n,
		    const char **error_r) AV_WARN_UNUSED;
/* Send close_notify. 1: sent (we do not wait for the peer's; the caller
 * closes the socket); 0: wait for tls_want(); -1: the connection had
 * already failed, or the send failed. Before the handshake completed
 * there is nothing to close and it returns 1. */
int		 tls_shutdown(struct tls_conn *conn, const char **error_r)
		    AV_WARN_UNUSED;

/* EV_READ or EV_WRITE after a call returned 0; 0 otherwise. */
unsigned	 tls_want(const struct tls_conn *conn);
/* Decrypted bytes OpenSSL holds that tls_read will return at once. */
size_t		 tls_pending(const struct tls_conn *conn);
/* The peer closed the TLS stream cleanly (close_notify received). */
bool		 tls_closed(const struct tls_conn *conn);
/* The handshake has completed. */
bool		 tls_established(const struct tls_conn *conn);

/* For logs, once established (before: "none"). Borrowed, static or owned
 * by the conn. */
const char	*tls_version_get(const struct tls_conn *conn);	/* "TLSv1.3" */
const char	*tls_cipher_get(const struct tls_conn *conn);
/* The SNI host name the client sent, or NULL. Client-supplied text: the
 * logger escapes it, anything else must treat it as untrusted. */
const char	*tls_sni_get(const struct tls_conn *conn);

/* Development and tests: write a self-signed ECDSA P-256 certificate for
 * common_name (also its DNS subjectAltName), valid 10 years, to
 * cert_path (mode 0644) and its key to key_path (mode 0600). Each file is
 * written to a temporary name and renamed into place. -1 with *error_r
 * from 'a'. */
int		 tls_selfsigned_generate(const char *cert_path,
		    const char *key_path, const char *common_name,
		    struct arena *a, const char **error_r) AV_WARN_UNUSED;

#endif
