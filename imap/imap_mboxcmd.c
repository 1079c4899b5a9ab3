/* imap_mboxcmd.c - the IMAP commands on folders: LIST and LSUB (RFC 3501
 * 6.3.8-9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC
 * 6154, CHILDREN RFC 3348), CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, STATUS (with SIZE, RFC 8438), NAMESPACE (RFC 2342) and
 * GETQUOTA/GETQUOTAROOT/SETQUOTA (RFC 9208). The folder store itself is
 * core/mail/folders.c; this file turns its results into IMAP responses.
 *
 * Where RFCs leave a choice, Dovecot 2.3 is followed (its cmd-list.c,
 * cmd-delete.c, cmd-subscribe.c ...), so that clients see what they are
 * used to:
 *   - plain LIST always reports \HasChildren/\HasNoChildren and the
 *     special-use attributes; LIST-EXTENDED reports special-use only when
 *     asked (RETURN (SPECIAL-USE), or selection SPECIAL-USE), except that
 *     a LIST whose only return option is STATUS still gets them (one
 *     round trip for LIST-STATUS clients such as iOS Mail). Children are
 *     reported always (RFC 5258 4 allows it), never for LSUB.
 *   - a parent level that is no folder is \Noselect for plain LIST and
 *     LSUB, \NonExistent under LIST-EXTENDED.
 *   - LSUB reports special-use attributes too (Outlook 2013 wants them).
 *   - LSUB "%" stopping above a subscribed name answers that level with
 *     \Noselect (RFC 3501 6.3.9); LIST (SUBSCRIBED RECURSIVEMATCH) answers
 *     it with CHILDINFO ("SUBSCRIBED") (RFC 5258 3.5). We give both for
 *     exactly the levels that have a selected descendant the pattern
 *     does not reach (Dovecot approximates this by "pattern ends in %").
 *   - `LIST ref ""` answers the root: "" or the reference up to its first
 *     separator (UW-IMAP's behaviour, which Dovecot emulates).
 *   - SUBSCRIBE wants an existing folder (or a parent level of one);
 *     UNSUBSCRIBE of a name not subscribed is OK; "UNSUBSCRIBE x." also
 *     removes "x".
 *   - DELETE of the selected folder closes it, deletes it, answers, then
 *     disconnects with BYE: the client still thinks it has a folder
 *     selected, and no untagged response can tell it otherwise (Dovecot
 *     does exactly this).
 *   - DELETE INBOX is refused; RENAME INBOX moves its messages into the
 *     new folder (RFC 3501 6.3.5; folders.h).
 *   - Invalid names: NO [CANNOT] with the reason, "NO Mailbox name is not
 *     valid mUTF-7" for bad encodings, as Dovecot.
 *
 * STATUS of a folder that is not selected opens it with
 * uidlist_folder_open() (which also gives UIDs to new files, so UIDNEXT
 * is exact) and counts: O(messages) with a stat() each. RECENT counts the
 * files still in new/, Dovecot's Maildir rule (a session that sees them
 * moves them to cur/); of the selected folder it is the view's count.
 * LIST-STATUS does this for every folder listed: fine for the few dozen
 * folders of a real mailbox.
 *
 * All output of one command is queued at once (no resumable output):
 * a LIST of thousands of folders is a few hundred KiB, well under the
 * connection's output ceiling.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "imap_session.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/config.h"
#include "aviary/folders.h"
#include "aviary/keywords.h"
#include "aviary/log.h"
#include "aviary/maildir.h"
#include "aviary/uidlist.h"

/* One response line: "* LIST (<attrs>) "." <name> (CHILDINFO ...)". A
 * name is at most FOLDERS_NAME_MAX bytes, quoted at most twice that. */
#define LINE_MAX_BYTES		4096
/* How long STATUS waits for another process's dovecot-uidlist.lock
 * before answering NO [INUSE]: the event loop waits with it. */
#define STATUS_LOCK_WAIT_MS	2000
/* Per-folder arena of STATUS (the scan of a folder). */
#define STATUS_ARENA_CHUNK	(16 * 1024)

#define ERR_MUTF7	"Mailbox name is not valid mUTF-7"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Queue b as one response line (CRLF added). -1 when the connection is
 * going away (the caller stops producing). */
