/* conf.c - YAML into typed structs; see aviary/conf.h.
 *
 * libyaml's document API gives us a node tree with line numbers; we walk
 * it against the table. Aliases resolve to shared nodes, which is
 * harmless here: the walk is bounded by the table's depth, not by the
 * document's. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "aviary/arena.h"
#include "aviary/conf.h"
#include "aviary/str.h"
#include "aviary/units.h"

#define CONF_MAX_BYTES	(1024 * 1024)	/* a config file larger is a mistake */

struct conf_ctx {
	yaml_document_t	*doc;
	const char	*name;
	struct arena	*a;
	const char	*error;
};

static int
conf_fail(struct conf_ctx *ctx, const yaml_node_t *n, const char *fmt, ...)
    AV_PRINTFLIKE(3, 4);

static int
conf_fail(struct conf_ctx *ctx, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = arena_vprintf(ctx->a, fmt, ap);
	va_end(ap);
	ctx->error = arena_printf(ctx->a, "%s:%lu: %s", ctx->name,
	    n != NULL ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
	return -1;
}

static const char *
conf_path(struct arena *a, const char *prefix, const char *key)
{
	return prefix[0] ? arena_printf(a, "%s.%s", prefix, key) : key;
}

static bool
conf_is_null(const yaml_node_t *n)
{
	const char	*v = (const char *)n->data.scalar.value;

	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0);
}

/* Parse one scalar text into the field. 'n' may be NULL for defaults. */
static int
conf_set_scalar(struct conf_ctx *ctx, const struct conf_item *it,
    void *dst, const char *path, const char *v, const yaml_node_t *n)
{
	char		*field = (char *)dst + it->offset;
	uint64_t	 u;
	char		*end;
	const char	*why;

	/* A LIST given as null ("key:") is the empty list, not one empty
	 * element: nothing to check. */
	if ((it->type == CONF_T_STR || (it->type == CONF_T_LIST && v[0])) &&
	    it->check != NULL && (why = it->check(v)) != NULL)
		return conf_fail(ctx, n, "%s: %s", path, why);
	switch (it->type) {
	case CONF_T_STR:
		*(char **)field = arena_strdup(ctx->a, v);
		return 0;
	case CONF_T_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
			*(bool *)field = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") ||
		    !strcmp(v, "off"))
			*(bool *)field = false;
		else
			return conf_fail(ctx, n, "%s: expected true or false, "
			    "got '%s'", path, v);
		return 0;
	case CONF_T_UINT:
		if (str_to_u64(str_from_cstr(v), &u) == -1 || u < it->min ||
		    u > it->max)
			return conf_fail(ctx, n, "%s: expected a whole number "
			    "from %llu to %llu, got '%s'", path,
			    (unsigned long long)it->min,
			    (unsigned long long)it->max, v);
		*(unsigned *)field = (unsigned)u;
		return 0;
	case CONF_T_MODE:
		errno = 0;
		u = strtoull(v, &end, 8);
		if (v[0] < '0' || v[0] > '7' || *end != '\0' || errno != 0 ||
		    u > it->max)
			return conf_fail(ctx, n, "%s: expected an octal mode "
			    "such as 0660, got '%s'", path, v);
		*(unsigned *)field = (unsigned)u;
		return 0;
	case CONF_T_SIZE:
		if (units_parse_size(v, &u) == -1 || u < it->min ||
		    u > it->max) {
			char lo[32], hi[32];

			units_format_size(it->min, lo, sizeof(lo));
			units_format_size(it->max, hi, sizeof(hi));
			return conf_fail(ctx, n, "%s: expected a size from %s "
			    "to %s (such as 512K, 50M, 2G), got '%s'", path,
			    lo, hi, v);
		}
		*(uint64_t *)field = u;
		return 0;
	case CONF_T_TIME:
		if (units_parse_time(v, &u) == -1 || u < it->min ||
		    u > it->max) {
			char lo[32], hi[32];

			units_format_time(it->min, lo, sizeof(lo));
			units_format_time(it->max, hi, sizeof(hi));
			return conf_fail(ctx, n, "%s: expected a duration from "
			    "%s to %s (such as 30s, 5m, 1h), got '%s'", path,
			    lo, hi, v);
		}
		*(uint64_t *)field = u;
		return 0;
	case CONF_T_LIST: {
		struct conf_list *l = (struct conf_list *)field;

		l->v = arena_alloc(ctx->a, 2 * sizeof(char *));
		l->v[0] = arena_strdup(ctx->a, v);
		l->v[1] = NULL;
		l->n = v[0] ? 1 : 0;
		if (l->n == 0)
			l->v[0] = NULL;
		return 0;
	}
	case CONF_T_SECTION:
	case CONF_T_END:
		break;
	}
	return conf_fail(ctx, n, "%s: internal error: bad item type", path);
}

