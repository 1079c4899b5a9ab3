/* test_ev.c - core/lib/ev.c: timer order (deadline, then FIFO), deleting
 * timers before and while they are due, I/O readiness on socketpairs,
 * pausing with ev_io_mod, deleting a watcher whose event is pending in
 * the same iteration (under ASan), ev_stop, before_sleep. Every loop
 * run has a watchdog timer, so a broken loop fails instead of hanging. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "aviary/compat.h"
#include "aviary/ev.h"

#define WATCHDOG_MS	5000

struct rec {
	struct ev	*ev;
	int		 order[256];
	size_t		 n;
	size_t		 stop_at;	/* ev_stop when n gets here; 0: never */
	bool		 watchdog;
};

struct tctx {
	struct rec	*rec;
	int		 id;
	uint64_t	 lo, hi;	/* bounds on the deadline */
	struct ev_timer	**victim;	/* deleted when this one fires */
};

static void
rec_add(struct rec *r, int id)
{
	assert_true(r->n < N_ELEMENTS(r->order));
	r->order[r->n++] = id;
	if (r->stop_at != 0 && r->n == r->stop_at)
		ev_stop(r->ev);
}

static void
on_timer(void *arg)
{
	struct tctx	*t = arg;

	rec_add(t->rec, t->id);
	if (t->victim != NULL)
		ev_timer_del(t->victim);
}

static void
on_watchdog(void *arg)
{
	struct rec	*r = arg;

	r->watchdog = true;
	ev_stop(r->ev);
}

/* Run the loop with a watchdog; fails if the watchdog fired. */
static void
run(struct rec *r)
{
	struct ev_timer	*wd = ev_timer_add(r->ev, WATCHDOG_MS, on_watchdog,
			    r);

	assert_int_equal(ev_run(r->ev), 0);
	if (r->watchdog)
		fail_msg("the loop did not stop within %d ms", WATCHDOG_MS);
	ev_timer_del(&wd);
}

static void
add_timer(struct rec *r, struct tctx *t, int id, uint64_t ms)
{
	t->rec = r;
	t->id = id;
	t->victim = NULL;
	t->lo = ev_now_ms() + ms;
	assert_non_null(ev_timer_add(r->ev, ms, on_timer, t));
	t->hi = ev_now_ms() + ms;
}

/* Deadlines 0..57 ms in a scrambled insertion order fire in deadline
 * order. The bounds allow for the clock ticking between additions. */
static void
test_timer_deadline_order(void **state)
{
	struct rec	 r = { .ev = ev_create(), .stop_at = 20 };
	struct tctx	 t[20];
	size_t		 i;

	(void)state;
	for (i = 0; i < 20; i++)	/* 7 is coprime to 20: a permutation */
		add_timer(&r, &t[i], (int)i, (uint64_t)((i * 7) % 20) * 3);
	run(&r);
	assert_int_equal(r.n, 20);
	for (i = 1; i < r.n; i++) {
		const struct tctx *a = &t[r.order[i - 1]], *b = &t[r.order[i]];

		if (a->lo > b->hi)
			fail_msg("timer %d (due %llu) fired after %d "
			    "(due %llu)", b->id, (unsigned long long)b->hi,
			    a->id, (unsigned long long)a->lo);
	}
	ev_destroy(&r.ev);
	assert_null(r.ev);
}

/* Equal delays fire in the order they were added (also across the heap
 * growing past its first 64 slots), and a shorter group added later
 * still fires first. */
static void
test_timer_fifo(void **state)
{
	struct rec	 r = { .ev = ev_create(), .stop_at = 150 };
	struct tctx	 t[150];
	size_t		 i;

	(void)state;
	for (i = 0; i < 100; i++)
		add_timer(&r, &t[i], (int)i, 30);
	for (i = 100; i < 150; i++)
		add_timer(&r, &t[i], (int)i, 5);
	run(&r);
	assert_int_equal(r.n, 150);
	for (i = 0; i < 50; i++)
		assert_int_equal(r.order[i], 100 + (int)i);
	for (i = 50; i < 150; i++)
		assert_int_equal(r.order[i], (int)i - 50);
	ev_destroy(&r.ev);
}

