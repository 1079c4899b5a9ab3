/* imap_searchrun.c - SEARCH and UID SEARCH on the selected folder (RFC
 * 3501 6.4.4), with ESEARCH results (RFC 4731) and SEARCHRES (RFC 5182).
 *
 * The parser (imap_search.c) gives a key tree; it is compiled here into a
 * tree of our own, once per command, in which everything that does not
 * depend on the message is settled up front: sequence and UID sets become
 * sorted ranges, keywords become a bit (or "does not exist"), dates
 * become the start of their day, strings become folded matchers
 * (mime.h). Each node also gets a cost: 0 for what the view
 * knows (flags, UIDs, sizes, INTERNALDATE), 1 for the header, 2 for the
 * body. The children of an AND are reordered by cost (AND and OR have no
 * side effects, so the order is ours to choose) and both AND and OR stop
 * at the first decisive child, so the cheap tests run first and a message
 * is only opened when a header or body key is reached for it. It is then
 * mapped and parsed once (mime_parse; only its header when no key of the
 * command reads bodies) and unmapped when the message is done; all
 * per-message memory lives in an arena reset between messages.
 *
 * Dovecot 2.3 is the model (checked against it in
 * tests/integration/test_imap_search.py):
 *  - BEFORE/ON/SINCE compare the INTERNALDATE's day in the server's local
 *    time zone (Dovecot: mtime + the local UTC offset at that instant,
 *    compared with midnight UTC of the key's date). SENTBEFORE/SENTON/
 *    SENTSINCE compare the sender's day: the first Date: field's time in
 *    its own zone. A message without a parsable Date: counts as sent at
 *    1970-01-01 00:00 (Dovecot's "0 = not found / invalid"), so it matches
 *    SENTBEFORE and never SENTSINCE.
 *  - NEW is RECENT UNSEEN; OLD is NOT RECENT.
 *  - KEYWORD of a name the folder does not know matches nothing, UNKEYWORD
 *    of it everything; searching never creates a keyword (Dovecot does).
 *  - SUBJECT squeezes runs of blanks in the field to one space before
 *    matching (Dovecot's SEARCH_HEADER_COMPRESS_LWSP); FROM/TO/CC/BCC
 *    match the field's addresses written back in Dovecot's normal form
 *    ("Name" <mailbox@domain>, see addr_text); HEADER matches the
 *    decoded value. An empty string with any of these matches when the
 *    field exists at all.
 *  - TEXT matches the header of every part (names as written, values
 *    decoded) and the decoded text of every text part; BODY the
 *    text parts only, not even the header of an encapsulated message
 *    (where mime_body_match() and Dovecot part). TEXT "" and BODY ""
 *    match all.
 *  - ESEARCH items come in Dovecot's order: MIN MAX ALL COUNT; MIN, MAX
 *    and ALL are left out when nothing matched (RFC 4731 3.1), and
 *    RETURN (SAVE) alone sends no ESEARCH at all (RFC 5182 2.4).
 *  - SAVE with only MIN and/or MAX saves just those (RFC 5182 2.4).
 * Deliberate differences: a sequence number beyond the message count is
 * BAD (Dovecot ignores it), except that on an empty folder a set using
 * "*" simply matches nothing; CHARSET is UTF-8 or US-ASCII only (the
 * parser answers BADCHARSET for the rest).
 *
 * Messages another session expunged (gone) never match, and neither does
 * a message whose file cannot be read any more; an I/O error other than
 * "gone" makes the command end in NO after the results.
 *
 * Cost: O(messages x keys) for index keys; a header key adds one open +
 * mmap + header parse per message that reaches it, a body key a parse of
 * the whole message (linear in its size). 10,000 small messages: about
 * 0.13 s for UID SEARCH SUBJECT (test_imap_search.py has the numbers).
 * The search runs to completion inside the event loop: a folder of
 * 100,000 big messages searched with BODY blocks the other connections
 * of this process for seconds (Dovecot searches in slices; so could we,
 * with an IW_OUTPUT-like wait state, if it shows in practice).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_session.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/keywords.h"
#include "aviary/log.h"
#include "aviary/mime.h"
#include "aviary/str.h"

#define COST_INDEX	0u	/* the view knows */
#define COST_HEADER	1u	/* the message's header */
#define COST_BODY	2u	/* the message's body */
#define COST_LEVELS	3u

/* Per-message scratch (parse tree, decoded text): its first chunk is
 * kept across messages by arena_reset. */
