/* output.c - human tables and JSON for aviary-admin. Every read command
 * prints through here, so --json is uniform: lists are arrays of
 * objects, show is one object, sizes are bytes (0 = unlimited). */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "aviary/arena.h"
#include "aviary/buf.h"
#include "aviary/units.h"

struct cell {
	const char	*human;
	const char	*json;		/* encoded JSON value */
};

struct table {
	struct admin_ctx	*ctx;
	const char *const	*keys, *const *titles;
	size_t			 ncols, nrows, cap, col;
	struct cell		*cells;
};

struct table *
table_new(struct admin_ctx *ctx, const char *const *keys,
    const char *const *titles, size_t ncols)
{
	struct table	*t = arena_zalloc(ctx->a, sizeof(*t));

	t->ctx = ctx;
	t->keys = keys;
	t->titles = titles;
	t->ncols = ncols;
	return t;
}

void
table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;

		t->cells = arena_realloc(t->ctx->a, t->cells,
		    t->cap * t->ncols * sizeof(struct cell),
		    ncap * t->ncols * sizeof(struct cell));
		t->cap = ncap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0,
	    t->ncols * sizeof(struct cell));
	t->nrows++;
	t->col = 0;
}

static void
table_put(struct table *t, const char *human, const char *json)
{
	struct cell	*c;

	if (t->nrows == 0 || t->col >= t->ncols)
		admin_fail(EX_SOFTWARE, "internal error: table overflow");
	c = &t->cells[(t->nrows - 1) * t->ncols + t->col++];
	c->human = human;
	c->json = json;
}

static const char *
json_string(struct arena *a, const char *s)
{
	struct buf	 b;
	const char	*p;

	buf_init(&b, a, 1u << 20);
	if (buf_append_c(&b, '"') != 0)
		goto full;
	for (p = s; *p; p++) {
		unsigned char	 c = (unsigned char)*p;
		int		 r;

		if (c == '"' || c == '\\')
			r = buf_printf(&b, "\\%c", c);
		else if (c == '\n')
			r = buf_append_str(&b, "\\n");
		else if (c == '\t')
			r = buf_append_str(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = buf_printf(&b, "\\u%04x", c);
		else
			r = buf_append_c(&b, (char)c);
		if (r != 0)
			goto full;
	}
	if (buf_append_c(&b, '"') != 0)
		goto full;
	return b.data;
full:
	admin_fail(EX_SOFTWARE, "internal error: value too long for JSON");
}

void
table_str(struct table *t, const char *v)
{
	if (v == NULL)
		table_put(t, "-", "null");
	else
		table_put(t, v, json_string(t->ctx->a, v));
}

void
table_u64(struct table *t, uint64_t v)
{
	char	*s = arena_printf(t->ctx->a, "%llu", (unsigned long long)v);

	table_put(t, s, s);
}

void
table_bool(struct table *t, bool v)
{
	table_put(t, v ? "yes" : "no", v ? "true" : "false");
}

void
table_size(struct table *t, uint64_t v)
{
	char	 h[32];

	if (v == 0)
		snprintf(h, sizeof(h), "unlimited");
	else
		units_format_size_human(v, h, sizeof(h));
	table_put(t, arena_strdup(t->ctx->a, h),
	    arena_printf(t->ctx->a, "%llu", (unsigned long long)v));
}

void
table_bytes(struct table *t, uint64_t v)
{
	char	 h[32];

	units_format_size_human(v, h, sizeof(h));
	table_put(t, arena_strdup(t->ctx->a, h),
	    arena_printf(t->ctx->a, "%llu", (unsigned long long)v));
}

void
table_limit(struct table *t, uint64_t v)
{
	table_put(t, v == 0 ? "unlimited" :
	    arena_printf(t->ctx->a, "%llu", (unsigned long long)v),
	    arena_printf(t->ctx->a, "%llu", (unsigned long long)v));
}

void
table_usage(struct table *t, uint64_t used, uint64_t limit, bool is_size)
{
	char	 u[32], l[32];

	if (is_size) {
		units_format_size_human(used, u, sizeof(u));
		if (limit == 0)
			snprintf(l, sizeof(l), "unlimited");
		else
			units_format_size_human(limit, l, sizeof(l));
	} else {
		snprintf(u, sizeof(u), "%llu", (unsigned long long)used);
		if (limit == 0)
			snprintf(l, sizeof(l), "unlimited");
		else
			snprintf(l, sizeof(l), "%llu",
			    (unsigned long long)limit);
	}
	table_put(t, arena_printf(t->ctx->a, "%s/%s", u, l),
	    arena_printf(t->ctx->a, "%llu", (unsigned long long)used));
}

static void
table_print_json_row(const struct table *t, size_t r, FILE *out)
{
	size_t	 c;

	(void)fputc('{', out);
	for (c = 0; c < t->ncols; c++) {
		const struct cell *cl = &t->cells[r * t->ncols + c];

		(void)fprintf(out, "%s\"%s\": %s", c ? ", " : "", t->keys[c],
		    cl->json ? cl->json : "null");
	}
	(void)fputc('}', out);
}

void
table_print(struct table *t)
{
	size_t	 r, c, last, *w;

	if (t->ctx->json) {
		(void)fputc('[', stdout);
		for (r = 0; r < t->nrows; r++) {
			(void)fputs(r ? ",\n " : "", stdout);
			table_print_json_row(t, r, stdout);
		}
		(void)fputs("]\n", stdout);
		return;
	}
	w = arena_zalloc(t->ctx->a, t->ncols * sizeof(*w));
	/* Columns without a title are JSON-only. */
	for (last = 0, c = 0; c < t->ncols; c++) {
		if (t->titles[c] == NULL)
			continue;
		last = c;
		w[c] = strlen(t->titles[c]);
	}
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			const char *h = t->cells[r * t->ncols + c].human;
			size_t n = h ? strlen(h) : 1;

			if (t->titles[c] != NULL && n > w[c])
				w[c] = n;
		}
	for (c = 0; c < t->ncols; c++)
		if (t->titles[c] != NULL)
			(void)printf("%-*s%s", c < last ? (int)w[c] : 0,
			    t->titles[c], c < last ? "  " : "\n");
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			const char *h = t->cells[r * t->ncols + c].human;

			if (t->titles[c] == NULL)
				continue;
			(void)printf("%-*s%s", c < last ? (int)w[c] : 0,
			    h ? h : "-", c < last ? "  " : "\n");
		}
}

void
table_print_record(struct table *t)
{
	size_t	 c, w = 0;

	if (t->nrows != 1)
		admin_fail(EX_SOFTWARE, "internal error: record of %zu rows",
		    t->nrows);
	if (t->ctx->json) {
		table_print_json_row(t, 0, stdout);
		(void)fputc('\n', stdout);
		return;
	}
	for (c = 0; c < t->ncols; c++)
		if (t->titles[c] != NULL && strlen(t->titles[c]) > w)
			w = strlen(t->titles[c]);
	for (c = 0; c < t->ncols; c++) {
		const char *h = t->cells[c].human;

		if (t->titles[c] == NULL)
			continue;
		(void)printf("%-*s  %s\n", (int)w + 1,
		    arena_printf(t->ctx->a, "%s:", t->titles[c]), h ? h : "-");
	}
}
