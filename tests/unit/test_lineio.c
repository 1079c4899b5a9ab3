/* test_lineio.c - core/lib/lineio.c over a non-blocking pipe: a line of
 * exactly the buffer's ceiling (LF included) fits, one byte more is
 * LINEIO_TOO_LONG; many short lines in one write never overflow a small
 * buffer; a callback can stop at once; EOF and EAGAIN are reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "aviary/buf.h"
#include "aviary/lineio.h"

struct seen {
	unsigned	 n;
	size_t		 total;
	unsigned	 stop_after;	/* 0: never */
};

static int
on_line(void *arg, struct str line)
{
	struct seen	*s = arg;

	s->n++;
	s->total += line.len;
	return s->stop_after != 0 && s->n == s->stop_after;
}

static void
nb_pipe(int p[2])
{
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

static void
write_all(int fd, const char *s, size_t n)
{
	assert_int_equal(write(fd, s, n), (ssize_t)n);
}

static void
test_limit(void **state)
{
	char		 line[65];
	size_t		 extra;

	(void)state;
	for (extra = 0; extra <= 1; extra++) {
		struct buf	 b;
		struct seen	 s = { 0 };
		int		 p[2];

		nb_pipe(p);
		buf_init(&b, NULL, 64);
		/* 63 bytes + LF = 64 = the ceiling (N); then N + 1. */
		memset(line, 'x', sizeof(line));
		write_all(p[1], line, 63 + extra);
		write_all(p[1], "\n", 1);
		assert_int_equal(lineio_read(p[0], &b, on_line, &s),
		    extra ? LINEIO_TOO_LONG : LINEIO_AGAIN);
		assert_int_equal(s.n, extra ? 0 : 1);
		buf_deinit(&b);
		close(p[0]);
		close(p[1]);
	}
}

static void
test_many_short_lines(void **state)
{
	struct buf	 b;
	struct seen	 s = { 0 };
	char		 data[3000];
	int		 p[2], i;

	(void)state;
	for (i = 0; i < 1000; i++)
		memcpy(data + 3 * i, "ab\n", 3);
	nb_pipe(p);
	buf_init(&b, NULL, 16);		/* far smaller than one write */
	write_all(p[1], data, sizeof(data));
	assert_int_equal(lineio_read(p[0], &b, on_line, &s), LINEIO_AGAIN);
	assert_int_equal(s.n, 1000);
	assert_int_equal(s.total, 2000);
	close(p[1]);
	assert_int_equal(lineio_read(p[0], &b, on_line, &s), LINEIO_EOF);
	buf_deinit(&b);
	close(p[0]);
}

static void
test_stop(void **state)
{
	struct buf	 b;
	struct seen	 s = { .stop_after = 2 };
	int		 p[2];

	(void)state;
	nb_pipe(p);
	buf_init(&b, NULL, 1024);
	write_all(p[1], "a\nb\nc\n", 6);
	assert_int_equal(lineio_read(p[0], &b, on_line, &s), LINEIO_STOPPED);
	assert_int_equal(s.n, 2);
	buf_deinit(&b);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_many_short_lines),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