static void
conf_defaults_ctx(struct conf_ctx *ctx, const struct conf_item *t, void *dst)
{
	for (; t->key != NULL; t++) {
		if (t->type == CONF_T_SECTION) {
			conf_defaults_ctx(ctx, t->sub, (char *)dst + t->offset);
			continue;
		}
		if (t->type == CONF_T_LIST) {
			/* A list default is comma-separated: "a,b,c". */
			struct conf_list *l = (void *)((char *)dst + t->offset);
			const char *p = t->def, *comma;
			size_t n = 0;

			l->v = NULL;
			l->n = 0;
			if (p == NULL || *p == '\0')
				continue;
			for (comma = p; comma != NULL;
			    comma = strchr(comma + 1, ','))
				n++;
			l->v = arena_zalloc(ctx->a, (n + 1) * sizeof(char *));
			while (p != NULL) {
				comma = strchr(p, ',');
				l->v[l->n++] = comma ? arena_strndup(ctx->a, p,
				    (size_t)(comma - p)) : arena_strdup(ctx->a, p);
				p = comma ? comma + 1 : NULL;
			}
			continue;
		}
		/* Defaults are ours: a bad one is a bug caught by the unit
		 * tests, which load every table with an empty file. */
		if (conf_set_scalar(ctx, t, dst, t->key,
		    t->def != NULL ? t->def : (t->type == CONF_T_STR ? "" : "0"),
		    NULL) == -1 && t->type != CONF_T_STR)
			ctx->error = arena_printf(ctx->a,
			    "internal error: bad default for %s", t->key);
	}
}

void
conf_defaults(const struct conf_item *table, void *dst, struct arena *a)
{
	struct conf_ctx	 ctx = { .a = a, .name = "(defaults)" };

	conf_defaults_ctx(&ctx, table, dst);
}

static int conf_walk_map(struct conf_ctx *, const struct conf_item *,
    void *, yaml_node_t *, const char *);

/* The path of the first required key in 'table' or in its sections, or
 * NULL. A section that is left out or empty still misses those keys. */
static const char *
conf_find_required(struct arena *a, const struct conf_item *table,
    const char *prefix)
{
	const struct conf_item	*it;
	const char		*p;

	for (it = table; it->key != NULL; it++) {
		if (it->flags & CONF_F_REQUIRED)
			return conf_path(a, prefix, it->key);
		if (it->type == CONF_T_SECTION && (p = conf_find_required(a,
		    it->sub, conf_path(a, prefix, it->key))) != NULL)
			return p;
	}
	return NULL;
}

