/* cmd_pw.c - aviary-admin pw: hash a password the way doveadm pw does,
 * or check one against a stored hash. Needs no configuration and no
 * database, so it works before anything else is set up. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "aviary/password.h"
#include "aviary/str.h"

int
cmd_pw(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char usage[] = "pw [-s SCHEME] [-r ROUNDS] "
	    "[--password-stdin] | pw --verify HASH [--password-stdin]";
	static const struct option longopts[] = {
		{ "scheme", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "verify", required_argument, NULL, 't' },
		{ "password-stdin", no_argument, NULL, 'i' },
		{ "password", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*scheme = PASSWORD_DEFAULT_SCHEME, *verify = NULL;
	const char	*error;
	char		 pw[PASSWORD_MAX], hash[PASSWORD_HASH_MAX];
	uint64_t	 rounds = 0;
	bool		 from_stdin = false;
	int		 c, r;

	(void)ctx;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:r:t:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			scheme = optarg;
			break;
		case 'r':
			if (str_to_u64(str_from_cstr(optarg), &rounds) == -1 ||
			    rounds == 0 || rounds > 999999999)
				admin_fail(EX_DATAERR, "bad rounds '%s'", optarg);
			break;
		case 't':
			verify = optarg;
			break;
		case 'i':
			from_stdin = true;
			break;
		case 'p':
			admin_usage_fail(usage, "passwords are never taken from "
			    "the command line: use --password-stdin or the "
			    "prompt");
		default:
			admin_usage_fail(usage, "bad option '%s'",
			    admin_opt_name(longopts, c == ':' || c == '?' ?
			    optopt : c, argv));
		}
	}
	/* Not echoed: a stray argument here is most likely a password. */
	if (optind != argc)
		admin_usage_fail(usage, "unexpected argument (passwords are "
		    "never taken from the command line)");
	if (verify == NULL && !password_scheme_known(scheme))
		admin_fail(EX_DATAERR, "unknown scheme '%s' (SHA512-CRYPT, "
		    "SHA256-CRYPT, BLF-CRYPT, YESCRYPT, CRYPT, PLAIN)", scheme);
	admin_read_password(from_stdin, pw, sizeof(pw));
	if (verify != NULL) {
		r = password_verify(pw, verify, &error);
		explicit_bzero(pw, sizeof(pw));
		if (r == -1)
			admin_fail(EX_DATAERR, "cannot verify: %s", error);
		if (r == 0)
			admin_fail(EX_MISMATCH, "password does not match");
		(void)printf("verified\n");
		return 0;
	}
	r = password_hash(scheme, (unsigned)rounds, pw, hash, sizeof(hash),
	    &error);
	explicit_bzero(pw, sizeof(pw));
	if (r == -1)
		admin_fail(EX_DATAERR, "%s", error);
	(void)printf("%s\n", hash);
	return 0;
}