static int
send_buf(struct iconn *c, struct buf *b)
{
	if (buf_append(b, "\r\n", 2) != 0) {
		log_error("imap: rip=%s: response line too long", c->peer.rip);
		return 0;	/* dropped: never half a line */
	}
	return imap_send_raw(c, b->data, b->len);
}

/* NO for a name folders.c refused: the mUTF-7 case has no response code
 * in Dovecot; every other rule is [CANNOT] (RFC 5530: it can never
 * succeed). */
static void
no_name(struct iconn *c, const char *tag, const char *err)
{
	if (strcmp(err, ERR_MUTF7) == 0)
		imap_no(c, tag, "%s", err);
	else
		imap_no(c, tag, "[CANNOT] %s", err);
}

/* A folders_* failure as a tagged NO with its RFC 5530 code. */
static void
no_folders(struct iconn *c, const char *tag, int r, const char *err)
{
	const char	*code;

	switch (r) {
	case FOLDERS_ERR_INVALID:
		no_name(c, tag, err);
		return;
	case FOLDERS_ERR_EXISTS:
		code = "ALREADYEXISTS";
		break;
	case FOLDERS_ERR_NONEXISTENT:
		code = "NONEXISTENT";
		break;
	case FOLDERS_ERR_CANNOT:
		code = "CANNOT";
		break;
	case FOLDERS_ERR_NOSPACE:
		code = "OVERQUOTA";
		break;
	case FOLDERS_ERR_TEMP:
	default:
		/* Lock timeouts are someone else's work in progress. */
		if (strstr(err, "Timeout") != NULL)
			code = "INUSE";
		else if (strstr(err, "Too many") != NULL)
			code = "LIMIT";
		else
			code = "SERVERBUG";
		break;
	}
	imap_no(c, tag, "[%s] %s", code, err);
}

/* Is the selected folder 'norm' (normal form)? */
static bool
is_selected(const struct iconn *c, const char *norm)
{
	return c->ses->sel != NULL && c->ses->sel->name != NULL &&
	    strcmp(c->ses->sel->name, norm) == 0;
}

/* ------------------------------------------------------------------ */
/* STATUS                                                              */
/* ------------------------------------------------------------------ */

struct mstatus {
	uint32_t	 messages, recent, uidnext, uidvalidity, unseen;
	uint64_t	 size;
};

/* The status of folder 'norm'. 0, or -1 with *code_r (response code,
 * with brackets and a space, or "") and *err_r for the NO. */
static int
status_get(struct iconn *c, const char *norm, struct mstatus *st,
    const char **code_r, const char **err_r)
{
	struct uidlist_folder	*uf;
	struct arena		*a;
	const char		*path, *err;
	size_t			 i;
	int			 r;

	memset(st, 0, sizeof(*st));
	if (is_selected(c, norm)) {
		const struct imap_mbox *m = c->ses->sel;

		/* The view as the client knows it: RFC 3501 6.3.10 says
		 * STATUS of the selected folder need not be current, and
		 * the numbers then agree with its EXISTS. */
		st->messages = (uint32_t)m->n;
		st->uidnext = m->uidnext;
		st->uidvalidity = m->uidvalidity;
		for (i = 0; i < m->n; i++) {
			if (m->msgs[i].recent)
				st->recent++;
			if ((m->msgs[i].sys & MAIL_FLAG_SEEN) == 0)
				st->unseen++;
			st->size += m->msgs[i].vsize;
		}
		return 0;
	}
	r = folders_exists(c->ses->folders, norm);
	if (r == 0) {
		*code_r = "[NONEXISTENT] ";
		*err_r = arena_printf(c->cmd_arena, "Mailbox doesn't exist: %s",
		    norm);
		return -1;
	}
	if (r < 0) {
		*code_r = r == FOLDERS_ERR_INVALID ? "[CANNOT] " :
		    "[SERVERBUG] ";
		*err_r = r == FOLDERS_ERR_INVALID ? "Invalid mailbox name" :
		    "Cannot open mailbox";
		return -1;
	}
	if (folders_path(c->ses->folders, norm, c->cmd_arena, &path,
	    &err) != FOLDERS_OK) {
		*code_r = "[CANNOT] ";
		*err_r = err;
		return -1;
	}
	/* The scan of a big folder is big: its own arena, gone (with the
	 * folder's descriptor) before the next folder of a LIST-STATUS. */
	a = arena_create(STATUS_ARENA_CHUNK);
	if (uidlist_folder_open(path, STATUS_LOCK_WAIT_MS, a, &uf,
	    &err) != 0) {
		log_warn("imap: user=%s: STATUS %s: %s", c->user, norm, err);
		if (strcmp(err, "uidlist locked") == 0) {
			*code_r = "[INUSE] ";
			*err_r = "Mailbox is locked, try again";
		} else {
			*code_r = "[SERVERBUG] ";
			*err_r = "Cannot read mailbox";
		}
		arena_destroy(&a);
		return -1;
	}
	st->messages = (uint32_t)uf->nmsgs;
	st->uidnext = uf->next_uid;
	st->uidvalidity = uf->uidvalidity;
	for (i = 0; i < uf->nmsgs; i++) {
		unsigned sys = 0;

		keywords_info_parse(uf->msgs[i].flags, &sys, NULL);
		if ((sys & MAIL_FLAG_SEEN) == 0)
			st->unseen++;
		if (uf->msgs[i].dir == UIDLIST_DIR_NEW)
			st->recent++;
		st->size += uf->msgs[i].vsize;
	}
	arena_destroy(&a);
	return 0;
}

