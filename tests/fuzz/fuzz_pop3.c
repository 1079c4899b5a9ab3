/* fuzz_pop3.c - the POP3 command reader and parser. The input is what a
 * client sends; the first byte picks the size of the pieces it is fed
 * in. Every line handed out must be a slice of the reader's buffer no
 * longer than POP3_LINE_MAX and without LF; every parsed command's
 * arguments must be slices of that line; the SASL decoder and the
 * byte-stuffer run on each line too (stuffing must never write more
 * than twice the input, and must end at a line start after an LF). */
#include <stdlib.h>
#include <string.h>

#include "pop3_parse.h"
#include "aviary/base64.h"
#include "aviary/mem.h"
#include "fuzz.h"

static void
inside(struct str part, struct str line)
{
	if (part.len > 0 && (part.p < line.p ||
	    part.p + part.len > line.p + line.len))
		abort();
}

static void
one_line(struct str line)
{
	struct pop3_cmd	 cmd;
	const char	*error;
	unsigned char	 sasl[BASE64_DECODED_MAX(POP3_LINE_MAX) + 4];
	char		*out;
	size_t		 len, o;
	bool		 bol = true, cr = false;
	struct pop3_top	 top;

	if (line.len > POP3_LINE_MAX || memchr(line.p, '\n', line.len) != NULL)
		abort();
	if (pop3_parse(line, &cmd, &error) == 0) {
		inside(cmd.arg1, line);
		inside(cmd.arg2, line);
		if ((cmd.id == POP3_C_RETR || cmd.id == POP3_C_DELE ||
		    cmd.id == POP3_C_TOP) && (!cmd.has_n || cmd.n == 0))
			abort();
	} else if (error == NULL || error[0] == '\0')
		abort();
	if (pop3_sasl_decode(line, sasl, sizeof(sasl), &len) == 0 &&
	    len > sizeof(sasl))
		abort();
	out = xmalloc(2 * line.len + 1);
	o = pop3_stuff(line.p, line.len, out, &bol, &cr);
	if (o > 2 * line.len)
		abort();
	free(out);
	pop3_top_init(&top, line.len % 3);
	if (pop3_top_cut(&top, line.p, line.len) > line.len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_reader	 r;
	struct str		 line;
	size_t			 pos = 1, step;
	enum pop3_rd		 rd;

	if (size == 0)
		return 0;
	step = (size_t)data[0] * 37 + 1;
	pop3_reader_init(&r);
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step;

		if (n > pop3_reader_room(&r))
			n = pop3_reader_room(&r);
		if (n == 0)
			abort();	/* a full reader must have a line */
		pop3_reader_feed(&r, data + pos, n);
		pos += n;
		while ((rd = pop3_reader_next(&r, &line)) != POP3_RD_NONE)
			if (rd == POP3_RD_LINE) {
				if (line.p < r.in.data ||
				    line.p + line.len > r.in.data + r.in.len)
					abort();
				one_line(line);
			}
	}
	pop3_reader_deinit(&r);
	return 0;
}
