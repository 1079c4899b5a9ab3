/* aviary/folders.h - IMAP folders of a Maildir++ mailbox: names, LIST,
 * CREATE/DELETE/RENAME, subscriptions, special-use folders and the
 * UIDVALIDITY counter for new folders. protocols.md 4.4 and 5 have the
 * format facts; what Dovecot 2.3 does was checked against Debian's
 * Dovecot 2.3.19 (notes in folders.c).
 *
 * Names: the IMAP mailbox name in modified UTF-7 (mutf7.h), with '.' as
 * the hierarchy separator, exactly Dovecot's default namespace; the
 * folder "A.B" is the directory ".A.B" of the home and INBOX is the home
 * itself, so a migrated Dovecot tree shows the same names. "INBOX" is
 * case-insensitive, also as the first level ("inbox.x" is "INBOX.x",
 * stored as ".INBOX.x"); everything else is case-sensitive. A name is
 * refused (FOLDERS_ERR_INVALID) when empty, longer than FOLDERS_NAME_MAX
 * bytes, deeper than FOLDERS_DEPTH_MAX levels, with a byte outside
 * 0x20..0x7e, a '/', an empty level (leading, trailing or doubled '.'),
 * or a leading '~' (as Dovecot). A name being created (CREATE, the
 * target of RENAME) must also be valid mUTF-7 without control
 * characters once decoded; names of existing folders are taken as they
 * are on disk, so a folder with a sloppy name can still be deleted.
 *
 * A folder exists when its directory has cur/, new/ or a maildirfolder
 * file; a symbolic link is never a folder. Parents are not created:
 * CREATE "A.B.C" makes ".A.B.C" only, and LIST shows "A" and "A.B"
 * as non-existent names with children (\Noselect, or \NonExistent with
 * LIST-EXTENDED), as Dovecot does.
 *
 * Concurrency: delivery writes new/ without locks, other sessions list,
 * create and rename at the same time. CREATE builds the folder in the
 * home's tmp/ and renames it into place without replacing anything, so
 * a folder is either absent or complete. DELETE first renames the
 * directory into tmp/ (it vanishes at once for everybody), then removes
 * it. RENAME renames directories without replacing (renameat2
 * RENAME_NOREPLACE); an open folder keeps working through its descriptor.
 * A message delivered into a folder in the instant it is deleted is
 * deleted with it, as with Dovecot.
 *
 * Memory: a struct folders lives in the arena given to folders_open (its
 * home descriptor is closed when that arena is reset or destroyed);
 * results live in the arena passed to each call, so a long IMAP session
 * can use a per-command arena for them. Errors: functions return
 * FOLDERS_OK (0) or a negative enum folders_status and set *error_r to a
 * short phrase without paths, fit for a NO reply; details are logged.
 */
#ifndef AVIARY_FOLDERS_H
#define AVIARY_FOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aviary/compat.h"

struct arena;
struct buf;

#define FOLDERS_SEP		'.'
/* Bytes of a name: ".<name>" must fit a directory entry (NAME_MAX). */
#define FOLDERS_NAME_MAX	254
/* Levels of a name ("A.B.C" has 3). */
#define FOLDERS_DEPTH_MAX	32
/* A LIST pattern (reference included) longer than this matches
 * nothing: it bounds the matcher's work per name. */
#define FOLDERS_PATTERN_MAX	1024
#define FOLDERS_SUBS_FILE	"subscriptions"
#define FOLDERS_SUBS_LOCK	"subscriptions.lock"	/* Dovecot's dotlock */
#define FOLDERS_SUBS_MAX	(1024 * 1024)	/* bytes of the file */
#define FOLDERS_UIDV_FILE	"dovecot-uidvalidity"
/* How long a call waits for a dotlock held by another process. */
#define FOLDERS_LOCK_WAIT_MS	5000

enum folders_status {
	FOLDERS_OK = 0,
	FOLDERS_ERR_TEMP = -1,		/* I/O, lock timeout: try later */
	FOLDERS_ERR_INVALID = -2,	/* bad name: NO [CANNOT] */
	FOLDERS_ERR_EXISTS = -3,	/* NO [ALREADYEXISTS] */
	FOLDERS_ERR_NONEXISTENT = -4,	/* NO [NONEXISTENT] */
	FOLDERS_ERR_CANNOT = -5,	/* not allowed (delete INBOX, rename a
					 * folder below itself): NO [CANNOT] */
	FOLDERS_ERR_NOSPACE = -6,	/* ENOSPC/EDQUOT: NO [OVERQUOTA] */
};