#define SEARCH_MSG_ARENA_CHUNK	(64u * 1024)

#define SECS_PER_DAY	86400

/* A compiled key. Everything points into the command arena. */
struct snode {
	enum imap_skey		 type;
	unsigned		 cost;	/* the most expensive leaf below */
	struct snode		**kids;	/* AND (cheapest first), OR, NOT */
	size_t			 nkids;
	/* flag keys: the MAIL_FLAG_* bit and whether it must be unset */
	unsigned		 flag;
	bool			 unset;
	/* KEYWORD/UNKEYWORD: the bit, 0 for a name the folder lacks */
	uint32_t		 kwbit;
	/* SEQSET/UID: sorted disjoint ranges of sequence numbers or UIDs */
	struct imap_seq_range	*ranges;
	size_t			 nranges;
	bool			 by_uid;
	/* dates: midnight UTC of the key's day (see the top comment) */
	time_t			 day;
	uint64_t		 size;
	/* header and text keys */
	const char		*field;	/* "Subject", "From", HEADER's name */
	struct mime_matcher	 mt;
	bool			 empty;	/* the string was "" */
};

/* One SEARCH command being run. */
struct srun {
	struct iconn		*c;
	struct imap_mbox	*m;
	struct arena		*a;	/* the command arena */
	struct arena		*ma;	/* per message */
	const char		*bad;	/* compile error: BAD text */
	bool			 want_body;	/* a key reads bodies */
	/* the message being evaluated */
	size_t			 idx;
	int			 state;	/* 0 not opened, 1 parsed, -1 cannot */
	const char		*data;
	size_t			 len;
	struct mime_msg		*msg;
	bool			 have_local, have_sent;
	time_t			 local, sent;	/* wall clock as UTC seconds */
	bool			 io_error;
};

/* --- compiling the key tree --- */

static struct snode *compile(struct srun *r, const struct imap_search_key *k);

static bool
seqset_only_star(const struct imap_seqset *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].lo != IMAP_SEQ_STAR && s->r[i].hi != IMAP_SEQ_STAR)
			return false;
	return true;
}

/* A sequence or UID set (or "$", UIDs) as sorted disjoint ranges: memory
 * bounded by the command's length, not by the folder's size. Sequence
 * numbers beyond the count are BAD (r->bad), unknown UIDs ignored, "*"
 * is the last message or the highest UID (RFC 3501 6.4.4, 9). */
static void
compile_set(struct srun *r, struct snode *s, const struct imap_seqset *set,
    bool uid)
{
	const struct imap_mbox	*m = r->m;
	uint32_t		 max;
	bool			 beyond;

	s->by_uid = uid;
	if (set->saved) {
		/* RFC 5182: "$" holds UIDs, and is empty until a SAVE */
		s->by_uid = uid = true;
		if ((set = r->c->ses->saved) == NULL)
			return;
	}
	if (m->n == 0) {
		/* "*" and "1:*" are what clients send to mean "all of
		 * them", which is nothing here; other numbers are BAD */
		if (!uid && !seqset_only_star(set))
			r->bad = "Invalid messageset: the folder is empty";
		return;
	}
	max = uid ? m->msgs[m->n - 1].uid : (uint32_t)m->n;
	s->nranges = imap_seqset_resolve(set, max, r->a, &s->ranges, &beyond);
	if (beyond && !uid)
		r->bad = "Invalid messageset";
}

