/* log.c - one-line log messages to stderr or syslog. Control bytes are
 * escaped so that text a client sent cannot forge a second log line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "aviary/log.h"

#define LOG_LINE_MAX	4096

static const char	*log_ident = "aviary";
static bool		 log_to_syslog;
static enum log_level	 log_min = LOG_L_INFO;

void
log_init(const char *ident, bool to_syslog, enum log_level min)
{
	log_ident = ident;
	log_to_syslog = to_syslog;
	log_min = min;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_level(enum log_level min)
{
	log_min = min;
}

static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
    AV_PRINTFLIKE(3, 0);

static void
log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	char	 raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	size_t	 i, o = 0;
	int	 saved = errno;

	errno = saved;		/* %m below reads it */
	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		(void)snprintf(raw, sizeof(raw), "(unformattable: %s)", fmt);
	for (i = 0; raw[i] != '\0' && o + 5 < sizeof(line); i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c == 0x7f) {
			static const char hex[] = "0123456789abcdef";

			line[o++] = '\\';
			line[o++] = 'x';
			line[o++] = hex[c >> 4];
			line[o++] = hex[c & 15];
		} else {
			line[o++] = (char)c;
		}
	}
	line[o] = '\0';
	if (log_to_syslog)
		syslog(prio, "%s%s", tag, line);
	else
		(void)fprintf(stderr, "%s[%ld]: %s%s\n", log_ident,
		    (long)getpid(), tag, line);
	errno = saved;
}

#define LOG_FN(name, level, prio, tag)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
	int	 saved = errno;						\
									\
	if (level < log_min)						\
		return;							\
	va_start(ap, fmt);						\
	errno = saved;							\
	log_emit(prio, tag, fmt, ap);					\
	va_end(ap);							\
	errno = saved;							\
}

LOG_FN(log_debug, LOG_L_DEBUG, LOG_DEBUG, "debug: ")
LOG_FN(log_info, LOG_L_INFO, LOG_INFO, "")
LOG_FN(log_warn, LOG_L_WARN, LOG_WARNING, "warning: ")
LOG_FN(log_error, LOG_L_ERROR, LOG_ERR, "error: ")

void
log_fatal(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(status);
}

void
log_panic(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "panic: ", fmt, ap);
	va_end(ap);
	abort();
}