/* "* STATUS <name> (MESSAGES n ...)" with the items asked, in RFC 3501
 * order. -1 when the connection is going away. */
static int
status_send(struct iconn *c, const char *name, unsigned items,
    const struct mstatus *st)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} order[] = {
		{ IMAP_STATUS_MESSAGES, "MESSAGES" },
		{ IMAP_STATUS_RECENT, "RECENT" },
		{ IMAP_STATUS_UIDNEXT, "UIDNEXT" },
		{ IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY" },
		{ IMAP_STATUS_UNSEEN, "UNSEEN" },
		{ IMAP_STATUS_SIZE, "SIZE" },
	};
	struct buf	 b;
	const char	*sp = "";
	uint64_t	 v;
	size_t		 i;
	int		 rc = 0;

	buf_init(&b, c->cmd_arena, LINE_MAX_BYTES);
	rc |= buf_append_str(&b, "* STATUS ");
	rc |= imap_write_astring(&b, name, strlen(name), 0);
	rc |= buf_append_str(&b, " (");
	for (i = 0; i < N_ELEMENTS(order); i++) {
		if ((items & order[i].bit) == 0)
			continue;
		switch (order[i].bit) {
		case IMAP_STATUS_MESSAGES:	v = st->messages; break;
		case IMAP_STATUS_RECENT:	v = st->recent; break;
		case IMAP_STATUS_UIDNEXT:	v = st->uidnext; break;
		case IMAP_STATUS_UIDVALIDITY:	v = st->uidvalidity; break;
		case IMAP_STATUS_UNSEEN:	v = st->unseen; break;
		default:			v = st->size; break;
		}
		rc |= buf_printf(&b, "%s%s %" PRIu64, sp, order[i].name, v);
		sp = " ";
	}
	rc |= buf_append_c(&b, ')');
	if (rc != 0) {
		log_error("imap: rip=%s: STATUS line too long", c->peer.rip);
		return 0;
	}
	return send_buf(c, &b);
}

void
imap_cmd_status(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const char	*name = a->u.status.mailbox, *norm, *err, *code;
	struct mstatus	 st;

	if (folders_name_check(name, false, c->cmd_arena, &norm,
	    &err) != FOLDERS_OK) {
		no_name(c, tag, err);
		return;
	}
	if (status_get(c, norm, &st, &code, &err) != 0) {
		imap_no(c, tag, "%s%s", code, err);
		return;
	}
	/* The name as the client wrote it (Dovecot too): it matches the
	 * reply to its request by that. */
	if (status_send(c, name, a->u.status.items, &st) != 0)
		return;
	imap_ok(c, tag, "Status completed.");
}

/* ------------------------------------------------------------------ */
/* LIST and LSUB                                                       */
/* ------------------------------------------------------------------ */

struct listctx {
	struct iconn		*c;
	struct arena		*a;
	bool			 lsub;
	bool			 ext;	/* LIST-EXTENDED syntax used */
	unsigned		 sel, ret, status;
	bool			 recursive;	/* RECURSIVEMATCH, LSUB */
	bool			 want_special;	/* special-use attrs */
	bool			 want_subscribed;	/* \Subscribed */
	struct folders_list	 l;
	bool			*matched;	/* by entry: a pattern */
};

