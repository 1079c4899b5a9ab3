/* imap_cmds.c - the command table and each command's argument parser;
 * see imap_parse.h.
 *
 * One row per command (RFC 3501 6, and the extensions named in the
 * header): where it is allowed, whether "UID" may prefix it, and a parser
 * that checks the argument count and types and fills struct imap_args.
 * Parsers never act; the server's handler does, on the typed result.
 */
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "imap_int.h"
#include "aviary/arena.h"

static int
bad(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

static const struct imap_arg *
arg_at(const struct imap_cmd *cmd, size_t i)
{
	return i < cmd->nargs ? &cmd->args[i] : NULL;
}

static char *
upper_dup(struct arena *a, const char *s)
{
	char	*u = arena_strdup(a, s), *p;

	for (p = u; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

/* --- no arguments --- */

static int
p_none(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	(void)a;
	(void)r;
	if (cmd->nargs != 0)
		return bad(error_r, "Unexpected arguments");
	return 0;
}

/* EXPUNGE; UID EXPUNGE seq-set (RFC 4315 2.1). */
static int
p_expunge(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	if (!cmd->uid)
		return p_none(a, cmd, r, error_r);
	if (cmd->nargs != 1)
		return bad(error_r, "UID EXPUNGE takes a UID set");
	return imap_arg_get_seqset(a, &cmd->args[0], &r->u.copy.set, error_r);
}

/* --- not authenticated --- */

/* LOGIN userid password: two astrings. */
static int
p_login(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	(void)a;
	if (cmd->nargs != 2 ||
	    imap_arg_get_astring(&cmd->args[0], &r->u.login.user) != 0 ||
	    imap_arg_get_astring(&cmd->args[1], &r->u.login.pass) != 0)
		return bad(error_r, "LOGIN takes a user name and a password");
	return 0;
}

static bool
base64_text(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' ||
		    *s == '='))
			return false;
	return true;
}

/* AUTHENTICATE mechanism [initial-response] (RFC 4959: base64, or "="
 * for an empty one). */
static int
p_authenticate(struct arena *a, const struct imap_cmd *cmd,
    struct imap_args *r, const char **error_r)
{
	const char	*mech, *ir;

	if (cmd->nargs < 1 || cmd->nargs > 2 ||
	    imap_arg_get_atom(&cmd->args[0], &mech) != 0 ||
	    !imap_is_atom(mech, strlen(mech)))
		return bad(error_r, "AUTHENTICATE takes a mechanism name");
	r->u.auth.mech = upper_dup(a, mech);
	if (cmd->nargs == 2) {
		if (imap_arg_get_atom(&cmd->args[1], &ir) != 0 ||
		    !base64_text(ir))
			return bad(error_r, "Invalid initial response");
		r->u.auth.ir = strcmp(ir, "=") == 0 ? "" : ir;
	}
	return 0;
}

/* --- any state --- */

/* ID ( "(" *(string SP nstring) ")" / NIL ), RFC 2971 3.3 limits. */
static int
p_id(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	const struct imap_arg	*l = arg_at(cmd, 0);
	size_t			 i, n;

	if (cmd->nargs != 1 || (l->type != IMAP_ARG_NIL &&
	    l->type != IMAP_ARG_LIST))
		return bad(error_r, "ID takes a list or NIL");
	if (l->type == IMAP_ARG_NIL)
		return 0;
	if (l->len % 2 != 0)
		return bad(error_r, "ID list must hold field-value pairs");
	n = l->len / 2;
	if (n > IMAP_ID_PAIRS_MAX)
		return bad(error_r, "Too many ID fields");
	r->u.id.keys = arena_alloc(a, (n > 0 ? n : 1) * sizeof(char *));
	r->u.id.values = arena_alloc(a, (n > 0 ? n : 1) * sizeof(char *));
	for (i = 0; i < n; i++) {
		const char	*k, *v;

		if (imap_arg_get_string(&l->list[2 * i], &k) != 0 ||
		    imap_arg_get_nstring(&l->list[2 * i + 1], &v) != 0)
			return bad(error_r, "Invalid ID field");
		if (strlen(k) > IMAP_ID_KEY_MAX)
			return bad(error_r, "ID field name too long");
		if (v != NULL && strlen(v) > IMAP_ID_VALUE_MAX)
			return bad(error_r, "ID field value too long");
		r->u.id.keys[i] = k;
		r->u.id.values[i] = v;
	}
	r->u.id.n = n;
	return 0;
}

/* --- authenticated --- */

/* ENABLE capability *(SP capability) (RFC 5161). */
static int
p_enable(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	const char	*s;
	size_t		 i;

	if (cmd->nargs == 0)
		return bad(error_r, "ENABLE takes capability names");
	r->u.enable.caps = arena_alloc(a, cmd->nargs * sizeof(char *));
	for (i = 0; i < cmd->nargs; i++) {
		if (imap_arg_get_atom(&cmd->args[i], &s) != 0 ||
		    !imap_is_atom(s, strlen(s)))
			return bad(error_r, "Invalid capability name");
		r->u.enable.caps[i] = upper_dup(a, s);
	}
	r->u.enable.n = cmd->nargs;
	return 0;
}

/* "(" name [SP value] *(SP name [SP value]) ")" (RFC 4466 select-params
 * and create-params). A value is whatever is not a parameter name: a
 * list, a number, a sequence set. */
static int
params(struct arena *a, const struct imap_arg *l, struct imap_param **pr,
    size_t *nr, const char **error_r)
{
	size_t		 i, n = 0;
	struct imap_param *p;

	if (l->type != IMAP_ARG_LIST || l->len == 0)
		return bad(error_r, "Invalid parameter list");
	p = arena_zalloc(a, l->len * sizeof(*p));
	for (i = 0; i < l->len; i++) {
		const struct imap_arg	*x = &l->list[i];
		const char		*name;

		if (imap_arg_get_atom(x, &name) != 0 ||
		    !((name[0] >= 'A' && name[0] <= 'Z') ||
		    (name[0] >= 'a' && name[0] <= 'z')) ||
		    !imap_is_atom(name, x->len))
			return bad(error_r, "Invalid parameter name");
		p[n].name = upper_dup(a, name);
		if (i + 1 < l->len) {
			const struct imap_arg *v = &l->list[i + 1];

			if (v->type == IMAP_ARG_LIST ||
			    (v->type == IMAP_ARG_ATOM &&
			    ((v->str[0] >= '0' && v->str[0] <= '9') ||
			    v->str[0] == '*' || v->str[0] == '$'))) {
				p[n].value = v;
				i++;
			}
		}
		n++;
	}
	*pr = p;
	*nr = n;
	return 0;
}

/* SELECT / EXAMINE / CREATE mailbox [SP "(" params ")"]. */
static int
p_mbox_params(struct arena *a, const struct imap_cmd *cmd,
    struct imap_args *r, const char **error_r)
{
	if (cmd->nargs < 1 || cmd->nargs > 2 ||
	    imap_arg_get_mailbox(&cmd->args[0], &r->u.mbox.mailbox) != 0)
		return bad(error_r, "Invalid mailbox name");
	if (cmd->nargs == 2)
		return params(a, &cmd->args[1], &r->u.mbox.params,
		    &r->u.mbox.nparams, error_r);
	return 0;
}

/* DELETE / SUBSCRIBE / UNSUBSCRIBE / GETQUOTAROOT mailbox. */
static int
p_mbox(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	(void)a;
	if (cmd->nargs != 1 ||
	    imap_arg_get_mailbox(&cmd->args[0], &r->u.mbox.mailbox) != 0)
		return bad(error_r, "Invalid mailbox name");
	return 0;
}

static int
p_rename(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	(void)a;
	if (cmd->nargs != 2 ||
	    imap_arg_get_mailbox(&cmd->args[0], &r->u.rename.from) != 0 ||
	    imap_arg_get_mailbox(&cmd->args[1], &r->u.rename.to) != 0)
		return bad(error_r, "RENAME takes two mailbox names");
	return 0;
}

/* list-mailbox = 1*list-char / string: atoms may hold % * ]. */
static int
list_pattern(const struct imap_arg *x, const char **r)
{
	size_t	 i;

	if (x == NULL)
		return -1;
	if (x->type != IMAP_ARG_ATOM && x->type != IMAP_ARG_NIL)
		return imap_arg_get_string(x, r);
	for (i = 0; i < x->len; i++)
		if (!imap_atom_char((unsigned char)x->str[i]) &&
		    strchr("%*]", x->str[i]) == NULL)
			return -1;
	*r = x->str;
	return 0;
}

static const struct {
	const char	*name;
	unsigned	 bit;
} status_items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "SIZE", IMAP_STATUS_SIZE },
};