/* Is v in the ranges? O(log n). */
static bool
in_ranges(const struct snode *s, uint32_t v)
{
	size_t	 lo = 0, hi = s->nranges, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v < s->ranges[mid].lo)
			hi = mid;
		else if (v > s->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static void
compile_flag(struct snode *s)
{
	static const struct {
		enum imap_skey	 type;
		unsigned	 flag;
		bool		 unset;
	} map[] = {
		{ IMAP_SK_ANSWERED, MAIL_FLAG_ANSWERED, false },
		{ IMAP_SK_DELETED, MAIL_FLAG_DELETED, false },
		{ IMAP_SK_DRAFT, MAIL_FLAG_DRAFT, false },
		{ IMAP_SK_FLAGGED, MAIL_FLAG_FLAGGED, false },
		{ IMAP_SK_SEEN, MAIL_FLAG_SEEN, false },
		{ IMAP_SK_UNANSWERED, MAIL_FLAG_ANSWERED, true },
		{ IMAP_SK_UNDELETED, MAIL_FLAG_DELETED, true },
		{ IMAP_SK_UNDRAFT, MAIL_FLAG_DRAFT, true },
		{ IMAP_SK_UNFLAGGED, MAIL_FLAG_FLAGGED, true },
		{ IMAP_SK_UNSEEN, MAIL_FLAG_SEEN, true },
	};
	size_t	 i;

	for (i = 0; i < N_ELEMENTS(map); i++)
		if (map[i].type == s->type) {
			s->flag = map[i].flag;
			s->unset = map[i].unset;
			return;
		}
	log_panic("imap search: no flag for key %d", (int)s->type);
}

static void
compile_string(struct srun *r, struct snode *s, const char *field,
    const char *value)
{
	s->field = field;
	s->empty = value[0] == '\0';
	mime_matcher_init(&s->mt, r->a, value, strlen(value));
}

/* AND: the children, cheapest first, in their order otherwise (stable:
 * one pass per cost level). */
static struct snode *
compile_and(struct srun *r, struct snode *s, const struct imap_search_key *k)
{
	struct snode	**tmp;
	size_t		 i, n = 0;
	unsigned	 level;

	tmp = arena_alloc(r->a, (k->u.and.n + 1) * sizeof(*tmp));
	s->kids = arena_alloc(r->a, (k->u.and.n + 1) * sizeof(*s->kids));
	for (i = 0; i < k->u.and.n; i++)
		if ((tmp[i] = compile(r, &k->u.and.k[i])) == NULL)
			return NULL;
	for (level = 0; level < COST_LEVELS; level++)
		for (i = 0; i < k->u.and.n; i++)
			if (tmp[i]->cost == level) {
				s->kids[n++] = tmp[i];
				if (level > s->cost)
					s->cost = level;
			}
	s->nkids = n;
	return s;
}

/* NULL after setting r->bad; recursion depth is the parser's
 * (IMAP_SEARCH_DEPTH_MAX). */
static struct snode *
compile(struct srun *r, const struct imap_search_key *k)
{
	struct snode	*s = arena_zalloc(r->a, sizeof(*s));
	struct snode	*t;
	int		 kw;

	s->type = k->type;
	s->cost = COST_INDEX;
	switch (k->type) {
	case IMAP_SK_AND:
		return compile_and(r, s, k);
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		s->nkids = k->type == IMAP_SK_OR ? 2 : 1;
		s->kids = arena_alloc(r->a, s->nkids * sizeof(*s->kids));
		if ((s->kids[0] = compile(r, k->u.sub[0])) == NULL)
			return NULL;
		s->cost = s->kids[0]->cost;
		if (s->nkids == 2) {
			if ((s->kids[1] = compile(r, k->u.sub[1])) == NULL)
				return NULL;
			if (s->kids[1]->cost < s->kids[0]->cost) {
				t = s->kids[0];
				s->kids[0] = s->kids[1];
				s->kids[1] = t;
			}
			if (s->kids[1]->cost > s->cost)
				s->cost = s->kids[1]->cost;
		}
		return s;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		compile_set(r, s, k->u.set, k->type == IMAP_SK_UID);
		return r->bad != NULL ? NULL : s;
	case IMAP_SK_ALL:
	case IMAP_SK_NEW:
	case IMAP_SK_OLD:
	case IMAP_SK_RECENT:
		return s;
	case IMAP_SK_ANSWERED:
	case IMAP_SK_DELETED:
	case IMAP_SK_DRAFT:
	case IMAP_SK_FLAGGED:
	case IMAP_SK_SEEN:
	case IMAP_SK_UNANSWERED:
	case IMAP_SK_UNDELETED:
	case IMAP_SK_UNDRAFT:
	case IMAP_SK_UNFLAGGED:
	case IMAP_SK_UNSEEN:
		compile_flag(s);
		return s;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		/* Looked up, never created: a name the folder does not
		 * know is on no message. */
		kw = keywords_lookup(&r->m->kw, k->u.str);
		s->kwbit = kw >= 0 && kw < KEYWORDS_MAX ? 1u << kw : 0;
		return s;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		s->day = imap_date_to_time(&k->u.date);
		return s;
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		s->day = imap_date_to_time(&k->u.date);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		s->size = k->u.size;
		return s;
	case IMAP_SK_BCC:
		compile_string(r, s, "Bcc", k->u.str);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_CC:
		compile_string(r, s, "Cc", k->u.str);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_FROM:
		compile_string(r, s, "From", k->u.str);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_TO:
		compile_string(r, s, "To", k->u.str);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_SUBJECT:
		compile_string(r, s, "Subject", k->u.str);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_HEADER:
		compile_string(r, s, k->u.header.name, k->u.header.value);
		s->cost = COST_HEADER;
		return s;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		compile_string(r, s, NULL, k->u.str);
		if (s->empty)
			s->type = IMAP_SK_ALL;	/* Dovecot: "" is ALL */
		else
			s->cost = COST_BODY;
		return s;
	}
	r->bad = "Unknown search key";
	return NULL;
}

/* --- the message, on demand --- */

/* Bytes of the top-level header, its empty line included: up to the
 * first empty line (LF or CRLF, mime.h's rule), else all of them. Parsing
 * only these is enough for the header keys, and it leaves the pages of
 * a big body unread: a SUBJECT search does not read the attachments. */
static size_t
header_len(const char *p, size_t len)
{
	const char	*lf;
	size_t		 off = 0;

	for (;;) {
		if (off < len && p[off] == '\n')
			return off + 1;
		if (off + 1 < len && p[off] == '\r' && p[off + 1] == '\n')
			return off + 2;
		if (off >= len ||
		    (lf = memchr(p + off, '\n', len - off)) == NULL)
			return len;
		off = (size_t)(lf - p) + 1;
	}
}

/* Map and parse the current message once (only its header when no key
 * of the command looks further). false if it cannot be read
 * (gone, or an I/O error, remembered for the tagged reply). */
static bool
msg_load(struct srun *r)
{
	int	 ret;

	if (r->state != 0)
		return r->state > 0;
	ret = imap_mbox_msg_map(r->m, r->idx, &r->data, &r->len);
	if (ret != 1) {
		if (ret < 0 && !r->io_error) {
			log_error("imap: SEARCH in %s: cannot read the message "
			    "with UID %u", r->m->name,
			    (unsigned)r->m->msgs[r->idx].uid);
			r->io_error = true;
		}
		r->state = -1;
		return false;
	}
	r->msg = mime_parse(r->ma, r->data, r->want_body ? r->len :
	    header_len(r->data, r->len));
	r->state = 1;
	return true;
}

static void
msg_done(struct srun *r)
{
	if (r->state > 0)
		imap_mbox_msg_unmap(r->data, r->len);
	r->state = 0;
	r->data = NULL;
	r->len = 0;
	r->msg = NULL;
	r->have_local = r->have_sent = false;
	arena_reset(r->ma);
}

/* The INTERNALDATE as local wall-clock seconds. */
static time_t
msg_local_time(struct srun *r)
{
	struct tm	 tm;
	time_t		 t = r->m->msgs[r->idx].mtime;

	if (!r->have_local) {
		r->local = localtime_r(&t, &tm) != NULL ? t + tm.tm_gmtoff : t;
		r->have_local = true;
	}
	return r->local;
}

/* The first Date: field as the sender's wall-clock seconds; 0 when it is
 * missing or cannot be parsed (as Dovecot). Only after msg_load. */
static time_t
msg_sent_time(struct srun *r)
{
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	time_t			 t;
	int			 tz;

	if (r->have_sent)
		return r->sent;
	r->sent = 0;
	mime_hdr_iter_init(&it, r->msg, r->msg->root);
	while (mime_hdr_iter_next(&it, &name, &v)) {
		if (!str_caseeq_cstr(name, "Date"))
			continue;
		if (mime_date_parse(v.p, v.len, &t, &tz) == 0)
			r->sent = t + (time_t)tz * 60;
		break;
	}
	r->have_sent = true;
	return r->sent;
}

/* A field value with its line breaks removed and each run of blanks
 * squeezed to one space, leading ones dropped (Dovecot's compress_lwsp
 * on the unfolded value); the result in a. */
static char *
compress_lwsp(struct arena *a, const char *p, size_t len, size_t *len_r)
{
	char	*out = arena_alloc(a, len + 1);
	size_t	 i, o = 0;
	bool	 blank = true;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (p[i] == ' ' || p[i] == '\t') {
			if (!blank)
				out[o++] = ' ';
			blank = true;
			continue;
		}
		out[o++] = p[i];
		blank = false;
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

/* The part after p in a pre-order walk of the tree (no recursion), NULL
 * at the end. */
static const struct mime_part *
part_next(const struct mime_part *p)
{
	if (p->children != NULL)
		return p->children;
	while (p != NULL && p->next == NULL)
		p = p->parent;
	return p != NULL ? p->next : NULL;
}

/* RFC 5322 atext, and every 8-bit byte (Dovecot's rfc822_atext_chars). */
static bool
is_atext(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Dovecot's str_append_maybe_escape: as it is if all atext (and '.'
 * unless dots count), else quoted with '"', '\\' and '\'' escaped. */
static int
append_maybe_escape(struct buf *b, const char *s, bool escape_dot)
{
	const char	*p;
	int		 ret = 0;

	for (p = s; *p != '\0'; p++)
		if (!is_atext((unsigned char)*p) && (escape_dot || *p != '.'))
			break;
	if (*p == '\0')
		return buf_append_str(b, s);
	ret |= buf_append_c(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || *p == '\'')
			ret |= buf_append_c(b, '\\');
		ret |= buf_append_c(b, *p);
	}
	ret |= buf_append_c(b, '"');
	return ret;
}

/* FROM/TO/CC/BCC match what Dovecot matches: the field's addresses
 * parsed and written back in one normal form (message_address_write:
 * "Name" <route:mailbox@domain>, groups as "name: ...;", joined with
 * ", "), then decoded (RFC 2047). So "<bob@" and "undisclosed-
 * recipients:;" are found, as the client saw them written. */
static const char *
addr_text(struct arena *a, const char *value, size_t len, size_t *len_r)
{
	const struct mime_addr	*ad, *list = mime_addr_parse(a, value, len);
	const char		*mbox;
	struct buf		 b;
	bool			 first = true, in_group = false;
	int			 ret = 0;

	buf_init(&b, a, SIZE_MAX / 2);
	if (list != NULL && list->mailbox == NULL && list->domain == NULL) {
		ret |= buf_append_str(&b, "<>");	/* a null path */
		list = NULL;
	}
	for (ad = list; ad != NULL; ad = ad->next) {
		if (!first)
			ret |= buf_append_str(&b, ", ");
		first = false;
		if (ad->domain == NULL && !in_group) {
			/* a group opens: mailbox is its name */
			if (ad->mailbox == NULL || ad->mailbox[0] == '\0')
				ret |= buf_append_str(&b, "\"\"");
			else if (strstr(ad->mailbox, "=?") != NULL)
				ret |= buf_append_str(&b, ad->mailbox);
			else
				ret |= append_maybe_escape(&b, ad->mailbox,
				    true);
			ret |= buf_append_str(&b, ": ");
			first = true;
			in_group = true;
			continue;
		}
		if (ad->domain == NULL) {
			/* the group closes: drop the ", " (or the " ") */
			buf_truncate(&b, b.len - (b.data[b.len - 2] == ',' ?
			    2 : 1));
			ret |= buf_append_c(&b, ';');
			in_group = false;
			continue;
		}
		if (ad->name != NULL) {
			if (strstr(ad->name, "=?") != NULL)
				ret |= buf_append_str(&b, ad->name);
			else
				ret |= append_maybe_escape(&b, ad->name, true);
		}
		mbox = ad->mailbox != NULL ? ad->mailbox : "";
		if (ad->route == NULL && mbox[0] == '\0' &&
		    ad->domain[0] == '\0')
			continue;
		if (ad->name != NULL && ad->name[0] != '\0')
			ret |= buf_append_c(&b, ' ');
		ret |= buf_append_c(&b, '<');
		if (ad->route != NULL) {
			ret |= buf_append_str(&b, ad->route);
			ret |= buf_append_c(&b, ':');
		}
		if (mbox[0] == '\0')
			ret |= buf_append_str(&b, "\"\"");
		else
			ret |= append_maybe_escape(&b, mbox, false);
		if (ad->domain[0] != '\0') {
			ret |= buf_append_c(&b, '@');
			ret |= buf_append_str(&b, ad->domain);
		}
		ret |= buf_append_c(&b, '>');
	}
	if (ret != 0)
		log_panic("imap search: address text does not fit");
	return mime_header_decode(a, buf_cstr(&b), b.len, len_r);
}

/* SUBJECT, FROM, TO, CC, BCC, HEADER: any field of that name in the
 * top-level header. */
static bool
match_field(struct srun *r, const struct snode *s)
{
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	const char		*d;
	size_t			 n;

	if (!msg_load(r))
		return false;
	mime_hdr_iter_init(&it, r->msg, r->msg->root);
	while (mime_hdr_iter_next(&it, &name, &v)) {
		if (!str_caseeq_cstr(name, s->field))
			continue;
		if (s->empty)
			return true;	/* the field exists */
		switch (s->type) {
		case IMAP_SK_FROM:
		case IMAP_SK_TO:
		case IMAP_SK_CC:
		case IMAP_SK_BCC:
			d = addr_text(r->ma, v.p, v.len, &n);
			if (mime_matcher_match(&s->mt, r->ma, d, n))
				return true;
			break;
		case IMAP_SK_SUBJECT:
			d = compress_lwsp(r->ma, v.p, v.len, &n);
			d = mime_header_decode(r->ma, d, n, &n);
			if (mime_matcher_match(&s->mt, r->ma, d, n))
				return true;
			break;
		default:
			d = mime_header_decode(r->ma, v.p, v.len, &n);
			if (mime_matcher_match(&s->mt, r->ma, d, n))
				return true;
			break;
		}
	}
	return false;
}

/* BODY: the decoded text of every text part, encapsulated messages
 * included, but none of the header fields: Dovecot's BODY skips them,
 * the headers of a message/rfc822 part's message too, which is where
 * mime_body_match() would differ. Dovecot searches the body of a part
 * whose Content-Type starts with "text/" or "message/" (or that has
 * none); mime_part_text() covers text, the two cases around it are
 * here. */
static bool
match_body(struct srun *r, const struct snode *s)
{
	const struct mime_part	*p;
	char			*text;
	size_t			 n;

	if (!msg_load(r))
		return false;
	for (p = r->msg->root; p != NULL; p = part_next(p)) {
		if (p->type != NULL && strcasecmp(p->type, "text") == 0 &&
		    p->subtype != NULL && p->subtype[0] == '\0')
			continue;	/* a bare "text" is no text/ type */
		if (mime_part_text(r->ma, r->msg, p, &text, &n) == 1) {
			if (mime_matcher_match(&s->mt, r->ma, text, n))
				return true;
		} else if (p->children == NULL && p->type != NULL &&
		    strcasecmp(p->type, "message") == 0) {
			/* message/partial, message/external-body, an
			 * rfc822 too deep to be parsed: Dovecot searches
			 * any message/ body as text, as it is */
			if (mime_matcher_match(&s->mt, r->ma, r->msg->data +
			    p->hdr_off + p->hdr.phys, p->body.phys))
				return true;
		}
	}
	return false;
}

/* TEXT: each part's header as Dovecot searches it (the name and its
 * colon as written, the decoded value, CRLF; the fields of one part as
 * one text, so a key may span fields), then the body as BODY. */
static bool
match_text(struct srun *r, const struct snode *s)
{
	const struct mime_part	*p;
	struct mime_hdr_iter	 it;
	struct str		 name, v;
	struct buf		 b;
	const char		*d;
	size_t			 n;
	int			 ret = 0;

	if (!msg_load(r))
		return false;
	for (p = r->msg->root; p != NULL; p = part_next(p)) {
		buf_init(&b, r->ma, SIZE_MAX / 2);
		mime_hdr_iter_init(&it, r->msg, p);
		while (mime_hdr_iter_next(&it, &name, &v)) {
			if (v.p == NULL) {	/* a line without ':' */
				ret |= buf_append(&b, name.p, name.len);
			} else {
				ret |= buf_append(&b, name.p,
				    (size_t)(v.p - name.p));
				d = mime_header_decode(r->ma, v.p, v.len, &n);
				ret |= buf_append(&b, d, n);
			}
			ret |= buf_append(&b, "\r\n", 2);
		}
		if (ret != 0)
			log_panic("imap search: header text does not fit");
		if (b.len > 0 &&
		    mime_matcher_match(&s->mt, r->ma, b.data, b.len))
			return true;
	}
	return match_body(r, s);
}

static bool
match_day(enum imap_skey type, time_t t, time_t day)
{
	switch (type) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
		return t < day;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
		return t >= day && t - day < SECS_PER_DAY;
	default:
		return t >= day;
	}
}

