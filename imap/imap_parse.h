/* imap_parse.h - the IMAP4rev1 command parser of aviary-imap: pure
 * functions and a resumable state machine, no I/O (RFC 3501 sections 4,
 * 6 and 9, with LITERAL+ (RFC 7888), SASL-IR, UIDPLUS, MOVE, ESEARCH,
 * SEARCHRES, LIST-EXTENDED, LIST-STATUS, ID, ENABLE, IDLE and QUOTA).
 *
 * Three layers, each usable alone:
 *
 * 1. The reader (struct imap_reader). The server feeds it the bytes it
 *    read from the socket, in any split; imap_reader_input() consumes
 *    bytes up to the next event and returns how many it took, leaving the
 *    rest (pipelined commands) in the caller's buffer. Events: a complete
 *    command (tag, upper-cased name, UID prefix folded in, argument tree),
 *    a literal announcement the server must decide on (keep it in memory,
 *    stream it out through LITERAL_DATA events, or refuse it), a chunk of
 *    a streamed literal, a line read in single-line mode (AUTHENTICATE
 *    continuations, IDLE's DONE), or an error. After an error the reader
 *    resynchronises at the end of the command line by itself, skipping
 *    the bytes of any LITERAL+ literal announced on the skipped lines (a
 *    synchronizing literal nobody said "+" to is never sent).
 *
 * 2. Typed parsers over a command's arguments (sequence sets, SEARCH keys,
 *    FETCH attributes, flags, dates, every command's argument list) and a
 *    command table: name, allowed states (data for the server's
 *    dispatcher), UID prefix allowed, argument parser. They allocate from
 *    an arena the caller passes and fail with -1 and *error_r, a short
 *    text fit for "tag BAD <text>" (static or from that arena).
 *
 * 3. Response helpers that write IMAP strings (quoted or literal), atoms,
 *    astrings, nstrings and INTERNALDATE date-times into a struct buf.
 *
 * Memory and lifetimes: the reader holds, between commands, only its own
 * struct (a few hundred bytes): the line buffer and the per-command arena
 * are allocated when a command starts and freed when the reader is back
 * at a command boundary with nothing buffered (imap_reader_release(), or
 * an imap_reader_input() call that consumed everything at a boundary).
 * Everything an event points to (the command, its arguments, a LINE)
 * stays valid until the next imap_reader_input() or imap_reader_release()
 * call, except LITERAL_DATA chunks, which point into the caller's own
 * input. A LITERAL event's partial command stays valid (and grows) until
 * the command completes. Copy what must live longer (the tag of an
 * AUTHENTICATE exchange, say). The reader's memory is cleared with
 * explicit_bzero when released: it carries LOGIN passwords and SASL
 * responses.
 *
 * Limits (struct imap_limits) all have a default here and a distinct
 * error (enum imap_rerr), so the server can answer each properly.
 */
#ifndef AVIARY_IMAP_PARSE_H
#define AVIARY_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aviary/compat.h"

struct arena;
struct buf;

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

/* Bytes of command text, literal data and line ends not counted, summed
 * over all the lines of one command. RFC 7162 section 4 asks servers to
 * take at least 8192; Dovecot takes 64 KiB, and so do we (long UID sets
 * from clients that do not compress ranges). */
#define IMAP_LINE_MAX_DEFAULT		(64u * 1024)
/* One literal kept in the reader's memory (LOGIN password, SEARCH
 * string, a small APPEND). Bigger literals must be streamed (sink) or
 * refused. */
#define IMAP_LITERAL_MAX_DEFAULT	(64u * 1024)
/* All in-memory literals of one command together. */
#define IMAP_LITERALS_TOTAL_DEFAULT	(256u * 1024)
/* Parenthesised lists open at once: FETCH's deepest legitimate use is 1,
 * SEARCH groups go a few deep. */
#define IMAP_DEPTH_MAX_DEFAULT		16u
/* Arguments per command, counting every token and list at any depth. */
#define IMAP_ARGS_MAX_DEFAULT		4096u
/* NOT/OR/parenthesis nesting inside one SEARCH program. Long OR chains
 * ("OR OR OR a b c d", mbsync and Thunderbird build them) nest one level
 * per OR, hence not tiny. */
