/* imap_session.h - aviary-imap after login: the session (the user's
 * mailbox home) and the selected folder's view. Shared by
 * imap_session.c, imap_mbox.c, imap_mboxcmd.c, imap_fetch.c and
 * imap_searchrun.c; never included by imap_login.c.
 *
 * The view of the selected folder: message i (0-based; sequence number
 * i + 1) has a UID, flags and sizes. It changes only at the points RFC
 * 3501 allows (7.4.1): new messages and flag changes made by others are
 * reported by imap_mbox_sync() (EXISTS, RECENT, FETCH FLAGS), and
 * messages expunged by others are removed from the view (EXPUNGE) only
 * when the caller says expunges may be reported (not during FETCH,
 * STORE, SEARCH, or UID versions of them... RFC 3501 5.5: never while
 * a command that uses sequence numbers is running). Until then such a
 * message stays in the view, marked gone; FETCH of it answers NO with
 * what can still be told.
 */
#ifndef AVIARY_IMAP_SESSION_H
#define AVIARY_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "imap.h"
#include "aviary/folders.h"
#include "aviary/keywords.h"
#include "aviary/uidlist.h"

struct userdb_req;
struct append_state;

/* 20 bytes: an idle session's view of a folder of n messages costs
 * about 20 n bytes (sizes under 4 GB: aviary-lmtp and APPEND refuse
 * more; dates as unsigned 32-bit seconds, good until 2106). */
struct imap_msg {
	uint32_t	 uid;
	uint32_t	 kw;		/* keyword bits: index into the
					 * folder's dovecot-keywords */
	uint32_t	 vsize;		/* RFC822.SIZE (CRLF octets) */
	uint32_t	 mtime;		/* INTERNALDATE (time_t) */
	uint8_t		 sys;		/* MAIL_FLAG_* (keywords.h) */
	bool		 recent;	/* \Recent for this session */
	bool		 gone;		/* expunged by someone else, not yet
					 * reported */
};

/* While a client idles, the view is kept as runs of consecutive UIDs
 * with the same flags: a mailbox of thousands of messages read in
 * order is a few runs. */
struct imap_run {
	uint32_t	 uid;		/* the first */
	uint32_t	 count;
	uint32_t	 kw;
	uint8_t		 sys;
	bool		 recent;
};

struct imap_mbox {
	struct arena		*a;		/* the view's own memory */
	const char		*name;		/* IMAP name, normal form */
	const char		*path;		/* the folder directory */
	bool			 readonly;	/* EXAMINE */
	uint32_t		 uidvalidity;
	uint32_t		 uidnext;
	struct imap_msg		*msgs;		/* by sequence number - 1 */
	size_t			 n, cap;
	struct imap_run		*runs;		/* instead of msgs while idle */
	size_t			 nruns;
	bool			 hibernating;
	struct keywords		 kw;		/* dovecot-keywords */
	struct arena		*kw_arena;	/* kw's names */
	/* The last scan of the directory (uidlist_folder_open): file
	 * names, for opening messages. Replaced by each sync. */
	struct arena		*scan_arena;
	struct uidlist_folder	*scan;
	/* For the cheap "did anything change" check while idling. */
	struct timespec		 mt_new, mt_cur, mt_list;
};

struct imap_session {
	struct arena		*a;		/* session lifetime */
	struct userdb_req	*lookup;
	char			*home;
	uint64_t		 quota_bytes, quota_messages;	/* 0: none */
	struct folders		*folders;
	struct imap_mbox	*sel;		/* selected folder, or NULL */
	struct imap_seqset	*saved;		/* SEARCHRES "$", as UIDs */
	struct arena		*saved_arena;
	struct append_state	*append;	/* an APPEND receiving data */
};

/* --- imap_session.c --- */

/* The configured special-use folders (imap.drafts, .sent, ...) as a
 * folders.h table, from a; the count is returned. */
size_t	imap_session_special(const struct iconn *c, struct arena *a,
	    struct folders_special **t_r);

/* --- imap_mbox.c: the selected folder --- */

/* SELECT/EXAMINE: open folder 'name' (normal form) as the view, send the
 * untagged responses of RFC 3501 6.3.1 and the tagged OK. */
void	imap_mbox_select(struct iconn *c, const char *tag, const char *name,
	    bool readonly);
/* Leave the selected folder (CLOSE expunges first, UNSELECT not). */
void	imap_mbox_close(struct iconn *c, bool expunge);
void	imap_mbox_free(struct imap_mbox **mp);
/* Forget the scan (file names) to save memory while the client idles;
 * the functions that need it make it again. */
void	imap_mbox_release_scan(struct imap_mbox *m);
/* While idling: the view as runs (UIDs, flags, \Recent) only, sizes and
 * dates dropped. imap_mbox_wake expands it again and syncs (reporting
 * what changed, as at any sync with expunges allowed). Nothing but
 * these two may touch the view of a hibernating folder. */
