/* aviary/maildir.h - Maildir++ storage: creating mailboxes, storing
 * messages durably, Maildir file names, and the maildirsize quota file.
 * protocols.md section 4 has the format facts this follows.
 *
 * Paths: 'root' is the mail root (mail.root); 'home' is a mailbox's
 * directory below it (aviary_mail_home). Everything below root is
 * opened with openat() relative to directory descriptors and
 * O_NOFOLLOW|O_DIRECTORY, so a symbolic link anywhere below the root
 * makes the operation fail instead of leading outside it. Directories
 * are created 0700, files 0600; when the process runs as root, what it
 * creates is chown'ed to uid:gid (the mail user), otherwise uid/gid are
 * ignored (the process is the mail user already).
 *
 * Storing follows qmail/Dovecot: write the message once into tmp/ of the
 * first recipient's mailbox, fsync it, then put it into new/ of every
 * recipient (hard links on one filesystem, a copy otherwise), fsync
 * each new/ directory, and only then report success. The caller replies
 * 250 after maildir_msg_deliver() returned D_OK for that recipient.
 *
 * Errors: functions return 0 / -1 (or enum dstatus) and set *error_r to
 * a short phrase without paths, safe for a protocol reply, allocated from
 * the arena passed in; details (paths, errno) are logged where known.
 * ENOSPC and EDQUOT are reported as *nospace_r = true where offered, so
 * that delivery can answer 452 4.3.1.
 */
#ifndef AVIARY_MAILDIR_H
#define AVIARY_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aviary/compat.h"

struct arena;

enum dstatus { D_OK = 0, D_TEMP = -1, D_PERM = -2 };

#define MAILDIR_NAME_MAX	255

/* --- mailboxes --- */

/* Create what is missing of the Maildir++ tree at home: home itself (and
 * any directories between root and home), cur/ new/ tmp/, and for each
 * folder F of 'folders' the folder .F/ with cur/ new/ tmp/ and an empty
 * 'maildirfolder' file; folders created here are added to the
 * 'subscriptions' file (v2 format: "V\t2\n\n" then one name per line;
 * an existing file keeps its version and gets the missing names, under
 * Dovecot's dotlock "subscriptions.lock", replaced by rename). Folders
 * that already existed are not re-subscribed. Existing parts are left as
 * they are. home must be strictly below root ('/' boundary, no "..");
 * root must exist. Folder names: 1-200 printable ASCII bytes, no '.' or
 * '/', not INBOX; anything else is an error. Cheap when all exists (a
 * stat per directory), so it may run before every delivery. */
