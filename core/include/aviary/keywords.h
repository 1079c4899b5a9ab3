/* aviary/keywords.h - message flags in Maildir file names, and IMAP
 * keywords in Dovecot's per-folder dovecot-keywords file.
 * protocols.md 4.3 and 5.3 have the format facts.
 *
 * A Maildir file name ends in ":2,<letters>". Upper-case letters are the
 * system flags (D F P R S T), lower-case letters a..z are keywords 0..25,
 * named by the folder's dovecot-keywords file, one "<index> <name>" line
 * each. Only 26 keywords fit in a name; a 27th is refused
 * (KEYWORDS_ERR_FULL), which the IMAP server turns into NO. Letters are
 * kept in ASCII order (DFPRST, then a..z), as Maildir requires.
 *
 * File rules (Dovecot's maildir-keywords.c): readers take no lock. A line
 * without a space, with an index that is not 0..25, or with an empty name
 * is skipped; a later line for the same index wins. Names are looked up
 * case-insensitively (ASCII) and keep their first spelling. New names are
 * only assigned while holding the folder's uidlist dotlock
 * (dovecot-uidlist.lock, what Dovecot holds too); the file is then
 * written into its own dotlock dovecot-keywords.lock and renamed into
 * place, with an mtime that grows on every write (Dovecot caches the file
 * by mtime).
 *
 * Memory: names live in the arena passed in. Errors: the functions that
 * can fail return 0 or a negative KEYWORDS_ERR_* and set *error_r to a
 * short phrase without paths (details are logged).
 */
#ifndef AVIARY_KEYWORDS_H
#define AVIARY_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aviary/compat.h"

struct arena;
struct buf;

#define KEYWORDS_MAX		26	/* letters a..z */
/* Dovecot's default mail_max_keyword_length. */
#define KEYWORDS_NAME_MAX	50
#define KEYWORDS_FILE_NAME	"dovecot-keywords"
#define KEYWORDS_LOCK_NAME	"dovecot-keywords.lock"
#define KEYWORDS_LOCK_STALE_SECS 120
/* A dovecot-keywords bigger than this is refused: 26 lines of at most
 * ~60 bytes is what a sane one holds; the rest is room for damage. */
#define KEYWORDS_FILE_MAX	(64 * 1024)
/* The flags part after ":2," as uidlist_folder_msg_set_flags takes it:
 * at most 64 bytes, plus the NUL. */
#define KEYWORDS_INFO_SIZE	65

enum keywords_status {
	KEYWORDS_OK = 0,
	KEYWORDS_ERR_TEMP = -1,		/* I/O, lock timeout: try later */
	KEYWORDS_ERR_INVALID = -2,	/* not a valid keyword name */
	KEYWORDS_ERR_FULL = -3,		/* all 26 letters are taken */
};

/* System flags, one bit per Maildir letter. */
enum mail_flag {
	MAIL_FLAG_DRAFT = 1 << 0,	/* 'D' \Draft */
	MAIL_FLAG_FLAGGED = 1 << 1,	/* 'F' \Flagged */
	MAIL_FLAG_PASSED = 1 << 2,	/* 'P' forwarded; no IMAP flag, kept */
	MAIL_FLAG_ANSWERED = 1 << 3,	/* 'R' \Answered */
	MAIL_FLAG_SEEN = 1 << 4,	/* 'S' \Seen */
	MAIL_FLAG_DELETED = 1 << 5,	/* 'T' \Deleted */
};
#define MAIL_FLAGS_ALL	0x3fu

/* One folder's keyword table. names[i] is the keyword of letter 'a' + i,
 * NULL when the index is free. An index whose name in the file is not a
 * valid keyword (see keywords_name_valid) stays occupied, so it is never
 * handed out again, but keywords_name() reports it as NULL. */
struct keywords {
	const char	*names[KEYWORDS_MAX];
	uint32_t	 used;		/* bit i: index i occupied */
	uint32_t	 valid;		/* bit i: names[i] is a valid keyword */
	struct timespec	 mtime;		/* of the file read; 0 if none */
};

/* --- names --- */