void	imap_mbox_hibernate(struct imap_mbox *m);
int	imap_mbox_wake(struct iconn *c);
/* Rescan the folder and report what changed, as untagged responses:
 * new messages (EXISTS, RECENT), flags changed by others (FETCH FLAGS),
 * and, if expunges_ok, messages that disappeared (EXPUNGE, removed from
 * the view). 0, or -1 after logging (the view stays as it was). */
int	imap_mbox_sync(struct iconn *c, bool expunges_ok);
/* Cheap: did new/, cur/ or dovecot-uidlist change since the last sync? */
bool	imap_mbox_changed(struct imap_mbox *m);

/* The messages a sequence set names, as 0-based indexes in ascending
 * order, from arena a. uid: the set holds UIDs (UID FETCH ...: numbers
 * with no message are ignored, "*" is the highest UID); otherwise
 * sequence numbers (a number above the message count is an error:
 * returns -1 with *error_r). "$" is the session's saved result. */
int	imap_mbox_resolve(struct iconn *c, const struct imap_seqset *set,
	    bool uid, struct arena *a, size_t **idx_r, size_t *n_r,
	    const char **error_r) AV_WARN_UNUSED;
/* The index of the message with this UID, or -1. O(log n). */
long	imap_mbox_find_uid(const struct imap_mbox *m, uint32_t uid);

/* Open message idx read-only. 1 with *fd_r, 0 if it is gone, -1. */
int	imap_mbox_msg_open(struct imap_mbox *m, size_t idx, int *fd_r)
	    AV_WARN_UNUSED;
/* Map message idx into memory (read-only, private): *data_r, *len_r;
 * unmap with imap_mbox_msg_unmap. 1, 0 (gone), -1. An empty file maps
 * to a non-NULL pointer and length 0. */
int	imap_mbox_msg_map(struct imap_mbox *m, size_t idx,
	    const char **data_r, size_t *len_r) AV_WARN_UNUSED;
void	imap_mbox_msg_unmap(const char *data, size_t len);

/* "(\Seen \Flagged $Label1)": the flags of message idx, \Recent too. */
int	imap_mbox_write_flags(const struct imap_mbox *m, size_t idx,
	    struct buf *out) AV_WARN_UNUSED;
/* Set message idx's flags on disk (the file's info suffix; new
 * keywords get letters in dovecot-keywords first). 0, or -1 with
 * *error_r (NO text). Updates the view. */
int	imap_mbox_set_flags(struct iconn *c, size_t idx, unsigned sys,
	    uint32_t kw, const char **error_r) AV_WARN_UNUSED;
/* Keyword names -> bits, assigning letters to new ones (under the
 * folder's lock). -1 with *error_r when more than 26 would be needed. */
int	imap_mbox_keywords(struct iconn *c, const char *const *names,
	    size_t n, bool create, uint32_t *bits_r, const char **error_r)
	    AV_WARN_UNUSED;

/* Mark message idx seen (FETCH BODY[] without .PEEK); reports the
 * change in the FETCH response the caller builds. true if it changed. */
bool	imap_mbox_mark_seen(struct iconn *c, size_t idx);

/* STORE, EXPUNGE, COPY, MOVE: in imap_mbox.c. */
void	imap_mbox_store(struct iconn *c, const char *tag,
	    const struct imap_args *a);
void	imap_mbox_expunge(struct iconn *c, const char *tag,
	    const struct imap_seqset *uids);
void	imap_mbox_copy(struct iconn *c, const char *tag,
	    const struct imap_args *a, bool move);

/* --- imap_mboxcmd.c: commands on folders --- */
void	imap_cmd_list(struct iconn *c, const char *tag,
	    const struct imap_args *a, bool lsub);
void	imap_cmd_create(struct iconn *c, const char *tag,
	    const struct imap_args *a);
void	imap_cmd_delete(struct iconn *c, const char *tag,
	    const struct imap_args *a);
void	imap_cmd_rename(struct iconn *c, const char *tag,
	    const struct imap_args *a);
void	imap_cmd_subscribe(struct iconn *c, const char *tag,
	    const struct imap_args *a, bool subscribe);
void	imap_cmd_status(struct iconn *c, const char *tag,
	    const struct imap_args *a);
void	imap_cmd_namespace(struct iconn *c, const char *tag);
void	imap_cmd_getquota(struct iconn *c, const char *tag,
	    const struct imap_args *a, bool root);

/* --- imap_fetch.c --- */
void	imap_cmd_fetch(struct iconn *c, const char *tag,
	    const struct imap_args *a);

/* --- imap_searchrun.c --- */
void	imap_cmd_search(struct iconn *c, const char *tag,
	    const struct imap_args *a);

#endif