#define IMAP_SEARCH_DEPTH_MAX		100u
/* RFC 2971 section 3.3: at most 30 pairs, keys of at most 30 octets,
 * values of at most 1024 octets. */
#define IMAP_ID_PAIRS_MAX		30u
#define IMAP_ID_KEY_MAX			30u
#define IMAP_ID_VALUE_MAX		1024u
/* Response strings longer than this go out as literals, not quoted. */
#define IMAP_QUOTED_MAX			1024u

struct imap_limits {
	size_t		 line_max;		/* IMAP_LINE_MAX_DEFAULT */
	uint64_t	 literal_max;		/* IMAP_LITERAL_MAX_DEFAULT */
	uint64_t	 literals_total_max;	/* IMAP_LITERALS_TOTAL_DEFAULT */
	unsigned	 depth_max;		/* IMAP_DEPTH_MAX_DEFAULT */
	size_t		 args_max;		/* IMAP_ARGS_MAX_DEFAULT */
};

/* Fill *l with the defaults above. */
void	imap_limits_default(struct imap_limits *l);

/* ------------------------------------------------------------------ */
/* Arguments and commands                                              */
/* ------------------------------------------------------------------ */

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* includes numbers, sequence sets, flags,
				 * "BODY[...]<..>" fetch attributes */
	IMAP_ARG_NIL,		/* the atom NIL, any case */
	IMAP_ARG_QUOTED,	/* "...", unescaped */
	IMAP_ARG_LITERAL,	/* {n} or {n+} kept in memory */
	IMAP_ARG_SINK,		/* a literal streamed to the server: len only */
	IMAP_ARG_LIST,		/* ( ... ) */
};

/* One argument. str is a NUL-terminated copy in the reader's arena (an
 * atom's or NIL's text as sent, a string's unescaped bytes); only a
 * literal can hold NULs, and the string getters below refuse those. */
struct imap_arg {
	enum imap_arg_type	 type;
	bool			 literal8;	/* ~{n} (RFC 3516) */
	size_t			 len;	/* bytes of str; children of a LIST;
					 * the size of a SINK literal */
	const char		*str;	/* NULL for LIST and SINK */
	struct imap_arg		*list;	/* a LIST's children */
};

/* A command as read. For "tag UID FETCH ..." name is "FETCH" and uid is
 * true. In an ERROR event tag and name may be NULL (not read yet, or the
 * line was a raw one of read_line mode): answer "* BAD" then. */
struct imap_cmd {
	const char		*tag;
	const char		*name;	/* upper-cased */
	bool			 uid;
	struct imap_arg		*args;	/* top-level arguments */
	size_t			 nargs;
	uint64_t		 literal_bytes;	/* in-memory literal bytes */
};

/* ------------------------------------------------------------------ */
/* The reader                                                          */
/* ------------------------------------------------------------------ */

enum imap_rerr {
	IMAP_RERR_NONE = 0,
	IMAP_RERR_SYNTAX,		/* BAD, with the detail in error_msg */
	IMAP_RERR_LINE_TOO_LONG,	/* over line_max */
	IMAP_RERR_LITERAL_TOO_BIG,	/* one literal over literal_max (in
					 * an ERROR: a size over 2^64-1) */
	IMAP_RERR_LITERALS_TOO_BIG,	/* over literals_total_max */
	IMAP_RERR_TOO_DEEP,		/* lists nested over depth_max */
	IMAP_RERR_TOO_MANY_ARGS,	/* over args_max */
};

/* A short English text for each code ("Command line too long"). */
const char	*imap_rerr_text(enum imap_rerr e);

enum imap_event_type {
	IMAP_EV_NONE,		/* everything given was consumed; feed more */
	IMAP_EV_COMMAND,	/* ev.cmd is complete */
	IMAP_EV_LITERAL,	/* a literal was announced: decide now */
	IMAP_EV_LITERAL_DATA,	/* a chunk of a streamed (sink) literal */
	IMAP_EV_LINE,		/* the line asked for by read_line */
	IMAP_EV_ERROR,		/* ev.error; the reader resynchronises */
};

