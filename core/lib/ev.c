/* ev.c - epoll loop with a timer heap; see aviary/ev.h.
 *
 * Watchers live on the heap; ev_io_del marks a watcher dead and moves it
 * to a graveyard freed at the end of the iteration, so an event already
 * returned by epoll_wait for it is skipped instead of touching freed
 * memory (the libuv close-callback idea). Timers are a binary min-heap of
 * pointers; each timer knows its loop and its slot, so deletion is
 * O(log n). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"

#define EV_BATCH	64

struct ev_io {
	struct ev	*ev;
	int		 fd;
	unsigned	 events;
	bool		 dead;
	ev_io_cb	*cb;
	void		*ctx;
	struct ev_io	*next_dead;
};

struct ev_timer {
	struct ev	*ev;
	uint64_t	 when;
	uint64_t	 seq;		/* FIFO order among equal deadlines */
	size_t		 slot;
	ev_timer_cb	*cb;
	void		*ctx;
};

struct ev {
	int		  epfd;
	bool		  stopping;
	struct ev_io	 *graveyard;
	struct ev_timer	**heap;
	size_t		  nheap, capheap;
	uint64_t	  seq;
	void		(*before_sleep)(void *);
	void		 *before_sleep_ctx;
};

uint64_t
ev_now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ev *
ev_create(void)
{
	struct ev	*ev = xcalloc(1, sizeof(*ev));

	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd == -1)
		log_fatal(71, "epoll_create1: %m");
	return ev;
}

static void
ev_bury(struct ev *ev)
{
	struct ev_io	*w;

	while ((w = ev->graveyard) != NULL) {
		ev->graveyard = w->next_dead;
		free(w);
	}
}

void
ev_destroy(struct ev **evp)
{
	struct ev	*ev = *evp;
	size_t		 i;

	if (ev == NULL)
		return;
	ev_bury(ev);
	for (i = 0; i < ev->nheap; i++)
		free(ev->heap[i]);
	free(ev->heap);
	(void)close(ev->epfd);
	free(ev);
	*evp = NULL;
}

void
ev_stop(struct ev *ev)
{
	ev->stopping = true;
}

void
ev_set_before_sleep(struct ev *ev, void (*fn)(void *), void *ctx)
{
	ev->before_sleep = fn;
	ev->before_sleep_ctx = ctx;
}

static uint32_t
ev_mask(unsigned events)
{
	return ((events & EV_READ) ? EPOLLIN | EPOLLRDHUP : 0) |
	    ((events & EV_WRITE) ? EPOLLOUT : 0);
}

struct ev_io *
ev_io_add(struct ev *ev, int fd, unsigned events, ev_io_cb *cb, void *ctx)
{
	struct ev_io		*w = xcalloc(1, sizeof(*w));
	struct epoll_event	 e = { .events = ev_mask(events), .data.ptr = w };

	w->ev = ev;
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->ctx = ctx;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) == -1) {
		int saved = errno;

		free(w);
		errno = saved;
		return NULL;
	}
	if (events == 0)	/* added only to check the fd; see ev_io_mod */
		(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
	return w;
}

/* A paused fd is taken out of the epoll set, not given an empty mask:
 * epoll reports EPOLLHUP and EPOLLERR whatever the mask, so a paused fd
 * whose peer hung up would end every epoll_wait at once (a busy loop).
 * The fd is in the set exactly when w->events != 0. */
int
ev_io_mod(struct ev_io *w, unsigned events)
{
	struct epoll_event	 e = { .events = ev_mask(events), .data.ptr = w };
	int			 op = EPOLL_CTL_MOD;

	if (w->events == events)
		return 0;
	if (events == 0)
		op = EPOLL_CTL_DEL;
	else if (w->events == 0)
		op = EPOLL_CTL_ADD;
	if (epoll_ctl(w->ev->epfd, op, w->fd, &e) == -1)
		return -1;
	w->events = events;
	return 0;
}