/* Whether entry e satisfies the selection criteria. */
static bool
list_selected(const struct listctx *x, const struct folder_entry *e)
{
	bool	 any = false;

	if (x->lsub || (x->sel & IMAP_LIST_SEL_SUBSCRIBED) != 0) {
		if ((e->flags & FOLDER_SUBSCRIBED) == 0)
			return false;
		any = true;
	}
	if ((x->sel & IMAP_LIST_SEL_SPECIAL_USE) != 0) {
		if (e->special == 0)
			return false;
		any = true;
	}
	if (any)
		return true;
	/* Plain LIST: folders, and parent levels of folders (folders.h).
	 * Subscribed names that exist nowhere are only for LSUB and
	 * LIST (SUBSCRIBED). */
	return (e->flags & FOLDER_NONEXISTENT) == 0 ||
	    (e->flags & FOLDER_CHILDREN) != 0;
}

/* RECURSIVEMATCH and LSUB's "%": does entry i have a descendant that is
 * selected but that no pattern matched? The descendants are the entries
 * that start with "<name>." and, the list being sorted by bytes, they
 * form one run found by binary search. Every entry is the descendant of
 * at most FOLDERS_DEPTH_MAX others, so asking this of every entry costs
 * O(N * depth) in all. */
static bool
list_hidden_child(const struct listctx *x, size_t i)
{
	const char	*name = x->l.entries[i].name;
	size_t		 nlen = strlen(name), lo = i + 1, hi = x->l.n, mid;

	while (lo < hi) {
		const char	*m;
		int		 cmp;

		mid = lo + (hi - lo) / 2;
		m = x->l.entries[mid].name;
		cmp = strncmp(m, name, nlen);
		if (cmp == 0)
			cmp = m[nlen] < FOLDERS_SEP ? -1 :
			    (m[nlen] == FOLDERS_SEP ? 0 : 1);
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < x->l.n; lo++) {
		const struct folder_entry *e = &x->l.entries[lo];

		if (strncmp(e->name, name, nlen) != 0 ||
		    e->name[nlen] != FOLDERS_SEP)
			break;
		if (!x->matched[lo] && list_selected(x, e))
			return true;
	}
	return false;
}

/* Append attr to b, a space first unless it is the first one. */
static int
attr_add(struct buf *b, bool *first, const char *attr)
{
	int	 rc = 0;

	if (!*first)
		rc |= buf_append_c(b, ' ');
	*first = false;
	rc |= buf_append_str(b, attr);
	return rc;
}

/* One "* LIST" / "* LSUB" line for entry e. -1 when the connection is
 * going away. */
static int
list_send(struct listctx *x, const struct folder_entry *e, bool is_sel,
    bool childinfo)
{
	struct buf	 b;
	bool		 first = true;
	unsigned	 bit;
	int		 rc = 0;

	buf_init(&b, x->a, LINE_MAX_BYTES);
	rc |= buf_append_str(&b, x->lsub ? "* LSUB (" : "* LIST (");
	if (x->want_subscribed && (e->flags & FOLDER_SUBSCRIBED) != 0)
		rc |= attr_add(&b, &first, "\\Subscribed");
	if (x->lsub) {
		/* A level returned for its subscribed children only, or a
		 * subscribed name that is no folder (RFC 3501 6.3.9). */
		if (!is_sel || (e->flags & FOLDER_NONEXISTENT) != 0)
			rc |= attr_add(&b, &first, "\\Noselect");
	} else if ((e->flags & FOLDER_NONEXISTENT) != 0) {
		rc |= attr_add(&b, &first, x->ext ? "\\NonExistent" :
		    "\\Noselect");
	}
	if (!x->lsub)
		rc |= attr_add(&b, &first, (e->flags & FOLDER_CHILDREN) != 0 ?
		    "\\HasChildren" : "\\HasNoChildren");
	if (x->want_special)
		for (bit = 1; bit != 0 && bit <= e->special; bit <<= 1) {
			const char *s;

			if ((e->special & bit) != 0 &&
			    (s = folders_special_name(bit)) != NULL)
				rc |= attr_add(&b, &first, s);
		}
	rc |= buf_append_str(&b, ") \".\" ");
	rc |= imap_write_astring(&b, e->name, strlen(e->name), 0);
	if (childinfo) {
		/* RFC 5258 3.5: what the hidden descendants satisfy. */
		rc |= buf_append_str(&b, " (\"CHILDINFO\" (");
		if (x->lsub || (x->sel & IMAP_LIST_SEL_SUBSCRIBED) != 0)
			rc |= buf_append_str(&b,
			    (x->sel & IMAP_LIST_SEL_SPECIAL_USE) != 0 ?
			    "\"SUBSCRIBED\" \"SPECIAL-USE\"" :
			    "\"SUBSCRIBED\"");
		else
			rc |= buf_append_str(&b, "\"SPECIAL-USE\"");
		rc |= buf_append_str(&b, "))");
	}
	if (rc != 0) {
		log_error("imap: rip=%s: LIST line too long", x->c->peer.rip);
		return 0;
	}
	return send_buf(x->c, &b);
}

