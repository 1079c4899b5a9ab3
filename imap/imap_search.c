/* imap_search.c - SEARCH arguments into a key tree; see imap_parse.h.
 *
 * RFC 3501 6.4.4 and 9 (search-key), RFC 4731 (RETURN options), RFC 5182
 * ("$" and SAVE). Recursive descent over the argument array: a
 * parenthesised group is a LIST argument, so the reader has already
 * matched the parentheses; NOT and OR recurse on the following keys. The
 * depth of that recursion is bounded (IMAP_SEARCH_DEPTH_MAX) so that a
 * command of "NOT NOT NOT ..." cannot exhaust the stack.
 */
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "imap_int.h"
#include "aviary/arena.h"

enum karg { KA_NONE, KA_STRING, KA_HEADER, KA_DATE, KA_SIZE, KA_SEQSET,
	KA_KEYWORD, KA_NOT, KA_OR };

static const struct {
	const char	*name;
	enum imap_skey	 type;
	enum karg	 arg;
} keys[] = {
	{ "ALL", IMAP_SK_ALL, KA_NONE },
	{ "ANSWERED", IMAP_SK_ANSWERED, KA_NONE },
	{ "BCC", IMAP_SK_BCC, KA_STRING },
	{ "BEFORE", IMAP_SK_BEFORE, KA_DATE },
	{ "BODY", IMAP_SK_BODY, KA_STRING },
	{ "CC", IMAP_SK_CC, KA_STRING },
	{ "DELETED", IMAP_SK_DELETED, KA_NONE },
	{ "DRAFT", IMAP_SK_DRAFT, KA_NONE },
	{ "FLAGGED", IMAP_SK_FLAGGED, KA_NONE },
	{ "FROM", IMAP_SK_FROM, KA_STRING },
	{ "HEADER", IMAP_SK_HEADER, KA_HEADER },
	{ "KEYWORD", IMAP_SK_KEYWORD, KA_KEYWORD },
	{ "LARGER", IMAP_SK_LARGER, KA_SIZE },
	{ "NEW", IMAP_SK_NEW, KA_NONE },
	{ "NOT", IMAP_SK_NOT, KA_NOT },
	{ "OLD", IMAP_SK_OLD, KA_NONE },
	{ "ON", IMAP_SK_ON, KA_DATE },
	{ "OR", IMAP_SK_OR, KA_OR },
	{ "RECENT", IMAP_SK_RECENT, KA_NONE },
	{ "SEEN", IMAP_SK_SEEN, KA_NONE },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, KA_DATE },
	{ "SENTON", IMAP_SK_SENTON, KA_DATE },
	{ "SENTSINCE", IMAP_SK_SENTSINCE, KA_DATE },
	{ "SINCE", IMAP_SK_SINCE, KA_DATE },
	{ "SMALLER", IMAP_SK_SMALLER, KA_SIZE },
	{ "SUBJECT", IMAP_SK_SUBJECT, KA_STRING },
	{ "TEXT", IMAP_SK_TEXT, KA_STRING },
	{ "TO", IMAP_SK_TO, KA_STRING },
	{ "UID", IMAP_SK_UID, KA_SEQSET },
	{ "UNANSWERED", IMAP_SK_UNANSWERED, KA_NONE },
	{ "UNDELETED", IMAP_SK_UNDELETED, KA_NONE },
	{ "UNDRAFT", IMAP_SK_UNDRAFT, KA_NONE },
	{ "UNFLAGGED", IMAP_SK_UNFLAGGED, KA_NONE },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, KA_KEYWORD },
	{ "UNSEEN", IMAP_SK_UNSEEN, KA_NONE },
};

struct sctx {
	struct arena		 *a;
	const struct imap_arg	 *args;
	size_t			  n, i;
	const char		**error_r;
};

static int parse_key(struct sctx *c, struct imap_search_key *k,
    unsigned depth);

static int
fail(struct sctx *c, const char *msg)
{
	*c->error_r = msg;
	return -1;
}

/* Keys from c->args[c->i..n) into an AND node (at least one key). */
static int
parse_keys(struct sctx *c, struct imap_search_key *k, unsigned depth)
{
	size_t	 left = c->n - c->i;

	if (left == 0)
		return fail(c, "Missing search key");
	k->type = IMAP_SK_AND;
	/* At most one key per argument: size the array by that. */
	k->u.and.k = arena_zalloc(c->a, left * sizeof(*k->u.and.k));
	k->u.and.n = 0;
	while (c->i < c->n)
		if (parse_key(c, &k->u.and.k[k->u.and.n++], depth) != 0)
			return -1;
	return 0;
}

static const struct imap_arg *
next_arg(struct sctx *c)
{
	return c->i < c->n ? &c->args[c->i++] : NULL;
}

