/* authproto.c - Dovecot auth protocol parsing; see authproto.h. */
#include <string.h>

#include "authproto.h"
#include "aviary/buf.h"

int
authproto_split(struct str line, struct authproto_args *a)
{
	struct str	 head, rest = line;

	a->n = 0;
	for (;;) {
		bool more = str_split(rest, '\t', &head, &rest);

		if (a->n == AUTHPROTO_MAX_ARGS)
			return -1;
		a->v[a->n++] = head;
		if (!more)
			return 0;
	}
}

size_t
authproto_unescape(struct str in, char *out)
{
	size_t	 i, o = 0;

	for (i = 0; i < in.len; i++) {
		if (in.p[i] != '\001') {
			out[o++] = in.p[i];
			continue;
		}
		if (++i == in.len)
			break;		/* a trailing lone \001 is dropped */
		switch (in.p[i]) {
		case '1': out[o++] = '\001'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case 'n': out[o++] = '\n'; break;
		case '0': out[o++] = '\0'; break;
		default:  out[o++] = in.p[i]; break;
		}
	}
	out[o] = '\0';
	return o;
}

int
authproto_escape(struct buf *out, const char *s, size_t n)
{
	size_t	 i;
	int	 r = 0;

	for (i = 0; i < n && r == 0; i++) {
		switch (s[i]) {
		case '\001': r = buf_append(out, "\0011", 2); break;
		case '\t': r = buf_append(out, "\001t", 2); break;
		case '\r': r = buf_append(out, "\001r", 2); break;
		case '\n': r = buf_append(out, "\001n", 2); break;
		case '\0': r = buf_append(out, "\0010", 2); break;
		default: r = buf_append_c(out, s[i]); break;
		}
	}
	return r;
}

int
authproto_parse_id(struct str s, uint32_t *id_r)
{
	uint64_t	 v;

	if (s.len > 10 || str_to_u64(s, &v) == -1 || v == 0 ||
	    v > UINT32_MAX)
		return -1;
	*id_r = (uint32_t)v;
	return 0;
}

int
authproto_parse_version(const struct authproto_args *a, unsigned *major_r,
    unsigned *minor_r)
{
	uint64_t	 major, minor;

	if (a->n < 3 || !str_eq_cstr(a->v[0], "VERSION") ||
	    a->v[1].len > 5 || a->v[2].len > 5 ||
	    str_to_u64(a->v[1], &major) == -1 ||
	    str_to_u64(a->v[2], &minor) == -1)
		return -1;
	*major_r = (unsigned)major;
	*minor_r = (unsigned)minor;
	return 0;
}

int
authproto_parse_auth(const struct authproto_args *a, unsigned minor,
    struct authproto_auth *r, const char **error_r)
{
	size_t		 i;
	struct str	 name, value;
	bool		 seen_resp = false;

	memset(r, 0, sizeof(*r));
	if (a->n < 4 || !str_eq_cstr(a->v[0], "AUTH")) {
		*error_r = "AUTH needs an id, a mechanism and parameters";
		return -1;
	}
	if (authproto_parse_id(a->v[1], &r->id) == -1) {
		*error_r = "bad request id";
		return -1;
	}
	r->mech = a->v[2];
	if (r->mech.len == 0 || r->mech.len > 64) {
		*error_r = "bad mechanism name";
		return -1;
	}
	for (i = 3; i < a->n; i++) {
		bool has_value = str_split(a->v[i], '=', &name, &value);

		if (seen_resp) {
			/* resp= must be the last field (Dovecot treats a
			 * parameter after it as a client bug). */
			*error_r = "parameter after resp=";
			return -1;
		}
		if (str_eq_cstr(name, "service") && has_value)
			r->service = value;
		else if (str_eq_cstr(name, "lip") && has_value)
			r->lip = value;
		else if (str_eq_cstr(name, "rip") && has_value)
			r->rip = value;
		else if (str_eq_cstr(name, "secured"))
			r->secured = true;
		else if (str_eq_cstr(name, "no-penalty"))
			r->no_penalty = true;
		else if (str_eq_cstr(name, "resp") && has_value) {
			seen_resp = true;
			r->resp = value;
			/* Minor < 2: an empty resp= means none; "=" is a
			 * present but empty response. */
			r->has_resp = value.len > 0 || minor >= 2;
			if (str_eq_cstr(value, "="))
				r->resp = (struct str){ value.p, 0 };
		}
		/* Unknown parameters are ignored (protocols.md 1.1). */
	}
	if (r->service.len == 0) {
		*error_r = "service= is missing";
		return -1;
	}
	return 0;
}

int
authproto_parse_cont(const struct authproto_args *a, uint32_t *id_r,
    struct str *data_r)
{
	if (a->n != 3 || !str_eq_cstr(a->v[0], "CONT") ||
	    authproto_parse_id(a->v[1], id_r) == -1)
		return -1;
	*data_r = a->v[2];
	return 0;
}

int
authproto_parse_cancel(const struct authproto_args *a, uint32_t *id_r)
{
	if (a->n != 2 || !str_eq_cstr(a->v[0], "CANCEL") ||
	    authproto_parse_id(a->v[1], id_r) == -1)
		return -1;
	return 0;
}

int
authproto_parse_user(const struct authproto_args *a, struct str *id_r,
    struct str *user_r, struct str *service_r)
{
	struct str	 name, value;
	size_t		 i;

	if (a->n < 4 || !str_eq_cstr(a->v[0], "USER") || a->v[1].len == 0 ||
	    a->v[1].len > 32 || a->v[2].len == 0)
		return -1;
	*id_r = a->v[1];
	*user_r = a->v[2];
	*service_r = (struct str){ NULL, 0 };
	for (i = 3; i < a->n; i++)
		if (str_split(a->v[i], '=', &name, &value) &&
		    str_eq_cstr(name, "service"))
			*service_r = value;
	return service_r->len > 0 ? 0 : -1;
}