int	maildir_ensure(const char *root, const char *home,
	    const char *const *folders, size_t nfolders, uid_t uid, gid_t gid,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;

/* true if home/.F exists as a folder (for user+F@domain delivery). F is
 * a folder name as in the config: no '.', no '/'; false for an invalid
 * name, INBOX, or a symbolic link. */
bool	maildir_folder_exists(const char *home, const char *folder);

/* Open the existing home below root the way every function here does
 * (strictly below root, each component with O_NOFOLLOW|O_DIRECTORY),
 * for other modules of the store (folders.c). A directory descriptor
 * (O_CLOEXEC) the caller closes, or -1 with *error_r (logged). */
int	maildir_home_open(const char *root, const char *home,
	    const char **error_r) AV_WARN_UNUSED;

/* --- file names --- */

/* A new unique base name, "<sec>.M<usec>P<pid>Q<n>R<hex>.<host>": usec
 * is 6 digits (zero-padded), n a per-process counter, hex 8 digits from
 * getrandom(). In host, '/' ':' ',' '\' are escaped as \057 \072 \054
 * \134, and so is every byte <= 0x20 or >= 0x7f (\ooo, octal). host NULL
 * or "" means gethostname(). Unique across processes and hosts; never
 * repeats within a process. 0, or -1 (out, with room for the NUL, is too
 * small; out is then "" if outsz > 0). */
int	maildir_unique_name(const char *host, char *out, size_t outsz)
	    AV_WARN_UNUSED;
/* Parse ",S=<n>" and ",W=<n>" from a file name (the first of each
 * before ':'; the digits end at ',' ':' or the end). Sets what was found
 * (a missing field leaves its output untouched and is reported through
 * *have_*; any pointer may be NULL). Returns false if a field is there
 * but malformed (no digits, a non-digit, over 2^64-1): that field is
 * then reported missing, so stat() the file. */
bool	maildir_name_sizes(const char *name, uint64_t *size_r, bool *have_size_r,
	    uint64_t *vsize_r, bool *have_vsize_r);

/* --- storing a message --- */

struct maildir_msg;

/* Open a new file in home/tmp/. The message is then written with
 * maildir_msg_write (buffered; the first error sticks) and completed by
 * maildir_msg_finish, which flushes, fsyncs and closes it. Line endings
 * are written as given: the caller stores LF endings (Maildir
 * convention); the virtual size W= counts every LF as CRLF (an LF
 * already preceded by CR counts once, so CRLF input is measured right
 * too). The message is owned by uid:gid (when root) in every mailbox it
 * is delivered to. Heap-allocated: independent of the arena, which only
 * holds *error_r. After a failed write, finish reports the error. */
struct maildir_msg *maildir_msg_create(const char *root, const char *home,
	    const char *host, uid_t uid, gid_t gid, struct arena *a,
	    const char **error_r);
int	maildir_msg_write(struct maildir_msg *m, const void *p, size_t n)
	    AV_WARN_UNUSED;
int	maildir_msg_finish(struct maildir_msg *m, bool *nospace_r,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;
uint64_t maildir_msg_size(const struct maildir_msg *m);	/* S= */
uint64_t maildir_msg_vsize(const struct maildir_msg *m);	/* W= */
/* Put the finished message into home's new/ (folder NULL or "INBOX":
 * INBOX, else the folder ".F", which must exist), as
 * "<unique>,S=<size>,W=<vsize>" with a fresh unique name per call; fsync
 * new/. A hard link to the tmp/ file (so all copies share one inode),
 * or across file systems a copy through that mailbox's tmp/. May be
 * called for several mailboxes, and twice for one (two files). D_TEMP
 * on any failure (nothing is left in new/ then); *nospace_r on
 * ENOSPC/EDQUOT. Calling it before a successful finish is a bug. */
enum dstatus maildir_msg_deliver(struct maildir_msg *m, const char *root,
	    const char *home, const char *folder, bool *nospace_r,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* The file name (in new/) of the last successful maildir_msg_deliver,
 * "" before one: APPEND needs it to find the message's UID. */
const char *maildir_msg_delivered_name(const struct maildir_msg *m);
/* Remove the tmp/ file (if still there) and free. Sets *mp to NULL. */
void	maildir_msg_destroy(struct maildir_msg **mp);

/* --- quota (Maildir++ maildirsize in home) --- */

struct maildir_usage {
	uint64_t	 bytes;
	uint64_t	 messages;
};

/* The current usage of the mailbox (INBOX and all folders, from the S=
 * of the file names, stat() where absent). Reads home/maildirsize and
 * rebuilds it (protocols.md 4.5: missing, >= 5120 bytes, unparsable,
 * negative, limits changed, over quota with deltas or older than 15
 * minutes) with limits "<bytes>S,<messages>C" (0 = unlimited). A rebuild
 * counts new/ and cur/ of INBOX and of every .Folder, Trash included
 * (Dovecot's default), O(messages). If only writing the file fails, the
 * counted usage is still returned (0; logged). */
int	maildir_quota_get(const char *root, const char *home,
	    uint64_t limit_bytes, uint64_t limit_messages, uid_t uid, gid_t gid,
	    struct maildir_usage *usage_r, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* Append "<bytes> <count>\n" to home/maildirsize in one O_APPEND write
 * (no lock, as Maildir++ specifies). A missing file is not an error
 * (the next maildir_quota_get rebuilds it). */
int	maildir_quota_add(const char *root, const char *home, int64_t bytes,
	    int64_t messages, struct arena *a, const char **error_r)
	    AV_WARN_UNUSED;
/* Pure: whether adding (bytes, 1 message) to 'usage' would pass the
 * limits (0 = unlimited). */
bool	maildir_quota_exceeded(const struct maildir_usage *usage,
	    uint64_t limit_bytes, uint64_t limit_messages, uint64_t bytes);

#endif