static int
parse_key(struct sctx *c, struct imap_search_key *k, unsigned depth)
{
	const struct imap_arg	*arg = next_arg(c), *v;
	uint64_t		 size;
	size_t			 i;

	if (arg == NULL)
		return fail(c, "Missing search key");
	if (arg->type == IMAP_ARG_LIST) {
		struct sctx sub = { c->a, arg->list, arg->len, 0, c->error_r };

		if (depth >= IMAP_SEARCH_DEPTH_MAX)
			return fail(c, "Search keys nested too deep");
		return parse_keys(&sub, k, depth + 1);
	}
	if (arg->type != IMAP_ARG_ATOM)
		return fail(c, "Invalid search key");
	if ((arg->str[0] >= '0' && arg->str[0] <= '9') || arg->str[0] == '*' ||
	    arg->str[0] == '$') {
		k->type = IMAP_SK_SEQSET;
		return imap_seqset_parse(c->a, arg->str, arg->len, &k->u.set,
		    c->error_r);
	}
	for (i = 0; i < N_ELEMENTS(keys); i++)
		if (strcasecmp(arg->str, keys[i].name) == 0)
			break;
	if (i == N_ELEMENTS(keys))
		return fail(c, "Unknown search key");
	k->type = keys[i].type;
	switch (keys[i].arg) {
	case KA_NONE:
		return 0;
	case KA_STRING:
		if (imap_arg_get_astring(next_arg(c), &k->u.str) != 0)
			return fail(c, "Invalid search string");
		return 0;
	case KA_HEADER:
		if (imap_arg_get_astring(next_arg(c), &k->u.header.name) != 0 ||
		    imap_arg_get_astring(next_arg(c), &k->u.header.value) != 0)
			return fail(c, "Invalid HEADER search");
		return 0;
	case KA_KEYWORD:
		v = next_arg(c);
		if (v == NULL || v->type != IMAP_ARG_ATOM ||
		    !imap_is_atom(v->str, v->len))
			return fail(c, "Invalid keyword");
		k->u.str = v->str;
		return 0;
	case KA_DATE:
		/* date = date-text / DQUOTE date-text DQUOTE */
		v = next_arg(c);
		if (v == NULL || (v->type != IMAP_ARG_ATOM &&
		    v->type != IMAP_ARG_QUOTED) ||
		    imap_date_parse(v->str, v->len, &k->u.date) != 0)
			return fail(c, "Invalid search date");
		return 0;
	case KA_SIZE:
		if (imap_arg_get_number(next_arg(c), INT64_MAX, &size) != 0)
			return fail(c, "Invalid search size");
		k->u.size = size;
		return 0;
	case KA_SEQSET:
		v = next_arg(c);
		if (v == NULL || v->type != IMAP_ARG_ATOM)
			return fail(c, "Invalid UID set");
		return imap_seqset_parse(c->a, v->str, v->len, &k->u.set,
		    c->error_r);
	case KA_NOT:
	case KA_OR:
		if (depth >= IMAP_SEARCH_DEPTH_MAX)
			return fail(c, "Search keys nested too deep");
		k->u.sub[0] = arena_zalloc(c->a, sizeof(*k));
		if (parse_key(c, k->u.sub[0], depth + 1) != 0)
			return -1;
		if (keys[i].arg == KA_NOT)
			return 0;
		k->u.sub[1] = arena_zalloc(c->a, sizeof(*k));
		return parse_key(c, k->u.sub[1], depth + 1);
	}
	return fail(c, "Invalid search key");
}

static int
parse_return(struct imap_search *r, const struct imap_arg *list,
    const char **error_r)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} opts[] = {
		{ "MIN", IMAP_SRET_MIN }, { "MAX", IMAP_SRET_MAX },
		{ "ALL", IMAP_SRET_ALL }, { "COUNT", IMAP_SRET_COUNT },
		{ "SAVE", IMAP_SRET_SAVE },
	};
	size_t	 i, j;

	if (list == NULL || list->type != IMAP_ARG_LIST) {
		*error_r = "Invalid RETURN options";
		return -1;
	}
	r->esearch = true;
	for (i = 0; i < list->len; i++) {
		for (j = 0; j < N_ELEMENTS(opts); j++)
			if (imap_arg_atom_is(&list->list[i], opts[j].name))
				break;
		if (j == N_ELEMENTS(opts)) {
			*error_r = "Unknown RETURN option";
			return -1;
		}
		r->ret |= opts[j].bit;
	}
	if (list->len == 0)	/* RFC 4731 3.1: RETURN () is RETURN (ALL) */
		r->ret = IMAP_SRET_ALL;
	return 0;
}

int
imap_search_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
    struct imap_search *r, const char **error_r)
{
	struct sctx	 c = { a, args, nargs, 0, error_r };
	const char	*cs;

	memset(r, 0, sizeof(*r));
	if (c.i < c.n && imap_arg_atom_is(&args[c.i], "RETURN")) {
		if (parse_return(r, c.i + 1 < c.n ? &args[c.i + 1] : NULL,
		    error_r) != 0)
			return -1;
		c.i += 2;
	}
	if (c.i < c.n && imap_arg_atom_is(&args[c.i], "CHARSET")) {
		if (imap_arg_get_astring(c.i + 1 < c.n ? &args[c.i + 1] : NULL,
		    &cs) != 0) {
			*error_r = "Invalid CHARSET";
			return -1;
		}
		if (strcasecmp(cs, "UTF-8") == 0)
			r->charset = "UTF-8";
		else if (strcasecmp(cs, "US-ASCII") == 0)
			r->charset = "US-ASCII";
		else {
			*error_r = "Unsupported charset";
			return IMAP_SEARCH_BADCHARSET;
		}
		c.i += 2;
	}
	r->root = arena_zalloc(a, sizeof(*r->root));
	return parse_keys(&c, r->root, 0);
}
