/* test_tls.c - core/lib/tls.c: a tls_conn server against a plain OpenSSL
 * client over a non-blocking socketpair, both pumped by hand in one
 * thread. Handshake, SNI, version and cipher settings, data both ways
 * (1 MiB each way, the reader honouring tls_pending), clean and unclean
 * close, refused versions, a key that does not match, garbage instead of
 * a ClientHello, zero-length I/O and the self-signed generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aviary/arena.h"
#include "aviary/ev.h"
#include "aviary/tls.h"
#include "aviary/mem.h"

#define BIG		(1024 * 1024)
#define STALL_MAX	2000	/* rounds without progress = a hang */

static char	 tmpdir[] = "/tmp/aviary-tls-XXXXXX";
static char	 cert_a[256], key_a[256], cert_b[256], key_b[256];
static char	 garbage_pem[256];

struct pair {
	struct arena	*a;
	struct tls_ctx	*ctx;
	struct tls_conn	*srv;
	SSL_CTX		*cctx;
	SSL		*cli;
	int		 fd[2];	/* [0] server, [1] client */
};

static int
group_setup(void **state)
{
	struct arena	*a = arena_create(1024);
	const char	*error;
	FILE		*f;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	(void)snprintf(cert_a, sizeof(cert_a), "%s/a.crt", tmpdir);
	(void)snprintf(key_a, sizeof(key_a), "%s/a.key", tmpdir);
	(void)snprintf(cert_b, sizeof(cert_b), "%s/b.crt", tmpdir);
	(void)snprintf(key_b, sizeof(key_b), "%s/b.key", tmpdir);
	(void)snprintf(garbage_pem, sizeof(garbage_pem), "%s/garbage.pem",
	    tmpdir);
	if (tls_selfsigned_generate(cert_a, key_a, "localhost", a,
	    &error) < 0 || tls_selfsigned_generate(cert_b, key_b,
	    "other.example", a, &error) < 0) {
		fprintf(stderr, "generate: %s\n", error);
		arena_destroy(&a);
		return -1;
	}
	if ((f = fopen(garbage_pem, "w")) == NULL)
		return -1;
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
	    "-----END CERTIFICATE-----\n", f);
	fclose(f);
	arena_destroy(&a);
	return 0;
}

static int
group_teardown(void **state)
{
	const char	*names[] = { "a.crt", "a.key", "b.crt", "b.key",
	    "garbage.pem" };
	char		 path[300];
	size_t		 i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(names); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		(void)unlink(path);
	}
	return rmdir(tmpdir);
}

/* A server ctx (min_version etc. as given) and a client limited to
 * client_max (0: any), connected over a socketpair; no I/O yet. */
static void
pair_open(struct pair *p, const char *min_version, const char *ciphers,
    const char *ciphersuites, int client_max, const char *sni)
{
	const char	*error = NULL;

	memset(p, 0, sizeof(*p));
	p->a = arena_create(1024);
	p->ctx = tls_ctx_create(cert_a, key_a, NULL, min_version, ciphers,
	    ciphersuites, p->a, &error);
	if (p->ctx == NULL)
		fail_msg("tls_ctx_create: %s", error);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, p->fd), 0);
	p->srv = tls_conn_new(p->ctx, p->fd[0]);
	assert_non_null(p->cctx = SSL_CTX_new(TLS_client_method()));
	if (client_max != 0)
		assert_int_equal(SSL_CTX_set_max_proto_version(p->cctx,
		    client_max), 1);
	/* Trust exactly our self-signed certificate: the generator's output
	 * must be usable as a trust anchor by real clients in tests. */
	assert_int_equal(SSL_CTX_load_verify_locations(p->cctx, cert_a, NULL),
	    1);
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(p->cctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	assert_non_null(p->cli = SSL_new(p->cctx));
	assert_int_equal(SSL_set_fd(p->cli, p->fd[1]), 1);
	assert_int_equal(SSL_set1_host(p->cli, "localhost"), 1);
	if (sni != NULL)
		assert_int_equal(SSL_set_tlsext_host_name(p->cli, sni), 1);
	SSL_set_connect_state(p->cli);
}

