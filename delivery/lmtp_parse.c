/* lmtp_parse.c - LMTP command and DATA parsing; see lmtp_parse.h. */
#include <string.h>
#include <strings.h>

#include "lmtp_parse.h"

enum lmtp_verb
lmtp_parse_verb(struct str line, struct str *args_r)
{
	static const struct {
		const char	*name;
		enum lmtp_verb	 verb;
	} verbs[] = {
		{ "LHLO", LV_LHLO }, { "HELO", LV_HELO }, { "EHLO", LV_EHLO },
		{ "MAIL", LV_MAIL }, { "RCPT", LV_RCPT }, { "DATA", LV_DATA },
		{ "RSET", LV_RSET }, { "NOOP", LV_NOOP }, { "QUIT", LV_QUIT },
		{ "VRFY", LV_VRFY }, { "BDAT", LV_BDAT },
	};
	struct str	 verb;
	size_t		 i;

	(void)str_split(line, ' ', &verb, args_r);
	for (i = 0; i < N_ELEMENTS(verbs); i++)
		if (str_caseeq_cstr(verb, verbs[i].name))
			return verbs[i].verb;
	return LV_UNKNOWN;
}

static bool
param_is(struct str p, const char *name, struct str *value_r)
{
	size_t	 n = strlen(name);

	if (p.len <= n || p.p[n] != '=' || strncasecmp(p.p, name, n) != 0)
		return false;
	*value_r = (struct str){ p.p + n + 1, p.len - n - 1 };
	return true;
}

int
lmtp_parse_path(struct str args, const char *prefix, struct lmtp_path *p,
    const char **error_r)
{
	size_t		 plen = strlen(prefix), i;
	const char	*close;
	struct str	 rest, param, value;

	memset(p, 0, sizeof(*p));
	if (args.len < plen + 1 || strncasecmp(args.p, prefix, plen) != 0 ||
	    args.p[plen] != ':') {
		*error_r = "Syntax error in parameters";
		return -1;
	}
	args.p += plen + 1;
	args.len -= plen + 1;
	while (args.len > 0 && args.p[0] == ' ') {	/* "FROM: <x>" */
		args.p++;
		args.len--;
	}
	if (args.len == 0 || args.p[0] != '<' ||
	    (close = memchr(args.p, '>', args.len)) == NULL) {
		*error_r = "Syntax error: address not in <>";
		return -1;
	}
	p->addr = (struct str){ args.p + 1, (size_t)(close - args.p - 1) };
	for (i = 0; i < p->addr.len; i++)
		if ((unsigned char)p->addr.p[i] <= ' ' || p->addr.p[i] == '<' ||
		    p->addr.p[i] == 0x7f) {
			*error_r = "Syntax error in address";
			return -1;
		}
	if (p->addr.len == 0 && strcmp(prefix, "TO") == 0) {
		*error_r = "Null recipient";
		return -1;
	}
	rest = (struct str){ close + 1, args.len - (size_t)(close + 1 - args.p) };
	if (rest.len > 0 && rest.p[0] != ' ') {
		*error_r = "Syntax error after the address";
		return -1;
	}
	while (rest.len > 0) {
		while (rest.len > 0 && rest.p[0] == ' ') {
			rest.p++;
			rest.len--;
		}
		if (rest.len == 0)
			break;
		(void)str_split(rest, ' ', &param, &rest);
		if (param_is(param, "SIZE", &value)) {
			if (str_to_u64(value, &p->size) == -1) {
				*error_r = "Bad SIZE parameter";
				return -1;
			}
			p->has_size = true;
		} else if (param_is(param, "BODY", &value)) {
			if (str_caseeq_cstr(value, "8BITMIME"))
				p->body_8bit = true;
			else if (!str_caseeq_cstr(value, "7BIT")) {
				*error_r = "Unsupported BODY type";
				return -1;
			}
		} else {
			*error_r = "Unsupported parameter";
			return -1;
		}
	}
	return 0;
}

size_t
lmtp_data_decode(struct lmtp_data *d, const char *in, size_t n, char *out,
    size_t *out_len_r)
{
	size_t	 i, o = 0;

	for (i = 0; i < n && d->state != LD_END; i++) {
		char	 c = in[i];

		switch (d->state) {
		case LD_BOL:
			if (c == '.') {
				d->state = LD_DOT;
				continue;
			}
			d->state = LD_LINE;
			__attribute__((fallthrough));
		case LD_LINE:
line:
			if (c == '\r')
				d->state = LD_CR;
			else if (c == '\n') {
				out[o++] = '\n';
				d->state = LD_BOL;
			} else
				out[o++] = c;
			continue;
		case LD_CR:
			if (c == '\n') {
				out[o++] = '\n';
				d->state = LD_BOL;
				continue;
			}
			out[o++] = '\r';	/* a bare CR stays */
			d->state = LD_LINE;
			goto line;
		case LD_DOT:
			if (c == '\r') {
				d->state = LD_DOT_CR;
				continue;
			}
			if (c == '\n') {	/* ".\n": a lenient end */
				d->state = LD_END;
				continue;
			}
			/* A stuffed dot (RFC 5321 4.5.2): drop it. */
			d->state = LD_LINE;
			goto line;
		case LD_DOT_CR:
			if (c == '\n') {
				d->state = LD_END;
				continue;
			}
			/* ".\r<x>": the dot was stuffing, the CR is data. */
			out[o++] = '\r';
			d->state = LD_LINE;
			goto line;
		case LD_END:
			break;
		}
	}
	*out_len_r = o;
	return i;
}
