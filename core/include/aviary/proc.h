/* aviary/proc.h - process set-up for daemons: privilege drop (bind, then
 * drop, then serve), core-dump suppression for processes that hold
 * secrets, and inherited listening sockets.
 */
#ifndef AVIARY_PROC_H
#define AVIARY_PROC_H

#include "aviary/compat.h"

struct arena;

/* When running as root: become 'user' (and its primary group, no
 * supplementary groups), verify that root cannot be regained, and set
 * no_new_privs. Not root: nothing to drop; returns 0 after a log line.
 * -1 with *error_r on failure (the caller must exit). */
int	proc_drop_privileges(const char *user, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* No core files, not dumpable (no ptrace by same-uid processes). */
void	proc_no_core_dumps(void);
/* The descriptor that aviaryd passed for 'name' in AVIARY_LISTEN_FDS
 * ("client=3,userdb=4"), or -1 when not given. */
int	proc_inherited_fd(const char *name);

#endif