struct imap_event {
	enum imap_event_type	 type;
	/* COMMAND, LITERAL (partial: the arguments before the literal,
	 * which is the last argument of its list), ERROR (partial). */
	const struct imap_cmd	*cmd;
	/* ERROR: the code and a detail text (static). */
	enum imap_rerr		 error;
	const char		*error_msg;
	/* LITERAL: size, whether the client waits for "+ " (sync) and the
	 * literal's position: list depth (0 = top level) and how many
	 * top-level arguments precede it. 'fits' is IMAP_RERR_NONE when
	 * keeping it in memory is within the limits, else the error
	 * imap_reader_literal_accept() would return. */
	uint64_t		 literal_size;
	bool			 literal_sync;
	bool			 literal8;
	unsigned		 literal_depth;
	size_t			 literal_argc;
	enum imap_rerr		 fits;
	/* LITERAL_DATA: bytes (into the caller's input) and how many of
	 * the literal are still to come after them (0 = last chunk; a
	 * literal of size 0 has no LITERAL_DATA event at all).
	 * LINE: the line without CR LF (may hold NULs), len bytes. */
	const char		*data;
	size_t			 len;
	uint64_t		 left;
};

struct imap_reader;

/* A reader with the given limits (NULL: the defaults; line_max is
 * clamped to 1 GiB, depth_max to at least 1, literal_max to
 * literals_total_max). Never fails. */
struct imap_reader	*imap_reader_create(const struct imap_limits *lim);
void			 imap_reader_destroy(struct imap_reader **rp);

/* Consume bytes from data[0..n) up to and including the next event,
 * which is written to *ev; returns the number of bytes consumed (n with
 * IMAP_EV_NONE when no event happened). Call again with the remaining
 * bytes after handling the event. n may be 0. Must not be called while a
 * LITERAL event waits for a decision (that is a bug: it panics). */
size_t	imap_reader_input(struct imap_reader *r, const void *data, size_t n,
	    struct imap_event *ev) AV_WARN_UNUSED;

/* Decisions on a LITERAL event, exactly one per event:
 * accept: keep the literal in memory (it becomes an IMAP_ARG_LITERAL).
 *   Returns IMAP_RERR_NONE, or the limit it breaks (ev->fits), in which
 *   case the literal is refused as by imap_reader_literal_refuse().
 * sink: stream it out as LITERAL_DATA events (an IMAP_ARG_SINK in the
 *   command); the server applies its own size limit (APPENDLIMIT).
 * refuse: the command is abandoned. The server answers it (tagged NO or
 *   BAD); a LITERAL+ literal's bytes and the rest of its command are
 *   skipped, a synchronizing one is never sent, so the next bytes are a
 *   new command.
 * For a synchronizing literal the server sends "+ ..." after accept or
 * sink, never after refuse; for LITERAL+ it sends nothing. */
enum imap_rerr	imap_reader_literal_accept(struct imap_reader *r)
		    AV_WARN_UNUSED;
void		imap_reader_literal_sink(struct imap_reader *r);
void		imap_reader_literal_refuse(struct imap_reader *r);

/* Read the next line as raw text (IMAP_EV_LINE) instead of a command:
 * AUTHENTICATE responses, IDLE's "DONE". One line, then back to commands.
 * Only at a command boundary (after a COMMAND event). A line over
 * line_max gives an ERROR (LINE_TOO_LONG) and is skipped to its end. */
void	imap_reader_read_line(struct imap_reader *r);

/* Release the last event's command and, at a command boundary with no
 * buffered bytes, all of the reader's memory but its struct. Call when
 * done with a command so that an idle connection costs nothing more. */
void	imap_reader_release(struct imap_reader *r);

/* True when no command is partly read (nothing buffered, no literal). */
bool	imap_reader_at_boundary(const struct imap_reader *r);

/* Bytes the reader holds now (its struct, line buffer, arena chunks);
 * for tests and memory accounting. */
size_t	imap_reader_memory(const struct imap_reader *r);

