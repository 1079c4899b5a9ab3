/* aviary/mem.h - heap allocation that never returns NULL.
 *
 * Memory exhaustion is fatal (as in Postfix, Dovecot, Redis): every
 * function here aborts the process with a log line when the allocator
 * fails, so callers never test for NULL. Sizes are checked for overflow
 * before multiplying. mem.c is the only file allowed to call malloc.
 */
#ifndef AVIARY_MEM_H
#define AVIARY_MEM_H

#include <stddef.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);	/* zeroed; nmemb*size checked */
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);	/* copies at most n bytes + NUL */
/* Clear n bytes at p with explicit_bzero, then free. For secrets. */
void	 xfree_secret(void *p, size_t n);

#endif
