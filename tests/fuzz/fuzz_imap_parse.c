/* fuzz_imap_parse.c - the IMAP command reader and every typed parser.
 *
 * The input is a client's byte stream. It is fed to a reader twice: in
 * one piece, and in pseudo-random chunks (1..17 bytes, seeded from the
 * input). Literals are kept, streamed or refused depending on their size
 * only, AUTHENTICATE and IDLE switch to single-line mode, and every
 * complete command goes through imap_cmd_parse() and, whatever its name,
 * through the SEARCH, FETCH, flag and sequence-set parsers too. Both runs
 * must produce the same digest of events (streamed literal bytes are
 * digested as a stream, so chunking does not show), string arguments
 * must survive imap_write_string() and a second reader, and an idle
 * reader must be back to its bare struct. Small limits make every limit
 * reachable. */
#include <stdlib.h>
#include <string.h>

#include "imap_parse.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "fuzz.h"

static uint64_t
mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
mix_str(uint64_t h, const char *s)
{
	return s == NULL ? mix(h, "\x01", 1) : mix(h, s, strlen(s) + 1);
}

static uint64_t
mix_args(uint64_t h, const struct imap_arg *a, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		h = mix(h, &a[i].type, sizeof(a[i].type));
		h = mix(h, &a[i].len, sizeof(a[i].len));
		if (a[i].type == IMAP_ARG_LIST)
			h = mix_args(h, a[i].list, a[i].len);
		else if (a[i].str != NULL)
			h = mix(h, a[i].str, a[i].len);
	}
	return h;
}

static void
limits(struct imap_limits *l)
{
	imap_limits_default(l);
	l->line_max = 512;
	l->literal_max = 64;
	l->literals_total_max = 128;
	l->depth_max = 4;
	l->args_max = 64;
}

/* A string argument written as a response string must read back. */
static void
roundtrip(const struct imap_arg *a)
{
	struct imap_reader	*r;
	struct imap_event	 ev;
	struct buf		 b;
	size_t			 pos = 0;
	int			 got = 0;

	if (a->type != IMAP_ARG_QUOTED && a->type != IMAP_ARG_LITERAL)
		return;
	buf_init(&b, NULL, 1 << 20);
	if (buf_append_str(&b, "t X ") != 0 ||
	    imap_write_string(&b, a->str, a->len, 0) != 0 ||
	    buf_append_str(&b, "\r\n") != 0)
		abort();
	r = imap_reader_create(NULL);
	while (!got) {
		if (pos == b.len)
			abort();	/* all fed, no command */
		pos += imap_reader_input(r, b.data + pos, b.len - pos, &ev);
		switch (ev.type) {
		case IMAP_EV_LITERAL:
			if (imap_reader_literal_accept(r) != IMAP_RERR_NONE)
				abort();
			break;
		case IMAP_EV_COMMAND:
			if (ev.cmd->nargs != 1 || ev.cmd->args[0].len != a->len ||
			    memcmp(ev.cmd->args[0].str, a->str, a->len) != 0)
				abort();
			got = 1;
			break;
		case IMAP_EV_NONE:
			break;
		default:
			abort();
		}
	}
	imap_reader_destroy(&r);
	buf_deinit(&b);
}

static void
walk(const struct imap_search_key *k, uint32_t max, struct arena *a)
{
	struct imap_seq_range	*rg;
	bool			 beyond;
	size_t			 i;

	switch (k->type) {
	case IMAP_SK_AND:
		for (i = 0; i < k->u.and.n; i++)
			walk(&k->u.and.k[i], max, a);
		break;
	case IMAP_SK_OR:
		walk(k->u.sub[1], max, a);
		__attribute__((fallthrough));
	case IMAP_SK_NOT:
		walk(k->u.sub[0], max, a);
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		if (!k->u.set->saved)
			(void)imap_seqset_resolve(k->u.set, max, a, &rg,
			    &beyond);
		break;
	default:
		break;
	}
}

static void
check_set(const struct imap_seqset *s, uint32_t max, struct arena *a)
{
	struct imap_seq_range	*rg;
	bool			 beyond;
	size_t			 n, i;
	uint32_t		 x;

	if (s->saved)
		return;
	n = imap_seqset_resolve(s, max, a, &rg, &beyond);
	for (i = 0; i < n; i++) {
		if (rg[i].lo == 0 || rg[i].lo > rg[i].hi || rg[i].hi > max ||
		    (i > 0 && rg[i].lo <= rg[i - 1].hi + 1))
			abort();
	}
	/* contains() agrees with resolve() on a few points. */
	for (x = 0; x <= max && x < 40; x++) {
		bool in = false;

		for (i = 0; i < n; i++)
			if (rg[i].lo <= x && x <= rg[i].hi)
				in = true;
		if (in != imap_seqset_contains(s, x, max))
			abort();
	}
}