static void
pair_close(struct pair *p)
{
	tls_conn_free(&p->srv);
	assert_null(p->srv);
	tls_conn_free(&p->srv);		/* NULL is fine */
	tls_ctx_destroy(&p->ctx);
	assert_null(p->ctx);
	SSL_free(p->cli);
	SSL_CTX_free(p->cctx);
	if (p->fd[0] != -1)
		close(p->fd[0]);
	if (p->fd[1] != -1)
		close(p->fd[1]);
	arena_destroy(&p->a);
	ERR_clear_error();
}

/* The client side's would-block test. */
static bool
cli_blocked(SSL *ssl, int r)
{
	int	 e = SSL_get_error(ssl, r);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Pump both handshakes. Returns the server's final result (1 or -1);
 * the client must succeed when the server does. */
static int
pump_handshake(struct pair *p, const char **error_r)
{
	int	 sr = 0, cr = 0, r, round;

	for (round = 0; round < STALL_MAX; round++) {
		if (sr == 0) {
			sr = tls_handshake(p->srv, error_r);
			if (sr == 0)
				assert_true(tls_want(p->srv) == EV_READ ||
				    tls_want(p->srv) == EV_WRITE);
			if (sr < 0)
				return -1;
		}
		if (cr == 0) {
			r = SSL_do_handshake(p->cli);
			if (r == 1)
				cr = 1;
			else if (!cli_blocked(p->cli, r))
				cr = -1;
		}
		if (sr == 1 && cr != 0) {
			assert_int_equal(cr, 1);
			return 1;
		}
	}
	fail_msg("handshake does not progress");
	return -1;
}

static void
handshake_ok(struct pair *p)
{
	const char	*error = NULL;

	if (pump_handshake(p, &error) != 1)
		fail_msg("handshake: %s", error);
	assert_true(tls_established(p->srv));
	assert_int_equal(SSL_get_verify_result(p->cli), X509_V_OK);
	assert_int_equal(tls_handshake(p->srv, &error), 1);	/* idempotent */
}

static void
test_handshake_and_accessors(void **state)
{
	struct pair	 p;

	(void)state;
	pair_open(&p, NULL, NULL, NULL, 0, "imap.example.org");
	assert_string_equal(tls_version_get(p.srv), "none");
	assert_string_equal(tls_cipher_get(p.srv), "none");
	assert_false(tls_established(p.srv));
	handshake_ok(&p);
	assert_string_equal(tls_version_get(p.srv), "TLSv1.3");
	assert_string_equal(tls_cipher_get(p.srv), SSL_get_cipher_name(p.cli));
	assert_non_null(tls_sni_get(p.srv));
	assert_string_equal(tls_sni_get(p.srv), "imap.example.org");
	assert_int_equal(tls_pending(p.srv), 0);
	pair_close(&p);

	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	handshake_ok(&p);
	assert_null(tls_sni_get(p.srv));
	pair_close(&p);
}

/* The configured lists are the ones negotiated. */
static void
test_cipher_settings(void **state)
{
	struct pair	 p;

	(void)state;
	pair_open(&p, "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL,
	    TLS1_2_VERSION, NULL);
	handshake_ok(&p);
	assert_string_equal(tls_version_get(p.srv), "TLSv1.2");
	assert_string_equal(tls_cipher_get(p.srv),
	    "ECDHE-ECDSA-AES128-GCM-SHA256");
	pair_close(&p);

	pair_open(&p, "TLSv1.3", NULL, "TLS_CHACHA20_POLY1305_SHA256", 0,
	    NULL);
	handshake_ok(&p);
	assert_string_equal(tls_version_get(p.srv), "TLSv1.3");
	assert_string_equal(tls_cipher_get(p.srv),
	    "TLS_CHACHA20_POLY1305_SHA256");
	pair_close(&p);
}

static void
test_min_version_refuses_old_client(void **state)
{
	struct pair	 p;
	const char	*error = NULL;
	char		 b[16];

	(void)state;
	pair_open(&p, "TLSv1.3", NULL, NULL, TLS1_2_VERSION, NULL);
	assert_int_equal(pump_handshake(&p, &error), -1);
	assert_non_null(error);
	assert_non_null(strstr(error, "protocol"));
	assert_false(tls_established(p.srv));
	assert_string_equal(tls_version_get(p.srv), "none");
	/* Everything after the failure fails quietly. */
	assert_int_equal(tls_handshake(p.srv, &error), -1);
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), -1);
	assert_int_equal(tls_write(p.srv, "x", 1, &error), -1);
	assert_int_equal(tls_shutdown(p.srv, &error), -1);
	assert_int_equal(tls_pending(p.srv), 0);
	pair_close(&p);

	/* The same client is welcome when TLSv1.2 is allowed. */
	pair_open(&p, "TLSv1.2", NULL, NULL, TLS1_2_VERSION, NULL);
	handshake_ok(&p);
	assert_string_equal(tls_version_get(p.srv), "TLSv1.2");
	pair_close(&p);
}

