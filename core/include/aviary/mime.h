/* aviary/mime.h - the structure of a message held in memory, for
 * aviary-imap's FETCH and SEARCH: MIME parts with their byte ranges and
 * IMAP sizes, the Content-* fields, the envelope headers, BODY[section]
 * resolution with a streaming CRLF reader, and the decoders SEARCH needs.
 * imapfmt.h turns these into IMAP ENVELOPE / BODY / BODYSTRUCTURE text.
 *
 * The oracle is Dovecot 2.3: a mailbox migrated from Dovecot must show
 * clients the very same structures and octet counts, so wherever Dovecot
 * and a literal reading of RFC 2045/2046/5322 disagree, this module does
 * what Dovecot does (the .c files say where). Briefly:
 *  - A header ends at the first empty line (LF or CRLF); without one the
 *    whole message is header and the body is empty. Folded lines belong
 *    to the field above them; a line without ':' is kept as a field
 *    that matches no name.
 *  - A part is MIME if it has MIME-Version or Content-Type, or is a child
 *    of a multipart. Content-* fields of a non-MIME part are ignored.
 *  - A multipart needs a boundary parameter and an empty line ending its
 *    header, else it has no children (BODYSTRUCTURE shows one empty
 *    text/plain). Boundaries are matched as prefixes of a line after
 *    "--", the longest active one wins, only their first 80 bytes count;
 *    the [CR]LF before a boundary line belongs to the boundary (even
 *    the empty line ending a header, when a boundary follows it at
 *    once; a header cut short by a boundary gives its last line break
 *    to its parent's body). A boundary line ended by the end of the
 *    message starts no part. A part without Content-Type under
 *    multipart/digest is message/rfc822.
 *  - Limits (Dovecot's defaults): MIME_MAX_DEPTH nesting levels, i.e. a
 *    part at depth MIME_MAX_DEPTH - 1 (the root is depth 0) cannot hold
 *    parts: a multipart or message/rfc822 there is a leaf, shown as
 *    "application" "octet-stream" with its parameters. When the message
 *    reaches MIME_MAX_PARTS parts, the last part's body runs to the end
 *    of the message and no boundary is recognised any more.
 *  - Sizes are counted as IMAP serves the message: every LF not preceded
 *    by CR counts as CRLF (vsize); lines are LF characters.
 *
 * Memory: mime_parse() allocates the tree from the caller's arena and
 * keeps pointers into the message bytes, which must outlive the arena's
 * use (the server mmaps the Maildir file). Parsing is one linear pass
 * with an explicit stack (no recursion); nothing here reads files.
 * Strings taken from header values are NUL-terminated copies in which a
 * NUL byte of the message became U+FFFD (as Dovecot does).
 */
#ifndef AVIARY_MIME_H
#define AVIARY_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aviary/compat.h"
#include "aviary/str.h"

struct arena;
struct buf;

#define MIME_MAX_DEPTH		100	/* nesting levels (Dovecot default) */
#define MIME_MAX_PARTS		10000	/* parts per message (Dovecot default) */
#define MIME_BOUNDARY_MAX	80	/* boundary bytes compared (Dovecot) */
#define MIME_SECTION_MAX_PATH	MIME_MAX_DEPTH	/* numbers in "1.2.3" */
#define MIME_SECTION_MAX_FIELDS	256	/* names in HEADER.FIELDS (...) */

enum mime_part_flags {
	MIME_PART_MULTIPART	= 0x01,	/* multipart/ *: children follow */
	MIME_PART_RFC822	= 0x02,	/* message/rfc822: one child, the
					 * encapsulated message */
	MIME_PART_TEXT		= 0x04,	/* text/ *, or no Content-Type */
	MIME_PART_IS_MIME	= 0x08,	/* Content-* fields are meaningful */
	MIME_PART_DIGEST	= 0x10	/* multipart/digest */
};

/* A byte range as IMAP counts it. */
struct mime_size {
	uint64_t	 phys;	/* bytes in the message */
	uint64_t	 vsize;	/* bytes once every bare LF is CRLF */
	uint64_t	 lines;	/* LF characters */
};