/* ------------------------------------------------------------------ */
/* Argument getters (NULL-safe: a NULL arg is "missing")               */
/* ------------------------------------------------------------------ */

/* atom / quoted / literal (and NIL as the text "NIL"): *r is the text.
 * Fails (-1) on a missing arg, a list, a sink or a string with a NUL. */
int	imap_arg_get_astring(const struct imap_arg *a, const char **r)
	    AV_WARN_UNUSED;
/* quoted / literal only. */
int	imap_arg_get_string(const struct imap_arg *a, const char **r)
	    AV_WARN_UNUSED;
/* NIL gives *r = NULL; otherwise as imap_arg_get_string. */
int	imap_arg_get_nstring(const struct imap_arg *a, const char **r)
	    AV_WARN_UNUSED;
/* An atom (not NIL). */
int	imap_arg_get_atom(const struct imap_arg *a, const char **r)
	    AV_WARN_UNUSED;
/* An atom of decimal digits, no sign, <= max. */
int	imap_arg_get_number(const struct imap_arg *a, uint64_t max,
	    uint64_t *r) AV_WARN_UNUSED;
/* Case-insensitive: is a an atom equal to word? */
bool	imap_arg_atom_is(const struct imap_arg *a, const char *word);

/* A mailbox name (astring). "INBOX" in any case becomes "INBOX"; other
 * names are returned as sent (modified UTF-7 is the caller's business).
 * The string is the arg's or a static one. */
int	imap_arg_get_mailbox(const struct imap_arg *a, const char **r)
	    AV_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* Sequence sets (RFC 3501 sequence-set, RFC 5182 "$")                 */
/* ------------------------------------------------------------------ */

/* "*" as written in a range: 0, which no nz-number can be (numbers go
 * up to 4294967295). */
#define IMAP_SEQ_STAR	0u

struct imap_seq_range {
	uint32_t	 lo, hi;	/* as written: any order, may be STAR */
};

struct imap_seqset {
	bool			 saved;	/* "$": the caller's saved result */
	size_t			 n;
	struct imap_seq_range	*r;	/* from the parse arena */
};

/* Parse "1,3:5,7:*" (nz-numbers up to 2^32-1, no leading zeros, ranges
 * in either order) or "$". Memory from a. 0 or -1 with *error_r. */
int	imap_seqset_parse(struct arena *a, const char *s, size_t len,
	    struct imap_seqset **r, const char **error_r) AV_WARN_UNUSED;
/* The same from an atom argument. */
int	imap_arg_get_seqset(struct arena *a, const struct imap_arg *arg,
	    struct imap_seqset **r, const char **error_r) AV_WARN_UNUSED;
/* Is n (1..max) in the set, "*" meaning max? False for 0 and n > max.
 * Must not be called on "$" (panics): substitute the saved set. */
bool	imap_seqset_contains(const struct imap_seqset *s, uint32_t n,
	    uint32_t max);
/* The set as sorted, merged, disjoint ranges (lo <= hi) within 1..max,
 * "*" meaning max: *ranges_r from a, the count returned (0 if empty).
 * *beyond_r tells whether any number written was above max (RFC 3501:
 * a BAD for sequence numbers, ignored for UIDs; note "559:*" with max 500
 * is 500:559, so it yields 500 and sets *beyond_r). Panics on "$". */
size_t	imap_seqset_resolve(const struct imap_seqset *s, uint32_t max,
	    struct arena *a, struct imap_seq_range **ranges_r, bool *beyond_r);

/* ------------------------------------------------------------------ */
/* Dates and date-times                                                */
/* ------------------------------------------------------------------ */

struct imap_date {
	uint16_t	 year;		/* 4 digits as written */
	uint8_t		 month;		/* 1..12 */
	uint8_t		 day;		/* 1..31, valid for the month */
};

/* "d-Mon-yyyy" or "dd-Mon-yyyy" (month name any case), checked for a
 * real calendar day. 0 or -1. */
int	imap_date_parse(const char *s, size_t len, struct imap_date *r)
	    AV_WARN_UNUSED;
/* Midnight UTC of that day. SEARCH dates ignore time and zone (RFC 3501
 * 6.4.4); the server shifts by its own zone if it wants local days. */
