/* tls.c - non-blocking TLS server connections over OpenSSL 3; see
 * aviary/tls.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aviary/arena.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/tls.h"

#define TLS_ERR_MAX		160
#define TLS_CERT_DAYS		3650

struct tls_ctx {
	SSL_CTX		*ssl_ctx;
};

struct tls_conn {
	SSL		*ssl;
	unsigned	 want;		/* EV_READ/EV_WRITE after a 0 */
	bool		 established;
	bool		 closed;	/* close_notify received */
	bool		 failed;	/* fatal error: no more SSL calls */
	char		 err[TLS_ERR_MAX];
};

/* The reason of the first error in OpenSSL's queue (the innermost: a
 * fopen failure comes before the PEM error it causes), then the queue is
 * emptied so the next operation starts clean. Reason text only: it never
 * contains key bytes. */
static void
tls_err_take(char *dst, size_t size, const char *fallback)
{
	unsigned long	 e;
	const char	*reason;

	e = ERR_get_error();
	reason = e == 0 ? NULL : ERR_reason_error_string(e);
	/* fopen and friends record errno as the reason, without text. */
	if (e != 0 && ERR_SYSTEM_ERROR(e))
		reason = strerror(ERR_GET_REASON(e));
	if (reason != NULL)
		(void)snprintf(dst, size, "%s", reason);
	else if (e != 0)
		(void)snprintf(dst, size, "%s (error %lx)", fallback, e);
	else
		(void)snprintf(dst, size, "%s", fallback);
	ERR_clear_error();
}

static const char *
ctx_err(struct arena *a, const char *what, const char *arg)
{
	char	 reason[TLS_ERR_MAX];

	tls_err_take(reason, sizeof(reason), "failed");
	if (arg != NULL)
		return arena_printf(a, "%s %s: %s", what, arg, reason);
	return arena_printf(a, "%s: %s", what, reason);
}

/* Add every certificate of a PEM file to the chain sent after ours. */
static int
ctx_load_chain(SSL_CTX *sc, const char *path, struct arena *a,
    const char **error_r)
{
	BIO	*bio;
	X509	*x;
	int	 n = 0, ret = -1;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		*error_r = ctx_err(a, "chain_file", path);
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		/* add0 takes ownership on success only */
		if (SSL_CTX_add0_chain_cert(sc, x) != 1) {
			X509_free(x);
			*error_r = ctx_err(a, "chain_file", path);
			goto out;
		}
		n++;
	}
	/* The loop ends at EOF (PEM "no start line") or on a broken block. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    n == 0) {
		*error_r = n == 0 ? arena_printf(a, "chain_file %s: no "
		    "certificate found", path) : ctx_err(a, "chain_file", path);
		goto out;
	}
	ERR_clear_error();
	ret = 0;
out:
	BIO_free(bio);
	return ret;
}

struct tls_ctx *
tls_ctx_create(const char *cert_file, const char *key_file,
    const char *chain_file, const char *min_version, const char *ciphers,
    const char *ciphersuites, struct arena *a, const char **error_r)
{
	struct tls_ctx	*ctx = NULL;
	SSL_CTX		*sc;
	int		 minv;

	ERR_clear_error();
	if (min_version == NULL || strcmp(min_version, "TLSv1.2") == 0)
		minv = TLS1_2_VERSION;
	else if (strcmp(min_version, "TLSv1.3") == 0)
		minv = TLS1_3_VERSION;
	else {
		*error_r = arena_printf(a, "min_version '%s': expected TLSv1.2 "
		    "or TLSv1.3", min_version);
		return NULL;
	}
	if (cert_file == NULL || key_file == NULL) {
		*error_r = arena_strdup(a, "cert_file and key_file are needed");
		return NULL;
	}
	if ((sc = SSL_CTX_new(TLS_server_method())) == NULL) {
		*error_r = ctx_err(a, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(sc, minv) != 1) {
		*error_r = ctx_err(a, "min_version", min_version);
		goto fail;
	}
	/* Renegotiation is a DoS lever and a source of CVEs; compression
	 * is CRIME. Tickets and the cache are off: see tls.h. */
	SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(sc, 0);
	SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
	/* Partial writes and a moving buffer suit a struct buf output
	 * queue; released buffers save ~34 KiB per idle IMAP connection. */
	SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (ciphers != NULL && SSL_CTX_set_cipher_list(sc, ciphers) != 1) {
		*error_r = ctx_err(a, "ciphers", ciphers);
		goto fail;
	}
	if (ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(sc, ciphersuites) != 1) {
		*error_r = ctx_err(a, "ciphersuites", ciphersuites);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(sc, cert_file) != 1) {
		*error_r = ctx_err(a, "cert_file", cert_file);
		goto fail;
	}
	if (chain_file != NULL && ctx_load_chain(sc, chain_file, a,
	    error_r) < 0)
		goto fail;
	if (SSL_CTX_use_PrivateKey_file(sc, key_file, SSL_FILETYPE_PEM) != 1) {
		*error_r = ctx_err(a, "key_file", key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(sc) != 1) {
		*error_r = ctx_err(a, "key_file", key_file);
		goto fail;
	}
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl_ctx = sc;
	return ctx;
fail:
	SSL_CTX_free(sc);
	ERR_clear_error();
	return NULL;
}

