/* logfwd.c - the services' stderr into aviaryd's log; see supervisor.h.
 *
 * The services log to stderr (log_init(..., false, ...)): right under
 * `aviaryd -F`, systemd or docker, which collect stderr. As a daemon,
 * aviaryd's stderr is /dev/null and it logs to syslog, so it gives the
 * services one pipe as stdout and stderr instead and logs every line
 * it reads from it, like Dovecot's log process. All services share the
 * pipe: a log line is one write(2) of at most LOG_LINE_MAX bytes, and
 * writes up to PIPE_BUF (4096) bytes are atomic, so lines do not mix.
 * aviaryd keeps the write end open for later children, which also means
 * the read end never sees end of file while aviaryd runs.
 *
 * A line "aviary-auth[42]: warning: text" is logged as a warning
 * "aviary-auth[42]: text"; untagged lines (and anything unexpected, such
 * as a sanitizer report) as information. Lines longer than the buffer
 * are logged in pieces: nothing is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/ev.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "supervisor.h"

#define LOGFWD_LINE_MAX	4096

struct logfwd {
	int		 rfd, wfd;
	struct ev_io	*io;
	size_t		 len;
	char		 line[LOGFWD_LINE_MAX + 1];
};

static const struct {
	const char	*tag;
	enum log_level	 level;
	bool		 strip;		/* the level says it again */
} logfwd_tags[] = {
	{ "debug: ", LOG_L_DEBUG, true },
	{ "warning: ", LOG_L_WARN, true },
	{ "error: ", LOG_L_ERROR, true },
	/* Kept in the text: log_error adds only "error: ". */
	{ "fatal: ", LOG_L_ERROR, false },
	{ "panic: ", LOG_L_ERROR, false },
};

static void
logfwd_emit(const char *s)
{
	const char	*colon = strstr(s, "]: ");
	const char	*msg = s;
	enum log_level	 level = LOG_L_INFO;
	size_t		 i;
	int		 head = 0;	/* < LOGFWD_LINE_MAX */

	if (colon != NULL) {
		msg = colon + 3;
		head = (int)(msg - s);
		for (i = 0; i < N_ELEMENTS(logfwd_tags); i++) {
			size_t tl = strlen(logfwd_tags[i].tag);

			if (strncmp(msg, logfwd_tags[i].tag, tl) != 0)
				continue;
			level = logfwd_tags[i].level;
			if (logfwd_tags[i].strip)
				msg += tl;
			break;
		}
	}
	switch (level) {
	case LOG_L_DEBUG:
		log_debug("%.*s%s", head, s, msg);
		break;
	case LOG_L_WARN:
		log_warn("%.*s%s", head, s, msg);
		break;
	case LOG_L_ERROR:
		log_error("%.*s%s", head, s, msg);
		break;
	case LOG_L_INFO:
		log_info("%s", s);
		break;
	}
}

/* Log every complete line in the buffer; with 'all', the rest too. */
static void
logfwd_flush(struct logfwd *lf, bool all)
{
	char	*start = lf->line, *nl;
	size_t	 rest;

	lf->line[lf->len] = '\0';
	while ((nl = memchr(start, '\n', lf->len - (size_t)(start -
	    lf->line))) != NULL) {
		*nl = '\0';
		if (nl > start)
			logfwd_emit(start);
		start = nl + 1;
	}
	rest = lf->len - (size_t)(start - lf->line);
	if ((all || rest == LOGFWD_LINE_MAX) && rest > 0) {
		logfwd_emit(start);
		rest = 0;
	}
	memmove(lf->line, start, rest);
	lf->len = rest;
}

static void
logfwd_read(struct logfwd *lf)
{
	ssize_t	 n;

	for (;;) {
		n = read(lf->rfd, lf->line + lf->len,
		    LOGFWD_LINE_MAX - lf->len);
		if (n > 0) {
			lf->len += (size_t)n;
			logfwd_flush(lf, false);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		break;		/* EAGAIN: all read; 0 cannot happen (wfd) */
	}
}

static void
logfwd_on_read(void *ctx, int fd, unsigned events)
{
	(void)fd;
	(void)events;
	logfwd_read(ctx);
}

struct logfwd *
logfwd_create(struct ev *ev, struct arena *a, const char **error_r)
{
	struct logfwd	*lf = xcalloc(1, sizeof(*lf));
	int		 p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		*error_r = arena_printf(a, "pipe: %s", strerror(errno));
		free(lf);
		return NULL;
	}
	lf->rfd = p[0];
	lf->wfd = p[1];
	if (fcntl(lf->rfd, F_SETFL, O_NONBLOCK) == -1 ||
	    (lf->io = ev_io_add(ev, lf->rfd, EV_READ, logfwd_on_read,
	    lf)) == NULL) {
		*error_r = arena_printf(a, "log pipe: %s", strerror(errno));
		(void)close(p[0]);
		(void)close(p[1]);
		free(lf);
		return NULL;
	}
	return lf;
}

int
logfwd_write_fd(const struct logfwd *lf)
{
	return lf->wfd;
}

void
logfwd_destroy(struct logfwd **lfp)
{
	struct logfwd	*lf = *lfp;

	if (lf == NULL)
		return;
	logfwd_read(lf);
	logfwd_flush(lf, true);
	ev_io_del(&lf->io);
	(void)close(lf->rfd);
	(void)close(lf->wfd);
	free(lf);
	*lfp = NULL;
}
