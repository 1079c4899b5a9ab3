/* mech.h - SASL mechanisms PLAIN (RFC 4616) and LOGIN, as step functions
 * over decoded client data. Pure: no I/O, no allocation; the state is a
 * small struct in the request. Each step yields a challenge to send
 * (CONT), or the credentials (user and password, NUL-terminated, in
 * caller buffers that the caller clears), or a failure.
 */
#ifndef AVIARY_MECH_H
#define AVIARY_MECH_H

#include <stdbool.h>
#include <stddef.h>

#include "aviary/addr.h"
#include "aviary/password.h"

#define MECH_USER_MAX	ADDR_MAX	/* longer login names are refused */

enum mech_kind { MECH_PLAIN, MECH_LOGIN };

enum mech_result {
	MECH_CONTINUE,		/* send *challenge_r (may be "") */
	MECH_DONE,		/* user and password are set */
	MECH_FAIL,		/* *error_r says why; a failed login */
	MECH_AUTHZ_FAIL,	/* PLAIN: authzid differs from authcid */
};

struct mech_state {
	enum mech_kind	 kind;
	unsigned	 step;
	char		 user[MECH_USER_MAX + 1];	/* LOGIN: from step 1 */
};

/* Look up a mechanism by name (case-insensitive). false if unknown. */
bool		mech_find(const char *name, size_t len, enum mech_kind *kind_r);
const char	*mech_name(enum mech_kind kind);

/* One step. has_data false: the client gave no (initial) response. The
 * challenge is plain text (the caller base64-encodes it). user_r holds
 * MECH_USER_MAX + 1 bytes, password_r PASSWORD_MAX. */
enum mech_result mech_step(struct mech_state *m, const char *data, size_t len,
		    bool has_data, const char **challenge_r, char *user_r,
		    char *password_r, const char **error_r);

#endif