/* The answer to `LIST ref ""` (RFC 3501 6.3.8): the separator and the
 * root of the reference's hierarchy: the reference up to and including
 * its first separator, or "". */
static void
list_root(struct iconn *c, const char *ref)
{
	const char	*dot = strchr(ref, FOLDERS_SEP);
	struct buf	 b;
	int		 rc = 0;

	buf_init(&b, c->cmd_arena, LINE_MAX_BYTES);
	rc |= buf_append_str(&b, "* LIST (\\Noselect) \".\" ");
	if (dot == NULL)
		rc |= buf_append_str(&b, "\"\"");
	else
		rc |= imap_write_astring(&b, ref, (size_t)(dot - ref + 1), 0);
	if (rc == 0)
		(void)send_buf(c, &b);
}

/* Entry i as the command wants it: sent (with STATUS after it for
 * LIST-STATUS), or skipped. -1 when the connection is going away. */
static int
list_entry(struct listctx *x, size_t i)
{
	const struct folder_entry *e = &x->l.entries[i];
	struct mstatus	 st;
	const char	*code, *err;
	bool		 is_sel = list_selected(x, e), childinfo = false;

	if (x->recursive) {
		childinfo = list_hidden_child(x, i);
		if (!is_sel && !childinfo)
			return 0;
	} else if (!is_sel)
		return 0;
	if (list_send(x, e, is_sel, childinfo && !x->lsub) != 0)
		return -1;
	/* RFC 5819: STATUS right after its LIST, for folders that can be
	 * selected; one that cannot be read is left out (the LIST still
	 * succeeds). */
	if ((x->ret & IMAP_LIST_RET_STATUS) != 0 && is_sel &&
	    (e->flags & FOLDER_NONEXISTENT) == 0) {
		if (status_get(x->c, e->name, &st, &code, &err) != 0)
			return 0;
		return status_send(x->c, e->name, x->status, &st);
	}
	return 0;
}

void
imap_cmd_list(struct iconn *c, const char *tag, const struct imap_args *a,
    bool lsub)
{
	struct folders_special *special;
	struct listctx	 x;
	const char	*err;
	size_t		 nspecial, i, j, n, *idx, inbox = SIZE_MAX;
	unsigned	 flags = 0;
	int		 r;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.a = c->cmd_arena;
	x.lsub = lsub;
	x.ext = a->u.list.extended;
	x.sel = a->u.list.sel;
	x.ret = a->u.list.ret;
	x.status = a->u.list.status;
	if (lsub) {
		x.sel = 0;
		x.ret = 0;
		x.ext = false;
	}

	/* The "hierarchy delimiter" query, for plain LIST only; in LSUB and
	 * LIST-EXTENDED an empty pattern merely matches nothing. */
	if (!lsub && !x.ext && a->u.list.npatterns == 1 &&
	    a->u.list.patterns[0][0] == '\0') {
		list_root(c, a->u.list.ref);
		imap_ok(c, tag, "List completed.");
		return;
	}

	x.recursive = lsub || (x.sel & IMAP_LIST_SEL_RECURSIVEMATCH) != 0;
	/* SUBSCRIBED as a selection implies it as a return option, and
	 * SPECIAL-USE likewise (RFC 5258 3.1, RFC 6154 3). */
	x.want_subscribed = !lsub &&
	    ((x.ret & IMAP_LIST_RET_SUBSCRIBED) != 0 ||
	    (x.sel & IMAP_LIST_SEL_SUBSCRIBED) != 0);
	x.want_special = lsub || !x.ext ||
	    (x.ret & ~IMAP_LIST_RET_STATUS) == 0 ||
	    (x.ret & IMAP_LIST_RET_SPECIAL_USE) != 0 ||
	    (x.sel & IMAP_LIST_SEL_SPECIAL_USE) != 0;
	if (lsub || x.want_subscribed)
		flags |= FOLDERS_LIST_SUBSCRIPTIONS;

	nspecial = imap_session_special(c, x.a, &special);
	r = folders_list(c->ses->folders, flags, special, nspecial, x.a, &x.l,
	    &err);
	if (r != FOLDERS_OK) {
		no_folders(c, tag, r, err);
		return;
	}
	x.matched = arena_zalloc(x.a, (x.l.n + 1) * sizeof(*x.matched));
	for (i = 0; i < a->u.list.npatterns; i++) {
		folders_list_match(&x.l, a->u.list.ref, a->u.list.patterns[i],
		    x.a, &idx, &n);
		for (j = 0; j < n; j++)
			x.matched[idx[j]] = true;
	}
	/* INBOX first, as clients (and Dovecot) put it; the rest in name
	 * order. Every name at most once, however many patterns match it
	 * (RFC 5258 3). */
	for (i = 0; i < x.l.n; i++)
		if (x.matched[i] && strcmp(x.l.entries[i].name, "INBOX") == 0) {
			inbox = i;
			if (list_entry(&x, i) != 0)
				return;
			break;
		}
	for (i = 0; i < x.l.n; i++)
		if (x.matched[i] && i != inbox && list_entry(&x, i) != 0)
			return;
	imap_ok(c, tag, lsub ? "Lsub completed." : "List completed.");
}