void
tls_ctx_destroy(struct tls_ctx **ctxp)
{
	struct tls_ctx	*ctx = *ctxp;

	if (ctx == NULL)
		return;
	*ctxp = NULL;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

struct tls_conn *
tls_conn_new(struct tls_ctx *ctx, int fd)
{
	struct tls_conn	*conn;

	conn = xcalloc(1, sizeof(*conn));
	/* Both fail only when OpenSSL cannot allocate: fatal, as mem.h. */
	if ((conn->ssl = SSL_new(ctx->ssl_ctx)) == NULL ||
	    SSL_set_fd(conn->ssl, fd) != 1)
		log_panic("TLS: cannot set up a connection: out of memory");
	SSL_set_accept_state(conn->ssl);
	return conn;
}

void
tls_conn_free(struct tls_conn **connp)
{
	struct tls_conn	*conn = *connp;

	if (conn == NULL)
		return;
	*connp = NULL;
	SSL_free(conn->ssl);
	free(conn);
}

/* Classify the result r of an SSL_* call: 0 with conn->want set for
 * would-block, -1 with conn->err otherwise. */
static int
conn_result(struct tls_conn *conn, int r, const char **error_r)
{
	int	 saved_errno = errno;

	switch (SSL_get_error(conn->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		conn->want = EV_READ;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		conn->want = EV_WRITE;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		conn->closed = true;
		(void)snprintf(conn->err, sizeof(conn->err),
		    "connection closed by peer");
		break;
	case SSL_ERROR_SYSCALL:
		/* OpenSSL 3 reports EOF without close_notify as an
		 * SSL_ERROR_SSL; SYSCALL with an empty queue is errno. */
		if (ERR_peek_error() != 0)
			tls_err_take(conn->err, sizeof(conn->err), "I/O error");
		else if (saved_errno != 0)
			(void)snprintf(conn->err, sizeof(conn->err), "%s",
			    strerror(saved_errno));
		else
			(void)snprintf(conn->err, sizeof(conn->err),
			    "connection closed by peer");
		conn->failed = true;
		break;
	default:
		tls_err_take(conn->err, sizeof(conn->err), "TLS error");
		conn->failed = true;
		break;
	}
	ERR_clear_error();
	conn->want = 0;
	*error_r = conn->err;
	return -1;
}

static bool
conn_check_usable(struct tls_conn *conn, const char **error_r)
{
	conn->want = 0;
	if (conn->failed || conn->closed) {
		if (conn->err[0] == '\0')
			(void)snprintf(conn->err, sizeof(conn->err),
			    "connection failed");
		*error_r = conn->err;
		return false;
	}
	ERR_clear_error();
	errno = 0;
	return true;
}

int
tls_handshake(struct tls_conn *conn, const char **error_r)
{
	int	 r;

	if (conn->established)
		return 1;
	if (!conn_check_usable(conn, error_r))
		return -1;
	r = SSL_do_handshake(conn->ssl);
	if (r == 1) {
		conn->established = true;
		return 1;
	}
	if (conn_result(conn, r, error_r) == 0)
		return 0;
	/* A close during the handshake is an aborted handshake. */
	conn->closed = false;
	conn->failed = true;
	return -1;
}

ssize_t
tls_read(struct tls_conn *conn, void *buf, size_t n, const char **error_r)
{
	size_t	 got = 0;
	int	 r;

	if (!conn_check_usable(conn, error_r))
		return -1;
	if (n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	r = SSL_read_ex(conn->ssl, buf, n, &got);
	if (r == 1) {
		if (SSL_is_init_finished(conn->ssl))
			conn->established = true;
		return (ssize_t)got;
	}
	return conn_result(conn, r, error_r);
}

ssize_t
tls_write(struct tls_conn *conn, const void *buf, size_t n,
    const char **error_r)
{
	size_t	 done = 0;
	int	 r;

	if (!conn_check_usable(conn, error_r))
		return -1;
	if (n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	r = SSL_write_ex(conn->ssl, buf, n, &done);
	if (r == 1) {
		if (SSL_is_init_finished(conn->ssl))
			conn->established = true;
		return (ssize_t)done;
	}
	if (conn_result(conn, r, error_r) == 0)
		return 0;
	/* A close_notify seen while writing does not make writing clean. */
	conn->failed = true;
	return -1;
}

int
tls_shutdown(struct tls_conn *conn, const char **error_r)
{
	int	 r;

	conn->want = 0;
	if (conn->failed) {
		if (conn->err[0] == '\0')
			(void)snprintf(conn->err, sizeof(conn->err),
			    "connection failed");
		*error_r = conn->err;
		return -1;
	}
	/* Nothing to close before the handshake: OpenSSL would refuse
	 * ("shutdown while in init") and the peer expects nothing. */
	if (!SSL_is_init_finished(conn->ssl))
		return 1;
	ERR_clear_error();
	errno = 0;
	r = SSL_shutdown(conn->ssl);
	/* 0: our close_notify is out, the peer's not yet seen; 1: both.
	 * Either is enough for a server about to close the socket. */
	if (r >= 0)
		return 1;
	if (conn_result(conn, r, error_r) == 0)
		return 0;
	conn->failed = true;
	return -1;
}

unsigned
tls_want(const struct tls_conn *conn)
{
	return conn->want;
}

size_t
tls_pending(const struct tls_conn *conn)
{
	int	 n;

	if (conn->failed)
		return 0;
	n = SSL_pending(conn->ssl);
	return n > 0 ? (size_t)n : 0;
}

bool
tls_closed(const struct tls_conn *conn)
{
	return conn->closed;
}

bool
tls_established(const struct tls_conn *conn)
{
	return conn->established;
}

const char *
tls_version_get(const struct tls_conn *conn)
{
	if (!conn->established)
		return "none";
	return SSL_get_version(conn->ssl);
}

const char *
tls_cipher_get(const struct tls_conn *conn)
{
	const char	*name;

	if (!conn->established)
		return "none";
	name = SSL_get_cipher_name(conn->ssl);
	return name != NULL ? name : "none";
}

const char *
tls_sni_get(const struct tls_conn *conn)
{
	return SSL_get_servername(conn->ssl, TLSEXT_NAMETYPE_host_name);
}

/* --- self-signed certificates for development and tests --- */

static int
x509_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* Write PEM output to path through "path.tmp" (created exclusively with
 * 'mode', so a key is never readable by others, not even briefly), then
 * fsync and rename into place. */
static int
pem_write_file(const char *path, unsigned mode, X509 *cert, EVP_PKEY *key,
    struct arena *a, const char **error_r)
{
	const char	*tmp;
	BIO		*bio = NULL;
	int		 fd, ok, ret = -1;

	tmp = arena_printf(a, "%s.tmp", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode);
	if (fd == -1) {
		*error_r = arena_printf(a, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) == -1) {	/* past the umask */
		*error_r = arena_printf(a, "%s: fchmod: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if ((bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL)
		log_panic("TLS: BIO_new_fd: out of memory");
	if (cert != NULL)
		ok = PEM_write_bio_X509(bio, cert);
	else
		ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
		    NULL);
	if (ok != 1 || BIO_flush(bio) != 1) {
		*error_r = ctx_err(a, "write", tmp);
		goto out;
	}
	if (fsync(fd) == -1) {
		*error_r = arena_printf(a, "%s: fsync: %s", tmp,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	BIO_free(bio);
	if (close(fd) == -1 && ret == 0) {
		*error_r = arena_printf(a, "%s: close: %s", tmp,
		    strerror(errno));
		ret = -1;
	}
	if (ret == 0 && rename(tmp, path) == -1) {
		*error_r = arena_printf(a, "rename %s: %s", path,
		    strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		(void)unlink(tmp);
	return ret;
}

int
tls_selfsigned_generate(const char *cert_path, const char *key_path,
    const char *common_name, struct arena *a, const char **error_r)
{
	EVP_PKEY	*key = NULL;
	X509		*x = NULL;
	X509_NAME	*name;
	BIGNUM		*serial = NULL;
	const char	*san;
	int		 ret = -1;

	ERR_clear_error();
	if (common_name == NULL || common_name[0] == '\0' ||
	    strlen(common_name) > 64 || strpbrk(common_name, ",\\") != NULL) {
		*error_r = arena_strdup(a, "self-signed certificate: bad "
		    "common name");
		return -1;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		*error_r = ctx_err(a, "generate key", NULL);
		goto out;
	}
	if ((x = X509_new()) == NULL || (serial = BN_new()) == NULL)
		log_panic("TLS: X509_new: out of memory");
	/* A random positive 63-bit serial, as RFC 5280 wants it unique. */
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), TLS_CERT_DAYS, 0,
	    NULL) == NULL || X509_set_pubkey(x, key) != 1) {
		*error_r = ctx_err(a, "build certificate", NULL);
		goto out;
	}
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)common_name, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1) {
		*error_r = ctx_err(a, "certificate name", common_name);
		goto out;
	}
	san = arena_printf(a, "DNS:%s", common_name);
	if (x509_add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    x509_add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    x509_add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    x509_add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    x509_add_ext(x, NID_authority_key_identifier,
	    "keyid:always") < 0 ||
	    x509_add_ext(x, NID_subject_alt_name, san) < 0) {
		*error_r = ctx_err(a, "certificate extensions", NULL);
		goto out;
	}
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		*error_r = ctx_err(a, "sign certificate", NULL);
		goto out;
	}
	/* The key first: a certificate without its key is useless. */
	if (pem_write_file(key_path, 0600, NULL, key, a, error_r) < 0 ||
	    pem_write_file(cert_path, 0644, x, NULL, a, error_r) < 0)
		goto out;
	ret = 0;
out:
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ret;
}
