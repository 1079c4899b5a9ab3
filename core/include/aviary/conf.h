/* aviary/conf.h - table-driven YAML configuration (libyaml).
 *
 * A configuration is a YAML mapping read into a C struct by a table of
 * conf_item rows (key, type, default, bounds, offsetof the field), as
 * Postfix's CONFIG_*_TABLE or nginx's ngx_command_t. Sections nest with
 * CONF_SECTION. Every error names the file and line: unknown keys,
 * duplicate keys, wrong YAML node kinds, values out of bounds. Defaults
 * are applied first, so a missing key always has a defined value.
 *
 * Field types: CONF_T_STR char * (owned by the arena given to conf_load;
 * never NULL after loading: "" when empty), CONF_T_UINT and CONF_T_MODE
 * unsigned, CONF_T_SIZE and CONF_T_TIME uint64_t (bytes, seconds),
 * CONF_T_BOOL bool, CONF_T_LIST struct conf_list (a sequence of strings;
 * a single scalar is a list of one).
 */
#ifndef AVIARY_CONF_H
#define AVIARY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aviary/compat.h"

struct arena;

enum conf_type {
	CONF_T_END = 0,
	CONF_T_STR,
	CONF_T_UINT,
	CONF_T_SIZE,
	CONF_T_TIME,
	CONF_T_BOOL,
	CONF_T_LIST,
	CONF_T_MODE,
	CONF_T_SECTION,
};

#define CONF_F_REQUIRED	0x1	/* the key must be present (and non-empty) */
#define CONF_F_SECRET	0x2	/* never printed by conf_dump */

struct conf_item {
	const char		*key;
	enum conf_type		 type;
	size_t			 offset;
	const char		*def;	/* default, as YAML text; NULL = empty */
	uint64_t		 min, max;	/* UINT, SIZE, TIME, MODE */
	unsigned		 flags;
	const struct conf_item	*sub;	/* SECTION: the section's table */
	/* STR and LIST (each element): NULL if the value is acceptable,
	 * else a static phrase saying why not, reported with file:line. */
	const char		*(*check)(const char *value);
};

struct conf_list {
	char		**v;	/* from the config arena */
	size_t		  n;
};

#define CONF_STR(k, o, d)	  { (k), CONF_T_STR, (o), (d), 0, 0, 0, NULL, NULL }
#define CONF_STR_CHECK(k, o, d, fn) { (k), CONF_T_STR, (o), (d), 0, 0, 0, NULL, (fn) }
#define CONF_STR_REQ(k, o)	  { (k), CONF_T_STR, (o), NULL, 0, 0, CONF_F_REQUIRED, NULL, NULL }
#define CONF_UINT(k, o, d, lo, hi) { (k), CONF_T_UINT, (o), (d), (lo), (hi), 0, NULL, NULL }
#define CONF_SIZE(k, o, d, lo, hi) { (k), CONF_T_SIZE, (o), (d), (lo), (hi), 0, NULL, NULL }
#define CONF_TIME(k, o, d, lo, hi) { (k), CONF_T_TIME, (o), (d), (lo), (hi), 0, NULL, NULL }
#define CONF_BOOL(k, o, d)	  { (k), CONF_T_BOOL, (o), (d), 0, 1, 0, NULL, NULL }
#define CONF_LIST(k, o, d)	  { (k), CONF_T_LIST, (o), (d), 0, 0, 0, NULL, NULL }
#define CONF_LIST_CHECK(k, o, d, fn) { (k), CONF_T_LIST, (o), (d), 0, 0, 0, NULL, (fn) }
#define CONF_MODE(k, o, d)	  { (k), CONF_T_MODE, (o), (d), 0, 07777, 0, NULL, NULL }
#define CONF_SECTION(k, o, t)	  { (k), CONF_T_SECTION, (o), NULL, 0, 0, 0, (t), NULL }
#define CONF_END		  { NULL, CONF_T_END, 0, NULL, 0, 0, 0, NULL, NULL }

/* Apply the table's defaults to dst (allocating strings from 'a'). */
void	conf_defaults(const struct conf_item *table, void *dst,
	    struct arena *a);
/* Load 'path' into dst (defaults first). Returns 0, or -1 with *error_r
 * ("path:line: what is wrong") allocated from 'a'. A missing file is an
 * error too. */
int	conf_load(const struct conf_item *table, void *dst, const char *path,
	    struct arena *a, const char **error_r) AV_WARN_UNUSED;
/* The same from a memory buffer; 'name' stands for the file in errors. */
int	conf_load_mem(const struct conf_item *table, void *dst,
	    const char *name, const void *data, size_t len, struct arena *a,
	    const char **error_r) AV_WARN_UNUSED;
/* Print the effective configuration as YAML (secrets as "<hidden>"). */
void	conf_dump(const struct conf_item *table, const void *src, FILE *out);

#endif