time_t	imap_date_to_time(const struct imap_date *d);
/* "dd-Mon-yyyy hh:mm:ss +zzzz" (day space-padded or two digits; a
 * single digit is accepted too), zone hhmm <= 2359 either sign. *r is
 * the instant (UTC), *tz_minutes_r the zone offset as written (may be
 * NULL). 0 or -1. */
int	imap_datetime_parse(const char *s, size_t len, time_t *r,
	    int *tz_minutes_r) AV_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* Flags (STORE, APPEND)                                               */
/* ------------------------------------------------------------------ */

#define IMAP_FLAG_SEEN		0x01u
#define IMAP_FLAG_ANSWERED	0x02u
#define IMAP_FLAG_FLAGGED	0x04u
#define IMAP_FLAG_DELETED	0x08u
#define IMAP_FLAG_DRAFT		0x10u

struct imap_flags {
	unsigned	 sys;		/* IMAP_FLAG_* */
	const char	**kw;		/* keywords as sent, duplicates out */
	size_t		 nkw;
};

/* Flags from a list (nlist_args == 1 and a LIST) or a run of flag atoms:
 * system flags in any case, keywords as atoms. \Recent, \* and unknown
 * backslash flags are refused (RFC 3501 6.4.6, 6.3.11). 0 or -1. */
int	imap_flags_parse(struct arena *a, const struct imap_arg *args,
	    size_t nargs, struct imap_flags *r, const char **error_r)
	    AV_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* SEARCH (RFC 3501 6.4.4, RFC 4731 ESEARCH RETURN, RFC 5182 SAVE)     */
/* ------------------------------------------------------------------ */

enum imap_skey {
	IMAP_SK_AND,		/* u.and: parenthesised group or implicit */
	IMAP_SK_OR,		/* u.sub[0], u.sub[1] */
	IMAP_SK_NOT,		/* u.sub[0] */
	IMAP_SK_SEQSET,		/* u.set: message sequence numbers */
	IMAP_SK_UID,		/* u.set */
	IMAP_SK_ALL, IMAP_SK_ANSWERED, IMAP_SK_DELETED, IMAP_SK_DRAFT,
	IMAP_SK_FLAGGED, IMAP_SK_NEW, IMAP_SK_OLD, IMAP_SK_RECENT,
	IMAP_SK_SEEN, IMAP_SK_UNANSWERED, IMAP_SK_UNDELETED,
	IMAP_SK_UNDRAFT, IMAP_SK_UNFLAGGED, IMAP_SK_UNSEEN,
	IMAP_SK_KEYWORD, IMAP_SK_UNKEYWORD,		/* u.str */
	IMAP_SK_BCC, IMAP_SK_BODY, IMAP_SK_CC, IMAP_SK_FROM,
	IMAP_SK_SUBJECT, IMAP_SK_TEXT, IMAP_SK_TO,	/* u.str */
	IMAP_SK_HEADER,					/* u.header */
	IMAP_SK_BEFORE, IMAP_SK_ON, IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, IMAP_SK_SENTON, IMAP_SK_SENTSINCE, /* u.date */
	IMAP_SK_LARGER, IMAP_SK_SMALLER,		/* u.size */
};

struct imap_search_key {
	enum imap_skey		 type;
	union {
		const char		*str;
		struct {
			const char	*name, *value;
		}			 header;
		struct imap_date	 date;
		uint64_t		 size;
		struct imap_seqset	*set;
		struct {
			struct imap_search_key	*k;
			size_t			 n;
		}			 and;
		struct imap_search_key	*sub[2];
	} u;
};

#define IMAP_SRET_MIN		0x01u
#define IMAP_SRET_MAX		0x02u
#define IMAP_SRET_ALL		0x04u
#define IMAP_SRET_COUNT		0x08u
#define IMAP_SRET_SAVE		0x10u

struct imap_search {
	bool			 esearch;	/* RETURN given: answer ESEARCH */
	unsigned		 ret;		/* IMAP_SRET_*; RETURN () = ALL */
	const char		*charset;	/* "UTF-8", "US-ASCII" or NULL */
	struct imap_search_key	*root;		/* an AND of the keys */
};