/* "(" status-att *(SP status-att) ")" */
static int
status_list(const struct imap_arg *l, unsigned *items, const char **error_r)
{
	size_t	 i, j;

	if (l == NULL || l->type != IMAP_ARG_LIST || l->len == 0)
		return bad(error_r, "Invalid STATUS items");
	for (i = 0; i < l->len; i++) {
		for (j = 0; j < N_ELEMENTS(status_items); j++)
			if (imap_arg_atom_is(&l->list[i], status_items[j].name))
				break;
		if (j == N_ELEMENTS(status_items))
			return bad(error_r, "Unknown STATUS item");
		*items |= status_items[j].bit;
	}
	return 0;
}

struct opt {
	const char	*name;
	unsigned	 bit;
};

static int
opt_bit(const struct imap_arg *x, const struct opt *opts, size_t nopts,
    unsigned *bits, const char **error_r)
{
	size_t	 j;

	for (j = 0; j < nopts; j++)
		if (imap_arg_atom_is(x, opts[j].name)) {
			*bits |= opts[j].bit;
			return 0;
		}
	return bad(error_r, "Unknown LIST option");
}

/* LIST [ "(" selection-opts ")" SP ] reference SP
 *      ( list-mailbox / "(" list-mailbox *(SP list-mailbox) ")" )
 *      [ SP RETURN SP "(" return-opts ")" ]            (RFC 5258 6)
 * LSUB reference SP list-mailbox.
 * Unknown options are BAD (RFC 5258 3), and so is RECURSIVEMATCH with no
 * selection option but REMOTE beside it (RFC 5258 3.1). */