static int
conf_set_node(struct conf_ctx *ctx, const struct conf_item *it, void *dst,
    yaml_node_t *n, const char *path)
{
	yaml_node_item_t	*i;
	struct conf_list	*l;
	size_t			 k = 0;

	if (it->type == CONF_T_SECTION) {
		if (n->type == YAML_SCALAR_NODE && conf_is_null(n)) {
			/* "section:" with nothing: defaults */
			const char *m = conf_find_required(ctx->a, it->sub,
			    path);

			return m == NULL ? 0 : conf_fail(ctx, n,
			    "%s: required key missing", m);
		}
		if (n->type != YAML_MAPPING_NODE)
			return conf_fail(ctx, n, "%s: expected a mapping "
			    "(key: value lines)", path);
		return conf_walk_map(ctx, it->sub, (char *)dst + it->offset, n,
		    path);
	}
	if (it->type == CONF_T_LIST && n->type == YAML_SEQUENCE_NODE) {
		l = (struct conf_list *)((char *)dst + it->offset);
		l->n = (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
		l->v = arena_alloc(ctx->a, (l->n + 1) * sizeof(char *));
		for (i = n->data.sequence.items.start;
		    i < n->data.sequence.items.top; i++) {
			yaml_node_t *e = yaml_document_get_node(ctx->doc, *i);

			if (e == NULL || e->type != YAML_SCALAR_NODE)
				return conf_fail(ctx, e != NULL ? e : n,
				    "%s: list items must be plain values", path);
			if (it->check != NULL) {
				const char *why = it->check(
				    (const char *)e->data.scalar.value);

				if (why != NULL)
					return conf_fail(ctx, e, "%s: %s", path,
					    why);
			}
			l->v[k++] = arena_strdup(ctx->a,
			    (const char *)e->data.scalar.value);
		}
		l->v[k] = NULL;
		return 0;
	}
	if (n->type != YAML_SCALAR_NODE)
		return conf_fail(ctx, n, "%s: expected a single value", path);
	if (conf_is_null(n)) {
		if (it->flags & CONF_F_REQUIRED)
			return conf_fail(ctx, n, "%s: a value is required",
			    path);
		if (it->type == CONF_T_STR || it->type == CONF_T_LIST)
			return conf_set_scalar(ctx, it, dst, path, "", n);
		return conf_fail(ctx, n, "%s: a value is required", path);
	}
	return conf_set_scalar(ctx, it, dst, path,
	    (const char *)n->data.scalar.value, n);
}

static int
conf_walk_map(struct conf_ctx *ctx, const struct conf_item *table, void *dst,
    yaml_node_t *map, const char *prefix)
{
	yaml_node_pair_t	*p, *q;
	const struct conf_item	*it;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		yaml_node_t	*k = yaml_document_get_node(ctx->doc, p->key);
		yaml_node_t	*v = yaml_document_get_node(ctx->doc, p->value);
		const char	*key, *path;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return conf_fail(ctx, k, "keys must be plain words");
		key = (const char *)k->data.scalar.value;
		path = conf_path(ctx->a, prefix, key);
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(ctx->doc,
			    q->key);

			if (k2 != NULL && k2->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k2->data.scalar.value,
			    key) == 0)
				return conf_fail(ctx, k, "%s: key given twice "
				    "(first on line %lu)", path,
				    (unsigned long)k2->start_mark.line + 1);
		}
		for (it = table; it->key != NULL; it++)
			if (strcmp(it->key, key) == 0)
				break;
		if (it->key == NULL)
			return conf_fail(ctx, k, "unknown key '%s'", path);
		if (conf_set_node(ctx, it, dst, v, path) == -1)
			return -1;
	}
	/* Required keys must have been given, also inside sections that
	 * were left out. */
	for (it = table; it->key != NULL; it++) {
		const char	*missing = NULL;

		if (it->flags & CONF_F_REQUIRED)
			missing = conf_path(ctx->a, prefix, it->key);
		else if (it->type == CONF_T_SECTION)
			missing = conf_find_required(ctx->a, it->sub,
			    conf_path(ctx->a, prefix, it->key));
		if (missing == NULL)
			continue;
		for (p = map->data.mapping.pairs.start;
		    p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(ctx->doc,
			    p->key);

			if (k != NULL && k->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k->data.scalar.value,
			    it->key) == 0)
				break;
		}
		if (p == map->data.mapping.pairs.top)
			return conf_fail(ctx, map, "%s: required key missing",
			    missing);
	}
	return 0;
}

static const char *
conf_syntax_error(struct arena *a, const char *name,
    const yaml_parser_t *parser)
{
	return arena_printf(a, "%s:%lu: YAML syntax error: %s%s%s", name,
	    (unsigned long)parser->problem_mark.line + 1,
	    parser->problem ? parser->problem : "unknown",
	    parser->context ? " " : "", parser->context ? parser->context : "");
}