/* --- evaluation --- */

static bool
eval(struct srun *r, const struct snode *s)
{
	const struct imap_msg	*im = &r->m->msgs[r->idx];
	size_t			 i;

	switch (s->type) {
	case IMAP_SK_AND:
		for (i = 0; i < s->nkids; i++)
			if (!eval(r, s->kids[i]))
				return false;
		return true;
	case IMAP_SK_OR:
		return eval(r, s->kids[0]) || eval(r, s->kids[1]);
	case IMAP_SK_NOT:
		return !eval(r, s->kids[0]);
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		return in_ranges(s, s->by_uid ? im->uid :
		    (uint32_t)(r->idx + 1));
	case IMAP_SK_ALL:
		return true;
	case IMAP_SK_ANSWERED:
	case IMAP_SK_DELETED:
	case IMAP_SK_DRAFT:
	case IMAP_SK_FLAGGED:
	case IMAP_SK_SEEN:
	case IMAP_SK_UNANSWERED:
	case IMAP_SK_UNDELETED:
	case IMAP_SK_UNDRAFT:
	case IMAP_SK_UNFLAGGED:
	case IMAP_SK_UNSEEN:
		return ((im->sys & s->flag) != 0) != s->unset;
	case IMAP_SK_NEW:
		return im->recent && (im->sys & MAIL_FLAG_SEEN) == 0;
	case IMAP_SK_OLD:
		return !im->recent;
	case IMAP_SK_RECENT:
		return im->recent;
	case IMAP_SK_KEYWORD:
		return (im->kw & s->kwbit) != 0;
	case IMAP_SK_UNKEYWORD:
		return (im->kw & s->kwbit) == 0;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		return match_day(s->type, msg_local_time(r), s->day);
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		if (!msg_load(r))
			return false;
		return match_day(s->type, msg_sent_time(r), s->day);
	case IMAP_SK_LARGER:
		return im->vsize > s->size;
	case IMAP_SK_SMALLER:
		return im->vsize < s->size;
	case IMAP_SK_BCC:
	case IMAP_SK_CC:
	case IMAP_SK_FROM:
	case IMAP_SK_TO:
	case IMAP_SK_SUBJECT:
	case IMAP_SK_HEADER:
		return match_field(r, s);
	case IMAP_SK_BODY:
		return match_body(r, s);
	case IMAP_SK_TEXT:
		return match_text(r, s);
	}
	return false;
}

