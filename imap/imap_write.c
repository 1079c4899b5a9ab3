/* imap_write.c - response formatting helpers; see imap_parse.h.
 *
 * RFC 3501 4.3 and 9: a quoted string holds no CR, LF or NUL and (before
 * UTF8=ACCEPT) no 8-bit byte; anything else goes as a literal. Each
 * writer either appends everything or restores the buffer's length, so
 * a full output buffer never leaves half a string behind.
 */
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "imap_int.h"
#include "aviary/buf.h"

bool
imap_string_needs_literal(const char *p, size_t len, unsigned flags)
{
	size_t	 i;

	if (len > IMAP_QUOTED_MAX)
		return true;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return true;
		if (c >= 0x80 && (flags & IMAP_WRITE_UTF8) == 0)
			return true;
	}
	return false;
}

static int
put_string(struct buf *b, const char *p, size_t len, unsigned flags)
{
	size_t	 i, start;

	if (imap_string_needs_literal(p, len, flags)) {
		if (buf_printf(b, "{%zu}\r\n", len) != 0 ||
		    buf_append(b, p, len) != 0)
			return BUF_EFULL;
		return 0;
	}
	if (buf_append_c(b, '"') != 0)
		return BUF_EFULL;
	for (start = 0, i = 0; i < len; i++) {
		if (p[i] != '"' && p[i] != '\\')
			continue;
		if (buf_append(b, p + start, i - start) != 0 ||
		    buf_append_c(b, '\\') != 0)
			return BUF_EFULL;
		start = i;
	}
	if (buf_append(b, p + start, len - start) != 0 ||
	    buf_append_c(b, '"') != 0)
		return BUF_EFULL;
	return 0;
}

int
imap_write_string(struct buf *b, const char *p, size_t len, unsigned flags)
{
	size_t	 mark = b->len;

	if (put_string(b, p, len, flags) != 0) {
		buf_truncate(b, mark);
		return BUF_EFULL;
	}
	return 0;
}

int
imap_write_astring(struct buf *b, const char *p, size_t len, unsigned flags)
{
	/* NIL as an atom would read as nothing at all. */
	if (imap_is_atom(p, len) && !(len == 3 && strncasecmp(p, "NIL", 3) ==
	    0))
		return buf_append(b, p, len) != 0 ? BUF_EFULL : 0;
	return imap_write_string(b, p, len, flags);
}

int
imap_write_nstring(struct buf *b, const char *p, size_t len, unsigned flags)
{
	if (p == NULL)
		return buf_append_str(b, "NIL") != 0 ? BUF_EFULL : 0;
	return imap_write_string(b, p, len, flags);
}

int
imap_write_datetime(struct buf *b, time_t t, int tz_minutes)
{
	const int64_t	 lo = imap_days_from_civil(1, 1, 1) * 86400;
	const int64_t	 hi = imap_days_from_civil(9999, 12, 31) * 86400 +
	    86399;
	int64_t		 local, days, secs;
	unsigned	 y, m;
	int		 tz = tz_minutes;

	if (tz > 24 * 60 - 1 || tz < -(24 * 60 - 1))
		tz = 0;
	local = (int64_t)t;
	/* Keep the sum below from overflowing. */
	if (local > INT64_MAX / 2)
		local = INT64_MAX / 2;
	else if (local < INT64_MIN / 2)
		local = INT64_MIN / 2;
	local += (int64_t)tz * 60;
	if (local < lo)
		local = lo;
	if (local > hi)
		local = hi;
	/* Floor division: days before 1970 are negative. */
	days = local / 86400;
	secs = local % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* Find the year by estimate and correction, then the month. */
	y = (unsigned)(1970 + days / 366);
	while (y > 1 && imap_days_from_civil(y, 1, 1) > days)
		y--;
	while (y < 9999 && imap_days_from_civil(y + 1, 1, 1) <= days)
		y++;
	for (m = 1; m < 12 && imap_days_from_civil(y, m + 1, 1) <= days; m++)
		;
	return buf_printf(b, "\"%2u-%s-%04u %02u:%02u:%02u %c%02d%02d\"",
	    (unsigned)(days - imap_days_from_civil(y, m, 1) + 1),
	    imap_month_name(m), y, (unsigned)(secs / 3600),
	    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60),
	    tz < 0 ? '-' : '+', (tz < 0 ? -tz : tz) / 60,
	    (tz < 0 ? -tz : tz) % 60) != 0 ? BUF_EFULL : 0;
}
