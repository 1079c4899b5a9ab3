/* proc.c - privileges and inherited descriptors; see aviary/proc.h.
 * The Linux stand-ins for pledge of reference/style.md 3.6: drop all
 * groups, setresgid, setresuid, check that setuid(0) now fails, and
 * PR_SET_NO_NEW_PRIVS. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/log.h"
#include "aviary/proc.h"
#include "aviary/str.h"

int
proc_drop_privileges(const char *user, struct arena *a, const char **error_r)
{
	struct passwd	*pw;

	if (geteuid() != 0) {
		log_info("not running as root: keeping uid %lu (no privileges "
		    "to drop)", (unsigned long)geteuid());
		return 0;
	}
	if (user == NULL || user[0] == '\0' || strcmp(user, "root") == 0) {
		*error_r = "refusing to run as root: set the service's user";
		return -1;
	}
	if ((pw = getpwnam(user)) == NULL) {
		*error_r = arena_printf(a, "unknown user '%s'", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		*error_r = arena_printf(a, "user '%s' has uid 0", user);
		return -1;
	}
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		*error_r = arena_printf(a, "cannot become %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || geteuid() == 0) {
		*error_r = "root privileges could be regained";
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		*error_r = arena_printf(a, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
proc_no_core_dumps(void)
{
	struct rlimit	 rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
proc_inherited_fd(const char *name)
{
	const char	*env = getenv("AVIARY_LISTEN_FDS");
	struct str	 rest, item, key, val;
	uint64_t	 fd;

	if (env == NULL)
		return -1;
	rest = str_from_cstr(env);
	while (rest.len > 0) {
		(void)str_split(rest, ',', &item, &rest);
		if (!str_split(item, '=', &key, &val))
			continue;
		if (str_eq_cstr(key, name) && str_to_u64(val, &fd) == 0 &&
		    fd >= 3 && fd < 1024)
			return (int)fd;
	}
	return -1;
}
