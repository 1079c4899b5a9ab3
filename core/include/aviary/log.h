/* aviary/log.h - process logging.
 *
 * One logger per process: log_init() names the process and picks stderr
 * (foreground, journald, docker) or syslog. %m expands to strerror(errno)
 * of the errno at the call; every log call saves and restores errno so
 * it never changes the caller's error state. Messages are one line: CR,
 * LF and other control bytes in the formatted text are escaped as \xNN so
 * a client cannot forge log lines. log_fatal() exits with the given
 * status (startup and configuration only); log_panic() aborts for a core
 * (our bugs only). Never pass passwords, SASL payloads or hashes here.
 */
#ifndef AVIARY_LOG_H
#define AVIARY_LOG_H

#include <stdbool.h>

#include "aviary/compat.h"

enum log_level { LOG_L_DEBUG, LOG_L_INFO, LOG_L_WARN, LOG_L_ERROR };

void	log_init(const char *ident, bool to_syslog, enum log_level min);
void	log_set_level(enum log_level min);
void	log_debug(const char *fmt, ...) AV_PRINTFLIKE(1, 2);
void	log_info(const char *fmt, ...) AV_PRINTFLIKE(1, 2);
void	log_warn(const char *fmt, ...) AV_PRINTFLIKE(1, 2);
void	log_error(const char *fmt, ...) AV_PRINTFLIKE(1, 2);
void	log_fatal(int status, const char *fmt, ...) AV_PRINTFLIKE(2, 3)
	    AV_NORETURN;
void	log_panic(const char *fmt, ...) AV_PRINTFLIKE(1, 2) AV_NORETURN;

#define ASSERT(expr) do {						\
	if (!(expr))							\
		log_panic("assertion failed: %s (%s:%d)", #expr,	\
		    __FILE__, __LINE__);				\
} while (0)

#endif
