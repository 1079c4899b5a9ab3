/* pool.c - worker threads with one queue in and one queue out; see
 * pool.h. A mutex and a condition variable guard the input queue; the
 * output queue has its own mutex and an eventfd that wakes the loop. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <mysql.h>

#include "passdb.h"
#include "pool.h"
#include "aviary/buf.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"

struct pool {
	struct ev	*ev;
	struct passdb	*pdb;
	pthread_t	*threads;
	unsigned	 nthreads;
	pthread_mutex_t	 in_mu;
	pthread_cond_t	 in_cv;
	struct job	*in_head, *in_tail;
	bool		 stopping;
	pthread_mutex_t	 out_mu;
	struct job	*out_head, *out_tail;
	int		 efd;
	struct ev_io	*efd_io;
};

struct job *
job_new(enum job_kind kind)
{
	struct job	*j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	return j;
}

static void
job_free(struct job *j)
{
	if (j->list != NULL) {
		buf_deinit(j->list);
		free(j->list);
	}
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void *
pool_thread(void *arg)
{
	struct pool		*p = arg;
	struct passdb_conn	*c;
	struct job		*j;
	uint64_t		 one = 1;

	(void)mysql_thread_init();
	c = passdb_conn_create(p->pdb);
	for (;;) {
		(void)pthread_mutex_lock(&p->in_mu);
		while (p->in_head == NULL && !p->stopping)
			(void)pthread_cond_wait(&p->in_cv, &p->in_mu);
		if (p->in_head == NULL) {	/* stopping and drained */
			(void)pthread_mutex_unlock(&p->in_mu);
			break;
		}
		j = p->in_head;
		p->in_head = j->next;
		if (p->in_head == NULL)
			p->in_tail = NULL;
		(void)pthread_mutex_unlock(&p->in_mu);

		passdb_run(c, j);
		explicit_bzero(j->password, sizeof(j->password));

		j->next = NULL;
		(void)pthread_mutex_lock(&p->out_mu);
		if (p->out_tail != NULL)
			p->out_tail->next = j;
		else
			p->out_head = j;
		p->out_tail = j;
		(void)pthread_mutex_unlock(&p->out_mu);
		if (write(p->efd, &one, sizeof(one)) != sizeof(one) &&
		    errno != EAGAIN)
			log_error("pool: eventfd write: %m");
	}
	passdb_conn_destroy(&c);
	mysql_thread_end();
	return NULL;
}

/* Loop thread: run the callbacks of finished jobs. */
static void
pool_drain(struct pool *p)
{
	struct job	*j, *next;

	(void)pthread_mutex_lock(&p->out_mu);
	j = p->out_head;
	p->out_head = p->out_tail = NULL;
	(void)pthread_mutex_unlock(&p->out_mu);
	for (; j != NULL; j = next) {
		next = j->next;
		if (!j->cancelled && j->done != NULL)
			j->done(j, j->ctx);
		job_free(j);
	}
}

static void
pool_on_eventfd(void *ctx, int fd, unsigned events)
{
	struct pool	*p = ctx;
	uint64_t	 n;

	(void)events;
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_error("pool: eventfd read: %m");
	pool_drain(p);
}

struct pool *
pool_create(struct ev *ev, struct passdb *pdb, unsigned threads)
{
	struct pool	*p = xcalloc(1, sizeof(*p));
	unsigned	 i;

	p->ev = ev;
	p->pdb = pdb;
	p->nthreads = threads;
	(void)pthread_mutex_init(&p->in_mu, NULL);
	(void)pthread_cond_init(&p->in_cv, NULL);
	(void)pthread_mutex_init(&p->out_mu, NULL);
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd == -1)
		log_fatal(71, "eventfd: %m");
	p->efd_io = ev_io_add(ev, p->efd, EV_READ, pool_on_eventfd, p);
	if (p->efd_io == NULL)
		log_fatal(71, "epoll: %m");
	/* libmariadb's global init is not thread-safe: do it once here. */
	if (mysql_library_init(0, NULL, NULL) != 0)
		log_fatal(71, "cannot initialise the MariaDB client library");
	p->threads = xcalloc(threads, sizeof(*p->threads));
	for (i = 0; i < threads; i++)
		if (pthread_create(&p->threads[i], NULL, pool_thread, p) != 0)
			log_fatal(71, "pthread_create failed");
	return p;
}

void
pool_submit(struct pool *p, struct job *j)
{
	j->next = NULL;
	(void)pthread_mutex_lock(&p->in_mu);
	if (p->in_tail != NULL)
		p->in_tail->next = j;
	else
		p->in_head = j;
	p->in_tail = j;
	(void)pthread_cond_signal(&p->in_cv);
	(void)pthread_mutex_unlock(&p->in_mu);
}

void
pool_destroy(struct pool **pp)
{
	struct pool	*p = *pp;
	struct job	*j, *next;
	unsigned	 i;

	if (p == NULL)
		return;
	(void)pthread_mutex_lock(&p->in_mu);
	p->stopping = true;
	/* Jobs not started yet are dropped: their requesters are gone. */
	for (j = p->in_head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	p->in_head = p->in_tail = NULL;
	(void)pthread_cond_broadcast(&p->in_cv);
	(void)pthread_mutex_unlock(&p->in_mu);
	for (i = 0; i < p->nthreads; i++)
		(void)pthread_join(p->threads[i], NULL);
	for (j = p->out_head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	ev_io_del(&p->efd_io);
	(void)close(p->efd);
	free(p->threads);
	mysql_library_end();
	free(p);
	*pp = NULL;
}
