/* aviary/uidlist.h - the per-folder message index shared by POP3 and
 * IMAP: Dovecot's dovecot-uidlist (version 3), read and written exactly,
 * joined with what is in the folder's new/ and cur/ directories.
 * protocols.md 5.2 and 5.4 have the format and what must be preserved.
 *
 * File format (what uidlist_parse/uidlist_format handle, byte for byte):
 *   "3 V<uidvalidity> N<nextuid> G<guid hex>[ <K><value>...]\n"
 *   "<uid>[ <K><value>...] :<file name>\n"   one record per message
 * Header fields keep their order; unknown header and record fields (a
 * single letter A-Z and a value without spaces) are preserved on every
 * rewrite. The record's file name is the base name (no ":2,flags"); an
 * older file may carry the info part, records are matched on the part
 * before ':'. Version 1 ("1 <uidvalidity> <nextuid>", records "<uid>
 * <name>") is read and rewritten as version 3; anything else is damaged.
 *
 * Damage and rebuild (uidlist_folder_open): a missing file is rebuilt
 * with every message, in time order, UIDVALIDITY = time(NULL), a new
 * random GUID. A file with a usable header but bad lines (garbage, UID
 * 0 or not increasing, '/' in a name, too long, an unterminated last
 * line) keeps its UIDVALIDITY and the good records; messages without a
 * record get UIDs from next_uid on. A file with an unusable header
 * (including version 2) is treated as missing. Mail is never lost: every
 * file in new/ and cur/ ends up with a UID.
 *
 * Locking (Dovecot-compatible): readers take no lock (the file is only
 * ever replaced by rename, so a reader sees an old or a new version).
 * Assigning UIDs and rewriting happen under the dotlock
 * "dovecot-uidlist.lock" in the folder directory, created with O_EXCL;
 * a lock whose mtime is more than UIDLIST_LOCK_STALE_SECS old is removed
 * as stale. As Dovecot does, the new contents are written into the lock
 * file itself, fsync'ed and renamed over dovecot-uidlist, which also
 * releases the lock. Delivery writes new/ without any lock.
 *
 * Races: a file renamed by another process (new/ -> cur/, flags changed)
 * while we scan or open it is looked up again by base name (one rescan),
 * never reported as an error. Records whose file is not seen are dropped
 * on rewrite only when the directories did not change during the scan,
 * so a concurrent rename cannot make us forget a UID.
 *
 * Memory: everything returned lives in the arena passed to
 * uidlist_folder_open / uidlist_parse; the folder's directory descriptor
 * is closed when that arena is reset or destroyed. Errors: -1 and
 * *error_r, a short phrase without paths (details are logged).
 */
#ifndef AVIARY_UIDLIST_H
#define AVIARY_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aviary/compat.h"

struct arena;
struct buf;

#define UIDLIST_FILE_NAME	"dovecot-uidlist"
#define UIDLIST_LOCK_NAME	"dovecot-uidlist.lock"
#define UIDLIST_LOCK_STALE_SECS	120
/* A line longer than this (bytes, without the LF) is damaged. */
#define UIDLIST_LINE_MAX	4096
/* More extension fields than this on one line (header fields after the
 * version, or record fields between UID and ':') make it damaged. */
#define UIDLIST_FIELDS_MAX	32
/* A dovecot-uidlist bigger than this is refused (-1), not rebuilt. */
#define UIDLIST_FILE_MAX	(256u * 1024 * 1024)
/* "%08Xu%08Xv" plus the NUL. */
#define UIDLIST_UIDL_SIZE	17

/* --- the file, parsed (pure: no I/O) --- */

struct uidlist_rec {
	uint32_t	 uid;
	const char	**fields;	/* "W1394", "GABC...", in file order */
	size_t		 nfields;
	const char	*name;		/* as in the file (may have ":2,") */
	const char	*basename;	/* name up to the first ':' */
};

struct uidlist_file {
	unsigned	 version;	/* 3, or 1 as read */
	uint32_t	 uidvalidity;	/* 0 = unknown (header unusable) */
	uint32_t	 next_uid;
	const char	*guid;		/* the G header value, NULL if none */
	const char	**hdr_fields;	/* every header field after the
					 * version, in order, V/N included */
	size_t		 nhdr_fields;
	struct uidlist_rec *recs;	/* strictly increasing uid */
	size_t		 nrecs;
	bool		 header_ok;	/* version 1/3 with V and N */
};

/* Parse a whole dovecot-uidlist. Returns 0 if it is clean, -1 if it is
 * damaged (*error_r says why, the first problem): *file_r then holds
 * what could be salvaged (header_ok tells whether uidvalidity is to be
 * trusted; bad record lines are skipped). next_uid is raised above the
 * highest record UID. All strings are copied into a. */
int	uidlist_parse(const char *data, size_t len, struct arena *a,
	    struct uidlist_file *file_r, const char **error_r) AV_WARN_UNUSED;
/* Append the version-3 text of file to out. V and N are written from
 * uidvalidity/next_uid in the position of the existing V/N header fields
 * (added after the version when absent), G from guid likewise; other
 * fields verbatim. Parsing a clean v3 file and formatting it gives the
 * same bytes. 0, or -1 if out is full (BUF_EFULL semantics). */
int	uidlist_format(const struct uidlist_file *file, struct buf *out)
	    AV_WARN_UNUSED;