struct folders;

/* Open the mailbox home (strictly below root, each component opened
 * without following symbolic links, as maildir.h describes). The home
 * must exist: maildir_ensure() makes it. What this module creates is
 * 0700/0600 and, when running as root, owned by uid:gid. */
int	folders_open(const char *root, const char *home, uid_t uid, gid_t gid,
	    struct arena *a, struct folders **f_r, const char **error_r)
	    AV_WARN_UNUSED;
const char *folders_home(const struct folders *f);
int	folders_home_fd(const struct folders *f);

/* --- names --- */

/* Check name by the rules above and put its normal form (INBOX
 * upper-cased) in *norm_r, from a. With 'creating', one trailing '.' is
 * dropped first (RFC 3501 6.3.3: CREATE "A." means "A") and the name
 * must be valid mUTF-7 without control characters. FOLDERS_OK or
 * FOLDERS_ERR_INVALID. */
int	folders_name_check(const char *name, bool creating, struct arena *a,
	    const char **norm_r, const char **error_r) AV_WARN_UNUSED;
/* Whether name is INBOX (any case). */
bool	folders_is_inbox(const char *name);
/* The directory of folder 'name' (checked as above, not for existence):
 * the home for INBOX, else home/.<name>. For uidlist_folder_open(). */
int	folders_path(const struct folders *f, const char *name,
	    struct arena *a, const char **path_r, const char **error_r)
	    AV_WARN_UNUSED;
/* 1 if folder 'name' exists (INBOX always does), 0 if not,
 * FOLDERS_ERR_INVALID for a bad name, FOLDERS_ERR_TEMP if it cannot be
 * told (logged). */
int	folders_exists(const struct folders *f, const char *name);

/* --- listing --- */

enum folder_flags {
	FOLDER_NONEXISTENT = 1 << 0,	/* no folder by this name: a parent
					 * level only, or only subscribed */
	FOLDER_CHILDREN = 1 << 1,	/* an existing folder lies below */
	FOLDER_SUBSCRIBED = 1 << 2,
	FOLDER_SUBSCRIBED_CHILD = 1 << 3, /* a subscribed name lies below */
};

/* RFC 6154 special-use attributes. */
enum folder_special {
	FOLDER_SPECIAL_ALL = 1 << 0,
	FOLDER_SPECIAL_ARCHIVE = 1 << 1,
	FOLDER_SPECIAL_DRAFTS = 1 << 2,
	FOLDER_SPECIAL_FLAGGED = 1 << 3,
	FOLDER_SPECIAL_JUNK = 1 << 4,
	FOLDER_SPECIAL_SENT = 1 << 5,
	FOLDER_SPECIAL_TRASH = 1 << 6,
};

struct folder_entry {
	const char	*name;		/* normal form, from the list's arena */
	unsigned	 flags;		/* enum folder_flags */
	unsigned	 special;	/* enum folder_special, from the table
					 * given to folders_list */
};

/* Every name LIST or LSUB can return, sorted by name (bytes). How the
 * server picks from it:
 *   LIST: entries without FOLDER_NONEXISTENT, and those with
 *     FOLDER_NONEXISTENT and FOLDER_CHILDREN (shown \Noselect, or
 *     \NonExistent under LIST-EXTENDED); \HasChildren iff
 *     FOLDER_CHILDREN, else \HasNoChildren.
 *   LSUB / LIST (SUBSCRIBED): entries with FOLDER_SUBSCRIBED
 *     (\NonExistent or \Noselect when also FOLDER_NONEXISTENT); for a
 *     '%' that stops above a subscribed name, LSUB also returns entries
 *     with only FOLDER_SUBSCRIBED_CHILD, as \Noselect (RFC 3501 6.3.9),
 *     and LIST-EXTENDED RECURSIVEMATCH uses it for CHILDINFO. */
struct folders_list {
	struct folder_entry *entries;
	size_t		 n;
};