#define IMAP_SEARCH_BADCHARSET	(-2)	/* NO [BADCHARSET (UTF-8 US-ASCII)] */

/* SEARCH's arguments: [RETURN (opts)] [CHARSET cs] key... Strings are the
 * args' own (reader memory); the key tree is from a. Returns 0, -1 (BAD,
 * *error_r) or IMAP_SEARCH_BADCHARSET for a charset other than UTF-8 and
 * US-ASCII (any case). Nesting of NOT/OR/groups over
 * IMAP_SEARCH_DEPTH_MAX is -1. */
int	imap_search_parse(struct arena *a, const struct imap_arg *args,
	    size_t nargs, struct imap_search *r, const char **error_r)
	    AV_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* FETCH attributes (RFC 3501 6.4.5, RFC 3516 BINARY)                  */
/* ------------------------------------------------------------------ */

enum imap_fatt {
	IMAP_FA_ENVELOPE, IMAP_FA_FLAGS, IMAP_FA_INTERNALDATE,
	IMAP_FA_RFC822, IMAP_FA_RFC822_HEADER, IMAP_FA_RFC822_SIZE,
	IMAP_FA_RFC822_TEXT,
	IMAP_FA_BODY,		/* BODY without a section: the structure */
	IMAP_FA_BODYSTRUCTURE, IMAP_FA_UID,
	IMAP_FA_BODY_SECTION,	/* BODY[...] / BODY.PEEK[...] */
	IMAP_FA_BINARY,		/* BINARY[...] / BINARY.PEEK[...] */
	IMAP_FA_BINARY_SIZE,	/* BINARY.SIZE[...] */
};

enum imap_sect {
	IMAP_SECT_ALL,		/* [] or [1.2]: the whole (part) */
	IMAP_SECT_HEADER, IMAP_SECT_HEADER_FIELDS, IMAP_SECT_HEADER_FIELDS_NOT,
	IMAP_SECT_TEXT,
	IMAP_SECT_MIME,		/* only after a part number */
};

struct imap_fetch_att {
	enum imap_fatt		 type;
	bool			 peek;		/* .PEEK: do not set \Seen */
	uint32_t		*part;		/* section part numbers */
	size_t			 npart;
	enum imap_sect		 sect;
	const char		**fields;	/* HEADER.FIELDS[.NOT] names */
	size_t			 nfields;
	bool			 partial;	/* <origin.count> given */
	uint64_t		 origin, count;
	/* The name to answer with: "BODY[1.HEADER.FIELDS (SUBJECT)]<0>",
	 * "RFC822.SIZE", ... (no .PEEK; <origin> only; canonical case). */
	const char		*echo;
};

struct imap_fetch {
	struct imap_fetch_att	*att;
	size_t			 n;
};

/* FETCH's attribute arguments (after the sequence set): a macro (ALL,
 * FAST, FULL: expanded), one attribute, or a list of attributes. From a;
 * 0 or -1. */
int	imap_fetch_parse(struct arena *a, const struct imap_arg *args,
	    size_t nargs, struct imap_fetch *r, const char **error_r)
	    AV_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* The commands                                                        */
/* ------------------------------------------------------------------ */

/* Connection states, for the allowed-states masks (RFC 3501 3). */
#define IMAP_ST_NOAUTH		0x01u
#define IMAP_ST_AUTH		0x02u
#define IMAP_ST_SELECTED	0x04u
#define IMAP_ST_LOGOUT		0x08u
#define IMAP_ST_ANY		(IMAP_ST_NOAUTH | IMAP_ST_AUTH | IMAP_ST_SELECTED)
#define IMAP_ST_AUTHED		(IMAP_ST_AUTH | IMAP_ST_SELECTED)