/* ------------------------------------------------------------------ */
/* CREATE, DELETE, RENAME                                              */
/* ------------------------------------------------------------------ */

void
imap_cmd_create(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const char	*err;
	int		 r;

	/* RFC 4466 create-params: we know none (CREATE-SPECIAL-USE is not
	 * advertised), and an unknown parameter must not be ignored. */
	if (a->u.mbox.nparams > 0) {
		imap_bad(c, tag, "Unknown CREATE parameter %s",
		    a->u.mbox.params[0].name);
		return;
	}
	/* folders_create drops one trailing separator (RFC 3501 6.3.3) and
	 * makes only this level, no parents (folders.h, as Dovecot). */
	r = folders_create(c->ses->folders, a->u.mbox.mailbox, c->cmd_arena,
	    &err);
	if (r != FOLDERS_OK) {
		no_folders(c, tag, r, err);
		return;
	}
	imap_ok(c, tag, "Create completed.");
}

void
imap_cmd_delete(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const char	*norm, *err;
	bool		 closed = false;
	int		 r;

	if ((r = folders_name_check(a->u.mbox.mailbox, false, c->cmd_arena,
	    &norm, &err)) != FOLDERS_OK) {
		no_name(c, tag, err);
		return;
	}
	if (folders_is_inbox(norm)) {
		imap_no(c, tag, "[CANNOT] INBOX can't be deleted.");
		return;
	}
	if (is_selected(c, norm)) {
		imap_mbox_close(c, false);
		if (c->state == I_SELECTED)
			c->state = I_AUTH;
		closed = true;
	}
	r = folders_delete(c->ses->folders, norm, c->cmd_arena, &err);
	if (r == FOLDERS_OK)
		imap_ok(c, tag, "Delete completed.");
	else if (r == FOLDERS_ERR_NONEXISTENT)
		imap_no(c, tag, "[NONEXISTENT] Mailbox doesn't exist: %s",
		    norm);
	else
		no_folders(c, tag, r, err);
	if (closed) {
		imap_send(c, "* BYE Selected mailbox was deleted, have to "
		    "disconnect.");
		imap_close_after_reply(c);
	}
}

/* After a RENAME: the selected folder, or one below the renamed one,
 * now has another name and directory. Its open descriptors still work;
 * the view's name and path must follow, or the next rescan looks in the
 * old place. */
static void
rename_view(struct iconn *c, const char *oldnorm, const char *newnorm)
{
	struct imap_mbox *m = c->ses->sel;
	size_t		 olen = strlen(oldnorm);
	const char	*name, *path, *err;

	if (m == NULL || m->name == NULL || strncmp(m->name, oldnorm,
	    olen) != 0 || (m->name[olen] != '\0' &&
	    m->name[olen] != FOLDERS_SEP))
		return;
	name = arena_printf(m->a, "%s%s", newnorm, m->name + olen);
	if (folders_path(c->ses->folders, name, m->a, &path, &err) !=
	    FOLDERS_OK) {
		log_error("imap: user=%s: renamed selected folder %s: %s",
		    c->user, name, err);
		return;
	}
	m->name = name;
	m->path = path;
}