/* Server sends, client receives: writes are partial when the socket is
 * full, and a retry after 0 repeats the same bytes at the front. */
static void
big_to_client(struct pair *p, const unsigned char *data)
{
	static unsigned char	 got[BIG];
	unsigned char		 rb[16384];
	size_t			 sent = 0, recvd = 0, n;
	const char		*error = NULL;
	int			 stall = 0, r;
	ssize_t			 w;

	while (recvd < BIG) {
		bool	 progress = false;

		while (sent < BIG) {
			n = BIG - sent < 65536 ? BIG - sent : 65536;
			w = tls_write(p->srv, data + sent, n, &error);
			if (w < 0)
				fail_msg("tls_write: %s", error);
			if (w == 0) {
				assert_int_equal(tls_want(p->srv), EV_WRITE);
				break;
			}
			assert_true((size_t)w <= n);
			sent += (size_t)w;
			progress = true;
		}
		for (;;) {
			r = SSL_read_ex(p->cli, rb, sizeof(rb), &n);
			if (r != 1) {
				assert_true(cli_blocked(p->cli, r));
				break;
			}
			assert_true(recvd + n <= BIG);
			memcpy(got + recvd, rb, n);
			recvd += n;
			progress = true;
		}
		stall = progress ? 0 : stall + 1;
		assert_true(stall < STALL_MAX);
	}
	assert_memory_equal(got, data, BIG);
}

/* Client sends, server receives into a small buffer, waking only as a
 * real ev loop would: when poll says readable, or tls_pending > 0. A
 * reader that ignored tls_pending would stall here. */
static void
big_to_server(struct pair *p, const unsigned char *data)
{
	static unsigned char	 got[BIG];
	unsigned char		 rb[1000];
	size_t			 sent = 0, recvd = 0, n;
	const char		*error = NULL;
	bool			 saw_pending = false;
	int			 stall = 0, r;
	ssize_t			 rd;

	while (recvd < BIG) {
		bool		 progress = false;
		struct pollfd	 pfd = { .fd = p->fd[0], .events = POLLIN };

		while (sent < BIG) {
			r = SSL_write_ex(p->cli, data + sent, BIG - sent, &n);
			if (r != 1) {
				assert_true(cli_blocked(p->cli, r));
				break;
			}
			sent += n;
			progress = true;
		}
		while (tls_pending(p->srv) > 0 || poll(&pfd, 1, 0) == 1) {
			if (tls_pending(p->srv) > 0) {
				saw_pending = true;
				/* Nothing on the socket: epoll would sleep. */
				assert_int_equal(poll(&pfd, 1, 0) == 1 &&
				    tls_pending(p->srv) == 0, 0);
			}
			rd = tls_read(p->srv, rb, sizeof(rb), &error);
			if (rd < 0)
				fail_msg("tls_read: %s", error);
			if (rd == 0) {
				assert_int_equal(tls_want(p->srv), EV_READ);
				break;
			}
			assert_true(recvd + (size_t)rd <= BIG);
			memcpy(got + recvd, rb, (size_t)rd);
			recvd += (size_t)rd;
			progress = true;
		}
		stall = progress ? 0 : stall + 1;
		assert_true(stall < STALL_MAX);
	}
	assert_true(saw_pending);
	assert_memory_equal(got, data, BIG);
}