enum imap_cmd_id {
	IMAP_CMD_CAPABILITY, IMAP_CMD_NOOP, IMAP_CMD_LOGOUT, IMAP_CMD_ID,
	IMAP_CMD_STARTTLS, IMAP_CMD_AUTHENTICATE, IMAP_CMD_LOGIN,
	IMAP_CMD_ENABLE, IMAP_CMD_SELECT, IMAP_CMD_EXAMINE, IMAP_CMD_CREATE,
	IMAP_CMD_DELETE, IMAP_CMD_RENAME, IMAP_CMD_SUBSCRIBE,
	IMAP_CMD_UNSUBSCRIBE, IMAP_CMD_LIST, IMAP_CMD_LSUB,
	IMAP_CMD_NAMESPACE, IMAP_CMD_STATUS, IMAP_CMD_APPEND, IMAP_CMD_IDLE,
	IMAP_CMD_GETQUOTA, IMAP_CMD_GETQUOTAROOT, IMAP_CMD_SETQUOTA,
	IMAP_CMD_CHECK, IMAP_CMD_CLOSE, IMAP_CMD_UNSELECT, IMAP_CMD_EXPUNGE,
	IMAP_CMD_SEARCH, IMAP_CMD_FETCH, IMAP_CMD_STORE, IMAP_CMD_COPY,
	IMAP_CMD_MOVE,
};

/* A "name (value)" parameter of SELECT/EXAMINE/CREATE (RFC 4466):
 * the name upper-cased, the value NULL or the argument after it (a list,
 * a number or a sequence set). */
struct imap_param {
	const char		*name;
	const struct imap_arg	*value;
};

#define IMAP_LIST_SEL_SUBSCRIBED	0x01u
#define IMAP_LIST_SEL_REMOTE		0x02u
#define IMAP_LIST_SEL_RECURSIVEMATCH	0x04u
#define IMAP_LIST_SEL_SPECIAL_USE	0x08u
#define IMAP_LIST_RET_SUBSCRIBED	0x01u
#define IMAP_LIST_RET_CHILDREN		0x02u
#define IMAP_LIST_RET_SPECIAL_USE	0x04u
#define IMAP_LIST_RET_STATUS		0x08u

#define IMAP_STATUS_MESSAGES	0x01u
#define IMAP_STATUS_RECENT	0x02u
#define IMAP_STATUS_UIDNEXT	0x04u
#define IMAP_STATUS_UIDVALIDITY	0x08u
#define IMAP_STATUS_UNSEEN	0x10u
#define IMAP_STATUS_SIZE	0x20u	/* RFC 8438 */