void
imap_cmd_rename(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const char	*oldnorm, *newnorm, *err;
	int		 r;

	if ((r = folders_name_check(a->u.rename.from, false, c->cmd_arena,
	    &oldnorm, &err)) != FOLDERS_OK) {
		no_name(c, tag, err);
		return;
	}
	r = folders_rename(c->ses->folders, a->u.rename.from, a->u.rename.to,
	    c->cmd_arena, &err);
	if (r == FOLDERS_ERR_NONEXISTENT) {
		imap_no(c, tag, "[NONEXISTENT] %s: %s", err, oldnorm);
		return;
	}
	if (r != FOLDERS_OK) {
		no_folders(c, tag, r, err);
		return;
	}
	/* Renaming INBOX moves its messages and leaves INBOX itself. */
	if (!folders_is_inbox(oldnorm) && folders_name_check(a->u.rename.to,
	    false, c->cmd_arena, &newnorm, &err) == FOLDERS_OK)
		rename_view(c, oldnorm, newnorm);
	imap_ok(c, tag, "Rename completed.");
}

/* ------------------------------------------------------------------ */
/* SUBSCRIBE, UNSUBSCRIBE                                              */
/* ------------------------------------------------------------------ */

/* Whether norm is a folder or a parent level of one (Dovecot lets both
 * be subscribed; a name that is nothing is refused). 1, 0, or -1 with
 * *r_err (the folders status in *st_r). */
static int
subscribable(struct iconn *c, const char *norm, int *st_r,
    const char **err_r)
{
	struct folders_list	 l;
	size_t			 i, nlen = strlen(norm);
	int			 r;

	r = folders_exists(c->ses->folders, norm);
	if (r != 0) {
		if (r > 0)
			return 1;
		*st_r = r;
		*err_r = r == FOLDERS_ERR_INVALID ? "Invalid mailbox name" :
		    "Cannot open mailbox";
		return -1;
	}
	/* O(folders); SUBSCRIBE of a non-folder is rare. */
	if ((r = folders_list(c->ses->folders, 0, NULL, 0, c->cmd_arena, &l,
	    err_r)) != FOLDERS_OK) {
		*st_r = r;
		return -1;
	}
	for (i = 0; i < l.n; i++)
		if (strncmp(l.entries[i].name, norm, nlen) == 0 &&
		    l.entries[i].name[nlen] == FOLDERS_SEP)
			return 1;
	return 0;
}

void
imap_cmd_subscribe(struct iconn *c, const char *tag,
    const struct imap_args *a, bool subscribe)
{
	const char	*name = a->u.mbox.mailbox, *norm, *err;
	size_t		 len = strlen(name);
	int		 r, st = 0;

	/* "UNSUBSCRIBE x." means x (Dovecot removes both; the
	 * subscriptions file never holds the trailing separator). */
	if (!subscribe && len > 1 && name[len - 1] == FOLDERS_SEP)
		name = arena_strndup(c->cmd_arena, name, len - 1);
	if ((r = folders_name_check(name, false, c->cmd_arena, &norm,
	    &err)) != FOLDERS_OK) {
		no_name(c, tag, err);
		return;
	}
	if (subscribe) {
		r = subscribable(c, norm, &st, &err);
		if (r < 0) {
			no_folders(c, tag, st, err);
			return;
		}
		if (r == 0) {
			imap_no(c, tag, "[NONEXISTENT] Mailbox doesn't exist: "
			    "%s", norm);
			return;
		}
		r = folders_subscribe(c->ses->folders, norm, c->cmd_arena,
		    &err);
	} else {
		r = folders_unsubscribe(c->ses->folders, norm, c->cmd_arena,
		    &err);
		/* Not subscribed: the wish is fulfilled (Dovecot). */
		if (r == FOLDERS_ERR_NONEXISTENT)
			r = FOLDERS_OK;
	}
	if (r != FOLDERS_OK) {
		no_folders(c, tag, r, err);
		return;
	}
	imap_ok(c, tag, subscribe ? "Subscribe completed." :
	    "Unsubscribe completed.");
}