static uint64_t
on_command(struct imap_reader *r, const struct imap_cmd *cmd, uint64_t h)
{
	struct arena			*a = arena_create(1024);
	const struct imap_cmd_def	*def;
	struct imap_args		 args;
	struct imap_search		 s;
	struct imap_fetch		 f;
	struct imap_flags		 fl;
	struct buf			 b;
	const char			*err;
	int				 rc;
	size_t				 i;
	uint32_t			 max = (uint32_t)(h % 30);

	h = mix_str(h, cmd->tag);
	h = mix_str(h, cmd->name);
	h = mix(h, &cmd->uid, sizeof(cmd->uid));
	h = mix_args(h, cmd->args, cmd->nargs);
	rc = imap_cmd_parse(a, cmd, &def, &args, &err);
	h = mix(h, &rc, sizeof(rc));
	if (rc == 0) {
		switch (args.id) {
		case IMAP_CMD_FETCH:
			check_set(args.u.fetch.set, max, a);
			break;
		case IMAP_CMD_STORE:
			check_set(args.u.store.set, max, a);
			break;
		case IMAP_CMD_COPY:
		case IMAP_CMD_MOVE:
			check_set(args.u.copy.set, max, a);
			break;
		case IMAP_CMD_SEARCH:
			walk(args.u.search.root, max, a);
			break;
		default:
			break;
		}
		if (args.id == IMAP_CMD_AUTHENTICATE || args.id == IMAP_CMD_IDLE)
			imap_reader_read_line(r);
	}
	/* Every parser on every argument list, whatever the command. */
	if (imap_search_parse(a, cmd->args, cmd->nargs, &s, &err) == 0)
		walk(s.root, max, a);
	if (cmd->nargs > 0) {
		struct imap_seqset *set;

		if (imap_fetch_parse(a, cmd->args + 1, cmd->nargs - 1, &f,
		    &err) == 0)
			for (i = 0; i < f.n; i++)
				if (f.att[i].echo == NULL ||
				    (f.att[i].sect == IMAP_SECT_MIME &&
				    f.att[i].npart == 0))
					abort();
		if (imap_arg_get_seqset(a, &cmd->args[0], &set, &err) == 0)
			check_set(set, max, a);
	}
	if (imap_flags_parse(a, cmd->args, cmd->nargs, &fl, &err) == 0 &&
	    fl.sys > 0x1f)
		abort();
	buf_init(&b, NULL, 4096);
	for (i = 0; i < cmd->nargs && i < 4; i++) {
		const char	*str;
		time_t		 t;
		int		 tz;
		struct imap_date d;

		if (imap_arg_get_astring(&cmd->args[i], &str) == 0) {
			if (imap_write_astring(&b, str, strlen(str), 0) != 0 &&
			    b.len == 0)
				abort();
			if (imap_datetime_parse(str, strlen(str), &t, &tz) == 0 &&
			    imap_write_datetime(&b, t, tz) != 0 && b.len == 0)
				abort();
			if (imap_date_parse(str, strlen(str), &d) == 0 &&
			    (d.month < 1 || d.month > 12 || d.day < 1 ||
			    d.day > 31))
				abort();
		}
		roundtrip(&cmd->args[i]);
	}
	buf_deinit(&b);
	arena_destroy(&a);
	return h;
}

static uint64_t
session(const uint8_t *data, size_t size, uint32_t seed)
{
	struct imap_limits	 lim;
	struct imap_reader	*r;
	struct imap_event	 ev;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	uint32_t		 rng = seed;
	size_t			 pos = 0, chunk, off, k;

	limits(&lim);
	r = imap_reader_create(&lim);
	while (pos < size) {
		rng = rng * 1103515245u + 12345u;
		chunk = seed != 0 ? 1 + (rng >> 16) % 17 : size - pos;
		if (chunk > size - pos)
			chunk = size - pos;
		off = 0;
		for (;;) {
			k = imap_reader_input(r, data + pos + off, chunk - off,
			    &ev);
			off += k;
			if (ev.type == IMAP_EV_NONE) {
				if (off != chunk)
					abort();
				break;
			}
			if (ev.type != IMAP_EV_LITERAL_DATA)
				h = mix(h, &ev.type, sizeof(ev.type));
			switch (ev.type) {
			case IMAP_EV_COMMAND:
				h = on_command(r, ev.cmd, h);
				break;
			case IMAP_EV_LITERAL:
				h = mix(h, &ev.literal_size,
				    sizeof(ev.literal_size));
				if (ev.literal_size % 3 == 0)
					imap_reader_literal_sink(r);
				else if (imap_reader_literal_accept(r) !=
				    ev.fits)
					abort();
				break;
			case IMAP_EV_LITERAL_DATA:
				h = mix(h, ev.data, ev.len);
				break;
			case IMAP_EV_LINE:
				h = mix(h, ev.data, ev.len);
				break;
			case IMAP_EV_ERROR:
				h = mix(h, &ev.error, sizeof(ev.error));
				h = mix_str(h, ev.cmd->tag);
				break;
			case IMAP_EV_NONE:
				break;
			}
		}
		pos += chunk;
	}
	imap_reader_release(r);
	if (imap_reader_at_boundary(r) && imap_reader_memory(r) > 512)
		abort();
	imap_reader_destroy(&r);
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	 seed = 1;

	if (size > 0)
		seed += data[0] | (size > 1 ? (uint32_t)data[1] << 8 : 0);
	if (session(data, size, 0) != session(data, size, seed))
		abort();
	return 0;
}