enum imap_store_mode { IMAP_STORE_SET, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_append_msg {
	struct imap_flags	 flags;
	bool			 has_date;
	time_t			 date;
	int			 date_tz;	/* minutes east of UTC */
	/* The message: an IMAP_ARG_LITERAL (bytes in memory) or an
	 * IMAP_ARG_SINK (bytes went out in LITERAL_DATA events). */
	const struct imap_arg	*msg;
};

struct imap_quota_res {
	const char	*name;		/* upper-cased: "STORAGE", ... */
	uint64_t	 limit;
};

/* Typed arguments per command; which member is set follows the id. All
 * pointers are into the command (reader memory) or the parse arena. */
struct imap_args {
	enum imap_cmd_id	 id;
	bool			 uid;
	union {
		struct {	/* LOGIN */
			const char	*user, *pass;
		} login;
		struct {	/* AUTHENTICATE */
			const char	*mech;	/* upper-cased */
			const char	*ir;	/* NULL none, "" for "=" */
		} auth;
		struct {	/* ENABLE */
			const char	**caps;	/* upper-cased */
			size_t		 n;
		} enable;
		struct {	/* ID: n == 0 for NIL or () */
			const char	**keys, **values;	/* value NULL = NIL */
			size_t		 n;
		} id;
		struct {	/* SELECT, EXAMINE, CREATE; DELETE, SUBSCRIBE,
				 * UNSUBSCRIBE, GETQUOTAROOT (mailbox only) */
			const char		*mailbox;
			struct imap_param	*params;
			size_t			 nparams;
		} mbox;
		struct {	/* RENAME */
			const char	*from, *to;
		} rename;
		struct {	/* LIST, LSUB */
			bool		 extended;	/* any RFC 5258 syntax */
			unsigned	 sel, ret;	/* IMAP_LIST_* */
			unsigned	 status;	/* IMAP_STATUS_* items */
			const char	*ref;
			const char	**patterns;
			size_t		 npatterns;
		} list;
		struct {	/* STATUS */
			const char	*mailbox;
			unsigned	 items;		/* IMAP_STATUS_* */
		} status;
		struct {	/* APPEND (MULTIAPPEND: n > 1) */
			const char		*mailbox;
			struct imap_append_msg	*msgs;
			size_t			 n;
		} append;
		struct {	/* GETQUOTA (n == 0), SETQUOTA */
			const char		*root;
			struct imap_quota_res	*res;
			size_t			 n;
		} quota;
		struct imap_search	 search;	/* SEARCH */
		struct {	/* FETCH */
			struct imap_seqset	*set;
			struct imap_fetch	 atts;
		} fetch;
		struct {	/* STORE */
			struct imap_seqset	*set;
			enum imap_store_mode	 mode;
			bool			 silent;
			struct imap_flags	 flags;
		} store;
		struct {	/* COPY, MOVE; UID EXPUNGE (mailbox NULL) */
			struct imap_seqset	*set;
			const char		*mailbox;
		} copy;
	} u;
};

#define IMAP_CMDF_UID		0x01u	/* UID prefix allowed */

struct imap_cmd_def {
	const char		*name;
	enum imap_cmd_id	 id;
	unsigned		 states;	/* IMAP_ST_* where allowed */
	unsigned		 flags;		/* IMAP_CMDF_* */
	/* Fill *r from cmd's arguments: 0, -1 (BAD, *error_r) or
	 * IMAP_SEARCH_BADCHARSET. */
	int			(*parse)(struct arena *a,
				    const struct imap_cmd *cmd,
				    struct imap_args *r, const char **error_r);
};

/* Every command we know, as data, and how many. */
extern const struct imap_cmd_def	imap_cmd_defs[];
extern const size_t			imap_cmd_ndefs;

/* The definition for cmd->name (and cmd->uid), or NULL: unknown command,
 * or a UID prefix on a command that takes none. */
const struct imap_cmd_def	*imap_cmd_find(const struct imap_cmd *cmd);

/* Find and parse in one: 0 with *def_r and *r set; -1 with *error_r
 * (*def_r NULL for an unknown command); IMAP_SEARCH_BADCHARSET. The
 * state check is the caller's: (*def_r)->states. */
int	imap_cmd_parse(struct arena *a, const struct imap_cmd *cmd,
	    const struct imap_cmd_def **def_r, struct imap_args *r,
	    const char **error_r) AV_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

/* Allow 8-bit bytes in quoted strings (after ENABLE UTF8=ACCEPT, RFC
 * 6855); otherwise any 8-bit byte forces a literal. */
#define IMAP_WRITE_UTF8		0x01u

/* Would p[0..len) have to go out as a literal? Yes for CR, LF, NUL,
 * 8-bit bytes (without IMAP_WRITE_UTF8) or len > IMAP_QUOTED_MAX. */
bool	imap_string_needs_literal(const char *p, size_t len, unsigned flags);
/* All these append to b and return 0, or BUF_EFULL with b unchanged. */
/* A string: "quoted" (with \" and \\ escapes) or {len}CRLF literal. */
int	imap_write_string(struct buf *b, const char *p, size_t len,
	    unsigned flags) AV_WARN_UNUSED;
/* As an atom when it is a non-empty run of ATOM-CHARs other than NIL,
 * else as a string. */
int	imap_write_astring(struct buf *b, const char *p, size_t len,
	    unsigned flags) AV_WARN_UNUSED;
/* NIL when p is NULL, else a string. */
int	imap_write_nstring(struct buf *b, const char *p, size_t len,
	    unsigned flags) AV_WARN_UNUSED;
/* "dd-Mon-yyyy hh:mm:ss +zzzz" in double quotes, day space-padded (RFC
 * 3501 date-time), t shown in the zone tz_minutes east of UTC (the caller
 * picks: its local offset, or 0). Times outside years 1..9999 are clamped. */
int	imap_write_datetime(struct buf *b, time_t t, int tz_minutes)
	    AV_WARN_UNUSED;

#endif