/* A deleted pending timer never fires; the others still do, in order.
 * Deleting from the middle, the front and the back of the heap. */
static void
test_timer_del(void **state)
{
	struct rec	 r = { .ev = ev_create(), .stop_at = 7 };
	struct tctx	 t[10];
	struct ev_timer	*h[10];
	size_t		 i;

	(void)state;
	for (i = 0; i < 10; i++) {
		t[i].rec = &r;
		t[i].id = (int)i;
		t[i].victim = NULL;
		h[i] = ev_timer_add(r.ev, 2 * i, on_timer, &t[i]);
	}
	ev_timer_del(&h[0]);
	ev_timer_del(&h[5]);
	ev_timer_del(&h[9]);
	assert_null(h[0]);
	assert_null(h[5]);
	ev_timer_del(&h[5]);		/* NULL: nothing */
	run(&r);
	assert_int_equal(r.n, 7);
	{
		static const int	 want[] = { 1, 2, 3, 4, 6, 7, 8 };

		assert_memory_equal(r.order, want, sizeof(want));
	}
	ev_destroy(&r.ev);
}

/* Deleting from the middle of the heap can move the last timer (from
 * the other subtree) under a parent due later: it must move up. The
 * delays are inserted in level order, each after its parent, so the
 * heap array is exactly this list; deleting slot 3 (101 ms) puts the
 * 4 ms timer under the 100 ms one, which would otherwise fire first. */
static void
test_timer_heap_del_moves_up(void **state)
{
	static const uint64_t	 ms[15] = {
		0, 100, 1, 101, 102, 200, 2, 103, 104, 105, 106, 201, 202, 3, 4,
	};
	static const int	 want[14] = {
		0, 2, 6, 13, 14, 1, 4, 7, 8, 9, 10, 5, 11, 12,
	};
	struct rec		 r = { .ev = ev_create(), .stop_at = 14 };
	struct tctx		 t[15];
	struct ev_timer		*h[15];
	size_t			 i;

	(void)state;
	for (i = 0; i < 15; i++) {
		t[i].rec = &r;
		t[i].id = (int)i;
		t[i].victim = NULL;
		h[i] = ev_timer_add(r.ev, ms[i], on_timer, &t[i]);
	}
	ev_timer_del(&h[3]);
	run(&r);
	assert_int_equal(r.n, 14);
	assert_memory_equal(r.order, want, sizeof(want));
	ev_destroy(&r.ev);
}

/* A callback deletes another pending timer: one due later, and one due
 * in the same pass (both 0 ms). Neither fires; ASan checks the heap. */
static void
test_timer_del_from_callback(void **state)
{
	struct rec	 r = { .ev = ev_create(), .stop_at = 3 };
	struct tctx	 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 }, e = { 0 };
	struct ev_timer	*hb, *hd;

	(void)state;
	a.rec = b.rec = c.rec = d.rec = e.rec = &r;
	a.id = 1;
	b.id = 2;
	c.id = 3;
	d.id = 4;
	e.id = 5;
	a.victim = &hb;
	c.victim = &hd;
	(void)ev_timer_add(r.ev, 0, on_timer, &a);
	hb = ev_timer_add(r.ev, 0, on_timer, &b);	/* due with a */
	(void)ev_timer_add(r.ev, 5, on_timer, &c);
	hd = ev_timer_add(r.ev, 30, on_timer, &d);	/* due later */
	(void)ev_timer_add(r.ev, 40, on_timer, &e);
	run(&r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.order[0], 1);
	assert_int_equal(r.order[1], 3);
	assert_int_equal(r.order[2], 5);
	assert_null(hb);
	assert_null(hd);
	ev_destroy(&r.ev);
}

/* ev_destroy frees timers that never fired (ASan's leak check). */
static void
test_destroy_pending(void **state)
{
	struct ev	*ev = ev_create();
	size_t		 i;

	(void)state;
	for (i = 0; i < 100; i++)
		(void)ev_timer_add(ev, 60000 + i, on_watchdog, NULL);
	ev_destroy(&ev);
	assert_null(ev);
	ev_destroy(&ev);		/* NULL is fine */
}

