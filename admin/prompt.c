/* prompt.c - reading passwords: one line from standard input
 * (--password-stdin) or asked twice on the terminal with echo off. Never
 * from argv, never into a log. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "aviary/password.h"

/* Read one line from fd into out (no line end). 1 = line, 0 = EOF
 * before any byte, -1 = error or too long. *more_r: bytes followed. */
static int
read_line_fd(int fd, char *out, size_t outsz, bool *more_r)
{
	size_t	 n = 0;
	char	 c;
	ssize_t	 r;

	*more_r = false;
	for (;;) {
		r = read(fd, &c, 1);	/* byte by byte: never read past the line */
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		if (c == '\n') {
			/* Anything after the line? Only meaningful for a
			 * pipe or file; a terminal would block. */
			if (!isatty(fd)) {
				char	 extra;

				do
					r = read(fd, &extra, 1);
				while (r == -1 && errno == EINTR);
				*more_r = r == 1;
			}
			if (n > 0 && out[n - 1] == '\r')
				n--;
			out[n] = '\0';
			return 1;
		}
		if (n + 1 >= outsz) {
			explicit_bzero(out, outsz);
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return n > 0 ? 1 : 0;
}

static void
tty_write(int fd, const char *s, size_t n)
{
	/* A prompt that cannot be shown is not worth failing over. */
	if (write(fd, s, n) < 0)
		return;
}

static int
prompt_tty(int fd, const char *question, char *out, size_t outsz)
{
	struct termios	 old, quiet;
	bool		 more;
	int		 r;

	if (tcgetattr(fd, &old) == -1)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off first, then the prompt: a password typed as soon as the
	 * prompt shows is neither echoed nor discarded (TCSAFLUSH drops
	 * only what was typed before the prompt, as getpass does). */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) == -1)
		return -1;
	tty_write(fd, question, strlen(question));
	r = read_line_fd(fd, out, outsz, &more);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	tty_write(fd, "\n", 1);
	return r;
}

void
admin_read_password(bool from_stdin, char *out, size_t outsz)
{
	char	 again[PASSWORD_MAX];
	bool	 more;
	int	 r, fd;

	if (from_stdin) {
		r = read_line_fd(STDIN_FILENO, out, outsz, &more);
		if (r == -1)
			admin_fail(EX_DATAERR, "cannot read the password from "
			    "standard input (longer than %zu bytes?)",
			    outsz - 1);
		if (r == 0)
			admin_fail(EX_USAGE, "--password-stdin: no password on "
			    "standard input");
		if (more) {
			explicit_bzero(out, outsz);
			admin_fail(EX_USAGE, "--password-stdin: expected one "
			    "line, got more");
		}
		if (out[0] == '\0')
			admin_fail(EX_DATAERR, "empty password");
		return;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || !isatty(fd))
		admin_fail(EX_USAGE, "no terminal to ask for the password: "
		    "use --password-stdin (passwords are never taken from the "
		    "command line)");
	r = prompt_tty(fd, "Password: ", out, outsz);
	if (r != 1 || out[0] == '\0') {
		(void)close(fd);
		explicit_bzero(out, outsz);
		admin_fail(EX_DATAERR, "empty password");
	}
	r = prompt_tty(fd, "Retype password: ", again, sizeof(again));
	(void)close(fd);
	if (r != 1 || strcmp(out, again) != 0) {
		explicit_bzero(out, outsz);
		explicit_bzero(again, sizeof(again));
		admin_fail(EX_DATAERR, "the passwords do not match");
	}
	explicit_bzero(again, sizeof(again));
}

bool
admin_confirm(struct admin_ctx *ctx, const char *question)
{
	char	 answer[16];
	bool	 more;
	int	 fd, r;

	if (ctx->yes || !isatty(STDIN_FILENO))
		return true;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return true;
	tty_write(fd, question, strlen(question));
	tty_write(fd, " [y/N] ", 7);
	r = read_line_fd(fd, answer, sizeof(answer), &more);
	(void)close(fd);
	return r == 1 && (strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0);
}