static int
p_list(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	static const struct opt sel[] = {
		{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED },
		{ "REMOTE", IMAP_LIST_SEL_REMOTE },
		{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH },
		{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIAL_USE },
	};
	static const struct opt ret[] = {
		{ "SUBSCRIBED", IMAP_LIST_RET_SUBSCRIBED },
		{ "CHILDREN", IMAP_LIST_RET_CHILDREN },
		{ "SPECIAL-USE", IMAP_LIST_RET_SPECIAL_USE },
	};
	bool			 lsub = strcmp(cmd->name, "LSUB") == 0;
	const struct imap_arg	*x;
	size_t			 i = 0, j;

	if (!lsub && cmd->nargs > 0 && cmd->args[0].type == IMAP_ARG_LIST) {
		r->u.list.extended = true;
		for (j = 0; j < cmd->args[0].len; j++)
			if (opt_bit(&cmd->args[0].list[j], sel, N_ELEMENTS(sel),
			    &r->u.list.sel, error_r) != 0)
				return -1;
		if ((r->u.list.sel & IMAP_LIST_SEL_RECURSIVEMATCH) != 0 &&
		    (r->u.list.sel & ~(IMAP_LIST_SEL_RECURSIVEMATCH |
		    IMAP_LIST_SEL_REMOTE)) == 0)
			return bad(error_r,
			    "RECURSIVEMATCH needs another selection option");
		i++;
	}
	if (imap_arg_get_astring(arg_at(cmd, i), &r->u.list.ref) != 0)
		return bad(error_r, "Invalid reference name");
	i++;
	x = arg_at(cmd, i++);
	if (x != NULL && x->type == IMAP_ARG_LIST && !lsub) {
		r->u.list.extended = true;
		if (x->len == 0)
			return bad(error_r, "Empty pattern list");
		r->u.list.patterns = arena_alloc(a, x->len * sizeof(char *));
		for (j = 0; j < x->len; j++)
			if (list_pattern(&x->list[j],
			    &r->u.list.patterns[j]) != 0)
				return bad(error_r, "Invalid mailbox pattern");
		r->u.list.npatterns = x->len;
	} else {
		r->u.list.patterns = arena_alloc(a, sizeof(char *));
		if (list_pattern(x, &r->u.list.patterns[0]) != 0)
			return bad(error_r, "Invalid mailbox pattern");
		r->u.list.npatterns = 1;
	}
	if (!lsub && i < cmd->nargs && imap_arg_atom_is(&cmd->args[i],
	    "RETURN")) {
		x = arg_at(cmd, i + 1);
		if (x == NULL || x->type != IMAP_ARG_LIST)
			return bad(error_r, "Invalid RETURN options");
		r->u.list.extended = true;
		for (j = 0; j < x->len; j++) {
			/* STATUS takes its item list (RFC 5819). */
			if (imap_arg_atom_is(&x->list[j], "STATUS")) {
				r->u.list.ret |= IMAP_LIST_RET_STATUS;
				if (status_list(j + 1 < x->len ?
				    &x->list[j + 1] : NULL, &r->u.list.status,
				    error_r) != 0)
					return -1;
				j++;
				continue;
			}
			if (opt_bit(&x->list[j], ret, N_ELEMENTS(ret),
			    &r->u.list.ret, error_r) != 0)
				return -1;
		}
		i += 2;
	}
	if (i != cmd->nargs)
		return bad(error_r, "Unexpected arguments");
	return 0;
}

