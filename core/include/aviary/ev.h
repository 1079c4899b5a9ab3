/* aviary/ev.h - a single-threaded epoll event loop (about Redis' ae in
 * size), one per process or worker.
 *
 * I/O watchers: ev_io_add registers fd with EV_READ and/or EV_WRITE and
 * a callback; ev_io_mod changes the interest (0 pauses the fd without
 * forgetting it); ev_io_del forgets it (before the fd is closed). Timers
 * are one-shot, in a binary heap (IMAP keeps thousands of idle timers),
 * with millisecond resolution on CLOCK_MONOTONIC. The loop is never
 * re-entered: callbacks must not call ev_run. Deleting a watcher or
 * timer from inside any callback is safe: a deleted watcher's pending
 * events in the same iteration are dropped, because watchers are freed
 * only at the end of the iteration. before_sleep runs once per
 * iteration, before waiting, to flush output buffers.
 */
#ifndef AVIARY_EV_H
#define AVIARY_EV_H

#include <stdbool.h>
#include <stdint.h>

#include "aviary/compat.h"

#define EV_READ		0x1
#define EV_WRITE	0x2

struct ev;
struct ev_io;
struct ev_timer;

typedef void ev_io_cb(void *ctx, int fd, unsigned events);
typedef void ev_timer_cb(void *ctx);

struct ev	*ev_create(void);
void		 ev_destroy(struct ev **evp);
/* Run until ev_stop(). Returns 0, or -1 if epoll_wait fails for a
 * reason other than EINTR. */
int		 ev_run(struct ev *ev) AV_WARN_UNUSED;
void		 ev_stop(struct ev *ev);
void		 ev_set_before_sleep(struct ev *ev, void (*fn)(void *),
		    void *ctx);
uint64_t	 ev_now_ms(void);	/* CLOCK_MONOTONIC in ms */

/* NULL (errno set) if epoll refuses the fd. */
struct ev_io	*ev_io_add(struct ev *ev, int fd, unsigned events,
		    ev_io_cb *cb, void *ctx) AV_WARN_UNUSED;
int		 ev_io_mod(struct ev_io *w, unsigned events) AV_WARN_UNUSED;
/* Sets *wp to NULL. Does not close the fd. */
void		 ev_io_del(struct ev_io **wp);

/* Fire cb(ctx) once, ms milliseconds from now. */
struct ev_timer	*ev_timer_add(struct ev *ev, uint64_t ms, ev_timer_cb *cb,
		    void *ctx);
/* Sets *tp to NULL; a NULL *tp is fine. Never call it on a timer that
 * has fired: a fired timer is freed by the loop (the callback should
 * clear its own pointer). */
void		 ev_timer_del(struct ev_timer **tp);

#endif