/* Dovecot's default POP3 UIDL "%08Xu%08Xv": uid then uidvalidity, each
 * as 8 upper-case hex digits, e.g. uid 1, uidvalidity 0x12345678 ->
 * "0000000112345678". out has UIDLIST_UIDL_SIZE bytes. */
void	uidlist_uidl_default(uint32_t uid, uint32_t uidvalidity,
	    char out[UIDLIST_UIDL_SIZE]);

/* --- a folder --- */

enum uidlist_dir { UIDLIST_DIR_NEW = 0, UIDLIST_DIR_CUR = 1 };

struct uidlist_msg {
	uint32_t	 uid;
	const char	*basename;	/* the join key, never changes */
	const char	*name;		/* current full file name */
	enum uidlist_dir dir;		/* where name is */
	const char	*flags;		/* after ":2,", "" if none */
	uint64_t	 size;		/* S= from the name, else st_size */
	uint64_t	 vsize;		/* W= from the name, else size (LF
					 * files: an approximation, W= is
					 * written by every delivery of ours
					 * and Dovecot's) */
	bool		 have_vsize;	/* vsize came from W= */
	time_t		 mtime;		/* INTERNALDATE */
	const char	*pop3_uidl;	/* the record's P field, NULL if none */
};

struct uidlist_folder {
	const char	*path;		/* the folder directory */
	int		 dfd;		/* closed by the arena */
	uint32_t	 uidvalidity;
	uint32_t	 next_uid;
	const char	*guid;
	struct uidlist_msg *msgs;	/* sorted by uid */
	size_t		 nmsgs;
	bool		 rebuilt;	/* the file was missing or damaged */
	struct uidlist_file file;	/* the records as last written/read */
	struct arena	*arena;
};

/* Open the folder directory 'path' (it holds new/ cur/ and
 * dovecot-uidlist), scan new/ then cur/, read dovecot-uidlist and match
 * files to records by base name. When a file has no UID yet, or the
 * uidlist is missing or damaged, the lock is taken (waiting up to
 * lock_wait_ms, polling; 0 = one attempt), everything is re-read under
 * it, new files get UIDs in the order of their name's time part
 * (seconds, then the M microseconds, then the whole name), and the file
 * is rewritten. -1 if the lock cannot be had in time ("uidlist locked"),
 * on I/O errors, or when UIDs run out. O(n log n) in the messages, one
 * stat() each (the mtime is needed anyway). */
int	uidlist_folder_open(const char *path, unsigned lock_wait_ms,
	    struct arena *a, struct uidlist_folder **folder_r,
	    const char **error_r) AV_WARN_UNUSED;

/* Index of the message with this UID: 1 and *idx_r, or 0 if none. */
int	uidlist_folder_find(const struct uidlist_folder *f, uint32_t uid,
	    size_t *idx_r) AV_WARN_UNUSED;

/* Open message idx for reading (O_RDONLY|O_NOFOLLOW|O_CLOEXEC). When the
 * file is gone (renamed by another process), the directories are
 * searched once for its base name and msgs[idx] updated. 1 with *fd_r,
 * 0 if the message no longer exists (expunged), -1 on error. */
int	uidlist_folder_msg_open(struct uidlist_folder *f, size_t idx,
	    int *fd_r, const char **error_r) AV_WARN_UNUSED;

/* Remove message idx's file (expunge). The record stays until the next
 * rewrite drops it. A file renamed by another process meanwhile is
 * looked up again once. 1 removed, 0 already gone, -1 error. */
int	uidlist_folder_msg_unlink(struct uidlist_folder *f, size_t idx,
	    const char **error_r) AV_WARN_UNUSED;
/* Rename message idx to cur/<basename>:2,<flags> (from new/ or cur/),
 * keeping its base name and so its UID; msgs[idx] is updated. flags: at
 * most 64 printable ASCII bytes without '/' (the caller orders them,
 * protocols.md 4.3). A rename lost to another process is retried once
 * after looking the base name up again. 1 done, 0 the message is gone,
 * -1 error (also for invalid flags). */
int	uidlist_folder_msg_set_flags(struct uidlist_folder *f, size_t idx,
	    const char *flags, const char **error_r) AV_WARN_UNUSED;
/* Move a message from new/ to cur/ adding ":2," with its current flags
 * (none for new/); a message already in cur/ is left alone (1). */
int	uidlist_folder_msg_to_cur(struct uidlist_folder *f, size_t idx,
	    const char **error_r) AV_WARN_UNUSED;

/* The POP3 UIDL of message idx: its P field if present, otherwise the
 * default format. Allocated from the folder's arena. */
const char *uidlist_folder_msg_uidl(const struct uidlist_folder *f,
	    size_t idx);

/* --- the lock alone --- */

/* Take the folder's dovecot-uidlist.lock (dfd: the folder directory;
 * path for logs), waiting up to wait_ms and removing a stale one, as
 * uidlist_folder_open does; for other files Dovecot guards with it
 * (dovecot-keywords). 0 with *fd_r (the lock file, empty), or -1
 * ("uidlist locked" on timeout). uidlist_lock_drop closes fd and removes
 * the lock without touching dovecot-uidlist. */
int	uidlist_lock_take(int dfd, const char *path, unsigned wait_ms,
	    int *fd_r, const char **error_r) AV_WARN_UNUSED;
void	uidlist_lock_drop(int dfd, int fd);

#endif