/* STATUS mailbox SP "(" status-att *(SP status-att) ")" */
static int
p_status(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	(void)a;
	if (cmd->nargs != 2 ||
	    imap_arg_get_mailbox(&cmd->args[0], &r->u.status.mailbox) != 0)
		return bad(error_r, "STATUS takes a mailbox and items");
	return status_list(&cmd->args[1], &r->u.status.items, error_r);
}

/* APPEND mailbox 1*( [SP flag-list] [SP date-time] SP literal )
 * (RFC 3501 6.3.11; several messages per MULTIAPPEND, RFC 3502). */
static int
p_append(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	size_t			 i = 1, n = 0;
	struct imap_append_msg	*m;

	if (cmd->nargs < 2 ||
	    imap_arg_get_mailbox(&cmd->args[0], &r->u.append.mailbox) != 0)
		return bad(error_r, "APPEND takes a mailbox and a message");
	/* At most one message per argument after the mailbox. */
	r->u.append.msgs = arena_zalloc(a, cmd->nargs * sizeof(*m));
	while (i < cmd->nargs) {
		const struct imap_arg *x = &cmd->args[i];

		m = &r->u.append.msgs[n];
		if (x->type == IMAP_ARG_LIST) {
			if (imap_flags_parse(a, x, 1, &m->flags, error_r) != 0)
				return -1;
			x = arg_at(cmd, ++i);
		}
		if (x != NULL && x->type == IMAP_ARG_QUOTED) {
			if (imap_datetime_parse(x->str, x->len, &m->date,
			    &m->date_tz) != 0)
				return bad(error_r, "Invalid APPEND date-time");
			m->has_date = true;
			x = arg_at(cmd, ++i);
		}
		if (x == NULL || (x->type != IMAP_ARG_LITERAL &&
		    x->type != IMAP_ARG_SINK))
			return bad(error_r, "APPEND message must be a literal");
		m->msg = x;
		n++;
		i++;
	}
	r->u.append.n = n;
	return 0;
}

/* GETQUOTA quota-root (RFC 9208 4.2). */
static int
p_getquota(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	(void)a;
	if (cmd->nargs != 1 ||
	    imap_arg_get_astring(&cmd->args[0], &r->u.quota.root) != 0)
		return bad(error_r, "GETQUOTA takes a quota root");
	return 0;
}

