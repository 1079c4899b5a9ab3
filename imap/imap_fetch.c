/* imap_fetch.c - FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8, 7.4.2).
 *
 * One message's response is produced at a time, as Dovecot does: the
 * short items are formatted into a staging buffer that goes to the
 * output queue in batches, and every literal (BODY[...], RFC822...) is
 * announced with the exact size mime_fetch_size() gives and then copied
 * from the mapped message into the queue chunk by chunk. Whenever the
 * queue is above TSTREAM_HIGH_WATER the command stops (c->wait =
 * IW_OUTPUT) and imap_fetch_continue() picks it up where it stopped when
 * the connection has drained: a 20 MB body never sits in memory beyond
 * its mapping and ~HIGH_WATER of queue.
 *
 * The order of items follows Dovecot 2.3, which clients have been
 * parsing for years: for UID FETCH the UID first (RFC 3501 6.4.8: it is
 * always included), then the short items (UID, FLAGS, INTERNALDATE,
 * RFC822.SIZE) in the order asked, then FLAGS when a non-PEEK body
 * fetch has just set \Seen and FLAGS was not asked for (RFC 3501 6.4.5;
 * like Dovecot only for messages whose \Seen changed), then the rest
 * (ENVELOPE, BODY, BODYSTRUCTURE, sections) in the order asked. An item
 * asked twice is answered once, except sections (Dovecot does the same).
 *
 * Expunged messages (RFC 2180 4.1.2): a message another session
 * expunged stays in the view until EXPUNGE may be reported. If
 * everything asked is known without the file (UID, FLAGS, INTERNALDATE,
 * RFC822.SIZE come from the view) it is answered, with a tagged
 * "OK [EXPUNGEISSUED]"; otherwise that message gets no FETCH response
 * at all (no NIL or empty data a client would cache) and the command
 * ends "NO [EXPUNGEISSUED]" (RFC 5530), after the other messages.
 *
 * BINARY (RFC 3516) is refused with BAD: mime.h has no decoding reader
 * for FETCH yet, and the capability is not advertised.
 *
 * Memory: a command's state (struct fetch_state) is on the heap with
 * its own arenas, since the reader's and c->cmd_arena's memory end with
 * the command line while a suspended FETCH outlives it. A cell in
 * c->cmd_arena points at the state, with a cleanup, so that a
 * connection closed during a suspended FETCH frees it (conn_free
 * destroys cmd_arena; cmd_arena is not reset while c->wait ==
 * IW_OUTPUT, since no command runs then). Nothing is cached across
 * commands: each message is mapped and parsed again (see the
 * measurement in tests/integration/test_imap_fetch.py).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap_session.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/imapfmt.h"
#include "aviary/log.h"
#include "aviary/mem.h"
#include "aviary/mime.h"
#include "aviary/tstream.h"

/* Literal bytes per write into the output queue. */
#define FETCH_CHUNK		(64u * 1024)
/* Staged response text goes to the queue once this much is waiting
 * (fewer, larger writes for FETCH 1:* FLAGS). */
#define FETCH_STAGE_BATCH	(64u * 1024)
/* The most text one message's short items may take (ENVELOPE and
 * BODYSTRUCTURE of a message with MIME_MAX_PARTS parts and long
 * parameters stay well below). Past it the connection is closed: the
 * response line is half written and cannot be taken back. */
#define FETCH_STAGE_MAX		(64u * 1024 * 1024)

enum fitem_kind {
	FI_UID,
	FI_FLAGS,
	FI_FLAGS_SEEN,		/* FLAGS, only if this fetch set \Seen */
	FI_INTERNALDATE,
	FI_SIZE,
	FI_ENVELOPE,
	FI_BODY,
	FI_BODYSTRUCTURE,
	FI_SECTION,		/* a literal: BODY[...], RFC822* */
};

struct fitem {
	enum fitem_kind		 kind;
	/* FI_SECTION: the name to answer with, the section and the
	 * partial (count UINT64_MAX: to the end). missing: a part path
	 * deeper than any message can be, answered with an empty
	 * literal as for any part that does not exist. */
	const char		*echo;
	struct mime_section	 sec;
	bool			 missing;
	uint64_t		 origin, count;
};