/* --- results --- */

/* "1:3,5,9:10" of ascending values. 0 or BUF_EFULL. */
static int
write_set(struct buf *b, const uint32_t *v, size_t n)
{
	size_t	 i, j;
	int	 ret = 0;

	for (i = 0; i < n && ret == 0; i = j + 1) {
		for (j = i; j + 1 < n && v[j + 1] == v[j] + 1; j++)
			;
		if (i > 0)
			ret = buf_append_c(b, ',');
		if (ret == 0 && j == i)
			ret = buf_printf(b, "%u", (unsigned)v[i]);
		else if (ret == 0)
			ret = buf_printf(b, "%u:%u", (unsigned)v[i],
			    (unsigned)v[j]);
	}
	return ret;
}

/* Replace the session's "$" with these UIDs (ascending). */
static void
save_result(struct iconn *c, const uint32_t *uids, size_t n)
{
	struct imap_session	*ses = c->ses;
	struct imap_seqset	*set;
	size_t			 i, j, k;

	arena_reset(ses->saved_arena);
	set = arena_zalloc(ses->saved_arena, sizeof(*set));
	for (i = 0, k = 0; i < n; i = j + 1, k++)
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
	set->r = arena_alloc(ses->saved_arena, (k + 1) * sizeof(*set->r));
	for (i = 0, k = 0; i < n; i = j + 1, k++) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		set->r[k].lo = uids[i];
		set->r[k].hi = uids[j];
	}
	set->n = k;
	ses->saved = set;
}

