/* authproto.h - the Dovecot authentication protocol, version 1, as pure
 * functions over lines: splitting, tab-escaping, and parsing the client
 * requests (AUTH, CONT, CANCEL, and the userdb socket's USER, LIST,
 * CACHE-FLUSH). No I/O and no allocation: results are slices into the
 * caller's line, which must outlive them. These are what
 * tests/fuzz/fuzz_authproto.c drives.
 *
 * Framing (protocols.md 1.1): lines end with LF; fields are separated by
 * TAB; values may be escaped with \001 (\001 1 = 0x01, \001 t = TAB,
 * \001 r = CR, \001 n = LF, \001 0 = NUL).
 */
#ifndef AVIARY_AUTHPROTO_H
#define AVIARY_AUTHPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aviary/compat.h"
#include "aviary/str.h"

struct buf;

/* The client socket's line limit (Dovecot's AUTH_CLIENT_MAX_LINE_LENGTH:
 * GSSAPI can send large packets) and the userdb socket's. A longer line
 * disconnects the client. */
#define AUTHPROTO_CLIENT_LINE_MAX	16384
#define AUTHPROTO_USERDB_LINE_MAX	1024
#define AUTHPROTO_MAX_ARGS		64

struct authproto_args {
	size_t		 n;
	struct str	 v[AUTHPROTO_MAX_ARGS];
};

/* Split a line (without its LF) at TABs. -1 if it has more than
 * AUTHPROTO_MAX_ARGS fields. */
int	authproto_split(struct str line, struct authproto_args *a)
	    AV_WARN_UNUSED;
/* Unescape 'in' into out (in.len + 1 bytes; NUL-terminated, but the
 * value may contain NULs). Returns the length. */
size_t	authproto_unescape(struct str in, char *out);
/* Append s (n bytes) escaped. 0, or BUF_EFULL. */
int	authproto_escape(struct buf *out, const char *s, size_t n)
	    AV_WARN_UNUSED;

/* VERSION\t<major>\t<minor> */
int	authproto_parse_version(const struct authproto_args *a,
	    unsigned *major_r, unsigned *minor_r) AV_WARN_UNUSED;

struct authproto_auth {
	uint32_t	 id;
	struct str	 mech;
	struct str	 service;
	struct str	 lip, rip;	/* may be empty */
	bool		 secured;
	bool		 no_penalty;
	bool		 has_resp;	/* an initial response was given */
	struct str	 resp;		/* base64, not decoded */
};

/* AUTH\t<id>\t<mech>\tservice=<s>[\t<param>...][\tresp=<b64>]. 'minor'
 * is the client's protocol minor version: below 2, an empty resp= means
 * no initial response (protocols.md 1.4). -1 with *error_r (static) when
 * malformed: zero or non-numeric id, no service, anything after resp=. */
int	authproto_parse_auth(const struct authproto_args *a, unsigned minor,
	    struct authproto_auth *r, const char **error_r) AV_WARN_UNUSED;

/* CONT\t<id>\t<b64> and CANCEL\t<id>. */
int	authproto_parse_cont(const struct authproto_args *a, uint32_t *id_r,
	    struct str *data_r) AV_WARN_UNUSED;
int	authproto_parse_cancel(const struct authproto_args *a, uint32_t *id_r)
	    AV_WARN_UNUSED;

/* userdb socket: USER\t<id>\t<user>\tservice=<s>[...], LIST\t<id>[...],
 * CACHE-FLUSH\t<id>[\t<user>...], PENALTY-LIST\t<id>,
 * PENALTY-CLEAR\t<id>[\t<ip>]. The id is any non-empty token up to 32
 * bytes (echoed back, never interpreted). */
int	authproto_parse_user(const struct authproto_args *a, struct str *id_r,
	    struct str *user_r, struct str *service_r) AV_WARN_UNUSED;

/* A decimal request id: 1 .. 2^32-1. */
int	authproto_parse_id(struct str s, uint32_t *id_r) AV_WARN_UNUSED;

#endif