static void
test_data_both_ways(void **state)
{
	struct pair	 p;
	unsigned char	*data;
	const char	*error = NULL;
	char		 b[64];
	size_t		 i, n;
	ssize_t		 r;
	int		 round;

	(void)state;
	data = xmalloc(BIG);
	assert_non_null(data);
	for (i = 0; i < BIG; i++)
		data[i] = (unsigned char)((i * 7919u) >> 3);
	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	handshake_ok(&p);

	/* A line each way, as a greeting and a command. */
	assert_int_equal(tls_write(p.srv, "+OK ready\r\n", 11, &error), 11);
	for (round = 0; round < STALL_MAX; round++)
		if (SSL_read_ex(p.cli, b, sizeof(b), &n) == 1)
			break;
	assert_int_equal(n, 11);
	assert_memory_equal(b, "+OK ready\r\n", 11);
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), 0);
	assert_int_equal(tls_want(p.srv), EV_READ);
	assert_int_equal(SSL_write_ex(p.cli, "CAPA\r\n", 6, &n), 1);
	r = tls_read(p.srv, b, sizeof(b), &error);
	assert_int_equal(r, 6);
	assert_memory_equal(b, "CAPA\r\n", 6);
	assert_int_equal(tls_want(p.srv), 0);

	big_to_client(&p, data);
	big_to_server(&p, data);
	assert_int_equal(tls_pending(p.srv), 0);
	pair_close(&p);
	free(data);
}

/* The server closes first; then the client answers with its own. */
static void
test_clean_shutdown(void **state)
{
	struct pair	 p;
	const char	*error = NULL;
	char		 b[16];
	size_t		 n;
	int		 r, round;

	(void)state;
	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	handshake_ok(&p);
	assert_int_equal(tls_shutdown(p.srv, &error), 1);
	for (round = 0; round < STALL_MAX; round++) {
		r = SSL_read_ex(p.cli, b, sizeof(b), &n);
		if (!cli_blocked(p.cli, r))
			break;
	}
	assert_int_equal(r, 0);
	assert_int_equal(SSL_get_error(p.cli, r), SSL_ERROR_ZERO_RETURN);
	assert_true(SSL_shutdown(p.cli) >= 0);
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), -1);
	assert_true(tls_closed(p.srv));
	assert_non_null(strstr(error, "closed"));
	pair_close(&p);

	/* The client closes first: a clean end of stream, then ours. */
	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	handshake_ok(&p);
	assert_int_equal(SSL_write_ex(p.cli, "QUIT\r\n", 6, &n), 1);
	assert_true(SSL_shutdown(p.cli) >= 0);
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), 6);
	assert_false(tls_closed(p.srv));
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), -1);
	assert_true(tls_closed(p.srv));
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), -1);
	assert_int_equal(tls_shutdown(p.srv, &error), 1);
	pair_close(&p);
}

/* The client vanishes without close_notify: an error, not a clean close
 * (and no SIGPIPE: main ignores it, as the daemons do). */