void
ev_io_del(struct ev_io **wp)
{
	struct ev_io	*w = *wp;

	if (w == NULL)
		return;
	(void)epoll_ctl(w->ev->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;
	w->next_dead = w->ev->graveyard;
	w->ev->graveyard = w;
	*wp = NULL;
}

static bool
timer_before(const struct ev_timer *a, const struct ev_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void
heap_set(struct ev *ev, size_t i, struct ev_timer *t)
{
	ev->heap[i] = t;
	t->slot = i;
}

static void
heap_up(struct ev *ev, size_t i)
{
	struct ev_timer	*t = ev->heap[i];

	while (i > 0 && timer_before(t, ev->heap[(i - 1) / 2])) {
		heap_set(ev, i, ev->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(ev, i, t);
}

static void
heap_down(struct ev *ev, size_t i)
{
	struct ev_timer	*t = ev->heap[i];
	size_t		 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= ev->nheap)
			break;
		if (c + 1 < ev->nheap && timer_before(ev->heap[c + 1],
		    ev->heap[c]))
			c++;
		if (!timer_before(ev->heap[c], t))
			break;
		heap_set(ev, i, ev->heap[c]);
		i = c;
	}
	heap_set(ev, i, t);
}

static void
heap_remove(struct ev *ev, size_t i)
{
	struct ev_timer	*last = ev->heap[--ev->nheap];

	if (i == ev->nheap)
		return;
	heap_set(ev, i, last);
	heap_down(ev, i);
	heap_up(ev, last->slot);
}

struct ev_timer *
ev_timer_add(struct ev *ev, uint64_t ms, ev_timer_cb *cb, void *ctx)
{
	struct ev_timer	*t = xcalloc(1, sizeof(*t));

	t->ev = ev;
	t->when = ev_now_ms() + ms;
	t->seq = ev->seq++;
	t->cb = cb;
	t->ctx = ctx;
	if (ev->nheap == ev->capheap) {
		ev->capheap = ev->capheap ? ev->capheap * 2 : 64;
		ev->heap = xrealloc(ev->heap, ev->capheap * sizeof(*ev->heap));
	}
	heap_set(ev, ev->nheap++, t);
	heap_up(ev, t->slot);
	return t;
}

void
ev_timer_del(struct ev_timer **tp)
{
	struct ev_timer	*t = *tp;

	if (t == NULL)
		return;
	ASSERT(t->slot < t->ev->nheap && t->ev->heap[t->slot] == t);
	heap_remove(t->ev, t->slot);
	free(t);
	*tp = NULL;
}

static void
ev_run_timers(struct ev *ev)
{
	uint64_t	 now = ev_now_ms();
	struct ev_timer	*t;

	while (ev->nheap > 0 && ev->heap[0]->when <= now && !ev->stopping) {
		t = ev->heap[0];
		heap_remove(ev, 0);
		t->cb(t->ctx);
		free(t);
	}
}

int
ev_run(struct ev *ev)
{
	struct epoll_event	 evs[EV_BATCH];
	int			 n, i, timeout;
	uint64_t		 now;

	ev->stopping = false;
	while (!ev->stopping) {
		if (ev->before_sleep != NULL)
			ev->before_sleep(ev->before_sleep_ctx);
		if (ev->stopping)
			break;
		timeout = -1;
		if (ev->nheap > 0) {
			now = ev_now_ms();
			timeout = ev->heap[0]->when <= now ? 0 :
			    (ev->heap[0]->when - now > 60000 ? 60000 :
			    (int)(ev->heap[0]->when - now));
		}
		n = epoll_wait(ev->epfd, evs, EV_BATCH, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n && !ev->stopping; i++) {
			struct ev_io	*w = evs[i].data.ptr;
			unsigned	 got = 0;

			if (w->dead)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR))
				got |= EV_READ;
			if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				got |= EV_WRITE;
			got &= w->events ? w->events : 0;
			if (got == 0 && (evs[i].events & (EPOLLHUP | EPOLLERR)))
				got = w->events;
			if (got != 0)
				w->cb(w->ctx, w->fd, got);
		}
		ev_run_timers(ev);
		ev_bury(ev);
	}
	return 0;
}