/* SETQUOTA quota-root SP "(" [name SP number *(SP name SP number)] ")" */
static int
p_setquota(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	const struct imap_arg	*l = arg_at(cmd, 1);
	const char		*name;
	size_t			 i, n;

	if (cmd->nargs != 2 ||
	    imap_arg_get_astring(&cmd->args[0], &r->u.quota.root) != 0 ||
	    l->type != IMAP_ARG_LIST || l->len % 2 != 0)
		return bad(error_r, "SETQUOTA takes a root and a list");
	n = l->len / 2;
	r->u.quota.res = arena_alloc(a, (n > 0 ? n : 1) *
	    sizeof(*r->u.quota.res));
	for (i = 0; i < n; i++) {
		if (imap_arg_get_atom(&l->list[2 * i], &name) != 0 ||
		    !imap_is_atom(name, strlen(name)) ||
		    imap_arg_get_number(&l->list[2 * i + 1], INT64_MAX,
		    &r->u.quota.res[i].limit) != 0)
			return bad(error_r, "Invalid quota resource");
		r->u.quota.res[i].name = upper_dup(a, name);
	}
	r->u.quota.n = n;
	return 0;
}

/* --- selected --- */

static int
p_search(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	return imap_search_parse(a, cmd->args, cmd->nargs, &r->u.search,
	    error_r);
}

static int
p_fetch(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	if (cmd->nargs < 2)
		return bad(error_r, "FETCH takes a set and attributes");
	if (imap_arg_get_seqset(a, &cmd->args[0], &r->u.fetch.set,
	    error_r) != 0)
		return -1;
	return imap_fetch_parse(a, cmd->args + 1, cmd->nargs - 1,
	    &r->u.fetch.atts, error_r);
}

/* STORE seq-set SP (["+" / "-"] "FLAGS" [".SILENT"]) SP
 *     (flag-list / (flag *(SP flag))) */
static int
p_store(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	const char	*item;

	if (cmd->nargs < 3)
		return bad(error_r, "STORE takes a set, an item and flags");
	if (imap_arg_get_seqset(a, &cmd->args[0], &r->u.store.set,
	    error_r) != 0)
		return -1;
	if (imap_arg_get_atom(&cmd->args[1], &item) != 0)
		return bad(error_r, "Invalid STORE item");
	r->u.store.mode = IMAP_STORE_SET;
	if (item[0] == '+' || item[0] == '-') {
		r->u.store.mode = item[0] == '+' ? IMAP_STORE_ADD :
		    IMAP_STORE_REMOVE;
		item++;
	}
	if (strcasecmp(item, "FLAGS.SILENT") == 0)
		r->u.store.silent = true;
	else if (strcasecmp(item, "FLAGS") != 0)
		return bad(error_r, "Invalid STORE item");
	if (cmd->nargs > 3 && cmd->args[2].type == IMAP_ARG_LIST)
		return bad(error_r, "Unexpected arguments after flag list");
	return imap_flags_parse(a, cmd->args + 2, cmd->nargs - 2,
	    &r->u.store.flags, error_r);
}

/* COPY / MOVE seq-set SP mailbox (RFC 6851 for MOVE). */
static int
p_copy(struct arena *a, const struct imap_cmd *cmd, struct imap_args *r,
    const char **error_r)
{
	if (cmd->nargs != 2)
		return bad(error_r, "Takes a set and a mailbox");
	if (imap_arg_get_seqset(a, &cmd->args[0], &r->u.copy.set,
	    error_r) != 0)
		return -1;
	if (imap_arg_get_mailbox(&cmd->args[1], &r->u.copy.mailbox) != 0)
		return bad(error_r, "Invalid mailbox name");
	return 0;
}

#define ANY	IMAP_ST_ANY
#define NOAUTH	IMAP_ST_NOAUTH
#define AUTHED	IMAP_ST_AUTHED
#define SEL	IMAP_ST_SELECTED
#define UID	IMAP_CMDF_UID

