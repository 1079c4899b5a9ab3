/* main.c - aviaryd: arguments, configuration, daemonizing; the logic is
 * in supervisor.c (docs/aviaryd.md).
 *
 *   aviaryd [-F] [-c FILE]        run the platform
 *   aviaryd [-c FILE] --check     validate and print the effective config
 *
 * Exit status: 0 after a graceful stop (SIGTERM/SIGINT) or --check,
 * 64 usage, 78 configuration error (file:line), 71 system error. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aviary/arena.h"
#include "aviary/config.h"
#include "aviary/log.h"
#include "supervisor.h"

#define EX_USAGE	64
#define EX_OSERR	71
#define EX_IOERR	74
#define EX_CONFIG	78

static void
usage(FILE *out)
{
	(void)fprintf(out, "usage: aviaryd [-F] [-c FILE]\n"
	    "       aviaryd [-c FILE] --check\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  -F, --foreground   stay in the foreground, log to stderr\n"
	    "  -n, --check        validate, print the effective "
	    "configuration, exit\n", AVIARY_CONFIG_DEFAULT);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct aviary_config	 cfg;
	struct supervisor	*sup;
	struct arena		*a, *ea;
	const char		*config = AVIARY_CONFIG_DEFAULT, *error;
	char			 path[PATH_MAX], exe_dir[PATH_MAX];
	bool			 check = false, foreground = false;
	int			 c, status;

	log_init("aviaryd", false, LOG_L_INFO);
	while ((c = getopt_long(argc, argv, "c:Fnh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'F':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (daemon_sanitize_stdio() == -1)
		log_fatal(EX_OSERR, "/dev/null: %m");
	(void)umask(077);	/* sockets get their mode explicitly */
	if (supervisor_abspath(config, path, sizeof(path)) == -1)
		log_fatal(EX_CONFIG, "%s: cannot make the path absolute", config);
	if (supervisor_exe_dir(exe_dir, sizeof(exe_dir)) == -1)
		log_fatal(EX_OSERR, "/proc/self/exe: cannot find aviaryd's own "
		    "directory");

	a = arena_create(64 * 1024);
	ea = arena_create(4096);
	if (supervisor_config_load(&cfg, path, exe_dir, a, &error) == -1)
		log_fatal(EX_CONFIG, "%s", error);
	if (check) {
		conf_dump(aviary_config_table, &cfg, stdout);
		status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : EX_IOERR;
		arena_destroy(&ea);
		arena_destroy(&a);
		return status;
	}

	sup = supervisor_create(path, exe_dir, &cfg, &a, foreground, ea,
	    &error);
	if (sup == NULL)
		log_fatal(EX_OSERR, "%s", error);
	if (!foreground) {
		if (daemon_detach(ea, &error) == -1) {
			supervisor_destroy(&sup);
			log_fatal(EX_OSERR, "%s", error);
		}
		log_init("aviaryd", true, LOG_L_INFO);
	}
	status = supervisor_run(sup);
	supervisor_destroy(&sup);
	arena_destroy(&ea);
	return status;
}