/* With this flag folders_list also reads the subscriptions file: it
 * sets FOLDER_SUBSCRIBED and FOLDER_SUBSCRIBED_CHILD and adds
 * subscribed names that do not exist (FOLDER_NONEXISTENT), with their
 * missing parents. Without it neither flag is set. */
#define FOLDERS_LIST_SUBSCRIPTIONS	0x1u

struct folders_special;

/* List INBOX and every folder of the home (one readdir of the home and
 * about one stat per folder: O(N log N) for N folders), add the parent
 * levels that do not exist as folders, and set the flags above; special
 * is the configured special-use table (may be NULL, n 0). Directories
 * whose name is not a valid folder name, symbolic links, and a ".INBOX"
 * (the root is INBOX) are skipped (logged at debug). Names with a
 * non-canonical first level "inbox"/"Inbox" are skipped too, as Dovecot
 * writes "INBOX". */
int	folders_list(struct folders *f, unsigned flags,
	    const struct folders_special *special, size_t nspecial,
	    struct arena *a, struct folders_list *list_r, const char **error_r)
	    AV_WARN_UNUSED;

/* Whether name matches the LIST pattern: '*' matches anything, '%'
 * anything but '.', other bytes themselves; within a name's leading
 * "INBOX" level, case-insensitively (so "inb*", "*box" and "inbox.%"
 * match as with Dovecot). O(len(name) * len(pattern)); false for a
 * pattern over FOLDERS_PATTERN_MAX. */
bool	folders_match(const char *pattern, const char *name);
/* The entries of l whose name matches ref + pattern (RFC 3501 6.3.8:
 * the reference is prepended as it is; an empty pattern is the special
 * "hierarchy delimiter" query the server answers itself, and matches
 * nothing here). Only the entries sharing the pattern's literal prefix
 * are looked at (binary search), so "Work.%" costs O(log N + matches)
 * among thousands of folders. *idx_r (from a; NULL when *n_r is 0)
 * gets indexes into l->entries in list order. */
void	folders_list_match(const struct folders_list *l, const char *ref,
	    const char *pattern, struct arena *a, size_t **idx_r, size_t *n_r);

/* --- changing folders --- */

/* CREATE: make folder 'name' (cur/ new/ tmp/, maildirfolder, and a
 * dovecot-uidlist with a fresh UIDVALIDITY from the counter below), not
 * its parents; not subscribed. FOLDERS_ERR_EXISTS if it exists
 * (INBOX always does); a bare ".name" directory that is not a folder yet
 * is completed instead. */