struct mime_param {
	const char	*name;	/* as written; RFC 2231 pieces merged, see .c */
	const char	*value;
};

/* The envelope header values of one message (the root, or the child of
 * a message/rfc822 part), as slices of the message: the last Date,
 * Subject, Message-ID and In-Reply-To (p == NULL when absent), every
 * From/Sender/Reply-To/To/Cc/Bcc field in order. A value is what
 * follows the ':' and the blank space after it, up to the end of the
 * field's last line, folding line breaks included. */
enum mime_env_addr { MIME_ENV_FROM, MIME_ENV_SENDER, MIME_ENV_REPLY_TO,
	MIME_ENV_TO, MIME_ENV_CC, MIME_ENV_BCC, MIME_ENV_NADDR };

struct mime_env_raw {
	struct str	 date, subject, message_id, in_reply_to;
	struct str	*addr[MIME_ENV_NADDR];	/* arrays of field values */
	size_t		 naddr[MIME_ENV_NADDR];
};

struct mime_part {
	struct mime_part *parent, *next, *children;	/* tree, in order */
	size_t		 nchildren;
	unsigned	 depth;		/* root 0 */
	unsigned	 flags;		/* enum mime_part_flags */
	uint64_t	 hdr_off;	/* header start in the message */
	struct mime_size hdr;		/* header, its empty line included */
	struct mime_size body;		/* from hdr_off + hdr.phys */
	/* Content-* fields (NULL / 0 when absent or when !IS_MIME). type
	 * and subtype are as written (case kept); a broken Content-Type
	 * gives "" for both, or "text" and "" for a bare "text". */
	const char	*type, *subtype;
	const struct mime_param *params;
	size_t		 nparams;
	const char	*cte, *id, *description, *md5, *location;
	const char	*disposition;
	const struct mime_param *disp_params;
	size_t		 ndisp_params;
	const char	*const *languages;
	size_t		 nlanguages;
	/* Envelope headers: set on the root and on the child of a
	 * message/rfc822 part, NULL elsewhere. */
	const struct mime_env_raw *env;
};

struct mime_msg {
	const char	*data;		/* the message, borrowed */
	size_t		 len;
	struct mime_part *root;
	size_t		 nparts;	/* <= MIME_MAX_PARTS */
};

/* Parse a whole message (any bytes: never fails). The result and the
 * tree live in a; data is borrowed. O(len) time. */
struct mime_msg	*mime_parse(struct arena *a, const void *data, size_t len);

/* The message RFC822.SIZE: header and body vsize of the root. */
uint64_t	 mime_msg_vsize(const struct mime_msg *m);

/* The part with this section path, Dovecot's rules (RFC 3501 6.4.5):
 * on a multipart N is the N-th child; on anything else only 1 exists
 * and is the part itself (so "1" of a non-multipart message is the
 * message, whose body is BODY[1]); a message/rfc822 part followed by
 * more numbers is entered first. npath 0 gives the root. NULL if none. */
const struct mime_part *mime_part_find(const struct mime_msg *m,
	    const unsigned *path, size_t npath);

/* --- header fields --- */

/* Iterate over the fields of a part's header, in order. *name_r is the
 * name (before ':', blank space trimmed), *value_r the value as in
 * struct mime_env_raw. A line without ':' has the whole line as name and
 * value_r->p == NULL: it matches no field name (Dovecot 2.3.19: such a
 * line is in HEADER.FIELDS.NOT, never in HEADER.FIELDS). Returns false
 * at the end of the header. */
struct mime_hdr_iter {
	const char	*p, *end;
};
void	mime_hdr_iter_init(struct mime_hdr_iter *it, const struct mime_msg *m,
	    const struct mime_part *part);
bool	mime_hdr_iter_next(struct mime_hdr_iter *it, struct str *name_r,
	    struct str *value_r);

/* --- envelope --- */

