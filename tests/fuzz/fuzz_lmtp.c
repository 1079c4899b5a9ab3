/* fuzz_lmtp.c - LMTP command lines and the DATA decoder. The input is a
 * session: lines until a DATA line, then the rest through the decoder,
 * which must give the same result fed in one piece and byte by byte, may
 * write at most n + 1 bytes per call, and never more in total than it
 * consumed. */
#include <stdlib.h>
#include <string.h>

#include "lmtp_parse.h"
#include "aviary/mem.h"
#include "fuzz.h"

static size_t
decode(const char *in, size_t n, char *out, int bytewise, int *ended)
{
	struct lmtp_data	 d = { 0 };
	size_t			 pos = 0, o = 0, olen, k;

	while (pos < n && d.state != LD_END) {
		size_t take = bytewise ? 1 : n - pos;

		k = lmtp_data_decode(&d, in + pos, take, out + o, &olen);
		if (olen > take + 1)
			abort();
		o += olen;
		pos += k;
		if (o > pos)
			abort();
	}
	*ended = d.state == LD_END;
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *end = p + size, *lf;
	struct str		 args;
	struct lmtp_path	 path;
	const char		*err;
	char			*a, *b;
	size_t			 la, lb;
	int			 ea, eb;

	while (p < end && (lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		struct str line = { p, (size_t)(lf - p) };
		enum lmtp_verb v = lmtp_parse_verb(line, &args);

		p = lf + 1;
		if ((v == LV_MAIL || v == LV_RCPT) &&
		    lmtp_parse_path(args, v == LV_MAIL ? "FROM" : "TO", &path,
		    &err) == 0 && (path.addr.p < line.p ||
		    path.addr.p + path.addr.len > line.p + line.len))
			abort();	/* the address is a slice of the line */
		if (v == LV_DATA)
			break;
	}
	/* +1: the last call may write one byte past what it consumed. */
	a = xmalloc((size_t)(end - p) + 2);
	b = xmalloc((size_t)(end - p) + 2);
	la = decode(p, (size_t)(end - p), a, 0, &ea);
	lb = decode(p, (size_t)(end - p), b, 1, &eb);
	if (la != lb || ea != eb || memcmp(a, b, la) != 0)
		abort();
	free(a);
	free(b);
	return 0;
}
