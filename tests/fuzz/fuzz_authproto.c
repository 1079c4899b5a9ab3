/* fuzz_authproto.c - the auth protocol as aviary-auth reads it: the input
 * is a stream of client lines (LF-separated; a line over the limit ends
 * the session, as the daemon disconnects). Each line is copied to a block
 * of its own size (ASan sees any read past it), split, every field
 * unescaped, and the line parsed by its verb; every resp= or CONT payload
 * is base64-decoded and fed to PLAIN and LOGIN, and the AUTH's own
 * mechanism carries on across CONT lines. Invariants: escape then
 * unescape gives the bytes back, parsed slices lie inside the line, an
 * empty resp= differs between minor 0 and 2 only as the protocol says,
 * a decoded payload re-encodes to its own length, a finished mechanism
 * has a non-empty user and bounded credentials. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "authproto.h"
#include "aviary/base64.h"
#include "aviary/buf.h"
#include "aviary/mem.h"
#include "fuzz.h"
#include "mech.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

struct session {
	struct mech_state	 m;
	bool			 active;
};

static void
inside(struct str s, const char *line, size_t len)
{
	CHECK(s.len == 0 || (s.p >= line && s.len <= len &&
	    s.p - line <= (ptrdiff_t)(len - s.len)));
}

/* escape -> unescape is the identity; the escaped form has no framing
 * bytes left in it. */
static void
round_trip(const char *p, size_t n)
{
	struct buf	 b;
	char		*back = xmalloc(2 * n + 1);
	size_t		 i;

	buf_init(&b, NULL, 2 * n);		/* the worst case exactly */
	CHECK(authproto_escape(&b, p, n) == 0);
	for (i = 0; i < b.len; i++)
		CHECK(b.data[i] != '\t' && b.data[i] != '\n' &&
		    b.data[i] != '\r' && b.data[i] != '\0');
	CHECK(authproto_unescape((struct str){ b.data, b.len }, back) == n);
	CHECK(memcmp(back, p, n) == 0);
	buf_deinit(&b);
	free(back);
}

static void
field(struct str f)
{
	char	*raw = xmalloc(f.len + 1);
	size_t	 n = authproto_unescape(f, raw);

	CHECK(n <= f.len && raw[n] == '\0');
	round_trip(f.p, f.len);
	round_trip(raw, n);
	free(raw);
}

static void
step(struct mech_state *m, const char *data, size_t len, bool has_data)
{
	char		 user[MECH_USER_MAX + 1], pw[PASSWORD_MAX];
	const char	*challenge = NULL, *err = NULL;

	switch (mech_step(m, data, len, has_data, &challenge, user, pw,
	    &err)) {
	case MECH_CONTINUE:
		CHECK(challenge != NULL);
		break;
	case MECH_DONE:
		CHECK(user[0] != '\0' && strlen(user) <= MECH_USER_MAX &&
		    strlen(pw) < PASSWORD_MAX);
		break;
	default:
		CHECK(err != NULL);
		break;
	}
}

/* Decode a payload and run it through fresh PLAIN and LOGIN states (as
 * initial response, then as password), and through the session's. */
static void
payload(struct str b64, struct session *s)
{
	char			*d = xmalloc(BASE64_DECODED_MAX(b64.len));
	long			 n = base64_decode(b64.p, b64.len, d);
	struct mech_state	 m = { .kind = MECH_PLAIN };

	if (n >= 0) {
		char	*e = xmalloc(b64.len + 1);
		char	*d2 = xmalloc(BASE64_DECODED_MAX(b64.len));

		CHECK(BASE64_ENCODED_LEN((size_t)n) == b64.len);
		base64_encode(d, (size_t)n, e);
		CHECK(base64_decode(e, b64.len, d2) == n);
		CHECK(memcmp(d2, d, (size_t)n) == 0);
		free(e);
		free(d2);
		step(&m, d, (size_t)n, true);
		m = (struct mech_state){ .kind = MECH_LOGIN };
		step(&m, d, (size_t)n, true);
		step(&m, d, (size_t)n, true);
		if (s->active)
			step(&s->m, d, (size_t)n, true);
	} else
		s->active = false;	/* the daemon fails the request */
	free(d);
}

static void
auth(const struct authproto_args *a, const char *line, size_t len,
    struct session *s)
{
	struct authproto_auth	 r0, r2;
	const char		*err = NULL;
	enum mech_kind		 kind;
	int			 rc0 = authproto_parse_auth(a, 0, &r0, &err);

	CHECK(rc0 == 0 || err != NULL);
	CHECK(authproto_parse_auth(a, 2, &r2, &err) == rc0);
	s->active = false;
	if (rc0 != 0)
		return;
	CHECK(r0.id != 0 && r0.service.len > 0 && r0.mech.len > 0);
	inside(r0.service, line, len);
	inside(r0.resp, line, len);
	/* Only an empty resp= reads differently in minor 0 and 2. */
	CHECK(r0.has_resp == r2.has_resp || (r2.has_resp && r2.resp.len == 0));
	if (!mech_find(r0.mech.p, r0.mech.len, &kind))
		return;
	s->m = (struct mech_state){ .kind = kind };
	s->active = true;
	if (r0.has_resp)
		payload(r0.resp, s);
	else
		step(&s->m, "", 0, false);
}

static void
one_line(const char *line, size_t len, struct session *s)
{
	struct authproto_args	 a;
	struct str		 verb, id, user, service, data;
	unsigned		 major, minor;
	uint32_t		 n;
	size_t			 i;

	if (authproto_split((struct str){ line, len }, &a) == -1)
		return;
	CHECK(a.n >= 1 && a.n <= AUTHPROTO_MAX_ARGS);
	for (i = 0; i < a.n; i++) {
		inside(a.v[i], line, len);
		field(a.v[i]);
	}
	if (a.n >= 2 && authproto_parse_id(a.v[1], &n) == 0)
		CHECK(n != 0 && a.v[1].len <= 10);
	verb = a.v[0];
	if (str_eq_cstr(verb, "VERSION") &&
	    authproto_parse_version(&a, &major, &minor) == 0)
		CHECK(major <= 99999 && minor <= 99999);
	else if (str_eq_cstr(verb, "AUTH"))
		auth(&a, line, len, s);
	else if (str_eq_cstr(verb, "CONT") &&
	    authproto_parse_cont(&a, &n, &data) == 0) {
		CHECK(n != 0);
		payload(data, s);
	} else if (str_eq_cstr(verb, "CANCEL") &&
	    authproto_parse_cancel(&a, &n) == 0)
		s->active = false;
	else if (str_eq_cstr(verb, "USER") &&
	    authproto_parse_user(&a, &id, &user, &service) == 0)
		CHECK(id.len > 0 && id.len <= 32 && user.len > 0 &&
		    service.len > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str	 rest = { (const char *)data, size }, line;
	struct session	 s = { .active = false };

	while (rest.len > 0) {
		char	*copy;

		(void)str_split(rest, '\n', &line, &rest);
		if (line.len > AUTHPROTO_CLIENT_LINE_MAX)
			break;
		copy = xmalloc(line.len);
		memcpy(copy, line.p, line.len);
		one_line(copy, line.len, &s);
		free(copy);
	}
	return 0;
}