/* One element of an address list in Dovecot's form. A group opens with
 * an element whose mailbox is the group name and domain NULL, and closes
 * with an element whose fields are all NULL. Broken input is filled with
 * "MISSING_MAILBOX", "MISSING_DOMAIN", "SYNTAX_ERROR", "INVALID_ROUTE"
 * as Dovecot does, so clients see what they saw before. */
struct mime_addr {
	struct mime_addr *next;
	const char	*name;		/* display name, or the comment of an
					 * addr-spec; NULL if none */
	const char	*route;		/* "@a,@b" or NULL */
	const char	*mailbox, *domain;
};

struct mime_envelope {
	const char	*date, *subject, *message_id, *in_reply_to;
	struct mime_addr *addr[MIME_ENV_NADDR];	/* NULL: none */
};

/* Parse an address list (a header value). NULL when it holds none.
 * Everything is allocated from a. */
struct mime_addr *mime_addr_parse(struct arena *a, const char *p,
	    size_t len);

/* The envelope of part (root, or the child of a message/rfc822 part;
 * any other part gives an all-NULL envelope). Addresses of repeated
 * fields are concatenated in order. Strings in a, NULs as U+FFFD. */
void	mime_envelope_get(struct arena *a, const struct mime_part *part,
	    struct mime_envelope *env_r);

/* --- FETCH BODY[section]<origin.length> --- */

enum mime_section_kind {
	MIME_SEC_PART,		/* "" (the whole message) or "1.2" (a body) */
	MIME_SEC_HEADER,
	MIME_SEC_HEADER_FIELDS,
	MIME_SEC_HEADER_FIELDS_NOT,
	MIME_SEC_TEXT,
	MIME_SEC_MIME
};

struct mime_section {
	unsigned	 path[MIME_SECTION_MAX_PATH];	/* each >= 1 */
	size_t		 npath;
	enum mime_section_kind kind;
	const char	**fields;	/* HEADER.FIELDS names, upper case */
	bool		*quoted;	/* fields[i] was a quoted string */
	size_t		 nfields;
};

/* Parse the text between '[' and ']': "", "1.2", "HEADER", "1.TEXT",
 * "2.MIME", "HEADER.FIELDS (From \"To\")", ... Keywords are matched
 * without regard to case; field names are atoms or quoted strings. MIME
 * needs a part number. 0, or -1 on a syntax error (the server answers
 * BAD). Field names are copied into a. */
int	mime_section_parse(struct arena *a, const char *spec, size_t len,
	    struct mime_section *sec_r) AV_WARN_UNUSED;
/* Append the text the FETCH response echoes, as Dovecot does: upper
 * case, one space between field names, a name quoted if it was quoted
 * (or must be), e.g. "1.HEADER.FIELDS (FROM \"TO\")". 0, or -1 if out
 * is full. quoted may be NULL (no name was quoted). */
int	mime_section_format(const struct mime_section *sec, struct buf *out)
	    AV_WARN_UNUSED;

/* A reader of the bytes to send for one section, converted to CRLF
 * (a bare LF becomes CRLF, CRLF and bare CR are kept) and with NUL
 * bytes sent as 0x80, as Dovecot does for BODY[] literals. The exact
 * size is known when opened, so the server can send {n} before reading.
 * Nothing is copied: the reader walks the message in the caller's
 * buffer-sized steps, so a 20 MB part costs a small buffer.
 *
 * Rules (RFC 3501 6.4.5, Dovecot's answers where it is silent):
 * HEADER, TEXT and HEADER.FIELDS[.NOT] on a part number apply to a
 * message/rfc822 part's encapsulated message, and give nothing on other
 * parts; MIME is the part's own header; a part that does not exist
 * gives nothing (an empty literal, as Dovecot answers). HEADER.FIELDS
 * keeps the matching fields in message order, folding lines included,
 * and ends with an empty line. origin/len is the <origin.length>
 * partial on the CRLF form; len UINT64_MAX means no limit. */
