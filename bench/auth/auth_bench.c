/* auth_bench.c - load generator for aviary-auth's client socket.
 *
 * usage: auth_bench SOCKET CONNECTIONS REQUESTS PREFIX DOMAIN USERS
 *        (the password is read from standard input)
 *
 * Each connection is a thread that, like a Postfix smtpd, has one
 * request in flight at a time: AUTH PLAIN with an initial response, then
 * wait for OK. Request k of the run uses user number (k % USERS), with
 * USER-FORMAT a printf format taking one unsigned (e.g. "u%u@bench.test").
 * Prints the rate and the latency percentiles; exits 1 if any request
 * did not succeed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "aviary/base64.h"
#include "aviary/mem.h"

static const char	*sock_path, *user_prefix, *user_domain;
static char		 password[512];
static unsigned		 nusers, nreq;
static atomic_uint	 next_req, failures;
static double		*lat;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
read_line(int fd, char *buf, size_t sz, size_t *have, char *line)
{
	char	*lf;
	ssize_t	 n;

	for (;;) {
		if ((lf = memchr(buf, '\n', *have)) != NULL) {
			size_t ll = (size_t)(lf - buf);

			memcpy(line, buf, ll);
			line[ll] = '\0';
			memmove(buf, lf + 1, *have - ll - 1);
			*have -= ll + 1;
			return 0;
		}
		n = read(fd, buf + *have, sz - *have);
		if (n <= 0)
			return -1;
		*have += (size_t)n;
	}
}

static void *
worker(void *arg)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	char			 buf[8192], line[8192], user[256], msg[1024];
	char			 b64[1400], req[1600];
	size_t			 have = 0;
	unsigned		 k;
	int			 fd, n;

	(void)arg;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("connect");
		exit(2);
	}
	n = snprintf(req, sizeof(req), "VERSION\t1\t0\nCPID\t%ld\n",
	    (long)getpid());
	if (write(fd, req, (size_t)n) != n)
		exit(2);
	do {
		if (read_line(fd, buf, sizeof(buf), &have, line) == -1)
			exit(2);
	} while (strcmp(line, "DONE") != 0);
	while ((k = atomic_fetch_add(&next_req, 1)) < nreq) {
		size_t ul, pl = strlen(password);
		double t0;

		snprintf(user, sizeof(user), "%s%u@%s", user_prefix, k % nusers,
		    user_domain);
		ul = strlen(user);
		msg[0] = '\0';
		memcpy(msg + 1, user, ul);
		msg[1 + ul] = '\0';
		memcpy(msg + 2 + ul, password, pl);
		base64_encode(msg, 2 + ul + pl, b64);
		n = snprintf(req, sizeof(req), "AUTH\t%u\tPLAIN\tservice=smtp\t"
		    "nologin\tlip=127.0.0.1\trip=127.0.0.1\tresp=%s\n", k + 1,
		    b64);
		t0 = now_s();
		if (write(fd, req, (size_t)n) != n ||
		    read_line(fd, buf, sizeof(buf), &have, line) == -1) {
			fprintf(stderr, "connection lost\n");
			exit(2);
		}
		lat[k] = now_s() - t0;
		if (strncmp(line, "OK\t", 3) != 0)
			atomic_fetch_add(&failures, 1);
	}
	close(fd);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	unsigned	 conns, i;
	pthread_t	*th;
	double		 t0, dt;

	if (argc != 7) {
		fprintf(stderr, "usage: auth_bench SOCKET CONNECTIONS REQUESTS "
		    "PREFIX DOMAIN USERS < password\n");
		return 64;
	}
	sock_path = argv[1];
	conns = (unsigned)strtoul(argv[2], NULL, 10);
	nreq = (unsigned)strtoul(argv[3], NULL, 10);
	user_prefix = argv[4];
	user_domain = argv[5];
	nusers = (unsigned)strtoul(argv[6], NULL, 10);
	if (conns == 0 || nreq == 0 || nusers == 0)
		return 64;
	if (fgets(password, sizeof(password), stdin) == NULL)
		return 64;
	password[strcspn(password, "\r\n")] = '\0';
	lat = xcalloc(nreq, sizeof(*lat));
	th = xcalloc(conns, sizeof(*th));
	t0 = now_s();
	for (i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	dt = now_s() - t0;
	qsort(lat, nreq, sizeof(*lat), cmp_double);
	printf("{\"requests\": %u, \"connections\": %u, \"seconds\": %.3f, "
	    "\"per_second\": %.0f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
	    "\"failures\": %u}\n", nreq, conns, dt, nreq / dt,
	    lat[nreq / 2] * 1000, lat[(size_t)(nreq * 0.99)] * 1000,
	    atomic_load(&failures));
	return atomic_load(&failures) ? 1 : 0;
}