enum fphase {
	FP_NEXT,		/* start the next message, or end */
	FP_ITEMS,		/* items of the current message */
	FP_LITERAL,		/* a literal's announcement and bytes */
};

struct fetch_cell;

struct fetch_state {
	struct fetch_state	*next;		/* all live states */
	struct iconn		*c;
	struct fetch_cell	*cell;		/* in c->cmd_arena */
	struct arena		*a;		/* the command: below */
	struct arena		*ma;		/* one message: parse, reader */
	char			*tag;
	bool			 uid;
	struct fitem		*items;
	size_t			 nitems;
	bool			 need_file;	/* something needs the bytes */
	bool			 hdr_only;	/* ... of the header only */
	bool			 set_seen;	/* non-PEEK body, read-write */
	size_t			*idx;		/* view indexes, ascending */
	size_t			 n, pos;
	/* the message being answered */
	enum fphase		 ph;
	size_t			 item;		/* next item */
	bool			 first;		/* no item written yet */
	bool			 seen_changed;
	const char		*data;
	size_t			 len;
	bool			 mapped;
	struct mime_msg		*msg;
	struct mime_fetch	*f;
	/* response text not yet in the output queue */
	struct buf		 stage;
	size_t			 stage_off;
	/* outcome, for the tagged reply */
	bool			 expunged_skipped, expunged_answered, failed;
};

struct fetch_cell {
	struct fetch_state	*st;
};

/* Every FETCH in progress (suspended ones, in practice): a handful. */
static struct fetch_state	*fetch_states;

static void
msg_release(struct fetch_state *st)
{
	st->f = NULL;
	st->msg = NULL;
	arena_reset(st->ma);
	if (st->mapped)
		imap_mbox_msg_unmap(st->data, st->len);
	st->mapped = false;
	st->data = NULL;
	st->len = 0;
}