/* RFC 5182 2.4: SAVE with MIN and/or MAX but neither ALL nor COUNT saves
 * only those; otherwise the whole result. */
static void
save(struct iconn *c, unsigned ret, const uint32_t *uids, size_t n)
{
	uint32_t	 mm[2];
	size_t		 k = 0;

	if ((ret & (IMAP_SRET_ALL | IMAP_SRET_COUNT)) != 0 ||
	    (ret & (IMAP_SRET_MIN | IMAP_SRET_MAX)) == 0 || n == 0) {
		save_result(c, uids, n);
		return;
	}
	if ((ret & IMAP_SRET_MIN) != 0)
		mm[k++] = uids[0];
	if ((ret & IMAP_SRET_MAX) != 0 && (k == 0 || uids[n - 1] != mm[0]))
		mm[k++] = uids[n - 1];
	save_result(c, mm, k);
}

static int
write_esearch(struct buf *b, const char *tag, const struct imap_search *q,
    bool uid, const uint32_t *v, size_t n)
{
	int	 ret;

	ret = buf_append_str(b, "* ESEARCH (TAG ");
	ret |= imap_write_string(b, tag, strlen(tag), 0);
	ret |= buf_append_c(b, ')');
	if (uid)
		ret |= buf_append_str(b, " UID");
	if ((q->ret & IMAP_SRET_MIN) != 0 && n > 0)
		ret |= buf_printf(b, " MIN %u", (unsigned)v[0]);
	if ((q->ret & IMAP_SRET_MAX) != 0 && n > 0)
		ret |= buf_printf(b, " MAX %u", (unsigned)v[n - 1]);
	if ((q->ret & IMAP_SRET_ALL) != 0 && n > 0) {
		ret |= buf_append_str(b, " ALL ");
		ret |= write_set(b, v, n);
	}
	if ((q->ret & IMAP_SRET_COUNT) != 0)
		ret |= buf_printf(b, " COUNT %zu", n);
	ret |= buf_append_str(b, "\r\n");
	return ret;
}