static void
test_unclean_close(void **state)
{
	struct pair	 p;
	const char	*error = NULL;
	char		 b[16];

	(void)state;
	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	handshake_ok(&p);
	close(p.fd[1]);
	p.fd[1] = -1;
	assert_int_equal(tls_read(p.srv, b, sizeof(b), &error), -1);
	assert_false(tls_closed(p.srv));
	assert_non_null(error);
	assert_true(error[0] != '\0');
	assert_int_equal(tls_write(p.srv, "x", 1, &error), -1);
	assert_int_equal(tls_shutdown(p.srv, &error), -1);
	pair_close(&p);
}

/* Run the server handshake against raw bytes from the "client". */
static void
garbage_hello(const void *bytes, size_t len, bool close_after)
{
	struct pair	 p;
	const char	*error = NULL;
	int		 r = 0, round;

	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	assert_int_equal(write(p.fd[1], bytes, len), (ssize_t)len);
	if (close_after)
		assert_int_equal(shutdown(p.fd[1], SHUT_WR), 0);
	for (round = 0; round < 10 && r == 0; round++)
		r = tls_handshake(p.srv, &error);
	assert_int_equal(r, -1);
	assert_non_null(error);
	assert_true(error[0] != '\0');
	assert_false(tls_established(p.srv));
	assert_null(tls_sni_get(p.srv));
	assert_int_equal(tls_shutdown(p.srv, &error), -1);
	pair_close(&p);
}

static void
test_garbage_client_hello(void **state)
{
	static const char	 http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char	 plain[] = "a001 CAPABILITY\r\n";
	/* A handshake record header around a body that is no ClientHello. */
	static const unsigned char	 junk[] = { 0x16, 0x03, 0x01, 0x00,
	    0x10, 0x01, 0x00, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	/* A record header promising more than it sends, then EOF. */
	static const unsigned char	 trunc[] = { 0x16, 0x03, 0x01, 0x02,
	    0x00, 0x01, 0x00 };
	/* An oversized record length (> 2^14 + 2048). */
	static const unsigned char	 huge[] = { 0x16, 0x03, 0x01, 0xff,
	    0xff, 0x01 };

	(void)state;
	garbage_hello(http, sizeof(http) - 1, false);
	garbage_hello(plain, sizeof(plain) - 1, false);
	garbage_hello(junk, sizeof(junk), false);
	garbage_hello(trunc, sizeof(trunc), true);
	garbage_hello(huge, sizeof(huge), false);
	garbage_hello("", 0, true);		/* connect, then EOF */
}

/* Zero-length I/O is a no-op that waits for nothing. */
static void
test_zero_length(void **state)
{
	struct pair	 p;
	const char	*error = NULL;
	char		 b[8];
	size_t		 n;
	int		 round;

	(void)state;
	pair_open(&p, NULL, NULL, NULL, 0, NULL);
	handshake_ok(&p);
	assert_int_equal(tls_write(p.srv, "", 0, &error), 0);
	assert_int_equal(tls_want(p.srv), 0);
	assert_int_equal(tls_read(p.srv, b, 0, &error), 0);
	assert_int_equal(tls_want(p.srv), 0);
	/* The connection is still fine. */
	assert_int_equal(tls_write(p.srv, "ok", 2, &error), 2);
	for (round = 0; round < STALL_MAX; round++)
		if (SSL_read_ex(p.cli, b, sizeof(b), &n) == 1)
			break;
	assert_int_equal(n, 2);
	assert_memory_equal(b, "ok", 2);
	pair_close(&p);
}

static void
test_ctx_errors(void **state)
{
	struct arena	*a = arena_create(1024);
	struct tls_ctx	*ctx;
	const char	*error = NULL;
	char		 missing[300];

	(void)state;
	/* A key that does not match the certificate. */
	ctx = tls_ctx_create(cert_a, key_b, NULL, NULL, NULL, NULL, a, &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "key_file"));
	assert_non_null(strstr(error, "mismatch"));
	assert_int_equal(ERR_peek_error(), 0);	/* the queue is left clean */

	(void)snprintf(missing, sizeof(missing), "%s/nope.crt", tmpdir);
	ctx = tls_ctx_create(missing, key_a, NULL, NULL, NULL, NULL, a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "cert_file"));
	assert_non_null(strstr(error, missing));
	ctx = tls_ctx_create(cert_a, missing, NULL, NULL, NULL, NULL, a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "key_file"));
	/* A key given as the certificate and the other way round. */
	ctx = tls_ctx_create(key_a, cert_a, NULL, NULL, NULL, NULL, a, &error);
	assert_null(ctx);
	ctx = tls_ctx_create(garbage_pem, key_a, NULL, NULL, NULL, NULL, a,
	    &error);
	assert_null(ctx);

	ctx = tls_ctx_create(cert_a, key_a, NULL, "TLSv1.1", NULL, NULL, a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "min_version"));
	ctx = tls_ctx_create(cert_a, key_a, NULL, "", NULL, NULL, a, &error);
	assert_null(ctx);
	ctx = tls_ctx_create(cert_a, key_a, NULL, NULL, "NOT-A-CIPHER", NULL,
	    a, &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "ciphers"));
	ctx = tls_ctx_create(cert_a, key_a, NULL, NULL, NULL, "TLS_NOPE", a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "ciphersuites"));
	ctx = tls_ctx_create(NULL, key_a, NULL, NULL, NULL, NULL, a, &error);
	assert_null(ctx);

	/* Chain files: a good one loads, garbage and nothing do not. */
	ctx = tls_ctx_create(cert_a, key_a, cert_b, "TLSv1.3", NULL, NULL, a,
	    &error);
	assert_non_null(ctx);
	tls_ctx_destroy(&ctx);
	tls_ctx_destroy(&ctx);
	ctx = tls_ctx_create(cert_a, key_a, garbage_pem, NULL, NULL, NULL, a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "chain_file"));
	ctx = tls_ctx_create(cert_a, key_a, key_a, NULL, NULL, NULL, a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "chain_file"));
	ctx = tls_ctx_create(cert_a, key_a, missing, NULL, NULL, NULL, a,
	    &error);
	assert_null(ctx);
	assert_non_null(strstr(error, "chain_file"));
	assert_int_equal(ERR_peek_error(), 0);
	arena_destroy(&a);
}