const struct imap_cmd_def imap_cmd_defs[] = {
	{ "CAPABILITY", IMAP_CMD_CAPABILITY, ANY, 0, p_none },
	{ "NOOP", IMAP_CMD_NOOP, ANY, 0, p_none },
	{ "LOGOUT", IMAP_CMD_LOGOUT, ANY, 0, p_none },
	{ "ID", IMAP_CMD_ID, ANY, 0, p_id },
	{ "STARTTLS", IMAP_CMD_STARTTLS, NOAUTH, 0, p_none },
	{ "AUTHENTICATE", IMAP_CMD_AUTHENTICATE, NOAUTH, 0, p_authenticate },
	{ "LOGIN", IMAP_CMD_LOGIN, NOAUTH, 0, p_login },
	/* RFC 5161 3.1: before any mailbox is selected. */
	{ "ENABLE", IMAP_CMD_ENABLE, IMAP_ST_AUTH, 0, p_enable },
	{ "SELECT", IMAP_CMD_SELECT, AUTHED, 0, p_mbox_params },
	{ "EXAMINE", IMAP_CMD_EXAMINE, AUTHED, 0, p_mbox_params },
	{ "CREATE", IMAP_CMD_CREATE, AUTHED, 0, p_mbox_params },
	{ "DELETE", IMAP_CMD_DELETE, AUTHED, 0, p_mbox },
	{ "RENAME", IMAP_CMD_RENAME, AUTHED, 0, p_rename },
	{ "SUBSCRIBE", IMAP_CMD_SUBSCRIBE, AUTHED, 0, p_mbox },
	{ "UNSUBSCRIBE", IMAP_CMD_UNSUBSCRIBE, AUTHED, 0, p_mbox },
	{ "LIST", IMAP_CMD_LIST, AUTHED, 0, p_list },
	{ "LSUB", IMAP_CMD_LSUB, AUTHED, 0, p_list },
	{ "NAMESPACE", IMAP_CMD_NAMESPACE, AUTHED, 0, p_none },
	{ "STATUS", IMAP_CMD_STATUS, AUTHED, 0, p_status },
	{ "APPEND", IMAP_CMD_APPEND, AUTHED, 0, p_append },
	{ "IDLE", IMAP_CMD_IDLE, AUTHED, 0, p_none },
	{ "GETQUOTA", IMAP_CMD_GETQUOTA, AUTHED, 0, p_getquota },
	{ "GETQUOTAROOT", IMAP_CMD_GETQUOTAROOT, AUTHED, 0, p_mbox },
	{ "SETQUOTA", IMAP_CMD_SETQUOTA, AUTHED, 0, p_setquota },
	{ "CHECK", IMAP_CMD_CHECK, SEL, 0, p_none },
	{ "CLOSE", IMAP_CMD_CLOSE, SEL, 0, p_none },
	{ "UNSELECT", IMAP_CMD_UNSELECT, SEL, 0, p_none },
	{ "EXPUNGE", IMAP_CMD_EXPUNGE, SEL, UID, p_expunge },
	{ "SEARCH", IMAP_CMD_SEARCH, SEL, UID, p_search },
	{ "FETCH", IMAP_CMD_FETCH, SEL, UID, p_fetch },
	{ "STORE", IMAP_CMD_STORE, SEL, UID, p_store },
	{ "COPY", IMAP_CMD_COPY, SEL, UID, p_copy },
	{ "MOVE", IMAP_CMD_MOVE, SEL, UID, p_copy },
};

const size_t imap_cmd_ndefs = N_ELEMENTS(imap_cmd_defs);

const struct imap_cmd_def *
imap_cmd_find(const struct imap_cmd *cmd)
{
	size_t	 i;

	if (cmd->name == NULL)
		return NULL;
	/* O(n) over ~35 rows of short names: cheaper than anything else
	 * at this size. */
	for (i = 0; i < imap_cmd_ndefs; i++)
		if (strcmp(cmd->name, imap_cmd_defs[i].name) == 0)
			break;
	if (i == imap_cmd_ndefs ||
	    (cmd->uid && (imap_cmd_defs[i].flags & IMAP_CMDF_UID) == 0))
		return NULL;
	return &imap_cmd_defs[i];
}

int
imap_cmd_parse(struct arena *a, const struct imap_cmd *cmd,
    const struct imap_cmd_def **def_r, struct imap_args *r,
    const char **error_r)
{
	const struct imap_cmd_def	*def = imap_cmd_find(cmd);

	memset(r, 0, sizeof(*r));
	*def_r = def;
	if (def == NULL)
		return bad(error_r, "Unknown command");
	r->id = def->id;
	r->uid = cmd->uid;
	return def->parse(a, cmd, r, error_r);
}