static int
write_search(struct buf *b, const uint32_t *v, size_t n)
{
	size_t	 i;
	int	 ret;

	ret = buf_append_str(b, "* SEARCH");
	for (i = 0; i < n && ret == 0; i++)
		ret = buf_printf(b, " %u", (unsigned)v[i]);
	ret |= buf_append_str(b, "\r\n");
	return ret;
}

void
imap_cmd_search(struct iconn *c, const char *tag, const struct imap_args *a)
{
	const struct imap_search	*q = &a->u.search;
	struct srun			 r;
	struct snode			*root;
	struct buf			 out;
	uint32_t			*vals, *uids;
	size_t				 i, n = 0;
	bool				 saving;

	memset(&r, 0, sizeof(r));
	saving = q->esearch && (q->ret & IMAP_SRET_SAVE) != 0;
	if (c->ses == NULL || c->ses->sel == NULL) {
		imap_bad(c, tag, "No mailbox selected.");
		return;
	}
	r.c = c;
	r.m = c->ses->sel;
	r.a = c->cmd_arena;
	if ((root = compile(&r, q->root)) == NULL) {
		/* RFC 5182 2.1: a failed SEARCH ... SAVE empties "$" */
		if (saving)
			save_result(c, NULL, 0);
		imap_bad(c, tag, "%s", r.bad != NULL ? r.bad :
		    "Invalid search");
		return;
	}
	r.want_body = root->cost >= COST_BODY;
	r.ma = arena_create(SEARCH_MSG_ARENA_CHUNK);
	vals = arena_alloc(r.a, (r.m->n + 1) * sizeof(*vals));
	uids = arena_alloc(r.a, (r.m->n + 1) * sizeof(*uids));
	for (i = 0; i < r.m->n; i++) {
		if (r.m->msgs[i].gone)
			continue;
		r.idx = i;
		/* a message we could not open matches nothing, NOT included */
		if (eval(&r, root) && r.state >= 0) {
			uids[n] = r.m->msgs[i].uid;
			vals[n] = a->uid ? r.m->msgs[i].uid : (uint32_t)(i + 1);
			n++;
		}
		msg_done(&r);
	}
	arena_destroy(&r.ma);

	/* RFC 5182 2.1: a SEARCH ... SAVE that fails (our NO below) leaves
	 * "$" empty */
	if (saving)
		save(c, q->ret, uids, r.io_error ? 0 : n);
	buf_init(&out, r.a, SIZE_MAX / 2);
	if (!q->esearch) {
		if (write_search(&out, vals, n) != 0)
			log_panic("imap: SEARCH result does not fit");
	} else if (q->ret != IMAP_SRET_SAVE) {
		if (write_esearch(&out, tag, q, a->uid, vals, n) != 0)
			log_panic("imap: ESEARCH result does not fit");
	}
	if (out.len > 0 && imap_send_raw(c, out.data, out.len) != 0)
		return;		/* the connection is closing */
	/* New mail and flag changes by others before the tagged reply,
	 * EXPUNGEs only after UID SEARCH (RFC 3501 7.4.1), as FETCH does.
	 * The view may change here: nothing of it is used afterwards. */
	if (imap_mbox_changed(r.m))
		(void)imap_mbox_sync(c, a->uid);
	if (r.io_error)
		imap_no(c, tag, "[SERVERBUG] Internal error occurred. Refer "
		    "to server log for more information.");
	else
		imap_ok(c, tag, "Search completed.");
}