struct ioctx {
	struct rec	*rec;
	int		 id;
	int		 fd;
	unsigned	 got;
	int		 calls;
	struct ev_io	*w;
	struct ioctx	*other;		/* deleted (and closed) by this cb */
	bool		 stop;		/* ev_stop from the callback */
	bool		 drain;		/* read what is there */
};

static void
on_io(void *arg, int fd, unsigned events)
{
	struct ioctx	*c = arg;
	char		 b[64];

	assert_int_equal(fd, c->fd);
	c->got |= events;
	c->calls++;
	rec_add(c->rec, c->id);
	if (c->drain && read(fd, b, sizeof(b)) == -1)
		assert_int_equal(errno, EAGAIN);	/* a spurious wakeup */
	if (c->other != NULL && c->other->w != NULL) {
		ev_io_del(&c->other->w);
		assert_null(c->other->w);
		(void)close(c->other->fd);
		c->other->fd = -1;
	}
	if (c->stop)
		ev_stop(c->rec->ev);
}

static void
make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
}

static void
test_io_read(void **state)
{
	struct rec	 r = { .ev = ev_create() };
	struct ioctx	 c = { .rec = &r, .id = 1, .stop = true,
			    .drain = true };
	int		 sv[2];

	(void)state;
	make_pair(sv);
	c.fd = sv[0];
	c.w = ev_io_add(r.ev, sv[0], EV_READ, on_io, &c);
	assert_non_null(c.w);
	assert_int_equal(write(sv[1], "x", 1), 1);
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.got, EV_READ);

	/* Write interest: an empty socket buffer is writable at once. */
	c.got = 0;
	c.calls = 0;
	assert_int_equal(ev_io_mod(c.w, EV_WRITE), 0);
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.got, EV_WRITE);

	/* The peer going away is readable (EOF), not silent. */
	c.got = 0;
	c.calls = 0;
	assert_int_equal(ev_io_mod(c.w, EV_READ), 0);
	assert_int_equal(ev_io_mod(c.w, EV_READ), 0);	/* unchanged */
	(void)close(sv[1]);
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_true(c.got & EV_READ);
	ev_io_del(&c.w);
	assert_null(c.w);
	ev_io_del(&c.w);		/* NULL is fine */
	(void)close(sv[0]);
	ev_destroy(&r.ev);
}

/* epoll refuses the fd: NULL and errno, nothing leaked. */
static void
test_io_add_fails(void **state)
{
	struct ev	*ev = ev_create();
	struct ioctx	 c = { 0 };

	(void)state;
	errno = 0;
	assert_null(ev_io_add(ev, -1, EV_READ, on_io, &c));
	assert_int_equal(errno, EBADF);
	ev_destroy(&ev);
}

/* ev_io_mod(w, 0) pauses: readable data does not call back until the
 * interest comes back. */
static void
test_io_pause(void **state)
{
	struct rec	 r = { .ev = ev_create() };
	struct ioctx	 c = { .rec = &r, .id = 1, .stop = true,
			    .drain = true };
	struct tctx	 t = { 0 };
	int		 sv[2];

	(void)state;
	make_pair(sv);
	c.fd = sv[0];
	c.w = ev_io_add(r.ev, sv[0], EV_READ, on_io, &c);
	assert_non_null(c.w);
	assert_int_equal(ev_io_mod(c.w, 0), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	r.stop_at = 1;
	add_timer(&r, &t, 99, 50);
	run(&r);
	assert_int_equal(c.calls, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.order[0], 99);

	assert_int_equal(ev_io_mod(c.w, EV_READ), 0);
	r.stop_at = 0;
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.got, EV_READ);
	ev_io_del(&c.w);
	(void)close(sv[0]);
	(void)close(sv[1]);
	ev_destroy(&r.ev);
}

static void
count_iterations(void *arg)
{
	(*(int *)arg)++;
}

/* A paused fd whose peer hung up stays quiet: epoll reports a hangup
 * whatever the interest mask, and that must not spin the loop (it did:
 * about 100,000 iterations in these 50 ms). Resuming delivers the EOF.
 * A watcher added paused starts out of the set the same way. */