static void
test_selfsigned(void **state)
{
	struct arena	*a = arena_create(1024);
	const char	*error = NULL;
	struct stat	 st;
	FILE		*f;
	X509		*x;
	int		 days = 0, secs = 0;
	char		 cn[128];

	(void)state;
	assert_int_equal(stat(key_a, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(cert_a, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_non_null(f = fopen(cert_a, "r"));
	assert_non_null(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	assert_true(days >= 3650 && days <= 3652);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, "localhost");
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	X509_free(x);

	/* Bad names and unwritable places are errors, not crashes. */
	assert_int_equal(tls_selfsigned_generate(cert_b, key_b, "", a,
	    &error), -1);
	assert_int_equal(tls_selfsigned_generate(cert_b, key_b, "a,b", a,
	    &error), -1);
	assert_int_equal(tls_selfsigned_generate("/nonexistent/dir/c.crt",
	    "/nonexistent/dir/c.key", "localhost", a, &error), -1);
	assert_non_null(strstr(error, "/nonexistent/dir/c.key"));
	arena_destroy(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_accessors),
		cmocka_unit_test(test_cipher_settings),
		cmocka_unit_test(test_min_version_refuses_old_client),
		cmocka_unit_test(test_data_both_ways),
		cmocka_unit_test(test_clean_shutdown),
		cmocka_unit_test(test_unclean_close),
		cmocka_unit_test(test_garbage_client_hello),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_ctx_errors),
		cmocka_unit_test(test_selfsigned),
	};

	(void)signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