int	folders_create(struct folders *f, const char *name, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* DELETE (RFC 3501 6.3.4): remove folder 'name' with its messages.
 * Only its own directory goes: its children ".name.x" are folders of
 * their own and stay, and "name" then lists as a non-existent parent
 * (Dovecot does the same). The subscription stays (RFC 3501 6.3.6:
 * subscriptions are independent of existence). INBOX:
 * FOLDERS_ERR_CANNOT; a name that is not a folder (a mere parent
 * level included): FOLDERS_ERR_NONEXISTENT. */
int	folders_delete(struct folders *f, const char *name, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* RENAME (RFC 3501 6.3.5): old and every ".old.*" directory become
 * ".new" and ".new.*"; subscriptions of old and its children follow
 * (Dovecot leaves them behind; we move them). Nothing is replaced:
 * FOLDERS_ERR_EXISTS if new or any renamed child's new name exists;
 * FOLDERS_ERR_CANNOT for new below old; FOLDERS_ERR_NONEXISTENT if old
 * is not a folder. Renaming INBOX moves every message of INBOX's new/
 * and cur/ into a new folder 'new' (with INBOX's dovecot-keywords) and
 * leaves INBOX empty and its children in place, as RFC 3501 says
 * (Dovecot refuses RENAME INBOX). If a step fails midway, the steps done
 * are undone where possible. */
int	folders_rename(struct folders *f, const char *oldname,
	    const char *newname, struct arena *a, const char **error_r)
	    AV_WARN_UNUSED;

/* --- subscriptions (the home's "subscriptions" file) --- */

/* The file, parsed. Version 2 starts with "V\t2\n\n" and has one name
 * per line with its levels separated by TAB and each level tab-escaped
 * (\001 then 1 t r n 0 for \001 TAB CR LF NUL); version 1 (no header)
 * has one name per line with '.' levels. A trailing separator is
 * ignored, INBOX is normalised; blank lines and names that fail the
 * name rules are skipped. */
struct folders_subs {
	unsigned	 version;	/* 1 or 2 */
	const char	**names;	/* normal form, file order, no dups */
	size_t		 n;
};

/* Parse a whole subscriptions file (pure). 0 if every line was good,
 * -1 if some line was skipped (*error_r says why); *subs_r is filled
 * either way. An empty text is version 2 with no names. */
int	folders_subs_parse(const char *data, size_t len, struct arena *a,
	    struct folders_subs *subs_r, const char **error_r) AV_WARN_UNUSED;
/* The new text of a subscriptions file after subscribing (subscribe =
 * true) or unsubscribing 'name' (a normal-form name), appended to out.
 * Every other line is kept byte for byte; an added name goes last, in
 * the file's version (an empty file becomes version 2); unsubscribing
 * removes every line naming it. *changed_r tells whether the text
 * differs. 0, or BUF_EFULL. */
int	folders_subs_edit(const char *data, size_t len, const char *name,
	    bool subscribe, struct buf *out, bool *changed_r) AV_WARN_UNUSED;
/* Whether subs lists name (normal form). O(n). */
bool	folders_subs_has(const struct folders_subs *subs, const char *name);

/* Read the home's subscriptions (missing file: version 2, no names). */
int	folders_subs_read(struct folders *f, struct arena *a,
	    struct folders_subs *subs_r, const char **error_r) AV_WARN_UNUSED;
/* Add or remove name (checked as an existing name; it need not exist,
 * RFC 3501 6.3.6), under the dotlock "subscriptions.lock" (which
 * maildir_ensure also takes), by writing the lock file and renaming it
 * over the file; unchanged files are not rewritten. Subscribing twice is
 * fine; unsubscribing a name not subscribed is FOLDERS_ERR_NONEXISTENT. */
int	folders_subscribe(struct folders *f, const char *name, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
int	folders_unsubscribe(struct folders *f, const char *name,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;

/* --- special-use folders --- */

/* One configured special-use folder: its name and FOLDER_SPECIAL_*. */
struct folders_special {
	const char	*name;
	unsigned	 attr;
};

/* Debian's Dovecot defaults (15-mailboxes.conf) plus Archive: Drafts,
 * Sent, "Sent Messages", Trash, Junk, Archive. */
extern const struct folders_special folders_special_default[];
extern const size_t folders_special_default_n;

/* The attributes table gives folder name (exact bytes; INBOX any case):
 * the OR of every matching row, 0 if none. */
unsigned folders_special_get(const struct folders_special *table, size_t n,
	    const char *name);
/* "\Drafts" ... for one FOLDER_SPECIAL_* bit, NULL otherwise. */
const char *folders_special_name(unsigned attr);
/* The bit of "\Sent" etc. (ASCII case-insensitive), 0 if none. */
unsigned folders_special_parse(const char *attr);
/* Create the folders of the table that do not exist, and subscribe the
 * ones created here (a user who unsubscribed Junk keeps it that way),
 * as maildir_ensure does for delivery. Names are checked as in
 * folders_create. */
int	folders_special_ensure(struct folders *f,
	    const struct folders_special *table, size_t n, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;

/* --- UIDVALIDITY of new folders --- */

/* The next UIDVALIDITY for a new folder, from the home's
 * dovecot-uidvalidity counter, shared with Dovecot by its own protocol:
 * the file holds the last value as 8 hex digits, and an empty file
 * "dovecot-uidvalidity.<hex>" is renamed to the next value by whoever
 * takes it (rename is atomic, so two processes never get one value).
 * Without a counter the first value is time(NULL). Each value is above
 * every one handed out before through the counter, so a re-created
 * folder never reuses an old UIDVALIDITY (RFC 3501 2.3.1.1). Never
 * fails: on I/O errors it logs and falls back to the larger of
 * time(NULL) and the last value this process gave, plus one. */
uint32_t folders_uidvalidity_next(struct folders *f);
/* The same for a home open at home_fd (path for logs), for callers
 * without a struct folders (uidlist.c when it creates a folder's
 * dovecot-uidlist). */
uint32_t folders_uidvalidity_next_at(int home_fd, const char *home);

#endif