static void
test_io_pause_hup(void **state)
{
	struct rec	 r = { .ev = ev_create() };
	struct ioctx	 c = { .rec = &r, .id = 1, .stop = true,
			    .drain = true };
	struct tctx	 t = { 0 };
	int		 sv[2], iters = 0;

	(void)state;
	make_pair(sv);
	c.fd = sv[0];
	c.w = ev_io_add(r.ev, sv[0], 0, on_io, &c);	/* added paused */
	assert_non_null(c.w);
	(void)close(sv[1]);
	ev_set_before_sleep(r.ev, count_iterations, &iters);
	r.stop_at = 1;
	add_timer(&r, &t, 99, 50);
	run(&r);
	assert_int_equal(c.calls, 0);
	if (iters > 10)
		fail_msg("%d loop iterations in 50 ms while paused", iters);

	assert_int_equal(ev_io_mod(c.w, EV_READ), 0);
	r.stop_at = 0;
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_true(c.got & EV_READ);

	/* Pause again after the hangup was seen: still quiet. */
	iters = 0;
	c.calls = 0;
	assert_int_equal(ev_io_mod(c.w, 0), 0);
	r.n = 0;
	r.stop_at = 1;
	add_timer(&r, &t, 99, 50);
	run(&r);
	assert_int_equal(c.calls, 0);
	assert_true(iters <= 10);
	ev_io_del(&c.w);
	(void)close(sv[0]);
	ev_destroy(&r.ev);
}

/* Two fds readable in the same epoll_wait; whichever callback runs
 * first deletes and closes the other watcher. The other event is
 * already in the batch: it must be dropped, and the watcher's memory
 * stays valid until the iteration ends (ASan would see a use after
 * free). A 0 ms timer ends the loop after that one iteration. */
static void
test_io_del_pending(void **state)
{
	struct rec	 r = { .ev = ev_create() };
	struct ioctx	 a = { .rec = &r, .id = 1, .drain = true };
	struct ioctx	 b = { .rec = &r, .id = 2, .drain = true };
	struct tctx	 t = { 0 };
	int		 sa[2], sb[2];

	(void)state;
	make_pair(sa);
	make_pair(sb);
	a.fd = sa[0];
	b.fd = sb[0];
	a.other = &b;
	b.other = &a;
	a.w = ev_io_add(r.ev, sa[0], EV_READ, on_io, &a);
	b.w = ev_io_add(r.ev, sb[0], EV_READ, on_io, &b);
	assert_non_null(a.w);
	assert_non_null(b.w);
	assert_int_equal(write(sa[1], "x", 1), 1);
	assert_int_equal(write(sb[1], "x", 1), 1);
	r.stop_at = 2;			/* one io callback + the timer */
	add_timer(&r, &t, 99, 0);
	run(&r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[1], 99);
	assert_int_equal(a.calls + b.calls, 1);
	assert_true((a.w == NULL) != (b.w == NULL));
	ev_io_del(a.w != NULL ? &a.w : &b.w);
	(void)close(a.fd != -1 ? a.fd : b.fd);
	(void)close(sa[1]);
	(void)close(sb[1]);
	ev_destroy(&r.ev);
}

static void
on_io_del_self(void *arg, int fd, unsigned events)
{
	struct ioctx	*c = arg;

	(void)events;
	c->calls++;
	ev_io_del(&c->w);
	(void)close(fd);
	c->fd = -1;
	ev_stop(c->rec->ev);
}

/* A watcher deletes itself in its own callback (a connection closing
 * itself), with both read and write ready in the same event. */
static void
test_io_del_self(void **state)
{
	struct rec	 r = { .ev = ev_create() };
	struct ioctx	 c = { .rec = &r };
	int		 sv[2];

	(void)state;
	make_pair(sv);
	c.fd = sv[0];
	c.w = ev_io_add(r.ev, sv[0], EV_READ | EV_WRITE, on_io_del_self, &c);
	assert_non_null(c.w);
	assert_int_equal(write(sv[1], "x", 1), 1);
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_null(c.w);
	assert_int_equal(c.fd, -1);
	(void)close(sv[1]);
	ev_destroy(&r.ev);
}