/* ------------------------------------------------------------------ */
/* NAMESPACE, QUOTA                                                    */
/* ------------------------------------------------------------------ */

void
imap_cmd_namespace(struct iconn *c, const char *tag)
{
	/* One personal namespace without a prefix, '.' as separator: the
	 * Maildir++ layout, and Dovecot's default (RFC 2342 5). */
	imap_send(c, "* NAMESPACE ((\"\" \".\")) NIL NIL");
	imap_ok(c, tag, "Namespace completed.");
}

/* "* QUOTA "" (...)": the one quota root "" of the mailbox (RFC 9208
 * 4.2.2); STORAGE in KiB (rounded down, as Dovecot), MESSAGE in
 * messages, each only when it has a limit. 0, or -1 after a NO. */
static int
quota_send(struct iconn *c, const char *tag)
{
	const struct aviary_config *cfg = c->d->cfg;
	struct imap_session *s = c->ses;
	struct maildir_usage usage;
	const char	*err;

	if (s->quota_bytes == 0 && s->quota_messages == 0) {
		imap_send(c, "* QUOTA \"\" ()");
		return 0;
	}
	if (maildir_quota_get(cfg->mail.root, s->home, s->quota_bytes,
	    s->quota_messages, (uid_t)cfg->mail.uid, (gid_t)cfg->mail.gid,
	    &usage, c->cmd_arena, &err) != 0) {
		log_error("imap: user=%s: quota: %s", c->user, err);
		imap_no(c, tag, "[SERVERBUG] Internal quota calculation "
		    "error");
		return -1;
	}
	if (s->quota_bytes != 0 && s->quota_messages != 0)
		imap_send(c, "* QUOTA \"\" (STORAGE %" PRIu64 " %" PRIu64
		    " MESSAGE %" PRIu64 " %" PRIu64 ")", usage.bytes / 1024,
		    s->quota_bytes / 1024, usage.messages, s->quota_messages);
	else if (s->quota_bytes != 0)
		imap_send(c, "* QUOTA \"\" (STORAGE %" PRIu64 " %" PRIu64 ")",
		    usage.bytes / 1024, s->quota_bytes / 1024);
	else
		imap_send(c, "* QUOTA \"\" (MESSAGE %" PRIu64 " %" PRIu64 ")",
		    usage.messages, s->quota_messages);
	return 0;
}

void
imap_cmd_getquota(struct iconn *c, const char *tag,
    const struct imap_args *a, bool root)
{
	const char	*norm, *err;
	struct buf	 b;
	int		 r, rc = 0;

	if (a->id == IMAP_CMD_SETQUOTA) {
		/* Limits live in SQL, set by aviary-admin (RFC 9208 4.1.3:
		 * a server may refuse). */
		imap_no(c, tag, "[NOPERM] Quota can only be set by the "
		    "administrator");
		return;
	}
	if (!root) {
		if (a->u.quota.root[0] != '\0') {
			imap_no(c, tag, "[NONEXISTENT] Quota root doesn't "
			    "exist");
			return;
		}
		if (quota_send(c, tag) == 0)
			imap_ok(c, tag, "Getquota completed.");
		return;
	}
	if ((r = folders_name_check(a->u.mbox.mailbox, false, c->cmd_arena,
	    &norm, &err)) != FOLDERS_OK) {
		no_name(c, tag, err);
		return;
	}
	r = folders_exists(c->ses->folders, norm);
	if (r == 0) {
		imap_no(c, tag, "[NONEXISTENT] Mailbox doesn't exist: %s",
		    norm);
		return;
	}
	if (r < 0) {
		no_folders(c, tag, r, r == FOLDERS_ERR_INVALID ?
		    "Invalid mailbox name" : "Cannot open mailbox");
		return;
	}
	buf_init(&b, c->cmd_arena, LINE_MAX_BYTES);
	rc |= buf_append_str(&b, "* QUOTAROOT ");
	rc |= imap_write_astring(&b, a->u.mbox.mailbox,
	    strlen(a->u.mbox.mailbox), 0);
	rc |= buf_append_str(&b, " \"\"");
	if (rc != 0 || send_buf(c, &b) != 0)
		return;
	if (quota_send(c, tag) == 0)
		imap_ok(c, tag, "Getquotaroot completed.");
}