/* Whether name may become a keyword: 1..KEYWORDS_NAME_MAX bytes of
 * IMAP atom characters (printable ASCII except SP ( ) { % * " \ ]), so
 * no '\' prefix either (system flags are not keywords). *error_r (may be
 * NULL) gets a phrase for a NO reply. */
bool	keywords_name_valid(const char *name, const char **error_r);

/* The index 0..25 of name (ASCII case-insensitive), or -1. */
int	keywords_lookup(const struct keywords *kw, const char *name);
/* The name of index idx, NULL if free, invalid or idx >= 26. */
const char *keywords_name(const struct keywords *kw, unsigned idx);

/* --- the file, parsed (pure: no I/O) --- */

/* Parse the text of a dovecot-keywords file into *kw_r (zeroed first;
 * names copied into a). Returns 0 if every line was good, -1 if some
 * were skipped or a name appears under two indexes (*error_r says the
 * first problem); *kw_r holds what was read either way, as Dovecot
 * reads it. */
int	keywords_parse(const char *data, size_t len, struct arena *a,
	    struct keywords *kw_r, const char **error_r) AV_WARN_UNUSED;
/* Append "<index> <name>\n" for every occupied index, in index order.
 * Parsing the result gives the same table. 0, or BUF_EFULL. */
int	keywords_format(const struct keywords *kw, struct buf *out)
	    AV_WARN_UNUSED;

/* --- the file in a folder --- */

/* Read dovecot-keywords from the folder directory open at dfd ('path'
 * is for logs only). A missing file is an empty table (0); a damaged one
 * is logged and read as far as it goes (0). KEYWORDS_ERR_TEMP on I/O
 * errors or a file over KEYWORDS_FILE_MAX. */
int	keywords_read(int dfd, const char *path, struct arena *a,
	    struct keywords *kw_r, const char **error_r) AV_WARN_UNUSED;

/* Make sure every one of names[0..n) has a letter in the folder open at
 * dfd, and set *mask_r to their bits (bit i = letter 'a' + i). Names
 * already known cost one unlocked read. Otherwise the uidlist dotlock
 * is taken (waiting up to lock_wait_ms), the file re-read, each new name
 * given the lowest index that is neither occupied nor in 'avoid' (the
 * caller passes the letters its messages carry without a name, so that
 * they do not suddenly show the new keyword), and the file replaced.
 * *kw_r (may be NULL) is the table afterwards. All names are checked
 * first: KEYWORDS_ERR_INVALID and nothing changes; KEYWORDS_ERR_FULL
 * when they do not all fit (nothing is written); KEYWORDS_ERR_TEMP. */
int	keywords_assign(int dfd, const char *path, const char *const *names,
	    size_t n, uint32_t avoid, unsigned lock_wait_ms, struct arena *a,
	    struct keywords *kw_r, uint32_t *mask_r, const char **error_r)
	    AV_WARN_UNUSED;

/* --- info letters <-> flags --- */

/* Split the flags part of a name (what follows ":2,", up to the end or a
 * ',' that starts Dovecot's extra fields) into system flags and the
 * keyword letter mask. Other characters are ignored here (and kept by
 * keywords_info_make). Either pointer may be NULL. */
void	keywords_info_parse(const char *info, unsigned *sys_r,
	    uint32_t *kw_r);
/* Build the flags part for system flags 'sys' and keyword mask 'kw':
 * their letters plus any other letter of 'old' (NULL = none) that is not
 * a system flag or keyword letter, each once, in ASCII order, then old's
 * ",<extra>" tail unchanged. -1 if the result needs more than
 * KEYWORDS_INFO_SIZE - 1 bytes (out is then ""), else 0. */
int	keywords_info_make(unsigned sys, uint32_t kw, const char *old,
	    char out[KEYWORDS_INFO_SIZE]) AV_WARN_UNUSED;

/* "\Draft" ... for one MAIL_FLAG_* bit; NULL for MAIL_FLAG_PASSED (no
 * IMAP flag) or anything else. */
const char *keywords_sysflag_name(unsigned flag);
/* The MAIL_FLAG_* bit of an IMAP system flag name (ASCII
 * case-insensitive: "\seen" too), 0 if it is not one that is stored
 * (\Recent is not, nor is any other "\..." word). */
unsigned keywords_sysflag_parse(const char *name);

#endif
