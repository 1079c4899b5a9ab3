/* mech.c - SASL PLAIN and LOGIN; see mech.h.
 *
 * PLAIN (RFC 4616): message = [authzid] NUL authcid NUL passwd, exactly
 * two NULs. An authzid equal to the authcid is treated as empty (as
 * Dovecot does); any other authzid is refused: Aviary has no master
 * users. LOGIN (draft-murchison-sasl-login): "Username:" then
 * "Password:"; an initial response is the user name. */
#include <string.h>
#include <strings.h>

#include "mech.h"

bool
mech_find(const char *name, size_t len, enum mech_kind *kind_r)
{
	if (len == 5 && strncasecmp(name, "PLAIN", 5) == 0) {
		*kind_r = MECH_PLAIN;
		return true;
	}
	if (len == 5 && strncasecmp(name, "LOGIN", 5) == 0) {
		*kind_r = MECH_LOGIN;
		return true;
	}
	return false;
}

const char *
mech_name(enum mech_kind kind)
{
	return kind == MECH_PLAIN ? "PLAIN" : "LOGIN";
}

static enum mech_result
mech_copy(const char *what, const char *data, size_t len, char *out,
    size_t outsz, const char **error_r)
{
	if (len >= outsz) {
		*error_r = what;
		return MECH_FAIL;
	}
	if (memchr(data, '\0', len) != NULL) {
		*error_r = "NUL in credentials";
		return MECH_FAIL;
	}
	memcpy(out, data, len);
	out[len] = '\0';
	return MECH_DONE;
}

static enum mech_result
mech_plain(struct mech_state *m, const char *data, size_t len, bool has_data,
    const char **challenge_r, char *user_r, char *password_r,
    const char **error_r)
{
	const char	*nul1, *nul2, *authcid, *pw;
	size_t		 zlen, clen, plen;

	if (!has_data) {
		if (m->step++ > 0) {
			*error_r = "no response";
			return MECH_FAIL;
		}
		*challenge_r = "";
		return MECH_CONTINUE;
	}
	nul1 = memchr(data, '\0', len);
	nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - data)) :
	    NULL;
	if (nul1 == NULL || nul2 == NULL ||
	    memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - data)) != NULL) {
		*error_r = "malformed PLAIN message";
		return MECH_FAIL;
	}
	zlen = (size_t)(nul1 - data);
	authcid = nul1 + 1;
	clen = (size_t)(nul2 - authcid);
	pw = nul2 + 1;
	plen = len - (size_t)(pw - data);
	if (clen == 0) {
		*error_r = "empty user name";
		return MECH_FAIL;
	}
	if (zlen != 0 && (zlen != clen || memcmp(data, authcid, clen) != 0)) {
		*error_r = "authorization identity differs";
		return MECH_AUTHZ_FAIL;
	}
	if (mech_copy("user name too long", authcid, clen, user_r,
	    MECH_USER_MAX + 1, error_r) != MECH_DONE)
		return MECH_FAIL;
	return mech_copy("password too long", pw, plen, password_r,
	    PASSWORD_MAX, error_r);
}

static enum mech_result
mech_login(struct mech_state *m, const char *data, size_t len, bool has_data,
    const char **challenge_r, char *user_r, char *password_r,
    const char **error_r)
{
	switch (m->step) {
	case 0:
		m->step = 1;
		if (!has_data) {
			*challenge_r = "Username:";
			return MECH_CONTINUE;
		}
		/* An initial response is the user name. (An attribute:
		 * clang ignores FALLTHROUGH comments.) */
		__attribute__((fallthrough));
	case 1:
		if (mech_copy("user name too long", data, len, m->user,
		    sizeof(m->user), error_r) != MECH_DONE)
			return MECH_FAIL;
		if (m->user[0] == '\0') {
			*error_r = "empty user name";
			return MECH_FAIL;
		}
		m->step = 2;
		*challenge_r = "Password:";
		return MECH_CONTINUE;
	case 2:
		m->step = 3;
		memcpy(user_r, m->user, strlen(m->user) + 1);
		return mech_copy("password too long", data, len, password_r,
		    PASSWORD_MAX, error_r);
	default:
		*error_r = "unexpected data";
		return MECH_FAIL;
	}
}

enum mech_result
mech_step(struct mech_state *m, const char *data, size_t len, bool has_data,
    const char **challenge_r, char *user_r, char *password_r,
    const char **error_r)
{
	if (m->kind == MECH_PLAIN)
		return mech_plain(m, data, len, has_data, challenge_r, user_r,
		    password_r, error_r);
	return mech_login(m, data, len, has_data, challenge_r, user_r,
	    password_r, error_r);
}