int
conf_load_mem(const struct conf_item *table, void *dst, const char *name,
    const void *data, size_t len, struct arena *a, const char **error_r)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc, extra;
	yaml_node_t	*root;
	struct conf_ctx	 ctx = { .doc = &doc, .name = name, .a = a };
	int		 ret = -1, have_doc = 0;

	conf_defaults_ctx(&ctx, table, dst);
	if (ctx.error != NULL) {
		*error_r = ctx.error;
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		*error_r = arena_printf(a, "%s: cannot initialise YAML parser",
		    name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		*error_r = conf_syntax_error(a, name, &parser);
		goto out;
	}
	have_doc = 1;
	/* yaml_parser_load reads one document: whatever follows a "---"
	 * would be ignored without a word, so it is an error. */
	if (!yaml_parser_load(&parser, &extra)) {
		*error_r = conf_syntax_error(a, name, &parser);
		goto out;
	}
	if ((root = yaml_document_get_root_node(&extra)) != NULL) {
		*error_r = arena_printf(a, "%s:%lu: only one YAML document "
		    "is allowed", name, (unsigned long)root->start_mark.line + 1);
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	root = yaml_document_get_root_node(&doc);
	if (root == NULL ||
	    (root->type == YAML_SCALAR_NODE && conf_is_null(root))) {
		/* An empty file: defaults only, but required keys fail. */
		const char *m = conf_find_required(a, table, "");

		if (m != NULL) {
			*error_r = arena_printf(a, "%s:1: %s: required key "
			    "missing", name, m);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		(void)conf_fail(&ctx, root, "the file must be a mapping "
		    "(key: value lines)");
		*error_r = ctx.error;
		goto out;
	}
	if (conf_walk_map(&ctx, table, dst, root, "") == -1) {
		*error_r = ctx.error;
		goto out;
	}
	ret = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int
conf_load(const struct conf_item *table, void *dst, const char *path,
    struct arena *a, const char **error_r)
{
	FILE	*f;
	char	*data;
	size_t	 len;
	int	 ret;

	if ((f = fopen(path, "re")) == NULL) {
		*error_r = arena_printf(a, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	data = arena_alloc(a, CONF_MAX_BYTES + 1);
	len = fread(data, 1, CONF_MAX_BYTES + 1, f);
	if (ferror(f)) {
		*error_r = arena_printf(a, "%s: cannot read: %s", path,
		    strerror(errno));
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	if (len > CONF_MAX_BYTES) {
		*error_r = arena_printf(a, "%s: larger than %d bytes", path,
		    CONF_MAX_BYTES);
		return -1;
	}
	ret = conf_load_mem(table, dst, path, data, len, a, error_r);
	return ret;
}

static void
conf_dump_str(FILE *out, const char *s)
{
	/* Double-quoted YAML: escape what YAML requires. */
	(void)fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			(void)fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			(void)fprintf(out, "\\x%02x", (unsigned char)*s);
		else
			(void)fputc(*s, out);
	}
	(void)fputc('"', out);
}

static void
conf_dump_level(const struct conf_item *t, const void *src, FILE *out,
    int depth)
{
	char	 tmp[64];

	for (; t->key != NULL; t++) {
		const char *field = (const char *)src + t->offset;

		(void)fprintf(out, "%*s%s:", depth * 2, "", t->key);
		if (t->flags & CONF_F_SECRET) {
			(void)fprintf(out, " \"<hidden>\"\n");
			continue;
		}
		switch (t->type) {
		case CONF_T_SECTION:
			(void)fputc('\n', out);
			conf_dump_level(t->sub, field, out, depth + 1);
			continue;
		case CONF_T_STR:
			(void)fputc(' ', out);
			conf_dump_str(out, *(char *const *)field);
			break;
		case CONF_T_UINT:
			(void)fprintf(out, " %u", *(const unsigned *)field);
			break;
		case CONF_T_MODE:
			(void)fprintf(out, " \"0%o\"", *(const unsigned *)field);
			break;
		case CONF_T_BOOL:
			(void)fprintf(out, " %s",
			    *(const bool *)field ? "true" : "false");
			break;
		case CONF_T_SIZE:
			units_format_size(*(const uint64_t *)field, tmp,
			    sizeof(tmp));
			(void)fprintf(out, " %s", tmp);
			break;
		case CONF_T_TIME:
			units_format_time(*(const uint64_t *)field, tmp,
			    sizeof(tmp));
			(void)fprintf(out, " %s", tmp);
			break;
		case CONF_T_LIST: {
			const struct conf_list *l = (const void *)field;
			size_t i;

			(void)fprintf(out, " [");
			for (i = 0; i < l->n; i++) {
				if (i)
					(void)fprintf(out, ", ");
				conf_dump_str(out, l->v[i]);
			}
			(void)fprintf(out, "]");
			break;
		}
		case CONF_T_END:
			break;
		}
		(void)fputc('\n', out);
	}
}

void
conf_dump(const struct conf_item *table, const void *src, FILE *out)
{
	conf_dump_level(table, src, out, 0);
}