/* ev_stop from a callback ends ev_run at once: a timer due in the same
 * pass waits for the next ev_run, and is not lost. */
static void
test_stop(void **state)
{
	struct rec	 r = { .ev = ev_create(), .stop_at = 1 };
	struct tctx	 a = { 0 }, b = { 0 };

	(void)state;
	add_timer(&r, &a, 1, 0);
	add_timer(&r, &b, 2, 0);
	run(&r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.order[0], 1);
	r.stop_at = 2;
	run(&r);			/* ev_run may be called again */
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[1], 2);
	ev_destroy(&r.ev);
}

static void
on_chain(void *arg)
{
	struct tctx	*t = arg;

	rec_add(t->rec, t->id);
	if (t->rec->n < 3)
		(void)ev_timer_add(t->rec->ev, 1, on_chain, t);
}

struct sleeper {
	struct ev	*ev;
	int		 calls;
	int		 stop_after;
	int		 fd;		/* the first call writes a byte here */
};

static void
before_sleep(void *arg)
{
	struct sleeper	*s = arg;

	s->calls++;
	if (s->calls == 1 && s->fd != -1)
		assert_int_equal(write(s->fd, "y", 1), 1);
	if (s->stop_after != 0 && s->calls >= s->stop_after)
		ev_stop(s->ev);
}

/* before_sleep runs before the loop waits: what it writes (a flushed
 * output buffer) wakes the reader in the same run. A hook that stops
 * the loop ends ev_run without waiting at all. */
static void
test_before_sleep(void **state)
{
	struct rec	 r = { .ev = ev_create() };
	struct ioctx	 c = { .rec = &r, .id = 1, .stop = true,
			    .drain = true };
	struct sleeper	 s = { .ev = r.ev, .fd = -1 };
	uint64_t	 start;
	int		 sv[2];

	(void)state;
	make_pair(sv);
	s.fd = sv[1];
	c.fd = sv[0];
	c.w = ev_io_add(r.ev, sv[0], EV_READ, on_io, &c);
	assert_non_null(c.w);
	ev_set_before_sleep(r.ev, before_sleep, &s);
	run(&r);
	assert_int_equal(c.calls, 1);
	assert_true(s.calls >= 1);

	/* Once per iteration: a timer that re-arms itself twice fires in
	 * three different iterations (one added during a pass is never
	 * due in that pass). */
	{
		struct tctx	 t = { .rec = &r, .id = 7 };

		s.calls = 0;
		s.fd = -1;
		r.n = 0;
		r.stop_at = 3;
		(void)ev_timer_add(r.ev, 1, on_chain, &t);
		run(&r);
		assert_int_equal(r.n, 3);
		assert_true(s.calls >= 3);
	}

	/* Nothing ready and nothing due before the watchdog: the hook's
	 * ev_stop must end ev_run before it waits at all. */
	s.calls = 0;
	s.stop_after = 1;
	start = ev_now_ms();
	run(&r);
	assert_int_equal(s.calls, 1);
	assert_true(ev_now_ms() - start < WATCHDOG_MS / 2);

	ev_set_before_sleep(r.ev, NULL, NULL);
	ev_io_del(&c.w);
	(void)close(sv[0]);
	(void)close(sv[1]);
	ev_destroy(&r.ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_deadline_order),
		cmocka_unit_test(test_timer_fifo),
		cmocka_unit_test(test_timer_del),
		cmocka_unit_test(test_timer_heap_del_moves_up),
		cmocka_unit_test(test_timer_del_from_callback),
		cmocka_unit_test(test_destroy_pending),
		cmocka_unit_test(test_io_read),
		cmocka_unit_test(test_io_add_fails),
		cmocka_unit_test(test_io_pause),
		cmocka_unit_test(test_io_pause_hup),
		cmocka_unit_test(test_io_del_pending),
		cmocka_unit_test(test_io_del_self),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_before_sleep),
	};

	return cmocka_run_group_tests_name("ev", tests, NULL, NULL);
}