static void
fetch_state_free(struct fetch_state *st)
{
	struct fetch_state	**pp;

	for (pp = &fetch_states; *pp != NULL; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	if (st->cell != NULL)
		st->cell->st = NULL;
	msg_release(st);
	buf_deinit(&st->stage);
	arena_destroy(&st->ma);
	arena_destroy(&st->a);
	free(st);
}

/* c->cmd_arena is reset or destroyed: a FETCH still there is abandoned
 * (its connection is closing). */
static void
fetch_cell_cleanup(void *arg)
{
	struct fetch_cell	*cell = arg;
	struct fetch_state	*st = cell->st;

	if (st == NULL)
		return;
	st->cell = NULL;
	cell->st = NULL;
	fetch_state_free(st);
}

/* --- planning --- */

static bool
att_sets_seen(const struct imap_fetch_att *att)
{
	switch (att->type) {
	case IMAP_FA_BODY_SECTION:
	case IMAP_FA_BINARY:
		return !att->peek;
	case IMAP_FA_RFC822:
	case IMAP_FA_RFC822_TEXT:
		return true;
	default:
		return false;
	}
}

static bool
att_is_short(enum imap_fatt t)
{
	return t == IMAP_FA_UID || t == IMAP_FA_FLAGS ||
	    t == IMAP_FA_INTERNALDATE || t == IMAP_FA_RFC822_SIZE;
}

/* Dovecot upper-cases the header field names it echoes
 * ("BODY[HEADER.FIELDS (FROM TO)]" for "(From To)"); the rest of the
 * name is canonical already. */
static const char *
echo_dup(struct arena *a, const char *echo)
{
	char	*s = arena_strdup(a, echo), *p;

	for (p = s; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return s;
}

static void
section_item(struct fetch_state *st, struct fitem *it,
    const struct imap_fetch_att *att)
{
	static const enum mime_section_kind kinds[] = {
		[IMAP_SECT_ALL] = MIME_SEC_PART,
		[IMAP_SECT_HEADER] = MIME_SEC_HEADER,
		[IMAP_SECT_HEADER_FIELDS] = MIME_SEC_HEADER_FIELDS,
		[IMAP_SECT_HEADER_FIELDS_NOT] = MIME_SEC_HEADER_FIELDS_NOT,
		[IMAP_SECT_TEXT] = MIME_SEC_TEXT,
		[IMAP_SECT_MIME] = MIME_SEC_MIME,
	};
	size_t	 i;

	it->kind = FI_SECTION;
	it->origin = 0;
	it->count = UINT64_MAX;
	switch (att->type) {
	case IMAP_FA_RFC822:
		it->echo = "RFC822";
		it->sec.kind = MIME_SEC_PART;
		return;
	case IMAP_FA_RFC822_HEADER:
		it->echo = "RFC822.HEADER";
		it->sec.kind = MIME_SEC_HEADER;
		return;
	case IMAP_FA_RFC822_TEXT:
		it->echo = "RFC822.TEXT";
		it->sec.kind = MIME_SEC_TEXT;
		return;
	default:
		break;
	}
	it->echo = echo_dup(st->a, att->echo);
	it->sec.kind = kinds[att->sect];
	if (att->npart > MIME_SECTION_MAX_PATH)
		it->missing = true;
	else {
		for (i = 0; i < att->npart; i++)
			it->sec.path[i] = att->part[i];
		it->sec.npath = att->npart;
	}
	if (att->nfields > 0) {
		it->sec.fields = arena_alloc(st->a,
		    att->nfields * sizeof(*it->sec.fields));
		for (i = 0; i < att->nfields; i++)
			it->sec.fields[i] = arena_strdup(st->a,
			    att->fields[i]);
		it->sec.nfields = att->nfields;
	}
	if (att->partial) {
		it->origin = att->origin;
		it->count = att->count;
	}
}

/* Does this item read only the message's own header? Then the parse can
 * stop at the header's end (FETCH ENVELOPE, or the HEADER.FIELDS lists
 * of a client filling its message list). */
static bool
item_header_only(const struct fitem *it)
{
	if (it->kind == FI_ENVELOPE)
		return true;
	if (it->kind != FI_SECTION)
		return false;
	if (it->missing)
		return true;	/* reads nothing */
	if (it->sec.npath > 0)
		return false;
	return it->sec.kind == MIME_SEC_HEADER ||
	    it->sec.kind == MIME_SEC_HEADER_FIELDS ||
	    it->sec.kind == MIME_SEC_HEADER_FIELDS_NOT;
}

/* The items in Dovecot's order (see the top of the file). */
static void
plan(struct fetch_state *st, const struct imap_fetch *atts, bool readonly)
{
	const struct imap_fetch_att	*att;
	struct fitem			*it;
	unsigned			 done = 0;	/* 1 << imap_fatt */
	bool				 have_flags = false;
	size_t				 i;

	st->items = arena_zalloc(st->a, (atts->n + 2) * sizeof(*st->items));
	if (st->uid) {
		st->items[st->nitems++].kind = FI_UID;
		done |= 1u << IMAP_FA_UID;
	}
	for (i = 0; i < atts->n; i++) {
		att = &atts->att[i];
		if (att_sets_seen(att) && !readonly)
			st->set_seen = true;
		if (!att_is_short(att->type) || (done & (1u << att->type)))
			continue;
		done |= 1u << att->type;
		it = &st->items[st->nitems++];
		switch (att->type) {
		case IMAP_FA_UID:
			it->kind = FI_UID;
			break;
		case IMAP_FA_FLAGS:
			it->kind = FI_FLAGS;
			have_flags = true;
			break;
		case IMAP_FA_INTERNALDATE:
			it->kind = FI_INTERNALDATE;
			break;
		default:
			it->kind = FI_SIZE;
			break;
		}
	}
	if (st->set_seen && !have_flags)
		st->items[st->nitems++].kind = FI_FLAGS_SEEN;
	st->hdr_only = true;
	for (i = 0; i < atts->n; i++) {
		att = &atts->att[i];
		if (att_is_short(att->type))
			continue;
		if (att->type != IMAP_FA_BODY_SECTION) {
			if (done & (1u << att->type))
				continue;
			done |= 1u << att->type;
		}
		it = &st->items[st->nitems++];
		switch (att->type) {
		case IMAP_FA_ENVELOPE:
			it->kind = FI_ENVELOPE;
			break;
		case IMAP_FA_BODY:
			it->kind = FI_BODY;
			break;
		case IMAP_FA_BODYSTRUCTURE:
			it->kind = FI_BODYSTRUCTURE;
			break;
		default:
			section_item(st, it, att);
			break;
		}
		st->need_file = true;
		if (!item_header_only(it))
			st->hdr_only = false;
	}
}

/* --- output --- */

/* Room in the output queue? Try to send first: a client that reads fast
 * gets the whole FETCH in one go. */
static bool
out_room(struct fetch_state *st)
{
	if (imap_pending(st->c) < TSTREAM_HIGH_WATER)
		return true;
	tstream_flush(st->c->s);
	return imap_pending(st->c) < TSTREAM_HIGH_WATER;
}

/* Move staged text into the output queue: everything (all), or only if
 * a batch is waiting. 1 done, 0 the queue is full (suspend), -1 the
 * connection is closing. */
static int
stage_push(struct fetch_state *st, bool all)
{
	size_t	 n;

	if (!all && st->stage.len - st->stage_off < FETCH_STAGE_BATCH)
		return 1;
	while (st->stage_off < st->stage.len) {
		if (!out_room(st))
			return 0;
		n = st->stage.len - st->stage_off;
		if (n > 4 * FETCH_CHUNK)
			n = 4 * FETCH_CHUNK;
		if (imap_send_raw(st->c, st->stage.data + st->stage_off,
		    n) == -1)
			return -1;
		st->stage_off += n;
	}
	buf_clear(&st->stage);
	st->stage_off = 0;
	return 1;
}

/* The literal's bytes, straight from the mapped message. */
static int
literal_pump(struct fetch_state *st)
{
	static char	 chunk[FETCH_CHUNK];
	size_t		 n;

	if (st->f == NULL)
		return 1;
	for (;;) {
		if (!out_room(st))
			return 0;
		if ((n = mime_fetch_read(st->f, chunk, sizeof(chunk))) == 0)
			return 1;
		if (imap_send_raw(st->c, chunk, n) == -1)
			return -1;
	}
}

/* The offset of the server's zone at t, as Dovecot shows INTERNALDATE
 * (imap_to_datetime: local time with its offset). */
static int
tz_minutes(time_t t)
{
	struct tm	 tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

/* The end of the message's header by mime.h's rule: the first empty
 * line (LF or CRLF) included, or the whole message. */
static size_t
header_end(const char *d, size_t len)
{
	const char	*nl;
	size_t		 i = 0;

	for (;;) {
		if (i < len && d[i] == '\n')
			return i + 1;
		if (i + 1 < len && d[i] == '\r' && d[i + 1] == '\n')
			return i + 2;
		if (i >= len || (nl = memchr(d + i, '\n', len - i)) == NULL)
			return len;
		i = (size_t)(nl - d) + 1;
	}
}

/* Start message idx[pos]: 1 with "* n FETCH (" staged, 0 to skip it
 * (expunged, or unreadable: noted for the tagged reply). */
static int
msg_begin(struct fetch_state *st)
{
	struct imap_mbox	*m = st->c->ses->sel;
	size_t			 i = st->idx[st->pos];
	const struct imap_msg	*msg = &m->msgs[i];
	int			 r;

	if (st->need_file) {
		r = msg->gone ? 0 : imap_mbox_msg_map(m, i, &st->data,
		    &st->len);
		if (r == 0) {
			st->expunged_skipped = true;
			return 0;
		}
		if (r == -1) {
			log_error("imap: FETCH: cannot read UID %" PRIu32
			    " of %s", msg->uid, m->name);
			st->failed = true;
			return 0;
		}
		st->mapped = true;
		st->msg = mime_parse(st->ma, st->data, st->hdr_only ?
		    header_end(st->data, st->len) : st->len);
	} else if (msg->gone)
		st->expunged_answered = true;
	st->seen_changed = st->set_seen && !msg->gone &&
	    imap_mbox_mark_seen(st->c, i);
	st->item = 0;
	st->first = true;
	return buf_printf(&st->stage, "* %zu FETCH (", i + 1) == 0 ? 1 : -1;
}

/* Stage one item other than a literal. 0, or -1 if the stage is full. */
static int
item_write(struct fetch_state *st, const struct fitem *it)
{
	struct imap_mbox	*m = st->c->ses->sel;
	size_t			 i = st->idx[st->pos];
	const struct imap_msg	*msg = &m->msgs[i];
	struct buf		*b = &st->stage;
	struct mime_envelope	 env;
	size_t			 start;
	int			 r = 0;

	if (it->kind == FI_FLAGS_SEEN && !st->seen_changed)
		return 0;
	if (!st->first)
		r |= buf_append_c(b, ' ');
	st->first = false;
	switch (it->kind) {
	case FI_UID:
		r |= buf_printf(b, "UID %" PRIu32, msg->uid);
		break;
	case FI_FLAGS:
	case FI_FLAGS_SEEN:
		r |= buf_append_str(b, "FLAGS ");
		r |= imap_mbox_write_flags(m, i, b);
		break;
	case FI_INTERNALDATE:
		r |= buf_append_str(b, "INTERNALDATE ");
		start = b->len;
		if (imap_write_datetime(b, msg->mtime,
		    tz_minutes(msg->mtime)) != 0)
			return -1;
		/* Dovecot writes the day with two digits ("09-Sep-2001"),
		 * the helper pads with a space; both are RFC 3501
		 * date-day-fixed, Dovecot's is what clients saw. */
		if (b->data[start + 1] == ' ')
			b->data[start + 1] = '0';
		break;
	case FI_SIZE:
		r |= buf_printf(b, "RFC822.SIZE %" PRIu32, msg->vsize);
		break;
	case FI_ENVELOPE:
		mime_envelope_get(st->ma, st->msg->root, &env);
		r |= buf_append_str(b, "ENVELOPE ");
		r |= imap_envelope_write(b, &env);
		break;
	case FI_BODY:
	case FI_BODYSTRUCTURE:
		r |= buf_append_str(b, it->kind == FI_BODY ? "BODY " :
		    "BODYSTRUCTURE ");
		r |= imap_bodystructure_write(b, st->ma, st->msg->root,
		    it->kind == FI_BODYSTRUCTURE);
		break;
	case FI_SECTION:
		break;
	}
	return r == 0 ? 0 : -1;
}

/* Run the FETCH as far as the output queue allows: 1 all answered, 0
 * suspended (queue full), -1 the connection is closing. */
static int
fetch_run(struct fetch_state *st)
{
	const struct fitem	*it;
	uint64_t		 size;
	int			 r;

	for (;;) {
		switch (st->ph) {
		case FP_NEXT:
			if (st->pos == st->n)
				return stage_push(st, true);
			if ((r = stage_push(st, false)) <= 0)
				return r;
			r = msg_begin(st);
			if (r == -1)
				goto too_big;
			if (r == 0) {
				msg_release(st);
				st->pos++;
				break;
			}
			st->ph = FP_ITEMS;
			break;
		case FP_ITEMS:
			if (st->item == st->nitems) {
				if (buf_append_str(&st->stage, ")\r\n") != 0)
					goto too_big;
				msg_release(st);
				st->pos++;
				st->ph = FP_NEXT;
				break;
			}
			it = &st->items[st->item];
			if (it->kind != FI_SECTION) {
				if (item_write(st, it) != 0)
					goto too_big;
				st->item++;
				if ((r = stage_push(st, false)) <= 0)
					return r;
				break;
			}
			/* A literal: "NAME {size}\r\n", then the bytes. */
			st->f = it->missing ? NULL : mime_fetch_open(st->ma,
			    st->msg, &it->sec, it->origin, it->count);
			size = st->f != NULL ? mime_fetch_size(st->f) : 0;
			if (buf_printf(&st->stage, "%s%s {%" PRIu64 "}\r\n",
			    st->first ? "" : " ", it->echo, size) != 0)
				goto too_big;
			st->first = false;
			st->ph = FP_LITERAL;
			break;
		case FP_LITERAL:
			if ((r = stage_push(st, true)) <= 0 ||
			    (r = literal_pump(st)) <= 0)
				return r;
			st->f = NULL;
			st->item++;
			st->ph = FP_ITEMS;
			break;
		}
	}
too_big:
	log_error("imap: FETCH: the response for UID %" PRIu32 " of %s is "
	    "over %u bytes; closing the connection",
	    st->c->ses->sel->msgs[st->idx[st->pos]].uid,
	    st->c->ses->sel->name, FETCH_STAGE_MAX);
	imap_close_after_reply(st->c);
	return -1;
}

static void
fetch_finish(struct fetch_state *st)
{
	struct iconn	*c = st->c;

	/* New mail and flag changes by others, before the tagged reply
	 * (EXPUNGEs too after UID FETCH, RFC 3501 7.4.1), as Dovecot's
	 * cmd_sync after FETCH does. */
	if (imap_mbox_changed(c->ses->sel))
		(void)imap_mbox_sync(c, st->uid);
	if (st->failed)
		imap_no(c, st->tag, "[SERVERBUG] Internal error occurred. "
		    "Refer to server log for more information.");
	else if (st->expunged_skipped)
		imap_no(c, st->tag, "[EXPUNGEISSUED] Some of the requested "
		    "messages no longer exist.");
	else if (st->expunged_answered)
		imap_ok(c, st->tag, "[EXPUNGEISSUED] Some messages were "
		    "already expunged.");
	else
		imap_ok(c, st->tag, "Fetch completed.");
}

/* Run, and end the command if it is done. true when it is. */
static bool
fetch_step(struct fetch_state *st)
{
	struct iconn	*c = st->c;
	int		 r;

	r = fetch_run(st);
	if (r == 0) {
		c->wait = IW_OUTPUT;
		return false;
	}
	if (r == 1)
		fetch_finish(st);
	fetch_state_free(st);
	if (c->wait == IW_OUTPUT)
		c->wait = IW_NONE;
	return true;
}

void
imap_cmd_fetch(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const struct imap_fetch	*atts = &a->u.fetch.atts;
	struct imap_mbox	*m = c->ses != NULL ? c->ses->sel : NULL;
	struct fetch_state	*st;
	struct fetch_cell	*cell;
	const char		*error;
	size_t			 i;

	if (m == NULL) {
		imap_bad(c, tag, "No mailbox selected");
		return;
	}
	for (i = 0; i < atts->n; i++)
		if (atts->att[i].type == IMAP_FA_BINARY ||
		    atts->att[i].type == IMAP_FA_BINARY_SIZE) {
			imap_bad(c, tag, "Unsupported FETCH attribute %s",
			    atts->att[i].echo);
			return;
		}
	st = xcalloc(1, sizeof(*st));
	st->c = c;
	st->a = arena_create(8192);
	st->uid = a->uid;
	if (imap_mbox_resolve(c, a->u.fetch.set, a->uid, st->a, &st->idx,
	    &st->n, &error) != 0) {
		imap_bad(c, tag, "%s", error);
		arena_destroy(&st->a);
		free(st);
		return;
	}
	st->tag = arena_strdup(st->a, tag);
	st->ma = arena_create(64 * 1024);
	buf_init(&st->stage, NULL, FETCH_STAGE_MAX);
	plan(st, atts, m->readonly);
	cell = arena_zalloc(c->cmd_arena, sizeof(*cell));
	cell->st = st;
	st->cell = cell;
	arena_cleanup_add(c->cmd_arena, fetch_cell_cleanup, cell);
	st->next = fetch_states;
	fetch_states = st;
	(void)fetch_step(st);
}

/* The connection calls this when its output queue has drained while
 * c->wait == IW_OUTPUT (tstream's on_drain). It produces the next part
 * of the suspended FETCH; true when the command has ended (tagged reply
 * queued, c->wait back to IW_NONE: read and run the next commands),
 * false while it is still waiting for the queue to drain. */
bool
imap_fetch_continue(struct iconn *c)
{
	struct fetch_state	*st;

	for (st = fetch_states; st != NULL; st = st->next)
		if (st->c == c)
			return fetch_step(st);
	if (c->wait == IW_OUTPUT)
		c->wait = IW_NONE;
	return true;
}