struct mime_fetch;
struct mime_fetch *mime_fetch_open(struct arena *a, const struct mime_msg *m,
	    const struct mime_section *sec, uint64_t origin, uint64_t len);
/* Whether the section's part exists (false: size 0). */
bool	mime_fetch_found(const struct mime_fetch *f);
/* Octets the reader will produce in total, from the start. */
uint64_t mime_fetch_size(const struct mime_fetch *f);
/* Copy up to cap next bytes into buf; returns how many, 0 at the end. */
size_t	mime_fetch_read(struct mime_fetch *f, void *buf, size_t cap);

/* --- SEARCH helpers (mime_search.c) --- */

/* A header value for humans: folding removed (CR and LF dropped), RFC
 * 2047 encoded words (B and Q, charset via iconv, "*lang" suffix
 * ignored) decoded to UTF-8, the blank space between two adjacent
 * encoded words dropped. An encoded word that cannot be decoded is kept
 * as written; other bytes are copied (8-bit text is assumed UTF-8).
 * NUL-terminated, in a; *len_r (may be NULL) gets the length. */
char	*mime_header_decode(struct arena *a, const char *p, size_t len,
	    size_t *len_r);

/* Convert len bytes in charset to UTF-8 (NUL-terminated, in a).
 * Unknown charsets, and us-ascii / utf-8 themselves, copy the bytes;
 * invalid sequences become U+FFFD. */
char	*mime_charset_to_utf8(struct arena *a, const char *charset,
	    const char *p, size_t len, size_t *len_r);

/* Case folding for IMAP SEARCH (an approximation of i;unicode-casemap):
 * simple lower-casing of ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic letters; other code points unchanged; invalid UTF-8 bytes
 * kept. The result (in a) is never longer than the input. */
char	*mime_casefold(struct arena *a, const char *p, size_t len,
	    size_t *len_r);

/* A search string, folded once and matched against many texts. */
struct mime_matcher {
	const char	*key;	/* folded */
	size_t		 len;
};
void	mime_matcher_init(struct mime_matcher *mt, struct arena *a,
	    const char *utf8, size_t len);
/* Whether the folded form of text contains the key (an empty key
 * matches everything). Scratch memory from a. */
bool	mime_matcher_match(const struct mime_matcher *mt, struct arena *a,
	    const char *text, size_t len);

/* SEARCH FROM/TO/CC/BCC on one header value: true if the key is in the
 * decoded display name, in "mailbox@domain", or in the route of any
 * address; false for an empty list. */
bool	mime_addr_match(const struct mime_matcher *mt, struct arena *a,
	    const char *value, size_t len);

/* The decoded text of a leaf part for SEARCH BODY/TEXT: its body with
 * the Content-Transfer-Encoding (base64, quoted-printable) undone and,
 * for text/ * parts, converted from its charset to UTF-8. 1 and the text
 * (in a, NUL-terminated), or 0 for parts without searchable text
 * (multiparts and message/rfc822 containers, whose children are
 * searched instead, and non-text parts). */
int	mime_part_text(struct arena *a, const struct mime_msg *m,
	    const struct mime_part *part, char **text_r, size_t *len_r);

/* SEARCH BODY: whether any text part of the message (encapsulated
 * messages included, their headers too) contains the key. */
bool	mime_body_match(const struct mime_matcher *mt, struct arena *a,
	    const struct mime_msg *m);

/* Parse an RFC 5322 date-time (with the obsolete forms of 4.3: two- and
 * three-digit years, alphabetic zones, comments, missing seconds or day
 * of week). 0 with *t_r (UTC) and *tz_min_r (the zone offset in minutes,
 * so that *t_r + *tz_min_r * 60 is the sender's wall clock, which
 * SENTBEFORE/SENTON/SENTSINCE compare by date), or -1. Dovecot searches
 * a message without a usable Date as sent at 0 (1970-01-01): callers
 * should do the same (SENTBEFORE finds it). */
int	mime_date_parse(const char *p, size_t len, time_t *t_r,
	    int *tz_min_r) AV_WARN_UNUSED;

#endif
